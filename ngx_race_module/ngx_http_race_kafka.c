
/*
 * ngx_race: the Kafka producer of a worker process, on nginx's event
 * loop.
 *
 * librdkafka runs its own threads for the brokers; what comes back to
 * us (delivery reports, errors, logs) waits in its main queue.  The
 * queue writes a byte into a non-blocking pipe when it stops being
 * empty, and the pipe's read end is an nginx read event: the callbacks
 * run here, on the event loop, never in librdkafka's threads.  Nothing
 * here waits for a broker.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <librdkafka/rdkafka.h>
#include <jansson.h>

#include "ngx_http_race.h"
#include "ngx_http_race_kafka.h"
#include "ngx_http_race_status.h"


#define NGX_HTTP_RACE_KAFKA_POLL_MAX   64      /* serve rounds per event */
#define NGX_HTTP_RACE_KAFKA_TICK       1000    /* ms, a poll in any case */


typedef struct {
    rd_kafka_t                        *rk;        /* NULL: none now */
    rd_kafka_topic_t                  *topics[NGX_HTTP_RACE_TOPICS];
    rd_kafka_queue_t                  *queue;
    ngx_connection_t                  *pipe;      /* read end */
    ngx_socket_t                       pipe_write;
    ngx_event_t                        tick;
    ngx_event_t                        renew;     /* after a fatal error */
    ngx_http_race_main_conf_t         *rmcf;
    ngx_log_t                         *log;

    /*
     * Messages produced and not yet reported on, by any producer of
     * this worker: what race_kafka_queue_depth says.  rd_kafka_outq_len()
     * would count the statistics, logs and errors waiting too.
     */
    ngx_uint_t                         queued;

    unsigned                           fatal:1;
    unsigned                           up:1;      /* a broker is up */
} ngx_http_race_kafka_t;


static rd_kafka_conf_t *ngx_http_race_kafka_conf(ngx_log_t *log,
    ngx_http_race_main_conf_t *rmcf, char *err, size_t err_size);
static void ngx_http_race_kafka_dr(rd_kafka_t *rk,
    const rd_kafka_message_t *msg, void *opaque);
static void ngx_http_race_kafka_error(rd_kafka_t *rk, int err,
    const char *reason, void *opaque);
static void ngx_http_race_kafka_log(const rd_kafka_t *rk, int level,
    const char *fac, const char *buf);
static int ngx_http_race_kafka_stats(rd_kafka_t *rk, char *json,
    size_t json_len, void *opaque);
static void ngx_http_race_kafka_event(ngx_event_t *ev);
static void ngx_http_race_kafka_tick(ngx_event_t *ev);
static void ngx_http_race_kafka_serve(void);
static ngx_int_t ngx_http_race_kafka_create(ngx_http_race_kafka_t *k);
static void ngx_http_race_kafka_destroy(ngx_http_race_kafka_t *k);
static void ngx_http_race_kafka_renew(ngx_event_t *ev);
static ngx_int_t ngx_http_race_kafka_init_process(ngx_cycle_t *cycle,
    ngx_http_race_main_conf_t *rmcf);
static void ngx_http_race_kafka_exit_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_race_kafka_produce(ngx_uint_t topic,
    const u_char *key, size_t key_len, u_char *payload, size_t len,
    ngx_http_race_delivery_t *d, ngx_log_t *log);
static ngx_int_t ngx_http_race_kafka_state(ngx_uint_t *depth);


const ngx_http_race_queue_t  ngx_http_race_kafka_queue = {
    "kafka",
    ngx_http_race_kafka_init_process,
    ngx_http_race_kafka_exit_process,
    ngx_http_race_kafka_produce,
    ngx_http_race_kafka_state
};


/* the one producer of this worker process */
static ngx_http_race_kafka_t  *ngx_http_race_kafka;


