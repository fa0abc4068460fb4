
/*
 * race-tracker: fixes from Kafka into MongoDB and the live state in Redis.
 *
 *     race-tracker [-c FILE] [--set name=value]... [-t]
 *
 * -c reads settings from a file of "name value" lines (conf/
 * race-tracker.conf is the commented sample), --set overrides one of
 * them (after the file, whatever the order on the command line), -t
 * checks the settings and exits.
 *
 * It consumes the topic of docs/INTERNALS.md in a consumer group and
 * works in batches: up to batch_max fixes, or what came within
 * batch_wait_ms of the first message.  The live path never waits on
 * MongoDB (race_pipe.h, docs/INTERNALS.md "race-tracker's pipeline"):
 *
 *   1. every message is parsed as it arrives; a malformed one is logged
 *      and skipped: it is poison, retrying cannot help, so its offset is
 *      committed with the batch;
 *   2. the batch, sorted by race, rider, t, seq, goes to the writer
 *      threads (store_writers, each its own MongoDB client): collection
 *      "fixes", _id "<race>:<rider>:<seq>", one unordered insert_many;
 *      duplicate keys are fixes stored by an earlier delivery;
 *   3. meanwhile, here: each race of the batch is looked up in the race
 *      book (race_book.h), loaded from Redis the first time: its
 *      riders' entries (bib, name), meta and course; a race with a
 *      course gets its standings (race_board.h), fed every fix of the
 *      race already in MongoDB (the replay) and the batches in flight;
 *   4. the newest fix of each rider goes to race:<race>:state in Redis
 *      through a script that keeps the newest t, with the rider's bib
 *      and name if it has an entry; the riders it changed are
 *      remembered for the next tick;
 *   5. the fixes are fed to the standings of their race;
 *   6. once both the insert (2) and the live side (3-5) of a batch are
 *      done, and those of every batch before it, its offsets are
 *      stored, for the auto commit.
 *
 * Up to store_batches batches are in flight: then nothing more is
 * consumed until MongoDB takes one (backpressure), the ticks going on.
 *
 * A finished race with a course gets its results (race_results.h) once
 * it is loaded finished without them, a few seconds after the last
 * fix that came after its finish (backfill: at most
 * RACE_TRACKER_RESULTS_MAX_MS after the first), and after a reload
 * (an entry marked dsq after the finish): one race's at a tick.
 *
 * If a write fails (a server down), it is retried with a backoff of up
 * to retry_max_ms, for as long as it takes: MongoDB's by its writer,
 * the live side's here; nothing is committed meanwhile: nothing is
 * lost, and the ids make the replays harmless.  Every tick_ms, the
 * races that channel race:races said changed are loaded again, the
 * standings say what changed, and each race with changed riders gets
 * one message on race:<race>:live with their newest states and the
 * lag_ms of the newest fixes in it.  How far behind the live view is
 * is also race_tracker_fix_lag_seconds.
 *
 * When the group takes partitions away, the batch in hand and those in
 * flight are written and their offsets committed synchronously before
 * they are given up.
 *
 * SIGTERM and SIGINT stop it: the batch in hand and those in flight are
 * written (for at most stop_timeout_ms), the offsets are committed
 * synchronously, the consumer leaves the group, the pending ticks are
 * published.  SIGHUP is logged and ignored.  Logs go to stderr.
 *
 * Exit codes:
 *   0  stopped by a signal, everything consumed was written
 *   1  a fatal error (Kafka fatal error, out of memory, a client that
 *      cannot be created), or stopped with batches that could not be
 *      written, which the group will deliver again
 *   2  bad usage or settings; nothing was connected
 */


#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race_book.h"
#include "race_conf.h"
#include "race_daemon.h"
#include "race_fix.h"
#include "race_live.h"
#include "race_log.h"
#include "race_pipe.h"
#include "race_signal.h"
#include "race_board.h"
#include "race_queue.h"
#include "race_results.h"
#include "race_queue_kafka.h"
#include "race_store.h"
#include "race_mongo.h"
#include "race_store_mongo.h"
#include "race_time.h"


#define RACE_TRACKER_NAME        "race-tracker"

/* how often the markers of results due are looked for */
#define RACE_TRACKER_DUE_MS  60000

/* results wait this long after a late fix for more, but at most MAX */
#define RACE_TRACKER_RESULTS_WAIT_MS   3000
#define RACE_TRACKER_RESULTS_MAX_MS    30000


typedef struct {
    race_daemon_conf_t      daemon;     /* the settings of every daemon */
    int64_t                 tick_ms;
    int64_t                 batch_max;
    int64_t                 batch_wait_ms;
    int64_t                 forget_after_ms;
    int64_t                 forget_live_after_ms;
    int64_t                 store_batches;
    int64_t                 store_writers;
} race_tracker_conf_t;


/* a fix in flight of the race being replayed, found by its _id */
typedef struct {
    const race_fix_t       *fix;
    unsigned char          *replayed;  /* its flag in its batch */
} race_tracker_held_t;


/* a replay of a race's standings */
typedef struct {
    race_book_race_t       *race;
    race_tracker_held_t    *held;      /* by rider, seq */
    size_t                  nheld;
} race_tracker_replay_t;


typedef struct {
    race_tracker_conf_t     conf;

    race_queue_t           *queue;
    race_store_t           *store;      /* the main thread's: replays */
    race_pipe_t            *pipe;       /* the writers' */
    race_live_t            *live;
    race_book_t            *book;
    race_results_t         *results;

    /* the fixes of a race's riders to publish again, at a tick */
    const race_fix_t      **restate;
    size_t                  restate_size;
    int64_t                 next_replay;    /* monotonic ms, after a fail */

    /* the batch being filled: messages, and what they parsed into */
    race_pipe_batch_t       in;
    size_t                  max_fixes;

    /* how far behind the live view is, ms */
    int64_t                 lag_ms;

    int64_t                 next_tick;  /* monotonic ms */
    int64_t                 next_due;   /* monotonic ms: results due */
    int64_t                 stop_at;    /* monotonic ms, once stopping */
    unsigned                abandoned:1;

    /* race_tracker_*: the others are race_metrics_worker's */
    race_metric_t          *m_batch;    /* fixes per batch */
    race_metric_t          *m_tick;     /* seconds to make a tick */
    race_metric_t          *m_inserted;
    race_metric_t          *m_duplicates;
    race_metric_t          *m_lag;      /* ms behind, shown in seconds */
    race_metric_t          *m_inflight; /* batches in the pipeline */

    uint64_t                messages;
    uint64_t                malformed;
    uint64_t                inserted;
    uint64_t                duplicates;
    uint64_t                replayed;
    uint64_t                loads;      /* the book's, kept past close */
} race_tracker_t;


