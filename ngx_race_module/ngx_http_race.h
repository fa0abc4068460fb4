
/*
 * ngx_race: types shared by the files of ngx_http_race_module.
 */


#ifndef _NGX_HTTP_RACE_H_INCLUDED_
#define _NGX_HTTP_RACE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#include "ngx_http_race_jwt.h"


/* what a worker process holds once: producer, Redis, keys */
typedef struct {
    ngx_str_t         kafka_brokers;
    ngx_str_t         kafka_topic;
    ngx_array_t      *kafka_options;    /* of ngx_keyval_t */
    ngx_array_t      *token_keys;       /* of race_jwt_key_t */
    ngx_url_t        *redis;
    ngx_uint_t        ingest;           /* locations with race_ingest */
    ngx_uint_t        live;             /* locations with race_live */
} ngx_http_race_main_conf_t;


typedef struct {
    ngx_array_t      *ws_origins;       /* of ngx_str_t; NULL: any origin */
    size_t            ws_max_message;
    ngx_uint_t        ws_send_queue;    /* frames queued per connection */
    ngx_msec_t        ws_ping_interval; /* 0: no server pings */
    ngx_msec_t        ws_idle_timeout;
    ngx_msec_t        ws_close_timeout;

    ngx_uint_t        ride_max_batch;
    ngx_msec_t        fix_max_future;
    ngx_msec_t        fix_max_past;
} ngx_http_race_loc_conf_t;


/*
 * Where /ride's fixes go: a queue with delivery reports.  Kafka is the
 * one there is; a single-machine mode (Redis Streams) plugs in here.
 * delivered() is called on the event loop once per message produced:
 * ok 1 when the queue has it durably, 0 when it never will.
 */
typedef void (*ngx_http_race_delivered_pt)(void *opaque, ngx_uint_t ok);

typedef struct {
    const char         *name;
    ngx_int_t         (*init_process)(ngx_cycle_t *cycle,
                                      ngx_http_race_main_conf_t *rmcf,
                                      ngx_http_race_delivered_pt delivered);
    void              (*exit_process)(ngx_cycle_t *cycle);

    /*
     * NGX_OK: the queue owns payload (from ngx_alloc()) and will report
     * on opaque; NGX_BUSY or NGX_ERROR: nothing was taken.
     */
    ngx_int_t         (*produce)(const u_char *key, size_t key_len,
                                 u_char *payload, size_t len, void *opaque,
                                 ngx_log_t *log);
} ngx_http_race_queue_t;


extern ngx_module_t  ngx_http_race_module;


ngx_int_t ngx_http_race_add_header(ngx_http_request_t *r, char *key,
    char *value);

/*
 * Sends {"error":{"code":..,"message":..}} with the status; returns what
 * a content handler returns.
 */
ngx_int_t ngx_http_race_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message);


#endif /* _NGX_HTTP_RACE_H_INCLUDED_ */
