
/*
 * ngx_race workers: metrics and liveness on a port of their own.
 *
 * The registry is a list the main thread appends to and the server
 * thread reads: each node is complete before the release store that
 * links it, and the server reads the links with acquire loads, so it
 * needs no lock.  Values are atomics, updated relaxed: a scrape sees
 * each number as it was at some instant of the scrape, which is all
 * Prometheus asks.  Kafka's lag is a table replaced whole under a
 * mutex that the main thread only tries: it never waits on a scrape.
 *
 * The server answers one request per connection (Connection: close),
 * up to RACE_METRICS_CONNS at once, each within RACE_METRICS_CLIENT_MS;
 * the signals are the main thread's: the server's thread blocks them.
 */


#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "race_log.h"
#include "race_metrics.h"
#include "race_time.h"


#define RACE_METRICS_LINGER_MS  1000


struct race_metric_s {
    char                       *name;
    char                       *help;
    race_promtext_type_e        type;
    race_promtext_label_t      *labels;     /* names and values copied */
    size_t                      nlabels;

    _Atomic int64_t             value;      /* counter, gauge; hist: sum */

    int64_t                    *bounds;     /* histogram */
    size_t                      nbounds;
    unsigned                    exp;
    _Atomic uint64_t           *counts;     /* nbounds + 1 */

    _Atomic(struct race_metric_s *)  next;
};


typedef enum {
    RACE_METRICS_READ = 0,
    RACE_METRICS_WRITE,
    RACE_METRICS_LINGER
} race_metrics_state_e;


typedef struct {
    int                         fd;         /* -1: a free slot */
    race_metrics_state_e        state;
    int64_t                     deadline;   /* monotonic ms */
    size_t                      len;
    char                        in[RACE_PROMTEXT_REQ_MAX];
    race_buf_t                  out;
    size_t                      sent;
} race_metrics_conn_t;


typedef struct {
    char                        worker[32];
    race_promtext_label_t       worker_label;

    race_metric_t              *head;       /* main thread's */
    race_metric_t              *tail;
    _Atomic(race_metric_t *)    first;      /* the server's view */

    _Atomic int64_t             beat;       /* monotonic ms */
    _Atomic unsigned            ready;      /* RACE_METRICS_READY_* there */
    _Atomic unsigned            ready_need;
    int64_t                     liveness_ms;
    int64_t                     next_refresh;
    void                      (*refresh)(void *data);
    void                       *refresh_data;

    pthread_mutex_t             lag_mutex;
    char                        lag_topic[256];
    race_metrics_lag_t          lag[RACE_METRICS_LAG_MAX];
    size_t                      nlag;

    int                         listen_fd;
    int                         stop_fd[2];
    pthread_t                   thread;
    unsigned                    running:1;
    unsigned                    inited:1;

    race_metrics_conn_t         conns[RACE_METRICS_CONNS];
} race_metrics_t;


static race_metric_t *race_metrics_new(const char *name,
    const char *help, race_promtext_type_e type,
    const race_promtext_label_t *labels, size_t nlabels,
    const int64_t *bounds, size_t nbounds, unsigned exp);
static void race_metrics_free_metric(race_metric_t *m);
static int race_metrics_bind(const char *addr);
static void *race_metrics_serve(void *arg);
static void race_metrics_accept(void);
static void race_metrics_io(race_metrics_conn_t *c, int64_t now);
static void race_metrics_answer(race_metrics_conn_t *c,
    const race_promtext_req_t *req, int64_t now);
static void race_metrics_render(race_buf_t *b, int64_t now);
static int race_metrics_readyz(char *buf, size_t size, int64_t now);
static void race_metrics_close(race_metrics_conn_t *c);


race_metrics_worker_t  race_metrics_worker;

/* 0.5 ms to 10 s: a write on loopback to one that waited on a timeout */
const int64_t  race_metrics_seconds[] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000
};

const size_t  race_metrics_nseconds =
    sizeof(race_metrics_seconds) / sizeof(race_metrics_seconds[0]);


static race_metrics_t  race_metrics;


