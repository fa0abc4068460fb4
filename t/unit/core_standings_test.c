
/*
 * ngx_race: unit tests of the live standings core, TAP output.
 *
 * Known answers from hand-built sample streams: riders at constant
 * speeds with a known start offset (the gap is exactly the offset at
 * every course point), a 10 minute stop at a cafe (the gap grows by
 * 600 s), the finish order by net time, dnf and dsq last, stale after
 * the silence, off course, a dead zone whose late samples refine the
 * passing times without moving the rider back, exact splits, the JSON
 * members, and the changed marks a tick publishes by.
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race_json.h"
#include "race_standings.h"
#include "tap.h"


#define T0        1732400000000LL      /* the start */
#define S         1000LL               /* ms */


static void test_offset(void);
static void test_cafe(void);
static void test_finish(void);
static void test_marks(void);
static void test_stale(void);
static void test_backfill(void);
static void test_backward(void);
static void test_json(void);
static void test_json_numbers(void);
static void test_changed(void);
static void test_long_course(void);

static race_standings_t *make(double length, const double *cps, size_t n,
    int64_t stale_ms);
static race_sample_rc_e feed(race_standings_t *s, size_t i, int64_t t,
    double d, double v);
static void ride(race_standings_t *s, size_t i, int64_t from, int64_t to,
    int64_t step, double d0, double v);
static size_t ref_json(const race_standings_t *s, size_t i, size_t ncps,
    char *buf, size_t size);
static size_t ref_num(char *p, size_t size, double v);


int
main(void)
{
    test_offset();
    test_cafe();
    test_finish();
    test_marks();
    test_stale();
    test_backfill();
    test_backward();
    test_json();
    test_json_numbers();
    test_changed();
    test_long_course();

    return tap_done();
}


/*
 * A and B at 10 m/s, B 30 s after A; C at 7.3 m/s from the start.  The
 * gap of B is 30 s at every point, C's grows as the course goes.
 */

static void
test_offset(void)
{
    int                     bad;
    size_t                  i;
    int64_t                 t, want;
    race_standings_t       *s;
    const race_standing_t  *a, *b, *c;
    double                  cps[] = { 2500, 5000, 7500 };

    s = make(10000, cps, 3, 0);

    bad = 0;

    for (t = 0; t <= 900; t++) {
        feed(s, 0, T0 + t * S, 10.0 * t, 10);

        if (t >= 30) {
            feed(s, 1, T0 + t * S, 10.0 * (t - 30), 10);
        }

        feed(s, 2, T0 + t * S, 7.3 * t, 7.3);

        /* C leads until B gets by at 111 s */
        if (t < 120) {
            continue;
        }

        race_standings_tick(s, T0 + t * S);

        a = race_standings_get(s, 0);
        b = race_standings_get(s, 1);
        c = race_standings_get(s, 2);

        /* C is at 7.3 t, where A was at 0.73 t */
        want = t * S - (int64_t) llround(0.73 * t * S);

        if (a->rank != 1 || b->rank != 2 || c->rank != 3
            || a->gap != 0 || a->gap_prev != -1
            || b->gap != 30 * S || b->gap_prev != 30 * S
            || llabs(c->gap - want) > 1)
        {
            if (bad++ == 0) {
                diag("t %lld: ranks %u %u %u, gaps %lld %lld %lld",
                     (long long) t, a->rank, b->rank, c->rank,
                     (long long) a->gap, (long long) b->gap,
                     (long long) c->gap);
            }
        }
    }

    ok(bad == 0, "offset: ranks 1 2 3, gap exactly 30 s at every second");

    b = race_standings_get(s, 1);
    c = race_standings_get(s, 2);
    is_int(b->gap_prev, 30 * S, "offset: B's gap to A");
    ok(c->gap_prev >= 0 && llabs(c->gap_prev - (c->gap - 30 * S)) <= 1,
       "offset: C's gap to B is its gap less B's");

    for (i = 0; i < 3; i++) {
        is_int(race_standings_split(s, 0, i), (int64_t) cps[i] * 100,
               "offset: A's split %zu", i);
        is_int(race_standings_split(s, 1, i), (int64_t) cps[i] * 100
               + 30 * S, "offset: B's split %zu", i);
    }

    ok(llabs(race_standings_split(s, 2, 0) - (int64_t) llround(2500 / 7.3
                                                               * 1000)) <= 1,
       "offset: C's split between samples, interpolated");
    is_int(race_standings_split(s, 2, 2), -1, "offset: C not at 7500 yet");

    is_int(race_standings_get(s, 0)->eta, T0 + 1000 * S, "offset: A's ETA");
    ok(fabs(race_standings_get(s, 2)->to_go - (10000 - 7.3 * 900)) < 1e-6,
       "offset: C's distance to go");

    race_standings_free(s);
}


