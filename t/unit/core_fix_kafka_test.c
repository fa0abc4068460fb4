
/*
 * ngx_race: unit tests of the fix core's Kafka side, the message
 * parser and the fix document _id, and of the JSON number writer, TAP
 * output.
 *
 * Every field of docs/INTERNALS.md's race.fixes message, the optional
 * ones absent and present; malformed messages as a whole (not JSON,
 * wrong types, bad ids, no or too many fixes, numbers out of range or
 * out of JSON); the exact reasons given; and the contract with the
 * module: whatever its writer (race_fix_kafka_message()) makes of
 * generated fixes parses back here to the same values.
 */


#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_fix.h"
#include "race_id.h"
#include "race_json.h"
#include "tap.h"


#define T_RECV     1732400000500LL
#define T_BUF      (256 * 1024)

/* the fields of a message but "fixes", and the required ones of a fix */
#define T_HEAD     "\"race\":\"r1\",\"rider\":\"p7\",\"recv\":1732400000500"
#define T_FIX      "\"seq\":17,\"t\":1732400000123,\"lat\":45.07," \
                   "\"lon\":7.68"

#define T_ID64     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
                   "0123456789_-"
#define T_ID65     T_ID64 "x"


static void test_example(void);
static void test_optional(void);
static void test_ids(void);
static void test_recv(void);
static void test_fields(void);
static void test_malformed(void);
static void test_count(void);
static void test_doc_id(void);
static void test_number(void);
static void test_number_random(void);
static void test_writer(void);
static void test_writer_random(void);

static int parse_len(const char *data, size_t len);
static int parse(const char *json);
static const char *with_fixes(const char *fmt, ...);
static const char *with_head(const char *fmt, ...);
static void good(const char *json, const char *name);
static void bad(const char *json, const char *reason);
static void bad_prefix(const char *json, const char *prefix,
    const char *name);
static const char *number(double v);
static void rnd_id(char *dst);
static uint64_t rnd(void);
static double rnd_double(void);
static double rnd_in(double lo, double hi);
static double field(const race_fix_t *f, size_t i);
static double t_field(const race_fix_t *f, size_t i);


static const char *const  names[7] = {
    "lat", "lon", "ele", "acc", "spd", "brg", "bat"
};

/* the RACE_FIX_* bit of each field, 0 for the required ones */
static const unsigned  bits[7] = {
    0, 0, RACE_FIX_ELE, RACE_FIX_ACC, RACE_FIX_SPD, RACE_FIX_BRG,
    RACE_FIX_BAT
};

static const size_t  t_offsets[7] = {
    offsetof(race_fix_t, lat), offsetof(race_fix_t, lon),
    offsetof(race_fix_t, ele), offsetof(race_fix_t, acc),
    offsetof(race_fix_t, spd), offsetof(race_fix_t, brg),
    offsetof(race_fix_t, bat)
};

static race_fix_msg_t   msg;
static race_fix_t       fixes[RACE_FIX_BATCH_MAX + 1];
static size_t           nfixes;
static char             err[256];
static char             buf[T_BUF];
static uint64_t         rnd_state = 0x2545f4914f6cdd1dULL;


int
main(void)
{
    test_example();
    test_optional();
    test_ids();
    test_recv();
    test_fields();
    test_malformed();
    test_count();
    test_doc_id();
    test_number();
    test_number_random();
    test_writer();
    test_writer_random();

    return tap_done();
}


static void
test_example(void)
{
    race_fix_t  *f;

    /* docs/INTERNALS.md's example, as laid out there */

    good("{\"race\":\"r1\",\"rider\":\"p7\",\"recv\":1732400000500,\n"
         " \"fixes\":[{\"seq\":17,\"t\":1732400000123,\"lat\":45.07,"
         "\"lon\":7.68,\n"
         "           \"ele\":240.5,\"acc\":4.0,\"spd\":11.2,\"brg\":270,"
         "\"bat\":0.81}]}\n", "INTERNALS.md example");

    f = &fixes[0];

    is_int(nfixes, 1, "example: one fix");
    is_str(msg.race, "r1", "example: race");
    is_str(msg.rider, "p7", "example: rider");
    is_int(msg.recv, T_RECV, "example: recv");
    ok(f->msg == &msg, "example: the fix points at its message");
    is_int(f->seq, 17, "example: seq");
    is_int(f->t, 1732400000123LL, "example: t");
    ok(f->lat == 45.07 && f->lon == 7.68, "example: lat and lon");
    ok(f->ele == 240.5 && f->acc == 4.0 && f->spd == 11.2 && f->brg == 270
       && f->bat == 0.81, "example: optional fields");
    is_int(f->has, RACE_FIX_ELE | RACE_FIX_ACC | RACE_FIX_SPD | RACE_FIX_BRG
           | RACE_FIX_BAT, "example: has every optional field");

    good(with_fixes("{" T_FIX "}"), "required fields only");
    f = &fixes[0];
    is_int(f->has, 0, "required only: has nothing optional");
    ok(f->ele == 0 && f->acc == 0 && f->spd == 0 && f->brg == 0
       && f->bat == 0, "required only: absent fields are 0");

    good("{\"fixes\":[{\"lon\":7.68,\"lat\":45.07,\"t\":1732400000123,"
         "\"seq\":17}],\"recv\":1732400000500,\"rider\":\"p7\","
         "\"race\":\"r1\"}", "any field order");
    ok(fixes[0].seq == 17 && fixes[0].lon == 7.68 && msg.recv == T_RECV,
       "any field order: values");

    good("  \t\r\n{ \"race\" : \"r1\" , \"rider\":\"p7\", \"recv\" : "
         "1732400000500 , \"fixes\" : [ { " T_FIX " } ] }  \n",
         "whitespace everywhere JSON allows it");

    good("{\"\\u0072ace\":\"\\u0072\\u0031\",\"rider\":\"p7\","
         "\"recv\":1732400000500,\"fixes\":[{" T_FIX "}]}",
         "escapes in keys and ids");
    is_str(msg.race, "r1", "escaped race id decoded");
}