int
race_metrics_init(const char *name)
{
    race_metrics_t               *rm = &race_metrics;
    const race_promtext_label_t  *w;

    memset(rm, 0, sizeof(race_metrics_t));

    rm->listen_fd = -1;
    rm->stop_fd[0] = -1;
    rm->stop_fd[1] = -1;

    if (pthread_mutex_init(&rm->lag_mutex, NULL) != 0) {
        race_log(RACE_LOG_ERROR, "metrics: pthread_mutex_init() failed");
        return -1;
    }

    rm->inited = 1;

    snprintf(rm->worker, sizeof(rm->worker), "%s",
             strncmp(name, "race-", 5) == 0 ? name + 5 : name);

    rm->worker_label.name = "worker";
    rm->worker_label.value = rm->worker;

    atomic_store(&rm->beat, race_time_mono_ms());
    atomic_store(&rm->ready, 0);
    atomic_store(&rm->ready_need, RACE_METRICS_READY_QUEUE);

    w = &rm->worker_label;

    race_metrics_worker.consumed = race_metrics_counter(
        "race_worker_messages_consumed_total",
        "Kafka messages consumed", w, 1);

    race_metrics_worker.malformed = race_metrics_counter(
        "race_worker_messages_malformed_total",
        "Kafka messages skipped as malformed (poison)", w, 1);

    race_metrics_worker.retries = race_metrics_counter(
        "race_worker_write_retries_total",
        "Writes of a batch or command that failed and were retried", w, 1);

    race_metrics_worker.kafka_errors = race_metrics_counter(
        "race_worker_kafka_errors_total",
        "Errors librdkafka reported (it retries them itself)", w, 1);

    race_metrics_worker.mongo_seconds = race_metrics_histogram(
        "race_worker_mongodb_write_seconds",
        "Time of a MongoDB write, failed ones too", w, 1,
        race_metrics_seconds, race_metrics_nseconds, 6);

    race_metrics_worker.redis_seconds = race_metrics_histogram(
        "race_worker_redis_write_seconds",
        "Time of a Redis write, failed ones too", w, 1,
        race_metrics_seconds, race_metrics_nseconds, 6);

    return 0;
}


int
race_metrics_check(const char *value, char *reason, size_t size)
{
    int   port;
    char  host[RACE_PROMTEXT_HOST_MAX + 1];

    if (value[0] == '\0') {
        return 0;
    }

    return race_promtext_listen(value, host, sizeof(host), &port, reason,
                                size);
}


int
race_metrics_start(const char *addr, int64_t liveness_ms)
{
    int              i, err;
    sigset_t         all, old;
    race_metrics_t  *rm = &race_metrics;

    if (!rm->inited || addr == NULL || addr[0] == '\0') {
        return 0;
    }

    rm->liveness_ms = liveness_ms;

    for (i = 0; i < RACE_METRICS_CONNS; i++) {
        rm->conns[i].fd = -1;
    }

    if (race_metrics_bind(addr) != 0) {
        return -1;
    }

    if (pipe2(rm->stop_fd, O_CLOEXEC | O_NONBLOCK) != 0) {
        race_log(RACE_LOG_ERROR, "metrics: pipe2() failed: %s",
                 strerror(errno));
        return -1;
    }

    /* the signals go to the main thread: it is the one that stops */

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);

    err = pthread_create(&rm->thread, NULL, race_metrics_serve, rm);

    pthread_sigmask(SIG_SETMASK, &old, NULL);

    if (err != 0) {
        race_log(RACE_LOG_ERROR, "metrics: pthread_create() failed: %s",
                 strerror(err));
        return -1;
    }

    rm->running = 1;

    return 0;
}


void
race_metrics_stop(void)
{
    int              i;
    ssize_t          n;
    race_metric_t   *m, *next;
    race_metrics_t  *rm = &race_metrics;

    if (!rm->inited) {
        return;
    }

    if (rm->running) {
        do {
            n = write(rm->stop_fd[1], "", 1);
        } while (n < 0 && errno == EINTR);

        pthread_join(rm->thread, NULL);
        rm->running = 0;
    }

    for (i = 0; i < RACE_METRICS_CONNS; i++) {
        if (rm->conns[i].fd != -1) {
            race_metrics_close(&rm->conns[i]);
        }
    }

    if (rm->listen_fd != -1) {
        close(rm->listen_fd);
    }

    for (i = 0; i < 2; i++) {
        if (rm->stop_fd[i] != -1) {
            close(rm->stop_fd[i]);
        }
    }

    for (m = rm->head; m != NULL; m = next) {
        next = atomic_load(&m->next);
        race_metrics_free_metric(m);
    }

    pthread_mutex_destroy(&rm->lag_mutex);

    memset(&race_metrics_worker, 0, sizeof(race_metrics_worker_t));
    memset(rm, 0, sizeof(race_metrics_t));
}


