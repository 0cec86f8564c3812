/*
 * sim.h - the simulated meters' model (internal; tests and bench programs use it too).
 *
 * A simulated meter is a true power function p(t) (constant, square wave, periodic steps, bursts
 * or a trace file) with an exactly known energy E(t) = integral of p, and one of two ways of
 * reading it:
 *   exact   the counter returns E(t) at the time of the read; power_w is p(t) (the old meters)
 *   nvml    the NVML-faithful meter (sim:nvml...): the counter moves only at update instants
 *           u_k = offset + k * update (+ jitter), in whole millijoules, and returns the value of
 *           the last update between updates (stale); a counter read costs read_ms of wall time;
 *           power_w is the trailing 1 s mean at the last update, power_instant_w the mean over
 *           the window_ms before it.  As seen on an NVIDIA H200 (docs/METHODOLOGY.md).
 * Times here are seconds since the meter's origin (when it was added).  Everything but the
 * trace loader is pure: jb__sim_parse() is the spec parser (bounded and strict, no I/O: a fuzz
 * target can call it), the model functions read no clock.  Not a meter backend's I/O: sim.c
 * wraps this model into jb_meter reads.
 */
#ifndef JB_SRC_LIB_SIM_H
#define JB_SRC_LIB_SIM_H

#include <stddef.h>
#include <stdint.h>

#define JB_SIM_SPEC_MAX 4096 /* longest spec accepted (after "sim") */
#define JB_SIM_MAX_STEPS 16  /* levels of a steps= load */

enum jb__sim_shape {
    JB_SIM_STEPS = 1, /* periodic piecewise-constant levels (const, square, burst, steps) */
    JB_SIM_TRACE = 2, /* CSV t_s,power_w, linear between points, held outside them */
};

struct jb__sim_config {
    enum jb__sim_shape shape;
    /* Steps: level i holds step_w[i] for step_s[i] seconds; the pattern repeats. */
    size_t n_steps;
    double step_w[JB_SIM_MAX_STEPS];
    double step_s[JB_SIM_MAX_STEPS];
    char trace_path[JB_SIM_SPEC_MAX]; /* trace= file (loaded by jb__sim_load_trace) */
    /* The NVML-faithful reading model. */
    int nvml;
    double update_s; /* counter and power update period */
    double offset_s; /* first update after the origin */
    double jitter_s; /* sd of each update's deviation from its grid point (deterministic) */
    double read_s;   /* wall time of one counter read */
    double window_s; /* instant power: mean over this window before an update */
    uint64_t seed;   /* of the jitter */
    char name[128];  /* "simulated ..." description */
};

struct jb__sim {
    struct jb__sim_config cfg;
    double period_s; /* steps: sum of step_s */
    double period_j; /* steps: energy of one period */
    double cum_j[JB_SIM_MAX_STEPS + 1];
    size_t n;          /* trace points */
    double *t_s, *p_w; /* trace */
    double *tcum_j;    /* trace: energy from 0 to t_s[i] */
    double origin_mj;  /* nvml: counter (whole mJ) at the last update before the origin */
};

/*
 * Parses a simulated meter's spec, the part after "sim" ("", ":const=W", ":nvml:...").  Pure:
 * no I/O, no allocation, cost bounded by JB_SIM_SPEC_MAX.  Returns 0, or JB_EINVAL with a
 * message in err naming the spec and what was expected.  Syntax in include/joulebench.h
 * (jb_meter_set_add) and docs/METHODOLOGY.md.
 */
int jb__sim_parse(const char *arg, struct jb__sim_config *cfg, char *err, size_t errlen);

/* Prepares a model from a parsed config (loads the trace for trace=); 0 or a JB_E* code with a
 * message ("path:line: ...") in err.  jb__sim_release frees what it allocated. */
int jb__sim_init(struct jb__sim *s, const struct jb__sim_config *cfg, char *err, size_t errlen);
void jb__sim_release(struct jb__sim *s);

/* True power (W) at t and true energy (J) from 0 to t (negative for t < 0), exactly. */
double jb__sim_power_w(const struct jb__sim *s, double t_s);
double jb__sim_energy_j(const struct jb__sim *s, double t_s);
/* The exact energy of [t0, t1]. */
double jb__sim_true_energy_j(const struct jb__sim *s, double t0_s, double t1_s);

/* NVML model.  Update k's instant (k may be negative); the index of the last update at or
 * before t; what a counter read latched at t returns (J since the origin's last update, whole
 * mJ); the averaged and the instant power readings at t (W, whole mW). */
double jb__sim_update_s(const struct jb__sim *s, int64_t k);
int64_t jb__sim_last_update(const struct jb__sim *s, double t_s);
double jb__sim_counter_j(const struct jb__sim *s, double t_s);
double jb__sim_avg_power_w(const struct jb__sim *s, double t_s);
double jb__sim_instant_power_w(const struct jb__sim *s, double t_s);

struct jb_meter;
/* The model behind a simulated meter (NULL for any other meter), and its origin in
 * CLOCK_MONOTONIC ns: for tests that need the truth of a real-time run. */
const struct jb__sim *jb__sim_of_meter(const struct jb_meter *m, uint64_t *origin_ns);

#endif
