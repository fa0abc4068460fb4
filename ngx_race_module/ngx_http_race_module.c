/*
 * ngx_race: ngx_http_race_module, what the race modules share: the
 * queue, the worker's Redis pair, the token keys, the JSON errors of
 * their locations, and the redaction of tokens from logged request
 * lines.  It names no endpoint: each is a module of its own (ws, ingest,
 * live, api) in the same shared object, that comes after this one.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_race.h"
#include "race_fix.h"
#include "ngx_http_race_kafka.h"
#include "ngx_http_race_redis.h"


static void *ngx_http_race_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_race_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_race_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_race_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_race_kafka_brokers(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_race_broker_valid(u_char *p, u_char *last);
static char *ngx_http_race_kafka_topic(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_race_kafka_option(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
#if (NGX_HTTP_RACE_TEST)
static char *ngx_http_race_kafka_test(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
#endif
static char *ngx_http_race_token_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_race_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_race_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_race_redact(ngx_http_request_t *r);
static size_t ngx_http_race_redact_query(u_char *dst, u_char *p,
    u_char *last, ngx_uint_t *found);
static ngx_int_t ngx_http_race_init_process(ngx_cycle_t *cycle);
static void ngx_http_race_exit_process(ngx_cycle_t *cycle);


static ngx_http_race_conf_value_t  ngx_http_race_redis_timeout_value = {
    NGX_HTTP_RACE_CONF_MSEC, 100, 600000,
    "a time from 100ms to 10m"
};


static ngx_command_t  ngx_http_race_commands[] = {

    { ngx_string("race_kafka_brokers"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_kafka_brokers,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("race_kafka_topic"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_kafka_topic,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_main_conf_t, kafka_topic),
      NULL },

    { ngx_string("race_kafka_accounts_topic"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_kafka_topic,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_main_conf_t, kafka_accounts_topic),
      NULL },

    { ngx_string("race_kafka_option"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_race_kafka_option,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

#if (NGX_HTTP_RACE_TEST)

    /* test builds only: see ngx_http_race_kafka.c */
    { ngx_string("race_kafka_test_fatal"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_race_kafka_test,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

#endif

    { ngx_string("race_token_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_race_token_key,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("race_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("race_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_race_conf_set_value,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_race_main_conf_t, redis_timeout),
      &ngx_http_race_redis_timeout_value },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_race_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_race_postconfiguration,       /* postconfiguration */

    ngx_http_race_create_main_conf,        /* create main configuration */
    ngx_http_race_init_main_conf,          /* init main configuration */

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
    ngx_http_race_init_process,            /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_race_exit_process,            /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/*
 * nginx never frees a worker's connection and event arrays: the process
 * exits with them.  Once the cycle's pool is gone nothing points at them
 * and a leak checker may report them; a pointer kept here shows them as
 * nginx's own, in use to the end.  Not static: stores to it stay.
 */

void  *ngx_http_race_exit_keep[3];


const ngx_http_race_queue_t  *ngx_http_race_queue;


/* endpoints that hold the shared connections: the last stops them */
static ngx_uint_t  ngx_http_race_holds;


static void *
ngx_http_race_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_race_main_conf_t  *rmcf;

    rmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_race_main_conf_t));
    if (rmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     rmcf->kafka_brokers = { 0, NULL };
     *     rmcf->kafka_topic = { 0, NULL };
     *     rmcf->kafka_options = NULL;
     *     rmcf->token_keys = NULL;
     *     rmcf->redis = NULL;
     *     rmcf->needs = 0;
     */

    if (ngx_array_init(&rmcf->endpoints, cf->pool, 4,
                       sizeof(ngx_http_race_endpoint_t))
        != NGX_OK)
    {
        return NULL;
    }

    rmcf->redis_timeout = NGX_CONF_UNSET_MSEC;

    return rmcf;
}


static char *
ngx_http_race_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_race_main_conf_t *rmcf = conf;

    ngx_uint_t                 i;
    ngx_http_race_endpoint_t  *ep;

    if (rmcf->kafka_topic.len == 0) {
        ngx_str_set(&rmcf->kafka_topic, "race.fixes");
    }

    if (rmcf->kafka_accounts_topic.len == 0) {
        ngx_str_set(&rmcf->kafka_accounts_topic, "race.accounts");
    }

    ngx_conf_init_msec_value(rmcf->redis_timeout, 3000);

    /* each endpoint used, in the order met, and what it lacks */

    ep = rmcf->endpoints.elts;

    for (i = 0; i < rmcf->endpoints.nelts; i++) {

        if ((ep[i].needs & NGX_HTTP_RACE_NEEDS_QUEUE)
            && rmcf->kafka_brokers.len == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" needs \"race_kafka_brokers\"",
                               &ep[i].name);
            return NGX_CONF_ERROR;
        }

        if ((ep[i].needs & NGX_HTTP_RACE_NEEDS_REDIS)
            && rmcf->redis == NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" needs \"race_redis\"", &ep[i].name);
            return NGX_CONF_ERROR;
        }

        if ((ep[i].needs & NGX_HTTP_RACE_NEEDS_KEYS)
            && rmcf->token_keys == NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" needs a \"race_token_key\"",
                               &ep[i].name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_race_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_race_loc_conf_t  *rlcf;

    rlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_race_loc_conf_t));
    if (rlcf == NULL) {
        return NULL;
    }

    rlcf->json_errors = NGX_CONF_UNSET;

    return rlcf;
}


