
/*
 * ngx_race: a growable buffer of bytes, what the cores' writers (the
 * results' JSON, CSV and GPX; the Prometheus text) append to.
 */


#ifndef _RACE_BUF_H_INCLUDED_
#define _RACE_BUF_H_INCLUDED_


#include <stddef.h>


/*
 * A growable buffer that owns its bytes: data is NUL-terminated and len
 * counts the bytes before the NUL.  Zero it to start; once an
 * allocation fails it keeps failed set and takes nothing more, so a
 * writer checks only at its end.  race_buf_free() releases it.
 */
typedef struct {
    char                   *data;
    size_t                  len;
    size_t                  cap;
    unsigned                failed:1;
} race_buf_t;

/* n bytes at the end of b */
void race_buf_add(race_buf_t *b, const char *p, size_t n);
/* empties b and clears failed, keeping its memory for the next use */
void race_buf_reset(race_buf_t *b);
void race_buf_free(race_buf_t *b);


#endif /* _RACE_BUF_H_INCLUDED_ */
