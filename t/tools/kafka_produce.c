/*
 * kafka_produce: messages from stdin to a Kafka topic, for the tests.
 *
 *     kafka_produce BOOTSTRAP TOPIC < lines
 *
 * Each line of stdin is "KEY<TAB>VALUE" and becomes one message (an empty
 * KEY: no key).  Lines are produced as they are read, so a test can feed
 * them slowly through a pipe.  The producer is idempotent with acks=all;
 * at the end it waits for every delivery report.
 *
 * It prints "delivered N" and exits 0 only when every line was delivered;
 * 1 if some were not, 2 on bad usage or a line without a TAB.  Every wait
 * is bounded.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>


#define PRODUCE_TIMEOUT_MS   30000
#define PRODUCE_FLUSH_MS     60000
#define PRODUCE_POLL_MS      100


typedef struct {
    long                 delivered;
    long                 failed;
    rd_kafka_resp_err_t  first_err;
} produce_dr_t;


static int64_t produce_now_ms(void);
static int produce_set(rd_kafka_conf_t *conf, const char *name,
    const char *value);
static void produce_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m,
    void *opaque);


int
main(int argc, char **argv)
{
    int                  rc;
    char                *line, *tab, errstr[512];
    long                 lineno, produced;
    size_t               cap, len;
    ssize_t              n;
    int64_t              deadline;
    rd_kafka_t          *rk;
    produce_dr_t         dr;
    rd_kafka_conf_t     *conf;
    rd_kafka_resp_err_t  err;

    if (argc != 3) {
        fprintf(stderr, "usage: %s BOOTSTRAP TOPIC < KEY<TAB>VALUE lines\n",
                argv[0]);
        return 2;
    }

    memset(&dr, 0, sizeof(produce_dr_t));

    conf = rd_kafka_conf_new();
    if (conf == NULL) {
        fprintf(stderr, "kafka_produce: rd_kafka_conf_new failed\n");
        return 1;
    }

    if (produce_set(conf, "bootstrap.servers", argv[1]) != 0
        || produce_set(conf, "enable.idempotence", "true") != 0
        || produce_set(conf, "acks", "all") != 0
        || produce_set(conf, "linger.ms", "5") != 0
        || produce_set(conf, "message.timeout.ms", "30000") != 0)
    {
        rd_kafka_conf_destroy(conf);
        return 1;
    }

    rd_kafka_conf_set_dr_msg_cb(conf, produce_dr_cb);
    rd_kafka_conf_set_opaque(conf, &dr);

    /* rd_kafka_new() owns conf from here on, but only if it succeeds */
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "kafka_produce: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }

    line = NULL;
    cap = 0;
    lineno = 0;
    produced = 0;
    rc = 0;

    while ((n = getline(&line, &cap, stdin)) > 0) {
        lineno++;
        len = (size_t) n;

        if (line[len - 1] == '\n') {
            line[--len] = '\0';
        }

        tab = memchr(line, '\t', len);
        if (tab == NULL) {
            fprintf(stderr, "kafka_produce: line %ld has no TAB\n", lineno);
            rc = 2;
            break;
        }

        deadline = produce_now_ms() + PRODUCE_TIMEOUT_MS;

        for ( ;; ) {
            err = rd_kafka_producev(rk,
                                    RD_KAFKA_V_TOPIC(argv[2]),
                                    RD_KAFKA_V_KEY(tab == line ? NULL : line,
                                                   (size_t) (tab - line)),
                                    RD_KAFKA_V_VALUE(tab + 1,
                                                     len - (tab + 1 - line)),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_END);

            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL
                || produce_now_ms() > deadline)
            {
                break;
            }

            rd_kafka_poll(rk, PRODUCE_POLL_MS);
        }

        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "kafka_produce: line %ld: %s\n", lineno,
                    rd_kafka_err2str(err));
            rc = 1;
            break;
        }

        produced++;
        rd_kafka_poll(rk, 0);
    }

    free(line);

    err = rd_kafka_flush(rk, PRODUCE_FLUSH_MS);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "kafka_produce: flush: %s, %d not delivered\n",
                rd_kafka_err2str(err), rd_kafka_outq_len(rk));
        rc = rc ? rc : 1;
    }

    if (rd_kafka_fatal_error(rk, errstr, sizeof(errstr))
        != RD_KAFKA_RESP_ERR_NO_ERROR)
    {
        fprintf(stderr, "kafka_produce: fatal error: %s\n", errstr);
        rc = rc ? rc : 1;
    }

    if (dr.failed > 0) {
        fprintf(stderr, "kafka_produce: %ld not delivered: %s\n", dr.failed,
                rd_kafka_err2str(dr.first_err));
        rc = rc ? rc : 1;
    }

    if (rc == 0 && dr.delivered != produced) {
        fprintf(stderr, "kafka_produce: %ld of %ld delivered\n",
                dr.delivered, produced);
        rc = 1;
    }

    printf("delivered %ld\n", dr.delivered);

    rd_kafka_destroy(rk);

    return rc;
}


static int64_t
produce_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static int
produce_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char  errstr[512];

    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr))
        != RD_KAFKA_CONF_OK)
    {
        fprintf(stderr, "kafka_produce: %s: %s\n", name, errstr);
        return -1;
    }

    return 0;
}


static void
produce_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    produce_dr_t  *dr = opaque;

    (void) rk;

    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (dr->failed++ == 0) {
            dr->first_err = m->err;
        }

        return;
    }

    dr->delivered++;
}
