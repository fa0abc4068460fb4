
/*
 * ngx_race: the live ticks' scanner and the riders' store of
 * race_tick.h.
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race_tick.h"
#include "race_utf8.h"


typedef enum {
    RACE_TICK_KEY_OTHER = 0,
    RACE_TICK_KEY_RIDERS,         /* of the tick */
    RACE_TICK_KEY_LAG,
    RACE_TICK_KEY_RIDER,          /* of a state */
    RACE_TICK_KEY_T
} race_tick_key_e;


typedef enum {
    RACE_TICK_VALUE = 0,
    RACE_TICK_AFTER,              /* a value ended */
    RACE_TICK_OBJECT,             /* after '{' */
    RACE_TICK_KEY,                /* after ',' in an object */
    RACE_TICK_ARRAY               /* after '[' */
} race_tick_step_e;


/* a scalar value as the scanner found it */
typedef struct {
    const uint8_t          *start;
    const uint8_t          *end;
    unsigned                string:1;
    unsigned                escaped:1;
    unsigned                integer:1;
    int64_t                 value;
} race_tick_scalar_t;


/*
 * One scan.  tk NULL: a state alone, whose members are at depth 1;
 * else a tick, whose states are the objects at depth 3 in "riders".
 */
typedef struct {
    const uint8_t          *start;
    const uint8_t          *p;
    const uint8_t          *end;
    race_tick_t            *tk;
    const char             *error;

    size_t                  depth;    /* containers open */
    uint8_t                 arrays[RACE_TICK_DEPTH_MAX / 8];

    /* a tick's member being read */
    race_tick_key_e         key;
    const uint8_t          *member;
    unsigned                in_riders:1;
    unsigned                in_state:1;

    /* the state being read: the tick's last, or the one alone */
    race_tick_key_e         skey;
    race_tick_state_t      *state;
    race_tick_state_t       alone;
} race_tick_ctx_t;


static race_tick_rc_e race_tick_parse(race_tick_ctx_t *cx);
static race_tick_rc_e race_tick_open(race_tick_ctx_t *cx, int array);
static race_tick_rc_e race_tick_scalar(race_tick_ctx_t *cx);
static race_tick_rc_e race_tick_close(race_tick_ctx_t *cx);
static race_tick_rc_e race_tick_key(race_tick_ctx_t *cx);
static race_tick_rc_e race_tick_ended(race_tick_ctx_t *cx);
static void race_tick_riders(race_tick_ctx_t *cx, int array);
static int race_tick_state_member(race_tick_ctx_t *cx);
static int race_tick_top_array(race_tick_ctx_t *cx);
static const uint8_t *race_tick_string(const uint8_t *p, const uint8_t *end,
    size_t *escaped, const char **error);
static const uint8_t *race_tick_number(const uint8_t *p, const uint8_t *end,
    race_tick_scalar_t *v, const char **error);
static int race_tick_hex4(const uint8_t *p, const uint8_t *end);
static size_t race_tick_unescape(const uint8_t *s, const uint8_t *end,
    char *out, size_t max);
static race_tick_key_e race_tick_classify(const uint8_t *s,
    const uint8_t *end, unsigned escaped, int state);

static uint32_t race_tick_hash(const char *id, size_t len);
static size_t race_tick_find(race_tick_store_t *s, const char *id,
    size_t len, uint32_t hash);
static size_t race_tick_add(race_tick_store_t *s, const char *id,
    size_t len, uint32_t hash, const char *data, size_t dlen);
static race_tick_rc_e race_tick_set(race_tick_rider_t *r, const char *data,
    size_t len);
static race_tick_rc_e race_tick_merge(race_tick_store_t *s,
    const race_tick_t *tk, int restate, int batch, size_t *n, int *all);
static void *race_tick_grow(void *p, size_t *cap, size_t need, size_t size);


#define race_tick_ws(c)                                                      \
    ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')

#define race_tick_digit(c)  ((c) >= '0' && (c) <= '9')

#define RACE_TICK_NOT_FOUND  ((size_t) -1)


race_tick_rc_e
race_tick_scan(race_tick_t *tk, const char *data, size_t len)
{
    race_tick_ctx_t  cx;

    tk->nstates = 0;
    tk->skipped = 0;
    tk->nmembers = 0;
    tk->lag = RACE_TICK_LAG_NONE;
    tk->lag_ms = 0;
    tk->riders = 0;
    tk->error = NULL;
    tk->offset = 0;

    memset(&cx, 0, sizeof(race_tick_ctx_t));
    cx.start = (const uint8_t *) data;
    cx.p = cx.start;
    cx.end = cx.start + len;
    cx.tk = tk;

    if (race_tick_parse(&cx) == RACE_TICK_OK) {
        return RACE_TICK_OK;
    }

    /* what was found is no tick's */

    tk->nstates = 0;
    tk->skipped = 0;
    tk->nmembers = 0;
    tk->lag = RACE_TICK_LAG_NONE;
    tk->riders = 0;

    if (cx.error == NULL) {
        return RACE_TICK_NOMEM;
    }

    tk->error = cx.error;
    tk->offset = (size_t) (cx.p - cx.start);

    return RACE_TICK_BAD;
}


