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

/* Spread of the located updates about the fit (ns): their own jitter and where in their
 * brackets they lay; never below the brackets' own spread or 0.3 ms. */
static double grid_sigma(const struct jb__grid *g)
{
    double h = g->half_ns / sqrt(3.0), s = 0;

    if (g->points >= 3 && g->s0 > 2) {
        double p = g->period_ns, f = g->phase_ns;
        double rss = g->scc - 2 * (f * g->t0 + p * g->t1) + f * f * g->s0 + 2 * f * p * g->s1 +
                     p * p * g->s2;
        s = rss > 0 ? sqrt(rss / (g->s0 - 2 > 1 ? g->s0 - 2 : 1)) : 0;
    }
    if (s < h)
        s = h;
    return s < 0.3 * MS ? 0.3 * MS : s;
}

/* Moves the sums' origin to (n_ref + dn, t_ref + dt). */
static void grid_shift(struct jb__grid *g, double dn, double dt)
{
    double s1 = g->s1, t0 = g->t0;

    g->scc = g->scc - 2 * dt * t0 + dt * dt * g->s0;
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

/* Standard deviation of where update n falls (ns): its own spread about the grid plus the fit's
 * phase and period errors (least squares, from the sums). */
static double grid_pred_sd(const struct jb__grid *g, int64_t n)
{
    double det = g->s0 * g->s2 - g->s1 * g->s1, sig = grid_sigma(g), dn, nbar, v;

    if (g->points < 2 || det <= 0 || g->s0 <= 0)
        return g->period_ns > 0 ? g->period_ns : 1e12;
    nbar = g->s1 / g->s0;
    dn = (double)(n - g->n_ref) - nbar;
    v = sig * sig * (1 + 1 / g->s0 + dn * dn * g->s0 / det);
    return sqrt(v);
}

/*
 * Adds a located update: centre c (ns), half-width h, index n (already assigned).  A point far
 * off the fit is rejected; three in a row restart the grid from the newest.
 */
static void grid_add(struct jb__grid *g, uint64_t c_ns, double h_ns, int64_t n)
{
    double dt = (double)((int64_t)(c_ns - g->t_ref_ns)), dn;

    if (g->points && g->period_ns > 0) {
        /* Within a quarter period the index is right; beyond it, an outlier or a slip, unless
         * the fit itself is that uncertain there (a young grid from a few wide brackets, whose
         * period is off by a few per cent: rejecting what corrects it would keep it wrong). */
        double sd = grid_pred_sd(g, n), r = dt - grid_at(g, n), lim = g->period_ns / 4;
        if (4 * sd > lim)
            lim = 4 * sd < 0.45 * g->period_ns ? 4 * sd : 0.45 * g->period_ns;
        if (fabs(r) > lim) {
            if (++g->rejects >= 3) {
                grid_reset(g);
                goto first;
            }
            return;
        }
        g->rejects = 0;
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
    g->scc *= FORGET;
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
    g->s1 = g->s2 = g->t0 = g->t1 = g->scc = 0;
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
    return c->grid.points >= 3 ? grid_sigma(&c->grid) : 0;
}

double jb__counter_grid_tol_ns(const struct jb__counter *c, int64_t n)
{
    return 3 * grid_pred_sd(&c->grid, n) + 0.5 * MS;
}

int jb__counter_grid_point(const struct jb__counter *c, double t_ns, double *g_ns, int64_t *n)
{
    const struct jb__grid *g = &c->grid;
    double rel;

    if (jb__counter_period_ns(c) <= 0)
        return 0;
    rel = t_ns - (double)g->t_ref_ns - g->phase_ns;
    *n = g->n_ref + (int64_t)floor(rel / g->period_ns);
    /* The next grid point may still be the update seen at t, within its tolerance. */
    if (grid_at(g, *n + 1) - jb__counter_grid_tol_ns(c, *n + 1) <= t_ns - (double)g->t_ref_ns)
        (*n)++;
    *g_ns = (double)g->t_ref_ns + grid_at(g, *n);
    return 1;
}

/* Longest plausible period, for bounding an update by (b - P, b]. */
static double period_upper_ns(const struct jb__counter *c)
{
    double p = jb__counter_period_ns(c);

    if (p > 0)
        return p + 3 * grid_sigma(&c->grid) + 0.5 * MS;
    return 1.2 * c->stale_max_ns + 1 * MS;
}

static uint64_t sub_clamp(uint64_t t, double d)
{
    return d >= (double)t ? 0 : t - (uint64_t)d;
}

/* Where the update behind a value first read at b (last read of the previous value at a, 0 when
 * none) lies, from the bracket and the grid; touches nothing. */
void jb__counter_position(const struct jb__counter *c, uint64_t a, uint64_t b,
                          struct jb__anchor *out)
{
    jb__counter_position_before(c, a, b, b, out);
}

void jb__counter_position_before(const struct jb__counter *c, uint64_t a, uint64_t b,
                                 uint64_t before, struct jb__anchor *out)
{
    double pu = period_upper_ns(c), g, tol;
    uint64_t lo = a, t = before < b ? before : b;
    int64_t n;

    out->a_ns = a;
    out->b_ns = b;
    out->flags &= JB_ANCHOR_LOCATED;
    if (!a)
        out->flags |= JB_ANCHOR_FIRST;
    if (!c->stepped) {
        out->u_ns = out->lo_ns = out->hi_ns = b;
        out->flags |= JB_ANCHOR_EXACT;
        return;
    }
    if (!a || (double)(b - a) > pu)
        lo = sub_clamp(b, pu);
    if (jb__counter_grid_point(c, (double)t, &g, &n)) {
        uint64_t gl, gh;
        tol = jb__counter_grid_tol_ns(c, n);
        gl = g - tol <= 0 ? 0 : (uint64_t)(g - tol);
        gh = g + tol <= 0 ? 0 : (uint64_t)(g + tol);
        if (gl < lo)
            gl = lo;
        if (gh > t)
            gh = t;
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
    out->hi_ns = t > lo ? t : b;
    out->u_ns = lo + (out->hi_ns - lo) / 2;
}

/* The index of the grid point nearest t: 0 when there is no grid. */
static int grid_nearest(const struct jb__counter *c, double t_ns, int64_t *n)
{
    const struct jb__grid *g = &c->grid;

    if (jb__counter_period_ns(c) <= 0)
        return 0;
    *n = g->n_ref + (int64_t)floor((t_ns - (double)g->t_ref_ns - g->phase_ns) / g->period_ns + 0.5);
    return 1;
}

/* Locates a new value's update when its bracket is narrow (feeding the grid), then places it. */
static void place(struct jb__counter *c, uint64_t a, uint64_t b, struct jb__anchor *out)
{
    int located = c->stepped && a && (double)(b - a) <= LOCATE_MAX_NS &&
                  (double)(b - a) <= 0.25 * c->stale_max_ns;
    int64_t n = 0;

    out->flags = 0;
    if (located) {
        uint64_t mid = a + (b - a) / 2;
        if (c->prev_located)
            n = c->prev_n + 1;
        else if (!grid_nearest(c, (double)mid, &n))
            grid_reset(&c->grid); /* no way to number it against the grid: start again */
        grid_add(&c->grid, mid, (double)(b - a) / 2, n);
        c->prev_n = n;
        c->located++;
        out->flags = JB_ANCHOR_LOCATED;
    }
    c->prev_located = located;
    jb__counter_position(c, a, b, out);
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

#define SPACING_NS (2 * MS)         /* back-to-back reads: at most one per 2 ms */
#define ACQUIRE_MAX_NS (1200 * MS)  /* give up finding the grid after this */
#define RETRY_FIXED_NS (60000 * MS) /* a step counter on the fixed cadence: search again */
#define CONTINUOUS_READS 3 /* this many reads 2 ms apart, all changed: a continuous counter */
#define PROBE_EVERY 10     /* locate every 10th update between two close reads */
#define LOCK_SD_FRAC 0.05  /* lock when the next probe's update is predicted this well */

void jb__lock_init(struct jb__lock *l, uint64_t now_ns, uint64_t interval_ns)
{
    memset(l, 0, sizeof(*l));
    jb__counter_init(&l->c);
    l->state = JB_LOCK_ACQUIRE;
    l->interval_ns = interval_ns;
    l->start_ns = now_ns;
    l->next_fixed_ns = now_ns + interval_ns;
}

/* How far after the target update to read (a read that comes too early is repeated). */
static double lock_eps_ns(const struct jb__lock *l)
{
    double e = 1 * MS + grid_pred_sd(&l->c.grid, l->target_n);

    return e > 10 * MS ? 10 * MS : e;
}

/* How far before the target update a probe starts: surely before it. */
static double lock_early_ns(const struct jb__lock *l)
{
    double e = 2 * MS + 3 * grid_pred_sd(&l->c.grid, l->target_n);
    double p = jb__counter_period_ns(&l->c);

    return e > p / 2 ? p / 2 : e;
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
    grid_reset(&l->c.grid);
    l->c.prev_located = 0;
    l->state = JB_LOCK_ACQUIRE;
    l->start_ns = now_ns;
    l->acquire_reads = l->acquire_changes = 0;
    l->early_late = 0;
    l->reacquired++;
}

/*
 * Whether the grid is good enough to read by: three located updates, and the next probe's update
 * predicted within LOCK_SD_FRAC of a period (1 sd); after ACQUIRE_MAX_NS, three located updates
 * alone.  A grid from three wide brackets can be off by a few per cent in period (seen under
 * valgrind on a loaded machine: 103.7 ms for 100 ms), and the locked reads, each fresh, would not
 * show it for seconds.
 */
static int lock_ready(const struct jb__lock *l, uint64_t t_ns)
{
    const struct jb__grid *g = &l->c.grid;
    double p = jb__counter_period_ns(&l->c);

    if (p <= 0 || g->points < 3)
        return 0;
    return grid_pred_sd(g, g->last_n + PROBE_EVERY) <= LOCK_SD_FRAC * p ||
           t_ns - l->start_ns > (uint64_t)ACQUIRE_MAX_NS;
}

static int is_probe(const struct jb__lock *l)
{
    return (l->target_n % PROBE_EVERY + PROBE_EVERY) % PROBE_EVERY == 0;
}

/* Picks the next update to read after: the one after `seen` (the update just read). */
static void lock_target(struct jb__lock *l, int64_t seen)
{
    int64_t n = seen + 1, k = lock_stride(l);

    if (k > 1)
        n += (k - (n % k + k) % k) % k;
    l->target_n = n;
    l->early_done = 0;
    l->after_tries = 0;
    l->base_done = k == 1;
}

static double target_time(const struct jb__lock *l)
{
    const struct jb__grid *g = &l->c.grid;

    return (double)g->t_ref_ns + grid_at(g, l->target_n);
}

uint64_t jb__lock_next(struct jb__lock *l, uint64_t now_ns)
{
    double t;

    switch (l->state) {
    case JB_LOCK_ACQUIRE: t = (double)l->last_read_ns + SPACING_NS; break;
    case JB_LOCK_LOCKED:
        if (l->after_tries)
            t = (double)l->last_read_ns + SPACING_NS; /* until the update shows */
        else if (!l->early_done && is_probe(l) && !l->base_done)
            t = target_time(l) - jb__counter_period_ns(&l->c) / 2; /* past the ones between */
        else if (!l->early_done && is_probe(l))
            t = target_time(l) - lock_early_ns(l); /* just before it */
        else
            t = target_time(l) + lock_eps_ns(l); /* just after it */
        break;
    case JB_LOCK_FIXED:
    default:
        while (l->next_fixed_ns < now_ns)
            l->next_fixed_ns += l->interval_ns;
        return l->next_fixed_ns;
    }
    return t > (double)now_ns ? (uint64_t)t : now_ns;
}

int jb__lock_feed(struct jb__lock *l, uint64_t t_ns, double v_j)
{
    uint64_t prev_ns;
    struct jb__anchor a;
    int rc = jb__counter_feed(&l->c, t_ns, v_j, 1, &a);

    if (rc < 0)
        return rc;
    prev_ns = l->last_read_ns;
    l->last_read_ns = t_ns;
    switch (l->state) {
    case JB_LOCK_ACQUIRE:
        /* Changes in a row between reads at most 20 ms apart (the first read may be long
         * before the next, when the thread starts late). */
        l->acquire_changes = rc && l->acquire_reads && t_ns - prev_ns <= 20 * (uint64_t)MS
                                 ? l->acquire_changes + 1
                                 : 0;
        l->acquire_reads++;
        if (!l->c.stepped && l->acquire_changes >= CONTINUOUS_READS - 1) {
            l->state = JB_LOCK_FIXED; /* every read changed: continuous */
            l->next_fixed_ns = t_ns + l->interval_ns;
        } else if (lock_ready(l, t_ns)) {
            l->state = JB_LOCK_LOCKED;
            lock_target(l, l->c.grid.last_n);
        } else if (t_ns - l->start_ns > (uint64_t)ACQUIRE_MAX_NS) {
            l->state = JB_LOCK_FIXED; /* no grid found: the plain cadence */
            l->start_ns = t_ns;
            l->next_fixed_ns = t_ns + l->interval_ns;
        }
        break;
    case JB_LOCK_LOCKED: {
        double tt = target_time(l), p = jb__counter_period_ns(&l->c);
        if (p <= 0) {
            lock_acquire(l, t_ns);
            break;
        }
        double early = lock_early_ns(l);
        if (!l->base_done && is_probe(l) && (double)t_ns >= tt - p / 2 &&
            (double)t_ns < tt - early) {
            l->base_done = 1; /* the updates before the target are seen: a change now is it */
            break;
        }
        if (rc && (double)t_ns >= tt - early && (l->base_done || !is_probe(l))) {
            /* The target update has come: the read is fresh.  Had the read before it been
             * meant to come first, the update came early: the grid is late. */
            if (!l->early_done && is_probe(l))
                l->early_late = (double)t_ns < tt ? l->early_late + 1 : 0;
            if (l->early_late >= 2)
                lock_acquire(l, t_ns);
            else
                lock_target(l, l->target_n);
        } else if ((double)t_ns > tt + p / 2) {
            lock_acquire(l, t_ns); /* the update never came where expected */
        } else if (!l->early_done && is_probe(l) && !rc && (double)t_ns < tt &&
                   (double)t_ns >= tt - 2 * early) {
            l->early_done = 1; /* just before it, as meant: read on until it shows */
            l->early_late = 0;
            l->after_tries = 1;
        } else if ((double)t_ns >= tt) {
            l->after_tries++; /* not yet: read again */
        }
        break;
    }
    case JB_LOCK_FIXED:
        while (l->next_fixed_ns <= t_ns)
            l->next_fixed_ns += l->interval_ns; /* this tick is done */
        if (l->c.stepped && t_ns - l->start_ns > (uint64_t)RETRY_FIXED_NS)
            lock_acquire(l, t_ns);
        break;
    }
    return rc;
}
