
/*
 * race-accounts: collections "users" and "revocations" on MongoDB (or
 * FerretDB).
 *
 * Only what FerretDB 1.x supports too: a unique index, insert, find and
 * findAndModify (with upsert) with $set, $inc, $max, $setOnInsert and
 * $ne; no transactions.  An insert
 * whose reply was lost is retried and meets its own document as a
 * duplicate key: the caller tells a replay from a taken email by the
 * _id.  A single-threaded mongoc_client_t, like the tracker's.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "race_accounts_mongo.h"
#include "race_log.h"
#include "race_mongo.h"


#define RACE_ACCOUNTS_MONGO_COLLECTION     "users"
#define RACE_ACCOUNTS_MONGO_REVOCATIONS    "revocations"
#define RACE_ACCOUNTS_MONGO_INDEX          "email_1"
#define RACE_ACCOUNTS_MONGO_DUPLICATE_KEY  11000
#define RACE_ACCOUNTS_MONGO_BATCH          500


struct race_accounts_mongo_s {
    mongoc_client_t        *client;
    mongoc_collection_t    *coll;
    mongoc_collection_t    *revs;
    unsigned                failures;   /* calls failed in a row */
};


static int race_accounts_mongo_find_one(race_accounts_mongo_t *m,
    const char *key, const char *value, race_accounts_user_t *user);
static int race_accounts_mongo_user(const bson_t *doc,
    race_accounts_user_t *user);
static int race_accounts_mongo_str(const bson_iter_t *it, char *dst,
    size_t size);
static int race_accounts_mongo_revocation(const bson_t *doc,
    race_accounts_revocation_t *rev);
static void race_accounts_mongo_bad(const bson_t *doc, const char *what);
static int race_accounts_mongo_each_user(const bson_t *doc, void *ctx);
static int race_accounts_mongo_each_rev(const bson_t *doc, void *ctx);


race_accounts_mongo_t *
race_accounts_mongo_open(const char *uri, const char *db,
    const char *appname, int timeout_ms)
{
    race_accounts_mongo_t  *m;

    race_mongo_init();

    m = calloc(1, sizeof(race_accounts_mongo_t));
    if (m == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: out of memory");
        race_mongo_cleanup();
        return NULL;
    }

    m->client = race_mongo_client(uri, appname, timeout_ms);
    if (m->client == NULL) {
        goto failed;
    }

    m->coll = mongoc_client_get_collection(m->client, db,
                                           RACE_ACCOUNTS_MONGO_COLLECTION);
    if (m->coll == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: cannot get collection %s.%s", db,
                 RACE_ACCOUNTS_MONGO_COLLECTION);
        goto failed;
    }

    m->revs = mongoc_client_get_collection(m->client, db,
                                           RACE_ACCOUNTS_MONGO_REVOCATIONS);
    if (m->revs == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: cannot get collection %s.%s", db,
                 RACE_ACCOUNTS_MONGO_REVOCATIONS);
        goto failed;
    }

    race_log(RACE_LOG_INFO, "mongo: mongo-c-driver %s, collection %s.%s",
             mongoc_get_version(), db, RACE_ACCOUNTS_MONGO_COLLECTION);

    return m;

failed:

    race_accounts_mongo_close(m);

    return NULL;
}


void
race_accounts_mongo_close(race_accounts_mongo_t *m)
{
    if (m->coll != NULL) {
        mongoc_collection_destroy(m->coll);
    }

    if (m->revs != NULL) {
        mongoc_collection_destroy(m->revs);
    }

    if (m->client != NULL) {
        mongoc_client_destroy(m->client);
    }

    free(m);

    race_mongo_cleanup();
}