void
race_tick_free(race_tick_t *tk)
{
    free(tk->states);
    free(tk->members);
    memset(tk, 0, sizeof(race_tick_t));
}


race_tick_rc_e
race_tick_state(const char *data, size_t len, int64_t *t,
    const char **error)
{
    race_tick_rc_e   rc;
    race_tick_ctx_t  cx;

    memset(&cx, 0, sizeof(race_tick_ctx_t));
    cx.start = (const uint8_t *) data;
    cx.p = cx.start;
    cx.end = cx.start + len;
    cx.state = &cx.alone;
    cx.alone.t = -1;

    rc = race_tick_parse(&cx);

    if (t) {
        *t = (rc == RACE_TICK_OK) ? cx.alone.t : -1;
    }

    if (error) {
        *error = (rc == RACE_TICK_OK) ? NULL : cx.error;
    }

    return rc;
}


/*
 * The scanner: a loop of steps with the open containers in a bit stack,
 * so that no input nests the C stack.  A value's depth counts the
 * containers around it and itself, as in jansson's parse_value().
 */

static race_tick_rc_e
race_tick_parse(race_tick_ctx_t *cx)
{
    int               array;
    race_tick_rc_e    rc;
    race_tick_step_e  step;

    while (cx->p < cx->end && race_tick_ws(*cx->p)) {
        cx->p++;
    }

    if (cx->p == cx->end || *cx->p != '{') {
        cx->error = "an object expected";
        return RACE_TICK_BAD;
    }

    step = RACE_TICK_VALUE;

    for ( ;; ) {

        while (cx->p < cx->end && race_tick_ws(*cx->p)) {
            cx->p++;
        }

        if (step == RACE_TICK_AFTER && cx->depth == 0) {
            if (cx->p != cx->end) {
                cx->error = "end of input expected";
                return RACE_TICK_BAD;
            }

            return RACE_TICK_OK;
        }

        if (cx->p == cx->end) {
            cx->error = "premature end of input";
            return RACE_TICK_BAD;
        }

        switch (step) {

        case RACE_TICK_VALUE:

            if (cx->depth + 1 > RACE_TICK_DEPTH_MAX) {
                cx->error = "nested too deep";
                return RACE_TICK_BAD;
            }

            if (*cx->p == '{' || *cx->p == '[') {
                array = (*cx->p == '[');
                rc = race_tick_open(cx, array);
                step = array ? RACE_TICK_ARRAY : RACE_TICK_OBJECT;

            } else {
                rc = race_tick_scalar(cx);
                step = RACE_TICK_AFTER;
            }

            break;

        case RACE_TICK_OBJECT:

            if (*cx->p == '}') {
                rc = race_tick_close(cx);
                step = RACE_TICK_AFTER;
                break;
            }

            /* fall through */

        case RACE_TICK_KEY:
            rc = race_tick_key(cx);
            step = RACE_TICK_VALUE;
            break;

        case RACE_TICK_ARRAY:

            if (*cx->p == ']') {
                rc = race_tick_close(cx);
                step = RACE_TICK_AFTER;
                break;
            }

            rc = RACE_TICK_OK;
            step = RACE_TICK_VALUE;
            break;

        default: /* RACE_TICK_AFTER */

            array = race_tick_top_array(cx);

            if (*cx->p == ',') {
                cx->p++;
                rc = RACE_TICK_OK;
                step = array ? RACE_TICK_VALUE : RACE_TICK_KEY;

            } else if (*cx->p == (array ? ']' : '}')) {
                rc = race_tick_close(cx);

            } else {
                cx->error = array ? "',' or ']' expected"
                                  : "',' or '}' expected";
                return RACE_TICK_BAD;
            }

            break;
        }

        if (rc != RACE_TICK_OK) {
            return rc;
        }
    }
}