race_metric_t *
race_metrics_counter(const char *name, const char *help,
    const race_promtext_label_t *labels, size_t nlabels)
{
    return race_metrics_new(name, help, RACE_PROMTEXT_COUNTER, labels,
                            nlabels, NULL, 0, 0);
}


race_metric_t *
race_metrics_gauge(const char *name, const char *help,
    const race_promtext_label_t *labels, size_t nlabels)
{
    return race_metrics_new(name, help, RACE_PROMTEXT_GAUGE, labels,
                            nlabels, NULL, 0, 0);
}


race_metric_t *
race_metrics_gauge_scaled(const char *name, const char *help,
    const race_promtext_label_t *labels, size_t nlabels, unsigned exp)
{
    return race_metrics_new(name, help, RACE_PROMTEXT_GAUGE, labels,
                            nlabels, NULL, 0, exp);
}


race_metric_t *
race_metrics_histogram(const char *name, const char *help,
    const race_promtext_label_t *labels, size_t nlabels,
    const int64_t *bounds, size_t nbounds, unsigned exp)
{
    return race_metrics_new(name, help, RACE_PROMTEXT_HISTOGRAM, labels,
                            nlabels, bounds, nbounds, exp);
}


const race_promtext_label_t *
race_metrics_worker_label(void)
{
    return &race_metrics.worker_label;
}


void
race_metrics_add(race_metric_t *m, int64_t n)
{
    if (m != NULL) {
        atomic_fetch_add_explicit(&m->value, n, memory_order_relaxed);
    }
}


void
race_metrics_set(race_metric_t *m, int64_t v)
{
    if (m != NULL) {
        atomic_store_explicit(&m->value, v, memory_order_relaxed);
    }
}


void
race_metrics_observe(race_metric_t *m, int64_t v)
{
    size_t  k;

    if (m == NULL || m->counts == NULL) {
        return;
    }

    k = race_promtext_bucket(m->bounds, m->nbounds, v);

    atomic_fetch_add_explicit(&m->counts[k], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->value, v, memory_order_relaxed);
}


int64_t
race_metrics_now_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


void
race_metrics_since(race_metric_t *m, int64_t start_us)
{
    race_metrics_observe(m, race_metrics_now_us() - start_us);
}


void
race_metrics_ready_need(unsigned need)
{
    atomic_store_explicit(&race_metrics.ready_need, need,
                          memory_order_relaxed);
}


void
race_metrics_ready(unsigned what, int there)
{
    if (there) {
        atomic_fetch_or_explicit(&race_metrics.ready, what,
                                 memory_order_relaxed);

    } else {
        atomic_fetch_and_explicit(&race_metrics.ready, ~what,
                                  memory_order_relaxed);
    }
}


void
race_metrics_beat(void)
{
    int64_t          now;
    race_metrics_t  *rm = &race_metrics;

    if (!rm->inited) {
        return;
    }

    now = race_time_mono_ms();

    atomic_store_explicit(&rm->beat, now, memory_order_relaxed);

    if (rm->refresh != NULL && now >= rm->next_refresh) {
        rm->next_refresh = now + RACE_METRICS_REFRESH_MS;
        rm->refresh(rm->refresh_data);
    }
}


void
race_metrics_refresh(void (*handler)(void *data), void *data)
{
    race_metrics_t  *rm = &race_metrics;

    rm->refresh = handler;
    rm->refresh_data = data;
    rm->next_refresh = 0;

    if (handler == NULL) {
        race_metrics_lag(NULL, NULL, 0);
    }
}


void
race_metrics_lag(const char *topic, const race_metrics_lag_t *lag, size_t n)
{
    race_metrics_t  *rm = &race_metrics;

    if (!rm->inited) {
        return;
    }

    if (pthread_mutex_trylock(&rm->lag_mutex) != 0) {
        return;
    }

    if (n > RACE_METRICS_LAG_MAX) {
        n = RACE_METRICS_LAG_MAX;
    }

    snprintf(rm->lag_topic, sizeof(rm->lag_topic), "%s",
             topic != NULL ? topic : "");

    if (n > 0) {
        memcpy(rm->lag, lag, n * sizeof(race_metrics_lag_t));
    }

    rm->nlag = n;

    pthread_mutex_unlock(&rm->lag_mutex);
}


