/*
 * phases.c - attributes energy to phases: per phase and meter, the counter-anchored energy with
 * an interval that holds it, the trapezoid integral of power, and the cross-checks between them
 * (see include/joulebench.h, "phases", for what each number means).
 *
 * The counter's reads become anchors (counter.c): update instants with the counter's value
 * there, placed on the fitted update grid where the counter is a step function.  Between two
 * anchors the increment is spread by a shape chosen once per interval (the power readings for an
 * exact counter; one step between the neighbouring intervals' mean powers, or uniform, for a step
 * function), so the estimated energy C(t) is one fixed function per meter: a phase's energy is
 * C(t_end) - C(t_begin), and phases that tile a span add up to it exactly.
 *
 * Readings arrive in time order per meter and kind (the sampler serialises them), while phase
 * bounds carry the workload's own timestamps, usually a little older than the newest readings.  A
 * bound is evaluated once the readings have passed it (two anchors past it for a step-function
 * counter, which the shape needs); a phase's begin is evaluated as soon as it can be, and stored
 * with the phase, so that readings behind every bound still to be evaluated (and 10 s behind the
 * newest, for late bounds) can be let go.  Open phases are in a hash table and a list, bounds
 * waiting for readings in two heaps, ended phases in a queue resolved in the order they ended:
 * every operation is O(log n) in the number of open phases.  Peak power over a phase whose
 * beginning has been let go comes from a stack of the let-go readings that are greater than every
 * later one.
 *
 * Not a sampler and not a file writer: it only does the arithmetic.
 */
#include "phases.h"

#include "counter.h"
#include "meter.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEP_NS (10ull * 1000000000ull) /* readings kept behind the newest, for late bounds */
#define STALL_NS (5ull * 1000000000ull) /* a step counter unchanged this long: stop waiting */
#define WINDOW_UPDATES 10               /* updates per aliasing check window */
#define ALIAS_REL 0.25                  /* power integral vs counter: aliasing above this */
#define STEP_MIN_REL 0.15               /* neighbour means must differ by this for a step */
#define STACK_MAX (1u << 20)            /* entries of a peak stack */
#define NOPOS ((size_t)-1)

enum { SHAPE_NONE = 0, SHAPE_UNIFORM, SHAPE_STEP, SHAPE_POWER };

#define ANCHOR_REPLACE 0x100u /* placed before the counter was known to be a step function */
#define SETTLE_NS (1500ull * 1000000ull) /* how long a step counter's grid is waited for */

struct pwr {
    uint64_t t;
    double w;
    double cum; /* J from the series' first reading to t (trapezoid) */
};

struct anc {
    struct jb__anchor a;
    double mean_w; /* of the interval ending here; NAN when unknown */
    int shape;     /* SHAPE_* of that interval; NONE until first needed */
    double s_ns;   /* step: its instant */
    double la, lb; /* step: the power before and after it, W */
    double i0, i1; /* power shape: the power integral at the interval's ends */
};

struct tv {
    uint64_t t;
    double v;
};

/* Let-go values greater than every later one: the first at or after t0 is the maximum from t0. */
struct stack {
    struct tv *e;
    size_t n, cap;
};

/* Maxima of blocks of 64 and 4096 consecutive values (by absolute index), so that the maximum
 * over any range of the values kept costs at most a few hundred steps. */
#define BLK1 64u
#define BLK2 4096u

struct blklevel {
    double *m;
    size_t head, n, cap;
    uint64_t base; /* block number of m[0] */
};

struct blkmax {
    struct blklevel l1, l2;
};

struct win {
    uint64_t t0, t1;         /* from one update to the tenth after it */
    uint64_t flagged_before; /* flagged windows before this one (since the start) */
    int flagged;
};

struct meter {
    struct jb__counter ctr;
    struct anc *a;
    size_t a_head, a_n, a_cap;
    uint64_t a_base; /* absolute index of a[0] */
    uint64_t p_base; /* absolute index of p[0] */
    struct blkmax p_blk, a_blk; /* block maxima of power readings and of interval means */
    int e_seen;
    uint64_t e_last_t;
    struct pwr *p;
    size_t p_head, p_n, p_cap;
    int p_seen;
    unsigned p_src; /* enum jb_power_source of the readings */
    struct stack p_old, a_old;
    struct win *w;
    size_t w_head, w_n, w_cap;
    uint64_t w_flagged, w_start; /* flagged windows so far; absolute anchor the next starts at */
    int have_range;
    double pmin, pmax;
    int gone;
    int was_stepped, to_replace; /* anchors made before it was stepped still to place again */
    struct jb_phases_meter_stats stats;
};

/* A bound's values on one meter. */
struct bval {
    int have_e, part_e, bounds, unloc;
    double c, lo, hi;
    uint64_t k_abs; /* absolute index of the first anchor after the bound */
    int have_p, part_p;
    double icum;
    uint64_t flagged_before;
};

struct span {
    char phase[32];
    long index;
    uint64_t t_begin_ns, t_end_ns;
    int has_items, partial, snapped;
    double items;
    size_t hb, he;              /* positions in the begin and end heaps */
    struct span *hnext;         /* hash chain of open phases */
    struct span *oprev, *onext; /* open phases in begin order */
    struct span *qnext;         /* ended phases in end order */
    struct bval b[];            /* the begin, per meter */
};

struct heap {
    struct span **v;
    size_t n, cap;
    int by_end;
};

struct jb_phases {
    size_t n_meters;
    struct meter *m;
    struct span **buckets; /* open phases by (name, index) */
    size_t n_buckets, n_open;
    struct span *open_first, *open_last;
    struct span *q_first, *q_last; /* ended, waiting to resolve */
    struct heap hb, he;            /* bounds not yet evaluated: begins, ends */
    struct jb_phase_result *results;
    size_t r_head, r_n, r_cap;
    jb_phase_result_cb on_result;
    void *on_result_user;
    uint64_t newest_ns;
    uint64_t work;
    char errmsg[256];
};

static int fail(struct jb_phases *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct jb_phases *p, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(p->errmsg, sizeof(p->errmsg), fmt, ap);
    va_end(ap);
    return code;
}

/* Grows *arr (of elements of size sz) to hold one more; returns 0 or -1. */
static int reserve(void **arr, size_t *cap, size_t n, size_t sz)
{
    void *q;
    size_t nc;

    if (n < *cap)
        return 0;
    nc = *cap ? *cap * 2 : 16;
    q = realloc(*arr, nc * sz);
    if (!q)
        return -1;
    *arr = q;
    *cap = nc;
    return 0;
}

static double ns_s(double ns)
{
    return ns / 1e9;
}

/* ---- heaps of spans by bound time ------------------------------------------------------ */

