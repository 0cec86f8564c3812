/*
 * estimate.c - one meter's side of the phase accountant (phases.c): its readings, the counter's
 * anchors and the shape of the energy between them, and everything a phase bound or a phase
 * needs from them (the counter-anchored estimate C(t) and its bounds, the power integral, peaks,
 * the aliasing windows).  See phases.c for the method and include/joulebench.h for what each
 * number means.  Knows nothing of phases: it answers for times.
 *
 * Between two anchors the increment is spread by a shape chosen once per interval (the power
 * readings for an exact counter; one step between the neighbouring intervals' mean powers, or
 * uniform, for a step function), so the estimate C(t) is one fixed function: phases that tile a
 * span add up to it exactly.  Peak power over a phase whose beginning has been let go comes from
 * a stack of the let-go readings that are greater than every later one; over the kept readings
 * from block maxima.
 */
#include "estimate.h"
#include "grow.h"

#include "meter.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STALL_NS (5ull * 1000000000ull) /* a step counter unchanged this long: stop waiting */
#define STEP_MIN_REL 0.15               /* neighbour means must differ by this for a step */
#define NOPOS ((size_t)-1)

enum { SHAPE_NONE = 0, SHAPE_UNIFORM, SHAPE_STEP, SHAPE_POWER };

#define ANCHOR_REPLACE 0x100u /* placed before the counter was known to be a step function */
#define SETTLE_NS (1500ull * 1000000ull) /* how long a step counter's grid is waited for */
#define GAP_NS (150ull * 1000000ull)     /* reads further apart may straddle hidden updates */

static double ns_s(double ns)
{
    return ns / 1e9;
}

static double pwr_val(const void *ctx, uint64_t x)
{
    const struct jb__est *ms = ctx;

    return ms->p[x - ms->p_base].w;
}

static double mean_val(const void *ctx, uint64_t x)
{
    const struct jb__est *ms = ctx;
    double v = ms->a[x - ms->a_base].mean_w;

    return isfinite(v) ? v : -INFINITY;
}

/* ---- power series ------------------------------------------------------------------------ */

/* Index of the last reading at or before t, or p_head - 1 (as SIZE_MAX when p_head is 0). */
static size_t pwr_find(uint64_t *work, const struct jb__est *ms, uint64_t t)
{
    size_t lo = ms->p_head, hi = ms->p_n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        (*work)++;
        if (ms->p[mid].t <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1; /* wraps to SIZE_MAX below p_head == 0, checked by callers */
}

/* The power integral's cumulative value at t (J), held flat outside the readings. */
double jb__est_pwr_cum(uint64_t *work, const struct jb__est *ms, uint64_t t, int *partial)
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
    i = pwr_find(work, ms, t);
    f = (double)(t - ms->p[i].t) / (double)(ms->p[i + 1].t - ms->p[i].t);
    w = ms->p[i].w + (ms->p[i + 1].w - ms->p[i].w) * f;
    return ms->p[i].cum + ns_s((double)(t - ms->p[i].t)) * (ms->p[i].w + w) / 2;
}

static void note_range(struct jb__est *ms, double w)
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

