
/*
 * ngx_race: an asynchronous Redis client on nginx's event loop.
 *
 * hiredis owns the socket and its buffers; its event hooks turn into
 * nginx read and write events on a connection that wraps the socket.
 * The events are level-triggered: hiredis reads at most one buffer per
 * call, and must be called again while data is waiting.
 *
 * A lost connection is retried with a growing delay, so Redis may
 * restart under a running nginx; the owner learns of it through up()
 * and down() and subscribes again.
 *
 * A Redis that stops answering (stopped, swapping, a network that
 * drops everything) keeps its connections open: nothing fails, replies
 * just never come.  So a watchdog probes each connection every half
 * timeout, and one that read nothing since the last probe is dropped
 * as if it were lost: hiredis runs every pending callback with a NULL
 * reply, and the connection is made again with the growing delay.  No
 * late reply can then reach a callback that has already been answered.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race_redis.h"


#define NGX_HTTP_RACE_REDIS_BACKOFF_MIN   100
#define NGX_HTTP_RACE_REDIS_BACKOFF_MAX   5000

/* what hiredis reads a call (redisBufferRead()'s buffer) */
#define NGX_HTTP_RACE_REDIS_READ_SIZE     (16 * 1024)

/* a read event's safety bound, never reached at a sane publish rate */
#define NGX_HTTP_RACE_REDIS_READ_MAX      (1024 * 1024)

/* the subscriber's probe: a channel nobody publishes to */
#define NGX_HTTP_RACE_REDIS_PROBE_CHANNEL  "race:watchdog"


static void ngx_http_race_redis_connect(ngx_http_race_redis_t *rd);
static void ngx_http_race_redis_retry(ngx_event_t *ev);
static void ngx_http_race_redis_schedule(ngx_http_race_redis_t *rd);
static void ngx_http_race_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_race_redis_disconnected(const redisAsyncContext *ac,
    int status);
