
/*
 * ngx_race: ngx_http_race_ingest_module, /ride, where phones send fixes.
 *
 * The token is checked before the upgrade.  Each text message is parsed
 * and validated by the fix core; bad fixes are answered with an error at
 * once, good ones go to Kafka as one message keyed by the race.  The
 * phone's ack waits for the delivery report: a broker that is down means
 * no ack, never a false one.
 *
 * Delivery reports may come after the phone has gone, so they do not
 * point at the connection: they carry the ride's id, looked up in this
 * worker's tree of open rides.
 *
 * An open socket obeys its token: a timer closes it with 1008 once the
 * token expires, and a revocation closes it as soon as this worker
 * hears of it on Redis channel race:revoked.  Revocations published
 * while that subscription was down are found by checking every open
 * ride again once it is back.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race.h"
#include "ngx_http_race_ws.h"
#include "race_fix.h"
#include "ngx_http_race_redis.h"
#include "ngx_http_race_reply.h"
#include "ngx_http_race_bearer.h"
#include "ngx_http_race_pending.h"


#define NGX_HTTP_RACE_CLOSE_TRY_AGAIN   1013   /* RFC 6455 registry */
#define NGX_HTTP_RACE_CLOSE_BAD_TYPE    1003
#define NGX_HTTP_RACE_CLOSE_POLICY      1008
#define NGX_HTTP_RACE_TOKEN_LEEWAY      RACE_JWT_RIDE_LEEWAY

#define NGX_HTTP_RACE_REVOKED_CHANNEL   "race:revoked"
#define NGX_HTTP_RACE_REVOKED_KEY       "race:revoked:"
#define NGX_HTTP_RACE_REVOKED_LOADED    "race:revocations:loaded"

#define NGX_HTTP_RACE_RECHECK_BATCH     256    /* rides in one MGET */
#define NGX_HTTP_RACE_RECHECK_RETRY     1000   /* ms, Redis not reloaded */
#define NGX_HTTP_RACE_EXPIRE_MAX        86400  /* s: longer timers re-arm */
#define NGX_HTTP_RACE_RECENT            32     /* revocations remembered */


typedef struct {
    ngx_uint_t                 enabled;       /* a race_ingest location */
} ngx_http_race_ingest_main_conf_t;


typedef struct {
    ngx_uint_t                 ride_max_batch;
    ngx_uint_t                 ride_max_in_flight;       /* fixes */
    size_t                     ride_max_in_flight_size;  /* Kafka bytes */
    ngx_msec_t                 fix_max_future;
    ngx_msec_t                 fix_max_past;
} ngx_http_race_ingest_loc_conf_t;


typedef struct {
    ngx_rbtree_node_t          node;          /* key: the ride's id */
    ngx_http_race_ws_t        *ws;
    ngx_http_race_ingest_loc_conf_t  *conf;
    ngx_log_t                 *log;
    u_char                     race[RACE_JWT_ID_MAX + 1];
    size_t                     race_len;
    u_char                     rider[RACE_JWT_ID_MAX + 1];
    u_char                     jti[RACE_JWT_ID_MAX + 1];
    time_t                     expires;       /* exp + leeway */
    ngx_event_t                expire;
    int64_t                    unsent_ack;    /* -1: none */
    unsigned                   failed:1;      /* no more acks here */

    /* produced, delivery report not yet come: race_ride_max_in_flight */
    ngx_uint_t                 in_flight;     /* fixes */
    size_t                     in_flight_size;
} ngx_http_race_ride_t;


/* an MGET of the revocations of some open rides, found again by id */
typedef struct {
    ngx_uint_t                 n;
    ngx_rbtree_key_t           rides[NGX_HTTP_RACE_RECHECK_BATCH];
} ngx_http_race_ride_recheck_t;


/* a revocation check in flight: cancelled if the request goes first */
typedef struct {
    ngx_http_request_t        *request;       /* NULL: gone */
    ngx_http_race_ride_t      *ride;
    ngx_pool_cleanup_t        *cleanup;

    /* not cancelable: an exiting worker waits for the answer */
    ngx_event_t                timer;
} ngx_http_race_ride_check_t;


/* the delivery record of one message */
typedef struct {
    ngx_http_race_delivery_t   delivery;      /* first: the queue's view */
    ngx_rbtree_key_t           ride;
    int64_t                    seq;           /* the highest in it */
    ngx_uint_t                 fixes;
    size_t                     size;          /* of the payload */
} ngx_http_race_ride_msg_t;


typedef struct {
    ngx_http_race_pending_t    rides;         /* open, by id */

    /* one message is parsed at a time: scratch space for all of them */
    race_fix_t                *fixes;
    race_fix_error_t          *errors;

    /*
     * Revocations heard lately: one may come before the answer to a
     * pre-upgrade check that Redis gave just before it, for a ride not
     * yet in the tree.
     */
    u_char                     recent[NGX_HTTP_RACE_RECENT]
                                     [RACE_JWT_ID_MAX + 1];
    ngx_uint_t                 nrecent;

    ngx_event_t                recheck;       /* Redis not reloaded yet */
    ngx_log_t                 *log;
    unsigned                   recheck_wanted:1;
} ngx_http_race_ingest_t;