static int race_tracker_open(void *data);
static int race_tracker_close(void *data);
static int race_tracker_run(void *data);
static void race_tracker_stopped(void *data, int rc);
static void race_tracker_parse(race_tracker_t *tr);
static int race_tracker_submit(race_tracker_t *tr);
static int race_tracker_live(race_tracker_t *tr, race_pipe_batch_t *b);
static void race_tracker_lag(race_tracker_t *tr, race_pipe_batch_t *b);
static void race_tracker_reap(race_tracker_t *tr);
static int race_tracker_settle(race_tracker_t *tr);
static void race_tracker_abandon(race_tracker_t *tr);
static int race_tracker_giving_up(race_tracker_t *tr);
static void race_tracker_idle(void *data);
static void race_tracker_tick(race_tracker_t *tr);
static void race_tracker_drain(race_queue_t *q, void *data);
static int race_tracker_prepare(race_tracker_t *tr, race_pipe_batch_t *b);
static int race_tracker_standings(race_tracker_t *tr, race_book_race_t *r);
static void race_tracker_replayed(void *data, const race_fix_t *fixes,
    size_t n);
static race_tracker_held_t *race_tracker_hold(race_tracker_t *tr,
    race_book_race_t *r, size_t *n);
static int race_tracker_held_compare(const void *a, const void *b);
static void race_tracker_refeed(race_tracker_t *tr, race_book_race_t *r);
static void race_tracker_feed_race(race_book_race_t *r,
    race_pipe_batch_t *b, size_t i, size_t j);
static void race_tracker_range(race_pipe_batch_t *b, const char *race,
    size_t *i, size_t *j);
static void race_tracker_feed(race_tracker_t *tr, race_pipe_batch_t *b);
static int race_tracker_compare(const void *a, const void *b);
static void race_tracker_restate(race_tracker_t *tr, race_book_race_t *r);
static int race_tracker_emit(void *ctx, const char *rider,
    const char *members, size_t len);
static void race_tracker_who(void *data, const race_fix_t *fix,
    const char **who, const char **extra);
static void race_tracker_forget(void *data, race_book_race_t *r);
static int race_tracker_results(race_tracker_t *tr, race_book_race_t *r);
static void race_tracker_results_later(race_book_race_t *r, int64_t now);
static void race_tracker_due(void *data, const char *race);
static void race_tracker_metrics(race_tracker_t *tr);


/* fixes per batch: one rider's message, to batch_max's top */
static const int64_t  race_tracker_batch_buckets[] = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000
};


#define race_tracker_field(name)  offsetof(race_tracker_t, conf.name)

static const race_conf_setting_t  race_tracker_settings[] = {

    RACE_DAEMON_KAFKA_SETTINGS(race_tracker_field(daemon), "race.fixes",
                               RACE_TRACKER_NAME, "5000"),

    RACE_DAEMON_STORE_SETTINGS(race_tracker_field(daemon)),

    { "tick_ms", RACE_CONF_INT, race_tracker_field(tick_ms),
      "250", 50, 5000, NULL, NULL },

    { "batch_max", RACE_CONF_INT, race_tracker_field(batch_max),
      "1000", 1, 10000, NULL, NULL },

    { "batch_wait_ms", RACE_CONF_INT, race_tracker_field(batch_wait_ms),
      "50", 0, 5000, NULL, NULL },

    { "forget_after_ms", RACE_CONF_INT, race_tracker_field(forget_after_ms),
      "600000", 1000, 86400000, NULL, NULL },

    { "forget_live_after_ms", RACE_CONF_INT,
      race_tracker_field(forget_live_after_ms),
      "86400000", 1000, 604800000, NULL, NULL },

    { "store_batches", RACE_CONF_INT, race_tracker_field(store_batches),
      "8", 1, 64, NULL, NULL },

    { "store_writers", RACE_CONF_INT, race_tracker_field(store_writers),
      "2", 1, 16, NULL, NULL },

    RACE_DAEMON_RUN_SETTINGS(race_tracker_field(daemon)),

    { NULL, 0, 0, NULL, 0, 0, NULL, NULL }
};


static const race_daemon_t  race_tracker_daemon = {
    RACE_TRACKER_NAME,
    NULL,
    race_tracker_settings,
    offsetof(race_tracker_t, conf),
    offsetof(race_tracker_t, conf.daemon),
    NULL,
    NULL,
    NULL,
    race_tracker_open,
    race_tracker_run,
    race_tracker_close,
    race_tracker_stopped
};


int
main(int argc, char **argv)
{
    int              rc;
    race_tracker_t  *tr;

    tr = calloc(1, sizeof(race_tracker_t));
    if (tr == NULL) {
        fprintf(stderr, RACE_TRACKER_NAME ": out of memory\n");
        return RACE_DAEMON_EXIT_FAIL;
    }

    rc = race_daemon_main(&race_tracker_daemon, tr, argc, argv);

    free(tr);

    return rc;
}


