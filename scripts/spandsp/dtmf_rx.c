/*
 * spandsp's DTMF receiver as the reference peer for scripts/bench-dtmf.sh.
 * Test-only: built by the script against Debian's libspandsp-dev, never part
 * of the firmware.
 *
 * usage: dtmf_rx REPEATS FILE.s16...
 * Each FILE.s16 is raw 16-bit little-endian 8 kHz mono. Every file is read
 * into memory first; then, REPEATS times, each file is fed to a fresh
 * receiver in 20 ms (160-sample) chunks. Prints "FILE: DIGITS" per file
 * (from the last repeat) and "samples N seconds S" for the fastest repeat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <spandsp.h>

struct result { char digits[256]; int n; };

static void on_digits(void *user, const char *digits, int len)
{
    struct result *r = user;
    for (int i = 0; i < len && r->n < (int) sizeof(r->digits) - 1; i++)
        r->digits[r->n++] = digits[i];
    r->digits[r->n] = '\0';
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s REPEATS FILE.s16...\n", argv[0]);
        return 2;
    }
    int repeats = atoi(argv[1]);
    int nfiles = argc - 2;
    int16_t **pcm = calloc(nfiles, sizeof(*pcm));
    long *len = calloc(nfiles, sizeof(*len));
    struct result *res = calloc(nfiles, sizeof(*res));
    long total = 0;
    for (int f = 0; f < nfiles; f++) {
        FILE *fp = fopen(argv[f + 2], "rb");
        if (!fp) { perror(argv[f + 2]); return 1; }
        fseek(fp, 0, SEEK_END);
        long bytes = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        pcm[f] = malloc(bytes);
        len[f] = bytes / 2;
        if (fread(pcm[f], 2, len[f], fp) != (size_t) len[f]) { perror("read"); return 1; }
        fclose(fp);
        total += len[f];
    }
    double best = 1e30;
    dtmf_rx_state_t *rx = dtmf_rx_init(NULL, NULL, NULL);
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
        for (int f = 0; f < nfiles; f++) {
            res[f].n = 0;
            res[f].digits[0] = '\0';
            dtmf_rx_init(rx, on_digits, &res[f]);
            for (long i = 0; i < len[f]; i += 160) {
                long n = len[f] - i < 160 ? len[f] - i : 160;
                dtmf_rx(rx, pcm[f] + i, (int) n);
            }
        }
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    for (int f = 0; f < nfiles; f++)
        printf("%s: %s\n", argv[f + 2], res[f].digits);
    printf("samples %ld seconds %.6f\n", total, best);
    return 0;
}
