
/*
 * ngx_race: accounts (docs/INTERNALS.md, "Accounts"): emails, names,
 * roles, user ids, and the bodies of signup, login and role changes.
 *
 * A pure core: bytes in, checked copies out.  No nginx types; jansson
 * only inside the parsers, which free what they take.  Uses the
 * password core's UTF-8 decoder.
 */


#ifndef _RACE_ACCOUNT_H_INCLUDED_
#define _RACE_ACCOUNT_H_INCLUDED_


#include <stddef.h>

#include "race_password.h"


#define RACE_EMAIL_MAX          254     /* bytes, all ASCII */
#define RACE_EMAIL_LOCAL_MAX    64
#define RACE_EMAIL_DOMAIN_MAX   253
#define RACE_EMAIL_LABEL_MAX    63

#define RACE_NAME_MAX           100     /* code points */
#define RACE_NAME_BYTES_MAX     (4 * RACE_NAME_MAX)

#define RACE_USER_ID_LEN        32      /* hex of 16 random bytes */
#define RACE_ROLE_MAX           15      /* the JWT core's room for role */

/* an err buffer this size holds every parser message whole */
#define RACE_ACCOUNT_ERR_MAX    128


/* strings are NUL-terminated; lengths exclude the NUL */

typedef struct {
    char            email[RACE_EMAIL_MAX + 1];      /* normalised */
    size_t          email_len;
    char            password[RACE_PASSWORD_BYTES_MAX + 1];
    size_t          password_len;
    char            name[RACE_NAME_BYTES_MAX + 1];  /* race_name_valid() */
    size_t          name_len;
} race_signup_t;


typedef struct {
    char            email[RACE_EMAIL_MAX + 1];      /* normalised */
    size_t          email_len;
    char            password[RACE_PASSWORD_BYTES_MAX + 1];
    size_t          password_len;
} race_login_t;


typedef struct {
    char            role[RACE_ROLE_MAX + 1];        /* race_role_valid() */
} race_role_req_t;


/*
 * Normalises the email in[0..len) into out[0..out_size), NUL-terminated
 * (out may be in): ASCII whitespace trimmed from both ends, ASCII
 * lower-cased, then checked.  Returns its length, or 0 if it is not
 * valid or out has no room for it and the NUL.  Valid means, kept
 * simple on purpose (no quoted local parts, comments, IP literals or
 * raw internationalised domains, which must come as punycode):
 *
 *   - exactly one '@', at most RACE_EMAIL_MAX bytes in all;
 *   - a local part of 1 to 64 printable ASCII bytes (0x21 to 0x7e)
 *     other than ( ) < > [ ] \ , ; : " and '@'; dots anywhere;
 *   - a domain of 1 to 253 bytes: at least two dot-separated labels of
 *     1 to 63 of [a-z0-9-], none starting or ending with '-'.
 *
 * Normalising a normalised email gives it back unchanged.
 */
size_t race_email_normalize(const char *in, size_t len, char *out,
    size_t out_size);

/*
 * 1 if name[0..len) is a display name: valid UTF-8, 1 to RACE_NAME_MAX
 * code points, no control characters (U+0000-U+001F, U+007F-U+009F:
 * no line breaks or tabs in standings), and not only spaces.
 */
int race_name_valid(const char *name, size_t len);

/* 1 if s[0..len) is "admin", "organizer", "rider" or "spectator" */
int race_role_valid(const char *s, size_t len);

/*
 * Writes a new user id, 32 lower-case hex characters of 16 bytes from
 * RAND_bytes(), and a NUL.  Returns 0, or -1 if RAND_bytes() failed.
 */
int race_user_id_generate(char out[RACE_USER_ID_LEN + 1]);

/*
 * The parsers of request bodies.  Each takes json[0..len), which must
 * be one JSON object without duplicate keys; fields it does not know
 * are ignored; its fields are required strings.  Returns 0 with out
 * filled in, or -1 with a message for the user in err[0..err_size)
 * naming the field (never quoting the body); out is then undefined.
 *
 * race_signup_parse(): {"email","password","name"}; the email is
 * normalised (race_email_normalize()), the name checked
 * (race_name_valid()); the password only for its length in bytes: the
 * caller applies race_password_check_policy(), which needs the list.
 * race_login_parse(): {"email","password"}, the email normalised.
 * race_role_parse(): {"role"}, one of race_role_valid()'s.
 */
int race_signup_parse(const char *json, size_t len, race_signup_t *out,
    char *err, size_t err_size);
int race_login_parse(const char *json, size_t len, race_login_t *out,
    char *err, size_t err_size);
int race_role_parse(const char *json, size_t len, race_role_req_t *out,
    char *err, size_t err_size);


#endif /* _RACE_ACCOUNT_H_INCLUDED_ */
