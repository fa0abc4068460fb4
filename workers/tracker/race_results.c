
/*
 * ngx_race workers: the results of a finished race.
 *
 * One Redis connection of race_redis.c of its own, for the entries and
 * the results' keys; the store for the fixes and the results document.
 * A run (race_results_run_t) holds every rider's matched track while
 * the results are computed, and is freed at the end of the call.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "race_board.h"
#include "race_log.h"
#include "race_map.h"
#include "race_redis.h"
#include "race_id.h"
#include "race_results.h"
#include "race_stats.h"


struct race_results_s {
    race_redis_t            redis;
    race_store_t           *store;
};


typedef struct {
    char                    id[RACE_ID_MAX + 1];
    char                   *name;
    char                   *bib;
    race_rider_mark_e       mark;
    race_board_matcher_t    m;
    race_rider_sample_t    *samples;
    size_t                  n;
    size_t                  size;
} race_results_rider_t;


typedef struct {
    const race_book_race_t *race;
    int64_t                 start;
    char                   *name;       /* the race's */
    race_map_t              map;        /* id to race_results_rider_t */
    race_results_rider_t  **riders;     /* entries first, by their order */
    size_t                  n;
    size_t                  size;
    const char             *prev;       /* the rider of the last fix */
    race_results_rider_t   *last;
    unsigned                failed:1;   /* out of memory */
} race_results_run_t;


static int race_results_entries(race_results_t *rs, race_results_run_t *run);
static race_results_rider_t *race_results_rider(race_results_run_t *run,
    const char *id);
static void race_results_fixes(void *data, const race_fix_t *fixes,
    size_t n);
static int race_results_sample(race_results_rider_t *rr,
    const race_rider_sample_t *s);
static int race_results_store(race_results_t *rs, const char *race,
    const race_buf_t *json, const race_buf_t *csv);
static void race_results_free(race_results_run_t *run);


race_results_t *
race_results_open(const race_results_conf_t *conf)
{
    race_results_t  *rs;

    rs = calloc(1, sizeof(race_results_t));
    if (rs == NULL) {
        race_log(RACE_LOG_ERROR, "results: out of memory");
        return NULL;
    }

    rs->store = conf->store;

    if (race_redis_init(&rs->redis, conf->host, conf->port,
                        conf->timeout_ms, conf->retry_max_ms, NULL)
        != RACE_REDIS_OK)
    {
        race_log(RACE_LOG_ERROR, "results: out of memory");
        free(rs);
        return NULL;
    }

    return rs;
}


int
race_results_missing(race_results_t *rs, const race_book_race_t *race)
{
    int          rc;
    redisReply  *reply;

    if (race_redis_connect(&rs->redis) != RACE_REDIS_OK) {
        return -1;
    }

    /* none made, or fixes came after they were made (the marker) */

    reply = redisCommand(rs->redis.ctx, "EXISTS race:race:%s:results "
                         "race:race:%s:results:due", race->id, race->id);
    if (reply == NULL) {
        race_redis_drop(&rs->redis, "results");
        return -1;
    }

    rc = -1;

    if (reply->type == REDIS_REPLY_INTEGER) {
        rc = 0;

        if (reply->integer != 1) {
            /* 0: no results; 2: results, and due again */
            rc = 1;
        }
    }

    freeReplyObject(reply);

    if (rc == 0) {
        /* one key: the results without the marker, or the marker alone */
        reply = redisCommand(rs->redis.ctx, "EXISTS race:race:%s:results",
                             race->id);
        if (reply == NULL) {
            race_redis_drop(&rs->redis, "results");
            return -1;
        }

        rc = reply->type == REDIS_REPLY_INTEGER ? reply->integer == 0 : -1;
        freeReplyObject(reply);
    }

    return rc;
}


int
race_results_due(race_results_t *rs, const race_book_race_t *race)
{
    redisReply  *reply;

    if (race_redis_connect(&rs->redis) != RACE_REDIS_OK) {
        return -1;
    }

    reply = redisCommand(rs->redis.ctx, "SET race:race:%s:results:due 1",
                         race->id);
    if (reply == NULL) {
        race_redis_drop(&rs->redis, "results");
        return -1;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        race_log(RACE_LOG_WARN, "redis: results of race %s due: %s",
                 race->id, reply->str);
        freeReplyObject(reply);
        return -1;
    }

    freeReplyObject(reply);

    return 0;
}


