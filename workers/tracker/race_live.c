
/*
 * ngx_race workers: the live side in Redis.
 *
 * hiredis, synchronous: a worker daemon has no event loop to share.  One
 * script call per race per batch, all of a batch's calls pipelined; each
 * call carries only the newest fix of each rider of the batch.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "race_json.h"
#include "race_live.h"
#include "race_log.h"
#include "race_redis.h"
#include "race_map.h"
#include "race_time.h"


#define RACE_LIVE_KEY_SIZE      (RACE_ID_MAX + 16)
#define RACE_LIVE_INT_SIZE      24

#define RACE_LIVE_CALL_OK       0
#define RACE_LIVE_CALL_NOSCRIPT 1
#define RACE_LIVE_CALL_ERROR    2


/*
 * KEYS[1] race:<race>:state; ARGV same, rider, t, state, rider, t,
 * state...  Sets each rider's state unless the stored one has a newer t,
 * or as new a t when same is "0" (a new fix; "1" restates the same fix
 * with other members), or cannot be read (then it is replaced), and
 * answers 1 or 0 for each rider: whether its state changed.
 */
static const char  race_live_script[] =
    "local changed = {}\n"
    "local same = ARGV[1] == '1'\n"
    "for i = 2, #ARGV, 3 do\n"
    "    local old = redis.call('HGET', KEYS[1], ARGV[i])\n"
    "    local newer = true\n"
    "    if old then\n"
    "        local ok, s = pcall(cjson.decode, old)\n"
    "        local t = tonumber(ARGV[i + 1])\n"
    "        if ok and type(s) == 'table' and type(s.t) == 'number'\n"
    "            and (s.t > t or (s.t == t and not same)) then\n"
    "            newer = false\n"
    "        end\n"
    "    end\n"
    "    if newer then\n"
    "        redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])\n"
    "    end\n"
    "    changed[#changed + 1] = newer and 1 or 0\n"
    "end\n"
    "return changed\n";


/* one script call: the riders of one race in a batch */
typedef struct {
    char                    key[RACE_LIVE_KEY_SIZE];
    const char             *race;
    size_t                  argv;       /* first of its arguments */
    size_t                  argc;
    size_t                  state;      /* first of its states */
    size_t                  nriders;
    int                     rc;         /* RACE_LIVE_CALL_* */
} race_live_call_t;


/* a race with a tick pending */
typedef struct {
    race_map_t              riders;     /* rider id to its state, a string */
    int64_t                 lag;        /* ms, the most of its new fixes */
} race_live_race_t;


struct race_live_s {
    race_redis_t            redis;

    race_live_who_pt        who;
    void                   *data;

    size_t                  max_fixes;
    const race_fix_t      **order;
    char                  (*states)[RACE_LIVE_STATE_SIZE];
    size_t                 *state_len;
    int64_t                *lags;       /* ms, recv to written; 0 restated */
    const char            **riders;
    char                  (*ts)[RACE_LIVE_INT_SIZE];
    const char            **argv;
    size_t                 *argvlen;
    race_live_call_t       *calls;

    race_map_t              races;      /* race id to race_live_race_t */
};


static int race_live_write(race_live_t *live, size_t n, int same);
static int race_live_compare(const void *a, const void *b);
static size_t race_live_calls(race_live_t *live, size_t n, int same);
static int race_live_reply(race_live_t *live, race_live_call_t *call,
    redisReply *reply);
static int race_live_remember(race_live_t *live, const char *race,
    const char *rider, const char *state, size_t len, int64_t lag);
static char *race_live_tick_json(const char *race, race_live_race_t *r,
    int64_t now, size_t *len);
static void race_live_race_free(void *value);


