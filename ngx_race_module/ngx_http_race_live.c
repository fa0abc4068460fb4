
/*
 * ngx_race: ngx_http_race_live_module, /live/{race}, where spectators
 * watch.
 *
 * Each worker process holds two Redis connections: one subscribed to
 * the channels of the races that have spectators here, one for
 * commands.  A race's riders' latest states are loaded once with
 * HGETALL and then kept up to date from the ticks, so a spectator who
 * joins gets a snapshot from memory, built once and shared.
 *
 * Ticks never wait in a line: the subscriber reads all its socket holds
 * (ngx_http_race_redis.c), each tick is merged into its race's batch
 * (the latest state of each rider wins), and a posted event, run after
 * every other event of the turn of the loop, sends one frame per race
 * with the riders that changed: a tick as it came when it is alone,
 * else their union.  Past capacity the turns grow longer and batches
 * bigger, so spectators lag by a turn, not by a backlog.  The frame is
 * shared by every spectator of the race; one that still has a frame
 * waiting behind the one being written skips it and, once it drains,
 * gets a fresh snapshot instead.
 *
 * No tree is built of a tick: core/race_tick.c checks its text as JSON
 * and finds its states, whose bytes the race keeps, and a frame of
 * several ticks or a snapshot is those bytes joined.
 *
 * A late tick never moves a rider back: states are merged by "t".  A
 * tick's state with the t we have and other bytes is the worker
 * restating the same fix with new standings (a rank, a gap, a status
 * changed without a fix of the rider's): it is taken too.
 *
 * A new spectator waits for its snapshot at most race_redis_timeout:
 * then, Redis being away or silent, it is closed with 1013 and tries
 * again.  Those who have a snapshot keep their sockets through a Redis
 * outage and get a fresh snapshot once it is back.
 *
 * A private race (public 0 in its meta hash) is watched with a token:
 * a spectator link of the race (aud live) or a rider's (aud ride).
 * It is checked before the upgrade, with the race's meta, in one round
 * trip to Redis (ngx_http_race_access.c), and binds the socket: closed
 * with 1008 when the token expires or is revoked.  A race without meta
 * (an ad-hoc race of race-sim's) is public.
 *
 * Subscriptions follow a small state machine, because hiredis 0.14
 * forgets a channel's callback when an UNSUBSCRIBE is confirmed, even
 * if the channel was subscribed again meanwhile: a race is subscribed
 * again only once its unsubscription is confirmed.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "race_tick.h"

#include "ngx_http_race.h"
#include "ngx_http_race_ws.h"
#include "ngx_http_race_reply.h"
#include "ngx_http_race_redis.h"
#include "ngx_http_race_bearer.h"
#include "ngx_http_race_access.h"
#include "ngx_http_race_status.h"


#define NGX_HTTP_RACE_LIVE_BACKLOG      2    /* frames: one being written */
#define NGX_HTTP_RACE_CLOSE_TRY_AGAIN   1013 /* RFC 6455 registry */
#define NGX_HTTP_RACE_CLOSE_POLICY      1008


typedef enum {
    NGX_HTTP_RACE_SUB_NONE = 0,
    NGX_HTTP_RACE_SUB_SUBSCRIBING,
    NGX_HTTP_RACE_SUB_SUBSCRIBED,
    NGX_HTTP_RACE_SUB_UNSUBSCRIBING
} ngx_http_race_sub_e;


typedef struct {
    ngx_str_node_t              sn;             /* key: the race id */
    u_char                      id[RACE_JWT_ID_MAX + 1];
    ngx_queue_t                 spectators;
    ngx_uint_t                  nspectators;

    /* the riders' states, the batch, the ticks while loading */
    race_tick_store_t           store;
    ngx_http_race_frame_t      *snapshot;       /* NULL: build again */
    ngx_uint_t                  generation;     /* of the HGETALL */

    /* the batch: what changed since the last frame, sent once */
    ngx_queue_t                 batch;          /* in the worker's list */
    ngx_http_race_frame_t      *pending;        /* its tick, as it came */

    ngx_http_race_sub_e         sub;
    unsigned                    loading:1;
    unsigned                    loaded:1;
    unsigned                    batched:1;      /* in the worker's list */
} ngx_http_race_live_race_t;


/* before the upgrade, in the request's pool: what was asked */
typedef struct {
    u_char                     *id;             /* the race */
    size_t                      len;
    race_jwt_rc_e               token;          /* its check, if given */
    ngx_uint_t                  has_token;      /* 0: none given */
    race_jwt_claims_t          *claims;
} ngx_http_race_live_ask_t;


/*
 * After the upgrade, in the connection's pool: the request is freed
 * once the 101 is out (ngx_http_race_ws_detach()), the socket stays.
 * Small enough to fit in what the pool's first block has left after
 * nginx's own and the socket's: a second block would cost an idle
 * spectator half a kilobyte.  So what only some spectators need, for a
 * while or at all, is allocated apart, and freed with them: the timer
 * of one that waits for its first snapshot, the grant of a private
 * race's.
 */
typedef struct {
    ngx_queue_t                 link;
    ngx_http_race_ws_t         *ws;
    ngx_http_race_live_race_t  *race;
    ngx_event_t                *wait;           /* for the first snapshot */
    ngx_http_race_grant_t      *grant;          /* a private race's */
    unsigned                    live:1;         /* has its snapshot */
    unsigned                    slow:1;         /* missed ticks */
} ngx_http_race_spectator_t;


/* the privdata of an HGETALL: the race may be gone when it returns */
typedef struct {
    ngx_uint_t                  generation;
    size_t                      len;
    u_char                      id[RACE_JWT_ID_MAX + 1];
} ngx_http_race_live_load_t;


