
/*
 * ngx_race: unit tests of the live ticks' core, TAP output.  jansson is
 * the oracle: the scanner takes exactly the texts json_loadb() reads as
 * an object, and the store's frames and snapshots read back as what the
 * module built with jansson before (a model of that code is here:
 * ref_*).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_tick.h"
#include "tap.h"


typedef struct {
    json_t             *riders;       /* id -> state */
    json_t             *changed;
    json_t             *last;
} ref_t;


static void test_good(void);
static void test_bad(void);
static void test_depth(void);
static void test_states(void);
static void test_lag(void);
static void test_batch(void);
static void test_early(void);
static void test_many(void);

static int agree(const char *text, size_t len);
static int scan_ok(const char *text, size_t len);
static int jansson_ok(const char *text, size_t len);
static char *nest(size_t n, const char *open, const char *inner,
    const char *close);

static void ref_init(ref_t *ref);
static void ref_free(ref_t *ref);
static size_t ref_merge(ref_t *ref, json_t *tick, int restate,
    json_t *changed, int *all);
static size_t ref_tick(ref_t *ref, const char *text);
static json_t *ref_frame(ref_t *ref);
static void ref_forget(ref_t *ref);
static int same_frame(race_buf_t *out, json_t *want);
static json_t *by_rider(json_t *riders);

static size_t tick(race_tick_store_t *s, race_tick_t *tk, const char *text,
    int *all);


int
main(void)
{
    test_good();
    test_bad();
    test_depth();
    test_states();
    test_lag();
    test_batch();
    test_early();
    test_many();

    return tap_done();
}


static void
test_good(void)
{
    size_t       i, n;
    const char  *good[] = {
        "{}",
        " \t\r\n{ } \n",
        "{\"type\":\"tick\",\"race\":\"r1\",\"t\":1700000000000,"
            "\"lag_ms\":120,\"riders\":[{\"rider\":\"p1\",\"bib\":\"12\","
            "\"name\":\"Ann\",\"lat\":45.07,\"lon\":7.68,"
            "\"t\":1700000000000,\"seq\":3,\"spd\":8.5,\"ele\":240}]}",
        "{\"s\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"}",
        "{\"s\":\"\\u0041\\u00e9\\u65e5\\uFFFF\\ud83d\\udeb4\\uDBFF\\uDFFF\"}",
        "{\"s\":\"\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x9a\xb4 \xf4\x8f\xbf\xbf "
            "\x7f\"}",
        "{\"\xc3\xa9\":1,\"\\u00e9\":2}",
        "{\"n\":[0,-0,1,-1,1.5,-1.5e-3,1E+10,1e308,-1e-400,0.0e0]}",
        "{\"n\":[9223372036854775807,-9223372036854775808]}",
        "{\"n\":1.7976931348623157e308}",
        "{\"n\":123456789012345678901234567890.5}",
        "{\"n\":0.00000000000000000000000000000000000000000001e300}",
        "{\"l\":[true,false,null],\"o\":{\"a\":{\"b\":[{},[]]}}}",
        "{\"a\":1,\"a\":2}",
        "{\"a\" : [ 1 , 2 ] , \"b\" :{ } }"
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        n = strlen(good[i]);
        ok(scan_ok(good[i], n) && agree(good[i], n), "good JSON %zu taken", i);
    }
}


