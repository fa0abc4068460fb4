
/*
 * ngx_race: a window of batches in flight, released in order.
 *
 * A pure core for race-tracker's pipeline: batches are begun in order,
 * each gets a sequence number and a slot (seq % size), several steps
 * finish them in any order (each step sets its bit), and a batch is
 * released only once every step of it and of every batch before it is
 * done: Kafka's offsets are stored in order, so a later batch that is
 * written first never covers an earlier one that is not.
 */


#ifndef _RACE_WINDOW_H_INCLUDED_
#define _RACE_WINDOW_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


typedef struct {
    uint64_t                first;      /* the oldest batch not released */
    uint64_t                next;       /* the next batch to begin */
    size_t                  size;
    unsigned                all;        /* the bits of every step */
    unsigned               *done;       /* per slot, the steps done */
} race_window_t;


/* size slots, steps bits (1 to 16 steps); -1 if out of memory or bad */
int race_window_init(race_window_t *w, size_t size, unsigned steps);
void race_window_free(race_window_t *w);

/* a new batch: its seq in *seq, its slot returned; -1 if the window is full */
long race_window_begin(race_window_t *w, uint64_t *seq);

/*
 * a step of batch seq is done; -1 if seq is not in flight or the step
 * is not one of the window's
 */
int race_window_done(race_window_t *w, uint64_t seq, unsigned step);

/*
 * the oldest batch, if every step of it is done: its seq in *seq, its
 * slot returned, and it is released; -1 if there is none such
 */
long race_window_pop(race_window_t *w, uint64_t *seq);

/* batches begun and not released */
size_t race_window_used(const race_window_t *w);

/* the slot of batch seq, -1 if it is not in flight */
long race_window_slot(const race_window_t *w, uint64_t seq);


#endif /* _RACE_WINDOW_H_INCLUDED_ */
