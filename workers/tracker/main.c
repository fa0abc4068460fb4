
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
 *   2. the fixes go to MongoDB, collection "fixes", _id
 *      "<race>:<rider>:<seq>", one unordered insert_many; duplicate keys
 *      are fixes stored by an earlier delivery;
 *   3. the newest fix of each rider goes to race:<race>:state in Redis
 *      through a script that keeps the newest t; the riders it changed
 *      are remembered for the next tick;
 *   4. only then are the batch's offsets stored, for the auto commit.
 *
 * If 2 or 3 fails (a server down), the whole batch is retried with a
 * backoff of up to retry_max_ms, for as long as it takes, and nothing is
 * committed meanwhile: nothing is lost, and the ids make the replays
 * harmless.  Every tick_ms, each race with changed riders gets one
 * message on race:<race>:live with their newest states.
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

#include "race_conf.h"
#include "race_fix.h"
#include "race_live.h"
#include "race_log.h"
#include "race_signal.h"
#include "race_queue.h"
#include "race_queue_kafka.h"
#include "race_store.h"
#include "race_store_mongo.h"
#include "race_time.h"


#define RACE_TRACKER_NAME        "race-tracker"
#define RACE_TRACKER_POLL_MS     100     /* how soon a signal is noticed */
#define RACE_TRACKER_RETRY_MS    100     /* the first retry of a batch */
#define RACE_TRACKER_MAX_SETS    64

#define RACE_TRACKER_EXIT_OK     0
#define RACE_TRACKER_EXIT_FAIL   1
#define RACE_TRACKER_EXIT_USAGE  2


typedef struct {
    char                   *kafka_brokers;
    char                   *kafka_topic;
    char                   *kafka_group;
    char                   *kafka_instance_id;
    int64_t                 kafka_commit_ms;
    int64_t                 kafka_session_timeout_ms;
    char                   *mongo_uri;
    char                   *mongo_db;
    int64_t                 mongo_timeout_ms;
    char                   *redis_host;
    int64_t                 redis_port;
    int64_t                 redis_timeout_ms;
    int64_t                 tick_ms;
    int64_t                 batch_max;
    int64_t                 batch_wait_ms;
    int64_t                 retry_max_ms;
    int64_t                 stop_timeout_ms;
    int                     log_level;
} race_tracker_conf_t;


typedef struct {
    race_tracker_conf_t     conf;

    race_queue_t           *queue;
    race_store_t           *store;
    race_live_t            *live;

    /* the batch in hand: messages, and what they parsed into */
    race_queue_batch_t      batch;
    race_fix_msg_t         *msgs;       /* one per message of the batch */
    race_fix_t             *fixes;
    size_t                  nfixes;
    size_t                  max_fixes;
    unsigned                stored:1;   /* its fixes are in MongoDB */

    int64_t                 next_tick;  /* monotonic ms */
    int64_t                 stop_at;    /* monotonic ms, once stopping */
    unsigned                abandoned:1;

    uint64_t                messages;
    uint64_t                malformed;
    uint64_t                inserted;
    uint64_t                duplicates;
} race_tracker_t;


static int race_tracker_options(int argc, char **argv,
    race_tracker_conf_t *conf, int *test);
static void race_tracker_usage(FILE *f);
static int race_tracker_open(race_tracker_t *tr);
static void race_tracker_close(race_tracker_t *tr);
static int race_tracker_run(race_tracker_t *tr);
static void race_tracker_parse(race_tracker_t *tr);
static int race_tracker_flush(race_tracker_t *tr);
static int race_tracker_write(race_tracker_t *tr);
static void race_tracker_wait(race_tracker_t *tr, int64_t ms);
static void race_tracker_tick(race_tracker_t *tr);
static void race_tracker_drain(race_queue_t *q, void *data);


static const char *const  race_tracker_levels[] = {
    "debug", "info", "warn", "error", NULL
};


#define race_tracker_field(name)  offsetof(race_tracker_conf_t, name)