static int
race_tracker_open(void *data)
{
    race_tracker_t           *tr = data;
    race_book_conf_t          bc;
    race_live_conf_t          lc;
    race_pipe_conf_t          pc;
    race_results_conf_t       rc;
    race_store_mongo_conf_t   sc;
    race_queue_kafka_conf_t   kc;

    race_tracker_metrics(tr);

    /* a batch ends once it has batch_max fixes; a message is not split */
    tr->max_fixes = (size_t) tr->conf.batch_max + RACE_FIX_BATCH_MAX;

    tr->in.msgs = calloc((size_t) tr->conf.batch_max,
                         sizeof(race_fix_msg_t));
    tr->in.fixes = calloc(tr->max_fixes, sizeof(race_fix_t));
    tr->in.replayed = calloc(tr->max_fixes, 1);

    if (tr->in.msgs == NULL || tr->in.fixes == NULL
        || tr->in.replayed == NULL
        || race_queue_batch_init(&tr->in.batch, (size_t) tr->conf.batch_max)
           != 0)
    {
        race_log(RACE_LOG_ERROR, "out of memory");
        return -1;
    }

    sc.uri = tr->conf.daemon.mongo_uri;
    sc.db = tr->conf.daemon.mongo_db;
    sc.appname = RACE_TRACKER_NAME;
    sc.timeout_ms = (int) tr->conf.daemon.mongo_timeout_ms;
    sc.max_fixes = tr->max_fixes;

    tr->store = race_store_mongo_open(&sc);
    if (tr->store == NULL) {
        return -1;
    }

    pc.batches = (size_t) tr->conf.store_batches;
    pc.writers = (size_t) tr->conf.store_writers;
    pc.batch_max = (size_t) tr->conf.batch_max;
    pc.max_fixes = tr->max_fixes;
    pc.retry_max_ms = tr->conf.daemon.retry_max_ms;
    pc.store = sc;

    tr->pipe = race_pipe_open(&pc);
    if (tr->pipe == NULL) {
        return -1;
    }

    rc.host = tr->conf.daemon.redis_host;
    rc.port = (int) tr->conf.daemon.redis_port;
    rc.timeout_ms = (int) tr->conf.daemon.redis_timeout_ms;
    rc.retry_max_ms = (int) tr->conf.daemon.retry_max_ms;
    rc.store = tr->store;

    tr->results = race_results_open(&rc);
    if (tr->results == NULL) {
        return -1;
    }

    lc.host = tr->conf.daemon.redis_host;
    lc.port = (int) tr->conf.daemon.redis_port;
    lc.timeout_ms = (int) tr->conf.daemon.redis_timeout_ms;
    lc.retry_max_ms = (int) tr->conf.daemon.retry_max_ms;
    lc.max_fixes = tr->max_fixes;
    lc.who = race_tracker_who;
    lc.data = tr;

    tr->live = race_live_open(&lc);
    if (tr->live == NULL) {
        return -1;
    }

    bc.host = tr->conf.daemon.redis_host;
    bc.port = (int) tr->conf.daemon.redis_port;
    bc.timeout_ms = (int) tr->conf.daemon.redis_timeout_ms;
    bc.retry_max_ms = (int) tr->conf.daemon.retry_max_ms;
    bc.forget_ms = tr->conf.forget_after_ms;
    bc.forget_any_ms = tr->conf.forget_live_after_ms;

    if (bc.forget_any_ms < bc.forget_ms) {
        bc.forget_any_ms = bc.forget_ms;
    }
    bc.forget = race_tracker_forget;
    bc.data = tr;

    tr->book = race_book_open(&bc);
    if (tr->book == NULL) {
        return -1;
    }

    kc.brokers = tr->conf.daemon.kafka_brokers;
    kc.topic = tr->conf.daemon.kafka_topic;
    kc.group = tr->conf.daemon.kafka_group;
    kc.instance_id = tr->conf.daemon.kafka_instance_id;
    kc.client_id = RACE_TRACKER_NAME;
    kc.commit_interval_ms = (int) tr->conf.daemon.kafka_commit_ms;
    kc.session_timeout_ms = (int) tr->conf.daemon.kafka_session_timeout_ms;
    kc.log_level = tr->conf.daemon.log_level;

    tr->queue = race_queue_kafka_open(&kc, race_tracker_drain, tr);
    if (tr->queue == NULL) {
        return -1;
    }

    return 0;
}


/*
 * The batches in flight were written (or given up) by race_tracker_run();
 * after a fatal error, what is left in flight is released, uncommitted,
 * before the queue goes.  Closing the queue commits synchronously and
 * leaves the group; then the last ticks go out.
 */

static int
race_tracker_close(void *data)
{
    race_tracker_t  *tr = data;

    if (tr->pipe != NULL && race_pipe_used(tr->pipe) > 0) {
        race_tracker_abandon(tr);
    }

    if (tr->queue != NULL) {
        if (tr->in.batch.n > 0) {
            tr->queue->ops->release(tr->queue, &tr->in.batch);
        }

        tr->queue->ops->close(tr->queue);
        tr->queue = NULL;
    }

    if (tr->pipe != NULL) {
        race_pipe_close(tr->pipe);
        tr->pipe = NULL;
    }

    if (tr->live != NULL) {

        /* the last tick too keeps to one per tick_ms */
        if (race_live_pending(tr->live) > 0) {
            race_time_sleep_ms(tr->next_tick - race_time_mono_ms());
        }

        if (race_live_tick(tr->live, race_time_wall_ms()) != RACE_LIVE_OK) {
            race_log(RACE_LOG_WARN, "the ticks of %zu races were not "
                     "published", race_live_pending(tr->live));
        }

        race_live_close(tr->live);
        tr->live = NULL;
    }

    /* after the store's last use: the standings go with their races */
    if (tr->book != NULL) {
        tr->loads = race_book_loads(tr->book);
        race_book_close(tr->book);
        tr->book = NULL;
    }

    race_results_close(tr->results);
    tr->results = NULL;

    if (tr->store != NULL) {
        tr->store->ops->close(tr->store);
        tr->store = NULL;
    }

    race_queue_batch_free(&tr->in.batch);
    free(tr->restate);
    free(tr->in.replayed);
    free(tr->in.fixes);
    free(tr->in.msgs);

    return tr->abandoned ? -1 : 0;
}


