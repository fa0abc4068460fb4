
/*
 * ngx_race: unit tests of the HS256 JWT core, TAP output.
 *
 * Tokens under test are built here from literal header and payload JSON
 * with the test's own base64url encoder and OpenSSL's HMAC, so that any
 * header or payload, even one the core would never sign, can carry a
 * valid signature.  The interop vectors were computed with Python's
 * standard library (hmac, hashlib, base64, json) when the tests were
 * written:
 *
 *   def b64(b): return base64.urlsafe_b64encode(b).rstrip(b'=').decode()
 *   def tok(h, p, alg=hashlib.sha256, sep=(',', ':')):
 *       s = b64(json.dumps(h, separators=sep).encode()) + '.' \
 *           + b64(json.dumps(p, separators=sep).encode())
 *       return s + '.' + b64(hmac.new(key, s.encode(), alg).digest())
 */


#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "race_jwt.h"
#include "tap.h"


#define T_NOW      1732400100        /* within the vectors' lifetime */
#define T_ISS      "ngx_race"
#define T_AUD      "ride"
#define T_TOKEN    (2 * RACE_JWT_MAX_LEN)

#define T_HDR      "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}"
#define T_PAYLOAD  "{\"iss\":\"ngx_race\",\"aud\":\"ride\",\"sub\":\"p7\"," \
                   "\"race\":\"r1\",\"iat\":1732400000,\"exp\":1732486400}"


static void test_interop(void);
static void test_roundtrip(void);
static void test_rotation(void);
static void test_times(void);
static void test_alg(void);
static void test_kid(void);
static void test_signature(void);
static void test_tamper(void);
static void test_shape(void);
static void test_claims(void);
static void test_gen(void);
static void test_sign_refuses(void);
static void test_helpers(void);

static size_t t_b64(char *dst, const void *src, size_t len);
static const char *mk(const char *header, const char *payload,
    const char *secret);
static const char *mk_sig(const char *header, const char *payload,
    const char *sig);
static const char *sign_raw(char *t, const char *secret);
static race_jwt_rc_e vfy(const char *token);
static race_jwt_rc_e vfy_at(const char *token, int64_t now, int64_t leeway);
static int is_rc(race_jwt_rc_e got, race_jwt_rc_e want, const char *fmt,
    ...);
static int claims_eq(const race_jwt_claims_t *a, const race_jwt_claims_t *b);
static const char *payload_with(const char *claims);


static const char  t_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char  secret1[] = "unit test secret number one, 40 bytes...";
static const char  secret2[] = "unit test secret number two: also 40 b..";
static const char  interop[] = "ngx_race interop secret, 32+ bytes long!";

/* Python: header {"alg":"HS256","typ":"JWT","kid":"k2024"}, payload
 * {"iss":"ngx_race","aud":"ride","sub":"p7","race":"r1","role":"rider",
 *  "iat":1732400000,"exp":1732486400,"jti":"t-0001"}, compact */
