
/*
 * ngx_race: WebSocket connections on nginx's event loop, and
 * ngx_http_race_ws_module: the race_ws_* settings every WebSocket
 * endpoint reads, and race_ws_echo.
 *
 * After the 101 the connection's read and write events come here.  Only
 * the three event handlers (read, write, timer) ever finalize the
 * request; everything below them just queues frames and sets flags, so
 * an endpoint may send or close from inside its callbacks safely.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race.h"
#include "ngx_http_race_ws.h"
#include "ngx_http_race_reply.h"
#include "ngx_http_race_status.h"


#define NGX_HTTP_RACE_WS_BUFFER      16384
#define NGX_HTTP_RACE_WS_READ_BURST  8      /* reads before yielding */
#define NGX_HTTP_RACE_WS_CONTROL     2      /* queue slots kept for control */

#define NGX_HTTP_RACE_UPGRADE_REQUIRED  426


/* why a handshake is refused: the status and the reason for the body */

typedef struct {
    ngx_uint_t                 status;
    const char                *code;
    const char                *message;
} ngx_http_race_ws_reject_t;


static ngx_int_t ngx_http_race_ws_check(ngx_http_request_t *r,
    ngx_http_race_ws_loc_conf_t *wlcf, ngx_str_t *key,
    ngx_http_race_ws_reject_t *reject);
static ngx_int_t ngx_http_race_ws_origin_allowed(
    ngx_http_race_ws_loc_conf_t *wlcf, ngx_str_t *origin);
static void ngx_http_race_ws_read_handler(ngx_event_t *rev);
static void ngx_http_race_ws_detached_read_handler(ngx_event_t *rev);
static void ngx_http_race_ws_write_handler(ngx_event_t *wev);
static void ngx_http_race_ws_detached_write_handler(ngx_event_t *wev);
static void ngx_http_race_ws_on_read(ngx_http_race_ws_t *ws);
static void ngx_http_race_ws_on_write(ngx_http_race_ws_t *ws);
static void ngx_http_race_ws_timer_handler(ngx_event_t *ev);
static void ngx_http_race_ws_read(ngx_http_race_ws_t *ws);
static ngx_int_t ngx_http_race_ws_process(ngx_http_race_ws_t *ws);
static ngx_int_t ngx_http_race_ws_data(ngx_http_race_ws_t *ws,
    race_ws_event_t *ev);
static void ngx_http_race_ws_control(ngx_http_race_ws_t *ws,
    race_ws_event_t *ev);
static ngx_int_t ngx_http_race_ws_flush(ngx_http_race_ws_t *ws);
static ngx_int_t ngx_http_race_ws_enqueue(ngx_http_race_ws_t *ws,
    ngx_http_race_frame_t *frame);
static ngx_int_t ngx_http_race_ws_send_control(ngx_http_race_ws_t *ws,
    unsigned opcode, const u_char *data, size_t len);
static void ngx_http_race_ws_finish(ngx_http_race_ws_t *ws);
static void ngx_http_race_ws_detach(ngx_http_race_ws_t *ws);
static void ngx_http_race_ws_free_in(ngx_http_race_ws_t *ws);
static ngx_int_t ngx_http_race_ws_grow_queue(ngx_http_race_ws_t *ws);
static void ngx_http_race_ws_shrink_queue(ngx_http_race_ws_t *ws);
static void ngx_http_race_ws_cleanup(void *data);

