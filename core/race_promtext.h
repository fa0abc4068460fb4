
/*
 * ngx_race: the workers' metrics endpoint, its pure parts
 * (docs/INTERNALS.md, "Workers' metrics and liveness").
 *
 * A pure core: numbers in, Prometheus text exposition format 0.0.4
 * out; a request's bytes in, what to answer out; a listen address's
 * text in, its host and port out.  No sockets, threads or clocks, so
 * that it can be unit tested and fuzzed alone; workers/common/
 * race_metrics.c is the thread and the sockets around it.
 *
 * Values are integers: counts as they are, durations in microseconds
 * shown in seconds (a unit exponent of 6), so that the text is exact
 * and no float is formatted on the way.
 */


#ifndef _RACE_PROMTEXT_H_INCLUDED_
#define _RACE_PROMTEXT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_buf.h"


/* a request, its line and headers, is refused beyond this many bytes */
#define RACE_PROMTEXT_REQ_MAX     4096

/* buckets of one histogram, +Inf not counted */
#define RACE_PROMTEXT_BUCKETS_MAX 32

#define RACE_PROMTEXT_HOST_MAX    255

#define RACE_PROMTEXT_CONTENT_TYPE                                           \
    "text/plain; version=0.0.4; charset=utf-8"


typedef enum {
    RACE_PROMTEXT_COUNTER = 0,
    RACE_PROMTEXT_GAUGE,
    RACE_PROMTEXT_HISTOGRAM
} race_promtext_type_e;


typedef struct {
    const char             *name;
    const char             *value;      /* any bytes, escaped when shown */
} race_promtext_label_t;


typedef enum {
    RACE_PROMTEXT_PAGE_NONE = 0,
    RACE_PROMTEXT_PAGE_METRICS,         /* /metrics */
    RACE_PROMTEXT_PAGE_HEALTHZ,         /* /healthz */
    RACE_PROMTEXT_PAGE_READYZ           /* /readyz */
} race_promtext_page_e;


typedef struct {
    int                     status;     /* 200, 400, 404, 405, 414, 431... */
    race_promtext_page_e    page;       /* with 200 */
    unsigned                head:1;     /* HEAD: no body */
} race_promtext_req_t;


/* names: [a-zA-Z_:][a-zA-Z0-9_:]*, labels' without ':'; 1 if valid */
int race_promtext_name_valid(const char *name, int label);

/* "# HELP" and "# TYPE" of a family; help is escaped */
void race_promtext_family(race_buf_t *b, const char *name,
    const char *help, race_promtext_type_e type);

/* one sample: name{labels} value, value shown with exp decimals moved */
void race_promtext_sample(race_buf_t *b, const char *name,
    const race_promtext_label_t *labels, size_t nlabels, int64_t value,
    unsigned exp);

/*
 * The bucket of a value: the first i with v <= bounds[i], or n (+Inf).
 * bounds ascend.
 */
size_t race_promtext_bucket(const int64_t *bounds, size_t n, int64_t v);

/*
 * A histogram's samples: name_bucket with le, cumulative, then +Inf,
 * name_sum and name_count, which is the +Inf bucket, so they agree
 * whatever counts were read.  counts[i] is the number of values in
 * bucket i alone (n + 1 of them); bounds and sum in the values' unit,
 * shown with exp decimals moved.
 */
void race_promtext_histogram(race_buf_t *b, const char *name,
    const race_promtext_label_t *labels, size_t nlabels,
    const int64_t *bounds, size_t n, const uint64_t *counts, int64_t sum,
    unsigned exp);

/*
 * A request's bytes so far: 0 if more are needed (no end of its headers
 * within len < RACE_PROMTEXT_REQ_MAX), 1 with what to answer in req.
 * Only GET and HEAD of /metrics, /healthz and /readyz (a query
 * ignored) are answered 200.
 */
int race_promtext_request(const char *buf, size_t len,
    race_promtext_req_t *req);

/* the reason phrase of a status race_promtext_request() gives */
const char *race_promtext_reason(int status);

/*
 * "host:port" or "[v6]:port", the host not empty; port 0 to 65535.
 * 0, or -1 with why in reason.
 */
int race_promtext_listen(const char *value, char *host, size_t hsize,
    int *port, char *reason, size_t rsize);


#endif /* _RACE_PROMTEXT_H_INCLUDED_ */
