
/*
 * race-accounts: a race document changed by a command, by the clock,
 * and shown (docs/INTERNALS.md, "Races").
 *
 * Applying works on the document as read, so that a command delivered
 * again finds its change there and changes nothing: an entry or a link
 * that exists already is not added twice, one that is gone is not
 * removed twice, a field set to its value is no change.  The status only
 * moves forward; what the riders race on (course, start) changes only
 * while the race is scheduled.
 */


#include <stdio.h>
#include <string.h>

#include "race_races_cmd.h"


static const char *race_races_update(json_t *doc, const race_races_cmd_t *cmd,
    const char *status, race_races_change_t *ch);
static const char *race_races_rider_add(json_t *doc,
    const race_races_cmd_t *cmd, const char *status,
    race_races_change_t *ch);
static const char *race_races_rider_update(json_t *doc,
    const race_races_cmd_t *cmd, race_races_change_t *ch);
static const char *race_races_rider_remove(json_t *doc,
    const race_races_cmd_t *cmd, race_races_change_t *ch);
static const char *race_races_link_add(json_t *doc,
    const race_races_cmd_t *cmd, int64_t now, race_races_change_t *ch);
static const char *race_races_link_remove(json_t *doc,
    const race_races_cmd_t *cmd, race_races_change_t *ch);
static const char *race_races_move(json_t *doc, const race_races_cmd_t *cmd,
    const char *status, race_races_change_t *ch);
static int race_races_set(json_t *obj, const char *key, json_t *v,
    unsigned *changed);
static size_t race_races_find(json_t *array, const char *key,
    const char *value);
static const char *race_races_str(json_t *obj, const char *key);
static int race_races_bump(json_t *doc, int64_t now);


#define RACE_RACES_NOT_FOUND  ((size_t) -1)


json_t *
race_races_create(const race_races_cmd_t *cmd, int64_t now)
{
    json_t  *d;

    d = cmd->data;

    return json_pack("{s:s, s:O, s:s, s:O, s:s, s:O, s:O, s:n, s:n, s:I, "
                     "s:I, s:i, s:O, s:[], s:[]}",
                     "_id", cmd->race,
                     "name", json_object_get(d, "name"),
                     "owner", cmd->by,
                     "public", json_object_get(d, "public"),
                     "status", "scheduled",
                     "start_at", json_object_get(d, "start_at"),
                     "close_at", json_object_get(d, "close_at"),
                     "started_at",
                     "finished_at",
                     "created", (json_int_t) now,
                     "updated", (json_int_t) now,
                     "rev", 1,
                     "course", json_object_get(d, "course"),
                     "riders",
                     "links");
}


const char *
race_races_apply(json_t *doc, const race_races_cmd_t *cmd, int admin,
    int64_t now, race_races_change_t *ch)
{
    json_t      *old;
    const char  *status, *code;

    memset(ch, 0, sizeof(race_races_change_t));

    if (strcmp(race_races_str(doc, "owner"), cmd->by) != 0 && !admin) {
        return "not_owner";
    }

    /* a refused command leaves the document as it was */

    old = json_deep_copy(doc);
    if (old == NULL) {
        return "bad_command";
    }

    status = race_races_str(old, "status");

    switch (cmd->op) {

    case RACE_RACES_UPDATE:
        code = race_races_update(doc, cmd, status, ch);
        break;

    case RACE_RACES_RIDER_ADD:
        code = race_races_rider_add(doc, cmd, status, ch);
        break;

    case RACE_RACES_RIDER_UPDATE:
        code = race_races_rider_update(doc, cmd, ch);
        break;

    case RACE_RACES_RIDER_REMOVE:
        code = race_races_rider_remove(doc, cmd, ch);
        break;

    case RACE_RACES_LINK_ADD:
        code = race_races_link_add(doc, cmd, now, ch);
        break;

    case RACE_RACES_LINK_REMOVE:
        code = race_races_link_remove(doc, cmd, ch);
        break;

    case RACE_RACES_START:
    case RACE_RACES_FINISH:
        code = race_races_move(doc, cmd, status, ch);
        break;

    default:
        code = "bad_command";
        break;
    }

    if (code == NULL && ch->changed && race_races_bump(doc, now) != 0) {
        code = "bad_command";
    }

    if (code != NULL) {
        json_decref(ch->rider);
        json_decref(ch->link);
        memset(ch, 0, sizeof(race_races_change_t));

        if (json_object_update(doc, old) != 0) {
            code = "bad_command";
        }
    }

    json_decref(old);

    return code;
}


