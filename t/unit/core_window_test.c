
/*
 * ngx_race: unit tests of the window core, TAP output: batches done out
 * of order are released in order, a full window refuses more, slots
 * come round again.
 */


#include <stdint.h>

#include "race_window.h"
#include "tap.h"


#define STORED  1
#define LIVE    2


static void test_order(void);
static void test_full(void);
static void test_misuse(void);


int
main(void)
{
    test_order();
    test_full();
    test_misuse();

    return tap_done();
}


static void
test_order(void)
{
    long           s0, s1, s2, slot;
    uint64_t       q0, q1, q2, seq;
    race_window_t  w;

    ok(race_window_init(&w, 4, 2) == 0, "init");

    s0 = race_window_begin(&w, &q0);
    s1 = race_window_begin(&w, &q1);
    s2 = race_window_begin(&w, &q2);

    ok(s0 == 0 && s1 == 1 && s2 == 2, "slots in order");
    ok(q0 == 0 && q1 == 1 && q2 == 2, "seqs in order");
    ok(race_window_used(&w) == 3, "three in flight");

    ok(race_window_pop(&w, &seq) == -1, "nothing done: nothing popped");

    /* the later ones finish first */
    race_window_done(&w, q2, STORED);
    race_window_done(&w, q2, LIVE);
    race_window_done(&w, q1, LIVE);
    race_window_done(&w, q1, STORED);

    ok(race_window_pop(&w, &seq) == -1,
       "later batches done: not popped before the first");

    race_window_done(&w, q0, LIVE);
    ok(race_window_pop(&w, &seq) == -1, "one step of two: not popped");

    race_window_done(&w, q0, STORED);

    slot = race_window_pop(&w, &seq);
    ok(slot == s0 && seq == q0, "the first, once done");
    slot = race_window_pop(&w, &seq);
    ok(slot == s1 && seq == q1, "then the second");
    slot = race_window_pop(&w, &seq);
    ok(slot == s2 && seq == q2, "then the third");
    ok(race_window_pop(&w, &seq) == -1, "then none");
    ok(race_window_used(&w) == 0, "empty");

    ok(race_window_done(&w, q0, STORED) == -1,
       "a released batch is not in flight");

    race_window_free(&w);
}


static void
test_full(void)
{
    int            i, wrapped;
    long           slot;
    uint64_t       seq, q;
    race_window_t  w;

    ok(race_window_init(&w, 2, 1) == 0, "init two slots");

    ok(race_window_begin(&w, &q) == 0, "first");
    ok(race_window_begin(&w, &q) == 1, "second");
    ok(race_window_begin(&w, &q) == -1, "full: a third refused");

    race_window_done(&w, 1, STORED);
    ok(race_window_begin(&w, &q) == -1, "still full: the first holds it");

    race_window_done(&w, 0, STORED);
    ok(race_window_pop(&w, &seq) == 0 && seq == 0, "first popped");

    slot = race_window_begin(&w, &q);
    ok(slot == 0 && q == 2, "its slot comes round, seq 2");
    ok(race_window_slot(&w, 2) == 0 && race_window_slot(&w, 1) == 1,
       "slots of seqs in flight");
    ok(race_window_slot(&w, 0) == -1, "not of a released one");

    /* many turns: the slots go round, order is kept */
    wrapped = 1;

    for (i = 0; i < 1000; i++) {
        race_window_done(&w, w.first, STORED);

        if (race_window_pop(&w, &seq) < 0
            || race_window_begin(&w, &q) < 0
            || q != seq + 2)
        {
            wrapped = 0;
            break;
        }
    }

    ok(wrapped, "a thousand turns in order");

    race_window_free(&w);
}


static void
test_misuse(void)
{
    uint64_t       q;
    race_window_t  w;

    ok(race_window_init(&w, 0, 1) == -1, "no slots refused");
    race_window_free(&w);

    ok(race_window_init(&w, 2, 0) == -1, "no steps refused");
    race_window_free(&w);

    ok(race_window_init(&w, 2, 2) == 0, "init");
    race_window_begin(&w, &q);
    ok(race_window_done(&w, q, 4) == -1, "a step that is not one refused");
    ok(race_window_done(&w, q + 1, 1) == -1, "a seq not begun refused");
    race_window_free(&w);
}
