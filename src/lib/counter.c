/*
 * counter.c - the update model of an energy counter from its reads, and the sampler's read
 * schedule that locks onto the counter's updates (see counter.h).
 *
 * A value read at b that differs from the value read at a (the last read before it) says that
 * at least one update happened in (a, b], and that the value is the counter at the last update
 * before b.  When updates are periodic (period P), the update also lies in (b - P, b].  A
 * counter is taken as continuous (the value is the energy at the read) until a read returns the
 * same value as the one before it while the meter drew power: from then on it is a step
 * function, and the longest time one value was seen unchanged is a lower bound on its period.
 * Two consecutive updates each located between two close reads are exactly one period apart
 * (a bracket narrower than the period holds one update): that starts the grid; every located
 * update then refines it (least squares with forgetting, outliers rejected), and updates seen
 * only through wide brackets are placed on the grid.  Not a sampler: it only reasons over reads.
 */
#include "counter.h"

#include <math.h>
#include <string.h>

#define MS 1e6                  /* ns */
#define FORGET 0.995            /* weight kept per new located update */
#define LOCATE_MAX_NS (15 * MS) /* a bracket at most this wide locates an update */

/* ---- the grid -------------------------------------------------------------------------- */

static void grid_reset(struct jb__grid *g)
{
    memset(g, 0, sizeof(*g));
}

static double grid_sigma(const struct jb__grid *g)
{
    double s = sqrt(g->resid2), h = g->half_ns / sqrt(3.0);

    return s > h ? s : h;
}

/* Moves the sums' origin to (n_ref + dn, t_ref + dt). */
static void grid_shift(struct jb__grid *g, double dn, double dt)
{
    double s1 = g->s1, t0 = g->t0;

    g->t1 = g->t1 - dt * s1 - dn * t0 + dn * dt * g->s0;
    g->s2 = g->s2 - 2 * dn * s1 + dn * dn * g->s0;
    g->s1 = s1 - dn * g->s0;
    g->t0 = t0 - dt * g->s0;
}

static void grid_solve(struct jb__grid *g)
{
    double det = g->s0 * g->s2 - g->s1 * g->s1;

    if (g->points >= 2 && det > 1e-9 * g->s0 * g->s0) {
        g->period_ns = (g->s0 * g->t1 - g->s1 * g->t0) / det;
        g->phase_ns = (g->t0 - g->period_ns * g->s1) / g->s0;
        if (g->period_ns <= 0)
            grid_reset(g);
    }
}

/* Predicted time of update n, relative to t_ref (ns). */
static double grid_at(const struct jb__grid *g, int64_t n)
{
    return g->phase_ns + (double)(n - g->n_ref) * g->period_ns;
}

/*
 * Adds a located update: centre c (ns), half-width h, index n (already assigned).  A point far
 * off the fit is rejected; three in a row restart the grid from the newest.
 */
static void grid_add(struct jb__grid *g, uint64_t c_ns, double h_ns, int64_t n)
{
    double dt = (double)((int64_t)(c_ns - g->t_ref_ns)), dn;

    if (g->points && g->period_ns > 0) {
        double r = dt - grid_at(g, n), lim = 5 * grid_sigma(g) + h_ns;
        if (lim < 2 * MS)
            lim = 2 * MS;
        if (lim > g->period_ns / 4)
            lim = g->period_ns / 4;
        if (fabs(r) > lim) {
            if (++g->rejects >= 3) {
                grid_reset(g);
                goto first;
            }
            return;
        }
        g->rejects = 0;
        g->resid2 = g->points >= 3 ? 0.9 * g->resid2 + 0.1 * r * r : r * r;
    }
    if (!g->points)
        goto first;
    dn = (double)(n - g->n_ref);
    grid_shift(g, dn, dt);
    g->s0 *= FORGET;
    g->s1 *= FORGET;
    g->s2 *= FORGET;
    g->t0 *= FORGET;
    g->t1 *= FORGET;
    g->phase_ns -= dt;
    g->s0 += 1;
    g->n_ref = n;
    g->t_ref_ns = c_ns;
    g->points++;
    g->half_ns = 0.8 * g->half_ns + 0.2 * h_ns;
    g->last_n = n;
    grid_solve(g);
    return;
first:
    g->points = 1;
    g->n_ref = n;
    g->last_n = n;
    g->t_ref_ns = c_ns;
    g->s0 = 1;
    g->s1 = g->s2 = g->t0 = g->t1 = 0;
    g->period_ns = 0;
    g->phase_ns = 0;
    g->half_ns = h_ns;
}

/* ---- the counter ----------------------------------------------------------------------- */

void jb__counter_init(struct jb__counter *c)
{
    memset(c, 0, sizeof(*c));
}

double jb__counter_period_ns(const struct jb__counter *c)
{
    return c->grid.points >= 2 ? c->grid.period_ns : 0;
}

double jb__counter_jitter_ns(const struct jb__counter *c)
{
    return c->grid.points >= 3 ? sqrt(c->grid.resid2) : 0;
}

double jb__counter_grid_tol_ns(const struct jb__counter *c)
{
    return 3 * grid_sigma(&c->grid) + 0.5 * MS;
}

