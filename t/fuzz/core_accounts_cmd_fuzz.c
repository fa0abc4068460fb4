
/*
 * ngx_race workers: libFuzzer target for race-accounts' command parser
 * and reply builder.
 *
 * Input: a race.accounts message (docs/INTERNALS.md, "Accounts").  cmd,
 * err and the reply buffers are allocations of exactly their sizes, so
 * ASan sees a write past them.  Then:
 *
 *   - a refused command has no op and says why, within err; its req and
 *     reply are "" or what the parser promises of them;
 *   - an accepted one keeps every promise of its kind: req and reply of
 *     1 to 128 and 1 to 255 printable ASCII bytes, no spaces; user ids
 *     of 32 [0-9a-f]; for a signup an email that normalises to itself, a
 *     valid name, role spectator and an argon2id-shaped hash; for a role
 *     a valid role; gen 0 or 1 to 2^53 - 2; deadline 0 or 1 to 2^53 - 1,
 *     and expired only after it;
 *   - the replies built for it, ok and error, are whole JSON objects that
 *     jansson reads, with "req" exactly when req is not "", and no
 *     "hash" key anywhere;
 *   - the same holds of a reply built from a user made of raw input
 *     bytes, when the builder makes one at all.
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_accounts_cmd.h"


#define F_ERR      64
#define F_GEN_MAX  9007199254740991LL   /* 2^53 - 1 */

#define f_assert(c)  do { if (!(c)) { abort(); } } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cmd(const race_accounts_cmd_t *cmd);
static void check_token(const char *s, size_t max, int empty);
static void check_replies(const char *req, const race_accounts_user_t *u,
    int must);
static void check_reply(const char *out, size_t n, const char *req);
static int has_hash(json_t *v);
static void raw_user(const uint8_t *data, size_t size);
static void raw_field(char *dst, size_t dst_size, const uint8_t **data,
    size_t *size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   rc;
    char                 *err;
    race_accounts_cmd_t  *cmd;

    cmd = malloc(sizeof(race_accounts_cmd_t));
    err = malloc(F_ERR);
    f_assert(cmd != NULL && err != NULL);

    memset(cmd, 0x5a, sizeof(race_accounts_cmd_t));
    memset(err, 'x', F_ERR);

    rc = race_accounts_cmd_parse((const char *) data, size, cmd, err, F_ERR);

    if (rc != 0) {
        f_assert(rc == -1 && cmd->op == RACE_ACCOUNTS_NONE);
        f_assert(memchr(err, '\0', F_ERR) != NULL && err[0] != '\0');

        /* what the worker answers a bad command with */
        check_token(cmd->req, RACE_ACCOUNTS_REQ_MAX, 1);
        check_token(cmd->reply, RACE_ACCOUNTS_CHANNEL_MAX, 1);
        check_replies(cmd->req, NULL, 1);

    } else {
        check_cmd(cmd);

        cmd->user.gen = cmd->gen ? cmd->gen + 1 : 1;
        check_replies(cmd->req, &cmd->user, 1);
    }

    raw_user(data, size);

    free(cmd);
    free(err);

    return 0;
}


static void
check_cmd(const race_accounts_cmd_t *cmd)
{
    char                        *again;
    size_t                       n;
    const race_accounts_user_t  *u;

    u = &cmd->user;

    check_token(cmd->req, RACE_ACCOUNTS_REQ_MAX, 0);
    check_token(cmd->reply, RACE_ACCOUNTS_CHANNEL_MAX, 0);

    f_assert(race_accounts_id_valid(u->id, strlen(u->id)));
    f_assert(cmd->gen == 0 || (cmd->gen >= 1 && cmd->gen < F_GEN_MAX));
    f_assert(cmd->deadline >= 0 && cmd->deadline <= F_GEN_MAX);
    f_assert(!race_accounts_cmd_expired(cmd, cmd->deadline));
    f_assert(race_accounts_cmd_expired(cmd, cmd->deadline + 1)
             == (cmd->deadline > 0));

    switch (cmd->op) {

    case RACE_ACCOUNTS_SIGNUP:
        n = strlen(u->email);
        f_assert(n >= 3 && n <= RACE_ACCOUNTS_EMAIL_MAX);

        again = malloc(RACE_ACCOUNTS_EMAIL_MAX + 1);
        f_assert(again != NULL);
        f_assert(race_email_normalize(u->email, n, again,
                                      RACE_ACCOUNTS_EMAIL_MAX + 1)
                 == n);
        f_assert(strcmp(again, u->email) == 0);
        free(again);

        f_assert(race_name_valid(u->name, strlen(u->name)));
        f_assert(strcmp(u->role, "spectator") == 0);
        f_assert(strncmp(u->hash, "$argon2id$", 10) == 0
                 && strlen(u->hash) > 10);
        check_token(u->hash, RACE_ACCOUNTS_HASH_MAX, 0);
        f_assert(cmd->by[0] == '\0' && cmd->gen == 0);
        break;

    case RACE_ACCOUNTS_LOGOUT:
        f_assert(cmd->by[0] == '\0' && u->role[0] == '\0');
        f_assert(u->email[0] == '\0' && u->name[0] == '\0');
        f_assert(u->hash[0] == '\0');
        break;

    case RACE_ACCOUNTS_ROLE:
        f_assert(race_role_valid(u->role, strlen(u->role)));
        f_assert(race_accounts_id_valid(cmd->by, strlen(cmd->by)));
        f_assert(u->email[0] == '\0' && u->name[0] == '\0');
        f_assert(u->hash[0] == '\0');
        break;

    default:
        f_assert(0);
    }

    f_assert(u->gen == 0 && u->created == 0);
}


