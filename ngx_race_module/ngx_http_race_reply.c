
/*
 * ngx_race: answers a handler sends, in the shape PROTOCOL.md gives
 * them.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_race_reply.h"


ngx_int_t
ngx_http_race_add_header(ngx_http_request_t *r, char *key, char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);

    return NGX_OK;
}


ngx_int_t
ngx_http_race_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message)
{
    size_t       len, code_len, message_len;
    ngx_buf_t   *b;
    ngx_int_t    rc;
    ngx_chain_t  out;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    code_len = ngx_strlen(code);
    message_len = ngx_strlen(message);

    len = sizeof("{\"error\":{\"code\":\"\",\"message\":\"\"}}\n") - 1
          + code_len + ngx_escape_json(NULL, (u_char *) code, code_len)
          + message_len
          + ngx_escape_json(NULL, (u_char *) message, message_len);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, "{\"error\":{\"code\":\"",
                         sizeof("{\"error\":{\"code\":\"") - 1);
    b->last = (u_char *) ngx_escape_json(b->last, (u_char *) code,
                                         code_len);
    b->last = ngx_cpymem(b->last, "\",\"message\":\"",
                         sizeof("\",\"message\":\"") - 1);
    b->last = (u_char *) ngx_escape_json(b->last, (u_char *) message,
                                         message_len);
    b->last = ngx_cpymem(b->last, "\"}}\n", sizeof("\"}}\n") - 1);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_race_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *body)
{
    char       *text;
    size_t      len;
    ngx_int_t   rc;

    if (body == NULL) {
        /*
         * No body is a 204's; for any other status it is a json_pack()
         * that failed, out of memory: never an empty success
         */
        if (status != NGX_HTTP_NO_CONTENT) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_race_send_json_text(r, status, NULL, 0);
    }

    text = json_dumps(body, JSON_COMPACT);
    json_decref(body);

    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(text);

    rc = ngx_http_race_send_json_text(r, status, text, len);

    ngx_explicit_memzero(text, len);
    free(text);

    return rc;
}


ngx_int_t
ngx_http_race_send_json_text(ngx_http_request_t *r, ngx_uint_t status,
    const char *text, size_t len)
{
    return ngx_http_race_send_text(r, status, "application/json", text, len);
}


ngx_int_t
ngx_http_race_send_text(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, const char *text, size_t len)
{
    u_char       *p;
    ngx_buf_t    *b;
    ngx_int_t     rc;
    ngx_chain_t   out;

    if (ngx_http_race_add_header(r, "Cache-Control", "no-store") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = status;

    if (text == NULL) {
        r->header_only = 1;
        r->headers_out.content_length_n = 0;
        return ngx_http_send_header(r);
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, text, len);
    b->last_buf = 1;
    b->last_in_chain = 1;

    r->headers_out.content_length_n = len;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);

    /* the type without its parameters, as nginx keeps it */
    p = ngx_strlchr((u_char *) type, (u_char *) type + ngx_strlen(type), ';');
    r->headers_out.content_type_len = p ? (size_t) (p - (u_char *) type)
                                        : r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
