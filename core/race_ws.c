
/*
 * ngx_race: RFC 6455 WebSocket codec.
 *
 * The reader is a byte-driven state machine:
 *
 *   HEADER   collects the 2..14 header bytes into p->hdr; the first two
 *            bytes are checked as soon as they are in (reserved bits,
 *            opcode, mask bit, fragmentation), the length and the mask
 *            once the whole header is in (top length bit, control frame
 *            size, message size limit);
 *   DATA     hands out payload of TEXT, BINARY and CONT frames as chunks
 *            of the caller's buffer, unmasked in place and, for text,
 *            run through the incremental UTF-8 validator;
 *   CONTROL  copies a control frame's payload into p->ctl, since the
 *            caller's buffer may end before the frame does;
 *   FAILED   sticky after an error: every later call repeats it.
 *
 * Every event consumes at least one byte, so a caller that loops until
 * RACE_WS_AGAIN always makes progress.
 */


#include <string.h>

#include <openssl/evp.h>

#include "race_base64.h"
#include "race_ws.h"


#define RACE_WS_ST_HEADER    0
#define RACE_WS_ST_DATA      1
#define RACE_WS_ST_CONTROL   2
#define RACE_WS_ST_FAILED    3

#define RACE_WS_GUID         "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define RACE_WS_SHA1_LEN     20
#define RACE_WS_REASON_MAX   (RACE_WS_CONTROL_MAX - 2)


static race_ws_rc_e race_ws_fail(race_ws_parser_t *p, race_ws_event_t *ev,
    uint16_t code, const char *reason);
static race_ws_rc_e race_ws_head(race_ws_parser_t *p, race_ws_event_t *ev);
static race_ws_rc_e race_ws_head_done(race_ws_parser_t *p,
    race_ws_event_t *ev);
static race_ws_rc_e race_ws_data(race_ws_parser_t *p, uint8_t *data,
    size_t n, race_ws_event_t *ev);
static race_ws_rc_e race_ws_control(race_ws_parser_t *p,
    race_ws_event_t *ev);
static uint8_t race_ws_lower(uint8_t c);


void
race_ws_parser_init(race_ws_parser_t *p, uint64_t max_message,
    int expect_masked)
{
    memset(p, 0, sizeof(race_ws_parser_t));

    p->max_message = max_message;
    p->expect_masked = expect_masked ? 1 : 0;
    p->state = RACE_WS_ST_HEADER;
    p->hdr_need = 2;

    race_utf8_init(&p->utf8);
}


race_ws_rc_e
race_ws_parse(race_ws_parser_t *p, uint8_t *buf, size_t len, size_t *used,
    race_ws_event_t *ev)
{
    size_t        pos, n;
    race_ws_rc_e  rc;

    memset(ev, 0, sizeof(race_ws_event_t));

    pos = 0;

    for ( ;; ) {

        switch (p->state) {

        case RACE_WS_ST_HEADER:

            while (p->hdr_have < p->hdr_need) {

                if (pos == len) {
                    *used = pos;
                    return RACE_WS_AGAIN;
                }

                p->hdr[p->hdr_have++] = buf[pos++];

                /* the first two bytes tell how long the header is */

                if (p->hdr_have == 2
                    && race_ws_head(p, ev) == RACE_WS_ERROR)
                {
                    *used = pos;
                    return RACE_WS_ERROR;
                }
            }

            if (race_ws_head_done(p, ev) == RACE_WS_ERROR) {
                *used = pos;
                return RACE_WS_ERROR;
            }

            /* a zero-length frame yields its event in this same call */

            break;

        case RACE_WS_ST_DATA:

            n = len - pos;

            if ((uint64_t) n > p->remain) {
                n = (size_t) p->remain;
            }

            if (n == 0 && p->remain) {
                *used = pos;
                return RACE_WS_AGAIN;
            }

            rc = race_ws_data(p, buf + pos, n, ev);
            pos += n;

            if (rc == RACE_WS_AGAIN) {
                /* an empty non-final frame: nothing to tell */
                break;
            }

            *used = pos;
            return rc;

        case RACE_WS_ST_CONTROL:

            n = len - pos;

            if ((uint64_t) n > p->remain) {
                n = (size_t) p->remain;
            }

            if (n) {
                memcpy(p->ctl + p->ctl_len, buf + pos, n);

                if (p->masked) {
                    p->mask_pos = race_ws_mask(p->ctl + p->ctl_len, n,
                                               p->mask, p->mask_pos);
                }

                p->ctl_len += n;
                p->remain -= n;
                pos += n;
            }

            *used = pos;

            if (p->remain) {
                return RACE_WS_AGAIN;
            }

            return race_ws_control(p, ev);

        default: /* RACE_WS_ST_FAILED */
            ev->code = p->err_code;
            ev->reason = p->err_reason;
            *used = 0;
            return RACE_WS_ERROR;
        }
    }
}


