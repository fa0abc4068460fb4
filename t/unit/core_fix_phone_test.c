
/*
 * ngx_race: unit tests of the phone message parser and of the Kafka
 * message writer, TAP output.
 *
 * Every rule of PROTOCOL.md's fix, at both sides of each bound; the
 * message-level failures; batches at and over the limit; the exact
 * Kafka text of docs/INTERNALS.md; and a round trip: generated fixes,
 * parsed, written for Kafka, read back with jansson.
 */


#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_fix.h"
#include "tap.h"


#define T_NOW      1732400000000LL
#define T_FUTURE   60000LL                 /* 1 min */
#define T_PAST     (7 * 86400000LL)        /* 1 week */
#define T_BUF      (256 * 1024)

/* the required fields of a good fix, t at T_NOW */
#define T_BASE     "\"seq\":17,\"t\":1732400000000,\"lat\":45.07,\"lon\":7.68"


static void test_good(void);
static void test_seq(void);
static void test_t(void);
static void test_ranges(void);
static void test_types(void);
static void test_message(void);
static void test_batch(void);
static void test_mixed(void);
static void test_kafka(void);
static void test_kafka_numbers(void);
static void test_kafka_bounds(void);
static void test_round_trip(void);

static race_fix_msg_rc_e parse(const char *json);
static const char *fix(const char *fmt, ...);
static void good(const char *json, const char *name);
static void bad(const char *json, int64_t seq, const char *message);
static void msg_rc(const char *json, race_fix_msg_rc_e rc,
    const char *message);
static size_t batch(char *dst, size_t n, const char *item);
static const char *kafka_double(double v);
static uint32_t rnd(void);
static double rnd_in(double lo, double hi, int decimals);
static double field(const race_fix_t *f, size_t i);


static race_fix_limits_t  lim = { T_NOW, T_FUTURE, T_PAST, 500 };
static race_fix_t         fixes[RACE_FIX_BATCH_MAX + 1];
static race_fix_error_t   errors[RACE_FIX_BATCH_MAX + 1];
static size_t             nfixes;
static size_t             nerrors;
static char               message[128];
static char               buf[T_BUF];
static char               out[T_BUF];
static uint32_t           rnd_state = 2463534242u;


int
main(void)
{
    test_good();
    test_seq();
    test_t();
    test_ranges();
    test_types();
    test_message();
    test_batch();
    test_mixed();
    test_kafka();
    test_kafka_numbers();
    test_kafka_bounds();
    test_round_trip();

    return tap_done();
}


static void
test_good(void)
{
    race_fix_t  *f;

    /* PROTOCOL.md's example */

    good("{\"type\":\"fix\",\"seq\":17,\"t\":1732400000123,\"lat\":45.07,"
         "\"lon\":7.68,\"ele\":240.5,\"acc\":4.0,\"spd\":11.2,\"brg\":270,"
         "\"bat\":0.81}", "PROTOCOL.md example");

    f = &fixes[0];
    ok(f->seq == 17 && f->t == 1732400000123LL, "seq and t");
    ok(f->lat == 45.07 && f->lon == 7.68, "lat and lon");
    ok(f->ele == 240.5 && f->acc == 4.0 && f->spd == 11.2 && f->brg == 270
       && f->bat == 0.81, "optional fields");
    is_int(f->has, RACE_FIX_ELE | RACE_FIX_ACC | RACE_FIX_SPD | RACE_FIX_BRG
           | RACE_FIX_BAT, "has: every optional field");
    is_str(message, "", "no message on success");

    good(fix(T_BASE), "required fields only");
    is_int(fixes[0].has, 0, "has: nothing optional");
    ok(fixes[0].ele == 0 && fixes[0].bat == 0, "absent fields are 0");

    good(fix("\"lon\":7.68,\"lat\":45.07,\"t\":1732400000000,\"seq\":17"),
         "any field order");
    good(fix(T_BASE ",\"note\":\"hi\",\"extra\":{\"a\":[1,2]},\"x\":null"),
         "unknown fields are ignored");
    good("{\"seq\":17,\"t\":1732400000000,\"lat\":45.07,\"lon\":7.68,"
         "\"type\":\"fix\"}", "type last");
    good(fix(T_BASE ",\"items\":5"), "items in a single fix is ignored");
    good(" \n{\"type\" : \"fix\" , \"seq\" : 1 , \"t\" : 1732400000000 ,"
         "\"lat\" : 0 , \"lon\" : 0 }\r\n", "whitespace");

    good(fix("\"seq\":17,\"t\":1732400000000,\"lat\":4.507e1,"
             "\"lon\":768E-2"), "exponents");
    ok(fixes[0].lat == 45.07 && fixes[0].lon == 7.68, "exponents' values");

    good(fix(T_BASE ",\"ele\":null,\"acc\":null,\"spd\":null,\"brg\":null,"
             "\"bat\":null"), "optional fields null (Geolocation API)");
    is_int(fixes[0].has, 0, "null optional fields are absent");

    good(fix(T_BASE ",\"spd\":-0.0,\"brg\":-0"), "-0");
    ok(fixes[0].has == (RACE_FIX_SPD | RACE_FIX_BRG)
       && !signbit(fixes[0].spd) && !signbit(fixes[0].brg),
       "-0 is stored as 0");
}


