
/*
 * ngx_race: the API, /api/auth/..., /api/me and /api/races/...
 */


#ifndef _NGX_HTTP_RACE_API_H_INCLUDED_
#define _NGX_HTTP_RACE_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ngx_thread_pool.h>

#include "ngx_http_race.h"
#include "race_password.h"


/* ngx_http_race_api_module's: what race_api needs, once per worker */
typedef struct {
    ngx_uint_t             enabled;          /* a race_api location */
    ngx_str_t              thread_pool_name;
    ngx_thread_pool_t     *thread_pool;      /* hashes passwords */
    ngx_uint_t             max_hashes;       /* at once, per worker */
    ngx_msec_t             token_ttl;
    ngx_msec_t             reply_timeout;    /* of race-accounts */
    size_t                 course_max_size;  /* a race's body */
    ngx_msec_t             rider_token_ttl;  /* past the race's start */
    ngx_flag_t             cookie_secure;
    ngx_str_t              passwords_file;
    race_password_list_t   passwords;        /* the common ones, refused */
} ngx_http_race_api_main_conf_t;


#endif /* _NGX_HTTP_RACE_API_H_INCLUDED_ */
