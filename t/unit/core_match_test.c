
/*
 * ngx_race: unit tests of the map matcher (core/race_match.c) against
 * the truth of synthetic riders (core/race_synth.c), TAP output.
 *
 * Four courses: a straight one, a loop raced in 3 laps (start and
 * finish the same place), an out-and-back on the same road, a figure-8
 * raced twice.  On each, riders with GPS noise of 5-15 m, single-fix
 * jumps of 1-5 km, a dead zone of 30 s and one of 20 min whose fixes
 * come late as a backlog, one of 30 s whose fixes never come, 10
 * minutes stopped at a café, duplicated and swapped fixes; half the
 * phones give speed and bearing.  What the matcher places feeds the
 * live standings (core/race_standings.c), whose ranks, gaps to the
 * winner and split times are held to the truth too.  The tolerances
 * are in the tests' names; the measured figures are printed as
 * diagnostics.  Then the matcher's rules one by one on hand-made fixes.
 *
 * The riders are seed 0's; RACE_MATCH_SEED=n rides others, to see the
 * spread.  Over seeds 0-40 (164 scenarios, 984 riders): >= 96.6 % of
 * the fixes of any scenario within 30 m (the worst 47 m off), 97.7 %
 * of finish times and 99.5 % of splits within 2 s (the worst 3.9 and
 * 4.6 s); in 4 scenarios a rider whose phone gives no speed is 30-32 m
 * past the café: the filter overshoots when 8 m/s becomes 0 in 5 s in
 * 15 m of noise.  7 of the 164 fail a test here.
 */


#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "race_course.h"
#include "race_match.h"
#include "race_standings.h"
#include "race_synth.h"
#include "tap.h"


#define T_START      1767225600000LL    /* 2026-01-01T00:00:00Z */
#define T_LAT        45.0
#define T_LON        7.0
#define T_M_DEG      111194.93

#define T_RIDERS     6
#define T_WARMUP     30000      /* ms after the start not scored */
#define T_DIST_TOL   30.0       /* m, a fix's course distance */
#define T_TIME_TOL   2000.0     /* ms, finish and split times */
#define T_TIME_MAX   4000.0     /* ms, the worst of them */
#define T_CAFE_TOL   30.0       /* m gained while stopped */
#define T_FRACTION   0.98       /* of the scored fixes within T_DIST_TOL */
#define T_TIME_FRAC  0.9        /* of finish and split times in T_TIME_TOL */
#define T_SPLITS     7
#define T_GAP_TOL    4000.0     /* ms, a finisher's gap to the winner */
#define T_RANK_SEP   4000.0     /* ms: riders further apart rank true */


typedef enum {
    T_STRAIGHT = 0,
    T_LOOP,
    T_OUT_BACK,
    T_EIGHT
} t_kind_e;



typedef struct {
    size_t      scored;
    size_t      within;
    size_t      late;
    size_t      jumps;
    size_t      jumps_moved;
    size_t      backwards;
    size_t      track_backwards;
    size_t      dups;
    size_t      finished;
    size_t      finish_within;
    size_t      early_finish;
    size_t      splits;
    size_t      splits_within;
    double      worst;
    double      cafe;
    double      finish_err;
    double      split_err;
} t_stats_t;


static void test_scenario(t_kind_e kind, const char *name);
static void test_still(void);
static void test_duplicates(void);
static void test_jump(void);
static void test_teleport(void);
static void test_off_course(void);
static void test_late(void);
static void test_finish_not_near(void);
static void test_conf(void);

static int make_course(race_course_t *c, t_kind_e kind);
static void standings(const char *name, race_standings_t *sd,
    const double *finish, const double *splits);
static void ride(race_standings_t *sd, double *finish, double *splits,
    const race_course_t *c, const race_synth_conf_t *sc,
    unsigned rider, t_stats_t *st);
static int by_t(const void *a, const void *b);
static race_fix_t at(const race_course_t *c, int64_t i, double dist,
    double off);


static race_match_conf_t  conf;
static unsigned           seed;
static size_t             finishes;
static size_t             finishes_within;


