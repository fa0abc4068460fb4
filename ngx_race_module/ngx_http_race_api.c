/*
 * ngx_race: the accounts API, /api/auth/... and /api/me, and the admin's
 * role grant (docs/INTERNALS.md, "Accounts"): its module, its routes
 * and the flow of each.
 *
 * Nothing here waits on the event loop.  A request goes through steps,
 * each started here and finished by a callback: the body is read,
 * passwords are hashed or verified in a thread pool
 * (ngx_http_race_api_hash.c), Redis is asked on the worker's command
 * connection, commands go to the race-accounts worker and its reply
 * comes back (ngx_http_race_api_channel.c).
 *
 * One contract for every step, as nginx's limit_req delay has it: a
 * helper returns a code and never finalizes the request.  NGX_DONE
 * means an asynchronous step has started and its callback goes on; any
 * other code is what the request is finalized with (the return of
 * sending the answer, or an NGX_HTTP_* status for nginx to answer).
 * Each callback (body read, Redis reply, hash done, race-accounts'
 * reply or its absence) finalizes the request at most once, in
 * ngx_http_race_api_finish(), and returns nothing.
 *
 * Each of those callbacks may come after the client has gone.  None of
 * them holds the request: the thread job and the Redis call hold a small
 * record of their own that the request's pool cleanup cancels, and the
 * delivery report and the reply find the request by its id, if it is
 * still waiting.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_thread_pool.h>

#include <jansson.h>

#include "ngx_http_race.h"
#include "ngx_http_race_api.h"
#include "ngx_http_race_api_hash.h"
#include "ngx_http_race_api_channel.h"
#include "ngx_http_race_api_steps.h"
#include "ngx_http_race_reply.h"
#include "ngx_http_race_bearer.h"
#include "race_jwt.h"
#include "ngx_http_race_redis.h"
#include "race_account.h"
#include "race_password.h"
#include "race_course.h"
#include "ngx_http_race_status.h"


#define NGX_HTTP_RACE_API_COOKIE    "race_session"


static void *ngx_http_race_api_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_race_api_init_main_conf(ngx_conf_t *cf, void *conf);
static char *ngx_http_race_api_auth_init(ngx_conf_t *cf,
    ngx_http_race_api_main_conf_t *amcf);
static void ngx_http_race_api_passwords_free(void *data);
static char *ngx_http_race_api_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_race_api_init_process(ngx_cycle_t *cycle);
static void ngx_http_race_api_exit_process(ngx_cycle_t *cycle);

static ngx_int_t ngx_http_race_api_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_race_api_route(ngx_http_request_t *r,
    ngx_http_race_api_ctx_t *ctx, ngx_http_race_api_refusal_t *refusal);
static void ngx_http_race_api_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_race_api_start(ngx_http_race_api_ctx_t *ctx);
static ngx_int_t ngx_http_race_api_parse(ngx_http_request_t *r,
    ngx_http_race_api_ctx_t *ctx, ngx_http_race_api_refusal_t *refusal);
static void ngx_http_race_api_cleanup(void *data);
static void ngx_http_race_api_done(void *data);
static void ngx_http_race_api_on_redis(redisAsyncContext *ac, void *r,
    void *privdata);
static ngx_int_t ngx_http_race_api_hash(ngx_http_race_api_ctx_t *ctx,
    const char *encoded);
static void ngx_http_race_api_hashed(void *data, ngx_int_t result,
    const char *encoded);
static void ngx_http_race_api_replied(ngx_http_race_api_wait_t *w,
    ngx_uint_t how, json_t *reply);
static ngx_int_t ngx_http_race_api_reply(ngx_http_race_api_ctx_t *ctx,
    json_t *reply);

static ngx_int_t ngx_http_race_api_authenticated(
    ngx_http_race_api_ctx_t *ctx, redisReply *reply);
static ngx_int_t ngx_http_race_api_signup_hashed(
    ngx_http_race_api_ctx_t *ctx);
static ngx_int_t ngx_http_race_api_login_id(ngx_http_race_api_ctx_t *ctx,
    redisReply *reply);
static ngx_int_t ngx_http_race_api_login_loaded(ngx_http_race_api_ctx_t *ctx,
    redisReply *reply);
static ngx_int_t ngx_http_race_api_login_user(ngx_http_race_api_ctx_t *ctx,
    redisReply *reply);
static ngx_int_t ngx_http_race_api_login_verified(
    ngx_http_race_api_ctx_t *ctx);

static ngx_int_t ngx_http_race_api_token(ngx_http_race_api_ctx_t *ctx,
    json_t *user, ngx_str_t *token);
static ngx_int_t ngx_http_race_api_send(ngx_http_request_t *r,
    ngx_uint_t status, json_t *body, ngx_str_t *cookie);
static ngx_int_t ngx_http_race_api_user_json(ngx_http_race_api_ctx_t *ctx,
    redisReply *hash);

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

static ngx_http_race_conf_value_t  ngx_http_race_course_max_size_value = {
    NGX_HTTP_RACE_CONF_SIZE, 16384, RACE_COURSE_INPUT_MAX,
    "a size from 16k to 8m"
};

static ngx_http_race_conf_value_t  ngx_http_race_rider_token_ttl_value = {
    NGX_HTTP_RACE_CONF_MSEC, 3600 * 1000, NGX_HTTP_RACE_MSEC_MAX,
    "a time from 1h to 24d"
};


static ngx_command_t  ngx_http_race_api_commands[] = {

    { ngx_string("race_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_race_api_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("race_auth_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_api_main_conf_t, thread_pool_name),
      NULL },

    { ngx_string("race_auth_max_hashes"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_api_main_conf_t, max_hashes),
      &ngx_http_race_max_hashes_value },

    { ngx_string("race_auth_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_api_main_conf_t, token_ttl),
      &ngx_http_race_token_ttl_value },

    { ngx_string("race_auth_reply_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_api_main_conf_t, reply_timeout),
      &ngx_http_race_reply_timeout_value },

    { ngx_string("race_api_course_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_api_main_conf_t, course_max_size),
      &ngx_http_race_course_max_size_value },

    { ngx_string("race_rider_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_api_main_conf_t, rider_token_ttl),
      &ngx_http_race_rider_token_ttl_value },

    { ngx_string("race_auth_cookie_secure"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_api_main_conf_t, cookie_secure),
      NULL },

    { ngx_string("race_auth_common_passwords"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_api_main_conf_t, passwords_file),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_race_api_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_race_api_create_main_conf,    /* create main configuration */
    ngx_http_race_api_init_main_conf,      /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_race_api_module = {
    NGX_MODULE_V1,
    &ngx_http_race_api_module_ctx,         /* module context */
    ngx_http_race_api_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_race_api_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_race_api_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


ngx_http_race_api_t  *ngx_http_race_api;


static void *
ngx_http_race_api_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_race_api_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_race_api_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->enabled = 0;
     *     amcf->thread_pool_name = { 0, NULL };
     *     amcf->passwords_file = { 0, NULL };
     *     amcf->passwords = { NULL, 0, NULL };
     */

    amcf->max_hashes = NGX_CONF_UNSET_UINT;
    amcf->token_ttl = NGX_CONF_UNSET_MSEC;
    amcf->reply_timeout = NGX_CONF_UNSET_MSEC;
    amcf->course_max_size = NGX_CONF_UNSET_SIZE;
    amcf->rider_token_ttl = NGX_CONF_UNSET_MSEC;
    amcf->cookie_secure = NGX_CONF_UNSET;

    return amcf;
}


