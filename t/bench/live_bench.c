
/*
 * ngx_race: the spectators' fan-out benchmark's client and publisher
 * (t/bench/live.pl runs it; ./build.sh bench live).
 *
 * One process, two threads.  The main thread opens N WebSocket
 * spectators on one epoll loop (no library: the handshake and the
 * frames are read here), spread over R races; the publisher thread
 * sends ticks of every race at a set rate, either as race-tracker does
 * (PUBLISH race:<race>:live on Redis, with race:<race>:state loaded
 * first for the snapshot) or as Nchan's publisher takes them (POST to
 * its publisher location, keep-alive, pipelined).  The same bytes go
 * to both: a ~2.5 KB tick of 50 riders,
 *
 *   {"type":"tick","race":"r1","t":<ms>,
 *    "riders":[{"rider":"p1","t":<ms>,"us":<us>,"seq":N},...]}
 *
 * Every figure is read from the riders' states, never from the tick's
 * other top-level members: nginx merges the ticks of a race that come
 * in one turn of its loop into one frame with the latest state of each
 * rider (docs/INTERNALS.md, "Redis"), and sends a spectator that fell
 * behind a snapshot of the riders instead.  A rider's "seq" is the
 * tick's sequence number in its race and its "t" and "us" the tick's
 * send time (ms, and the microseconds within it) on the realtime
 * clock, which both threads share.  Every tick changes every rider, so
 * nginx passes each state on (its "t" or, within the same ms, its seq
 * is new).  A frame's seq is its riders' highest; its latency is the
 * time since the send of its newest state: how old what the spectator
 * sees is when it arrives.
 *
 * Per spectator, in a step: frames (ticks or snapshots that move its
 * seq on), ticks covered (how far they move it: every tick, once the
 * last one arrived), merged (ticks it never got as a frame of their
 * own, whose every rider's state a later frame superseded: ours merges
 * by design; a server that drops a message and delivers the next one
 * gets the same count, since the next carries every rider), lost
 * (ticks neither delivered nor superseded, the last ones included),
 * final (whether every rider's state is the step's last tick's),
 * reordered (a frame with a lower seq, or one that moves a rider back),
 * dup (a tick frame with the same seq again).
 *
 * For each rate of --rates it publishes --seconds of ticks, waits until
 * every spectator has the last tick's state of every rider (at most
 * --drain seconds more) and prints a "step" line of key=value figures:
 * the above summed over the spectators, latency percentiles,
 * delivered frames/s and ticks covered/s, and the CPU of the processes
 * named by --cpu over the step.  It stops rising when a step loses a
 * final state, its p99 passes --stop-p99-ms, or delivered frames/s
 * stop rising.  With --idle it publishes nothing: it
 * connects, waits --idle seconds and prints the RSS growth of --rss's
 * processes per spectator.
 *
 * Everything is bounded: the connection phase, each step and its
 * drain.  Exit status: 0 when it ran (whatever the figures), 2 on bad
 * arguments, 1 when it could not set up.
 */


#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>


#define LB_MAX_GROUPS       8
#define LB_MAX_PIDS         64
#define LB_MAX_RATES        32
#define LB_ID_SIZE          64
#define LB_HIST_US          10           /* a bin of the histogram */
#define LB_HIST_BINS        1000000      /* 10 s of 10 us bins */
#define LB_READ_SIZE        (256 * 1024)
#define LB_INFLIGHT         256          /* handshakes at once */
#define LB_EVENTS           1024
#define LB_DEPTH            32           /* of JSON a message is read to */


typedef struct {
    char                    host[64];
    int                     port;
    char                    path[256];  /* may hold {race} */
} lb_url_t;


typedef struct {
    char                   *data;
    size_t                  len;
    size_t                  pos;        /* sent or parsed so far */
    size_t                  cap;
} lb_buf_t;


enum {
    LB_CONNECTING = 0,
    LB_HANDSHAKE,
    LB_OPEN,
    LB_CLOSED
};


typedef struct {
    int                     fd;
    int                     state;
    int                     race;
    int                     ready;
    int                     done_step;  /* the step whose last tick came */
    uint64_t                last_seq;   /* the highest seq of a frame */
    uint64_t                gaps;       /* ticks skipped, not superseded */
    uint64_t               *seqs;       /* each rider's seq, here */
    lb_buf_t                in;         /* a partial frame or response */
    lb_buf_t                out;        /* the handshake, pongs */
    lb_buf_t                msg;        /* a fragmented message */
} lb_conn_t;


/* a rider's state in the message being read */
typedef struct {
    uint32_t                rider;      /* "p1" is 0 */
    uint64_t                seq;
    int64_t                 sent_us;
} lb_state_t;


typedef struct {
    char                    name[32];
    pid_t                   pids[LB_MAX_PIDS];
    int                     npids;
    unsigned long long      ticks0;
} lb_group_t;


/* one publishing connection: Redis or HTTP */
typedef struct {
    int                     fd;
    lb_buf_t                out;
    lb_buf_t                in;
    uint64_t                sent;
    uint64_t                replies;
    uint64_t                errors;
    int                     want_out;
} lb_pub_t;


typedef struct {
    /* settings */
    lb_url_t                ws;
    lb_url_t                http;       /* Nchan's publisher */
    char                    redis_host[64];
    int                     redis_port;
    int                     use_redis;
    char                    prefix[32];
    char                    label[128];
    int                     races;
    int                     spectators; /* per race */
    int                     riders;
    double                  rates[LB_MAX_RATES];
    int                     nrates;
    double                  seconds;
    double                  drain;
    double                  connect_timeout;
    double                  idle;
    double                  stop_p99_ms;
    int                     ready_on_upgrade;
    int                     npub;
    int                     nostop;
    lb_group_t              groups[LB_MAX_GROUPS];
    int                     ngroups;
    pid_t                   rss_pids[LB_MAX_PIDS];
    int                     nrss;

    /* the spectators */
    lb_conn_t              *conns;
    int                     nconns;
    int                     epfd;
    int                     nready;
    int                     nopen;
    int                     nfailed;
    int                     nclosed;
    char                   *rbuf;
    uint64_t               *seqs;       /* every spectator's riders' */
    lb_state_t             *states;     /* of the message being read */
    size_t                  nstates;    /* room in it */

    /* the step under way */
    int                     step;
    uint64_t                base;       /* ticks of a race so far */
    uint64_t                final;      /* the step's last seq */
    uint64_t                frames;
    uint64_t                covered;
    uint64_t                merged;
    uint64_t                reordered;
    uint64_t                dup;
    uint64_t                stale;
    uint64_t                snapshots;
    uint64_t                other;
    int                     ndone;
    uint32_t               *hist;
    uint64_t                over;       /* beyond the histogram */
    int64_t                 max_us;
    double                  last_recv;
    double                  best;       /* frames/s, the best step */

    /* the publisher and its thread's step */
    lb_pub_t               *pubs;
    int                     epub;
    double                  rate;
    uint64_t                ticks;      /* per race in the step */
    double                  pub_t0;
    double                  pub_cpu;
    double                  pub_lag_max;
    double                  pub_last;   /* when the last tick was built */
    atomic_int              pub_done;
    char                  **race_ids;
    char                   *tick;       /* scratch for one tick */
    size_t                  tick_cap;
} lb_t;


static volatile sig_atomic_t  lb_stop;


