
/*
 * ngx_race: the Kafka producer of a worker process, on nginx's event
 * loop.
 */


#ifndef _NGX_HTTP_RACE_KAFKA_H_INCLUDED_
#define _NGX_HTTP_RACE_KAFKA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race.h"


/*
 * Called on the event loop with the opaque given to produce, once per
 * message: ok is 1 when the brokers have it (acks=all), 0 when it was
 * not delivered and never will be.
 */
typedef void (*ngx_http_race_kafka_delivered_pt)(void *opaque, ngx_uint_t ok);


/* checks a librdkafka property at "nginx -t" time */
char *ngx_http_race_kafka_check_option(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *value);

ngx_int_t ngx_http_race_kafka_init_process(ngx_cycle_t *cycle,
    ngx_http_race_main_conf_t *rmcf, ngx_http_race_kafka_delivered_pt done);
void ngx_http_race_kafka_exit_process(ngx_cycle_t *cycle);

/*
 * Queues a message.  On NGX_OK the producer owns payload (it was
 * allocated with ngx_alloc() and is freed after delivery) and will call
 * the delivered callback with opaque.  On NGX_ERROR or NGX_BUSY (the
 * producer's queue is full) nothing was taken: the caller still owns
 * payload and opaque.
 */
ngx_int_t ngx_http_race_kafka_produce(const u_char *key, size_t key_len,
    u_char *payload, size_t len, void *opaque, ngx_log_t *log);


#endif /* _NGX_HTTP_RACE_KAFKA_H_INCLUDED_ */