static void
test_optional(void)
{
    size_t      k;
    unsigned    has;
    race_fix_t  *f;

    static const double  v[7] = { 0, 0, -12.5, 4, 11.2, 359.5, 0.81 };

    /* each optional field alone */

    for (k = 2; k < 7; k++) {
        good(with_fixes("{" T_FIX ",\"%s\":%.17g}", names[k], v[k]),
             names[k]);

        if (!ok(fixes[0].has == bits[k] && field(&fixes[0], k) == v[k],
                "%s alone: its bit and value", names[k]))
        {
            diag("  has 0x%x, value %.17g", fixes[0].has,
                 field(&fixes[0], k));
        }

        ok(fixes[0].ele + fixes[0].acc + fixes[0].spd + fixes[0].brg
           + fixes[0].bat == v[k], "%s alone: the others are 0", names[k]);
    }

    /* every subset, in one message: has is per fix */

    buf[0] = '\0';
    k = 0;

    for (has = 0; has < 32; has++) {
        k += sprintf(buf + k, "%s{\"seq\":%u,\"t\":1,\"lat\":0,\"lon\":0%s%s"
                     "%s%s%s}", has ? "," : "", has,
                     (has & RACE_FIX_ELE) ? ",\"ele\":1" : "",
                     (has & RACE_FIX_ACC) ? ",\"acc\":2" : "",
                     (has & RACE_FIX_SPD) ? ",\"spd\":3" : "",
                     (has & RACE_FIX_BRG) ? ",\"brg\":4" : "",
                     (has & RACE_FIX_BAT) ? ",\"bat\":5" : "");
    }

    good(with_fixes("%s", buf), "32 fixes, every subset of optional fields");

    k = 0;

    for (has = 0; has < 32 && has < nfixes; has++) {
        f = &fixes[has];

        if (f->has != has || f->seq != has
            || f->ele != ((has & RACE_FIX_ELE) ? 1 : 0)
            || f->acc != ((has & RACE_FIX_ACC) ? 2 : 0)
            || f->spd != ((has & RACE_FIX_SPD) ? 3 : 0)
            || f->brg != ((has & RACE_FIX_BRG) ? 4 : 0)
            || f->bat != ((has & RACE_FIX_BAT) ? 5 : 0))
        {
            k++;
        }
    }

    is_int(k, 0, "every subset: has and values per fix");

    /* only the type of an optional field is checked: the module did */

    good(with_fixes("{" T_FIX ",\"ele\":1e308,\"acc\":-4,\"spd\":1000,"
                    "\"brg\":720,\"bat\":2}"), "optional out of the "
         "module's ranges");
    ok(fixes[0].ele == 1e308 && fixes[0].acc == -4 && fixes[0].brg == 720,
       "optional out of range: values kept");

    good(with_fixes("{" T_FIX ",\"ele\":-0.0,\"acc\":5e-324}"),
         "optional -0 and the smallest denormal");
    ok(fixes[0].ele == 0 && fixes[0].acc == 5e-324,
       "-0 and denormal: values");

    good(with_fixes("{" T_FIX ",\"brg\":270,\"acc\":4.0}"),
         "optional integer and real");
    ok(fixes[0].brg == 270 && fixes[0].acc == 4, "integer and real: values");

    /* unknown fields, with any junk in them, are ignored */

    good(with_fixes("{" T_FIX ",\"note\":\"hi\",\"x\":null,\"extra\":{\"a\":"
                    "[1,{\"b\":[[[{}]]]}],\"c\":true},\"Ele\":\"no\"}"),
         "unknown fields in a fix");
    is_int(fixes[0].has, 0, "unknown fields: nothing optional");

    good("{\"type\":\"fixes\",\"v\":2," T_HEAD ",\"extra\":[{\"fixes\":1}],"
         "\"fixes\":[{" T_FIX "}]}", "unknown fields in the message");

    /* present but not a number: the message is malformed */

    bad(with_fixes("{" T_FIX ",\"ele\":null}"),
        "fix 0: \"ele\" missing or not a number");
    bad(with_fixes("{" T_FIX ",\"acc\":\"4\"}"),
        "fix 0: \"acc\" missing or not a number");
    bad(with_fixes("{" T_FIX ",\"spd\":true}"),
        "fix 0: \"spd\" missing or not a number");
    bad(with_fixes("{" T_FIX ",\"brg\":[270]}"),
        "fix 0: \"brg\" missing or not a number");
    bad(with_fixes("{" T_FIX ",\"bat\":{}}"),
        "fix 0: \"bat\" missing or not a number");
    bad(with_fixes("{" T_FIX "},{" T_FIX ",\"ele\":1,\"bat\":false}"),
        "fix 1: \"bat\" missing or not a number");
}


static void
test_ids(void)
{
    ok(race_id_valid("a", 1), "valid id: one character");
    ok(race_id_valid(T_ID64, 64), "valid id: 64 characters, each kind");
    ok(!race_id_valid(T_ID65, 65), "invalid id: 65 characters");
    ok(!race_id_valid("", 0), "invalid id: empty");
    ok(!race_id_valid("ab\0c", 4), "invalid id: a NUL inside");
    ok(race_id_valid("ab:c", 2), "valid id: only len is looked at");
    ok(!race_id_valid("r:1", 3), "invalid id: ':' (the _id separator)");
    ok(!race_id_valid("r 1", 3), "invalid id: a space");
    ok(!race_id_valid("r.1", 3), "invalid id: '.'");
    ok(!race_id_valid("r/1", 3), "invalid id: '/'");
    ok(!race_id_valid("r\xc3\xa9", 3), "invalid id: UTF-8");
    ok(!race_id_valid("\xff", 1), "invalid id: a high byte");

    good(with_head("\"race\":\"" T_ID64 "\",\"rider\":\"" T_ID64 "\","
                   "\"recv\":0"), "64-character ids");
    is_str(msg.race, T_ID64, "64-character race id kept whole");
    is_str(msg.rider, T_ID64, "64-character rider id kept whole");

    good(with_head("\"race\":\"R\",\"rider\":\"-\",\"recv\":0"),
         "1-character ids");

    bad(with_head("\"race\":\"" T_ID65 "\",\"rider\":\"p7\",\"recv\":0"),
        "\"race\" is not a valid id");
    bad(with_head("\"race\":\"r1\",\"rider\":\"" T_ID65 "\",\"recv\":0"),
        "\"rider\" is not a valid id");
    bad(with_head("\"race\":\"\",\"rider\":\"p7\",\"recv\":0"),
        "\"race\" is not a valid id");
    bad(with_head("\"race\":\"r1\",\"rider\":\"\",\"recv\":0"),
        "\"rider\" is not a valid id");
    bad(with_head("\"race\":\"r:1\",\"rider\":\"p7\",\"recv\":0"),
        "\"race\" is not a valid id");
    bad(with_head("\"race\":\"r1\",\"rider\":\"p 7\",\"recv\":0"),
        "\"rider\" is not a valid id");
    bad(with_head("\"race\":\"r1\",\"rider\":\"p\\u00e9\",\"recv\":0"),
        "\"rider\" is not a valid id");
    bad(with_head("\"race\":\"r1\\n\",\"rider\":\"p7\",\"recv\":0"),
        "\"race\" is not a valid id");
    bad_prefix(with_head("\"race\":\"r1\",\"rider\":\"p\\u0000\","
                         "\"recv\":0"), "not JSON (at byte ",
               "\\u0000 in an id");

    bad(with_head("\"rider\":\"p7\",\"recv\":0"),
        "\"race\" missing or not a string");
    bad(with_head("\"race\":\"r1\",\"recv\":0"),
        "\"rider\" missing or not a string");
    bad(with_head("\"race\":17,\"rider\":\"p7\",\"recv\":0"),
        "\"race\" missing or not a string");
    bad(with_head("\"race\":null,\"rider\":\"p7\",\"recv\":0"),
        "\"race\" missing or not a string");
    bad(with_head("\"race\":\"r1\",\"rider\":[\"p7\"],\"recv\":0"),
        "\"rider\" missing or not a string");
    bad(with_head("\"race\":\"r1\",\"rider\":{\"id\":\"p7\"},\"recv\":0"),
        "\"rider\" missing or not a string");
    bad(with_head("\"race\":true,\"rider\":17,\"recv\":-1"),
        "\"race\" missing or not a string");
}


