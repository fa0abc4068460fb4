
/*
 * ngx_race: a course file's points: GPX 1.1 (libexpat) or GeoJSON
 * (jansson).
 *
 * GPX is read with no DTD at all: a DOCTYPE stops the parser before
 * its internal subset is read, so no entity is ever declared, expanded
 * or fetched (external entities, "billion laughs").  Elements nest at
 * most RACE_COURSE_DEPTH_MAX deep; the caller bounds the size.
 */


#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>
#include <jansson.h>

#include "race_course_int.h"
#include "race_utf8.h"


#define RACE_GPX_NS_SEP    ' '
#define RACE_GPX_NS_11     "http://www.topografix.com/GPX/1/1"
#define RACE_GPX_NS_10     "http://www.topografix.com/GPX/1/0"

#define RACE_GPX_NUM_MAX   64       /* bytes of a number's text */

/*
 * jansson takes some 50 bytes a value: 8 MiB of "[0,0]," would take
 * hundreds of MB.  A file may have 6 values a point (a position and
 * its numbers, a time or two), counted before jansson reads it.
 */
#define RACE_GEOJSON_VALUES_MAX  (6 * RACE_COURSE_INPUT_POINTS)


typedef enum {
    RACE_GPX_OTHER = 0,
    RACE_GPX_ROOT,
    RACE_GPX_TRK,
    RACE_GPX_TRKSEG,
    RACE_GPX_TRKPT,
    RACE_GPX_RTE,
    RACE_GPX_RTEPT,
    RACE_GPX_ELE
} race_gpx_kind_e;


typedef struct {
    XML_Parser              parser;
    int                     depth;
    uint8_t                 stack[RACE_COURSE_DEPTH_MAX + 1];

    /* the point being read */
    double                  lat;
    double                  lon;
    double                  ele;
    unsigned                bad:1;          /* already reported */
    char                    text[RACE_GPX_NUM_MAX + 1];
    size_t                  text_len;       /* may exceed the buffer */

    race_course_raw_t       trk;
    race_course_raw_t       rte;

    unsigned                stopped:1;      /* err says why */
    char                    err[RACE_COURSE_ERR_MAX];
} race_gpx_t;


static void XMLCALL race_gpx_start(void *data, const XML_Char *name,
    const XML_Char **atts);
static void XMLCALL race_gpx_end(void *data, const XML_Char *name);
static void XMLCALL race_gpx_text(void *data, const XML_Char *s, int len);
static void XMLCALL race_gpx_doctype(void *data, const XML_Char *name,
    const XML_Char *sysid, const XML_Char *pubid, int has_internal_subset);
static void XMLCALL race_gpx_entity(void *data, const XML_Char *name,
    int is_parameter_entity, const XML_Char *value, int value_length,
    const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid,
    const XML_Char *notation);