static void lb_usage(void);
static int lb_parse_url(const char *s, lb_url_t *u, const char *scheme);
static int lb_parse_rates(lb_t *lb, const char *s);
static int lb_parse_group(lb_t *lb, const char *s);
static int lb_parse_rss(lb_t *lb, const char *s);
static double lb_mono(void);
static int64_t lb_real_us(void);
static double lb_thread_cpu(void);
static int lb_buf_add(lb_buf_t *b, const void *data, size_t len);
static void lb_buf_shift(lb_buf_t *b);
static int lb_nofile(int need);
static int lb_connect(const char *host, int port, int block);
static int lb_setup_redis(lb_t *lb);
static size_t lb_tick(lb_t *lb, int race, uint64_t seq, int64_t now_us);
static int lb_open_pubs(lb_t *lb);
static void *lb_publish(void *arg);
static int lb_pub_flush(lb_t *lb, lb_pub_t *p);
static int lb_pub_read(lb_t *lb, lb_pub_t *p);
static int lb_spectators(lb_t *lb);
static void lb_loop(lb_t *lb, int timeout_ms);
static void lb_conn_event(lb_t *lb, lb_conn_t *c, uint32_t events);
static void lb_conn_start(lb_t *lb, lb_conn_t *c);
static int lb_conn_write(lb_t *lb, lb_conn_t *c);
static void lb_conn_read(lb_t *lb, lb_conn_t *c);
static int lb_frames(lb_t *lb, lb_conn_t *c, char *p, size_t len,
    size_t *used);
static void lb_message(lb_t *lb, lb_conn_t *c, const char *p, size_t len);
static void lb_frame(lb_t *lb, lb_conn_t *c, size_t n, int snapshot);
static void lb_settle(lb_t *lb, lb_conn_t *c);
static uint64_t lb_min_seq(lb_t *lb, lb_conn_t *c);
static void lb_conn_close(lb_t *lb, lb_conn_t *c, int failed);
static void lb_run_step(lb_t *lb, double rate, int *saturated);
static void lb_idle(lb_t *lb);
static double lb_percentile(lb_t *lb, double q);
static unsigned long long lb_proc_ticks(pid_t pid);
static long lb_proc_rss_kb(pid_t pid);
static long lb_rss_kb(lb_t *lb);
static void lb_cpu_begin(lb_t *lb);
static void lb_cpu_print(lb_t *lb, double secs);
static void lb_finish(lb_t *lb);


static void
lb_on_signal(int signo)
{
    (void) signo;
    lb_stop = 1;
}


int
main(int argc, char **argv)
{
    int                i, saturated;
    lb_t              *lb;
    struct sigaction   sa;

    lb = calloc(1, sizeof(lb_t));
    if (lb == NULL) {
        return 1;
    }

    /* the defaults: scenario a, briefly */
    lb->races = 10;
    lb->spectators = 100;
    lb->riders = 50;
    lb->seconds = 3;
    lb->drain = 2;
    lb->connect_timeout = 60;
    lb->stop_p99_ms = 1000;
    lb->npub = 0;
    strcpy(lb->prefix, "r");
    strcpy(lb->label, "live");
    lb->epfd = -1;
    lb->epub = -1;

    for (i = 1; i < argc; i++) {
        const char  *a, *v;

        a = argv[i];
        v = (i + 1 < argc) ? argv[i + 1] : NULL;

        if (strcmp(a, "--ready-on-upgrade") == 0) {
            lb->ready_on_upgrade = 1;
            continue;
        }

        if (strcmp(a, "--no-stop") == 0) {
            lb->nostop = 1;
            continue;
        }

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            lb_usage();
            return 0;
        }

        if (v == NULL) {
            fprintf(stderr, "live_bench: %s needs a value\n", a);
            return 2;
        }

        i++;

        if (strcmp(a, "--url") == 0) {
            if (lb_parse_url(v, &lb->ws, "ws://") != 0) {
                return 2;
            }

        } else if (strcmp(a, "--pub-url") == 0) {
            if (lb_parse_url(v, &lb->http, "http://") != 0) {
                return 2;
            }

        } else if (strcmp(a, "--redis") == 0) {
            const char  *colon = strrchr(v, ':');

            if (colon == NULL || colon - v >= 64) {
                fprintf(stderr, "live_bench: bad --redis \"%s\"\n", v);
                return 2;
            }

            memcpy(lb->redis_host, v, colon - v);
            lb->redis_port = atoi(colon + 1);
            lb->use_redis = 1;

        } else if (strcmp(a, "--races") == 0) {
            lb->races = atoi(v);

        } else if (strcmp(a, "--spectators") == 0) {
            lb->spectators = atoi(v);

        } else if (strcmp(a, "--riders") == 0) {
            lb->riders = atoi(v);

        } else if (strcmp(a, "--rates") == 0) {
            if (lb_parse_rates(lb, v) != 0) {
                return 2;
            }

        } else if (strcmp(a, "--seconds") == 0) {
            lb->seconds = atof(v);

        } else if (strcmp(a, "--drain") == 0) {
            lb->drain = atof(v);

        } else if (strcmp(a, "--connect-timeout") == 0) {
            lb->connect_timeout = atof(v);

        } else if (strcmp(a, "--idle") == 0) {
            lb->idle = atof(v);

        } else if (strcmp(a, "--stop-p99-ms") == 0) {
            lb->stop_p99_ms = atof(v);

        } else if (strcmp(a, "--pub-conns") == 0) {
            lb->npub = atoi(v);

        } else if (strcmp(a, "--prefix") == 0) {
            snprintf(lb->prefix, sizeof(lb->prefix), "%s", v);

        } else if (strcmp(a, "--label") == 0) {
            snprintf(lb->label, sizeof(lb->label), "%s", v);

        } else if (strcmp(a, "--cpu") == 0) {
            if (lb_parse_group(lb, v) != 0) {
                return 2;
            }

        } else if (strcmp(a, "--rss") == 0) {
            if (lb_parse_rss(lb, v) != 0) {
                return 2;
            }

        } else {
            fprintf(stderr, "live_bench: unknown option %s\n", a);
            lb_usage();
            return 2;
        }
    }

    if (lb->ws.port == 0 || lb->races < 1 || lb->spectators < 1
        || lb->riders < 1 || lb->riders > 10000 || lb->seconds <= 0
        || lb->drain < 0
        || (lb->idle <= 0 && lb->nrates == 0)
        || (lb->idle <= 0 && !lb->use_redis && lb->http.port == 0))
    {
        fprintf(stderr, "live_bench: --url, and --rates with --redis or "
                "--pub-url, or --idle, are needed\n");
        lb_usage();
        return 2;
    }

    if (lb->npub <= 0) {
        /* Redis pipelines well on one; nginx takes a request at a time */
        lb->npub = lb->use_redis ? 2 : 4;
    }

    if (lb->npub > lb->races) {
        lb->npub = lb->races;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = lb_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    lb->nconns = lb->races * lb->spectators;

    if (lb_nofile(lb->nconns + lb->npub + 64) != 0) {
        return 1;
    }

    lb->race_ids = calloc(lb->races, sizeof(char *));
    lb->rbuf = malloc(LB_READ_SIZE);
    lb->hist = calloc(LB_HIST_BINS, sizeof(uint32_t));
    lb->tick_cap = 256 + (size_t) lb->riders * 96;
    lb->tick = malloc(lb->tick_cap);

    if (lb->race_ids == NULL || lb->rbuf == NULL || lb->hist == NULL
        || lb->tick == NULL)
    {
        fprintf(stderr, "live_bench: out of memory\n");
        return 1;
    }

    for (i = 0; i < lb->races; i++) {
        if (asprintf(&lb->race_ids[i], "%s%d", lb->prefix, i + 1) < 0) {
            fprintf(stderr, "live_bench: out of memory\n");
            return 1;
        }
    }

    /* the snapshot's states, before anybody watches */
    if (lb->use_redis && lb_setup_redis(lb) != 0) {
        return 1;
    }

    printf("live_bench tick_bytes=%zu riders=%d races=%d spectators=%d\n",
           lb_tick(lb, 0, 1, lb_real_us()), lb->riders, lb->races,
           lb->spectators);
    fflush(stdout);

    if (lb->idle > 0) {
        lb_idle(lb);
        lb_finish(lb);
        return 0;
    }

    if (lb_open_pubs(lb) != 0) {
        return 1;
    }

    if (lb_spectators(lb) != 0) {
        lb_finish(lb);
        return 1;
    }

    saturated = 0;

    for (i = 0; i < lb->nrates && !saturated && !lb_stop; i++) {
        lb_run_step(lb, lb->rates[i], &saturated);
    }

    lb_finish(lb);

    return 0;
}