static void
test_recv(void)
{
    good(with_head("\"race\":\"r1\",\"rider\":\"p7\",\"recv\":0"), "recv 0");
    is_int(msg.recv, 0, "recv 0: value");

    good(with_head("\"race\":\"r1\",\"rider\":\"p7\","
                   "\"recv\":9223372036854775807"), "recv INT64_MAX");
    is_int(msg.recv, INT64_MAX, "recv INT64_MAX: value");

    bad(with_head("\"race\":\"r1\",\"rider\":\"p7\",\"recv\":-1"),
        "\"recv\" out of range");
    bad(with_head("\"race\":\"r1\",\"rider\":\"p7\","
                  "\"recv\":-9223372036854775808"), "\"recv\" out of range");
    bad(with_head("\"race\":\"r1\",\"rider\":\"p7\",\"recv\":1.5"),
        "\"recv\" missing or not an integer");
    bad(with_head("\"race\":\"r1\",\"rider\":\"p7\",\"recv\":1732400000500.0"),
        "\"recv\" missing or not an integer");
    bad(with_head("\"race\":\"r1\",\"rider\":\"p7\",\"recv\":1.7324e12"),
        "\"recv\" missing or not an integer");
    bad(with_head("\"race\":\"r1\",\"rider\":\"p7\",\"recv\":\"1\""),
        "\"recv\" missing or not an integer");
    bad(with_head("\"race\":\"r1\",\"rider\":\"p7\",\"recv\":null"),
        "\"recv\" missing or not an integer");
    bad(with_head("\"race\":\"r1\",\"rider\":\"p7\""),
        "\"recv\" missing or not an integer");
    bad_prefix(with_head("\"race\":\"r1\",\"rider\":\"p7\","
                         "\"recv\":9223372036854775808"),
               "not JSON (at byte ", "recv over INT64_MAX");
}


