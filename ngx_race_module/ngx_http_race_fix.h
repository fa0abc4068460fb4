
/*
 * ngx_race: the fixes a phone sends on /ride.
 *
 * A pure core: a message's bytes in, validated fixes and the Kafka
 * message out (docs/INTERNALS.md).  No nginx types.
 */


#ifndef _NGX_HTTP_RACE_FIX_H_INCLUDED_
#define _NGX_HTTP_RACE_FIX_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define RACE_FIX_BATCH_MAX     500
#define RACE_FIX_SEQ_MAX       9007199254740991LL   /* 2^53 - 1 */


/* which optional fields a fix carries */
#define RACE_FIX_ELE   0x01
#define RACE_FIX_ACC   0x02
#define RACE_FIX_SPD   0x04
#define RACE_FIX_BRG   0x08
#define RACE_FIX_BAT   0x10


typedef struct {
    int64_t         seq;
    int64_t         t;          /* Unix ms */
    double          lat;
    double          lon;
    double          ele;        /* m, -500 .. 9000 */
    double          acc;        /* m, 0 .. 10000 */
    double          spd;        /* m/s, 0 .. 100 */
    double          brg;        /* degrees, 0 .. <360 */
    double          bat;        /* 0 .. 1 */
    unsigned        has;        /* RACE_FIX_* */
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
 * RACE_FIX_BATCH_MAX; a single "fix" counts as a batch of one.
 */
race_fix_msg_rc_e race_fix_parse(const char *json, size_t len,
    const race_fix_limits_t *limits, race_fix_t *fixes, size_t *nfixes,
    race_fix_error_t *errors, size_t *nerrors, char *message,
    size_t message_size);

/*
 * Writes the Kafka message for fixes[0..n) of rider in race, received
 * at recv (Unix ms), into dst, NUL-terminated; returns its length, or 0
 * if dst is too small, an id is not valid (race_id_valid()) or a
 * written double is not finite.  race_fix_kafka_size() gives a size
 * that always suffices.  Doubles get the fewest significant digits, 15,
 * 16 or 17, that read back as the same double: 45.07 stays "45.07",
 * and whole values print as integers ("brg":270).
 */
size_t race_fix_kafka_size(size_t n);
size_t race_fix_kafka_message(char *dst, size_t size, const char *race,
    const char *rider, int64_t recv, const race_fix_t *fixes, size_t n);


#endif /* _NGX_HTTP_RACE_FIX_H_INCLUDED_ */
