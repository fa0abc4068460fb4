
/*
 * ngx_race: unit tests of the course core, TAP output.
 *
 * Known answers on the mean-radius sphere (a degree of latitude is
 * 111,195.08 m): a straight course along a meridian, a loop unrolled
 * into laps, GPX tracks and routes, the GeoJSON forms; every error a
 * user can get, each with its sentence; entity and depth attacks
 * refused; 200,000 dense points simplified to at most 20,000 with the
 * length kept within 0.1 %; the compact JSON's round trip; checkpoints.
 */


#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "race_course.h"
#include "tap.h"


#define T_DEG_M     (6371008.8 * M_PI / 180.0)     /* 111195.08 m */

#define T_GPX_HEAD  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
                    "<gpx version=\"1.1\" creator=\"t\" " \
                    "xmlns=\"http://www.topografix.com/GPX/1/1\">\n"


typedef struct {
    char    *p;
    size_t   len;
    FILE    *f;
} t_buf_t;


static void t_open(t_buf_t *b);
static void t_close(t_buf_t *b);
static int t_parse(race_course_t *c, const char *s, unsigned laps,
    char *err);
static int t_fails(const char *s, size_t len, unsigned laps,
    const char *want, const char *what);
static double t_sum(const double *lat, const double *lon, size_t n);

static void test_straight(void);
static void test_loop(void);
static void test_gpx(void);
static void test_geojson(void);
static void test_errors(void);
static void test_attacks(void);
static void test_dense(void);
static void test_noisy(void);
static void test_elevation(void);
static void test_codec(void);
static void test_checkpoints(void);
static void test_outputs(void);


int
main(void)
{
    test_straight();
    test_loop();
    test_gpx();
    test_geojson();
    test_errors();
    test_attacks();
    test_dense();
    test_noisy();
    test_elevation();
    test_codec();
    test_checkpoints();
    test_outputs();

    return tap_done();
}


static void
t_open(t_buf_t *b)
{
    b->p = NULL;
    b->len = 0;
    b->f = open_memstream(&b->p, &b->len);

    if (b->f == NULL) {
        abort();
    }
}


static void
t_close(t_buf_t *b)
{
    fclose(b->f);
}


static int
t_parse(race_course_t *c, const char *s, unsigned laps, char *err)
{
    err[0] = '\0';

    return race_course_parse(c, s, strlen(s), laps, err,
                             RACE_COURSE_ERR_MAX);
}


/* refused, with an error that starts with want */

static int
t_fails(const char *s, size_t len, unsigned laps, const char *want,
    const char *what)
{
    int            rc, good;
    char           err[RACE_COURSE_ERR_MAX];
    race_course_t  c;

    err[0] = '\0';
    rc = race_course_parse(&c, s, len, laps, err, sizeof(err));

    good = (rc == -1 && strncmp(err, want, strlen(want)) == 0);

    ok(good, "%s: \"%s\"", what, err);

    if (!good) {
        diag("  want: '%s...'", want);
    }

    if (rc == 0) {
        race_course_free(&c);
    }

    return good;
}


static double
t_sum(const double *lat, const double *lon, size_t n)
{
    size_t  i;
    double  s;

    s = 0.0;

    for (i = 1; i < n; i++) {
        s += race_geo_distance(lat[i - 1], lon[i - 1], lat[i], lon[i]);
    }

    return s;
}


static void
test_straight(void)
{
    int            i, rc;
    char           err[RACE_COURSE_ERR_MAX];
    t_buf_t        b;
    race_course_t  c;

    ok(fabs(race_geo_distance(45.0, 7.0, 46.0, 7.0) - 111195.08) < 0.01,
       "a degree of latitude is 111,195.08 m");
    ok(fabs(race_geo_bearing(45.0, 7.0, 46.0, 7.0)) < 1e-9
       && fabs(race_geo_bearing(0.0, 7.0, 0.0, 8.0) - 90.0) < 1e-9,
       "bearings north and east");

    /* 101 points along the meridian 7 E, 45 N to 46 N */

    t_open(&b);
    fprintf(b.f, T_GPX_HEAD "<trk><name>straight</name><trkseg>\n");

    for (i = 0; i <= 100; i++) {
        fprintf(b.f, "<trkpt lat=\"%.2f\" lon=\"7\"><ele>%d</ele>"
                "<time>2024-06-01T10:00:00Z</time></trkpt>\n",
                45.0 + i / 100.0, 200 + i);
    }

    fprintf(b.f, "</trkseg></trk></gpx>\n");
    t_close(&b);

    rc = t_parse(&c, b.p, 1, err);
    ok(rc == 0, "a straight track: %s", rc ? err : "parsed");

    if (rc == 0) {
        ok(fabs(c.length - T_DEG_M) < 0.01, "its length is 111,195.08 m: "
           "%.3f", c.length);
        is_int(c.n, 2, "a straight road needs only its ends");
        is_int(c.laps, 1, "one lap");
        ok(!c.closed, "open");
        ok(c.has_ele && c.points[0].ele == 200 && c.points[1].ele == 300,
           "elevations of the ends kept");
        ok(c.lap_length == c.length && c.points[c.n - 1].dist == c.length,
           "length is the last point's distance");

        {
            size_t  seg;
            double  la, lo, el;

            seg = race_course_point_at(&c, c.length / 4, &la, &lo, &el);
            ok(seg == 0 && fabs(la - 45.25) < 1e-9 && lo == 7.0
               && fabs(el - 225) < 1e-9, "a quarter of the way: %.7f, "
               "%.7f, %.1f m", la, lo, el);
            seg = race_course_point_at(&c, 1e9, &la, &lo, &el);
            ok(seg == 0 && la == 46.0 && el == 300, "past the finish: the "
               "finish");
            race_course_point_at(&c, -5, &la, &lo, &el);
            ok(la == 45.0 && el == 200, "before the start: the start");
        }
        race_course_free(&c);
    }

    /* no elevation on one point: none at all */

    rc = t_parse(&c, T_GPX_HEAD "<rte><rtept lat=\"45\" lon=\"7\"><ele>10"
                 "</ele></rtept><rtept lat=\"45.5\" lon=\"7.1\"/>"
                 "<rtept lat=\"46\" lon=\"7\"><ele>30</ele></rtept></rte>"
                 "</gpx>", 1, err);
    ok(rc == 0 && !c.has_ele && isnan(c.points[0].ele)
       && isnan(c.points[2].ele), "elevation dropped when a point has none");

    if (rc == 0) {
        race_course_free(&c);
    }

    free(b.p);
}


