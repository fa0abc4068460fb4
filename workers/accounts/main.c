
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


#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "race_account.h"
#include "race_password.h"

#include "race_accounts_cmd.h"
#include "race_accounts_mongo.h"
#include "race_accounts_redis.h"
#include "race_conf.h"
#include "race_log.h"
#include "race_signal.h"
#include "race_queue.h"
#include "race_queue_kafka.h"
#include "race_store_mongo.h"
#include "race_time.h"


#define RACE_ACCOUNTS_NAME        "race-accounts"
#define RACE_ACCOUNTS_POLL_MS     100     /* how soon a signal is noticed */
#define RACE_ACCOUNTS_RETRY_MS    100     /* the first retry of a command */
#define RACE_ACCOUNTS_MAX_SETS    64
#define RACE_ACCOUNTS_LIST_MAX    (64 * 1024 * 1024)

#define RACE_ACCOUNTS_EXIT_OK     0
#define RACE_ACCOUNTS_EXIT_FAIL   1
#define RACE_ACCOUNTS_EXIT_USAGE  2


typedef struct {
    char                   *kafka_brokers;
    char                   *kafka_topic;
    char                   *kafka_group;
    char                   *kafka_instance_id;
    int64_t                 kafka_commit_ms;
    int64_t                 kafka_session_timeout_ms;
    char                   *mongo_uri;
    char                   *mongo_db;
    int64_t                 mongo_timeout_ms;
    char                   *redis_host;
    int64_t                 redis_port;
    int64_t                 redis_timeout_ms;
    int64_t                 reload_check_ms;
    int64_t                 reload_batch;
    int64_t                 retry_max_ms;
    int64_t                 stop_timeout_ms;
    int                     log_level;
} race_accounts_conf_t;


/* what the command line asks besides settings */
typedef struct {
    int                     test;
    const char             *admin_email;
    const char             *admin_name;
    const char             *password_file;
    const char             *common_passwords;
    const char             *revoke_jti;
    const char             *revoke_until;
} race_accounts_args_t;


typedef struct {
    race_accounts_conf_t    conf;

    race_queue_t           *queue;
    race_accounts_mongo_t  *mongo;
    race_accounts_redis_t  *redis;

    /* the command in hand: one message at a time, in order */
    race_queue_batch_t      batch;
    race_accounts_cmd_t     cmd;
    race_accounts_user_t    user;       /* what goes to Redis */
    race_accounts_revocation_t  rev;    /* or this */
    char                    reply[RACE_ACCOUNTS_REPLY_SIZE];
    size_t                  reply_len;  /* 0: no reply to publish */
    const char             *outcome;    /* "ok" or an error code, logs */
    unsigned                applied:1;  /* MongoDB has it */
    unsigned                has_user:1;
    unsigned                has_rev:1;

    /* reloading Redis from MongoDB */
    race_accounts_user_t   *users;
    size_t                  nusers;
    race_accounts_revocation_t  *revs;
    size_t                  nrevs;
    int64_t                 now;        /* Unix s, of the reload */
    int64_t                 next_check; /* monotonic ms */

    unsigned                indexed:1;
    int64_t                 stop_at;    /* monotonic ms, once stopping */
    unsigned                abandoned:1;

    uint64_t                messages;
    uint64_t                malformed;
    uint64_t                applied_ok;
    uint64_t                refused;
    uint64_t                expired;
    uint64_t                loads;
    uint64_t                rev_loads;
} race_accounts_t;


static int race_accounts_options(int argc, char **argv,
    race_accounts_conf_t *conf, race_accounts_args_t *args);
static void race_accounts_usage(FILE *f);
static int race_accounts_open(race_accounts_t *ra, int queue);
static void race_accounts_close(race_accounts_t *ra);
static int race_accounts_run(race_accounts_t *ra);
static void race_accounts_take(race_accounts_t *ra);
static int race_accounts_flush(race_accounts_t *ra);
static int race_accounts_write(race_accounts_t *ra);
static int race_accounts_apply(race_accounts_t *ra);
static int race_accounts_expired(race_accounts_t *ra);
static int race_accounts_signup(race_accounts_t *ra);
static int race_accounts_logout(race_accounts_t *ra);
static int race_accounts_role(race_accounts_t *ra);
static int race_accounts_revoke(race_accounts_t *ra);
static int race_accounts_bumped(race_accounts_t *ra, int rc,
    const char *what);
static void race_accounts_ok(race_accounts_t *ra,
    const race_accounts_user_t *user);
static void race_accounts_refuse(race_accounts_t *ra, const char *code);
static void race_accounts_check(race_accounts_t *ra);
static int race_accounts_load_user(const race_accounts_user_t *user,
    void *data);
static void race_accounts_check_revocations(race_accounts_t *ra);
static int race_accounts_load_revocation(
    const race_accounts_revocation_t *rev, void *data);
static int race_accounts_index(race_accounts_t *ra);
static void race_accounts_wait(int64_t ms);
static void race_accounts_drain(race_queue_t *q, void *data);
static int race_accounts_create_admin(race_accounts_t *ra,
    const race_accounts_args_t *args);
