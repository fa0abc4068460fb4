
/*
 * ngx_race: JSON Web Tokens (RFC 7519), HS256 only.
 *
 * race_jwt_verify() goes in this order, so that nothing the token says
 * is believed before its signature is checked:
 *
 *   1. shape: at most RACE_JWT_MAX_LEN bytes, exactly three parts, the
 *      signature canonical base64url without padding;
 *   2. header, needed to choose the key: alg must be "HS256" whatever
 *      else it says, typ "JWT" if present, no "crit" (we understand no
 *      extension), kid names one of the keys;
 *   3. signature: HMAC-SHA256 of "header.payload" with that key,
 *      compared in constant time;
 *   4. payload, only now: the type of every claim ngx_race uses, then
 *      iss, aud, exp and nbf.
 *
 * JSON is parsed with duplicate keys rejected: {"sub":"a","sub":"b"}
 * means different things to different parsers.  Base64url must be
 * canonical (unused low bits zero), so one signature has one spelling.
 */


#include <limits.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "race_base64.h"
#include "race_jwt.h"


#define RACE_JWT_SIG_LEN     32      /* SHA-256 */
#define RACE_JWT_SIG_B64     43      /* its base64url, unpadded */
#define RACE_JWT_PART_MAX    (RACE_JWT_MAX_LEN / 4 * 3 + 3)
#define RACE_JWT_ROLE_MAX    15


static json_t *race_jwt_json(const char *b64, size_t len);
static race_jwt_rc_e race_jwt_header(json_t *h, const race_jwt_key_t *keys,
    size_t nkeys, const race_jwt_key_t **key, race_jwt_claims_t *c);
static race_jwt_rc_e race_jwt_payload(json_t *p, const char *iss,
    const char *aud, int64_t now, int64_t leeway, race_jwt_claims_t *c);
static int race_jwt_time(json_t *p, const char *name, int required,
    int64_t *dst);
static int race_jwt_id(json_t *p, const char *name, int required,
    char *dst, size_t size);
static int race_jwt_streq(json_t *v, const char *s);
static int race_jwt_key_usable(const race_jwt_key_t *key);
static int race_jwt_opt_id(const char *s, size_t size);
static int race_jwt_hmac(uint8_t *md, const race_jwt_key_t *key,
    const char *data, size_t len);
static int race_jwt_set_str(json_t *o, const char *name, const char *s);
static size_t race_jwt_part(char *dst, size_t n, json_t *j);


race_jwt_rc_e
race_jwt_verify(const char *token, size_t len, const race_jwt_key_t *keys,
    size_t nkeys, const char *iss, const char *aud, int64_t now,
    int64_t leeway, race_jwt_claims_t *out)
{
    size_t                 i, dot1, dot2, ndots, sig_len;
    json_t                *json;
    uint8_t                sig[RACE_JWT_PART_MAX];
    uint8_t                md[RACE_JWT_SIG_LEN];
    race_jwt_rc_e          rc;
    race_jwt_claims_t      c;
    const race_jwt_key_t  *key;

    if (token == NULL || len == 0 || len > RACE_JWT_MAX_LEN) {
        return RACE_JWT_MALFORMED;
    }

    dot1 = 0;
    dot2 = 0;
    ndots = 0;

    for (i = 0; i < len; i++) {
        if (token[i] != '.') {
            continue;
        }

        if (ndots == 0) {
            dot1 = i;

        } else {
            dot2 = i;
        }

        ndots++;
    }

    if (ndots != 2 || dot1 == 0 || dot2 == dot1 + 1) {
        return RACE_JWT_MALFORMED;
    }

    if (race_base64_decode(sig, &sig_len, token + dot2 + 1, len - dot2 - 1,
                           RACE_BASE64_URL)
        != 0)
    {
        return RACE_JWT_MALFORMED;
    }

    memset(&c, 0, sizeof(race_jwt_claims_t));

    json = race_jwt_json(token, dot1);
    if (json == NULL) {
        return RACE_JWT_MALFORMED;
    }

    key = NULL;
    rc = race_jwt_header(json, keys, nkeys, &key, &c);

    json_decref(json);

    if (rc != RACE_JWT_OK) {
        return rc;
    }

    /* "alg":"none" with an empty signature gets no further than here */

    if (sig_len != RACE_JWT_SIG_LEN
        || race_jwt_hmac(md, key, token, dot2) != 0
        || CRYPTO_memcmp(md, sig, RACE_JWT_SIG_LEN) != 0)
    {
        return RACE_JWT_BAD_SIGNATURE;
    }

    json = race_jwt_json(token + dot1 + 1, dot2 - dot1 - 1);
    if (json == NULL) {
        return RACE_JWT_MALFORMED;
    }

    rc = race_jwt_payload(json, iss, aud, now, leeway, &c);

    json_decref(json);

    if (rc == RACE_JWT_OK && out != NULL) {
        *out = c;
    }

    return rc;
}


