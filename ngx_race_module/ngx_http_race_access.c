
/*
 * ngx_race: who may open a race's socket, and how long it may stay.
 *
 * The check before an upgrade is two commands down the command
 * connection at once, so one round trip: HMGET of the race's meta hash
 * and, for a token, MGET of race:revocations:loaded and its
 * race:revoked:<jti>.  The request waits for both, off the event loop,
 * at most race_redis_timeout; Redis away or silent means 503: a revoked
 * token or a private race must never pass.
 *
 * Open sockets opened with a token hold a grant, in this worker's tree:
 * a timer ends it once the token expires, and a revocation ends it as
 * soon as this worker hears of it on channel race:revoked.  Revocations
 * published while that subscription was down are found by checking
 * every grant again once it is back.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race.h"
#include "ngx_http_race_access.h"
#include "ngx_http_race_redis.h"
#include "ngx_http_race_reply.h"
#include "ngx_http_race_pending.h"


#define NGX_HTTP_RACE_REVOKED_CHANNEL   "race:revoked"
#define NGX_HTTP_RACE_REVOKED_KEY       "race:revoked:"
#define NGX_HTTP_RACE_REVOKED_LOADED    "race:revocations:loaded"

#define NGX_HTTP_RACE_RECHECK_BATCH     256    /* grants in one MGET */
#define NGX_HTTP_RACE_RECHECK_RETRY     1000   /* ms, Redis not reloaded */
#define NGX_HTTP_RACE_EXPIRE_MAX        86400  /* s: longer timers re-arm */
#define NGX_HTTP_RACE_RECENT            32     /* revocations remembered */


/* a check before an upgrade: cancelled if the request goes first */
typedef struct {
    ngx_http_request_t         *request;      /* NULL: gone or answered */
    ngx_pool_cleanup_t         *cleanup;
    ngx_http_race_access_pt     handler;
    void                       *data;
    ngx_uint_t                  replies;      /* still owed by Redis */
    ngx_uint_t                  failed;       /* a reply was not one */
    ngx_http_race_access_t      access;
    u_char                      jti[RACE_JWT_ID_MAX + 1];   /* "": none */

    /* not cancelable: an exiting worker waits for the answer */
    ngx_event_t                 timer;
} ngx_http_race_access_check_t;


/* an MGET of the revocations of some grants, found again by id */
typedef struct {
    ngx_uint_t                  n;
    ngx_rbtree_key_t            grants[NGX_HTTP_RACE_RECHECK_BATCH];
} ngx_http_race_access_recheck_t;


typedef struct {
    ngx_http_race_pending_t     grants;       /* open sockets, by id */
    ngx_msec_t                  timeout;      /* race_redis_timeout */
    ngx_uint_t                  users;        /* endpoints using it */

    /*
     * Revocations heard lately: one may come before the answer to a
     * check that Redis gave just before it, for a socket not yet open.
     */
    u_char                      recent[NGX_HTTP_RACE_RECENT]
                                      [RACE_JWT_ID_MAX + 1];
    ngx_uint_t                  nrecent;

    ngx_event_t                 recheck;      /* Redis not reloaded yet */
    ngx_log_t                  *log;
    unsigned                    recheck_wanted:1;
} ngx_http_race_access_state_t;