static race_metric_t *
race_metrics_new(const char *name, const char *help,
    race_promtext_type_e type, const race_promtext_label_t *labels,
    size_t nlabels, const int64_t *bounds, size_t nbounds, unsigned exp)
{
    size_t           i;
    race_metric_t   *m, *p;
    race_metrics_t  *rm = &race_metrics;

    if (!rm->inited) {
        return NULL;
    }

    if (!race_promtext_name_valid(name, 0)) {
        race_log(RACE_LOG_ERROR, "metrics: bad name \"%s\"", name);
        return NULL;
    }

    for (i = 0; i < nlabels; i++) {
        if (!race_promtext_name_valid(labels[i].name, 1)
            || strcmp(labels[i].name, "le") == 0)
        {
            race_log(RACE_LOG_ERROR, "metrics: %s: bad label \"%s\"", name,
                     labels[i].name);
            return NULL;
        }
    }

    if (nbounds > RACE_PROMTEXT_BUCKETS_MAX) {
        race_log(RACE_LOG_ERROR, "metrics: %s: too many buckets", name);
        return NULL;
    }

    for (i = 1; i < nbounds; i++) {
        if (bounds[i] <= bounds[i - 1]) {
            race_log(RACE_LOG_ERROR, "metrics: %s: buckets not ascending",
                     name);
            return NULL;
        }
    }

    /* the series of a family come one after the other, of one type */

    for (p = rm->head; p != NULL; p = atomic_load(&p->next)) {
        if (strcmp(p->name, name) == 0
            && (strcmp(rm->tail->name, name) != 0 || p->type != type))
        {
            race_log(RACE_LOG_ERROR, "metrics: %s registered apart",
                     name);
            return NULL;
        }
    }

    m = calloc(1, sizeof(race_metric_t));
    if (m == NULL) {
        goto nomem;
    }

    m->type = type;
    m->exp = exp;
    m->name = strdup(name);
    m->help = strdup(help);
    m->labels = calloc(nlabels + 1, sizeof(race_promtext_label_t));

    if (m->name == NULL || m->help == NULL || m->labels == NULL) {
        goto failed;
    }

    for (i = 0; i < nlabels; i++) {
        m->labels[i].name = strdup(labels[i].name);
        m->labels[i].value = strdup(labels[i].value);
        m->nlabels = i + 1;

        if (m->labels[i].name == NULL || m->labels[i].value == NULL) {
            goto failed;
        }
    }

    if (type == RACE_PROMTEXT_HISTOGRAM) {
        m->bounds = malloc((nbounds + 1) * sizeof(int64_t));
        m->counts = calloc(nbounds + 1, sizeof(_Atomic uint64_t));

        if (m->bounds == NULL || m->counts == NULL) {
            goto failed;
        }

        if (nbounds > 0) {
            memcpy(m->bounds, bounds, nbounds * sizeof(int64_t));
        }

        m->nbounds = nbounds;

        for (i = 0; i <= nbounds; i++) {
            atomic_init(&m->counts[i], 0);
        }
    }

    atomic_init(&m->value, 0);
    atomic_init(&m->next, NULL);

    /* complete before it is linked: the server may read it at once */

    if (rm->tail == NULL) {
        rm->head = m;
        atomic_store_explicit(&rm->first, m, memory_order_release);

    } else {
        atomic_store_explicit(&rm->tail->next, m, memory_order_release);
    }

    rm->tail = m;

    return m;

failed:

    race_metrics_free_metric(m);

nomem:

    race_log(RACE_LOG_ERROR, "metrics: %s: out of memory", name);

    return NULL;
}


static void
race_metrics_free_metric(race_metric_t *m)
{
    size_t  i;

    for (i = 0; i < m->nlabels; i++) {
        free((char *) m->labels[i].name);
        free((char *) m->labels[i].value);
    }

    free(m->labels);
    free(m->bounds);
    free((void *) m->counts);
    free(m->help);
    free(m->name);
    free(m);
}


/* the listening socket in race_metrics.listen_fd; -1 on failure, logged */

