
/*
 * ngx_race workers: the live standings of a race.
 *
 * Not computed yet: the state only counts what it was fed, and a tick
 * adds no members.  The matcher and the standings cores fill it in.
 */


#include <stdlib.h>

#include "race_log.h"
#include "race_standings.h"


struct race_standings_s {
    uint64_t                fixes;      /* fed so far */
};


race_standings_t *
race_standings_open(const race_book_race_t *race)
{
    race_standings_t  *st;

    st = calloc(1, sizeof(race_standings_t));
    if (st == NULL) {
        race_log(RACE_LOG_ERROR, "race %s: out of memory for standings",
                 race->id);
        return NULL;
    }

    return st;
}


void
race_standings_feed(race_standings_t *st, const race_book_race_t *race,
    const race_fix_t *fixes, size_t n)
{
    (void) race;
    (void) fixes;

    st->fixes += n;
}


int
race_standings_tick(race_standings_t *st, const race_book_race_t *race,
    int64_t now, race_standings_emit_pt emit, void *ctx)
{
    (void) st;
    (void) race;
    (void) now;
    (void) emit;
    (void) ctx;

    return 0;
}


void
race_standings_close(race_standings_t *st)
{
    free(st);
}
