
/*
 * ngx_race: a race's course, its points and its geometry; a file made
 * a course (the readers are race_course_read.c, the simplification
 * race_course_simplify.c); its compact JSON, summary and GeoJSON.
 *
 * Coordinates are rounded to 7 decimals of a degree (1 cm) and
 * elevations to 0.1 m, checkpoints' distances to 0.1 m, when a course
 * is made: what the JSON forms write then reads back as the same
 * doubles, so a course encoded and decoded is the same course.
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_course_int.h"
#include "race_json.h"
#include "race_utf8.h"


#define RACE_GEO_EARTH_M   6371008.8       /* mean radius, IUGG */
#define RACE_GEO_RAD       (M_PI / 180.0)

/* a point whose removal changes less than this (metres) has no shape */
#define RACE_COURSE_SHAPE_M      0.01

/* a point this close (metres) to the one before is the same place */
#define RACE_COURSE_SAME_M       0.001

/* tries of the simplification, each with a quarter of the budget */
#define RACE_COURSE_SIMPLIFY_TRIES  8


typedef struct {
    char                   *p;
    size_t                  len;
    size_t                  cap;
    unsigned                nomem:1;
} race_course_buf_t;


static int race_course_coord_valid(double lat, double lon);
static double race_course_round(double v, double scale);
static int race_course_build(race_course_t *c, race_course_raw_t *raw,
    unsigned laps, char *err, size_t size);
static double race_course_length(const double *lat, const double *lon,
    const uint8_t *keep, size_t n);
static int race_course_cmp_dist(const void *a, const void *b);
static void race_course_bbox(const race_course_t *c, double *bbox);
static void race_course_buf_add(race_course_buf_t *b, const char *s,
    size_t n);
static void race_course_buf_cstr(race_course_buf_t *b, const char *s);
static void race_course_buf_num(race_course_buf_t *b, double v);
static void race_course_buf_str(race_course_buf_t *b, const char *s);
static void race_course_buf_checkpoints(race_course_buf_t *b,
    const race_course_t *c);
static char *race_course_buf_done(race_course_buf_t *b);


double
race_geo_distance(double lat1, double lon1, double lat2, double lon2)
{
    double  dlat, dlon, a;

    dlat = (lat2 - lat1) * RACE_GEO_RAD;
    dlon = (lon2 - lon1) * RACE_GEO_RAD;

    a = sin(dlat / 2) * sin(dlat / 2)
        + cos(lat1 * RACE_GEO_RAD) * cos(lat2 * RACE_GEO_RAD)
          * sin(dlon / 2) * sin(dlon / 2);

    if (a > 1.0) {
        a = 1.0;
    }

    return 2 * RACE_GEO_EARTH_M * asin(sqrt(a));
}


double
race_geo_bearing(double lat1, double lon1, double lat2, double lon2)
{
    double  y, x, b;

    lat1 *= RACE_GEO_RAD;
    lat2 *= RACE_GEO_RAD;

    y = sin((lon2 - lon1) * RACE_GEO_RAD) * cos(lat2);
    x = cos(lat1) * sin(lat2)
        - sin(lat1) * cos(lat2) * cos((lon2 - lon1) * RACE_GEO_RAD);

    b = atan2(y, x) / RACE_GEO_RAD;

    if (b < 0) {
        b += 360.0;
    }

    return b >= 360.0 ? 0.0 : b;
}


