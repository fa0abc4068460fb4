
/*
 * ngx_race: unit tests of the races API's request bodies
 * (core/race_races_req.c), TAP output.
 *
 * A race's body, a rider's and a link's: what is required, each field
 * at its edges and of the wrong type, unknown fields named; ids; then
 * the commands made of a body and its course, which race-accounts'
 * parser (core/race_races_cmd.c) must take as they are: the contract
 * between the two, checked without Kafka.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_races_cmd.h"
#include "race_races_req.h"
#include "tap.h"


#define T_BY     "0123456789abcdef0123456789abcdef"
#define T_GPX    "<?xml version=\\\"1.0\\\"?><gpx version=\\\"1.1\\\" " \
                 "xmlns=\\\"http://www.topografix.com/GPX/1/1\\\"><trk>" \
                 "<trkseg><trkpt lat=\\\"45\\\" lon=\\\"7.6\\\"/>" \
                 "<trkpt lat=\\\"45.01\\\" lon=\\\"7.6\\\"/>" \
                 "<trkpt lat=\\\"45.01\\\" lon=\\\"7.61\\\"/>" \
                 "<trkpt lat=\\\"45\\\" lon=\\\"7.6\\\"/>" \
                 "</trkseg></trk></gpx>"
#define T_RIDER  "{\"name\":\"Ann\",\"bib\":\"A-12\",\"user_id\":\"" \
                 T_BY "\"}"
#define T_RACE   "{\"name\":\"Coppa\",\"start_at\":1800000000000," \
                 "\"public\":true,\"course\":\"" T_GPX "\""


static char  err[RACE_RACES_REQ_ERR_MAX];

static int body(const char *json, int create);
static void body_bad(const char *json, int create, const char *want,
    const char *name);
static void rider_bad(const char *json, int create, const char *want,
    const char *name);
static int accepted(const char *text, race_races_op_e op);
static void test_body(void);
static void test_rider_link(void);
static void test_ids(void);
static void test_commands(void);


int
main(void)
{
    test_body();
    test_rider_link();
    test_ids();
    test_commands();

    return tap_done();
}


static race_races_body_t  b;


static int
body(const char *json, int create)
{
    race_races_body_free(&b);
    err[0] = '\0';

    return race_races_body_parse(json, strlen(json), create, &b, err,
                                 sizeof(err));
}


static void
body_bad(const char *json, int create, const char *want, const char *name)
{
    int  rc;

    rc = body(json, create);

    ok(rc == -1 && strstr(err, want) != NULL, "refused: %s", name);

    if (rc != -1 || strstr(err, want) == NULL) {
        diag("  rc %d, err '%s', want '%s'", rc, err, want);
    }
}


static void
rider_bad(const char *json, int create, const char *want, const char *name)
{
    int                 rc;
    race_races_rider_t  rd;

    err[0] = '\0';
    rc = race_races_rider_parse(json, strlen(json), create, &rd, err,
                                sizeof(err));

    ok(rc == -1 && strstr(err, want) != NULL, "refused: %s", name);

    if (rc != -1 || strstr(err, want) == NULL) {
        diag("  rc %d, err '%s', want '%s'", rc, err, want);
    }
}


static void
test_body(void)
{
    is_int(body(T_RACE ",\"laps\":2,\"close_at\":1800003600000,"
                "\"checkpoints\":[{\"name\":\"Half\",\"dist_m\":1000}]}", 1),
           0, "a race body");
    ok(b.set == (RACE_RACES_SET_NAME | RACE_RACES_SET_PUBLIC
                 | RACE_RACES_SET_START_AT | RACE_RACES_SET_CLOSE_AT
                 | RACE_RACES_SET_COURSE | RACE_RACES_SET_LAPS
                 | RACE_RACES_SET_CHECKPOINTS), "every field set");
    is_str(b.name, "Coppa", "its name");
    ok(b.public == 1 && b.laps == 2 && b.start_at == 1800000000000LL
       && b.close_at == 1800003600000LL, "public, laps, times");
    ok(b.course != NULL && b.course[0] == '<'
       && b.course_len == strlen(b.course), "the GPX text, unescaped");
    ok(b.ncheckpoints == 1 && b.checkpoints[0].dist == 1000.0
       && strcmp(b.checkpoints[0].name, "Half") == 0, "its checkpoint");

    is_int(body("{\"name\":\"x\",\"start_at\":1800000000000,\"public\":"
                "false,\"course\":{\"type\":\"LineString\",\"coordinates\":"
                "[[7.6,45],[7.6,45.1]]}}", 1), 0, "a GeoJSON course");
    ok(b.course != NULL && b.course[0] == '{'
       && strstr(b.course, "LineString") != NULL, "as its compact text");

    is_int(body("{\"name\":\"Renamed\"}", 0), 0, "a PATCH of a name");
    ok(b.set == RACE_RACES_SET_NAME, "only the name set");
    is_int(body("{\"close_at\":null}", 0), 0, "close_at null: none");
    ok(b.set == RACE_RACES_SET_CLOSE_AT && b.close_at == 0, "set, 0");

    body_bad("{\"start_at\":1800000000000,\"public\":true,\"course\":\"x\"}",
             1, "\"name\" is required", "no name");
    body_bad("{\"name\":\"a\",\"public\":true,\"course\":\"x\"}", 1,
             "\"start_at\" is required", "no start_at");
    body_bad("{\"name\":\"a\",\"start_at\":1800000000000,\"course\":\"x\"}",
             1, "\"public\" is required", "no public");
    body_bad("{\"name\":\"a\",\"start_at\":1800000000000,\"public\":true}",
             1, "\"course\" is required", "no course");
    body_bad(T_RACE ",\"colour\":\"red\"}", 1, "unknown field \"colour\"",
             "an unknown field");
    body_bad("{\"name\":\"\"}", 0, "\"name\"", "an empty name");
    body_bad("{\"name\":\"a\\u0001b\"}", 0, "\"name\"",
             "a control character in a name");
    body_bad("{\"name\":5}", 0, "\"name\"", "a name of a number");
    body_bad("{\"public\":\"yes\"}", 0, "\"public\"", "public of a string");
    body_bad("{\"start_at\":1700000000}", 0, "\"start_at\"",
             "start_at in seconds");
    body_bad("{\"start_at\":4102444800001}", 0, "\"start_at\"",
             "start_at after 2100");
    body_bad("{\"start_at\":1800000000000,\"close_at\":1800000000000}", 0,
             "\"close_at\" must be after", "close_at at start_at");
    body_bad("{\"laps\":0}", 0, "\"laps\"", "laps 0");
    body_bad("{\"laps\":101}", 0, "\"laps\"", "laps 101");
    body_bad("{\"laps\":1.5}", 0, "\"laps\"", "laps 1.5");
    body_bad("{\"course\":5}", 0, "\"course\" must be", "a course of 5");
    body_bad("{\"course\":\"\"}", 0, "\"course\" is empty", "an empty course");
    body_bad("{\"checkpoints\":{}}", 0, "checkpoints", "checkpoints {}");
    body_bad("{}", 0, "nothing to change", "an empty PATCH");
    body_bad("[1]", 0, "", "not an object");
    body_bad("{\"name\":", 0, "", "broken JSON");

    /* jansson refuses a NUL in a string: the text is all that is read */
    body_bad("{\"course\":\"<gpx>\\u0000</gpx>\"}", 0, "",
             "a GPX string with a NUL in it");

    race_races_body_free(&b);
    ok(b.course == NULL, "freed");
}


