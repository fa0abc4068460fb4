
/*
 * ngx_race workers: the queue on Kafka.
 *
 * At-least-once: enable.auto.offset.store is off, so the auto commit
 * commits only the offsets commit() stored, and commit() is called only
 * once the writes of a batch have succeeded.  On a revoke the owner's
 * batch is drained and the stored offsets are committed synchronously
 * before the partitions are given up; close() does the same.
 *
 * Every callback runs on the thread that calls rd_kafka_consumer_poll()
 * or rd_kafka_consumer_close(), except the log callback, which librdkafka
 * calls from its own threads (race_log is safe there).
 */


#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "race_id.h"
#include "race_log.h"
#include "race_metrics.h"
#include "race_queue_kafka.h"


/* the offset after the last message stored, of one partition */
typedef struct {
    int32_t                  partition;
    int64_t                  offset;
} race_queue_kafka_stored_t;


typedef struct {
    race_queue_t             queue;     /* first: the race_queue_t is this */
    rd_kafka_t              *rk;
    race_queue_kafka_conf_t  conf;      /* its strings are the caller's */
    char                     instance[256];     /* "" if none */
    unsigned                 lost:1;    /* the session was lost */

    /* what was handled, for the lag; of the partitions we hold */
    race_queue_kafka_stored_t  *stored;
    size_t                   nstored;
    size_t                   stored_size;
} race_queue_kafka_t;


static int race_queue_kafka_poll(race_queue_t *q, race_queue_batch_t *b,
    int timeout_ms);
static int race_queue_kafka_commit(race_queue_t *q, race_queue_batch_t *b);
static void race_queue_kafka_release(race_queue_t *q,
    race_queue_batch_t *b);
static int race_queue_kafka_close(race_queue_t *q);
static int race_queue_kafka_connect(race_queue_kafka_t *kq);
static int race_queue_kafka_rejoin(race_queue_kafka_t *kq);
static int race_queue_kafka_set(rd_kafka_conf_t *conf, const char *name,
    const char *value);
static int race_queue_kafka_instance(const race_queue_kafka_conf_t *conf,
    char *buf, size_t size);
static void race_queue_kafka_rebalance(rd_kafka_t *rk,
    rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
    void *opaque);
static void race_queue_kafka_ready(race_queue_kafka_t *kq);
static void race_queue_kafka_commit_sync(race_queue_kafka_t *kq,
    const char *why);
static void race_queue_kafka_log(const rd_kafka_t *rk, int level,
    const char *fac, const char *buf);
static void race_queue_kafka_error(rd_kafka_t *rk, int err,
    const char *reason, void *opaque);
static void race_queue_kafka_committed(rd_kafka_t *rk,
    rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
    void *opaque);
static void race_queue_kafka_parts(const rd_kafka_topic_partition_list_t *l,
    char *buf, size_t size);
static void race_queue_kafka_store(race_queue_kafka_t *kq,
    int32_t partition, int64_t offset, int stored);
static void race_queue_kafka_forget(race_queue_kafka_t *kq,
    const rd_kafka_topic_partition_list_t *parts);
static void race_queue_kafka_lag(void *data);


static const race_queue_ops_t  race_queue_kafka_ops = {
    race_queue_kafka_poll,
    race_queue_kafka_commit,
    race_queue_kafka_release,
    race_queue_kafka_close
};


