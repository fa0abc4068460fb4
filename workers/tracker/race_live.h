
/*
 * ngx_race workers: the live side in Redis (docs/INTERNALS.md, "Redis").
 *
 *   race:<race>:state   a hash, rider to the JSON <state> of its newest
 *                       fix, written by a script that compares t, so a
 *                       late fix never moves a rider back;
 *   race:<race>:live    the channel where a tick with the riders that
 *                       changed since the last one is published, at
 *                       most once per tick per race.
 *
 * update() writes the newest fix of each rider of a batch and remembers
 * the riders whose state changed; tick() publishes them.  Both connect
 * (again) when needed, with a bounded backoff between attempts, and
 * return RACE_LIVE_ERROR while Redis cannot be reached: the caller
 * retries.  update() is idempotent: a retried batch changes nothing more,
 * and what it changed the first time stays pending for the tick.
 */


#ifndef _RACE_LIVE_H_INCLUDED_
#define _RACE_LIVE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_fix.h"


#define RACE_LIVE_OK        0
#define RACE_LIVE_ERROR    -1

/* enough for any <state> race_live_state() builds, with its members */
#define RACE_LIVE_STATE_SIZE  3072


typedef struct race_live_s  race_live_t;


/*
 * The members a rider's <state> gains, beside those of its fix: *who
 * its entry's ("bib":"12","name":"Ann"), *extra its standings'; each
 * JSON members without braces or a leading comma, left NULL if none.
 * Together at most RACE_LIVE_STATE_SIZE - 256 bytes.
 */
typedef void (*race_live_who_pt)(void *data, const race_fix_t *fix,
    const char **who, const char **extra);


typedef struct {
    const char         *host;
    int                 port;
    int                 timeout_ms;     /* connect and each command */
    int                 retry_max_ms;   /* longest wait between connects */
    size_t              max_fixes;      /* the most update() is given */
    race_live_who_pt    who;            /* NULL: the fix's members only */
    void               *data;
} race_live_conf_t;


/* no connection is made yet; NULL if out of memory, logged */
race_live_t *race_live_open(const race_live_conf_t *conf);

int race_live_update(race_live_t *live, const race_fix_t *fixes, size_t n);

/*
 * Writes again the <state> of riders whose fix is already stored, each
 * fixes[i] the newest of its rider, because its other members changed
 * (a renamed rider, new standings); those written are published at the
 * next tick.  As update(): a state with a newer t is kept, the call can
 * be retried.
 */
int race_live_restate(race_live_t *live, const race_fix_t *const *fixes,
    size_t n);

/*
 * Publishes the pending ticks, now in Unix ms.  Each carries "lag_ms":
 * of the new fixes whose states it has, the longest time between
 * nginx receiving one (its recv) and its state being written here; 0
 * if it has restated states only.  How far behind the live view was.
 */
int race_live_tick(race_live_t *live, int64_t now);

/* how many races have a tick pending */
size_t race_live_pending(const race_live_t *live);

void race_live_close(race_live_t *live);

/*
 * The <state> of a rider after a fix, as stored in race:<race>:state
 * and sent in ticks: {"rider":..,<who>,"lat":..,"lon":..,"t":..,
 * "seq":..} with "spd" and "ele" when the fix had them, then <extra>,
 * the standings (dist_m, rank, gap_s...).  who and extra may be NULL.
 * Returns the length, 0 if size is too small.
 */
size_t race_live_state(const race_fix_t *fix, const char *who,
    const char *extra, char *buf, size_t size);


#endif /* _RACE_LIVE_H_INCLUDED_ */
