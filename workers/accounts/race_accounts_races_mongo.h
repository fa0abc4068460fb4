
/*
 * race-accounts: collections "races" and "courses" on MongoDB (or
 * FerretDB), the record of races (docs/INTERNALS.md, "Races").
 *
 *   races    the race document of core/race_races_cmd.h, _id the race id
 *   courses  {_id:"<race id>", laps, lat:[..], lon:[..], ele:[..]}
 *            (FerretDB 1.x stores no arrays in arrays)
 *   fixes    race-tracker's, read for a rider's track
 *
 * Documents go in and come out as jansson objects: the core works on
 * those, and JSON is what Redis and the replies carry.  A race is
 * changed with a findAndModify on its _id and the rev it was read at,
 * so two writers never lose each other's change.  Codes are those of
 * race_accounts_mongo.h.
 */


#ifndef _RACE_ACCOUNTS_RACES_MONGO_H_INCLUDED_
#define _RACE_ACCOUNTS_RACES_MONGO_H_INCLUDED_


#include <stdint.h>

#include <jansson.h>

#include "race_accounts_mongo.h"
#include "race_standings.h"


typedef struct race_accounts_races_mongo_s  race_accounts_races_mongo_t;

/* a race of a scan (a reference of the caller's): 0, or -1 to stop */
typedef int (*race_accounts_races_each_pt)(json_t *doc, void *data);


/* on the accounts' client; NULL if out of memory, logged */
race_accounts_races_mongo_t *race_accounts_races_mongo_open(
    race_accounts_mongo_t *m, const char *db);
void race_accounts_races_mongo_close(race_accounts_races_mongo_t *rm);

/*
 * A rider's fixes by time as samples (t, lat, lon, ele): OK with
 * *samples malloc()ed (NULL when none, free() it) and *n; BAD when
 * there are more than max (*samples then holds the first max); ERROR.
 */
int race_accounts_races_mongo_track(race_accounts_races_mongo_t *rm,
    const char *race, const char *rider, size_t max,
    race_rider_sample_t **samples, size_t *n);

/* the race of an id, a new reference in *doc: OK, NONE, BAD or ERROR */
int race_accounts_races_mongo_get(race_accounts_races_mongo_t *rm,
    const char *id, json_t **doc);

/* a new race: OK, DUPLICATE or ERROR */
int race_accounts_races_mongo_insert(race_accounts_races_mongo_t *rm,
    const json_t *doc);

/*
 * Sets every field of doc where the race is still at rev: OK, NONE (it
 * changed meanwhile: read it again) or ERROR.
 */
int race_accounts_races_mongo_replace(race_accounts_races_mongo_t *rm,
    const json_t *doc, int64_t rev);

/* the course of a race, {laps,points}: an upsert; OK or ERROR */
int race_accounts_races_mongo_course_put(race_accounts_races_mongo_t *rm,
    const char *id, const json_t *course);

/* the course of a race, {laps,points} in *course: OK, NONE or ERROR */
int race_accounts_races_mongo_course_get(race_accounts_races_mongo_t *rm,
    const char *id, json_t **course);

/*
 * handler on every race (due: only those scheduled whose start_at, or
 * live whose close_at, is at or before now); those not of the contract
 * are logged and skipped.  OK or ERROR.
 */
int race_accounts_races_mongo_each(race_accounts_races_mongo_t *rm,
    int due, int64_t now, race_accounts_races_each_pt handler, void *data,
    size_t *n);


#endif /* _RACE_ACCOUNTS_RACES_MONGO_H_INCLUDED_ */
