
/*
 * race-accounts: collections "races" and "courses" on MongoDB (or
 * FerretDB).
 *
 * Only what FerretDB 1.x supports too: find, insert, findAndModify with
 * $set on an _id and a rev, an update with upsert, $or and $lte; no
 * arrays in arrays (a course's points are three arrays).  JSON
 * to BSON and back with libbson's own converters: numbers written by
 * jansson (17 digits) read back as the same doubles, and times (Unix
 * ms) are int64 both ways.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race_accounts_races_mongo.h"
#include "race_log.h"
#include "race_races_cmd.h"


#define RACE_ACCOUNTS_RACES_COLL     "races"
#define RACE_ACCOUNTS_COURSES_COLL   "courses"
#define RACE_ACCOUNTS_FIXES_COLL     "fixes"
#define RACE_ACCOUNTS_RACES_DUP_KEY  11000


struct race_accounts_races_mongo_s {
    race_accounts_mongo_t  *m;
    mongoc_collection_t    *races;
    mongoc_collection_t    *courses;
    mongoc_collection_t    *fixes;      /* race-tracker's, read only */
};


typedef struct {
    race_accounts_races_each_pt   handler;
    void                         *data;
} race_accounts_races_scan_t;


static int race_accounts_races_bson(const json_t *json, bson_t *b);
static json_t *race_accounts_races_json(const bson_t *b);
static int race_accounts_races_find(race_accounts_races_mongo_t *rm,
    mongoc_collection_t *coll, const char *id, json_t **doc);
static int race_accounts_races_scanned(const bson_t *doc, void *ctx);


race_accounts_races_mongo_t *
race_accounts_races_mongo_open(race_accounts_mongo_t *m, const char *db)
{
    mongoc_client_t              *client;
    race_accounts_races_mongo_t  *rm;

    rm = calloc(1, sizeof(race_accounts_races_mongo_t));
    if (rm == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: out of memory");
        return NULL;
    }

    client = race_accounts_mongo_client(m);

    rm->m = m;
    rm->races = mongoc_client_get_collection(client, db,
                                             RACE_ACCOUNTS_RACES_COLL);
    rm->courses = mongoc_client_get_collection(client, db,
                                               RACE_ACCOUNTS_COURSES_COLL);
    rm->fixes = mongoc_client_get_collection(client, db,
                                             RACE_ACCOUNTS_FIXES_COLL);

    if (rm->races == NULL || rm->courses == NULL || rm->fixes == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: cannot get the collections of "
                 "races");
        race_accounts_races_mongo_close(rm);
        return NULL;
    }

    return rm;
}


void
race_accounts_races_mongo_close(race_accounts_races_mongo_t *rm)
{
    if (rm->races != NULL) {
        mongoc_collection_destroy(rm->races);
    }

    if (rm->courses != NULL) {
        mongoc_collection_destroy(rm->courses);
    }

    if (rm->fixes != NULL) {
        mongoc_collection_destroy(rm->fixes);
    }

    free(rm);
}


int
race_accounts_races_mongo_get(race_accounts_races_mongo_t *rm,
    const char *id, json_t **doc)
{
    int   rc;
    char  err[RACE_RACES_ERR_MAX];

    rc = race_accounts_races_find(rm, rm->races, id, doc);

    if (rc != RACE_ACCOUNTS_MONGO_OK) {
        return rc;
    }

    if (race_races_doc_valid(*doc, err, sizeof(err)) != 0) {
        race_log(RACE_LOG_ERROR, "mongo: the race %s is not of the "
                 "contract (docs/INTERNALS.md): %s", id, err);
        json_decref(*doc);
        *doc = NULL;
        return RACE_ACCOUNTS_MONGO_BAD;
    }

    return RACE_ACCOUNTS_MONGO_OK;
}


int
race_accounts_races_mongo_insert(race_accounts_races_mongo_t *rm,
    const json_t *doc)
{
    bool          ok;
    bson_t        b, reply;
    bson_error_t  error;

    if (race_accounts_races_bson(doc, &b) != 0) {
        return RACE_ACCOUNTS_MONGO_ERROR;
    }

    ok = mongoc_collection_insert_one(rm->races, &b, NULL, &reply, &error);

    bson_destroy(&b);
    bson_destroy(&reply);

    if (ok) {
        race_accounts_mongo_worked(rm->m);
        return RACE_ACCOUNTS_MONGO_OK;
    }

    if (error.domain == MONGOC_ERROR_SERVER
        && error.code == RACE_ACCOUNTS_RACES_DUP_KEY)
    {
        race_accounts_mongo_worked(rm->m);
        return RACE_ACCOUNTS_MONGO_DUPLICATE;
    }

    race_accounts_mongo_failed(rm->m, "insert of a race", &error);

    return RACE_ACCOUNTS_MONGO_ERROR;
}


