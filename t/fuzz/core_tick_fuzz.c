
/*
 * ngx_race: libFuzzer target for the live ticks' scanner and store.
 *
 * Input: the text of a tick (or of anything).  It is copied into an
 * allocation of its exact size, so ASan sees any read past it.
 *
 * jansson is the oracle: the scanner takes the text as a tick, and as a
 * state alone, exactly when json_loadb() reads it as an object (but for
 * a NUL byte jansson skips, see below); then
 * the states it gives (ids, t, order, skipped), the lag_ms and the
 * other members must be what jansson reads.  The tick then goes into a
 * store holding a few riders; the merged frame and the snapshot must be
 * JSON that jansson reads, with the riders that changed.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_id.h"
#include "race_tick.h"


#define F_INPUT_MAX    (1 << 16)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tick(json_t *j, race_tick_t *tk);
static void check_store(race_tick_t *tk);
static json_t *frame_riders(race_buf_t *out);


static race_tick_t  tk;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char            *text;
    json_t          *j;
    int64_t          t;
    json_error_t     err;
    race_tick_rc_e   rc, src;

    if (size > F_INPUT_MAX) {
        return 0;
    }

    text = malloc(size ? size : 1);
    if (text == NULL) {
        return 0;
    }

    memcpy(text, data, size);

    j = json_loadb(text, size, 0, &err);

    rc = race_tick_scan(&tk, text, size);
    src = race_tick_state(text, size, &t, NULL);

    if (rc == RACE_TICK_NOMEM || src == RACE_TICK_NOMEM) {
        abort();
    }

    /*
     * The same texts as jansson, and the same for both readers.  But for
     * a NUL byte: jansson skips one that follows a number or a literal
     * (its stream reads a NUL in its buffer as "read the next byte"),
     * the scanner refuses it, as no JSON has one there.
     */

    if ((rc == RACE_TICK_OK) != (j != NULL && json_is_object(j))
        && (rc == RACE_TICK_OK || memchr(text, '\0', size) == NULL))
    {
        abort();
    }

    if ((src == RACE_TICK_OK) != (rc == RACE_TICK_OK)) {
        abort();
    }

    if (rc != RACE_TICK_OK) {
        json_decref(j);
        j = NULL;
    }

    if (rc == RACE_TICK_OK) {
        json_t  *jt = json_object_get(j, "t");

        if (t != (json_is_integer(jt) ? json_integer_value(jt) : -1)) {
            abort();
        }

        check_tick(j, &tk);
        check_store(&tk);

    } else if (tk.error == NULL || tk.offset > size) {
        abort();
    }

    json_decref(j);
    free(text);

    return 0;
}


static void
check_tick(json_t *j, race_tick_t *tk)
{
    char         *text;
    size_t        i, k, skipped, len;
    json_t       *riders, *state, *id, *t, *lag, *rest, *other;
    json_error_t  err;

    riders = json_object_get(j, "riders");

    if (tk->riders != (json_is_array(riders) ? 1 : 0)) {
        abort();
    }

    k = 0;
    skipped = 0;

    json_array_foreach(riders, i, state) {
        id = json_object_get(state, "rider");

        if (!json_is_string(id)
            || !race_id_valid(json_string_value(id), json_string_length(id)))
        {
            skipped++;
            continue;
        }

        if (k == tk->nstates
            || tk->states[k].id_len != json_string_length(id)
            || strcmp(tk->states[k].id, json_string_value(id)) != 0)
        {
            abort();
        }

        t = json_object_get(state, "t");

        if (tk->states[k].t
            != (json_is_integer(t) ? json_integer_value(t) : -1))
        {
            abort();
        }

        /* its bytes are that state */

        other = json_loadb(tk->states[k].data, tk->states[k].len, 0, &err);

        if (other == NULL || !json_equal(other, state)) {
            abort();
        }

        json_decref(other);
        k++;
    }

    if (json_is_array(riders) && (k != tk->nstates || skipped != tk->skipped))
    {
        abort();
    }

    lag = json_object_get(j, "lag_ms");

    if (tk->lag != (lag == NULL ? RACE_TICK_LAG_NONE
                    : json_is_integer(lag) ? RACE_TICK_LAG_INT
                    : RACE_TICK_LAG_OTHER)
        || (json_is_integer(lag) && tk->lag_ms != json_integer_value(lag)))
    {
        abort();
    }

    /* the members: the tick without "riders" */

    len = 2;

    for (i = 0; i < tk->nmembers; i++) {
        len += tk->members[i].len + 1;
    }

    text = malloc(len);
    if (text == NULL) {
        return;
    }

    len = 0;
    text[len++] = '{';

    for (i = 0; i < tk->nmembers; i++) {
        if (i) {
            text[len++] = ',';
        }

        memcpy(text + len, tk->members[i].data, tk->members[i].len);
        len += tk->members[i].len;
    }

    text[len++] = '}';

    rest = json_loadb(text, len, 0, &err);
    other = json_deep_copy(j);

    if (rest == NULL || other == NULL) {
        abort();
    }

    (void) json_object_del(other, "riders");

    if (!json_equal(rest, other)) {
        abort();
    }

    json_decref(rest);
    json_decref(other);
    free(text);
}


