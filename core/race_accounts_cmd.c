
/*
 * race-accounts: the commands of topic race.accounts and their replies.
 *
 * What a command holds is checked with the module's own account core
 * (emails, names, roles), so the worker and the module agree on every
 * rule: a command the module would not have sent is refused here too.
 */


#include <string.h>

#include <jansson.h>

#include "race_accounts_cmd.h"
#include "race_cmd.h"


/* 2^53 - 2: a gen + 1 stays exact in any JSON reader */
#define RACE_ACCOUNTS_GEN_MAX  9007199254740990LL

#define RACE_ACCOUNTS_HASH_PREFIX  "$argon2id$"


static int race_accounts_cmd_signup(json_t *root, race_accounts_cmd_t *cmd,
    char *err, size_t size);
static int race_accounts_cmd_revoke(json_t *root, race_accounts_cmd_t *cmd,
    char *err, size_t size);
static int race_accounts_cmd_hash(const char *s, size_t len);
static size_t race_accounts_cmd_dump(json_t *reply, char *buf, size_t size);


int
race_accounts_cmd_parse(const char *data, size_t len,
    race_accounts_cmd_t *cmd, char *err, size_t size)
{
    int          rc;
    json_t      *root, *v;
    const char  *op;

    memset(cmd, 0, sizeof(race_accounts_cmd_t));

    root = race_cmd_load(data, len, err, size);
    if (root == NULL) {
        return -1;
    }

    rc = -1;

    /* first what a reply needs: a bad command is answered too */

    if (race_cmd_head(root, cmd->reply, cmd->req, err, size) != 0
        || race_cmd_int_opt(root, "deadline", 1, RACE_CMD_DEADLINE_MAX,
                            &cmd->deadline, err, size)
           != 0)
    {
        goto done;
    }

    op = race_cmd_op(root);

    if (strcmp(op, "signup") == 0) {
        cmd->op = RACE_ACCOUNTS_SIGNUP;

        if (race_accounts_cmd_signup(root, cmd, err, size) != 0) {
            goto done;
        }

    } else if (strcmp(op, "logout") == 0) {
        cmd->op = RACE_ACCOUNTS_LOGOUT;

        if (race_cmd_user(root, "user", cmd->user.id, err, size) != 0
            || race_cmd_int_opt(root, "gen", 1, RACE_ACCOUNTS_GEN_MAX,
                                &cmd->gen, err, size)
               != 0)
        {
            goto done;
        }

    } else if (strcmp(op, "role") == 0) {
        cmd->op = RACE_ACCOUNTS_ROLE;

        if (race_cmd_user(root, "user", cmd->user.id, err, size) != 0
            || race_cmd_user(root, "by", cmd->by, err, size) != 0
            || race_cmd_int_opt(root, "gen", 1, RACE_ACCOUNTS_GEN_MAX,
                                &cmd->gen, err, size)
               != 0)
        {
            goto done;
        }

        v = json_object_get(root, "role");

        if (!json_is_string(v)
            || !race_role_valid(json_string_value(v), json_string_length(v)))
        {
            race_cmd_error(err, size, "\"role\" missing or not a role");
            goto done;
        }

        /* race_role_valid(): at most RACE_ROLE_MAX bytes */
        memcpy(cmd->user.role, json_string_value(v),
               json_string_length(v) + 1);

    } else if (strcmp(op, "revoke") == 0) {
        cmd->op = RACE_ACCOUNTS_REVOKE;

        if (race_accounts_cmd_revoke(root, cmd, err, size) != 0) {
            goto done;
        }

    } else {
        race_cmd_error(err, size, "\"op\" missing or unknown");
        goto done;
    }

    rc = 0;

done:

    if (rc != 0) {
        cmd->op = RACE_ACCOUNTS_NONE;
    }

    json_decref(root);

    return rc;
}


int
race_accounts_cmd_expired(const race_accounts_cmd_t *cmd, int64_t now)
{
    return cmd->deadline > 0 && now > cmd->deadline;
}


int
race_accounts_id_valid(const char *s, size_t len)
{
    return race_cmd_user_valid(s, len);
}


size_t
race_accounts_reply_ok(const char *req, const race_accounts_user_t *user,
    char *buf, size_t size)
{
    json_t  *reply;

    reply = json_pack("{s:s*, s:b, s:{s:s, s:s, s:s, s:s, s:I}}",
                      "req", req[0] ? req : NULL,
                      "ok", 1,
                      "user",
                          "id", user->id,
                          "email", user->email,
                          "name", user->name,
                          "role", user->role,
                          "gen", (json_int_t) user->gen);

    return race_accounts_cmd_dump(reply, buf, size);
}