/*
 * The settings that make "acked" mean "stored on every in-sync replica,
 * once": Debian's librdkafka 2.0.2 defaults differ on several of them.
 * Operators may add or override with race_kafka_option.
 */

static const char  *ngx_http_race_kafka_defaults[][2] = {
    { "enable.idempotence", "true" },        /* no duplicates on retry */
    { "acks", "all" },                       /* every in-sync replica */
    { "linger.ms", "5" },                    /* small batches, low latency */
    { "socket.nagle.disable", "true" },      /* no 40 ms Nagle stalls */
    { "message.timeout.ms", "300000" },      /* give up, then no ack */

    /*
     * What a worker may hold for brokers that are away, for all its
     * phones and account commands together (README: "Memory of a
     * worker"); a full queue closes a phone with 1013.
     */
    { "queue.buffering.max.messages", "100000" },
    { "queue.buffering.max.kbytes", "65536" },

    { "compression.type", "lz4" },
    { "log.connection.close", "false" },

    /*
     * librdkafka tells of its brokers' states only in its statistics:
     * each second they say whether a broker is up, for race_status and
     * race_ready.  0 turns them off, and Kafka is then reported down.
     */
    { "statistics.interval.ms", "1000" },
    { NULL, NULL }
};


char *
ngx_http_race_kafka_check_option(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *value)
{
    char              err[256];
    size_t            len;
    rd_kafka_conf_t  *conf;

    conf = rd_kafka_conf_new();
    if (conf == NULL) {
        return NGX_CONF_ERROR;
    }

    /* name and value come NUL-terminated from the conf parser */

    if (rd_kafka_conf_set(conf, (char *) name->data, (char *) value->data,
                          err, sizeof(err))
        != RD_KAFKA_CONF_OK)
    {
        rd_kafka_conf_destroy(conf);

        /* some of librdkafka's messages end in a newline: not ours */
        len = ngx_strlen(err);
        while (len && (err[len - 1] == '\n' || err[len - 1] == '\r')) {
            err[--len] = '\0';
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"race_kafka_option\" \"%V\" \"%V\": %s",
                           name, value, err);
        return NGX_CONF_ERROR;
    }

    rd_kafka_conf_destroy(conf);

    return NGX_CONF_OK;
}


static rd_kafka_conf_t *
ngx_http_race_kafka_conf(ngx_log_t *log, ngx_http_race_main_conf_t *rmcf,
    char *err, size_t err_size)
{
    ngx_uint_t        i;
    ngx_keyval_t     *kv;
    rd_kafka_conf_t  *conf;

    conf = rd_kafka_conf_new();
    if (conf == NULL) {
        ngx_cpystrn((u_char *) err, (u_char *) "no memory", err_size);
        return NULL;
    }

    for (i = 0; ngx_http_race_kafka_defaults[i][0]; i++) {
        if (rd_kafka_conf_set(conf, ngx_http_race_kafka_defaults[i][0],
                              ngx_http_race_kafka_defaults[i][1],
                              err, err_size)
            != RD_KAFKA_CONF_OK)
        {
            goto failed;
        }
    }

    if (rd_kafka_conf_set(conf, "bootstrap.servers",
                          (char *) rmcf->kafka_brokers.data, err, err_size)
        != RD_KAFKA_CONF_OK)
    {
        goto failed;
    }

    if (rmcf->kafka_options) {
        kv = rmcf->kafka_options->elts;

        for (i = 0; i < rmcf->kafka_options->nelts; i++) {
            if (rd_kafka_conf_set(conf, (char *) kv[i].key.data,
                                  (char *) kv[i].value.data, err, err_size)
                != RD_KAFKA_CONF_OK)
            {
                goto failed;
            }
        }
    }

    rd_kafka_conf_set_dr_msg_cb(conf, ngx_http_race_kafka_dr);
    rd_kafka_conf_set_error_cb(conf, ngx_http_race_kafka_error);
    rd_kafka_conf_set_log_cb(conf, ngx_http_race_kafka_log);
    rd_kafka_conf_set_stats_cb(conf, ngx_http_race_kafka_stats);

    /* logs, like everything else, are served from the main queue */
    if (rd_kafka_conf_set(conf, "log.queue", "true", err, err_size)
        != RD_KAFKA_CONF_OK)
    {
        goto failed;
    }

    return conf;

failed:

    rd_kafka_conf_destroy(conf);

    ngx_log_error(NGX_LOG_EMERG, log, 0, "race: kafka settings: %s", err);

    return NULL;
}


