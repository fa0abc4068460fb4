
/*
 * ngx_race: live standings of one race.
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race_json.h"
#include "race_standings.h"


/* below this, a number of the JSON members is written digit by digit */
#define RACE_STANDINGS_FIXED_MAX  1000000000000000LL     /* 10^15 */


typedef struct {
    int32_t                *pass;       /* ms after the start, bucket k */
    uint8_t                *est;        /* bit k: pass[k] is an estimate */
    size_t                  cap;        /* buckets allocated */
    size_t                  filled;     /* buckets 0 .. filled - 1 hold */

    double                  dist;
    double                  speed;
    int64_t                 t_dist;     /* when dist was first reached */
    int64_t                 t_still;    /* when last seen at dist */
    int64_t                 t_last;     /* latest sample; -1 none */

    race_rider_mark_e       mark;
    unsigned                off:1;
    unsigned                finished:1;
    unsigned                changed:1;

    unsigned                rev;        /* grows as passing times change */
    unsigned                pub_rev;

    race_standing_t         now;
    race_standing_t         pub;        /* as of the last change */
} race_rider_t;


struct race_standings_s {
    double                  length;
    double                  bucket;
    size_t                  nb;         /* the last bucket: the finish */
    int64_t                 start;
    int64_t                 stale_ms;

    double                  cps[RACE_STANDINGS_CHECKPOINTS];
    size_t                  ncps;

    race_rider_t           *riders;
    size_t                  n;
    size_t                  nalloc;
    size_t                 *order;      /* by rank, after a tick */
};


static double race_standings_point(const race_standings_t *s, size_t k);
static int race_standings_grow(race_rider_t *r, size_t need, size_t max);
static size_t race_standings_fill(race_standings_t *s, race_rider_t *r,
    size_t from, double dmax, int64_t t1, double d1, int64_t t2,
    double d2);
static race_sample_rc_e race_standings_backfill(race_standings_t *s,
    race_rider_t *r, int64_t t, double d);
static int64_t race_standings_rel(const race_standings_t *s, int64_t t);
static int race_standings_class(const race_rider_t *r);
static int race_standings_cmp(const void *a, const void *b, void *data);
static int race_standings_same(const race_standing_t *a,
    const race_standing_t *b);
static size_t race_standings_round(char *p, size_t size, double v,
    unsigned scale);
static size_t race_standings_ms(char *p, size_t size, int64_t ms);
static size_t race_standings_fixed(char *p, size_t size, uint64_t n,
    unsigned dec);
static size_t race_standings_lit(char *p, size_t size, const char *str);


static const char  *race_status_names[] = {
    "racing", "finished", "stale", "off_course", "dnf", "dsq"
};


race_standings_t *
race_standings_create(const race_standings_conf_t *conf)
{
    size_t             k;
    race_standings_t  *s;

    if (!isfinite(conf->length) || conf->length <= 0
        || conf->length > 1e8
        || conf->ncheckpoints > RACE_STANDINGS_CHECKPOINTS
        || conf->stale_ms < 0
        || !(conf->bucket_m >= 0) || conf->bucket_m > 1e6)
    {
        return NULL;
    }

    for (k = 0; k < conf->ncheckpoints; k++) {
        if (!(conf->checkpoints[k] > 0 && conf->checkpoints[k] <= conf->length)
            || (k > 0 && conf->checkpoints[k] <= conf->checkpoints[k - 1]))
        {
            return NULL;
        }
    }

    s = calloc(1, sizeof(race_standings_t));
    if (s == NULL) {
        return NULL;
    }

    s->length = conf->length;
    s->start = conf->start;
    s->stale_ms = conf->stale_ms ? conf->stale_ms : RACE_STANDINGS_STALE_MS;

    /* a long course gets longer buckets: memory per rider is bounded */

    s->bucket = conf->bucket_m > 0 ? conf->bucket_m : RACE_STANDINGS_BUCKET_M;

    if (s->length / s->bucket > RACE_STANDINGS_BUCKETS - 1) {
        s->bucket = s->length / (RACE_STANDINGS_BUCKETS - 1);
    }

    s->nb = (size_t) ceil(s->length / s->bucket);

    if (s->nb == 0) {
        s->nb = 1;
    }

    if (s->nb > RACE_STANDINGS_BUCKETS - 1) {
        s->nb = RACE_STANDINGS_BUCKETS - 1;
    }

    s->ncps = conf->ncheckpoints;

    for (k = 0; k < s->ncps; k++) {
        s->cps[k] = conf->checkpoints[k];
    }

    return s;
}