size_t
race_accounts_reply_error(const char *req, const char *code, char *buf,
    size_t size)
{
    json_t  *reply;

    reply = json_pack("{s:s*, s:b, s:s}",
                      "req", req[0] ? req : NULL,
                      "ok", 0,
                      "code", code);

    return race_accounts_cmd_dump(reply, buf, size);
}


size_t
race_accounts_reply_revoked(const char *req, const char *jti, int64_t exp,
    char *buf, size_t size)
{
    json_t  *reply;

    reply = json_pack("{s:s*, s:b, s:{s:s, s:I}}",
                      "req", req[0] ? req : NULL,
                      "ok", 1,
                      "revoked",
                          "jti", jti,
                          "exp", (json_int_t) exp);

    return race_accounts_cmd_dump(reply, buf, size);
}


/* "user":{"id","email","name","role"?,"hash"} */

static int
race_accounts_cmd_signup(json_t *root, race_accounts_cmd_t *cmd, char *err,
    size_t size)
{
    size_t                 len;
    json_t                *user, *v;
    const char            *s;
    race_accounts_user_t  *u;

    u = &cmd->user;
    user = json_object_get(root, "user");

    if (!json_is_object(user)) {
        return race_cmd_error(err, size, "\"user\" missing or not an object");
    }

    if (race_cmd_user(user, "id", u->id, err, size) != 0) {
        return -1;
    }

    v = json_object_get(user, "email");

    if (!json_is_string(v)
        || race_email_normalize(json_string_value(v), json_string_length(v),
                                u->email, sizeof(u->email))
           == 0)
    {
        return race_cmd_error(err, size, "\"user.email\" missing or not an "
                              "email");
    }

    v = json_object_get(user, "name");

    if (!json_is_string(v)
        || !race_name_valid(json_string_value(v), json_string_length(v)))
    {
        return race_cmd_error(err, size, "\"user.name\" missing or not a name");
    }

    /* race_name_valid(): at most RACE_NAME_BYTES_MAX bytes */
    memcpy(u->name, json_string_value(v), json_string_length(v) + 1);

    /* a signup makes spectators; other roles are given by an admin */

    v = json_object_get(user, "role");

    if (v != NULL
        && !(json_is_string(v)
             && strcmp(json_string_value(v), "spectator") == 0))
    {
        return race_cmd_error(err, size, "\"user.role\" is not spectator");
    }

    memcpy(u->role, "spectator", sizeof("spectator"));

    v = json_object_get(user, "hash");
    s = json_is_string(v) ? json_string_value(v) : NULL;
    len = json_is_string(v) ? json_string_length(v) : 0;

    if (s == NULL || !race_accounts_cmd_hash(s, len)) {
        return race_cmd_error(err, size, "\"user.hash\" missing or not an "
                              "argon2id hash");
    }

    memcpy(u->hash, s, len + 1);

    return 0;
}


/* "jti": a rider token's id, as the module reads it; "exp": its expiry */

static int
race_accounts_cmd_revoke(json_t *root, race_accounts_cmd_t *cmd, char *err,
    size_t size)
{
    json_t  *v;

    v = json_object_get(root, "jti");

    if (!json_is_string(v)
        || !race_id_valid(json_string_value(v), json_string_length(v)))
    {
        return race_cmd_error(err, size, "\"jti\" missing or not a token id");
    }

    /* race_id_valid(): at most RACE_JWT_ID_MAX bytes */
    memcpy(cmd->jti, json_string_value(v), json_string_length(v) + 1);

    return race_cmd_int(root, "exp", 1, RACE_ACCOUNTS_EXP_MAX, &cmd->exp,
                        err, size);
}


/*
 * The shape of a PHC string of argon2id, not its parameters: the module
 * verifies against it, and refuses what it would not have made.
 */

static int
race_accounts_cmd_hash(const char *s, size_t len)
{
    size_t  i;

    if (len > RACE_ACCOUNTS_HASH_MAX
        || len <= sizeof(RACE_ACCOUNTS_HASH_PREFIX) - 1
        || memcmp(s, RACE_ACCOUNTS_HASH_PREFIX,
                  sizeof(RACE_ACCOUNTS_HASH_PREFIX) - 1)
           != 0)
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e) {
            return 0;
        }
    }

    return 1;
}


/* takes reply (which may be NULL: json_pack() failed) */

static size_t
race_accounts_cmd_dump(json_t *reply, char *buf, size_t size)
{
    size_t  n;

    if (reply == NULL) {
        return 0;
    }

    n = json_dumpb(reply, buf, size, JSON_COMPACT);
    json_decref(reply);

    if (n == 0 || n >= size) {
        return 0;
    }

    buf[n] = '\0';

    return n;
}
