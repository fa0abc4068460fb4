
/*
 * ngx_race workers: the live standings of a race.
 *
 * Not computed yet: the state only counts what it was fed, and a tick
 * adds no members.  The matcher and the standings cores fill it in.
 */


#include <stdlib.h>

#include "race_log.h"
#include "race_board.h"


struct race_board_s {
    uint64_t                fixes;      /* fed so far */
};


race_board_t *
race_board_open(const race_book_race_t *race)
{
    race_board_t  *st;

    st = calloc(1, sizeof(race_board_t));
    if (st == NULL) {
        race_log(RACE_LOG_ERROR, "race %s: out of memory for standings",
                 race->id);
        return NULL;
    }

    return st;
}


void
race_board_feed(race_board_t *st, const race_book_race_t *race,
    const race_fix_t *fixes, size_t n)
{
    (void) race;
    (void) fixes;

    st->fixes += n;
}


int
race_board_tick(race_board_t *st, const race_book_race_t *race,
    int64_t now, race_board_emit_pt emit, void *ctx)
{
    (void) st;
    (void) race;
    (void) now;
    (void) emit;
    (void) ctx;

    return 0;
}


void
race_board_close(race_board_t *st)
{
    free(st);
}