int
race_course_from_points(race_course_t *c, const double *lat,
    const double *lon, const double *ele, size_t n, unsigned laps,
    char *err, size_t size)
{
    size_t                i, m, lap, k;
    double                d, la, lo, lap_length;
    race_course_point_t  *one, *p;

    memset(c, 0, sizeof(race_course_t));

    if (laps < 1 || laps > RACE_COURSE_LAPS_MAX) {
        snprintf(err, size, "laps must be 1 to %d", RACE_COURSE_LAPS_MAX);
        return -1;
    }

    if (n > RACE_COURSE_POINTS_MAX) {
        snprintf(err, size, "the course has %zu points, over the limit "
                 "of %d", n, RACE_COURSE_POINTS_MAX);
        return -1;
    }

    c->has_ele = (ele != NULL);

    for (i = 0; i < n; i++) {
        if (!race_course_coord_valid(lat[i], lon[i])) {
            snprintf(err, size, "point %zu: coordinates out of range", i + 1);
            return -1;
        }

        if (ele == NULL) {
            continue;
        }

        if (!isfinite(ele[i])) {
            c->has_ele = 0;     /* all elevations, or none */

        } else if (ele[i] < -500 || ele[i] > 9000) {
            snprintf(err, size, "point %zu: elevation out of range", i + 1);
            return -1;
        }
    }

    one = malloc((n ? n : 1) * sizeof(race_course_point_t));
    if (one == NULL) {
        snprintf(err, size, "out of memory");
        return -1;
    }

    /*
     * One lap, rounded; points that are the same place as the one
     * before (within 1 mm: equal, or at a pole) dropped; distances
     * along it.
     */

    m = 0;

    for (i = 0; i < n; i++) {
        la = race_course_round(lat[i], 1e7);
        lo = race_course_round(lon[i], 1e7);
        d = m ? race_geo_distance(one[m - 1].lat, one[m - 1].lon, la, lo)
              : 0.0;

        if (m > 0 && d < RACE_COURSE_SAME_M) {
            continue;
        }

        one[m].lat = la;
        one[m].lon = lo;
        one[m].ele = c->has_ele ? race_course_round(ele[i], 10.0) : NAN;
        one[m].dist = m ? one[m - 1].dist + d : 0.0;
        m++;
    }

    if (m < 2) {
        free(one);
        snprintf(err, size, "the course needs at least two distinct points");
        return -1;
    }

    d = race_geo_distance(one[0].lat, one[0].lon, one[m - 1].lat,
                          one[m - 1].lon);
    c->closed = (d <= RACE_COURSE_CLOSED_M);

    if (d < RACE_COURSE_SAME_M) {
        d = 0.0;                /* the end is the start */
    }

    if (laps > 1 && !c->closed) {
        free(one);
        snprintf(err, size, "laps given for an open course: its ends are "
                 "%.0f m apart", d);
        return -1;
    }

    /*
     * The laps unrolled: a loop whose ends do not quite meet gets the
     * gap from its end back to its start at each new lap.
     */

    lap_length = one[m - 1].dist
                 + (laps > 1 ? d : 0.0);

    /* what every side takes: the worker, the standings, the results */
    if (lap_length * laps > RACE_COURSE_LENGTH_MAX) {
        free(one);
        snprintf(err, size, "the course is %.0f km long, over the limit "
                 "of %.0f km", lap_length * laps / 1000,
                 RACE_COURSE_LENGTH_MAX / 1000);
        return -1;
    }

    c->points = malloc(m * laps * sizeof(race_course_point_t));
    if (c->points == NULL) {
        free(one);
        snprintf(err, size, "out of memory");
        return -1;
    }

    k = 0;

    for (lap = 0; lap < laps; lap++) {
        for (i = 0; i < m; i++) {
            if (lap > 0 && i == 0 && d == 0.0) {
                continue;       /* the end of the last lap is this start */
            }

            p = &c->points[k++];
            *p = one[i];
            p->dist = one[i].dist + lap * lap_length;
        }
    }

    free(one);

    c->n = k;
    c->lap_n = m;
    c->laps = laps;
    c->lap_length = lap_length;
    c->length = c->points[k - 1].dist;

    return 0;
}


void
race_course_free(race_course_t *c)
{
    free(c->points);
    memset(c, 0, sizeof(race_course_t));
}


int
race_course_parse(race_course_t *c, const char *data, size_t len,
    unsigned laps, char *err, size_t size)
{
    int                 rc;
    size_t              i;
    const uint8_t      *p;
    race_course_raw_t   raw;

    memset(c, 0, sizeof(race_course_t));

    if (laps < 1 || laps > RACE_COURSE_LAPS_MAX) {
        snprintf(err, size, "laps must be 1 to %d", RACE_COURSE_LAPS_MAX);
        return -1;
    }

    if (len > RACE_COURSE_INPUT_MAX) {
        snprintf(err, size, "too large: the file has %zu bytes, over the "
                 "limit of %d", len, RACE_COURSE_INPUT_MAX);
        return -1;
    }

    p = (const uint8_t *) data;

    /* XML in UTF-16, or a byte order mark and blanks before the text */

    if (len >= 2 && ((p[0] == 0xff && p[1] == 0xfe)
                     || (p[0] == 0xfe && p[1] == 0xff)))
    {
        rc = race_course_read_gpx(&raw, data, len, err, size);

    } else {
        i = (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) ? 3
                                                                      : 0;

        while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'
                           || p[i] == '\n'))
        {
            i++;
        }

        if (i == len) {
            snprintf(err, size, "no points: the file is empty");
            return -1;
        }

        if (p[i] == '<') {
            rc = race_course_read_gpx(&raw, data + i, len - i, err, size);

        } else {
            rc = race_course_read_geojson(&raw, data + i, len - i, err,
                                          size);
        }
    }

    if (rc != 0) {
        return -1;
    }

    rc = race_course_build(c, &raw, laps, err, size);

    race_course_raw_free(&raw);

    return rc;
}