void
race_standings_free(race_standings_t *s)
{
    size_t  i;

    if (s == NULL) {
        return;
    }

    for (i = 0; i < s->n; i++) {
        free(s->riders[i].pass);
        free(s->riders[i].est);
    }

    free(s->riders);
    free(s->order);
    free(s);
}


int
race_standings_add(race_standings_t *s)
{
    size_t         m;
    size_t        *order;
    race_rider_t  *riders, *r;

    if (s->n == s->nalloc) {
        m = s->nalloc ? 2 * s->nalloc : 8;

        riders = realloc(s->riders, m * sizeof(race_rider_t));
        if (riders == NULL) {
            return -1;
        }

        s->riders = riders;

        order = realloc(s->order, m * sizeof(size_t));
        if (order == NULL) {
            return -1;
        }

        s->order = order;
        s->nalloc = m;
    }

    r = &s->riders[s->n];
    memset(r, 0, sizeof(race_rider_t));

    if (race_standings_grow(r, 64, s->nb + 1) != 0) {
        return -1;
    }

    /* every rider is at distance 0 at the start */

    r->pass[0] = 0;
    r->filled = 1;
    r->t_dist = s->start;
    r->t_still = s->start;
    r->t_last = -1;

    r->now.t = -1;
    r->now.gap = -1;
    r->now.gap_prev = -1;
    r->now.eta = -1;
    r->now.finish = -1;
    r->now.to_go = s->length;
    r->now.rank = (unsigned) s->n + 1;

    /* published at the first tick */
    r->pub = r->now;
    r->pub.rank = 0;

    s->order[s->n] = s->n;

    return (int) s->n++;
}


size_t
race_standings_count(const race_standings_t *s)
{
    return s->n;
}


double
race_standings_bucket(const race_standings_t *s)
{
    return s->bucket;
}


race_sample_rc_e
race_standings_sample(race_standings_t *s, size_t i,
    const race_rider_sample_t *sample)
{
    double         d;
    size_t         kmax;
    int64_t        t;
    race_rider_t  *r;

    if (i >= s->n || !isfinite(sample->dist)
        || sample->t < 0 || sample->t > INT64_MAX / 4)
    {
        return RACE_SAMPLE_IGNORED;
    }

    r = &s->riders[i];
    t = sample->t;
    d = sample->dist < 0 ? 0 : sample->dist;

    if (r->t_last >= 0 && t <= r->t_last) {
        return race_standings_backfill(s, r, t, d);
    }

    r->t_last = t;
    r->speed = (isfinite(sample->speed) && sample->speed > 0
                && sample->speed < 1000) ? sample->speed : 0;

    if (r->finished) {
        return RACE_SAMPLE_LIVE;
    }

    if (d <= r->dist) {
        /* still there: the next buckets are reached after this */
        r->t_still = t < s->start ? s->start : t;
        return RACE_SAMPLE_LIVE;
    }

    /* the buckets passed since the rider's last progress */

    kmax = d >= s->length ? s->nb : (size_t) floor(d / s->bucket);

    if (kmax > s->nb) {
        kmax = s->nb;
    }

    if (kmax >= r->filled) {
        if (race_standings_grow(r, kmax + 1, s->nb + 1) != 0) {
            return RACE_SAMPLE_IGNORED;
        }

        race_standings_fill(s, r, r->filled, d, r->t_still, r->dist, t, d);
        r->filled = kmax + 1;
    }

    if (d >= s->length) {
        r->dist = s->length;
        r->t_dist = s->start + r->pass[s->nb];
        r->finished = 1;

    } else {
        r->dist = d;
        r->t_dist = t < s->start ? s->start : t;
    }

    r->t_still = r->t_dist;

    return RACE_SAMPLE_LIVE;
}


/*
 * A late sample: it refines the estimated passing times between the
 * exact ones around it, never the rider's distance.
 */