static const char  py_token[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsyMDI0In0."
    "eyJpc3MiOiJuZ3hfcmFjZSIsImF1ZCI6InJpZGUiLCJzdWIiOiJwNyIsInJhY2Ui"
    "OiJyMSIsInJvbGUiOiJyaWRlciIsImlhdCI6MTczMjQwMDAwMCwiZXhwIjoxNzMy"
    "NDg2NDAwLCJqdGkiOiJ0LTAwMDEifQ."
    "rhkVxEgiOXC_1lzz3NyXpzyhEqQaj3tTVusUt6kQog0";

/* Python: header {"kid":"k2024","alg":"HS256"}, payload
 * {"exp":1732486400,"aud":["web","ride"],"sub":"rider_42",
 *  "iss":"ngx_race","nbf":1732399990}, with json.dumps' ", " and ": " */
static const char  py_token_spaced[] =
    "eyJraWQiOiAiazIwMjQiLCAiYWxnIjogIkhTMjU2In0."
    "eyJleHAiOiAxNzMyNDg2NDAwLCAiYXVkIjogWyJ3ZWIiLCAicmlkZSJdLCAic3Vi"
    "IjogInJpZGVyXzQyIiwgImlzcyI6ICJuZ3hfcmFjZSIsICJuYmYiOiAxNzMyMzk5"
    "OTkwfQ."
    "cqcseuTBmHhHqjh7UkqMi975O4iWxYwRFBX8fhrODbE";

/* Python: the first payload signed with HMAC-SHA512, "alg":"HS512" */
static const char  py_token_hs512[] =
    "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCIsImtpZCI6ImsyMDI0In0."
    "eyJpc3MiOiJuZ3hfcmFjZSIsImF1ZCI6InJpZGUiLCJzdWIiOiJwNyIsInJhY2Ui"
    "OiJyMSIsInJvbGUiOiJyaWRlciIsImlhdCI6MTczMjQwMDAwMCwiZXhwIjoxNzMy"
    "NDg2NDAwLCJqdGkiOiJ0LTAwMDEifQ."
    "15m_wK7AGsaZzJCmh7NovmvbJCG5Luqfr2TowOhXzAos46HiL-7Ka3gtKqwVMndW"
    "TwhcmL-BzSm--Cq4DzBQkg";

static race_jwt_key_t     keys[3];
static size_t             nkeys;
static race_jwt_claims_t  got;
static char               tok[T_TOKEN];


int
main(void)
{
    keys[0].kid = "k1";
    keys[0].secret = (const uint8_t *) secret1;
    keys[0].secret_len = strlen(secret1);
    keys[1].kid = "k2";
    keys[1].secret = (const uint8_t *) secret2;
    keys[1].secret_len = strlen(secret2);
    keys[2].kid = "k2024";
    keys[2].secret = (const uint8_t *) interop;
    keys[2].secret_len = strlen(interop);
    nkeys = 3;

    test_interop();
    test_roundtrip();
    test_rotation();
    test_times();
    test_alg();
    test_kid();
    test_signature();
    test_tamper();
    test_shape();
    test_claims();
    test_gen();
    test_sign_refuses();
    test_helpers();

    return tap_done();
}


static void
test_interop(void)
{
    size_t             n;
    char               dst[RACE_JWT_MAX_LEN];
    race_jwt_claims_t  c;

    memset(&got, 0xff, sizeof(got));

    is_rc(vfy(py_token), RACE_JWT_OK, "python token verifies");
    is_str(got.sub, "p7", "python token: sub");
    is_str(got.race, "r1", "python token: race");
    is_str(got.role, "rider", "python token: role");
    is_str(got.jti, "t-0001", "python token: jti");
    is_str(got.kid, "k2024", "python token: kid");
    is_int(got.iat, 1732400000, "python token: iat");
    is_int(got.exp, 1732486400, "python token: exp");
    is_int(got.nbf, 0, "python token: nbf absent is 0");
    is_int(got.gen, 0, "python token: gen absent is 0");

    is_rc(vfy(py_token_spaced), RACE_JWT_OK,
          "python token with spaces, other key order, aud array");
    is_str(got.sub, "rider_42", "spaced token: sub");
    is_str(got.race, "", "spaced token: race absent is empty");
    is_str(got.role, "", "spaced token: role absent is empty");
    is_int(got.nbf, 1732399990, "spaced token: nbf");
    is_int(got.iat, 0, "spaced token: iat absent is 0");

    is_rc(vfy(py_token_hs512), RACE_JWT_BAD_ALG,
          "python HS512 token refused");

    /* our signer writes the same claims in the same order as Python */

    memset(&c, 0, sizeof(c));
    strcpy(c.sub, "p7");
    strcpy(c.race, "r1");
    strcpy(c.role, "rider");
    strcpy(c.jti, "t-0001");
    c.iat = 1732400000;
    c.exp = 1732486400;

    n = race_jwt_sign(dst, &keys[2], T_ISS, T_AUD, &c);
    is_int((int64_t) n, (int64_t) strlen(py_token), "sign: length");
    is_str(dst, py_token, "sign gives Python's token byte for byte");
}


static void
test_roundtrip(void)
{
    size_t             n;
    race_jwt_claims_t  c;

    memset(&c, 0, sizeof(c));
    memset(c.sub, 'S', RACE_JWT_ID_MAX);
    c.sub[0] = '-';
    c.sub[RACE_JWT_ID_MAX - 1] = '_';
    strcpy(c.race, "race_2024-giro");
    strcpy(c.role, "organizer");
    memset(c.jti, '7', RACE_JWT_ID_MAX);
    c.iat = T_NOW - 10;
    c.exp = T_NOW + 86400;
    c.nbf = T_NOW - 5;

    ok(strlen(c.sub) == 64 && strlen(c.jti) == 64, "64-char sub and jti");

    n = race_jwt_sign(tok, &keys[0], T_ISS, T_AUD, &c);
    ok(n > 0 && n == strlen(tok), "sign: %zu bytes", n);

    memset(&got, 0, sizeof(got));
    is_rc(vfy(tok), RACE_JWT_OK, "round trip verifies");
    strcpy(c.kid, "k1");
    ok(claims_eq(&got, &c), "round trip: every claim equal");

    /* the smallest token: sub, exp and a key; iat 0 is still written */

    memset(&c, 0, sizeof(c));
    strcpy(c.sub, "x");
    c.exp = T_NOW + 1;

    n = race_jwt_sign(tok, &keys[1], T_ISS, T_AUD, &c);
    ok(n > 0, "sign minimal claims");
    is_rc(vfy(tok), RACE_JWT_OK, "minimal claims verify");
    is_str(got.kid, "k2", "minimal claims: kid k2");

    /* no iss, no aud in the token: not ours */

    n = race_jwt_sign(tok, &keys[0], NULL, "", &c);
    ok(n > 0, "sign without iss and aud");
    is_rc(vfy(tok), RACE_JWT_BAD_CLAIMS, "a token without iss is refused");
}


static void
test_rotation(void)
{
    size_t             n;
    race_jwt_claims_t  c;
    race_jwt_key_t     rot[2];

    memset(&c, 0, sizeof(c));
    strcpy(c.sub, "p7");
    c.exp = T_NOW + 60;

    /* the new key signs, the old one still verifies */

    rot[0] = keys[1];
    rot[1] = keys[0];

    n = race_jwt_sign(tok, &keys[0], T_ISS, T_AUD, &c);
    ok(n > 0, "token signed with old key k1");
    is_rc(race_jwt_verify(tok, n, rot, 2, T_ISS, T_AUD, T_NOW, 0, &got),
          RACE_JWT_OK, "rotation: k1 token verifies with [k2, k1]");
    is_str(got.kid, "k1", "rotation: kid k1");

    n = race_jwt_sign(tok, &keys[1], T_ISS, T_AUD, &c);
    is_rc(race_jwt_verify(tok, n, rot, 2, T_ISS, T_AUD, T_NOW, 0, &got),
          RACE_JWT_OK, "rotation: k2 token verifies with [k2, k1]");
    is_str(got.kid, "k2", "rotation: kid k2");

    is_rc(race_jwt_verify(tok, n, rot, 1, T_ISS, T_AUD, T_NOW, 0, &got),
          RACE_JWT_OK, "rotation: k2 token verifies with [k2]");
    is_rc(race_jwt_verify(tok, n, &rot[1], 1, T_ISS, T_AUD, T_NOW, 0, &got),
          RACE_JWT_UNKNOWN_KID, "retired key: k2 token with [k1]");

    /* k2's secret under k1's name */

    is_rc(vfy(mk("{\"alg\":\"HS256\",\"kid\":\"k1\"}", T_PAYLOAD, secret2)),
          RACE_JWT_BAD_SIGNATURE, "kid k1 signed with k2's secret");
    is_rc(vfy(mk("{\"alg\":\"HS256\",\"kid\":\"k2\"}", T_PAYLOAD, secret2)),
          RACE_JWT_OK, "kid k2 signed with k2's secret");
}


static void
test_times(void)
{
    const char  *t;

    t = mk(T_HDR, payload_with("\"exp\":1000"), secret1);
    is_rc(vfy_at(t, 999, 0), RACE_JWT_OK, "exp: a second before");
    is_rc(vfy_at(t, 1000, 0), RACE_JWT_EXPIRED, "exp: at exp, expired");
    is_rc(vfy_at(t, 1059, 60), RACE_JWT_OK, "exp: 59 s after, leeway 60");
    is_rc(vfy_at(t, 1060, 60), RACE_JWT_EXPIRED, "exp: 60 s after, leeway 60");
    is_rc(vfy_at(t, 1001, -5), RACE_JWT_EXPIRED, "negative leeway is 0");
    is_rc(vfy(t), RACE_JWT_EXPIRED, "expired long ago");

    t = mk(T_HDR, payload_with("\"exp\":9223372036854775807"), secret1);
    is_rc(vfy_at(t, T_NOW, INT64_MAX), RACE_JWT_OK, "exp at INT64_MAX");

    t = mk(T_HDR, payload_with("\"exp\":-9223372036854775807"), secret1);
    is_rc(vfy_at(t, T_NOW, INT64_MAX), RACE_JWT_EXPIRED,
          "exp at -INT64_MAX, leeway INT64_MAX: no overflow");
    is_rc(vfy_at(t, T_NOW, 0), RACE_JWT_EXPIRED, "exp at -INT64_MAX");

    t = mk(T_HDR, payload_with("\"exp\":-1000"), secret1);
    is_rc(vfy_at(t, 0, INT64_MAX), RACE_JWT_OK,
          "exp -1000 at 0, leeway INT64_MAX");

    t = mk(T_HDR, payload_with("\"exp\":5000,\"nbf\":2000"), secret1);
    is_rc(vfy_at(t, 2000, 0), RACE_JWT_OK, "nbf: valid at nbf");
    is_rc(vfy_at(t, 1999, 0), RACE_JWT_NOT_YET_VALID, "nbf: a second before");
    is_rc(vfy_at(t, 1940, 60), RACE_JWT_OK, "nbf: 60 s before, leeway 60");
    is_rc(vfy_at(t, 1939, 60), RACE_JWT_NOT_YET_VALID,
          "nbf: 61 s before, leeway 60");

    t = mk(T_HDR, payload_with("\"exp\":5000,\"nbf\":9223372036854775807"),
           secret1);
    is_rc(vfy_at(t, -9223372036854775807LL, 0), RACE_JWT_NOT_YET_VALID,
          "nbf far future, now far past: no overflow");

    t = mk(T_HDR, payload_with("\"exp\":1732486400,\"nbf\":1732400160"),
           secret1);
    is_rc(vfy(t), RACE_JWT_NOT_YET_VALID, "nbf in the future");
}


static void
test_alg(void)
{
    is_rc(vfy(mk_sig("{\"alg\":\"none\",\"kid\":\"k1\"}", T_PAYLOAD, "")),
          RACE_JWT_BAD_ALG, "alg none, empty signature");
    is_rc(vfy(mk("{\"alg\":\"none\",\"kid\":\"k1\"}", T_PAYLOAD, secret1)),
          RACE_JWT_BAD_ALG, "alg none, with a valid HMAC");
    is_rc(vfy(mk_sig("{\"alg\":\"none\",\"typ\":\"JWT\"}", T_PAYLOAD, "")),
          RACE_JWT_BAD_ALG, "alg none, no kid");
    is_rc(vfy(mk("{\"alg\":\"None\",\"kid\":\"k1\"}", T_PAYLOAD, secret1)),
          RACE_JWT_BAD_ALG, "alg None");
    is_rc(vfy(mk("{\"alg\":\"HS384\",\"kid\":\"k1\"}", T_PAYLOAD, secret1)),
          RACE_JWT_BAD_ALG, "alg HS384 (HMAC-SHA256 signature)");
    is_rc(vfy(mk("{\"alg\":\"HS512\",\"kid\":\"k1\"}", T_PAYLOAD, secret1)),
          RACE_JWT_BAD_ALG, "alg HS512");
    is_rc(vfy(mk("{\"alg\":\"RS256\",\"kid\":\"k1\"}", T_PAYLOAD, secret1)),
          RACE_JWT_BAD_ALG, "alg RS256");
    is_rc(vfy(mk("{\"alg\":\"hs256\",\"kid\":\"k1\"}", T_PAYLOAD, secret1)),
          RACE_JWT_BAD_ALG, "alg hs256 (case matters)");
    is_rc(vfy(mk("{\"alg\":\"HS256 \",\"kid\":\"k1\"}", T_PAYLOAD, secret1)),
          RACE_JWT_BAD_ALG, "alg with a trailing space");
    is_rc(vfy(mk("{\"kid\":\"k1\"}", T_PAYLOAD, secret1)),
          RACE_JWT_BAD_ALG, "alg missing");
    is_rc(vfy(mk("{\"alg\":256,\"kid\":\"k1\"}", T_PAYLOAD, secret1)),
          RACE_JWT_BAD_ALG, "alg a number");
    is_rc(vfy(mk("{\"alg\":[\"HS256\"],\"kid\":\"k1\"}", T_PAYLOAD, secret1)),
          RACE_JWT_BAD_ALG, "alg an array");
    is_rc(vfy(mk("{\"alg\":null,\"kid\":\"k1\"}", T_PAYLOAD, secret1)),
          RACE_JWT_BAD_ALG, "alg null");

    is_rc(vfy(mk("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
                 T_PAYLOAD, secret1)),
          RACE_JWT_OK, "typ JWT");
    is_rc(vfy(mk("{\"alg\":\"HS256\",\"typ\":\"JOSE\",\"kid\":\"k1\"}",
                 T_PAYLOAD, secret1)),
          RACE_JWT_MALFORMED, "typ JOSE");
    is_rc(vfy(mk("{\"alg\":\"HS256\",\"typ\":1,\"kid\":\"k1\"}",
                 T_PAYLOAD, secret1)),
          RACE_JWT_MALFORMED, "typ a number");
    is_rc(vfy(mk("{\"alg\":\"HS256\",\"kid\":\"k1\",\"crit\":[\"b64\"],"
                 "\"b64\":false}", T_PAYLOAD, secret1)),
          RACE_JWT_MALFORMED, "crit header (RFC 7797 b64)");
    is_rc(vfy(mk("{\"alg\":\"HS256\",\"kid\":\"k1\",\"x5u\":\"http://a\"}",
                 T_PAYLOAD, secret1)),
          RACE_JWT_OK, "unknown header fields are ignored");
}


static void
test_kid(void)
{
    char            kid[RACE_JWT_KID_MAX + 2];
    char            hdr[256];
    race_jwt_key_t  k, shorty;

    is_rc(vfy(mk("{\"alg\":\"HS256\",\"kid\":\"k9\"}", T_PAYLOAD, secret1)),
          RACE_JWT_UNKNOWN_KID, "unknown kid");
    is_rc(vfy(mk("{\"alg\":\"HS256\"}", T_PAYLOAD, secret1)),
          RACE_JWT_UNKNOWN_KID, "missing kid");
    is_rc(vfy(mk("{\"alg\":\"HS256\",\"kid\":\"\"}", T_PAYLOAD, secret1)),
          RACE_JWT_UNKNOWN_KID, "empty kid");
    is_rc(vfy(mk("{\"alg\":\"HS256\",\"kid\":1}", T_PAYLOAD, secret1)),
          RACE_JWT_UNKNOWN_KID, "kid a number");
    is_rc(vfy(mk("{\"alg\":\"HS256\",\"kid\":\"K1\"}", T_PAYLOAD, secret1)),
          RACE_JWT_UNKNOWN_KID, "kid K1 (case matters)");
    is_rc(vfy(mk("{\"alg\":\"HS256\",\"kid\":\"k1 \"}", T_PAYLOAD, secret1)),
          RACE_JWT_UNKNOWN_KID, "kid k1 with a space");
    is_rc(vfy(mk("{\"alg\":\"HS256\",\"kid\":\"k\"}", T_PAYLOAD, secret1)),
          RACE_JWT_UNKNOWN_KID, "kid a prefix of k1");

    /* a kid of RACE_JWT_KID_MAX characters works, one more does not */

    memset(kid, 'a', sizeof(kid));
    kid[RACE_JWT_KID_MAX] = '\0';
    k.kid = kid;
    k.secret = (const uint8_t *) secret1;
    k.secret_len = strlen(secret1);

    snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"kid\":\"%s\"}", kid);
    mk(hdr, T_PAYLOAD, secret1);
    is_rc(race_jwt_verify(tok, strlen(tok), &k, 1, T_ISS, T_AUD, T_NOW, 0,
                          &got),
          RACE_JWT_OK, "kid of %d chars", RACE_JWT_KID_MAX);
    is_int((int64_t) strlen(got.kid), RACE_JWT_KID_MAX, "long kid copied");

    kid[RACE_JWT_KID_MAX] = 'a';
    kid[RACE_JWT_KID_MAX + 1] = '\0';
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"kid\":\"%s\"}", kid);
    mk(hdr, T_PAYLOAD, secret1);
    is_rc(race_jwt_verify(tok, strlen(tok), &k, 1, T_ISS, T_AUD, T_NOW, 0,
                          &got),
          RACE_JWT_UNKNOWN_KID, "kid of %d chars", RACE_JWT_KID_MAX + 1);

    /* a key with a short secret is never used */

    shorty.kid = "k1";
    shorty.secret = (const uint8_t *) secret1;
    shorty.secret_len = RACE_JWT_KEY_MIN - 1;
    mk(T_HDR, T_PAYLOAD, "unit test secret number one, 4");
    is_rc(race_jwt_verify(tok, strlen(tok), &shorty, 1, T_ISS, T_AUD, T_NOW,
                          0, &got),
          RACE_JWT_UNKNOWN_KID, "a secret of %d bytes is not a key",
          RACE_JWT_KEY_MIN - 1);
    is_rc(race_jwt_verify(tok, strlen(tok), NULL, 0, T_ISS, T_AUD, T_NOW,
                          0, &got),
          RACE_JWT_UNKNOWN_KID, "no keys at all");
}


