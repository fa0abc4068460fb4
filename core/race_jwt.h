
/*
 * ngx_race: JSON Web Tokens, HS256 only.
 *
 * A pure core: strings in, claims out.  No nginx types, no allocation
 * beyond jansson's inside race_jwt_verify(), which frees what it takes.
 */


#ifndef _RACE_JWT_H_INCLUDED_
#define _RACE_JWT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_id.h"


#define RACE_JWT_KEY_MIN     32       /* bytes of secret, at least */
#define RACE_JWT_KID_MAX     64
#define RACE_JWT_ID_MAX      RACE_ID_MAX   /* race, rider, jti, sub */
#define RACE_JWT_MAX_LEN     4096     /* a longer token is refused */

/*
 * The seconds of clock skew /ride allows past a rider token's exp:
 * race-accounts keeps a revocation in Redis until exp and these passed.
 */
#define RACE_JWT_RIDE_LEEWAY 30


typedef struct {
    const char     *kid;
    const uint8_t  *secret;
    size_t          secret_len;
} race_jwt_key_t;


typedef enum {
    RACE_JWT_OK = 0,
    RACE_JWT_MALFORMED,      /* not three base64url parts of JSON */
    RACE_JWT_BAD_ALG,        /* alg is not HS256 ("none" included) */
    RACE_JWT_UNKNOWN_KID,
    RACE_JWT_BAD_SIGNATURE,
    RACE_JWT_EXPIRED,
    RACE_JWT_NOT_YET_VALID,
    RACE_JWT_BAD_ISSUER,
    RACE_JWT_BAD_AUDIENCE,
    RACE_JWT_BAD_CLAIMS      /* a claim missing or of the wrong type */
} race_jwt_rc_e;


/*
 * claims ngx_race uses; strings are NUL-terminated copies, and all four
 * (sub, race, role, jti) must be ids, [A-Za-z0-9_-], to be accepted;
 * gen, an access token's account generation (docs/INTERNALS.md), must
 * be a JSON integer >= 0 when present
 */
typedef struct {
    char            sub[RACE_JWT_ID_MAX + 1];
    char            race[RACE_JWT_ID_MAX + 1];   /* "" when absent */
    char            role[16];                    /* "" when absent */
    char            jti[RACE_JWT_ID_MAX + 1];    /* "" when absent */
    char            kid[RACE_JWT_KID_MAX + 1];
    int64_t         iat;
    int64_t         exp;
    int64_t         nbf;                         /* 0 when absent */
    int64_t         gen;                         /* 0 when absent */
} race_jwt_claims_t;


/*
 * Verifies token[0..len) against keys[0..nkeys) (chosen by kid), with
 * the signature compared in constant time, then exp (required), nbf,
 * iss and aud (both required to equal the arguments) at time now
 * (Unix seconds), allowing leeway seconds of clock skew.  A key whose
 * secret is shorter than RACE_JWT_KEY_MIN, or whose kid is empty or
 * longer than RACE_JWT_KID_MAX, is never used; a token without a kid
 * gets RACE_JWT_UNKNOWN_KID.  A NULL iss or aud matches nothing.  out
 * is written only on RACE_JWT_OK.
 */
race_jwt_rc_e race_jwt_verify(const char *token, size_t len,
    const race_jwt_key_t *keys, size_t nkeys, const char *iss,
    const char *aud, int64_t now, int64_t leeway, race_jwt_claims_t *out);

/*
 * Signs claims with key into dst (RACE_JWT_MAX_LEN bytes), NUL-terminated;
 * returns the token's length, or 0 if it does not fit or if
 * race_jwt_verify() would refuse the claims' shape or the key (sub not
 * an id, race, role or jti neither empty nor an id, gen negative,
 * secret too short).  Empty strings in claims, iss and aud (or NULL
 * ones) are left out of the payload; nbf 0 and gen 0 are left out.
 */
size_t race_jwt_sign(char *dst, const race_jwt_key_t *key, const char *iss,
    const char *aud, const race_jwt_claims_t *claims);

const char *race_jwt_strerror(race_jwt_rc_e rc);

/*
 * The secret in a key file's data[0..len): its bytes without the line
 * ends (CR and LF) at the end.  Returns the secret's length.  Every
 * reader of key files (race_token_key, race-token) goes through this,
 * so a file means the same secret everywhere.
 */
size_t race_jwt_key_trim(const uint8_t *data, size_t len);


#endif /* _RACE_JWT_H_INCLUDED_ */
