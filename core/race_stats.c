
/*
 * ngx_race: results and statistics of a race, as JSON, CSV and GPX.
 */


#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "race_json.h"
#include "race_stats.h"
#include "race_utf8.h"


typedef enum {
    RACE_TEXT_JSON = 0,
    RACE_TEXT_CSV,
    RACE_TEXT_XML
} race_text_e;


static void race_stats_track(const race_stats_in_t *in,
    const race_stats_rider_in_t *ri, race_stats_rider_t *out);
static double race_stats_max_speed(const race_stats_rider_in_t *ri,
    int64_t from, int64_t to);
static double race_stats_gain(const race_stats_rider_in_t *ri,
    int64_t from, int64_t to);
static int race_stats_cmp_double(const void *a, const void *b);

static void race_buf_printf(race_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void race_buf_num(race_buf_t *b, double v, double unit);
static void race_buf_csv_num(race_buf_t *b, double v, double unit);
static void race_buf_text(race_buf_t *b, const char *s, race_text_e how);
static void race_buf_csv(race_buf_t *b, const char *s);
static void race_buf_time(race_buf_t *b, int64_t ms);
static int race_stats_time_ok(int64_t ms);



int
race_stats_compute(race_stats_t *st, const race_stats_in_t *in)
{
    size_t                  i, j, k, n;
    double                  cps[RACE_STANDINGS_CHECKPOINTS], sum_d;
    int64_t                 sum_t;
    race_standings_t       *s;
    race_stats_rider_t     *r;
    race_standings_conf_t   conf;
    const race_standing_t  *sg;

    memset(st, 0, sizeof(race_stats_t));
    st->in = in;
    st->winning = -1;
    st->avg = NAN;

    if (in->ncheckpoints > RACE_STANDINGS_CHECKPOINTS) {
        return -1;
    }

    for (k = 0; k < in->ncheckpoints; k++) {
        cps[k] = in->checkpoints[k].dist;
    }

    memset(&conf, 0, sizeof(conf));
    conf.length = in->length;
    conf.checkpoints = cps;
    conf.ncheckpoints = in->ncheckpoints;
    conf.start = in->start;

    s = race_standings_create(&conf);
    if (s == NULL) {
        return -1;
    }

    st->riders = calloc(in->nriders ? in->nriders : 1,
                        sizeof(race_stats_rider_t));
    if (st->riders == NULL) {
        race_standings_free(s);
        return -1;
    }

    /* the live standings, fed each whole track */

    for (i = 0; i < in->nriders; i++) {
        if (race_standings_add(s) < 0) {
            goto failed;
        }

        for (j = 0; j < in->riders[i].n; j++) {
            race_standings_sample(s, i, &in->riders[i].samples[j]);
        }

        race_standings_mark(s, i, in->riders[i].mark);
    }

    race_standings_tick(s, in->computed);

    n = in->nriders;
    sum_d = 0;
    sum_t = 0;

    for (i = 0; i < n; i++) {
        sg = race_standings_get(s, i);
        r = &st->riders[sg->rank - 1];

        r->index = i;
        r->rank = sg->rank;
        r->dist = sg->dist;
        r->finish = sg->finish;
        r->started = in->riders[i].n > 0;

        switch (sg->status) {

        case RACE_RIDER_FINISHED:
        case RACE_RIDER_DSQ:
            r->status = sg->status;
            break;

        default:
            r->status = RACE_RIDER_DNF;
            break;
        }

        for (k = 0; k < in->ncheckpoints; k++) {
            r->splits[k] = race_standings_split(s, i, k);
        }

        race_stats_track(in, &in->riders[i], r);

        st->starters += r->started;

        if (r->status == RACE_RIDER_FINISHED) {
            st->finishers++;
            sum_d += r->dist;
            sum_t += r->finish;
        }
    }

    st->n = n;

    if (n && st->riders[0].status == RACE_RIDER_FINISHED) {
        st->winning = st->riders[0].finish;
    }

    if (sum_t > 0) {
        st->avg = sum_d / ((double) sum_t / 1000);
    }

    race_standings_free(s);

    return 0;

failed:

    race_standings_free(s);
    free(st->riders);
    st->riders = NULL;

    return -1;
}


void
race_stats_free(race_stats_t *st)
{
    free(st->riders);
    st->riders = NULL;
    st->n = 0;
}


/*
 * Moving time, speeds and climbing from the start to the finish (or the
 * last sample): time counts as moving where the course distance grew
 * faster than RACE_STATS_MOVING_MPS, so stops and a rider standing at
 * the start count nothing, and a dead zone ridden through counts.
 */

static void
race_stats_track(const race_stats_in_t *in, const race_stats_rider_in_t *ri,
    race_stats_rider_t *out)
{
    size_t                      j;
    double                      d0, d1, raw, frac;
    int64_t                     dt, moving, to;
    const race_rider_sample_t  *a, *b;

    moving = 0;
    d0 = 0;
    a = NULL;
    to = out->finish >= 0 ? in->start + out->finish : INT64_MAX;

    for (j = 0; j < ri->n; j++) {
        b = &ri->samples[j];

        if (b->t < in->start || !isfinite(b->dist)) {
            continue;
        }

        raw = b->dist;
        d1 = raw > d0 ? raw : d0;

        if (d1 > in->length) {
            d1 = in->length;
        }

        if (a != NULL && b->t > a->t && d0 < in->length) {
            dt = b->t - a->t;

            if ((d1 - d0) / ((double) dt / 1000) > RACE_STATS_MOVING_MPS) {
                /* only up to the line on the stretch that crosses it */
                frac = raw > in->length ? (in->length - d0) / (raw - d0) : 1;
                moving += (int64_t) llround((double) dt * frac);
            }
        }

        a = b;
        d0 = d1;
    }

    out->moving = moving;
    out->avg = moving > 0 ? out->dist / ((double) moving / 1000) : NAN;
    out->max = race_stats_max_speed(ri, in->start, to);
    out->gain = race_stats_gain(ri, in->start, to);
}


/*
 * The highest median of RACE_STATS_MAX_WINDOW consecutive fix-to-fix
 * ground speeds where the rider made progress along the course: a GPS
 * jump makes two wild speeds, into the bad fix and out of it, which a
 * median of five never picks; noise while stopped counts nothing.
 */

static double
race_stats_max_speed(const race_stats_rider_in_t *ri, int64_t from,
    int64_t to)
{
    size_t                      j, m, w, k;
    double                      v[RACE_STATS_MAX_WINDOW], sorted[
                                    RACE_STATS_MAX_WINDOW], best, med;
    int64_t                     dt;
    const race_rider_sample_t  *a, *b;

    best = NAN;
    m = 0;

    for (j = 1; j < ri->n; j++) {
        a = &ri->samples[j - 1];
        b = &ri->samples[j];
        dt = b->t - a->t;

        /* standing still, GPS noise makes speeds: moving only */

        if (a->t < from || a->t >= to || dt <= 0
            || dt > RACE_STATS_MAX_DT_MS
            || !(b->dist - a->dist > RACE_STATS_MOVING_MPS * dt / 1000)
            || !(fabs(a->lat) <= 90 && fabs(b->lat) <= 90
                 && fabs(a->lon) <= 180 && fabs(b->lon) <= 180))
        {
            continue;
        }

        v[m % RACE_STATS_MAX_WINDOW] = race_geo_distance(a->lat, a->lon,
                                                         b->lat, b->lon)
                                       / ((double) dt / 1000);
        m++;

        if (m < RACE_STATS_MAX_WINDOW) {
            continue;
        }

        memcpy(sorted, v, sizeof(v));
        qsort(sorted, RACE_STATS_MAX_WINDOW, sizeof(double),
              race_stats_cmp_double);
        med = sorted[RACE_STATS_MAX_WINDOW / 2];

        if (!(med <= best)) {
            best = med;
        }
    }

    /* a short track: the median of what it has */

    if (m > 0 && m < RACE_STATS_MAX_WINDOW) {
        w = m;

        for (k = 0; k < w; k++) {
            sorted[k] = v[k];
        }

        qsort(sorted, w, sizeof(double), race_stats_cmp_double);
        best = sorted[w / 2];
    }

    return best;
}


static int
race_stats_cmp_double(const void *a, const void *b)
{
    double  x, y;

    x = *(const double *) a;
    y = *(const double *) b;

    return x < y ? -1 : (x > y ? 1 : 0);
}


/*
 * Climbing with hysteresis: a climb counts from the lowest point once
 * it is RACE_STATS_ELE_HYST above it, and ends once the road is that
 * far below its top; noise smaller than that counts nothing.
 */

static double
race_stats_gain(const race_stats_rider_in_t *ri, int64_t from, int64_t to)
{
    int                         up, any;
    size_t                      j;
    double                      base, gain, e;
    const race_rider_sample_t  *a;

    any = 0;
    up = 0;
    base = 0;
    gain = 0;

    for (j = 0; j < ri->n; j++) {
        a = &ri->samples[j];

        if (!a->has_ele || !isfinite(a->ele) || a->t < from || a->t > to) {
            continue;
        }

        e = a->ele;

        if (!any) {
            any = 1;
            base = e;
            continue;
        }

        if (up) {
            if (e > base) {
                gain += e - base;
                base = e;

            } else if (e < base - RACE_STATS_ELE_HYST) {
                up = 0;
                base = e;
            }

        } else {
            if (e < base) {
                base = e;

            } else if (e > base + RACE_STATS_ELE_HYST) {
                up = 1;
                gain += e - base;
                base = e;
            }
        }
    }

    return any ? gain : NAN;
}


int
race_stats_json(const race_stats_t *st, race_buf_t *b)
{
    size_t                     i, k;
    const race_stats_in_t     *in;
    const race_stats_rider_t  *r;
    const race_stats_rider_in_t  *ri;

    in = st->in;

    race_buf_add(b, "{\"race\":", 8);
    race_buf_text(b, in->id, RACE_TEXT_JSON);
    race_buf_printf(b, ",\"computed\":%lld,\"summary\":{\"name\":",
                    (long long) in->computed);
    race_buf_text(b, in->name, RACE_TEXT_JSON);
    race_buf_printf(b, ",\"start\":%lld,\"length_m\":",
                    (long long) in->start);
    race_buf_num(b, round(in->length * 10) / 10, 1);
    race_buf_printf(b, ",\"starters\":%zu,\"finishers\":%zu,\"winning_s\":",
                    st->starters, st->finishers);
    race_buf_num(b, st->winning >= 0 ? (double) st->winning : NAN, 1000);
    race_buf_add(b, ",\"avg_mps\":", 11);
    race_buf_num(b, round(st->avg * 100) / 100, 1);
    race_buf_add(b, ",\"checkpoints\":[", 16);

    for (k = 0; k < in->ncheckpoints; k++) {
        race_buf_add(b, k ? ",{\"name\":" : "{\"name\":", k ? 9 : 8);
        race_buf_text(b, in->checkpoints[k].name, RACE_TEXT_JSON);
        race_buf_add(b, ",\"dist_m\":", 10);
        race_buf_num(b, round(in->checkpoints[k].dist * 10) / 10, 1);
        race_buf_add(b, "}", 1);
    }

    race_buf_add(b, "]},\"riders\":[", 13);

    for (i = 0; i < st->n; i++) {
        r = &st->riders[i];
        ri = &in->riders[r->index];

        race_buf_add(b, i ? ",{\"rider\":" : "{\"rider\":", i ? 10 : 9);
        race_buf_text(b, ri->id, RACE_TEXT_JSON);
        race_buf_add(b, ",\"bib\":", 7);
        race_buf_text(b, ri->bib, RACE_TEXT_JSON);
        race_buf_add(b, ",\"name\":", 8);
        race_buf_text(b, ri->name, RACE_TEXT_JSON);
        race_buf_printf(b, ",\"rank\":%u,\"status\":\"%s\",\"finish_s\":",
                        r->rank, race_rider_status_name(r->status));
        race_buf_num(b, r->finish >= 0 ? (double) r->finish : NAN, 1000);
        race_buf_add(b, ",\"dist_m\":", 10);
        race_buf_num(b, round(r->dist * 10) / 10, 1);
        race_buf_add(b, ",\"moving_s\":", 12);
        race_buf_num(b, (double) r->moving, 1000);
        race_buf_add(b, ",\"avg_mps\":", 11);
        race_buf_num(b, round(r->avg * 100) / 100, 1);
        race_buf_add(b, ",\"max_mps\":", 11);
        race_buf_num(b, round(r->max * 100) / 100, 1);
        race_buf_add(b, ",\"ele_gain_m\":", 14);
        race_buf_num(b, round(r->gain * 10) / 10, 1);
        race_buf_add(b, ",\"splits\":[", 11);

        for (k = 0; k < in->ncheckpoints; k++) {
            if (k) {
                race_buf_add(b, ",", 1);
            }

            race_buf_num(b, r->splits[k] >= 0 ? (double) r->splits[k] : NAN,
                         1000);
        }

        race_buf_add(b, "]}", 2);
    }

    race_buf_add(b, "]}", 2);

    return b->failed ? -1 : 0;
}


int
race_stats_csv(const race_stats_t *st, race_buf_t *b)
{
    size_t                        i, k;
    const race_stats_in_t        *in;
    const race_stats_rider_t     *r;
    const race_stats_rider_in_t  *ri;

    in = st->in;

    race_buf_printf(b, "rank,rider,bib,name,status,finish_s,dist_m,"
                    "moving_s,avg_mps,max_mps,ele_gain_m");

    for (k = 0; k < in->ncheckpoints; k++) {
        race_buf_add(b, ",", 1);
        race_buf_csv(b, in->checkpoints[k].name);
    }

    race_buf_add(b, "\r\n", 2);

    for (i = 0; i < st->n; i++) {
        r = &st->riders[i];
        ri = &in->riders[r->index];

        race_buf_printf(b, "%u,", r->rank);
        race_buf_csv(b, ri->id);
        race_buf_add(b, ",", 1);
        race_buf_csv(b, ri->bib);
        race_buf_add(b, ",", 1);
        race_buf_csv(b, ri->name);
        race_buf_printf(b, ",%s,", race_rider_status_name(r->status));

        /* numbers as in the JSON; none is an empty field */

        race_buf_csv_num(b, r->finish >= 0 ? (double) r->finish : -1, 1000);
        race_buf_add(b, ",", 1);
        race_buf_csv_num(b, round(r->dist * 10) / 10, 1);
        race_buf_add(b, ",", 1);
        race_buf_csv_num(b, (double) r->moving, 1000);
        race_buf_add(b, ",", 1);
        race_buf_csv_num(b, round(r->avg * 100) / 100, 1);
        race_buf_add(b, ",", 1);
        race_buf_csv_num(b, round(r->max * 100) / 100, 1);
        race_buf_add(b, ",", 1);
        race_buf_csv_num(b, round(r->gain * 10) / 10, 1);

        for (k = 0; k < in->ncheckpoints; k++) {
            race_buf_add(b, ",", 1);
            race_buf_csv_num(b, r->splits[k] >= 0 ? (double) r->splits[k] : -1,
                         1000);
        }

        race_buf_add(b, "\r\n", 2);
    }

    return b->failed ? -1 : 0;
}


int
race_stats_gpx(race_buf_t *b, const char *name, const char *rider,
    int64_t time, const race_rider_sample_t *samples, size_t n)
{
    size_t                      j;
    double                      lon;
    const race_rider_sample_t  *p;

    race_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<gpx version=\"1.1\" creator=\"ngx_race\" "
                    "xmlns=\"http://www.topografix.com/GPX/1/1\">\n"
                    "<metadata><name>");
    race_buf_text(b, name, RACE_TEXT_XML);
    race_buf_add(b, "</name>", 7);

    if (race_stats_time_ok(time)) {
        race_buf_add(b, "<time>", 6);
        race_buf_time(b, time);
        race_buf_add(b, "</time>", 7);
    }

    race_buf_add(b, "</metadata>\n<trk><name>", 23);
    race_buf_text(b, rider, RACE_TEXT_XML);
    race_buf_add(b, "</name><trkseg>\n", 16);

    for (j = 0; j < n; j++) {
        p = &samples[j];

        /* the schema: -90 <= lat <= 90, -180 <= lon < 180 */

        if (!(p->lat >= -90 && p->lat <= 90 && p->lon >= -180
              && p->lon <= 180) || !race_stats_time_ok(p->t))
        {
            continue;
        }

        lon = p->lon == 180 ? -180 : p->lon;

        race_buf_printf(b, "<trkpt lat=\"%.7f\" lon=\"%.7f\">",
                        p->lat, lon);

        /* ele before time, as the schema orders them */

        if (p->has_ele && isfinite(p->ele) && fabs(p->ele) < 1e6) {
            race_buf_printf(b, "<ele>%.1f</ele>", p->ele);
        }

        race_buf_add(b, "<time>", 6);
        race_buf_time(b, p->t);
        race_buf_add(b, "</time></trkpt>\n", 16);
    }

    race_buf_add(b, "</trkseg></trk>\n</gpx>\n", 23);

    return b->failed ? -1 : 0;
}