static void
test_signature(void)
{
    char         sig[64];
    size_t       n;
    const char  *t;
    uint8_t      md[33];

    is_rc(vfy(mk(T_HDR, T_PAYLOAD, secret1)), RACE_JWT_OK, "valid token");
    is_rc(vfy(mk(T_HDR, T_PAYLOAD, secret2)), RACE_JWT_BAD_SIGNATURE,
          "wrong key");
    is_rc(vfy(mk(T_HDR, T_PAYLOAD, "unit test secret number one, 40 bytes..")),
          RACE_JWT_BAD_SIGNATURE, "key one byte shorter");
    is_rc(vfy(mk_sig(T_HDR, T_PAYLOAD, "")), RACE_JWT_BAD_SIGNATURE,
          "empty signature");

    /* the right HMAC cut short, or with a byte more */

    t = mk(T_HDR, T_PAYLOAD, secret1);
    strcpy(sig, strrchr(t, '.') + 1);
    sig[40] = '\0';
    is_rc(vfy(mk_sig(T_HDR, T_PAYLOAD, sig)), RACE_JWT_BAD_SIGNATURE,
          "the right HMAC's first 30 bytes");

    mk_sig(T_HDR, T_PAYLOAD, "");
    n = strlen(tok) - 1;
    HMAC(EVP_sha256(), secret1, (int) strlen(secret1), (const uint8_t *) tok,
         n, md, NULL);
    md[32] = 0;
    t_b64(sig, md, 33);
    is_rc(vfy(mk_sig(T_HDR, T_PAYLOAD, sig)), RACE_JWT_BAD_SIGNATURE,
          "the right HMAC and a zero byte");
    t_b64(sig, md, 32);
    is_rc(vfy(mk_sig(T_HDR, T_PAYLOAD, sig)), RACE_JWT_OK,
          "the right HMAC");

    /* HMAC-SHA256 of something else with the right key */

    HMAC(EVP_sha256(), secret1, (int) strlen(secret1), (const uint8_t *) "x",
         1, md, NULL);
    t_b64(sig, md, 32);
    is_rc(vfy(mk_sig(T_HDR, T_PAYLOAD, sig)), RACE_JWT_BAD_SIGNATURE,
          "an HMAC of other data");
}