static void
test_fields(void)
{
    /* seq: an integer, 0 .. 2^53 - 1 */

    good(with_fixes("{\"seq\":0,\"t\":1,\"lat\":0,\"lon\":0}"), "seq 0");
    is_int(fixes[0].seq, 0, "seq 0: value");
    good(with_fixes("{\"seq\":9007199254740991,\"t\":1,\"lat\":0,"
                    "\"lon\":0}"), "seq 2^53 - 1");
    is_int(fixes[0].seq, RACE_FIX_SEQ_MAX, "seq 2^53 - 1: value");

    bad(with_fixes("{\"seq\":9007199254740992,\"t\":1,\"lat\":0,"
                   "\"lon\":0}"), "fix 0: \"seq\" out of range");
    bad(with_fixes("{\"seq\":-1,\"t\":1,\"lat\":0,\"lon\":0}"),
        "fix 0: \"seq\" out of range");
    bad(with_fixes("{\"seq\":17.0,\"t\":1,\"lat\":0,\"lon\":0}"),
        "fix 0: \"seq\" missing or not an integer");
    bad(with_fixes("{\"seq\":\"17\",\"t\":1,\"lat\":0,\"lon\":0}"),
        "fix 0: \"seq\" missing or not an integer");
    bad(with_fixes("{\"t\":1,\"lat\":0,\"lon\":0}"),
        "fix 0: \"seq\" missing or not an integer");

    /* t: an integer, 1 .. INT64_MAX */

    good(with_fixes("{\"seq\":1,\"t\":1,\"lat\":0,\"lon\":0}"), "t 1");
    good(with_fixes("{\"seq\":1,\"t\":9223372036854775807,\"lat\":0,"
                    "\"lon\":0}"), "t INT64_MAX");
    is_int(fixes[0].t, INT64_MAX, "t INT64_MAX: value");

    bad(with_fixes("{\"seq\":1,\"t\":0,\"lat\":0,\"lon\":0}"),
        "fix 0: \"t\" out of range");
    bad(with_fixes("{\"seq\":1,\"t\":-1732400000000,\"lat\":0,\"lon\":0}"),
        "fix 0: \"t\" out of range");
    bad(with_fixes("{\"seq\":1,\"t\":1.7324e12,\"lat\":0,\"lon\":0}"),
        "fix 0: \"t\" missing or not an integer");
    bad(with_fixes("{\"seq\":1,\"t\":false,\"lat\":0,\"lon\":0}"),
        "fix 0: \"t\" missing or not an integer");
    bad(with_fixes("{\"seq\":1,\"lat\":0,\"lon\":0}"),
        "fix 0: \"t\" missing or not an integer");

    /* lat and lon: any number, within the globe */

    good(with_fixes("{\"seq\":1,\"t\":1,\"lat\":-90,\"lon\":-180}"),
         "lat -90, lon -180");
    ok(fixes[0].lat == -90 && fixes[0].lon == -180, "south-west: values");
    good(with_fixes("{\"seq\":1,\"t\":1,\"lat\":90.0,\"lon\":180.0}"),
         "lat 90.0, lon 180.0");
    ok(fixes[0].lat == 90 && fixes[0].lon == 180, "north-east: values");
    good(with_fixes("{\"seq\":1,\"t\":1,\"lat\":-33.8688197,"
                    "\"lon\":151.2092955}"), "Sydney");
    ok(fixes[0].lat == -33.8688197 && fixes[0].lon == 151.2092955,
       "Sydney: values");
    good(with_fixes("{\"seq\":1,\"t\":1,\"lat\":4.507e1,\"lon\":768E-2}"),
         "exponents");
    ok(fixes[0].lat == 45.07 && fixes[0].lon == 7.68, "exponents: values");

    bad(with_fixes("{\"seq\":1,\"t\":1,\"lat\":90.000000001,\"lon\":0}"),
        "fix 0: \"lat\" out of range");
    bad(with_fixes("{\"seq\":1,\"t\":1,\"lat\":-90.000000001,\"lon\":0}"),
        "fix 0: \"lat\" out of range");
    bad(with_fixes("{\"seq\":1,\"t\":1,\"lat\":0,\"lon\":180.000000001}"),
        "fix 0: \"lon\" out of range");
    bad(with_fixes("{\"seq\":1,\"t\":1,\"lat\":0,\"lon\":-180.000000001}"),
        "fix 0: \"lon\" out of range");
    bad(with_fixes("{\"seq\":1,\"t\":1,\"lat\":1e308,\"lon\":0}"),
        "fix 0: \"lat\" out of range");
    bad(with_fixes("{\"seq\":1,\"t\":1,\"lat\":0,\"lon\":-1e308}"),
        "fix 0: \"lon\" out of range");
    bad(with_fixes("{\"seq\":1,\"t\":1,\"lat\":0,"
                   "\"lon\":9223372036854775807}"),
        "fix 0: \"lon\" out of range");
    bad(with_fixes("{\"seq\":1,\"t\":1,\"lat\":\"45.07\",\"lon\":0}"),
        "fix 0: \"lat\" missing or not a number");
    bad(with_fixes("{\"seq\":1,\"t\":1,\"lat\":null,\"lon\":0}"),
        "fix 0: \"lat\" missing or not a number");
    bad(with_fixes("{\"seq\":1,\"t\":1,\"lat\":0}"),
        "fix 0: \"lon\" missing or not a number");
    bad(with_fixes("{\"seq\":1,\"t\":1,\"lon\":0}"),
        "fix 0: \"lat\" missing or not a number");

    /* the first problem is the one reported, and where it is */

    bad(with_fixes("{\"seq\":-1,\"t\":0,\"lat\":91,\"lon\":181}"),
        "fix 0: \"seq\" out of range");
    bad(with_fixes("{" T_FIX "},{" T_FIX "},{\"seq\":1,\"t\":1,\"lat\":0,"
                   "\"lon\":181},{\"seq\":-1}"),
        "fix 2: \"lon\" out of range");
    ok(fixes[0].msg == &msg, "fixes before the bad one were filled in");

    /* numbers JSON does not have */

    bad_prefix(with_fixes("{\"seq\":1,\"t\":1,\"lat\":NaN,\"lon\":0}"),
               "not JSON (at byte ", "NaN");
    bad_prefix(with_fixes("{\"seq\":1,\"t\":1,\"lat\":0,\"lon\":Infinity}"),
               "not JSON (at byte ", "Infinity");
    bad_prefix(with_fixes("{\"seq\":1,\"t\":1,\"lat\":0,\"lon\":-Infinity}"),
               "not JSON (at byte ", "-Infinity");
    bad_prefix(with_fixes("{\"seq\":1,\"t\":1,\"lat\":0,\"lon\":0,"
                          "\"ele\":1e400}"), "not JSON (at byte ",
               "1e400, over a double");
    bad_prefix(with_fixes("{\"seq\":1,\"t\":1,\"lat\":0,\"lon\":0,"
                          "\"ele\":-1e400}"), "not JSON (at byte ",
               "-1e400, over a double");
    bad_prefix(with_fixes("{\"seq\":1,\"t\":1,\"lat\":0,\"lon\":0,"
                          "\"ele\":99999999999999999999}"),
               "not JSON (at byte ", "an integer over int64");
    bad_prefix(with_fixes("{\"seq\":1,\"t\":1,\"lat\":0,\"lon\":0x10}"),
               "not JSON (at byte ", "hex");
    bad_prefix(with_fixes("{\"seq\":1,\"t\":1,\"lat\":0,\"lon\":+1}"),
               "not JSON (at byte ", "a plus sign");
    bad_prefix(with_fixes("{\"seq\":1,\"t\":1,\"lat\":.5,\"lon\":0}"),
               "not JSON (at byte ", "no digit before the point");
    bad_prefix(with_fixes("{\"seq\":01,\"t\":1,\"lat\":0,\"lon\":0}"),
               "not JSON (at byte ", "a leading zero");

    good(with_fixes("{\"seq\":1,\"t\":1,\"lat\":1e-400,\"lon\":0}"),
         "1e-400 underflows to 0");
    ok(fixes[0].lat == 0, "1e-400: value 0");
}