static char *
ngx_http_race_api_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_race_api_main_conf_t *amcf = conf;

    ngx_conf_init_uint_value(amcf->max_hashes, 4);
    ngx_conf_init_msec_value(amcf->token_ttl, 15 * 60 * 1000);
    ngx_conf_init_msec_value(amcf->reply_timeout, 10000);
    ngx_conf_init_size_value(amcf->course_max_size, 4 * 1024 * 1024);
    ngx_conf_init_msec_value(amcf->rider_token_ttl, 2 * 86400 * 1000);
    ngx_conf_init_value(amcf->cookie_secure, 1);

    if (amcf->enabled) {
        return ngx_http_race_api_auth_init(cf, amcf);
    }

    return NGX_CONF_OK;
}


/*
 * What race_api needs, checked and made ready at configuration time:
 * the list of common passwords is read here, once; the thread pool that
 * hashes is named here for nginx to start.
 */

static char *
ngx_http_race_api_auth_init(ngx_conf_t *cf,
    ngx_http_race_api_main_conf_t *amcf)
{
    u_char              *data;
    ssize_t              n;
    ngx_fd_t             fd;
    ngx_str_t            file;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    if (amcf->passwords_file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_api\" needs "
                           "\"race_auth_common_passwords\"");
        return NGX_CONF_ERROR;
    }

    amcf->thread_pool = ngx_thread_pool_add(cf,
                                            amcf->thread_pool_name.len
                                            ? &amcf->thread_pool_name
                                            : NULL);
    if (amcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    file = amcf->passwords_file;

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

    if (race_password_list_load((char *) data, n, &amcf->passwords) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_auth_common_passwords\" \"%V\" could "
                           "not be loaded", &file);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_race_api_passwords_free;
    cln->data = &amcf->passwords;

    return NGX_CONF_OK;
}


static void
ngx_http_race_api_passwords_free(void *data)
{
    race_password_list_free(data);
}


/*
 * race_api: commands go to race-accounts through the queue, users and
 * sessions are on Redis, tokens are signed with the keys
 */

static char *
ngx_http_race_api_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                           *rv;
    ngx_http_race_api_main_conf_t  *amcf;

    rv = ngx_http_race_endpoint(cf, cmd, ngx_http_race_api_handler,
                                NGX_HTTP_RACE_NEEDS_QUEUE
                                |NGX_HTTP_RACE_NEEDS_REDIS
                                |NGX_HTTP_RACE_NEEDS_KEYS);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_race_api_module);
    amcf->enabled = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_race_api_init_process(ngx_cycle_t *cycle)
{
    ngx_http_race_api_t            *api;
    ngx_http_race_api_main_conf_t  *amcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_race_api_module);
    if (amcf == NULL || !amcf->enabled) {
        return NGX_OK;
    }

    ngx_http_race_shared_hold();

    api = ngx_pcalloc(cycle->pool, sizeof(ngx_http_race_api_t));
    if (api == NULL) {
        return NGX_ERROR;
    }

    api->conf = amcf;
    api->shared = ngx_http_cycle_get_module_main_conf(cycle,
                                                      ngx_http_race_module);
    api->log = cycle->log;

    if (race_password_init() != 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "race: password hashing could not start");
        return NGX_ERROR;
    }

    ngx_http_race_api = api;

    return ngx_http_race_api_channel_init(cycle, amcf->reply_timeout);
}


static void
ngx_http_race_api_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_race_api == NULL) {
        return;
    }

    /* what still waits is finalized by its own connection's teardown */
    ngx_http_race_api = NULL;
    ngx_http_race_api_channel_exit();

    ngx_http_race_shared_release(cycle);
}


