
/*
 * ngx_race: the fixes a phone sends on /ride (PROTOCOL.md), validated,
 * and the Kafka message they become (docs/INTERNALS.md).
 *
 * A message that is not a JSON object of a known type is refused whole;
 * inside a good message each fix stands alone: a bad one becomes an
 * error for the phone, the others go on.  Only the first problem of a
 * fix is reported.
 *
 * Numbers out: seq and t as integers; doubles by race_json_number(),
 * so what the phone sent survives exactly (45.07 stays "45.07") and
 * readers must take any JSON number.
 */


#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_fix.h"
#include "race_json.h"


/* race_fix_kafka_size(): the longest head and fix, rounded up */
#define RACE_FIX_KAFKA_HEAD   256   /* 2 ids, recv, keys: 189 */
#define RACE_FIX_KAFKA_FIX    320   /* 2 int64, 7 doubles, keys: 271 */


/* the double fields of a fix: the table drives both parse and output */

typedef struct {
    const char     *name;
    unsigned        flag;       /* RACE_FIX_*, 0: required */
    double          min;
    double          max;
    unsigned        max_open;   /* max itself is out of range */
    size_t          offset;
} race_fix_field_t;


typedef struct {
    char           *pos;
    char           *last;       /* room for the NUL stays after it */
    int             full;
} race_fix_out_t;


static race_fix_msg_rc_e race_fix_message(json_t *root,
    const race_fix_limits_t *limits, size_t max, race_fix_t *fixes,
    size_t *nfixes, race_fix_error_t *errors, size_t *nerrors,
    char *message, size_t message_size);
static void race_fix_one(json_t *o, int item, const race_fix_limits_t *lim,
    race_fix_t *fixes, size_t *nfixes, race_fix_error_t *errors,
    size_t *nerrors);
static int race_fix_check(json_t *o, int item, const race_fix_limits_t *lim,
    race_fix_t *f, race_fix_error_t *e);
