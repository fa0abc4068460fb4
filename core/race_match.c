
/*
 * ngx_race: a rider's fixes matched onto the course, forward only.
 *
 * For each live fix, a window of the course around the rider's last
 * distance, as far ahead as max_speed allows in the time since the
 * last match; in it, the points nearest the fix where the distance to
 * the course has a local minimum (one per pass of the road near the
 * fix: an out-and-back or a figure-8 gives two, each lap its own
 * window); of those within max_map, the one that costs least: far
 * from the fix, far from where the rider's speed would have taken
 * them, against the rider's heading.
 *
 * The chosen distance feeds an alpha-beta filter (distance and speed);
 * the live distance is the filter's, never lower than before.  The
 * filter is what keeps a rider standing in GPS noise where they are:
 * a plain "the farthest match so far" would climb with every noisy fix
 * ahead of them.
 *
 * Geometry: a local equirectangular projection around the fix, good to
 * well under a metre over the few kilometres a window spans.
 */


#include <math.h>
#include <string.h>

#include "race_match.h"


#define RACE_MATCH_M_DEG      111194.93    /* m per degree of latitude */
#define RACE_MATCH_RAD        (M_PI / 180.0)
#define RACE_MATCH_SIGMA_OFF  20.0         /* m, the cost of being off */
#define RACE_MATCH_SIGMA_ADV  25.0         /* m, of an unexpected advance */
#define RACE_MATCH_HEADING    3.0          /* the cost of going backwards
                                              is twice this */
#define RACE_MATCH_STILL      0.5          /* m/s: a phone standing still */
#define RACE_MATCH_STILL_GAIN 0.1          /* the filter's gain then */
#define RACE_MATCH_MOVING     2.0          /* m/s: a heading means something */
#define RACE_MATCH_STRIDE     30.0         /* m between two fixes for their
                                              bearing to mean something */
#define RACE_MATCH_GAP        30.0         /* s without a match: start the
                                              filter again */
#define RACE_MATCH_T_MAX      RACE_FIX_SEQ_MAX


typedef struct {
    double                  lat;
    double                  lon;
    double                  lo;         /* the window, course distances */
    double                  hi;
    double                  expected;   /* where the rider should be */
    double                  sigma;      /* how sure of it; 0: no idea */
    double                  heading;    /* degrees; < 0: unknown */
    double                  max_map;
    double                  ext;        /* m past the end allowed */

    double                  dist;       /* the match */
    double                  off;
    double                  cost;
    unsigned                found:1;
} race_match_query_t;


typedef struct {
    double                  dist;
    double                  off;
    double                  dx;         /* the segment's way, east */
    double                  dy;         /* and north */
} race_match_cand_t;


static void race_match_live(race_match_t *m, const race_course_t *c,
    const race_match_conf_t *conf, const race_fix_t *fix, int force,
    race_match_out_t *out);
static void race_match_late(race_match_t *m, const race_course_t *c,
    const race_match_conf_t *conf, const race_fix_t *fix,
    race_match_out_t *out);
static void race_match_filter(race_match_t *m, const race_course_t *c,
    const race_match_conf_t *conf, int64_t t, double dist, int still);
static void race_match_step(const race_match_conf_t *conf, double *est,
    double *vel, double dt, double dist);
static int race_match_find(const race_course_t *c, race_match_query_t *q);
static void race_match_consider(race_match_query_t *q,
    const race_match_cand_t *cand);
static double race_match_heading(const race_match_t *m,
    const race_fix_t *fix);
static int race_match_possible(const race_match_conf_t *conf, double lat,
    double lon, int64_t t, const race_fix_t *fix);
static void race_match_remember(race_match_t *m, const race_fix_t *fix,
    double dist, double raw, double vel);
static int race_match_fit(const int64_t *t, const double *raw,
    size_t stride, size_t n, int64_t from, int64_t to, int64_t mid,
    double dist, double v, double *when);
static void race_match_out(const race_match_t *m, const race_fix_t *fix,
    race_match_status_e status, double dist, double off,
    race_match_out_t *out);


void
race_match_conf_default(race_match_conf_t *conf)
{
    conf->max_speed = 25.0;
    conf->max_map = 50.0;
    conf->margin = 100.0;
    conf->noise = 40.0;
    conf->misses = 10;
    conf->finish_tol = 10.0;
    conf->alpha = 0.3;
    conf->beta = 0.03;
}


