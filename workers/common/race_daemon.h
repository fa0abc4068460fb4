
/*
 * ngx_race workers: the skeleton both daemons share.
 *
 * A daemon describes itself in one race_daemon_t (its name, its
 * settings table, what it does at each step) and its main() hands it to
 * race_daemon_main(), which does the steps in this order:
 *
 *   1. the command line: -c FILE, --set name=value, -t, -h, and the
 *      daemon's own options;
 *   2. the settings: the defaults, the file, then every --set, each
 *      value checked before anything connects; -t stops here;
 *   3. the log, at log_level; a one-shot command of the command line
 *      (an admin action) runs here instead of the loop, without signals;
 *   4. the signal handlers, the metrics server if metrics_listen is
 *      set (race_metrics.h), then open, run (the loop, until a signal
 *      or a fatal error), close (drain and commit), the last log line.
 *
 * The settings every daemon has (Kafka, MongoDB, Redis, retries,
 * stopping, log level) are one race_daemon_conf_t inside the daemon's
 * own settings struct, and their rows come from the macros below, so
 * that each daemon still has all its settings in one table.
 */


#ifndef _RACE_DAEMON_H_INCLUDED_
#define _RACE_DAEMON_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_conf.h"
#include "race_metrics.h"
#include "race_mongo.h"
#include "race_queue_kafka.h"


/* exit codes */
#define RACE_DAEMON_EXIT_OK     0   /* stopped by a signal, all done */
#define RACE_DAEMON_EXIT_FAIL   1   /* a fatal error, or work given up */
#define RACE_DAEMON_EXIT_USAGE  2   /* bad usage or settings */

#define RACE_DAEMON_LOOP       -1   /* command(): no command, the loop */

#define RACE_DAEMON_POLL_MS     100 /* how soon a signal is noticed */
#define RACE_DAEMON_RETRY_MS    100 /* the first retry of a failed write */
#define RACE_DAEMON_MAX_SETS    64  /* --set options */


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
    int64_t                 retry_max_ms;
    int64_t                 stop_timeout_ms;
    int                     log_level;
    char                   *metrics_listen;     /* "" is off */
    int64_t                 liveness_timeout_ms;
} race_daemon_conf_t;


typedef struct {
    const char                 *name;       /* "race-tracker", in logs */
    const char                 *usage;      /* lines after the first one */
    const race_conf_setting_t  *settings;

    /* where the settings struct, and the shared ones in it, are in data */
    size_t                      conf;
    size_t                      common;

    /*
     * argv[i] is none of the shared options: the index of the last
     * argument it took (i, or i + 1 with a value), 0 if it is not the
     * daemon's either, -1 on an error, said on stderr.  NULL: no options.
     */
    int                       (*option)(void *data, int argc, char **argv,
                                        int i);

    /* after all options, before the settings: 0, or -1 (said) */
    int                       (*options_done)(void *data);

    /* a one-shot command: its exit code, or RACE_DAEMON_LOOP; or NULL */
    int                       (*command)(void *data);

    int                       (*open)(void *data);  /* 0, or -1 (logged) */

    /* the loop: 0 when stopped by a signal, -1 on a fatal error */
    int                       (*run)(void *data);

    /* drains and closes, even after a failed open: -1 if work was given up */
    int                       (*close)(void *data);

    /* the last log line, with the daemon's counters */
    void                      (*stopped)(void *data, int rc);
} race_daemon_t;


/*
 * Steps 1 to 4 over data, the daemon's own struct, zeroed: an exit code.
 * The settings are freed on return; data is the caller's.
 */
int race_daemon_main(const race_daemon_t *d, void *data, int argc,
    char **argv);

/* SIGHUP, if it came: logged and ignored */
void race_daemon_hup(void);

/*
 * Sleeps ms, in steps of at most RACE_DAEMON_POLL_MS, calling idle(data)
 * before each unless idle is NULL; it ends early when a signal to stop
 * comes (or, if one came before, another one).  Each step is a turn of
 * the loop for the liveness check: waiting to retry is not being stuck.
 */