int
race_accounts_mongo_index(race_accounts_mongo_t *m)
{
    bool          ok;
    bson_t       *cmd;
    bson_t        reply;
    bson_error_t  error;

    /* the same index again is "ok": nothing to tell apart */

    cmd = BCON_NEW("createIndexes", BCON_UTF8(RACE_ACCOUNTS_MONGO_COLLECTION),
                   "indexes", "[",
                       "{",
                           "key", "{", "email", BCON_INT32(1), "}",
                           "name", BCON_UTF8(RACE_ACCOUNTS_MONGO_INDEX),
                           "unique", BCON_BOOL(true),
                       "}",
                   "]");
    if (cmd == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: cannot build createIndexes");
        return RACE_ACCOUNTS_MONGO_ERROR;
    }

    ok = mongoc_collection_command_simple(m->coll, cmd, NULL, &reply,
                                          &error);
    bson_destroy(cmd);
    bson_destroy(&reply);

    if (!ok) {
        race_accounts_mongo_failed(m, "the unique index on email", &error);
        return RACE_ACCOUNTS_MONGO_ERROR;
    }

    race_accounts_mongo_worked(m);

    return RACE_ACCOUNTS_MONGO_OK;
}


int
race_accounts_mongo_insert(race_accounts_mongo_t *m,
    const race_accounts_user_t *user)
{
    bool          ok;
    bson_t        doc, reply;
    bson_error_t  error;

    bson_init(&doc);

    if (!BSON_APPEND_UTF8(&doc, "_id", user->id)
        || !BSON_APPEND_UTF8(&doc, "email", user->email)
        || !BSON_APPEND_UTF8(&doc, "name", user->name)
        || !BSON_APPEND_UTF8(&doc, "role", user->role)
        || !BSON_APPEND_UTF8(&doc, "hash", user->hash)
        || !BSON_APPEND_INT64(&doc, "gen", user->gen)
        || !BSON_APPEND_INT64(&doc, "created", user->created))
    {
        bson_destroy(&doc);
        race_log(RACE_LOG_ERROR, "mongo: cannot build a user document");
        return RACE_ACCOUNTS_MONGO_ERROR;
    }

    ok = mongoc_collection_insert_one(m->coll, &doc, NULL, &reply, &error);

    bson_destroy(&doc);
    bson_destroy(&reply);

    if (ok) {
        race_accounts_mongo_worked(m);
        return RACE_ACCOUNTS_MONGO_OK;
    }

    /* a write error is the server's answer: it works */

    if (error.domain == MONGOC_ERROR_SERVER
        && error.code == RACE_ACCOUNTS_MONGO_DUPLICATE_KEY)
    {
        race_accounts_mongo_worked(m);
        return RACE_ACCOUNTS_MONGO_DUPLICATE;
    }

    race_accounts_mongo_failed(m, "insert of a user", &error);

    return RACE_ACCOUNTS_MONGO_ERROR;
}


int
race_accounts_mongo_get(race_accounts_mongo_t *m, const char *id,
    race_accounts_user_t *user)
{
    return race_accounts_mongo_find_one(m, "_id", id, user);
}


int
race_accounts_mongo_get_email(race_accounts_mongo_t *m, const char *email,
    race_accounts_user_t *user)
{
    return race_accounts_mongo_find_one(m, "email", email, user);
}


