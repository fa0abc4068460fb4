
/*
 * ngx_race: the API's password hashing, in nginx's thread pool.
 *
 * The thread sees only its job: the password copied in, the hash out.
 * The request may go first; it cancels the job, which the pool still
 * runs, and the job is freed on the event loop when it is done.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_thread_pool.h>

#include "race_password.h"
#include "ngx_http_race_api_hash.h"


typedef struct {
    ngx_http_race_api_hash_pt         handler;    /* NULL: cancelled */
    void                             *data;
    ngx_uint_t                        verify;
    ngx_int_t                         result;
    size_t                            password_len;
    char                              password[RACE_PASSWORD_BYTES_MAX + 1];
    char                              encoded[RACE_PASSWORD_ENCODED_MAX];
} ngx_http_race_api_job_t;


static void ngx_http_race_api_hash_run(void *data, ngx_log_t *log);
static void ngx_http_race_api_hash_done(ngx_event_t *ev);


/* this worker's jobs in the pool */
static ngx_uint_t  ngx_http_race_api_hashes;


ngx_int_t
ngx_http_race_api_hash_post(ngx_thread_pool_t *pool, ngx_uint_t max,
    const char *password, size_t len, const char *encoded,
    ngx_http_race_api_hash_pt handler, void *data, ngx_log_t *log,
    ngx_thread_task_t **task)
{
    ngx_thread_task_t        *t;
    ngx_http_race_api_job_t  *job;

    if (ngx_http_race_api_hashes >= max) {
        return NGX_BUSY;
    }

    if (len > RACE_PASSWORD_BYTES_MAX) {
        return NGX_ERROR;
    }

    t = ngx_calloc(sizeof(ngx_thread_task_t)
                   + sizeof(ngx_http_race_api_job_t), log);
    if (t == NULL) {
        return NGX_ERROR;
    }

    job = (ngx_http_race_api_job_t *) (t + 1);

    job->handler = handler;
    job->data = data;
    job->verify = (encoded != NULL);
    job->password_len = len;
    ngx_memcpy(job->password, password, len);

    if (encoded) {
        ngx_cpystrn((u_char *) job->encoded, (u_char *) encoded,
                    sizeof(job->encoded));
    }

    t->ctx = job;
    t->handler = ngx_http_race_api_hash_run;
    t->event.handler = ngx_http_race_api_hash_done;
    t->event.data = t;
    t->event.log = log;

    if (ngx_thread_task_post(pool, t) != NGX_OK) {
        ngx_explicit_memzero(job->password, sizeof(job->password));
        ngx_free(t);
        return NGX_DECLINED;
    }

    ngx_http_race_api_hashes++;
    *task = t;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "race api: %s posted, %ui running",
                   job->verify ? "verify" : "hash", ngx_http_race_api_hashes);

    return NGX_OK;
}


void
ngx_http_race_api_hash_cancel(ngx_thread_task_t *task)
{
    ((ngx_http_race_api_job_t *) task->ctx)->handler = NULL;
}


/* in a pool thread: nothing but the job */

static void
ngx_http_race_api_hash_run(void *data, ngx_log_t *log)
{
    ngx_http_race_api_job_t  *job = data;

    if (job->verify) {
        job->result = race_password_verify(job->password, job->password_len,
                                           job->encoded) ? NGX_OK
                                                         : NGX_DECLINED;

    } else {
        job->result = race_password_hash(job->password, job->password_len,
                                         job->encoded, sizeof(job->encoded))
                      == 0 ? NGX_OK : NGX_ERROR;
    }

    ngx_explicit_memzero(job->password, sizeof(job->password));
}


static void
ngx_http_race_api_hash_done(ngx_event_t *ev)
{
    ngx_thread_task_t        *task;
    ngx_http_race_api_job_t  *job;

    task = ev->data;
    job = task->ctx;

    ngx_http_race_api_hashes--;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "race api: hash job done: %i%s", job->result,
                   job->handler ? "" : ", cancelled");

    if (job->handler) {
        job->handler(job->data, job->result, job->encoded);
    }

    ngx_explicit_memzero(job->encoded, sizeof(job->encoded));
    ngx_free(task);
}