static void
test_bad(void)
{
    char         *big;
    size_t        i, n;
    const char   *bad[] = {
        "", " ", "[]", "[{}]", "1", "\"s\"", "null", "true",
        "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{,\"a\":1}",
        "{\"a\":1 \"b\":2}", "{'a':1}", "{a:1}", "{1:1}", "{\"a\"::1}",
        "{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":[1 2]}", "{\"a\":[1}",
        "{\"a\":{]}", "{\"a\":1]", "{\"a\":1}x", "{\"a\":1}{}", "{\"a\":1}}",
        "{\"a\":tru}", "{\"a\":truex}", "{\"a\":nul}", "{\"a\":True}",
        "{\"a\":fals}", "{\"a\":nulll}",
        "{\"a\":01}", "{\"a\":-01}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":.5}",
        "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":+1}", "{\"a\":0x10}",
        "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":-Infinity}",
        "{\"a\":1.5.2}", "{\"a\":1e5e5}", "{\"a\":--1}",
        "{\"a\":9223372036854775808}", "{\"a\":-9223372036854775809}",
        "{\"a\":99999999999999999999}", "{\"a\":1e309}", "{\"a\":-1e309}",
        "{\"a\":1.7976931348623159e308}",
        "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12g4\"}",
        "{\"a\":\"\\U0041\"}", "{\"a\":\"\\'\"}",
        "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}",
        "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\\ud800x\"}",
        "{\"a\":\"\\ud800\\ud800\"}", "{\"a\":\"\\u0000\"}",
        "{\"\\u0000\":1}", "{\"a\":\"tab\there\"}", "{\"a\":\"nl\nhere\"}",
        "{\"a\":\"\x1f\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\xc0\xaf\"}",
        "{\"a\":\"\xe0\x80\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xff\"}",
        "{\"a\":\"\x80\"}", "{\"a\":\"\xf0\x9f\x9a\"}",
        "{\"a\":\"x}", "{\"a\":1", "{\"a\":1\xc3\xa9}", "/**/{}",
        "\xef\xbb\xbf{}", "{\"a\":1}\x0b", "\f{}",
        "{\"riders\":[{\"rider\":\"p1\",\"t\":1},]}"
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ok(!scan_ok(bad[i], strlen(bad[i])) && agree(bad[i], strlen(bad[i])),
           "bad JSON %zu refused", i);
    }

    /* NUL bytes, which strlen() cannot show */

    ok(!scan_ok("{\"a\":1}\0", 8) && agree("{\"a\":1}\0", 8),
       "bad JSON refused: a NUL after it");
    ok(!scan_ok("{\"a\0\":1}", 8) && agree("{\"a\0\":1}", 8),
       "bad JSON refused: a NUL in a key");
    ok(!scan_ok("{\"a\":\0}", 7) && agree("{\"a\":\0}", 7),
       "bad JSON refused: a NUL for a value");

    /* stricter than jansson, which skips a NUL after a number */
    ok(!scan_ok("{\"a\":1\0}", 8) && jansson_ok("{\"a\":1\0}", 8),
       "bad JSON refused: a NUL after a number, that jansson skips");
    ok(!scan_ok("{\"a\":true\0}", 11), "bad JSON refused: after true");

    /* the end is where len says: nothing past it is read */

    ok(!scan_ok("{\"a\":1}", 6), "bad JSON refused: cut before its end");
    ok(!scan_ok("{\"a\":\"x\"}", 7), "bad JSON refused: cut in a string");
    ok(!scan_ok("{\"a\":\"\\u00e9\"}", 10), "bad JSON refused: cut in \\u");
    ok(!scan_ok("{\"a\":12", 7), "bad JSON refused: cut in a number");

    /* a huge real and a huge integer, far from the edges */

    n = 1000;
    big = malloc(n + 16);
    if (big == NULL) {
        ok(0, "memory");
        return;
    }

    memcpy(big, "{\"a\":1", 6);
    memset(big + 6, '0', n);
    memcpy(big + 6 + n, ".5}", 4);
    ok(!scan_ok(big, strlen(big)) && agree(big, strlen(big)),
       "bad JSON refused: a real of 1000 digits");

    memcpy(big + 6 + n, "}", 2);
    ok(!scan_ok(big, strlen(big)) && agree(big, strlen(big)),
       "bad JSON refused: an integer of 1000 digits");

    memcpy(big, "{\"a\":0.", 7);
    memset(big + 7, '0', n);
    memcpy(big + 7 + n, "1e900}", 7);
    ok(scan_ok(big, strlen(big)) && agree(big, strlen(big)),
       "good JSON taken: 0.<1000 digits>1e900");

    free(big);
}


