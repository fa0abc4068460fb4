
/*
 * race-sim: rider phones and spectators over real WebSockets, for tests
 * and benchmarks.  One thread, one epoll loop, non-blocking sockets.
 *
 * Riders:
 *
 *   race-sim --url ws://127.0.0.1:PORT/ride
 *            (--key-file FILE --kid KID | --token TOKEN)
 *            [--races M] [--riders N] [--race-prefix P] [--rider-prefix P]
 *            (--fixes K | --duration SECONDS) [--interval-ms MS]
 *            [--window W] [--batch-every B [--live-fixes L]]
 *            [--token-in header|query] [--drain-seconds S]
 *            [--max-seconds S] [--ramp-ms MS] [--center LAT,LON]
 *            [--seq-start S] [--seed N] [--report FILE] [--quiet|--verbose]
 *
 * Riders of a race on a course, with the truth about them:
 *
 *   race-sim --url ws://127.0.0.1:PORT/ride --course FILE [--laps N]
 *            [--speed MPS] [--speed-spread F] [--noise M]
 *            (--key-file FILE --kid KID | --tokens FILE) [--truth FILE]
 *            [--fixes K | --duration SECONDS] [other rider options]
 *
 * Spectators, alone or next to riders, one URL per race:
 *
 *   race-sim --watch ws://127.0.0.1:PORT/live/r1 [--watch URL ...]
 *            [--watch-seconds S] [--watch-token TOKEN] [--report FILE]
 *
 * Each of the M x N riders (races r1..rM, riders p1..pN in each) is a
 * phone: it mints its own token (HS256, iss "ngx_race", aud "ride", sub
 * the rider, race the race, one day), rides a 5 km circle around
 * --center at about 10 m/s and takes a fix every --interval-ms (seq
 * from --seq-start, t the wall clock).  Every fix stays in the phone's
 * buffer until an ack covers it ({"type":"ack","seq":S} acks every
 * buffered fix with seq <= S); an error for a seq drops that fix
 * (rejected).  A config message changes the rider's interval.  When the
 * connection ends in any way (close frame, reset, refused, HTTP status
 * other than 101, bad Sec-WebSocket-Accept, timeout) the phone
 * reconnects after an exponential, jittered backoff of 100 ms to 2 s and
 * first resends every buffered fix as "fixes" batches of at most 500,
 * while new fixes keep going into the buffer.  A 401 or 403 makes the
 * rider give up: its token will not get better.  Pings get pongs, a
 * server's close gets a close.
 *
 * With --course the riders ride that GPX or GeoJSON course (parsed as
 * the races API parses it, --laps times round a loop) instead of the
 * circle: all start from the line together (or spread by --ramp-ms),
 * each at a speed of its own (--speed, +- --speed-spread, slower
 * uphill, accelerating from a standstill; drawn from --seed), their
 * fixes off the course by at most --noise metres.  A rider takes
 * SIM_COURSE_TAIL_FIXES fixes past the line (it rolls on) and stops, so
 * the race ends by itself; --fixes or --duration, when given, end it
 * sooner.  Fixes' t is the wall clock (a server refuses t far ahead of
 * its clock, so the race runs in real time: a short course makes a
 * short race).  See race-sim-course.h.
 *
 * --tokens FILE gives the riders and their tokens, as the races API
 * minted them: a line "RACE RIDER TOKEN" per rider (blank lines and
 * lines starting with # skipped); --races, --riders and the prefixes
 * are then unused.
 *
 * --truth FILE (with --course) writes, at the end, what really
 * happened (to FILE.tmp, then renamed):
 *
 *   {"course":{"length_m":..,"lap_length_m":..,"laps":..,"closed":..,
 *              "noise_m":..},
 *    "riders":[{"race":"r1","rider":"p1","start":MS,"finish":MS|null,
 *               "speed_mps":..,"distance_m":..,"last_t":MS,
 *               "after_finish":3,"sent":..,"acked":..,"rejected":..,
 *               "fixes":[[SEQ,T,DIST_M],...]}]}
 *
 * start and finish are the true times (Unix ms) the rider left and
 * crossed the line; distance_m the course distance at its last fix;
 * after_finish the fixes taken past the line; each fix's DIST_M its
 * true distance along the course when taken (more than the course's
 * length: rolling on past the line), in the order taken.
 *
 * --interval-ms 0 is for benchmarks: a rider sends a new fix as soon as
 * fewer than --window (default 1) of its sent fixes wait for an ack.
 * --batch-every B simulates dead zones: the fixes go in cycles of L + B
 * (L from --live-fixes, default 0): L fixes sent one by one, then B
 * fixes buffered and sent together as one "fixes" message.
 *
 * The run: riders send until they have sent K fixes (--fixes) or until
 * --duration ends, then every rider whose fixes are all acked or
 * rejected closes with 1000; the others get up to --drain-seconds
 * (default 30) more, reconnecting as needed.  With --fixes the sending
 * time is capped by --max-seconds (default 30 s + 3 x K x interval).
 * The whole run never outlives sending + drain + 10 s.
 *
 * Spectators record what they receive: message types, for each
 * snapshot and tick whether "race" is the URL's race, the riders seen,
 * and whether a rider's t ever goes back from one tick to a later one
 * (out_of_order) or behind the connection's snapshot (behind_snapshot).
 *
 * Output: a one-line summary on stdout, progress on stderr (none with
 * --quiet, every connection event with --verbose) and, with --report,
 * a JSON report (written to FILE.tmp, then renamed):
 *
 *   {"sent":..,"acked":..,"rejected":..,"unacked":..,"reconnects":..,
 *    "latency_ms":{"p50":..,"p95":..,"p99":..,"max":..},...,
 *    "riders":[{"race":"r1","rider":"p1","last_seq":K,"acked_max":K,
 *               "acked":K,"rejected":0,...}],
 *    "messages":..,"snapshots":..,"ticks":..,"races_seen":[..],
 *    "riders_seen":..,"out_of_order":..,"watches":[...]}
 *
 * "sent" counts the fixes the phones took (each once, whether or not it
 * reached the wire yet); latency runs from a fix's last send to its ack.
 * "last_fix_at", "send_ended_at" (the riders stopped) and "last_ack_at"
 * (Unix ms) time the drain.  With
 * spectators, "fix_latency_ms" runs from a fix's t (taken and sent in
 * the same turn of the loop, on the same clock) to the arrival of the
 * first tick that carries it, counted once per new state of a rider;
 * "watch_reconnects" counts the spectators' reconnects.
 *
 * --window-at and --window-ms name a measured window (wall clock, so that
 * a riders' and a spectators' race-sim measure the same one); the report
 * then has "window": {"sent","acked","reconnects","watch_reconnects",
 * "states","ack_ms":{"count","p50","p99","max"},"fix_ms":{...},
 * "seconds":[{"s":0,"sent",...,"ack_ms","fix_ms"},...]}: fixes taken,
 * acks received, reconnects and new states that arrived within it, in
 * all and second by second.
 *
 * Exit status: 0 when every fix sent was acked or rejected and every
 * spectator connected; 1 when some fix stayed unacked, a rider gave up,
 * a spectator never connected, or on a fatal error; 2 on a usage error.
 */


#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "race_fix.h"
#include "race_jwt.h"
#include "race_ws.h"

#include "race-sim-course.h"


#define SIM_ISS                 "ngx_race"
#define SIM_AUD                 "ride"
#define SIM_TOKEN_TTL           86400            /* s */

#define SIM_BATCH_MAX           500              /* fixes per message */
#define SIM_BACKOFF_MIN_MS      100
#define SIM_BACKOFF_MAX_MS      2000
#define SIM_CONNECT_TIMEOUT_MS  5000             /* connect + handshake */
#define SIM_CLOSE_TIMEOUT_MS    2000
#define SIM_GRACE_MS            10000
#define SIM_PROGRESS_MS         5000
#define SIM_TICK_MS             100
#define SIM_PROBLEMS_SHOWN      10
#define SIM_WATCH_AFTER_MS      1000             /* last ticks, with riders */

#define SIM_HS_MAX              8192             /* response header */
#define SIM_READ_SIZE           65536
#define SIM_RIDE_MESSAGE_MAX    (1024 * 1024)
#define SIM_WATCH_MESSAGE_MAX   (64 * 1024 * 1024)
#define SIM_EVENTS              512
#define SIM_KEY_FILE_MAX        65536
#define SIM_TOKENS_LINE_MAX     (RACE_JWT_MAX_LEN + 2 * RACE_JWT_ID_MAX + 8)

#define SIM_COURSE_M            5000.0           /* circumference */
#define SIM_M_PER_DEG           111195.0         /* of latitude */
#define SIM_SPEED_MPS           10.0
#define SIM_ELE_M               240.0

#define SIM_NO_TIMER            ((size_t) -1)

#define SIM_LOG_ERR             0
#define SIM_LOG_INFO            1
#define SIM_LOG_DEBUG           2


typedef struct {
    uint8_t                 *data;
    size_t                   len;
    size_t                   size;
} sim_buf_t;


typedef struct {
    char                    *text;       /* as given */
    char                    *host;       /* for getaddrinfo, no brackets */
    char                    *authority;  /* the Host header */
    char                    *path;       /* path and query */
    char                    *race;       /* the path's last segment */
    struct sockaddr_storage  addr;
    socklen_t                addrlen;
} sim_url_t;


typedef enum {
    SIM_CONN_IDLE = 0,       /* no socket; a reconnect may be pending */
    SIM_CONN_CONNECTING,
    SIM_CONN_HANDSHAKE,      /* request sent, reading the response */
    SIM_CONN_OPEN,
    SIM_CONN_CLOSING         /* a close frame went out; waiting for EOF */
} sim_conn_state_e;


typedef enum {
    SIM_END_FAILED = 0,      /* never opened */
    SIM_END_LOST,            /* opened, then ended by the server or net */
    SIM_END_CLOSED           /* we closed it */
} sim_end_e;


typedef enum {
    SIM_RIDER = 0,
    SIM_WATCH
} sim_kind_e;


typedef enum {
    SIM_PHASE_SEND = 0,
    SIM_PHASE_DRAIN,
    SIM_PHASE_CLOSE
} sim_phase_e;


typedef struct {
    sim_kind_e               kind;
    sim_conn_state_e         state;
    int                      fd;
    sim_url_t               *url;
    const char              *token;      /* NULL: none */
    char                     name[2 * RACE_JWT_ID_MAX + 16];

    sim_buf_t                out;
    size_t                   out_pos;    /* sent part of out */
    sim_buf_t                hs;         /* the handshake response */
    sim_buf_t                msg;        /* the data message being read */
    unsigned                 msg_opcode;
    race_ws_parser_t         parser;
    uint64_t                 max_message;
    char                     key[32];    /* Sec-WebSocket-Key */
    uint8_t                  accept[RACE_WS_ACCEPT_LEN];

    int                      http_status;
    unsigned                 attempts;   /* failures in a row: backoff */
    unsigned                 ever:1;     /* a connection was tried */
    unsigned                 opened:1;   /* this one got its 101 */
    unsigned                 sent_close:1;
    unsigned                 local_close:1;  /* we started the close */

    int64_t                  io_deadline;    /* ms; 0: none */
    int64_t                  reconnect_at;   /* ms; 0: none */

    int64_t                  timer_at;
    size_t                   heap_idx;
} sim_conn_t;


/* latencies, in microseconds, sorted before percentiles are read */
typedef struct {
    uint32_t                *v;
    size_t                   n;
    size_t                   size;
} sim_lat_t;


/* one second of the measured window (--window-at, --window-ms) */
typedef struct {
    uint64_t                 sent;       /* fixes taken */
    uint64_t                 acked;      /* fixes whose ack came */
    uint64_t                 reconnects; /* riders' */
    uint64_t                 watch_reconnects;
    uint64_t                 states;     /* new rider states spectators saw */
    sim_lat_t                ack;        /* last send to ack */
    sim_lat_t                fix;        /* fix's t to the tick's arrival */
} sim_sec_t;


/* a fix of the phone's buffer: the fix itself, and how it was sent */
typedef struct {
    race_fix_t               fix;
    int64_t                  sent_us;    /* last send, monotonic; 0: never */
    unsigned                 gone:1;     /* rejected, still in the array */
} sim_fix_t;


typedef struct {
    sim_conn_t               conn;       /* first: the conn is the rider */
    char                     race[RACE_JWT_ID_MAX + 1];
    char                     rider[RACE_JWT_ID_MAX + 1];
    char                    *token;

    /* the phone's buffer, oldest first; fixes[head] is never gone */
    sim_fix_t               *fixes;
    size_t                   head;
    size_t                   tail;
    size_t                   size;
    size_t                   nbuf;       /* not gone in [head, tail) */

    int64_t                  next_seq;
    int64_t                  unsent_seq; /* from here on: not sent on this
                                            connection */
    int64_t                  acked_max;
    uint64_t                 generated;
    uint64_t                 acked;
    uint64_t                 rejected;
    uint64_t                 reconnects;

    int64_t                  interval_ms;
    int64_t                  next_fix_at;
    int64_t                  last_fix_at;

    double                   phase;      /* radians along the circle */
    double                   speed;      /* m/s, this rider's own */
    double                   bat;
    int64_t                  moved_at;

    sim_course_rider_t      *ride;       /* --course: its ride; or NULL */

    unsigned                 generating:1;
    unsigned                 done:1;
    unsigned                 gave_up:1;
} sim_rider_t;


typedef struct {
    sim_conn_t               conn;       /* first: the conn is the watch */
    uint64_t                 connects;
    uint64_t                 failures;
    uint64_t                 reconnects;
    uint64_t                 messages;
    uint64_t                 snapshots;
    uint64_t                 ticks;
    uint64_t                 bad;
    uint64_t                 bad_states;
    uint64_t                 first_not_snapshot;
    uint64_t                 race_missing;
    uint64_t                 race_mismatch;
    uint64_t                 out_of_order;
    uint64_t                 behind_snapshot;
    unsigned                 first:1;    /* the next message is the first */
    json_t                  *types;      /* other types: name -> count */
    json_t                  *races;      /* set: race -> true */
    json_t                  *riders;     /* id -> its counters */
    json_t                  *last_t;     /* this connection: id -> t */
    json_t                  *snap_t;     /* this connection: id -> t */
} sim_watch_t;


typedef struct {
    char                    *url;
    char                    *key_file;
    char                    *kid;
    char                    *token;
    long long                races;
    long long                riders;
    char                    *race_prefix;
    char                    *rider_prefix;
    long long                fixes;
    long long                duration;
    long long                interval_ms;
    long long                window;
    long long                batch_every;
    long long                live_fixes;
    int                      token_in_query;
    long long                drain_s;
    long long                max_s;
    long long                ramp_ms;
    long long                seq_start;
    double                   lat0;
    double                   lon0;
    unsigned long long       seed;
    int                      has_seed;
    char                    *report;
    int                      verbosity;
    char                   **watch;
    size_t                   nwatch;
    long long                watch_s;
    char                    *watch_token;
    char                    *course;
    long long                laps;
    double                   speed;
    double                   speed_spread;
    double                   noise;
    char                    *tokens;
    char                    *truth;
    long long                window_at;  /* Unix ms; 0: no window */
    long long                window_ms;
    long long                source_ips;
} sim_opts_t;


typedef struct {
    uint64_t                 generated;
    uint64_t                 transmissions;
    uint64_t                 resent;
    uint64_t                 fix_messages;
    uint64_t                 batch_messages;
    uint64_t                 acked;
    uint64_t                 rejected;
    uint64_t                 acks;
    uint64_t                 acks_stale;
    uint64_t                 acks_unknown;
    uint64_t                 acks_unsent;
    uint64_t                 errors;
    uint64_t                 errors_unmatched;
    uint64_t                 configs;
    uint64_t                 pings;
    uint64_t                 connects;
    uint64_t                 reconnects;
    uint64_t                 handshake_failures;
    uint64_t                 disconnects;
    uint64_t                 protocol_errors;
    uint64_t                 bad_messages;
    uint64_t                 unknown_messages;
    uint64_t                 gave_up;
} sim_stats_t;


