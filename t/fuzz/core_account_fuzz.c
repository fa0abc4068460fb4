
/*
 * ngx_race: libFuzzer target for the accounts core.
 *
 * in[0] % 3 picks the mode; the rest of the input is the mode's:
 *
 *   0  an email: what race_email_normalize() gives is within its
 *      buffer, obeys the rules (checked here with this file's own
 *      code), normalises to itself (idempotence), and is the same
 *      whatever room out has beyond the length, in place or not, with
 *      whitespace added around or not.
 *   1  a name: race_name_valid() agrees with race_utf8_length() and a
 *      scan for control characters written here.
 *   2  a request body, through all three parsers: whatever they accept
 *      obeys the rules for each field, within its buffer.
 */


#include <stdlib.h>
#include <string.h>

#include "race_account.h"


#define f_assert(c)  do { if (!(c)) { abort(); } } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void email(const uint8_t *s, size_t n);
static void name(const uint8_t *s, size_t n);
static void bodies(const uint8_t *s, size_t n);
static void check_email(const char *e, size_t n);
static int name_ok(const char *s, size_t n);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }

    switch (data[0] % 3) {

    case 0:
        email(data + 1, size - 1);
        break;

    case 1:
        name(data + 1, size - 1);
        break;

    default:
        bodies(data + 1, size - 1);
    }

    return 0;
}


static void
email(const uint8_t *s, size_t n)
{
    char    *in, *out, *exact, again[RACE_EMAIL_MAX + 1];
    char     padded[RACE_EMAIL_MAX + 5];
    size_t   len, len2;

    /* their own allocations of their exact sizes: ASan sees overruns */

    in = malloc(n ? n : 1);
    out = malloc(RACE_EMAIL_MAX + 1);
    f_assert(in != NULL && out != NULL);
    memcpy(in, s, n);

    len = race_email_normalize(in, n, out, RACE_EMAIL_MAX + 1);

    if (len == 0) {
        f_assert(out[0] == '\0');

        /* more room changes nothing */

        exact = malloc(n + 1);
        f_assert(exact != NULL);
        f_assert(race_email_normalize(in, n, exact, n + 1) == 0);
        free(exact);

        free(in);
        free(out);
        return;
    }

    f_assert(len <= RACE_EMAIL_MAX && len <= n && out[len] == '\0'
             && strlen(out) == len);
    check_email(out, len);

    /* idempotent */

    len2 = race_email_normalize(out, len, again, sizeof(again));
    f_assert(len2 == len && memcmp(again, out, len + 1) == 0);

    /* exactly len + 1 of room suffices, len does not */

    exact = malloc(len + 1);
    f_assert(exact != NULL);
    f_assert(race_email_normalize(in, n, exact, len + 1) == len
             && memcmp(exact, out, len + 1) == 0);
    f_assert(race_email_normalize(in, n, exact, len) == 0);
    free(exact);

    /* in place */

    len2 = race_email_normalize(in, n, in, n);

    if (len < n) {
        f_assert(len2 == len && memcmp(in, out, len + 1) == 0);

    } else {
        f_assert(len2 == 0);        /* no room for the NUL */
    }

    /* whitespace around the normalised form */

    padded[0] = ' ';
    padded[1] = '\t';
    memcpy(padded + 2, out, len);
    padded[len + 2] = '\r';
    padded[len + 3] = '\n';

    len2 = race_email_normalize(padded, len + 4, again, sizeof(again));
    f_assert(len2 == len && memcmp(again, out, len + 1) == 0);

    free(in);
    free(out);
}


static void
name(const uint8_t *s, size_t n)
{
    int    valid;
    char  *in;

    in = malloc(n ? n : 1);
    f_assert(in != NULL);
    memcpy(in, s, n);

    valid = race_name_valid(in, n);

    f_assert(valid == name_ok(in, n));

    if (valid) {
        f_assert(n <= RACE_NAME_BYTES_MAX);
    }

    free(in);
}


