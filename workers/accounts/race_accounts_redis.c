
/*
 * race-accounts: users and replies in Redis.
 *
 * hiredis, synchronous, like the tracker's live side: one script call
 * per user, all of a call's users and its reply pipelined.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "race_accounts_redis.h"
#include "race_log.h"
#include "race_redis.h"
#include "race_time.h"


#define RACE_ACCOUNTS_REDIS_ARGS          11    /* of a script call */
#define RACE_ACCOUNTS_REDIS_INT_SIZE      24

#define RACE_ACCOUNTS_REDIS_USER_KEY      "race:user:"
#define RACE_ACCOUNTS_REDIS_EMAIL_KEY     "race:email:"
#define RACE_ACCOUNTS_REDIS_REVOKED_KEY   "race:revoked:"
#define RACE_ACCOUNTS_REDIS_REVOKED       "race:revoked"


/*
 * KEYS[1] race:user:<id>, KEYS[2] race:email:<email>; ARGV id, email,
 * name, role, hash, gen.  Writes both unless the stored gen is newer;
 * answers 1 if written, 0 if not.
 */
static const char  race_accounts_redis_script[] =
    "local old = tonumber(redis.call('HGET', KEYS[1], 'gen'))\n"
    "if old and old > tonumber(ARGV[6]) then\n"
    "    return 0\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'id', ARGV[1], 'email', ARGV[2],\n"
    "           'name', ARGV[3], 'role', ARGV[4], 'hash', ARGV[5],\n"
    "           'gen', ARGV[6])\n"
    "redis.call('SET', KEYS[2], ARGV[1])\n"
    "return 1\n";


/* the arguments of one script call */
typedef struct {
    char                    user_key[sizeof(RACE_ACCOUNTS_REDIS_USER_KEY)
                                     + RACE_ACCOUNTS_ID_LEN];
    char                    email_key[sizeof(RACE_ACCOUNTS_REDIS_EMAIL_KEY)
                                      + RACE_ACCOUNTS_EMAIL_MAX];
    char                    gen[RACE_ACCOUNTS_REDIS_INT_SIZE];
    const char             *argv[RACE_ACCOUNTS_REDIS_ARGS];
    size_t                  argvlen[RACE_ACCOUNTS_REDIS_ARGS];
} race_accounts_redis_call_t;


struct race_accounts_redis_s {
    race_redis_t            redis;

    size_t                  max_users;
    race_accounts_redis_call_t  *calls;
};


static void race_accounts_redis_call(race_accounts_redis_t *r,
    race_accounts_redis_call_t *call, const race_accounts_user_t *user);


race_accounts_redis_t *
race_accounts_redis_open(const race_accounts_redis_conf_t *conf)
{
    race_accounts_redis_t  *r;

    r = calloc(1, sizeof(race_accounts_redis_t));
    if (r == NULL) {
        race_log(RACE_LOG_ERROR, "redis: out of memory");
        return NULL;
    }

    r->max_users = conf->max_users;
    r->calls = calloc(conf->max_users, sizeof(race_accounts_redis_call_t));

    if (race_redis_init(&r->redis, conf->host, conf->port, conf->timeout_ms,
                        conf->retry_max_ms, race_accounts_redis_script)
        != RACE_REDIS_OK
        || r->calls == NULL)
    {
        race_log(RACE_LOG_ERROR, "redis: out of memory");
        race_accounts_redis_close(r);
        return NULL;
    }

    return r;
}


void
race_accounts_redis_close(race_accounts_redis_t *r)
{

    free(r->calls);
    race_redis_free(&r->redis);
    free(r);
}


