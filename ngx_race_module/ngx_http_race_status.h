
/*
 * ngx_race: what a worker process counts for race_status and race_ready,
 * in its slot of the instance's shared memory zone.
 */


#ifndef _NGX_HTTP_RACE_STATUS_H_INCLUDED_
#define _NGX_HTTP_RACE_STATUS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the endpoints whose connections are counted */
#define NGX_HTTP_RACE_EP_RIDE            0
#define NGX_HTTP_RACE_EP_LIVE            1
#define NGX_HTTP_RACE_EP_API             2
#define NGX_HTTP_RACE_EP_WS_ECHO         3
#define NGX_HTTP_RACE_EPS                4

/* the codes a phone's fixes are refused with (PROTOCOL.md) */
#define NGX_HTTP_RACE_REJECT_BAD_FIX     0
#define NGX_HTTP_RACE_REJECT_BAD_MESSAGE 1
#define NGX_HTTP_RACE_REJECTS            2

/* checks of credentials, and how each ended: the codes the API answers */
#define NGX_HTTP_RACE_AUTH_LOGIN_OK          0
#define NGX_HTTP_RACE_AUTH_LOGIN_CREDENTIALS 1
#define NGX_HTTP_RACE_AUTH_API_OK            2
#define NGX_HTTP_RACE_AUTH_API_MISSING       3
#define NGX_HTTP_RACE_AUTH_API_INVALID       4
#define NGX_HTTP_RACE_AUTH_API_REVOKED       5
#define NGX_HTTP_RACE_AUTH_RIDE_OK           6
#define NGX_HTTP_RACE_AUTH_RIDE_MISSING      7
#define NGX_HTTP_RACE_AUTH_RIDE_INVALID      8
#define NGX_HTTP_RACE_AUTH_RIDE_REVOKED      9
#define NGX_HTTP_RACE_AUTHS                  10

/* Kafka delivery latency: the buckets' upper bounds, in microseconds */
#define NGX_HTTP_RACE_DELIVERY_BUCKETS   14


/*
 * Counters only grow.  A worker that exits adds its own to the zone's
 * totals of the workers gone (the fold), so that the instance's sums
 * never go down.  Only ngx_atomic_uint_t in here: the fold adds them
 * as an array.
 */

typedef struct {
    ngx_atomic_uint_t          accepted[NGX_HTTP_RACE_EPS];
    ngx_atomic_uint_t          fixes_received;
    ngx_atomic_uint_t          fixes_acked;
    ngx_atomic_uint_t          rejected[NGX_HTTP_RACE_REJECTS];

    /* per bucket, not cumulative; the last one is +Inf */
    ngx_atomic_uint_t          delivery[NGX_HTTP_RACE_DELIVERY_BUCKETS + 1];
    ngx_atomic_uint_t          delivery_usec;          /* their sum */

    ngx_atomic_uint_t          snapshots;              /* to slow ones */
    ngx_atomic_uint_t          auth[NGX_HTTP_RACE_AUTHS];
} ngx_http_race_counters_t;


/* a connection's state as a worker last saw it */
#define NGX_HTTP_RACE_STATE_NONE         0     /* not used here */
#define NGX_HTTP_RACE_STATE_STARTING     1
#define NGX_HTTP_RACE_STATE_UP           2
#define NGX_HTTP_RACE_STATE_DOWN         3


/* what is now: meaningful only while the worker lives */

typedef struct {
    ngx_atomic_uint_t          connections[NGX_HTTP_RACE_EPS];
    ngx_atomic_uint_t          queue_depth;
    ngx_atomic_uint_t          subscribers;
    ngx_atomic_uint_t          races;
    ngx_atomic_uint_t          kafka;                  /* a STATE */
    ngx_atomic_uint_t          redis;
} ngx_http_race_gauges_t;


typedef struct {
    ngx_atomic_t               pid;                    /* 0: free */
    ngx_http_race_counters_t   counters;
    ngx_http_race_gauges_t     gauges;
} ngx_http_race_slot_t;


/*
 * This worker's slot; a slot of its own in process memory when it has
 * none in the zone (no race_status or race_ready configured, or no
 * free slot), so that counting never needs a check.  One writer: the
 * worker itself, without atomic operations.
 */
extern ngx_http_race_slot_t  *ngx_http_race_stat;


#define ngx_http_race_count(field, n)                                         \
    ngx_http_race_stat->counters.field += (n)

#define ngx_http_race_gauge(field, n)                                         \
    ngx_http_race_stat->gauges.field += (n)


/* a Kafka delivery report came this long after its produce() */
void ngx_http_race_status_delivery(int64_t usec);


#endif /* _NGX_HTTP_RACE_STATUS_H_INCLUDED_ */
