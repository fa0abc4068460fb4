
/*
 * ngx_race: the live ticks as nginx passes them on: a tick's text read
 * without building a tree, the riders' latest states kept as bytes, and
 * the frames spectators get made by joining those bytes.
 *
 * A pure core.  A tick is what race-tracker publishes on
 * race:<race>:live:
 *
 *     {"type":"tick","race":"r1","t":<ms>,"lag_ms":<ms>,
 *      "riders":[<state>,...]}
 *
 * The scanner checks the whole text as JSON, as strictly as jansson's
 * json_loadb() (strings with every escape and strict UTF-8, no
 * \u0000, numbers that fit: an integer in 64 bits, a real below
 * infinity, at most RACE_TICK_DEPTH_MAX levels), without recursion and
 * without reading past len, and gives each state's bytes with its
 * "rider" and "t", the tick's "lag_ms" and its other members.  Of a
 * member given twice the last counts, as in jansson.  It is stricter
 * than jansson in one thing: a NUL byte after a number or a literal,
 * which jansson's stream skips, is refused.
 *
 * The store keeps each rider's latest state (its bytes and "t") and the
 * batch: the riders that changed since the last frame and the members
 * of the batch's last tick.  A state replaces ours when its t is newer;
 * on the live stream (restate) also when its t is ours and its bytes
 * differ: the worker restating a fix with new standings.
 */


#ifndef _RACE_TICK_H_INCLUDED_
#define _RACE_TICK_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_buf.h"
#include "race_id.h"


/* jansson's JSON_PARSER_MAX_DEPTH: a value deeper than this is refused */
#define RACE_TICK_DEPTH_MAX     2048

/* ticks kept while a race loads; beyond these the load covers them */
#define RACE_TICK_EARLY_MAX     64


typedef enum {
    RACE_TICK_OK = 0,
    RACE_TICK_BAD,                /* not JSON, or not what is expected */
    RACE_TICK_NOMEM
} race_tick_rc_e;


typedef enum {
    RACE_TICK_LAG_NONE = 0,       /* no "lag_ms" */
    RACE_TICK_LAG_INT,            /* an integer: lag_ms */
    RACE_TICK_LAG_OTHER           /* another value, passed on as it is */
} race_tick_lag_e;


/* a rider's state in a tick: an object with a good "rider" */
typedef struct {
    const char             *data;     /* its bytes, in the tick's text */
    size_t                  len;
    int64_t                 t;        /* -1: no "t", or not an integer */
    size_t                  id_len;
    char                    id[RACE_ID_MAX + 1];
} race_tick_state_t;


/* a member of the tick other than "riders": "key":value */
typedef struct {
    const char             *data;
    size_t                  len;
    unsigned                lag:1;    /* its key is "lag_ms" */
} race_tick_member_t;


/*
 * A scanned tick: points into the text it was scanned from, which must
 * outlive it.  Zero it to start; scanning again reuses its arrays;
 * race_tick_free() releases them.
 */
typedef struct {
    race_tick_state_t      *states;
    size_t                  nstates;
    size_t                  states_cap;
    size_t                  skipped;  /* in riders: not a state, bad id */

    race_tick_member_t     *members;
    size_t                  nmembers;
    size_t                  members_cap;

    race_tick_lag_e         lag;
    int64_t                 lag_ms;
    unsigned                riders:1; /* "riders" is an array */

    const char             *error;    /* why RACE_TICK_BAD */
    size_t                  offset;   /* where */
} race_tick_t;


typedef struct {
    char                   *data;     /* the state's bytes, owned */
    size_t                  len;
    size_t                  cap;
    int64_t                 t;
    uint32_t                hash;
    unsigned                changed:1;
    size_t                  id_len;
    char                    id[RACE_ID_MAX + 1];
} race_tick_rider_t;


/*
 * A race's riders and batch; it owns all its memory.  Zero it to
 * start; race_tick_store_free() releases it.
 */