static void race_gpx_stop(race_gpx_t *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *race_gpx_local(const char *name, int *gpx_ns);
static void race_gpx_point_error(race_gpx_t *g, race_course_raw_t *raw,
    const char *what, const char *text, size_t len);
static int race_course_number(const char *s, size_t len, double *v);
static int race_geojson_positions(race_course_raw_t *raw, json_t *coords,
    char *err, size_t size);
static json_t *race_geojson_line(json_t *root, char *err, size_t size);
static size_t race_geojson_values(const char *data, size_t len);


void
race_course_raw_add(race_course_raw_t *raw, double lat, double lon,
    double ele)
{
    size_t   cap;
    double  *p;

    raw->count++;

    if (raw->failed || raw->nomem || raw->count > RACE_COURSE_INPUT_POINTS) {
        return;
    }

    if (!isfinite(lat) || !isfinite(lon) || lat < -90.0 || lat > 90.0
        || lon < -180.0 || lon > 180.0)
    {
        snprintf(raw->err, sizeof(raw->err), "point %zu: coordinates out "
                 "of range: lat %.7g, lon %.7g", raw->count, lat, lon);
        raw->failed = 1;
        return;
    }

    if (raw->n == raw->cap) {
        cap = raw->cap ? raw->cap * 2 : 1024;

        if (cap > RACE_COURSE_INPUT_POINTS) {
            cap = RACE_COURSE_INPUT_POINTS;
        }

        p = realloc(raw->lat, cap * sizeof(double));
        if (p == NULL) {
            raw->nomem = 1;
            return;
        }

        raw->lat = p;

        p = realloc(raw->lon, cap * sizeof(double));
        if (p == NULL) {
            raw->nomem = 1;
            return;
        }

        raw->lon = p;

        p = realloc(raw->ele, cap * sizeof(double));
        if (p == NULL) {
            raw->nomem = 1;
            return;
        }

        raw->ele = p;
        raw->cap = cap;
    }

    raw->lat[raw->n] = lat;
    raw->lon[raw->n] = lon;
    raw->ele[raw->n] = isfinite(ele) ? ele : NAN;
    raw->n++;
}


void
race_course_raw_free(race_course_raw_t *raw)
{
    free(raw->lat);
    free(raw->lon);
    free(raw->ele);
    memset(raw, 0, sizeof(race_course_raw_t));
}


int
race_course_read_gpx(race_course_raw_t *raw, const char *data, size_t len,
    char *err, size_t size)
{
    int                 rc;
    race_gpx_t         *g;
    race_course_raw_t  *use;
    enum XML_Status     st;

    memset(raw, 0, sizeof(race_course_raw_t));

    g = calloc(1, sizeof(race_gpx_t));
    if (g == NULL) {
        snprintf(err, size, "out of memory");
        return -1;
    }

    /* namespaces: a GPX element is "uri local", an extension's is not */

    g->parser = XML_ParserCreateNS(NULL, RACE_GPX_NS_SEP);
    if (g->parser == NULL) {
        free(g);
        snprintf(err, size, "out of memory");
        return -1;
    }

    XML_SetUserData(g->parser, g);
    XML_SetElementHandler(g->parser, race_gpx_start, race_gpx_end);
    XML_SetCharacterDataHandler(g->parser, race_gpx_text);
    XML_SetStartDoctypeDeclHandler(g->parser, race_gpx_doctype);
    XML_SetEntityDeclHandler(g->parser, race_gpx_entity);
    XML_SetParamEntityParsing(g->parser, XML_PARAM_ENTITY_PARSING_NEVER);

    st = XML_Parse(g->parser, data, (int) len, 1);

    rc = -1;

    if (g->stopped) {
        snprintf(err, size, "%s", g->err);

    } else if (st != XML_STATUS_OK) {
        snprintf(err, size, "not XML: %s at line %lu",
                 XML_ErrorString(XML_GetErrorCode(g->parser)),
                 (unsigned long) XML_GetCurrentLineNumber(g->parser));

    } else {
        /* a track if there is one, a route otherwise */

        use = g->trk.count ? &g->trk : &g->rte;

        if (use->count == 0) {
            snprintf(err, size, "no points: the GPX has no track or route "
                     "points");

        } else if (use->count > RACE_COURSE_INPUT_POINTS) {
            snprintf(err, size, "too many points: %zu over the limit of %d",
                     use->count, RACE_COURSE_INPUT_POINTS);

        } else if (use->nomem) {
            snprintf(err, size, "out of memory");

        } else if (use->failed) {
            snprintf(err, size, "%s", use->err);

        } else {
            *raw = *use;
            memset(use, 0, sizeof(race_course_raw_t));
            rc = 0;
        }
    }

    XML_ParserFree(g->parser);
    race_course_raw_free(&g->trk);
    race_course_raw_free(&g->rte);
    free(g);

    return rc;
}


static void XMLCALL
race_gpx_start(void *data, const XML_Char *name, const XML_Char **atts)
{
    race_gpx_t         *g = data;
    int                 ns, i, have_lat, have_lon;
    char                q[40];
    uint8_t             parent, kind;
    const char         *local;
    race_course_raw_t  *raw;

    if (g->stopped) {
        return;
    }

    if (g->depth >= RACE_COURSE_DEPTH_MAX) {
        race_gpx_stop(g, "not GPX: elements nested deeper than %d",
                      RACE_COURSE_DEPTH_MAX);
        return;
    }

    local = race_gpx_local(name, &ns);
    parent = g->depth ? g->stack[g->depth] : RACE_GPX_OTHER;
    kind = RACE_GPX_OTHER;

    if (g->depth == 0) {
        if (!ns || strcmp(local, "gpx") != 0) {
            race_course_quote(q, sizeof(q), name, strlen(name));
            race_gpx_stop(g, "not GPX: the root element is <%s>", q);
            return;
        }

        kind = RACE_GPX_ROOT;

    } else if (ns) {
        switch (parent) {

        case RACE_GPX_ROOT:
            if (strcmp(local, "trk") == 0) {
                kind = RACE_GPX_TRK;

            } else if (strcmp(local, "rte") == 0) {
                kind = RACE_GPX_RTE;
            }

            break;

        case RACE_GPX_TRK:
            if (strcmp(local, "trkseg") == 0) {
                kind = RACE_GPX_TRKSEG;
            }

            break;

        case RACE_GPX_TRKSEG:
            if (strcmp(local, "trkpt") == 0) {
                kind = RACE_GPX_TRKPT;
            }

            break;

        case RACE_GPX_RTE:
            if (strcmp(local, "rtept") == 0) {
                kind = RACE_GPX_RTEPT;
            }

            break;

        case RACE_GPX_TRKPT:
        case RACE_GPX_RTEPT:
            if (strcmp(local, "ele") == 0) {
                kind = RACE_GPX_ELE;
                g->text_len = 0;
            }

            break;
        }
    }

    g->stack[++g->depth] = kind;

    if (kind != RACE_GPX_TRKPT && kind != RACE_GPX_RTEPT) {
        return;
    }

    /* a point: its lat and lon, unqualified attributes */

    raw = (kind == RACE_GPX_TRKPT) ? &g->trk : &g->rte;

    g->lat = NAN;
    g->lon = NAN;
    g->ele = NAN;
    g->bad = 0;
    have_lat = 0;
    have_lon = 0;

    for (i = 0; atts[i] != NULL; i += 2) {
        if (strcmp(atts[i], "lat") == 0) {
            have_lat = 1;

            if (race_course_number(atts[i + 1], strlen(atts[i + 1]), &g->lat)
                != 0)
            {
                race_gpx_point_error(g, raw, "lat", atts[i + 1],
                                     strlen(atts[i + 1]));
            }

        } else if (strcmp(atts[i], "lon") == 0) {
            have_lon = 1;

            if (race_course_number(atts[i + 1], strlen(atts[i + 1]), &g->lon)
                != 0)
            {
                race_gpx_point_error(g, raw, "lon", atts[i + 1],
                                     strlen(atts[i + 1]));
            }
        }
    }

    if (!have_lat || !have_lon) {
        race_gpx_point_error(g, raw, have_lat ? "lon" : "lat", NULL, 0);
    }
}


static void XMLCALL
race_gpx_end(void *data, const XML_Char *name)
{
    race_gpx_t         *g = data;
    uint8_t             kind;
    race_course_raw_t  *raw;

    (void) name;

    if (g->stopped || g->depth == 0) {
        return;
    }

    kind = g->stack[g->depth--];

    switch (kind) {

    case RACE_GPX_ELE:
        raw = (g->stack[g->depth] == RACE_GPX_TRKPT) ? &g->trk : &g->rte;

        if (g->text_len > RACE_GPX_NUM_MAX
            || race_course_number(g->text, g->text_len, &g->ele) != 0)
        {
            race_gpx_point_error(g, raw, "ele", g->text,
                                 g->text_len > RACE_GPX_NUM_MAX
                                 ? RACE_GPX_NUM_MAX : g->text_len);
            g->ele = NAN;
        }

        break;

    case RACE_GPX_TRKPT:
    case RACE_GPX_RTEPT:
        raw = (kind == RACE_GPX_TRKPT) ? &g->trk : &g->rte;

        if (g->bad) {
            raw->count++;           /* counted, reported already */

        } else {
            race_course_raw_add(raw, g->lat, g->lon, g->ele);
        }

        break;
    }
}


static void XMLCALL
race_gpx_text(void *data, const XML_Char *s, int len)
{
    race_gpx_t  *g = data;
    size_t       n;

    if (g->stopped || g->depth == 0 || g->stack[g->depth] != RACE_GPX_ELE
        || len <= 0)
    {
        return;
    }

    if (g->text_len < RACE_GPX_NUM_MAX) {
        n = (size_t) len;

        if (n > RACE_GPX_NUM_MAX - g->text_len) {
            n = RACE_GPX_NUM_MAX - g->text_len;
        }

        memcpy(g->text + g->text_len, s, n);
    }

    /* counts on past the buffer, so that a long text is refused */

    if (g->text_len <= RACE_GPX_NUM_MAX) {
        g->text_len += (size_t) len;
    }
}


static void XMLCALL
race_gpx_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
    race_gpx_t  *g = data;

    (void) name;
    (void) sysid;
    (void) pubid;
    (void) has_internal_subset;

    /* GPX has no DTD; a DOCTYPE can only declare entities, refused */

    race_gpx_stop(g, "not GPX: a DOCTYPE is not allowed (entities are not "
                  "read)");
}


