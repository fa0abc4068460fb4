
/*
 * ngx_race: the module's Kafka message writer, for the workers' tests.
 */


#include <stdlib.h>

#include "ngx_http_race_fix.h"
#include "kafka_writer.h"


size_t
t_kafka_size(size_t n)
{
    return race_fix_kafka_size(n);
}


size_t
t_kafka_message(char *dst, size_t size, const char *race, const char *rider,
    int64_t recv, const t_kafka_fix_t *fixes, size_t n)
{
    size_t       i, len;
    race_fix_t  *f;

    /* one more than needed: malloc(0) may give NULL */

    f = malloc((n + 1) * sizeof(race_fix_t));
    if (f == NULL) {
        return 0;
    }

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

    len = race_fix_kafka_message(dst, size, race, rider, recv, f, n);

    free(f);

    return len;
}