static ngx_int_t
ngx_http_race_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_str_t                     arg;
    ngx_pool_cleanup_t           *cln;
    ngx_http_race_api_ctx_t      *ctx;
    ngx_http_race_api_refusal_t   refusal;

    if (ngx_http_race_api == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    /* in progress until its pool goes, however it ends */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_race_api_done;
    cln->data = NULL;

    ngx_http_race_count(accepted[NGX_HTTP_RACE_EP_API], 1);
    ngx_http_race_gauge(connections[NGX_HTTP_RACE_EP_API], 1);

    /*
     * A URL lands in logs, histories and Referer headers: API tokens
     * travel in the Authorization header or the cookie only.  A client
     * that sends one in the query is told so, not silently ignored.
     */

    if (ngx_http_arg(r, (u_char *) "access_token",
                     sizeof("access_token") - 1, &arg)
        == NGX_OK)
    {
        return ngx_http_race_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "token_in_query",
                                        "send the token in an Authorization "
                                        "header, never in the URL");
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_race_api_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;

    rc = ngx_http_race_api_route(r, ctx, &refusal);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_race_send_error(r, refusal.status, refusal.code,
                                        refusal.message);
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_race_api_cleanup;
    cln->data = ctx;

    ctx->wait.handler = ngx_http_race_api_replied;
    ctx->wait.data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_race_api_module);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "race api: route %ui, reading the body", ctx->route);

    rc = ngx_http_read_client_request_body(r, ngx_http_race_api_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * The endpoint and method.  NGX_OK: a route; NGX_DECLINED: refused,
 * refusal says why; NGX_ERROR.
 */

static ngx_int_t
ngx_http_race_api_route(ngx_http_request_t *r, ngx_http_race_api_ctx_t *ctx,
    ngx_http_race_api_refusal_t *refusal)
{
    u_char      *p, *u, *last;
    ngx_str_t    uri;
    ngx_uint_t   allowed;

    uri = r->uri;
    allowed = NGX_HTTP_POST;

    if (uri.len >= sizeof("/api/races") - 1
        && ngx_strncmp(uri.data, "/api/races", sizeof("/api/races") - 1)
           == 0
        && (uri.len == sizeof("/api/races") - 1
            || uri.data[sizeof("/api/races") - 1] == '/'))
    {
        ctx->route = NGX_HTTP_RACE_API_RACES;
        return ngx_http_race_api_races_route(r, ctx, refusal);
    }

    if (uri.len == sizeof("/api/me/results") - 1
        && ngx_strncmp(uri.data, "/api/me/results", uri.len) == 0)
    {
        /* a user's races and results: the races' files answer it */
        ctx->route = NGX_HTTP_RACE_API_RACES;
        return ngx_http_race_api_races_route(r, ctx, refusal);
    }

    if (uri.len == sizeof("/api/auth/signup") - 1
        && ngx_strncmp(uri.data, "/api/auth/signup", uri.len) == 0)
    {
        ctx->route = NGX_HTTP_RACE_API_SIGNUP;

    } else if (uri.len == sizeof("/api/auth/login") - 1
               && ngx_strncmp(uri.data, "/api/auth/login", uri.len) == 0)
    {
        ctx->route = NGX_HTTP_RACE_API_LOGIN;

    } else if (uri.len == sizeof("/api/auth/logout") - 1
               && ngx_strncmp(uri.data, "/api/auth/logout", uri.len) == 0)
    {
        ctx->route = NGX_HTTP_RACE_API_LOGOUT;

    } else if (uri.len == sizeof("/api/me") - 1
               && ngx_strncmp(uri.data, "/api/me", uri.len) == 0)
    {
        ctx->route = NGX_HTTP_RACE_API_ME;
        allowed = NGX_HTTP_GET;

    } else if (uri.len > sizeof("/api/admin/users/") - 1
               && ngx_strncmp(uri.data, "/api/admin/users/",
                              sizeof("/api/admin/users/") - 1) == 0)
    {
        /* /api/admin/users/{id}/role */

        p = uri.data + sizeof("/api/admin/users/") - 1;
        last = uri.data + uri.len;

        if (last - p <= (ssize_t) (sizeof("/role") - 1)
            || ngx_strncmp(last - (sizeof("/role") - 1), "/role",
                           sizeof("/role") - 1) != 0)
        {
            goto not_found;
        }

        last -= sizeof("/role") - 1;

        /* user ids are what race_user_id_generate() makes */

        if (last - p != RACE_USER_ID_LEN) {
            goto not_found;
        }

        for (u = p; u < last; u++) {
            if (!((*u >= '0' && *u <= '9') || (*u >= 'a' && *u <= 'f'))) {
                goto not_found;
            }
        }

        ngx_memcpy(ctx->target, p, last - p);
        ctx->target[last - p] = '\0';

        ctx->route = NGX_HTTP_RACE_API_ROLE;

    } else {
        goto not_found;
    }

    if (!(r->method & allowed)) {
        if (ngx_http_race_add_header(r, "Allow",
                                     allowed == NGX_HTTP_GET ? "GET" : "POST")
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        refusal->status = NGX_HTTP_NOT_ALLOWED;
        refusal->code = "method_not_allowed";
        refusal->message = "this method is not allowed here";
        return NGX_DECLINED;
    }

    if (r->method == NGX_HTTP_POST) {
        /*
         * A JSON body only: a cross-site form cannot send one without a
         * preflight, so a cookie alone cannot act for its owner.
         */

        if (r->headers_in.content_type == NULL
            || r->headers_in.content_type->value.len
               < sizeof("application/json") - 1
            || ngx_strncasecmp(r->headers_in.content_type->value.data,
                               (u_char *) "application/json",
                               sizeof("application/json") - 1) != 0)
        {
            refusal->status = NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
            refusal->code = "bad_content_type";
            refusal->message = "the body must be application/json";
            return NGX_DECLINED;
        }

        if (r->headers_in.content_length_n > (off_t) 16384) {
            refusal->status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
            refusal->code = "too_large";
            refusal->message = "the body is over the limit of 16k";
            return NGX_DECLINED;
        }
    }

    return NGX_OK;

not_found:

    refusal->status = NGX_HTTP_NOT_FOUND;
    refusal->code = "not_found";
    refusal->message = "no such API endpoint";
    return NGX_DECLINED;
}


/* a callback: the body is read */

static void
ngx_http_race_api_body(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_http_race_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_race_api_module);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "race api: body read");

    rc = ngx_http_race_api_start(ctx);

    if (rc != NGX_DONE) {
        ngx_http_race_api_finish(ctx, rc);
    }
}


