
/*
 * ngx_race: the results of races through the API (docs/INTERNALS.md,
 * "Races"): a race's results as race-tracker wrote them into Redis when
 * it finished, as JSON and as CSV; a rider's track as GPX 1.1, which
 * race-accounts reads from MongoDB (the module never does); and the
 * races a user is entered in with their own results, /api/me/results.
 *
 * The race's steps (who may see it, its document) are
 * ngx_http_race_api_races.c's: these run once the race is loaded and
 * the caller may see it, with the API's step contract.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_race_api_steps.h"
#include "ngx_http_race_api_races.h"
#include "ngx_http_race_reply.h"
#include "race_id.h"


/* the races of /api/me/results at most: a rider's seasons of racing */
#define NGX_HTTP_RACE_RESULTS_ME_MAX  500


typedef struct {
    int64_t                           start_at;
    json_t                           *item;
} ngx_http_race_results_item_t;


static ngx_int_t ngx_http_race_api_results_attachment(
    ngx_http_race_api_ctx_t *ctx, const char *ext);
static ngx_int_t ngx_http_race_api_results_members(
    ngx_http_race_api_ctx_t *ctx, redisReply *reply);
static ngx_int_t ngx_http_race_api_results_mine(
    ngx_http_race_api_ctx_t *ctx, redisReply *reply);
static json_t *ngx_http_race_api_results_item(ngx_http_race_api_ctx_t *ctx,
    redisReply *race, redisReply *results, int64_t *start_at);
static ngx_int_t ngx_http_race_api_results_cmp(const void *a, const void *b);


/* GET /api/races/{id}/results[.csv]: as Redis holds them */

