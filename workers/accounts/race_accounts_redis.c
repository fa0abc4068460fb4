
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
#include "race_time.h"


#define RACE_ACCOUNTS_REDIS_RETRY_MIN_MS  100
#define RACE_ACCOUNTS_REDIS_LOADED        "race:users:loaded"
#define RACE_ACCOUNTS_REDIS_ARGS          11    /* of a script call */
#define RACE_ACCOUNTS_REDIS_INT_SIZE      24

#define RACE_ACCOUNTS_REDIS_USER_KEY      "race:user:"
#define RACE_ACCOUNTS_REDIS_EMAIL_KEY     "race:email:"


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
    redisContext           *ctx;
    char                   *host;
    int                     port;
    int                     timeout_ms;
    int                     retry_max_ms;
    int                     delay_ms;
    int64_t                 next_connect;
    unsigned                failures;
    char                    sha[41];

    size_t                  max_users;
    race_accounts_redis_call_t  *calls;
};


static int race_accounts_redis_connect(race_accounts_redis_t *r);
static void race_accounts_redis_drop(race_accounts_redis_t *r,
    const char *what);
static int race_accounts_redis_load(race_accounts_redis_t *r);
static void race_accounts_redis_call(race_accounts_redis_t *r,
    race_accounts_redis_call_t *call, const race_accounts_user_t *user);
static struct timeval race_accounts_redis_tv(int ms);


race_accounts_redis_t *
race_accounts_redis_open(const race_accounts_redis_conf_t *conf)
{
    race_accounts_redis_t  *r;

    r = calloc(1, sizeof(race_accounts_redis_t));
    if (r == NULL) {
        race_log(RACE_LOG_ERROR, "redis: out of memory");
        return NULL;
    }

    r->host = strdup(conf->host);
    r->port = conf->port;
    r->timeout_ms = conf->timeout_ms;
    r->retry_max_ms = conf->retry_max_ms;
    r->delay_ms = RACE_ACCOUNTS_REDIS_RETRY_MIN_MS;
    r->max_users = conf->max_users;
    r->calls = calloc(conf->max_users, sizeof(race_accounts_redis_call_t));

    if (r->host == NULL || r->calls == NULL) {
        race_log(RACE_LOG_ERROR, "redis: out of memory");
        race_accounts_redis_close(r);
        return NULL;
    }

    return r;
}


