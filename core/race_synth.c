
/*
 * ngx_race: a synthetic rider that knows the truth.
 *
 * The rider is moved in steps of RACE_SYNTH_STEP seconds at a speed
 * that follows the profile (the rider's own speed, a slow wave, the
 * grade, accelerating from a standstill), stops where told, and stops
 * for good at the course's end.  The true course distance at each
 * whole second is the truth the fixes are drawn from and the one
 * race_synth_time_at() reads: between two seconds the rider is taken
 * to move evenly.
 */


#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "race_synth.h"


#define RACE_SYNTH_STEP      0.05          /* s, the simulation's */
#define RACE_SYNTH_SECS_MAX  (14 * 86400)  /* a ride is bounded */
#define RACE_SYNTH_M_DEG     111194.93     /* m per degree of latitude */
#define RACE_SYNTH_DUPS      8             /* duplicates in flight */
#define RACE_SYNTH_BRAKE     1.5           /* m/s2 before a stop */
#define RACE_SYNTH_COAST     0.5           /* m/s2 past the finish line */


typedef struct {
    size_t                  fix;
    unsigned                left;
} race_synth_dup_t;


static int race_synth_move(race_synth_t *s, const race_course_t *course,
    const race_synth_conf_t *conf, race_synth_rng_t *rng);
static int race_synth_fixes(race_synth_t *s, const race_course_t *course,
    const race_synth_conf_t *conf, race_synth_rng_t *rng, race_fix_t *all,
    unsigned char *jumped);
static int race_synth_deliver(race_synth_t *s, const race_synth_conf_t *conf,
    race_synth_rng_t *rng, const race_fix_t *all,
    const unsigned char *jumped);
static size_t race_synth_segment(const race_course_t *course, double dist);
static double race_synth_grade(const race_course_t *course, double dist);
static int race_synth_in_dropout(const race_synth_conf_t *conf, size_t i);


void
race_synth_rng_seed(race_synth_rng_t *r, uint64_t seed)
{
    uint64_t  z;

    /* splitmix64 spreads any seed, 0 included, over the state */

    z = seed + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;

    r->s = z ? z : 0x2545f4914f6cdd1dULL;
}


uint64_t
race_synth_rng_next(race_synth_rng_t *r)
{
    /* xorshift64* */

    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;

    return r->s * 0x2545f4914f6cdd1dULL;
}