static int race_fix_fail(race_fix_error_t *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void race_fix_text(char *dst, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int64_t race_fix_add(int64_t a, int64_t b);
static void race_fix_put(race_fix_out_t *o, const char *s, size_t len);
static void race_fix_put_str(race_fix_out_t *o, const char *s);
static void race_fix_put_int(race_fix_out_t *o, int64_t v);
static void race_fix_put_double(race_fix_out_t *o, double v);


static const race_fix_field_t  race_fix_fields[] = {
    { "lat", 0,            -90,  90,    0, offsetof(race_fix_t, lat) },
    { "lon", 0,            -180, 180,   0, offsetof(race_fix_t, lon) },
    { "ele", RACE_FIX_ELE, -500, 9000,  0, offsetof(race_fix_t, ele) },
    { "acc", RACE_FIX_ACC, 0,    10000, 0, offsetof(race_fix_t, acc) },
    { "spd", RACE_FIX_SPD, 0,    100,   0, offsetof(race_fix_t, spd) },
    { "brg", RACE_FIX_BRG, 0,    360,   1, offsetof(race_fix_t, brg) },
    { "bat", RACE_FIX_BAT, 0,    1,     0, offsetof(race_fix_t, bat) }
};

#define RACE_FIX_NFIELDS  (sizeof(race_fix_fields) / sizeof(race_fix_field_t))


race_fix_msg_rc_e
race_fix_parse_phone(const char *json, size_t len,
    const race_fix_limits_t *limits, race_fix_t *fixes, size_t *nfixes,
    race_fix_error_t *errors, size_t *nerrors, char *message,
    size_t message_size)
{
    size_t             max;
    json_t            *root;
    json_error_t       err;
    race_fix_msg_rc_e  rc;

    *nfixes = 0;
    *nerrors = 0;

    if (message != NULL && message_size > 0) {
        message[0] = '\0';
    }

    max = limits->max_batch;

    if (max > RACE_FIX_BATCH_MAX) {
        max = RACE_FIX_BATCH_MAX;
    }

    /*
     * jansson refuses NaN and Infinity (they are not JSON), numbers that
     * overflow a double or an int64, \u0000 in strings and bad UTF-8
     */

    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);

    if (root == NULL) {
        /* the position only: err.text may quote the phone's data */
        race_fix_text(message, message_size, "invalid JSON at byte %d",
                      err.position);
        return RACE_FIX_MSG_BAD_JSON;
    }

    rc = race_fix_message(root, limits, max, fixes, nfixes, errors, nerrors,
                          message, message_size);

    json_decref(root);

    return rc;
}


size_t
race_fix_kafka_size(size_t n)
{
    if (n > (SIZE_MAX - RACE_FIX_KAFKA_HEAD) / RACE_FIX_KAFKA_FIX) {
        return SIZE_MAX;
    }

    return RACE_FIX_KAFKA_HEAD + n * RACE_FIX_KAFKA_FIX;
}


size_t
race_fix_kafka_message(char *dst, size_t size, const char *race,
    const char *rider, int64_t recv, const race_fix_t *fixes, size_t n)
{
    size_t                   i, k;
    double                   v;
    race_fix_out_t           o;
    const race_fix_t        *f;
    const race_fix_field_t  *fd;

    /* ids go out unescaped: they must be ids */

    if (dst == NULL || size == 0
        || race == NULL
        || !race_id_valid(race, strnlen(race, RACE_ID_MAX + 1))
        || rider == NULL
        || !race_id_valid(rider, strnlen(rider, RACE_ID_MAX + 1)))
    {
        return 0;
    }

    o.pos = dst;
    o.last = dst + size - 1;
    o.full = 0;

    race_fix_put_str(&o, "{\"race\":\"");
    race_fix_put_str(&o, race);
    race_fix_put_str(&o, "\",\"rider\":\"");
    race_fix_put_str(&o, rider);
    race_fix_put_str(&o, "\",\"recv\":");
    race_fix_put_int(&o, recv);
    race_fix_put_str(&o, ",\"fixes\":[");

    for (i = 0; i < n && !o.full; i++) {
        f = &fixes[i];

        race_fix_put_str(&o, i ? ",{\"seq\":" : "{\"seq\":");
        race_fix_put_int(&o, f->seq);
        race_fix_put_str(&o, ",\"t\":");
        race_fix_put_int(&o, f->t);

        for (k = 0; k < RACE_FIX_NFIELDS; k++) {
            fd = &race_fix_fields[k];

            if (fd->flag && !(f->has & fd->flag)) {
                continue;
            }

            v = *(const double *) ((const char *) f + fd->offset);

            /* "nan" or "inf" would not be JSON */

            if (!isfinite(v)) {
                return 0;
            }

            race_fix_put_str(&o, ",\"");
            race_fix_put_str(&o, fd->name);
            race_fix_put_str(&o, "\":");
            race_fix_put_double(&o, v);
        }

        race_fix_put_str(&o, "}");
    }

    race_fix_put_str(&o, "]}");

    if (o.full) {
        return 0;
    }

    *o.pos = '\0';

    return (size_t) (o.pos - dst);
}


static race_fix_msg_rc_e
race_fix_message(json_t *root, const race_fix_limits_t *limits, size_t max,
    race_fix_t *fixes, size_t *nfixes, race_fix_error_t *errors,
    size_t *nerrors, char *message, size_t message_size)
{
    size_t       i, n;
    json_t      *type, *items, *item;
    const char  *s;

    if (!json_is_object(root)) {
        race_fix_text(message, message_size, "not a JSON object");
        return RACE_FIX_MSG_BAD_JSON;
    }

    type = json_object_get(root, "type");

    if (type == NULL) {
        race_fix_text(message, message_size, "type missing");
        return RACE_FIX_MSG_BAD_TYPE;
    }

    s = json_string_value(type);

    if (s != NULL && strcmp(s, "fix") == 0) {

        if (max < 1) {
            race_fix_text(message, message_size, "too many fixes");
            return RACE_FIX_MSG_TOO_MANY;
        }

        race_fix_one(root, 0, limits, fixes, nfixes, errors, nerrors);

        return RACE_FIX_MSG_OK;
    }

    if (s == NULL || strcmp(s, "fixes") != 0) {
        race_fix_text(message, message_size,
                      "type must be \"fix\" or \"fixes\"");
        return RACE_FIX_MSG_BAD_TYPE;
    }

    items = json_object_get(root, "items");

    if (items == NULL) {
        race_fix_text(message, message_size, "items missing");
        return RACE_FIX_MSG_BAD_SHAPE;
    }

    if (!json_is_array(items)) {
        race_fix_text(message, message_size, "items must be an array");
        return RACE_FIX_MSG_BAD_SHAPE;
    }

    n = json_array_size(items);

    if (n == 0) {
        race_fix_text(message, message_size, "items is empty");
        return RACE_FIX_MSG_BAD_SHAPE;
    }

    if (n > max) {
        race_fix_text(message, message_size, "too many items: %zu > %zu",
                      n, max);
        return RACE_FIX_MSG_TOO_MANY;
    }

    /* each item ends in fixes[] or in errors[]: neither outgrows max */

    json_array_foreach(items, i, item) {
        race_fix_one(item, 1, limits, fixes, nfixes, errors, nerrors);
    }

    return RACE_FIX_MSG_OK;
}


static void
race_fix_one(json_t *o, int item, const race_fix_limits_t *lim,
    race_fix_t *fixes, size_t *nfixes, race_fix_error_t *errors,
    size_t *nerrors)
{
    race_fix_t        f;
    race_fix_error_t  e;

    if (race_fix_check(o, item, lim, &f, &e) == 0) {
        fixes[(*nfixes)++] = f;

    } else {
        errors[(*nerrors)++] = e;
    }
}


static int
race_fix_check(json_t *o, int item, const race_fix_limits_t *lim,
    race_fix_t *f, race_fix_error_t *e)
{
    size_t                   k;
    double                   d;
    json_t                  *v;
    json_int_t               i;
    const char              *s;
    const race_fix_field_t  *fd;

    memset(f, 0, sizeof(race_fix_t));

    e->seq = -1;
    e->code = "bad_fix";
    e->message[0] = '\0';

    if (!json_is_object(o)) {
        return race_fix_fail(e, "fix must be an object");
    }

    /* seq first, so that every later error can name the fix */

    v = json_object_get(o, "seq");

    if (v == NULL) {
        return race_fix_fail(e, "seq missing");
    }

    if (!json_is_integer(v)) {
        return race_fix_fail(e, "seq must be an integer");
    }

    i = json_integer_value(v);

    if (i < 0 || i > RACE_FIX_SEQ_MAX) {
        return race_fix_fail(e, "seq out of range");
    }

    f->seq = i;
    e->seq = i;

    if (item) {
        v = json_object_get(o, "type");

        if (v != NULL) {
            s = json_string_value(v);

            if (s == NULL || strcmp(s, "fix") != 0) {
                return race_fix_fail(e, "type must be \"fix\"");
            }
        }
    }

    v = json_object_get(o, "t");

    if (v == NULL) {
        return race_fix_fail(e, "t missing");
    }

    if (!json_is_integer(v)) {
        return race_fix_fail(e, "t must be an integer");
    }

    i = json_integer_value(v);

    if (i < race_fix_add(lim->now, -lim->max_past)) {
        return race_fix_fail(e, "t too far in the past");
    }

    if (i > race_fix_add(lim->now, lim->max_future)) {
        return race_fix_fail(e, "t too far in the future");
    }

    f->t = i;

    for (k = 0; k < RACE_FIX_NFIELDS; k++) {
        fd = &race_fix_fields[k];

        v = json_object_get(o, fd->name);

        /*
         * An optional field may be null: browsers' Geolocation gives null
         * altitude, speed and heading when it has none, and JSON.stringify
         * turns the NaN heading of a standing phone into null.
         */

        if (v == NULL || (fd->flag && json_is_null(v))) {
            if (fd->flag == 0) {
                return race_fix_fail(e, "%s missing", fd->name);
            }

            continue;
        }

        if (!json_is_number(v)) {
            return race_fix_fail(e, "%s must be a number", fd->name);
        }

        d = json_number_value(v);

        if (!isfinite(d) || d < fd->min || d > fd->max
            || (fd->max_open && d >= fd->max))
        {
            return race_fix_fail(e, "%s out of range", fd->name);
        }

        /* -0.0 would print as "-0" */

        if (d == 0) {
            d = 0;
        }

        *(double *) ((char *) f + fd->offset) = d;
        f->has |= fd->flag;
    }

    return 0;
}


static int
race_fix_fail(race_fix_error_t *e, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);

    return -1;
}


