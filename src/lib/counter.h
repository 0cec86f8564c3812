/*
 * counter.h - what the reads of an energy counter say about when it updates (internal).
 *
 * An energy counter is read at times t_i and returns values v_i.  Some counters are exact at
 * the time of the read (simulated meters, RAPL to ~1 ms); NVML's is a step function: on an H200
 * it moves every 100 ms and a read between updates returns the last value.  This module turns
 * the reads of one counter into anchors (one per value change: the update instant it implies,
 * where it lies, the value), and learns the update grid (period and phase) from updates located
 * between two close reads.  The phase accountant (phases.c) places its energy on the anchors;
 * the sampler (sampler.c) uses the same model to schedule reads just after each update
 * (jb__lock_*).  Pure: no clock, no I/O, so tests drive it in virtual time.
 */
#ifndef JB_SRC_LIB_COUNTER_H
#define JB_SRC_LIB_COUNTER_H

#include <stddef.h>
#include <stdint.h>

#define JB_ANCHOR_EXACT 1u   /* the counter is exact at its reads: the update is the read */
#define JB_ANCHOR_LOCATED 2u /* between two close reads (a narrow bracket) */
#define JB_ANCHOR_GRID 4u    /* placed on the fitted update grid */
#define JB_ANCHOR_FIRST 8u   /* the first read: nothing before it bounds the update */

struct jb__anchor {
    uint64_t a_ns;         /* last read with the previous value (0: none) */
    uint64_t b_ns;         /* first read with this value */
    uint64_t u_ns;         /* the update instant, as placed */
    uint64_t lo_ns, hi_ns; /* where the update instant can lie */
    double v_j;            /* counter value from this update on */
    unsigned flags;        /* JB_ANCHOR_* */
};

/* The update grid: update n at t_ref + phase + (n - n_ref) * period, fitted by weighted least
 * squares (with forgetting) to the located updates, in coordinates centred on the newest one. */
struct jb__grid {
    int points;        /* located updates in the fit */
    int64_t n_ref;     /* index of the newest point */
    uint64_t t_ref_ns; /* its time */
    double s0, s1, s2; /* sums of w, w n, w n^2 (n relative to n_ref) */
    double t0, t1;     /* sums of w c, w n c (c relative to t_ref, ns) */
    double period_ns;  /* fitted period (0 until two points one index apart) */
    double phase_ns;   /* grid point n_ref at t_ref + phase_ns */
    double scc;        /* sum of w c^2 */
    double half_ns;    /* typical half-width of the located brackets */
    int rejects;       /* consecutive points that did not fit */
    int64_t last_n;    /* index given to the newest located update */
};

struct jb__counter {
    int have;           /* a read was seen */
    uint64_t last_t_ns; /* the newest read */
    double last_v;
    uint64_t level_b_ns; /* first read of the current value */
    int level_stale;     /* the current value was read again while the meter drew power */
    int stepped;         /* the counter is a step function (a stale read was seen) */
    double stale_max_ns; /* longest time one value was seen unchanged: the period is longer */
    int prev_located;    /* the previous anchor was located */
    int64_t prev_n;      /* and the grid index it was given */
    uint64_t updates;    /* value changes seen */
    uint64_t located;    /* of which located between close reads */
    struct jb__grid grid;
};

void jb__counter_init(struct jb__counter *c);
/*
 * Feeds one read, in time order.  `powered`: the meter is known to draw power at t (or there is
 * no power reading to say): only then is an unchanged value evidence of a stale counter.
 * Returns 1 with *out filled when the value changed (an update was seen), 0 for an unchanged
 * value, -1 when the value went down or time went back (*out untouched).
 */
int jb__counter_feed(struct jb__counter *c, uint64_t t_ns, double v_j, int powered,
                     struct jb__anchor *out);
/* Places (again) the update behind a value first read at b, the previous value last read at a
 * (0: none), with what the model knows now: for anchors made before the counter was known to be
 * a step function.  out->flags keeps its JB_ANCHOR_LOCATED bit. */
void jb__counter_position(const struct jb__counter *c, uint64_t a, uint64_t b,
                          struct jb__anchor *out);
/* The same, for an update known to come before `before` (<= b): the update of the next anchor
 * lies one period later, so this one is the grid point before it, not the one at b. */
void jb__counter_position_before(const struct jb__counter *c, uint64_t a, uint64_t b,
                                 uint64_t before, struct jb__anchor *out);
/* Fitted update period in ns; 0 when there is no grid (continuous or not yet known). */
double jb__counter_period_ns(const struct jb__counter *c);
/* Tolerance of the grid's prediction of update n, ns (3 sd of the prediction plus 0.5 ms). */
double jb__counter_grid_tol_ns(const struct jb__counter *c, int64_t n);
/* Predicted update instant at or before t (+ tolerance) and its index; 0 when there is no grid. */
int jb__counter_grid_point(const struct jb__counter *c, double t_ns, double *g_ns, int64_t *n);
/* RMS residual of located updates around the grid (ns), 0 when unknown. */
double jb__counter_jitter_ns(const struct jb__counter *c);

/*
 * Read scheduling for the sampler: find the update grid once (reads back to back for a while),
 * then read just after each update (and, every few updates, also just before one, to keep the
 * grid located).  A continuous counter, or one whose grid cannot be found, is read on the fixed
 * cadence.  jb__lock_next says when the next read should be stamped (its middle); jb__lock_feed
 * takes each read made, including reads made for other reasons (at phase bounds).
 */
enum jb__lock_state { JB_LOCK_ACQUIRE = 1, JB_LOCK_LOCKED = 2, JB_LOCK_FIXED = 3 };

struct jb__lock {
    struct jb__counter c;
    enum jb__lock_state state;
    uint64_t interval_ns;   /* requested cadence */
    uint64_t start_ns;      /* acquisition began */
    uint64_t last_read_ns;  /* stamp of the newest read */
    uint64_t next_fixed_ns; /* fixed cadence: next tick */
    int acquire_reads;      /* reads made while acquiring */
    int acquire_changes;    /* value changes seen while acquiring */
    int64_t target_n;       /* locked: the update the next reads are about */
    int early_done;         /* locked: the early read for target_n was made */
    int after_tries;        /* locked: reads after target_n that still saw the old value */
    int early_late;         /* locked: consecutive early reads that already saw the new value */
    int base_done;          /* locked: the updates between the last target and this one have
                              * been read (with a stride above 1 a probe reads them first) */
    int reacquired;         /* times the grid was lost and searched again */
};

void jb__lock_init(struct jb__lock *l, uint64_t now_ns, uint64_t interval_ns);
/* When the next read should be stamped (ns, never before now_ns). */
uint64_t jb__lock_next(struct jb__lock *l, uint64_t now_ns);
/* Takes a read (stamp, value).  Returns what jb__counter_feed returns. */
int jb__lock_feed(struct jb__lock *l, uint64_t t_ns, double v_j);

#endif
