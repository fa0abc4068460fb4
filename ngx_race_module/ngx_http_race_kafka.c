
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

#include "ngx_http_race.h"
#include "ngx_http_race_kafka.h"


#define NGX_HTTP_RACE_KAFKA_POLL_MAX   64      /* serve rounds per event */
#define NGX_HTTP_RACE_KAFKA_TICK       1000    /* ms, a poll in any case */


typedef struct {
    rd_kafka_t                        *rk;
    rd_kafka_topic_t                  *topics[NGX_HTTP_RACE_TOPICS];
    rd_kafka_queue_t                  *queue;
    ngx_connection_t                  *pipe;      /* read end */
    ngx_socket_t                       pipe_write;
    ngx_event_t                        tick;
    ngx_log_t                         *log;
} ngx_http_race_kafka_t;


static rd_kafka_conf_t *ngx_http_race_kafka_conf(ngx_log_t *log,
    ngx_http_race_main_conf_t *rmcf, char *err, size_t err_size);
static void ngx_http_race_kafka_dr(rd_kafka_t *rk,
    const rd_kafka_message_t *msg, void *opaque);
static void ngx_http_race_kafka_error(rd_kafka_t *rk, int err,
    const char *reason, void *opaque);
static void ngx_http_race_kafka_log(const rd_kafka_t *rk, int level,
    const char *fac, const char *buf);
static void ngx_http_race_kafka_event(ngx_event_t *ev);
static void ngx_http_race_kafka_tick(ngx_event_t *ev);
static void ngx_http_race_kafka_serve(void);
static ngx_int_t ngx_http_race_kafka_init_process(ngx_cycle_t *cycle,
    ngx_http_race_main_conf_t *rmcf);
static void ngx_http_race_kafka_exit_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_race_kafka_produce(ngx_uint_t topic,
    const u_char *key, size_t key_len, u_char *payload, size_t len,
    ngx_http_race_delivery_t *d, ngx_log_t *log);


const ngx_http_race_queue_t  ngx_http_race_kafka_queue = {
    "kafka",
    ngx_http_race_kafka_init_process,
    ngx_http_race_kafka_exit_process,
    ngx_http_race_kafka_produce
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
    ngx_uint_t              i;
    ngx_str_t              *name[NGX_HTTP_RACE_TOPICS];
    int                     fds[2];
    char                    err[512];
    ngx_connection_t       *c;
    rd_kafka_conf_t        *conf;
    ngx_http_race_kafka_t  *k;

    k = ngx_pcalloc(cycle->pool, sizeof(ngx_http_race_kafka_t));
    if (k == NULL) {
        return NGX_ERROR;
    }

    k->log = cycle->log;
    k->pipe_write = (ngx_socket_t) -1;

    conf = ngx_http_race_kafka_conf(cycle->log, rmcf, err, sizeof(err));
    if (conf == NULL) {
        return NGX_ERROR;
    }

    /* rd_kafka_new() owns conf from here when it succeeds */

    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (k->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "race: kafka producer: %s", err);
        return NGX_ERROR;
    }

    /* log callbacks too are served on the event loop, from the main queue */
    if (rd_kafka_set_log_queue(k->rk, NULL) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "race: kafka log queue could not be set");
        goto failed;
    }

    name[NGX_HTTP_RACE_TOPIC_FIXES] = &rmcf->kafka_topic;
    name[NGX_HTTP_RACE_TOPIC_ACCOUNTS] = &rmcf->kafka_accounts_topic;

    for (i = 0; i < NGX_HTTP_RACE_TOPICS; i++) {
        k->topics[i] = rd_kafka_topic_new(k->rk, (char *) name[i]->data,
                                          NULL);
        if (k->topics[i] == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "race: kafka topic \"%V\": %s", name[i],
                          rd_kafka_err2str(rd_kafka_last_error()));
            goto failed;
        }
    }

    if (pipe2(fds, O_NONBLOCK|O_CLOEXEC) == -1) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "race: kafka pipe() failed");
        goto failed;
    }

    k->pipe_write = fds[1];

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

    k->queue = rd_kafka_queue_get_main(k->rk);
    rd_kafka_queue_io_event_enable(k->queue, fds[1], "k", 1);

    k->tick.handler = ngx_http_race_kafka_tick;
    k->tick.data = k;
    k->tick.log = cycle->log;
    k->tick.cancelable = 1;
    ngx_add_timer(&k->tick, NGX_HTTP_RACE_KAFKA_TICK);

    ngx_http_race_kafka = k;

    return NGX_OK;

failed:

    ngx_http_race_kafka = k;
    ngx_http_race_kafka_exit_process(cycle);

    return NGX_ERROR;
}


/*
 * A worker that exits does not wait for the brokers: what is still
 * queued or in flight is purged, its phones get no ack and send those
 * fixes again to the next worker, where the deterministic _id stores
 * them once.  The purge reports are served so that every opaque is
 * released.
 */

static void
ngx_http_race_kafka_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t              i;
    ngx_http_race_kafka_t  *k;

    k = ngx_http_race_kafka;
    if (k == NULL) {
        return;
    }

    if (k->tick.timer_set) {
        ngx_del_timer(&k->tick);
    }

    if (k->rk) {
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
        }

        for (i = 0; i < NGX_HTTP_RACE_TOPICS; i++) {
            if (k->topics[i]) {
                rd_kafka_topic_destroy(k->topics[i]);
            }
        }

        rd_kafka_destroy(k->rk);
    }

    if (k->pipe) {
        ngx_close_connection(k->pipe);
    }

    if (k->pipe_write != (ngx_socket_t) -1) {
        (void) close(k->pipe_write);
    }

    ngx_http_race_kafka = NULL;
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

    /* RD_KAFKA_MSG_F_FREE: librdkafka frees payload with free() */

    if (rd_kafka_produce(k->topics[topic], RD_KAFKA_PARTITION_UA,
                         RD_KAFKA_MSG_F_FREE, payload, len, key, key_len, d)
        == 0)
    {
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

    d = msg->_private;
    d->delivered(d, msg->err ? 0 : 1);
}


static void
ngx_http_race_kafka_error(rd_kafka_t *rk, int err, const char *reason,
    void *opaque)
{
    ngx_uint_t  level;

    /* brokers come and go; only a fatal error is beyond retrying */

    level = (err == RD_KAFKA_RESP_ERR__FATAL) ? NGX_LOG_ERR : NGX_LOG_WARN;

    ngx_log_error(level, ngx_http_race_kafka->log, 0, "race: kafka: %s",
                  reason);
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
    ngx_http_race_kafka_serve();

    ngx_add_timer(ev, NGX_HTTP_RACE_KAFKA_TICK);
}


static void
ngx_http_race_kafka_serve(void)
{
    ngx_uint_t              i;
    ngx_http_race_kafka_t  *k;

    k = ngx_http_race_kafka;

    /* rd_kafka_poll(.., 0) never blocks; bounded so a flood yields */

    for (i = 0; i < NGX_HTTP_RACE_KAFKA_POLL_MAX; i++) {
        if (rd_kafka_poll(k->rk, 0) == 0) {
            return;
        }
    }

    /* more is waiting: come back after the other events */
    ngx_post_event(k->pipe->read, &ngx_posted_events);
}
