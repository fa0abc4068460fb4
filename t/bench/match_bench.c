
/*
 * ngx_race: the map matcher's benchmark (issue 9, "Performance").
 *
 * A 200 km course of 20,000 points, RIDERS synthetic riders
 * (core/race_synth.c: 10 m noise, jumps, a dead zone with its backlog,
 * duplicates, swapped fixes) and FIXES fixes each, pushed in turns as
 * race-tracker would see them at 1 Hz.  Prints what matching costs per
 * fix and how many fixes a second one core matches, against what
 * 1,000 races x 50 riders at 1 Hz need.  Prints figures; asserts
 * nothing.
 *
 *   ./build.sh bench-match [RIDERS [FIXES]]      (50 3600)
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "race_course.h"
#include "race_match.h"
#include "race_synth.h"


#define B_START     1767225600000LL
#define B_POINTS    20000
#define B_LENGTH    200000.0
#define B_M_DEG     111194.93
#define B_NEED      (1000 * 50)         /* fixes a second: 1,000 races */


static double now(void);


int
main(int argc, char **argv)
{
    int                    rc;
    char                   err[128];
    size_t                 i, r, k, riders, fixes, n, pushed, matched;
    double                 a, x, y, t0, t1, ns, *lat, *lon, *ele;
    race_course_t          course;
    race_synth_t          *s;
    race_match_t          *m;
    race_match_conf_t      conf;
    race_synth_conf_t      sc;
    race_synth_dropout_t   drop;
    race_match_out_t       out[2];

    riders = argc > 1 ? (size_t) atol(argv[1]) : 50;
    fixes = argc > 2 ? (size_t) atol(argv[2]) : 3600;

    if (riders < 1 || fixes < 1) {
        fprintf(stderr, "usage: match_bench [RIDERS [FIXES]]\n");
        return 2;
    }

    /* a winding road of 200 km, a point every 10 m, rolling */

    lat = malloc(B_POINTS * sizeof(double));
    lon = malloc(B_POINTS * sizeof(double));
    ele = malloc(B_POINTS * sizeof(double));
    s = calloc(riders, sizeof(race_synth_t));
    m = calloc(riders, sizeof(race_match_t));

    if (lat == NULL || lon == NULL || ele == NULL || s == NULL || m == NULL)
    {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    x = 0.0;
    y = 0.0;

    for (i = 0; i < B_POINTS; i++) {
        a = 0.6 * sin(i / 300.0) + 0.3 * sin(i / 37.0);
        x += B_LENGTH / B_POINTS * cos(a);
        y += B_LENGTH / B_POINTS * sin(a);

        lat[i] = 44.0 + y / B_M_DEG;
        lon[i] = 6.0 + x / (B_M_DEG * cos(44.0 * M_PI / 180.0));
        ele[i] = 400.0 + 150.0 * sin(i / 900.0);
    }

    rc = race_course_from_points(&course, lat, lon, ele, B_POINTS, 1, err,
                                 sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "course: %s\n", err);
        return 1;
    }

    /* the riders; the synthetic ride is not what is measured */

    drop.from = 600;
    drop.secs = 300;
    drop.lost = 0;

    memset(&sc, 0, sizeof(race_synth_conf_t));
    sc.start = B_START;
    sc.seed = 2026;
    sc.speed = 9.0;
    sc.speed_var = 0.15;
    sc.wobble = 0.1;
    sc.climb = 8.0;
    sc.noise_min = 5.0;
    sc.noise_max = 15.0;
    sc.jump_p = 0.001;
    sc.dropouts = &drop;
    sc.ndropouts = 1;
    sc.backfill_after = 3;
    sc.dup_p = 0.01;
    sc.swap_p = 0.01;

    for (r = 0; r < riders; r++) {
        sc.spd = r % 2;

        if (race_synth_ride(&s[r], &course, &sc, (unsigned) r) != 0) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
    }

    race_match_conf_default(&conf);

    for (r = 0; r < riders; r++) {
        race_match_init(&m[r], B_START);
    }

    /* the fixes in turns: each rider's next one, rider after rider */

    pushed = 0;
    matched = 0;

    t0 = now();

    for (k = 0; k < fixes; k++) {
        for (r = 0; r < riders; r++) {
            if (k >= s[r].n) {
                continue;
            }

            n = race_match_push(&m[r], &course, &conf, &s[r].fixes[k], out);
            matched += (out[n - 1].status == RACE_MATCH_MATCHED);
            pushed++;
        }
    }

    t1 = now();

    ns = (t1 - t0) * 1e9 / (pushed ? pushed : 1);

    printf("course: %.1f km, %zu points\n", course.length / 1000.0,
           course.n);
    printf("riders: %zu, fixes pushed: %zu (%zu matched), in %.3f s\n",
           riders, pushed, matched, t1 - t0);
    printf("matcher: %.0f ns a fix, %.0f fixes/s on one core\n", ns,
           1e9 / ns);
    printf("1,000 races x 50 riders at 1 Hz: %d fixes/s, %.1f %% of one "
           "core\n", B_NEED, 100.0 * B_NEED * ns / 1e9);
    printf("state: %zu bytes a rider, %.1f MB for 50,000 riders; the "
           "course %.1f MB, shared\n", sizeof(race_match_t),
           50000.0 * sizeof(race_match_t) / 1e6,
           course.n * sizeof(race_course_point_t) / 1e6);

    for (r = 0; r < riders; r++) {
        race_synth_free(&s[r]);
    }

    race_course_free(&course);
    free(s);
    free(m);
    free(lat);
    free(lon);
    free(ele);

    return 0;
}


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}
