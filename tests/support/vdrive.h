/*
 * vdrive.h - drives the phase accountant (jb_phases) with the reading stream a sampler would give
 * over a simulated meter, in virtual time: no clock, no threads, no sleeping, deterministic.
 *
 * The meter is the sim model (src/lib/sim.h) with its exact truth.  Power is sampled every
 * sample_ms; the counter is read on the sampler's schedule (fixed cadence, or locked to the
 * counter's updates by the sampler's own scheduler, jb__lock_*), each read taking the model's
 * read cost on one channel (a read at a phase bound waits for one in progress, as under the
 * sampler's per-meter energy lock), stamped and latched at its middle.  Phases tile the run with
 * lengths drawn around phase_ms, or follow the load's own level changes; each bound reaches the
 * accountant bound_delay_ms after its time (the workload's pipe) and triggers a counter read,
 * as measure.c does.  Used by tests/unit/test_estimator.c and bench/phase_error.c.
 */
#ifndef JB_TESTS_SUPPORT_VDRIVE_H
#define JB_TESTS_SUPPORT_VDRIVE_H

#include <stddef.h>
#include <stdint.h>

enum vd_schedule { VD_FIXED = 1, VD_LOCKED = 2 };

struct vd_opts {
    const char *load; /* a sim load: "square=130:700:1000:0.3", "burst=...", ... */
    int nvml;         /* 1: the NVML-faithful meter; 0: the exact one */
    double update_ms; /* nvml options (see sim.h); 0 means the default */
    double offset_ms;
    double jitter_ms;
    double read_ms; /* < 0 means the default (4 ms) */
    double window_ms;
    double run_s; /* phases tile [start_s, run_s] */
    double start_s;
    double sample_ms; /* power sampling interval */
    double energy_ms; /* counter cadence */
    enum vd_schedule schedule;
    int bound_reads;       /* read the counter when a bound arrives */
    double bound_delay_ms; /* a bound arrives this long after its time */
    double phase_ms;       /* nominal phase length */
    double phase_spread;   /* lengths uniform in phase_ms * [1 - spread, 1 + spread] */
    int aligned;           /* phases at the load's level changes (steps loads) */
    double stall_s;        /* a stalled host: from stall_s for stall_len_s (model time) nothing */
    double stall_len_s;    /* runs (no read, sample or bound arrival); what was due runs after */
    uint64_t seed;
};

struct vd_phase {
    double t0_s, t1_s;
    double true_j;
    double est_j, lo_j, hi_j, power_j, idle_w;
    uint32_t valid, flags;
};

struct vd_result {
    struct vd_phase *ph; /* the tiling phases */
    size_t n;
    struct vd_phase whole; /* one phase over all of them */
    uint64_t reads, samples;
    double period_s; /* the accountant's fitted update period */
    int stepped;
    uint64_t aliased_windows, check_windows;
    double max_staleness_s; /* of the scheduled (non-bound) reads after the first second */
};

/* Runs one simulation; 0, or -1 with a message in err.  vd_free releases out's arrays. */
int vd_run(const struct vd_opts *o, struct vd_result *out, char *err, size_t errlen);
void vd_free(struct vd_result *r);
/* Default options: nvml meter, 10 ms sampling, 100 ms counter cadence, locked, bound reads,
 * 1 ms bound delay, 1 s phases with 20% spread over 30 s. */
void vd_defaults(struct vd_opts *o);

#endif
