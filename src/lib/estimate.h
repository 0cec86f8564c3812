/*
 * estimate.h - one meter's estimator inside the phase accountant (internal; see estimate.c).
 * Every function takes `work`, a counter of elements visited (jb__phases_work).
 */
#ifndef JB_SRC_LIB_ESTIMATE_H
#define JB_SRC_LIB_ESTIMATE_H

#include "counter.h"
#include "joulebench.h"
#include "rangemax.h"

#include <stddef.h>
#include <stdint.h>

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

struct win {
    uint64_t t0, t1;         /* from one update to the tenth after it */
    uint64_t flagged_before; /* flagged windows before this one (since the start) */
    int flagged;
};

struct jb__est {
    struct jb__counter ctr;
    struct anc *a;
    size_t a_head, a_n, a_cap;
    uint64_t a_base;            /* absolute index of a[0] */
    uint64_t p_base;            /* absolute index of p[0] */
    struct blkmax p_blk, a_blk; /* block maxima of power readings and of interval means */
    int e_seen, e_gap; /* e_gap: the first SETTLE_NS of reads had a gap wider than GAP_NS */
    uint64_t e_first_t, e_last_t;
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
    int bounded;                 /* a bound has been evaluated ... */
    uint64_t bound_t;            /* ... at this time at the latest */
    struct jb_phases_meter_stats stats;
};

/* A bound's values on one meter. */
struct jb__bound {
    int have_e, part_e, bounds, unloc;
    double c, lo, hi;
    uint64_t k_abs; /* absolute index of the first anchor after the bound */
    int have_p, part_p;
    double icum;
    uint64_t flagged_before;
};

void jb__est_init(struct jb__est *ms);
void jb__est_free(struct jb__est *ms);
/* Readings, in time order per kind: 0 or JB_EINVAL/JB_ENOMEM with a message in err. */
int jb__est_add_energy(uint64_t *work, struct jb__est *ms, uint64_t t_ns, double v_j, char *err,
                       size_t errlen);
int jb__est_add_power(uint64_t *work, struct jb__est *ms, uint64_t t_ns, double w, unsigned src,
                      char *err, size_t errlen);
/* Whether a bound at t can be evaluated with all the readings it will use. */
int jb__est_complete(uint64_t *work, struct jb__est *ms, uint64_t t);
/* A bound's values at t. */
void jb__est_bound(uint64_t *work, struct jb__est *ms, uint64_t t, struct jb__bound *b);
/* A phase's energies, interval, flags and peaks from its begin (evaluated before) to t_end; sets
 * *partial when the readings did not cover it.  Fills the energy and power fields of r only. */
void jb__est_result(uint64_t *work, struct jb__est *ms, const struct jb__bound *begin,
                    uint64_t t_begin_ns, uint64_t t_end_ns, struct jb_phase_result *r,
                    int *partial);
/* Lets go what no bound at or after h needs. */
void jb__est_prune(uint64_t *work, struct jb__est *ms, uint64_t h);
const struct jb_phases_meter_stats *jb__est_stats(struct jb__est *ms);
/* The power readings' integral from the first kept reading to t (J); sets *partial when t lies
 * outside them. */
double jb__est_pwr_cum(uint64_t *work, const struct jb__est *ms, uint64_t t, int *partial);

/* estimate_alias.c.  Closes the aliasing windows the readings now cover. */
void jb__alias_check(uint64_t *work, struct jb__est *ms);
/* Flagged windows before the first one ending after t. */
uint64_t jb__alias_flagged_before(uint64_t *work, const struct jb__est *ms, uint64_t t);
/* Whether a phase from b0 (at t_begin) to b1 (at t_end), its power integral rel_diff off the
 * counter, is flagged aliasing. */
int jb__alias_phase(uint64_t *work, const struct jb__est *ms, uint64_t t_begin_ns,
                    uint64_t t_end_ns, const struct jb__bound *b0, const struct jb__bound *b1,
                    double rel_diff);

#endif