static void ngx_http_race_redis_watch(ngx_event_t *ev);
static void ngx_http_race_redis_probe(ngx_http_race_redis_t *rd);
static void ngx_http_race_redis_probed(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_race_redis_read_handler(ngx_event_t *ev);
static void ngx_http_race_redis_write_handler(ngx_event_t *ev);
static void ngx_http_race_redis_add_read(void *privdata);
static void ngx_http_race_redis_del_read(void *privdata);
static void ngx_http_race_redis_add_write(void *privdata);
static void ngx_http_race_redis_del_write(void *privdata);
static void ngx_http_race_redis_cleanup(void *privdata);
static void ngx_http_race_redis_pair_up(ngx_http_race_redis_t *rd);
static void ngx_http_race_redis_pair_down(ngx_http_race_redis_t *rd);


ngx_http_race_redis_pair_t  *ngx_http_race_redis_pair;


ngx_int_t
ngx_http_race_redis_pair_start(ngx_cycle_t *cycle, ngx_addr_t *addr,
    ngx_msec_t timeout)
{
    ngx_http_race_redis_pair_t  *pair;

    pair = ngx_pcalloc(cycle->pool, sizeof(ngx_http_race_redis_pair_t));
    if (pair == NULL) {
        return NGX_ERROR;
    }

    pair->sub.up = ngx_http_race_redis_pair_up;
    pair->sub.down = ngx_http_race_redis_pair_down;
    pair->cmd.up = ngx_http_race_redis_pair_up;
    pair->cmd.down = ngx_http_race_redis_pair_down;
    pair->sub.subscriber = 1;

    ngx_http_race_redis_pair = pair;

    if (ngx_http_race_redis_start(&pair->sub, addr, "subscriber", timeout,
                                  cycle->log)
        != NGX_OK
        || ngx_http_race_redis_start(&pair->cmd, addr, "commands", timeout,
                                     cycle->log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_race_redis_pair_listen(ngx_http_race_redis_event_pt up,
    ngx_http_race_redis_event_pt down, void *data)
{
    ngx_http_race_redis_pair_t  *pair;

    pair = ngx_http_race_redis_pair;

    if (pair == NULL
        || pair->nusers == sizeof(pair->users) / sizeof(pair->users[0]))
    {
        return NGX_ERROR;
    }

    pair->users[pair->nusers].up = up;
    pair->users[pair->nusers].down = down;
    pair->users[pair->nusers].data = data;
    pair->nusers++;

    return NGX_OK;
}


/* the owners hear of it first; their pending callbacks run, NULL */

void
ngx_http_race_redis_pair_stop(void)
{
    ngx_http_race_redis_pair_t  *pair;

    pair = ngx_http_race_redis_pair;
    if (pair == NULL) {
        return;
    }

    ngx_http_race_redis_stop(&pair->sub);
    ngx_http_race_redis_stop(&pair->cmd);

    ngx_http_race_redis_pair = NULL;
}


static void
ngx_http_race_redis_pair_up(ngx_http_race_redis_t *rd)
{
    ngx_uint_t                   i;
    ngx_http_race_redis_pair_t  *pair;

    pair = ngx_http_race_redis_pair;

    for (i = 0; pair && i < pair->nusers; i++) {
        if (pair->users[i].up) {
            pair->users[i].up(rd, pair->users[i].data);
        }
    }
}


static void
ngx_http_race_redis_pair_down(ngx_http_race_redis_t *rd)
{
    ngx_uint_t                   i;
    ngx_http_race_redis_pair_t  *pair;

    pair = ngx_http_race_redis_pair;

    for (i = 0; pair && i < pair->nusers; i++) {
        if (pair->users[i].down) {
            pair->users[i].down(rd, pair->users[i].data);
        }
    }
}


ngx_int_t
ngx_http_race_redis_start(ngx_http_race_redis_t *rd, ngx_addr_t *addr,
    const char *name, ngx_msec_t timeout, ngx_log_t *log)
{
    size_t  len;

    rd->log = log;
    rd->name = name;
    rd->port = ngx_inet_get_port(addr->sockaddr);

    len = ngx_sock_ntop(addr->sockaddr, addr->socklen, (u_char *) rd->host,
                        sizeof(rd->host) - 1, 0);
    rd->host[len] = '\0';

    rd->retry.handler = ngx_http_race_redis_retry;
    rd->retry.data = rd;
    rd->retry.log = log;
    rd->retry.cancelable = 1;

    rd->watchdog.handler = ngx_http_race_redis_watch;
    rd->watchdog.data = rd;
    rd->watchdog.log = log;
    rd->watchdog.cancelable = 1;

    rd->timeout = timeout;
    rd->backoff = NGX_HTTP_RACE_REDIS_BACKOFF_MIN;

    ngx_http_race_redis_connect(rd);

    return NGX_OK;
}


void
ngx_http_race_redis_stop(ngx_http_race_redis_t *rd)
{
    rd->stopping = 1;

    if (rd->retry.timer_set) {
        ngx_del_timer(&rd->retry);
    }

    if (rd->watchdog.timer_set) {
        ngx_del_timer(&rd->watchdog);
    }

    if (rd->ac) {
        /* calls every pending callback with a NULL reply */
        redisAsyncFree(rd->ac);
        rd->ac = NULL;
    }
}


static void
ngx_http_race_redis_connect(ngx_http_race_redis_t *rd)
{
    ngx_connection_t   *c;
    redisAsyncContext  *ac;

    ac = redisAsyncConnect(rd->host, rd->port);

    if (ac == NULL) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "race: redis %s: no memory", rd->name);
        ngx_http_race_redis_schedule(rd);
        return;
    }

    if (ac->err) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "race: redis %s at %s:%d: %s", rd->name, rd->host,
                      rd->port, ac->errstr);
        redisAsyncFree(ac);
        ngx_http_race_redis_schedule(rd);
        return;
    }

    c = ngx_get_connection(ac->c.fd, rd->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_race_redis_schedule(rd);
        return;
    }

    c->data = rd;
    c->read->handler = ngx_http_race_redis_read_handler;
    c->write->handler = ngx_http_race_redis_write_handler;
    c->read->log = rd->log;
    c->write->log = rd->log;

    rd->connection = c;
    rd->ac = ac;

    ac->data = rd;
    ac->ev.data = rd;
    ac->ev.addRead = ngx_http_race_redis_add_read;
    ac->ev.delRead = ngx_http_race_redis_del_read;
    ac->ev.addWrite = ngx_http_race_redis_add_write;
    ac->ev.delWrite = ngx_http_race_redis_del_write;
    ac->ev.cleanup = ngx_http_race_redis_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_http_race_redis_connected);
    redisAsyncSetDisconnectCallback(ac, ngx_http_race_redis_disconnected);

    /* the non-blocking connect completes on the first write event */
    ngx_http_race_redis_add_write(rd);

    /* a connect that hangs is given up like a silent connection */
    rd->heard = 0;
    ngx_add_timer(&rd->watchdog, rd->timeout);
}