static int race_accounts_admin_user(const race_accounts_args_t *args,
    race_accounts_user_t *user);
static int race_accounts_read_password(const char *path, char *buf,
    size_t size, size_t *len);
static int race_accounts_read_list(const char *path,
    race_password_list_t *list);
static int race_accounts_admin_write(race_accounts_t *ra,
    race_accounts_user_t *user);
static int race_accounts_revoke_token(race_accounts_t *ra,
    const race_accounts_args_t *args);


static const char *const  race_accounts_levels[] = {
    "debug", "info", "warn", "error", NULL
};

static const char *const  race_accounts_ops[] = {
    "none", "signup", "logout", "role", "revoke"
};


#define race_accounts_field(name)  offsetof(race_accounts_conf_t, name)

static const race_conf_setting_t  race_accounts_settings[] = {

    { "kafka_brokers", RACE_CONF_STR, race_accounts_field(kafka_brokers),
      "127.0.0.1:9092", 1, 1024, NULL, NULL },

    { "kafka_topic", RACE_CONF_STR, race_accounts_field(kafka_topic),
      "race.accounts", 1, 249, NULL, race_queue_kafka_check_topic },

    { "kafka_group", RACE_CONF_STR, race_accounts_field(kafka_group),
      "race-accounts", 1, 255, NULL, NULL },

    { "kafka_instance_id", RACE_CONF_STR,
      race_accounts_field(kafka_instance_id),
      "auto", 1, 249, NULL, race_queue_kafka_check_instance },

    { "kafka_commit_ms", RACE_CONF_INT,
      race_accounts_field(kafka_commit_ms),
      "1000", 100, 60000, NULL, NULL },

    { "kafka_session_timeout_ms", RACE_CONF_INT,
      race_accounts_field(kafka_session_timeout_ms),
      "10000", 6000, 300000, NULL, NULL },

    { "mongo_uri", RACE_CONF_STR, race_accounts_field(mongo_uri),
      "mongodb://127.0.0.1:27017/", 1, 4096, NULL,
      race_store_mongo_check_uri },

    { "mongo_db", RACE_CONF_STR, race_accounts_field(mongo_db),
      "ngx_race", 1, 63, NULL, race_store_mongo_check_db },

    { "mongo_timeout_ms", RACE_CONF_INT,
      race_accounts_field(mongo_timeout_ms),
      "5000", 100, 600000, NULL, NULL },

    { "redis_host", RACE_CONF_STR, race_accounts_field(redis_host),
      "127.0.0.1", 1, 255, NULL, NULL },

    { "redis_port", RACE_CONF_INT, race_accounts_field(redis_port),
      "6379", 1, 65535, NULL, NULL },

    { "redis_timeout_ms", RACE_CONF_INT,
      race_accounts_field(redis_timeout_ms),
      "2000", 100, 60000, NULL, NULL },

    { "reload_check_ms", RACE_CONF_INT,
      race_accounts_field(reload_check_ms),
      "1000", 100, 60000, NULL, NULL },

    { "reload_batch", RACE_CONF_INT, race_accounts_field(reload_batch),
      "500", 1, 10000, NULL, NULL },

    { "retry_max_ms", RACE_CONF_INT, race_accounts_field(retry_max_ms),
      "2000", 100, 60000, NULL, NULL },

    { "stop_timeout_ms", RACE_CONF_INT,
      race_accounts_field(stop_timeout_ms),
      "10000", 0, 600000, NULL, NULL },

    { "log_level", RACE_CONF_ENUM, race_accounts_field(log_level),
      "info", 0, 0, race_accounts_levels, NULL },

    { NULL, 0, 0, NULL, 0, 0, NULL, NULL }
};


int
main(int argc, char **argv)
{
    int                    rc;
    race_accounts_t       *ra;
    race_accounts_args_t   args;

    ra = calloc(1, sizeof(race_accounts_t));
    if (ra == NULL) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": out of memory\n");
        return RACE_ACCOUNTS_EXIT_FAIL;
    }

    /* every setting is checked before anything is connected */

    if (race_accounts_options(argc, argv, &ra->conf, &args) != 0) {
        race_conf_free(race_accounts_settings, &ra->conf);
        free(ra);
        return RACE_ACCOUNTS_EXIT_USAGE;
    }

    if (args.test) {
        printf(RACE_ACCOUNTS_NAME ": settings are fine\n");
        race_conf_free(race_accounts_settings, &ra->conf);
        free(ra);
        return RACE_ACCOUNTS_EXIT_OK;
    }

    race_log_init(RACE_ACCOUNTS_NAME, ra->conf.log_level);

    if (args.admin_email != NULL || args.revoke_jti != NULL) {
        rc = args.admin_email != NULL ? race_accounts_create_admin(ra, &args)
                                      : race_accounts_revoke_token(ra, &args);
        race_conf_free(race_accounts_settings, &ra->conf);
        free(ra);
        return rc;
    }

    if (race_signal_init() != 0) {
        race_conf_free(race_accounts_settings, &ra->conf);
        free(ra);
        return RACE_ACCOUNTS_EXIT_FAIL;
    }

    race_log(RACE_LOG_INFO, "starting: kafka %s, mongo db %s, redis %s:%d",
             ra->conf.kafka_brokers, ra->conf.mongo_db, ra->conf.redis_host,
             (int) ra->conf.redis_port);

    rc = RACE_ACCOUNTS_EXIT_FAIL;

    if (race_accounts_open(ra, 1) == 0 && race_accounts_run(ra) == 0) {
        rc = RACE_ACCOUNTS_EXIT_OK;
    }

    race_accounts_close(ra);

    if (ra->abandoned) {
        rc = RACE_ACCOUNTS_EXIT_FAIL;
    }

    race_log(RACE_LOG_INFO, "stopped%s: %llu messages, %llu malformed, "
             "%llu applied, %llu refused, %llu expired, %llu users loaded, "
             "%llu revocations loaded",
             rc == RACE_ACCOUNTS_EXIT_OK ? "" : " on an error",
             (unsigned long long) ra->messages,
             (unsigned long long) ra->malformed,
             (unsigned long long) ra->applied_ok,
             (unsigned long long) ra->refused,
             (unsigned long long) ra->expired,
             (unsigned long long) ra->loads,
             (unsigned long long) ra->rev_loads);

    race_conf_free(race_accounts_settings, &ra->conf);
    free(ra);

    return rc;
}


