
/*
 * ngx_race: the workers' metrics endpoint, its pure parts.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race_promtext.h"


static void race_promtext_str(race_buf_t *b, const char *s);
static void race_promtext_escape(race_buf_t *b, const char *s, int quote);
static void race_promtext_number(race_buf_t *b, int64_t v, unsigned exp);
static void race_promtext_labels(race_buf_t *b,
    const race_promtext_label_t *labels, size_t nlabels, const char *le);
static const char *race_promtext_eoh(const char *buf, size_t len);


static const char  *race_promtext_types[] = {
    "counter", "gauge", "histogram"
};


int
race_promtext_name_valid(const char *name, int label)
{
    size_t  i;
    char    c;

    if (name == NULL || name[0] == '\0') {
        return 0;
    }

    for (i = 0; name[i] != '\0'; i++) {
        c = name[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
            || (c == ':' && !label)
            || (c >= '0' && c <= '9' && i > 0))
        {
            continue;
        }

        return 0;
    }

    /* names starting with "__" are Prometheus' own labels */
    return !(label && name[0] == '_' && name[1] == '_');
}


void
race_promtext_family(race_buf_t *b, const char *name, const char *help,
    race_promtext_type_e type)
{
    race_promtext_str(b, "# HELP ");
    race_promtext_str(b, name);
    race_promtext_str(b, " ");
    race_promtext_escape(b, help, 0);
    race_promtext_str(b, "\n# TYPE ");
    race_promtext_str(b, name);
    race_promtext_str(b, " ");
    race_promtext_str(b, race_promtext_types[type]);
    race_promtext_str(b, "\n");
}


void
race_promtext_sample(race_buf_t *b, const char *name,
    const race_promtext_label_t *labels, size_t nlabels, int64_t value,
    unsigned exp)
{
    race_promtext_str(b, name);
    race_promtext_labels(b, labels, nlabels, NULL);
    race_promtext_str(b, " ");
    race_promtext_number(b, value, exp);
    race_promtext_str(b, "\n");
}


size_t
race_promtext_bucket(const int64_t *bounds, size_t n, int64_t v)
{
    size_t  lo, hi, mid;

    /* the first bound >= v, by halves: lo..hi holds it */

    lo = 0;
    hi = n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (v <= bounds[mid]) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return lo;
}


void
race_promtext_histogram(race_buf_t *b, const char *name,
    const race_promtext_label_t *labels, size_t nlabels,
    const int64_t *bounds, size_t n, const uint64_t *counts, int64_t sum,
    unsigned exp)
{
    char      le[32];
    size_t    i;
    uint64_t  total;
    race_buf_t  num;

    total = 0;

    for (i = 0; i <= n; i++) {
        total += counts[i];

        if (i < n) {
            memset(&num, 0, sizeof(race_buf_t));
            race_promtext_number(&num, bounds[i], exp);

            if (num.failed || num.len >= sizeof(le)) {
                race_buf_free(&num);
                b->failed = 1;
                return;
            }

            memcpy(le, num.data, num.len + 1);
            race_buf_free(&num);

        } else {
            memcpy(le, "+Inf", sizeof("+Inf"));
        }

        race_promtext_str(b, name);
        race_promtext_str(b, "_bucket");
        race_promtext_labels(b, labels, nlabels, le);
        race_promtext_str(b, " ");
        race_promtext_number(b, (int64_t) total, 0);
        race_promtext_str(b, "\n");
    }

    race_promtext_str(b, name);
    race_promtext_str(b, "_sum");
    race_promtext_labels(b, labels, nlabels, NULL);
    race_promtext_str(b, " ");
    race_promtext_number(b, sum, exp);
    race_promtext_str(b, "\n");

    race_promtext_str(b, name);
    race_promtext_str(b, "_count");
    race_promtext_labels(b, labels, nlabels, NULL);
    race_promtext_str(b, " ");
    race_promtext_number(b, (int64_t) total, 0);
    race_promtext_str(b, "\n");
}


