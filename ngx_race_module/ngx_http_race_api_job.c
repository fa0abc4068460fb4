
/*
 * ngx_race: the API's long jobs in nginx's thread pool.
 *
 * As a password hash (ngx_http_race_api_hash.c), a job holds copies of
 * what it works on, never the request's memory: the request may go
 * first, and cancels it; the pool still runs it, and it is freed on
 * the event loop when it is done.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_thread_pool.h>

#include "ngx_http_race_api_job.h"


typedef struct {
    void                             *job;
    ngx_http_race_api_job_run_pt      run;
    ngx_http_race_api_job_done_pt     done;       /* NULL: cancelled */
    ngx_http_race_api_job_free_pt     free;
    void                             *data;
} ngx_http_race_api_job_rec_t;


static void ngx_http_race_api_job_run(void *data, ngx_log_t *log);
static void ngx_http_race_api_job_done(ngx_event_t *ev);


/* this worker's jobs in the pool */
static ngx_uint_t  ngx_http_race_api_jobs;


ngx_int_t
ngx_http_race_api_job_post(ngx_thread_pool_t *pool, ngx_uint_t max,
    void *job, ngx_http_race_api_job_run_pt run,
    ngx_http_race_api_job_done_pt done, ngx_http_race_api_job_free_pt free,
    void *data, ngx_log_t *log, ngx_thread_task_t **task)
{
    ngx_thread_task_t            *t;
    ngx_http_race_api_job_rec_t  *rec;

    if (ngx_http_race_api_jobs >= max) {
        return NGX_BUSY;
    }

    t = ngx_calloc(sizeof(ngx_thread_task_t)
                   + sizeof(ngx_http_race_api_job_rec_t), log);
    if (t == NULL) {
        return NGX_ERROR;
    }

    rec = (ngx_http_race_api_job_rec_t *) (t + 1);

    rec->job = job;
    rec->run = run;
    rec->done = done;
    rec->free = free;
    rec->data = data;

    t->ctx = rec;
    t->handler = ngx_http_race_api_job_run;
    t->event.handler = ngx_http_race_api_job_done;
    t->event.data = t;
    t->event.log = log;

    if (ngx_thread_task_post(pool, t) != NGX_OK) {
        ngx_free(t);
        return NGX_DECLINED;
    }

    ngx_http_race_api_jobs++;
    *task = t;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                   "race api: job posted, %ui running",
                   ngx_http_race_api_jobs);

    return NGX_OK;
}


void
ngx_http_race_api_job_cancel(ngx_thread_task_t *task)
{
    ((ngx_http_race_api_job_rec_t *) task->ctx)->done = NULL;
}


/* in a pool thread */

static void
ngx_http_race_api_job_run(void *data, ngx_log_t *log)
{
    ngx_http_race_api_job_rec_t  *rec = data;

    rec->run(rec->job);
}


static void
ngx_http_race_api_job_done(ngx_event_t *ev)
{
    ngx_thread_task_t            *task;
    ngx_http_race_api_job_rec_t  *rec;

    task = ev->data;
    rec = task->ctx;

    ngx_http_race_api_jobs--;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "race api: job done%s", rec->done ? "" : ", cancelled");

    if (rec->done) {
        rec->done(rec->data, rec->job);
    }

    rec->free(rec->job);
    ngx_free(task);
}
