
/*
 * race-accounts: what the module and race-tracker read of races in
 * Redis (docs/INTERNALS.md, "Races").
 *
 *   race:race:<id>              the public document (JSON);
 *   race:race:<id>:meta         a hash: status, public, owner, start_at,
 *                               finished_at, rev;
 *   race:race:<id>:course       {laps,points}, one lap;
 *   race:races:<status>         sorted sets of the public races by
 *                               start_at, one per status;
 *   race:races:owner:<user>     the same of all a user's races;
 *   race:user:<user>:races      a set of the races the user is entered in;
 *   race:races:loaded           set once every race is in Redis;
 *   race:races                  the channel of each changed race's id.
 *
 * A race is written by one script that keeps the newest rev, so a write
 * that comes late (a reload that read a race before a change, or one of
 * two workers moving it by the clock) never takes a race back.  Its own
 * connection, like race_accounts_redis.c's.
 */


#ifndef _RACE_ACCOUNTS_RACES_REDIS_H_INCLUDED_
#define _RACE_ACCOUNTS_RACES_REDIS_H_INCLUDED_


#include <stddef.h>

#include <jansson.h>

#include "race_accounts_redis.h"


#define RACE_ACCOUNTS_REDIS_RACES  "race:races:loaded"


typedef struct race_accounts_races_redis_s  race_accounts_races_redis_t;


race_accounts_races_redis_t *race_accounts_races_redis_open(
    const race_accounts_redis_conf_t *conf);
void race_accounts_races_redis_close(race_accounts_races_redis_t *r);

/*
 * Writes doc (a race document) and, if not NULL, its course; takes the
 * race out of user_gone's set if not NULL; with publish, PUBLISH
 * race:races <id>; then, if channel is not NULL, publishes msg on it.
 * One pipeline, in that order.  Idempotent.  OK or ERROR.
 */
int race_accounts_races_redis_write(race_accounts_races_redis_t *r,
    const json_t *doc, const json_t *course, const char *user_gone,
    int publish, const char *channel, const char *msg, size_t len);

/* a refusal: only the reply on channel; OK or ERROR */
int race_accounts_races_redis_reply(race_accounts_races_redis_t *r,
    const char *channel, const char *msg, size_t len);

/* the marker: 1 set, 0 not, or ERROR; and setting it */
int race_accounts_races_redis_loaded(race_accounts_races_redis_t *r);
int race_accounts_races_redis_set_loaded(race_accounts_races_redis_t *r);


#endif /* _RACE_ACCOUNTS_RACES_REDIS_H_INCLUDED_ */
