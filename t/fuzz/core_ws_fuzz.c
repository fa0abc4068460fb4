
/*
 * ngx_race: libFuzzer target for the RFC 6455 codec.
 *
 * Input: 4 bytes of settings, then the byte stream.
 *   in[0]  bits 0-1: max_message: none, in[1], in[1] * 64, 1 MiB
 *          bits 2-4: largest piece is 1 << n bytes
 *          bits 5-7: round trip: opcode, fin, masked
 *   in[1..3] seed of the piece lengths and of the round trip mask
 *
 * The stream is parsed with expect_masked 0 and 1, fed whole, in pieces
 * of seeded random length and, when short, a byte at a time.  The events
 * of every feed are reduced to a digest (whole messages, control frames,
 * the error) that must not depend on how the input was cut.  Each piece
 * is its own allocation of its exact size, so ASan sees any read past it.
 * Then the stream's bytes become the payload of a frame built by the
 * writer, which the reader must give back unchanged.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "race_ws.h"


#define F_INPUT_MAX    (1 << 16)
#define F_BYTES_MAX    512        /* byte at a time up to this length */


typedef struct {
    uint64_t           hash;
    unsigned           events;
    unsigned           error;     /* close code of the error, or 0 */
    const char        *reason;
    int                in_msg;
    unsigned           msg_opcode;
    size_t             msg_len;
    uint8_t           *msg;       /* the message being reassembled */
} f_digest_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void digest_add(f_digest_t *d, const void *p, size_t n);
static void digest_event(f_digest_t *d, race_ws_parser_t *p,
    race_ws_rc_e rc, race_ws_event_t *ev);
static void feed(const uint8_t *s, size_t n, int masked, uint64_t max,
    uint32_t seed, unsigned max_piece, f_digest_t *d, race_ws_parser_t *p);
static void same_state(const race_ws_parser_t *a, const race_ws_parser_t *b);
static void same_digest(const f_digest_t *a, const f_digest_t *b);
static int utf8_ok(const uint8_t *s, size_t n);
static int ref_utf8_valid(const uint8_t *s, size_t n);
static uint32_t next(uint32_t *x);
static void round_trip(const uint8_t *s, size_t n, unsigned flags,
    uint32_t seed);
static size_t put_frame(uint8_t *dst, int fin, unsigned opcode,
    const uint8_t *s, size_t len, int masked, uint32_t *x);
static void close_trip(const uint8_t *s, size_t n, uint32_t seed);


static uint8_t  msg_a[F_INPUT_MAX];
static uint8_t  msg_b[F_INPUT_MAX];


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                masked, valid;
    size_t             n, k;
    uint32_t           seed;
    uint64_t           max;
    unsigned           max_piece;
    f_digest_t         whole, cut;
    uint8_t            accept[RACE_WS_ACCEPT_LEN];
    race_utf8_t        u;
    const uint8_t     *s;
    race_ws_parser_t   pw, pc;

    if (size < 4 || size - 4 > F_INPUT_MAX) {
        return 0;
    }

    s = data + 4;
    n = size - 4;
    seed = ((uint32_t) data[1] << 16) | ((uint32_t) data[2] << 8) | data[3];
    max_piece = 1u << ((data[0] >> 2) & 7);

    switch (data[0] & 3) {
    case 0:
        max = 0;
        break;
    case 1:
        max = data[1];
        break;
    case 2:
        max = (uint64_t) data[1] * 64;
        break;
    default:
        max = 1 << 20;
        break;
    }

    for (masked = 0; masked < 2; masked++) {
        whole.msg = msg_a;
        feed(s, n, masked, max, 0, 0, &whole, &pw);

        cut.msg = msg_b;
        feed(s, n, masked, max, seed, max_piece, &cut, &pc);
        same_digest(&whole, &cut);

        if (!whole.error) {
            same_state(&pw, &pc);
        }

        if (n <= F_BYTES_MAX) {
            cut.msg = msg_b;
            feed(s, n, masked, max, seed, 1, &cut, &pc);
            same_digest(&whole, &cut);

            if (!whole.error) {
                same_state(&pw, &pc);
            }
        }
    }

    /* the validator agrees with a reference, fed whole or cut */

    valid = ref_utf8_valid(s, n);

    if (utf8_ok(s, n) != valid) {
        abort();
    }

    k = n ? seed % (n + 1) : 0;
    race_utf8_init(&u);
    race_utf8_feed(&u, s, k);

    if ((race_utf8_feed(&u, s + k, n - k) != RACE_UTF8_REJECT
         && race_utf8_complete(&u)) != valid)
    {
        abort();
    }

    round_trip(s, n, data[0] >> 5, seed);
    close_trip(s, n, seed);

    /* the handshake helpers on any bytes: mostly for memory safety */

    (void) race_ws_header_has_token(s, n, "upgrade");

    if (race_ws_key_valid(s, n)) {
        race_ws_accept(s, n, accept);

        if (accept[RACE_WS_ACCEPT_LEN - 1] != '=') {
            abort();
        }
    }

    return 0;
}


