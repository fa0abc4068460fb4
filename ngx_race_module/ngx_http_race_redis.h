
/*
 * ngx_race: an asynchronous Redis client on nginx's event loop (hiredis),
 * that reconnects by itself.
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

    ngx_http_race_redis_pt      up;        /* connected */
    ngx_http_race_redis_pt      down;      /* lost; pending replies NULL */
    void                       *data;

    unsigned                    connected:1;
    unsigned                    stopping:1;
};


/* host is an address resolved at configuration time */
ngx_int_t ngx_http_race_redis_start(ngx_http_race_redis_t *rd,
    ngx_addr_t *addr, const char *name, ngx_log_t *log);
void ngx_http_race_redis_stop(ngx_http_race_redis_t *rd);


#endif /* _NGX_HTTP_RACE_REDIS_H_INCLUDED_ */