int
main(void)
{
    race_match_conf_default(&conf);

    /* other riders, to see how the figures spread; the test uses 0 */
    seed = getenv("RACE_MATCH_SEED") ? atoi(getenv("RACE_MATCH_SEED")) : 0;

    test_scenario(T_STRAIGHT, "straight course");
    test_scenario(T_LOOP, "loop in 3 laps");
    test_scenario(T_OUT_BACK, "out-and-back");
    test_scenario(T_EIGHT, "figure-8 in 2 laps");

    /* one finish time is a few fixes' noise: judged over all the riders */
    ok(finishes == 4 * T_RIDERS
       && finishes_within >= T_TIME_FRAC * finishes,
       "all courses: >= 90 %% of finish times within 2 s of the truth "
       "(%zu of %zu)", finishes_within, finishes);
    test_still();
    test_duplicates();
    test_jump();
    test_teleport();
    test_off_course();
    test_late();
    test_finish_not_near();
    test_conf();

    return tap_done();
}


static void
test_scenario(t_kind_e kind, const char *name)
{
    unsigned                r;
    double                  dur;
    t_stats_t               st;
    race_course_t           c;
    race_synth_conf_t       sc;
    race_synth_stop_t       stop;
    race_synth_dropout_t    drops[3];
    race_standings_t       *sd;
    race_standings_conf_t   stc;
    double                  cps[T_SPLITS], finish[T_RIDERS];
    double                  splits[T_RIDERS * T_SPLITS];
    static const int64_t    jumps[] = { 200, 201, 450, 777, 1500 };

    if (!ok(make_course(&c, kind) == 0, "%s: the course", name)) {
        return;
    }

    /* about how long a ride takes at 8 m/s, for the dead zones */
    dur = c.length / 8.0;

    stop.at = 0.45 * c.length;
    stop.secs = 600;

    drops[0].from = 0.15 * dur;
    drops[0].secs = 30;
    drops[0].lost = 0;
    drops[1].from = 0.6 * dur;
    drops[1].secs = 1200;
    drops[1].lost = 0;
    drops[2].from = 0.3 * dur;
    drops[2].secs = 30;
    drops[2].lost = 1;

    memset(&sc, 0, sizeof(race_synth_conf_t));
    sc.start = T_START;
    sc.seed = 0x5eed0000 + kind + 16 * seed;
    sc.speed = 8.0;
    sc.speed_var = 0.15;
    sc.wobble = 0.1;
    sc.climb = 8.0;
    sc.stops = &stop;
    sc.nstops = 1;
    sc.tail = 120;
    sc.noise_min = 5.0;
    sc.noise_max = 15.0;
    sc.jump_p = 0.002;
    sc.jumps = jumps;
    sc.njumps = sizeof(jumps) / sizeof(jumps[0]);
    sc.dropouts = drops;
    sc.ndropouts = 3;
    sc.backfill_after = 1;
    sc.dup_p = 0.02;
    sc.swap_p = 0.02;
    /* half the riders' phones give speed and bearing */

    memset(&st, 0, sizeof(t_stats_t));

    /* the live standings, fed what the matcher makes of each rider */

    for (r = 0; r < T_SPLITS; r++) {
        cps[r] = c.length * (r + 1) / (T_SPLITS + 1);
    }

    memset(&stc, 0, sizeof(race_standings_conf_t));
    stc.length = c.length;
    stc.checkpoints = cps;
    stc.ncheckpoints = T_SPLITS;
    stc.start = T_START;

    sd = race_standings_create(&stc);
    if (!ok(sd != NULL, "%s: the standings", name)) {
        race_course_free(&c);
        return;
    }

    for (r = 0; r < T_RIDERS; r++) {
        if (race_standings_add(sd) != (int) r) {
            ok(0, "%s: a rider in the standings", name);
        }
    }

    for (r = 0; r < T_RIDERS; r++) {
        sc.spd = r % 2;
        sc.backfill_after = 1 + r % 3;
        ride(sd, finish, splits, &c, &sc, r, &st);
    }

    standings(name, sd, finish, splits);
    race_standings_free(sd);

    diag("%s: %.0f m, %zu riders: %zu fixes scored, %.2f %% within "
         "%.0f m, worst %.1f m; %zu late; %zu jumps, %zu moved; café "
         "gain %.1f m; finish error %.0f ms; split error %.0f ms",
         name, c.length, (size_t) T_RIDERS, st.scored,
         100.0 * st.within / (st.scored ? st.scored : 1), T_DIST_TOL,
         st.worst, st.late, st.jumps, st.jumps_moved, st.cafe,
         st.finish_err, st.split_err);

    ok(st.scored > 1000 && st.within >= T_FRACTION * st.scored,
       "%s: >= 98 %% of fixes after the first 30 s within 30 m of the "
       "truth (%zu of %zu)", name, st.within, st.scored);
    ok(st.late > 1000, "%s: the dead zones' backlogs matched late (%zu)",
       name, st.late);
    ok(st.backwards == 0, "%s: the live distance never goes back", name);
    ok(st.track_backwards == 0,
       "%s: the track by time, late fixes in, never goes back", name);
    ok(st.jumps >= T_RIDERS * 5 && st.jumps_moved == 0,
       "%s: %zu GPS jumps of 1-5 km, none moved a rider", name, st.jumps);
    ok(st.dups > 0, "%s: duplicates seen and ignored", name);
    ok(st.cafe < T_CAFE_TOL, "%s: 10 min at the café add < 30 m (%.1f)",
       name, st.cafe);
    ok(st.finished == T_RIDERS && st.early_finish == 0,
       "%s: every rider finished, none 30 m or more before the length",
       name);
    ok(st.finish_err <= T_TIME_MAX,
       "%s: finish times all within 4 s of the truth (%zu of %zu within "
       "2 s, worst %.0f ms)", name, st.finish_within, (size_t) T_RIDERS,
       st.finish_err);

    finishes += st.finished;
    finishes_within += st.finish_within;

    ok(st.splits == T_RIDERS * T_SPLITS
       && st.splits_within >= T_TIME_FRAC * st.splits
       && st.split_err <= T_TIME_MAX,
       "%s: >= 90 %% of split times within 2 s of the truth (%zu of %zu), "
       "all within 4 s (worst %.0f ms)", name, st.splits_within, st.splits,
       st.split_err);

    race_course_free(&c);
}


