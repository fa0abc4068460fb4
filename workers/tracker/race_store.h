
/*
 * ngx_race workers: where the fixes are kept for good.
 *
 * A small function table, so that the tracker does not know whether the
 * store is MongoDB (race_store_mongo.c) or, later, an embedded one.
 *
 *   insert   stores fixes[0..n) under their deterministic ids
 *            (race_fix_doc_id()).  A fix already stored is not an error:
 *            replays after a restart or a rebalance are expected.
 *            RACE_STORE_OK means every fix is stored now, RACE_STORE_ERROR
 *            that some may not be: the caller retries the same fixes
 *            later, which is safe for the same reason.
 *   replay   reads every stored fix of a race, sorted by rider, then t,
 *            then seq, and gives them to each(data, fixes, n) in slices
 *            of at most slice fixes, valid during the call only; *total
 *            counts them.  RACE_STORE_ERROR if the store could not be
 *            read to the end (some slices may have been given): the
 *            caller starts again later.  Blocks for as long as reading
 *            takes: a race's fixes are read once, when the tracker
 *            takes up the race.
 *   results  stores the results document of a race (race_stats_json()),
 *            a JSON object of len bytes, under the race id, replacing
 *            the race's earlier results: computing them again is
 *            harmless.  RACE_STORE_ERROR: the caller tries again later.
 *   close    frees the store.
 */


#ifndef _RACE_STORE_H_INCLUDED_
#define _RACE_STORE_H_INCLUDED_


#include <stddef.h>

#include "race_fix.h"


#define RACE_STORE_OK       0
#define RACE_STORE_ERROR   -1


typedef struct race_store_s  race_store_t;


typedef struct {
    size_t                  inserted;
    size_t                  duplicates;
} race_store_result_t;


typedef void (*race_store_replay_pt)(void *data, const race_fix_t *fixes,
    size_t n);


typedef struct {
    int     (*insert)(race_store_t *s, const race_fix_t *fixes, size_t n,
                      race_store_result_t *result);
    int     (*replay)(race_store_t *s, const char *race, size_t slice,
                      race_store_replay_pt each, void *data, size_t *total);
    int     (*results)(race_store_t *s, const char *race, const char *json,
                       size_t len);
    void    (*close)(race_store_t *s);
} race_store_ops_t;


struct race_store_s {
    const race_store_ops_t *ops;
};


#endif /* _RACE_STORE_H_INCLUDED_ */