/*
 * A file's points made a course: rounded as from_points() does,
 * repeats dropped, then simplified until the length measured on the
 * sphere is within RACE_COURSE_SIMPLIFY_MAX of the file's.
 */

static int
race_course_build(race_course_t *c, race_course_raw_t *raw, unsigned laps,
    char *err, size_t size)
{
    int       rc, all_ele;
    size_t    i, n, m, kept, try;
    double    la, lo, d, total, budget, len;
    uint8_t  *keep;

    all_ele = 1;
    m = 0;

    for (i = 0; i < raw->n; i++) {
        la = race_course_round(raw->lat[i], 1e7);
        lo = race_course_round(raw->lon[i], 1e7);

        if (!isfinite(raw->ele[i])) {
            all_ele = 0;
        }

        if (m > 0
            && race_geo_distance(raw->lat[m - 1], raw->lon[m - 1], la, lo)
               < RACE_COURSE_SAME_M)
        {
            continue;
        }

        raw->lat[m] = la;
        raw->lon[m] = lo;
        raw->ele[m] = isfinite(raw->ele[i]) ? race_course_round(raw->ele[i],
                                                                10.0)
                                            : NAN;
        m++;
    }

    if (m < 2) {
        snprintf(err, size, "the course needs at least two distinct points");
        return -1;
    }

    d = race_geo_distance(raw->lat[0], raw->lon[0], raw->lat[m - 1],
                          raw->lon[m - 1]);

    if (laps > 1 && d > RACE_COURSE_CLOSED_M) {
        snprintf(err, size, "laps given for an open course: its ends are "
                 "%.0f m apart", d);
        return -1;
    }

    keep = malloc(m);
    if (keep == NULL) {
        snprintf(err, size, "out of memory");
        return -1;
    }

    memset(keep, 1, m);
    total = race_course_length(raw->lat, raw->lon, keep, m);

    /*
     * The budget starts below the limit, as the simplification measures
     * on planes; each try that still misses on the sphere gets less.
     */

    budget = 0.9 * RACE_COURSE_SIMPLIFY_MAX * total;
    kept = m;
    rc = -1;

    for (try = 0; try < RACE_COURSE_SIMPLIFY_TRIES; try++) {
        if (race_course_simplify(raw->lat, raw->lon, all_ele ? raw->ele : NULL,
                                 m, RACE_COURSE_POINTS_MAX,
                                 RACE_COURSE_SHAPE_M, budget, keep, &kept)
            != 0)
        {
            free(keep);
            snprintf(err, size, "out of memory");
            return -1;
        }

        len = race_course_length(raw->lat, raw->lon, keep, m);

        if (fabs(total - len) <= RACE_COURSE_SIMPLIFY_MAX * total) {
            rc = 0;
            break;
        }

        budget /= 4;
    }

    if (rc != 0) {
        memset(keep, 1, m);     /* every point, as a last resort */
        kept = m;
    }

    if (kept > RACE_COURSE_POINTS_MAX) {
        free(keep);
        snprintf(err, size, "too many points: %zu left after simplifying, "
                 "over the limit of %d (the length may change by 0.1 %% at "
                 "most)", kept, RACE_COURSE_POINTS_MAX);
        return -1;
    }

    n = m;
    m = 0;

    for (i = 0; i < n; i++) {
        if (keep[i]) {
            raw->lat[m] = raw->lat[i];
            raw->lon[m] = raw->lon[i];
            raw->ele[m] = raw->ele[i];
            m++;
        }
    }

    free(keep);

    return race_course_from_points(c, raw->lat, raw->lon,
                                   all_ele ? raw->ele : NULL, m, laps,
                                   err, size);
}


