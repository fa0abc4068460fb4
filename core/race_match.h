
/*
 * ngx_race: a rider's fixes matched onto the course, forward only
 * (docs/INTERNALS.md, "Map matching").
 *
 * A pure core: a fix in, where on the course the rider is out.  The
 * state of one rider is a plain struct the caller owns (no allocation,
 * ever); the course is shared and only read.  Fixes may come in any
 * order, twice, or wrong: the live course distance never goes back, a
 * GPS jump never moves the rider, standing still adds nothing.
 *
 * What the standings need of a rider is in the state: t, dist, speed,
 * finished and finish_t, off_course.
 */


#ifndef _RACE_MATCH_H_INCLUDED_
#define _RACE_MATCH_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_course.h"
#include "race_fix.h"


/* the fixes a rider's state remembers, for late fixes and duplicates */
#define RACE_MATCH_RECENT   16


typedef struct {
    double                  max_speed;  /* m/s a rider can go: 25 */
    double                  max_map;    /* m from the course a fix may be
                                           and still match: 50 */
    double                  margin;     /* m added ahead of the window
                                           max_speed x elapsed: 100 */
    double                  noise;      /* m a fix may be off, allowed on
                                           top of max_speed: 40 */
    unsigned                misses;     /* misses in a row: off course; 10 */
    double                  finish_tol; /* finished this short of the
                                           course's length, m: 10 */
    double                  alpha;      /* the distance filter's gains: */
    double                  beta;       /* 0.3 and 0.03 a second */
} race_match_conf_t;


typedef enum {
    RACE_MATCH_MATCHED = 0,     /* on the course at dist */
    RACE_MATCH_MISSED,          /* nowhere near the course in the window */
    RACE_MATCH_OFF_COURSE,      /* missed, misses in a row: off course */
    RACE_MATCH_HELD,            /* impossibly far: the next fix decides */
    RACE_MATCH_REJECTED,        /* a jump, or impossible for a late fix */
    RACE_MATCH_DUPLICATE        /* its seq or t seen already */
} race_match_status_e;


/*
 * What became of one fix.  dist is the fix's course distance on the
 * rider's track: for a live fix the live distance after it (its status
 * MATCHED, MISSED or OFF_COURSE), for a late one (late set: older than
 * the rider's newest) its own distance, between those of the fixes
 * before and after it; for HELD, REJECTED and DUPLICATE the live
 * distance, unchanged.  The track (every MATCHED, MISSED, OFF_COURSE
 * fix by t, late ones included) never goes back.
 */
typedef struct {
    race_match_status_e     status;
    int64_t                 seq;
    int64_t                 t;          /* Unix ms, the fix's */
    double                  dist;       /* m from the start */
    double                  off;        /* m from the course; -1: none */
    double                  raw;        /* m, the fix's own match, before
                                           the filter; NAN: none */
    double                  speed;      /* m/s, smoothed, after it */
    unsigned                late:1;
    unsigned                finished:1;
    unsigned                off_course:1;
} race_match_out_t;


typedef struct {
    int64_t                 t;
    int64_t                 seq;
    double                  dist;
    double                  raw;
    double                  vel;
    double                  lat;
    double                  lon;
} race_match_recent_t;


/* one rider; zeroed by race_match_init(), then only read by callers */
typedef struct {
    int64_t                 start;      /* the race's start, Unix ms; 0 */

    /* the standings' part */
    int64_t                 t;          /* the newest fix taken, Unix ms */
    double                  dist;       /* live course distance, m */
    double                  speed;      /* m/s, smoothed */
    double                  finish_t;   /* Unix ms when finished */
    unsigned                started:1;  /* a fix taken */
    unsigned                finished:1; /* dist reached the length */
    unsigned                off_course:1;

    /* the matcher's own */
    int64_t                 seq;
    double                  lat;        /* the newest fix taken */
    double                  lon;
    int64_t                 mt;         /* the newest fix matched */
    double                  est;        /* the filter: distance, */
    double                  vel;        /* and speed */
    double                  moving;     /* its speed before a stop */
    unsigned                misses;
    unsigned                matched:1;
    unsigned                held:1;
    race_fix_t              hold;       /* msg NULL */

    int64_t                 late_t;     /* the last late fix, */
    double                  late_est;   /* and the backlog's filter */
    double                  late_vel;

    race_match_recent_t     recent[RACE_MATCH_RECENT];  /* by t, a ring */
    unsigned                head;
    unsigned                nrecent;
    race_match_recent_t     floor;      /* newest forgotten; t 0: none */
} race_match_t;


void race_match_conf_default(race_match_conf_t *conf);

/* a new rider of a race starting at start (Unix ms, 0: unknown) */
void race_match_init(race_match_t *m, int64_t start);

/*
 * Takes one fix.  Writes what became of it to out[] and returns how
 * many were written, 1 or 2: when the fix decides a held one, out[0]
 * is the held fix's end (MATCHED, or REJECTED) and out[1] this fix's.
 * Fixes before the start match at distance 0.
 */
size_t race_match_push(race_match_t *m, const race_course_t *course,
    const race_match_conf_t *conf, const race_fix_t *fix,
    race_match_out_t out[2]);

/*
 * When the rider passed course distance dist between two points of a
 * track (t in ms, a before b), evenly between them; NAN when dist is
 * not between them.
 */
double race_match_passing(int64_t t0, double d0, int64_t t1, double d1,
    double dist);

/*
 * When the rider passed course distance dist, from a track: the outputs
 * of MATCHED, MISSED and OFF_COURSE fixes, by t.  What the raw
 * distances of the fixes within RACE_MATCH_FIT_MS of where the track
 * passes dist say at the speed there, averaged: the GPS noise of one
 * fix is 1-2 s at a rider's speed, of ten a third of that.  Evenly
 * between the two fixes around it when too few fixes are there.  NAN
 * when the track never passes dist.
 */
#define RACE_MATCH_FIT_MS   10000

double race_match_split(const race_match_out_t *track, size_t n,
    double dist);


#endif /* _RACE_MATCH_H_INCLUDED_ */
