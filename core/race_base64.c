
/*
 * ngx_race: base64 (RFC 4648) in both of its alphabets.
 */


#include <stdint.h>

#include "race_base64.h"


static const char  race_base64_chars[2][65] = {
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
};


size_t
race_base64_encoded_len(size_t n, race_base64_e alphabet)
{
    if (alphabet == RACE_BASE64_STD) {
        return (n + 2) / 3 * 4;
    }

    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}


size_t
race_base64_encode(char *dst, const uint8_t *src, size_t len,
    race_base64_e alphabet)
{
    char        *p;
    uint32_t     v;
    const char  *b64;

    b64 = race_base64_chars[alphabet == RACE_BASE64_URL];
    p = dst;

    while (len >= 3) {
        v = ((uint32_t) src[0] << 16) | ((uint32_t) src[1] << 8) | src[2];

        *p++ = b64[(v >> 18) & 0x3f];
        *p++ = b64[(v >> 12) & 0x3f];
        *p++ = b64[(v >> 6) & 0x3f];
        *p++ = b64[v & 0x3f];

        src += 3;
        len -= 3;
    }

    if (len) {
        v = (uint32_t) src[0] << 16;

        if (len == 2) {
            v |= (uint32_t) src[1] << 8;
        }

        *p++ = b64[(v >> 18) & 0x3f];
        *p++ = b64[(v >> 12) & 0x3f];

        if (len == 2) {
            *p++ = b64[(v >> 6) & 0x3f];

        } else if (alphabet == RACE_BASE64_STD) {
            *p++ = '=';
        }

        if (alphabet == RACE_BASE64_STD) {
            *p++ = '=';
        }
    }

    return (size_t) (p - dst);
}


int
race_base64_value(uint8_t c, race_base64_e alphabet)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == race_base64_chars[alphabet == RACE_BASE64_URL][62]) {
        return 62;
    }

    if (c == race_base64_chars[alphabet == RACE_BASE64_URL][63]) {
        return 63;
    }

    return -1;      /* '=', the other alphabet's, whitespace and the rest */
}


int
race_base64_decode(uint8_t *dst, size_t *dst_len, const char *src,
    size_t len, race_base64_e alphabet)
{
    int       v;
    size_t    i, n;
    unsigned  bits;
    uint32_t  acc;

    if (len % 4 == 1) {
        return -1;
    }

    acc = 0;
    bits = 0;
    n = 0;

    for (i = 0; i < len; i++) {
        v = race_base64_value((uint8_t) src[i], alphabet);
        if (v < 0) {
            return -1;
        }

        acc = (acc << 6) | (uint32_t) v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            dst[n++] = (uint8_t) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    /* the 2 or 4 bits left over must be zero: one spelling per value */

    if (acc != 0) {
        return -1;
    }

    *dst_len = n;

    return 0;
}