static void
test_depth(void)
{
    char  *s;

    /* jansson: a value at most RACE_TICK_DEPTH_MAX deep, the tick is 1 */

    s = nest(RACE_TICK_DEPTH_MAX - 1, "[", "", "]");
    ok(s && scan_ok(s, strlen(s)) && agree(s, strlen(s)),
       "depth: arrays to the most taken");
    free(s);

    s = nest(RACE_TICK_DEPTH_MAX, "[", "", "]");
    ok(s && !scan_ok(s, strlen(s)) && agree(s, strlen(s)),
       "depth: one more refused");
    free(s);

    s = nest(RACE_TICK_DEPTH_MAX - 2, "[", "1", "]");
    ok(s && scan_ok(s, strlen(s)) && agree(s, strlen(s)),
       "depth: a number at the most taken");
    free(s);

    s = nest(RACE_TICK_DEPTH_MAX - 1, "[", "1", "]");
    ok(s && !scan_ok(s, strlen(s)) && agree(s, strlen(s)),
       "depth: a number one deeper refused");
    free(s);

    s = nest(RACE_TICK_DEPTH_MAX - 1, "{\"a\":", "", "}");
    ok(s && !scan_ok(s, strlen(s)) && agree(s, strlen(s)),
       "depth: objects one deeper refused");
    free(s);

    s = nest(RACE_TICK_DEPTH_MAX - 2, "{\"a\":", "{}", "}");
    ok(s && scan_ok(s, strlen(s)) && agree(s, strlen(s)),
       "depth: objects to the most taken");
    free(s);

    s = nest(1000000, "[", "", "]");
    ok(s && !scan_ok(s, strlen(s)), "depth: a million refused, no crash");
    free(s);
}


static void
test_states(void)
{
    race_tick_t  tk;
    const char  *text;

    memset(&tk, 0, sizeof(race_tick_t));

    text = "{\"type\":\"tick\",\"riders\":["
           "{\"rider\":\"p\\u0031\",\"t\":5},"
           "{\"\\u0072ider\":\"\\u0070\\u0032\",\"t\":-0},"
           "{\"rider\":\"p\\/3\",\"t\":5},"
           "{\"rider\":\"p4\",\"t\":\"5\"},"
           "{\"rider\":\"p5\",\"t\":5.0,\"x\":{\"rider\":\"zz\",\"t\":9}},"
           "{\"rider\":\"p6\",\"t\":1e3},"
           "{\"rider\":\"bad\",\"rider\":\"p7\",\"t\":1,\"t\":2},"
           "{\"rider\":\"p8\",\"rider\":\"bad id\",\"t\":1},"
           "{\"rider\":7},{\"t\":1},7,\"p9\",[{\"rider\":\"p10\"}],null,"
           /* 65 and 64 characters */
           "{\"rider\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
           "aaaaaaaaaaaa\"},"
           "{\"rider\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
           "aaaaaaaaaaa\",\"t\":-9223372036854775808}"
           "]}";

    ok(race_tick_scan(&tk, text, strlen(text)) == RACE_TICK_OK
       && agree(text, strlen(text)), "states: scanned");
    is_int(tk.nstates, 7, "states: 7 good");
    is_int(tk.skipped, 9, "states: 9 skipped");

    if (tk.nstates == 7) {
        is_str(tk.states[0].id, "p1", "states: an escaped id read");
        is_int(tk.states[0].t, 5, "states: its t");
        ok(tk.states[0].len == strlen("{\"rider\":\"p\\u0031\",\"t\":5}")
           && memcmp(tk.states[0].data, "{\"rider\":\"p\\u0031\",\"t\":5}",
                     tk.states[0].len) == 0,
           "states: its bytes as they came");
        is_str(tk.states[1].id, "p2", "states: an escaped key read");
        is_int(tk.states[1].t, 0, "states: -0 is 0");
        is_str(tk.states[2].id, "p4", "states: a string t");
        is_int(tk.states[2].t, -1, "states: ... is none");
        is_int(tk.states[3].t, -1, "states: a real t is none");
        is_str(tk.states[3].id, "p5", "states: nested members ignored");
        is_int(tk.states[4].t, -1, "states: 1e3 is a real");
        is_str(tk.states[5].id, "p7", "states: the last rider counts");
        is_int(tk.states[5].t, 2, "states: the last t counts");
        is_int(tk.states[6].id_len, 64, "states: a 64 character id");
        ok(tk.states[6].t == INT64_MIN, "states: the least t");
    }

    text = "{\"riders\":[{\"rider\":\"p1\"}],\"riders\":{\"rider\":\"p2\"}}";
    ok(race_tick_scan(&tk, text, strlen(text)) == RACE_TICK_OK
       && !tk.riders && tk.nstates == 0,
       "states: the last riders counts, not an array");

    text = "{\"riders\":7,\"riders\":[{\"rider\":\"p2\"}]}";
    ok(race_tick_scan(&tk, text, strlen(text)) == RACE_TICK_OK
       && tk.riders && tk.nstates == 1 && tk.nmembers == 0,
       "states: the last riders counts, an array");

    text = "{\"riders\":[{\"rider\":\"p1\",\"t\":1},]}";
    ok(race_tick_scan(&tk, text, strlen(text)) == RACE_TICK_BAD
       && tk.nstates == 0 && tk.error != NULL && tk.offset == 32,
       "states: none from a bad tick, the error and where");

    race_tick_free(&tk);
}


