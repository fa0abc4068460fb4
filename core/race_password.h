
/*
 * ngx_race: passwords (docs/INTERNALS.md, "Accounts").
 *
 * A pure core: argon2id hashing and verification with libargon2, the
 * password policy, the common-password list, and the UTF-8 decoder the
 * policy and account names share.  No nginx types.  Hashing and
 * verifying take tens of milliseconds and 19 MiB each: the module calls
 * them from a thread pool, never on the event loop.  Every function is
 * safe to call from several threads at once, except race_password_init()
 * and the list's load and free, which belong to startup.
 */


#ifndef _RACE_PASSWORD_H_INCLUDED_
#define _RACE_PASSWORD_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_utf8.h"


/* what we hash with; stored hashes with other parameters still verify */
#define RACE_PASSWORD_M_COST       19456    /* KiB */
#define RACE_PASSWORD_T_COST       2
#define RACE_PASSWORD_LANES        1
#define RACE_PASSWORD_SALT_LEN     16
#define RACE_PASSWORD_HASH_LEN     32

/*
 * The most a stored hash may ask of race_password_verify(): a hash
 * beyond these (a corrupt or planted record) is refused unverified
 * rather than allowed to take a thread for seconds or a GiB of memory.
 */
#define RACE_PASSWORD_M_COST_LIMIT 262144   /* KiB, 256 MiB */
#define RACE_PASSWORD_T_COST_LIMIT 16
#define RACE_PASSWORD_LANES_LIMIT  8

/* room for a PHC string: ours are 97 bytes and the NUL */
#define RACE_PASSWORD_ENCODED_MAX  128

/* policy, in code points; 4 bytes each at most */
#define RACE_PASSWORD_MIN          8
#define RACE_PASSWORD_MAX          128
#define RACE_PASSWORD_BYTES_MAX    (4 * RACE_PASSWORD_MAX)


/* one common password: lower-case ASCII, s[len] is '\0' */
typedef struct {
    const char     *s;
    size_t          len;
} race_password_entry_t;


/* the common-password list, sorted and without duplicates */
typedef struct {
    race_password_entry_t  *entries;
    size_t                  n;
    char                   *data;     /* the entries' bytes, one block */
} race_password_list_t;


/*
 * Computes the dummy hash (a random password hashed with our
 * parameters), once, at startup, before any thread uses this core.
 * Returns 0, or -1 if RAND_bytes() or libargon2 failed.
 */
int race_password_init(void);

/*
 * The dummy hash: an unknown email is verified against it, so that the
 * answer takes as long as for a known one.  NULL before
 * race_password_init() succeeded.
 */
const char *race_password_dummy(void);

/*
 * Hashes password[0..len) with argon2id, our parameters and a fresh
 * salt from RAND_bytes() into out[0..size) as a NUL-terminated PHC
 * string ($argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>).  Returns 0,
 * or -1 if out is smaller than RACE_PASSWORD_ENCODED_MAX, or RAND_bytes()
 * or libargon2 failed.
 */
int race_password_hash(const char *password, size_t len, char *out,
    size_t size);

/*
 * 1 if password[0..len) matches the PHC string encoded, else 0: also
 * for NULL, for anything but argon2id version 19, and for parameters
 * over the RACE_PASSWORD_*_LIMITs.  Weaker parameters than ours verify
 * (see race_password_needs_rehash()).  libargon2 compares the hashes in
 * constant time.
 */
int race_password_verify(const char *password, size_t len,
    const char *encoded);

/*
 * 1 if encoded is not an argon2id hash with exactly our parameters,
 * salt and hash lengths: after a successful login, hash the password
 * again and store the new hash.
 */
int race_password_needs_rehash(const char *encoded);

/*
 * NULL if password[0..len) is acceptable, else a static reason for the
 * user: not valid UTF-8, fewer than RACE_PASSWORD_MIN or more than
 * RACE_PASSWORD_MAX code points, or in common (which may be NULL).
 */
const char *race_password_check_policy(const char *password, size_t len,
    const race_password_list_t *common);

/*
 * Builds list from a text file's data[0..len): one password a line, LF
 * or CRLF ends, lines starting with '#' (John the Ripper's "#!comment:"
 * among them) and empty lines skipped, entries lower-cased ASCII-wise,
 * sorted and deduplicated.  list owns a copy; data may go.  Returns 0,
 * or -1 with list empty if memory ran out.
 */
int race_password_list_load(const char *data, size_t len,
    race_password_list_t *list);

void race_password_list_free(race_password_list_t *list);

/* 1 if password[0..len), ASCII lower-cased, is in list (may be NULL) */
int race_password_list_has(const race_password_list_t *list,
    const char *password, size_t len);



#endif /* _RACE_PASSWORD_H_INCLUDED_ */
