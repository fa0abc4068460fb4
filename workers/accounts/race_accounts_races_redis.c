
/*
 * race-accounts: races in Redis.
 *
 * hiredis, synchronous; the script is sent with EVAL each time (Redis
 * caches it), so a Redis that was flushed needs nothing loaded again.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "race_accounts_races_redis.h"
#include "race_log.h"
#include "race_races_cmd.h"
#include "race_redis.h"


#define RACE_ACCOUNTS_RACES_FIXED   17      /* EVAL's arguments but users */
#define RACE_ACCOUNTS_RACES_INT     24
#define RACE_ACCOUNTS_RACES_KEY     (sizeof("race:race::course") \
                                     + RACE_ID_MAX)


/*
 * KEYS[1] race:race:<id>, KEYS[2] its :meta, KEYS[3] its :course;
 * ARGV id, rev, document, status, public, owner, start_at, finished_at,
 * course ("" to leave it), a user no longer entered (""), whether to
 * tell race:races ("1"), then the users entered.  Writes nothing if
 * the stored rev is newer; 1 if written, 0 if not.  It tells race:races
 * itself, only of a rev new to Redis: two workers moving a race by the
 * clock write the same rev, and the subscribers hear of it once.
 */
static const char  race_accounts_races_script[] =
    "local old = tonumber(redis.call('HGET', KEYS[2], 'rev'))\n"
    "if old and old > tonumber(ARGV[2]) then\n"
    "    return 0\n"
    "end\n"
    "redis.call('SET', KEYS[1], ARGV[3])\n"
    "redis.call('HSET', KEYS[2], 'status', ARGV[4], 'public', ARGV[5],\n"
    "           'owner', ARGV[6], 'start_at', ARGV[7],\n"
    "           'finished_at', ARGV[8], 'rev', ARGV[2])\n"
    "if ARGV[9] ~= '' then\n"
    "    redis.call('SET', KEYS[3], ARGV[9])\n"
    "end\n"
    "for _, s in ipairs({'scheduled', 'live', 'finished'}) do\n"
    "    if s == ARGV[4] and ARGV[5] == '1' then\n"
    "        redis.call('ZADD', 'race:races:' .. s, ARGV[7], ARGV[1])\n"
    "    else\n"
    "        redis.call('ZREM', 'race:races:' .. s, ARGV[1])\n"
    "    end\n"
    "end\n"
    "redis.call('ZADD', 'race:races:owner:' .. ARGV[6], ARGV[7], ARGV[1])\n"
    "if ARGV[10] ~= '' then\n"
    "    redis.call('SREM', 'race:user:' .. ARGV[10] .. ':races', ARGV[1])\n"
    "end\n"
    "for i = 12, #ARGV do\n"
    "    redis.call('SADD', 'race:user:' .. ARGV[i] .. ':races', ARGV[1])\n"
    "end\n"
    "if ARGV[11] == '1' and old ~= tonumber(ARGV[2]) then\n"
    "    redis.call('PUBLISH', 'race:races', ARGV[1])\n"
    "end\n"
    "return 1\n";


struct race_accounts_races_redis_s {
    race_redis_t            redis;
    const char            **argv;
    size_t                 *argvlen;
};


static int race_accounts_races_redis_marker(race_accounts_races_redis_t *r,
    const char *cmd);


race_accounts_races_redis_t *
race_accounts_races_redis_open(const race_accounts_redis_conf_t *conf)
{
    size_t                        n;
    race_accounts_races_redis_t  *r;

    r = calloc(1, sizeof(race_accounts_races_redis_t));
    if (r == NULL) {
        race_log(RACE_LOG_ERROR, "redis: out of memory");
        return NULL;
    }

    n = RACE_ACCOUNTS_RACES_FIXED + RACE_RACES_RIDERS_MAX;

    r->argv = calloc(n, sizeof(char *));
    r->argvlen = calloc(n, sizeof(size_t));

    if (race_redis_init(&r->redis, conf->host, conf->port, conf->timeout_ms,
                        conf->retry_max_ms, NULL)
        != RACE_REDIS_OK
        || r->argv == NULL || r->argvlen == NULL)
    {
        race_log(RACE_LOG_ERROR, "redis: out of memory");
        race_accounts_races_redis_close(r);
        return NULL;
    }

    return r;
}