/* every one-character change anywhere in a valid token is refused */

static void
test_tamper(void)
{
    char           t[T_TOKEN], c;
    size_t         i, k, len, dot1, dot2, tries, accepted, pay, pay_bad_sig;
    const char    *alt = "AQgw-_.=+/ ";
    race_jwt_rc_e  rc;

    strcpy(t, mk(T_HDR, T_PAYLOAD, secret1));
    len = strlen(t);
    dot1 = strchr(t, '.') - t;
    dot2 = strrchr(t, '.') - t;

    tries = 0;
    accepted = 0;
    pay = 0;
    pay_bad_sig = 0;

    for (i = 0; i < len; i++) {
        for (k = 0; alt[k]; k++) {
            c = t[i];

            if (c == alt[k]) {
                continue;
            }

            t[i] = alt[k];
            rc = race_jwt_verify(t, len, keys, nkeys, T_ISS, T_AUD, T_NOW, 0,
                                 &got);
            t[i] = c;
            tries++;

            if (rc == RACE_JWT_OK) {
                diag("accepted with '%c' at %zu", alt[k], i);
                accepted++;
            }

            /* the payload is not even decoded before the signature */

            if (i > dot1 && i < dot2 && k < 6) {
                pay++;
                pay_bad_sig += (rc == RACE_JWT_BAD_SIGNATURE);
            }
        }
    }

    ok(tries > 1000 && accepted == 0, "%zu one-char changes, none accepted",
       tries);
    ok(pay > 500 && pay_bad_sig == pay,
       "payload changes: bad signature (%zu of %zu)", pay_bad_sig, pay);

    /* a payload that is different JSON, one char changed, base64 valid */

    strcpy(t, mk(T_HDR, T_PAYLOAD, secret1));
    c = t[dot2 - 5];
    t[dot2 - 5] = (c == 'A') ? 'B' : 'A';
    is_rc(vfy(t), RACE_JWT_BAD_SIGNATURE, "tampered payload");

    /* a whole header swapped for another valid one */

    strcpy(t, mk(T_HDR, T_PAYLOAD, secret1));
    mk_sig("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k2\"}", T_PAYLOAD,
           strrchr(t, '.') + 1);
    is_rc(vfy(tok), RACE_JWT_BAD_SIGNATURE, "header kid changed to k2");
    mk_sig("{\"alg\":\"HS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}", T_PAYLOAD,
           strrchr(t, '.') + 1);
    is_rc(vfy(tok), RACE_JWT_BAD_SIGNATURE, "header keys reordered");

    /* the payload of another valid token, same key */

    mk_sig(T_HDR, payload_with("\"exp\":1732486400,\"role\":\"admin\""),
           strrchr(t, '.') + 1);
    is_rc(vfy(tok), RACE_JWT_BAD_SIGNATURE, "payload swapped, role admin");
}