static void *ngx_http_race_ingest_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_race_ingest_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_race_ingest_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_race_ingest_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_race_ingest_init_process(ngx_cycle_t *cycle);
static void ngx_http_race_ingest_exit_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_race_ingest_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_race_ingest_message(ngx_http_race_ws_t *ws,
    unsigned opcode, u_char *data, size_t len);
static void ngx_http_race_ingest_drain(ngx_http_race_ws_t *ws);
static void ngx_http_race_ingest_checked(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_race_ingest_check_gone(void *data);
static void ngx_http_race_ingest_check_timeout(ngx_event_t *ev);
static ngx_int_t ngx_http_race_ingest_start(ngx_http_request_t *r,
    ngx_http_race_ride_t *ride);
static void ngx_http_race_ingest_close(ngx_http_race_ws_t *ws);
static void ngx_http_race_ingest_delivered(ngx_http_race_delivery_t *d,
    ngx_uint_t ok);
static void ngx_http_race_ingest_in_flight(ngx_http_race_ride_t *ride);
static ngx_int_t ngx_http_race_ingest_ack(ngx_http_race_ride_t *ride,
    int64_t seq);
static ngx_int_t ngx_http_race_ingest_error(ngx_http_race_ride_t *ride,
    int64_t seq, const char *code, const char *message);

static void ngx_http_race_ingest_end(ngx_http_race_ride_t *ride,
    const char *reason);
static void ngx_http_race_ingest_expire(ngx_event_t *ev);
static void ngx_http_race_ingest_up(ngx_http_race_redis_t *rd, void *data);
static void ngx_http_race_ingest_on_revoked(redisAsyncContext *ac, void *r,
    void *privdata);
static ngx_uint_t ngx_http_race_ingest_recent(u_char *jti);
static void ngx_http_race_ingest_recheck(ngx_http_race_ingest_t *in);
static void ngx_http_race_ingest_recheck_retry(ngx_event_t *ev);
static ngx_int_t ngx_http_race_ingest_recheck_send(
    ngx_http_race_ingest_t *in, ngx_http_race_ride_recheck_t *rc);
static void ngx_http_race_ingest_rechecked(redisAsyncContext *ac, void *r,
    void *privdata);


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

static ngx_http_race_conf_value_t  ngx_http_race_timeout_value = {
    NGX_HTTP_RACE_CONF_MSEC, 1, NGX_HTTP_RACE_MSEC_MAX,
    "a time from 1ms to 24d"
};


static ngx_command_t  ngx_http_race_ingest_commands[] = {

    { ngx_string("race_ingest"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_race_ingest_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("race_ride_max_batch"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_ingest_loc_conf_t, ride_max_batch),
      &ngx_http_race_max_batch_value },

    { ngx_string("race_ride_max_in_flight"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_ingest_loc_conf_t, ride_max_in_flight),
      &ngx_http_race_in_flight_value },

    { ngx_string("race_ride_max_in_flight_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_ingest_loc_conf_t, ride_max_in_flight_size),
      &ngx_http_race_in_flight_size_value },

    { ngx_string("race_fix_max_future"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_ingest_loc_conf_t, fix_max_future),
      &ngx_http_race_fix_future_value },

    { ngx_string("race_fix_max_past"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_ingest_loc_conf_t, fix_max_past),
      &ngx_http_race_timeout_value },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_race_ingest_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_race_ingest_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_race_ingest_create_loc_conf,  /* create location configuration */
    ngx_http_race_ingest_merge_loc_conf    /* merge location configuration */
};


ngx_module_t  ngx_http_race_ingest_module = {
    NGX_MODULE_V1,
    &ngx_http_race_ingest_module_ctx,      /* module context */
    ngx_http_race_ingest_commands,         /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_race_ingest_init_process,     /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_race_ingest_exit_process,     /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static const ngx_http_race_ws_handler_t  ngx_http_race_ingest_ws = {
    ngx_http_race_ingest_message,
    ngx_http_race_ingest_drain,
    ngx_http_race_ingest_close
};


static ngx_http_race_ingest_t  *ngx_http_race_ingest;


static void *
ngx_http_race_ingest_create_main_conf(ngx_conf_t *cf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     imcf->enabled = 0;
     */

    return ngx_pcalloc(cf->pool, sizeof(ngx_http_race_ingest_main_conf_t));
}


static void *
ngx_http_race_ingest_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_race_ingest_loc_conf_t  *ilcf;

    ilcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_race_ingest_loc_conf_t));
    if (ilcf == NULL) {
        return NULL;
    }

    ilcf->ride_max_batch = NGX_CONF_UNSET_UINT;
    ilcf->ride_max_in_flight = NGX_CONF_UNSET_UINT;
    ilcf->ride_max_in_flight_size = NGX_CONF_UNSET_SIZE;
    ilcf->fix_max_future = NGX_CONF_UNSET_MSEC;
    ilcf->fix_max_past = NGX_CONF_UNSET_MSEC;

    return ilcf;
}


static char *
ngx_http_race_ingest_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_race_ingest_loc_conf_t *prev = parent;
    ngx_http_race_ingest_loc_conf_t *conf = child;

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

    return NGX_CONF_OK;
}