static void
lb_usage(void)
{
    fprintf(stderr,
        "usage: live_bench --url ws://HOST:PORT/live/{race}\n"
        "           (--redis HOST:PORT | --pub-url http://HOST:PORT/pub/"
        "{race}) --rates R1,R2,...\n"
        "           | --idle SECONDS\n"
        "         [--races N] [--spectators PER_RACE] [--riders N]\n"
        "         [--seconds S] [--drain S] [--connect-timeout S]\n"
        "         [--stop-p99-ms MS] [--no-stop] [--pub-conns N]\n"
        "         [--prefix P] [--label L] [--ready-on-upgrade]\n"
        "         [--cpu NAME=PID[,PID...]]... [--rss PID[,PID...]]\n");
}


static int
lb_parse_url(const char *s, lb_url_t *u, const char *scheme)
{
    size_t       n;
    const char  *p, *colon, *slash;

    n = strlen(scheme);

    if (strncmp(s, scheme, n) != 0) {
        fprintf(stderr, "live_bench: \"%s\" does not start with %s\n", s,
                scheme);
        return -1;
    }

    p = s + n;
    slash = strchr(p, '/');
    colon = strchr(p, ':');

    if (slash == NULL || colon == NULL || colon > slash
        || (size_t) (colon - p) >= sizeof(u->host)
        || strlen(slash) >= sizeof(u->path))
    {
        fprintf(stderr, "live_bench: bad URL \"%s\" (HOST:PORT/PATH)\n", s);
        return -1;
    }

    memcpy(u->host, p, colon - p);
    u->host[colon - p] = '\0';
    u->port = atoi(colon + 1);
    strcpy(u->path, slash);

    return u->port > 0 ? 0 : -1;
}


static int
lb_parse_rates(lb_t *lb, const char *s)
{
    char  *end;

    lb->nrates = 0;

    while (*s) {
        if (lb->nrates == LB_MAX_RATES) {
            fprintf(stderr, "live_bench: at most %d rates\n", LB_MAX_RATES);
            return -1;
        }

        lb->rates[lb->nrates] = strtod(s, &end);

        if (end == s || lb->rates[lb->nrates] <= 0) {
            fprintf(stderr, "live_bench: bad rate in \"%s\"\n", s);
            return -1;
        }

        lb->nrates++;
        s = (*end == ',') ? end + 1 : end;

        if (*end != ',' && *end != '\0') {
            fprintf(stderr, "live_bench: bad rates \"%s\"\n", s);
            return -1;
        }
    }

    return 0;
}


/* NAME=PID,PID: processes whose CPU a step reports together */

static int
lb_parse_group(lb_t *lb, const char *s)
{
    char        *end;
    const char  *eq;
    lb_group_t  *g;

    eq = strchr(s, '=');

    if (lb->ngroups == LB_MAX_GROUPS || eq == NULL
        || (size_t) (eq - s) >= sizeof(g->name))
    {
        fprintf(stderr, "live_bench: bad --cpu \"%s\"\n", s);
        return -1;
    }

    g = &lb->groups[lb->ngroups++];
    memcpy(g->name, s, eq - s);

    for (s = eq + 1; *s && g->npids < LB_MAX_PIDS; s = end) {
        g->pids[g->npids++] = (pid_t) strtol(s, &end, 10);

        if (end == s) {
            fprintf(stderr, "live_bench: bad --cpu PIDs\n");
            return -1;
        }

        if (*end == ',') {
            end++;
        }
    }

    return 0;
}


static int
lb_parse_rss(lb_t *lb, const char *s)
{
    char  *end;

    for ( /* void */ ; *s && lb->nrss < LB_MAX_PIDS; s = end) {
        lb->rss_pids[lb->nrss++] = (pid_t) strtol(s, &end, 10);

        if (end == s) {
            fprintf(stderr, "live_bench: bad --rss PIDs\n");
            return -1;
        }

        if (*end == ',') {
            end++;
        }
    }

    return 0;
}


static double
lb_mono(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


/* the clock both threads stamp and read ticks with */

static int64_t
lb_real_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


static double
lb_thread_cpu(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static int
lb_buf_add(lb_buf_t *b, const void *data, size_t len)
{
    size_t   cap;
    char    *p;

    if (b->len + len > b->cap) {
        cap = b->cap ? b->cap : 4096;

        while (cap < b->len + len + 1) {
            cap *= 2;
        }

        p = realloc(b->data, cap);
        if (p == NULL) {
            return -1;
        }

        b->data = p;
        b->cap = cap;
    }

    memcpy(b->data + b->len, data, len);
    b->len += len;

    /* a NUL after the data, for the string functions' sake */
    b->data[b->len] = '\0';

    return 0;
}


/* drops what was used (pos); an empty buffer gives its memory back */

static void
lb_buf_shift(lb_buf_t *b)
{
    if (b->pos == b->len) {
        free(b->data);
        b->data = NULL;
        b->len = 0;
        b->pos = 0;
        b->cap = 0;
        return;
    }

    if (b->pos > 0) {
        memmove(b->data, b->data + b->pos, b->len - b->pos);
        b->len -= b->pos;
        b->pos = 0;
    }
}


/* as many descriptors as the hard limit allows */

static int
lb_nofile(int need)
{
    struct rlimit  rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        perror("live_bench: getrlimit");
        return -1;
    }

    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t) need) {
        /* root may raise the hard limit, if the container lets it */
        rl.rlim_max = need;
    }

    rl.rlim_cur = rl.rlim_max;

    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
    }

    getrlimit(RLIMIT_NOFILE, &rl);

    if (rl.rlim_cur < (rlim_t) need) {
        fprintf(stderr, "live_bench: %d file descriptors needed, the limit "
                "is %llu (ulimit -n)\n", need,
                (unsigned long long) rl.rlim_cur);
        return -1;
    }

    return 0;
}


static int
lb_connect(const char *host, int port, int block)
{
    int                 fd, one;
    struct sockaddr_in  sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);

    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
        fprintf(stderr, "live_bench: \"%s\" is not an IPv4 address\n", host);
        return -1;
    }

    fd = socket(AF_INET, SOCK_STREAM | (block ? 0 : SOCK_NONBLOCK), 0);
    if (fd == -1) {
        return -1;
    }

    one = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    if (connect(fd, (struct sockaddr *) &sin, sizeof(sin)) != 0
        && errno != EINPROGRESS)
    {
        close(fd);
        return -1;
    }

    return fd;
}


/*
 * The riders' states that nginx loads with HGETALL for the snapshot,
 * older than any tick: one HSET per race, pipelined, replies awaited.
 */

