
/*
 * ngx_race: the API's channel to race-accounts: a command goes through
 * the queue, its reply comes back on this worker process's own Redis
 * channel, to the request still waiting for it.
 */


#ifndef _NGX_HTTP_RACE_API_CHANNEL_H_INCLUDED_
#define _NGX_HTTP_RACE_API_CHANNEL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>


/* how a wait ends */
#define NGX_HTTP_RACE_API_REPLIED    0    /* reply is race-accounts' */
#define NGX_HTTP_RACE_API_NOT_TAKEN  1    /* the queue never took it */
#define NGX_HTTP_RACE_API_TIMEDOUT   2    /* no reply in time */


typedef struct ngx_http_race_api_wait_s  ngx_http_race_api_wait_t;

/* once per command, on the event loop; reply only with REPLIED */
typedef void (*ngx_http_race_api_wait_pt)(ngx_http_race_api_wait_t *w,
    ngx_uint_t how, json_t *reply);

struct ngx_http_race_api_wait_s {
    ngx_rbtree_node_t                 node;       /* key: the command id */
    ngx_event_t                       timer;
    ngx_http_race_api_wait_pt         handler;
    void                             *data;
    unsigned                          waiting:1;
};


ngx_int_t ngx_http_race_api_channel_init(ngx_cycle_t *cycle,
    ngx_msec_t reply_timeout);
void ngx_http_race_api_channel_exit(void);

/*
 * Sends cmd (taken) keyed by key, for w's handler to hear how it ends.
 * NGX_OK: sent; NGX_DECLINED: the channel or the queue is down;
 * NGX_ERROR.
 */
ngx_int_t ngx_http_race_api_channel_send(ngx_http_race_api_wait_t *w,
    json_t *cmd, const char *key, ngx_log_t *log);
/* the same with cmd's text, an object without req, reply and deadline */
ngx_int_t ngx_http_race_api_channel_send_text(ngx_http_race_api_wait_t *w,
    const char *text, size_t len, const char *key, ngx_log_t *log);

/* w's handler will not run: the request goes */
void ngx_http_race_api_channel_cancel(ngx_http_race_api_wait_t *w);


#endif /* _NGX_HTTP_RACE_API_CHANNEL_H_INCLUDED_ */