static ngx_int_t
ngx_http_race_kafka_init_process(ngx_cycle_t *cycle,
    ngx_http_race_main_conf_t *rmcf)
{
    int                     fds[2];
    ngx_connection_t       *c;
    ngx_http_race_kafka_t  *k;

    k = ngx_pcalloc(cycle->pool, sizeof(ngx_http_race_kafka_t));
    if (k == NULL) {
        return NGX_ERROR;
    }

    k->log = cycle->log;
    k->rmcf = rmcf;
    k->pipe_write = (ngx_socket_t) -1;

    /* the pipe outlives the producers: a new one signals on it too */

    if (pipe2(fds, O_NONBLOCK|O_CLOEXEC) == -1) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "race: kafka pipe() failed");
        return NGX_ERROR;
    }

    k->pipe_write = fds[1];
    ngx_http_race_kafka = k;

    c = ngx_get_connection(fds[0], cycle->log);
    if (c == NULL) {
        ngx_close_socket(fds[0]);
        goto failed;
    }

    k->pipe = c;
    c->data = k;
    c->read->handler = ngx_http_race_kafka_event;
    c->read->log = cycle->log;
    c->write->log = cycle->log;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        goto failed;
    }

    k->renew.handler = ngx_http_race_kafka_renew;
    k->renew.data = k;
    k->renew.log = cycle->log;

    if (ngx_http_race_kafka_create(k) != NGX_OK) {
        goto failed;
    }

    k->tick.handler = ngx_http_race_kafka_tick;
    k->tick.data = k;
    k->tick.log = cycle->log;
    k->tick.cancelable = 1;
    ngx_add_timer(&k->tick, NGX_HTTP_RACE_KAFKA_TICK);

    return NGX_OK;

failed:

    ngx_http_race_kafka_exit_process(cycle);

    return NGX_ERROR;
}


/* a producer, its topics, its main queue signalling on the pipe */

static ngx_int_t
ngx_http_race_kafka_create(ngx_http_race_kafka_t *k)
{
    ngx_uint_t        i;
    ngx_str_t        *name[NGX_HTTP_RACE_TOPICS];
    char              err[512];
    rd_kafka_conf_t  *conf;

    conf = ngx_http_race_kafka_conf(k->log, k->rmcf, err, sizeof(err));
    if (conf == NULL) {
        return NGX_ERROR;
    }

    /* rd_kafka_new() owns conf from here when it succeeds */

    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (k->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        ngx_log_error(NGX_LOG_EMERG, k->log, 0,
                      "race: kafka producer: %s", err);
        return NGX_ERROR;
    }

    /* log callbacks too are served on the event loop, from the main queue */
    if (rd_kafka_set_log_queue(k->rk, NULL) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, k->log, 0,
                      "race: kafka log queue could not be set");
        goto failed;
    }

    name[NGX_HTTP_RACE_TOPIC_FIXES] = &k->rmcf->kafka_topic;
    name[NGX_HTTP_RACE_TOPIC_ACCOUNTS] = &k->rmcf->kafka_accounts_topic;

    for (i = 0; i < NGX_HTTP_RACE_TOPICS; i++) {
        k->topics[i] = rd_kafka_topic_new(k->rk, (char *) name[i]->data,
                                          NULL);
        if (k->topics[i] == NULL) {
            ngx_log_error(NGX_LOG_EMERG, k->log, 0,
                          "race: kafka topic \"%V\": %s", name[i],
                          rd_kafka_err2str(rd_kafka_last_error()));
            goto failed;
        }
    }

    k->queue = rd_kafka_queue_get_main(k->rk);
    rd_kafka_queue_io_event_enable(k->queue, k->pipe_write, "k", 1);

    return NGX_OK;

