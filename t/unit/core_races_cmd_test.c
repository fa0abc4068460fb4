
/*
 * ngx_race: unit tests of the race commands' core (docs/INTERNALS.md,
 * "Races"), TAP output.
 *
 * Each command as the module sends it; fields missing, of the wrong
 * type and at their edges, with the reason; unknown keys dropped; the
 * commands of accounts left to their parser; then a race's life on its
 * document: created, updated, riders and links added, changed and
 * removed with their tokens to revoke, bibs unique, owners and admins,
 * the status only forward and what is frozen once live, replays that
 * change nothing, the clock's moves; the public form and the replies.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_races_cmd.h"
#include "tap.h"


#define T_OWNER    "0123456789abcdef0123456789abcdef"
#define T_OTHER    "fedcba9876543210fedcba9876543210"
#define T_USER     "00000000000000000000000000000001"
#define T_START    1800000000000LL
#define T_HEAD     "\"req\":\"q1\",\"reply\":\"race:reply:1\"," \
                   "\"deadline\":1800000000000,\"by\":\"" T_OWNER "\""

#define T_SUMMARY  "{\"laps\":2,\"length_m\":2000.5,\"lap_length_m\":" \
                   "1000.25,\"points\":3,\"ele\":false,\"bbox\":[7.6,45," \
                   "7.7,45.1],\"checkpoints\":[{\"name\":\"Lap 1\"," \
                   "\"dist_m\":1000.25}],\"junk\":1}"
#define T_COURSE   "{\"laps\":2,\"points\":[[45,7.6],[45.05,7.65,240]," \
                   "[45,7.6]],\"junk\":2}"
#define T_CREATE   "{\"op\":\"race_create\"," T_HEAD ",\"race\":{\"id\":" \
                   "\"abc123def456\",\"name\":\"Coppa\",\"public\":true," \
                   "\"start_at\":1800000000000,\"close_at\":1800003600000," \
                   "\"course\":" T_SUMMARY ",\"owner\":\"x\"},\"course\":" \
                   T_COURSE "}"


static race_races_cmd_t  cmd;
static char              err[RACE_RACES_ERR_MAX];


static int parse(const char *json);
static void bad(const char *json, const char *want, const char *name);
static const char *fmt(const char *f, ...);
static const char *cmdf(const char *op, const char *rest);
static const char *apply(json_t *doc, const char *json, int admin,
    race_races_change_t *ch);
static void test_parse(void);
static void test_bad(void);
static void test_life(void);
static void test_tick(void);
static void test_public(void);


int
main(void)
{
    test_parse();
    test_bad();
    test_life();
    test_tick();
    test_public();

    race_races_cmd_free(&cmd);

    return tap_done();
}


static int
parse(const char *json)
{
    race_races_cmd_free(&cmd);
    err[0] = '\0';

    return race_races_cmd_parse(json, strlen(json), &cmd, err, sizeof(err));
}


static void
bad(const char *json, const char *want, const char *name)
{
    int  rc;

    rc = parse(json);

    ok(rc == -1 && cmd.op == RACE_RACES_NONE && strstr(err, want) != NULL,
       "refused: %s", name);

    if (rc != -1 || strstr(err, want) == NULL) {
        diag("  rc %d, err '%s', want '%s'", rc, err, want);
    }
}


static const char *
fmt(const char *f, ...)
{
    va_list      ap;
    static char  buf[8][4096];
    static int   n;

    n = (n + 1) % 8;

    va_start(ap, f);
    vsnprintf(buf[n], sizeof(buf[n]), f, ap);
    va_end(ap);

    return buf[n];
}


static const char *
cmdf(const char *op, const char *rest)
{
    return fmt("{\"op\":\"%s\"," T_HEAD ",\"race\":\"abc123def456\"%s%s}",
               op, rest[0] ? "," : "", rest);
}


static void
test_parse(void)
{
    json_t  *v;

    is_int(parse(T_CREATE), 0, "race_create parsed");
    is_int(cmd.op, RACE_RACES_CREATE, "its op");
    is_str(cmd.race, "abc123def456", "its race id");
    is_str(cmd.by, T_OWNER, "by");
    is_str(cmd.req, "q1", "req");
    is_str(cmd.reply, "race:reply:1", "reply");
    is_int(cmd.deadline, T_START, "deadline");
    ok(json_object_get(cmd.data, "owner") == NULL, "unknown keys dropped");
    v = json_object_get(cmd.data, "course");
    ok(v != NULL && json_object_get(v, "junk") == NULL
       && json_object_size(v) == 7, "the summary rebuilt, 7 keys");
    ok(json_object_get(cmd.course, "junk") == NULL
       && json_array_size(json_object_get(cmd.course, "points")) == 3,
       "the course rebuilt");
    ok(json_is_null(json_object_get(cmd.data, "close_at")) == 0,
       "close_at kept");

    is_int(parse(cmdf("race_update", "\"set\":{\"name\":\"B\","
                      "\"close_at\":null}")), 0, "race_update parsed");
    ok(json_is_null(json_object_get(cmd.data, "close_at")),
       "close_at null");
    is_int(json_object_size(cmd.data), 2, "only what it sets");
    ok(cmd.course == NULL, "no course");

    is_int(parse(cmdf("race_update", "\"set\":{\"course\":" T_SUMMARY
                      "},\"course\":" T_COURSE)), 0, "a course edit");
    ok(cmd.course != NULL, "with its points");

    is_int(parse(cmdf("race_rider_add", "\"rider\":{\"id\":\"p1\","
                      "\"name\":\"Ann\",\"bib\":\"12\",\"user\":\"" T_USER
                      "\",\"jti\":\"j1\",\"exp\":1800100000}")), 0,
           "race_rider_add");
    is_str(cmd.rider, "p1", "the rider");
    is_str(json_string_value(json_object_get(cmd.data, "status")), "entered",
           "entered");

    is_int(parse(cmdf("race_rider_update", "\"rider\":\"p1\",\"set\":"
                      "{\"status\":\"dnf\"}")), 0, "race_rider_update");
    is_int(parse(cmdf("race_rider_remove", "\"rider\":\"p1\"")), 0,
           "race_rider_remove");
    is_int(parse("{\"op\":\"race_track\",\"req\":\"q2\",\"reply\":"
                 "\"race:reply:1\",\"race\":\"abc123def456\",\"rider\":"
                 "\"p1\"}"), 0, "race_track, by no one");
    ok(cmd.op == RACE_RACES_TRACK && strcmp(cmd.rider, "p1") == 0
       && cmd.by[0] == '\0', "its rider");
    is_int(parse(cmdf("race_link_add", "\"link\":{\"jti\":\"l1\","
                      "\"exp\":1800100000}")), 0, "race_link_add");
    is_str(cmd.jti, "l1", "the link's jti");
    is_int(parse(cmdf("race_link_remove", "\"jti\":\"l1\"")), 0,
           "race_link_remove");
    is_int(parse(cmdf("race_start", "\"at\":1800000000000")), 0,
           "race_start");
    is_int(cmd.at, T_START, "at");
    is_int(parse(cmdf("race_finish", "\"at\":1800000000001")), 0,
           "race_finish");

    is_int(parse("{\"op\":\"signup\",\"req\":\"q\"}"), 1,
           "an account command is not ours");
    is_int(parse("{\"req\":\"q\"}"), 1, "nor one without op");
}


static void
test_bad(void)
{
    is_int(parse(""), 1, "empty: for the accounts' parser");
    is_int(parse("[1]"), 1, "an array: the same");
    is_int(parse("{\"op\":\"race_create\",\"op\":1}"), 1,
           "duplicate keys: the same");
    bad(cmdf("race_nope", ""), "\"op\" unknown", "unknown race op");

    ok(parse(cmdf("race_nope", "")) == -1 && strcmp(cmd.req, "q1") == 0
       && strcmp(cmd.reply, "race:reply:1") == 0,
       "a bad command still names its req and reply");

    bad("{\"op\":\"race_start\",\"req\":\"q\",\"reply\":\"a b\"}",
        "\"reply\"", "a reply with a space");
    bad(fmt("{\"op\":\"race_start\",\"req\":\"%0129d\",\"reply\":\"r\"}", 0),
        "\"req\"", "req of 129");
    bad(fmt("{\"op\":\"race_start\",\"req\":\"q\",\"reply\":\"r\","
            "\"by\":\"%s\",\"race\":\"a\",\"at\":1800000000000}",
            "0123456789ABCDEF0123456789abcdef"), "\"by\"",
        "by in upper case");
    bad(fmt("{\"op\":\"race_start\",\"req\":\"q\",\"reply\":\"r\","
            "\"race\":\"a\",\"at\":1800000000000}"), "\"by\"", "no by");
    bad(cmdf("race_start", ""), "\"at\"", "no at");
    bad(cmdf("race_start", "\"at\":1.8e12"), "\"at\"", "at a real");
    bad(cmdf("race_start", "\"at\":946684799999"), "out of range",
        "at before 2000");
    bad(cmdf("race_start", "\"at\":4102444800001"), "out of range",
        "at after 2100");
    bad(fmt("{\"op\":\"race_start\"," T_HEAD ",\"race\":\"a/b\","
            "\"at\":1800000000000}"), "\"race\"", "a race id with a slash");
    bad(fmt("{\"op\":\"race_start\"," T_HEAD ",\"race\":\"%065d\","
            "\"at\":1800000000000}", 0), "\"race\"", "a race id of 65");
    bad("{\"op\":\"race_start\",\"req\":\"q\",\"reply\":\"r\","
        "\"deadline\":0,\"by\":\"" T_OWNER "\",\"race\":\"a\","
        "\"at\":1800000000000}", "\"deadline\"", "deadline 0");

    bad(cmdf("race_update", "\"set\":{}"), "changes nothing", "empty set");
    bad(cmdf("race_update", "\"set\":{\"name\":\"\"}"), "\"name\"",
        "empty name");
    bad(cmdf("race_update", fmt("\"set\":{\"name\":\"%0101d\"}", 0)),
        "\"name\"", "name of 101");
    is_int(parse(cmdf("race_update", "\"set\":{\"name\":\"a\\u0000b\"}")),
           1, "a NUL in a name: not JSON to jansson");
    is_int(parse(cmdf("race_update", "\"set\":{\"name\":\"\xc3\x28\"}")),
           1, "bad UTF-8: not JSON");
    bad(cmdf("race_update", "\"set\":{\"public\":1}"), "\"public\"",
        "public not a boolean");
    bad(cmdf("race_update", "\"set\":{\"start_at\":null}"), "\"start_at\"",
        "start_at null");
    bad(cmdf("race_update", "\"set\":{\"course\":" T_SUMMARY "}"),
        "\"course\" missing", "a summary without its points");
    bad(cmdf("race_update", "\"set\":{\"name\":\"a\"},\"course\":"
             T_COURSE), "without", "points without a summary");
    bad(cmdf("race_update", "\"set\":{\"course\":" T_SUMMARY "},\"course\":"
             "{\"laps\":3,\"points\":[[1,2],[3,4]]}"), "differs",
        "laps that differ");
    bad(cmdf("race_update", "\"set\":{\"course\":" T_SUMMARY "},\"course\":"
             "{\"laps\":2,\"points\":[[1,2]]}"), "course.points",
        "one point");
    bad(cmdf("race_update", "\"set\":{\"course\":" T_SUMMARY "},\"course\":"
             "{\"laps\":2,\"points\":[[91,2],[3,4]]}"), "point 1",
        "latitude 91");
    bad(cmdf("race_update", "\"set\":{\"course\":" T_SUMMARY "},\"course\":"
             "{\"laps\":2,\"points\":[[1,2],[3,4,5,6]]}"), "point 2",
        "a point of four");
    bad(cmdf("race_update", "\"set\":{\"course\":" T_SUMMARY "},\"course\":"
             "{\"laps\":2,\"points\":[[1,2],[3,\"4\"]]}"), "point 2",
        "a string for a longitude");
    /* what the course core says of the points themselves */
    bad(cmdf("race_update", "\"set\":{\"course\":" T_SUMMARY "},\"course\":"
             "{\"laps\":2,\"points\":[[45,7.6],[45.05,7.65],[45.1,7.7]]}"),
        "open course", "laps on an open course");
    bad(cmdf("race_update", "\"set\":{\"course\":" T_SUMMARY "},\"course\":"
             "{\"laps\":2,\"points\":[[45,7.6],[45,7.6],[45,7.6]]}"),
        "distinct", "one place three times");
    bad(cmdf("race_update", "\"set\":{\"course\":" T_SUMMARY "},\"course\":"
             "{\"laps\":2,\"points\":[[45,7.6],[45.05,7.65],[45.02,7.6],"
             "[45,7.6]]}"), "\"points\" is not", "a summary of 3 points, 4");
    bad(cmdf("race_update", "\"set\":{\"course\":{\"laps\":2,\"length_m\":"
             "2000.5,\"lap_length_m\":1000.25,\"points\":3,\"ele\":false,"
             "\"bbox\":[7.6,45,7.7,45.1],\"checkpoints\":[{\"name\":\"Far\","
             "\"dist_m\":99000000}]}},\"course\":" T_COURSE),
        "checkpoint", "a checkpoint past the finish");
    bad(cmdf("race_update", "\"set\":{\"course\":{\"laps\":0}},"
             "\"course\":" T_COURSE), "\"laps\"", "summary laps 0");
    bad(cmdf("race_update", "\"set\":{\"checkpoints\":[{\"name\":\"A\"}]}"),
        "checkpoint 1", "a checkpoint without a distance");
    bad(cmdf("race_update", "\"set\":{\"checkpoints\":{}}"),
        "\"checkpoints\"", "checkpoints not an array");

    bad(cmdf("race_rider_add", "\"rider\":{\"id\":\"p1\",\"name\":\"A\","
             "\"jti\":\"j\",\"exp\":1}"), "\"bib\"", "no bib");
    bad(cmdf("race_rider_add", "\"rider\":{\"id\":\"p1\",\"name\":\"A\","
             "\"bib\":\"12345678901234567\",\"jti\":\"j\",\"exp\":1}"),
        "\"bib\"", "bib of 17");
    bad(cmdf("race_rider_add", "\"rider\":{\"id\":\"p1\",\"name\":\"A\","
             "\"bib\":\"1 2\",\"jti\":\"j\",\"exp\":1}"), "\"bib\"",
        "bib with a space");
    bad(cmdf("race_rider_add", "\"rider\":{\"id\":\"p1\",\"name\":\"A\","
             "\"bib\":\"1\",\"user\":\"x\",\"jti\":\"j\",\"exp\":1}"),
        "\"user\"", "user not a user id");
    bad(cmdf("race_rider_add", "\"rider\":{\"id\":\"p1\",\"name\":\"A\","
             "\"bib\":\"1\",\"exp\":1}"), "\"jti\"", "no jti");
    bad(cmdf("race_rider_add", "\"rider\":{\"id\":\"p1\",\"name\":\"A\","
             "\"bib\":\"1\",\"jti\":\"j\",\"exp\":0}"), "\"exp\"", "exp 0");
    bad(cmdf("race_rider_update", "\"rider\":\"p1\",\"set\":{\"status\":"
             "\"gone\"}"), "\"status\"", "an unknown rider status");
    bad(cmdf("race_rider_update", "\"rider\":\"p1\",\"set\":{\"jti\":\"x\"}"),
        "changes nothing", "a set of only unknown keys");
    bad(cmdf("race_rider_remove", ""), "\"rider\"", "remove without rider");
    bad(cmdf("race_track", ""), "\"rider\"", "a track without rider");
    bad(cmdf("race_link_add", "\"link\":{\"jti\":\"l\"}"), "\"exp\"",
        "a link without exp");
    bad(cmdf("race_link_remove", ""), "\"jti\"", "link remove without jti");

    bad("{\"op\":\"race_create\"," T_HEAD ",\"race\":{\"id\":\"r\","
        "\"name\":\"C\",\"public\":true,\"start_at\":1800000000000,"
        "\"close_at\":1800000000000,\"course\":" T_SUMMARY "},\"course\":"
        T_COURSE "}", "close_at", "close_at not after start_at");
    bad("{\"op\":\"race_create\"," T_HEAD ",\"race\":{\"id\":\"r\","
        "\"name\":\"C\",\"public\":true,\"start_at\":1800000000000,"
        "\"course\":" T_SUMMARY "}}", "\"course\" missing", "no points");
}


