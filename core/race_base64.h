
/*
 * ngx_race: base64 (RFC 4648) in both of its alphabets.
 *
 * A pure core.  The standard alphabet with "=" padding is the
 * WebSocket handshake's (Sec-WebSocket-Key and -Accept); the URL-safe
 * one without padding is JWT's.
 */


#ifndef _RACE_BASE64_H_INCLUDED_
#define _RACE_BASE64_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


typedef enum {
    RACE_BASE64_STD = 0,    /* section 4: "+/", "=" padded */
    RACE_BASE64_URL         /* section 5: "-_", unpadded */
} race_base64_e;


/* the length race_base64_encode() writes for n bytes */
size_t race_base64_encoded_len(size_t n, race_base64_e alphabet);

/* writes src[0..len) into dst, no NUL; returns the length written */
size_t race_base64_encode(char *dst, const uint8_t *src, size_t len,
    race_base64_e alphabet);

/* the value of a character of the alphabet, 0..63, or -1 ('=' too) */
int race_base64_value(uint8_t c, race_base64_e alphabet);

/*
 * Decodes unpadded src[0..len) into dst (room for len / 4 * 3 + 2
 * bytes), its length in *dst_len.  Returns 0, or -1 for a character
 * outside the alphabet, a length no encoding has, or bits left over
 * that are not zero: each value has one spelling only.
 */
int race_base64_decode(uint8_t *dst, size_t *dst_len, const char *src,
    size_t len, race_base64_e alphabet);


#endif /* _RACE_BASE64_H_INCLUDED_ */