void
race_match_init(race_match_t *m, int64_t start)
{
    memset(m, 0, sizeof(race_match_t));
    m->start = start;
}


size_t
race_match_push(race_match_t *m, const race_course_t *c,
    const race_match_conf_t *conf, const race_fix_t *fix,
    race_match_out_t out[2])
{
    int         held;
    size_t      n;
    race_fix_t  hold;

    /* what no parser lets through, refused here too: the sums stay sane */

    if (!isfinite(fix->lat) || !isfinite(fix->lon)
        || fix->lat < -90.0 || fix->lat > 90.0
        || fix->lon < -180.0 || fix->lon > 180.0
        || fix->t < 1 || fix->t > RACE_MATCH_T_MAX
        || fix->seq < 0 || fix->seq > RACE_MATCH_T_MAX)
    {
        race_match_out(m, fix, RACE_MATCH_REJECTED, m->dist, -1.0, &out[0]);
        return 1;
    }

    if ((m->held && (fix->t == m->hold.t || fix->seq == m->hold.seq))
        || (m->started && fix->seq == m->seq))
    {
        race_match_out(m, fix, RACE_MATCH_DUPLICATE, m->dist, -1.0, &out[0]);
        return 1;
    }

    if (m->started && fix->t <= m->t) {
        race_match_late(m, c, conf, fix, &out[0]);
        return 1;
    }

    n = 0;

    if (m->held && fix->t > m->hold.t) {

        /*
         * The held fix was impossibly far from the rider, or came
         * after a dead zone.  This one says if it was right: near it,
         * the rider really went there; anywhere else, or long after
         * (when anything is near), it jumped.
         */

        hold = m->hold;
        m->held = 0;

        held = fix->t - hold.t <= RACE_MATCH_GAP * 1000
               && race_match_possible(conf, hold.lat, hold.lon, hold.t, fix);

        if (held) {
            race_match_live(m, c, conf, &hold, 1, &out[n++]);

        } else {
            race_match_out(m, &hold, RACE_MATCH_REJECTED, m->dist, -1.0,
                           &out[n++]);
        }
    }

    race_match_live(m, c, conf, fix, 0, &out[n++]);

    return n;
}


double
race_match_passing(int64_t t0, double d0, int64_t t1, double d1,
    double dist)
{
    if (dist < d0 || dist > d1 || t1 < t0) {
        return NAN;
    }

    if (d1 == d0) {
        return (double) t0;
    }

    return t0 + (t1 - t0) * (dist - d0) / (d1 - d0);
}


double
race_match_split(const race_match_out_t *track, size_t n, double dist)
{
    size_t  lo, hi, mid, i, k;
    double  v, t;

    if (n < 2 || track[n - 1].dist < dist) {
        return NAN;
    }

    /* the first point at or past dist */

    lo = 0;
    hi = n - 1;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (track[mid].dist >= dist) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    if (lo == 0) {
        return track[0].dist == dist ? (double) track[0].t : NAN;
    }

    /* the speed there: the filter's, around the passing */

    v = 0.0;
    k = 0;

    for (i = lo > 5 ? lo - 5 : 0; i < n && i < lo + 5; i++) {
        v += track[i].speed;
        k++;
    }

    if (race_match_fit(&track[0].t, &track[0].raw, sizeof(race_match_out_t),
                       n, track[lo].t - RACE_MATCH_FIT_MS,
                       track[lo].t + RACE_MATCH_FIT_MS, track[lo].t, dist,
                       v / k, &t))
    {
        /* trusted near where the track passes it only */

        if (t >= track[lo - 1].t - RACE_MATCH_FIT_MS / 2
            && t <= track[lo].t + RACE_MATCH_FIT_MS / 2)
        {
            return t;
        }
    }

    return race_match_passing(track[lo - 1].t, track[lo - 1].dist,
                              track[lo].t, track[lo].dist, dist);
}


/*
 * When the fixes with t in [from, to] and a raw distance say the rider
 * passed dist, at speed v: the mean of each one's own say, t + (dist -
 * raw) / v, which averages their noise.  1 when there are at least 4
 * (and, mid given, 2 each side of it), in an array of structs stride
 * bytes apart (a ring's order does not matter).
 */

