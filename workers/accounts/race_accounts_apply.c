
/*
 * race-accounts: a command applied to collection "users" or
 * "revocations" in MongoDB, then to Redis with its reply (see main.c for
 * what each command does).
 */


#include <stdint.h>
#include <string.h>

#include "race_accounts.h"
#include "race_log.h"
#include "race_time.h"


static int race_accounts_expired(race_accounts_t *ra);
static int race_accounts_apply(race_accounts_t *ra);
static int race_accounts_signup(race_accounts_t *ra);
static int race_accounts_logout(race_accounts_t *ra);
static int race_accounts_role(race_accounts_t *ra);
static int race_accounts_revoke(race_accounts_t *ra);
static int race_accounts_bumped(race_accounts_t *ra, int rc,
    const char *what);
static void race_accounts_ok(race_accounts_t *ra,
    const race_accounts_user_t *user);


const char *const  race_accounts_ops[] = {
    "none", "signup", "logout", "role", "revoke"
};


/* MongoDB once, then Redis and the reply: 0, or -1 to retry */

int
race_accounts_write(race_accounts_t *ra)
{
    int      rc;
    int64_t  start;

    if (ra->is_race) {
        return race_accounts_races_write(ra);
    }

    if (!ra->applied) {
        if (race_accounts_expired(ra)) {
            return 0;
        }

        start = race_metrics_now_us();
        rc = race_accounts_apply(ra);
        race_metrics_since(race_metrics_worker.mongo_seconds, start);

        if (rc != 0) {
            return -1;
        }

        ra->applied = 1;
    }

    if (!ra->has_rev && !ra->has_user && ra->reply_len == 0) {
        return 0;
    }

    start = race_metrics_now_us();

    if (ra->has_rev) {
        rc = race_accounts_redis_revoke(ra->redis, &ra->rev, 1,
                                        race_time_wall_ms() / 1000, 1,
                                        ra->reply_len ? ra->cmd.reply : NULL,
                                        ra->reply, ra->reply_len);

    } else {
        rc = race_accounts_redis_apply(ra->redis, &ra->user, ra->has_user,
                                       ra->reply_len ? ra->cmd.reply : NULL,
                                       ra->reply, ra->reply_len);
    }

    race_metrics_since(race_metrics_worker.redis_seconds, start);

    return rc == RACE_ACCOUNTS_REDIS_OK ? 0 : -1;
}


/*
 * 1 if the command in hand is past its deadline: then it is done with,
 * unapplied and unanswered, and counted.
 */

static int
race_accounts_expired(race_accounts_t *ra)
{
    int64_t  now;

    now = race_time_wall_ms();

    if (!race_accounts_cmd_expired(&ra->cmd, now)) {
        return 0;
    }

    ra->expired++;
    ra->applied = 1;
    ra->has_user = 0;
    ra->reply_len = 0;
    ra->outcome = "expired";

    race_log(RACE_LOG_WARN, "command %s: %s of %s, request %s, expired "
             "%lld ms ago: not applied", ra->batch.msgs[0].where,
             race_accounts_ops[ra->cmd.op], ra->cmd.user.id, ra->cmd.req,
             (long long) (now - ra->cmd.deadline));

    return 1;
}


static int
race_accounts_apply(race_accounts_t *ra)
{
    switch (ra->cmd.op) {

    case RACE_ACCOUNTS_SIGNUP:
        return race_accounts_signup(ra);

    case RACE_ACCOUNTS_LOGOUT:
        return race_accounts_logout(ra);

    case RACE_ACCOUNTS_ROLE:
        return race_accounts_role(ra);

    case RACE_ACCOUNTS_REVOKE:
        return race_accounts_revoke(ra);

    default:
        return 0;
    }
}


static int
race_accounts_signup(race_accounts_t *ra)
{
    race_accounts_user_t   stored;
    race_accounts_user_t  *user;

    /* without the unique index two signups could share an email */

    if (race_accounts_index(ra) != 0) {
        return -1;
    }

    user = &ra->cmd.user;
    user->gen = 1;
    user->created = race_time_wall_ms();

    switch (race_accounts_mongo_insert(ra->mongo, user)) {

    case RACE_ACCOUNTS_MONGO_OK:
        race_accounts_ok(ra, user);
        return 0;

    case RACE_ACCOUNTS_MONGO_DUPLICATE:
        break;

    default:
        return -1;
    }

    /* the _id tells this command delivered again from a taken email */

    switch (race_accounts_mongo_get(ra->mongo, user->id, &stored)) {

    case RACE_ACCOUNTS_MONGO_OK:
        if (strcmp(stored.email, user->email) == 0) {
            race_log(RACE_LOG_DEBUG, "signup of %s: delivered again, "
                     "already stored", user->id);
            race_accounts_ok(ra, &stored);
            return 0;
        }

        race_log(RACE_LOG_ERROR, "signup of %s: the user id belongs to "
                 "another account", user->id);
        race_accounts_refuse(ra, "bad_command");
        return 0;

    case RACE_ACCOUNTS_MONGO_NONE:
        race_accounts_refuse(ra, "email_taken");
        return 0;

    case RACE_ACCOUNTS_MONGO_BAD:
        race_accounts_refuse(ra, "bad_command");
        return 0;

    default:
        return -1;
    }
}


static int
race_accounts_logout(race_accounts_t *ra)
{
    int  rc;

    rc = race_accounts_mongo_bump(ra->mongo, ra->cmd.user.id, ra->cmd.gen,
                                  NULL, &ra->user);

    return race_accounts_bumped(ra, rc, "logout");
}