/*
 * The standings at the end against the truth: every rider finished,
 * ranked as the truth has it (riders over 4 s apart), gaps to the
 * winner and split times within the tolerances of their names.
 */

static void
standings(const char *name, race_standings_t *sd, const double *finish,
    const double *splits)
{
    size_t                  i, j, k, nfin, nrank, nsplit, within;
    double                  win, err, gap_err, split_err;
    const race_standing_t  *a, *b;

    race_standings_tick(sd, T_START + 48 * 3600 * 1000LL);

    win = finish[0];

    for (i = 1; i < T_RIDERS; i++) {
        win = finish[i] < win ? finish[i] : win;
    }

    nfin = 0;
    nrank = 0;
    gap_err = 0.0;
    nsplit = 0;
    within = 0;
    split_err = 0.0;

    for (i = 0; i < T_RIDERS; i++) {
        a = race_standings_get(sd, i);

        if (a->status == RACE_RIDER_FINISHED) {
            nfin++;
        }

        err = fabs((double) a->gap - (finish[i] - win));
        gap_err = err > gap_err ? err : gap_err;

        for (j = 0; j < T_RIDERS; j++) {
            b = race_standings_get(sd, j);

            if (finish[i] + T_RANK_SEP < finish[j] && a->rank < b->rank) {
                nrank++;
            }

            if (finish[i] + T_RANK_SEP < finish[j] && a->rank > b->rank) {
                nrank += 1000;      /* ranked wrong */
            }
        }

        for (k = 0; k < T_SPLITS; k++) {
            err = fabs((double) race_standings_split(sd, i, k)
                       - (splits[i * T_SPLITS + k] - T_START));
            nsplit++;
            within += (err <= T_TIME_TOL);
            split_err = err > split_err ? err : split_err;
        }
    }

    diag("%s: standings: %zu finished, ranks of %zu pairs over 4 s apart, "
         "worst gap error %.0f ms, splits %zu of %zu within 2 s (worst "
         "%.0f ms)", name, nfin, nrank, gap_err, within, nsplit,
         split_err);

    ok(nfin == T_RIDERS, "%s: standings: every rider finished", name);
    ok(nrank < 1000, "%s: standings: every rider ranked as the truth "
       "finished them (those over 4 s apart)", name);
    ok(gap_err <= T_GAP_TOL, "%s: standings: gaps to the winner within "
       "4 s of the truth (worst %.0f ms)", name, gap_err);
    ok(within >= T_TIME_FRAC * nsplit && split_err <= T_TIME_MAX,
       "%s: standings: >= 90 %% of split times within 2 s of the truth, "
       "all within 4 s (%zu of %zu, worst %.0f ms)", name, within, nsplit,
       split_err);
}