static int
race_match_fit(const int64_t *t, const double *raw, size_t stride,
    size_t n, int64_t from, int64_t to, int64_t mid, double dist, double v,
    double *when)
{
    size_t       i, k, before;
    double       x, y, sum;
    const char  *pt, *pr;

    if (!(v > RACE_MATCH_STILL)) {
        return 0;
    }

    k = 0;
    before = 0;
    sum = 0.0;

    pt = (const char *) t;
    pr = (const char *) raw;

    for (i = 0; i < n; i++) {
        x = (double) *(const int64_t *) (pt + i * stride);
        y = *(const double *) (pr + i * stride);

        if (x < from || x > to || !isfinite(y)) {
            continue;
        }

        before += (x < mid);
        sum += (x - from) + 1000.0 * (dist - y) / v;
        k++;
    }

    if (k < 4 || (mid != 0 && (before < 2 || k - before < 2))) {
        return 0;
    }

    *when = from + sum / k;

    return 1;
}


static void
race_match_live(race_match_t *m, const race_course_t *c,
    const race_match_conf_t *conf, const race_fix_t *fix, int force,
    race_match_out_t *out)
{
    int                 impossible, still;
    double              dt, f;
    race_match_query_t  q;

    /*
     * Held until the next fix: one impossibly far from the last, and
     * the first after a dead zone, where anything is possible, as a
     * GPS jump on another part of the course would be.
     */

    impossible = m->started
                 && !race_match_possible(conf, m->lat, m->lon, m->t, fix);

    if (m->started && !force
        && (impossible || fix->t - m->t > RACE_MATCH_GAP * 1000)
        && !(m->held && !impossible
             && race_match_possible(conf, m->hold.lat, m->hold.lon,
                                    m->hold.t, fix)))
    {
        if (m->held) {
            /*
             * One fix is held at a time.  This one, older than it (a
             * backlog, or swapped with it), is taken when both the fix
             * before and the held one agree with it, and is just wrong
             * otherwise.
             */
            race_match_out(m, fix, RACE_MATCH_REJECTED, m->dist, -1.0, out);
            return;
        }

        m->held = 1;
        m->hold = *fix;
        m->hold.msg = NULL;

        race_match_out(m, fix, RACE_MATCH_HELD, m->dist, -1.0, out);
        return;
    }

    q.lat = fix->lat;
    q.lon = fix->lon;
    q.heading = race_match_heading(m, fix);
    q.max_map = conf->max_map;
    q.ext = conf->max_map;

    m->started = 1;
    m->t = fix->t;
    m->seq = fix->seq;
    m->lat = fix->lat;
    m->lon = fix->lon;

    if (m->start != 0 && fix->t < m->start) {

        /* waiting at the start: on the course or not, not moving on it */

        q.lo = 0.0;
        q.hi = conf->max_map + conf->margin;
        q.expected = 0.0;
        q.sigma = 0.0;
        q.heading = -1.0;

        race_match_find(c, &q);
        race_match_remember(m, fix, m->dist, NAN, m->vel);
        race_match_out(m, fix, q.found ? RACE_MATCH_MATCHED
                                       : RACE_MATCH_MISSED,
                       m->dist, q.found ? q.off : -1.0, out);
        return;
    }

    if (!m->matched) {
        /* anywhere it could have gone since the start; early rather
         * than late when the course passes twice */
        q.lo = 0.0;
        q.hi = m->start != 0
               ? conf->max_speed * (fix->t - m->start) / 1000.0
                 + conf->margin
               : c->length;
        q.expected = 0.0;
        q.sigma = q.hi > 1.0 ? q.hi : 1.0;

    } else {
        dt = (fix->t - m->mt) / 1000.0;

        q.lo = m->dist - conf->max_map;
        q.hi = m->dist + conf->max_speed * dt + conf->margin;
        q.expected = m->est + m->vel * dt;
        q.sigma = RACE_MATCH_SIGMA_ADV
                  + 0.5 * (m->vel > 3.0 ? m->vel : 3.0) * dt;
    }

    if (m->finished) {
        /*
         * Past the line: nothing moves the rider any more, but the
         * fixes just after it say again when they crossed it.
         */

        race_match_find(c, &q);
        race_match_remember(m, fix, m->dist, q.found ? q.dist : NAN,
                            m->vel);

        if (fix->t <= m->finish_t + RACE_MATCH_FIT_MS / 2
            && race_match_fit(&m->recent[0].t, &m->recent[0].raw,
                              sizeof(race_match_recent_t), RACE_MATCH_RECENT,
                              m->finish_t - RACE_MATCH_FIT_MS,
                              m->finish_t + RACE_MATCH_FIT_MS / 2,
                              m->finish_t, c->length, m->moving, &f)
            && fabs(f - m->finish_t) < RACE_MATCH_FIT_MS / 2)
        {
            m->finish_t = f;
        }

        race_match_out(m, fix, q.found ? RACE_MATCH_MATCHED
                                       : RACE_MATCH_MISSED,
                       m->dist, q.found ? q.off : -1.0, out);
        return;
    }

    if (!race_match_find(c, &q)) {

        if (++m->misses >= conf->misses) {
            m->off_course = 1;
        }

        race_match_remember(m, fix, m->dist, NAN, m->vel);
        race_match_out(m, fix, m->off_course ? RACE_MATCH_OFF_COURSE
                                             : RACE_MATCH_MISSED,
                       m->dist, -1.0, out);
        return;
    }

    m->misses = 0;
    m->off_course = 0;

    /*
     * A phone that says it is not moving (its Doppler speed is good to
     * a fraction of a m/s) is believed, near where the rider was: GPS
     * noise then moves nothing.
     */

    still = (fix->has & RACE_FIX_SPD) && fix->spd < RACE_MATCH_STILL
            && m->matched && fabs(q.dist - m->est) < conf->max_map;

    race_match_filter(m, c, conf, fix->t, q.dist, still);
    race_match_remember(m, fix, m->dist, q.dist, m->vel);
    race_match_out(m, fix, RACE_MATCH_MATCHED, m->dist, q.off, out);
    out->raw = q.dist;
}