static double
race_course_length(const double *lat, const double *lon,
    const uint8_t *keep, size_t n)
{
    size_t  i, last;
    double  len;

    len = 0.0;
    last = 0;

    for (i = 1; i < n; i++) {
        if (keep[i]) {
            len += race_geo_distance(lat[last], lon[last], lat[i], lon[i]);
            last = i;
        }
    }

    return len;
}


int
race_course_set_checkpoints(race_course_t *c,
    const race_course_checkpoint_t *cps, size_t n, char *err, size_t size)
{
    size_t                    i, j, len;
    const uint8_t            *p;
    race_course_checkpoint_t  tmp[RACE_COURSE_CHECKPOINTS_MAX];

    if (n > RACE_COURSE_CHECKPOINTS_MAX) {
        snprintf(err, size, "too many checkpoints: %zu over the limit of %d",
                 n, RACE_COURSE_CHECKPOINTS_MAX);
        return -1;
    }

    for (i = 0; i < n; i++) {
        len = strnlen(cps[i].name, sizeof(cps[i].name));

        if (len == 0) {
            snprintf(err, size, "checkpoint %zu: it needs a name", i + 1);
            return -1;
        }

        if (len > RACE_COURSE_NAME_MAX) {
            snprintf(err, size, "checkpoint %zu: its name is over %d bytes",
                     i + 1, RACE_COURSE_NAME_MAX);
            return -1;
        }

        if (race_utf8_length(cps[i].name, len) == RACE_UTF8_INVALID) {
            snprintf(err, size, "checkpoint %zu: its name is not UTF-8",
                     i + 1);
            return -1;
        }

        p = (const uint8_t *) cps[i].name;

        for (j = 0; j < len; j++) {
            if (p[j] < 0x20 || p[j] == 0x7f) {
                snprintf(err, size, "checkpoint %zu: its name has a control "
                         "character", i + 1);
                return -1;
            }
        }

        memcpy(tmp[i].name, cps[i].name, len);
        tmp[i].name[len] = '\0';
        tmp[i].dist = race_course_round(cps[i].dist, 10.0);

        /* inside: the start and the finish are not checkpoints */

        if (!isfinite(cps[i].dist) || tmp[i].dist <= 0.0
            || tmp[i].dist >= c->length)
        {
            snprintf(err, size, "checkpoint %zu: its distance %.1f m is not "
                     "inside the course (0 to %.1f m)", i + 1,
                     isfinite(cps[i].dist) ? cps[i].dist : 0.0, c->length);
            return -1;
        }
    }

    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            if (tmp[i].dist == tmp[j].dist) {
                snprintf(err, size, "checkpoints %zu and %zu are at the "
                         "same distance, %.1f m", i + 1, j + 1, tmp[i].dist);
                return -1;
            }

            if (strcmp(tmp[i].name, tmp[j].name) == 0) {
                snprintf(err, size, "checkpoints %zu and %zu have the same "
                         "name", i + 1, j + 1);
                return -1;
            }
        }
    }

    qsort(tmp, n, sizeof(race_course_checkpoint_t), race_course_cmp_dist);

    memcpy(c->checkpoints, tmp, n * sizeof(race_course_checkpoint_t));
    c->ncheckpoints = n;

    return 0;
}


static int
race_course_cmp_dist(const void *a, const void *b)
{
    const race_course_checkpoint_t  *x = a, *y = b;

    return (x->dist > y->dist) - (x->dist < y->dist);
}


char *
race_course_encode(const race_course_t *c)
{
    size_t                     i;
    const race_course_point_t  *p;
    race_course_buf_t          b;

    memset(&b, 0, sizeof(race_course_buf_t));

    race_course_buf_cstr(&b, "{\"laps\":");
    race_course_buf_num(&b, c->laps);
    race_course_buf_cstr(&b, ",\"points\":[");

    for (i = 0; i < c->lap_n; i++) {
        p = &c->points[i];

        race_course_buf_cstr(&b, i ? ",[" : "[");
        race_course_buf_num(&b, p->lat);
        race_course_buf_cstr(&b, ",");
        race_course_buf_num(&b, p->lon);

        if (c->has_ele) {
            race_course_buf_cstr(&b, ",");
            race_course_buf_num(&b, p->ele);
        }

        race_course_buf_cstr(&b, "]");
    }

    race_course_buf_cstr(&b, "],\"checkpoints\":");
    race_course_buf_checkpoints(&b, c);
    race_course_buf_cstr(&b, "}");

    return race_course_buf_done(&b);
}