ngx_int_t
ngx_http_race_api_results_send(ngx_http_race_api_ctx_t *ctx)
{
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;

    if (rs->results == NULL) {
        return ngx_http_race_api_error(ctx, NGX_HTTP_NOT_FOUND, "no_results",
                                       "the results of this race are not "
                                       "computed yet");
    }

    if (rs->op == NGX_HTTP_RACE_RACES_RESULTS) {
        return ngx_http_race_send_text(ctx->request, NGX_HTTP_OK,
                                       "application/json",
                                       (char *) rs->results,
                                       rs->results_len);
    }

    /* a file to save, for spreadsheets */

    if (ngx_http_race_api_results_attachment(ctx, "-results.csv")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_race_send_text(ctx->request, NGX_HTTP_OK,
                                   "text/csv; charset=utf-8",
                                   (char *) rs->results, rs->results_len);
}


/* GET /api/races/{id}/riders/{rider}/track.gpx: race-accounts reads it */

ngx_int_t
ngx_http_race_api_results_track(ngx_http_race_api_ctx_t *ctx)
{
    json_t                     *cmd;
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;

    if (ngx_http_race_api_races_rider_of(rs->doc, rs->item) == NULL) {
        return ngx_http_race_api_error(ctx, NGX_HTTP_NOT_FOUND, "no_rider",
                                       "no such rider");
    }

    cmd = json_pack("{s:s, s:s, s:s}", "op", "race_track",
                    "race", rs->race, "rider", rs->item);
    if (cmd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_race_api_command(ctx, cmd, rs->race);
}


/* race-accounts' answer to race_track: {"req","ok":true,"gpx"} */

ngx_int_t
ngx_http_race_api_results_tracked(ngx_http_race_api_ctx_t *ctx,
    json_t *reply)
{
    char                        ext[RACE_ID_MAX + 8];
    json_t                     *gpx;
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;
    gpx = json_object_get(reply, "gpx");

    if (!json_is_string(gpx)) {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "race: race-accounts sent a track without its GPX");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf((u_char *) ext, "-%s.gpx%Z", rs->item);

    if (ngx_http_race_api_results_attachment(ctx, ext) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_race_send_text(ctx->request, NGX_HTTP_OK,
                                   "application/gpx+xml",
                                   json_string_value(gpx),
                                   json_string_length(gpx));
}


/* Content-Disposition: attachment; filename="<race id><ext>" */

static ngx_int_t
ngx_http_race_api_results_attachment(ngx_http_race_api_ctx_t *ctx,
    const char *ext)
{
    u_char  *value;

    value = ngx_pnalloc(ctx->request->pool,
                        sizeof("attachment; filename=\"\"")
                        + RACE_ID_MAX + ngx_strlen(ext));
    if (value == NULL) {
        return NGX_ERROR;
    }

    /* ids and ext are [a-z0-9.-]: nothing to quote */

    ngx_sprintf(value, "attachment; filename=\"%s%s\"%Z", ctx->races->race,
                ext);

    return ngx_http_race_add_header(ctx->request, "Content-Disposition",
                                    (char *) value);
}


/*
 * GET /api/me/results: the races the caller is entered in
 * (race:user:<id>:races), each with the caller's entry and, once the
 * race has results, the caller's row of them; latest first.
 */

ngx_int_t
ngx_http_race_api_results_me(ngx_http_race_api_ctx_t *ctx)
{
    return ngx_http_race_api_redis(ctx, ngx_http_race_api_results_members,
                                   "SMEMBERS race:user:%s:races",
                                   ctx->user_id);
}


static ngx_int_t
ngx_http_race_api_results_members(ngx_http_race_api_ctx_t *ctx,
    redisReply *reply)
{
    int           argc;
    size_t        i, n, *argvlen;
    u_char       *key;
    const char  **argv;
    redisReply   *e;
    ngx_pool_t   *pool;

    if (reply->type != REDIS_REPLY_ARRAY) {
        return ngx_http_race_api_unavailable(ctx);
    }

    pool = ctx->request->pool;
    n = ngx_min(reply->elements, NGX_HTTP_RACE_RESULTS_ME_MAX);

    argc = 2 + 2 * n;
    argv = ngx_palloc(pool, argc * sizeof(char *));
    argvlen = ngx_palloc(pool, argc * sizeof(size_t));

    if (argv == NULL || argvlen == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "MGET";
    argvlen[0] = 4;
    argv[1] = "race:races:loaded";
    argvlen[1] = sizeof("race:races:loaded") - 1;

    for (i = 0; i < n; i++) {
        e = reply->element[i];

        if (e->type != REDIS_REPLY_STRING || !race_id_valid(e->str, e->len))
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        key = ngx_pnalloc(pool, 2 * (e->len + sizeof("race:race::results")));
        if (key == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        argv[2 + 2 * i] = (char *) key;
        argvlen[2 + 2 * i] = ngx_sprintf(key, "race:race:%*s", e->len,
                                         e->str)
                             - key;

        key += argvlen[2 + 2 * i];

        argv[3 + 2 * i] = (char *) key;
        argvlen[3 + 2 * i] = ngx_sprintf(key, "race:race:%*s:results",
                                         e->len, e->str)
                             - key;
    }

    return ngx_http_race_api_redis_argv(ctx, ngx_http_race_api_results_mine,
                                        argc, argv, argvlen);
}


static ngx_int_t
ngx_http_race_api_results_mine(ngx_http_race_api_ctx_t *ctx,
    redisReply *reply)
{
    size_t                         i, n;
    json_t                        *list, *body;
    ngx_http_race_results_item_t  *items;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1
        || reply->elements % 2 != 1)
    {
        return ngx_http_race_api_unavailable(ctx);
    }

    if (reply->element[0]->type != REDIS_REPLY_STRING) {
        if (ngx_http_race_add_header(ctx->request, "Retry-After", "2")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_race_api_error(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "unavailable",
                                       "races are loading, try again");
    }

    items = ngx_palloc(ctx->request->pool,
                       (reply->elements / 2 + 1)
                       * sizeof(ngx_http_race_results_item_t));
    if (items == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    for (i = 1; i + 1 < reply->elements; i += 2) {
        items[n].item = ngx_http_race_api_results_item(ctx,
                                                       reply->element[i],
                                                       reply->element[i + 1],
                                                       &items[n].start_at);
        if (items[n].item != NULL) {
            n++;
        }
    }

    ngx_sort(items, n, sizeof(ngx_http_race_results_item_t),
             ngx_http_race_api_results_cmp);

    list = json_array();

    for (i = 0; i < n; i++) {
        if (list == NULL || json_array_append(list, items[i].item) != 0) {
            json_decref(list);
            list = NULL;
        }

        json_decref(items[i].item);
    }

    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body = json_pack("{s:o}", "races", list);

    return ngx_http_race_send_json(ctx->request, NGX_HTTP_OK, body);
}


/*
 * One race of the caller's: {"race":{...},"rider":{...},"result":row
 * or null}, or NULL when the race is gone, or the caller's entry is
 * (a list that changed between the two calls).  A private race is in
 * it too: the caller rode it, and sees only their own row.
 */

static json_t *
ngx_http_race_api_results_item(ngx_http_race_api_ctx_t *ctx,
    redisReply *race, redisReply *results, int64_t *start_at)
{
    size_t        i;
    json_t       *doc, *rider, *entry, *res, *row, *item, *v;
    const char   *id;
    json_error_t  err;

    if (race->type != REDIS_REPLY_STRING) {
        return NULL;
    }

    doc = json_loadb(race->str, race->len, 0, &err);
    if (doc == NULL) {
        return NULL;
    }

    rider = NULL;

    json_array_foreach(json_object_get(doc, "riders"), i, entry) {
        if (ngx_strcmp(ngx_http_race_api_races_str(entry, "user"),
                       ctx->user_id)
            == 0)
        {
            rider = entry;
            break;
        }
    }

    if (rider == NULL) {
        json_decref(doc);
        return NULL;
    }

    id = ngx_http_race_api_races_str(rider, "id");
    row = NULL;
    res = NULL;

    if (results->type == REDIS_REPLY_STRING) {
        res = json_loadb(results->str, results->len, 0, &err);

        json_array_foreach(json_object_get(res, "riders"), i, entry) {
            if (ngx_strcmp(ngx_http_race_api_races_str(entry, "rider"), id)
                == 0)
            {
                row = entry;
                break;
            }
        }
    }

    v = json_object_get(doc, "start_at");
    *start_at = json_is_integer(v) ? json_integer_value(v) : 0;

    item = json_pack("{s:{s:O, s:O, s:O, s:O, s:O*, s:O*, s:O}, "
                     "s:{s:O, s:O*, s:O*, s:O*}, s:O*}",
                     "race",
                     "id", json_object_get(doc, "id"),
                     "name", json_object_get(doc, "name"),
                     "status", json_object_get(doc, "status"),
                     "start_at", json_object_get(doc, "start_at"),
                     "started_at", json_object_get(doc, "started_at"),
                     "finished_at", json_object_get(doc, "finished_at"),
                     "public", json_object_get(doc, "public"),
                     "rider",
                     "id", json_object_get(rider, "id"),
                     "bib", json_object_get(rider, "bib"),
                     "name", json_object_get(rider, "name"),
                     "status", json_object_get(rider, "status"),
                     "result", row);

    if (item != NULL && row == NULL) {
        (void) json_object_set_new(item, "result", json_null());
    }

    json_decref(res);
    json_decref(doc);

    return item;
}


/* the latest start first */

static ngx_int_t
ngx_http_race_api_results_cmp(const void *a, const void *b)
{
    const ngx_http_race_results_item_t  *x = a;
    const ngx_http_race_results_item_t  *y = b;

    return (x->start_at < y->start_at) - (x->start_at > y->start_at);
}