static void
race_tracker_stopped(void *data, int rc)
{
    race_tracker_t  *tr = data;

    race_log(RACE_LOG_INFO, "stopped%s: %llu messages, %llu malformed, "
             "%llu fixes inserted, %llu duplicates, %llu race loads, "
             "%llu replayed fixes",
             rc == RACE_DAEMON_EXIT_OK ? "" : " on an error",
             (unsigned long long) tr->messages,
             (unsigned long long) tr->malformed,
             (unsigned long long) tr->inserted,
             (unsigned long long) tr->duplicates,
             (unsigned long long) tr->loads,
             (unsigned long long) tr->replayed);
}


/* 0 when stopped by a signal, -1 on a fatal error */

static int
race_tracker_run(void *data)
{
    int              rc;
    int64_t          now, deadline, wait;
    race_tracker_t  *tr = data;

    tr->next_tick = race_time_mono_ms() + tr->conf.tick_ms;
    deadline = 0;

    while (!race_signal_stop) {

        /*
         * Every batch in flight: nothing more is consumed until MongoDB
         * takes one (the backpressure); the ticks go on meanwhile.
         */

        race_tracker_reap(tr);

        if (race_pipe_used(tr->pipe) == (size_t) tr->conf.store_batches) {
            race_metrics_beat();
            race_daemon_hup();

            wait = tr->next_tick - race_time_mono_ms();
            race_pipe_wait(tr->pipe, wait < RACE_DAEMON_POLL_MS
                                     ? wait : RACE_DAEMON_POLL_MS);

            if (race_time_mono_ms() >= tr->next_tick) {
                race_tracker_tick(tr);
            }

            continue;
        }

        /* fill a batch: until it is full, its time is up, or a tick */

        for ( ;; ) {
            race_metrics_beat();

            now = race_time_mono_ms();

            if (race_signal_stop || now >= tr->next_tick) {
                break;
            }

            if (tr->in.batch.n > 0
                && (tr->in.batch.n == tr->in.batch.size
                    || tr->in.nfixes >= (size_t) tr->conf.batch_max
                    || now >= deadline))
            {
                break;
            }

            wait = tr->next_tick - now;

            if (tr->in.batch.n > 0 && deadline - now < wait) {
                wait = deadline - now;
            }

            if (wait > RACE_DAEMON_POLL_MS) {
                wait = RACE_DAEMON_POLL_MS;
            }

            /* a revoke drains the batch from inside poll */
            rc = tr->queue->ops->poll(tr->queue, &tr->in.batch, (int) wait);

            if (rc == RACE_QUEUE_ERROR) {
                return -1;
            }

            if (rc == RACE_QUEUE_OK) {
                if (tr->in.batch.n == 1) {
                    deadline = race_time_mono_ms() + tr->conf.batch_wait_ms;
                }

                race_tracker_parse(tr);

            } else if (tr->in.batch.n == 0) {
                /* nothing waiting to be consumed: the live view is now */
                tr->lag_ms = 0;
                race_metrics_set(tr->m_lag, 0);
            }

            /* MongoDB's writes end meanwhile: their offsets go */
            race_tracker_reap(tr);
        }

        race_daemon_hup();

        if (tr->in.batch.n > 0) {
            (void) race_tracker_submit(tr);
        }

        if (race_time_mono_ms() >= tr->next_tick) {
            race_tracker_tick(tr);
        }
    }

    /* stopping: the batch in hand, then what is in flight, written */

    if (tr->in.batch.n > 0 && race_tracker_submit(tr) != 0) {
        return 0;
    }

    (void) race_tracker_settle(tr);

    return 0;
}


/* the message just appended to the batch in hand */

static void
race_tracker_parse(race_tracker_t *tr)
{
    char               err[256];
    size_t             i, n;
    race_queue_msg_t  *msg;

    i = tr->in.batch.n - 1;
    msg = &tr->in.batch.msgs[i];

    tr->messages++;

    if (race_fix_parse_kafka(msg->data, msg->len, &tr->in.msgs[i],
                             &tr->in.fixes[tr->in.nfixes],
                             tr->max_fixes - tr->in.nfixes, &n, err,
                             sizeof(err))
        != 0)
    {
        /* poison: skipped, and committed with the batch */
        tr->malformed++;
        race_metrics_add(race_metrics_worker.malformed, 1);
        race_log(RACE_LOG_WARN, "skipping malformed message %s: %s",
                 msg->where, err);
        return;
    }

    tr->in.nfixes += n;

    race_log(RACE_LOG_DEBUG, "message %s: %zu fixes of %s/%s", msg->where,
             n, tr->in.msgs[i].race, tr->in.msgs[i].rider);
}


/*
 * The batch in hand into the pipeline: to the writers first, so that
 * MongoDB is written while the live side is, then the live side here,
 * retried until it is written.  Waits for a free batch if there is
 * none (a drain).  -1 if it was given up, stopping: then everything in
 * flight was released, uncommitted, for the group to deliver again.
 */

static int
race_tracker_submit(race_tracker_t *tr)
{
    int64_t             delay, wait;
    unsigned            failures;
    race_pipe_batch_t  *b;

    if (tr->abandoned) {
        tr->queue->ops->release(tr->queue, &tr->in.batch);
        tr->in.nfixes = 0;
        return -1;
    }

    for ( ;; ) {
        race_tracker_reap(tr);

        b = race_pipe_begin(tr->pipe, &tr->in);
        if (b != NULL) {
            break;
        }

        if (race_tracker_giving_up(tr)) {
            race_tracker_abandon(tr);
            tr->queue->ops->release(tr->queue, &tr->in.batch);
            tr->in.nfixes = 0;
            return -1;
        }

        race_metrics_beat();

        wait = tr->next_tick - race_time_mono_ms();
        race_pipe_wait(tr->pipe, wait < RACE_DAEMON_POLL_MS
                                 ? wait : RACE_DAEMON_POLL_MS);

        race_tracker_idle(tr);
    }

    /* by race, rider, t, seq: the standings want them so, later */
    qsort(b->fixes, b->nfixes, sizeof(race_fix_t), race_tracker_compare);

    race_pipe_store(tr->pipe, b);

    race_metrics_set(tr->m_inflight, (int64_t) race_pipe_used(tr->pipe));

    delay = RACE_DAEMON_RETRY_MS;
    failures = 0;

    while (race_tracker_live(tr, b) != 0) {

        failures++;
        race_metrics_add(race_metrics_worker.retries, 1);

        if (race_tracker_giving_up(tr)) {
            race_tracker_abandon(tr);
            return -1;
        }

        race_log(failures == 1 ? RACE_LOG_WARN : RACE_LOG_DEBUG,
                 "the live state of a batch of %zu fixes was not written, "
                 "retrying every %lld ms at most", b->nfixes,
                 (long long) tr->conf.daemon.retry_max_ms);

        race_daemon_wait(delay, race_tracker_idle, tr);

        delay *= 2;
        if (delay > tr->conf.daemon.retry_max_ms) {
            delay = tr->conf.daemon.retry_max_ms;
        }
    }

    if (failures > 0) {
        race_log(RACE_LOG_INFO, "the live state of the batch of %zu fixes "
                 "was written after %u retries", b->nfixes, failures);
    }

    race_pipe_live(tr->pipe, b);
    race_tracker_reap(tr);

    return 0;
}