static void
test_malformed(void)
{
    size_t       len;
    static char  deep[8192];

    nfixes = 7;
    ok(race_fix_parse_kafka(NULL, 0, &msg, fixes, RACE_FIX_BATCH_MAX,
                            &nfixes, err, sizeof(err)) == -1
       && nfixes == 0 && strcmp(err, "empty message") == 0,
       "NULL: empty message");
    bad("", "empty message");

    ok(parse_len("{}", 0) == -1 && strcmp(err, "empty message") == 0,
       "length 0: empty message");

    bad("not json", "not JSON (at byte 3)");
    bad("{\"race\":\"r1\",", "not JSON (at byte 13)");
    bad("{\"race\":\"r1\"", "not JSON (at byte 12)");
    bad_prefix("{", "not JSON (at byte ", "a lone brace");
    bad_prefix("42", "not JSON (at byte ", "a number");
    bad_prefix("\"r1\"", "not JSON (at byte ", "a string");
    bad_prefix("null", "not JSON (at byte ", "null");
    bad("[]", "not a JSON object");
    bad("[{" T_HEAD ",\"fixes\":[{" T_FIX "}]}]", "not a JSON object");

    bad_prefix("{" T_HEAD ",\"race\":\"r2\",\"fixes\":[{" T_FIX "}]}",
               "not JSON (at byte ", "a duplicate key");
    bad_prefix(with_fixes("{" T_FIX ",\"lat\":1}"), "not JSON (at byte ",
               "a duplicate key in a fix");
    bad_prefix("{" T_HEAD ",\"fixes\":[{" T_FIX "}]} x",
               "not JSON (at byte ", "trailing junk");
    bad_prefix("{" T_HEAD ",\"fixes\":[{" T_FIX "}]}{}",
               "not JSON (at byte ", "two objects");
    bad_prefix("{" T_HEAD ",\"fixes\":[{" T_FIX "}],}",
               "not JSON (at byte ", "a trailing comma");
    bad_prefix("{" T_HEAD ",\"fixes\":[{" T_FIX "}],\"x\":\"\xff\"}",
               "not JSON (at byte ", "bad UTF-8 in a string");
    bad_prefix("{" T_HEAD ",\"fixes\":[{" T_FIX "}],'x':1}",
               "not JSON (at byte ", "single quotes");
    bad_prefix("{" T_HEAD ",\"fixes\":[{" T_FIX "}]/* c */}",
               "not JSON (at byte ", "a comment");

    len = strlen("{" T_HEAD ",\"fixes\":[{" T_FIX "}]}");
    ok(parse_len("{" T_HEAD ",\"fixes\":[{" T_FIX "}]}\0junk", len + 5)
       == -1, "a NUL and junk after the message, within len: refused");
    ok(parse_len("{" T_HEAD ",\"fixes\":[{" T_FIX "}]}NOT JSON", len) == 0
       && nfixes == 1, "bytes after len are not read");

    bad("{" T_HEAD "}", "\"fixes\" missing or not an array");
    bad("{" T_HEAD ",\"fixes\":null}", "\"fixes\" missing or not an array");
    bad("{" T_HEAD ",\"fixes\":{" T_FIX "}}",
        "\"fixes\" missing or not an array");
    bad("{" T_HEAD ",\"fixes\":\"[]\"}", "\"fixes\" missing or not an array");
    bad("{" T_HEAD ",\"Fixes\":[{" T_FIX "}]}",
        "\"fixes\" missing or not an array");

    bad(with_fixes("17"), "fix 0: not an object");
    bad(with_fixes("null"), "fix 0: not an object");
    bad(with_fixes("[{" T_FIX "}]"), "fix 0: not an object");
    bad(with_fixes("{" T_FIX "},\"x\""), "fix 1: not an object");

    /* nesting: jansson stops at 2048 levels, below is junk to skip */

    len = sprintf(deep, "{" T_HEAD ",\"junk\":");
    memset(deep + len, '[', 2000);
    memset(deep + len + 2000, ']', 2000);
    sprintf(deep + len + 4000, ",\"fixes\":[{" T_FIX "}]}");
    good(deep, "2000 levels of junk");

    len = sprintf(deep, "{" T_HEAD ",\"junk\":");
    memset(deep + len, '[', 3000);
    memset(deep + len + 3000, ']', 3000);
    sprintf(deep + len + 6000, ",\"fixes\":[{" T_FIX "}]}");
    bad_prefix(deep, "not JSON (at byte ", "3000 levels of junk");

    /* a huge id is refused, not truncated */

    len = sprintf(deep, "{\"race\":\"r1\",\"rider\":\"");
    memset(deep + len, 'p', 5000);
    sprintf(deep + len + 5000, "\",\"recv\":1,\"fixes\":[{" T_FIX "}]}");
    bad(deep, "\"rider\" is not a valid id");

    /* the reason fits whatever it is given */

    memset(err, 'x', sizeof(err));
    ok(race_fix_parse_kafka("[]", 2, &msg, fixes, RACE_FIX_BATCH_MAX,
                            &nfixes, err, 8) == -1
       && strcmp(err, "not a J") == 0 && err[8] == 'x',
       "reason cut to its buffer");
}


static void
test_count(void)
{
    size_t          i, k, len;
    race_fix_t     *few;
    race_fix_msg_t  m;

    bad(with_fixes(""), "0 fixes, expected 1 to 500");

    len = 0;

    for (i = 0; i < RACE_FIX_BATCH_MAX; i++) {
        len += sprintf(buf + len, "%s{\"seq\":%zu,\"t\":1,\"lat\":0,"
                       "\"lon\":0}", i ? "," : "", i);
    }

    good(with_fixes("%s", buf), "500 fixes");
    is_int(nfixes, RACE_FIX_BATCH_MAX, "500 fixes: all of them");

    k = 0;

    for (i = 0; i < nfixes; i++) {
        k += (fixes[i].seq != (int64_t) i || fixes[i].msg != &msg);
    }

    is_int(k, 0, "500 fixes: in order, each pointing at the message");
    ok(fixes[RACE_FIX_BATCH_MAX].seq == (int64_t) 0xa5a5a5a5a5a5a5a5ULL,
       "500 fixes: nothing written past them");

    sprintf(buf + len, ",{\"seq\":500,\"t\":1,\"lat\":0,\"lon\":0}");
    bad(with_fixes("%s", buf), "501 fixes, expected 1 to 500");

    /* room is looked at, though the tracker always gives 500 or more */

    few = malloc(4 * sizeof(race_fix_t));
    if (few == NULL) {
        ok(0, "malloc");
        return;
    }

    memset(few, 0xa5, 4 * sizeof(race_fix_t));
    strcpy(buf, with_fixes("{" T_FIX "},{" T_FIX "},{" T_FIX "}"));
    nfixes = 7;

    ok(race_fix_parse_kafka(buf, strlen(buf), &m, few, 3, &nfixes, err,
                            sizeof(err)) == 0 && nfixes == 3,
       "3 fixes in a room of 3");

    strcpy(buf, with_fixes("{" T_FIX "},{" T_FIX "},{" T_FIX "},{" T_FIX
                           "}"));
    memset(few, 0xa5, 4 * sizeof(race_fix_t));

    ok(race_fix_parse_kafka(buf, strlen(buf), &m, few, 3, &nfixes, err,
                            sizeof(err)) == -1 && nfixes == 0,
       "4 fixes in a room of 3: refused");
    is_str(err, "4 fixes, expected 1 to 500", "4 fixes in 3: the reason");
    ok(few[3].seq == (int64_t) 0xa5a5a5a5a5a5a5a5ULL,
       "4 fixes in 3: nothing written past the room");

    free(few);
}


