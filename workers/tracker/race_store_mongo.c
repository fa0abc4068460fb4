
/*
 * ngx_race workers: the store on MongoDB (or FerretDB).
 *
 * One document per fix, _id "<race>:<rider>:<seq>", written in unordered
 * insert_many batches.  A duplicate key (11000) means the fix is already
 * there, from an earlier delivery of the same message; any other error
 * fails the whole batch and the caller retries it, which the ids make
 * harmless.  Only what FerretDB 1.x supports too is used.
 *
 * A race's fixes are read back (replay) with one find sorted by rider
 * and t, on an index {race, rider, t} made at the first replay, through
 * a cursor that holds at most a batch of RACE_STORE_MONGO_BATCH
 * documents: a long race is never in memory at once.
 *
 * A finished race's results are one document of collection "results",
 * _id the race id, replaced whole (an upsert) when they are computed
 * again.
 *
 * A single-threaded mongoc_client_t per store: race-tracker has one for
 * each writer thread of its pipeline (race_pipe.h) and one for its main
 * thread (replays, results).  It reconnects by itself when a server
 * comes back; meanwhile each insert fails after at most the server
 * selection timeout.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "race_log.h"
#include "race_mongo.h"
#include "race_store_mongo.h"


#define RACE_STORE_MONGO_COLLECTION     "fixes"
#define RACE_STORE_MONGO_DUPLICATE_KEY  11000
#define RACE_STORE_MONGO_INDEX          "race_rider_t_seq"
#define RACE_STORE_MONGO_BATCH          1000
#define RACE_STORE_MONGO_RESULTS        "results"


/*
 * A bson_t must be 128-byte aligned (bson-types.h), and so must anything
 * that holds one: this struct and docs[] come from aligned_alloc(), never
 * from malloc(), whose 16 bytes are not enough.
 */

typedef struct {
    race_store_t            store;      /* first: the race_store_t is this */
    mongoc_client_t        *client;
    mongoc_collection_t    *coll;
    mongoc_collection_t    *results;
    bson_t                 *docs;       /* aligned */
    const bson_t          **ptrs;
    size_t                  size;
    bson_t                  opts;
    unsigned                failures;   /* inserts failed in a row */
    unsigned                indexed:1;  /* the replay's index is there */
} race_store_mongo_t;


static int race_store_mongo_insert(race_store_t *s, const race_fix_t *fixes,
    size_t n, race_store_result_t *result);
static int race_store_mongo_replay(race_store_t *s, const char *race,
    size_t slice, race_store_replay_pt each, void *data, size_t *total);
static int race_store_mongo_results(race_store_t *s, const char *race,
    const char *json, size_t len);
static void race_store_mongo_close(race_store_t *s);
static void race_store_mongo_index(race_store_mongo_t *sm);
static int race_store_mongo_fix(const bson_t *doc, const char *race,
    race_fix_t *fix, race_fix_msg_t *msg);
static void *race_store_mongo_alloc(size_t align, size_t n, size_t size);
static int race_store_mongo_doc(bson_t *doc, const race_fix_t *fix);
static int race_store_mongo_check(const bson_t *reply, size_t n,
    race_store_result_t *result, char *why, size_t size);
static int64_t race_store_mongo_int(const bson_t *reply, const char *key);


static const race_store_ops_t  race_store_mongo_ops = {
    race_store_mongo_insert,
    race_store_mongo_replay,
    race_store_mongo_results,
    race_store_mongo_close
};


