
/*
 * ngx_race: libFuzzer target for the password core's list and policy.
 *
 * Hashing is far too slow to fuzz (19 MiB and tens of milliseconds a
 * run); what takes outside bytes here is the common-password list (a
 * file) and the policy (a password).
 *
 * The input is a list file; its last line (after the last LF, or all of
 * it) is also the candidate password.  Checked against models written
 * here: the list is sorted, unique, lower-cased, without comments,
 * empty lines or line ends, and holds every line it should;
 * race_password_list_has() agrees with a linear search;
 * race_utf8_length() agrees with a validator written from the table of
 * well-formed byte sequences in the Unicode standard (3.9, table 3-7);
 * and the policy's answer follows from those.
 */


#include <stdlib.h>
#include <string.h>

#include "race_password.h"


#define f_assert(c)  do { if (!(c)) { abort(); } } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lower_eq(const char *a, const char *b, size_t n);
static int linear_has(const race_password_list_t *list, const char *s,
    size_t n);
static size_t utf8_count(const uint8_t *s, size_t n);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                    c;
    char                  *in, *up;
    size_t                 i, j, start, end, len, count;
    const char            *reason;
    race_password_list_t   list;
    race_password_entry_t  *e;

    in = malloc(size ? size : 1);
    f_assert(in != NULL);
    memcpy(in, data, size);

    f_assert(race_password_list_load(in, size, &list) == 0);

    /* the list's own shape */

    for (i = 0; i < list.n; i++) {
        e = &list.entries[i];

        f_assert(e->len > 0 && e->s[0] != '#' && e->s[e->len] == '\0'
                 && memchr(e->s, '\n', e->len) == NULL);

        for (j = 0; j < e->len; j++) {
            f_assert(!(e->s[j] >= 'A' && e->s[j] <= 'Z'));
        }

        if (i > 0) {
            len = e->len < e[-1].len ? e->len : e[-1].len;
            c = memcmp(e[-1].s, e->s, len);
            f_assert(c < 0 || (c == 0 && e[-1].len < e->len));
        }

        f_assert(race_password_list_has(&list, e->s, e->len));
    }

    /* every line that is not a comment or empty is in, upper-cased too */

    up = malloc(size ? size : 1);
    f_assert(up != NULL);

    for (start = 0; start < size; start = end + 1) {
        for (end = start; end < size && in[end] != '\n'; end++) {
            /* void */
        }

        len = end - start;

        if (len > 0 && in[start + len - 1] == '\r') {
            len--;
        }

        if (len == 0 || in[start] == '#') {
            continue;
        }

        for (j = 0; j < len; j++) {
            up[j] = in[start + j];

            if (up[j] >= 'a' && up[j] <= 'z') {
                up[j] = (char) (up[j] - 'a' + 'A');
            }
        }

        f_assert(race_password_list_has(&list, in + start, len));
        f_assert(race_password_list_has(&list, up, len));
    }

    free(up);

    /* the candidate: the last line */

    for (start = size; start > 0 && in[start - 1] != '\n'; start--) {
        /* void */
    }

    len = size - start;

    f_assert(race_password_list_has(&list, in + start, len)
             == linear_has(&list, in + start, len));

    count = utf8_count((const uint8_t *) in + start, len);
    f_assert(race_utf8_length(in + start, len) == count);
    f_assert(race_utf8_length(in, size)
             == utf8_count((const uint8_t *) in, size));

    reason = race_password_check_policy(in + start, len, &list);

    if (count == RACE_UTF8_INVALID) {
        f_assert(reason != NULL && strstr(reason, "UTF-8") != NULL);

    } else if (count < RACE_PASSWORD_MIN) {
        f_assert(reason != NULL && strstr(reason, "at least") != NULL);

    } else if (count > RACE_PASSWORD_MAX) {
        f_assert(reason != NULL && strstr(reason, "at most") != NULL);

    } else if (linear_has(&list, in + start, len)) {
        f_assert(reason != NULL && strstr(reason, "common") != NULL);

    } else {
        f_assert(reason == NULL);
    }

    race_password_list_free(&list);
    f_assert(list.n == 0 && list.entries == NULL && list.data == NULL);

    free(in);

    return 0;
}


/* a[0..n) lower-cased ASCII-wise equals b[0..n), b lower-case already */

static int
lower_eq(const char *a, const char *b, size_t n)
{
    size_t  i;
    char    c;

    for (i = 0; i < n; i++) {
        c = a[i];

        if (c >= 'A' && c <= 'Z') {
            c = (char) (c - 'A' + 'a');
        }

        if (c != b[i]) {
            return 0;
        }
    }

    return 1;
}


static int
linear_has(const race_password_list_t *list, const char *s, size_t n)
{
    size_t  i;

    for (i = 0; i < list->n; i++) {
        if (list->entries[i].len == n
            && lower_eq(s, list->entries[i].s, n))
        {
            return 1;
        }
    }

    return 0;
}


/* Unicode 3.9 table 3-7, row by row */

static size_t
utf8_count(const uint8_t *s, size_t n)
{
    size_t   i, j, count, k;
    uint8_t  lo, hi;

    count = 0;
    i = 0;

    while (i < n) {
        lo = 0x80;
        hi = 0xbf;

        if (s[i] <= 0x7f) {
            k = 0;

        } else if (s[i] >= 0xc2 && s[i] <= 0xdf) {
            k = 1;

        } else if (s[i] == 0xe0) {
            k = 2;
            lo = 0xa0;

        } else if ((s[i] >= 0xe1 && s[i] <= 0xec) || s[i] == 0xee
                   || s[i] == 0xef)
        {
            k = 2;

        } else if (s[i] == 0xed) {
            k = 2;
            hi = 0x9f;

        } else if (s[i] == 0xf0) {
            k = 3;
            lo = 0x90;

        } else if (s[i] >= 0xf1 && s[i] <= 0xf3) {
            k = 3;

        } else if (s[i] == 0xf4) {
            k = 3;
            hi = 0x8f;

        } else {
            return RACE_UTF8_INVALID;
        }

        if (n - i <= k) {
            return RACE_UTF8_INVALID;       /* cut short */
        }

        /* the second byte has the row's range, the others 80..BF */

        if (k > 0 && (s[i + 1] < lo || s[i + 1] > hi)) {
            return RACE_UTF8_INVALID;
        }

        for (j = 2; j <= k; j++) {
            if (s[i + j] < 0x80 || s[i + j] > 0xbf) {
                return RACE_UTF8_INVALID;
            }
        }

        i += k + 1;
        count++;
    }

    return count;
}
