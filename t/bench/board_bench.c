
/*
 * ngx_race: the live standings' benchmark, as race-tracker runs them
 * (issue 9, "Performance").
 *
 * CPU only: race-tracker's own code for a batch and a tick, without
 * Kafka, MongoDB or Redis.  RACES races of RIDERS riders, in turn on
 * three courses: 200 km open of 20,000 points; a 10 km loop raced 8
 * laps; a 2 km criterium raced 30 laps.  The riders are core/race_synth
 * rides (noise, jumps, duplicates, swapped fixes, a dead zone and its
 * backlog for one rider in five), made before anything is timed.
 *
 * The races are at different points of their day: race k is PHASE_k
 * seconds in, spread over [0, SPREAD).  What came before is fed as a
 * tracker that takes a race over replays it (race_board_feed() of the
 * stored fixes, rider by rider, in slices), then SECONDS simulated
 * seconds at 1 Hz: each second, every fix the phones sent in it, in an
 * arrival order that keeps each rider's own, cut into batches of
 * 1,000 fixes (batch_max); each sorted by race, rider, t and seq, each
 * race's run of it given to race_book_note() and race_board_feed(), as
 * main.c does; then one race_board_tick() per race, its members handed
 * to race_book_extra() as main.c's emit does.
 *
 * Prints fixes a second on one core, ticks a second, the latency of
 * one race's tick and of a whole second of ticks, memory a rider and a
 * race, and the headroom against 1,000 races x 50 riders at 1 Hz.
 * Times are the thread's CPU time, so that other processes on a shared
 * machine do not count, with the wall clock beside them.  Prints
 * figures; asserts nothing.
 *
 *   ./build.sh bench-standings [RACES [RIDERS [SECONDS [SPREAD]]]]
 *                                          (1000 50 60 600)
 */


#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "race_board.h"
#include "race_book.h"
#include "race_course.h"
#include "race_log.h"
#include "race_map.h"
#include "race_synth.h"


#define B_START     1767225600000LL
#define B_M_DEG     111194.93
#define B_NEED      (1000 * 50)         /* fixes a second: 1,000 races */
#define B_BATCH     1000                /* race-tracker's batch_max */
#define B_KINDS     3


/* a course and the rides of its riders, shared by its races */
typedef struct {
    const char             *name;
    race_course_t           course;
    race_synth_t           *rides;      /* RIDERS */
    uint32_t              **sec;        /* the second each fix is sent */
    size_t                  races;
    double                  ns;         /* in race_board_feed() */
    size_t                  fed;
} b_kind_t;


typedef struct {
    race_book_race_t       *race;
    b_kind_t               *kind;
    int64_t                 phase;      /* s into the race at second 0 */
    race_fix_msg_t         *msgs;       /* RIDERS */
    size_t                 *next;       /* RIDERS: the next fix to send */
} b_race_t;


/* a time on both clocks: the thread's CPU, and the wall */
typedef struct {
    double                  cpu;
    double                  wall;
} b_time_t;


/* one rider's fixes sent in one second, kept together */
typedef struct {
    b_race_t               *br;
    size_t                  rider;
    size_t                  from;
    size_t                  n;
} b_group_t;


static int b_course(b_kind_t *k, unsigned kind, char *err, size_t size);
static int b_rides(b_kind_t *k, size_t riders);
static int b_emit(void *ctx, const char *rider, const char *members,
    size_t len);
static int b_compare(const void *a, const void *b);
static int b_compare_t(const void *a, const void *b);
static int b_compare_d(const void *a, const void *b);
static void b_dist(const char *what, b_time_t *v, size_t n, double unit,
    const char *name);
static double b_pct(const double *v, size_t n, double q);
static double b_pos(double v);
static double b_now(void);
static double b_cpu(void);
static double b_rss(void);
static void b_rider_free(void *value);


static size_t  b_emitted;