static void
test_shape(void)
{
    char         big[T_TOKEN + 64];
    char         pad[RACE_JWT_MAX_LEN];
    char         hdr[64];
    char         good[T_TOKEN];
    size_t       i, len, n, pn;
    const char  *t;

    is_rc(race_jwt_verify("", 0, keys, nkeys, T_ISS, T_AUD, T_NOW, 0, &got),
          RACE_JWT_MALFORMED, "empty token");
    is_rc(race_jwt_verify(NULL, 0, keys, nkeys, T_ISS, T_AUD, T_NOW, 0, &got),
          RACE_JWT_MALFORMED, "NULL token");
    is_rc(vfy(".."), RACE_JWT_MALFORMED, "two dots only");
    is_rc(vfy("abc"), RACE_JWT_MALFORMED, "one part");

    strcpy(good, mk(T_HDR, T_PAYLOAD, secret1));
    t = good;
    snprintf(big, sizeof(big), "%s", t);
    *strrchr(big, '.') = '\0';
    is_rc(vfy(big), RACE_JWT_MALFORMED, "two parts");

    snprintf(big, sizeof(big), "%s.", t);
    is_rc(vfy(big), RACE_JWT_MALFORMED, "four parts, the last empty");
    snprintf(big, sizeof(big), "%s.AAAA", t);
    is_rc(vfy(big), RACE_JWT_MALFORMED, "four parts");
    snprintf(big, sizeof(big), ".%s", t);
    is_rc(vfy(big), RACE_JWT_MALFORMED, "a leading dot");

    snprintf(big, sizeof(big), "%s", t);
    memmove(big, strchr(big, '.'), strlen(strchr(big, '.')) + 1);
    is_rc(vfy(big), RACE_JWT_MALFORMED, "empty header");

    mk_sig(T_HDR, "", "");
    is_rc(vfy(tok), RACE_JWT_MALFORMED, "empty payload and signature");

    /* len, not the NUL, ends the token */

    snprintf(big, sizeof(big), "%sXYZ", t);
    is_rc(race_jwt_verify(big, strlen(t), keys, nkeys, T_ISS, T_AUD, T_NOW, 0,
                          &got),
          RACE_JWT_OK, "len bytes of a longer buffer");
    ok(race_jwt_verify(t, strlen(t) - 1, keys, nkeys, T_ISS, T_AUD, T_NOW,
                       0, &got)
       != RACE_JWT_OK, "one byte short: refused");

    /* base64url: no padding, no '+' '/', no whitespace, canonical */

    snprintf(big, sizeof(big), "%s=", t);
    is_rc(vfy(big), RACE_JWT_MALFORMED, "padding '=' after the signature");
    snprintf(big, sizeof(big), "%s", t);
    big[strlen(big) - 1] = '=';
    is_rc(vfy(big), RACE_JWT_MALFORMED, "'=' in the signature");

    /* padding in a header or payload that the signature covers */

    mk_sig(T_HDR, T_PAYLOAD, "");
    n = strchr(tok, '.') - tok;
    ok(n % 4 == 3, "T_HDR's base64url lacks one '=' (%zu chars)", n);
    memmove(tok + n + 1, tok + n, strlen(tok + n) + 1);
    tok[n] = '=';
    is_rc(vfy(sign_raw(tok, secret1)), RACE_JWT_MALFORMED,
          "padding '=' in the header, signed");

    mk_sig(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"ride\",\"sub\":\"p7\","
           "\"exp\":1732486400}  ", "");
    n = strlen(tok) - 1;
    pn = n - (strchr(tok, '.') - tok) - 1;
    ok(pn % 4 == 2, "payload's base64url lacks '==' (%zu chars)", pn);
    strcpy(tok + n, "==.");
    is_rc(vfy(sign_raw(tok, secret1)), RACE_JWT_MALFORMED,
          "padding '==' in the payload, signed");
    tok[n] = '.';
    tok[n + 1] = '\0';
    is_rc(vfy(sign_raw(tok, secret1)), RACE_JWT_OK,
          "the same payload without padding");

    snprintf(big, sizeof(big), "%s", t);
    big[3] = '+';
    is_rc(vfy(big), RACE_JWT_MALFORMED, "'+' in the header");
    big[3] = '/';
    is_rc(vfy(big), RACE_JWT_MALFORMED, "'/' in the header");
    snprintf(big, sizeof(big), "%s", t);
    big[strlen(big) - 5] = ' ';
    is_rc(vfy(big), RACE_JWT_MALFORMED, "space in the signature");
    snprintf(big, sizeof(big), " %s", t);
    is_rc(vfy(big), RACE_JWT_MALFORMED, "leading space");
    snprintf(big, sizeof(big), "%s\n", t);
    is_rc(vfy(big), RACE_JWT_MALFORMED, "trailing newline");
    snprintf(big, sizeof(big), "%s", t);
    big[10] = '\x80';
    is_rc(vfy(big), RACE_JWT_MALFORMED, "a byte over 0x7f");

    /*
     * The signature's last char carries 4 bits of the last byte and 2
     * unused bits: flipping the lowest bit of its value decodes to the
     * same 32 bytes, a second spelling that must be refused.
     */

    snprintf(big, sizeof(big), "%s", t);
    len = strlen(big);
    big[len - 1] = t_b64url[(strchr(t_b64url, big[len - 1]) - t_b64url) ^ 1];
    is_rc(vfy(big), RACE_JWT_MALFORMED, "non-canonical signature");

    /* 4n + 1 chars are no base64; 44 are 33 bytes */

    snprintf(big, sizeof(big), "%sAA", t);
    is_rc(vfy(big), RACE_JWT_MALFORMED, "signature of 45 chars");
    snprintf(big, sizeof(big), "%sA", t);
    is_rc(vfy(big), RACE_JWT_BAD_SIGNATURE, "signature of 44 chars");

    /* JSON that is not an object, bad JSON, duplicate keys */

    is_rc(vfy(mk("[\"HS256\"]", T_PAYLOAD, secret1)), RACE_JWT_MALFORMED,
          "header an array");
    is_rc(vfy(mk("\"HS256\"", T_PAYLOAD, secret1)), RACE_JWT_MALFORMED,
          "header a string");
    is_rc(vfy(mk("{\"alg\":\"HS256\",\"kid\":\"k1\"", T_PAYLOAD, secret1)),
          RACE_JWT_MALFORMED, "header truncated JSON");
    is_rc(vfy(mk("{\"alg\":\"HS256\",\"kid\":\"k1\"}x", T_PAYLOAD, secret1)),
          RACE_JWT_MALFORMED, "header with trailing garbage");
    is_rc(vfy(mk("{\"alg\":\"none\",\"alg\":\"HS256\",\"kid\":\"k1\"}",
                 T_PAYLOAD, secret1)),
          RACE_JWT_MALFORMED, "duplicate alg in the header");
    is_rc(vfy(mk(T_HDR, "[1]", secret1)), RACE_JWT_MALFORMED,
          "payload an array");
    is_rc(vfy(mk(T_HDR, "{\"sub\":\"p7\"", secret1)), RACE_JWT_MALFORMED,
          "payload truncated JSON");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"sub\":\"p8\""),
                 secret1)),
          RACE_JWT_MALFORMED, "duplicate sub in the payload");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"x\":{\"a\":1,"
                                     "\"a\":2}"),
                 secret1)),
          RACE_JWT_MALFORMED, "duplicate key in a nested object");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"ride\","
                 "\"sub\":\"p\\u00007\",\"exp\":1732486400}", secret1)),
          RACE_JWT_MALFORMED, "\\u0000 in sub");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"ride\","
                 "\"sub\":\"p7\",\"exp\":1732486400,\"x\":\"\xff\"}",
                 secret1)),
          RACE_JWT_MALFORMED, "bad UTF-8 in the payload");

    /*
     * Exactly RACE_JWT_MAX_LEN bytes pass, one more is refused.  Unpadded
     * base64url lengths are never 4n + 1, so the header is widened with
     * spaces until some padding claim gives the exact length.
     */

    memset(pad, 'x', sizeof(pad));
    len = 0;

    for (i = 0; i < 3 && len != RACE_JWT_MAX_LEN; i++) {
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"kid\":\"k1\"%.*s}",
                 (int) i, "   ");

        for (n = 2900; n < 3100; n++) {
            snprintf(big, sizeof(big), "\"exp\":1732486400,\"pad\":\"%.*s\"",
                     (int) n, pad);
            len = strlen(mk(hdr, payload_with(big), secret1));

            if (len == RACE_JWT_MAX_LEN) {
                break;
            }
        }
    }

    is_rc(vfy(tok), RACE_JWT_OK, "token of %zu bytes", len);

    snprintf(big, sizeof(big), "%sA", tok);
    is_rc(vfy(big), RACE_JWT_MALFORMED, "token of %zu bytes", strlen(big));

    memset(big, 'A', sizeof(big));
    is_rc(race_jwt_verify(big, sizeof(big), keys, nkeys, T_ISS, T_AUD,
                          T_NOW, 0, &got),
          RACE_JWT_MALFORMED, "huge token");
}


