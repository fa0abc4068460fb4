
/*
 * ngx_race: the module's Kafka message writer, for the workers' tests.
 *
 * The module (ngx_http_race_fix.h) and the workers (race_fix.h) each
 * have a race_fix_t and a race_fix_parse() of their own, so one file
 * cannot include both headers, and the module's parser is renamed when
 * it is built into a worker's test (t/Makefile).  A test hands its fixes
 * over in t_kafka_fix_t, which belongs to neither side.
 */


#ifndef _RACE_T_KAFKA_WRITER_H_INCLUDED_
#define _RACE_T_KAFKA_WRITER_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


typedef struct {
    int64_t         seq;
    int64_t         t;
    double          lat;
    double          lon;
    double          ele;
    double          acc;
    double          spd;
    double          brg;
    double          bat;
    unsigned        has;        /* RACE_FIX_* of either side */
} t_kafka_fix_t;


/* race_fix_kafka_size() and race_fix_kafka_message() of the module */
size_t t_kafka_size(size_t n);
size_t t_kafka_message(char *dst, size_t size, const char *race,
    const char *rider, int64_t recv, const t_kafka_fix_t *fixes, size_t n);


#endif /* _RACE_T_KAFKA_WRITER_H_INCLUDED_ */
