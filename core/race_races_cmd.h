
/*
 * race-accounts: the race commands of topic race.accounts, the race
 * document they change, and their replies (docs/INTERNALS.md, "Races").
 *
 * A pure core: a Kafka message's bytes in, a checked command out; a
 * race document (jansson) and a command in, the changed document, or
 * the code that refuses it, out; the replies' JSON.  No Kafka, MongoDB
 * or Redis types, so it can be unit tested and fuzzed alone.  What a
 * command carries is rebuilt from the fields it checked: nothing
 * unchecked ever reaches a stored document.
 */


#ifndef _RACE_RACES_CMD_H_INCLUDED_
#define _RACE_RACES_CMD_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "race_account.h"
#include "race_cmd.h"
#include "race_id.h"


#define RACE_RACES_REQ_MAX        RACE_CMD_REQ_MAX
#define RACE_RACES_CHANNEL_MAX    RACE_CMD_CHANNEL_MAX
#define RACE_RACES_BIB_MAX        16       /* printable ASCII bytes */
#define RACE_RACES_RIDERS_MAX     1000     /* entries of one race */
#define RACE_RACES_LINKS_MAX      100      /* spectator links of one race */
#define RACE_RACES_CP_NAME_MAX    64       /* bytes of a checkpoint name */
#define RACE_RACES_CP_MAX         64
#define RACE_RACES_LAPS_MAX       100
#define RACE_RACES_POINTS_MAX     20000    /* of one lap */

/* race times, Unix ms: from 2000 to 2100 */
#define RACE_RACES_TIME_MIN       946684800000LL
#define RACE_RACES_TIME_MAX       4102444800000LL

/* a token's exp, Unix s */
#define RACE_RACES_EXP_MAX        9007199254740991LL   /* 2^53 - 1 */

#define RACE_RACES_ERR_MAX        128

/*
 * How what is shown (Redis, replies) is written: 15 significant digits
 * print 7.6 as 7.6, and are well below a millimetre.  What is stored in
 * MongoDB keeps jansson's 17, which read back as the same double.
 */
#define RACE_RACES_DUMP   (JSON_COMPACT | JSON_REAL_PRECISION(15))


typedef enum {
    RACE_RACES_NONE = 0,
    RACE_RACES_CREATE,
    RACE_RACES_UPDATE,
    RACE_RACES_RIDER_ADD,
    RACE_RACES_RIDER_UPDATE,
    RACE_RACES_RIDER_REMOVE,
    RACE_RACES_LINK_ADD,
    RACE_RACES_LINK_REMOVE,
    RACE_RACES_START,
    RACE_RACES_FINISH,
    RACE_RACES_TRACK            /* a query: a rider's track as GPX */
} race_races_op_e;


typedef struct {
    race_races_op_e         op;
    char                    req[RACE_RACES_REQ_MAX + 1];
    char                    reply[RACE_RACES_CHANNEL_MAX + 1];
    int64_t                 deadline;   /* Unix ms; 0 if it names none */
    char                    by[RACE_USER_ID_LEN + 1];   /* track: "" */
    char                    race[RACE_ID_MAX + 1];

    /* rider_update, rider_remove, track: the rider; link_remove: the
       jti */
    char                    rider[RACE_ID_MAX + 1];
    char                    jti[RACE_ID_MAX + 1];

    int64_t                 at;         /* start, finish: Unix ms */

    /*
     * Rebuilt from what was checked, owned by the command:
     *   create        data: the race {id,name,public,start_at,close_at,
     *                 course}, course: {laps,points};
     *   update        data: "set", course: {laps,points} or NULL;
     *   rider_add     data: the entry, status "entered";
     *   rider_update  data: "set";
     *   link_add      data: {jti,exp}.
     */
    json_t                 *data;
    json_t                 *course;
} race_races_cmd_t;


/* what a command changed, beside the document */
typedef struct {
    unsigned                changed:1;  /* the document is to be written */

    /* the entry or link the reply names: references the caller
       json_decref()s, or NULL */
    json_t                 *rider;
    json_t                 *link;

    /* a token to revoke before the document is written ("" if none) */
    char                    revoke_jti[RACE_ID_MAX + 1];
    int64_t                 revoke_exp;

    /* a user no longer entered in the race ("" if none) */
    char                    user_gone[RACE_USER_ID_LEN + 1];
} race_races_change_t;


/*
 * Parses a Kafka message into cmd.  Returns 0; 1 if it is not a JSON
 * object whose "op" starts with "race_" (it is for
 * race_accounts_cmd_parse(), which tells what is wrong); or -1 with the
 * reason in err, never quoting a value: the command is malformed, and
 * cmd->req and cmd->reply hold what could be read ("" if not) so that
 * the sender can be told.  race_races_cmd_free() in every case.
 */
int race_races_cmd_parse(const char *data, size_t len, race_races_cmd_t *cmd,
    char *err, size_t size);
void race_races_cmd_free(race_races_cmd_t *cmd);

/* 1 if the command is past its deadline at now (Unix ms) */
int race_races_cmd_expired(const race_races_cmd_t *cmd, int64_t now);

/* the op's name, "race_create"... */
const char *race_races_op_name(race_races_op_e op);

/* the new document of a race_create at now (Unix ms); NULL if no memory */
json_t *race_races_create(const race_races_cmd_t *cmd, int64_t now);

/*
 * Applies cmd to doc (a document of collection "races", changed in
 * place, left as it was when refused).  admin: "by" is an admin.
 * Returns NULL with ch filled in (ch->changed 0 when the change is there
 * already: a replay, or nothing to do), or the code that refuses it:
 * "not_owner", "bad_status", "bib_taken", "no_rider", "bad_command".
 * A change sets rev + 1 and updated = now.  Not for race_create.
 */
const char *race_races_apply(json_t *doc, const race_races_cmd_t *cmd,
    int admin, int64_t now, race_races_change_t *ch);

/*
 * The worker's own moves at now (Unix ms): scheduled to live once
 * start_at has passed (started_at = start_at), live to finished once
 * close_at has passed (finished_at = close_at).  1 if doc changed.
 */
int race_races_tick(json_t *doc, int64_t now);

/* 0 if doc is a race document of the contract, or -1 with err set */
int race_races_doc_valid(const json_t *doc, char *err, size_t size);

/*
 * The document as Redis and the replies carry it: "id" for "_id", no
 * "links", no rider's "jti".  A new reference, NULL if out of memory.
 */
json_t *race_races_public(const json_t *doc);

/*
 * A compact course {laps,points:[[lat,lon,ele?]...]} as a document of
 * collection "courses" (without its _id), {laps,lat:[..],lon:[..],
 * ele:[..]} (ele null where unknown: FerretDB 1.x stores no arrays in
 * arrays); and back (NULL if it is not of that shape).  New references,
 * NULL if out of memory.
 */
json_t *race_races_course_doc(const json_t *course);
json_t *race_races_course(const json_t *course_doc);

/*
 * The replies: {"req":..,"ok":true,"race":{public},"rider":{..}?,
 * "link":{..}?} (the rider without its jti), and {"req":..,"ok":false,
 * "code":..}; "req" left out when req is "".  malloc()ed, NUL-ended,
 * NULL if out of memory.
 */
char *race_races_reply_ok(const char *req, const json_t *doc,
    const json_t *rider, const json_t *link);
char *race_races_reply_error(const char *req, const char *code);


#endif /* _RACE_RACES_CMD_H_INCLUDED_ */