int
race_accounts_mongo_bump(race_accounts_mongo_t *m, const char *id,
    int64_t gen, const char *role, race_accounts_user_t *user)
{
    int                             rc;
    bool                            ok;
    bson_t                          query, update, set, inc, ne, reply;
    bson_iter_t                     it;
    bson_error_t                    error;
    const uint8_t                  *data;
    uint32_t                        len;
    bson_t                          value;
    mongoc_find_and_modify_opts_t  *opts;

    bson_init(&query);
    bson_init(&update);

    ok = BSON_APPEND_UTF8(&query, "_id", id);

    if (gen > 0) {
        ok = ok && BSON_APPEND_INT64(&query, "gen", gen);

    } else if (role != NULL) {
        ok = ok && BSON_APPEND_DOCUMENT_BEGIN(&query, "role", &ne)
             && BSON_APPEND_UTF8(&ne, "$ne", role)
             && bson_append_document_end(&query, &ne);
    }

    ok = ok && BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);

    if (gen > 0) {
        ok = ok && BSON_APPEND_INT64(&set, "gen", gen + 1);
    }

    if (role != NULL) {
        ok = ok && BSON_APPEND_UTF8(&set, "role", role);
    }

    ok = ok && bson_append_document_end(&update, &set);

    if (gen == 0) {
        ok = ok && BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc)
             && BSON_APPEND_INT64(&inc, "gen", 1)
             && bson_append_document_end(&update, &inc);
    }

    opts = ok ? mongoc_find_and_modify_opts_new() : NULL;

    if (opts == NULL
        || !mongoc_find_and_modify_opts_set_update(opts, &update)
        || !mongoc_find_and_modify_opts_set_flags(opts,
                                          MONGOC_FIND_AND_MODIFY_RETURN_NEW))
    {
        race_log(RACE_LOG_ERROR, "mongo: cannot build findAndModify");
        rc = RACE_ACCOUNTS_MONGO_ERROR;
        goto done;
    }

    ok = mongoc_collection_find_and_modify_with_opts(m->coll, &query, opts,
                                                     &reply, &error);

    if (!ok) {
        race_accounts_mongo_failed(m, "update of a user", &error);
        bson_destroy(&reply);
        rc = RACE_ACCOUNTS_MONGO_ERROR;
        goto done;
    }

    race_accounts_mongo_worked(m);

    /* "value": the new document, or null when nothing matched */

    if (!bson_iter_init_find(&it, &reply, "value")
        || BSON_ITER_HOLDS_NULL(&it))
    {
        rc = RACE_ACCOUNTS_MONGO_NONE;

    } else if (!BSON_ITER_HOLDS_DOCUMENT(&it)) {
        race_log(RACE_LOG_ERROR, "mongo: findAndModify of user %s: no "
                 "document in the reply", id);
        rc = RACE_ACCOUNTS_MONGO_BAD;

    } else {
        bson_iter_document(&it, &len, &data);

        if (!bson_init_static(&value, data, len)) {
            rc = RACE_ACCOUNTS_MONGO_BAD;

        } else if (race_accounts_mongo_user(&value, user) != 0) {
            race_accounts_mongo_bad(&value, "after an update");
            rc = RACE_ACCOUNTS_MONGO_BAD;

        } else {
            rc = RACE_ACCOUNTS_MONGO_OK;
        }
    }

    bson_destroy(&reply);

done:

    if (opts != NULL) {
        mongoc_find_and_modify_opts_destroy(opts);
    }

    bson_destroy(&update);
    bson_destroy(&query);

    return rc;
}


typedef struct {
    race_accounts_mongo_each_pt   handler;
    void                         *data;
} race_accounts_mongo_users_t;

typedef struct {
    race_accounts_mongo_rev_pt    handler;
    void                         *data;
} race_accounts_mongo_revs_t;


int
race_accounts_mongo_each(race_accounts_mongo_t *m,
    race_accounts_mongo_each_pt handler, void *data, size_t *n)
{
    int                           rc;
    bson_t                        filter;
    race_accounts_mongo_users_t   ctx;

    ctx.handler = handler;
    ctx.data = data;

    bson_init(&filter);

    rc = race_accounts_mongo_scan(m, m->coll, &filter, "users",
                                  race_accounts_mongo_each_user, &ctx, n);

    bson_destroy(&filter);

    return rc;
}


static int
race_accounts_mongo_each_user(const bson_t *doc, void *ctx)
{
    race_accounts_user_t          user;
    race_accounts_mongo_users_t  *users = ctx;

    if (race_accounts_mongo_user(doc, &user) != 0) {
        race_accounts_mongo_bad(doc, "skipped");
        return 1;
    }

    return users->handler(&user, users->data) == 0 ? 0 : -1;
}


/*
 * Every document of coll that matches filter, in batches, through
 * handle(); *n counts those it took.
 */

int
race_accounts_mongo_scan(race_accounts_mongo_t *m, mongoc_collection_t *coll,
    const bson_t *filter, const char *what,
    race_accounts_mongo_doc_pt handle, void *ctx, size_t *n)
{
    int                rc, took;
    char               reading[64];
    bson_t             opts;
    bson_error_t       error;
    const bson_t      *doc;
    mongoc_cursor_t   *cursor;

    *n = 0;

    bson_init(&opts);

    if (!BSON_APPEND_INT32(&opts, "batchSize", RACE_ACCOUNTS_MONGO_BATCH)) {
        bson_destroy(&opts);
        race_log(RACE_LOG_ERROR, "mongo: cannot build find options");
        return RACE_ACCOUNTS_MONGO_ERROR;
    }

    cursor = mongoc_collection_find_with_opts(coll, filter, &opts, NULL);

    bson_destroy(&opts);

    rc = RACE_ACCOUNTS_MONGO_OK;

    while (mongoc_cursor_next(cursor, &doc)) {

        took = handle(doc, ctx);

        if (took < 0) {
            rc = RACE_ACCOUNTS_MONGO_ERROR;
            break;
        }

        if (took == 0) {
            (*n)++;
        }
    }

    if (rc == RACE_ACCOUNTS_MONGO_OK) {
        if (mongoc_cursor_error(cursor, &error)) {
            snprintf(reading, sizeof(reading), "reading the %s", what);
            race_accounts_mongo_failed(m, reading, &error);
            rc = RACE_ACCOUNTS_MONGO_ERROR;

        } else {
            race_accounts_mongo_worked(m);
        }
    }

    mongoc_cursor_destroy(cursor);

    return rc;
}


