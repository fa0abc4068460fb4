
/*
 * ngx_race: inside the API, what its route files share: a request's
 * context and the steps of ngx_http_race_api.c that they go through.
 * The contract of a step is that file's (see its top): a helper returns
 * NGX_DONE when a callback goes on, any other code ends the request;
 * only ngx_http_race_api_finish() finalizes.
 */


#ifndef _NGX_HTTP_RACE_API_STEPS_H_INCLUDED_
#define _NGX_HTTP_RACE_API_STEPS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_thread_pool.h>

#include <jansson.h>

#include "ngx_http_race.h"
#include "ngx_http_race_api.h"
#include "ngx_http_race_api_channel.h"
#include "ngx_http_race_redis.h"
#include "race_account.h"
#include "race_jwt.h"


#define NGX_HTTP_RACE_API_SIGNUP    1
#define NGX_HTTP_RACE_API_LOGIN     2
#define NGX_HTTP_RACE_API_LOGOUT    3
#define NGX_HTTP_RACE_API_ME        4
#define NGX_HTTP_RACE_API_ROLE      5
#define NGX_HTTP_RACE_API_RACES     6     /* ngx_http_race_api_races.c */


typedef struct ngx_http_race_api_ctx_s    ngx_http_race_api_ctx_t;
typedef struct ngx_http_race_api_races_s  ngx_http_race_api_races_t;

/* a step that a Redis reply goes on with: NGX_DONE, or a code to end */
typedef ngx_int_t (*ngx_http_race_api_redis_pt)(ngx_http_race_api_ctx_t *ctx,
    redisReply *reply);


/* a Redis call's privdata: cancelled when the request goes */
typedef struct {
    ngx_http_race_api_ctx_t          *ctx;
    ngx_http_race_api_redis_pt        done;
} ngx_http_race_api_call_t;


/* why a request is refused before any step: its status and reason */
typedef struct {
    ngx_uint_t                        status;
    const char                       *code;
    const char                       *message;
    char                              err[RACE_ACCOUNT_ERR_MAX];
} ngx_http_race_api_refusal_t;


struct ngx_http_race_api_ctx_s {
    ngx_http_request_t               *request;
    ngx_uint_t                        route;
    char                              target[RACE_JWT_ID_MAX + 1];

    ngx_http_race_api_call_t         *call;
    ngx_thread_task_t                *task;
    ngx_http_race_api_wait_t          wait;       /* for race-accounts */

    /* what the request carried */
    race_signup_t                     signup;
    race_login_t                      login;
    race_role_req_t                   role;
    ngx_http_race_api_races_t        *races;

    /* the user, as Redis or the worker knows them; "" when anonymous */
    char                              user_id[RACE_JWT_ID_MAX + 1];
    char                              user_role[16];
    int64_t                           user_gen;
    json_t                           *user;       /* for the answer */
    char                              hash[RACE_PASSWORD_ENCODED_MAX];

    unsigned                          bearer:1;
};


/* what race_api holds in a worker process */
typedef struct {
    ngx_http_race_api_main_conf_t    *conf;
    ngx_http_race_main_conf_t        *shared;    /* the token keys */
    ngx_log_t                        *log;
} ngx_http_race_api_t;


extern ngx_http_race_api_t  *ngx_http_race_api;


/* the steps */

void ngx_http_race_api_finish(ngx_http_race_api_ctx_t *ctx, ngx_int_t rc);
ngx_int_t ngx_http_race_api_error(ngx_http_race_api_ctx_t *ctx,
    ngx_uint_t status, const char *code, const char *message);
ngx_int_t ngx_http_race_api_unavailable(ngx_http_race_api_ctx_t *ctx);

/* the caller's token, then its user (ctx->user_id, user_role) */
ngx_int_t ngx_http_race_api_authenticate(ngx_http_race_api_ctx_t *ctx);

ngx_int_t ngx_http_race_api_redis(ngx_http_race_api_ctx_t *ctx,
    ngx_http_race_api_redis_pt done, const char *fmt, ...);
ngx_int_t ngx_http_race_api_redis_argv(ngx_http_race_api_ctx_t *ctx,
    ngx_http_race_api_redis_pt done, int argc, const char **argv,
    const size_t *argvlen);

/* cmd (taken) to race-accounts; its reply to the route's reply step */
ngx_int_t ngx_http_race_api_command(ngx_http_race_api_ctx_t *ctx,
    json_t *cmd, const char *key);
/* the same with a command's text, an object without req, reply, deadline */
ngx_int_t ngx_http_race_api_command_text(ngx_http_race_api_ctx_t *ctx,
    const char *text, const char *key);


/* ngx_http_race_api_races.c: /api/races... */

ngx_int_t ngx_http_race_api_races_route(ngx_http_request_t *r,
    ngx_http_race_api_ctx_t *ctx, ngx_http_race_api_refusal_t *refusal);
ngx_int_t ngx_http_race_api_races_start(ngx_http_race_api_ctx_t *ctx);
/* a token that is not an access token: perhaps a race's link */
ngx_int_t ngx_http_race_api_races_link(ngx_http_race_api_ctx_t *ctx,
    ngx_str_t *token);
ngx_int_t ngx_http_race_api_races_authenticated(
    ngx_http_race_api_ctx_t *ctx);
ngx_int_t ngx_http_race_api_races_reply(ngx_http_race_api_ctx_t *ctx,
    json_t *reply);
void ngx_http_race_api_races_cleanup(ngx_http_race_api_ctx_t *ctx);


#endif /* _NGX_HTTP_RACE_API_STEPS_H_INCLUDED_ */