int
race_accounts_races_mongo_replace(race_accounts_races_mongo_t *rm,
    const json_t *doc, int64_t rev)
{
    int                             rc;
    bool                            ok;
    json_t                         *set, *update;
    bson_t                          query, b, reply;
    bson_iter_t                     it;
    bson_error_t                    error;
    mongoc_find_and_modify_opts_t  *opts;

    set = json_deep_copy(doc);
    if (set == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: out of memory");
        return RACE_ACCOUNTS_MONGO_ERROR;
    }

    json_object_del(set, "_id");

    update = json_pack("{s:o}", "$set", set);

    if (update == NULL || race_accounts_races_bson(update, &b) != 0) {
        json_decref(update);
        return RACE_ACCOUNTS_MONGO_ERROR;
    }

    json_decref(update);

    bson_init(&query);

    ok = BSON_APPEND_UTF8(&query, "_id",
                          json_string_value(json_object_get(doc, "_id")))
         && BSON_APPEND_INT64(&query, "rev", rev);

    opts = ok ? mongoc_find_and_modify_opts_new() : NULL;

    if (opts == NULL
        || !mongoc_find_and_modify_opts_set_update(opts, &b)
        || !mongoc_find_and_modify_opts_set_flags(opts,
                                          MONGOC_FIND_AND_MODIFY_RETURN_NEW))
    {
        race_log(RACE_LOG_ERROR, "mongo: cannot build findAndModify");
        rc = RACE_ACCOUNTS_MONGO_ERROR;
        goto done;
    }

    ok = mongoc_collection_find_and_modify_with_opts(rm->races, &query, opts,
                                                     &reply, &error);

    if (!ok) {
        race_accounts_mongo_failed(rm->m, "update of a race", &error);
        bson_destroy(&reply);
        rc = RACE_ACCOUNTS_MONGO_ERROR;
        goto done;
    }

    race_accounts_mongo_worked(rm->m);

    /* "value": the new document, or null when the rev has moved */

    rc = bson_iter_init_find(&it, &reply, "value")
         && BSON_ITER_HOLDS_DOCUMENT(&it)
         ? RACE_ACCOUNTS_MONGO_OK : RACE_ACCOUNTS_MONGO_NONE;

    bson_destroy(&reply);

done:

    if (opts != NULL) {
        mongoc_find_and_modify_opts_destroy(opts);
    }

    bson_destroy(&query);
    bson_destroy(&b);

    return rc;
}


int
race_accounts_races_mongo_course_put(race_accounts_races_mongo_t *rm,
    const char *id, const json_t *course)
{
    bool          ok;
    json_t       *update;
    bson_t        query, b, opts, reply;
    bson_error_t  error;

    update = json_pack("{s:o}", "$set", race_races_course_doc(course));

    if (update == NULL || race_accounts_races_bson(update, &b) != 0) {
        json_decref(update);
        race_log(RACE_LOG_ERROR, "mongo: cannot build a course update");
        return RACE_ACCOUNTS_MONGO_ERROR;
    }

    json_decref(update);

    bson_init(&query);
    bson_init(&opts);

    if (!BSON_APPEND_UTF8(&query, "_id", id)
        || !BSON_APPEND_BOOL(&opts, "upsert", true))
    {
        bson_destroy(&opts);
        bson_destroy(&query);
        bson_destroy(&b);
        race_log(RACE_LOG_ERROR, "mongo: cannot build a course update");
        return RACE_ACCOUNTS_MONGO_ERROR;
    }

    ok = mongoc_collection_update_one(rm->courses, &query, &b, &opts, &reply,
                                      &error);

    bson_destroy(&reply);
    bson_destroy(&opts);
    bson_destroy(&query);
    bson_destroy(&b);

    if (!ok) {
        race_accounts_mongo_failed(rm->m, "update of a course", &error);
        return RACE_ACCOUNTS_MONGO_ERROR;
    }

    race_accounts_mongo_worked(rm->m);

    return RACE_ACCOUNTS_MONGO_OK;
}


int
race_accounts_races_mongo_course_get(race_accounts_races_mongo_t *rm,
    const char *id, json_t **course)
{
    int      rc;
    json_t  *doc;

    rc = race_accounts_races_find(rm, rm->courses, id, &doc);

    if (rc != RACE_ACCOUNTS_MONGO_OK) {
        return rc;
    }

    *course = race_races_course(doc);
    json_decref(doc);

    if (*course == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: the course of race %s is not of "
                 "the contract (docs/INTERNALS.md)", id);
        return RACE_ACCOUNTS_MONGO_NONE;
    }

    return RACE_ACCOUNTS_MONGO_OK;
}


