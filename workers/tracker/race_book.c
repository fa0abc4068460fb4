
/*
 * ngx_race workers: the races race-tracker knows, from Redis.
 *
 * Two connections of race_redis.c: one for the loads (three pipelined
 * reads a race), one subscribed to race:races, read without waiting:
 * poll() says whether the socket has something, then hiredis reads what
 * is there and hands out the whole replies.
 */


#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "race_book.h"
#include "race_log.h"
#include "race_redis.h"
#include "race_time.h"



#define RACE_BOOK_CHANNEL       "race:races"

/* announcements read at one poll, so a flood cannot hold up the ticks */
#define RACE_BOOK_POLL_MAX      1000


struct race_book_s {
    race_redis_t            cmd;
    race_redis_t            sub;
    unsigned                subscribed:1;

    int64_t                 forget_ms;
    int64_t                 forget_any_ms;
    race_book_forget_pt     forget;
    void                   *data;

    race_map_t              races;      /* id to race_book_race_t */
    uint64_t                loads;
};


static int race_book_load(race_book_t *b, race_book_race_t *r);
static void race_book_meta(race_book_race_t *r, redisReply *meta);
static void race_book_doc(race_book_race_t *r, const char *json, size_t len);
static void race_book_entries(race_book_race_t *r, json_t *riders);
static char *race_book_who(const char *race, json_t *entry);
static void race_book_set_who(race_book_race_t *r, race_book_rider_t *rd,
    char *who);
static void race_book_course(race_book_race_t *r, const char *json,
    size_t len);
static char *race_book_checkpoints(const redisReply *doc,
    const redisReply *course);
static race_book_rider_t *race_book_rider_add(race_book_race_t *r,
    const char *id);
static void race_book_restate(race_book_race_t *r, race_book_rider_t *rd);
static void race_book_subscribe(race_book_t *b);
static void race_book_message(race_book_t *b, redisReply *reply);
static int race_book_idle(race_book_t *b, race_book_race_t *r,
    int64_t now);
static void race_book_race_free(race_book_t *b, race_book_race_t *r);
static void race_book_rider_free(void *value);
static int race_book_same(const char *a, const char *b);


race_book_t *
race_book_open(const race_book_conf_t *conf)
{
    race_book_t  *b;

    b = calloc(1, sizeof(race_book_t));
    if (b == NULL) {
        race_log(RACE_LOG_ERROR, "races: out of memory");
        return NULL;
    }

    b->forget_ms = conf->forget_ms;
    b->forget_any_ms = conf->forget_any_ms;
    b->forget = conf->forget;
    b->data = conf->data;
    race_map_init(&b->races);

    if (race_redis_init(&b->cmd, conf->host, conf->port, conf->timeout_ms,
                        conf->retry_max_ms, NULL)
        != RACE_REDIS_OK
        || race_redis_init(&b->sub, conf->host, conf->port, conf->timeout_ms,
                           conf->retry_max_ms, NULL)
           != RACE_REDIS_OK)
    {
        race_log(RACE_LOG_ERROR, "races: out of memory");
        race_book_close(b);
        return NULL;
    }

    return b;
}


int
race_book_get(race_book_t *b, const char *id, race_book_race_t **race)
{
    race_map_entry_t  *e;
    race_book_race_t  *r;

    e = race_map_find(&b->races, id);

    if (e != NULL) {
        r = e->value;
        r->active = race_time_mono_ms();
        *race = r;
        return RACE_BOOK_OK;
    }

    r = calloc(1, sizeof(race_book_race_t));
    if (r == NULL) {
        race_log(RACE_LOG_ERROR, "races: out of memory");
        return RACE_BOOK_ERROR;
    }

    snprintf(r->id, sizeof(r->id), "%s", id);
    race_map_init(&r->riders);

    if (race_book_load(b, r) != RACE_BOOK_OK) {
        race_book_race_free(b, r);
        return RACE_BOOK_ERROR;
    }

    e = race_map_add(&b->races, id);
    if (e == NULL) {
        race_log(RACE_LOG_ERROR, "races: out of memory");
        race_book_race_free(b, r);
        return RACE_BOOK_ERROR;
    }

    e->value = r;
    r->active = race_time_mono_ms();
    *race = r;

    return RACE_BOOK_OK;
}


