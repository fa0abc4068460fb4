
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


/* the queue of ngx_http_race.h, on Kafka: "ok" means acks=all */
extern const ngx_http_race_queue_t  ngx_http_race_kafka_queue;


/* checks a librdkafka property at "nginx -t" time */
char *ngx_http_race_kafka_check_option(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *value);

#if (NGX_HTTP_RACE_TEST)
/* race_kafka_test_fatal: raises a fatal producer error (test builds) */
ngx_int_t ngx_http_race_kafka_test_fatal_handler(ngx_http_request_t *r);
#endif


#endif /* _NGX_HTTP_RACE_KAFKA_H_INCLUDED_ */
