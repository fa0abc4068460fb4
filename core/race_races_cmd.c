
/*
 * race-accounts: the race commands of topic race.accounts, parsed.
 *
 * Every field is checked as the module checks it before sending (ids
 * with race_id_valid(), names with race_name_valid(), times within
 * 2000..2100), and the objects a command carries are rebuilt from the
 * checked fields only: unknown keys are dropped, never stored.
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race_course.h"
#include "race_races_cmd.h"
#include "race_utf8.h"


static int race_races_id(json_t *obj, const char *key, char *dst,
    char *err, size_t size);
static int race_races_time(json_t *obj, const char *key, int null,
    json_t *dst, char *err, size_t size);
static int race_races_name(json_t *obj, const char *key, json_t *dst,
    char *err, size_t size);
static int race_races_bib(json_t *obj, json_t *dst, char *err,
    size_t size);
static int race_races_bool(json_t *obj, const char *key, json_t *dst,
    char *err, size_t size);
static int race_races_status(json_t *obj, json_t *dst, char *err,
    size_t size);
static int race_races_create_parse(json_t *root, race_races_cmd_t *cmd,
    char *err, size_t size);
static int race_races_update_parse(json_t *root, race_races_cmd_t *cmd,
    char *err, size_t size);
static int race_races_rider_parse(json_t *root, race_races_cmd_t *cmd,
    char *err, size_t size);
static int race_races_rider_set_parse(json_t *root, race_races_cmd_t *cmd,
    char *err, size_t size);
static int race_races_link_parse(json_t *root, race_races_cmd_t *cmd,
    char *err, size_t size);
static json_t *race_races_set_open(json_t *root, race_races_cmd_t *cmd,
    char *err, size_t size);
static int race_races_course_parse(json_t *root, json_t *v,
    race_races_cmd_t *cmd, char *err, size_t size);
static json_t *race_races_summary(json_t *v, char *err, size_t size);
static json_t *race_races_checkpoints(json_t *v, char *err, size_t size);
static json_t *race_races_points(json_t *v, char *err, size_t size);
static int race_races_course_check(json_t *summary, json_t *course,
    char *err, size_t size);
static int race_races_number(json_t *v, double min, double max);


static const char *const  race_races_ops[] = {
    "none", "race_create", "race_update", "race_rider_add",
    "race_rider_update", "race_rider_remove", "race_link_add",
    "race_link_remove", "race_start", "race_finish", "race_track"
};


int
race_races_cmd_parse(const char *data, size_t len, race_races_cmd_t *cmd,
    char *err, size_t size)
{
    int          rc;
    size_t       i;
    json_t      *root;
    const char  *op;

    memset(cmd, 0, sizeof(race_races_cmd_t));

    /* not ours: the account commands' parser says what is wrong */

    root = race_cmd_load(data, len, NULL, 0);
    if (root == NULL) {
        return 1;
    }

    rc = -1;

    op = race_cmd_op(root);

    if (strncmp(op, "race_", 5) != 0) {
        rc = 1;
        goto done;
    }

    for (i = 1; i < sizeof(race_races_ops) / sizeof(race_races_ops[0]); i++)
    {
        if (strcmp(op, race_races_ops[i]) == 0) {
            cmd->op = (race_races_op_e) i;
            break;
        }
    }

    /* what a reply needs first: a bad command is answered too */

    if (race_cmd_head(root, cmd->reply, cmd->req, err, size) != 0) {
        goto done;
    }

    if (cmd->op == RACE_RACES_NONE) {
        race_cmd_error(err, size, "\"op\" unknown");
        goto done;
    }

    if (race_cmd_int_opt(root, "deadline", 1, RACE_CMD_DEADLINE_MAX,
                         &cmd->deadline, err, size)
        != 0)
    {
        goto done;
    }

    /* a track is read by whoever may see the race: the module checked */

    if (cmd->op != RACE_RACES_TRACK
        && race_cmd_user(root, "by", cmd->by, err, size) != 0)
    {
        goto done;
    }

    switch (cmd->op) {

    case RACE_RACES_CREATE:
        rc = race_races_create_parse(root, cmd, err, size);
        goto done;

    default:
        break;
    }

    if (race_races_id(root, "race", cmd->race, err, size) != 0) {
        goto done;
    }

    switch (cmd->op) {

    case RACE_RACES_UPDATE:
        rc = race_races_update_parse(root, cmd, err, size);
        break;

    case RACE_RACES_RIDER_ADD:
        rc = race_races_rider_parse(root, cmd, err, size);
        break;

    case RACE_RACES_RIDER_UPDATE:
        rc = race_races_rider_set_parse(root, cmd, err, size);
        break;

    case RACE_RACES_RIDER_REMOVE:
    case RACE_RACES_TRACK:
        rc = race_races_id(root, "rider", cmd->rider, err, size);
        break;

    case RACE_RACES_LINK_ADD:
        rc = race_races_link_parse(root, cmd, err, size);
        break;

    case RACE_RACES_LINK_REMOVE:
        rc = race_races_id(root, "jti", cmd->jti, err, size);
        break;

    default: /* RACE_RACES_START, RACE_RACES_FINISH */
        rc = race_cmd_int(root, "at", RACE_RACES_TIME_MIN,
                          RACE_RACES_TIME_MAX, &cmd->at, err, size);
        break;
    }

