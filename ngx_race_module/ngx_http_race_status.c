
/*
 * ngx_race: ngx_http_race_status_module, race_status and race_ready:
 * the instance's counters, summed over its worker processes, and the
 * readiness answer for load balancers.
 *
 * nginx's stub_status keeps its ngx_stat_* in shared memory that every
 * worker adds to atomically.  Ours are kept per worker instead: a zone
 * ("race_status", kept across reloads like any zone of the same name,
 * size and module) holds a slot for each worker process, claimed by its
 * pid.  A worker counts in its own slot without atomic operations (it
 * is the only writer), and the handlers add the slots up.  Per-worker
 * slots are what lets gauges stay right when a worker goes: a gauge
 * (connections open, subscribers, a connection's state) means something
 * only while its worker lives, so the sum leaves out the slots of
 * workers that are gone, whatever they last wrote.  A worker that exits
 * cleanly adds its counters to the zone's totals of workers gone and
 * frees its slot; the slot of one that crashed is folded the same way
 * by the next worker that claims a slot.  Until then its counters are
 * still summed from the slot: counters never go down.
 *
 * The fold is the zone's one writer that is not a slot's owner; it runs
 * under the slab pool's mutex (claims and folds only, at a worker's
 * start and exit) and inside a sequence count that the handlers read
 * around their sums: a sum that saw a fold is taken again.  The
 * handlers take no lock, unless folds keep running through all their
 * tries, or one never ends: a worker killed inside a fold leaves the
 * count odd (the master frees the mutex it held).  Under the mutex no
 * fold runs, so a count found odd there is a dead fold's, made even.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race.h"
#include "ngx_http_race_redis.h"
#include "ngx_http_race_reply.h"
#include "ngx_http_race_status.h"


/* old workers finishing their sockets after reloads leave room enough */
#define NGX_HTTP_RACE_STATUS_SLOTS   256

/* how often a worker notes the state of its Kafka and Redis */
#define NGX_HTTP_RACE_STATUS_TICK    1000

/*
 * A new worker that has not yet been up is "starting" for this long,
 * not "down": a reload does not make the instance unready while its new
 * workers connect.  After it, one that never came up is down.
 */
#define NGX_HTTP_RACE_STATUS_GRACE   10000

/* sums retried when a fold ran meanwhile; folds are rare and short */
#define NGX_HTTP_RACE_STATUS_TRIES   64

#define NGX_HTTP_RACE_STATUS_BUF     16384


typedef struct {
    ngx_atomic_t                seq;            /* odd: a fold runs */
    ngx_atomic_t                up;             /* ngx_time(): one up */
    ngx_http_race_counters_t    gone;           /* of workers gone */
    ngx_http_race_slot_t        slots[NGX_HTTP_RACE_STATUS_SLOTS];
} ngx_http_race_status_shm_t;


typedef struct {
    ngx_shm_zone_t             *zone;           /* NULL: nobody reads */
    ngx_uint_t                  ready;          /* race_ready is used */
} ngx_http_race_status_main_conf_t;


/* the sum of the slots */
typedef struct {
    ngx_http_race_counters_t    counters;
    ngx_http_race_gauges_t      gauges;         /* of the live workers */
    ngx_uint_t                  workers;
    ngx_uint_t                  kafka_workers;
    ngx_uint_t                  kafka_up;
    ngx_uint_t                  kafka_down;
    ngx_uint_t                  redis_workers;
    ngx_uint_t                  redis_up;
    ngx_uint_t                  redis_down;
} ngx_http_race_status_sum_t;


typedef struct {
    const char                 *check;
    const char                 *outcome;
} ngx_http_race_status_auth_t;


static void *ngx_http_race_status_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_race_status_init_main_conf(ngx_conf_t *cf, void *conf);
static char *ngx_http_race_status_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_race_ready_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_race_status_add_zone(ngx_conf_t *cf);
static ngx_int_t ngx_http_race_status_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_int_t ngx_http_race_status_init_process(ngx_cycle_t *cycle);
static void ngx_http_race_status_exit_process(ngx_cycle_t *cycle);
static ngx_uint_t ngx_http_race_status_alive(ngx_pid_t pid);
static void ngx_http_race_status_fold(ngx_http_race_status_shm_t *sh,
    ngx_http_race_slot_t *slot);
static void ngx_http_race_status_tick(ngx_event_t *ev);
static void ngx_http_race_status_sample(void);
static void ngx_http_race_status_sum(ngx_shm_zone_t *zone,
    ngx_http_race_status_sum_t *sum);