static void
ngx_http_race_redis_schedule(ngx_http_race_redis_t *rd)
{
    if (rd->stopping || rd->retry.timer_set) {
        return;
    }

    ngx_add_timer(&rd->retry, rd->backoff);

    rd->backoff = ngx_min(rd->backoff * 2, NGX_HTTP_RACE_REDIS_BACKOFF_MAX);
}


static void
ngx_http_race_redis_retry(ngx_event_t *ev)
{
    ngx_http_race_redis_t  *rd;

    rd = ev->data;

    if (rd->ac == NULL && !rd->stopping) {
        ngx_http_race_redis_connect(rd);
    }
}


static void
ngx_http_race_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_race_redis_t  *rd;

    rd = ac->data;

    if (status != REDIS_OK) {
        /* hiredis frees the context after this call */
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "race: redis %s at %s:%d: %s", rd->name, rd->host,
                      rd->port, ac->errstr);
        rd->ac = NULL;

        if (rd->watchdog.timer_set) {
            ngx_del_timer(&rd->watchdog);
        }

        ngx_http_race_redis_schedule(rd);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                  "race: redis %s connected to %s:%d", rd->name, rd->host,
                  rd->port);

    rd->connected = 1;

    /*
     * A stopped Redis still completes connects (the kernel does): the
     * delay is reset only once Redis answers the first probe.
     */

    rd->heard = 1;
    ngx_http_race_redis_probe(rd);
    ngx_add_timer(&rd->watchdog, rd->timeout / 2);

    if (rd->up) {
        rd->up(rd);
    }
}


static void
ngx_http_race_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_race_redis_t  *rd;

    rd = ac->data;

    rd->ac = NULL;
    rd->connected = 0;

    if (rd->watchdog.timer_set) {
        ngx_del_timer(&rd->watchdog);
    }

    if (rd->stopping) {
        return;
    }

    if (rd->dropping) {
        /* the watchdog has said why */
        rd->dropping = 0;

    } else {
        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "race: redis %s connection lost: %s", rd->name,
                      status == REDIS_OK ? "closed" : ac->errstr);
    }

    if (rd->down) {
        rd->down(rd);
    }

    ngx_http_race_redis_schedule(rd);
}


/*
 * Every half timeout: a connection that has read nothing since the last
 * probe owes a reply and has not answered for that long, and is dropped.
 */

static void
ngx_http_race_redis_watch(ngx_event_t *ev)
{
    redisAsyncContext      *ac;
    ngx_http_race_redis_t  *rd;

    rd = ev->data;
    ac = rd->ac;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "race: redis %s watchdog: connected %d, heard %d",
                   rd->name, rd->connected, rd->heard);

    if (ac == NULL || rd->stopping) {
        return;
    }

    if (!rd->connected) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "race: redis %s at %s:%d: not connected in %Mms",
                      rd->name, rd->host, rd->port, rd->timeout);

        /* nothing was sent yet, and no disconnect callback will come */
        rd->ac = NULL;
        redisAsyncFree(ac);
        ngx_http_race_redis_schedule(rd);
        return;
    }

    if (!rd->heard) {
        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "race: redis %s at %s:%d did not answer in %Mms, "
                      "connecting again", rd->name, rd->host, rd->port,
                      rd->timeout);

        /*
         * Pending callbacks run now with NULL replies, then
         * ngx_http_race_redis_disconnected() tells the owners and
         * schedules the next connect.
         */

        rd->dropping = 1;
        redisAsyncFree(ac);
        return;
    }

    rd->heard = 0;
    ngx_http_race_redis_probe(rd);
    ngx_add_timer(&rd->watchdog, rd->timeout / 2);
}


/*
 * Something to answer, so that silence means a stall: PING, or on the
 * subscriber (where RESP2 allows no PING that hiredis 0.14 can match to
 * its callback) a SUBSCRIBE to a channel of its own, confirmed each time.
 */