/*
 * Two riders side by side at 8 m/s; C stops 600 s at 3000 m.  While
 * stopped its gap grows second by second; after, it stays 600 s.
 */

static void
test_cafe(void)
{
    int                     bad;
    int64_t                 t, tc;
    race_standings_t       *s;
    const race_standing_t  *c;
    double                  cps[] = { 2000, 6000 };

    s = make(8000, cps, 2, 0);
    bad = 0;

    for (t = 0; t <= 1600; t++) {
        if (t <= 1000) {
            feed(s, 0, T0 + t * S, 8.0 * t, 8);
        }

        /* C: 3000 m at 375 s, off again at 975 s */
        tc = t < 375 ? t : (t < 975 ? 375 : t - 600);
        feed(s, 1, T0 + t * S, 8.0 * tc, t >= 375 && t < 975 ? 0 : 8);

        race_standings_tick(s, T0 + t * S);
        c = race_standings_get(s, 1);

        if (t > 1 && t < 375 && c->gap != 0) {
            bad++;
        }

        if (t >= 375 && t < 975 && c->gap != (t - 375) * S) {
            bad++;
        }

        if (t >= 975 && t <= 1000 && c->gap != 600 * S) {
            bad++;
        }

        if (t >= 375 && t < 975 && c->eta != -1) {
            bad++;
        }
    }

    ok(bad == 0, "cafe: the gap grows by the stop, no ETA while stopped");

    c = race_standings_get(s, 1);
    is_int(c->status, RACE_RIDER_FINISHED, "cafe: C finished");
    is_int(c->finish, 1600 * S, "cafe: C's net time");
    is_int(c->gap, 600 * S, "cafe: C's gap at the finish");
    is_int(race_standings_split(s, 1, 0), 250 * S, "cafe: split before");
    is_int(race_standings_split(s, 1, 1), 1350 * S, "cafe: split after");

    race_standings_free(s);
}


/*
 * Riders finishing in another order than they were ranked on the road:
 * finished riders first by net time, the finish interpolated between
 * sparse samples.
 */

static void
test_finish(void)
{
    race_standings_t       *s;
    const race_standing_t  *st[4];
    size_t                  i;

    s = make(5000, NULL, 0, 0);

    /* 0: 10 m/s, samples every 7 s: finishes at 500 s */
    ride(s, 0, 0, 520, 7, 0, 10);
    /* 1: 12.5 m/s: finishes at 400 s */
    ride(s, 1, 0, 410, 3, 0, 12.5);
    /* 2: still racing at 4900 m */
    ride(s, 2, 0, 490, 1, 0, 10);
    /* 3: 8 m/s, started 25 s late... by the same gun: net 625 s */
    ride(s, 3, 0, 640, 5, 0, 8);

    race_standings_tick(s, T0 + 640 * S);

    for (i = 0; i < 4; i++) {
        st[i] = race_standings_get(s, i);
    }

    is_int(st[1]->rank, 1, "finish: fastest net time first");
    is_int(st[0]->rank, 2, "finish: then the next finisher");
    is_int(st[3]->rank, 3, "finish: then the last finisher");
    is_int(st[2]->rank, 4, "finish: racing riders after the finishers");
    is_int(st[0]->finish, 500 * S, "finish: interpolated between samples");
    is_int(st[1]->finish, 400 * S, "finish: net time");
    is_int(st[3]->finish, 625 * S, "finish: 8 m/s");
    is_int(st[0]->gap, 100 * S, "finish: gap at the finish");
    is_int(st[3]->gap_prev, 125 * S, "finish: gap to the one ahead");
    is_int(st[0]->to_go, 0, "finish: nothing to go");
    is_int(st[0]->eta, -1, "finish: no ETA");
    ok(st[2]->status == RACE_RIDER_STALE || st[2]->status
       == RACE_RIDER_RACING, "finish: 2 still on the course");
    /* 4900 m at 490 s, where the winner was at 392 s */
    is_int(st[2]->gap, 98 * S, "finish: 2's gap at its own distance");

    race_standings_free(s);
}


