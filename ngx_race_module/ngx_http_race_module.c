
/*
 * ngx_race: ngx_http_race_module, its directives and configuration.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race.h"
#include "ngx_http_race_ws.h"
#include "race_fix.h"
#include "ngx_http_race_kafka.h"
#include "ngx_http_race_ingest.h"
#include "ngx_http_race_live.h"
#include "ngx_http_race_redis.h"
#include "ngx_http_race_api.h"


static char *ngx_http_race_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void *ngx_http_race_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_race_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_race_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_race_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_race_ws_allow_origin(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_race_origin_valid(ngx_str_t *origin);
static ngx_int_t ngx_http_race_port_valid(u_char *p, u_char *last);
static char *ngx_http_race_kafka_brokers(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_race_broker_valid(u_char *p, u_char *last);
static char *ngx_http_race_kafka_topic(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_race_kafka_option(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_race_token_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_race_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_race_auth_init(ngx_conf_t *cf,
    ngx_http_race_main_conf_t *rmcf);
static void ngx_http_race_passwords_free(void *data);
static ngx_int_t ngx_http_race_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_race_redact(ngx_http_request_t *r);
static size_t ngx_http_race_redact_query(u_char *dst, u_char *p,
    u_char *last, ngx_uint_t *found);
static ngx_int_t ngx_http_race_init_process(ngx_cycle_t *cycle);
static void ngx_http_race_exit_process(ngx_cycle_t *cycle);
static char *ngx_http_race_conf_set_value(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#define NGX_HTTP_RACE_CONF_SIZE   0
#define NGX_HTTP_RACE_CONF_NUM    1
#define NGX_HTTP_RACE_CONF_MSEC   2

/* 24 days: below 2^31 ms, as nginx's timers want */
#define NGX_HTTP_RACE_MSEC_MAX    (24 * 24 * 3600 * 1000)


/*
 * A numeric directive: nginx's own slot setters neither quote a bad
 * value nor name the directive when a bound fails, so these are checked
 * here, at the line they are on.
 */

typedef struct {
    ngx_uint_t                 type;
    ngx_uint_t                 min;
    ngx_uint_t                 max;
    char                      *expected;
} ngx_http_race_conf_value_t;


static ngx_http_race_conf_value_t  ngx_http_race_max_message_value = {
    NGX_HTTP_RACE_CONF_SIZE, 125, 64 * 1024 * 1024,
    "a size from 125 to 64m"
};

static ngx_http_race_conf_value_t  ngx_http_race_send_queue_value = {
    NGX_HTTP_RACE_CONF_NUM, 1, 65536,
    "a number from 1 to 65536"
};

static ngx_http_race_conf_value_t  ngx_http_race_ping_interval_value = {
    NGX_HTTP_RACE_CONF_MSEC, 0, NGX_HTTP_RACE_MSEC_MAX,
    "a time up to 24d (0: no pings)"
};

static ngx_http_race_conf_value_t  ngx_http_race_timeout_value = {
    NGX_HTTP_RACE_CONF_MSEC, 1, NGX_HTTP_RACE_MSEC_MAX,
    "a time from 1ms to 24d"
};

static ngx_http_race_conf_value_t  ngx_http_race_max_hashes_value = {
    NGX_HTTP_RACE_CONF_NUM, 1, 1024,
    "a number from 1 to 1024"
};

static ngx_http_race_conf_value_t  ngx_http_race_token_ttl_value = {
    NGX_HTTP_RACE_CONF_MSEC, 60000, 24 * 3600 * 1000,
    "a time from 1m to 24h"
};

static ngx_http_race_conf_value_t  ngx_http_race_reply_timeout_value = {
    NGX_HTTP_RACE_CONF_MSEC, 1000, 300000,
    "a time from 1s to 5m"
};

static ngx_http_race_conf_value_t  ngx_http_race_redis_timeout_value = {
    NGX_HTTP_RACE_CONF_MSEC, 100, 600000,
    "a time from 100ms to 10m"
};

static ngx_http_race_conf_value_t  ngx_http_race_max_batch_value = {
    NGX_HTTP_RACE_CONF_NUM, 1, RACE_FIX_BATCH_MAX,
    "a number from 1 to 500"
};

static ngx_http_race_conf_value_t  ngx_http_race_in_flight_value = {
    NGX_HTTP_RACE_CONF_NUM, 1, 1000000,
    "a number from 1 to 1000000"
};

static ngx_http_race_conf_value_t  ngx_http_race_in_flight_size_value = {
    NGX_HTTP_RACE_CONF_SIZE, 1024, 64 * 1024 * 1024,
    "a size from 1k to 64m"
};