/* race_ingest: fixes go to the queue, revocations are on Redis */

static char *
ngx_http_race_ingest_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                              *rv;
    ngx_http_race_ingest_main_conf_t  *imcf;

    rv = ngx_http_race_endpoint(cf, cmd, ngx_http_race_ingest_handler,
                                NGX_HTTP_RACE_NEEDS_QUEUE
                                |NGX_HTTP_RACE_NEEDS_REDIS
                                |NGX_HTTP_RACE_NEEDS_KEYS);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    imcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_race_ingest_module);
    imcf->enabled = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_race_ingest_init_process(ngx_cycle_t *cycle)
{
    ngx_http_race_ingest_t            *in;
    ngx_http_race_ingest_main_conf_t  *imcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    imcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_race_ingest_module);
    if (imcf == NULL || !imcf->enabled) {
        return NGX_OK;
    }

    ngx_http_race_shared_hold();

    in = ngx_pcalloc(cycle->pool, sizeof(ngx_http_race_ingest_t));
    if (in == NULL) {
        return NGX_ERROR;
    }

    ngx_http_race_pending_init(&in->rides);

    in->fixes = ngx_palloc(cycle->pool,
                           RACE_FIX_BATCH_MAX * sizeof(race_fix_t));
    in->errors = ngx_palloc(cycle->pool,
                            RACE_FIX_BATCH_MAX * sizeof(race_fix_error_t));

    if (in->fixes == NULL || in->errors == NULL) {
        return NGX_ERROR;
    }

    in->log = cycle->log;

    in->recheck.handler = ngx_http_race_ingest_recheck_retry;
    in->recheck.data = in;
    in->recheck.log = cycle->log;
    in->recheck.cancelable = 1;

    ngx_http_race_ingest = in;

    /*
     * A lost subscriber needs nothing here: revocations published while
     * it is down are found once it is back.
     */

    return ngx_http_race_redis_pair_listen(ngx_http_race_ingest_up, NULL,
                                           in);
}


static void
ngx_http_race_ingest_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_race_ingest == NULL) {
        return;
    }

    /*
     * The queue stops after this and its last reports find no ride: the
     * records are freed all the same.  So do pending Redis calls.
     */

    if (ngx_http_race_ingest->recheck.timer_set) {
        ngx_del_timer(&ngx_http_race_ingest->recheck);
    }

    ngx_http_race_ingest = NULL;

    ngx_http_race_shared_release(cycle);
}