/*
 * The live side of a batch: its races in the book, the newest fix of
 * each rider in Redis, the standings fed; -1 if Redis (or the book's
 * reading of it) failed, for the caller to retry.
 */

static int
race_tracker_live(race_tracker_t *tr, race_pipe_batch_t *b)
{
    int      rc;
    int64_t  start;

    if (b->nfixes == 0) {
        return 0;
    }

    /* the races are known before their riders' states are written */
    if (race_tracker_prepare(tr, b) != 0) {
        return -1;
    }

    start = race_metrics_now_us();
    rc = race_live_update(tr->live, b->fixes, b->nfixes);
    race_metrics_since(race_metrics_worker.redis_seconds, start);

    if (rc != RACE_LIVE_OK) {
        return -1;
    }

    race_tracker_lag(tr, b);

    /* nothing fails after this: the standings see a batch once */
    race_tracker_feed(tr, b);

    return 0;
}


/*
 * How far behind the live view is: now less the time nginx received
 * the newest fix just written; a fix's own t could be old rightly (a
 * backfill after a dead zone) or off (the phone's clock).
 */

static void
race_tracker_lag(race_tracker_t *tr, race_pipe_batch_t *b)
{
    size_t   i;
    int64_t  newest, now;

    newest = 0;

    for (i = 0; i < b->nfixes; i++) {
        if (b->fixes[i].msg->recv > newest) {
            newest = b->fixes[i].msg->recv;
        }
    }

    if (newest == 0) {
        return;
    }

    now = race_time_wall_ms();

    tr->lag_ms = now > newest ? now - newest : 0;
    race_metrics_set(tr->m_lag, tr->lag_ms);
}


/* the batches both written, oldest first: their offsets stored */

static void
race_tracker_reap(race_tracker_t *tr)
{
    race_pipe_batch_t  *b;

    while ((b = race_pipe_done(tr->pipe)) != NULL) {

        /* only now: the offsets cover nothing that is not written */
        tr->queue->ops->commit(tr->queue, &b->batch);

        tr->inserted += b->res.inserted;
        tr->duplicates += b->res.duplicates;
        race_metrics_add(tr->m_inserted, (int64_t) b->res.inserted);
        race_metrics_add(tr->m_duplicates, (int64_t) b->res.duplicates);
        race_metrics_observe(tr->m_batch, (int64_t) b->nfixes);

        b->nfixes = 0;
    }

    race_metrics_set(tr->m_inflight, (int64_t) race_pipe_used(tr->pipe));
}


/*
 * Waits until every batch in flight is written and its offsets stored,
 * the ticks going on.  Gives up only when stopping, stop_timeout_ms
 * after the stop, while a write fails: -1, everything in flight
 * released uncommitted.
 */

static int
race_tracker_settle(race_tracker_t *tr)
{
    int64_t  wait;

    if (tr->abandoned) {
        return -1;
    }

    for ( ;; ) {
        race_tracker_reap(tr);

        if (race_pipe_used(tr->pipe) == 0) {
            return 0;
        }

        if (race_tracker_giving_up(tr)) {
            race_tracker_abandon(tr);
            return -1;
        }

        race_metrics_beat();

        wait = tr->next_tick - race_time_mono_ms();
        race_pipe_wait(tr->pipe, wait < RACE_DAEMON_POLL_MS
                                 ? wait : RACE_DAEMON_POLL_MS);

        race_tracker_idle(tr);
    }
}


/* stopping, stop_timeout_ms after the stop, and still failing to write */

static int
race_tracker_giving_up(race_tracker_t *tr)
{
    int64_t  now;

    if (!race_signal_stop) {
        return 0;
    }

    now = race_time_mono_ms();

    if (tr->stop_at == 0) {
        tr->stop_at = now + tr->conf.daemon.stop_timeout_ms;
    }

    return now >= tr->stop_at;
}


/*
 * The writers stopped, and every batch in flight released uncommitted,
 * oldest first: the group delivers them again, to us or another one.
 */

static void
race_tracker_abandon(race_tracker_t *tr)
{
    size_t              i, n, nfixes;
    race_pipe_batch_t  *b;

    race_pipe_halt(tr->pipe);

    n = 0;
    nfixes = 0;

    for (i = 0; (b = race_pipe_nth(tr->pipe, i)) != NULL; i++) {
        n += b->batch.n;
        nfixes += b->nfixes;
        tr->queue->ops->release(tr->queue, &b->batch);
        b->nfixes = 0;
    }

    race_pipe_clear(tr->pipe);

    if (n > 0) {
        race_log(RACE_LOG_ERROR, "stopping with %zu messages (%zu fixes) "
                 "not written; they will be delivered again", n, nfixes);
    }

    tr->abandoned = 1;
}


/* between retries and while waiting on MongoDB: the ticks go on */

static void
race_tracker_idle(void *data)
{
    race_tracker_t  *tr = data;

    if (race_time_mono_ms() >= tr->next_tick) {
        race_tracker_tick(tr);
    }
}