static void ngx_http_race_status_add(ngx_http_race_status_shm_t *sh,
    ngx_http_race_status_sum_t *sum);
static ngx_int_t ngx_http_race_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_race_status_prometheus(ngx_http_request_t *r);
static u_char *ngx_http_race_status_json(u_char *p, u_char *last,
    ngx_http_race_status_sum_t *s);
static u_char *ngx_http_race_status_text(u_char *p, u_char *last,
    ngx_http_race_status_sum_t *s);
static ngx_int_t ngx_http_race_ready_handler(ngx_http_request_t *r);


static ngx_command_t  ngx_http_race_status_commands[] = {

    { ngx_string("race_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_race_status_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("race_ready"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_race_ready_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_race_status_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_race_status_create_main_conf, /* create main configuration */
    ngx_http_race_status_init_main_conf,   /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_race_status_module = {
    NGX_MODULE_V1,
    &ngx_http_race_status_module_ctx,      /* module context */
    ngx_http_race_status_commands,         /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_race_status_init_process,     /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_race_status_exit_process,     /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* before a slot is claimed, and when there is none: counted, unseen */
static ngx_http_race_slot_t   ngx_http_race_stat_none;

ngx_http_race_slot_t         *ngx_http_race_stat = &ngx_http_race_stat_none;


/* this worker's */
static ngx_http_race_status_shm_t  *ngx_http_race_status_sh;
static ngx_slab_pool_t             *ngx_http_race_status_pool;
static ngx_event_t                  ngx_http_race_status_timer;
static ngx_connection_t             ngx_http_race_status_dummy;  /* its data */
static ngx_msec_t                   ngx_http_race_status_start;
static ngx_uint_t                   ngx_http_race_status_hold;
static ngx_uint_t                   ngx_http_race_status_kafka_seen;
static ngx_uint_t                   ngx_http_race_status_redis_seen;


static const char  *ngx_http_race_status_endpoints[] = {
    "ride", "live", "api", "ws_echo"
};

static const char  *ngx_http_race_status_rejects[] = {
    "bad_fix", "bad_message"
};

/* in the order of NGX_HTTP_RACE_AUTH_*, grouped by check */
static ngx_http_race_status_auth_t  ngx_http_race_status_auths[] = {
    { "login", "ok" },
    { "login", "invalid_credentials" },
    { "api", "ok" },
    { "api", "missing_token" },
    { "api", "invalid_token" },
    { "api", "token_revoked" },
    { "ride", "ok" },
    { "ride", "missing_token" },
    { "ride", "invalid_token" },
    { "ride", "token_revoked" }
};

/* upper bounds in microseconds, and as Prometheus writes them */
static const uint64_t  ngx_http_race_status_bounds[] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
    5000000, 10000000, 30000000, 60000000, 300000000
};

static const char  *ngx_http_race_status_le[] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5",
    "5", "10", "30", "60", "300", "+Inf"
};


static void *
ngx_http_race_status_create_main_conf(ngx_conf_t *cf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     smcf->zone = NULL;
     *     smcf->ready = 0;
     */

    return ngx_pcalloc(cf->pool, sizeof(ngx_http_race_status_main_conf_t));
}


/*
 * librdkafka's statistics are where a worker learns that a broker is
 * up: without them race_ready would answer 503 for good.  Checked once
 * the whole http block is read, wherever race_kafka_option stands.
 */

static char *
ngx_http_race_status_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_race_status_main_conf_t *smcf = conf;

    ngx_uint_t                  i;
    ngx_keyval_t               *kv;
    ngx_http_race_main_conf_t  *rmcf;

    if (!smcf->ready) {
        return NGX_CONF_OK;
    }

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_race_module);

    if (rmcf->kafka_options == NULL) {
        return NGX_CONF_OK;
    }

    kv = rmcf->kafka_options->elts;

    for (i = 0; i < rmcf->kafka_options->nelts; i++) {
        if (ngx_strcmp(kv[i].key.data, "statistics.interval.ms") == 0
            && ngx_atoi(kv[i].value.data, kv[i].value.len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"race_kafka_option\" \"%V\" \"%V\" turns "
                               "off the statistics that \"race_ready\" "
                               "needs", &kv[i].key, &kv[i].value);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* race_status: reads the zone only; it needs no connection of its own */

static char *
ngx_http_race_status_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *rv;

    rv = ngx_http_race_endpoint(cf, cmd, ngx_http_race_status_handler, 0);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (ngx_http_race_status_add_zone(cf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * race_ready: Kafka and Redis are what it answers for, so it needs
 * both configured, and the workers hold both for it even where no other
 * endpoint of the configuration does.
 */

static char *
ngx_http_race_ready_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                              *rv;
    ngx_http_race_status_main_conf_t  *smcf;

    rv = ngx_http_race_endpoint(cf, cmd, ngx_http_race_ready_handler,
                                NGX_HTTP_RACE_NEEDS_QUEUE
                                |NGX_HTTP_RACE_NEEDS_REDIS);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (ngx_http_race_status_add_zone(cf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_race_status_module);
    smcf->ready = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_race_status_add_zone(ngx_conf_t *cf)
{
    size_t                             size;
    ngx_str_t                          name;
    ngx_http_race_status_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_race_status_module);

    if (smcf->zone) {
        return NGX_OK;
    }

    /* the slab pool's own pages, and the slots in pages of their own */
    size = ngx_align(sizeof(ngx_http_race_status_shm_t), ngx_pagesize)
           + 8 * ngx_pagesize;

    ngx_str_set(&name, "race_status");

    smcf->zone = ngx_shared_memory_add(cf, &name, size,
                                       &ngx_http_race_status_module);
    if (smcf->zone == NULL) {
        return NGX_ERROR;
    }

    smcf->zone->init = ngx_http_race_status_init_zone;
    smcf->zone->data = NULL;

    return NGX_OK;
}


/* data: the zone of the cycle before, kept as it is with its counts */

static ngx_int_t
ngx_http_race_status_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t             *shpool;
    ngx_http_race_status_shm_t  *sh;

    if (data) {
        zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_race_status_shm_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    zone->data = sh;

    return NGX_OK;
}


static ngx_int_t
ngx_http_race_status_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                         i;
    ngx_slab_pool_t                   *shpool;
    ngx_http_race_slot_t              *slot, *free;
    ngx_http_race_status_shm_t        *sh;
    ngx_http_race_status_main_conf_t  *smcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_race_status_module);
    if (smcf == NULL || smcf->zone == NULL) {
        return NGX_OK;
    }

    if (smcf->ready) {
        /* race_ready's hold on Kafka and Redis, released at exit */
        ngx_http_race_shared_hold();
        ngx_http_race_status_hold = 1;
    }

    sh = smcf->zone->data;
    shpool = (ngx_slab_pool_t *) smcf->zone->shm.addr;

    /* the slots of workers gone are folded; the first free one is ours */

    free = NULL;

    ngx_shmtx_lock(&shpool->mutex);

    if (sh->seq & 1) {
        /* a worker was killed inside a fold: no fold runs now */
        sh->seq++;
    }

    for (i = 0; i < NGX_HTTP_RACE_STATUS_SLOTS; i++) {
        slot = &sh->slots[i];

        if (slot->pid && !ngx_http_race_status_alive(slot->pid)) {
            ngx_http_race_status_fold(sh, slot);
        }

        if (slot->pid == 0 && free == NULL) {
            free = slot;
        }
    }

    if (free) {
        free->pid = ngx_pid;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (free == NULL) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "race: no race_status slot free for this worker "
                      "among %d, it is not counted",
                      NGX_HTTP_RACE_STATUS_SLOTS);
        return NGX_OK;
    }

    ngx_http_race_stat = free;
    ngx_http_race_status_sh = sh;
    ngx_http_race_status_pool = shpool;
    ngx_http_race_status_start = ngx_current_msec;

    ngx_http_race_status_sample();

    ngx_http_race_status_timer.handler = ngx_http_race_status_tick;
    ngx_http_race_status_timer.log = cycle->log;
    /* a timer's data is read as a connection by the event debug log */
    ngx_http_race_status_dummy.fd = (ngx_socket_t) -1;
    ngx_http_race_status_timer.data = &ngx_http_race_status_dummy;
    ngx_http_race_status_timer.cancelable = 1;

    ngx_add_timer(&ngx_http_race_status_timer, NGX_HTTP_RACE_STATUS_TICK);

    return NGX_OK;
}


static void
ngx_http_race_status_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_race_slot_t  *slot;

    if (ngx_http_race_status_timer.timer_set) {
        ngx_del_timer(&ngx_http_race_status_timer);
    }

    /*
     * race_ready's hold first: when it is the last, Kafka's final
     * reports (purged messages) are counted in the slot before it goes.
     */

    if (ngx_http_race_status_hold) {
        ngx_http_race_status_hold = 0;
        ngx_http_race_shared_release(cycle);
    }

    slot = ngx_http_race_stat;

    if (ngx_http_race_status_sh) {

        /* what is still counted after this goes nowhere */
        ngx_http_race_stat = &ngx_http_race_stat_none;

        ngx_shmtx_lock(&ngx_http_race_status_pool->mutex);
        ngx_http_race_status_fold(ngx_http_race_status_sh, slot);
        ngx_shmtx_unlock(&ngx_http_race_status_pool->mutex);

        ngx_http_race_status_sh = NULL;
    }
}


/*
 * Whether the worker of a slot lives: only "no such process" says it
 * does not.  A pid taken again by another process would keep a dead
 * worker's gauges counted; with pids cycling through tens of thousands
 * before that, it is not guarded against.
 */

static ngx_uint_t
ngx_http_race_status_alive(ngx_pid_t pid)
{
    if (pid == ngx_pid || kill(pid, 0) == 0) {
        return 1;
    }

    return ngx_errno != NGX_ESRCH;
}


/* under the mutex: the slot's counters go to the totals, the slot free */

static void
ngx_http_race_status_fold(ngx_http_race_status_shm_t *sh,
    ngx_http_race_slot_t *slot)
{
    ngx_uint_t          i, n;
    ngx_atomic_uint_t  *from, *to;

    n = sizeof(ngx_http_race_counters_t) / sizeof(ngx_atomic_uint_t);
    from = (ngx_atomic_uint_t *) &slot->counters;
    to = (ngx_atomic_uint_t *) &sh->gone;

    sh->seq++;
    ngx_memory_barrier();

    for (i = 0; i < n; i++) {
        to[i] += from[i];
        from[i] = 0;
    }

    ngx_memzero((void *) &slot->gauges, sizeof(ngx_http_race_gauges_t));
    slot->pid = 0;

    ngx_memory_barrier();
    sh->seq++;
}


void
ngx_http_race_status_delivery(int64_t usec)
{
    ngx_uint_t  i;

    if (usec < 0) {
        /* librdkafka did not time it */
        return;
    }

    for (i = 0; i < NGX_HTTP_RACE_DELIVERY_BUCKETS; i++) {
        if ((uint64_t) usec <= ngx_http_race_status_bounds[i]) {
            break;
        }
    }

    ngx_http_race_count(delivery[i], 1);
    ngx_http_race_count(delivery_usec, (ngx_atomic_uint_t) usec);
}


static void
ngx_http_race_status_tick(ngx_event_t *ev)
{
    ngx_http_race_status_sample();

    ngx_add_timer(ev, NGX_HTTP_RACE_STATUS_TICK);
}


/*
 * This worker's view of its Kafka producer (a broker up, as its
 * statistics say) and its Redis pair (both connected), and the
 * producer's queue.
 */

static void
ngx_http_race_status_sample(void)
{
    ngx_uint_t                   depth, grace;
    ngx_int_t                    rc;
    ngx_http_race_gauges_t      *g;
    ngx_http_race_redis_pair_t  *pair;

    g = &ngx_http_race_stat->gauges;

    grace = (ngx_msec_t) (ngx_current_msec - ngx_http_race_status_start)
            < NGX_HTTP_RACE_STATUS_GRACE;

    /* the queue's depth is counted as messages go in and come back */

    if (ngx_http_race_queue) {
        depth = 0;
        rc = ngx_http_race_queue->state(&depth);

        if (rc == NGX_OK) {
            g->kafka = NGX_HTTP_RACE_STATE_UP;
            ngx_http_race_status_kafka_seen = 1;

        } else {
            g->kafka = (grace && !ngx_http_race_status_kafka_seen)
                       ? NGX_HTTP_RACE_STATE_STARTING
                       : NGX_HTTP_RACE_STATE_DOWN;
        }

    } else {
        g->kafka = NGX_HTTP_RACE_STATE_NONE;
    }

    pair = ngx_http_race_redis_pair;

    if (pair) {
        if (pair->sub.connected && pair->cmd.connected) {
            g->redis = NGX_HTTP_RACE_STATE_UP;
            ngx_http_race_status_redis_seen = 1;

        } else {
            g->redis = (grace && !ngx_http_race_status_redis_seen)
                       ? NGX_HTTP_RACE_STATE_STARTING
                       : NGX_HTTP_RACE_STATE_DOWN;
        }

    } else {
        g->redis = NGX_HTTP_RACE_STATE_NONE;
    }

    if (g->kafka == NGX_HTTP_RACE_STATE_UP
        && g->redis == NGX_HTTP_RACE_STATE_UP)
    {
        /* race_ready's memory across reloads; one word, any writer */
        ngx_http_race_status_sh->up = (ngx_atomic_uint_t) ngx_time();
    }
}


/*
 * The slots added up, without a lock: again if a fold ran meanwhile;
 * under the mutex when the tries run out (see the top of this file).
 */

static void
ngx_http_race_status_sum(ngx_shm_zone_t *zone,
    ngx_http_race_status_sum_t *sum)
{
    ngx_uint_t                   try;
    ngx_atomic_uint_t            seq;
    ngx_slab_pool_t             *shpool;
    ngx_http_race_status_shm_t  *sh;

    sh = zone->data;

    for (try = 0; try < NGX_HTTP_RACE_STATUS_TRIES; try++) {

        seq = sh->seq;
        ngx_memory_barrier();

        if (seq & 1) {
            ngx_cpu_pause();
            continue;
        }

        ngx_http_race_status_add(sh, sum);

        ngx_memory_barrier();

        if (sh->seq == seq) {
            return;
        }
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    if (sh->seq & 1) {
        /* a worker was killed inside a fold */
        sh->seq++;
    }

    ngx_http_race_status_add(sh, sum);

    ngx_shmtx_unlock(&shpool->mutex);
}


/* one pass over the slots, into a sum zeroed first */

static void
ngx_http_race_status_add(ngx_http_race_status_shm_t *sh,
    ngx_http_race_status_sum_t *sum)
{
    ngx_uint_t               i, j, n, g;
    ngx_pid_t                pid;
    ngx_atomic_uint_t       *to, *from;
    ngx_http_race_slot_t    *slot;

    n = sizeof(ngx_http_race_counters_t) / sizeof(ngx_atomic_uint_t);
    g = sizeof(ngx_http_race_gauges_t) / sizeof(ngx_atomic_uint_t);

    ngx_memzero(sum, sizeof(ngx_http_race_status_sum_t));

    sum->counters = sh->gone;

    to = (ngx_atomic_uint_t *) &sum->counters;

    for (i = 0; i < NGX_HTTP_RACE_STATUS_SLOTS; i++) {
        slot = &sh->slots[i];
        pid = slot->pid;

        if (pid == 0) {
            continue;
        }

        /* a dead worker's counters count until folded; not its gauges */

        from = (ngx_atomic_uint_t *) &slot->counters;

        for (j = 0; j < n; j++) {
            to[j] += from[j];
        }

        if (!ngx_http_race_status_alive(pid)) {
            continue;
        }

        sum->workers++;

        from = (ngx_atomic_uint_t *) &slot->gauges;

        for (j = 0; j < g; j++) {
            ((ngx_atomic_uint_t *) &sum->gauges)[j] += from[j];
        }

        switch (slot->gauges.kafka) {
        case NGX_HTTP_RACE_STATE_UP:
            sum->kafka_up++;
            sum->kafka_workers++;
            break;
        case NGX_HTTP_RACE_STATE_DOWN:
            sum->kafka_down++;
            sum->kafka_workers++;
            break;
        case NGX_HTTP_RACE_STATE_STARTING:
            sum->kafka_workers++;
            break;
        }

        switch (slot->gauges.redis) {
        case NGX_HTTP_RACE_STATE_UP:
            sum->redis_up++;
            sum->redis_workers++;
            break;
        case NGX_HTTP_RACE_STATE_DOWN:
            sum->redis_down++;
            sum->redis_workers++;
            break;
        case NGX_HTTP_RACE_STATE_STARTING:
            sum->redis_workers++;
            break;
        }
    }

    /* the states were added as numbers: they mean nothing summed */
    sum->gauges.kafka = 0;
    sum->gauges.redis = 0;
}


static ngx_int_t
ngx_http_race_status_handler(ngx_http_request_t *r)
{
    u_char                            *buf, *p, *last;
    ngx_int_t                          rc, prometheus;
    ngx_http_race_status_sum_t         sum;
    ngx_http_race_status_main_conf_t  *smcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_race_status_module);

    prometheus = ngx_http_race_status_prometheus(r);

    if (prometheus == NGX_ERROR) {
        return ngx_http_race_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "bad_format",
                                        "format is json or prometheus");
    }

    ngx_http_race_status_sum(smcf->zone, &sum);

    buf = ngx_pnalloc(r->pool, NGX_HTTP_RACE_STATUS_BUF);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = buf + NGX_HTTP_RACE_STATUS_BUF;

    if (prometheus) {
        p = ngx_http_race_status_text(buf, last, &sum);

    } else {
        p = ngx_http_race_status_json(buf, last, &sum);
    }

    if (p == last) {
        /* cannot be with the fixed set of lines: the buffer is too small */
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "race: race_status output does not fit");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_race_send_text(r, NGX_HTTP_OK,
                                   prometheus
                                   ? "text/plain; version=0.0.4; "
                                     "charset=utf-8"
                                   : "application/json",
                                   (char *) buf, p - buf);
}