static void
test_marks(void)
{
    race_standings_t       *s;
    const race_standing_t  *a, *b, *c;

    s = make(5000, NULL, 0, 0);
    ride(s, 0, 0, 100, 1, 0, 10);
    ride(s, 1, 0, 100, 1, 0, 9);
    ride(s, 2, 0, 100, 1, 0, 8);

    race_standings_mark(s, 0, RACE_RIDER_MARK_DSQ);
    race_standings_mark(s, 1, RACE_RIDER_MARK_DNF);
    race_standings_tick(s, T0 + 100 * S);

    a = race_standings_get(s, 0);
    b = race_standings_get(s, 1);
    c = race_standings_get(s, 2);

    is_int(c->rank, 1, "marks: the one left racing leads");
    /* rider 3, never heard, still races at 0 m */
    is_int(race_standings_get(s, 3)->rank, 2, "marks: racing, never heard");
    is_int(b->rank, 3, "marks: dnf after the racers");
    is_int(a->rank, 4, "marks: dsq last");
    is_int(a->status, RACE_RIDER_DSQ, "marks: dsq");
    is_int(b->status, RACE_RIDER_DNF, "marks: dnf");
    is_int(b->gap, -1, "marks: no gap for a dnf");
    is_int(c->gap, 0, "marks: the leader's gap is 0");

    race_standings_mark(s, 1, RACE_RIDER_ENTERED);
    race_standings_off_course(s, 2, 1);
    race_standings_tick(s, T0 + 100 * S);

    is_int(race_standings_get(s, 1)->rank, 1, "marks: dnf lifted");
    is_int(race_standings_get(s, 2)->status, RACE_RIDER_OFF_COURSE,
           "marks: off course");
    /* 800 m at 100 s; the leader, at 9 m/s, was there at 88.889 s */
    is_int(race_standings_get(s, 2)->gap, 11111,
           "marks: an off-course rider still has its gap");

    race_standings_free(s);
}


static void
test_stale(void)
{
    race_standings_t  *s;

    s = make(5000, NULL, 0, 30 * S);
    ride(s, 0, 0, 100, 1, 0, 10);
    ride(s, 1, 0, 50, 1, 0, 10);

    race_standings_tick(s, T0 + 80 * S);
    is_int(race_standings_get(s, 1)->status, RACE_RIDER_RACING,
           "stale: 30 s of silence is not yet stale");

    race_standings_tick(s, T0 + 81 * S);
    is_int(race_standings_get(s, 1)->status, RACE_RIDER_STALE,
           "stale: after 30 s of silence");
    is_int(race_standings_get(s, 1)->eta, -1, "stale: no ETA");
    is_int(race_standings_get(s, 1)->rank, 2, "stale: ranked by distance");
    is_int(race_standings_get(s, 0)->status, RACE_RIDER_RACING,
           "stale: the other one races");

    feed(s, 1, T0 + 82 * S, 510, 10);
    race_standings_tick(s, T0 + 82 * S);
    is_int(race_standings_get(s, 1)->status, RACE_RIDER_RACING,
           "stale: a sample ends it");

    race_standings_free(s);

    /* the default */
    s = make(5000, NULL, 0, 0);
    ride(s, 0, 0, 10, 1, 0, 10);
    race_standings_tick(s, T0 + 70 * S);
    is_int(race_standings_get(s, 0)->status, RACE_RIDER_RACING,
           "stale: 60 s by default");
    race_standings_tick(s, T0 + 71 * S);
    is_int(race_standings_get(s, 0)->status, RACE_RIDER_STALE,
           "stale: after 60 s by default");
    is_int(race_standings_get(s, 4) == NULL, 1, "stale: no rider 4");
    race_standings_free(s);
}


/*
 * A dead zone from 2000 m (200 s) to 4000 m (600 s): the rider, in
 * truth, stopped 200 s at 2500 m in it.  The passing times there are
 * estimates until the phone's backlog arrives; then they are exact, the
 * split at 3000 m and the gap of a rider behind change, and the rider
 * never moves back.
 */

