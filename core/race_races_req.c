
/*
 * ngx_race: the races API's request bodies and the commands made of
 * them.
 */


#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "race_account.h"
#include "race_id.h"
#include "race_races_req.h"


static json_t *race_races_load(const char *json, size_t len, char *err,
    size_t size);
static int race_races_known(json_t *root, const char *const *names,
    char *err, size_t size);
static int race_races_name(json_t *v, const char *field, char *out,
    size_t out_size, char *err, size_t size);
static int race_races_time(json_t *v, const char *field, int64_t *out,
    char *err, size_t size);
static int race_races_checkpoints(json_t *v, race_races_body_t *b,
    char *err, size_t size);
static int race_races_relap(race_course_t *c, unsigned laps, char *err,
    size_t size);
static char *race_races_splice(char *obj, const char *key,
    const char *raw);
static int race_races_fail(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));


static const char *const  race_races_body_fields[] = {
    "name", "public", "start_at", "close_at", "course", "laps",
    "checkpoints", NULL
};

static const char *const  race_races_rider_fields[] = {
    "name", "bib", "user_id", "status", NULL
};

static const char *const  race_races_link_fields[] = {
    "ttl_s", NULL
};

static const char *const  race_races_checkpoint_fields[] = {
    "name", "dist_m", NULL
};


int
race_races_body_parse(const char *json, size_t len, int create,
    race_races_body_t *b, char *err, size_t size)
{
    int          rc;
    char        *text;
    json_t      *root, *v;
    const char  *what;

    memset(b, 0, sizeof(race_races_body_t));

    root = race_races_load(json, len, err, size);
    if (root == NULL) {
        return -1;
    }

    rc = -1;

    if (race_races_known(root, race_races_body_fields, err, size) != 0) {
        goto done;
    }

    if (create) {
        what = json_object_get(root, "name") == NULL ? "name"
               : json_object_get(root, "start_at") == NULL ? "start_at"
               : json_object_get(root, "public") == NULL ? "public"
               : json_object_get(root, "course") == NULL ? "course"
               : NULL;

        if (what) {
            race_races_fail(err, size, "\"%s\" is required", what);
            goto done;
        }
    }

    v = json_object_get(root, "name");
    if (v) {
        if (race_races_name(v, "name", b->name, sizeof(b->name), err, size)
            != 0)
        {
            goto done;
        }

        b->set |= RACE_RACES_SET_NAME;
    }

    v = json_object_get(root, "public");
    if (v) {
        if (!json_is_boolean(v)) {
            race_races_fail(err, size, "\"public\" must be true or false");
            goto done;
        }

        b->public = json_is_true(v);
        b->set |= RACE_RACES_SET_PUBLIC;
    }

    v = json_object_get(root, "start_at");
    if (v) {
        if (race_races_time(v, "start_at", &b->start_at, err, size) != 0) {
            goto done;
        }

        b->set |= RACE_RACES_SET_START_AT;
    }

    v = json_object_get(root, "close_at");
    if (v) {
        if (!json_is_null(v)
            && race_races_time(v, "close_at", &b->close_at, err, size) != 0)
        {
            goto done;
        }

        b->set |= RACE_RACES_SET_CLOSE_AT;
    }

    if ((b->set & RACE_RACES_SET_START_AT) && b->close_at != 0
        && b->close_at <= b->start_at)
    {
        race_races_fail(err, size, "\"close_at\" must be after \"start_at\"");
        goto done;
    }

    v = json_object_get(root, "laps");
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 1
            || json_integer_value(v) > RACE_COURSE_LAPS_MAX)
        {
            race_races_fail(err, size, "\"laps\" must be an integer from 1 "
                            "to %d", RACE_COURSE_LAPS_MAX);
            goto done;
        }

        b->laps = (unsigned) json_integer_value(v);
        b->set |= RACE_RACES_SET_LAPS;
    }

    v = json_object_get(root, "checkpoints");
    if (v) {
        if (race_races_checkpoints(v, b, err, size) != 0) {
            goto done;
        }

        b->set |= RACE_RACES_SET_CHECKPOINTS;
    }

    v = json_object_get(root, "course");
    if (v) {
        if (json_is_string(v)) {
            text = strdup(json_string_value(v));
            b->course_len = json_string_length(v);

        } else if (json_is_object(v)) {
            text = json_dumps(v, JSON_COMPACT);
            b->course_len = text ? strlen(text) : 0;

        } else {
            race_races_fail(err, size, "\"course\" must be GPX text as a "
                            "string, or a GeoJSON object");
            goto done;
        }

        if (text == NULL) {
            race_races_fail(err, size, "out of memory");
            goto done;
        }

        b->course = text;
        b->set |= RACE_RACES_SET_COURSE;

        if (b->course_len == 0) {
            race_races_fail(err, size, "\"course\" is empty");
            goto done;
        }
    }

    if (!create && b->set == 0) {
        race_races_fail(err, size, "nothing to change");
        goto done;
    }

    rc = 0;

