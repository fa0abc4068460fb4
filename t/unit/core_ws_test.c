
/*
 * ngx_race: unit tests of the RFC 6455 codec, TAP output.
 *
 * Most reader tests describe a byte stream and the events it must give,
 * written as a normalized log ("TEXT:Hello;PING:;ERROR 1002 ...;"), and
 * feed the stream whole, a byte at a time, cut at every position and,
 * for short streams, cut at every pair of positions.  Every way must
 * give the same log.  Each piece is a separate allocation of its exact
 * size, so a read past the fed input is caught by ASan.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race_ws.h"


#define T_STREAM_MAX   (70 * 1024)
#define T_LOG_MAX      8192
#define T_SPLIT_ALL    4096    /* streams up to this long: every cut */
#define T_SPLIT_PAIRS  40      /* streams up to this long: every 2 cuts */


typedef struct {
    uint8_t          buf[T_STREAM_MAX];
    size_t           len;
    int              masked;
    unsigned         frames;
} t_stream_t;


typedef struct {
    char             log[T_LOG_MAX];
    size_t           log_len;
    int              in_msg;
    unsigned         msg_opcode;
    size_t           msg_len;
    uint8_t          msg[T_STREAM_MAX];
    const char      *bad;
} t_run_t;


typedef struct {
    race_ws_rc_e     rc;
    unsigned         opcode;
    size_t           len;
    size_t           off;        /* of ev.data in the fed buffer */
    unsigned         fin;
    unsigned         first;
    unsigned         code;
} t_event_t;


static int ok(int cond, const char *fmt, ...);
static int is_str(const char *got, const char *want, const char *fmt, ...);
static uint32_t fnv(const uint8_t *p, size_t n);
static int ref_utf8_valid(const uint8_t *s, size_t n);
static size_t utf8_encode(uint8_t *dst, uint32_t cp, size_t len);
static int utf8_class(const uint8_t *s, size_t n);

static void sb_reset(int masked);
static void sb_raw(const void *p, size_t n);
static void sb_frame(int fin, unsigned op, const void *p, size_t n);
static void sb_pattern(size_t n);

static void log_add(const char *fmt, ...);
static void log_bytes(const uint8_t *p, size_t n);
static void run_event(race_ws_parser_t *p, race_ws_rc_e rc,
    race_ws_event_t *ev);
static const char *run(int masked, uint64_t max, const uint8_t *s,
    size_t n, const size_t *cuts, size_t ncuts);
static void check(const char *name, int masked, uint64_t max,
    const char *want);
static size_t events(int masked, uint64_t max, uint8_t *buf, size_t n,
    t_event_t *out, size_t max_out);

static void test_rfc_examples(void);
static void test_fragments(void);
static void test_control(void);
static void test_close(void);
static void test_lengths(void);
static void test_header_errors(void);
static void test_text(void);
static void test_chunks(void);
static void test_utf8_vectors(void);
static void test_utf8_exhaustive(void);
static void test_close_codes(void);
static void test_close_payload(void);
static void test_frame_header(void);
static void test_mask(void);
static void test_handshake(void);


static int          tap_n;
static int          tap_failed;
static t_stream_t   S;
static t_run_t      R;

static const uint8_t  rfc_mask[4] = { 0x37, 0xfa, 0x21, 0x3d };


int
main(void)
{
    test_rfc_examples();
    test_fragments();
    test_control();
    test_close();
    test_lengths();
    test_header_errors();
    test_text();
    test_chunks();
    test_utf8_vectors();
    test_utf8_exhaustive();
    test_close_codes();
    test_close_payload();
    test_frame_header();
    test_mask();
    test_handshake();

    printf("1..%d\n", tap_n);

    if (tap_failed) {
        printf("# %d of %d tests failed\n", tap_failed, tap_n);
        return 1;
    }

    return 0;
}


/* TAP */

static int
ok(int cond, const char *fmt, ...)
{
    va_list  ap;

    tap_n++;

    if (!cond) {
        tap_failed++;
        printf("not ");
    }

    printf("ok %d - ", tap_n);

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);

    printf("\n");
    fflush(stdout);

    return cond;
}


static int
is_str(const char *got, const char *want, const char *fmt, ...)
{
    int      cond;
    char     name[256];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);

    cond = (strcmp(got, want) == 0);

    if (!ok(cond, "%s", name)) {
        printf("#   got:  '%s'\n#   want: '%s'\n", got, want);
    }

    return cond;
}


static uint32_t
fnv(const uint8_t *p, size_t n)
{
    size_t    i;
    uint32_t  h;

    h = 2166136261u;

    for (i = 0; i < n; i++) {
        h = (h ^ p[i]) * 16777619u;
    }

    return h;
}


/*
 * A second, independent statement of RFC 3629: decode each code point
 * and reject what is malformed, overlong, a surrogate or above U+10FFFF.
 */

static int
ref_utf8_valid(const uint8_t *s, size_t n)
{
    size_t    i, k, len;
    uint32_t  cp, min;

    i = 0;

    while (i < n) {

        if (s[i] < 0x80) {
            i++;
            continue;
        }

        if ((s[i] & 0xe0) == 0xc0) {
            len = 2;
            cp = s[i] & 0x1f;
            min = 0x80;

        } else if ((s[i] & 0xf0) == 0xe0) {
            len = 3;
            cp = s[i] & 0x0f;
            min = 0x800;

        } else if ((s[i] & 0xf8) == 0xf0) {
            len = 4;
            cp = s[i] & 0x07;
            min = 0x10000;

        } else {
            return 0;
        }

        if (n - i < len) {
            return 0;
        }

        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }

            cp = (cp << 6) | (s[i + k] & 0x3f);
        }

        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }

        i += len;
    }

    return 1;
}


/* encodes cp in exactly len bytes, overlong if len is more than needed */

static size_t
utf8_encode(uint8_t *dst, uint32_t cp, size_t len)
{
    size_t  i;

    for (i = len - 1; i > 0; i--) {
        dst[i] = (uint8_t) (0x80 | (cp & 0x3f));
        cp >>= 6;
    }

    switch (len) {
    case 1:
        dst[0] = (uint8_t) cp;
        break;
    case 2:
        dst[0] = (uint8_t) (0xc0 | cp);
        break;
    case 3:
        dst[0] = (uint8_t) (0xe0 | cp);
        break;
    default:
        dst[0] = (uint8_t) (0xf0 | cp);
        break;
    }

    return len;
}


/* 0 valid, 1 incomplete so far, 2 rejected: fed whole */

static int
utf8_class(const uint8_t *s, size_t n)
{
    race_utf8_t  u;

    race_utf8_init(&u);

    if (race_utf8_feed(&u, s, n) == RACE_UTF8_REJECT) {
        return 2;
    }

    return race_utf8_complete(&u) ? 0 : 1;
}


/* the stream under test */

static void
sb_reset(int masked)
{
    S.len = 0;
    S.masked = masked;
    S.frames = 0;
}


static void
sb_raw(const void *p, size_t n)
{
    if (S.len + n > T_STREAM_MAX) {
        fprintf(stderr, "stream too long\n");
        exit(2);
    }

    memcpy(S.buf + S.len, p, n);
    S.len += n;
}


/* a frame built by the codec's own writer, masked with a new mask each */

static void
sb_frame(int fin, unsigned op, const void *p, size_t n)
{
    size_t   h;
    uint8_t  hdr[RACE_WS_HEADER_MAX], mask[4];

    mask[0] = (uint8_t) (0x37 + S.frames * 11);
    mask[1] = (uint8_t) (0xfa ^ S.frames);
    mask[2] = (uint8_t) (0x21 + S.frames * 97);
    mask[3] = 0x3d;
    S.frames++;

    h = race_ws_frame_header(hdr, fin, op, n, S.masked ? mask : NULL);
    sb_raw(hdr, h);
    sb_raw(p, n);

    if (S.masked) {
        race_ws_mask(S.buf + S.len - n, n, mask, 0);
    }
}