typedef struct {
    ngx_http_race_redis_t      *sub;            /* the worker's pair */
    ngx_http_race_redis_t      *cmd;
    ngx_rbtree_t                races;
    ngx_rbtree_node_t           sentinel;
    ngx_uint_t                  generation;
    ngx_msec_t                  timeout;        /* for a first snapshot */
    ngx_log_t                  *log;

    ngx_queue_t                 batches;        /* races with changes */
    ngx_event_t                 emit;           /* posted: sends them */

    race_tick_t                 tick;           /* the tick being read */
    race_buf_t                  text;           /* a frame being built */
} ngx_http_race_live_t;


static void *ngx_http_race_live_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_race_live_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_race_live_init_process(ngx_cycle_t *cycle);
static void ngx_http_race_live_exit_process(ngx_cycle_t *cycle);
static void *ngx_http_race_live_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_race_live_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_race_live_send_buffer(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static void ngx_http_race_live_set_send_buffer(ngx_http_request_t *r);
static ngx_int_t ngx_http_race_live_handler(ngx_http_request_t *r);
static void ngx_http_race_live_token(ngx_http_request_t *r,
    ngx_http_race_live_ask_t *ask);
static ngx_int_t ngx_http_race_live_checked(ngx_http_request_t *r,
    void *data, ngx_http_race_access_t *access);
static ngx_int_t ngx_http_race_live_refuse(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message,
    char *authenticate);
static ngx_int_t ngx_http_race_live_start(ngx_http_request_t *r,
    ngx_http_race_live_ask_t *ask, ngx_uint_t private);
static void ngx_http_race_live_end(ngx_http_race_grant_t *g,
    const char *reason);
static ngx_int_t ngx_http_race_live_message(ngx_http_race_ws_t *ws,
    unsigned opcode, u_char *data, size_t len);
static void ngx_http_race_live_drain(ngx_http_race_ws_t *ws);
static void ngx_http_race_live_close(ngx_http_race_ws_t *ws);
static void ngx_http_race_live_waited(ngx_event_t *ev);
static void ngx_http_race_live_unwait(ngx_http_race_spectator_t *sp);

static ngx_http_race_live_race_t *ngx_http_race_live_find(u_char *id,
    size_t len);
static ngx_http_race_live_race_t *ngx_http_race_live_race(u_char *id,
    size_t len, ngx_log_t *log);
static void ngx_http_race_live_free(ngx_http_race_live_race_t *race);
static void ngx_http_race_live_subscribe(ngx_http_race_live_race_t *race);
static void ngx_http_race_live_unsubscribe(ngx_http_race_live_race_t *race);
static void ngx_http_race_live_load(ngx_http_race_live_race_t *race);
static void ngx_http_race_live_on_sub(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_race_live_on_state(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_race_live_tick(ngx_http_race_live_race_t *race,
    const char *data, size_t len);
static void ngx_http_race_live_emit_all(ngx_event_t *ev);
static void ngx_http_race_live_emit(ngx_http_race_live_race_t *race);
static void ngx_http_race_live_forget(ngx_http_race_live_race_t *race);
static ngx_int_t ngx_http_race_live_send_snapshot(
    ngx_http_race_spectator_t *sp);
static void ngx_http_race_live_up(ngx_http_race_redis_t *rd, void *data);
static void ngx_http_race_live_down(ngx_http_race_redis_t *rd, void *data);


typedef struct {
    ngx_uint_t                 enabled;       /* a race_live location */
} ngx_http_race_live_main_conf_t;


typedef struct {
    size_t                     send_buffer;   /* SO_SNDBUF; 0: the kernel's */
} ngx_http_race_live_loc_conf_t;


static ngx_uint_t  ngx_http_race_live_sndbuf_warned;


static ngx_http_race_conf_value_t  ngx_http_race_live_send_buffer_value = {
    NGX_HTTP_RACE_CONF_SIZE, 4096, 64 * 1024 * 1024,
    "a size from 4k to 64m, or off"
};


static ngx_command_t  ngx_http_race_live_commands[] = {

    { ngx_string("race_live"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_race_live_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("race_live_send_buffer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_live_send_buffer,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_live_loc_conf_t, send_buffer),
      &ngx_http_race_live_send_buffer_value },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_race_live_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_race_live_create_main_conf,   /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_race_live_create_loc_conf,    /* create location configuration */
    ngx_http_race_live_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_race_live_module = {
    NGX_MODULE_V1,
    &ngx_http_race_live_module_ctx,        /* module context */
    ngx_http_race_live_commands,           /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_race_live_init_process,       /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_race_live_exit_process,       /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static const ngx_http_race_ws_handler_t  ngx_http_race_live_ws = {
    ngx_http_race_live_message,
    ngx_http_race_live_drain,
    ngx_http_race_live_close,
    NGX_HTTP_RACE_EP_LIVE,
    1                                      /* all in the connection's pool */
};


static ngx_http_race_live_t  *ngx_http_race_live;


static void *
ngx_http_race_live_create_main_conf(ngx_conf_t *cf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     lmcf->enabled = 0;
     */

    return ngx_pcalloc(cf->pool, sizeof(ngx_http_race_live_main_conf_t));
}


/* race_live: each race's channel and state are on Redis */

static char *
ngx_http_race_live_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                            *rv;
    ngx_http_race_live_main_conf_t  *lmcf;

    rv = ngx_http_race_endpoint(cf, cmd, ngx_http_race_live_handler,
                                NGX_HTTP_RACE_NEEDS_REDIS);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_race_live_module);
    lmcf->enabled = 1;

    return NGX_CONF_OK;
}


static void *
ngx_http_race_live_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_race_live_loc_conf_t  *llcf;

    llcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_race_live_loc_conf_t));
    if (llcf == NULL) {
        return NULL;
    }

    llcf->send_buffer = NGX_CONF_UNSET_SIZE;

    return llcf;
}


static char *
ngx_http_race_live_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_race_live_loc_conf_t *prev = parent;
    ngx_http_race_live_loc_conf_t *conf = child;

    /*
     * Which the kernel doubles: a snapshot and a few ticks in flight,
     * still some 100 KB/s at a 300 ms round trip (see the README).
     */
    ngx_conf_merge_size_value(conf->send_buffer, prev->send_buffer,
                              32 * 1024);

    return NGX_CONF_OK;
}


/* race_live_send_buffer size | off */

static char *
ngx_http_race_live_send_buffer(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_race_live_loc_conf_t *llcf = conf;

    ngx_str_t  *value;

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        if (llcf->send_buffer != NGX_CONF_UNSET_SIZE) {
            return "is duplicate";
        }

        llcf->send_buffer = 0;
        return NGX_CONF_OK;
    }

    return ngx_http_race_conf_set_value(cf, cmd, conf);
}


