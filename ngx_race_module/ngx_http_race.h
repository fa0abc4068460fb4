
/*
 * ngx_race: what the race modules share, from ngx_http_race_module.
 */


#ifndef _NGX_HTTP_RACE_H_INCLUDED_
#define _NGX_HTTP_RACE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "race_jwt.h"


/*
 * What an endpoint needs of the connections a worker process holds once
 * for all of them; "nginx -t" refuses a configuration that lacks one.
 */

#define NGX_HTTP_RACE_NEEDS_QUEUE     0x01    /* race_kafka_brokers */
#define NGX_HTTP_RACE_NEEDS_REDIS     0x02    /* race_redis */
#define NGX_HTTP_RACE_NEEDS_KEYS      0x04    /* race_token_key */


/* an endpoint used in the configuration, and what it needs */
typedef struct {
    ngx_str_t         name;             /* its directive */
    ngx_uint_t        needs;
} ngx_http_race_endpoint_t;


/* what a worker process holds once: producer, Redis, keys */
typedef struct {
    ngx_str_t         kafka_brokers;
    ngx_str_t         kafka_topic;
    ngx_str_t         kafka_accounts_topic;
    ngx_array_t      *kafka_options;    /* of ngx_keyval_t */
    ngx_array_t      *token_keys;       /* of race_jwt_key_t */
    ngx_url_t        *redis;
    ngx_msec_t        redis_timeout;    /* a silent connection is dropped */

    ngx_array_t       endpoints;        /* of ngx_http_race_endpoint_t */
    ngx_uint_t        needs;            /* of them all */
} ngx_http_race_main_conf_t;


typedef struct {
    /* a race endpoint, or inside one: nginx's own errors in JSON too */
    ngx_flag_t        json_errors;
} ngx_http_race_loc_conf_t;


/*
 * A numeric directive: nginx's own slot setters neither quote a bad
 * value nor name the directive when a bound fails, so these are checked
 * at the line they are on, by ngx_http_race_conf_set_value() with one
 * of these as the command's post.
 */

#define NGX_HTTP_RACE_CONF_SIZE   0
#define NGX_HTTP_RACE_CONF_NUM    1
#define NGX_HTTP_RACE_CONF_MSEC   2

/* 24 days: below 2^31 ms, as nginx's timers want */
#define NGX_HTTP_RACE_MSEC_MAX    (24 * 24 * 3600 * 1000)

typedef struct {
    ngx_uint_t        type;
    ngx_uint_t        min;
    ngx_uint_t        max;
    char             *expected;
} ngx_http_race_conf_value_t;


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

    /*
     * For race_status and race_ready, never waiting: NGX_OK when a
     * broker is up, NGX_DECLINED when none is; *depth: the messages
     * held, not yet reported on.
     */
    ngx_int_t         (*state)(ngx_uint_t *depth);
} ngx_http_race_queue_t;


/* this worker process's queue, once started; NULL before */
extern const ngx_http_race_queue_t  *ngx_http_race_queue;


extern ngx_module_t  ngx_http_race_module;
extern ngx_module_t  ngx_http_race_errors_module;
extern ngx_module_t  ngx_http_race_ws_module;
extern ngx_module_t  ngx_http_race_ingest_module;
extern ngx_module_t  ngx_http_race_live_module;
extern ngx_module_t  ngx_http_race_api_module;
extern ngx_module_t  ngx_http_race_status_module;


char *ngx_http_race_conf_set_value(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ":" and a port from 1 to 65535, or nothing: what may end a host */
ngx_int_t ngx_http_race_port_valid(u_char *p, u_char *last);

/*
 * An endpoint's directive: sets the location's content handler, and
 * notes what it needs of the shared connections.
 */
char *ngx_http_race_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_handler_pt handler, ngx_uint_t needs);

/*
 * The shared connections start before any endpoint's init_process (the
 * race module comes first), and stop once the last endpoint that holds
 * them lets go in its exit_process: nginx calls exit_process in the
 * same order, and an endpoint lets go of its records before the queue
 * reports on them for the last time.
 */
void ngx_http_race_shared_hold(void);
void ngx_http_race_shared_release(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_RACE_H_INCLUDED_ */
