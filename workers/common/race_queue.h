
/*
 * ngx_race workers: the queue the fixes come from.
 *
 * A small function table, so that the tracker does not know whether its
 * input is Kafka (race_queue_kafka.c) or, later, Redis Streams.  The
 * contract is at-least-once:
 *
 *   poll     appends the next message to a batch, or times out;
 *   commit   says that every message of a batch has been handled (its
 *            writes succeeded, or it was poison): the queue may forget
 *            them, now or a little later (Kafka: offsets stored here,
 *            committed by the auto commit); the batch is emptied;
 *   release  empties a batch without committing it: its messages will be
 *            delivered again, to this process or to another one;
 *   close    commits what was committed synchronously, leaves the group
 *            and frees the queue.
 *
 * When the queue is about to give up some of its input (a Kafka group
 * rebalance), it calls the drain handler first, from inside poll or
 * close: the owner finishes the writes of the batch it holds and commits
 * it, so that nothing handled is redelivered to the next owner.
 */


#ifndef _RACE_QUEUE_H_INCLUDED_
#define _RACE_QUEUE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define RACE_QUEUE_OK       0
#define RACE_QUEUE_AGAIN    1       /* nothing within the timeout */
#define RACE_QUEUE_ERROR   -1       /* fatal: the daemon should stop */


typedef struct race_queue_s  race_queue_t;


typedef struct {
    const char             *key;        /* may be NULL */
    size_t                  key_len;
    const char             *data;       /* may be NULL */
    size_t                  len;
    char                    where[64];  /* "topic[partition]@offset", logs */
    void                   *handle;     /* the implementation's */
} race_queue_msg_t;


typedef struct {
    race_queue_msg_t       *msgs;
    size_t                  n;
    size_t                  size;
} race_queue_batch_t;


typedef struct {
    int     (*poll)(race_queue_t *q, race_queue_batch_t *b, int timeout_ms);
    int     (*commit)(race_queue_t *q, race_queue_batch_t *b);
    void    (*release)(race_queue_t *q, race_queue_batch_t *b);
    int     (*close)(race_queue_t *q);
} race_queue_ops_t;


typedef void (*race_queue_drain_pt)(race_queue_t *q, void *data);


struct race_queue_s {
    const race_queue_ops_t *ops;
    race_queue_drain_pt     drain;
    void                   *drain_data;
};


/* a batch with room for size messages; -1 if out of memory */
int race_queue_batch_init(race_queue_batch_t *b, size_t size);
void race_queue_batch_free(race_queue_batch_t *b);


#endif /* _RACE_QUEUE_H_INCLUDED_ */
