
/*
 * ngx_race: an asynchronous Redis client on nginx's event loop (hiredis),
 * that reconnects by itself and drops a connection that stops answering.
 */


#ifndef _NGX_HTTP_RACE_REDIS_H_INCLUDED_
#define _NGX_HTTP_RACE_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


typedef struct ngx_http_race_redis_s  ngx_http_race_redis_t;

typedef void (*ngx_http_race_redis_pt)(ngx_http_race_redis_t *rd);


struct ngx_http_race_redis_s {
    redisAsyncContext          *ac;        /* NULL while down */
    ngx_connection_t           *connection;
    ngx_log_t                  *log;
    char                        host[NGX_SOCKADDR_STRLEN];
    int                         port;
    const char                 *name;      /* for the log */

    ngx_event_t                 retry;
    ngx_msec_t                  backoff;

    ngx_event_t                 watchdog;
    ngx_msec_t                  timeout;   /* silence that drops it */

    ngx_http_race_redis_pt      up;        /* connected */
    ngx_http_race_redis_pt      down;      /* lost; pending replies NULL */
    void                       *data;

    unsigned                    connected:1;
    unsigned                    stopping:1;
    unsigned                    subscriber:1;  /* probes with SUBSCRIBE */
    unsigned                    heard:1;   /* read since the last probe */
    unsigned                    dropping:1;
};


/*
 * host is an address resolved at configuration time; a connection that
 * reads nothing for timeout while a reply is owed is dropped: every
 * pending callback runs with a NULL reply and it connects again
 */
ngx_int_t ngx_http_race_redis_start(ngx_http_race_redis_t *rd,
    ngx_addr_t *addr, const char *name, ngx_msec_t timeout, ngx_log_t *log);
void ngx_http_race_redis_stop(ngx_http_race_redis_t *rd);


/*
 * A worker process's two connections, shared by its endpoints: one that
 * subscribes (RESP2 allows nothing else on it) and one for commands.
 * Each endpoint registers to hear when either comes up or goes down.
 */

typedef void (*ngx_http_race_redis_event_pt)(ngx_http_race_redis_t *rd,
    void *data);

typedef struct {
    ngx_http_race_redis_event_pt   up;
    ngx_http_race_redis_event_pt   down;
    void                          *data;
} ngx_http_race_redis_user_t;

typedef struct {
    ngx_http_race_redis_t          sub;
    ngx_http_race_redis_t          cmd;
    ngx_http_race_redis_user_t     users[4];
    ngx_uint_t                     nusers;
} ngx_http_race_redis_pair_t;


/* this worker's pair, or NULL before ngx_http_race_redis_pair_start() */
extern ngx_http_race_redis_pair_t  *ngx_http_race_redis_pair;

ngx_int_t ngx_http_race_redis_pair_start(ngx_cycle_t *cycle, ngx_addr_t *addr,
    ngx_msec_t timeout);
ngx_int_t ngx_http_race_redis_pair_listen(ngx_http_race_redis_event_pt up,
    ngx_http_race_redis_event_pt down, void *data);
void ngx_http_race_redis_pair_stop(void);


#endif /* _NGX_HTTP_RACE_REDIS_H_INCLUDED_ */