done:

    json_decref(root);

    return rc;
}


void
race_races_body_free(race_races_body_t *b)
{
    free(b->course);
    b->course = NULL;
    b->course_len = 0;
}


int
race_races_rider_parse(const char *json, size_t len, int create,
    race_races_rider_t *rd, char *err, size_t size)
{
    int          rc;
    size_t       i, n;
    json_t      *root, *v;
    const char  *s;

    memset(rd, 0, sizeof(race_races_rider_t));

    root = race_races_load(json, len, err, size);
    if (root == NULL) {
        return -1;
    }

    rc = -1;

    if (race_races_known(root, race_races_rider_fields, err, size) != 0) {
        goto done;
    }

    if (create) {
        if (json_object_get(root, "name") == NULL
            || json_object_get(root, "bib") == NULL)
        {
            race_races_fail(err, size, "\"%s\" is required",
                            json_object_get(root, "name") ? "bib" : "name");
            goto done;
        }

        if (json_object_get(root, "status")) {
            race_races_fail(err, size, "\"status\" is set by a PATCH, not "
                            "when a rider is added");
            goto done;
        }
    }

    v = json_object_get(root, "name");
    if (v) {
        if (race_races_name(v, "name", rd->name, sizeof(rd->name), err, size)
            != 0)
        {
            goto done;
        }

        rd->set |= RACE_RIDER_NAME;
    }

    v = json_object_get(root, "bib");
    if (v) {
        s = json_string_value(v);
        n = json_string_length(v);

        for (i = 0; s && i < n; i++) {
            if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z')
                  || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-'
                  || s[i] == '_'))
            {
                break;
            }
        }

        if (s == NULL || n == 0 || n > RACE_BIB_MAX || i != n) {
            race_races_fail(err, size, "\"bib\" must be 1 to %d of "
                            "[A-Za-z0-9_-]", RACE_BIB_MAX);
            goto done;
        }

        memcpy(rd->bib, s, n + 1);
        rd->set |= RACE_RIDER_BIB;
    }

    v = json_object_get(root, "user_id");
    if (v && !json_is_null(v)) {
        s = json_string_value(v);
        n = json_string_length(v);

        for (i = 0; s && i < n; i++) {
            if (!((s[i] >= '0' && s[i] <= '9')
                  || (s[i] >= 'a' && s[i] <= 'f')))
            {
                break;
            }
        }

        if (s == NULL || n != RACE_USER_ID_MAX || i != n) {
            race_races_fail(err, size, "\"user_id\" must be a user's id");
            goto done;
        }

        memcpy(rd->user, s, n + 1);
        rd->set |= RACE_RIDER_USER;
    }

    v = json_object_get(root, "status");
    if (v) {
        s = json_string_value(v);

        if (s == NULL
            || (strcmp(s, "entered") != 0 && strcmp(s, "dnf") != 0
                && strcmp(s, "dsq") != 0))
        {
            race_races_fail(err, size, "\"status\" must be \"entered\", "
                            "\"dnf\" or \"dsq\"");
            goto done;
        }

        strcpy(rd->status, s);
        rd->set |= RACE_RIDER_STATUS;
    }

    if (!create && rd->set == 0) {
        race_races_fail(err, size, "nothing to change");
        goto done;
    }

    rc = 0;

