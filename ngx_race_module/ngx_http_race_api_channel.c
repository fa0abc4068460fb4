
/*
 * ngx_race: the API's channel to race-accounts.
 *
 * A command carries an id of this worker's, the name of its reply
 * channel and a deadline.  The request waits in a tree by that id: the
 * queue's delivery report and the reply find it there if it has not
 * gone, and a timer ends the wait if neither comes.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "ngx_http_race.h"
#include "ngx_http_race_redis.h"
#include "ngx_http_race_pending.h"
#include "ngx_http_race_api_channel.h"


/* the most of the reply timeout kept for a late command's reply */
#define NGX_HTTP_RACE_API_REPLY_MARGIN  1000


typedef struct {
    ngx_http_race_pending_t           pending;    /* waits, by id */
    ngx_msec_t                        timeout;
    ngx_log_t                        *log;
    unsigned                          subscribed:1;
    char                              name[64];
} ngx_http_race_api_channel_t;


/* a command's delivery record: the wait is found again by its id */
typedef struct {
    ngx_http_race_delivery_t          delivery;
    ngx_rbtree_key_t                  id;
} ngx_http_race_api_msg_t;


static void ngx_http_race_api_channel_up(ngx_http_race_redis_t *rd,
    void *data);
static void ngx_http_race_api_channel_down(ngx_http_race_redis_t *rd,
    void *data);
static void ngx_http_race_api_delivered(ngx_http_race_delivery_t *d,
    ngx_uint_t ok);
static void ngx_http_race_api_timeout(ngx_event_t *ev);
static void ngx_http_race_api_on_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static ngx_http_race_api_wait_t *ngx_http_race_api_find(ngx_rbtree_key_t id);
static void ngx_http_race_api_end(ngx_http_race_api_wait_t *w,
    ngx_uint_t how, json_t *reply);


static ngx_http_race_api_channel_t  *ngx_http_race_api_channel;


ngx_int_t
ngx_http_race_api_channel_init(ngx_cycle_t *cycle, ngx_msec_t reply_timeout)
{
    u_char                        bytes[8];
    ngx_http_race_api_channel_t  *ch;

    ch = ngx_pcalloc(cycle->pool, sizeof(ngx_http_race_api_channel_t));
    if (ch == NULL) {
        return NGX_ERROR;
    }

    ngx_http_race_pending_init(&ch->pending);
    ch->timeout = reply_timeout;
    ch->log = cycle->log;

    /* a channel of this process's own: a restarted one gets a new one */

    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        return NGX_ERROR;
    }

    ngx_snprintf((u_char *) ch->name, sizeof(ch->name) - 1,
                 "race:reply:%P:%*xs%Z", ngx_pid, sizeof(bytes), bytes);

    ngx_http_race_api_channel = ch;

    return ngx_http_race_redis_pair_listen(ngx_http_race_api_channel_up,
                                           ngx_http_race_api_channel_down,
                                           ch);
}


void
ngx_http_race_api_channel_exit(void)
{
    /* what still waits is finalized by its own connection's teardown */
    ngx_http_race_api_channel = NULL;
}


static void
ngx_http_race_api_channel_up(ngx_http_race_redis_t *rd, void *data)
{
    ngx_http_race_api_channel_t  *ch = data;

    if (rd != &ngx_http_race_redis_pair->sub) {
        return;
    }

    if (redisAsyncCommand(rd->ac, ngx_http_race_api_on_reply, NULL,
                          "SUBSCRIBE %s", ch->name)
        != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, ch->log, 0,
                      "race: redis subscribe to replies failed");
    }
}


static void
ngx_http_race_api_channel_down(ngx_http_race_redis_t *rd, void *data)
{
    ngx_http_race_api_channel_t  *ch = data;

    if (rd == &ngx_http_race_redis_pair->sub) {
        /* replies sent meanwhile are lost: waiting requests time out */
        ch->subscribed = 0;
    }
}


