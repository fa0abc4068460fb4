
/*
 * race-accounts: the race commands applied (docs/INTERNALS.md, "Races"),
 * the races moved by the clock, and Redis reloaded with the races.
 *
 * A command: the race read from MongoDB, the command applied to it by
 * the core (race_races_apply()), a token revoked first if an entry or a
 * link goes, the race written back where its rev is still the one read
 * (or, for a new race, its course then the race inserted), its course
 * after it; then Redis, PUBLISH race:races, the reply.  Every step is
 * idempotent, so a retry, or a command delivered again, starts over from
 * the read and ends where the first one would have.
 */


#include <stdlib.h>
#include <string.h>

#include "race_accounts.h"
#include "race_log.h"
#include "race_stats.h"
#include "race_time.h"


/* the fixes a track is made of at most: about 10 MB of GPX */
#define RACE_ACCOUNTS_TRACK_MAX  100000


static int race_accounts_races_apply(race_accounts_t *ra);
static int race_accounts_races_create(race_accounts_t *ra, int64_t now);
static int race_accounts_races_change(race_accounts_t *ra, int64_t now);
static int race_accounts_races_track(race_accounts_t *ra, int64_t now);
static int race_accounts_races_admin(race_accounts_t *ra, int organizer);
static int race_accounts_races_revoke(race_accounts_t *ra,
    const race_races_change_t *ch);
static void race_accounts_races_ok(race_accounts_t *ra, json_t *doc,
    const race_races_change_t *ch);
static void race_accounts_races_refuse(race_accounts_t *ra,
    const char *code);
static int race_accounts_races_due(json_t *doc, void *data);
static int race_accounts_races_load(json_t *doc, void *data);


/* the command in hand: MongoDB once, then Redis and the reply */

int
race_accounts_races_write(race_accounts_t *ra)
{
    int      rc;
    int64_t  now, start;

    if (!ra->applied) {
        now = race_time_wall_ms();

        if (race_races_cmd_expired(&ra->rcmd, now)) {
            ra->expired++;
            ra->applied = 1;
            ra->outcome = "expired";
            race_accounts_races_reset(ra);

            race_log(RACE_LOG_WARN, "command %s: %s of race %s, request "
                     "%s, expired %lld ms ago: not applied",
                     ra->batch.msgs[0].where,
                     race_races_op_name(ra->rcmd.op), ra->rcmd.race,
                     ra->rcmd.req, (long long) (now - ra->rcmd.deadline));
            return 0;
        }

        start = race_metrics_now_us();
        rc = race_accounts_races_apply(ra);
        race_metrics_since(race_metrics_worker.mongo_seconds, start);

        if (rc != 0) {
            return -1;
        }

        ra->applied = 1;
    }

    if (ra->race_doc == NULL && ra->race_reply == NULL) {
        return 0;
    }

    start = race_metrics_now_us();

    if (ra->race_doc == NULL) {
        rc = race_accounts_races_redis_reply(ra->races_redis, ra->rcmd.reply,
                                             ra->race_reply,
                                             strlen(ra->race_reply));

    } else {
        rc = race_accounts_races_redis_write(ra->races_redis, ra->race_doc,
                                             ra->rcmd.course,
                                             ra->race_user_gone[0]
                                             ? ra->race_user_gone : NULL,
                                             1,
                                             ra->race_reply ? ra->rcmd.reply
                                                            : NULL,
                                             ra->race_reply,
                                             ra->race_reply
                                             ? strlen(ra->race_reply) : 0);
    }

    race_metrics_since(race_metrics_worker.redis_seconds, start);

    return rc == RACE_ACCOUNTS_REDIS_OK ? 0 : -1;
}


/* forgets what an earlier try made */

void
race_accounts_races_reset(race_accounts_t *ra)
{
    json_decref(ra->race_doc);
    ra->race_doc = NULL;

    free(ra->race_reply);
    ra->race_reply = NULL;

    ra->race_user_gone[0] = '\0';
}


/* the command to MongoDB: 0, or -1 to try again */

static int
race_accounts_races_apply(race_accounts_t *ra)
{
    int64_t  now;

    race_accounts_races_reset(ra);

    now = race_time_wall_ms();

    if (ra->rcmd.op == RACE_RACES_CREATE) {
        return race_accounts_races_create(ra, now);
    }

    if (ra->rcmd.op == RACE_RACES_TRACK) {
        return race_accounts_races_track(ra, now);
    }

    return race_accounts_races_change(ra, now);
}