static void
race_tracker_tick(race_tracker_t *tr)
{
    int                made;
    size_t             i, pending;
    int64_t            now, start, wstart;
    race_book_race_t  *r;

    start = race_metrics_now_us();

    /* at most one tick per tick_ms: the next one counts from now */
    tr->next_tick = race_time_mono_ms() + tr->conf.tick_ms;
    now = race_time_wall_ms();

    /* what race:races announced, loaded again */
    race_book_poll(tr->book);

    /* results a stopped tracker left due: at the start, then each minute */
    if (race_time_mono_ms() >= tr->next_due) {
        tr->next_due = race_time_mono_ms()
                       + (race_results_scan_due(tr->results,
                                                race_tracker_due, tr)
                          == 0 ? RACE_TRACKER_DUE_MS
                               : tr->conf.daemon.retry_max_ms);
    }

    i = 0;
    made = 0;

    while ((r = race_book_next(tr->book, &i)) != NULL) {

        /* started by hand: the times count from another start */
        if (r->standings != NULL && r->replayed
            && race_board_stale(r->standings, r))
        {
            r->course_changed = 1;
        }

        if ((r->course_changed || (r->course && !r->replayed))
            && race_time_mono_ms() >= tr->next_replay)
        {
            (void) race_tracker_standings(tr, r);
        }

        if (r->standings != NULL && r->replayed
            && race_board_tick(r->standings, r, now, race_tracker_emit,
                                   r)
               != 0)
        {
            race_log(RACE_LOG_WARN, "race %s: the standings failed at a "
                     "tick", r->id);
        }

        if (r->nrestate > 0) {
            race_tracker_restate(tr, r);
        }

        /* the results of one race at most: each blocks the loop */
        if (!made && r->keys && r->course != NULL
            && strcmp(r->status, "finished") == 0)
        {
            made = race_tracker_results(tr, r);
        }
    }

    race_book_sweep(tr->book);

    /* failures are logged by race_live; what is pending stays pending */

    pending = race_live_pending(tr->live);
    wstart = race_metrics_now_us();

    (void) race_live_tick(tr->live, now);

    if (pending > 0) {
        race_metrics_since(race_metrics_worker.redis_seconds, wstart);
    }

    race_metrics_since(tr->m_tick, start);
}


/*
 * The queue gives up partitions: write and commit what we hold first,
 * the batch in hand and those in flight.
 */

static void
race_tracker_drain(race_queue_t *q, void *data)
{
    race_tracker_t  *tr = data;

    (void) q;

    if (tr->in.batch.n > 0) {
        race_log(RACE_LOG_INFO, "rebalance: writing the batch in hand "
                 "first");

        if (race_tracker_submit(tr) != 0) {
            return;
        }
    }

    (void) race_tracker_settle(tr);
}


/*
 * Each race of the batch in the book, loaded if new, its standings
 * rebuilt if it has a course and they are not; -1 if Redis or MongoDB
 * cannot be read now.  Called again by a retry: then it finds them all.
 */

static int
race_tracker_prepare(race_tracker_t *tr, race_pipe_batch_t *b)
{
    size_t             i;
    const char        *race, *prev;
    race_book_race_t  *r;

    prev = NULL;

    for (i = 0; i < b->nfixes; i++) {
        race = b->fixes[i].msg->race;

        /* a message's fixes are of one race, and often the next ones too */
        if (prev != NULL && strcmp(prev, race) == 0) {
            continue;
        }

        prev = race;

        if (race_book_get(tr->book, race, &r) != RACE_BOOK_OK) {
            return -1;
        }

        /*
         * Standings that cannot be made now (MongoDB failed the replay)
         * hold nothing up: a later tick makes them from every stored
         * fix, and from the batches in flight.
         */
        if ((r->course_changed || (r->course && !r->replayed))
            && race_time_mono_ms() >= tr->next_replay
            && race_tracker_standings(tr, r) != 0)
        {
            race_log(RACE_LOG_WARN, "race %s: no standings until the "
                     "replay succeeds", r->id);
        }

        /*
         * Fixes after the finish: the results are due again, marked in
         * Redis before the offsets are stored, so that a tracker that
         * stops before it makes them leaves that to the next one.
         */
        if (r->keys && r->course != NULL
            && strcmp(r->status, "finished") == 0
            && race_results_due(tr->results, r) != 0)
        {
            return -1;
        }
    }

    return 0;
}


/*
 * A race's standings made anew when its course is new or changed: fed
 * every fix MongoDB has of the race, so that what a tracker computes
 * does not depend on when it started.  -1 if MongoDB could not be read
 * to the end: the standings are dropped, and made again later.
 */

static int
race_tracker_standings(race_tracker_t *tr, race_book_race_t *r)
{
    int                     rc;
    size_t                  total;
    race_tracker_replay_t   rp;

    if (r->course_changed) {
        r->course_changed = 0;
        r->replayed = 0;

        if (r->standings != NULL) {
            race_board_close(r->standings);
            r->standings = NULL;
        }
    }

    if (r->course == NULL || r->replayed) {
        return 0;
    }

    r->standings = race_board_open(r);
    if (r->standings == NULL) {
        return -1;
    }

    rp.race = r;
    rp.held = race_tracker_hold(tr, r, &rp.nheld);

    rc = RACE_STORE_ERROR;

    if (rp.held != NULL || rp.nheld == 0) {
        rc = tr->store->ops->replay(tr->store, r->id, RACE_BOARD_SLICE,
                                    race_tracker_replayed, &rp, &total);
    }

    free(rp.held);

    if (rc != RACE_STORE_OK) {
        race_board_close(r->standings);
        r->standings = NULL;

        /* the ticks do not wait on MongoDB while it is away */
        tr->next_replay = race_time_mono_ms() + tr->conf.daemon.retry_max_ms;

        return -1;
    }

    r->replayed = 1;
    tr->replayed += total;

    race_log(RACE_LOG_INFO, "race %s: standings made, %zu stored fixes "
             "replayed", r->id, total);

    race_tracker_refeed(tr, r);

    return 0;
}


