
/*
 * ngx_race: the races API, /api/races/... (docs/INTERNALS.md, "Races"):
 * its routes and the flow of each.
 *
 * The steps are the API's (ngx_http_race_api_steps.h): the caller is
 * authenticated (an access token, a private race's spectator link, or
 * nobody, where reading is open), the race is read from Redis, the
 * change is checked here and sent to race-accounts, which applies it
 * and replies.  A course is parsed, and written out as GeoJSON, in the
 * thread pool (ngx_http_race_api_job.c): never on the event loop.  The
 * results, tracks and /api/me/results are ngx_http_race_api_results.c's
 * once the race is loaded and may be seen.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_race_api_steps.h"
#include "ngx_http_race_api_races.h"
#include "ngx_http_race_api_job.h"
#include "ngx_http_race_reply.h"
#include "race_course.h"
#include "race_id.h"
#include "race_jwt.h"
#include "race_races_req.h"


#define NGX_HTTP_RACE_RACES_SMALL_BODY    16384


/* a course's job in the thread pool: copies in, a text or an error out */
typedef struct {
    ngx_uint_t                        op;
    char                             *body;       /* malloc()ed */
    size_t                            len;
    char                             *course;     /* stored; malloc()ed */
    size_t                            course_len;
    char                              id[RACE_ID_MAX + 1];
    char                              by[RACE_ID_MAX + 1];

    ngx_uint_t                        status;     /* 0: text is the result */
    const char                       *code;
    char                              err[RACE_RACES_REQ_ERR_MAX];
    char                             *text;       /* malloc()ed */
} ngx_http_race_api_course_job_t;


static ngx_int_t ngx_http_race_api_races_path(ngx_http_request_t *r,
    ngx_http_race_api_races_t *rs, ngx_uint_t *allowed);
static ngx_int_t ngx_http_race_api_races_body(ngx_http_race_api_ctx_t *ctx);

static ngx_int_t ngx_http_race_api_races_load(ngx_http_race_api_ctx_t *ctx);
static ngx_int_t ngx_http_race_api_races_loaded(
    ngx_http_race_api_ctx_t *ctx, redisReply *reply);
static ngx_int_t ngx_http_race_api_races_act(ngx_http_race_api_ctx_t *ctx);
static ngx_int_t ngx_http_race_api_races_rider_add(
    ngx_http_race_api_ctx_t *ctx);
static ngx_int_t ngx_http_race_api_races_rider_update(
    ngx_http_race_api_ctx_t *ctx);
static ngx_int_t ngx_http_race_api_races_link_add(
    ngx_http_race_api_ctx_t *ctx);
static json_t *ngx_http_race_api_races_bib_of(json_t *doc, const char *bib,
    const char *except);

static ngx_int_t ngx_http_race_api_races_job(ngx_http_race_api_ctx_t *ctx);
static void ngx_http_race_api_races_job_run(void *data);
static void ngx_http_race_api_races_job_done(void *data, void *job);
static void ngx_http_race_api_races_job_free(void *job);

static ngx_int_t ngx_http_race_api_races_mint(ngx_http_race_api_ctx_t *ctx,
    const char *aud, const char *sub, int64_t exp);
static ngx_int_t ngx_http_race_api_races_busy(ngx_http_race_api_ctx_t *ctx,
    ngx_int_t rc);


/*
 * /api/races[/{id}[/course|/riders[/{rider}]|/links[/{jti}]|/start
 * |/finish]]: the route, its method, its query and the body's size.
 */