int
race_accounts_races_mongo_each(race_accounts_races_mongo_t *rm, int due,
    int64_t now, race_accounts_races_each_pt handler, void *data, size_t *n)
{
    int                          rc;
    char                         json[256];
    bson_t                       filter;
    bson_error_t                 error;
    race_accounts_races_scan_t   ctx;

    ctx.handler = handler;
    ctx.data = data;

    /* null close_at never matches $lte; the core checks again anyway */

    if (due) {
        snprintf(json, sizeof(json),
                 "{\"$or\":[{\"status\":\"scheduled\",\"start_at\":"
                 "{\"$lte\":%lld}},{\"status\":\"live\",\"close_at\":"
                 "{\"$lte\":%lld}}]}", (long long) now, (long long) now);

    } else {
        snprintf(json, sizeof(json), "{}");
    }

    if (!bson_init_from_json(&filter, json, -1, &error)) {
        race_log(RACE_LOG_ERROR, "mongo: cannot build a query: %s",
                 error.message);
        return RACE_ACCOUNTS_MONGO_ERROR;
    }

    rc = race_accounts_mongo_scan(rm->m, rm->races, &filter, "races",
                                  race_accounts_races_scanned, &ctx, n);

    bson_destroy(&filter);

    return rc;
}


static int
race_accounts_races_scanned(const bson_t *doc, void *ctx)
{
    int                          rc;
    char                         err[RACE_RACES_ERR_MAX];
    json_t                      *json;
    race_accounts_races_scan_t  *scan = ctx;

    json = race_accounts_races_json(doc);

    if (json == NULL || race_races_doc_valid(json, err, sizeof(err)) != 0) {
        race_log(RACE_LOG_ERROR, "mongo: a race not of the contract "
                 "(docs/INTERNALS.md): skipped");
        json_decref(json);
        return 1;
    }

    rc = scan->handler(json, scan->data);

    json_decref(json);

    return rc == 0 ? 0 : -1;
}


int
race_accounts_races_mongo_track(race_accounts_races_mongo_t *rm,
    const char *race, const char *rider, size_t max,
    race_rider_sample_t **samples, size_t *n)
{
    int                   rc;
    bson_t                filter, opts, sort, proj;
    size_t                cap;
    bson_iter_t           it;
    bson_error_t          error;
    const bson_t         *b;
    mongoc_cursor_t      *cursor;
    race_rider_sample_t  *s, *more;

    *samples = NULL;
    *n = 0;

    bson_init(&filter);
    bson_init(&opts);

    /* race-tracker's index race_rider_t_seq {race, rider, t, seq} serves it */

    if (!BSON_APPEND_UTF8(&filter, "race", race)
        || !BSON_APPEND_UTF8(&filter, "rider", rider)
        || !BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort)
        || !BSON_APPEND_INT32(&sort, "t", 1)
        || !BSON_APPEND_INT32(&sort, "seq", 1)
        || !bson_append_document_end(&opts, &sort)
        || !BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj)
        || !BSON_APPEND_INT32(&proj, "_id", 0)
        || !BSON_APPEND_INT32(&proj, "t", 1)
        || !BSON_APPEND_INT32(&proj, "lat", 1)
        || !BSON_APPEND_INT32(&proj, "lon", 1)
        || !BSON_APPEND_INT32(&proj, "ele", 1)
        || !bson_append_document_end(&opts, &proj)
        || !BSON_APPEND_INT64(&opts, "limit", (int64_t) max + 1)
        || !BSON_APPEND_INT32(&opts, "batchSize", 1000))
    {
        bson_destroy(&opts);
        bson_destroy(&filter);
        race_log(RACE_LOG_ERROR, "mongo: cannot build a query");
        return RACE_ACCOUNTS_MONGO_ERROR;
    }

    cursor = mongoc_collection_find_with_opts(rm->fixes, &filter, &opts,
                                              NULL);

    bson_destroy(&opts);
    bson_destroy(&filter);

    rc = RACE_ACCOUNTS_MONGO_OK;
    cap = 0;

    while (mongoc_cursor_next(cursor, &b)) {

        if (*n == max) {
            rc = RACE_ACCOUNTS_MONGO_BAD;
            break;
        }

        if (*n == cap) {
            cap = cap ? 2 * cap : 1024;
            more = realloc(*samples, cap * sizeof(race_rider_sample_t));

            if (more == NULL) {
                race_log(RACE_LOG_ERROR, "mongo: out of memory");
                rc = RACE_ACCOUNTS_MONGO_ERROR;
                break;
            }

            *samples = more;
        }

        s = &(*samples)[*n];
        memset(s, 0, sizeof(race_rider_sample_t));

        /* race-tracker stored it checked: a field amiss skips the fix */

        if (!bson_iter_init_find(&it, b, "t") || !BSON_ITER_HOLDS_NUMBER(&it))
        {
            continue;
        }

        s->t = bson_iter_as_int64(&it);

        if (!bson_iter_init_find(&it, b, "lat")
            || !BSON_ITER_HOLDS_NUMBER(&it))
        {
            continue;
        }

        s->lat = bson_iter_as_double(&it);

        if (!bson_iter_init_find(&it, b, "lon")
            || !BSON_ITER_HOLDS_NUMBER(&it))
        {
            continue;
        }

        s->lon = bson_iter_as_double(&it);

        if (bson_iter_init_find(&it, b, "ele") && BSON_ITER_HOLDS_NUMBER(&it))
        {
            s->ele = bson_iter_as_double(&it);
            s->has_ele = 1;
        }

        (*n)++;
    }

    if (rc == RACE_ACCOUNTS_MONGO_OK && mongoc_cursor_error(cursor, &error)) {
        race_accounts_mongo_failed(rm->m, "read of a track", &error);
        rc = RACE_ACCOUNTS_MONGO_ERROR;

    } else if (rc != RACE_ACCOUNTS_MONGO_ERROR) {
        race_accounts_mongo_worked(rm->m);
    }

    mongoc_cursor_destroy(cursor);

    if (rc == RACE_ACCOUNTS_MONGO_ERROR) {
        free(*samples);
        *samples = NULL;
        *n = 0;
    }

    return rc;
}