static void
test_seq(void)
{
    good(fix("\"seq\":0,\"t\":1732400000000,\"lat\":0,\"lon\":0"), "seq 0");
    good(fix("\"seq\":9007199254740991,\"t\":1732400000000,\"lat\":0,"
             "\"lon\":0"), "seq 2^53 - 1");
    is_int(fixes[0].seq, RACE_FIX_SEQ_MAX, "seq 2^53 - 1 kept");

    bad(fix("\"seq\":9007199254740992,\"t\":1732400000000,\"lat\":0,"
            "\"lon\":0"), -1, "seq out of range");
    bad(fix("\"seq\":-1,\"t\":1732400000000,\"lat\":0,\"lon\":0"), -1,
        "seq out of range");
    bad(fix("\"seq\":9223372036854775807,\"t\":1732400000000,\"lat\":0,"
            "\"lon\":0"), -1, "seq out of range");
    bad(fix("\"t\":1732400000000,\"lat\":0,\"lon\":0"), -1, "seq missing");
    bad(fix("\"seq\":17.5,\"t\":1732400000000,\"lat\":0,\"lon\":0"), -1,
        "seq must be an integer");
    bad(fix("\"seq\":17.0,\"t\":1732400000000,\"lat\":0,\"lon\":0"), -1,
        "seq must be an integer");
    bad(fix("\"seq\":1e3,\"t\":1732400000000,\"lat\":0,\"lon\":0"), -1,
        "seq must be an integer");
    bad(fix("\"seq\":\"17\",\"t\":1732400000000,\"lat\":0,\"lon\":0"), -1,
        "seq must be an integer");
    bad(fix("\"seq\":null,\"t\":1732400000000,\"lat\":0,\"lon\":0"), -1,
        "seq must be an integer");
    bad(fix("\"seq\":true,\"t\":1732400000000,\"lat\":0,\"lon\":0"), -1,
        "seq must be an integer");
}


static void
test_t(void)
{
    good(fix("\"seq\":1,\"t\":1732400060000,\"lat\":0,\"lon\":0"),
         "t at now + max_future");
    bad(fix("\"seq\":1,\"t\":1732400060001,\"lat\":0,\"lon\":0"), 1,
        "t too far in the future");
    good(fix("\"seq\":1,\"t\":1731795200000,\"lat\":0,\"lon\":0"),
         "t at now - max_past");
    bad(fix("\"seq\":1,\"t\":1731795199999,\"lat\":0,\"lon\":0"), 1,
        "t too far in the past");
    bad(fix("\"seq\":1,\"t\":1732400000,\"lat\":0,\"lon\":0"), 1,
        "t too far in the past");
    bad(fix("\"seq\":1,\"t\":-9223372036854775808,\"lat\":0,\"lon\":0"), 1,
        "t too far in the past");
    bad(fix("\"seq\":1,\"t\":9223372036854775807,\"lat\":0,\"lon\":0"), 1,
        "t too far in the future");
    bad(fix("\"seq\":1,\"lat\":0,\"lon\":0"), 1, "t missing");
    bad(fix("\"seq\":1,\"t\":1732400000000.5,\"lat\":0,\"lon\":0"), 1,
        "t must be an integer");
    bad(fix("\"seq\":1,\"t\":1.7324e12,\"lat\":0,\"lon\":0"), 1,
        "t must be an integer");
    bad(fix("\"seq\":1,\"t\":\"2024-11-23T22:13:20Z\",\"lat\":0,\"lon\":0"),
        1, "t must be an integer");

    /* limits at the ends of int64 do not overflow */

    lim.now = INT64_MAX;
    lim.max_future = INT64_MAX;
    good(fix("\"seq\":1,\"t\":9223372036854775807,\"lat\":0,\"lon\":0"),
         "now and max_future at INT64_MAX");
    lim.now = INT64_MIN;
    lim.max_past = INT64_MAX;
    good(fix("\"seq\":1,\"t\":-9223372036854775808,\"lat\":0,\"lon\":0"),
         "now at INT64_MIN, max_past at INT64_MAX");
    lim.now = T_NOW;
    lim.max_future = T_FUTURE;
    lim.max_past = T_PAST;
}