static uint64_t hkey(const struct heap *h, const struct span *s)
{
    return h->by_end ? s->t_end_ns : s->t_begin_ns;
}

static size_t *hpos(const struct heap *h, struct span *s)
{
    return h->by_end ? &s->he : &s->hb;
}

static void hset(struct heap *h, size_t i, struct span *s)
{
    h->v[i] = s;
    *hpos(h, s) = i;
}

static void sift_up(struct jb_phases *p, struct heap *h, size_t i)
{
    struct span *s = h->v[i];

    while (i > 0 && hkey(h, h->v[(i - 1) / 2]) > hkey(h, s)) {
        hset(h, i, h->v[(i - 1) / 2]);
        i = (i - 1) / 2;
        p->work++;
    }
    hset(h, i, s);
}

static void sift_down(struct jb_phases *p, struct heap *h, size_t i)
{
    struct span *s = h->v[i];

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && hkey(h, h->v[c + 1]) < hkey(h, h->v[c]))
            c++;
        if (hkey(h, h->v[c]) >= hkey(h, s))
            break;
        hset(h, i, h->v[c]);
        i = c;
        p->work++;
    }
    hset(h, i, s);
}

static int heap_push(struct jb_phases *p, struct heap *h, struct span *s)
{
    if (reserve((void **)&h->v, &h->cap, h->n, sizeof(*h->v)) < 0)
        return -1;
    h->v[h->n] = s;
    *hpos(h, s) = h->n;
    h->n++;
    sift_up(p, h, h->n - 1);
    return 0;
}

static void heap_remove(struct jb_phases *p, struct heap *h, struct span *s)
{
    size_t i = *hpos(h, s);
    struct span *moved;

    if (i == NOPOS)
        return;
    *hpos(h, s) = NOPOS;
    h->n--;
    if (i == h->n)
        return;
    moved = h->v[h->n];
    hset(h, i, moved);
    sift_up(p, h, i);
    sift_down(p, h, *hpos(h, moved));
}

static struct span *heap_top(const struct heap *h)
{
    return h->n ? h->v[0] : NULL;
}

/* ---- open phases by name and index ------------------------------------------------------ */

static size_t hash_of(const char *phase, long index)
{
    uint64_t h = 1469598103934665603ull;

    for (const unsigned char *c = (const unsigned char *)phase; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    h ^= (uint64_t)index * 0x9e3779b97f4a7c15ull;
    return (size_t)(h ^ (h >> 29));
}

static struct span **find_slot(struct jb_phases *p, const char *phase, long index)
{
    struct span **sp;

    if (!p->n_buckets)
        return NULL;
    for (sp = &p->buckets[hash_of(phase, index) & (p->n_buckets - 1)]; *sp; sp = &(*sp)->hnext) {
        p->work++;
        if ((*sp)->index == index && !strcmp((*sp)->phase, phase))
            return sp;
    }
    return sp;
}

static int hash_grow(struct jb_phases *p)
{
    size_t nb = p->n_buckets ? p->n_buckets * 2 : 64;
    struct span **b = calloc(nb, sizeof(*b));

    if (!b)
        return -1;
    for (size_t i = 0; i < p->n_buckets; i++) {
        struct span *s = p->buckets[i], *next;
        for (; s; s = next) {
            size_t j = hash_of(s->phase, s->index) & (nb - 1);
            next = s->hnext;
            s->hnext = b[j];
            b[j] = s;
            p->work++;
        }
    }
    free(p->buckets);
    p->buckets = b;
    p->n_buckets = nb;
    return 0;
}

/* ---- lifetime ---------------------------------------------------------------------------- */

struct jb_phases *jb_phases_new(size_t n_meters)
{
    struct jb_phases *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->n_meters = n_meters;
    p->m = calloc(n_meters ? n_meters : 1, sizeof(struct meter));
    p->he.by_end = 1;
    if (!p->m) {
        free(p);
        return NULL;
    }
    for (size_t i = 0; i < n_meters; i++)
        jb__counter_init(&p->m[i].ctr);
    return p;
}

static void free_span_list(struct span *s, int by_queue)
{
    while (s) {
        struct span *next = by_queue ? s->qnext : s->onext;
        free(s);
        s = next;
    }
}

void jb_phases_free(struct jb_phases *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_meters; i++) {
        struct meter *ms = &p->m[i];
        free(ms->a);
        free(ms->p);
        free(ms->w);
        free(ms->p_old.e);
        free(ms->a_old.e);
        free(ms->p_blk.l1.m);
        free(ms->p_blk.l2.m);
        free(ms->a_blk.l1.m);
        free(ms->a_blk.l2.m);
    }
    free(p->m);
    free_span_list(p->open_first, 0);
    free_span_list(p->q_first, 1);
    free(p->buckets);
    free(p->hb.v);
    free(p->he.v);
    free(p->results);
    free(p);
}

/* ---- peak stacks -------------------------------------------------------------------------- */

static void stack_push(struct jb_phases *p, struct stack *st, uint64_t t, double v)
{
    while (st->n && st->e[st->n - 1].v <= v) {
        st->n--;
        p->work++;
    }
    if (st->n >= STACK_MAX) {
        /* Only a long, steadily falling series gets here: forget its oldest quarter. */
        size_t drop = st->n / 4;
        memmove(st->e, st->e + drop, (st->n - drop) * sizeof(*st->e));
        st->n -= drop;
    }
    if (reserve((void **)&st->e, &st->cap, st->n, sizeof(*st->e)) < 0)
        return; /* the peak of old phases may then be lower than it was: not an error */
    st->e[st->n].t = t;
    st->e[st->n].v = v;
    st->n++;
}

/* Maximum of the let-go values at or after t0; 0 when none. */
static int stack_max_from(const struct stack *st, uint64_t t0, double *v)
{
    size_t lo = 0, hi = st->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->e[mid].t < t0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == st->n)
        return 0;
    *v = st->e[lo].v;
    return 1;
}

/* ---- block maxima ------------------------------------------------------------------------ */

static void lvl_put(struct blklevel *l, uint64_t blk, double v)
{
    if (!l->n) {
        l->base = blk;
        l->head = 0;
    }
    while (l->base + l->n <= blk) {
        if (reserve((void **)&l->m, &l->cap, l->n, sizeof(double)) < 0)
            return; /* a peak may then miss a block: not an error */
        l->m[l->n++] = -INFINITY;
    }
    if (blk >= l->base + l->head && blk < l->base + l->n && v > l->m[blk - l->base])
        l->m[blk - l->base] = v;
}

/* Records value idx (every index is put, in order; an unknown value as -inf). */
static void blk_put(struct blkmax *b, uint64_t idx, double v)
{
    if (!isfinite(v))
        v = -INFINITY;
    lvl_put(&b->l1, idx / BLK1, v);
    lvl_put(&b->l2, idx / BLK2, v);
}