void race_daemon_wait(int64_t ms, void (*idle)(void *data), void *data);


/*
 * The rows of the shared settings, for a table over a struct with a
 * race_daemon_conf_t at offset base.  The Kafka rows take the defaults
 * that differ by daemon: its topic, its group, how often it commits.
 */

extern const char *const  race_daemon_levels[];

#define race_daemon_field(base, name)                                        \
    ((base) + offsetof(race_daemon_conf_t, name))

#define RACE_DAEMON_KAFKA_SETTINGS(base, topic, group, commit_ms)            \
    { "kafka_brokers", RACE_CONF_STR,                                        \
      race_daemon_field(base, kafka_brokers),                                \
      "127.0.0.1:9092", 1, 1024, NULL, NULL },                               \
    { "kafka_topic", RACE_CONF_STR, race_daemon_field(base, kafka_topic),    \
      topic, 1, 249, NULL, race_queue_kafka_check_topic },                   \
    { "kafka_group", RACE_CONF_STR, race_daemon_field(base, kafka_group),    \
      group, 1, 255, NULL, NULL },                                           \
    { "kafka_instance_id", RACE_CONF_STR,                                    \
      race_daemon_field(base, kafka_instance_id),                            \
      "auto", 1, 249, NULL, race_queue_kafka_check_instance },               \
    { "kafka_commit_ms", RACE_CONF_INT,                                      \
      race_daemon_field(base, kafka_commit_ms),                              \
      commit_ms, 100, 60000, NULL, NULL },                                   \
    { "kafka_session_timeout_ms", RACE_CONF_INT,                             \
      race_daemon_field(base, kafka_session_timeout_ms),                     \
      "10000", 6000, 300000, NULL, NULL }

#define RACE_DAEMON_STORE_SETTINGS(base)                                     \
    { "mongo_uri", RACE_CONF_STR, race_daemon_field(base, mongo_uri),        \
      "mongodb://127.0.0.1:27017/", 1, 4096, NULL,                           \
      race_mongo_check_uri },                                                \
    { "mongo_db", RACE_CONF_STR, race_daemon_field(base, mongo_db),          \
      "ngx_race", 1, 63, NULL, race_mongo_check_db },                        \
    { "mongo_timeout_ms", RACE_CONF_INT,                                     \
      race_daemon_field(base, mongo_timeout_ms),                             \
      "5000", 100, 600000, NULL, NULL },                                     \
    { "redis_host", RACE_CONF_STR, race_daemon_field(base, redis_host),      \
      "127.0.0.1", 1, 255, NULL, NULL },                                     \
    { "redis_port", RACE_CONF_INT, race_daemon_field(base, redis_port),      \
      "6379", 1, 65535, NULL, NULL },                                        \
    { "redis_timeout_ms", RACE_CONF_INT,                                     \
      race_daemon_field(base, redis_timeout_ms),                             \
      "2000", 100, 60000, NULL, NULL }

#define RACE_DAEMON_RUN_SETTINGS(base)                                       \
    { "retry_max_ms", RACE_CONF_INT, race_daemon_field(base, retry_max_ms),  \
      "2000", 100, 60000, NULL, NULL },                                      \
    { "stop_timeout_ms", RACE_CONF_INT,                                      \
      race_daemon_field(base, stop_timeout_ms),                              \
      "10000", 0, 600000, NULL, NULL },                                      \
    { "log_level", RACE_CONF_ENUM, race_daemon_field(base, log_level),       \
      "info", 0, 0, race_daemon_levels, NULL },                              \
    { "metrics_listen", RACE_CONF_STR,                                       \
      race_daemon_field(base, metrics_listen),                               \
      "", 0, 263, NULL, race_metrics_check },                                \
    { "liveness_timeout_ms", RACE_CONF_INT,                                  \
      race_daemon_field(base, liveness_timeout_ms),                          \
      "30000", 100, 3600000, NULL, NULL }


#endif /* _RACE_DAEMON_H_INCLUDED_ */
