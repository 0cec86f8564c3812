/*
 * phases.c - attributes energy to phases: per phase and meter, the counter energy interpolated at
 * the phase bounds and the trapezoid integral of power.
 *
 * Readings arrive in time order per meter and kind (the sampler serialises them), while phase
 * bounds carry the workload's own timestamps, usually a little older than the newest readings.  So
 * a phase is resolved only once every meter has a reading at or past its end, and readings are
 * kept for KEEP_NS beyond the oldest open phase so that a late-arriving begin still finds the
 * reading before it.  Memory is bounded by the readings in that window, whatever the run's length.
 *
 * Not a sampler and not a file writer: it only does the arithmetic.
 */
#include "meter.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEP_NS (10ull * 1000000000ull)

struct point {
    uint64_t t_ns;
    double v;
};

/* A time-ordered series with a moving head: points[head..n) are live. */
struct series {
    struct point *pts;
    size_t head, n, cap;
    int seen; /* any point ever added */
};

struct span {
    char phase[32];
    long index;
    uint64_t t_begin_ns, t_end_ns;
    int has_items, partial;
    double items;
};

struct jb_phases {
    size_t n_meters;
    struct series *energy; /* per meter */
    struct series *power;  /* per meter */
    unsigned char *gone;   /* per meter: no more readings will come */
    struct span *open;
    size_t n_open, cap_open;
    struct span *pending; /* ended, waiting for readings past their end */
    size_t n_pending, cap_pending;
    struct jb_phase_result *results;
    size_t n_results, cap_results;
    uint64_t newest_ns;
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

struct jb_phases *jb_phases_new(size_t n_meters)
{
    struct jb_phases *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->n_meters = n_meters;
    p->energy = calloc(n_meters ? n_meters : 1, sizeof(struct series));
    p->power = calloc(n_meters ? n_meters : 1, sizeof(struct series));
    p->gone = calloc(n_meters ? n_meters : 1, 1);
    if (!p->energy || !p->power || !p->gone) {
        jb_phases_free(p);
        return NULL;
    }
    return p;
}

void jb_phases_free(struct jb_phases *p)
{
    if (!p)
        return;
    for (size_t i = 0; p->energy && i < p->n_meters; i++)
        free(p->energy[i].pts);
    for (size_t i = 0; p->power && i < p->n_meters; i++)
        free(p->power[i].pts);
    free(p->energy);
    free(p->power);
    free(p->gone);
    free(p->open);
    free(p->pending);
    free(p->results);
    free(p);
}

/* The oldest time any open or pending phase may still need, minus the keep window. */
static uint64_t horizon(const struct jb_phases *p)
{
    uint64_t h = p->newest_ns > KEEP_NS ? p->newest_ns - KEEP_NS : 0;

    for (size_t i = 0; i < p->n_open; i++)
        if (p->open[i].t_begin_ns < h)
            h = p->open[i].t_begin_ns;
    for (size_t i = 0; i < p->n_pending; i++)
        if (p->pending[i].t_begin_ns < h)
            h = p->pending[i].t_begin_ns;
    return h;
}

/* Drops points before the horizon, keeping the last one before it (needed to interpolate). */
static void prune(struct series *s, uint64_t h)
{
    while (s->n - s->head >= 2 && s->pts[s->head + 1].t_ns <= h)
        s->head++;
    if (s->head > 64 && s->head * 2 > s->n) {
        memmove(s->pts, s->pts + s->head, (s->n - s->head) * sizeof(struct point));
        s->n -= s->head;
        s->head = 0;
    }
}

static int add_point(struct jb_phases *p, struct series *s, uint64_t t_ns, double v)
{
    if (s->n > s->head && t_ns < s->pts[s->n - 1].t_ns)
        return fail(p, JB_EINVAL, "reading out of time order (%llu ns after %llu ns)",
                    (unsigned long long)t_ns, (unsigned long long)s->pts[s->n - 1].t_ns);
    if (reserve((void **)&s->pts, &s->cap, s->n, sizeof(struct point)) < 0)
        return fail(p, JB_ENOMEM, "out of memory");
    s->pts[s->n].t_ns = t_ns;
    s->pts[s->n].v = v;
    s->n++;
    s->seen = 1;
    if (t_ns > p->newest_ns)
        p->newest_ns = t_ns;
    return 0;
}

/* Value of the series at t by linear interpolation; *partial set when t lies outside it. */
static double interp(const struct series *s, uint64_t t, int *partial)
{
    size_t lo = s->head, hi = s->n - 1;
    const struct point *a, *b;

    if (t <= s->pts[lo].t_ns) {
        if (t < s->pts[lo].t_ns)
            *partial = 1;
        return s->pts[lo].v;
    }
    if (t >= s->pts[hi].t_ns) {
        if (t > s->pts[hi].t_ns)
            *partial = 1;
        return s->pts[hi].v;
    }
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->pts[mid].t_ns <= t)
            lo = mid;
        else
            hi = mid;
    }
    a = &s->pts[lo];
    b = &s->pts[hi];
    return a->v + (b->v - a->v) * ((double)(t - a->t_ns) / (double)(b->t_ns - a->t_ns));
}