done:

    if (rc != 0) {
        cmd->op = RACE_RACES_NONE;

        json_decref(cmd->data);
        json_decref(cmd->course);
        cmd->data = NULL;
        cmd->course = NULL;
    }

    json_decref(root);

    return rc;
}


void
race_races_cmd_free(race_races_cmd_t *cmd)
{
    json_decref(cmd->data);
    json_decref(cmd->course);
    cmd->data = NULL;
    cmd->course = NULL;
}


int
race_races_cmd_expired(const race_races_cmd_t *cmd, int64_t now)
{
    return cmd->deadline > 0 && now > cmd->deadline;
}


const char *
race_races_op_name(race_races_op_e op)
{
    if ((size_t) op >= sizeof(race_races_ops) / sizeof(race_races_ops[0])) {
        return "none";
    }

    return race_races_ops[op];
}


/*
 * "race":{"id","name","public","start_at","close_at"?,"course":{summary}},
 * "course":{"laps","points"}
 */

static int
race_races_create_parse(json_t *root, race_races_cmd_t *cmd, char *err,
    size_t size)
{
    json_t  *race, *d, *v;

    race = json_object_get(root, "race");

    if (!json_is_object(race)) {
        return race_cmd_error(err, size, "\"race\" missing or not an object");
    }

    if (race_races_id(race, "id", cmd->race, err, size) != 0) {
        return -1;
    }

    d = json_object();
    if (d == NULL) {
        return race_cmd_error(err, size, "out of memory");
    }

    cmd->data = d;

    if (json_object_set_new(d, "id", json_string(cmd->race)) != 0
        || race_races_name(race, "name", d, err, size) != 0
        || race_races_bool(race, "public", d, err, size) != 0
        || race_races_time(race, "start_at", 0, d, err, size) != 0
        || race_races_time(race, "close_at", 1, d, err, size) != 0)
    {
        return -1;
    }

    v = json_object_get(d, "close_at");

    if (json_is_integer(v)
        && json_integer_value(v)
           <= json_integer_value(json_object_get(d, "start_at")))
    {
        return race_cmd_error(err, size, "\"close_at\" is not after "
                              "\"start_at\"");
    }

    return race_races_course_parse(root, json_object_get(race, "course"),
                                   cmd, err, size);
}


/*
 * "set":{"name"?,"public"?,"start_at"?,"close_at"?,"course"?,
 * "checkpoints"?}, "course"? with set.course
 */

