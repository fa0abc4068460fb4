
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
 * batch_wait_ms of the first message.  For each batch, in this order:
 *
 *   1. every message is parsed as it arrives; a malformed one is logged
 *      and skipped: it is poison, retrying cannot help, so its offset is
 *      committed with the batch;
 *   2. each race of the batch is looked up in the race book
 *      (race_book.h), loaded from Redis the first time: its riders'
 *      entries (bib, name), meta and course; a race with a course gets
 *      its standings (race_board.h), fed every fix of the race
 *      already in MongoDB (the replay);
 *   3. the fixes go to MongoDB, collection "fixes", _id
 *      "<race>:<rider>:<seq>", one unordered insert_many; duplicate keys
 *      are fixes stored by an earlier delivery;
 *   4. the newest fix of each rider goes to race:<race>:state in Redis
 *      through a script that keeps the newest t, with the rider's bib
 *      and name if it has an entry; the riders it changed are
 *      remembered for the next tick;
 *   5. the fixes are fed to the standings of their race;
 *   6. only then are the batch's offsets stored, for the auto commit.
 *
 * A finished race with a course gets its results (race_results.h) once
 * it is loaded finished without them, a few seconds after the last
 * fix that came after its finish (backfill: at most
 * RACE_TRACKER_RESULTS_MAX_MS after the first), and after a reload
 * (an entry marked dsq after the finish): one race's at a tick.
 *
 * If 2, 3 or 4 fails (a server down), the whole batch is retried with a
 * backoff of up to retry_max_ms, for as long as it takes, and nothing is
 * committed meanwhile: nothing is lost, and the ids make the replays
 * harmless.  Every tick_ms, the races that channel race:races said
 * changed are loaded again, the standings say what changed, and each
 * race with changed riders gets one message on race:<race>:live with
 * their newest states.
 *
 * When the group takes partitions away, the batch in hand is written and
 * its offsets committed synchronously before they are given up.
 *
 * SIGTERM and SIGINT stop it: the batch in hand is written (for at most
 * stop_timeout_ms while a server is down), the offsets are committed
 * synchronously, the consumer leaves the group, the pending ticks are
 * published.  SIGHUP is logged and ignored.  Logs go to stderr.
 *
 * Exit codes:
 *   0  stopped by a signal, everything consumed was written
 *   1  a fatal error (Kafka fatal error, out of memory, a client that
 *      cannot be created), or stopped with a batch that could not be
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
} race_tracker_conf_t;