static void XMLCALL
race_gpx_entity(void *data, const XML_Char *name, int is_parameter_entity,
    const XML_Char *value, int value_length, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
    race_gpx_t  *g = data;

    (void) name;
    (void) is_parameter_entity;
    (void) value;
    (void) value_length;
    (void) base;
    (void) sysid;
    (void) pubid;
    (void) notation;

    /* never reached after the DOCTYPE stop; kept as a second lock */

    race_gpx_stop(g, "not GPX: entity declarations are not allowed");
}


static void
race_gpx_stop(race_gpx_t *g, const char *fmt, ...)
{
    va_list  ap;

    if (g->stopped) {
        return;
    }

    va_start(ap, fmt);
    vsnprintf(g->err, sizeof(g->err), fmt, ap);
    va_end(ap);

    g->stopped = 1;
    XML_StopParser(g->parser, XML_FALSE);
}


/* "uri local" or "local": the local name, *gpx_ns if GPX's or none */

static const char *
race_gpx_local(const char *name, int *gpx_ns)
{
    size_t       n;
    const char  *sep;

    sep = strchr(name, RACE_GPX_NS_SEP);

    if (sep == NULL) {
        *gpx_ns = 1;
        return name;
    }

    n = (size_t) (sep - name);

    *gpx_ns = (n == sizeof(RACE_GPX_NS_11) - 1
               && memcmp(name, RACE_GPX_NS_11, n) == 0)
              || (n == sizeof(RACE_GPX_NS_10) - 1
                  && memcmp(name, RACE_GPX_NS_10, n) == 0);

    return sep + 1;
}