failed:

    ngx_http_race_kafka_destroy(k);

    return NGX_ERROR;
}


/*
 * A producer that goes does not wait for the brokers: what is still
 * queued or in flight is purged, its phones get no ack and send those
 * fixes again, where the deterministic _id stores them once.  The purge
 * reports are served so that every opaque is released.
 */

static void
ngx_http_race_kafka_destroy(ngx_http_race_kafka_t *k)
{
    ngx_uint_t  i;

    if (k->rk == NULL) {
        return;
    }

    if (k->queue) {
        rd_kafka_queue_io_event_enable(k->queue, -1, NULL, 0);
    }

    (void) rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE
                                 |RD_KAFKA_PURGE_F_INFLIGHT);

    while (rd_kafka_poll(k->rk, 0) > 0) {
        /* void */
    }

    if (k->queue) {
        rd_kafka_queue_destroy(k->queue);
        k->queue = NULL;
    }

    for (i = 0; i < NGX_HTTP_RACE_TOPICS; i++) {
        if (k->topics[i]) {
            rd_kafka_topic_destroy(k->topics[i]);
            k->topics[i] = NULL;
        }
    }

    /*
     * This joins librdkafka's threads: with nothing left to send they
     * end at once.  It happens when a worker exits, and after the rare
     * fatal error.
     */

    rd_kafka_destroy(k->rk);
    k->rk = NULL;
    k->up = 0;
}


static void
ngx_http_race_kafka_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_race_kafka_t  *k;

    k = ngx_http_race_kafka;
    if (k == NULL) {
        return;
    }

    if (k->tick.timer_set) {
        ngx_del_timer(&k->tick);
    }

    if (k->renew.posted) {
        ngx_delete_posted_event(&k->renew);
    }

    ngx_http_race_kafka_destroy(k);

    if (k->pipe) {
        ngx_close_connection(k->pipe);
    }

    if (k->pipe_write != (ngx_socket_t) -1) {
        (void) close(k->pipe_write);
    }

    ngx_http_race_kafka = NULL;
}


/*
 * A fatal error (the idempotent producer lost track of its sequence,
 * say) leaves a producer that fails every message: this worker makes a
 * new one instead of failing until a reload.  What the old one held is
 * reported undelivered (phones get 1013 and send again, account
 * commands get 503); meanwhile nothing is taken.
 */

static void
ngx_http_race_kafka_renew(ngx_event_t *ev)
{
    ngx_http_race_kafka_t  *k;

    k = ev->data;

    ngx_log_error(NGX_LOG_NOTICE, k->log, 0,
                  "race: kafka producer replaced after a fatal error");

    ngx_http_race_kafka_destroy(k);

    k->fatal = 0;

    if (ngx_http_race_kafka_create(k) != NGX_OK) {
        /* the tick tries again */
        ngx_log_error(NGX_LOG_ERR, k->log, 0,
                      "race: no kafka producer, trying again");
    }
}