/* the body checked, each route's first step */

static ngx_int_t
ngx_http_race_api_start(ngx_http_race_api_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_http_race_api_refusal_t   refusal;

    if (ctx->route == NGX_HTTP_RACE_API_RACES) {
        return ngx_http_race_api_races_start(ctx);
    }

    rc = ngx_http_race_api_parse(ctx->request, ctx, &refusal);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_race_api_error(ctx, refusal.status, refusal.code,
                                       refusal.message);
    }

    switch (ctx->route) {

    case NGX_HTTP_RACE_API_SIGNUP:
        return ngx_http_race_api_hash(ctx, NULL);

    case NGX_HTTP_RACE_API_LOGIN:
        return ngx_http_race_api_redis(ctx, ngx_http_race_api_login_id,
                                       "GET race:email:%s", ctx->login.email);

    default:
        return ngx_http_race_api_authenticate(ctx);
    }
}


/*
 * The body, checked.  NGX_OK: it is good.  NGX_DECLINED: it is not, and
 * refusal says why; NGX_ERROR.
 */

static ngx_int_t
ngx_http_race_api_parse(ngx_http_request_t *r, ngx_http_race_api_ctx_t *ctx,
    ngx_http_race_api_refusal_t *refusal)
{
    int           rc;
    u_char       *body;
    size_t        len, n;
    ngx_chain_t  *cl;
    const char   *reason;

    if (r->method != NGX_HTTP_POST || ctx->route == NGX_HTTP_RACE_API_LOGOUT)
    {
        return NGX_OK;
    }

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        refusal->status = NGX_HTTP_BAD_REQUEST;
        refusal->code = "bad_json";
        refusal->message = "a JSON body is required";
        return NGX_DECLINED;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->in_file) {
            refusal->status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
            refusal->code = "too_large";
            refusal->message = "the body is over the limit of 16k";
            return NGX_DECLINED;
        }

        len += cl->buf->last - cl->buf->pos;
    }

    if (len > 16384) {
        refusal->status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        refusal->code = "too_large";
        refusal->message = "the body is over the limit of 16k";
        return NGX_DECLINED;
    }

    body = ngx_pnalloc(r->pool, len + 1);
    if (body == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->last > cl->buf->pos) {
            n = ngx_cpymem(body + n, cl->buf->pos,
                           cl->buf->last - cl->buf->pos)
                - body;
        }
    }

    body[n] = '\0';

    switch (ctx->route) {

    case NGX_HTTP_RACE_API_SIGNUP:
        rc = race_signup_parse((char *) body, len, &ctx->signup,
                               refusal->err, sizeof(refusal->err));
        break;

    case NGX_HTTP_RACE_API_LOGIN:
        rc = race_login_parse((char *) body, len, &ctx->login,
                              refusal->err, sizeof(refusal->err));
        break;

    default: /* NGX_HTTP_RACE_API_ROLE */
        rc = race_role_parse((char *) body, len, &ctx->role,
                             refusal->err, sizeof(refusal->err));
        break;
    }

    /* the body may hold a password: zeroed before the pool goes */
    ngx_explicit_memzero(body, len);

    if (rc != 0) {
        refusal->status = NGX_HTTP_BAD_REQUEST;
        refusal->code = "bad_json";
        refusal->message = refusal->err;
        return NGX_DECLINED;
    }

    if (ctx->route == NGX_HTTP_RACE_API_SIGNUP) {
        reason = race_password_check_policy(ctx->signup.password,
                                            ctx->signup.password_len,
                                            &ngx_http_race_api->conf
                                                              ->passwords);
        if (reason) {
            refusal->status = NGX_HTTP_BAD_REQUEST;
            refusal->code = "weak_password";
            refusal->message = reason;
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* the request's pool goes: nothing pending may point at it any more */

static void
ngx_http_race_api_done(void *data)
{
    ngx_http_race_gauge(connections[NGX_HTTP_RACE_EP_API], -1);
}


static void
ngx_http_race_api_cleanup(void *data)
{
    ngx_http_race_api_ctx_t  *ctx = data;

    if (ctx->races) {
        /* its task is a course job's, cancelled there */
        ngx_http_race_api_races_cleanup(ctx);
    }

    if (ctx->call) {
        ctx->call->ctx = NULL;
        ctx->call = NULL;
    }

    if (ctx->task) {
        ngx_http_race_api_hash_cancel(ctx->task);
        ctx->task = NULL;
    }

    ngx_http_race_api_channel_cancel(&ctx->wait);

    if (ctx->user) {
        json_decref(ctx->user);
        ctx->user = NULL;
    }

    /* no password or hash stays in memory longer than the request */
    ngx_explicit_memzero(ctx->signup.password, sizeof(ctx->signup.password));
    ngx_explicit_memzero(ctx->login.password, sizeof(ctx->login.password));
    ngx_explicit_memzero(ctx->hash, sizeof(ctx->hash));
}


/* where a callback ends the request: the one finalization of each */

void
ngx_http_race_api_finish(ngx_http_race_api_ctx_t *ctx, ngx_int_t rc)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "race api: finalize %i", rc);

    ngx_http_race_api_channel_cancel(&ctx->wait);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/* sends an error; returns what sending did, for the caller to finalize */

ngx_int_t
ngx_http_race_api_error(ngx_http_race_api_ctx_t *ctx, ngx_uint_t status,
    const char *code, const char *message)
{
    return ngx_http_race_send_error(ctx->request, status, code, message);
}


ngx_int_t
ngx_http_race_api_unavailable(ngx_http_race_api_ctx_t *ctx)
{
    return ngx_http_race_api_error(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   "unavailable",
                                   "accounts are unavailable for a "
                                   "moment, try again");
}


/* Redis, on the worker's command connection: NGX_DONE when asked */

ngx_int_t
ngx_http_race_api_redis(ngx_http_race_api_ctx_t *ctx,
    ngx_http_race_api_redis_pt done, const char *fmt, ...)
{
    int                        rc;
    va_list                    args;
    ngx_http_race_redis_t     *rd;
    ngx_http_race_api_call_t  *call;

    rd = ngx_http_race_redis_pair ? &ngx_http_race_redis_pair->cmd : NULL;

    if (rd == NULL || !rd->connected) {
        return ngx_http_race_api_unavailable(ctx);
    }

    call = ngx_alloc(sizeof(ngx_http_race_api_call_t),
                     ctx->request->connection->log);
    if (call == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    call->ctx = ctx;
    call->done = done;

    va_start(args, fmt);
    rc = redisvAsyncCommand(rd->ac, ngx_http_race_api_on_redis, call, fmt,
                            args);
    va_end(args);

    if (rc != REDIS_OK) {
        ngx_free(call);
        return ngx_http_race_api_unavailable(ctx);
    }

    ctx->call = call;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                   "race api: redis asked: %s", fmt);

    return NGX_DONE;
}


/* the same with a command of argc arguments */

ngx_int_t
ngx_http_race_api_redis_argv(ngx_http_race_api_ctx_t *ctx,
    ngx_http_race_api_redis_pt done, int argc, const char **argv,
    const size_t *argvlen)
{
    int                        rc;
    ngx_http_race_redis_t     *rd;
    ngx_http_race_api_call_t  *call;

    rd = ngx_http_race_redis_pair ? &ngx_http_race_redis_pair->cmd : NULL;

    if (rd == NULL || !rd->connected) {
        return ngx_http_race_api_unavailable(ctx);
    }

    call = ngx_alloc(sizeof(ngx_http_race_api_call_t),
                     ctx->request->connection->log);
    if (call == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    call->ctx = ctx;
    call->done = done;

    rc = redisAsyncCommandArgv(rd->ac, ngx_http_race_api_on_redis, call,
                               argc, argv, argvlen);

    if (rc != REDIS_OK) {
        ngx_free(call);
        return ngx_http_race_api_unavailable(ctx);
    }

    ctx->call = call;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                   "race api: redis asked: %s, %d arguments", argv[0], argc);

    return NGX_DONE;
}


/* a callback: Redis answered, or the connection went */

static void
ngx_http_race_api_on_redis(redisAsyncContext *ac, void *r, void *privdata)
{
    ngx_int_t                    rc;
    redisReply                  *reply;
    ngx_http_race_api_ctx_t     *ctx;
    ngx_http_race_api_call_t    *call;
    ngx_http_race_api_redis_pt   done;

    call = privdata;
    ctx = call->ctx;
    done = call->done;
    reply = r;

    ngx_free(call);

    if (ctx == NULL) {
        /* the request has gone */
        return;
    }

    ctx->call = NULL;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                   "race api: redis answered: %d",
                   reply ? reply->type : -1);

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        rc = ngx_http_race_api_unavailable(ctx);

    } else {
        /* the step that asked goes on */
        rc = done(ctx, reply);
    }

    if (rc != NGX_DONE) {
        ngx_http_race_api_finish(ctx, rc);
    }
}