typedef struct {
    sim_opts_t               opt;
    int                      ep;
    uint64_t                 rng;

    sim_url_t                ride_url;
    uint8_t                 *secret;
    race_jwt_key_t           key;

    sim_course_t             course;     /* with --course */
    sim_course_rider_t      *rides;      /* nriders, with --course */
    int64_t                  wall0;      /* Unix ms at t0 */

    sim_rider_t             *riders;
    size_t                   nriders;
    sim_watch_t             *watches;
    size_t                   nwatches;

    sim_conn_t             **heap;
    size_t                   nheap;
    size_t                   heap_size;

    sim_buf_t                scratch;    /* a message being built */
    uint8_t                 *rbuf;       /* SIM_READ_SIZE */

    uint32_t                *lat_us;     /* latency of each acked fix */
    size_t                   nlat;
    size_t                   lat_size;

    sim_lat_t                fix_lat;    /* spectators: fix to tick */
    sim_sec_t               *secs;       /* the measured window */
    size_t                   nsecs;
    uint32_t                 next_src;   /* --source-ips: the next one */
    int64_t                  send_ended_wall;    /* Unix ms */
    int64_t                  last_fix_wall;      /* Unix ms */
    int64_t                  last_ack_wall;      /* Unix ms */

    sim_stats_t              st;
    json_t                  *http_status;    /* status -> count */
    json_t                  *close_codes;    /* code -> count */
    json_t                  *reject_codes;   /* code -> count */

    sim_phase_e              phase;
    size_t                   generating;     /* riders still generating */
    size_t                   finished;       /* riders done or given up */
    size_t                   active;         /* connections with a socket */
    size_t                   open;           /* connections open */
    unsigned                 problems;
    unsigned                 watch_over:1;
    unsigned                 stopping:1;

    int64_t                  t0;
    int64_t                  send_end;
    int64_t                  drain_end;
    int64_t                  watch_end;
    int64_t                  hard_end;
    int64_t                  riders_closed_at;
    int64_t                  ended_at;
} sim_t;


static void sim_log(int level, const char *fmt, ...);
static void sim_fatal(const char *fmt, ...);
static void sim_problem(sim_conn_t *c, const char *fmt, ...);
static int64_t sim_now_ms(void);
static int64_t sim_now_us(void);
static int64_t sim_wall_ms(void);
static int64_t sim_wall_us(void);
static uint64_t sim_rand(void);
static double sim_uniform(void);
static double sim_gauss(void);

static void sim_buf_reserve(sim_buf_t *b, size_t n);
static void sim_buf_append(sim_buf_t *b, const void *p, size_t n);
static void sim_buf_printf(sim_buf_t *b, const char *fmt, ...);
static void sim_buf_free(sim_buf_t *b);

static void sim_json_set(json_t *obj, const char *key, json_t *v);
static void sim_json_append(json_t *arr, json_t *v);
static void sim_json_count(json_t *obj, const char *key);

static int sim_options(int argc, char **argv, int *status);
static int sim_number(const char *name, const char *s, long long min,
    long long max, long long *out);
static int sim_center(const char *s);
static int sim_double(const char *name, const char *s, double min,
    double max, double *out);
static int sim_read_tokens(void);
static int sim_course_setup(uint64_t seed);
static int sim_url_parse(sim_url_t *u, const char *text);
static int sim_read_key(void);
static int sim_setup(void);
static void sim_conn_init(sim_conn_t *c, sim_kind_e kind, sim_url_t *url,
    const char *token, uint64_t max_message);

static void sim_timer_set(sim_conn_t *c, int64_t at);
static void sim_heap_swap(size_t i, size_t j);
static void sim_heap_up(size_t i);
static void sim_heap_down(size_t i);
static void sim_schedule(sim_conn_t *c);

static void sim_conn_start(sim_conn_t *c);
static void sim_conn_io(sim_conn_t *c, uint32_t events);
static void sim_conn_connected(sim_conn_t *c);
static int sim_conn_flush(sim_conn_t *c);
static void sim_conn_read(sim_conn_t *c);
static void sim_conn_handshake(sim_conn_t *c, const uint8_t *data,
    size_t len);
static const char *sim_http_check(sim_conn_t *c, const uint8_t *p,
    size_t len);
static void sim_conn_frames(sim_conn_t *c, uint8_t *data, size_t len);
static void sim_conn_control(sim_conn_t *c, race_ws_event_t *ev);
static int sim_conn_send(sim_conn_t *c, unsigned opcode,
    const uint8_t *data, size_t len);
static void sim_conn_close(sim_conn_t *c, uint16_t code,
    const char *reason);
static sim_end_e sim_conn_how(sim_conn_t *c);
static void sim_conn_end(sim_conn_t *c, sim_end_e how, const char *why);
static void sim_conn_retry(sim_conn_t *c);
static void sim_conn_timer(sim_conn_t *c, int64_t now);

static void sim_rider_opened(sim_rider_t *r);
static void sim_rider_message(sim_rider_t *r, const uint8_t *p,
    size_t len);
static void sim_rider_ended(sim_rider_t *r, sim_end_e how,
    const char *why);
static void sim_rider_timer(sim_rider_t *r, int64_t now);
static void sim_rider_fix(sim_rider_t *r, int64_t now);
static void sim_rider_move(sim_rider_t *r, sim_fix_t *f, int64_t now);
static int sim_rider_ride(sim_rider_t *r, sim_fix_t *f, int64_t now);
static void sim_rider_flush(sim_rider_t *r, int batch);
static void sim_rider_send(sim_rider_t *r, size_t from, size_t n,
    int batch);
static void sim_fix_json(sim_buf_t *b, const sim_fix_t *f, int item);
static void sim_rider_pump(sim_rider_t *r);
static void sim_rider_ack(sim_rider_t *r, int64_t seq);
static void sim_rider_error(sim_rider_t *r, json_t *m);
static void sim_rider_config(sim_rider_t *r, json_t *m);
static void sim_rider_trim(sim_rider_t *r);
static void sim_rider_stop(sim_rider_t *r);
static void sim_rider_check_done(sim_rider_t *r);

static void sim_watch_opened(sim_watch_t *w);
static void sim_watch_message(sim_watch_t *w, const uint8_t *p,
    size_t len);
static void sim_watch_state(sim_watch_t *w, const char *id, json_int_t t,
    int snapshot, int64_t arrived);
static void sim_watch_latency(json_int_t t, int64_t arrived);
static void sim_watch_ended(sim_watch_t *w, sim_end_e how,
    const char *why);

static void sim_phases(int64_t now);
static void sim_riders_close(void);
static void sim_watches_close(void);
static int sim_finished(void);
static void sim_force_end(void);
static void sim_run(void);
static void sim_progress(int64_t now);

static int sim_cmp_u32(const void *a, const void *b);
static void sim_sort_latency(void);
static double sim_percentile(double q);
static double sim_lat_percentile(const sim_lat_t *l, double q);
static void sim_lat_add(sim_lat_t *l, int64_t us);
static json_t *sim_lat_json(sim_lat_t *l);
static sim_sec_t *sim_window_sec(int64_t wall_ms);
static void sim_window_report(json_t *root);
static int sim_report(void);
static int sim_truth(void);
static int sim_write_json(const char *path, json_t *root, size_t flags);
static void sim_watch_sum(json_t *root, const char *name, size_t off);
static void sim_summary(void);
static int sim_exit_status(void);
static void sim_on_signal(int signo);


static const char  sim_usage[] =
"usage: race-sim --url ws://HOST:PORT/ride\n"
"                (--key-file FILE --kid KID | --token TOKEN)\n"
"                (--fixes K | --duration SECONDS) [options]\n"
"       race-sim --watch ws://HOST:PORT/live/RACE [--watch URL ...]\n"
"                [--watch-seconds S] [--report FILE]\n"
"\n"
"riders (phones on /ride):\n"
"  --url URL              ws:// URL of /ride (wss is not supported)\n"
"  --key-file FILE        HS256 secret: the file's bytes, line end dropped\n"
"  --kid KID              key id put in the tokens\n"
"  --token TOKEN          one fixed token for every rider, instead\n"
"  --token-in header|query  Authorization: Bearer (default) or\n"
"                         ?access_token=\n"
"  --races M              races r1..rM (default 1)\n"
"  --riders N             riders p1..pN in each race (default 1)\n"
"  --race-prefix P        race ids P1..PM (default \"r\")\n"
"  --rider-prefix P       rider ids P1..PN (default \"p\")\n"
"  --fixes K              each rider takes K fixes, then waits for acks\n"
"  --duration SECONDS     or: riders take fixes for this long\n"
"  --interval-ms MS       between fixes (default 1000); 0: a new fix as\n"
"                         soon as fewer than --window wait for an ack\n"
"  --window W             fixes in flight with --interval-ms 0 (default 1)\n"
"  --batch-every B        dead zones: B fixes buffered, then sent as one\n"
"                         \"fixes\" message\n"
"  --live-fixes L         with --batch-every: L fixes sent one by one\n"
"                         between the dead zones (default 0)\n"
"  --drain-seconds S      after sending, wait up to S s for acks\n"
"                         (default 30)\n"
"  --max-seconds S        with --fixes: longest sending time (default\n"
"                         30 + 3 x K x interval)\n"
"  --ramp-ms MS           spread the riders' starts over MS (default 0)\n"
"  --center LAT,LON       centre of the 5 km loop (default 45.07,7.68)\n"
"  --seq-start S          first seq of every rider (default 1)\n"
"  --seed N               random seed, for repeatable courses\n"
"\n"
"a race on a course (instead of the 5 km loop):\n"
"  --course FILE          ride this GPX or GeoJSON course; riders stop\n"
"                         a few fixes past the line (then --fixes and\n"
"                         --duration are optional limits)\n"
"  --laps N               laps of a closed course (default 1)\n"
"  --speed MPS            riders' speed on the flat (default 10)\n"
"  --speed-spread F       each rider's differs by up to +- F x MPS\n"
"                         (default 0.1)\n"
"  --noise M              fixes off the course by up to M m (default 0)\n"
"  --tokens FILE          riders and tokens, a line \"RACE RIDER TOKEN\"\n"
"                         each, instead of --key-file or --token\n"
"  --truth FILE           at the end, each rider's true start, finish\n"
"                         and course distance of every fix, as JSON\n"
"\n"
"spectators (on /live/RACE):\n"
"  --watch URL            a spectator on URL; repeat for more races\n"
"  --watch-seconds S      how long to watch (default 10; with riders,\n"
"                         default: until the riders are done)\n"
"  --watch-token TOKEN    token for private races, as ?access_token=\n"
"\n"
"measuring:\n"
"  --window-at UNIX_MS    a measured window starts then (wall clock):\n"
"                         the report's \"window\" counts what happens in\n"
"                         it, second by second\n"
"  --window-ms MS         its length (default 10000)\n"
"  --source-ips N         spread the connections over 127.0.0.1 to\n"
"                         127.0.0.N (loopback URLs): more than one\n"
"                         address's ephemeral ports (default 1)\n"
"\n"
"output:\n"
"  --report FILE          JSON report\n"
"  --quiet, -q            only the summary line and errors\n"
"  --verbose, -v          every connection event on stderr\n"
"  --help, -h\n"
"\n"
"exit: 0 all fixes acked or rejected (and every spectator connected),\n"
"      1 some fix unacked after the drain, or a failure, 2 usage error\n";


static sim_t                   sim;
static volatile sig_atomic_t   sim_stop;


int
main(int argc, char **argv)
{
    int               rc;
    struct sigaction  sa;

    if (sim_options(argc, argv, &rc) != 0) {
        return rc;
    }

    memset(&sa, 0, sizeof(struct sigaction));
    sa.sa_handler = sim_on_signal;

    if (sigemptyset(&sa.sa_mask) != 0
        || sigaction(SIGINT, &sa, NULL) != 0
        || sigaction(SIGTERM, &sa, NULL) != 0)
    {
        sim_fatal("sigaction: %s", strerror(errno));
    }

    sa.sa_handler = SIG_IGN;

    if (sigaction(SIGPIPE, &sa, NULL) != 0) {
        sim_fatal("sigaction: %s", strerror(errno));
    }

    if (sim_setup() != 0) {
        return 2;
    }

    sim_run();

    sim.ended_at = sim_now_ms();

    if (sim.opt.report && sim_report() != 0) {
        return 1;
    }

    if (sim.opt.truth && sim.nriders && sim_truth() != 0) {
        return 1;
    }

    sim_summary();

    return sim_exit_status();
}


/* logging and failing */

static void
sim_log(int level, const char *fmt, ...)
{
    va_list  ap;

    if (level > sim.opt.verbosity) {
        return;
    }

    va_start(ap, fmt);
    fputs("race-sim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}


static void
sim_fatal(const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    fputs("race-sim: fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);

    exit(1);
}


/*
 * A connection problem: every one with --verbose, the first few
 * otherwise, so that a thousand riders losing the server at once do not
 * bury the summary.
 */

static void
sim_problem(sim_conn_t *c, const char *fmt, ...)
{
    char     text[256];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);

    if (sim.opt.verbosity >= SIM_LOG_DEBUG) {
        sim_log(SIM_LOG_DEBUG, "%s: %s", c->name, text);
        return;
    }

    sim.problems++;

    if (sim.problems <= SIM_PROBLEMS_SHOWN) {
        sim_log(SIM_LOG_INFO, "%s: %s", c->name, text);
    }

    if (sim.problems == SIM_PROBLEMS_SHOWN) {
        sim_log(SIM_LOG_INFO, "more connection problems are only counted "
                "(--verbose shows them)");
    }
}


/* clocks and randomness */

static int64_t
sim_now_ms(void)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        sim_fatal("clock_gettime: %s", strerror(errno));
    }

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static int64_t
sim_now_us(void)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        sim_fatal("clock_gettime: %s", strerror(errno));
    }

    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


static int64_t
sim_wall_ms(void)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        sim_fatal("clock_gettime: %s", strerror(errno));
    }

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static int64_t
sim_wall_us(void)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        sim_fatal("clock_gettime: %s", strerror(errno));
    }

    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/* splitmix64: masks, keys, jitter and noise need speed, not secrecy */

static uint64_t
sim_rand(void)
{
    uint64_t  z;

    sim.rng += 0x9e3779b97f4a7c15ULL;

    z = sim.rng;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;

    return z ^ (z >> 31);
}


/* [0, 1) */

static double
sim_uniform(void)
{
    return (double) (sim_rand() >> 11) * (1.0 / 9007199254740992.0);
}


/* standard normal, Box-Muller */

static double
sim_gauss(void)
{
    double  u1, u2;

    u1 = 1.0 - sim_uniform();      /* (0, 1]: log() stays finite */
    u2 = sim_uniform();

    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}


/* buffers: an allocation failure ends the run */

static void
sim_buf_reserve(sim_buf_t *b, size_t n)
{
    size_t    size;
    uint8_t  *p;

    if (b->size - b->len >= n) {
        return;
    }

    size = b->size ? b->size : 256;

    while (size - b->len < n) {
        if (size > SIZE_MAX / 2) {
            sim_fatal("buffer too large");
        }

        size *= 2;
    }

    p = realloc(b->data, size);
    if (p == NULL) {
        sim_fatal("out of memory");
    }

    b->data = p;
    b->size = size;
}


static void
sim_buf_append(sim_buf_t *b, const void *p, size_t n)
{
    sim_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}


static void
sim_buf_printf(sim_buf_t *b, const char *fmt, ...)
{
    int      n;
    size_t   room;
    va_list  ap;

    sim_buf_reserve(b, 256);

    for ( ;; ) {
        room = b->size - b->len;

        va_start(ap, fmt);
        n = vsnprintf((char *) b->data + b->len, room, fmt, ap);
        va_end(ap);

        if (n < 0) {
            sim_fatal("vsnprintf failed");
        }

        if ((size_t) n < room) {
            b->len += n;
            return;
        }

        sim_buf_reserve(b, (size_t) n + 1);
    }
}


static void
sim_buf_free(sim_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->size = 0;
}


/* jansson helpers: the report is built with them, failures are fatal */

static void
sim_json_set(json_t *obj, const char *key, json_t *v)
{
    /* json_object_set_new() takes v even when it fails */

    if (v == NULL || json_object_set_new(obj, key, v) != 0) {
        sim_fatal("out of memory building JSON");
    }
}


static void
sim_json_append(json_t *arr, json_t *v)
{
    if (v == NULL || json_array_append_new(arr, v) != 0) {
        sim_fatal("out of memory building JSON");
    }
}


static void
sim_json_count(json_t *obj, const char *key)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (v == NULL) {
        sim_json_set(obj, key, json_integer(1));
        return;
    }

    if (json_integer_set(v, json_integer_value(v) + 1) != 0) {
        sim_fatal("json_integer_set failed");
    }
}


/* the command line */

enum {
    SIM_OPT_URL = 256,
    SIM_OPT_KEY_FILE,
    SIM_OPT_KID,
    SIM_OPT_TOKEN,
    SIM_OPT_TOKEN_IN,
    SIM_OPT_RACES,
    SIM_OPT_RIDERS,
    SIM_OPT_RACE_PREFIX,
    SIM_OPT_RIDER_PREFIX,
    SIM_OPT_FIXES,
    SIM_OPT_DURATION,
    SIM_OPT_INTERVAL,
    SIM_OPT_WINDOW,
    SIM_OPT_BATCH_EVERY,
    SIM_OPT_LIVE_FIXES,
    SIM_OPT_DRAIN,
    SIM_OPT_MAX_SECONDS,
    SIM_OPT_RAMP,
    SIM_OPT_CENTER,
    SIM_OPT_SEQ_START,
    SIM_OPT_SEED,
    SIM_OPT_WATCH,
    SIM_OPT_WATCH_SECONDS,
    SIM_OPT_WATCH_TOKEN,
    SIM_OPT_REPORT,
    SIM_OPT_COURSE,
    SIM_OPT_LAPS,
    SIM_OPT_SPEED,
    SIM_OPT_SPEED_SPREAD,
    SIM_OPT_NOISE,
    SIM_OPT_TOKENS,
    SIM_OPT_TRUTH,
    SIM_OPT_WINDOW_AT,
    SIM_OPT_WINDOW_MS,
    SIM_OPT_SOURCE_IPS
};