static void
test_rider_link(void)
{
    int64_t             ttl;
    race_races_rider_t  rd;

    is_int(race_races_rider_parse(T_RIDER, strlen(T_RIDER), 1, &rd, err,
                                  sizeof(err)), 0, "a rider");
    ok(rd.set == (RACE_RIDER_NAME | RACE_RIDER_BIB | RACE_RIDER_USER)
       && strcmp(rd.bib, "A-12") == 0 && strcmp(rd.user, T_BY) == 0,
       "name, bib and user");

    is_int(race_races_rider_parse("{\"status\":\"dnf\"}", 16, 0, &rd, err,
                                  sizeof(err)), 0, "a rider marked dnf");
    ok(rd.set == RACE_RIDER_STATUS && strcmp(rd.status, "dnf") == 0,
       "only its status");

    rider_bad("{\"bib\":\"1\"}", 1, "\"name\" is required", "no name");
    rider_bad("{\"name\":\"A\"}", 1, "\"bib\" is required", "no bib");
    rider_bad("{\"name\":\"A\",\"bib\":\"1\",\"status\":\"dnf\"}", 1,
              "\"status\"", "a status on entry");
    rider_bad("{\"bib\":\"\"}", 0, "\"bib\"", "an empty bib");
    rider_bad("{\"bib\":\"12345678901234567\"}", 0, "\"bib\"",
              "a bib of 17");
    rider_bad("{\"bib\":\"a b\"}", 0, "\"bib\"", "a space in a bib");
    rider_bad("{\"status\":\"gone\"}", 0, "\"status\"", "an unknown status");
    rider_bad("{\"user_id\":\"me\"}", 0, "\"user_id\"", "a bad user id");
    rider_bad("{\"team\":\"x\"}", 0, "unknown field", "an unknown field");
    rider_bad("{}", 0, "nothing to change", "an empty PATCH");

    is_int(race_races_link_parse("{}", 2, &ttl, err, sizeof(err)), 0,
           "a link, no ttl");
    is_int(ttl, RACE_LINK_TTL_DEFAULT, "a week");
    is_int(race_races_link_parse("{\"ttl_s\":60}", 12, &ttl, err,
                                 sizeof(err)), 0, "ttl_s 60");
    is_int(ttl, 60, "60 s");
    ok(race_races_link_parse("{\"ttl_s\":59}", 12, &ttl, err, sizeof(err))
       == -1 && strstr(err, "ttl_s") != NULL, "ttl_s 59 refused");
    ok(race_races_link_parse("{\"ttl_s\":2592001}", 17, &ttl, err,
                             sizeof(err)) == -1, "over 30 days refused");
    ok(race_races_link_parse("{\"x\":1}", 7, &ttl, err, sizeof(err)) == -1,
       "an unknown field refused");
}


