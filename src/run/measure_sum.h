/*
 * measure_sum.h - one measured execution seen as a job on several GPUs: the sum of its GPU meters'
 * energy (a data-parallel job's energy is the sum over its GPUs), each GPU's share, and the spread
 * between them, over the whole command and per phase.  Computed from a struct measure_result
 * (measure.h) after measure_run(); it changes nothing there and prints nothing.
 *
 * GPU meters are those of the accelerators: ids "gpu<N>" (NVML) and simulated meters, which
 * stand in for an accelerator in tests and demos (as in the report, report_meter_class()); the
 * sum is then labelled simulated.  CPU and DRAM meters are never part of it.
 */
#ifndef JB_SRC_RUN_MEASURE_SUM_H
#define JB_SRC_RUN_MEASURE_SUM_H

#include "run/measure.h"

#include <stddef.h>

/* The GPU meters' figures of one phase instance (phase, index). */
struct measure_gpu_phase {
    char phase[32];
    long index;
    double duration_s; /* of the first GPU meter's row */
    double items;      /* NaN when the phase gave none */
    double energy_j;   /* sum over the GPU meters; NaN when any of them has no energy for it */
    double min_j, max_j;
    double spread;     /* (max_j - min_j) / mean; NaN with fewer than 2 GPUs or a mean of 0 */
    double *per_gpu_j; /* n_gpus values, in measure_gpu_sum.gpu order; NaN where missing */
};

struct measure_gpu_sum {
    size_t n_gpus;
    size_t *gpu;                 /* indexes into measure_result.meters, in meter order */
    int simulated;               /* any of them simulated: outputs must say so */
    double energy_j;             /* whole command: sum of the GPU meters' energy_j */
    double energy_j_power;       /* sum of energy_j_power; NaN when any is NaN */
    double avg_power_w;          /* sum of avg_power_w */
    double min_j, max_j, spread; /* over the GPU meters' energy_j, as in a phase */
    size_t n_phases;
    struct measure_gpu_phase *phases; /* one per phase instance, in the order of r->phases */
};

/* 1 when the meter counts as a GPU meter (see above). */
int measure_is_gpu_meter(const struct measure_meter_total *t);

/* Fills s from r.  Returns 0 (n_gpus may be 0), or -1 when out of memory (s then empty). */
int measure_gpu_sum(const struct measure_result *r, struct measure_gpu_sum *s);
void measure_gpu_sum_free(struct measure_gpu_sum *s);

/* (max - min) / mean of v[0..n), NaN values skipped; NaN with fewer than 2 values or mean 0.
 * min and max may be NULL. */
double measure_spread(const double *v, size_t n, double *min, double *max);

/*
 * For 'stat --json': writes the key "gpu_total" and its value: null without GPU meters, else
 * {"gpus": [ids], "simulated", "energy_j", "energy_j_power", "avg_power_w", "min_j", "max_j",
 * "spread", "phases": [{"phase", "index", "duration_s", "items"?, "energy_j", "min_j", "max_j",
 * "spread", "per_gpu_j": {id: J}}]}.  One call inside the result object; nothing else needed.
 */
struct jsonw;
void measure_gpu_sum_json(struct jsonw *w, const struct measure_result *r);

#endif