int
race_course_decode(race_course_t *c, const char *json, size_t len,
    char *err, size_t size)
{
    int                        rc, all_ele;
    char                       q[80];
    size_t                     i, n, k;
    double                    *lat, *lon, *ele;
    json_t                    *root, *v, *pts, *pt, *cps, *name, *dist;
    json_int_t                 laps;
    json_error_t               e;
    race_course_checkpoint_t  *cp;

    memset(c, 0, sizeof(race_course_t));

    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e);

    if (root == NULL) {
        race_course_quote(q, sizeof(q), e.text, strlen(e.text));
        snprintf(err, size, "not a course: %s", q);
        return -1;
    }

    v = json_object_get(root, "laps");
    laps = json_integer_value(v);
    pts = json_object_get(root, "points");
    cps = json_object_get(root, "checkpoints");

    if (!json_is_object(root) || !json_is_integer(v) || laps < 1
        || laps > RACE_COURSE_LAPS_MAX || !json_is_array(pts)
        || (cps != NULL && !json_is_array(cps)))
    {
        json_decref(root);
        snprintf(err, size, "not a course: \"laps\" 1 to %d and a "
                 "\"points\" array are needed", RACE_COURSE_LAPS_MAX);
        return -1;
    }

    n = json_array_size(pts);

    if (n > RACE_COURSE_POINTS_MAX) {
        json_decref(root);
        snprintf(err, size, "the course has %zu points, over the limit "
                 "of %d", n, RACE_COURSE_POINTS_MAX);
        return -1;
    }

    if (json_array_size(cps) > RACE_COURSE_CHECKPOINTS_MAX) {
        json_decref(root);
        snprintf(err, size, "too many checkpoints: %zu over the limit of %d",
                 json_array_size(cps), RACE_COURSE_CHECKPOINTS_MAX);
        return -1;
    }

    lat = malloc((n ? n : 1) * sizeof(double));
    lon = malloc((n ? n : 1) * sizeof(double));
    ele = malloc((n ? n : 1) * sizeof(double));
    cp = malloc(RACE_COURSE_CHECKPOINTS_MAX
                * sizeof(race_course_checkpoint_t));

    rc = -1;

    if (lat == NULL || lon == NULL || ele == NULL || cp == NULL) {
        snprintf(err, size, "out of memory");
        goto done;
    }

    all_ele = 1;

    for (i = 0; i < n; i++) {
        pt = json_array_get(pts, i);
        k = json_array_size(pt);

        if (!json_is_array(pt) || k < 2 || k > 3
            || !json_is_number(json_array_get(pt, 0))
            || !json_is_number(json_array_get(pt, 1))
            || (k == 3 && !json_is_number(json_array_get(pt, 2))))
        {
            snprintf(err, size, "not a course: point %zu is not [lat, lon] "
                     "or [lat, lon, ele]", i + 1);
            goto done;
        }

        lat[i] = json_number_value(json_array_get(pt, 0));
        lon[i] = json_number_value(json_array_get(pt, 1));
        ele[i] = (k == 3) ? json_number_value(json_array_get(pt, 2)) : NAN;

        if (k == 2) {
            all_ele = 0;
        }
    }

    for (i = 0; i < json_array_size(cps); i++) {
        v = json_array_get(cps, i);
        name = json_object_get(v, "name");
        dist = json_object_get(v, "dist_m");

        if (!json_is_string(name) || !json_is_number(dist)
            || json_string_length(name) > RACE_COURSE_NAME_MAX
            || strlen(json_string_value(name)) != json_string_length(name))
        {
            snprintf(err, size, "not a course: checkpoint %zu needs a "
                     "\"name\" of 1 to %d bytes and a \"dist_m\"", i + 1,
                     RACE_COURSE_NAME_MAX);
            goto done;
        }

        memcpy(cp[i].name, json_string_value(name),
               json_string_length(name) + 1);
        cp[i].dist = json_number_value(dist);
    }

    if (race_course_from_points(c, lat, lon, all_ele ? ele : NULL, n,
                                (unsigned) laps, err, size)
        != 0)
    {
        goto done;
    }

    if (race_course_set_checkpoints(c, cp, json_array_size(cps), err, size)
        != 0)
    {
        race_course_free(c);
        goto done;
    }

    rc = 0;

done:

    free(lat);
    free(lon);
    free(ele);
    free(cp);
    json_decref(root);

    return rc;
}