static void
test_ranges(void)
{
    static const struct {
        const char  *name;
        const char  *ok_lo;
        const char  *ok_hi;
        const char  *bad_lo;
        const char  *bad_hi;
    } r[] = {
        { "lat", "-90", "90", "-90.0000001", "90.0000001" },
        { "lon", "-180", "180.0", "-180.0000001", "180.0000001" },
        { "ele", "-500", "9000", "-500.0000001", "9000.0000001" },
        { "acc", "0", "10000", "-0.0000001", "10000.0000001" },
        { "spd", "0.0", "100", "-1e-300", "100.0000001" },
        { "brg", "0", "359.9999999", "-0.0000001", "360" },
        { "bat", "0", "1", "-0.0000001", "1.0000001" }
    };

    size_t       i;
    char         want[32];
    const char  *lat, *lon;

    for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
        lat = (i == 0) ? "\"x\"" : "\"lat\"";
        lon = (i == 1) ? "\"y\"" : "\"lon\"";
        snprintf(want, sizeof(want), "%s out of range", r[i].name);

#define T_R(v) fix("\"seq\":5,\"t\":1732400000000,%s:1,%s:1,\"%s\":%s", \
                   lat, lon, r[i].name, v)

        good(T_R(r[i].ok_lo), r[i].ok_lo);
        ok(field(&fixes[0], i) == strtod(r[i].ok_lo, NULL)
           && (i < 2 || (fixes[0].has & (1u << (i - 2)))),
           "%s = %s stored", r[i].name, r[i].ok_lo);
        good(T_R(r[i].ok_hi), r[i].ok_hi);
        ok(field(&fixes[0], i) == strtod(r[i].ok_hi, NULL),
           "%s = %s stored", r[i].name, r[i].ok_hi);
        bad(T_R(r[i].bad_lo), 5, want);
        bad(T_R(r[i].bad_hi), 5, want);
        bad(T_R("1e308"), 5, want);
        bad(T_R("-1e308"), 5, want);

#undef T_R
    }

    good(fix("\"seq\":5,\"t\":1732400000000,\"lat\":90,\"lon\":-180"),
         "lat 90 integer, lon -180 integer");
    ok(fixes[0].lat == 90.0 && fixes[0].lon == -180.0, "integers as doubles");
    bad(fix("\"seq\":5,\"t\":1732400000000,\"lat\":91,\"lon\":0"), 5,
        "lat out of range");
    bad(fix("\"seq\":5,\"t\":1732400000000,\"lat\":45,\"lon\":0,"
            "\"spd\":101"), 5, "spd out of range");
}


static void
test_types(void)
{
    bad(fix("\"seq\":17,\"t\":1732400000000,\"lon\":7.68"), 17,
        "lat missing");
    bad(fix("\"seq\":17,\"t\":1732400000000,\"lat\":45.07"), 17,
        "lon missing");
    bad(fix("\"seq\":17,\"t\":1732400000000,\"lat\":null,\"lon\":7"), 17,
        "lat must be a number");
    bad(fix("\"seq\":17,\"t\":1732400000000,\"lat\":\"45.07\",\"lon\":7"), 17,
        "lat must be a number");
    bad(fix("\"seq\":17,\"t\":1732400000000,\"lat\":45,\"lon\":[7]"), 17,
        "lon must be a number");
    bad(fix(T_BASE ",\"ele\":\"240\""), 17, "ele must be a number");
    bad(fix(T_BASE ",\"acc\":{}"), 17, "acc must be a number");
    bad(fix(T_BASE ",\"spd\":\"fast\""), 17, "spd must be a number");
    bad(fix(T_BASE ",\"brg\":true"), 17, "brg must be a number");
    bad(fix(T_BASE ",\"bat\":false"), 17, "bat must be a number");

    /* the first problem is the one reported */

    bad(fix("\"seq\":17,\"t\":1,\"lat\":91,\"lon\":181"), 17,
        "t too far in the past");
    bad(fix("\"seq\":17,\"t\":1732400000000,\"lat\":91,\"lon\":181"), 17,
        "lat out of range");
    is_str(errors[0].code, "bad_fix", "code bad_fix");
}