static race_tick_rc_e
race_tick_open(race_tick_ctx_t *cx, int array)
{
    race_tick_t        *tk;
    race_tick_state_t  *states;

    tk = cx->tk;

    if (tk && cx->depth == 1) {
        /* a member of the tick */

        if (cx->key == RACE_TICK_KEY_RIDERS) {
            race_tick_riders(cx, array);

        } else if (cx->key == RACE_TICK_KEY_LAG) {
            tk->lag = RACE_TICK_LAG_OTHER;
        }

    } else if (tk && cx->in_riders && cx->depth == 2) {
        /* an element of "riders" */

        if (array) {
            tk->skipped++;

        } else {
            states = race_tick_grow(tk->states, &tk->states_cap,
                                    tk->nstates + 1,
                                    sizeof(race_tick_state_t));
            if (states == NULL) {
                return RACE_TICK_NOMEM;
            }

            tk->states = states;
            cx->state = &tk->states[tk->nstates++];
            cx->state->data = (const char *) cx->p;
            cx->state->len = 0;
            cx->state->t = -1;
            cx->state->id_len = 0;
            cx->state->id[0] = '\0';
            cx->in_state = 1;
        }

    } else if (race_tick_state_member(cx)) {

        if (cx->skey == RACE_TICK_KEY_RIDER) {
            cx->state->id_len = 0;

        } else if (cx->skey == RACE_TICK_KEY_T) {
            cx->state->t = -1;
        }
    }

    if (array) {
        cx->arrays[cx->depth / 8] |= (uint8_t) (1 << (cx->depth % 8));

    } else {
        cx->arrays[cx->depth / 8] &= (uint8_t) ~(1 << (cx->depth % 8));
    }

    if (tk && cx->depth == 1 && cx->key == RACE_TICK_KEY_RIDERS && array) {
        cx->in_riders = 1;
    }

    cx->depth++;
    cx->p++;

    return RACE_TICK_OK;
}


static race_tick_rc_e
race_tick_scalar(race_tick_ctx_t *cx)
{
    size_t              n;
    race_tick_t        *tk;
    const uint8_t      *q;
    race_tick_state_t  *st;
    race_tick_scalar_t  v;

    memset(&v, 0, sizeof(race_tick_scalar_t));
    v.start = cx->p;

    switch (*cx->p) {

    case '"':
        q = race_tick_string(cx->p, cx->end, &n, &cx->error);
        v.string = 1;
        v.escaped = (n != 0);
        break;

    case 't':
        q = ((size_t) (cx->end - cx->p) >= 4
             && memcmp(cx->p, "true", 4) == 0) ? cx->p + 4 : NULL;
        break;

    case 'f':
        q = ((size_t) (cx->end - cx->p) >= 5
             && memcmp(cx->p, "false", 5) == 0) ? cx->p + 5 : NULL;
        break;

    case 'n':
        q = ((size_t) (cx->end - cx->p) >= 4
             && memcmp(cx->p, "null", 4) == 0) ? cx->p + 4 : NULL;
        break;

    default:

        if (*cx->p == '-' || race_tick_digit(*cx->p)) {
            q = race_tick_number(cx->p, cx->end, &v, &cx->error);

        } else {
            q = NULL;
        }
    }

    if (q == NULL) {
        if (cx->error == NULL) {
            cx->error = "invalid value";
        }

        return RACE_TICK_BAD;
    }

    v.end = q;
    tk = cx->tk;

    if (tk && cx->depth == 1) {

        if (cx->key == RACE_TICK_KEY_RIDERS) {
            race_tick_riders(cx, 0);

        } else if (cx->key == RACE_TICK_KEY_LAG) {
            tk->lag = v.integer ? RACE_TICK_LAG_INT : RACE_TICK_LAG_OTHER;
            tk->lag_ms = v.integer ? v.value : 0;
        }

    } else if (tk && cx->in_riders && cx->depth == 2) {
        tk->skipped++;

    } else if (race_tick_state_member(cx)) {
        st = cx->state;

        if (cx->skey == RACE_TICK_KEY_RIDER) {

            /* the id as jansson would give it, escapes read */

            if (!v.string) {
                n = 0;

            } else if (!v.escaped) {
                n = (size_t) (v.end - v.start) - 2;

                if (n <= RACE_ID_MAX) {
                    memcpy(st->id, v.start + 1, n);
                }

            } else {
                n = race_tick_unescape(v.start + 1, v.end - 1, st->id,
                                       RACE_ID_MAX);
            }

            if (n > RACE_ID_MAX || !race_id_valid(st->id, n)) {
                n = 0;
            }

            st->id[n] = '\0';
            st->id_len = n;

        } else if (cx->skey == RACE_TICK_KEY_T) {
            st->t = v.integer ? v.value : -1;
        }
    }

    cx->p = q;

    return race_tick_ended(cx);
}


static race_tick_rc_e
race_tick_close(race_tick_ctx_t *cx)
{
    race_tick_t  *tk;

    tk = cx->tk;

    if (tk && cx->in_riders && cx->in_state && cx->depth == 3) {
        /* a state ends: without a good id it is skipped */

        cx->state->len = (size_t) ((const char *) cx->p + 1
                                   - cx->state->data);

        if (cx->state->id_len == 0) {
            tk->nstates--;
            tk->skipped++;
        }

        cx->in_state = 0;
        cx->state = NULL;

    } else if (tk && cx->in_riders && cx->depth == 2) {
        cx->in_riders = 0;
    }

    cx->depth--;
    cx->p++;

    return race_tick_ended(cx);
}