/*
 * Name and public at any time; start_at, the course and its checkpoints
 * while scheduled; close_at until finished.  Fields set to what they are
 * change nothing and are refused nothing.
 */

static const char *
race_races_update(json_t *doc, const race_races_cmd_t *cmd,
    const char *status, race_races_change_t *ch)
{
    int          scheduled;
    size_t       i;
    json_t      *set, *v, *course, *close;
    unsigned     changed;
    const char  *key;

    static const char  *keys[] = { "name", "public", "start_at", "close_at",
                                   "course", NULL };

    set = cmd->data;
    scheduled = (strcmp(status, "scheduled") == 0);
    changed = 0;

    for (i = 0; keys[i] != NULL; i++) {
        key = keys[i];
        v = json_object_get(set, key);

        if (v == NULL || json_equal(json_object_get(doc, key), v)) {
            continue;
        }

        if (((strcmp(key, "start_at") == 0 || strcmp(key, "course") == 0)
             && !scheduled)
            || (strcmp(key, "close_at") == 0
                && strcmp(status, "finished") == 0))
        {
            return "bad_status";
        }

        if (race_races_set(doc, key, v, &changed) != 0) {
            return "bad_command";
        }
    }

    v = json_object_get(set, "checkpoints");
    course = json_object_get(doc, "course");

    if (v != NULL && !json_equal(json_object_get(course, "checkpoints"), v))
    {
        if (!scheduled) {
            return "bad_status";
        }

        /* the summary may be the command's own: change a copy */

        course = json_deep_copy(course);

        if (course == NULL
            || race_races_set(course, "checkpoints", v, &changed) != 0
            || json_object_set_new(doc, "course", course) != 0)
        {
            return "bad_command";
        }
    }

    close = json_object_get(doc, "close_at");

    if (json_is_integer(close)
        && json_integer_value(close)
           <= json_integer_value(json_object_get(doc, "start_at")))
    {
        return "bad_command";
    }

    ch->changed = changed;

    return NULL;
}


static const char *
race_races_rider_add(json_t *doc, const race_races_cmd_t *cmd,
    const char *status, race_races_change_t *ch)
{
    size_t   i;
    json_t  *riders, *rider;

    riders = json_object_get(doc, "riders");

    i = race_races_find(riders, "id", cmd->rider);

    if (i != RACE_RACES_NOT_FOUND) {
        /* delivered again */
        ch->rider = json_incref(json_array_get(riders, i));
        return NULL;
    }

    if (strcmp(status, "finished") == 0) {
        return "bad_status";
    }

    if (race_races_find(riders, "bib",
                        race_races_str(cmd->data, "bib"))
        != RACE_RACES_NOT_FOUND)
    {
        return "bib_taken";
    }

    if (json_array_size(riders) >= RACE_RACES_RIDERS_MAX) {
        return "bad_command";
    }

    rider = json_deep_copy(cmd->data);

    if (rider == NULL || json_array_append(riders, rider) != 0) {
        json_decref(rider);
        return "bad_command";
    }

    ch->rider = rider;
    ch->changed = 1;

    return NULL;
}


static const char *
race_races_rider_update(json_t *doc, const race_races_cmd_t *cmd,
    race_races_change_t *ch)
{
    size_t       i, j;
    json_t      *riders, *rider, *v;
    unsigned     changed;
    const char  *key;

    riders = json_object_get(doc, "riders");

    i = race_races_find(riders, "id", cmd->rider);

    if (i == RACE_RACES_NOT_FOUND) {
        return "no_rider";
    }

    rider = json_array_get(riders, i);

    v = json_object_get(cmd->data, "bib");

    if (v != NULL) {
        j = race_races_find(riders, "bib", json_string_value(v));

        if (j != RACE_RACES_NOT_FOUND && j != i) {
            return "bib_taken";
        }
    }

    changed = 0;

    json_object_foreach(cmd->data, key, v) {
        if (race_races_set(rider, key, v, &changed) != 0) {
            return "bad_command";
        }
    }

    ch->rider = json_incref(rider);
    ch->changed = changed;

    return NULL;
}


/* the token is revoked first; an entry already gone is no change */

