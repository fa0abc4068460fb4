
/*
 * ngx_race: simplification of a dense course.
 *
 * Visvalingam's scheme with the length as the measure: a point's
 * importance is what removing it takes off the course's length (the
 * detour through it, |ab| + |bc| - |ac|, on a plane local to it), plus
 * a little for the climb it carries (RACE_SIMPLIFY_ELE_WEIGHT of what
 * removing it takes off the sum of the ups and downs, so a summit or a
 * valley outweighs a point of a straight road).  The least important
 * point goes first and its neighbours are measured again; a heap keeps
 * the order, so 200,000 points take O(n log n) and no recursion.
 *
 * The length lost is the sum of the detours removed, exactly on that
 * plane; the caller measures the result on the sphere and asks again
 * with a smaller budget if the plane misled it.
 */


#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "race_course_int.h"


#define RACE_SIMPLIFY_EARTH_M     6371008.8
#define RACE_SIMPLIFY_RAD         (M_PI / 180.0)

/* metres of length one metre of climb weighs */
#define RACE_SIMPLIFY_ELE_WEIGHT  0.01

#define RACE_SIMPLIFY_NONE        ((size_t) -1)


typedef struct {
    const double           *ele;
    double                 *phi;        /* radians */
    double                 *lam;        /* radians, unwrapped */
    double                 *scale;      /* metres of a radian of lam */
    double                 *loss;       /* metres of length */
    double                 *imp;
    size_t                 *prev;
    size_t                 *next;
    size_t                 *heap;
    size_t                 *pos;        /* in heap, or NONE */
    size_t                  heap_n;
} race_simplify_t;


static void race_simplify_measure(race_simplify_t *s, size_t b);
static int race_simplify_less(race_simplify_t *s, size_t a, size_t b);
static void race_simplify_swap(race_simplify_t *s, size_t i, size_t j);
static void race_simplify_up(race_simplify_t *s, size_t i);
static void race_simplify_down(race_simplify_t *s, size_t i);
static void race_simplify_pop(race_simplify_t *s);


int
race_course_simplify(const double *lat, const double *lon,
    const double *ele, size_t n, size_t max, double shape_m,
    double budget_m, uint8_t *keep, size_t *kept)
{
    int               rc;
    size_t            i, a, b, c, count;
    double            d, lost;
    race_simplify_t   s;

    memset(keep, 1, n);
    *kept = n;

    if (n <= 2) {
        return 0;
    }

    memset(&s, 0, sizeof(race_simplify_t));
    s.ele = ele;

    rc = -1;

    s.phi = malloc(n * sizeof(double));
    s.lam = malloc(n * sizeof(double));
    s.scale = malloc(n * sizeof(double));
    s.loss = malloc(n * sizeof(double));
    s.imp = malloc(n * sizeof(double));
    s.prev = malloc(n * sizeof(size_t));
    s.next = malloc(n * sizeof(size_t));
    s.heap = malloc(n * sizeof(size_t));
    s.pos = malloc(n * sizeof(size_t));

    if (s.phi == NULL || s.lam == NULL || s.scale == NULL || s.loss == NULL
        || s.imp == NULL || s.prev == NULL || s.next == NULL
        || s.heap == NULL || s.pos == NULL)
    {
        goto done;
    }

    /* longitudes unwrapped, so a course across 180 degrees stays whole */

    for (i = 0; i < n; i++) {
        s.phi[i] = lat[i] * RACE_SIMPLIFY_RAD;
        s.scale[i] = RACE_SIMPLIFY_EARTH_M * cos(s.phi[i]);

        if (i == 0) {
            s.lam[i] = lon[i] * RACE_SIMPLIFY_RAD;

        } else {
            d = lon[i] - lon[i - 1];

            if (d > 180.0) {
                d -= 360.0;

            } else if (d < -180.0) {
                d += 360.0;
            }

            s.lam[i] = s.lam[i - 1] + d * RACE_SIMPLIFY_RAD;
        }

        s.prev[i] = i - 1;
        s.next[i] = i + 1;
        s.pos[i] = RACE_SIMPLIFY_NONE;
    }

    /* the ends stay: only 1 .. n - 2 are in the heap */

    for (i = 1; i < n - 1; i++) {
        race_simplify_measure(&s, i);
        s.heap[s.heap_n] = i;
        s.pos[i] = s.heap_n++;
    }

    for (i = s.heap_n / 2; i-- > 0; /* void */) {
        race_simplify_down(&s, i);
    }

    count = n;
    lost = 0.0;

    while (s.heap_n > 0) {
        b = s.heap[0];

        if (count <= max && s.imp[b] >= shape_m) {
            break;
        }

        race_simplify_pop(&s);

        if (lost + s.loss[b] > budget_m) {
            continue;       /* b carries too much length: it stays */
        }

        a = s.prev[b];
        c = s.next[b];
        s.next[a] = c;
        s.prev[c] = a;
        keep[b] = 0;
        count--;
        lost += s.loss[b];

        if (a != 0 && s.pos[a] != RACE_SIMPLIFY_NONE) {
            race_simplify_measure(&s, a);
            race_simplify_up(&s, s.pos[a]);
            race_simplify_down(&s, s.pos[a]);
        }

        if (c != n - 1 && s.pos[c] != RACE_SIMPLIFY_NONE) {
            race_simplify_measure(&s, c);
            race_simplify_up(&s, s.pos[c]);
            race_simplify_down(&s, s.pos[c]);
        }
    }

    *kept = count;
    rc = 0;

done:

    free(s.phi);
    free(s.lam);
    free(s.scale);
    free(s.loss);
    free(s.imp);
    free(s.prev);
    free(s.next);
    free(s.heap);
    free(s.pos);

    return rc;
}