static const char *
apply(json_t *doc, const char *json, int admin, race_races_change_t *ch)
{
    const char  *code;

    if (parse(json) != 0) {
        diag("  parse: %s", err);
        return "unparsed";
    }

    code = race_races_apply(doc, &cmd, admin, T_START - 60000, ch);

    return code ? code : "ok";
}


static void
test_life(void)
{
    char                 *s;
    json_t               *doc, *v;
    race_races_change_t   ch;

    is_int(parse(T_CREATE), 0, "create");
    doc = race_races_create(&cmd, T_START - 3600000);
    ok(doc != NULL, "a new document");
    ok(race_races_doc_valid(doc, err, sizeof(err)) == 0,
       "of the contract");
    is_str(json_string_value(json_object_get(doc, "status")), "scheduled",
           "scheduled");
    is_str(json_string_value(json_object_get(doc, "owner")), T_OWNER,
           "owned by who asked");
    is_int(json_integer_value(json_object_get(doc, "rev")), 1, "rev 1");

    is_str(apply(doc, cmdf("race_update", "\"set\":{\"name\":\"New\"}"), 0,
                 &ch), "ok", "renamed");
    ok(ch.changed, "a change");
    is_int(json_integer_value(json_object_get(doc, "rev")), 2, "rev 2");
    is_int(json_integer_value(json_object_get(doc, "updated")),
           T_START - 60000, "updated");
    is_str(apply(doc, cmdf("race_update", "\"set\":{\"name\":\"New\"}"), 0,
                 &ch), "ok", "renamed again");
    ok(!ch.changed, "no change: a replay");
    is_int(json_integer_value(json_object_get(doc, "rev")), 2, "still 2");

    is_str(apply(doc, fmt("{\"op\":\"race_update\",\"req\":\"q\","
                          "\"reply\":\"r\",\"by\":\"" T_OTHER "\","
                          "\"race\":\"abc123def456\",\"set\":{\"name\":"
                          "\"X\"}}"), 0, &ch), "not_owner",
           "another organizer");
    is_str(apply(doc, fmt("{\"op\":\"race_update\",\"req\":\"q\","
                          "\"reply\":\"r\",\"by\":\"" T_OTHER "\","
                          "\"race\":\"abc123def456\",\"set\":{\"public\":"
                          "false}}"), 1, &ch), "ok", "an admin");
    ok(json_is_false(json_object_get(doc, "public")), "private now");

    is_str(apply(doc, cmdf("race_update", "\"set\":{\"close_at\":"
                           "1700000000000}"), 0, &ch), "bad_command",
           "close_at before start_at");
    is_str(apply(doc, cmdf("race_update", "\"set\":{\"checkpoints\":[{"
                           "\"name\":\"Top\",\"dist_m\":500}]}"), 0, &ch),
           "ok", "checkpoints");
    v = json_object_get(json_object_get(doc, "course"), "checkpoints");
    is_str(json_string_value(json_object_get(json_array_get(v, 0), "name")),
           "Top", "in the summary");

    /* riders */

    is_str(apply(doc, cmdf("race_rider_add", "\"rider\":{\"id\":\"p1\","
                           "\"name\":\"Ann\",\"bib\":\"1\",\"user\":\""
                           T_USER "\",\"jti\":\"j1\",\"exp\":1800100000}"),
                 0, &ch), "ok", "rider p1");
    ok(ch.changed && ch.rider != NULL, "added, named in the reply");
    json_decref(ch.rider);
    is_str(apply(doc, cmdf("race_rider_add", "\"rider\":{\"id\":\"p1\","
                           "\"name\":\"Ann\",\"bib\":\"1\",\"user\":\""
                           T_USER "\",\"jti\":\"j1\",\"exp\":1800100000}"),
                 0, &ch), "ok", "p1 again");
    ok(!ch.changed, "a replay: no change");
    json_decref(ch.rider);
    is_str(apply(doc, cmdf("race_rider_add", "\"rider\":{\"id\":\"p2\","
                           "\"name\":\"Bob\",\"bib\":\"1\",\"jti\":\"j2\","
                           "\"exp\":1800100000}"), 0, &ch), "bib_taken",
           "bib 1 again");
    is_str(apply(doc, cmdf("race_rider_add", "\"rider\":{\"id\":\"p2\","
                           "\"name\":\"Bob\",\"bib\":\"2\",\"user\":\""
                           T_USER "\",\"jti\":\"j2\",\"exp\":1800100000}"),
                 0, &ch), "ok", "rider p2, the same user");
    json_decref(ch.rider);
    is_str(apply(doc, cmdf("race_rider_update", "\"rider\":\"p2\",\"set\":"
                           "{\"bib\":\"1\"}"), 0, &ch), "bib_taken",
           "p2 takes bib 1");
    is_str(apply(doc, cmdf("race_rider_update", "\"rider\":\"p9\",\"set\":"
                           "{\"bib\":\"9\"}"), 0, &ch), "no_rider",
           "no such rider");
    is_str(apply(doc, cmdf("race_rider_update", "\"rider\":\"p2\",\"set\":"
                           "{\"bib\":\"2\",\"status\":\"dsq\"}"), 0, &ch),
           "ok", "p2 disqualified");
    ok(ch.changed && strcmp(json_string_value(json_object_get(ch.rider,
                                                               "status")),
                            "dsq") == 0, "its status");
    json_decref(ch.rider);

    is_str(apply(doc, cmdf("race_rider_remove", "\"rider\":\"p1\""), 0,
                 &ch), "ok", "p1 removed");
    is_str(ch.revoke_jti, "j1", "its token to revoke");
    is_int(ch.revoke_exp, 1800100000, "until its exp");
    is_str(ch.user_gone, "", "the user still has p2");
    json_decref(ch.rider);
    is_str(apply(doc, cmdf("race_rider_remove", "\"rider\":\"p1\""), 0,
                 &ch), "ok", "p1 removed again");
    ok(!ch.changed && ch.revoke_jti[0] == '\0', "nothing to do");
    is_str(apply(doc, cmdf("race_rider_remove", "\"rider\":\"p2\""), 0,
                 &ch), "ok", "p2 removed");
    is_str(ch.user_gone, T_USER, "the user is in the race no more");
    json_decref(ch.rider);

    /* links */

    is_str(apply(doc, cmdf("race_link_add", "\"link\":{\"jti\":\"l1\","
                           "\"exp\":1800200000}"), 0, &ch), "ok", "a link");
    is_int(json_integer_value(json_object_get(ch.link, "created")),
           T_START - 60000, "created now");
    json_decref(ch.link);
    is_str(apply(doc, cmdf("race_link_remove", "\"jti\":\"l1\""), 0, &ch),
           "ok", "the link removed");
    is_str(ch.revoke_jti, "l1", "its token revoked");
    is_int(ch.revoke_exp, 1800200000, "until its exp");
    json_decref(ch.link);

    /* the status */

    is_str(apply(doc, cmdf("race_finish", "\"at\":1800000000000"), 0, &ch),
           "bad_status", "finish before start");
    is_str(apply(doc, cmdf("race_start", "\"at\":1800000001000"), 0, &ch),
           "ok", "started");
    is_str(json_string_value(json_object_get(doc, "status")), "live",
           "live");
    is_int(json_integer_value(json_object_get(doc, "started_at")),
           1800000001000LL, "started_at");
    is_str(apply(doc, cmdf("race_start", "\"at\":1800000001000"), 0, &ch),
           "ok", "the same start again");
    ok(!ch.changed, "a replay");
    is_str(apply(doc, cmdf("race_start", "\"at\":1800000002000"), 0, &ch),
           "bad_status", "another start");
    is_str(apply(doc, cmdf("race_update", "\"set\":{\"course\":"
                           "{\"laps\":1,\"length_m\":5,\"lap_length_m\":5,"
                           "\"points\":2,\"ele\":false,\"bbox\":[0,0,0,0]}},"
                           "\"course\":{\"laps\":1,\"points\":[[0,0],"
                           "[0,0.001]]}"), 0, &ch),
           "bad_status", "a new course once live");
    is_str(apply(doc, cmdf("race_update", "\"set\":{\"start_at\":"
                           "1800000005000}"), 0, &ch), "bad_status",
           "start_at once live");
    is_str(apply(doc, cmdf("race_update", "\"set\":{\"name\":\"Live\","
                           "\"close_at\":1800009000000}"), 0, &ch), "ok",
           "name and close_at once live");
    is_str(apply(doc, cmdf("race_finish", "\"at\":1800000500000"), 0, &ch),
           "ok", "finished");
    is_int(json_integer_value(json_object_get(doc, "finished_at")),
           1800000500000LL, "finished_at");
    is_str(apply(doc, cmdf("race_start", "\"at\":1800000001000"), 0, &ch),
           "bad_status", "start once finished");
    is_str(apply(doc, cmdf("race_rider_add", "\"rider\":{\"id\":\"p3\","
                           "\"name\":\"C\",\"bib\":\"3\",\"jti\":\"j3\","
                           "\"exp\":1800100000}"), 0, &ch), "bad_status",
           "a rider once finished");
    ok(race_races_doc_valid(doc, err, sizeof(err)) == 0,
       "still of the contract");

    s = race_races_reply_error("q1", "bad_status");
    is_str(s, "{\"req\":\"q1\",\"ok\":false,\"code\":\"bad_status\"}",
           "an error reply");
    free(s);
    s = race_races_reply_error("", "bad_command");
    is_str(s, "{\"ok\":false,\"code\":\"bad_command\"}",
           "without req");
    free(s);

    json_decref(doc);
}


