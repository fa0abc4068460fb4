
/*
 * ngx_race workers: what both daemons need of MongoDB (or FerretDB):
 * the driver set up with our log, a client that fails fast while the
 * server is down, and the checks of the mongo_* settings.
 *
 * A single-threaded mongoc_client_t per daemon: each has one thread.
 * It reconnects by itself when a server comes back; meanwhile each call
 * fails after at most the server selection timeout.
 */


#include <stdio.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "race_log.h"
#include "race_mongo.h"


/* a call's reply waited for at least this long (socketTimeoutMS), ms */
#define RACE_MONGO_SOCKET_MS  15000


static void race_mongo_log(mongoc_log_level_t level, const char *domain,
    const char *message, void *data);


/*
 * Counted: race-tracker has a store per writer thread, each calls them
 * (from the main thread); the driver is cleaned up once, after the last.
 */
static unsigned  race_mongo_users;


void
race_mongo_init(void)
{
    if (race_mongo_users++ > 0) {
        return;
    }

    mongoc_log_set_handler(race_mongo_log, NULL);
    mongoc_init();
}


void
race_mongo_cleanup(void)
{
    if (race_mongo_users == 0 || --race_mongo_users > 0) {
        return;
    }

    mongoc_cleanup();
}


mongoc_client_t *
race_mongo_client(const char *uri_string, const char *appname,
    int timeout_ms)
{
    mongoc_uri_t     *uri;
    bson_error_t      error;
    mongoc_client_t  *client;

    uri = mongoc_uri_new_with_error(uri_string, &error);
    if (uri == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: bad uri: %s", error.message);
        return NULL;
    }

    /* fail fast while the server is down; the caller retries */

    if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS)) {
        mongoc_uri_set_option_as_int32(uri,
                                       MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
                                       timeout_ms);
    }

    if (!mongoc_uri_has_option(uri, MONGOC_URI_CONNECTTIMEOUTMS)) {
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS,
                                       timeout_ms);
    }

    /*
     * A server that accepts and never answers: the driver's default
     * (300 s) would hold a call, and a stop waiting for a writer's
     * insert, that long.  Generous, since a call that times out is
     * made again from its start: our longest, an insert of a batch or
     * a cursor's batch of 1000 fixes, takes a second or so on a loaded
     * server.  15 s keeps a stop within stop_timeout_ms plus the 20 s
     * the deployment gives (README), and a call within the default
     * liveness_timeout_ms (30 s).
     */

    if (!mongoc_uri_has_option(uri, MONGOC_URI_SOCKETTIMEOUTMS)) {
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS,
                                       timeout_ms > RACE_MONGO_SOCKET_MS
                                       ? timeout_ms : RACE_MONGO_SOCKET_MS);
    }

    client = mongoc_client_new_from_uri_with_error(uri, &error);
    mongoc_uri_destroy(uri);

    if (client == NULL) {
        race_log(RACE_LOG_ERROR, "mongo: client: %s", error.message);
        return NULL;
    }

    if (!mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2)
        || !mongoc_client_set_appname(client, appname))
    {
        race_log(RACE_LOG_ERROR, "mongo: cannot set up the client");
        mongoc_client_destroy(client);
        return NULL;
    }

    return client;
}


int
race_mongo_check_uri(const char *value, char *reason, size_t size)
{
    mongoc_uri_t  *uri;
    bson_error_t   error;

    uri = mongoc_uri_new_with_error(value, &error);
    if (uri == NULL) {
        snprintf(reason, size, "is not a MongoDB URI: %s", error.message);
        return -1;
    }

    mongoc_uri_destroy(uri);

    return 0;
}


/* MongoDB's rules for database names, the ones that matter here */

int
race_mongo_check_db(const char *value, char *reason, size_t size)
{
    if (value[0] == '\0' || strlen(value) > 63
        || strpbrk(value, "/\\. \"$*<>:|?") != NULL)
    {
        snprintf(reason, size, "is not a database name");
        return -1;
    }

    return 0;
}


static void
race_mongo_log(mongoc_log_level_t level, const char *domain,
    const char *message, void *data)
{
    int  ours;

    (void) data;

    switch (level) {

    case MONGOC_LOG_LEVEL_ERROR:
    case MONGOC_LOG_LEVEL_CRITICAL:
        ours = RACE_LOG_ERROR;
        break;

    case MONGOC_LOG_LEVEL_WARNING:
        ours = RACE_LOG_WARN;
        break;

    case MONGOC_LOG_LEVEL_MESSAGE:
    case MONGOC_LOG_LEVEL_INFO:
        ours = RACE_LOG_INFO;
        break;

    case MONGOC_LOG_LEVEL_DEBUG:
        ours = RACE_LOG_DEBUG;
        break;

    default:
        /* trace: far too much even for debug */
        return;
    }

    /*
     * FerretDB does not know endSessions, which the client sends when it
     * is destroyed; the warning says nothing about our data.
     */
    if (ours == RACE_LOG_WARN && strstr(message, "endSessions") != NULL) {
        ours = RACE_LOG_DEBUG;
    }

    race_log(ours, "mongo: %s: %s", domain, message);
}