int
main(int argc, char **argv)
{
    char                 err[RACE_COURSE_ERR_MAX];
    size_t               races, riders, seconds, spread, i, j, k, n, m,
                         s, r, nfix, ngroups, room, nreplay, replay_max,
                         ticks;
    int64_t              now;
    double               t0, t1, t2, ta, tb, c0, c1, c2, ca, cb, t_sort,
                         rss0, rss1, rss2, ns_fix;
    b_time_t             feed, tick, replay_t, *lat, *sec_lat, *sec_all;
    b_kind_t             kinds[B_KINDS];
    b_race_t            *brs, *b;
    size_t              *counts;
    b_group_t           *groups, g;
    race_fix_t          *batch, *replay, *f;
    race_map_t           index;
    race_map_entry_t    *e;
    race_synth_t        *ride;
    race_synth_rng_t     rng;
    race_book_race_t    *race;

    races = argc > 1 ? (size_t) atol(argv[1]) : 1000;
    riders = argc > 2 ? (size_t) atol(argv[2]) : 50;
    seconds = argc > 3 ? (size_t) atol(argv[3]) : 60;
    spread = argc > 4 ? (size_t) atol(argv[4]) : 600;

    if (races < 1 || riders < 1 || riders > 1000 || seconds < 1
        || spread < 1 || spread > 7200)
    {
        fprintf(stderr, "usage: board_bench [RACES [RIDERS [SECONDS "
                "[SPREAD]]]]\n  riders 1..1000, spread 1..7200 s\n");
        return 2;
    }

    race_log_init("board_bench", RACE_LOG_WARN);

    /* the courses and their rides: not what is measured */

    memset(kinds, 0, sizeof(kinds));

    for (k = 0; k < B_KINDS; k++) {
        if (b_course(&kinds[k], (unsigned) k, err, sizeof(err)) != 0) {
            fprintf(stderr, "course: %s\n", err);
            return 1;
        }

        if (b_rides(&kinds[k], riders) != 0) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
    }

    brs = calloc(races, sizeof(b_race_t));
    if (brs == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    race_synth_rng_seed(&rng, 2026);
    race_map_init(&index);

    /*
     * The races' phases and what the store holds of each at second 0:
     * the largest replay sizes the buffer made before the baseline.
     */

    replay_max = 0;

    for (i = 0; i < races; i++) {
        b = &brs[i];
        b->kind = &kinds[i % B_KINDS];
        b->kind->races++;
        b->phase = (int64_t) (race_synth_rng_uniform(&rng) * spread);

        b->msgs = calloc(riders, sizeof(race_fix_msg_t));
        b->next = calloc(riders, sizeof(size_t));

        if (b->msgs == NULL || b->next == NULL) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }

        n = 0;

        for (r = 0; r < riders; r++) {
            ride = &b->kind->rides[r];

            for (j = 0; j < ride->n; j++) {
                if (b->kind->sec[r][j] >= (uint64_t) b->phase) {
                    break;
                }
            }

            b->next[r] = j;
            n += j;

            snprintf(b->msgs[r].race, sizeof(b->msgs[r].race), "race%05zu",
                     i);
            snprintf(b->msgs[r].rider, sizeof(b->msgs[r].rider), "r%04zu",
                     r);
        }

        replay_max = n > replay_max ? n : replay_max;
    }

    /* a second's fixes: one a rider, more when a backlog comes */

    counts = calloc(seconds, sizeof(size_t));
    if (counts == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    for (i = 0; i < races; i++) {
        b = &brs[i];

        for (r = 0; r < riders; r++) {
            for (j = b->next[r]; j < b->kind->rides[r].n; j++) {
                s = b->kind->sec[r][j] - (uint64_t) b->phase;

                if (s >= seconds) {
                    break;
                }

                counts[s]++;
            }
        }
    }

    room = 1;

    for (s = 0; s < seconds; s++) {
        room = counts[s] > room ? counts[s] : room;
    }

    free(counts);

    batch = malloc(room * sizeof(race_fix_t));
    groups = malloc(races * riders * sizeof(b_group_t));
    replay = malloc((replay_max ? replay_max : 1) * sizeof(race_fix_t));
    lat = malloc(races * seconds * sizeof(b_time_t));
    sec_lat = malloc(seconds * sizeof(b_time_t));
    sec_all = malloc(seconds * sizeof(b_time_t));

    if (batch == NULL || groups == NULL || replay == NULL || lat == NULL
        || sec_lat == NULL || sec_all == NULL)
    {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    /* the book's races and their standings, as the tracker makes them */

    rss0 = b_rss();

    for (i = 0; i < races; i++) {
        b = &brs[i];

        race = calloc(1, sizeof(race_book_race_t));
        if (race == NULL) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }

        snprintf(race->id, sizeof(race->id), "race%05zu", i);
        race->keys = 1;
        race->loaded = 1;
        race->nloads = 1;
        snprintf(race->status, sizeof(race->status), "started");
        race->start_at = B_START;
        race->started_at = B_START;
        race->course = &b->kind->course;
        race_map_init(&race->riders);

        race->standings = race_board_open(race);
        if (race->standings == NULL) {
            return 1;
        }

        race->replayed = 1;
        b->race = race;

        e = race_map_add(&index, race->id);
        if (e == NULL) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }

        e->value = b;
    }

    /* the replay: each race's stored fixes, rider by rider, by t */

    replay_t.wall = 0.0;
    replay_t.cpu = 0.0;
    nreplay = 0;

    for (i = 0; i < races; i++) {
        b = &brs[i];
        n = 0;

        for (r = 0; r < riders; r++) {
            ride = &b->kind->rides[r];
            m = n;

            for (j = 0; j < b->next[r]; j++) {
                replay[n] = ride->fixes[j];
                replay[n].msg = &b->msgs[r];
                n++;
            }

            qsort(&replay[m], n - m, sizeof(race_fix_t), b_compare_t);

            /* the store has a fix once: a duplicate is the same _id */

            for (j = m + 1, s = m + 1; j < n; j++) {
                if (replay[j].seq != replay[s - 1].seq) {
                    replay[s++] = replay[j];
                }
            }

            n = n > m ? s : m;
        }

        t0 = b_now();
        c0 = b_cpu();

        for (j = 0; j < n; j += RACE_BOARD_SLICE) {
            m = n - j < RACE_BOARD_SLICE ? n - j : RACE_BOARD_SLICE;
            race_book_note(b->race, &replay[j], m);
            race_board_feed(b->race->standings, b->race, &replay[j], m);
        }

        replay_t.cpu += b_cpu() - c0;
        replay_t.wall += b_now() - t0;
        nreplay += n;
    }

    rss1 = b_rss();

    /* the live seconds */

    nfix = 0;
    t_sort = 0.0;
    memset(&feed, 0, sizeof(b_time_t));
    memset(&tick, 0, sizeof(b_time_t));
    ticks = 0;

    for (s = 0; s < seconds; s++) {

        /* what the phones sent in second s, as Kafka hands it over */

        ngroups = 0;

        for (i = 0; i < races; i++) {
            b = &brs[i];

            for (r = 0; r < riders; r++) {
                ride = &b->kind->rides[r];

                for (j = b->next[r]; j < ride->n
                     && b->kind->sec[r][j] <= (uint64_t) (b->phase + s);
                     j++)
                {
                    /* void */
                }

                if (j > b->next[r]) {
                    groups[ngroups].br = b;
                    groups[ngroups].rider = r;
                    groups[ngroups].from = b->next[r];
                    groups[ngroups].n = j - b->next[r];
                    ngroups++;
                    b->next[r] = j;
                }
            }
        }

        for (i = ngroups; i > 1; i--) {
            j = race_synth_rng_next(&rng) % i;
            g = groups[i - 1];
            groups[i - 1] = groups[j];
            groups[j] = g;
        }

        for (i = 0, n = 0; i < ngroups; i++) {
            n += groups[i].n;
        }

        if (n > room) {
            room = n;
            f = realloc(batch, room * sizeof(race_fix_t));
            if (f == NULL) {
                fprintf(stderr, "out of memory\n");
                return 1;
            }

            batch = f;
        }

        n = 0;

        for (i = 0; i < ngroups; i++) {
            ride = &groups[i].br->kind->rides[groups[i].rider];

            for (j = 0; j < groups[i].n; j++) {
                batch[n] = ride->fixes[groups[i].from + j];
                batch[n].msg = &groups[i].br->msgs[groups[i].rider];
                n++;
            }
        }

        /* the batches, as race_tracker_feed() takes them */

        t0 = b_now();
        c0 = b_cpu();

        for (k = 0; k < n; k += B_BATCH) {
            m = n - k < B_BATCH ? n - k : B_BATCH;
            f = &batch[k];

            ta = b_now();
            qsort(f, m, sizeof(race_fix_t), b_compare);
            t_sort += b_now() - ta;

            for (i = 0; i < m; i = j) {
                for (j = i + 1; j < m; j++) {
                    if (strcmp(f[j].msg->race, f[i].msg->race) != 0) {
                        break;
                    }
                }

                e = race_map_find(&index, f[i].msg->race);
                if (e == NULL) {
                    continue;
                }

                b = e->value;
                race_book_note(b->race, &f[i], j - i);

                ta = b_now();
                race_board_feed(b->race->standings, b->race, &f[i], j - i);
                tb = b_now();

                b->kind->ns += (tb - ta) * 1e9;
                b->kind->fed += j - i;
            }
        }

        t1 = b_now();
        c1 = b_cpu();
        feed.wall += t1 - t0;
        feed.cpu += c1 - c0;
        nfix += n;

        /* the tick: every race, its members to the book */

        for (i = 0; i < races; i++) {
            b = &brs[i];
            now = B_START + (b->phase + (int64_t) s + 1) * 1000;

            ta = b_now();
            ca = b_cpu();
            (void) race_board_tick(b->race->standings, b->race, now, b_emit,
                                   b->race);
            cb = b_cpu();
            tb = b_now();

            lat[s * races + i].wall = tb - ta;
            lat[s * races + i].cpu = cb - ca;
        }

        t2 = b_now();
        c2 = b_cpu();
        tick.wall += t2 - t1;
        tick.cpu += c2 - c1;
        ticks += races;
        sec_lat[s].wall = t2 - t1;
        sec_lat[s].cpu = c2 - c1;
        sec_all[s].wall = t2 - t0;
        sec_all[s].cpu = c2 - c0;
    }

    rss2 = b_rss();

    /* the figures */

    printf("courses:");

    for (k = 0; k < B_KINDS; k++) {
        printf("%s %s %.1f km, %zu points, %zu checkpoints, %zu races",
               k ? ";" : "", kinds[k].name,
               kinds[k].course.length / 1000.0, kinds[k].course.n,
               kinds[k].course.ncheckpoints, kinds[k].races);
    }

    printf("\nraces: %zu x %zu riders, 0 to %zu s into the race, %zu "
           "simulated seconds at 1 Hz\n", races, riders, spread, seconds);

    printf("times are this thread's CPU time; the wall clock's beside "
           "them adds other processes' time slices\n");

    printf("replay: %zu stored fixes, %.0f fixes/s on one core (wall %.0f)"
           "\n", nreplay, nreplay / b_pos(replay_t.cpu),
           nreplay / b_pos(replay_t.wall));

    ns_fix = feed.cpu * 1e9 / (nfix ? nfix : 1);

    printf("feed: %zu fixes, %.0f ns a fix, %.0f fixes/s on one core (wall "
           "%.0f), of which sort %.0f ns; batches of %d\n", nfix, ns_fix,
           1e9 / ns_fix, nfix / b_pos(feed.wall),
           t_sort * 1e9 / (nfix ? nfix : 1) * feed.cpu / b_pos(feed.wall),
           B_BATCH);

    /* wall time in race_board_feed(), less the slices of others */

    for (k = 0; k < B_KINDS; k++) {
        ns_fix = kinds[k].ns / (kinds[k].fed ? kinds[k].fed : 1)
                 * feed.cpu / b_pos(feed.wall);

        printf("  matcher + standings, %s: %.0f ns a fix, %.0f fixes/s on "
               "one core: x%.1f the %d needed\n", kinds[k].name, ns_fix,
               1e9 / ns_fix, 1e9 / ns_fix / B_NEED, B_NEED);
    }

    printf("tick: %zu race ticks, %.0f ticks/s on one core (wall %.0f), %zu "
           "riders' members emitted (%.1f a tick)\n", ticks,
           ticks / b_pos(tick.cpu), ticks / b_pos(tick.wall), b_emitted,
           (double) b_emitted / (ticks ? ticks : 1));

    b_dist("one race's tick", lat, races * seconds, 1e6, "us");
    snprintf(err, sizeof(err), "a second's %zu ticks", races);
    b_dist(err, sec_lat, seconds, 1e3, "ms");
    b_dist("a second, feed + ticks", sec_all, seconds, 1e3, "ms");

    printf("memory: RSS +%.1f MB after the replay, +%.1f MB at the end: "
           "%.2f kB a rider, %.1f kB a race (passing times grow with the "
           "distance ridden, up to %.1f kB a rider); courses not "
           "counted\n", (rss1 - rss0) / 1e6, (rss2 - rss0) / 1e6,
           (rss2 - rss0) / 1e3 / (races * riders),
           (rss2 - rss0) / 1e3 / races,
           RACE_STANDINGS_BUCKETS * (4 + 1.0 / 8) / 1e3);

    ns_fix = feed.cpu * 1e9 / (nfix ? nfix : 1);

    printf("headroom, 1,000 races x 50 riders at 1 Hz (%d fixes/s) on one "
           "core: feed x%.1f; this run's feed + ticks take %.1f ms of "
           "each second: x%.1f\n", B_NEED, 1e9 / ns_fix / B_NEED,
           (feed.cpu + tick.cpu) * 1e3 / seconds,
           seconds / b_pos(feed.cpu + tick.cpu));

    /* free what the tracker would */

    for (i = 0; i < races; i++) {
        race = brs[i].race;
        race_board_close(race->standings);
        race_map_clear(&race->riders, b_rider_free);
        free(race);
        free(brs[i].msgs);
        free(brs[i].next);
    }

    for (k = 0; k < B_KINDS; k++) {
        for (r = 0; r < riders; r++) {
            race_synth_free(&kinds[k].rides[r]);
            free(kinds[k].sec[r]);
        }

        free(kinds[k].rides);
        free(kinds[k].sec);
        race_course_free(&kinds[k].course);
    }

    race_map_clear(&index, NULL);
    free(brs);
    free(batch);
    free(groups);
    free(replay);
    free(lat);
    free(sec_lat);
    free(sec_all);

    return 0;
}