static void
test_loop(void)
{
    int            rc;
    size_t         i;
    char           err[RACE_COURSE_ERR_MAX];
    double         lap;
    race_course_t  c;

    /* a square of 0.01 degree sides, closed on its start */

    static const double  lat[] = { 45.0, 45.0, 45.01, 45.01, 45.0 };
    static const double  lon[] = { 7.0, 7.01, 7.01, 7.0, 7.0 };
    static const double  lat2[] = { 45.0, 45.0, 45.01, 45.01, 45.0003 };

    rc = race_course_from_points(&c, lat, lon, NULL, 5, 3, err, sizeof(err));
    ok(rc == 0, "a loop of 3 laps: %s", rc ? err : "made");

    if (rc == 0) {
        lap = t_sum(lat, lon, 5);
        ok(c.closed, "closed");
        is_int(c.lap_n, 5, "5 points a lap");
        is_int(c.n, 13, "unrolled: 3 laps share their ends");
        ok(fabs(c.lap_length - lap) < 1e-6, "lap length %.1f m", lap);
        ok(fabs(c.length - 3 * lap) < 1e-6, "length 3 laps");
        ok(c.points[4].dist == c.lap_length && c.points[8].dist
           == 2 * c.lap_length && c.points[12].dist == c.length,
           "each lap ends at its distance");
        ok(c.points[5].lat == lat[1] && c.points[5].lon == lon[1],
           "lap 2 starts over");

        for (i = 1; i < c.n && c.points[i].dist > c.points[i - 1].dist; i++) {
            /* void */
        }

        ok(i == c.n, "distances grow");

        {
            size_t  seg;
            double  la, lo, el;

            seg = race_course_point_at(&c, (c.points[4].dist
                                            + c.points[5].dist) / 2,
                                       &la, &lo, &el);
            ok(seg == 4 && la == 45.0 && fabs(lo - 7.005) < 1e-9
               && isnan(el), "half way along lap 2's first side");
        }
        race_course_free(&c);
    }

    /* ends 33 m apart: each new lap adds the gap */

    rc = race_course_from_points(&c, lat2, lon, NULL, 5, 2, err, sizeof(err));
    ok(rc == 0 && c.n == 10, "a loop whose ends are 33 m apart");

    if (rc == 0) {
        lap = t_sum(lat2, lon, 5) + race_geo_distance(45.0, 7.0, 45.0003,
                                                      7.0);
        ok(fabs(c.lap_length - lap) < 1e-6 && c.points[5].dist == lap
           && fabs(c.length - (lap + t_sum(lat2, lon, 5))) < 1e-6,
           "the gap is raced at every new lap");
        race_course_free(&c);
    }

    /* the same points through a GPX file */

    rc = t_parse(&c, T_GPX_HEAD "<trk><trkseg>"
                 "<trkpt lat=\"45\" lon=\"7\"/><trkpt lat=\"45\" lon=\"7.01\"/>"
                 "<trkpt lat=\"45.01\" lon=\"7.01\"/>"
                 "<trkpt lat=\"45.01\" lon=\"7\"/><trkpt lat=\"45\" lon=\"7\"/>"
                 "</trkseg></trk></gpx>", 3, err);
    ok(rc == 0 && c.n == 13 && c.laps == 3
       && fabs(c.length - 3 * t_sum(lat, lon, 5)) < 1e-6,
       "a GPX loop of 3 laps");

    if (rc == 0) {
        race_course_free(&c);
    }

    rc = race_course_from_points(&c, lat, lon, NULL, 5, 0, err, sizeof(err));
    ok(rc == -1 && strcmp(err, "laps must be 1 to 100") == 0, "0 laps: %s",
       err);
    rc = race_course_from_points(&c, lat, lon, NULL, 5, 101, err,
                                 sizeof(err));
    ok(rc == -1, "101 laps refused");

    /* repeated points and the pole */

    {
        static const double  la[] = { 90.0, 90.0, 89.0, 89.0 };
        static const double  lo[] = { 0.0, 120.0, 0.0, 0.0 };

        rc = race_course_from_points(&c, la, lo, NULL, 4, 1, err,
                                     sizeof(err));
        ok(rc == 0 && c.n == 2, "repeats, at the pole too, dropped");

        if (rc == 0) {
            race_course_free(&c);
        }

        rc = race_course_from_points(&c, la, lo, NULL, 2, 1, err,
                                     sizeof(err));
        ok(rc == -1 && strcmp(err, "the course needs at least two distinct "
                              "points") == 0, "one place: %s", err);
    }
}