static void
test_tick(void)
{
    json_t  *doc;

    is_int(parse(T_CREATE), 0, "create");
    doc = race_races_create(&cmd, T_START - 3600000);

    is_int(race_races_tick(doc, T_START - 1), 0, "before start_at: nothing");
    is_int(race_races_tick(doc, T_START), 1, "at start_at: a change");
    is_str(json_string_value(json_object_get(doc, "status")), "live",
           "live");
    is_int(json_integer_value(json_object_get(doc, "started_at")), T_START,
           "started at start_at");
    is_int(race_races_tick(doc, T_START + 1000), 0, "then nothing");
    is_int(race_races_tick(doc, T_START + 3600000), 1, "at close_at");
    is_str(json_string_value(json_object_get(doc, "status")), "finished",
           "finished");
    is_int(json_integer_value(json_object_get(doc, "finished_at")),
           T_START + 3600000, "finished at close_at");
    is_int(json_integer_value(json_object_get(doc, "rev")), 3, "rev 3");

    json_decref(doc);

    /* both at once, long after */
    doc = race_races_create(&cmd, T_START - 3600000);
    is_int(race_races_tick(doc, T_START + 7200000), 1, "both moves");
    is_str(json_string_value(json_object_get(doc, "status")), "finished",
           "finished");
    is_int(json_integer_value(json_object_get(doc, "rev")), 2, "one rev");
    json_decref(doc);
}


