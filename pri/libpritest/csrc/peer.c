/*
 * A PRI peer built on libpri, for jinyin's interop tests: it listens on
 * two Unix SEQPACKET sockets (the D-channel, in the DAHDI convention of
 * frames with 2 trailing FCS octets, and the B-channel audio as 1 octet of
 * channel + 160 octets of A-law), runs libpri on the D-channel as the
 * network or the CPE, prints libpri's events on stdout one per line, and
 * takes commands on stdin. Digits are generated with spandsp's dtmf_tx.
 *
 *   peer net|cpe DCHANNEL BCHANNELS
 *
 * Commands: call NUMBER CHANNEL [overlap] | info DIGIT | answer | alert |
 * proceed | hangup CAUSE | reset CHANNEL | restart | dtmf CHANNEL DIGITS |
 * heard CHANNEL | mute MS | debug | quit | ch CHANNEL COMMAND
 * The call commands act on the last call set up or received, or, after
 * "ch CHANNEL", on the call on that B-channel (several calls at once;
 * not "call").
 * Events: UP, DOWN, RING ch=N called=X calling=Y complete=C, PROCEEDING,
 * RINGING, ANSWER ch=N, HANGUP_REQ ch=N cause=N, HANGUP ch=N cause=N,
 * HANGUP_ACK ch=N (ch=0: a call on no known channel),
 * RESTART ch=N, RESTART_ACK ch=N, SETUP_ACK, INFO digits=X, HEARD ch=N
 * rms=R, ERR text.
 *
 * Test-only: the firmware never links libpri.
 */
#include <errno.h>
#include <libpri.h>
#include <math.h>
#include <poll.h>
#include <spandsp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static int dfd = -1, bfd = -1, dlisten, blisten;
static struct pri *pri;
static q931_call *call;
static int call_chan;          /* the channel of an incoming call */
static int acked;              /* the incoming call has had CALL PROCEEDING */
static q931_call *chans[32];   /* the call on each B-channel */
static int chan_acked[32];
static long long mute_until;   /* ms: drop D-channel frames both ways */
static dtmf_tx_state_t *dtmf;
static int dtmf_chan;
static long long next_block;
static double energy[32];      /* sum of squares received per channel, last second */
static int blocks[32];