static const char *
race_races_rider_remove(json_t *doc, const race_races_cmd_t *cmd,
    race_races_change_t *ch)
{
    size_t       i;
    json_t      *riders, *rider;
    const char  *user;

    riders = json_object_get(doc, "riders");

    i = race_races_find(riders, "id", cmd->rider);

    if (i == RACE_RACES_NOT_FOUND) {
        return NULL;
    }

    rider = json_incref(json_array_get(riders, i));

    if (json_array_remove(riders, i) != 0) {
        json_decref(rider);
        return "bad_command";
    }

    ch->rider = rider;
    ch->changed = 1;

    snprintf(ch->revoke_jti, sizeof(ch->revoke_jti), "%s",
             race_races_str(rider, "jti"));
    ch->revoke_exp = json_integer_value(json_object_get(rider, "exp"));

    /* the user's set of races keeps the race while another entry is his */

    user = race_races_str(rider, "user");

    if (user[0] != '\0'
        && race_races_find(riders, "user", user) == RACE_RACES_NOT_FOUND)
    {
        snprintf(ch->user_gone, sizeof(ch->user_gone), "%s", user);
    }

    return NULL;
}


static const char *
race_races_link_add(json_t *doc, const race_races_cmd_t *cmd, int64_t now,
    race_races_change_t *ch)
{
    size_t   i;
    json_t  *links, *link;

    links = json_object_get(doc, "links");

    i = race_races_find(links, "jti", cmd->jti);

    if (i != RACE_RACES_NOT_FOUND) {
        ch->link = json_incref(json_array_get(links, i));
        return NULL;
    }

    if (json_array_size(links) >= RACE_RACES_LINKS_MAX) {
        return "bad_command";
    }

    link = json_pack("{s:s, s:O, s:I}", "jti", cmd->jti,
                     "exp", json_object_get(cmd->data, "exp"),
                     "created", (json_int_t) now);

    if (link == NULL || json_array_append(links, link) != 0) {
        json_decref(link);
        return "bad_command";
    }

    ch->link = link;
    ch->changed = 1;

    return NULL;
}


static const char *
race_races_link_remove(json_t *doc, const race_races_cmd_t *cmd,
    race_races_change_t *ch)
{
    size_t   i;
    json_t  *links, *link;

    links = json_object_get(doc, "links");

    i = race_races_find(links, "jti", cmd->jti);

    if (i == RACE_RACES_NOT_FOUND) {
        return NULL;
    }

    link = json_incref(json_array_get(links, i));

    if (json_array_remove(links, i) != 0) {
        json_decref(link);
        return "bad_command";
    }

    ch->link = link;
    ch->changed = 1;

    snprintf(ch->revoke_jti, sizeof(ch->revoke_jti), "%s", cmd->jti);
    ch->revoke_exp = json_integer_value(json_object_get(link, "exp"));

    return NULL;
}


/*
 * race_start: scheduled to live at "at"; race_finish: live to finished
 * at "at" (not before the start).  A move already made at the same time
 * is this command delivered again.
 */

static const char *
race_races_move(json_t *doc, const race_races_cmd_t *cmd, const char *status,
    race_races_change_t *ch)
{
    int64_t      at;
    json_t      *started;
    const char  *from, *to, *key;

    at = cmd->at;

    if (cmd->op == RACE_RACES_START) {
        from = "scheduled";
        to = "live";
        key = "started_at";

    } else {
        from = "live";
        to = "finished";
        key = "finished_at";

        started = json_object_get(doc, "started_at");

        if (json_is_integer(started) && json_integer_value(started) > at) {
            at = json_integer_value(started);
        }
    }

    if (strcmp(status, to) == 0
        && json_integer_value(json_object_get(doc, key)) == at)
    {
        return NULL;
    }

    if (strcmp(status, from) != 0) {
        return "bad_status";
    }

    if (json_object_set_new(doc, "status", json_string(to)) != 0
        || json_object_set_new(doc, key, json_integer(at)) != 0)
    {
        return "bad_command";
    }

    ch->changed = 1;

    return NULL;
}


int
race_races_tick(json_t *doc, int64_t now)
{
    int          changed;
    json_t      *v;
    int64_t      t, started;
    const char  *status;

    changed = 0;
    status = race_races_str(doc, "status");

    v = json_object_get(doc, "start_at");

    if (strcmp(status, "scheduled") == 0 && json_is_integer(v)
        && json_integer_value(v) <= now)
    {
        if (json_object_set_new(doc, "status", json_string("live")) != 0
            || json_object_set(doc, "started_at", v) != 0)
        {
            return 0;
        }

        status = "live";
        changed = 1;
    }

    v = json_object_get(doc, "close_at");

    if (strcmp(status, "live") == 0 && json_is_integer(v)
        && json_integer_value(v) <= now)
    {
        t = json_integer_value(v);
        started = json_integer_value(json_object_get(doc, "started_at"));

        if (json_object_set_new(doc, "status", json_string("finished")) != 0
            || json_object_set_new(doc, "finished_at",
                                   json_integer(t > started ? t : started))
               != 0)
        {
            return 0;
        }

        changed = 1;
    }

    if (changed && race_races_bump(doc, now) != 0) {
        return 0;
    }

    return changed;
}