static void
test_lag(void)
{
    race_tick_t  tk;
    const char  *text;

    memset(&tk, 0, sizeof(race_tick_t));

    text = "{\"t\":1,\"riders\":[]}";
    ok(race_tick_scan(&tk, text, strlen(text)) == RACE_TICK_OK
       && tk.lag == RACE_TICK_LAG_NONE && tk.nmembers == 1,
       "lag: none");

    text = "{\"lag_ms\":-7,\"riders\":[]}";
    ok(race_tick_scan(&tk, text, strlen(text)) == RACE_TICK_OK
       && tk.lag == RACE_TICK_LAG_INT && tk.lag_ms == -7 && tk.nmembers == 1
       && tk.members[0].lag, "lag: an integer");

    text = "{\"lag_ms\":5,\"lag_ms\":{\"a\":1}}";
    ok(race_tick_scan(&tk, text, strlen(text)) == RACE_TICK_OK
       && tk.lag == RACE_TICK_LAG_OTHER && tk.nmembers == 2,
       "lag: the last counts, an object");

    text = "{\"lag_ms\":null,\"lag_\\u006ds\":5.5,\"lag_ms\":3}";
    ok(race_tick_scan(&tk, text, strlen(text)) == RACE_TICK_OK
       && tk.lag == RACE_TICK_LAG_INT && tk.lag_ms == 3,
       "lag: the last counts, an integer");

    race_tick_free(&tk);
}


/* the batch, the frame and the snapshot against the jansson model */

