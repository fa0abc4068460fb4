
/*
 * race-accounts: collections "users" and "revocations" on MongoDB (or
 * FerretDB), the record of accounts and of revoked rider tokens
 * (docs/INTERNALS.md, "Accounts").
 *
 *   users        {_id:"<user id>", email, name, role, hash, gen, created}
 *   revocations  {_id:"<jti>", exp, created}
 *
 * with a unique index on users.email.  Every call is one round trip, and
 * fails after at most the server selection timeout while the server is
 * down: RACE_ACCOUNTS_MONGO_ERROR, and the caller retries.
 */


#ifndef _RACE_ACCOUNTS_MONGO_H_INCLUDED_
#define _RACE_ACCOUNTS_MONGO_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include <mongoc/mongoc.h>

#include "race_accounts_cmd.h"


#define RACE_ACCOUNTS_MONGO_OK          0
#define RACE_ACCOUNTS_MONGO_ERROR      -1   /* the server: retry later */
#define RACE_ACCOUNTS_MONGO_DUPLICATE   1   /* a duplicate key (11000) */
#define RACE_ACCOUNTS_MONGO_NONE        2   /* no document matched */
#define RACE_ACCOUNTS_MONGO_BAD         3   /* a document not of the
                                               contract, logged */


typedef struct race_accounts_mongo_s  race_accounts_mongo_t;


/* 0 to go on, -1 to stop race_accounts_mongo_each() with an error */
typedef int (*race_accounts_mongo_each_pt)(const race_accounts_user_t *user,
    void *data);

/* the same, for race_accounts_mongo_each_revocation() */
typedef int (*race_accounts_mongo_rev_pt)(
    const race_accounts_revocation_t *rev, void *data);


/*
 * Makes the client (race_mongo_client()); it connects on first
 * use.  NULL on failure, logged.  One per process.
 */
race_accounts_mongo_t *race_accounts_mongo_open(const char *uri,
    const char *db, const char *appname, int timeout_ms);

void race_accounts_mongo_close(race_accounts_mongo_t *m);

/* the unique index on email; creating it again is harmless */
int race_accounts_mongo_index(race_accounts_mongo_t *m);

/* OK, DUPLICATE (the _id or the email is taken) or ERROR */
int race_accounts_mongo_insert(race_accounts_mongo_t *m,
    const race_accounts_user_t *user);

/* the user of an _id, or of an email: OK, NONE, BAD or ERROR */
int race_accounts_mongo_get(race_accounts_mongo_t *m, const char *id,
    race_accounts_user_t *user);
int race_accounts_mongo_get_email(race_accounts_mongo_t *m,
    const char *email, race_accounts_user_t *user);

/*
 * One findAndModify on the user id, the new document back in user:
 *
 *   gen > 0:  where gen is gen, sets gen to gen + 1 (and role, if not
 *             NULL): a replay finds a newer gen and changes nothing;
 *   gen 0:    increments gen (and sets role, if not NULL, where the
 *             role is another one: setting a role again changes
 *             nothing).
 *
 * OK, NONE (nothing matched: the caller reads the user to know why),
 * BAD or ERROR.
 */
int race_accounts_mongo_bump(race_accounts_mongo_t *m, const char *id,
    int64_t gen, const char *role, race_accounts_user_t *user);

/*
 * Calls handler on every user, in no order; documents not of the
 * contract are logged and skipped.  *n is how many were handed over.
 * OK, or ERROR (the server, or the handler said stop).
 */
int race_accounts_mongo_each(race_accounts_mongo_t *m,
    race_accounts_mongo_each_pt handler, void *data, size_t *n);

/*
 * Records a revocation: an upsert on the jti that keeps the later exp,
 * so a replay changes nothing; rev->exp becomes what is stored.  OK,
 * BAD or ERROR.
 */
int race_accounts_mongo_revoke(race_accounts_mongo_t *m,
    race_accounts_revocation_t *rev, int64_t created);

/* calls handler on every revocation whose exp is after "after" */
int race_accounts_mongo_each_revocation(race_accounts_mongo_t *m,
    int64_t after, race_accounts_mongo_rev_pt handler, void *data,
    size_t *n);


/* one document of a scan: 0 counted, 1 skipped, -1 stops with an error */
typedef int (*race_accounts_mongo_doc_pt)(const bson_t *doc, void *ctx);

/*
 * Every document of coll that matches filter, in batches, through
 * handle(); *n counts those it took.  OK or ERROR (logged).
 */
int race_accounts_mongo_scan(race_accounts_mongo_t *m,
    mongoc_collection_t *coll, const bson_t *filter, const char *what,
    race_accounts_mongo_doc_pt handle, void *ctx, size_t *n);

/* the client, for the races' collections (race_accounts_races_mongo.c) */
mongoc_client_t *race_accounts_mongo_client(race_accounts_mongo_t *m);

/* a call on the client failed, or worked: logged once, not at each retry */
void race_accounts_mongo_failed(race_accounts_mongo_t *m, const char *what,
    const bson_error_t *error);
void race_accounts_mongo_worked(race_accounts_mongo_t *m);


#endif /* _RACE_ACCOUNTS_MONGO_H_INCLUDED_ */
