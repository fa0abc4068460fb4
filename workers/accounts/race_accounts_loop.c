
/*
 * race-accounts: the loop.  One command at a time, in order: parsed,
 * applied (race_accounts_apply.c) and retried until it is, then its
 * offset stored; and, at the start and every reload_check_ms, the users
 * and revocations loaded into Redis again if it came back empty.
 */


#include <stdint.h>
#include <string.h>

#include "race_accounts.h"
#include "race_log.h"
#include "race_signal.h"
#include "race_time.h"


/* how often the races move by the clock: start_at and close_at */
#define RACE_ACCOUNTS_TICK_MS  1000


static void race_accounts_take(race_accounts_t *ra);
static int race_accounts_take_race(race_accounts_t *ra);
static int race_accounts_flush(race_accounts_t *ra);
static void race_accounts_check(race_accounts_t *ra);
static int race_accounts_load_user(const race_accounts_user_t *user,
    void *data);
static void race_accounts_check_revocations(race_accounts_t *ra);
static int race_accounts_load_revocation(
    const race_accounts_revocation_t *rev, void *data);
static void race_accounts_count(race_accounts_t *ra, unsigned type);
static void race_accounts_poison(race_accounts_t *ra);


static const char *const  race_accounts_outcomes[] = {
    "ok", "refused", "expired"
};


void
race_accounts_metrics(race_accounts_t *ra)
{
    unsigned                t, o;
    const char             *type;
    race_promtext_label_t   l[2];

    static const char  *help = "Commands handled, by type and outcome "
                               "(refused: answered with an error code)";

    l[0].name = "type";
    l[1].name = "outcome";

    for (t = 0; t < RACE_ACCOUNTS_TYPES; t++) {
        type = t < RACE_ACCOUNTS_REVOKE
               ? race_accounts_ops[t + 1]
               : race_races_op_name(t - RACE_ACCOUNTS_REVOKE + 1);

        for (o = 0; o < RACE_ACCOUNTS_OUTCOMES; o++) {
            l[0].value = type;
            l[1].value = race_accounts_outcomes[o];
            ra->commands[t][o] = race_metrics_counter(
                "race_accounts_commands_total", help, l, 2);
        }
    }

    l[0].value = "unknown";
    l[1].value = "malformed";
    ra->poisoned = race_metrics_counter("race_accounts_commands_total",
                                        help, l, 2);

    /*
     * /readyz: a command is answered once we hold partitions and have
     * reached MongoDB (the index) and Redis (the users loaded there,
     * where the replies go too)
     */
    race_metrics_ready_need(RACE_METRICS_READY_QUEUE
                            | RACE_METRICS_READY_SERVERS);
}


/* 0 when stopped by a signal, -1 on a fatal error */