static int
race_accounts_races_create(race_accounts_t *ra, int64_t now)
{
    int                  rc;
    json_t              *doc;
    const char          *owner;
    race_races_change_t  ch;

    memset(&ch, 0, sizeof(race_races_change_t));

    /* the same race already: this command delivered again */

    rc = race_accounts_races_mongo_get(ra->races_mongo, ra->rcmd.race, &doc);

    switch (rc) {

    case RACE_ACCOUNTS_MONGO_OK:
        owner = json_string_value(json_object_get(doc, "owner"));

        if (strcmp(owner, ra->rcmd.by) == 0) {
            race_log(RACE_LOG_DEBUG, "race_create of %s: delivered again, "
                     "already stored", ra->rcmd.race);
            race_accounts_races_ok(ra, doc, &ch);
            return 0;
        }

        json_decref(doc);
        race_log(RACE_LOG_ERROR, "race_create of %s: the race id belongs "
                 "to another owner's race", ra->rcmd.race);
        race_accounts_races_refuse(ra, "bad_command");
        return 0;

    case RACE_ACCOUNTS_MONGO_NONE:
        break;

    case RACE_ACCOUNTS_MONGO_BAD:
        race_accounts_races_refuse(ra, "bad_command");
        return 0;

    default:
        return -1;
    }

    /* organizers and admins make races; MongoDB has the last word */

    rc = race_accounts_races_admin(ra, 1);

    if (rc < 0) {
        return -1;
    }

    if (rc == 0) {
        race_accounts_races_refuse(ra, "not_owner");
        return 0;
    }

    doc = race_races_create(&ra->rcmd, now);
    if (doc == NULL) {
        race_log(RACE_LOG_ERROR, "out of memory");
        return -1;
    }

    /* the course first: a race in MongoDB always has one */

    if (race_accounts_races_mongo_course_put(ra->races_mongo, ra->rcmd.race,
                                             ra->rcmd.course)
        != RACE_ACCOUNTS_MONGO_OK
        || race_accounts_races_mongo_insert(ra->races_mongo, doc)
           != RACE_ACCOUNTS_MONGO_OK)
    {
        /* a duplicate too: the next try reads what is there */
        json_decref(doc);
        return -1;
    }

    race_accounts_races_ok(ra, doc, &ch);

    return 0;
}


/*
 * A query: a rider's track as GPX 1.1, from race-tracker's fixes.  It
 * changes nothing, so it is answered again when delivered again.
 */

static int
race_accounts_races_track(race_accounts_t *ra, int64_t now)
{
    int                   rc;
    size_t                i, n;
    json_t               *doc, *rider, *entry, *reply, *at;
    race_buf_t            b;
    race_rider_sample_t  *samples;

    rc = race_accounts_races_mongo_get(ra->races_mongo, ra->rcmd.race, &doc);

    switch (rc) {

    case RACE_ACCOUNTS_MONGO_OK:
        break;

    case RACE_ACCOUNTS_MONGO_NONE:
        race_accounts_races_refuse(ra, "no_race");
        return 0;

    case RACE_ACCOUNTS_MONGO_BAD:
        race_accounts_races_refuse(ra, "bad_command");
        return 0;

    default:
        return -1;
    }

    rider = NULL;

    json_array_foreach(json_object_get(doc, "riders"), i, entry) {
        if (strcmp(json_string_value(json_object_get(entry, "id")),
                   ra->rcmd.rider)
            == 0)
        {
            rider = entry;
            break;
        }
    }

    if (rider == NULL) {
        json_decref(doc);
        race_accounts_races_refuse(ra, "no_rider");
        return 0;
    }

    rc = race_accounts_races_mongo_track(ra->races_mongo, ra->rcmd.race,
                                         ra->rcmd.rider,
                                         RACE_ACCOUNTS_TRACK_MAX, &samples,
                                         &n);

    if (rc == RACE_ACCOUNTS_MONGO_ERROR) {
        json_decref(doc);
        return -1;
    }

    if (rc == RACE_ACCOUNTS_MONGO_BAD) {
        free(samples);
        json_decref(doc);
        race_log(RACE_LOG_WARN, "the track of rider %s of race %s has over "
                 "%d fixes: not sent", ra->rcmd.rider, ra->rcmd.race,
                 RACE_ACCOUNTS_TRACK_MAX);
        race_accounts_races_refuse(ra, "too_many_fixes");
        return 0;
    }

    /* the file's time: the finish, or now for a race not finished */

    at = json_object_get(doc, "finished_at");

    memset(&b, 0, sizeof(race_buf_t));

    rc = race_stats_gpx(&b, json_string_value(json_object_get(doc, "name")),
                        json_string_value(json_object_get(rider, "name")),
                        json_is_integer(at) ? json_integer_value(at) : now,
                        samples, n);
    free(samples);
    json_decref(doc);

    reply = (rc == 0) ? json_pack("{s:s, s:b, s:s%}", "req", ra->rcmd.req,
                                  "ok", 1, "gpx", b.data, b.len)
                      : NULL;
    race_buf_free(&b);

    if (reply != NULL) {
        ra->race_reply = json_dumps(reply, JSON_COMPACT);
        json_decref(reply);
    }

    if (ra->race_reply == NULL) {
        race_log(RACE_LOG_ERROR, "out of memory");
        return -1;
    }

    ra->outcome = "ok";

    return 0;
}


