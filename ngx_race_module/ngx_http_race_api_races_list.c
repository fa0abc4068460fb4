
/*
 * ngx_race: the lists of races, GET /api/races?status=..&limit=&offset=
 * and ?mine=1 (docs/INTERNALS.md, "Races"): the public races of a
 * status from their sorted set in Redis, or the caller's own, a page
 * of them, each race as a list shows it (its riders counted).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_race_api_steps.h"
#include "ngx_http_race_api_races.h"
#include "ngx_http_race_reply.h"
#include "race_id.h"


#define NGX_HTTP_RACE_RACES_LIMIT_MAX     100


static ngx_int_t ngx_http_race_api_races_counted(
    ngx_http_race_api_ctx_t *ctx, redisReply *reply);
static ngx_int_t ngx_http_race_api_races_ranged(
    ngx_http_race_api_ctx_t *ctx, redisReply *reply);
static ngx_int_t ngx_http_race_api_races_listed(
    ngx_http_race_api_ctx_t *ctx, redisReply *reply);


/* ?status=scheduled|live|finished&limit=&offset=, or ?mine=1 */

ngx_int_t
ngx_http_race_api_races_query(ngx_http_request_t *r,
    ngx_http_race_api_races_t *rs, ngx_http_race_api_refusal_t *refusal)
{
    ngx_str_t  v;

    rs->status = "live";
    rs->limit = 20;
    rs->offset = 0;

    refusal->status = NGX_HTTP_BAD_REQUEST;
    refusal->code = "bad_query";

    if (ngx_http_arg(r, (u_char *) "mine", 4, &v) == NGX_OK) {
        if (v.len != 1 || v.data[0] != '1') {
            refusal->message = "mine must be 1";
            return NGX_DECLINED;
        }

        rs->mine = 1;
    }

    if (ngx_http_arg(r, (u_char *) "status", 6, &v) == NGX_OK) {
        if (rs->mine) {
            refusal->message = "mine=1 lists every status: no status with it";
            return NGX_DECLINED;
        }

        if (v.len == 9 && ngx_strncmp(v.data, "scheduled", 9) == 0) {
            rs->status = "scheduled";

        } else if (v.len == 4 && ngx_strncmp(v.data, "live", 4) == 0) {
            rs->status = "live";

        } else if (v.len == 8 && ngx_strncmp(v.data, "finished", 8) == 0) {
            rs->status = "finished";

        } else {
            refusal->message = "status must be scheduled, live or finished";
            return NGX_DECLINED;
        }
    }

    if (ngx_http_arg(r, (u_char *) "limit", 5, &v) == NGX_OK) {
        rs->limit = ngx_atoi(v.data, v.len);

        if (rs->limit < 1 || rs->limit > NGX_HTTP_RACE_RACES_LIMIT_MAX) {
            refusal->message = "limit must be 1 to 100";
            return NGX_DECLINED;
        }
    }

    if (ngx_http_arg(r, (u_char *) "offset", 6, &v) == NGX_OK) {
        rs->offset = ngx_atoi(v.data, v.len);

        if (rs->offset < 0 || rs->offset > 1000000) {
            refusal->message = "offset must be 0 to 1000000";
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* a list: its total, its page of ids, then their races */

ngx_int_t
ngx_http_race_api_races_list(ngx_http_race_api_ctx_t *ctx)
{
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;

    if (rs->mine) {
        return ngx_http_race_api_redis(ctx, ngx_http_race_api_races_counted,
                                       "ZCARD race:races:owner:%s",
                                       ctx->user_id);
    }

    return ngx_http_race_api_redis(ctx, ngx_http_race_api_races_counted,
                                   "ZCARD race:races:%s", rs->status);
}


static ngx_int_t
ngx_http_race_api_races_counted(ngx_http_race_api_ctx_t *ctx,
    redisReply *reply)
{
    ngx_int_t                   last;
    const char                 *cmd;
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;

    if (reply->type != REDIS_REPLY_INTEGER) {
        return ngx_http_race_api_unavailable(ctx);
    }

    rs->total = reply->integer;
    last = rs->offset + rs->limit - 1;

    /* what is coming first, what has just ended first */

    if (rs->mine) {
        return ngx_http_race_api_redis(ctx, ngx_http_race_api_races_ranged,
                                       "ZREVRANGE race:races:owner:%s %i %i",
                                       ctx->user_id, rs->offset, last);
    }

    cmd = (rs->status[0] == 'f') ? "ZREVRANGE" : "ZRANGE";

    return ngx_http_race_api_redis(ctx, ngx_http_race_api_races_ranged,
                                   "%s race:races:%s %i %i", cmd, rs->status,
                                   rs->offset, last);
}


static ngx_int_t
ngx_http_race_api_races_ranged(ngx_http_race_api_ctx_t *ctx,
    redisReply *reply)
{
    int           argc;
    size_t        i, *argvlen;
    const char  **argv;
    redisReply   *e;
    ngx_pool_t   *pool;

    if (reply->type != REDIS_REPLY_ARRAY) {
        return ngx_http_race_api_unavailable(ctx);
    }

    pool = ctx->request->pool;

    argc = 2 + reply->elements;
    argv = ngx_palloc(pool, argc * sizeof(char *));
    argvlen = ngx_palloc(pool, argc * sizeof(size_t));

    if (argv == NULL || argvlen == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "MGET";
    argvlen[0] = 4;
    argv[1] = "race:races:loaded";
    argvlen[1] = sizeof("race:races:loaded") - 1;

    for (i = 0; i < reply->elements; i++) {
        e = reply->element[i];

        if (e->type != REDIS_REPLY_STRING || !race_id_valid(e->str, e->len))
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        argv[2 + i] = (char *) ngx_pnalloc(pool, e->len + 11);
        if (argv[2 + i] == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        argvlen[2 + i] = ngx_sprintf((u_char *) argv[2 + i], "race:race:%*s",
                                     e->len, e->str)
                         - (u_char *) argv[2 + i];
    }

    return ngx_http_race_api_redis_argv(ctx, ngx_http_race_api_races_listed,
                                        argc, argv, argvlen);
}


static ngx_int_t
ngx_http_race_api_races_listed(ngx_http_race_api_ctx_t *ctx,
    redisReply *reply)
{
    size_t                      i;
    json_t                     *list, *doc, *view, *body;
    json_error_t                err;
    redisReply                 *e;
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        return ngx_http_race_api_unavailable(ctx);
    }

    if (reply->element[0]->type != REDIS_REPLY_STRING) {
        /* Redis came back empty and race-accounts is filling it */
        if (ngx_http_race_add_header(ctx->request, "Retry-After", "2")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_race_api_error(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "unavailable",
                                       "races are loading, try again");
    }

    list = json_array();
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 1; i < reply->elements; i++) {
        e = reply->element[i];

        if (e->type != REDIS_REPLY_STRING) {
            continue;       /* gone between the two calls */
        }

        doc = json_loadb(e->str, e->len, 0, &err);
        if (doc == NULL) {
            continue;
        }

        /* the public lists hold public races only, whatever is stored */

        if (!rs->mine && !json_is_true(json_object_get(doc, "public"))) {
            json_decref(doc);
            continue;
        }

        view = ngx_http_race_api_races_view(ctx, doc, 0);
        json_decref(doc);

        if (view == NULL || json_array_append_new(list, view) != 0) {
            json_decref(list);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    body = json_pack("{s:o, s:I, s:i, s:i}", "races", list,
                     "total", (json_int_t) rs->total,
                     "limit", (int) rs->limit, "offset", (int) rs->offset);

    return ngx_http_race_send_json(ctx->request, NGX_HTTP_OK, body);
}
