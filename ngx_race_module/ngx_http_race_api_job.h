
/*
 * ngx_race: the API's long jobs (a race's course read from a file of
 * megabytes, or written out as GeoJSON) in nginx's thread pool, where
 * the event loop does not wait for them.
 */


#ifndef _NGX_HTTP_RACE_API_JOB_H_INCLUDED_
#define _NGX_HTTP_RACE_API_JOB_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_thread_pool.h>


/* in a pool thread: sees nothing but its job */
typedef void (*ngx_http_race_api_job_run_pt)(void *job);
/* on the event loop, once, unless cancelled */
typedef void (*ngx_http_race_api_job_done_pt)(void *data, void *job);
/* on the event loop, always, last: frees what job holds, and job */
typedef void (*ngx_http_race_api_job_free_pt)(void *job);


/*
 * Runs run(job) in pool, then done(data, job) and free(job) on the
 * event loop.  NGX_OK: posted, job is the pool's and *task the handle
 * to cancel; NGX_BUSY: max jobs of this worker are running;
 * NGX_DECLINED: the pool takes no more; NGX_ERROR.  On any but NGX_OK
 * the caller keeps job.
 */
ngx_int_t ngx_http_race_api_job_post(ngx_thread_pool_t *pool,
    ngx_uint_t max, void *job, ngx_http_race_api_job_run_pt run,
    ngx_http_race_api_job_done_pt done, ngx_http_race_api_job_free_pt free,
    void *data, ngx_log_t *log, ngx_thread_task_t **task);

/* done will not run: what data points at is going; free still will */
void ngx_http_race_api_job_cancel(ngx_thread_task_t *task);


#endif /* _NGX_HTTP_RACE_API_JOB_H_INCLUDED_ */