static int
lb_setup_redis(lb_t *lb)
{
    int         fd, r, k, lines;
    char        state[128], head[64], in[4096];
    size_t      i;
    ssize_t     n;
    int64_t     t;
    lb_buf_t    req;

    fd = lb_connect(lb->redis_host, lb->redis_port, 1);
    if (fd == -1) {
        fprintf(stderr, "live_bench: cannot connect to Redis %s:%d: %s\n",
                lb->redis_host, lb->redis_port, strerror(errno));
        return -1;
    }

    memset(&req, 0, sizeof(req));
    t = lb_real_us() / 1000 - 60000;

    for (r = 0; r < lb->races; r++) {
        char  key[LB_ID_SIZE + 16];
        int   kl;

        kl = snprintf(key, sizeof(key), "race:%s:state", lb->race_ids[r]);
        n = snprintf(head, sizeof(head), "*%d\r\n$4\r\nHSET\r\n$%d\r\n",
                     2 + 2 * lb->riders, kl);

        if (lb_buf_add(&req, head, n) != 0 || lb_buf_add(&req, key, kl) != 0
            || lb_buf_add(&req, "\r\n", 2) != 0)
        {
            goto nomem;
        }

        for (k = 1; k <= lb->riders; k++) {
            char  id[16];
            int   il, sl;

            il = snprintf(id, sizeof(id), "p%d", k);
            sl = snprintf(state, sizeof(state),
                          "{\"rider\":\"p%d\",\"t\":%" PRId64
                          ",\"us\":0,\"seq\":0}",
                          k, t);
            n = snprintf(head, sizeof(head), "$%d\r\n%s\r\n$%d\r\n", il, id,
                         sl);

            if (lb_buf_add(&req, head, n) != 0
                || lb_buf_add(&req, state, sl) != 0
                || lb_buf_add(&req, "\r\n", 2) != 0)
            {
                goto nomem;
            }
        }
    }

    for (i = 0; i < req.len; i += n) {
        n = write(fd, req.data + i, req.len - i);

        if (n <= 0) {
            fprintf(stderr, "live_bench: Redis write: %s\n", strerror(errno));
            close(fd);
            free(req.data);
            return -1;
        }
    }

    free(req.data);

    /* one line per reply: an integer, or an error */

    lines = 0;

    while (lines < lb->races) {
        n = read(fd, in, sizeof(in));

        if (n <= 0) {
            fprintf(stderr, "live_bench: Redis closed during the setup\n");
            close(fd);
            return -1;
        }

        for (i = 0; i < (size_t) n; i++) {
            if (in[i] == '-') {
                fprintf(stderr, "live_bench: Redis: %.*s\n",
                        (int) (n - i), in + i);
                close(fd);
                return -1;
            }

            lines += (in[i] == '\n');
        }
    }

    close(fd);

    return 0;

nomem:

    fprintf(stderr, "live_bench: out of memory\n");
    free(req.data);
    close(fd);
    return -1;
}


/*
 * A tick of the race into lb->tick; its length.  What the figures need
 * is in each rider's state, which nginx keeps and merges as a whole.
 */

static size_t
lb_tick(lb_t *lb, int race, uint64_t seq, int64_t now_us)
{
    int      k, n, us;
    char    *p, *end;
    int64_t  ms;

    ms = now_us / 1000;
    us = (int) (now_us % 1000);
    p = lb->tick;
    end = lb->tick + lb->tick_cap;

    n = snprintf(p, end - p, "{\"type\":\"tick\",\"race\":\"%s\",\"t\":%"
                 PRId64 ",\"riders\":[", lb->race_ids[race], ms);
    p += n;

    for (k = 1; k <= lb->riders; k++) {
        n = snprintf(p, end - p, "%s{\"rider\":\"p%d\",\"t\":%" PRId64
                     ",\"us\":%d,\"seq\":%" PRIu64 "}", k > 1 ? "," : "", k,
                     ms, us, seq);
        p += n;
    }

    *p++ = ']';
    *p++ = '}';

    return p - lb->tick;
}


static int
lb_open_pubs(lb_t *lb)
{
    int        i;
    lb_pub_t  *p;

    lb->pubs = calloc(lb->npub, sizeof(lb_pub_t));
    lb->epub = epoll_create1(EPOLL_CLOEXEC);

    if (lb->pubs == NULL || lb->epub == -1) {
        fprintf(stderr, "live_bench: out of memory\n");
        return -1;
    }

    for (i = 0; i < lb->npub; i++) {
        struct epoll_event  ev;

        p = &lb->pubs[i];

        p->fd = lb->use_redis
                ? lb_connect(lb->redis_host, lb->redis_port, 1)
                : lb_connect(lb->http.host, lb->http.port, 1);

        if (p->fd == -1) {
            fprintf(stderr, "live_bench: the publisher cannot connect: %s\n",
                    strerror(errno));
            return -1;
        }

        (void) fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);

        ev.events = EPOLLIN;
        ev.data.ptr = p;

        if (epoll_ctl(lb->epub, EPOLL_CTL_ADD, p->fd, &ev) != 0) {
            perror("live_bench: epoll_ctl");
            return -1;
        }
    }

    return 0;
}


/*
 * The publisher's step: tick k of race i is due at t0 + (k * R + i) /
 * (rate * R) seconds, so races take turns evenly; a race's ticks go
 * down one connection, in order.  A tick is stamped when it is built,
 * which is when it is due unless this thread runs late (pub_lag_max).
 */

static void *
lb_publish(void *arg)
{
    lb_t      *lb = arg;
    int        i, n, race, timeout;
    char       head[256];
    size_t     len;
    double     t0, now, due, interval, cpu0, end, lag;
    uint64_t   g, total, seq, want;
    lb_pub_t  *p;

    struct epoll_event  evs[64];

    cpu0 = lb_thread_cpu();
    interval = 1.0 / (lb->rate * lb->races);
    total = lb->ticks * lb->races;
    t0 = lb->pub_t0;
    lag = 0;
    g = 0;

    want = 0;
    for (i = 0; i < lb->npub; i++) {
        want += lb->pubs[i].replies;
    }
    want += total;

    end = t0 + lb->ticks / lb->rate + lb->drain + 5;

    while (!lb_stop) {
        now = lb_mono();

        while (g < total) {
            due = t0 + g * interval;

            if (due > now) {
                break;
            }

            if (now - due > lag) {
                lag = now - due;
            }

            race = g % lb->races;
            seq = lb->base + g / lb->races + 1;
            p = &lb->pubs[race % lb->npub];

            len = lb_tick(lb, race, seq, lb_real_us());

            if (lb->use_redis) {
                int  cl = (int) strlen(lb->race_ids[race]) + 10;

                n = snprintf(head, sizeof(head), "*3\r\n$7\r\nPUBLISH\r\n"
                             "$%d\r\nrace:%s:live\r\n$%zu\r\n", cl,
                             lb->race_ids[race], len);

            } else {
                char  path[512], *b;

                b = strstr(lb->http.path, "{race}");

                if (b) {
                    snprintf(path, sizeof(path), "%.*s%s%s",
                             (int) (b - lb->http.path), lb->http.path,
                             lb->race_ids[race], b + 6);

                } else {
                    snprintf(path, sizeof(path), "%s", lb->http.path);
                }

                n = snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\n"
                             "Host: %s:%d\r\n"
                             "Content-Type: application/json\r\n"
                             "Content-Length: %zu\r\n\r\n", path,
                             lb->http.host, lb->http.port, len);
            }

            if (lb_buf_add(&p->out, head, n) != 0
                || lb_buf_add(&p->out, lb->tick, len) != 0
                || (lb->use_redis && lb_buf_add(&p->out, "\r\n", 2) != 0))
            {
                fprintf(stderr, "live_bench: out of memory\n");
                lb_stop = 1;
                break;
            }

            p->sent++;
            g++;
            lb->pub_last = lb_mono();
        }

        n = 0;
        for (i = 0; i < lb->npub; i++) {
            if (lb_pub_flush(lb, &lb->pubs[i]) != 0) {
                lb_stop = 1;
            }

            n += (lb->pubs[i].out.len > lb->pubs[i].out.pos);
        }

        if (g == total && n == 0 && !atomic_load(&lb->pub_done)) {
            /* every tick is out: the spectators' side may end the step */
            lb->pub_lag_max = lag;
            atomic_store(&lb->pub_done, 1);
        }

        if (atomic_load(&lb->pub_done)) {
            uint64_t  got = 0;

            for (i = 0; i < lb->npub; i++) {
                got += lb->pubs[i].replies + lb->pubs[i].errors;
            }

            if (got >= want || now > end) {
                break;
            }
        }

        if (g < total) {
            due = t0 + g * interval;
            timeout = (int) ((due - now) * 1000);
            timeout = timeout < 0 ? 0 : timeout;

        } else {
            timeout = 50;
        }

        n = epoll_wait(lb->epub, evs, 64, timeout);

        for (i = 0; i < n; i++) {
            p = evs[i].data.ptr;

            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                if (lb_pub_read(lb, p) != 0) {
                    lb_stop = 1;
                }
            }
        }
    }

    if (!atomic_load(&lb->pub_done)) {
        lb->pub_lag_max = lag;
        atomic_store(&lb->pub_done, 1);
    }

    lb->pub_cpu = lb_thread_cpu() - cpu0;

    return NULL;
}