static int
race_accounts_options(int argc, char **argv, race_accounts_conf_t *conf,
    race_accounts_args_t *args)
{
    int           i, nsets;
    char          err[RACE_CONF_ERR_MAX];
    const char   *file, *sets[RACE_ACCOUNTS_MAX_SETS], **dst;

    file = NULL;
    nsets = 0;
    memset(args, 0, sizeof(race_accounts_args_t));

    for (i = 1; i < argc; i++) {

        dst = NULL;

        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            file = argv[++i];

        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
            if (nsets == RACE_ACCOUNTS_MAX_SETS) {
                fprintf(stderr, RACE_ACCOUNTS_NAME ": more than %d --set\n",
                        RACE_ACCOUNTS_MAX_SETS);
                return -1;
            }

            sets[nsets++] = argv[++i];

        } else if (strncmp(argv[i], "--set=", 6) == 0) {
            if (nsets == RACE_ACCOUNTS_MAX_SETS) {
                fprintf(stderr, RACE_ACCOUNTS_NAME ": more than %d --set\n",
                        RACE_ACCOUNTS_MAX_SETS);
                return -1;
            }

            sets[nsets++] = argv[i] + 6;

        } else if (strcmp(argv[i], "-t") == 0) {
            args->test = 1;

        } else if (strcmp(argv[i], "--create-admin") == 0) {
            dst = &args->admin_email;

        } else if (strcmp(argv[i], "--name") == 0) {
            dst = &args->admin_name;

        } else if (strcmp(argv[i], "--password-file") == 0) {
            dst = &args->password_file;

        } else if (strcmp(argv[i], "--common-passwords") == 0) {
            dst = &args->common_passwords;

        } else if (strcmp(argv[i], "--revoke-rider-token") == 0) {
            dst = &args->revoke_jti;

        } else if (strcmp(argv[i], "--until") == 0) {
            dst = &args->revoke_until;

        } else if (strcmp(argv[i], "-h") == 0
                   || strcmp(argv[i], "--help") == 0)
        {
            race_accounts_usage(stdout);
            return -1;

        } else {
            fprintf(stderr, RACE_ACCOUNTS_NAME ": bad argument \"%s\"\n",
                    argv[i]);
            race_accounts_usage(stderr);
            return -1;
        }

        if (dst != NULL) {
            if (i + 1 == argc) {
                fprintf(stderr, RACE_ACCOUNTS_NAME ": %s needs a value\n",
                        argv[i]);
                return -1;
            }

            *dst = argv[++i];
        }
    }

    if (args->admin_email != NULL
        && (args->admin_name == NULL || args->password_file == NULL))
    {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --create-admin needs --name "
                "and --password-file\n");
        return -1;
    }

    if (args->admin_email == NULL
        && (args->admin_name != NULL || args->password_file != NULL
            || args->common_passwords != NULL))
    {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --name, --password-file and "
                "--common-passwords go with --create-admin\n");
        return -1;
    }

    if ((args->revoke_jti == NULL) != (args->revoke_until == NULL)) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --revoke-rider-token and "
                "--until go together\n");
        return -1;
    }

    if (args->revoke_jti != NULL && args->admin_email != NULL) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --revoke-rider-token or "
                "--create-admin, not both\n");
        return -1;
    }

    if (race_conf_defaults(race_accounts_settings, conf, err, sizeof(err))
        != 0
        || (file != NULL
            && race_conf_load(race_accounts_settings, conf, file, err,
                              sizeof(err)) != 0))
    {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": %s\n", err);
        return -1;
    }

    for (i = 0; i < nsets; i++) {
        if (race_conf_set_arg(race_accounts_settings, conf, sets[i], err,
                              sizeof(err))
            != 0)
        {
            fprintf(stderr, RACE_ACCOUNTS_NAME ": %s\n", err);
            return -1;
        }
    }

    return 0;
}


