
/*
 * store_bench: race-tracker's MongoDB writes alone, fixes/s and the
 * time of a write, for the storage path's figures (t/bench/store.pl).
 *
 *     store_bench URI DB WRITERS BATCH SECONDS [RACES [RIDERS [index]]]
 *
 * WRITERS threads, each with a store of its own (race_store_mongo.c, the
 * tracker's code: one unordered insert_many a batch), insert batches of
 * BATCH fixes, as race-tracker's store_writers do, for SECONDS.  The
 * fixes are those of RACES races (100) of RIDERS riders (50) at a fix a
 * second: each batch takes the next BATCH of them, sorted by race,
 * rider, t, seq as the tracker sorts its batches; no two share an id.
 * "index" makes the replays' index {race, rider, t, seq} first (the
 * tracker makes it at its first replay of a race with a course).
 *
 * Prints "store: ..." lines: fixes stored and per second, batches, the
 * time of a write p50/p99/max in ms.  Exits 0, 1 if a write failed, 2
 * on bad usage.  Bounded: a write that fails ends the run.
 */


#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "race_log.h"
#include "race_store_mongo.h"


#define BENCH_WRITERS_MAX   64
#define BENCH_WRITES_MAX    (1 << 20)


typedef struct {
    race_store_t           *store;
    pthread_t               thread;
    race_fix_t             *fixes;
    race_fix_msg_t         *msgs;
    int64_t                *ms_us;     /* each write's time */
    size_t                  nwrites;
    size_t                  stored;
    int                     failed;
} bench_writer_t;


static size_t             bench_batch;
static size_t             bench_races = 100;
static size_t             bench_riders = 50;
static int64_t            bench_end_us;
static atomic_uint_fast64_t  bench_next;  /* the next fix's number */
static int64_t            bench_t0;       /* the first fix's t, Unix ms */


static void *bench_write(void *data);
static void bench_fill(bench_writer_t *w, uint64_t from);
static int bench_cmp(const void *a, const void *b);
static int bench_cmp_i64(const void *a, const void *b);
static int64_t bench_now_us(void);


static void
bench_noop(void *data, const race_fix_t *fixes, size_t n)
{
    (void) data;
    (void) fixes;
    (void) n;
}