static void
test_public(void)
{
    char                 *s;
    json_t               *doc, *p, *r;
    race_races_change_t   ch;

    is_int(parse(T_CREATE), 0, "create");
    doc = race_races_create(&cmd, 1);

    is_str(apply(doc, cmdf("race_rider_add", "\"rider\":{\"id\":\"p1\","
                           "\"name\":\"Ann\",\"bib\":\"1\",\"jti\":\"j1\","
                           "\"exp\":1800100000}"), 0, &ch), "ok", "a rider");
    json_decref(ch.rider);
    is_str(apply(doc, cmdf("race_link_add", "\"link\":{\"jti\":\"l1\","
                           "\"exp\":1800200000}"), 0, &ch), "ok", "a link");

    p = race_races_public(doc);
    ok(p != NULL && json_object_get(p, "_id") == NULL
       && strcmp(json_string_value(json_object_get(p, "id")),
                 "abc123def456") == 0, "public: id for _id");
    ok(json_object_get(p, "links") == NULL, "no links");
    r = json_array_get(json_object_get(p, "riders"), 0);
    ok(r != NULL && json_object_get(r, "jti") == NULL
       && json_object_get(r, "exp") != NULL, "riders without jti");
    ok(json_object_get(json_array_get(json_object_get(doc, "riders"), 0),
                       "jti") != NULL, "the document keeps them");
    json_decref(p);

    s = race_races_reply_ok("q1", doc, NULL, ch.link);
    ok(s != NULL && strstr(s, "\"link\":{") != NULL
       && strstr(s, "\"jti\":\"l1\"") != NULL
       && strstr(s, "\"jti\":\"j1\"") == NULL
       && strncmp(s, "{\"req\":\"q1\",\"ok\":true,\"race\":{", 30) == 0
       && strstr(s, "[7.6,45,7.7,45.1]") != NULL,
       "a link's reply: the link's jti, never a rider's; short reals");
    free(s);
    json_decref(ch.link);

    p = json_pack("{s:i, s:[[i,i],[i,i,i]]}", "laps", 2,
                  "points", 1, 2, 3, 4, 5);
    r = race_races_course_doc(p);
    s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    is_str(s, "{\"ele\":[null,5],\"laps\":2,\"lat\":[1,3],\"lon\":[2,4]}",
           "a course for MongoDB: no arrays in arrays");
    free(s);
    json_decref(p);
    p = race_races_course(r);
    s = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
    is_str(s, "{\"laps\":2,\"points\":[[1,2],[3,4,5]]}",
           "and back, the compact course");
    free(s);
    json_decref(r);
    json_decref(p);

    json_decref(doc);
}
