/*
 * kafka_smoke: one round trip through a real Kafka broker with librdkafka.
 *
 *     kafka_smoke BOOTSTRAP TOPIC [COUNT]
 *
 * Produces COUNT messages (default 100) with an idempotent producer and
 * acks=all.  They all carry a key made for this run, so they land on one
 * partition in the order they were sent.  Then it reads the topic from the
 * start in a consumer group of its own until this run's messages are back
 * and every assigned partition is at its end.
 *
 * It prints "produced N", "consumed N" and "earlier N" (messages of earlier
 * runs still in the topic, which tells a test that a restarted broker kept
 * its data), and exits 0 only when all COUNT messages came back, once each
 * and in order.  Every wait is bounded.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>


#define SMOKE_DEFAULT_COUNT      100
#define SMOKE_MAX_COUNT          1000000
#define SMOKE_MAX_PARTITIONS     1024
#define SMOKE_PRODUCE_TIMEOUT_MS 30000
#define SMOKE_CONSUME_TIMEOUT_MS 60000
#define SMOKE_POLL_MS            100


typedef struct {
    long                 delivered;
    rd_kafka_resp_err_t  first_err;
} smoke_dr_t;


typedef struct {
    const char          *key;
    size_t               key_len;
    long                 count;

    long                 consumed;     /* this run's messages, in order */
    long                 earlier;      /* other runs' messages */
    long                 next_seq;
    int                  bad;          /* a gap, duplicate or garbage */

    unsigned char        eof[SMOKE_MAX_PARTITIONS];
} smoke_consume_t;


static int64_t smoke_now_ms(void);
static void smoke_fail(const char *fmt, ...);
static rd_kafka_conf_t *smoke_conf(const char *bootstrap, const char **kv);
static void smoke_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m,
    void *opaque);
static int smoke_produce(const char *bootstrap, const char *topic,
    const char *key, long count);
static int smoke_consume(const char *bootstrap, const char *topic,
    smoke_consume_t *sc);
static void smoke_message(smoke_consume_t *sc, const rd_kafka_message_t *m);
static int smoke_at_end(rd_kafka_t *rk, smoke_consume_t *sc);


int
main(int argc, char **argv)
{
    char             *end, key[64];
    long              count;
    smoke_consume_t  *sc;

    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s BOOTSTRAP TOPIC [COUNT]\n", argv[0]);
        return 2;
    }

    count = SMOKE_DEFAULT_COUNT;

    if (argc == 4) {
        errno = 0;
        count = strtol(argv[3], &end, 10);

        if (errno != 0 || *end != '\0' || count < 1
            || count > SMOKE_MAX_COUNT)
        {
            fprintf(stderr, "kafka_smoke: bad COUNT \"%s\"\n", argv[3]);
            return 2;
        }
    }

    /* a key no earlier run used: pid and wall clock */
    snprintf(key, sizeof(key), "smoke-%ld-%lld", (long) getpid(),
             (long long) time(NULL));

    printf("# librdkafka %s, key %s\n", rd_kafka_version_str(), key);
    fflush(stdout);

    if (smoke_produce(argv[1], argv[2], key, count) != 0) {
        return 1;
    }

    sc = calloc(1, sizeof(smoke_consume_t));
    if (sc == NULL) {
        smoke_fail("calloc failed");
        return 1;
    }

    sc->key = key;
    sc->key_len = strlen(key);
    sc->count = count;

    if (smoke_consume(argv[1], argv[2], sc) != 0) {
        free(sc);
        return 1;
    }

    free(sc);

    printf("ok\n");
    return 0;
}


static int64_t
smoke_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static void
smoke_fail(const char *fmt, ...)
{
    va_list  ap;

    printf("error: ");

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);

    printf("\n");
    fflush(stdout);
}


/* kv is a NULL-terminated list of name, value pairs */