static void
race_accounts_usage(FILE *f)
{
    const race_conf_setting_t  *s;

    fprintf(f, "usage: " RACE_ACCOUNTS_NAME
            " [-c FILE] [--set name=value]... [-t]\n"
            "       " RACE_ACCOUNTS_NAME
            " [-c FILE] [--set name=value]... --create-admin EMAIL\n"
            "           --name NAME --password-file FILE"
            " [--common-passwords FILE]\n"
            "       " RACE_ACCOUNTS_NAME
            " [-c FILE] [--set name=value]... --revoke-rider-token JTI\n"
            "           --until EXP\n"
            "settings (default):\n");

    for (s = race_accounts_settings; s->name != NULL; s++) {
        fprintf(f, "  %-26s %s\n", s->name, s->dflt);
    }
}


/* queue: 0 for --create-admin, which needs no Kafka */

static int
race_accounts_open(race_accounts_t *ra, int queue)
{
    race_queue_kafka_conf_t     kc;
    race_accounts_redis_conf_t  rc;

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

    ra->mongo = race_accounts_mongo_open(ra->conf.mongo_uri,
                                         ra->conf.mongo_db,
                                         RACE_ACCOUNTS_NAME,
                                         (int) ra->conf.mongo_timeout_ms);
    if (ra->mongo == NULL) {
        return -1;
    }

    rc.host = ra->conf.redis_host;
    rc.port = (int) ra->conf.redis_port;
    rc.timeout_ms = (int) ra->conf.redis_timeout_ms;
    rc.retry_max_ms = (int) ra->conf.retry_max_ms;
    rc.max_users = (size_t) ra->conf.reload_batch;

    ra->redis = race_accounts_redis_open(&rc);
    if (ra->redis == NULL) {
        return -1;
    }

    if (!queue) {
        return 0;
    }

    kc.brokers = ra->conf.kafka_brokers;
    kc.topic = ra->conf.kafka_topic;
    kc.group = ra->conf.kafka_group;
    kc.instance_id = ra->conf.kafka_instance_id;
    kc.client_id = RACE_ACCOUNTS_NAME;
    kc.commit_interval_ms = (int) ra->conf.kafka_commit_ms;
    kc.session_timeout_ms = (int) ra->conf.kafka_session_timeout_ms;
    kc.log_level = ra->conf.log_level;

    ra->queue = race_queue_kafka_open(&kc, race_accounts_drain, ra);
    if (ra->queue == NULL) {
        return -1;
    }

    return 0;
}


/* closing the queue commits synchronously and leaves the group */

