
/*
 * race-accounts: what its files share.
 *
 *   main.c                 the settings, opening and closing the clients
 *   race_accounts_loop.c   the loop: a command in hand, retried until
 *                          applied, then committed; Redis reloaded
 *   race_accounts_apply.c  applying a command to MongoDB, then Redis
 *   race_accounts_races.c  the same for the race commands; the races
 *                          moved by the clock; the races reloaded
 *   race_accounts_admin.c  --create-admin and --revoke-rider-token
 */


#ifndef _RACE_ACCOUNTS_H_INCLUDED_
#define _RACE_ACCOUNTS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_accounts_cmd.h"
#include "race_accounts_mongo.h"
#include "race_accounts_redis.h"
#include "race_accounts_races_mongo.h"
#include "race_accounts_races_redis.h"
#include "race_races_cmd.h"
#include "race_daemon.h"
#include "race_metrics.h"
#include "race_queue.h"


#define RACE_ACCOUNTS_NAME  "race-accounts"

/* the commands' types in metrics: the accounts' ops, then the races' */
#define RACE_ACCOUNTS_TYPES     (RACE_ACCOUNTS_REVOKE + RACE_RACES_TRACK)
#define RACE_ACCOUNTS_OUTCOMES  3           /* ok, refused, expired */


typedef struct {
    race_daemon_conf_t      daemon;     /* the settings of every daemon */
    int64_t                 reload_check_ms;
    int64_t                 reload_batch;
} race_accounts_conf_t;


/* what the command line asks besides settings */
typedef struct {
    const char             *admin_email;
    const char             *admin_name;
    const char             *password_file;
    const char             *common_passwords;
    const char             *revoke_jti;
    const char             *revoke_until;
} race_accounts_args_t;


typedef struct {
    race_accounts_conf_t    conf;
    race_accounts_args_t    args;

    race_queue_t           *queue;
    race_accounts_mongo_t  *mongo;
    race_accounts_redis_t  *redis;
    race_accounts_races_mongo_t  *races_mongo;
    race_accounts_races_redis_t  *races_redis;

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
    unsigned                is_race:1;  /* rcmd, not cmd */
    unsigned                poison:1;   /* malformed, counted so */

    /* a race command in hand: what goes to Redis, and the reply */
    race_races_cmd_t        rcmd;
    json_t                 *race_doc;
    char                   *race_reply;
    char                    race_user_gone[RACE_USER_ID_LEN + 1];

    /* reloading Redis from MongoDB */
    race_accounts_user_t   *users;
    size_t                  nusers;
    race_accounts_revocation_t  *revs;
    size_t                  nrevs;
    int64_t                 now;        /* Unix s, of the reload */
    int64_t                 next_check; /* monotonic ms */
    int64_t                 next_tick;  /* monotonic ms: races' clock */
    int64_t                 now_ms;     /* Unix ms, of the tick */
    unsigned                races_stale:1;  /* Redis missed a race */

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
    uint64_t                race_loads;
    uint64_t                moved;      /* races moved by the clock */

    /* race_accounts_commands_total by type (op) and outcome */
    race_metric_t          *commands[RACE_ACCOUNTS_TYPES]
                                    [RACE_ACCOUNTS_OUTCOMES];
    race_metric_t          *poisoned;  /* type unknown, malformed */
} race_accounts_t;


/* main.c; queue: 0 for the admin actions, which need no Kafka */
int race_accounts_open(race_accounts_t *ra, int queue);
void race_accounts_close(race_accounts_t *ra);

/* race_accounts_loop.c: the race_daemon_t run, and the queue's drain */
int race_accounts_run(void *data);
/* the metrics of the commands, registered once */
void race_accounts_metrics(race_accounts_t *ra);
void race_accounts_drain(race_queue_t *q, void *data);

/*
 * race_accounts_apply.c: the command in hand to MongoDB once, then to
 * Redis with its reply: 0, or -1 to retry
 */
int race_accounts_write(race_accounts_t *ra);
/* the command in hand is refused with code: the reply says so */
void race_accounts_refuse(race_accounts_t *ra, const char *code);
/* the unique index on users.email, made once: 0, or -1 (logged) */
int race_accounts_index(race_accounts_t *ra);

extern const char *const  race_accounts_ops[];

/*
 * race_accounts_races.c: the race command in hand, as
 * race_accounts_write(); reset() forgets what it made; tick() moves the
 * races whose time has come; check() reloads the races into Redis
 */
int race_accounts_races_write(race_accounts_t *ra);
void race_accounts_races_reset(race_accounts_t *ra);
void race_accounts_races_tick(race_accounts_t *ra);
void race_accounts_races_check(race_accounts_t *ra);

/* race_accounts_admin.c: the race_daemon_t option, options_done, command */
int race_accounts_admin_option(void *data, int argc, char **argv, int i);
int race_accounts_admin_check(void *data);
int race_accounts_admin(void *data);


#endif /* _RACE_ACCOUNTS_H_INCLUDED_ */
