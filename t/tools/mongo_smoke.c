/*
 * mongo_smoke: what the workers rely on, checked against a real
 * MongoDB-protocol server (MongoDB, or FerretDB in the tests) through
 * mongo-c-driver.
 *
 *     mongo_smoke URI [write|check]
 *
 * "write" (the default) drops race_smoke.fixes and inserts documents with
 * deterministic string _ids, one at a time and in batches.  It checks that a
 * replayed _id fails with duplicate key error 11000 and leaves the stored
 * document alone, and that an unordered batch in which some _ids are replays
 * still stores the new ones.  Replays of a worker's input rely on both.
 * Then it does what "check" does.
 *
 * "check" only reads: the collection holds exactly the documents "write"
 * leaves, found in _id order and counted.  A test runs it after restarting
 * the server to see that the data survived.
 *
 * Every check prints "pass: ..." or "FAIL: ..." (not "ok", which a TAP
 * reader would take for a test line); the exit code is 0 only when all of
 * them passed, 1 otherwise, 2 on bad usage.
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mongoc/mongoc.h>


#define SMOKE_DB                 "race_smoke"
#define SMOKE_COLLECTION         "fixes"
#define SMOKE_APPNAME            "mongo_smoke"
#define SMOKE_SELECT_TIMEOUT_MS  5000
#define SMOKE_SOCKET_TIMEOUT_MS  10000
#define SMOKE_DUPLICATE_KEY      11000
#define SMOKE_NS_NOT_FOUND       26
#define SMOKE_TS_BASE            INT64_C(1700000000000)
#define SMOKE_MAX_WRITE_ERRORS   16
#define SMOKE_BATCH              8


typedef struct {
    const char  *id;
    const char  *dev;
    int32_t      seq;
} smoke_doc_t;


/* what "write" leaves behind, in _id order */
static const smoke_doc_t  smoke_docs[] = {
    { "smoke:dev1:000001", "dev1", 1 },
    { "smoke:dev1:000002", "dev1", 2 },
    { "smoke:dev1:000003", "dev1", 3 },
    { "smoke:dev1:000004", "dev1", 4 },
    { "smoke:dev1:000005", "dev1", 5 },
    { "smoke:dev2:000001", "dev2", 1 },
    { "smoke:dev2:000002", "dev2", 2 },
    { "smoke:single", "single", 0 },
};

#define SMOKE_NDOCS  (sizeof(smoke_docs) / sizeof(smoke_docs[0]))

/* the unordered batch: two replays (at 0 and 2) around two new documents */
static const smoke_doc_t  smoke_mixed[] = {
    { "smoke:dev1:000003", "dev1", 3 },
    { "smoke:dev2:000001", "dev2", 1 },
    { "smoke:single", "single", 0 },
    { "smoke:dev2:000002", "dev2", 2 },
};

/* a stored replay would show as "replay" where "check" wants "first" */
static const char  *smoke_mixed_v[] = { "replay", "first", "replay", "first" };

#define SMOKE_NMIXED  (sizeof(smoke_mixed) / sizeof(smoke_mixed[0]))


static int  smoke_failed;


static int smoke_check(int ok, const char *fmt, ...);
static int smoke_error(const char *what, const bson_error_t *error);
static bson_t *smoke_make_doc(const smoke_doc_t *d, const char *v);
static int64_t smoke_reply_int(const bson_t *reply, const char *key);
static int smoke_write_errors(const bson_t *reply, int32_t *index,
    int32_t *code, int max);
static int smoke_ping(mongoc_client_t *client);
static int smoke_write(mongoc_collection_t *coll);
static int smoke_replay_one(mongoc_collection_t *coll);
static int smoke_insert_batch(mongoc_collection_t *coll);
static int smoke_insert_mixed(mongoc_collection_t *coll);
static int smoke_read(mongoc_collection_t *coll);
static int smoke_count(mongoc_collection_t *coll, const bson_t *filter,
    int64_t want, const char *what);