static void
test_message(void)
{
    msg_rc("", RACE_FIX_MSG_BAD_JSON, "invalid JSON at byte 0");
    msg_rc("{", RACE_FIX_MSG_BAD_JSON, NULL);
    msg_rc("fix", RACE_FIX_MSG_BAD_JSON, NULL);
    msg_rc("[]", RACE_FIX_MSG_BAD_JSON, "not a JSON object");
    msg_rc("[{\"type\":\"fix\"}]", RACE_FIX_MSG_BAD_JSON,
           "not a JSON object");
    msg_rc("42", RACE_FIX_MSG_BAD_JSON, NULL);
    msg_rc("\"fix\"", RACE_FIX_MSG_BAD_JSON, NULL);
    msg_rc("null", RACE_FIX_MSG_BAD_JSON, NULL);
    msg_rc(fix(T_BASE "}{"), RACE_FIX_MSG_BAD_JSON, NULL);
    msg_rc(fix(T_BASE ",\"ele\":NaN"), RACE_FIX_MSG_BAD_JSON, NULL);
    msg_rc(fix(T_BASE ",\"ele\":Infinity"), RACE_FIX_MSG_BAD_JSON, NULL);
    msg_rc(fix(T_BASE ",\"ele\":-Infinity"), RACE_FIX_MSG_BAD_JSON, NULL);
    msg_rc(fix(T_BASE ",\"ele\":1e999"), RACE_FIX_MSG_BAD_JSON, NULL);
    msg_rc(fix(T_BASE ",\"seq\":18"), RACE_FIX_MSG_BAD_JSON, NULL);
    msg_rc(fix(T_BASE ",\"lat\":45.07"), RACE_FIX_MSG_BAD_JSON, NULL);
    msg_rc(fix(T_BASE ",\"x\":{\"a\":1,\"a\":1}"), RACE_FIX_MSG_BAD_JSON,
           NULL);
    msg_rc(fix(T_BASE ",\"note\":\"\xc3\x28\""), RACE_FIX_MSG_BAD_JSON,
           NULL);
    msg_rc(fix(T_BASE ",\"note\":\"a\\u0000b\""), RACE_FIX_MSG_BAD_JSON,
           NULL);
    msg_rc(fix(T_BASE ",\"ele\":01"), RACE_FIX_MSG_BAD_JSON, NULL);
    msg_rc(fix("\"seq\":99999999999999999999,\"t\":1,\"lat\":0,\"lon\":0"),
           RACE_FIX_MSG_BAD_JSON, NULL);

    /* the reason never quotes the phone's data */

    msg_rc("{\"type\":\"fix\",\"lat\":45.0712345x}", RACE_FIX_MSG_BAD_JSON,
           NULL);
    ok(strstr(message, "45") == NULL, "reason: %s", message);

    /* a NUL inside the length is not the end */

    memcpy(buf, "{\"type\":\"fix\"}\0{}", 17);
    ok(race_fix_parse_phone(buf, 17, &lim, fixes, &nfixes, errors, &nerrors,
                            message, sizeof(message))
       == RACE_FIX_MSG_BAD_JSON, "NUL inside the message");

    msg_rc("{" T_BASE "}", RACE_FIX_MSG_BAD_TYPE, "type missing");
    msg_rc("{\"type\":\"ack\"," T_BASE "}", RACE_FIX_MSG_BAD_TYPE,
           "type must be \"fix\" or \"fixes\"");
    msg_rc("{\"type\":\"FIX\"," T_BASE "}", RACE_FIX_MSG_BAD_TYPE, NULL);
    msg_rc("{\"type\":1," T_BASE "}", RACE_FIX_MSG_BAD_TYPE, NULL);
    msg_rc("{\"type\":null," T_BASE "}", RACE_FIX_MSG_BAD_TYPE, NULL);
    msg_rc("{\"type\":[\"fix\"]," T_BASE "}", RACE_FIX_MSG_BAD_TYPE, NULL);

    msg_rc("{\"type\":\"fixes\"}", RACE_FIX_MSG_BAD_SHAPE, "items missing");
    msg_rc("{\"type\":\"fixes\",\"items\":{}}", RACE_FIX_MSG_BAD_SHAPE,
           "items must be an array");
    msg_rc("{\"type\":\"fixes\",\"items\":null}", RACE_FIX_MSG_BAD_SHAPE,
           "items must be an array");
    msg_rc("{\"type\":\"fixes\",\"items\":[]}", RACE_FIX_MSG_BAD_SHAPE,
           "items is empty");
    msg_rc("{\"type\":\"fixes\"," T_BASE "}", RACE_FIX_MSG_BAD_SHAPE,
           "items missing");

    /* message may be NULL or tiny */

    ok(race_fix_parse_phone("[]", 2, &lim, fixes, &nfixes, errors,
                            &nerrors, NULL, 0)
       == RACE_FIX_MSG_BAD_JSON, "no room for a message");
    ok(race_fix_parse_phone("[]", 2, &lim, fixes, &nfixes, errors, &nerrors,
                            message, 4)
       == RACE_FIX_MSG_BAD_JSON && strcmp(message, "not") == 0,
       "message cut to its room");
}


