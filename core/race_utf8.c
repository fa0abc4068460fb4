
/*
 * ngx_race: UTF-8, strict RFC 3629.
 */


#include <stdint.h>
#include <string.h>

#include "race_utf8.h"


/* race_utf8_t.state inside a multi-byte sequence */
#define RACE_UTF8_MORE       2


void
race_utf8_init(race_utf8_t *u)
{
    u->state = RACE_UTF8_ACCEPT;
    u->need = 0;
    u->lo = 0x80;
    u->hi = 0xbf;
}


uint32_t
race_utf8_feed(race_utf8_t *u, const uint8_t *p, size_t len)
{
    uint8_t         c;
    uint64_t        w;
    const uint8_t  *end;

    if (u->state == RACE_UTF8_REJECT) {
        return RACE_UTF8_REJECT;
    }

    end = p + len;

    while (p < end) {

        if (u->need) {
            c = *p++;

            if (c < u->lo || c > u->hi) {
                u->state = RACE_UTF8_REJECT;
                return RACE_UTF8_REJECT;
            }

            u->need--;
            u->lo = 0x80;
            u->hi = 0xbf;
            continue;
        }

        /* fixes are JSON, mostly ASCII: skip it a word at a time */

        while (end - p >= 8) {
            memcpy(&w, p, 8);

            if (w & 0x8080808080808080ULL) {
                break;
            }

            p += 8;
        }

        if (p == end) {
            break;
        }

        c = *p++;

        if (c < 0x80) {
            continue;
        }

        /*
         * A lead byte.  The first continuation byte's range is narrowed
         * where RFC 3629 forbids the rest: E0 and F0 would be overlong,
         * ED a surrogate, F4 beyond U+10FFFF.  C0, C1 (always overlong),
         * F5..FF and a stray continuation byte never start a sequence.
         */

        u->lo = 0x80;
        u->hi = 0xbf;

        if (c < 0xc2) {
            u->state = RACE_UTF8_REJECT;
            return RACE_UTF8_REJECT;

        } else if (c < 0xe0) {
            u->need = 1;

        } else if (c < 0xf0) {
            u->need = 2;

            if (c == 0xe0) {
                u->lo = 0xa0;

            } else if (c == 0xed) {
                u->hi = 0x9f;
            }

        } else if (c < 0xf5) {
            u->need = 3;

            if (c == 0xf0) {
                u->lo = 0x90;

            } else if (c == 0xf4) {
                u->hi = 0x8f;
            }

        } else {
            u->state = RACE_UTF8_REJECT;
            return RACE_UTF8_REJECT;
        }
    }

    u->state = u->need ? RACE_UTF8_MORE : RACE_UTF8_ACCEPT;

    return u->state;
}


int
race_utf8_complete(const race_utf8_t *u)
{
    return u->state == RACE_UTF8_ACCEPT;
}


int32_t
race_utf8_decode(const uint8_t *s, size_t len, size_t *n)
{
    size_t    i, more;
    uint8_t   c;
    uint32_t  cp, min;

    if (len == 0) {
        return -1;
    }

    c = s[0];

    if (c < 0x80) {
        *n = 1;
        return c;
    }

    /* 0xc0, 0xc1 could only start overlong forms; 0xf5.. go too far */

    if (c >= 0xc2 && c <= 0xdf) {
        more = 1;
        cp = c & 0x1f;
        min = 0x80;

    } else if (c >= 0xe0 && c <= 0xef) {
        more = 2;
        cp = c & 0x0f;
        min = 0x800;

    } else if (c >= 0xf0 && c <= 0xf4) {
        more = 3;
        cp = c & 0x07;
        min = 0x10000;

    } else {
        return -1;
    }

    if (len <= more) {
        return -1;
    }

    for (i = 1; i <= more; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return -1;
        }

        cp = (cp << 6) | (s[i] & 0x3f);
    }

    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return -1;
    }

    *n = more + 1;

    return (int32_t) cp;
}


size_t
race_utf8_length(const char *s, size_t len)
{
    size_t          i, n, count;
    const uint8_t  *p;

    if (s == NULL) {
        return len == 0 ? 0 : RACE_UTF8_INVALID;
    }

    p = (const uint8_t *) s;
    count = 0;

    for (i = 0; i < len; i += n) {
        if (race_utf8_decode(p + i, len - i, &n) < 0) {
            return RACE_UTF8_INVALID;
        }

        count++;
    }

    return count;
}