int
race_results_scan_due(race_results_t *rs,
    void (*found)(void *data, const char *race), void *data)
{
    char         id[RACE_ID_MAX + 1], cursor[32];
    size_t       i, len, pre, post;
    unsigned     rounds;
    redisReply  *reply, *keys;

    if (race_redis_connect(&rs->redis) != RACE_REDIS_OK) {
        return -1;
    }

    pre = sizeof("race:race:") - 1;
    post = sizeof(":results:due") - 1;

    strcpy(cursor, "0");

    /* a bounded walk: the markers are few, a keyspace is not endless */

    for (rounds = 0; rounds < 100000; rounds++) {
        reply = redisCommand(rs->redis.ctx, "SCAN %s MATCH "
                             "race:race:*:results:due COUNT 1000", cursor);
        if (reply == NULL) {
            race_redis_drop(&rs->redis, "results");
            return -1;
        }

        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
            || reply->element[0]->type != REDIS_REPLY_STRING
            || reply->element[0]->len >= sizeof(cursor)
            || reply->element[1]->type != REDIS_REPLY_ARRAY)
        {
            freeReplyObject(reply);
            return -1;
        }

        keys = reply->element[1];

        for (i = 0; i < keys->elements; i++) {
            if (keys->element[i]->type != REDIS_REPLY_STRING) {
                continue;
            }

            len = keys->element[i]->len;

            if (len <= pre + post || len - pre - post > RACE_ID_MAX) {
                continue;
            }

            memcpy(id, keys->element[i]->str + pre, len - pre - post);
            id[len - pre - post] = '\0';

            if (race_id_valid(id, len - pre - post)) {
                found(data, id);
            }
        }

        memcpy(cursor, reply->element[0]->str, reply->element[0]->len);
        cursor[reply->element[0]->len] = '\0';

        freeReplyObject(reply);

        if (strcmp(cursor, "0") == 0) {
            return 0;
        }
    }

    return 0;
}


int
race_results_make(race_results_t *rs, const race_book_race_t *race,
    int64_t now)
{
    int                     rc;
    size_t                  i, total;
    race_buf_t              json, csv;
    race_stats_t            st;
    race_stats_in_t         in;
    race_results_run_t      run;
    race_stats_rider_in_t  *ins;
    race_results_rider_t   *rr;

    memset(&run, 0, sizeof(run));
    memset(&json, 0, sizeof(json));
    memset(&csv, 0, sizeof(csv));
    race_map_init(&run.map);

    run.race = race;
    run.start = race_board_start(race);
    ins = NULL;
    rc = -1;

    if (race_results_entries(rs, &run) != 0) {
        goto done;
    }

    if (rs->store->ops->replay(rs->store, race->id, RACE_BOARD_SLICE,
                               race_results_fixes, &run, &total)
        != RACE_STORE_OK)
    {
        goto done;
    }

    if (run.failed) {
        race_log(RACE_LOG_ERROR, "race %s: out of memory for results",
                 race->id);
        goto done;
    }

    ins = calloc(run.n ? run.n : 1, sizeof(race_stats_rider_in_t));
    if (ins == NULL) {
        race_log(RACE_LOG_ERROR, "race %s: out of memory for results",
                 race->id);
        goto done;
    }

    for (i = 0; i < run.n; i++) {
        rr = run.riders[i];
        ins[i].id = rr->id;
        ins[i].name = rr->name;
        ins[i].bib = rr->bib;
        ins[i].mark = rr->mark;
        ins[i].samples = rr->samples;
        ins[i].n = rr->n;
    }

    memset(&in, 0, sizeof(in));
    in.id = race->id;
    in.name = run.name;
    in.start = run.start;
    in.computed = now;
    in.length = race->course->length;
    in.checkpoints = race->course->checkpoints;
    in.ncheckpoints = race->course->ncheckpoints;
    in.riders = ins;
    in.nriders = run.n;

    if (race_stats_compute(&st, &in) != 0) {
        race_log(RACE_LOG_ERROR, "race %s: the results cannot be computed",
                 race->id);
        goto done;
    }

    if (race_stats_json(&st, &json) != 0 || race_stats_csv(&st, &csv) != 0)
    {
        race_log(RACE_LOG_ERROR, "race %s: out of memory for results",
                 race->id);
        race_stats_free(&st);
        goto done;
    }

    race_log(RACE_LOG_INFO, "race %s: results made of %zu stored fixes, "
             "%zu riders, %zu starters, %zu finishers", race->id, total,
             st.n, st.starters, st.finishers);

    race_stats_free(&st);

    rc = race_results_store(rs, race->id, &json, &csv);

done:

    race_buf_free(&json);
    race_buf_free(&csv);
    free(ins);
    race_results_free(&run);

    return rc;
}