static race_sample_rc_e
race_standings_backfill(race_standings_t *s, race_rider_t *r, int64_t t,
    double d)
{
    size_t   k0, k1, kd, n;
    double   a0d, a1d;
    int64_t  a0t, a1t, tc;

    if (d >= s->length) {
        d = s->length;
    }

    if (d > r->dist) {
        return RACE_SAMPLE_IGNORED;
    }

    tc = t < s->start ? s->start : t;

    kd = d >= s->length ? s->nb : (size_t) floor(d / s->bucket);

    if (kd >= r->filled) {
        kd = r->filled - 1;
    }

    /* the exact passing times around it: bucket 0 always is */

    for (k0 = kd; k0 > 0; k0--) {
        if (!(r->est[k0 / 8] & (1 << (k0 % 8)))) {
            break;
        }
    }

    a0d = race_standings_point(s, k0);
    a0t = s->start + r->pass[k0];

    for (k1 = k0 + 1; k1 < r->filled; k1++) {
        if (race_standings_point(s, k1) > d
            && !(r->est[k1 / 8] & (1 << (k1 % 8))))
        {
            break;
        }
    }

    if (k1 < r->filled) {
        a1d = race_standings_point(s, k1);
        a1t = s->start + r->pass[k1];

    } else {
        a1d = r->dist;
        a1t = r->t_dist;
    }

    if (tc < a0t || (d < a1d && tc > a1t)) {
        return RACE_SAMPLE_IGNORED;
    }

    n = 0;

    if (d >= a1d) {
        /* at the rider's distance: reached it earlier than known */

        if (tc >= r->t_dist) {
            return RACE_SAMPLE_IGNORED;
        }

        r->t_dist = tc;
        n++;

        if (r->finished) {
            r->pass[s->nb] = (int32_t) race_standings_rel(s, tc);
        }
    }

    if (d > a0d) {
        n += race_standings_fill(s, r, k0 + 1, d, a0t, a0d, tc, d);

        /*
         * The sample is known now: the next late one is interpolated
         * from it, not from the exact time before the dead zone, which
         * would undo what this one taught (a backlog comes a fix at a
         * time, and all of it lies between the same two exact times)
         */
        if (kd > k0 && kd < r->filled) {
            r->est[kd / 8] &= (uint8_t) ~(1 << (kd % 8));
        }
    }

    /*
     * Above it, up to the next exact time: even a sample where the
     * rider stood still tells that those were reached after it.
     */

    if (d < a1d) {
        n += race_standings_fill(s, r, (size_t) floor(d / s->bucket) + 1,
                                 nextafter(a1d, 0), tc, d, a1t, a1d);
    }

    if (n == 0) {
        return RACE_SAMPLE_IGNORED;
    }

    r->rev++;

    return RACE_SAMPLE_BACKFILL;
}


/*
 * Buckets from "from" on whose points are <= dmax (and the course
 * length) get their time on the line from (t1, d1) to (t2, d2); how
 * many.  Two samples far apart in time and in distance (a dead zone)
 * make estimates; a long time on a short way is a stop, exact enough.
 */

static size_t
race_standings_fill(race_standings_t *s, race_rider_t *r, size_t from,
    double dmax, int64_t t1, double d1, int64_t t2, double d2)
{
    int      est;
    size_t   k, n;
    double   p;
    int64_t  rt1, rt2, v;

    rt1 = race_standings_rel(s, t1);
    rt2 = race_standings_rel(s, t2);

    if (rt2 < rt1) {
        rt2 = rt1;
    }

    est = (t2 - t1 > RACE_STANDINGS_EXACT_MS && d2 - d1 > 2 * s->bucket);
    n = 0;

    for (k = from; k <= s->nb && k < r->cap; k++) {
        p = race_standings_point(s, k);

        if (p > dmax) {
            break;
        }

        v = d2 > d1 ? rt1 + (int64_t) llround((double) (rt2 - rt1)
                                              * (p - d1) / (d2 - d1))
                    : rt2;

        if (v < rt1) {
            v = rt1;
        }

        if (v > rt2) {
            v = rt2;
        }

        r->pass[k] = (int32_t) v;

        if (est) {
            r->est[k / 8] |= (uint8_t) (1 << (k % 8));

        } else {
            r->est[k / 8] &= (uint8_t) ~(1 << (k % 8));
        }

        n++;
    }

    return n;
}


/* ms after the start, within what a bucket holds */

static int64_t
race_standings_rel(const race_standings_t *s, int64_t t)
{
    int64_t  v;

    v = t - s->start;

    if (v < 0) {
        return 0;
    }

    return v > INT32_MAX ? INT32_MAX : v;
}


static double
race_standings_point(const race_standings_t *s, size_t k)
{
    double  p;

    p = (double) k * s->bucket;

    return (k >= s->nb || p > s->length) ? s->length : p;
}


