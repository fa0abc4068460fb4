/*
 * kafka_committed: the offsets a consumer group has committed, for the
 * tests.
 *
 *     kafka_committed BOOTSTRAP GROUP TOPIC
 *
 * Prints "PARTITION OFFSET" for each partition of TOPIC (-1 when the
 * group committed nothing there), then "total N", the sum of the
 * committed offsets: with one producer and no transactions, the number
 * of messages the group is done with.  It only asks (OffsetFetch): it
 * does not join the group, so it disturbs no member.
 *
 * Exits 0, 1 when the broker cannot tell, 2 on bad usage.  Every wait is
 * bounded.
 */

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>


#define COMMITTED_TIMEOUT_MS  10000


static int committed_set(rd_kafka_conf_t *conf, const char *name,
    const char *value);


int
main(int argc, char **argv)
{
    int                               i, rc, nparts;
    char                              errstr[512];
    int64_t                           total, off;
    rd_kafka_t                       *rk;
    rd_kafka_conf_t                  *conf;
    rd_kafka_topic_t                 *rkt;
    rd_kafka_resp_err_t               err;
    const rd_kafka_metadata_t        *md;
    rd_kafka_topic_partition_list_t  *parts;

    if (argc != 4) {
        fprintf(stderr, "usage: %s BOOTSTRAP GROUP TOPIC\n", argv[0]);
        return 2;
    }

    conf = rd_kafka_conf_new();
    if (conf == NULL) {
        fprintf(stderr, "kafka_committed: rd_kafka_conf_new failed\n");
        return 1;
    }

    if (committed_set(conf, "bootstrap.servers", argv[1]) != 0
        || committed_set(conf, "group.id", argv[2]) != 0
        || committed_set(conf, "enable.auto.commit", "false") != 0)
    {
        rd_kafka_conf_destroy(conf);
        return 1;
    }

    /* rd_kafka_new() owns conf from here on, but only if it succeeds */
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "kafka_committed: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }

    rc = 1;
    parts = NULL;

    rkt = rd_kafka_topic_new(rk, argv[3], NULL);
    if (rkt == NULL) {
        fprintf(stderr, "kafka_committed: topic: %s\n",
                rd_kafka_err2str(rd_kafka_last_error()));
        goto done;
    }

    err = rd_kafka_metadata(rk, 0, rkt, &md, COMMITTED_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);

    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "kafka_committed: metadata: %s\n",
                rd_kafka_err2str(err));
        goto done;
    }

    if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
    {
        fprintf(stderr, "kafka_committed: topic %s: %s\n", argv[3],
                md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err)
                                   : "not in the metadata");
        rd_kafka_metadata_destroy(md);
        goto done;
    }

    nparts = md->topics[0].partition_cnt;
    parts = rd_kafka_topic_partition_list_new(nparts);

    for (i = 0; i < nparts; i++) {
        rd_kafka_topic_partition_list_add(parts, argv[3],
                                          md->topics[0].partitions[i].id);
    }

    rd_kafka_metadata_destroy(md);

    err = rd_kafka_committed(rk, parts, COMMITTED_TIMEOUT_MS);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "kafka_committed: %s\n", rd_kafka_err2str(err));
        goto done;
    }

    total = 0;

    for (i = 0; i < parts->cnt; i++) {
        if (parts->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "kafka_committed: partition %d: %s\n",
                    (int) parts->elems[i].partition,
                    rd_kafka_err2str(parts->elems[i].err));
            goto done;
        }

        off = parts->elems[i].offset;
        printf("%d %" PRId64 "\n", (int) parts->elems[i].partition,
               off >= 0 ? off : -1);

        if (off > 0) {
            total += off;
        }
    }

    printf("total %" PRId64 "\n", total);
    rc = 0;

done:

    if (parts != NULL) {
        rd_kafka_topic_partition_list_destroy(parts);
    }

    rd_kafka_destroy(rk);

    return rc;
}


static int
committed_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char  errstr[512];

    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr))
        != RD_KAFKA_CONF_OK)
    {
        fprintf(stderr, "kafka_committed: %s: %s\n", name, errstr);
        return -1;
    }

    return 0;
}