static void
bodies(const uint8_t *s, size_t n)
{
    int               rc;
    char             *in, err[RACE_ACCOUNT_ERR_MAX], small[8];
    race_login_t      l;
    race_signup_t     su;
    race_role_req_t   r;

    in = malloc(n ? n : 1);
    f_assert(in != NULL);
    memcpy(in, s, n);

    rc = race_signup_parse(in, n, &su, err, sizeof(err));

    if (rc == 0) {
        f_assert(su.email_len <= RACE_EMAIL_MAX
                 && su.email[su.email_len] == '\0'
                 && strlen(su.email) == su.email_len);
        check_email(su.email, su.email_len);

        f_assert(su.password_len <= RACE_PASSWORD_BYTES_MAX
                 && su.password[su.password_len] == '\0'
                 && strlen(su.password) == su.password_len);

        f_assert(su.name_len <= RACE_NAME_BYTES_MAX
                 && su.name[su.name_len] == '\0'
                 && name_ok(su.name, su.name_len));

    } else {
        f_assert(rc == -1 && err[0] != '\0'
                 && strlen(err) < sizeof(err));
    }

    rc = race_login_parse(in, n, &l, err, sizeof(err));

    if (rc == 0) {
        f_assert(l.email_len <= RACE_EMAIL_MAX
                 && strlen(l.email) == l.email_len);
        check_email(l.email, l.email_len);
        f_assert(l.password_len <= RACE_PASSWORD_BYTES_MAX
                 && strlen(l.password) == l.password_len);

    } else {
        f_assert(rc == -1 && err[0] != '\0');
    }

    rc = race_role_parse(in, n, &r, small, sizeof(small));

    if (rc == 0) {
        f_assert(race_role_valid(r.role, strlen(r.role)));

    } else {
        f_assert(rc == -1 && strlen(small) == sizeof(small) - 1);
    }

    free(in);
}


/* the rules of docs/INTERNALS.md, written again plainly */

static void
check_email(const char *e, size_t n)
{
    size_t       i, at, label, labels;
    const char  *d;

    at = n;

    for (i = 0; i < n; i++) {
        f_assert(e[i] > 0x20 && e[i] < 0x7f && !(e[i] >= 'A' && e[i] <= 'Z'));

        if (e[i] == '@') {
            f_assert(at == n);
            at = i;
        }
    }

    f_assert(at >= 1 && at <= RACE_EMAIL_LOCAL_MAX && at < n - 1);

    for (i = 0; i < at; i++) {
        f_assert(strchr("()<>[]\\,;:\"", e[i]) == NULL);
    }

    d = e + at + 1;
    label = 0;
    labels = 1;

    for (i = 0; i < n - at - 1; i++) {
        if (d[i] == '.') {
            f_assert(label > 0 && d[i - 1] != '-');
            label = 0;
            labels++;
            continue;
        }

        f_assert((d[i] >= 'a' && d[i] <= 'z') || (d[i] >= '0' && d[i] <= '9')
                 || d[i] == '-');
        f_assert(label > 0 || d[i] != '-');
        f_assert(++label <= RACE_EMAIL_LABEL_MAX);
    }

    f_assert(label > 0 && d[i - 1] != '-' && labels >= 2);
}


/* 1 to 100 code points, no C0, DEL or C1, not only spaces */

static int
name_ok(const char *s, size_t n)
{
    size_t          i, count, spaces;
    const uint8_t  *p;

    count = race_utf8_length(s, n);

    if (count == RACE_UTF8_INVALID || count == 0 || count > RACE_NAME_MAX) {
        return 0;
    }

    p = (const uint8_t *) s;
    spaces = 0;

    for (i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            return 0;
        }

        /* C1: U+0080..U+009F are C2 80..C2 9F */

        if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
        {
            return 0;
        }

        spaces += (p[i] == ' ');
    }

    return spaces != n;
}