race_book_race_t *
race_book_find(race_book_t *b, const char *id)
{
    race_map_entry_t  *e;

    e = race_map_find(&b->races, id);

    return e ? e->value : NULL;
}


void
race_book_poll(race_book_t *b)
{
    int                n, rc;
    size_t             i;
    void              *reply;
    struct pollfd      pfd;
    race_map_entry_t  *e;
    race_book_race_t  *r;

    race_book_subscribe(b);

    for (n = 0; b->subscribed && n < RACE_BOOK_POLL_MAX; /* void */) {

        if (redisGetReplyFromReader(b->sub.ctx, &reply) != REDIS_OK) {
            race_redis_drop(&b->sub, "subscription");
            b->subscribed = 0;
            break;
        }

        if (reply != NULL) {
            race_book_message(b, reply);
            freeReplyObject(reply);
            n++;
            continue;
        }

        /* nothing whole in the buffer: read only if something is there */

        pfd.fd = b->sub.ctx->fd;
        pfd.events = POLLIN;
        pfd.revents = 0;

        rc = poll(&pfd, 1, 0);

        if (rc == 0 || (rc < 0 && errno == EINTR)) {
            break;
        }

        if (rc < 0 || redisBufferRead(b->sub.ctx) != REDIS_OK) {
            race_redis_drop(&b->sub, "subscription");
            b->subscribed = 0;
            break;
        }
    }

    i = 0;

    while ((e = race_map_next(&b->races, &i)) != NULL) {
        r = e->value;

        /* Redis is away: the others wait for the next poll too */
        if (r->reload && race_book_load(b, r) != RACE_BOOK_OK) {
            break;
        }
    }
}


void
race_book_note(race_book_race_t *race, const race_fix_t *fixes, size_t n)
{
    size_t              i;
    const race_fix_t   *f;
    race_book_rider_t  *rd;

    for (i = 0; i < n; i++) {
        f = &fixes[i];

        rd = race_book_rider_add(race, f->msg->rider);
        if (rd == NULL) {
            continue;
        }

        /* as the live state: a late fix does not move a rider back */
        if (rd->has_fix
            && (f->t < rd->fix.t || (f->t == rd->fix.t
                                     && f->seq <= rd->fix.seq)))
        {
            continue;
        }

        rd->fix = *f;
        rd->msg = *f->msg;
        rd->fix.msg = &rd->msg;
        rd->has_fix = 1;
    }
}


race_book_rider_t *
race_book_rider(race_book_race_t *race, const char *id)
{
    race_map_entry_t  *e;

    e = race_map_find(&race->riders, id);

    return e ? e->value : NULL;
}


int
race_book_extra(race_book_race_t *race, const char *rider,
    const char *members, size_t len)
{
    char               *copy;
    race_book_rider_t  *rd;

    rd = race_book_rider(race, rider);

    if (rd == NULL || !rd->has_fix || len > RACE_BOOK_EXTRA_MAX) {
        return RACE_BOOK_ERROR;
    }

    if (rd->extra != NULL && strlen(rd->extra) == len
        && memcmp(rd->extra, members, len) == 0)
    {
        return RACE_BOOK_OK;
    }

    if (rd->extra == NULL && len == 0) {
        return RACE_BOOK_OK;
    }

    copy = NULL;

    if (len > 0) {
        copy = strndup(members, len);
        if (copy == NULL) {
            race_log(RACE_LOG_ERROR, "races: out of memory");
            return RACE_BOOK_ERROR;
        }
    }

    free(rd->extra);
    rd->extra = copy;

    race_book_restate(race, rd);

    return RACE_BOOK_OK;
}


race_book_race_t *
race_book_next(race_book_t *b, size_t *i)
{
    race_map_entry_t  *e;

    e = race_map_next(&b->races, i);

    return e ? e->value : NULL;
}