void
race_accounts_races_redis_close(race_accounts_races_redis_t *r)
{
    free(r->argv);
    free(r->argvlen);
    race_redis_free(&r->redis);
    free(r);
}


int
race_accounts_races_redis_write(race_accounts_races_redis_t *r,
    const json_t *doc, const json_t *course, const char *user_gone,
    int publish, const char *channel, const char *msg, size_t len)
{
    int          rc;
    char        *text, *ctext;
    char         race_key[RACE_ACCOUNTS_RACES_KEY];
    char         meta_key[RACE_ACCOUNTS_RACES_KEY];
    char         course_key[RACE_ACCOUNTS_RACES_KEY];
    char         rev[RACE_ACCOUNTS_RACES_INT], start[RACE_ACCOUNTS_RACES_INT];
    char         finished[RACE_ACCOUNTS_RACES_INT];
    size_t       i, n, sent, got;
    json_t      *pub, *rider;
    redisReply  *reply;
    const char  *id, *user;

    id = json_string_value(json_object_get(doc, "_id"));

    pub = race_races_public(doc);
    text = pub ? json_dumps(pub, RACE_RACES_DUMP) : NULL;
    json_decref(pub);

    ctext = course ? json_dumps(course, RACE_RACES_DUMP) : NULL;

    if (text == NULL || (course != NULL && ctext == NULL)) {
        free(text);
        free(ctext);
        race_log(RACE_LOG_ERROR, "redis: out of memory");
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    if (race_redis_connect(&r->redis) != RACE_REDIS_OK) {
        free(text);
        free(ctext);
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    snprintf(race_key, sizeof(race_key), "race:race:%s", id);
    snprintf(meta_key, sizeof(meta_key), "race:race:%s:meta", id);
    snprintf(course_key, sizeof(course_key), "race:race:%s:course", id);
    snprintf(rev, sizeof(rev), "%lld", (long long)
             json_integer_value(json_object_get(doc, "rev")));
    snprintf(start, sizeof(start), "%lld", (long long)
             json_integer_value(json_object_get(doc, "start_at")));
    snprintf(finished, sizeof(finished), "%lld", (long long)
             json_integer_value(json_object_get(doc, "finished_at")));

    n = 0;
    r->argv[n++] = "EVAL";
    r->argv[n++] = race_accounts_races_script;
    r->argv[n++] = "3";
    r->argv[n++] = race_key;
    r->argv[n++] = meta_key;
    r->argv[n++] = course_key;
    r->argv[n++] = id;
    r->argv[n++] = rev;
    r->argv[n++] = text;
    r->argv[n++] = json_string_value(json_object_get(doc, "status"));
    r->argv[n++] = json_is_true(json_object_get(doc, "public")) ? "1" : "0";
    r->argv[n++] = json_string_value(json_object_get(doc, "owner"));
    r->argv[n++] = start;
    r->argv[n++] = finished;
    r->argv[n++] = ctext ? ctext : "";
    r->argv[n++] = user_gone ? user_gone : "";
    r->argv[n++] = publish ? "1" : "0";

    json_array_foreach(json_object_get(doc, "riders"), i, rider) {
        user = json_string_value(json_object_get(rider, "user"));

        if (user != NULL && n < RACE_ACCOUNTS_RACES_FIXED
                                + RACE_RACES_RIDERS_MAX)
        {
            r->argv[n++] = user;
        }
    }

    for (i = 0; i < n; i++) {
        r->argvlen[i] = strlen(r->argv[i]);
    }

    sent = 0;

    if (redisAppendCommandArgv(r->redis.ctx, (int) n, r->argv, r->argvlen)
        == REDIS_OK)
    {
        sent++;
    }

    if (sent == 1 && channel != NULL) {
        if (redisAppendCommand(r->redis.ctx, "PUBLISH %s %b", channel, msg,
                               len)
            == REDIS_OK)
        {
            sent++;
        }
    }

    free(text);
    free(ctext);

    if (sent != 1u + (channel != NULL)) {
        /* out of memory in hiredis: the pipeline is not whole */
        race_redis_drop(&r->redis, "a pipeline could not be built");
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    rc = RACE_ACCOUNTS_REDIS_OK;

    for (got = 0; got < sent; got++) {
        if (redisGetReply(r->redis.ctx, (void **) &reply) != REDIS_OK
            || reply == NULL)
        {
            race_redis_drop(&r->redis, "writing a race");
            return RACE_ACCOUNTS_REDIS_ERROR;
        }

        if (reply->type == REDIS_REPLY_ERROR) {
            if (rc == RACE_ACCOUNTS_REDIS_OK) {
                race_log(RACE_LOG_ERROR, "redis: writing race %s: %s", id,
                         reply->str);
            }

            rc = RACE_ACCOUNTS_REDIS_ERROR;
        }

        freeReplyObject(reply);
    }

    return rc;
}


int
race_accounts_races_redis_reply(race_accounts_races_redis_t *r,
    const char *channel, const char *msg, size_t len)
{
    int          rc;
    redisReply  *reply;

    if (race_redis_connect(&r->redis) != RACE_REDIS_OK) {
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    reply = redisCommand(r->redis.ctx, "PUBLISH %s %b", channel, msg, len);

    if (reply == NULL) {
        race_redis_drop(&r->redis, "publishing a reply");
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    rc = RACE_ACCOUNTS_REDIS_OK;

    if (reply->type == REDIS_REPLY_ERROR) {
        race_log(RACE_LOG_ERROR, "redis: publishing a reply: %s",
                 reply->str);
        rc = RACE_ACCOUNTS_REDIS_ERROR;
    }

    freeReplyObject(reply);

    return rc;
}


int
race_accounts_races_redis_loaded(race_accounts_races_redis_t *r)
{
    return race_accounts_races_redis_marker(r, "EXISTS");
}


int
race_accounts_races_redis_set_loaded(race_accounts_races_redis_t *r)
{
    return race_accounts_races_redis_marker(r, "SET") < 0
           ? RACE_ACCOUNTS_REDIS_ERROR : RACE_ACCOUNTS_REDIS_OK;
}


/* EXISTS: 1 or 0; SET: 0; or ERROR */

static int
race_accounts_races_redis_marker(race_accounts_races_redis_t *r,
    const char *cmd)
{
    int          rc;
    redisReply  *reply;

    if (race_redis_connect(&r->redis) != RACE_REDIS_OK) {
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    reply = strcmp(cmd, "SET") == 0
            ? redisCommand(r->redis.ctx, "SET %s 1",
                           RACE_ACCOUNTS_REDIS_RACES)
            : redisCommand(r->redis.ctx, "EXISTS %s",
                           RACE_ACCOUNTS_REDIS_RACES);

    if (reply == NULL) {
        race_redis_drop(&r->redis, cmd);
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    if (reply->type == REDIS_REPLY_INTEGER) {
        rc = reply->integer > 0;

    } else if (reply->type == REDIS_REPLY_STATUS) {
        rc = 0;

    } else {
        race_log(RACE_LOG_ERROR, "redis: %s %s: %s", cmd,
                 RACE_ACCOUNTS_REDIS_RACES,
                 reply->type == REDIS_REPLY_ERROR ? reply->str
                                                  : "unexpected reply");
        rc = RACE_ACCOUNTS_REDIS_ERROR;
    }

    freeReplyObject(reply);

    return rc;
}