static int
race_accounts_races_change(race_accounts_t *ra, int64_t now)
{
    int                  rc, admin;
    json_t              *doc;
    int64_t              rev;
    const char          *code;
    race_races_change_t  ch;

    rc = race_accounts_races_mongo_get(ra->races_mongo, ra->rcmd.race, &doc);

    switch (rc) {

    case RACE_ACCOUNTS_MONGO_OK:
        break;

    case RACE_ACCOUNTS_MONGO_NONE:
        race_accounts_races_refuse(ra, "no_race");
        return 0;

    case RACE_ACCOUNTS_MONGO_BAD:
        race_accounts_races_refuse(ra, "bad_command");
        return 0;

    default:
        return -1;
    }

    admin = 0;

    if (strcmp(json_string_value(json_object_get(doc, "owner")),
               ra->rcmd.by)
        != 0)
    {
        admin = race_accounts_races_admin(ra, 0);

        if (admin < 0) {
            json_decref(doc);
            return -1;
        }
    }

    rev = json_integer_value(json_object_get(doc, "rev"));

    code = race_races_apply(doc, &ra->rcmd, admin, now, &ch);

    if (code != NULL) {
        json_decref(doc);
        race_log(RACE_LOG_INFO, "%s of race %s by %s: %s",
                 race_races_op_name(ra->rcmd.op), ra->rcmd.race,
                 ra->rcmd.by, code);
        race_accounts_races_refuse(ra, code);
        return 0;
    }

    /* the token is dead before its entry is gone: a replay finds neither */

    if ((ch.revoke_jti[0] && race_accounts_races_revoke(ra, &ch) != 0)
        || (ch.changed
            && (rc = race_accounts_races_mongo_replace(ra->races_mongo, doc,
                                                       rev))
               != RACE_ACCOUNTS_MONGO_OK)
        || (ra->rcmd.course != NULL
            && race_accounts_races_mongo_course_put(ra->races_mongo,
                                                    ra->rcmd.race,
                                                    ra->rcmd.course)
               != RACE_ACCOUNTS_MONGO_OK))
    {
        if (ch.changed && rc == RACE_ACCOUNTS_MONGO_NONE) {
            race_log(RACE_LOG_DEBUG, "race %s changed meanwhile: reading "
                     "it again", ra->rcmd.race);
        }

        json_decref(ch.rider);
        json_decref(ch.link);
        json_decref(doc);
        return -1;
    }

    memcpy(ra->race_user_gone, ch.user_gone, sizeof(ch.user_gone));

    race_accounts_races_ok(ra, doc, &ch);

    json_decref(ch.rider);
    json_decref(ch.link);

    return 0;
}


/*
 * 1 if "by" is an admin (or, with organizer, an organizer too), 0 if
 * not or unknown, -1 if MongoDB cannot tell now
 */

static int
race_accounts_races_admin(race_accounts_t *ra, int organizer)
{
    race_accounts_user_t  user;

    switch (race_accounts_mongo_get(ra->mongo, ra->rcmd.by, &user)) {

    case RACE_ACCOUNTS_MONGO_OK:
        return strcmp(user.role, "admin") == 0
               || (organizer && strcmp(user.role, "organizer") == 0);

    case RACE_ACCOUNTS_MONGO_NONE:
    case RACE_ACCOUNTS_MONGO_BAD:
        return 0;

    default:
        return -1;
    }
}


/* as the revoke command: MongoDB, then Redis and nginx */

static int
race_accounts_races_revoke(race_accounts_t *ra,
    const race_races_change_t *ch)
{
    race_accounts_revocation_t  rev;

    memset(&rev, 0, sizeof(race_accounts_revocation_t));
    memcpy(rev.jti, ch->revoke_jti, sizeof(rev.jti));
    rev.exp = ch->revoke_exp;

    if (race_accounts_mongo_revoke(ra->mongo, &rev, race_time_wall_ms())
        != RACE_ACCOUNTS_MONGO_OK
        || race_accounts_redis_revoke(ra->redis, &rev, 1,
                                      race_time_wall_ms() / 1000, 1, NULL,
                                      NULL, 0)
           != RACE_ACCOUNTS_REDIS_OK)
    {
        return -1;
    }

    race_log(RACE_LOG_INFO, "race %s: token %s revoked until %lld",
             ra->rcmd.race, rev.jti, (long long) rev.exp);

    return 0;
}


/* takes doc */

