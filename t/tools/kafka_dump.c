
/*
 * kafka_dump BOOTSTRAP TOPIC: prints every message of the topic, from
 * the beginning to its current end, as "key<TAB>value" lines, then
 * "count N".  Bounded: gives up after 30 s.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>


#define DUMP_SECONDS  30


static int
set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char  err[256];

    if (rd_kafka_conf_set(conf, name, value, err, sizeof(err))
        != RD_KAFKA_CONF_OK)
    {
        fprintf(stderr, "kafka_dump: %s: %s\n", name, err);
        return -1;
    }

    return 0;
}


int
main(int argc, char **argv)
{
    int                                      i, done, count, parts;
    char                                     err[256], group[64];
    time_t                                   deadline;
    int64_t                                  lo, hi, *end;
    rd_kafka_t                              *rk;
    rd_kafka_topic_t                        *rkt;
    rd_kafka_conf_t                         *conf;
    rd_kafka_message_t                      *msg;
    const rd_kafka_metadata_t               *md;
    rd_kafka_topic_partition_list_t         *list;

    if (argc != 3) {
        fprintf(stderr, "usage: kafka_dump BOOTSTRAP TOPIC\n");
        return 2;
    }

    snprintf(group, sizeof(group), "kafka-dump-%ld-%d", (long) time(NULL),
             (int) (clock() & 0xffff));

    conf = rd_kafka_conf_new();

    if (set(conf, "bootstrap.servers", argv[1]) != 0
        || set(conf, "group.id", group) != 0
        || set(conf, "enable.auto.commit", "false") != 0
        || set(conf, "isolation.level", "read_committed") != 0)
    {
        return 1;
    }

    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "kafka_dump: %s\n", err);
        return 1;
    }

    rkt = rd_kafka_topic_new(rk, argv[2], NULL);
    if (rkt == NULL) {
        return 1;
    }

    md = NULL;

    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000)
        != RD_KAFKA_RESP_ERR_NO_ERROR
        || md->topic_cnt != 1 || md->topics[0].err)
    {
        fprintf(stderr, "kafka_dump: no topic \"%s\"\n", argv[2]);
        printf("count 0\n");

        if (md) {
            rd_kafka_metadata_destroy(md);
        }

        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return 0;
    }

    rd_kafka_topic_destroy(rkt);

    parts = md->topics[0].partition_cnt;
    end = calloc(parts, sizeof(int64_t));
    list = rd_kafka_topic_partition_list_new(parts);

    if (end == NULL || list == NULL) {
        return 1;
    }

    for (i = 0; i < parts; i++) {
        if (rd_kafka_query_watermark_offsets(rk, argv[2], i, &lo, &hi, 10000)
            != RD_KAFKA_RESP_ERR_NO_ERROR)
        {
            fprintf(stderr, "kafka_dump: watermarks of partition %d\n", i);
            return 1;
        }

        /* 0: nothing (more) to read there */
        end[i] = (hi > lo) ? hi : 0;
        rd_kafka_topic_partition_list_add(list, argv[2], i)->offset = lo;
    }

    rd_kafka_metadata_destroy(md);

    if (rd_kafka_assign(rk, list) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "kafka_dump: assign failed\n");
        return 1;
    }

    rd_kafka_topic_partition_list_destroy(list);

    count = 0;
    deadline = time(NULL) + DUMP_SECONDS;

    for ( ;; ) {
        done = 1;

        for (i = 0; i < parts; i++) {
            if (end[i] > 0) {
                done = 0;
            }
        }

        if (done || time(NULL) > deadline) {
            break;
        }

        msg = rd_kafka_consumer_poll(rk, 500);
        if (msg == NULL) {
            continue;
        }

        if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            printf("%.*s\t%.*s\n", (int) msg->key_len, (char *) msg->key,
                   (int) msg->len, (char *) msg->payload);
            count++;

            if (msg->offset + 1 >= end[msg->partition]) {
                end[msg->partition] = 0;
            }
        }

        rd_kafka_message_destroy(msg);
    }

    printf("count %d\n", count);

    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(end);

    return done ? 0 : 1;
}