static ngx_http_race_conf_value_t  ngx_http_race_fix_future_value = {
    NGX_HTTP_RACE_CONF_MSEC, 0, NGX_HTTP_RACE_MSEC_MAX,
    "a time up to 24d"
};


/* a location's endpoint: its content handler, and what counts its uses */

typedef struct {
    ngx_http_handler_pt        handler;
    ngx_uint_t                 counter;     /* offset in the main conf */
} ngx_http_race_endpoint_t;

#define NGX_HTTP_RACE_NO_COUNTER  ((ngx_uint_t) -1)


static ngx_http_race_endpoint_t  ngx_http_race_ws_echo_endpoint = {
    ngx_http_race_ws_echo_handler, NGX_HTTP_RACE_NO_COUNTER
};

static ngx_http_race_endpoint_t  ngx_http_race_ingest_endpoint = {
    ngx_http_race_ingest_handler, offsetof(ngx_http_race_main_conf_t, ingest)
};

static ngx_http_race_endpoint_t  ngx_http_race_live_endpoint = {
    ngx_http_race_live_handler, offsetof(ngx_http_race_main_conf_t, live)
};

static ngx_http_race_endpoint_t  ngx_http_race_api_endpoint = {
    ngx_http_race_api_handler, offsetof(ngx_http_race_main_conf_t, api)
};

#if (NGX_HTTP_RACE_TEST)
static ngx_http_race_endpoint_t  ngx_http_race_kafka_test_endpoint = {
    ngx_http_race_kafka_test_fatal_handler, NGX_HTTP_RACE_NO_COUNTER
};
#endif