static void
test_doc_id(void)
{
    char            id[RACE_FIX_DOC_ID_SIZE + 1];
    size_t          i, k;
    race_fix_t      f;
    race_fix_msg_t  m;

    memset(&f, 0, sizeof(f));
    strcpy(m.race, "r1");
    strcpy(m.rider, "p7");
    m.recv = 0;
    f.msg = &m;

    f.seq = 17;
    race_fix_doc_id(&f, id, sizeof(id));
    is_str(id, "r1:p7:17", "_id race:rider:seq");

    f.seq = 0;
    race_fix_doc_id(&f, id, sizeof(id));
    is_str(id, "r1:p7:0", "_id with seq 0");

    f.seq = RACE_FIX_SEQ_MAX;
    race_fix_doc_id(&f, id, sizeof(id));
    is_str(id, "r1:p7:9007199254740991", "_id with seq 2^53 - 1");

    /* the longest: 64-character ids, any int64 */

    strcpy(m.race, T_ID64);
    strcpy(m.rider, T_ID64);
    f.seq = INT64_MIN;
    memset(id, 'x', sizeof(id));
    race_fix_doc_id(&f, id, RACE_FIX_DOC_ID_SIZE);
    is_str(id, T_ID64 ":" T_ID64 ":-9223372036854775808",
           "_id of 64-character ids and INT64_MIN fits the size");
    is_int(strlen(id), RACE_FIX_DOC_ID_SIZE - 1,
           "RACE_FIX_DOC_ID_SIZE is exactly the longest _id and its NUL");
    ok(id[RACE_FIX_DOC_ID_SIZE] == 'x', "_id: nothing written past size");

    /* a short buffer gets a NUL-terminated prefix */

    strcpy(m.race, "r1");
    strcpy(m.rider, "p7");
    f.seq = 17;
    memset(id, 'x', sizeof(id));
    race_fix_doc_id(&f, id, 6);
    ok(strcmp(id, "r1:p7") == 0 && id[6] == 'x', "_id cut to its buffer");

    /* from a parsed message: every fix its own _id */

    good(with_fixes("{\"seq\":5,\"t\":1,\"lat\":0,\"lon\":0},"
                    "{\"seq\":6,\"t\":1,\"lat\":0,\"lon\":0},"
                    "{\"seq\":5,\"t\":2,\"lat\":1,\"lon\":1}"),
         "three fixes for _ids");

    k = 0;

    for (i = 0; i < nfixes; i++) {
        race_fix_doc_id(&fixes[i], id, sizeof(id));
        k += strcmp(id, i == 1 ? "r1:p7:6" : "r1:p7:5") != 0;
    }

    is_int(k, 0, "parsed fixes: _id from race, rider and seq only");
}


static void
test_number(void)
{
    size_t  i, n;
    char    b[RACE_JSON_NUMBER_SIZE];

    static const struct {
        double       v;
        const char  *s;
    }  want[] = {
        { 45.07, "45.07" },
        { 7.68, "7.68" },
        { -33.8688197, "-33.8688197" },
        { 0.81, "0.81" },
        { 0.1, "0.1" },
        { 240.5, "240.5" },
        { 270, "270" },
        { 0, "0" },
        { -180, "-180" },
        { 1e21, "1e+21" },
        { 1e-7, "1e-07" },
        { 123456789012345.0, "123456789012345" },
        { 1234567890123456.0, "1234567890123456" },
        { 9007199254740993.0, "9007199254740992" },
        { 0.30000000000000004, "0.30000000000000004" },
        { 1.0 / 3, "0.3333333333333333" },
        { 2.0 / 3, "0.6666666666666666" },
        { 0.1 * 3, "0.30000000000000004" },
        { 100.0 / 7, "14.285714285714286" },
        { 0.17285714285714285, "0.17285714285714285" },
        { DBL_MAX, "1.7976931348623157e+308" },
        { -DBL_MAX, "-1.7976931348623157e+308" },
        { DBL_MIN, "2.2250738585072014e-308" },
        { 5e-324, "4.94065645841247e-324" },
        { 359.99999999999994, "359.99999999999994" }
    };

    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        is_str(number(want[i].v), want[i].s, "number %s", want[i].s);
    }

    ok(strtod(number(-0.0), NULL) == 0, "number -0 reads back as 0: %s",
       number(-0.0));

    n = race_json_number(45.07, b, sizeof(b));
    is_int(n, 5, "number: returns its length");

    memset(b, 'x', sizeof(b));
    n = race_json_number(45.07, b, 6);
    ok(n == 5 && strcmp(b, "45.07") == 0, "number: fits size 6 exactly");

    memset(b, 'x', sizeof(b));
    n = race_json_number(45.07, b, 5);
    ok(n == 0 && b[0] == '\0' && b[5] == 'x',
       "number: size 5 too small, empty, nothing past it");

    memset(b, 'x', sizeof(b));
    n = race_json_number(45.07, b, 0);
    ok(n == 0 && b[0] == 'x', "number: size 0, nothing written");

    n = race_json_number(-DBL_MAX, b, sizeof(b));
    ok(n == 24 && n < RACE_JSON_NUMBER_SIZE,
       "number: the longest, %zu bytes, fits RACE_JSON_NUMBER_SIZE", n);
}


/*
 * Random doubles: every one reads back the same, as JSON too; and one
 * with at most 15 significant digits is written with them, not with
 * the 16 or 17 digits of its binary value.
 */