static race_tick_rc_e
race_tick_key(race_tick_ctx_t *cx)
{
    size_t          escaped;
    const uint8_t  *q;

    if (*cx->p != '"') {
        cx->error = "a string key expected";
        return RACE_TICK_BAD;
    }

    q = race_tick_string(cx->p, cx->end, &escaped, &cx->error);
    if (q == NULL) {
        return RACE_TICK_BAD;
    }

    if (cx->tk && cx->depth == 1) {
        cx->key = race_tick_classify(cx->p + 1, q - 1, escaped != 0, 0);
        cx->member = cx->p;
    }

    if (race_tick_state_member(cx)) {
        cx->skey = race_tick_classify(cx->p + 1, q - 1, escaped != 0, 1);
    }

    cx->p = q;

    while (cx->p < cx->end && race_tick_ws(*cx->p)) {
        cx->p++;
    }

    if (cx->p == cx->end || *cx->p != ':') {
        cx->error = "':' expected";
        return RACE_TICK_BAD;
    }

    cx->p++;

    return RACE_TICK_OK;
}


/* a value ended: one of the tick's members is kept, but "riders" */

static race_tick_rc_e
race_tick_ended(race_tick_ctx_t *cx)
{
    race_tick_t         *tk;
    race_tick_member_t  *m;

    tk = cx->tk;

    if (tk == NULL || cx->depth != 1 || cx->member == NULL) {
        return RACE_TICK_OK;
    }

    if (cx->key != RACE_TICK_KEY_RIDERS) {
        m = race_tick_grow(tk->members, &tk->members_cap, tk->nmembers + 1,
                           sizeof(race_tick_member_t));
        if (m == NULL) {
            return RACE_TICK_NOMEM;
        }

        tk->members = m;
        m = &tk->members[tk->nmembers++];
        m->data = (const char *) cx->member;
        m->len = (size_t) (cx->p - cx->member);
        m->lag = (cx->key == RACE_TICK_KEY_LAG);
    }

    cx->member = NULL;

    return RACE_TICK_OK;
}


/* "riders" again: the last one counts */

static void
race_tick_riders(race_tick_ctx_t *cx, int array)
{
    cx->tk->nstates = 0;
    cx->tk->skipped = 0;
    cx->tk->riders = array ? 1 : 0;
}


/* the innermost container is the state: its keys are "rider", "t"... */

static int
race_tick_state_member(race_tick_ctx_t *cx)
{
    if (cx->tk == NULL) {
        return cx->depth == 1;
    }

    return cx->in_riders && cx->in_state && cx->depth == 3;
}


static int
race_tick_top_array(race_tick_ctx_t *cx)
{
    size_t  d;

    d = cx->depth - 1;

    return (cx->arrays[d / 8] >> (d % 8)) & 1;
}


/*
 * A string at p (its '"'): returns what follows its closing '"', or NULL
 * with *error set.  *escaped: how many escapes it has.  As jansson: no
 * control character, escapes of JSON only, \u pairs that make a code
 * point, no \u0000, strict UTF-8.
 */

static const uint8_t *
race_tick_string(const uint8_t *p, const uint8_t *end, size_t *escaped,
    const char **error)
{
    size_t   n;
    int32_t  cp, lo;

    *escaped = 0;
    p++;

    for ( ;; ) {

        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"'
               && *p != '\\')
        {
            p++;
        }

        if (p == end) {
            *error = "premature end of a string";
            return NULL;
        }

        if (*p == '"') {
            return p + 1;
        }

        if (*p < 0x20) {
            *error = "control character in a string";
            return NULL;
        }

        if (*p >= 0x80) {
            if (race_utf8_decode(p, (size_t) (end - p), &n) < 0) {
                *error = "invalid UTF-8";
                return NULL;
            }

            p += n;
            continue;
        }

        /* an escape */

        (*escaped)++;
        p++;

        if (p == end) {
            *error = "premature end of a string";
            return NULL;
        }

        switch (*p) {

        case '"': case '\\': case '/': case 'b': case 'f': case 'n':
        case 'r': case 't':
            p++;
            continue;

        case 'u':
            break;

        default:
            *error = "invalid escape";
            return NULL;
        }

        cp = race_tick_hex4(p + 1, end);

        if (cp < 0) {
            *error = "invalid escape";
            return NULL;
        }

        p += 5;

        if (cp == 0) {
            *error = "\\u0000 in a string";
            return NULL;
        }

        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            *error = "invalid Unicode escape";
            return NULL;
        }

        if (cp >= 0xD800 && cp <= 0xDBFF) {
            /* a surrogate pair */

            if (end - p < 2 || p[0] != '\\' || p[1] != 'u') {
                *error = "invalid Unicode escape";
                return NULL;
            }

            lo = race_tick_hex4(p + 2, end);

            if (lo < 0xDC00 || lo > 0xDFFF) {
                *error = lo < 0 ? "invalid escape" : "invalid Unicode escape";
                return NULL;
            }

            p += 6;
        }
    }
}