/* the courses: 200 km open, a 10 km loop x 8, a 2 km criterium x 30 */

static int
b_course(b_kind_t *k, unsigned kind, char *err, size_t size)
{
    int                        rc;
    size_t                     i, n, ncps;
    double                     a, x, y, len, rad, *lat, *lon, *ele;
    unsigned                   laps;
    race_course_checkpoint_t   cps[RACE_COURSE_CHECKPOINTS_MAX];

    static const char  *names[] = {
        "200 km open", "10 km loop x 8", "2 km criterium x 30"
    };

    k->name = names[kind];

    n = kind == 0 ? 20000 : (kind == 1 ? 1000 : 200);
    laps = kind == 0 ? 1 : (kind == 1 ? 8 : 30);
    len = kind == 0 ? 200000.0 : (kind == 1 ? 10000.0 : 2000.0);

    lat = malloc(n * sizeof(double));
    lon = malloc(n * sizeof(double));
    ele = malloc(n * sizeof(double));

    if (lat == NULL || lon == NULL || ele == NULL) {
        snprintf(err, size, "out of memory");
        free(lat);
        free(lon);
        free(ele);
        return -1;
    }

    x = 0.0;
    y = 0.0;
    rad = len / (2 * M_PI);

    for (i = 0; i < n; i++) {
        if (kind == 0) {
            /* a winding road, a point every 10 m, rolling */
            a = 0.6 * sin(i / 300.0) + 0.3 * sin(i / 37.0);
            x += len / n * cos(a);
            y += len / n * sin(a);
            ele[i] = 400.0 + 150.0 * sin(i / 900.0);

        } else {
            /* a loop, its ends 10 m apart, with a hill */
            a = 2 * M_PI * i / n;
            x = rad * (1.0 + 0.05 * sin(5 * a)) * cos(a);
            y = rad * (1.0 + 0.05 * sin(5 * a)) * sin(a);
            ele[i] = 200.0 + 30.0 * sin(a);
        }

        lat[i] = 44.0 + y / B_M_DEG;
        lon[i] = 6.0 + x / (B_M_DEG * cos(44.0 * M_PI / 180.0));
    }

    rc = race_course_from_points(&k->course, lat, lon, ele, n, laps, err,
                                 size);

    free(lat);
    free(lon);
    free(ele);

    if (rc != 0) {
        return -1;
    }

    /* splits: every 50 km; every lap; every 5 laps */

    ncps = kind == 0 ? 3 : (kind == 1 ? 7 : 5);

    for (i = 0; i < ncps; i++) {
        snprintf(cps[i].name, sizeof(cps[i].name), "cp%zu", i + 1);
        cps[i].dist = kind == 0 ? 50000.0 * (i + 1)
                      : k->course.lap_length * (kind == 1 ? i + 1
                                                          : 5 * (i + 1));
    }

    return race_course_set_checkpoints(&k->course, cps, ncps, err, size);
}