race_live_t *
race_live_open(const race_live_conf_t *conf)
{
    size_t        n;
    race_live_t  *live;

    live = calloc(1, sizeof(race_live_t));
    if (live == NULL) {
        race_log(RACE_LOG_ERROR, "redis: out of memory");
        return NULL;
    }

    n = conf->max_fixes;

    live->max_fixes = n;
    live->who = conf->who;
    live->data = conf->data;

    /* a call per race, at most one race per fix: 5 + 3 per rider */
    live->order = calloc(n, sizeof(race_fix_t *));
    live->states = calloc(n, RACE_LIVE_STATE_SIZE);
    live->state_len = calloc(n, sizeof(size_t));
    live->lags = calloc(n, sizeof(int64_t));
    live->riders = calloc(n, sizeof(char *));
    live->ts = calloc(n, RACE_LIVE_INT_SIZE);
    live->argv = calloc(8 * n, sizeof(char *));
    live->argvlen = calloc(8 * n, sizeof(size_t));
    live->calls = calloc(n, sizeof(race_live_call_t));

    race_map_init(&live->races);

    if (race_redis_init(&live->redis, conf->host, conf->port,
                        conf->timeout_ms, conf->retry_max_ms, race_live_script)
        != RACE_REDIS_OK
        || live->order == NULL || live->states == NULL
        || live->state_len == NULL || live->lags == NULL
        || live->riders == NULL
        || live->ts == NULL || live->argv == NULL || live->argvlen == NULL
        || live->calls == NULL)
    {
        race_log(RACE_LOG_ERROR, "redis: out of memory");
        race_live_close(live);
        return NULL;
    }

    return live;
}


int
race_live_update(race_live_t *live, const race_fix_t *fixes, size_t n)
{
    size_t  i;

    if (n == 0) {
        return RACE_LIVE_OK;
    }

    if (n > live->max_fixes) {
        race_log(RACE_LOG_ERROR, "redis: %zu fixes, room for %zu", n,
                 live->max_fixes);
        return RACE_LIVE_ERROR;
    }

    for (i = 0; i < n; i++) {
        live->order[i] = &fixes[i];
    }

    return race_live_write(live, n, 0);
}


int
race_live_restate(race_live_t *live, const race_fix_t *const *fixes,
    size_t n)
{
    size_t  i, k;

    /* in slices: a race may have more riders than a batch has fixes */

    for (i = 0; i < n; i += k) {
        k = n - i < live->max_fixes ? n - i : live->max_fixes;

        memcpy(live->order, &fixes[i], k * sizeof(race_fix_t *));

        if (race_live_write(live, k, 1) != RACE_LIVE_OK) {
            return RACE_LIVE_ERROR;
        }
    }

    return RACE_LIVE_OK;
}


/* the states of the fixes in live->order[0..n) */

static int
race_live_write(race_live_t *live, size_t n, int same)
{
    int                rc, noscript;
    size_t             i, ncalls;
    redisReply        *reply;
    race_live_call_t  *call;

    if (race_redis_connect(&live->redis) != RACE_LIVE_OK) {
        return RACE_LIVE_ERROR;
    }

    qsort(live->order, n, sizeof(race_fix_t *), race_live_compare);

    ncalls = race_live_calls(live, n, same);
    if (ncalls == 0) {
        return RACE_LIVE_ERROR;
    }

    /* all calls go out at once, then every reply is read */

    for (i = 0; i < ncalls; i++) {
        call = &live->calls[i];

        if (redisAppendCommandArgv(live->redis.ctx, (int) call->argc,
                                   &live->argv[call->argv],
                                   &live->argvlen[call->argv])
            != REDIS_OK)
        {
            race_redis_drop(&live->redis, "script call");
            return RACE_LIVE_ERROR;
        }
    }

    rc = RACE_LIVE_OK;
    noscript = 0;

    for (i = 0; i < ncalls; i++) {
        call = &live->calls[i];

        if (redisGetReply(live->redis.ctx, (void **) &reply) != REDIS_OK) {
            race_redis_drop(&live->redis, "script call");
            return RACE_LIVE_ERROR;
        }

        call->rc = race_live_reply(live, call, reply);
        freeReplyObject(reply);

        if (call->rc == RACE_LIVE_CALL_NOSCRIPT) {
            noscript = 1;

        } else if (call->rc == RACE_LIVE_CALL_ERROR) {
            rc = RACE_LIVE_ERROR;
        }
    }

    if (!noscript) {
        return rc;
    }

    /* Redis restarted or flushed its scripts: load it again, redo those */

    race_log(RACE_LOG_INFO, "redis: the script is gone, loading it again");

    if (race_redis_load(&live->redis) != RACE_LIVE_OK) {
        return RACE_LIVE_ERROR;
    }

    for (i = 0; i < ncalls; i++) {
        call = &live->calls[i];

        if (call->rc != RACE_LIVE_CALL_NOSCRIPT) {
            continue;
        }

        reply = redisCommandArgv(live->redis.ctx, (int) call->argc,
                                 &live->argv[call->argv],
                                 &live->argvlen[call->argv]);
        if (reply == NULL) {
            race_redis_drop(&live->redis, "script call");
            return RACE_LIVE_ERROR;
        }

        call->rc = race_live_reply(live, call, reply);
        freeReplyObject(reply);

        if (call->rc != RACE_LIVE_CALL_OK) {
            rc = RACE_LIVE_ERROR;
        }
    }

    return rc;
}