static const race_conf_setting_t  race_tracker_settings[] = {

    { "kafka_brokers", RACE_CONF_STR, race_tracker_field(kafka_brokers),
      "127.0.0.1:9092", 1, 1024, NULL, NULL },

    { "kafka_topic", RACE_CONF_STR, race_tracker_field(kafka_topic),
      "race.fixes", 1, 249, NULL, race_queue_kafka_check_topic },

    { "kafka_group", RACE_CONF_STR, race_tracker_field(kafka_group),
      "race-tracker", 1, 255, NULL, NULL },

    { "kafka_instance_id", RACE_CONF_STR,
      race_tracker_field(kafka_instance_id),
      "auto", 1, 249, NULL, race_queue_kafka_check_instance },

    { "kafka_commit_ms", RACE_CONF_INT, race_tracker_field(kafka_commit_ms),
      "5000", 100, 60000, NULL, NULL },

    { "kafka_session_timeout_ms", RACE_CONF_INT,
      race_tracker_field(kafka_session_timeout_ms),
      "10000", 6000, 300000, NULL, NULL },

    { "mongo_uri", RACE_CONF_STR, race_tracker_field(mongo_uri),
      "mongodb://127.0.0.1:27017/", 1, 4096, NULL,
      race_store_mongo_check_uri },

    { "mongo_db", RACE_CONF_STR, race_tracker_field(mongo_db),
      "ngx_race", 1, 63, NULL, race_store_mongo_check_db },

    { "mongo_timeout_ms", RACE_CONF_INT,
      race_tracker_field(mongo_timeout_ms),
      "5000", 100, 600000, NULL, NULL },

    { "redis_host", RACE_CONF_STR, race_tracker_field(redis_host),
      "127.0.0.1", 1, 255, NULL, NULL },

    { "redis_port", RACE_CONF_INT, race_tracker_field(redis_port),
      "6379", 1, 65535, NULL, NULL },

    { "redis_timeout_ms", RACE_CONF_INT,
      race_tracker_field(redis_timeout_ms),
      "2000", 100, 60000, NULL, NULL },

    { "tick_ms", RACE_CONF_INT, race_tracker_field(tick_ms),
      "250", 50, 5000, NULL, NULL },

    { "batch_max", RACE_CONF_INT, race_tracker_field(batch_max),
      "1000", 1, 10000, NULL, NULL },

    { "batch_wait_ms", RACE_CONF_INT, race_tracker_field(batch_wait_ms),
      "50", 0, 5000, NULL, NULL },

    { "retry_max_ms", RACE_CONF_INT, race_tracker_field(retry_max_ms),
      "2000", 100, 60000, NULL, NULL },

    { "stop_timeout_ms", RACE_CONF_INT, race_tracker_field(stop_timeout_ms),
      "10000", 0, 600000, NULL, NULL },

    { "log_level", RACE_CONF_ENUM, race_tracker_field(log_level),
      "info", 0, 0, race_tracker_levels, NULL },

    { NULL, 0, 0, NULL, 0, 0, NULL, NULL }
};


int
main(int argc, char **argv)
{
    int              test, rc;
    race_tracker_t  *tr;

    tr = calloc(1, sizeof(race_tracker_t));
    if (tr == NULL) {
        fprintf(stderr, RACE_TRACKER_NAME ": out of memory\n");
        return RACE_TRACKER_EXIT_FAIL;
    }

    /* every setting is checked before anything is connected */

    if (race_tracker_options(argc, argv, &tr->conf, &test) != 0) {
        race_conf_free(race_tracker_settings, &tr->conf);
        free(tr);
        return RACE_TRACKER_EXIT_USAGE;
    }

    if (test) {
        printf(RACE_TRACKER_NAME ": settings are fine\n");
        race_conf_free(race_tracker_settings, &tr->conf);
        free(tr);
        return RACE_TRACKER_EXIT_OK;
    }

    race_log_init(RACE_TRACKER_NAME, tr->conf.log_level);

    if (race_signal_init() != 0) {
        race_conf_free(race_tracker_settings, &tr->conf);
        free(tr);
        return RACE_TRACKER_EXIT_FAIL;
    }

    race_log(RACE_LOG_INFO, "starting: kafka %s, mongo db %s, redis %s:%d",
             tr->conf.kafka_brokers, tr->conf.mongo_db, tr->conf.redis_host,
             (int) tr->conf.redis_port);

    rc = RACE_TRACKER_EXIT_FAIL;

    if (race_tracker_open(tr) == 0 && race_tracker_run(tr) == 0) {
        rc = RACE_TRACKER_EXIT_OK;
    }

    race_tracker_close(tr);

    if (tr->abandoned) {
        rc = RACE_TRACKER_EXIT_FAIL;
    }

    race_log(RACE_LOG_INFO, "stopped%s: %llu messages, %llu malformed, "
             "%llu fixes inserted, %llu duplicates",
             rc == RACE_TRACKER_EXIT_OK ? "" : " on an error",
             (unsigned long long) tr->messages,
             (unsigned long long) tr->malformed,
             (unsigned long long) tr->inserted,
             (unsigned long long) tr->duplicates);

    race_conf_free(race_tracker_settings, &tr->conf);
    free(tr);

    return rc;
}