/*
 * A spectator who falls behind must wait in the module, where a backlog
 * becomes a snapshot, not in the kernel: autotuned, the socket's buffer
 * takes megabytes of frames first.  Should the call fail, the spectator
 * only catches up later: it is logged, not fatal.
 */

static void
ngx_http_race_live_set_send_buffer(ngx_http_request_t *r)
{
    int                             sndbuf;
    ngx_http_race_live_loc_conf_t  *llcf;

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_race_live_module);

    if (llcf->send_buffer == 0) {
        /* off: the kernel's autotuning, or the listen's sndbuf= */
        return;
    }

    sndbuf = (int) llcf->send_buffer;

    if (setsockopt(r->connection->fd, SOL_SOCKET, SO_SNDBUF,
                   (const void *) &sndbuf, sizeof(int))
        == -1)
    {
        /* once a worker: what fails for one socket fails for all */
        if (!ngx_http_race_live_sndbuf_warned) {
            ngx_http_race_live_sndbuf_warned = 1;
            ngx_log_error(NGX_LOG_WARN, r->connection->log,
                          ngx_socket_errno,
                          "race: setsockopt(SO_SNDBUF, %d) failed, ignored",
                          sndbuf);
        }
    }
}


static ngx_int_t
ngx_http_race_live_init_process(ngx_cycle_t *cycle)
{
    ngx_http_race_live_t            *lv;
    ngx_http_race_main_conf_t       *rmcf;
    ngx_http_race_live_main_conf_t  *lmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    lmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_race_live_module);
    if (lmcf == NULL || !lmcf->enabled) {
        return NGX_OK;
    }

    rmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_race_module);

    ngx_http_race_shared_hold();

    lv = ngx_pcalloc(cycle->pool, sizeof(ngx_http_race_live_t));
    if (lv == NULL) {
        return NGX_ERROR;
    }

    lv->log = cycle->log;
    lv->timeout = rmcf->redis_timeout;

    ngx_rbtree_init(&lv->races, &lv->sentinel, ngx_str_rbtree_insert_value);

    ngx_queue_init(&lv->batches);
    lv->emit.handler = ngx_http_race_live_emit_all;
    lv->emit.data = lv;
    lv->emit.log = cycle->log;

    if (ngx_http_race_redis_pair == NULL) {
        return NGX_ERROR;
    }

    lv->sub = &ngx_http_race_redis_pair->sub;
    lv->cmd = &ngx_http_race_redis_pair->cmd;

    ngx_http_race_live = lv;

    if (ngx_http_race_access_init(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_race_redis_pair_listen(ngx_http_race_live_up,
                                           ngx_http_race_live_down, lv);
}


static void
ngx_http_race_live_exit_process(ngx_cycle_t *cycle)
{
    ngx_rbtree_node_t     *node;
    ngx_http_race_live_t  *lv;

    lv = ngx_http_race_live;
    if (lv == NULL) {
        return;
    }

    /*
     * The pair stops after this: the callbacks still pending then run
     * with NULL replies and find no race.
     */

    while (lv->races.root != lv->races.sentinel) {
        node = ngx_rbtree_min(lv->races.root, lv->races.sentinel);
        ngx_http_race_live_free((ngx_http_race_live_race_t *) node);
    }

    if (lv->emit.posted) {
        ngx_delete_posted_event(&lv->emit);
    }

    race_tick_free(&lv->tick);
    race_buf_free(&lv->text);

    ngx_http_race_live = NULL;

    ngx_http_race_access_exit(cycle);

    ngx_http_race_shared_release(cycle);
}


static ngx_int_t
ngx_http_race_live_handler(ngx_http_request_t *r)
{
    u_char                     *id, *last;
    size_t                      len;
    ngx_int_t                   rc;
    ngx_uint_t                  good;
    ngx_http_race_live_ask_t   *ask;

    if (ngx_http_race_live == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    /* the race is the last segment of the path: /live/{race} */

    last = r->uri.data + r->uri.len;
    id = last;

    while (id > r->uri.data && id[-1] != '/') {
        id--;
    }

    len = last - id;

    if (!race_id_valid((char *) id, len)) {
        return ngx_http_race_send_error(r, NGX_HTTP_NOT_FOUND, "bad_race",
                                        "the path must end with a race id: "
                                        "1 to 64 of [A-Za-z0-9_-]");
    }

    ask = ngx_pcalloc(r->pool, sizeof(ngx_http_race_live_ask_t));
    if (ask == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ask->id = id;
    ask->len = len;

    ngx_http_race_live_token(r, ask);

    if (ask->has_token && ask->token == RACE_JWT_OK && ask->claims == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    good = (ask->has_token && ask->token == RACE_JWT_OK);

    /*
     * Whether the race is private is in Redis: until it says, the
     * request waits, off the event loop, and with Redis away nobody
     * gets in.  A good token's revocation is read in the same trip.
     */

    rc = ngx_http_race_access_check(r, id, len,
                                    good ? ask->claims->jti : NULL,
                                    ngx_http_race_live_checked, ask);

    if (rc == NGX_DECLINED) {
        return ngx_http_race_access_unavailable(r);
    }

    return rc == NGX_DONE ? NGX_DONE : NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/*
 * The token, if the request has one: a spectator link (aud live) or a
 * rider token (aud ride), naming a race and with an id to revoke it by.
 * Whether it is needed is known once the race's meta is read.
 */

static void
ngx_http_race_live_token(ngx_http_request_t *r, ngx_http_race_live_ask_t *ask)
{
    ngx_str_t                   token;
    race_jwt_key_t             *keys;
    ngx_http_race_main_conf_t  *rmcf;

    if (ngx_http_race_token(r, &token) != NGX_OK) {
        return;
    }

    ask->has_token = 1;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_race_module);

    if (rmcf->token_keys == NULL) {
        /* no race_token_key: no token can be good here */
        ask->token = RACE_JWT_UNKNOWN_KID;
        return;
    }

    ask->claims = ngx_palloc(r->pool, sizeof(race_jwt_claims_t));
    if (ask->claims == NULL) {
        return;
    }

    keys = rmcf->token_keys->elts;

    ask->token = race_jwt_verify((char *) token.data, token.len, keys,
                                 rmcf->token_keys->nelts, "ngx_race", "live",
                                 ngx_time(), RACE_JWT_RIDE_LEEWAY,
                                 ask->claims);

    if (ask->token == RACE_JWT_BAD_AUDIENCE) {
        ask->token = race_jwt_verify((char *) token.data, token.len, keys,
                                     rmcf->token_keys->nelts, "ngx_race",
                                     "ride", ngx_time(), RACE_JWT_RIDE_LEEWAY,
                                     ask->claims);
    }

    if (ask->token == RACE_JWT_OK
        && (ask->claims->race[0] == '\0' || ask->claims->jti[0] == '\0'))
    {
        ask->token = RACE_JWT_BAD_CLAIMS;
    }
}


static ngx_int_t
ngx_http_race_live_checked(ngx_http_request_t *r, void *data,
    ngx_http_race_access_t *access)
{
    ngx_http_race_live_ask_t   *ask;

    ask = data;

    if (ngx_http_race_live == NULL) {
        /* this worker is exiting */
        return ngx_http_race_access_unavailable(r);
    }

    /* no meta: an ad-hoc race, as race-sim rides; public */

    if (!access->meta || access->public) {
        return ngx_http_race_live_start(r, ask, 0);
    }

    if (!ask->has_token) {
        return ngx_http_race_live_refuse(r, NGX_HTTP_UNAUTHORIZED,
                                         "missing_token",
                                         "this race is private: a token "
                                         "is required", "Bearer");
    }

    if (ask->token != RACE_JWT_OK) {
        /* the token itself is never logged */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "race: live token rejected: %s",
                      race_jwt_strerror(ask->token));

        return ngx_http_race_live_refuse(r, NGX_HTTP_UNAUTHORIZED,
                                         "invalid_token",
                                         race_jwt_strerror(ask->token),
                                         "Bearer error=\"invalid_token\"");
    }

    if (ngx_strlen(ask->claims->race) != ask->len
        || ngx_strncmp(ask->claims->race, ask->id, ask->len) != 0)
    {
        return ngx_http_race_send_error(r, NGX_HTTP_FORBIDDEN, "wrong_race",
                                        "the token is for another race");
    }

    if (!access->loaded) {
        /* the revocations are not all in Redis yet */
        return ngx_http_race_access_unavailable(r);
    }

    if (access->revoked) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "race: revoked token for race \"%*s\"",
                      ask->len, ask->id);

        return ngx_http_race_live_refuse(r, NGX_HTTP_UNAUTHORIZED,
                                         "token_revoked",
                                         "this token was revoked",
                                         "Bearer error=\"invalid_token\"");
    }

    return ngx_http_race_live_start(r, ask, 1);
}


static ngx_int_t
ngx_http_race_live_refuse(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message, char *authenticate)
{
    if (ngx_http_race_add_header(r, "WWW-Authenticate", authenticate)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_race_send_error(r, status, code, message);
}


/* the upgrade; NGX_DONE when the socket is open (it holds the request) */

static ngx_int_t
ngx_http_race_live_start(ngx_http_request_t *r, ngx_http_race_live_ask_t *ask,
    ngx_uint_t private)
{
    ngx_int_t                   rc;
    ngx_http_race_ws_t         *ws;
    ngx_http_race_live_race_t  *race;
    ngx_http_race_spectator_t  *sp;

    rc = ngx_http_race_ws_upgrade(r, &ngx_http_race_live_ws, NULL, &ws);

    if (ws == NULL) {
        return rc;
    }

    ngx_http_race_live_set_send_buffer(r);

    /* answered 101, the connection serves no other request: once each */

    sp = ngx_pcalloc(r->connection->pool, sizeof(ngx_http_race_spectator_t));
    if (sp == NULL) {
        ngx_http_race_ws_close(ws, RACE_WS_CLOSE_INTERNAL, "no memory");
        return NGX_DONE;
    }

    ws->data = sp;

    race = ngx_http_race_live_race(ask->id, ask->len, r->connection->log);
    if (race == NULL) {
        ngx_http_race_ws_close(ws, RACE_WS_CLOSE_INTERNAL, "no memory");
        return NGX_DONE;
    }

    sp->ws = ws;
    sp->race = race;

    ngx_queue_insert_tail(&race->spectators, &sp->link);
    race->nspectators++;
    ngx_http_race_gauge(subscribers, 1);

    if (private) {
        /* the socket obeys its token: revoked or expired, it closes */

        sp->grant = ngx_calloc(sizeof(ngx_http_race_grant_t),
                               r->connection->log);
        if (sp->grant == NULL) {
            ngx_http_race_ws_close(ws, RACE_WS_CLOSE_INTERNAL, "no memory");
            return NGX_DONE;
        }

        ngx_memcpy(sp->grant->jti, ask->claims->jti,
                   ngx_strlen(ask->claims->jti) + 1);
        sp->grant->expires = (time_t) (ask->claims->exp
                                       + RACE_JWT_RIDE_LEEWAY);
        sp->grant->end = ngx_http_race_live_end;
        sp->grant->data = sp;
        sp->grant->log = r->connection->log;

        ngx_http_race_grant_add(sp->grant);
    }

    if (race->loaded) {
        (void) ngx_http_race_live_send_snapshot(sp);

    } else {
        sp->wait = ngx_calloc(sizeof(ngx_event_t), r->connection->log);
        if (sp->wait == NULL) {
            ngx_http_race_ws_close(ws, RACE_WS_CLOSE_INTERNAL, "no memory");
            return NGX_DONE;
        }

        sp->wait->handler = ngx_http_race_live_waited;
        sp->wait->data = sp;
        sp->wait->log = r->connection->log;
        sp->wait->cancelable = 1;

        ngx_add_timer(sp->wait, ngx_http_race_live->timeout);

        /*
         * The snapshot follows when the race's states are loaded, which
         * is once the subscription is confirmed: no tick falls between.
         */
        ngx_http_race_live_subscribe(race);

        if (race->sub == NGX_HTTP_RACE_SUB_SUBSCRIBED) {
            ngx_http_race_live_load(race);
        }
    }

    return NGX_DONE;
}


static void
ngx_http_race_live_end(ngx_http_race_grant_t *g, const char *reason)
{
    ngx_http_race_spectator_t  *sp;

    sp = g->data;

    if (sp->ws == NULL) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, g->log, 0,
                  "race: spectator of race \"%s\" closed: %s",
                  sp->race ? (char *) sp->race->id : "", reason);

    ngx_http_race_ws_close(sp->ws, NGX_HTTP_RACE_CLOSE_POLICY, reason);
}


static ngx_int_t
ngx_http_race_live_message(ngx_http_race_ws_t *ws, unsigned opcode,
    u_char *data, size_t len)
{
    /* spectators only listen; what they say is ignored */
    return NGX_OK;
}


static void
ngx_http_race_live_drain(ngx_http_race_ws_t *ws)
{
    ngx_http_race_spectator_t  *sp;

    sp = ws->data;

    /*
     * It missed ticks: the latest state, not the backlog, once at most
     * the frame being written is left (send_latest() waits for that).
     */

    if (sp && sp->race && !sp->live && sp->race->loaded
        && ngx_http_race_live_send_snapshot(sp) == NGX_OK
        && sp->slow)
    {
        sp->slow = 0;
        ngx_http_race_count(snapshots, 1);
    }
}


static void
ngx_http_race_live_close(ngx_http_race_ws_t *ws)
{
    ngx_http_race_live_race_t  *race;
    ngx_http_race_spectator_t  *sp;

    sp = ws->data;

    if (sp == NULL) {
        /* closed before it was a spectator */
        return;
    }

    race = sp->race;

    ngx_http_race_live_unwait(sp);

    if (sp->grant) {
        ngx_http_race_grant_delete(sp->grant);
        ngx_free(sp->grant);
        sp->grant = NULL;
    }

    sp->ws = NULL;

    if (race == NULL) {
        return;
    }

    ngx_queue_remove(&sp->link);
    race->nspectators--;
    ngx_http_race_gauge(subscribers, -1);
    sp->race = NULL;

    if (race->nspectators == 0 && ngx_http_race_live) {
        ngx_http_race_live_unsubscribe(race);
    }
}


/* no snapshot in time: Redis is away or silent; the page comes back */

static void
ngx_http_race_live_waited(ngx_event_t *ev)
{
    ngx_http_race_spectator_t  *sp;

    sp = ev->data;

    ngx_log_error(NGX_LOG_INFO, ev->log, 0,
                  "race: no snapshot of race \"%s\" in %Mms, closing",
                  sp->race ? (char *) sp->race->id : "",
                  ngx_http_race_live ? ngx_http_race_live->timeout : 0);

    /* the timers' loop touches an expired event no more */
    ngx_http_race_live_unwait(sp);

    ngx_http_race_ws_close(sp->ws, NGX_HTTP_RACE_CLOSE_TRY_AGAIN,
                           "live state unavailable, try again");
}


/* the wait for the first snapshot is over: its timer goes */

static void
ngx_http_race_live_unwait(ngx_http_race_spectator_t *sp)
{
    if (sp->wait == NULL) {
        return;
    }

    if (sp->wait->timer_set) {
        ngx_del_timer(sp->wait);
    }

    ngx_free(sp->wait);
    sp->wait = NULL;
}


static ngx_int_t
ngx_http_race_live_send_snapshot(ngx_http_race_spectator_t *sp)
{
    ngx_int_t                   rc;
    race_buf_t                 *text;
    ngx_time_t                 *tp;
    ngx_http_race_live_race_t  *race;

    race = sp->race;

    if (race->snapshot == NULL) {

        tp = ngx_timeofday();
        text = &ngx_http_race_live->text;

        if (race_tick_store_snapshot(&race->store, (char *) race->id,
                                     race->sn.str.len,
                                     (int64_t) tp->sec * 1000 + tp->msec,
                                     text)
            != RACE_TICK_OK)
        {
            return NGX_ERROR;
        }

        race->snapshot = ngx_http_race_frame_create(ngx_http_race_live->log,
                                                    RACE_WS_OP_TEXT,
                                                    (u_char *) text->data,
                                                    text->len);
        if (race->snapshot == NULL) {
            return NGX_ERROR;
        }
    }

    rc = ngx_http_race_ws_send_latest(sp->ws, race->snapshot,
                                      NGX_HTTP_RACE_LIVE_BACKLOG);

    sp->live = (rc == NGX_OK);

    if (sp->live) {
        ngx_http_race_live_unwait(sp);
    }

    return rc;
}


static ngx_http_race_live_race_t *
ngx_http_race_live_find(u_char *id, size_t len)
{
    uint32_t   hash;
    ngx_str_t  key;

    key.data = id;
    key.len = len;
    hash = ngx_crc32_short(id, len);

    return (ngx_http_race_live_race_t *)
               ngx_str_rbtree_lookup(&ngx_http_race_live->races, &key, hash);
}


static ngx_http_race_live_race_t *
ngx_http_race_live_race(u_char *id, size_t len, ngx_log_t *log)
{
    ngx_http_race_live_race_t  *race;

    race = ngx_http_race_live_find(id, len);
    if (race) {
        return race;
    }

    /* zeroed: the store is empty */

    race = ngx_calloc(sizeof(ngx_http_race_live_race_t), log);
    if (race == NULL) {
        return NULL;
    }

    ngx_memcpy(race->id, id, len);
    race->sn.str.data = race->id;
    race->sn.str.len = len;
    race->sn.node.key = ngx_crc32_short(id, len);

    ngx_queue_init(&race->spectators);

    ngx_rbtree_insert(&ngx_http_race_live->races, &race->sn.node);
    ngx_http_race_gauge(races, 1);

    return race;
}


static void
ngx_http_race_live_free(ngx_http_race_live_race_t *race)
{
    ngx_queue_t                *q;
    ngx_http_race_spectator_t  *sp;

    /* spectators still here (only at exit) no longer point at it */

    while (!ngx_queue_empty(&race->spectators)) {
        q = ngx_queue_head(&race->spectators);
        sp = ngx_queue_data(q, ngx_http_race_spectator_t, link);
        ngx_queue_remove(q);
        ngx_http_race_gauge(subscribers, -1);
        sp->race = NULL;
    }

    ngx_http_race_live_forget(race);

    ngx_rbtree_delete(&ngx_http_race_live->races, &race->sn.node);
    ngx_http_race_gauge(races, -1);

    if (race->snapshot) {
        ngx_http_race_frame_release(race->snapshot);
    }

    race_tick_store_free(&race->store);

    ngx_free(race);
}


static void
ngx_http_race_live_subscribe(ngx_http_race_live_race_t *race)
{
    ngx_http_race_redis_t  *rd;

    rd = ngx_http_race_live->sub;

    if (race->sub != NGX_HTTP_RACE_SUB_NONE || !rd->connected) {
        /* subscribed, on its way, or after the unsubscription / connect */
        return;
    }

    if (redisAsyncCommand(rd->ac, ngx_http_race_live_on_sub, NULL,
                          "SUBSCRIBE race:%b:live", race->id,
                          race->sn.str.len)
        != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, ngx_http_race_live->log, 0,
                      "race: redis subscribe to race \"%s\" failed",
                      race->id);
        return;
    }

    race->sub = NGX_HTTP_RACE_SUB_SUBSCRIBING;
}