static void ngx_http_race_access_gone(void *data);
static void ngx_http_race_access_timeout(ngx_event_t *ev);
static void ngx_http_race_access_on_meta(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_race_access_on_revocation(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_race_access_answered(
    ngx_http_race_access_check_t *check);
static ngx_uint_t ngx_http_race_access_recent(u_char *jti);

static void ngx_http_race_grant_end(ngx_http_race_grant_t *g,
    const char *reason);
static void ngx_http_race_grant_expire(ngx_event_t *ev);
static void ngx_http_race_access_up(ngx_http_race_redis_t *rd, void *data);
static void ngx_http_race_access_on_revoked(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_race_access_recheck(ngx_http_race_access_state_t *as);
static void ngx_http_race_access_recheck_retry(ngx_event_t *ev);
static ngx_int_t ngx_http_race_access_recheck_send(
    ngx_http_race_access_state_t *as, ngx_http_race_access_recheck_t *rc);
static void ngx_http_race_access_rechecked(redisAsyncContext *ac, void *r,
    void *privdata);


static ngx_http_race_access_state_t  *ngx_http_race_access;


ngx_int_t
ngx_http_race_access_init(ngx_cycle_t *cycle)
{
    ngx_http_race_main_conf_t     *rmcf;
    ngx_http_race_access_state_t  *as;

    if (ngx_http_race_access) {
        ngx_http_race_access->users++;
        return NGX_OK;
    }

    if (ngx_http_race_redis_pair == NULL) {
        return NGX_ERROR;
    }

    rmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_race_module);

    as = ngx_pcalloc(cycle->pool, sizeof(ngx_http_race_access_state_t));
    if (as == NULL) {
        return NGX_ERROR;
    }

    ngx_http_race_pending_init(&as->grants);

    as->timeout = rmcf->redis_timeout;
    as->users = 1;
    as->log = cycle->log;

    as->recheck.handler = ngx_http_race_access_recheck_retry;
    as->recheck.data = as;
    as->recheck.log = cycle->log;
    as->recheck.cancelable = 1;

    ngx_http_race_access = as;

    /*
     * A lost subscriber needs nothing here: revocations published while
     * it is down are found once it is back.
     */

    return ngx_http_race_redis_pair_listen(ngx_http_race_access_up, NULL,
                                           as);
}


void
ngx_http_race_access_exit(ngx_cycle_t *cycle)
{
    ngx_http_race_access_state_t  *as;

    as = ngx_http_race_access;

    if (as == NULL || --as->users) {
        return;
    }

    /* the Redis calls still pending find nothing and free their records */

    if (as->recheck.timer_set) {
        ngx_del_timer(&as->recheck);
    }

    ngx_http_race_access = NULL;
}


ngx_int_t
ngx_http_race_access_check(ngx_http_request_t *r, u_char *race,
    size_t race_len, const char *jti, ngx_http_race_access_pt handler,
    void *data)
{
    ngx_pool_cleanup_t            *cln;
    ngx_http_race_redis_t         *rd;
    ngx_http_race_access_check_t  *check;

    rd = ngx_http_race_redis_pair ? &ngx_http_race_redis_pair->cmd : NULL;

    if (ngx_http_race_access == NULL || rd == NULL || !rd->connected) {
        return NGX_DECLINED;
    }

    check = ngx_calloc(sizeof(ngx_http_race_access_check_t),
                       r->connection->log);
    if (check == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_free(check);
        return NGX_ERROR;
    }

    check->request = r;
    check->cleanup = cln;
    check->handler = handler;
    check->data = data;

    check->timer.handler = ngx_http_race_access_timeout;
    check->timer.data = check;
    check->timer.log = r->connection->log;

    if (redisAsyncCommand(rd->ac, ngx_http_race_access_on_meta, check,
                          "HMGET race:race:%b:meta status public "
                          "finished_at", race, race_len)
        != REDIS_OK)
    {
        ngx_free(check);
        return NGX_DECLINED;
    }

    check->replies = 1;

    /* down the same connection at once: no second round trip */

    if (jti) {
        ngx_cpystrn(check->jti, (u_char *) jti, sizeof(check->jti));

        if (redisAsyncCommand(rd->ac, ngx_http_race_access_on_revocation,
                              check,
                              "MGET " NGX_HTTP_RACE_REVOKED_LOADED " "
                              NGX_HTTP_RACE_REVOKED_KEY "%s", jti)
            != REDIS_OK)
        {
            /* the first reply frees the record */
            check->request = NULL;
            return NGX_DECLINED;
        }

        check->replies++;
    }

    cln->handler = ngx_http_race_access_gone;
    cln->data = check;

    /*
     * Not cancelable: an exiting worker waits for the answer, or for
     * this, before it lets the socket go.
     */

    ngx_add_timer(&check->timer, ngx_http_race_access->timeout);

    r->main->count++;

    return NGX_DONE;
}


ngx_int_t
ngx_http_race_access_unavailable(ngx_http_request_t *r)
{
    return ngx_http_race_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "try again in a moment");
}


static void
ngx_http_race_access_gone(void *data)
{
    ngx_http_race_access_check_t  *check = data;

    if (check->timer.timer_set) {
        ngx_del_timer(&check->timer);
    }

    /* the last reply frees the record */
    check->request = NULL;
}


static void
ngx_http_race_access_timeout(ngx_event_t *ev)
{
    ngx_connection_t              *c;
    ngx_http_request_t            *r;
    ngx_http_race_access_check_t  *check;

    check = ev->data;
    r = check->request;
    c = r->connection;

    ngx_log_error(NGX_LOG_WARN, c->log, 0,
                  "race: redis did not answer an access check in time");

    /* the replies, when they come, only free the record */
    check->cleanup->handler = NULL;
    check->request = NULL;

    ngx_http_finalize_request(r, ngx_http_race_access_unavailable(r));
    ngx_http_run_posted_requests(c);
}


/* status, public, finished_at of race:race:<id>:meta */

static void
ngx_http_race_access_on_meta(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                    *reply, *status, *public, *finished_at;
    ngx_http_race_access_t        *a;
    ngx_http_race_access_check_t  *check;

    check = privdata;
    reply = r;
    a = &check->access;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 3)
    {
        check->failed = 1;
        ngx_http_race_access_answered(check);
        return;
    }

    status = reply->element[0];
    public = reply->element[1];
    finished_at = reply->element[2];

    if (status->type == REDIS_REPLY_STRING) {
        a->meta = 1;

        /* anything but "1" is private: a hash half written fails closed */
        a->public = (public->type == REDIS_REPLY_STRING
                     && public->len == 1 && public->str[0] == '1');

        a->finished = (status->len == sizeof("finished") - 1
                       && ngx_strncmp(status->str, "finished",
                                      status->len) == 0);

        if (finished_at->type == REDIS_REPLY_STRING) {
            a->finished_at = ngx_atoof((u_char *) finished_at->str,
                                       finished_at->len);
            if (a->finished_at < 0) {
                a->finished_at = 0;
            }
        }
    }

    ngx_http_race_access_answered(check);
}