static void
test_batch(void)
{
    int                all;
    size_t             i, n, rn;
    json_t            *want, *snap, *got, *riders, *mine;
    ref_t              ref;
    race_buf_t         out;
    race_tick_t        tk;
    json_error_t       err;
    race_tick_store_t  s;

    /* each step: a tick, and whether a frame is sent after it */
    static const struct {
        const char  *text;
        int          emit;
    } steps[] = {
        { "{\"type\":\"tick\",\"race\":\"r1\",\"t\":100,\"lag_ms\":10,"
          "\"riders\":[{\"rider\":\"p1\",\"t\":5,\"lat\":45.07},"
          "{\"rider\":\"p2\",\"t\":5,\"name\":\"Zo\\u00eb \\\"Z\\\"\","
          "\"x\":{\"a\":[1,{\"b\":null}]}}]}", 1 },

        /* the same again: nothing */
        { "{\"type\":\"tick\",\"race\":\"r1\",\"t\":101,\"lag_ms\":99,"
          "\"riders\":[{\"rider\":\"p1\",\"t\":5,\"lat\":45.07}]}", 0 },

        /* restated with a rank, an older one, a new rider */
        { "{\"type\":\"tick\",\"race\":\"r1\",\"t\":102,\"lag_ms\":30,"
          "\"riders\":[{\"rider\":\"p1\",\"t\":5,\"lat\":45.07,\"rank\":1},"
          "{\"rider\":\"p2\",\"t\":4},{\"rider\":\"p3\",\"t\":1}]}", 0 },
        { "{\"type\":\"tick\",\"race\":\"r1\",\"t\":103,\"lag_ms\":20,"
          "\"riders\":[{\"rider\":\"p3\",\"t\":2},7]}", 0 },
        /* no lag_ms: the batch keeps its most */
        { "{\"type\":\"tick\",\"race\":\"r1\",\"t\":104,"
          "\"riders\":[{\"rider\":\"p4\",\"t\":9,\"s\":\"\xf0\x9f\x9a\xb4\"}],"
          "\"extra\":[1,2]}", 1 },

        /* a lag_ms that is no integer is passed on, then replaced */
        { "{\"t\":105,\"lag_ms\":7,\"riders\":[{\"rider\":\"p4\",\"t\":10}]}",
          0 },
        { "{\"t\":106,\"lag_ms\":\"slow\",\"riders\":"
          "[{\"rider\":\"p4\",\"t\":11}]}", 1 },
        { "{\"t\":107,\"lag_ms\":\"slow\",\"riders\":"
          "[{\"rider\":\"p4\",\"t\":12}]}", 0 },
        { "{\"t\":108,\"lag_ms\":3,\"riders\":[{\"rider\":\"p5\",\"t\":1}]}",
          1 },
        { "{\"t\":109,\"lag_ms\":1.5,\"riders\":"
          "[{\"rider\":\"p5\",\"t\":2}]}", 0 },
        { "{\"t\":110,\"riders\":[{\"rider\":\"p5\",\"t\":3}]}", 1 },

        /* a rider twice in a tick; riders not an array */
        { "{\"t\":111,\"riders\":[{\"rider\":\"p6\",\"t\":1},"
          "{\"rider\":\"p6\",\"t\":2}]}", 1 },
        { "{\"t\":112,\"lag_ms\":1000,\"riders\":{}}", 0 },
        { "{\"t\":113,\"riders\":[{\"rider\":\"p6\",\"t\":3}]}", 1 }
    };

    memset(&s, 0, sizeof(race_tick_store_t));
    memset(&tk, 0, sizeof(race_tick_t));
    memset(&out, 0, sizeof(race_buf_t));
    ref_init(&ref);

    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        n = tick(&s, &tk, steps[i].text, &all);
        rn = ref_tick(&ref, steps[i].text);

        ok(n == rn, "batch %zu: %zu states taken, as the model", i, n);

        if (!steps[i].emit) {
            continue;
        }

        want = ref_frame(&ref);

        ok(race_tick_store_changed(&s) == json_object_size(ref.changed)
           && race_tick_store_frame(&s, &out) == RACE_TICK_OK
           && same_frame(&out, want),
           "batch %zu: the merged frame is the model's", i);

        json_decref(want);
        race_tick_store_forget(&s);
        ref_forget(&ref);
    }

    /* the common case: every state newer, all set */

    n = tick(&s, &tk, "{\"riders\":[{\"rider\":\"p1\",\"t\":6}]}", &all);
    ok(n == 1 && all, "batch: all newer");
    n = tick(&s, &tk, "{\"riders\":[{\"rider\":\"p1\",\"t\":7},7]}", &all);
    ok(n == 1 && !all, "batch: not all, one skipped");
    n = tick(&s, &tk, "{\"riders\":[{\"rider\":\"p1\",\"t\":8},"
             "{\"rider\":\"p2\",\"t\":1}]}", &all);
    ok(n == 1 && !all, "batch: not all, one older");
    ok(race_tick_store_changed(&s) == 1, "batch: a rider once in it");
    race_tick_store_forget(&s);

    (void) ref_tick(&ref, "{\"riders\":[{\"rider\":\"p1\",\"t\":8}]}");
    ref_forget(&ref);

    /* the snapshot: every rider's latest state */

    ok(race_tick_store_snapshot(&s, "r-1_x", 5, 1700000000123LL, &out)
       == RACE_TICK_OK, "snapshot: built");

    snap = json_loadb(out.data, out.len, 0, &err);
    got = json_deep_copy(snap);
    riders = json_object();

    if (got && riders) {
        (void) json_object_del(got, "riders");
        (void) json_object_update(riders, ref.riders);
    }

    want = json_pack("{s:s, s:s, s:I}", "type", "snapshot", "race", "r-1_x",
                     "t", (json_int_t) 1700000000123LL);

    ok(snap && json_equal(got, want), "snapshot: its members");
    mine = by_rider(json_object_get(snap, "riders"));
    if (!ok(mine && json_equal(mine, riders),
            "snapshot: every rider's latest, as the model"))
    {
        diag("%s\n%s", json_dumps(mine, JSON_SORT_KEYS),
             json_dumps(riders, JSON_SORT_KEYS));
    }
    json_decref(mine);
    is_int(s.nriders, json_object_size(ref.riders), "snapshot: riders");

    json_decref(snap);
    json_decref(got);
    json_decref(want);
    json_decref(riders);

    ref_free(&ref);
    race_tick_free(&tk);
    race_tick_store_free(&s);
    race_buf_free(&out);
}