static const struct option  sim_long_options[] = {
    { "url",           required_argument, NULL, SIM_OPT_URL },
    { "key-file",      required_argument, NULL, SIM_OPT_KEY_FILE },
    { "kid",           required_argument, NULL, SIM_OPT_KID },
    { "token",         required_argument, NULL, SIM_OPT_TOKEN },
    { "token-in",      required_argument, NULL, SIM_OPT_TOKEN_IN },
    { "races",         required_argument, NULL, SIM_OPT_RACES },
    { "riders",        required_argument, NULL, SIM_OPT_RIDERS },
    { "race-prefix",   required_argument, NULL, SIM_OPT_RACE_PREFIX },
    { "rider-prefix",  required_argument, NULL, SIM_OPT_RIDER_PREFIX },
    { "fixes",         required_argument, NULL, SIM_OPT_FIXES },
    { "duration",      required_argument, NULL, SIM_OPT_DURATION },
    { "interval-ms",   required_argument, NULL, SIM_OPT_INTERVAL },
    { "window",        required_argument, NULL, SIM_OPT_WINDOW },
    { "batch-every",   required_argument, NULL, SIM_OPT_BATCH_EVERY },
    { "live-fixes",    required_argument, NULL, SIM_OPT_LIVE_FIXES },
    { "drain-seconds", required_argument, NULL, SIM_OPT_DRAIN },
    { "max-seconds",   required_argument, NULL, SIM_OPT_MAX_SECONDS },
    { "ramp-ms",       required_argument, NULL, SIM_OPT_RAMP },
    { "center",        required_argument, NULL, SIM_OPT_CENTER },
    { "seq-start",     required_argument, NULL, SIM_OPT_SEQ_START },
    { "seed",          required_argument, NULL, SIM_OPT_SEED },
    { "watch",         required_argument, NULL, SIM_OPT_WATCH },
    { "watch-seconds", required_argument, NULL, SIM_OPT_WATCH_SECONDS },
    { "watch-token",   required_argument, NULL, SIM_OPT_WATCH_TOKEN },
    { "report",        required_argument, NULL, SIM_OPT_REPORT },
    { "course",        required_argument, NULL, SIM_OPT_COURSE },
    { "laps",          required_argument, NULL, SIM_OPT_LAPS },
    { "speed",         required_argument, NULL, SIM_OPT_SPEED },
    { "speed-spread",  required_argument, NULL, SIM_OPT_SPEED_SPREAD },
    { "noise",         required_argument, NULL, SIM_OPT_NOISE },
    { "tokens",        required_argument, NULL, SIM_OPT_TOKENS },
    { "truth",         required_argument, NULL, SIM_OPT_TRUTH },
    { "window-at",     required_argument, NULL, SIM_OPT_WINDOW_AT },
    { "window-ms",     required_argument, NULL, SIM_OPT_WINDOW_MS },
    { "source-ips",    required_argument, NULL, SIM_OPT_SOURCE_IPS },
    { "quiet",         no_argument,       NULL, 'q' },
    { "verbose",       no_argument,       NULL, 'v' },
    { "help",          no_argument,       NULL, 'h' },
    { NULL,            0,                 NULL, 0 }
};


/* 0: run; -1: exit with *status (2 on a usage error, 0 after --help) */

static int
sim_options(int argc, char **argv, int *status)
{
    int          ch, rc;
    char         id[RACE_JWT_ID_MAX + 2], *end, **w;
    sim_opts_t  *o;

    o = &sim.opt;

    o->races = 1;
    o->riders = 1;
    o->race_prefix = "r";
    o->rider_prefix = "p";
    o->interval_ms = 1000;
    o->window = 1;
    o->drain_s = 30;
    o->seq_start = 1;
    o->lat0 = 45.07;
    o->lon0 = 7.68;
    o->verbosity = SIM_LOG_INFO;
    o->watch_s = -1;
    o->laps = 1;
    o->speed = SIM_SPEED_MPS;
    o->speed_spread = 0.1;
    o->window_ms = 10000;
    o->source_ips = 1;

    for ( ;; ) {
        ch = getopt_long(argc, argv, "qvh", sim_long_options, NULL);

        if (ch == -1) {
            break;
        }

        rc = 0;

        switch (ch) {

        case SIM_OPT_URL:
            o->url = optarg;
            break;

        case SIM_OPT_KEY_FILE:
            o->key_file = optarg;
            break;

        case SIM_OPT_KID:
            o->kid = optarg;
            break;

        case SIM_OPT_TOKEN:
            o->token = optarg;
            break;

        case SIM_OPT_TOKEN_IN:
            if (strcmp(optarg, "header") == 0) {
                o->token_in_query = 0;

            } else if (strcmp(optarg, "query") == 0) {
                o->token_in_query = 1;

            } else {
                fprintf(stderr, "race-sim: bad --token-in \"%s\" "
                        "(header or query)\n", optarg);
                rc = -1;
            }

            break;

        case SIM_OPT_RACES:
            rc = sim_number("--races", optarg, 1, 100000, &o->races);
            break;

        case SIM_OPT_RIDERS:
            rc = sim_number("--riders", optarg, 1, 1000000, &o->riders);
            break;

        case SIM_OPT_RACE_PREFIX:
            o->race_prefix = optarg;
            break;

        case SIM_OPT_RIDER_PREFIX:
            o->rider_prefix = optarg;
            break;

        case SIM_OPT_FIXES:
            rc = sim_number("--fixes", optarg, 1, 100000000, &o->fixes);
            break;

        case SIM_OPT_DURATION:
            rc = sim_number("--duration", optarg, 1, 7 * 86400,
                            &o->duration);
            break;

        case SIM_OPT_INTERVAL:
            rc = sim_number("--interval-ms", optarg, 0, 3600000,
                            &o->interval_ms);
            break;

        case SIM_OPT_WINDOW:
            rc = sim_number("--window", optarg, 1, 100000, &o->window);
            break;

        case SIM_OPT_BATCH_EVERY:
            rc = sim_number("--batch-every", optarg, 1, 1000000,
                            &o->batch_every);
            break;

        case SIM_OPT_LIVE_FIXES:
            rc = sim_number("--live-fixes", optarg, 0, 1000000,
                            &o->live_fixes);
            break;

        case SIM_OPT_DRAIN:
            rc = sim_number("--drain-seconds", optarg, 0, 86400,
                            &o->drain_s);
            break;

        case SIM_OPT_MAX_SECONDS:
            rc = sim_number("--max-seconds", optarg, 1, 7 * 86400,
                            &o->max_s);
            break;

        case SIM_OPT_RAMP:
            rc = sim_number("--ramp-ms", optarg, 0, 3600000, &o->ramp_ms);
            break;

        case SIM_OPT_CENTER:
            rc = sim_center(optarg);
            break;

        case SIM_OPT_SEQ_START:
            rc = sim_number("--seq-start", optarg, 0,
                            9007199254740991LL - 100000000, &o->seq_start);
            break;

        case SIM_OPT_SEED:
            errno = 0;
            o->seed = strtoull(optarg, &end, 0);

            if (errno != 0 || end == optarg || *end != '\0') {
                fprintf(stderr, "race-sim: bad --seed \"%s\"\n", optarg);
                rc = -1;
            }

            o->has_seed = 1;
            break;

        case SIM_OPT_WATCH:
            w = realloc(o->watch, (o->nwatch + 1) * sizeof(char *));
            if (w == NULL) {
                sim_fatal("out of memory");
            }

            o->watch = w;
            o->watch[o->nwatch++] = optarg;
            break;

        case SIM_OPT_WATCH_SECONDS:
            rc = sim_number("--watch-seconds", optarg, 1, 7 * 86400,
                            &o->watch_s);
            break;

        case SIM_OPT_WATCH_TOKEN:
            o->watch_token = optarg;
            break;

        case SIM_OPT_REPORT:
            o->report = optarg;
            break;

        case SIM_OPT_COURSE:
            o->course = optarg;
            break;

        case SIM_OPT_LAPS:
            rc = sim_number("--laps", optarg, 1, RACE_COURSE_LAPS_MAX,
                            &o->laps);
            break;

        case SIM_OPT_SPEED:
            rc = sim_double("--speed", optarg, 0.5, 100.0, &o->speed);
            break;

        case SIM_OPT_SPEED_SPREAD:
            rc = sim_double("--speed-spread", optarg, 0.0, 0.9,
                            &o->speed_spread);
            break;

        case SIM_OPT_NOISE:
            rc = sim_double("--noise", optarg, 0.0, 1000.0, &o->noise);
            break;

        case SIM_OPT_TOKENS:
            o->tokens = optarg;
            break;

        case SIM_OPT_TRUTH:
            o->truth = optarg;
            break;

        case SIM_OPT_WINDOW_AT:
            rc = sim_number("--window-at", optarg, 1, INT64_MAX / 1000,
                            &o->window_at);
            break;

        case SIM_OPT_WINDOW_MS:
            rc = sim_number("--window-ms", optarg, 1000, 86400000,
                            &o->window_ms);
            break;

        case SIM_OPT_SOURCE_IPS:
            rc = sim_number("--source-ips", optarg, 1, 254,
                            &o->source_ips);
            break;

        case 'q':
            o->verbosity = SIM_LOG_ERR;
            break;

        case 'v':
            o->verbosity = SIM_LOG_DEBUG;
            break;

        case 'h':
            fputs(sim_usage, stdout);
            *status = 0;
            return -1;

        default:
            fputs(sim_usage, stderr);
            rc = -1;
        }

        if (rc != 0) {
            *status = 2;
            return -1;
        }
    }

    *status = 2;

    if (optind != argc) {
        fprintf(stderr, "race-sim: unexpected argument \"%s\"\n",
                argv[optind]);
        return -1;
    }

    if (o->url == NULL && o->nwatch == 0) {
        fputs(sim_usage, stderr);
        return -1;
    }

    if (o->url == NULL && (o->course || o->tokens || o->truth)) {
        fprintf(stderr, "race-sim: --course, --tokens and --truth are "
                "for riders: they need --url\n");
        return -1;
    }

    if (o->url == NULL) {
        if (o->watch_s < 0) {
            o->watch_s = 10;
        }

        return 0;
    }

    if (o->token == NULL && o->tokens == NULL
        && (o->key_file == NULL || o->kid == NULL))
    {
        fprintf(stderr, "race-sim: --url needs --key-file and --kid, "
                "--token or --tokens\n");
        return -1;
    }

    if ((o->token != NULL) + (o->key_file != NULL) + (o->tokens != NULL)
        > 1)
    {
        fprintf(stderr, "race-sim: --token, --tokens and --key-file "
                "exclude each other\n");
        return -1;
    }

    if (o->fixes == 0 && o->duration == 0 && o->course == NULL) {
        fprintf(stderr, "race-sim: --url needs --fixes, --duration or "
                "--course\n");
        return -1;
    }

    if (o->truth && o->course == NULL) {
        fprintf(stderr, "race-sim: --truth needs --course\n");
        return -1;
    }

    if (o->live_fixes && o->batch_every == 0) {
        fprintf(stderr, "race-sim: --live-fixes needs --batch-every\n");
        return -1;
    }

    /* the longest ids these prefixes make must be ids */

    if (snprintf(id, sizeof(id), "%s%lld", o->race_prefix, o->races)
        >= (int) sizeof(id) || !race_id_valid(id, strlen(id)))
    {
        fprintf(stderr, "race-sim: bad --race-prefix \"%s\" "
                "(ids are [A-Za-z0-9_-]{1,64})\n", o->race_prefix);
        return -1;
    }

    if (snprintf(id, sizeof(id), "%s%lld", o->rider_prefix, o->riders)
        >= (int) sizeof(id) || !race_id_valid(id, strlen(id)))
    {
        fprintf(stderr, "race-sim: bad --rider-prefix \"%s\" "
                "(ids are [A-Za-z0-9_-]{1,64})\n", o->rider_prefix);
        return -1;
    }

    if (o->races * o->riders > 1000000) {
        fprintf(stderr, "race-sim: %lld riders is too many (1000000 at "
                "most)\n", o->races * o->riders);
        return -1;
    }

    return 0;
}


static int
sim_number(const char *name, const char *s, long long min, long long max,
    long long *out)
{
    char       *end;
    long long   v;

    errno = 0;
    v = strtoll(s, &end, 10);

    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "race-sim: bad %s \"%s\" (%lld to %lld)\n",
                name, s, min, max);
        return -1;
    }

    *out = v;

    return 0;
}


static int
sim_center(const char *s)
{
    char        *end;
    double       lat, lon;
    const char  *p;

    errno = 0;
    lat = strtod(s, &end);

    if (errno == 0 && end != s && *end == ',') {
        p = end + 1;
        lon = strtod(p, &end);

        if (errno == 0 && end != p && *end == '\0'
            && lat >= -80.0 && lat <= 80.0 && lon >= -180.0 && lon <= 180.0)
        {
            sim.opt.lat0 = lat;
            sim.opt.lon0 = lon;
            return 0;
        }
    }

    fprintf(stderr, "race-sim: bad --center \"%s\" (LAT,LON, |LAT| <= 80)\n",
            s);

    return -1;
}


static int
sim_double(const char *name, const char *s, double min, double max,
    double *out)
{
    char    *end;
    double   v;

    errno = 0;
    v = strtod(s, &end);

    if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max)) {
        fprintf(stderr, "race-sim: bad %s \"%s\" (%g to %g)\n", name, s,
                min, max);
        return -1;
    }

    *out = v;

    return 0;
}


/* ws://host[:port][/path][?query]; the host is resolved once, here */

static int
sim_url_parse(sim_url_t *u, const char *text)
{
    int               rc;
    char              port[8];
    const char       *p, *auth, *auth_end, *host, *host_end, *slash;
    struct addrinfo   hints, *res;

    memset(u, 0, sizeof(sim_url_t));

    if (strncasecmp(text, "wss://", 6) == 0) {
        fprintf(stderr, "race-sim: \"%s\": wss is not supported\n", text);
        return -1;
    }

    if (strncasecmp(text, "ws://", 5) != 0) {
        fprintf(stderr, "race-sim: \"%s\" is not a ws:// URL\n", text);
        return -1;
    }

    auth = text + 5;
    auth_end = auth + strcspn(auth, "/?#");

    if (*auth_end == '#' || auth_end == auth) {
        fprintf(stderr, "race-sim: bad URL \"%s\"\n", text);
        return -1;
    }

    strcpy(port, "80");

    if (*auth == '[') {
        host = auth + 1;
        host_end = memchr(host, ']', auth_end - host);

        if (host_end == NULL) {
            fprintf(stderr, "race-sim: bad URL \"%s\"\n", text);
            return -1;
        }

        p = host_end + 1;

    } else {
        host = auth;
        host_end = memchr(auth, ':', auth_end - auth);

        if (host_end == NULL) {
            host_end = auth_end;
        }

        p = host_end;
    }

    if (p < auth_end) {
        if (*p != ':' || auth_end - p < 2 || auth_end - p > 6
            || strspn(p + 1, "0123456789") < (size_t) (auth_end - p - 1)
            || atoi(p + 1) < 1 || atoi(p + 1) > 65535)
        {
            fprintf(stderr, "race-sim: bad port in \"%s\"\n", text);
            return -1;
        }

        snprintf(port, sizeof(port), "%d", atoi(p + 1));
    }

    if (host_end == host) {
        fprintf(stderr, "race-sim: no host in \"%s\"\n", text);
        return -1;
    }

    u->text = strdup(text);
    u->host = strndup(host, host_end - host);
    u->authority = strndup(auth, auth_end - auth);

    if (*auth_end == '\0') {
        u->path = strdup("/");

    } else if (*auth_end == '?') {
        u->path = malloc(strlen(auth_end) + 2);
        if (u->path) {
            u->path[0] = '/';
            strcpy(u->path + 1, auth_end);
        }

    } else {
        u->path = strdup(auth_end);
    }

    if (u->text == NULL || u->host == NULL || u->authority == NULL
        || u->path == NULL)
    {
        sim_fatal("out of memory");
    }

    /* the race of /live/{race_id}: the last segment before any query */

    p = u->path + strcspn(u->path, "?");
    slash = p;

    while (slash > u->path && slash[-1] != '/') {
        slash--;
    }

    u->race = strndup(slash, p - slash);
    if (u->race == NULL) {
        sim_fatal("out of memory");
    }

    memset(&hints, 0, sizeof(struct addrinfo));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    rc = getaddrinfo(u->host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "race-sim: \"%s\": %s\n", u->host, gai_strerror(rc));
        return -1;
    }

    if (res->ai_addrlen > sizeof(struct sockaddr_storage)) {
        freeaddrinfo(res);
        fprintf(stderr, "race-sim: \"%s\": address too long\n", u->host);
        return -1;
    }

    memcpy(&u->addr, res->ai_addr, res->ai_addrlen);
    u->addrlen = res->ai_addrlen;

    freeaddrinfo(res);

    return 0;
}