static ngx_int_t
ngx_http_race_ingest_handler(ngx_http_request_t *r)
{
    ngx_str_t                   token, arg;
    race_jwt_rc_e               jrc;
    race_jwt_key_t             *keys;
    race_jwt_claims_t           claims;
    ngx_pool_cleanup_t         *cln;
    ngx_http_race_ride_t       *ride;
    ngx_http_race_redis_t      *rd;
    ngx_http_race_ride_check_t *check;
    ngx_http_race_ingest_t     *in;
    ngx_http_race_main_conf_t  *rmcf;

    in = ngx_http_race_ingest;
    rmcf = ngx_http_get_module_main_conf(r, ngx_http_race_module);

    if (in == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    if (ngx_http_race_token(r, &token) != NGX_OK) {
        if (ngx_http_race_add_header(r, "WWW-Authenticate", "Bearer")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_race_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                        "missing_token",
                                        "a rider token is required");
    }

    keys = rmcf->token_keys->elts;

    jrc = race_jwt_verify((char *) token.data, token.len, keys,
                          rmcf->token_keys->nelts, "ngx_race", "ride",
                          ngx_time(), NGX_HTTP_RACE_TOKEN_LEEWAY, &claims);

    if (jrc == RACE_JWT_OK
        && (claims.race[0] == '\0' || claims.jti[0] == '\0'))
    {
        /* a rider token names its race, and has an id to revoke it by */
        jrc = RACE_JWT_BAD_CLAIMS;
    }

    if (jrc != RACE_JWT_OK) {
        /* the token itself is never logged */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "race: ride token rejected: %s",
                      race_jwt_strerror(jrc));

        if (ngx_http_race_add_header(r, "WWW-Authenticate",
                                     "Bearer error=\"invalid_token\"")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_race_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                        "invalid_token",
                                        race_jwt_strerror(jrc));
    }

    /*
     * The race comes from the token.  A phone may name the race it means
     * (?race=); a token for another race is refused, not redirected.
     */

    if (ngx_http_arg(r, (u_char *) "race", sizeof("race") - 1, &arg)
        == NGX_OK
        && (arg.len != ngx_strlen(claims.race)
            || ngx_strncmp(arg.data, claims.race, arg.len) != 0))
    {
        return ngx_http_race_send_error(r, NGX_HTTP_FORBIDDEN, "wrong_race",
                                        "the token is for another race");
    }

    ride = ngx_pcalloc(r->pool, sizeof(ngx_http_race_ride_t));
    if (ride == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ride->race_len = ngx_strlen(claims.race);
    ngx_memcpy(ride->race, claims.race, ride->race_len + 1);
    ngx_memcpy(ride->rider, claims.sub, ngx_strlen(claims.sub) + 1);
    ngx_memcpy(ride->jti, claims.jti, ngx_strlen(claims.jti) + 1);
    ride->expires = (time_t) (claims.exp + NGX_HTTP_RACE_TOKEN_LEEWAY);
    ride->unsent_ack = -1;
    ride->log = r->connection->log;
    ride->conf = ngx_http_get_module_loc_conf(r, ngx_http_race_ingest_module);

    /*
     * Is this very token revoked (its rider taken off the race)?  Redis
     * says; until it does the request waits, off the event loop.  With
     * Redis away no rider gets in: a revoked token must never pass.  Nor
     * while Redis lacks the marker that race-accounts sets once every
     * revocation is back in it (it came back empty).
     */

    rd = ngx_http_race_redis_pair ? &ngx_http_race_redis_pair->cmd : NULL;

    if (rd == NULL || !rd->connected) {
        return ngx_http_race_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "unavailable",
                                        "try again in a moment");
    }

    check = ngx_alloc(sizeof(ngx_http_race_ride_check_t), r->connection->log);
    if (check == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_free(check);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    check->request = r;
    check->ride = ride;
    check->cleanup = cln;

    ngx_memzero(&check->timer, sizeof(ngx_event_t));
    check->timer.handler = ngx_http_race_ingest_check_timeout;
    check->timer.data = check;
    check->timer.log = r->connection->log;

    if (redisAsyncCommand(rd->ac, ngx_http_race_ingest_checked, check,
                          "MGET " NGX_HTTP_RACE_REVOKED_LOADED " "
                          NGX_HTTP_RACE_REVOKED_KEY "%s", claims.jti)
        != REDIS_OK)
    {
        ngx_free(check);
        return ngx_http_race_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "unavailable",
                                        "try again in a moment");
    }

    cln->handler = ngx_http_race_ingest_check_gone;
    cln->data = check;

    /*
     * Not cancelable: an exiting worker waits for the answer, or for
     * this, before it lets the socket go.
     */

    ngx_add_timer(&check->timer, rmcf->redis_timeout);

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_race_ingest_check_gone(void *data)
{
    ngx_http_race_ride_check_t  *check = data;

    if (check->timer.timer_set) {
        ngx_del_timer(&check->timer);
    }

    /* the callback frees the record when Redis answers */
    check->request = NULL;
}


static void
ngx_http_race_ingest_check_timeout(ngx_event_t *ev)
{
    ngx_connection_t            *c;
    ngx_http_request_t          *r;
    ngx_http_race_ride_check_t  *check;

    check = ev->data;
    r = check->request;
    c = r->connection;

    ngx_log_error(NGX_LOG_WARN, c->log, 0,
                  "race: redis did not answer a revocation check in time");

    /* the callback, when it comes, only frees the record */
    check->cleanup->handler = NULL;
    check->request = NULL;

    ngx_http_finalize_request(r,
        ngx_http_race_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                 "unavailable", "try again in a moment"));
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_race_ingest_checked(redisAsyncContext *ac, void *r, void *privdata)
{
    ngx_int_t                    rc;
    redisReply                  *reply;
    ngx_connection_t            *c;
    ngx_http_request_t          *req;
    ngx_http_race_ride_t        *ride;
    ngx_http_race_ride_check_t  *check;

    check = privdata;
    req = check->request;
    ride = check->ride;
    reply = r;

    if (check->timer.timer_set) {
        ngx_del_timer(&check->timer);
    }

    if (req == NULL || ngx_http_race_ingest == NULL) {
        /* the phone has gone, or this worker is exiting */
        if (req) {
            check->cleanup->handler = NULL;
        }

        ngx_free(check);
        return;
    }

    check->cleanup->handler = NULL;
    ngx_free(check);

    c = req->connection;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING)
    {
        /* no answer, or the revocations are not all in Redis yet */
        rc = ngx_http_race_send_error(req, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "unavailable", "try again in a moment");

    } else if (reply->element[1]->type != REDIS_REPLY_NIL
               || ngx_http_race_ingest_recent(ride->jti))
    {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "race: revoked rider token for rider \"%s\" in race "
                      "\"%s\"", ride->rider, ride->race);

        rc = ngx_http_race_add_header(req, "WWW-Authenticate",
                                      "Bearer error=\"invalid_token\"");
        if (rc == NGX_OK) {
            rc = ngx_http_race_send_error(req, NGX_HTTP_UNAUTHORIZED,
                                          "token_revoked",
                                          "this rider token was revoked");
        }

    } else {
        rc = ngx_http_race_ingest_start(req, ride);
    }

    ngx_http_finalize_request(req, rc);
    ngx_http_run_posted_requests(c);
}


/* the upgrade; NGX_DONE when the socket is open (it holds the request) */