int
race_live_tick(race_live_t *live, int64_t now)
{
    char               channel[RACE_LIVE_KEY_SIZE], *msg;
    size_t             i, len, argvlen[3];
    redisReply        *reply;
    const char        *argv[3];
    race_map_entry_t  *e;
    race_live_race_t  *r;

    if (race_live_pending(live) == 0) {
        return RACE_LIVE_OK;
    }

    if (race_redis_connect(&live->redis) != RACE_LIVE_OK) {
        return RACE_LIVE_ERROR;
    }

    i = 0;

    while ((e = race_map_next(&live->races, &i)) != NULL) {
        r = e->value;

        if (r->riders.n == 0) {
            continue;
        }

        msg = race_live_tick_json(e->key, r, now, &len);
        if (msg == NULL) {
            race_log(RACE_LOG_ERROR, "redis: out of memory for a tick");
            return RACE_LIVE_ERROR;
        }

        snprintf(channel, sizeof(channel), "race:%s:live", e->key);

        argv[0] = "PUBLISH";
        argvlen[0] = 7;
        argv[1] = channel;
        argvlen[1] = strlen(channel);
        argv[2] = msg;
        argvlen[2] = len;

        reply = redisCommandArgv(live->redis.ctx, 3, argv, argvlen);
        free(msg);

        if (reply == NULL) {
            race_redis_drop(&live->redis, "publish");
            return RACE_LIVE_ERROR;
        }

        if (reply->type != REDIS_REPLY_INTEGER) {
            race_log(RACE_LOG_WARN, "redis: publish to %s: %s", channel,
                     reply->type == REDIS_REPLY_ERROR ? reply->str
                                                      : "unexpected reply");
            freeReplyObject(reply);
            return RACE_LIVE_ERROR;
        }

        race_log(RACE_LOG_DEBUG, "redis: tick of %zu riders to %s, "
                 "%lld listening", r->riders.n, channel, reply->integer);

        freeReplyObject(reply);

        /* sent: these riders wait for their next change */
        race_map_clear(&r->riders, free);
    }

    race_map_clear(&live->races, race_live_race_free);

    return RACE_LIVE_OK;
}


size_t
race_live_pending(const race_live_t *live)
{
    size_t             i, n;
    race_map_entry_t  *e;
    race_live_race_t  *r;

    i = 0;
    n = 0;

    while ((e = race_map_next(&live->races, &i)) != NULL) {
        r = e->value;
        n += r->riders.n > 0;
    }

    return n;
}


void
race_live_close(race_live_t *live)
{

    race_map_clear(&live->races, race_live_race_free);

    free(live->calls);
    free(live->argvlen);
    free(live->argv);
    free(live->ts);
    free(live->riders);
    free(live->lags);
    free(live->state_len);
    free(live->states);
    free(live->order);
    race_redis_free(&live->redis);
    free(live);
}