race_store_t *
race_store_mongo_open(const race_store_mongo_conf_t *conf)
{
    size_t               i;
    race_store_mongo_t  *sm;

    race_mongo_init();

    sm = race_store_mongo_alloc(_Alignof(race_store_mongo_t), 1,
                                sizeof(race_store_mongo_t));
    if (sm == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: out of memory");
        race_mongo_cleanup();
        return NULL;
    }

    sm->store.ops = &race_store_mongo_ops;
    sm->size = conf->max_fixes;
    bson_init(&sm->opts);

    sm->docs = race_store_mongo_alloc(_Alignof(bson_t), sm->size,
                                      sizeof(bson_t));
    sm->ptrs = calloc(sm->size, sizeof(bson_t *));

    if (sm->docs == NULL || sm->ptrs == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: out of memory");
        goto failed;
    }

    for (i = 0; i < sm->size; i++) {
        sm->ptrs[i] = &sm->docs[i];
    }

    if (!BSON_APPEND_BOOL(&sm->opts, "ordered", false)) {
        race_log(RACE_LOG_ERROR, "mongo: cannot build insert options");
        goto failed;
    }

    sm->client = race_mongo_client(conf->uri, conf->appname,
                                         conf->timeout_ms);
    if (sm->client == NULL) {
        goto failed;
    }

    sm->coll = mongoc_client_get_collection(sm->client, conf->db,
                                            RACE_STORE_MONGO_COLLECTION);
    if (sm->coll == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: cannot get collection %s.%s",
                 conf->db, RACE_STORE_MONGO_COLLECTION);
        goto failed;
    }

    sm->results = mongoc_client_get_collection(sm->client, conf->db,
                                               RACE_STORE_MONGO_RESULTS);
    if (sm->results == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: cannot get collection %s.%s",
                 conf->db, RACE_STORE_MONGO_RESULTS);
        goto failed;
    }

    race_log(RACE_LOG_INFO, "mongo: mongo-c-driver %s, collection %s.%s",
             mongoc_get_version(), conf->db, RACE_STORE_MONGO_COLLECTION);

    return &sm->store;

failed:

    race_store_mongo_close(&sm->store);

    return NULL;
}


static int
race_store_mongo_insert(race_store_t *s, const race_fix_t *fixes, size_t n,
    race_store_result_t *result)
{
    int                  rc;
    char                 why[256];
    size_t               i, built;
    bson_t               reply;
    bson_error_t         error;
    race_store_mongo_t  *sm = (race_store_mongo_t *) s;

    result->inserted = 0;
    result->duplicates = 0;

    if (n == 0) {
        return RACE_STORE_OK;
    }

    if (n > sm->size) {
        race_log(RACE_LOG_ERROR, "mongo: %zu fixes, room for %zu", n,
                 sm->size);
        return RACE_STORE_ERROR;
    }

    rc = RACE_STORE_ERROR;

    for (built = 0; built < n; built++) {
        bson_init(&sm->docs[built]);

        if (race_store_mongo_doc(&sm->docs[built], &fixes[built]) != 0) {
            race_log(RACE_LOG_ERROR, "mongo: cannot build a document");
            built++;
            goto done;
        }
    }

    if (mongoc_collection_insert_many(sm->coll, sm->ptrs, n, &sm->opts,
                                      &reply, &error))
    {
        result->inserted = n;
        rc = RACE_STORE_OK;

    } else if (race_store_mongo_check(&reply, n, result, why, sizeof(why))
               == 0)
    {
        rc = RACE_STORE_OK;

    } else {
        /* said once; the caller's retries are debug */
        race_log(sm->failures++ == 0 ? RACE_LOG_WARN : RACE_LOG_DEBUG,
                 "mongo: insert of %zu fixes: %s (domain %u, code %u)%s",
                 n, error.message, error.domain, error.code, why);
    }

    bson_destroy(&reply);

    if (rc == RACE_STORE_OK && sm->failures > 0) {
        race_log(RACE_LOG_INFO, "mongo: inserts work again, after %u "
                 "failures", sm->failures);
        sm->failures = 0;
    }

done:

    for (i = 0; i < built; i++) {
        bson_destroy(&sm->docs[i]);
    }

    return rc;
}