static ngx_int_t
ngx_http_race_ingest_start(ngx_http_request_t *r, ngx_http_race_ride_t *ride)
{
    ngx_int_t            rc;
    ngx_http_race_ws_t  *ws;

    rc = ngx_http_race_ws_upgrade(r, &ngx_http_race_ingest_ws, ride, &ws);

    if (ws == NULL) {
        return rc;
    }

    ride->ws = ws;
    ngx_http_race_pending_add(&ngx_http_race_ingest->rides, &ride->node);

    /* a worker that shuts down does not wait for a token to expire */

    ride->expire.handler = ngx_http_race_ingest_expire;
    ride->expire.data = ride;
    ride->expire.log = r->connection->log;
    ride->expire.cancelable = 1;

    ngx_http_race_ingest_expire(&ride->expire);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "race: ride %uA of rider \"%s\" in race \"%s\"",
                   (uint64_t) ride->node.key, ride->rider, ride->race);

    return NGX_DONE;
}


static ngx_int_t
ngx_http_race_ingest_message(ngx_http_race_ws_t *ws, unsigned opcode,
    u_char *data, size_t len)
{
    char                       reason[128];
    u_char                    *payload;
    size_t                     size, n, nfixes, nerrors, i;
    int64_t                    seq;
    ngx_int_t                  rc;
    ngx_time_t                *tp;
    race_fix_limits_t          limits;
    race_fix_msg_rc_e          frc;
    ngx_http_race_ride_t      *ride;
    ngx_http_race_ingest_t    *in;
    ngx_http_race_ride_msg_t  *msg;

    ride = ws->data;
    in = ngx_http_race_ingest;

    if (opcode != RACE_WS_OP_TEXT) {
        ngx_http_race_ws_close(ws, NGX_HTTP_RACE_CLOSE_BAD_TYPE,
                               "fixes are JSON text messages");
        return NGX_OK;
    }

    tp = ngx_timeofday();

    limits.now = (int64_t) tp->sec * 1000 + tp->msec;
    limits.max_future = ride->conf->fix_max_future;
    limits.max_past = ride->conf->fix_max_past;
    limits.max_batch = ride->conf->ride_max_batch;

    frc = race_fix_parse_phone((char *) data, len, &limits, in->fixes,
                               &nfixes, in->errors, &nerrors, reason,
                               sizeof(reason));

    if (frc != RACE_FIX_MSG_OK) {
        /* nothing in it can be used; the socket stays open */
        return ngx_http_race_ingest_error(ride, -1, "bad_message", reason);
    }

    for (i = 0; i < nerrors; i++) {
        if (ngx_http_race_ingest_error(ride, in->errors[i].seq,
                                       in->errors[i].code,
                                       in->errors[i].message)
            == NGX_ERROR)
        {
            return NGX_ERROR;
        }
    }

    if (nfixes == 0) {
        return NGX_OK;
    }

    seq = in->fixes[0].seq;

    for (i = 1; i < nfixes; i++) {
        if (in->fixes[i].seq > seq) {
            seq = in->fixes[i].seq;
        }
    }

    size = race_fix_kafka_size(nfixes);

    payload = ngx_alloc(size, ws->connection->log);
    if (payload == NULL) {
        return NGX_ERROR;
    }

    n = race_fix_kafka_message((char *) payload, size, (char *) ride->race,
                               (char *) ride->rider, limits.now, in->fixes,
                               nfixes);
    if (n == 0) {
        ngx_free(payload);
        return NGX_ERROR;
    }

    msg = ngx_alloc(sizeof(ngx_http_race_ride_msg_t), ws->connection->log);
    if (msg == NULL) {
        ngx_free(payload);
        return NGX_ERROR;
    }

    msg->delivery.delivered = ngx_http_race_ingest_delivered;
    msg->ride = ride->node.key;
    msg->seq = seq;
    msg->fixes = nfixes;
    msg->size = n;

    rc = ngx_http_race_queue->produce(NGX_HTTP_RACE_TOPIC_FIXES, ride->race,
                                      ride->race_len, payload, n,
                                      &msg->delivery, ws->connection->log);

    if (rc != NGX_OK) {
        /* not taken: both are still ours */
        ngx_free(payload);
        ngx_free(msg);

        /* the phone keeps its fixes and sends them again after a while */
        ride->failed = 1;
        ngx_http_race_ws_close(ws, NGX_HTTP_RACE_CLOSE_TRY_AGAIN,
                               "fixes not accepted now, send them again");
        return NGX_OK;
    }

    ride->in_flight += nfixes;
    ride->in_flight_size += n;

    ngx_http_race_ingest_in_flight(ride);

    return NGX_OK;
}


/*
 * What a phone has in flight is bounded: at race_ride_max_in_flight
 * fixes or race_ride_max_in_flight_size bytes the connection is read no
 * further, and TCP holds the phone back, until delivery reports free
 * room.  A broker that is down thus costs each phone's worker at most
 * the bound (and one message over it), however fast the phone sends.
 */

