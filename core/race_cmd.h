
/*
 * race-accounts: the envelope every command of topic race.accounts
 * carries, account and race commands alike (docs/INTERNALS.md,
 * "Accounts"): {"op","reply","req","deadline"?,...}.
 *
 * A pure core: the account and the race commands' parsers read their
 * envelope here, so that both check a reply channel, a request id, a
 * deadline and a user id by the same rules, and say the same when one
 * is wrong.  The reasons never quote a value.
 */


#ifndef _RACE_CMD_H_INCLUDED_
#define _RACE_CMD_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include <jansson.h>


#define RACE_CMD_REQ_MAX        128
#define RACE_CMD_CHANNEL_MAX    255

/*
 * "deadline", optional: Unix ms, as the module's race_auth_reply_timeout
 * ends, exact in any JSON reader (beyond the year 285000).  Commands of
 * senders that name none are applied whenever they come, as before
 * there were deadlines.
 */
#define RACE_CMD_DEADLINE_MAX   9007199254740991LL   /* 2^53 - 1 */


/*
 * The message as a JSON object (duplicate keys refused), a new
 * reference; NULL with the reason in err if it is empty, not JSON or
 * not an object.  err may be NULL (size 0).
 */
json_t *race_cmd_load(const char *data, size_t len, char *err, size_t size);

/* root's "op", "" if it is missing, not a string or holds a NUL */
const char *race_cmd_op(json_t *root);

/*
 * What a reply needs, read first so that a bad command is answered too:
 * "reply" into reply (RACE_CMD_CHANNEL_MAX + 1 bytes), then "req" into
 * req (RACE_CMD_REQ_MAX + 1 bytes).  0, or -1 with the reason in err.
 */
int race_cmd_head(json_t *root, char *reply, char *req, char *err,
    size_t size);

/*
 * obj[key], an integer from min to max, into n.  0, or -1 with the
 * reason in err.  The _opt one takes an absent key as 0.
 */
int race_cmd_int(json_t *obj, const char *key, int64_t min, int64_t max,
    int64_t *n, char *err, size_t size);
int race_cmd_int_opt(json_t *obj, const char *key, int64_t min,
    int64_t max, int64_t *n, char *err, size_t size);

/* 1 if s is a user id: 32 of [0-9a-f] */
int race_cmd_user_valid(const char *s, size_t len);

/*
 * obj[key], a user id into dst (RACE_USER_ID_LEN + 1
 * bytes).  0, or -1 with the reason in err.
 */
int race_cmd_user(json_t *obj, const char *key, char *dst, char *err,
    size_t size);

/*
 * obj[key], 1 to max printable ASCII bytes without spaces (a request
 * id, a channel, a bib), into dst (max + 1 bytes).  0, or -1.
 */
int race_cmd_token(json_t *obj, const char *key, char *dst, size_t max);

/* the reason into err (which may be NULL, size 0); returns -1 */
int race_cmd_error(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));


#endif /* _RACE_CMD_H_INCLUDED_ */