/*
 * A number at p: returns what follows it, or NULL with *error set.  As
 * jansson: JSON's grammar, an integer (no fraction, no exponent) that
 * fits 64 bits, a real that is not infinite once read.
 */

static const uint8_t *
race_tick_number(const uint8_t *p, const uint8_t *end,
    race_tick_scalar_t *v, const char **error)
{
    int             neg, over, eneg;
    double          d;
    int64_t         exp;
    size_t          digits;
    uint64_t        u;
    const uint8_t  *s;

    s = p;
    neg = 0;
    eneg = 0;
    over = 0;
    u = 0;
    digits = 0;

    if (*p == '-') {
        neg = 1;
        p++;
    }

    if (p == end || !race_tick_digit(*p)) {
        *error = "invalid number";
        return NULL;
    }

    if (*p == '0') {
        p++;
        digits = 1;

        if (p < end && race_tick_digit(*p)) {
            *error = "invalid number: a leading zero";
            return NULL;
        }

    } else {
        while (p < end && race_tick_digit(*p)) {
            if (u > (UINT64_MAX - (uint64_t) (*p - '0')) / 10) {
                over = 1;

            } else {
                u = u * 10 + (uint64_t) (*p - '0');
            }

            digits++;
            p++;
        }
    }

    v->integer = 1;

    if (p < end && *p == '.') {
        p++;

        if (p == end || !race_tick_digit(*p)) {
            *error = "invalid number";
            return NULL;
        }

        while (p < end && race_tick_digit(*p)) {
            p++;
        }

        v->integer = 0;
    }

    exp = 0;

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < end && (*p == '+' || *p == '-')) {
            eneg = (*p == '-');
            p++;
        }

        if (p == end || !race_tick_digit(*p)) {
            *error = "invalid number";
            return NULL;
        }

        while (p < end && race_tick_digit(*p)) {
            if (exp < 1000000) {
                exp = exp * 10 + (*p - '0');
            }

            p++;
        }

        if (eneg) {
            exp = -exp;
        }

        v->integer = 0;
    }

    if (v->integer) {
        if (over || u > (uint64_t) INT64_MAX + (uint64_t) neg) {
            *error = "integer too big";
            return NULL;
        }

        v->value = neg ? (int64_t) (0 - u) : (int64_t) u;

        return p;
    }

    /*
     * Below 10^300 a real is finite for sure; above, strtod() reads it
     * where it is: valid JSON, a number is followed by one of ",]}" or
     * space, where strtod() stops.
     */

    if ((int64_t) digits + exp <= 300) {
        return p;
    }

    if (p == end || !(*p == ',' || *p == ']' || *p == '}'
                      || race_tick_ws(*p)))
    {
        *error = "invalid number";
        return NULL;
    }

    d = strtod((const char *) s, NULL);

    if (isinf(d)) {
        *error = "real number overflow";
        return NULL;
    }

    return p;
}


static int
race_tick_hex4(const uint8_t *p, const uint8_t *end)
{
    int      i, v;
    uint8_t  c;

    if (end - p < 4) {
        return -1;
    }

    v = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            v = v * 16 + (c - '0');

        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            v = v * 16 + ((c | 0x20) - 'a' + 10);

        } else {
            return -1;
        }
    }

    return v;
}


/*
 * A checked string's text s..end (within the quotes) with its escapes
 * read, into out, at most max bytes; returns its length, more than max
 * if it is longer.  Only ASCII matters to the callers (keys, ids): any
 * other code point is written as 0x80, which no key or id has.
 */

static size_t
race_tick_unescape(const uint8_t *s, const uint8_t *end, char *out,
    size_t max)
{
    int32_t  cp;
    size_t   n;
    uint8_t  c;

    n = 0;

    while (s < end) {
        c = *s++;

        if (c == '\\') {
            c = *s++;

            switch (c) {
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;

            case 'u':
                cp = race_tick_hex4(s, end);
                s += 4;

                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    s += 6;
                }

                c = (cp >= 0 && cp < 0x80) ? (uint8_t) cp : 0x80;
                break;

            default:            /* '"', '\\', '/' */
                break;
            }
        }

        if (n < max) {
            out[n] = (char) c;
        }

        if (++n > max) {
            return n;
        }
    }

    return n;
}