typedef struct {
    race_tracker_conf_t     conf;

    race_queue_t           *queue;
    race_store_t           *store;
    race_live_t            *live;
    race_book_t            *book;
    race_results_t         *results;

    /* the fixes of a race's riders to publish again, at a tick */
    const race_fix_t      **restate;
    size_t                  restate_size;
    int64_t                 next_replay;    /* monotonic ms, after a fail */

    /* the batch in hand: messages, and what they parsed into */
    race_queue_batch_t      batch;
    race_fix_msg_t         *msgs;       /* one per message of the batch */
    race_fix_t             *fixes;
    size_t                  nfixes;
    size_t                  max_fixes;
    unsigned                stored:1;   /* its fixes are in MongoDB */
    uint64_t                nbatch;     /* batches written before it */

    int64_t                 next_tick;  /* monotonic ms */
    int64_t                 next_due;   /* monotonic ms: results due */
    int64_t                 stop_at;    /* monotonic ms, once stopping */
    unsigned                abandoned:1;

    /* race_tracker_*: the others are race_metrics_worker's */
    race_metric_t          *m_batch;    /* fixes per batch */
    race_metric_t          *m_tick;     /* seconds to make a tick */
    race_metric_t          *m_inserted;
    race_metric_t          *m_duplicates;

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
static int race_tracker_flush(race_tracker_t *tr);
static int race_tracker_write(race_tracker_t *tr);
static void race_tracker_idle(void *data);
static void race_tracker_tick(race_tracker_t *tr);
static void race_tracker_drain(race_queue_t *q, void *data);
static int race_tracker_prepare(race_tracker_t *tr);
static int race_tracker_standings(race_tracker_t *tr, race_book_race_t *r);
static void race_tracker_replayed(void *data, const race_fix_t *fixes,
    size_t n);
static void race_tracker_feed(race_tracker_t *tr);
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
    race_results_conf_t       rc;
    race_store_mongo_conf_t   sc;
    race_queue_kafka_conf_t   kc;

    race_tracker_metrics(tr);

    /* a batch ends once it has batch_max fixes; a message is not split */
    tr->max_fixes = (size_t) tr->conf.batch_max + RACE_FIX_BATCH_MAX;

    tr->msgs = calloc((size_t) tr->conf.batch_max, sizeof(race_fix_msg_t));
    tr->fixes = calloc(tr->max_fixes, sizeof(race_fix_t));

    if (tr->msgs == NULL || tr->fixes == NULL
        || race_queue_batch_init(&tr->batch, (size_t) tr->conf.batch_max)
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
 * The batch in hand was written (or given up) by race_tracker_run();
 * closing the queue commits synchronously and leaves the group; then the
 * last ticks go out.
 */

static int
race_tracker_close(void *data)
{
    race_tracker_t  *tr = data;

    if (tr->queue != NULL) {
        if (tr->batch.n > 0) {
            tr->queue->ops->release(tr->queue, &tr->batch);
        }

        tr->queue->ops->close(tr->queue);
        tr->queue = NULL;
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

    race_queue_batch_free(&tr->batch);
    free(tr->restate);
    free(tr->fixes);
    free(tr->msgs);

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

        /* fill a batch: until it is full, its time is up, or a tick */

        for ( ;; ) {
            race_metrics_beat();

            now = race_time_mono_ms();

            if (race_signal_stop || now >= tr->next_tick) {
                break;
            }

            if (tr->batch.n > 0
                && (tr->batch.n == tr->batch.size
                    || tr->nfixes >= (size_t) tr->conf.batch_max
                    || now >= deadline))
            {
                break;
            }

            wait = tr->next_tick - now;

            if (tr->batch.n > 0 && deadline - now < wait) {
                wait = deadline - now;
            }

            if (wait > RACE_DAEMON_POLL_MS) {
                wait = RACE_DAEMON_POLL_MS;
            }

            /* a revoke drains the batch from inside poll */
            rc = tr->queue->ops->poll(tr->queue, &tr->batch, (int) wait);

            if (rc == RACE_QUEUE_ERROR) {
                return -1;
            }

            if (rc == RACE_QUEUE_OK) {
                if (tr->batch.n == 1) {
                    deadline = race_time_mono_ms() + tr->conf.batch_wait_ms;
                }

                race_tracker_parse(tr);
            }
        }

        race_daemon_hup();

        if (tr->batch.n > 0) {
            (void) race_tracker_flush(tr);
        }

        if (race_time_mono_ms() >= tr->next_tick) {
            race_tracker_tick(tr);
        }
    }

    return 0;
}


/* the message just appended to the batch */

static void
race_tracker_parse(race_tracker_t *tr)
{
    char               err[256];
    size_t             i, n;
    race_queue_msg_t  *msg;

    i = tr->batch.n - 1;
    msg = &tr->batch.msgs[i];

    tr->messages++;

    if (race_fix_parse_kafka(msg->data, msg->len, &tr->msgs[i],
                             &tr->fixes[tr->nfixes],
                             tr->max_fixes - tr->nfixes, &n, err,
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

    tr->nfixes += n;

    race_log(RACE_LOG_DEBUG, "message %s: %zu fixes of %s/%s", msg->where,
             n, tr->msgs[i].race, tr->msgs[i].rider);
}


/*
 * Writes the batch in hand, retrying until it is written, then commits
 * it.  Gives up only when stopping and stop_timeout_ms has passed: the
 * batch is then released uncommitted, for the group to deliver again.
 */

static int
race_tracker_flush(race_tracker_t *tr)
{
    int64_t   delay, now;
    unsigned  failures;

    delay = RACE_DAEMON_RETRY_MS;
    failures = 0;

    while (race_tracker_write(tr) != 0) {

        failures++;
        now = race_time_mono_ms();

        race_metrics_add(race_metrics_worker.retries, 1);

        if (race_signal_stop) {
            if (tr->stop_at == 0) {
                tr->stop_at = now + tr->conf.daemon.stop_timeout_ms;
            }

            if (now >= tr->stop_at) {
                race_log(RACE_LOG_ERROR, "stopping with %zu messages "
                         "(%zu fixes) not written; they will be delivered "
                         "again", tr->batch.n, tr->nfixes);

                tr->queue->ops->release(tr->queue, &tr->batch);
                tr->nfixes = 0;
                tr->stored = 0;
                tr->nbatch++;
                tr->abandoned = 1;

                return -1;
            }
        }

        race_log(failures == 1 ? RACE_LOG_WARN : RACE_LOG_DEBUG,
                 "a batch of %zu fixes was not written, retrying every "
                 "%lld ms at most", tr->nfixes,
                 (long long) tr->conf.daemon.retry_max_ms);

        race_daemon_wait(delay, race_tracker_idle, tr);

        delay *= 2;
        if (delay > tr->conf.daemon.retry_max_ms) {
            delay = tr->conf.daemon.retry_max_ms;
        }
    }

    if (failures > 0) {
        race_log(RACE_LOG_INFO, "the batch of %zu fixes was written after "
                 "%u retries", tr->nfixes, failures);
    }

    /* only now: the offsets cover nothing that is not written */
    tr->queue->ops->commit(tr->queue, &tr->batch);

    race_metrics_observe(tr->m_batch, (int64_t) tr->nfixes);

    tr->nfixes = 0;
    tr->stored = 0;
    tr->nbatch++;

    return 0;
}


static int
race_tracker_write(race_tracker_t *tr)
{
    int                  rc;
    int64_t              start;
    race_store_result_t  res;

    if (tr->nfixes == 0) {
        return 0;
    }

    /* a retry after a Redis failure does not insert again */

    if (!tr->stored) {
        start = race_metrics_now_us();
        rc = tr->store->ops->insert(tr->store, tr->fixes, tr->nfixes, &res);
        race_metrics_since(race_metrics_worker.mongo_seconds, start);

        if (rc != RACE_STORE_OK) {
            return -1;
        }

        tr->stored = 1;
        tr->inserted += res.inserted;
        tr->duplicates += res.duplicates;
        race_metrics_add(tr->m_inserted, (int64_t) res.inserted);
        race_metrics_add(tr->m_duplicates, (int64_t) res.duplicates);

        race_log(RACE_LOG_DEBUG, "stored %zu fixes: %zu new, %zu "
                 "duplicates", tr->nfixes, res.inserted, res.duplicates);
    }

    /*
     * The races are known before their riders' states are written.
     * After the insert, so that MongoDB is written while Redis is away;
     * a replay made now has the batch's fixes already.
     */
    if (race_tracker_prepare(tr) != 0) {
        return -1;
    }

    start = race_metrics_now_us();
    rc = race_live_update(tr->live, tr->fixes, tr->nfixes);
    race_metrics_since(race_metrics_worker.redis_seconds, start);

    if (rc != RACE_LIVE_OK) {
        return -1;
    }

    /* nothing fails after this: the standings see a batch once */
    race_tracker_feed(tr);

    return 0;
}


/* between retries: the ticks go on */

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


/* the queue gives up partitions: write and commit what we hold first */

static void
race_tracker_drain(race_queue_t *q, void *data)
{
    race_tracker_t  *tr = data;

    (void) q;

    if (tr->batch.n > 0) {
        race_log(RACE_LOG_INFO, "rebalance: writing the batch in hand "
                 "first");
        (void) race_tracker_flush(tr);
    }
}


/*
 * Each race of the batch in the book, loaded if new, its standings
 * rebuilt if it has a course and they are not; -1 if Redis or MongoDB
 * cannot be read now.  Called again by a retry: then it finds them all.
 */

static int
race_tracker_prepare(race_tracker_t *tr)
{
    size_t             i;
    const char        *race, *prev;
    race_book_race_t  *r;

    prev = NULL;

    for (i = 0; i < tr->nfixes; i++) {
        race = tr->fixes[i].msg->race;

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
         * hold nothing up: the batch is stored, and a later tick makes
         * them from every stored fix, this batch's too.
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
    size_t  total;

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

    if (tr->store->ops->replay(tr->store, r->id, RACE_BOARD_SLICE,
                               race_tracker_replayed, r, &total)
        != RACE_STORE_OK)
    {
        race_board_close(r->standings);
        r->standings = NULL;

        /* the ticks do not wait on MongoDB while it is away */
        tr->next_replay = race_time_mono_ms() + tr->conf.daemon.retry_max_ms;

        return -1;
    }

    r->replayed = 1;
    tr->replayed += total;

    /* the batch in hand, once stored, was in it: not to be fed again */
    r->replay_batch = tr->stored ? tr->nbatch + 1 : 0;

    race_log(RACE_LOG_INFO, "race %s: standings made, %zu stored fixes "
             "replayed", r->id, total);

    return 0;
}


static void
race_tracker_replayed(void *data, const race_fix_t *fixes, size_t n)
{
    race_book_race_t  *r = data;

    race_book_note(r, fixes, n);
    race_board_feed(r->standings, r, fixes, n);
}


/*
 * The batch, written, to the book and the standings, race by race, each
 * rider's fixes by t.  The batch's order is not needed any more: its
 * offsets are in the queue's batch, not in the fixes.  A race forgotten
 * meanwhile (a long outage) is skipped: its next fix loads it again,
 * with a replay that has these fixes; so is a race whose replay came
 * after these fixes were stored.
 */

static void
race_tracker_feed(race_tracker_t *tr)
{
    size_t             i, j;
    race_book_race_t  *r;

    qsort(tr->fixes, tr->nfixes, sizeof(race_fix_t), race_tracker_compare);

    for (i = 0; i < tr->nfixes; i = j) {

        for (j = i + 1; j < tr->nfixes; j++) {
            if (strcmp(tr->fixes[j].msg->race, tr->fixes[i].msg->race) != 0)
            {
                break;
            }
        }

        r = race_book_find(tr->book, tr->fixes[i].msg->race);
        if (r == NULL) {
            continue;
        }

        race_book_note(r, &tr->fixes[i], j - i);

        /* fixes after the finish: the results are to be made again */
        if (r->keys && r->course != NULL
            && strcmp(r->status, "finished") == 0)
        {
            race_tracker_results_later(r, race_time_mono_ms());
        }

        if (r->standings != NULL && r->replayed
            && r->replay_batch != tr->nbatch + 1)
        {
            race_board_feed(r->standings, r, &tr->fixes[i], j - i);
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
}