static race_ws_rc_e
race_ws_fail(race_ws_parser_t *p, race_ws_event_t *ev, uint16_t code,
    const char *reason)
{
    memset(ev, 0, sizeof(race_ws_event_t));

    p->state = RACE_WS_ST_FAILED;
    p->err_code = code;
    p->err_reason = reason;

    ev->code = code;
    ev->reason = reason;

    return RACE_WS_ERROR;
}


/* the first two header bytes are in p->hdr */

static race_ws_rc_e
race_ws_head(race_ws_parser_t *p, race_ws_event_t *ev)
{
    unsigned  len7;

    if (p->hdr[0] & 0x70) {
        /* no extension is ever negotiated */
        return race_ws_fail(p, ev, RACE_WS_CLOSE_PROTOCOL,
                            "reserved bits set");
    }

    p->fin = p->hdr[0] >> 7;
    p->opcode = p->hdr[0] & 0x0f;
    p->masked = p->hdr[1] >> 7;

    switch (p->opcode) {

    case RACE_WS_OP_CONT:
        if (!p->in_message) {
            return race_ws_fail(p, ev, RACE_WS_CLOSE_PROTOCOL,
                                "continuation without a message");
        }
        break;

    case RACE_WS_OP_TEXT:
    case RACE_WS_OP_BINARY:
        if (p->in_message) {
            return race_ws_fail(p, ev, RACE_WS_CLOSE_PROTOCOL,
                                "message not finished");
        }
        break;

    case RACE_WS_OP_CLOSE:
    case RACE_WS_OP_PING:
    case RACE_WS_OP_PONG:
        if (!p->fin) {
            return race_ws_fail(p, ev, RACE_WS_CLOSE_PROTOCOL,
                                "fragmented control frame");
        }
        break;

    default:
        return race_ws_fail(p, ev, RACE_WS_CLOSE_PROTOCOL, "unknown opcode");
    }

    if (p->masked != p->expect_masked) {
        return race_ws_fail(p, ev, RACE_WS_CLOSE_PROTOCOL,
                            p->masked ? "masked frame" : "unmasked frame");
    }

    len7 = p->hdr[1] & 0x7f;

    p->hdr_need = 2 + (len7 == 126 ? 2 : (len7 == 127 ? 8 : 0))
                  + (p->masked ? 4 : 0);

    return RACE_WS_AGAIN;
}


/* the whole header is in p->hdr */

static race_ws_rc_e
race_ws_head_done(race_ws_parser_t *p, race_ws_event_t *ev)
{
    unsigned  i, len7, off;
    uint64_t  len;

    len7 = p->hdr[1] & 0x7f;

    /* non-minimal length encodings are accepted */

    if (len7 == 126) {
        len = ((uint64_t) p->hdr[2] << 8) | p->hdr[3];
        off = 4;

    } else if (len7 == 127) {
        if (p->hdr[2] & 0x80) {
            return race_ws_fail(p, ev, RACE_WS_CLOSE_PROTOCOL,
                                "bad frame length");
        }

        len = 0;

        for (i = 2; i < 10; i++) {
            len = (len << 8) | p->hdr[i];
        }

        off = 10;

    } else {
        len = len7;
        off = 2;
    }

    if (p->masked) {
        memcpy(p->mask, p->hdr + off, 4);
    }

    p->mask_pos = 0;
    p->remain = len;
    p->hdr_have = 0;
    p->hdr_need = 2;

    if (p->opcode & 0x8) {
        if (len > RACE_WS_CONTROL_MAX) {
            return race_ws_fail(p, ev, RACE_WS_CLOSE_PROTOCOL,
                                "control frame too big");
        }

        p->ctl_len = 0;
        p->state = RACE_WS_ST_CONTROL;

        return RACE_WS_AGAIN;
    }

    if (p->opcode != RACE_WS_OP_CONT) {
        p->in_message = 1;
        p->first_chunk = 1;
        p->msg_opcode = p->opcode;
        p->msg_len = 0;
        race_utf8_init(&p->utf8);
    }

    /*
     * Checked against the declared length, so a huge frame fails before
     * its payload arrives.  msg_len never exceeds max_message.
     */

    if (p->max_message && len > p->max_message - p->msg_len) {
        return race_ws_fail(p, ev, RACE_WS_CLOSE_TOO_BIG,
                            "message too big");
    }

    p->state = RACE_WS_ST_DATA;

    return RACE_WS_AGAIN;
}