void
race_book_sweep(race_book_t *b)
{
    size_t             i, n;
    int64_t            now;
    race_map_t         keep;
    race_map_entry_t  *e, *k;
    race_book_race_t  *r;

    now = race_time_mono_ms();
    n = 0;
    i = 0;

    while ((e = race_map_next(&b->races, &i)) != NULL) {
        n += race_book_idle(b, e->value, now);
    }

    if (n == 0) {
        return;
    }

    /* the map has no removal: the races kept go to a new one */

    race_map_init(&keep);
    i = 0;

    while ((e = race_map_next(&b->races, &i)) != NULL) {
        r = e->value;

        if (!race_book_idle(b, r, now)) {
            k = race_map_add(&keep, r->id);
            if (k == NULL) {
                /* out of memory: forget nothing this time */
                race_log(RACE_LOG_ERROR, "races: out of memory");
                race_map_clear(&keep, NULL);
                return;
            }

            k->value = r;
        }
    }

    i = 0;

    while ((e = race_map_next(&b->races, &i)) != NULL) {
        r = e->value;

        if (race_book_idle(b, r, now)) {
            race_log(r->keys ? RACE_LOG_INFO : RACE_LOG_DEBUG,
                     "race %s: forgotten, %s and idle", r->id,
                     r->keys ? (r->status[0] ? r->status : "unknown")
                             : "ad hoc");
            race_book_race_free(b, r);
        }
    }

    race_map_clear(&b->races, NULL);
    b->races = keep;
}


uint64_t
race_book_loads(const race_book_t *b)
{
    return b->loads;
}


void
race_book_close(race_book_t *b)
{
    size_t             i;
    race_map_entry_t  *e;

    i = 0;

    while ((e = race_map_next(&b->races, &i)) != NULL) {
        race_book_race_free(b, e->value);
    }

    race_map_clear(&b->races, NULL);
    race_redis_free(&b->sub);
    race_redis_free(&b->cmd);
    free(b);
}


/*
 * Reads the race's three keys in one round trip and takes what they
 * say.  Keys that hold something unreadable are logged and taken as
 * absent: reading them again would not help.
 */

static int
race_book_load(race_book_t *b, race_book_race_t *r)
{
    int          i, first;
    char        *text;
    redisReply  *reply[3];

    if (race_redis_connect(&b->cmd) != RACE_REDIS_OK) {
        return RACE_BOOK_ERROR;
    }

    if (redisAppendCommand(b->cmd.ctx, "GET race:race:%s", r->id)
        != REDIS_OK
        || redisAppendCommand(b->cmd.ctx, "HGETALL race:race:%s:meta",
                              r->id)
           != REDIS_OK
        || redisAppendCommand(b->cmd.ctx, "GET race:race:%s:course", r->id)
           != REDIS_OK)
    {
        race_redis_drop(&b->cmd, "race load");
        return RACE_BOOK_ERROR;
    }

    for (i = 0; i < 3; i++) {
        if (redisGetReply(b->cmd.ctx, (void **) &reply[i]) != REDIS_OK) {
            while (i-- > 0) {
                freeReplyObject(reply[i]);
            }

            race_redis_drop(&b->cmd, "race load");
            return RACE_BOOK_ERROR;
        }

        if (reply[i]->type == REDIS_REPLY_ERROR) {
            race_log(RACE_LOG_WARN, "race %s: a key cannot be read: %s",
                     r->id, reply[i]->str);
        }
    }

    r->keys = reply[0]->type == REDIS_REPLY_STRING
              || (reply[1]->type == REDIS_REPLY_ARRAY
                  && reply[1]->elements > 0)
              || reply[2]->type == REDIS_REPLY_STRING;

    r->status[0] = '\0';
    r->start_at = 0;
    r->finished_at = 0;
    r->started_at = 0;

    if (reply[1]->type == REDIS_REPLY_ARRAY) {
        race_book_meta(r, reply[1]);
    }

    if (reply[0]->type == REDIS_REPLY_STRING) {
        race_book_doc(r, reply[0]->str, reply[0]->len);

    } else {
        race_book_entries(r, NULL);
    }

    if (reply[2]->type == REDIS_REPLY_STRING) {
        text = race_book_checkpoints(reply[0], reply[2]);

        if (text != NULL) {
            race_book_course(r, text, strlen(text));
            free(text);

        } else {
            race_book_course(r, reply[2]->str, reply[2]->len);
        }

    } else {
        race_book_course(r, NULL, 0);
    }

    for (i = 0; i < 3; i++) {
        freeReplyObject(reply[i]);
    }

    first = !r->loaded;
    r->loaded = 1;
    r->reload = 0;
    r->nloads++;
    b->loads++;

    if (!r->keys) {
        race_log(RACE_LOG_DEBUG, "race %s: no keys, an ad-hoc race", r->id);
        return RACE_BOOK_OK;
    }

    race_log(RACE_LOG_INFO, "race %s: %s, status %s, %zu riders entered, "
             "%s", r->id, first ? "loaded" : "loaded again",
             r->status[0] ? r->status : "unknown", r->nentered,
             r->course ? "a course" : "no course");

    return RACE_BOOK_OK;
}