static int
race_store_mongo_replay(race_store_t *s, const char *race, size_t slice,
    race_store_replay_pt each, void *data, size_t *total)
{
    int                  rc;
    size_t               n;
    bson_t               filter, opts, sort;
    bson_error_t         error;
    const bson_t        *doc;
    race_fix_t          *fixes;
    race_fix_msg_t      *msgs;
    mongoc_cursor_t     *cursor;
    race_store_mongo_t  *sm = (race_store_mongo_t *) s;

    *total = 0;

    if (!sm->indexed) {
        race_store_mongo_index(sm);
    }

    fixes = calloc(slice, sizeof(race_fix_t));
    msgs = calloc(slice, sizeof(race_fix_msg_t));

    bson_init(&filter);
    bson_init(&opts);

    rc = RACE_STORE_ERROR;
    cursor = NULL;

    if (fixes == NULL || msgs == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: out of memory for a replay");
        goto done;
    }

    if (!BSON_APPEND_UTF8(&filter, "race", race)
        || !BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort)
        || !BSON_APPEND_INT32(&sort, "rider", 1)
        || !BSON_APPEND_INT32(&sort, "t", 1)
        || !BSON_APPEND_INT32(&sort, "seq", 1)
        || !bson_append_document_end(&opts, &sort)
        || !BSON_APPEND_INT32(&opts, "batchSize", RACE_STORE_MONGO_BATCH))
    {
        race_log(RACE_LOG_ERROR, "mongo: cannot build a query");
        goto done;
    }

    cursor = mongoc_collection_find_with_opts(sm->coll, &filter, &opts,
                                              NULL);

    n = 0;

    while (mongoc_cursor_next(cursor, &doc)) {

        if (race_store_mongo_fix(doc, race, &fixes[n], &msgs[n]) != 0) {
            /* not one of ours: logged, skipped */
            continue;
        }

        fixes[n].msg = &msgs[n];

        if (++n == slice) {
            each(data, fixes, n);
            *total += n;
            n = 0;
        }
    }

    if (mongoc_cursor_error(cursor, &error)) {
        race_log(RACE_LOG_WARN, "mongo: replay of race %s: %s (domain %u, "
                 "code %u)", race, error.message, error.domain, error.code);
        goto done;
    }

    if (n > 0) {
        each(data, fixes, n);
        *total += n;
    }

    rc = RACE_STORE_OK;

done:

    if (cursor != NULL) {
        mongoc_cursor_destroy(cursor);
    }

    bson_destroy(&opts);
    bson_destroy(&filter);
    free(msgs);
    free(fixes);

    return rc;
}


static int
race_store_mongo_results(race_store_t *s, const char *race,
    const char *json, size_t len)
{
    int                  rc;
    bson_t               doc, filter, opts, *results;
    bson_error_t         error;
    race_store_mongo_t  *sm = (race_store_mongo_t *) s;

    results = bson_new_from_json((const uint8_t *) json, (ssize_t) len,
                                 &error);
    if (results == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: the results of race %s are not "
                 "a document: %s", race, error.message);
        return RACE_STORE_ERROR;
    }

    bson_init(&doc);
    bson_init(&filter);
    bson_init(&opts);

    rc = RACE_STORE_ERROR;

    if (!BSON_APPEND_UTF8(&doc, "_id", race)
        || !bson_concat(&doc, results)
        || !BSON_APPEND_UTF8(&filter, "_id", race)
        || !BSON_APPEND_BOOL(&opts, "upsert", true))
    {
        race_log(RACE_LOG_ERROR, "mongo: cannot build the results of "
                 "race %s", race);
        goto done;
    }

    if (!mongoc_collection_replace_one(sm->results, &filter, &doc, &opts,
                                       NULL, &error))
    {
        race_log(RACE_LOG_WARN, "mongo: results of race %s: %s (domain "
                 "%u, code %u)", race, error.message, error.domain,
                 error.code);
        goto done;
    }

    rc = RACE_STORE_OK;

done:

    bson_destroy(&opts);
    bson_destroy(&filter);
    bson_destroy(&doc);
    bson_destroy(results);

    return rc;
}


static void
race_store_mongo_close(race_store_t *s)
{
    race_store_mongo_t  *sm = (race_store_mongo_t *) s;

    if (sm->results != NULL) {
        mongoc_collection_destroy(sm->results);
    }

    if (sm->coll != NULL) {
        mongoc_collection_destroy(sm->coll);
    }

    if (sm->client != NULL) {
        mongoc_client_destroy(sm->client);
    }

    bson_destroy(&sm->opts);
    free(sm->ptrs);
    free(sm->docs);
    free(sm);

    race_mongo_cleanup();
}


/*
 * {race: 1, rider: 1, t: 1}, for the replays: without it every replay
 * sorts the race's fixes in memory, and a server may refuse a large
 * sort.  Made once; if it fails, replays work without it, and it is
 * tried again at the next one.
 */