static ngx_int_t ngx_http_race_ws_init_process(ngx_cycle_t *cycle);
static void *ngx_http_race_ws_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_race_ws_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_race_ws_allow_origin(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_race_origin_valid(ngx_str_t *origin);
static char *ngx_http_race_ws_echo_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_race_ws_echo_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_race_ws_echo_message(ngx_http_race_ws_t *ws,
    unsigned opcode, u_char *data, size_t len);


static ngx_http_race_conf_value_t  ngx_http_race_max_message_value = {
    NGX_HTTP_RACE_CONF_SIZE, 125, 64 * 1024 * 1024,
    "a size from 125 to 64m"
};

static ngx_http_race_conf_value_t  ngx_http_race_send_queue_value = {
    NGX_HTTP_RACE_CONF_NUM, 1, 65536,
    "a number from 1 to 65536"
};

static ngx_http_race_conf_value_t  ngx_http_race_ping_interval_value = {
    NGX_HTTP_RACE_CONF_MSEC, 0, NGX_HTTP_RACE_MSEC_MAX,
    "a time up to 24d (0: no pings)"
};

static ngx_http_race_conf_value_t  ngx_http_race_timeout_value = {
    NGX_HTTP_RACE_CONF_MSEC, 1, NGX_HTTP_RACE_MSEC_MAX,
    "a time from 1ms to 24d"
};


static ngx_command_t  ngx_http_race_ws_commands[] = {

    { ngx_string("race_ws_echo"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_race_ws_echo_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("race_ws_allow_origin"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_race_ws_allow_origin,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("race_ws_max_message"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_ws_loc_conf_t, ws_max_message),
      &ngx_http_race_max_message_value },

    { ngx_string("race_ws_send_queue"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_ws_loc_conf_t, ws_send_queue),
      &ngx_http_race_send_queue_value },

    { ngx_string("race_ws_ping_interval"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_ws_loc_conf_t, ws_ping_interval),
      &ngx_http_race_ping_interval_value },

    { ngx_string("race_ws_idle_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_ws_loc_conf_t, ws_idle_timeout),
      &ngx_http_race_timeout_value },

    { ngx_string("race_ws_close_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_ws_loc_conf_t, ws_close_timeout),
      &ngx_http_race_timeout_value },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_race_ws_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_race_ws_create_loc_conf,      /* create location configuration */
    ngx_http_race_ws_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_race_ws_module = {
    NGX_MODULE_V1,
    &ngx_http_race_ws_module_ctx,          /* module context */
    ngx_http_race_ws_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_race_ws_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static const ngx_http_race_ws_handler_t  ngx_http_race_ws_echo = {
    ngx_http_race_ws_echo_message,
    NULL,
    NULL,
    NGX_HTTP_RACE_EP_WS_ECHO,
    1
};


ngx_http_race_frame_t *
ngx_http_race_frame_create(ngx_log_t *log, unsigned opcode,
    const u_char *payload, size_t len)
{
    size_t                  hlen;
    ngx_http_race_frame_t  *frame;

    frame = ngx_alloc(sizeof(ngx_http_race_frame_t) + RACE_WS_HEADER_MAX
                      + len, log);
    if (frame == NULL) {
        return NULL;
    }

    frame->refs = 1;
    frame->data = (u_char *) (frame + 1);

    hlen = race_ws_frame_header(frame->data, 1, opcode, len, NULL);

    if (len) {
        ngx_memcpy(frame->data + hlen, payload, len);
    }

    frame->len = hlen + len;

    return frame;
}


void
ngx_http_race_frame_release(ngx_http_race_frame_t *frame)
{
    if (--frame->refs == 0) {
        ngx_free(frame);
    }
}


ngx_int_t
ngx_http_race_ws_upgrade(ngx_http_request_t *r,
    const ngx_http_race_ws_handler_t *handler, void *data,
    ngx_http_race_ws_t **wsp)
{
    u_char                     *accept;
    size_t                      size;
    ngx_int_t                   rc;
    ngx_str_t                   key;
    ngx_table_elt_t            *h;
    ngx_connection_t           *c;
    ngx_pool_cleanup_t         *cln;
    ngx_http_race_ws_t         *ws;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_race_ws_loc_conf_t   *wlcf;
    ngx_http_race_ws_reject_t   reject;

    *wsp = NULL;
    c = r->connection;
    ngx_str_null(&key);
    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_race_ws_module);

    rc = ngx_http_race_ws_check(r, wlcf, &key, &reject);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        if (reject.status == NGX_HTTP_RACE_UPGRADE_REQUIRED) {
            /* nginx has no reason phrase of its own for 426 */
            ngx_str_set(&r->headers_out.status_line, "426 Upgrade Required");
        }

        return ngx_http_race_send_error(r, reject.status, reject.code,
                                        reject.message);
    }

    /*
     * The connection's pool: the socket may outlive the request.  From
     * here it is answered 101 or closed, never served another request,
     * so this is taken once a connection.
     */

    r->keepalive = 0;

    ws = ngx_pcalloc(c->pool, sizeof(ngx_http_race_ws_t));
    if (ws == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * Frames may have come right behind the handshake, as many as
     * large_client_header_buffers hold: the buffer takes them all.
     */

    size = r->header_in->last - r->header_in->pos;

    if (size) {
        size = ngx_max(size, NGX_HTTP_RACE_WS_BUFFER);

        ws->in = ngx_palloc(c->pool, size);
        if (ws->in == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ws->in_pos = ws->in;
        ws->in_last = ws->in;
        ws->in_end = ws->in + size;
    }

    ws->queue_max = wlcf->ws_send_queue + NGX_HTTP_RACE_WS_CONTROL;
    ws->queue_size = ngx_min(ws->queue_max, NGX_HTTP_RACE_WS_QUEUE_INLINE);
    ws->queue = ws->queue_inline;

    accept = ngx_pnalloc(r->pool, RACE_WS_ACCEPT_LEN);
    if (accept == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    race_ws_accept(key.data, key.len, accept);

    ws->request = r;
    ws->connection = c;
    ws->conf = wlcf;
    ws->handler = handler;
    ws->data = data;

    race_ws_parser_init(&ws->parser, wlcf->ws_max_message, 1);

    ws->timer.handler = ngx_http_race_ws_timer_handler;
    ws->timer.data = ws;
    ws->timer.log = c->log;
    ws->timer.cancelable = 1;

    if (ngx_http_race_add_header(r, "Upgrade", "websocket") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Sec-WebSocket-Accept");
    h->value.data = accept;
    h->value.len = RACE_WS_ACCEPT_LEN;

    r->headers_out.status = NGX_HTTP_SWITCHING_PROTOCOLS;
    ngx_str_set(&r->headers_out.status_line, "101 Switching Protocols");
    r->headers_out.content_length_n = -1;
    r->keepalive = 0;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_send_special(r, NGX_HTTP_FLUSH) == NGX_ERROR) {
        return NGX_ERROR;
    }

    /*
     * Whichever pool goes first releases what the socket holds: the
     * request's while there is one (the endpoint's data may be in it),
     * else the connection's.
     */

    ws->cleanup = ngx_pool_cleanup_add(r->pool, 0);
    if (ws->cleanup == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(c->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    ws->cleanup->handler = ngx_http_race_ws_cleanup;
    ws->cleanup->data = ws;
    cln->handler = ngx_http_race_ws_cleanup;
    cln->data = ws;

    /* open until the cleanup, which comes once */
    ngx_http_race_count(accepted[handler->endpoint], 1);
    ngx_http_race_gauge(connections[handler->endpoint], 1);

    /*
     * From here the connection is ours: its events come to the handlers
     * below, and the request stays alive until ngx_http_race_ws_finish().
     * An idle connection is one nginx closes at a graceful shutdown; our
     * read handler turns that into a 1001 close handshake.
     */

    ngx_http_set_ctx(r, ws, ngx_http_race_ws_module);

    r->main->count++;

    c->log->action = "in websocket";
    c->read->handler = ngx_http_race_ws_read_handler;
    c->write->handler = ngx_http_race_ws_write_handler;
    c->idle = 1;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->tcp_nodelay && ngx_tcp_nodelay(c) != NGX_OK) {
        return NGX_ERROR;
    }

    /* frames the client sent right behind the handshake */

    if (ws->in) {
        ws->in_last = ngx_cpymem(ws->in, r->header_in->pos,
                                 r->header_in->last - r->header_in->pos);
        r->header_in->pos = r->header_in->last;
    }

    ws->last_read = ngx_current_msec;

    ngx_add_timer(&ws->timer, wlcf->ws_ping_interval
                              ? wlcf->ws_ping_interval
                              : wlcf->ws_idle_timeout);

    ngx_post_event(c->read, &ngx_posted_events);

    if (r->out || c->buffered) {
        /* the rest of the 101 goes out before any frame */
        ngx_post_event(c->write, &ngx_posted_events);
    }

    if (ngx_exiting) {
        /*
         * Upgraded after a graceful shutdown closed the idle connections
         * (a request that came, or was answered, late): the goodbye is
         * said now, and its close timer keeps the worker until it is out.
         */
        c->idle = 0;
        ngx_http_race_ws_close(ws, RACE_WS_CLOSE_GOING_AWAY,
                               "server shutting down");
    }

    *wsp = ws;

    return NGX_OK;
}


/*
 * NGX_OK: a valid handshake, *key is the client's key.  NGX_DECLINED:
 * refused, *reject says why; headers the answer needs are already added.
 * NGX_ERROR: out of memory.
 */

static ngx_int_t
ngx_http_race_ws_check(ngx_http_request_t *r, ngx_http_race_ws_loc_conf_t *wlcf,
    ngx_str_t *key, ngx_http_race_ws_reject_t *reject)
{
    ngx_str_t         *version, *origin;
    ngx_uint_t         i, keys, upgrade, connection;
    ngx_list_part_t   *part;
    ngx_table_elt_t   *h;

    reject->status = NGX_HTTP_BAD_REQUEST;
    reject->code = "bad_handshake";

    if (r->method != NGX_HTTP_GET) {
        if (ngx_http_race_add_header(r, "Allow", "GET") != NGX_OK) {
            return NGX_ERROR;
        }

        reject->status = NGX_HTTP_NOT_ALLOWED;
        reject->message = "a WebSocket handshake is a GET";
        return NGX_DECLINED;
    }

    if (r != r->main || r->http_version < NGX_HTTP_VERSION_11
#if (NGX_HTTP_V2)
        || r->stream
#endif
       )
    {
        reject->message = "WebSocket needs HTTP/1.1";
        return NGX_DECLINED;
    }

    if (r->headers_in.content_length_n > 0 || r->headers_in.chunked) {
        reject->message = "a WebSocket handshake has no body";
        return NGX_DECLINED;
    }

    upgrade = 0;
    connection = 0;
    keys = 0;
    version = NULL;
    origin = NULL;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Upgrade") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Upgrade",
                               sizeof("Upgrade") - 1) == 0)
        {
            upgrade |= race_ws_header_has_token(h[i].value.data,
                                                h[i].value.len, "websocket");

        } else if (h[i].key.len == sizeof("Connection") - 1
                   && ngx_strncasecmp(h[i].key.data, (u_char *) "Connection",
                                      sizeof("Connection") - 1) == 0)
        {
            connection |= race_ws_header_has_token(h[i].value.data,
                                                   h[i].value.len,
                                                   "upgrade");

        } else if (h[i].key.len == sizeof("Sec-WebSocket-Key") - 1
                   && ngx_strncasecmp(h[i].key.data,
                                      (u_char *) "Sec-WebSocket-Key",
                                      sizeof("Sec-WebSocket-Key") - 1) == 0)
        {
            keys++;
            *key = h[i].value;

        } else if (h[i].key.len == sizeof("Sec-WebSocket-Version") - 1
                   && ngx_strncasecmp(h[i].key.data,
                                      (u_char *) "Sec-WebSocket-Version",
                                      sizeof("Sec-WebSocket-Version") - 1)
                      == 0)
        {
            version = &h[i].value;

        } else if (h[i].key.len == sizeof("Origin") - 1
                   && ngx_strncasecmp(h[i].key.data, (u_char *) "Origin",
                                      sizeof("Origin") - 1) == 0)
        {
            origin = &h[i].value;
        }
    }

    if (!upgrade) {
        if (ngx_http_race_add_header(r, "Upgrade", "websocket") != NGX_OK) {
            return NGX_ERROR;
        }

        reject->status = NGX_HTTP_RACE_UPGRADE_REQUIRED;
        reject->code = "upgrade_required";
        reject->message = "this endpoint is a WebSocket: "
                          "send \"Upgrade: websocket\"";
        return NGX_DECLINED;
    }

    if (!connection) {
        reject->message = "\"Connection\" must include \"Upgrade\"";
        return NGX_DECLINED;
    }

    if (version == NULL
        || version->len != 2 || ngx_strncmp(version->data, "13", 2) != 0)
    {
        if (ngx_http_race_add_header(r, "Sec-WebSocket-Version", "13")
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        reject->status = NGX_HTTP_RACE_UPGRADE_REQUIRED;
        reject->code = "bad_version";
        reject->message = "only WebSocket version 13 is supported";
        return NGX_DECLINED;
    }

    if (keys != 1 || !race_ws_key_valid(key->data, key->len)) {
        reject->message = "\"Sec-WebSocket-Key\" must be one base64 value "
                          "of 16 bytes";
        return NGX_DECLINED;
    }

    if (origin && ngx_http_race_ws_origin_allowed(wlcf, origin) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "race: websocket origin \"%V\" not allowed", origin);

        reject->status = NGX_HTTP_FORBIDDEN;
        reject->code = "origin_not_allowed";
        reject->message = "this origin may not open WebSockets here";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* exact match, ignoring the case of what the browser sent */

static ngx_int_t
ngx_http_race_ws_origin_allowed(ngx_http_race_ws_loc_conf_t *wlcf,
    ngx_str_t *origin)
{
    ngx_str_t   *allowed;
    ngx_uint_t   i;

    if (wlcf->ws_origins == NULL) {
        return NGX_OK;
    }

    allowed = wlcf->ws_origins->elts;

    for (i = 0; i < wlcf->ws_origins->nelts; i++) {
        if (allowed[i].len == origin->len
            && ngx_strncasecmp(allowed[i].data, origin->data, origin->len)
               == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/* the event handlers: c->data is the request, or the socket once detached */

static void
ngx_http_race_ws_read_handler(ngx_event_t *rev)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    c = rev->data;
    r = c->data;

    ngx_http_race_ws_on_read(ngx_http_get_module_ctx(r,
                                                     ngx_http_race_ws_module));
}


static void
ngx_http_race_ws_detached_read_handler(ngx_event_t *rev)
{
    ngx_connection_t  *c;

    c = rev->data;

    ngx_http_race_ws_on_read(c->data);
}


static void
ngx_http_race_ws_write_handler(ngx_event_t *wev)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    c = wev->data;
    r = c->data;

    ngx_http_race_ws_on_write(ngx_http_get_module_ctx(r,
                                                      ngx_http_race_ws_module));
}


static void
ngx_http_race_ws_detached_write_handler(ngx_event_t *wev)
{
    ngx_connection_t  *c;

    c = wev->data;

    ngx_http_race_ws_on_write(c->data);
}


static void
ngx_http_race_ws_on_read(ngx_http_race_ws_t *ws)
{
    ngx_connection_t  *c;

    c = ws->connection;

    if (c->close && c->error) {
        /* worker_shutdown_timeout: the worker's time is up */
        ngx_http_race_ws_finish(ws);
        return;
    }

    if (c->close) {
        /* a graceful shutdown closes idle connections: say goodbye */
        c->close = 0;
        c->idle = 0;
        ngx_http_race_ws_close(ws, RACE_WS_CLOSE_GOING_AWAY,
                               "server shutting down");

        /*
         * ngx_close_idle_connections() calls us from outside the event
         * loop, which then sleeps without running posted events: the
         * close frame would wait for the close timer, which drops it.
         */

        if (ngx_http_race_ws_flush(ws) == NGX_ERROR) {
            ngx_http_race_ws_finish(ws);
            return;
        }
    }

    ngx_http_race_ws_detach(ws);

    ngx_http_race_ws_read(ws);
}


static void
ngx_http_race_ws_read(ngx_http_race_ws_t *ws)
{
    ssize_t            n;
    ngx_int_t          rc;
    ngx_uint_t         burst;
    ngx_connection_t  *c;

    c = ws->connection;

    for (burst = 0; /* void */; burst++) {

        rc = ngx_http_race_ws_process(ws);

        if (rc == NGX_ERROR) {
            ngx_http_race_ws_finish(ws);
            return;
        }

        if (rc == NGX_AGAIN) {
            /* the send queue is full, or reading is held: read later */
            return;
        }

        if (ws->read_held && !ws->close_sent) {
            /* what is buffered is parsed; the rest waits in the socket */
            return;
        }

        if (burst == NGX_HTTP_RACE_WS_READ_BURST) {
            /* let other connections have the event loop */
            ngx_post_event(c->read, &ngx_posted_events);
            return;
        }

        if (ws->in == NULL) {
            ws->in = ngx_palloc(c->pool, NGX_HTTP_RACE_WS_BUFFER);
            if (ws->in == NULL) {
                ngx_http_race_ws_finish(ws);
                return;
            }

            ws->in_end = ws->in + NGX_HTTP_RACE_WS_BUFFER;
        }

        ws->in_pos = ws->in;
        ws->in_last = ws->in;

        n = c->recv(c, ws->in, ws->in_end - ws->in);

        if (n == NGX_AGAIN) {
            /*
             * All that came is parsed: an idle socket keeps no buffer,
             * the next read event takes one again, as nginx does for
             * keep-alive connections.
             */
            ngx_http_race_ws_free_in(ws);

            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_http_race_ws_finish(ws);
            }

            return;
        }

        if (n == 0 && ws->close_sent && ws->queue_count) {
            /*
             * The peer half-closed during the close handshake but may
             * still read: what is queued goes out first, then the write
             * handler (or the close timer) hangs up.
             */

            ws->failed = 1;
            ngx_post_event(c->write, &ngx_posted_events);

            if ((ngx_event_flags & NGX_USE_LEVEL_EVENT) && c->read->active
                && ngx_del_event(c->read, NGX_READ_EVENT, 0) != NGX_OK)
            {
                ngx_http_race_ws_finish(ws);
            }

            return;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                           "race: websocket peer closed the connection");
            ngx_http_race_ws_finish(ws);
            return;
        }

        ws->in_last += n;
        ws->last_read = ngx_current_msec;
    }
}


/*
 * Parses what is buffered.  NGX_OK: all consumed; NGX_AGAIN: paused on a
 * full send queue; NGX_ERROR: finish the connection now.
 */

static ngx_int_t
ngx_http_race_ws_process(ngx_http_race_ws_t *ws)
{
    size_t           used;
    race_ws_rc_e     rc;
    race_ws_event_t  ev;

    while (ws->in_pos < ws->in_last) {

        if (ws->close_received || ws->failed) {
            /* nothing may follow a close frame or a broken frame */
            ws->in_pos = ws->in_last;
            break;
        }

        if (ws->queue_count >= ws->conf->ws_send_queue) {
            ws->read_paused = 1;
            return NGX_AGAIN;
        }

        if (ws->read_held && !ws->close_sent) {
            /* the endpoint has enough of the peer's for now */
            return NGX_AGAIN;
        }

        rc = race_ws_parse(&ws->parser, ws->in_pos,
                           ws->in_last - ws->in_pos, &used, &ev);

        ws->in_pos += used;

        switch (rc) {

        case RACE_WS_AGAIN:
            break;

        case RACE_WS_DATA:
            if (ngx_http_race_ws_data(ws, &ev) != NGX_OK) {
                return NGX_ERROR;
            }

            break;

        case RACE_WS_CONTROL:
            ngx_http_race_ws_control(ws, &ev);
            break;

        default: /* RACE_WS_ERROR */
            ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                          "race: websocket %s, closing with %ui",
                          ev.reason, (ngx_uint_t) ev.code);

            ngx_http_race_ws_close(ws, ev.code, ev.reason);
            ws->failed = 1;
            break;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_race_ws_data(ngx_http_race_ws_t *ws, race_ws_event_t *ev)
{
    u_char     *msg;
    size_t      size;
    ngx_int_t   rc;

    if (ws->close_sent) {
        /* closing: data from the peer no longer matters */
        return NGX_OK;
    }

    if (ev->first && ev->fin) {
        /* the common case, a message in one frame: no copy */
        rc = ws->handler->message(ws, ev->opcode, (u_char *) ev->data,
                                  ev->len);
        goto done;
    }

    if (ev->first) {
        ws->msg_len = 0;
        ws->msg_opcode = ev->opcode;
    }

    if (ws->msg_len + ev->len > ws->msg_size) {

        /* the parser keeps messages within ws_max_message */

        size = ngx_max(ws->msg_size * 2, 4096);
        size = ngx_max(size, ws->msg_len + ev->len);
        size = ngx_min(size, ws->conf->ws_max_message);

        msg = ngx_alloc(size, ws->connection->log);
        if (msg == NULL) {
            return NGX_ERROR;
        }

        if (ws->msg_len) {
            ngx_memcpy(msg, ws->msg, ws->msg_len);
        }

        if (ws->msg) {
            ngx_free(ws->msg);
        }

        ws->msg = msg;
        ws->msg_size = size;
    }

    if (ev->len) {
        ngx_memcpy(ws->msg + ws->msg_len, ev->data, ev->len);
        ws->msg_len += ev->len;
    }

    if (!ev->fin) {
        return NGX_OK;
    }

    rc = ws->handler->message(ws, ws->msg_opcode, ws->msg, ws->msg_len);

    /* messages in pieces are rare: no buffer is kept for the next one */
    ngx_free(ws->msg);
    ws->msg = NULL;
    ws->msg_size = 0;
    ws->msg_len = 0;

done:

    if (rc != NGX_OK) {
        ngx_http_race_ws_close(ws, RACE_WS_CLOSE_INTERNAL, "internal error");
    }

    return NGX_OK;
}


static void
ngx_http_race_ws_control(ngx_http_race_ws_t *ws, race_ws_event_t *ev)
{
    switch (ev->opcode) {

    case RACE_WS_OP_PING:
        if (!ws->close_sent) {
            (void) ngx_http_race_ws_send_control(ws, RACE_WS_OP_PONG,
                                                 ev->data, ev->len);
        }

        break;

    case RACE_WS_OP_PONG:
        /* last_read was updated by the read that brought it */
        break;

    default: /* RACE_WS_OP_CLOSE */
        ws->close_received = 1;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ws->connection->log, 0,
                       "race: websocket close %ui from peer",
                       (ngx_uint_t) ev->code);

        if (!ws->close_sent) {
            /* echo the peer's status, as RFC 6455 5.5.1 suggests */
            ngx_http_race_ws_close(ws, ev->code, "");

        } else {
            /*
             * The answer to our close: the write handler hangs up once
             * the queue is out, instead of the close timer much later.
             */
            ngx_post_event(ws->connection->write, &ngx_posted_events);
        }

        break;
    }
}


static void
ngx_http_race_ws_on_write(ngx_http_race_ws_t *ws)
{
    ngx_connection_t  *c;

    c = ws->connection;

    if (ngx_http_race_ws_flush(ws) == NGX_ERROR) {
        ngx_http_race_ws_finish(ws);
        return;
    }

    if (ws->queue_count == 0 && ws->close_sent
        && (ws->close_received || ws->failed))
    {
        /* the server closes the TCP connection first (RFC 6455 7.1.1) */
        ngx_http_race_ws_finish(ws);
        return;
    }

    ngx_http_race_ws_detach(ws);

    if (ws->queue_count >= ws->conf->ws_send_queue) {
        return;
    }

    if (ws->read_paused) {
        ws->read_paused = 0;
        ngx_post_event(c->read, &ngx_posted_events);
    }

    if (ws->want_drain) {
        ws->want_drain = 0;

        if (ws->handler->drain) {
            ws->handler->drain(ws);
        }
    }
}


static ngx_int_t
ngx_http_race_ws_flush(ngx_http_race_ws_t *ws)
{
    ssize_t                 n;
    ngx_int_t               rc;
    ngx_connection_t       *c;
    ngx_http_request_t     *r;
    ngx_http_race_frame_t  *frame;

    c = ws->connection;
    r = ws->request;

    if (r && (r->out || c->buffered)) {
        /* the rest of the 101 response */
        rc = ngx_http_output_filter(r, NULL);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (r->out || c->buffered) {
            return ngx_handle_write_event(c->write, 0) == NGX_OK
                   ? NGX_AGAIN : NGX_ERROR;
        }
    }

    while (ws->queue_count) {

        frame = ws->queue[ws->queue_head];

        n = c->send(c, frame->data + ws->sent, frame->len - ws->sent);

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (n == NGX_AGAIN) {
            return ngx_handle_write_event(c->write, 0) == NGX_OK
                   ? NGX_AGAIN : NGX_ERROR;
        }

        ws->sent += n;

        if (ws->sent < frame->len) {
            continue;
        }

        ngx_http_race_frame_release(frame);
        ws->queue[ws->queue_head] = NULL;
        ws->queue_head = (ws->queue_head + 1) % ws->queue_size;
        ws->queue_count--;
        ws->sent = 0;
    }

    ngx_http_race_ws_shrink_queue(ws);

    return ngx_handle_write_event(c->write, 0) == NGX_OK ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_race_ws_enqueue(ngx_http_race_ws_t *ws, ngx_http_race_frame_t *frame)
{
    if (ws->queue_count == ws->queue_size) {

        if (ws->queue_size == ws->queue_max) {
            return NGX_AGAIN;
        }

        if (ngx_http_race_ws_grow_queue(ws) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    frame->refs++;

    ws->queue[(ws->queue_head + ws->queue_count) % ws->queue_size] = frame;
    ws->queue_count++;

    ngx_post_event(ws->connection->write, &ngx_posted_events);

    return NGX_OK;
}


ngx_int_t
ngx_http_race_ws_send_frame(ngx_http_race_ws_t *ws,
    ngx_http_race_frame_t *frame)
{
    if (ws->close_sent || ws->finished) {
        return NGX_DECLINED;
    }

    if (ws->queue_count >= ws->conf->ws_send_queue) {
        ws->want_drain = 1;
        return NGX_AGAIN;
    }

    return ngx_http_race_ws_enqueue(ws, frame);
}


ngx_int_t
ngx_http_race_ws_send_latest(ngx_http_race_ws_t *ws,
    ngx_http_race_frame_t *frame, ngx_uint_t max)
{
    if (ws->close_sent || ws->finished) {
        return NGX_DECLINED;
    }

    if (ws->queue_count >= ngx_min(max, ws->conf->ws_send_queue)) {
        ws->want_drain = 1;
        return NGX_AGAIN;
    }

    return ngx_http_race_ws_enqueue(ws, frame);
}


ngx_int_t
ngx_http_race_ws_send(ngx_http_race_ws_t *ws, unsigned opcode,
    const u_char *data, size_t len)
{
    ngx_int_t               rc;
    ngx_http_race_frame_t  *frame;

    if (ws->close_sent || ws->finished) {
        return NGX_DECLINED;
    }

    if (ws->queue_count >= ws->conf->ws_send_queue) {
        ws->want_drain = 1;
        return NGX_AGAIN;
    }

    frame = ngx_http_race_frame_create(ws->connection->log, opcode, data,
                                       len);
    if (frame == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_race_ws_enqueue(ws, frame);

    /* the queue holds its own reference now, or none */
    ngx_http_race_frame_release(frame);

    return rc;
}


static ngx_int_t
ngx_http_race_ws_send_control(ngx_http_race_ws_t *ws, unsigned opcode,
    const u_char *data, size_t len)
{
    ngx_int_t               rc;
    ngx_http_race_frame_t  *frame;

    frame = ngx_http_race_frame_create(ws->connection->log, opcode, data,
                                       len);
    if (frame == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_race_ws_enqueue(ws, frame);

    ngx_http_race_frame_release(frame);

    return rc;
}


void
ngx_http_race_ws_close(ngx_http_race_ws_t *ws, ngx_uint_t code,
    const char *reason)
{
    size_t  len;
    u_char  payload[RACE_WS_CONTROL_MAX];

    if (ws->close_sent || ws->finished) {
        return;
    }

    if (code == RACE_WS_CLOSE_NO_STATUS) {
        len = 0;

    } else {
        len = race_ws_close_payload(payload, (uint16_t) code, reason,
                                    ngx_strlen(reason));
    }

    ws->close_sent = 1;

    if (ngx_http_race_ws_send_control(ws, RACE_WS_OP_CLOSE, payload, len)
        != NGX_OK)
    {
        /* no room even for the close frame: just drop the connection */
        ws->failed = 1;
        ws->close_received = 1;
        ngx_post_event(ws->connection->write, &ngx_posted_events);
    }

    /*
     * Wait a while for the peer's close frame; a worker that is shutting
     * down waits for this timer too, so the goodbye gets out.
     */

    ws->timer.cancelable = 0;

    ngx_add_timer(&ws->timer, ws->conf->ws_close_timeout);
}


void
ngx_http_race_ws_hold(ngx_http_race_ws_t *ws)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ws->connection->log, 0,
                   "race: websocket reading held");

    ws->read_held = 1;
}


void
ngx_http_race_ws_resume(ngx_http_race_ws_t *ws)
{
    if (!ws->read_held) {
        return;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ws->connection->log, 0,
                   "race: websocket reading resumed");

    ws->read_held = 0;

    if (!ws->finished) {
        /* what came meanwhile is in the socket: no event will say so */
        ngx_post_event(ws->connection->read, &ngx_posted_events);
    }
}


static void
ngx_http_race_ws_timer_handler(ngx_event_t *ev)
{
    ngx_msec_t           idle, next;
    ngx_http_race_ws_t  *ws;

    ws = ev->data;

    if (ws->close_sent) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ws->connection->log, 0,
                       "race: websocket close handshake timed out");
        ngx_http_race_ws_finish(ws);
        return;
    }

    if (ws->read_held) {
        /* the silence is ours, not the peer's: the endpoint resumes it */
        ws->last_read = ngx_current_msec;
    }

    idle = ngx_current_msec - ws->last_read;

    if (idle >= ws->conf->ws_idle_timeout) {
        ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                      "race: websocket idle for %M ms, closing", idle);
        ngx_http_race_ws_close(ws, RACE_WS_CLOSE_GOING_AWAY, "idle timeout");
        return;
    }

    if (ws->conf->ws_ping_interval && idle >= ws->conf->ws_ping_interval) {
        if (ngx_http_race_ws_send_control(ws, RACE_WS_OP_PING, NULL, 0)
            == NGX_ERROR)
        {
            ngx_http_race_ws_finish(ws);
            return;
        }
    }

    next = ws->conf->ws_idle_timeout - idle;

    if (ws->conf->ws_ping_interval && ws->conf->ws_ping_interval < next) {
        next = ws->conf->ws_ping_interval;
    }

    ngx_add_timer(&ws->timer, next);
}


/* releases what the connection holds; safe to call more than once */

static void
ngx_http_race_ws_cleanup(void *data)
{
    ngx_http_race_ws_t  *ws = data;

    if (ws->finished) {
        return;
    }

    ws->finished = 1;

    ngx_http_race_gauge(connections[ws->handler->endpoint], -1);

    if (ws->handler->close) {
        ws->handler->close(ws);
    }

    if (ws->timer.timer_set) {
        ngx_del_timer(&ws->timer);
    }

    if (ws->timer.posted) {
        ngx_delete_posted_event(&ws->timer);
    }

    while (ws->queue_count) {
        ngx_http_race_frame_release(ws->queue[ws->queue_head]);
        ws->queue_head = (ws->queue_head + 1) % ws->queue_size;
        ws->queue_count--;
    }

    if (ws->queue != ws->queue_inline) {
        ngx_free(ws->queue);
        ws->queue = ws->queue_inline;
    }

    if (ws->msg) {
        ngx_free(ws->msg);
        ws->msg = NULL;
    }
}


static void
ngx_http_race_ws_finish(ngx_http_race_ws_t *ws)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ws->request;
    c = ws->connection;

    ngx_http_race_ws_cleanup(ws);

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (r) {
        ngx_http_finalize_request(r, NGX_DONE);
        return;
    }

    ngx_http_close_connection(c);
}


/*
 * Once the 101 is out, an endpoint whose data is not in the request's
 * pool no longer needs the request: it is freed (and logged) the way
 * ngx_http_set_keepalive() frees a keep-alive connection's, with the
 * header buffers, and the socket keeps only the connection's pool.
 * Anything else that lives as long as the request (limit_conn's count,
 * another module's cleanup) keeps the request, as before.
 */

static void
ngx_http_race_ws_detach(ngx_http_race_ws_t *ws)
{
    ngx_chain_t            *cl;
    ngx_connection_t       *c;
    ngx_pool_cleanup_t     *cln;
    ngx_http_request_t     *r;
    ngx_http_connection_t  *hc;
#if (NGX_DEBUG)
    ngx_uint_t              blocks, large;
    ngx_pool_t             *p;
    ngx_pool_large_t       *l;
#endif

    r = ws->request;
    c = ws->connection;

    if (r == NULL || !ws->handler->detach || ws->finished
        || r->main->count != 1 || r->blocked || r->out || c->buffered
        || r->cleanup)
    {
        return;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler && cln != ws->cleanup) {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                           "race: websocket keeps its request");
            return;
        }
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "race: websocket detached from its request");

    /* the connection's pool has a cleanup of its own */
    ws->cleanup->handler = NULL;

    hc = r->http_connection;

    ngx_http_free_request(r, 0);

    ws->request = NULL;

    c->data = ws;
    c->destroyed = 0;
    c->log->action = "in websocket";
    c->read->handler = ngx_http_race_ws_detached_read_handler;
    c->write->handler = ngx_http_race_ws_detached_write_handler;

    /* what came behind the handshake was copied at the upgrade */

    if (c->buffer && c->buffer->start
        && ngx_pfree(c->pool, c->buffer->start) == NGX_OK)
    {
        c->buffer->start = NULL;
        c->buffer->pos = NULL;
        c->buffer->last = NULL;
        c->buffer->end = NULL;
    }

    for (cl = hc->busy; cl; cl = cl->next) {
        (void) ngx_pfree(c->pool, cl->buf->start);
    }

    for (cl = hc->free; cl; cl = cl->next) {
        (void) ngx_pfree(c->pool, cl->buf->start);
    }

    hc->busy = NULL;
    hc->free = NULL;
    hc->nbusy = 0;

#if (NGX_DEBUG)

    /* what an idle socket keeps: t/ws_idle.t reads it */

    blocks = 0;
    large = 0;

    for (p = c->pool; p; p = p->d.next) {
        blocks++;
    }

    for (l = c->pool->large; l; l = l->next) {
        if (l->alloc) {
            large++;
        }
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "race: websocket's pool: %ui blocks, %ui large",
                   blocks, large);
#endif
}


static void
ngx_http_race_ws_free_in(ngx_http_race_ws_t *ws)
{
    if (ws->in == NULL) {
        return;
    }

    /* larger than the pool's blocks: a large allocation, given back */
    (void) ngx_pfree(ws->connection->pool, ws->in);

    ws->in = NULL;
    ws->in_pos = NULL;
    ws->in_last = NULL;
    ws->in_end = NULL;
}


/* the ring is full but may grow: twice as many, up to queue_max */

static ngx_int_t
ngx_http_race_ws_grow_queue(ngx_http_race_ws_t *ws)
{
    ngx_uint_t               i, size;
    ngx_http_race_frame_t  **queue;

    size = ngx_min(ws->queue_size * 2, ws->queue_max);

    queue = ngx_alloc(size * sizeof(ngx_http_race_frame_t *),
                      ws->connection->log);
    if (queue == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < ws->queue_count; i++) {
        queue[i] = ws->queue[(ws->queue_head + i) % ws->queue_size];
    }

    if (ws->queue != ws->queue_inline) {
        ngx_free(ws->queue);
    }

    ws->queue = queue;
    ws->queue_size = size;
    ws->queue_head = 0;

    return NGX_OK;
}


/* an empty queue goes back inline: a backlog's ring is not kept */

static void
ngx_http_race_ws_shrink_queue(ngx_http_race_ws_t *ws)
{
    if (ws->queue_count || ws->queue == ws->queue_inline) {
        return;
    }

    ngx_free(ws->queue);

    ws->queue = ws->queue_inline;
    ws->queue_size = ngx_min(ws->queue_max, NGX_HTTP_RACE_WS_QUEUE_INLINE);
    ws->queue_head = 0;
}


/* race_ws_echo: every message back as it came, for conformance tests */

static char *
ngx_http_race_ws_echo_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_race_endpoint(cf, cmd, ngx_http_race_ws_echo_handler, 0);
}


static ngx_int_t
ngx_http_race_ws_echo_handler(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_http_race_ws_t  *ws;

    rc = ngx_http_race_ws_upgrade(r, &ngx_http_race_ws_echo, NULL, &ws);

    if (ws == NULL) {
        return rc;
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_http_race_ws_echo_message(ngx_http_race_ws_t *ws, unsigned opcode,
    u_char *data, size_t len)
{
    /* the read loop keeps a queue slot free for this answer */
    return ngx_http_race_ws_send(ws, opcode, data, len) == NGX_ERROR
           ? NGX_ERROR : NGX_OK;
}


/*
 * A process's first SHA-1 through EVP sets up OpenSSL's library context
 * and default provider: some heap and about 2 MB of libcrypto's pages
 * (shared, but in the worker's RSS).  A handshake's accept key is one:
 * taken here, before any connection, the first spectator does not wait
 * for it, and a worker's memory grows per socket by the socket's own.
 */

static ngx_int_t
ngx_http_race_ws_init_process(ngx_cycle_t *cycle)
{
    u_char  accept[RACE_WS_ACCEPT_LEN];

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    race_ws_accept((u_char *) "ngx_race warm-up", 16, accept);

    return NGX_OK;
}


static void *
ngx_http_race_ws_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_race_ws_loc_conf_t  *wlcf;

    wlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_race_ws_loc_conf_t));
    if (wlcf == NULL) {
        return NULL;
    }

    wlcf->ws_origins = NGX_CONF_UNSET_PTR;
    wlcf->ws_max_message = NGX_CONF_UNSET_SIZE;
    wlcf->ws_send_queue = NGX_CONF_UNSET_UINT;
    wlcf->ws_ping_interval = NGX_CONF_UNSET_MSEC;
    wlcf->ws_idle_timeout = NGX_CONF_UNSET_MSEC;
    wlcf->ws_close_timeout = NGX_CONF_UNSET_MSEC;

    return wlcf;
}


static char *
ngx_http_race_ws_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_race_ws_loc_conf_t *prev = parent;
    ngx_http_race_ws_loc_conf_t *conf = child;

    ngx_conf_merge_ptr_value(conf->ws_origins, prev->ws_origins, NULL);
    ngx_conf_merge_size_value(conf->ws_max_message, prev->ws_max_message,
                              64 * 1024);
    ngx_conf_merge_uint_value(conf->ws_send_queue, prev->ws_send_queue, 64);
    ngx_conf_merge_msec_value(conf->ws_ping_interval, prev->ws_ping_interval,
                              30000);
    ngx_conf_merge_msec_value(conf->ws_idle_timeout, prev->ws_idle_timeout,
                              75000);
    ngx_conf_merge_msec_value(conf->ws_close_timeout, prev->ws_close_timeout,
                              5000);

    /* each value was checked at its directive; this is how they combine */

    if (conf->ws_ping_interval >= conf->ws_idle_timeout) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_ws_ping_interval\" (%Mms) must be less "
                           "than \"race_ws_idle_timeout\" (%Mms), or the "
                           "idle timeout fires before a ping is answered",
                           conf->ws_ping_interval, conf->ws_idle_timeout);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * An origin is what browsers send: scheme "://" host [":" port], in
 * lower case, no path.  Matching is exact, so a value that cannot
 * match is a mistake worth failing "nginx -t" for.
 */

static char *
ngx_http_race_ws_allow_origin(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_race_ws_loc_conf_t *wlcf = conf;

    ngx_str_t   *value, *origin;
    ngx_uint_t   i;

    if (wlcf->ws_origins != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    wlcf->ws_origins = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                        sizeof(ngx_str_t));
    if (wlcf->ws_origins == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_http_race_origin_valid(&value[i]) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid origin \"%V\" in "
                               "\"race_ws_allow_origin\": expected "
                               "\"https://host[:port]\" in lower case, "
                               "without a path", &value[i]);
            return NGX_CONF_ERROR;
        }

        origin = ngx_array_push(wlcf->ws_origins);
        if (origin == NULL) {
            return NGX_CONF_ERROR;
        }

        *origin = value[i];
    }

    return NGX_CONF_OK;
}


/* "http" or "https", "://", a host name or [IPv6], an optional port */

static ngx_int_t
ngx_http_race_origin_valid(ngx_str_t *origin)
{
    u_char      *p, *last;
    ngx_uint_t   digits;

    p = origin->data;
    last = p + origin->len;

    if (origin->len > 7 && ngx_strncmp(p, "http://", 7) == 0) {
        p += 7;

    } else if (origin->len > 8 && ngx_strncmp(p, "https://", 8) == 0) {
        p += 8;

    } else {
        return NGX_ERROR;
    }

    if (*p == '[') {
        for (p++; p < last && *p != ']'; p++) {
            if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')
                || *p == ':' || *p == '.')
            {
                continue;
            }

            return NGX_ERROR;
        }

        if (p == last || p[-1] == '[') {
            return NGX_ERROR;
        }

        p++;

    } else {
        for (digits = 0; p < last && *p != ':'; p++, digits++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
                || *p == '.' || *p == '-')
            {
                continue;
            }

            return NGX_ERROR;
        }

        if (digits == 0) {
            return NGX_ERROR;
        }
    }

    return ngx_http_race_port_valid(p, last);
}