static int
race_accounts_role(race_accounts_t *ra)
{
    int                    rc;
    race_accounts_user_t   admin;

    /* the module checked the token; MongoDB has the last word */

    switch (race_accounts_mongo_get(ra->mongo, ra->cmd.by, &admin)) {

    case RACE_ACCOUNTS_MONGO_OK:
        if (strcmp(admin.role, "admin") == 0) {
            break;
        }

        /* fall through */

    case RACE_ACCOUNTS_MONGO_NONE:
    case RACE_ACCOUNTS_MONGO_BAD:
        race_log(RACE_LOG_WARN, "role of %s by %s: not an admin",
                 ra->cmd.user.id, ra->cmd.by);
        race_accounts_refuse(ra, "bad_command");
        return 0;

    default:
        return -1;
    }

    rc = race_accounts_mongo_bump(ra->mongo, ra->cmd.user.id, ra->cmd.gen,
                                  ra->cmd.user.role, &ra->user);

    return race_accounts_bumped(ra, rc, "role");
}


static int
race_accounts_revoke(race_accounts_t *ra)
{
    memcpy(ra->rev.jti, ra->cmd.jti, sizeof(ra->rev.jti));
    ra->rev.exp = ra->cmd.exp;

    switch (race_accounts_mongo_revoke(ra->mongo, &ra->rev,
                                       race_time_wall_ms()))
    {
    case RACE_ACCOUNTS_MONGO_OK:
        break;

    case RACE_ACCOUNTS_MONGO_BAD:
        race_accounts_refuse(ra, "bad_command");
        return 0;

    default:
        return -1;
    }

    ra->has_rev = 1;
    ra->outcome = "ok";

    ra->reply_len = race_accounts_reply_revoked(ra->cmd.req, ra->rev.jti,
                                                ra->rev.exp, ra->reply,
                                                sizeof(ra->reply));
    if (ra->reply_len == 0) {
        race_log(RACE_LOG_ERROR, "the reply to %s could not be built",
                 ra->cmd.req);
    }

    return 0;
}


/*
 * After a logout's or a role's findAndModify: when nothing matched, the
 * user tells whether there is none, or the command was applied already
 * (a replay: a newer gen, or the role it sets).
 */

static int
race_accounts_bumped(race_accounts_t *ra, int rc, const char *what)
{
    race_accounts_user_t  *user;

    user = &ra->user;

    switch (rc) {

    case RACE_ACCOUNTS_MONGO_OK:
        race_accounts_ok(ra, user);
        return 0;

    case RACE_ACCOUNTS_MONGO_NONE:
        break;

    case RACE_ACCOUNTS_MONGO_BAD:
        race_accounts_refuse(ra, "bad_command");
        return 0;

    default:
        return -1;
    }

    rc = race_accounts_mongo_get(ra->mongo, ra->cmd.user.id, user);

    if (rc == RACE_ACCOUNTS_MONGO_NONE) {
        race_accounts_refuse(ra, "no_user");
        return 0;
    }

    if (rc == RACE_ACCOUNTS_MONGO_BAD) {
        race_accounts_refuse(ra, "bad_command");
        return 0;
    }

    if (rc != RACE_ACCOUNTS_MONGO_OK) {
        return -1;
    }

    if (ra->cmd.gen > 0) {
        if (user->gen > ra->cmd.gen) {
            race_log(RACE_LOG_DEBUG, "%s of %s: gen %lld is past already",
                     what, user->id, (long long) ra->cmd.gen);
            race_accounts_ok(ra, user);
            return 0;
        }

        /* a gen the user never had: not from the module's records */
        race_log(RACE_LOG_WARN, "%s of %s: expects gen %lld, the user has "
                 "%lld", what, user->id, (long long) ra->cmd.gen,
                 (long long) user->gen);
        race_accounts_refuse(ra, "bad_command");
        return 0;
    }

    if (ra->cmd.op == RACE_ACCOUNTS_ROLE
        && strcmp(user->role, ra->cmd.user.role) == 0)
    {
        race_log(RACE_LOG_DEBUG, "role of %s: %s already", user->id,
                 user->role);
        race_accounts_ok(ra, user);
        return 0;
    }

    /* changed between the two calls: try again */
    race_log(RACE_LOG_DEBUG, "%s of %s: the user changed meanwhile", what,
             user->id);

    return -1;
}


static void
race_accounts_ok(race_accounts_t *ra, const race_accounts_user_t *user)
{
    if (user != &ra->user) {
        ra->user = *user;
    }

    ra->has_user = 1;
    ra->outcome = "ok";

    ra->reply_len = race_accounts_reply_ok(ra->cmd.req, &ra->user,
                                           ra->reply, sizeof(ra->reply));
    if (ra->reply_len == 0) {
        race_log(RACE_LOG_ERROR, "the reply to %s could not be built",
                 ra->cmd.req);
    }
}


void
race_accounts_refuse(race_accounts_t *ra, const char *code)
{
    ra->has_user = 0;
    ra->has_rev = 0;
    ra->outcome = code;

    ra->reply_len = race_accounts_reply_error(ra->cmd.req, code, ra->reply,
                                              sizeof(ra->reply));
    if (ra->reply_len == 0) {
        race_log(RACE_LOG_ERROR, "the reply to %s could not be built",
                 ra->cmd.req);
    }
}


int
race_accounts_index(race_accounts_t *ra)
{
    if (ra->indexed) {
        return 0;
    }

    if (race_accounts_mongo_index(ra->mongo) != RACE_ACCOUNTS_MONGO_OK) {
        return -1;
    }

    ra->indexed = 1;
    race_log(RACE_LOG_INFO, "mongo: the unique index on users.email is "
             "there");

    return 0;
}