/*
 * ?format=prometheus or ?format=json; without it, Prometheus text when
 * the Accept header asks for text/plain or OpenMetrics and not for
 * JSON (what Prometheus itself sends), JSON otherwise.
 */

static ngx_int_t
ngx_http_race_status_prometheus(ngx_http_request_t *r)
{
    ngx_str_t         arg, *v;
    ngx_int_t         text;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (ngx_http_arg(r, (u_char *) "format", sizeof("format") - 1, &arg)
        == NGX_OK)
    {
        if (arg.len == sizeof("prometheus") - 1
            && ngx_strncmp(arg.data, "prometheus", arg.len) == 0)
        {
            return 1;
        }

        if (arg.len == sizeof("json") - 1
            && ngx_strncmp(arg.data, "json", arg.len) == 0)
        {
            return 0;
        }

        return NGX_ERROR;
    }

    text = 0;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != sizeof("Accept") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Accept",
                               sizeof("Accept") - 1)
               != 0)
        {
            continue;
        }

        v = &h[i].value;

        if (ngx_strlcasestrn(v->data, v->data + v->len,
                             (u_char *) "application/json",
                             sizeof("application/json") - 2)
            != NULL)
        {
            return 0;
        }

        if (ngx_strlcasestrn(v->data, v->data + v->len,
                             (u_char *) "text/plain",
                             sizeof("text/plain") - 2)
            != NULL
            || ngx_strlcasestrn(v->data, v->data + v->len,
                                (u_char *) "application/openmetrics-text",
                                sizeof("application/openmetrics-text") - 2)
               != NULL)
        {
            text = 1;
        }
    }

    return text;
}