static void
ride(race_standings_t *sd, double *finish, double *splits,
    const race_course_t *c, const race_synth_conf_t *sc, unsigned rider,
    t_stats_t *st)
{
    race_rider_sample_t  sample;
    size_t             i, k, n, nt, j;
    double             live, err, truth, arrive, leave, d, want, got;
    race_synth_t       s;
    race_match_t       m;
    race_match_out_t  *track;
    race_match_out_t   out[2], *o;

    if (race_synth_ride(&s, c, sc, rider) != 0) {
        ok(0, "race_synth_ride()");
        return;
    }

    track = malloc(s.n * 2 * sizeof(race_match_out_t));
    if (track == NULL) {
        ok(0, "malloc()");
        race_synth_free(&s);
        return;
    }

    race_match_init(&m, T_START);

    nt = 0;
    live = 0.0;
    arrive = race_synth_time_at(&s, sc->stops[0].at);
    leave = arrive + 1000.0 * sc->stops[0].secs;

    for (i = 0; i < s.n; i++) {
        n = race_match_push(&m, c, &conf, &s.fixes[i], out);

        if (s.jumped[i]) {
            st->jumps++;
        }

        for (k = 0; k < n; k++) {
            o = &out[k];

            if (o->status == RACE_MATCH_DUPLICATE) {
                st->dups++;
                continue;
            }

            if (o->status == RACE_MATCH_HELD
                || o->status == RACE_MATCH_REJECTED)
            {
                continue;
            }

            /* the fix this output is about: out[0] may be a held one */

            for (j = i + 1; j > 0; j--) {
                if (s.fixes[j - 1].seq == o->seq) {
                    break;
                }
            }

            if (j > 0 && s.jumped[j - 1] && o->status == RACE_MATCH_MATCHED)
            {
                st->jumps_moved++;
            }

            track[nt++] = *o;

            /* the standings take what the matcher placed, late or not */
            if (o->status == RACE_MATCH_MATCHED) {
                memset(&sample, 0, sizeof(race_rider_sample_t));
                sample.t = o->t;
                sample.dist = o->dist;
                sample.speed = o->speed;
                (void) race_standings_sample(sd, rider, &sample);
            }

            if (o->late) {
                st->late++;
            }

            if (o->finished && !o->late
                && race_synth_dist_at(&s, (double) o->t)
                   < c->length - T_DIST_TOL)
            {
                st->early_finish++;
            }

            if (o->t >= arrive && o->t <= leave && !o->late
                && o->dist - sc->stops[0].at > st->cafe)
            {
                st->cafe = o->dist - sc->stops[0].at;
            }

            if (o->t < T_START + T_WARMUP) {
                continue;
            }

            truth = race_synth_dist_at(&s, (double) o->t);
            err = fabs(o->dist - truth);

            st->scored++;
            st->within += (err <= T_DIST_TOL);
            st->worst = err > st->worst ? err : st->worst;
        }

        if (m.dist < live) {
            st->backwards++;
        }

        live = m.dist;
    }

    if (m.finished) {
        st->finished++;
        err = fabs(m.finish_t - s.finish);
        st->finish_within += (err <= T_TIME_TOL);
        st->finish_err = err > st->finish_err ? err : st->finish_err;
    }

    /* the track by time: never back; splits where it passes them */

    qsort(track, nt, sizeof(race_match_out_t), by_t);

    for (k = 1; k < nt; k++) {
        if (track[k].dist < track[k - 1].dist) {
            st->track_backwards++;
        }
    }

    for (j = 1; j <= T_SPLITS; j++) {
        d = c->length * j / (T_SPLITS + 1);

        for (k = 1; k < nt && track[k].dist < d; k++) { /* void */ }

        if (k == nt || track[k - 1].dist > d) {
            continue;
        }

        got = race_match_split(track, nt, d);
        want = race_synth_time_at(&s, d);
        err = fabs(got - want);

        st->splits++;
        st->splits_within += (err <= T_TIME_TOL);
        st->split_err = err > st->split_err ? err : st->split_err;
    }

    finish[rider] = s.finish;

    for (j = 1; j <= T_SPLITS; j++) {
        splits[rider * T_SPLITS + j - 1] =
            race_synth_time_at(&s, c->length * j / (T_SPLITS + 1));
    }

    free(track);
    race_synth_free(&s);
}