static int smoke_find_all(mongoc_collection_t *coll);
static int smoke_doc_matches(const bson_t *doc, const smoke_doc_t *d);


int
main(int argc, char **argv)
{
    int                   writing;
    bson_error_t          error;
    mongoc_uri_t         *uri;
    mongoc_client_t      *client;
    mongoc_collection_t  *coll;

    if (argc < 2 || argc > 3
        || (argc == 3 && strcmp(argv[2], "write") != 0
            && strcmp(argv[2], "check") != 0))
    {
        fprintf(stderr, "usage: %s URI [write|check]\n", argv[0]);
        return 2;
    }

    writing = (argc == 2 || strcmp(argv[2], "write") == 0);

    mongoc_init();

    uri = mongoc_uri_new_with_error(argv[1], &error);
    if (uri == NULL) {
        smoke_error("parse URI", &error);
        mongoc_cleanup();
        return 2;
    }

    /* every wait bounded, unless the URI says otherwise */
    if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS)) {
        mongoc_uri_set_option_as_int32(uri,
            MONGOC_URI_SERVERSELECTIONTIMEOUTMS, SMOKE_SELECT_TIMEOUT_MS);
    }

    if (!mongoc_uri_has_option(uri, MONGOC_URI_SOCKETTIMEOUTMS)) {
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS,
                                       SMOKE_SOCKET_TIMEOUT_MS);
    }

    client = mongoc_client_new_from_uri_with_error(uri, &error);
    mongoc_uri_destroy(uri);

    if (client == NULL) {
        smoke_error("create client", &error);
        mongoc_cleanup();
        return 1;
    }

    /* server errors in MONGOC_ERROR_SERVER with the server's own code */
    if (!mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2)
        || !mongoc_client_set_appname(client, SMOKE_APPNAME))
    {
        smoke_check(0, "configure client");
        mongoc_client_destroy(client);
        mongoc_cleanup();
        return 1;
    }

    printf("# mongo-c-driver %s, mode %s\n", mongoc_get_version(),
           writing ? "write" : "check");

    coll = mongoc_client_get_collection(client, SMOKE_DB, SMOKE_COLLECTION);

    /* a failed step makes the ones after it meaningless: stop there */
    if (smoke_ping(client) == 0
        && (!writing || smoke_write(coll) == 0))
    {
        (void) smoke_read(coll);
    }

    mongoc_collection_destroy(coll);
    mongoc_client_destroy(client);
    mongoc_cleanup();

    printf("# %s\n", smoke_failed ? "FAILED" : "all checks passed");

    return smoke_failed ? 1 : 0;
}


static int
smoke_check(int ok, const char *fmt, ...)
{
    va_list  args;

    printf("%s: ", ok ? "pass" : "FAIL");

    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);

    printf("\n");
    fflush(stdout);

    if (!ok) {
        smoke_failed = 1;
    }

    return ok ? 0 : -1;
}


static int
smoke_error(const char *what, const bson_error_t *error)
{
    return smoke_check(0, "%s: %s (domain %u, code %u)", what,
                       error->message, error->domain, error->code);
}


static bson_t *
smoke_make_doc(const smoke_doc_t *d, const char *v)
{
    bson_t  *doc;

    doc = bson_new();

    if (!BSON_APPEND_UTF8(doc, "_id", d->id)
        || !BSON_APPEND_UTF8(doc, "dev", d->dev)
        || !BSON_APPEND_INT32(doc, "seq", d->seq)
        || !BSON_APPEND_UTF8(doc, "v", v)
        || !BSON_APPEND_DATE_TIME(doc, "ts",
                                  SMOKE_TS_BASE + d->seq * INT64_C(1000)))
    {
        bson_destroy(doc);
        return NULL;
    }

    return doc;
}


/* an integer field of a reply, -1 when absent */
static int64_t
smoke_reply_int(const bson_t *reply, const char *key)
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


