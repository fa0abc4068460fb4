
/*
 * ngx_race workers: the queue on Kafka, a librdkafka high-level consumer
 * in a consumer group, a static member of it (KIP-345) unless its
 * instance id is "none": a daemon that restarts under the same id, even
 * after a crash, gets its partitions back at once, without waiting for
 * the session timeout of the process it replaces, nor a rebalance.  Two
 * running consumers with one id fence each other: the newer one takes
 * the id, the older one stops with a fatal error.
 */


#ifndef _RACE_QUEUE_KAFKA_H_INCLUDED_
#define _RACE_QUEUE_KAFKA_H_INCLUDED_


#include <stddef.h>

#include "race_queue.h"


typedef struct {
    const char         *brokers;
    const char         *topic;
    const char         *group;
    const char         *client_id;
    const char         *instance_id;            /* "auto", "none" or one */
    int                 commit_interval_ms;
    int                 session_timeout_ms;
    int                 log_level;              /* RACE_LOG_* */
} race_queue_kafka_conf_t;


/*
 * Subscribes to conf->topic in conf->group; the connections are made in
 * the background.  NULL on failure, logged.  drain is called before
 * partitions are given up (see race_queue.h).
 */
race_queue_t *race_queue_kafka_open(const race_queue_kafka_conf_t *conf,
    race_queue_drain_pt drain, void *data);

/* settings checks (race_conf_check_pt): Kafka's topic names */
int race_queue_kafka_check_topic(const char *value, char *reason,
    size_t size);

/*
 * ... and group instance ids: "auto" is "<hostname>.<client_id>", "none"
 * is no static membership, anything else is the id itself.
 */
int race_queue_kafka_check_instance(const char *value, char *reason,
    size_t size);


#endif /* _RACE_QUEUE_KAFKA_H_INCLUDED_ */