int
race_accounts_mongo_revoke(race_accounts_mongo_t *m,
    race_accounts_revocation_t *rev, int64_t created)
{
    int                             rc;
    bool                            ok;
    bson_t                          query, update, max, ins, reply, value;
    uint32_t                        len;
    bson_iter_t                     it;
    bson_error_t                    error;
    const uint8_t                  *data;
    mongoc_find_and_modify_opts_t  *opts;

    bson_init(&query);
    bson_init(&update);

    /* one exp per token; should two ever differ, the later one holds */

    ok = BSON_APPEND_UTF8(&query, "_id", rev->jti)
         && BSON_APPEND_DOCUMENT_BEGIN(&update, "$max", &max)
         && BSON_APPEND_INT64(&max, "exp", rev->exp)
         && bson_append_document_end(&update, &max)
         && BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &ins)
         && BSON_APPEND_INT64(&ins, "created", created)
         && bson_append_document_end(&update, &ins);

    opts = ok ? mongoc_find_and_modify_opts_new() : NULL;

    if (opts == NULL
        || !mongoc_find_and_modify_opts_set_update(opts, &update)
        || !mongoc_find_and_modify_opts_set_flags(opts,
                                          MONGOC_FIND_AND_MODIFY_UPSERT
                                          | MONGOC_FIND_AND_MODIFY_RETURN_NEW))
    {
        race_log(RACE_LOG_ERROR, "mongo: cannot build findAndModify");
        rc = RACE_ACCOUNTS_MONGO_ERROR;
        goto done;
    }

    ok = mongoc_collection_find_and_modify_with_opts(m->revs, &query, opts,
                                                     &reply, &error);

    if (!ok) {
        race_accounts_mongo_failed(m, "a revocation", &error);
        bson_destroy(&reply);
        rc = RACE_ACCOUNTS_MONGO_ERROR;
        goto done;
    }

    race_accounts_mongo_worked(m);

    rc = RACE_ACCOUNTS_MONGO_BAD;

    if (bson_iter_init_find(&it, &reply, "value")
        && BSON_ITER_HOLDS_DOCUMENT(&it))
    {
        bson_iter_document(&it, &len, &data);

        if (bson_init_static(&value, data, len)
            && race_accounts_mongo_revocation(&value, rev) == 0)
        {
            rc = RACE_ACCOUNTS_MONGO_OK;
        }
    }

    if (rc != RACE_ACCOUNTS_MONGO_OK) {
        race_log(RACE_LOG_ERROR, "mongo: the revocation of token %s is not "
                 "of the contract (docs/INTERNALS.md)", rev->jti);
    }

    bson_destroy(&reply);

done:

    if (opts != NULL) {
        mongoc_find_and_modify_opts_destroy(opts);
    }

    bson_destroy(&update);
    bson_destroy(&query);

    return rc;
}


int
race_accounts_mongo_each_revocation(race_accounts_mongo_t *m, int64_t after,
    race_accounts_mongo_rev_pt handler, void *data, size_t *n)
{
    int                          rc;
    bson_t                       filter, gt;
    race_accounts_mongo_revs_t   ctx;

    *n = 0;
    ctx.handler = handler;
    ctx.data = data;

    bson_init(&filter);

    if (!BSON_APPEND_DOCUMENT_BEGIN(&filter, "exp", &gt)
        || !BSON_APPEND_INT64(&gt, "$gt", after)
        || !bson_append_document_end(&filter, &gt))
    {
        bson_destroy(&filter);
        race_log(RACE_LOG_ERROR, "mongo: cannot build a query");
        return RACE_ACCOUNTS_MONGO_ERROR;
    }

    rc = race_accounts_mongo_scan(m, m->revs, &filter, "revocations",
                                  race_accounts_mongo_each_rev, &ctx, n);

    bson_destroy(&filter);

    return rc;
}