/* Kafka's characters for group instance ids (topics: race_id.h) */
static const char  race_queue_kafka_chars[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";


/* RACE_LOG_* to the syslog levels librdkafka's log_level takes */
static const char  *race_queue_kafka_levels[] = { "7", "6", "4", "3" };


race_queue_t *
race_queue_kafka_open(const race_queue_kafka_conf_t *conf,
    race_queue_drain_pt drain, void *data)
{
    race_queue_kafka_t  *kq;

    kq = calloc(1, sizeof(race_queue_kafka_t));
    if (kq == NULL) {
        race_log(RACE_LOG_ERROR, "kafka: out of memory");
        return NULL;
    }

    kq->queue.ops = &race_queue_kafka_ops;
    kq->queue.drain = drain;
    kq->queue.drain_data = data;
    kq->conf = *conf;

    if (race_queue_kafka_instance(conf, kq->instance, sizeof(kq->instance))
        != 0
        || race_queue_kafka_connect(kq) != 0)
    {
        free(kq);
        return NULL;
    }

    /* from the main loop's turns, a server down or not */
    race_metrics_refresh(race_queue_kafka_lag, kq);

    race_log(RACE_LOG_INFO, "kafka: librdkafka %s, consuming \"%s\" in "
             "group \"%s\"%s%s%s", rd_kafka_version_str(), conf->topic,
             conf->group, kq->instance[0] ? " as static member \"" : "",
             kq->instance, kq->instance[0] ? "\"" : "");

    return &kq->queue;
}


/* a consumer in kq->rk, subscribed; -1 on failure, logged */

static int
race_queue_kafka_connect(race_queue_kafka_t *kq)
{
    char                              errstr[512], n1[32], n2[32];
    rd_kafka_conf_t                  *rconf;
    rd_kafka_resp_err_t               err;
    race_queue_kafka_conf_t          *conf;
    rd_kafka_topic_partition_list_t  *topics;

    conf = &kq->conf;
    kq->lost = 0;

    rconf = rd_kafka_conf_new();
    if (rconf == NULL) {
        race_log(RACE_LOG_ERROR, "kafka: rd_kafka_conf_new() failed");
        return -1;
    }

    snprintf(n1, sizeof(n1), "%d", conf->commit_interval_ms);
    snprintf(n2, sizeof(n2), "%d", conf->session_timeout_ms);

    if (race_queue_kafka_set(rconf, "bootstrap.servers", conf->brokers) != 0
        || race_queue_kafka_set(rconf, "group.id", conf->group) != 0
        || race_queue_kafka_set(rconf, "client.id", conf->client_id) != 0
        || race_queue_kafka_set(rconf, "enable.auto.commit", "true") != 0
        || race_queue_kafka_set(rconf, "auto.commit.interval.ms", n1) != 0
        || race_queue_kafka_set(rconf, "enable.auto.offset.store", "false")
           != 0
        || race_queue_kafka_set(rconf, "auto.offset.reset", "earliest") != 0
        || race_queue_kafka_set(rconf, "enable.partition.eof", "false") != 0
        || race_queue_kafka_set(rconf, "session.timeout.ms", n2) != 0
        || race_queue_kafka_set(rconf, "log_level",
                                race_queue_kafka_levels[conf->log_level])
           != 0)
    {
        rd_kafka_conf_destroy(rconf);
        return -1;
    }

    /* static membership; it does not leave the group on close either */
    if (kq->instance[0] != '\0'
        && race_queue_kafka_set(rconf, "group.instance.id", kq->instance)
           != 0)
    {
        rd_kafka_conf_destroy(rconf);
        return -1;
    }

    rd_kafka_conf_set_opaque(rconf, kq);
    rd_kafka_conf_set_rebalance_cb(rconf, race_queue_kafka_rebalance);
    rd_kafka_conf_set_offset_commit_cb(rconf, race_queue_kafka_committed);
    rd_kafka_conf_set_error_cb(rconf, race_queue_kafka_error);
    rd_kafka_conf_set_log_cb(rconf, race_queue_kafka_log);

    /* rd_kafka_new() owns rconf from here on, but only if it succeeds */
    kq->rk = rd_kafka_new(RD_KAFKA_CONSUMER, rconf, errstr, sizeof(errstr));
    if (kq->rk == NULL) {
        race_log(RACE_LOG_ERROR, "kafka: consumer: %s", errstr);
        rd_kafka_conf_destroy(rconf);
        return -1;
    }

    /* one queue: messages, rebalances, errors all come from poll */
    err = rd_kafka_poll_set_consumer(kq->rk);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        race_log(RACE_LOG_ERROR, "kafka: poll_set_consumer: %s",
                 rd_kafka_err2str(err));
        goto destroy;
    }

    topics = rd_kafka_topic_partition_list_new(1);
    if (topics == NULL) {
        race_log(RACE_LOG_ERROR, "kafka: out of memory");
        goto destroy;
    }

    rd_kafka_topic_partition_list_add(topics, conf->topic,
                                      RD_KAFKA_PARTITION_UA);

    err = rd_kafka_subscribe(kq->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);

    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        race_log(RACE_LOG_ERROR, "kafka: subscribe to \"%s\": %s",
                 conf->topic, rd_kafka_err2str(err));
        goto destroy;
    }

    return 0;