static int
race_races_update_parse(json_t *root, race_races_cmd_t *cmd, char *err,
    size_t size)
{
    json_t  *set, *d, *v, *cps;

    set = race_races_set_open(root, cmd, err, size);
    if (set == NULL) {
        return -1;
    }

    d = cmd->data;

    if ((json_object_get(set, "name") != NULL
         && race_races_name(set, "name", d, err, size) != 0)
        || (json_object_get(set, "public") != NULL
            && race_races_bool(set, "public", d, err, size) != 0)
        || (json_object_get(set, "start_at") != NULL
            && race_races_time(set, "start_at", 0, d, err, size) != 0)
        || (json_object_get(set, "close_at") != NULL
            && race_races_time(set, "close_at", 1, d, err, size) != 0))
    {
        return -1;
    }

    v = json_object_get(set, "course");

    if (v != NULL) {
        if (race_races_course_parse(root, v, cmd, err, size) != 0) {
            return -1;
        }

    } else if (json_object_get(root, "course") != NULL) {
        return race_cmd_error(err, size, "\"course\" without \"set.course\"");
    }

    v = json_object_get(set, "checkpoints");

    if (v != NULL) {
        cps = race_races_checkpoints(v, err, size);
        if (cps == NULL) {
            return -1;
        }

        if (json_object_set_new(d, "checkpoints", cps) != 0) {
            return race_cmd_error(err, size, "out of memory");
        }
    }

    if (json_object_size(d) == 0) {
        return race_cmd_error(err, size, "\"set\" changes nothing");
    }

    return 0;
}


/* "rider":{"id","name","bib","user"?,"jti","exp"} */

static int
race_races_rider_parse(json_t *root, race_races_cmd_t *cmd, char *err,
    size_t size)
{
    char     id[RACE_ID_MAX + 1];
    char     user[RACE_USER_ID_LEN + 1];
    json_t  *rider, *d;
    int64_t  exp;

    rider = json_object_get(root, "rider");

    if (!json_is_object(rider)) {
        return race_cmd_error(err, size, "\"rider\" missing or not an object");
    }

    d = json_object();
    if (d == NULL) {
        return race_cmd_error(err, size, "out of memory");
    }

    cmd->data = d;

    if (race_races_id(rider, "id", cmd->rider, err, size) != 0
        || json_object_set_new(d, "id", json_string(cmd->rider)) != 0
        || race_races_name(rider, "name", d, err, size) != 0
        || race_races_bib(rider, d, err, size) != 0)
    {
        return -1;
    }

    if (json_object_get(rider, "user") != NULL) {
        if (race_cmd_user(rider, "user", user, err, size) != 0) {
            return -1;
        }

        if (json_object_set_new(d, "user", json_string(user)) != 0) {
            return race_cmd_error(err, size, "out of memory");
        }
    }

    if (race_races_id(rider, "jti", id, err, size) != 0
        || race_cmd_int(rider, "exp", 1, RACE_RACES_EXP_MAX, &exp, err,
                        size)
           != 0)
    {
        return -1;
    }

    if (json_object_set_new(d, "status", json_string("entered")) != 0
        || json_object_set_new(d, "jti", json_string(id)) != 0
        || json_object_set_new(d, "exp", json_integer(exp)) != 0)
    {
        return race_cmd_error(err, size, "out of memory");
    }

    return 0;
}


/* "rider":"<id>", "set":{"name"?,"bib"?,"status"?} */