static int
race_metrics_bind(const char *addr)
{
    int                       fd, on, port, err;
    char                      host[RACE_PROMTEXT_HOST_MAX + 1], reason[128];
    char                      serv[8], ip[INET6_ADDRSTRLEN];
    socklen_t                 len;
    struct addrinfo           hints, *res;
    struct sockaddr_storage   ss;

    if (race_promtext_listen(addr, host, sizeof(host), &port, reason,
                             sizeof(reason))
        != 0)
    {
        race_log(RACE_LOG_ERROR, "metrics: \"%s\" %s", addr, reason);
        return -1;
    }

    snprintf(serv, sizeof(serv), "%d", port);

    memset(&hints, 0, sizeof(struct addrinfo));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;

    /* once, at the start: a name is resolved before anything runs */
    err = getaddrinfo(host, serv, &hints, &res);
    if (err != 0) {
        race_log(RACE_LOG_ERROR, "metrics: %s: %s", addr,
                 gai_strerror(err));
        return -1;
    }

    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0);
    if (fd == -1) {
        race_log(RACE_LOG_ERROR, "metrics: socket() failed: %s",
                 strerror(errno));
        freeaddrinfo(res);
        return -1;
    }

    on = 1;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));

    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0
        || listen(fd, 64) != 0)
    {
        race_log(RACE_LOG_ERROR, "metrics: cannot listen on %s: %s",
                 addr, strerror(errno));
        freeaddrinfo(res);
        close(fd);
        return -1;
    }

    freeaddrinfo(res);

    len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *) &ss, &len) != 0) {
        race_log(RACE_LOG_ERROR, "metrics: getsockname() failed: %s",
                 strerror(errno));
        close(fd);
        return -1;
    }

    /* the port, if it was 0, for whoever reads the log: the tests */

    if (ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr, ip,
                  sizeof(ip));
        port = ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);
        race_log(RACE_LOG_INFO, "metrics listening on [%s]:%d", ip, port);

    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, ip,
                  sizeof(ip));
        port = ntohs(((struct sockaddr_in *) &ss)->sin_port);
        race_log(RACE_LOG_INFO, "metrics listening on %s:%d", ip, port);
    }

    race_metrics.listen_fd = fd;

    return 0;
}


static void *
race_metrics_serve(void *arg)
{
    int                   i, n, timeout, slot[RACE_METRICS_CONNS + 2];
    nfds_t                nfds;
    int64_t               now, wait;
    struct pollfd         pfd[RACE_METRICS_CONNS + 2];
    race_metrics_t       *rm = arg;
    race_metrics_conn_t  *c;

    for ( ;; ) {
        now = race_time_mono_ms();
        nfds = 0;
        timeout = 1000;

        pfd[nfds].fd = rm->stop_fd[0];
        pfd[nfds].events = POLLIN;
        slot[nfds++] = -1;

        n = 0;

        for (i = 0; i < RACE_METRICS_CONNS; i++) {
            c = &rm->conns[i];

            if (c->fd == -1) {
                continue;
            }

            n++;

            pfd[nfds].fd = c->fd;
            pfd[nfds].events = c->state == RACE_METRICS_WRITE ? POLLOUT
                                                               : POLLIN;
            slot[nfds++] = i;

            wait = c->deadline - now;

            if (wait < timeout) {
                timeout = wait < 0 ? 0 : (int) wait;
            }
        }

        /* full: the next ones wait in the backlog */
        if (n < RACE_METRICS_CONNS) {
            pfd[nfds].fd = rm->listen_fd;
            pfd[nfds].events = POLLIN;
            slot[nfds++] = -2;
        }

        if (poll(pfd, nfds, timeout) < 0) {
            if (errno == EINTR) {
                continue;
            }

            race_log(RACE_LOG_ERROR, "metrics: poll() failed: %s",
                     strerror(errno));
            break;
        }

        if (pfd[0].revents) {
            break;
        }

        now = race_time_mono_ms();

        for (i = 1; i < (int) nfds; i++) {
            if (slot[i] == -2) {
                if (pfd[i].revents) {
                    race_metrics_accept();
                }

                continue;
            }

            c = &rm->conns[slot[i]];

            if (pfd[i].revents) {
                race_metrics_io(c, now);
            }

            if (c->fd != -1 && now >= c->deadline) {
                race_log(RACE_LOG_DEBUG, "metrics: a client timed out");
                race_metrics_close(c);
            }
        }
    }

    return NULL;
}