static void
test_batch(void)
{
    size_t  i, n, bad_seq;

    n = batch(buf, 500, NULL);
    is_int(parse(buf), RACE_FIX_MSG_OK, "batch of 500 (%zu bytes)", n);
    is_int(nfixes, 500, "500 fixes");
    is_int(nerrors, 0, "no errors");

    bad_seq = 0;

    for (i = 0; i < 500; i++) {
        if (fixes[i].seq != (int64_t) (1000 + i)) {
            bad_seq++;
        }
    }

    ok(bad_seq == 0, "fixes in the order sent");

    batch(buf, 501, NULL);
    is_int(parse(buf), RACE_FIX_MSG_TOO_MANY, "batch of 501");
    is_str(message, "too many items: 501 > 500", "batch of 501: message");
    ok(nfixes == 0 && nerrors == 0, "batch of 501: nothing kept");

    batch(buf, 501, "\"spd\":-1");
    is_int(parse(buf), RACE_FIX_MSG_TOO_MANY, "501 bad items: too many");

    lim.max_batch = 3;
    batch(buf, 3, NULL);
    is_int(parse(buf), RACE_FIX_MSG_OK, "max_batch 3: batch of 3");
    batch(buf, 4, NULL);
    is_int(parse(buf), RACE_FIX_MSG_TOO_MANY, "max_batch 3: batch of 4");

    lim.max_batch = 1;
    is_int(parse(fix(T_BASE)), RACE_FIX_MSG_OK, "max_batch 1: a fix");

    lim.max_batch = 0;
    is_int(parse(fix(T_BASE)), RACE_FIX_MSG_TOO_MANY, "max_batch 0: a fix");

    lim.max_batch = 100000;
    batch(buf, 501, NULL);
    is_int(parse(buf), RACE_FIX_MSG_TOO_MANY,
           "max_batch over RACE_FIX_BATCH_MAX: 501 still too many");

    lim.max_batch = 500;

    batch(buf, 1, "\"type\":\"fix\"");
    is_int(parse(buf), RACE_FIX_MSG_OK, "item with type fix");
    is_int(nfixes, 1, "item with type fix accepted");
}


static void
test_mixed(void)
{
    const char  *m;

    m = "{\"type\":\"fixes\",\"items\":["
        "{\"seq\":1,\"t\":1732400000000,\"lat\":1,\"lon\":1},"
        "{\"seq\":2,\"t\":1732400000000,\"lat\":91,\"lon\":1},"
        "7,"
        "{\"type\":\"ping\",\"seq\":4,\"t\":1732400000000,\"lat\":1,\"lon\":1},"
        "{\"t\":1732400000000,\"lat\":1,\"lon\":1},"
        "{\"type\":\"fix\",\"seq\":6,\"t\":1732400000000,\"lat\":1,\"lon\":1,"
        "\"spd\":\"x\"},"
        "null,"
        "{\"seq\":8,\"t\":1732400000000,\"lat\":-1,\"lon\":-1,\"bat\":0.5},"
        "{\"type\":\"fixes\",\"items\":[]},"
        "[]"
        "]}";

    is_int(parse(m), RACE_FIX_MSG_OK, "mixed batch");
    is_int(nfixes, 2, "mixed: 2 fixes");
    ok(nfixes == 2 && fixes[0].seq == 1 && fixes[1].seq == 8
       && fixes[1].has == RACE_FIX_BAT, "mixed: seq 1 and 8");
    is_int(nerrors, 8, "mixed: 8 errors");

    if (nerrors != 8) {
        return;
    }

    is_int(errors[0].seq, 2, "mixed: error 1 seq");
    is_str(errors[0].message, "lat out of range", "mixed: error 1");
    is_int(errors[1].seq, -1, "mixed: error 2 seq");
    is_str(errors[1].message, "fix must be an object", "mixed: error 2");
    is_int(errors[2].seq, 4, "mixed: error 3 seq");
    is_str(errors[2].message, "type must be \"fix\"", "mixed: error 3");
    is_int(errors[3].seq, -1, "mixed: error 4 seq");
    is_str(errors[3].message, "seq missing", "mixed: error 4");
    is_int(errors[4].seq, 6, "mixed: error 5 seq");
    is_str(errors[4].message, "spd must be a number", "mixed: error 5");
    is_str(errors[5].message, "fix must be an object", "mixed: null");
    is_str(errors[6].message, "seq missing", "mixed: nested batch");
    is_str(errors[7].message, "fix must be an object", "mixed: array");
}