static void
test_claims(void)
{
    race_jwt_claims_t  keep;

    /* out stays untouched on failure */

    memset(&got, 0x5a, sizeof(got));
    keep = got;
    is_rc(vfy(mk(T_HDR, T_PAYLOAD, secret2)), RACE_JWT_BAD_SIGNATURE,
          "bad signature");
    ok(memcmp(&got, &keep, sizeof(got)) == 0, "out untouched on failure");
    mk(T_HDR, T_PAYLOAD, secret1);
    is_rc(race_jwt_verify(tok, strlen(tok), keys, nkeys, T_ISS, T_AUD, T_NOW,
                          0, NULL),
          RACE_JWT_OK, "out may be NULL");

    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"ride\","
                 "\"sub\":\"p7\"}", secret1)),
          RACE_JWT_BAD_CLAIMS, "exp missing");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":\"1732486400\""), secret1)),
          RACE_JWT_BAD_CLAIMS, "exp a string");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400.0"), secret1)),
          RACE_JWT_BAD_CLAIMS, "exp a real");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":null"), secret1)),
          RACE_JWT_BAD_CLAIMS, "exp null");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"nbf\":\"1\""),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "nbf a string");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"iat\":true"),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "iat true");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":99999999999999999999"),
                 secret1)),
          RACE_JWT_MALFORMED, "exp beyond int64: not JSON we can read");

    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"web\","
                 "\"sub\":\"p7\",\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_AUDIENCE, "wrong aud");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":[\"web\",\"api\"],"
                 "\"sub\":\"p7\",\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_AUDIENCE, "aud array without ours");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":[],"
                 "\"sub\":\"p7\",\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_AUDIENCE, "aud empty array");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":[\"web\",\"ride\"],"
                 "\"sub\":\"p7\",\"exp\":1732486400}", secret1)),
          RACE_JWT_OK, "aud array with ours");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":[\"ride\",7],"
                 "\"sub\":\"p7\",\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_CLAIMS, "aud array with a number");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"RIDE\","
                 "\"sub\":\"p7\",\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_AUDIENCE, "aud RIDE (case matters)");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"sub\":\"p7\","
                 "\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_CLAIMS, "aud missing");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":{\"a\":\"ride\"},"
                 "\"sub\":\"p7\",\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_CLAIMS, "aud an object");

    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_racer\",\"aud\":\"ride\","
                 "\"sub\":\"p7\",\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_ISSUER, "wrong iss");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_rac\",\"aud\":\"ride\","
                 "\"sub\":\"p7\",\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_ISSUER, "iss a prefix of ours");
    is_rc(vfy(mk(T_HDR, "{\"aud\":\"ride\",\"sub\":\"p7\","
                 "\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_CLAIMS, "iss missing");
    is_rc(vfy(mk(T_HDR, "{\"iss\":[\"ngx_race\"],\"aud\":\"ride\","
                 "\"sub\":\"p7\",\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_CLAIMS, "iss an array");
    mk(T_HDR, T_PAYLOAD, secret1);
    is_rc(race_jwt_verify(tok, strlen(tok), keys, nkeys, NULL, T_AUD, T_NOW,
                          0, &got),
          RACE_JWT_BAD_ISSUER, "iss argument NULL never matches");

    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"ride\","
                 "\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_CLAIMS, "sub missing");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"x\":0"),
                 secret1)),
          RACE_JWT_OK, "unknown claims are ignored");

    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"ride\","
                 "\"sub\":\"p 7\",\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_CLAIMS, "sub with a space");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"ride\","
                 "\"sub\":\"\",\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_CLAIMS, "sub empty");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"ride\","
                 "\"sub\":\"r1:p7\",\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_CLAIMS, "sub with a colon");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"ride\","
                 "\"sub\":\"p\\u00e9\",\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_CLAIMS, "sub with a non-ASCII letter");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"ride\","
                 "\"sub\":7,\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_CLAIMS, "sub a number");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"ride\",\"sub\":"
                 "\"01234567890123456789012345678901234567890123456789"
                 "012345678901234\",\"exp\":1732486400}", secret1)),
          RACE_JWT_BAD_CLAIMS, "sub of 65 chars");
    is_rc(vfy(mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"ride\",\"sub\":"
                 "\"01234567890123456789012345678901234567890123456789"
                 "01234567890123\",\"exp\":1732486400}", secret1)),
          RACE_JWT_OK, "sub of 64 chars");

    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"race\":\"r/1\""),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "race with a slash");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"race\":\"\""),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "race empty");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"race\":null"),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "race null");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,"
                                     "\"role\":\"abcdefghijklmno\""),
                 secret1)),
          RACE_JWT_OK, "role of 15 chars");
    is_str(got.role, "abcdefghijklmno", "role copied");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,"
                                     "\"role\":\"abcdefghijklmnop\""),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "role of 16 chars");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"role\":[]"),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "role an array");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"jti\":\"0123456789"
                                     "012345678901234567890123456789012345678"
                                     "901234567890123\""),
                 secret1)),
          RACE_JWT_OK, "jti of 64 chars");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"jti\":\"0123456789"
                                     "012345678901234567890123456789012345678"
                                     "9012345678901234\""),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "jti of 65 chars");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"jti\":5"),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "jti a number");
}


