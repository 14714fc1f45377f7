/*
 * spandsp's ADSI transmitter and receiver as the independent peer of
 * media/fsk's caller ID tests. Test-only: fsk_test.go builds it with gcc
 * against Debian's libspandsp-dev into the test's temporary directory; the
 * firmware never links it.
 *
 * usage:
 *   adsi_peer tx class|clip TIME NUMBER NAME   > out.s16
 *       an MDMF caller ID message (date and time, number, name; an empty
 *       argument leaves its parameter out) as 8 kHz s16le audio
 *   adsi_peer tx-sdmf class TIME NUMBER         > out.s16
 *       the same as an SDMF message (Bell 202 only)
 *   adsi_peer rx class|clip                     < in.s16
 *       prints, for each message spandsp receives, "msg TYPE" and then
 *       "field TYPE VALUE" per parameter, in hex for the types
 *
 * class is ADSI_STANDARD_CLASS (Telcordia GR-30, Bell 202 tones); clip is
 * ADSI_STANDARD_CLIP (ETSI EN 300 659, V.23 tones).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>

static int standard(const char *s)
{
    if (strcmp(s, "class") == 0)
        return ADSI_STANDARD_CLASS;
    if (strcmp(s, "clip") == 0)
        return ADSI_STANDARD_CLIP;
    fprintf(stderr, "unknown standard %s\n", s);
    exit(2);
}

static void write_s16le(const int16_t *amp, int n)
{
    for (int i = 0; i < n; i++) {
        unsigned char b[2] = {(unsigned char) (amp[i] & 0xFF), (unsigned char) ((amp[i] >> 8) & 0xFF)};
        fwrite(b, 1, 2, stdout);
    }
}

static int tx(int std, int sdmf, const char *when, const char *number, const char *name)
{
    adsi_tx_state_t *s = adsi_tx_init(NULL, std);
    uint8_t msg[256];
    int len;
    if (sdmf) {
        /* SDMF: type, length, then the eight time digits and the number
           with no parameter headers; adsi_tx_put_message sets the length
           and appends the checksum. */
        msg[0] = CLASS_SDMF_CALLERID;
        len = 2;
        memcpy(msg + len, when, strlen(when));
        len += strlen(when);
        memcpy(msg + len, number, strlen(number));
        len += strlen(number);
    } else {
        len = adsi_add_field(s, msg, -1, CLASS_MDMF_CALLERID, NULL, 0);
        if (*when)
            len = adsi_add_field(s, msg, len, MCLASS_DATETIME, (const uint8_t *) when, strlen(when));
        if (*number)
            len = adsi_add_field(s, msg, len, MCLASS_CALLER_NUMBER, (const uint8_t *) number, strlen(number));
        if (*name)
            len = adsi_add_field(s, msg, len, MCLASS_CALLER_NAME, (const uint8_t *) name, strlen(name));
    }
    if (adsi_tx_put_message(s, msg, len) <= 0) {
        fprintf(stderr, "adsi_tx_put_message refused the message\n");
        return 1;
    }
    /* Some silence first, as on a line between rings, and after. */
    int16_t amp[160];
    memset(amp, 0, sizeof(amp));
    for (int i = 0; i < 5; i++)
        write_s16le(amp, 160);
    int n;
    while ((n = adsi_tx(s, amp, 160)) > 0)
        write_s16le(amp, n);
    memset(amp, 0, sizeof(amp));
    for (int i = 0; i < 5; i++)
        write_s16le(amp, 160);
    adsi_tx_free(s);
    return 0;
}

static void put_msg(void *user, const uint8_t *msg, int len)
{
    adsi_rx_state_t *s = *(adsi_rx_state_t **) user;
    if (len < 2)
        return;
    printf("msg %02x\n", msg[0]);
    int pos = -1;
    for (;;) {
        uint8_t type;
        const uint8_t *body;
        int flen;
        pos = adsi_next_field(s, msg, len, pos, &type, &body, &flen);
        if (pos < 0 || flen < 0) /* past the end (flen is then left as it was) or corrupt */
            break;
        if (body == NULL)
            continue; /* the message header */
        printf("field %02x %.*s\n", type, flen, (const char *) body);
    }
    fflush(stdout);
}

static int rx(int std)
{
    adsi_rx_state_t *s = NULL;
    s = adsi_rx_init(NULL, std, put_msg, &s);
    unsigned char b[320];
    int16_t amp[160];
    size_t got;
    while ((got = fread(b, 1, sizeof(b), stdin)) >= 2) {
        int n = got / 2;
        for (int i = 0; i < n; i++)
            amp[i] = (int16_t) (b[2 * i] | b[2 * i + 1] << 8);
        adsi_rx(s, amp, n);
    }
    /* A little silence, so a receiver that waits for the carrier to drop
       delivers what it holds. */
    memset(amp, 0, sizeof(amp));
    for (int i = 0; i < 10; i++)
        adsi_rx(s, amp, 160);
    adsi_rx_free(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "tx") == 0)
        return tx(standard(argv[2]), 0, argv[3], argv[4], argv[5]);
    if (argc == 5 && strcmp(argv[1], "tx-sdmf") == 0)
        return tx(standard(argv[2]), 1, argv[3], argv[4], "");
    if (argc == 3 && strcmp(argv[1], "rx") == 0)
        return rx(standard(argv[2]));
    fprintf(stderr, "usage: %s tx class|clip TIME NUMBER NAME | tx-sdmf class TIME NUMBER | rx class|clip\n", argv[0]);
    return 2;
}