/* a point's bad field: the first one of the file is what is reported */

static void
race_gpx_point_error(race_gpx_t *g, race_course_raw_t *raw,
    const char *what, const char *text, size_t len)
{
    char  q[40];

    if (g->bad) {
        return;
    }

    g->bad = 1;

    if (raw->failed || raw->count >= RACE_COURSE_INPUT_POINTS) {
        return;
    }

    raw->failed = 1;

    if (text == NULL) {
        snprintf(raw->err, sizeof(raw->err), "point %zu: no %s",
                 raw->count + 1, what);
        return;
    }

    race_course_quote(q, sizeof(q), text, len);
    snprintf(raw->err, sizeof(raw->err), "point %zu: %s \"%s\" is not a "
             "number", raw->count + 1, what, q);
}


/*
 * A decimal as XML Schema writes it (GPX's xsd:decimal), blanks
 * around it allowed; an exponent too, which some writers emit.  Not
 * strtod()'s "inf", "nan" or hex forms.
 */

static int
race_course_number(const char *s, size_t len, double *v)
{
    char    buf[RACE_GPX_NUM_MAX + 1], *end;
    size_t  i, j, digits;

    while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
        len--;
    }

    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'
                       || s[len - 1] == '\r' || s[len - 1] == '\n'))
    {
        len--;
    }

    if (len == 0 || len > RACE_GPX_NUM_MAX) {
        return -1;
    }

    i = 0;

    if (s[i] == '+' || s[i] == '-') {
        i++;
    }

    digits = 0;

    for (j = i; j < len && s[j] >= '0' && s[j] <= '9'; j++) {
        digits++;
    }

    if (j < len && s[j] == '.') {
        for (j++; j < len && s[j] >= '0' && s[j] <= '9'; j++) {
            digits++;
        }
    }

    if (digits == 0) {
        return -1;
    }

    if (j < len && (s[j] == 'e' || s[j] == 'E')) {
        j++;

        if (j < len && (s[j] == '+' || s[j] == '-')) {
            j++;
        }

        if (j == len || s[j] < '0' || s[j] > '9') {
            return -1;
        }

        while (j < len && s[j] >= '0' && s[j] <= '9') {
            j++;
        }
    }

    if (j != len) {
        return -1;
    }

    memcpy(buf, s, len);
    buf[len] = '\0';

    *v = strtod(buf, &end);

    return (end == buf + len && isfinite(*v)) ? 0 : -1;
}


