
/*
 * ngx_race: answers a handler sends, in the shape PROTOCOL.md gives
 * them.  It knows nothing else of the module.
 */


#ifndef _NGX_HTTP_RACE_REPLY_H_INCLUDED_
#define _NGX_HTTP_RACE_REPLY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>


ngx_int_t ngx_http_race_add_header(ngx_http_request_t *r, char *key,
    char *value);

/*
 * Sends {"error":{"code":..,"message":..}} with the status; returns what
 * a content handler returns.
 */
ngx_int_t ngx_http_race_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message);

/*
 * Sends body (NULL: none, for a 204 only; otherwise a json_pack() that
 * failed, and 500), never to be stored by a cache; takes the reference
 * to body whatever happens, and wipes its text once copied:
 * it may carry a token.  Returns what ngx_http_output_filter() does,
 * or NGX_HTTP_INTERNAL_SERVER_ERROR.
 */
ngx_int_t ngx_http_race_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *body);

/* the same with a JSON text, copied (NULL: no body) */
ngx_int_t ngx_http_race_send_json_text(ngx_http_request_t *r,
    ngx_uint_t status, const char *text, size_t len);

/* the same with a text of that Content-Type (a C string), copied */
ngx_int_t ngx_http_race_send_text(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, const char *text, size_t len);


#endif /* _NGX_HTTP_RACE_REPLY_H_INCLUDED_ */