static void
test_still(void)
{
    int64_t            i;
    double             noise;
    race_course_t      c;
    race_synth_rng_t   rng;
    race_match_out_t   out[2];
    race_match_t       m;
    race_fix_t         f;

    /* an hour standing at 5 km, fixes 15 m off in every direction */

    if (make_course(&c, T_STRAIGHT) != 0) {
        ok(0, "the course");
        return;
    }

    race_synth_rng_seed(&rng, 42);
    race_match_init(&m, T_START);

    f = at(&c, 0, 5000.0, 0.0);
    f.t = T_START + 600000;
    race_match_push(&m, &c, &conf, &f, out);

    for (i = 1; i <= 3600; i++) {
        f = at(&c, i, 5000.0, 0.0);
        noise = 15.0 / T_M_DEG;
        f.t = T_START + 600000 + i * 1000;
        f.lat += noise * race_synth_rng_gauss(&rng);
        f.lon += noise * race_synth_rng_gauss(&rng) / cos(T_LAT * M_PI / 180);
        race_match_push(&m, &c, &conf, &f, out);
    }

    diag("an hour standing at 5000 m in 15 m noise: at %.1f m", m.dist);

    ok(fabs(m.dist - 5000.0) < 30.0,
       "standing an hour in 15 m noise moves the rider < 30 m");
    ok(m.speed < 1.0, "and their speed is about 0 (%.2f m/s)", m.speed);

    race_course_free(&c);
}


static void
test_duplicates(void)
{
    race_course_t      c;
    race_match_out_t   out[2];
    race_match_t       m;
    race_fix_t         f, g;

    if (make_course(&c, T_STRAIGHT) != 0) {
        ok(0, "the course");
        return;
    }

    race_match_init(&m, T_START);

    f = at(&c, 1, 10.0, 0.0);
    race_match_push(&m, &c, &conf, &f, out);
    g = at(&c, 2, 18.0, 0.0);
    race_match_push(&m, &c, &conf, &g, out);

    is_int(race_match_push(&m, &c, &conf, &g, out), 1, "one output");
    is_int(out[0].status, RACE_MATCH_DUPLICATE, "the same fix again: "
           "duplicate");

    f.seq = 99;
    race_match_push(&m, &c, &conf, &f, out);
    is_int(out[0].status, RACE_MATCH_DUPLICATE, "the same t, another seq: "
           "duplicate");

    g = at(&c, 3, 26.0, 0.0);
    g.seq = 2;      /* the newest, g's */
    race_match_push(&m, &c, &conf, &g, out);
    is_int(out[0].status, RACE_MATCH_DUPLICATE, "the newest seq, another "
           "t: duplicate");

    race_course_free(&c);
}


