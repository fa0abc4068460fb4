/*
 * mongo_query: what a collection holds, for the tests.
 *
 *     mongo_query URI DB COLL count [FILTER]
 *     mongo_query URI DB COLL ids [FILTER]
 *     mongo_query URI DB COLL find [FILTER]
 *     mongo_query URI DB COLL stats [FILTER]
 *
 * FILTER is a JSON (extended JSON) document, {} by default.  "count"
 * prints the number of matching documents, "ids" their _id strings one
 * a line in _id order, "find" the documents as relaxed extended JSON one
 * a line in _id order.  "stats" (for the capacity benchmark) prints the
 * server's collStats figures as "name value" lines (count, size,
 * storageSize, totalIndexSize, avgObjSize, as the server gives them),
 * then "documents N" and "bson_bytes B": the matching documents and the
 * sum of their BSON sizes as read back.  The server must answer within
 * 3 seconds unless URI says otherwise.
 *
 * Exits 0, 1 on an error (printed to stderr), 2 on bad usage.
 */

#include <stdio.h>
#include <string.h>

#include <mongoc/mongoc.h>


#define QUERY_SELECT_TIMEOUT_MS  3000


static void query_log(mongoc_log_level_t level, const char *domain,
    const char *message, void *data);
static int query_count(mongoc_collection_t *coll, const bson_t *filter);
static int query_find(mongoc_collection_t *coll, const bson_t *filter,
    int ids);
static int query_stats(mongoc_collection_t *coll, const bson_t *filter);


int
main(int argc, char **argv)
{
    int                   rc;
    bson_t               *filter;
    mongoc_uri_t         *uri;
    bson_error_t          error;
    mongoc_client_t      *client;
    mongoc_collection_t  *coll;

    if ((argc != 5 && argc != 6)
        || (strcmp(argv[4], "count") != 0 && strcmp(argv[4], "ids") != 0
            && strcmp(argv[4], "find") != 0
            && strcmp(argv[4], "stats") != 0))
    {
        fprintf(stderr,
                "usage: %s URI DB COLL count|ids|find|stats [FILTER]\n",
                argv[0]);
        return 2;
    }

    mongoc_log_set_handler(query_log, NULL);
    mongoc_init();

    filter = bson_new_from_json((const uint8_t *) (argc == 6 ? argv[5]
                                                             : "{}"),
                                -1, &error);
    if (filter == NULL) {
        fprintf(stderr, "mongo_query: bad filter: %s\n", error.message);
        mongoc_cleanup();
        return 2;
    }

    rc = 1;
    client = NULL;
    coll = NULL;

    uri = mongoc_uri_new_with_error(argv[1], &error);
    if (uri == NULL) {
        fprintf(stderr, "mongo_query: bad uri: %s\n", error.message);
        goto done;
    }

    if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS)) {
        mongoc_uri_set_option_as_int32(uri,
                                       MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
                                       QUERY_SELECT_TIMEOUT_MS);
    }

    client = mongoc_client_new_from_uri_with_error(uri, &error);
    mongoc_uri_destroy(uri);

    if (client == NULL) {
        fprintf(stderr, "mongo_query: client: %s\n", error.message);
        goto done;
    }

    coll = mongoc_client_get_collection(client, argv[2], argv[3]);

    if (strcmp(argv[4], "count") == 0) {
        rc = query_count(coll, filter);

    } else if (strcmp(argv[4], "stats") == 0) {
        rc = query_stats(coll, filter);

    } else {
        rc = query_find(coll, filter, strcmp(argv[4], "ids") == 0);
    }

done:

    if (coll != NULL) {
        mongoc_collection_destroy(coll);
    }

    if (client != NULL) {
        mongoc_client_destroy(client);
    }

    bson_destroy(filter);
    mongoc_cleanup();

    return rc;
}


/* warnings and errors only; FerretDB does not know endSessions */

static void
query_log(mongoc_log_level_t level, const char *domain, const char *message,
    void *data)
{
    (void) data;

    if (level > MONGOC_LOG_LEVEL_WARNING
        || strstr(message, "endSessions") != NULL)
    {
        return;
    }

    fprintf(stderr, "mongo_query: %s: %s\n", domain, message);
}


static int
query_count(mongoc_collection_t *coll, const bson_t *filter)
{
    int64_t       n;
    bson_error_t  error;

    n = mongoc_collection_count_documents(coll, filter, NULL, NULL, NULL,
                                          &error);
    if (n < 0) {
        fprintf(stderr, "mongo_query: count: %s\n", error.message);
        return 1;
    }

    printf("%lld\n", (long long) n);

    return 0;
}


static int
query_find(mongoc_collection_t *coll, const bson_t *filter, int ids)
{
    char             *json;
    bson_t           *opts;
    bson_iter_t       it;
    bson_error_t      error;
    const bson_t     *doc;
    mongoc_cursor_t  *cursor;

    opts = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}");

    cursor = mongoc_collection_find_with_opts(coll, filter, opts, NULL);

    while (mongoc_cursor_next(cursor, &doc)) {
        if (!ids) {
            json = bson_as_relaxed_extended_json(doc, NULL);
            printf("%s\n", json ? json : "?");
            bson_free(json);
            continue;
        }

        if (bson_iter_init_find(&it, doc, "_id")
            && BSON_ITER_HOLDS_UTF8(&it))
        {
            printf("%s\n", bson_iter_utf8(&it, NULL));

        } else {
            printf("?\n");
        }
    }

    if (mongoc_cursor_error(cursor, &error)) {
        fprintf(stderr, "mongo_query: find: %s\n", error.message);
        mongoc_cursor_destroy(cursor);
        bson_destroy(opts);
        return 1;
    }

    mongoc_cursor_destroy(cursor);
    bson_destroy(opts);

    return 0;
}


/*
 * The sizes the server reports differ in type between servers (int32,
 * int64 or double): each is printed as a whole number of bytes.
 */

static int
query_stats(mongoc_collection_t *coll, const bson_t *filter)
{
    bson_t            cmd, reply;
    uint64_t          n, bytes;
    bson_iter_t       it;
    bson_error_t      error;
    const bson_t     *doc;
    mongoc_cursor_t  *cursor;

    static const char  *names[] = {
        "count", "size", "storageSize", "totalIndexSize", "avgObjSize", NULL
    };
    const char        **name;

    bson_init(&cmd);
    BSON_APPEND_UTF8(&cmd, "collStats", mongoc_collection_get_name(coll));

    if (!mongoc_collection_command_simple(coll, &cmd, NULL, &reply, &error)) {
        fprintf(stderr, "mongo_query: collStats: %s\n", error.message);
        bson_destroy(&reply);
        bson_destroy(&cmd);
        return 1;
    }

    for (name = names; *name != NULL; name++) {
        if (bson_iter_init_find(&it, &reply, *name)
            && BSON_ITER_HOLDS_NUMBER(&it))
        {
            printf("%s %lld\n", *name, (long long) bson_iter_as_int64(&it));
        }
    }

    bson_destroy(&reply);
    bson_destroy(&cmd);

    n = 0;
    bytes = 0;

    cursor = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);

    while (mongoc_cursor_next(cursor, &doc)) {
        n++;
        bytes += doc->len;
    }

    if (mongoc_cursor_error(cursor, &error)) {
        fprintf(stderr, "mongo_query: find: %s\n", error.message);
        mongoc_cursor_destroy(cursor);
        return 1;
    }

    mongoc_cursor_destroy(cursor);

    printf("documents %llu\nbson_bytes %llu\n", (unsigned long long) n,
           (unsigned long long) bytes);

    return 0;
}