/* years 1970 to 9999: what every reader of xsd:dateTime takes */

static int
race_stats_time_ok(int64_t ms)
{
    return ms >= 0 && ms < 253402300800000LL;
}


static void
race_buf_time(race_buf_t *b, int64_t ms)
{
    time_t     sec;
    struct tm  tm;

    sec = (time_t) (ms / 1000);

    if (gmtime_r(&sec, &tm) == NULL) {
        return;
    }

    race_buf_printf(b, "%04d-%02d-%02dT%02d:%02d:%02d",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec);

    if (ms % 1000) {
        race_buf_printf(b, ".%03d", (int) (ms % 1000));
    }

    race_buf_add(b, "Z", 1);
}



static void
race_buf_printf(race_buf_t *b, const char *fmt, ...)
{
    int      n;
    char     tmp[256];
    va_list  ap;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);

    /* every caller's text is short */

    if (n < 0 || (size_t) n >= sizeof(tmp)) {
        b->failed = 1;
        return;
    }

    race_buf_add(b, tmp, n);
}


/* v / unit as a JSON number, null when not a finite number >= 0 */

static void
race_buf_num(race_buf_t *b, double v, double unit)
{
    char    tmp[RACE_JSON_NUMBER_SIZE];
    size_t  n;

    v /= unit;

    if (!(v >= 0) || !isfinite(v)) {
        race_buf_add(b, "null", 4);
        return;
    }

    n = race_json_number(v, tmp, sizeof(tmp));
    race_buf_add(b, tmp, n);
}


