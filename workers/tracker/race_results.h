
/*
 * ngx_race workers: the results of a finished race, race-tracker's side
 * (docs/INTERNALS.md, "Results").
 *
 *   missing  whether the results are to be made: race:race:<id>:results
 *            is absent, or race:race:<id>:results:due is there; 1, 0,
 *            or -1 when Redis cannot be read now.  A tracker that loads
 *            a finished race asks, and makes results that nobody made
 *            or that a tracker stopped before making again.
 *
 *   scan_due the races whose marker is set (below).
 *
 *   due      sets race:race:<id>:results:due: fixes came after the
 *            finish, the results are to be made again.  Set before the
 *            batch's offsets are stored, so a tracker that stops before
 *            it makes them leaves the marker to whoever takes the race.
 *            0, or -1 when Redis failed (the batch is written again).
 *
 *   make     computes the race's results from its whole stored track,
 *            read back from the store (the replay of race_store.h) and
 *            matched as the live standings are (race_board_match()),
 *            with the entries of race:race:<id> (names, bibs, dnf and
 *            dsq); then stores them: the store's results (MongoDB,
 *            collection "results"), race:race:<id>:results (the JSON
 *            of race_stats_json()) and race:race:<id>:results.csv, and
 *            removes race:race:<id>:results:due.
 *            What it reads is freed before it returns: a finished race
 *            costs no memory for its results.  0, or -1 (logged) when a
 *            server failed or memory ran out: the caller tries again.
 *            Blocks for as long as the reads and writes take.
 */


#ifndef _RACE_RESULTS_H_INCLUDED_
#define _RACE_RESULTS_H_INCLUDED_


#include <stdint.h>

#include "race_book.h"
#include "race_store.h"


typedef struct race_results_s  race_results_t;


typedef struct {
    const char             *host;
    int                     port;
    int                     timeout_ms;     /* connect and each command */
    int                     retry_max_ms;   /* longest wait between */
    race_store_t           *store;
} race_results_conf_t;


/* no connection is made yet; NULL if out of memory, logged */
race_results_t *race_results_open(const race_results_conf_t *conf);

int race_results_missing(race_results_t *rs, const race_book_race_t *race);
int race_results_due(race_results_t *rs, const race_book_race_t *race);

/*
 * Calls found() with the id of every race whose results are due
 * (race:race:<id>:results:due), found by SCAN: what a tracker that
 * stopped left undone, whoever owns the race now.  0, or -1 when Redis
 * failed.
 */
int race_results_scan_due(race_results_t *rs,
    void (*found)(void *data, const char *race), void *data);

/* now: Unix ms, the results' "computed" */
int race_results_make(race_results_t *rs, const race_book_race_t *race,
    int64_t now);

void race_results_close(race_results_t *rs);


#endif /* _RACE_RESULTS_H_INCLUDED_ */