static void
ngx_http_race_live_unsubscribe(ngx_http_race_live_race_t *race)
{
    ngx_http_race_redis_t  *rd;

    rd = ngx_http_race_live->sub;

    if (race->sub == NGX_HTTP_RACE_SUB_SUBSCRIBED && rd->connected
        && redisAsyncCommand(rd->ac, ngx_http_race_live_on_sub, NULL,
                             "UNSUBSCRIBE race:%b:live", race->id,
                             race->sn.str.len)
           == REDIS_OK)
    {
        /* from now on ticks are missed: the states are no longer kept */
        race->sub = NGX_HTTP_RACE_SUB_UNSUBSCRIBING;
        race->loaded = 0;
        race->loading = 0;
        race->generation = 0;
        ngx_http_race_live_forget(race);
        return;
    }

    if (race->sub == NGX_HTTP_RACE_SUB_NONE) {
        ngx_http_race_live_free(race);
    }

    /* subscribing or unsubscribing: decided when Redis answers */
}


static void
ngx_http_race_live_load(ngx_http_race_live_race_t *race)
{
    ngx_http_race_redis_t      *rd;
    ngx_http_race_live_load_t  *ld;

    rd = ngx_http_race_live->cmd;

    if (race->loading || !rd->connected) {
        return;
    }

    ld = ngx_alloc(sizeof(ngx_http_race_live_load_t),
                   ngx_http_race_live->log);
    if (ld == NULL) {
        return;
    }

    ld->generation = ++ngx_http_race_live->generation;
    ld->len = race->sn.str.len;
    ngx_memcpy(ld->id, race->id, ld->len);

    if (redisAsyncCommand(rd->ac, ngx_http_race_live_on_state, ld,
                          "HGETALL race:%b:state", race->id,
                          race->sn.str.len)
        != REDIS_OK)
    {
        ngx_free(ld);
        return;
    }

    race->generation = ld->generation;
    race->loading = 1;
}