static void
test_jump(void)
{
    size_t             n;
    double             d;
    race_course_t      c;
    race_match_out_t   out[2];
    race_match_t       m;
    race_fix_t         f;

    if (make_course(&c, T_STRAIGHT) != 0) {
        ok(0, "the course");
        return;
    }

    race_match_init(&m, T_START);

    f = at(&c, 1, 1000.0, 0.0);
    f.t = T_START + 200000;
    race_match_push(&m, &c, &conf, &f, out);
    f = at(&c, 2, 1008.0, 0.0);
    f.t = T_START + 201000;
    race_match_push(&m, &c, &conf, &f, out);
    d = m.dist;

    /* 3 km ahead on the course itself, a second later */

    f = at(&c, 3, 4000.0, 0.0);
    f.t = T_START + 202000;
    n = race_match_push(&m, &c, &conf, &f, out);
    ok(n == 1 && out[0].status == RACE_MATCH_HELD && m.dist == d,
       "a fix 3 km ahead after a second: held, the rider not moved");

    f = at(&c, 4, 1024.0, 0.0);
    f.t = T_START + 203000;
    n = race_match_push(&m, &c, &conf, &f, out);
    ok(n == 2 && out[0].status == RACE_MATCH_REJECTED && out[0].seq == 3
       && out[1].status == RACE_MATCH_MATCHED && out[1].seq == 4,
       "the next fix near the rider: the held one rejected, this matched");
    ok(m.dist > d && m.dist < 1100.0, "the rider at %.0f m, not 4000",
       m.dist);

    race_course_free(&c);
}


static void
test_teleport(void)
{
    size_t             n;
    race_course_t      c;
    race_match_out_t   out[2];
    race_match_t       m;
    race_fix_t         f;

    if (make_course(&c, T_STRAIGHT) != 0) {
        ok(0, "the course");
        return;
    }

    /* a rider really 3 km on: two fixes agree, the first is taken */

    race_match_init(&m, T_START);

    f = at(&c, 1, 1000.0, 0.0);
    f.t = T_START + 200000;
    race_match_push(&m, &c, &conf, &f, out);
    f = at(&c, 2, 4000.0, 0.0);
    f.t = T_START + 201000;
    race_match_push(&m, &c, &conf, &f, out);
    f = at(&c, 3, 4008.0, 0.0);
    f.t = T_START + 202000;
    n = race_match_push(&m, &c, &conf, &f, out);

    ok(n == 2 && out[0].seq == 2 && out[0].status != RACE_MATCH_REJECTED
       && out[0].status != RACE_MATCH_HELD,
       "a held fix the next one agrees with is taken");
    ok(m.dist < 1200.0,
       "but no faster than max_speed: still at %.0f m", m.dist);

    race_course_free(&c);
}


static void
test_off_course(void)
{
    size_t             n;
    int64_t            i;
    race_course_t      c;
    race_match_out_t   out[2];
    race_match_t       m;
    race_fix_t         f;

    if (make_course(&c, T_STRAIGHT) != 0) {
        ok(0, "the course");
        return;
    }

    race_match_init(&m, T_START);

    for (i = 1; i <= 10; i++) {
        f = at(&c, i, 8.0 * i, 0.0);
        race_match_push(&m, &c, &conf, &f, out);
    }

    /* a detour 200 m off the road */

    for (i = 11; i <= 10 + conf.misses - 1; i++) {
        f = at(&c, i, 8.0 * i, 200.0);
        race_match_push(&m, &c, &conf, &f, out);
    }

    ok(out[0].status == RACE_MATCH_MISSED && !m.off_course,
       "%u misses in a row: missed, not off course yet", conf.misses - 1);

    f = at(&c, i, 8.0 * i, 200.0);
    race_match_push(&m, &c, &conf, &f, out);
    ok(out[0].status == RACE_MATCH_OFF_COURSE && m.off_course
       && out[0].off_course, "%u misses in a row: off course",
       conf.misses);

    /* back 200 m at once: held, as a jump is, until the next agrees */

    f = at(&c, i + 1, 8.0 * (i + 1), 0.0);
    race_match_push(&m, &c, &conf, &f, out);
    ok(out[0].status == RACE_MATCH_HELD && m.off_course,
       "back on the road at once: held");

    f = at(&c, i + 2, 8.0 * (i + 2), 0.0);
    n = race_match_push(&m, &c, &conf, &f, out);
    ok(n == 2 && out[0].status == RACE_MATCH_MATCHED
       && out[1].status == RACE_MATCH_MATCHED && !m.off_course,
       "the next fix agrees: both matched, off course no more");
    ok(fabs(m.dist - 8.0 * (i + 2)) < T_DIST_TOL,
       "at %.0f m, the truth %.0f", m.dist, 8.0 * (i + 2));

    race_course_free(&c);
}