static void
ngx_http_race_ingest_in_flight(ngx_http_race_ride_t *ride)
{
    ngx_http_race_ingest_loc_conf_t  *ilcf;

    ilcf = ride->conf;

    if (ride->in_flight >= ilcf->ride_max_in_flight
        || ride->in_flight_size >= ilcf->ride_max_in_flight_size)
    {
        if (!ride->ws->read_held) {
            ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ride->log, 0,
                           "race: ride %uA holds, %ui fixes %uz bytes "
                           "in flight", (uint64_t) ride->node.key,
                           ride->in_flight, ride->in_flight_size);

            ngx_http_race_ws_hold(ride->ws);
        }

        return;
    }

    ngx_http_race_ws_resume(ride->ws);
}


/*
 * Delivery reports of one ride come in the order its messages were
 * produced (one race, one partition, an idempotent producer).  After a
 * failed one no later message of the ride is acked on this connection:
 * the phone takes an ack of seq S as covering what it sent before, so
 * the connection is closed and the phone sends everything unacked again.
 */

static void
ngx_http_race_ingest_delivered(ngx_http_race_delivery_t *d, ngx_uint_t ok)
{
    ngx_http_race_ride_t      *ride;
    ngx_http_race_ride_msg_t  *msg;

    msg = (ngx_http_race_ride_msg_t *) d;

    ride = ngx_http_race_ingest
           ? (ngx_http_race_ride_t *)
                 ngx_http_race_pending_find(&ngx_http_race_ingest->rides,
                                            msg->ride)
           : NULL;

    if (ride == NULL) {
        /* the phone has gone */
        ngx_free(msg);
        return;
    }

    ride->in_flight -= msg->fixes;
    ride->in_flight_size -= msg->size;

    if (ride->failed) {
        /* the phone will send these again */
        ngx_free(msg);
        return;
    }

    if (!ok) {
        ride->failed = 1;
        ngx_http_race_ws_close(ride->ws, NGX_HTTP_RACE_CLOSE_TRY_AGAIN,
                               "fixes not stored, send them again");
        ngx_free(msg);
        return;
    }

    (void) ngx_http_race_ingest_ack(ride, msg->seq);

    ngx_free(msg);

    ngx_http_race_ingest_in_flight(ride);
}


static ngx_int_t
ngx_http_race_ingest_ack(ngx_http_race_ride_t *ride, int64_t seq)
{
    u_char     buf[64], *p;
    ngx_int_t  rc;

    if (ride->unsent_ack > seq) {
        seq = ride->unsent_ack;
    }

    p = ngx_sprintf(buf, "{\"type\":\"ack\",\"seq\":%L}", seq);

    rc = ngx_http_race_ws_send(ride->ws, RACE_WS_OP_TEXT, buf, p - buf);

    if (rc == NGX_AGAIN) {
        /* the queue is full: one ack covers all, send it on drain */
        ride->unsent_ack = seq;
        return NGX_OK;
    }

    ride->unsent_ack = -1;

    return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
}


static ngx_int_t
ngx_http_race_ingest_error(ngx_http_race_ride_t *ride, int64_t seq,
    const char *code, const char *message)
{
    u_char     buf[512], *p, *last;
    size_t     len;
    ngx_int_t  rc;

    last = buf + sizeof(buf);

    p = ngx_cpymem(buf, "{\"type\":\"error\",", sizeof("{\"type\":\"error\",")
                                                - 1);
    if (seq >= 0) {
        p = ngx_slprintf(p, last, "\"seq\":%L,", seq);
    }

    p = ngx_slprintf(p, last, "\"code\":\"%s\",\"message\":\"", code);

    len = ngx_strlen(message);

    /* the reasons are short; a long one is cut to fit */
    while (len && len + ngx_escape_json(NULL, (u_char *) message, len)
                  > (size_t) (last - p) - 2)
    {
        len--;
    }

    p = (u_char *) ngx_escape_json(p, (u_char *) message, len);
    p = ngx_cpymem(p, "\"}", 2);

    rc = ngx_http_race_ws_send(ride->ws, RACE_WS_OP_TEXT, buf, p - buf);

    /*
     * A phone that does not read gets no more errors; it is told again
     * when it sends the same fix again.
     */

    return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
}


static void
ngx_http_race_ingest_drain(ngx_http_race_ws_t *ws)
{
    ngx_http_race_ride_t  *ride;

    ride = ws->data;

    if (ride->unsent_ack >= 0 && !ride->failed) {
        (void) ngx_http_race_ingest_ack(ride, ride->unsent_ack);
    }
}


static void
ngx_http_race_ingest_close(ngx_http_race_ws_t *ws)
{
    ngx_http_race_ride_t  *ride;

    ride = ws->data;

    if (ride->ws && ngx_http_race_ingest) {
        ngx_http_race_pending_delete(&ngx_http_race_ingest->rides,
                                     &ride->node);
    }

    if (ride->expire.timer_set) {
        ngx_del_timer(&ride->expire);
    }

    ride->ws = NULL;
}


/*
 * The token no longer holds: no more acks on this socket (the phone
 * keeps what it sent and gives it to a ride with a good token), 1008.
 */