size_t
race_jwt_sign(char *dst, const race_jwt_key_t *key, const char *iss,
    const char *aud, const race_jwt_claims_t *claims)
{
    int        err;
    size_t     n;
    json_t    *h, *p;
    uint8_t    md[RACE_JWT_SIG_LEN];

    /* sign only what race_jwt_verify() would accept */

    if (!race_jwt_key_usable(key)
        || !race_id_valid(claims->sub,
                          strnlen(claims->sub, sizeof(claims->sub)))
        || !race_jwt_opt_id(claims->race, sizeof(claims->race))
        || !race_jwt_opt_id(claims->role, RACE_JWT_ROLE_MAX + 1)
        || !race_jwt_opt_id(claims->jti, sizeof(claims->jti))
        || claims->gen < 0)
    {
        return 0;
    }

    h = json_object();
    p = json_object();

    if (h == NULL || p == NULL) {
        json_decref(h);
        json_decref(p);
        return 0;
    }

    /* jansson keeps insertion order: the output is deterministic */

    err = race_jwt_set_str(h, "alg", "HS256");
    err |= race_jwt_set_str(h, "typ", "JWT");
    err |= race_jwt_set_str(h, "kid", key->kid);

    err |= race_jwt_set_str(p, "iss", iss);
    err |= race_jwt_set_str(p, "aud", aud);
    err |= race_jwt_set_str(p, "sub", claims->sub);
    err |= race_jwt_set_str(p, "race", claims->race);
    err |= race_jwt_set_str(p, "role", claims->role);

    if (claims->gen > 0) {
        err |= json_object_set_new(p, "gen", json_integer(claims->gen));
    }

    err |= json_object_set_new(p, "iat", json_integer(claims->iat));
    err |= json_object_set_new(p, "exp", json_integer(claims->exp));

    if (claims->nbf != 0) {
        err |= json_object_set_new(p, "nbf", json_integer(claims->nbf));
    }

    err |= race_jwt_set_str(p, "jti", claims->jti);

    n = 0;

    if (err == 0) {
        n = race_jwt_part(dst, 0, h);

        if (n > 0) {
            dst[n++] = '.';
            n = race_jwt_part(dst, n, p);
        }
    }

    json_decref(h);
    json_decref(p);

    if (n == 0 || race_jwt_hmac(md, key, dst, n) != 0) {
        return 0;
    }

    dst[n++] = '.';
    n += race_base64_encode(dst + n, md, RACE_JWT_SIG_LEN, RACE_BASE64_URL);
    dst[n] = '\0';

    return n;
}


const char *
race_jwt_strerror(race_jwt_rc_e rc)
{
    switch (rc) {

    case RACE_JWT_OK:
        return "ok";

    case RACE_JWT_MALFORMED:
        return "malformed token";

    case RACE_JWT_BAD_ALG:
        return "algorithm not allowed";

    case RACE_JWT_UNKNOWN_KID:
        return "unknown key id";

    case RACE_JWT_BAD_SIGNATURE:
        return "bad signature";

    case RACE_JWT_EXPIRED:
        return "token expired";

    case RACE_JWT_NOT_YET_VALID:
        return "token not yet valid";

    case RACE_JWT_BAD_ISSUER:
        return "wrong issuer";

    case RACE_JWT_BAD_AUDIENCE:
        return "wrong audience";

    case RACE_JWT_BAD_CLAIMS:
        return "missing or invalid claim";
    }

    return "unknown error";
}


size_t
race_jwt_key_trim(const uint8_t *data, size_t len)
{
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r')) {
        len--;
    }

    return len;
}


/* a base64url part holding a JSON object, or NULL */