static void
race_tracker_replayed(void *data, const race_fix_t *fixes, size_t n)
{
    size_t                  lo, hi, mid, k;
    race_book_race_t       *r;
    race_tracker_held_t     key;
    race_tracker_replay_t  *rp = data;

    r = rp->race;

    race_book_note(r, fixes, n);
    race_board_feed(r->standings, r, fixes, n);

    /* the fixes in flight that it returned: the standings have them */

    for (k = 0; k < n && rp->nheld > 0; k++) {
        key.fix = &fixes[k];

        lo = 0;
        hi = rp->nheld;

        while (lo < hi) {
            mid = lo + (hi - lo) / 2;

            if (race_tracker_held_compare(&rp->held[mid], &key) < 0) {
                lo = mid + 1;

            } else {
                hi = mid;
            }
        }

        /* the same _id may be in flight twice (delivered again) */

        while (lo < rp->nheld
               && race_tracker_held_compare(&rp->held[lo], &key) == 0)
        {
            *rp->held[lo].replayed = 1;
            lo++;
        }
    }
}


/*
 * The fixes of race r in the batches in flight, by rider and seq (their
 * _id in the race), each with its replayed flag cleared: the replay
 * about to be made sets the flags of those it returns.  NULL with *n 0
 * if there are none, NULL with *n > 0 if out of memory.
 *
 * Why by _id, and not by which batches are written: a batch being
 * written while the replay's cursor reads may come back in part, or
 * not at all, however its state is looked at before and after; the
 * flags are what the replay did return, so each fix reaches the new
 * standings once: in the replay, or else (refeed, feed) from its batch.
 */

static race_tracker_held_t *
race_tracker_hold(race_tracker_t *tr, race_book_race_t *r, size_t *n)
{
    size_t                k, i, j, m;
    race_pipe_batch_t    *b;
    race_tracker_held_t  *held;

    m = 0;

    for (k = 0; (b = race_pipe_nth(tr->pipe, k)) != NULL; k++) {
        race_tracker_range(b, r->id, &i, &j);
        memset(&b->replayed[i], 0, j - i);
        m += j - i;
    }

    *n = m;

    if (m == 0) {
        return NULL;
    }

    held = malloc(m * sizeof(race_tracker_held_t));
    if (held == NULL) {
        race_log(RACE_LOG_ERROR, "race %s: out of memory for a replay",
                 r->id);
        return NULL;
    }

    m = 0;

    for (k = 0; (b = race_pipe_nth(tr->pipe, k)) != NULL; k++) {
        race_tracker_range(b, r->id, &i, &j);

        for ( /* void */ ; i < j; i++) {
            held[m].fix = &b->fixes[i];
            held[m].replayed = &b->replayed[i];
            m++;
        }
    }

    qsort(held, m, sizeof(race_tracker_held_t), race_tracker_held_compare);

    return held;
}


/* by rider, seq: a fix's _id within its race */

static int
race_tracker_held_compare(const void *a, const void *b)
{
    int                         c;
    const race_tracker_held_t  *ha = a, *hb = b;

    c = strcmp(ha->fix->msg->rider, hb->fix->msg->rider);
    if (c != 0) {
        return c;
    }

    return (ha->fix->seq > hb->fix->seq) - (ha->fix->seq < hb->fix->seq);
}


/*
 * The batches in flight that the standings of a race were fed before
 * its replay are fed again, but for the fixes the replay returned (a
 * batch may not be stored yet, or only in part, while it is written):
 * each fix once.  The batches not fed yet skip those in feed().
 */

static void
race_tracker_refeed(race_tracker_t *tr, race_book_race_t *r)
{
    size_t              k, i, j;
    race_pipe_batch_t  *b;

    for (k = 0; (b = race_pipe_nth(tr->pipe, k)) != NULL; k++) {
        if (!b->fed) {
            continue;
        }

        race_tracker_range(b, r->id, &i, &j);
        race_tracker_feed_race(r, b, i, j);
    }
}


/* fixes [i, j) of a batch, of race r, to its standings but the replayed */

static void
race_tracker_feed_race(race_book_race_t *r, race_pipe_batch_t *b, size_t i,
    size_t j)
{
    size_t  k;

    while (i < j) {
        if (b->replayed[i]) {
            i++;
            continue;
        }

        for (k = i + 1; k < j && !b->replayed[k]; k++) {
            /* void */
        }

        race_board_feed(r->standings, r, &b->fixes[i], k - i);
        i = k;
    }
}


/* the fixes [*i, *j) of race in a batch: sorted by race, they are together */

static void
race_tracker_range(race_pipe_batch_t *b, const char *race, size_t *i,
    size_t *j)
{
    size_t  k;

    for (k = 0; k < b->nfixes; k++) {
        if (strcmp(b->fixes[k].msg->race, race) == 0) {
            break;
        }
    }

    *i = k;

    for ( /* void */ ; k < b->nfixes; k++) {
        if (strcmp(b->fixes[k].msg->race, race) != 0) {
            break;
        }
    }

    *j = k;
}


/*
 * The batch, its live side written, to the book and the standings,
 * race by race, each rider's fixes by t (it was sorted before it went
 * to the writers, who only read it).  A race forgotten meanwhile (a
 * long outage) is skipped: its next fix loads it again, with a replay.
 */

static void
race_tracker_feed(race_tracker_t *tr, race_pipe_batch_t *b)
{
    size_t             i, j;
    race_book_race_t  *r;

    b->fed = 1;

    for (i = 0; i < b->nfixes; i = j) {

        for (j = i + 1; j < b->nfixes; j++) {
            if (strcmp(b->fixes[j].msg->race, b->fixes[i].msg->race) != 0)
            {
                break;
            }
        }

        r = race_book_find(tr->book, b->fixes[i].msg->race);
        if (r == NULL) {
            continue;
        }

        race_book_note(r, &b->fixes[i], j - i);

        /* fixes after the finish: the results are to be made again */
        if (r->keys && r->course != NULL
            && strcmp(r->status, "finished") == 0)
        {
            race_tracker_results_later(r, race_time_mono_ms());
        }

        if (r->standings != NULL && r->replayed) {
            race_tracker_feed_race(r, b, i, j);
        }
    }
}


/* by race, rider, t, seq */