static void
sb_pattern(size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        S.buf[S.len + i] = (uint8_t) (i * 7 + 3);
    }

    S.len += n;
}


/* the normalized event log of one run */

static void
log_add(const char *fmt, ...)
{
    int      n;
    va_list  ap;

    va_start(ap, fmt);
    n = vsnprintf(R.log + R.log_len, T_LOG_MAX - R.log_len, fmt, ap);
    va_end(ap);

    if (n > 0) {
        R.log_len += (size_t) n;

        if (R.log_len >= T_LOG_MAX) {
            R.log_len = T_LOG_MAX - 1;
        }
    }
}


static void
log_bytes(const uint8_t *p, size_t n)
{
    size_t  i;

    if (n > 64) {
        log_add("[%zu]#%08x", n, fnv(p, n));
        return;
    }

    for (i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != ';') {
            log_add("%c", p[i]);

        } else {
            log_add("\\x%02x", p[i]);
        }
    }
}


static void
run_event(race_ws_parser_t *p, race_ws_rc_e rc, race_ws_event_t *ev)
{
    switch (rc) {

    case RACE_WS_DATA:
        if (ev->opcode != RACE_WS_OP_TEXT && ev->opcode != RACE_WS_OP_BINARY)
        {
            R.bad = "data opcode";
            return;
        }

        if (ev->first != !R.in_msg) {
            R.bad = "first flag";
            return;
        }

        if (ev->first) {
            R.in_msg = 1;
            R.msg_opcode = ev->opcode;
            R.msg_len = 0;

        } else if (ev->opcode != R.msg_opcode) {
            R.bad = "opcode changed inside a message";
            return;
        }

        if (R.msg_len + ev->len > T_STREAM_MAX) {
            R.bad = "message longer than the stream";
            return;
        }

        if (ev->len) {
            memcpy(R.msg + R.msg_len, ev->data, ev->len);
            R.msg_len += ev->len;
        }

        if (ev->fin) {
            log_add(ev->opcode == RACE_WS_OP_TEXT ? "TEXT:" : "BINARY:");
            log_bytes(R.msg, R.msg_len);
            log_add(";");

            if (ev->opcode == RACE_WS_OP_TEXT
                && !ref_utf8_valid(R.msg, R.msg_len))
            {
                R.bad = "text message is not utf-8";
            }

            R.in_msg = 0;
        }

        return;

    case RACE_WS_CONTROL:
        if (ev->len > RACE_WS_CONTROL_MAX
            || (ev->len && (ev->data < p->ctl
                            || ev->data + ev->len
                               > p->ctl + RACE_WS_CONTROL_MAX)))
        {
            R.bad = "control payload outside the parser";
            return;
        }

        switch (ev->opcode) {
        case RACE_WS_OP_PING:
            log_add("PING:");
            break;
        case RACE_WS_OP_PONG:
            log_add("PONG:");
            break;
        case RACE_WS_OP_CLOSE:
            log_add("CLOSE %u:", ev->code);
            break;
        default:
            R.bad = "control opcode";
            return;
        }

        log_bytes(ev->data, ev->len);
        log_add(";");
        return;

    case RACE_WS_ERROR:
        if (ev->reason == NULL) {
            R.bad = "error without a reason";
        }

        log_add("ERROR %u %s;", ev->code, ev->reason ? ev->reason : "-");
        return;

    default:
        R.bad = "unexpected rc";
        return;
    }
}


/* feeds s[0..n) cut at cuts[] (ascending, repeats allowed) */

static const char *
run(int masked, uint64_t max, const uint8_t *s, size_t n, const size_t *cuts,
    size_t ncuts)
{
    size_t             k, start, end, plen, off, used;
    uint8_t           *piece;
    race_ws_rc_e       rc;
    race_ws_event_t    ev, ev2;
    race_ws_parser_t   p;

    R.log_len = 0;
    R.log[0] = '\0';
    R.in_msg = 0;
    R.msg_len = 0;
    R.bad = NULL;

    race_ws_parser_init(&p, max, masked);

    start = 0;

    for (k = 0; k <= ncuts; k++) {
        end = (k < ncuts) ? cuts[k] : n;
        plen = end - start;

        piece = malloc(plen ? plen : 1);
        if (piece == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }

        memcpy(piece, s + start, plen);
        off = 0;

        for ( ;; ) {
            used = (size_t) -1;
            rc = race_ws_parse(&p, piece + off, plen - off, &used, &ev);

            if (used > plen - off) {
                R.bad = "used past the input";
                free(piece);
                goto done;
            }

            if (rc == RACE_WS_AGAIN) {
                if (used != plen - off) {
                    R.bad = "AGAIN with input left";
                }
                break;
            }

            if (used == 0) {
                R.bad = "event without progress";
            }

            if (rc == RACE_WS_DATA
                && (ev.data < piece + off
                    || ev.data + ev.len > piece + off + used))
            {
                R.bad = "data outside the consumed input";
                free(piece);
                goto done;
            }

            run_event(&p, rc, &ev);
            off += used;

            if (rc == RACE_WS_ERROR) {
                /* sticky: fed again, the parser repeats the error */
                rc = race_ws_parse(&p, piece + off, plen - off, &used, &ev2);

                if (rc != RACE_WS_ERROR || used != 0
                    || ev2.code != ev.code || ev2.reason != ev.reason)
                {
                    R.bad = "event after an error";
                }

                free(piece);
                goto done;
            }
        }

        free(piece);
        start = end;
    }

    /* input ended inside a frame or a message */

    if (p.hdr_have || p.remain || p.in_message) {
        log_add("MORE;");
    }

done:

    if (R.bad) {
        log_add("INVARIANT %s;", R.bad);
    }

    return R.log;
}


static void
check(const char *name, int masked, uint64_t max, const char *want)
{
    int      good;
    char     first[T_LOG_MAX + 64];
    size_t   i, j, cuts[2], step;
    size_t  *all;

    is_str(run(masked, max, S.buf, S.len, NULL, 0), want, "%s: whole", name);

    /* a byte at a time */

    all = malloc((S.len ? S.len : 1) * sizeof(size_t));
    if (all == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }

    for (i = 0; i < S.len; i++) {
        all[i] = i;
    }

    is_str(run(masked, max, S.buf, S.len, all, S.len), want,
           "%s: byte by byte", name);
    free(all);

    /* cut once at every position (a sample of them in long streams) */

    good = 1;
    first[0] = '\0';
    step = (S.len > T_SPLIT_ALL) ? 509 : 1;

    for (i = 0; i <= S.len && good; i++) {
        if (step > 1 && i > 64 && i + 64 < S.len && i % step) {
            continue;
        }

        cuts[0] = i;

        if (strcmp(run(masked, max, S.buf, S.len, cuts, 1), want) != 0) {
            good = 0;
            snprintf(first, sizeof(first), "cut at %zu: %s", i, R.log);
        }
    }

    if (!ok(good, "%s: cut at every position%s", name,
            step > 1 ? " (sampled)" : ""))
    {
        printf("#   %s\n", first);
    }

    if (S.len > T_SPLIT_PAIRS) {
        return;
    }

    good = 1;

    for (i = 0; i <= S.len && good; i++) {
        for (j = i; j <= S.len && good; j++) {
            cuts[0] = i;
            cuts[1] = j;

            if (strcmp(run(masked, max, S.buf, S.len, cuts, 2), want) != 0)
            {
                good = 0;
                snprintf(first, sizeof(first), "cut at %zu, %zu: %s",
                         i, j, R.log);
            }
        }
    }

    if (!ok(good, "%s: cut at every pair of positions", name)) {
        printf("#   %s\n", first);
    }
}


/* the exact events of one whole feed, for chunk level checks */