static void
race_store_mongo_index(race_store_mongo_t *sm)
{
    bson_t        cmd, indexes, index, key, reply;
    bson_error_t  error;

    bson_init(&cmd);

    if (!BSON_APPEND_UTF8(&cmd, "createIndexes",
                          mongoc_collection_get_name(sm->coll))
        || !BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &indexes)
        || !BSON_APPEND_DOCUMENT_BEGIN(&indexes, "0", &index)
        || !BSON_APPEND_DOCUMENT_BEGIN(&index, "key", &key)
        || !BSON_APPEND_INT32(&key, "race", 1)
        || !BSON_APPEND_INT32(&key, "rider", 1)
        || !BSON_APPEND_INT32(&key, "t", 1)
        || !BSON_APPEND_INT32(&key, "seq", 1)
        || !bson_append_document_end(&index, &key)
        || !BSON_APPEND_UTF8(&index, "name", RACE_STORE_MONGO_INDEX)
        || !bson_append_document_end(&indexes, &index)
        || !bson_append_array_end(&cmd, &indexes))
    {
        race_log(RACE_LOG_ERROR, "mongo: cannot build createIndexes");
        bson_destroy(&cmd);
        return;
    }

    if (mongoc_collection_write_command_with_opts(sm->coll, &cmd, NULL,
                                                  &reply, &error))
    {
        sm->indexed = 1;
        race_log(RACE_LOG_DEBUG, "mongo: index " RACE_STORE_MONGO_INDEX
                 " is there");

    } else {
        race_log(RACE_LOG_WARN, "mongo: cannot make index "
                 RACE_STORE_MONGO_INDEX ": %s (domain %u, code %u)",
                 error.message, error.domain, error.code);
    }

    bson_destroy(&reply);
    bson_destroy(&cmd);
}


/* a stored fix back into fix and msg; -1 if it is not a fix of race */

static int
race_store_mongo_fix(const bson_t *doc, const char *race, race_fix_t *fix,
    race_fix_msg_t *msg)
{
    double        v;
    uint32_t      len;
    bson_iter_t   it;
    const char   *key, *str;
    unsigned      seen;

    memset(fix, 0, sizeof(race_fix_t));
    memset(msg, 0, sizeof(race_fix_msg_t));

    if (!bson_iter_init(&it, doc)) {
        goto bad;
    }

    seen = 0;

    while (bson_iter_next(&it)) {
        key = bson_iter_key(&it);

        if (strcmp(key, "rider") == 0) {
            if (!BSON_ITER_HOLDS_UTF8(&it)) {
                goto bad;
            }

            str = bson_iter_utf8(&it, &len);

            if (!race_id_valid(str, len)) {
                goto bad;
            }

            memcpy(msg->rider, str, len + 1);
            seen |= 1;
            continue;
        }

        if (!BSON_ITER_HOLDS_NUMBER(&it)) {
            continue;
        }

        v = bson_iter_as_double(&it);

        if (strcmp(key, "seq") == 0) {
            fix->seq = bson_iter_as_int64(&it);
            seen |= 2;

        } else if (strcmp(key, "t") == 0) {
            fix->t = bson_iter_as_int64(&it);
            seen |= 4;

        } else if (strcmp(key, "lat") == 0) {
            fix->lat = v;
            seen |= 8;

        } else if (strcmp(key, "lon") == 0) {
            fix->lon = v;
            seen |= 16;

        } else if (strcmp(key, "recv") == 0) {
            msg->recv = bson_iter_as_int64(&it);

        } else if (strcmp(key, "ele") == 0) {
            fix->ele = v;
            fix->has |= RACE_FIX_ELE;

        } else if (strcmp(key, "acc") == 0) {
            fix->acc = v;
            fix->has |= RACE_FIX_ACC;

        } else if (strcmp(key, "spd") == 0) {
            fix->spd = v;
            fix->has |= RACE_FIX_SPD;

        } else if (strcmp(key, "brg") == 0) {
            fix->brg = v;
            fix->has |= RACE_FIX_BRG;

        } else if (strcmp(key, "bat") == 0) {
            fix->bat = v;
            fix->has |= RACE_FIX_BAT;
        }
    }

    if (seen != 31) {
        goto bad;
    }

    snprintf(msg->race, sizeof(msg->race), "%s", race);

    return 0;

bad:

    race_log(RACE_LOG_WARN, "mongo: replay of race %s: a document that "
             "is not a fix is skipped", race);

    return -1;
}


/* n zeroed objects of size bytes, aligned to align; NULL if out of memory */

static void *
race_store_mongo_alloc(size_t align, size_t n, size_t size)
{
    void    *p;
    size_t   len;

    if (n == 0 || size > SIZE_MAX / n) {
        return NULL;
    }

    /* aligned_alloc() wants a multiple of the alignment */
    len = (n * size + align - 1) / align * align;

    if (len < n * size) {
        return NULL;
    }

    p = aligned_alloc(align, len);
    if (p == NULL) {
        return NULL;
    }

    memset(p, 0, len);

    return p;
}