static int
race_standings_grow(race_rider_t *r, size_t need, size_t max)
{
    size_t    m;
    int32_t  *pass;
    uint8_t  *est;

    if (need <= r->cap) {
        return 0;
    }

    m = r->cap ? r->cap : 64;

    while (m < need) {
        m *= 2;
    }

    if (m > max) {
        m = max;
    }

    if (m < need) {
        m = need;
    }

    pass = realloc(r->pass, m * sizeof(int32_t));
    if (pass == NULL) {
        return -1;
    }

    r->pass = pass;

    est = realloc(r->est, (m + 7) / 8);
    if (est == NULL) {
        return -1;
    }

    memset(est + (r->cap + 7) / 8, 0, (m + 7) / 8 - (r->cap + 7) / 8);

    r->est = est;
    r->cap = m;

    return 0;
}


void
race_standings_mark(race_standings_t *s, size_t i, race_rider_mark_e mark)
{
    if (i < s->n) {
        s->riders[i].mark = mark;
    }
}


void
race_standings_off_course(race_standings_t *s, size_t i, int off)
{
    if (i < s->n) {
        s->riders[i].off = off ? 1 : 0;
    }
}


int64_t
race_standings_pass(const race_standings_t *s, size_t i, double d)
{
    size_t               k;
    double               p, q;
    int64_t              tp, tq;
    const race_rider_t  *r;

    if (i >= s->n || !(d <= s->riders[i].dist)) {
        return -1;
    }

    r = &s->riders[i];

    if (d < 0) {
        d = 0;
    }

    k = d >= s->length ? s->nb : (size_t) floor(d / s->bucket);

    if (k >= r->filled) {
        k = r->filled - 1;
    }

    p = race_standings_point(s, k);
    tp = s->start + r->pass[k];

    if (k + 1 < r->filled) {
        q = race_standings_point(s, k + 1);
        tq = s->start + r->pass[k + 1];

    } else {
        q = r->dist;
        tq = r->t_dist;
    }

    if (q <= p || d <= p) {
        return tp;
    }

    if (d >= q) {
        return tq;
    }

    return tp + (int64_t) llround((double) (tq - tp) * (d - p) / (q - p));
}


int64_t
race_standings_split(const race_standings_t *s, size_t i, size_t k)
{
    int64_t  t;

    if (k >= s->ncps) {
        return -1;
    }

    t = race_standings_pass(s, i, s->cps[k]);

    return t < 0 ? -1 : t - s->start;
}


void
race_standings_tick(race_standings_t *s, int64_t now)
{
    size_t            p, i;
    int64_t           t, g;
    race_rider_t     *r, *lead, *ahead;
    race_standing_t  *st;

    /* statuses first: the ranks depend on them */

    for (i = 0; i < s->n; i++) {
        r = &s->riders[i];
        st = &r->now;

        st->dist = r->dist;
        st->speed = r->speed;
        st->t = r->t_last;
        st->to_go = s->length - r->dist;

        if (r->mark == RACE_RIDER_MARK_DSQ) {
            st->status = RACE_RIDER_DSQ;

        } else if (r->mark == RACE_RIDER_MARK_DNF) {
            st->status = RACE_RIDER_DNF;

        } else if (r->finished) {
            st->status = RACE_RIDER_FINISHED;

        } else if (now - (r->t_last >= 0 ? r->t_last : s->start)
                   > s->stale_ms)
        {
            st->status = RACE_RIDER_STALE;

        } else if (r->off) {
            st->status = RACE_RIDER_OFF_COURSE;

        } else {
            st->status = RACE_RIDER_RACING;
        }

        s->order[i] = i;
    }

    qsort_r(s->order, s->n, sizeof(size_t), race_standings_cmp, s);

    lead = s->n ? &s->riders[s->order[0]] : NULL;

    for (p = 0; p < s->n; p++) {
        r = &s->riders[s->order[p]];
        st = &r->now;
        ahead = p > 0 ? &s->riders[s->order[p - 1]] : NULL;

        st->rank = (unsigned) p + 1;
        st->gap = -1;
        st->gap_prev = -1;
        st->eta = -1;
        st->finish = -1;

        switch (race_standings_class(r)) {

        case 0:
            st->finish = r->t_dist - s->start;
            st->gap = r->t_dist - lead->t_dist;

            if (ahead) {
                st->gap_prev = r->t_dist - ahead->t_dist;
            }

            break;

        case 1:
            if (r->t_last < 0) {
                break;
            }

            if (st->status == RACE_RIDER_RACING
                || st->status == RACE_RIDER_OFF_COURSE)
            {
                if (r->speed >= RACE_STANDINGS_MOVING_MPS) {
                    st->eta = r->t_last
                              + (int64_t) llround(st->to_go / r->speed
                                                  * 1000.0);
                }
            }

            /*
             * The rider is at dist at t_last; the leader and the rider
             * ahead were there when they passed it.
             */

            t = race_standings_pass(s, (size_t) (lead - s->riders), r->dist);
            g = t < 0 ? -1 : r->t_last - t;
            st->gap = g < 0 ? 0 : g;

            if (ahead && race_standings_class(ahead) <= 1) {
                t = race_standings_pass(s, (size_t) (ahead - s->riders),
                                        r->dist);
                g = r->t_last - t;
                st->gap_prev = t < 0 ? -1 : (g < 0 ? 0 : g);
            }

            break;

        default:
            break;
        }

        if (p == 0 && st->gap >= 0) {
            st->gap = 0;
        }

        if (!race_standings_same(st, &r->pub) || r->rev != r->pub_rev) {
            r->changed = 1;
            r->pub = *st;
            r->pub_rev = r->rev;

        } else {
            r->changed = 0;
        }
    }
}


