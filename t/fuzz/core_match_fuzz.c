
/*
 * ngx_race: libFuzzer target for the map matcher (core/race_match.c).
 *
 * Input: a stream of fixes for one rider on a small fixed course (a
 * 1.9 km loop raced twice), 12 bytes each: how t moves (on a little,
 * back, not at all, far on), the position as metres north and east of
 * the start (up to 32 km away), the optional fields, the seq's change,
 * and now and then a coordinate that is not a number or out of range.
 * Then:
 *
 *   - every push writes 1 or 2 outputs, of known statuses;
 *   - the live distance never goes back, and stays in [0, length];
 *   - no output's distance or speed is NaN, or out of [0, length];
 *   - a finished rider is at the length, with a finite finish time;
 *   - the split helper, on the outputs of the track sorted by t, gives
 *     NaN or a finite time.
 */


#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "race_course.h"
#include "race_match.h"


#define F_START     1767225600000LL
#define F_POINTS    48
#define F_FIX       12
#define F_M_DEG     111194.93
#define F_TRACK     4096

#define f_assert(c)  do { if (!(c)) { abort(); } } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void course_init(void);
static void decode(const uint8_t *p, race_fix_t *f, int64_t *t,
    int64_t *seq);
static int by_t(const void *a, const void *b);


static race_course_t      course;
static race_match_conf_t  conf;
static int                ready;
static race_match_out_t   track[F_TRACK];


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t             i, k, n, nt;
    double             live, s;
    int64_t            t, seq;
    race_fix_t         f;
    race_match_t       m;
    race_match_out_t   out[2];

    if (!ready) {
        course_init();
        ready = 1;
    }

    race_match_init(&m, (size && (data[0] & 1)) ? F_START : 0);

    t = F_START;
    seq = 0;
    live = 0.0;
    nt = 0;

    for (i = 1; i + F_FIX <= size; i += F_FIX) {
        decode(&data[i], &f, &t, &seq);

        n = race_match_push(&m, &course, &conf, &f, out);
        f_assert(n == 1 || n == 2);

        for (k = 0; k < n; k++) {
            f_assert(out[k].status <= RACE_MATCH_DUPLICATE);
            f_assert(isfinite(out[k].dist) && isfinite(out[k].speed));
            f_assert(out[k].dist >= 0.0 && out[k].dist <= course.length);
            f_assert(out[k].speed >= 0.0
                     && out[k].speed <= conf.max_speed);

            if ((out[k].status == RACE_MATCH_MATCHED
                 || out[k].status == RACE_MATCH_MISSED
                 || out[k].status == RACE_MATCH_OFF_COURSE)
                && nt < F_TRACK)
            {
                track[nt++] = out[k];
            }
        }

        f_assert(isfinite(m.dist) && m.dist >= live);
        f_assert(m.dist <= course.length);
        live = m.dist;

        if (m.finished) {
            f_assert(m.dist == course.length && isfinite(m.finish_t));
        }
    }

    /* the track by t; the split helper on it */

    qsort(track, nt, sizeof(race_match_out_t), by_t);

    for (k = 0; k < 4; k++) {
        s = race_match_split(track, nt, course.length * k / 3);
        f_assert(isnan(s) || isfinite(s));
    }

    return 0;
}


static void
course_init(void)
{
    char    err[128];
    size_t  i;
    double  a, lat[F_POINTS + 1], lon[F_POINTS + 1];

    for (i = 0; i <= F_POINTS; i++) {
        a = 2 * M_PI * (i % F_POINTS) / F_POINTS;
        lat[i] = 45.0 + 300.0 * sin(a) / F_M_DEG;
        lon[i] = 7.0 + 300.0 * (1.0 - cos(a)) / (F_M_DEG * 0.7071);
    }

    f_assert(race_course_from_points(&course, lat, lon, NULL, F_POINTS + 1,
                                     2, err, sizeof(err)) == 0);

    race_match_conf_default(&conf);
}


static void
decode(const uint8_t *p, race_fix_t *f, int64_t *t, int64_t *seq)
{
    int16_t  north, east, dseq;

    memset(f, 0, sizeof(race_fix_t));

    switch (p[0] & 3) {
    case 0:
        *t += 100 * (1 + p[1]);             /* on, up to 25 s */
        break;
    case 1:
        *t -= 1000 * p[1];                  /* back: late */
        break;
    case 2:
        break;                              /* the same t */
    default:
        *t += 10000 * (int64_t) p[1];       /* far on: a dead zone */
        break;
    }

    north = (int16_t) (p[2] | (p[3] << 8));
    east = (int16_t) (p[4] | (p[5] << 8));
    dseq = (int16_t) (p[10] | (p[11] << 8));

    *seq += dseq % 4;
    *seq = *seq < 0 ? 0 : *seq;

    f->seq = *seq;
    f->t = *t;
    f->lat = 45.0 + north / F_M_DEG;
    f->lon = 7.0 + east / (F_M_DEG * 0.7071);
    f->has = p[6] & 0x1f;
    f->spd = p[7] / 5.0;
    f->brg = (p[8] | (p[9] << 8)) % 360;
    f->ele = 100.0;

    /* now and then what no parser lets through */

    if ((p[6] & 0xe0) == 0xe0) {
        switch (p[1] & 3) {
        case 0:
            f->lat = NAN;
            break;
        case 1:
            f->lon = INFINITY;
            break;
        case 2:
            f->lat = 91.0;
            break;
        default:
            f->t = -f->t;
            break;
        }
    }
}


static int
by_t(const void *a, const void *b)
{
    const race_match_out_t  *x = a, *y = b;

    return (x->t > y->t) - (x->t < y->t);
}