static void
race_simplify_measure(race_simplify_t *s, size_t b)
{
    size_t  a, c;
    double  x1, y1, x2, y2, ab, bc, ac, l, v;

    a = s->prev[b];
    c = s->next[b];

    /* a plane local to b: its own scale of longitude */

    x1 = (s->lam[a] - s->lam[b]) * s->scale[b];
    y1 = (s->phi[a] - s->phi[b]) * RACE_SIMPLIFY_EARTH_M;
    x2 = (s->lam[c] - s->lam[b]) * s->scale[b];
    y2 = (s->phi[c] - s->phi[b]) * RACE_SIMPLIFY_EARTH_M;

    ab = sqrt(x1 * x1 + y1 * y1);
    bc = sqrt(x2 * x2 + y2 * y2);
    ac = sqrt((x2 - x1) * (x2 - x1) + (y2 - y1) * (y2 - y1));

    l = ab + bc - ac;
    s->loss[b] = l > 0.0 ? l : 0.0;
    s->imp[b] = s->loss[b];

    if (s->ele != NULL) {
        v = fabs(s->ele[b] - s->ele[a]) + fabs(s->ele[c] - s->ele[b])
            - fabs(s->ele[c] - s->ele[a]);

        if (v > 0.0) {
            s->imp[b] += RACE_SIMPLIFY_ELE_WEIGHT * v;
        }
    }
}


/* by importance, then by index: the same input, the same result */

static int
race_simplify_less(race_simplify_t *s, size_t a, size_t b)
{
    return s->imp[a] < s->imp[b] || (s->imp[a] == s->imp[b] && a < b);
}


static void
race_simplify_swap(race_simplify_t *s, size_t i, size_t j)
{
    size_t  t;

    t = s->heap[i];
    s->heap[i] = s->heap[j];
    s->heap[j] = t;

    s->pos[s->heap[i]] = i;
    s->pos[s->heap[j]] = j;
}


static void
race_simplify_up(race_simplify_t *s, size_t i)
{
    size_t  parent;

    while (i > 0) {
        parent = (i - 1) / 2;

        if (!race_simplify_less(s, s->heap[i], s->heap[parent])) {
            break;
        }

        race_simplify_swap(s, i, parent);
        i = parent;
    }
}


static void
race_simplify_down(race_simplify_t *s, size_t i)
{
    size_t  l, r, m;

    for ( ;; ) {
        l = 2 * i + 1;
        r = l + 1;
        m = i;

        if (l < s->heap_n && race_simplify_less(s, s->heap[l], s->heap[m])) {
            m = l;
        }

        if (r < s->heap_n && race_simplify_less(s, s->heap[r], s->heap[m])) {
            m = r;
        }

        if (m == i) {
            return;
        }

        race_simplify_swap(s, i, m);
        i = m;
    }
}


static void
race_simplify_pop(race_simplify_t *s)
{
    s->pos[s->heap[0]] = RACE_SIMPLIFY_NONE;
    s->heap_n--;

    if (s->heap_n == 0) {
        return;
    }

    s->heap[0] = s->heap[s->heap_n];
    s->pos[s->heap[0]] = 0;
    race_simplify_down(s, 0);
}
