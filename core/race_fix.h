
/*
 * ngx_race: a rider's fixes, the one message that crosses from phones
 * through the module and Kafka to the workers.
 *
 * A pure core (docs/INTERNALS.md): a phone's message in, validated
 * fixes out (race_fix_parse_phone()); fixes in, the Kafka message out
 * (race_fix_kafka_message()); the Kafka message in, fixes out again
 * (race_fix_parse_kafka()).  One race_fix_t serves every side, race-sim
 * included.  No nginx, Kafka, MongoDB or Redis types.
 */


#ifndef _RACE_FIX_H_INCLUDED_
#define _RACE_FIX_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_id.h"


#define RACE_FIX_BATCH_MAX     500         /* fixes in one message */
#define RACE_FIX_SEQ_MAX       9007199254740991LL   /* 2^53 - 1 */

/* "<race>:<rider>:<seq>" and its NUL */
#define RACE_FIX_DOC_ID_SIZE   (2 * RACE_ID_MAX + 2 + 20 + 1)


/* which optional fields a fix carries */
#define RACE_FIX_ELE   0x01
#define RACE_FIX_ACC   0x02
#define RACE_FIX_SPD   0x04
#define RACE_FIX_BRG   0x08
#define RACE_FIX_BAT   0x10


/* what one Kafka message says about all its fixes */
typedef struct {
    char                    race[RACE_ID_MAX + 1];
    char                    rider[RACE_ID_MAX + 1];
    int64_t                 recv;           /* Unix ms */
} race_fix_msg_t;


typedef struct {
    const race_fix_msg_t   *msg;            /* NULL for a phone's fix */
    int64_t                 seq;
    int64_t                 t;              /* Unix ms */
    double                  lat;
    double                  lon;
    double                  ele;            /* m, -500 .. 9000 */
    double                  acc;            /* m, 0 .. 10000 */
    double                  spd;            /* m/s, 0 .. 100 */
    double                  brg;            /* degrees, 0 .. <360 */
    double                  bat;            /* 0 .. 1 */
    unsigned                has;            /* RACE_FIX_* */
} race_fix_t;


/* a fix rejected for good: the phone is told and drops it */
typedef struct {
    int64_t         seq;        /* -1 when the fix had no usable seq */
    const char     *code;       /* "bad_fix" */
    char            message[96];
} race_fix_error_t;


typedef struct {
    int64_t         now;            /* Unix ms */
    int64_t         max_future;     /* ms a fix's t may be ahead of now */
    int64_t         max_past;       /* ms a fix's t may be behind now */
    size_t          max_batch;      /* <= RACE_FIX_BATCH_MAX */
} race_fix_limits_t;


typedef enum {
    RACE_FIX_MSG_OK = 0,        /* fixes and errors are filled in */
    RACE_FIX_MSG_BAD_JSON,      /* not JSON, or not an object */
    RACE_FIX_MSG_BAD_TYPE,      /* "type" missing or unknown */
    RACE_FIX_MSG_BAD_SHAPE,     /* "items" not an array, etc. */
    RACE_FIX_MSG_TOO_MANY       /* batch over max_batch */
} race_fix_msg_rc_e;


/*
 * Parses a text message from a phone: {"type":"fix",...} or
 * {"type":"fixes","items":[...]}.  Valid fixes go to fixes[] (room for
 * max_batch), rejected ones to errors[] (same room); counts in *nfixes
 * and *nerrors.  On a message-level failure, message holds the reason
 * (never the phone's data) and both counts are 0.  Unknown fields are
 * ignored; known fields of the wrong type reject the fix, but an
 * optional field that is null counts as absent (browsers' Geolocation
 * API gives null altitude, speed and heading).  seq and t must be JSON
 * integers, the others any JSON number.  max_batch is held to
 * RACE_FIX_BATCH_MAX; a single "fix" counts as a batch of one.  The
 * fixes' msg is NULL.
 */
race_fix_msg_rc_e race_fix_parse_phone(const char *json, size_t len,
    const race_fix_limits_t *limits, race_fix_t *fixes, size_t *nfixes,
    race_fix_error_t *errors, size_t *nerrors, char *message,
    size_t message_size);

/*
 * Writes the Kafka message for fixes[0..n) of rider in race, received
 * at recv (Unix ms), into dst, NUL-terminated; returns its length, or 0
 * if dst is too small, an id is not valid (race_id_valid()) or a
 * written double is not finite.  race_fix_kafka_size() gives a size
 * that always suffices.  Doubles are written by race_json_number().
 */
size_t race_fix_kafka_size(size_t n);
size_t race_fix_kafka_message(char *dst, size_t size, const char *race,
    const char *rider, int64_t recv, const race_fix_t *fixes, size_t n);

/*
 * Parses a Kafka message into msg and fixes[0..*n), fixes pointing at
 * msg.  room must be at least RACE_FIX_BATCH_MAX.  Returns 0, or -1
 * with the reason in err: the message is malformed as a whole and is to
 * be skipped, since retrying it cannot help.  The reason never quotes a
 * position.
 */
int race_fix_parse_kafka(const char *data, size_t len, race_fix_msg_t *msg,
    race_fix_t *fixes, size_t room, size_t *n, char *err, size_t size);

/* the deterministic _id of a fix's document: "<race>:<rider>:<seq>" */
void race_fix_doc_id(const race_fix_t *fix, char *buf, size_t size);


#endif /* _RACE_FIX_H_INCLUDED_ */
