
/*
 * ngx_race workers: race-tracker's pipeline of MongoDB writes.
 *
 * One mutex guards the window and the batches' states; three condition
 * variables on the monotonic clock: work (a batch to write, or quit)
 * for the idle writers, retry (quit) for a writer sleeping before it
 * retries, done (a write ended) for the main thread.  A batch queued
 * signals work only: a retrying writer is not woken before its backoff
 * ends (nor does it take the wakeup an idle writer needs).  A writer
 * holds the mutex only to pick a batch and to say it is stored: the
 * insert and its retries run without it.  The metrics are atomics, the
 * log is thread-safe: the writers use both directly.
 */


#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "race_daemon.h"
#include "race_log.h"
#include "race_metrics.h"
#include "race_pipe.h"
#include "race_window.h"


#define RACE_PIPE_STORED    1
#define RACE_PIPE_LIVE      2


typedef enum {
    RACE_PIPE_FREE = 0,
    RACE_PIPE_BEGUN,
    RACE_PIPE_QUEUED,
    RACE_PIPE_WRITING,
    RACE_PIPE_WRITTEN
} race_pipe_state_e;


typedef struct {
    race_pipe_t            *pipe;
    race_store_t           *store;
    pthread_t               thread;
    unsigned                running:1;
} race_pipe_writer_t;


struct race_pipe_s {
    pthread_mutex_t         mutex;
    pthread_cond_t          work;
    pthread_cond_t          retry;
    pthread_cond_t          done;
    race_window_t           window;

    race_pipe_batch_t      *batches;
    race_pipe_state_e      *states;
    size_t                  nbatches;

    race_pipe_writer_t     *writers;
    size_t                  nwriters;

    int64_t                 retry_max_ms;
    unsigned                failing;    /* inserts failed in a row */
    unsigned                quit:1;
    unsigned                sync:1;     /* mutex and conds are made */
};


static void *race_pipe_writer(void *data);
static race_pipe_batch_t *race_pipe_next(race_pipe_t *p);
static void race_pipe_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
    int64_t ms);
static int race_pipe_batch_init(race_pipe_batch_t *b, size_t batch_max,
    size_t max_fixes);
static void race_pipe_batch_free(race_pipe_batch_t *b);


race_pipe_t *
race_pipe_open(const race_pipe_conf_t *conf)
{
    int                  err;
    size_t               i;
    sigset_t             all, old;
    race_pipe_t         *p;
    pthread_condattr_t   attr;

    p = calloc(1, sizeof(race_pipe_t));
    if (p == NULL) {
        race_log(RACE_LOG_ERROR, "pipe: out of memory");
        return NULL;
    }

    p->retry_max_ms = conf->retry_max_ms;
    p->nbatches = conf->batches;

    if (pthread_condattr_init(&attr) != 0) {
        race_log(RACE_LOG_ERROR, "pipe: pthread_condattr_init() failed");
        free(p);
        return NULL;
    }

    err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);

    if (err == 0) {
        err = pthread_mutex_init(&p->mutex, NULL);
    }

    if (err == 0) {
        err = pthread_cond_init(&p->work, &attr);

        if (err == 0) {
            err = pthread_cond_init(&p->retry, &attr);

            if (err == 0) {
                err = pthread_cond_init(&p->done, &attr);

                if (err != 0) {
                    pthread_cond_destroy(&p->retry);
                }
            }

            if (err != 0) {
                pthread_cond_destroy(&p->work);
            }
        }

        if (err != 0) {
            pthread_mutex_destroy(&p->mutex);
        }
    }

    pthread_condattr_destroy(&attr);

    if (err != 0) {
        race_log(RACE_LOG_ERROR, "pipe: cannot make a mutex: %s",
                 strerror(err));
        free(p);
        return NULL;
    }

    p->sync = 1;

    p->batches = calloc(conf->batches, sizeof(race_pipe_batch_t));
    p->states = calloc(conf->batches, sizeof(race_pipe_state_e));
    p->writers = calloc(conf->writers, sizeof(race_pipe_writer_t));

    if (p->batches == NULL || p->states == NULL || p->writers == NULL
        || race_window_init(&p->window, conf->batches, 2) != 0)
    {
        race_log(RACE_LOG_ERROR, "pipe: out of memory");
        goto failed;
    }

    for (i = 0; i < conf->batches; i++) {
        if (race_pipe_batch_init(&p->batches[i], conf->batch_max,
                                 conf->max_fixes)
            != 0)
        {
            race_log(RACE_LOG_ERROR, "pipe: out of memory");
            goto failed;
        }
    }

    for (i = 0; i < conf->writers; i++) {
        p->writers[i].pipe = p;
        p->writers[i].store = race_store_mongo_open(&conf->store);

        if (p->writers[i].store == NULL) {
            goto failed;
        }

        p->nwriters++;
    }

    /* the signals go to the main thread: it is the one that stops */

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);

    for (i = 0; i < p->nwriters; i++) {
        err = pthread_create(&p->writers[i].thread, NULL, race_pipe_writer,
                             &p->writers[i]);
        if (err != 0) {
            break;
        }

        p->writers[i].running = 1;
    }

    pthread_sigmask(SIG_SETMASK, &old, NULL);

    if (err != 0) {
        race_log(RACE_LOG_ERROR, "pipe: pthread_create() failed: %s",
                 strerror(err));
        goto failed;
    }

    race_log(RACE_LOG_INFO, "pipe: %zu batches in flight at most, %zu "
             "writers", p->nbatches, p->nwriters);

    return p;

