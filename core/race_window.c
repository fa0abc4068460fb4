
/*
 * ngx_race: a window of batches in flight, released in order.
 */


#include <stdlib.h>

#include "race_window.h"


int
race_window_init(race_window_t *w, size_t size, unsigned steps)
{
    w->first = 0;
    w->next = 0;
    w->size = size;
    w->done = NULL;

    if (size == 0 || steps == 0 || steps > 16) {
        return -1;
    }

    w->all = (1u << steps) - 1;

    w->done = calloc(size, sizeof(unsigned));
    if (w->done == NULL) {
        return -1;
    }

    return 0;
}


void
race_window_free(race_window_t *w)
{
    free(w->done);
    w->done = NULL;
    w->size = 0;
}


long
race_window_begin(race_window_t *w, uint64_t *seq)
{
    size_t  slot;

    if (w->next - w->first >= w->size) {
        return -1;
    }

    slot = (size_t) (w->next % w->size);

    w->done[slot] = 0;
    *seq = w->next++;

    return (long) slot;
}


int
race_window_done(race_window_t *w, uint64_t seq, unsigned step)
{
    long  slot;

    slot = race_window_slot(w, seq);

    if (slot < 0 || step == 0 || (step & ~w->all) != 0) {
        return -1;
    }

    w->done[slot] |= step;

    return 0;
}


long
race_window_pop(race_window_t *w, uint64_t *seq)
{
    size_t  slot;

    if (w->first == w->next) {
        return -1;
    }

    slot = (size_t) (w->first % w->size);

    if (w->done[slot] != w->all) {
        return -1;
    }

    w->done[slot] = 0;
    *seq = w->first++;

    return (long) slot;
}


size_t
race_window_used(const race_window_t *w)
{
    return (size_t) (w->next - w->first);
}


long
race_window_slot(const race_window_t *w, uint64_t seq)
{
    if (seq < w->first || seq >= w->next) {
        return -1;
    }

    return (long) (seq % w->size);
}