/* 0 finished, 1 on the course (racing, stale, off), 2 dnf, 3 dsq */

static int
race_standings_class(const race_rider_t *r)
{
    switch (r->now.status) {

    case RACE_RIDER_FINISHED:
        return 0;

    case RACE_RIDER_DNF:
        return 2;

    case RACE_RIDER_DSQ:
        return 3;

    default:
        return 1;
    }
}


static int
race_standings_cmp(const void *a, const void *b, void *data)
{
    int                  ca, cb;
    size_t               ia, ib;
    race_standings_t    *s;
    const race_rider_t  *ra, *rb;

    s = data;
    ia = *(const size_t *) a;
    ib = *(const size_t *) b;
    ra = &s->riders[ia];
    rb = &s->riders[ib];

    ca = race_standings_class(ra);
    cb = race_standings_class(rb);

    if (ca != cb) {
        return ca < cb ? -1 : 1;
    }

    /* finished: by net time, one start for all; others: by distance */

    if (ca != 0 && ra->dist != rb->dist) {
        return ra->dist > rb->dist ? -1 : 1;
    }

    /* then by who got there first */

    if (ra->t_dist != rb->t_dist) {
        return ra->t_dist < rb->t_dist ? -1 : 1;
    }

    /* riders without a sample after those with one */

    if ((ra->t_last < 0) != (rb->t_last < 0)) {
        return ra->t_last < 0 ? 1 : -1;
    }

    return ia < ib ? -1 : (ia > ib ? 1 : 0);
}


static int
race_standings_same(const race_standing_t *a, const race_standing_t *b)
{
    return a->dist == b->dist && a->speed == b->speed && a->t == b->t
           && a->gap == b->gap && a->gap_prev == b->gap_prev
           && a->eta == b->eta && a->finish == b->finish
           && a->rank == b->rank && a->status == b->status
           && a->to_go == b->to_go;
}


const race_standing_t *
race_standings_get(const race_standings_t *s, size_t i)
{
    return i < s->n ? &s->riders[i].pub : NULL;
}


int
race_standings_changed(const race_standings_t *s, size_t i)
{
    return i < s->n ? s->riders[i].changed : 0;
}


const char *
race_rider_status_name(race_rider_status_e status)
{
    if ((unsigned) status > RACE_RIDER_DSQ) {
        return "racing";
    }

    return race_status_names[status];
}