/* gen: an access token's account generation, revoked by raising it */

static void
test_gen(void)
{
    char               dst[RACE_JWT_MAX_LEN];
    size_t             n;
    race_jwt_claims_t  c;

    memset(&c, 0, sizeof(c));
    strcpy(c.sub, "u1");
    strcpy(c.role, "organizer");
    strcpy(c.jti, "j1");
    c.gen = 7;
    c.iat = T_NOW - 10;
    c.exp = T_NOW + 900;

    /* written after role, before iat, as docs/INTERNALS.md lists them */

    n = race_jwt_sign(dst, &keys[0], T_ISS, T_AUD, &c);
    mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"ride\",\"sub\":\"u1\","
       "\"role\":\"organizer\",\"gen\":7,\"iat\":1732400090,"
       "\"exp\":1732401000,\"jti\":\"j1\"}", secret1);
    ok(n > 0 && strcmp(dst, tok) == 0, "sign gen 7: the expected token");

    memset(&got, 0, sizeof(got));
    is_rc(vfy(dst), RACE_JWT_OK, "gen 7 verifies");
    is_int(got.gen, 7, "gen 7 read back");
    strcpy(c.kid, "k1");
    ok(claims_eq(&got, &c), "gen 7: every claim equal");

    /* 0 is left out, as nbf 0 is */

    c.gen = 0;
    n = race_jwt_sign(dst, &keys[0], T_ISS, T_AUD, &c);
    mk(T_HDR, "{\"iss\":\"ngx_race\",\"aud\":\"ride\",\"sub\":\"u1\","
       "\"role\":\"organizer\",\"iat\":1732400090,"
       "\"exp\":1732401000,\"jti\":\"j1\"}", secret1);
    ok(n > 0 && strcmp(dst, tok) == 0, "sign gen 0: no gen in the token");
    got.gen = 99;
    is_rc(vfy(dst), RACE_JWT_OK, "gen 0 token verifies");
    is_int(got.gen, 0, "gen absent is 0");

    c.gen = INT64_MAX;
    n = race_jwt_sign(dst, &keys[0], T_ISS, T_AUD, &c);
    ok(n > 0, "sign gen INT64_MAX");
    is_rc(vfy(dst), RACE_JWT_OK, "gen INT64_MAX verifies");
    is_int(got.gen, INT64_MAX, "gen INT64_MAX read back");

    c.gen = -1;
    is_int((int64_t) race_jwt_sign(dst, &keys[0], T_ISS, T_AUD, &c), 0,
           "sign refuses gen -1");
    c.gen = INT64_MIN;
    is_int((int64_t) race_jwt_sign(dst, &keys[0], T_ISS, T_AUD, &c), 0,
           "sign refuses gen INT64_MIN");

    /* what a token may carry */

    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"gen\":0"),
                 secret1)),
          RACE_JWT_OK, "gen 0 written out");
    is_int(got.gen, 0, "gen 0 read");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"gen\":1"),
                 secret1)),
          RACE_JWT_OK, "gen 1");
    is_int(got.gen, 1, "gen 1 read");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,"
                                     "\"gen\":9223372036854775807"),
                 secret1)),
          RACE_JWT_OK, "gen 2^63 - 1");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"gen\":-1"),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "gen -1");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,"
                                     "\"gen\":-9223372036854775808"),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "gen -2^63");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,"
                                     "\"gen\":9223372036854775808"),
                 secret1)),
          RACE_JWT_MALFORMED, "gen 2^63: not an int64, not JSON we read");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"gen\":\"1\""),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "gen a string");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"gen\":1.0"),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "gen 1.0, a real");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"gen\":null"),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "gen null");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"gen\":true"),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "gen true");
    is_rc(vfy(mk(T_HDR, payload_with("\"exp\":1732486400,\"gen\":[1]"),
                 secret1)),
          RACE_JWT_BAD_CLAIMS, "gen an array");
}


static void
test_sign_refuses(void)
{
    char               dst[RACE_JWT_MAX_LEN];
    char               iss[RACE_JWT_MAX_LEN];
    size_t             i, n, last;
    race_jwt_key_t     k;
    race_jwt_claims_t  c;

    memset(&c, 0, sizeof(c));
    strcpy(c.sub, "p7");
    c.exp = T_NOW + 60;

    ok(race_jwt_sign(dst, &keys[0], T_ISS, T_AUD, &c) > 0, "sign p7");

    strcpy(c.sub, "p 7");
    is_int((int64_t) race_jwt_sign(dst, &keys[0], T_ISS, T_AUD, &c), 0,
           "sign refuses sub \"p 7\"");
    c.sub[0] = '\0';
    is_int((int64_t) race_jwt_sign(dst, &keys[0], T_ISS, T_AUD, &c), 0,
           "sign refuses an empty sub");
    memset(c.sub, 'a', sizeof(c.sub));
    is_int((int64_t) race_jwt_sign(dst, &keys[0], T_ISS, T_AUD, &c), 0,
           "sign refuses an unterminated sub");

    strcpy(c.sub, "p7");
    strcpy(c.race, "r.1");
    is_int((int64_t) race_jwt_sign(dst, &keys[0], T_ISS, T_AUD, &c), 0,
           "sign refuses race \"r.1\"");
    c.race[0] = '\0';
    memset(c.role, 'a', sizeof(c.role));
    is_int((int64_t) race_jwt_sign(dst, &keys[0], T_ISS, T_AUD, &c), 0,
           "sign refuses a role of 16 chars");
    c.role[0] = '\0';

    /* the longest iss that fits: the token ends below RACE_JWT_MAX_LEN */

    memset(iss, 'i', sizeof(iss));
    last = 0;

    for (i = 2800; i < 3200; i++) {
        iss[i] = '\0';
        n = race_jwt_sign(dst, &keys[0], iss, T_AUD, &c);
        iss[i] = 'i';

        if (n == 0) {
            break;
        }

        last = n;
    }

    iss[i - 1] = '\0';
    ok(i > 2800 && i < 3200 && last < RACE_JWT_MAX_LEN
       && last + 4 >= RACE_JWT_MAX_LEN,
       "sign: longest token %zu bytes, iss of %zu", last, i - 1);
    n = race_jwt_sign(dst, &keys[0], iss, T_AUD, &c);
    is_rc(race_jwt_verify(dst, n, keys, nkeys, iss, T_AUD, T_NOW, 0, &got),
          RACE_JWT_OK, "the longest token verifies");
    iss[i - 1] = 'i';
    iss[i] = '\0';
    is_int((int64_t) race_jwt_sign(dst, &keys[0], iss, T_AUD, &c), 0,
           "sign: an iss one longer does not fit");

    k = keys[0];
    k.secret_len = RACE_JWT_KEY_MIN - 1;
    is_int((int64_t) race_jwt_sign(dst, &k, T_ISS, T_AUD, &c), 0,
           "sign refuses a secret of %d bytes", RACE_JWT_KEY_MIN - 1);
    k.secret_len = RACE_JWT_KEY_MIN;
    ok(race_jwt_sign(dst, &k, T_ISS, T_AUD, &c) > 0,
       "sign takes a secret of %d bytes", RACE_JWT_KEY_MIN);
    k.kid = "";
    is_int((int64_t) race_jwt_sign(dst, &k, T_ISS, T_AUD, &c), 0,
           "sign refuses an empty kid");
    is_int((int64_t) race_jwt_sign(dst, NULL, T_ISS, T_AUD, &c), 0,
           "sign refuses no key");
}


