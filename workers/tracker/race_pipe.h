
/*
 * ngx_race workers: race-tracker's pipeline, batches stored in MongoDB
 * by writer threads while the main thread goes on with the live path.
 *
 * A bounded window of batches (core/race_window.h), each with its own
 * messages and fixes.  The main thread fills a batch of its own, then
 * swaps it with a free one of the pipeline (begin), hands that to the
 * writers (store), writes the live side itself and says so (live).  A
 * writer thread, each with its own MongoDB client, inserts the oldest
 * batch handed to none yet, retrying with a backoff of up to
 * retry_max_ms for as long as it takes.  done() gives the batches back
 * in the order they were begun, each once both its writes are done:
 * the main thread stores their offsets then, so that a later batch
 * written first never covers an earlier one that is not.
 *
 * When every batch is in flight, begin() has none: the main thread
 * stops consuming until a write ends (wait), which is the backpressure;
 * what it consumed is in the live view meanwhile.
 *
 * The main thread calls everything but the writers' own insert; a
 * batch handed to the writers is read-only to the main thread until
 * done() gives it back.
 */


#ifndef _RACE_PIPE_H_INCLUDED_
#define _RACE_PIPE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_fix.h"
#include "race_queue.h"
#include "race_store.h"
#include "race_store_mongo.h"


typedef struct race_pipe_s  race_pipe_t;


typedef struct {
    race_queue_batch_t      batch;      /* the queue's messages */
    race_fix_msg_t         *msgs;       /* one per message */
    race_fix_t             *fixes;
    size_t                  nfixes;
    uint64_t                seq;        /* in the window */
    unsigned                fed:1;      /* main thread: standings fed */

    /*
     * The main thread's, one per fix: the fix came back in a replay of
     * its race's standings made while the batch was in flight, so the
     * standings have it and it is not fed (again).  Zeroed by begin().
     */
    unsigned char          *replayed;

    /* the writer's, read by the main thread once done() gives it */
    race_store_result_t     res;
} race_pipe_batch_t;


typedef struct {
    size_t                  batches;    /* in flight at most */
    size_t                  writers;    /* threads */
    size_t                  batch_max;  /* messages per batch */
    size_t                  max_fixes;  /* fixes per batch */
    int64_t                 retry_max_ms;
    race_store_mongo_conf_t store;      /* each writer's */
} race_pipe_conf_t;


/* the batches, the stores, the threads; NULL on failure, logged */
race_pipe_t *race_pipe_open(const race_pipe_conf_t *conf);

/*
 * A free batch, its arrays swapped with those of b (which gets the free
 * batch's empty ones), so that b can be filled again; NULL if every
 * batch is in flight.
 */
race_pipe_batch_t *race_pipe_begin(race_pipe_t *p, race_pipe_batch_t *b);

/* a begun batch to the writers */
void race_pipe_store(race_pipe_t *p, race_pipe_batch_t *b);

/* the live side of a begun batch is written */
void race_pipe_live(race_pipe_t *p, race_pipe_batch_t *b);

/*
 * The oldest batch in flight if both its writes are done, taken out of
 * the window: the caller commits or releases its messages before the
 * next begin(); NULL if there is none.
 */
race_pipe_batch_t *race_pipe_done(race_pipe_t *p);

/* waits at most ms for a write to end (or returns at once if done) */
void race_pipe_wait(race_pipe_t *p, int64_t ms);

/* batches in flight */
size_t race_pipe_used(race_pipe_t *p);

/* the i-th batch in flight, oldest first; NULL past the last */
race_pipe_batch_t *race_pipe_nth(race_pipe_t *p, size_t i);

/* inserts failed in a row, now (0 while MongoDB takes them) */
unsigned race_pipe_failing(race_pipe_t *p);

/*
 * Stops the writers (a write under way ends first: at most the
 * driver's timeouts) and joins them; the batches still in flight stay,
 * for the caller to release with nth().  Then close() frees all.
 */
void race_pipe_halt(race_pipe_t *p);

/* after halt, once the caller released them: no batch is in flight */
void race_pipe_clear(race_pipe_t *p);

void race_pipe_close(race_pipe_t *p);


#endif /* _RACE_PIPE_H_INCLUDED_ */
