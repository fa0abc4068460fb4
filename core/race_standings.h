
/*
 * ngx_race: live standings of one race (docs/INTERNALS.md, "Races").
 *
 * A pure core: per rider a stream of samples already matched onto the
 * course (time, course distance, smoothed speed), the organizer's marks
 * (dnf, dsq) and the matcher's off-course flag in; per rider the rank,
 * the time gaps, the distance to go, the ETA, the split times and the
 * status out, as the JSON members of a spectator's <state>.
 *
 * Gaps are timed as commissaires time them: for a rider at course
 * distance d at time t, the gap is t minus the time the leader (or the
 * rider ranked just ahead) passed d, never a distance divided by a
 * speed.  So every rider keeps the time at which each bucket of course
 * distance (10 m, more on a long course: at most RACE_STANDINGS_BUCKETS
 * per rider) was first reached, interpolated between samples, grown as
 * the rider goes: memory is 4 bytes and a bit per bucket reached.
 *
 * A sample older than the rider's latest (a dead zone's backlog) never
 * moves the rider back; it only refines the passing times the dead zone
 * left as estimates, and what depends on them (splits, finish time, the
 * others' gaps) is recomputed at the next tick.
 *
 * Not thread-safe: one owner per race.
 */


#ifndef _RACE_STANDINGS_H_INCLUDED_
#define _RACE_STANDINGS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define RACE_STANDINGS_BUCKET_M     10.0     /* default bucket, metres */
#define RACE_STANDINGS_BUCKETS      8192     /* at most, per rider */
#define RACE_STANDINGS_STALE_MS     60000    /* default silence: stale */
#define RACE_STANDINGS_CHECKPOINTS  64

/*
 * Passing times filled from two samples further apart in time than
 * this are estimates (a dead zone) that a late sample may refine.
 */
#define RACE_STANDINGS_EXACT_MS     15000

/* below this smoothed speed a rider is stopped: no ETA */
#define RACE_STANDINGS_MOVING_MPS   0.5

/* enough for one rider's members with every checkpoint's split */
#define RACE_STANDINGS_JSON_MAX     (400 + RACE_STANDINGS_CHECKPOINTS * 26)


/* a rider's position, as the map matcher gives it */
typedef struct {
    int64_t                 t;          /* ms since the epoch */
    double                  dist;       /* course distance, metres */
    double                  speed;      /* smoothed, m/s */
    double                  lat;        /* degrees */
    double                  lon;
    double                  ele;        /* metres, when has_ele */
    unsigned                has_ele:1;
} race_rider_sample_t;


typedef enum {
    RACE_RIDER_RACING = 0,
    RACE_RIDER_FINISHED,
    RACE_RIDER_STALE,
    RACE_RIDER_OFF_COURSE,
    RACE_RIDER_DNF,
    RACE_RIDER_DSQ
} race_rider_status_e;


/* the organizer's mark on a rider's entry */
typedef enum {
    RACE_RIDER_ENTERED = 0,
    RACE_RIDER_MARK_DNF,
    RACE_RIDER_MARK_DSQ
} race_rider_mark_e;


/* what race_standings_sample() did with a sample */
typedef enum {
    RACE_SAMPLE_LIVE = 0,       /* the newest: moved the rider on */
    RACE_SAMPLE_BACKFILL,       /* late: refined passing times */
    RACE_SAMPLE_IGNORED         /* late and changes nothing, or bad */
} race_sample_rc_e;


typedef struct {
    double                  length;         /* metres, > 0 */
    const double           *checkpoints;    /* distances, copied */
    size_t                  ncheckpoints;   /* <= ..._CHECKPOINTS */
    int64_t                 start;          /* ms since the epoch */
    int64_t                 stale_ms;       /* 0: the default */
    double                  bucket_m;       /* 0: the default */
} race_standings_conf_t;


/* one rider's standing as of the last tick */
typedef struct {
    double                  dist;       /* metres, only grows */
    double                  speed;      /* m/s, the latest sample's */
    double                  to_go;      /* metres */
    int64_t                 t;          /* latest sample, ms; -1 none */
    int64_t                 gap;        /* ms to the leader; -1 none */
    int64_t                 gap_prev;   /* ms to the rider ahead; -1 */
    int64_t                 eta;        /* at the finish, ms; -1 none */
    int64_t                 finish;     /* net time, ms; -1 none */
    unsigned                rank;       /* 1 .. riders */
    race_rider_status_e     status;
} race_standing_t;


typedef struct race_standings_s  race_standings_t;


/* NULL if conf is bad (length, checkpoints) or out of memory */
race_standings_t *race_standings_create(const race_standings_conf_t *conf);
void race_standings_free(race_standings_t *s);

/* a new rider: its index (0, 1, ...), or -1 when out of memory */
int race_standings_add(race_standings_t *s);
size_t race_standings_count(const race_standings_t *s);

/* the bucket the course was cut in, metres */
double race_standings_bucket(const race_standings_t *s);

/*
 * A matched sample of rider i (only t, dist and speed are read).  A
 * distance beyond the course length is the finish; a distance lower
 * than the rider's is kept as the rider's (never back).
 */
race_sample_rc_e race_standings_sample(race_standings_t *s, size_t i,
    const race_rider_sample_t *sample);

void race_standings_mark(race_standings_t *s, size_t i,
    race_rider_mark_e mark);
void race_standings_off_course(race_standings_t *s, size_t i, int off);

/*
 * Ranks, gaps, ETAs and statuses as of now (ms); sets each rider's
 * changed mark when anything race_standings_json() writes differs from
 * the previous tick's.  Costs O(n log n) for n riders.
 */
void race_standings_tick(race_standings_t *s, int64_t now);

const race_standing_t *race_standings_get(const race_standings_t *s,
    size_t i);
int race_standings_changed(const race_standings_t *s, size_t i);

/*
 * The time (ms since the epoch) rider i first reached course distance
 * d, interpolated; -1 if the rider has not reached it.
 */
int64_t race_standings_pass(const race_standings_t *s, size_t i, double d);

/* checkpoint k's split of rider i, net ms; -1 when not reached */
int64_t race_standings_split(const race_standings_t *s, size_t i,
    size_t k);

/*
 * Rider i's standings members as of the last tick, without braces, for
 * the glue to put in its <state> after "rider", "lat"...:
 *
 *   "dist_m":..,"speed_mps":..,"rank":..,"gap_s":..|null,
 *   "gap_prev_s":..|null,"to_go_m":..,"eta":<ms>|null,
 *   "finish_s":..|null,"splits":[<s>|null,...],"status":".."
 *
 * Written into buf with a NUL as snprintf() does: returns the length it
 * needs (at most RACE_STANDINGS_JSON_MAX - 1); it fits if < size.
 */
size_t race_standings_json(const race_standings_t *s, size_t i, char *buf,
    size_t size);

const char *race_rider_status_name(race_rider_status_e status);


#endif /* _RACE_STANDINGS_H_INCLUDED_ */