static u_char *
ngx_http_race_status_json(u_char *p, u_char *last,
    ngx_http_race_status_sum_t *s)
{
    ngx_uint_t                 i;
    ngx_atomic_uint_t          cumulative;
    ngx_http_race_counters_t  *c;

    c = &s->counters;

    p = ngx_slprintf(p, last, "{\"workers\":%ui,\"connections\":{",
                     s->workers);

    for (i = 0; i < NGX_HTTP_RACE_EPS; i++) {
        p = ngx_slprintf(p, last, "%s\"%s\":{\"current\":%uA,"
                         "\"accepted\":%uA}", i ? "," : "",
                         ngx_http_race_status_endpoints[i],
                         s->gauges.connections[i], c->accepted[i]);
    }

    p = ngx_slprintf(p, last, "},\"fixes\":{\"received\":%uA,"
                     "\"acked\":%uA,\"rejected\":{",
                     c->fixes_received, c->fixes_acked);

    for (i = 0; i < NGX_HTTP_RACE_REJECTS; i++) {
        p = ngx_slprintf(p, last, "%s\"%s\":%uA", i ? "," : "",
                         ngx_http_race_status_rejects[i], c->rejected[i]);
    }

    p = ngx_slprintf(p, last, "}},\"kafka\":{\"up\":%ui,\"workers\":%ui,"
                     "\"queue_depth\":%uA,\"delivery\":{\"count\":",
                     s->kafka_up, s->kafka_workers, s->gauges.queue_depth);

    cumulative = 0;

    for (i = 0; i <= NGX_HTTP_RACE_DELIVERY_BUCKETS; i++) {
        cumulative += c->delivery[i];
    }

    p = ngx_slprintf(p, last, "%uA,\"sum_seconds\":%uA.%06uA,\"buckets\":{",
                     cumulative, c->delivery_usec / 1000000,
                     c->delivery_usec % 1000000);

    cumulative = 0;

    for (i = 0; i <= NGX_HTTP_RACE_DELIVERY_BUCKETS; i++) {
        cumulative += c->delivery[i];
        p = ngx_slprintf(p, last, "%s\"%s\":%uA", i ? "," : "",
                         ngx_http_race_status_le[i], cumulative);
    }

    p = ngx_slprintf(p, last, "}}},\"redis\":{\"up\":%ui,\"workers\":%ui},"
                     "\"live\":{\"subscribers\":%uA,\"races\":%uA,"
                     "\"slow_snapshots\":%uA},\"auth\":{",
                     s->redis_up, s->redis_workers, s->gauges.subscribers,
                     s->gauges.races, c->snapshots);

    for (i = 0; i < NGX_HTTP_RACE_AUTHS; i++) {
        if (i == 0
            || ngx_strcmp(ngx_http_race_status_auths[i].check,
                          ngx_http_race_status_auths[i - 1].check)
               != 0)
        {
            p = ngx_slprintf(p, last, "%s\"%s\":{", i ? "}," : "",
                             ngx_http_race_status_auths[i].check);

        } else {
            p = ngx_slprintf(p, last, ",");
        }

        p = ngx_slprintf(p, last, "\"%s\":%uA",
                         ngx_http_race_status_auths[i].outcome, c->auth[i]);
    }

    return ngx_slprintf(p, last, "}}}\n");
}