static void
test_gpx(void)
{
    int            rc;
    char           err[RACE_COURSE_ERR_MAX];
    race_course_t  c;

    /* two segments joined, extensions and other namespaces ignored */

    rc = t_parse(&c, "\xef\xbb\xbf  " T_GPX_HEAD
                 "<metadata><name>x</name></metadata>"
                 "<wpt lat=\"10\" lon=\"10\"/>"
                 "<trk><name>a</name><trkseg>"
                 "<trkpt lat=\"45.0\" lon=\"7.0\"><ele>100</ele></trkpt>"
                 "<trkpt lat=\"45.1\" lon=\"7.2\"><ele>110</ele>"
                 "<extensions><x:trkpt xmlns:x=\"urn:x\" lat=\"0\" lon=\"0\"/>"
                 "<x:ele xmlns:x=\"urn:x\">9999</x:ele></extensions></trkpt>"
                 "</trkseg><trkseg>"
                 "<trkpt lat=\"45.3\" lon=\"7.1\"><ele> 120.5 </ele></trkpt>"
                 "<trkpt lat=\" 45.2 \" lon=\"7.4\"><ele>130</ele></trkpt>"
                 "</trkseg></trk>"
                 "<rte><rtept lat=\"1\" lon=\"1\"/><rtept lat=\"2\" lon=\"2\"/>"
                 "</rte></gpx>", 1, err);
    ok(rc == 0, "a track of two segments: %s", rc ? err : "parsed");

    if (rc == 0) {
        is_int(c.n, 4, "4 points, the route and waypoint left aside");
        ok(c.points[0].lat == 45.0 && c.points[1].lon == 7.2
           && c.points[2].lat == 45.3 && c.points[3].lat == 45.2,
           "in the order of the file");
        ok(c.has_ele && c.points[2].ele == 120.5, "elevations");
        ok(fabs(c.length - (race_geo_distance(45, 7, 45.1, 7.2)
                            + race_geo_distance(45.1, 7.2, 45.3, 7.1)
                            + race_geo_distance(45.3, 7.1, 45.2, 7.4)))
           < 1e-6, "the length of the joined segments");
        race_course_free(&c);
    }

    /* a route; GPX 1.0 and no namespace too */

    rc = t_parse(&c, "<gpx xmlns=\"http://www.topografix.com/GPX/1/0\">"
                 "<rte><rtept lat=\"-33.9\" lon=\"151.2\"/>"
                 "<rtept lat=\"-34.0\" lon=\"151.25\"/>"
                 "<rtept lat=\"-34.1\" lon=\"151.2\"/></rte></gpx>", 1, err);
    ok(rc == 0 && c.n == 3 && c.points[2].lat == -34.1 && !c.has_ele,
       "a route: %s", rc ? err : "3 points");

    if (rc == 0) {
        race_course_free(&c);
    }

    rc = t_parse(&c, "<gpx><trk><trkseg><trkpt lat=\"1\" lon=\"2\"/>"
                 "<trkpt lat=\"1.5\" lon=\"2\"/></trkseg></trk></gpx>", 1,
                 err);
    ok(rc == 0 && c.n == 2, "no namespace: %s", rc ? err : "read");

    if (rc == 0) {
        race_course_free(&c);
    }

    /* across 180 degrees of longitude */

    rc = t_parse(&c, "<gpx><rte><rtept lat=\"-17\" lon=\"179.9\"/>"
                 "<rtept lat=\"-17\" lon=\"-179.9\"/>"
                 "<rtept lat=\"-17.1\" lon=\"-179.8\"/></rte></gpx>", 1, err);
    ok(rc == 0 && c.length < 40000, "across the antimeridian: %.0f m",
       rc ? 0.0 : c.length);

    if (rc == 0) {
        double  la, lo, el;

        race_course_point_at(&c, c.points[1].dist / 4, &la, &lo, &el);
        ok(fabs(lo - 179.95) < 1e-9, "a quarter of the way across 180: %.7f",
           lo);
        race_course_point_at(&c, c.points[1].dist * 3 / 4, &la, &lo, &el);
        ok(fabs(lo + 179.95) < 1e-9, "three quarters: %.7f", lo);
    }

    if (rc == 0) {
        char  *s = race_course_summary(&c);

        ok(s && strstr(s, "\"bbox\":[179.9,-17.1,-179.8,-17]") != NULL,
           "its bbox crosses 180: %s", s);
        free(s);
        race_course_free(&c);
    }
}