static void
test_backfill(void)
{
    int64_t                 t, est;
    race_standings_t       *s;
    race_sample_rc_e        rc;
    const race_standing_t  *a, *b;
    double                  cps[] = { 3000 };
    int                     nb, nl;

    s = make(8000, cps, 1, 0);

    ride(s, 0, 0, 200, 1, 0, 10);
    feed(s, 0, T0 + 600 * S, 4000, 10);
    ride(s, 0, 601, 650, 1, 4010, 10);

    /* B at 10 m/s, 320 s behind, at 3000 m at 620 s */
    ride(s, 1, 320, 620, 1, 0, 10);

    race_standings_tick(s, T0 + 650 * S);

    est = race_standings_split(s, 0, 0);
    is_int(est, 400 * S, "backfill: the dead zone's split, estimated");
    is_int(race_standings_get(s, 1)->gap, 220 * S,
           "backfill: B's gap on the estimate");

    /* the backlog, in order: 250 s at 2500 m, 450 s there, 600 s at 4000 */

    nb = 0;
    nl = 0;

    for (t = 201; t < 600; t++) {
        double  d;

        d = t < 250 ? 10.0 * t : (t < 450 ? 2500 : 2500 + 10.0 * (t - 450));

        rc = feed(s, 0, T0 + t * S, d, 10);
        nb += (rc == RACE_SAMPLE_BACKFILL);
        nl += (rc == RACE_SAMPLE_LIVE);
    }

    is_int(nl, 0, "backfill: no late sample is live");
    ok(nb >= 100, "backfill: the late samples refine (%d)", nb);

    race_standings_tick(s, T0 + 651 * S);

    a = race_standings_get(s, 0);
    b = race_standings_get(s, 1);

    is_int(race_standings_split(s, 0, 0), 500 * S,
           "backfill: the split is exact now");
    is_int(b->gap, 120 * S, "backfill: B's gap at the same point");
    ok(a->dist == 4500, "backfill: A's distance never went back");
    ok(race_standings_changed(s, 0), "backfill: A's splits changed");
    is_int(race_standings_pass(s, 0, 2500), T0 + 250 * S,
           "backfill: reached 2500 m at 250 s");
    is_int(race_standings_pass(s, 0, 2750), T0 + 475 * S,
           "backfill: 2750 m at 475 s");

    /* a late sample that contradicts the known passing times */
    rc = feed(s, 0, T0 + 100 * S, 3000, 10);
    is_int(rc, RACE_SAMPLE_IGNORED, "backfill: an impossible late sample");
    rc = feed(s, 0, T0 + 640 * S, 6000, 10);
    is_int(rc, RACE_SAMPLE_IGNORED, "backfill: late and further: ignored");
    is_int(race_standings_split(s, 0, 0), 500 * S,
           "backfill: nothing changed");

    race_standings_free(s);

    /* a first fix well after the start, then the ones before it */

    s = make(8000, cps, 1, 0);
    feed(s, 0, T0 + 400 * S, 4000, 10);
    is_int(race_standings_split(s, 0, 0), 300 * S,
           "backfill: from the start, estimated");
    rc = feed(s, 0, T0 + 350 * S, 3000, 10);
    is_int(rc, RACE_SAMPLE_BACKFILL, "backfill: before the first fix");
    is_int(race_standings_split(s, 0, 0), 350 * S,
           "backfill: the split from the late sample");
    race_standings_free(s);
}


static void
test_backward(void)
{
    race_standings_t  *s;

    s = make(5000, NULL, 0, 0);
    feed(s, 0, T0 + 10 * S, 100, 10);
    is_int(feed(s, 0, T0 + 11 * S, 90, 1), RACE_SAMPLE_LIVE,
           "backward: a newer sample behind");
    race_standings_tick(s, T0 + 11 * S);
    ok(race_standings_get(s, 0)->dist == 100, "backward: never back");
    ok(race_standings_get(s, 0)->t == T0 + 11 * S,
       "backward: but the rider is heard");
    is_int(race_standings_pass(s, 0, 100), T0 + 10 * S,
           "backward: first reached at 10 s");
    is_int(race_standings_pass(s, 0, 101), -1, "backward: not at 101 m");
    is_int(feed(s, 0, T0 + 11 * S, 120, 1), RACE_SAMPLE_IGNORED,
           "backward: the same time again, further");

    race_standings_free(s);
}