static int
race_accounts_races_find(race_accounts_races_mongo_t *rm,
    mongoc_collection_t *coll, const char *id, json_t **doc)
{
    int               rc;
    bson_t            filter, opts;
    bson_error_t      error;
    const bson_t     *b;
    mongoc_cursor_t  *cursor;

    *doc = NULL;

    bson_init(&filter);
    bson_init(&opts);

    if (!BSON_APPEND_UTF8(&filter, "_id", id)
        || !BSON_APPEND_INT64(&opts, "limit", 1))
    {
        bson_destroy(&opts);
        bson_destroy(&filter);
        race_log(RACE_LOG_ERROR, "mongo: cannot build a query");
        return RACE_ACCOUNTS_MONGO_ERROR;
    }

    cursor = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);

    bson_destroy(&opts);
    bson_destroy(&filter);

    if (mongoc_cursor_next(cursor, &b)) {
        race_accounts_mongo_worked(rm->m);

        *doc = race_accounts_races_json(b);
        rc = *doc != NULL ? RACE_ACCOUNTS_MONGO_OK : RACE_ACCOUNTS_MONGO_BAD;

    } else if (mongoc_cursor_error(cursor, &error)) {
        race_accounts_mongo_failed(rm->m, "read of a race", &error);
        rc = RACE_ACCOUNTS_MONGO_ERROR;

    } else {
        race_accounts_mongo_worked(rm->m);
        rc = RACE_ACCOUNTS_MONGO_NONE;
    }

    mongoc_cursor_destroy(cursor);

    return rc;
}


/* a jansson object as BSON: its JSON text, read by libbson */

static int
race_accounts_races_bson(const json_t *json, bson_t *b)
{
    char          *s;
    bool           ok;
    bson_error_t   error;

    s = json_dumps(json, JSON_COMPACT);
    if (s == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: out of memory");
        return -1;
    }

    ok = bson_init_from_json(b, s, -1, &error);
    free(s);

    if (!ok) {
        race_log(RACE_LOG_ERROR, "mongo: a document libbson does not "
                 "take: %s", error.message);
        return -1;
    }

    return 0;
}


/* BSON as a jansson object, through relaxed extended JSON */

static json_t *
race_accounts_races_json(const bson_t *b)
{
    char          *s;
    size_t         len;
    json_t        *json;
    json_error_t   error;

    s = bson_as_relaxed_extended_json(b, &len);
    if (s == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: a document not JSON");
        return NULL;
    }

    json = json_loadb(s, len, 0, &error);
    bson_free(s);

    if (json == NULL || !json_is_object(json)) {
        json_decref(json);
        race_log(RACE_LOG_ERROR, "mongo: a document jansson does not "
                 "take (at byte %d)", error.position);
        return NULL;
    }

    return json;
}