static void
test_geojson(void)
{
    int            rc;
    char           err[RACE_COURSE_ERR_MAX];
    race_course_t  c;

    rc = t_parse(&c, "{\"type\":\"LineString\",\"coordinates\":"
                 "[[7,45],[7.1,45.05],[7,46]]}", 1, err);
    ok(rc == 0 && c.n == 3 && c.points[0].lat == 45 && c.points[0].lon == 7
       && !c.has_ele, "a LineString, [lon, lat]: %s", rc ? err : "read");

    if (rc == 0) {
        race_course_free(&c);
    }

    rc = t_parse(&c, " {\"type\":\"Feature\",\"properties\":{},\"geometry\":"
                 "{\"type\":\"LineString\",\"coordinates\":"
                 "[[7,45,100],[7.1,45.05,150.25],[7,46,90]]}}", 1, err);
    ok(rc == 0 && c.n == 3 && c.has_ele && c.points[1].ele == 150.3,
       "a Feature of one, [lon, lat, ele], ele to 0.1 m: %s",
       rc ? err : "read");

    if (rc == 0) {
        race_course_free(&c);
    }

    rc = t_parse(&c, "{\"type\":\"FeatureCollection\",\"features\":["
                 "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\","
                 "\"coordinates\":[7,45]}},"
                 "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\","
                 "\"coordinates\":[[7,45,1],[7.1,45.05],[7,46,3]]}}]}", 1,
                 err);
    ok(rc == 0 && c.n == 3 && !c.has_ele,
       "a FeatureCollection with one LineString, a position without "
       "elevation: %s", rc ? err : "read");

    if (rc == 0) {
        race_course_free(&c);
    }

#define T_FC2  "{\"type\":\"FeatureCollection\",\"features\":[" \
               "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\"," \
               "\"coordinates\":[[7,45],[7,46]]}}," \
               "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\"," \
               "\"coordinates\":[[7,45],[7,46]]}}]}"

    t_fails(T_FC2, strlen(T_FC2), 1, "not GeoJSON: the FeatureCollection "
            "has 2 LineStrings, exactly one is needed", "two LineStrings");

#define T_POLY "{\"type\":\"Polygon\",\"coordinates\":[]}"

    t_fails(T_POLY, strlen(T_POLY), 1, "not GeoJSON: the type is "
            "\"Polygon\"", "a Polygon");

#define T_BADJ "{\"type\":\"LineString\",\"coordinates\":[[7,45],[7,46]"

    t_fails(T_BADJ, strlen(T_BADJ), 1, "not GeoJSON: ", "cut JSON");

#define T_POS  "{\"type\":\"LineString\",\"coordinates\":[[7,45],[7]]}"

    t_fails(T_POS, strlen(T_POS), 1, "point 2: a position is [lon, lat] or "
            "[lon, lat, ele]", "a short position");

#define T_LAT  "{\"type\":\"LineString\",\"coordinates\":[[7,45],[7,95]]}"

    t_fails(T_LAT, strlen(T_LAT), 1, "point 2: coordinates out of range",
            "lat 95 in GeoJSON");

#define T_EMPTY "{\"type\":\"LineString\",\"coordinates\":[]}"

    t_fails(T_EMPTY, strlen(T_EMPTY), 1, "no points", "no coordinates");
}


static void
test_errors(void)
{
    int      i;
    char    *big;
    size_t   len;
    t_buf_t  b;

#define T_F(s, laps, want, what)  t_fails(s, sizeof(s) - 1, laps, want, what)

    T_F("<gpx><trk>", 1, "not XML: ", "cut XML");
    T_F("<gpx><trk></gpx>", 1, "not XML: mismatched tag at line 1",
        "mismatched tags");
    T_F("<gpx>\n\n<rte>&nbsp;</rte></gpx>", 1,
        "not XML: undefined entity at line 3", "an undefined entity");
    T_F("<kml xmlns=\"http://www.opengis.net/kml/2.2\"><Document/></kml>", 1,
        "not GPX: the root element is <http://www.opengis.net/kml/2.2 kml>",
        "KML");
    T_F("<html><body/></html>", 1, "not GPX: the root element is <html>",
        "HTML");
    T_F(T_GPX_HEAD "<wpt lat=\"1\" lon=\"1\"/></gpx>", 1,
        "no points: the GPX has no track or route points", "waypoints only");
    T_F("", 1, "no points: the file is empty", "an empty file");
    T_F(" \r\n", 1, "no points: the file is empty", "blanks only");
    T_F(T_GPX_HEAD "<trk><trkseg><trkpt lat=\"45\" lon=\"7\"/>"
        "<trkpt lat=\"45\" lon=\"181\"/></trkseg></trk></gpx>", 1,
        "point 2: coordinates out of range: lat 45, lon 181", "lon 181");
    T_F(T_GPX_HEAD "<trk><trkseg><trkpt lat=\"45\" lon=\"7\"/>"
        "<trkpt lat=\"north\" lon=\"7\"/></trkseg></trk></gpx>", 1,
        "point 2: lat \"north\" is not a number", "lat not a number");
    T_F(T_GPX_HEAD "<trk><trkseg><trkpt lat=\"45\" lon=\"7\"/>"
        "<trkpt lat=\"46\" lon=\"inf\"/></trkseg></trk></gpx>", 1,
        "point 2: lon \"inf\" is not a number", "lon inf");
    T_F(T_GPX_HEAD "<trk><trkseg><trkpt lat=\"45\"/>"
        "</trkseg></trk></gpx>", 1, "point 1: no lon", "no lon");
    T_F(T_GPX_HEAD "<trk><trkseg><trkpt lat=\"45\" lon=\"7\"><ele>high</ele>"
        "</trkpt></trkseg></trk></gpx>", 1,
        "point 1: ele \"high\" is not a number", "ele not a number");
    T_F(T_GPX_HEAD "<trk><trkseg><trkpt lat=\"45\" lon=\"7\"/>"
        "<trkpt lat=\"45\" lon=\"7\"/></trkseg></trk></gpx>", 1,
        "the course needs at least two distinct points", "one place");
    T_F(T_GPX_HEAD "<trk><trkseg><trkpt lat=\"45\" lon=\"7\"/>"
        "<trkpt lat=\"46\" lon=\"7\"/></trkseg></trk></gpx>", 3,
        "laps given for an open course: its ends are 111195 m apart",
        "laps on an open course");
    T_F(T_GPX_HEAD "<trk><trkseg><trkpt lat=\"45\" lon=\"7\"/>"
        "<trkpt lat=\"46\" lon=\"7\"/></trkseg></trk></gpx>", 0,
        "laps must be 1 to 100", "0 laps");
    T_F("{\"type\":\"LineString\",\"coordinates\":[[7,6],[7.6,45.01],"
        "[7.61,90],[7,6]]}", 9,
        "the course is 168130 km long, over the limit of 10000 km",
        "a loop over the poles, 9 laps");
    T_F("[1,2]", 1, "not GeoJSON: an object with a \"type\" is needed",
        "a JSON array");
    T_F("hello", 1, "not GeoJSON: ", "text");

    /* too many points: 200,001 */

    t_open(&b);
    fprintf(b.f, "<gpx><rte>");

    for (i = 0; i <= RACE_COURSE_INPUT_POINTS; i++) {
        fprintf(b.f, "<rtept lat=\"%d\" lon=\"1\"/>", i % 80);
    }

    fprintf(b.f, "</rte></gpx>");
    t_close(&b);

    t_fails(b.p, b.len, 1, "too many points: 200001 over the limit of 200000",
            "200,001 points");
    free(b.p);

    /* 7.8 MB of tiny positions: refused before jansson reads them */

    t_open(&b);
    fprintf(b.f, "{\"type\":\"LineString\",\"coordinates\":[");

    for (i = 0; i < 1300000; i++) {
        fprintf(b.f, "[0,0],");
    }

    fprintf(b.f, "[0,0]]}");
    t_close(&b);

    t_fails(b.p, b.len, 1, "too large: over 1200000 JSON values (the limit "
            "is 200000 points)", "1,300,000 GeoJSON positions");
    free(b.p);

    /* too large: one byte over 8 MiB, refused before it is read */

    len = RACE_COURSE_INPUT_MAX + 1;
    big = malloc(len);
    memset(big, ' ', len);
    big[0] = '<';

    t_fails(big, len, 1, "too large: the file has 8388609 bytes, over the "
            "limit of 8388608", "8 MiB + 1");
    free(big);
}