int
race_accounts_redis_apply(race_accounts_redis_t *r,
    const race_accounts_user_t *users, size_t n, const char *channel,
    const char *msg, size_t len)
{
    int                          rc, noscript;
    size_t                       i, sent;
    redisReply                  *reply;
    race_accounts_redis_call_t  *call;

    if (n > r->max_users) {
        race_log(RACE_LOG_ERROR, "redis: %zu users, room for %zu", n,
                 r->max_users);
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    if (race_redis_connect(&r->redis) != RACE_ACCOUNTS_REDIS_OK) {
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    /* everything goes out at once, then every reply is read */

    sent = 0;

    for (i = 0; i < n; i++) {
        call = &r->calls[i];
        race_accounts_redis_call(r, call, &users[i]);

        if (redisAppendCommandArgv(r->redis.ctx, RACE_ACCOUNTS_REDIS_ARGS,
                                   call->argv, call->argvlen)
            != REDIS_OK)
        {
            break;
        }

        sent++;
    }

    if (sent == n && channel != NULL) {
        if (redisAppendCommand(r->redis.ctx, "PUBLISH %s %b", channel, msg, len)
            == REDIS_OK)
        {
            sent++;
        }
    }

    if (sent != n + (channel != NULL)) {
        /* out of memory in hiredis: the pipeline is not whole */
        race_redis_drop(&r->redis, "a pipeline could not be built");
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    rc = RACE_ACCOUNTS_REDIS_OK;
    noscript = 0;

    for (i = 0; i < sent; i++) {
        if (redisGetReply(r->redis.ctx, (void **) &reply) != REDIS_OK
            || reply == NULL)
        {
            race_redis_drop(&r->redis, "writing users");
            return RACE_ACCOUNTS_REDIS_ERROR;
        }

        if (reply->type == REDIS_REPLY_ERROR) {
            if (strncmp(reply->str, "NOSCRIPT", 8) == 0) {
                noscript = 1;

            } else if (rc == RACE_ACCOUNTS_REDIS_OK) {
                race_log(RACE_LOG_ERROR, "redis: %s: %s",
                         i < n ? "writing a user" : "publishing a reply",
                         reply->str);
            }

            rc = RACE_ACCOUNTS_REDIS_ERROR;
        }

        freeReplyObject(reply);
    }

    if (noscript) {
        /* the scripts were flushed: load ours again on the next call */
        race_log(RACE_LOG_INFO, "redis: the script is gone, loading it "
                 "again");
        r->redis.sha[0] = '\0';

        if (race_redis_load(&r->redis) != RACE_ACCOUNTS_REDIS_OK) {
            if (r->redis.ctx != NULL) {
                redisFree(r->redis.ctx);
                r->redis.ctx = NULL;
            }
        }
    }

    return rc;
}


int
race_accounts_redis_revoke(race_accounts_redis_t *r,
    const race_accounts_revocation_t *revs, size_t n, int64_t now,
    int publish, const char *channel, const char *msg, size_t len)
{
    int          rc;
    size_t       i, queued, read;
    redisReply  *reply;

    if (race_redis_connect(&r->redis) != RACE_ACCOUNTS_REDIS_OK) {
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    queued = 0;
    rc = RACE_ACCOUNTS_REDIS_OK;

    for (i = 0; i < n && rc == RACE_ACCOUNTS_REDIS_OK; i++) {

        /* nginx takes a token until exp and its leeway are past */

        if (revs[i].exp + RACE_JWT_RIDE_LEEWAY <= now) {
            continue;
        }

        if (redisAppendCommand(r->redis.ctx, "SET %s%s %lld EXAT %lld",
                               RACE_ACCOUNTS_REDIS_REVOKED_KEY, revs[i].jti,
                               (long long) revs[i].exp,
                               (long long) (revs[i].exp
                                            + RACE_JWT_RIDE_LEEWAY))
            != REDIS_OK)
        {
            rc = RACE_ACCOUNTS_REDIS_ERROR;
            break;
        }

        queued++;

        if (!publish) {
            continue;
        }

        if (redisAppendCommand(r->redis.ctx, "PUBLISH %s %s",
                               RACE_ACCOUNTS_REDIS_REVOKED, revs[i].jti)
            != REDIS_OK)
        {
            rc = RACE_ACCOUNTS_REDIS_ERROR;
            break;
        }

        queued++;
    }

    if (rc == RACE_ACCOUNTS_REDIS_OK && channel != NULL) {
        if (redisAppendCommand(r->redis.ctx, "PUBLISH %s %b", channel, msg,
                               len)
            == REDIS_OK)
        {
            queued++;

        } else {
            rc = RACE_ACCOUNTS_REDIS_ERROR;
        }
    }

    if (rc != RACE_ACCOUNTS_REDIS_OK) {
        /* out of memory in hiredis: the pipeline is not whole */
        race_redis_drop(&r->redis, "a pipeline could not be built");
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    for (read = 0; read < queued; read++) {
        if (redisGetReply(r->redis.ctx, (void **) &reply) != REDIS_OK
            || reply == NULL)
        {
            race_redis_drop(&r->redis, "writing revocations");
            return RACE_ACCOUNTS_REDIS_ERROR;
        }

        if (reply->type == REDIS_REPLY_ERROR) {
            if (rc == RACE_ACCOUNTS_REDIS_OK) {
                race_log(RACE_LOG_ERROR, "redis: writing revocations: %s",
                         reply->str);
            }

            rc = RACE_ACCOUNTS_REDIS_ERROR;
        }

        freeReplyObject(reply);
    }

    return rc;
}


int
race_accounts_redis_loaded(race_accounts_redis_t *r, const char *marker)
{
    int          rc;
    redisReply  *reply;

    if (race_redis_connect(&r->redis) != RACE_ACCOUNTS_REDIS_OK) {
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    reply = redisCommand(r->redis.ctx, "EXISTS %s", marker);

    if (reply == NULL) {
        race_redis_drop(&r->redis, "exists");
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    if (reply->type == REDIS_REPLY_INTEGER) {
        rc = reply->integer > 0;

    } else {
        race_log(RACE_LOG_ERROR, "redis: exists: %s",
                 reply->type == REDIS_REPLY_ERROR ? reply->str
                                                  : "unexpected reply");
        rc = RACE_ACCOUNTS_REDIS_ERROR;
    }

    freeReplyObject(reply);

    return rc;
}


int
race_accounts_redis_set_loaded(race_accounts_redis_t *r, const char *marker)
{
    int          rc;
    redisReply  *reply;

    if (race_redis_connect(&r->redis) != RACE_ACCOUNTS_REDIS_OK) {
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    reply = redisCommand(r->redis.ctx, "SET %s 1", marker);

    if (reply == NULL) {
        race_redis_drop(&r->redis, "set");
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    rc = RACE_ACCOUNTS_REDIS_OK;

    if (reply->type == REDIS_REPLY_ERROR) {
        race_log(RACE_LOG_ERROR, "redis: set: %s", reply->str);
        rc = RACE_ACCOUNTS_REDIS_ERROR;
    }

    freeReplyObject(reply);

    return rc;
}


/* the next call connects again, at once */


static void
race_accounts_redis_call(race_accounts_redis_t *r,
    race_accounts_redis_call_t *call, const race_accounts_user_t *user)
{
    size_t  i;

    snprintf(call->user_key, sizeof(call->user_key), "%s%s",
             RACE_ACCOUNTS_REDIS_USER_KEY, user->id);
    snprintf(call->email_key, sizeof(call->email_key), "%s%s",
             RACE_ACCOUNTS_REDIS_EMAIL_KEY, user->email);
    snprintf(call->gen, sizeof(call->gen), "%lld", (long long) user->gen);

    call->argv[0] = "EVALSHA";
    call->argv[1] = r->redis.sha;
    call->argv[2] = "2";
    call->argv[3] = call->user_key;
    call->argv[4] = call->email_key;
    call->argv[5] = user->id;
    call->argv[6] = user->email;
    call->argv[7] = user->name;
    call->argv[8] = user->role;
    call->argv[9] = user->hash;
    call->argv[10] = call->gen;

    for (i = 0; i < RACE_ACCOUNTS_REDIS_ARGS; i++) {
        call->argvlen[i] = strlen(call->argv[i]);
    }
}