failed:

    race_pipe_close(p);

    return NULL;
}


race_pipe_batch_t *
race_pipe_begin(race_pipe_t *p, race_pipe_batch_t *b)
{
    long                slot;
    uint64_t            seq;
    race_pipe_batch_t  *nb, tmp;

    pthread_mutex_lock(&p->mutex);
    slot = race_window_begin(&p->window, &seq);

    if (slot >= 0) {
        p->states[slot] = RACE_PIPE_BEGUN;
    }

    pthread_mutex_unlock(&p->mutex);

    if (slot < 0) {
        return NULL;
    }

    /* the filled arrays go in flight, the free ones are filled next */

    nb = &p->batches[slot];

    tmp = *nb;
    *nb = *b;
    *b = tmp;

    b->batch.n = 0;
    b->nfixes = 0;

    nb->seq = seq;
    nb->fed = 0;
    memset(nb->replayed, 0, nb->nfixes);
    memset(&nb->res, 0, sizeof(race_store_result_t));

    return nb;
}


void
race_pipe_store(race_pipe_t *p, race_pipe_batch_t *b)
{
    pthread_mutex_lock(&p->mutex);
    p->states[b - p->batches] = RACE_PIPE_QUEUED;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mutex);
}


void
race_pipe_live(race_pipe_t *p, race_pipe_batch_t *b)
{
    pthread_mutex_lock(&p->mutex);
    (void) race_window_done(&p->window, b->seq, RACE_PIPE_LIVE);
    pthread_mutex_unlock(&p->mutex);
}


race_pipe_batch_t *
race_pipe_done(race_pipe_t *p)
{
    long      slot;
    uint64_t  seq;

    pthread_mutex_lock(&p->mutex);
    slot = race_window_pop(&p->window, &seq);

    if (slot >= 0) {
        p->states[slot] = RACE_PIPE_FREE;
    }

    pthread_mutex_unlock(&p->mutex);

    return slot >= 0 ? &p->batches[slot] : NULL;
}


void
race_pipe_wait(race_pipe_t *p, int64_t ms)
{
    long  slot;

    pthread_mutex_lock(&p->mutex);

    /* nothing to wait for if the oldest is done, or nothing in flight */
    slot = race_window_slot(&p->window, p->window.first);

    if (slot >= 0 && p->window.done[slot] != p->window.all) {
        race_pipe_timedwait(&p->done, &p->mutex, ms);
    }

    pthread_mutex_unlock(&p->mutex);
}


size_t
race_pipe_used(race_pipe_t *p)
{
    size_t  n;

    pthread_mutex_lock(&p->mutex);
    n = race_window_used(&p->window);
    pthread_mutex_unlock(&p->mutex);

    return n;
}


race_pipe_batch_t *
race_pipe_nth(race_pipe_t *p, size_t i)
{
    long  slot;

    pthread_mutex_lock(&p->mutex);
    slot = race_window_slot(&p->window, p->window.first + i);
    pthread_mutex_unlock(&p->mutex);

    return slot >= 0 ? &p->batches[slot] : NULL;
}


unsigned
race_pipe_failing(race_pipe_t *p)
{
    unsigned  n;

    pthread_mutex_lock(&p->mutex);
    n = p->failing;
    pthread_mutex_unlock(&p->mutex);

    return n;
}


void
race_pipe_halt(race_pipe_t *p)
{
    size_t  i;

    if (!p->sync) {
        return;
    }

    pthread_mutex_lock(&p->mutex);
    p->quit = 1;
    pthread_cond_broadcast(&p->work);
    pthread_cond_broadcast(&p->retry);
    pthread_mutex_unlock(&p->mutex);

    for (i = 0; i < p->nwriters; i++) {
        if (p->writers[i].running) {
            pthread_join(p->writers[i].thread, NULL);
            p->writers[i].running = 0;
        }
    }
}


void
race_pipe_clear(race_pipe_t *p)
{
    long      slot;
    uint64_t  seq;

    pthread_mutex_lock(&p->mutex);

    for (seq = p->window.first; seq < p->window.next; seq++) {
        slot = race_window_slot(&p->window, seq);
        p->states[slot] = RACE_PIPE_FREE;
        p->batches[slot].nfixes = 0;
        p->batches[slot].batch.n = 0;
    }

    p->window.first = p->window.next;

    pthread_mutex_unlock(&p->mutex);
}