/* FNV-1a, 64 bits */

static void
digest_add(f_digest_t *d, const void *p, size_t n)
{
    size_t          i;
    const uint8_t  *b;

    b = p;

    for (i = 0; i < n; i++) {
        d->hash = (d->hash ^ b[i]) * 0x100000001b3ULL;
    }
}


static void
digest_event(f_digest_t *d, race_ws_parser_t *p, race_ws_rc_e rc,
    race_ws_event_t *ev)
{
    uint8_t  tag;

    switch (rc) {

    case RACE_WS_DATA:
        if (ev->opcode != RACE_WS_OP_TEXT && ev->opcode != RACE_WS_OP_BINARY)
        {
            abort();
        }

        if (ev->first != !d->in_msg) {
            abort();
        }

        if (ev->first) {
            d->in_msg = 1;
            d->msg_opcode = ev->opcode;
            d->msg_len = 0;

        } else if (ev->opcode != d->msg_opcode) {
            abort();
        }

        if (d->msg_len + ev->len > F_INPUT_MAX) {
            abort();
        }

        if (ev->len) {
            memcpy(d->msg + d->msg_len, ev->data, ev->len);
            d->msg_len += ev->len;
        }

        if (!ev->fin) {
            return;
        }

        if (ev->opcode == RACE_WS_OP_TEXT
            && !ref_utf8_valid(d->msg, d->msg_len))
        {
            abort();
        }

        d->in_msg = 0;

        tag = (uint8_t) ev->opcode;
        digest_add(d, &tag, 1);
        digest_add(d, &d->msg_len, sizeof(size_t));
        digest_add(d, d->msg, d->msg_len);
        d->events++;
        return;

    case RACE_WS_CONTROL:
        if (ev->opcode != RACE_WS_OP_CLOSE && ev->opcode != RACE_WS_OP_PING
            && ev->opcode != RACE_WS_OP_PONG)
        {
            abort();
        }

        if (ev->len > RACE_WS_CONTROL_MAX || ev->data < p->ctl
            || ev->data + ev->len > p->ctl + RACE_WS_CONTROL_MAX)
        {
            abort();
        }

        if (ev->opcode == RACE_WS_OP_CLOSE) {
            if (ev->code == RACE_WS_CLOSE_NO_STATUS ? ev->len != 0
                : !race_ws_close_code_valid(ev->code))
            {
                abort();
            }

            if (!utf8_ok(ev->data, ev->len)) {
                abort();
            }
        }

        tag = (uint8_t) ev->opcode;
        digest_add(d, &tag, 1);
        digest_add(d, &ev->code, sizeof(ev->code));
        digest_add(d, &ev->len, sizeof(size_t));
        digest_add(d, ev->data, ev->len);
        d->events++;
        return;

    case RACE_WS_ERROR:
        if (ev->code != RACE_WS_CLOSE_PROTOCOL
            && ev->code != RACE_WS_CLOSE_BAD_DATA
            && ev->code != RACE_WS_CLOSE_TOO_BIG)
        {
            abort();
        }

        if (ev->reason == NULL) {
            abort();
        }

        /* a message cut by the error is dropped, as the caller does */

        d->error = ev->code;
        d->reason = ev->reason;
        return;

    default:
        abort();
    }
}


/* max_piece 0: whole */