#define ngx_http_race_status_family(p, last, name, type, help)               \
    ngx_slprintf(p, last, "# HELP " name " " help "\n"                       \
                          "# TYPE " name " " type "\n")


static u_char *
ngx_http_race_status_text(u_char *p, u_char *last,
    ngx_http_race_status_sum_t *s)
{
    ngx_uint_t                 i;
    ngx_atomic_uint_t          cumulative;
    ngx_http_race_counters_t  *c;

    c = &s->counters;

    p = ngx_http_race_status_family(p, last, "race_workers", "gauge",
                                    "Worker processes of this instance.");
    p = ngx_slprintf(p, last, "race_workers %ui\n", s->workers);

    p = ngx_http_race_status_family(p, last, "race_connections", "gauge",
                                    "Connections open, by endpoint.");

    for (i = 0; i < NGX_HTTP_RACE_EPS; i++) {
        p = ngx_slprintf(p, last, "race_connections{endpoint=\"%s\"} %uA\n",
                         ngx_http_race_status_endpoints[i],
                         s->gauges.connections[i]);
    }

    p = ngx_http_race_status_family(p, last,
                                    "race_connections_accepted_total",
                                    "counter",
                                    "Connections accepted, by endpoint "
                                    "(requests, for api).");

    for (i = 0; i < NGX_HTTP_RACE_EPS; i++) {
        p = ngx_slprintf(p, last, "race_connections_accepted_total"
                         "{endpoint=\"%s\"} %uA\n",
                         ngx_http_race_status_endpoints[i],
                         c->accepted[i]);
    }

    p = ngx_http_race_status_family(p, last, "race_fixes_received_total",
                                    "counter",
                                    "Fixes received from phones.");
    p = ngx_slprintf(p, last, "race_fixes_received_total %uA\n",
                     c->fixes_received);

    p = ngx_http_race_status_family(p, last, "race_fixes_acked_total",
                                    "counter",
                                    "Fixes acked to phones once stored.");
    p = ngx_slprintf(p, last, "race_fixes_acked_total %uA\n",
                     c->fixes_acked);

    p = ngx_http_race_status_family(p, last, "race_fixes_rejected_total",
                                    "counter",
                                    "Fixes (bad_fix) and messages "
                                    "(bad_message) refused, by code.");

    for (i = 0; i < NGX_HTTP_RACE_REJECTS; i++) {
        p = ngx_slprintf(p, last, "race_fixes_rejected_total{code=\"%s\"} "
                         "%uA\n", ngx_http_race_status_rejects[i],
                         c->rejected[i]);
    }

    p = ngx_http_race_status_family(p, last, "race_kafka_queue_depth",
                                    "gauge",
                                    "Messages waiting in the producers.");
    p = ngx_slprintf(p, last, "race_kafka_queue_depth %uA\n",
                     s->gauges.queue_depth);

    p = ngx_http_race_status_family(p, last, "race_kafka_delivery_seconds",
                                    "histogram",
                                    "From produce to delivery report.");

    cumulative = 0;

    for (i = 0; i <= NGX_HTTP_RACE_DELIVERY_BUCKETS; i++) {
        cumulative += c->delivery[i];
        p = ngx_slprintf(p, last, "race_kafka_delivery_seconds_bucket"
                         "{le=\"%s\"} %uA\n", ngx_http_race_status_le[i],
                         cumulative);
    }

    p = ngx_slprintf(p, last, "race_kafka_delivery_seconds_sum %uA.%06uA\n"
                     "race_kafka_delivery_seconds_count %uA\n",
                     c->delivery_usec / 1000000, c->delivery_usec % 1000000,
                     cumulative);

    p = ngx_http_race_status_family(p, last, "race_kafka_up", "gauge",
                                    "Workers whose producer has a broker "
                                    "up.");
    p = ngx_slprintf(p, last, "race_kafka_up %ui\n", s->kafka_up);

    p = ngx_http_race_status_family(p, last, "race_kafka_workers", "gauge",
                                    "Workers with a producer.");
    p = ngx_slprintf(p, last, "race_kafka_workers %ui\n", s->kafka_workers);

    p = ngx_http_race_status_family(p, last, "race_redis_up", "gauge",
                                    "Workers whose Redis connections are "
                                    "up.");
    p = ngx_slprintf(p, last, "race_redis_up %ui\n", s->redis_up);

    p = ngx_http_race_status_family(p, last, "race_redis_workers", "gauge",
                                    "Workers with Redis connections.");
    p = ngx_slprintf(p, last, "race_redis_workers %ui\n", s->redis_workers);

    p = ngx_http_race_status_family(p, last, "race_live_subscribers",
                                    "gauge", "Spectators watching.");
    p = ngx_slprintf(p, last, "race_live_subscribers %uA\n",
                     s->gauges.subscribers);

    p = ngx_http_race_status_family(p, last, "race_live_races", "gauge",
                                    "Races watched, summed over workers.");
    p = ngx_slprintf(p, last, "race_live_races %uA\n", s->gauges.races);

    p = ngx_http_race_status_family(p, last, "race_live_snapshots_total",
                                    "counter",
                                    "Snapshots sent to slow spectators "
                                    "instead of the ticks they missed.");
    p = ngx_slprintf(p, last, "race_live_snapshots_total %uA\n",
                     c->snapshots);

    p = ngx_http_race_status_family(p, last, "race_auth_total", "counter",
                                    "Logins and token checks, by outcome.");

    for (i = 0; i < NGX_HTTP_RACE_AUTHS; i++) {
        p = ngx_slprintf(p, last, "race_auth_total{check=\"%s\","
                         "outcome=\"%s\"} %uA\n",
                         ngx_http_race_status_auths[i].check,
                         ngx_http_race_status_auths[i].outcome, c->auth[i]);
    }

    return p;
}