static long long now_ms(void) {
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int listen_on(const char *path) {
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	strncpy(a.sun_path, path, sizeof a.sun_path - 1);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1) < 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

static int io_read(struct pri *p, void *buf, int len) {
	(void)p;
	int n = read(dfd, buf, len);
	if (n <= 0) {
		fprintf(stderr, "peer: D-channel closed\n");
		exit(0);
	}
	return n;
}

static int io_write(struct pri *p, void *buf, int len) {
	(void)p;
	if (now_ms() < mute_until)
		return len; /* lost on the line */
	return write(dfd, buf, len);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void lib_message(struct pri *p, char *s) { (void)p; fprintf(stderr, "libpri: %s", s); }

/* forget_call drops a call that ended from the channel table and
 * returns the channel it was on, 0 when none. */
static int forget_call(q931_call *c) {
	int ch = 0;
	for (int i = 1; i < 32; i++)
		if (chans[i] == c) {
			chans[i] = NULL;
			ch = i;
		}
	return ch;
}

static void event(pri_event *e) {
	switch (e->e) {
	case PRI_EVENT_DCHAN_UP: say("UP"); break;
	case PRI_EVENT_DCHAN_DOWN: say("DOWN"); break;
	case PRI_EVENT_RING:
		call = e->ring.call;
		call_chan = e->ring.channel;
		acked = 0;
		if (call_chan > 0 && call_chan < 32) {
			chans[call_chan] = call;
			chan_acked[call_chan] = 0;
		}
		say("RING ch=%d called=%s calling=%s complete=%d", e->ring.channel, e->ring.callednum,
		    e->ring.callingnum, e->ring.complete);
		break;
	case PRI_EVENT_INFO_RECEIVED: say("INFO digits=%s", e->ring.callednum); break;
	case PRI_EVENT_PROCEEDING: say("PROCEEDING ch=%d", e->proceeding.channel); break;
	case PRI_EVENT_SETUP_ACK: say("SETUP_ACK ch=%d", e->setup_ack.channel); break;
	case PRI_EVENT_RINGING: say("RINGING ch=%d", e->ringing.channel); break;
	case PRI_EVENT_ANSWER: say("ANSWER ch=%d", e->answer.channel); break;
	case PRI_EVENT_PROGRESS: say("PROGRESS"); break;
	case PRI_EVENT_HANGUP_REQ:
		say("HANGUP_REQ ch=%d cause=%d", forget_call(e->hangup.call), e->hangup.cause);
		pri_hangup(pri, e->hangup.call, e->hangup.cause);
		break;
	case PRI_EVENT_HANGUP:
		say("HANGUP ch=%d cause=%d", forget_call(e->hangup.call), e->hangup.cause);
		pri_hangup(pri, e->hangup.call, e->hangup.cause);
		if (e->hangup.call == call)
			call = NULL;
		break;
	case PRI_EVENT_HANGUP_ACK:
		say("HANGUP_ACK ch=%d", forget_call(e->hangup.call));
		if (e->hangup.call == call)
			call = NULL;
		break;
	case PRI_EVENT_RESTART: say("RESTART ch=%d", e->restart.channel); break;
	case PRI_EVENT_RESTART_ACK: say("RESTART_ACK ch=%d", e->restartack.channel); break;
	case PRI_EVENT_CONNECT_ACK: say("CONNECT_ACK"); break;
	default: say("EVENT %s", pri_event2str(e->e)); break;
	}
}

static void command(char *line) {
	char num[64] = "";
	int a = 0, b = 0, n = 0;
	if (sscanf(line, "ch %d %n", &a, &n) == 1 && n > 0 && a > 0 && a < 32) {
		q931_call *was = call;
		int was_chan = call_chan, was_acked = acked;
		call = chans[a];
		call_chan = a;
		acked = chan_acked[a];
		if (call && strncmp(line + n, "call ", 5))
			command(line + n);
		else
			say("ERR no call on ch %d", a);
		chan_acked[a] = acked;
		call = was;
		call_chan = was_chan;
		acked = was_acked;
	} else if (sscanf(line, "call %63s %d %d", num, &a, &b) >= 2) {
		struct pri_sr *sr = pri_sr_new();
		call = pri_new_call(pri);
		call_chan = 0;
		if (a > 0 && a < 32) {
			chans[a] = call;
			chan_acked[a] = 1;
		}
		pri_sr_set_channel(sr, a, 1, 0);
		pri_sr_set_bearer(sr, PRI_TRANS_CAP_SPEECH, PRI_LAYER_1_ALAW);
		pri_sr_set_called(sr, num, PRI_UNKNOWN, !strstr(line, "overlap"));
		pri_sr_set_caller(sr, "88880000", NULL, PRI_UNKNOWN, PRES_ALLOWED_USER_NUMBER_NOT_SCREENED);
		if (pri_setup(pri, call, sr))
			say("ERR setup");
		pri_sr_free(sr);
	} else if (sscanf(line, "info %63s", num) == 1 && call) {
		for (char *d = num; *d; d++)
			pri_information(pri, call, *d);
	} else if (!strncmp(line, "answer", 6) && call) {
		acked = 1;
		if (pri_answer(pri, call, call_chan, 1))
			say("ERR answer");
	} else if (!strncmp(line, "alert", 5) && call) {
		acked = 1;
		if (pri_acknowledge(pri, call, call_chan, 1))
			say("ERR alert");
	} else if (!strncmp(line, "proceed", 7) && call) {
		acked = 1;
		pri_proceeding(pri, call, call_chan, 0);
	} else if (sscanf(line, "hangup %d", &a) == 1 && call) {
		/* A switch answers SETUP before it clears: libpri sends nothing
		 * for a call it has not acknowledged. */
		if (call_chan && !acked)
			pri_proceeding(pri, call, call_chan, 0);
		acked = 1;
		if (pri_hangup(pri, call, a))
			say("ERR hangup");
	} else if (sscanf(line, "reset %d", &a) == 1) {
		pri_reset(pri, a);
	} else if (!strncmp(line, "restart", 7)) {
		pri_restart(pri);
	} else if (sscanf(line, "dtmf %d %63s", &a, num) == 2) {
		dtmf_chan = a;
		dtmf_tx_put(dtmf, num, -1);
	} else if (sscanf(line, "heard %d", &a) == 1 && a > 0 && a < 32) {
		say("HEARD ch=%d rms=%.0f", a, blocks[a] ? sqrt(energy[a] / (blocks[a] * 160.0)) : 0.0);
		energy[a] = 0;
		blocks[a] = 0;
	} else if (sscanf(line, "mute %d", &a) == 1) {
		mute_until = now_ms() + a;
	} else if (!strncmp(line, "debug", 5)) {
		pri_set_debug(pri, PRI_DEBUG_Q921_STATE | PRI_DEBUG_Q931_DUMP | PRI_DEBUG_Q931_STATE);
	} else if (!strncmp(line, "quit", 4)) {
		exit(0);
	} else {
		say("ERR %s", line);
	}
}

/* send_block sends 20 ms of digits (or nothing) on the B-channel. */
static void send_block(void) {
	int16_t amp[160];
	uint8_t pkt[161];
	int n = dtmf_tx(dtmf, amp, 160);
	if (n == 0 || bfd < 0 || !dtmf_chan)
		return;
	memset(amp + n, 0, (160 - n) * sizeof amp[0]);
	pkt[0] = dtmf_chan;
	for (int i = 0; i < 160; i++)
		pkt[1 + i] = linear_to_alaw(amp[i]);
	if (write(bfd, pkt, sizeof pkt) < 0)
		perror("B-channel write");
}

static void receive_block(void) {
	uint8_t pkt[200];
	int n = read(bfd, pkt, sizeof pkt);
	if (n <= 0) {
		close(bfd);
		bfd = -1;
		return;
	}
	if (n != 161 || pkt[0] >= 32)
		return;
	double e = 0;
	for (int i = 1; i < n; i++) {
		double v = alaw_to_linear(pkt[i]);
		e += v * v;
	}
	energy[pkt[0]] += e;
	blocks[pkt[0]]++;
}

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: peer net|cpe DCHANNEL BCHANNELS\n");
		return 2;
	}
	int node = strcmp(argv[1], "net") ? PRI_CPE : PRI_NETWORK;
	dlisten = listen_on(argv[2]);
	blisten = listen_on(argv[3]);
	say("LISTENING");
	dfd = accept(dlisten, NULL, NULL);
	if (dfd < 0) {
		perror("accept");
		return 1;
	}
	pri_set_message(lib_message);
	pri_set_error(lib_message);
	pri = pri_new_cb(dfd, node, PRI_SWITCH_EUROISDN_E1, io_read, io_write, NULL);
	if (!pri) {
		fprintf(stderr, "pri_new failed\n");
		return 1;
	}
	pri_set_overlapdial(pri, 1);
	if (getenv("PEER_DEBUG"))
		pri_set_debug(pri, PRI_DEBUG_Q921_DUMP | PRI_DEBUG_Q921_STATE | PRI_DEBUG_Q931_DUMP | PRI_DEBUG_Q931_STATE);
	dtmf = dtmf_tx_init(NULL);
	next_block = now_ms() + 20;
	char line[256];
	size_t have = 0;
	for (;;) {
		struct pollfd p[4] = {{dfd, POLLIN, 0}, {0, POLLIN, 0}, {blisten, POLLIN, 0}, {bfd, POLLIN, 0}};
		int timeout = next_block - now_ms();
		struct timeval *tv = pri_schedule_next(pri);
		if (tv) {
			long long due = (long long)tv->tv_sec * 1000 + tv->tv_usec / 1000 - now_ms();
			if (due < timeout)
				timeout = due;
		}
		if (timeout < 0)
			timeout = 0;
		if (poll(p, bfd >= 0 ? 4 : 3, timeout) < 0 && errno != EINTR)
			return 1;
		if (p[0].revents & (POLLIN | POLLHUP)) {
			if (now_ms() < mute_until) {
				char junk[512];
				if (read(dfd, junk, sizeof junk) <= 0)
					return 0;
			} else {
				pri_event *e = pri_check_event(pri);
				if (e)
					event(e);
			}
		}
		tv = pri_schedule_next(pri);
		if (tv && (long long)tv->tv_sec * 1000 + tv->tv_usec / 1000 <= now_ms()) {
			pri_event *e = pri_schedule_run(pri);
			if (e)
				event(e);
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			int n = read(0, line + have, sizeof line - 1 - have);
			if (n <= 0)
				return 0;
			have += n;
			char *nl;
			while ((nl = memchr(line, '\n', have))) {
				*nl = 0;
				command(line);
				have -= nl + 1 - line;
				memmove(line, nl + 1, have);
			}
		}
		if (p[2].revents & POLLIN) {
			if (bfd >= 0)
				close(bfd);
			bfd = accept(blisten, NULL, NULL);
		}
		if (bfd >= 0 && (p[3].revents & (POLLIN | POLLHUP)))
			receive_block();
		if (now_ms() >= next_block) {
			send_block();
			next_block += 20;
		}
	}
}