destroy:

    rd_kafka_destroy(kq->rk);
    kq->rk = NULL;

    return -1;
}


/*
 * A static member whose session timed out (the broker was away longer
 * than the session timeout) forgets its member id and joins again; but
 * librdkafka 2.0.2 may send an offset commit first, without the member
 * id, which the broker answers with FENCED_INSTANCE_ID, a fatal error.
 * Nobody else has our id then: a new consumer takes its place in the
 * group like a restarted daemon would.  Fenced while the session was
 * ours, another process runs with our id: that stays fatal.
 */

static int
race_queue_kafka_rejoin(race_queue_kafka_t *kq)
{
    race_log(RACE_LOG_WARN, "kafka: fenced after the session was lost: "
             "joining the group again as \"%s\"", kq->instance);

    race_metrics_ready(RACE_METRICS_READY_QUEUE, 0);

    /* the revoke this triggers drains; nothing can be committed */
    (void) rd_kafka_consumer_close(kq->rk);
    rd_kafka_destroy(kq->rk);
    kq->rk = NULL;
    kq->nstored = 0;

    return race_queue_kafka_connect(kq);
}


int
race_queue_kafka_check_topic(const char *value, char *reason, size_t size)
{
    /* the module's race_kafka_topic takes the same names */

    if (!race_id_topic_valid(value, strlen(value))) {
        snprintf(reason, size, "is not a topic name ([A-Za-z0-9._-])");
        return -1;
    }

    return 0;
}


int
race_queue_kafka_check_instance(const char *value, char *reason,
    size_t size)
{
    if (strspn(value, race_queue_kafka_chars) != strlen(value)) {
        snprintf(reason, size, "is not a group instance id "
                 "([A-Za-z0-9._-], \"auto\" or \"none\")");
        return -1;
    }

    return 0;
}


/* the group.instance.id to use, "" for none */

static int
race_queue_kafka_instance(const race_queue_kafka_conf_t *conf, char *buf,
    size_t size)
{
    char    host[256];
    size_t  i;

    if (conf->instance_id == NULL || strcmp(conf->instance_id, "none") == 0) {
        buf[0] = '\0';
        return 0;
    }

    if (strcmp(conf->instance_id, "auto") != 0) {
        snprintf(buf, size, "%s", conf->instance_id);
        return 0;
    }

    /* stable across restarts on one machine, distinct between machines */

    if (gethostname(host, sizeof(host)) != 0) {
        race_log(RACE_LOG_ERROR, "kafka: gethostname() failed: %s; set "
                 "kafka_instance_id", strerror(errno));
        return -1;
    }

    host[sizeof(host) - 1] = '\0';

    /* 249 characters at most, of Kafka's: cut, and '_' for the others */
    snprintf(buf, size, "%.200s.%.40s", host, conf->client_id);

    for (i = 0; buf[i] != '\0'; i++) {
        if (strchr(race_queue_kafka_chars, buf[i]) == NULL) {
            buf[i] = '_';
        }
    }

    return 0;
}


