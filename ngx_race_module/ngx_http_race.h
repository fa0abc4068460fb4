
/*
 * ngx_race: types shared by the files of ngx_http_race_module.
 */


#ifndef _NGX_HTTP_RACE_H_INCLUDED_
#define _NGX_HTTP_RACE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#include <ngx_thread_pool.h>

#include "race_jwt.h"
#include "race_password.h"


/* what a worker process holds once: producer, Redis, keys */
typedef struct {
    ngx_str_t         kafka_brokers;
    ngx_str_t         kafka_topic;
    ngx_str_t         kafka_accounts_topic;
    ngx_array_t      *kafka_options;    /* of ngx_keyval_t */
    ngx_array_t      *token_keys;       /* of race_jwt_key_t */
    ngx_url_t        *redis;
    ngx_msec_t        redis_timeout;    /* a silent connection is dropped */
    ngx_uint_t        ingest;           /* locations with race_ingest */
    ngx_uint_t        live;             /* locations with race_live */
    ngx_uint_t        api;              /* locations with race_api */

    /* accounts */
    ngx_str_t         thread_pool_name;
    ngx_thread_pool_t *thread_pool;     /* hashes passwords */
    ngx_uint_t        max_hashes;       /* at once, per worker */
    ngx_msec_t        token_ttl;
    ngx_msec_t        reply_timeout;    /* of race-accounts */
    ngx_flag_t        cookie_secure;
    ngx_str_t         passwords_file;
    race_password_list_t  passwords;    /* the common ones, refused */
} ngx_http_race_main_conf_t;


typedef struct {
    ngx_array_t      *ws_origins;       /* of ngx_str_t; NULL: any origin */
    size_t            ws_max_message;
    ngx_uint_t        ws_send_queue;    /* frames queued per connection */
    ngx_msec_t        ws_ping_interval; /* 0: no server pings */
    ngx_msec_t        ws_idle_timeout;
    ngx_msec_t        ws_close_timeout;

    ngx_uint_t        ride_max_batch;
    ngx_uint_t        ride_max_in_flight;       /* fixes, per phone */
    size_t            ride_max_in_flight_size;  /* their Kafka bytes */
    ngx_msec_t        fix_max_future;
    ngx_msec_t        fix_max_past;

    /* a race endpoint, or inside one: nginx's own errors in JSON too */
    ngx_flag_t        json_errors;
} ngx_http_race_loc_conf_t;


/*
 * Where fixes and account commands go: a queue with delivery reports.
 * Kafka is the one there is; a single-machine mode (Redis Streams) plugs
 * in here.  Every message carries a delivery record of its sender's,
 * whose callback runs on the event loop once: ok 1 when the queue has
 * the message durably, 0 when it never will.
 */

#define NGX_HTTP_RACE_TOPIC_FIXES     0
#define NGX_HTTP_RACE_TOPIC_ACCOUNTS  1
#define NGX_HTTP_RACE_TOPICS          2

typedef struct ngx_http_race_delivery_s  ngx_http_race_delivery_t;

struct ngx_http_race_delivery_s {
    void              (*delivered)(ngx_http_race_delivery_t *d,
                                   ngx_uint_t ok);
};

typedef struct {
    const char         *name;
    ngx_int_t         (*init_process)(ngx_cycle_t *cycle,
                                      ngx_http_race_main_conf_t *rmcf);
    void              (*exit_process)(ngx_cycle_t *cycle);

    /*
     * NGX_OK: the queue owns payload (from ngx_alloc()) and will report
     * on d; NGX_BUSY or NGX_ERROR: nothing was taken.
     */
    ngx_int_t         (*produce)(ngx_uint_t topic, const u_char *key,
                                 size_t key_len, u_char *payload, size_t len,
                                 ngx_http_race_delivery_t *d,
                                 ngx_log_t *log);
} ngx_http_race_queue_t;


/* this worker process's queue, once started; NULL before */
extern const ngx_http_race_queue_t  *ngx_http_race_queue;


extern ngx_module_t  ngx_http_race_module;
extern ngx_module_t  ngx_http_race_errors_module;


ngx_int_t ngx_http_race_add_header(ngx_http_request_t *r, char *key,
    char *value);

/*
 * Sends {"error":{"code":..,"message":..}} with the status; returns what
 * a content handler returns.
 */
ngx_int_t ngx_http_race_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message);


#endif /* _NGX_HTTP_RACE_H_INCLUDED_ */