void
race_results_close(race_results_t *rs)
{
    if (rs == NULL) {
        return;
    }

    race_redis_free(&rs->redis);
    free(rs);
}


/*
 * The race's name and entries from race:race:<id>, as they are now: a
 * dnf or dsq marked after the finish is in the results.  No document:
 * no entries, the riders of the fixes only.
 */

static int
race_results_entries(race_results_t *rs, race_results_run_t *run)
{
    size_t                 i;
    json_t                *root, *riders, *entry, *id, *v;
    const char            *status;
    redisReply            *reply;
    json_error_t           error;
    race_results_rider_t  *rr;

    if (race_redis_connect(&rs->redis) != RACE_REDIS_OK) {
        return -1;
    }

    reply = redisCommand(rs->redis.ctx, "GET race:race:%s", run->race->id);
    if (reply == NULL) {
        race_redis_drop(&rs->redis, "results");
        return -1;
    }

    if (reply->type != REDIS_REPLY_STRING) {
        freeReplyObject(reply);
        return 0;
    }

    root = json_loadb(reply->str, reply->len, 0, &error);

    freeReplyObject(reply);

    if (!json_is_object(root)) {
        race_log(RACE_LOG_WARN, "race %s: race:race:%s is not a JSON "
                 "object", run->race->id, run->race->id);
        json_decref(root);
        return 0;
    }

    v = json_object_get(root, "name");
    if (json_is_string(v)) {
        run->name = strdup(json_string_value(v));
        if (run->name == NULL) {
            run->failed = 1;
        }
    }

    riders = json_object_get(root, "riders");

    json_array_foreach(riders, i, entry) {
        id = json_object_get(entry, "id");

        if (!json_is_string(id)
            || !race_id_valid(json_string_value(id), json_string_length(id)))
        {
            continue;
        }

        rr = race_results_rider(run, json_string_value(id));
        if (rr == NULL) {
            break;
        }

        v = json_object_get(entry, "name");
        if (json_is_string(v) && rr->name == NULL) {
            rr->name = strdup(json_string_value(v));
            run->failed |= rr->name == NULL;
        }

        /* a bib is a string in the contract; a number is taken as one */
        v = json_object_get(entry, "bib");
        if (json_is_string(v) && rr->bib == NULL) {
            rr->bib = strdup(json_string_value(v));
            run->failed |= rr->bib == NULL;

        } else if (json_is_integer(v) && rr->bib == NULL) {
            rr->bib = malloc(24);
            run->failed |= rr->bib == NULL;

            if (rr->bib != NULL) {
                snprintf(rr->bib, 24, "%lld",
                         (long long) json_integer_value(v));
            }
        }

        v = json_object_get(entry, "status");
        status = json_is_string(v) ? json_string_value(v) : "";

        if (strcmp(status, "dnf") == 0) {
            rr->mark = RACE_RIDER_MARK_DNF;

        } else if (strcmp(status, "dsq") == 0) {
            rr->mark = RACE_RIDER_MARK_DSQ;
        }
    }

    json_decref(root);

    if (run->failed) {
        race_log(RACE_LOG_ERROR, "race %s: out of memory for results",
                 run->race->id);
        return -1;
    }

    return 0;
}


