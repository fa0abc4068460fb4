
/*
 * ngx_race workers: the results of a finished race, race-tracker's side
 * (docs/INTERNALS.md, "Results").
 *
 *   missing  whether race:race:<id>:results is absent: 1, 0, or -1 when
 *            Redis cannot be read now.  A tracker that loads a finished
 *            race asks, and makes results that nobody made.
 *
 *   make     computes the race's results from its whole stored track,
 *            read back from the store (the replay of race_store.h) and
 *            matched as the live standings are (race_board_match()),
 *            with the entries of race:race:<id> (names, bibs, dnf and
 *            dsq); then stores them: the store's results (MongoDB,
 *            collection "results"), race:race:<id>:results (the JSON
 *            of race_stats_json()) and race:race:<id>:results.csv.
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

/* now: Unix ms, the results' "computed" */
int race_results_make(race_results_t *rs, const race_book_race_t *race,
    int64_t now);

void race_results_close(race_results_t *rs);


#endif /* _RACE_RESULTS_H_INCLUDED_ */