/* race:revocations:loaded and race:revoked:<jti> */

static void
ngx_http_race_access_on_revocation(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                    *reply;
    ngx_http_race_access_check_t  *check;

    check = privdata;
    reply = r;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 2)
    {
        check->failed = 1;
        ngx_http_race_access_answered(check);
        return;
    }

    /* no marker: the revocations are not all in Redis yet */

    check->access.loaded =
                      (reply->element[0]->type == REDIS_REPLY_STRING);
    check->access.revoked =
                      (reply->element[1]->type != REDIS_REPLY_NIL
                       || ngx_http_race_access_recent(check->jti));

    ngx_http_race_access_answered(check);
}


static void
ngx_http_race_access_answered(ngx_http_race_access_check_t *check)
{
    ngx_int_t            rc;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    if (--check->replies) {
        return;
    }

    r = check->request;

    if (check->timer.timer_set) {
        ngx_del_timer(&check->timer);
    }

    if (r == NULL) {
        /* the client has gone, or was answered at the timeout */
        ngx_free(check);
        return;
    }

    check->cleanup->handler = NULL;
    c = r->connection;

    if (check->failed || ngx_http_race_access == NULL) {
        rc = ngx_http_race_access_unavailable(r);

    } else {
        ngx_log_debug5(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "race: access: meta:%ud public:%ud finished:%ud "
                       "loaded:%ud revoked:%ud",
                       check->access.meta, check->access.public,
                       check->access.finished, check->access.loaded,
                       check->access.revoked);

        rc = check->handler(r, check->data, &check->access);
    }

    ngx_free(check);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static ngx_uint_t
ngx_http_race_access_recent(u_char *jti)
{
    ngx_uint_t                     i, n;
    ngx_http_race_access_state_t  *as;

    as = ngx_http_race_access;

    if (as == NULL || jti[0] == '\0') {
        return 0;
    }

    n = ngx_min(as->nrecent, NGX_HTTP_RACE_RECENT);

    for (i = 0; i < n; i++) {
        if (ngx_strcmp(as->recent[i], jti) == 0) {
            return 1;
        }
    }

    return 0;
}


void
ngx_http_race_grant_add(ngx_http_race_grant_t *g)
{
    if (ngx_http_race_access == NULL) {
        return;
    }

    ngx_http_race_pending_add(&ngx_http_race_access->grants, &g->node);
    g->active = 1;

    /* a worker that shuts down does not wait for a token to expire */

    g->expire.handler = ngx_http_race_grant_expire;
    g->expire.data = g;
    g->expire.log = g->log;
    g->expire.cancelable = 1;

    ngx_http_race_grant_expire(&g->expire);
}


void
ngx_http_race_grant_delete(ngx_http_race_grant_t *g)
{
    if (g->expire.timer_set) {
        ngx_del_timer(&g->expire);
    }

    if (!g->active) {
        return;
    }

    g->active = 0;

    if (ngx_http_race_access) {
        ngx_http_race_pending_delete(&ngx_http_race_access->grants,
                                     &g->node);
    }
}


/* g may be freed by its end(): nothing of it is touched after */

static void
ngx_http_race_grant_end(ngx_http_race_grant_t *g, const char *reason)
{
    if (!g->active) {
        return;
    }

    ngx_http_race_grant_delete(g);

    g->end(g, reason);
}


static void
ngx_http_race_grant_expire(ngx_event_t *ev)
{
    time_t                  left;
    ngx_http_race_grant_t  *g;

    g = ev->data;

    left = g->expires - ngx_time();

    if (left <= 0) {
        ngx_http_race_grant_end(g, "token expired");
        return;
    }

    /* far expiries are armed a day at a time, whatever ngx_msec_t holds */

    ngx_add_timer(ev, (ngx_msec_t) ngx_min(left, NGX_HTTP_RACE_EXPIRE_MAX)
                      * 1000);
}


static void
ngx_http_race_access_up(ngx_http_race_redis_t *rd, void *data)
{
    ngx_http_race_access_state_t  *as = data;

    if (ngx_http_race_access == NULL) {
        return;
    }

    if (rd == &ngx_http_race_redis_pair->sub) {

        /* its confirmation checks the open grants again */

        if (redisAsyncCommand(rd->ac, ngx_http_race_access_on_revoked, NULL,
                              "SUBSCRIBE " NGX_HTTP_RACE_REVOKED_CHANNEL)
            != REDIS_OK)
        {
            ngx_log_error(NGX_LOG_ERR, as->log, 0,
                          "race: redis subscribe to revocations failed");
        }

        return;
    }

    if (as->recheck_wanted) {
        ngx_http_race_access_recheck(as);
    }
}


/* replies on the subscriber: the confirmation, and revoked token ids */

static void
ngx_http_race_access_on_revoked(redisAsyncContext *ac, void *r,
    void *privdata)
{
    size_t                         len;
    u_char                         jti[RACE_JWT_ID_MAX + 1];
    redisReply                    *reply, *type, *payload;
    ngx_rbtree_node_t             *node, *next, *root, *sentinel;
    ngx_http_race_grant_t         *g;
    ngx_http_race_access_state_t  *as;

    reply = r;
    as = ngx_http_race_access;

    if (reply == NULL || as == NULL || reply->type != REDIS_REPLY_ARRAY
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
        ngx_http_race_access_recheck(as);
        return;
    }

    if (ngx_strcmp(type->str, "message") != 0
        || payload->type != REDIS_REPLY_STRING)
    {
        return;
    }

    len = payload->len;

    if (!race_id_valid(payload->str, len)) {
        ngx_log_error(NGX_LOG_WARN, as->log, 0,
                      "race: a revocation that is not a token id");
        return;
    }

    ngx_memcpy(jti, payload->str, len);
    jti[len] = '\0';

    ngx_memcpy(as->recent[as->nrecent++ % NGX_HTTP_RACE_RECENT], jti,
               len + 1);

    /* revocations are rare: every grant of this worker is looked at */

    root = as->grants.tree.root;
    sentinel = as->grants.tree.sentinel;

    if (root == sentinel) {
        return;
    }

    for (node = ngx_rbtree_min(root, sentinel); node; node = next) {

        /* the grant leaves the tree when it ends */
        next = ngx_rbtree_next(&as->grants.tree, node);

        g = (ngx_http_race_grant_t *) node;

        if (ngx_strcmp(g->jti, jti) == 0) {
            ngx_http_race_grant_end(g, "token revoked");
        }
    }
}


/*
 * Every grant is looked up again, a batch of them per MGET on the
 * command connection, with the marker first: without it, Redis is not
 * whole yet and it is done again a moment later.
 */

static void
ngx_http_race_access_recheck(ngx_http_race_access_state_t *as)
{
    ngx_rbtree_node_t               *node, *root, *sentinel;
    ngx_http_race_redis_t           *rd;
    ngx_http_race_access_recheck_t  *rc;

    rd = &ngx_http_race_redis_pair->cmd;

    if (!rd->connected) {
        /* when it is back */
        as->recheck_wanted = 1;
        return;
    }

    as->recheck_wanted = 0;

    root = as->grants.tree.root;
    sentinel = as->grants.tree.sentinel;

    if (root == sentinel) {
        return;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, as->log, 0,
                   "race: checking the open sockets' tokens again");

    rc = NULL;

    for (node = ngx_rbtree_min(root, sentinel);
         node;
         node = ngx_rbtree_next(&as->grants.tree, node))
    {
        if (rc == NULL) {
            rc = ngx_alloc(sizeof(ngx_http_race_access_recheck_t), as->log);
            if (rc == NULL) {
                break;
            }

            rc->n = 0;
        }

        rc->grants[rc->n++] = node->key;

        if (rc->n == NGX_HTTP_RACE_RECHECK_BATCH) {
            if (ngx_http_race_access_recheck_send(as, rc) != NGX_OK) {
                break;
            }

            rc = NULL;
        }
    }

    if (node == NULL && rc == NULL) {
        return;
    }

    if (node == NULL && ngx_http_race_access_recheck_send(as, rc) == NGX_OK) {
        return;
    }

    /* out of memory: the rest a moment later */

    if (!as->recheck.timer_set) {
        ngx_add_timer(&as->recheck, NGX_HTTP_RACE_RECHECK_RETRY);
    }
}


static void
ngx_http_race_access_recheck_retry(ngx_event_t *ev)
{
    if (ngx_http_race_access) {
        ngx_http_race_access_recheck(ngx_http_race_access);
    }
}


/* takes rc: it is freed by the callback, or here on failure */

static ngx_int_t
ngx_http_race_access_recheck_send(ngx_http_race_access_state_t *as,
    ngx_http_race_access_recheck_t *rc)
{
    int                     argc;
    u_char                 *keys, *p;
    size_t                 *argvlen;
    ngx_uint_t              i;
    const char            **argv;
    ngx_http_race_grant_t  *g;
    ngx_http_race_redis_t  *rd;

    rd = &ngx_http_race_redis_pair->cmd;

    argv = ngx_alloc((rc->n + 2) * (sizeof(char *) + sizeof(size_t))
                     + rc->n * (sizeof(NGX_HTTP_RACE_REVOKED_KEY) - 1
                                + RACE_JWT_ID_MAX),
                     as->log);
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
        g = (ngx_http_race_grant_t *)
                ngx_http_race_pending_find(&as->grants, rc->grants[i]);

        argv[i + 2] = (char *) p;

        p = ngx_cpymem(p, NGX_HTTP_RACE_REVOKED_KEY,
                       sizeof(NGX_HTTP_RACE_REVOKED_KEY) - 1);

        /* every grant was just found in the tree */
        p = ngx_cpymem(p, g->jti, ngx_strlen(g->jti));

        argvlen[i + 2] = p - (u_char *) argv[i + 2];
    }

    argc = (int) rc->n + 2;

    /* hiredis copies the arguments into its buffer */

    if (redisAsyncCommandArgv(rd->ac, ngx_http_race_access_rechecked, rc,
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
ngx_http_race_access_rechecked(redisAsyncContext *ac, void *r,
    void *privdata)
{
    size_t                           i;
    redisReply                      *reply;
    ngx_http_race_grant_t           *g;
    ngx_http_race_access_state_t    *as;
    ngx_http_race_access_recheck_t  *rc;

    reply = r;
    rc = privdata;
    as = ngx_http_race_access;

    if (as == NULL) {
        ngx_free(rc);
        return;
    }

    if (reply == NULL) {
        /* the connection went down: all again once it is back */
        as->recheck_wanted = 1;
        ngx_free(rc);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != rc->n + 1
        || reply->element[0]->type != REDIS_REPLY_STRING)
    {
        /*
         * Redis came back without the revocations: race-accounts puts
         * them back and sets the marker; the open sockets wait for it.
         */

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, as->log, 0,
                       "race: revocations not loaded, tokens checked later");

        if (!as->recheck.timer_set) {
            ngx_add_timer(&as->recheck, NGX_HTTP_RACE_RECHECK_RETRY);
        }

        ngx_free(rc);
        return;
    }

    for (i = 0; i < rc->n; i++) {

        if (reply->element[i + 1]->type == REDIS_REPLY_NIL) {
            continue;
        }

        g = (ngx_http_race_grant_t *)
                ngx_http_race_pending_find(&as->grants, rc->grants[i]);

        if (g) {
            ngx_http_race_grant_end(g, "token revoked");
        }
    }

    ngx_free(rc);
}
