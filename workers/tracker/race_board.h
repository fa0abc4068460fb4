
/*
 * ngx_race workers: the live standings of a race, race-tracker's side.
 *
 * The hook that race-tracker's main.c calls for every race of its book
 * (race_book.h) that has a course; the math is the pure cores'
 * (core/race_match, core/race_standings), this is where they are fed.
 * Everything runs on the tracker's one thread, between batches.
 *
 *   open     when a race with a course is loaded, and again when its
 *            course changed (after close of the old one): a new,
 *            empty state for the race.  NULL if out of memory (logged);
 *            the tracker tries again at the next tick.
 *
 *   feed     fixes[0..n), all of the race, sorted by rider, then t,
 *            then seq, from two sources:
 *              - replay: right after open, every fix of the race stored
 *                in MongoDB, in slices of at most RACE_BOARD_SLICE
 *                fixes (one rider may span several slices), so that a
 *                tracker that restarted, or took the race over from
 *                another one, rebuilds its state;
 *              - each batch, once its fixes are stored and the riders'
 *                <state> written.
 *            A fix may come twice (a batch redelivered by Kafka, a
 *            replay that already had it: same rider and seq) and late
 *            (a t older than the rider's newest: backfill after a dead
 *            zone); the hook must take both.  The fixes and their msg
 *            are only valid during the call: copy what is kept.
 *            race->riders has the entries (status "dnf"/"dsq"), and
 *            race->start_at, started_at, finished_at the race's times.
 *
 *   tick     at every tick (tick_ms), now in Unix ms: for each rider
 *            whose standings changed since the last tick, calls
 *            emit(ctx, rider, members, len) once with the JSON members
 *            its <state> gains, without braces or a leading comma
 *            ("dist_m":1234.5,"rank":3,"gap_s":12.4,"status":"racing"),
 *            at most RACE_BOOK_EXTRA_MAX bytes.  They replace the
 *            rider's previous ones, are written to race:<race>:state
 *            and published in the tick; a rider the tracker has no fix
 *            of is refused (emit returns -1).  Returns 0, or -1 on an
 *            error (logged): the tick goes on without the rest.
 *
 *   close    frees the state: the race is forgotten, its course changed,
 *            or the tracker stops.
 *
 *   stale    whether the state was made for another start than the
 *            race's now (a race started by hand after its start_at):
 *            the caller makes it anew, as for a changed course.
 *
 * The matcher (core/race_match.h) is called in one place,
 * race_board_match(), which the results (race_results.h) call too, so
 * what is live and what is published after the finish are matched
 * alike.  Each rider's state is a plain struct: no allocation per fix.
 */


#ifndef _RACE_BOARD_H_INCLUDED_
#define _RACE_BOARD_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_book.h"
#include "race_course.h"
#include "race_fix.h"
#include "race_match.h"
#include "race_standings.h"


/* fixes a replay feeds at once */
#define RACE_BOARD_SLICE  1000


typedef struct race_board_s  race_board_t;


/* one rider's matcher: core/race_match's state, and what it gave */
typedef struct {
    race_match_t            m;
    int64_t                 t;          /* the last sample's */
    unsigned                finished:1; /* a sample at the length given */
} race_board_matcher_t;


/* what became of a fix */
typedef enum {
    RACE_BOARD_MATCHED = 0,     /* on the course: sample */
    RACE_BOARD_MISSED,          /* away from it: sample at the same dist */
    RACE_BOARD_OFF_COURSE,      /* missed too often */
    RACE_BOARD_SKIPPED          /* held, rejected or a duplicate */
} race_board_fate_e;


typedef struct {
    race_board_fate_e       fate;
    race_rider_sample_t     sample;     /* unless skipped */
} race_board_out_t;

typedef int (*race_board_emit_pt)(void *ctx, const char *rider,
    const char *members, size_t len);


race_board_t *race_board_open(const race_book_race_t *race);

void race_board_feed(race_board_t *st, const race_book_race_t *race,
    const race_fix_t *fixes, size_t n);

int race_board_tick(race_board_t *st, const race_book_race_t *race,
    int64_t now, race_board_emit_pt emit, void *ctx);

void race_board_close(race_board_t *st);

int race_board_stale(const race_board_t *st, const race_book_race_t *race);

/* the start the race's times count from: started_at, else start_at */
int64_t race_board_start(const race_book_race_t *race);

void race_board_matcher_init(race_board_matcher_t *m, int64_t start);

/*
 * One fix of a rider, in t order (a late one may come): what became of
 * it, and of a held one it decides, in out[], how many (0 to 2).
 */
size_t race_board_match(race_board_matcher_t *m, const race_course_t *c,
    const race_fix_t *fix, race_board_out_t out[2]);


#endif /* _RACE_BOARD_H_INCLUDED_ */