/* the riders of a course; one in five loses its signal for 90 s */

static int
b_rides(b_kind_t *k, size_t riders)
{
    size_t                 r, j;
    uint32_t               sec;
    race_synth_conf_t      sc;
    race_synth_dropout_t   drop;

    k->rides = calloc(riders, sizeof(race_synth_t));
    k->sec = calloc(riders, sizeof(uint32_t *));

    if (k->rides == NULL || k->sec == NULL) {
        return -1;
    }

    drop.from = 120;
    drop.secs = 90;
    drop.lost = 0;

    memset(&sc, 0, sizeof(race_synth_conf_t));
    sc.start = B_START;
    sc.seed = 2026;
    sc.speed = k->course.laps > 1 ? 10.0 : 9.0;
    sc.speed_var = 0.15;
    sc.wobble = 0.1;
    sc.climb = 8.0;
    sc.noise_min = 5.0;
    sc.noise_max = 15.0;
    sc.jump_p = 0.001;
    sc.dropouts = &drop;
    sc.backfill_after = 3;
    sc.dup_p = 0.01;
    sc.swap_p = 0.01;

    for (r = 0; r < riders; r++) {
        sc.spd = r % 2;
        sc.ndropouts = (r % 5 == 0);

        if (race_synth_ride(&k->rides[r], &k->course, &sc, (unsigned) r)
            != 0)
        {
            return -1;
        }

        k->sec[r] = malloc((k->rides[r].n + 1) * sizeof(uint32_t));
        if (k->sec[r] == NULL) {
            return -1;
        }

        /* a fix is sent with the newest the phone has: a backlog at once */

        sec = 0;

        for (j = 0; j < k->rides[r].n; j++) {
            if ((k->rides[r].fixes[j].t - B_START) / 1000 > sec) {
                sec = (uint32_t) ((k->rides[r].fixes[j].t - B_START) / 1000);
            }

            k->sec[r][j] = sec;
        }
    }

    return 0;
}