/* the index and code of each of a reply's writeErrors; their number */
static int
smoke_write_errors(const bson_t *reply, int32_t *index, int32_t *code,
    int max)
{
    int          n;
    bson_iter_t  it, errs, err;

    if (!bson_iter_init_find(&it, reply, "writeErrors")
        || !BSON_ITER_HOLDS_ARRAY(&it)
        || !bson_iter_recurse(&it, &errs))
    {
        return 0;
    }

    n = 0;

    while (n < max && bson_iter_next(&errs)) {
        index[n] = -1;
        code[n] = -1;

        if (BSON_ITER_HOLDS_DOCUMENT(&errs)
            && bson_iter_recurse(&errs, &err))
        {
            while (bson_iter_next(&err)) {
                if (strcmp(bson_iter_key(&err), "index") == 0) {
                    index[n] = (int32_t) bson_iter_as_int64(&err);

                } else if (strcmp(bson_iter_key(&err), "code") == 0) {
                    code[n] = (int32_t) bson_iter_as_int64(&err);
                }
            }
        }

        n++;
    }

    return n;
}


static int
smoke_ping(mongoc_client_t *client)
{
    int           rc;
    bson_t       *cmd, reply;
    bson_error_t  error;

    cmd = BCON_NEW("ping", BCON_INT32(1));

    if (!mongoc_client_command_simple(client, "admin", cmd, NULL, &reply,
                                      &error))
    {
        rc = smoke_error("ping", &error);

    } else {
        rc = smoke_check(1, "ping");
    }

    bson_destroy(&reply);
    bson_destroy(cmd);

    return rc;
}


static int
smoke_write(mongoc_collection_t *coll)
{
    bson_error_t  error;

    /* a collection that is not there yet is fine */
    if (!mongoc_collection_drop_with_opts(coll, NULL, &error)
        && !(error.domain == MONGOC_ERROR_SERVER
             && error.code == SMOKE_NS_NOT_FOUND))
    {
        return smoke_error("drop " SMOKE_COLLECTION, &error);
    }

    if (smoke_replay_one(coll) != 0
        || smoke_insert_batch(coll) != 0
        || smoke_insert_mixed(coll) != 0)
    {
        return -1;
    }

    return 0;
}


/* insert_one, then the same _id again: 11000, and the first one stays */
static int
smoke_replay_one(mongoc_collection_t *coll)
{
    int                 rc, n;
    bson_t             *doc, reply;
    int32_t             index[SMOKE_MAX_WRITE_ERRORS];
    int32_t             code[SMOKE_MAX_WRITE_ERRORS];
    bson_error_t        error;
    const smoke_doc_t  *d;

    d = &smoke_docs[SMOKE_NDOCS - 1];

    doc = smoke_make_doc(d, "first");
    if (doc == NULL) {
        return smoke_check(0, "build document %s", d->id);
    }

    if (!mongoc_collection_insert_one(coll, doc, NULL, &reply, &error)) {
        rc = smoke_error("insert_one", &error);

    } else {
        rc = smoke_check(smoke_reply_int(&reply, "insertedCount") == 1,
                         "insert_one %s", d->id);
    }

    bson_destroy(&reply);
    bson_destroy(doc);

    if (rc != 0) {
        return rc;
    }

    doc = smoke_make_doc(d, "replay");
    if (doc == NULL) {
        return smoke_check(0, "build document %s", d->id);
    }

    if (mongoc_collection_insert_one(coll, doc, NULL, &reply, &error)) {
        rc = smoke_check(0, "insert_one %s again succeeded", d->id);

    } else {
        n = smoke_write_errors(&reply, index, code, SMOKE_MAX_WRITE_ERRORS);

        rc = smoke_check(error.domain == MONGOC_ERROR_SERVER
                         && error.code == SMOKE_DUPLICATE_KEY
                         && n == 1 && code[0] == SMOKE_DUPLICATE_KEY
                         && smoke_reply_int(&reply, "insertedCount") == 0,
                         "insert_one %s again: duplicate key %u (%s)",
                         d->id, error.code, error.message);
    }

    bson_destroy(&reply);
    bson_destroy(doc);

    return rc;
}