static void
test_kafka(void)
{
    size_t  n;

    is_int(parse("{\"type\":\"fixes\",\"items\":["
                 "{\"seq\":17,\"t\":1732400000123,\"lat\":45.07,"
                 "\"lon\":7.68,\"ele\":240.5,\"acc\":4.0,\"spd\":11.2,"
                 "\"brg\":270,\"bat\":0.81},"
                 "{\"seq\":18,\"t\":1732400001123,\"lat\":-33.8688197,"
                 "\"lon\":151.2092955,\"spd\":0,\"brg\":0.5}]}"),
           RACE_FIX_MSG_OK, "parse the INTERNALS.md example");

    n = race_fix_kafka_message(out, sizeof(out), "r1", "p7", 1732400000500LL,
                               fixes, nfixes);
    is_str(out,
           "{\"race\":\"r1\",\"rider\":\"p7\",\"recv\":1732400000500,"
           "\"fixes\":[{\"seq\":17,\"t\":1732400000123,\"lat\":45.07,"
           "\"lon\":7.68,\"ele\":240.5,\"acc\":4,\"spd\":11.2,\"brg\":270,"
           "\"bat\":0.81},{\"seq\":18,\"t\":1732400001123,"
           "\"lat\":-33.8688197,\"lon\":151.2092955,\"spd\":0,\"brg\":0.5}]}",
           "kafka message");
    is_int(n, strlen(out), "kafka message length");
    ok(n < race_fix_kafka_size(2), "within race_fix_kafka_size(2)");

    /* the room: the text and its NUL */

    memset(out, 'x', sizeof(out));
    is_int(race_fix_kafka_message(out, n + 1, "r1", "p7", 1732400000500LL,
                                  fixes, 2), n, "room for exactly n + 1");
    ok(out[n] == '\0' && out[n + 1] == 'x', "NUL written, nothing after");
    is_int(race_fix_kafka_message(out, n, "r1", "p7", 1732400000500LL,
                                  fixes, 2), 0, "room for n: 0");
    is_int(race_fix_kafka_message(out, 10, "r1", "p7", 1732400000500LL,
                                  fixes, 2), 0, "room for 10: 0");
    is_int(race_fix_kafka_message(out, 0, "r1", "p7", 1732400000500LL,
                                  fixes, 2), 0, "no room: 0");

    race_fix_kafka_message(out, sizeof(out), "race-2024_x", "R", -1, fixes,
                           0);
    is_str(out, "{\"race\":\"race-2024_x\",\"rider\":\"R\",\"recv\":-1,"
           "\"fixes\":[]}", "no fixes");

    is_int(race_fix_kafka_message(out, sizeof(out), "r 1", "p7", 1, fixes, 1),
           0, "race id with a space: 0");
    is_int(race_fix_kafka_message(out, sizeof(out), "r1", "p\"7", 1, fixes,
                                  1), 0, "rider id with a quote: 0");
    is_int(race_fix_kafka_message(out, sizeof(out), "", "p7", 1, fixes, 1),
           0, "empty race id: 0");
    is_int(race_fix_kafka_message(out, sizeof(out), "r1", NULL, 1, fixes, 1),
           0, "NULL rider: 0");
    is_int(race_fix_kafka_message(out, sizeof(out),
               "01234567890123456789012345678901234567890123456789"
               "012345678901234", "p7", 1, fixes, 1),
           0, "race id of 65: 0");

    fixes[1].spd = NAN;
    is_int(race_fix_kafka_message(out, sizeof(out), "r1", "p7", 1, fixes, 2),
           0, "a NaN: 0");
    fixes[1].spd = INFINITY;
    is_int(race_fix_kafka_message(out, sizeof(out), "r1", "p7", 1, fixes, 2),
           0, "an infinity: 0");
    fixes[1].has &= ~RACE_FIX_SPD;
    ok(race_fix_kafka_message(out, sizeof(out), "r1", "p7", 1, fixes, 2) > 0
       && strstr(strstr(out, "\"seq\":18"), "spd") == NULL,
       "an infinity in an absent field is not written");
}


static void
test_kafka_numbers(void)
{
    is_str(kafka_double(45.07), "45.07", "45.07");
    is_str(kafka_double(0.1), "0.1", "0.1");
    is_str(kafka_double(270), "270", "270");
    is_str(kafka_double(4.0), "4", "4.0");
    is_str(kafka_double(-0.0), "0", "-0");
    is_str(kafka_double(-33.8688197), "-33.8688197", "-33.8688197");
    is_str(kafka_double(1e-7), "1e-07", "1e-7");
    is_str(kafka_double(2.718281828459045), "2.718281828459045",
           "e: 16 digits");
    is_str(kafka_double(0.1 + 0.2), "0.30000000000000004",
           "0.1 + 0.2: 17 digits");
    is_str(kafka_double(1.0 / 3), "0.3333333333333333", "1/3: 16 digits");
    is_str(kafka_double(-2.2250738585072014e-308), "-2.2250738585072014e-308",
           "-DBL_MIN: the longest");
    is_str(kafka_double(5e-324), "4.94065645841247e-324",
           "the smallest subnormal: 15 digits read back the same");
}


/* the longest fixes there can be still fit race_fix_kafka_size() */