static void
race_accounts_close(race_accounts_t *ra)
{
    if (ra->queue != NULL) {
        if (ra->batch.n > 0) {
            ra->queue->ops->release(ra->queue, &ra->batch);
        }

        ra->queue->ops->close(ra->queue);
        ra->queue = NULL;
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


/* 0 when stopped by a signal, -1 on a fatal error */

static int
race_accounts_run(race_accounts_t *ra)
{
    int       rc;
    int64_t   now, wait;

    ra->next_check = 0;

    while (!race_signal_stop) {

        now = race_time_mono_ms();

        if (now >= ra->next_check) {
            race_accounts_check(ra);
            ra->next_check = race_time_mono_ms() + ra->conf.reload_check_ms;
            continue;
        }

        if (race_signal_hup) {
            race_signal_hup = 0;
            race_log(RACE_LOG_INFO, "SIGHUP ignored: logs go to stderr, "
                     "a restart applies new settings");
        }

        wait = ra->next_check - now;

        if (wait > RACE_ACCOUNTS_POLL_MS) {
            wait = RACE_ACCOUNTS_POLL_MS;
        }

        rc = ra->queue->ops->poll(ra->queue, &ra->batch, (int) wait);

        if (rc == RACE_QUEUE_ERROR) {
            return -1;
        }

        if (rc == RACE_QUEUE_OK) {
            race_accounts_take(ra);
            (void) race_accounts_flush(ra);
        }
    }

    race_log(RACE_LOG_INFO, "signal %d: stopping",
             (int) race_signal_stop_signo);

    return 0;
}


/* the message just polled becomes the command in hand */

static void
race_accounts_take(race_accounts_t *ra)
{
    char               err[256];
    race_queue_msg_t  *msg;

    msg = &ra->batch.msgs[0];

    ra->messages++;
    ra->applied = 0;
    ra->has_user = 0;
    ra->has_rev = 0;
    ra->reply_len = 0;
    ra->outcome = "ok";

    if (race_accounts_cmd_parse(msg->data, msg->len, &ra->cmd, err,
                                sizeof(err))
        == 0)
    {
        race_log(RACE_LOG_DEBUG, "message %s: %s of %s, request %s",
                 msg->where, race_accounts_ops[ra->cmd.op],
                 ra->cmd.user.id, ra->cmd.req);
        return;
    }

    /* poison: answered if it can be, then committed */

    ra->malformed++;
    ra->applied = 1;

    race_log(RACE_LOG_WARN, "bad command %s: %s%s", msg->where, err,
             ra->cmd.reply[0] ? "; answered bad_command"
                              : "; no reply channel to answer on");

    if (ra->cmd.reply[0]) {
        race_accounts_refuse(ra, "bad_command");
    }
}


/*
 * Applies the command in hand, retrying until it is applied, then
 * commits it.  Gives up only when stopping and stop_timeout_ms has
 * passed: the command is then released uncommitted, for the group to
 * deliver again.
 */

static int
race_accounts_flush(race_accounts_t *ra)
{
    int64_t   delay, now;
    unsigned  failures;

    delay = RACE_ACCOUNTS_RETRY_MS;
    failures = 0;

    while (race_accounts_write(ra) != 0) {

        failures++;
        now = race_time_mono_ms();

        if (race_signal_stop) {
            if (ra->stop_at == 0) {
                ra->stop_at = now + ra->conf.stop_timeout_ms;
            }

            if (now >= ra->stop_at) {
                race_log(RACE_LOG_ERROR, "stopping with the command %s not "
                         "applied; it will be delivered again",
                         ra->batch.msgs[0].where);

                ra->queue->ops->release(ra->queue, &ra->batch);
                ra->abandoned = 1;

                return -1;
            }
        }

        race_log(failures == 1 ? RACE_LOG_WARN : RACE_LOG_DEBUG,
                 "the command %s was not applied, retrying every %lld ms "
                 "at most", ra->batch.msgs[0].where,
                 (long long) ra->conf.retry_max_ms);

        race_accounts_wait(delay);

        delay *= 2;
        if (delay > ra->conf.retry_max_ms) {
            delay = ra->conf.retry_max_ms;
        }
    }

    if (failures > 0) {
        race_log(RACE_LOG_INFO, "the command %s was applied after %u "
                 "retries", ra->batch.msgs[0].where, failures);
    }

    if (ra->cmd.op != RACE_ACCOUNTS_NONE) {
        if (strcmp(ra->outcome, "ok") == 0) {
            ra->applied_ok++;

        } else if (strcmp(ra->outcome, "expired") != 0) {
            ra->refused++;
        }

        /* role changes are worth an audit trail */

        if (ra->cmd.op == RACE_ACCOUNTS_ROLE) {
            race_log(RACE_LOG_INFO, "role of %s to %s by %s: %s",
                     ra->cmd.user.id, ra->cmd.user.role, ra->cmd.by,
                     ra->outcome);

        } else if (ra->cmd.op == RACE_ACCOUNTS_REVOKE) {
            race_log(RACE_LOG_INFO, "rider token %s revoked until %lld: %s",
                     ra->cmd.jti, (long long) ra->rev.exp, ra->outcome);

        } else {
            race_log(RACE_LOG_DEBUG, "%s of %s: %s",
                     race_accounts_ops[ra->cmd.op], ra->cmd.user.id,
                     ra->outcome);
        }
    }

    /* only now: the offset covers nothing that is not applied */
    ra->queue->ops->commit(ra->queue, &ra->batch);

    return 0;
}


/* MongoDB once, then Redis and the reply: 0, or -1 to retry */

static int
race_accounts_write(race_accounts_t *ra)
{
    if (!ra->applied) {
        if (race_accounts_expired(ra)) {
            return 0;
        }

        if (race_accounts_apply(ra) != 0) {
            return -1;
        }

        ra->applied = 1;
    }

    if (ra->has_rev) {
        return race_accounts_redis_revoke(ra->redis, &ra->rev, 1,
                                          race_time_wall_ms() / 1000, 1,
                                          ra->reply_len ? ra->cmd.reply
                                                        : NULL,
                                          ra->reply, ra->reply_len)
               == RACE_ACCOUNTS_REDIS_OK ? 0 : -1;
    }

    if (!ra->has_user && ra->reply_len == 0) {
        return 0;
    }

    if (race_accounts_redis_apply(ra->redis, &ra->user, ra->has_user,
                                  ra->reply_len ? ra->cmd.reply : NULL,
                                  ra->reply, ra->reply_len)
        != RACE_ACCOUNTS_REDIS_OK)
    {
        return -1;
    }

    return 0;
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


static void
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


/*
 * At the start and every reload_check_ms: the unique index, and every
 * user in Redis again if it came back without race:users:loaded.  A
 * failure is logged where it happens and tried again at the next check.
 */

static void
race_accounts_check(race_accounts_t *ra)
{
    int      rc;
    size_t   n;
    int64_t  start;

    (void) race_accounts_index(ra);

    race_accounts_check_revocations(ra);

    rc = race_accounts_redis_loaded(ra->redis, RACE_ACCOUNTS_REDIS_USERS);

    if (rc != 0) {
        return;
    }

    race_log(RACE_LOG_INFO, "redis has no race:users:loaded: loading the "
             "users from MongoDB");

    start = race_time_mono_ms();
    ra->nusers = 0;

    if (race_accounts_mongo_each(ra->mongo, race_accounts_load_user, ra, &n)
        != RACE_ACCOUNTS_MONGO_OK
        || (ra->nusers > 0
            && race_accounts_redis_apply(ra->redis, ra->users, ra->nusers,
                                         NULL, NULL, 0)
               != RACE_ACCOUNTS_REDIS_OK)
        || race_accounts_redis_set_loaded(ra->redis,
                                          RACE_ACCOUNTS_REDIS_USERS)
           != RACE_ACCOUNTS_REDIS_OK)
    {
        race_log(RACE_LOG_WARN, "the users were not loaded into redis; "
                 "trying again in %lld ms",
                 (long long) ra->conf.reload_check_ms);
        return;
    }

    ra->loads += n;

    race_log(RACE_LOG_INFO, "loaded %zu users into redis in %lld ms", n,
             (long long) (race_time_mono_ms() - start));
}


static int
race_accounts_load_user(const race_accounts_user_t *user, void *data)
{
    race_accounts_t  *ra = data;

    ra->users[ra->nusers++] = *user;

    if (ra->nusers < (size_t) ra->conf.reload_batch) {
        return 0;
    }

    if (race_accounts_redis_apply(ra->redis, ra->users, ra->nusers, NULL,
                                  NULL, 0)
        != RACE_ACCOUNTS_REDIS_OK)
    {
        return -1;
    }

    ra->nusers = 0;

    return 0;
}


/*
 * The same for the revocations, first: until they are back nginx lets
 * no rider in.  Only those whose tokens have not expired are written.
 */

static void
race_accounts_check_revocations(race_accounts_t *ra)
{
    size_t   n;
    int64_t  start;

    if (race_accounts_redis_loaded(ra->redis, RACE_ACCOUNTS_REDIS_REVOCATIONS)
        != 0)
    {
        return;
    }

    race_log(RACE_LOG_INFO, "redis has no " RACE_ACCOUNTS_REDIS_REVOCATIONS
             ": loading the revocations from MongoDB");

    start = race_time_mono_ms();
    ra->now = race_time_wall_ms() / 1000;
    ra->nrevs = 0;

    if (race_accounts_mongo_each_revocation(ra->mongo,
                                            ra->now - RACE_JWT_RIDE_LEEWAY,
                                            race_accounts_load_revocation,
                                            ra, &n)
        != RACE_ACCOUNTS_MONGO_OK
        || (ra->nrevs > 0
            && race_accounts_redis_revoke(ra->redis, ra->revs, ra->nrevs,
                                          ra->now, 0, NULL, NULL, 0)
               != RACE_ACCOUNTS_REDIS_OK)
        || race_accounts_redis_set_loaded(ra->redis,
                                          RACE_ACCOUNTS_REDIS_REVOCATIONS)
           != RACE_ACCOUNTS_REDIS_OK)
    {
        race_log(RACE_LOG_WARN, "the revocations were not loaded into "
                 "redis; trying again in %lld ms",
                 (long long) ra->conf.reload_check_ms);
        return;
    }

    ra->rev_loads += n;

    race_log(RACE_LOG_INFO, "loaded %zu revocations into redis in %lld ms",
             n, (long long) (race_time_mono_ms() - start));
}


static int
race_accounts_load_revocation(const race_accounts_revocation_t *rev,
    void *data)
{
    race_accounts_t  *ra = data;

    ra->revs[ra->nrevs++] = *rev;

    if (ra->nrevs < (size_t) ra->conf.reload_batch) {
        return 0;
    }

    if (race_accounts_redis_revoke(ra->redis, ra->revs, ra->nrevs, ra->now,
                                   0, NULL, NULL, 0)
        != RACE_ACCOUNTS_REDIS_OK)
    {
        return -1;
    }

    ra->nrevs = 0;

    return 0;
}


static int
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


/* waits between retries, and ends early on a signal */

static void
race_accounts_wait(int64_t ms)
{
    int64_t  now, end, left;
    int      stopping;

    stopping = race_signal_stop;
    end = race_time_mono_ms() + ms;

    for ( ;; ) {
        now = race_time_mono_ms();

        if (now >= end || race_signal_stop != stopping) {
            return;
        }

        left = end - now;

        race_time_sleep_ms(left < RACE_ACCOUNTS_POLL_MS
                           ? left : RACE_ACCOUNTS_POLL_MS);
    }
}


/*
 * The queue gives up partitions.  A command is applied before the next
 * poll, so none is in hand here; if one ever is, it is finished first.
 */

static void
race_accounts_drain(race_queue_t *q, void *data)
{
    race_accounts_t  *ra = data;

    (void) q;

    if (ra->batch.n > 0) {
        race_log(RACE_LOG_INFO, "rebalance: applying the command in hand "
                 "first");
        (void) race_accounts_flush(ra);
    }
}


/* --create-admin: exit codes as main()'s */

static int
race_accounts_create_admin(race_accounts_t *ra,
    const race_accounts_args_t *args)
{
    int                   rc;
    race_accounts_user_t  user;

    rc = race_accounts_admin_user(args, &user);
    if (rc != RACE_ACCOUNTS_EXIT_OK) {
        return rc;
    }

    rc = RACE_ACCOUNTS_EXIT_FAIL;

    if (race_accounts_open(ra, 0) == 0
        && race_accounts_admin_write(ra, &user) == 0)
    {
        printf("%s\n", user.id);

        if (fflush(stdout) == 0) {
            rc = RACE_ACCOUNTS_EXIT_OK;
        }
    }

    race_accounts_close(ra);

    explicit_bzero(&user, sizeof(race_accounts_user_t));

    return rc;
}


/* the new admin's document, the password hashed: exit codes */

static int
race_accounts_admin_user(const race_accounts_args_t *args,
    race_accounts_user_t *user)
{
    int                    rc;
    char                   password[RACE_PASSWORD_BYTES_MAX + 3];
    size_t                 len;
    const char            *reason;
    race_password_list_t   list;

    memset(user, 0, sizeof(race_accounts_user_t));
    memset(&list, 0, sizeof(race_password_list_t));

    if (race_email_normalize(args->admin_email, strlen(args->admin_email),
                             user->email, sizeof(user->email))
        == 0)
    {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --create-admin: not a valid "
                "email\n");
        return RACE_ACCOUNTS_EXIT_USAGE;
    }

    len = strlen(args->admin_name);

    if (!race_name_valid(args->admin_name, len)) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --name: not a valid name (1 "
                "to %d characters of UTF-8, no control characters)\n",
                RACE_NAME_MAX);
        return RACE_ACCOUNTS_EXIT_USAGE;
    }

    memcpy(user->name, args->admin_name, len + 1);

    if (args->common_passwords != NULL
        && race_accounts_read_list(args->common_passwords, &list) != 0)
    {
        return RACE_ACCOUNTS_EXIT_USAGE;
    }

    rc = RACE_ACCOUNTS_EXIT_USAGE;

    if (race_accounts_read_password(args->password_file, password,
                                    sizeof(password), &len)
        != 0)
    {
        goto done;
    }

    reason = race_password_check_policy(password, len,
                                        args->common_passwords ? &list
                                                               : NULL);
    if (reason != NULL) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": the password of %s: %s\n",
                args->password_file, reason);
        goto done;
    }

    rc = RACE_ACCOUNTS_EXIT_FAIL;

    if (race_password_hash(password, len, user->hash, sizeof(user->hash))
        != 0)
    {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": the password could not be "
                "hashed\n");
        goto done;
    }

    if (race_user_id_generate(user->id) != 0) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": no random bytes for a user "
                "id\n");
        goto done;
    }

    memcpy(user->role, "admin", sizeof("admin"));
    user->gen = 1;
    user->created = race_time_wall_ms();

    rc = RACE_ACCOUNTS_EXIT_OK;

