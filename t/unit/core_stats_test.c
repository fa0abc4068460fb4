
/*
 * ngx_race: unit tests of the results core and its writers, TAP output.
 *
 * A 6 km course ridden by hand-built tracks that know their answers:
 * A at 10 m/s; B at 8 m/s with a GPS jump and 10 minutes at a cafe with
 * jittering fixes (moving time leaves the stop out, the maximum speed
 * ignores the jump and the jitter); C marked dnf; D never heard; E gone
 * silent.  Then the JSON read back with jansson, the CSV's quoting and
 * formula guard, elevation gain with hysteresis, and the GPX's
 * escaping, element order and well-formedness (expat).
 */


#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>
#include <jansson.h>

#include "race_stats.h"
#include "tap.h"


#define T0        1732400000000LL
#define S         1000LL
#define LEN       6000.0
#define LAT0      45.0
#define LON0      7.0
#define M_LAT     (6371008.8 * M_PI / 180)    /* metres per degree */
#define N_MAX     2000


static void test_results(void);
static void test_json(const race_stats_t *st);
static void test_csv(void);
static void test_gain(void);
static void test_gpx(void);

static size_t ride(race_rider_sample_t *out, int64_t to, double v,
    int64_t stop_at, int64_t stop_s);
static double profile(double d);
static int well_formed(const char *xml, size_t len);