static int
smoke_insert_batch(mongoc_collection_t *coll)
{
    int            rc;
    bson_t        *docs[SMOKE_BATCH], reply;
    size_t         i, n;
    bson_error_t   error;

    /* everything but the last entry, inserted by smoke_replay_one() */
    n = 0;

    for (i = 0; i < SMOKE_NDOCS - 1 && n < SMOKE_BATCH; i++) {
        if (strcmp(smoke_docs[i].dev, "dev1") != 0) {
            continue;
        }

        docs[n] = smoke_make_doc(&smoke_docs[i], "first");
        if (docs[n] == NULL) {
            rc = smoke_check(0, "build document %s", smoke_docs[i].id);
            goto done;
        }

        n++;
    }

    if (!mongoc_collection_insert_many(coll, (const bson_t **) docs, n, NULL,
                                       &reply, &error))
    {
        rc = smoke_error("insert_many (ordered)", &error);

    } else {
        rc = smoke_check(smoke_reply_int(&reply, "insertedCount")
                         == (int64_t) n,
                         "insert_many (ordered) of %zu", n);
    }

    bson_destroy(&reply);

done:

    for (i = 0; i < n; i++) {
        bson_destroy(docs[i]);
    }

    return rc;
}


/* unordered: the replays fail with 11000, the new documents are stored */
static int
smoke_insert_mixed(mongoc_collection_t *coll)
{
    int            rc, nerr;
    bson_t        *docs[SMOKE_NMIXED], reply, opts;
    size_t         i, n;
    int32_t        index[SMOKE_MAX_WRITE_ERRORS];
    int32_t        code[SMOKE_MAX_WRITE_ERRORS];
    bson_error_t   error;

    for (n = 0; n < SMOKE_NMIXED; n++) {
        docs[n] = smoke_make_doc(&smoke_mixed[n], smoke_mixed_v[n]);

        if (docs[n] == NULL) {
            rc = smoke_check(0, "build document %s", smoke_mixed[n].id);
            goto done;
        }
    }

    bson_init(&opts);

    if (!BSON_APPEND_BOOL(&opts, "ordered", false)) {
        bson_destroy(&opts);
        rc = smoke_check(0, "build options");
        goto done;
    }

    if (mongoc_collection_insert_many(coll, (const bson_t **) docs, n, &opts,
                                      &reply, &error))
    {
        rc = smoke_check(0, "insert_many (unordered) with replays succeeded");

    } else {
        nerr = smoke_write_errors(&reply, index, code,
                                  SMOKE_MAX_WRITE_ERRORS);

        rc = smoke_check(error.domain == MONGOC_ERROR_SERVER
                         && error.code == SMOKE_DUPLICATE_KEY,
                         "insert_many (unordered) with replays: "
                         "duplicate key %u (%s)", error.code, error.message);

        rc |= smoke_check(smoke_reply_int(&reply, "insertedCount") == 2,
                          "insert_many (unordered): inserted %lld of %zu",
                          (long long) smoke_reply_int(&reply,
                                                      "insertedCount"), n);

        rc |= smoke_check(nerr == 2
                          && index[0] == 0 && code[0] == SMOKE_DUPLICATE_KEY
                          && index[1] == 2 && code[1] == SMOKE_DUPLICATE_KEY,
                          "insert_many (unordered): %d write errors, "
                          "11000 at 0 and 2", nerr);
    }

    bson_destroy(&reply);
    bson_destroy(&opts);

done:

    for (i = 0; i < n; i++) {
        bson_destroy(docs[i]);
    }

    return rc;
}