char *
race_course_summary(const race_course_t *c)
{
    double             bbox[4];
    race_course_buf_t  b;

    memset(&b, 0, sizeof(race_course_buf_t));

    race_course_bbox(c, bbox);

    race_course_buf_cstr(&b, "{\"laps\":");
    race_course_buf_num(&b, c->laps);
    race_course_buf_cstr(&b, ",\"length_m\":");
    race_course_buf_num(&b, race_course_round(c->length, 10.0));
    race_course_buf_cstr(&b, ",\"lap_length_m\":");
    race_course_buf_num(&b, race_course_round(c->lap_length, 10.0));
    race_course_buf_cstr(&b, ",\"points\":");
    race_course_buf_num(&b, (double) c->lap_n);
    race_course_buf_cstr(&b, c->has_ele ? ",\"ele\":true" : ",\"ele\":false");
    race_course_buf_cstr(&b, ",\"bbox\":[");
    race_course_buf_num(&b, bbox[0]);
    race_course_buf_cstr(&b, ",");
    race_course_buf_num(&b, bbox[1]);
    race_course_buf_cstr(&b, ",");
    race_course_buf_num(&b, bbox[2]);
    race_course_buf_cstr(&b, ",");
    race_course_buf_num(&b, bbox[3]);
    race_course_buf_cstr(&b, "],\"checkpoints\":");
    race_course_buf_checkpoints(&b, c);
    race_course_buf_cstr(&b, "}");

    return race_course_buf_done(&b);
}


char *
race_course_geojson(const race_course_t *c)
{
    size_t                      i;
    const race_course_point_t  *p;
    race_course_buf_t           b;

    memset(&b, 0, sizeof(race_course_buf_t));

    race_course_buf_cstr(&b, "{\"type\":\"Feature\",\"properties\":"
                         "{\"laps\":");
    race_course_buf_num(&b, c->laps);
    race_course_buf_cstr(&b, ",\"length_m\":");
    race_course_buf_num(&b, race_course_round(c->length, 10.0));
    race_course_buf_cstr(&b, ",\"lap_length_m\":");
    race_course_buf_num(&b, race_course_round(c->lap_length, 10.0));
    race_course_buf_cstr(&b, ",\"checkpoints\":");
    race_course_buf_checkpoints(&b, c);
    race_course_buf_cstr(&b, "},\"geometry\":{\"type\":\"LineString\","
                         "\"coordinates\":[");

    for (i = 0; i < c->lap_n; i++) {
        p = &c->points[i];

        race_course_buf_cstr(&b, i ? ",[" : "[");
        race_course_buf_num(&b, p->lon);
        race_course_buf_cstr(&b, ",");
        race_course_buf_num(&b, p->lat);

        if (c->has_ele) {
            race_course_buf_cstr(&b, ",");
            race_course_buf_num(&b, p->ele);
        }

        race_course_buf_cstr(&b, "]");
    }

    race_course_buf_cstr(&b, "]}}");

    return race_course_buf_done(&b);
}


size_t
race_course_point_at(const race_course_t *c, double dist, double *lat,
    double *lon, double *ele)
{
    size_t                      lo, hi, mid;
    double                      f, d;
    const race_course_point_t  *a, *b;

    if (!(dist > 0.0)) {
        dist = 0.0;             /* NaN too */

    } else if (dist > c->length) {
        dist = c->length;
    }

    /* the last point at or before dist, in n - 1 at most */

    lo = 0;
    hi = c->n - 1;

    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;

        if (c->points[mid].dist <= dist) {
            lo = mid;

        } else {
            hi = mid;
        }
    }

    a = &c->points[lo];
    b = &c->points[lo + 1];

    f = (dist - a->dist) / (b->dist - a->dist);
    f = f < 0.0 ? 0.0 : (f > 1.0 ? 1.0 : f);

    d = b->lon - a->lon;

    if (d > 180.0) {
        d -= 360.0;

    } else if (d < -180.0) {
        d += 360.0;
    }

    *lat = a->lat + f * (b->lat - a->lat);
    *lon = a->lon + f * d;

    if (*lon > 180.0) {
        *lon -= 360.0;

    } else if (*lon < -180.0) {
        *lon += 360.0;
    }

    *ele = c->has_ele ? a->ele + f * (b->ele - a->ele) : NAN;

    return lo;
}