done:

    explicit_bzero(password, sizeof(password));
    race_password_list_free(&list);

    return rc;
}


/* the first line of the file, without its line end: 0, or -1, said */

static int
race_accounts_read_password(const char *path, char *buf, size_t size,
    size_t *len)
{
    int          fd;
    char        *nl;
    size_t       n;
    ssize_t      got;
    struct stat  st;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --password-file %s: %s\n",
                path, strerror(errno));
        return -1;
    }

    if (fstat(fd, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": warning: --password-file %s "
                "may be read by others (mode %03o): make it 600\n", path,
                (unsigned) (st.st_mode & 0777));
    }

    n = 0;

    /* one byte more than a password and its CRLF: too long is refused */

    while (n < size - 1) {
        got = read(fd, buf + n, size - 1 - n);

        if (got == -1 && errno == EINTR) {
            continue;
        }

        if (got == -1) {
            fprintf(stderr, RACE_ACCOUNTS_NAME ": --password-file %s: %s\n",
                    path, strerror(errno));
            close(fd);
            return -1;
        }

        if (got == 0) {
            break;
        }

        n += (size_t) got;
    }

    close(fd);
    buf[n] = '\0';

    nl = memchr(buf, '\n', n);
    if (nl != NULL) {
        n = (size_t) (nl - buf);
    }

    if (n > 0 && buf[n - 1] == '\r') {
        n--;
    }

    if (nl == NULL && n == size - 1) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --password-file %s: longer "
                "than any password may be\n", path);
        return -1;
    }

    buf[n] = '\0';
    *len = n;

    return 0;
}