static race_results_rider_t *
race_results_rider(race_results_run_t *run, const char *id)
{
    size_t                  size;
    race_map_entry_t       *e;
    race_results_rider_t  **riders, *rr;

    e = race_map_find(&run->map, id);
    if (e != NULL) {
        return e->value;
    }

    if (run->n == run->size) {
        size = run->size ? 2 * run->size : 16;

        riders = realloc(run->riders, size * sizeof(race_results_rider_t *));
        if (riders == NULL) {
            run->failed = 1;
            return NULL;
        }

        run->riders = riders;
        run->size = size;
    }

    rr = calloc(1, sizeof(race_results_rider_t));
    if (rr == NULL) {
        run->failed = 1;
        return NULL;
    }

    e = race_map_add(&run->map, id);
    if (e == NULL) {
        free(rr);
        run->failed = 1;
        return NULL;
    }

    snprintf(rr->id, sizeof(rr->id), "%s", id);
    race_board_matcher_init(&rr->m, run->start);

    e->value = rr;
    run->riders[run->n++] = rr;

    return rr;
}


/* a slice of the replay, by rider and t: each rider's track matched */

static void
race_results_fixes(void *data, const race_fix_t *fixes, size_t n)
{
    size_t                 i, j, k;
    race_board_out_t       out[2];
    race_results_run_t    *run = data;
    race_results_rider_t  *rr;

    for (i = 0; i < n && !run->failed; i++) {

        rr = run->last;

        if (rr == NULL || strcmp(rr->id, fixes[i].msg->rider) != 0) {
            rr = race_results_rider(run, fixes[i].msg->rider);
            if (rr == NULL) {
                return;
            }

            run->last = rr;
        }

        k = race_board_match(&rr->m, run->race->course, &fixes[i], out);

        for (j = 0; j < k; j++) {
            if (out[j].fate != RACE_BOARD_SKIPPED
                && race_results_sample(rr, &out[j].sample) != 0)
            {
                run->failed = 1;
                return;
            }
        }
    }
}


static int
race_results_sample(race_results_rider_t *rr, const race_rider_sample_t *s)
{
    size_t                size;
    race_rider_sample_t  *samples;

    if (rr->n == rr->size) {
        size = rr->size ? 2 * rr->size : 256;

        samples = realloc(rr->samples, size * sizeof(race_rider_sample_t));
        if (samples == NULL) {
            return -1;
        }

        rr->samples = samples;
        rr->size = size;
    }

    rr->samples[rr->n++] = *s;

    return 0;
}


/* MongoDB, the record, first; then both Redis keys in one round trip */

static int
race_results_store(race_results_t *rs, const char *race,
    const race_buf_t *json, const race_buf_t *csv)
{
    int          i, rc;
    redisReply  *reply;

    if (rs->store->ops->results(rs->store, race, json->data, json->len)
        != RACE_STORE_OK)
    {
        return -1;
    }

    if (race_redis_connect(&rs->redis) != RACE_REDIS_OK) {
        return -1;
    }

    if (redisAppendCommand(rs->redis.ctx, "SET race:race:%s:results %b",
                           race, json->data, json->len)
        != REDIS_OK
        || redisAppendCommand(rs->redis.ctx,
                              "SET race:race:%s:results.csv %b", race,
                              csv->data, csv->len)
           != REDIS_OK
        || redisAppendCommand(rs->redis.ctx, "DEL race:race:%s:results:due",
                              race)
           != REDIS_OK)
    {
        race_redis_drop(&rs->redis, "results");
        return -1;
    }

    rc = 0;

    for (i = 0; i < 3; i++) {
        if (redisGetReply(rs->redis.ctx, (void **) &reply) != REDIS_OK) {
            race_redis_drop(&rs->redis, "results");
            return -1;
        }

        if (reply->type == REDIS_REPLY_ERROR) {
            race_log(RACE_LOG_WARN, "redis: results of race %s: %s", race,
                     reply->str);
            rc = -1;
        }

        freeReplyObject(reply);
    }

    return rc;
}


static void
race_results_free(race_results_run_t *run)
{
    size_t                 i;
    race_results_rider_t  *rr;

    for (i = 0; i < run->n; i++) {
        rr = run->riders[i];
        free(rr->name);
        free(rr->bib);
        free(rr->samples);
        free(rr);
    }

    race_map_clear(&run->map, NULL);
    free(run->riders);
    free(run->name);
}