/* ticks that come while loading: t alone decides, against the load */

static void
test_early(void)
{
    int                all;
    size_t             n;
    json_t            *snap, *riders;
    race_buf_t         out;
    race_tick_t        tk;
    json_error_t       err;
    race_tick_store_t  s;

    memset(&s, 0, sizeof(race_tick_store_t));
    memset(&tk, 0, sizeof(race_tick_t));
    memset(&out, 0, sizeof(race_buf_t));

#define EARLY(text)  race_tick_store_early(&s, text, sizeof(text) - 1)

    ok(EARLY("{\"riders\":[{\"rider\":\"p1\",\"t\":9,\"e\":1}]}")
       == RACE_TICK_OK
       && EARLY("{\"riders\":[{\"rider\":\"p2\",\"t\":3,\"e\":1}]}")
          == RACE_TICK_OK
       && EARLY("{\"riders\":[{\"rider\":\"p3\",\"t\":5,\"e\":1}]}")
          == RACE_TICK_OK
       && EARLY("{\"riders\":[{\"rider\":\"p4\",\"t\":1,\"e\":1}]}")
          == RACE_TICK_OK,
       "early: ticks kept");

#define PUT(id, text)                                                        \
    race_tick_store_put(&s, id, sizeof(id) - 1, text, sizeof(text) - 1)

    ok(PUT("p1", "{\"rider\":\"p1\",\"t\":5}") == RACE_TICK_OK
       && PUT("p2", "{\"rider\":\"p2\",\"t\":4}") == RACE_TICK_OK
       && PUT("p3", " {\"rider\":\"p3\",\"t\":5} ") == RACE_TICK_OK,
       "early: the load");
    ok(PUT("p5", "{\"t\":5") == RACE_TICK_BAD
       && PUT("p5", "[]") == RACE_TICK_BAD
       && PUT("p 5", "{}") == RACE_TICK_BAD
       && PUT("", "{}") == RACE_TICK_BAD,
       "early: bad states and ids refused");

    ok(race_tick_store_early_merge(&s, &tk) == RACE_TICK_OK
       && s.nearly == 0 && s.early == NULL, "early: merged");

    ok(race_tick_store_snapshot(&s, "r1", 2, 1, &out) == RACE_TICK_OK,
       "early: snapshot");

    snap = json_loadb(out.data, out.len, 0, &err);
    riders = by_rider(json_object_get(snap, "riders"));

    ok(json_integer_value(json_object_get(json_object_get(riders, "p1"),
                                          "e")) == 1,
       "early: a newer state wins");
    ok(json_object_get(json_object_get(riders, "p2"), "e") == NULL,
       "early: an older one does not");
    ok(json_object_get(json_object_get(riders, "p3"), "e") == NULL,
       "early: one as old does not");
    ok(json_object_get(riders, "p4") != NULL, "early: a new rider is taken");
    is_int(json_object_size(riders), 4, "early: 4 riders");
    ok(race_tick_store_changed(&s) == 0, "early: nothing in the batch");

    json_decref(riders);
    json_decref(snap);

    /* more than RACE_TICK_EARLY_MAX: the rest are dropped */

    for (n = 0; n < RACE_TICK_EARLY_MAX + 3; n++) {
        (void) EARLY("{\"riders\":[]}");
    }

    is_int(s.nearly, RACE_TICK_EARLY_MAX, "early: at most a few kept");

    /* a load starts again from nothing */

    race_tick_store_clear(&s);
    is_int(s.nriders, 0, "early: cleared");
    n = tick(&s, &tk, "{\"riders\":[{\"rider\":\"p1\",\"t\":1}]}", &all);
    ok(n == 1 && all, "early: a rider again after the clear");

#undef EARLY
#undef PUT

    race_tick_free(&tk);
    race_tick_store_free(&s);
    race_buf_free(&out);
}


/* no limit on riders */

