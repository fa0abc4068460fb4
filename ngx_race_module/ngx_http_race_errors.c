
/*
 * ngx_race: nginx's own error answers, in the race locations, in the
 * shape of every other error there (PROTOCOL.md):
 *
 *     {"error":{"code":"...","message":"..."}}
 *
 * nginx answers some requests before or instead of the module: a body
 * over client_max_body_size, a malformed chunked body, limit_req and
 * limit_conn, "return" and "deny", a handler's NGX_HTTP_* code.  Those
 * come through ngx_http_special_response_handler() as an HTML page with
 * r->err_status set.  This filter sees such a response in a location of
 * the module's (json_errors), swaps its headers and body for the JSON,
 * and lets everything else pass.  An error_page of the configuration
 * moves the request to its own location first, and so still wins.
 *
 * What nginx refuses before it picks a location (a request line or
 * headers over large_client_header_buffers: 414, 400) keeps nginx's
 * page: the location that would have served it is not known yet.
 *
 * It is a module of its own, in the same shared object, for its own
 * per-request context.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race.h"


typedef struct {
    ngx_buf_t                 *json;          /* NULL: sent */
} ngx_http_race_errors_ctx_t;


typedef struct {
    ngx_uint_t                 status;
    const char                *code;
    const char                *message;
} ngx_http_race_errors_text_t;


static ngx_int_t ngx_http_race_errors_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_race_errors_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_race_errors_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_buf_t *ngx_http_race_errors_json(ngx_http_request_t *r,
    ngx_uint_t status);


/* messages say what a client can do; nothing of the server's inside */

static ngx_http_race_errors_text_t  ngx_http_race_errors_texts[] = {
    { NGX_HTTP_BAD_REQUEST, "bad_request", "the request is malformed" },
    { NGX_HTTP_UNAUTHORIZED, "unauthorized", "authentication is required" },
    { NGX_HTTP_FORBIDDEN, "forbidden", "this is not allowed" },
    { NGX_HTTP_NOT_FOUND, "not_found", "there is nothing here" },
    { NGX_HTTP_NOT_ALLOWED, "method_not_allowed",
      "this method is not allowed here" },
    { NGX_HTTP_REQUEST_TIME_OUT, "timeout", "the request came too slowly" },
    { NGX_HTTP_LENGTH_REQUIRED, "length_required",
      "the body needs a length" },
    { NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large", NULL },
    { NGX_HTTP_REQUEST_URI_TOO_LARGE, "uri_too_long", "the URI is too long" },
    { NGX_HTTP_UNSUPPORTED_MEDIA_TYPE, "bad_content_type",
      "this content type is not accepted here" },
    { NGX_HTTP_RANGE_NOT_SATISFIABLE, "bad_range",
      "the range is not satisfiable" },
    { 429, "too_many_requests", "slow down and try again" },
    { NGX_HTTP_INTERNAL_SERVER_ERROR, "internal",
      "something went wrong on our side" },
    { NGX_HTTP_NOT_IMPLEMENTED, "not_implemented", "this is not implemented" },
    { NGX_HTTP_BAD_GATEWAY, "unavailable", "try again in a moment" },
    { NGX_HTTP_SERVICE_UNAVAILABLE, "unavailable", "try again in a moment" },
    { NGX_HTTP_GATEWAY_TIME_OUT, "timeout",
      "a service did not answer in time" },
    { 0, "error", "the request failed" }
};


static ngx_http_module_t  ngx_http_race_errors_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_race_errors_init,             /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_race_errors_module = {
    NGX_MODULE_V1,
    &ngx_http_race_errors_module_ctx,      /* module context */
    NULL,                                  /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_int_t
ngx_http_race_errors_header_filter(ngx_http_request_t *r)
{
    ngx_http_race_loc_conf_t    *rlcf;
    ngx_http_race_errors_ctx_t  *ctx;

    /*
     * nginx's own answer: err_status is set, and the type is its HTML
     * page's, or none for a page without a body.  The module's answers
     * and an error_page's own JSON are application/json and pass.
     */

    if (r->err_status < NGX_HTTP_BAD_REQUEST
        || r->headers_out.status < NGX_HTTP_BAD_REQUEST
        || r != r->main)
    {
        return ngx_http_next_header_filter(r);
    }

    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_race_module);

    if (rlcf == NULL || rlcf->json_errors != 1) {
        return ngx_http_next_header_filter(r);
    }

    if (r->headers_out.content_type.len
        && !(r->headers_out.content_type.len == sizeof("text/html") - 1
             && ngx_strncmp(r->headers_out.content_type.data, "text/html",
                            sizeof("text/html") - 1) == 0))
    {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_race_errors_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->json = ngx_http_race_errors_json(r, r->headers_out.status);
    if (ctx->json == NULL) {
        return NGX_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_race_errors_module);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "race errors: %ui in JSON", r->headers_out.status);

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    r->headers_out.content_length_n = ctx->json->last - ctx->json->pos;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_race_errors_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t                   *b;
    ngx_chain_t                 *cl, out;
    ngx_http_race_errors_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_race_errors_module);

    if (ctx == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    /* nginx's page is dropped, the JSON goes in its place, once */

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;
        b->pos = b->last;

        if (b->in_file) {
            b->file_pos = b->file_last;
        }
    }

    if (ctx->json == NULL) {
        return ngx_http_next_body_filter(r, NULL);
    }

    out.buf = ctx->json;
    out.next = NULL;

    ctx->json = NULL;

    return ngx_http_next_body_filter(r, &out);
}


