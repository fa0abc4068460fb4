
/*
 * ngx_race workers: a synchronous Redis connection that comes back by
 * itself.  A worker is not an event loop: waiting on Redis is fine here,
 * bounded by the timeout; failing to reach it is retried with a delay
 * that doubles up to retry_max_ms.
 */


#include <stdlib.h>
#include <string.h>

#include "race_log.h"
#include "race_redis.h"
#include "race_time.h"


#define RACE_REDIS_RETRY_MIN_MS  100


int
race_redis_init(race_redis_t *rd, const char *host, int port,
    int timeout_ms, int retry_max_ms, const char *script)
{
    memset(rd, 0, sizeof(race_redis_t));

    rd->host = strdup(host);
    rd->port = port;
    rd->timeout_ms = timeout_ms;
    rd->retry_max_ms = retry_max_ms;
    rd->delay_ms = RACE_REDIS_RETRY_MIN_MS;
    rd->script = script;

    return rd->host ? RACE_REDIS_OK : RACE_REDIS_ERROR;
}


void
race_redis_free(race_redis_t *rd)
{
    if (rd->ctx != NULL) {
        redisFree(rd->ctx);
        rd->ctx = NULL;
    }

    free(rd->host);
    rd->host = NULL;
}


int
race_redis_connect(race_redis_t *rd)
{
    int64_t          now;
    redisContext    *c;
    struct timeval   tv;

    if (rd->ctx != NULL) {
        return RACE_REDIS_OK;
    }

    now = race_time_mono_ms();

    if (now < rd->next_connect) {
        return RACE_REDIS_ERROR;
    }

    tv.tv_sec = rd->timeout_ms / 1000;
    tv.tv_usec = (rd->timeout_ms % 1000) * 1000;

    c = redisConnectWithTimeout(rd->host, rd->port, tv);

    if (c == NULL || c->err || redisSetTimeout(c, tv) != REDIS_OK) {
        /* said once; the retries are debug */
        race_log(rd->failures++ == 0 ? RACE_LOG_WARN : RACE_LOG_DEBUG,
                 "redis: cannot connect to %s:%d: %s; retrying",
                 rd->host, rd->port, c ? c->errstr : "out of memory");

        if (c != NULL) {
            redisFree(c);
        }

        rd->next_connect = now + rd->delay_ms;
        rd->delay_ms *= 2;

        if (rd->delay_ms > rd->retry_max_ms) {
            rd->delay_ms = rd->retry_max_ms;
        }

        return RACE_REDIS_ERROR;
    }

    rd->ctx = c;

    /* a Redis that restarted has forgotten the script: load it always */

    if (rd->script && race_redis_load(rd) != RACE_REDIS_OK) {
        if (rd->ctx != NULL) {
            redisFree(rd->ctx);
            rd->ctx = NULL;
        }

        rd->next_connect = now + rd->delay_ms;
        return RACE_REDIS_ERROR;
    }

    if (rd->failures > 0) {
        race_log(RACE_LOG_INFO, "redis: connected to %s:%d after %u failed "
                 "attempts", rd->host, rd->port, rd->failures);

    } else {
        race_log(RACE_LOG_INFO, "redis: connected to %s:%d", rd->host,
                 rd->port);
    }

    rd->failures = 0;
    rd->delay_ms = RACE_REDIS_RETRY_MIN_MS;

    return RACE_REDIS_OK;
}


void
race_redis_drop(race_redis_t *rd, const char *what)
{
    race_log(RACE_LOG_WARN, "redis: %s: %s", what,
             rd->ctx->errstr[0] ? rd->ctx->errstr : "connection lost");

    redisFree(rd->ctx);
    rd->ctx = NULL;
    rd->next_connect = 0;
}


int
race_redis_load(race_redis_t *rd)
{
    redisReply  *reply;

    reply = redisCommand(rd->ctx, "SCRIPT LOAD %s", rd->script);

    if (reply == NULL) {
        race_redis_drop(rd, "script load");
        return RACE_REDIS_ERROR;
    }

    if (reply->type != REDIS_REPLY_STRING || reply->len != 40) {
        race_log(RACE_LOG_ERROR, "redis: script load: %s",
                 reply->type == REDIS_REPLY_ERROR ? reply->str
                                                  : "unexpected reply");
        freeReplyObject(reply);
        return RACE_REDIS_ERROR;
    }

    memcpy(rd->sha, reply->str, 40);
    rd->sha[40] = '\0';

    freeReplyObject(reply);

    race_log(RACE_LOG_DEBUG, "redis: script loaded, sha %s", rd->sha);

    return RACE_REDIS_OK;
}