static rd_kafka_conf_t *
smoke_conf(const char *bootstrap, const char **kv)
{
    char              errstr[512];
    rd_kafka_conf_t  *conf;

    conf = rd_kafka_conf_new();
    if (conf == NULL) {
        smoke_fail("rd_kafka_conf_new failed");
        return NULL;
    }

    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                          sizeof(errstr))
        != RD_KAFKA_CONF_OK)
    {
        smoke_fail("bootstrap.servers: %s", errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }

    for ( /* void */ ; kv[0] != NULL; kv += 2) {
        if (rd_kafka_conf_set(conf, kv[0], kv[1], errstr, sizeof(errstr))
            != RD_KAFKA_CONF_OK)
        {
            smoke_fail("%s: %s", kv[0], errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }

    return conf;
}


static void
smoke_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    smoke_dr_t  *dr = opaque;

    (void) rk;

    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (dr->first_err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            dr->first_err = m->err;
        }

        return;
    }

    dr->delivered++;
}


static int
smoke_produce(const char *bootstrap, const char *topic, const char *key,
    long count)
{
    int                  len, rc;
    long                 i;
    char                 errstr[512], value[96];
    int64_t              deadline, left;
    smoke_dr_t           dr;
    rd_kafka_t          *rk;
    rd_kafka_conf_t     *conf;
    rd_kafka_resp_err_t  err;

    static const char  *kv[] = {
        "enable.idempotence", "true",
        "acks", "all",
        "linger.ms", "5",
        "message.timeout.ms", "25000",
        NULL
    };

    memset(&dr, 0, sizeof(smoke_dr_t));

    conf = smoke_conf(bootstrap, kv);
    if (conf == NULL) {
        return -1;
    }

    rd_kafka_conf_set_dr_msg_cb(conf, smoke_dr_cb);
    rd_kafka_conf_set_opaque(conf, &dr);

    /* rd_kafka_new() owns conf from here on, but only if it succeeds */
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        smoke_fail("producer: %s", errstr);
        rd_kafka_conf_destroy(conf);
        return -1;
    }

    deadline = smoke_now_ms() + SMOKE_PRODUCE_TIMEOUT_MS;
    rc = -1;

    for (i = 0; i < count; /* void */) {
        len = snprintf(value, sizeof(value), "%s %ld", key, i);

        err = rd_kafka_producev(rk,
                                RD_KAFKA_V_TOPIC(topic),
                                RD_KAFKA_V_KEY(key, strlen(key)),
                                RD_KAFKA_V_VALUE(value, (size_t) len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_END);

        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            if (smoke_now_ms() > deadline) {
                smoke_fail("produce: queue stays full");
                goto done;
            }

            rd_kafka_poll(rk, SMOKE_POLL_MS);
            continue;
        }

        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            smoke_fail("produce: %s", rd_kafka_err2str(err));
            goto done;
        }

        rd_kafka_poll(rk, 0);
        i++;
    }

    left = deadline - smoke_now_ms();
    if (left < 1) {
        left = 1;
    }

    err = rd_kafka_flush(rk, (int) left);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        smoke_fail("flush: %s, %d not delivered", rd_kafka_err2str(err),
                   rd_kafka_outq_len(rk));
        goto done;
    }

    err = rd_kafka_fatal_error(rk, errstr, sizeof(errstr));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        smoke_fail("producer fatal error: %s", errstr);
        goto done;
    }

    if (dr.first_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        smoke_fail("delivery: %s", rd_kafka_err2str(dr.first_err));
        goto done;
    }

    rc = 0;

done:

    printf("produced %ld\n", dr.delivered);
    fflush(stdout);

    rd_kafka_destroy(rk);

    if (rc == 0 && dr.delivered != count) {
        smoke_fail("%ld of %ld delivered", dr.delivered, count);
        rc = -1;
    }

    return rc;
}