static char *
ngx_http_race_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_race_loc_conf_t *prev = parent;
    ngx_http_race_loc_conf_t *conf = child;

    /* "if" and "limit_except" blocks of a race location are its own */
    ngx_conf_merge_value(conf->json_errors, prev->json_errors, 0);

    return NGX_CONF_OK;
}


char *
ngx_http_race_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_handler_pt handler, ngx_uint_t needs)
{
    ngx_uint_t                  i;
    ngx_http_race_endpoint_t   *ep;
    ngx_http_race_loc_conf_t   *rlcf;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_race_main_conf_t  *rmcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate or conflicts with another handler";
    }

    clcf->handler = handler;

    rlcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_race_module);
    rlcf->json_errors = 1;

    if (needs == 0) {
        return NGX_CONF_OK;
    }

    /* init_main_conf checks what each endpoint used needs */

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_race_module);

    rmcf->needs |= needs;

    ep = rmcf->endpoints.elts;

    for (i = 0; i < rmcf->endpoints.nelts; i++) {
        if (ep[i].name.len == cmd->name.len
            && ngx_strncmp(ep[i].name.data, cmd->name.data, cmd->name.len)
               == 0)
        {
            return NGX_CONF_OK;
        }
    }

    ep = ngx_array_push(&rmcf->endpoints);
    if (ep == NULL) {
        return NGX_CONF_ERROR;
    }

    ep->name = cmd->name;
    ep->needs = needs;

    return NGX_CONF_OK;
}


#if (NGX_HTTP_RACE_TEST)

static char *
ngx_http_race_kafka_test(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_race_endpoint(cf, cmd,
                                  ngx_http_race_kafka_test_fatal_handler, 0);
}

#endif


