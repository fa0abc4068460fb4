
/*
 * race-accounts: account commands from Kafka into MongoDB and Redis.
 *
 *     race-accounts [-c FILE] [--set name=value]... [-t]
 *     race-accounts [-c FILE] [--set name=value]... --create-admin EMAIL
 *         --name NAME --password-file FILE [--common-passwords FILE]
 *     race-accounts [-c FILE] [--set name=value]...
 *         --revoke-rider-token JTI --until EXP
 *
 * -c reads settings from a file of "name value" lines (conf/
 * race-accounts.conf is the commented sample), --set overrides one of
 * them (after the file, whatever the order on the command line), -t
 * checks the settings and exits.
 *
 * It consumes the commands of docs/INTERNALS.md ("Accounts") in a
 * consumer group, one message at a time, in order.  For each:
 *
 *   1. the message is parsed; a malformed one is poison: it is logged,
 *      answered with "bad_command" when it names a reply channel, and
 *      its offset stored, since retrying cannot help;
 *   2. it is applied to collection "users" in MongoDB:
 *        signup  inserts the user (role spectator, gen 1); a duplicate
 *                key on a document with the same _id is this very
 *                command delivered again, and succeeds; on another _id
 *                the email is taken ("email_taken");
 *        logout  moves gen on by one: with "gen" (the gen of the
 *                token logged out), from that gen to the next, so a
 *                replay finds a newer gen and changes nothing;
 *                without, $inc;
 *        role    sets the role and moves gen on, the same way with
 *                "gen"; without, only where the role is another one,
 *                so setting a role again changes nothing.  "by" must be
 *                an admin in MongoDB;
 *        revoke  records a rider token's revocation in collection
 *                "revocations" (_id the jti, with the token's exp), an
 *                upsert, so a replay changes nothing;
 *      an unknown user is "no_user";
 *   3. the user goes to Redis (race:user:<id>, race:email:<email>)
 *      through a script that keeps the newest gen, or the revocation
 *      (race:revoked:<jti>, expiring when the token would be refused
 *      anyway) and its news to nginx (channel race:revoked), and the
 *      reply is published on the command's reply channel, in one
 *      pipeline;
 *   4. only then is the offset stored, for the auto commit.
 *
 * A command with a "deadline" (Unix ms) is applied only before it: once
 * it has passed, the module has answered the client 503 and let go, so
 * applying it then would do behind the user's back what they were told
 * failed.  It is logged, counted, and its offset stored unapplied, with
 * no reply (nobody waits for one).  Step 2 is started only before the
 * deadline, at the first try and at every retry.  This needs the clocks
 * of nginx's hosts and this one's to agree, as NTP keeps them.
 *
 * If 2 or 3 fails (a server down), the command is retried with a
 * backoff of up to retry_max_ms, for as long as it takes, and nothing is
 * committed meanwhile; step 2 is not done twice.  At the start and every
 * reload_check_ms, if race:users:loaded is missing from Redis (it came
 * back empty), every user of MongoDB is written to Redis again, in
 * pipelined batches of reload_batch, then race:users:loaded is set; the
 * same for every revocation whose token has not expired, then
 * race:revocations:loaded, without which nginx lets no rider in.  The
 * unique index on users.email is made at the start, before any signup.
 *
 * The race commands on the same topic (docs/INTERNALS.md, "Races";
 * race_accounts_races.c) go the same way: parsed and checked by the
 * core (core/race_races_cmd.h), applied to collections "races" and
 * "courses" where the race's rev is still the one read, a removed
 * rider's or link's token revoked first as "revoke" does, then Redis
 * (race:race:<id> and the rest), PUBLISH race:races <id>, the reply.
 * Every second the races whose start_at or close_at has passed are
 * moved on (live, finished) the same way; and race:races:loaded is
 * watched like race:users:loaded, every race and course loaded again
 * when it is missing.
 *
 * Emails, names and hashes are personal or secret: the logs name users
 * by their id only, at every level.
 *
 * --create-admin bootstraps the first admin, without Kafka: the password
 * is read from a file (its first line, without the line end; a warning
 * if others may read the file), checked like the module checks a
 * signup's (against the list of --common-passwords too, if given),
 * hashed with argon2id, and the user inserted with role admin and gen 1;
 * if the email has an account already, that user is made an admin (a
 * new gen; name and password unchanged).  The user is written to Redis,
 * its id printed on stdout, and the password never printed.  Running it
 * again is harmless.
 *
 * --revoke-rider-token revokes a rider token by its id (jti) until its
 * exp (--until, Unix seconds), without Kafka, as the revoke command
 * does: MongoDB, then Redis and nginx.  Running it again is harmless.
 *
 * SIGTERM and SIGINT stop it: the command in hand is finished (for at
 * most stop_timeout_ms while a server is down), the offsets committed
 * synchronously and the group left.  SIGHUP is logged and ignored.  Logs
 * go to stderr.
 *
 * Exit codes:
 *   0  stopped by a signal, everything consumed was applied; or the
 *      admin was created, or the token revoked
 *   1  a fatal error (Kafka fatal error, out of memory, a client that
 *      cannot be created), or stopped with a command that could not be
 *      applied, which the group will deliver again; or the admin or
 *      the revocation could not be written
 *   2  bad usage or settings (or the admin's email, name or password,
 *      or the token id or exp); nothing was connected
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "race_accounts.h"
#include "race_conf.h"
#include "race_daemon.h"
#include "race_log.h"
#include "race_queue_kafka.h"


static int race_accounts_open_queue(void *data);
static int race_accounts_stop(void *data);
static void race_accounts_stopped(void *data, int rc);


#define race_accounts_field(name)  offsetof(race_accounts_t, conf.name)

static const race_conf_setting_t  race_accounts_settings[] = {

    RACE_DAEMON_KAFKA_SETTINGS(race_accounts_field(daemon), "race.accounts",
                               RACE_ACCOUNTS_NAME, "1000"),

    RACE_DAEMON_STORE_SETTINGS(race_accounts_field(daemon)),

    { "reload_check_ms", RACE_CONF_INT,
      race_accounts_field(reload_check_ms),
      "1000", 100, 60000, NULL, NULL },

    { "reload_batch", RACE_CONF_INT, race_accounts_field(reload_batch),
      "500", 1, 10000, NULL, NULL },

    RACE_DAEMON_RUN_SETTINGS(race_accounts_field(daemon)),

    { NULL, 0, 0, NULL, 0, 0, NULL, NULL }
};


static const race_daemon_t  race_accounts_daemon = {
    RACE_ACCOUNTS_NAME,
    "       " RACE_ACCOUNTS_NAME
    " [-c FILE] [--set name=value]... --create-admin EMAIL\n"
    "           --name NAME --password-file FILE"
    " [--common-passwords FILE]\n"
    "       " RACE_ACCOUNTS_NAME
    " [-c FILE] [--set name=value]... --revoke-rider-token JTI\n"
    "           --until EXP\n",
    race_accounts_settings,
    offsetof(race_accounts_t, conf),
    offsetof(race_accounts_t, conf.daemon),
    race_accounts_admin_option,
    race_accounts_admin_check,
    race_accounts_admin,
    race_accounts_open_queue,
    race_accounts_run,
    race_accounts_stop,
    race_accounts_stopped
};


int
main(int argc, char **argv)
{
    int               rc;
    race_accounts_t  *ra;

    ra = calloc(1, sizeof(race_accounts_t));
    if (ra == NULL) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": out of memory\n");
        return RACE_DAEMON_EXIT_FAIL;
    }

    rc = race_daemon_main(&race_accounts_daemon, ra, argc, argv);

    free(ra);

    return rc;
}


int
race_accounts_open(race_accounts_t *ra, int queue)
{
    race_daemon_conf_t          *dc;
    race_queue_kafka_conf_t      kc;
    race_accounts_redis_conf_t   rc;

    dc = &ra->conf.daemon;

    if (queue) {
        race_accounts_metrics(ra);
    }

    ra->users = calloc((size_t) ra->conf.reload_batch,
                       sizeof(race_accounts_user_t));
    ra->revs = calloc((size_t) ra->conf.reload_batch,
                      sizeof(race_accounts_revocation_t));

    if (ra->users == NULL || ra->revs == NULL
        || race_queue_batch_init(&ra->batch, 1) != 0)
    {
        race_log(RACE_LOG_ERROR, "out of memory");
        return -1;
    }

    ra->mongo = race_accounts_mongo_open(dc->mongo_uri, dc->mongo_db,
                                         RACE_ACCOUNTS_NAME,
                                         (int) dc->mongo_timeout_ms);
    if (ra->mongo == NULL) {
        return -1;
    }

    rc.host = dc->redis_host;
    rc.port = (int) dc->redis_port;
    rc.timeout_ms = (int) dc->redis_timeout_ms;
    rc.retry_max_ms = (int) dc->retry_max_ms;
    rc.max_users = (size_t) ra->conf.reload_batch;

    ra->redis = race_accounts_redis_open(&rc);
    if (ra->redis == NULL) {
        return -1;
    }

    ra->races_mongo = race_accounts_races_mongo_open(ra->mongo,
                                                     dc->mongo_db);
    ra->races_redis = race_accounts_races_redis_open(&rc);

    if (ra->races_mongo == NULL || ra->races_redis == NULL) {
        return -1;
    }

    if (!queue) {
        return 0;
    }

    kc.brokers = dc->kafka_brokers;
    kc.topic = dc->kafka_topic;
    kc.group = dc->kafka_group;
    kc.instance_id = dc->kafka_instance_id;
    kc.client_id = RACE_ACCOUNTS_NAME;
    kc.commit_interval_ms = (int) dc->kafka_commit_ms;
    kc.session_timeout_ms = (int) dc->kafka_session_timeout_ms;
    kc.log_level = dc->log_level;

    ra->queue = race_queue_kafka_open(&kc, race_accounts_drain, ra);
    if (ra->queue == NULL) {
        return -1;
    }

    return 0;
}


/* closing the queue commits synchronously and leaves the group */