static int
race_tracker_options(int argc, char **argv, race_tracker_conf_t *conf,
    int *test)
{
    int          i, nsets;
    char         err[RACE_CONF_ERR_MAX];
    const char  *file, *sets[RACE_TRACKER_MAX_SETS];

    file = NULL;
    nsets = 0;
    *test = 0;

    for (i = 1; i < argc; i++) {

        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            file = argv[++i];

        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
            if (nsets == RACE_TRACKER_MAX_SETS) {
                fprintf(stderr, RACE_TRACKER_NAME ": more than %d --set\n",
                        RACE_TRACKER_MAX_SETS);
                return -1;
            }

            sets[nsets++] = argv[++i];

        } else if (strncmp(argv[i], "--set=", 6) == 0) {
            if (nsets == RACE_TRACKER_MAX_SETS) {
                fprintf(stderr, RACE_TRACKER_NAME ": more than %d --set\n",
                        RACE_TRACKER_MAX_SETS);
                return -1;
            }

            sets[nsets++] = argv[i] + 6;

        } else if (strcmp(argv[i], "-t") == 0) {
            *test = 1;

        } else if (strcmp(argv[i], "-h") == 0
                   || strcmp(argv[i], "--help") == 0)
        {
            race_tracker_usage(stdout);
            return -1;

        } else {
            fprintf(stderr, RACE_TRACKER_NAME ": bad argument \"%s\"\n",
                    argv[i]);
            race_tracker_usage(stderr);
            return -1;
        }
    }

    if (race_conf_defaults(race_tracker_settings, conf, err, sizeof(err))
        != 0
        || (file != NULL
            && race_conf_load(race_tracker_settings, conf, file, err,
                              sizeof(err)) != 0))
    {
        fprintf(stderr, RACE_TRACKER_NAME ": %s\n", err);
        return -1;
    }

    for (i = 0; i < nsets; i++) {
        if (race_conf_set_arg(race_tracker_settings, conf, sets[i], err,
                              sizeof(err))
            != 0)
        {
            fprintf(stderr, RACE_TRACKER_NAME ": %s\n", err);
            return -1;
        }
    }

    return 0;
}


static void
race_tracker_usage(FILE *f)
{
    const race_conf_setting_t  *s;

    fprintf(f, "usage: " RACE_TRACKER_NAME
            " [-c FILE] [--set name=value]... [-t]\n"
            "settings (default):\n");

    for (s = race_tracker_settings; s->name != NULL; s++) {
        fprintf(f, "  %-26s %s\n", s->name, s->dflt);
    }
}