/* replies on the subscriber: confirmations and messages */

static void
ngx_http_race_live_on_sub(redisAsyncContext *ac, void *r, void *privdata)
{
    size_t                      len;
    u_char                     *channel;
    redisReply                 *reply, *type, *name, *payload;
    ngx_http_race_live_race_t  *race;

    reply = r;

    if (reply == NULL || ngx_http_race_live == NULL
        || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
    {
        return;
    }

    type = reply->element[0];
    name = reply->element[1];
    payload = reply->element[2];

    if (type->type != REDIS_REPLY_STRING || name->type != REDIS_REPLY_STRING
        || name->len <= sizeof("race::live") - 1)
    {
        return;
    }

    /* race:<id>:live */

    channel = (u_char *) name->str;
    len = name->len - (sizeof("race::live") - 1);

    race = ngx_http_race_live_find(channel + sizeof("race:") - 1, len);
    if (race == NULL) {
        return;
    }

    if (ngx_strcmp(type->str, "message") == 0) {
        if (payload->type == REDIS_REPLY_STRING) {
            ngx_http_race_live_tick(race, payload->str, payload->len);
        }

        return;
    }

    if (ngx_strcmp(type->str, "subscribe") == 0) {
        race->sub = NGX_HTTP_RACE_SUB_SUBSCRIBED;

        if (race->nspectators == 0) {
            ngx_http_race_live_unsubscribe(race);
            return;
        }

        ngx_http_race_live_load(race);
        return;
    }

    if (ngx_strcmp(type->str, "unsubscribe") == 0) {
        race->sub = NGX_HTTP_RACE_SUB_NONE;

        if (race->nspectators == 0) {
            ngx_http_race_live_free(race);
            return;
        }

        /* spectators came back meanwhile */
        ngx_http_race_live_subscribe(race);
    }
}


static void
ngx_http_race_live_on_state(redisAsyncContext *ac, void *r, void *privdata)
{
    size_t                      i;
    redisReply                 *reply, *field, *value;
    ngx_queue_t                *q;
    race_tick_rc_e              rc;
    ngx_http_race_live_race_t  *race;
    ngx_http_race_spectator_t  *sp;
    ngx_http_race_live_load_t  *ld;

    reply = r;
    ld = privdata;

    race = NULL;

    if (ngx_http_race_live) {
        race = ngx_http_race_live_find(ld->id, ld->len);
    }

    if (race == NULL || race->generation != ld->generation) {
        ngx_free(ld);
        return;
    }

    ngx_free(ld);

    race->loading = 0;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        /* the connection went down: loaded again when it is back */
        return;
    }

    /* the ticks that came while loading stay: they are merged below */

    race_tick_store_clear(&race->store);

    for (i = 0; i + 1 < reply->elements; i += 2) {
        field = reply->element[i];
        value = reply->element[i + 1];

        if (field->type != REDIS_REPLY_STRING
            || value->type != REDIS_REPLY_STRING)
        {
            continue;
        }

        rc = race_tick_store_put(&race->store, field->str, field->len,
                                 value->str, value->len);

        if (rc == RACE_TICK_BAD) {
            ngx_log_error(NGX_LOG_WARN, ngx_http_race_live->log, 0,
                          "race: bad state of a rider in race \"%s\"",
                          race->id);

        } else if (rc == RACE_TICK_NOMEM) {
            ngx_log_error(NGX_LOG_ERR, ngx_http_race_live->log, 0,
                          "race: state of a rider in race \"%s\" dropped: "
                          "no memory", race->id);
        }
    }

    /* ticks that came while loading: the newer states win */

    if (race_tick_store_early_merge(&race->store, &ngx_http_race_live->tick)
        != RACE_TICK_OK)
    {
        ngx_log_error(NGX_LOG_ERR, ngx_http_race_live->log, 0,
                      "race: early ticks of race \"%s\" dropped: no memory",
                      race->id);
    }

    race->loaded = 1;

    /* what the last frame missed is in the snapshot */
    ngx_http_race_live_forget(race);

    if (race->snapshot) {
        ngx_http_race_frame_release(race->snapshot);
        race->snapshot = NULL;
    }

    /* everybody starts again from this state */

    for (q = ngx_queue_head(&race->spectators);
         q != ngx_queue_sentinel(&race->spectators);
         q = ngx_queue_next(q))
    {
        sp = ngx_queue_data(q, ngx_http_race_spectator_t, link);
        (void) ngx_http_race_live_send_snapshot(sp);
    }
}