void
race_accounts_close(race_accounts_t *ra)
{
    if (ra->queue != NULL) {
        if (ra->batch.n > 0) {
            ra->queue->ops->release(ra->queue, &ra->batch);
        }

        ra->queue->ops->close(ra->queue);
        ra->queue = NULL;
    }

    race_races_cmd_free(&ra->rcmd);
    race_accounts_races_reset(ra);

    if (ra->races_redis != NULL) {
        race_accounts_races_redis_close(ra->races_redis);
        ra->races_redis = NULL;
    }

    /* on the accounts' client: closed before it */

    if (ra->races_mongo != NULL) {
        race_accounts_races_mongo_close(ra->races_mongo);
        ra->races_mongo = NULL;
    }

    if (ra->redis != NULL) {
        race_accounts_redis_close(ra->redis);
        ra->redis = NULL;
    }

    if (ra->mongo != NULL) {
        race_accounts_mongo_close(ra->mongo);
        ra->mongo = NULL;
    }

    race_queue_batch_free(&ra->batch);
    free(ra->users);
    ra->users = NULL;
    free(ra->revs);
    ra->revs = NULL;
}


static int
race_accounts_open_queue(void *data)
{
    return race_accounts_open(data, 1);
}


static int
race_accounts_stop(void *data)
{
    race_accounts_t  *ra = data;

    race_accounts_close(ra);

    return ra->abandoned ? -1 : 0;
}


static void
race_accounts_stopped(void *data, int rc)
{
    race_accounts_t  *ra = data;

    race_log(RACE_LOG_INFO, "stopped%s: %llu messages, %llu malformed, "
             "%llu applied, %llu refused, %llu expired, %llu users loaded, "
             "%llu revocations loaded, %llu races loaded, %llu races moved",
             rc == RACE_DAEMON_EXIT_OK ? "" : " on an error",
             (unsigned long long) ra->messages,
             (unsigned long long) ra->malformed,
             (unsigned long long) ra->applied_ok,
             (unsigned long long) ra->refused,
             (unsigned long long) ra->expired,
             (unsigned long long) ra->loads,
             (unsigned long long) ra->rev_loads,
             (unsigned long long) ra->race_loads,
             (unsigned long long) ra->moved);
}