/* a document of the contract: every field there, of its type */

int
race_races_doc_valid(const json_t *doc, char *err, size_t size)
{
    size_t       i;
    json_t      *v, *e;
    const char  *s, *key;

    static const char  *times[] = { "start_at", "close_at", "started_at",
                                    "finished_at", NULL };

    if (!json_is_object(doc)) {
        snprintf(err, size, "not an object");
        return -1;
    }

    v = json_object_get(doc, "_id");

    if (!json_is_string(v)
        || !race_id_valid(json_string_value(v), json_string_length(v)))
    {
        snprintf(err, size, "\"_id\" not an id");
        return -1;
    }

    s = race_races_str((json_t *) doc, "status");

    if (!json_is_string(json_object_get(doc, "name"))
        || strlen(race_races_str((json_t *) doc, "owner"))
           != RACE_USER_ID_LEN
        || !json_is_boolean(json_object_get(doc, "public"))
        || (strcmp(s, "scheduled") != 0 && strcmp(s, "live") != 0
            && strcmp(s, "finished") != 0))
    {
        snprintf(err, size, "name, owner, public or status missing or bad");
        return -1;
    }

    for (i = 0; times[i] != NULL; i++) {
        v = json_object_get(doc, times[i]);

        if (!json_is_integer(v) && !(i > 0 && json_is_null(v))) {
            snprintf(err, size, "\"%s\" missing or not a time", times[i]);
            return -1;
        }
    }

    if (!json_is_integer(json_object_get(doc, "rev"))
        || json_integer_value(json_object_get(doc, "rev")) < 1
        || !json_is_integer(json_object_get(doc, "created"))
        || !json_is_integer(json_object_get(doc, "updated"))
        || !json_is_object(json_object_get(doc, "course"))
        || !json_is_array(json_object_get(json_object_get(doc, "course"),
                                          "checkpoints")))
    {
        snprintf(err, size, "rev, created, updated or course missing or "
                 "bad");
        return -1;
    }

    v = json_object_get(doc, "riders");

    if (!json_is_array(v)) {
        snprintf(err, size, "\"riders\" not an array");
        return -1;
    }

    json_array_foreach(v, i, e) {
        key = race_races_str(e, "id");

        if (!race_id_valid(key, strlen(key))
            || !json_is_string(json_object_get(e, "name"))
            || !json_is_string(json_object_get(e, "bib"))
            || !json_is_string(json_object_get(e, "status"))
            || !json_is_string(json_object_get(e, "jti"))
            || !json_is_integer(json_object_get(e, "exp"))
            || (json_object_get(e, "user") != NULL
                && strlen(race_races_str(e, "user")) != RACE_USER_ID_LEN))
        {
            snprintf(err, size, "rider %zu not of the contract", i + 1);
            return -1;
        }
    }

    v = json_object_get(doc, "links");

    if (!json_is_array(v)) {
        snprintf(err, size, "\"links\" not an array");
        return -1;
    }

    json_array_foreach(v, i, e) {
        if (!json_is_string(json_object_get(e, "jti"))
            || !json_is_integer(json_object_get(e, "exp")))
        {
            snprintf(err, size, "link %zu not of the contract", i + 1);
            return -1;
        }
    }

    return 0;
}


json_t *
race_races_public(const json_t *doc)
{
    size_t   i;
    json_t  *p, *e;

    p = json_deep_copy(doc);
    if (p == NULL) {
        return NULL;
    }

    if (json_object_set(p, "id", json_object_get(p, "_id")) != 0) {
        json_decref(p);
        return NULL;
    }

    json_object_del(p, "_id");
    json_object_del(p, "links");

    json_array_foreach(json_object_get(p, "riders"), i, e) {
        json_object_del(e, "jti");
    }

    return p;
}


/*
 * FerretDB 1.x stores no arrays in arrays: a course's points go to
 * MongoDB as three arrays, lat, lon and ele (null where unknown).
 */