/* the secret: the file's bytes without the line end, as the module has it */

static int
sim_read_key(void)
{
    FILE    *f;
    size_t   n;

    sim.secret = malloc(SIM_KEY_FILE_MAX + 1);
    if (sim.secret == NULL) {
        sim_fatal("out of memory");
    }

    f = fopen(sim.opt.key_file, "rb");
    if (f == NULL) {
        fprintf(stderr, "race-sim: \"%s\": %s\n", sim.opt.key_file,
                strerror(errno));
        return -1;
    }

    n = fread(sim.secret, 1, SIM_KEY_FILE_MAX + 1, f);

    if (ferror(f)) {
        fprintf(stderr, "race-sim: \"%s\": read error\n", sim.opt.key_file);
        fclose(f);
        return -1;
    }

    if (fclose(f) != 0) {
        fprintf(stderr, "race-sim: \"%s\": %s\n", sim.opt.key_file,
                strerror(errno));
        return -1;
    }

    if (n > SIM_KEY_FILE_MAX) {
        fprintf(stderr, "race-sim: \"%s\" is too large for a key\n",
                sim.opt.key_file);
        return -1;
    }

    n = race_jwt_key_trim(sim.secret, n);

    if (n < RACE_JWT_KEY_MIN) {
        fprintf(stderr, "race-sim: \"%s\" holds %zu bytes of secret, "
                "at least %d are needed\n", sim.opt.key_file, n,
                RACE_JWT_KEY_MIN);
        return -1;
    }

    if (strlen(sim.opt.kid) == 0 || strlen(sim.opt.kid) > RACE_JWT_KID_MAX) {
        fprintf(stderr, "race-sim: bad --kid \"%s\"\n", sim.opt.kid);
        return -1;
    }

    sim.key.kid = sim.opt.kid;
    sim.key.secret = sim.secret;
    sim.key.secret_len = n;

    return 0;
}


/* --tokens: a rider a line, "RACE RIDER TOKEN", as the races API made */

static int
sim_read_tokens(void)
{
    int           rc;
    FILE         *f;
    char         *line, *race, *rider, *token, *extra, *save;
    size_t        n, size, lineno;
    sim_rider_t  *r, *riders;

    line = malloc(SIM_TOKENS_LINE_MAX + 2);
    if (line == NULL) {
        sim_fatal("out of memory");
    }

    f = fopen(sim.opt.tokens, "r");
    if (f == NULL) {
        fprintf(stderr, "race-sim: \"%s\": %s\n", sim.opt.tokens,
                strerror(errno));
        free(line);
        return -1;
    }

    rc = 0;
    size = 0;
    lineno = 0;

    while (fgets(line, SIM_TOKENS_LINE_MAX + 2, f) != NULL) {
        lineno++;
        n = strlen(line);

        if (n > 0 && line[n - 1] != '\n' && !feof(f)) {
            fprintf(stderr, "race-sim: \"%s\" line %zu is too long\n",
                    sim.opt.tokens, lineno);
            rc = -1;
            break;
        }

        race = strtok_r(line, " \t\r\n", &save);

        if (race == NULL || race[0] == '#') {
            continue;
        }

        rider = strtok_r(NULL, " \t\r\n", &save);
        token = rider ? strtok_r(NULL, " \t\r\n", &save) : NULL;
        extra = token ? strtok_r(NULL, " \t\r\n", &save) : NULL;

        if (token == NULL || extra != NULL
            || !race_id_valid(race, strlen(race))
            || !race_id_valid(rider, strlen(rider))
            || strlen(token) > RACE_JWT_MAX_LEN)
        {
            fprintf(stderr, "race-sim: \"%s\" line %zu: not \"RACE RIDER "
                    "TOKEN\" (ids are [A-Za-z0-9_-]{1,64})\n",
                    sim.opt.tokens, lineno);
            rc = -1;
            break;
        }

        if (sim.nriders == 1000000) {
            fprintf(stderr, "race-sim: \"%s\": more than 1000000 riders\n",
                    sim.opt.tokens);
            rc = -1;
            break;
        }

        if (sim.nriders == size) {
            size = size ? size * 2 : 64;

            riders = realloc(sim.riders, size * sizeof(sim_rider_t));
            if (riders == NULL) {
                sim_fatal("out of memory");
            }

            sim.riders = riders;
        }

        r = &sim.riders[sim.nriders++];
        memset(r, 0, sizeof(sim_rider_t));

        memcpy(r->race, race, strlen(race) + 1);
        memcpy(r->rider, rider, strlen(rider) + 1);

        r->token = strdup(token);
        if (r->token == NULL) {
            sim_fatal("out of memory");
        }
    }

    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "race-sim: \"%s\": read error\n", sim.opt.tokens);
        rc = -1;
    }

    fclose(f);
    free(line);

    if (rc == 0 && sim.nriders == 0) {
        fprintf(stderr, "race-sim: \"%s\" has no riders\n",
                sim.opt.tokens);
        rc = -1;
    }

    return rc;
}


/*
 * --course: the course, and every rider's ride drawn from its start on
 * the line; sets send_end past the last rider's last fix.
 */

static int
sim_course_setup(uint64_t seed)
{
    size_t              i;
    int64_t             start, end, last;
    sim_opts_t         *o;
    sim_course_conf_t   conf;

    o = &sim.opt;

    memset(&conf, 0, sizeof(sim_course_conf_t));
    conf.speed = o->speed;
    conf.spread = o->speed_spread;
    conf.noise = o->noise;
    conf.laps = (unsigned) o->laps;
    conf.seed = seed;
    conf.interval_ms = o->interval_ms;

    if (sim_course_load(&sim.course, o->course, &conf) != 0) {
        return -1;
    }

    sim.rides = calloc(sim.nriders, sizeof(sim_course_rider_t));
    if (sim.rides == NULL) {
        sim_fatal("out of memory");
    }

    last = sim.wall0;

    for (i = 0; i < sim.nriders; i++) {

        /* the start, as the rider's first connection: see the ramp */

        start = sim.wall0 + (sim.nriders > 1
                             ? o->ramp_ms * (int64_t) i
                               / (int64_t) (sim.nriders - 1)
                             : 0);

        if (sim_course_rider_start(&sim.rides[i], &sim.course,
                                   (unsigned) i, start)
            != 0)
        {
            sim_fatal("out of memory");
        }

        sim.riders[i].ride = &sim.rides[i];

        end = sim_course_rider_end(&sim.rides[i], &sim.course);
        last = end > last ? end : last;
    }

    sim.send_end = sim.t0 + (last - sim.wall0) + 30000;

    sim_log(SIM_LOG_INFO, "course of %.0f m (%u lap%s), the last rider "
            "done in %.0f s", sim.course.course.length,
            sim.course.course.laps, sim.course.course.laps > 1 ? "s" : "",
            (double) (last - sim.wall0) / 1000.0);

    return 0;
}


static void
sim_conn_init(sim_conn_t *c, sim_kind_e kind, sim_url_t *url,
    const char *token, uint64_t max_message)
{
    c->kind = kind;
    c->state = SIM_CONN_IDLE;
    c->fd = -1;
    c->url = url;
    c->token = token;
    c->max_message = max_message;
    c->heap_idx = SIM_NO_TIMER;
}


/* everything that can fail before the first connection; 0 or -1 */

static int
sim_setup(void)
{
    char               jti[RACE_JWT_ID_MAX + 1];
    char               tok[RACE_JWT_MAX_LEN];
    size_t             i, n, race_i, rider_i;
    int64_t            now_s, interval;
    uint64_t           seed;
    sim_opts_t        *o;
    sim_rider_t       *r;
    sim_watch_t       *w;
    struct rlimit      rl;
    race_jwt_claims_t  cl;

    o = &sim.opt;

    if (o->has_seed) {
        seed = o->seed;

    } else if (RAND_bytes((unsigned char *) &seed, sizeof(seed)) != 1) {
        sim_fatal("RAND_bytes failed");
    }

    sim.rng = seed;

    if (o->url) {
        if (sim_url_parse(&sim.ride_url, o->url) != 0) {
            return -1;
        }

        if (o->key_file && sim_read_key() != 0) {
            return -1;
        }

        if (o->tokens) {
            if (sim_read_tokens() != 0) {
                return -1;
            }

        } else {
            sim.nriders = (size_t) (o->races * o->riders);
        }
    }

    sim.nwatches = o->nwatch;

    if (sim.riders == NULL) {
        sim.riders = calloc(sim.nriders ? sim.nriders : 1,
                            sizeof(sim_rider_t));
    }

    sim.watches = calloc(sim.nwatches ? sim.nwatches : 1,
                         sizeof(sim_watch_t));
    sim.rbuf = malloc(SIM_READ_SIZE);
    sim.http_status = json_object();
    sim.close_codes = json_object();
    sim.reject_codes = json_object();

    if (sim.riders == NULL || sim.watches == NULL || sim.rbuf == NULL
        || sim.http_status == NULL || sim.close_codes == NULL
        || sim.reject_codes == NULL)
    {
        sim_fatal("out of memory");
    }

    for (i = 0; i < sim.nwatches; i++) {
        w = &sim.watches[i];

        w->conn.url = malloc(sizeof(sim_url_t));
        if (w->conn.url == NULL) {
            sim_fatal("out of memory");
        }

        if (sim_url_parse(w->conn.url, o->watch[i]) != 0) {
            return -1;
        }

        sim_conn_init(&w->conn, SIM_WATCH, w->conn.url, o->watch_token,
                      SIM_WATCH_MESSAGE_MAX);

        snprintf(w->conn.name, sizeof(w->conn.name), "watch %.64s",
                 w->conn.url->race);

        w->types = json_object();
        w->races = json_object();
        w->riders = json_object();
        w->last_t = json_object();
        w->snap_t = json_object();

        if (w->types == NULL || w->races == NULL || w->riders == NULL
            || w->last_t == NULL || w->snap_t == NULL)
        {
            sim_fatal("out of memory");
        }
    }

    /* one descriptor per connection, and a few to spare */

    n = sim.nriders + sim.nwatches + 16;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        sim_fatal("getrlimit: %s", strerror(errno));
    }

    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n) {
        rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= n)
                      ? n : rl.rlim_max;

        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            sim_fatal("setrlimit: %s", strerror(errno));
        }

        if (rl.rlim_cur < n) {
            sim_log(SIM_LOG_ERR, "warning: %zu connections, but only %llu "
                    "file descriptors", n - 16,
                    (unsigned long long) rl.rlim_cur);
        }
    }

    if (sim.opt.window_at) {
        sim.nsecs = (sim.opt.window_ms + 999) / 1000;
        sim.secs = calloc(sim.nsecs, sizeof(sim_sec_t));

        if (sim.secs == NULL) {
            sim_fatal("out of memory");
        }
    }

    sim.ep = epoll_create1(EPOLL_CLOEXEC);
    if (sim.ep == -1) {
        sim_fatal("epoll_create1: %s", strerror(errno));
    }

    sim.t0 = sim_now_ms();
    sim.wall0 = sim_wall_ms();
    now_s = sim.wall0 / 1000;
    interval = o->interval_ms;

    /* the riders' rides, before the phases' ends that they bound */

    if (o->course && sim.nriders && sim_course_setup(seed) != 0) {
        return -1;
    }

    /* the phases' ends: every wait of the run is bounded by hard_end */

    if (sim.nriders) {
        if (o->duration) {
            sim.send_end = sim.t0 + o->duration * 1000 + o->ramp_ms;

        } else if (o->max_s) {
            sim.send_end = sim.t0 + o->max_s * 1000;

        } else if (o->course) {
            /* sim_course_setup() set the last rider's end */
            if (o->fixes
                && sim.t0 + 30000 + 3 * o->fixes * interval + o->ramp_ms
                   < sim.send_end)
            {
                sim.send_end = sim.t0 + 30000 + 3 * o->fixes * interval
                               + o->ramp_ms;
            }

        } else {
            sim.send_end = sim.t0 + 30000 + 3 * o->fixes * interval
                           + o->ramp_ms;
        }

        sim.hard_end = sim.send_end + o->drain_s * 1000 + SIM_GRACE_MS;
    }

    if (sim.nwatches) {
        if (o->watch_s > 0) {
            sim.watch_end = sim.t0 + o->watch_s * 1000;

        } else {
            /* with riders: until they are done, within their bounds */
            sim.watch_end = sim.hard_end - SIM_GRACE_MS;
        }

        if (sim.watch_end + SIM_GRACE_MS > sim.hard_end) {
            sim.hard_end = sim.watch_end + SIM_GRACE_MS;
        }
    }

    for (i = 0; i < sim.nriders; i++) {
        r = &sim.riders[i];
        race_i = i / (size_t) o->riders;
        rider_i = i % (size_t) o->riders;

        if (o->tokens) {
            /* ids and token from the file */

        } else if (o->token) {
            snprintf(r->race, sizeof(r->race), "%s%zu", o->race_prefix,
                     race_i + 1);
            snprintf(r->rider, sizeof(r->rider), "%s%zu", o->rider_prefix,
                     rider_i + 1);

            r->token = o->token;

        } else {
            snprintf(r->race, sizeof(r->race), "%s%zu", o->race_prefix,
                     race_i + 1);
            snprintf(r->rider, sizeof(r->rider), "%s%zu", o->rider_prefix,
                     rider_i + 1);

            memset(&cl, 0, sizeof(race_jwt_claims_t));

            snprintf(jti, sizeof(jti), "sim-%016" PRIx64, sim_rand());

            memcpy(cl.sub, r->rider, sizeof(r->rider));
            memcpy(cl.race, r->race, sizeof(r->race));
            memcpy(cl.jti, jti, sizeof(jti));
            snprintf(cl.kid, sizeof(cl.kid), "%s", o->kid);
            cl.iat = now_s;
            cl.exp = now_s + SIM_TOKEN_TTL;

            n = race_jwt_sign(tok, &sim.key, SIM_ISS, SIM_AUD, &cl);
            if (n == 0) {
                fprintf(stderr, "race-sim: cannot sign a token for %s/%s\n",
                        r->race, r->rider);
                return -1;
            }

            r->token = strndup(tok, n);
            if (r->token == NULL) {
                sim_fatal("out of memory");
            }
        }

        sim_conn_init(&r->conn, SIM_RIDER, &sim.ride_url, r->token,
                      SIM_RIDE_MESSAGE_MAX);

        snprintf(r->conn.name, sizeof(r->conn.name), "%s/%s", r->race,
                 r->rider);

        r->next_seq = o->seq_start;
        r->unsent_seq = o->seq_start;
        r->acked_max = o->seq_start - 1;
        r->interval_ms = interval;
        r->generating = 1;
        sim.generating++;

        /* riders start spread over the ramp, fixes spread in a period */

        r->conn.reconnect_at = sim.t0 + (sim.nriders > 1
                               ? o->ramp_ms * (int64_t) i
                                 / (int64_t) (sim.nriders - 1)
                               : 0);

        r->next_fix_at = r->conn.reconnect_at
                         + (interval ? (int64_t) (sim_rand()
                                                  % (uint64_t) interval)
                                     : 0);
        r->moved_at = r->conn.reconnect_at;

        r->phase = 2.0 * M_PI * (double) rider_i / (double) o->riders
                   + 0.01 * sim_gauss();
        r->speed = SIM_SPEED_MPS - 1.0 + 2.0 * sim_uniform();
        r->bat = 0.6 + 0.4 * sim_uniform();

        sim_schedule(&r->conn);
    }

    for (i = 0; i < sim.nwatches; i++) {
        sim.watches[i].conn.reconnect_at = sim.t0;
        sim_schedule(&sim.watches[i].conn);
    }

    if (sim.nriders && o->tokens) {
        sim_log(SIM_LOG_INFO, "%zu riders of \"%s\" on %s, %s",
                sim.nriders, o->tokens, sim.ride_url.text,
                o->course ? "on a course"
                : (o->fixes ? "fixed count" : "for a duration"));

    } else if (sim.nriders) {
        sim_log(SIM_LOG_INFO, "%zu riders in %lld races on %s, %s",
                sim.nriders, o->races, sim.ride_url.text,
                o->course ? "on a course"
                : (o->fixes ? "fixed count" : "for a duration"));
    }

    if (sim.nwatches) {
        sim_log(SIM_LOG_INFO, "%zu spectators", sim.nwatches);
    }

    return 0;
}


/* timers: a binary min-heap of connections, one entry each */