static int
race_races_rider_set_parse(json_t *root, race_races_cmd_t *cmd, char *err,
    size_t size)
{
    json_t  *set, *d;

    if (race_races_id(root, "rider", cmd->rider, err, size) != 0) {
        return -1;
    }

    set = race_races_set_open(root, cmd, err, size);
    if (set == NULL) {
        return -1;
    }

    d = cmd->data;

    if ((json_object_get(set, "name") != NULL
         && race_races_name(set, "name", d, err, size) != 0)
        || (json_object_get(set, "bib") != NULL
            && race_races_bib(set, d, err, size) != 0)
        || (json_object_get(set, "status") != NULL
            && race_races_status(set, d, err, size) != 0))
    {
        return -1;
    }

    if (json_object_size(d) == 0) {
        return race_cmd_error(err, size, "\"set\" changes nothing");
    }

    return 0;
}


/* "link":{"jti","exp"} */

static int
race_races_link_parse(json_t *root, race_races_cmd_t *cmd, char *err,
    size_t size)
{
    json_t   *link;
    int64_t   exp;

    link = json_object_get(root, "link");

    if (!json_is_object(link)) {
        return race_cmd_error(err, size, "\"link\" missing or not an object");
    }

    if (race_races_id(link, "jti", cmd->jti, err, size) != 0
        || race_cmd_int(link, "exp", 1, RACE_RACES_EXP_MAX, &exp, err,
                        size)
           != 0)
    {
        return -1;
    }

    cmd->data = json_pack("{s:s, s:I}", "jti", cmd->jti,
                          "exp", (json_int_t) exp);
    if (cmd->data == NULL) {
        return race_cmd_error(err, size, "out of memory");
    }

    return 0;
}


/* root's "set", an object, and cmd->data, a new one for what it sets */

static json_t *
race_races_set_open(json_t *root, race_races_cmd_t *cmd, char *err,
    size_t size)
{
    json_t  *set;

    set = json_object_get(root, "set");

    if (!json_is_object(set)) {
        race_cmd_error(err, size, "\"set\" missing or not an object");
        return NULL;
    }

    cmd->data = json_object();
    if (cmd->data == NULL) {
        race_cmd_error(err, size, "out of memory");
        return NULL;
    }

    return set;
}


/*
 * A course changed: its summary v into cmd->data's "course", its points
 * (root's "course") into cmd->course, both of as many laps.
 */

static int
race_races_course_parse(json_t *root, json_t *v, race_races_cmd_t *cmd,
    char *err, size_t size)
{
    json_t  *summary;

    summary = race_races_summary(v, err, size);
    if (summary == NULL) {
        return -1;
    }

    if (json_object_set_new(cmd->data, "course", summary) != 0) {
        return race_cmd_error(err, size, "out of memory");
    }

    cmd->course = race_races_points(json_object_get(root, "course"), err,
                                    size);
    if (cmd->course == NULL) {
        return -1;
    }

    return race_races_course_check(summary, cmd->course, err, size);
}


/*
 * The summary of a course, as race_course_summary() writes it: {"laps",
 * "length_m","lap_length_m","points","ele","bbox","checkpoints"}.
 */