static void
test_json(void)
{
    char               buf[RACE_STANDINGS_JSON_MAX];
    size_t             n;
    race_standings_t  *s;
    double             cps[] = { 1000, 3000 };

    s = make(5000, cps, 2, 0);
    ride(s, 0, 0, 150, 1, 0, 10);
    ride(s, 1, 0, 150, 1, 0, 8);
    feed(s, 2, T0 + 20 * S, 0, 0);
    race_standings_add(s);
    race_standings_tick(s, T0 + 150 * S);

    n = race_standings_json(s, 1, buf, sizeof(buf));
    is_str(buf, "\"dist_m\":1200,\"speed_mps\":8,\"rank\":2,\"gap_s\":30,"
           "\"gap_prev_s\":30,\"to_go_m\":3800,\"eta\":1732400625000,"
           "\"finish_s\":null,\"splits\":[125,null],\"status\":\"racing\"",
           "json: a racing rider");
    is_int(n, strlen(buf), "json: its length");

    n = race_standings_json(s, 3, buf, sizeof(buf));
    is_str(buf, "\"dist_m\":0,\"speed_mps\":0,\"rank\":4,\"gap_s\":null,"
           "\"gap_prev_s\":null,\"to_go_m\":5000,\"eta\":null,"
           "\"finish_s\":null,\"splits\":[null,null],\"status\":\"stale\"",
           "json: a rider never heard");

    n = race_standings_json(s, 0, buf, 10);
    ok(n > 10 && strlen(buf) == 9, "json: cut, the length it needs");

    ride(s, 0, 151, 600, 1, 1510, 10.123);
    race_standings_tick(s, T0 + 600 * S);
    race_standings_json(s, 0, buf, sizeof(buf));
    ok(strstr(buf, "\"finish_s\":") && strstr(buf, "\"status\":\"finished\"")
       && strstr(buf, "\"splits\":[100,") && !strstr(buf, "nan"),
       "json: a finished rider: %s", buf);

    race_standings_free(s);
}


/*
 * Every number of the members, as race_json_number() writes the rounded
 * double (the JSON's own digits, not snprintf() and strtod() of each, as
 * they once were, for speed): 40 riders at speeds of many decimals,
 * samples at odd milliseconds, ticks all along, until most finished.
 */

static void
test_json_numbers(void)
{
    char               buf[RACE_STANDINGS_JSON_MAX];
    char               want[RACE_STANDINGS_JSON_MAX];
    size_t             i, n, bad, finished;
    int64_t            t;
    race_standings_t  *s;
    const race_standing_t  *st;
    double             v, cps[] = { 1234.5, 2345.67, 4999.9 };

    s = make(5000.3, cps, 3, 0);

    for (i = 4; i < 40; i++) {
        race_standings_add(s);
    }

    bad = 0;
    n = 0;
    finished = 0;

    for (t = 1; t <= 900; t++) {
        for (i = 0; i < 40; i++) {
            v = 3.0 + i * 0.271828182845 + (t % 17) * 0.0123456789;
            feed(s, i, T0 + t * S + (int64_t) (i * 37 % 1000),
                 v * t + sin(t * 0.1 + i) * 3.14159, v);
        }

        if (t % 7 != 0) {
            continue;
        }

        race_standings_tick(s, T0 + t * S + 999);

        for (i = 0; i < 40; i++) {
            race_standings_json(s, i, buf, sizeof(buf));
            ref_json(s, i, 3, want, sizeof(want));
            n++;

            if (strcmp(buf, want) != 0 && bad++ < 3) {
                diag("rider %zu at %lld s:\n  got  %s\n  want %s", i,
                     (long long) t, buf, want);
            }
        }
    }

    for (i = 0; i < 40; i++) {
        st = race_standings_get(s, i);
        finished += st->status == RACE_RIDER_FINISHED;
    }

    ok(bad == 0 && n == 128 * 40 && finished > 20,
       "json: %zu of %zu members as race_json_number() writes them, "
       "%zu riders finished", n - bad, n, finished);

    race_standings_free(s);
}


static void
test_changed(void)
{
    race_standings_t  *s;

    s = make(5000, NULL, 0, 0);
    ride(s, 0, 0, 10, 1, 0, 10);
    ride(s, 1, 0, 10, 1, 0, 9);

    race_standings_tick(s, T0 + 10 * S);
    ok(race_standings_changed(s, 0) && race_standings_changed(s, 1),
       "changed: all at the first tick");

    race_standings_tick(s, T0 + 11 * S);
    ok(!race_standings_changed(s, 0) && !race_standings_changed(s, 1),
       "changed: nothing new, nothing to publish");

    feed(s, 0, T0 + 12 * S, 120, 10);
    race_standings_tick(s, T0 + 12 * S);
    ok(race_standings_changed(s, 0), "changed: a sample");
    ok(!race_standings_changed(s, 1),
       "changed: not the other one, timed where it is");

    race_standings_tick(s, T0 + 13 * S);
    race_standings_mark(s, 0, RACE_RIDER_MARK_DNF);
    race_standings_tick(s, T0 + 13 * S);
    ok(race_standings_changed(s, 0) && race_standings_changed(s, 1),
       "changed: ranks swapped");

    race_standings_free(s);
}