/* race-tracker's emit: the members to the rider's <state> in the book */

static int
b_emit(void *ctx, const char *rider, const char *members, size_t len)
{
    b_emitted++;

    return race_book_extra(ctx, rider, members, len) == RACE_BOOK_OK ? 0 : -1;
}


/* race-tracker's order of a batch: by race, rider, t, seq */

static int
b_compare(const void *a, const void *b)
{
    int                c;
    const race_fix_t  *x = a, *y = b;

    c = strcmp(x->msg->race, y->msg->race);
    if (c != 0) {
        return c;
    }

    c = strcmp(x->msg->rider, y->msg->rider);
    if (c != 0) {
        return c;
    }

    return b_compare_t(a, b);
}


/* the store's order of a rider's fixes: by t, seq */

static int
b_compare_t(const void *a, const void *b)
{
    const race_fix_t  *x = a, *y = b;

    if (x->t != y->t) {
        return x->t < y->t ? -1 : 1;
    }

    if (x->seq != y->seq) {
        return x->seq < y->seq ? -1 : 1;
    }

    return 0;
}


static int
b_compare_d(const void *a, const void *b)
{
    const double  *x = a, *y = b;

    return *x < *y ? -1 : (*x > *y);
}


/* the percentiles of v[0..n) on both clocks, sorted in place */

