
/*
 * race-sim: riders on a real course, and the truth about them
 * (race-sim-course.h).
 */


#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race-sim-course.h"


#define SIM_COURSE_M_DEG        111194.93    /* m per degree of latitude,
                                                as the synthetic rider */
#define SIM_COURSE_WOBBLE       0.05         /* +- of the speed, slowly */
#define SIM_COURSE_CLIMB        8.0          /* speed / (1 + 8 x grade) */
#define SIM_COURSE_ACC_MIN      3.0          /* m, a phone's best claim */
#define SIM_COURSE_ELE          240.0        /* m, for a flat course */


static double sim_course_pos_at(const race_synth_t *s, double t);
static double sim_course_interp(const double *v, size_t n, double x);


int
sim_course_load(sim_course_t *c, const char *path,
    const sim_course_conf_t *conf)
{
    int      rc;
    FILE    *f;
    char    *data, err[RACE_COURSE_ERR_MAX];
    size_t   n;

    memset(c, 0, sizeof(sim_course_t));
    c->conf = *conf;

    data = malloc(RACE_COURSE_INPUT_MAX + 1);
    if (data == NULL) {
        fprintf(stderr, "race-sim: out of memory\n");
        return -1;
    }

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "race-sim: \"%s\": %s\n", path, strerror(errno));
        free(data);
        return -1;
    }

    n = fread(data, 1, RACE_COURSE_INPUT_MAX + 1, f);

    if (ferror(f)) {
        fprintf(stderr, "race-sim: \"%s\": read error\n", path);
        fclose(f);
        free(data);
        return -1;
    }

    fclose(f);

    if (n > RACE_COURSE_INPUT_MAX) {
        fprintf(stderr, "race-sim: \"%s\": a course file is at most %d "
                "bytes\n", path, RACE_COURSE_INPUT_MAX);
        free(data);
        return -1;
    }

    rc = race_course_parse(&c->course, data, n, conf->laps, err,
                           sizeof(err));
    free(data);

    if (rc != 0) {
        fprintf(stderr, "race-sim: course \"%s\": %s\n", path, err);
        return -1;
    }

    return 0;
}


void
sim_course_free(sim_course_t *c)
{
    race_course_free(&c->course);
}


int
sim_course_rider_start(sim_course_rider_t *cr, const sim_course_t *c,
    unsigned index, int64_t start)
{
    race_synth_conf_t  sc;

    memset(cr, 0, sizeof(sim_course_rider_t));
    memset(&sc, 0, sizeof(race_synth_conf_t));

    sc.start = start;
    sc.seed = c->conf.seed;
    sc.speed = c->conf.speed;
    sc.speed_var = c->conf.spread;
    sc.wobble = SIM_COURSE_WOBBLE;
    sc.climb = SIM_COURSE_CLIMB;

    /* the ride lasts past the line as long as the last fixes need */

    sc.tail = ceil((double) SIM_COURSE_TAIL_FIXES
                   * (double) c->conf.interval_ms / 1000.0) + 2.0;

    if (race_synth_ride(&cr->synth, &c->course, &sc, index) != 0) {
        return -1;
    }

    /* only the truth by the second is needed: fixes are taken live */

    free(cr->synth.fixes);
    free(cr->synth.truth);
    free(cr->synth.jumped);
    cr->synth.fixes = NULL;
    cr->synth.truth = NULL;
    cr->synth.jumped = NULL;
    cr->synth.n = 0;

    race_synth_rng_seed(&cr->rng, c->conf.seed
                                  ^ (0x9e3779b97f4a7c15ULL
                                     * ((uint64_t) index + 1)));

    return 0;
}


void
sim_course_rider_free(sim_course_rider_t *cr)
{
    race_synth_free(&cr->synth);
    free(cr->truth);

    cr->truth = NULL;
    cr->ntruth = 0;
    cr->truth_size = 0;
}


int64_t
sim_course_rider_end(const sim_course_rider_t *cr, const sim_course_t *c)
{
    return cr->synth.start + 1000 * ((int64_t) cr->synth.nsec + 1)
           + SIM_COURSE_TAIL_FIXES * c->conf.interval_ms;
}


/*
 * Where the ride is at t (Unix ms): the course distance, and past the
 * line the metres rolled on after it.  The ride is known by the second,
 * taken as even in between, except around the finish, which falls
 * within a second: the rider reaches the line exactly at its time, and
 * rolls on from it, so a fix's truth agrees with the finish time.
 */

static double
sim_course_pos_at(const race_synth_t *s, double t)
{
    size_t  at;
    double  x, f0, shift;

    if (s->finish != 0) {
        /* the first second the ride is at the line */
        at = (size_t) ceil((s->finish - (double) s->start) / 1000.0);
        at = at < 1 ? 1 : (at > s->nsec ? s->nsec : at);

        if (t >= s->finish) {
            /* rolling on: the seconds after "at", from the finish */
            shift = (double) s->start + 1000.0 * (double) at - s->finish;
            return s->length + sim_course_interp(s->over, s->nsec,
                                                 (t + shift
                                                  - (double) s->start)
                                                 / 1000.0);
        }

        f0 = (double) s->start + 1000.0 * (double) (at - 1);

        if (t > f0) {
            return s->dist[at - 1] + (s->length - s->dist[at - 1])
                                     * (t - f0) / (s->finish - f0);
        }
    }

    x = (t - (double) s->start) / 1000.0;

    return sim_course_interp(s->dist, s->nsec, x);
}