static void
ngx_http_race_ingest_end(ngx_http_race_ride_t *ride, const char *reason)
{
    if (ride->ws == NULL || ride->failed) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, ride->log, 0,
                  "race: ride of rider \"%s\" in race \"%s\" closed: %s",
                  ride->rider, ride->race, reason);

    ride->failed = 1;

    if (ride->expire.timer_set) {
        ngx_del_timer(&ride->expire);
    }

    ngx_http_race_ws_close(ride->ws, NGX_HTTP_RACE_CLOSE_POLICY, reason);
}


static void
ngx_http_race_ingest_expire(ngx_event_t *ev)
{
    time_t                 left;
    ngx_http_race_ride_t  *ride;

    ride = ev->data;

    left = ride->expires - ngx_time();

    if (left <= 0) {
        ngx_http_race_ingest_end(ride, "token expired");
        return;
    }

    /* far expiries are armed a day at a time, whatever ngx_msec_t holds */

    ngx_add_timer(ev, (ngx_msec_t) ngx_min(left, NGX_HTTP_RACE_EXPIRE_MAX)
                      * 1000);
}


static void
ngx_http_race_ingest_up(ngx_http_race_redis_t *rd, void *data)
{
    ngx_http_race_ingest_t  *in = data;

    if (ngx_http_race_ingest == NULL) {
        return;
    }

    if (rd == &ngx_http_race_redis_pair->sub) {

        /* its confirmation checks the open rides again */

        if (redisAsyncCommand(rd->ac, ngx_http_race_ingest_on_revoked, NULL,
                              "SUBSCRIBE " NGX_HTTP_RACE_REVOKED_CHANNEL)
            != REDIS_OK)
        {
            ngx_log_error(NGX_LOG_ERR, in->log, 0,
                          "race: redis subscribe to revocations failed");
        }

        return;
    }

    if (in->recheck_wanted) {
        ngx_http_race_ingest_recheck(in);
    }
}


/* replies on the subscriber: the confirmation, and revoked token ids */

static void
ngx_http_race_ingest_on_revoked(redisAsyncContext *ac, void *r,
    void *privdata)
{
    size_t                   len;
    u_char                   jti[RACE_JWT_ID_MAX + 1];
    redisReply              *reply, *type, *payload;
    ngx_rbtree_node_t       *node, *root, *sentinel;
    ngx_http_race_ride_t    *ride;
    ngx_http_race_ingest_t  *in;

    reply = r;
    in = ngx_http_race_ingest;

    if (reply == NULL || in == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 3)
    {
        return;
    }

    type = reply->element[0];
    payload = reply->element[2];

    if (type->type != REDIS_REPLY_STRING) {
        return;
    }

    if (ngx_strcmp(type->str, "subscribe") == 0) {
        /* what was published while it was down is found now */
        ngx_http_race_ingest_recheck(in);
        return;
    }

    if (ngx_strcmp(type->str, "message") != 0
        || payload->type != REDIS_REPLY_STRING)
    {
        return;
    }

    len = payload->len;

    if (!race_id_valid(payload->str, len)) {
        ngx_log_error(NGX_LOG_WARN, in->log, 0,
                      "race: a revocation that is not a token id");
        return;
    }

    ngx_memcpy(jti, payload->str, len);
    jti[len] = '\0';

    ngx_memcpy(in->recent[in->nrecent++ % NGX_HTTP_RACE_RECENT], jti,
               len + 1);

    /* revocations are rare: every ride of this worker is looked at */

    root = in->rides.tree.root;
    sentinel = in->rides.tree.sentinel;

    if (root == sentinel) {
        return;
    }

    for (node = ngx_rbtree_min(root, sentinel);
         node;
         node = ngx_rbtree_next(&in->rides.tree, node))
    {
        ride = (ngx_http_race_ride_t *) node;

        if (ngx_strcmp(ride->jti, jti) == 0) {
            ngx_http_race_ingest_end(ride, "token revoked");
        }
    }
}