static void
race_match_late(race_match_t *m, const race_course_t *c,
    const race_match_conf_t *conf, const race_fix_t *fix,
    race_match_out_t *out)
{
    int                         have_lo;
    unsigned                    k;
    double                      dt, v, lo_d, hi_d, d, est, vel;
    race_match_query_t          q;
    const race_match_recent_t  *e, *lo, *hi;

    /* its neighbours on the track, the newest first */

    lo = NULL;
    hi = NULL;

    for (k = m->nrecent; k > 0; k--) {
        e = &m->recent[(m->head + k - 1) % RACE_MATCH_RECENT];

        if (e->t == fix->t || e->seq == fix->seq) {
            race_match_out(m, fix, RACE_MATCH_DUPLICATE, m->dist, -1.0,
                           out);
            return;
        }

        if (e->t < fix->t) {
            lo = e;
            break;
        }

        hi = e;
    }

    if (lo == NULL && m->floor.t != 0) {
        if (m->floor.t == fix->t) {
            race_match_out(m, fix, RACE_MATCH_DUPLICATE, m->dist, -1.0,
                           out);
            return;
        }

        if (m->floor.t < fix->t) {
            lo = &m->floor;
        }
    }

    have_lo = (lo != NULL);

    if (hi == NULL
        || (have_lo && !race_match_possible(conf, lo->lat, lo->lon, lo->t,
                                            fix))
        || !race_match_possible(conf, hi->lat, hi->lon, hi->t, fix))
    {
        race_match_out(m, fix, RACE_MATCH_REJECTED, m->dist, -1.0, out);
        out->late = 1;
        return;
    }

    /*
     * Matched forward from the fix before it, as if live, at the
     * average speed between its neighbours: a backlog, fix after fix,
     * follows the road it was on, not the other leg of an out-and-back
     * that also lies between them.
     */

    hi_d = hi->dist;

    if (have_lo) {
        lo_d = lo->dist;
        dt = (fix->t - lo->t) / 1000.0;
        v = (hi_d - lo_d) / ((hi->t - lo->t) / 1000.0);
        q.expected = lo_d + v * dt;
        q.hi = lo_d + conf->max_speed * dt + conf->margin;
        q.hi = q.hi < hi_d ? q.hi : hi_d;

    } else {
        dt = (hi->t - fix->t) / 1000.0;
        lo_d = hi_d - conf->max_speed * dt - conf->margin;
        lo_d = lo_d > 0.0 ? lo_d : 0.0;
        v = m->vel > 0.0 ? m->vel : 0.0;
        q.expected = hi_d - v * dt;
        q.hi = hi_d;
    }

    q.lat = fix->lat;
    q.lon = fix->lon;
    q.lo = lo_d - conf->max_map;
    q.hi += conf->max_map;
    q.sigma = RACE_MATCH_SIGMA_ADV + 0.5 * (v > 3.0 ? v : 3.0) * dt;
    q.heading = (fix->has & RACE_FIX_BRG) ? fix->brg : -1.0;
    q.max_map = conf->max_map;
    q.ext = 0.0;

    /*
     * A backlog gets a filter of its own, as the live fixes do, carried
     * from one late fix to the next, started again at a late fix whose
     * neighbour before is not the last late one.
     */

    if (have_lo && m->late_t == lo->t) {
        est = m->late_est;
        vel = m->late_vel;

    } else {
        /* at the speed the rider had before it */
        est = have_lo ? lo_d : q.expected;
        vel = have_lo ? lo->vel : v;
    }

    if (race_match_find(c, &q)) {
        if ((fix->has & RACE_FIX_SPD) && fix->spd < RACE_MATCH_STILL) {
            vel = 0.0;
            est += RACE_MATCH_STILL_GAIN * (q.dist - est);

        } else {
            race_match_step(conf, &est, &vel, have_lo ? dt : 0.0, q.dist);
        }

    }

    /* a late miss moves nothing: predicted on, a backlog would run away */

    m->late_t = fix->t;
    m->late_est = est;
    m->late_vel = vel;

    d = est < lo_d ? lo_d : (est > hi_d ? hi_d : est);

    race_match_remember(m, fix, d, q.found ? q.dist : NAN, vel);
    race_match_out(m, fix, q.found ? RACE_MATCH_MATCHED : RACE_MATCH_MISSED,
                   d, q.found ? q.off : -1.0, out);
    out->raw = q.found ? q.dist : NAN;
    out->late = 1;
}


