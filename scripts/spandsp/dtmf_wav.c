/*
 * spandsp's DTMF receiver over WAV files, end to end: the yardstick that
 * scripts/bench-dtmf.sh runs beside `jinyin dtmf` on the same recordings.
 * Test-only: built by the script against Debian's libspandsp-dev, never
 * part of the firmware.
 *
 * usage: dtmf_wav FILE.wav...
 * Each file (8 kHz mono; 16-bit PCM, A-law or mu-law) is streamed from disk
 * in 20 ms (160-sample) reads, as spandsp's own test programs feed their
 * receivers, decoded with spandsp's G.711 routines and fed to a fresh
 * receiver. Prints "FILE: DIGITS" per file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <spandsp.h>

struct result { char digits[4096]; int n; };

static void on_digits(void *user, const char *digits, int len)
{
    struct result *r = user;
    for (int i = 0; i < len && r->n < (int) sizeof(r->digits) - 1; i++)
        r->digits[r->n++] = digits[i];
    r->digits[r->n] = '\0';
}

static uint32_t le32(const unsigned char *b) { return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t) b[3] << 24; }

/* Returns the format tag (1, 6 or 7) with fp at the data, or -1. */
static int open_wav(FILE *fp)
{
    unsigned char h[12], ch[8], fmt[64];
    int tag = -1;
    if (fread(h, 1, 12, fp) != 12 || memcmp(h, "RIFF", 4) || memcmp(h + 8, "WAVE", 4))
        return -1;
    while (fread(ch, 1, 8, fp) == 8) {
        uint32_t size = le32(ch + 4);
        if (!memcmp(ch, "fmt ", 4)) {
            if (size < 16 || size > sizeof(fmt) || fread(fmt, 1, size + (size & 1), fp) < size)
                return -1;
            tag = fmt[0] | fmt[1] << 8;
        } else if (!memcmp(ch, "data", 4)) {
            return tag;
        } else if (fseek(fp, size + (size & 1), SEEK_CUR)) {
            return -1;
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.wav...\n", argv[0]);
        return 2;
    }
    dtmf_rx_state_t *rx = dtmf_rx_init(NULL, NULL, NULL);
    static struct result res;
    int status = 0;
    for (int f = 1; f < argc; f++) {
        FILE *fp = fopen(argv[f], "rb");
        int tag = fp ? open_wav(fp) : -1;
        if (tag != 1 && tag != 6 && tag != 7) {
            fprintf(stderr, "%s: not an 8 kHz PCM, A-law or mu-law WAV\n", argv[f]);
            status = 1;
            if (fp)
                fclose(fp);
            continue;
        }
        res.n = 0;
        res.digits[0] = '\0';
        dtmf_rx_init(rx, on_digits, &res);
        int16_t pcm[160];
        uint8_t g711[160];
        size_t n;
        if (tag == 1) {
            while ((n = fread(pcm, 2, 160, fp)) > 0)
                dtmf_rx(rx, pcm, (int) n);
        } else {
            while ((n = fread(g711, 1, 160, fp)) > 0) {
                for (size_t i = 0; i < n; i++)
                    pcm[i] = tag == 6 ? alaw_to_linear(g711[i]) : ulaw_to_linear(g711[i]);
                dtmf_rx(rx, pcm, (int) n);
            }
        }
        fclose(fp);
        printf("%s: %s\n", argv[f], res.digits);
    }
    return status;
}