static int
race_accounts_read_list(const char *path, race_password_list_t *list)
{
    int     rc;
    char   *data;
    long    size;
    FILE   *f;
    size_t  n;

    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --common-passwords %s: %s\n",
                path, strerror(errno));
        return -1;
    }

    data = NULL;
    rc = -1;

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || size > RACE_ACCOUNTS_LIST_MAX || fseek(f, 0, SEEK_SET) != 0)
    {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --common-passwords %s: not "
                "a readable file of at most %d bytes\n", path,
                RACE_ACCOUNTS_LIST_MAX);
        goto done;
    }

    data = malloc((size_t) size + 1);
    if (data == NULL) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": out of memory\n");
        goto done;
    }

    n = fread(data, 1, (size_t) size, f);

    if (n != (size_t) size || ferror(f)) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --common-passwords %s: "
                "cannot read it\n", path);
        goto done;
    }

    if (race_password_list_load(data, n, list) != 0) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": out of memory\n");
        goto done;
    }

    rc = 0;

done:

    free(data);
    fclose(f);

    return rc;
}


/*
 * Inserts the admin, or makes the user of that email one, then writes
 * the user to Redis; on success user is what was written.  One try:
 * whoever runs it sees the error and runs it again.
 */

static int
race_accounts_admin_write(race_accounts_t *ra, race_accounts_user_t *user)
{
    int                   rc;
    race_accounts_user_t  stored;

    if (race_accounts_mongo_index(ra->mongo) != RACE_ACCOUNTS_MONGO_OK) {
        race_log(RACE_LOG_ERROR, "mongo: no unique index on users.email: "
                 "nothing was written");
        return -1;
    }

    rc = race_accounts_mongo_insert(ra->mongo, user);

    if (rc == RACE_ACCOUNTS_MONGO_OK) {
        race_log(RACE_LOG_INFO, "admin %s created", user->id);

    } else if (rc == RACE_ACCOUNTS_MONGO_DUPLICATE) {

        rc = race_accounts_mongo_get_email(ra->mongo, user->email, &stored);

        if (rc != RACE_ACCOUNTS_MONGO_OK) {
            race_log(RACE_LOG_ERROR, "mongo: the email is taken, but its "
                     "user could not be read");
            return -1;
        }

        if (strcmp(stored.role, "admin") != 0) {
            rc = race_accounts_mongo_bump(ra->mongo, stored.id, stored.gen,
                                          "admin", &stored);

            if (rc != RACE_ACCOUNTS_MONGO_OK) {
                race_log(RACE_LOG_ERROR, "mongo: user %s could not be made "
                         "an admin%s", stored.id,
                         rc == RACE_ACCOUNTS_MONGO_NONE
                         ? " (it changed meanwhile: run it again)" : "");
                return -1;
            }

            race_log(RACE_LOG_INFO, "user %s of that email is an admin now "
                     "(name and password unchanged)", stored.id);

        } else {
            race_log(RACE_LOG_INFO, "user %s of that email is an admin "
                     "already (name and password unchanged)", stored.id);
        }

        *user = stored;

    } else {
        race_log(RACE_LOG_ERROR, "mongo: the admin was not written");
        return -1;
    }

    if (race_accounts_redis_apply(ra->redis, user, 1, NULL, NULL, 0)
        != RACE_ACCOUNTS_REDIS_OK)
    {
        race_log(RACE_LOG_ERROR, "redis: user %s is in MongoDB but not in "
                 "redis: run it again", user->id);
        return -1;
    }

    return 0;
}