static void
race_match_filter(race_match_t *m, const race_course_t *c,
    const race_match_conf_t *conf, int64_t t, double dist, int still)
{
    double                      est0, f;
    int64_t                     mt0, tx;
    unsigned                    k;
    const race_match_recent_t  *r;

    est0 = m->est;
    mt0 = m->mt;

    if (still) {
        /* the noise averaged away, slowly, without a speed to carry it */
        m->vel = 0.0;
        m->est += RACE_MATCH_STILL_GAIN * (dist - m->est);

    } else if (!m->matched) {
        m->est = dist;
        m->vel = 0.0;
        est0 = dist;
        mt0 = t;

    } else {
        race_match_step(conf, &m->est, &m->vel, (t - m->mt) / 1000.0,
                        dist);
        if (m->vel > 2.0 * RACE_MATCH_STILL) {
            m->moving = m->vel;
        }
    }

    m->matched = 1;
    m->mt = t;

    if (m->est > m->dist) {
        m->dist = m->est < c->length ? m->est : c->length;
    }

    m->speed = m->vel > 0.0 ? m->vel : 0.0;

    if (!m->finished && m->est >= c->length - conf->finish_tol) {

        /*
         * When the filter crossed the line: between the last match and
         * this one, or ahead at its speed when still a little short.
         */

        /*
         * Where the fixes up to the first near the line, noise averaged
         * by a straight line through them, reach it: the filter is late
         * by a second or two when a rider stops at the line.
         */

        tx = t;

        for (k = 0; k < m->nrecent; k++) {
            r = &m->recent[(m->head + k) % RACE_MATCH_RECENT];

            if (r->t >= t - RACE_MATCH_FIT_MS && isfinite(r->raw)
                && r->raw >= c->length - conf->finish_tol)
            {
                tx = r->t;
                break;
            }
        }

        if (race_match_fit(&m->recent[0].t, &m->recent[0].raw,
                           sizeof(race_match_recent_t), RACE_MATCH_RECENT,
                           tx - RACE_MATCH_FIT_MS, tx - 1, 0, c->length,
                           m->vel > 2.0 * RACE_MATCH_STILL ? m->vel
                                                           : m->moving,
                           &f))
        {
            f = f < tx - RACE_MATCH_FIT_MS ? tx - RACE_MATCH_FIT_MS : f;
            m->finish_t = f < t + 5000.0 ? f : t + 5000.0;
        } else if (m->est >= c->length && est0 < c->length) {
            f = (c->length - est0) / (m->est - est0);
            m->finish_t = mt0 + f * (double) (t - mt0);

        } else {
            f = (c->length - m->est)
                / (m->vel > 1.0 ? m->vel : 1.0);
            m->finish_t = t + 1000.0 * (f > 0.0 ? f : 0.0);
        }

        m->finished = 1;
        m->dist = c->length;
    }
}