/*
 * A tick is merged into the race's batch, and the batch is sent by a
 * posted event, after every event of this turn of the loop: all the
 * ticks read meanwhile (the reader takes what the socket holds) leave
 * as one frame per race.  Past capacity the turns grow longer and the
 * batches bigger: ticks merge where they would wait, and no backlog
 * forms in Redis or here.
 */

static void
ngx_http_race_live_tick(ngx_http_race_live_race_t *race, const char *data,
    size_t len)
{
    int              all;
    size_t           n;
    ngx_uint_t       first;
    race_tick_t     *tk;
    race_tick_rc_e   rc;

    tk = &ngx_http_race_live->tick;

    rc = race_tick_scan(tk, data, len);

    if (rc == RACE_TICK_BAD) {
        ngx_log_error(NGX_LOG_WARN, ngx_http_race_live->log, 0,
                      "race: bad tick for race \"%s\": %s at %uz",
                      race->id, tk->error, tk->offset);
        return;
    }

    if (rc == RACE_TICK_NOMEM) {
        goto nomem;
    }

    if (!race->loaded) {
        /* merged after the load; beyond a few, the load covers them */

        if (race_tick_store_early(&race->store, data, len) != RACE_TICK_OK) {
            goto nomem;
        }

        return;
    }

    first = (race_tick_store_changed(&race->store) == 0);

    rc = race_tick_store_batch(&race->store, tk, &n, &all);

    if (rc == RACE_TICK_NOMEM) {
        /* some or all of its states are left out: the rest goes on */
        ngx_log_error(NGX_LOG_ERR, ngx_http_race_live->log, 0,
                      "race: tick for race \"%s\" %s: no memory",
                      race->id, n ? "cut" : "dropped");
    }

    if (n == 0) {
        return;
    }

    if (race->snapshot) {
        ngx_http_race_frame_release(race->snapshot);
        race->snapshot = NULL;
    }

    if (race->pending) {
        /* a second tick in the batch: the union is built when sent */
        ngx_http_race_frame_release(race->pending);
        race->pending = NULL;

    } else if (first && all) {
        /* the common case: the worker's text goes out as it came */
        race->pending = ngx_http_race_frame_create(ngx_http_race_live->log,
                                                   RACE_WS_OP_TEXT,
                                                   (u_char *) data, len);
    }

    if (!race->batched) {
        ngx_queue_insert_tail(&ngx_http_race_live->batches, &race->batch);
        race->batched = 1;
    }

    if (!ngx_http_race_live->emit.posted) {
        ngx_post_event(&ngx_http_race_live->emit, &ngx_posted_events);
    }

    return;

nomem:

    ngx_log_error(NGX_LOG_ERR, ngx_http_race_live->log, 0,
                  "race: tick for race \"%s\" dropped: no memory", race->id);
}