static void
ngx_http_race_redis_probe(ngx_http_race_redis_t *rd)
{
    int  rc;

    if (rd->subscriber) {
        rc = redisAsyncCommand(rd->ac, ngx_http_race_redis_probed, rd,
                               "SUBSCRIBE "
                               NGX_HTTP_RACE_REDIS_PROBE_CHANNEL);

    } else {
        rc = redisAsyncCommand(rd->ac, ngx_http_race_redis_probed, rd,
                               "PING");
    }

    if (rc != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "race: redis %s probe failed", rd->name);
    }
}


static void
ngx_http_race_redis_probed(redisAsyncContext *ac, void *r, void *privdata)
{
    ngx_http_race_redis_t  *rd = privdata;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "race: redis %s probe answered: %s", rd->name,
                   r ? "yes" : "no, the connection went");

    if (r == NULL) {
        /* the connection went: nothing was heard */
        return;
    }

    /* Redis answers: the next loss is retried quickly again */
    rd->backoff = NGX_HTTP_RACE_REDIS_BACKOFF_MIN;
}


/*
 * A read event takes all the socket holds, until FIONREAD says it is
 * empty.  The owner merges what comes in one turn of the loop (the live
 * module's ticks of a race, into one frame): bytes left in the kernel
 * are not merged but wait a turn, and more pile up behind them while
 * the publisher goes on, in the socket and then in Redis' output
 * buffer (which, past its client-output-buffer-limit, drops the
 * subscriber).  A fixed burst a turn (it was 64 KB) is such a backlog
 * as soon as ticks come faster than it.  The byte budget only bounds a
 * publisher that writes faster than the callbacks parse: past it, the
 * level-triggered event comes back once others had their turn.
 */

static void
ngx_http_race_redis_read_handler(ngx_event_t *ev)
{
    ngx_uint_t              reads;
    ngx_connection_t       *c;
    ngx_http_race_redis_t  *rd;
#if (NGX_HAVE_FIONREAD)
    int                     avail;
#endif

    c = ev->data;
    rd = c->data;

    rd->heard = 1;

    for (reads = 1; rd->ac; reads++) {

        redisAsyncHandleRead(rd->ac);

#if (NGX_HAVE_FIONREAD)

        /* the callbacks may have dropped the connection */

        if (rd->ac == NULL
            || ngx_socket_nread(rd->ac->c.fd, &avail) == -1)
        {
            break;
        }

        if (avail == 0) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                           "race: redis %s read all it held in %ui reads",
                           rd->name, reads);
            break;
        }

        if (reads * NGX_HTTP_RACE_REDIS_READ_SIZE
            >= NGX_HTTP_RACE_REDIS_READ_MAX)
        {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                           "race: redis %s read its budget, %d bytes left",
                           rd->name, avail);
            break;
        }

#else
        break;
#endif
    }
}


static void
ngx_http_race_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t       *c;
    ngx_http_race_redis_t  *rd;

    c = ev->data;
    rd = c->data;

    if (rd->ac) {
        redisAsyncHandleWrite(rd->ac);
    }
}


static void
ngx_http_race_redis_add_read(void *privdata)
{
    ngx_event_t            *ev;
    ngx_http_race_redis_t  *rd = privdata;

    ev = rd->connection->read;

    if (!ev->active && ngx_add_event(ev, NGX_READ_EVENT, NGX_LEVEL_EVENT)
                       != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, rd->log, 0,
                      "race: redis %s read event failed", rd->name);
    }
}


static void
ngx_http_race_redis_del_read(void *privdata)
{
    ngx_event_t            *ev;
    ngx_http_race_redis_t  *rd = privdata;

    ev = rd->connection->read;

    if (ev->active) {
        (void) ngx_del_event(ev, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_race_redis_add_write(void *privdata)
{
    ngx_event_t            *ev;
    ngx_http_race_redis_t  *rd = privdata;

    ev = rd->connection->write;

    if (!ev->active && ngx_add_event(ev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
                       != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, rd->log, 0,
                      "race: redis %s write event failed", rd->name);
    }
}


static void
ngx_http_race_redis_del_write(void *privdata)
{
    ngx_event_t            *ev;
    ngx_http_race_redis_t  *rd = privdata;

    ev = rd->connection->write;

    if (ev->active) {
        (void) ngx_del_event(ev, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis closes the socket right after this: give back the connection */

static void
ngx_http_race_redis_cleanup(void *privdata)
{
    ngx_connection_t       *c;
    ngx_http_race_redis_t  *rd = privdata;

    c = rd->connection;
    if (c == NULL) {
        return;
    }

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;

    rd->connection = NULL;
}