static void
race_accounts_races_ok(race_accounts_t *ra, json_t *doc,
    const race_races_change_t *ch)
{
    ra->race_doc = doc;
    ra->outcome = "ok";

    ra->race_reply = race_races_reply_ok(ra->rcmd.req, doc, ch->rider,
                                         ch->link);
    if (ra->race_reply == NULL) {
        race_log(RACE_LOG_ERROR, "the reply to %s could not be built",
                 ra->rcmd.req);
    }
}


static void
race_accounts_races_refuse(race_accounts_t *ra, const char *code)
{
    race_accounts_races_reset(ra);
    ra->outcome = code;

    ra->race_reply = race_races_reply_error(ra->rcmd.req, code);
    if (ra->race_reply == NULL) {
        race_log(RACE_LOG_ERROR, "the reply to %s could not be built",
                 ra->rcmd.req);
    }
}


/*
 * Every second: the races whose start_at or close_at has passed move
 * on, in MongoDB where they are still at the rev read (another worker
 * may move them at the same time: one wins, the other finds it done),
 * then in Redis.  A race that MongoDB has and Redis missed has Redis
 * reloaded at the next check.
 */

void
race_accounts_races_tick(race_accounts_t *ra)
{
    size_t  n;

    ra->now_ms = race_time_wall_ms();

    (void) race_accounts_races_mongo_each(ra->races_mongo, 1, ra->now_ms,
                                          race_accounts_races_due, ra, &n);
}


static int
race_accounts_races_due(json_t *doc, void *data)
{
    int               rc;
    int64_t           rev;
    const char       *id;
    race_accounts_t  *ra = data;

    id = json_string_value(json_object_get(doc, "_id"));
    rev = json_integer_value(json_object_get(doc, "rev"));

    if (!race_races_tick(doc, ra->now_ms)) {
        return 0;
    }

    rc = race_accounts_races_mongo_replace(ra->races_mongo, doc, rev);

    if (rc == RACE_ACCOUNTS_MONGO_NONE) {
        race_log(RACE_LOG_DEBUG, "race %s moved by another", id);
        return 0;
    }

    if (rc != RACE_ACCOUNTS_MONGO_OK) {
        return -1;
    }

    ra->moved++;

    race_log(RACE_LOG_INFO, "race %s is %s", id,
             json_string_value(json_object_get(doc, "status")));

    if (race_accounts_races_redis_write(ra->races_redis, doc, NULL, NULL, 1,
                                        NULL, NULL, 0)
        != RACE_ACCOUNTS_REDIS_OK)
    {
        ra->races_stale = 1;
        return -1;
    }

    return 0;
}


/*
 * At the start and every reload_check_ms: every race (and its course)
 * into Redis again if it came back without race:races:loaded, or if a
 * race moved by the clock could not be written there.
 */

void
race_accounts_races_check(race_accounts_t *ra)
{
    int      rc;
    size_t   n;
    int64_t  start;

    rc = race_accounts_races_redis_loaded(ra->races_redis);

    if (rc < 0 || (rc == 1 && !ra->races_stale)) {
        return;
    }

    race_log(RACE_LOG_INFO, "%s: loading the races from MongoDB",
             ra->races_stale ? "a race was not written to redis"
                             : "redis has no " RACE_ACCOUNTS_REDIS_RACES);

    start = race_time_mono_ms();

    if (race_accounts_races_mongo_each(ra->races_mongo, 0, 0,
                                       race_accounts_races_load, ra, &n)
        != RACE_ACCOUNTS_MONGO_OK
        || race_accounts_races_redis_set_loaded(ra->races_redis)
           != RACE_ACCOUNTS_REDIS_OK)
    {
        race_log(RACE_LOG_WARN, "the races were not loaded into redis; "
                 "trying again in %lld ms",
                 (long long) ra->conf.reload_check_ms);
        return;
    }

    ra->races_stale = 0;
    ra->race_loads += n;

    race_log(RACE_LOG_INFO, "loaded %zu races into redis in %lld ms", n,
             (long long) (race_time_mono_ms() - start));
}


static int
race_accounts_races_load(json_t *doc, void *data)
{
    int               rc;
    json_t           *course;
    race_accounts_t  *ra = data;

    rc = race_accounts_races_mongo_course_get(ra->races_mongo,
             json_string_value(json_object_get(doc, "_id")), &course);

    if (rc == RACE_ACCOUNTS_MONGO_ERROR) {
        return -1;
    }

    if (rc != RACE_ACCOUNTS_MONGO_OK) {
        course = NULL;
    }

    rc = race_accounts_races_redis_write(ra->races_redis, doc, course, NULL,
                                         0, NULL, NULL, 0);
    json_decref(course);

    return rc == RACE_ACCOUNTS_REDIS_OK ? 0 : -1;
}