/* Lets go the blocks that end before absolute index idx. */
static void lvl_drop(struct blklevel *l, uint64_t blk)
{
    while (l->head < l->n && l->base + l->head < blk)
        l->head++;
    if (l->head > 64 && l->head * 2 > l->n) {
        memmove(l->m, l->m + l->head, (l->n - l->head) * sizeof(double));
        l->n -= l->head;
        l->base += l->head;
        l->head = 0;
    }
}

static int lvl_get(const struct blklevel *l, uint64_t blk, double *v)
{
    if (blk < l->base + l->head || blk >= l->base + l->n)
        return 0;
    *v = l->m[blk - l->base];
    return 1;
}

/* Maximum of val(x) over absolute indices [i, j], all of them kept. */
static double blk_range_max(struct jb_phases *p, const struct blkmax *b, uint64_t i, uint64_t j,
                            double (*val)(const struct meter *, uint64_t), const struct meter *ms)
{
    double best = -INFINITY, v;
    uint64_t x = i;

    while (x <= j) {
        p->work++;
        if (x % BLK2 == 0 && x + BLK2 - 1 <= j && lvl_get(&b->l2, x / BLK2, &v)) {
            x += BLK2;
        } else if (x % BLK1 == 0 && x + BLK1 - 1 <= j && lvl_get(&b->l1, x / BLK1, &v)) {
            x += BLK1;
        } else {
            v = val(ms, x);
            x++;
        }
        if (v > best)
            best = v;
    }
    return best;
}

static double pwr_val(const struct meter *ms, uint64_t x)
{
    return ms->p[x - ms->p_base].w;
}

static double mean_val(const struct meter *ms, uint64_t x)
{
    double v = ms->a[x - ms->a_base].mean_w;

    return isfinite(v) ? v : -INFINITY;
}

/* ---- power series ------------------------------------------------------------------------ */