static json_t *
race_races_summary(json_t *v, char *err, size_t size)
{
    size_t   i;
    json_t  *s, *f, *bbox, *cps;

    if (!json_is_object(v)) {
        race_cmd_error(err, size, "the course summary missing or not an "
                       "object");
        return NULL;
    }

    f = json_object_get(v, "laps");

    if (!json_is_integer(f) || json_integer_value(f) < 1
        || json_integer_value(f) > RACE_RACES_LAPS_MAX)
    {
        race_cmd_error(err, size, "the summary's \"laps\" missing or out of "
                       "range");
        return NULL;
    }

    if (!race_races_number(json_object_get(v, "length_m"), 0,
                           RACE_COURSE_LENGTH_MAX)
        || !race_races_number(json_object_get(v, "lap_length_m"), 0,
                              RACE_COURSE_LENGTH_MAX))
    {
        race_cmd_error(err, size, "the summary's lengths missing or out of "
                       "range");
        return NULL;
    }

    f = json_object_get(v, "points");

    if (!json_is_integer(f) || json_integer_value(f) < 2
        || json_integer_value(f) > RACE_RACES_POINTS_MAX)
    {
        race_cmd_error(err, size, "the summary's \"points\" missing or out of "
                       "range");
        return NULL;
    }

    if (!json_is_boolean(json_object_get(v, "ele"))) {
        race_cmd_error(err, size, "the summary's \"ele\" missing or not a "
                       "boolean");
        return NULL;
    }

    f = json_object_get(v, "bbox");

    if (!json_is_array(f) || json_array_size(f) != 4
        || !race_races_number(json_array_get(f, 0), -180, 180)
        || !race_races_number(json_array_get(f, 1), -90, 90)
        || !race_races_number(json_array_get(f, 2), -180, 180)
        || !race_races_number(json_array_get(f, 3), -90, 90))
    {
        race_cmd_error(err, size, "the summary's \"bbox\" missing or not "
                       "[minlon,minlat,maxlon,maxlat]");
        return NULL;
    }

    f = json_object_get(v, "checkpoints");
    cps = f != NULL ? race_races_checkpoints(f, err, size) : json_array();

    if (cps == NULL) {
        return NULL;
    }

    bbox = json_array();
    s = json_object();

    if (bbox == NULL || s == NULL) {
        json_decref(cps);
        json_decref(bbox);
        json_decref(s);
        race_cmd_error(err, size, "out of memory");
        return NULL;
    }

    f = json_object_get(v, "bbox");

    for (i = 0; i < 4; i++) {
        if (json_array_append(bbox, json_array_get(f, i)) != 0) {
            goto failed;
        }
    }

    if (json_object_set(s, "laps", json_object_get(v, "laps")) != 0
        || json_object_set(s, "length_m", json_object_get(v, "length_m"))
           != 0
        || json_object_set(s, "lap_length_m",
                           json_object_get(v, "lap_length_m"))
           != 0
        || json_object_set(s, "points", json_object_get(v, "points")) != 0
        || json_object_set(s, "ele", json_object_get(v, "ele")) != 0
        || json_object_set(s, "bbox", bbox) != 0
        || json_object_set(s, "checkpoints", cps) != 0)
    {
        goto failed;
    }

    json_decref(bbox);
    json_decref(cps);

    return s;

failed:

    json_decref(cps);
    json_decref(bbox);
    json_decref(s);
    race_cmd_error(err, size, "out of memory");

    return NULL;
}


/* [{"name","dist_m"}...], at most RACE_RACES_CP_MAX */

static json_t *
race_races_checkpoints(json_t *v, char *err, size_t size)
{
    size_t       i;
    json_t      *cps, *cp, *name, *dist;
    const char  *s;

    if (!json_is_array(v) || json_array_size(v) > RACE_RACES_CP_MAX) {
        race_cmd_error(err, size, "\"checkpoints\" not an array of at most "
                       "%d", RACE_RACES_CP_MAX);
        return NULL;
    }

    cps = json_array();
    if (cps == NULL) {
        race_cmd_error(err, size, "out of memory");
        return NULL;
    }

    json_array_foreach(v, i, cp) {
        name = json_object_get(cp, "name");
        dist = json_object_get(cp, "dist_m");
        s = json_is_string(name) ? json_string_value(name) : NULL;

        if (s == NULL || json_string_length(name) < 1
            || json_string_length(name) > RACE_RACES_CP_NAME_MAX
            || !race_name_valid(s, json_string_length(name))
            || !race_races_number(dist, 0, RACE_COURSE_LENGTH_MAX))
        {
            json_decref(cps);
            race_cmd_error(err, size, "checkpoint %zu: not a name and a "
                           "distance", i + 1);
            return NULL;
        }

        if (json_array_append_new(cps, json_pack("{s:O, s:O}", "name", name,
                                                 "dist_m", dist))
            != 0)
        {
            json_decref(cps);
            race_cmd_error(err, size, "out of memory");
            return NULL;
        }
    }

    return cps;
}