static void
race_fix_text(char *dst, size_t size, const char *fmt, ...)
{
    va_list  ap;

    if (dst == NULL || size == 0) {
        return;
    }

    va_start(ap, fmt);
    vsnprintf(dst, size, fmt, ap);
    va_end(ap);
}


/* a + b, held at the int64 ends: limits come from the configuration */

static int64_t
race_fix_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b) {
        return INT64_MAX;
    }

    if (b < 0 && a < INT64_MIN - b) {
        return INT64_MIN;
    }

    return a + b;
}


static void
race_fix_put(race_fix_out_t *o, const char *s, size_t len)
{
    if (o->full || (size_t) (o->last - o->pos) < len) {
        o->full = 1;
        return;
    }

    memcpy(o->pos, s, len);
    o->pos += len;
}


static void
race_fix_put_str(race_fix_out_t *o, const char *s)
{
    race_fix_put(o, s, strlen(s));
}


static void
race_fix_put_int(race_fix_out_t *o, int64_t v)
{
    int   n;
    char  buf[24];

    n = snprintf(buf, sizeof(buf), "%" PRId64, v);

    race_fix_put(o, buf, (size_t) n);
}


static void
race_fix_put_double(race_fix_out_t *o, double v)
{
    size_t  n;
    char    buf[RACE_JSON_NUMBER_SIZE];

    n = race_json_number(v, buf, sizeof(buf));

    race_fix_put(o, buf, n);
}