static void
feed(const uint8_t *s, size_t n, int masked, uint64_t max, uint32_t seed,
    unsigned max_piece, f_digest_t *d, race_ws_parser_t *p)
{
    size_t            start, plen, off, used;
    uint8_t          *piece;
    uint32_t          x;
    race_ws_rc_e      rc;
    race_ws_event_t   ev;

    d->hash = 0xcbf29ce484222325ULL;
    d->events = 0;
    d->error = 0;
    d->reason = NULL;
    d->in_msg = 0;
    d->msg_len = 0;

    race_ws_parser_init(p, max, masked);

    x = seed | 1;
    start = 0;

    do {
        if (max_piece == 0) {
            plen = n;

        } else {
            /* empty pieces too: a feed of 0 bytes must be harmless */
            plen = next(&x) % (max_piece + 1);

            if (plen > n - start) {
                plen = n - start;
            }
        }

        piece = malloc(plen ? plen : 1);
        if (piece == NULL) {
            abort();
        }

        memcpy(piece, s + start, plen);
        off = 0;

        for ( ;; ) {
            rc = race_ws_parse(p, piece + off, plen - off, &used, &ev);

            if (used > plen - off) {
                abort();
            }

            if (rc == RACE_WS_AGAIN) {
                if (used != plen - off) {
                    abort();
                }

                break;
            }

            if (used == 0) {
                abort();
            }

            if (rc == RACE_WS_DATA
                && (ev.data < piece + off || ev.len > used
                    || ev.data + ev.len > piece + off + used))
            {
                abort();
            }

            digest_event(d, p, rc, &ev);
            off += used;

            if (rc == RACE_WS_ERROR) {
                /* no event after an error, only the error again */

                rc = race_ws_parse(p, piece + off, plen - off, &used, &ev);

                if (rc != RACE_WS_ERROR || used != 0
                    || ev.code != d->error || ev.reason != d->reason)
                {
                    abort();
                }

                free(piece);
                return;
            }
        }

        free(piece);
        start += plen;

    } while (start < n);
}


/* after the same input without an error, the parsers must be alike */

static void
same_state(const race_ws_parser_t *a, const race_ws_parser_t *b)
{
    if (a->state != b->state
        || a->hdr_need != b->hdr_need
        || a->hdr_have != b->hdr_have
        || memcmp(a->hdr, b->hdr, a->hdr_have) != 0
        || a->fin != b->fin
        || a->masked != b->masked
        || a->in_message != b->in_message
        || a->first_chunk != b->first_chunk
        || a->opcode != b->opcode
        || a->msg_opcode != b->msg_opcode
        || a->mask_pos != b->mask_pos
        || a->remain != b->remain
        || a->msg_len != b->msg_len
        || a->utf8.state != b->utf8.state
        || a->utf8.need != b->utf8.need
        || a->ctl_len != b->ctl_len
        || memcmp(a->ctl, b->ctl, a->ctl_len) != 0)
    {
        abort();
    }
}


static void
same_digest(const f_digest_t *a, const f_digest_t *b)
{
    if (a->hash != b->hash || a->events != b->events
        || a->error != b->error || a->reason != b->reason)
    {
        abort();
    }
}


static int
utf8_ok(const uint8_t *s, size_t n)
{
    race_utf8_t  u;

    race_utf8_init(&u);

    return race_utf8_feed(&u, s, n) != RACE_UTF8_REJECT
           && race_utf8_complete(&u);
}


/*
 * RFC 3629 stated a second way, to check race_utf8 against: decode each
 * code point, reject malformed, overlong, surrogate and above U+10FFFF.
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


static uint32_t
next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;

    return *x;
}


/*
 * The stream as the payload of a message written by the writer: a data
 * message in two fragments with a ping between them, or one control
 * frame; every frame has its own mask.  The reader must give it back.
 */