void
race_course_quote(char *dst, size_t size, const char *s, size_t len)
{
    size_t          i, o, n;
    const uint8_t  *p;

    p = (const uint8_t *) s;
    o = 0;

    for (i = 0; i < len; i += n) {
        n = 1;

        if (p[i] >= 0x80) {
            if (race_utf8_decode(p + i, len - i, &n) < 0) {
                n = 1;

                if (o + 1 >= size - 4) {
                    break;
                }

                dst[o++] = '?';
                continue;
            }
        }

        if (o + n >= size - 4) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }

        if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '"' || p[i] == '\\') {
            dst[o++] = '?';

        } else {
            memcpy(dst + o, p + i, n);
            o += n;
        }
    }

    dst[o] = '\0';
}


int
race_course_read_geojson(race_course_raw_t *raw, const char *data,
    size_t len, char *err, size_t size)
{
    int           rc;
    char          q[80];
    json_t       *root, *coords;
    json_error_t  e;

    memset(raw, 0, sizeof(race_course_raw_t));

    if (race_geojson_values(data, len) > RACE_GEOJSON_VALUES_MAX) {
        snprintf(err, size, "too large: over %d JSON values (the limit is "
                 "%d points)", RACE_GEOJSON_VALUES_MAX,
                 RACE_COURSE_INPUT_POINTS);
        return -1;
    }

    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &e);

    if (root == NULL) {
        race_course_quote(q, sizeof(q), e.text, strlen(e.text));
        snprintf(err, size, "not GeoJSON: %s at line %d", q, e.line);
        return -1;
    }

    coords = race_geojson_line(root, err, size);

    rc = (coords == NULL) ? -1 : race_geojson_positions(raw, coords, err,
                                                        size);

    json_decref(root);

    if (rc != 0) {
        race_course_raw_free(raw);
    }

    return rc;
}


/* the coordinates of the one LineString in root, or NULL and err */

