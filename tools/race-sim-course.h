
/*
 * race-sim: riders on a real course (--course), and the truth about
 * them (--truth).
 *
 * A course file (GPX or GeoJSON, as the races API takes it) is parsed
 * with the course core; each rider's ride along it is drawn once, at
 * the start, by the synthetic rider core (core/race_synth.h): a speed
 * of its own from --speed and --speed-spread, a slow wobble, slower
 * uphill, accelerating from a standstill at the start.  A fix taken at
 * wall-clock time t is where that ride is at t, off the course by at
 * most --noise metres in a random direction, so a fix's true course
 * distance is known exactly and a test can compare the tracker's
 * standings and results with it.
 */


#ifndef _RACE_SIM_COURSE_H_INCLUDED_
#define _RACE_SIM_COURSE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "race_course.h"
#include "race_fix.h"
#include "race_synth.h"


/* fixes a rider still sends after crossing the line, then stops */
#define SIM_COURSE_TAIL_FIXES   3


typedef struct {
    double                   speed;      /* m/s on the flat */
    double                   spread;     /* per rider, +- this fraction */
    double                   noise;      /* m off the course, at most */
    unsigned                 laps;
    uint64_t                 seed;
    int64_t                  interval_ms;    /* for the tail's length */
} sim_course_conf_t;


typedef struct {
    race_course_t            course;
    sim_course_conf_t        conf;
} sim_course_t;


/* what one fix really was */
typedef struct {
    int64_t                  seq;
    int64_t                  t;          /* Unix ms */
    double                   dist;       /* m along the course; past the
                                            length: rolling on after the
                                            line */
} sim_course_truth_t;


typedef struct {
    race_synth_t             synth;      /* dist and over by the second */
    race_synth_rng_t         rng;        /* the GPS noise */
    unsigned                 after;      /* fixes taken past the line */
    int64_t                  last_t;     /* the last fix's t, 0: none */
    double                   last_dist;

    sim_course_truth_t      *truth;      /* with --truth only */
    size_t                   ntruth;
    size_t                   truth_size;
} sim_course_rider_t;


/*
 * Reads and parses the course file; -1 with the reason on stderr.
 * sim_course_free() frees it.
 */
int sim_course_load(sim_course_t *c, const char *path,
    const sim_course_conf_t *conf);
void sim_course_free(sim_course_t *c);

/*
 * Draws rider number index's ride, starting from the line at start
 * (Unix ms).  0, or -1 when out of memory.
 */
int sim_course_rider_start(sim_course_rider_t *cr, const sim_course_t *c,
    unsigned index, int64_t start);
void sim_course_rider_free(sim_course_rider_t *cr);

/* the Unix ms by which the rider has taken its last fix, at the latest */
int64_t sim_course_rider_end(const sim_course_rider_t *cr,
    const sim_course_t *c);

/*
 * The fix taken at f->t (set by the caller, as seq): lat, lon, ele,
 * acc, spd, brg.  With keep_truth the truth is kept for
 * sim_course_truth_json().  Returns 1 when it is the rider's last fix
 * (SIM_COURSE_TAIL_FIXES after the line), 0 otherwise.
 */
int sim_course_rider_fix(sim_course_rider_t *cr, const sim_course_t *c,
    race_fix_t *f, int keep_truth);

/*
 * The rider's truth: {"start","finish","speed_mps","distance_m",
 * "last_t","after_finish","fixes":[[seq,t,dist_m],...]}; NULL when out
 * of memory.
 */
json_t *sim_course_truth_json(const sim_course_rider_t *cr);

/* {"length_m","lap_length_m","laps","closed","noise_m"} */
json_t *sim_course_json(const sim_course_t *c);


#endif /* _RACE_SIM_COURSE_H_INCLUDED_ */