static ngx_command_t  ngx_http_race_commands[] = {

    { ngx_string("race_ws_echo"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_race_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_race_ws_echo_endpoint },

    { ngx_string("race_ws_allow_origin"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_race_ws_allow_origin,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("race_ws_max_message"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_loc_conf_t, ws_max_message),
      &ngx_http_race_max_message_value },

    { ngx_string("race_ws_send_queue"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_loc_conf_t, ws_send_queue),
      &ngx_http_race_send_queue_value },

    { ngx_string("race_ws_ping_interval"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_loc_conf_t, ws_ping_interval),
      &ngx_http_race_ping_interval_value },

    { ngx_string("race_ws_idle_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_loc_conf_t, ws_idle_timeout),
      &ngx_http_race_timeout_value },

    { ngx_string("race_ws_close_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_loc_conf_t, ws_close_timeout),
      &ngx_http_race_timeout_value },

    { ngx_string("race_ingest"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_race_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_race_ingest_endpoint },

    { ngx_string("race_ride_max_batch"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_loc_conf_t, ride_max_batch),
      &ngx_http_race_max_batch_value },

    { ngx_string("race_ride_max_in_flight"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_loc_conf_t, ride_max_in_flight),
      &ngx_http_race_in_flight_value },

    { ngx_string("race_ride_max_in_flight_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_loc_conf_t, ride_max_in_flight_size),
      &ngx_http_race_in_flight_size_value },

    { ngx_string("race_fix_max_future"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_loc_conf_t, fix_max_future),
      &ngx_http_race_fix_future_value },

    { ngx_string("race_fix_max_past"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_loc_conf_t, fix_max_past),
      &ngx_http_race_timeout_value },

    { ngx_string("race_kafka_brokers"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_kafka_brokers,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("race_kafka_topic"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_kafka_topic,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_main_conf_t, kafka_topic),
      NULL },

    { ngx_string("race_kafka_accounts_topic"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_kafka_topic,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_main_conf_t, kafka_accounts_topic),
      NULL },

    { ngx_string("race_kafka_option"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_race_kafka_option,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

#if (NGX_HTTP_RACE_TEST)

    /* test builds only: see ngx_http_race_kafka.c */
    { ngx_string("race_kafka_test_fatal"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_race_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_race_kafka_test_endpoint },

#endif

    { ngx_string("race_token_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_race_token_key,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("race_live"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_race_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_race_live_endpoint },

    { ngx_string("race_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("race_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_main_conf_t, redis_timeout),
      &ngx_http_race_redis_timeout_value },

    { ngx_string("race_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_race_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_race_api_endpoint },

    { ngx_string("race_auth_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_main_conf_t, thread_pool_name),
      NULL },

    { ngx_string("race_auth_max_hashes"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_main_conf_t, max_hashes),
      &ngx_http_race_max_hashes_value },

    { ngx_string("race_auth_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_main_conf_t, token_ttl),
      &ngx_http_race_token_ttl_value },

    { ngx_string("race_auth_reply_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_main_conf_t, reply_timeout),
      &ngx_http_race_reply_timeout_value },

    { ngx_string("race_auth_cookie_secure"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_main_conf_t, cookie_secure),
      NULL },

    { ngx_string("race_auth_common_passwords"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_main_conf_t, passwords_file),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_race_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_race_postconfiguration,       /* postconfiguration */

    ngx_http_race_create_main_conf,        /* create main configuration */
    ngx_http_race_init_main_conf,          /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_race_create_loc_conf,         /* create location configuration */
    ngx_http_race_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_race_module = {
    NGX_MODULE_V1,
    &ngx_http_race_module_ctx,             /* module context */
    ngx_http_race_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_race_init_process,            /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_race_exit_process,            /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_race_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_race_main_conf_t  *rmcf;

    rmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_race_main_conf_t));
    if (rmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     rmcf->kafka_brokers = { 0, NULL };
     *     rmcf->kafka_topic = { 0, NULL };
     *     rmcf->kafka_options = NULL;
     *     rmcf->token_keys = NULL;
     *     rmcf->redis = NULL;
     *     rmcf->ingest = 0;
     *     rmcf->live = 0;
     *     rmcf->api = 0;
     *     rmcf->thread_pool_name = { 0, NULL };
     *     rmcf->passwords_file = { 0, NULL };
     *     rmcf->passwords = { NULL, 0, NULL };
     */

    rmcf->redis_timeout = NGX_CONF_UNSET_MSEC;
    rmcf->max_hashes = NGX_CONF_UNSET_UINT;
    rmcf->token_ttl = NGX_CONF_UNSET_MSEC;
    rmcf->reply_timeout = NGX_CONF_UNSET_MSEC;
    rmcf->cookie_secure = NGX_CONF_UNSET;

    return rmcf;
}


static char *
ngx_http_race_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_race_main_conf_t *rmcf = conf;

    if (rmcf->kafka_topic.len == 0) {
        ngx_str_set(&rmcf->kafka_topic, "race.fixes");
    }

    if (rmcf->kafka_accounts_topic.len == 0) {
        ngx_str_set(&rmcf->kafka_accounts_topic, "race.accounts");
    }

    if (rmcf->ingest && rmcf->kafka_brokers.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_ingest\" needs \"race_kafka_brokers\"");
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_msec_value(rmcf->redis_timeout, 3000);
    ngx_conf_init_uint_value(rmcf->max_hashes, 4);
    ngx_conf_init_msec_value(rmcf->token_ttl, 15 * 60 * 1000);
    ngx_conf_init_msec_value(rmcf->reply_timeout, 10000);
    ngx_conf_init_value(rmcf->cookie_secure, 1);

    if (rmcf->api && ngx_http_race_auth_init(cf, rmcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (rmcf->live && rmcf->redis == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_live\" needs \"race_redis\"");
        return NGX_CONF_ERROR;
    }

    if (rmcf->ingest && rmcf->redis == NULL) {
        /* where revoked rider tokens are listed */
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_ingest\" needs \"race_redis\"");
        return NGX_CONF_ERROR;
    }

    if (rmcf->ingest && rmcf->token_keys == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_ingest\" needs a \"race_token_key\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_race_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_race_loc_conf_t  *rlcf;

    rlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_race_loc_conf_t));
    if (rlcf == NULL) {
        return NULL;
    }

    rlcf->ws_origins = NGX_CONF_UNSET_PTR;
    rlcf->ws_max_message = NGX_CONF_UNSET_SIZE;
    rlcf->ws_send_queue = NGX_CONF_UNSET_UINT;
    rlcf->ws_ping_interval = NGX_CONF_UNSET_MSEC;
    rlcf->ws_idle_timeout = NGX_CONF_UNSET_MSEC;
    rlcf->ws_close_timeout = NGX_CONF_UNSET_MSEC;
    rlcf->ride_max_batch = NGX_CONF_UNSET_UINT;
    rlcf->ride_max_in_flight = NGX_CONF_UNSET_UINT;
    rlcf->ride_max_in_flight_size = NGX_CONF_UNSET_SIZE;
    rlcf->fix_max_future = NGX_CONF_UNSET_MSEC;
    rlcf->fix_max_past = NGX_CONF_UNSET_MSEC;
    rlcf->json_errors = NGX_CONF_UNSET;

    return rlcf;
}


static char *
ngx_http_race_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_race_loc_conf_t *prev = parent;
    ngx_http_race_loc_conf_t *conf = child;

    ngx_conf_merge_ptr_value(conf->ws_origins, prev->ws_origins, NULL);
    ngx_conf_merge_size_value(conf->ws_max_message, prev->ws_max_message,
                              64 * 1024);
    ngx_conf_merge_uint_value(conf->ws_send_queue, prev->ws_send_queue, 64);
    ngx_conf_merge_msec_value(conf->ws_ping_interval, prev->ws_ping_interval,
                              30000);
    ngx_conf_merge_msec_value(conf->ws_idle_timeout, prev->ws_idle_timeout,
                              75000);
    ngx_conf_merge_msec_value(conf->ws_close_timeout, prev->ws_close_timeout,
                              5000);

    ngx_conf_merge_uint_value(conf->ride_max_batch, prev->ride_max_batch,
                              RACE_FIX_BATCH_MAX);

    /*
     * A phone at 1 fix/s through a broker outage as long as the
     * producer's message.timeout.ms (5m), after a 500-fix backfill:
     * 800 fixes in some 100k of Kafka messages.  A phone that never
     * gets its acks cannot hold more of a worker.
     */
    ngx_conf_merge_uint_value(conf->ride_max_in_flight,
                              prev->ride_max_in_flight, 1000);
    ngx_conf_merge_size_value(conf->ride_max_in_flight_size,
                              prev->ride_max_in_flight_size, 256 * 1024);
    ngx_conf_merge_msec_value(conf->fix_max_future, prev->fix_max_future,
                              60000);
    ngx_conf_merge_msec_value(conf->fix_max_past, prev->fix_max_past,
                              7 * 24 * 3600 * 1000);

    /* "if" and "limit_except" blocks of a race location are its own */
    ngx_conf_merge_value(conf->json_errors, prev->json_errors, 0);

    /* each value was checked at its directive; this is how they combine */

    if (conf->ws_ping_interval >= conf->ws_idle_timeout) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_ws_ping_interval\" (%Mms) must be less "
                           "than \"race_ws_idle_timeout\" (%Mms), or the "
                           "idle timeout fires before a ping is answered",
                           conf->ws_ping_interval, conf->ws_idle_timeout);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * An origin is what browsers send: scheme "://" host [":" port], in
 * lower case, no path.  Matching is exact, so a value that cannot
 * match is a mistake worth failing "nginx -t" for.
 */

static char *
ngx_http_race_ws_allow_origin(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_race_loc_conf_t *rlcf = conf;

    ngx_str_t   *value, *origin;
    ngx_uint_t   i;

    if (rlcf->ws_origins != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    rlcf->ws_origins = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                        sizeof(ngx_str_t));
    if (rlcf->ws_origins == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_http_race_origin_valid(&value[i]) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid origin \"%V\" in "
                               "\"race_ws_allow_origin\": expected "
                               "\"https://host[:port]\" in lower case, "
                               "without a path", &value[i]);
            return NGX_CONF_ERROR;
        }

        origin = ngx_array_push(rlcf->ws_origins);
        if (origin == NULL) {
            return NGX_CONF_ERROR;
        }

        *origin = value[i];
    }

    return NGX_CONF_OK;
}


/* "http" or "https", "://", a host name or [IPv6], an optional port */

static ngx_int_t
ngx_http_race_origin_valid(ngx_str_t *origin)
{
    u_char      *p, *last;
    ngx_uint_t   digits;

    p = origin->data;
    last = p + origin->len;

    if (origin->len > 7 && ngx_strncmp(p, "http://", 7) == 0) {
        p += 7;

    } else if (origin->len > 8 && ngx_strncmp(p, "https://", 8) == 0) {
        p += 8;

    } else {
        return NGX_ERROR;
    }

    if (*p == '[') {
        for (p++; p < last && *p != ']'; p++) {
            if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')
                || *p == ':' || *p == '.')
            {
                continue;
            }

            return NGX_ERROR;
        }

        if (p == last || p[-1] == '[') {
            return NGX_ERROR;
        }

        p++;

    } else {
        for (digits = 0; p < last && *p != ':'; p++, digits++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
                || *p == '.' || *p == '-')
            {
                continue;
            }

            return NGX_ERROR;
        }

        if (digits == 0) {
            return NGX_ERROR;
        }
    }

    return ngx_http_race_port_valid(p, last);
}


/* what may end a host: nothing, or ":" and a port from 1 to 65535 */

static ngx_int_t
ngx_http_race_port_valid(u_char *p, u_char *last)
{
    ngx_uint_t  port;

    if (p == last) {
        return NGX_OK;
    }

    if (*p++ != ':' || p == last || last - p > 5) {
        return NGX_ERROR;
    }

    port = 0;

    for ( /* void */ ; p < last; p++) {
        if (*p < '0' || *p > '9') {
            return NGX_ERROR;
        }

        port = port * 10 + (*p - '0');
    }

    return (port >= 1 && port <= 65535) ? NGX_OK : NGX_ERROR;
}


static char *
ngx_http_race_conf_set_value(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    size_t                      *sp;
    ngx_int_t                    n;
    ngx_str_t                   *value;
    ngx_uint_t                  *np;
    ngx_msec_t                  *mp;
    ngx_http_race_conf_value_t  *v;

    v = cmd->post;
    value = cf->args->elts;

    sp = NULL;
    np = NULL;
    mp = NULL;

    switch (v->type) {

    case NGX_HTTP_RACE_CONF_SIZE:
        sp = (size_t *) (p + cmd->offset);
        if (*sp != NGX_CONF_UNSET_SIZE) {
            return "is duplicate";
        }

        n = ngx_parse_size(&value[1]);
        break;

    case NGX_HTTP_RACE_CONF_NUM:
        np = (ngx_uint_t *) (p + cmd->offset);
        if (*np != NGX_CONF_UNSET_UINT) {
            return "is duplicate";
        }

        n = ngx_atoi(value[1].data, value[1].len);
        break;

    default: /* NGX_HTTP_RACE_CONF_MSEC */
        mp = (ngx_msec_t *) (p + cmd->offset);
        if (*mp != NGX_CONF_UNSET_MSEC) {
            return "is duplicate";
        }

        n = ngx_parse_time(&value[1], 0);
        break;
    }

    if (n == NGX_ERROR || (ngx_uint_t) n < v->min || (ngx_uint_t) n > v->max)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must be %s, not \"%V\"",
                           &cmd->name, v->expected, &value[1]);
        return NGX_CONF_ERROR;
    }

    if (sp) {
        *sp = (size_t) n;

    } else if (np) {
        *np = (ngx_uint_t) n;

    } else {
        *mp = (ngx_msec_t) n;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_race_add_header(ngx_http_request_t *r, char *key, char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);

    return NGX_OK;
}


ngx_int_t
ngx_http_race_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message)
{
    size_t       len, code_len, message_len;
    ngx_buf_t   *b;
    ngx_int_t    rc;
    ngx_chain_t  out;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    code_len = ngx_strlen(code);
    message_len = ngx_strlen(message);

    len = sizeof("{\"error\":{\"code\":\"\",\"message\":\"\"}}\n") - 1
          + code_len + ngx_escape_json(NULL, (u_char *) code, code_len)
          + message_len
          + ngx_escape_json(NULL, (u_char *) message, message_len);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, "{\"error\":{\"code\":\"",
                         sizeof("{\"error\":{\"code\":\"") - 1);
    b->last = (u_char *) ngx_escape_json(b->last, (u_char *) code,
                                         code_len);
    b->last = ngx_cpymem(b->last, "\",\"message\":\"",
                         sizeof("\",\"message\":\"") - 1);
    b->last = (u_char *) ngx_escape_json(b->last, (u_char *) message,
                                         message_len);
    b->last = ngx_cpymem(b->last, "\"}}\n", sizeof("\"}}\n") - 1);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * race_kafka_brokers [proto://]host[:port],...: librdkafka resolves the
 * names, and again when brokers move, so only the form is checked
 * here; an empty list would pass librdkafka and never connect.
 */

static char *
ngx_http_race_kafka_brokers(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_race_main_conf_t *rmcf = conf;

    u_char     *p, *last, *comma;
    ngx_str_t  *value;

    if (rmcf->kafka_brokers.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = value[1].data;
    last = p + value[1].len;

    for ( ;; ) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        if (ngx_http_race_broker_valid(p, comma) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"race_kafka_brokers\" \"%V\": "
                               "expected \"host[:port]\", comma separated",
                               &value[1]);
            return NGX_CONF_ERROR;
        }

        if (comma == last) {
            break;
        }

        p = comma + 1;
    }

    rmcf->kafka_brokers = value[1];

    return NGX_CONF_OK;
}


/* an optional "SASL_SSL://", a host name or [IPv6], an optional port */

static ngx_int_t
ngx_http_race_broker_valid(u_char *p, u_char *last)
{
    u_char  *s;

    for (s = p; s < last; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')
              || *s == '_'))
        {
            break;
        }
    }

    if (s > p && last - s > 3 && ngx_strncmp(s, "://", 3) == 0) {
        p = s + 3;
    }

    if (p < last && *p == '[') {
        for (p++; p < last && *p != ']'; p++) {
            if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')
                || (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.')
            {
                continue;
            }

            return NGX_ERROR;
        }

        if (p == last || p[-1] == '[') {
            return NGX_ERROR;
        }

        p++;

    } else {
        for (s = p; p < last && *p != ':'; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'
                || *p == '_')
            {
                continue;
            }

            return NGX_ERROR;
        }

        if (p == s) {
            return NGX_ERROR;
        }
    }

    return ngx_http_race_port_valid(p, last);
}


static char *
ngx_http_race_kafka_topic(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *base = conf;

    ngx_str_t  *value, *topic;

    topic = (ngx_str_t *) (base + cmd->offset);

    if (topic->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* Kafka's own rule for topic names */

    if (!race_id_topic_valid((char *) value[1].data, value[1].len)) {
        goto invalid;
    }

    *topic = value[1];

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid \"%V\" \"%V\": a topic is 1 to 249 of "
                       "[A-Za-z0-9._-], other than \".\" and \"..\"",
                       &cmd->name, &value[1]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_race_kafka_option(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_race_main_conf_t *rmcf = conf;

    ngx_str_t     *value;
    ngx_keyval_t  *kv;

    value = cf->args->elts;

    /* "metadata.broker.list" is librdkafka's other name for it */

    if (ngx_strcmp(value[1].data, "bootstrap.servers") == 0
        || ngx_strcmp(value[1].data, "metadata.broker.list") == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_kafka_option\" cannot set \"%V\": "
                           "use \"race_kafka_brokers\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_race_kafka_check_option(cf, &value[1], &value[2])
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (rmcf->kafka_options == NULL) {
        rmcf->kafka_options = ngx_array_create(cf->pool, 4,
                                               sizeof(ngx_keyval_t));
        if (rmcf->kafka_options == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    kv = ngx_array_push(rmcf->kafka_options);
    if (kv == NULL) {
        return NGX_CONF_ERROR;
    }

    kv->key = value[1];
    kv->value = value[2];

    return NGX_CONF_OK;
}


/*
 * race_token_key kid file: the secret is read once, here, at
 * configuration time; it never reaches a log.
 */

static char *
ngx_http_race_token_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_race_main_conf_t *rmcf = conf;

    u_char           *secret;
    size_t            len;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t        *value, file;
    ngx_uint_t        i;
    ngx_file_info_t   fi;
    race_jwt_key_t   *key;

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].len > RACE_JWT_KID_MAX
        || !race_id_valid((char *) value[1].data, value[1].len))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"race_token_key\" key id \"%V\": "
                           "1 to 64 of [A-Za-z0-9_-]", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (rmcf->token_keys == NULL) {
        rmcf->token_keys = ngx_array_create(cf->pool, 2,
                                            sizeof(race_jwt_key_t));
        if (rmcf->token_keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    key = rmcf->token_keys->elts;

    for (i = 0; i < rmcf->token_keys->nelts; i++) {
        if (ngx_strcmp(key[i].kid, value[1].data) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate \"race_token_key\" key id \"%V\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    file = value[2];

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"race_token_key\" cannot open \"%V\"", &file);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || !ngx_is_file(&fi)
        || ngx_file_size(&fi) > 4096)
    {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_token_key\" file \"%V\" is not a key "
                           "file of at most 4k", &file);
        return NGX_CONF_ERROR;
    }

    if (ngx_file_access(&fi) & 0004) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"race_token_key\" file \"%V\" is readable by "
                           "everyone", &file);
    }

    secret = ngx_pnalloc(cf->pool, 4096);
    if (secret == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, secret, 4096);
    ngx_close_file(fd);

    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"race_token_key\" cannot read \"%V\"", &file);
        return NGX_CONF_ERROR;
    }

    /* the same trimming as every other reader of a key file */
    len = race_jwt_key_trim(secret, n);

    if (len < RACE_JWT_KEY_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_token_key\" file \"%V\" holds %uz bytes, "
                           "a key needs at least %d", &file, len,
                           RACE_JWT_KEY_MIN);
        return NGX_CONF_ERROR;
    }

    key = ngx_array_push(rmcf->token_keys);
    if (key == NULL) {
        return NGX_CONF_ERROR;
    }

    key->kid = (const char *) value[1].data;
    key->secret = secret;
    key->secret_len = len;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_race_init_process(ngx_cycle_t *cycle)
{
    ngx_http_race_main_conf_t  *rmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        /* cache manager and loader serve no clients */
        return NGX_OK;
    }

    rmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_race_module);
    if (rmcf == NULL) {
        return NGX_OK;
    }

    /* what the endpoints share: the queue, the two Redis connections */

    if (rmcf->ingest || rmcf->api) {
        if (ngx_http_race_kafka_queue.init_process(cycle, rmcf) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_race_queue = &ngx_http_race_kafka_queue;
    }

    if ((rmcf->ingest || rmcf->live || rmcf->api)
        && ngx_http_race_redis_pair_start(cycle, &rmcf->redis->addrs[0],
                                          rmcf->redis_timeout)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (rmcf->ingest
        && ngx_http_race_ingest_init_process(cycle, rmcf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (rmcf->live
        && ngx_http_race_live_init_process(cycle, rmcf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (rmcf->api
        && ngx_http_race_api_init_process(cycle, rmcf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * nginx never frees a worker's connection and event arrays: the process
 * exits with them.  Once the cycle's pool is gone nothing points at them
 * and a leak checker may report them; a pointer kept here shows them as
 * nginx's own, in use to the end.  Not static: stores to it stay.
 */

void  *ngx_http_race_exit_keep[3];


const ngx_http_race_queue_t  *ngx_http_race_queue;


static void
ngx_http_race_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_race_ingest_exit_process(cycle);
    ngx_http_race_live_exit_process(cycle);
    ngx_http_race_api_exit_process(cycle);

    ngx_http_race_redis_pair_stop();

    /* last: its final reports go to senders that have let go */
    if (ngx_http_race_queue) {
        ngx_http_race_queue->exit_process(cycle);
        ngx_http_race_queue = NULL;
    }

    ngx_http_race_exit_keep[0] = cycle->connections;
    ngx_http_race_exit_keep[1] = cycle->read_events;
    ngx_http_race_exit_keep[2] = cycle->write_events;
}


/* race_redis host:port, resolved now: workers never wait for DNS */

static char *
ngx_http_race_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_race_main_conf_t *rmcf = conf;

    ngx_str_t  *value;
    ngx_url_t  *u;

    if (rmcf->redis) {
        return "is duplicate";
    }

    value = cf->args->elts;

    u = ngx_pcalloc(cf->pool, sizeof(ngx_url_t));
    if (u == NULL) {
        return NGX_CONF_ERROR;
    }

    u->url = value[1];
    u->default_port = 6379;

    if (ngx_parse_url(cf->pool, u) != NGX_OK || u->naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"race_redis\" \"%V\": %s", &value[1],
                           u->err ? u->err : "no address");
        return NGX_CONF_ERROR;
    }

    if (u->family == AF_UNIX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"race_redis\" \"%V\": use host:port",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    rmcf->redis = u;

    return NGX_CONF_OK;
}


/*
 * What race_api needs, checked and made ready at configuration time:
 * the list of common passwords is read here, once; the thread pool that
 * hashes is named here for nginx to start.
 */

static char *
ngx_http_race_auth_init(ngx_conf_t *cf, ngx_http_race_main_conf_t *rmcf)
{
    u_char              *data;
    ssize_t              n;
    ngx_fd_t             fd;
    ngx_str_t            file;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    if (rmcf->kafka_brokers.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_api\" needs \"race_kafka_brokers\"");
        return NGX_CONF_ERROR;
    }

    if (rmcf->redis == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_api\" needs \"race_redis\"");
        return NGX_CONF_ERROR;
    }

    if (rmcf->token_keys == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_api\" needs a \"race_token_key\"");
        return NGX_CONF_ERROR;
    }

    if (rmcf->passwords_file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_api\" needs "
                           "\"race_auth_common_passwords\"");
        return NGX_CONF_ERROR;
    }

    rmcf->thread_pool = ngx_thread_pool_add(cf,
                                            rmcf->thread_pool_name.len
                                            ? &rmcf->thread_pool_name
                                            : NULL);
    if (rmcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    file = rmcf->passwords_file;

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"race_auth_common_passwords\" cannot open "
                           "\"%V\"", &file);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || !ngx_is_file(&fi) || ngx_file_size(&fi) > 16 * 1024 * 1024)
    {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_auth_common_passwords\" \"%V\" is not "
                           "a file of at most 16m", &file);
        return NGX_CONF_ERROR;
    }

    data = ngx_pnalloc(cf->temp_pool, ngx_file_size(&fi) + 1);
    if (data == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, data, ngx_file_size(&fi));
    ngx_close_file(fd);

    if (n != (ssize_t) ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"race_auth_common_passwords\" cannot read "
                           "\"%V\"", &file);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    if (race_password_list_load((char *) data, n, &rmcf->passwords) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_auth_common_passwords\" \"%V\" could "
                           "not be loaded", &file);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_race_passwords_free;
    cln->data = &rmcf->passwords;

    return NGX_CONF_OK;
}


static void
ngx_http_race_passwords_free(void *data)
{
    race_password_list_free(data);
}


static char *
ngx_http_race_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_race_loc_conf_t *rlcf = conf;
    ngx_http_race_endpoint_t *ep = cmd->post;

    char                       *rmcf;
    ngx_http_core_loc_conf_t   *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate or conflicts with another handler";
    }

    clcf->handler = ep->handler;
    rlcf->json_errors = 1;

    if (ep->counter != NGX_HTTP_RACE_NO_COUNTER) {
        /* init_main_conf checks what each used endpoint needs */
        rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_race_module);
        (*(ngx_uint_t *) (rmcf + ep->counter))++;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_race_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_race_redact;

    return NGX_OK;
}


/*
 * Browsers open WebSockets with the token in ?access_token=, and nginx
 * appends the request line to every error-log line of a request (and
 * $request to access logs).  Before any module logs in the request's
 * context, the line they show gets each access_token value replaced;
 * r->args, which the handlers read the token from, is left alone.  This
 * is the first phase after the headers: what is logged while reading
 * them (a bad header, at info) still shows the line as it came.
 */

#define NGX_HTTP_RACE_REDACTED  "[redacted]"

static ngx_int_t
ngx_http_race_redact(ngx_http_request_t *r)
{
    u_char      *p, *q, *last, *end, *line;
    size_t       len;
    ngx_uint_t   n;

    if (r->request_line.len == 0
        || r->args.len < sizeof("access_token=") - 1
        || ngx_strlcasestrn(r->args.data, r->args.data + r->args.len,
                            (u_char *) "access_token=",
                            sizeof("access_token=") - 2)
           == NULL)
    {
        return NGX_DECLINED;
    }

    /* the query in the line: after its first "?", up to a space */

    last = r->request_line.data + r->request_line.len;

    p = ngx_strlchr(r->request_line.data, last, '?');
    if (p == NULL) {
        return NGX_DECLINED;
    }

    p++;

    end = ngx_strlchr(p, last, ' ');
    if (end == NULL) {
        end = last;
    }

    len = ngx_http_race_redact_query(NULL, p, end, &n);

    if (n == 0) {
        return NGX_DECLINED;
    }

    line = ngx_pnalloc(r->pool, (p - r->request_line.data) + len
                                + (last - end));
    if (line == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q = ngx_cpymem(line, r->request_line.data, p - r->request_line.data);
    q += ngx_http_race_redact_query(q, p, end, &n);
    q = ngx_cpymem(q, end, last - end);

    r->request_line.data = line;
    r->request_line.len = q - line;

    return NGX_DECLINED;
}


/*
 * Copies a query to dst (NULL: measures only) with each access_token's
 * value replaced; returns the length, and in *found how many there were.
 */

static size_t
ngx_http_race_redact_query(u_char *dst, u_char *p, u_char *last,
    ngx_uint_t *found)
{
    size_t      len;
    ngx_uint_t  start;

    len = 0;
    start = 1;          /* p is at the start of a parameter */
    *found = 0;

    while (p < last) {

        if (start
            && (size_t) (last - p) >= sizeof("access_token=") - 1
            && ngx_strncasecmp(p, (u_char *) "access_token=",
                               sizeof("access_token=") - 1)
               == 0)
        {
            if (dst) {
                /* the name as the client spelled it */
                dst = ngx_cpymem(dst, p, sizeof("access_token=") - 1);
                dst = ngx_cpymem(dst, NGX_HTTP_RACE_REDACTED,
                                 sizeof(NGX_HTTP_RACE_REDACTED) - 1);
            }

            len += sizeof("access_token=") - 1
                   + sizeof(NGX_HTTP_RACE_REDACTED) - 1;

            for (p += sizeof("access_token=") - 1; p < last; p++) {
                if (*p == '&') {
                    break;
                }
            }

            (*found)++;
            start = 0;
            continue;
        }

        start = (*p == '&');

        if (dst) {
            *dst++ = *p;
        }

        p++;
        len++;
    }

    return len;
}