static void
test_late(void)
{
    int64_t            i;
    double             d;
    race_course_t      c;
    race_match_out_t   out[2];
    race_match_t       m;
    race_fix_t         f;

    if (make_course(&c, T_LOOP) != 0) {
        ok(0, "the course");
        return;
    }

    /* on lap 2, a dead zone of 60 s; its fixes come after the next */

    race_match_init(&m, T_START);

    for (i = 0; i <= 1500; i++) {
        if (i > 1400 && i < 1460) {
            continue;
        }

        f = at(&c, i, 8.0 * i, 0.0);
        race_match_push(&m, &c, &conf, &f, out);
    }

    d = m.dist;

    for (i = 1401; i < 1460; i++) {
        f = at(&c, i, 8.0 * i, 0.0);
        race_match_push(&m, &c, &conf, &f, out);

        if (out[0].status != RACE_MATCH_MATCHED || !out[0].late
            || fabs(out[0].dist - 8.0 * i) > T_DIST_TOL || m.dist != d)
        {
            break;
        }
    }

    ok(i == 1460, "a backlog of 59 fixes on lap 2: each matched late, "
       "within 30 m, the live distance unchanged");

    f = at(&c, 1495, 8.0 * 1495 - c.lap_length, 0.0);
    f.seq = 5000;
    race_match_push(&m, &c, &conf, &f, out);
    is_int(out[0].status, RACE_MATCH_DUPLICATE, "a late fix of a t seen: "
           "duplicate");

    /* a late fix on lap 1's place: bounded by its neighbours on lap 2 */

    race_match_init(&m, T_START);

    for (i = 0; i <= 1500; i++) {
        if (i == 1450) {
            continue;
        }

        f = at(&c, i, 8.0 * i, 0.0);
        race_match_push(&m, &c, &conf, &f, out);
    }

    f = at(&c, 1450, 8.0 * 1450, 0.0);
    race_match_push(&m, &c, &conf, &f, out);
    ok(out[0].late && out[0].dist >= 8.0 * 1449 - T_DIST_TOL
       && out[0].dist <= 8.0 * 1451 + T_DIST_TOL,
       "a swapped fix: late, between its neighbours (%.0f m)",
       out[0].dist);

    race_course_free(&c);
}


static void
test_finish_not_near(void)
{
    int64_t            i;
    double             lap;
    race_course_t      c;
    race_match_out_t   out[2];
    race_match_t       m;
    race_fix_t         f;

    if (make_course(&c, T_LOOP) != 0) {
        ok(0, "the course");
        return;
    }

    /* a loop: past the finish point at each lap's end, and done at 3 */

    race_match_init(&m, T_START);
    lap = c.lap_length;

    for (i = 0; 8.0 * i < lap + 200.0; i++) {
        f = at(&c, i, 8.0 * i, 0.0);
        race_match_push(&m, &c, &conf, &f, out);
    }

    ok(!m.finished && fabs(m.dist - 8.0 * (i - 1)) < T_DIST_TOL,
       "past the finish point after lap 1: at %.0f m, not finished",
       m.dist);

    for (/* void */; 8.0 * i < c.length + 100.0; i++) {
        f = at(&c, i, 8.0 * i < c.length ? 8.0 * i : c.length, 0.0);
        race_match_push(&m, &c, &conf, &f, out);
    }

    ok(m.finished && m.dist == c.length,
       "after 3 laps: finished, at the course's length");
    ok(fabs(m.finish_t - (T_START + 1000.0 * c.length / 8.0)) <= T_TIME_TOL,
       "finish time within 2 s (%.0f ms off)",
       m.finish_t - (T_START + 1000.0 * c.length / 8.0));

    race_course_free(&c);
}