int
race_promtext_request(const char *buf, size_t len, race_promtext_req_t *req)
{
    size_t       i, mlen, tlen, llen;
    const char  *eoh, *line, *sp1, *sp2, *target, *version, *q;

    memset(req, 0, sizeof(race_promtext_req_t));

    eoh = race_promtext_eoh(buf, len);

    if (eoh == NULL) {
        if (len < RACE_PROMTEXT_REQ_MAX) {
            return 0;
        }

        /* no end to the request line itself: that line is too long */
        req->status = memchr(buf, '\n', len) == NULL ? 414 : 431;
        return 1;
    }

    req->status = 400;

    line = buf;
    llen = (const char *) memchr(buf, '\n', eoh - buf) - buf;

    if (llen > 0 && line[llen - 1] == '\r') {
        llen--;
    }

    sp1 = memchr(line, ' ', llen);
    if (sp1 == NULL || sp1 == line) {
        return 1;
    }

    mlen = sp1 - line;

    for (i = 0; i < mlen; i++) {
        if (line[i] < 'A' || line[i] > 'Z') {
            return 1;
        }
    }

    target = sp1 + 1;
    sp2 = memchr(target, ' ', llen - (target - line));
    if (sp2 == NULL || sp2 == target) {
        return 1;
    }

    tlen = sp2 - target;
    version = sp2 + 1;

    if (target[0] != '/') {
        return 1;
    }

    for (i = 0; i < tlen; i++) {
        if ((unsigned char) target[i] <= 0x20
            || (unsigned char) target[i] == 0x7f)
        {
            return 1;
        }
    }

    if ((size_t) (line + llen - version) != sizeof("HTTP/1.1") - 1
        || memcmp(version, "HTTP/1.", 7) != 0
        || (version[7] != '0' && version[7] != '1'))
    {
        req->status = (size_t) (line + llen - version) >= 5
                      && memcmp(version, "HTTP/", 5) == 0 ? 505 : 400;
        return 1;
    }

    /* the query is not ours to read */
    q = memchr(target, '?', tlen);
    if (q != NULL) {
        tlen = q - target;
    }

    if (tlen == sizeof("/metrics") - 1
        && memcmp(target, "/metrics", tlen) == 0)
    {
        req->page = RACE_PROMTEXT_PAGE_METRICS;

    } else if (tlen == sizeof("/healthz") - 1
               && memcmp(target, "/healthz", tlen) == 0)
    {
        req->page = RACE_PROMTEXT_PAGE_HEALTHZ;

    } else if (tlen == sizeof("/readyz") - 1
               && memcmp(target, "/readyz", tlen) == 0)
    {
        req->page = RACE_PROMTEXT_PAGE_READYZ;

    } else {
        req->status = 404;
        return 1;
    }

    if (mlen == 3 && memcmp(line, "GET", 3) == 0) {
        req->status = 200;

    } else if (mlen == 4 && memcmp(line, "HEAD", 4) == 0) {
        req->status = 200;
        req->head = 1;

    } else {
        req->page = RACE_PROMTEXT_PAGE_NONE;
        req->status = 405;
    }

    return 1;
}


const char *
race_promtext_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}


