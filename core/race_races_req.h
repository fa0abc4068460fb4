
/*
 * ngx_race: the races API's request bodies (docs/INTERNALS.md, "Races"),
 * and the race_create and race_update commands made of them.
 *
 * A pure core: a body's bytes in, checked fields out; fields and a
 * course in, a command's JSON text out.  No nginx types; jansson only
 * inside, freed before returning.
 */


#ifndef _RACE_RACES_REQ_H_INCLUDED_
#define _RACE_RACES_REQ_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_course.h"


#define RACE_RACE_ID_LEN         12       /* [a-z0-9], random */
#define RACE_RIDER_ID_LEN        8        /* the same, within its race */
#define RACE_RACE_NAME_MAX       400      /* bytes: 100 code points */
#define RACE_BIB_MAX             16       /* bytes of [A-Za-z0-9 _-] */
#define RACE_USER_ID_MAX         32

/* a time in Unix ms: after 2000-01-01, before 2100 */
#define RACE_RACES_REQ_TIME_MIN      946684800000LL
#define RACE_RACES_REQ_TIME_MAX      4102444800000LL    /* as race-accounts */

#define RACE_LINK_TTL_DEFAULT    (7 * 86400)    /* seconds */
#define RACE_LINK_TTL_MAX        (30 * 86400)

#define RACE_RACES_REQ_ERR_MAX       RACE_COURSE_ERR_MAX


/* which fields a race body set */
#define RACE_RACES_SET_NAME          0x01
#define RACE_RACES_SET_PUBLIC        0x02
#define RACE_RACES_SET_START_AT      0x04
#define RACE_RACES_SET_CLOSE_AT      0x08
#define RACE_RACES_SET_COURSE        0x10
#define RACE_RACES_SET_LAPS          0x20
#define RACE_RACES_SET_CHECKPOINTS   0x40


/* POST /api/races, PATCH /api/races/{id} */
typedef struct {
    unsigned                  set;
    char                      name[RACE_RACE_NAME_MAX + 1];
    int                       public;
    int64_t                   start_at;       /* Unix ms */
    int64_t                   close_at;       /* 0: none (null) */
    char                     *course;         /* malloc()ed, its text */
    size_t                    course_len;
    unsigned                  laps;
    race_course_checkpoint_t  checkpoints[RACE_COURSE_CHECKPOINTS_MAX];
    size_t                    ncheckpoints;
} race_races_body_t;


/* POST and PATCH of /api/races/{id}/riders[/{rider}] */
#define RACE_RIDER_NAME          0x01
#define RACE_RIDER_BIB           0x02
#define RACE_RIDER_USER          0x04
#define RACE_RIDER_STATUS        0x08

typedef struct {
    unsigned                  set;
    char                      name[RACE_RACE_NAME_MAX + 1];
    char                      bib[RACE_BIB_MAX + 1];
    char                      user[RACE_USER_ID_MAX + 1];
    char                      status[8];      /* entered, dnf, dsq */
} race_races_rider_t;


/*
 * The parsers.  Each takes json[0..len), one JSON object; a field it
 * does not know is refused, so a typo in a PATCH is not silently
 * ignored.  0, or -1 with err naming the field (never quoting the
 * body).  create 1: what a creation requires must be there (name,
 * start_at, public, course; name and bib of a rider).
 *
 * A race's course is GPX text as a JSON string, or a GeoJSON object,
 * copied out as its compact text for race_course_parse(); the caller
 * frees it with race_races_body_free() whatever the result.
 */
int race_races_body_parse(const char *json, size_t len, int create,
    race_races_body_t *b, char *err, size_t size);
void race_races_body_free(race_races_body_t *b);

int race_races_rider_parse(const char *json, size_t len, int create,
    race_races_rider_t *rd, char *err, size_t size);

/* {"ttl_s"?: 60 to RACE_LINK_TTL_MAX}: the seconds a link lives */
int race_races_link_parse(const char *json, size_t len, int64_t *ttl,
    char *err, size_t size);

/* n characters of [a-z0-9] from RAND_bytes(), and a NUL; 0 or -1 */
int race_races_id_generate(char *id, size_t n);

/*
 * The course of a body: parsed (b->course), or the race's course c
 * already holds (decoded from Redis) with the body's laps applied;
 * then the body's checkpoints, or, when only the laps changed, the
 * ones it had.  0, or -1 with err for the user.  c is freed on -1.
 */
int race_races_req_course(const race_races_body_t *b, race_course_t *c,
    int have, char *err, size_t size);

/*
 * The commands' text, without req, reply and deadline (the channel
 * adds them): race_create of race id by user by, with course c;
 * race_update with course c, or NULL when the body changes no course.
 * malloc()ed, NULL when out of memory.
 */
char *race_races_create_cmd(const race_races_body_t *b,
    const race_course_t *c, const char *id, const char *by);
char *race_races_update_cmd(const race_races_body_t *b,
    const race_course_t *c, const char *id, const char *by);


#endif /* _RACE_RACES_REQ_H_INCLUDED_ */