static void
test_helpers(void)
{
    int          i, j, distinct;
    const char  *a, *b;

    ok(race_id_valid("r1", 2), "id r1");
    ok(race_id_valid("A-z_0-9", 7), "id A-z_0-9");
    ok(!race_id_valid("", 0), "empty id");
    ok(!race_id_valid(NULL, 0), "NULL id");
    ok(!race_id_valid("r 1", 3), "id with a space");
    ok(!race_id_valid("r.1", 3), "id with a dot");
    ok(!race_id_valid("r1\n", 3), "id with a newline");
    ok(!race_id_valid("r\0001", 3), "id with a NUL");
    ok(race_id_valid("r1 ignored", 2), "only len bytes count");
    ok(race_id_valid("0123456789012345678901234567890123456789012345678901"
                     "234567890123", 64), "id of 64");
    ok(!race_id_valid("0123456789012345678901234567890123456789012345678901"
                      "2345678901234", 65), "id of 65");

    is_int((int64_t) race_jwt_key_trim((const uint8_t *) "abc\n", 4), 3,
           "key trim: LF");
    is_int((int64_t) race_jwt_key_trim((const uint8_t *) "abc\r\n\n", 6), 3,
           "key trim: CR LF LF");
    is_int((int64_t) race_jwt_key_trim((const uint8_t *) "a\nbc", 4), 4,
           "key trim: inner LF kept");
    is_int((int64_t) race_jwt_key_trim((const uint8_t *) "abc ", 4), 4,
           "key trim: space kept");
    is_int((int64_t) race_jwt_key_trim((const uint8_t *) "\n", 1), 0,
           "key trim: nothing but LF");

    distinct = 1;

    for (i = RACE_JWT_OK; i <= RACE_JWT_BAD_CLAIMS; i++) {
        a = race_jwt_strerror((race_jwt_rc_e) i);

        for (j = RACE_JWT_OK; j < i; j++) {
            b = race_jwt_strerror((race_jwt_rc_e) j);

            if (strcmp(a, b) == 0) {
                distinct = 0;
            }
        }
    }

    ok(distinct, "strerror: one message per code");
    is_str(race_jwt_strerror(RACE_JWT_EXPIRED), "token expired",
           "strerror: expired");
    is_str(race_jwt_strerror((race_jwt_rc_e) 99), "unknown error",
           "strerror: out of range");
}


/* the test's own base64url, kept apart from the core's */

static size_t
t_b64(char *dst, const void *src, size_t len)
{
    size_t          i, n;
    uint32_t        v;
    const uint8_t  *s;

    s = src;
    n = 0;

    for (i = 0; i < len; i += 3) {
        v = (uint32_t) s[i] << 16;

        if (i + 1 < len) {
            v |= (uint32_t) s[i + 1] << 8;
        }

        if (i + 2 < len) {
            v |= s[i + 2];
        }

        dst[n++] = t_b64url[v >> 18];
        dst[n++] = t_b64url[(v >> 12) & 0x3f];

        if (i + 1 < len) {
            dst[n++] = t_b64url[(v >> 6) & 0x3f];
        }

        if (i + 2 < len) {
            dst[n++] = t_b64url[v & 0x3f];
        }
    }

    dst[n] = '\0';

    return n;
}


/* header.payload signed with HMAC-SHA256 and secret, in tok */

static const char *
mk(const char *header, const char *payload, const char *secret)
{
    mk_sig(header, payload, "");

    return sign_raw(tok, secret);
}


/* t is "header.payload." as text: appends its HMAC-SHA256 */

static const char *
sign_raw(char *t, const char *secret)
{
    size_t   n;
    uint8_t  md[32];

    n = strlen(t) - 1;

    HMAC(EVP_sha256(), secret, (int) strlen(secret), (const uint8_t *) t, n,
         md, NULL);
    t_b64(t + n + 1, md, 32);

    return t;
}


/* header.payload.sig, the signature given literally, in tok */

static const char *
mk_sig(const char *header, const char *payload, const char *sig)
{
    char    s[T_TOKEN];
    size_t  n;

    snprintf(s, sizeof(s), "%s", sig);

    n = t_b64(tok, header, strlen(header));
    tok[n++] = '.';
    n += t_b64(tok + n, payload, strlen(payload));
    tok[n++] = '.';
    snprintf(tok + n, sizeof(tok) - n, "%s", s);

    return tok;
}


static race_jwt_rc_e
vfy(const char *token)
{
    return vfy_at(token, T_NOW, 0);
}


static race_jwt_rc_e
vfy_at(const char *token, int64_t now, int64_t leeway)
{
    return race_jwt_verify(token, strlen(token), keys, nkeys, T_ISS, T_AUD,
                           now, leeway, &got);
}


static int
is_rc(race_jwt_rc_e got_rc, race_jwt_rc_e want, const char *fmt, ...)
{
    char     name[256];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);

    if (!ok(got_rc == want, "%s: %s", name, race_jwt_strerror(want))) {
        diag("  got: %s", race_jwt_strerror(got_rc));
        return 0;
    }

    return 1;
}


static int
claims_eq(const race_jwt_claims_t *a, const race_jwt_claims_t *b)
{
    return strcmp(a->sub, b->sub) == 0 && strcmp(a->race, b->race) == 0
           && strcmp(a->role, b->role) == 0 && strcmp(a->jti, b->jti) == 0
           && strcmp(a->kid, b->kid) == 0 && a->iat == b->iat
           && a->exp == b->exp && a->nbf == b->nbf && a->gen == b->gen;
}


/* our usual iss, aud and sub plus the given claims */

static const char *
payload_with(const char *claims)
{
    static char  buf[T_TOKEN];

    snprintf(buf, sizeof(buf),
             "{\"iss\":\"ngx_race\",\"aud\":\"ride\",\"sub\":\"p7\",%s}",
             claims);

    return buf;
}
