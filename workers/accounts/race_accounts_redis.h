
/*
 * race-accounts: what the module reads in Redis (docs/INTERNALS.md,
 * "Accounts"), and the replies it waits for.
 *
 *   race:user:<id>           a hash: id, email, name, role, hash, gen;
 *   race:email:<email>       the user id;
 *   race:users:loaded        set once every user of MongoDB is in Redis;
 *   race:revoked:<jti>       a revoked rider token, its exp, expiring
 *                            once the token would be refused anyway;
 *   race:revocations:loaded  set once every revocation is in Redis;
 *   race:revoked             the channel that tells nginx of each new
 *                            revocation (the jti), for open sockets.
 *
 * A user is written by a script that keeps the newest gen, so a write
 * that comes late (a reload that read a user before its logout) never
 * brings back a gen that was revoked.  Every call connects (again) when
 * needed, with a bounded backoff between attempts, and returns
 * RACE_ACCOUNTS_REDIS_ERROR while Redis cannot be reached: the caller
 * retries.
 */


#ifndef _RACE_ACCOUNTS_REDIS_H_INCLUDED_
#define _RACE_ACCOUNTS_REDIS_H_INCLUDED_


#include <stddef.h>

#include "race_accounts_cmd.h"


#define RACE_ACCOUNTS_REDIS_OK      0
#define RACE_ACCOUNTS_REDIS_ERROR  -1

/* the markers of a whole Redis */
#define RACE_ACCOUNTS_REDIS_USERS        "race:users:loaded"
#define RACE_ACCOUNTS_REDIS_REVOCATIONS  "race:revocations:loaded"


typedef struct race_accounts_redis_s  race_accounts_redis_t;


typedef struct {
    const char         *host;
    int                 port;
    int                 timeout_ms;     /* connect and each command */
    int                 retry_max_ms;   /* longest wait between connects */
    size_t              max_users;      /* the most apply() is given */
} race_accounts_redis_conf_t;


/* no connection is made yet; NULL if out of memory, logged */
race_accounts_redis_t *race_accounts_redis_open(
    const race_accounts_redis_conf_t *conf);

void race_accounts_redis_close(race_accounts_redis_t *r);

/*
 * Writes users[0..n) (n may be 0), then, if channel is not NULL,
 * publishes msg[0..len) on it: one pipeline, in that order, so a reply
 * never arrives before the user it names is readable.  Idempotent.
 */
int race_accounts_redis_apply(race_accounts_redis_t *r,
    const race_accounts_user_t *users, size_t n, const char *channel,
    const char *msg, size_t len);

/*
 * Writes revs[0..n) whose tokens have not expired at now (Unix s), and
 * with publish, tells nginx of each; then, if channel is not NULL,
 * publishes msg[0..len) on it.  One pipeline, in that order: a token is
 * revoked in Redis before anyone hears of it.  Idempotent.
 */
int race_accounts_redis_revoke(race_accounts_redis_t *r,
    const race_accounts_revocation_t *revs, size_t n, int64_t now,
    int publish, const char *channel, const char *msg, size_t len);

/* 1 if the marker (RACE_ACCOUNTS_REDIS_*) is set, 0 if not, or ERROR */
int race_accounts_redis_loaded(race_accounts_redis_t *r, const char *marker);

/* sets the marker */
int race_accounts_redis_set_loaded(race_accounts_redis_t *r,
    const char *marker);


#endif /* _RACE_ACCOUNTS_REDIS_H_INCLUDED_ */
