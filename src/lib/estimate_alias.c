/*
 * estimate_alias.c - the aliasing check of one meter's estimator (estimate.c): the power
 * readings' integral against the counter over windows of WINDOW_UPDATES counter updates.  An
 * instant reading that samples a short window once per update aliases with a periodic load; a
 * window whose integral is off the counter by more than ALIAS_REL is flagged, and so are the
 * phases it overlaps (and a short phase just after it), as is a phase of at least
 * WINDOW_UPDATES updates that disagrees by as much itself (docs/METHODOLOGY.md, item 6).
 */
#include "estimate.h"
#include "grow.h"

#include <math.h>

#define WINDOW_UPDATES 10 /* updates per aliasing check window */
#define ALIAS_REL 0.25    /* power integral vs counter: aliasing above this */

/* Index of the first window ending after t (w_n when none). */
static size_t win_after(uint64_t *work, const struct jb__est *ms, uint64_t t)
{
    size_t lo = ms->w_head, hi = ms->w_n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        (*work)++;
        if (ms->w[mid].t1 <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of the first window beginning at or after t (w_n when none). */
static size_t win_from(uint64_t *work, const struct jb__est *ms, uint64_t t)
{
    size_t lo = ms->w_head, hi = ms->w_n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        (*work)++;
        if (ms->w[mid].t0 < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t jb__alias_flagged_before(uint64_t *work, const struct jb__est *ms, uint64_t t)
{
    size_t wi = win_after(work, ms, t);

    return wi < ms->w_n ? ms->w[wi].flagged_before : ms->w_flagged;
}

int jb__alias_phase(uint64_t *work, const struct jb__est *ms, uint64_t t_begin_ns,
                    uint64_t t_end_ns, const struct jb__bound *b0, const struct jb__bound *b1,
                    double rel_diff)
{
    /* Flagged windows that begin before the phase ends and did not end before it began, or the
     * phase itself over enough updates. */
    size_t wi = win_from(work, ms, t_end_ns);
    uint64_t flagged = wi < ms->w_n ? ms->w[wi].flagged_before : ms->w_flagged;

    /* A phase shorter than a window resolves before the window around it closes: the window
     * just before it says how the meter was doing. */
    wi = win_after(work, ms, t_begin_ns);
    if (wi > ms->w_head && ms->w[wi - 1].flagged &&
        t_begin_ns - ms->w[wi - 1].t1 < ms->w[wi - 1].t1 - ms->w[wi - 1].t0)
        return 1;
    return flagged > b0->flagged_before ||
           (b1->k_abs >= b0->k_abs + WINDOW_UPDATES && fabs(rel_diff) > ALIAS_REL);
}

/* Closes the aliasing windows the readings now cover. */
void jb__alias_check(uint64_t *work, struct jb__est *ms)
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
        S = &ms->a[ms->w_start - ms->a_base];
        E = &ms->a[j - ms->a_base];
        if (ms->p_n == ms->p_head || ms->p[ms->p_n - 1].t < E->a.u_ns)
            break;
        (*work)++;
        di = jb__est_pwr_cum(work, ms, E->a.u_ns, &part) -
             jb__est_pwr_cum(work, ms, S->a.u_ns, &part);
        dv = E->a.v_j - S->a.v_j;
        if (!part && dv > 0 && JB_GROW(ms->w, ms->w_cap, ms->w_n) == 0) {
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
