
/*
 * ngx_race workers: the queue the fixes come from.
 */


#include <stdlib.h>

#include "race_queue.h"


int
race_queue_batch_init(race_queue_batch_t *b, size_t size)
{
    b->msgs = calloc(size, sizeof(race_queue_msg_t));
    if (b->msgs == NULL) {
        return -1;
    }

    b->n = 0;
    b->size = size;

    return 0;
}


/* the batch must have been committed or released */

void
race_queue_batch_free(race_queue_batch_t *b)
{
    free(b->msgs);
    b->msgs = NULL;
    b->n = 0;
    b->size = 0;
}