static ngx_int_t
ngx_http_race_init_process(ngx_cycle_t *cycle)
{
    ngx_http_race_main_conf_t  *rmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        /* cache manager and loader serve no clients */
        return NGX_OK;
    }

    rmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_race_module);
    if (rmcf == NULL) {
        return NGX_OK;
    }

    /* what the endpoints share, before their own init_process */

    if (rmcf->needs & NGX_HTTP_RACE_NEEDS_QUEUE) {
        if (ngx_http_race_kafka_queue.init_process(cycle, rmcf) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_race_queue = &ngx_http_race_kafka_queue;
    }

    if ((rmcf->needs & NGX_HTTP_RACE_NEEDS_REDIS)
        && ngx_http_race_redis_pair_start(cycle, &rmcf->redis->addrs[0],
                                          rmcf->redis_timeout)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_race_shared_hold(void)
{
    ngx_http_race_holds++;
}


void
ngx_http_race_shared_release(ngx_cycle_t *cycle)
{
    if (ngx_http_race_holds == 0 || --ngx_http_race_holds) {
        return;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, cycle->log, 0,
                   "race: the last endpoint let go, shared connections stop");

    ngx_http_race_redis_pair_stop();

    /* last: its final reports go to senders that have let go */
    if (ngx_http_race_queue) {
        ngx_http_race_queue->exit_process(cycle);
        ngx_http_race_queue = NULL;
    }
}


static void
ngx_http_race_exit_process(ngx_cycle_t *cycle)
{
    /*
     * This comes before the endpoints' exit_process: the shared
     * connections stop at the last ngx_http_race_shared_release().
     */

    ngx_http_race_exit_keep[0] = cycle->connections;
    ngx_http_race_exit_keep[1] = cycle->read_events;
    ngx_http_race_exit_keep[2] = cycle->write_events;
}


/* what may end a host: nothing, or ":" and a port from 1 to 65535 */

ngx_int_t
ngx_http_race_port_valid(u_char *p, u_char *last)
{
    ngx_uint_t  port;

    if (p == last) {
        return NGX_OK;
    }

    if (*p++ != ':' || p == last || last - p > 5) {
        return NGX_ERROR;
    }

    port = 0;

    for ( /* void */ ; p < last; p++) {
        if (*p < '0' || *p > '9') {
            return NGX_ERROR;
        }

        port = port * 10 + (*p - '0');
    }

    return (port >= 1 && port <= 65535) ? NGX_OK : NGX_ERROR;
}


char *
ngx_http_race_conf_set_value(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    size_t                      *sp;
    ngx_int_t                    n;
    ngx_str_t                   *value;
    ngx_uint_t                  *np;
    ngx_msec_t                  *mp;
    ngx_http_race_conf_value_t  *v;

    v = cmd->post;
    value = cf->args->elts;

    sp = NULL;
    np = NULL;
    mp = NULL;

    switch (v->type) {

    case NGX_HTTP_RACE_CONF_SIZE:
        sp = (size_t *) (p + cmd->offset);
        if (*sp != NGX_CONF_UNSET_SIZE) {
            return "is duplicate";
        }

        n = ngx_parse_size(&value[1]);
        break;

    case NGX_HTTP_RACE_CONF_NUM:
        np = (ngx_uint_t *) (p + cmd->offset);
        if (*np != NGX_CONF_UNSET_UINT) {
            return "is duplicate";
        }

        n = ngx_atoi(value[1].data, value[1].len);
        break;

    default: /* NGX_HTTP_RACE_CONF_MSEC */
        mp = (ngx_msec_t *) (p + cmd->offset);
        if (*mp != NGX_CONF_UNSET_MSEC) {
            return "is duplicate";
        }

        n = ngx_parse_time(&value[1], 0);
        break;
    }

    if (n == NGX_ERROR || (ngx_uint_t) n < v->min || (ngx_uint_t) n > v->max)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must be %s, not \"%V\"",
                           &cmd->name, v->expected, &value[1]);
        return NGX_CONF_ERROR;
    }

    if (sp) {
        *sp = (size_t) n;

    } else if (np) {
        *np = (ngx_uint_t) n;

    } else {
        *mp = (ngx_msec_t) n;
    }

    return NGX_CONF_OK;
}


/*
 * race_kafka_brokers [proto://]host[:port],...: librdkafka resolves the
 * names, and again when brokers move, so only the form is checked
 * here; an empty list would pass librdkafka and never connect.
 */

static char *
ngx_http_race_kafka_brokers(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_race_main_conf_t *rmcf = conf;

    u_char     *p, *last, *comma;
    ngx_str_t  *value;

    if (rmcf->kafka_brokers.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = value[1].data;
    last = p + value[1].len;

    for ( ;; ) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        if (ngx_http_race_broker_valid(p, comma) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"race_kafka_brokers\" \"%V\": "
                               "expected \"host[:port]\", comma separated",
                               &value[1]);
            return NGX_CONF_ERROR;
        }

        if (comma == last) {
            break;
        }

        p = comma + 1;
    }

    rmcf->kafka_brokers = value[1];

    return NGX_CONF_OK;
}


/* an optional "SASL_SSL://", a host name or [IPv6], an optional port */