static size_t
events(int masked, uint64_t max, uint8_t *buf, size_t n, t_event_t *out,
    size_t max_out)
{
    size_t             k, off, used;
    race_ws_rc_e       rc;
    race_ws_event_t    ev;
    race_ws_parser_t   p;

    race_ws_parser_init(&p, max, masked);

    off = 0;
    k = 0;

    while (k < max_out) {
        rc = race_ws_parse(&p, buf + off, n - off, &used, &ev);

        if (rc == RACE_WS_AGAIN) {
            break;
        }

        out[k].rc = rc;
        out[k].opcode = ev.opcode;
        out[k].len = ev.len;
        out[k].off = (rc == RACE_WS_DATA) ? (size_t) (ev.data - buf) : 0;
        out[k].fin = ev.fin;
        out[k].first = ev.first;
        out[k].code = ev.code;
        k++;

        off += used;

        if (rc == RACE_WS_ERROR) {
            break;
        }
    }

    return k;
}


static void
test_rfc_examples(void)
{
    char   want[64];

    /* RFC 6455 section 5.7, byte for byte */

    sb_reset(0);
    sb_raw("\x81\x05\x48\x65\x6c\x6c\x6f", 7);
    check("rfc 5.7 unmasked text", 0, 0, "TEXT:Hello;");

    sb_reset(1);
    sb_raw("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
    check("rfc 5.7 masked text", 1, 0, "TEXT:Hello;");

    sb_reset(0);
    sb_raw("\x01\x03\x48\x65\x6c", 5);
    sb_raw("\x80\x02\x6c\x6f", 4);
    check("rfc 5.7 fragmented text", 0, 0, "TEXT:Hello;");

    sb_reset(0);
    sb_raw("\x89\x05\x48\x65\x6c\x6c\x6f", 7);
    check("rfc 5.7 unmasked ping", 0, 0, "PING:Hello;");

    sb_reset(1);
    sb_raw("\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
    check("rfc 5.7 masked pong", 1, 0, "PONG:Hello;");

    sb_reset(0);
    sb_raw("\x82\x7e\x01\x00", 4);
    sb_pattern(256);
    snprintf(want, sizeof(want), "BINARY:[256]#%08x;",
             fnv(S.buf + 4, 256));
    check("rfc 5.7 256 bytes binary", 0, 0, want);

    sb_reset(0);
    sb_raw("\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    sb_pattern(65536);
    snprintf(want, sizeof(want), "BINARY:[65536]#%08x;",
             fnv(S.buf + 10, 65536));
    check("rfc 5.7 64KiB binary", 0, 0, want);

    /* the same sizes masked, from a client */

    sb_reset(1);
    sb_raw("\x82\xfe\x01\x00\x01\x02\x03\x04", 8);
    sb_pattern(256);
    race_ws_mask(S.buf + 8, 256, (const uint8_t *) "\x01\x02\x03\x04", 0);
    memcpy(R.msg, S.buf + 8, 256);
    race_ws_mask(R.msg, 256, (const uint8_t *) "\x01\x02\x03\x04", 0);
    snprintf(want, sizeof(want), "BINARY:[256]#%08x;", fnv(R.msg, 256));
    check("masked 256 bytes binary", 1, 0, want);

    sb_reset(1);
    sb_raw("\x82\xff\x00\x00\x00\x00\x00\x01\x00\x00\xa1\xb2\xc3\xd4", 14);
    sb_pattern(65536);
    snprintf(want, sizeof(want), "BINARY:[65536]#%08x;",
             fnv(S.buf + 14, 65536));
    race_ws_mask(S.buf + 14, 65536, (const uint8_t *) "\xa1\xb2\xc3\xd4",
                 0);
    check("masked 64KiB binary", 1, 0, want);
}


static void
test_fragments(void)
{
    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "He", 2);
    sb_frame(0, RACE_WS_OP_CONT, "ll", 2);
    sb_frame(1, RACE_WS_OP_CONT, "o", 1);
    check("masked text in 3 fragments, 3 masks", 1, 0, "TEXT:Hello;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_TEXT, "a", 1);
    sb_frame(1, RACE_WS_OP_BINARY, "\x00\xff", 2);
    sb_frame(1, RACE_WS_OP_PING, "", 0);
    sb_frame(1, RACE_WS_OP_TEXT, "", 0);
    sb_frame(1, RACE_WS_OP_TEXT, "zz", 2);
    check("messages back to back", 1, 0,
          "TEXT:a;BINARY:\\x00\\xff;PING:;TEXT:;TEXT:zz;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_TEXT, "", 0);
    check("empty text message", 1, 0, "TEXT:;");

    sb_reset(0);
    sb_frame(1, RACE_WS_OP_BINARY, "", 0);
    check("empty binary message", 0, 0, "BINARY:;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "Hel", 3);
    sb_frame(1, RACE_WS_OP_CONT, "", 0);
    check("empty final fragment", 1, 0, "TEXT:Hel;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "", 0);
    sb_frame(0, RACE_WS_OP_CONT, "", 0);
    sb_frame(1, RACE_WS_OP_CONT, "hi", 2);
    check("empty first fragments", 1, 0, "TEXT:hi;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_BINARY, "", 0);
    sb_frame(1, RACE_WS_OP_CONT, "", 0);
    check("all fragments empty", 1, 0, "BINARY:;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "Hel", 3);
    check("unfinished message", 1, 0, "MORE;");

    sb_reset(0);
    sb_raw("\x80\x00", 2);
    check("continuation without a message", 0, 0,
          "ERROR 1002 continuation without a message;");

    sb_reset(0);
    sb_raw("\x00\x01x", 3);
    check("non-final continuation without a message", 0, 0,
          "ERROR 1002 continuation without a message;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_TEXT, "a", 1);
    sb_frame(1, RACE_WS_OP_CONT, "b", 1);
    check("continuation after a finished message", 1, 0,
          "TEXT:a;ERROR 1002 continuation without a message;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "a", 1);
    sb_frame(1, RACE_WS_OP_TEXT, "b", 1);
    check("text while a message is open", 1, 0,
          "ERROR 1002 message not finished;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_BINARY, "a", 1);
    sb_frame(0, RACE_WS_OP_BINARY, "b", 1);
    check("binary while a message is open", 1, 0,
          "ERROR 1002 message not finished;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "", 0);
    sb_frame(1, RACE_WS_OP_BINARY, "b", 1);
    check("binary after an empty open fragment", 1, 0,
          "ERROR 1002 message not finished;");
}


static void
test_control(void)
{
    char     want[64];
    uint8_t  big[126];

    memset(big, 'p', sizeof(big));

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "Hel", 3);
    sb_frame(1, RACE_WS_OP_PING, "x", 1);
    sb_frame(0, RACE_WS_OP_CONT, "", 0);
    sb_frame(1, RACE_WS_OP_PONG, "", 0);
    sb_frame(1, RACE_WS_OP_CLOSE, "\x03\xe8" "bye", 5);
    sb_frame(1, RACE_WS_OP_CONT, "lo", 2);
    check("control frames between fragments", 1, 0,
          "PING:x;PONG:;CLOSE 1000:bye;TEXT:Hello;");

    sb_reset(0);
    sb_frame(0, RACE_WS_OP_BINARY, "\x01", 1);
    sb_frame(1, RACE_WS_OP_PING, big, 125);
    sb_frame(1, RACE_WS_OP_CONT, "\x02", 1);
    snprintf(want, sizeof(want), "PING:[125]#%08x;BINARY:\\x01\\x02;",
             fnv(big, 125));
    check("125 byte ping inside a binary message", 0, 0, want);

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_PING, big, 126);
    check("ping of 126 bytes", 1, 0, "ERROR 1002 control frame too big;");

    sb_reset(0);
    sb_raw("\x89\x7f\x00\x00\x00\x00\x00\x00\x10\x00", 10);
    check("ping with a 64-bit length", 0, 0,
          "ERROR 1002 control frame too big;");

    sb_reset(0);
    sb_raw("\x89\x7e\x00\x05Hello", 9);
    check("ping with a non-minimal length", 0, 0, "PING:Hello;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_PING, "x", 1);
    check("fragmented ping", 1, 0, "ERROR 1002 fragmented control frame;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_CLOSE, "", 0);
    check("fragmented close", 1, 0, "ERROR 1002 fragmented control frame;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_PONG, big, 100);
    sb_frame(1, RACE_WS_OP_PING, big, 0);
    snprintf(want, sizeof(want), "PONG:[100]#%08x;PING:;", fnv(big, 100));
    check("100 byte pong then an empty ping", 1, 0, want);

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_PING, "abc", 3);
    S.len -= 1;
    check("ping cut short", 1, 0, "MORE;");
}


static void
test_close(void)
{
    sb_reset(1);
    sb_frame(1, RACE_WS_OP_CLOSE, "", 0);
    check("close without payload", 1, 0, "CLOSE 1005:;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_CLOSE, "\x03\xe8", 2);
    check("close 1000", 1, 0, "CLOSE 1000:;");

    sb_reset(0);
    sb_frame(1, RACE_WS_OP_CLOSE, "\x03\xe9" "gone \xc3\xa9", 9);
    check("close 1001 with a utf-8 reason", 0, 0,
          "CLOSE 1001:gone \\xc3\\xa9;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_CLOSE, "\x03", 1);
    check("close with 1 byte payload", 1, 0,
          "ERROR 1002 close frame too short;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_CLOSE, "\x03\xe7", 2);
    check("close 999", 1, 0, "ERROR 1002 bad close code;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_CLOSE, "\x03\xed", 2);
    check("close 1005 on the wire", 1, 0, "ERROR 1002 bad close code;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_CLOSE, "\x03\xe8" "a\xff", 4);
    check("close reason not utf-8", 1, 0,
          "ERROR 1007 bad utf-8 in close reason;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_CLOSE, "\x03\xe8" "a\xe2\x82", 5);
    check("close reason with a truncated sequence", 1, 0,
          "ERROR 1007 bad utf-8 in close reason;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_CLOSE, "\x03\xe8" "\xed\xa0\x80", 5);
    check("close reason with a surrogate", 1, 0,
          "ERROR 1007 bad utf-8 in close reason;");
}


static void
test_lengths(void)
{
    sb_reset(0);
    sb_raw("\x82\x7e\x00\x05" "abcde", 9);
    check("non-minimal 16-bit length", 0, 0, "BINARY:abcde;");

    sb_reset(0);
    sb_raw("\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x05" "abcde", 15);
    check("non-minimal 64-bit length", 0, 0, "BINARY:abcde;");

    sb_reset(1);
    sb_raw("\x82\xff\x00\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04", 14);
    check("masked zero 64-bit length", 1, 0, "BINARY:;");

    sb_reset(0);
    sb_raw("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x01", 10);
    check("64-bit length with the top bit set", 0, 0,
          "ERROR 1002 bad frame length;");

    sb_reset(0);
    sb_raw("\x82\x7f\xff\xff\xff\xff\xff\xff\xff\xff", 10);
    check("64-bit length all ones", 0, 0, "ERROR 1002 bad frame length;");

    sb_reset(0);
    sb_raw("\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff" "abc", 13);
    check("largest 64-bit length, no limit", 0, 0, "MORE;");

    /* max_message */

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_TEXT, "Hello", 5);
    check("message at max_message", 1, 5, "TEXT:Hello;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_TEXT, "Hello", 5);
    check("message past max_message", 1, 4, "ERROR 1009 message too big;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "Hel", 3);
    sb_frame(1, RACE_WS_OP_CONT, "lo!", 3);
    check("fragments past max_message", 1, 5,
          "ERROR 1009 message too big;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "Hel", 3);
    sb_frame(1, RACE_WS_OP_PING, "0123456789", 10);
    sb_frame(1, RACE_WS_OP_CONT, "lo", 2);
    sb_frame(1, RACE_WS_OP_BINARY, "World", 5);
    check("max_message counts each message, not control frames", 1, 5,
          "PING:0123456789;TEXT:Hello;BINARY:World;");

    /* the header alone fails: no payload needed */

    sb_reset(0);
    sb_raw("\x82\x7f\x00\x00\x01\x00\x00\x00\x00\x00", 10);
    check("huge frame fails at its header", 0, 1 << 20,
          "ERROR 1009 message too big;");

    sb_reset(1);
    sb_raw("\x81\xfe\x04\x01\x11\x22\x33\x44", 8);
    check("1025 byte frame with a 1024 limit", 1, 1024,
          "ERROR 1009 message too big;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_BINARY, "x", 1);
    sb_raw("\x80\xff\x7f\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00", 14);
    check("huge continuation, no overflow in the limit", 1, 1 << 20,
          "ERROR 1009 message too big;");
}


static void
test_header_errors(void)
{
    unsigned  op;
    char      name[64];
    uint8_t   frame[2];

    sb_reset(0);
    sb_frame(1, RACE_WS_OP_TEXT, "Hello", 5);
    check("unmasked frame to a server", 1, 0,
          "ERROR 1002 unmasked frame;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_TEXT, "Hello", 5);
    check("masked frame to a client", 0, 0, "ERROR 1002 masked frame;");

    sb_reset(0);
    sb_frame(1, RACE_WS_OP_PING, "", 0);
    check("unmasked ping to a server", 1, 0, "ERROR 1002 unmasked frame;");

    sb_reset(0);
    sb_raw("\xc1\x00", 2);
    check("RSV1 set", 0, 0, "ERROR 1002 reserved bits set;");

    sb_reset(0);
    sb_raw("\xa1\x00", 2);
    check("RSV2 set", 0, 0, "ERROR 1002 reserved bits set;");

    sb_reset(1);
    sb_raw("\x91\x80\x00\x00\x00\x00", 6);
    check("RSV3 set", 1, 0, "ERROR 1002 reserved bits set;");

    sb_reset(1);
    sb_raw("\xc9\x80\x00\x00\x00\x00", 6);
    check("RSV1 set on a ping", 1, 0, "ERROR 1002 reserved bits set;");

    for (op = 0; op < 16; op++) {
        if (op <= RACE_WS_OP_BINARY
            || (op >= RACE_WS_OP_CLOSE && op <= RACE_WS_OP_PONG))
        {
            continue;
        }

        frame[0] = (uint8_t) (0x80 | op);
        frame[1] = 0x80;
        sb_reset(1);
        sb_raw(frame, 2);
        sb_raw("\x00\x00\x00\x00", 4);
        snprintf(name, sizeof(name), "opcode 0x%x", op);
        check(name, 1, 0, "ERROR 1002 unknown opcode;");

        /* non-final, in the middle of a message */

        frame[0] = (uint8_t) op;
        sb_reset(1);
        sb_frame(0, RACE_WS_OP_TEXT, "a", 1);
        sb_raw(frame, 2);
        sb_raw("\x00\x00\x00\x00", 4);
        snprintf(name, sizeof(name), "non-final opcode 0x%x in a message",
                 op);
        check(name, 1, 0, "ERROR 1002 unknown opcode;");
    }
}


static void
test_text(void)
{
    static const char  fix[] =
        "{\"type\":\"fix\",\"seq\":17,\"lat\":45.07,\"n\":\"K\xc3\xb6ln\"}";

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "a\xe2", 2);
    sb_frame(0, RACE_WS_OP_CONT, "\x82", 1);
    sb_frame(1, RACE_WS_OP_CONT, "\xac", 1);
    check("euro sign split across fragments", 1, 0,
          "TEXT:a\\xe2\\x82\\xac;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "\xf0", 1);
    sb_frame(0, RACE_WS_OP_CONT, "\x9f", 1);
    sb_frame(0, RACE_WS_OP_CONT, "\x98", 1);
    sb_frame(1, RACE_WS_OP_CONT, "\x80", 1);
    check("4-byte sequence across 4 fragments", 1, 0,
          "TEXT:\\xf0\\x9f\\x98\\x80;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "\xe2", 1);
    sb_frame(1, RACE_WS_OP_PING, "", 0);
    sb_frame(1, RACE_WS_OP_CONT, "\x82\xac", 2);
    check("ping inside a split sequence", 1, 0,
          "PING:;TEXT:\\xe2\\x82\\xac;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_TEXT, "\xf4\x8f\xbf\xbf", 4);
    check("U+10FFFF", 1, 0, "TEXT:\\xf4\\x8f\\xbf\\xbf;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_TEXT, "\xf4\x90\x80\x80", 4);
    check("U+110000", 1, 0, "ERROR 1007 bad utf-8;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_TEXT, "\xc0\xaf", 2);
    check("overlong C0 AF", 1, 0, "ERROR 1007 bad utf-8;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_TEXT, "\xe0\x80\xaf", 3);
    check("overlong E0 80 AF", 1, 0, "ERROR 1007 bad utf-8;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_TEXT, "\xed\xa0\x80", 3);
    check("surrogate ED A0 80", 1, 0, "ERROR 1007 bad utf-8;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "ab\xff", 3);
    check("bad byte fails before fin", 1, 0, "ERROR 1007 bad utf-8;");

    /* declared 10 bytes, only 3 arrive: fails without the rest */

    sb_reset(1);
    sb_raw("\x81\x8a\x00\x00\x00\x00" "ab\xc0", 9);
    check("bad byte fails before the frame ends", 1, 0,
          "ERROR 1007 bad utf-8;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "ok", 2);
    sb_frame(0, RACE_WS_OP_CONT, "\xed", 1);
    sb_frame(1, RACE_WS_OP_CONT, "\xb0\x80", 2);
    check("surrogate split across fragments", 1, 0,
          "ERROR 1007 bad utf-8;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_TEXT, "a\xe2", 2);
    check("sequence cut at fin", 1, 0, "ERROR 1007 truncated utf-8;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "a\xe2\x82", 3);
    sb_frame(1, RACE_WS_OP_CONT, "", 0);
    check("sequence cut by an empty final fragment", 1, 0,
          "ERROR 1007 truncated utf-8;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_TEXT, "fine", 4);
    sb_frame(1, RACE_WS_OP_TEXT, "\x80", 1);
    check("stray continuation in a second message", 1, 0,
          "TEXT:fine;ERROR 1007 bad utf-8;");

    sb_reset(1);
    sb_frame(0, RACE_WS_OP_TEXT, "a\xe2", 2);
    sb_frame(1, RACE_WS_OP_PING, "", 0);
    sb_frame(1, RACE_WS_OP_CONT, "b", 1);
    check("sequence interrupted by a new byte", 1, 0,
          "PING:;ERROR 1007 bad utf-8;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_BINARY, "\xff\xfe\xc0", 3);
    check("binary is not checked", 1, 0, "BINARY:\\xff\\xfe\\xc0;");

    sb_reset(1);
    sb_frame(1, RACE_WS_OP_TEXT, fix, strlen(fix));
    check("a fix", 1, 0,
          "TEXT:{\"type\":\"fix\",\"seq\":17,\"lat\":45.07,"
          "\"n\":\"K\\xc3\\xb6ln\"};");
}


/* chunk level: first/fin flags, zero-length events, in-place unmasking */

static void
test_chunks(void)
{
    size_t             n, used;
    uint8_t            buf[64];
    t_event_t          ev[8];
    race_ws_rc_e       rc;
    race_ws_event_t    e;
    race_ws_parser_t   p;

    memcpy(buf, "\x81\x00", 2);
    n = events(0, 0, buf, 2, ev, 8);
    ok(n == 1 && ev[0].rc == RACE_WS_DATA && ev[0].opcode == RACE_WS_OP_TEXT
       && ev[0].len == 0 && ev[0].first && ev[0].fin,
       "empty message: one DATA, first and fin, len 0");

    memcpy(buf, "\x01\x03Hel\x80\x00", 7);
    n = events(0, 0, buf, 7, ev, 8);
    ok(n == 2
       && ev[0].rc == RACE_WS_DATA && ev[0].len == 3 && ev[0].off == 2
       && ev[0].first && !ev[0].fin
       && ev[1].rc == RACE_WS_DATA && ev[1].len == 0
       && !ev[1].first && ev[1].fin,
       "empty final fragment: DATA len 0 with fin");

    memcpy(buf, "\x01\x00\x80\x02hi", 6);
    n = events(0, 0, buf, 6, ev, 8);
    ok(n == 1 && ev[0].len == 2 && ev[0].off == 4 && ev[0].first
       && ev[0].fin,
       "empty first fragment: no event, first goes to the next chunk");

    memcpy(buf, "\x02\x01x\x89\x00\x80\x01y", 8);
    n = events(0, 0, buf, 8, ev, 8);
    ok(n == 3
       && ev[0].rc == RACE_WS_DATA && ev[0].opcode == RACE_WS_OP_BINARY
       && ev[0].first && !ev[0].fin
       && ev[1].rc == RACE_WS_CONTROL && ev[1].opcode == RACE_WS_OP_PING
       && ev[2].rc == RACE_WS_DATA && ev[2].opcode == RACE_WS_OP_BINARY
       && !ev[2].first && ev[2].fin,
       "ping between fragments keeps the message's flags and opcode");

    memcpy(buf, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
    n = events(1, 0, buf, 11, ev, 8);
    ok(n == 1 && ev[0].off == 6 && ev[0].len == 5
       && memcmp(buf + 6, "Hello", 5) == 0,
       "masked payload is unmasked in place");

    /* a chunk per feed: first only on the first one */

    race_ws_parser_init(&p, 0, 0);
    memcpy(buf, "\x81\x06" "abcdef", 8);

    rc = race_ws_parse(&p, buf, 4, &used, &e);
    ok(rc == RACE_WS_DATA && used == 4 && e.len == 2 && e.data == buf + 2
       && e.first && !e.fin, "first chunk of a split frame");

    rc = race_ws_parse(&p, buf + 4, 0, &used, &e);
    ok(rc == RACE_WS_AGAIN && used == 0, "empty feed: AGAIN");

    rc = race_ws_parse(&p, buf + 4, 4, &used, &e);
    ok(rc == RACE_WS_DATA && used == 4 && e.len == 4 && e.data == buf + 4
       && !e.first && e.fin, "last chunk of a split frame");

    /* a control frame split across feeds comes out of p->ctl */

    race_ws_parser_init(&p, 0, 1);
    memcpy(buf, "\x89\x83\x01\x02\x03\x04" "abc", 9);
    race_ws_mask(buf + 6, 3, (const uint8_t *) "\x01\x02\x03\x04", 0);

    rc = race_ws_parse(&p, buf, 7, &used, &e);
    ok(rc == RACE_WS_AGAIN && used == 7, "split ping: AGAIN");

    rc = race_ws_parse(&p, buf + 7, 2, &used, &e);
    ok(rc == RACE_WS_CONTROL && used == 2 && e.opcode == RACE_WS_OP_PING
       && e.data == p.ctl && e.len == 3 && memcmp(e.data, "abc", 3) == 0,
       "split ping: one CONTROL from the parser's buffer");

    /* several frames in one buffer: one event per call */

    race_ws_parser_init(&p, 0, 0);
    memcpy(buf, "\x81\x01" "a\x8a\x00\x82\x02xy", 9);

    rc = race_ws_parse(&p, buf, 9, &used, &e);
    ok(rc == RACE_WS_DATA && used == 3, "1st of 3 frames in one buffer");
    n = used;
    rc = race_ws_parse(&p, buf + n, 9 - n, &used, &e);
    ok(rc == RACE_WS_CONTROL && used == 2 && e.opcode == RACE_WS_OP_PONG,
       "2nd of 3 frames in one buffer");
    n += used;
    rc = race_ws_parse(&p, buf + n, 9 - n, &used, &e);
    ok(rc == RACE_WS_DATA && used == 4 && e.opcode == RACE_WS_OP_BINARY
       && e.data == buf + 7, "3rd of 3 frames in one buffer");

    /* errors are sticky */

    race_ws_parser_init(&p, 0, 1);
    memcpy(buf, "\x81\x01" "a", 3);
    rc = race_ws_parse(&p, buf, 3, &used, &e);
    ok(rc == RACE_WS_ERROR && e.code == RACE_WS_CLOSE_PROTOCOL
       && e.reason != NULL && strcmp(e.reason, "unmasked frame") == 0,
       "unmasked frame: ERROR 1002 with a reason");

    rc = race_ws_parse(&p, buf, 3, &used, &e);
    ok(rc == RACE_WS_ERROR && used == 0 && e.code == RACE_WS_CLOSE_PROTOCOL,
       "fed again after an error: the same error, nothing consumed");
}


static void
test_utf8_vectors(void)
{
    int           good, c;
    size_t        i, k, len;
    uint32_t      rc;
    race_utf8_t   u;

    static const struct {
        const char  *s;
        size_t       len;
        int          want;   /* 0 valid, 1 incomplete, 2 rejected */
        const char  *name;
    } v[] = {
        { "", 0, 0, "empty" },
        { "Hello", 5, 0, "ascii" },
        { "\x00", 1, 0, "NUL" },
        { "\x7f", 1, 0, "U+007F" },
        { "\xc2\x80", 2, 0, "U+0080" },
        { "\xdf\xbf", 2, 0, "U+07FF" },
        { "\xe0\xa0\x80", 3, 0, "U+0800" },
        { "\xed\x9f\xbf", 3, 0, "U+D7FF" },
        { "\xee\x80\x80", 3, 0, "U+E000" },
        { "\xef\xbf\xbf", 3, 0, "U+FFFF" },
        { "\xf0\x90\x80\x80", 4, 0, "U+10000" },
        { "\xf4\x8f\xbf\xbf", 4, 0, "U+10FFFF" },
        { "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 11, 0,
          "greek kosme" },
        { "0123456789abcdef\xc3\xa9" "0123456789", 28, 0,
          "multibyte after a word of ascii" },
        { "\xc2", 1, 1, "lone lead C2" },
        { "\xe2\x82", 2, 1, "E2 82 cut" },
        { "\xf0\x9f\x98", 3, 1, "F0 9F 98 cut" },
        { "a\xf4\x8f", 3, 1, "F4 8F cut" },
        { "\xf4\x90\x80\x80", 4, 2, "U+110000" },
        { "\xf7\xbf\xbf\xbf", 4, 2, "U+1FFFFF" },
        { "\xc0\xaf", 2, 2, "overlong C0 AF" },
        { "\xc1\xbf", 2, 2, "overlong C1 BF" },
        { "\xc0\x80", 2, 2, "overlong NUL" },
        { "\xe0\x80\xaf", 3, 2, "overlong E0 80 AF" },
        { "\xe0\x9f\xbf", 3, 2, "overlong E0 9F BF" },
        { "\xf0\x8f\xbf\xbf", 4, 2, "overlong F0 8F BF BF" },
        { "\xed\xa0\x80", 3, 2, "surrogate ED A0 80" },
        { "\xed\xbf\xbf", 3, 2, "surrogate ED BF BF" },
        { "\xed\xa0\xbd\xed\xb8\x80", 6, 2, "surrogate pair (CESU-8)" },
        { "\x80", 1, 2, "stray 80" },
        { "\xbf", 1, 2, "stray BF" },
        { "a\x80" "b", 3, 2, "stray continuation inside ascii" },
        { "\xc2\x41", 2, 2, "lead without continuation" },
        { "\xe2\x82" "A", 3, 2, "3-byte cut by ascii" },
        { "\xf5\x80\x80\x80", 4, 2, "F5" },
        { "\xf8\x88\x80\x80\x80", 5, 2, "5-byte form" },
        { "\xfc\x84\x80\x80\x80\x80", 6, 2, "6-byte form" },
        { "\xfe", 1, 2, "FE" },
        { "\xff", 1, 2, "FF" },
        { "0123456789abcdef\xff", 17, 2, "FF after two words of ascii" },
    };

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        len = v[i].len;
        good = (utf8_class((const uint8_t *) v[i].s, len) == v[i].want);

        /* the same verdict fed a byte at a time and cut anywhere */

        race_utf8_init(&u);

        for (k = 0; k < len; k++) {
            race_utf8_feed(&u, (const uint8_t *) v[i].s + k, 1);
        }

        c = (u.state == RACE_UTF8_REJECT) ? 2 : !race_utf8_complete(&u);
        good = good && c == v[i].want;

        for (k = 0; k <= len; k++) {
            race_utf8_init(&u);
            race_utf8_feed(&u, (const uint8_t *) v[i].s, k);
            rc = race_utf8_feed(&u, (const uint8_t *) v[i].s + k, len - k);
            c = (rc == RACE_UTF8_REJECT) ? 2 : !race_utf8_complete(&u);
            good = good && c == v[i].want;
        }

        ok(good, "utf-8 %s: %s", v[i].name,
           v[i].want == 0 ? "valid" : (v[i].want == 1 ? "incomplete"
                                                      : "rejected"));
    }

    /* fail fast: the first byte that cannot be valid is rejected */

    ok(utf8_class((const uint8_t *) "\xc0", 1) == 2, "C0 rejected at once");
    ok(utf8_class((const uint8_t *) "\xc1", 1) == 2, "C1 rejected at once");
    ok(utf8_class((const uint8_t *) "\xf5", 1) == 2, "F5 rejected at once");
    ok(utf8_class((const uint8_t *) "\xe0\x80", 2) == 2,
       "E0 80 rejected at the 2nd byte");
    ok(utf8_class((const uint8_t *) "\xed\xa0", 2) == 2,
       "ED A0 rejected at the 2nd byte");
    ok(utf8_class((const uint8_t *) "\xf0\x8f", 2) == 2,
       "F0 8F rejected at the 2nd byte");
    ok(utf8_class((const uint8_t *) "\xf4\x90", 2) == 2,
       "F4 90 rejected at the 2nd byte");

    race_utf8_init(&u);
    race_utf8_feed(&u, (const uint8_t *) "\xff", 1);
    ok(race_utf8_feed(&u, (const uint8_t *) "abc", 3) == RACE_UTF8_REJECT
       && !race_utf8_complete(&u), "rejection is sticky");
}


static void
test_utf8_exhaustive(void)
{
    int        good;
    size_t     len, n, k;
    uint32_t   cp, a, b, c, d;
    uint8_t    s[4];

    static const uint8_t  some[] = {
        0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
        0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff
    };

    /* every code point, in its shortest form: valid, prefixes viable */

    good = 1;

    for (cp = 0; cp <= 0x10ffff && good; cp++) {
        len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        n = utf8_encode(s, cp, len);

        if (cp >= 0xd800 && cp <= 0xdfff) {
            good = (utf8_class(s, n) == 2);
            continue;
        }

        good = (utf8_class(s, n) == 0);

        for (k = 1; k < n && good; k++) {
            good = (utf8_class(s, k) == 1);
        }

        /* and in every longer, overlong form */

        for (k = len + 1; k <= 4 && good; k++) {
            n = utf8_encode(s, cp, k);
            good = (utf8_class(s, n) == 2);
        }
    }

    ok(good, "every code point: shortest form valid, overlong forms and "
       "surrogates rejected");

    good = 1;

    for (cp = 0x110000; cp < 0x200000 && good; cp++) {
        n = utf8_encode(s, cp, 4);
        good = (utf8_class(s, n) == 2);
    }

    ok(good, "every 4-byte form above U+10FFFF rejected");

    /* every string of 1, 2 and 3 bytes agrees with the reference */

    good = 1;

    for (a = 0; a < 256 && good; a++) {
        s[0] = (uint8_t) a;
        good = ((utf8_class(s, 1) == 0) == ref_utf8_valid(s, 1));

        for (b = 0; b < 256 && good; b++) {
            s[1] = (uint8_t) b;
            good = ((utf8_class(s, 2) == 0) == ref_utf8_valid(s, 2));

            for (c = 0; c < 256 && good; c++) {
                s[2] = (uint8_t) c;
                good = ((utf8_class(s, 3) == 0) == ref_utf8_valid(s, 3));
            }
        }
    }

    ok(good, "every 1, 2 and 3 byte string agrees with a reference decoder");

    /* 4 bytes: every lead, interesting values after it */

    good = 1;

    for (a = 0; a < 256 && good; a++) {
        for (b = 0; b < sizeof(some) && good; b++) {
            for (c = 0; c < sizeof(some) && good; c++) {
                for (d = 0; d < 256 && good; d++) {
                    s[0] = (uint8_t) a;
                    s[1] = some[b];
                    s[2] = some[c];
                    s[3] = (uint8_t) d;
                    good = ((utf8_class(s, 4) == 0) == ref_utf8_valid(s, 4));
                }
            }
        }
    }

    ok(good, "4 byte strings agree with a reference decoder");
}


static void
test_close_codes(void)
{
    int       good, want;
    char      name[64];
    size_t    i;
    unsigned  code;
    uint8_t   pl[2];

    static const struct {
        unsigned  code;
        int       valid;
    } t[] = {
        { 0, 0 }, { 999, 0 }, { 1000, 1 }, { 1001, 1 }, { 1002, 1 },
        { 1003, 1 }, { 1004, 0 }, { 1005, 0 }, { 1006, 0 }, { 1007, 1 },
        { 1008, 1 }, { 1009, 1 }, { 1010, 1 }, { 1011, 1 }, { 1012, 1 },
        { 1013, 1 }, { 1014, 1 }, { 1015, 0 }, { 1016, 0 }, { 1100, 0 },
        { 2000, 0 }, { 2999, 0 }, { 3000, 1 }, { 3999, 1 }, { 4000, 1 },
        { 4999, 1 }, { 5000, 0 }, { 65535, 0 },
    };

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ok(race_ws_close_code_valid(t[i].code) == t[i].valid,
           "close code %u %s", t[i].code, t[i].valid ? "valid" : "invalid");

        /* and the reader applies it to close frames */

        pl[0] = (uint8_t) (t[i].code >> 8);
        pl[1] = (uint8_t) t[i].code;
        sb_reset(1);
        sb_frame(1, RACE_WS_OP_CLOSE, pl, 2);
        snprintf(name, sizeof(name), "CLOSE %u:;", t[i].code);
        is_str(run(1, 0, S.buf, S.len, NULL, 0),
               t[i].valid ? name : "ERROR 1002 bad close code;",
               "close frame with code %u", t[i].code);
    }

    good = 1;

    for (code = 0; code <= 0x10000; code++) {
        want = (code >= 1000 && code <= 1003)
               || (code >= 1007 && code <= 1014)
               || (code >= 3000 && code <= 4999);

        if (race_ws_close_code_valid(code) != want) {
            good = 0;
            printf("# code %u\n", code);
            break;
        }
    }

    ok(good, "close code validity over 0..65536");
}


static void
test_close_payload(void)
{
    int          good;
    char         reason[256];
    size_t       n, i, k, len;
    uint8_t      dst[RACE_WS_CONTROL_MAX + 16];
    race_utf8_t  u;

    static const char  *units[] = { "x", "\xc3\xa9", "\xe2\x82\xac",
                                    "\xf0\x9d\x84\x9e" };

    n = race_ws_close_payload(dst, 1000, "bye", 3);
    ok(n == 5 && memcmp(dst, "\x03\xe8" "bye", 5) == 0,
       "close payload 1000 bye");

    n = race_ws_close_payload(dst, 1001, NULL, 0);
    ok(n == 2 && dst[0] == 0x03 && dst[1] == 0xe9,
       "close payload without a reason");

    n = race_ws_close_payload(dst, RACE_WS_CLOSE_NO_STATUS, "x", 1);
    ok(n == 0, "close payload for 1005 is empty");

    memset(reason, 'x', 200);
    n = race_ws_close_payload(dst, 1009, reason, 200);
    ok(n == RACE_WS_CONTROL_MAX && memcmp(dst + 2, reason, 123) == 0,
       "long reason cut to 125 bytes");

    memset(reason, 'x', 121);
    memcpy(reason + 121, "\xc3\xa9", 2);
    n = race_ws_close_payload(dst, 1000, reason, 123);
    ok(n == 125, "2-byte sequence ending at byte 125 is kept");

    memset(reason, 'x', 122);
    memcpy(reason + 122, "\xc3\xa9", 2);
    n = race_ws_close_payload(dst, 1000, reason, 124);
    ok(n == 124, "2-byte sequence across byte 125 is dropped");

    memset(reason, 'x', 122);
    memcpy(reason + 122, "\xe2\x82\xac", 3);
    n = race_ws_close_payload(dst, 1000, reason, 125);
    ok(n == 124, "3-byte sequence across byte 125 is dropped");

    n = race_ws_close_payload(dst, 1000, "ab\xff" "cd", 5);
    ok(n == 4 && memcmp(dst + 2, "ab", 2) == 0,
       "reason cut before an invalid byte");

    /* every mix of 1..4 byte characters, every length */

    good = 1;

    for (k = 0; k < 4 && good; k++) {
        len = 0;

        while (len < 200) {
            i = (len + k) % 4;
            memcpy(reason + len, units[i], strlen(units[i]));
            len += strlen(units[i]);
        }

        for (i = 0; i <= len && good; i++) {
            n = race_ws_close_payload(dst, 1000, reason, i);
            race_utf8_init(&u);
            race_utf8_feed(&u, dst + 2, n - 2);

            good = n >= 2 && n <= RACE_WS_CONTROL_MAX
                   && race_utf8_complete(&u)
                   && memcmp(dst + 2, reason, n - 2) == 0
                   /* nothing more would have fit */
                   && (n - 2 == i || n - 2 + 4 > 123
                       || (n - 2 < i && (uint8_t) reason[n - 2] >= 0xc0
                           && n - 2
                              + ((uint8_t) reason[n - 2] >= 0xf0 ? 4
                                 : (uint8_t) reason[n - 2] >= 0xe0 ? 3 : 2)
                              > i));
        }
    }

    ok(good, "close reasons of every length: cut at a code point edge");

    /* what it builds, the reader takes */

    n = race_ws_close_payload(dst, 4001, "gone \xc3\xa9", 7);
    sb_reset(1);
    sb_frame(1, RACE_WS_OP_CLOSE, dst, n);
    is_str(run(1, 0, S.buf, S.len, NULL, 0), "CLOSE 4001:gone \\xc3\\xa9;",
           "close payload parses back");
}


static void
test_frame_header(void)
{
    size_t   n, i;
    uint8_t  h[RACE_WS_HEADER_MAX];

    static const struct {
        uint64_t     len;
        size_t       size;
        const char  *bytes;
    } t[] = {
        { 0, 2, "\x82\x00" },
        { 5, 2, "\x82\x05" },
        { 125, 2, "\x82\x7d" },
        { 126, 4, "\x82\x7e\x00\x7e" },
        { 256, 4, "\x82\x7e\x01\x00" },
        { 65535, 4, "\x82\x7e\xff\xff" },
        { 65536, 10, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00" },
        { 0x123456789aULL, 10, "\x82\x7f\x00\x00\x00\x12\x34\x56\x78\x9a" },
        { 0x7fffffffffffffffULL, 10,
          "\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff" },
    };

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        n = race_ws_frame_header(h, 1, RACE_WS_OP_BINARY, t[i].len, NULL);
        ok(n == t[i].size && memcmp(h, t[i].bytes, n) == 0,
           "header for length %llu: %zu bytes",
           (unsigned long long) t[i].len, t[i].size);

        n = race_ws_frame_header(h, 1, RACE_WS_OP_BINARY, t[i].len,
                                 rfc_mask);
        ok(n == t[i].size + 4 && h[0] == 0x82
           && h[1] == (0x80 | (uint8_t) t[i].bytes[1])
           && memcmp(h + 2, t[i].bytes + 2, t[i].size - 2) == 0
           && memcmp(h + t[i].size, rfc_mask, 4) == 0,
           "masked header for length %llu: %zu bytes",
           (unsigned long long) t[i].len, t[i].size + 4);
    }

    n = race_ws_frame_header(h, 1, RACE_WS_OP_TEXT, 5, NULL);
    ok(n == 2 && memcmp(h, "\x81\x05", 2) == 0, "rfc text header");

    n = race_ws_frame_header(h, 0, RACE_WS_OP_TEXT, 3, NULL);
    ok(n == 2 && memcmp(h, "\x01\x03", 2) == 0, "non-final header");

    n = race_ws_frame_header(h, 1, RACE_WS_OP_CONT, 2, NULL);
    ok(n == 2 && memcmp(h, "\x80\x02", 2) == 0, "continuation header");

    n = race_ws_frame_header(h, 1, RACE_WS_OP_PONG, 5, rfc_mask);
    ok(n == 6 && memcmp(h, "\x8a\x85\x37\xfa\x21\x3d", 6) == 0,
       "rfc masked pong header");

    n = race_ws_frame_header(h, 1, RACE_WS_OP_CLOSE, 2, NULL);
    ok(n == 2 && memcmp(h, "\x88\x02", 2) == 0, "close header");
}


static void
test_mask(void)
{
    int       good;
    size_t    i, k;
    unsigned  pos;
    uint8_t   a[40], b[41], ref[40];

    memcpy(a, "Hello", 5);
    pos = race_ws_mask(a, 5, rfc_mask, 0);
    ok(pos == 1 && memcmp(a, "\x7f\x9f\x4d\x51\x58", 5) == 0,
       "rfc mask of Hello");

    pos = race_ws_mask(a, 5, rfc_mask, 0);
    ok(pos == 1 && memcmp(a, "Hello", 5) == 0, "masking twice undoes it");

    for (i = 0; i < sizeof(a); i++) {
        a[i] = (uint8_t) (i * 31 + 5);
        ref[i] = a[i] ^ rfc_mask[i & 3];
    }

    /* in two calls cut anywhere, from an unaligned address too */

    good = 1;

    for (k = 0; k <= sizeof(a) && good; k++) {
        memcpy(b + 1, a, sizeof(a));
        pos = race_ws_mask(b + 1, k, rfc_mask, 0);
        good = (pos == (k & 3));
        pos = race_ws_mask(b + 1 + k, sizeof(a) - k, rfc_mask, pos);
        good = good && pos == (sizeof(a) & 3)
               && memcmp(b + 1, ref, sizeof(a)) == 0;
    }

    ok(good, "mask cut at every position continues from pos");

    good = 1;

    for (k = 0; k < 4 && good; k++) {
        memcpy(b, a, sizeof(a));
        race_ws_mask(b, sizeof(a), rfc_mask, (unsigned) k);

        for (i = 0; i < sizeof(a); i++) {
            good = good && b[i] == (a[i] ^ rfc_mask[(i + k) & 3]);
        }
    }

    ok(good, "mask starting at each offset");

    memcpy(b, "xyz", 3);
    ok(race_ws_mask(b, 0, rfc_mask, 3) == 3 && memcmp(b, "xyz", 3) == 0,
       "empty mask keeps pos");
}


static void
test_handshake(void)
{
    size_t   i;
    uint8_t  out[RACE_WS_ACCEPT_LEN + 1];

    static const struct {
        const char  *value;
        const char  *token;
        int          want;
    } tok[] = {
        { "Upgrade", "upgrade", 1 },
        { "upgrade", "Upgrade", 1 },
        { "keep-alive, Upgrade", "upgrade", 1 },
        { "keep-alive,Upgrade", "upgrade", 1 },
        { "Upgrade, keep-alive", "upgrade", 1 },
        { " \tUpgrade\t ,", "upgrade", 1 },
        { ",, upgrade ,,", "upgrade", 1 },
        { "WebSocket", "websocket", 1 },
        { "keep-alive", "upgrade", 0 },
        { "Upgrades", "upgrade", 0 },
        { "xupgrade", "upgrade", 0 },
        { "Upgrade2, keep-alive", "upgrade", 0 },
        { "up grade", "upgrade", 0 },
        { "keep-alive, upgrad", "upgrade", 0 },
        { "keep-alive, upgradf", "upgrade", 0 },
        { "websocked", "websocket", 0 },
        { "", "upgrade", 0 },
        { " , ", "upgrade", 0 },
        { "upgrade", "", 0 },
    };

    static const struct {
        const char  *key;
        int          want;
        const char  *name;
    } keys[] = {
        { "dGhlIHNhbXBsZSBub25jZQ==", 1, "rfc example" },
        { "x3JJHMbDL1EzLkh9GBhXDw==", 1, "another key" },
        { "AAAAAAAAAAAAAAAAAAAAAA==", 1, "all zero bytes" },
        { "/+/+/+/+/+/+/+/+/+/+/w==", 1, "+ and /" },
        { "dGhlIHNhbXBsZSBub25jZQ=", 0, "23 characters" },
        { "dGhlIHNhbXBsZSBub25jZQ===", 0, "25 characters" },
        { "dGhlIHNhbXBsZSBub25jZQAA", 0, "no padding" },
        { "dGhlIHNhbXBsZSBub25jZQ=A", 0, "half padding" },
        { "dGhlIHNhbXBsZSBub25jZWU=", 0, "17 bytes" },
        { "dGhlIHNhbXBsZSBub25j", 0, "15 bytes" },
        { "dGhlIHNhbXBs=SBub25jZQ==", 0, "= inside" },
        { "dGhlIHNhbXBsZSBub25jZ*==", 0, "bad character" },
        { "dGhlIHNhbXBsZSBub25jZ-==", 0, "base64url character" },
        { " dGhlIHNhbXBsZSBub25jZQ==", 0, "leading space" },
        { "", 0, "empty" },
    };

    race_ws_accept((const uint8_t *) "dGhlIHNhbXBsZSBub25jZQ==", 24, out);
    out[RACE_WS_ACCEPT_LEN] = '\0';
    is_str((char *) out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
           "accept: rfc example");

    race_ws_accept((const uint8_t *) "x3JJHMbDL1EzLkh9GBhXDw==", 24, out);
    out[RACE_WS_ACCEPT_LEN] = '\0';
    is_str((char *) out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=",
           "accept: another key");

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        ok(race_ws_key_valid((const uint8_t *) keys[i].key,
                             strlen(keys[i].key)) == keys[i].want,
           "key %s: %s", keys[i].name, keys[i].want ? "valid" : "invalid");
    }

    for (i = 0; i < sizeof(tok) / sizeof(tok[0]); i++) {
        ok(race_ws_header_has_token((const uint8_t *) tok[i].value,
                                    strlen(tok[i].value), tok[i].token)
           == tok[i].want,
           "'%s' %s token '%s'", tok[i].value,
           tok[i].want ? "has" : "has no", tok[i].token);
    }

    /* the value is not NUL-terminated: only len bytes count */

    ok(race_ws_header_has_token((const uint8_t *) "upgrade, x", 7,
                                "upgrade")
       && !race_ws_header_has_token((const uint8_t *) "upgradex", 7, "x"),
       "token matching stops at len");
}