/* the compact course: {"laps","points":[[lat,lon,ele?]...]} */

static json_t *
race_races_points(json_t *v, char *err, size_t size)
{
    size_t   i, n;
    json_t  *c, *laps, *points, *p, *q;

    if (!json_is_object(v)) {
        race_cmd_error(err, size, "\"course\" missing or not an object");
        return NULL;
    }

    laps = json_object_get(v, "laps");

    if (!json_is_integer(laps) || json_integer_value(laps) < 1
        || json_integer_value(laps) > RACE_RACES_LAPS_MAX)
    {
        race_cmd_error(err, size, "\"course.laps\" missing or out of range");
        return NULL;
    }

    points = json_object_get(v, "points");
    n = json_array_size(points);

    if (!json_is_array(points) || n < 2 || n > RACE_RACES_POINTS_MAX) {
        race_cmd_error(err, size, "\"course.points\" not an array of 2 to %d "
                       "points", RACE_RACES_POINTS_MAX);
        return NULL;
    }

    c = json_pack("{s:O, s:[]}", "laps", laps, "points");
    if (c == NULL) {
        race_cmd_error(err, size, "out of memory");
        return NULL;
    }

    json_array_foreach(points, i, p) {

        if (!json_is_array(p)
            || (json_array_size(p) != 2 && json_array_size(p) != 3)
            || !race_races_number(json_array_get(p, 0), -90, 90)
            || !race_races_number(json_array_get(p, 1), -180, 180)
            || (json_array_size(p) == 3
                && !race_races_number(json_array_get(p, 2), -500, 9000)))
        {
            json_decref(c);
            race_cmd_error(err, size, "course point %zu: not [lat,lon] or "
                           "[lat,lon,ele] in range", i + 1);
            return NULL;
        }

        q = json_copy(p);

        if (q == NULL
            || json_array_append_new(json_object_get(c, "points"), q) != 0)
        {
            json_decref(c);
            race_cmd_error(err, size, "out of memory");
            return NULL;
        }
    }

    return c;
}


/*
 * The course as the course core reads it back (the checks of its
 * points that the shape above does not make: two distinct points at
 * least, laps only on a loop), and the summary made of it: the same
 * laps and points, its checkpoints on the course.
 */

static int
race_races_course_check(json_t *summary, json_t *course, char *err,
    size_t size)
{
    int                        rc;
    char                      *text, why[RACE_COURSE_ERR_MAX];
    size_t                     i, n;
    json_t                    *cps, *cp;
    race_course_t              c;
    race_course_checkpoint_t   list[RACE_COURSE_CHECKPOINTS_MAX];

    if (!json_equal(json_object_get(summary, "laps"),
                    json_object_get(course, "laps")))
    {
        return race_cmd_error(err, size, "\"course.laps\" differs from "
                              "the summary's");
    }

    text = json_dumps(course, JSON_COMPACT);
    if (text == NULL) {
        return race_cmd_error(err, size, "out of memory");
    }

    rc = race_course_decode(&c, text, strlen(text), why, sizeof(why));
    free(text);

    if (rc != 0) {
        return race_cmd_error(err, size, "\"course\": %s", why);
    }

    if (json_integer_value(json_object_get(summary, "points"))
        != (json_int_t) c.lap_n)
    {
        race_course_free(&c);
        return race_cmd_error(err, size, "the summary's \"points\" is "
                              "not the course's");
    }

    cps = json_object_get(summary, "checkpoints");
    n = json_array_size(cps);

    if (n > RACE_COURSE_CHECKPOINTS_MAX) {
        race_course_free(&c);
        return race_cmd_error(err, size, "too many checkpoints");
    }

    json_array_foreach(cps, i, cp) {
        snprintf(list[i].name, sizeof(list[i].name), "%s",
                 json_string_value(json_object_get(cp, "name")));
        list[i].dist = json_number_value(json_object_get(cp, "dist_m"));
    }

    rc = race_course_set_checkpoints(&c, list, n, why, sizeof(why));
    race_course_free(&c);

    if (rc != 0) {
        return race_cmd_error(err, size, "the summary's checkpoints: %s",
                              why);
    }

    return 0;
}