static int
race_accounts_mongo_each_rev(const bson_t *doc, void *ctx)
{
    race_accounts_revocation_t   rev;
    race_accounts_mongo_revs_t  *revs = ctx;

    if (race_accounts_mongo_revocation(doc, &rev) != 0) {
        race_log(RACE_LOG_ERROR, "mongo: a revocation not of the "
                 "contract (docs/INTERNALS.md): skipped");
        return 1;
    }

    return revs->handler(&rev, revs->data) == 0 ? 0 : -1;
}


static int
race_accounts_mongo_find_one(race_accounts_mongo_t *m, const char *key,
    const char *value, race_accounts_user_t *user)
{
    int               rc;
    bson_t            filter, opts;
    bson_error_t      error;
    const bson_t     *doc;
    mongoc_cursor_t  *cursor;

    bson_init(&filter);
    bson_init(&opts);

    if (!bson_append_utf8(&filter, key, -1, value, -1)
        || !BSON_APPEND_INT64(&opts, "limit", 1))
    {
        bson_destroy(&opts);
        bson_destroy(&filter);
        race_log(RACE_LOG_ERROR, "mongo: cannot build a query");
        return RACE_ACCOUNTS_MONGO_ERROR;
    }

    cursor = mongoc_collection_find_with_opts(m->coll, &filter, &opts, NULL);

    bson_destroy(&opts);
    bson_destroy(&filter);

    if (mongoc_cursor_next(cursor, &doc)) {
        rc = RACE_ACCOUNTS_MONGO_OK;

        if (race_accounts_mongo_user(doc, user) != 0) {
            race_accounts_mongo_bad(doc, "read");
            rc = RACE_ACCOUNTS_MONGO_BAD;
        }

        race_accounts_mongo_worked(m);

    } else if (mongoc_cursor_error(cursor, &error)) {
        race_accounts_mongo_failed(m, "read of a user", &error);
        rc = RACE_ACCOUNTS_MONGO_ERROR;

    } else {
        race_accounts_mongo_worked(m);
        rc = RACE_ACCOUNTS_MONGO_NONE;
    }

    mongoc_cursor_destroy(cursor);

    return rc;
}


/* a document of the contract, every field there and of its type */

#define RACE_ACCOUNTS_MONGO_ID       0x01
#define RACE_ACCOUNTS_MONGO_EMAIL    0x02
#define RACE_ACCOUNTS_MONGO_NAME     0x04
#define RACE_ACCOUNTS_MONGO_ROLE     0x08
#define RACE_ACCOUNTS_MONGO_HASH     0x10
#define RACE_ACCOUNTS_MONGO_GEN      0x20
#define RACE_ACCOUNTS_MONGO_ALL      0x3f