void
race_pipe_close(race_pipe_t *p)
{
    size_t  i;

    race_pipe_halt(p);

    for (i = 0; p->writers != NULL && i < p->nwriters; i++) {
        p->writers[i].store->ops->close(p->writers[i].store);
    }

    for (i = 0; p->batches != NULL && i < p->nbatches; i++) {
        race_pipe_batch_free(&p->batches[i]);
    }

    race_window_free(&p->window);

    if (p->sync) {
        pthread_cond_destroy(&p->done);
        pthread_cond_destroy(&p->retry);
        pthread_cond_destroy(&p->work);
        pthread_mutex_destroy(&p->mutex);
    }

    free(p->writers);
    free(p->states);
    free(p->batches);
    free(p);
}


/*
 * A writer: the oldest batch queued, inserted until it is, then the
 * next.  A quit while it retries leaves the batch unwritten: the main
 * thread releases it, for Kafka to deliver again.
 */

static void *
race_pipe_writer(void *data)
{
    int                  rc;
    int64_t              delay, start;
    unsigned             failures;
    race_pipe_t         *p;
    race_pipe_batch_t   *b;
    race_pipe_writer_t  *w = data;
    race_store_result_t  res;

    p = w->pipe;

    pthread_mutex_lock(&p->mutex);

    for ( ;; ) {

        b = NULL;

        while (!p->quit && (b = race_pipe_next(p)) == NULL) {
            pthread_cond_wait(&p->work, &p->mutex);
        }

        if (p->quit) {
            break;
        }

        p->states[b - p->batches] = RACE_PIPE_WRITING;
        pthread_mutex_unlock(&p->mutex);

        delay = RACE_DAEMON_RETRY_MS;
        failures = 0;

        for ( ;; ) {
            start = race_metrics_now_us();
            rc = w->store->ops->insert(w->store, b->fixes, b->nfixes, &res);
            race_metrics_since(race_metrics_worker.mongo_seconds, start);

            if (rc == RACE_STORE_OK) {
                break;
            }

            failures++;
            race_metrics_add(race_metrics_worker.retries, 1);

            race_log(failures == 1 ? RACE_LOG_WARN : RACE_LOG_DEBUG,
                     "a batch of %zu fixes was not written, retrying every "
                     "%lld ms at most", b->nfixes,
                     (long long) p->retry_max_ms);

            pthread_mutex_lock(&p->mutex);
            p->failing++;

            if (!p->quit) {
                race_pipe_timedwait(&p->retry, &p->mutex, delay);
            }

            if (p->quit) {
                /* left in flight, unwritten: the main thread releases it */
                goto quit;
            }

            pthread_mutex_unlock(&p->mutex);

            delay *= 2;
            if (delay > p->retry_max_ms) {
                delay = p->retry_max_ms;
            }
        }

        if (failures > 0) {
            race_log(RACE_LOG_INFO, "the batch of %zu fixes was written "
                     "after %u retries", b->nfixes, failures);
        }

        race_log(RACE_LOG_DEBUG, "stored %zu fixes: %zu new, %zu "
                 "duplicates", b->nfixes, res.inserted, res.duplicates);

        pthread_mutex_lock(&p->mutex);

        b->res = res;
        p->failing = 0;
        p->states[b - p->batches] = RACE_PIPE_WRITTEN;
        (void) race_window_done(&p->window, b->seq, RACE_PIPE_STORED);

        pthread_cond_broadcast(&p->done);
    }

quit:

    pthread_mutex_unlock(&p->mutex);

    return NULL;
}


/* the oldest batch queued for a writer, under the mutex; NULL if none */

static race_pipe_batch_t *
race_pipe_next(race_pipe_t *p)
{
    long      slot;
    uint64_t  seq;

    for (seq = p->window.first; seq < p->window.next; seq++) {
        slot = race_window_slot(&p->window, seq);

        if (slot >= 0 && p->states[slot] == RACE_PIPE_QUEUED) {
            return &p->batches[slot];
        }
    }

    return NULL;
}


static void
race_pipe_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
    int64_t ms)
{
    struct timespec  ts;

    if (ms <= 0) {
        return;
    }

    clock_gettime(CLOCK_MONOTONIC, &ts);

    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;

    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }

    /* a timeout, or a wakeup, spurious or not: the caller looks again */
    (void) pthread_cond_timedwait(cond, mutex, &ts);
}


static int
race_pipe_batch_init(race_pipe_batch_t *b, size_t batch_max,
    size_t max_fixes)
{
    b->msgs = calloc(batch_max, sizeof(race_fix_msg_t));
    b->fixes = calloc(max_fixes, sizeof(race_fix_t));
    b->replayed = calloc(max_fixes, 1);

    if (b->msgs == NULL || b->fixes == NULL || b->replayed == NULL
        || race_queue_batch_init(&b->batch, batch_max) != 0)
    {
        return -1;
    }

    return 0;
}


static void
race_pipe_batch_free(race_pipe_batch_t *b)
{
    race_queue_batch_free(&b->batch);
    free(b->replayed);
    free(b->fixes);
    free(b->msgs);
    b->replayed = NULL;
    b->fixes = NULL;
    b->msgs = NULL;
}
