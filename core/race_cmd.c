
/*
 * race-accounts: the envelope of the commands of topic race.accounts.
 *
 * The account and the race commands share it, so a sender learns the
 * same reason for the same mistake whichever command it sent.
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "race_account.h"
#include "race_cmd.h"


json_t *
race_cmd_load(const char *data, size_t len, char *err, size_t size)
{
    json_t        *root;
    json_error_t   error;

    if (data == NULL || len == 0) {
        race_cmd_error(err, size, "empty message");
        return NULL;
    }

    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        /* error.text may quote the input: give only where it failed */
        race_cmd_error(err, size, "not JSON (at byte %d)", error.position);
        return NULL;
    }

    if (!json_is_object(root)) {
        json_decref(root);
        race_cmd_error(err, size, "not a JSON object");
        return NULL;
    }

    return root;
}


const char *
race_cmd_op(json_t *root)
{
    json_t  *v;

    v = json_object_get(root, "op");

    return json_is_string(v) && strlen(json_string_value(v))
                                == json_string_length(v)
           ? json_string_value(v) : "";
}


int
race_cmd_head(json_t *root, char *reply, char *req, char *err, size_t size)
{
    if (race_cmd_token(root, "reply", reply, RACE_CMD_CHANNEL_MAX) != 0) {
        return race_cmd_error(err, size, "\"reply\" missing or not a "
                              "channel name");
    }

    if (race_cmd_token(root, "req", req, RACE_CMD_REQ_MAX) != 0) {
        return race_cmd_error(err, size, "\"req\" missing or not a "
                              "request id");
    }

    return 0;
}


int
race_cmd_int(json_t *obj, const char *key, int64_t min, int64_t max,
    int64_t *n, char *err, size_t size)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (!json_is_integer(v)) {
        return race_cmd_error(err, size, "\"%s\" missing or not an integer",
                              key);
    }

    if (json_integer_value(v) < min || json_integer_value(v) > max) {
        return race_cmd_error(err, size, "\"%s\" is out of range", key);
    }

    *n = (int64_t) json_integer_value(v);

    return 0;
}


int
race_cmd_int_opt(json_t *obj, const char *key, int64_t min, int64_t max,
    int64_t *n, char *err, size_t size)
{
    json_t  *v;

    *n = 0;

    v = json_object_get(obj, key);

    if (v == NULL) {
        return 0;
    }

    if (!json_is_integer(v)) {
        return race_cmd_error(err, size, "\"%s\" is not an integer", key);
    }

    return race_cmd_int(obj, key, min, max, n, err, size);
}


int
race_cmd_user_valid(const char *s, size_t len)
{
    size_t  i;

    if (len != RACE_USER_ID_LEN) {
        return 0;
    }

    /* lower-case only: ids are compared as strings everywhere */

    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}


int
race_cmd_user(json_t *obj, const char *key, char *dst, char *err,
    size_t size)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (!json_is_string(v)
        || !race_cmd_user_valid(json_string_value(v), json_string_length(v)))
    {
        return race_cmd_error(err, size, "\"%s\" missing or not a user id",
                              key);
    }

    memcpy(dst, json_string_value(v), RACE_USER_ID_LEN + 1);

    return 0;
}


int
race_cmd_token(json_t *obj, const char *key, char *dst, size_t max)
{
    size_t       i, len;
    json_t      *v;
    const char  *s;

    v = json_object_get(obj, key);

    if (!json_is_string(v)) {
        return -1;
    }

    s = json_string_value(v);
    len = json_string_length(v);

    if (len < 1 || len > max) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e) {
            return -1;
        }
    }

    memcpy(dst, s, len);
    dst[len] = '\0';

    return 0;
}


int
race_cmd_error(char *err, size_t size, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(err, size, fmt, args);
    va_end(args);

    return -1;
}
