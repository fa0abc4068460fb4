
/*
 * ngx_race workers: what race-tracker knows of the races it gets fixes
 * of (docs/INTERNALS.md, "Races").
 *
 * A race is looked up when a batch brings its fixes.  The first time, it
 * is loaded from Redis: race:race:<id> (its riders' entries: bib, name,
 * status; when it started), race:race:<id>:meta (status, start_at,
 * finished_at) and race:race:<id>:course (the course, unrolled).  A race
 * without any of these keys is an ad-hoc one (race-sim, tests): it has
 * no entries and no course, and its riders' <state> is what it always
 * was.
 *
 * A race is loaded again when channel race:races names it.  The book
 * subscribes to that channel on a connection of its own rather than
 * checking every known race at every tick: a check would cost a round
 * trip per race and tick (thousands a second for a thousand races),
 * while announcements cost nothing until an organizer changes
 * something.  An announcement made while the subscription was down is
 * lost, so every known race is loaded again once it is back.
 *
 * A rider whose bib or name changed, or who left or joined the entries,
 * is marked to be published again (restate) if the tracker has a fix of
 * it, so spectators see the change at the next tick without waiting for
 * that rider's next fix.
 *
 * A race that is finished (or ad hoc) and has had no fix for forget_ms
 * is forgotten, its memory freed; a fix brings it back.
 *
 * Blocking hiredis calls, bounded by timeout_ms: the tracker is a
 * daemon, not an event loop.  Connections come back by themselves with
 * the backoff of race_redis.c.
 */


#ifndef _RACE_BOOK_H_INCLUDED_
#define _RACE_BOOK_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_course.h"
#include "race_fix.h"
#include "race_id.h"
#include "race_map.h"
#include "race_standings.h"


#define RACE_BOOK_OK        0
#define RACE_BOOK_ERROR    -1

/* the bib and name members of a <state>, escaped: longer names are cut */
#define RACE_BOOK_WHO_MAX     320
/* the standings' members of a <state>: every split of 64 checkpoints */
#define RACE_BOOK_EXTRA_MAX   (RACE_STANDINGS_JSON_MAX - 1)

#define RACE_BOOK_STATUS_SIZE 16


typedef struct race_book_s  race_book_t;


/* a rider of a race: its entry, if any, and what the tracker has of it */
typedef struct {
    char                    id[RACE_ID_MAX + 1];

    /* the entry: "bib":"12","name":"Ann" (JSON members); NULL if none */
    char                   *who;
    char                    status[RACE_BOOK_STATUS_SIZE];  /* entered.. */
    unsigned                entered:1;

    /* its newest fix (by t) this tracker has seen; msg is &msg */
    race_fix_t              fix;
    race_fix_msg_t          msg;
    unsigned                has_fix:1;

    /* the standings' members of its <state>; NULL until they say some */
    char                   *extra;

    /* its <state> is to be written and published again */
    unsigned                restate:1;
} race_book_rider_t;


typedef struct race_book_race_s  race_book_race_t;

struct race_book_race_s {
    char                    id[RACE_ID_MAX + 1];

    unsigned                keys:1;     /* in Redis: not an ad-hoc race */
    unsigned                loaded:1;   /* read from Redis once at least */
    unsigned                reload:1;   /* to be loaded again */

    /* from :meta and the race document; "" and 0 when unknown */
    char                    status[RACE_BOOK_STATUS_SIZE];
    int64_t                 start_at;   /* Unix ms */
    int64_t                 started_at;
    int64_t                 finished_at;

    race_course_t          *course;     /* NULL: none */
    char                   *course_json;    /* as read, to see changes */

    race_map_t              riders;     /* id to race_book_rider_t */
    size_t                  nentered;   /* riders with an entry */
    size_t                  nrestate;   /* riders with restate set */

    int64_t                 active;     /* monotonic ms of its last fix */
    uint64_t                nloads;     /* loads of it, 1 after the first */

    /*
     * The caller's: the book never looks at them.  course_changed is set
     * by a load that found another course (or none any more): whatever
     * was computed on the old one is to be redone.
     */
    void                   *standings;
    unsigned                replayed:1;
    unsigned                course_changed:1;

    /* the results of a finished race: nloads seen, when (monotonic ms) */
    uint64_t                results_loads;
    int64_t                 results_due;    /* 0: none to make */
    int64_t                 results_first;  /* the first late fix's */
};


/* called before a race is forgotten, to free what the caller hung on it */
typedef void (*race_book_forget_pt)(void *data, race_book_race_t *race);


typedef struct {
    const char             *host;
    int                     port;
    int                     timeout_ms;     /* connect and each command */
    int                     retry_max_ms;   /* longest wait between */
    int64_t                 forget_ms;
    int64_t                 forget_any_ms;  /* any status, >= forget_ms */
    race_book_forget_pt     forget;
    void                   *data;
} race_book_conf_t;


/* no connection is made yet; NULL if out of memory, logged */
race_book_t *race_book_open(const race_book_conf_t *conf);

/*
 * The race of id, loaded from Redis if it is new to the book, in *race;
 * its active time is now.  ERROR when Redis cannot be read now (the
 * caller retries later): then the race is not in the book.
 */
int race_book_get(race_book_t *b, const char *id, race_book_race_t **race);

/* the race of id if it is in the book, or NULL; loads nothing */
race_book_race_t *race_book_find(race_book_t *b, const char *id);

/*
 * What race:races said since the last call, read without waiting, and
 * the loads it asks for (those that fail are tried at the next call).
 * Subscribes first if needed.  Never fails: Redis being away only
 * delays the changes.
 */
void race_book_poll(race_book_t *b);

/* remembers the newest fix of each rider of fixes[0..n), all of race */
void race_book_note(race_book_race_t *race, const race_fix_t *fixes,
    size_t n);

/* the rider of race, or NULL */
race_book_rider_t *race_book_rider(race_book_race_t *race, const char *id);

/*
 * Sets the standings' members of a rider's <state> (without braces or a
 * leading comma, "" for none) and marks it for restate if they changed.
 * ERROR if they are too long or the tracker has no fix of it.
 */
int race_book_extra(race_book_race_t *race, const char *rider,
    const char *members, size_t len);

/* the next race from *i on, or NULL at the end; start with *i = 0 */
race_book_race_t *race_book_next(race_book_t *b, size_t *i);

/*
 * forgets the finished and ad-hoc races idle for forget_ms, and any
 * race idle for forget_any_ms
 */
void race_book_sweep(race_book_t *b);

/* races loaded from Redis (first loads and reloads) so far */
uint64_t race_book_loads(const race_book_t *b);

void race_book_close(race_book_t *b);


#endif /* _RACE_BOOK_H_INCLUDED_ */