static int
lb_pub_flush(lb_t *lb, lb_pub_t *p)
{
    ssize_t             n;
    struct epoll_event  ev;

    while (p->out.pos < p->out.len) {
        n = write(p->fd, p->out.data + p->out.pos, p->out.len - p->out.pos);

        if (n > 0) {
            p->out.pos += n;
            continue;
        }

        if (n == -1 && errno == EAGAIN) {
            break;
        }

        fprintf(stderr, "live_bench: publisher write: %s\n",
                n == 0 ? "closed" : strerror(errno));
        return -1;
    }

    lb_buf_shift(&p->out);

    /* the socket's room is waited for only while there is a backlog */

    if ((p->out.len > 0) != p->want_out) {
        p->want_out = (p->out.len > 0);
        ev.events = EPOLLIN | (p->want_out ? EPOLLOUT : 0);
        ev.data.ptr = p;
        (void) epoll_ctl(lb->epub, EPOLL_CTL_MOD, p->fd, &ev);
    }

    return 0;
}


/* replies: RESP integers, or HTTP responses (Content-Length, chunked) */

static int
lb_pub_read(lb_t *lb, lb_pub_t *p)
{
    char     buf[65536], *s, *e, *h, *cl;
    size_t   body, need;
    ssize_t  n;

    n = read(p->fd, buf, sizeof(buf));

    if (n == 0 || (n == -1 && errno != EAGAIN)) {
        fprintf(stderr, "live_bench: the publisher's server closed: %s\n",
                n == 0 ? "end of stream" : strerror(errno));
        return -1;
    }

    if (n < 0) {
        return 0;
    }

    if (lb_buf_add(&p->in, buf, n) != 0) {
        return -1;
    }

    for ( ;; ) {
        s = p->in.data + p->in.pos;
        e = p->in.data + p->in.len;

        if (lb->use_redis) {
            h = memchr(s, '\n', e - s);
            if (h == NULL) {
                break;
            }

            if (*s == '-') {
                if (p->errors++ == 0) {
                    fprintf(stderr, "live_bench: Redis: %.*s\n",
                            (int) (h - s), s);
                }

            } else {
                p->replies++;
            }

            p->in.pos += h + 1 - s;
            continue;
        }

        h = memmem(s, e - s, "\r\n\r\n", 4);
        if (h == NULL) {
            break;
        }

        body = 0;
        need = h + 4 - s;

        cl = strcasestr(s, "\r\ncontent-length:");

        if (cl && cl < h) {
            body = strtoul(cl + 17, NULL, 10);
            need += body;

            if ((size_t) (e - s) < need) {
                break;
            }

        } else {
            /* chunked: up to the last chunk's empty line */
            char  *z = memmem(h + 4, e - (h + 4), "\r\n0\r\n\r\n", 7);

            if (z == NULL) {
                z = (memcmp(h + 4, "0\r\n\r\n", 5) == 0) ? h - 2 : NULL;
            }

            if (z == NULL) {
                break;
            }

            need = z + 7 - s;
        }

        if (e - s < 12 || (s[9] != '2')) {
            if (p->errors++ == 0) {
                fprintf(stderr, "live_bench: publisher got: %.*s\n",
                        (int) (h - s), s);
            }

        } else {
            p->replies++;
        }

        p->in.pos += need;
    }

    lb_buf_shift(&p->in);

    return 0;
}


/* N spectators, a few hundred handshakes at a time, until all are in */

static int
lb_spectators(lb_t *lb)
{
    int     i, next, inflight;
    double  t0, end;

    lb->conns = calloc(lb->nconns, sizeof(lb_conn_t));
    lb->seqs = calloc((size_t) lb->nconns * lb->riders, sizeof(uint64_t));
    lb->nstates = 2 * (size_t) lb->riders;
    lb->states = calloc(lb->nstates, sizeof(lb_state_t));
    lb->epfd = epoll_create1(EPOLL_CLOEXEC);

    if (lb->conns == NULL || lb->seqs == NULL || lb->states == NULL
        || lb->epfd == -1)
    {
        fprintf(stderr, "live_bench: out of memory\n");
        return -1;
    }

    for (i = 0; i < lb->nconns; i++) {
        lb->conns[i].seqs = lb->seqs + (size_t) i * lb->riders;
        lb->conns[i].fd = -1;
        lb->conns[i].race = i % lb->races;
        lb->conns[i].done_step = -1;
        lb->conns[i].state = LB_CLOSED;
    }

    t0 = lb_mono();
    end = t0 + lb->connect_timeout;
    next = 0;

    while (!lb_stop && lb_mono() < end) {
        inflight = next - lb->nready - lb->nfailed - lb->nclosed;

        while (next < lb->nconns && inflight < LB_INFLIGHT) {
            lb_conn_start(lb, &lb->conns[next++]);
            inflight++;
        }

        if (lb->nready + lb->nfailed + lb->nclosed >= lb->nconns) {
            break;
        }

        lb_loop(lb, 10);
    }

    printf("connected label=%s spectators=%d ready=%d failed=%d closed=%d "
           "seconds=%.2f\n", lb->label, lb->nconns, lb->nready, lb->nfailed,
           lb->nclosed, lb_mono() - t0);
    fflush(stdout);

    if (lb->nready < lb->nconns) {
        fprintf(stderr, "live_bench: %d of %d spectators ready in %.0f s\n",
                lb->nready, lb->nconns, lb->connect_timeout);
        return -1;
    }

    return 0;
}


static void
lb_loop(lb_t *lb, int timeout_ms)
{
    int                 i, n;
    struct epoll_event  evs[LB_EVENTS];

    n = epoll_wait(lb->epfd, evs, LB_EVENTS, timeout_ms);

    for (i = 0; i < n; i++) {
        lb_conn_event(lb, evs[i].data.ptr, evs[i].events);
    }
}


static void
lb_conn_start(lb_t *lb, lb_conn_t *c)
{
    int                 n;
    char                req[1024], path[512], *b;
    struct epoll_event  ev;

    c->fd = lb_connect(lb->ws.host, lb->ws.port, 0);

    if (c->fd == -1) {
        lb->nfailed++;
        return;
    }

    b = strstr(lb->ws.path, "{race}");

    if (b) {
        snprintf(path, sizeof(path), "%.*s%s%s", (int) (b - lb->ws.path),
                 lb->ws.path, lb->race_ids[c->race], b + 6);

    } else {
        snprintf(path, sizeof(path), "%s", lb->ws.path);
    }

    /* the key is not checked by anyone here: one for all will do */
    n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n"
                 "Host: %s:%d\r\n"
                 "Upgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "Sec-WebSocket-Key: bGl2ZWJlbmNoIGtleSAxMg==\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n", path, lb->ws.host,
                 lb->ws.port);

    if (lb_buf_add(&c->out, req, n) != 0) {
        close(c->fd);
        c->fd = -1;
        lb->nfailed++;
        return;
    }

    c->state = LB_CONNECTING;

    ev.events = EPOLLOUT;
    ev.data.ptr = c;

    if (epoll_ctl(lb->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        lb_conn_close(lb, c, 1);
    }
}


