
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
 * An open socket obeys its token through its grant (ngx_http_race_access.c):
 * it is closed with 1008 once the token expires or is revoked.  Before
 * the upgrade the same round trip to Redis tells whether the token is
 * revoked and whether its race is finished: a finished race takes
 * fixes for race_ride_after_finish more, what phones kept through dead
 * zones, then refuses new rides.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race.h"
#include "ngx_http_race_ws.h"
#include "race_fix.h"
#include "ngx_http_race_reply.h"
#include "ngx_http_race_bearer.h"
#include "ngx_http_race_pending.h"
#include "ngx_http_race_access.h"
#include "ngx_http_race_status.h"


#define NGX_HTTP_RACE_CLOSE_TRY_AGAIN   1013   /* RFC 6455 registry */
#define NGX_HTTP_RACE_CLOSE_BAD_TYPE    1003
#define NGX_HTTP_RACE_CLOSE_POLICY      1008
#define NGX_HTTP_RACE_TOKEN_LEEWAY      RACE_JWT_RIDE_LEEWAY


typedef struct {
    ngx_uint_t                 enabled;       /* a race_ingest location */
} ngx_http_race_ingest_main_conf_t;


typedef struct {
    ngx_uint_t                 ride_max_batch;
    ngx_uint_t                 ride_max_in_flight;       /* fixes */
    size_t                     ride_max_in_flight_size;  /* Kafka bytes */
    ngx_msec_t                 fix_max_future;
    ngx_msec_t                 fix_max_past;
    ngx_msec_t                 ride_after_finish;  /* 0: none */
} ngx_http_race_ingest_loc_conf_t;


typedef struct {
    ngx_rbtree_node_t          node;          /* key: the ride's id */
    ngx_http_race_ws_t        *ws;
    ngx_http_race_ingest_loc_conf_t  *conf;
    ngx_log_t                 *log;
    u_char                     race[RACE_JWT_ID_MAX + 1];
    size_t                     race_len;
    u_char                     rider[RACE_JWT_ID_MAX + 1];
    ngx_http_race_grant_t      grant;         /* its token */
    int64_t                    unsent_ack;    /* -1: none */
    unsigned                   failed:1;      /* no more acks here */

    /* produced, delivery report not yet come: race_ride_max_in_flight */
    ngx_uint_t                 in_flight;     /* fixes */
    size_t                     in_flight_size;
} ngx_http_race_ride_t;


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
static ngx_int_t ngx_http_race_ingest_checked(ngx_http_request_t *r,
    void *data, ngx_http_race_access_t *access);
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

static void ngx_http_race_ingest_end(ngx_http_race_grant_t *g,
    const char *reason);


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

    { ngx_string("race_ride_after_finish"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_ingest_loc_conf_t, ride_after_finish),
      &ngx_http_race_fix_future_value },

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
    ngx_http_race_ingest_close,
    NGX_HTTP_RACE_EP_RIDE,
    0                                      /* the ride is in the request's */
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
    ilcf->ride_after_finish = NGX_CONF_UNSET_MSEC;

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

    /*
     * Phones keep what they could not send through dead zones and send
     * it when they can: the last riders' fixes still come in after the
     * finish.  An hour covers a long dead zone on the way to the line.
     */
    ngx_conf_merge_msec_value(conf->ride_after_finish,
                              prev->ride_after_finish, 3600 * 1000);

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

    ngx_http_race_ingest = in;

    return ngx_http_race_access_init(cycle);
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

    ngx_http_race_ingest = NULL;

    ngx_http_race_access_exit(cycle);

    ngx_http_race_shared_release(cycle);
}