/* v[0 .. n], one a second, at x seconds: linear between, held outside */

static double
sim_course_interp(const double *v, size_t n, double x)
{
    size_t  i;

    if (x <= 0) {
        return v[0];
    }

    if (x >= (double) n) {
        return v[n];
    }

    i = (size_t) x;

    return v[i] + (v[i + 1] - v[i]) * (x - (double) i);
}


int
sim_course_rider_fix(sim_course_rider_t *cr, const sim_course_t *c,
    race_fix_t *f, int keep_truth)
{
    size_t               size;
    double               d, g, lat, lon, ele, brg, r, a, v;
    sim_course_truth_t  *p;
    const race_course_t *course;

    course = &c->course;

    d = sim_course_pos_at(&cr->synth, (double) f->t);

    /*
     * Past the line a rider rolls on: round the loop again on a closed
     * course, along the last segment's direction on an open one.
     */

    g = d;

    if (course->closed && d > course->length && course->lap_length > 0) {
        g = course->length - course->lap_length
            + fmod(d - course->length, course->lap_length);
    }

    race_synth_point_at(course, g, &lat, &lon, &ele, &brg);

    if (c->conf.noise > 0) {
        /* evenly over a disc: never further off than --noise */
        r = c->conf.noise * sqrt(race_synth_rng_uniform(&cr->rng));
        a = 2.0 * M_PI * race_synth_rng_uniform(&cr->rng);

        lon += r * sin(a) / (SIM_COURSE_M_DEG * cos(lat * M_PI / 180.0));
        lat += r * cos(a) / SIM_COURSE_M_DEG;

        lat = lat > 90.0 ? 90.0 : (lat < -90.0 ? -90.0 : lat);
        lon = lon > 180.0 ? lon - 360.0 : (lon < -180.0 ? lon + 360.0 : lon);
    }

    v = sim_course_pos_at(&cr->synth, (double) f->t + 500.0)
        - sim_course_pos_at(&cr->synth, (double) f->t - 500.0);

    f->lat = lat;
    f->lon = lon;
    f->ele = course->has_ele ? ele : SIM_COURSE_ELE;
    f->acc = c->conf.noise > SIM_COURSE_ACC_MIN ? c->conf.noise
                                                : SIM_COURSE_ACC_MIN;
    f->spd = v > 0 ? v : 0.0;
    f->brg = brg >= 360.0 ? 0.0 : brg;
    f->has |= RACE_FIX_ELE | RACE_FIX_ACC | RACE_FIX_SPD | RACE_FIX_BRG;

    cr->last_t = f->t;
    cr->last_dist = d < course->length ? d : course->length;

    if (keep_truth) {
        if (cr->ntruth == cr->truth_size) {
            size = cr->truth_size ? cr->truth_size * 2 : 256;

            p = realloc(cr->truth, size * sizeof(sim_course_truth_t));
            if (p == NULL) {
                fprintf(stderr, "race-sim: fatal: out of memory\n");
                exit(1);
            }

            cr->truth = p;
            cr->truth_size = size;
        }

        p = &cr->truth[cr->ntruth++];
        p->seq = f->seq;
        p->t = f->t;
        p->dist = d;
    }

    /* the line is the course's length, never a place: start = finish */

    if (cr->synth.finish != 0 && (double) f->t >= cr->synth.finish) {
        cr->after++;
    }

    return cr->after >= SIM_COURSE_TAIL_FIXES
           || (double) f->t >= (double) sim_course_rider_end(cr, c);
}


json_t *
sim_course_truth_json(const sim_course_rider_t *cr)
{
    size_t   i;
    json_t  *o, *fixes, *fix;

    fixes = json_array();
    if (fixes == NULL) {
        return NULL;
    }

    for (i = 0; i < cr->ntruth; i++) {
        fix = json_pack("[IIf]", (json_int_t) cr->truth[i].seq,
                        (json_int_t) cr->truth[i].t,
                        round(cr->truth[i].dist * 100.0) / 100.0);

        if (fix == NULL || json_array_append_new(fixes, fix) != 0) {
            json_decref(fixes);
            return NULL;
        }
    }

    o = json_pack("{sIsosfsfsIsIso}",
                  "start", (json_int_t) cr->synth.start,
                  "finish", cr->synth.finish != 0
                            ? json_integer((json_int_t)
                                           llround(cr->synth.finish))
                            : json_null(),
                  "speed_mps", round(cr->synth.speed * 1000.0) / 1000.0,
                  "distance_m", round(cr->last_dist * 100.0) / 100.0,
                  "last_t", (json_int_t) cr->last_t,
                  "after_finish", (json_int_t) cr->after,
                  "fixes", fixes);

    return o;
}


json_t *
sim_course_json(const sim_course_t *c)
{
    return json_pack("{sfsfsIsbsf}",
                     "length_m", round(c->course.length * 100.0) / 100.0,
                     "lap_length_m",
                     round(c->course.lap_length * 100.0) / 100.0,
                     "laps", (json_int_t) c->course.laps,
                     "closed", (int) c->course.closed,
                     "noise_m", c->conf.noise);
}
