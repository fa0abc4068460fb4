
/*
 * ngx_race: what the course core's files share and nobody else sees.
 *
 * The readers (race_course_read.c: GPX with libexpat, GeoJSON with
 * jansson) turn a file into raw points; race_course.c checks them,
 * simplifies them (race_course_simplify.c) and makes the course.
 */


#ifndef _RACE_COURSE_INT_H_INCLUDED_
#define _RACE_COURSE_INT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_course.h"


/* the points of a file as read, up to RACE_COURSE_INPUT_POINTS */
typedef struct {
    double                 *lat;
    double                 *lon;
    double                 *ele;        /* NAN where a point has none */
    size_t                  n;          /* stored */
    size_t                  cap;
    size_t                  count;      /* seen, beyond the limit too */
    unsigned                nomem:1;
    unsigned                failed:1;   /* err says why */
    char                    err[RACE_COURSE_ERR_MAX];
} race_course_raw_t;


/*
 * A point of a file, the count-th: checked (the first bad point's
 * error is kept in raw->err), stored while within the limit.
 */
void race_course_raw_add(race_course_raw_t *raw, double lat, double lon,
    double ele);
void race_course_raw_free(race_course_raw_t *raw);

/* 0, or -1 with err set; raw's points are the file's, unchecked count */
int race_course_read_gpx(race_course_raw_t *raw, const char *data,
    size_t len, char *err, size_t size);
int race_course_read_geojson(race_course_raw_t *raw, const char *data,
    size_t len, char *err, size_t size);

/* s[0..len) into dst (size > 4) for a message: valid UTF-8, no controls */
void race_course_quote(char *dst, size_t size, const char *s, size_t len);

/*
 * The points to keep of a polyline of n distinct points (ele may be
 * NULL): keep[i] set to 1 or 0, *kept their count.  Points whose
 * removal changes its shape least go first, while the length lost
 * stays within budget_m (metres), until at most max are left and every
 * point left carries at least shape_m of importance.  -1 when out of
 * memory.
 */
int race_course_simplify(const double *lat, const double *lon,
    const double *ele, size_t n, size_t max, double shape_m,
    double budget_m, uint8_t *keep, size_t *kept);


#endif /* _RACE_COURSE_INT_H_INCLUDED_ */