static void
test_kafka_bounds(void)
{
    char         *dst;
    char          id[65];
    size_t        i, n, len, head, one;
    json_t       *j;
    race_fix_t    f;
    json_error_t  err;

    memset(id, 'W', 64);
    id[64] = '\0';

    f.seq = INT64_MIN;
    f.t = INT64_MIN;
    f.lat = -2.2250738585072014e-308;
    f.lon = f.lat;
    f.ele = f.lat;
    f.acc = f.lat;
    f.spd = f.lat;
    f.brg = f.lat;
    f.bat = f.lat;
    f.has = 0x1f;

    for (i = 0; i < RACE_FIX_BATCH_MAX; i++) {
        fixes[i] = f;
    }

    head = 0;
    one = 0;

    for (n = 0; n <= RACE_FIX_BATCH_MAX; n += (n < 3) ? 1 : 497) {
        len = race_fix_kafka_size(n);
        dst = malloc(len);

        if (dst == NULL) {
            ok(0, "malloc %zu", len);
            return;
        }

        i = race_fix_kafka_message(dst, len, id, id, INT64_MIN, fixes, n);
        ok(i > 0 && i < len, "longest %zu fixes: %zu < %zu", n, i, len);

        head = (n == 0) ? i : head;
        one = (n == 1) ? i - head : one;

        j = json_loadb(dst, i, 0, &err);
        ok(j != NULL && json_array_size(json_object_get(j, "fixes")) == n,
           "longest %zu fixes: JSON", n);
        json_decref(j);
        free(dst);
    }

    diag("longest head %zu bytes, longest fix %zu", head, one);

    ok(race_fix_kafka_size((size_t) -1) == (size_t) -1,
       "race_fix_kafka_size saturates");
}


/*
 * Fixes with random values, some fields left out, some with 7 decimals
 * and some full doubles; parsed, written for Kafka, read back: every
 * value the same double, every absent field absent.
 */

static void
test_round_trip(void)
{
    char          *p;
    size_t         i, k, len, diff, absent, n;
    double         v, sent[300][7];
    json_t        *j, *a, *o, *x;
    unsigned       has[300];
    json_error_t   err;

    static const char  *names[7] = {
        "lat", "lon", "ele", "acc", "spd", "brg", "bat"
    };
    static const double  lo[7] = { -90, -180, -500, 0, 0, 0, 0 };
    static const double  hi[7] = { 90, 180, 9000, 10000, 100, 359.999, 1 };

    n = 300;
    p = buf;
    p += sprintf(p, "{\"type\":\"fixes\",\"items\":[");

    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s{\"seq\":%zu,\"t\":%lld", i ? "," : "", i * 7,
                     T_NOW - (long long) i * 1000);
        has[i] = 0;

        for (k = 0; k < 7; k++) {
            if (k >= 2 && rnd() % 3 == 0) {
                continue;
            }

            v = rnd_in(lo[k], hi[k], (i % 2) ? 7 : -1);
            sent[i][k] = v;
            has[i] |= (k >= 2) ? 1u << (k - 2) : 0;

            p += sprintf(p, ",\"%s\":%.17g", names[k], v);
        }

        p += sprintf(p, "}");
    }

    sprintf(p, "]}");

    is_int(parse(buf), RACE_FIX_MSG_OK, "round trip: parse %zu fixes", n);
    is_int(nfixes, n, "round trip: all valid");

    len = race_fix_kafka_message(out, sizeof(out), "r1", "p7", T_NOW, fixes,
                                 nfixes);
    ok(len > 0, "round trip: kafka message of %zu bytes", len);

    j = json_loadb(out, len, JSON_REJECT_DUPLICATES, &err);
    ok(j != NULL, "round trip: JSON");

    a = json_object_get(j, "fixes");
    ok(json_array_size(a) == n, "round trip: %zu fixes back", n);

    diff = 0;
    absent = 0;

    for (i = 0; i < n && i < json_array_size(a); i++) {
        o = json_array_get(a, i);

        if (json_integer_value(json_object_get(o, "seq"))
            != (json_int_t) (i * 7)
            || json_integer_value(json_object_get(o, "t"))
               != (json_int_t) (T_NOW - (long long) i * 1000))
        {
            diff++;
        }

        for (k = 0; k < 7; k++) {
            x = json_object_get(o, names[k]);

            if (k >= 2 && !(has[i] & (1u << (k - 2)))) {
                absent += (x == NULL);
                continue;
            }

            if (!json_is_number(x)
                || fabs(json_number_value(x) - sent[i][k]) > 1e-7
                || json_number_value(x) != sent[i][k])
            {
                diff++;
            }
        }

        if (json_object_size(o) != 2 + 2 + (size_t) __builtin_popcount(has[i]))
        {
            diff++;
        }
    }

    is_int(diff, 0, "round trip: every value the same double");
    ok(absent > 100, "round trip: %zu absent fields stayed absent", absent);
    is_str(json_string_value(json_object_get(j, "race")), "r1",
           "round trip: race");
    ok(json_integer_value(json_object_get(j, "recv")) == T_NOW,
       "round trip: recv");

    json_decref(j);
}