static void
test_many(void)
{
    int                all, good;
    char               id[16], text[128];
    size_t             i, n, len;
    json_t            *snap;
    race_buf_t         out;
    race_tick_t        tk;
    json_error_t       err;
    race_tick_store_t  s;

    memset(&s, 0, sizeof(race_tick_store_t));
    memset(&tk, 0, sizeof(race_tick_t));
    memset(&out, 0, sizeof(race_buf_t));

    good = 1;

    for (i = 0; i < 20000; i++) {
        len = (size_t) snprintf(id, sizeof(id), "r%zu", i);
        snprintf(text, sizeof(text), "{\"rider\":\"%s\",\"t\":%zu}", id, i);
        good &= (race_tick_store_put(&s, id, len, text, strlen(text))
                 == RACE_TICK_OK);
    }

    ok(good && s.nriders == 20000, "many: 20000 riders");

    good = 1;

    for (i = 0; i < 20000; i += 7) {
        snprintf(text, sizeof(text),
                 "{\"riders\":[{\"rider\":\"r%zu\",\"t\":%zu}]}", i, i);
        n = tick(&s, &tk, text, &all);
        good &= (n == 0);
        snprintf(text, sizeof(text),
                 "{\"riders\":[{\"rider\":\"r%zu\",\"t\":%zu}]}", i, i + 1);
        n = tick(&s, &tk, text, &all);
        good &= (n == 1 && all);
    }

    ok(good && s.nriders == 20000, "many: each found again");

    ok(race_tick_store_snapshot(&s, "r", 1, 1, &out) == RACE_TICK_OK,
       "many: snapshot");
    snap = json_loadb(out.data, out.len, 0, &err);
    is_int(json_array_size(json_object_get(snap, "riders")), 20000,
           "many: all in it");
    json_decref(snap);

    race_tick_free(&tk);
    race_tick_store_free(&s);
    race_buf_free(&out);
}


static size_t
tick(race_tick_store_t *s, race_tick_t *tk, const char *text, int *all)
{
    size_t  n;

    if (race_tick_scan(tk, text, strlen(text)) != RACE_TICK_OK
        || race_tick_store_batch(s, tk, &n, all) != RACE_TICK_OK)
    {
        *all = 0;
        return (size_t) -1;
    }

    return n;
}


/* the scanner and jansson take the same */

static int
agree(const char *text, size_t len)
{
    int  a, b;

    a = scan_ok(text, len);
    b = jansson_ok(text, len);

    if (a != b) {
        diag("scanner %d, jansson %d: %.60s", a, b, text);
    }

    return a == b;
}


static int
scan_ok(const char *text, size_t len)
{
    int             ok1, ok2;
    char           *copy;
    race_tick_t     tk;

    /* in an allocation of its size: ASan sees a read past it */

    copy = malloc(len ? len : 1);
    if (copy == NULL) {
        return -1;
    }

    memcpy(copy, text, len);
    memset(&tk, 0, sizeof(race_tick_t));

    ok1 = (race_tick_scan(&tk, copy, len) == RACE_TICK_OK);
    ok2 = (race_tick_state(copy, len, NULL, NULL) == RACE_TICK_OK);

    race_tick_free(&tk);
    free(copy);

    return (ok1 == ok2) ? ok1 : -1;
}


static int
jansson_ok(const char *text, size_t len)
{
    int           rc;
    json_t       *j;
    json_error_t  err;

    j = json_loadb(text, len, 0, &err);
    rc = (j != NULL && json_is_object(j));
    json_decref(j);

    return rc;
}


/* {"a": open x n, inner, close x n } */

static char *
nest(size_t n, const char *open, const char *inner, const char *close)
{
    char    *s, *p;
    size_t   i, lo, li, lc;

    lo = strlen(open);
    li = strlen(inner);
    lc = strlen(close);

    s = malloc(5 + n * (lo + lc) + li + 2);
    if (s == NULL) {
        return NULL;
    }

    p = s;
    memcpy(p, "{\"a\":", 5);
    p += 5;

    for (i = 0; i < n; i++) {
        memcpy(p, open, lo);
        p += lo;
    }

    memcpy(p, inner, li);
    p += li;

    for (i = 0; i < n; i++) {
        memcpy(p, close, lc);
        p += lc;
    }

    *p++ = '}';
    *p = '\0';

    return s;
}


/* the model: the module's merge on jansson objects, as it was */

static void
ref_init(ref_t *ref)
{
    ref->riders = json_object();
    ref->changed = json_object();
    ref->last = NULL;
}


