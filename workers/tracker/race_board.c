
/*
 * ngx_race workers: the live standings of a race.
 *
 * Per race a race_standings_t of core/race_standings.c, per rider its
 * matcher's state, found through a map by rider id once per run of a
 * rider's fixes (a batch is sorted by rider).  A fix costs the map
 * lookup, the matcher (a binary search on the course and the segments
 * of its window) and a sample (the buckets it passed): nothing is
 * allocated per fix, only per rider.
 *
 * A tick asks the standings only when something was fed or marked since
 * the last one, or once a second (a rider goes stale with time), so an
 * idle race costs nothing; then only the riders whose members changed
 * are emitted.
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race_log.h"
#include "race_map.h"
#include "race_board.h"


/* a race that was fed nothing is asked again after this, for staleness */
#define RACE_BOARD_IDLE_MS      1000


typedef struct {
    char                    id[RACE_ID_MAX + 1];
    size_t                  index;      /* in the standings */
    race_board_matcher_t    m;
    race_rider_mark_e       mark;
    unsigned                off:1;
} race_board_rider_t;


struct race_board_s {
    race_standings_t       *standings;
    const race_course_t    *course;     /* the race's, as long as st */
    int64_t                 start;
    double                  cps[RACE_STANDINGS_CHECKPOINTS];
    size_t                  ncps;

    race_map_t              riders;     /* id to race_board_rider_t */
    race_board_rider_t    **index;      /* by standings index */
    size_t                  n;
    size_t                  size;

    uint64_t                nloads;     /* the race's marks are of it */
    int64_t                 ticked;     /* now of the last tick, Unix ms */
    unsigned                fed:1;      /* anything new to tick */
    uint64_t                fixes;
};


static int race_board_create(race_board_t *st, int64_t start);
static race_board_rider_t *race_board_rider(race_board_t *st,
    const race_book_race_t *race, const char *id);
static void race_board_apply(race_board_t *st, race_board_rider_t *br,
    const race_board_out_t *out);
static race_rider_mark_e race_board_mark(const race_book_race_t *race,
    const char *id);
static void race_board_marks(race_board_t *st, const race_book_race_t *race);
static void race_board_rider_free(void *value);


race_board_t *
race_board_open(const race_book_race_t *race)
{
    size_t         k;
    int64_t        start;
    race_board_t  *st;

    st = calloc(1, sizeof(race_board_t));
    if (st == NULL) {
        race_log(RACE_LOG_ERROR, "race %s: out of memory for standings",
                 race->id);
        return NULL;
    }

    st->course = race->course;
    st->nloads = race->nloads;
    race_map_init(&st->riders);

    for (k = 0; k < race->course->ncheckpoints
                && k < RACE_STANDINGS_CHECKPOINTS; k++)
    {
        st->cps[k] = race->course->checkpoints[k].dist;
    }

    st->ncps = k;

    /* no start known yet: the first fix is the start (see feed) */

    start = race_board_start(race);

    if (start > 0 && race_board_create(st, start) != 0) {
        race_log(RACE_LOG_ERROR, "race %s: out of memory for standings",
                 race->id);
        free(st);
        return NULL;
    }

    return st;
}


void
race_board_feed(race_board_t *st, const race_book_race_t *race,
    const race_fix_t *fixes, size_t n)
{
    size_t               i, j, k;
    const char          *prev;
    race_board_out_t     out[2];
    race_board_rider_t  *br;

    if (n == 0) {
        return;
    }

    if (st->standings == NULL
        && race_board_create(st, fixes[0].t) != 0)
    {
        race_log(RACE_LOG_ERROR, "race %s: out of memory for standings",
                 race->id);
        return;
    }

    prev = NULL;
    br = NULL;

    for (i = 0; i < n; i++) {

        /* sorted by rider: one lookup a run */
        if (prev == NULL || strcmp(prev, fixes[i].msg->rider) != 0) {
            prev = fixes[i].msg->rider;
            br = race_board_rider(st, race, prev);
        }

        if (br == NULL) {
            continue;
        }

        k = race_board_match(&br->m, st->course, &fixes[i], out);

        for (j = 0; j < k; j++) {
            race_board_apply(st, br, &out[j]);
        }
    }

    st->fixes += n;
}