static race_fix_msg_rc_e
parse(const char *json)
{
    memset(fixes, 0xa5, sizeof(fixes));
    memset(errors, 0xa5, sizeof(errors));

    return race_fix_parse_phone(json, strlen(json), &lim, fixes, &nfixes,
                                errors, &nerrors, message,
                                sizeof(message));
}


/* {"type":"fix", ...} */

static const char *
fix(const char *fmt, ...)
{
    int          n;
    va_list      ap;
    static char  f[4096];

    n = snprintf(f, sizeof(f), "{\"type\":\"fix\",");

    va_start(ap, fmt);
    n += vsnprintf(f + n, sizeof(f) - n, fmt, ap);
    va_end(ap);

    snprintf(f + n, sizeof(f) - n, "}");

    return f;
}


static void
good(const char *json, const char *name)
{
    race_fix_msg_rc_e  rc;

    rc = parse(json);

    if (!ok(rc == RACE_FIX_MSG_OK && nfixes == 1 && nerrors == 0,
            "accepted: %s", name))
    {
        diag("  %s", json);
        diag("  rc %d, %zu fixes, %zu errors: %s %s", rc, nfixes, nerrors,
             message, nerrors ? errors[0].message : "");
    }
}


/* one fix refused with this message */

static void
bad(const char *json, int64_t seq, const char *msg)
{
    race_fix_msg_rc_e  rc;

    rc = parse(json);

    if (!ok(rc == RACE_FIX_MSG_OK && nfixes == 0 && nerrors == 1
            && errors[0].seq == seq && strcmp(errors[0].code, "bad_fix") == 0
            && strcmp(errors[0].message, msg) == 0,
            "refused, seq %lld: %s (%.40s)", (long long) seq, msg,
            json + 14))
    {
        diag("  %s", json);
        diag("  rc %d, %zu fixes, %zu errors: seq %lld '%s'", rc, nfixes,
             nerrors, nerrors ? (long long) errors[0].seq : 0LL,
             nerrors ? errors[0].message : "");
    }
}


static void
msg_rc(const char *json, race_fix_msg_rc_e rc, const char *msg)
{
    race_fix_msg_rc_e  got;

    got = parse(json);

    if (!ok(got == rc && nfixes == 0 && nerrors == 0 && message[0] != '\0'
            && (msg == NULL || strcmp(message, msg) == 0),
            "message refused (%d): %.50s", rc, json))
    {
        diag("  rc %d, message '%s'", got, message);
    }
}


/* {"type":"fixes","items":[...]}: n good fixes, or n copies of item */

static size_t
batch(char *dst, size_t n, const char *item)
{
    size_t  i, len;

    len = sprintf(dst, "{\"type\":\"fixes\",\"items\":[");

    for (i = 0; i < n; i++) {
        if (item == NULL) {
            len += sprintf(dst + len, "%s{\"seq\":%zu,\"t\":%lld,"
                           "\"lat\":45.0%zu,\"lon\":7.6%zu,\"ele\":240.5,"
                           "\"acc\":4.0,\"spd\":11.2,\"brg\":270,"
                           "\"bat\":0.81}", i ? "," : "", 1000 + i,
                           T_NOW - (long long) i * 1000, i, i);

        } else {
            len += sprintf(dst + len, "%s{\"seq\":%zu,"
                           "\"t\":1732400000000,\"lat\":0,\"lon\":0,%s}",
                           i ? "," : "", i, item);
        }
    }

    len += sprintf(dst + len, "]}");

    return len;
}


/* how the Kafka message writes v, as lat of a fix */

static const char *
kafka_double(double v)
{
    char         *p, *e;
    race_fix_t    f;
    static char   s[64];

    memset(&f, 0, sizeof(f));
    f.lat = v;

    s[0] = '\0';

    if (race_fix_kafka_message(out, sizeof(out), "r", "p", 0, &f, 1) == 0) {
        return s;
    }

    p = strstr(out, "\"lat\":") + 6;
    e = strchr(p, ',');
    snprintf(s, sizeof(s), "%.*s", (int) (e - p), p);

    return s;
}


/* the i-th double of a fix, in race_fix_t's order */

static double
field(const race_fix_t *f, size_t i)
{
    const double  v[7] = {
        f->lat, f->lon, f->ele, f->acc, f->spd, f->brg, f->bat
    };

    return v[i];
}


static uint32_t
rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;

    return rnd_state;
}


/* a value in [lo, hi], rounded to decimals when >= 0 */

static double
rnd_in(double lo, double hi, int decimals)
{
    double  v, m;

    v = lo + (hi - lo) * ((double) rnd() / 4294967295.0);

    if (decimals >= 0) {
        m = pow(10, decimals);
        v = round(v * m) / m;
    }

    if (v < lo) {
        v = lo;
    }

    if (v > hi) {
        v = hi;
    }

    return v;
}