ngx_int_t
ngx_http_race_api_races_route(ngx_http_request_t *r,
    ngx_http_race_api_ctx_t *ctx, ngx_http_race_api_refusal_t *refusal)
{
    off_t                       max;
    ngx_uint_t                  allowed;
    ngx_http_race_api_races_t  *rs;

    rs = ngx_pcalloc(r->pool, sizeof(ngx_http_race_api_races_t));
    if (rs == NULL) {
        return NGX_ERROR;
    }

    ctx->races = rs;

    if (r->uri.len == sizeof("/api/me/results") - 1
        && ngx_strncmp(r->uri.data, "/api/me/results", r->uri.len) == 0)
    {
        allowed = NGX_HTTP_GET;
        rs->op = (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))
                 ? NGX_HTTP_RACE_RACES_ME_RESULTS : 0;

    } else if (ngx_http_race_api_races_path(r, rs, &allowed) != NGX_OK) {
        refusal->status = NGX_HTTP_NOT_FOUND;
        refusal->code = "not_found";
        refusal->message = "no such API endpoint";
        return NGX_DECLINED;
    }

    if (rs->op == 0) {
        if (ngx_http_race_add_header(r, "Allow",
                                     allowed == NGX_HTTP_GET ? "GET"
                                     : allowed == NGX_HTTP_POST ? "POST"
                                     : allowed == NGX_HTTP_DELETE ? "DELETE"
                                     : allowed == (NGX_HTTP_GET|NGX_HTTP_POST)
                                       ? "GET, POST"
                                     : allowed == (NGX_HTTP_GET|NGX_HTTP_PATCH)
                                       ? "GET, PATCH"
                                     : "PATCH, DELETE")
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        refusal->status = NGX_HTTP_NOT_ALLOWED;
        refusal->code = "method_not_allowed";
        refusal->message = "this method is not allowed here";
        return NGX_DECLINED;
    }

    if (rs->op == NGX_HTTP_RACE_RACES_LIST) {
        return ngx_http_race_api_races_query(r, rs, refusal);
    }

    if (!(r->method & (NGX_HTTP_POST|NGX_HTTP_PATCH))) {
        return NGX_OK;
    }

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

    max = (rs->op == NGX_HTTP_RACE_RACES_CREATE
           || rs->op == NGX_HTTP_RACE_RACES_UPDATE)
          ? (off_t) ngx_http_race_api->conf->course_max_size
          : NGX_HTTP_RACE_RACES_SMALL_BODY;

    if (r->headers_in.content_length_n > max) {
        refusal->status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        refusal->code = "too_large";
        refusal->message = (max == NGX_HTTP_RACE_RACES_SMALL_BODY)
                           ? "the body is over the limit of 16k"
                           : "the body is over race_api_course_max_size";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* the path's parts; rs->op 0 when the method is not one of allowed */

static ngx_int_t
ngx_http_race_api_races_path(ngx_http_request_t *r,
    ngx_http_race_api_races_t *rs, ngx_uint_t *allowed)
{
    u_char      *p, *q, *last;
    ngx_str_t    part[4];
    ngx_uint_t   n, m;

    p = r->uri.data + sizeof("/api/races") - 1;
    last = r->uri.data + r->uri.len;

    /* up to four parts after /api/races, none empty */

    n = 0;

    while (p < last) {
        if (*p++ != '/' || n == 4) {
            return NGX_DECLINED;
        }

        q = ngx_strlchr(p, last, '/');
        if (q == NULL) {
            q = last;
        }

        if (q == p) {
            return NGX_DECLINED;
        }

        part[n].data = p;
        part[n].len = q - p;
        n++;
        p = q;
    }

    m = r->method;

    if (n == 0) {
        *allowed = NGX_HTTP_GET|NGX_HTTP_POST;
        rs->op = (m == NGX_HTTP_GET || m == NGX_HTTP_HEAD)
                 ? NGX_HTTP_RACE_RACES_LIST
                 : (m == NGX_HTTP_POST) ? NGX_HTTP_RACE_RACES_CREATE : 0;
        return NGX_OK;
    }

    if (!race_id_valid((char *) part[0].data, part[0].len)) {
        return NGX_DECLINED;
    }

    ngx_memcpy(rs->race, part[0].data, part[0].len);

    if (n == 1) {
        *allowed = NGX_HTTP_GET|NGX_HTTP_PATCH;
        rs->op = (m == NGX_HTTP_GET || m == NGX_HTTP_HEAD)
                 ? NGX_HTTP_RACE_RACES_READ
                 : (m == NGX_HTTP_PATCH) ? NGX_HTTP_RACE_RACES_UPDATE : 0;
        return NGX_OK;
    }

    if (n == 2 && part[1].len == 6
        && ngx_strncmp(part[1].data, "course", 6) == 0)
    {
        *allowed = NGX_HTTP_GET;
        rs->op = (m == NGX_HTTP_GET || m == NGX_HTTP_HEAD)
                 ? NGX_HTTP_RACE_RACES_COURSE : 0;
        return NGX_OK;
    }

    if (n == 2
        && ((part[1].len == 7
             && ngx_strncmp(part[1].data, "results", 7) == 0)
            || (part[1].len == 11
                && ngx_strncmp(part[1].data, "results.csv", 11) == 0)))
    {
        *allowed = NGX_HTTP_GET;
        rs->op = (m != NGX_HTTP_GET && m != NGX_HTTP_HEAD) ? 0
                 : (part[1].len == 7) ? NGX_HTTP_RACE_RACES_RESULTS
                 : NGX_HTTP_RACE_RACES_RESULTS_CSV;
        return NGX_OK;
    }

    if (n == 2 && part[1].len == 5
        && (ngx_strncmp(part[1].data, "start", 5) == 0
            || ngx_strncmp(part[1].data, "links", 5) == 0))
    {
        *allowed = NGX_HTTP_POST;
        rs->op = (m != NGX_HTTP_POST) ? 0
                 : (part[1].data[0] == 's') ? NGX_HTTP_RACE_RACES_START
                 : NGX_HTTP_RACE_RACES_LINK_ADD;
        return NGX_OK;
    }

    if (n == 2 && part[1].len == 6
        && (ngx_strncmp(part[1].data, "finish", 6) == 0
            || ngx_strncmp(part[1].data, "riders", 6) == 0))
    {
        *allowed = NGX_HTTP_POST;
        rs->op = (m != NGX_HTTP_POST) ? 0
                 : (part[1].data[0] == 'f') ? NGX_HTTP_RACE_RACES_FINISH
                 : NGX_HTTP_RACE_RACES_RIDER_ADD;
        return NGX_OK;
    }

    if (n < 3 || !race_id_valid((char *) part[2].data, part[2].len)) {
        return NGX_DECLINED;
    }

    ngx_memcpy(rs->item, part[2].data, part[2].len);

    if (n == 4) {
        /* /riders/{rider}/track.gpx */

        if (part[1].len != 6 || ngx_strncmp(part[1].data, "riders", 6) != 0
            || part[3].len != 9
            || ngx_strncmp(part[3].data, "track.gpx", 9) != 0)
        {
            return NGX_DECLINED;
        }

        *allowed = NGX_HTTP_GET;
        rs->op = (m == NGX_HTTP_GET || m == NGX_HTTP_HEAD)
                 ? NGX_HTTP_RACE_RACES_TRACK : 0;
        return NGX_OK;
    }

    if (part[1].len == 6 && ngx_strncmp(part[1].data, "riders", 6) == 0) {
        *allowed = NGX_HTTP_PATCH|NGX_HTTP_DELETE;
        rs->op = (m == NGX_HTTP_PATCH) ? NGX_HTTP_RACE_RACES_RIDER_UPDATE
                 : (m == NGX_HTTP_DELETE) ? NGX_HTTP_RACE_RACES_RIDER_REMOVE
                 : 0;
        return NGX_OK;
    }

    if (part[1].len == 5 && ngx_strncmp(part[1].data, "links", 5) == 0) {
        *allowed = NGX_HTTP_DELETE;
        rs->op = (m == NGX_HTTP_DELETE) ? NGX_HTTP_RACE_RACES_LINK_REMOVE : 0;
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* the body is read: checked or kept for its job, then who is calling */

ngx_int_t
ngx_http_race_api_races_start(ngx_http_race_api_ctx_t *ctx)
{
    char                        err[RACE_RACES_REQ_ERR_MAX];
    ngx_int_t                   rc;
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;

    rc = ngx_http_race_api_races_body(ctx);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_race_api_error(ctx, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       "too_large", rs->too_large);
    }

    switch (rs->op) {

    case NGX_HTTP_RACE_RACES_RIDER_ADD:
    case NGX_HTTP_RACE_RACES_RIDER_UPDATE:
        if (race_races_rider_parse(rs->body, rs->len,
                                   rs->op == NGX_HTTP_RACE_RACES_RIDER_ADD,
                                   &rs->rider, err, sizeof(err))
            != 0)
        {
            return ngx_http_race_api_error(ctx, NGX_HTTP_BAD_REQUEST,
                                           "bad_json", err);
        }

        break;

    case NGX_HTTP_RACE_RACES_LINK_ADD:
        if (race_races_link_parse(rs->body, rs->len, &rs->ttl, err,
                                  sizeof(err))
            != 0)
        {
            return ngx_http_race_api_error(ctx, NGX_HTTP_BAD_REQUEST,
                                           "bad_json", err);
        }

        break;

    case NGX_HTTP_RACE_RACES_CREATE:
    case NGX_HTTP_RACE_RACES_UPDATE:
        if (rs->len == 0) {
            return ngx_http_race_api_error(ctx, NGX_HTTP_BAD_REQUEST,
                                           "bad_json",
                                           "a JSON body is required");
        }

        /* parsed in the thread pool: it may be megabytes */
        break;

    default:
        break;
    }

    return ngx_http_race_api_authenticate(ctx);
}


/*
 * The body in one malloc()ed copy of its own, for a thread job too.
 * NGX_OK; NGX_DECLINED: too large, rs->too_large says why; NGX_ERROR.
 */

static ngx_int_t
ngx_http_race_api_races_body(ngx_http_race_api_ctx_t *ctx)
{
    u_char                     *p;
    size_t                      len, max;
    ngx_chain_t                *cl;
    ngx_http_request_t         *r;
    ngx_http_race_api_races_t  *rs;

    r = ctx->request;
    rs = ctx->races;

    if (!(r->method & (NGX_HTTP_POST|NGX_HTTP_PATCH))
        || r->request_body == NULL || r->request_body->bufs == NULL)
    {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->in_file) {
            /*
             * Read from a file, it would block the event loop: nginx
             * keeps a body in memory up to client_body_buffer_size.
             */
            rs->too_large = "the body is over this server's "
                            "client_body_buffer_size";
            return NGX_DECLINED;
        }

        len += cl->buf->last - cl->buf->pos;
    }

    /*
     * The body's own length: a chunked body (HTTP/1.1) or one without
     * a Content-Length (HTTP/2) passed the header's check in route
     */

    max = (rs->op == NGX_HTTP_RACE_RACES_CREATE
           || rs->op == NGX_HTTP_RACE_RACES_UPDATE)
          ? ngx_http_race_api->conf->course_max_size
          : NGX_HTTP_RACE_RACES_SMALL_BODY;

    if (len > max) {
        rs->too_large = (max == NGX_HTTP_RACE_RACES_SMALL_BODY)
                        ? "the body is over the limit of 16k"
                        : "the body is over race_api_course_max_size";
        return NGX_DECLINED;
    }

    if (len == 0) {
        return NGX_OK;
    }

    rs->body = ngx_alloc(len + 1, r->connection->log);
    if (rs->body == NULL) {
        return NGX_ERROR;
    }

    p = (u_char *) rs->body;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    *p = '\0';
    rs->len = len;

    return NGX_OK;
}


/*
 * A token that is not an access token: a private race's spectator
 * link reads that race and its course.  NGX_DECLINED: not a link.
 */

ngx_int_t
ngx_http_race_api_races_link(ngx_http_race_api_ctx_t *ctx, ngx_str_t *token)
{
    race_jwt_rc_e               jrc;
    race_jwt_key_t             *keys;
    race_jwt_claims_t           claims;
    ngx_http_race_api_races_t  *rs;
    ngx_http_race_main_conf_t  *rmcf;

    rs = ctx->races;
    rmcf = ngx_http_race_api->shared;
    keys = rmcf->token_keys->elts;

    if (!ngx_http_race_api_races_reading(rs->op)) {
        return NGX_DECLINED;
    }

    jrc = race_jwt_verify((char *) token->data, token->len, keys,
                          rmcf->token_keys->nelts, "ngx_race", "live",
                          ngx_time(), 30, &claims);

    if (jrc != RACE_JWT_OK || claims.jti[0] == '\0') {
        return NGX_DECLINED;
    }

    if (ngx_strcmp(claims.race, rs->race) != 0) {
        return ngx_http_race_api_error(ctx, NGX_HTTP_UNAUTHORIZED,
                                       "invalid_token",
                                       "this link is for another race");
    }

    rs->link = 1;
    ngx_cpystrn((u_char *) rs->link_jti, (u_char *) claims.jti,
                sizeof(rs->link_jti));

    return ngx_http_race_api_races_authenticated(ctx);
}


/* who is calling is known (ctx->user_id "": nobody, or a link) */

ngx_int_t
ngx_http_race_api_races_authenticated(ngx_http_race_api_ctx_t *ctx)
{
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;

    if (ctx->user_id[0] == '\0' && !rs->link
        && !((rs->op == NGX_HTTP_RACE_RACES_LIST && !rs->mine)
             || ngx_http_race_api_races_reading(rs->op)))
    {
        return ngx_http_race_api_error(ctx, NGX_HTTP_UNAUTHORIZED,
                                       "missing_token", "log in first");
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                   "race api: races op %ui by \"%s\" (%s)", rs->op,
                   ctx->user_id, rs->link ? "link" : ctx->user_role);

    switch (rs->op) {

    case NGX_HTTP_RACE_RACES_LIST:
        return ngx_http_race_api_races_list(ctx);

    case NGX_HTTP_RACE_RACES_ME_RESULTS:
        return ngx_http_race_api_results_me(ctx);

    case NGX_HTTP_RACE_RACES_CREATE:
        if (ngx_strcmp(ctx->user_role, "organizer") != 0
            && ngx_strcmp(ctx->user_role, "admin") != 0)
        {
            return ngx_http_race_api_error(ctx, NGX_HTTP_FORBIDDEN,
                                           "forbidden",
                                           "only organizers create races");
        }

        if (race_races_id_generate(rs->race, RACE_RACE_ID_LEN) != 0) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_race_api_races_job(ctx);

    default:
        return ngx_http_race_api_races_load(ctx);
    }
}


/* one race: the marker, the race, and what the route needs besides */

static ngx_int_t
ngx_http_race_api_races_load(ngx_http_race_api_ctx_t *ctx)
{
    int                         argc;
    size_t                      i, argvlen[6];
    const char                 *argv[6];
    ngx_pool_t                 *pool;
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;
    pool = ctx->request->pool;

    argc = 0;
    argv[argc++] = "MGET";
    argv[argc++] = "race:races:loaded";
    argv[argc++] = (char *) ngx_pnalloc(pool, 3 * (RACE_ID_MAX + 32));

    if (argv[2] == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf((u_char *) argv[2], "race:race:%s%Z", rs->race);

    if (rs->op == NGX_HTTP_RACE_RACES_COURSE
        || rs->op == NGX_HTTP_RACE_RACES_UPDATE)
    {
        argv[argc] = argv[argc - 1] + RACE_ID_MAX + 32;
        ngx_sprintf((u_char *) argv[argc++], "race:race:%s:course%Z",
                    rs->race);

    } else if (rs->op == NGX_HTTP_RACE_RACES_RESULTS
               || rs->op == NGX_HTTP_RACE_RACES_RESULTS_CSV)
    {
        /* race-tracker writes them when the race finishes */
        argv[argc] = argv[argc - 1] + RACE_ID_MAX + 32;
        ngx_sprintf((u_char *) argv[argc++], "race:race:%s:results%s%Z",
                    rs->race,
                    rs->op == NGX_HTTP_RACE_RACES_RESULTS ? "" : ".csv");
    }

    if (rs->link) {
        argv[argc++] = "race:revocations:loaded";
        argv[argc] = argv[2] + 2 * (RACE_ID_MAX + 32);
        ngx_sprintf((u_char *) argv[argc++], "race:revoked:%s%Z",
                    rs->link_jti);
    }

    for (i = 0; i < (size_t) argc; i++) {
        argvlen[i] = ngx_strlen(argv[i]);
    }

    return ngx_http_race_api_redis_argv(ctx, ngx_http_race_api_races_loaded,
                                        argc, argv, argvlen);
}


static ngx_int_t
ngx_http_race_api_races_loaded(ngx_http_race_api_ctx_t *ctx,
    redisReply *reply)
{
    size_t                      k;
    redisReply                 *e;
    json_error_t                err;
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
        return ngx_http_race_api_unavailable(ctx);
    }

    k = 2;

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

    e = reply->element[1];

    if (e->type == REDIS_REPLY_STRING) {
        rs->doc = json_loadb(e->str, e->len, 0, &err);

        if (rs->doc == NULL) {
            ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                          "race: race \"%s\" in Redis is not JSON", rs->race);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (rs->op == NGX_HTTP_RACE_RACES_COURSE
        || rs->op == NGX_HTTP_RACE_RACES_UPDATE)
    {
        if (k >= reply->elements) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;  /* not MGET's reply */
        }

        e = reply->element[k++];

        if (e->type == REDIS_REPLY_STRING && e->len > 0) {
            rs->course = ngx_alloc(e->len, ctx->request->connection->log);
            if (rs->course == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_memcpy(rs->course, e->str, e->len);
            rs->course_len = e->len;
        }

    } else if (rs->op == NGX_HTTP_RACE_RACES_RESULTS
               || rs->op == NGX_HTTP_RACE_RACES_RESULTS_CSV)
    {
        if (k >= reply->elements) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;  /* not MGET's reply */
        }

        e = reply->element[k++];

        if (e->type == REDIS_REPLY_STRING && e->len > 0) {
            rs->results = ngx_pnalloc(ctx->request->pool, e->len);
            if (rs->results == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_memcpy(rs->results, e->str, e->len);
            rs->results_len = e->len;
        }
    }

    if (rs->link) {
        if (k + 1 >= reply->elements
            || reply->element[k]->type != REDIS_REPLY_STRING)
        {
            /* fails closed, as /ride does */
            return ngx_http_race_api_unavailable(ctx);
        }

        if (reply->element[k + 1]->type == REDIS_REPLY_STRING) {
            return ngx_http_race_api_error(ctx, NGX_HTTP_UNAUTHORIZED,
                                           "token_revoked",
                                           "this link has been revoked");
        }
    }

    /* a private race is no one else's business: not found, not 403 */

    if (rs->doc == NULL
        || !(json_is_true(json_object_get(rs->doc, "public"))
             || rs->link || ngx_http_race_api_races_owner(ctx)))
    {
        return ngx_http_race_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                       "no such race");
    }

    return ngx_http_race_api_races_act(ctx);
}


/* the race is there and the caller may see it: the route's own step */

static ngx_int_t
ngx_http_race_api_races_act(ngx_http_race_api_ctx_t *ctx)
{
    json_t                     *cmd;
    ngx_time_t                 *tp;
    const char                 *status, *op;
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;

    switch (rs->op) {

    case NGX_HTTP_RACE_RACES_READ:
        return ngx_http_race_send_json(ctx->request, NGX_HTTP_OK,
            json_pack("{s:o}", "race",
                      ngx_http_race_api_races_view(ctx, rs->doc, 1)));

    case NGX_HTTP_RACE_RACES_COURSE:
        if (rs->course == NULL) {
            return ngx_http_race_api_error(ctx, NGX_HTTP_NOT_FOUND,
                                           "not_found",
                                           "this race has no course yet");
        }

        return ngx_http_race_api_races_job(ctx);

    case NGX_HTTP_RACE_RACES_RESULTS:
    case NGX_HTTP_RACE_RACES_RESULTS_CSV:
        return ngx_http_race_api_results_send(ctx);

    case NGX_HTTP_RACE_RACES_TRACK:
        return ngx_http_race_api_results_track(ctx);

    default:
        break;
    }

    /* the rest change the race: its owner's, or an admin's */

    if (rs->link || ctx->user_id[0] == '\0') {
        return ngx_http_race_api_error(ctx, NGX_HTTP_UNAUTHORIZED,
                                       "missing_token", "log in first");
    }

    if (!ngx_http_race_api_races_owner(ctx)) {
        return ngx_http_race_api_error(ctx, NGX_HTTP_FORBIDDEN, "forbidden",
                                       "only the race's organizer or an "
                                       "admin changes it");
    }

    status = ngx_http_race_api_races_str(rs->doc, "status");

    switch (rs->op) {

    case NGX_HTTP_RACE_RACES_UPDATE:
        return ngx_http_race_api_races_job(ctx);

    case NGX_HTTP_RACE_RACES_RIDER_ADD:
        return ngx_http_race_api_races_rider_add(ctx);

    case NGX_HTTP_RACE_RACES_RIDER_UPDATE:
        return ngx_http_race_api_races_rider_update(ctx);

    case NGX_HTTP_RACE_RACES_RIDER_REMOVE:
        if (ngx_http_race_api_races_rider_of(rs->doc, rs->item) == NULL) {
            return ngx_http_race_api_error(ctx, NGX_HTTP_NOT_FOUND,
                                           "no_rider", "no such rider");
        }

        cmd = json_pack("{s:s, s:s, s:s, s:s}", "op", "race_rider_remove",
                        "race", rs->race, "rider", rs->item,
                        "by", ctx->user_id);
        break;

    case NGX_HTTP_RACE_RACES_LINK_ADD:
        return ngx_http_race_api_races_link_add(ctx);

    case NGX_HTTP_RACE_RACES_LINK_REMOVE:
        cmd = json_pack("{s:s, s:s, s:s, s:s}", "op", "race_link_remove",
                        "race", rs->race, "jti", rs->item,
                        "by", ctx->user_id);
        break;

    default: /* NGX_HTTP_RACE_RACES_START, NGX_HTTP_RACE_RACES_FINISH */

        if (rs->op == NGX_HTTP_RACE_RACES_START) {
            op = "race_start";

            if (ngx_strcmp(status, "scheduled") != 0) {
                return ngx_http_race_api_error(ctx, NGX_HTTP_CONFLICT,
                                               "bad_status",
                                               "only a scheduled race "
                                               "starts");
            }

        } else {
            op = "race_finish";

            if (ngx_strcmp(status, "live") != 0) {
                return ngx_http_race_api_error(ctx, NGX_HTTP_CONFLICT,
                                               "bad_status",
                                               "only a live race finishes");
            }
        }

        tp = ngx_timeofday();

        cmd = json_pack("{s:s, s:s, s:s, s:I}", "op", op, "race", rs->race,
                        "by", ctx->user_id,
                        "at", (json_int_t) tp->sec * 1000 + tp->msec);
        break;
    }

    if (cmd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_race_api_command(ctx, cmd, rs->race);
}


/* a rider entered: an id, a rider token, and race-accounts to store it */

static ngx_int_t
ngx_http_race_api_races_rider_add(ngx_http_race_api_ctx_t *ctx)
{
    char                        id[RACE_RIDER_ID_LEN + 1];
    json_t                     *cmd, *start;
    int64_t                     now, from;
    ngx_uint_t                  i;
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;

    if (ngx_strcmp(ngx_http_race_api_races_str(rs->doc, "status"),
                   "finished") == 0)
    {
        return ngx_http_race_api_error(ctx, NGX_HTTP_CONFLICT, "bad_status",
                                       "the race has finished");
    }

    if (ngx_http_race_api_races_bib_of(rs->doc, rs->rider.bib, NULL)) {
        return ngx_http_race_api_error(ctx, NGX_HTTP_CONFLICT, "bib_taken",
                                       "another rider has this bib");
    }

    /* unique within the race: a few tries are plenty at 36^8 */

    for (i = 0; i < 8; i++) {
        if (race_races_id_generate(id, RACE_RIDER_ID_LEN) != 0) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_race_api_races_rider_of(rs->doc, id) == NULL) {
            break;
        }
    }

    if (i == 8 || race_races_id_generate(rs->jti, 16) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a token that lives from the start, for riders entered days before */

    now = ngx_time();
    start = json_object_get(rs->doc, "start_at");
    from = json_is_integer(start) ? json_integer_value(start) / 1000 : now;

    rs->exp = ngx_max(now, from)
              + ngx_http_race_api->conf->rider_token_ttl / 1000;

    if (ngx_http_race_api_races_mint(ctx, "ride", id, rs->exp) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cmd = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:I}}",
                    "op", "race_rider_add", "race", rs->race,
                    "by", ctx->user_id,
                    "rider", "id", id, "name", rs->rider.name,
                    "bib", rs->rider.bib, "jti", rs->jti,
                    "exp", (json_int_t) rs->exp);
    if (cmd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rs->rider.set & RACE_RIDER_USER) {
        if (json_object_set_new(json_object_get(cmd, "rider"), "user",
                                json_string(rs->rider.user))
            != 0)
        {
            json_decref(cmd);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_race_api_command(ctx, cmd, rs->race);
}


static ngx_int_t
ngx_http_race_api_races_rider_update(ngx_http_race_api_ctx_t *ctx)
{
    json_t                     *cmd, *set;
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;

    if (ngx_http_race_api_races_rider_of(rs->doc, rs->item) == NULL) {
        return ngx_http_race_api_error(ctx, NGX_HTTP_NOT_FOUND, "no_rider",
                                       "no such rider");
    }

    if ((rs->rider.set & RACE_RIDER_BIB)
        && ngx_http_race_api_races_bib_of(rs->doc, rs->rider.bib, rs->item))
    {
        return ngx_http_race_api_error(ctx, NGX_HTTP_CONFLICT, "bib_taken",
                                       "another rider has this bib");
    }

    set = json_object();
    if (set == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (((rs->rider.set & RACE_RIDER_NAME)
         && json_object_set_new(set, "name", json_string(rs->rider.name))
            != 0)
        || ((rs->rider.set & RACE_RIDER_BIB)
            && json_object_set_new(set, "bib", json_string(rs->rider.bib))
               != 0)
        || ((rs->rider.set & RACE_RIDER_STATUS)
            && json_object_set_new(set, "status",
                                   json_string(rs->rider.status))
               != 0)
        || ((rs->rider.set & RACE_RIDER_USER)
            && json_object_set_new(set, "user", json_string(rs->rider.user))
               != 0))
    {
        json_decref(set);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cmd = json_pack("{s:s, s:s, s:s, s:s, s:o}", "op", "race_rider_update",
                    "race", rs->race, "rider", rs->item, "by", ctx->user_id,
                    "set", set);
    if (cmd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_race_api_command(ctx, cmd, rs->race);
}


/* a spectator link of a private race: a token, kept to be revoked */

static ngx_int_t
ngx_http_race_api_races_link_add(ngx_http_race_api_ctx_t *ctx)
{
    json_t                     *cmd;
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;

    if (json_is_true(json_object_get(rs->doc, "public"))) {
        return ngx_http_race_api_error(ctx, NGX_HTTP_CONFLICT, "public_race",
                                       "a public race needs no link");
    }

    if (race_races_id_generate(rs->jti, 16) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rs->exp = ngx_time() + rs->ttl;

    if (ngx_http_race_api_races_mint(ctx, "live", rs->jti, rs->exp)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cmd = json_pack("{s:s, s:s, s:s, s:{s:s, s:I}}", "op", "race_link_add",
                    "race", rs->race, "by", ctx->user_id,
                    "link", "jti", rs->jti, "exp", (json_int_t) rs->exp);
    if (cmd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_race_api_command(ctx, cmd, rs->race);
}


json_t *
ngx_http_race_api_races_rider_of(json_t *doc, const char *id)
{
    size_t   i;
    json_t  *rider;

    json_array_foreach(json_object_get(doc, "riders"), i, rider) {
        if (ngx_strcmp(ngx_http_race_api_races_str(rider, "id"), id) == 0) {
            return rider;
        }
    }

    return NULL;
}


static json_t *
ngx_http_race_api_races_bib_of(json_t *doc, const char *bib,
    const char *except)
{
    size_t   i;
    json_t  *rider;

    json_array_foreach(json_object_get(doc, "riders"), i, rider) {
        if (ngx_strcmp(ngx_http_race_api_races_str(rider, "bib"), bib) == 0
            && (except == NULL
                || ngx_strcmp(ngx_http_race_api_races_str(rider, "id"),
                              except) != 0))
        {
            return rider;
        }
    }

    return NULL;
}


/* a course's job: the body and the stored course copied in */

static ngx_int_t
ngx_http_race_api_races_job(ngx_http_race_api_ctx_t *ctx)
{
    ngx_int_t                        rc;
    ngx_http_race_api_races_t       *rs;
    ngx_http_race_api_course_job_t  *job;

    rs = ctx->races;

    job = ngx_calloc(sizeof(ngx_http_race_api_course_job_t),
                     ctx->request->connection->log);
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job->op = rs->op;
    ngx_cpystrn((u_char *) job->id, (u_char *) rs->race, sizeof(job->id));
    ngx_cpystrn((u_char *) job->by, (u_char *) ctx->user_id,
                sizeof(job->by));

    /* the job owns these from here */

    job->body = rs->body;
    job->len = rs->len;
    job->course = rs->course;
    job->course_len = rs->course_len;

    rc = ngx_http_race_api_job_post(ngx_http_race_api->conf->thread_pool,
                                    ngx_http_race_api->conf->max_hashes, job,
                                    ngx_http_race_api_races_job_run,
                                    ngx_http_race_api_races_job_done,
                                    ngx_http_race_api_races_job_free, ctx,
                                    ctx->request->connection->log,
                                    &ctx->task);

    if (rc != NGX_OK) {
        /* still the request's, freed with it */
        ngx_free(job);
        return ngx_http_race_api_races_busy(ctx, rc);
    }

    rs->body = NULL;
    rs->course = NULL;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                   "race api: course job of %uz bytes posted",
                   job->len + job->course_len);

    return NGX_DONE;
}


/* in a pool thread: the job's copies only */

static void
ngx_http_race_api_races_job_run(void *data)
{
    ngx_http_race_api_course_job_t  *job = data;

    int                create, have;
    race_course_t      c;
    race_races_body_t  b;

    ngx_memzero(&c, sizeof(race_course_t));

    if (job->op == NGX_HTTP_RACE_RACES_COURSE) {
        if (race_course_decode(&c, job->course, job->course_len, job->err,
                               sizeof(job->err))
            != 0)
        {
            job->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            job->code = "internal";
            return;
        }

        job->text = race_course_geojson(&c);
        race_course_free(&c);

        goto done;
    }

    create = (job->op == NGX_HTTP_RACE_RACES_CREATE);

    if (race_races_body_parse(job->body, job->len, create, &b, job->err,
                              sizeof(job->err))
        != 0)
    {
        race_races_body_free(&b);
        job->status = NGX_HTTP_BAD_REQUEST;
        job->code = "bad_json";
        return;
    }

    if (!create
        && !(b.set & (RACE_RACES_SET_COURSE|RACE_RACES_SET_LAPS
                      |RACE_RACES_SET_CHECKPOINTS)))
    {
        job->text = race_races_update_cmd(&b, NULL, job->id, job->by);
        race_races_body_free(&b);
        goto done;
    }

    have = 0;

    if (!(b.set & RACE_RACES_SET_COURSE) && job->course) {
        if (race_course_decode(&c, job->course, job->course_len, job->err,
                               sizeof(job->err))
            != 0)
        {
            race_races_body_free(&b);
            job->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            job->code = "internal";
            return;
        }

        have = 1;
    }

    if (race_races_req_course(&b, &c, have, job->err, sizeof(job->err))
        != 0)
    {
        race_races_body_free(&b);
        job->status = NGX_HTTP_BAD_REQUEST;
        job->code = "bad_course";
        return;
    }

    job->text = create ? race_races_create_cmd(&b, &c, job->id, job->by)
                       : race_races_update_cmd(&b, &c, job->id, job->by);

    race_course_free(&c);
    race_races_body_free(&b);

done:

    if (job->text == NULL) {
        job->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        job->code = "internal";
        ngx_cpystrn((u_char *) job->err, (u_char *) "out of memory",
                    sizeof(job->err));
    }
}


/* a callback: the job is done, and the request still waits for it */

static void
ngx_http_race_api_races_job_done(void *data, void *j)
{
    ngx_http_race_api_ctx_t         *ctx = data;
    ngx_http_race_api_course_job_t  *job = j;

    ngx_int_t  rc;

    ctx->task = NULL;

    if (job->status == NGX_HTTP_INTERNAL_SERVER_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "race: race \"%s\": %s", job->id, job->err);
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    } else if (job->status) {
        /* nothing was sent: a bad body or course stores nothing */
        rc = ngx_http_race_api_error(ctx, job->status, job->code, job->err);

    } else if (job->op == NGX_HTTP_RACE_RACES_COURSE) {
        /* as the thread wrote it: megabytes are not parsed again here */
        rc = ngx_http_race_send_json_text(ctx->request, NGX_HTTP_OK,
                                          job->text, ngx_strlen(job->text));

    } else {
        rc = ngx_http_race_api_command_text(ctx, job->text, job->id);
    }

    if (rc != NGX_DONE) {
        ngx_http_race_api_finish(ctx, rc);
    }
}


static void
ngx_http_race_api_races_job_free(void *j)
{
    ngx_http_race_api_course_job_t  *job = j;

    ngx_free(job->body);
    ngx_free(job->course);
    free(job->text);
    ngx_free(job);
}


/* race-accounts' reply */

ngx_int_t
ngx_http_race_api_races_reply(ngx_http_race_api_ctx_t *ctx, json_t *reply)
{
    u_char                     *url;
    json_t                     *race, *rider, *body;
    ngx_str_t                  *host;
    ngx_uint_t                  status;
    const char                 *code;
    ngx_http_request_t         *r;
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;
    r = ctx->request;

    if (!json_is_true(json_object_get(reply, "ok"))) {
        code = json_string_value(json_object_get(reply, "code"));

        if (code == NULL) {
            code = "(no code)";

        } else if (ngx_strcmp(code, "no_race") == 0) {
            return ngx_http_race_api_error(ctx, NGX_HTTP_NOT_FOUND,
                                           "not_found", "no such race");

        } else if (ngx_strcmp(code, "not_owner") == 0) {
            return ngx_http_race_api_error(ctx, NGX_HTTP_FORBIDDEN,
                                           "forbidden",
                                           "only the race's organizer or an "
                                           "admin changes it");

        } else if (ngx_strcmp(code, "bad_status") == 0) {
            return ngx_http_race_api_error(ctx, NGX_HTTP_CONFLICT,
                                           "bad_status",
                                           "not in the race's present "
                                           "status");

        } else if (ngx_strcmp(code, "bib_taken") == 0) {
            return ngx_http_race_api_error(ctx, NGX_HTTP_CONFLICT,
                                           "bib_taken",
                                           "another rider has this bib");

        } else if (ngx_strcmp(code, "no_rider") == 0) {
            return ngx_http_race_api_error(ctx, NGX_HTTP_NOT_FOUND,
                                           "no_rider", "no such rider");

        } else if (ngx_strcmp(code, "no_link") == 0) {
            return ngx_http_race_api_error(ctx, NGX_HTTP_NOT_FOUND,
                                           "no_link", "no such link");

        } else if (ngx_strcmp(code, "too_many_fixes") == 0) {
            return ngx_http_race_api_error(ctx, 422, "too_many_fixes",
                                           "this track has over 100000 "
                                           "fixes, too many for one file");
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "race: race-accounts refused a race command: %s",
                      code);

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    race = json_object_get(reply, "race");

    /*
     * The links go back to where the organizer came: the Host header
     * nginx checked, with its port (headers_in.server has none)
     */
    host = r->headers_in.host ? &r->headers_in.host->value
                              : &r->headers_in.server;

    switch (rs->op) {

    case NGX_HTTP_RACE_RACES_TRACK:
        return ngx_http_race_api_results_tracked(ctx, reply);

    case NGX_HTTP_RACE_RACES_RIDER_REMOVE:
    case NGX_HTTP_RACE_RACES_LINK_REMOVE:
        return ngx_http_race_send_json(r, NGX_HTTP_NO_CONTENT, NULL);

    case NGX_HTTP_RACE_RACES_RIDER_ADD:
    case NGX_HTTP_RACE_RACES_RIDER_UPDATE:
        rider = json_object_get(reply, "rider");

        if (!json_is_object(rider)) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        (void) json_object_del(rider, "jti");

        if (rs->op == NGX_HTTP_RACE_RACES_RIDER_UPDATE) {
            return ngx_http_race_send_json(r, NGX_HTTP_OK,
                                           json_pack("{s:O}", "rider",
                                                     rider));
        }

        /* the phone's join link: /ride with the token */

        url = ngx_pnalloc(r->pool, host->len + rs->token.len + 64);
        if (url == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_sprintf(url, "%s://%V/ride?access_token=%V%Z",
#if (NGX_HTTP_SSL)
                    r->connection->ssl ? "wss" :
#endif
                    "ws", host, &rs->token);

        body = json_pack("{s:O, s:s%, s:s}", "rider", rider,
                         "token", (char *) rs->token.data, rs->token.len,
                         "join_url", (char *) url);

        status = NGX_HTTP_CREATED;
        break;

    case NGX_HTTP_RACE_RACES_LINK_ADD:
        url = ngx_pnalloc(r->pool, host->len + rs->token.len + 128);
        if (url == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_sprintf(url, "%s://%V/live/%s?access_token=%V%Z",
#if (NGX_HTTP_SSL)
                    r->connection->ssl ? "wss" :
#endif
                    "ws", host, rs->race, &rs->token);

        body = json_pack("{s:{s:s, s:I}, s:s%, s:s}",
                         "link", "jti", rs->jti, "exp", (json_int_t) rs->exp,
                         "token", (char *) rs->token.data, rs->token.len,
                         "live_url", (char *) url);

        status = NGX_HTTP_CREATED;
        break;

    default:
        if (!json_is_object(race)) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        body = json_pack("{s:o}", "race",
                         ngx_http_race_api_races_view(ctx, race, 1));

        status = (rs->op == NGX_HTTP_RACE_RACES_CREATE) ? NGX_HTTP_CREATED
                                                         : NGX_HTTP_OK;
        break;
    }

    return ngx_http_race_send_json(r, status, body);
}


/*
 * A token of aud for sub in this race, signed with the first key: a
 * rider's (aud ride) or a spectator link's (aud live).
 */

static ngx_int_t
ngx_http_race_api_races_mint(ngx_http_race_api_ctx_t *ctx, const char *aud,
    const char *sub, int64_t exp)
{
    size_t                      len;
    race_jwt_key_t             *keys;
    race_jwt_claims_t           claims;
    ngx_http_race_api_races_t  *rs;
    ngx_http_race_main_conf_t  *rmcf;
    char                        buf[RACE_JWT_MAX_LEN];

    rs = ctx->races;
    rmcf = ngx_http_race_api->shared;
    keys = rmcf->token_keys->elts;

    ngx_memzero(&claims, sizeof(race_jwt_claims_t));

    ngx_cpystrn((u_char *) claims.sub, (u_char *) sub, sizeof(claims.sub));
    ngx_cpystrn((u_char *) claims.race, (u_char *) rs->race,
                sizeof(claims.race));
    ngx_cpystrn((u_char *) claims.jti, (u_char *) rs->jti,
                sizeof(claims.jti));

    claims.iat = ngx_time();
    claims.exp = exp;

    len = race_jwt_sign(buf, &keys[0], "ngx_race", aud, &claims);
    if (len == 0) {
        return NGX_ERROR;
    }

    rs->token.data = ngx_pnalloc(ctx->request->pool, len);
    if (rs->token.data == NULL) {
        ngx_explicit_memzero(buf, len);
        return NGX_ERROR;
    }

    ngx_memcpy(rs->token.data, buf, len);
    rs->token.len = len;

    ngx_explicit_memzero(buf, len);

    return NGX_OK;
}


/*
 * What a caller sees of a race: never the tokens' ids or expiries, nor
 * the links; the riders' user ids for its owner only.  A list shows
 * how many riders, not who (full 0).  A new object; NULL if no memory.
 */

json_t *
ngx_http_race_api_races_view(ngx_http_race_api_ctx_t *ctx, json_t *doc,
    ngx_uint_t full)
{
    size_t      i, n;
    json_t     *view, *riders, *rider;
    ngx_uint_t  owner;

    view = json_deep_copy(doc);
    if (view == NULL) {
        return NULL;
    }

    (void) json_object_del(view, "links");

    riders = json_object_get(view, "riders");
    n = json_array_size(riders);

    if (!full) {
        if (json_object_set_new(view, "riders", json_integer(n)) != 0) {
            json_decref(view);
            return NULL;
        }

        return view;
    }

    owner = ngx_http_race_api_races_owner(ctx);

    json_array_foreach(riders, i, rider) {
        (void) json_object_del(rider, "jti");
        (void) json_object_del(rider, "exp");

        if (!owner) {
            (void) json_object_del(rider, "user");
        }
    }

    return view;
}


/* the caller is the race's owner, or an admin */

ngx_int_t
ngx_http_race_api_races_owner(ngx_http_race_api_ctx_t *ctx)
{
    json_t  *doc;

    doc = ctx->races->doc;

    if (ctx->user_id[0] == '\0') {
        return 0;
    }

    if (ngx_strcmp(ctx->user_role, "admin") == 0) {
        return 1;
    }

    return doc != NULL
           && ngx_strcmp(ngx_http_race_api_races_str(doc, "owner"),
                         ctx->user_id) == 0;
}


const char *
ngx_http_race_api_races_str(json_t *o, const char *key)
{
    const char  *s;

    s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}


static ngx_int_t
ngx_http_race_api_races_busy(ngx_http_race_api_ctx_t *ctx, ngx_int_t rc)
{
    switch (rc) {

    case NGX_BUSY:
        if (ngx_http_race_add_header(ctx->request, "Retry-After", "1")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* fall through */

    case NGX_DECLINED:
        return ngx_http_race_api_error(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "busy", "too many courses at once, "
                                       "try again in a second");

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


/* the request's pool goes: what is the request's goes with it */

void
ngx_http_race_api_races_cleanup(ngx_http_race_api_ctx_t *ctx)
{
    ngx_http_race_api_races_t  *rs;

    rs = ctx->races;

    if (ctx->task) {
        /* a course job's: the hash's cancel is api.c's */
        ngx_http_race_api_job_cancel(ctx->task);
        ctx->task = NULL;
    }

    if (rs->doc) {
        json_decref(rs->doc);
        rs->doc = NULL;
    }

    ngx_free(rs->body);
    rs->body = NULL;
    ngx_free(rs->course);
    rs->course = NULL;

    if (rs->token.len) {
        ngx_explicit_memzero(rs->token.data, rs->token.len);
    }
}