/*
 * Ready when every live worker of the instance reaches Kafka and Redis,
 * as each last saw them.  Per instance, not per worker: a balancer's
 * probe lands on any worker, and an answer that depended on which one
 * would flap while a single worker is cut off, yet that worker's
 * clients are failed all the same.  A worker still starting after a
 * reload is not counted as down (NGX_HTTP_RACE_STATUS_GRACE), and one
 * up worker at least is needed, or one that was up in the last grace
 * time: the old workers of a reload exit within milliseconds, before
 * the new ones have their first Kafka statistics.
 */

static ngx_int_t
ngx_http_race_ready_handler(ngx_http_request_t *r)
{
    u_char                            *p, buf[128];
    ngx_int_t                          rc;
    ngx_uint_t                         kafka, redis, recent;
    ngx_http_race_status_sum_t         sum;
    ngx_http_race_status_shm_t        *sh;
    ngx_http_race_status_main_conf_t  *smcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_race_status_module);

    ngx_http_race_status_sum(smcf->zone, &sum);

    sh = smcf->zone->data;

    recent = sh->up
             && (ngx_msec_t) (ngx_time() - (time_t) sh->up) * 1000
                < NGX_HTTP_RACE_STATUS_GRACE;

    kafka = (sum.kafka_up || recent) && sum.kafka_down == 0;
    redis = (sum.redis_up || recent) && sum.redis_down == 0;

    if (kafka && redis) {
        p = ngx_cpymem(buf, "{\"ready\":true}\n",
                       sizeof("{\"ready\":true}\n") - 1);

        return ngx_http_race_send_text(r, NGX_HTTP_OK, "application/json",
                                       (char *) buf, p - buf);
    }

    p = ngx_slprintf(buf, buf + sizeof(buf),
                     "{\"ready\":false,\"kafka\":\"%s\",\"redis\":\"%s\"}\n",
                     kafka ? "up" : "down", redis ? "up" : "down");

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "race: not ready: kafka %ui of %ui up, redis %ui of %ui",
                   sum.kafka_up, sum.kafka_workers, sum.redis_up,
                   sum.redis_workers);

    return ngx_http_race_send_text(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   "application/json", (char *) buf,
                                   p - buf);
}