static void
ngx_http_race_live_emit_all(ngx_event_t *ev)
{
    ngx_queue_t                *q;
    ngx_http_race_live_t       *lv;
    ngx_http_race_live_race_t  *race;

    lv = ev->data;

    while (!ngx_queue_empty(&lv->batches)) {
        q = ngx_queue_head(&lv->batches);
        race = ngx_queue_data(q, ngx_http_race_live_race_t, batch);

        ngx_http_race_live_emit(race);
    }
}


/*
 * One frame for the race's batch, shared by its spectators.  One that
 * still has a frame waiting behind the one being written skips it and
 * gets a snapshot once it drains: a frame misses what the skipped one
 * had, a snapshot does not.
 */

static void
ngx_http_race_live_emit(ngx_http_race_live_race_t *race)
{
    race_buf_t                 *text;
    ngx_queue_t                *q;
    ngx_http_race_frame_t      *frame;
    ngx_http_race_spectator_t  *sp;

    frame = race->pending;
    race->pending = NULL;

    if (frame == NULL && race_tick_store_changed(&race->store)) {

        text = &ngx_http_race_live->text;

        if (race_tick_store_frame(&race->store, text) == RACE_TICK_OK) {
            frame = ngx_http_race_frame_create(ngx_http_race_live->log,
                                               RACE_WS_OP_TEXT,
                                               (u_char *) text->data,
                                               text->len);
        }

        if (frame == NULL) {
            ngx_log_error(NGX_LOG_ERR, ngx_http_race_live->log, 0,
                          "race: no frame for race \"%s\": no memory",
                          race->id);
        }
    }

    ngx_http_race_live_forget(race);

    if (frame == NULL) {
        return;
    }

    for (q = ngx_queue_head(&race->spectators);
         q != ngx_queue_sentinel(&race->spectators);
         q = ngx_queue_next(q))
    {
        sp = ngx_queue_data(q, ngx_http_race_spectator_t, link);

        if (!sp->live) {
            continue;
        }

        if (ngx_http_race_ws_send_latest(sp->ws, frame,
                                         NGX_HTTP_RACE_LIVE_BACKLOG)
            == NGX_AGAIN)
        {
            /* behind: a snapshot when its queue drains */
            sp->live = 0;
            sp->slow = 1;
        }
    }

    ngx_http_race_frame_release(frame);
}