int
main(int argc, char **argv)
{
    int                      rc;
    long                     secs;
    size_t                   i, nw, total, writes, k;
    int64_t                  start, span, *all;
    bench_writer_t          *w;
    race_store_mongo_conf_t  conf;

    if (argc < 6 || argc > 9) {
        fprintf(stderr, "usage: %s URI DB WRITERS BATCH SECONDS "
                "[RACES [RIDERS [index]]]\n", argv[0]);
        return 2;
    }

    nw = strtoul(argv[3], NULL, 10);
    bench_batch = strtoul(argv[4], NULL, 10);
    secs = strtol(argv[5], NULL, 10);

    if (argc > 6) {
        bench_races = strtoul(argv[6], NULL, 10);
    }

    if (argc > 7) {
        bench_riders = strtoul(argv[7], NULL, 10);
    }

    if (nw < 1 || nw > BENCH_WRITERS_MAX || bench_batch < 1
        || bench_batch > 100000 || secs < 1 || secs > 3600
        || bench_races < 1 || bench_riders < 1
        || (argc > 8 && strcmp(argv[8], "index") != 0))
    {
        fprintf(stderr, "%s: bad arguments\n", argv[0]);
        return 2;
    }

    race_log_init("store_bench", RACE_LOG_WARN);

    w = calloc(nw, sizeof(bench_writer_t));
    if (w == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    conf.uri = argv[1];
    conf.db = argv[2];
    conf.appname = "store_bench";
    conf.timeout_ms = 5000;
    conf.max_fixes = bench_batch;

    for (i = 0; i < nw; i++) {
        w[i].store = race_store_mongo_open(&conf);
        w[i].fixes = calloc(bench_batch, sizeof(race_fix_t));
        w[i].msgs = calloc(bench_batch, sizeof(race_fix_msg_t));
        w[i].ms_us = calloc(BENCH_WRITES_MAX, sizeof(int64_t));

        if (w[i].store == NULL || w[i].fixes == NULL || w[i].msgs == NULL
            || w[i].ms_us == NULL)
        {
            fprintf(stderr, "cannot open store %zu\n", i);
            return 1;
        }
    }

    if (argc > 8) {
        /* a replay of a race nobody rides makes the index, as the
         * tracker's first replay does */
        (void) w[0].store->ops->replay(w[0].store, "none", 1, bench_noop,
                                       NULL, &total);
    }

    bench_t0 = (int64_t) time(NULL) * 1000;
    start = bench_now_us();
    bench_end_us = start + (int64_t) secs * 1000000;

    for (i = 0; i < nw; i++) {
        if (pthread_create(&w[i].thread, NULL, bench_write, &w[i]) != 0) {
            fprintf(stderr, "cannot start writer %zu\n", i);
            return 1;
        }
    }

    total = 0;
    writes = 0;
    rc = 0;

    for (i = 0; i < nw; i++) {
        pthread_join(w[i].thread, NULL);
        total += w[i].stored;
        writes += w[i].nwrites;
        rc |= w[i].failed;
    }

    span = bench_now_us() - start;

    all = calloc(writes ? writes : 1, sizeof(int64_t));
    if (all == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    k = 0;
    for (i = 0; i < nw; i++) {
        memcpy(&all[k], w[i].ms_us, w[i].nwrites * sizeof(int64_t));
        k += w[i].nwrites;
        w[i].store->ops->close(w[i].store);
        free(w[i].fixes);
        free(w[i].msgs);
        free(w[i].ms_us);
    }

    qsort(all, writes, sizeof(int64_t), bench_cmp_i64);

    printf("store: %zu writer(s), batches of %zu, %zu races x %zu "
           "riders%s\n", nw, bench_batch, bench_races, bench_riders,
           argc > 8 ? ", with the replays' index" : "");
    printf("store: %zu fixes in %.2f s: %.1f fixes/s, %zu batches\n",
           total, span / 1e6, total * 1e6 / span, writes);

    if (writes > 0) {
        printf("store: write ms p50/p99/max: %.1f/%.1f/%.1f\n",
               all[(writes - 1) / 2] / 1e3,
               all[(writes * 99 + 99) / 100 - 1] / 1e3,
               all[writes - 1] / 1e3);
    }

    if (rc) {
        printf("store: a write FAILED\n");
    }

    free(all);
    free(w);

    return rc ? 1 : 0;
}


static void *
bench_write(void *data)
{
    int64_t               start;
    uint64_t              from;
    bench_writer_t       *w = data;
    race_store_result_t   res;

    while (bench_now_us() < bench_end_us
           && w->nwrites < BENCH_WRITES_MAX)
    {
        from = atomic_fetch_add(&bench_next, bench_batch);
        bench_fill(w, from);

        start = bench_now_us();

        if (w->store->ops->insert(w->store, w->fixes, bench_batch, &res)
            != RACE_STORE_OK)
        {
            w->failed = 1;
            break;
        }

        w->ms_us[w->nwrites++] = bench_now_us() - start;
        w->stored += res.inserted;
    }

    return NULL;
}


/* fixes from..from+batch: each second, every rider of every race */

static void
bench_fill(bench_writer_t *w, uint64_t from)
{
    size_t       i;
    uint64_t     n, step, in;
    race_fix_t  *f;

    for (i = 0; i < bench_batch; i++) {
        n = from + i;
        step = n / (bench_races * bench_riders);
        in = n % (bench_races * bench_riders);

        f = &w->fixes[i];
        memset(f, 0, sizeof(race_fix_t));

        snprintf(w->msgs[i].race, sizeof(w->msgs[i].race), "b%llu",
                 (unsigned long long) (in / bench_riders));
        snprintf(w->msgs[i].rider, sizeof(w->msgs[i].rider), "u%llu",
                 (unsigned long long) (in % bench_riders));
        w->msgs[i].recv = bench_t0 + (int64_t) step * 1000 + 20;

        f->msg = &w->msgs[i];
        f->seq = (int64_t) step;
        f->t = bench_t0 + (int64_t) step * 1000;
        f->lat = 45.0 + (double) in * 1e-5 + (double) step * 1e-6;
        f->lon = 6.0 + (double) step * 1e-5;
        f->ele = 1200.5;
        f->acc = 5;
        f->spd = 9.5;
        f->brg = 90;
        f->bat = 0.8;
        f->has = RACE_FIX_ELE | RACE_FIX_ACC | RACE_FIX_SPD | RACE_FIX_BRG
                 | RACE_FIX_BAT;
    }

    qsort(w->fixes, bench_batch, sizeof(race_fix_t), bench_cmp);
}


/* race, rider, t, seq: the tracker's order */

static int
bench_cmp(const void *a, const void *b)
{
    int               c;
    const race_fix_t  *x = a, *y = b;

    c = strcmp(x->msg->race, y->msg->race);
    if (c == 0) {
        c = strcmp(x->msg->rider, y->msg->rider);
    }

    if (c == 0) {
        c = (x->t > y->t) - (x->t < y->t);
    }

    if (c == 0) {
        c = (x->seq > y->seq) - (x->seq < y->seq);
    }

    return c;
}


static int
bench_cmp_i64(const void *a, const void *b)
{
    int64_t  x = *(const int64_t *) a, y = *(const int64_t *) b;

    return (x > y) - (x < y);
}


static int64_t
bench_now_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
