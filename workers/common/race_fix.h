
/*
 * ngx_race workers: the fixes the module puts on Kafka.
 *
 * A pure core: a message's bytes in, the rider's fixes out
 * (docs/INTERNALS.md, "Kafka: topic race.fixes").  No Kafka, MongoDB or
 * Redis types, so the parser can be unit tested and fuzzed alone.
 */


#ifndef _RACE_FIX_H_INCLUDED_
#define _RACE_FIX_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define RACE_FIX_ID_MAX        64          /* race and rider ids */
#define RACE_FIX_MSG_MAX       500         /* fixes in one message */
#define RACE_FIX_SEQ_MAX       9007199254740991LL   /* 2^53 - 1 */

/* "<race>:<rider>:<seq>" and its NUL */
#define RACE_FIX_DOC_ID_SIZE   (2 * RACE_FIX_ID_MAX + 2 + 20 + 1)

/* enough for any number race_fix_number() writes */
#define RACE_FIX_NUMBER_SIZE   32

/* which optional fields a fix carries */
#define RACE_FIX_ELE   0x01
#define RACE_FIX_ACC   0x02
#define RACE_FIX_SPD   0x04
#define RACE_FIX_BRG   0x08
#define RACE_FIX_BAT   0x10


/* what one Kafka message says about all its fixes */
typedef struct {
    char                    race[RACE_FIX_ID_MAX + 1];
    char                    rider[RACE_FIX_ID_MAX + 1];
    int64_t                 recv;           /* Unix ms */
} race_fix_msg_t;


typedef struct {
    const race_fix_msg_t   *msg;
    int64_t                 seq;
    int64_t                 t;              /* Unix ms */
    double                  lat;
    double                  lon;
    double                  ele;
    double                  acc;
    double                  spd;
    double                  brg;
    double                  bat;
    unsigned                has;            /* RACE_FIX_* */
} race_fix_t;


/*
 * Parses a Kafka message into msg and fixes[0..*n), fixes pointing at
 * msg.  room must be at least RACE_FIX_MSG_MAX.  Returns 0, or -1 with
 * the reason in err: the message is malformed as a whole and is to be
 * skipped, since retrying it cannot help.  The reason never quotes a
 * position.
 */
int race_fix_parse(const char *data, size_t len, race_fix_msg_t *msg,
    race_fix_t *fixes, size_t room, size_t *n, char *err, size_t size);

/* 1 if s is a valid race or rider id: 1 to 64 of [A-Za-z0-9_-] */
int race_fix_valid_id(const char *s, size_t len);

/* the deterministic _id of a fix's document: "<race>:<rider>:<seq>" */
void race_fix_doc_id(const race_fix_t *fix, char *buf, size_t size);

/*
 * A finite double as a JSON number, the shortest form that reads back
 * as the same double ("45.07", not "45.070000000000000284").  Returns
 * its length.
 */
size_t race_fix_number(double v, char *buf, size_t size);


#endif /* _RACE_FIX_H_INCLUDED_ */