/*
 * Hashes the signup's password, or verifies the login's against encoded:
 * NGX_DONE when the job is in the thread pool.
 */

static ngx_int_t
ngx_http_race_api_hash(ngx_http_race_api_ctx_t *ctx, const char *encoded)
{
    size_t                len;
    ngx_int_t             rc;
    const char           *password;
    ngx_http_race_api_t  *api;

    api = ngx_http_race_api;

    if (encoded) {
        password = ctx->login.password;
        len = ctx->login.password_len;

    } else {
        password = ctx->signup.password;
        len = ctx->signup.password_len;
    }

    rc = ngx_http_race_api_hash_post(api->conf->thread_pool,
                                     api->conf->max_hashes, password, len,
                                     encoded, ngx_http_race_api_hashed, ctx,
                                     api->log, &ctx->task);

    switch (rc) {

    case NGX_OK:
        return NGX_DONE;

    case NGX_BUSY:
        if (ngx_http_race_add_header(ctx->request, "Retry-After", "1")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_race_api_error(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "busy", "too many logins at once, "
                                       "try again in a second");

    case NGX_DECLINED:
        return ngx_http_race_api_error(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "busy", "try again in a second");

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


/* a callback: the thread pool has hashed or verified */

static void
ngx_http_race_api_hashed(void *data, ngx_int_t result, const char *encoded)
{
    ngx_http_race_api_ctx_t  *ctx = data;

    ngx_int_t  rc;

    ctx->task = NULL;

    if (result == NGX_ERROR) {
        rc = ngx_http_race_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "internal", "hashing failed");

    } else if (ctx->route == NGX_HTTP_RACE_API_LOGIN) {

        if (result != NGX_OK || ctx->user_id[0] == '\0') {
            ngx_http_race_count(
                auth[NGX_HTTP_RACE_AUTH_LOGIN_CREDENTIALS], 1);

            /* the same answer for an unknown email and a wrong password */
            rc = ngx_http_race_api_error(ctx, NGX_HTTP_UNAUTHORIZED,
                                         "invalid_credentials",
                                         "wrong email or password");

        } else {
            ngx_http_race_count(auth[NGX_HTTP_RACE_AUTH_LOGIN_OK], 1);
            rc = ngx_http_race_api_login_verified(ctx);
        }

    } else {
        ngx_cpystrn((u_char *) ctx->hash, (u_char *) encoded,
                    sizeof(ctx->hash));

        rc = ngx_http_race_api_signup_hashed(ctx);
    }

    if (rc != NGX_DONE) {
        ngx_http_race_api_finish(ctx, rc);
    }
}


/* a command to race-accounts: NGX_DONE when sent, the reply to come */

ngx_int_t
ngx_http_race_api_command(ngx_http_race_api_ctx_t *ctx, json_t *cmd,
    const char *key)
{
    ngx_int_t  rc;

    rc = ngx_http_race_api_channel_send(&ctx->wait, cmd, key,
                                        ctx->request->connection->log);

    switch (rc) {

    case NGX_OK:
        return NGX_DONE;

    case NGX_DECLINED:
        return ngx_http_race_api_unavailable(ctx);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


ngx_int_t
ngx_http_race_api_command_text(ngx_http_race_api_ctx_t *ctx,
    const char *text, const char *key)
{
    ngx_int_t  rc;

    rc = ngx_http_race_api_channel_send_text(&ctx->wait, text,
                                             ngx_strlen(text), key,
                                             ctx->request->connection->log);

    switch (rc) {

    case NGX_OK:
        return NGX_DONE;

    case NGX_DECLINED:
        return ngx_http_race_api_unavailable(ctx);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


/* a callback: race-accounts replied, or the command ended without */

static void
ngx_http_race_api_replied(ngx_http_race_api_wait_t *w, ngx_uint_t how,
    json_t *reply)
{
    ngx_int_t                 rc;
    ngx_http_race_api_ctx_t  *ctx;

    ctx = w->data;

    switch (how) {

    case NGX_HTTP_RACE_API_REPLIED:
        rc = ngx_http_race_api_reply(ctx, reply);
        break;

    case NGX_HTTP_RACE_API_NOT_TAKEN:
        /* never taken, so never done: the client may try again */
        rc = ngx_http_race_api_unavailable(ctx);
        break;

    default: /* NGX_HTTP_RACE_API_TIMEDOUT */
        rc = ngx_http_race_api_error(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "unavailable",
                                     "accounts did not answer in time, try "
                                     "again");
        break;
    }

    if (rc != NGX_DONE) {
        ngx_http_race_api_finish(ctx, rc);
    }
}


static ngx_int_t
ngx_http_race_api_reply(ngx_http_race_api_ctx_t *ctx, json_t *reply)
{
    json_t      *user, *body;
    ngx_str_t    token, cookie;
    ngx_int_t    rc;
    const char  *code;

    if (ctx->route == NGX_HTTP_RACE_API_RACES) {
        return ngx_http_race_api_races_reply(ctx, reply);
    }

    if (json_is_true(json_object_get(reply, "ok"))) {

        user = json_object_get(reply, "user");

        if (!json_is_object(user)) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* the hash stays with race-accounts and Redis */
        (void) json_object_del(user, "hash");

        switch (ctx->route) {

        case NGX_HTTP_RACE_API_SIGNUP:
            if (ngx_http_race_api_token(ctx, user, &token) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            body = json_pack("{s:O, s:s%}", "user", user, "token",
                             (char *) token.data, token.len);
            rc = ngx_http_race_api_send(ctx->request, NGX_HTTP_CREATED, body,
                                        &token);
            break;

        case NGX_HTTP_RACE_API_LOGOUT:
            ngx_str_null(&cookie);
            rc = ngx_http_race_api_send(ctx->request, NGX_HTTP_NO_CONTENT,
                                        NULL, &cookie);
            break;

        default: /* NGX_HTTP_RACE_API_ROLE */
            body = json_pack("{s:O}", "user", user);
            rc = ngx_http_race_api_send(ctx->request, NGX_HTTP_OK, body,
                                        NULL);
            break;
        }

        return rc;
    }

    code = json_string_value(json_object_get(reply, "code"));

    if (code && ngx_strcmp(code, "email_taken") == 0) {
        return ngx_http_race_api_error(ctx, NGX_HTTP_CONFLICT, "email_taken",
                                       "an account has this email already");
    }

    if (code && ngx_strcmp(code, "no_user") == 0) {
        return ngx_http_race_api_error(ctx, NGX_HTTP_NOT_FOUND, "no_user",
                                       "no such user");
    }

    ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                  "race: race-accounts refused a command: %s",
                  code ? code : "(no code)");

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/* who is calling: the token, then what Redis says of its user now */

ngx_int_t
ngx_http_race_api_authenticate(ngx_http_race_api_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_str_t                   token, name;
    race_jwt_rc_e               jrc;
    race_jwt_key_t             *keys;
    race_jwt_claims_t           claims;
    ngx_http_request_t         *r;
    ngx_http_race_main_conf_t  *rmcf;

    r = ctx->request;
    rmcf = ngx_http_race_api->shared;

    ngx_str_null(&token);

    if (ngx_http_race_bearer(r, &token) == NGX_OK) {
        ctx->bearer = 1;

    } else {
        ngx_str_set(&name, NGX_HTTP_RACE_API_COOKIE);

        if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name,
                                              &token)
            == NGX_DECLINED)
        {
            ngx_str_null(&token);
        }
    }

    if (token.len == 0) {
        if (ctx->route == NGX_HTTP_RACE_API_RACES) {
            /* some race reads are open to anyone */
            return ngx_http_race_api_races_authenticated(ctx);
        }

        ngx_http_race_count(auth[NGX_HTTP_RACE_AUTH_API_MISSING], 1);

        return ngx_http_race_api_error(ctx, NGX_HTTP_UNAUTHORIZED,
                                       "missing_token",
                                       "log in first");
    }

    keys = rmcf->token_keys->elts;

    jrc = race_jwt_verify((char *) token.data, token.len, keys,
                          rmcf->token_keys->nelts, "ngx_race", "api",
                          ngx_time(), 30, &claims);

    if (jrc == RACE_JWT_BAD_AUDIENCE && ctx->route == NGX_HTTP_RACE_API_RACES)
    {
        /* a private race's spectator link reads that race */
        rc = ngx_http_race_api_races_link(ctx, &token);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    if (jrc != RACE_JWT_OK || claims.gen <= 0) {
        ngx_http_race_count(auth[NGX_HTTP_RACE_AUTH_API_INVALID], 1);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "race: api token rejected: %s",
                      jrc != RACE_JWT_OK ? race_jwt_strerror(jrc)
                                         : "no generation");
        return ngx_http_race_api_error(ctx, NGX_HTTP_UNAUTHORIZED,
                                       "invalid_token",
                                       jrc != RACE_JWT_OK
                                       ? race_jwt_strerror(jrc)
                                       : "not an access token");
    }

    ngx_cpystrn((u_char *) ctx->user_id, (u_char *) claims.sub,
                sizeof(ctx->user_id));
    ctx->user_gen = claims.gen;

    return ngx_http_race_api_redis(ctx, ngx_http_race_api_authenticated,
                                   "HMGET race:user:%s id email name role gen",
                                   ctx->user_id);
}


static ngx_int_t
ngx_http_race_api_authenticated(ngx_http_race_api_ctx_t *ctx,
    redisReply *reply)
{
    json_t      *cmd;
    ngx_int_t    gen;
    redisReply  *f;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 5
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[4]->type != REDIS_REPLY_STRING)
    {
        ngx_http_race_count(auth[NGX_HTTP_RACE_AUTH_API_INVALID], 1);

        return ngx_http_race_api_error(ctx, NGX_HTTP_UNAUTHORIZED,
                                       "invalid_token",
                                       "no such user, log in again");
    }

    f = reply->element[4];
    gen = ngx_atoi((u_char *) f->str, f->len);

    if (gen != ctx->user_gen) {
        ngx_http_race_count(auth[NGX_HTTP_RACE_AUTH_API_REVOKED], 1);

        /* a logout or a role change since: every older token is void */
        return ngx_http_race_api_error(ctx, NGX_HTTP_UNAUTHORIZED,
                                       "token_revoked",
                                       "this session has ended, log in "
                                       "again");
    }

    ngx_http_race_count(auth[NGX_HTTP_RACE_AUTH_API_OK], 1);

    if (ngx_http_race_api_user_json(ctx, reply) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ctx->route) {

    case NGX_HTTP_RACE_API_RACES:
        return ngx_http_race_api_races_authenticated(ctx);

    case NGX_HTTP_RACE_API_ME:
        return ngx_http_race_api_send(ctx->request, NGX_HTTP_OK,
                                      json_pack("{s:O}", "user", ctx->user),
                                      NULL);

    case NGX_HTTP_RACE_API_LOGOUT:
        cmd = json_pack("{s:s, s:s, s:I}", "op", "logout",
                        "user", ctx->user_id, "gen", (json_int_t) gen);
        if (cmd == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_race_api_command(ctx, cmd, ctx->user_id);

    default: /* NGX_HTTP_RACE_API_ROLE */

        if (ngx_strcmp(ctx->user_role, "admin") != 0) {
            return ngx_http_race_api_error(ctx, NGX_HTTP_FORBIDDEN,
                                           "forbidden",
                                           "only an admin grants roles");
        }

        cmd = json_pack("{s:s, s:s, s:s, s:s}", "op", "role",
                        "user", ctx->target, "role", ctx->role.role,
                        "by", ctx->user_id);
        if (cmd == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_race_api_command(ctx, cmd, ctx->target);
    }
}


/* HMGET id email name role gen, or the same fields of an HGETALL */

static ngx_int_t
ngx_http_race_api_user_json(ngx_http_race_api_ctx_t *ctx, redisReply *hash)
{
    size_t       i;
    const char  *v[5];
    redisReply  *e;

    ngx_memzero(v, sizeof(v));

    if (hash->elements == 5) {
        for (i = 0; i < 5; i++) {
            e = hash->element[i];
            v[i] = (e->type == REDIS_REPLY_STRING) ? e->str : NULL;
        }

    } else {
        for (i = 0; i + 1 < hash->elements; i += 2) {
            e = hash->element[i];

            if (e->type != REDIS_REPLY_STRING
                || hash->element[i + 1]->type != REDIS_REPLY_STRING)
            {
                continue;
            }

            if (ngx_strcmp(e->str, "id") == 0) {
                v[0] = hash->element[i + 1]->str;

            } else if (ngx_strcmp(e->str, "email") == 0) {
                v[1] = hash->element[i + 1]->str;

            } else if (ngx_strcmp(e->str, "name") == 0) {
                v[2] = hash->element[i + 1]->str;

            } else if (ngx_strcmp(e->str, "role") == 0) {
                v[3] = hash->element[i + 1]->str;

            } else if (ngx_strcmp(e->str, "gen") == 0) {
                v[4] = hash->element[i + 1]->str;

            } else if (ngx_strcmp(e->str, "hash") == 0) {
                ngx_cpystrn((u_char *) ctx->hash,
                            (u_char *) hash->element[i + 1]->str,
                            sizeof(ctx->hash));
            }
        }
    }

    if (v[0] == NULL || v[1] == NULL || v[2] == NULL || v[3] == NULL
        || v[4] == NULL)
    {
        return NGX_ERROR;
    }

    ngx_cpystrn((u_char *) ctx->user_id, (u_char *) v[0],
                sizeof(ctx->user_id));
    ngx_cpystrn((u_char *) ctx->user_role, (u_char *) v[3],
                sizeof(ctx->user_role));
    ctx->user_gen = ngx_atoi((u_char *) v[4], ngx_strlen(v[4]));

    if (ctx->user) {
        json_decref(ctx->user);
    }

    ctx->user = json_pack("{s:s, s:s, s:s, s:s}", "id", v[0], "email", v[1],
                          "name", v[2], "role", v[3]);

    return ctx->user ? NGX_OK : NGX_ERROR;
}


/* signup: hashed; now to race-accounts */

static ngx_int_t
ngx_http_race_api_signup_hashed(ngx_http_race_api_ctx_t *ctx)
{
    char     id[RACE_USER_ID_LEN + 1];
    json_t  *cmd;

    if (race_user_id_generate(id) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cmd = json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:s}}",
                    "op", "signup",
                    "user", "id", id, "email", ctx->signup.email,
                    "name", ctx->signup.name, "role", "spectator",
                    "hash", ctx->hash);

    ngx_explicit_memzero(ctx->hash, sizeof(ctx->hash));

    if (cmd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* keyed by the email: two signups for one email meet in one place */
    return ngx_http_race_api_command(ctx, cmd, ctx->signup.email);
}


/* login: email -> id -> user -> verify, the same time for a stranger */

static ngx_int_t
ngx_http_race_api_login_id(ngx_http_race_api_ctx_t *ctx, redisReply *reply)
{
    if (reply->type != REDIS_REPLY_STRING) {
        return ngx_http_race_api_redis(ctx, ngx_http_race_api_login_loaded,
                                       "EXISTS race:users:loaded");
    }

    ngx_cpystrn((u_char *) ctx->user_id, (u_char *) reply->str,
                ngx_min(reply->len + 1, sizeof(ctx->user_id)));

    return ngx_http_race_api_redis(ctx, ngx_http_race_api_login_user,
                                   "HGETALL race:user:%s", ctx->user_id);
}


static ngx_int_t
ngx_http_race_api_login_loaded(ngx_http_race_api_ctx_t *ctx,
    redisReply *reply)
{
    if (reply->type != REDIS_REPLY_INTEGER || reply->integer == 0) {
        /* Redis came back empty and is being filled again */
        if (ngx_http_race_add_header(ctx->request, "Retry-After", "2")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_race_api_error(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "unavailable",
                                       "accounts are loading, try again");
    }

    ctx->user_id[0] = '\0';
    return ngx_http_race_api_hash(ctx, race_password_dummy());
}


static ngx_int_t
ngx_http_race_api_login_user(ngx_http_race_api_ctx_t *ctx,
    redisReply *reply)
{
    ngx_int_t  rc;

    if (reply->type != REDIS_REPLY_ARRAY
        || ngx_http_race_api_user_json(ctx, reply) != NGX_OK
        || ctx->hash[0] == '\0')
    {
        ctx->user_id[0] = '\0';
        return ngx_http_race_api_hash(ctx, race_password_dummy());
    }

    /* the job has its own copy */
    rc = ngx_http_race_api_hash(ctx, ctx->hash);

    ngx_explicit_memzero(ctx->hash, sizeof(ctx->hash));

    return rc;
}


static ngx_int_t
ngx_http_race_api_login_verified(ngx_http_race_api_ctx_t *ctx)
{
    json_t     *body;
    ngx_str_t   token;

    if (ngx_http_race_api_token(ctx, ctx->user, &token) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body = json_pack("{s:O, s:s%}", "user", ctx->user, "token",
                     (char *) token.data, token.len);

    return ngx_http_race_api_send(ctx->request, NGX_HTTP_OK, body, &token);
}


/* an access token for user (id, role; the generation from ctx or user) */

static ngx_int_t
ngx_http_race_api_token(ngx_http_race_api_ctx_t *ctx, json_t *user,
    ngx_str_t *token)
{
    size_t                      len;
    json_t                     *gen;
    ngx_time_t                 *tp;
    race_jwt_key_t             *keys;
    race_jwt_claims_t           claims;
    ngx_http_race_main_conf_t  *rmcf;
    char                        buf[RACE_JWT_MAX_LEN];

    rmcf = ngx_http_race_api->shared;

    ngx_memzero(&claims, sizeof(race_jwt_claims_t));

    ngx_cpystrn((u_char *) claims.sub,
                (u_char *) json_string_value(json_object_get(user, "id")),
                sizeof(claims.sub));
    ngx_cpystrn((u_char *) claims.role,
                (u_char *) json_string_value(json_object_get(user, "role")),
                sizeof(claims.role));

    gen = json_object_get(user, "gen");
    claims.gen = json_is_integer(gen) ? json_integer_value(gen)
                                      : ctx->user_gen;

    if (race_user_id_generate(claims.jti) != 0) {
        return NGX_ERROR;
    }

    tp = ngx_timeofday();
    claims.iat = tp->sec;
    claims.exp = tp->sec + ngx_http_race_api->conf->token_ttl / 1000;

    keys = rmcf->token_keys->elts;

    len = race_jwt_sign(buf, &keys[0], "ngx_race", "api", &claims);
    if (len == 0) {
        return NGX_ERROR;
    }

    token->data = ngx_pnalloc(ctx->request->pool, len);
    if (token->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(token->data, buf, len);
    token->len = len;

    return NGX_OK;
}


/*
 * Sends body (taken) with status; a cookie with a token sets the
 * session, an empty one ends it.
 */

static ngx_int_t
ngx_http_race_api_send(ngx_http_request_t *r, ngx_uint_t status,
    json_t *body, ngx_str_t *cookie)
{
    ngx_table_elt_t                *h;
    ngx_http_race_api_main_conf_t  *amcf;

    amcf = ngx_http_race_api->conf;

    if (cookie) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            json_decref(body);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->value.data = ngx_pnalloc(r->pool, cookie->len + 128);
        if (h->value.data == NULL) {
            json_decref(body);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Set-Cookie");
        h->value.len = ngx_sprintf(h->value.data,
                                   NGX_HTTP_RACE_API_COOKIE "=%V; Path=/; "
                                   "Max-Age=%M; HttpOnly; SameSite=Strict%s",
                                   cookie,
                                   cookie->len ? amcf->token_ttl / 1000 : 0,
                                   amcf->cookie_secure ? "; Secure" : "")
                       - h->value.data;
    }

    return ngx_http_race_send_json(r, status, body);
}
