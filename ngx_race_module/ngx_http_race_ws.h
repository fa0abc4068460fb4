
/*
 * ngx_race: WebSocket connections on nginx's event loop.
 *
 * The handshake, the read loop over the codec, a bounded queue of
 * reference-counted frames to send, server pings, the idle timeout and
 * the close handshake.  Endpoints (echo, ride, live) plug in as a table
 * of callbacks.
 */


#ifndef _NGX_HTTP_RACE_WS_H_INCLUDED_
#define _NGX_HTTP_RACE_WS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race.h"
#include "race_ws.h"


/*
 * One encoded frame, header and payload, shared by every connection it
 * is queued on.  Whoever holds a reference releases it; the last release
 * frees it.
 */
typedef struct {
    ngx_uint_t                 refs;
    size_t                     len;
    u_char                    *data;
} ngx_http_race_frame_t;


/* ngx_http_race_ws_module's: every WebSocket endpoint's settings */
typedef struct {
    ngx_array_t               *ws_origins;    /* of ngx_str_t; NULL: any */
    size_t                     ws_max_message;
    ngx_uint_t                 ws_send_queue; /* frames per connection */
    ngx_msec_t                 ws_ping_interval;  /* 0: no server pings */
    ngx_msec_t                 ws_idle_timeout;
    ngx_msec_t                 ws_close_timeout;
} ngx_http_race_ws_loc_conf_t;


typedef struct ngx_http_race_ws_s  ngx_http_race_ws_t;


typedef struct {
    /*
     * A whole data message.  data is valid only during the call.
     * NGX_OK goes on; NGX_ERROR closes the connection with 1011 unless
     * the handler closed it itself.
     */
    ngx_int_t                (*message)(ngx_http_race_ws_t *ws,
                                        unsigned opcode, u_char *data,
                                        size_t len);

    /* the send queue has room again after it was full */
    void                     (*drain)(ngx_http_race_ws_t *ws);

    /* the connection is going away: release what the endpoint holds */
    void                     (*close)(ngx_http_race_ws_t *ws);

    /* where race_status counts its connections: NGX_HTTP_RACE_EP_* */
    ngx_uint_t                 endpoint;

    /*
     * 1: nothing of the endpoint's (data included) is in the request's
     * pool, so once the 101 is out the request is freed, as nginx frees
     * a keep-alive connection's, and the socket keeps only what it
     * needs (see ngx_http_race_ws_detach()).
     */
    ngx_uint_t                 detach;
} ngx_http_race_ws_handler_t;


#define NGX_HTTP_RACE_WS_QUEUE_INLINE  4


/*
 * In the connection's pool: it outlives the request, which is freed
 * once the 101 is out when the endpoint allows it (request NULL then).
 */
struct ngx_http_race_ws_s {
    ngx_http_request_t                *request;    /* NULL: detached */
    ngx_connection_t                  *connection;
    ngx_http_race_ws_loc_conf_t       *conf;
    const ngx_http_race_ws_handler_t  *handler;
    void                              *data;       /* the endpoint's */

    race_ws_parser_t                   parser;
    ngx_pool_cleanup_t                *cleanup;    /* in the request's */

    /* what was read: allocated for a read, released once parsed */
    u_char                            *in;
    u_char                            *in_pos;
    u_char                            *in_last;
    u_char                            *in_end;

    u_char                            *msg;        /* reassembly */
    size_t                             msg_len;
    size_t                             msg_size;
    unsigned                           msg_opcode;

    /* a ring; a few frames inline, more in a larger one while needed */
    ngx_http_race_frame_t            **queue;
    ngx_http_race_frame_t             *queue_inline[
                                           NGX_HTTP_RACE_WS_QUEUE_INLINE];
    ngx_uint_t                         queue_size;
    ngx_uint_t                         queue_max;
    ngx_uint_t                         queue_head;
    ngx_uint_t                         queue_count;
    size_t                             sent;       /* of the head frame */

    ngx_event_t                        timer;      /* ping, idle, close */
    ngx_msec_t                         last_read;

    unsigned                           close_sent:1;
    unsigned                           close_received:1;
    unsigned                           read_paused:1;
    unsigned                           read_held:1;  /* by the endpoint */
    unsigned                           want_drain:1;
    unsigned                           failed:1;     /* stream broken */
    unsigned                           finished:1;
};


ngx_http_race_frame_t *ngx_http_race_frame_create(ngx_log_t *log,
    unsigned opcode, const u_char *payload, size_t len);
void ngx_http_race_frame_release(ngx_http_race_frame_t *frame);

/*
 * Validates the handshake and answers 101.  Returns NGX_OK with *wsp set
 * (the caller returns NGX_DONE from its content handler), or an HTTP
 * status already sent with its reason (the caller returns it to
 * ngx_http_finalize_request), or NGX_ERROR.
 */
ngx_int_t ngx_http_race_ws_upgrade(ngx_http_request_t *r,
    const ngx_http_race_ws_handler_t *handler, void *data,
    ngx_http_race_ws_t **wsp);

/*
 * Queues a frame, taking a reference of its own.  NGX_AGAIN: the queue
 * is full and nothing was queued (the drain callback comes later).
 * NGX_DECLINED: the connection is closing.
 */
ngx_int_t ngx_http_race_ws_send_frame(ngx_http_race_ws_t *ws,
    ngx_http_race_frame_t *frame);
/*
 * As send_frame, but only while fewer than max frames wait (the head one
 * may be partly sent): for a stream whose newest frame makes up for the
 * ones it missed, which sends it on drain instead of queueing behind.
 */
ngx_int_t ngx_http_race_ws_send_latest(ngx_http_race_ws_t *ws,
    ngx_http_race_frame_t *frame, ngx_uint_t max);
ngx_int_t ngx_http_race_ws_send(ngx_http_race_ws_t *ws, unsigned opcode,
    const u_char *data, size_t len);

/*
 * The endpoint stops reading from the peer (TCP pushes back) until it
 * resumes it; meanwhile the peer is not counted as idle.  Control frames
 * wait too: a held connection is resumed, or closed, by the endpoint.
 */
void ngx_http_race_ws_hold(ngx_http_race_ws_t *ws);
void ngx_http_race_ws_resume(ngx_http_race_ws_t *ws);

/* starts the close handshake with this status */
void ngx_http_race_ws_close(ngx_http_race_ws_t *ws, ngx_uint_t code,
    const char *reason);

#endif /* _NGX_HTTP_RACE_WS_H_INCLUDED_ */
