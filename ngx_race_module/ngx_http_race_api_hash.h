
/*
 * ngx_race: the API's password hashing, in nginx's thread pool: argon2
 * takes far too long for the event loop.
 */


#ifndef _NGX_HTTP_RACE_API_HASH_H_INCLUDED_
#define _NGX_HTTP_RACE_API_HASH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_thread_pool.h>


/*
 * On the event loop, once, unless cancelled: result is NGX_OK (hashed;
 * verified), NGX_DECLINED (not the password) or NGX_ERROR (hashing
 * failed); encoded is the hash made, valid during the call only.
 */
typedef void (*ngx_http_race_api_hash_pt)(void *data, ngx_int_t result,
    const char *encoded);


/*
 * Hashes password, or verifies it against encoded (not NULL).  NGX_OK:
 * posted, *task is the job to cancel; NGX_BUSY: max jobs of this worker
 * are running; NGX_DECLINED: the pool takes no more; NGX_ERROR.
 */
ngx_int_t ngx_http_race_api_hash_post(ngx_thread_pool_t *pool,
    ngx_uint_t max, const char *password, size_t len, const char *encoded,
    ngx_http_race_api_hash_pt handler, void *data, ngx_log_t *log,
    ngx_thread_task_t **task);

/* its handler will not run: what data points at is going */
void ngx_http_race_api_hash_cancel(ngx_thread_task_t *task);


#endif /* _NGX_HTTP_RACE_API_HASH_H_INCLUDED_ */