void
race_accounts_redis_close(race_accounts_redis_t *r)
{
    if (r->ctx != NULL) {
        redisFree(r->ctx);
    }

    free(r->calls);
    free(r->host);
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

    if (race_accounts_redis_connect(r) != RACE_ACCOUNTS_REDIS_OK) {
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    /* everything goes out at once, then every reply is read */

    sent = 0;

    for (i = 0; i < n; i++) {
        call = &r->calls[i];
        race_accounts_redis_call(r, call, &users[i]);

        if (redisAppendCommandArgv(r->ctx, RACE_ACCOUNTS_REDIS_ARGS,
                                   call->argv, call->argvlen)
            != REDIS_OK)
        {
            break;
        }

        sent++;
    }

    if (sent == n && channel != NULL) {
        if (redisAppendCommand(r->ctx, "PUBLISH %s %b", channel, msg, len)
            == REDIS_OK)
        {
            sent++;
        }
    }

    if (sent != n + (channel != NULL)) {
        /* out of memory in hiredis: the pipeline is not whole */
        race_accounts_redis_drop(r, "a pipeline could not be built");
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    rc = RACE_ACCOUNTS_REDIS_OK;
    noscript = 0;

    for (i = 0; i < sent; i++) {
        if (redisGetReply(r->ctx, (void **) &reply) != REDIS_OK
            || reply == NULL)
        {
            race_accounts_redis_drop(r, "writing users");
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
        r->sha[0] = '\0';

        if (race_accounts_redis_load(r) != RACE_ACCOUNTS_REDIS_OK) {
            if (r->ctx != NULL) {
                redisFree(r->ctx);
                r->ctx = NULL;
            }
        }
    }

    return rc;
}


int
race_accounts_redis_loaded(race_accounts_redis_t *r)
{
    int          rc;
    redisReply  *reply;

    if (race_accounts_redis_connect(r) != RACE_ACCOUNTS_REDIS_OK) {
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    reply = redisCommand(r->ctx, "EXISTS %s", RACE_ACCOUNTS_REDIS_LOADED);

    if (reply == NULL) {
        race_accounts_redis_drop(r, "exists");
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
race_accounts_redis_set_loaded(race_accounts_redis_t *r)
{
    int          rc;
    redisReply  *reply;

    if (race_accounts_redis_connect(r) != RACE_ACCOUNTS_REDIS_OK) {
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    reply = redisCommand(r->ctx, "SET %s 1", RACE_ACCOUNTS_REDIS_LOADED);

    if (reply == NULL) {
        race_accounts_redis_drop(r, "set");
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


static int
race_accounts_redis_connect(race_accounts_redis_t *r)
{
    int64_t          now;
    redisContext    *c;
    struct timeval   tv;

    if (r->ctx != NULL) {
        return RACE_ACCOUNTS_REDIS_OK;
    }

    now = race_time_mono_ms();

    if (now < r->next_connect) {
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    tv = race_accounts_redis_tv(r->timeout_ms);

    c = redisConnectWithTimeout(r->host, r->port, tv);

    if (c == NULL || c->err || redisSetTimeout(c, tv) != REDIS_OK) {
        /* said once; the retries are debug */
        race_log(r->failures++ == 0 ? RACE_LOG_WARN : RACE_LOG_DEBUG,
                 "redis: cannot connect to %s:%d: %s; retrying",
                 r->host, r->port, c ? c->errstr : "out of memory");

        if (c != NULL) {
            redisFree(c);
        }

        r->next_connect = now + r->delay_ms;
        r->delay_ms *= 2;

        if (r->delay_ms > r->retry_max_ms) {
            r->delay_ms = r->retry_max_ms;
        }

        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    r->ctx = c;

    /* a Redis that restarted has forgotten the script: load it always */

    if (race_accounts_redis_load(r) != RACE_ACCOUNTS_REDIS_OK) {
        if (r->ctx != NULL) {
            redisFree(r->ctx);
            r->ctx = NULL;
        }

        r->next_connect = now + r->delay_ms;
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    if (r->failures > 0) {
        race_log(RACE_LOG_INFO, "redis: connected to %s:%d after %u failed "
                 "attempts", r->host, r->port, r->failures);

    } else {
        race_log(RACE_LOG_INFO, "redis: connected to %s:%d", r->host,
                 r->port);
    }

    r->failures = 0;
    r->delay_ms = RACE_ACCOUNTS_REDIS_RETRY_MIN_MS;

    return RACE_ACCOUNTS_REDIS_OK;
}


/* the next call connects again, at once */

static void
race_accounts_redis_drop(race_accounts_redis_t *r, const char *what)
{
    race_log(RACE_LOG_WARN, "redis: %s: %s", what,
             r->ctx->errstr[0] ? r->ctx->errstr : "connection lost");

    redisFree(r->ctx);
    r->ctx = NULL;
    r->next_connect = 0;
}


static int
race_accounts_redis_load(race_accounts_redis_t *r)
{
    redisReply  *reply;

    reply = redisCommand(r->ctx, "SCRIPT LOAD %s",
                         race_accounts_redis_script);

    if (reply == NULL) {
        race_accounts_redis_drop(r, "script load");
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    if (reply->type != REDIS_REPLY_STRING || reply->len != 40) {
        race_log(RACE_LOG_ERROR, "redis: script load: %s",
                 reply->type == REDIS_REPLY_ERROR ? reply->str
                                                  : "unexpected reply");
        freeReplyObject(reply);
        return RACE_ACCOUNTS_REDIS_ERROR;
    }

    memcpy(r->sha, reply->str, 40);
    r->sha[40] = '\0';

    freeReplyObject(reply);

    return RACE_ACCOUNTS_REDIS_OK;
}


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
    call->argv[1] = r->sha;
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


static struct timeval
race_accounts_redis_tv(int ms)
{
    struct timeval  tv;

    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;

    return tv;
}