static int
race_tracker_compare(const void *a, const void *b)
{
    int                c;
    const race_fix_t  *x = a, *y = b;

    c = strcmp(x->msg->race, y->msg->race);
    if (c != 0) {
        return c;
    }

    c = strcmp(x->msg->rider, y->msg->rider);
    if (c != 0) {
        return c;
    }

    if (x->t != y->t) {
        return x->t < y->t ? -1 : 1;
    }

    if (x->seq != y->seq) {
        return x->seq < y->seq ? -1 : 1;
    }

    return 0;
}


/* the riders of a race marked to be written again; kept if Redis fails */

static void
race_tracker_restate(race_tracker_t *tr, race_book_race_t *r)
{
    size_t              i, n, size;
    const race_fix_t  **p;
    race_map_entry_t   *e;
    race_book_rider_t  *rd;

    if (r->nrestate > tr->restate_size) {
        size = r->nrestate * 2;

        p = realloc(tr->restate, size * sizeof(race_fix_t *));
        if (p == NULL) {
            race_log(RACE_LOG_ERROR, "out of memory");
            return;
        }

        tr->restate = p;
        tr->restate_size = size;
    }

    n = 0;
    i = 0;

    while ((e = race_map_next(&r->riders, &i)) != NULL) {
        rd = e->value;

        if (rd->restate && n < tr->restate_size) {
            tr->restate[n++] = &rd->fix;
        }
    }

    if (race_live_restate(tr->live, tr->restate, n) != RACE_LIVE_OK) {
        return;
    }

    i = 0;

    while ((e = race_map_next(&r->riders, &i)) != NULL) {
        rd = e->value;
        rd->restate = 0;
    }

    r->nrestate = 0;
}


static int
race_tracker_emit(void *ctx, const char *rider, const char *members,
    size_t len)
{
    return race_book_extra(ctx, rider, members, len) == RACE_BOOK_OK ? 0 : -1;
}


/* race_live's question: the members of a rider's state beside its fix */

static void
race_tracker_who(void *data, const race_fix_t *fix, const char **who,
    const char **extra)
{
    race_tracker_t     *tr = data;
    race_book_race_t   *r;
    race_book_rider_t  *rd;

    r = race_book_find(tr->book, fix->msg->race);
    if (r == NULL) {
        return;
    }

    rd = race_book_rider(r, fix->msg->rider);
    if (rd == NULL) {
        return;
    }

    *who = rd->who;
    *extra = rd->extra;
}


static void
race_tracker_forget(void *data, race_book_race_t *r)
{
    (void) data;

    if (r->standings != NULL) {
        race_board_close(r->standings);
        r->standings = NULL;
    }
}


/*
 * The results of a finished race, when they are due: 1 if they were
 * made (or tried) now.  The first time the race is seen finished, only
 * if nobody made them; after a reload, a little later, as after a late
 * fix.
 */

static int
race_tracker_results(race_tracker_t *tr, race_book_race_t *r)
{
    int      rc;
    int64_t  now;

    now = race_time_mono_ms();

    if (r->results_loads != r->nloads) {

        if (r->results_loads == 0) {
            rc = race_results_missing(tr->results, r);

            if (rc < 0) {
                /* Redis is away: asked again at the next tick */
                return 0;
            }

            if (rc == 1) {
                r->results_due = now;
            }

        } else {
            race_tracker_results_later(r, now);
        }

        r->results_loads = r->nloads;
    }

    if (r->results_due == 0 || now < r->results_due) {
        return 0;
    }

    if (race_results_make(tr->results, r, race_time_wall_ms()) != 0) {
        race_log(RACE_LOG_WARN, "race %s: results not made, trying again "
                 "in %lld ms", r->id,
                 (long long) tr->conf.daemon.retry_max_ms);
        r->results_due = race_time_mono_ms() + tr->conf.daemon.retry_max_ms;
        return 1;
    }

    r->results_due = 0;
    r->results_first = 0;

    return 1;
}


/* debounced: a backfill comes as a burst, and may go on for a while */

static void
race_tracker_results_later(race_book_race_t *r, int64_t now)
{
    if (r->results_first == 0) {
        r->results_first = now;
    }

    r->results_due = now + RACE_TRACKER_RESULTS_WAIT_MS;

    if (r->results_due > r->results_first + RACE_TRACKER_RESULTS_MAX_MS) {
        r->results_due = r->results_first + RACE_TRACKER_RESULTS_MAX_MS;
    }
}


/* a race whose results are due: into the book, the tick makes them */

static void
race_tracker_due(void *data, const char *race)
{
    race_tracker_t    *tr = data;
    race_book_race_t  *r;

    if (race_book_get(tr->book, race, &r) != RACE_BOOK_OK) {
        return;
    }

    race_log(RACE_LOG_INFO, "race %s: results due", race);
}


static void
race_tracker_metrics(race_tracker_t *tr)
{
    tr->m_batch = race_metrics_histogram("race_tracker_batch_fixes",
        "Fixes in a batch written to MongoDB and Redis", NULL, 0,
        race_tracker_batch_buckets,
        sizeof(race_tracker_batch_buckets) / sizeof(int64_t), 0);

    tr->m_tick = race_metrics_histogram("race_tracker_tick_seconds",
        "Time to make a tick: races reloaded, standings, results, "
        "the live messages published", NULL, 0,
        race_metrics_seconds, race_metrics_nseconds, 6);

    tr->m_inserted = race_metrics_counter("race_tracker_fixes_stored_total",
        "Fixes inserted into MongoDB", NULL, 0);

    tr->m_duplicates = race_metrics_counter(
        "race_tracker_fixes_duplicate_total",
        "Fixes MongoDB had already (delivered again)", NULL, 0);

    tr->m_lag = race_metrics_gauge_scaled("race_tracker_fix_lag_seconds",
        "How far behind the live view is: now less the time nginx "
        "received the newest fix written to Redis; 0 once nothing waits "
        "in Kafka", NULL, 0, 3);

    tr->m_inflight = race_metrics_gauge("race_tracker_batches_in_flight",
        "Batches consumed whose MongoDB or Redis write is not done "
        "(their offsets are not stored yet)", NULL, 0);
}
