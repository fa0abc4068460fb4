
/*
 * ngx_race workers: metrics and liveness on a port of their own
 * (docs/INTERNALS.md, "Workers' metrics and liveness").
 *
 * A registry of counters, gauges and histograms that the main loop
 * updates with C11 atomics, never waiting; and, when metrics_listen is
 * set, a small HTTP server on a thread of its own that answers
 *
 *   GET /metrics   the registry as Prometheus text 0.0.4;
 *   GET /healthz   200 while the main loop turns, 503 once it has not
 *                  for liveness_timeout_ms;
 *   GET /readyz    200 once the daemon can do its work: what it needs
 *                  (race_metrics_ready_need()) is there, and the main
 *                  loop turns; 503 saying what is missing.
 *
 * The main loop calls race_metrics_beat() at each turn, and
 * race_daemon_wait() at each step of a wait, so a daemon retrying a
 * server that is down stays alive: restarting it would not help.
 *
 * Families are registered by the main thread, the series of one family
 * one after the other (they are shown in that order); a registration
 * that fails (out of memory) gives NULL, which every update takes and
 * ignores, so that a metric never stops the work it counts.
 *
 * The names of metrics both daemons have start with race_worker_ and
 * carry a label worker ("tracker", "accounts"); the others start with
 * race_tracker_ or race_accounts_.
 */


#ifndef _RACE_METRICS_H_INCLUDED_
#define _RACE_METRICS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_promtext.h"


/* a client has this long for its request and our answer */
#define RACE_METRICS_CLIENT_MS   5000
#define RACE_METRICS_CONNS       16

/* how often race_metrics_beat() runs the refresh (Kafka's lag) */
#define RACE_METRICS_REFRESH_MS  1000

#define RACE_METRICS_LAG_MAX     1024     /* partitions shown */

/* what /readyz waits for: a bit each */
#define RACE_METRICS_READY_QUEUE    0x01  /* Kafka partitions assigned */
#define RACE_METRICS_READY_SERVERS  0x02  /* MongoDB and Redis reached */


typedef struct race_metric_s  race_metric_t;


/* the metrics both daemons have, labelled with the worker */
typedef struct {
    race_metric_t          *consumed;       /* messages from Kafka */
    race_metric_t          *malformed;      /* ... skipped as poison */
    race_metric_t          *retries;        /* failed writes, retried */
    race_metric_t          *kafka_errors;   /* librdkafka's */
    race_metric_t          *mongo_seconds;  /* a MongoDB write */
    race_metric_t          *redis_seconds;  /* a Redis write */
} race_metrics_worker_t;


typedef struct {
    int32_t                 partition;
    int64_t                 lag;
} race_metrics_lag_t;


extern race_metrics_worker_t  race_metrics_worker;

/* the buckets of durations, in microseconds, and their count */
extern const int64_t  race_metrics_seconds[];
extern const size_t   race_metrics_nseconds;


/*
 * The registry, with the shared metrics, for daemon name ("race-tracker"
 * gives the label worker="tracker"); 0, or -1 (logged).
 */
int race_metrics_init(const char *name);

/*
 * The server on addr ("host:port", checked by race_metrics_check);
 * port 0 takes a free one.  The address is logged as "metrics
 * listening on HOST:PORT".  0, or -1 (logged).
 */
int race_metrics_start(const char *addr, int64_t liveness_ms);

/* stops the server if it runs, frees the registry; any time, once */
void race_metrics_stop(void);

/* a settings check (race_conf_check_pt): "" (off) or host:port */
int race_metrics_check(const char *value, char *reason, size_t size);


/* labels are copied; NULL if out of memory or misused (logged) */
race_metric_t *race_metrics_counter(const char *name, const char *help,
    const race_promtext_label_t *labels, size_t nlabels);
race_metric_t *race_metrics_gauge(const char *name, const char *help,
    const race_promtext_label_t *labels, size_t nlabels);
/* a gauge set in units of 10^-exp: shown divided (ms, exp 3: seconds) */
race_metric_t *race_metrics_gauge_scaled(const char *name, const char *help,
    const race_promtext_label_t *labels, size_t nlabels, unsigned exp);
race_metric_t *race_metrics_histogram(const char *name, const char *help,
    const race_promtext_label_t *labels, size_t nlabels,
    const int64_t *bounds, size_t nbounds, unsigned exp);

/* the label worker="..." of this daemon, to go first in labels */
const race_promtext_label_t *race_metrics_worker_label(void);

void race_metrics_add(race_metric_t *m, int64_t n);
void race_metrics_set(race_metric_t *m, int64_t v);
void race_metrics_observe(race_metric_t *m, int64_t v);

/* observes the microseconds since start_us (race_metrics_now_us()) */
void race_metrics_since(race_metric_t *m, int64_t start_us);
int64_t race_metrics_now_us(void);


/*
 * What /readyz needs (RACE_METRICS_READY_*), RACE_METRICS_READY_QUEUE
 * unless told; and whether one of them is there now.  Any thread.
 */
void race_metrics_ready_need(unsigned need);
void race_metrics_ready(unsigned what, int there);


/* the main loop turned; runs the refresh when it is due */
void race_metrics_beat(void);

/*
 * What the main thread refreshes every RACE_METRICS_REFRESH_MS from
 * race_metrics_beat() (one at a time; NULL stops it).
 */
void race_metrics_refresh(void (*handler)(void *data), void *data);

/*
 * Kafka's consumer lag per partition of topic, all of them at once: the
 * previous ones go.  Skipped, not waited for, while the server thread
 * shows them: the next refresh brings them.
 */
void race_metrics_lag(const char *topic, const race_metrics_lag_t *lag,
    size_t n);


#endif /* _RACE_METRICS_H_INCLUDED_ */