static race_tick_key_e
race_tick_classify(const uint8_t *s, const uint8_t *end, unsigned escaped,
    int state)
{
    char        buf[8];
    size_t      n;
    const char  *k;

    if (escaped) {
        n = race_tick_unescape(s, end, buf, sizeof(buf));
        k = buf;

    } else {
        n = (size_t) (end - s);
        k = (const char *) s;
    }

#define race_tick_is(lit)                                                    \
    (n == sizeof(lit) - 1 && memcmp(k, lit, sizeof(lit) - 1) == 0)

    if (state) {
        if (race_tick_is("rider")) {
            return RACE_TICK_KEY_RIDER;
        }

        if (race_tick_is("t")) {
            return RACE_TICK_KEY_T;
        }

    } else {
        if (race_tick_is("riders")) {
            return RACE_TICK_KEY_RIDERS;
        }

        if (race_tick_is("lag_ms")) {
            return RACE_TICK_KEY_LAG;
        }
    }

#undef race_tick_is

    return RACE_TICK_KEY_OTHER;
}


/* the store */

void
race_tick_store_clear(race_tick_store_t *s)
{
    size_t  i;

    race_tick_store_forget(s);

    for (i = 0; i < s->nriders; i++) {
        free(s->riders[i]->data);
        free(s->riders[i]);
    }

    s->nriders = 0;

    if (s->nslots) {
        memset(s->slots, 0, s->nslots * sizeof(uint32_t));
    }
}


void
race_tick_store_free(race_tick_store_t *s)
{
    size_t  i;

    race_tick_store_clear(s);

    for (i = 0; i < s->nearly; i++) {
        race_buf_free(&s->early[i]);
    }

    free(s->early);

    free(s->riders);
    free(s->slots);
    free(s->changed);
    race_buf_free(&s->last);
    race_buf_free(&s->spare);

    memset(s, 0, sizeof(race_tick_store_t));
}


race_tick_rc_e
race_tick_store_put(race_tick_store_t *s, const char *id, size_t id_len,
    const char *state, size_t len)
{
    size_t    i;
    int64_t   t;
    uint32_t  hash;

    if (!race_id_valid(id, id_len)
        || race_tick_state(state, len, &t, NULL) != RACE_TICK_OK)
    {
        return RACE_TICK_BAD;
    }

    hash = race_tick_hash(id, id_len);
    i = race_tick_find(s, id, id_len, hash);

    if (i == RACE_TICK_NOT_FOUND) {
        i = race_tick_add(s, id, id_len, hash, state, len);

        if (i == RACE_TICK_NOT_FOUND) {
            return RACE_TICK_NOMEM;
        }

    } else if (race_tick_set(s->riders[i], state, len) != RACE_TICK_OK) {
        return RACE_TICK_NOMEM;
    }

    s->riders[i]->t = t;

    return RACE_TICK_OK;
}


race_tick_rc_e
race_tick_store_batch(race_tick_store_t *s, const race_tick_t *tk,
    size_t *n, int *all)
{
    size_t             i;
    size_t            *changed;
    race_buf_t         b;
    race_tick_rc_e     rc;

    *n = 0;
    *all = 1;

    if (!tk->riders) {
        return RACE_TICK_OK;
    }

    /*
     * Room first, so that no memory means the tick is not taken at all:
     * its members (with its "lag_ms" only when it is not an integer, the
     * batch's then being the tick's) and the changed riders.
     */

    race_buf_reset(&s->spare);

    for (i = 0; i < tk->nmembers; i++) {
        if (tk->members[i].lag && tk->lag != RACE_TICK_LAG_OTHER) {
            continue;
        }

        if (s->spare.len) {
            race_buf_add(&s->spare, ",", 1);
        }

        race_buf_add(&s->spare, tk->members[i].data, tk->members[i].len);
    }

    if (s->spare.failed) {
        return RACE_TICK_NOMEM;
    }

    if (s->nchanged + tk->nstates > s->changed_cap) {
        changed = race_tick_grow(s->changed, &s->changed_cap,
                                 s->nchanged + tk->nstates, sizeof(size_t));
        if (changed == NULL) {
            return RACE_TICK_NOMEM;
        }

        s->changed = changed;
    }

    rc = race_tick_merge(s, tk, 1, 1, n, all);

    if (*n == 0) {
        return rc;
    }

    /* the batch's last tick is this one */

    b = s->last;
    s->last = s->spare;
    s->spare = b;

    switch (tk->lag) {

    case RACE_TICK_LAG_INT:
        if (s->lag != RACE_TICK_LAG_INT || s->lag_ms < tk->lag_ms) {
            s->lag_ms = tk->lag_ms;
        }

        s->lag = RACE_TICK_LAG_INT;
        break;

    case RACE_TICK_LAG_NONE:
        if (s->lag != RACE_TICK_LAG_INT) {
            s->lag = RACE_TICK_LAG_NONE;
        }

        break;

    default: /* RACE_TICK_LAG_OTHER: as the tick has it, in its members */
        s->lag = RACE_TICK_LAG_OTHER;
        break;
    }

    return rc;
}


size_t
race_tick_store_changed(const race_tick_store_t *s)
{
    return s->nchanged;
}