static void
test_attacks(void)
{
    int      i;
    t_buf_t  b;

    /* external entity: would read a file */

    T_F("<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE gpx [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
        "<gpx><trk><name>&xxe;</name><trkseg><trkpt lat=\"1\" lon=\"1\"/>"
        "<trkpt lat=\"2\" lon=\"1\"/></trkseg></trk></gpx>", 1,
        "not GPX: a DOCTYPE is not allowed", "an external entity (XXE)");

    /* an external DTD and parameter entities */

    T_F("<!DOCTYPE gpx SYSTEM \"http://127.0.0.1:1/x.dtd\"><gpx/>", 1,
        "not GPX: a DOCTYPE is not allowed", "an external DTD");
    T_F("<!DOCTYPE gpx [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>"
        "<gpx/>", 1, "not GPX: a DOCTYPE is not allowed",
        "a parameter entity");

    /* billion laughs: 10^9 "lol" from 1 kB */

    t_open(&b);
    fprintf(b.f, "<?xml version=\"1.0\"?>\n<!DOCTYPE gpx [\n"
            "<!ENTITY lol \"lol\">\n");

    for (i = 1; i <= 9; i++) {
        fprintf(b.f, "<!ENTITY lol%d \"", i);
        fprintf(b.f, i == 1 ? "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"
                              "&lol;&lol;"
                            : "&lol%d;&lol%d;&lol%d;&lol%d;&lol%d;&lol%d;"
                              "&lol%d;&lol%d;&lol%d;&lol%d;",
                i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
                i - 1, i - 1);
        fprintf(b.f, "\">\n");
    }

    fprintf(b.f, "]>\n<gpx><trk><name>&lol9;</name></trk></gpx>\n");
    t_close(&b);

    t_fails(b.p, b.len, 1, "not GPX: a DOCTYPE is not allowed",
            "billion laughs");
    free(b.p);

    /* a depth bomb: 100,000 nested elements */

    t_open(&b);
    fprintf(b.f, "<gpx>");

    for (i = 0; i < 100000; i++) {
        fprintf(b.f, "<a>");
    }

    t_close(&b);

    t_fails(b.p, b.len, 1, "not GPX: elements nested deeper than 32",
            "a depth bomb");
    free(b.p);

    /* 31 levels of extensions in a point are fine */

    t_open(&b);
    fprintf(b.f, "<gpx><rte><rtept lat=\"1\" lon=\"1\">");

    for (i = 0; i < 29; i++) {
        fprintf(b.f, "<e>");
    }

    for (i = 0; i < 29; i++) {
        fprintf(b.f, "</e>");
    }

    fprintf(b.f, "</rtept><rtept lat=\"2\" lon=\"1\"/></rte></gpx>");
    t_close(&b);

    {
        char           err[RACE_COURSE_ERR_MAX];
        race_course_t  c;

        ok(t_parse(&c, b.p, 1, err) == 0, "32 levels deep: %s", err);
        race_course_free(&c);
    }

    free(b.p);
}


/*
 * 200,000 points a metre apart on a winding road (a bend of 127 m
 * radius every 250 m): at most 20,000 points left, the length within
 * 0.1 %.  In GPX (7 decimals and no blanks fit 8 MiB), then in GeoJSON
 * with a climb and a descent, whose summit stays.
 */