static void
lb_conn_event(lb_t *lb, lb_conn_t *c, uint32_t events)
{
    int        err;
    socklen_t  len;

    if (c->state == LB_CLOSED) {
        return;
    }

    if (c->state == LB_CONNECTING) {
        err = 0;
        len = sizeof(err);
        (void) getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);

        if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
            lb_conn_close(lb, c, 1);
            return;
        }

        c->state = LB_HANDSHAKE;
    }

    if (events & EPOLLOUT) {
        if (lb_conn_write(lb, c) != 0) {
            lb_conn_close(lb, c, c->state != LB_OPEN);
            return;
        }
    }

    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        lb_conn_read(lb, c);
    }
}


static int
lb_conn_write(lb_t *lb, lb_conn_t *c)
{
    ssize_t             n;
    struct epoll_event  ev;

    while (c->out.pos < c->out.len) {
        n = write(c->fd, c->out.data + c->out.pos, c->out.len - c->out.pos);

        if (n > 0) {
            c->out.pos += n;
            continue;
        }

        if (n == -1 && errno == EAGAIN) {
            break;
        }

        return -1;
    }

    lb_buf_shift(&c->out);

    ev.events = EPOLLIN | (c->out.len ? EPOLLOUT : 0);
    ev.data.ptr = c;

    return epoll_ctl(lb->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}


static void
lb_conn_read(lb_t *lb, lb_conn_t *c)
{
    int      rounds, kept;
    char    *p, *h;
    size_t   len, used;
    ssize_t  n;

    for (rounds = 0; rounds < 4 && c->state != LB_CLOSED; rounds++) {

        n = read(c->fd, lb->rbuf, LB_READ_SIZE);

        if (n == -1 && errno == EAGAIN) {
            return;
        }

        if (n <= 0) {
            lb_conn_close(lb, c, c->state != LB_OPEN);
            return;
        }

        /* what is left of the last read comes first */

        if (c->in.len > c->in.pos) {
            if (lb_buf_add(&c->in, lb->rbuf, n) != 0) {
                lb_conn_close(lb, c, 0);
                return;
            }

            p = c->in.data + c->in.pos;
            len = c->in.len - c->in.pos;
            kept = 1;

        } else {
            p = lb->rbuf;
            len = n;
            kept = 0;
        }

        if (c->state == LB_HANDSHAKE) {
            h = memmem(p, len, "\r\n\r\n", 4);

            if (h == NULL) {
                if (!kept && lb_buf_add(&c->in, p, len) != 0) {
                    lb_conn_close(lb, c, 1);
                }

                continue;
            }

            if (len < 12 || memcmp(p + 9, "101", 3) != 0) {
                fprintf(stderr, "live_bench: no upgrade: %.*s\n",
                        (int) (h - p), p);
                lb_conn_close(lb, c, 1);
                return;
            }

            c->state = LB_OPEN;
            lb->nopen++;

            if (lb->ready_on_upgrade) {
                c->ready = 1;
                lb->nready++;
            }

            len -= h + 4 - p;
            p = h + 4;
        }

        used = 0;

        if (lb_frames(lb, c, p, len, &used) != 0) {
            return;
        }

        /* the rest, a partial frame, is kept */

        if (!kept) {
            if (used < len && lb_buf_add(&c->in, p + used, len - used) != 0)
            {
                lb_conn_close(lb, c, 0);
                return;
            }

        } else {
            c->in.pos = (p + used) - c->in.data;
            lb_buf_shift(&c->in);
        }

        if (n < LB_READ_SIZE) {
            return;
        }
    }
}


/* complete frames of p; *used says how far; -1 when it closed */

static int
lb_frames(lb_t *lb, lb_conn_t *c, char *p, size_t len, size_t *used)
{
    int            op, fin;
    char           pong[131];
    size_t         off, hl, pl;
    unsigned char  *u;

    off = 0;

    while (len - off >= 2) {
        u = (unsigned char *) p + off;
        fin = u[0] & 0x80;
        op = u[0] & 0x0f;
        pl = u[1] & 0x7f;
        hl = 2;

        if (pl == 126) {
            if (len - off < 4) {
                break;
            }

            pl = ((size_t) u[2] << 8) | u[3];
            hl = 4;

        } else if (pl == 127) {
            if (len - off < 10) {
                break;
            }

            pl = ((size_t) u[6] << 24) | ((size_t) u[7] << 16)
                 | ((size_t) u[8] << 8) | u[9];
            hl = 10;
        }

        if (u[1] & 0x80) {
            /* a server never masks (RFC 6455 5.1) */
            lb_conn_close(lb, c, 0);
            return -1;
        }

        if (len - off < hl + pl) {
            break;
        }

        off += hl + pl;

        switch (op) {

        case 0x0:
        case 0x1:
        case 0x2:
            if (fin && op != 0x0 && c->msg.len == 0) {
                lb_message(lb, c, (char *) u + hl, pl);
                break;
            }

            if (lb_buf_add(&c->msg, u + hl, pl) != 0) {
                lb_conn_close(lb, c, 0);
                return -1;
            }

            if (fin) {
                lb_message(lb, c, c->msg.data, c->msg.len);
                c->msg.pos = c->msg.len;
                lb_buf_shift(&c->msg);
            }

            break;

        case 0x9:
            /* pong, masked with a zero key, which leaves it as it is */
            if (pl <= 125) {
                pong[0] = (char) 0x8a;
                pong[1] = (char) (0x80 | pl);
                memset(pong + 2, 0, 4);
                memcpy(pong + 6, u + hl, pl);

                if (lb_buf_add(&c->out, pong, 6 + pl) != 0
                    || lb_conn_write(lb, c) != 0)
                {
                    lb_conn_close(lb, c, 0);
                    return -1;
                }
            }

            break;

        case 0x8:
            lb_conn_close(lb, c, 0);
            return -1;

        default:
            break;
        }
    }

    *used = off;

    return 0;
}


/*
 * A message's "type" and its riders' states: "rider", "seq", "t" and
 * "us".  A scan that skips strings and the values it does not need,
 * whatever the order of the members nginx writes; the tick's other
 * top-level members, which a merged frame may or may not keep, are not
 * read.
 */

enum {
    LB_MSG_UNKNOWN = 0,
    LB_MSG_TICK,
    LB_MSG_SNAPSHOT,
    LB_MSG_OTHER
};


static void
lb_message(lb_t *lb, lb_conn_t *c, const char *p, size_t len)
{
    int          depth, key, type, riders, have;
    char         obj[LB_DEPTH];
    long         rider, us;
    size_t       n;
    int64_t      ms;
    uint64_t     seq;
    const char  *e, *k;
    size_t       kl;

    if (!c->ready) {
        c->ready = 1;
        lb->nready++;
    }

    e = p + len;
    depth = 0;
    key = 0;
    type = LB_MSG_UNKNOWN;
    riders = 0;
    n = 0;
    rider = -1;
    seq = 0;
    ms = 0;
    us = 0;
    have = 0;

    while (p < e) {

        if (*p == '"') {
            k = ++p;

            while (p < e && *p != '"') {
                p += (*p == '\\') ? 2 : 1;
            }

            kl = p - k;
            p++;

            if (!key) {
                /* a value */
                continue;
            }

            key = 0;

            while (p < e && (*p == ' ' || *p == ':')) {
                p++;
            }

            if (depth == 1) {
                if (kl == 4 && memcmp(k, "type", 4) == 0) {
                    type = (e - p > 6 && memcmp(p, "\"tick\"", 6) == 0)
                           ? LB_MSG_TICK
                           : (e - p > 10 && memcmp(p, "\"snapshot\"", 10) == 0)
                           ? LB_MSG_SNAPSHOT : LB_MSG_OTHER;

                } else if (kl == 6 && memcmp(k, "riders", 6) == 0) {
                    riders = (p < e && *p == '[');
                }

            } else if (depth == 3 && riders) {
                if (kl == 5 && memcmp(k, "rider", 5) == 0) {
                    rider = (e - p > 2 && p[0] == '"' && p[1] == 'p')
                            ? strtol(p + 2, NULL, 10) - 1 : -1;

                } else if (kl == 3 && memcmp(k, "seq", 3) == 0) {
                    seq = strtoull(p, NULL, 10);
                    have |= 1;

                } else if (kl == 1 && k[0] == 't') {
                    ms = strtoll(p, NULL, 10);
                    have |= 2;

                } else if (kl == 2 && memcmp(k, "us", 2) == 0) {
                    us = strtol(p, NULL, 10);
                }
            }

            continue;
        }

        switch (*p) {

        case '{':
        case '[':
            depth++;

            if (depth < LB_DEPTH) {
                obj[depth] = (*p == '{');
            }

            key = (*p == '{');

            if (depth == 3 && riders) {
                rider = -1;
                seq = 0;
                ms = 0;
                us = 0;
                have = 0;
            }

            break;

        case '}':
        case ']':
            if (depth == 3 && riders && *p == '}' && have == 3
                && rider >= 0 && rider < lb->riders && n < lb->nstates)
            {
                lb->states[n].rider = (uint32_t) rider;
                lb->states[n].seq = seq;
                lb->states[n].sent_us = ms * 1000 + us;
                n++;
            }

            if (depth == 2) {
                riders = 0;
            }

            depth--;
            key = 0;
            break;

        case ',':
            key = (depth > 0 && depth < LB_DEPTH && obj[depth]);
            break;

        default:
            break;
        }

        p++;
    }

    if (type == LB_MSG_SNAPSHOT) {
        lb->snapshots++;
    }

    if ((type != LB_MSG_TICK && type != LB_MSG_SNAPSHOT) || n == 0) {
        lb->other++;
        return;
    }

    lb_frame(lb, c, n, type == LB_MSG_SNAPSHOT);
}


/*
 * A tick or a snapshot of n states, for spectator c: its seq is the
 * riders' highest, its latency the time since its newest state's send.
 */

static void
lb_frame(lb_t *lb, lb_conn_t *c, size_t n, int snapshot)
{
    int          back;
    size_t       i;
    int64_t      newest, lat;
    uint64_t     f, *held;
    lb_state_t  *st;

    f = 0;
    newest = 0;
    back = 0;

    for (i = 0; i < n; i++) {
        st = &lb->states[i];
        held = &c->seqs[st->rider];

        if (st->seq > f) {
            f = st->seq;
        }

        if (st->sent_us > newest) {
            newest = st->sent_us;
        }

        if (st->seq < *held) {
            back = 1;

        } else {
            *held = st->seq;
        }
    }

    if (f <= lb->base || f > lb->final) {
        /* a tick of an earlier step come late, or the first snapshot */
        lb->stale += !snapshot;
        return;
    }

    if (back || f < c->last_seq) {
        lb->reordered++;
        return;
    }

    if (f == c->last_seq) {
        /* a snapshot restates what the spectator has: not twice */
        lb->dup += !snapshot;
        lb_settle(lb, c);
        return;
    }

    lb->frames++;
    lb->covered += f - c->last_seq;
    c->gaps += f - c->last_seq - 1;
    c->last_seq = f;
    lb->last_recv = lb_mono();

    lat = lb_real_us() - newest;
    lat = lat < 0 ? 0 : lat;

    if (lat > lb->max_us) {
        lb->max_us = lat;
    }

    if (lat / LB_HIST_US < LB_HIST_BINS) {
        lb->hist[lat / LB_HIST_US]++;

    } else {
        lb->over++;
    }

    lb_settle(lb, c);
}


/*
 * Skipped ticks are merged once every rider is at the spectator's
 * highest seq or beyond: a later frame superseded each of their states.
 * The spectator is done with the step when every rider is at its last.
 */

static void
lb_settle(lb_t *lb, lb_conn_t *c)
{
    uint64_t  m;

    if (c->gaps == 0 && (c->last_seq < lb->final || c->done_step == lb->step))
    {
        return;
    }

    m = lb_min_seq(lb, c);

    if (c->gaps && m >= c->last_seq) {
        lb->merged += c->gaps;
        c->gaps = 0;
    }

    if (m >= lb->final && c->done_step != lb->step) {
        c->done_step = lb->step;
        lb->ndone++;
    }
}


static uint64_t
lb_min_seq(lb_t *lb, lb_conn_t *c)
{
    int       k;
    uint64_t  m;

    m = c->seqs[0];

    for (k = 1; k < lb->riders; k++) {
        if (c->seqs[k] < m) {
            m = c->seqs[k];
        }
    }

    return m;
}


/*
 * Closed at the end, or by the server: without TIME_WAIT (a linger of
 * 0 resets), since a run opens tens of thousands of connections from
 * the one loopback address.
 */

static void
lb_conn_close(lb_t *lb, lb_conn_t *c, int failed)
{
    struct linger  lg;

    if (c->state == LB_CLOSED) {
        return;
    }

    if (c->state == LB_OPEN) {
        lb->nopen--;
    }

    if (failed) {
        lb->nfailed++;

    } else if (!lb_stop) {
        lb->nclosed++;
    }

    if (c->fd != -1) {
        lg.l_onoff = 1;
        lg.l_linger = 0;
        (void) setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(c->fd);
    }

    c->fd = -1;
    c->state = LB_CLOSED;

    free(c->in.data);
    free(c->out.data);
    free(c->msg.data);
    memset(&c->in, 0, sizeof(lb_buf_t));
    memset(&c->out, 0, sizeof(lb_buf_t));
    memset(&c->msg, 0, sizeof(lb_buf_t));
}


static void
lb_run_step(lb_t *lb, double rate, int *saturated)
{
    int              i, missing;
    double           t0, secs, window, p50, p90, p99, end, cpu0, cpu;
    double           frames_s, covered_s;
    uint64_t         expected, lost, replies, errors, closed0;
    lb_conn_t       *c;
    pthread_t        th;
    const char      *why;

    /* what a spectator missed before is counted: from the last step on */

    for (i = 0; i < lb->nconns; i++) {
        c = &lb->conns[i];

        if (c->last_seq < lb->base) {
            c->last_seq = lb->base;
        }

        c->gaps = 0;
    }

    lb->step++;
    lb->rate = rate;
    lb->ticks = (uint64_t) (rate * lb->seconds + 0.5);
    lb->ticks = lb->ticks ? lb->ticks : 1;
    lb->final = lb->base + lb->ticks;
    lb->frames = lb->covered = lb->merged = 0;
    lb->reordered = lb->dup = lb->stale = 0;
    lb->snapshots = lb->other = lb->over = 0;
    lb->ndone = 0;
    lb->max_us = 0;
    memset(lb->hist, 0, LB_HIST_BINS * sizeof(uint32_t));
    closed0 = lb->nclosed;
    atomic_store(&lb->pub_done, 0);

    replies = errors = 0;
    for (i = 0; i < lb->npub; i++) {
        replies += lb->pubs[i].replies;
        errors += lb->pubs[i].errors;
    }

    expected = lb->ticks * (uint64_t) lb->nopen;

    lb_cpu_begin(lb);
    cpu0 = lb_thread_cpu();

    t0 = lb_mono() + 0.02;
    lb->pub_t0 = t0;
    lb->last_recv = t0;

    if (pthread_create(&th, NULL, lb_publish, lb) != 0) {
        fprintf(stderr, "live_bench: no thread for the publisher\n");
        lb_stop = 1;
        return;
    }

    /* until every spectator has the last tick, or the drain is over */

    end = 0;

    while (!lb_stop) {
        lb_loop(lb, 5);

        if (!atomic_load(&lb->pub_done)) {
            continue;
        }

        if (end == 0) {
            end = lb_mono() + lb->drain;
        }

        if (lb->ndone >= lb->nopen || lb_mono() > end) {
            break;
        }
    }

    secs = lb_mono() - t0;
    cpu = lb_thread_cpu() - cpu0;

    pthread_join(th, NULL);

    for (i = 0; i < lb->npub; i++) {
        replies -= lb->pubs[i].replies;
        errors -= lb->pubs[i].errors;
    }

    /* counted down from the totals before the step: minus the step's */
    replies = -replies;
    errors = -errors;

    /* each open spectator's lost ticks, and whether its final state came */

    lost = 0;
    missing = 0;

    for (i = 0; i < lb->nconns; i++) {
        c = &lb->conns[i];

        if (c->state != LB_OPEN) {
            continue;
        }

        lost += c->gaps;

        if (c->last_seq < lb->final) {
            lost += lb->final - c->last_seq;
        }

        missing += (lb_min_seq(lb, c) < lb->final);
    }

    /* delivered per second over the publishing time or longer */
    window = lb->ticks / rate;
    if (lb->last_recv - t0 > window) {
        window = lb->last_recv - t0;
    }

    frames_s = lb->frames / window;
    covered_s = lb->covered / window;

    p50 = lb_percentile(lb, 0.50);
    p90 = lb_percentile(lb, 0.90);
    p99 = lb_percentile(lb, 0.99);

    printf("step label=%s rate=%g races=%d spectators=%d ticks=%" PRIu64
           " expected=%" PRIu64 " frames=%" PRIu64 " covered=%" PRIu64
           " merged=%" PRIu64 " lost=%" PRIu64 " final_missing=%d"
           " reordered=%" PRIu64 " dup=%" PRIu64 " stale=%" PRIu64
           " snapshots=%" PRIu64 " other=%" PRIu64 " closed=%" PRIu64
           " p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f"
           " frames_per_s=%.0f covered_per_s=%.0f window_s=%.3f"
           " pub_per_s=%.1f"
           " pub_lag_max_ms=%.1f pub_replies=%" PRIu64 " pub_errors=%"
           PRIu64 " cpu_client=%.1f"
           " cpu_pub=%.1f",
           lb->label, rate, lb->races, lb->nconns, lb->ticks, expected,
           lb->frames, lb->covered, lb->merged, lost, missing,
           lb->reordered, lb->dup, lb->stale,
           lb->snapshots, lb->other, (uint64_t) lb->nclosed - closed0,
           p50, p90, p99, lb->max_us / 1000.0, frames_s, covered_s, secs,
           lb->ticks * lb->races / (lb->pub_last - t0 + 1 / rate),
           lb->pub_lag_max * 1000, replies, errors, 100 * cpu / secs,
           100 * lb->pub_cpu / secs);
    lb_cpu_print(lb, secs);
    printf("\n");

    why = NULL;

    if (lost > 0 || missing > 0) {
        why = "loss";

    } else if (p99 > lb->stop_p99_ms) {
        why = "p99";

    } else if (lb->best > 0 && frames_s < lb->best * 1.02) {
        why = "flat";
    }

    if (frames_s > lb->best) {
        lb->best = frames_s;
    }

    if (why && !lb->nostop) {
        printf("saturated label=%s rate=%g reason=%s\n", lb->label, rate,
               why);
        *saturated = 1;
    }

    fflush(stdout);

    lb->base = lb->final;
}


/* idle spectators: the servers' RSS growth per connection */

static void
lb_idle(lb_t *lb)
{
    long    before, after;
    double  end;

    before = lb_rss_kb(lb);

    if (lb_spectators(lb) != 0) {
        return;
    }

    /* pings answered meanwhile; whatever settles, settles */
    end = lb_mono() + lb->idle;

    while (!lb_stop && lb_mono() < end) {
        lb_loop(lb, 50);
    }

    after = lb_rss_kb(lb);

    printf("idle label=%s spectators=%d open=%d rss_before_kb=%ld "
           "rss_after_kb=%ld kb_per_spectator=%.2f\n", lb->label,
           lb->nconns, lb->nopen, before, after,
           lb->nopen ? (double) (after - before) / lb->nopen : 0.0);
    fflush(stdout);
}


static double
lb_percentile(lb_t *lb, double q)
{
    size_t    i;
    uint64_t  n, want, total;

    total = lb->frames;

    if (total == 0) {
        return 0;
    }

    want = (uint64_t) (q * total);
    want = want ? want : 1;
    n = 0;

    for (i = 0; i < LB_HIST_BINS; i++) {
        n += lb->hist[i];

        if (n >= want) {
            /* the middle of the bin */
            return (i * LB_HIST_US + LB_HIST_US / 2.0) / 1000.0;
        }
    }

    return lb->max_us / 1000.0;
}


/* utime + stime, in clock ticks, of a process and all its threads */

static unsigned long long
lb_proc_ticks(pid_t pid)
{
    int                 i;
    char                path[64], line[1024], *p, *save;
    FILE               *f;
    unsigned long long  ticks;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);

    f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }

    p = fgets(line, sizeof(line), f);
    fclose(f);

    if (p == NULL || (p = strrchr(line, ')')) == NULL) {
        return 0;
    }

    /* fields from 3 (state) on: utime is 14, stime 15 */

    ticks = 0;
    p = strtok_r(p + 1, " ", &save);

    for (i = 3; p != NULL && i <= 15; i++) {
        if (i >= 14) {
            ticks += strtoull(p, NULL, 10);
        }

        p = strtok_r(NULL, " ", &save);
    }

    return ticks;
}