static json_t *
race_jwt_json(const char *b64, size_t len)
{
    size_t        n;
    json_t       *json;
    uint8_t       buf[RACE_JWT_PART_MAX];
    json_error_t  err;

    if (len == 0 || len > RACE_JWT_MAX_LEN
        || race_base64_decode(buf, &n, b64, len, RACE_BASE64_URL) != 0)
    {
        return NULL;
    }

    json = json_loadb((char *) buf, n, JSON_REJECT_DUPLICATES, &err);
    if (json == NULL) {
        return NULL;
    }

    if (!json_is_object(json)) {
        json_decref(json);
        return NULL;
    }

    return json;
}


static race_jwt_rc_e
race_jwt_header(json_t *h, const race_jwt_key_t *keys, size_t nkeys,
    const race_jwt_key_t **key, race_jwt_claims_t *c)
{
    size_t       i, len;
    json_t      *v;
    const char  *kid;

    if (!race_jwt_streq(json_object_get(h, "alg"), "HS256")) {
        return RACE_JWT_BAD_ALG;
    }

    v = json_object_get(h, "typ");
    if (v != NULL && !race_jwt_streq(v, "JWT")) {
        return RACE_JWT_MALFORMED;
    }

    /* RFC 7515 4.1.11: extensions we do not know make the token invalid */

    if (json_object_get(h, "crit") != NULL) {
        return RACE_JWT_MALFORMED;
    }

    /* a missing kid names no key, just as an unknown one */

    v = json_object_get(h, "kid");
    if (!json_is_string(v)) {
        return RACE_JWT_UNKNOWN_KID;
    }

    kid = json_string_value(v);
    len = json_string_length(v);

    if (len == 0 || len > RACE_JWT_KID_MAX || keys == NULL) {
        return RACE_JWT_UNKNOWN_KID;
    }

    for (i = 0; i < nkeys; i++) {
        if (race_jwt_key_usable(&keys[i])
            && strlen(keys[i].kid) == len
            && memcmp(keys[i].kid, kid, len) == 0)
        {
            *key = &keys[i];
            memcpy(c->kid, kid, len);
            c->kid[len] = '\0';
            return RACE_JWT_OK;
        }
    }

    return RACE_JWT_UNKNOWN_KID;
}


static race_jwt_rc_e
race_jwt_payload(json_t *p, const char *iss, const char *aud, int64_t now,
    int64_t leeway, race_jwt_claims_t *c)
{
    int      found;
    size_t   i;
    json_t  *v, *a;

    /* every claim's type first: a wrong one is never half believed */

    if (race_jwt_time(p, "exp", 1, &c->exp) != 0
        || race_jwt_time(p, "nbf", 0, &c->nbf) != 0
        || race_jwt_time(p, "iat", 0, &c->iat) != 0
        || race_jwt_time(p, "gen", 0, &c->gen) != 0
        || c->gen < 0
        || race_jwt_id(p, "sub", 1, c->sub, sizeof(c->sub)) != 0
        || race_jwt_id(p, "race", 0, c->race, sizeof(c->race)) != 0
        || race_jwt_id(p, "role", 0, c->role, RACE_JWT_ROLE_MAX + 1) != 0
        || race_jwt_id(p, "jti", 0, c->jti, sizeof(c->jti)) != 0)
    {
        return RACE_JWT_BAD_CLAIMS;
    }

    v = json_object_get(p, "iss");
    if (!json_is_string(v)) {
        return RACE_JWT_BAD_CLAIMS;
    }

    if (iss == NULL || !race_jwt_streq(v, iss)) {
        return RACE_JWT_BAD_ISSUER;
    }

    /* RFC 7519 4.1.3: one string, or an array of strings */

    v = json_object_get(p, "aud");
    found = 0;

    if (json_is_string(v)) {
        found = (aud != NULL && race_jwt_streq(v, aud));

    } else if (json_is_array(v)) {
        json_array_foreach(v, i, a) {
            if (!json_is_string(a)) {
                return RACE_JWT_BAD_CLAIMS;
            }

            if (aud != NULL && race_jwt_streq(a, aud)) {
                found = 1;
            }
        }

    } else {
        return RACE_JWT_BAD_CLAIMS;
    }

    if (!found) {
        return RACE_JWT_BAD_AUDIENCE;
    }

    /*
     * Expired "on or after" exp, valid from nbf on (RFC 7519 4.1.4-5),
     * each moved by the leeway.  Written as differences of the unsigned
     * values so that no claim, however large, overflows.
     */

    if (leeway < 0) {
        leeway = 0;
    }

    if (now >= c->exp
        && (uint64_t) now - (uint64_t) c->exp >= (uint64_t) leeway)
    {
        return RACE_JWT_EXPIRED;
    }

    if (c->nbf > now
        && (uint64_t) c->nbf - (uint64_t) now > (uint64_t) leeway)
    {
        return RACE_JWT_NOT_YET_VALID;
    }

    return RACE_JWT_OK;
}