static void
test_number_random(void)
{
    int           decimals;
    char          b[RACE_JSON_NUMBER_SIZE], want[64];
    double        v, m;
    size_t        i, n, back, json, longer, shortest;
    json_t       *j;
    json_error_t  e;

    back = 0;
    json = 0;
    longer = 0;
    shortest = 0;

    for (i = 0; i < 100000; i++) {
        v = rnd_double();

        n = race_json_number(v, b, sizeof(b));

        if (n == 0 || n != strlen(b) || strtod(b, NULL) != v) {
            if (back++ == 0) {
                diag("  %.17g written as '%s'", v, b);
            }
        }

        longer += (n > 24);

        if (i % 10 == 0) {
            j = json_loads(b, JSON_DECODE_ANY, &e);

            if (!json_is_number(j) || json_number_value(j) != v) {
                if (json++ == 0) {
                    diag("  '%s' is not JSON for %.17g", b, v);
                }
            }

            json_decref(j);
        }

        /* a value of up to 15 significant digits */

        decimals = (int) (rnd() % 10);
        m = pow(10, decimals);
        v = (double) (int64_t) (rnd() % 100000000000000ULL) / m;

        if (rnd() % 2) {
            v = -v;
        }

        race_json_number(v, b, sizeof(b));
        snprintf(want, sizeof(want), "%.15g", v);

        if (strcmp(b, want) != 0) {
            if (shortest++ == 0) {
                diag("  %.17g written as '%s', not '%s'", v, b, want);
            }
        }
    }

    is_int(back, 0, "100000 random doubles read back the same");
    is_int(json, 0, "10000 of them read back the same through jansson");
    is_int(longer, 0, "none longer than 24 bytes");
    is_int(shortest, 0, "100000 values of <= 15 digits written with them");
}


/* the module's writer, and back */

static void
test_writer(void)
{
    char           out[1024];
    size_t         len;
    race_fix_t  f[2];

    memset(f, 0, sizeof(f));
    f[0].seq = 17;
    f[0].t = 1732400000123LL;
    f[0].lat = 45.07;
    f[0].lon = 7.68;
    f[0].ele = 240.5;
    f[0].acc = 4.0;
    f[0].spd = 11.2;
    f[0].brg = 270;
    f[0].bat = 0.81;
    f[0].has = RACE_FIX_ELE | RACE_FIX_ACC | RACE_FIX_SPD | RACE_FIX_BRG
               | RACE_FIX_BAT;

    len = race_fix_kafka_message(out, sizeof(out), "r1", "p7", T_RECV, f, 1);
    is_str(out, "{\"race\":\"r1\",\"rider\":\"p7\",\"recv\":1732400000500,"
           "\"fixes\":[{\"seq\":17,\"t\":1732400000123,\"lat\":45.07,"
           "\"lon\":7.68,\"ele\":240.5,\"acc\":4,\"spd\":11.2,\"brg\":270,"
           "\"bat\":0.81}]}", "the module writes the example");

    ok(parse_len(out, len) == 0 && nfixes == 1, "and it parses");
    ok(fixes[0].seq == 17 && fixes[0].t == 1732400000123LL
       && fixes[0].lat == 45.07 && fixes[0].lon == 7.68
       && fixes[0].ele == 240.5 && fixes[0].acc == 4 && fixes[0].spd == 11.2
       && fixes[0].brg == 270 && fixes[0].bat == 0.81
       && fixes[0].has == f[0].has && msg.recv == T_RECV,
       "to the same values");

    /* -0 is written as 0; the smallest and largest doubles survive */

    f[1].seq = RACE_FIX_SEQ_MAX;
    f[1].t = INT64_MAX;
    f[1].lat = -0.0;
    f[1].lon = -180;
    f[1].ele = 5e-324;
    f[1].bat = -DBL_MAX;
    f[1].has = RACE_FIX_ELE | RACE_FIX_BAT;

    len = race_fix_kafka_message(out, sizeof(out), T_ID64, T_ID64,
                                 INT64_MAX, f, 2);
    ok(len > 0 && parse_len(out, len) == 0 && nfixes == 2,
       "extremes: written and parsed");
    ok(fixes[1].seq == RACE_FIX_SEQ_MAX && fixes[1].t == INT64_MAX
       && fixes[1].lat == 0 && fixes[1].lon == -180
       && fixes[1].ele == 5e-324 && fixes[1].bat == -DBL_MAX
       && fixes[1].has == (RACE_FIX_ELE | RACE_FIX_BAT)
       && msg.recv == INT64_MAX && strcmp(msg.race, T_ID64) == 0,
       "extremes: the same values");
}


/*
 * The property: any message the module writes parses here, every value
 * the same, every absent field absent.  Random ids, counts (1 to 500),
 * seq, t and recv over their whole ranges, coordinates on the globe,
 * optional fields present or not, with round and full-precision values.
 */

static void
test_writer_random(void)
{
    char            *out, race[RACE_ID_MAX + 1];
    char             rider[RACE_ID_MAX + 1];
    char             id[RACE_FIX_DOC_ID_SIZE], want[RACE_FIX_DOC_ID_SIZE];
    size_t           round, i, k, n, size, len, total, written, parsed;
    size_t           diff, ids, absent;
    int64_t          recv;
    race_fix_t   *f;

    static const double  lo[7] = { -90, -180, -500, 0, 0, 0, 0 };
    static const double  hi[7] = { 90, 180, 9000, 10000, 100, 359.999, 1 };

    f = malloc(RACE_FIX_BATCH_MAX * sizeof(race_fix_t));
    if (f == NULL) {
        ok(0, "malloc");
        return;
    }

    total = 0;
    written = 0;
    parsed = 0;
    diff = 0;
    ids = 0;
    absent = 0;

    for (round = 0; round < 300; round++) {
        n = (round % 30 == 0) ? RACE_FIX_BATCH_MAX
                              : 1 + rnd() % ((round % 3) ? 8 : 120);

        rnd_id(race);
        rnd_id(rider);
        recv = (round % 50 == 0) ? INT64_MAX : (int64_t) (rnd() >> 1);

        memset(f, 0, n * sizeof(race_fix_t));

        for (i = 0; i < n; i++) {
            switch (rnd() % 8) {
            case 0:
                f[i].seq = 0;
                f[i].t = 1;
                break;
            case 1:
                f[i].seq = RACE_FIX_SEQ_MAX;
                f[i].t = INT64_MAX;
                break;
            default:
                f[i].seq = (int64_t) (rnd() % (RACE_FIX_SEQ_MAX + 1));
                f[i].t = 1 + (int64_t) (rnd() % INT64_MAX);
            }

            f[i].has = (unsigned) (rnd() % 32);

            for (k = 0; k < 7; k++) {
                if (bits[k] && !(f[i].has & bits[k])) {
                    continue;
                }

                /* writers only need finite; the globe bounds lat, lon */

                *(double *) ((char *) &f[i] + t_offsets[k]) =
                    (k >= 2 && rnd() % 10 == 0) ? rnd_double()
                                                : rnd_in(lo[k], hi[k]);
            }
        }

        total += n;
        size = race_fix_kafka_size(n);
        out = malloc(size);

        if (out == NULL) {
            break;
        }

        len = race_fix_kafka_message(out, size, race, rider, recv, f, n);

        if (len == 0) {
            free(out);
            continue;
        }

        written++;

        if (parse_len(out, len) != 0 || nfixes != n
            || strcmp(msg.race, race) != 0 || strcmp(msg.rider, rider) != 0
            || msg.recv != recv)
        {
            if (parsed == written - 1) {
                diag("  round %zu: %s", round, err);
            }

            free(out);
            continue;
        }

        parsed++;

        for (i = 0; i < n; i++) {
            if (fixes[i].seq != f[i].seq || fixes[i].t != f[i].t
                || fixes[i].has != f[i].has || fixes[i].msg != &msg)
            {
                diff++;
            }

            for (k = 0; k < 7; k++) {
                if (bits[k] && !(f[i].has & bits[k])) {
                    absent += (field(&fixes[i], k) == 0);
                    continue;
                }

                if (field(&fixes[i], k) != t_field(&f[i], k)) {
                    if (diff++ == 0) {
                        diag("  %s %.17g came back %.17g", names[k],
                             t_field(&f[i], k), field(&fixes[i], k));
                    }
                }
            }

            race_fix_doc_id(&fixes[i], id, sizeof(id));
            snprintf(want, sizeof(want), "%s:%s:%lld", race, rider,
                     (long long) f[i].seq);
            ids += (strcmp(id, want) != 0);
        }

        free(out);
    }

    free(f);

    is_int(written, 300, "the module wrote 300 messages, %zu fixes", total);
    is_int(parsed, written, "every message parsed, with its ids and recv");
    is_int(diff, 0, "every fix the same seq, t, has and values");
    ok(absent > total, "%zu absent fields stayed absent, as 0", absent);
    is_int(ids, 0, "every _id race:rider:seq");
}


