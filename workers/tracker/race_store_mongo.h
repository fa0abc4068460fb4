
/*
 * ngx_race workers: the store on MongoDB (or FerretDB), collection
 * "fixes" of docs/INTERNALS.md.
 */


#ifndef _RACE_STORE_MONGO_H_INCLUDED_
#define _RACE_STORE_MONGO_H_INCLUDED_


#include <stddef.h>

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
 * NULL on failure, logged.  A store is used by one thread at a time.
 */
race_store_t *race_store_mongo_open(const race_store_mongo_conf_t *conf);


#endif /* _RACE_STORE_MONGO_H_INCLUDED_ */