static int
race_queue_kafka_poll(race_queue_t *q, race_queue_batch_t *b, int timeout_ms)
{
    char                 errstr[512];
    race_queue_msg_t    *msg;
    rd_kafka_message_t  *m;
    race_queue_kafka_t  *kq = (race_queue_kafka_t *) q;
    rd_kafka_resp_err_t  err;

    if (b->n >= b->size) {
        race_log(RACE_LOG_ERROR, "kafka: poll into a full batch");
        return RACE_QUEUE_ERROR;
    }

    m = rd_kafka_consumer_poll(kq->rk, timeout_ms);

    if (m == NULL) {
        return RACE_QUEUE_AGAIN;
    }

    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {

        if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
            err = rd_kafka_fatal_error(kq->rk, errstr, sizeof(errstr));
            rd_kafka_message_destroy(m);

            if (err == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID && kq->lost) {
                return race_queue_kafka_rejoin(kq) == 0 ? RACE_QUEUE_AGAIN
                                                        : RACE_QUEUE_ERROR;
            }

            race_log(RACE_LOG_ERROR, "kafka: fatal error: %s: %s%s",
                     rd_kafka_err2name(err), errstr,
                     err == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID
                     ? " (another consumer runs with our kafka_instance_id)"
                     : "");
            return RACE_QUEUE_ERROR;
        }

        /* librdkafka retries what can be retried by itself */
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            race_metrics_add(race_metrics_worker.kafka_errors, 1);
            race_log(RACE_LOG_WARN, "kafka: %s%s%s",
                     m->rkt ? rd_kafka_topic_name(m->rkt) : "",
                     m->rkt ? ": " : "", rd_kafka_message_errstr(m));
        }

        rd_kafka_message_destroy(m);
        return RACE_QUEUE_AGAIN;
    }

    /* the message is ours until commit() or release() destroys it */

    race_metrics_add(race_metrics_worker.consumed, 1);

    /* what came before a partition's first message was handled */
    race_queue_kafka_store(kq, m->partition, m->offset, 0);

    msg = &b->msgs[b->n++];

    msg->key = m->key;
    msg->key_len = m->key_len;
    msg->data = m->payload;
    msg->len = m->len;
    msg->handle = m;

    snprintf(msg->where, sizeof(msg->where), "%s[%d]@%" PRId64,
             rd_kafka_topic_name(m->rkt), (int) m->partition, m->offset);

    return RACE_QUEUE_OK;
}


/* stores, for each partition, the offset after the batch's last message */

static int
race_queue_kafka_commit(race_queue_t *q, race_queue_batch_t *b)
{
    int                               i;
    char                              list[256];
    size_t                            k;
    const char                       *topic;
    rd_kafka_message_t               *m;
    race_queue_kafka_t               *kq = (race_queue_kafka_t *) q;
    rd_kafka_resp_err_t               err;
    rd_kafka_topic_partition_t       *p;
    rd_kafka_topic_partition_list_t  *offsets;

    if (b->n == 0) {
        return RACE_QUEUE_OK;
    }

    offsets = rd_kafka_topic_partition_list_new((int) b->n);
    if (offsets == NULL) {
        /* not stored: redelivered later, which is harmless */
        race_log(RACE_LOG_ERROR, "kafka: out of memory storing offsets");
        race_queue_kafka_release(q, b);
        return RACE_QUEUE_OK;
    }

    for (k = 0; k < b->n; k++) {
        m = b->msgs[k].handle;
        topic = rd_kafka_topic_name(m->rkt);

        p = rd_kafka_topic_partition_list_find(offsets, topic, m->partition);
        if (p == NULL) {
            p = rd_kafka_topic_partition_list_add(offsets, topic,
                                                  m->partition);
            p->offset = m->offset + 1;

        } else if (m->offset + 1 > p->offset) {
            p->offset = m->offset + 1;
        }
    }

    err = rd_kafka_offsets_store(kq->rk, offsets);

    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* the partitions were taken away: their next owner rereads */
        race_queue_kafka_parts(offsets, list, sizeof(list));
        race_log(RACE_LOG_WARN, "kafka: storing offsets of %s: %s; "
                 "the messages will be delivered again", list,
                 rd_kafka_err2str(err));

    } else {
        for (i = 0; i < offsets->cnt; i++) {
            if (offsets->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                race_log(RACE_LOG_WARN, "kafka: storing offset %" PRId64
                         " of %s[%d]: %s", offsets->elems[i].offset,
                         offsets->elems[i].topic,
                         (int) offsets->elems[i].partition,
                         rd_kafka_err2str(offsets->elems[i].err));
                continue;
            }

            race_queue_kafka_store(kq, offsets->elems[i].partition,
                                   offsets->elems[i].offset, 1);
        }
    }

    rd_kafka_topic_partition_list_destroy(offsets);
    race_queue_kafka_release(q, b);

    return RACE_QUEUE_OK;
}