json_t *
race_races_course_doc(const json_t *course)
{
    size_t   i;
    json_t  *doc, *lat, *lon, *ele, *p, *e;

    doc = json_pack("{s:O, s:[], s:[], s:[]}",
                    "laps", json_object_get(course, "laps"),
                    "lat", "lon", "ele");
    if (doc == NULL) {
        return NULL;
    }

    lat = json_object_get(doc, "lat");
    lon = json_object_get(doc, "lon");
    ele = json_object_get(doc, "ele");

    json_array_foreach(json_object_get(course, "points"), i, p) {
        e = json_array_get(p, 2);

        if (json_array_append(lat, json_array_get(p, 0)) != 0
            || json_array_append(lon, json_array_get(p, 1)) != 0
            || json_array_append_new(ele, e ? json_incref(e) : json_null())
               != 0)
        {
            json_decref(doc);
            return NULL;
        }
    }

    return doc;
}


json_t *
race_races_course(const json_t *course_doc)
{
    size_t   i, n;
    json_t  *laps, *lat, *lon, *ele, *c, *points, *p, *e;

    laps = json_object_get(course_doc, "laps");
    lat = json_object_get(course_doc, "lat");
    lon = json_object_get(course_doc, "lon");
    ele = json_object_get(course_doc, "ele");
    n = json_array_size(lat);

    if (!json_is_integer(laps) || !json_is_array(lat) || !json_is_array(lon)
        || json_array_size(lon) != n
        || (ele != NULL && json_array_size(ele) != n))
    {
        return NULL;
    }

    c = json_pack("{s:O, s:[]}", "laps", laps, "points");
    if (c == NULL) {
        return NULL;
    }

    points = json_object_get(c, "points");

    for (i = 0; i < n; i++) {
        e = json_array_get(ele, i);

        if (!json_is_number(json_array_get(lat, i))
            || !json_is_number(json_array_get(lon, i)))
        {
            json_decref(c);
            return NULL;
        }

        p = json_is_number(e)
            ? json_pack("[O, O, O]", json_array_get(lat, i),
                        json_array_get(lon, i), e)
            : json_pack("[O, O]", json_array_get(lat, i),
                        json_array_get(lon, i));

        if (p == NULL || json_array_append_new(points, p) != 0) {
            json_decref(c);
            return NULL;
        }
    }

    return c;
}


char *
race_races_reply_ok(const char *req, const json_t *doc, const json_t *rider,
    const json_t *link)
{
    char    *s;
    json_t  *reply, *r;

    reply = json_pack("{s:s*, s:b, s:o*}", "req", req[0] ? req : NULL,
                      "ok", 1, "race", race_races_public(doc));
    if (reply == NULL) {
        return NULL;
    }

    if (rider != NULL) {
        r = json_deep_copy(rider);

        if (r == NULL) {
            json_decref(reply);
            return NULL;
        }

        json_object_del(r, "jti");

        if (json_object_set_new(reply, "rider", r) != 0) {
            json_decref(reply);
            return NULL;
        }
    }

    if (link != NULL
        && json_object_set_new(reply, "link", json_deep_copy(link)) != 0)
    {
        json_decref(reply);
        return NULL;
    }

    s = json_dumps(reply, RACE_RACES_DUMP);
    json_decref(reply);

    return s;
}


char *
race_races_reply_error(const char *req, const char *code)
{
    char    *s;
    json_t  *reply;

    reply = json_pack("{s:s*, s:b, s:s}", "req", req[0] ? req : NULL,
                      "ok", 0, "code", code);
    if (reply == NULL) {
        return NULL;
    }

    s = json_dumps(reply, JSON_COMPACT);
    json_decref(reply);

    return s;
}


/* obj[key] = v unless equal; *changed set if it was not */

static int
race_races_set(json_t *obj, const char *key, json_t *v, unsigned *changed)
{
    if (json_equal(json_object_get(obj, key), v)) {
        return 0;
    }

    *changed = 1;

    return json_object_set(obj, key, v);
}


static size_t
race_races_find(json_t *array, const char *key, const char *value)
{
    size_t   i;
    json_t  *e;

    json_array_foreach(array, i, e) {
        if (strcmp(race_races_str(e, key), value) == 0) {
            return i;
        }
    }

    return RACE_RACES_NOT_FOUND;
}


/* obj[key] if it is a string without NULs, "" otherwise */

static const char *
race_races_str(json_t *obj, const char *key)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (!json_is_string(v)
        || strlen(json_string_value(v)) != json_string_length(v))
    {
        return "";
    }

    return json_string_value(v);
}


static int
race_races_bump(json_t *doc, int64_t now)
{
    json_int_t  rev;

    rev = json_integer_value(json_object_get(doc, "rev"));

    if (json_object_set_new(doc, "rev", json_integer(rev + 1)) != 0
        || json_object_set_new(doc, "updated", json_integer(now)) != 0)
    {
        return -1;
    }

    return 0;
}