int
race_board_tick(race_board_t *st, const race_book_race_t *race,
    int64_t now, race_board_emit_pt emit, void *ctx)
{
    int                  rc;
    char                 buf[RACE_STANDINGS_JSON_MAX];
    size_t               i, len;
    race_board_rider_t  *br;

    if (st->standings == NULL) {
        return 0;
    }

    if (race->nloads != st->nloads) {
        race_board_marks(st, race);
    }

    if (!st->fed && now - st->ticked < RACE_BOARD_IDLE_MS) {
        return 0;
    }

    race_standings_tick(st->standings, now);
    st->fed = 0;
    st->ticked = now;

    rc = 0;

    for (i = 0; i < st->n; i++) {
        if (!race_standings_changed(st->standings, i)) {
            continue;
        }

        br = st->index[i];

        len = race_standings_json(st->standings, i, buf, sizeof(buf));

        if (len >= sizeof(buf) || emit(ctx, br->id, buf, len) != 0) {
            race_log(RACE_LOG_WARN, "race %s: the standings of rider %s "
                     "were not taken", race->id, br->id);
            rc = -1;
        }
    }

    return rc;
}


void
race_board_close(race_board_t *st)
{
    if (st == NULL) {
        return;
    }

    race_map_clear(&st->riders, race_board_rider_free);
    race_standings_free(st->standings);
    free(st->index);
    free(st);
}


int
race_board_stale(const race_board_t *st, const race_book_race_t *race)
{
    int64_t  start;

    start = race_board_start(race);

    return st->standings != NULL && start > 0 && start != st->start;
}


int64_t
race_board_start(const race_book_race_t *race)
{
    return race->started_at > 0 ? race->started_at : race->start_at;
}


static int
race_board_create(race_board_t *st, int64_t start)
{
    race_standings_conf_t  conf;

    memset(&conf, 0, sizeof(conf));
    conf.length = st->course->length;
    conf.checkpoints = st->cps;
    conf.ncheckpoints = st->ncps;
    conf.start = start;

    st->standings = race_standings_create(&conf);
    if (st->standings == NULL) {
        return -1;
    }

    st->start = start;

    return 0;
}


/* the rider of id, added to the standings at its first fix */

static race_board_rider_t *
race_board_rider(race_board_t *st, const race_book_race_t *race,
    const char *id)
{
    int                   i;
    size_t                size;
    race_map_entry_t     *e;
    race_board_rider_t  **index, *br;

    e = race_map_find(&st->riders, id);
    if (e != NULL) {
        return e->value;
    }

    if (st->n == st->size) {
        size = st->size ? 2 * st->size : 16;

        index = realloc(st->index, size * sizeof(race_board_rider_t *));
        if (index == NULL) {
            goto failed;
        }

        st->index = index;
        st->size = size;
    }

    br = calloc(1, sizeof(race_board_rider_t));
    if (br == NULL) {
        goto failed;
    }

    e = race_map_add(&st->riders, id);
    if (e == NULL) {
        free(br);
        goto failed;
    }

    i = race_standings_add(st->standings);
    if (i < 0) {
        /* the map keeps it, without a place: its fixes are skipped */
        e->value = br;
        br->index = (size_t) -1;
        goto failed;
    }

    e->value = br;

    snprintf(br->id, sizeof(br->id), "%s", id);
    br->index = (size_t) i;
    race_board_matcher_init(&br->m, st->start);

    br->mark = race_board_mark(race, id);
    race_standings_mark(st->standings, br->index, br->mark);

    st->index[st->n++] = br;
    st->fed = 1;

    return br;

failed:

    race_log(RACE_LOG_ERROR, "race %s: out of memory for rider %s",
             race->id, id);

    return NULL;
}


static void
race_board_apply(race_board_t *st, race_board_rider_t *br,
    const race_board_out_t *out)
{
    if (br->index == (size_t) -1 || out->fate == RACE_BOARD_SKIPPED) {
        return;
    }

    if (out->fate == RACE_BOARD_OFF_COURSE && !br->off) {
        br->off = 1;
        race_standings_off_course(st->standings, br->index, 1);

    } else if (out->fate == RACE_BOARD_MATCHED && br->off) {
        br->off = 0;
        race_standings_off_course(st->standings, br->index, 0);
    }

    if (race_standings_sample(st->standings, br->index, &out->sample)
        != RACE_SAMPLE_IGNORED)
    {
        st->fed = 1;
    }
}