static void
test_dense(void)
{
    int            rc, gpx;
    char           err[RACE_COURSE_ERR_MAX];
    size_t         i, n, top;
    double        *lat, *lon, *ele, x, y, len, ms, best;
    t_buf_t        b;
    clock_t        t0;
    race_course_t  c;

    n = RACE_COURSE_INPUT_POINTS;
    lat = malloc(n * sizeof(double));
    lon = malloc(n * sizeof(double));
    ele = malloc(n * sizeof(double));

    for (i = 0; i < n; i++) {
        x = (double) i;
        y = 50.0 * sin(2 * M_PI * x / 500.0);
        lat[i] = round((45.0 + y / T_DEG_M) * 1e7) / 1e7;
        lon[i] = round((7.0 + x / (T_DEG_M * cos(45.0 * M_PI / 180)))
                       * 1e7) / 1e7;
        ele[i] = round((500.0 + 100.0 * sin(2 * M_PI * x / 20000.0)) * 10)
                 / 10;
    }

    len = t_sum(lat, lon, n);

    for (gpx = 1; gpx >= 0; gpx--) {
        t_open(&b);

        if (gpx) {
            fprintf(b.f, T_GPX_HEAD "<trk><trkseg>");

            for (i = 0; i < n; i++) {
                fprintf(b.f, "<trkpt lat=\"%.7f\" lon=\"%.7f\"/>", lat[i],
                        lon[i]);
            }

            fprintf(b.f, "</trkseg></trk></gpx>\n");

        } else {
            fprintf(b.f, "{\"type\":\"LineString\",\"coordinates\":[");

            for (i = 0; i < n; i++) {
                fprintf(b.f, "%s[%.7f,%.7f,%.1f]", i ? "," : "", lon[i],
                        lat[i], ele[i]);
            }

            fprintf(b.f, "]}");
        }

        t_close(&b);

        t0 = clock();
        rc = race_course_parse(&c, b.p, b.len, 1, err, sizeof(err));
        ms = (double) (clock() - t0) * 1000.0 / CLOCKS_PER_SEC;

        ok(rc == 0, "200,000 dense points in %s: %s", gpx ? "GPX" : "GeoJSON",
           rc ? err : "parsed");
        diag("%zu bytes read and simplified in %.0f ms (sanitizers on)",
             b.len, ms);
        free(b.p);

        if (rc != 0) {
            continue;
        }

        ok(c.n <= RACE_COURSE_POINTS_MAX, "%zu points left", c.n);
        ok(fabs(c.length - len) <= RACE_COURSE_SIMPLIFY_MAX * len,
           "length %.1f m, was %.1f m: %.4f %%", c.length, len,
           100 * fabs(c.length - len) / len);

        if (!gpx) {
            ok(c.has_ele, "elevations kept");

            /* the summit at 5 km (600 m) is kept, within 0.1 m */

            best = 0.0;
            top = 0;

            for (i = 0; i < c.n; i++) {
                if (c.points[i].ele > best) {
                    best = c.points[i].ele;
                    top = i;
                }
            }

            ok(best >= 599.9, "the summit kept: %.1f m at %.0f m", best,
               c.points[top].dist);
        }

        race_course_free(&c);
    }

    free(lat);
    free(lon);
    free(ele);
}


/*
 * GPS noise of a metre on points a metre apart makes a course far
 * longer than its road: no 20,000 of them keep its length within
 * 0.1 %, and the file is refused rather than changed.
 */

static void
test_noisy(void)
{
    int            rc;
    char           err[RACE_COURSE_ERR_MAX];
    size_t         i, n;
    double        *lat, *lon;
    race_course_t  c;

    n = 100000;
    lat = malloc(n * sizeof(double));
    lon = malloc(n * sizeof(double));
    srand(7);

    for (i = 0; i < n; i++) {
        lat[i] = 45.0 + (i + (rand() % 200 - 100) / 100.0) / T_DEG_M;
        lon[i] = 7.0 + (rand() % 200 - 100) / 100.0 / T_DEG_M;
    }

    {
        t_buf_t  b;

        t_open(&b);
        fprintf(b.f, "{\"type\":\"LineString\",\"coordinates\":[");

        for (i = 0; i < n; i++) {
            fprintf(b.f, "%s[%.7f,%.7f]", i ? "," : "", lon[i], lat[i]);
        }

        fprintf(b.f, "]}");
        t_close(&b);

        rc = race_course_parse(&c, b.p, b.len, 1, err, sizeof(err));
        ok(rc == -1 && strncmp(err, "too many points: ", 17) == 0
           && strstr(err, "left after simplifying, over the limit of 20000")
              != NULL, "noise everywhere: %s", err);

        if (rc == 0) {
            race_course_free(&c);
        }

        free(b.p);
    }

    free(lat);
    free(lon);
}


static void
test_elevation(void)
{
    int            rc;
    char           err[RACE_COURSE_ERR_MAX];
    race_course_t  c;

    /* a straight road over a 5 m hump: the top stays */

    rc = t_parse(&c, "<gpx><rte>"
                 "<rtept lat=\"45\" lon=\"7\"><ele>100</ele></rtept>"
                 "<rtept lat=\"45.001\" lon=\"7\"><ele>102</ele></rtept>"
                 "<rtept lat=\"45.002\" lon=\"7\"><ele>105</ele></rtept>"
                 "<rtept lat=\"45.003\" lon=\"7\"><ele>102.5</ele></rtept>"
                 "<rtept lat=\"45.004\" lon=\"7\"><ele>100</ele></rtept>"
                 "</rte></gpx>", 1, err);
    ok(rc == 0 && c.n == 3 && c.points[1].ele == 105,
       "a summit on a straight road kept, its slopes not: %zu points",
       rc ? 0 : c.n);

    if (rc == 0) {
        race_course_free(&c);
    }

    rc = t_parse(&c, "<gpx><rte>"
                 "<rtept lat=\"45\" lon=\"7\"><ele>100</ele></rtept>"
                 "<rtept lat=\"46\" lon=\"7\"><ele>9100</ele></rtept>"
                 "</rte></gpx>", 1, err);
    ok(rc == -1 && strcmp(err, "point 2: elevation out of range") == 0,
       "ele 9100: %s", err);
}


