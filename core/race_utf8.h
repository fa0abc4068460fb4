
/*
 * ngx_race: UTF-8, strict RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF.
 *
 * A pure core.  Two readers of the same rules: an incremental
 * validator that may be fed any split of a stream (the WebSocket
 * codec's text messages and close reasons), and a decoder of one code
 * point at a time (passwords and names count and look at code points).
 */


#ifndef _RACE_UTF8_H_INCLUDED_
#define _RACE_UTF8_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* incremental validation */

#define RACE_UTF8_ACCEPT  0
#define RACE_UTF8_REJECT  1

typedef struct {
    uint32_t        state;       /* RACE_UTF8_ACCEPT at a code point edge */
    uint32_t        need;        /* continuation bytes still expected */
    uint8_t         lo;          /* allowed range of the next byte */
    uint8_t         hi;
} race_utf8_t;

void race_utf8_init(race_utf8_t *u);
/* returns RACE_UTF8_REJECT as soon as the input cannot be valid */
uint32_t race_utf8_feed(race_utf8_t *u, const uint8_t *p, size_t len);
/* complete: fed input is valid and ends on a code point edge */
int race_utf8_complete(const race_utf8_t *u);


/* one code point at a time */

#define RACE_UTF8_INVALID  ((size_t) -1)

/*
 * Decodes the code point at s[0..len) (len > 0), strict RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF.  Returns it
 * and its byte count in *n, or -1.
 */
int32_t race_utf8_decode(const uint8_t *s, size_t len, size_t *n);

/* code points in s[0..len), or RACE_UTF8_INVALID */
size_t race_utf8_length(const char *s, size_t len);


#endif /* _RACE_UTF8_H_INCLUDED_ */