static void
sim_timer_set(sim_conn_t *c, int64_t at)
{
    size_t        i, size;
    int64_t       old;
    sim_conn_t  **h;

    if (c->heap_idx == SIM_NO_TIMER) {
        if (at == 0) {
            return;
        }

        if (sim.nheap == sim.heap_size) {
            size = sim.heap_size ? sim.heap_size * 2 : 64;

            h = realloc(sim.heap, size * sizeof(sim_conn_t *));
            if (h == NULL) {
                sim_fatal("out of memory");
            }

            sim.heap = h;
            sim.heap_size = size;
        }

        c->timer_at = at;
        c->heap_idx = sim.nheap;
        sim.heap[sim.nheap++] = c;
        sim_heap_up(c->heap_idx);
        return;
    }

    i = c->heap_idx;

    if (at == 0) {
        /* the last entry takes the removed one's place */
        sim.nheap--;
        c->heap_idx = SIM_NO_TIMER;

        if (i == sim.nheap) {
            return;
        }

        sim.heap[i] = sim.heap[sim.nheap];
        sim.heap[i]->heap_idx = i;
        sim_heap_up(i);
        sim_heap_down(sim.heap[i]->heap_idx);
        return;
    }

    old = c->timer_at;
    c->timer_at = at;

    if (at < old) {
        sim_heap_up(i);

    } else if (at > old) {
        sim_heap_down(i);
    }
}


static void
sim_heap_swap(size_t i, size_t j)
{
    sim_conn_t  *t;

    t = sim.heap[i];
    sim.heap[i] = sim.heap[j];
    sim.heap[j] = t;
    sim.heap[i]->heap_idx = i;
    sim.heap[j]->heap_idx = j;
}


static void
sim_heap_up(size_t i)
{
    size_t  parent;

    while (i > 0) {
        parent = (i - 1) / 2;

        if (sim.heap[parent]->timer_at <= sim.heap[i]->timer_at) {
            break;
        }

        sim_heap_swap(i, parent);
        i = parent;
    }
}


static void
sim_heap_down(size_t i)
{
    size_t  l, min;

    for ( ;; ) {
        l = 2 * i + 1;
        min = i;

        if (l < sim.nheap && sim.heap[l]->timer_at < sim.heap[min]->timer_at)
        {
            min = l;
        }

        if (l + 1 < sim.nheap
            && sim.heap[l + 1]->timer_at < sim.heap[min]->timer_at)
        {
            min = l + 1;
        }

        if (min == i) {
            break;
        }

        sim_heap_swap(i, min);
        i = min;
    }
}


/* the connection's next wake-up: the earliest of what it waits for */

static void
sim_schedule(sim_conn_t *c)
{
    int64_t       at;
    sim_rider_t  *r;

    at = c->io_deadline;

    if (c->state == SIM_CONN_IDLE && c->reconnect_at
        && (at == 0 || c->reconnect_at < at))
    {
        at = c->reconnect_at;
    }

    if (c->kind == SIM_RIDER) {
        r = (sim_rider_t *) c;

        if (r->generating && r->interval_ms > 0
            && (at == 0 || r->next_fix_at < at))
        {
            at = r->next_fix_at;
        }
    }

    sim_timer_set(c, at);
}


/* connections */

static void
sim_conn_start(sim_conn_t *c)
{
    int                  fd, one;
    sim_sec_t           *sec;
    struct sockaddr_in   src;
    struct epoll_event   ee;

    c->reconnect_at = 0;

    if (c->ever) {
        sec = sim_window_sec(sim_wall_ms());

        if (c->kind == SIM_RIDER) {
            sim.st.reconnects++;
            ((sim_rider_t *) c)->reconnects++;

            if (sec) {
                sec->reconnects++;
            }

        } else {
            ((sim_watch_t *) c)->reconnects++;

            if (sec) {
                sec->watch_reconnects++;
            }
        }
    }

    c->ever = 1;
    c->opened = 0;
    c->sent_close = 0;
    c->local_close = 0;
    c->http_status = 0;
    c->out.len = 0;
    c->out_pos = 0;
    c->hs.len = 0;
    c->msg.len = 0;

    fd = socket(c->url->addr.ss_family,
                SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd == -1) {
        sim_problem(c, "socket: %s", strerror(errno));
        sim_conn_end(c, SIM_END_FAILED, "no socket");
        return;
    }

    c->fd = fd;
    c->state = SIM_CONN_CONNECTING;
    c->io_deadline = sim_now_ms() + SIM_CONNECT_TIMEOUT_MS;
    sim.active++;

    /* latency is measured per message: no Nagle delay */

    one = 1;

    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
        sim_problem(c, "TCP_NODELAY: %s", strerror(errno));
        sim_conn_end(c, SIM_END_FAILED, "setsockopt");
        return;
    }

    /* edge-triggered: every read and write goes on until EAGAIN */

    ee.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ee.data.ptr = c;

    if (epoll_ctl(sim.ep, EPOLL_CTL_ADD, fd, &ee) != 0) {
        sim_fatal("epoll_ctl: %s", strerror(errno));
    }

    /*
     * one source address has some 28,000 ephemeral ports towards one
     * server port: more phones than that need more addresses; the port
     * is still chosen by connect()
     */

    if (sim.opt.source_ips > 1 && c->url->addr.ss_family == AF_INET) {
        memset(&src, 0, sizeof(struct sockaddr_in));
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(0x7f000001
                                    + sim.next_src++ % sim.opt.source_ips);

        if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                       sizeof(one)) != 0
            || bind(fd, (struct sockaddr *) &src, sizeof(src)) != 0)
        {
            sim_problem(c, "bind: %s", strerror(errno));
            sim_conn_end(c, SIM_END_FAILED, "bind failed");
            return;
        }
    }

    if (connect(fd, (struct sockaddr *) &c->url->addr, c->url->addrlen)
        == 0)
    {
        sim_conn_connected(c);
        return;
    }

    if (errno != EINPROGRESS) {
        sim_problem(c, "connect: %s", strerror(errno));
        sim_conn_end(c, SIM_END_FAILED, "connect failed");
    }
}


static void
sim_conn_io(sim_conn_t *c, uint32_t events)
{
    int        err;
    socklen_t  len;

    if (c->state == SIM_CONN_IDLE) {
        /* ended earlier in this batch of events */
        return;
    }

    if (c->state == SIM_CONN_CONNECTING) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
            return;
        }

        err = 0;
        len = sizeof(err);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
            err = errno;
        }

        if (err != 0) {
            sim_problem(c, "connect: %s", strerror(err));
            sim_conn_end(c, SIM_END_FAILED, "connect failed");
            return;
        }

        sim_conn_connected(c);

        if (c->state == SIM_CONN_IDLE) {
            return;
        }
    }

    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        sim_conn_read(c);

        if (c->state == SIM_CONN_IDLE) {
            return;
        }
    }

    if (events & EPOLLOUT) {
        (void) sim_conn_flush(c);
    }
}


/* TCP is up: send the upgrade request */

static void
sim_conn_connected(sim_conn_t *c)
{
    int       query;
    uint8_t   raw[16];
    size_t    i;
    uint64_t  r;

    for (i = 0; i < sizeof(raw); i += 8) {
        r = sim_rand();
        memcpy(raw + i, &r, 8);
    }

    if (EVP_EncodeBlock((unsigned char *) c->key, raw, sizeof(raw)) != 24) {
        sim_fatal("EVP_EncodeBlock failed");
    }

    race_ws_accept((uint8_t *) c->key, 24, c->accept);

    query = c->token && (c->kind == SIM_WATCH || sim.opt.token_in_query);

    sim_buf_printf(&c->out, "GET %s%s%s%s HTTP/1.1\r\n"
                   "Host: %s\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   "User-Agent: race-sim\r\n",
                   c->url->path,
                   query ? (strchr(c->url->path, '?') ? "&" : "?") : "",
                   query ? "access_token=" : "",
                   query ? c->token : "",
                   c->url->authority, c->key);

    if (c->token && !query) {
        sim_buf_printf(&c->out, "Authorization: Bearer %s\r\n", c->token);
    }

    sim_buf_append(&c->out, "\r\n", 2);

    c->state = SIM_CONN_HANDSHAKE;

    (void) sim_conn_flush(c);
}


/* 0, or -1 when the connection ended */

static int
sim_conn_flush(sim_conn_t *c)
{
    ssize_t  n;

    while (c->out_pos < c->out.len) {
        n = send(c->fd, c->out.data + c->out_pos, c->out.len - c->out_pos,
                 MSG_NOSIGNAL);

        if (n > 0) {
            c->out_pos += n;
            continue;
        }

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* a slow reader: keep the buffer from creeping forward */

            if (c->out_pos > 65536 && c->out_pos > c->out.len / 2) {
                memmove(c->out.data, c->out.data + c->out_pos,
                        c->out.len - c->out_pos);
                c->out.len -= c->out_pos;
                c->out_pos = 0;
            }

            return 0;
        }

        sim_problem(c, "send: %s", n == -1 ? strerror(errno) : "0 bytes");
        sim_conn_end(c, sim_conn_how(c), "send failed");

        return -1;
    }

    c->out.len = 0;
    c->out_pos = 0;

    return 0;
}


static void
sim_conn_read(sim_conn_t *c)
{
    ssize_t  n;

    for ( ;; ) {
        n = recv(c->fd, sim.rbuf, SIM_READ_SIZE, 0);

        if (n > 0) {
            if (c->state == SIM_CONN_HANDSHAKE) {
                sim_conn_handshake(c, sim.rbuf, n);

            } else {
                sim_conn_frames(c, sim.rbuf, n);
            }

            if (c->state == SIM_CONN_IDLE) {
                return;
            }

            continue;
        }

        if (n == 0) {
            if (c->state != SIM_CONN_CLOSING) {
                sim_problem(c, "connection closed by the server");
            }

            sim_conn_end(c, sim_conn_how(c), "EOF");
            return;
        }

        if (errno == EINTR) {
            continue;
        }

        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        }

        sim_problem(c, "recv: %s", strerror(errno));
        sim_conn_end(c, sim_conn_how(c), "recv failed");

        return;
    }
}


static void
sim_conn_handshake(sim_conn_t *c, const uint8_t *data, size_t len)
{
    size_t       hlen, rest;
    uint8_t     *end;
    const char  *why;

    sim_buf_append(&c->hs, data, len);

    end = memmem(c->hs.data, c->hs.len, "\r\n\r\n", 4);

    if (end == NULL) {
        if (c->hs.len > SIM_HS_MAX) {
            sim_problem(c, "response header too long");
            sim_conn_end(c, SIM_END_FAILED, "bad response");
        }

        return;
    }

    hlen = end + 4 - c->hs.data;

    why = sim_http_check(c, c->hs.data, hlen);

    if (why != NULL) {
        if (c->http_status && c->http_status != 101) {
            sim_problem(c, "handshake: HTTP %d", c->http_status);

        } else {
            sim_problem(c, "handshake: %s", why);
        }

        sim_conn_end(c, SIM_END_FAILED, why);
        return;
    }

    c->state = SIM_CONN_OPEN;
    c->opened = 1;
    c->io_deadline = 0;
    sim.open++;

    race_ws_parser_init(&c->parser, c->max_message, 0);

    sim_log(SIM_LOG_DEBUG, "%s: open", c->name);

    if (c->kind == SIM_RIDER) {
        sim_rider_opened((sim_rider_t *) c);

    } else {
        sim_watch_opened((sim_watch_t *) c);
    }

    /*
     * Frames that came with the response.  Nothing appends to hs while
     * they are handled, and an ended connection only resets hs.len:
     * hs is freed here, once they are.
     */

    rest = c->hs.len - hlen;

    if (c->state == SIM_CONN_OPEN && rest > 0) {
        sim_conn_frames(c, c->hs.data + hlen, rest);
    }

    sim_buf_free(&c->hs);
}


/* NULL if the response completes the upgrade, else what is wrong */

static const char *
sim_http_check(sim_conn_t *c, const uint8_t *p, size_t len)
{
    int             upgrade, connection, accept;
    size_t          nlen, vlen;
    const uint8_t  *end, *line, *eol, *colon, *v;

    end = p + len;

    if (len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' '
        || p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9'
        || p[11] < '0' || p[11] > '9')
    {
        return "not an HTTP response";
    }

    c->http_status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + p[11] - '0';

    if (c->http_status != 101) {
        return "HTTP status is not 101";
    }

    upgrade = 0;
    connection = 0;
    accept = 0;

    line = memmem(p, len, "\r\n", 2) + 2;

    while (line < end) {
        eol = memmem(line, end - line, "\r\n", 2);

        if (eol == NULL || eol == line) {
            break;
        }

        colon = memchr(line, ':', eol - line);

        if (colon != NULL) {
            nlen = colon - line;

            v = colon + 1;

            while (v < eol && (*v == ' ' || *v == '\t')) {
                v++;
            }

            vlen = eol - v;

            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) {
                vlen--;
            }

            if (nlen == 7 && strncasecmp((char *) line, "upgrade", 7) == 0) {
                upgrade = race_ws_header_has_token(v, vlen, "websocket");

            } else if (nlen == 10
                       && strncasecmp((char *) line, "connection", 10) == 0)
            {
                connection = race_ws_header_has_token(v, vlen, "upgrade");

            } else if (nlen == 20
                       && strncasecmp((char *) line, "sec-websocket-accept",
                                      20) == 0)
            {
                accept = vlen == RACE_WS_ACCEPT_LEN
                         && memcmp(v, c->accept, RACE_WS_ACCEPT_LEN) == 0;
            }
        }

        line = eol + 2;
    }

    if (!upgrade) {
        return "no \"Upgrade: websocket\"";
    }

    if (!connection) {
        return "no \"Connection: upgrade\"";
    }

    if (!accept) {
        return "wrong or missing Sec-WebSocket-Accept";
    }

    return NULL;
}


static void
sim_conn_frames(sim_conn_t *c, uint8_t *data, size_t len)
{
    size_t           used;
    race_ws_rc_e     rc;
    race_ws_event_t  ev;

    for ( ;; ) {
        rc = race_ws_parse(&c->parser, data, len, &used, &ev);

        data += used;
        len -= used;

        switch (rc) {

        case RACE_WS_AGAIN:
            return;

        case RACE_WS_DATA:
            if (ev.first) {
                c->msg.len = 0;
                c->msg_opcode = ev.opcode;
            }

            if (ev.len) {
                sim_buf_append(&c->msg, ev.data, ev.len);
            }

            if (!ev.fin || c->sent_close) {
                /* after our close, data is only drained */
                break;
            }

            if (c->msg_opcode != RACE_WS_OP_TEXT) {
                sim_problem(c, "binary message ignored");

            } else if (c->kind == SIM_RIDER) {
                sim_rider_message((sim_rider_t *) c, c->msg.data,
                                  c->msg.len);

            } else {
                sim_watch_message((sim_watch_t *) c, c->msg.data,
                                  c->msg.len);
            }

            c->msg.len = 0;

            break;

        case RACE_WS_CONTROL:
            sim_conn_control(c, &ev);
            break;

        default: /* RACE_WS_ERROR */
            if (c->kind == SIM_RIDER) {
                sim.st.protocol_errors++;

            } else {
                ((sim_watch_t *) c)->bad++;
            }

            sim_problem(c, "bad frame from the server: %s", ev.reason);

            if (!c->sent_close) {
                sim_conn_close(c, ev.code, ev.reason);
            }

            if (c->state != SIM_CONN_IDLE) {
                sim_conn_end(c, sim_conn_how(c), "protocol error");
            }

            return;
        }

        if (c->state == SIM_CONN_IDLE) {
            return;
        }
    }
}


static void
sim_conn_control(sim_conn_t *c, race_ws_event_t *ev)
{
    char     code[8];
    size_t   n;
    uint8_t  payload[RACE_WS_CONTROL_MAX];

    switch (ev->opcode) {

    case RACE_WS_OP_PING:
        sim.st.pings++;

        if (!c->sent_close) {
            (void) sim_conn_send(c, RACE_WS_OP_PONG, ev->data, ev->len);
        }

        return;

    case RACE_WS_OP_CLOSE:
        if (c->sent_close) {
            /* the reply to ours: the server closes TCP next */
            return;
        }

        /* the codes the server closed with, for the report */

        snprintf(code, sizeof(code), "%u", (unsigned) ev->code);
        sim_json_count(sim.close_codes, code);

        sim_problem(c, "server closed with %u \"%.*s\"", (unsigned) ev->code,
                    (int) ev->len, (const char *) ev->data);

        /* echo the code; 1005 (no code) makes an empty close */

        n = race_ws_close_payload(payload, ev->code, NULL, 0);

        if (sim_conn_send(c, RACE_WS_OP_CLOSE, payload, n) != 0) {
            return;
        }

        c->state = SIM_CONN_CLOSING;
        c->io_deadline = sim_now_ms() + SIM_CLOSE_TIMEOUT_MS;

        return;

    default: /* RACE_WS_OP_PONG */
        return;
    }
}


/* one whole frame, masked; 0, or -1 when the connection ended */

static int
sim_conn_send(sim_conn_t *c, unsigned opcode, const uint8_t *data,
    size_t len)
{
    size_t     hlen;
    uint8_t   *dst, mask[4];
    uint64_t   r;

    if (c->fd == -1 || c->sent_close) {
        return -1;
    }

    sim_buf_reserve(&c->out, RACE_WS_HEADER_MAX + len);

    r = sim_rand();
    memcpy(mask, &r, sizeof(mask));

    dst = c->out.data + c->out.len;
    hlen = race_ws_frame_header(dst, 1, opcode, len, mask);

    if (len) {
        memcpy(dst + hlen, data, len);
        (void) race_ws_mask(dst + hlen, len, mask, 0);
    }

    c->out.len += hlen + len;

    if (opcode == RACE_WS_OP_CLOSE) {
        c->sent_close = 1;
    }

    return sim_conn_flush(c);
}


