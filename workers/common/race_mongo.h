
/*
 * ngx_race workers: what both daemons need of MongoDB (or FerretDB).
 */


#ifndef _RACE_MONGO_H_INCLUDED_
#define _RACE_MONGO_H_INCLUDED_


#include <stddef.h>

#include <mongoc/mongoc.h>


/*
 * mongoc_init() with our log handler, undone by race_mongo_cleanup():
 * counted, so that each store of a process may call both (from the
 * main thread); the driver is set up by the first, cleaned up by the
 * last.
 */
void race_mongo_init(void);
void race_mongo_cleanup(void);

/*
 * A client with error API 2, the appname, and timeout_ms for server
 * selection and connect unless the URI says otherwise, so that a call
 * fails fast while the server is down; a reply is waited for
 * max(timeout_ms, 15 s) (socketTimeoutMS) unless the URI says
 * otherwise, so that a server that hangs holds no call for long.  NULL
 * on failure, logged.
 */
mongoc_client_t *race_mongo_client(const char *uri, const char *appname,
    int timeout_ms);

/* settings checks (race_conf_check_pt): they connect to nothing */
int race_mongo_check_uri(const char *value, char *reason, size_t size);
int race_mongo_check_db(const char *value, char *reason, size_t size);


#endif /* _RACE_MONGO_H_INCLUDED_ */
