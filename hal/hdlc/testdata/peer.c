/* peer.c: spandsp's and libosmocore's HDLC as the far end of hal/hdlc's
 * interop test. Test-only; built by hdlc_peer_test.go with gcc.
 *
 *   peer spandsp|osmo tx   stdin: one command per line, stdout: TS16 octets
 *       F <hex>   send the frame
 *       C <hex>   send it with a bad FCS (osmo: one bit flipped mid-frame)
 *       A <hex>   start it and abort it halfway
 *   peer spandsp|osmo rx   stdin: TS16 octets, stdout: one line per event
 *       OK <hex>  a good frame (FCS removed)
 *       BAD       a frame dropped (FCS, length, abort, framing)
 *
 * Octets are in E1 line order: the first bit on the line is the most
 * significant (spandsp's byte interface; osmo with OSMO_HDLC_F_BITREVERSE).
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <spandsp.h>
#include <osmocom/core/isdnhdlc.h>

static int unhex(const char *s, uint8_t *out) {
	int n = 0;
	unsigned v;
	while (sscanf(s, "%2x", &v) == 1) {
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void frame_out(void *user, const uint8_t *pkt, int len, int ok) {
	(void)user;
	if (len < 0) /* a status: carrier, framing, abort */
		return;
	if (!ok) {
		printf("BAD\n");
		return;
	}
	printf("OK ");
	for (int i = 0; i < len; i++)
		printf("%02x", pkt[i]);
	printf("\n");
}

static void put(const uint8_t *b, int n) { fwrite(b, 1, n, stdout); }

static void spandsp_pull(hdlc_tx_state_t *t, int n) {
	for (int i = 0; i < n; i++) {
		uint8_t b = (uint8_t)hdlc_tx_get_byte(t);
		put(&b, 1);
	}
}

static long bench_frames;
static void bench_frame(void *user, const uint8_t *pkt, int len, int ok) {
	(void)user; (void)pkt;
	if (len > 0 && ok)
		bench_frames++;
}

/* bench: seconds of a busy D-channel (frames of 120 octets back to back)
 * through spandsp's hdlc_tx and hdlc_rx, one octet at a time as a
 * timeslot brings them; prints the CPU time per second of channel. */
static int bench(int seconds) {
	hdlc_tx_state_t *t = hdlc_tx_init(NULL, 0, 1, 0, NULL, NULL);
	hdlc_rx_state_t *r = hdlc_rx_init(NULL, 0, 0, 1, bench_frame, NULL);
	uint8_t f[120];
	for (int i = 0; i < 120; i++)
		f[i] = (uint8_t)(i * 7);
	struct timespec a, b;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	for (long i = 0; i < 8000L * seconds; i++) {
		hdlc_tx_frame(t, f, sizeof f); /* refused while one is under way */
		hdlc_rx_put_byte(r, hdlc_tx_get_byte(t));
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
	printf("spandsp %ld frames, %.0f ns per second of D-channel\n", bench_frames, ns / seconds);
	return 0;
}

int main(int argc, char **argv) {
	if (argc == 3 && strcmp(argv[1], "bench") == 0)
		return bench(atoi(argv[2]));
	if (argc != 3) {
		fprintf(stderr, "usage: peer spandsp|osmo tx|rx, or peer bench SECONDS\n");
		return 2;
	}
	int spandsp = strcmp(argv[1], "spandsp") == 0;
	static char line[4096];
	static uint8_t f[2048], enc[8192];
	if (strcmp(argv[2], "tx") == 0) {
		hdlc_tx_state_t *t = hdlc_tx_init(NULL, 0, 1, 0, NULL, NULL);
		struct osmo_isdnhdlc_vars v;
		osmo_isdnhdlc_out_init(&v, OSMO_HDLC_F_BITREVERSE);
		if (spandsp)
			spandsp_pull(t, 4);
		while (fgets(line, sizeof line, stdin)) {
			int n = unhex(line + 2, f);
			if (spandsp) {
				while (hdlc_tx_frame(t, f, n) < 0)
					spandsp_pull(t, 1);
				if (line[0] == 'C' && hdlc_tx_corrupt_frame(t) != 0) {
					fprintf(stderr, "hdlc_tx_corrupt_frame refused\n");
					return 1;
				}
				if (line[0] == 'A') {
					spandsp_pull(t, n / 2 + 2);
					/* spandsp 0.0.6 returns -1 here even as it
					 * sends the abort (its comment: "a really
					 * crude way of just fudging an abort out") */
					hdlc_tx_abort(t);
				}
				continue;
			}
			int count = 0, m = osmo_isdnhdlc_encode(&v, f, n, &count, enc, sizeof enc);
			if (count != n || m <= 0) {
				fprintf(stderr, "osmo_isdnhdlc_encode: %d of %d octets, %d out\n", count, n, m);
				return 1;
			}
			if (line[0] == 'C')
				enc[m / 2] ^= 0x10;
			if (line[0] == 'A') {
				/* Seven and more 1s halfway: an abort. osmo shares
				 * one flag between frames and keeps the bits of a
				 * partial octet for its next call, so the encoder
				 * starts afresh, octet-aligned, with a flag. */
				m = m / 2;
				enc[m++] = 0xFF;
				enc[m++] = 0xFF;
				osmo_isdnhdlc_out_init(&v, OSMO_HDLC_F_BITREVERSE);
			}
			put(enc, m);
		}
		if (spandsp) {
			spandsp_pull(t, 2 * 2048);
		} else {
			uint8_t flags[16];
			memset(flags, 0x7E, sizeof flags);
			put(flags, sizeof flags);
		}
		return 0;
	}
	hdlc_rx_state_t *r = hdlc_rx_init(NULL, 0, 1, 1, frame_out, NULL);
	struct osmo_isdnhdlc_vars v;
	osmo_isdnhdlc_rcv_init(&v, OSMO_HDLC_F_BITREVERSE);
	uint8_t in[32];
	size_t got;
	while ((got = fread(in, 1, sizeof in, stdin)) > 0) {
		if (spandsp) {
			for (size_t i = 0; i < got; i++)
				hdlc_rx_put_byte(r, in[i]);
			continue;
		}
		const uint8_t *p = in;
		int left = (int)got;
		while (left > 0) {
			int count = 0, m = osmo_isdnhdlc_decode(&v, p, left, &count, f, sizeof f);
			p += count;
			left -= count;
			if (m > 0)
				frame_out(NULL, f, m, 1);
			else if (m < 0)
				printf("BAD\n");
		}
	}
	return 0;
}