size_t
race_standings_json(const race_standings_t *s, size_t i, char *buf,
    size_t size)
{
    char                    out[RACE_STANDINGS_JSON_MAX], *p, *end;
    size_t                  k, len;
    int64_t                 sp;
    const race_standing_t  *st;

    if (i >= s->n) {
        if (size) {
            buf[0] = '\0';
        }

        return 0;
    }

    st = &s->riders[i].pub;
    p = out;
    end = out + sizeof(out);

    /* metres to the decimetre and speeds to the cm/s: what a map shows */

    p += race_standings_lit(p, end - p, "\"dist_m\":");
    p += race_standings_round(p, end - p, st->dist, 10);
    p += race_standings_lit(p, end - p, ",\"speed_mps\":");
    p += race_standings_round(p, end - p, st->speed, 100);
    p += race_standings_lit(p, end - p, ",\"rank\":");
    p += race_standings_fixed(p, end - p, st->rank, 0);
    p += race_standings_lit(p, end - p, ",\"gap_s\":");
    p += race_standings_ms(p, end - p, st->gap);
    p += race_standings_lit(p, end - p, ",\"gap_prev_s\":");
    p += race_standings_ms(p, end - p, st->gap_prev);
    p += race_standings_lit(p, end - p, ",\"to_go_m\":");
    p += race_standings_round(p, end - p, st->to_go, 10);

    p += race_standings_lit(p, end - p, ",\"eta\":");

    if (st->eta >= 0) {
        p += race_standings_fixed(p, end - p, (uint64_t) st->eta, 0);

    } else {
        p += race_standings_lit(p, end - p, "null");
    }

    p += race_standings_lit(p, end - p, ",\"finish_s\":");
    p += race_standings_ms(p, end - p, st->finish);
    p += race_standings_lit(p, end - p, ",\"splits\":[");

    for (k = 0; k < s->ncps; k++) {
        if (k) {
            *p++ = ',';
        }

        sp = race_standings_split(s, i, k);
        p += race_standings_ms(p, end - p, sp);
    }

    p += race_standings_lit(p, end - p, "],\"status\":\"");
    p += race_standings_lit(p, end - p, race_rider_status_name(st->status));
    p += race_standings_lit(p, end - p, "\"");

    len = p - out;

    if (size) {
        k = len < size ? len : size - 1;
        memcpy(buf, out, k);
        buf[k] = '\0';
    }

    return len;
}


/*
 * v rounded to 1 / scale (10 or 100), or null when negative or not
 * finite: what race_json_number() writes of round(v * scale) / scale.
 */

static size_t
race_standings_round(char *p, size_t size, double v, unsigned scale)
{
    double  x;

    x = round(v * scale);

    if (!(x >= 0) || !isfinite(x)) {
        return race_standings_lit(p, size, "null");
    }

    if (x >= RACE_STANDINGS_FIXED_MAX) {
        return race_json_number(x / scale, p, size);
    }

    return race_standings_fixed(p, size, (uint64_t) x,
                                scale == 100 ? 2 : 1);
}


/* ms as seconds, or null for a negative one (what -1 "none" becomes) */

static size_t
race_standings_ms(char *p, size_t size, int64_t ms)
{
    if (ms < 0) {
        return race_standings_lit(p, size, "null");
    }

    if (ms >= RACE_STANDINGS_FIXED_MAX) {
        return race_json_number((double) ms / 1000, p, size);
    }

    return race_standings_fixed(p, size, (uint64_t) ms, 3);
}


/* str into p, NUL-terminated, or nothing if it does not fit */

static size_t
race_standings_lit(char *p, size_t size, const char *str)
{
    size_t  len;

    len = strlen(str);

    if (len >= size) {
        if (size > 0) {
            p[0] = '\0';
        }

        return 0;
    }

    memcpy(p, str, len + 1);

    return len;
}


/*
 * n / 10^dec in decimal, trailing zeros dropped: for n below 10^15,
 * exactly what race_json_number() writes of the double n / 10^dec (15
 * significant digits hold it, and no exponent is used from 0.001 up to
 * 10^15), without a snprintf() and a strtod() for each of the dozen
 * numbers of every rider at every tick: they were most of a tick.  An
 * integer with dec 0.
 */

static size_t
race_standings_fixed(char *p, size_t size, uint64_t n, unsigned dec)
{
    char      digits[24], *d, *end;
    size_t    len;
    unsigned  k;

    end = digits + sizeof(digits);
    d = end;

    /* the fraction, its trailing zeros dropped */

    for (k = 0; k < dec && n % 10 == 0; k++) {
        n /= 10;
    }

    if (k < dec) {
        for ( /* void */ ; k < dec; k++) {
            *--d = (char) ('0' + n % 10);
            n /= 10;
        }

        *--d = '.';
    }

    do {
        *--d = (char) ('0' + n % 10);
        n /= 10;
    } while (n);

    len = end - d;

    if (len >= size) {
        if (size > 0) {
            p[0] = '\0';
        }

        return 0;
    }

    memcpy(p, d, len);
    p[len] = '\0';

    return len;
}