done:

    json_decref(root);

    return rc;
}


int
race_races_link_parse(const char *json, size_t len, int64_t *ttl,
    char *err, size_t size)
{
    int      rc;
    json_t  *root, *v;

    *ttl = RACE_LINK_TTL_DEFAULT;

    if (len == 0) {
        return 0;           /* no body: the default */
    }

    root = race_races_load(json, len, err, size);
    if (root == NULL) {
        return -1;
    }

    rc = -1;

    if (race_races_known(root, race_races_link_fields, err, size) != 0) {
        goto done;
    }

    v = json_object_get(root, "ttl_s");
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 60
            || json_integer_value(v) > RACE_LINK_TTL_MAX)
        {
            race_races_fail(err, size, "\"ttl_s\" must be an integer from "
                            "60 to %d (30 days)", RACE_LINK_TTL_MAX);
            goto done;
        }

        *ttl = json_integer_value(v);
    }

    rc = 0;

done:

    json_decref(root);

    return rc;
}


int
race_races_id_generate(char *id, size_t n)
{
    size_t   i, k;
    uint8_t  raw[64];

    static const char  alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";

    /* 252 = 7 * 36: bytes above it are dropped, so no letter is likelier */

    i = 0;

    while (i < n) {
        if (RAND_bytes(raw, sizeof(raw)) != 1) {
            return -1;
        }

        for (k = 0; k < sizeof(raw) && i < n; k++) {
            if (raw[k] < 252) {
                id[i++] = alphabet[raw[k] % 36];
            }
        }
    }

    id[n] = '\0';

    return 0;
}


int
race_races_req_course(const race_races_body_t *b, race_course_t *c, int have,
    char *err, size_t size)
{
    size_t                    n;
    race_course_checkpoint_t  old[RACE_COURSE_CHECKPOINTS_MAX];

    n = 0;

    if (b->set & RACE_RACES_SET_COURSE) {
        if (have) {
            race_course_free(c);
        }

        if (race_course_parse(c, b->course, b->course_len,
                              (b->set & RACE_RACES_SET_LAPS) ? b->laps : 1,
                              err, size)
            != 0)
        {
            return -1;
        }

    } else if (!have) {
        race_races_fail(err, size, "the race has no course");
        return -1;

    } else {
        /* the course it had: its checkpoints stay unless the body's come */

        n = c->ncheckpoints;
        memcpy(old, c->checkpoints, n * sizeof(race_course_checkpoint_t));

        if ((b->set & RACE_RACES_SET_LAPS) && b->laps != c->laps
            && race_races_relap(c, b->laps, err, size) != 0)
        {
            return -1;
        }
    }

    if (b->set & RACE_RACES_SET_CHECKPOINTS) {
        if (race_course_set_checkpoints(c, b->checkpoints, b->ncheckpoints,
                                        err, size)
            != 0)
        {
            goto failed;
        }

    } else if (n > 0) {
        if (race_course_set_checkpoints(c, old, n, err, size) != 0) {
            goto failed;
        }
    }

    return 0;

failed:

    race_course_free(c);

    return -1;
}


/* the course again from its first lap, raced laps times */

static int
race_races_relap(race_course_t *c, unsigned laps, char *err, size_t size)
{
    int            rc;
    size_t         i, n;
    double        *lat, *lon, *ele;
    race_course_t  nc;

    n = c->lap_n;

    lat = malloc(3 * n * sizeof(double));
    if (lat == NULL) {
        race_course_free(c);
        race_races_fail(err, size, "out of memory");
        return -1;
    }

    lon = lat + n;
    ele = lon + n;

    for (i = 0; i < n; i++) {
        lat[i] = c->points[i].lat;
        lon[i] = c->points[i].lon;
        ele[i] = c->points[i].ele;
    }

    rc = race_course_from_points(&nc, lat, lon, c->has_ele ? ele : NULL, n,
                                 laps, err, size);
    free(lat);
    race_course_free(c);

    if (rc != 0) {
        return -1;
    }

    *c = nc;

    return 0;
}


