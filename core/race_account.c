
/*
 * ngx_race: accounts (docs/INTERNALS.md, "Accounts").
 *
 * Emails are checked after normalising, so that what is checked is what
 * is stored and compared.  The rules are a deliberate subset of RFC
 * 5321: anything a phone's keyboard makes of a usual address passes,
 * and nothing that needs quoting or escaping in a Redis key, a Kafka
 * key, a log line or a MongoDB query does.
 *
 * Request bodies are parsed with duplicate keys rejected, and messages
 * name the field but never quote the body: they go back to the client
 * and into logs.
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "race_account.h"


#define race_account_space(c)                                              \
    ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\v'                \
     || (c) == '\f' || (c) == '\r')


static json_t *race_account_load(const char *json, size_t len, char *err,
    size_t err_size);
static int race_account_string(json_t *root, const char *name,
    const char **s, size_t *len, char *err, size_t err_size);
static int race_account_email(json_t *root, char *email, size_t *email_len,
    char *err, size_t err_size);
static int race_account_password(json_t *root, char *password,
    size_t *password_len, char *err, size_t err_size);
static int race_account_local(const char *s, size_t len);
static int race_account_domain(const char *s, size_t len);
static int race_account_fail(char *err, size_t err_size, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));


static const char   race_account_hex[] = "0123456789abcdef";

static const char  *race_account_roles[] = {
    "admin", "organizer", "rider", "spectator"
};

#define RACE_ACCOUNT_NROLES                                                \
    (sizeof(race_account_roles) / sizeof(race_account_roles[0]))


size_t
race_email_normalize(const char *in, size_t len, char *out, size_t out_size)
{
    size_t   i, n, at;
    uint8_t  c;

    if (out == NULL || out_size == 0) {
        return 0;
    }

    if (in == NULL) {
        len = 0;
    }

    while (len > 0 && race_account_space((uint8_t) in[0])) {
        in++;
        len--;
    }

    while (len > 0 && race_account_space((uint8_t) in[len - 1])) {
        len--;
    }

    n = len;

    if (n == 0 || n > RACE_EMAIL_MAX || n >= out_size) {
        out[0] = '\0';
        return 0;
    }

    /* forward copy: safe when out is in, since out never gets ahead */

    at = n;

    for (i = 0; i < n; i++) {
        c = (uint8_t) in[i];

        if (c >= 'A' && c <= 'Z') {
            c |= 0x20;
        }

        if (c == '@') {
            if (at != n) {
                out[0] = '\0';
                return 0;
            }

            at = i;
        }

        out[i] = (char) c;
    }

    if (at == n
        || !race_account_local(out, at)
        || !race_account_domain(out + at + 1, n - at - 1))
    {
        out[0] = '\0';
        return 0;
    }

    out[n] = '\0';

    return n;
}


int
race_name_valid(const char *name, size_t len)
{
    int      blank;
    size_t   i, n, count;
    int32_t  cp;

    if (name == NULL || len == 0) {
        return 0;
    }

    blank = 1;
    count = 0;

    for (i = 0; i < len; i += n) {
        cp = race_utf8_decode((const uint8_t *) name + i, len - i, &n);

        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
            return 0;       /* -1, bad UTF-8, included */
        }

        if (cp != ' ') {
            blank = 0;
        }

        if (++count > RACE_NAME_MAX) {
            return 0;
        }
    }

    return !blank;
}