/*
 * --revoke-rider-token: MongoDB, then Redis and nginx, one try each, as
 * the revoke command does: exit codes as main()'s.
 */

static int
race_accounts_revoke_token(race_accounts_t *ra,
    const race_accounts_args_t *args)
{
    int                          rc;
    char                        *end;
    long long                    exp;
    race_accounts_revocation_t   rev;

    memset(&rev, 0, sizeof(race_accounts_revocation_t));

    if (!race_id_valid(args->revoke_jti, strlen(args->revoke_jti))) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --revoke-rider-token: not a "
                "token id (1 to %d of [A-Za-z0-9_-])\n", RACE_JWT_ID_MAX);
        return RACE_ACCOUNTS_EXIT_USAGE;
    }

    errno = 0;
    exp = strtoll(args->revoke_until, &end, 10);

    if (errno != 0 || end == args->revoke_until || *end != '\0' || exp < 1
        || exp > RACE_ACCOUNTS_EXP_MAX)
    {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --until: \"%s\" is not the "
                "token's exp (Unix seconds)\n", args->revoke_until);
        return RACE_ACCOUNTS_EXIT_USAGE;
    }

    memcpy(rev.jti, args->revoke_jti, strlen(args->revoke_jti) + 1);
    rev.exp = (int64_t) exp;

    rc = RACE_ACCOUNTS_EXIT_FAIL;

    if (race_accounts_open(ra, 0) != 0) {
        goto done;
    }

    if (race_accounts_mongo_revoke(ra->mongo, &rev, race_time_wall_ms())
        != RACE_ACCOUNTS_MONGO_OK)
    {
        race_log(RACE_LOG_ERROR, "mongo: the revocation was not recorded");
        goto done;
    }

    if (race_accounts_redis_revoke(ra->redis, &rev, 1,
                                   race_time_wall_ms() / 1000, 1, NULL,
                                   NULL, 0)
        != RACE_ACCOUNTS_REDIS_OK)
    {
        race_log(RACE_LOG_ERROR, "redis: rider token %s is revoked in "
                 "MongoDB but not in redis: run it again", rev.jti);
        goto done;
    }

    race_log(RACE_LOG_INFO, "rider token %s revoked until %lld", rev.jti,
             (long long) rev.exp);

    rc = RACE_ACCOUNTS_EXIT_OK;

done:

    race_accounts_close(ra);

    return rc;
}