static int
race_races_number(json_t *v, double min, double max)
{
    double  d;

    if (!json_is_number(v)) {
        return 0;
    }

    d = json_number_value(v);

    return isfinite(d) && d >= min && d <= max;
}


static int
race_races_id(json_t *obj, const char *key, char *dst, char *err,
    size_t size)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (!json_is_string(v)
        || !race_id_valid(json_string_value(v), json_string_length(v)))
    {
        return race_cmd_error(err, size, "\"%s\" missing or not an id",
                                key);
    }

    /* race_id_valid(): at most RACE_ID_MAX bytes */
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);

    return 0;
}


/* a time in Unix ms into dst[key]; with null, null or absent is null */

static int
race_races_time(json_t *obj, const char *key, int null, json_t *dst,
    char *err, size_t size)
{
    json_t   *v;
    int64_t   t;

    v = json_object_get(obj, key);

    if (null && (v == NULL || json_is_null(v))) {
        return json_object_set_new(dst, key, json_null()) == 0
               ? 0 : race_cmd_error(err, size, "out of memory");
    }

    if (race_cmd_int(obj, key, RACE_RACES_TIME_MIN, RACE_RACES_TIME_MAX, &t,
                     err, size)
        != 0)
    {
        return -1;
    }

    return json_object_set_new(dst, key, json_integer(t)) == 0
           ? 0 : race_cmd_error(err, size, "out of memory");
}


static int
race_races_name(json_t *obj, const char *key, json_t *dst, char *err,
    size_t size)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (!json_is_string(v)
        || !race_name_valid(json_string_value(v), json_string_length(v)))
    {
        return race_cmd_error(err, size, "\"%s\" missing or not a name",
                                key);
    }

    return json_object_set(dst, key, v) == 0
           ? 0 : race_cmd_error(err, size, "out of memory");
}


/* 1 to RACE_RACES_BIB_MAX printable ASCII bytes, no spaces */

static int
race_races_bib(json_t *obj, json_t *dst, char *err, size_t size)
{
    char     bib[RACE_RACES_BIB_MAX + 1];

    if (race_cmd_token(obj, "bib", bib, RACE_RACES_BIB_MAX) != 0) {
        return race_cmd_error(err, size, "\"bib\" missing or not 1 to %d "
                              "printable characters", RACE_RACES_BIB_MAX);
    }

    return json_object_set_new(dst, "bib", json_string(bib)) == 0
           ? 0 : race_cmd_error(err, size, "out of memory");
}


static int
race_races_bool(json_t *obj, const char *key, json_t *dst, char *err,
    size_t size)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (!json_is_boolean(v)) {
        return race_cmd_error(err, size, "\"%s\" missing or not a "
                              "boolean", key);
    }

    return json_object_set(dst, key, v) == 0
           ? 0 : race_cmd_error(err, size, "out of memory");
}


/* a rider's status: "entered", "dnf" or "dsq" */

static int
race_races_status(json_t *obj, json_t *dst, char *err, size_t size)
{
    json_t      *v;
    const char  *s;

    v = json_object_get(obj, "status");
    s = json_is_string(v) && strlen(json_string_value(v))
                             == json_string_length(v)
        ? json_string_value(v) : "";

    if (strcmp(s, "entered") != 0 && strcmp(s, "dnf") != 0
        && strcmp(s, "dsq") != 0)
    {
        return race_cmd_error(err, size, "\"status\" missing or not entered, "
                              "dnf or dsq");
    }

    return json_object_set(dst, "status", v) == 0
           ? 0 : race_cmd_error(err, size, "out of memory");
}
