
/*
 * ngx_race: libFuzzer target for the live standings core.
 *
 * in[0] the riders (1..16), in[1] the checkpoints (0..4), in[2..3] the
 * course length; then 6-byte operations: rider, op, and 4 bytes of
 * argument.  Ops: a newer sample (time step, distance step, speed), a
 * late one (time and distance back), a mark, off course, a tick.
 * After every tick: the ranks are a permutation of 1..n, a ranked
 * rider on the course or finished has a gap >= 0 once heard, the
 * distance never went back, and every rider's members read back as
 * JSON with no NaN.
 */


#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_standings.h"


#define F_RIDERS   16
#define F_T0       1732400000000LL

#define f_assert(c)  do { if (!(c)) { abort(); } } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(race_standings_t *s, size_t n, double *last);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                  n, i, k, ncp;
    double                  cps[4], length, dist[F_RIDERS], last[F_RIDERS];
    int64_t                 t[F_RIDERS], now;
    uint8_t                 op;
    race_standings_t       *s;
    race_rider_sample_t     sm;
    race_standings_conf_t   conf;

    if (size < 4) {
        return 0;
    }

    n = data[0] % F_RIDERS + 1;
    ncp = data[1] % 5;
    length = 100 + (double) (data[2] | data[3] << 8) * 3;

    for (k = 0; k < ncp; k++) {
        cps[k] = length * (double) (k + 1) / (ncp + 1);
    }

    memset(&conf, 0, sizeof(conf));
    conf.length = length;
    conf.checkpoints = cps;
    conf.ncheckpoints = ncp;
    conf.start = F_T0;
    conf.stale_ms = (data[1] >> 3) * 1000;
    conf.bucket_m = (data[1] & 0x80) ? 3.5 : 0;

    s = race_standings_create(&conf);
    f_assert(s != NULL);

    for (i = 0; i < n; i++) {
        f_assert(race_standings_add(s) == (int) i);
        t[i] = F_T0 - 5000;
        dist[i] = 0;
        last[i] = 0;
    }

    now = F_T0;
    data += 4;
    size -= 4;

    while (size >= 6) {
        i = data[0] % n;
        op = data[1] % 8;

        memset(&sm, 0, sizeof(sm));

        switch (op) {

        case 0:
        case 1:
        case 2:
            /* newer: up to 65 s later, up to 255 m on, or back a bit */
            t[i] += 1 + (data[2] << 8 | data[3]);
            dist[i] += (data[4] & 0x80) ? -(double) (data[4] & 0x7f) / 4
                                        : (double) data[4] * 1.7;
            sm.t = t[i];
            sm.dist = dist[i];
            sm.speed = data[5] / 8.0;
            race_standings_sample(s, i, &sm);

            if (t[i] > now) {
                now = t[i];
            }

            break;

        case 3:
        case 4:
            /* late: back in time and distance */
            sm.t = t[i] - (data[2] << 8 | data[3]) * 10;
            sm.dist = dist[i] - (double) (data[4] << 8 | data[5]) / 7;
            sm.speed = 5;
            race_standings_sample(s, i, &sm);
            break;

        case 5:
            race_standings_mark(s, i, data[2] % 3);
            break;

        case 6:
            race_standings_off_course(s, i, data[2] & 1);
            break;

        default:
            now += data[2] * 1000;
            race_standings_tick(s, now);
            check(s, n, last);
            break;
        }

        data += 6;
        size -= 6;
    }

    race_standings_tick(s, now);
    check(s, n, last);

    race_standings_free(s);

    return 0;
}


static void
check(race_standings_t *s, size_t n, double *last)
{
    char                    buf[RACE_STANDINGS_JSON_MAX + 2];
    size_t                  i, len;
    uint8_t                 seen[F_RIDERS];
    json_t                 *j;
    const race_standing_t  *st;

    memset(seen, 0, sizeof(seen));

    for (i = 0; i < n; i++) {
        st = race_standings_get(s, i);

        f_assert(st->rank >= 1 && st->rank <= n);
        f_assert(!seen[st->rank - 1]);
        seen[st->rank - 1] = 1;

        f_assert(st->dist >= 0 && st->to_go >= 0);
        f_assert(st->dist >= last[i]);
        last[i] = st->dist;

        if (st->t >= 0 && (st->status == RACE_RIDER_RACING
                           || st->status == RACE_RIDER_FINISHED
                           || st->status == RACE_RIDER_STALE
                           || st->status == RACE_RIDER_OFF_COURSE))
        {
            f_assert(st->gap >= 0);
        }

        if (st->rank == 1 && st->t >= 0 && st->status != RACE_RIDER_DNF
            && st->status != RACE_RIDER_DSQ)
        {
            f_assert(st->gap == 0);
        }

        if (st->status == RACE_RIDER_FINISHED) {
            f_assert(st->finish >= 0 && st->to_go == 0);
        }

        buf[0] = '{';
        len = race_standings_json(s, i, buf + 1, RACE_STANDINGS_JSON_MAX);
        f_assert(len < RACE_STANDINGS_JSON_MAX);
        buf[len + 1] = '}';
        buf[len + 2] = '\0';

        f_assert(strstr(buf, "nan") == NULL && strstr(buf, "inf") == NULL);

        j = json_loads(buf, 0, NULL);
        f_assert(j != NULL);
        f_assert(json_integer_value(json_object_get(j, "rank"))
                 == (json_int_t) st->rank);
        json_decref(j);
    }
}
