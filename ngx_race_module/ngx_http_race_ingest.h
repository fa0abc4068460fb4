
/*
 * ngx_race: /ride, where phones send fixes.
 */


#ifndef _NGX_HTTP_RACE_INGEST_H_INCLUDED_
#define _NGX_HTTP_RACE_INGEST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race.h"


ngx_int_t ngx_http_race_ingest_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_race_ingest_init_process(ngx_cycle_t *cycle,
    ngx_http_race_main_conf_t *rmcf);
void ngx_http_race_ingest_exit_process(ngx_cycle_t *cycle);


/* the token of an Authorization: Bearer header, the API's only way */
ngx_int_t ngx_http_race_bearer(ngx_http_request_t *r, ngx_str_t *token);
/* a WebSocket's token: Authorization first, then ?access_token */
ngx_int_t ngx_http_race_token(ngx_http_request_t *r, ngx_str_t *token);


#endif /* _NGX_HTTP_RACE_INGEST_H_INCLUDED_ */