/* we end the connection: a close handshake if it is open */

static void
sim_conn_close(sim_conn_t *c, uint16_t code, const char *reason)
{
    size_t   n;
    uint8_t  payload[RACE_WS_CONTROL_MAX];

    switch (c->state) {

    case SIM_CONN_OPEN:
        c->local_close = 1;

        n = race_ws_close_payload(payload, code, reason, strlen(reason));

        if (sim_conn_send(c, RACE_WS_OP_CLOSE, payload, n) != 0) {
            return;
        }

        c->state = SIM_CONN_CLOSING;
        c->io_deadline = sim_now_ms() + SIM_CLOSE_TIMEOUT_MS;

        return;

    case SIM_CONN_CONNECTING:
    case SIM_CONN_HANDSHAKE:
        c->local_close = 1;
        sim_conn_end(c, SIM_END_CLOSED, reason);
        return;

    default:
        /* idle, or closing already */
        return;
    }
}


static sim_end_e
sim_conn_how(sim_conn_t *c)
{
    if (c->local_close) {
        return SIM_END_CLOSED;
    }

    return c->opened ? SIM_END_LOST : SIM_END_FAILED;
}


/* the socket goes; the owner decides what comes next */

static void
sim_conn_end(sim_conn_t *c, sim_end_e how, const char *why)
{
    if (c->fd != -1) {
        /* closing the descriptor takes it out of the epoll set too */

        if (close(c->fd) != 0) {
            sim_log(SIM_LOG_ERR, "%s: close: %s", c->name, strerror(errno));
        }

        c->fd = -1;
        sim.active--;
    }

    if (c->opened) {
        sim.open--;
    }

    sim_log(SIM_LOG_DEBUG, "%s: ended (%s)", c->name, why);

    c->state = SIM_CONN_IDLE;
    c->io_deadline = 0;
    c->out.len = 0;
    c->out_pos = 0;
    c->hs.len = 0;
    c->msg.len = 0;

    if (c->kind == SIM_RIDER) {
        sim_rider_ended((sim_rider_t *) c, how, why);

    } else {
        sim_watch_ended((sim_watch_t *) c, how, why);
    }

    c->opened = 0;
    c->http_status = 0;

    /* big buffers of a burst are not kept for the whole run */

    if (c->out.size > SIM_READ_SIZE) {
        sim_buf_free(&c->out);
    }

    if (c->msg.size > SIM_READ_SIZE) {
        sim_buf_free(&c->msg);
    }
}


/* exponential backoff with jitter: 100, 200, 400 ... 2000 ms, each -50% */

static void
sim_conn_retry(sim_conn_t *c)
{
    int64_t  base, delay;

    if (c->attempts < 16) {
        c->attempts++;
    }

    base = SIM_BACKOFF_MIN_MS << (c->attempts - 1 < 5 ? c->attempts - 1 : 5);

    if (base > SIM_BACKOFF_MAX_MS) {
        base = SIM_BACKOFF_MAX_MS;
    }

    delay = base / 2 + (int64_t) (sim_rand() % (uint64_t) (base / 2 + 1));

    if (delay < SIM_BACKOFF_MIN_MS) {
        delay = SIM_BACKOFF_MIN_MS;
    }

    c->reconnect_at = sim_now_ms() + delay;
}


static void
sim_conn_timer(sim_conn_t *c, int64_t now)
{
    if (c->io_deadline && now >= c->io_deadline) {
        if (c->state == SIM_CONN_CLOSING) {
            sim_problem(c, "no end of the close handshake in %d ms",
                        SIM_CLOSE_TIMEOUT_MS);
            sim_conn_end(c, sim_conn_how(c), "close timed out");

        } else {
            sim_problem(c, "no handshake in %d ms", SIM_CONNECT_TIMEOUT_MS);
            sim_conn_end(c, SIM_END_FAILED, "handshake timed out");
        }
    }

    if (c->state == SIM_CONN_IDLE && c->reconnect_at
        && now >= c->reconnect_at)
    {
        sim_conn_start(c);
    }

    if (c->kind == SIM_RIDER) {
        sim_rider_timer((sim_rider_t *) c, now);
    }
}


/* riders */

static void
sim_rider_opened(sim_rider_t *r)
{
    sim.st.connects++;

    /* everything in the buffer goes again, as batches */

    if (r->nbuf) {
        r->unsent_seq = r->fixes[r->head].fix.seq;
        sim_rider_flush(r, 1);

    } else {
        r->unsent_seq = r->next_seq;
    }

    sim_rider_pump(r);
}


static void
sim_rider_message(sim_rider_t *r, const uint8_t *p, size_t len)
{
    json_t        *m, *seq;
    const char    *type;
    json_error_t   err;

    m = json_loadb((const char *) p, len, 0, &err);

    if (m == NULL || !json_is_object(m)) {
        sim.st.bad_messages++;
        sim_problem(&r->conn, "not a JSON object: %.*s",
                    (int) (len > 80 ? 80 : len), (const char *) p);
        json_decref(m);
        return;
    }

    type = json_string_value(json_object_get(m, "type"));

    if (type == NULL) {
        sim.st.bad_messages++;
        sim_problem(&r->conn, "message without a type");

    } else if (strcmp(type, "ack") == 0) {
        seq = json_object_get(m, "seq");

        if (json_is_integer(seq)) {
            sim.st.acks++;
            sim_rider_ack(r, json_integer_value(seq));

        } else {
            sim.st.bad_messages++;
            sim_problem(&r->conn, "ack without an integer seq");
        }

    } else if (strcmp(type, "error") == 0) {
        sim.st.errors++;
        sim_rider_error(r, m);

    } else if (strcmp(type, "config") == 0) {
        sim_rider_config(r, m);

    } else {
        sim.st.unknown_messages++;
        sim_problem(&r->conn, "unknown message type \"%.32s\"", type);
    }

    json_decref(m);

    sim_rider_check_done(r);
    sim_rider_pump(r);
}


static void
sim_rider_ended(sim_rider_t *r, sim_end_e how, const char *why)
{
    char         status[8];
    sim_conn_t  *c;

    c = &r->conn;

    if (how == SIM_END_FAILED) {
        sim.st.handshake_failures++;

        if (c->http_status && c->http_status != 101) {
            snprintf(status, sizeof(status), "%d", c->http_status);
            sim_json_count(sim.http_status, status);
        }

        /* a refused token will not get better: the phone gives up */

        if ((c->http_status == 401 || c->http_status == 403)
            && !r->gave_up)
        {
            sim_problem(c, "HTTP %d: the phone gives up", c->http_status);

            r->gave_up = 1;
            sim.st.gave_up++;
            sim.finished++;

            if (r->generating) {
                r->generating = 0;
                sim.generating--;
            }
        }

    } else if (how == SIM_END_LOST) {
        sim.st.disconnects++;
    }

    if (r->done || r->gave_up || sim.phase == SIM_PHASE_CLOSE) {
        return;
    }

    sim_log(SIM_LOG_DEBUG, "%s: reconnecting after: %s", c->name, why);

    sim_conn_retry(c);
}


static void
sim_rider_timer(sim_rider_t *r, int64_t now)
{
    if (!r->generating || r->interval_ms == 0 || now < r->next_fix_at) {
        return;
    }

    sim_rider_fix(r, now);

    /* keep the rhythm; after a stall, catch up by one fix at most */

    r->next_fix_at += r->interval_ms;

    if (r->next_fix_at + r->interval_ms <= now) {
        r->next_fix_at = now + r->interval_ms;
    }
}


/* the phone takes a fix: into the buffer, and out unless in a dead zone */

static void
sim_rider_fix(sim_rider_t *r, int64_t now)
{
    int         last;
    size_t      size;
    uint64_t    pos, cycle;
    sim_sec_t  *sec;
    sim_fix_t  *f, *fixes;

    if (r->tail == r->size) {
        if (r->head >= r->size / 2 && r->head > 0) {
            memmove(r->fixes, r->fixes + r->head,
                    (r->tail - r->head) * sizeof(sim_fix_t));
            r->tail -= r->head;
            r->head = 0;

        } else {
            size = r->size ? r->size * 2 : 16;

            fixes = realloc(r->fixes, size * sizeof(sim_fix_t));
            if (fixes == NULL) {
                sim_fatal("out of memory");
            }

            r->fixes = fixes;
            r->size = size;
        }
    }

    f = &r->fixes[r->tail++];
    memset(f, 0, sizeof(sim_fix_t));

    f->fix.seq = r->next_seq++;

    if (r->ride) {
        last = sim_rider_ride(r, f, now);

    } else {
        sim_rider_move(r, f, now);
        last = 0;
    }

    r->nbuf++;
    r->generated++;
    r->last_fix_at = now;
    sim.st.generated++;

    sim.last_fix_wall = f->fix.t;
    sec = sim_window_sec(f->fix.t);

    if (sec) {
        sec->sent++;
    }

    if (sim.opt.batch_every) {
        cycle = sim.opt.live_fixes + sim.opt.batch_every;
        pos = (r->generated - 1) % cycle;

        /* in the dead zone fixes are only buffered, until its last */

        if (pos < (uint64_t) sim.opt.live_fixes || pos == cycle - 1) {
            sim_rider_flush(r, pos == cycle - 1);
        }

    } else {
        sim_rider_flush(r, 0);
    }

    if (last
        || (sim.opt.fixes && r->generated >= (uint64_t) sim.opt.fixes))
    {
        sim_rider_stop(r);
    }
}


/* where the rider is now on the circle, with a phone's noise */

static void
sim_rider_move(sim_rider_t *r, sim_fix_t *f, int64_t now)
{
    double  dt, v, radius, north, east, brg;

    dt = (double) (now - r->moved_at) / 1000.0;
    r->moved_at = now;

    if (dt < 0.0) {
        dt = 0.0;
    }

    radius = SIM_COURSE_M / (2.0 * M_PI);

    v = r->speed + 0.4 * sim_gauss();

    if (v < 0.5) {
        v = 0.5;
    }

    r->phase = fmod(r->phase + v * dt / radius, 2.0 * M_PI);

    north = radius * cos(r->phase) + 2.0 * sim_gauss();
    east = radius * sin(r->phase) + 2.0 * sim_gauss();

    /* moving towards growing phase: d(north, east) = (-sin, cos) */

    brg = atan2(cos(r->phase), -sin(r->phase)) * 180.0 / M_PI
          + 2.0 * sim_gauss();
    brg = fmod(brg + 720.0, 360.0);

    if (brg >= 359.95) {
        brg = 0.0;
    }

    r->bat -= dt * 0.00002;

    if (r->bat < 0.05) {
        r->bat = 0.05;
    }

    f->fix.t = sim_wall_ms();
    f->fix.lat = sim.opt.lat0 + north / SIM_M_PER_DEG;
    f->fix.lon = sim.opt.lon0
             + east / (SIM_M_PER_DEG * cos(sim.opt.lat0 * M_PI / 180.0));
    f->fix.ele = SIM_ELE_M + 12.0 * sin(r->phase) + 0.3 * sim_gauss();
    f->fix.acc = 3.0 + 2.0 * fabs(sim_gauss());
    f->fix.spd = v;
    f->fix.brg = brg;
    f->fix.bat = r->bat;

    if (f->fix.acc > 50.0) {
        f->fix.acc = 50.0;
    }
}


/* --course: where the rider's ride is now, off the course by the noise */

static int
sim_rider_ride(sim_rider_t *r, sim_fix_t *f, int64_t now)
{
    int     last;
    double  dt;

    dt = (double) (now - r->moved_at) / 1000.0;
    r->moved_at = now;

    if (dt > 0.0) {
        r->bat -= dt * 0.00002;
    }

    if (r->bat < 0.05) {
        r->bat = 0.05;
    }

    f->fix.t = sim_wall_ms();

    last = sim_course_rider_fix(r->ride, &sim.course, &f->fix,
                                sim.opt.truth != NULL);

    f->fix.bat = r->bat;

    return last;
}


/*
 * Sends the fixes not yet sent on this connection: one "fix" message
 * when there is one and batch is 0, else "fixes" messages of at most
 * SIM_BATCH_MAX.
 */

static void
sim_rider_flush(sim_rider_t *r, int batch)
{
    size_t  start, i, n, live, total;

    if (r->conn.state != SIM_CONN_OPEN || r->conn.sent_close) {
        return;
    }

    /* the unsent fixes are the newest: search from the tail */

    start = r->tail;

    while (start > r->head
           && r->fixes[start - 1].fix.seq >= r->unsent_seq)
    {
        start--;
    }

    total = 0;

    for (i = start; i < r->tail; i++) {
        total += !r->fixes[i].gone;
    }

    i = start;

    while (i < r->tail && r->conn.state == SIM_CONN_OPEN) {
        n = 0;
        live = 0;

        /* a message: up to SIM_BATCH_MAX fixes that are not gone */

        while (i + n < r->tail) {
            if (!r->fixes[i + n].gone) {
                if (live == SIM_BATCH_MAX) {
                    break;
                }

                live++;
            }

            n++;
        }

        sim_rider_send(r, i, n, batch || total > 1);

        i += n;
    }

    r->unsent_seq = r->next_seq;
}


/* fixes[from .. from + n), gone ones skipped, as one message */

static void
sim_rider_send(sim_rider_t *r, size_t from, size_t n, int batch)
{
    size_t      i, count;
    int64_t     now;
    sim_fix_t  *f;

    now = sim_now_us();
    count = 0;

    sim.scratch.len = 0;

    if (batch) {
        sim_buf_printf(&sim.scratch, "{\"type\":\"fixes\",\"items\":[");
    }

    for (i = from; i < from + n; i++) {
        f = &r->fixes[i];

        if (f->gone) {
            continue;
        }

        if (count++) {
            sim_buf_append(&sim.scratch, ",", 1);
        }

        sim_fix_json(&sim.scratch, f, batch);

        if (f->sent_us) {
            sim.st.resent++;
        }

        f->sent_us = now;
        sim.st.transmissions++;
    }

    if (count == 0) {
        return;
    }

    if (batch) {
        sim_buf_append(&sim.scratch, "]}", 2);
        sim.st.batch_messages++;

    } else {
        sim.st.fix_messages++;
    }

    (void) sim_conn_send(&r->conn, RACE_WS_OP_TEXT, sim.scratch.data,
                         sim.scratch.len);
}


/* a fix as the phone sends it; an item of a batch has no "type" */

static void
sim_fix_json(sim_buf_t *b, const sim_fix_t *f, int item)
{
    sim_buf_printf(b, "{%s\"seq\":%" PRId64 ",\"t\":%" PRId64
                   ",\"lat\":%.7f,\"lon\":%.7f,\"ele\":%.1f,\"acc\":%.1f"
                   ",\"spd\":%.2f,\"brg\":%.1f,\"bat\":%.2f}",
                   item ? "" : "\"type\":\"fix\",", f->fix.seq, f->fix.t,
                   f->fix.lat, f->fix.lon, f->fix.ele, f->fix.acc,
                   f->fix.spd, f->fix.brg, f->fix.bat);
}


/* --interval-ms 0: fill the window of sent, unacked fixes */

static void
sim_rider_pump(sim_rider_t *r)
{
    int64_t  now, inflight;

    if (r->interval_ms != 0) {
        return;
    }

    now = sim_now_ms();

    while (r->generating && r->conn.state == SIM_CONN_OPEN
           && !r->conn.sent_close)
    {
        /* buffered in a dead zone is not in flight */

        inflight = (int64_t) r->nbuf - (r->next_seq - r->unsent_seq);

        if (inflight >= sim.opt.window) {
            break;
        }

        sim_rider_fix(r, now);
    }
}


static void
sim_rider_ack(sim_rider_t *r, int64_t seq)
{
    int64_t     now, lat, wall;
    uint32_t   *p;
    uint64_t    matched;
    sim_sec_t  *sec;
    sim_fix_t  *f;

    now = sim_now_us();
    wall = sim_wall_ms();
    sec = sim_window_sec(wall);
    matched = 0;

    if (seq >= r->next_seq) {
        sim.st.acks_unknown++;
        sim_problem(&r->conn, "ack for seq %" PRId64 ", never sent", seq);
    }

    while (r->head < r->tail && r->fixes[r->head].fix.seq <= seq) {
        f = &r->fixes[r->head++];

        if (f->gone) {
            continue;
        }

        r->nbuf--;
        r->acked++;
        sim.st.acked++;
        matched++;

        if (f->fix.seq > r->acked_max) {
            r->acked_max = f->fix.seq;
        }

        if (f->sent_us == 0) {
            sim.st.acks_unsent++;
            continue;
        }

        if (sim.nlat == sim.lat_size) {
            sim.lat_size = sim.lat_size ? sim.lat_size * 2 : 4096;

            p = realloc(sim.lat_us, sim.lat_size * sizeof(uint32_t));
            if (p == NULL) {
                sim_fatal("out of memory");
            }

            sim.lat_us = p;
        }

        lat = now - f->sent_us;
        sim.lat_us[sim.nlat++] = lat > UINT32_MAX ? UINT32_MAX
                                                  : (uint32_t) lat;

        if (sec) {
            sec->acked++;
            sim_lat_add(&sec->ack, lat);
        }
    }

    if (matched) {
        sim.last_ack_wall = wall;
    }

    sim_rider_trim(r);

    if (matched == 0) {
        /* a repeated ack, after a resend: harmless */
        sim.st.acks_stale++;
        return;
    }

    /* the server works: the next failure starts the backoff anew */

    r->conn.attempts = 0;
}