static ngx_int_t
ngx_http_race_kafka_produce(ngx_uint_t topic, const u_char *key,
    size_t key_len, u_char *payload, size_t len, ngx_http_race_delivery_t *d,
    ngx_log_t *log)
{
    rd_kafka_resp_err_t     err;
    ngx_http_race_kafka_t  *k;

    k = ngx_http_race_kafka;
    if (k == NULL) {
        return NGX_ERROR;
    }

    if (k->rk == NULL || k->fatal) {
        /* a new producer is on its way */
        return NGX_BUSY;
    }

    /* RD_KAFKA_MSG_F_FREE: librdkafka frees payload with free() */

    if (rd_kafka_produce(k->topics[topic], RD_KAFKA_PARTITION_UA,
                         RD_KAFKA_MSG_F_FREE, payload, len, key, key_len, d)
        == 0)
    {
        /* every message produced gets one report, a purge's included */
        k->queued++;
        ngx_http_race_gauge(queue_depth, 1);
        return NGX_OK;
    }

    err = rd_kafka_last_error();

    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "race: kafka producer queue is full");
        return NGX_BUSY;
    }

    ngx_log_error(NGX_LOG_ERR, log, 0, "race: kafka produce: %s",
                  rd_kafka_err2str(err));

    return NGX_ERROR;
}


static void
ngx_http_race_kafka_dr(rd_kafka_t *rk, const rd_kafka_message_t *msg,
    void *opaque)
{
    ngx_http_race_delivery_t  *d;
    ngx_http_race_kafka_t  *k;

    k = ngx_http_race_kafka;

    if (msg->err) {
        ngx_log_error(NGX_LOG_WARN, k->log, 0,
                      "race: kafka message not delivered: %s",
                      rd_kafka_err2str(msg->err));
    }

    if (k->queued) {
        k->queued--;
        ngx_http_race_gauge(queue_depth, -1);
    }

    /* from produce() to this report, in microseconds, or -1 */
    ngx_http_race_status_delivery(rd_kafka_message_latency(msg));

    d = msg->_private;
    d->delivered(d, msg->err ? 0 : 1);
}


static void
ngx_http_race_kafka_error(rd_kafka_t *rk, int err, const char *reason,
    void *opaque)
{
    char                    fatal[256];
    rd_kafka_resp_err_t     cause;
    ngx_http_race_kafka_t  *k;

    k = ngx_http_race_kafka;

    if (err != RD_KAFKA_RESP_ERR__FATAL) {
        /* brokers come and go: librdkafka retries */
        ngx_log_error(NGX_LOG_WARN, k->log, 0, "race: kafka: %s", reason);

        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && rk == k->rk) {
            /* said at once; the next statistics say when one is back */
            k->up = 0;
        }

        return;
    }

    cause = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));

    ngx_log_error(NGX_LOG_ERR, k->log, 0, "race: kafka fatal error: %s: %s",
                  rd_kafka_err2name(cause), cause ? fatal : reason);

    /* not from inside rd_kafka_poll(): the producer goes after it */

    if (!k->fatal && rk == k->rk) {
        k->fatal = 1;
        ngx_post_event(&k->renew, &ngx_posted_events);
    }
}


static void
ngx_http_race_kafka_log(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
    ngx_uint_t  nlevel;

    /* syslog levels: 0 emerg .. 7 debug */

    if (level <= 3) {
        nlevel = NGX_LOG_ERR;

    } else if (level <= 5) {
        nlevel = NGX_LOG_NOTICE;

    } else {
        nlevel = NGX_LOG_INFO;
    }

    ngx_log_error(nlevel, ngx_http_race_kafka->log, 0, "race: kafka %s: %s",
                  fac, buf);
}


/*
 * The statistics, served on the event loop like every other callback:
 * up while any broker, bootstrap or learned, is in state "UP".  A few
 * kilobytes of JSON a second per worker for one or a few brokers.
 */