/* Index (into ms->a) of the first anchor placed after t; a_n when none. */
static size_t anc_after(uint64_t *work, const struct jb__est *ms, uint64_t t)
{
    size_t lo = ms->a_head, hi = ms->a_n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        (*work)++;
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

static void set_mean(struct jb__est *ms, size_t k)
{
    struct anc *x = &ms->a[k];
    const struct anc *prev;
    double d_ns;

    x->mean_w = NAN;
    if (k <= ms->a_head) {
        jb__blk_put(&ms->a_blk, ms->a_base + k, x->mean_w);
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
    jb__blk_put(&ms->a_blk, ms->a_base + k, x->mean_w);
}

/*
 * Two anchors of one counter are different updates, a period apart: an anchor placed on the grid
 * point at its read b while the next anchor's update is that very point (the read at b came just
 * before it, within the grid's tolerance) belongs to the grid point before.  Seen under valgrind:
 * a value first read 3 ms before the next update, after a 0.4 s stall, placed on that next update
 * moved 28 J (one update at 300 W) across a phase bound.  From the newest anchor back to `start`,
 * for anchors not located between close reads.
 */
static void separate_anchors(uint64_t *work, struct jb__est *ms, size_t start)
{
    double half = jb__counter_period_ns(&ms->ctr) / 2;

    if (ms->a_n < 2)
        return;
    for (size_t k = ms->a_n - 1; k-- > start;) {
        struct anc *x = &ms->a[k];
        const struct anc *y = &ms->a[k + 1];
        (*work)++;
        if ((x->a.flags & JB_ANCHOR_LOCATED) || !anc_placed(y) ||
            (double)x->a.u_ns + half <= (double)y->a.u_ns || (double)y->a.u_ns <= half)
            continue;
        jb__counter_position_before(&ms->ctr, x->a.a_ns, x->a.b_ns,
                                    (uint64_t)((double)y->a.u_ns - half), &x->a);
        if (k > ms->a_head && x->a.u_ns <= ms->a[k - 1].a.u_ns)
            x->a.u_ns = ms->a[k - 1].a.u_ns + 1;
        set_mean(ms, k);
        set_mean(ms, k + 1);
    }
}

/*
 * Places again the anchors that the readings since have placed better: those made while the
 * counter still looked exact (once it shows steps), and, once there is an update grid, every
 * update not located between two close reads (the grid's fit improves with each located update,
 * and one placed on an early fit can be off by several milliseconds per update since).  Only
 * anchors no bound evaluated so far depends on: moving anchor k changes the estimate from anchor
 * k-2 on (through the means the shapes use), so phases already resolved still tile with the ones
 * to come.  Called before each bound; the anchors it looks at are those after the latest one.
 */
static void settle_anchors(uint64_t *work, struct jb__est *ms)
{
    int grid = ms->ctr.stepped && jb__counter_period_ns(&ms->ctr) > 0;
    size_t k = ms->a_head, start;

    if (!ms->to_replace && !grid)
        return;
    ms->to_replace = 0;
    if (ms->bounded)
        k = anc_after(work, ms, ms->bound_t) + 2;
    start = k;
    for (; k < ms->a_n; k++) {
        struct anc *x = &ms->a[k];
        (*work)++;
        if (!(x->a.flags & ANCHOR_REPLACE) && !(grid && !(x->a.flags & JB_ANCHOR_LOCATED)))
            continue;
        jb__counter_position(&ms->ctr, x->a.a_ns, x->a.b_ns, &x->a);
        if (k > ms->a_head && x->a.u_ns <= ms->a[k - 1].a.u_ns)
            x->a.u_ns = ms->a[k - 1].a.u_ns + 1;
        set_mean(ms, k);
        if (k + 1 < ms->a_n)
            set_mean(ms, k + 1);
    }
    if (grid)
        separate_anchors(work, ms, start);
}

/* Chooses, once, how the increment of the interval ending at anchor k is spread. */
static void decide_shape(uint64_t *work, struct jb__est *ms, size_t k)
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
        double i0 = jb__est_pwr_cum(work, ms, P->a.u_ns, &part),
               i1 = jb__est_pwr_cum(work, ms, A->a.u_ns, &part);
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
static double interval_part(uint64_t *work, struct jb__est *ms, size_t k, uint64_t t)
{
    struct anc *A = &ms->a[k], *P = &ms->a[k - 1];
    double dv = A->a.v_j - P->a.v_j, d_ns = (double)(A->a.u_ns - P->a.u_ns);
    double x = (double)(t - P->a.u_ns);

    decide_shape(work, ms, k);
    switch (A->shape) {
    case SHAPE_STEP: {
        double s = A->s_ns - (double)P->a.u_ns;
        return x <= s ? A->la * ns_s(x) : A->la * ns_s(s) + A->lb * ns_s(x - s);
    }
    case SHAPE_POWER: {
        int part = 0;
        double i = jb__est_pwr_cum(work, ms, t, &part);
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
static void counter_bounds(struct jb__est *ms, size_t k, uint64_t t, double plo, double phi,
                           double *lo, double *hi)
{
    size_t j0 = k >= ms->a_head + 2 ? k - 2 : ms->a_head,
           j1 = k + 1 < ms->a_n ? k + 1 : ms->a_n - 1;

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
static void power_range(const struct jb__est *ms, double *plo, double *phi)
{
    if (!ms->have_range || ms->w_flagged || ms->ctr.stepped) {
        *plo = 0;
        *phi = INFINITY;
        return;
    }
    *plo = 0.9 * ms->pmin;
    *phi = 1.1 * ms->pmax + 1.0;
}

/* Everything a bound at t needs from one meter. */
void jb__est_bound(uint64_t *work, struct jb__est *ms, uint64_t t, struct jb__bound *b)
{
    size_t k;

    memset(b, 0, sizeof(*b));
    settle_anchors(work, ms);
    if (!ms->bounded || t > ms->bound_t)
        ms->bound_t = t;
    ms->bounded = 1;
    if (ms->a_n > ms->a_head) {
        double plo, phi;
        k = anc_after(work, ms, t);
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
            b->c = ms->a[k - 1].a.v_j + interval_part(work, ms, k, t);
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
        b->icum = jb__est_pwr_cum(work, ms, t, &b->part_p);
    }
    b->flagged_before = jb__alias_flagged_before(work, ms, t);
}

/* Whether a bound at t can be evaluated on this meter with all the readings it will use. */
int jb__est_complete(uint64_t *work, struct jb__est *ms, uint64_t t)
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
        } else if (ms->e_last_t < t || (ms->e_gap && ms->e_last_t < ms->e_first_t + SETTLE_NS)) {
            /* A counter that has not yet shown a stale read may still be a step function.  When
             * the host stalled the sampler in the counter's first SETTLE_NS (seen under
             * valgrind: a gap wider than an update period), reads around the gap straddle
             * several updates, and a bound placed on them as if the counter were exact would
             * miss the energy of the updates to come: every bound then waits out the first
             * SETTLE_NS (all of them then rest on one model of the counter), so that the
             * reads can show which it is. */
            return 0;
        }
    }
    if (ms->p_seen) {
        uint64_t need = t;
        if (ms->e_seen && !ms->ctr.stepped && ms->a_n > ms->a_head) {
            size_t k = anc_after(work, ms, t);
            if (k > ms->a_head && k < ms->a_n)
                need = ms->a[k].a.u_ns; /* the power shape spans the whole interval */
        }
        if (ms->p_n == ms->p_head || ms->p[ms->p_n - 1].t < need)
            return 0;
    }
    return 1;
}

static double peak_in(uint64_t *work, struct jb__est *ms, uint64_t t0, uint64_t t1, int *ok)
{
    double best = -INFINITY, v;
    size_t i, j;

    *ok = 0;
    if (ms->p_n == ms->p_head)
        return 0;
    if (t0 < ms->p[ms->p_head].t && jb__stack_max_from(&ms->p_old, t0, &v)) {
        best = v;
        *ok = 1;
    }
    i = pwr_find(work, ms, t0);
    i = i == NOPOS || i < ms->p_head ? ms->p_head : ms->p[i].t == t0 ? i : i + 1;
    j = pwr_find(work, ms, t1);
    if (j != NOPOS && j >= ms->p_head && i <= j) {
        v = jb__blk_range_max(work, &ms->p_blk, ms->p_base + i, ms->p_base + j, pwr_val, ms);
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

static double peak_interval(uint64_t *work, struct jb__est *ms, uint64_t t0, uint64_t t1, int *ok)
{
    double best = -INFINITY, v;
    size_t k0, k1;

    *ok = 0;
    if (ms->a_n == ms->a_head)
        return 0;
    if (t0 < ms->a[ms->a_head].a.u_ns && jb__stack_max_from(&ms->a_old, t0 + 1, &v)) {
        best = v;
        *ok = 1;
    }
    /* The intervals ending after t0, up to the one holding t1. */
    k0 = anc_after(work, ms, t0);
    k1 = t1 > 0 ? anc_after(work, ms, t1 - 1) : k0;
    if (k1 >= ms->a_n)
        k1 = ms->a_n - 1;
    if (k0 <= k1) {
        v = jb__blk_range_max(work, &ms->a_blk, ms->a_base + k0, ms->a_base + k1, mean_val, ms);
        if (v > best) {
            best = v;
            *ok = 1;
        }
    }
    return best;
}

void jb__est_result(uint64_t *work, struct jb__est *ms, const struct jb__bound *begin,
                    uint64_t t_begin_ns, uint64_t t_end_ns, struct jb_phase_result *r,
                    int *partial_out)
{
    struct jb__bound b0s = *begin, b1;
    const struct jb__bound *b0 = &b0s;
    double dur_s = ns_s((double)(t_end_ns - t_begin_ns)), v;
    int partial = 0, ok;

    jb__est_bound(work, ms, t_end_ns, &b1);
    if ((!b0s.have_e && b1.have_e) || (!b0s.have_p && b1.have_p)) {
        /* The meter had no readings yet when the begin was evaluated: evaluate it again with
         * what came since (held before the first, so partial). */
        struct jb__bound nb;
        jb__est_bound(work, ms, t_begin_ns, &nb);
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
        /* Not a phase the readings do not cover: what lies outside them is not known. */
        if (!partial && ms->have_range && r->energy_j < ms->pmin * dur_s * (1 - 1e-9)) {
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
            if ((double)(t_end_ns - t_begin_ns) < 2 * per)
                r->flags |= JB_PHASE_FLAG_RESOLUTION;
        }
        r->update_period_s = ns_s(jb__counter_period_ns(&ms->ctr));
        v = peak_interval(work, ms, t_begin_ns, t_end_ns, &ok);
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
        v = peak_in(work, ms, t_begin_ns, t_end_ns, &ok);
        if (ok) {
            r->peak_power_w = v;
            r->peak_power_source = ms->p_src;
            r->valid |= JB_PHASE_PEAK;
        }
    }
    if ((r->valid & JB_PHASE_ENERGY) && (r->valid & JB_PHASE_ENERGY_POWER) && r->energy_j > 0) {
        r->power_rel_diff = (r->energy_j_power - r->energy_j) / r->energy_j;
        r->valid |= JB_PHASE_POWER_DIFF;
        if (jb__alias_phase(work, ms, t_begin_ns, t_end_ns, b0, &b1, r->power_rel_diff))
            r->flags |= JB_PHASE_FLAG_ALIASING;
    }
    *partial_out = partial;
}

void jb__est_prune(uint64_t *work, struct jb__est *ms, uint64_t h)
{
    size_t k = ms->a_head, keep_a;
    uint64_t keep_t = h;

    /* Anchors: two before the interval holding h stay, for its shape and bounds. */
    while (k < ms->a_n && ms->a[k].a.u_ns < h)
        k++;
    keep_a = k >= ms->a_head + 3 ? k - 3 : ms->a_head;
    for (; ms->a_head < keep_a; ms->a_head++) {
        (*work)++;
        if (isfinite(ms->a[ms->a_head].mean_w))
            jb__stack_push(work, &ms->a_old, ms->a[ms->a_head].a.u_ns, ms->a[ms->a_head].mean_w);
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
        (*work)++;
        jb__stack_push(work, &ms->p_old, ms->p[ms->p_head].t, ms->p[ms->p_head].w);
        ms->p_head++;
    }
    jb__blk_drop_level(&ms->p_blk.l1, (ms->p_base + ms->p_head) / BLK1);
    jb__blk_drop_level(&ms->p_blk.l2, (ms->p_base + ms->p_head) / BLK2);
    jb__blk_drop_level(&ms->a_blk.l1, (ms->a_base + ms->a_head) / BLK1);
    jb__blk_drop_level(&ms->a_blk.l2, (ms->a_base + ms->a_head) / BLK2);
    if (ms->p_head > 64 && ms->p_head * 2 > ms->p_n) {
        memmove(ms->p, ms->p + ms->p_head, (ms->p_n - ms->p_head) * sizeof(*ms->p));
        ms->p_n -= ms->p_head;
        ms->p_base += ms->p_head;
        ms->p_head = 0;
    }
    while (ms->w_n > ms->w_head && ms->w[ms->w_head].t1 < h) {
        (*work)++;
        ms->w_head++;
    }
    if (ms->w_head > 64 && ms->w_head * 2 > ms->w_n) {
        memmove(ms->w, ms->w + ms->w_head, (ms->w_n - ms->w_head) * sizeof(*ms->w));
        ms->w_n -= ms->w_head;
        ms->w_head = 0;
    }
}

static int add_anchor(struct jb__est *ms, const struct jb__anchor *a)
{
    struct anc *x;

    if (JB_GROW(ms->a, ms->a_cap, ms->a_n) < 0)
        return -1;
    x = &ms->a[ms->a_n];
    memset(x, 0, sizeof(*x));
    x->a = *a;
    ms->a_n++;
    set_mean(ms, ms->a_n - 1);
    return 0;
}

int jb__est_add_energy(uint64_t *work, struct jb__est *ms, uint64_t t_ns, double v_j, char *err,
                       size_t errlen)
{
    struct jb__anchor a;
    int rc, powered;

    if (ms->e_seen && t_ns < ms->e_last_t) {
        snprintf(err, errlen, "reading out of time order (%llu ns after %llu ns)",
                 (unsigned long long)t_ns, (unsigned long long)ms->e_last_t);
        return JB_EINVAL;
    }
    if (ms->e_seen && v_j < ms->ctr.last_v) {
        snprintf(err, errlen, "energy counter went down (%.6f J after %.6f J)", v_j,
                 ms->ctr.last_v);
        return JB_EINVAL;
    }
    powered = !ms->p_seen || (ms->p_n > ms->p_head && ms->p[ms->p_n - 1].w > 0);
    rc = jb__counter_feed(&ms->ctr, t_ns, v_j, powered, &a);
    if (!ms->e_seen)
        ms->e_first_t = t_ns;
    else if (t_ns - ms->e_last_t > GAP_NS && t_ns < ms->e_first_t + SETTLE_NS)
        ms->e_gap = 1;
    ms->e_seen = 1;
    ms->e_last_t = t_ns;
    if (ms->ctr.stepped && !ms->was_stepped) {
        ms->was_stepped = 1;
        for (size_t k = ms->a_head; k < ms->a_n; k++) {
            ms->a[k].a.flags |= ANCHOR_REPLACE;
            ms->to_replace = 1;
        }
    }
    if (rc == 1 && add_anchor(ms, &a) < 0) {
        snprintf(err, errlen, "out of memory");
        return JB_ENOMEM;
    }
    ms->stats.stepped = ms->ctr.stepped;
    ms->stats.updates = ms->ctr.updates;
    ms->stats.located_updates = ms->ctr.located;
    ms->stats.update_period_s = ns_s(jb__counter_period_ns(&ms->ctr));
    ms->stats.update_jitter_s = ns_s(jb__counter_jitter_ns(&ms->ctr));
    ms->stats.grid = jb__counter_period_ns(&ms->ctr) > 0;
    jb__alias_check(work, ms);
    return 0;
}

int jb__est_add_power(uint64_t *work, struct jb__est *ms, uint64_t t, double w, unsigned src,
                      char *err, size_t errlen)
{
    struct pwr *x;

    if (ms->p_seen && t < ms->p[ms->p_n - 1].t) {
        snprintf(err, errlen, "reading out of time order (%llu ns after %llu ns)",
                 (unsigned long long)t, (unsigned long long)ms->p[ms->p_n - 1].t);
        return JB_EINVAL;
    }
    if (JB_GROW(ms->p, ms->p_cap, ms->p_n) < 0) {
        snprintf(err, errlen, "out of memory");
        return JB_ENOMEM;
    }
    x = &ms->p[ms->p_n];
    x->t = t;
    x->w = w;
    x->cum = ms->p_n > ms->p_head
                 ? ms->p[ms->p_n - 1].cum +
                       ns_s((double)(t - ms->p[ms->p_n - 1].t)) * (w + ms->p[ms->p_n - 1].w) / 2
                 : 0;
    jb__blk_put(&ms->p_blk, ms->p_base + ms->p_n, w);
    ms->p_n++;
    ms->p_seen = 1;
    ms->p_src = src;
    note_range(ms, w);
    ms->stats.idle_power_w = ms->pmin;
    ms->stats.max_power_w = ms->pmax;
    jb__alias_check(work, ms);
    return 0;
}

void jb__est_init(struct jb__est *ms)
{
    memset(ms, 0, sizeof(*ms));
    jb__counter_init(&ms->ctr);
}

void jb__est_free(struct jb__est *ms)
{
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

const struct jb_phases_meter_stats *jb__est_stats(struct jb__est *ms)
{
    ms->stats.idle_power_w = ms->pmin;
    ms->stats.max_power_w = ms->pmax;
    return &ms->stats;
}