int jb__counter_grid_point(const struct jb__counter *c, double t_ns, double *g_ns, int64_t *n)
{
    const struct jb__grid *g = &c->grid;
    double rel, k;

    if (jb__counter_period_ns(c) <= 0)
        return 0;
    rel = t_ns - (double)g->t_ref_ns + jb__counter_grid_tol_ns(c) - g->phase_ns;
    k = floor(rel / g->period_ns);
    *n = g->n_ref + (int64_t)k;
    *g_ns = (double)g->t_ref_ns + grid_at(g, *n);
    return 1;
}

/* Longest plausible period, for bounding an update by (b - P, b]. */
static double period_upper_ns(const struct jb__counter *c)
{
    double p = jb__counter_period_ns(c);

    if (p > 0)
        return p + jb__counter_grid_tol_ns(c);
    return 1.2 * c->stale_max_ns + 1 * MS;
}

static uint64_t sub_clamp(uint64_t t, double d)
{
    return d >= (double)t ? 0 : t - (uint64_t)d;
}

/* Places the update of a new value first read at b (previous read at a, 0 when none). */
static void place(struct jb__counter *c, uint64_t a, uint64_t b, struct jb__anchor *out)
{
    double pu = period_upper_ns(c), g, tol;
    uint64_t lo = a;
    int64_t n;
    int located;

    out->a_ns = a;
    out->b_ns = b;
    out->flags = 0;
    if (!c->stepped) {
        out->u_ns = out->lo_ns = out->hi_ns = b;
        out->flags = JB_ANCHOR_EXACT | (a ? 0 : JB_ANCHOR_FIRST);
        c->prev_located = 0;
        return;
    }
    if (!a || (double)(b - a) > pu)
        lo = sub_clamp(b, pu);
    if (!a)
        out->flags |= JB_ANCHOR_FIRST;
    located = a && (double)(b - a) <= LOCATE_MAX_NS && (double)(b - a) <= 0.25 * c->stale_max_ns;
    if (located) {
        uint64_t mid = a + (b - a) / 2;
        double h = (double)(b - a) / 2;
        if (c->prev_located && c->grid.points)
            n = c->grid.last_n + 1;
        else if (!jb__counter_grid_point(c, (double)mid, &g, &n))
            n = 0; /* (re)starts the grid */
        if (!c->prev_located && c->grid.points && jb__counter_period_ns(c) <= 0)
            grid_reset(&c->grid); /* one point and no way to number this one: start again */
        grid_add(&c->grid, mid, h, n);
        c->located++;
        out->flags |= JB_ANCHOR_LOCATED;
    }
    c->prev_located = located;
    if (jb__counter_grid_point(c, (double)b, &g, &n)) {
        uint64_t gl, gh;
        tol = jb__counter_grid_tol_ns(c);
        gl = g - tol <= 0 ? 0 : (uint64_t)(g - tol);
        gh = g + tol <= 0 ? 0 : (uint64_t)(g + tol);
        if (gl < lo)
            gl = lo;
        if (gh > b)
            gh = b;
        if (gl <= gh) {
            double u = g < (double)gl ? (double)gl : g > (double)gh ? (double)gh : g;
            out->u_ns = (uint64_t)u;
            out->lo_ns = gl;
            out->hi_ns = gh;
            out->flags |= JB_ANCHOR_GRID;
            return;
        }
    }
    out->lo_ns = lo;
    out->hi_ns = b;
    out->u_ns = lo + (b - lo) / 2;
}

int jb__counter_feed(struct jb__counter *c, uint64_t t_ns, double v_j, int powered,
                     struct jb__anchor *out)
{
    uint64_t a;

    if (!c->have) {
        c->have = 1;
        c->last_t_ns = c->level_b_ns = t_ns;
        c->last_v = v_j;
        place(c, 0, t_ns, out);
        out->v_j = v_j;
        return 1;
    }
    if (t_ns < c->last_t_ns || v_j < c->last_v)
        return -1;
    if (v_j == c->last_v) {
        if (t_ns > c->last_t_ns && powered) {
            c->level_stale = 1;
            c->stepped = 1;
        }
        c->last_t_ns = t_ns;
        return 0;
    }
    a = c->last_t_ns;
    if (c->level_stale && (double)(a - c->level_b_ns) > c->stale_max_ns)
        c->stale_max_ns = (double)(a - c->level_b_ns);
    c->level_stale = 0;
    c->level_b_ns = c->last_t_ns = t_ns;
    c->last_v = v_j;
    c->updates++;
    place(c, a, t_ns, out);
    out->v_j = v_j;
    return 1;
}

/* ---- the read schedule ----------------------------------------------------------------- */

#define ACQUIRE_SPACING_NS (2 * MS) /* at most one read per 2 ms while acquiring */
#define ACQUIRE_MAX_NS (1200 * MS)  /* give up finding the grid after this */
#define CONTINUOUS_READS 8          /* this many reads, all changed: a continuous counter */
#define EARLY_EVERY 5               /* a read just before every 5th update */
#define AFTER_RETRY_NS (2 * MS)