char *
race_races_create_cmd(const race_races_body_t *b, const race_course_t *c,
    const char *id, const char *by)
{
    char    *text, *race, *summary, *compact;
    json_t  *o;

    summary = race_course_summary(c);
    compact = race_course_encode(c);
    text = NULL;
    race = NULL;

    if (summary == NULL || compact == NULL) {
        goto done;
    }

    o = json_pack("{s:s, s:s, s:b, s:I, s:o}", "id", id, "name", b->name,
                  "public", b->public, "start_at", (json_int_t) b->start_at,
                  "close_at", b->close_at ? json_integer(b->close_at)
                                          : json_null());
    if (o == NULL) {
        goto done;
    }

    race = json_dumps(o, JSON_COMPACT);
    json_decref(o);

    race = race_races_splice(race, "course", summary);
    if (race == NULL) {
        goto done;
    }

    o = json_pack("{s:s, s:s}", "op", "race_create", "by", by);
    if (o == NULL) {
        goto done;
    }

    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);

    text = race_races_splice(text, "race", race);
    text = race_races_splice(text, "course", compact);

done:

    free(race);
    free(summary);
    free(compact);

    return text;
}


char *
race_races_update_cmd(const race_races_body_t *b, const race_course_t *c,
    const char *id, const char *by)
{
    char    *text, *set, *summary, *compact;
    json_t  *o, *s;

    summary = NULL;
    compact = NULL;
    text = NULL;
    set = NULL;

    s = json_object();
    if (s == NULL) {
        return NULL;
    }

    if (((b->set & RACE_RACES_SET_NAME)
         && json_object_set_new(s, "name", json_string(b->name)) != 0)
        || ((b->set & RACE_RACES_SET_PUBLIC)
            && json_object_set_new(s, "public", json_boolean(b->public)) != 0)
        || ((b->set & RACE_RACES_SET_START_AT)
            && json_object_set_new(s, "start_at", json_integer(b->start_at))
               != 0)
        || ((b->set & RACE_RACES_SET_CLOSE_AT)
            && json_object_set_new(s, "close_at",
                                   b->close_at ? json_integer(b->close_at)
                                               : json_null())
               != 0))
    {
        json_decref(s);
        return NULL;
    }

    set = json_dumps(s, JSON_COMPACT);
    json_decref(s);

    if (c) {
        summary = race_course_summary(c);
        compact = race_course_encode(c);

        if (summary == NULL || compact == NULL) {
            goto done;
        }

        set = race_races_splice(set, "course", summary);
    }

    o = json_pack("{s:s, s:s, s:s}", "op", "race_update", "race", id,
                  "by", by);
    if (o == NULL) {
        goto done;
    }

    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);

    text = race_races_splice(text, "set", set);

    if (c) {
        text = race_races_splice(text, "course", compact);
    }

done:

    free(set);
    free(summary);
    free(compact);

    return text;
}


/* one JSON object, or NULL and err */

static json_t *
race_races_load(const char *json, size_t len, char *err, size_t size)
{
    json_t        *root;
    json_error_t   e;

    root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
                      &e);

    if (root == NULL) {
        if (json_error_code(&e) == json_error_duplicate_key) {
            race_races_fail(err, size, "body has a duplicate key");

        } else {
            /* the position only: e.text may quote the body */
            race_races_fail(err, size, "body is not valid JSON (at byte %d)",
                            e.position);
        }

        return NULL;
    }

    if (!json_is_object(root)) {
        race_races_fail(err, size, "body must be a JSON object");
        json_decref(root);
        return NULL;
    }

    return root;
}


static int
race_races_known(json_t *root, const char *const *names, char *err,
    size_t size)
{
    size_t       i;
    json_t      *v;
    const char  *key;

    json_object_foreach(root, key, v) {
        for (i = 0; names[i]; i++) {
            if (strcmp(names[i], key) == 0) {
                break;
            }
        }

        if (names[i] == NULL) {
            /* the key is the client's: named only when it is an id */
            if (race_id_valid(key, strlen(key)) && strlen(key) <= 32) {
                race_races_fail(err, size, "unknown field \"%s\"", key);

            } else {
                race_races_fail(err, size, "an unknown field");
            }

            return -1;
        }
    }

    return 0;
}