static ngx_int_t
ngx_http_race_ingest_handler(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_str_t                   token, arg;
    race_jwt_rc_e               jrc;
    race_jwt_key_t             *keys;
    race_jwt_claims_t           claims;
    ngx_http_race_ride_t       *ride;
    ngx_http_race_ingest_t     *in;
    ngx_http_race_main_conf_t  *rmcf;

    in = ngx_http_race_ingest;
    rmcf = ngx_http_get_module_main_conf(r, ngx_http_race_module);

    if (in == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    if (ngx_http_race_token(r, &token) != NGX_OK) {
        ngx_http_race_count(auth[NGX_HTTP_RACE_AUTH_RIDE_MISSING], 1);

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
        ngx_http_race_count(auth[NGX_HTTP_RACE_AUTH_RIDE_INVALID], 1);

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
    ngx_memcpy(ride->grant.jti, claims.jti, ngx_strlen(claims.jti) + 1);
    ride->grant.expires = (time_t) (claims.exp + NGX_HTTP_RACE_TOKEN_LEEWAY);
    ride->unsent_ack = -1;
    ride->log = r->connection->log;
    ride->conf = ngx_http_get_module_loc_conf(r, ngx_http_race_ingest_module);

    /*
     * Is this very token revoked (its rider taken off the race), is its
     * race finished?  Redis says; until it does the request waits, off
     * the event loop.  With Redis away no rider gets in: a revoked token
     * must never pass.  Nor while Redis lacks the marker that
     * race-accounts sets once every revocation is back in it (it came
     * back empty).
     */

    rc = ngx_http_race_access_check(r, ride->race, ride->race_len,
                                    claims.jti, ngx_http_race_ingest_checked,
                                    ride);

    if (rc == NGX_DECLINED) {
        return ngx_http_race_access_unavailable(r);
    }

    return rc == NGX_DONE ? NGX_DONE : NGX_HTTP_INTERNAL_SERVER_ERROR;
}


static ngx_int_t
ngx_http_race_ingest_checked(ngx_http_request_t *r, void *data,
    ngx_http_race_access_t *access)
{
    ngx_int_t              rc;
    ngx_time_t            *tp;
    ngx_http_race_ride_t  *ride;

    ride = data;

    if (ngx_http_race_ingest == NULL) {
        /* this worker is exiting */
        return ngx_http_race_access_unavailable(r);
    }

    if (!access->loaded) {
        /* the revocations are not all in Redis yet */
        return ngx_http_race_access_unavailable(r);
    }

    if (!access->revoked) {
        /* the token holds; a finished race is another matter */
        ngx_http_race_count(auth[NGX_HTTP_RACE_AUTH_RIDE_OK], 1);
    }

    if (access->revoked) {
        ngx_http_race_count(auth[NGX_HTTP_RACE_AUTH_RIDE_REVOKED], 1);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "race: revoked rider token for rider \"%s\" in race "
                      "\"%s\"", ride->rider, ride->race);

        rc = ngx_http_race_add_header(r, "WWW-Authenticate",
                                      "Bearer error=\"invalid_token\"");
        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_race_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                        "token_revoked",
                                        "this rider token was revoked");
    }

    if (access->finished) {
        tp = ngx_timeofday();

        /*
         * What phones kept through a dead zone still comes in for a
         * while; a finished race with no finish time is long finished.
         */

        if ((int64_t) tp->sec * 1000 + (int64_t) tp->msec
            > access->finished_at + (int64_t) ride->conf->ride_after_finish)
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "race: ride of rider \"%s\" in race \"%s\" "
                          "refused: the race is finished",
                          ride->rider, ride->race);

            return ngx_http_race_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "race_finished",
                                            "the race is finished");
        }
    }

    return ngx_http_race_ingest_start(r, ride);
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

    ride->grant.end = ngx_http_race_ingest_end;
    ride->grant.data = ride;
    ride->grant.log = r->connection->log;

    ngx_http_race_grant_add(&ride->grant);

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
        ngx_http_race_count(rejected[NGX_HTTP_RACE_REJECT_BAD_MESSAGE], 1);

        /* nothing in it can be used; the socket stays open */
        return ngx_http_race_ingest_error(ride, -1, "bad_message", reason);
    }

    /* bad_fix is the one code the fix core refuses a fix with */
    ngx_http_race_count(fixes_received, nfixes + nerrors);
    ngx_http_race_count(rejected[NGX_HTTP_RACE_REJECT_BAD_FIX], nerrors);

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

    ngx_http_race_count(fixes_acked, msg->fixes);

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

    ngx_http_race_grant_delete(&ride->grant);

    ride->ws = NULL;
}


/*
 * The token no longer holds: no more acks on this socket (the phone
 * keeps what it sent and gives it to a ride with a good token), 1008.
 */

static void
ngx_http_race_ingest_end(ngx_http_race_grant_t *g, const char *reason)
{
    ngx_http_race_ride_t  *ride;

    ride = g->data;

    if (ride->ws == NULL || ride->failed) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, ride->log, 0,
                  "race: ride of rider \"%s\" in race \"%s\" closed: %s",
                  ride->rider, ride->race, reason);

    ride->failed = 1;

    ngx_http_race_ws_close(ride->ws, NGX_HTTP_RACE_CLOSE_POLICY, reason);
}
