
/*
 * ngx_race: passwords (docs/INTERNALS.md, "Accounts").
 *
 * Hashes are libargon2's PHC strings, argon2id version 19.  Before a
 * stored hash reaches libargon2 its parameters are read here, so that
 * one with absurd costs is refused instead of run: libargon2 would take
 * whatever memory and time the string asks for.  Parameters below ours
 * still verify, so that ours can be raised later and old hashes
 * replaced at the next login (race_password_needs_rehash()).
 *
 * The common-password list is compared ASCII-case-insensitively: the
 * entries are lower-cased once when loaded, a candidate byte by byte
 * during the binary search, so no copy of a password is ever made.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "race_base64.h"
#include "race_password.h"


#define RACE_PASSWORD_PREFIX     "$argon2id$v=19$"

/* unpadded base64 length of n bytes */
#define race_password_b64_len(n)  (((n) * 4 + 2) / 3)

/* a stored hash longer than this is not one of ours, old or new */
#define RACE_PASSWORD_ENCODED_LIMIT  512

#define race_password_lower(c)                                             \
    (((c) >= 'A' && (c) <= 'Z') ? (uint8_t) ((c) | 0x20) : (uint8_t) (c))


/* what race_password_phc() reads from a PHC string */
typedef struct {
    uint32_t        m_cost;
    uint32_t        t_cost;
    uint32_t        lanes;
    size_t          salt_b64;       /* length of the salt's base64 */
    size_t          hash_b64;
} race_password_phc_t;


static int race_password_phc(const char *e, race_password_phc_t *phc);
static const char *race_password_param(const char *p, const char *name,
    uint32_t *v);
static size_t race_password_b64_run(const char *p);
static int race_password_cmp(const char *a, size_t alen, const char *b,
    size_t blen);
static int race_password_entry_cmp(const void *a, const void *b);


static char  race_password_dummy_hash[RACE_PASSWORD_ENCODED_MAX];
static int   race_password_ready;


int
race_password_init(void)
{
    uint8_t  pw[32];

    if (race_password_ready) {
        return 0;
    }

    /* a password nobody knows: the dummy never matches */

    if (RAND_bytes(pw, sizeof(pw)) != 1) {
        return -1;
    }

    if (race_password_hash((const char *) pw, sizeof(pw),
                           race_password_dummy_hash,
                           sizeof(race_password_dummy_hash))
        != 0)
    {
        OPENSSL_cleanse(pw, sizeof(pw));
        return -1;
    }

    OPENSSL_cleanse(pw, sizeof(pw));
    race_password_ready = 1;

    return 0;
}


const char *
race_password_dummy(void)
{
    return race_password_ready ? race_password_dummy_hash : NULL;
}


int
race_password_hash(const char *password, size_t len, char *out, size_t size)
{
    int      rc;
    uint8_t  salt[RACE_PASSWORD_SALT_LEN];

    if (out == NULL || size == 0) {
        return -1;
    }

    out[0] = '\0';

    if (password == NULL && len != 0) {
        return -1;
    }

    if (RAND_bytes(salt, sizeof(salt)) != 1) {
        return -1;
    }

    rc = argon2id_hash_encoded(RACE_PASSWORD_T_COST, RACE_PASSWORD_M_COST,
                               RACE_PASSWORD_LANES, password, len, salt,
                               sizeof(salt), RACE_PASSWORD_HASH_LEN, out,
                               size);

    if (rc != ARGON2_OK) {
        out[0] = '\0';
        return -1;
    }

    return 0;
}


int
race_password_verify(const char *password, size_t len, const char *encoded)
{
    race_password_phc_t  phc;

    if (encoded == NULL || (password == NULL && len != 0)) {
        return 0;
    }

    if (race_password_phc(encoded, &phc) != 0
        || phc.m_cost > RACE_PASSWORD_M_COST_LIMIT
        || phc.t_cost > RACE_PASSWORD_T_COST_LIMIT
        || phc.lanes > RACE_PASSWORD_LANES_LIMIT)
    {
        return 0;
    }

    return argon2id_verify(encoded, password, len) == ARGON2_OK;
}


int
race_password_needs_rehash(const char *encoded)
{
    race_password_phc_t  phc;

    if (encoded == NULL || race_password_phc(encoded, &phc) != 0) {
        return 1;
    }

    return phc.m_cost != RACE_PASSWORD_M_COST
           || phc.t_cost != RACE_PASSWORD_T_COST
           || phc.lanes != RACE_PASSWORD_LANES
           || phc.salt_b64 != race_password_b64_len(RACE_PASSWORD_SALT_LEN)
           || phc.hash_b64 != race_password_b64_len(RACE_PASSWORD_HASH_LEN);
}


const char *
race_password_check_policy(const char *password, size_t len,
    const race_password_list_t *common)
{
    size_t  n;

    n = race_utf8_length(password, len);

    if (n == RACE_UTF8_INVALID) {
        return "password is not valid UTF-8";
    }

    if (n < RACE_PASSWORD_MIN) {
        return "password must be at least 8 characters";
    }

    if (n > RACE_PASSWORD_MAX) {
        return "password must be at most 128 characters";
    }

    if (race_password_list_has(common, password, len)) {
        return "password is too common";
    }

    return NULL;
}


