
/*
 * ngx_race: results and statistics of a race (docs/INTERNALS.md,
 * "Races"), and the documents they are published as.
 *
 * A pure core: each rider's whole track (samples matched onto the
 * course, by time) and the organizer's marks in; per rider the rank,
 * status, net finish time, distance, moving time, average and maximum
 * speed, elevation gain and splits, and the race's summary out.  The
 * ranks, finish times and splits are the live standings' own
 * (race_standings.h), fed the whole tracks, so results never disagree
 * with what spectators saw once every late sample is in.
 *
 * Writers append to a growable buffer (race_buf_t): JSON results, CSV
 * (RFC 4180) and a rider's track as GPX 1.1.  Names are any bytes: what
 * is not UTF-8 becomes U+FFFD, so every document is valid UTF-8.
 */


#ifndef _RACE_STATS_H_INCLUDED_
#define _RACE_STATS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_buf.h"

#include "race_course.h"
#include "race_standings.h"


/* moving: progress along the course faster than this */
#define RACE_STATS_MOVING_MPS    1.0

/* an elevation change counts once it passes this, metres */
#define RACE_STATS_ELE_HYST      3.0

/* the maximum speed: the best median of this many fix-to-fix speeds */
#define RACE_STATS_MAX_WINDOW    5

/* ... between fixes at most this far apart in time */
#define RACE_STATS_MAX_DT_MS     30000




typedef struct {
    const char                 *id;         /* NUL-terminated, any bytes */
    const char                 *name;
    const char                 *bib;
    race_rider_mark_e           mark;
    const race_rider_sample_t  *samples;    /* by time */
    size_t                      n;
} race_stats_rider_in_t;


typedef struct {
    const char                      *id;
    const char                      *name;
    int64_t                          start;     /* ms since the epoch */
    int64_t                          computed;  /* ms, the results' time */
    double                           length;    /* metres */
    const race_course_checkpoint_t  *checkpoints;   /* by distance */
    size_t                           ncheckpoints;
    const race_stats_rider_in_t     *riders;
    size_t                           nriders;
} race_stats_in_t;


typedef struct {
    size_t                  index;      /* in the input's riders */
    unsigned                rank;
    race_rider_status_e     status;     /* finished, dnf or dsq */
    unsigned                started:1;  /* had a sample */
    int64_t                 finish;     /* net ms; -1 */
    double                  dist;       /* metres */
    int64_t                 moving;     /* ms */
    double                  avg;        /* m/s: dist / moving; NAN none */
    double                  max;        /* m/s; NAN none */
    double                  gain;       /* metres; NAN without elevation */
    int64_t                 splits[RACE_STANDINGS_CHECKPOINTS];  /* -1 */
} race_stats_rider_t;


typedef struct {
    const race_stats_in_t  *in;
    race_stats_rider_t     *riders;     /* by rank */
    size_t                  n;
    size_t                  starters;   /* riders with a sample */
    size_t                  finishers;
    int64_t                 winning;    /* the winner's net ms; -1 */
    double                  avg;        /* finishers' distance over their
                                           times, m/s; NAN none */
} race_stats_t;


/*
 * The results of the race in, which must outlive st; 0, or -1 when the
 * input is bad (length, checkpoints) or out of memory.  A rider who
 * did not reach the finish is dnf in the results.  Free with
 * race_stats_free().
 */
int race_stats_compute(race_stats_t *st, const race_stats_in_t *in);
void race_stats_free(race_stats_t *st);

/*
 * One document, appended to b; 0, or -1 when out of memory:
 *
 * {"race":"<id>","computed":<ms>,"summary":{"name":..,"start":<ms>,
 *  "length_m":..,"starters":n,"finishers":n,"winning_s":..|null,
 *  "avg_mps":..|null,"checkpoints":[{"name":..,"dist_m":..}]},
 *  "riders":[{"rider":..,"bib":..,"name":..,"rank":n,"status":..,
 *  "finish_s":..|null,"dist_m":..,"moving_s":..,"avg_mps":..|null,
 *  "max_mps":..|null,"ele_gain_m":..|null,"splits":[<s>|null...]}...]}
 */
int race_stats_json(const race_stats_t *st, race_buf_t *b);

/*
 * RFC 4180: a header line, then a line per rider by rank, CRLF; a
 * field with a comma, quote, CR or LF is quoted, its quotes doubled;
 * a text field (names, bibs, checkpoint names) that starts with = + -
 * @ tab or CR gets a ' before it, so a spreadsheet never runs it as a
 * formula.  Columns: rank,rider,bib,name,status,finish_s,dist_m,
 * moving_s,avg_mps,max_mps,ele_gain_m, then a split per checkpoint;
 * none is an empty field.
 */
int race_stats_csv(const race_stats_t *st, race_buf_t *b);

/*
 * A rider's track as GPX 1.1: metadata with the name and time (ms),
 * one trk with the rider's name and one trkseg of trkpt (lat, lon, ele
 * when the sample has one, time), in the schema's element order.
 * Samples with coordinates or times a GPX file cannot hold are left
 * out.
 */
int race_stats_gpx(race_buf_t *b, const char *name, const char *rider,
    int64_t time, const race_rider_sample_t *samples, size_t n);


#endif /* _RACE_STATS_H_INCLUDED_ */