static ngx_buf_t *
ngx_http_race_errors_json(ngx_http_request_t *r, ngx_uint_t status)
{
    off_t                         size;
    u_char                       *p;
    size_t                        len, code_len;
    ngx_buf_t                    *b;
    ngx_str_t                     message;
    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_race_errors_text_t  *t;
    u_char                        limit[sizeof("the body is over the limit "
                                               "of  bytes") - 1
                                        + NGX_OFF_T_LEN];

    for (t = ngx_http_race_errors_texts; t->status; t++) {
        if (t->status == status) {
            break;
        }
    }

    if (t->message) {
        message.data = (u_char *) t->message;
        message.len = ngx_strlen(t->message);

    } else {
        /* 413: the limit of this location, as its directive would say */

        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
        size = clcf->client_max_body_size;

        p = ngx_cpymem(limit, "the body is over the limit of ",
                       sizeof("the body is over the limit of ") - 1);

        if (size && size % (1024 * 1024) == 0) {
            p = ngx_sprintf(p, "%Om", size / (1024 * 1024));

        } else if (size && size % 1024 == 0) {
            p = ngx_sprintf(p, "%Ok", size / 1024);

        } else {
            p = ngx_sprintf(p, "%O bytes", size);
        }

        message.data = limit;
        message.len = p - limit;
    }

    code_len = ngx_strlen(t->code);

    /* neither has anything to escape: both are written above */

    len = sizeof("{\"error\":{\"code\":\"\",\"message\":\"\"}}\n") - 1
          + code_len + message.len;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NULL;
    }

    b->last = ngx_cpymem(b->last, "{\"error\":{\"code\":\"",
                         sizeof("{\"error\":{\"code\":\"") - 1);
    b->last = ngx_cpymem(b->last, t->code, code_len);
    b->last = ngx_cpymem(b->last, "\",\"message\":\"",
                         sizeof("\",\"message\":\"") - 1);
    b->last = ngx_cpymem(b->last, message.data, message.len);
    b->last = ngx_cpymem(b->last, "\"}}\n", sizeof("\"}}\n") - 1);

    b->last_buf = 1;
    b->last_in_chain = 1;

    return b;
}


static ngx_int_t
ngx_http_race_errors_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_race_errors_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_race_errors_body_filter;

    return NGX_OK;
}
