
/*
 * ngx_race: libFuzzer target for the HS256 JWT core.
 *
 * in[0] bits 0-1 pick the mode, bits 2-7 the leeway (0..63 s); the rest
 * of the input is the mode's:
 *
 *   0, 3  the token's bytes, verified against two fixed keys.  The core
 *         may accept only a token whose third part is exactly the
 *         base64url of the HMAC of the first two with the key its kid
 *         names, computed here with this file's own encoder.
 *   1     a payload (or "header\0payload"), encoded and signed here with
 *         key k1, so that the claims code sees any JSON behind a valid
 *         signature.  An accepted token must carry claims that obey the
 *         rules, and must be refused with any signature char changed.
 *   2     claims built from the bytes: race_jwt_sign() refuses exactly
 *         the claims race_jwt_verify() would refuse, and what it signs
 *         verifies with the same claims.
 */


#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "race_jwt.h"


#define F_NOW      1732400000
#define F_ISS      "ngx_race"
#define F_AUD      "ride"
#define F_HDR      "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}"
#define F_TOKEN    (2 * RACE_JWT_MAX_LEN + 64)

#define f_assert(c)  do { if (!(c)) { abort(); } } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void raw(const uint8_t *s, size_t n, int64_t leeway);
static void signed_json(const uint8_t *s, size_t n, int64_t leeway);
static void sign_claims(const uint8_t *s, size_t n);
static void check_claims(const race_jwt_claims_t *c, int64_t now,
    int64_t leeway);
static int opt_id(const char *s, size_t size);
static size_t b64(char *dst, const uint8_t *src, size_t len);
static const race_jwt_key_t *key_named(const char *kid);


static const char  b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char  secret1[] = "fuzz secret number one, 32+ bytes long";
static const char  secret2[] = "fuzz secret number two, also 32+ bytes";

static race_jwt_key_t  keys[2] = {
    { "k1", (const uint8_t *) secret1, sizeof(secret1) - 1 },
    { "k2", (const uint8_t *) secret2, sizeof(secret2) - 1 }
};

static char  tok[F_TOKEN];


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t  leeway;

    if (size < 1) {
        return 0;
    }

    leeway = data[0] >> 2;

    switch (data[0] & 3) {

    case 1:
        signed_json(data + 1, size - 1, leeway);
        break;

    case 2:
        sign_claims(data + 1, size - 1);
        break;

    default:
        raw(data + 1, size - 1, leeway);
    }

    return 0;
}


static void
raw(const uint8_t *s, size_t n, int64_t leeway)
{
    char                  *t, sig[64];
    size_t                 dot, len;
    uint8_t                md[32];
    race_jwt_rc_e          rc;
    race_jwt_claims_t      c;
    const race_jwt_key_t  *k;

    /* its own allocation of its exact size: ASan sees a read past it */

    t = malloc(n ? n : 1);
    f_assert(t != NULL);
    memcpy(t, s, n);

    rc = race_jwt_verify(t, n, keys, 2, F_ISS, F_AUD, F_NOW, leeway, &c);

    if (rc == RACE_JWT_OK) {
        k = key_named(c.kid);
        f_assert(k != NULL);

        for (dot = n; dot > 0 && t[dot - 1] != '.'; dot--) {
            /* void */
        }

        f_assert(dot > 0);

        HMAC(EVP_sha256(), k->secret, (int) k->secret_len,
             (const uint8_t *) t, dot - 1, md, NULL);
        len = b64(sig, md, 32);

        f_assert(n - dot == len && memcmp(t + dot, sig, len) == 0);

        check_claims(&c, F_NOW, leeway);
    }

    f_assert(race_jwt_strerror(rc) != NULL);

    free(t);
}


static void
signed_json(const uint8_t *s, size_t n, int64_t leeway)
{
    char               *t, c;
    size_t              i, len, hlen, dot;
    uint8_t             md[32];
    const uint8_t      *hdr, *pay, *nul;
    race_jwt_rc_e       rc;
    race_jwt_claims_t   cl;

    if (n > RACE_JWT_MAX_LEN) {
        return;
    }

    nul = memchr(s, '\0', n);

    if (nul != NULL) {
        hdr = s;
        hlen = nul - s;
        pay = nul + 1;
        n -= hlen + 1;

    } else {
        hdr = (const uint8_t *) F_HDR;
        hlen = sizeof(F_HDR) - 1;
        pay = s;
    }

    len = b64(tok, hdr, hlen);
    tok[len++] = '.';
    len += b64(tok + len, pay, n);

    HMAC(EVP_sha256(), secret1, (int) sizeof(secret1) - 1,
         (const uint8_t *) tok, len, md, NULL);

    dot = len;
    tok[len++] = '.';
    len += b64(tok + len, md, 32);

    t = malloc(len);
    f_assert(t != NULL);
    memcpy(t, tok, len);

    rc = race_jwt_verify(t, len, keys, 2, F_ISS, F_AUD, F_NOW, leeway, &cl);

    if (rc == RACE_JWT_OK) {
        f_assert(strcmp(cl.kid, "k1") == 0);
        check_claims(&cl, F_NOW, leeway);

        /* any other signature char: refused */

        for (i = dot + 1; i < len; i++) {
            c = t[i];
            t[i] = (c == 'A') ? 'B' : 'A';
            f_assert(race_jwt_verify(t, len, keys, 2, F_ISS, F_AUD, F_NOW,
                                     leeway, &cl)
                     != RACE_JWT_OK);
            t[i] = c;
        }
    }

    free(t);
}