static int
race_accounts_mongo_user(const bson_t *doc, race_accounts_user_t *user)
{
    unsigned     seen;
    const char  *key;
    bson_iter_t  it;

    memset(user, 0, sizeof(race_accounts_user_t));

    if (!bson_iter_init(&it, doc)) {
        return -1;
    }

    seen = 0;

    while (bson_iter_next(&it)) {
        key = bson_iter_key(&it);

        if (strcmp(key, "_id") == 0) {
            if (race_accounts_mongo_str(&it, user->id, sizeof(user->id)) != 0
                || !race_accounts_id_valid(user->id, strlen(user->id)))
            {
                return -1;
            }

            seen |= RACE_ACCOUNTS_MONGO_ID;

        } else if (strcmp(key, "email") == 0) {
            if (race_accounts_mongo_str(&it, user->email,
                                        sizeof(user->email))
                != 0)
            {
                return -1;
            }

            seen |= RACE_ACCOUNTS_MONGO_EMAIL;

        } else if (strcmp(key, "name") == 0) {
            if (race_accounts_mongo_str(&it, user->name, sizeof(user->name))
                != 0)
            {
                return -1;
            }

            seen |= RACE_ACCOUNTS_MONGO_NAME;

        } else if (strcmp(key, "role") == 0) {
            if (race_accounts_mongo_str(&it, user->role, sizeof(user->role))
                != 0
                || !race_role_valid(user->role, strlen(user->role)))
            {
                return -1;
            }

            seen |= RACE_ACCOUNTS_MONGO_ROLE;

        } else if (strcmp(key, "hash") == 0) {
            if (race_accounts_mongo_str(&it, user->hash, sizeof(user->hash))
                != 0)
            {
                return -1;
            }

            seen |= RACE_ACCOUNTS_MONGO_HASH;

        } else if (strcmp(key, "gen") == 0) {
            if (!(BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it)
                  || BSON_ITER_HOLDS_DOUBLE(&it)))
            {
                return -1;
            }

            user->gen = bson_iter_as_int64(&it);

            if (user->gen < 1) {
                return -1;
            }

            seen |= RACE_ACCOUNTS_MONGO_GEN;

        } else if (strcmp(key, "created") == 0) {
            if (BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it)
                || BSON_ITER_HOLDS_DOUBLE(&it))
            {
                user->created = bson_iter_as_int64(&it);

            } else if (BSON_ITER_HOLDS_DATE_TIME(&it)) {
                user->created = bson_iter_date_time(&it);
            }
        }
    }

    return seen == RACE_ACCOUNTS_MONGO_ALL ? 0 : -1;
}


/* a non-empty UTF-8 string without NULs that fits dst */

static int
race_accounts_mongo_str(const bson_iter_t *it, char *dst, size_t size)
{
    uint32_t     len;
    const char  *s;

    if (!BSON_ITER_HOLDS_UTF8(it)) {
        return -1;
    }

    s = bson_iter_utf8(it, &len);

    if (len == 0 || len >= size || memchr(s, '\0', len) != NULL) {
        return -1;
    }

    memcpy(dst, s, len);
    dst[len] = '\0';

    return 0;
}


/* {_id: a token id, exp: a number}, whatever else it has */

static int
race_accounts_mongo_revocation(const bson_t *doc,
    race_accounts_revocation_t *rev)
{
    bson_iter_t  it;

    memset(rev, 0, sizeof(race_accounts_revocation_t));

    if (!bson_iter_init_find(&it, doc, "_id")
        || race_accounts_mongo_str(&it, rev->jti, sizeof(rev->jti)) != 0
        || !race_id_valid(rev->jti, strlen(rev->jti)))
    {
        return -1;
    }

    if (!bson_iter_init_find(&it, doc, "exp")
        || !(BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it)
             || BSON_ITER_HOLDS_DOUBLE(&it)))
    {
        return -1;
    }

    rev->exp = bson_iter_as_int64(&it);

    return rev->exp > 0 ? 0 : -1;
}


/* names the document by its _id only: the rest is personal */

static void
race_accounts_mongo_bad(const bson_t *doc, const char *what)
{
    uint32_t     len;
    const char  *id;
    bson_iter_t  it;

    id = "(not a string)";

    if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it)) {
        id = bson_iter_utf8(&it, &len);

        if (!race_accounts_id_valid(id, len)) {
            id = "(not a user id)";
        }
    }

    race_log(RACE_LOG_ERROR, "mongo: the user document %s is not of the "
             "contract (docs/INTERNALS.md): %s", id, what);
}


mongoc_client_t *
race_accounts_mongo_client(race_accounts_mongo_t *m)
{
    return m->client;
}


void
race_accounts_mongo_failed(race_accounts_mongo_t *m, const char *what,
    const bson_error_t *error)
{
    /* said once; the caller's retries are debug */
    race_log(m->failures++ == 0 ? RACE_LOG_WARN : RACE_LOG_DEBUG,
             "mongo: %s: %s (domain %u, code %u)", what, error->message,
             error->domain, error->code);
}


void
race_accounts_mongo_worked(race_accounts_mongo_t *m)
{
    if (m->failures > 0) {
        race_log(RACE_LOG_INFO, "mongo: works again, after %u failures",
                 m->failures);
        m->failures = 0;
    }
}