/* "" (if empty may be), or 1 to max bytes of 0x21 to 0x7e */

static void
check_token(const char *s, size_t max, int empty)
{
    size_t  i, n;

    n = strlen(s);

    f_assert(n <= max);
    f_assert(n > 0 || empty);

    for (i = 0; i < n; i++) {
        f_assert(s[i] >= 0x21 && s[i] <= 0x7e);
    }
}


/*
 * The error replies always, an ok reply if u: built whenever must, read
 * back by jansson.
 */

static void
check_replies(const char *req, const race_accounts_user_t *u, int must)
{
    char    *out;
    size_t   n;

    out = malloc(RACE_ACCOUNTS_REPLY_SIZE);
    f_assert(out != NULL);

    n = race_accounts_reply_error(req, "bad_command", out,
                                  RACE_ACCOUNTS_REPLY_SIZE);
    f_assert(n > 0 || !must);

    if (n > 0) {
        check_reply(out, n, req);
    }

    if (u != NULL) {
        n = race_accounts_reply_ok(req, u, out, RACE_ACCOUNTS_REPLY_SIZE);
        f_assert(n > 0 || !must);

        if (n > 0) {
            check_reply(out, n, req);
        }
    }

    free(out);
}


static void
check_reply(const char *out, size_t n, const char *req)
{
    json_t       *root, *v, *user;
    json_error_t  error;

    f_assert(n < RACE_ACCOUNTS_REPLY_SIZE && strlen(out) == n);

    root = json_loadb(out, n, JSON_REJECT_DUPLICATES, &error);
    f_assert(root != NULL && json_is_object(root));
    f_assert(!has_hash(root));

    v = json_object_get(root, "req");

    if (req[0] == '\0') {
        f_assert(v == NULL);

    } else {
        f_assert(json_is_string(v) && strcmp(json_string_value(v), req) == 0);
    }

    v = json_object_get(root, "ok");
    f_assert(json_is_boolean(v));

    if (json_is_true(v)) {
        user = json_object_get(root, "user");
        f_assert(json_is_object(user) && json_object_size(user) == 5);
        f_assert(json_is_integer(json_object_get(user, "gen")));

    } else {
        f_assert(json_is_string(json_object_get(root, "code")));
    }

    json_decref(root);
}


static int
has_hash(json_t *v)
{
    size_t       i;
    json_t      *e;
    const char  *key;

    if (json_is_object(v)) {
        json_object_foreach(v, key, e) {
            if (strcmp(key, "hash") == 0 || has_hash(e)) {
                return 1;
            }
        }

    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (has_hash(e)) {
                return 1;
            }
        }
    }

    return 0;
}


/*
 * A user (and a req) cut from the input, field by field, up to a NUL
 * each: whatever the builder makes of bytes it did not check, when it
 * makes something, is JSON without a hash.
 */

static void
raw_user(const uint8_t *data, size_t size)
{
    char                   req[RACE_ACCOUNTS_REQ_MAX + 1];
    race_accounts_user_t  *u;

    u = malloc(sizeof(race_accounts_user_t));
    f_assert(u != NULL);

    raw_field(req, sizeof(req), &data, &size);
    raw_field(u->id, sizeof(u->id), &data, &size);
    raw_field(u->email, sizeof(u->email), &data, &size);
    raw_field(u->name, sizeof(u->name), &data, &size);
    raw_field(u->role, sizeof(u->role), &data, &size);
    raw_field(u->hash, sizeof(u->hash), &data, &size);
    u->gen = size > 0 ? (int64_t) data[0] << 40 : 0;
    u->created = 0;

    check_replies(req, u, 0);

    free(u);
}


static void
raw_field(char *dst, size_t dst_size, const uint8_t **data, size_t *size)
{
    size_t  n;

    for (n = 0; n < *size && n < dst_size - 1 && (*data)[n] != '\0'; n++) {
        /* void */
    }

    memcpy(dst, *data, n);
    dst[n] = '\0';

    if (n < *size) {
        n++;                    /* the NUL, or the byte that did not fit */
    }

    *data += n;
    *size -= n;
}