static int
race_tracker_open(race_tracker_t *tr)
{
    race_live_conf_t         lc;
    race_store_mongo_conf_t  sc;
    race_queue_kafka_conf_t  kc;

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

    sc.uri = tr->conf.mongo_uri;
    sc.db = tr->conf.mongo_db;
    sc.appname = RACE_TRACKER_NAME;
    sc.timeout_ms = (int) tr->conf.mongo_timeout_ms;
    sc.max_fixes = tr->max_fixes;

    tr->store = race_store_mongo_open(&sc);
    if (tr->store == NULL) {
        return -1;
    }

    lc.host = tr->conf.redis_host;
    lc.port = (int) tr->conf.redis_port;
    lc.timeout_ms = (int) tr->conf.redis_timeout_ms;
    lc.retry_max_ms = (int) tr->conf.retry_max_ms;
    lc.max_fixes = tr->max_fixes;

    tr->live = race_live_open(&lc);
    if (tr->live == NULL) {
        return -1;
    }

    kc.brokers = tr->conf.kafka_brokers;
    kc.topic = tr->conf.kafka_topic;
    kc.group = tr->conf.kafka_group;
    kc.instance_id = tr->conf.kafka_instance_id;
    kc.client_id = RACE_TRACKER_NAME;
    kc.commit_interval_ms = (int) tr->conf.kafka_commit_ms;
    kc.session_timeout_ms = (int) tr->conf.kafka_session_timeout_ms;
    kc.log_level = tr->conf.log_level;

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

static void
race_tracker_close(race_tracker_t *tr)
{
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

    if (tr->store != NULL) {
        tr->store->ops->close(tr->store);
        tr->store = NULL;
    }

    race_queue_batch_free(&tr->batch);
    free(tr->fixes);
    free(tr->msgs);
}


/* 0 when stopped by a signal, -1 on a fatal error */

static int
race_tracker_run(race_tracker_t *tr)
{
    int       rc;
    int64_t   now, deadline, wait;

    tr->next_tick = race_time_mono_ms() + tr->conf.tick_ms;
    deadline = 0;

    while (!race_signal_stop) {

        /* fill a batch: until it is full, its time is up, or a tick */

        for ( ;; ) {
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

            if (wait > RACE_TRACKER_POLL_MS) {
                wait = RACE_TRACKER_POLL_MS;
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

        if (race_signal_hup) {
            race_signal_hup = 0;
            race_log(RACE_LOG_INFO, "SIGHUP ignored: logs go to stderr, "
                     "a restart applies new settings");
        }

        if (tr->batch.n > 0) {
            (void) race_tracker_flush(tr);
        }

        if (race_time_mono_ms() >= tr->next_tick) {
            race_tracker_tick(tr);
        }
    }

    race_log(RACE_LOG_INFO, "signal %d: stopping",
             (int) race_signal_stop_signo);

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

    delay = RACE_TRACKER_RETRY_MS;
    failures = 0;

    while (race_tracker_write(tr) != 0) {

        failures++;
        now = race_time_mono_ms();

        if (race_signal_stop) {
            if (tr->stop_at == 0) {
                tr->stop_at = now + tr->conf.stop_timeout_ms;
            }

            if (now >= tr->stop_at) {
                race_log(RACE_LOG_ERROR, "stopping with %zu messages "
                         "(%zu fixes) not written; they will be delivered "
                         "again", tr->batch.n, tr->nfixes);

                tr->queue->ops->release(tr->queue, &tr->batch);
                tr->nfixes = 0;
                tr->stored = 0;
                tr->abandoned = 1;

                return -1;
            }
        }

        race_log(failures == 1 ? RACE_LOG_WARN : RACE_LOG_DEBUG,
                 "a batch of %zu fixes was not written, retrying every "
                 "%lld ms at most", tr->nfixes,
                 (long long) tr->conf.retry_max_ms);

        race_tracker_wait(tr, delay);

        delay *= 2;
        if (delay > tr->conf.retry_max_ms) {
            delay = tr->conf.retry_max_ms;
        }
    }

    if (failures > 0) {
        race_log(RACE_LOG_INFO, "the batch of %zu fixes was written after "
                 "%u retries", tr->nfixes, failures);
    }

    /* only now: the offsets cover nothing that is not written */
    tr->queue->ops->commit(tr->queue, &tr->batch);

    tr->nfixes = 0;
    tr->stored = 0;

    return 0;
}


static int
race_tracker_write(race_tracker_t *tr)
{
    race_store_result_t  res;

    if (tr->nfixes == 0) {
        return 0;
    }

    /* a retry after a Redis failure does not insert again */

    if (!tr->stored) {
        if (tr->store->ops->insert(tr->store, tr->fixes, tr->nfixes, &res)
            != RACE_STORE_OK)
        {
            return -1;
        }

        tr->stored = 1;
        tr->inserted += res.inserted;
        tr->duplicates += res.duplicates;

        race_log(RACE_LOG_DEBUG, "stored %zu fixes: %zu new, %zu "
                 "duplicates", tr->nfixes, res.inserted, res.duplicates);
    }

    if (race_live_update(tr->live, tr->fixes, tr->nfixes) != RACE_LIVE_OK) {
        return -1;
    }

    return 0;
}


/* waits between retries, still ticking, and ends early on a signal */

static void
race_tracker_wait(race_tracker_t *tr, int64_t ms)
{
    int64_t  now, end, left;
    int      stopping;

    stopping = race_signal_stop;
    end = race_time_mono_ms() + ms;

    for ( ;; ) {
        now = race_time_mono_ms();

        if (now >= end || race_signal_stop != stopping) {
            return;
        }

        if (now >= tr->next_tick) {
            race_tracker_tick(tr);
        }

        left = end - now;

        race_time_sleep_ms(left < RACE_TRACKER_POLL_MS ? left
                                                       : RACE_TRACKER_POLL_MS);
    }
}


static void
race_tracker_tick(race_tracker_t *tr)
{
    /* at most one tick per tick_ms: the next one counts from now */
    tr->next_tick = race_time_mono_ms() + tr->conf.tick_ms;

    /* failures are logged by race_live; what is pending stays pending */
    (void) race_live_tick(tr->live, race_time_wall_ms());
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