static void
race_queue_kafka_release(race_queue_t *q, race_queue_batch_t *b)
{
    size_t  k;

    (void) q;

    for (k = 0; k < b->n; k++) {
        rd_kafka_message_destroy(b->msgs[k].handle);
        b->msgs[k].handle = NULL;
    }

    b->n = 0;
}


static int
race_queue_kafka_close(race_queue_t *q)
{
    race_queue_kafka_t   *kq = (race_queue_kafka_t *) q;
    rd_kafka_resp_err_t   err;

    race_metrics_refresh(NULL, NULL);

    /* stopping: no longer one to send work to */
    race_metrics_ready(RACE_METRICS_READY_QUEUE, 0);

    if (kq->rk == NULL) {
        /* a rejoin that failed: nothing to close */
        free(kq->stored);
        free(kq);
        return RACE_QUEUE_ERROR;
    }

    race_queue_kafka_commit_sync(kq, "close");

    /* the revoke this triggers drains and commits once more */
    err = rd_kafka_consumer_close(kq->rk);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        race_log(RACE_LOG_WARN, "kafka: consumer_close: %s",
                 rd_kafka_err2str(err));
    }

    rd_kafka_destroy(kq->rk);

    free(kq->stored);
    free(kq);

    return err == RD_KAFKA_RESP_ERR_NO_ERROR ? RACE_QUEUE_OK
                                             : RACE_QUEUE_ERROR;
}


static int
race_queue_kafka_set(rd_kafka_conf_t *conf, const char *name,
    const char *value)
{
    char  errstr[512];

    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr))
        != RD_KAFKA_CONF_OK)
    {
        race_log(RACE_LOG_ERROR, "kafka: %s: %s", name, errstr);
        return -1;
    }

    return 0;
}


static void
race_queue_kafka_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    int                  cooperative;
    char                 list[256];
    rd_kafka_error_t    *error;
    race_queue_kafka_t  *kq = opaque;
    rd_kafka_resp_err_t  rc;

    cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE")
                  == 0;

    race_queue_kafka_parts(parts, list, sizeof(list));

    error = NULL;
    rc = RD_KAFKA_RESP_ERR_NO_ERROR;

    switch (err) {

    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        race_log(RACE_LOG_INFO, "kafka: assigned %s", list);
        kq->lost = 0;

        if (cooperative) {
            error = rd_kafka_incremental_assign(rk, parts);

        } else {
            rc = rd_kafka_assign(rk, parts);
        }

        break;

    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        race_log(RACE_LOG_INFO, "kafka: revoked %s%s", list,
                 rd_kafka_assignment_lost(rk) ? " (lost)" : "");

        if (rd_kafka_assignment_lost(rk)) {
            kq->lost = 1;
        }

        /* finish what we hold while the partitions are still ours */
        if (kq->queue.drain != NULL) {
            kq->queue.drain(&kq->queue, kq->queue.drain_data);
        }

        if (!rd_kafka_assignment_lost(rk)) {
            race_queue_kafka_commit_sync(kq, "revoke");
        }

        /* their next owner's to show */
        race_queue_kafka_forget(kq, parts);

        if (cooperative) {
            error = rd_kafka_incremental_unassign(rk, parts);

        } else {
            rc = rd_kafka_assign(rk, NULL);
        }

        break;

    default:
        race_log(RACE_LOG_WARN, "kafka: rebalance failed: %s",
                 rd_kafka_err2str(err));
        rc = rd_kafka_assign(rk, NULL);
        break;
    }

    if (error != NULL) {
        race_log(RACE_LOG_ERROR, "kafka: incremental assignment of %s: %s",
                 list, rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);

    } else if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        race_log(RACE_LOG_ERROR, "kafka: assignment of %s: %s", list,
                 rd_kafka_err2str(rc));
    }

    race_queue_kafka_ready(kq);
}