ngx_int_t
ngx_http_race_api_channel_send(ngx_http_race_api_wait_t *w, json_t *cmd,
    const char *key, ngx_log_t *log)
{
    char       *text;
    size_t      len;
    ngx_int_t   rc;

    text = json_dumps(cmd, JSON_COMPACT);
    json_decref(cmd);

    if (text == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(text);

    rc = ngx_http_race_api_channel_send_text(w, text, len, key, log);

    /* a signup's carries a password hash */
    ngx_explicit_memzero(text, len);
    free(text);

    return rc;
}


ngx_int_t
ngx_http_race_api_channel_send_text(ngx_http_race_api_wait_t *w,
    const char *text, size_t len, const char *key, ngx_log_t *log)
{
    u_char                       *payload, *p;
    size_t                        size;
    int64_t                       deadline;
    ngx_int_t                     rc;
    ngx_msec_t                    margin;
    ngx_time_t                   *tp;
    ngx_http_race_api_msg_t      *msg;
    ngx_http_race_api_channel_t  *ch;

    ch = ngx_http_race_api_channel;

    if (ch == NULL || !ch->subscribed || ngx_http_race_queue == NULL) {
        return NGX_DECLINED;
    }

    if (len < 2 || text[0] != '{' || text[len - 1] != '}') {
        return NGX_ERROR;
    }

    /*
     * The worker applies nothing after the deadline, so a 503 for a
     * timeout means "not done".  The deadline comes a little before the
     * timeout: a command taken just in time has that long to be written
     * and its reply to come back.
     */

    margin = ngx_min(ch->timeout / 4, NGX_HTTP_RACE_API_REPLY_MARGIN);

    tp = ngx_timeofday();
    deadline = (int64_t) tp->sec * 1000 + tp->msec
               + (int64_t) (ch->timeout - margin);

    /*
     * The queue frees what it is given with free(): a copy of ours,
     * with req, reply and deadline put before the closing brace, so a
     * large command (a race's course) is never parsed again here.
     */

    size = len + sizeof(",\"req\":\"\",\"reply\":\"\",\"deadline\":}")
           + NGX_INT64_LEN * 2 + sizeof(ch->name);

    payload = ngx_alloc(size, log);
    msg = ngx_alloc(sizeof(ngx_http_race_api_msg_t), log);

    if (payload == NULL || msg == NULL) {
        ngx_free(payload);
        ngx_free(msg);
        return NGX_ERROR;
    }

    /* waiting from now: nothing can report before produce() returns */
    ngx_http_race_pending_add(&ch->pending, &w->node);

    p = ngx_cpymem(payload, text, len - 1);
    p = ngx_sprintf(p, "%s\"req\":\"%ui\",\"reply\":\"%s\","
                    "\"deadline\":%L}",
                    len > 2 ? "," : "", w->node.key, ch->name, deadline);

    msg->delivery.delivered = ngx_http_race_api_delivered;
    msg->id = w->node.key;

    rc = ngx_http_race_queue->produce(NGX_HTTP_RACE_TOPIC_ACCOUNTS,
                                      (u_char *) key, ngx_strlen(key),
                                      payload, p - payload, &msg->delivery,
                                      log);
    if (rc != NGX_OK) {
        ngx_explicit_memzero(payload, p - payload);
        ngx_free(payload);
        ngx_free(msg);
        ngx_http_race_pending_delete(&ch->pending, &w->node);
        return NGX_DECLINED;
    }

    w->waiting = 1;

    w->timer.handler = ngx_http_race_api_timeout;
    w->timer.data = w;
    w->timer.log = log;

    ngx_add_timer(&w->timer, ch->timeout);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                   "race api: command %ui sent", w->node.key);

    return NGX_OK;
}


void
ngx_http_race_api_channel_cancel(ngx_http_race_api_wait_t *w)
{
    if (w->waiting && ngx_http_race_api_channel) {
        ngx_http_race_pending_delete(&ngx_http_race_api_channel->pending,
                                     &w->node);
    }

    w->waiting = 0;

    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }
}


static ngx_http_race_api_wait_t *
ngx_http_race_api_find(ngx_rbtree_key_t id)
{
    if (ngx_http_race_api_channel == NULL) {
        return NULL;
    }

    return (ngx_http_race_api_wait_t *)
               ngx_http_race_pending_find(&ngx_http_race_api_channel->pending,
                                          id);
}


/* the one way a wait ends: out of the tree, no timer, the handler told */

static void
ngx_http_race_api_end(ngx_http_race_api_wait_t *w, ngx_uint_t how,
    json_t *reply)
{
    ngx_http_race_api_channel_cancel(w);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, w->timer.log, 0,
                   "race api: command %ui ended: %ui", w->node.key, how);

    w->handler(w, how, reply);
}


static void
ngx_http_race_api_delivered(ngx_http_race_delivery_t *d, ngx_uint_t ok)
{
    ngx_http_race_api_msg_t   *msg;
    ngx_http_race_api_wait_t  *w;

    msg = (ngx_http_race_api_msg_t *) d;
    w = ok ? NULL : ngx_http_race_api_find(msg->id);

    ngx_free(msg);

    if (w) {
        /* never taken, so never done: the client may try again */
        ngx_http_race_api_end(w, NGX_HTTP_RACE_API_NOT_TAKEN, NULL);
    }
}


static void
ngx_http_race_api_timeout(ngx_event_t *ev)
{
    ngx_http_race_api_wait_t  *w;

    w = ev->data;

    ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                  "race: race-accounts did not answer in time");

    ngx_http_race_api_end(w, NGX_HTTP_RACE_API_TIMEDOUT, NULL);
}


static void
ngx_http_race_api_on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    json_t                    *reply, *req;
    ngx_int_t                  id;
    redisReply                *msg, *type, *payload;
    json_error_t               err;
    ngx_http_race_api_wait_t  *w;

    msg = r;

    if (msg == NULL || ngx_http_race_api_channel == NULL
        || msg->type != REDIS_REPLY_ARRAY || msg->elements != 3)
    {
        return;
    }

    type = msg->element[0];
    payload = msg->element[2];

    if (type->type != REDIS_REPLY_STRING) {
        return;
    }

    if (ngx_strcmp(type->str, "subscribe") == 0) {
        ngx_http_race_api_channel->subscribed = 1;
        return;
    }

    if (ngx_strcmp(type->str, "message") != 0
        || payload->type != REDIS_REPLY_STRING)
    {
        return;
    }

    reply = json_loadb(payload->str, payload->len, 0, &err);
    req = json_object_get(reply, "req");

    id = json_is_string(req)
         ? ngx_atoi((u_char *) json_string_value(req), json_string_length(req))
         : NGX_ERROR;

    w = (id > 0) ? ngx_http_race_api_find((ngx_rbtree_key_t) id) : NULL;

    if (w == NULL) {
        /* a reply to a request that timed out or went away */
        json_decref(reply);
        return;
    }

    ngx_http_race_api_end(w, NGX_HTTP_RACE_API_REPLIED, reply);

    json_decref(reply);
}