/* the organizer's mark on a rider's entry: dnf, dsq, or none */

static race_rider_mark_e
race_board_mark(const race_book_race_t *race, const char *id)
{
    race_book_rider_t  *rd;

    rd = race_book_rider((race_book_race_t *) race, id);

    if (rd == NULL || !rd->entered) {
        return RACE_RIDER_ENTERED;
    }

    if (strcmp(rd->status, "dnf") == 0) {
        return RACE_RIDER_MARK_DNF;
    }

    if (strcmp(rd->status, "dsq") == 0) {
        return RACE_RIDER_MARK_DSQ;
    }

    return RACE_RIDER_ENTERED;
}


/* the race was loaded again: its entries' marks may have changed */

static void
race_board_marks(race_board_t *st, const race_book_race_t *race)
{
    size_t               i;
    race_rider_mark_e    mark;
    race_board_rider_t  *br;

    st->nloads = race->nloads;

    for (i = 0; i < st->n; i++) {
        br = st->index[i];
        mark = race_board_mark(race, br->id);

        if (mark != br->mark) {
            br->mark = mark;
            race_standings_mark(st->standings, br->index, mark);
            st->fed = 1;
        }
    }
}


static void
race_board_rider_free(void *value)
{
    free(value);
}


/*
 * The matcher: core/race_match with its defaults.  Its outputs become
 * samples of the standings; the finish is one sample at the length, at
 * the time the matcher says the line was crossed (between the fixes
 * around it), so that net times are not those of the next fix.
 */

void
race_board_matcher_init(race_board_matcher_t *m, int64_t start)
{
    memset(m, 0, sizeof(race_board_matcher_t));
    race_match_init(&m->m, start);
}


size_t
race_board_match(race_board_matcher_t *m, const race_course_t *c,
    const race_fix_t *fix, race_board_out_t out[2])
{
    size_t                   i, n;
    int64_t                  t;
    race_fix_t               hold;
    race_match_out_t         mo[2];
    race_rider_sample_t     *s;
    const race_fix_t        *f;
    static race_match_conf_t  conf;
    static unsigned           conf_set;

    if (!conf_set) {
        race_match_conf_default(&conf);
        conf_set = 1;
    }

    /* a held fix decided now comes back without its coordinates */
    hold = m->m.hold;
    hold.seq = m->m.held ? hold.seq : -1;

    n = race_match_push(&m->m, c, &conf, fix, mo);

    for (i = 0; i < n; i++) {

        switch (mo[i].status) {

        case RACE_MATCH_MATCHED:
            out[i].fate = RACE_BOARD_MATCHED;
            break;

        case RACE_MATCH_MISSED:
            out[i].fate = RACE_BOARD_MISSED;
            break;

        case RACE_MATCH_OFF_COURSE:
            out[i].fate = RACE_BOARD_OFF_COURSE;
            break;

        default:
            out[i].fate = RACE_BOARD_SKIPPED;
            continue;
        }

        f = (mo[i].seq == hold.seq && mo[i].seq != fix->seq) ? &hold : fix;
        t = mo[i].t;

        if (mo[i].finished && !m->finished && !mo[i].late) {
            /* the line's time, kept within the track's order */
            m->finished = 1;
            t = (int64_t) llround(m->m.finish_t);
            t = t > mo[i].t ? mo[i].t : t;
            t = t <= m->t ? mo[i].t : t;
        }

        if (!mo[i].late && t > m->t) {
            m->t = t;
        }

        s = &out[i].sample;
        memset(s, 0, sizeof(race_rider_sample_t));
        s->t = t;
        s->dist = mo[i].dist;
        s->speed = mo[i].speed;
        s->lat = f->lat;
        s->lon = f->lon;

        if (f->has & RACE_FIX_ELE) {
            s->ele = f->ele;
            s->has_ele = 1;
        }
    }

    return n;
}
