
/*
 * ngx_race: unit tests of the workers' metrics core, TAP output.
 *
 * The text: families' HELP and TYPE, samples with escaped labels,
 * durations in microseconds shown exactly in seconds, histograms'
 * cumulative buckets with _count equal to +Inf.  The bucket of a value
 * at, between and beyond the bounds.  Requests: what is answered 200,
 * 404, 405, 400, 505, and requests too long (414 for the line, 431 for
 * the headers), and what waits for more bytes.  Listen addresses.
 */


#include <stdint.h>
#include <string.h>

#include "race_promtext.h"
#include "tap.h"


static void test_names(void);
static void test_text(void);
static void test_buckets(void);
static void test_histogram(void);
static void test_requests(void);
static void test_listen(void);


int
main(void)
{
    test_names();
    test_text();
    test_buckets();
    test_histogram();
    test_requests();
    test_listen();

    return tap_done();
}


static void
test_names(void)
{
    ok(race_promtext_name_valid("race_tracker_tick_seconds", 0),
       "a metric name");
    ok(race_promtext_name_valid("a:b_c9", 0), "':' in a metric name");
    ok(!race_promtext_name_valid("a:b", 1), "but not in a label's");
    ok(!race_promtext_name_valid("9lives", 0), "no leading digit");
    ok(!race_promtext_name_valid("", 0), "not empty");
    ok(!race_promtext_name_valid("a-b", 0), "no '-'");
    ok(!race_promtext_name_valid("__name__", 1), "no reserved label");
}


static void
test_text(void)
{
    race_buf_t             b;
    race_promtext_label_t  l[2];

    memset(&b, 0, sizeof(race_buf_t));

    race_promtext_family(&b, "x_total", "a \"help\\\ntext",
                         RACE_PROMTEXT_COUNTER);
    is_str(b.data, "# HELP x_total a \"help\\\\\\ntext\n"
           "# TYPE x_total counter\n", "HELP escapes \\ and newline only");
    race_buf_free(&b);

    race_promtext_sample(&b, "x_total", NULL, 0, 42, 0);
    is_str(b.data, "x_total 42\n", "a sample without labels");
    race_buf_free(&b);

    l[0].name = "topic";
    l[0].value = "race.fixes";
    l[1].name = "v";
    l[1].value = "a\"b\\c\nd";

    race_promtext_sample(&b, "lag", l, 2, -7, 0);
    is_str(b.data, "lag{topic=\"race.fixes\",v=\"a\\\"b\\\\c\\nd\"} -7\n",
           "labels, escaped; a negative value");
    race_buf_free(&b);

    race_promtext_sample(&b, "s", NULL, 0, 1500, 6);
    race_promtext_sample(&b, "s", NULL, 0, 2000000, 6);
    race_promtext_sample(&b, "s", NULL, 0, 0, 6);
    race_promtext_sample(&b, "s", NULL, 0, -250000, 6);
    race_promtext_sample(&b, "s", NULL, 0, INT64_MIN, 0);
    is_str(b.data, "s 0.0015\ns 2\ns 0\ns -0.25\ns -9223372036854775808\n",
           "microseconds in seconds, exactly");
    race_buf_free(&b);
}


static void
test_buckets(void)
{
    static const int64_t  bounds[] = { 1, 5, 10, 100 };

    is_int(race_promtext_bucket(bounds, 4, -3), 0, "below the first");
    is_int(race_promtext_bucket(bounds, 4, 1), 0, "at the first: le");
    is_int(race_promtext_bucket(bounds, 4, 2), 1, "between");
    is_int(race_promtext_bucket(bounds, 4, 10), 2, "at a bound");
    is_int(race_promtext_bucket(bounds, 4, 11), 3, "after it");
    is_int(race_promtext_bucket(bounds, 4, 100), 3, "at the last");
    is_int(race_promtext_bucket(bounds, 4, 101), 4, "beyond: +Inf");
    is_int(race_promtext_bucket(bounds, 0, 5), 0, "no bounds: +Inf");
}


static void
test_histogram(void)
{
    race_buf_t             b;
    race_promtext_label_t  l;

    static const int64_t   bounds[] = { 500, 1000, 2500000 };
    static const uint64_t  counts[] = { 2, 0, 3, 1 };

    memset(&b, 0, sizeof(race_buf_t));

    l.name = "worker";
    l.value = "tracker";

    race_promtext_histogram(&b, "w_seconds", &l, 1, bounds, 3, counts,
                            3001200, 6);
    is_str(b.data,
           "w_seconds_bucket{worker=\"tracker\",le=\"0.0005\"} 2\n"
           "w_seconds_bucket{worker=\"tracker\",le=\"0.001\"} 2\n"
           "w_seconds_bucket{worker=\"tracker\",le=\"2.5\"} 5\n"
           "w_seconds_bucket{worker=\"tracker\",le=\"+Inf\"} 6\n"
           "w_seconds_sum{worker=\"tracker\"} 3.0012\n"
           "w_seconds_count{worker=\"tracker\"} 6\n",
           "cumulative buckets, le in seconds, _count is +Inf");
    race_buf_free(&b);

    race_promtext_histogram(&b, "n", NULL, 0, bounds, 1, counts, 9, 0);
    is_str(b.data, "n_bucket{le=\"500\"} 2\nn_bucket{le=\"+Inf\"} 2\n"
           "n_sum 9\nn_count 2\n", "without labels");
    race_buf_free(&b);
}