static void
test_conf(void)
{
    race_match_conf_t  d;

    race_match_conf_default(&d);

    ok(d.max_speed == 25.0 && d.max_map == 50.0 && d.misses == 10,
       "defaults: 25 m/s, 50 m, 10 misses");
    ok(race_match_passing(0, 100.0, 1000, 110.0, 105.0) == 500.0,
       "passing time between two points, evenly");
    ok(isnan(race_match_passing(0, 100.0, 1000, 110.0, 111.0)),
       "not between them: NAN");
}


static int
make_course(race_course_t *c, t_kind_e kind)
{
    int      rc;
    char     err[128];
    size_t   i, n;
    double   x, y, a, *lat, *lon, *ele;

    n = 801;
    lat = malloc(n * sizeof(double));
    lon = malloc(n * sizeof(double));
    ele = malloc(n * sizeof(double));

    if (lat == NULL || lon == NULL || ele == NULL) {
        free(lat);
        free(lon);
        free(ele);
        return -1;
    }

    for (i = 0; i < n; i++) {
        a = (double) i / (n - 1);

        switch (kind) {

        case T_STRAIGHT:
            /* 20 km north-east, rolling */
            x = 20000.0 * a * sin(30 * M_PI / 180);
            y = 20000.0 * a * cos(30 * M_PI / 180);
            break;

        case T_LOOP:
            /* a circle of 10 km, the last point the first */
            x = 1600.0 * sin(2 * M_PI * a);
            y = 1600.0 * (1.0 - cos(2 * M_PI * a));
            break;

        case T_OUT_BACK:
            /* 8 km of a winding road, and back on it */
            x = 8000.0 * (a < 0.5 ? 2 * a : 2 - 2 * a);
            y = 300.0 * sin(x / 1500.0);
            break;

        default:
            /* Gerono's lemniscate, crossing itself mid-lap */
            x = 3000.0 * sin(2 * M_PI * a + M_PI / 4);
            y = x * cos(2 * M_PI * a + M_PI / 4);
            break;
        }

        lat[i] = T_LAT + y / T_M_DEG;
        lon[i] = T_LON + x / (T_M_DEG * cos(T_LAT * M_PI / 180));
        ele[i] = 300.0 + 60.0 * sin(2 * M_PI * a * 3);
    }

    if (kind == T_LOOP || kind == T_EIGHT) {
        lat[n - 1] = lat[0];
        lon[n - 1] = lon[0];
        ele[n - 1] = ele[0];
    }

    rc = race_course_from_points(c, lat, lon, ele, n,
                                 kind == T_LOOP ? 3 : (kind == T_EIGHT ? 2
                                                                       : 1),
                                 err, sizeof(err));
    if (rc != 0) {
        diag("course: %s", err);
    }

    free(lat);
    free(lon);
    free(ele);

    return rc;
}


static int
by_t(const void *a, const void *b)
{
    const race_match_out_t  *x = a, *y = b;

    return (x->t > y->t) - (x->t < y->t);
}


/* fix number i at course distance dist, off metres to the side (west) */

static race_fix_t
at(const race_course_t *c, int64_t i, double dist, double off)
{
    double      ele, brg;
    race_fix_t  f;

    memset(&f, 0, sizeof(race_fix_t));

    race_synth_point_at(c, dist, &f.lat, &f.lon, &ele, &brg);

    f.seq = i;
    f.t = T_START + 1000 * i;
    f.lon -= off / (T_M_DEG * cos(f.lat * M_PI / 180));

    return f;
}