void
race_tick_store_forget(race_tick_store_t *s)
{
    size_t  i;

    for (i = 0; i < s->nchanged; i++) {
        s->riders[s->changed[i]]->changed = 0;
    }

    s->nchanged = 0;
    s->lag = RACE_TICK_LAG_NONE;
    s->lag_ms = 0;
    race_buf_reset(&s->last);
}


race_tick_rc_e
race_tick_store_frame(race_tick_store_t *s, race_buf_t *out)
{
    int     n;
    char    num[32];
    size_t  i;

    race_buf_reset(out);

    race_buf_add(out, "{", 1);

    if (s->last.len) {
        race_buf_add(out, s->last.data, s->last.len);
        race_buf_add(out, ",", 1);
    }

    if (s->lag == RACE_TICK_LAG_INT) {
        n = snprintf(num, sizeof(num), "\"lag_ms\":%lld,",
                     (long long) s->lag_ms);
        race_buf_add(out, num, (size_t) n);
    }

    race_buf_add(out, "\"riders\":[", sizeof("\"riders\":[") - 1);

    for (i = 0; i < s->nchanged; i++) {
        if (i) {
            race_buf_add(out, ",", 1);
        }

        race_buf_add(out, s->riders[s->changed[i]]->data,
                     s->riders[s->changed[i]]->len);
    }

    race_buf_add(out, "]}", 2);

    return out->failed ? RACE_TICK_NOMEM : RACE_TICK_OK;
}


race_tick_rc_e
race_tick_store_snapshot(race_tick_store_t *s, const char *race,
    size_t race_len, int64_t now, race_buf_t *out)
{
    int     n;
    char    num[48];
    size_t  i;

    race_buf_reset(out);

    /* a good id needs no escape */

    race_buf_add(out, "{\"type\":\"snapshot\",\"race\":\"",
                 sizeof("{\"type\":\"snapshot\",\"race\":\"") - 1);
    race_buf_add(out, race, race_len);

    n = snprintf(num, sizeof(num), "\",\"t\":%lld,\"riders\":[",
                 (long long) now);
    race_buf_add(out, num, (size_t) n);

    for (i = 0; i < s->nriders; i++) {
        if (i) {
            race_buf_add(out, ",", 1);
        }

        race_buf_add(out, s->riders[i]->data, s->riders[i]->len);
    }

    race_buf_add(out, "]}", 2);

    return out->failed ? RACE_TICK_NOMEM : RACE_TICK_OK;
}


race_tick_rc_e
race_tick_store_early(race_tick_store_t *s, const char *data, size_t len)
{
    race_buf_t  *b;

    if (s->nearly == RACE_TICK_EARLY_MAX) {
        return RACE_TICK_OK;
    }

    if (s->early == NULL) {
        s->early = calloc(RACE_TICK_EARLY_MAX, sizeof(race_buf_t));
        if (s->early == NULL) {
            return RACE_TICK_NOMEM;
        }
    }

    b = &s->early[s->nearly];
    race_buf_add(b, data, len);

    if (b->failed) {
        race_buf_free(b);
        race_buf_reset(b);
        return RACE_TICK_NOMEM;
    }

    s->nearly++;

    return RACE_TICK_OK;
}


race_tick_rc_e
race_tick_store_early_merge(race_tick_store_t *s, race_tick_t *tk)
{
    int             all;
    size_t          i, n;
    race_tick_rc_e  rc, rv;

    rv = RACE_TICK_OK;

    for (i = 0; i < s->nearly; i++) {
        rc = race_tick_scan(tk, s->early[i].data, s->early[i].len);

        if (rc == RACE_TICK_OK) {
            rc = race_tick_merge(s, tk, 0, 0, &n, &all);
        }

        if (rc == RACE_TICK_NOMEM) {
            rv = rc;
        }

        race_buf_free(&s->early[i]);
    }

    free(s->early);
    s->early = NULL;
    s->nearly = 0;

    return rv;
}


/*
 * The tick's states newer than ours are taken; with restate a state as
 * old as ours with other bytes is newer too; with batch they go into
 * the batch, whose room the caller made.
 */

static race_tick_rc_e
race_tick_merge(race_tick_store_t *s, const race_tick_t *tk, int restate,
    int batch, size_t *n, int *all)
{
    size_t                    i, k;
    uint32_t                  hash;
    race_tick_rc_e            rc;
    race_tick_rider_t        *r;
    const race_tick_state_t  *st;

    rc = RACE_TICK_OK;
    *n = 0;
    *all = (tk->skipped == 0);

    if (!tk->riders) {
        return rc;
    }

    for (i = 0; i < tk->nstates; i++) {
        st = &tk->states[i];

        hash = race_tick_hash(st->id, st->id_len);
        k = race_tick_find(s, st->id, st->id_len, hash);

        if (k != RACE_TICK_NOT_FOUND) {
            r = s->riders[k];

            if (r->t > st->t
                || (r->t == st->t
                    && (!restate
                        || (r->len == st->len
                            && memcmp(r->data, st->data, st->len) == 0))))
            {
                *all = 0;
                continue;
            }

            if (race_tick_set(r, st->data, st->len) != RACE_TICK_OK) {
                rc = RACE_TICK_NOMEM;
                *all = 0;
                continue;
            }

        } else {
            k = race_tick_add(s, st->id, st->id_len, hash, st->data,
                              st->len);

            if (k == RACE_TICK_NOT_FOUND) {
                rc = RACE_TICK_NOMEM;
                *all = 0;
                continue;
            }

            r = s->riders[k];
        }

        r->t = st->t;

        if (batch && !r->changed) {
            r->changed = 1;
            s->changed[s->nchanged++] = k;
        }

        (*n)++;
    }

    return rc;
}