static void
test_codec(void)
{
    int                       rc, same;
    char                      err[RACE_COURSE_ERR_MAX], *s, *s2;
    size_t                    i;
    race_course_t             c, d;
    race_course_checkpoint_t  cp[2];

    rc = t_parse(&c, "<gpx><trk><trkseg>"
                 "<trkpt lat=\"45.123456789\" lon=\"7.5\"><ele>1.26</ele>"
                 "</trkpt>"
                 "<trkpt lat=\"45.13\" lon=\"7.51\"><ele>3</ele></trkpt>"
                 "<trkpt lat=\"45.12\" lon=\"7.52\"><ele>-2.5</ele></trkpt>"
                 "<trkpt lat=\"45.1234566\" lon=\"7.5000004\"><ele>1.2</ele>"
                 "</trkpt></trkseg></trk></gpx>", 2, err);
    ok(rc == 0, "a loop of 2 laps: %s", rc ? err : "parsed");

    if (rc != 0) {
        return;
    }

    ok(c.points[0].lat == 45.1234568 && c.points[0].ele == 1.3,
       "rounded to 7 decimals and 0.1 m");

    strcpy(cp[0].name, "Col \"du\" \\ Mont");
    cp[0].dist = 1500.04;
    strcpy(cp[1].name, "Lap 1 \xc3\xa9");
    cp[1].dist = c.lap_length;

    rc = race_course_set_checkpoints(&c, cp, 2, err, sizeof(err));
    ok(rc == 0, "checkpoints: %s", rc ? err : "set");

    s = race_course_encode(&c);
    ok(s != NULL && strncmp(s, "{\"laps\":2,\"points\":[[45.1234568,7.5,"
                            "1.3],[45.13,7.51,3],", 36 + 13) == 0,
       "encoded: %.80s", s);
    ok(s && strstr(s, "\"checkpoints\":[{\"name\":\"Col \\\"du\\\" \\\\ "
                   "Mont\",\"dist_m\":1500}") != NULL, "its checkpoints");

    rc = race_course_decode(&d, s, strlen(s), err, sizeof(err));
    ok(rc == 0, "decoded: %s", rc ? err : "ok");

    if (rc == 0) {
        same = (d.n == c.n && d.lap_n == c.lap_n && d.laps == c.laps
                && d.closed == c.closed && d.has_ele == c.has_ele
                && d.length == c.length && d.lap_length == c.lap_length
                && d.ncheckpoints == 2);

        for (i = 0; same && i < c.n; i++) {
            same = memcmp(&c.points[i], &d.points[i],
                          sizeof(race_course_point_t)) == 0;
        }

        for (i = 0; same && i < c.ncheckpoints; i++) {
            same = strcmp(c.checkpoints[i].name, d.checkpoints[i].name) == 0
                   && c.checkpoints[i].dist == d.checkpoints[i].dist;
        }

        ok(same, "the same course back, to the bit");

        s2 = race_course_encode(&d);
        is_str(s2, s, "encoded again, the same text");
        free(s2);
        race_course_free(&d);
    }

    free(s);
    race_course_free(&c);

    /* what decode refuses */

#define T_D(j, want, what)                                                   \
    do {                                                                     \
        err[0] = '\0';                                                       \
        rc = race_course_decode(&d, j, sizeof(j) - 1, err, sizeof(err));     \
        ok(rc == -1 && strncmp(err, want, strlen(want)) == 0, "%s: %s",      \
           what, err);                                                       \
        if (rc == 0) {                                                       \
            race_course_free(&d);                                            \
        }                                                                    \
    } while (0)

    T_D("{\"laps\":1,\"points\":[[45,7],[46,7]]", "not a course: ", "cut");
    T_D("{\"points\":[[45,7],[46,7]]}", "not a course: \"laps\" 1 to 100",
        "no laps");
    T_D("{\"laps\":0,\"points\":[[45,7],[46,7]]}", "not a course: ", "laps 0");
    T_D("{\"laps\":2,\"points\":[[45,7],[46,7]]}",
        "laps given for an open course", "laps on an open course");
    T_D("{\"laps\":1,\"points\":[[45,7],[46]]}",
        "not a course: point 2 is not [lat, lon] or [lat, lon, ele]",
        "a short point");
    T_D("{\"laps\":1,\"points\":[[45,7],[95,7]]}",
        "point 2: coordinates out of range", "lat 95");
    T_D("{\"laps\":1,\"points\":[[45,7],[46,7]],\"checkpoints\":"
        "[{\"name\":\"a\",\"dist_m\":200000}]}",
        "checkpoint 1: its distance 200000.0 m is not inside the course",
        "a checkpoint past the finish");
    T_D("{\"laps\":1,\"points\":[[45,7],[46,7]],\"checkpoints\":"
        "[{\"name\":\"a\\u0000b\",\"dist_m\":2000}]}",
        "not a course: ", "a NUL in a name");

    rc = race_course_decode(&d, "{\"laps\":1,\"points\":[[45,7],[46,7,5]]}",
                            37, err, sizeof(err));
    ok(rc == 0 && !d.has_ele && d.n == 2, "one point without elevation: "
       "none");

    if (rc == 0) {
        race_course_free(&d);
    }
}