static int
ngx_http_race_kafka_stats(rd_kafka_t *rk, char *json, size_t json_len,
    void *opaque)
{
    json_t                 *root, *brokers, *broker, *state;
    const char             *name;
    ngx_uint_t              up;
    json_error_t            err;
    ngx_http_race_kafka_t  *k;

    k = ngx_http_race_kafka;

    if (k == NULL || rk != k->rk) {
        /* a producer on its way out */
        return 0;
    }

    root = json_loadb(json, json_len, 0, &err);
    if (root == NULL) {
        ngx_log_error(NGX_LOG_WARN, k->log, 0,
                      "race: kafka statistics unreadable: %s", err.text);
        k->up = 0;
        return 0;
    }

    up = 0;
    brokers = json_object_get(root, "brokers");

    json_object_foreach(brokers, name, broker) {
        state = json_object_get(broker, "state");

        if (json_is_string(state)
            && ngx_strcmp(json_string_value(state), "UP") == 0)
        {
            up = 1;
            break;
        }
    }

    json_decref(root);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, k->log, 0,
                   "race: kafka statistics: a broker up: %ui", up);

    k->up = up;

    /* 0: librdkafka frees json */
    return 0;
}


static ngx_int_t
ngx_http_race_kafka_state(ngx_uint_t *depth)
{
    ngx_http_race_kafka_t  *k;

    k = ngx_http_race_kafka;

    if (k == NULL || k->rk == NULL) {
        *depth = 0;
        return NGX_DECLINED;
    }

    *depth = k->queued;

    return (k->up && !k->fatal) ? NGX_OK : NGX_DECLINED;
}


static void
ngx_http_race_kafka_event(ngx_event_t *ev)
{
    u_char             buf[64];
    ssize_t            n;
    ngx_connection_t  *c;

    c = ev->data;

    /* empty the pipe first: a byte written after this wakes us again */

    for ( ;; ) {
        n = read(c->fd, buf, sizeof(buf));

        if (n > 0) {
            continue;
        }

        if (n == -1 && ngx_errno == NGX_EINTR) {
            continue;
        }

        break;
    }

    ngx_http_race_kafka_serve();

    if (ngx_handle_read_event(ev, 0) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                      "race: kafka pipe event failed");
    }
}


static void
ngx_http_race_kafka_tick(ngx_event_t *ev)
{
    ngx_http_race_kafka_t  *k;

    k = ev->data;

    if (k->rk == NULL && !k->fatal
        && ngx_http_race_kafka_create(k) == NGX_OK)
    {
        ngx_log_error(NGX_LOG_NOTICE, k->log, 0,
                      "race: kafka producer made again");
    }

    ngx_http_race_kafka_serve();

    ngx_add_timer(ev, NGX_HTTP_RACE_KAFKA_TICK);
}


static void
ngx_http_race_kafka_serve(void)
{
    ngx_uint_t              i;
    ngx_http_race_kafka_t  *k;

    k = ngx_http_race_kafka;

    if (k->rk == NULL) {
        return;
    }

    /* rd_kafka_poll(.., 0) never blocks; bounded so a flood yields */

    for (i = 0; i < NGX_HTTP_RACE_KAFKA_POLL_MAX; i++) {
        if (rd_kafka_poll(k->rk, 0) == 0) {
            return;
        }
    }

    /* more is waiting: come back after the other events */
    ngx_post_event(k->pipe->read, &ngx_posted_events);
}


#if (NGX_HTTP_RACE_TEST)

/*
 * race_kafka_test_fatal: a request raises a fabricated fatal error in
 * this worker's producer, as librdkafka offers for tests.  Compiled
 * into test builds only: no production configuration can name it.
 */

ngx_int_t
ngx_http_race_kafka_test_fatal_handler(ngx_http_request_t *r)
{
    rd_kafka_resp_err_t     err;
    ngx_http_race_kafka_t  *k;

    k = ngx_http_race_kafka;

    if (k == NULL || k->rk == NULL || k->fatal) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    /* what the idempotent producer meets when the broker lost track */
    err = rd_kafka_test_fatal_error(k->rk,
                                RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                "raised by race_kafka_test_fatal");
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "race: kafka test fatal error: %s",
                      rd_kafka_err2str(err));
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* served now: the error callback runs from the main queue */
    ngx_http_race_kafka_serve();

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    return ngx_http_send_header(r);
}

#endif
