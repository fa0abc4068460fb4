
/*
 * ngx_race: a race's course, its points and its geometry.
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race_course.h"


#define RACE_GEO_EARTH_M   6371008.8       /* mean radius, IUGG */
#define RACE_GEO_RAD       (M_PI / 180.0)


static int race_course_coord_valid(double lat, double lon);


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
    double                d, lap_length;
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

    for (i = 0; i < n; i++) {
        if (!race_course_coord_valid(lat[i], lon[i])) {
            snprintf(err, size, "point %zu: coordinates out of range", i + 1);
            return -1;
        }

        if (ele && isfinite(ele[i]) && (ele[i] < -500 || ele[i] > 9000)) {
            snprintf(err, size, "point %zu: elevation out of range", i + 1);
            return -1;
        }
    }

    one = malloc((n ? n : 1) * sizeof(race_course_point_t));
    if (one == NULL) {
        snprintf(err, size, "out of memory");
        return -1;
    }

    /* one lap, repeated points dropped, distances along it */

    m = 0;
    c->has_ele = (ele != NULL);

    for (i = 0; i < n; i++) {
        if (m > 0 && one[m - 1].lat == lat[i] && one[m - 1].lon == lon[i]) {
            continue;
        }

        one[m].lat = lat[i];
        one[m].lon = lon[i];
        one[m].ele = (ele && isfinite(ele[i])) ? ele[i] : NAN;
        one[m].dist = m == 0 ? 0.0
                      : one[m - 1].dist
                        + race_geo_distance(one[m - 1].lat, one[m - 1].lon,
                                            lat[i], lon[i]);

        if (!isfinite(one[m].ele)) {
            c->has_ele = 0;
        }

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
    c->points = NULL;
    c->n = 0;
}


static int
race_course_coord_valid(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon)
           && lat >= -90.0 && lat <= 90.0
           && lon >= -180.0 && lon <= 180.0;
}
