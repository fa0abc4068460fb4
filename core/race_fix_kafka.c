
/*
 * ngx_race: the fixes the module puts on Kafka, read back by the
 * workers (docs/INTERNALS.md, "Kafka: topic race.fixes").
 */


#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_fix.h"


typedef struct {
    const char  *name;
    unsigned     bit;
    size_t       offset;
} race_fix_optional_t;


static int race_fix_error(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int race_fix_id(json_t *obj, const char *key, char *dst,
    char *err, size_t size);
static int race_fix_int(json_t *obj, const char *key, int64_t min,
    int64_t max, int64_t *dst, const char *where, char *err, size_t size);
static int race_fix_double(json_t *obj, const char *key, double min,
    double max, double *dst, const char *where, char *err, size_t size);
static int race_fix_one(json_t *item, race_fix_t *fix, char *err,
    size_t size, size_t i);


static const race_fix_optional_t  race_fix_optional[] = {
    { "ele", RACE_FIX_ELE, offsetof(race_fix_t, ele) },
    { "acc", RACE_FIX_ACC, offsetof(race_fix_t, acc) },
    { "spd", RACE_FIX_SPD, offsetof(race_fix_t, spd) },
    { "brg", RACE_FIX_BRG, offsetof(race_fix_t, brg) },
    { "bat", RACE_FIX_BAT, offsetof(race_fix_t, bat) },
    { NULL, 0, 0 }
};


int
race_fix_parse_kafka(const char *data, size_t len, race_fix_msg_t *msg,
    race_fix_t *fixes, size_t room, size_t *n, char *err, size_t size)
{
    int           rc;
    size_t        i, count;
    json_t       *root, *items;
    json_error_t  error;

    *n = 0;

    if (data == NULL || len == 0) {
        return race_fix_error(err, size, "empty message");
    }

    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        /* error.text may quote the input: give only where it failed */
        return race_fix_error(err, size, "not JSON (at byte %d)",
                              error.position);
    }

    rc = -1;

    if (!json_is_object(root)) {
        race_fix_error(err, size, "not a JSON object");
        goto done;
    }

    if (race_fix_id(root, "race", msg->race, err, size) != 0
        || race_fix_id(root, "rider", msg->rider, err, size) != 0
        || race_fix_int(root, "recv", 0, INT64_MAX, &msg->recv, "", err,
                        size) != 0)
    {
        goto done;
    }

    items = json_object_get(root, "fixes");

    if (!json_is_array(items)) {
        race_fix_error(err, size, "\"fixes\" missing or not an array");
        goto done;
    }

    count = json_array_size(items);

    if (count == 0 || count > RACE_FIX_BATCH_MAX || count > room) {
        race_fix_error(err, size, "%zu fixes, expected 1 to %d", count,
                       RACE_FIX_BATCH_MAX);
        goto done;
    }

    for (i = 0; i < count; i++) {
        fixes[i].msg = msg;

        if (race_fix_one(json_array_get(items, i), &fixes[i], err, size, i)
            != 0)
        {
            goto done;
        }
    }

    *n = count;
    rc = 0;

done:

    json_decref(root);

    return rc;
}


void
race_fix_doc_id(const race_fix_t *fix, char *buf, size_t size)
{
    snprintf(buf, size, "%s:%s:%lld", fix->msg->race, fix->msg->rider,
             (long long) fix->seq);
}


static int
race_fix_error(char *err, size_t size, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(err, size, fmt, args);
    va_end(args);

    return -1;
}


static int
race_fix_id(json_t *obj, const char *key, char *dst, char *err, size_t size)
{
    size_t       len;
    json_t      *v;
    const char  *s;

    v = json_object_get(obj, key);

    if (!json_is_string(v)) {
        return race_fix_error(err, size, "\"%s\" missing or not a string",
                              key);
    }

    s = json_string_value(v);
    len = json_string_length(v);

    if (!race_id_valid(s, len)) {
        return race_fix_error(err, size, "\"%s\" is not a valid id", key);
    }

    memcpy(dst, s, len);
    dst[len] = '\0';

    return 0;
}


/* where is "" for a field of the message, "fix N: " for one of a fix */

static int
race_fix_int(json_t *obj, const char *key, int64_t min, int64_t max,
    int64_t *dst, const char *where, char *err, size_t size)
{
    json_t      *v;
    json_int_t   n;

    v = json_object_get(obj, key);

    if (!json_is_integer(v)) {
        return race_fix_error(err, size,
                              "%s\"%s\" missing or not an integer",
                              where, key);
    }

    n = json_integer_value(v);

    if (n < min || n > max) {
        return race_fix_error(err, size, "%s\"%s\" out of range", where,
                              key);
    }

    *dst = n;

    return 0;
}


static int
race_fix_double(json_t *obj, const char *key, double min, double max,
    double *dst, const char *where, char *err, size_t size)
{
    double   d;
    json_t  *v;

    v = json_object_get(obj, key);

    if (!json_is_number(v)) {
        return race_fix_error(err, size,
                              "%s\"%s\" missing or not a number", where,
                              key);
    }

    d = json_number_value(v);

    if (!isfinite(d) || d < min || d > max) {
        return race_fix_error(err, size, "%s\"%s\" out of range", where,
                              key);
    }

    *dst = d;

    return 0;
}


static int
race_fix_one(json_t *item, race_fix_t *fix, char *err, size_t size,
    size_t i)
{
    char                         where[32];
    double                      *d;
    json_t                      *v;
    const race_fix_optional_t   *o;

    snprintf(where, sizeof(where), "fix %zu: ", i);

    if (!json_is_object(item)) {
        return race_fix_error(err, size, "%snot an object", where);
    }

    if (race_fix_int(item, "seq", 0, RACE_FIX_SEQ_MAX, &fix->seq, where,
                     err, size) != 0
        || race_fix_int(item, "t", 1, INT64_MAX, &fix->t, where, err, size)
           != 0
        || race_fix_double(item, "lat", -90.0, 90.0, &fix->lat, where, err,
                           size) != 0
        || race_fix_double(item, "lon", -180.0, 180.0, &fix->lon, where,
                           err, size) != 0)
    {
        return -1;
    }

    fix->has = 0;
    fix->ele = 0;
    fix->acc = 0;
    fix->spd = 0;
    fix->brg = 0;
    fix->bat = 0;

    /* optional: checked for type only, the module checked the ranges */

    for (o = race_fix_optional; o->name != NULL; o++) {
        v = json_object_get(item, o->name);

        if (v == NULL) {
            continue;
        }

        d = (double *) ((char *) fix + o->offset);

        if (race_fix_double(item, o->name, -HUGE_VAL, HUGE_VAL, d, where,
                            err, size) != 0)
        {
            return -1;
        }

        fix->has |= o->bit;
    }

    return 0;
}