/* {_id, race, rider, seq, t, lat, lon, ele?, acc?, spd?, brg?, bat?, recv} */

static int
race_store_mongo_doc(bson_t *doc, const race_fix_t *fix)
{
    char  id[RACE_FIX_DOC_ID_SIZE];

    race_fix_doc_id(fix, id, sizeof(id));

    if (!BSON_APPEND_UTF8(doc, "_id", id)
        || !BSON_APPEND_UTF8(doc, "race", fix->msg->race)
        || !BSON_APPEND_UTF8(doc, "rider", fix->msg->rider)
        || !BSON_APPEND_INT64(doc, "seq", fix->seq)
        || !BSON_APPEND_INT64(doc, "t", fix->t)
        || !BSON_APPEND_DOUBLE(doc, "lat", fix->lat)
        || !BSON_APPEND_DOUBLE(doc, "lon", fix->lon))
    {
        return -1;
    }

    if (((fix->has & RACE_FIX_ELE) && !BSON_APPEND_DOUBLE(doc, "ele",
                                                          fix->ele))
        || ((fix->has & RACE_FIX_ACC) && !BSON_APPEND_DOUBLE(doc, "acc",
                                                             fix->acc))
        || ((fix->has & RACE_FIX_SPD) && !BSON_APPEND_DOUBLE(doc, "spd",
                                                             fix->spd))
        || ((fix->has & RACE_FIX_BRG) && !BSON_APPEND_DOUBLE(doc, "brg",
                                                             fix->brg))
        || ((fix->has & RACE_FIX_BAT) && !BSON_APPEND_DOUBLE(doc, "bat",
                                                             fix->bat)))
    {
        return -1;
    }

    if (!BSON_APPEND_INT64(doc, "recv", fix->msg->recv)) {
        return -1;
    }

    return 0;
}


/*
 * A failed insert_many is a success if every fix is accounted for as
 * either inserted or a duplicate key, and the write concern was met.
 * Anything else (a network error, another write error, a batch cut
 * short) is a failure, and why says what the reply held.
 */

static int
race_store_mongo_check(const bson_t *reply, size_t n,
    race_store_result_t *result, char *why, size_t size)
{
    size_t        nerr, dups;
    int64_t       inserted, code;
    bson_iter_t   it, errs, err;
    const char   *msg;

    why[0] = '\0';

    if (bson_has_field(reply, "writeConcernError")
        || bson_has_field(reply, "writeConcernErrors"))
    {
        snprintf(why, size, ", write concern not met");
        return -1;
    }

    if (!bson_iter_init_find(&it, reply, "writeErrors")
        || !BSON_ITER_HOLDS_ARRAY(&it)
        || !bson_iter_recurse(&it, &errs))
    {
        return -1;
    }

    nerr = 0;
    dups = 0;

    while (bson_iter_next(&errs)) {
        nerr++;
        code = -1;
        msg = "";

        if (BSON_ITER_HOLDS_DOCUMENT(&errs) && bson_iter_recurse(&errs, &err))
        {
            while (bson_iter_next(&err)) {
                if (strcmp(bson_iter_key(&err), "code") == 0) {
                    code = bson_iter_as_int64(&err);

                } else if (strcmp(bson_iter_key(&err), "errmsg") == 0
                           && BSON_ITER_HOLDS_UTF8(&err))
                {
                    msg = bson_iter_utf8(&err, NULL);
                }
            }
        }

        if (code == RACE_STORE_MONGO_DUPLICATE_KEY) {
            dups++;

        } else if (why[0] == '\0') {
            snprintf(why, size, ", write error %lld: %s", (long long) code,
                     msg);
        }
    }

    inserted = race_store_mongo_int(reply, "insertedCount");

    if (dups != nerr || inserted < 0 || (size_t) inserted + dups != n) {
        if (why[0] == '\0') {
            snprintf(why, size, ", %lld inserted and %zu duplicates of %zu",
                     (long long) inserted, dups, n);
        }

        return -1;
    }

    result->inserted = (size_t) inserted;
    result->duplicates = dups;

    return 0;
}


/* an integer field of a reply, -1 when absent */

static int64_t
race_store_mongo_int(const bson_t *reply, const char *key)
{
    bson_iter_t  it;

    if (!bson_iter_init_find(&it, reply, key)
        || !(BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it)
             || BSON_ITER_HOLDS_DOUBLE(&it)))
    {
        return -1;
    }

    return bson_iter_as_int64(&it);
}
