
/*
 * ngx_race: ngx_http_race_module, its directives and configuration.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race.h"
#include "ngx_http_race_ws.h"


static void *ngx_http_race_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_race_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_race_ws_echo(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_race_ws_allow_origin(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);


static ngx_conf_num_bounds_t  ngx_http_race_send_queue_bounds = {
    ngx_conf_check_num_bounds, 1, 65536
};


static ngx_command_t  ngx_http_race_commands[] = {

    { ngx_string("race_ws_echo"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_race_ws_echo,
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
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_loc_conf_t, ws_max_message),
      NULL },

    { ngx_string("race_ws_send_queue"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_loc_conf_t, ws_send_queue),
      &ngx_http_race_send_queue_bounds },

    { ngx_string("race_ws_ping_interval"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_loc_conf_t, ws_ping_interval),
      NULL },

    { ngx_string("race_ws_idle_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_loc_conf_t, ws_idle_timeout),
      NULL },

    { ngx_string("race_ws_close_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_race_loc_conf_t, ws_close_timeout),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_race_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_race_create_loc_conf,         /* create location configuration */
    ngx_http_race_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_race_module = {
    NGX_MODULE_V1,
    &ngx_http_race_module_ctx,             /* module context */
    ngx_http_race_commands,                /* module directives */
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


static void *
ngx_http_race_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_race_loc_conf_t  *rlcf;

    rlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_race_loc_conf_t));
    if (rlcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     rlcf->ws_origins = NULL;
     */

    rlcf->ws_origins = NGX_CONF_UNSET_PTR;
    rlcf->ws_max_message = NGX_CONF_UNSET_SIZE;
    rlcf->ws_send_queue = NGX_CONF_UNSET_UINT;
    rlcf->ws_ping_interval = NGX_CONF_UNSET_MSEC;
    rlcf->ws_idle_timeout = NGX_CONF_UNSET_MSEC;
    rlcf->ws_close_timeout = NGX_CONF_UNSET_MSEC;

    return rlcf;
}


static char *
ngx_http_race_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_race_loc_conf_t *prev = parent;
    ngx_http_race_loc_conf_t *conf = child;

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

    if (conf->ws_max_message < 125 || conf->ws_max_message > 64 * 1024 * 1024)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_ws_max_message\" must be between 125 "
                           "and 64m, not %uz", conf->ws_max_message);
        return NGX_CONF_ERROR;
    }

    if (conf->ws_idle_timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_ws_idle_timeout\" must not be 0");
        return NGX_CONF_ERROR;
    }

    if (conf->ws_ping_interval >= conf->ws_idle_timeout) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_ws_ping_interval\" %M must be less than "
                           "\"race_ws_idle_timeout\" %M, or the idle "
                           "timeout fires before a ping is answered",
                           conf->ws_ping_interval, conf->ws_idle_timeout);
        return NGX_CONF_ERROR;
    }

    if (conf->ws_close_timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_ws_close_timeout\" must not be 0");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_race_ws_echo(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate or conflicts with another handler";
    }

    clcf->handler = ngx_http_race_ws_echo_handler;

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
    ngx_http_race_loc_conf_t *rlcf = conf;

    u_char      *p, *host, *last;
    ngx_str_t   *value, *origin;
    ngx_uint_t   i;

    if (rlcf->ws_origins != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    rlcf->ws_origins = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                        sizeof(ngx_str_t));
    if (rlcf->ws_origins == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        p = value[i].data;
        last = p + value[i].len;

        if (value[i].len > 7 && ngx_strncmp(p, "http://", 7) == 0) {
            host = p + 7;

        } else if (value[i].len > 8 && ngx_strncmp(p, "https://", 8) == 0) {
            host = p + 8;

        } else {
            goto invalid;
        }

        for (p = host; p < last; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
                || *p == '.' || *p == '-' || *p == ':' || *p == '['
                || *p == ']')
            {
                continue;
            }

            goto invalid;
        }

        origin = ngx_array_push(rlcf->ws_origins);
        if (origin == NULL) {
            return NGX_CONF_ERROR;
        }

        *origin = value[i];
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid origin \"%V\" in \"race_ws_allow_origin\": "
                       "expected \"https://host[:port]\" in lower case, "
                       "without a path", &value[i]);

    return NGX_CONF_ERROR;
}


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