static void
race_buf_csv_num(race_buf_t *b, double v, double unit)
{
    if (v >= 0 && isfinite(v)) {
        race_buf_num(b, v, unit);
    }
}


/*
 * Text of any bytes: code points that are not UTF-8 become U+FFFD, one
 * per bad byte; then escaped as JSON or XML (whose 1.0 forbids most
 * controls even escaped: those become U+FFFD too).
 */

static void
race_buf_text(race_buf_t *b, const char *s, race_text_e how)
{
    char        esc[8];
    size_t      len, n;
    int32_t     c;
    const char  *rep = "\xef\xbf\xbd";

    if (s == NULL) {
        s = "";
    }

    len = strlen(s);

    if (how == RACE_TEXT_JSON) {
        race_buf_add(b, "\"", 1);
    }

    while (len) {
        c = race_utf8_decode((const uint8_t *) s, len, &n);

        if (c < 0) {
            race_buf_add(b, rep, 3);
            s++;
            len--;
            continue;
        }

        if (how == RACE_TEXT_JSON) {
            if (c == '"' || c == '\\') {
                esc[0] = '\\';
                esc[1] = (char) c;
                race_buf_add(b, esc, 2);

            } else if (c < 0x20) {
                snprintf(esc, sizeof(esc), "\\u%04x", (unsigned) c);
                race_buf_add(b, esc, 6);

            } else {
                race_buf_add(b, s, n);
            }

        } else if (how == RACE_TEXT_XML) {
            if (c == '&') {
                race_buf_add(b, "&amp;", 5);

            } else if (c == '<') {
                race_buf_add(b, "&lt;", 4);

            } else if (c == '>') {
                race_buf_add(b, "&gt;", 4);

            } else if (c == '"') {
                race_buf_add(b, "&quot;", 6);

            } else if (c == '\'') {
                race_buf_add(b, "&apos;", 6);

            } else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                       || c == 0xfffe || c == 0xffff)
            {
                race_buf_add(b, rep, 3);

            } else {
                race_buf_add(b, s, n);
            }

        } else {
            race_buf_add(b, s, n);
        }

        s += n;
        len -= n;
    }

    if (how == RACE_TEXT_JSON) {
        race_buf_add(b, "\"", 1);
    }
}


