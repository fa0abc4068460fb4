
/*
 * ngx_race: libFuzzer target for the phone message parser and the Kafka
 * message writer.
 *
 * Input: in[0] is max_batch when below 32 (so 0 and small limits are
 * tried), else max_batch is RACE_FIX_BATCH_MAX; the rest is the message.
 * fixes[] and errors[] are allocations of exactly max_batch elements,
 * so ASan sees a write past them.  Then:
 *
 *   - a refused message leaves no fix, no error and says why;
 *   - an accepted one gives 1..max_batch fixes and errors in all, every
 *     fix inside the rules, every error a "bad_fix" with a message;
 *   - the Kafka message of the fixes fits race_fix_kafka_size(), is
 *     JSON, and holds exactly the fixes' values, absent fields absent;
 *   - its "fixes" array, sent back as a phone's batch, gives the same
 *     fixes again.
 */


#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_fix.h"


#define F_NOW      1732400000000LL
#define F_FUTURE   60000LL
#define F_PAST     (7 * 86400000LL)

#define f_assert(c)  do { if (!(c)) { abort(); } } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_fix(const race_fix_t *f);
static void check_error(const race_fix_error_t *e);
static void check_kafka(const race_fix_t *fixes, size_t n,
    const race_fix_limits_t *lim);
static void same_fix(const race_fix_t *a, const race_fix_t *b);


static const char  *names[7] = {
    "lat", "lon", "ele", "acc", "spd", "brg", "bat"
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                message[64];
    size_t              i, max, nfixes, nerrors;
    race_fix_t         *fixes;
    race_fix_error_t   *errors;
    race_fix_msg_rc_e   rc;
    race_fix_limits_t   lim;

    if (size < 1) {
        return 0;
    }

    max = (data[0] < 32) ? data[0] : RACE_FIX_BATCH_MAX;

    lim.now = F_NOW;
    lim.max_future = F_FUTURE;
    lim.max_past = F_PAST;
    lim.max_batch = max;

    fixes = malloc(max * sizeof(race_fix_t) + !max);
    errors = malloc(max * sizeof(race_fix_error_t) + !max);
    f_assert(fixes != NULL && errors != NULL);

    nfixes = 7;
    nerrors = 7;
    memset(message, 'x', sizeof(message));

    rc = race_fix_parse_phone((const char *) data + 1, size - 1, &lim,
                              fixes, &nfixes, errors, &nerrors, message,
                              sizeof(message));

    f_assert(memchr(message, '\0', sizeof(message)) != NULL);

    if (rc != RACE_FIX_MSG_OK) {
        f_assert(rc == RACE_FIX_MSG_BAD_JSON || rc == RACE_FIX_MSG_BAD_TYPE
                 || rc == RACE_FIX_MSG_BAD_SHAPE
                 || rc == RACE_FIX_MSG_TOO_MANY);
        f_assert(nfixes == 0 && nerrors == 0 && message[0] != '\0');

    } else {
        f_assert(message[0] == '\0');
        f_assert(nfixes + nerrors >= 1 && nfixes + nerrors <= max);

        for (i = 0; i < nfixes; i++) {
            check_fix(&fixes[i]);
        }

        for (i = 0; i < nerrors; i++) {
            check_error(&errors[i]);
        }

        check_kafka(fixes, nfixes, &lim);
    }

    free(fixes);
    free(errors);

    return 0;
}


static void
check_fix(const race_fix_t *f)
{
    f_assert(f->seq >= 0 && f->seq <= RACE_FIX_SEQ_MAX);
    f_assert(f->t >= F_NOW - F_PAST && f->t <= F_NOW + F_FUTURE);
    f_assert(f->lat >= -90 && f->lat <= 90);
    f_assert(f->lon >= -180 && f->lon <= 180);
    f_assert((f->has & ~0x1fu) == 0);

    f_assert(!(f->has & RACE_FIX_ELE) || (f->ele >= -500 && f->ele <= 9000));
    f_assert(!(f->has & RACE_FIX_ACC) || (f->acc >= 0 && f->acc <= 10000));
    f_assert(!(f->has & RACE_FIX_SPD) || (f->spd >= 0 && f->spd <= 100));
    f_assert(!(f->has & RACE_FIX_BRG) || (f->brg >= 0 && f->brg < 360));
    f_assert(!(f->has & RACE_FIX_BAT) || (f->bat >= 0 && f->bat <= 1));
}