static long
lb_proc_rss_kb(pid_t pid)
{
    long   kb;
    char   path[64], line[256];
    FILE  *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);

    f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }

    kb = 0;

    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }

    fclose(f);

    return kb;
}


static long
lb_rss_kb(lb_t *lb)
{
    int   i;
    long  kb;

    kb = 0;

    for (i = 0; i < lb->nrss; i++) {
        kb += lb_proc_rss_kb(lb->rss_pids[i]);
    }

    return kb;
}


static void
lb_cpu_begin(lb_t *lb)
{
    int          i, k;
    lb_group_t  *g;

    for (i = 0; i < lb->ngroups; i++) {
        g = &lb->groups[i];
        g->ticks0 = 0;

        for (k = 0; k < g->npids; k++) {
            g->ticks0 += lb_proc_ticks(g->pids[k]);
        }
    }
}


/* each group's CPU over the step, in percent of one core */

static void
lb_cpu_print(lb_t *lb, double secs)
{
    int                 i, k;
    long                hz;
    lb_group_t         *g;
    unsigned long long  ticks;

    hz = sysconf(_SC_CLK_TCK);
    hz = hz > 0 ? hz : 100;

    for (i = 0; i < lb->ngroups; i++) {
        g = &lb->groups[i];
        ticks = 0;

        for (k = 0; k < g->npids; k++) {
            ticks += lb_proc_ticks(g->pids[k]);
        }

        printf(" cpu_%s=%.1f", g->name,
               100.0 * (ticks - g->ticks0) / hz / secs);
    }
}


static void
lb_finish(lb_t *lb)
{
    int  i;

    lb_stop = 1;

    for (i = 0; lb->conns && i < lb->nconns; i++) {
        lb_conn_close(lb, &lb->conns[i], 0);
    }

    for (i = 0; lb->pubs && i < lb->npub; i++) {
        if (lb->pubs[i].fd != -1) {
            close(lb->pubs[i].fd);
        }

        free(lb->pubs[i].out.data);
        free(lb->pubs[i].in.data);
    }

    if (lb->epfd != -1) {
        close(lb->epfd);
    }

    if (lb->epub != -1) {
        close(lb->epub);
    }

    for (i = 0; lb->race_ids && i < lb->races; i++) {
        free(lb->race_ids[i]);
    }

    free(lb->race_ids);
    free(lb->conns);
    free(lb->seqs);
    free(lb->states);
    free(lb->pubs);
    free(lb->rbuf);
    free(lb->hist);
    free(lb->tick);
    free(lb);

    fflush(stdout);
}