static void
test_checkpoints(void)
{
    int                       rc;
    char                      err[RACE_COURSE_ERR_MAX];
    size_t                    i;
    race_course_t             c;
    race_course_checkpoint_t  cp[RACE_COURSE_CHECKPOINTS_MAX + 1];

    static const double  lat[] = { 45.0, 46.0 };
    static const double  lon[] = { 7.0, 7.0 };

    rc = race_course_from_points(&c, lat, lon, NULL, 2, 1, err, sizeof(err));

    if (!ok(rc == 0, "a course of 111 km")) {
        return;
    }

    memset(cp, 0, sizeof(cp));
    strcpy(cp[0].name, "Top");
    cp[0].dist = 80000;
    strcpy(cp[1].name, "Feed");
    cp[1].dist = 40000.06;

    rc = race_course_set_checkpoints(&c, cp, 2, err, sizeof(err));
    ok(rc == 0 && c.ncheckpoints == 2
       && strcmp(c.checkpoints[0].name, "Feed") == 0
       && c.checkpoints[0].dist == 40000.1 && c.checkpoints[1].dist == 80000,
       "sorted by distance, to 0.1 m");

#define T_CP(n, want, what)                                                  \
    do {                                                                     \
        err[0] = '\0';                                                       \
        rc = race_course_set_checkpoints(&c, cp, n, err, sizeof(err));       \
        ok(rc == -1 && strcmp(err, want) == 0 && c.ncheckpoints == 2,        \
           "%s: %s", what, err);                                             \
    } while (0)

    cp[1].dist = 0;
    T_CP(2, "checkpoint 2: its distance 0.0 m is not inside the course "
         "(0 to 111195.1 m)", "at the start");
    cp[1].dist = c.length;
    T_CP(2, "checkpoint 2: its distance 111195.1 m is not inside the course "
         "(0 to 111195.1 m)", "at the finish");
    cp[1].dist = NAN;
    T_CP(2, "checkpoint 2: its distance 0.0 m is not inside the course "
         "(0 to 111195.1 m)", "NaN");
    cp[1].dist = 80000.01;
    T_CP(2, "checkpoints 1 and 2 are at the same distance, 80000.0 m",
         "two at one place");
    cp[1].dist = 1000;
    strcpy(cp[1].name, "Top");
    T_CP(2, "checkpoints 1 and 2 have the same name", "one name twice");
    cp[1].name[0] = '\0';
    T_CP(2, "checkpoint 2: it needs a name", "no name");
    memset(cp[1].name, 'a', sizeof(cp[1].name));
    T_CP(2, "checkpoint 2: its name is over 64 bytes", "65 bytes");
    strcpy(cp[1].name, "caf\xc3");
    T_CP(2, "checkpoint 2: its name is not UTF-8", "cut UTF-8");
    strcpy(cp[1].name, "a\tb");
    T_CP(2, "checkpoint 2: its name has a control character", "a tab");

    for (i = 0; i <= RACE_COURSE_CHECKPOINTS_MAX; i++) {
        snprintf(cp[i].name, sizeof(cp[i].name), "cp%zu", i);
        cp[i].dist = 1000.0 * (i + 1);
    }

    T_CP(RACE_COURSE_CHECKPOINTS_MAX + 1, "too many checkpoints: 65 over "
         "the limit of 64", "65 of them");

    memset(cp[5].name, 'b', RACE_COURSE_NAME_MAX);
    cp[5].name[RACE_COURSE_NAME_MAX] = '\0';
    rc = race_course_set_checkpoints(&c, cp, RACE_COURSE_CHECKPOINTS_MAX,
                                     err, sizeof(err));
    ok(rc == 0 && c.ncheckpoints == 64, "64 of them, a name of 64 bytes");

    rc = race_course_set_checkpoints(&c, cp, 0, err, sizeof(err));
    ok(rc == 0 && c.ncheckpoints == 0, "none");

    race_course_free(&c);
}


static void
test_outputs(void)
{
    int            rc;
    char           err[RACE_COURSE_ERR_MAX], *s;
    json_t        *j, *coords;
    json_error_t   e;
    race_course_t  c;

    race_course_checkpoint_t  cp = { "Feed", 1000.0 };

    rc = t_parse(&c, "{\"type\":\"LineString\",\"coordinates\":"
                 "[[7,45,100],[7.01,45,120.5],[7.01,45.01,90],[7,45,100]]}",
                 2, err);

    if (!ok(rc == 0, "a loop for the outputs: %s", rc ? err : "ok")) {
        return;
    }

    race_course_set_checkpoints(&c, &cp, 1, err, sizeof(err));

    s = race_course_summary(&c);
    j = s ? json_loads(s, 0, &e) : NULL;
    ok(j != NULL, "summary: %s", s);
    ok(json_integer_value(json_object_get(j, "laps")) == 2
       && json_integer_value(json_object_get(j, "points")) == 4
       && json_is_true(json_object_get(j, "ele"))
       && fabs(json_number_value(json_object_get(j, "length_m"))
               - c.length) <= 0.05
       && fabs(json_number_value(json_object_get(j, "lap_length_m"))
               - c.lap_length) <= 0.05,
       "laps, points, ele, lengths to 0.1 m");
    ok(strstr(s, "\"bbox\":[7,45,7.01,45.01],\"checkpoints\":[{\"name\":"
              "\"Feed\",\"dist_m\":1000}]}") != NULL, "bbox, checkpoints");
    json_decref(j);
    free(s);

    s = race_course_geojson(&c);
    j = s ? json_loads(s, 0, &e) : NULL;
    coords = json_object_get(json_object_get(j, "geometry"), "coordinates");
    ok(j != NULL && json_array_size(coords) == 4
       && strcmp(json_string_value(json_object_get(j, "type")), "Feature")
          == 0, "GeoJSON: a Feature of one lap");
    ok(s && strstr(s, "[[7,45,100],[7.01,45,120.5],[7.01,45.01,90],"
                   "[7,45,100]]") != NULL, "[lon, lat, ele]: %s", s);
    json_decref(j);

    /* and it reads back as a course */

    race_course_free(&c);
    rc = t_parse(&c, s, 1, err);
    ok(rc == 0 && c.lap_n == 4, "the GeoJSON read back");
    free(s);

    if (rc == 0) {
        race_course_free(&c);
    }
}