int
race_promtext_listen(const char *value, char *host, size_t hsize, int *port,
    char *reason, size_t rsize)
{
    size_t       hlen, i;
    const char  *h, *colon, *p;
    long         n;

    colon = strrchr(value, ':');
    if (colon == NULL) {
        snprintf(reason, rsize, "is not host:port");
        return -1;
    }

    h = value;
    hlen = colon - value;

    if (value[0] == '[') {
        if (hlen < 3 || value[hlen - 1] != ']') {
            snprintf(reason, rsize, "is not [address]:port");
            return -1;
        }

        h++;
        hlen -= 2;

    } else if (memchr(value, ':', hlen) != NULL) {
        snprintf(reason, rsize, "has an IPv6 address not in brackets");
        return -1;
    }

    if (hlen == 0 || hlen > RACE_PROMTEXT_HOST_MAX || hlen >= hsize) {
        snprintf(reason, rsize, "has no host, or a host too long");
        return -1;
    }

    for (i = 0; i < hlen; i++) {
        if ((unsigned char) h[i] <= 0x20 || (unsigned char) h[i] >= 0x7f
            || h[i] == '[' || h[i] == ']' || h[i] == '/')
        {
            snprintf(reason, rsize, "has a bad character in its host");
            return -1;
        }
    }

    p = colon + 1;
    n = 0;

    for (i = 0; p[i] != '\0'; i++) {
        if (p[i] < '0' || p[i] > '9' || i == 5) {
            break;
        }

        n = n * 10 + (p[i] - '0');
    }

    if (i == 0 || p[i] != '\0' || n > 65535) {
        snprintf(reason, rsize, "has no port 0..65535");
        return -1;
    }

    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int) n;

    return 0;
}



static void
race_promtext_str(race_buf_t *b, const char *s)
{
    race_buf_add(b, s, strlen(s));
}


/* label values escape '"' too, help texts do not */

static void
race_promtext_escape(race_buf_t *b, const char *s, int quote)
{
    size_t  i, from;

    from = 0;

    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] != '\\' && s[i] != '\n' && !(quote && s[i] == '"')) {
            continue;
        }

        race_buf_add(b, s + from, i - from);
        race_buf_add(b, s[i] == '\n' ? "\\n"
                             : s[i] == '"' ? "\\\"" : "\\\\", 2);
        from = i + 1;
    }

    race_buf_add(b, s + from, i - from);
}


/* v / 10^exp, exact: the integer part, then the fraction without 0s */

static void
race_promtext_number(race_buf_t *b, int64_t v, unsigned exp)
{
    int       n;
    char      tmp[48];
    unsigned  i;
    uint64_t  mag, scale, whole, frac;

    mag = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;

    if (exp > 18) {
        exp = 18;
    }

    scale = 1;

    for (i = 0; i < exp; i++) {
        scale *= 10;
    }

    whole = mag / scale;
    frac = mag % scale;

    n = snprintf(tmp, sizeof(tmp), "%s%llu", v < 0 ? "-" : "",
                 (unsigned long long) whole);

    if (frac != 0) {
        n += snprintf(tmp + n, sizeof(tmp) - n, ".%0*llu", (int) exp,
                      (unsigned long long) frac);

        while (tmp[n - 1] == '0') {
            n--;
        }
    }

    race_buf_add(b, tmp, n);
}


static void
race_promtext_labels(race_buf_t *b, const race_promtext_label_t *labels,
    size_t nlabels, const char *le)
{
    size_t  i;

    if (nlabels == 0 && le == NULL) {
        return;
    }

    race_promtext_str(b, "{");

    for (i = 0; i < nlabels; i++) {
        race_promtext_str(b, i ? ",": "");
        race_promtext_str(b, labels[i].name);
        race_promtext_str(b, "=\"");
        race_promtext_escape(b, labels[i].value, 1);
        race_promtext_str(b, "\"");
    }

    if (le != NULL) {
        race_promtext_str(b, nlabels ? ",le=\"" : "le=\"");
        race_promtext_str(b, le);
        race_promtext_str(b, "\"");
    }

    race_promtext_str(b, "}");
}


/* the first byte after the empty line that ends the headers, or NULL */

static const char *
race_promtext_eoh(const char *buf, size_t len)
{
    size_t  i;

    /* a line end is "\n" or "\r\n": an empty line is "\n" after "\n" */

    for (i = 0; i < len; i++) {
        if (buf[i] != '\n' || i == 0) {
            continue;
        }

        if (buf[i - 1] == '\n'
            || (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n'))
        {
            return buf + i + 1;
        }
    }

    return NULL;
}