/* Index of the last reading at or before t, or p_head - 1 (as SIZE_MAX when p_head is 0). */
static size_t pwr_find(struct jb_phases *p, const struct meter *ms, uint64_t t)
{
    size_t lo = ms->p_head, hi = ms->p_n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        p->work++;
        if (ms->p[mid].t <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1; /* wraps to SIZE_MAX below p_head == 0, checked by callers */
}

/* The power integral's cumulative value at t (J), held flat outside the readings. */
static double pwr_cum(struct jb_phases *p, const struct meter *ms, uint64_t t, int *partial)
{
    const struct pwr *first = &ms->p[ms->p_head], *last = &ms->p[ms->p_n - 1];
    size_t i;
    double f, w;

    if (t <= first->t) {
        if (t < first->t)
            *partial = 1;
        return first->cum - ns_s((double)(first->t - t)) * first->w;
    }
    if (t >= last->t) {
        if (t > last->t)
            *partial = 1;
        return last->cum + ns_s((double)(t - last->t)) * last->w;
    }
    i = pwr_find(p, ms, t);
    f = (double)(t - ms->p[i].t) / (double)(ms->p[i + 1].t - ms->p[i].t);
    w = ms->p[i].w + (ms->p[i + 1].w - ms->p[i].w) * f;
    return ms->p[i].cum + ns_s((double)(t - ms->p[i].t)) * (ms->p[i].w + w) / 2;
}

static void note_range(struct meter *ms, double w)
{
    if (!isfinite(w))
        return;
    if (!ms->have_range) {
        ms->pmin = ms->pmax = w;
        ms->have_range = 1;
        return;
    }
    if (w < ms->pmin)
        ms->pmin = w;
    if (w > ms->pmax)
        ms->pmax = w;
}

/* ---- anchors ------------------------------------------------------------------------------ */

static struct anc *anc_abs(struct meter *ms, uint64_t k)
{
    return &ms->a[k - ms->a_base];
}

/* Index (into ms->a) of the first anchor placed after t; a_n when none. */
static size_t anc_after(struct jb_phases *p, const struct meter *ms, uint64_t t)
{
    size_t lo = ms->a_head, hi = ms->a_n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        p->work++;
        if (ms->a[mid].a.u_ns <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* An anchor whose instant is known (exact, located or on the grid), not guessed in a bracket. */
static int anc_placed(const struct anc *x)
{
    return (x->a.flags & (JB_ANCHOR_EXACT | JB_ANCHOR_LOCATED | JB_ANCHOR_GRID)) != 0;
}

static void set_mean(struct meter *ms, size_t k)
{
    struct anc *x = &ms->a[k];
    const struct anc *prev;
    double d_ns;

    x->mean_w = NAN;
    if (k <= ms->a_head) {
        blk_put(&ms->a_blk, ms->a_base + k, x->mean_w);
        return;
    }
    prev = &ms->a[k - 1];
    d_ns = (double)(x->a.u_ns - prev->a.u_ns);
    /* A mean over at least 1 ms between two well-placed updates (the first read's value may
     * come from an update long before it). */
    if (d_ns >= 1e6 && anc_placed(prev) && anc_placed(x) && !(prev->a.flags & JB_ANCHOR_FIRST)) {
        x->mean_w = (x->a.v_j - prev->a.v_j) / ns_s(d_ns);
        note_range(ms, x->mean_w);
    }
    blk_put(&ms->a_blk, ms->a_base + k, x->mean_w);
}

/* Places again, once, the anchors made while the counter still looked exact: with the grid
 * if there is one by now, else in their brackets. */
static void settle_anchors(struct meter *ms)
{
    if (!ms->to_replace)
        return;
    ms->to_replace = 0;
    for (size_t k = ms->a_head; k < ms->a_n; k++) {
        struct anc *x = &ms->a[k];
        if (!(x->a.flags & ANCHOR_REPLACE))
            continue;
        jb__counter_position(&ms->ctr, x->a.a_ns, x->a.b_ns, &x->a);
        if (k > ms->a_head && x->a.u_ns <= ms->a[k - 1].a.u_ns)
            x->a.u_ns = ms->a[k - 1].a.u_ns + 1;
        set_mean(ms, k);
        if (k + 1 < ms->a_n)
            set_mean(ms, k + 1);
    }
}

/* Chooses, once, how the increment of the interval ending at anchor k is spread. */
static void decide_shape(struct jb_phases *p, struct meter *ms, size_t k)
{
    struct anc *A = &ms->a[k], *P = &ms->a[k - 1];
    double d_ns = (double)(A->a.u_ns - P->a.u_ns), dv = A->a.v_j - P->a.v_j;

    if (A->shape != SHAPE_NONE)
        return;
    A->shape = SHAPE_UNIFORM;
    if (d_ns <= 0 || dv <= 0)
        return;
    if (!ms->ctr.stepped && ms->p_seen && ms->p_n > ms->p_head) {
        int part = 0;
        double i0 = pwr_cum(p, ms, P->a.u_ns, &part), i1 = pwr_cum(p, ms, A->a.u_ns, &part);
        if (!part && i1 - i0 > 0) {
            A->shape = SHAPE_POWER;
            A->i0 = i0;
            A->i1 = i1;
        }
        return;
    }
    if (ms->ctr.stepped && k >= ms->a_head + 2 && k + 1 < ms->a_n) {
        double ma = P->mean_w, mb = ms->a[k + 1].mean_w, m = A->mean_w;
        double big = ma > mb ? ma : mb;
        if (isfinite(ma) && isfinite(mb) && isfinite(m) && (m - ma) * (mb - m) > 0 &&
            fabs(mb - ma) > STEP_MIN_REL * big) {
            /* ma (s - u0) + mb (u1 - s) = dv, so the step lies inside the interval. */
            double x_s = (dv - mb * ns_s(d_ns)) / (ma - mb);
            A->shape = SHAPE_STEP;
            A->s_ns = (double)P->a.u_ns + x_s * 1e9;
            A->la = ma;
            A->lb = mb;
        }
    }
}

/* Energy of the interval ending at anchor k from its start to t (J). */
static double interval_part(struct jb_phases *p, struct meter *ms, size_t k, uint64_t t)
{
    struct anc *A = &ms->a[k], *P = &ms->a[k - 1];
    double dv = A->a.v_j - P->a.v_j, d_ns = (double)(A->a.u_ns - P->a.u_ns);
    double x = (double)(t - P->a.u_ns);

    decide_shape(p, ms, k);
    switch (A->shape) {
    case SHAPE_STEP: {
        double s = A->s_ns - (double)P->a.u_ns;
        return x <= s ? A->la * ns_s(x) : A->la * ns_s(s) + A->lb * ns_s(x - s);
    }
    case SHAPE_POWER: {
        int part = 0;
        double i = pwr_cum(p, ms, t, &part);
        return dv * (i - A->i0) / (A->i1 - A->i0);
    }
    default: return d_ns > 0 ? dv * x / d_ns : dv;
    }
}

static double lo_from(double v, double rate_w, double dt_ns)
{
    return dt_ns <= 0 ? v : v + rate_w * ns_s(dt_ns);
}

/*
 * Bounds on the counter at t from the anchors k-2..k+1 around it and the power range: the
 * energy rises at least at P_lo and at most at P_hi between an update and t.
 */
static void counter_bounds(struct meter *ms, size_t k, uint64_t t, double plo, double phi,
                           double *lo, double *hi)
{
    size_t j0 = k >= ms->a_head + 2 ? k - 2 : ms->a_head, j1 = k + 1 < ms->a_n ? k + 1 : ms->a_n - 1;

    *lo = -INFINITY;
    *hi = INFINITY;
    for (size_t j = j0; j <= j1; j++) {
        const struct jb__anchor *x = &ms->a[j].a;
        double l, h;
        if (x->hi_ns <= t)
            l = lo_from(x->v_j, plo, (double)(t - x->hi_ns));
        else
            l = isfinite(phi) ? lo_from(x->v_j, -phi, (double)(x->hi_ns - t)) : -INFINITY;
        if (x->lo_ns >= t)
            h = lo_from(x->v_j, -plo, (double)(x->lo_ns - t));
        else
            h = isfinite(phi) ? lo_from(x->v_j, phi, (double)(t - x->lo_ns)) : INFINITY;
        if (l > *lo)
            *lo = l;
        if (h < *hi)
            *hi = h;
    }
}

/*
 * The range of power the bounds assume.  For a step-function counter nothing but 0 <= power:
 * its power readings are as coarse as the counter (on NVML a short window once an update), so a
 * load that changes within an update interval can hide its highs and lows from all of them, in
 * step with the updates, without any disagreement to show it; the bound is then what the
 * counter alone proves (the update interval's energy may lie on either side of the bound).  For
 * an exact counter with power readings: 0.9 x the lowest to 1.1 x the highest reading or
 * interval mean seen, unless the readings have disagreed with the counter (aliasing).
 */
static void power_range(const struct meter *ms, double *plo, double *phi)
{
    if (!ms->have_range || ms->w_flagged || ms->ctr.stepped) {
        *plo = 0;
        *phi = INFINITY;
        return;
    }
    *plo = 0.9 * ms->pmin;
    *phi = 1.1 * ms->pmax + 1.0;
}

/* Index of the first window ending after t (w_n when none). */
static size_t win_after(struct jb_phases *p, const struct meter *ms, uint64_t t)
{
    size_t lo = ms->w_head, hi = ms->w_n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        p->work++;
        if (ms->w[mid].t1 <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of the first window beginning at or after t (w_n when none). */
static size_t win_from(struct jb_phases *p, const struct meter *ms, uint64_t t)
{
    size_t lo = ms->w_head, hi = ms->w_n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        p->work++;
        if (ms->w[mid].t0 < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Everything a bound at t needs from one meter. */
static void eval_bound(struct jb_phases *p, struct meter *ms, uint64_t t, struct bval *b)
{
    size_t k, wi;

    memset(b, 0, sizeof(*b));
    settle_anchors(ms);
    if (ms->a_n > ms->a_head) {
        double plo, phi;
        k = anc_after(p, ms, t);
        b->have_e = 1;
        b->k_abs = ms->a_base + k;
        power_range(ms, &plo, &phi);
        if (k == ms->a_head) {
            b->c = ms->a[k].a.v_j; /* before the first update kept: held */
            b->part_e = 1;
        } else if (k == ms->a_n) {
            /* At or after the newest update: held.  An exact counter read at or after t with
             * the same value is right there; a step function's next update holds energy from
             * before t, unless it has not moved for a long time. */
            b->c = ms->a[k - 1].a.v_j;
            if (ms->ctr.stepped) {
                b->part_e = t > ms->a[k - 1].a.u_ns && ms->e_last_t < t + STALL_NS;
                /* The energy since the last update is not in the counter yet: carry the last
                 * interval's mean power on (partial, an estimate). */
                if (b->part_e && isfinite(ms->a[k - 1].mean_w))
                    b->c += ms->a[k - 1].mean_w * ns_s((double)(t - ms->a[k - 1].a.u_ns));
            } else {
                b->part_e = t > ms->e_last_t;
            }
        } else {
            b->c = ms->a[k - 1].a.v_j + interval_part(p, ms, k, t);
            counter_bounds(ms, k, t, plo, phi, &b->lo, &b->hi);
            b->bounds = isfinite(b->lo) && isfinite(b->hi);
            if (b->lo > b->c)
                b->lo = b->c;
            if (b->hi < b->c)
                b->hi = b->c;
            b->unloc = !anc_placed(&ms->a[k]) || !anc_placed(&ms->a[k - 1]);
        }
    }
    if (ms->p_n > ms->p_head) {
        b->have_p = 1;
        b->icum = pwr_cum(p, ms, t, &b->part_p);
    }
    wi = win_after(p, ms, t);
    b->flagged_before = wi < ms->w_n ? ms->w[wi].flagged_before : ms->w_flagged;
}

/* Whether a bound at t can be evaluated on this meter with all the readings it will use. */
static int meter_complete(struct jb_phases *p, struct meter *ms, uint64_t t)
{
    if (ms->gone)
        return 1;
    if (ms->e_seen) {
        if (ms->ctr.stepped) {
            if (!(ms->a_n - ms->a_head >= 2 && ms->a[ms->a_n - 2].a.lo_ns > t) &&
                !(ms->e_last_t >= t + STALL_NS))
                return 0;
            /* Wait for the grid (the sampler finds it within ~1 s), unless it does not come. */
            if (jb__counter_period_ns(&ms->ctr) <= 0 && ms->e_last_t < t + SETTLE_NS)
                return 0;
        } else if (ms->e_last_t < t) {
            return 0;
        }
    }
    if (ms->p_seen) {
        uint64_t need = t;
        if (ms->e_seen && !ms->ctr.stepped && ms->a_n > ms->a_head) {
            size_t k = anc_after(p, ms, t);
            if (k > ms->a_head && k < ms->a_n)
                need = ms->a[k].a.u_ns; /* the power shape spans the whole interval */
        }
        if (ms->p_n == ms->p_head || ms->p[ms->p_n - 1].t < need)
            return 0;
    }
    return 1;
}

static int complete(struct jb_phases *p, uint64_t t)
{
    for (size_t m = 0; m < p->n_meters; m++)
        if (!meter_complete(p, &p->m[m], t))
            return 0;
    return 1;
}

/* ---- results ------------------------------------------------------------------------------ */

static double peak_in(struct jb_phases *p, struct meter *ms, uint64_t t0, uint64_t t1, int *ok)
{
    double best = -INFINITY, v;
    size_t i, j;

    *ok = 0;
    if (ms->p_n == ms->p_head)
        return 0;
    if (t0 < ms->p[ms->p_head].t && stack_max_from(&ms->p_old, t0, &v)) {
        best = v;
        *ok = 1;
    }
    i = pwr_find(p, ms, t0);
    i = i == NOPOS || i < ms->p_head ? ms->p_head : ms->p[i].t == t0 ? i : i + 1;
    j = pwr_find(p, ms, t1);
    if (j != NOPOS && j >= ms->p_head && i <= j) {
        v = blk_range_max(p, &ms->p_blk, ms->p_base + i, ms->p_base + j, pwr_val, ms);
        if (v > best)
            best = v;
        *ok = 1;
    }
    if (!*ok && j != NOPOS && j >= ms->p_head) {
        best = ms->p[j].w; /* none inside: the reading shown during the phase */
        *ok = 1;
    }
    return best;
}

static double peak_interval(struct jb_phases *p, struct meter *ms, uint64_t t0, uint64_t t1,
                            int *ok)
{
    double best = -INFINITY, v;
    size_t k0, k1;

    *ok = 0;
    if (ms->a_n == ms->a_head)
        return 0;
    if (t0 < ms->a[ms->a_head].a.u_ns && stack_max_from(&ms->a_old, t0 + 1, &v)) {
        best = v;
        *ok = 1;
    }
    /* The intervals ending after t0, up to the one holding t1. */
    k0 = anc_after(p, ms, t0);
    k1 = t1 > 0 ? anc_after(p, ms, t1 - 1) : k0;
    if (k1 >= ms->a_n)
        k1 = ms->a_n - 1;
    if (k0 <= k1) {
        v = blk_range_max(p, &ms->a_blk, ms->a_base + k0, ms->a_base + k1, mean_val, ms);
        if (v > best) {
            best = v;
            *ok = 1;
        }
    }
    return best;
}

static int emit(struct jb_phases *p, const struct jb_phase_result *r)
{
    if (p->on_result) {
        p->on_result(p->on_result_user, r);
        return 0;
    }
    if (p->r_head && p->r_n == p->r_cap && p->r_head * 2 >= p->r_n) {
        memmove(p->results, p->results + p->r_head, (p->r_n - p->r_head) * sizeof(*r));
        p->r_n -= p->r_head;
        p->r_head = 0;
    }
    if (reserve((void **)&p->results, &p->r_cap, p->r_n, sizeof(*r)) < 0)
        return fail(p, JB_ENOMEM, "out of memory");
    p->results[p->r_n++] = *r;
    return 0;
}

static void fill_result(struct jb_phases *p, const struct span *sp, size_t m,
                        struct jb_phase_result *r)
{
    struct meter *ms = &p->m[m];
    struct bval b0s = sp->b[m], b1;
    const struct bval *b0 = &b0s;
    double dur_s = ns_s((double)(sp->t_end_ns - sp->t_begin_ns)), v;
    int partial = sp->partial, ok;

    memset(r, 0, sizeof(*r));
    jb__strlcpy(r->phase, sp->phase, sizeof(r->phase));
    r->index = sp->index;
    r->meter = m;
    r->t_begin_ns = sp->t_begin_ns;
    r->t_end_ns = sp->t_end_ns;
    eval_bound(p, ms, sp->t_end_ns, &b1);
    if ((!b0s.have_e && b1.have_e) || (!b0s.have_p && b1.have_p)) {
        /* The meter had no readings yet when the begin was evaluated: evaluate it again with
         * what came since (held before the first, so partial). */
        struct bval nb;
        eval_bound(p, ms, sp->t_begin_ns, &nb);
        if (!b0s.have_e)
            b0s = nb;
        else {
            b0s.have_p = nb.have_p;
            b0s.part_p = nb.part_p;
            b0s.icum = nb.icum;
        }
    }
    if (ms->have_range) {
        r->idle_power_w = ms->pmin;
        r->valid |= JB_PHASE_IDLE_POWER;
    }
    if (b0->have_e && b1.have_e) {
        double plo, phi;
        power_range(ms, &plo, &phi);
        r->energy_j = b1.c - b0->c;
        r->valid |= JB_PHASE_ENERGY;
        partial |= b0->part_e | b1.part_e;
        if (ms->have_range && r->energy_j < ms->pmin * dur_s * (1 - 1e-9)) {
            r->energy_j = ms->pmin * dur_s; /* the shape dipped below what the meter showed */
            r->flags |= JB_PHASE_FLAG_FLOORED;
        }
        if (b0->bounds && b1.bounds) {
            double lo = b1.lo - b0->hi, hi = b1.hi - b0->lo;
            if (lo < plo * dur_s)
                lo = plo * dur_s;
            if (hi > phi * dur_s)
                hi = phi * dur_s;
            r->energy_j_lo = lo < r->energy_j ? lo : r->energy_j;
            r->energy_j_hi = hi > r->energy_j ? hi : r->energy_j;
            r->valid |= JB_PHASE_ENERGY_BOUNDS;
        }
        if (b0->unloc || b1.unloc)
            r->flags |= JB_PHASE_FLAG_UNLOCATED;
        if (ms->ctr.stepped) {
            double per = jb__counter_period_ns(&ms->ctr);
            r->flags |= JB_PHASE_FLAG_STEPPED;
            if (per <= 0)
                per = ms->ctr.stale_max_ns;
            if ((double)(sp->t_end_ns - sp->t_begin_ns) < 2 * per)
                r->flags |= JB_PHASE_FLAG_RESOLUTION;
        }
        r->update_period_s = ns_s(jb__counter_period_ns(&ms->ctr));
        v = peak_interval(p, ms, sp->t_begin_ns, sp->t_end_ns, &ok);
        if (ok) {
            r->peak_interval_power_w = v;
            r->valid |= JB_PHASE_PEAK_INTERVAL;
        }
    }
    if (b0->have_p && b1.have_p) {
        r->energy_j_power = b1.icum - b0->icum;
        r->valid |= JB_PHASE_ENERGY_POWER;
        if (!(r->valid & JB_PHASE_ENERGY))
            partial |= b0->part_p | b1.part_p;
        v = peak_in(p, ms, sp->t_begin_ns, sp->t_end_ns, &ok);
        if (ok) {
            r->peak_power_w = v;
            r->peak_power_source = ms->p_src;
            r->valid |= JB_PHASE_PEAK;
        }
    }
    if ((r->valid & JB_PHASE_ENERGY) && (r->valid & JB_PHASE_ENERGY_POWER) && r->energy_j > 0) {
        uint64_t flagged;
        r->power_rel_diff = (r->energy_j_power - r->energy_j) / r->energy_j;
        r->valid |= JB_PHASE_POWER_DIFF;
        /* Flagged windows that begin before the phase ends and did not end before it began,
         * or the phase itself over enough updates. */
        size_t wi = win_from(p, ms, sp->t_end_ns);
        flagged = wi < ms->w_n ? ms->w[wi].flagged_before : ms->w_flagged;
        /* A phase shorter than a window resolves before the window around it closes: the
         * window just before it says how the meter was doing. */
        wi = win_after(p, ms, sp->t_begin_ns);
        if (wi > ms->w_head && ms->w[wi - 1].flagged &&
            sp->t_begin_ns - ms->w[wi - 1].t1 < ms->w[wi - 1].t1 - ms->w[wi - 1].t0)
            r->flags |= JB_PHASE_FLAG_ALIASING;
        if (flagged > b0->flagged_before ||
            (b1.k_abs >= b0->k_abs + WINDOW_UPDATES && fabs(r->power_rel_diff) > ALIAS_REL))
            r->flags |= JB_PHASE_FLAG_ALIASING;
    }
    if (sp->has_items) {
        r->items = sp->items;
        r->valid |= JB_PHASE_ITEMS;
    }
    if (partial)
        r->valid |= JB_PHASE_PARTIAL;
}

static int resolve(struct jb_phases *p, const struct span *sp)
{
    for (size_t m = 0; m < p->n_meters; m++) {
        struct jb_phase_result r;
        int rc;
        fill_result(p, sp, m, &r);
        if ((rc = emit(p, &r)) < 0)
            return rc;
    }
    return 0;
}

static void snapshot(struct jb_phases *p, struct span *sp)
{
    for (size_t m = 0; m < p->n_meters; m++)
        eval_bound(p, &p->m[m], sp->t_begin_ns, &sp->b[m]);
    sp->snapped = 1;
    heap_remove(p, &p->hb, sp);
}

/* ---- letting readings go -------------------------------------------------------------------- */

static uint64_t horizon(const struct jb_phases *p)
{
    uint64_t h = p->newest_ns > KEEP_NS ? p->newest_ns - KEEP_NS : 0;
    const struct span *s;

    if ((s = heap_top(&p->hb)) && s->t_begin_ns < h)
        h = s->t_begin_ns;
    if ((s = heap_top(&p->he)) && s->t_end_ns < h)
        h = s->t_end_ns;
    return h;
}

static void prune_meter(struct jb_phases *p, struct meter *ms, uint64_t h)
{
    size_t k = ms->a_head, keep_a;
    uint64_t keep_t = h;

    /* Anchors: two before the interval holding h stay, for its shape and bounds. */
    while (k < ms->a_n && ms->a[k].a.u_ns < h)
        k++;
    keep_a = k >= ms->a_head + 3 ? k - 3 : ms->a_head;
    for (; ms->a_head < keep_a; ms->a_head++) {
        p->work++;
        if (isfinite(ms->a[ms->a_head].mean_w))
            stack_push(p, &ms->a_old, ms->a[ms->a_head].a.u_ns, ms->a[ms->a_head].mean_w);
    }
    if (ms->a_head > 64 && ms->a_head * 2 > ms->a_n) {
        memmove(ms->a, ms->a + ms->a_head, (ms->a_n - ms->a_head) * sizeof(*ms->a));
        ms->a_n -= ms->a_head;
        ms->a_base += ms->a_head;
        ms->a_head = 0;
    }
    /* Power: back to the first anchor kept, and one reading before that. */
    if (ms->a_n > ms->a_head && ms->a[ms->a_head].a.u_ns < keep_t)
        keep_t = ms->a[ms->a_head].a.u_ns;
    while (ms->p_n - ms->p_head >= 2 && ms->p[ms->p_head + 1].t <= keep_t) {
        p->work++;
        stack_push(p, &ms->p_old, ms->p[ms->p_head].t, ms->p[ms->p_head].w);
        ms->p_head++;
    }
    lvl_drop(&ms->p_blk.l1, (ms->p_base + ms->p_head) / BLK1);
    lvl_drop(&ms->p_blk.l2, (ms->p_base + ms->p_head) / BLK2);
    lvl_drop(&ms->a_blk.l1, (ms->a_base + ms->a_head) / BLK1);
    lvl_drop(&ms->a_blk.l2, (ms->a_base + ms->a_head) / BLK2);
    if (ms->p_head > 64 && ms->p_head * 2 > ms->p_n) {
        memmove(ms->p, ms->p + ms->p_head, (ms->p_n - ms->p_head) * sizeof(*ms->p));
        ms->p_n -= ms->p_head;
        ms->p_base += ms->p_head;
        ms->p_head = 0;
    }
    while (ms->w_n > ms->w_head && ms->w[ms->w_head].t1 < h) {
        p->work++;
        ms->w_head++;
    }
    if (ms->w_head > 64 && ms->w_head * 2 > ms->w_n) {
        memmove(ms->w, ms->w + ms->w_head, (ms->w_n - ms->w_head) * sizeof(*ms->w));
        ms->w_n -= ms->w_head;
        ms->w_head = 0;
    }
}

/* Evaluates every bound the readings allow (all of them with force), resolves ended phases in
 * the order they ended, and lets go the readings no bound needs. */
static int process(struct jb_phases *p, int force)
{
    uint64_t h;
    int rc;

    for (;;) {
        struct span *s = heap_top(&p->hb), *q = p->q_first;
        if (s && (force || complete(p, s->t_begin_ns))) {
            snapshot(p, s);
            continue;
        }
        if (q && (force || complete(p, q->t_end_ns))) {
            if (!q->snapped)
                snapshot(p, q);
            if ((rc = resolve(p, q)) < 0)
                return rc;
            p->q_first = q->qnext;
            if (!p->q_first)
                p->q_last = NULL;
            heap_remove(p, &p->he, q);
            free(q);
            continue;
        }
        break;
    }
    h = horizon(p);
    for (size_t m = 0; m < p->n_meters; m++)
        prune_meter(p, &p->m[m], h);
    return 0;
}

/* ---- readings ------------------------------------------------------------------------------- */

/* Closes the aliasing windows the readings now cover. */
static void check_windows(struct jb_phases *p, struct meter *ms)
{
    if (!ms->p_seen || !ms->e_seen)
        return;
    while (ms->w_start + WINDOW_UPDATES < ms->a_base + ms->a_n) {
        uint64_t j = ms->w_start + WINDOW_UPDATES;
        struct anc *S, *E;
        int part = 0;
        double dv, di;

        if (ms->w_start < ms->a_base + ms->a_head) {
            ms->w_start = ms->a_base + ms->a_head;
            continue;
        }
        S = anc_abs(ms, ms->w_start);
        E = anc_abs(ms, j);
        if (ms->p_n == ms->p_head || ms->p[ms->p_n - 1].t < E->a.u_ns)
            break;
        p->work++;
        di = pwr_cum(p, ms, E->a.u_ns, &part) - pwr_cum(p, ms, S->a.u_ns, &part);
        dv = E->a.v_j - S->a.v_j;
        if (!part && dv > 0 && reserve((void **)&ms->w, &ms->w_cap, ms->w_n, sizeof(*ms->w)) == 0) {
            struct win *w = &ms->w[ms->w_n++];
            double rel = di / dv - 1;
            w->t0 = S->a.u_ns;
            w->t1 = E->a.u_ns;
            w->flagged_before = ms->w_flagged;
            w->flagged = fabs(rel) > ALIAS_REL;
            ms->w_flagged += (uint64_t)w->flagged;
            ms->stats.check_windows++;
            ms->stats.aliased_windows += (uint64_t)w->flagged;
            if (fabs(rel) > ms->stats.worst_rel_diff)
                ms->stats.worst_rel_diff = fabs(rel);
        }
        ms->w_start = j;
    }
}

static int add_anchor(struct jb_phases *p, struct meter *ms, const struct jb__anchor *a)
{
    struct anc *x;

    if (reserve((void **)&ms->a, &ms->a_cap, ms->a_n, sizeof(*ms->a)) < 0)
        return fail(p, JB_ENOMEM, "out of memory");
    x = &ms->a[ms->a_n];
    memset(x, 0, sizeof(*x));
    x->a = *a;
    ms->a_n++;
    set_mean(ms, ms->a_n - 1);
    return 0;
}

int jb_phases_add_energy(struct jb_phases *p, size_t meter, const struct jb_energy *e)
{
    struct meter *ms;
    struct jb__anchor a;
    int rc, powered;

    if (!p || meter >= p->n_meters || !e || !isfinite(e->energy_j))
        return JB_EINVAL;
    ms = &p->m[meter];
    if (ms->e_seen && e->t_mono_ns < ms->e_last_t)
        return fail(p, JB_EINVAL, "reading out of time order (%llu ns after %llu ns)",
                    (unsigned long long)e->t_mono_ns, (unsigned long long)ms->e_last_t);
    if (ms->e_seen && e->energy_j < ms->ctr.last_v)
        return fail(p, JB_EINVAL, "energy counter went down (%.6f J after %.6f J)", e->energy_j,
                    ms->ctr.last_v);
    powered = !ms->p_seen || (ms->p_n > ms->p_head && ms->p[ms->p_n - 1].w > 0);
    rc = jb__counter_feed(&ms->ctr, e->t_mono_ns, e->energy_j, powered, &a);
    ms->e_seen = 1;
    ms->e_last_t = e->t_mono_ns;
    if (e->t_mono_ns > p->newest_ns)
        p->newest_ns = e->t_mono_ns;
    if (ms->ctr.stepped && !ms->was_stepped) {
        ms->was_stepped = 1;
        for (size_t k = ms->a_head; k < ms->a_n; k++) {
            ms->a[k].a.flags |= ANCHOR_REPLACE;
            ms->a[k].mean_w = NAN;
            ms->to_replace = 1;
        }
    }
    if (rc == 1 && (rc = add_anchor(p, ms, &a)) < 0)
        return rc;
    ms->stats.stepped = ms->ctr.stepped;
    ms->stats.updates = ms->ctr.updates;
    ms->stats.located_updates = ms->ctr.located;
    ms->stats.update_period_s = ns_s(jb__counter_period_ns(&ms->ctr));
    ms->stats.update_jitter_s = ns_s(jb__counter_jitter_ns(&ms->ctr));
    ms->stats.grid = jb__counter_period_ns(&ms->ctr) > 0;
    check_windows(p, ms);
    return process(p, 0);
}

static int add_power(struct jb_phases *p, size_t meter, uint64_t t, double w, unsigned src)
{
    struct meter *ms;
    struct pwr *x;

    if (!p || meter >= p->n_meters || !isfinite(w))
        return JB_EINVAL;
    ms = &p->m[meter];
    if (ms->p_seen && t < ms->p[ms->p_n - 1].t)
        return fail(p, JB_EINVAL, "reading out of time order (%llu ns after %llu ns)",
                    (unsigned long long)t, (unsigned long long)ms->p[ms->p_n - 1].t);
    if (reserve((void **)&ms->p, &ms->p_cap, ms->p_n, sizeof(*ms->p)) < 0)
        return fail(p, JB_ENOMEM, "out of memory");
    x = &ms->p[ms->p_n];
    x->t = t;
    x->w = w;
    x->cum = ms->p_n > ms->p_head ? ms->p[ms->p_n - 1].cum +
                                        ns_s((double)(t - ms->p[ms->p_n - 1].t)) *
                                            (w + ms->p[ms->p_n - 1].w) / 2
                                  : 0;
    blk_put(&ms->p_blk, ms->p_base + ms->p_n, w);
    ms->p_n++;
    ms->p_seen = 1;
    ms->p_src = src;
    note_range(ms, w);
    ms->stats.idle_power_w = ms->pmin;
    ms->stats.max_power_w = ms->pmax;
    if (t > p->newest_ns)
        p->newest_ns = t;
    check_windows(p, ms);
    return process(p, 0);
}

int jb_phases_add_power(struct jb_phases *p, size_t meter, uint64_t t_mono_ns, double power_w)
{
    return add_power(p, meter, t_mono_ns, power_w, JB_POWER_SOURCE_POWER);
}

int jb_phases_add_sample(struct jb_phases *p, size_t meter, const struct jb_sample *s)
{
    if (!p || !s)
        return JB_EINVAL;
    if (s->valid & JB_CAP_POWER_INSTANT)
        return add_power(p, meter, s->t_mono_ns, s->power_instant_w, JB_POWER_SOURCE_INSTANT);
    if (s->valid & JB_CAP_POWER)
        return add_power(p, meter, s->t_mono_ns, s->power_w, JB_POWER_SOURCE_AVERAGE);
    return meter < p->n_meters ? 0 : JB_EINVAL;
}

/* ---- bounds ---------------------------------------------------------------------------------- */

int jb_phases_begin(struct jb_phases *p, const char *phase, long index, uint64_t t_mono_ns)
{
    struct span *sp, **slot;

    if (!p || !phase || !*phase)
        return JB_EINVAL;
    if (strlen(phase) >= sizeof(sp->phase))
        return fail(p, JB_EINVAL, "phase name '%.40s' is longer than 31 bytes", phase);
    slot = find_slot(p, phase, index);
    if (slot && *slot)
        return fail(p, JB_ESTATE, "phase '%s' %ld begun twice without an end", phase, index);
    if (p->n_open + 1 > p->n_buckets / 2 * 1 + p->n_buckets / 4) {
        if (hash_grow(p) < 0)
            return fail(p, JB_ENOMEM, "out of memory");
        slot = find_slot(p, phase, index);
    }
    sp = calloc(1, sizeof(*sp) + p->n_meters * sizeof(struct bval));
    if (!sp)
        return fail(p, JB_ENOMEM, "out of memory");
    jb__strlcpy(sp->phase, phase, sizeof(sp->phase));
    sp->index = index;
    sp->t_begin_ns = t_mono_ns;
    sp->hb = sp->he = NOPOS;
    if (heap_push(p, &p->hb, sp) < 0) {
        free(sp);
        return fail(p, JB_ENOMEM, "out of memory");
    }
    *slot = sp;
    sp->oprev = p->open_last;
    if (p->open_last)
        p->open_last->onext = sp;
    else
        p->open_first = sp;
    p->open_last = sp;
    p->n_open++;
    return process(p, 0);
}

/* Moves an open span to the queue of ended ones. */
static int close_span(struct jb_phases *p, struct span **slot, uint64_t t_end, const double *items,
                      int partial)
{
    struct span *sp = *slot;

    *slot = sp->hnext;
    sp->hnext = NULL;
    if (sp->oprev)
        sp->oprev->onext = sp->onext;
    else
        p->open_first = sp->onext;
    if (sp->onext)
        sp->onext->oprev = sp->oprev;
    else
        p->open_last = sp->oprev;
    sp->oprev = sp->onext = NULL;
    p->n_open--;
    sp->t_end_ns = t_end < sp->t_begin_ns ? sp->t_begin_ns : t_end;
    if (items) {
        sp->has_items = 1;
        sp->items = *items;
    }
    sp->partial = partial;
    if (p->q_last)
        p->q_last->qnext = sp;
    else
        p->q_first = sp;
    p->q_last = sp;
    if (heap_push(p, &p->he, sp) < 0)
        return fail(p, JB_ENOMEM, "out of memory");
    return 0;
}

int jb_phases_end(struct jb_phases *p, const char *phase, long index, uint64_t t_mono_ns,
                  const double *items)
{
    struct span **slot;
    int rc;

    if (!p || !phase)
        return JB_EINVAL;
    slot = find_slot(p, phase, index);
    if (!slot || !*slot)
        return fail(p, JB_ESTATE, "phase '%.31s' %ld ended but never begun", phase, index);
    if (t_mono_ns < (*slot)->t_begin_ns)
        return fail(p, JB_EINVAL, "phase '%.31s' %ld ends before it begins", phase, index);
    if ((rc = close_span(p, slot, t_mono_ns, items, 0)) < 0)
        return rc;
    return process(p, 0);
}

int jb_phases_finish(struct jb_phases *p, uint64_t t_mono_ns)
{
    int rc;

    if (!p)
        return JB_EINVAL;
    while (p->open_first) {
        struct span **slot = find_slot(p, p->open_first->phase, p->open_first->index);
        if ((rc = close_span(p, slot, t_mono_ns, NULL, 1)) < 0)
            return rc;
    }
    return process(p, 1);
}

int jb_phases_meter_gone(struct jb_phases *p, size_t meter)
{
    if (!p || meter >= p->n_meters)
        return JB_EINVAL;
    p->m[meter].gone = 1;
    return process(p, 0);
}

/* ---- access ---------------------------------------------------------------------------------- */

size_t jb_phases_result_count(const struct jb_phases *p)
{
    return p ? p->r_n - p->r_head : 0;
}

const struct jb_phase_result *jb_phases_result(const struct jb_phases *p, size_t i)
{
    return p && i < p->r_n - p->r_head ? &p->results[p->r_head + i] : NULL;
}

const struct jb_phase_result *jb_phases_take(struct jb_phases *p)
{
    if (!p || p->r_head == p->r_n)
        return NULL;
    return &p->results[p->r_head++];
}

void jb_phases_set_on_result(struct jb_phases *p, jb_phase_result_cb cb, void *user)
{
    if (!p)
        return;
    p->on_result = cb;
    p->on_result_user = user;
}

const struct jb_phases_meter_stats *jb_phases_meter_stats(struct jb_phases *p, size_t meter)
{
    if (!p || meter >= p->n_meters)
        return NULL;
    p->m[meter].stats.idle_power_w = p->m[meter].pmin;
    p->m[meter].stats.max_power_w = p->m[meter].pmax;
    return &p->m[meter].stats;
}

const char *jb_phases_errmsg(const struct jb_phases *p)
{
    return p ? p->errmsg : "";
}

uint64_t jb__phases_work(const struct jb_phases *p)
{
    return p ? p->work : 0;
}
