
/*
 * ngx_race: a synthetic rider that knows the truth (docs/INTERNALS.md,
 * "Map matching").
 *
 * A pure core for tests and benchmarks: a course, a speed profile and
 * faults in; a rider's fixes out, one a second, in the order a tracker
 * would receive them, with the truth beside them: where on the course
 * the rider really was at each fix, when they really passed any course
 * distance, when they really finished.  Deterministic: the same seed
 * and rider give the same fixes on every machine (its own PRNG, no
 * rand()).
 */


#ifndef _RACE_SYNTH_H_INCLUDED_
#define _RACE_SYNTH_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_course.h"
#include "race_fix.h"


/* a stop on the way: the café */
typedef struct {
    double                  at;         /* course distance, m */
    double                  secs;       /* stopped for */
} race_synth_stop_t;


/* a dead zone: the fixes of [from, from + secs) are held back */
typedef struct {
    double                  from;       /* s after the start */
    double                  secs;
    unsigned                lost:1;     /* never delivered at all */
} race_synth_dropout_t;


typedef struct {
    int64_t                 start;      /* Unix ms, the first fix */
    uint64_t                seed;

    /* the speed profile */
    double                  speed;      /* m/s on the flat */
    double                  speed_var;  /* per rider, +- this fraction */
    double                  wobble;     /* +- this fraction, a slow wave */
    double                  climb;      /* speed / (1 + climb * grade) up */
    double                  accel;      /* m/s2 from a standstill; 0: 1 */
    const race_synth_stop_t  *stops;    /* by distance */
    size_t                  nstops;
    double                  tail;       /* s of fixes after the finish:
                                           rolling on, braking, stopped */

    /* the faults */
    double                  noise_min;  /* GPS noise, sigma in m per axis, */
    double                  noise_max;  /* per rider in [min, max] */
    double                  jump_p;     /* a fix 1-5 km off, per fix */
    const int64_t          *jumps;      /* and these seqs, too */
    size_t                  njumps;
    const race_synth_dropout_t  *dropouts;
    size_t                  ndropouts;
    unsigned                backfill_after; /* live fixes sent after a
                                               dead zone before its
                                               backlog */
    double                  dup_p;      /* a fix sent twice, per fix */
    double                  swap_p;     /* two neighbours swapped */

    unsigned                spd:1;      /* the fixes carry spd and brg */
} race_synth_conf_t;


typedef struct {
    race_fix_t             *fixes;      /* n, in delivery order; seq from
                                           1, t = start + 1000 * (seq - 1) */
    double                 *truth;      /* n: the true course distance at
                                           each fix's t */
    unsigned char          *jumped;     /* n: 1 when the fix is a jump */
    size_t                  n;

    double                 *dist;       /* nsec + 1: the true course
                                           distance at each second */
    size_t                  nsec;
    double                 *over;       /* nsec + 1: m past the finish
                                           line, rolling on after it */

    int64_t                 start;      /* Unix ms */
    double                  finish;     /* Unix ms, exact; 0: never */
    double                  length;     /* the course's */
    double                  speed;      /* this rider's on the flat */
    double                  noise;      /* this rider's sigma */
} race_synth_t;


/*
 * Rides course with conf as rider number rider (its speed, noise and
 * faults drawn from seed and rider).  0, or -1 when out of memory.
 * race_synth_free() frees what it made.
 */
int race_synth_ride(race_synth_t *s, const race_course_t *course,
    const race_synth_conf_t *conf, unsigned rider);

void race_synth_free(race_synth_t *s);

/* the true time (Unix ms) the rider first reached dist; NAN if never */
double race_synth_time_at(const race_synth_t *s, double dist);

/* the true course distance at time t (Unix ms) */
double race_synth_dist_at(const race_synth_t *s, double t);

/*
 * The position at course distance dist (past the end: on along the
 * last segment), and the course's bearing there.
 */
void race_synth_point_at(const race_course_t *course, double dist,
    double *lat, double *lon, double *ele, double *bearing);

/* the PRNG: splitmix64 seeded xorshift64*, and its draws */
typedef struct {
    uint64_t                s;
} race_synth_rng_t;

void race_synth_rng_seed(race_synth_rng_t *r, uint64_t seed);
uint64_t race_synth_rng_next(race_synth_rng_t *r);
double race_synth_rng_uniform(race_synth_rng_t *r);     /* [0, 1) */
double race_synth_rng_gauss(race_synth_rng_t *r);       /* N(0, 1) */


#endif /* _RACE_SYNTH_H_INCLUDED_ */