/*
 * Input: sub, race, role, jti separated by '\n', then up to 32 bytes of
 * iat, exp, nbf and gen.  The strings are copied cut to their room, so
 * some are unterminated at the edge.
 */

static void
sign_claims(const uint8_t *s, size_t n)
{
    int                 valid;
    char               *f[4];
    size_t              i, k, room[4], len;
    int64_t             v[4], now;
    const uint8_t      *p, *end, *nl;
    race_jwt_rc_e       rc, want;
    race_jwt_claims_t   c, got;

    memset(&c, 0, sizeof(c));

    f[0] = c.sub;
    f[1] = c.race;
    f[2] = c.role;
    f[3] = c.jti;
    room[0] = sizeof(c.sub);
    room[1] = sizeof(c.race);
    room[2] = sizeof(c.role);
    room[3] = sizeof(c.jti);

    p = s;
    end = s + n;

    for (i = 0; i < 4 && p < end; i++) {
        nl = memchr(p, '\n', end - p);
        len = (nl ? nl : end) - p;
        memcpy(f[i], p, len < room[i] ? len : room[i]);
        p += len + (nl != NULL);
    }

    for (k = 0; k < 4; k++) {
        v[k] = 0;

        for (i = 0; i < 8 && p < end; i++) {
            v[k] = (int64_t) ((uint64_t) v[k] << 8 | *p++);
        }
    }

    c.iat = v[0];
    c.exp = v[1];
    c.nbf = v[2];
    c.gen = v[3];

    len = race_jwt_sign(tok, &keys[1], F_ISS, F_AUD, &c);

    valid = race_id_valid(c.sub, strnlen(c.sub, sizeof(c.sub)))
            && opt_id(c.race, sizeof(c.race))
            && opt_id(c.role, sizeof(c.role))
            && opt_id(c.jti, sizeof(c.jti))
            && c.gen >= 0;

    f_assert((len > 0) == (valid != 0));

    if (len == 0) {
        return;
    }

    f_assert(len < RACE_JWT_MAX_LEN && strlen(tok) == len);

    if (c.exp == INT64_MIN) {
        now = INT64_MIN;
        want = RACE_JWT_EXPIRED;

    } else {
        now = c.exp - 1;
        want = (c.nbf > now) ? RACE_JWT_NOT_YET_VALID : RACE_JWT_OK;
    }

    rc = race_jwt_verify(tok, len, keys, 2, F_ISS, F_AUD, now, 0, &got);

    f_assert(rc == want);

    if (rc == RACE_JWT_OK) {
        f_assert(strcmp(got.sub, c.sub) == 0
                 && strcmp(got.race, c.race) == 0
                 && strcmp(got.role, c.role) == 0
                 && strcmp(got.jti, c.jti) == 0
                 && strcmp(got.kid, "k2") == 0
                 && got.iat == c.iat && got.exp == c.exp
                 && got.nbf == c.nbf && got.gen == c.gen);
    }

    /* the other audience or issuer: refused */

    f_assert(race_jwt_verify(tok, len, keys, 2, F_ISS, "web", now, 0, &got)
             != RACE_JWT_OK);
    f_assert(race_jwt_verify(tok, len, keys, 2, "other", F_AUD, now, 0, &got)
             != RACE_JWT_OK);
}


static void
check_claims(const race_jwt_claims_t *c, int64_t now, int64_t leeway)
{
    f_assert(race_id_valid(c->sub, strnlen(c->sub, sizeof(c->sub))));
    f_assert(opt_id(c->race, sizeof(c->race)));
    f_assert(opt_id(c->role, sizeof(c->role)));
    f_assert(opt_id(c->jti, sizeof(c->jti)));
    f_assert(key_named(c->kid) != NULL);
    f_assert(c->gen >= 0);

    /* not expired, already valid */

    f_assert(c->exp > now - leeway);
    f_assert(c->nbf <= now + leeway);
}


static int
opt_id(const char *s, size_t size)
{
    size_t  len;

    len = strnlen(s, size);

    return len == 0 || (len < size && race_id_valid(s, len));
}


static size_t
b64(char *dst, const uint8_t *src, size_t len)
{
    size_t    i, n;
    uint32_t  v;

    n = 0;

    for (i = 0; i < len; i += 3) {
        v = (uint32_t) src[i] << 16;

        if (i + 1 < len) {
            v |= (uint32_t) src[i + 1] << 8;
        }

        if (i + 2 < len) {
            v |= src[i + 2];
        }

        dst[n++] = b64url[v >> 18];
        dst[n++] = b64url[(v >> 12) & 0x3f];

        if (i + 1 < len) {
            dst[n++] = b64url[(v >> 6) & 0x3f];
        }

        if (i + 2 < len) {
            dst[n++] = b64url[v & 0x3f];
        }
    }

    return n;
}


static const race_jwt_key_t *
key_named(const char *kid)
{
    size_t  i;

    for (i = 0; i < 2; i++) {
        if (strcmp(keys[i].kid, kid) == 0) {
            return &keys[i];
        }
    }

    return NULL;
}
