
/*
 * ngx_race: where a request carries its token.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race_bearer.h"


ngx_int_t
ngx_http_race_bearer(ngx_http_request_t *r, ngx_str_t *token)
{
    ngx_str_t         value;
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h == NULL) {
        return NGX_DECLINED;
    }

    value = h->value;

    if (value.len <= sizeof("Bearer ") - 1
        || ngx_strncasecmp(value.data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) != 0)
    {
        return NGX_DECLINED;
    }

    token->data = value.data + sizeof("Bearer ") - 1;
    token->len = value.len - (sizeof("Bearer ") - 1);

    while (token->len && *token->data == ' ') {
        token->data++;
        token->len--;
    }

    return token->len ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_http_race_token(ngx_http_request_t *r, ngx_str_t *token)
{
    if (r->headers_in.authorization) {
        return ngx_http_race_bearer(r, token);
    }

    /*
     * Browsers cannot set headers on a WebSocket: the query carries the
     * token there.  The request line that logs show has it redacted
     * (ngx_http_race_redact()).
     */

    if (ngx_http_arg(r, (u_char *) "access_token",
                     sizeof("access_token") - 1, token)
        == NGX_OK && token->len)
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}