static void
test_requests(void)
{
    char                 big[RACE_PROMTEXT_REQ_MAX + 10];
    size_t               i;
    race_promtext_req_t  req;

    static const struct {
        const char  *in;
        int          status;
        int          page;
        int          head;
        const char  *what;
    } v[] = {
        { "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200,
          RACE_PROMTEXT_PAGE_METRICS, 0, "GET /metrics" },
        { "GET /metrics?x=1 HTTP/1.0\n\n", 200,
          RACE_PROMTEXT_PAGE_METRICS, 0, "a query, bare LFs, HTTP/1.0" },
        { "HEAD /healthz HTTP/1.1\r\n\r\n", 200,
          RACE_PROMTEXT_PAGE_HEALTHZ, 1, "HEAD /healthz" },
        { "GET /readyz HTTP/1.1\r\n\r\n", 200,
          RACE_PROMTEXT_PAGE_READYZ, 0, "GET /readyz" },
        { "GET /readyzz HTTP/1.1\r\n\r\n", 404, 0, 0, "/readyzz" },
        { "GET / HTTP/1.1\r\n\r\n", 404, 0, 0, "another path" },
        { "GET /metricsx HTTP/1.1\r\n\r\n", 404, 0, 0, "a longer path" },
        { "POST /metrics HTTP/1.1\r\n\r\n", 405, 0, 0, "POST" },
        { "get /metrics HTTP/1.1\r\n\r\n", 400, 0, 0, "a lowercase method" },
        { "GET metrics HTTP/1.1\r\n\r\n", 400, 0, 0, "not a path" },
        { "GET /metrics\r\n\r\n", 400, 0, 0, "no version" },
        { "GET  /metrics HTTP/1.1\r\n\r\n", 400, 0, 0, "two spaces" },
        { "GET /metrics HTTP/2.0\r\n\r\n", 505, 0, 0, "HTTP/2.0" },
        { "GET /metrics FTP/1.1\r\n\r\n", 400, 0, 0, "not HTTP" },
        { "GET /me\x01trics HTTP/1.1\r\n\r\n", 400, 0, 0, "a control byte" },
        { "\r\n\r\n", 400, 0, 0, "an empty line" }
    };

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        is_int(race_promtext_request(v[i].in, strlen(v[i].in), &req), 1,
               "%s: answered", v[i].what);
        is_int(req.status, v[i].status, "%s: %d", v[i].what, v[i].status);
        is_int(req.page, v[i].page, "%s: page", v[i].what);
        is_int(req.head, v[i].head, "%s: head", v[i].what);
    }

    is_int(race_promtext_request("GET /metrics HTTP/1.1\r\nHost: x\r\n",
                                 32, &req), 0, "headers not ended: more");
    is_int(race_promtext_request("GET /metrics HTTP/1.1\r\n\r", 24, &req), 0,
           "a CR alone: more");
    is_int(race_promtext_request("", 0, &req), 0, "nothing yet: more");

    memset(big, 'a', sizeof(big));
    memcpy(big, "GET /", 5);

    is_int(race_promtext_request(big, RACE_PROMTEXT_REQ_MAX - 1, &req), 0,
           "a long line within the limit: more");
    is_int(race_promtext_request(big, RACE_PROMTEXT_REQ_MAX, &req), 1,
           "a line at the limit: answered");
    is_int(req.status, 414, "414 for a request line too long");

    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    is_int(race_promtext_request(big, RACE_PROMTEXT_REQ_MAX, &req), 1,
           "headers at the limit: answered");
    is_int(req.status, 431, "431 for headers too long");

    is_str(race_promtext_reason(414), "URI Too Long", "a reason phrase");
}


static void
test_listen(void)
{
    int   port;
    char  host[RACE_PROMTEXT_HOST_MAX + 1], reason[128];

    is_int(race_promtext_listen("127.0.0.1:9464", host, sizeof(host), &port,
                                reason, sizeof(reason)), 0, "host:port");
    is_str(host, "127.0.0.1", "its host");
    is_int(port, 9464, "its port");

    is_int(race_promtext_listen("[::1]:0", host, sizeof(host), &port,
                                reason, sizeof(reason)), 0, "[v6]:0");
    is_str(host, "::1", "the address out of its brackets");
    is_int(port, 0, "port 0: any free one");

    is_int(race_promtext_listen("localhost:65535", host, sizeof(host),
                                &port, reason, sizeof(reason)), 0, "a name");

    is_int(race_promtext_listen("127.0.0.1", host, sizeof(host), &port,
                                reason, sizeof(reason)), -1, "no port");
    is_str(reason, "is not host:port", "said so");
    is_int(race_promtext_listen(":9464", host, sizeof(host), &port,
                                reason, sizeof(reason)), -1, "no host");
    is_int(race_promtext_listen("::1:9464", host, sizeof(host), &port,
                                reason, sizeof(reason)), -1,
           "IPv6 without brackets");
    is_int(race_promtext_listen("[]:9464", host, sizeof(host), &port,
                                reason, sizeof(reason)), -1,
           "empty brackets");
    is_int(race_promtext_listen("a:65536", host, sizeof(host), &port,
                                reason, sizeof(reason)), -1, "port too big");
    is_int(race_promtext_listen("a:123456", host, sizeof(host), &port,
                                reason, sizeof(reason)), -1,
           "six digits");
    is_int(race_promtext_listen("a:-1", host, sizeof(host), &port,
                                reason, sizeof(reason)), -1, "a sign");
    is_int(race_promtext_listen("a b:1", host, sizeof(host), &port,
                                reason, sizeof(reason)), -1, "a space");
}