static int
race_races_name(json_t *v, const char *field, char *out, size_t out_size,
    char *err, size_t size)
{
    size_t       n;
    const char  *s;

    s = json_string_value(v);
    n = json_string_length(v);

    if (s == NULL || n >= out_size || !race_name_valid(s, n)) {
        race_races_fail(err, size, "\"%s\" must be 1 to %d characters, not "
                        "only spaces, without control characters", field,
                        RACE_NAME_MAX);
        return -1;
    }

    memcpy(out, s, n + 1);

    return 0;
}


static int
race_races_time(json_t *v, const char *field, int64_t *out, char *err,
    size_t size)
{
    if (!json_is_integer(v) || json_integer_value(v) < RACE_RACES_REQ_TIME_MIN
        || json_integer_value(v) > RACE_RACES_REQ_TIME_MAX)
    {
        race_races_fail(err, size, "\"%s\" must be a time in Unix "
                        "milliseconds", field);
        return -1;
    }

    *out = json_integer_value(v);

    return 0;
}


static int
race_races_checkpoints(json_t *v, race_races_body_t *b, char *err,
    size_t size)
{
    size_t   i;
    double   d;
    json_t  *cp, *dist;

    if (!json_is_array(v) || json_array_size(v) > RACE_COURSE_CHECKPOINTS_MAX)
    {
        race_races_fail(err, size, "\"checkpoints\" must be an array of at "
                        "most %d", RACE_COURSE_CHECKPOINTS_MAX);
        return -1;
    }

    json_array_foreach(v, i, cp) {
        if (!json_is_object(cp)
            || race_races_known(cp, race_races_checkpoint_fields, err, size)
               != 0
            || race_races_name(json_object_get(cp, "name"), "name",
                               b->checkpoints[i].name,
                               sizeof(b->checkpoints[i].name), err, size)
               != 0)
        {
            race_races_fail(err, size, "checkpoint %zu: a \"name\" of 1 to "
                            "%d bytes and a \"dist_m\" are required", i + 1,
                            RACE_COURSE_NAME_MAX);
            return -1;
        }

        dist = json_object_get(cp, "dist_m");
        d = json_number_value(dist);

        if (!json_is_number(dist) || !isfinite(d) || d <= 0) {
            race_races_fail(err, size, "checkpoint %zu: \"dist_m\" must be "
                            "a distance in metres after the start", i + 1);
            return -1;
        }

        b->checkpoints[i].dist = d;
    }

    b->ncheckpoints = json_array_size(v);

    return 0;
}


/* obj, a JSON object's text, with "key":raw added; obj is freed */

static char *
race_races_splice(char *obj, const char *key, const char *raw)
{
    char    *s;
    size_t   n, k, r;

    if (obj == NULL || raw == NULL) {
        free(obj);
        return NULL;
    }

    n = strlen(obj);
    k = strlen(key);
    r = strlen(raw);

    if (n < 2 || obj[n - 1] != '}') {
        free(obj);
        return NULL;
    }

    s = malloc(n + k + r + 5);
    if (s == NULL) {
        free(obj);
        return NULL;
    }

    memcpy(s, obj, n - 1);
    n--;

    if (n > 1) {
        s[n++] = ',';
    }

    s[n++] = '"';
    memcpy(s + n, key, k);
    n += k;
    s[n++] = '"';
    s[n++] = ':';
    memcpy(s + n, raw, r);
    n += r;
    s[n++] = '}';
    s[n] = '\0';

    free(obj);

    return s;
}


static int
race_races_fail(char *err, size_t size, const char *fmt, ...)
{
    va_list  args;

    if (err != NULL && size > 0) {
        va_start(args, fmt);
        vsnprintf(err, size, fmt, args);
        va_end(args);
    }

    return -1;
}