static int
smoke_read(mongoc_collection_t *coll)
{
    int      rc;
    bson_t  *filter;

    rc = smoke_count(coll, NULL, SMOKE_NDOCS, "all");

    filter = BCON_NEW("dev", BCON_UTF8("dev1"),
                      "seq", "{", "$gte", BCON_INT32(3), "}");
    rc |= smoke_count(coll, filter, 3, "dev1 from seq 3");
    bson_destroy(filter);

    rc |= smoke_find_all(coll);

    return rc;
}


static int
smoke_count(mongoc_collection_t *coll, const bson_t *filter, int64_t want,
    const char *what)
{
    bson_t        empty;
    int64_t       n;
    bson_error_t  error;

    bson_init(&empty);

    n = mongoc_collection_count_documents(coll, filter ? filter : &empty,
                                          NULL, NULL, NULL, &error);
    bson_destroy(&empty);

    if (n < 0) {
        return smoke_error("count_documents", &error);
    }

    return smoke_check(n == want, "count_documents (%s): %lld, want %lld",
                       what, (long long) n, (long long) want);
}


static int
smoke_find_all(mongoc_collection_t *coll)
{
    int               rc;
    size_t            n;
    bson_t            filter, *opts;
    bson_error_t      error;
    const bson_t     *doc;
    mongoc_cursor_t  *cursor;

    bson_init(&filter);
    opts = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}");

    cursor = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);

    rc = 0;
    n = 0;

    /* bounded: one past what should be there is already a failure */
    while (n <= SMOKE_NDOCS && mongoc_cursor_next(cursor, &doc)) {
        if (n < SMOKE_NDOCS && !smoke_doc_matches(doc, &smoke_docs[n])) {
            char  *json;

            json = bson_as_relaxed_extended_json(doc, NULL);
            rc = smoke_check(0, "find: document %zu is %s, want _id %s",
                             n, json ? json : "?", smoke_docs[n].id);
            bson_free(json);
        }

        n++;
    }

    if (mongoc_cursor_error(cursor, &error)) {
        rc = smoke_error("find", &error);

    } else {
        rc |= smoke_check(rc == 0 && n == SMOKE_NDOCS,
                          "find sorted by _id: %zu documents as written, "
                          "want %zu", n, SMOKE_NDOCS);
    }

    mongoc_cursor_destroy(cursor);
    bson_destroy(opts);
    bson_destroy(&filter);

    return rc;
}


/* _id, dev, seq, ts as written, and "first": no replay overwrote it */
static int
smoke_doc_matches(const bson_t *doc, const smoke_doc_t *d)
{
    int          seen;
    bson_iter_t  it;
    const char  *key;

    if (!bson_iter_init(&it, doc)) {
        return 0;
    }

    seen = 0;

    while (bson_iter_next(&it)) {
        key = bson_iter_key(&it);

        if (strcmp(key, "_id") == 0) {
            if (!BSON_ITER_HOLDS_UTF8(&it)
                || strcmp(bson_iter_utf8(&it, NULL), d->id) != 0)
            {
                return 0;
            }

        } else if (strcmp(key, "dev") == 0) {
            if (!BSON_ITER_HOLDS_UTF8(&it)
                || strcmp(bson_iter_utf8(&it, NULL), d->dev) != 0)
            {
                return 0;
            }

        } else if (strcmp(key, "seq") == 0) {
            if (!BSON_ITER_HOLDS_INT32(&it) || bson_iter_int32(&it) != d->seq)
            {
                return 0;
            }

        } else if (strcmp(key, "v") == 0) {
            if (!BSON_ITER_HOLDS_UTF8(&it)
                || strcmp(bson_iter_utf8(&it, NULL), "first") != 0)
            {
                return 0;
            }

        } else if (strcmp(key, "ts") == 0) {
            if (!BSON_ITER_HOLDS_DATE_TIME(&it)
                || bson_iter_date_time(&it)
                   != SMOKE_TS_BASE + d->seq * INT64_C(1000))
            {
                return 0;
            }

        } else {
            return 0;
        }

        seen++;
    }

    return seen == 5;
}