/* status, start_at, finished_at of race:race:<id>:meta */

static void
race_book_meta(race_book_race_t *r, redisReply *meta)
{
    size_t        i;
    const char   *name, *value;

    for (i = 0; i + 1 < meta->elements; i += 2) {
        if (meta->element[i]->type != REDIS_REPLY_STRING
            || meta->element[i + 1]->type != REDIS_REPLY_STRING)
        {
            continue;
        }

        name = meta->element[i]->str;
        value = meta->element[i + 1]->str;

        if (strcmp(name, "status") == 0) {
            snprintf(r->status, sizeof(r->status), "%s", value);

        } else if (strcmp(name, "start_at") == 0) {
            r->start_at = strtoll(value, NULL, 10);

        } else if (strcmp(name, "finished_at") == 0) {
            r->finished_at = strtoll(value, NULL, 10);
        }
    }
}


/* the race document: its riders' entries, and when it started */

static void
race_book_doc(race_book_race_t *r, const char *json, size_t len)
{
    json_t        *root, *v;
    json_error_t   error;

    root = json_loadb(json, len, 0, &error);

    if (root == NULL || !json_is_object(root)) {
        race_log(RACE_LOG_WARN, "race %s: race:race:%s is not a JSON "
                 "object: %s", r->id, r->id,
                 root ? "another type" : error.text);
        json_decref(root);
        race_book_entries(r, NULL);
        return;
    }

    v = json_object_get(root, "started_at");
    if (json_is_integer(v)) {
        r->started_at = json_integer_value(v);
    }

    /* :meta has the last word on the status; the document, if it lacks */
    v = json_object_get(root, "status");
    if (r->status[0] == '\0' && json_is_string(v)) {
        snprintf(r->status, sizeof(r->status), "%s", json_string_value(v));
    }

    v = json_object_get(root, "finished_at");
    if (r->finished_at == 0 && json_is_integer(v)) {
        r->finished_at = json_integer_value(v);
    }

    v = json_object_get(root, "start_at");
    if (r->start_at == 0 && json_is_integer(v)) {
        r->start_at = json_integer_value(v);
    }

    race_book_entries(r, json_object_get(root, "riders"));

    json_decref(root);
}


/*
 * The entries, riders[] of the document (NULL: none): each rider in it
 * gets its bib, name and status, the others lose theirs.
 */

static void
race_book_entries(race_book_race_t *r, json_t *riders)
{
    char               *who;
    size_t              i;
    json_t             *entry, *id, *status;
    race_map_entry_t   *e;
    race_book_rider_t  *rd;

    r->nentered = 0;

    i = 0;
    while ((e = race_map_next(&r->riders, &i)) != NULL) {
        rd = e->value;
        rd->entered = 0;
    }

    if (json_is_array(riders)) {
        json_array_foreach(riders, i, entry) {
            id = json_object_get(entry, "id");

            if (!json_is_string(id)
                || !race_id_valid(json_string_value(id),
                                  json_string_length(id)))
            {
                race_log(RACE_LOG_WARN, "race %s: an entry without a valid "
                         "rider id is skipped", r->id);
                continue;
            }

            rd = race_book_rider_add(r, json_string_value(id));
            if (rd == NULL) {
                continue;
            }

            if (!rd->entered) {
                rd->entered = 1;
                r->nentered++;
            }

            status = json_object_get(entry, "status");
            snprintf(rd->status, sizeof(rd->status), "%s",
                     json_is_string(status) ? json_string_value(status)
                                            : "entered");

            who = race_book_who(r->id, entry);
            race_book_set_who(r, rd, who);
        }
    }

    i = 0;
    while ((e = race_map_next(&r->riders, &i)) != NULL) {
        rd = e->value;

        if (!rd->entered) {
            rd->status[0] = '\0';
            race_book_set_who(r, rd, NULL);
        }
    }
}