/*
 * /readyz: ready while we hold a partition.  A member of a group with
 * more members than partitions holds none and is not ready: commands
 * sent now would wait for another member, not for this one.
 */

static void
race_queue_kafka_ready(race_queue_kafka_t *kq)
{
    int                               held;
    rd_kafka_resp_err_t               err;
    rd_kafka_topic_partition_list_t  *parts;

    held = 0;

    err = rd_kafka_assignment(kq->rk, &parts);

    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        held = parts->cnt > 0;
        rd_kafka_topic_partition_list_destroy(parts);
    }

    race_metrics_ready(RACE_METRICS_READY_QUEUE, held);
}


static void
race_queue_kafka_commit_sync(race_queue_kafka_t *kq, const char *why)
{
    rd_kafka_resp_err_t  err;

    err = rd_kafka_commit(kq->rk, NULL, 0);

    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        race_log(RACE_LOG_DEBUG, "kafka: offsets committed (%s)", why);

    } else if (err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        /* what is not committed is redelivered: harmless, but slow */
        race_log(RACE_LOG_WARN, "kafka: commit (%s): %s", why,
                 rd_kafka_err2str(err));
    }
}


static void
race_queue_kafka_log(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
    int  ours;

    (void) rk;

    if (level <= 3) {
        ours = RACE_LOG_ERROR;

    } else if (level == 4) {
        ours = RACE_LOG_WARN;

    } else if (level <= 6) {
        ours = RACE_LOG_INFO;

    } else {
        ours = RACE_LOG_DEBUG;
    }

    race_log(ours, "kafka: %s: %s", fac, buf);
}


static void
race_queue_kafka_error(rd_kafka_t *rk, int err, const char *reason,
    void *opaque)
{
    (void) rk;
    (void) opaque;

    race_metrics_add(race_metrics_worker.kafka_errors, 1);

    /* a fatal error also comes as a message from poll, handled there */
    race_log(err == RD_KAFKA_RESP_ERR__FATAL ? RACE_LOG_ERROR
                                             : RACE_LOG_WARN,
             "kafka: %s: %s", rd_kafka_err2name(err), reason);
}


static void
race_queue_kafka_committed(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    int   i;
    char  list[256];

    (void) rk;
    (void) opaque;

    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
        return;
    }

    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        race_log(RACE_LOG_WARN, "kafka: offset commit: %s",
                 rd_kafka_err2str(err));
        return;
    }

    if (offsets == NULL) {
        return;
    }

    for (i = 0; i < offsets->cnt; i++) {
        if (offsets->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            race_log(RACE_LOG_WARN, "kafka: offset commit of %s[%d]: %s",
                     offsets->elems[i].topic,
                     (int) offsets->elems[i].partition,
                     rd_kafka_err2str(offsets->elems[i].err));
        }
    }

    if (race_log_level > RACE_LOG_DEBUG) {
        return;
    }

    race_queue_kafka_parts(offsets, list, sizeof(list));
    race_log(RACE_LOG_DEBUG, "kafka: committed %s", list);
}


/* "topic[0@12,1@40]", cut to fit; offsets only when they are set */

static void
race_queue_kafka_parts(const rd_kafka_topic_partition_list_t *l, char *buf,
    size_t size)
{
    int          i, n;
    size_t       len;
    const char  *topic;

    len = 0;
    buf[0] = '\0';
    topic = NULL;

    if (l == NULL || l->cnt == 0) {
        snprintf(buf, size, "no partitions");
        return;
    }

    for (i = 0; i < l->cnt && len < size; i++) {
        if (topic == NULL || strcmp(topic, l->elems[i].topic) != 0) {
            n = snprintf(buf + len, size - len, "%s%s[", topic ? "] " : "",
                         l->elems[i].topic);
            topic = l->elems[i].topic;

        } else {
            n = snprintf(buf + len, size - len, ",");
        }

        if (n < 0) {
            return;
        }

        len += n;

        if (len >= size) {
            break;
        }

        if (l->elems[i].offset >= 0) {
            n = snprintf(buf + len, size - len, "%d@%" PRId64,
                         (int) l->elems[i].partition, l->elems[i].offset);

        } else {
            n = snprintf(buf + len, size - len, "%d",
                         (int) l->elems[i].partition);
        }

        if (n < 0) {
            return;
        }

        len += n;
    }

    if (len < size) {
        snprintf(buf + len, size - len, "]");
    }
}