static void
sim_rider_error(sim_rider_t *r, json_t *m)
{
    size_t       lo, hi, mid;
    int64_t      seq;
    json_t      *v;
    const char  *code, *message;
    sim_fix_t   *f;

    code = json_string_value(json_object_get(m, "code"));
    message = json_string_value(json_object_get(m, "message"));

    sim_json_count(sim.reject_codes, code ? code : "(none)");

    v = json_object_get(m, "seq");

    if (!json_is_integer(v)) {
        sim.st.errors_unmatched++;
        sim_problem(&r->conn, "error without a seq: %.32s %.80s",
                    code ? code : "-", message ? message : "-");
        return;
    }

    seq = json_integer_value(v);

    sim_log(SIM_LOG_DEBUG, "%s: fix %" PRId64 " rejected: %s %s",
            r->conn.name, seq, code ? code : "-", message ? message : "-");

    /* the buffer is sorted by seq */

    lo = r->head;
    hi = r->tail;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (r->fixes[mid].fix.seq < seq) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    if (lo == r->tail || r->fixes[lo].fix.seq != seq || r->fixes[lo].gone) {
        sim.st.errors_unmatched++;
        return;
    }

    f = &r->fixes[lo];
    f->gone = 1;
    r->nbuf--;
    r->rejected++;
    sim.st.rejected++;

    sim_rider_trim(r);
}


static void
sim_rider_config(sim_rider_t *r, json_t *m)
{
    json_t     *v;
    int64_t     iv, now;

    v = json_object_get(m, "interval_ms");

    if (!json_is_integer(v) || json_integer_value(v) < 0
        || json_integer_value(v) > 3600000)
    {
        sim.st.bad_messages++;
        sim_problem(&r->conn, "config without a usable interval_ms");
        return;
    }

    iv = json_integer_value(v);
    sim.st.configs++;

    sim_log(SIM_LOG_DEBUG, "%s: interval %" PRId64 " ms", r->conn.name, iv);

    r->interval_ms = iv;

    if (iv > 0) {
        now = sim_now_ms();
        r->next_fix_at = (r->last_fix_at ? r->last_fix_at : now) + iv;
    }
}


/* keep fixes[head] a live fix, or the buffer empty */

static void
sim_rider_trim(sim_rider_t *r)
{
    while (r->head < r->tail && r->fixes[r->head].gone) {
        r->head++;
    }

    if (r->head == r->tail) {
        r->head = 0;
        r->tail = 0;
    }
}


/* no more fixes: what is buffered but unsent goes now */

static void
sim_rider_stop(sim_rider_t *r)
{
    if (!r->generating) {
        return;
    }

    r->generating = 0;
    sim.generating--;

    if (sim.generating == 0) {
        sim.send_ended_wall = sim_wall_ms();
    }

    sim_rider_flush(r, sim.opt.batch_every != 0);
    sim_rider_check_done(r);
}


/* every fix acked or rejected and no more to come: the phone closes */

static void
sim_rider_check_done(sim_rider_t *r)
{
    if (r->done || r->gave_up || r->generating || r->nbuf) {
        return;
    }

    r->done = 1;
    r->conn.reconnect_at = 0;
    sim.finished++;

    sim_log(SIM_LOG_DEBUG, "%s: done", r->conn.name);

    sim_conn_close(&r->conn, RACE_WS_CLOSE_NORMAL, "done");
}


/* spectators */

static void
sim_watch_opened(sim_watch_t *w)
{
    w->connects++;
    w->first = 1;

    /* t order is checked within one connection */

    if (json_object_clear(w->last_t) != 0
        || json_object_clear(w->snap_t) != 0)
    {
        sim_fatal("json_object_clear failed");
    }
}


static void
sim_watch_message(sim_watch_t *w, const uint8_t *p, size_t len)
{
    int          first, snapshot;
    size_t       i;
    json_t      *m, *v, *riders, *st;
    int64_t      arrived;
    const char  *type, *race, *id;

    /* the frame is whole now: what a screen could show from here */

    arrived = sim_wall_us();

    w->messages++;

    first = w->first;
    w->first = 0;

    m = json_loadb((const char *) p, len, 0, NULL);

    if (m == NULL || !json_is_object(m)) {
        w->bad++;
        json_decref(m);
        return;
    }

    type = json_string_value(json_object_get(m, "type"));

    if (type == NULL) {
        w->bad++;
        goto done;
    }

    /* the server works: the next failure starts the backoff anew */
    w->conn.attempts = 0;

    if (strcmp(type, "snapshot") == 0) {
        w->snapshots++;
        snapshot = 1;

    } else if (strcmp(type, "tick") == 0) {
        w->ticks++;
        snapshot = 0;

    } else {
        sim_json_count(w->types, type);

        if (first) {
            w->first_not_snapshot++;
        }

        goto done;
    }

    if (first && !snapshot) {
        w->first_not_snapshot++;
    }

    v = json_object_get(m, "race");
    race = json_string_value(v);

    if (v == NULL) {
        w->race_missing++;

    } else if (race == NULL) {
        w->race_mismatch++;

    } else {
        sim_json_set(w->races, race, json_true());

        if (strcmp(race, w->conn.url->race) != 0) {
            w->race_mismatch++;
        }
    }

    riders = json_object_get(m, "riders");

    if (!json_is_array(riders)) {
        w->bad++;
        goto done;
    }

    json_array_foreach(riders, i, st) {
        id = json_string_value(json_object_get(st, "rider"));
        v = json_object_get(st, "t");

        if (id == NULL || !json_is_number(v)) {
            w->bad_states++;
            continue;
        }

        sim_watch_state(w, id, (json_int_t) json_number_value(v), snapshot,
                        arrived);
    }

done:

    json_decref(m);
}


static void
sim_watch_state(sim_watch_t *w, const char *id, json_int_t t, int snapshot,
    int64_t arrived)
{
    json_t      *rs, *prev, *snap;
    json_int_t   last;

    rs = json_object_get(w->riders, id);

    if (rs == NULL) {
        rs = json_pack("{s:I,s:I,s:I,s:I,s:I}", "updates", (json_int_t) 0,
                       "first_t", t, "last_t", t, "out_of_order",
                       (json_int_t) 0, "behind_snapshot", (json_int_t) 0);

        sim_json_set(w->riders, id, rs);
    }

    sim_json_count(rs, "updates");
    sim_json_set(rs, "last_t", json_integer(t));

    if (snapshot) {
        sim_json_set(w->snap_t, id, json_integer(t));
        return;
    }

    prev = json_object_get(w->last_t, id);

    if (prev == NULL) {
        /* the rider's first tick: not older than the snapshot */

        snap = json_object_get(w->snap_t, id);

        if (snap && t < json_integer_value(snap)) {
            w->behind_snapshot++;
            sim_json_count(rs, "behind_snapshot");
            t = json_integer_value(snap);

        } else if (snap == NULL || t > json_integer_value(snap)) {
            sim_watch_latency(t, arrived);
        }

        sim_json_set(w->last_t, id, json_integer(t));
        return;
    }

    last = json_integer_value(prev);

    if (t < last) {
        w->out_of_order++;
        sim_json_count(rs, "out_of_order");
        return;
    }

    /* a state seen before (a tick that repeats it) is no new fix */

    if (t > last) {
        sim_watch_latency(t, arrived);
    }

    sim_json_set(w->last_t, id, json_integer(t));
}


/*
 * A rider's new state reached a spectator: from the fix's t (the phone's
 * clock when it took the fix and sent it; the same clock as ours here)
 * to the arrival of the frame that carries it.
 */

static void
sim_watch_latency(json_int_t t, int64_t arrived)
{
    int64_t     lat;
    sim_sec_t  *sec;

    lat = arrived - (int64_t) t * 1000;

    if (lat < 0) {
        /* t has whole ms: a frame within the same ms */
        lat = 0;
    }

    sim_lat_add(&sim.fix_lat, lat);

    sec = sim_window_sec(arrived / 1000);

    if (sec) {
        sec->states++;
        sim_lat_add(&sec->fix, lat);
    }
}


static void
sim_watch_ended(sim_watch_t *w, sim_end_e how, const char *why)
{
    char         status[8];
    sim_conn_t  *c;

    c = &w->conn;

    if (how == SIM_END_FAILED) {
        w->failures++;

        if (c->http_status && c->http_status != 101) {
            snprintf(status, sizeof(status), "%d", c->http_status);
            sim_json_count(sim.http_status, status);
        }
    }

    if (sim.watch_over) {
        return;
    }

    sim_log(SIM_LOG_DEBUG, "%s: reconnecting after: %s", c->name, why);

    sim_conn_retry(c);
}


/* the run */

static void
sim_phases(int64_t now)
{
    size_t        i;
    sim_rider_t  *r;

    if (sim_stop && !sim.stopping) {
        sim.stopping = 1;
        sim_log(SIM_LOG_INFO, "stopping on a signal");

        if (sim.nriders && sim.phase != SIM_PHASE_CLOSE) {
            sim_riders_close();
        }

        if (sim.nwatches && !sim.watch_over) {
            sim_watches_close();
        }
    }

    if (sim.nriders && sim.phase == SIM_PHASE_SEND
        && (now >= sim.send_end || sim.generating == 0))
    {
        sim.phase = SIM_PHASE_DRAIN;
        sim.drain_end = now + sim.opt.drain_s * 1000;

        for (i = 0; i < sim.nriders; i++) {
            r = &sim.riders[i];
            sim_rider_stop(r);
            sim_schedule(&r->conn);
        }

        sim_log(SIM_LOG_DEBUG, "sending is over, draining");
    }

    if (sim.nriders && sim.phase == SIM_PHASE_DRAIN
        && (sim.finished == sim.nriders || now >= sim.drain_end))
    {
        if (sim.finished < sim.nriders) {
            sim_log(SIM_LOG_INFO, "drain time over, %zu riders still wait "
                    "for acks", sim.nriders - sim.finished);
        }

        sim_riders_close();
    }

    if (sim.nwatches && !sim.watch_over
        && (now >= sim.watch_end
            || (sim.opt.watch_s <= 0 && sim.nriders
                && sim.phase == SIM_PHASE_CLOSE
                && now >= sim.riders_closed_at + SIM_WATCH_AFTER_MS)))
    {
        sim_watches_close();
    }
}


static void
sim_riders_close(void)
{
    size_t        i;
    sim_rider_t  *r;

    sim.phase = SIM_PHASE_CLOSE;
    sim.riders_closed_at = sim_now_ms();

    for (i = 0; i < sim.nriders; i++) {
        r = &sim.riders[i];

        r->conn.reconnect_at = 0;

        if (r->generating) {
            r->generating = 0;
            sim.generating--;
        }

        sim_conn_close(&r->conn, RACE_WS_CLOSE_GOING_AWAY, "run over");
        sim_schedule(&r->conn);
    }
}


static void
sim_watches_close(void)
{
    size_t        i;
    sim_watch_t  *w;

    sim.watch_over = 1;

    for (i = 0; i < sim.nwatches; i++) {
        w = &sim.watches[i];

        w->conn.reconnect_at = 0;
        sim_conn_close(&w->conn, RACE_WS_CLOSE_NORMAL, "watch over");
        sim_schedule(&w->conn);
    }
}


static int
sim_finished(void)
{
    if (sim.nriders && sim.phase != SIM_PHASE_CLOSE) {
        return 0;
    }

    if (sim.nwatches && !sim.watch_over) {
        return 0;
    }

    return sim.active == 0;
}


/* past the hard deadline: every socket goes, no goodbyes */

static void
sim_force_end(void)
{
    size_t  i;

    sim.phase = SIM_PHASE_CLOSE;
    sim.watch_over = 1;

    for (i = 0; i < sim.nriders; i++) {
        sim.riders[i].conn.reconnect_at = 0;

        if (sim.riders[i].conn.state != SIM_CONN_IDLE) {
            sim_conn_end(&sim.riders[i].conn, SIM_END_CLOSED, "deadline");
        }
    }

    for (i = 0; i < sim.nwatches; i++) {
        sim.watches[i].conn.reconnect_at = 0;

        if (sim.watches[i].conn.state != SIM_CONN_IDLE) {
            sim_conn_end(&sim.watches[i].conn, SIM_END_CLOSED, "deadline");
        }
    }
}


static void
sim_run(void)
{
    int                 i, n, timeout;
    size_t              budget;
    int64_t             now, next_progress;
    sim_conn_t         *c;
    struct epoll_event  events[SIM_EVENTS];

    next_progress = sim.t0 + SIM_PROGRESS_MS;

    for ( ;; ) {
        now = sim_now_ms();

        sim_phases(now);

        if (sim_finished()) {
            return;
        }

        if (now >= sim.hard_end) {
            sim_log(SIM_LOG_ERR, "hard deadline reached, stopping");
            sim_force_end();
            return;
        }

        timeout = SIM_TICK_MS;

        if (sim.nheap && sim.heap[0]->timer_at - now < timeout) {
            timeout = sim.heap[0]->timer_at > now
                      ? (int) (sim.heap[0]->timer_at - now) : 0;
        }

        n = epoll_wait(sim.ep, events, SIM_EVENTS, timeout);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            sim_fatal("epoll_wait: %s", strerror(errno));
        }

        for (i = 0; i < n; i++) {
            c = events[i].data.ptr;
            sim_conn_io(c, events[i].events);
            sim_schedule(c);
        }

        /* due timers; each one reschedules itself into the future */

        now = sim_now_ms();

        for (budget = sim.nheap; budget > 0 && sim.nheap > 0; budget--) {
            c = sim.heap[0];

            if (c->timer_at > now) {
                break;
            }

            sim_timer_set(c, 0);
            sim_conn_timer(c, now);
            sim_schedule(c);
        }

        if (now >= next_progress) {
            next_progress = now + SIM_PROGRESS_MS;
            sim_progress(now);
        }
    }
}


static void
sim_progress(int64_t now)
{
    size_t    i;
    uint64_t  msgs;

    if (sim.nriders) {
        sim_log(SIM_LOG_INFO, "%.1fs open %zu/%zu sent %" PRIu64 " acked %"
                PRIu64 " rejected %" PRIu64 " reconnects %" PRIu64,
                (double) (now - sim.t0) / 1000.0, sim.open,
                sim.nriders + sim.nwatches, sim.st.generated, sim.st.acked,
                sim.st.rejected, sim.st.reconnects);
    }

    if (sim.nwatches) {
        msgs = 0;

        for (i = 0; i < sim.nwatches; i++) {
            msgs += sim.watches[i].messages;
        }

        sim_log(SIM_LOG_INFO, "%.1fs spectators got %" PRIu64 " messages",
                (double) (now - sim.t0) / 1000.0, msgs);
    }
}


/* the report */

static int
sim_cmp_u32(const void *a, const void *b)
{
    uint32_t  x, y;

    x = *(const uint32_t *) a;
    y = *(const uint32_t *) b;

    return (x > y) - (x < y);
}


static void
sim_sort_latency(void)
{
    /* qsort() wants a base even for no elements */

    if (sim.nlat > 1) {
        qsort(sim.lat_us, sim.nlat, sizeof(uint32_t), sim_cmp_u32);
    }
}


/* nearest rank, in ms; lat_us is sorted */

static double
sim_percentile(double q)
{
    size_t  i;

    if (sim.nlat == 0) {
        return 0.0;
    }

    i = (size_t) ceil(q * (double) sim.nlat);

    if (i > 0) {
        i--;
    }

    if (i >= sim.nlat) {
        i = sim.nlat - 1;
    }

    return round((double) sim.lat_us[i]) / 1000.0;
}


/* the same, nearest rank in ms, of l; l->v is sorted */

static double
sim_lat_percentile(const sim_lat_t *l, double q)
{
    size_t  i;

    if (l->n == 0) {
        return 0.0;
    }

    i = (size_t) ceil(q * (double) l->n);

    if (i > 0) {
        i--;
    }

    if (i >= l->n) {
        i = l->n - 1;
    }

    return (double) l->v[i] / 1000.0;
}


static void
sim_lat_add(sim_lat_t *l, int64_t us)
{
    size_t     size;
    uint32_t  *p;

    if (l->n == l->size) {
        size = l->size ? l->size * 2 : 1024;

        p = realloc(l->v, size * sizeof(uint32_t));
        if (p == NULL) {
            sim_fatal("out of memory");
        }

        l->v = p;
        l->size = size;
    }

    l->v[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t) us;
}


