
/*
 * ngx_race workers: the store on MongoDB (or FerretDB), collection
 * "fixes" of docs/INTERNALS.md.
 */


#ifndef _RACE_STORE_MONGO_H_INCLUDED_
#define _RACE_STORE_MONGO_H_INCLUDED_


#include <stddef.h>

#include <mongoc/mongoc.h>

#include "race_store.h"


typedef struct {
    const char         *uri;
    const char         *db;
    const char         *appname;
    int                 timeout_ms;     /* server selection and connect */
    size_t              max_fixes;      /* the most insert() is given */
} race_store_mongo_conf_t;


/*
 * Calls mongoc_init() and makes the client; it connects on first use.
 * NULL on failure, logged.  Only one store per process.
 */
race_store_t *race_store_mongo_open(const race_store_mongo_conf_t *conf);

/*
 * For the other collections of a daemon: mongoc_init() with our log
 * handler (race_store_mongo_open() calls it; once per process, undone by
 * race_store_mongo_cleanup()), and a client made like the store's: error
 * API 2, the appname, and timeout_ms for server selection and connect
 * unless the URI says otherwise, so that a call fails fast while the
 * server is down.  NULL on failure, logged.
 */
void race_store_mongo_init(void);
void race_store_mongo_cleanup(void);
mongoc_client_t *race_store_mongo_client(const char *uri,
    const char *appname, int timeout_ms);

/* settings checks (race_conf_check_pt): they connect to nothing */
int race_store_mongo_check_uri(const char *value, char *reason,
    size_t size);
int race_store_mongo_check_db(const char *value, char *reason, size_t size);


#endif /* _RACE_STORE_MONGO_H_INCLUDED_ */