/* Trapezoid integral of the series over [t0, t1], in value x seconds. */
static double integrate(const struct series *s, uint64_t t0, uint64_t t1, int *partial)
{
    double sum = 0, prev_v;
    uint64_t prev_t = t0;

    if (t1 <= t0)
        return 0;
    prev_v = interp(s, t0, partial);
    for (size_t i = s->head; i < s->n; i++) {
        const struct point *pt = &s->pts[i];
        if (pt->t_ns <= t0)
            continue;
        if (pt->t_ns >= t1)
            break;
        sum += (double)(pt->t_ns - prev_t) / 1e9 * (prev_v + pt->v) / 2;
        prev_t = pt->t_ns;
        prev_v = pt->v;
    }
    sum += (double)(t1 - prev_t) / 1e9 * (prev_v + interp(s, t1, partial)) / 2;
    return sum;
}

static int covered(const struct series *s, uint64_t t_end)
{
    return !s->seen || (s->n > s->head && s->pts[s->n - 1].t_ns >= t_end);
}

static int resolve(struct jb_phases *p, const struct span *sp)
{
    for (size_t m = 0; m < p->n_meters; m++) {
        struct jb_phase_result *r;
        const struct series *e = &p->energy[m], *w = &p->power[m];
        int partial = sp->partial;

        if (reserve((void **)&p->results, &p->cap_results, p->n_results, sizeof(*r)) < 0)
            return fail(p, JB_ENOMEM, "out of memory");
        r = &p->results[p->n_results++];
        memset(r, 0, sizeof(*r));
        jb__strlcpy(r->phase, sp->phase, sizeof(r->phase));
        r->index = sp->index;
        r->meter = m;
        r->t_begin_ns = sp->t_begin_ns;
        r->t_end_ns = sp->t_end_ns;
        if (e->n > e->head) {
            int part_e = 0;
            r->energy_j = interp(e, sp->t_end_ns, &part_e) - interp(e, sp->t_begin_ns, &part_e);
            r->valid |= JB_PHASE_ENERGY;
            partial |= part_e;
        }
        if (w->n > w->head) {
            int part_w = 0;
            r->energy_j_power = integrate(w, sp->t_begin_ns, sp->t_end_ns, &part_w);
            r->valid |= JB_PHASE_ENERGY_POWER;
            if (!(r->valid & JB_PHASE_ENERGY))
                partial |= part_w;
        }
        if (sp->has_items) {
            r->items = sp->items;
            r->valid |= JB_PHASE_ITEMS;
        }
        if (partial)
            r->valid |= JB_PHASE_PARTIAL;
    }
    return 0;
}

/* Resolves, in end order, every pending phase whose end every meter's readings have passed. */
static int try_resolve(struct jb_phases *p, int force)
{
    size_t i = 0;
    int rc;

    while (i < p->n_pending) {
        const struct span *sp = &p->pending[i];
        int ok = 1;
        for (size_t m = 0; m < p->n_meters && ok && !force; m++)
            ok = p->gone[m] ||
                 (covered(&p->energy[m], sp->t_end_ns) && covered(&p->power[m], sp->t_end_ns));
        if (!ok) {
            i++;
            continue;
        }
        if ((rc = resolve(p, sp)) < 0)
            return rc;
        memmove(&p->pending[i], &p->pending[i + 1], (p->n_pending - i - 1) * sizeof(*sp));
        p->n_pending--;
    }
    return 0;
}

static void prune_all(struct jb_phases *p)
{
    uint64_t h = horizon(p);

    for (size_t m = 0; m < p->n_meters; m++) {
        prune(&p->energy[m], h);
        prune(&p->power[m], h);
    }
}

