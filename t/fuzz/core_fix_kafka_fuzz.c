
/*
 * ngx_race: libFuzzer target for the fix core's Kafka message parser,
 * the fix document _id and the JSON number writer.
 *
 * Input: a race.fixes message (docs/INTERNALS.md).  msg, fixes[] (room
 * for exactly RACE_FIX_BATCH_MAX), the reason, the _id and the numbers
 * are allocations of exactly their promised sizes, so ASan sees a write
 * past them.  Then:
 *
 *   - a refused message leaves no fix and says why, within its buffer;
 *   - an accepted one has valid ids, recv >= 0 and 1 to RACE_FIX_BATCH_MAX
 *     fixes, each pointing at the message, inside the parser's ranges,
 *     its absent optional fields 0 and present ones finite;
 *   - each fix's _id is "<race>:<rider>:<seq>", whole, within
 *     RACE_FIX_DOC_ID_SIZE; each of its numbers, written by
 *     race_json_number() within RACE_JSON_NUMBER_SIZE, reads back the
 *     same;
 *   - the module's writer makes a message of the fixes that parses back
 *     to the same values.
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race_fix.h"
#include "race_id.h"
#include "race_json.h"


#define F_ERR      64

#define f_assert(c)  do { if (!(c)) { abort(); } } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_msg(const race_fix_msg_t *msg);
static void check_fix(const race_fix_t *f, const race_fix_msg_t *msg);
static void check_doc_id(const race_fix_t *f);
static void check_number(double v);
static void check_writer(const race_fix_msg_t *msg, const race_fix_t *fixes,
    size_t n);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int              rc;
    char            *err;
    size_t           i, n;
    race_fix_t      *fixes;
    race_fix_msg_t  *msg;

    msg = malloc(sizeof(race_fix_msg_t));
    fixes = malloc(RACE_FIX_BATCH_MAX * sizeof(race_fix_t));
    err = malloc(F_ERR);
    f_assert(msg != NULL && fixes != NULL && err != NULL);

    memset(err, 'x', F_ERR);
    n = 7;

    rc = race_fix_parse_kafka((const char *) data, size, msg, fixes,
                              RACE_FIX_BATCH_MAX, &n, err, F_ERR);

    if (rc != 0) {
        f_assert(rc == -1 && n == 0);
        f_assert(memchr(err, '\0', F_ERR) != NULL && err[0] != '\0');

    } else {
        f_assert(n >= 1 && n <= RACE_FIX_BATCH_MAX);
        check_msg(msg);

        for (i = 0; i < n; i++) {
            check_fix(&fixes[i], msg);
            check_doc_id(&fixes[i]);
        }

        check_writer(msg, fixes, n);
    }

    free(msg);
    free(fixes);
    free(err);

    return 0;
}


static void
check_msg(const race_fix_msg_t *msg)
{
    f_assert(memchr(msg->race, '\0', sizeof(msg->race)) != NULL);
    f_assert(memchr(msg->rider, '\0', sizeof(msg->rider)) != NULL);
    f_assert(race_id_valid(msg->race, strlen(msg->race)));
    f_assert(race_id_valid(msg->rider, strlen(msg->rider)));
    f_assert(msg->recv >= 0);
}


static void
check_fix(const race_fix_t *f, const race_fix_msg_t *msg)
{
    size_t        k;
    const double  v[5] = { f->ele, f->acc, f->spd, f->brg, f->bat };

    f_assert(f->msg == msg);
    f_assert(f->seq >= 0 && f->seq <= RACE_FIX_SEQ_MAX);
    f_assert(f->t >= 1);
    f_assert(f->lat >= -90 && f->lat <= 90);
    f_assert(f->lon >= -180 && f->lon <= 180);
    f_assert((f->has & ~0x1fu) == 0);

    check_number(f->lat);
    check_number(f->lon);

    for (k = 0; k < 5; k++) {
        if (f->has & (1u << k)) {
            f_assert(isfinite(v[k]));
            check_number(v[k]);

        } else {
            f_assert(v[k] == 0);
        }
    }
}


static void
check_doc_id(const race_fix_t *f)
{
    char  *id, want[512];

    id = malloc(RACE_FIX_DOC_ID_SIZE);
    f_assert(id != NULL);

    race_fix_doc_id(f, id, RACE_FIX_DOC_ID_SIZE);
    snprintf(want, sizeof(want), "%s:%s:%lld", f->msg->race, f->msg->rider,
             (long long) f->seq);

    f_assert(strcmp(id, want) == 0);

    free(id);
}


static void
check_number(double v)
{
    char    *b;
    size_t   n;

    b = malloc(RACE_JSON_NUMBER_SIZE);
    f_assert(b != NULL);

    n = race_json_number(v, b, RACE_JSON_NUMBER_SIZE);
    f_assert(n > 0 && n == strlen(b) && strtod(b, NULL) == v);

    free(b);
}


static void
check_writer(const race_fix_msg_t *msg, const race_fix_t *fixes, size_t n)
{
    char            *out, err[F_ERR];
    size_t           i, size, len, m;
    race_fix_t      *back;
    race_fix_t   *f;
    race_fix_msg_t   again;

    f = malloc(n * sizeof(race_fix_t));
    back = malloc(RACE_FIX_BATCH_MAX * sizeof(race_fix_t));
    size = race_fix_kafka_size(n);
    out = malloc(size);
    f_assert(f != NULL && back != NULL && out != NULL);

    for (i = 0; i < n; i++) {
        f[i].seq = fixes[i].seq;
        f[i].t = fixes[i].t;
        f[i].lat = fixes[i].lat;
        f[i].lon = fixes[i].lon;
        f[i].ele = fixes[i].ele;
        f[i].acc = fixes[i].acc;
        f[i].spd = fixes[i].spd;
        f[i].brg = fixes[i].brg;
        f[i].bat = fixes[i].bat;
        f[i].has = fixes[i].has;
    }

    len = race_fix_kafka_message(out, size, msg->race, msg->rider,
                                 msg->recv, f, n);
    f_assert(len > 0 && len < size);

    f_assert(race_fix_parse_kafka(out, len, &again, back,
                                  RACE_FIX_BATCH_MAX, &m, err, sizeof(err))
             == 0);

    f_assert(m == n);
    f_assert(strcmp(again.race, msg->race) == 0);
    f_assert(strcmp(again.rider, msg->rider) == 0);
    f_assert(again.recv == msg->recv);

    for (i = 0; i < n; i++) {
        f_assert(back[i].seq == fixes[i].seq && back[i].t == fixes[i].t);
        f_assert(back[i].has == fixes[i].has);
        f_assert(back[i].lat == fixes[i].lat && back[i].lon == fixes[i].lon);
        f_assert(back[i].ele == fixes[i].ele && back[i].acc == fixes[i].acc);
        f_assert(back[i].spd == fixes[i].spd && back[i].brg == fixes[i].brg);
        f_assert(back[i].bat == fixes[i].bat);
    }

    free(f);
    free(back);
    free(out);
}
