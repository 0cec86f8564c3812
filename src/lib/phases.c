/*
 * phases.c - attributes energy to phases: per phase and meter, the counter-anchored energy with
 * an interval that holds it, the trapezoid integral of power, and the cross-checks between them
 * (see include/joulebench.h, "phases", for what each number means).
 *
 * The counter's reads become anchors (counter.c): update instants with the counter's value
 * there, placed on the fitted update grid where the counter is a step function.  Each meter's
 * estimator (estimate.c) makes of them one fixed function C(t) per meter: a phase's energy is
 * C(t_end) - C(t_begin), and phases that tile a span add up to it exactly.  This file keeps the
 * phases: when each bound can be evaluated, what readings can be let go, the results.
 *
 * Readings arrive in time order per meter and kind (the sampler serialises them), while phase
 * bounds carry the workload's own timestamps, usually a little older than the newest readings.  A
 * bound is evaluated once the readings have passed it (two anchors past it for a step-function
 * counter, which the shape needs); a phase's begin is evaluated as soon as it can be, and stored
 * with the phase, so that readings behind every bound still to be evaluated (and 10 s behind the
 * newest, for late bounds) can be let go.  Open phases are in a hash table and a list, bounds
 * waiting for readings in two heaps, ended phases in a queue resolved in the order they ended:
 * every operation is O(log n) in the number of open phases.
 *
 * Not a sampler and not a file writer: it only does the arithmetic.
 */
#include "phases.h"

#include "estimate.h"
#include "grow.h"
#include "meter.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEP_NS (10ull * 1000000000ull) /* readings kept behind the newest, for late bounds */
#define NOPOS ((size_t)-1)

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
    struct jb__bound b[];       /* the begin, per meter */
};

struct heap {
    struct span **v;
    size_t n, cap;
    int by_end;
};

struct jb_phases {
    size_t n_meters;
    struct jb__est *m;     /* per meter */
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
    if (JB_GROW(h->v, h->cap, h->n) < 0)
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
    p->m = calloc(n_meters ? n_meters : 1, sizeof(struct jb__est));
    p->he.by_end = 1;
    if (!p->m) {
        free(p);
        return NULL;
    }
    for (size_t i = 0; i < n_meters; i++)
        jb__est_init(&p->m[i]);
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
    for (size_t i = 0; i < p->n_meters; i++)
        jb__est_free(&p->m[i]);
    free(p->m);
    free_span_list(p->open_first, 0);
    free_span_list(p->q_first, 1);
    free(p->buckets);
    free(p->hb.v);
    free(p->he.v);
    free(p->results);
    free(p);
}

static int complete(struct jb_phases *p, uint64_t t)
{
    for (size_t m = 0; m < p->n_meters; m++)
        if (!jb__est_complete(&p->work, &p->m[m], t))
            return 0;
    return 1;
}

/* ---- results ------------------------------------------------------------------------------ */

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
    if (JB_GROW(p->results, p->r_cap, p->r_n) < 0)
        return fail(p, JB_ENOMEM, "out of memory");
    p->results[p->r_n++] = *r;
    return 0;
}

static void fill_result(struct jb_phases *p, const struct span *sp, size_t m,
                        struct jb_phase_result *r)
{
    int partial = sp->partial, part = 0;

    memset(r, 0, sizeof(*r));
    jb__strlcpy(r->phase, sp->phase, sizeof(r->phase));
    r->index = sp->index;
    r->meter = m;
    r->t_begin_ns = sp->t_begin_ns;
    r->t_end_ns = sp->t_end_ns;
    jb__est_result(&p->work, &p->m[m], &sp->b[m], sp->t_begin_ns, sp->t_end_ns, r, &part);
    if (sp->has_items) {
        r->items = sp->items;
        r->valid |= JB_PHASE_ITEMS;
    }
    if (partial || part)
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
        jb__est_bound(&p->work, &p->m[m], sp->t_begin_ns, &sp->b[m]);
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
        jb__est_prune(&p->work, &p->m[m], h);
    return 0;
}

/* ---- readings ------------------------------------------------------------------------------- */

int jb_phases_add_energy(struct jb_phases *p, size_t meter, const struct jb_energy *e)
{
    int rc;

    if (!p || meter >= p->n_meters || !e || !isfinite(e->energy_j))
        return JB_EINVAL;
    if ((rc = jb__est_add_energy(&p->work, &p->m[meter], e->t_mono_ns, e->energy_j, p->errmsg,
                                 sizeof(p->errmsg))) < 0)
        return rc;
    if (e->t_mono_ns > p->newest_ns)
        p->newest_ns = e->t_mono_ns;
    return process(p, 0);
}

static int add_power(struct jb_phases *p, size_t meter, uint64_t t, double w, unsigned src)
{
    int rc;

    if (!p || meter >= p->n_meters || !isfinite(w))
        return JB_EINVAL;
    if ((rc = jb__est_add_power(&p->work, &p->m[meter], t, w, src, p->errmsg, sizeof(p->errmsg))) <
        0)
        return rc;
    if (t > p->newest_ns)
        p->newest_ns = t;
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
    sp = calloc(1, sizeof(*sp) + p->n_meters * sizeof(struct jb__bound));
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
    return jb__est_stats(&p->m[meter]);
}

const char *jb_phase_flag_name(uint32_t bit)
{
    switch (bit) {
    case JB_PHASE_FLAG_STEPPED: return "stepped";
    case JB_PHASE_FLAG_RESOLUTION: return "below_resolution";
    case JB_PHASE_FLAG_ALIASING: return "aliasing";
    case JB_PHASE_FLAG_UNLOCATED: return "unlocated";
    case JB_PHASE_FLAG_FLOORED: return "floored";
    default: return NULL;
    }
}

const char *jb_power_source_name(uint32_t source)
{
    switch (source) {
    case JB_POWER_SOURCE_NONE: return "none";
    case JB_POWER_SOURCE_POWER: return "power";
    case JB_POWER_SOURCE_AVERAGE: return "average";
    case JB_POWER_SOURCE_INSTANT: return "instant";
    default: return NULL;
    }
}

const char *jb_phases_errmsg(const struct jb_phases *p)
{
    return p ? p->errmsg : "";
}

uint64_t jb__phases_work(const struct jb_phases *p)
{
    return p ? p->work : 0;
}
