
/*
 * ngx_race workers: a synchronous Redis connection that comes back by
 * itself, with a Lua script loaded on every connect.
 */


#ifndef _RACE_REDIS_H_INCLUDED_
#define _RACE_REDIS_H_INCLUDED_


#include <stdint.h>

#include <hiredis/hiredis.h>


#define RACE_REDIS_OK      0
#define RACE_REDIS_ERROR  -1


typedef struct {
    redisContext       *ctx;            /* NULL: not connected now */
    char               *host;
    int                 port;
    int                 timeout_ms;     /* connect and each command */
    int                 retry_max_ms;   /* longest wait between connects */
    int                 delay_ms;
    int64_t             next_connect;   /* monotonic ms */
    unsigned            failures;
    const char         *script;         /* loaded at every connect */
    char                sha[41];
} race_redis_t;


/* no connection is made yet; ERROR if out of memory */
int race_redis_init(race_redis_t *rd, const char *host, int port,
    int timeout_ms, int retry_max_ms, const char *script);
void race_redis_free(race_redis_t *rd);

/*
 * OK with rd->ctx ready and the script's sha in rd->sha; ERROR when
 * Redis cannot be had now (logged once, then at debug) or when it is
 * not yet time to try again.
 */
int race_redis_connect(race_redis_t *rd);

/* the connection failed: forget it, the next connect tries at once */
void race_redis_drop(race_redis_t *rd, const char *what);

/* loads the script again (after NOSCRIPT); drops the connection if lost */
int race_redis_load(race_redis_t *rd);


#endif /* _RACE_REDIS_H_INCLUDED_ */