static void
b_dist(const char *what, b_time_t *v, size_t n, double unit,
    const char *name)
{
    size_t   i;
    double  *d;

    d = malloc(2 * n * sizeof(double));
    if (d == NULL) {
        return;
    }

    for (i = 0; i < n; i++) {
        d[i] = v[i].cpu * unit;
        d[n + i] = v[i].wall * unit;
    }

    qsort(d, n, sizeof(double), b_compare_d);
    qsort(d + n, n, sizeof(double), b_compare_d);

    printf("  %s: p50 %.1f %s, p95 %.1f, p99 %.1f, max %.1f (wall p50 %.1f, "
           "p95 %.1f, p99 %.1f, max %.1f)\n", what, b_pct(d, n, 0.50), name,
           b_pct(d, n, 0.95), b_pct(d, n, 0.99), d[n - 1],
           b_pct(d + n, n, 0.50), b_pct(d + n, n, 0.95),
           b_pct(d + n, n, 0.99), d[2 * n - 1]);

    free(d);
}


/* the q-quantile of sorted v[0..n) */

static double
b_pct(const double *v, size_t n, double q)
{
    return v[(size_t) floor(q * (n - 1) + 0.5)];
}


static double
b_pos(double v)
{
    return v > 0 ? v : 1e-9;
}


/* this thread's CPU time: what the tracker costs, whatever else runs */

static double
b_cpu(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static double
b_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


/* the resident set, bytes */

static double
b_rss(void)
{
    long   pages, res;
    FILE  *fp;

    fp = fopen("/proc/self/statm", "r");
    if (fp == NULL) {
        return 0.0;
    }

    if (fscanf(fp, "%ld %ld", &pages, &res) != 2) {
        res = 0;
    }

    fclose(fp);

    return (double) res * sysconf(_SC_PAGESIZE);
}


static void
b_rider_free(void *value)
{
    race_book_rider_t  *rd = value;

    free(rd->who);
    free(rd->extra);
    free(rd);
}