/* the batch is dropped: sent, or covered by the next snapshot */

static void
ngx_http_race_live_forget(ngx_http_race_live_race_t *race)
{
    if (race->batched) {
        ngx_queue_remove(&race->batch);
        race->batched = 0;
    }

    if (race->pending) {
        ngx_http_race_frame_release(race->pending);
        race->pending = NULL;
    }

    race_tick_store_forget(&race->store);
}


static void
ngx_http_race_live_up(ngx_http_race_redis_t *rd, void *data)
{
    ngx_rbtree_node_t          *node, *root, *sentinel;
    ngx_http_race_live_race_t  *race;

    root = ngx_http_race_live->races.root;
    sentinel = ngx_http_race_live->races.sentinel;

    if (root == sentinel) {
        return;
    }

    for (node = ngx_rbtree_min(root, sentinel);
         node;
         node = ngx_rbtree_next(&ngx_http_race_live->races, node))
    {
        race = (ngx_http_race_live_race_t *) node;

        if (rd == ngx_http_race_live->sub) {
            /* the confirmation loads the race */
            ngx_http_race_live_subscribe(race);

        } else if (race->sub == NGX_HTTP_RACE_SUB_SUBSCRIBED) {
            ngx_http_race_live_load(race);
        }
    }
}


/*
 * Both connections serve each race: when either is lost, ticks may have
 * been missed, so every race is loaded again once both are back.  Its
 * spectators keep their sockets and get a new snapshot then.
 */

static void
ngx_http_race_live_down(ngx_http_race_redis_t *rd, void *data)
{
    ngx_rbtree_node_t          *node, *next, *root, *sentinel;
    ngx_http_race_live_race_t  *race;

    root = ngx_http_race_live->races.root;
    sentinel = ngx_http_race_live->races.sentinel;

    if (root == sentinel) {
        return;
    }

    for (node = ngx_rbtree_min(root, sentinel); node; node = next) {

        next = ngx_rbtree_next(&ngx_http_race_live->races, node);
        race = (ngx_http_race_live_race_t *) node;

        if (rd == ngx_http_race_live->sub) {
            race->sub = NGX_HTTP_RACE_SUB_NONE;

            if (race->nspectators == 0) {
                ngx_http_race_live_free(race);
                continue;
            }
        }

        /* loaded again when both connections are back */
        race->loaded = 0;
        race->loading = 0;
        race->generation = 0;
        ngx_http_race_live_forget(race);
    }
}