/*
 * "bib":"12","name":"Ann": the members of an entry that go into its
 * rider's <state>, escaped by jansson; NULL if it has neither (or out of
 * memory).  A name too long for a <state> is left out.
 */

static char *
race_book_who(const char *race, json_t *entry)
{
    char      *s, num[24];
    size_t     len;
    json_t    *obj, *bib, *name;
    unsigned   named;

    obj = json_object();
    if (obj == NULL) {
        return NULL;
    }

    bib = json_object_get(entry, "bib");
    name = json_object_get(entry, "name");

    /* a bib is a string in the contract; a number is taken as one */
    if (json_is_integer(bib)) {
        snprintf(num, sizeof(num), "%lld",
                 (long long) json_integer_value(bib));
        json_object_set_new(obj, "bib", json_string(num));

    } else if (json_is_string(bib)) {
        json_object_set(obj, "bib", bib);
    }

    named = json_is_string(name);
    if (named) {
        json_object_set(obj, "name", name);
    }

    for ( ;; ) {
        s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s == NULL) {
            json_decref(obj);
            return NULL;
        }

        len = strlen(s);

        if (len - 2 <= RACE_BOOK_WHO_MAX || !named) {
            break;
        }

        race_log(RACE_LOG_WARN, "race %s: a rider's name is too long for "
                 "its state, left out", race);

        free(s);
        json_object_del(obj, "name");
        named = 0;
    }

    json_decref(obj);

    if (len <= 2 || len - 2 > RACE_BOOK_WHO_MAX) {
        free(s);
        return NULL;
    }

    /* {"bib":..} to "bib":.. */
    memmove(s, s + 1, len - 2);
    s[len - 2] = '\0';

    return s;
}


/* takes who (may be NULL); a change is to be published */

static void
race_book_set_who(race_book_race_t *r, race_book_rider_t *rd, char *who)
{
    if (race_book_same(rd->who, who)) {
        free(who);
        return;
    }

    free(rd->who);
    rd->who = who;

    race_book_restate(r, rd);
}


/*
 * The organizer's checkpoints are in the document's course summary, the
 * points in the course key: the course key's text with them, to decode
 * as one; NULL when there are none (or no memory): the key as it is.
 */

static char *
race_book_checkpoints(const redisReply *doc, const redisReply *course)
{
    char          *text;
    json_t        *d, *c, *cps;
    json_error_t   error;

    if (doc->type != REDIS_REPLY_STRING) {
        return NULL;
    }

    d = json_loadb(doc->str, doc->len, 0, &error);
    cps = json_object_get(json_object_get(d, "course"), "checkpoints");

    if (json_array_size(cps) == 0) {
        json_decref(d);
        return NULL;
    }

    c = json_loadb(course->str, course->len, 0, &error);
    text = NULL;

    if (json_is_object(c) && json_object_set(c, "checkpoints", cps) == 0) {
        text = json_dumps(c, JSON_COMPACT);
    }

    json_decref(c);
    json_decref(d);

    return text;
}


/* the course key's text: decoded again only when it changed */

static void
race_book_course(race_book_race_t *r, const char *json, size_t len)
{
    char            *copy, err[RACE_COURSE_ERR_MAX];
    race_course_t   *c;

    if (json == NULL) {
        if (r->course_json == NULL) {
            return;
        }

        copy = NULL;
        c = NULL;

    } else {
        if (r->course_json != NULL && strlen(r->course_json) == len
            && memcmp(r->course_json, json, len) == 0)
        {
            return;
        }

        copy = strndup(json, len);
        c = malloc(sizeof(race_course_t));

        if (copy == NULL || c == NULL) {
            race_log(RACE_LOG_ERROR, "races: out of memory");
            free(copy);
            free(c);
            return;
        }

        if (race_course_decode(c, json, len, err, sizeof(err)) != 0) {
            race_log(RACE_LOG_WARN, "race %s: race:race:%s:course is not "
                     "a course: %s", r->id, r->id, err);
            free(c);
            c = NULL;
        }
    }

    if (r->course != NULL) {
        race_course_free(r->course);
        free(r->course);
    }

    free(r->course_json);
    r->course = c;
    r->course_json = copy;
    r->course_changed = 1;
}