static void
ref_free(ref_t *ref)
{
    json_decref(ref->riders);
    json_decref(ref->changed);
    json_decref(ref->last);
}


static size_t
ref_merge(ref_t *ref, json_t *tick, int restate, json_t *changed, int *all)
{
    size_t       i, n;
    int64_t      t, ourt;
    json_t      *riders, *state, *id, *ours, *jt;
    const char  *rider;

    riders = json_object_get(tick, "riders");
    *all = 1;

    if (!json_is_array(riders)) {
        return 0;
    }

    n = 0;

    json_array_foreach(riders, i, state) {
        id = json_object_get(state, "rider");
        rider = json_string_value(id);

        if (rider == NULL || !race_id_valid(rider, json_string_length(id))) {
            *all = 0;
            continue;
        }

        ours = json_object_get(ref->riders, rider);

        if (ours) {
            jt = json_object_get(state, "t");
            t = json_is_integer(jt) ? json_integer_value(jt) : -1;
            jt = json_object_get(ours, "t");
            ourt = json_is_integer(jt) ? json_integer_value(jt) : -1;

            if (ourt > t
                || (ourt == t && (!restate || json_equal(ours, state))))
            {
                *all = 0;
                continue;
            }
        }

        (void) json_object_set(ref->riders, rider, state);

        if (changed) {
            (void) json_object_set(changed, rider, state);
        }

        n++;
    }

    return n;
}


static size_t
ref_tick(ref_t *ref, const char *text)
{
    int           all;
    size_t        n;
    json_t       *tick, *prev, *lag;
    json_error_t  err;

    tick = json_loads(text, 0, &err);
    if (tick == NULL) {
        return (size_t) -1;
    }

    n = ref_merge(ref, tick, 1, ref->changed, &all);

    if (n == 0) {
        json_decref(tick);
        return 0;
    }

    if (ref->last) {
        prev = json_object_get(ref->last, "lag_ms");
        lag = json_object_get(tick, "lag_ms");

        if (json_is_integer(prev)
            && (lag == NULL
                || (json_is_integer(lag)
                    && json_integer_value(lag) < json_integer_value(prev))))
        {
            (void) json_object_set(tick, "lag_ms", prev);
        }

        json_decref(ref->last);
    }

    ref->last = tick;

    return n;
}


static json_t *
ref_frame(ref_t *ref)
{
    json_t      *riders, *state, *frame;
    const char  *key;

    frame = json_deep_copy(ref->last);
    riders = json_array();

    json_object_foreach(ref->changed, key, state) {
        (void) json_array_append(riders, state);
    }

    (void) json_object_set_new(frame, "riders", riders);

    return frame;
}


static void
ref_forget(ref_t *ref)
{
    json_decref(ref->last);
    ref->last = NULL;
    json_object_clear(ref->changed);
}


/* the same members, the same riders in any order */

static int
same_frame(race_buf_t *out, json_t *want)
{
    int           rc;
    json_t       *got, *a, *b, *ra, *rb;
    json_error_t  err;

    got = json_loadb(out->data, out->len, 0, &err);
    if (got == NULL) {
        diag("not JSON: %s: %.*s", err.text, (int) out->len, out->data);
        return 0;
    }

    ra = by_rider(json_object_get(got, "riders"));
    rb = by_rider(json_object_get(want, "riders"));

    a = json_deep_copy(got);
    b = json_deep_copy(want);
    (void) json_object_del(a, "riders");
    (void) json_object_del(b, "riders");

    rc = ra && rb && json_equal(a, b) && json_equal(ra, rb)
         && json_array_size(json_object_get(got, "riders"))
            == json_array_size(json_object_get(want, "riders"));

    if (!rc) {
        diag("got %.*s", (int) out->len, out->data);
    }

    json_decref(got);
    json_decref(a);
    json_decref(b);
    json_decref(ra);
    json_decref(rb);

    return rc;
}


/* riders as a new object by id */

static json_t *
by_rider(json_t *riders)
{
    size_t       i;
    json_t      *o, *state;

    if (!json_is_array(riders)) {
        return NULL;
    }

    o = json_object();
    if (o == NULL) {
        return NULL;
    }

    json_array_foreach(riders, i, state) {
        (void) json_object_set(o, json_string_value(json_object_get(state,
                                                                  "rider")),
                               state);
    }

    return o;
}