/*
 * A CSV text field: U+FFFD for bytes that are not UTF-8, a ' before a
 * formula's first character, quoted when it must be.
 */

static void
race_buf_csv(race_buf_t *b, const char *s)
{
    int          quote;
    size_t       start, i;
    race_buf_t   t;

    memset(&t, 0, sizeof(race_buf_t));

    if (s != NULL && (s[0] == '=' || s[0] == '+' || s[0] == '-'
                      || s[0] == '@' || s[0] == '\t' || s[0] == '\r'))
    {
        race_buf_add(&t, "'", 1);
    }

    race_buf_text(&t, s, RACE_TEXT_CSV);

    if (t.failed) {
        b->failed = 1;
        race_buf_free(&t);
        return;
    }

    quote = (t.len && strpbrk(t.data, ",\"\r\n") != NULL);

    if (!quote) {
        race_buf_add(b, t.data ? t.data : "", t.len);
        race_buf_free(&t);
        return;
    }

    race_buf_add(b, "\"", 1);

    for (start = 0, i = 0; i < t.len; i++) {
        if (t.data[i] == '"') {
            race_buf_add(b, t.data + start, i - start + 1);
            race_buf_add(b, "\"", 1);
            start = i + 1;
        }
    }

    race_buf_add(b, t.data + start, t.len - start);
    race_buf_add(b, "\"", 1);

    race_buf_free(&t);
}