void jb__lock_init(struct jb__lock *l, uint64_t now_ns, uint64_t interval_ns)
{
    memset(l, 0, sizeof(*l));
    jb__counter_init(&l->c);
    l->state = JB_LOCK_ACQUIRE;
    l->interval_ns = interval_ns;
    l->start_ns = now_ns;
    l->next_fixed_ns = now_ns + interval_ns;
}

static double lock_eps_ns(const struct jb__lock *l)
{
    double e = 2 * MS + 2 * grid_sigma(&l->c.grid);

    return e > 10 * MS ? 10 * MS : e;
}

/* Updates between locked reads: the requested cadence in whole periods (at least one). */
static int64_t lock_stride(const struct jb__lock *l)
{
    double p = jb__counter_period_ns(&l->c);
    int64_t k = p > 0 ? (int64_t)floor((double)l->interval_ns / p + 0.5) : 1;

    return k < 1 ? 1 : k;
}

static void lock_acquire(struct jb__lock *l, uint64_t now_ns)
{
    l->state = JB_LOCK_ACQUIRE;
    l->start_ns = now_ns;
    l->acquire_reads = l->acquire_changes = 0;
    l->reacquired++;
}

/* Picks the next update to read after, from the grid. */
static void lock_target(struct jb__lock *l, uint64_t now_ns)
{
    double g;
    int64_t n, k = lock_stride(l);

    jb__counter_grid_point(&l->c, (double)now_ns, &g, &n);
    n++;
    if (k > 1)
        n += (k - (n % k + k) % k) % k;
    l->target_n = n;
    l->early_done = 0;
    l->after_tries = 0;
    l->target_v = l->c.last_v;
}

static double target_time(const struct jb__lock *l)
{
    const struct jb__grid *g = &l->c.grid;

    return (double)g->t_ref_ns + grid_at(g, l->target_n);
}

uint64_t jb__lock_next(struct jb__lock *l, uint64_t now_ns)
{
    switch (l->state) {
    case JB_LOCK_ACQUIRE: {
        uint64_t t = l->last_read_ns + (uint64_t)ACQUIRE_SPACING_NS;
        return t > now_ns ? t : now_ns;
    }
    case JB_LOCK_LOCKED: {
        double tt = target_time(l), eps = lock_eps_ns(l), t;
        if (l->after_tries)
            t = (double)l->last_read_ns + AFTER_RETRY_NS;
        else if (!l->early_done && l->target_n % EARLY_EVERY == 0)
            t = tt - eps;
        else
            t = tt + eps;
        return t > (double)now_ns ? (uint64_t)t : now_ns;
    }
    case JB_LOCK_FIXED:
    default:
        while (l->next_fixed_ns < now_ns)
            l->next_fixed_ns += l->interval_ns;
        return l->next_fixed_ns;
    }
}

int jb__lock_feed(struct jb__lock *l, uint64_t t_ns, double v_j)
{
    struct jb__anchor a;
    int rc = jb__counter_feed(&l->c, t_ns, v_j, 1, &a);

    if (rc < 0)
        return rc;
    l->last_read_ns = t_ns;
    switch (l->state) {
    case JB_LOCK_ACQUIRE:
        l->acquire_reads++;
        l->acquire_changes += rc;
        if (!l->c.stepped && l->acquire_reads >= CONTINUOUS_READS) {
            l->state = JB_LOCK_FIXED; /* every read changed: continuous */
            l->next_fixed_ns = t_ns + l->interval_ns;
        } else if (jb__counter_period_ns(&l->c) > 0 && l->c.grid.points >= 3) {
            l->state = JB_LOCK_LOCKED;
            lock_target(l, t_ns);
        } else if (t_ns - l->start_ns > (uint64_t)ACQUIRE_MAX_NS) {
            l->state = JB_LOCK_FIXED; /* no grid found: the plain cadence */
            l->next_fixed_ns = t_ns + l->interval_ns;
        }
        break;
    case JB_LOCK_LOCKED: {
        double tt = target_time(l), eps = lock_eps_ns(l), p = jb__counter_period_ns(&l->c);
        if (p <= 0) {
            lock_acquire(l, t_ns);
            break;
        }
        if ((double)t_ns < tt - eps / 2) {
            /* A read before the target (the early read, or one at a phase bound). */
            if (!l->early_done && l->target_n % EARLY_EVERY == 0 && (double)t_ns > tt - 2 * eps) {
                l->early_done = 1;
                if (rc) { /* the update came earlier than the grid says */
                    if (++l->early_late >= 3)
                        lock_acquire(l, t_ns);
                    else
                        lock_target(l, t_ns);
                } else {
                    l->early_late = 0;
                }
            }
            break;
        }
        if (v_j != l->target_v) {
            lock_target(l, t_ns); /* fresh: on to the next update */
        } else if ((double)t_ns - tt > p / 2) {
            lock_acquire(l, t_ns); /* the update never came where expected */
        } else {
            l->after_tries++;
        }
        break;
    }
    case JB_LOCK_FIXED: break;
    }
    return rc;
}