static ngx_int_t
ngx_http_race_broker_valid(u_char *p, u_char *last)
{
    u_char  *s;

    for (s = p; s < last; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')
              || *s == '_'))
        {
            break;
        }
    }

    if (s > p && last - s > 3 && ngx_strncmp(s, "://", 3) == 0) {
        p = s + 3;
    }

    if (p < last && *p == '[') {
        for (p++; p < last && *p != ']'; p++) {
            if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')
                || (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.')
            {
                continue;
            }

            return NGX_ERROR;
        }

        if (p == last || p[-1] == '[') {
            return NGX_ERROR;
        }

        p++;

    } else {
        for (s = p; p < last && *p != ':'; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'
                || *p == '_')
            {
                continue;
            }

            return NGX_ERROR;
        }

        if (p == s) {
            return NGX_ERROR;
        }
    }

    return ngx_http_race_port_valid(p, last);
}


static char *
ngx_http_race_kafka_topic(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *base = conf;

    ngx_str_t  *value, *topic;

    topic = (ngx_str_t *) (base + cmd->offset);

    if (topic->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* Kafka's own rule for topic names */

    if (!race_id_topic_valid((char *) value[1].data, value[1].len)) {
        goto invalid;
    }

    *topic = value[1];

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid \"%V\" \"%V\": a topic is 1 to 249 of "
                       "[A-Za-z0-9._-], other than \".\" and \"..\"",
                       &cmd->name, &value[1]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_race_kafka_option(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_race_main_conf_t *rmcf = conf;

    ngx_str_t     *value;
    ngx_keyval_t  *kv;

    value = cf->args->elts;

    /* "metadata.broker.list" is librdkafka's other name for it */

    if (ngx_strcmp(value[1].data, "bootstrap.servers") == 0
        || ngx_strcmp(value[1].data, "metadata.broker.list") == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_kafka_option\" cannot set \"%V\": "
                           "use \"race_kafka_brokers\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_race_kafka_check_option(cf, &value[1], &value[2])
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (rmcf->kafka_options == NULL) {
        rmcf->kafka_options = ngx_array_create(cf->pool, 4,
                                               sizeof(ngx_keyval_t));
        if (rmcf->kafka_options == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    kv = ngx_array_push(rmcf->kafka_options);
    if (kv == NULL) {
        return NGX_CONF_ERROR;
    }

    kv->key = value[1];
    kv->value = value[2];

    return NGX_CONF_OK;
}


/*
 * race_token_key kid file: the secret is read once, here, at
 * configuration time; it never reaches a log.
 */

static char *
ngx_http_race_token_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_race_main_conf_t *rmcf = conf;

    u_char           *secret;
    size_t            len;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t        *value, file;
    ngx_uint_t        i;
    ngx_file_info_t   fi;
    race_jwt_key_t   *key;

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].len > RACE_JWT_KID_MAX
        || !race_id_valid((char *) value[1].data, value[1].len))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"race_token_key\" key id \"%V\": "
                           "1 to 64 of [A-Za-z0-9_-]", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (rmcf->token_keys == NULL) {
        rmcf->token_keys = ngx_array_create(cf->pool, 2,
                                            sizeof(race_jwt_key_t));
        if (rmcf->token_keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    key = rmcf->token_keys->elts;

    for (i = 0; i < rmcf->token_keys->nelts; i++) {
        if (ngx_strcmp(key[i].kid, value[1].data) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate \"race_token_key\" key id \"%V\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    file = value[2];

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"race_token_key\" cannot open \"%V\"", &file);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || !ngx_is_file(&fi)
        || ngx_file_size(&fi) > 4096)
    {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_token_key\" file \"%V\" is not a key "
                           "file of at most 4k", &file);
        return NGX_CONF_ERROR;
    }

    if (ngx_file_access(&fi) & 0004) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"race_token_key\" file \"%V\" is readable by "
                           "everyone", &file);
    }

    secret = ngx_pnalloc(cf->pool, 4096);
    if (secret == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, secret, 4096);
    ngx_close_file(fd);

    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"race_token_key\" cannot read \"%V\"", &file);
        return NGX_CONF_ERROR;
    }

    /* the same trimming as every other reader of a key file */
    len = race_jwt_key_trim(secret, n);

    if (len < RACE_JWT_KEY_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"race_token_key\" file \"%V\" holds %uz bytes, "
                           "a key needs at least %d", &file, len,
                           RACE_JWT_KEY_MIN);
        return NGX_CONF_ERROR;
    }

    key = ngx_array_push(rmcf->token_keys);
    if (key == NULL) {
        return NGX_CONF_ERROR;
    }

    key->kid = (const char *) value[1].data;
    key->secret = secret;
    key->secret_len = len;

    return NGX_CONF_OK;
}