/* {"count":..,"p50":..,"p99":..,"max":..} in ms; sorts l */

static json_t *
sim_lat_json(sim_lat_t *l)
{
    json_t  *o;

    if (l->n > 1) {
        qsort(l->v, l->n, sizeof(uint32_t), sim_cmp_u32);
    }

    o = json_pack("{s:I,s:f,s:f,s:f}", "count", (json_int_t) l->n,
                  "p50", sim_lat_percentile(l, 0.50),
                  "p99", sim_lat_percentile(l, 0.99),
                  "max", sim_lat_percentile(l, 1.0));

    if (o == NULL) {
        sim_fatal("out of memory building JSON");
    }

    return o;
}


/* the second of the measured window wall_ms falls in, or NULL */

static sim_sec_t *
sim_window_sec(int64_t wall_ms)
{
    int64_t  i;

    if (sim.secs == NULL || wall_ms < sim.opt.window_at) {
        return NULL;
    }

    i = (wall_ms - sim.opt.window_at) / 1000;

    if (wall_ms >= sim.opt.window_at + sim.opt.window_ms
        || (size_t) i >= sim.nsecs)
    {
        return NULL;
    }

    return &sim.secs[i];
}


/*
 * "window": what happened within --window-at and --window-ms, in all
 * and second by second: fixes taken, acks received (and their latency),
 * reconnects, new rider states the spectators got (and how old their
 * fixes were on arrival)
 */

static void
sim_window_report(json_t *root)
{
    size_t      i;
    json_t     *win, *arr, *o;
    sim_lat_t   ack, fix;
    sim_sec_t  *sec, sum;

    win = json_object();
    arr = json_array();

    if (win == NULL || arr == NULL) {
        sim_fatal("out of memory building JSON");
    }

    memset(&sum, 0, sizeof(sim_sec_t));
    memset(&ack, 0, sizeof(sim_lat_t));
    memset(&fix, 0, sizeof(sim_lat_t));

    for (i = 0; i < sim.nsecs; i++) {
        sec = &sim.secs[i];

        sum.sent += sec->sent;
        sum.acked += sec->acked;
        sum.reconnects += sec->reconnects;
        sum.watch_reconnects += sec->watch_reconnects;
        sum.states += sec->states;

        o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}",
                      "s", (json_int_t) i,
                      "sent", (json_int_t) sec->sent,
                      "acked", (json_int_t) sec->acked,
                      "reconnects", (json_int_t) sec->reconnects,
                      "watch_reconnects", (json_int_t) sec->watch_reconnects,
                      "states", (json_int_t) sec->states);

        if (o == NULL) {
            sim_fatal("out of memory building JSON");
        }

        /* each second's samples go to the whole window's too */

        if (sec->ack.n) {
            sim_json_set(o, "ack_ms", sim_lat_json(&sec->ack));
        }

        if (sec->fix.n) {
            sim_json_set(o, "fix_ms", sim_lat_json(&sec->fix));
        }

        while (sec->ack.n) {
            sim_lat_add(&ack, sec->ack.v[--sec->ack.n]);
        }

        while (sec->fix.n) {
            sim_lat_add(&fix, sec->fix.v[--sec->fix.n]);
        }

        sim_json_append(arr, o);
    }

    sim_json_set(win, "at", json_integer(sim.opt.window_at));
    sim_json_set(win, "ms", json_integer(sim.opt.window_ms));
    sim_json_set(win, "sent", json_integer((json_int_t) sum.sent));
    sim_json_set(win, "acked", json_integer((json_int_t) sum.acked));
    sim_json_set(win, "reconnects",
                 json_integer((json_int_t) sum.reconnects));
    sim_json_set(win, "watch_reconnects",
                 json_integer((json_int_t) sum.watch_reconnects));
    sim_json_set(win, "states", json_integer((json_int_t) sum.states));
    sim_json_set(win, "ack_ms", sim_lat_json(&ack));
    sim_json_set(win, "fix_ms", sim_lat_json(&fix));
    sim_json_set(win, "seconds", arr);
    sim_json_set(root, "window", win);

    free(ack.v);
    free(fix.v);
}


static int
sim_report(void)
{
    size_t        i;
    json_t       *root, *lat, *arr, *o, *races, *ids, *list, *v;
    uint64_t      unacked, sum, sum_reconnects;
    const char   *key;
    sim_rider_t  *r;
    sim_watch_t  *w;
    sim_stats_t  *st;

    root = json_object();
    if (root == NULL) {
        sim_fatal("out of memory building JSON");
    }

    st = &sim.st;

    if (sim.nriders) {
        sim_sort_latency();

        unacked = st->generated - st->acked - st->rejected;

        sim_json_set(root, "sent", json_integer(st->generated));
        sim_json_set(root, "acked", json_integer(st->acked));
        sim_json_set(root, "rejected", json_integer(st->rejected));
        sim_json_set(root, "unacked", json_integer(unacked));
        sim_json_set(root, "reconnects", json_integer(st->reconnects));

        lat = json_object();
        sim_json_set(root, "latency_ms", lat);
        sim_json_set(lat, "p50", json_real(sim_percentile(0.50)));
        sim_json_set(lat, "p95", json_real(sim_percentile(0.95)));
        sim_json_set(lat, "p99", json_real(sim_percentile(0.99)));
        sim_json_set(lat, "max", json_real(sim_percentile(1.0)));
        sim_json_set(lat, "count", json_integer(sim.nlat));

        sim_json_set(root, "riders_total", json_integer(sim.nriders));
        sim_json_set(root, "riders_done", json_integer(sim.finished
                                                       - st->gave_up));
        sim_json_set(root, "gave_up", json_integer(st->gave_up));
        sim_json_set(root, "transmissions", json_integer(st->transmissions));
        sim_json_set(root, "resent", json_integer(st->resent));
        sim_json_set(root, "fix_messages", json_integer(st->fix_messages));
        sim_json_set(root, "batch_messages",
                     json_integer(st->batch_messages));
        sim_json_set(root, "acks", json_integer(st->acks));
        sim_json_set(root, "acks_stale", json_integer(st->acks_stale));
        sim_json_set(root, "acks_unknown", json_integer(st->acks_unknown));
        sim_json_set(root, "acks_unsent", json_integer(st->acks_unsent));
        sim_json_set(root, "errors", json_integer(st->errors));
        sim_json_set(root, "errors_unmatched",
                     json_integer(st->errors_unmatched));
        sim_json_set(root, "configs", json_integer(st->configs));
        sim_json_set(root, "pings", json_integer(st->pings));
        sim_json_set(root, "connects", json_integer(st->connects));
        sim_json_set(root, "disconnects", json_integer(st->disconnects));
        sim_json_set(root, "handshake_failures",
                     json_integer(st->handshake_failures));
        sim_json_set(root, "protocol_errors",
                     json_integer(st->protocol_errors));
        sim_json_set(root, "bad_messages", json_integer(st->bad_messages));
        sim_json_set(root, "unknown_messages",
                     json_integer(st->unknown_messages));
        sim_json_set(root, "http_status", json_incref(sim.http_status));
        sim_json_set(root, "close_codes", json_incref(sim.close_codes));
        sim_json_set(root, "reject_codes", json_incref(sim.reject_codes));
        sim_json_set(root, "elapsed_s",
                     json_real((double) (sim.ended_at - sim.t0) / 1000.0));

        /* the drain: from the last fix taken to the last ack, Unix ms */
        sim_json_set(root, "last_fix_at", json_integer(sim.last_fix_wall));
        sim_json_set(root, "send_ended_at",
                     json_integer(sim.send_ended_wall));
        sim_json_set(root, "last_ack_at", json_integer(sim.last_ack_wall));

        arr = json_array();
        sim_json_set(root, "riders", arr);

        for (i = 0; i < sim.nriders; i++) {
            r = &sim.riders[i];

            o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:b}",
                          "race", r->race, "rider", r->rider,
                          "last_seq", (json_int_t) (r->next_seq - 1),
                          "acked_max", (json_int_t) r->acked_max,
                          "acked", (json_int_t) r->acked,
                          "rejected", (json_int_t) r->rejected,
                          "unacked", (json_int_t) r->nbuf,
                          "reconnects", (json_int_t) r->reconnects,
                          "gave_up", r->gave_up ? 1 : 0);

            sim_json_append(arr, o);
        }
    }

    if (sim.nwatches) {
        races = json_object();
        arr = json_array();

        if (races == NULL) {
            sim_fatal("out of memory building JSON");
        }

        sum = 0;
        sum_reconnects = 0;

        for (i = 0; i < sim.nwatches; i++) {
            w = &sim.watches[i];

            ids = json_array();
            if (ids == NULL) {
                sim_fatal("out of memory building JSON");
            }

            json_object_foreach(w->riders, key, v) {
                sim_json_append(ids, json_string(key));
            }

            o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
                          "s:I,s:I,s:I,s:I,s:I}",
                          "url", w->conn.url->text,
                          "race", w->conn.url->race,
                          "connects", (json_int_t) w->connects,
                          "failures", (json_int_t) w->failures,
                          "reconnects", (json_int_t) w->reconnects,
                          "messages", (json_int_t) w->messages,
                          "snapshots", (json_int_t) w->snapshots,
                          "ticks", (json_int_t) w->ticks,
                          "bad_messages", (json_int_t) w->bad,
                          "bad_states", (json_int_t) w->bad_states,
                          "first_not_snapshot",
                          (json_int_t) w->first_not_snapshot,
                          "race_missing", (json_int_t) w->race_missing,
                          "race_mismatch", (json_int_t) w->race_mismatch,
                          "riders_seen",
                          (json_int_t) json_object_size(w->riders),
                          "out_of_order", (json_int_t) w->out_of_order,
                          "behind_snapshot",
                          (json_int_t) w->behind_snapshot);

            if (o == NULL) {
                sim_fatal("out of memory building JSON");
            }

            list = json_array();
            if (list == NULL) {
                sim_fatal("out of memory building JSON");
            }

            json_object_foreach(w->races, key, v) {
                sim_json_append(list, json_string(key));
            }

            sim_json_set(o, "other_types", json_incref(w->types));
            sim_json_set(o, "races_seen", list);
            sim_json_set(o, "rider_ids", ids);
            sim_json_set(o, "riders", json_incref(w->riders));
            sim_json_append(arr, o);

            if (json_object_update(races, w->races) != 0) {
                sim_fatal("out of memory building JSON");
            }

            sum += json_object_size(w->riders);
            sum_reconnects += w->reconnects;
        }

        o = json_array();
        if (o == NULL) {
            sim_fatal("out of memory building JSON");
        }

        json_object_foreach(races, key, v) {
            sim_json_append(o, json_string(key));
        }

        json_decref(races);

        sim_watch_sum(root, "messages", offsetof(sim_watch_t, messages));
        sim_watch_sum(root, "snapshots", offsetof(sim_watch_t, snapshots));
        sim_watch_sum(root, "ticks", offsetof(sim_watch_t, ticks));
        sim_json_set(root, "races_seen", o);
        sim_json_set(root, "riders_seen", json_integer((json_int_t) sum));
        sim_watch_sum(root, "out_of_order",
                      offsetof(sim_watch_t, out_of_order));
        sim_watch_sum(root, "behind_snapshot",
                      offsetof(sim_watch_t, behind_snapshot));
        sim_watch_sum(root, "race_mismatch",
                      offsetof(sim_watch_t, race_mismatch));
        sim_watch_sum(root, "race_missing",
                      offsetof(sim_watch_t, race_missing));
        sim_watch_sum(root, "first_not_snapshot",
                      offsetof(sim_watch_t, first_not_snapshot));

        if (sim.nriders == 0) {
            sim_json_set(root, "http_status", json_incref(sim.http_status));
            sim_json_set(root, "close_codes", json_incref(sim.close_codes));
        }

        sim_json_set(root, "watches", arr);
        sim_json_set(root, "watch_reconnects", json_integer((json_int_t)
                                                            sum_reconnects));
        sim_json_set(root, "fix_latency_ms", sim_lat_json(&sim.fix_lat));
    }

    if (sim.secs) {
        sim_window_report(root);
    }

    return sim_write_json(sim.opt.report, root,
                          JSON_INDENT(1) | JSON_PRESERVE_ORDER);
}


/* --truth: what really happened, for a test to compare results with */

static int
sim_truth(void)
{
    size_t        i;
    json_t       *root, *riders, *o;
    sim_rider_t  *r;

    root = json_object();
    riders = json_array();

    if (root == NULL || riders == NULL) {
        sim_fatal("out of memory building JSON");
    }

    o = sim_course_json(&sim.course);
    if (o == NULL) {
        sim_fatal("out of memory building JSON");
    }

    sim_json_set(root, "course", o);
    sim_json_set(root, "riders", riders);

    for (i = 0; i < sim.nriders; i++) {
        r = &sim.riders[i];

        o = sim_course_truth_json(r->ride);
        if (o == NULL) {
            sim_fatal("out of memory building JSON");
        }

        sim_json_set(o, "race", json_string(r->race));
        sim_json_set(o, "rider", json_string(r->rider));
        sim_json_set(o, "sent", json_integer(r->generated));
        sim_json_set(o, "acked", json_integer(r->acked));
        sim_json_set(o, "rejected", json_integer(r->rejected));

        sim_json_append(riders, o);
    }

    return sim_write_json(sim.opt.truth, root, JSON_COMPACT);
}


/* root to path.tmp, renamed to path: readers never see half of it */

static int
sim_write_json(const char *path, json_t *root, size_t flags)
{
    char  *tmp;

    if (asprintf(&tmp, "%s.tmp", path) == -1) {
        sim_fatal("out of memory");
    }

    if (json_dump_file(root, tmp, flags) != 0) {
        sim_log(SIM_LOG_ERR, "cannot write \"%s\"", tmp);
        json_decref(root);
        free(tmp);
        return -1;
    }

    if (rename(tmp, path) != 0) {
        sim_log(SIM_LOG_ERR, "rename \"%s\": %s", tmp, strerror(errno));
        json_decref(root);
        free(tmp);
        return -1;
    }

    json_decref(root);
    free(tmp);

    return 0;
}


/* a counter of sim_watch_t at offset off, summed over the spectators */

static void
sim_watch_sum(json_t *root, const char *name, size_t off)
{
    size_t    i;
    uint64_t  sum, v;

    sum = 0;

    for (i = 0; i < sim.nwatches; i++) {
        memcpy(&v, (const char *) &sim.watches[i] + off, sizeof(uint64_t));
        sum += v;
    }

    sim_json_set(root, name, json_integer((json_int_t) sum));
}


static void
sim_summary(void)
{
    size_t        i;
    uint64_t      msgs, snaps, ticks, seen, ooo, rec;
    sim_watch_t  *w;

    if (sim.nriders) {
        if (sim.opt.report == NULL) {
            sim_sort_latency();
        }

        printf("race-sim: riders %zu sent %" PRIu64 " acked %" PRIu64
               " rejected %" PRIu64 " unacked %" PRIu64 " reconnects %"
               PRIu64 " latency_ms p50 %.3f p95 %.3f p99 %.3f max %.3f"
               " in %.1fs\n",
               sim.nriders, sim.st.generated, sim.st.acked, sim.st.rejected,
               sim.st.generated - sim.st.acked - sim.st.rejected,
               sim.st.reconnects, sim_percentile(0.50),
               sim_percentile(0.95), sim_percentile(0.99),
               sim_percentile(1.0),
               (double) (sim.ended_at - sim.t0) / 1000.0);
    }

    if (sim.nwatches) {
        msgs = 0;
        snaps = 0;
        ticks = 0;
        seen = 0;
        ooo = 0;
        rec = 0;

        for (i = 0; i < sim.nwatches; i++) {
            w = &sim.watches[i];
            rec += w->reconnects;
            msgs += w->messages;
            snaps += w->snapshots;
            ticks += w->ticks;
            seen += json_object_size(w->riders);
            ooo += w->out_of_order + w->behind_snapshot;
        }

        printf("race-sim: spectators %zu messages %" PRIu64 " snapshots %"
               PRIu64 " ticks %" PRIu64 " riders_seen %" PRIu64
               " out_of_order %" PRIu64 " reconnects %" PRIu64
               " new_states %zu\n",
               sim.nwatches, msgs, snaps, ticks, seen, ooo, rec,
               sim.fix_lat.n);
    }

    if (fflush(stdout) != 0) {
        sim_log(SIM_LOG_ERR, "stdout: %s", strerror(errno));
    }
}


static int
sim_exit_status(void)
{
    size_t  i;

    if (sim.st.generated != sim.st.acked + sim.st.rejected
        || sim.st.gave_up)
    {
        return 1;
    }

    for (i = 0; i < sim.nwatches; i++) {
        if (sim.watches[i].connects == 0) {
            return 1;
        }
    }

    return 0;
}


static void
sim_on_signal(int signo)
{
    (void) signo;

    sim_stop = 1;
}