int
race_role_valid(const char *s, size_t len)
{
    size_t  i;

    if (s == NULL) {
        return 0;
    }

    for (i = 0; i < RACE_ACCOUNT_NROLES; i++) {
        if (strlen(race_account_roles[i]) == len
            && memcmp(race_account_roles[i], s, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


int
race_user_id_generate(char out[RACE_USER_ID_LEN + 1])
{
    size_t   i;
    uint8_t  raw[RACE_USER_ID_LEN / 2];

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        out[0] = '\0';
        return -1;
    }

    for (i = 0; i < sizeof(raw); i++) {
        out[2 * i] = race_account_hex[raw[i] >> 4];
        out[2 * i + 1] = race_account_hex[raw[i] & 0x0f];
    }

    out[RACE_USER_ID_LEN] = '\0';

    return 0;
}


int
race_signup_parse(const char *json, size_t len, race_signup_t *out,
    char *err, size_t err_size)
{
    int          rc;
    size_t       n;
    json_t      *root;
    const char  *s;

    root = race_account_load(json, len, err, err_size);
    if (root == NULL) {
        return -1;
    }

    rc = -1;

    if (race_account_email(root, out->email, &out->email_len, err,
                           err_size)
        != 0
        || race_account_password(root, out->password, &out->password_len,
                                 err, err_size)
           != 0
        || race_account_string(root, "name", &s, &n, err, err_size) != 0)
    {
        goto done;
    }

    if (n > RACE_NAME_BYTES_MAX) {
        race_account_fail(err, err_size,
                          "\"name\" is too long (at most %d characters)",
                          RACE_NAME_MAX);
        goto done;
    }

    if (!race_name_valid(s, n)) {
        race_account_fail(err, err_size,
                          "\"name\" must be 1 to %d characters, not only "
                          "spaces, without control characters",
                          RACE_NAME_MAX);
        goto done;
    }

    memcpy(out->name, s, n);
    out->name[n] = '\0';
    out->name_len = n;

    rc = 0;

done:

    json_decref(root);

    return rc;
}


int
race_login_parse(const char *json, size_t len, race_login_t *out,
    char *err, size_t err_size)
{
    int      rc;
    json_t  *root;

    root = race_account_load(json, len, err, err_size);
    if (root == NULL) {
        return -1;
    }

    rc = 0;

    if (race_account_email(root, out->email, &out->email_len, err,
                           err_size)
        != 0
        || race_account_password(root, out->password, &out->password_len,
                                 err, err_size)
           != 0)
    {
        rc = -1;
    }

    json_decref(root);

    return rc;
}


int
race_role_parse(const char *json, size_t len, race_role_req_t *out,
    char *err, size_t err_size)
{
    int          rc;
    size_t       n;
    json_t      *root;
    const char  *s;

    root = race_account_load(json, len, err, err_size);
    if (root == NULL) {
        return -1;
    }

    rc = -1;

    if (race_account_string(root, "role", &s, &n, err, err_size) != 0) {
        goto done;
    }

    if (!race_role_valid(s, n)) {
        race_account_fail(err, err_size,
                          "\"role\" must be \"admin\", \"organizer\", "
                          "\"rider\" or \"spectator\"");
        goto done;
    }

    memcpy(out->role, s, n);
    out->role[n] = '\0';

    rc = 0;

done:

    json_decref(root);

    return rc;
}


/* the body as a JSON object, or NULL with err set */

static json_t *
race_account_load(const char *json, size_t len, char *err, size_t err_size)
{
    json_t        *root;
    json_error_t   e;

    if (err != NULL && err_size > 0) {
        err[0] = '\0';
    }

    if (json == NULL) {
        race_account_fail(err, err_size, "body is not valid JSON");
        return NULL;
    }

    /*
     * DECODE_ANY so that "5" is told it is not an object; jansson
     * refuses bad UTF-8, lone surrogates and \u0000 in strings
     */

    root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
                      &e);

    if (root == NULL) {
        if (json_error_code(&e) == json_error_duplicate_key) {
            race_account_fail(err, err_size, "body has a duplicate key");

        } else {
            /* the position only: e.text may quote the body */
            race_account_fail(err, err_size,
                              "body is not valid JSON (at byte %d)",
                              e.position);
        }

        return NULL;
    }

    if (!json_is_object(root)) {
        race_account_fail(err, err_size, "body must be a JSON object");
        json_decref(root);
        return NULL;
    }

    return root;
}


static int
race_account_string(json_t *root, const char *name, const char **s,
    size_t *len, char *err, size_t err_size)
{
    json_t  *v;

    v = json_object_get(root, name);

    if (v == NULL) {
        return race_account_fail(err, err_size, "\"%s\" is required", name);
    }

    if (!json_is_string(v)) {
        return race_account_fail(err, err_size, "\"%s\" must be a string",
                                 name);
    }

    *s = json_string_value(v);
    *len = json_string_length(v);

    return 0;
}


static int
race_account_email(json_t *root, char *email, size_t *email_len, char *err,
    size_t err_size)
{
    size_t       len, n;
    const char  *s;

    if (race_account_string(root, "email", &s, &len, err, err_size) != 0) {
        return -1;
    }

    n = race_email_normalize(s, len, email, RACE_EMAIL_MAX + 1);

    if (n == 0) {
        if (len > RACE_EMAIL_MAX) {
            return race_account_fail(err, err_size,
                                     "\"email\" is too long (at most %d "
                                     "characters)", RACE_EMAIL_MAX);
        }

        return race_account_fail(err, err_size,
                                 "\"email\" is not a valid address");
    }

    *email_len = n;

    return 0;
}


/* only its length: the policy is the caller's, at signup only */

static int
race_account_password(json_t *root, char *password, size_t *password_len,
    char *err, size_t err_size)
{
    size_t       len;
    const char  *s;

    if (race_account_string(root, "password", &s, &len, err, err_size)
        != 0)
    {
        return -1;
    }

    if (len > RACE_PASSWORD_BYTES_MAX) {
        return race_account_fail(err, err_size,
                                 "\"password\" is too long (at most %d "
                                 "characters)", RACE_PASSWORD_MAX);
    }

    memcpy(password, s, len);
    password[len] = '\0';
    *password_len = len;

    return 0;
}


/* printable ASCII but for RFC 5322's specials; the '@' is gone already */

static int
race_account_local(const char *s, size_t len)
{
    size_t   i;
    uint8_t  c;

    if (len == 0 || len > RACE_EMAIL_LOCAL_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = (uint8_t) s[i];

        if (c < 0x21 || c > 0x7e || strchr("()<>[]\\,;:\"", c) != NULL) {
            return 0;
        }
    }

    return 1;
}


/* lower-cased already: labels of [a-z0-9-], at least two */

static int
race_account_domain(const char *s, size_t len)
{
    size_t   i, start, labels;
    uint8_t  c;

    if (len == 0 || len > RACE_EMAIL_DOMAIN_MAX) {
        return 0;
    }

    labels = 0;
    start = 0;

    for (i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (i == start || i - start > RACE_EMAIL_LABEL_MAX
                || s[start] == '-' || s[i - 1] == '-')
            {
                return 0;
            }

            labels++;
            start = i + 1;
            continue;
        }

        c = (uint8_t) s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return 0;
        }
    }

    return labels >= 2;
}


/* writes the message if there is room; always -1 */

static int
race_account_fail(char *err, size_t err_size, const char *fmt, ...)
{
    va_list  ap;

    if (err != NULL && err_size > 0) {
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }

    return -1;
}
