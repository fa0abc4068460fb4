
/*
 * ngx_race: a race's course (docs/INTERNALS.md, "Races").
 *
 * A pure core: a GPX 1.1 or GeoJSON text in, a course out (parsed with
 * libexpat and jansson, checked, simplified); a course in, its compact
 * JSON out and back, for the command that carries it and the Redis key
 * that holds it; and the geometry everything else measures with.
 *
 * A course is a polyline of points, each with its distance from the
 * start along the course.  A loop raced in several laps is unrolled:
 * the points of every lap follow each other, and the distances keep
 * growing, so a rider's course distance says which lap they are on.
 */


#ifndef _RACE_COURSE_H_INCLUDED_
#define _RACE_COURSE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define RACE_COURSE_INPUT_MAX      (8 * 1024 * 1024)  /* bytes of a file */
#define RACE_COURSE_INPUT_POINTS   200000   /* points a file may have */
#define RACE_COURSE_POINTS_MAX     20000    /* points of one lap, stored */
#define RACE_COURSE_LAPS_MAX       100
#define RACE_COURSE_LENGTH_MAX     1e7      /* metres, all laps: 10000 km */
#define RACE_COURSE_CHECKPOINTS_MAX  64
#define RACE_COURSE_NAME_MAX       64       /* bytes of a checkpoint name */
#define RACE_COURSE_DEPTH_MAX      32       /* XML element nesting */

/* a loop: its ends at most this far apart, in metres */
#define RACE_COURSE_CLOSED_M       100.0

/* simplification may shorten a course by at most this fraction */
#define RACE_COURSE_SIMPLIFY_MAX   0.001

#define RACE_COURSE_ERR_MAX        128


typedef struct {
    double                  lat;        /* degrees */
    double                  lon;
    double                  ele;        /* metres; NAN when unknown */
    double                  dist;       /* metres from the start */
} race_course_point_t;


typedef struct {
    char                    name[RACE_COURSE_NAME_MAX + 1];
    double                  dist;       /* metres from the start */
} race_course_checkpoint_t;


typedef struct {
    race_course_point_t    *points;     /* all laps, unrolled */
    size_t                  n;
    size_t                  lap_n;      /* points of one lap */
    unsigned                laps;       /* 1 for an open course */
    unsigned                closed:1;   /* its ends meet: a loop */
    unsigned                has_ele:1;  /* every point has an elevation */
    double                  length;     /* points[n - 1].dist */
    double                  lap_length;

    race_course_checkpoint_t  checkpoints[RACE_COURSE_CHECKPOINTS_MAX];
    size_t                  ncheckpoints;   /* by distance, finish not one */
} race_course_t;


/*
 * A course from one lap's points (ele may be NULL), raced laps times.
 * Checks the coordinates, rounds them to 7 decimals (1 cm) and
 * elevations to 0.1 m (so that the JSON forms read back exactly),
 * drops a point within 1 mm of the one before (repeats, the poles),
 * keeps elevations only if every point has one, refuses fewer than two
 * distinct points, more than RACE_COURSE_POINTS_MAX, and laps > 1 on a
 * course whose ends are more than RACE_COURSE_CLOSED_M apart.  0 or -1
 * with err set (a sentence a user can act on).  The course owns its
 * memory: race_course_free(), which leaves it empty.
 */
int race_course_from_points(race_course_t *c, const double *lat,
    const double *lon, const double *ele, size_t n, unsigned laps,
    char *err, size_t size);

void race_course_free(race_course_t *c);

/*
 * A course from a file's bytes: GPX 1.1 or 1.0 (every trkpt of every
 * track and segment in order, or if none every rtept; elevation kept)
 * when the first thing in it is '<', a GeoJSON LineString (or a
 * Feature of one, or a FeatureCollection with exactly one) otherwise;
 * then simplified (points that carry no shape dropped, and at most
 * RACE_COURSE_POINTS_MAX left) while its length changes by at most
 * RACE_COURSE_SIMPLIFY_MAX, and unrolled into laps.  A GPX with a
 * DOCTYPE is refused: no entity is ever read.  -1 with err naming what
 * is wrong, starting "not XML: ", "not GPX: ", "not GeoJSON: ", "no
 * points", "too many points: ", "point N: ", "laps given for an open
 * course: ", "too large: ", "the course needs at least two distinct
 * points", "laps must be"; a noisy file that cannot be simplified to
 * RACE_COURSE_POINTS_MAX within the length's bound gets "too many
 * points: N left after simplifying...".  About 0.5 s for 200,000
 * points: not on an event loop.
 */
int race_course_parse(race_course_t *c, const char *data, size_t len,
    unsigned laps, char *err, size_t size);

/*
 * Checkpoints, replacing any: at most RACE_COURSE_CHECKPOINTS_MAX,
 * names of 1 to RACE_COURSE_NAME_MAX bytes of UTF-8 without control
 * characters, all different; distances rounded to 0.1 m, strictly
 * inside (0, length), all different.  Kept sorted by distance.  -1 and
 * err naming the bad one (by its place in cps, from 1), the course's
 * checkpoints unchanged.
 */
int race_course_set_checkpoints(race_course_t *c,
    const race_course_checkpoint_t *cps, size_t n, char *err, size_t size);

/*
 * The compact form that commands and Redis carry: one lap,
 * {"laps":n,"points":[[lat,lon,ele?]...],"checkpoints":[{"name":..,
 * "dist_m":..}]}; a malloc()ed string, NULL when out of memory.
 * race_course_decode() reads it back (checked as from_points and
 * set_checkpoints do; "checkpoints" may be absent) and unrolls it.
 */
char *race_course_encode(const race_course_t *c);
int race_course_decode(race_course_t *c, const char *json, size_t len,
    char *err, size_t size);

/*
 * The summary a race document carries: {"laps","length_m",
 * "lap_length_m","points","ele","bbox":[minlon,minlat,maxlon,maxlat],
 * "checkpoints":[...]}; and a GeoJSON Feature of one lap, [lon,lat,ele]
 * coordinates, for maps.  malloc()ed strings, NULL when out of memory.
 */
char *race_course_summary(const race_course_t *c);
char *race_course_geojson(const race_course_t *c);

/*
 * The place at course distance dist (clamped to 0 .. length), linear
 * between the points around it (across 180 degrees of longitude too);
 * *ele NAN without elevations.  Returns i, the segment [i, i + 1] it
 * is on (n - 2 at the finish).  For checkpoints' markers, and for
 * riders simulated along a course.
 */
size_t race_course_point_at(const race_course_t *c, double dist,
    double *lat, double *lon, double *ele);

/* the great-circle distance in metres (haversine, mean Earth radius) */
double race_geo_distance(double lat1, double lon1, double lat2,
    double lon2);

/* the initial bearing from 1 to 2 in degrees, 0 .. < 360 */
double race_geo_bearing(double lat1, double lon1, double lat2,
    double lon2);


#endif /* _RACE_COURSE_H_INCLUDED_ */