/*
 * [minlon, minlat, maxlon, maxlat] of a lap; across 180 degrees of
 * longitude minlon is greater than maxlon, as RFC 7946 has it.
 */

static void
race_course_bbox(const race_course_t *c, double *bbox)
{
    size_t  i;
    double  lon, d, minlon, maxlon;

    if (c->lap_n == 0) {
        bbox[0] = bbox[1] = bbox[2] = bbox[3] = 0.0;
        return;
    }

    lon = c->points[0].lon;
    minlon = maxlon = lon;
    bbox[1] = bbox[3] = c->points[0].lat;

    for (i = 1; i < c->lap_n; i++) {
        d = c->points[i].lon - c->points[i - 1].lon;

        if (d > 180.0) {
            d -= 360.0;

        } else if (d < -180.0) {
            d += 360.0;
        }

        lon += d;
        minlon = fmin(minlon, lon);
        maxlon = fmax(maxlon, lon);
        bbox[1] = fmin(bbox[1], c->points[i].lat);
        bbox[3] = fmax(bbox[3], c->points[i].lat);
    }

    if (maxlon - minlon >= 360.0) {
        minlon = -180.0;
        maxlon = 180.0;
    }

    bbox[0] = minlon < -180.0 ? minlon + 360.0
              : minlon > 180.0 ? minlon - 360.0 : minlon;
    bbox[2] = maxlon < -180.0 ? maxlon + 360.0
              : maxlon > 180.0 ? maxlon - 360.0 : maxlon;

    bbox[0] = race_course_round(bbox[0], 1e7);
    bbox[2] = race_course_round(bbox[2], 1e7);
}


static int
race_course_coord_valid(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon)
           && lat >= -90.0 && lat <= 90.0
           && lon >= -180.0 && lon <= 180.0;
}


/* v rounded to 1 / scale: what race_json_number() then writes short */

static double
race_course_round(double v, double scale)
{
    double  r;

    r = round(v * scale) / scale;

    return r == 0.0 ? 0.0 : r;      /* no -0 */
}


static void
race_course_buf_add(race_course_buf_t *b, const char *s, size_t n)
{
    char    *p;
    size_t   cap;

    if (b->nomem) {
        return;
    }

    if (b->len + n + 1 > b->cap) {
        cap = b->cap ? b->cap : 4096;

        while (cap < b->len + n + 1) {
            cap *= 2;
        }

        p = realloc(b->p, cap);
        if (p == NULL) {
            b->nomem = 1;
            return;
        }

        b->p = p;
        b->cap = cap;
    }

    memcpy(b->p + b->len, s, n);
    b->len += n;
}


static void
race_course_buf_cstr(race_course_buf_t *b, const char *s)
{
    race_course_buf_add(b, s, strlen(s));
}


static void
race_course_buf_num(race_course_buf_t *b, double v)
{
    char    buf[RACE_JSON_NUMBER_SIZE];
    size_t  n;

    n = race_json_number(isfinite(v) ? v : 0.0, buf, sizeof(buf));
    race_course_buf_add(b, buf, n);
}


/* a checked name (UTF-8, no controls): only '"' and '\' are escaped */

static void
race_course_buf_str(race_course_buf_t *b, const char *s)
{
    race_course_buf_add(b, "\"", 1);

    for ( /* void */ ; *s; s++) {
        if (*s == '"' || *s == '\\') {
            race_course_buf_add(b, "\\", 1);
        }

        race_course_buf_add(b, s, 1);
    }

    race_course_buf_add(b, "\"", 1);
}


static void
race_course_buf_checkpoints(race_course_buf_t *b, const race_course_t *c)
{
    size_t  i;

    race_course_buf_cstr(b, "[");

    for (i = 0; i < c->ncheckpoints; i++) {
        race_course_buf_cstr(b, i ? ",{\"name\":" : "{\"name\":");
        race_course_buf_str(b, c->checkpoints[i].name);
        race_course_buf_cstr(b, ",\"dist_m\":");
        race_course_buf_num(b, c->checkpoints[i].dist);
        race_course_buf_cstr(b, "}");
    }

    race_course_buf_cstr(b, "]");
}


static char *
race_course_buf_done(race_course_buf_t *b)
{
    race_course_buf_add(b, "", 0);

    if (b->nomem || b->p == NULL) {
        free(b->p);
        return NULL;
    }

    b->p[b->len] = '\0';

    return b->p;
}
