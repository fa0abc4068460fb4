
/*
 * ngx_race: libFuzzer target for the workers' metrics core.
 *
 * The whole input is a request: it is answered, or more is awaited
 * only while it is shorter than the limit, with a status of the list
 * and a page only with 200.  Cut at its first NUL, it is a listen
 * address (a host that fits, a port in range) and a label value and a
 * help text (escaped: the text keeps one line per sample).  The rest,
 * as 8-byte numbers, are a histogram's bounds (sorted) and values:
 * each value's bucket holds it, and the text's buckets ascend to a
 * _count equal to the values' number.
 */


#include <stdlib.h>
#include <string.h>

#include "race_promtext.h"


#define F_VALUES  64

#define f_assert(c)  do { if (!(c)) { abort(); } } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request(const uint8_t *data, size_t size);
static void text(const char *s, const uint8_t *rest, size_t n);
static size_t lines(const race_buf_t *b);
static int cmp(const void *a, const void *b);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            port;
    char          *s, host[RACE_PROMTEXT_HOST_MAX + 1], reason[128];
    size_t         len;
    const uint8_t *nul;

    request(data, size);

    nul = memchr(data, '\0', size);
    len = nul ? (size_t) (nul - data) : size;

    s = malloc(len + 1);
    if (s == NULL) {
        return 0;
    }

    memcpy(s, data, len);
    s[len] = '\0';

    if (race_promtext_listen(s, host, sizeof(host), &port, reason,
                             sizeof(reason))
        == 0)
    {
        f_assert(host[0] != '\0' && strlen(host) <= RACE_PROMTEXT_HOST_MAX);
        f_assert(port >= 0 && port <= 65535);
        f_assert(strstr(s, host) != NULL);
    }

    text(s, nul ? nul + 1 : data + size, nul ? size - len - 1 : 0);

    free(s);

    return 0;
}


static void
request(const uint8_t *data, size_t size)
{
    int                  rc;
    size_t               len;
    race_promtext_req_t  req;

    /* the server never hands over more than the limit */
    len = size < RACE_PROMTEXT_REQ_MAX ? size : RACE_PROMTEXT_REQ_MAX;

    rc = race_promtext_request((const char *) data, len, &req);

    if (rc == 0) {
        f_assert(len < RACE_PROMTEXT_REQ_MAX);
        return;
    }

    f_assert(rc == 1);
    f_assert(req.status == 200 || req.status == 400 || req.status == 404
             || req.status == 405 || req.status == 414
             || req.status == 431 || req.status == 505);
    f_assert((req.status == 200) == (req.page != RACE_PROMTEXT_PAGE_NONE));
    f_assert(!req.head || req.status == 200);
    f_assert(strcmp(race_promtext_reason(req.status), "Error") != 0);

    if (req.status == 200) {
        f_assert(memcmp(data, req.head ? "HEAD /" : "GET /",
                        req.head ? 6 : 5) == 0);
    }
}


static void
text(const char *s, const uint8_t *rest, size_t n)
{
    char                   *p, *q, *e;
    size_t                  i, nb, nv, k;
    int64_t                 bounds[RACE_PROMTEXT_BUCKETS_MAX];
    int64_t                 values[F_VALUES], sum, v;
    uint64_t                counts[RACE_PROMTEXT_BUCKETS_MAX + 1];
    race_buf_t              b;
    unsigned long long      prev, got;
    race_promtext_label_t   l;

    memset(&b, 0, sizeof(race_buf_t));

    l.name = "v";
    l.value = s;

    race_promtext_family(&b, "m", s, RACE_PROMTEXT_GAUGE);
    race_promtext_sample(&b, "m", &l, 1, (int64_t) strlen(s), n % 19);

    f_assert(!b.failed);
    f_assert(lines(&b) == 3);
    race_buf_free(&b);

    /* bounds from the first numbers, values from the others */

    nb = n / 8 / 2;
    nb = nb < RACE_PROMTEXT_BUCKETS_MAX ? nb : RACE_PROMTEXT_BUCKETS_MAX;

    for (i = 0; i < nb; i++) {
        memcpy(&bounds[i], rest + i * 8, 8);
        bounds[i] /= 4;
    }

    qsort(bounds, nb, sizeof(int64_t), cmp);

    nv = n / 8 - nb;
    nv = nv < F_VALUES ? nv : F_VALUES;

    memset(counts, 0, sizeof(counts));
    sum = 0;

    for (i = 0; i < nv; i++) {
        memcpy(&v, rest + (nb + i) * 8, 8);
        v /= 4 * F_VALUES;
        values[i] = v;

        k = race_promtext_bucket(bounds, nb, v);
        f_assert(k <= nb);
        f_assert(k == nb || v <= bounds[k]);
        f_assert(k == 0 || v > bounds[k - 1]);

        counts[k]++;
        sum += values[i];
    }

    race_promtext_histogram(&b, "h", &l, 1, bounds, nb, counts, sum,
                            (unsigned) (n % 7));

    f_assert(!b.failed);
    f_assert(lines(&b) == nb + 3);

    /* each sample's value is after the last space of its line */

    prev = 0;
    p = b.data;

    for (i = 0; i < nb + 3; i++) {
        e = strchr(p, '\n');
        *e = '\0';
        q = strrchr(p, ' ');
        f_assert(q != NULL);

        if (i != nb + 1) {      /* not _sum */
            got = strtoull(q + 1, NULL, 10);
            f_assert(got >= prev);
            f_assert(i <= nb || got == prev);
            prev = got;
        }

        p = e + 1;
    }

    f_assert(prev == nv);

    race_buf_free(&b);
}


static size_t
lines(const race_buf_t *b)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < b->len; i++) {
        n += b->data[i] == '\n';
    }

    f_assert(b->len > 0 && b->data[b->len - 1] == '\n');

    return n;
}


static int
cmp(const void *a, const void *b)
{
    int64_t  x = *(const int64_t *) a, y = *(const int64_t *) b;

    return x < y ? -1 : x > y;
}