static json_t *
race_geojson_line(json_t *root, char *err, size_t size)
{
    char         q[40];
    size_t       i, lines;
    json_t      *geom, *f, *g, *found;
    const char  *type;

    type = json_string_value(json_object_get(root, "type"));

    if (!json_is_object(root) || type == NULL) {
        snprintf(err, size, "not GeoJSON: an object with a \"type\" is "
                 "needed");
        return NULL;
    }

    if (strcmp(type, "LineString") == 0) {
        geom = root;

    } else if (strcmp(type, "Feature") == 0) {
        geom = json_object_get(root, "geometry");
        type = json_string_value(json_object_get(geom, "type"));

        if (type == NULL || strcmp(type, "LineString") != 0) {
            snprintf(err, size, "not GeoJSON: the Feature's geometry is "
                     "not a LineString");
            return NULL;
        }

    } else if (strcmp(type, "FeatureCollection") == 0) {
        f = json_object_get(root, "features");

        if (!json_is_array(f)) {
            snprintf(err, size, "not GeoJSON: the FeatureCollection has no "
                     "\"features\" array");
            return NULL;
        }

        /* one LineString; other features (waypoints) are left aside */

        lines = 0;
        found = NULL;

        for (i = 0; i < json_array_size(f); i++) {
            g = json_object_get(json_array_get(f, i), "geometry");
            type = json_string_value(json_object_get(g, "type"));

            if (type != NULL && strcmp(type, "LineString") == 0) {
                lines++;
                found = g;
            }
        }

        if (lines != 1) {
            snprintf(err, size, "not GeoJSON: the FeatureCollection has %zu "
                     "LineStrings, exactly one is needed", lines);
            return NULL;
        }

        geom = found;

    } else {
        race_course_quote(q, sizeof(q), type, strlen(type));
        snprintf(err, size, "not GeoJSON: the type is \"%s\", not a "
                 "LineString, a Feature or a FeatureCollection", q);
        return NULL;
    }

    if (!json_is_array(json_object_get(geom, "coordinates"))) {
        snprintf(err, size, "not GeoJSON: the LineString has no "
                 "\"coordinates\" array");
        return NULL;
    }

    return json_object_get(geom, "coordinates");
}


static int
race_geojson_positions(race_course_raw_t *raw, json_t *coords, char *err,
    size_t size)
{
    size_t   i, n, k;
    json_t  *pos;

    n = json_array_size(coords);

    if (n == 0) {
        snprintf(err, size, "no points: the LineString has no coordinates");
        return -1;
    }

    if (n > RACE_COURSE_INPUT_POINTS) {
        snprintf(err, size, "too many points: %zu over the limit of %d",
                 n, RACE_COURSE_INPUT_POINTS);
        return -1;
    }

    for (i = 0; i < n; i++) {
        pos = json_array_get(coords, i);
        k = json_array_size(pos);

        if (!json_is_array(pos) || k < 2 || k > 3
            || !json_is_number(json_array_get(pos, 0))
            || !json_is_number(json_array_get(pos, 1))
            || (k == 3 && !json_is_number(json_array_get(pos, 2))))
        {
            snprintf(err, size, "point %zu: a position is [lon, lat] or "
                     "[lon, lat, ele], in numbers", i + 1);
            return -1;
        }

        race_course_raw_add(raw, json_number_value(json_array_get(pos, 1)),
                            json_number_value(json_array_get(pos, 0)),
                            k == 3 ? json_number_value(json_array_get(pos, 2))
                                   : NAN);

        if (raw->nomem) {
            snprintf(err, size, "out of memory");
            return -1;
        }

        if (raw->failed) {
            snprintf(err, size, "%s", raw->err);
            return -1;
        }
    }

    return 0;
}


/* values, roughly: '[', '{' and ',' outside strings */

static size_t
race_geojson_values(const char *data, size_t len)
{
    int     in;
    size_t  i, n;

    n = 0;
    in = 0;

    for (i = 0; i < len; i++) {
        if (in) {
            if (data[i] == '\\') {
                i++;

            } else if (data[i] == '"') {
                in = 0;
            }

            continue;
        }

        switch (data[i]) {

        case '"':
            in = 1;
            break;

        case '[':
        case '{':
        case ',':
            n++;
            break;
        }
    }

    return n;
}