/* a NumericDate, or gen; an integer here, since we mint them all */

static int
race_jwt_time(json_t *p, const char *name, int required, int64_t *dst)
{
    json_t  *v;

    v = json_object_get(p, name);

    if (v == NULL) {
        *dst = 0;
        return required ? -1 : 0;
    }

    if (!json_is_integer(v)) {
        return -1;
    }

    *dst = (int64_t) json_integer_value(v);

    return 0;
}


/*
 * sub, race, role and jti are all ids, [A-Za-z0-9_-], shorter than size;
 * they end up in logs, Redis keys and Kafka keys
 */

static int
race_jwt_id(json_t *p, const char *name, int required, char *dst,
    size_t size)
{
    size_t       len;
    json_t      *v;
    const char  *s;

    v = json_object_get(p, name);

    if (v == NULL) {
        dst[0] = '\0';
        return required ? -1 : 0;
    }

    if (!json_is_string(v)) {
        return -1;
    }

    s = json_string_value(v);
    len = json_string_length(v);

    if (len >= size || !race_id_valid(s, len)) {
        return -1;
    }

    memcpy(dst, s, len);
    dst[len] = '\0';

    return 0;
}


static int
race_jwt_streq(json_t *v, const char *s)
{
    size_t  len;

    if (!json_is_string(v)) {
        return 0;
    }

    len = strlen(s);

    return json_string_length(v) == len
           && memcmp(json_string_value(v), s, len) == 0;
}


static int
race_jwt_key_usable(const race_jwt_key_t *key)
{
    size_t  len;

    if (key == NULL || key->kid == NULL || key->secret == NULL
        || key->secret_len < RACE_JWT_KEY_MIN || key->secret_len > INT_MAX)
    {
        return 0;
    }

    len = strlen(key->kid);

    return len > 0 && len <= RACE_JWT_KID_MAX;
}


/* an optional id claim of char[size]: "" (absent) or a valid id */

static int
race_jwt_opt_id(const char *s, size_t size)
{
    size_t  len;

    len = strnlen(s, size);

    return len == 0 || (len < size && race_id_valid(s, len));
}


static int
race_jwt_hmac(uint8_t *md, const race_jwt_key_t *key, const char *data,
    size_t len)
{
    unsigned int  md_len;

    md_len = 0;

    if (HMAC(EVP_sha256(), key->secret, (int) key->secret_len,
             (const unsigned char *) data, len, md, &md_len)
        == NULL
        || md_len != RACE_JWT_SIG_LEN)
    {
        return -1;
    }

    return 0;
}


/* an empty or NULL string is left out */

static int
race_jwt_set_str(json_t *o, const char *name, const char *s)
{
    if (s == NULL || s[0] == '\0') {
        return 0;
    }

    return json_object_set_new(o, name, json_string(s));
}


/*
 * Appends the base64url of j's JSON at dst + n; returns the new length,
 * or 0 if there would be no room left for ".signature" and the NUL.
 */

static size_t
race_jwt_part(char *dst, size_t n, json_t *j)
{
    char    json[RACE_JWT_MAX_LEN];
    size_t  len;

    len = json_dumpb(j, json, sizeof(json), JSON_COMPACT);

    if (len == 0 || len > sizeof(json)
        || n + race_base64_encoded_len(len, RACE_BASE64_URL) + 1
           + RACE_JWT_SIG_B64
           >= RACE_JWT_MAX_LEN)
    {
        return 0;
    }

    return n + race_base64_encode(dst + n, (uint8_t *) json, len,
                                  RACE_BASE64_URL);
}
