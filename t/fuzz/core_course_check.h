
/*
 * ngx_race: what the course fuzz targets check of any course they get.
 *
 * Included by t/fuzz/core_course_*_fuzz.c, each one program.
 */


#ifndef _CORE_COURSE_CHECK_H_INCLUDED_
#define _CORE_COURSE_CHECK_H_INCLUDED_


#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_course.h"
#include "race_utf8.h"


#define f_assert(c)  do { if (!(c)) { abort(); } } while (0)


/* an error: a sentence, within its buffer, valid UTF-8 */

static inline void
check_err(const char *err)
{
    size_t  len;

    len = strlen(err);

    f_assert(len > 0 && len < RACE_COURSE_ERR_MAX);
    f_assert(race_utf8_length(err, len) != RACE_UTF8_INVALID);
}


static inline void
check_json(const char *s)
{
    json_t        *j;
    json_error_t   e;

    f_assert(s != NULL);

    j = json_loads(s, 0, &e);
    f_assert(j != NULL);
    json_decref(j);
}


/* a course's invariants, and its encoding read back as itself */

static inline void
check_course(const race_course_t *c)
{
    int            rc;
    char           err[RACE_COURSE_ERR_MAX], *s, *s2;
    size_t         i;
    race_course_t  d;

    f_assert(c->n >= 2 && c->lap_n >= 2
             && c->lap_n <= RACE_COURSE_POINTS_MAX);
    f_assert(c->laps >= 1 && c->laps <= RACE_COURSE_LAPS_MAX);
    f_assert(c->n == c->laps * c->lap_n
             || c->n == c->laps * (c->lap_n - 1) + 1);
    f_assert(c->laps == 1 || c->closed);
    f_assert(c->points[0].dist == 0.0);
    f_assert(c->length == c->points[c->n - 1].dist);
    f_assert(c->lap_length > 0.0);

    /* the last lap ends where it ends, short of the gap back to start */

    f_assert(c->length <= c->laps * c->lap_length * (1 + 1e-12)
             && c->length >= c->laps * c->lap_length * (1 - 1e-12)
                             - RACE_COURSE_CLOSED_M);

    for (i = 0; i < c->n; i++) {
        f_assert(c->points[i].lat >= -90.0 && c->points[i].lat <= 90.0);
        f_assert(c->points[i].lon >= -180.0 && c->points[i].lon <= 180.0);
        f_assert(c->has_ele ? isfinite(c->points[i].ele)
                            : isnan(c->points[i].ele));

        if (i > 0) {
            f_assert(c->points[i].dist > c->points[i - 1].dist);
        }
    }

    for (i = 0; i < c->ncheckpoints; i++) {
        f_assert(c->checkpoints[i].dist > 0.0
                 && c->checkpoints[i].dist < c->length);
        f_assert(i == 0
                 || c->checkpoints[i].dist > c->checkpoints[i - 1].dist);
    }

    s = race_course_encode(c);
    f_assert(s != NULL);

    rc = race_course_decode(&d, s, strlen(s), err, sizeof(err));
    f_assert(rc == 0);

    f_assert(d.n == c->n && d.lap_n == c->lap_n && d.laps == c->laps
             && d.closed == c->closed && d.has_ele == c->has_ele
             && d.length == c->length && d.lap_length == c->lap_length
             && d.ncheckpoints == c->ncheckpoints);

    for (i = 0; i < c->n; i++) {
        f_assert(d.points[i].lat == c->points[i].lat
                 && d.points[i].lon == c->points[i].lon
                 && d.points[i].dist == c->points[i].dist
                 && (c->has_ele ? d.points[i].ele == c->points[i].ele
                                : isnan(d.points[i].ele)));
    }

    for (i = 0; i < c->ncheckpoints; i++) {
        f_assert(strcmp(d.checkpoints[i].name, c->checkpoints[i].name) == 0
                 && d.checkpoints[i].dist == c->checkpoints[i].dist);
    }

    s2 = race_course_encode(&d);
    f_assert(s2 != NULL && strcmp(s, s2) == 0);

    check_json(s);
    free(s);
    free(s2);

    s = race_course_summary(c);
    check_json(s);
    free(s);

    s = race_course_geojson(c);
    check_json(s);
    free(s);

    race_course_free(&d);
}


#endif /* _CORE_COURSE_CHECK_H_INCLUDED_ */