static int
smoke_consume(const char *bootstrap, const char *topic, smoke_consume_t *sc)
{
    int                              rc;
    char                             errstr[512];
    int64_t                          deadline;
    rd_kafka_t                      *rk;
    rd_kafka_conf_t                 *conf;
    rd_kafka_message_t              *m;
    rd_kafka_resp_err_t              err;
    rd_kafka_topic_partition_list_t *topics;

    const char  *kv[] = {
        "group.id", sc->key,
        "auto.offset.reset", "earliest",
        "enable.partition.eof", "true",
        "enable.auto.commit", "false",
        "session.timeout.ms", "6000",
        "fetch.wait.max.ms", "100",
        NULL
    };

    conf = smoke_conf(bootstrap, kv);
    if (conf == NULL) {
        return -1;
    }

    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        smoke_fail("consumer: %s", errstr);
        rd_kafka_conf_destroy(conf);
        return -1;
    }

    /* one queue for everything: events arrive via consumer_poll() */
    err = rd_kafka_poll_set_consumer(rk);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        smoke_fail("poll_set_consumer: %s", rd_kafka_err2str(err));
        rd_kafka_destroy(rk);
        return -1;
    }

    topics = rd_kafka_topic_partition_list_new(1);
    if (topics == NULL) {
        smoke_fail("topic_partition_list_new failed");
        rd_kafka_destroy(rk);
        return -1;
    }

    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);

    err = rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);

    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        smoke_fail("subscribe: %s", rd_kafka_err2str(err));
        rd_kafka_destroy(rk);
        return -1;
    }

    deadline = smoke_now_ms() + SMOKE_CONSUME_TIMEOUT_MS;
    rc = -1;

    while (smoke_now_ms() < deadline) {
        m = rd_kafka_consumer_poll(rk, SMOKE_POLL_MS);

        if (m != NULL) {
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (m->partition >= 0
                    && m->partition < SMOKE_MAX_PARTITIONS)
                {
                    sc->eof[m->partition] = 1;
                }

            } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                /* librdkafka retries these itself; show them, go on */
                printf("# consumer: %s\n", rd_kafka_message_errstr(m));

            } else {
                smoke_message(sc, m);
            }

            rd_kafka_message_destroy(m);
        }

        if (sc->bad) {
            break;
        }

        if (sc->consumed == sc->count && smoke_at_end(rk, sc)) {
            rc = 0;
            break;
        }
    }

    printf("consumed %ld\n", sc->consumed);
    printf("earlier %ld\n", sc->earlier);
    fflush(stdout);

    if (rc != 0 && !sc->bad) {
        smoke_fail("timed out: %ld of %ld back", sc->consumed, sc->count);
    }

    err = rd_kafka_consumer_close(rk);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        printf("# consumer_close: %s\n", rd_kafka_err2str(err));
    }

    rd_kafka_destroy(rk);

    return rc;
}


static void
smoke_message(smoke_consume_t *sc, const rd_kafka_message_t *m)
{
    char        *end, buf[96];
    long         seq;
    const char  *p;

    if (m->partition >= 0 && m->partition < SMOKE_MAX_PARTITIONS) {
        sc->eof[m->partition] = 0;
    }

    if (m->key == NULL || m->key_len != sc->key_len
        || memcmp(m->key, sc->key, sc->key_len) != 0)
    {
        sc->earlier++;
        return;
    }

    /* value is "KEY SEQ" */
    if (m->len <= sc->key_len + 1 || m->len >= sizeof(buf)) {
        smoke_fail("garbled value of %zu bytes at offset %lld", m->len,
                   (long long) m->offset);
        sc->bad = 1;
        return;
    }

    memcpy(buf, m->payload, m->len);
    buf[m->len] = '\0';

    p = buf + sc->key_len;

    if (memcmp(buf, sc->key, sc->key_len) != 0 || *p != ' ') {
        smoke_fail("garbled value \"%s\"", buf);
        sc->bad = 1;
        return;
    }

    errno = 0;
    seq = strtol(p + 1, &end, 10);

    if (errno != 0 || *end != '\0') {
        smoke_fail("garbled value \"%s\"", buf);
        sc->bad = 1;
        return;
    }

    if (seq != sc->next_seq) {
        smoke_fail("expected message %ld, got %ld (partition %d, "
                   "offset %lld)", sc->next_seq, seq, (int) m->partition,
                   (long long) m->offset);
        sc->bad = 1;
        return;
    }

    sc->next_seq++;
    sc->consumed++;
}


/* true once every partition assigned to us has reported its end */

static int
smoke_at_end(rd_kafka_t *rk, smoke_consume_t *sc)
{
    int                               i, at_end, p;
    rd_kafka_resp_err_t               err;
    rd_kafka_topic_partition_list_t  *parts;

    err = rd_kafka_assignment(rk, &parts);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return 0;
    }

    at_end = parts->cnt > 0;

    for (i = 0; i < parts->cnt; i++) {
        p = parts->elems[i].partition;

        if (p < 0 || p >= SMOKE_MAX_PARTITIONS || !sc->eof[p]) {
            at_end = 0;
            break;
        }
    }

    rd_kafka_topic_partition_list_destroy(parts);

    return at_end;
}