/*
 * n payload bytes of a data frame at data (n may be 0 only when the frame
 * has no payload left).  Returns RACE_WS_AGAIN when there is nothing to
 * report: an empty frame that does not end the message.
 */

static race_ws_rc_e
race_ws_data(race_ws_parser_t *p, uint8_t *data, size_t n,
    race_ws_event_t *ev)
{
    int  last;

    if (n) {
        if (p->masked) {
            p->mask_pos = race_ws_mask(data, n, p->mask, p->mask_pos);
        }

        p->remain -= n;
        p->msg_len += n;

        if (p->msg_opcode == RACE_WS_OP_TEXT
            && race_utf8_feed(&p->utf8, data, n) == RACE_UTF8_REJECT)
        {
            return race_ws_fail(p, ev, RACE_WS_CLOSE_BAD_DATA, "bad utf-8");
        }
    }

    last = (p->remain == 0 && p->fin);

    if (p->remain == 0) {
        p->state = RACE_WS_ST_HEADER;
    }

    if (n == 0 && !last) {
        return RACE_WS_AGAIN;
    }

    if (last) {
        if (p->msg_opcode == RACE_WS_OP_TEXT
            && !race_utf8_complete(&p->utf8))
        {
            return race_ws_fail(p, ev, RACE_WS_CLOSE_BAD_DATA,
                                "truncated utf-8");
        }

        p->in_message = 0;
    }

    ev->opcode = p->msg_opcode;
    ev->data = data;
    ev->len = n;
    ev->first = p->first_chunk;
    ev->fin = last;

    p->first_chunk = 0;

    return RACE_WS_DATA;
}


/* the whole control frame's payload is in p->ctl */

static race_ws_rc_e
race_ws_control(race_ws_parser_t *p, race_ws_event_t *ev)
{
    race_utf8_t  u;

    p->state = RACE_WS_ST_HEADER;

    ev->opcode = p->opcode;
    ev->data = p->ctl;
    ev->len = p->ctl_len;
    ev->fin = 1;
    ev->first = 1;

    if (p->opcode != RACE_WS_OP_CLOSE) {
        return RACE_WS_CONTROL;
    }

    if (p->ctl_len == 0) {
        ev->code = RACE_WS_CLOSE_NO_STATUS;
        return RACE_WS_CONTROL;
    }

    if (p->ctl_len == 1) {
        return race_ws_fail(p, ev, RACE_WS_CLOSE_PROTOCOL,
                            "close frame too short");
    }

    ev->code = (uint16_t) ((p->ctl[0] << 8) | p->ctl[1]);

    if (!race_ws_close_code_valid(ev->code)) {
        return race_ws_fail(p, ev, RACE_WS_CLOSE_PROTOCOL, "bad close code");
    }

    race_utf8_init(&u);

    if (race_utf8_feed(&u, p->ctl + 2, p->ctl_len - 2) == RACE_UTF8_REJECT
        || !race_utf8_complete(&u))
    {
        return race_ws_fail(p, ev, RACE_WS_CLOSE_BAD_DATA,
                            "bad utf-8 in close reason");
    }

    ev->data = p->ctl + 2;
    ev->len = p->ctl_len - 2;

    return RACE_WS_CONTROL;
}


size_t
race_ws_frame_header(uint8_t *dst, int fin, unsigned opcode, uint64_t len,
    const uint8_t *mask)
{
    int      i;
    size_t   n;
    uint8_t  mbit;

    mbit = mask ? 0x80 : 0;

    dst[0] = (uint8_t) ((fin ? 0x80 : 0) | (opcode & 0x0f));

    if (len < 126) {
        dst[1] = (uint8_t) (mbit | len);
        n = 2;

    } else if (len <= 0xffff) {
        dst[1] = mbit | 126;
        dst[2] = (uint8_t) (len >> 8);
        dst[3] = (uint8_t) len;
        n = 4;

    } else {
        dst[1] = mbit | 127;

        for (i = 0; i < 8; i++) {
            dst[2 + i] = (uint8_t) (len >> (56 - 8 * i));
        }

        n = 10;
    }

    if (mask) {
        memcpy(dst + n, mask, 4);
        n += 4;
    }

    return n;
}


unsigned
race_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], unsigned pos)
{
    size_t    i;
    uint8_t   m[8];
    uint64_t  w, mw;

    /* the mask repeated and rotated to pos, to xor a word at a time */

    for (i = 0; i < 8; i++) {
        m[i] = mask[(pos + i) & 3];
    }

    memcpy(&mw, m, 8);

    for (i = 0; len - i >= 8; i += 8) {
        memcpy(&w, data + i, 8);
        w ^= mw;
        memcpy(data + i, &w, 8);
    }

    for ( /* void */ ; i < len; i++) {
        data[i] ^= m[i & 7];
    }

    return (unsigned) ((pos + len) & 3);
}