static int
parse_len(const char *data, size_t len)
{
    memset(&msg, 0xa5, sizeof(msg));
    memset(fixes, 0xa5, sizeof(fixes));
    memset(err, 'x', sizeof(err));
    err[sizeof(err) - 1] = '\0';
    nfixes = 7;

    return race_fix_parse_kafka(data, len, &msg, fixes, RACE_FIX_BATCH_MAX,
                                &nfixes, err, sizeof(err));
}


static int
parse(const char *json)
{
    return parse_len(json, strlen(json));
}


/* a good message around these fixes */

static const char *
with_fixes(const char *fmt, ...)
{
    int          n;
    va_list      ap;
    static char  m[T_BUF];

    n = snprintf(m, sizeof(m), "{" T_HEAD ",\"fixes\":[");

    va_start(ap, fmt);
    n += vsnprintf(m + n, sizeof(m) - n, fmt, ap);
    va_end(ap);

    snprintf(m + n, sizeof(m) - n, "]}");

    return m;
}


/* a message of these fields and one good fix */

static const char *
with_head(const char *fmt, ...)
{
    int          n;
    va_list      ap;
    static char  m[T_BUF];

    n = snprintf(m, sizeof(m), "{");

    va_start(ap, fmt);
    n += vsnprintf(m + n, sizeof(m) - n, fmt, ap);
    va_end(ap);

    snprintf(m + n, sizeof(m) - n, ",\"fixes\":[{" T_FIX "}]}");

    return m;
}


static void
good(const char *json, const char *name)
{
    int  rc;

    rc = parse(json);

    if (!ok(rc == 0 && nfixes >= 1, "accepted: %s", name)) {
        diag("  %.200s", json);
        diag("  rc %d, %zu fixes: %s", rc, nfixes, err);
    }
}


static void
bad(const char *json, const char *reason)
{
    int  rc;

    rc = parse(json);

    if (!ok(rc == -1 && nfixes == 0 && strcmp(err, reason) == 0,
            "refused: %s", reason))
    {
        diag("  %.200s", json);
        diag("  rc %d, %zu fixes: '%s'", rc, nfixes, err);
    }
}


static void
bad_prefix(const char *json, const char *prefix, const char *name)
{
    int  rc;

    rc = parse(json);

    if (!ok(rc == -1 && nfixes == 0
            && strncmp(err, prefix, strlen(prefix)) == 0,
            "refused: %s: %s", name, err))
    {
        diag("  %.200s", json);
        diag("  rc %d, %zu fixes: '%s'", rc, nfixes, err);
    }
}


static const char *
number(double v)
{
    static char  b[RACE_JSON_NUMBER_SIZE];

    race_json_number(v, b, sizeof(b));

    return b;
}


/* 1 to 64 characters of [A-Za-z0-9_-], often the longest */

static void
rnd_id(char *dst)
{
    size_t  i, len;

    len = (rnd() % 4 == 0) ? RACE_ID_MAX : 1 + rnd() % RACE_ID_MAX;

    for (i = 0; i < len; i++) {
        dst[i] = T_ID64[rnd() % 64];
    }

    dst[len] = '\0';
}


static uint64_t
rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;

    return rnd_state;
}


/* any finite double, from its bits */

static double
rnd_double(void)
{
    double    v;
    uint64_t  bits64;

    do {
        bits64 = rnd();
        memcpy(&v, &bits64, sizeof(v));
    } while (!isfinite(v));

    return v;
}


/* within [lo, hi]: the bounds, round values or full precision */

static double
rnd_in(double lo, double hi)
{
    double  v;

    switch (rnd() % 6) {
    case 0:
        return lo;
    case 1:
        return hi;
    case 2:
        v = lo + (hi - lo) * ((double) (rnd() % 1000001) / 1000000);
        v = round(v * 1e7) / 1e7;
        break;
    default:
        v = lo + (hi - lo) * ((double) (rnd() >> 11) / 9007199254740992.0);
    }

    return (v < lo) ? lo : (v > hi) ? hi : v;
}


/* the i-th double of a fix, in names[]' order */

static double
field(const race_fix_t *f, size_t i)
{
    const double  v[7] = {
        f->lat, f->lon, f->ele, f->acc, f->spd, f->brg, f->bat
    };

    return v[i];
}


static double
t_field(const race_fix_t *f, size_t i)
{
    return *(const double *) ((const char *) f + t_offsets[i]);
}