int
race_password_list_load(const char *data, size_t len,
    race_password_list_t *list)
{
    char                   *block, *p, *end, *nl;
    size_t                  i, n, lines, llen;
    race_password_entry_t  *e;

    list->entries = NULL;
    list->n = 0;
    list->data = NULL;

    if (data == NULL) {
        len = 0;
    }

    if (len >= SIZE_MAX / sizeof(race_password_entry_t)) {
        return -1;
    }

    lines = 1;

    for (i = 0; i < len; i++) {
        if (data[i] == '\n') {
            lines++;
        }
    }

    /* a copy whose line ends become the entries' NULs */

    block = malloc(len + 1);
    e = malloc(lines * sizeof(race_password_entry_t));

    if (block == NULL || e == NULL) {
        free(block);
        free(e);
        return -1;
    }

    for (i = 0; i < len; i++) {
        block[i] = (char) race_password_lower((uint8_t) data[i]);
    }

    block[len] = '\0';

    n = 0;
    p = block;
    end = block + len;

    while (p < end) {
        nl = memchr(p, '\n', end - p);

        if (nl == NULL) {
            nl = end;
        }

        llen = nl - p;

        if (llen > 0 && p[llen - 1] == '\r') {
            llen--;
        }

        p[llen] = '\0';

        if (llen > 0 && p[0] != '#') {
            e[n].s = p;
            e[n].len = llen;
            n++;
        }

        p = nl + 1;
    }

    if (n > 1) {
        qsort(e, n, sizeof(race_password_entry_t), race_password_entry_cmp);

        /* duplicates are neighbours now */

        lines = n;
        n = 1;

        for (i = 1; i < lines; i++) {
            if (race_password_entry_cmp(&e[i], &e[n - 1]) != 0) {
                e[n++] = e[i];
            }
        }
    }

    list->entries = e;
    list->n = n;
    list->data = block;

    return 0;
}


void
race_password_list_free(race_password_list_t *list)
{
    if (list == NULL) {
        return;
    }

    free(list->entries);
    free(list->data);

    list->entries = NULL;
    list->n = 0;
    list->data = NULL;
}


int
race_password_list_has(const race_password_list_t *list,
    const char *password, size_t len)
{
    int     c;
    size_t  lo, hi, mid;

    if (list == NULL || list->n == 0 || (password == NULL && len != 0)) {
        return 0;
    }

    lo = 0;
    hi = list->n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = race_password_cmp(password, len, list->entries[mid].s,
                              list->entries[mid].len);

        if (c == 0) {
            return 1;
        }

        if (c < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return 0;
}


/*
 * Reads "$argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash>", the salt and
 * the hash unpadded base64, as libargon2 writes it.  libargon2 reads
 * the string again, fully; this is only a gate.
 */

static int
race_password_phc(const char *e, race_password_phc_t *phc)
{
    const char  *p;

    if (strnlen(e, RACE_PASSWORD_ENCODED_LIMIT + 1)
        > RACE_PASSWORD_ENCODED_LIMIT
        || strncmp(e, RACE_PASSWORD_PREFIX, sizeof(RACE_PASSWORD_PREFIX) - 1)
           != 0)
    {
        return -1;
    }

    p = e + sizeof(RACE_PASSWORD_PREFIX) - 1;

    p = race_password_param(p, "m=", &phc->m_cost);
    if (p == NULL || *p++ != ',') {
        return -1;
    }

    p = race_password_param(p, "t=", &phc->t_cost);
    if (p == NULL || *p++ != ',') {
        return -1;
    }

    p = race_password_param(p, "p=", &phc->lanes);
    if (p == NULL || *p++ != '$') {
        return -1;
    }

    phc->salt_b64 = race_password_b64_run(p);
    p += phc->salt_b64;

    if (phc->salt_b64 == 0 || *p++ != '$') {
        return -1;
    }

    phc->hash_b64 = race_password_b64_run(p);
    p += phc->hash_b64;

    if (phc->hash_b64 == 0 || *p != '\0') {
        return -1;
    }

    return 0;
}


/* "<name><decimal>": the position after it, or NULL */

static const char *
race_password_param(const char *p, const char *name, uint32_t *v)
{
    size_t    n;
    uint64_t  acc;

    n = strlen(name);

    if (strncmp(p, name, n) != 0) {
        return NULL;
    }

    p += n;
    acc = 0;

    for (n = 0; p[n] >= '0' && p[n] <= '9'; n++) {
        acc = acc * 10 + (uint64_t) (p[n] - '0');

        if (acc > UINT32_MAX) {
            return NULL;
        }
    }

    /* one spelling per number: no leading zeros, as libargon2 writes */

    if (n == 0 || (n > 1 && p[0] == '0')) {
        return NULL;
    }

    *v = (uint32_t) acc;

    return p + n;
}


static size_t
race_password_b64_run(const char *p)
{
    size_t  n;

    /* libargon2 writes the standard alphabet, unpadded */

    for (n = 0; race_base64_value((uint8_t) p[n], RACE_BASE64_STD) >= 0; n++) {
        /* void */
    }

    return n;
}


/* a[0..alen) lower-cased against b[0..blen) lower-cased, bytewise */

static int
race_password_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t   i, n;
    uint8_t  ca, cb;

    n = (alen < blen) ? alen : blen;

    for (i = 0; i < n; i++) {
        ca = race_password_lower((uint8_t) a[i]);
        cb = race_password_lower((uint8_t) b[i]);

        if (ca != cb) {
            return (ca < cb) ? -1 : 1;
        }
    }

    if (alen == blen) {
        return 0;
    }

    return (alen < blen) ? -1 : 1;
}


static int
race_password_entry_cmp(const void *a, const void *b)
{
    const race_password_entry_t  *ea, *eb;

    ea = a;
    eb = b;

    return race_password_cmp(ea->s, ea->len, eb->s, eb->len);
}