/*
 * RACE_WS_CLOSE_NO_STATUS must never be sent, so for it the payload is
 * empty.  The reason is cut at the last code point edge that fits; an
 * invalid sequence in it ends it too, so the peer never sees bad UTF-8.
 */

size_t
race_ws_close_payload(uint8_t *dst, uint16_t code, const char *reason,
    size_t reason_len)
{
    size_t        i, n;
    race_utf8_t   u;

    if (code == RACE_WS_CLOSE_NO_STATUS) {
        return 0;
    }

    dst[0] = (uint8_t) (code >> 8);
    dst[1] = (uint8_t) code;

    race_utf8_init(&u);
    n = 0;

    for (i = 0; i < reason_len && i < RACE_WS_REASON_MAX; i++) {
        if (race_utf8_feed(&u, (const uint8_t *) reason + i, 1)
            == RACE_UTF8_REJECT)
        {
            break;
        }

        if (race_utf8_complete(&u)) {
            n = i + 1;
        }
    }

    if (n) {
        memcpy(dst + 2, reason, n);
    }

    return 2 + n;
}


int
race_ws_close_code_valid(unsigned code)
{
    /*
     * 1004 is reserved, 1005 and 1006 must not be sent, 1015 is for TLS
     * failures; 1012..1014 were registered after RFC 6455.  3000..3999
     * are IANA registered, 4000..4999 private.
     */

    return (code >= 1000 && code <= 1003)
           || (code >= 1007 && code <= 1014)
           || (code >= 3000 && code <= 4999);
}


/*
 * 22 base64 characters and "==".  The 4 pad bits in the 22nd character
 * are not checked: decoders ignore them, and so does this.
 */

int
race_ws_key_valid(const uint8_t *key, size_t len)
{
    size_t  i;

    if (len != 24 || key[22] != '=' || key[23] != '=') {
        return 0;
    }

    for (i = 0; i < 22; i++) {
        if (race_base64_value(key[i], RACE_BASE64_STD) < 0) {
            return 0;
        }
    }

    return 1;
}


/*
 * On failure (only out of memory inside libcrypto) out is filled with
 * '=', which is no client's expected value, so the handshake fails on
 * the client side instead of succeeding with a wrong key.
 */

void
race_ws_accept(const uint8_t *key, size_t len,
    uint8_t out[RACE_WS_ACCEPT_LEN])
{
    int          ok;
    unsigned     n;
    uint8_t      md[EVP_MAX_MD_SIZE];
    EVP_MD_CTX  *ctx;

    ctx = EVP_MD_CTX_new();

    if (ctx == NULL) {
        memset(out, '=', RACE_WS_ACCEPT_LEN);
        return;
    }

    n = 0;

    ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1
         && EVP_DigestUpdate(ctx, key, len) == 1
         && EVP_DigestUpdate(ctx, RACE_WS_GUID, sizeof(RACE_WS_GUID) - 1)
            == 1
         && EVP_DigestFinal_ex(ctx, md, &n) == 1
         && n == RACE_WS_SHA1_LEN;

    EVP_MD_CTX_free(ctx);

    if (!ok) {
        memset(out, '=', RACE_WS_ACCEPT_LEN);
        return;
    }

    (void) race_base64_encode((char *) out, md, RACE_WS_SHA1_LEN,
                             RACE_BASE64_STD);
}


int
race_ws_header_has_token(const uint8_t *value, size_t len,
    const char *token)
{
    size_t  i, j, start, end, tlen;

    tlen = strlen(token);

    if (tlen == 0) {
        return 0;
    }

    i = 0;

    while (i < len) {

        /* optional whitespace and empty list elements */

        while (i < len
               && (value[i] == ' ' || value[i] == '\t' || value[i] == ','))
        {
            i++;
        }

        start = i;

        while (i < len && value[i] != ',') {
            i++;
        }

        end = i;

        while (end > start
               && (value[end - 1] == ' ' || value[end - 1] == '\t'))
        {
            end--;
        }

        if (end - start != tlen) {
            continue;
        }

        for (j = 0; j < tlen; j++) {
            if (race_ws_lower(value[start + j])
                != race_ws_lower((uint8_t) token[j]))
            {
                break;
            }
        }

        if (j == tlen) {
            return 1;
        }
    }

    return 0;
}


/* ASCII only: header tokens are ASCII, and the C locale is not ours */

static uint8_t
race_ws_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t) (c | 0x20) : c;
}