static uint32_t
race_tick_hash(const char *id, size_t len)
{
    size_t    i;
    uint32_t  h;

    /* FNV-1a */

    h = 2166136261u;

    for (i = 0; i < len; i++) {
        h ^= (uint8_t) id[i];
        h *= 16777619u;
    }

    return h;
}


static size_t
race_tick_find(race_tick_store_t *s, const char *id, size_t len,
    uint32_t hash)
{
    size_t              i, mask;
    race_tick_rider_t  *r;

    if (s->nslots == 0) {
        return RACE_TICK_NOT_FOUND;
    }

    mask = s->nslots - 1;

    for (i = hash & mask; s->slots[i]; i = (i + 1) & mask) {
        r = s->riders[s->slots[i] - 1];

        if (r->hash == hash && r->id_len == len
            && memcmp(r->id, id, len) == 0)
        {
            return s->slots[i] - 1;
        }
    }

    return RACE_TICK_NOT_FOUND;
}


/* a new rider with its state; RACE_TICK_NOT_FOUND: no memory */

static size_t
race_tick_add(race_tick_store_t *s, const char *id, size_t len,
    uint32_t hash, const char *data, size_t dlen)
{
    size_t               i, k, mask, nslots;
    uint32_t            *slots;
    race_tick_rider_t  **riders, *r;

    riders = race_tick_grow(s->riders, &s->riders_cap, s->nriders + 1,
                            sizeof(race_tick_rider_t *));
    if (riders == NULL) {
        return RACE_TICK_NOT_FOUND;
    }

    s->riders = riders;

    /* at most half the slots taken: probes stay short */

    if ((s->nriders + 1) * 2 > s->nslots) {
        nslots = s->nslots ? s->nslots * 2 : 64;

        if (nslots > UINT32_MAX) {
            return RACE_TICK_NOT_FOUND;
        }

        slots = calloc(nslots, sizeof(uint32_t));
        if (slots == NULL) {
            return RACE_TICK_NOT_FOUND;
        }

        mask = nslots - 1;

        for (k = 0; k < s->nriders; k++) {
            for (i = s->riders[k]->hash & mask; slots[i]; i = (i + 1) & mask) {
                /* void */
            }

            slots[i] = (uint32_t) (k + 1);
        }

        free(s->slots);
        s->slots = slots;
        s->nslots = nslots;
    }

    r = calloc(1, sizeof(race_tick_rider_t));
    if (r == NULL) {
        return RACE_TICK_NOT_FOUND;
    }

    if (race_tick_set(r, data, dlen) != RACE_TICK_OK) {
        free(r);
        return RACE_TICK_NOT_FOUND;
    }

    memcpy(r->id, id, len);
    r->id[len] = '\0';
    r->id_len = len;
    r->hash = hash;
    r->t = -1;

    k = s->nriders++;
    s->riders[k] = r;

    mask = s->nslots - 1;

    for (i = hash & mask; s->slots[i]; i = (i + 1) & mask) {
        /* void */
    }

    s->slots[i] = (uint32_t) (k + 1);

    return k;
}


/* a rider's state: its buffer is reused while the state fits */

static race_tick_rc_e
race_tick_set(race_tick_rider_t *r, const char *data, size_t len)
{
    char    *p;
    size_t   cap;

    if (len > r->cap) {
        cap = len + len / 4 + 16;

        p = realloc(r->data, cap);
        if (p == NULL) {
            return RACE_TICK_NOMEM;
        }

        r->data = p;
        r->cap = cap;
    }

    memcpy(r->data, data, len);
    r->len = len;

    return RACE_TICK_OK;
}


/* an array of need (> 0) elements at least; NULL: no memory, p is kept */

static void *
race_tick_grow(void *p, size_t *cap, size_t need, size_t size)
{
    void    *q;
    size_t   n;

    if (need <= *cap) {
        return p;
    }

    n = *cap ? *cap : 16;

    while (n < need) {
        if (n > SIZE_MAX / 2 / size) {
            return NULL;
        }

        n *= 2;
    }

    q = realloc(p, n * size);
    if (q == NULL) {
        return NULL;
    }

    *cap = n;

    return q;
}