size_t
race_live_state(const race_fix_t *fix, const char *who, const char *extra,
    char *buf, size_t size)
{
    int     n;
    char    lat[RACE_JSON_NUMBER_SIZE], lon[RACE_JSON_NUMBER_SIZE];
    char    spd[RACE_JSON_NUMBER_SIZE], ele[RACE_JSON_NUMBER_SIZE];

    race_json_number(fix->lat, lat, sizeof(lat));
    race_json_number(fix->lon, lon, sizeof(lon));
    race_json_number(fix->spd, spd, sizeof(spd));
    race_json_number(fix->ele, ele, sizeof(ele));

    /* ids are [A-Za-z0-9_-]: nothing to escape; who and extra are JSON */
    n = snprintf(buf, size,
                 "{\"rider\":\"%s\"%s%s,\"lat\":%s,\"lon\":%s,\"t\":%lld,"
                 "\"seq\":%lld%s%s%s%s%s%s}",
                 fix->msg->rider,
                 (who && who[0]) ? "," : "", who ? who : "",
                 lat, lon, (long long) fix->t,
                 (long long) fix->seq,
                 (fix->has & RACE_FIX_SPD) ? ",\"spd\":" : "",
                 (fix->has & RACE_FIX_SPD) ? spd : "",
                 (fix->has & RACE_FIX_ELE) ? ",\"ele\":" : "",
                 (fix->has & RACE_FIX_ELE) ? ele : "",
                 (extra && extra[0]) ? "," : "", extra ? extra : "");

    if (n < 0 || (size_t) n >= size) {
        return 0;
    }

    return (size_t) n;
}


/* the connection failed: forget it, the next call connects again */


/* by race, rider, then newest first: t descending, seq descending */

static int
race_live_compare(const void *a, const void *b)
{
    int                c;
    const race_fix_t  *x, *y;

    x = *(const race_fix_t *const *) a;
    y = *(const race_fix_t *const *) b;

    c = strcmp(x->msg->race, y->msg->race);
    if (c != 0) {
        return c;
    }

    c = strcmp(x->msg->rider, y->msg->rider);
    if (c != 0) {
        return c;
    }

    if (x->t != y->t) {
        return x->t > y->t ? -1 : 1;
    }

    if (x->seq != y->seq) {
        return x->seq > y->seq ? -1 : 1;
    }

    return 0;
}


/* the script calls for the sorted fixes; their number, 0 on failure */

static size_t
race_live_calls(race_live_t *live, size_t n, int same)
{
    size_t             i, a, s, ncalls;
    int64_t            now;
    const char        *who, *extra;
    const race_fix_t  *f, *prev;
    race_live_call_t  *call;

    a = 0;
    s = 0;
    ncalls = 0;
    call = NULL;
    prev = NULL;
    now = race_time_wall_ms();

    for (i = 0; i < n; i++) {
        f = live->order[i];

        if (prev == NULL || strcmp(prev->msg->race, f->msg->race) != 0) {
            call = &live->calls[ncalls++];

            snprintf(call->key, sizeof(call->key), "race:%s:state",
                     f->msg->race);
            call->race = f->msg->race;
            call->argv = a;
            call->state = s;
            call->nriders = 0;

            live->argv[a] = "EVALSHA";
            live->argvlen[a++] = 7;
            live->argv[a] = live->redis.sha;
            live->argvlen[a++] = 40;
            live->argv[a] = "1";
            live->argvlen[a++] = 1;
            live->argv[a] = call->key;
            live->argvlen[a++] = strlen(call->key);
            live->argv[a] = same ? "1" : "0";
            live->argvlen[a++] = 1;

        } else if (strcmp(prev->msg->rider, f->msg->rider) == 0) {
            /* an older fix of the same rider in this batch */
            prev = f;
            continue;
        }

        prev = f;

        who = NULL;
        extra = NULL;

        if (live->who != NULL) {
            live->who(live->data, f, &who, &extra);
        }

        live->state_len[s] = race_live_state(f, who, extra, live->states[s],
                                             RACE_LIVE_STATE_SIZE);
        if (live->state_len[s] == 0) {
            race_log(RACE_LOG_ERROR, "redis: a state does not fit");
            return 0;
        }

        live->riders[s] = f->msg->rider;

        /* a restated fix was late when it was new, not now */
        live->lags[s] = (!same && f->msg->recv > 0 && now > f->msg->recv)
                        ? now - f->msg->recv : 0;

        live->argv[a] = f->msg->rider;
        live->argvlen[a++] = strlen(f->msg->rider);
        live->argvlen[a] = snprintf(live->ts[s], RACE_LIVE_INT_SIZE, "%lld",
                                    (long long) f->t);
        live->argv[a++] = live->ts[s];
        live->argv[a] = live->states[s];
        live->argvlen[a++] = live->state_len[s];

        s++;
        call->nriders++;
        call->argc = a - call->argv;
    }

    return ncalls;
}


