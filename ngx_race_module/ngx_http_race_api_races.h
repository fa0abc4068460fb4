
/*
 * ngx_race: inside the races API, what its files share: a request's
 * races part and the helpers they use.  ngx_http_race_api_races.c has
 * the routes, a race's reads and the flows that change it,
 * ngx_http_race_api_races_list.c the lists, ngx_http_race_api_results.c
 * the results, tracks and /api/me/results.
 */


#ifndef _NGX_HTTP_RACE_API_RACES_H_INCLUDED_
#define _NGX_HTTP_RACE_API_RACES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_race_api_steps.h"
#include "race_id.h"
#include "race_jwt.h"
#include "race_races_req.h"


#define NGX_HTTP_RACE_RACES_LIST          1
#define NGX_HTTP_RACE_RACES_CREATE        2
#define NGX_HTTP_RACE_RACES_READ          3
#define NGX_HTTP_RACE_RACES_COURSE        4
#define NGX_HTTP_RACE_RACES_UPDATE        5
#define NGX_HTTP_RACE_RACES_RIDER_ADD     6
#define NGX_HTTP_RACE_RACES_RIDER_UPDATE  7
#define NGX_HTTP_RACE_RACES_RIDER_REMOVE  8
#define NGX_HTTP_RACE_RACES_LINK_ADD      9
#define NGX_HTTP_RACE_RACES_LINK_REMOVE   10
#define NGX_HTTP_RACE_RACES_START         11
#define NGX_HTTP_RACE_RACES_FINISH        12
#define NGX_HTTP_RACE_RACES_RESULTS       13
#define NGX_HTTP_RACE_RACES_RESULTS_CSV   14
#define NGX_HTTP_RACE_RACES_TRACK         15
#define NGX_HTTP_RACE_RACES_ME_RESULTS    16    /* /api/me/results */


struct ngx_http_race_api_races_s {
    ngx_uint_t                        op;
    char                              race[RACE_ID_MAX + 1];
    char                              item[RACE_ID_MAX + 1];  /* rider, jti */

    /* a list's query */
    const char                       *status;
    ngx_uint_t                        mine;
    ngx_int_t                         limit;
    ngx_int_t                         offset;
    int64_t                           total;

    /* a spectator link's token, when that is what came */
    unsigned                          link:1;
    char                              link_jti[RACE_JWT_ID_MAX + 1];

    /* the race as Redis holds it */
    json_t                           *doc;
    char                             *course;     /* malloc()ed */
    size_t                            course_len;

    /* its results (JSON or CSV) as Redis holds them; NULL: none yet */
    u_char                           *results;    /* in the pool */
    size_t                            results_len;

    /* a body: a race's for its job, a rider's or a link's here */
    char                             *body;       /* malloc()ed */
    size_t                            len;
    const char                       *too_large;  /* why, if it is */
    race_races_rider_t                rider;
    int64_t                           ttl;

    /* a token made for the answer */
    ngx_str_t                         token;
    char                              jti[RACE_JWT_ID_MAX + 1];
    int64_t                           exp;
};


/* the op reads the race only: anyone who may see the race may call it */
#define ngx_http_race_api_races_reading(op)                                  \
    ((op) == NGX_HTTP_RACE_RACES_READ || (op) == NGX_HTTP_RACE_RACES_COURSE \
     || (op) == NGX_HTTP_RACE_RACES_RESULTS                                  \
     || (op) == NGX_HTTP_RACE_RACES_RESULTS_CSV                              \
     || (op) == NGX_HTTP_RACE_RACES_TRACK)


/* ngx_http_race_api_races.c */
json_t *ngx_http_race_api_races_view(ngx_http_race_api_ctx_t *ctx,
    json_t *doc, ngx_uint_t full);
ngx_int_t ngx_http_race_api_races_owner(ngx_http_race_api_ctx_t *ctx);
const char *ngx_http_race_api_races_str(json_t *o, const char *key);
json_t *ngx_http_race_api_races_rider_of(json_t *doc, const char *id);

/* ngx_http_race_api_races_list.c: ?status=..., ?mine=1 */
ngx_int_t ngx_http_race_api_races_query(ngx_http_request_t *r,
    ngx_http_race_api_races_t *rs, ngx_http_race_api_refusal_t *refusal);
ngx_int_t ngx_http_race_api_races_list(ngx_http_race_api_ctx_t *ctx);

/* ngx_http_race_api_results.c: steps once the race is loaded and seen */
ngx_int_t ngx_http_race_api_results_send(ngx_http_race_api_ctx_t *ctx);
ngx_int_t ngx_http_race_api_results_track(ngx_http_race_api_ctx_t *ctx);
ngx_int_t ngx_http_race_api_results_tracked(ngx_http_race_api_ctx_t *ctx,
    json_t *reply);
ngx_int_t ngx_http_race_api_results_me(ngx_http_race_api_ctx_t *ctx);


#endif /* _NGX_HTTP_RACE_API_RACES_H_INCLUDED_ */