static void
check_store(race_tick_t *tk)
{
    int                all, twice;
    size_t             n, i, k, changed;
    json_t            *frame, *riders, *state;
    race_buf_t         out;
    race_tick_store_t  s;

    memset(&s, 0, sizeof(race_tick_store_t));
    memset(&out, 0, sizeof(race_buf_t));

    /* riders that some ticks have, with old and new states */

    if (race_tick_store_put(&s, "p1", 2, "{\"rider\":\"p1\",\"t\":5}", 20)
        != RACE_TICK_OK
        || race_tick_store_put(&s, "p2", 2, "{\"t\":1e3,\"x\":[]}", 16)
           != RACE_TICK_OK
        || race_tick_store_put(&s, "p 3", 3, "{}", 2) != RACE_TICK_BAD
        || race_tick_store_put(&s, "p3", 2, "[]", 2) != RACE_TICK_BAD)
    {
        abort();
    }

    if (race_tick_store_batch(&s, tk, &n, &all) != RACE_TICK_OK) {
        abort();
    }

    /* a rider twice in the tick changes twice, is once in the batch */

    changed = race_tick_store_changed(&s);

    if (changed > n || (n && !changed) || (all && tk->skipped)) {
        abort();
    }

    if (n) {
        if (race_tick_store_frame(&s, &out) != RACE_TICK_OK) {
            abort();
        }

        frame = frame_riders(&out);

        if (json_array_size(json_object_get(frame, "riders")) != changed) {
            abort();
        }

        json_decref(frame);
    }

    /* the same tick again changes nothing, its riders once each */

    race_tick_store_forget(&s);

    twice = 0;

    for (i = 0; i < tk->nstates && i < 64; i++) {
        for (k = i + 1; k < tk->nstates && k < 64; k++) {
            twice |= (strcmp(tk->states[i].id, tk->states[k].id) == 0);
        }
    }

    if (race_tick_store_batch(&s, tk, &n, &all) != RACE_TICK_OK
        || (tk->nstates <= 64 && !twice
            && (n != 0 || (tk->nstates + tk->skipped && all))))
    {
        abort();
    }

    if (race_tick_store_snapshot(&s, "r1", 2, 12345, &out) != RACE_TICK_OK)
    {
        abort();
    }

    frame = frame_riders(&out);
    riders = json_object_get(frame, "riders");

    if (json_array_size(riders) != s.nriders) {
        abort();
    }

    json_array_foreach(riders, i, state) {
        if (!json_is_object(state)) {
            abort();
        }
    }

    json_decref(frame);

    race_tick_store_free(&s);
    race_buf_free(&out);
}


static json_t *
frame_riders(race_buf_t *out)
{
    json_t        *frame;
    json_error_t   err;

    frame = json_loadb(out->data, out->len, 0, &err);

    if (frame == NULL || !json_is_array(json_object_get(frame, "riders"))) {
        abort();
    }

    return frame;
}