double
race_synth_rng_uniform(race_synth_rng_t *r)
{
    return (race_synth_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}


double
race_synth_rng_gauss(race_synth_rng_t *r)
{
    double  u, v;

    /* Box-Muller; u is never 0, so the log is finite */

    u = 1.0 - race_synth_rng_uniform(r);
    v = race_synth_rng_uniform(r);

    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}


int
race_synth_ride(race_synth_t *s, const race_course_t *course,
    const race_synth_conf_t *conf, unsigned rider)
{
    int                rc;
    race_fix_t        *all;
    unsigned char     *jumped;
    race_synth_rng_t   rng;

    memset(s, 0, sizeof(race_synth_t));

    race_synth_rng_seed(&rng, conf->seed ^ (0x632be59bd9b4e019ULL
                                            * ((uint64_t) rider + 1)));

    s->start = conf->start;
    s->length = course->length;
    s->speed = (conf->speed > 0.5 ? conf->speed : 0.5)
               * (1.0 + conf->speed_var
                        * (2.0 * race_synth_rng_uniform(&rng) - 1.0));
    s->noise = conf->noise_min
               + (conf->noise_max - conf->noise_min)
                 * race_synth_rng_uniform(&rng);

    if (race_synth_move(s, course, conf, &rng) != 0) {
        race_synth_free(s);
        return -1;
    }

    all = calloc(s->nsec + 1, sizeof(race_fix_t));
    jumped = calloc(s->nsec + 1, 1);

    if (all == NULL || jumped == NULL) {
        free(all);
        free(jumped);
        race_synth_free(s);
        return -1;
    }

    rc = race_synth_fixes(s, course, conf, &rng, all, jumped);

    if (rc == 0) {
        rc = race_synth_deliver(s, conf, &rng, all, jumped);
    }

    free(all);
    free(jumped);

    if (rc != 0) {
        race_synth_free(s);
    }

    return rc;
}


void
race_synth_free(race_synth_t *s)
{
    free(s->fixes);
    free(s->truth);
    free(s->jumped);
    free(s->dist);
    free(s->over);

    s->fixes = NULL;
    s->truth = NULL;
    s->jumped = NULL;
    s->dist = NULL;
    s->over = NULL;
    s->n = 0;
    s->nsec = 0;
}


double
race_synth_time_at(const race_synth_t *s, double dist)
{
    size_t  lo, hi, mid;
    double  d0, d1;

    if (s->dist == NULL || dist > s->dist[s->nsec]) {
        return NAN;
    }

    if (dist <= s->dist[0]) {
        return (double) s->start;
    }

    /* the first second at or past dist */

    lo = 1;
    hi = s->nsec;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (s->dist[mid] >= dist) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    d0 = s->dist[lo - 1];
    d1 = s->dist[lo];

    return s->start + 1000.0 * ((lo - 1) + (dist - d0) / (d1 - d0));
}


double
race_synth_dist_at(const race_synth_t *s, double t)
{
    size_t  i;
    double  x;

    x = (t - s->start) / 1000.0;

    if (x <= 0) {
        return s->dist[0];
    }

    if (x >= (double) s->nsec) {
        return s->dist[s->nsec];
    }

    i = (size_t) x;

    return s->dist[i] + (s->dist[i + 1] - s->dist[i]) * (x - i);
}


void
race_synth_point_at(const race_course_t *course, double dist, double *lat,
    double *lon, double *ele, double *bearing)
{
    size_t                      i;
    double                      f, len;
    const race_course_point_t  *a, *b;

    i = race_synth_segment(course, dist);
    a = &course->points[i];
    b = &course->points[i + 1];

    len = b->dist - a->dist;
    f = len > 0 ? (dist - a->dist) / len : 0.0;
    /* past the end: on along the last segment, as riders roll on */
    f = f < 0 ? 0 : (f > 1 && i + 2 < course->n ? 1 : f);

    *lat = a->lat + (b->lat - a->lat) * f;
    *lon = a->lon + (b->lon - a->lon) * f;
    *ele = a->ele + (b->ele - a->ele) * f;
    *bearing = race_geo_bearing(a->lat, a->lon, b->lat, b->lon);
}


static int
race_synth_move(race_synth_t *s, const race_course_t *course,
    const race_synth_conf_t *conf, race_synth_rng_t *rng)
{
    size_t    i, size, stop, k, steps, end;
    double    pos, v, target, g, f, t, stopped, phase, accel, brake, over,
              *d;

    size = 4096;
    s->dist = malloc(size * sizeof(double));
    s->over = malloc(size * sizeof(double));
    if (s->dist == NULL || s->over == NULL) {
        return -1;
    }

    phase = 2.0 * M_PI * race_synth_rng_uniform(rng);
    accel = conf->accel > 0 ? conf->accel : 1.0;
    steps = (size_t) lround(1.0 / RACE_SYNTH_STEP);

    pos = 0.0;
    over = 0.0;
    v = 0.0;
    stop = 0;
    stopped = 0.0;
    end = 0;
    s->dist[0] = 0.0;
    s->over[0] = 0.0;

    for (i = 1; i <= RACE_SYNTH_SECS_MAX; i++) {

        /* past the line, rolling to a stop */

        for (k = 0; k < steps && s->finish != 0; k++) {
            v = v - RACE_SYNTH_COAST * RACE_SYNTH_STEP > 0.0
                ? v - RACE_SYNTH_COAST * RACE_SYNTH_STEP : 0.0;
            over += v * RACE_SYNTH_STEP;
        }

        for (k = 0; k < steps && s->finish == 0; k++) {
            t = (i - 1) + k * RACE_SYNTH_STEP;

            if (stopped > 0) {
                stopped -= RACE_SYNTH_STEP;
                v = 0.0;
                continue;
            }

            g = race_synth_grade(course, pos);
            f = g > 0 ? 1.0 / (1.0 + conf->climb * g)
                      : 1.0 - 0.5 * conf->climb * g;
            f = f < 0.2 ? 0.2 : (f > 1.5 ? 1.5 : f);

            target = s->speed * f
                     * (1.0 + conf->wobble * sin(2.0 * M_PI * t / 300.0
                                                 + phase));
            target = target < 0.5 ? 0.5 : target;

            v = v + accel * RACE_SYNTH_STEP < target
                ? v + accel * RACE_SYNTH_STEP : target;

            /* braking for the stop ahead */

            if (stop < conf->nstops) {
                brake = sqrt(2.0 * RACE_SYNTH_BRAKE
                             * (conf->stops[stop].at - pos));
                v = v < brake ? v : (brake > 0.5 ? brake : 0.5);
            }

            if (stop < conf->nstops && pos + v * RACE_SYNTH_STEP
                                       >= conf->stops[stop].at)
            {
                pos = conf->stops[stop].at > pos ? conf->stops[stop].at
                                                 : pos;
                stopped = conf->stops[stop].secs;
                stop++;
                v = 0.0;
                continue;
            }

            if (pos + v * RACE_SYNTH_STEP >= course->length) {
                s->finish = s->start
                            + 1000.0 * (t + (course->length - pos) / v);
                pos = course->length;
                end = i + (size_t) ceil(conf->tail);
                break;
            }

            pos += v * RACE_SYNTH_STEP;
        }

        if (i >= size) {
            size *= 2;
            d = realloc(s->dist, size * sizeof(double));
            if (d == NULL) {
                return -1;
            }

            s->dist = d;

            d = realloc(s->over, size * sizeof(double));
            if (d == NULL) {
                return -1;
            }

            s->over = d;
        }

        s->dist[i] = pos;
        s->over[i] = over;

        if (s->finish != 0 && i >= end) {
            break;
        }
    }

    s->nsec = i > RACE_SYNTH_SECS_MAX ? RACE_SYNTH_SECS_MAX : i;

    return 0;
}


static int
race_synth_fixes(race_synth_t *s, const race_course_t *course,
    const race_synth_conf_t *conf, race_synth_rng_t *rng, race_fix_t *all,
    unsigned char *jumped)
{
    size_t       i, j;
    double       lat, lon, ele, brg, north, east, a, r, v;
    race_fix_t  *f;

    for (i = 0; i <= s->nsec; i++) {
        f = &all[i];

        race_synth_point_at(course, s->dist[i] + s->over[i], &lat, &lon,
                            &ele, &brg);

        north = s->noise * race_synth_rng_gauss(rng);
        east = s->noise * race_synth_rng_gauss(rng);

        jumped[i] = race_synth_rng_uniform(rng) < conf->jump_p;

        for (j = 0; j < conf->njumps; j++) {
            if (conf->jumps[j] == (int64_t) i + 1) {
                jumped[i] = 1;
            }
        }

        if (jumped[i]) {
            a = 2.0 * M_PI * race_synth_rng_uniform(rng);
            r = 1000.0 + 4000.0 * race_synth_rng_uniform(rng);
            north += r * cos(a);
            east += r * sin(a);
        }

        f->seq = (int64_t) i + 1;
        f->t = s->start + 1000 * (int64_t) i;
        f->lat = lat + north / RACE_SYNTH_M_DEG;
        f->lon = lon + east / (RACE_SYNTH_M_DEG * cos(lat * M_PI / 180.0));

        if (f->lat > 90.0) {
            f->lat = 90.0;
        }

        if (f->lat < -90.0) {
            f->lat = -90.0;
        }

        f->lon = f->lon > 180.0 ? f->lon - 360.0
                 : (f->lon < -180.0 ? f->lon + 360.0 : f->lon);

        if (course->has_ele) {
            f->ele = ele + 3.0 * race_synth_rng_gauss(rng);
            f->has |= RACE_FIX_ELE;
        }

        if (conf->spd) {
            v = i > 0 ? s->dist[i] + s->over[i] - s->dist[i - 1]
                        - s->over[i - 1] : 0.0;
            v += 0.3 * race_synth_rng_gauss(rng);
            f->spd = v < 0 ? 0 : v;
            f->has |= RACE_FIX_SPD;

            if (f->spd > 1.0) {
                brg = fmod(brg + 5.0 * race_synth_rng_gauss(rng) + 360.0,
                           360.0);
                f->brg = brg >= 360.0 ? 0.0 : brg;
                f->has |= RACE_FIX_BRG;
            }
        }
    }

    return 0;
}


static int
race_synth_deliver(race_synth_t *s, const race_synth_conf_t *conf,
    race_synth_rng_t *rng, const race_fix_t *all,
    const unsigned char *jumped)
{
    size_t             i, j, k, no, n, nall, ndup, x, from, to;
    size_t            *order, *since;
    unsigned char     *sent, *flushed;
    race_synth_dup_t   dups[RACE_SYNTH_DUPS];

    nall = s->nsec + 1;

    order = malloc(nall * sizeof(size_t));
    sent = calloc(nall, 1);
    since = calloc(conf->ndropouts + 1, sizeof(size_t));
    flushed = calloc(conf->ndropouts + 1, 1);
    s->fixes = malloc(2 * nall * sizeof(race_fix_t));
    s->truth = malloc(2 * nall * sizeof(double));
    s->jumped = malloc(2 * nall);

    if (order == NULL || sent == NULL || since == NULL || flushed == NULL
        || s->fixes == NULL || s->truth == NULL || s->jumped == NULL)
    {
        free(order);
        free(sent);
        free(since);
        free(flushed);
        return -1;
    }

    /* the live order, each dead zone's backlog after its first fixes */

    no = 0;

    for (i = 0; i <= nall; i++) {

        for (j = 0; j < conf->ndropouts; j++) {
            if (flushed[j] || conf->dropouts[j].lost
                || (i < nall
                    && (i < conf->dropouts[j].from + conf->dropouts[j].secs
                        || since[j] < conf->backfill_after)))
            {
                continue;
            }

            flushed[j] = 1;
            from = (size_t) ceil(conf->dropouts[j].from);
            to = (size_t) ceil(conf->dropouts[j].from
                               + conf->dropouts[j].secs);

            for (k = from; k < to && k < nall; k++) {
                if (!sent[k]) {
                    sent[k] = 1;
                    order[no++] = k;
                }
            }
        }

        if (i == nall || race_synth_in_dropout(conf, i)) {
            continue;
        }

        sent[i] = 1;
        order[no++] = i;

        for (j = 0; j < conf->ndropouts; j++) {
            if (i >= conf->dropouts[j].from + conf->dropouts[j].secs) {
                since[j]++;
            }
        }
    }

    /* neighbours swapped */

    for (k = 0; k + 1 < no; k++) {
        if (race_synth_rng_uniform(rng) < conf->swap_p) {
            x = order[k];
            order[k] = order[k + 1];
            order[k + 1] = x;
            k++;
        }
    }

    /* duplicates, sent again one to three fixes later */

    n = 0;
    ndup = 0;

    for (k = 0; k <= no; k++) {

        for (j = 0; j < ndup; /* void */) {
            if (k < no && --dups[j].left > 0) {
                j++;
                continue;
            }

            x = dups[j].fix;
            s->fixes[n] = all[x];
            s->truth[n] = s->dist[x];
            s->jumped[n] = jumped[x];
            n++;

            dups[j] = dups[--ndup];
        }

        if (k == no) {
            break;
        }

        x = order[k];
        s->fixes[n] = all[x];
        s->truth[n] = s->dist[x];
        s->jumped[n] = jumped[x];
        n++;

        if (ndup < RACE_SYNTH_DUPS
            && race_synth_rng_uniform(rng) < conf->dup_p)
        {
            dups[ndup].fix = x;
            dups[ndup].left = 1 + (unsigned) (race_synth_rng_next(rng) % 3);
            ndup++;
        }
    }

    s->n = n;

    free(order);
    free(sent);
    free(since);
    free(flushed);

    return 0;
}


static size_t
race_synth_segment(const race_course_t *course, double dist)
{
    size_t  lo, hi, mid;

    /* the last point at or before dist, not the course's last */

    lo = 0;
    hi = course->n - 2;

    while (lo < hi) {
        mid = lo + (hi - lo + 1) / 2;

        if (course->points[mid].dist <= dist) {
            lo = mid;

        } else {
            hi = mid - 1;
        }
    }

    return lo;
}


static double
race_synth_grade(const race_course_t *course, double dist)
{
    size_t                      i;
    double                      len;
    const race_course_point_t  *a, *b;

    if (!course->has_ele) {
        return 0.0;
    }

    i = race_synth_segment(course, dist);
    a = &course->points[i];
    b = &course->points[i + 1];
    len = b->dist - a->dist;

    return len > 1.0 ? (b->ele - a->ele) / len : 0.0;
}


static int
race_synth_in_dropout(const race_synth_conf_t *conf, size_t i)
{
    size_t  j;

    for (j = 0; j < conf->ndropouts; j++) {
        if (i >= conf->dropouts[j].from
            && i < conf->dropouts[j].from + conf->dropouts[j].secs)
        {
            return 1;
        }
    }

    return 0;
}