static void
check_error(const race_fix_error_t *e)
{
    f_assert(e->code != NULL && strcmp(e->code, "bad_fix") == 0);
    f_assert(memchr(e->message, '\0', sizeof(e->message)) != NULL);
    f_assert(e->message[0] != '\0');
    f_assert(e->seq == -1 || (e->seq >= 0 && e->seq <= RACE_FIX_SEQ_MAX));
}


static void
check_kafka(const race_fix_t *fixes, size_t n, const race_fix_limits_t *lim)
{
    char               *dst, *arr, *again, message[64];
    size_t              i, k, size, len, alen, nfixes, nerrors;
    json_t             *j, *a, *o, *x;
    double              v[7];
    race_fix_t         *back;
    json_error_t        err;
    race_fix_error_t   *errors;
    race_fix_limits_t   l;

    size = race_fix_kafka_size(n);
    dst = malloc(size);
    f_assert(dst != NULL);

    len = race_fix_kafka_message(dst, size, "r1", "p7", F_NOW, fixes, n);
    f_assert(len > 0 && len < size && dst[len] == '\0');

    j = json_loadb(dst, len, JSON_REJECT_DUPLICATES, &err);
    f_assert(j != NULL);

    a = json_object_get(j, "fixes");
    f_assert(json_array_size(a) == n);

    for (i = 0; i < n; i++) {
        o = json_array_get(a, i);

        f_assert(json_integer_value(json_object_get(o, "seq"))
                 == fixes[i].seq);
        f_assert(json_integer_value(json_object_get(o, "t")) == fixes[i].t);

        v[0] = fixes[i].lat;
        v[1] = fixes[i].lon;
        v[2] = fixes[i].ele;
        v[3] = fixes[i].acc;
        v[4] = fixes[i].spd;
        v[5] = fixes[i].brg;
        v[6] = fixes[i].bat;

        for (k = 0; k < 7; k++) {
            x = json_object_get(o, names[k]);

            if (k >= 2 && !(fixes[i].has & (1u << (k - 2)))) {
                f_assert(x == NULL);
                continue;
            }

            f_assert(json_is_number(x) && json_number_value(x) == v[k]);
        }
    }

    json_decref(j);

    /* "fixes":[...] back in as {"type":"fixes","items":[...]} */

    if (n > 0) {
        arr = strstr(dst, "\"fixes\":[") + 8;
        alen = len - 1 - (arr - dst);

        again = malloc(alen + 32);
        f_assert(again != NULL);
        memcpy(again, "{\"type\":\"fixes\",\"items\":", 24);
        memcpy(again + 24, arr, alen);
        again[24 + alen] = '}';

        l = *lim;
        l.max_batch = n;
        back = malloc(n * sizeof(race_fix_t));
        errors = malloc(n * sizeof(race_fix_error_t));
        f_assert(back != NULL && errors != NULL);

        f_assert(race_fix_parse_phone(again, 25 + alen, &l, back, &nfixes,
                                      errors, &nerrors, message,
                                      sizeof(message))
                 == RACE_FIX_MSG_OK);
        f_assert(nfixes == n && nerrors == 0);

        for (i = 0; i < n; i++) {
            same_fix(&fixes[i], &back[i]);
        }

        free(again);
        free(back);
        free(errors);
    }

    free(dst);
}


static void
same_fix(const race_fix_t *a, const race_fix_t *b)
{
    f_assert(a->seq == b->seq && a->t == b->t && a->has == b->has);
    f_assert(a->lat == b->lat && a->lon == b->lon);
    f_assert(!(a->has & RACE_FIX_ELE) || a->ele == b->ele);
    f_assert(!(a->has & RACE_FIX_ACC) || a->acc == b->acc);
    f_assert(!(a->has & RACE_FIX_SPD) || a->spd == b->spd);
    f_assert(!(a->has & RACE_FIX_BRG) || a->brg == b->brg);
    f_assert(!(a->has & RACE_FIX_BAT) || a->bat == b->bat);
}