static race_book_rider_t *
race_book_rider_add(race_book_race_t *r, const char *id)
{
    race_map_entry_t   *e;
    race_book_rider_t  *rd;

    e = race_map_add(&r->riders, id);
    if (e == NULL) {
        race_log(RACE_LOG_ERROR, "races: out of memory");
        return NULL;
    }

    if (e->value == NULL) {
        rd = calloc(1, sizeof(race_book_rider_t));
        if (rd == NULL) {
            race_log(RACE_LOG_ERROR, "races: out of memory");
            return NULL;
        }

        snprintf(rd->id, sizeof(rd->id), "%s", id);
        e->value = rd;
    }

    return e->value;
}


/* only a rider the tracker has a fix of can be published again */

static void
race_book_restate(race_book_race_t *r, race_book_rider_t *rd)
{
    if (rd->has_fix && !rd->restate) {
        rd->restate = 1;
        r->nrestate++;
    }
}


/*
 * Subscribes to race:races when not subscribed; once it is, every race
 * is loaded again, since what was announced meanwhile is lost.
 */

static void
race_book_subscribe(race_book_t *b)
{
    size_t             i;
    redisReply        *reply;
    race_map_entry_t  *e;
    race_book_race_t  *r;

    if (b->subscribed) {
        return;
    }

    if (race_redis_connect(&b->sub) != RACE_REDIS_OK) {
        return;
    }

    reply = redisCommand(b->sub.ctx, "SUBSCRIBE " RACE_BOOK_CHANNEL);

    if (reply == NULL) {
        race_redis_drop(&b->sub, "subscribe");
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
        || reply->element[0]->type != REDIS_REPLY_STRING
        || strcmp(reply->element[0]->str, "subscribe") != 0)
    {
        race_log(RACE_LOG_ERROR, "redis: subscribe " RACE_BOOK_CHANNEL
                 ": %s", reply->type == REDIS_REPLY_ERROR
                         ? reply->str : "unexpected reply");
        freeReplyObject(reply);
        redisFree(b->sub.ctx);
        b->sub.ctx = NULL;
        return;
    }

    freeReplyObject(reply);

    b->subscribed = 1;

    race_log(RACE_LOG_DEBUG, "redis: subscribed to " RACE_BOOK_CHANNEL);

    i = 0;
    while ((e = race_map_next(&b->races, &i)) != NULL) {
        r = e->value;
        r->reload = 1;
    }
}


/* ["message","race:races","<race id>"]: that race is to be loaded again */

static void
race_book_message(race_book_t *b, redisReply *reply)
{
    redisReply        *id;
    race_book_race_t  *r;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
        || reply->element[0]->type != REDIS_REPLY_STRING
        || strcmp(reply->element[0]->str, "message") != 0)
    {
        return;
    }

    id = reply->element[2];

    if (id->type != REDIS_REPLY_STRING
        || !race_id_valid(id->str, id->len))
    {
        race_log(RACE_LOG_WARN, "redis: " RACE_BOOK_CHANNEL " announced "
                 "something that is not a race id");
        return;
    }

    r = race_book_find(b, id->str);

    race_log(RACE_LOG_DEBUG, "redis: race %s changed%s", id->str,
             r ? "" : ", not one of ours");

    if (r != NULL) {
        r->reload = 1;
    }
}


/*
 * A race to forget: finished or ad hoc, and without fixes for a while;
 * or any race without fixes for forget_any_ms (one its organizer
 * never finished): its next fix loads it again, and its standings are made
 * again from the stored fixes.
 */

static int
race_book_idle(race_book_t *b, race_book_race_t *r, int64_t now)
{
    /* nor one whose results are still to be made */
    if (now - r->active < b->forget_ms || r->results_due != 0) {
        return 0;
    }

    return !r->keys || strcmp(r->status, "finished") == 0
           || now - r->active >= b->forget_any_ms;
}


static void
race_book_race_free(race_book_t *b, race_book_race_t *r)
{
    if (b->forget != NULL) {
        b->forget(b->data, r);
    }

    race_map_clear(&r->riders, race_book_rider_free);

    if (r->course != NULL) {
        race_course_free(r->course);
        free(r->course);
    }

    free(r->course_json);
    free(r);
}


static void
race_book_rider_free(void *value)
{
    race_book_rider_t  *rd = value;

    if (rd != NULL) {
        free(rd->who);
        free(rd->extra);
        free(rd);
    }
}


static int
race_book_same(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }

    return strcmp(a, b) == 0;
}