static void
race_metrics_accept(void)
{
    int                   i, fd;
    race_metrics_t       *rm = &race_metrics;
    race_metrics_conn_t  *c;

    for (i = 0; i < RACE_METRICS_CONNS; i++) {
        c = &rm->conns[i];

        if (c->fd != -1) {
            continue;
        }

        fd = accept4(rm->listen_fd, NULL, NULL,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd == -1) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
                && errno != ECONNABORTED)
            {
                race_log(RACE_LOG_WARN, "metrics: accept4() failed: %s",
                         strerror(errno));
            }

            return;
        }

        memset(c, 0, sizeof(race_metrics_conn_t));
        c->fd = fd;
        c->state = RACE_METRICS_READ;
        c->deadline = race_time_mono_ms() + RACE_METRICS_CLIENT_MS;
    }
}


static void
race_metrics_io(race_metrics_conn_t *c, int64_t now)
{
    char                 drain[512];
    ssize_t              n;
    race_promtext_req_t  req;

    switch (c->state) {

    case RACE_METRICS_READ:
        n = recv(c->fd, c->in + c->len, sizeof(c->in) - c->len, 0);

        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }

        if (n <= 0) {
            race_metrics_close(c);
            return;
        }

        c->len += n;

        if (race_promtext_request(c->in, c->len, &req) == 1) {
            race_metrics_answer(c, &req, now);
        }

        return;

    case RACE_METRICS_WRITE:
        n = send(c->fd, c->out.data + c->sent, c->out.len - c->sent,
                 MSG_NOSIGNAL);

        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }

        if (n < 0) {
            race_metrics_close(c);
            return;
        }

        c->sent += n;

        if (c->sent < c->out.len) {
            return;
        }

        /*
         * A lingering close: what the client still sends is read and
         * dropped for a while, so that its unread bytes do not make the
         * kernel reset the connection before it has read our answer.
         */
        (void) shutdown(c->fd, SHUT_WR);
        c->state = RACE_METRICS_LINGER;

        if (c->deadline > now + RACE_METRICS_LINGER_MS) {
            c->deadline = now + RACE_METRICS_LINGER_MS;
        }

        return;

    case RACE_METRICS_LINGER:
        n = recv(c->fd, drain, sizeof(drain), 0);

        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }

        if (n <= 0) {
            race_metrics_close(c);
        }

        return;
    }
}


static void
race_metrics_answer(race_metrics_conn_t *c, const race_promtext_req_t *req,
    int64_t now)
{
    int              status;
    char             head[512];
    int64_t          age;
    race_buf_t       body;
    const char      *type;
    race_metrics_t  *rm = &race_metrics;

    memset(&body, 0, sizeof(race_buf_t));

    status = req->status;
    type = "text/plain; charset=utf-8";

    if (req->page == RACE_PROMTEXT_PAGE_METRICS) {
        type = RACE_PROMTEXT_CONTENT_TYPE;
        race_metrics_render(&body, now);

    } else if (req->page == RACE_PROMTEXT_PAGE_HEALTHZ) {
        age = now - atomic_load_explicit(&rm->beat, memory_order_relaxed);

        if (age > rm->liveness_ms) {
            status = 503;
            snprintf(head, sizeof(head), "the main loop has not turned for "
                     "%lld ms\n", (long long) age);

        } else {
            snprintf(head, sizeof(head), "ok\n");
        }

        race_buf_add(&body, head, strlen(head));

    } else if (req->page == RACE_PROMTEXT_PAGE_READYZ) {
        if (race_metrics_readyz(head, sizeof(head), now) != 0) {
            status = 503;
        }

        race_buf_add(&body, head, strlen(head));

    } else {
        snprintf(head, sizeof(head), "%d %s\n", status,
                 race_promtext_reason(status));
        race_buf_add(&body, head, strlen(head));
    }

    if (body.failed) {
        race_buf_free(&body);
        race_metrics_close(c);
        return;
    }

    snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
             "Content-Type: %s\r\n"
             "Content-Length: %zu\r\n"
             "%s"
             "Cache-Control: no-store\r\n"
             "Connection: close\r\n\r\n",
             status, race_promtext_reason(status), type, body.len,
             status == 405 ? "Allow: GET, HEAD\r\n" : "");

    race_buf_add(&c->out, head, strlen(head));

    if (!req->head && body.len > 0) {
        race_buf_add(&c->out, body.data, body.len);
    }

    race_buf_free(&body);

    if (c->out.failed) {
        race_metrics_close(c);
        return;
    }

    c->state = RACE_METRICS_WRITE;
}


/*
 * /readyz's answer in buf: 0 when ready, -1 with what is missing.  A
 * loop that does not turn is not ready either, whatever it had: the
 * probe that takes a pod out of a Service must see a stuck daemon too.
 */