static void
race_match_step(const race_match_conf_t *conf, double *est, double *vel,
    double dt, double dist)
{
    double  a, b, p, r;

    if (dt > RACE_MATCH_GAP) {
        /* after a dead zone: the average speed across it */
        *vel = (dist - *est) / dt;
        *est = dist;

    } else if (dt > 0.0) {
        a = dt == 1.0 ? conf->alpha : 1.0 - pow(1.0 - conf->alpha, dt);
        b = dt == 1.0 ? conf->beta : 1.0 - pow(1.0 - conf->beta, dt);

        p = *est + *vel * dt;
        r = dist - p;
        *est = p + a * r;
        *vel += b * r / dt;
    }

    *vel = *vel < -conf->max_speed ? -conf->max_speed
           : (*vel > conf->max_speed ? conf->max_speed : *vel);
}


static int
race_match_find(const race_course_t *c, race_match_query_t *q)
{
    int                         desc, have;
    size_t                      lo, hi, mid, i, last;
    double                      kx, ky, ax, ay, bx, by, dx, dy, len2, s,
                                smin, smax, seg, px, py, e, prev_e;
    race_match_cand_t           prev, cur;
    const race_course_point_t  *a, *b;

    q->found = 0;
    q->cost = INFINITY;

    if (c->n < 2 || q->hi < 0.0 || q->lo > c->length + q->ext
        || q->hi < q->lo)
    {
        return 0;
    }

    /* the segment where the window starts */

    lo = 0;
    hi = c->n - 2;

    while (lo < hi) {
        mid = lo + (hi - lo + 1) / 2;

        if (c->points[mid].dist <= q->lo) {
            lo = mid;

        } else {
            hi = mid - 1;
        }
    }

    ky = RACE_MATCH_M_DEG;
    kx = RACE_MATCH_M_DEG * cos(q->lat * RACE_MATCH_RAD);
    last = c->n - 2;

    desc = 1;
    have = 0;
    prev_e = INFINITY;
    memset(&prev, 0, sizeof(race_match_cand_t));

    for (i = lo; i <= last && c->points[i].dist <= q->hi; i++) {
        a = &c->points[i];
        b = &c->points[i + 1];
        seg = b->dist - a->dist;

        /* the fix at the origin, x east and y north in metres */

        dx = b->lon - a->lon;
        ax = a->lon - q->lon;
        dx = dx > 180.0 ? dx - 360.0 : (dx < -180.0 ? dx + 360.0 : dx);
        ax = ax > 180.0 ? ax - 360.0 : (ax < -180.0 ? ax + 360.0 : ax);

        ax *= kx;
        ay = (a->lat - q->lat) * ky;
        bx = ax + dx * kx;
        by = (b->lat - q->lat) * ky;
        dx = bx - ax;
        dy = by - ay;
        len2 = dx * dx + dy * dy;

        s = len2 > 0.0 ? -(ax * dx + ay * dy) / len2 : 0.0;

        /* only the part of the segment inside the window */

        smin = seg > 0.0 ? (q->lo - a->dist) / seg : 0.0;
        smax = seg > 0.0 ? (q->hi - a->dist) / seg : 1.0;
        smin = smin > 0.0 ? smin : 0.0;

        if (i == last) {
            s = s < 1.0 + q->ext / (seg > 1.0 ? seg : 1.0)
                ? s : 1.0 + q->ext / (seg > 1.0 ? seg : 1.0);
            smax = smax < s ? smax : s;

        } else {
            smax = smax < 1.0 ? smax : 1.0;
        }

        s = s < smin ? smin : (s > smax ? smax : s);

        px = ax + s * dx;
        py = ay + s * dy;
        e = sqrt(px * px + py * py);

        cur.dist = a->dist + s * seg;
        cur.off = e;
        cur.dx = dx;
        cur.dy = dy;

        /* the previous segment was a local minimum: ahead rises again */

        if (have && desc && prev_e < e) {
            race_match_consider(q, &prev);
        }

        desc = (e <= prev_e);
        prev_e = e;
        prev = cur;
        have = 1;
    }

    if (have && desc) {
        race_match_consider(q, &prev);
    }

    return q->found;
}