typedef struct {
    race_tick_rider_t     **riders;   /* in the order they came */
    size_t                  nriders;
    size_t                  riders_cap;
    uint32_t               *slots;    /* open addressing: index + 1 */
    size_t                  nslots;   /* a power of two, or 0 */

    /* the batch: what changed since the last frame */
    size_t                 *changed;  /* indexes in riders */
    size_t                  nchanged;
    size_t                  changed_cap;
    race_buf_t              last;     /* members of its last tick */
    race_buf_t              spare;
    race_tick_lag_e         lag;      /* the most of its ticks' */
    int64_t                 lag_ms;

    /* ticks that came while loading, as they came */
    race_buf_t             *early;    /* RACE_TICK_EARLY_MAX, or NULL */
    size_t                  nearly;
} race_tick_store_t;


/*
 * Scans a tick: a JSON object; its "riders", if an array, gives the
 * states, elements that are not objects with a good "rider" counted in
 * skipped.  RACE_TICK_BAD with tk->error and tk->offset set, or
 * RACE_TICK_NOMEM.
 */
race_tick_rc_e race_tick_scan(race_tick_t *tk, const char *data,
    size_t len);
void race_tick_free(race_tick_t *tk);

/*
 * Checks a rider's state: a JSON object; its "t" (-1: none or not an
 * integer) into *t, if t is not NULL.  Returns RACE_TICK_OK or
 * RACE_TICK_BAD, with *error set if error is not NULL.
 */
race_tick_rc_e race_tick_state(const char *data, size_t len, int64_t *t,
    const char **error);


/* the riders are forgotten, and the batch; not the early ticks */
void race_tick_store_clear(race_tick_store_t *s);
void race_tick_store_free(race_tick_store_t *s);

/*
 * A state of the race's hash: id (the rider, a good id) gets state as
 * its latest.  RACE_TICK_BAD if the id is bad or the state is not a JSON
 * object, RACE_TICK_NOMEM.
 */
race_tick_rc_e race_tick_store_put(race_tick_store_t *s, const char *id,
    size_t id_len, const char *state, size_t len);

/*
 * A tick of the live stream: its newer states (restate) go into the
 * store and the batch, *n says how many, *all whether every element of
 * its riders did.  When any did, its other members and its lag_ms
 * become the batch's (the most lag_ms of the batch's ticks).
 * RACE_TICK_NOMEM: nothing was taken, or (*n may be > 0) a state was
 * left out.
 */
race_tick_rc_e race_tick_store_batch(race_tick_store_t *s,
    const race_tick_t *tk, size_t *n, int *all);

/* the riders that changed in the batch; 0: nothing to send */
size_t race_tick_store_changed(const race_tick_store_t *s);

/* the batch is sent or dropped */
void race_tick_store_forget(race_tick_store_t *s);

/*
 * The batch as one tick: the last tick's members, "lag_ms" the most of
 * the batch's, "riders" the states that changed.  Written into out,
 * which is emptied first; RACE_TICK_NOMEM.
 */
race_tick_rc_e race_tick_store_frame(race_tick_store_t *s,
    race_buf_t *out);

/*
 * {"type":"snapshot","race":"<race>","t":<now>,"riders":[...]} with
 * every rider's latest state; race is a good id.  Into out, emptied
 * first; RACE_TICK_NOMEM.
 */
race_tick_rc_e race_tick_store_snapshot(race_tick_store_t *s,
    const char *race, size_t race_len, int64_t now, race_buf_t *out);

/*
 * A tick that came while the race loads (scanned good), kept as it came
 * until race_tick_store_early_merge(); beyond RACE_TICK_EARLY_MAX they
 * are dropped (RACE_TICK_OK: the load reads their states anyway).
 */
race_tick_rc_e race_tick_store_early(race_tick_store_t *s,
    const char *data, size_t len);

/*
 * Once loaded: the early ticks' states newer than the load's (t alone
 * decides) are taken, the ticks dropped.  tk is a scratch.
 */
race_tick_rc_e race_tick_store_early_merge(race_tick_store_t *s,
    race_tick_t *tk);


#endif /* _RACE_TICK_H_INCLUDED_ */