/*
 * The offset after a partition's handled messages: stored by
 * commit(), or, from poll(), the offset of the first message of a
 * partition not seen before (what precedes it was handled by whoever
 * committed it).
 */

static void
race_queue_kafka_store(race_queue_kafka_t *kq, int32_t partition,
    int64_t offset, int stored)
{
    size_t                      i, size;
    race_queue_kafka_stored_t  *p;

    for (i = 0; i < kq->nstored; i++) {
        if (kq->stored[i].partition == partition) {
            if (stored) {
                kq->stored[i].offset = offset;
            }

            return;
        }
    }

    if (kq->nstored == kq->stored_size) {
        size = kq->stored_size ? kq->stored_size * 2 : 16;

        p = realloc(kq->stored, size * sizeof(race_queue_kafka_stored_t));
        if (p == NULL) {
            /* the lag is shown from the position instead */
            return;
        }

        kq->stored = p;
        kq->stored_size = size;
    }

    kq->stored[kq->nstored].partition = partition;
    kq->stored[kq->nstored].offset = offset;
    kq->nstored++;
}


static void
race_queue_kafka_forget(race_queue_kafka_t *kq,
    const rd_kafka_topic_partition_list_t *parts)
{
    int     j;
    size_t  i;

    for (j = 0; parts != NULL && j < parts->cnt; j++) {
        for (i = 0; i < kq->nstored; i++) {
            if (kq->stored[i].partition == parts->elems[j].partition) {
                kq->stored[i] = kq->stored[--kq->nstored];
                break;
            }
        }
    }
}


/*
 * The lag of each partition we hold: its high watermark, as librdkafka
 * last heard it from a fetch (no request is made), less the offset
 * after the last message written and stored (race_queue_kafka_store);
 * before any message of it came, the consumer's position, or 0 if it is
 * empty.  From the main loop's turns, so that it goes on growing while
 * a server is down and the batch in hand is retried.
 */

static void
race_queue_kafka_lag(void *data)
{
    int                               i;
    size_t                            n, k;
    int64_t                           lo, hi, off;
    race_metrics_lag_t                lag[RACE_METRICS_LAG_MAX];
    race_queue_kafka_t               *kq = data;
    rd_kafka_resp_err_t               err;
    rd_kafka_topic_partition_t       *p;
    rd_kafka_topic_partition_list_t  *parts;

    if (kq->rk == NULL) {
        return;
    }

    err = rd_kafka_assignment(kq->rk, &parts);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return;
    }

    /* the positions are the consumer's own: no request either */
    (void) rd_kafka_position(kq->rk, parts);

    n = 0;

    for (i = 0; i < parts->cnt && n < RACE_METRICS_LAG_MAX; i++) {
        p = &parts->elems[i];

        if (rd_kafka_get_watermark_offsets(kq->rk, p->topic, p->partition,
                                           &lo, &hi)
            != RD_KAFKA_RESP_ERR_NO_ERROR
            || hi < 0)
        {
            continue;
        }

        off = p->err == RD_KAFKA_RESP_ERR_NO_ERROR ? p->offset : -1;

        for (k = 0; k < kq->nstored; k++) {
            if (kq->stored[k].partition == p->partition) {
                off = kq->stored[k].offset;
                break;
            }
        }

        if (off < 0 && lo == hi) {
            off = hi;
        }

        if (off < 0) {
            /* not known yet: not shown rather than shown wrong */
            continue;
        }

        lag[n].partition = p->partition;
        lag[n].lag = hi > off ? hi - off : 0;
        n++;
    }

    rd_kafka_topic_partition_list_destroy(parts);

    race_metrics_lag(kq->conf.topic, lag, n);
}
