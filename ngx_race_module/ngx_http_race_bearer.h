
/*
 * ngx_race: where a request carries its token.  It knows nothing else
 * of the module.
 */


#ifndef _NGX_HTTP_RACE_BEARER_H_INCLUDED_
#define _NGX_HTTP_RACE_BEARER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the token of an Authorization: Bearer header, the API's only way */
ngx_int_t ngx_http_race_bearer(ngx_http_request_t *r, ngx_str_t *token);
/* a WebSocket's token: Authorization first, then ?access_token */
ngx_int_t ngx_http_race_token(ngx_http_request_t *r, ngx_str_t *token);


#endif /* _NGX_HTTP_RACE_BEARER_H_INCLUDED_ */