static void
race_match_consider(race_match_query_t *q, const race_match_cand_t *cand)
{
    double  cost, x, h, len;

    if (cand->off > q->max_map) {
        return;
    }

    x = cand->off / RACE_MATCH_SIGMA_OFF;
    cost = x * x;

    if (q->sigma > 0.0) {
        x = (cand->dist - q->expected) / q->sigma;
        cost += x * x;
    }

    if (q->heading >= 0.0) {
        /* 1 - cos of the angle between the heading and the road */
        len = sqrt(cand->dx * cand->dx + cand->dy * cand->dy);

        if (len > 0.0) {
            h = q->heading * RACE_MATCH_RAD;
            cost += RACE_MATCH_HEADING
                    * (1.0 - (sin(h) * cand->dx + cos(h) * cand->dy) / len);
        }
    }

    if (cost < q->cost) {
        q->cost = cost;
        q->dist = cand->dist;
        q->off = cand->off;
        q->found = 1;
    }
}


static double
race_match_heading(const race_match_t *m, const race_fix_t *fix)
{
    double  d, moving;

    /* the phone's own, when it is moving */

    if (fix->has & RACE_FIX_BRG) {
        moving = (fix->has & RACE_FIX_SPD) ? fix->spd : m->vel;

        return moving >= RACE_MATCH_MOVING ? fix->brg : -1.0;
    }

    /* else from the last fix, when far enough for noise not to turn it */

    if (!m->started || fix->t - m->t > 10000) {
        return -1.0;
    }

    d = race_geo_distance(m->lat, m->lon, fix->lat, fix->lon);

    if (d < RACE_MATCH_STRIDE) {
        return -1.0;
    }

    return race_geo_bearing(m->lat, m->lon, fix->lat, fix->lon);
}


static int
race_match_possible(const race_match_conf_t *conf, double lat, double lon,
    int64_t t, const race_fix_t *fix)
{
    double  dt;

    dt = (fix->t - t) / 1000.0;
    dt = dt < 0.0 ? -dt : dt;

    return race_geo_distance(lat, lon, fix->lat, fix->lon)
           <= conf->max_speed * dt + conf->noise;
}


static void
race_match_remember(race_match_t *m, const race_fix_t *fix, double dist,
    double raw, double vel)
{
    unsigned              k;
    race_match_recent_t  *r, e;

    e.t = fix->t;
    e.seq = fix->seq;
    e.dist = dist;
    e.raw = raw;
    e.vel = vel;
    e.lat = fix->lat;
    e.lon = fix->lon;

    if (m->nrecent == RACE_MATCH_RECENT) {
        r = &m->recent[m->head];

        if (e.t < r->t) {
            /* older than all it remembers: the floor, if newer than it */
            if (e.t > m->floor.t) {
                m->floor = e;
            }

            return;
        }

        m->floor = *r;
        m->head = (m->head + 1) % RACE_MATCH_RECENT;
        m->nrecent--;
    }

    /* by t: a live fix goes last, a late one slides in */

    for (k = m->nrecent; k > 0; k--) {
        r = &m->recent[(m->head + k - 1) % RACE_MATCH_RECENT];

        if (r->t < e.t) {
            break;
        }

        m->recent[(m->head + k) % RACE_MATCH_RECENT] = *r;
    }

    m->recent[(m->head + k) % RACE_MATCH_RECENT] = e;
    m->nrecent++;
}


static void
race_match_out(const race_match_t *m, const race_fix_t *fix,
    race_match_status_e status, double dist, double off,
    race_match_out_t *out)
{
    out->status = status;
    out->seq = fix->seq;
    out->t = fix->t;
    out->dist = dist;
    out->off = off;
    out->raw = NAN;
    out->speed = m->speed;
    out->late = 0;
    out->finished = m->finished;
    out->off_course = m->off_course;
}
