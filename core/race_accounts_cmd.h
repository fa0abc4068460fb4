
/*
 * race-accounts: the commands of topic race.accounts and their replies
 * (docs/INTERNALS.md, "Accounts").
 *
 * A pure core: a Kafka message's bytes in, a command out; a user or an
 * error code in, the reply's JSON out.  No Kafka, MongoDB or Redis
 * types, so it can be unit tested and fuzzed alone.
 */


#ifndef _RACE_ACCOUNTS_CMD_H_INCLUDED_
#define _RACE_ACCOUNTS_CMD_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_account.h"
#include "race_cmd.h"
#include "race_jwt.h"


/* the module's limits: its account core checks what it sends */
#define RACE_ACCOUNTS_ID_LEN      RACE_USER_ID_LEN
#define RACE_ACCOUNTS_EMAIL_MAX   RACE_EMAIL_MAX
#define RACE_ACCOUNTS_NAME_MAX    RACE_NAME_BYTES_MAX
#define RACE_ACCOUNTS_ROLE_MAX    RACE_ROLE_MAX
#define RACE_ACCOUNTS_HASH_MAX    (RACE_PASSWORD_ENCODED_MAX - 1)

#define RACE_ACCOUNTS_JTI_MAX     RACE_JWT_ID_MAX
#define RACE_ACCOUNTS_EXP_MAX     9007199254740991LL   /* 2^53 - 1 */

#define RACE_ACCOUNTS_REQ_MAX     RACE_CMD_REQ_MAX
#define RACE_ACCOUNTS_CHANNEL_MAX RACE_CMD_CHANNEL_MAX

/* enough for any reply race_accounts_reply_*() builds */
#define RACE_ACCOUNTS_REPLY_SIZE  4096


typedef enum {
    RACE_ACCOUNTS_NONE = 0,
    RACE_ACCOUNTS_SIGNUP,
    RACE_ACCOUNTS_LOGOUT,
    RACE_ACCOUNTS_ROLE,
    RACE_ACCOUNTS_REVOKE
} race_accounts_op_e;


/* a document of collection "users" */
typedef struct {
    char                    id[RACE_ACCOUNTS_ID_LEN + 1];
    char                    email[RACE_ACCOUNTS_EMAIL_MAX + 1];
    char                    name[RACE_ACCOUNTS_NAME_MAX + 1];
    char                    role[RACE_ACCOUNTS_ROLE_MAX + 1];
    char                    hash[RACE_ACCOUNTS_HASH_MAX + 1];
    int64_t                 gen;
    int64_t                 created;        /* Unix ms */
} race_accounts_user_t;


/* a document of collection "revocations": a rider token revoked */
typedef struct {
    char                    jti[RACE_ACCOUNTS_JTI_MAX + 1];
    int64_t                 exp;            /* the token's, Unix s */
} race_accounts_revocation_t;


typedef struct {
    race_accounts_op_e      op;
    char                    req[RACE_ACCOUNTS_REQ_MAX + 1];
    char                    reply[RACE_ACCOUNTS_CHANNEL_MAX + 1];

    /*
     * signup: the new user, without gen and created; logout: user.id;
     * role: user.id and user.role, the new role
     */
    race_accounts_user_t    user;

    char                    by[RACE_ACCOUNTS_ID_LEN + 1];   /* role */
    int64_t                 gen;    /* logout, role: the gen the command
                                       expects, 0 if it names none */
    int64_t                 deadline;   /* Unix ms after which it is not
                                           applied; 0 if it names none */

    /* revoke: the rider token's id, and its exp (Unix s) */
    char                    jti[RACE_ACCOUNTS_JTI_MAX + 1];
    int64_t                 exp;
} race_accounts_cmd_t;


/*
 * Parses a Kafka message into cmd.  Returns 0, or -1 with the reason in
 * err: the command is malformed and is to be skipped, since retrying it
 * cannot help.  Even then, cmd->req and cmd->reply hold the request id
 * and the reply channel if they could be read ("" if not), so that the
 * sender can be told.  The email is stored normalised.  The reason never
 * quotes a value: emails, names and hashes stay out of the logs.
 */
int race_accounts_cmd_parse(const char *data, size_t len,
    race_accounts_cmd_t *cmd, char *err, size_t size);

/*
 * 1 if the command is past its deadline at now (Unix ms): its sender has
 * answered 503 and let go, so it must not be applied any more.
 */
int race_accounts_cmd_expired(const race_accounts_cmd_t *cmd, int64_t now);

/* 1 if s is a user id: 32 of [0-9a-f] */
int race_accounts_id_valid(const char *s, size_t len);

/*
 * The replies, {"req":..,"ok":true,"user":{id,email,name,role,gen}} (the
 * user without its hash) and {"req":..,"ok":false,"code":..}, "req" left
 * out if req is "".  Return the length, 0 if size is too small.
 */
size_t race_accounts_reply_ok(const char *req,
    const race_accounts_user_t *user, char *buf, size_t size);
size_t race_accounts_reply_error(const char *req, const char *code,
    char *buf, size_t size);

/* {"req":..,"ok":true,"revoked":{"jti":..,"exp":..}} */
size_t race_accounts_reply_revoked(const char *req, const char *jti,
    int64_t exp, char *buf, size_t size);


#endif /* _RACE_ACCOUNTS_CMD_H_INCLUDED_ */