/* race_redis host:port, resolved now: workers never wait for DNS */

static char *
ngx_http_race_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_race_main_conf_t *rmcf = conf;

    ngx_str_t  *value;
    ngx_url_t  *u;

    if (rmcf->redis) {
        return "is duplicate";
    }

    value = cf->args->elts;

    u = ngx_pcalloc(cf->pool, sizeof(ngx_url_t));
    if (u == NULL) {
        return NGX_CONF_ERROR;
    }

    u->url = value[1];
    u->default_port = 6379;

    if (ngx_parse_url(cf->pool, u) != NGX_OK || u->naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"race_redis\" \"%V\": %s", &value[1],
                           u->err ? u->err : "no address");
        return NGX_CONF_ERROR;
    }

    if (u->family == AF_UNIX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"race_redis\" \"%V\": use host:port",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    rmcf->redis = u;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_race_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_race_redact;

    return NGX_OK;
}


/*
 * Browsers open WebSockets with the token in ?access_token=, and nginx
 * appends the request line to every error-log line of a request (and
 * $request to access logs).  Before any module logs in the request's
 * context, the line they show gets each access_token value replaced;
 * r->args, which the handlers read the token from, is left alone.  This
 * is the first phase after the headers: what is logged while reading
 * them (a bad header, at info) still shows the line as it came.
 */

#define NGX_HTTP_RACE_REDACTED  "[redacted]"

static ngx_int_t
ngx_http_race_redact(ngx_http_request_t *r)
{
    u_char      *p, *q, *last, *end, *line;
    size_t       len;
    ngx_uint_t   n;

    if (r->request_line.len == 0
        || r->args.len < sizeof("access_token=") - 1
        || ngx_strlcasestrn(r->args.data, r->args.data + r->args.len,
                            (u_char *) "access_token=",
                            sizeof("access_token=") - 2)
           == NULL)
    {
        return NGX_DECLINED;
    }

    /* the query in the line: after its first "?", up to a space */

    last = r->request_line.data + r->request_line.len;

    p = ngx_strlchr(r->request_line.data, last, '?');
    if (p == NULL) {
        return NGX_DECLINED;
    }

    p++;

    end = ngx_strlchr(p, last, ' ');
    if (end == NULL) {
        end = last;
    }

    len = ngx_http_race_redact_query(NULL, p, end, &n);

    if (n == 0) {
        return NGX_DECLINED;
    }

    line = ngx_pnalloc(r->pool, (p - r->request_line.data) + len
                                + (last - end));
    if (line == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q = ngx_cpymem(line, r->request_line.data, p - r->request_line.data);
    q += ngx_http_race_redact_query(q, p, end, &n);
    q = ngx_cpymem(q, end, last - end);

    r->request_line.data = line;
    r->request_line.len = q - line;

    return NGX_DECLINED;
}


/*
 * Copies a query to dst (NULL: measures only) with each access_token's
 * value replaced; returns the length, and in *found how many there were.
 */

static size_t
ngx_http_race_redact_query(u_char *dst, u_char *p, u_char *last,
    ngx_uint_t *found)
{
    size_t      len;
    ngx_uint_t  start;

    len = 0;
    start = 1;          /* p is at the start of a parameter */
    *found = 0;

    while (p < last) {

        if (start
            && (size_t) (last - p) >= sizeof("access_token=") - 1
            && ngx_strncasecmp(p, (u_char *) "access_token=",
                               sizeof("access_token=") - 1)
               == 0)
        {
            if (dst) {
                /* the name as the client spelled it */
                dst = ngx_cpymem(dst, p, sizeof("access_token=") - 1);
                dst = ngx_cpymem(dst, NGX_HTTP_RACE_REDACTED,
                                 sizeof(NGX_HTTP_RACE_REDACTED) - 1);
            }

            len += sizeof("access_token=") - 1
                   + sizeof(NGX_HTTP_RACE_REDACTED) - 1;

            for (p += sizeof("access_token=") - 1; p < last; p++) {
                if (*p == '&') {
                    break;
                }
            }

            (*found)++;
            start = 0;
            continue;
        }

        start = (*p == '&');

        if (dst) {
            *dst++ = *p;
        }

        p++;
        len++;
    }

    return len;
}
