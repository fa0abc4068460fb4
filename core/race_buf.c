
/*
 * ngx_race: the growable buffer of race_buf.h.
 */


#include <stdlib.h>
#include <string.h>

#include "race_buf.h"


void
race_buf_add(race_buf_t *b, const char *p, size_t n)
{
    char    *data;
    size_t   cap;

    if (b->failed) {
        return;
    }

    if (b->len + n + 1 > b->cap) {
        cap = b->cap ? b->cap : 1024;

        while (cap < b->len + n + 1) {
            cap *= 2;
        }

        data = realloc(b->data, cap);
        if (data == NULL) {
            b->failed = 1;
            return;
        }

        b->data = data;
        b->cap = cap;
    }

    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}


void
race_buf_reset(race_buf_t *b)
{
    b->len = 0;
    b->failed = 0;

    if (b->data) {
        b->data[0] = '\0';
    }
}


void
race_buf_free(race_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
