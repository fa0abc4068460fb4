
/*
 * ngx_race: the accounts API, /api/auth/... and /api/me.
 */


#ifndef _NGX_HTTP_RACE_API_H_INCLUDED_
#define _NGX_HTTP_RACE_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race.h"


ngx_int_t ngx_http_race_api_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_race_api_init_process(ngx_cycle_t *cycle,
    ngx_http_race_main_conf_t *rmcf);
void ngx_http_race_api_exit_process(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_RACE_API_H_INCLUDED_ */
