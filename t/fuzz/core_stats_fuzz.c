
/*
 * ngx_race: libFuzzer target for the results core and its writers.
 *
 * The input is cut at NUL bytes: the race's name, then riders' names
 * and bibs (any bytes), the rest 8-byte samples (time step, distance
 * step, coordinates, elevation).  The results must compute; the JSON
 * must read back (jansson refuses bad UTF-8), the CSV be UTF-8 with
 * balanced quotes and CRLF line ends, and each rider's GPX be
 * well-formed UTF-8 XML (expat).
 */


#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>
#include <jansson.h>

#include "race_stats.h"
#include "race_utf8.h"


#define F_RIDERS   4
#define F_SAMPLES  256
#define F_T0       1732400000000LL

#define f_assert(c)  do { if (!(c)) { abort(); } } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *take(const uint8_t **p, size_t *n, char *dst,
    size_t max);
static void utf8(const race_buf_t *b);


static race_rider_sample_t  samples[F_RIDERS][F_SAMPLES];


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                      race[64], names[F_RIDERS][64],
                              bibs[F_RIDERS][16], ids[F_RIDERS][8];
    size_t                    i, k, nr, quotes;
    double                    d;
    int64_t                   t;
    json_t                   *j;
    XML_Parser                x;
    race_buf_t                b;
    race_stats_t              st;
    race_stats_in_t           in;
    race_stats_rider_in_t     riders[F_RIDERS];
    race_rider_sample_t      *sm;
    race_course_checkpoint_t  cps[2];

    take(&data, &size, race, sizeof(race));
    nr = size ? data[0] % F_RIDERS + 1 : 1;

    if (size) {
        data++;
        size--;
    }

    memset(riders, 0, sizeof(riders));
    memset(cps, 0, sizeof(cps));
    take(&data, &size, cps[0].name, sizeof(cps[0].name));
    cps[0].dist = 1000;
    memcpy(cps[1].name, "=2", 3);
    cps[1].dist = 2000;

    for (i = 0; i < nr; i++) {
        riders[i].name = take(&data, &size, names[i], sizeof(names[i]));
        riders[i].bib = take(&data, &size, bibs[i], sizeof(bibs[i]));
        snprintf(ids[i], sizeof(ids[i]), "r%zu", i);
        riders[i].id = ids[i];
        riders[i].mark = size ? data[0] % 3 : 0;
        riders[i].samples = samples[i];
    }

    /* samples dealt to the riders in turn */

    t = F_T0 - 10000;
    d = 0;
    i = 0;

    while (size >= 8) {
        if (riders[i].n < F_SAMPLES) {
            sm = &samples[i][riders[i].n++];
            t += data[0] * 100;
            d += (data[1] & 0x80) ? -1 : data[1] * 1.5;
            sm->t = t;
            sm->dist = d;
            sm->speed = data[2] / 10.0;
            sm->lat = (int8_t) data[3] * 0.71 + data[4] / 1000.0;
            sm->lon = (int8_t) data[5] * 1.42 + data[4] / 997.0;
            sm->has_ele = data[6] & 1;
            sm->ele = (int8_t) data[7] * 3.0 + (data[6] >> 1);
        }

        i = (i + 1) % nr;
        data += 8;
        size -= 8;
    }

    memset(&in, 0, sizeof(in));
    in.id = "fuzzrace";
    in.name = race;
    in.start = F_T0;
    in.computed = t + 1000;
    in.length = 3000;
    in.checkpoints = cps;
    in.ncheckpoints = 2;
    in.riders = riders;
    in.nriders = nr;

    f_assert(race_stats_compute(&st, &in) == 0);
    f_assert(st.n == nr);

    for (i = 0; i < nr; i++) {
        f_assert(st.riders[i].rank == i + 1);
    }

    memset(&b, 0, sizeof(b));
    f_assert(race_stats_json(&st, &b) == 0);
    j = json_loadb(b.data, b.len, 0, NULL);
    f_assert(j != NULL);
    f_assert(json_array_size(json_object_get(j, "riders")) == nr);
    json_decref(j);
    race_buf_free(&b);

    f_assert(race_stats_csv(&st, &b) == 0);
    utf8(&b);
    quotes = 0;

    for (k = 0; k < b.len; k++) {
        quotes += (b.data[k] == '"');

        /* outside quotes a line ends only with CRLF */
        if (quotes % 2 == 0 && b.data[k] == '\n') {
            f_assert(k > 0 && b.data[k - 1] == '\r');
        }
    }

    f_assert(quotes % 2 == 0);
    f_assert(b.len >= 2 && memcmp(b.data + b.len - 2, "\r\n", 2) == 0);
    race_buf_free(&b);

    for (i = 0; i < nr; i++) {
        f_assert(race_stats_gpx(&b, race, riders[i].name, t,
                                riders[i].samples, riders[i].n) == 0);
        utf8(&b);

        x = XML_ParserCreate(NULL);
        f_assert(x != NULL);
        f_assert(XML_Parse(x, b.data, (int) b.len, 1) == XML_STATUS_OK);
        XML_ParserFree(x);

        race_buf_free(&b);
    }

    race_stats_free(&st);

    return 0;
}


/* bytes up to a NUL (or the end), at most max - 1 of them */

static const char *
take(const uint8_t **p, size_t *n, char *dst, size_t max)
{
    size_t  k;

    for (k = 0; k < *n && (*p)[k] != '\0' && k < max - 1; k++) {
        dst[k] = (char) (*p)[k];
    }

    dst[k] = '\0';

    if (k < *n) {
        k++;
    }

    *p += k;
    *n -= k;

    return dst;
}


static void
utf8(const race_buf_t *b)
{
    race_utf8_t  u;

    race_utf8_init(&u);
    f_assert(race_utf8_feed(&u, (const uint8_t *) b->data, b->len)
             != RACE_UTF8_REJECT);
    f_assert(race_utf8_complete(&u));
}