static void
round_trip(const uint8_t *s, size_t n, unsigned flags, uint32_t seed)
{
    int                fin, masked, bad_text, pinged;
    size_t             len, k, off, end, used, got;
    uint8_t           *buf;
    unsigned           opcode;
    uint32_t           x;
    race_utf8_t        u;
    race_ws_rc_e       rc;
    race_ws_event_t    ev;
    race_ws_parser_t   p;

    static const unsigned  ops[4] = {
        RACE_WS_OP_TEXT, RACE_WS_OP_BINARY, RACE_WS_OP_PING, RACE_WS_OP_PONG
    };

    opcode = ops[flags & 3];
    masked = (flags >> 2) & 1;
    x = seed | 1;

    len = n;

    if ((opcode & 0x8) && len > RACE_WS_CONTROL_MAX) {
        len = RACE_WS_CONTROL_MAX;
    }

    buf = malloc(3 * RACE_WS_HEADER_MAX + len + 3);
    if (buf == NULL) {
        abort();
    }

    if (opcode & 0x8) {
        fin = 1;
        k = len;
        end = put_frame(buf, 1, opcode, s, len, masked, &x);

    } else {
        fin = next(&x) & 1;
        k = len ? next(&x) % (len + 1) : 0;
        end = put_frame(buf, 0, opcode, s, k, masked, &x);
        end += put_frame(buf + end, 1, RACE_WS_OP_PING, s, k < 3 ? k : 3,
                         masked, &x);
        end += put_frame(buf + end, fin, RACE_WS_OP_CONT, s + k, len - k,
                         masked, &x);
    }

    /* a final text message must be valid, an open one not yet wrong */

    bad_text = 0;

    if (opcode == RACE_WS_OP_TEXT) {
        race_utf8_init(&u);

        if (race_utf8_feed(&u, s, len) == RACE_UTF8_REJECT
            || (fin && !race_utf8_complete(&u)))
        {
            bad_text = 1;
        }
    }

    race_ws_parser_init(&p, 0, masked);

    off = 0;
    got = 0;
    pinged = 0;

    for ( ;; ) {
        rc = race_ws_parse(&p, buf + off, end - off, &used, &ev);
        off += used;

        if (rc == RACE_WS_AGAIN) {
            break;
        }

        if (rc == RACE_WS_ERROR) {
            if (!bad_text || ev.code != RACE_WS_CLOSE_BAD_DATA) {
                abort();
            }

            free(buf);
            return;
        }

        if (rc == RACE_WS_CONTROL && !(opcode & 0x8)) {
            /* the ping between the fragments */

            if (pinged || got != k || ev.opcode != RACE_WS_OP_PING
                || ev.len != (k < 3 ? k : 3) || memcmp(ev.data, s, ev.len))
            {
                abort();
            }

            pinged = 1;
            continue;
        }

        if (ev.opcode != opcode || got + ev.len > len
            || memcmp(ev.data, s + got, ev.len) != 0)
        {
            abort();
        }

        got += ev.len;

        if (rc == RACE_WS_CONTROL || ev.fin) {
            break;
        }
    }

    if (bad_text || got != len || off != end
        || (!(opcode & 0x8) && !pinged))
    {
        abort();
    }

    free(buf);
}


/* one frame from the writer, with a fresh mask; returns its size */

static size_t
put_frame(uint8_t *dst, int fin, unsigned opcode, const uint8_t *s,
    size_t len, int masked, uint32_t *x)
{
    size_t    h, k;
    uint8_t   mask[4], *copy;
    unsigned  pos;

    mask[0] = (uint8_t) next(x);
    mask[1] = (uint8_t) next(x);
    mask[2] = (uint8_t) next(x);
    mask[3] = (uint8_t) next(x);

    h = race_ws_frame_header(dst, fin, opcode, len, masked ? mask : NULL);

    if (h != (size_t) ((len < 126 ? 2 : (len < 65536 ? 4 : 10))
                       + (masked ? 4 : 0)))
    {
        abort();
    }

    memcpy(dst + h, s, len);

    if (!masked) {
        return h + len;
    }

    /* masked in two calls, cut at a random place, is masked once */

    k = len ? next(x) % (len + 1) : 0;
    pos = race_ws_mask(dst + h, k, mask, 0);
    pos = race_ws_mask(dst + h + k, len - k, mask, pos);

    if (pos != (len & 3)) {
        abort();
    }

    copy = malloc(len ? len : 1);
    if (copy == NULL) {
        abort();
    }

    memcpy(copy, s, len);
    race_ws_mask(copy, len, mask, 0);

    if (memcmp(copy, dst + h, len) != 0) {
        abort();
    }

    free(copy);

    return h + len;
}


/* the stream as a close reason: cut to fit, valid, read back */

static void
close_trip(const uint8_t *s, size_t n, uint32_t seed)
{
    size_t             len, h, used;
    uint8_t            pl[RACE_WS_CONTROL_MAX], frame[RACE_WS_HEADER_MAX
                                                     + RACE_WS_CONTROL_MAX];
    uint16_t           code;
    race_ws_rc_e       rc;
    race_ws_event_t    ev;
    race_ws_parser_t   p;

    code = (uint16_t) (3000 + seed % 2000);

    len = race_ws_close_payload(pl, code, (const char *) s, n);

    if (len < 2 || len > RACE_WS_CONTROL_MAX || !utf8_ok(pl + 2, len - 2)
        || memcmp(pl + 2, s, len - 2) != 0)
    {
        abort();
    }

    h = race_ws_frame_header(frame, 1, RACE_WS_OP_CLOSE, len, NULL);
    memcpy(frame + h, pl, len);

    race_ws_parser_init(&p, 0, 0);
    rc = race_ws_parse(&p, frame, h + len, &used, &ev);

    if (rc != RACE_WS_CONTROL || used != h + len || ev.code != code
        || ev.len != len - 2 || memcmp(ev.data, s, ev.len) != 0)
    {
        abort();
    }
}