int
race_accounts_run(void *data)
{
    int               rc;
    int64_t           now, wait;
    race_accounts_t  *ra = data;

    ra->next_check = 0;
    ra->next_tick = 0;

    while (!race_signal_stop) {

        race_metrics_beat();

        now = race_time_mono_ms();

        if (now >= ra->next_check) {
            race_accounts_check(ra);
            ra->next_check = race_time_mono_ms() + ra->conf.reload_check_ms;
            continue;
        }

        if (now >= ra->next_tick) {
            race_accounts_races_tick(ra);
            ra->next_tick = race_time_mono_ms() + RACE_ACCOUNTS_TICK_MS;
            continue;
        }

        race_daemon_hup();

        wait = ra->next_check - now;

        if (wait > ra->next_tick - now) {
            wait = ra->next_tick - now;
        }

        if (wait > RACE_DAEMON_POLL_MS) {
            wait = RACE_DAEMON_POLL_MS;
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
    ra->poison = 0;

    if (race_accounts_take_race(ra) == 0) {
        return;
    }

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

    race_accounts_poison(ra);

    race_log(RACE_LOG_WARN, "bad command %s: %s%s", msg->where, err,
             ra->cmd.reply[0] ? "; answered bad_command"
                              : "; no reply channel to answer on");

    if (ra->cmd.reply[0]) {
        race_accounts_refuse(ra, "bad_command");
    }
}


/*
 * The message just polled, if it is a race command: 0, or -1 if it is
 * for race_accounts_cmd_parse()
 */

static int
race_accounts_take_race(race_accounts_t *ra)
{
    int                rc;
    char               err[256];
    race_queue_msg_t  *msg;

    msg = &ra->batch.msgs[0];

    ra->is_race = 0;
    ra->cmd.op = RACE_ACCOUNTS_NONE;
    race_races_cmd_free(&ra->rcmd);
    race_accounts_races_reset(ra);

    rc = race_races_cmd_parse(msg->data, msg->len, &ra->rcmd, err,
                              sizeof(err));

    if (rc == 1) {
        return -1;
    }

    ra->is_race = 1;

    if (rc == 0) {
        race_log(RACE_LOG_DEBUG, "message %s: %s of race %s by %s, request "
                 "%s", msg->where, race_races_op_name(ra->rcmd.op),
                 ra->rcmd.race, ra->rcmd.by, ra->rcmd.req);
        return 0;
    }

    /* poison: answered if it can be, then committed */

    race_accounts_poison(ra);
    ra->outcome = "bad_command";

    race_log(RACE_LOG_WARN, "bad command %s: %s%s", msg->where, err,
             ra->rcmd.reply[0] ? "; answered bad_command"
                               : "; no reply channel to answer on");

    if (ra->rcmd.reply[0]) {
        ra->race_reply = race_races_reply_error(ra->rcmd.req,
                                                "bad_command");
    }

    return 0;
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

    delay = RACE_DAEMON_RETRY_MS;
    failures = 0;

    while (race_accounts_write(ra) != 0) {

        failures++;
        now = race_time_mono_ms();

        race_metrics_add(race_metrics_worker.retries, 1);

        if (race_signal_stop) {
            if (ra->stop_at == 0) {
                ra->stop_at = now + ra->conf.daemon.stop_timeout_ms;
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
                 (long long) ra->conf.daemon.retry_max_ms);

        race_daemon_wait(delay, NULL, NULL);

        delay *= 2;
        if (delay > ra->conf.daemon.retry_max_ms) {
            delay = ra->conf.daemon.retry_max_ms;
        }
    }

    if (failures > 0) {
        race_log(RACE_LOG_INFO, "the command %s was applied after %u "
                 "retries", ra->batch.msgs[0].where, failures);
    }

    if (ra->is_race && ra->rcmd.op != RACE_RACES_NONE && !ra->poison) {
        race_accounts_count(ra, RACE_ACCOUNTS_REVOKE + ra->rcmd.op - 1);

        if (strcmp(ra->outcome, "ok") == 0) {
            ra->applied_ok++;

        } else if (strcmp(ra->outcome, "expired") != 0) {
            ra->refused++;
        }

        race_log(RACE_LOG_INFO, "%s of race %s by %s: %s",
                 race_races_op_name(ra->rcmd.op), ra->rcmd.race,
                 ra->rcmd.by, ra->outcome);
    }

    if (!ra->is_race && ra->cmd.op != RACE_ACCOUNTS_NONE && !ra->poison) {
        race_accounts_count(ra, ra->cmd.op - 1);

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

    race_accounts_races_check(ra);

    rc = race_accounts_redis_loaded(ra->redis, RACE_ACCOUNTS_REDIS_USERS);

    if (rc != 0) {
        if (rc == 1 && ra->indexed) {
            race_metrics_ready(RACE_METRICS_READY_SERVERS, 1);
        }

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

    if (ra->indexed) {
        race_metrics_ready(RACE_METRICS_READY_SERVERS, 1);
    }
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


/*
 * The queue gives up partitions.  A command is applied before the next
 * poll, so none is in hand here; if one ever is, it is finished first.
 */

void
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


/* the command in hand, applied or answered: counted by its outcome */

static void
race_accounts_count(race_accounts_t *ra, unsigned type)
{
    unsigned  o;

    if (type >= RACE_ACCOUNTS_TYPES) {
        return;
    }

    o = strcmp(ra->outcome, "ok") == 0 ? 0
        : strcmp(ra->outcome, "expired") == 0 ? 2 : 1;

    race_metrics_add(ra->commands[type][o], 1);
}


static void
race_accounts_poison(race_accounts_t *ra)
{
    ra->malformed++;
    ra->applied = 1;
    ra->poison = 1;

    race_metrics_add(race_metrics_worker.malformed, 1);
    race_metrics_add(ra->poisoned, 1);
}
