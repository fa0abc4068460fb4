
/*
 * ngx_race: who may open a race's socket, and how long it may stay.
 *
 * Before the upgrade, one round trip to Redis reads the race's meta hash
 * and, for a token, whether it is revoked (docs/INTERNALS.md, "Races"
 * and "Revoked rider tokens").  After it, a socket opened with a token
 * holds a grant: it is ended when the token expires, and at once when
 * this worker process hears on Redis channel race:revoked that its jti
 * was revoked.  /ride and /live share both.
 */


#ifndef _NGX_HTTP_RACE_ACCESS_H_INCLUDED_
#define _NGX_HTTP_RACE_ACCESS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race.h"


/* what Redis said of a race and a token */
typedef struct {
    int64_t                     finished_at;   /* Unix ms; 0: unknown */
    unsigned                    meta:1;        /* the race has its hash */
    unsigned                    public:1;
    unsigned                    finished:1;
    unsigned                    loaded:1;      /* every revocation in */
    unsigned                    revoked:1;     /* the token's jti */
} ngx_http_race_access_t;


/*
 * Called once Redis has answered; returns what a content handler
 * returns, and the request is finalized with it.
 */
typedef ngx_int_t (*ngx_http_race_access_pt)(ngx_http_request_t *r,
    void *data, ngx_http_race_access_t *access);


typedef struct ngx_http_race_grant_s  ngx_http_race_grant_t;

/* the token no longer holds: the socket is to be closed */
typedef void (*ngx_http_race_grant_end_pt)(ngx_http_race_grant_t *g,
    const char *reason);

struct ngx_http_race_grant_s {
    ngx_rbtree_node_t           node;          /* key: the grant's id */
    u_char                      jti[RACE_JWT_ID_MAX + 1];
    time_t                      expires;       /* exp + leeway */
    ngx_event_t                 expire;
    ngx_http_race_grant_end_pt  end;
    void                       *data;
    ngx_log_t                  *log;
    unsigned                    active:1;
};


/* each endpoint that uses it, from its init_process and exit_process */
ngx_int_t ngx_http_race_access_init(ngx_cycle_t *cycle);
void ngx_http_race_access_exit(ngx_cycle_t *cycle);

/*
 * Reads the meta hash of race and, with a jti, its revocation: NGX_DONE
 * when handler will be called (or the request answered 503 if Redis
 * does not answer within race_redis_timeout); NGX_DECLINED when Redis
 * cannot be asked now: the caller answers 503.
 */
ngx_int_t ngx_http_race_access_check(ngx_http_request_t *r, u_char *race,
    size_t race_len, const char *jti, ngx_http_race_access_pt handler,
    void *data);

/* sends the 503 the checks give, in the error shape */
ngx_int_t ngx_http_race_access_unavailable(ngx_http_request_t *r);

/*
 * Binds an open socket to its token: g->jti, g->expires, g->end,
 * g->data and g->log set by the caller.  The grant ends (g->end is
 * called once, the grant already let go) when the token is revoked or
 * expires; the socket that closes first lets go of it with delete.
 */
void ngx_http_race_grant_add(ngx_http_race_grant_t *g);
void ngx_http_race_grant_delete(ngx_http_race_grant_t *g);


#endif /* _NGX_HTTP_RACE_ACCESS_H_INCLUDED_ */