static ngx_uint_t
ngx_http_race_ingest_recent(u_char *jti)
{
    ngx_uint_t               i, n;
    ngx_http_race_ingest_t  *in;

    in = ngx_http_race_ingest;
    n = ngx_min(in->nrecent, NGX_HTTP_RACE_RECENT);

    for (i = 0; i < n; i++) {
        if (ngx_strcmp(in->recent[i], jti) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * Every open ride is looked up again, a batch of them per MGET on the
 * command connection, with the marker first: without it, Redis is not
 * whole yet and it is done again a moment later.
 */

static void
ngx_http_race_ingest_recheck(ngx_http_race_ingest_t *in)
{
    ngx_rbtree_node_t             *node, *root, *sentinel;
    ngx_http_race_redis_t         *rd;
    ngx_http_race_ride_recheck_t  *rc;

    rd = &ngx_http_race_redis_pair->cmd;

    if (!rd->connected) {
        /* when it is back */
        in->recheck_wanted = 1;
        return;
    }

    in->recheck_wanted = 0;

    root = in->rides.tree.root;
    sentinel = in->rides.tree.sentinel;

    if (root == sentinel) {
        return;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, in->log, 0,
                   "race: checking the open rides' tokens again");

    rc = NULL;

    for (node = ngx_rbtree_min(root, sentinel);
         node;
         node = ngx_rbtree_next(&in->rides.tree, node))
    {
        if (rc == NULL) {
            rc = ngx_alloc(sizeof(ngx_http_race_ride_recheck_t), in->log);
            if (rc == NULL) {
                break;
            }

            rc->n = 0;
        }

        rc->rides[rc->n++] = node->key;

        if (rc->n == NGX_HTTP_RACE_RECHECK_BATCH) {
            if (ngx_http_race_ingest_recheck_send(in, rc) != NGX_OK) {
                break;
            }

            rc = NULL;
        }
    }

    if (node == NULL && rc == NULL) {
        return;
    }

    if (node == NULL && ngx_http_race_ingest_recheck_send(in, rc) == NGX_OK) {
        return;
    }

    /* out of memory: the rest a moment later */

    if (!in->recheck.timer_set) {
        ngx_add_timer(&in->recheck, NGX_HTTP_RACE_RECHECK_RETRY);
    }
}


static void
ngx_http_race_ingest_recheck_retry(ngx_event_t *ev)
{
    if (ngx_http_race_ingest) {
        ngx_http_race_ingest_recheck(ngx_http_race_ingest);
    }
}


/* takes rc: it is freed by the callback, or here on failure */

static ngx_int_t
ngx_http_race_ingest_recheck_send(ngx_http_race_ingest_t *in,
    ngx_http_race_ride_recheck_t *rc)
{
    int                     argc;
    u_char                 *keys, *p;
    size_t                 *argvlen;
    ngx_uint_t              i;
    const char            **argv;
    ngx_http_race_ride_t   *ride;
    ngx_http_race_redis_t  *rd;

    rd = &ngx_http_race_redis_pair->cmd;

    argv = ngx_alloc((rc->n + 2) * (sizeof(char *) + sizeof(size_t))
                     + rc->n * (sizeof(NGX_HTTP_RACE_REVOKED_KEY) - 1
                                + RACE_JWT_ID_MAX),
                     in->log);
    if (argv == NULL) {
        ngx_free(rc);
        return NGX_ERROR;
    }

    argvlen = (size_t *) (argv + rc->n + 2);
    keys = (u_char *) (argvlen + rc->n + 2);

    argv[0] = "MGET";
    argvlen[0] = sizeof("MGET") - 1;
    argv[1] = NGX_HTTP_RACE_REVOKED_LOADED;
    argvlen[1] = sizeof(NGX_HTTP_RACE_REVOKED_LOADED) - 1;

    p = keys;

    for (i = 0; i < rc->n; i++) {
        ride = (ngx_http_race_ride_t *)
                   ngx_http_race_pending_find(&in->rides, rc->rides[i]);

        argv[i + 2] = (char *) p;

        p = ngx_cpymem(p, NGX_HTTP_RACE_REVOKED_KEY,
                       sizeof(NGX_HTTP_RACE_REVOKED_KEY) - 1);

        /* every ride was just found in the tree */
        p = ngx_cpymem(p, ride->jti, ngx_strlen(ride->jti));

        argvlen[i + 2] = p - (u_char *) argv[i + 2];
    }

    argc = (int) rc->n + 2;

    /* hiredis copies the arguments into its buffer */

    if (redisAsyncCommandArgv(rd->ac, ngx_http_race_ingest_rechecked, rc,
                              argc, argv, argvlen)
        != REDIS_OK)
    {
        ngx_free(argv);
        ngx_free(rc);
        return NGX_ERROR;
    }

    ngx_free(argv);

    return NGX_OK;
}


static void
ngx_http_race_ingest_rechecked(redisAsyncContext *ac, void *r,
    void *privdata)
{
    size_t                         i;
    redisReply                    *reply;
    ngx_http_race_ride_t          *ride;
    ngx_http_race_ingest_t        *in;
    ngx_http_race_ride_recheck_t  *rc;

    reply = r;
    rc = privdata;
    in = ngx_http_race_ingest;

    if (in == NULL) {
        ngx_free(rc);
        return;
    }

    if (reply == NULL) {
        /* the connection went down: all again once it is back */
        in->recheck_wanted = 1;
        ngx_free(rc);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != rc->n + 1
        || reply->element[0]->type != REDIS_REPLY_STRING)
    {
        /*
         * Redis came back without the revocations: race-accounts puts
         * them back and sets the marker; the open rides wait for it.
         */

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, in->log, 0,
                       "race: revocations not loaded, rides checked later");

        if (!in->recheck.timer_set) {
            ngx_add_timer(&in->recheck, NGX_HTTP_RACE_RECHECK_RETRY);
        }

        ngx_free(rc);
        return;
    }

    for (i = 0; i < rc->n; i++) {

        if (reply->element[i + 1]->type == REDIS_REPLY_NIL) {
            continue;
        }

        ride = (ngx_http_race_ride_t *)
                   ngx_http_race_pending_find(&in->rides, rc->rides[i]);

        if (ride) {
            ngx_http_race_ingest_end(ride, "token revoked");
        }
    }

    ngx_free(rc);
}