static void
test_ids(void)
{
    char    a[RACE_RACE_ID_LEN + 1], c[RACE_RACE_ID_LEN + 1];
    size_t  i, good;

    is_int(race_races_id_generate(a, RACE_RACE_ID_LEN), 0, "an id");
    is_int(race_races_id_generate(c, RACE_RACE_ID_LEN), 0, "another");

    good = strlen(a) == RACE_RACE_ID_LEN;

    for (i = 0; i < RACE_RACE_ID_LEN; i++) {
        good &= (a[i] >= 'a' && a[i] <= 'z') || (a[i] >= '0' && a[i] <= '9');
    }

    ok(good, "12 of [a-z0-9]");
    ok(race_id_valid(a, strlen(a)), "a valid race id");
    ok(strcmp(a, c) != 0, "not twice the same");
}


/* the command, with what the channel adds, as race-accounts parses it */

static int
accepted(const char *text, race_races_op_e op)
{
    int                rc;
    char              *s, why[RACE_RACES_ERR_MAX];
    json_t            *o;
    json_error_t       e;
    race_races_cmd_t   cmd;

    o = json_loads(text, 0, &e);
    if (o == NULL) {
        diag("  not JSON: %s", e.text);
        return 0;
    }

    (void) json_object_set_new(o, "req", json_string("q1"));
    (void) json_object_set_new(o, "reply", json_string("race:reply:1"));
    (void) json_object_set_new(o, "deadline", json_integer(1800000000000LL));

    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);

    memset(&cmd, 0, sizeof(race_races_cmd_t));
    rc = race_races_cmd_parse(s, strlen(s), &cmd, why, sizeof(why));
    free(s);

    if (rc != 0) {
        diag("  refused: %s", why);
    }

    rc = (rc == 0 && cmd.op == op);
    race_races_cmd_free(&cmd);

    return rc;
}


static void
test_commands(void)
{
    char           *text;
    race_course_t   c;

    memset(&c, 0, sizeof(race_course_t));

    is_int(body(T_RACE ",\"laps\":3,\"checkpoints\":[{\"name\":\"Half\","
                "\"dist_m\":1000}]}", 1), 0, "a loop of 3 laps");
    is_int(race_races_req_course(&b, &c, 0, err, sizeof(err)), 0,
           "its course parsed");
    ok(c.laps == 3 && c.ncheckpoints == 1, "3 laps, a checkpoint");

    text = race_races_create_cmd(&b, &c, "abc123def456", T_BY);
    ok(text != NULL, "its race_create");
    ok(text && accepted(text, RACE_RACES_CREATE),
       "which race-accounts takes");
    free(text);

    /* the laps only: the course it had, unrolled again, checkpoints kept */

    is_int(body("{\"laps\":2}", 0), 0, "a PATCH of the laps");
    is_int(race_races_req_course(&b, &c, 1, err, sizeof(err)), 0,
           "the course it had, relapped");
    ok(c.laps == 2 && c.ncheckpoints == 1, "2 laps, its checkpoint kept");

    text = race_races_update_cmd(&b, &c, "abc123def456", T_BY);
    ok(text && accepted(text, RACE_RACES_UPDATE), "a race_update taken");
    free(text);
    race_course_free(&c);

    is_int(body("{\"name\":\"Renamed\",\"public\":false}", 0), 0,
           "a PATCH without a course");
    text = race_races_update_cmd(&b, NULL, "abc123def456", T_BY);
    ok(text && accepted(text, RACE_RACES_UPDATE)
       && strstr(text, "\"course\"") == NULL, "a race_update, no course");
    free(text);

    is_int(body("{\"laps\":2}", 0), 0, "laps");
    ok(race_races_req_course(&b, &c, 0, err, sizeof(err)) == -1
       && strstr(err, "no course") != NULL, "without any course: refused");

    race_races_body_free(&b);
}