static int
race_metrics_readyz(char *buf, size_t size, int64_t now)
{
    int64_t          age;
    unsigned         missing;
    race_metrics_t  *rm = &race_metrics;

    age = now - atomic_load_explicit(&rm->beat, memory_order_relaxed);

    if (age > rm->liveness_ms) {
        snprintf(buf, size, "the main loop has not turned for %lld ms\n",
                 (long long) age);
        return -1;
    }

    missing = atomic_load_explicit(&rm->ready_need, memory_order_relaxed)
              & ~atomic_load_explicit(&rm->ready, memory_order_relaxed);

    if (missing == 0) {
        snprintf(buf, size, "ready\n");
        return 0;
    }

    snprintf(buf, size, "not ready:%s%s\n",
             (missing & RACE_METRICS_READY_QUEUE)
             ? " no Kafka partitions assigned" : "",
             (missing & RACE_METRICS_READY_SERVERS)
             ? ((missing & RACE_METRICS_READY_QUEUE)
                ? "; MongoDB and Redis not reached yet"
                : " MongoDB and Redis not reached yet")
             : "");

    return -1;
}


/* the registry, then the loop's age, then the lag of each partition */

static void
race_metrics_render(race_buf_t *b, int64_t now)
{
    char                    part[16], ready[128];
    size_t                  i;
    uint64_t                counts[RACE_PROMTEXT_BUCKETS_MAX + 1];
    const char             *prev;
    race_metric_t          *m;
    race_metrics_t         *rm = &race_metrics;
    race_promtext_label_t   l[3];

    prev = NULL;

    for (m = atomic_load_explicit(&rm->first, memory_order_acquire);
         m != NULL;
         m = atomic_load_explicit(&m->next, memory_order_acquire))
    {
        if (prev == NULL || strcmp(prev, m->name) != 0) {
            race_promtext_family(b, m->name, m->help, m->type);
            prev = m->name;
        }

        if (m->type != RACE_PROMTEXT_HISTOGRAM) {
            race_promtext_sample(b, m->name, m->labels, m->nlabels,
                                 atomic_load_explicit(&m->value,
                                                      memory_order_relaxed),
                                 m->exp);
            continue;
        }

        for (i = 0; i <= m->nbounds; i++) {
            counts[i] = atomic_load_explicit(&m->counts[i],
                                             memory_order_relaxed);
        }

        race_promtext_histogram(b, m->name, m->labels, m->nlabels,
                                m->bounds, m->nbounds, counts,
                                atomic_load_explicit(&m->value,
                                                     memory_order_relaxed),
                                m->exp);
    }

    race_promtext_family(b, "race_worker_loop_age_seconds",
                         "Time since the main loop last turned "
                         "(/healthz fails past liveness_timeout_ms)",
                         RACE_PROMTEXT_GAUGE);
    race_promtext_sample(b, "race_worker_loop_age_seconds",
                         &rm->worker_label, 1,
                         now - atomic_load_explicit(&rm->beat,
                                                    memory_order_relaxed),
                         3);

    race_promtext_family(b, "race_worker_ready",
                         "1 when /readyz answers 200: partitions assigned, "
                         "servers reached, the loop turning",
                         RACE_PROMTEXT_GAUGE);
    race_promtext_sample(b, "race_worker_ready", &rm->worker_label, 1,
                         race_metrics_readyz(ready, sizeof(ready), now) == 0,
                         0);

    race_promtext_family(b, "race_worker_kafka_consumer_lag",
                         "Messages of a partition after the last one "
                         "written and committed (stored)",
                         RACE_PROMTEXT_GAUGE);

    l[0] = rm->worker_label;
    l[1].name = "topic";
    l[2].name = "partition";
    l[2].value = part;

    /* held for a copy's time; the main thread only tries it */
    pthread_mutex_lock(&rm->lag_mutex);

    l[1].value = rm->lag_topic;

    for (i = 0; i < rm->nlag; i++) {
        snprintf(part, sizeof(part), "%d", (int) rm->lag[i].partition);
        race_promtext_sample(b, "race_worker_kafka_consumer_lag", l, 3,
                             rm->lag[i].lag, 0);
    }

    pthread_mutex_unlock(&rm->lag_mutex);
}


static void
race_metrics_close(race_metrics_conn_t *c)
{
    close(c->fd);
    c->fd = -1;
    race_buf_free(&c->out);
}