/* the name has \x01 \xff: two U+FFFD */
static const char  head[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<gpx version=\"1.1\" creator=\"ngx_race\" "
    "xmlns=\"http://www.topografix.com/GPX/1/1\">\n"
    "<metadata><name>Tour &lt;&amp;&gt; &quot;GP&quot;</name>"
    "<time>2024-11-23T22:13:20Z</time></metadata>\n"
    "<trk><name>O&apos;Neil \xef\xbf\xbd\xef\xbf\xbd</name><trkseg>\n";

static race_rider_sample_t  a[N_MAX], b[N_MAX], c[N_MAX], e[N_MAX];

static race_course_checkpoint_t  cps[2] = {
    { "Climb", 2000 }, { "Cafe", 4000 }
};


int
main(void)
{
    test_results();
    test_csv();
    test_gain();
    test_gpx();

    return tap_done();
}


static void
test_results(void)
{
    size_t                 na, nb, nc, ne;
    race_stats_t           st;
    race_stats_in_t        in;
    race_stats_rider_in_t  riders[5];
    const race_stats_rider_t  *r;

    na = ride(a, 700, 10, -1, 0);
    nb = ride(b, 1400, 8, 500, 600);
    nc = ride(c, 300, 10, -1, 0);
    ne = ride(e, 500, 10, -1, 0);

    /* B: a 3 km jump sideways at 300 s, the matcher kept its distance */
    b[300].lon += 3000 / (M_LAT * cos(LAT0 * M_PI / 180));

    memset(riders, 0, sizeof(riders));
    riders[0] = (race_stats_rider_in_t) { "ra", "Anna", "1", 0, a, na };
    riders[1] = (race_stats_rider_in_t) { "rb", "Bob", "2", 0, b, nb };
    riders[2] = (race_stats_rider_in_t) { "rc", "Cid", "3",
                                          RACE_RIDER_MARK_DNF, c, nc };
    riders[3] = (race_stats_rider_in_t) { "rd", "Dan", "4", 0, NULL, 0 };
    riders[4] = (race_stats_rider_in_t) { "re", "Eve", "5", 0, e, ne };

    memset(&in, 0, sizeof(in));
    in.id = "race1";
    in.name = "Test GP";
    in.start = T0;
    in.computed = T0 + 3600 * S;
    in.length = LEN;
    in.checkpoints = cps;
    in.ncheckpoints = 2;
    in.riders = riders;
    in.nriders = 5;

    if (!ok(race_stats_compute(&st, &in) == 0, "results: computed")) {
        return;
    }

    is_int(st.n, 5, "results: 5 riders");
    is_int(st.riders[0].index, 0, "results: A wins");
    is_int(st.riders[1].index, 1, "results: B second");
    is_int(st.riders[2].index, 4, "results: E, furthest of the others");
    is_int(st.riders[3].index, 3, "results: D, never heard, at 0 m");
    is_int(st.riders[4].index, 2, "results: C, marked dnf, last");

    r = &st.riders[0];
    is_int(r->status, RACE_RIDER_FINISHED, "A: finished");
    is_int(r->finish, 600 * S, "A: net time");
    is_int(r->moving, 600 * S, "A: moving time, not after the finish");
    ok(fabs(r->avg - 10) < 1e-9, "A: average speed %.6f", r->avg);
    ok(fabs(r->max - 10) < 0.01, "A: maximum speed %.4f", r->max);
    ok(fabs(r->gain - 90) < 1e-6, "A: elevation gain %.3f", r->gain);
    is_int(r->splits[0], 200 * S, "A: split 1");
    is_int(r->splits[1], 400 * S, "A: split 2");

    r = &st.riders[1];
    is_int(r->finish, 1350 * S, "B: net time with the stop");
    is_int(r->moving, 750 * S, "B: moving time leaves the stop out");
    ok(fabs(r->avg - 8) < 1e-9, "B: average speed over moving time");
    ok(fabs(r->max - 8) < 0.01, "B: maximum speed ignores jump and jitter "
       "(%.3f)", r->max);
    is_int(r->splits[1], 500 * S, "B: split at the cafe");

    r = &st.riders[2];
    is_int(r->status, RACE_RIDER_DNF, "E: not at the finish: dnf");
    is_int(r->finish, -1, "E: no finish time");
    ok(r->dist == 5000, "E: its distance");
    is_int(r->splits[1], 400 * S, "E: its splits");

    r = &st.riders[3];
    ok(!r->started && r->status == RACE_RIDER_DNF && r->moving == 0
       && isnan(r->avg) && isnan(r->max) && isnan(r->gain),
       "D: nothing");

    is_int(st.starters, 4, "summary: starters");
    is_int(st.finishers, 2, "summary: finishers");
    is_int(st.winning, 600 * S, "summary: winning time");
    ok(fabs(st.avg - 12000.0 / 1950) < 1e-9, "summary: average speed");

    test_json(&st);

    race_stats_free(&st);
}


static void
test_json(const race_stats_t *st)
{
    race_buf_t    buf;
    json_t       *doc, *r0, *r3;
    json_error_t  err;

    memset(&buf, 0, sizeof(buf));

    ok(race_stats_json(st, &buf) == 0, "json: written");
    doc = json_loadb(buf.data, buf.len, 0, &err);

    if (!ok(doc != NULL, "json: valid")) {
        diag("%s: %s", err.text, buf.data);
        race_buf_free(&buf);
        return;
    }

    is_str(json_string_value(json_object_get(doc, "race")), "race1",
           "json: race");
    is_int(json_integer_value(json_object_get(doc, "computed")),
           T0 + 3600 * S, "json: computed");
    is_int(json_integer_value(json_object_get(json_object_get(doc,
           "summary"), "finishers")), 2, "json: finishers");
    ok(json_number_value(json_object_get(json_object_get(doc, "summary"),
       "winning_s")) == 600, "json: winning time");
    is_str(json_string_value(json_object_get(json_array_get(json_object_get(
           json_object_get(doc, "summary"), "checkpoints"), 1), "name")),
           "Cafe", "json: checkpoint names");

    r0 = json_array_get(json_object_get(doc, "riders"), 0);
    r3 = json_array_get(json_object_get(doc, "riders"), 3);

    is_str(json_string_value(json_object_get(r0, "name")), "Anna",
           "json: winner first");
    ok(json_number_value(json_object_get(r0, "moving_s")) == 600
       && json_number_value(json_object_get(r0, "ele_gain_m")) == 90
       && json_number_value(json_array_get(json_object_get(r0, "splits"),
                                           1)) == 400,
       "json: the winner's figures");
    ok(json_is_null(json_object_get(r3, "finish_s"))
       && json_is_null(json_object_get(r3, "avg_mps"))
       && json_is_null(json_array_get(json_object_get(r3, "splits"), 0)),
       "json: none is null");
    is_str(json_string_value(json_object_get(r3, "status")), "dnf",
           "json: status");

    json_decref(doc);
    race_buf_free(&buf);
}


static void
test_csv(void)
{
    char                   *line;
    race_buf_t              buf;
    race_stats_t            st;
    race_stats_in_t         in;
    race_stats_rider_in_t   riders[4];
    race_course_checkpoint_t  cp[1] = { { "=cmd|' /C calc'!A0", 3000 } };
    size_t                  na;

    na = ride(a, 700, 10, -1, 0);

    memset(riders, 0, sizeof(riders));
    riders[0] = (race_stats_rider_in_t) { "r1", "Doe, \"JJ\"", "+12", 0,
                                          a, na };
    riders[1] = (race_stats_rider_in_t) { "r2", "=SUM(A1:A9)", "-3", 0,
                                          NULL, 0 };
    riders[2] = (race_stats_rider_in_t) { "r3", "two\r\nlines", "@x", 0,
                                          NULL, 0 };
    riders[3] = (race_stats_rider_in_t) { "r4", "bad \xff\xfe utf8", "null",
                                          0, NULL, 0 };

    memset(&in, 0, sizeof(in));
    in.id = "r";
    in.name = "csv";
    in.start = T0;
    in.computed = T0 + 3600 * S;
    in.length = LEN;
    in.checkpoints = cp;
    in.ncheckpoints = 1;
    in.riders = riders;
    in.nriders = 4;

    if (race_stats_compute(&st, &in) != 0) {
        ok(0, "csv: computed");
        return;
    }

    memset(&buf, 0, sizeof(buf));
    ok(race_stats_csv(&st, &buf) == 0, "csv: written");

    line = buf.data;
    is_str(line, "rank,rider,bib,name,status,finish_s,dist_m,moving_s,"
           "avg_mps,max_mps,ele_gain_m,'=cmd|' /C calc'!A0\r\n"
           "1,r1,'+12,\"Doe, \"\"JJ\"\"\",finished,600,6000,600,10,10,90,"
           "300\r\n"
           "2,r2,'-3,'=SUM(A1:A9),dnf,,0,0,,,,\r\n"
           "3,r3,'@x,\"two\r\nlines\",dnf,,0,0,,,,\r\n"
           "4,r4,null,bad \xef\xbf\xbd\xef\xbf\xbd utf8,dnf,,0,0,,,,\r\n",
           "csv: quoting, formula guard, empty none, CRLF");

    race_buf_free(&buf);
    race_stats_free(&st);
}


static void
test_gain(void)
{
    size_t                 i, n;
    race_rider_sample_t    s[400];
    race_stats_rider_in_t  ri;
    race_stats_t           st;
    race_stats_in_t        in;

    memset(&in, 0, sizeof(in));
    in.id = "g";
    in.name = "g";
    in.start = T0;
    in.computed = T0 + 3600 * S;
    in.length = LEN;
    in.riders = &ri;
    in.nriders = 1;

    /* flat with 2.5 m of noise: nothing */

    n = 300;

    for (i = 0; i < n; i++) {
        memset(&s[i], 0, sizeof(s[i]));
        s[i].t = T0 + (int64_t) i * S;
        s[i].dist = 10.0 * i;
        s[i].lat = LAT0 + s[i].dist / M_LAT;
        s[i].lon = LON0;
        s[i].has_ele = 1;
        s[i].ele = 200 + ((i * 7) % 5) * 0.625;
    }

    ri = (race_stats_rider_in_t) { "x", "x", "1", 0, s, n };
    race_stats_compute(&st, &in);
    ok(st.riders[0].gain == 0, "gain: noise under the hysteresis: 0 (%.2f)",
       st.riders[0].gain);
    race_stats_free(&st);

    /* the profile with +-1 m of noise: within 2 m per climb */

    for (i = 0; i < n; i++) {
        s[i].ele = profile(s[i].dist / 3000 * LEN) + (i % 2 ? 1 : -1);
    }

    race_stats_compute(&st, &in);
    ok(fabs(st.riders[0].gain - 90) <= 4, "gain: noisy profile %.2f",
       st.riders[0].gain);
    race_stats_free(&st);

    /* samples without elevation: none */

    for (i = 0; i < n; i++) {
        s[i].has_ele = 0;
    }

    race_stats_compute(&st, &in);
    ok(isnan(st.riders[0].gain), "gain: no elevation, none");
    race_stats_free(&st);
}


static void
test_gpx(void)
{
    int                   bad;
    char                 *p, *q;
    race_buf_t            buf;
    race_rider_sample_t   s[4];

    memset(s, 0, sizeof(s));
    s[0] = (race_rider_sample_t) { T0, 0, 0, 45.5, 7.25, 230.4, 1 };
    s[1] = (race_rider_sample_t) { T0 + 1500, 10, 9, 45.5001, 7.25, 0, 0 };
    s[2] = (race_rider_sample_t) { T0 + 2000, 20, 9, 91, 7.25, 0, 0 };
    s[3] = (race_rider_sample_t) { T0 + 3000, 30, 9, -45.0000001, 180,
                                   -12, 1 };

    memset(&buf, 0, sizeof(buf));
    ok(race_stats_gpx(&buf, "Tour <&> \"GP\"", "O'Neil \x01\xff", T0,
                      s, 4) == 0, "gpx: written");

    ok(strncmp(buf.data, head, strlen(head)) == 0,
       "gpx: header, escaped names");


    ok(strstr(buf.data, "<trkpt lat=\"45.5000000\" lon=\"7.2500000\">"
              "<ele>230.4</ele><time>2024-11-23T22:13:20Z</time></trkpt>")
       != NULL, "gpx: a point, ele before time");
    ok(strstr(buf.data, "<trkpt lat=\"45.5001000\" lon=\"7.2500000\">"
              "<time>2024-11-23T22:13:21.500Z</time></trkpt>") != NULL,
       "gpx: no ele, milliseconds");
    ok(strstr(buf.data, "lat=\"91") == NULL, "gpx: bad latitude left out");
    ok(strstr(buf.data, "lat=\"-45.0000001\" lon=\"-180.0000000\">"
              "<ele>-12.0</ele>") != NULL, "gpx: 180 is -180");

    bad = 0;

    for (p = buf.data; (p = strstr(p, "<trkpt")) != NULL; p++) {
        q = strstr(p, "<time>");

        if (strstr(p, "<ele>") && strstr(p, "<ele>") < strstr(p, "</trkpt>")
            && strstr(p, "<ele>") > q)
        {
            bad++;
        }
    }

    is_int(bad, 0, "gpx: ele never after time");
    ok(well_formed(buf.data, buf.len), "gpx: well-formed XML");
    race_buf_free(&buf);
}


/*
 * A rider at v m/s on a straight course due north, a fix a second up to
 * "to" s, stopped stop_s at stop_at s (fixes jitter 4 m meanwhile);
 * distance held at the finish after it.
 */

static size_t
ride(race_rider_sample_t *out, int64_t to, double v, int64_t stop_at,
    int64_t stop_s)
{
    size_t   n;
    double   d, jit;
    int64_t  t, moving;

    n = 0;

    for (t = 0; t <= to && n < N_MAX; t++) {
        moving = t;
        jit = 0;

        if (stop_at >= 0 && t > stop_at) {
            moving = t < stop_at + stop_s ? stop_at : t - stop_s;
            jit = (t < stop_at + stop_s) ? (t % 2 ? 4 : -4) : 0;
        }

        d = v * (double) moving;

        if (d > LEN) {
            d = LEN;
        }

        memset(&out[n], 0, sizeof(race_rider_sample_t));
        out[n].t = T0 + t * S;
        out[n].dist = d;
        out[n].speed = v;
        out[n].lat = LAT0 + (v * (double) moving + jit) / M_LAT;
        out[n].lon = LON0;
        out[n].ele = profile(d);
        out[n].has_ele = 1;
        n++;
    }

    return n;
}


/* 100 m up to 150 at 3 km, down to 120 at 4.5 km, up to 160: 90 m */

static double
profile(double d)
{
    if (d <= 3000) {
        return 100 + d / 3000 * 50;
    }

    if (d <= 4500) {
        return 150 - (d - 3000) / 1500 * 30;
    }

    return 120 + (d - 4500) / 1500 * 40;
}


static int
well_formed(const char *xml, size_t len)
{
    int         rc;
    XML_Parser  p;

    p = XML_ParserCreate(NULL);
    if (p == NULL) {
        return 0;
    }

    rc = XML_Parse(p, xml, (int) len, 1) == XML_STATUS_OK;

    if (!rc) {
        diag("expat: %s at line %lu", XML_ErrorString(XML_GetErrorCode(p)),
             (unsigned long) XML_GetCurrentLineNumber(p));
    }

    XML_ParserFree(p);

    return rc;
}