static int
race_live_reply(race_live_t *live, race_live_call_t *call, redisReply *reply)
{
    size_t       k;
    redisReply  *r;

    if (reply->type == REDIS_REPLY_ERROR) {
        if (strncmp(reply->str, "NOSCRIPT", 8) == 0) {
            return RACE_LIVE_CALL_NOSCRIPT;
        }

        race_log(RACE_LOG_WARN, "redis: script on %s: %s", call->key,
                 reply->str);
        return RACE_LIVE_CALL_ERROR;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != call->nriders)
    {
        race_log(RACE_LOG_ERROR, "redis: script on %s: unexpected reply",
                 call->key);
        return RACE_LIVE_CALL_ERROR;
    }

    for (k = 0; k < call->nriders; k++) {
        r = reply->element[k];

        if (r->type != REDIS_REPLY_INTEGER) {
            race_log(RACE_LOG_ERROR, "redis: script on %s: unexpected "
                     "reply", call->key);
            return RACE_LIVE_CALL_ERROR;
        }

        if (r->integer == 1
            && race_live_remember(live, call->race,
                                  live->riders[call->state + k],
                                  live->states[call->state + k],
                                  live->state_len[call->state + k],
                                  live->lags[call->state + k])
               != 0)
        {
            return RACE_LIVE_CALL_ERROR;
        }
    }

    return RACE_LIVE_CALL_OK;
}


/* a changed rider for the next tick: only its newest state is kept */

static int
race_live_remember(race_live_t *live, const char *race, const char *rider,
    const char *state, size_t len, int64_t lag)
{
    char              *copy;
    race_map_entry_t  *e;
    race_live_race_t  *r;

    e = race_map_add(&live->races, race);
    if (e == NULL) {
        goto nomem;
    }

    if (e->value == NULL) {
        e->value = calloc(1, sizeof(race_live_race_t));
        if (e->value == NULL) {
            goto nomem;
        }

        race_map_init(&((race_live_race_t *) e->value)->riders);
    }

    r = e->value;

    if (lag > r->lag) {
        r->lag = lag;
    }

    copy = strndup(state, len);
    if (copy == NULL) {
        goto nomem;
    }

    e = race_map_add(&r->riders, rider);
    if (e == NULL) {
        free(copy);
        goto nomem;
    }

    free(e->value);
    e->value = copy;

    return 0;

nomem:

    race_log(RACE_LOG_ERROR, "redis: out of memory for pending ticks");

    return -1;
}


/* {"type":"tick","race":"r1","t":<ms>,"lag_ms":<ms>,"riders":[...]} */

static char *
race_live_tick_json(const char *race, race_live_race_t *r, int64_t now,
    size_t *len)
{
    int                n;
    char              *msg, *p;
    size_t             i, size, slen;
    race_map_entry_t  *e;

    size = 64 + strlen(race) + 2 * RACE_LIVE_INT_SIZE;

    i = 0;
    while ((e = race_map_next(&r->riders, &i)) != NULL) {
        size += strlen(e->value) + 1;
    }

    msg = malloc(size);
    if (msg == NULL) {
        return NULL;
    }

    n = snprintf(msg, size, "{\"type\":\"tick\",\"race\":\"%s\",\"t\":%lld,"
                 "\"lag_ms\":%lld,\"riders\":[", race, (long long) now,
                 (long long) r->lag);
    if (n < 0 || (size_t) n >= size) {
        free(msg);
        return NULL;
    }

    p = msg + n;

    i = 0;
    while ((e = race_map_next(&r->riders, &i)) != NULL) {
        if (p[-1] != '[') {
            *p++ = ',';
        }

        slen = strlen(e->value);
        memcpy(p, e->value, slen);
        p += slen;
    }

    *p++ = ']';
    *p++ = '}';
    *p = '\0';

    *len = p - msg;

    return msg;
}


static void
race_live_race_free(void *value)
{
    race_live_race_t  *r = value;

    if (r != NULL) {
        race_map_clear(&r->riders, free);
        free(r);
    }
}