int jb_phases_add_energy(struct jb_phases *p, size_t meter, const struct jb_energy *e)
{
    int rc;

    if (!p || meter >= p->n_meters || !e)
        return JB_EINVAL;
    if ((rc = add_point(p, &p->energy[meter], e->t_mono_ns, e->energy_j)) < 0)
        return rc;
    if ((rc = try_resolve(p, 0)) < 0)
        return rc;
    prune(&p->energy[meter], horizon(p));
    return 0;
}

int jb_phases_add_power(struct jb_phases *p, size_t meter, uint64_t t_mono_ns, double power_w)
{
    int rc;

    if (!p || meter >= p->n_meters || !isfinite(power_w))
        return JB_EINVAL;
    if ((rc = add_point(p, &p->power[meter], t_mono_ns, power_w)) < 0)
        return rc;
    if ((rc = try_resolve(p, 0)) < 0)
        return rc;
    prune(&p->power[meter], horizon(p));
    return 0;
}

static long find_open(const struct jb_phases *p, const char *phase, long index)
{
    for (size_t i = 0; i < p->n_open; i++)
        if (p->open[i].index == index && !strcmp(p->open[i].phase, phase))
            return (long)i;
    return -1;
}

int jb_phases_begin(struct jb_phases *p, const char *phase, long index, uint64_t t_mono_ns)
{
    struct span *sp;

    if (!p || !phase || !*phase)
        return JB_EINVAL;
    if (strlen(phase) >= sizeof(sp->phase))
        return fail(p, JB_EINVAL, "phase name '%.40s' is longer than 31 bytes", phase);
    if (find_open(p, phase, index) >= 0)
        return fail(p, JB_ESTATE, "phase '%s' %ld begun twice without an end", phase, index);
    if (reserve((void **)&p->open, &p->cap_open, p->n_open, sizeof(*sp)) < 0)
        return fail(p, JB_ENOMEM, "out of memory");
    sp = &p->open[p->n_open++];
    memset(sp, 0, sizeof(*sp));
    jb__strlcpy(sp->phase, phase, sizeof(sp->phase));
    sp->index = index;
    sp->t_begin_ns = t_mono_ns;
    return 0;
}

static int close_span(struct jb_phases *p, size_t i, uint64_t t_end, const double *items,
                      int partial)
{
    struct span sp = p->open[i];

    sp.t_end_ns = t_end < sp.t_begin_ns ? sp.t_begin_ns : t_end;
    if (items) {
        sp.has_items = 1;
        sp.items = *items;
    }
    sp.partial = partial;
    memmove(&p->open[i], &p->open[i + 1], (p->n_open - i - 1) * sizeof(sp));
    p->n_open--;
    if (reserve((void **)&p->pending, &p->cap_pending, p->n_pending, sizeof(sp)) < 0)
        return fail(p, JB_ENOMEM, "out of memory");
    p->pending[p->n_pending++] = sp;
    return 0;
}

int jb_phases_end(struct jb_phases *p, const char *phase, long index, uint64_t t_mono_ns,
                  const double *items)
{
    long i;
    int rc;

    if (!p || !phase)
        return JB_EINVAL;
    i = find_open(p, phase, index);
    if (i < 0)
        return fail(p, JB_ESTATE, "phase '%.31s' %ld ended but never begun", phase, index);
    if (t_mono_ns < p->open[i].t_begin_ns)
        return fail(p, JB_EINVAL, "phase '%.31s' %ld ends before it begins", phase, index);
    if ((rc = close_span(p, (size_t)i, t_mono_ns, items, 0)) < 0)
        return rc;
    if ((rc = try_resolve(p, 0)) < 0)
        return rc;
    prune_all(p);
    return 0;
}

int jb_phases_finish(struct jb_phases *p, uint64_t t_mono_ns)
{
    int rc;

    if (!p)
        return JB_EINVAL;
    while (p->n_open)
        if ((rc = close_span(p, 0, t_mono_ns, NULL, 1)) < 0)
            return rc;
    if ((rc = try_resolve(p, 1)) < 0)
        return rc;
    prune_all(p);
    return 0;
}

int jb_phases_meter_gone(struct jb_phases *p, size_t meter)
{
    if (!p || meter >= p->n_meters)
        return JB_EINVAL;
    p->gone[meter] = 1;
    return try_resolve(p, 0);
}

size_t jb_phases_result_count(const struct jb_phases *p)
{
    return p ? p->n_results : 0;
}

const struct jb_phase_result *jb_phases_result(const struct jb_phases *p, size_t i)
{
    return p && i < p->n_results ? &p->results[i] : NULL;
}

const char *jb_phases_errmsg(const struct jb_phases *p)
{
    return p ? p->errmsg : "";
}