/* 200 km: buckets grow so a rider's memory stays bounded */

static void
test_long_course(void)
{
    race_standings_t  *s;

    s = make(200000, NULL, 0, 0);
    ok(race_standings_bucket(s) >= 200000.0 / RACE_STANDINGS_BUCKETS
       && race_standings_bucket(s) < 25, "long: %.2f m buckets",
       race_standings_bucket(s));

    ride(s, 0, 0, 20000, 10, 0, 10.01);
    ride(s, 1, 60, 20100, 10, 0, 10.01);
    race_standings_tick(s, T0 + 20100 * S);
    is_int(race_standings_get(s, 0)->finish,
           (int64_t) llround(200000 / 10.01 * 1000),
           "long: finish time");
    ok(llabs(race_standings_get(s, 1)->gap - 60 * S) <= 1,
       "long: gap at the finish");

    race_standings_free(s);
}


static race_standings_t *
make(double length, const double *cps, size_t n, int64_t stale_ms)
{
    size_t                  i;
    race_standings_t       *s;
    race_standings_conf_t   conf;

    memset(&conf, 0, sizeof(conf));
    conf.length = length;
    conf.checkpoints = cps;
    conf.ncheckpoints = n;
    conf.start = T0;
    conf.stale_ms = stale_ms;

    s = race_standings_create(&conf);

    if (s == NULL) {
        diag("race_standings_create() failed");
        exit(1);
    }

    for (i = 0; i < 4; i++) {
        if (race_standings_add(s) != (int) i) {
            diag("race_standings_add() failed");
            exit(1);
        }
    }

    return s;
}


static race_sample_rc_e
feed(race_standings_t *s, size_t i, int64_t t, double d, double v)
{
    race_rider_sample_t  sm;

    memset(&sm, 0, sizeof(sm));
    sm.t = t;
    sm.dist = d;
    sm.speed = v;

    return race_standings_sample(s, i, &sm);
}


/* a rider at v m/s from d0 at "from" s, a sample every step s */

static void
ride(race_standings_t *s, size_t i, int64_t from, int64_t to, int64_t step,
    double d0, double v)
{
    int64_t  t;

    for (t = from; t <= to; t += step) {
        feed(s, i, T0 + t * S, d0 + v * (double) (t - from), v);
    }
}


/* the members written number by number with race_json_number() */

static size_t
ref_json(const race_standings_t *s, size_t i, size_t ncps, char *buf,
    size_t size)
{
    char                   *p, *end;
    size_t                  k;
    int64_t                 sp;
    const race_standing_t  *st;

    st = race_standings_get(s, i);
    p = buf;
    end = buf + size;

    p += snprintf(p, end - p, "\"dist_m\":");
    p += ref_num(p, end - p, round(st->dist * 10) / 10);
    p += snprintf(p, end - p, ",\"speed_mps\":");
    p += ref_num(p, end - p, round(st->speed * 100) / 100);
    p += snprintf(p, end - p, ",\"rank\":%u,\"gap_s\":", st->rank);
    p += ref_num(p, end - p, (double) st->gap / 1000);
    p += snprintf(p, end - p, ",\"gap_prev_s\":");
    p += ref_num(p, end - p, (double) st->gap_prev / 1000);
    p += snprintf(p, end - p, ",\"to_go_m\":");
    p += ref_num(p, end - p, round(st->to_go * 10) / 10);

    if (st->eta >= 0) {
        p += snprintf(p, end - p, ",\"eta\":%lld", (long long) st->eta);

    } else {
        p += snprintf(p, end - p, ",\"eta\":null");
    }

    p += snprintf(p, end - p, ",\"finish_s\":");
    p += ref_num(p, end - p, (double) st->finish / 1000);
    p += snprintf(p, end - p, ",\"splits\":[");

    for (k = 0; k < ncps; k++) {
        if (k) {
            p += snprintf(p, end - p, ",");
        }

        sp = race_standings_split(s, i, k);
        p += ref_num(p, end - p, (double) sp / 1000);
    }

    p += snprintf(p, end - p, "],\"status\":\"%s\"",
                  race_rider_status_name(st->status));

    return p - buf;
}


static size_t
ref_num(char *p, size_t size, double v)
{
    if (!(v >= 0) || !isfinite(v)) {
        return snprintf(p, size, "null");
    }

    return race_json_number(v, p, size);
}
