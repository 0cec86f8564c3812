/*
 * phase_error.c - the phase estimator's error against the simulation's exact truth, as a table
 * (phase length x load: mean and max |error|, how often the interval holds the truth, tiling,
 * idle floor).  Every number is against the NVML-faithful simulated meter (src/lib/sim.h) driven
 * in virtual time (tests/support/vdrive.h), not a measurement of any GPU.
 *
 *   bench_phase_error [--schedule locked|fixed] [--no-bound-reads] [--aligned] [--jitter MS]
 *                     [--read MS] [--seeds N] [--exact] [--sample MS]
 */
#include "vdrive.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name, *load;
} loads[] = {
    {"square 300/700 ms", "square=130:700:1000:0.3"},
    {"square 50/50 ms", "square=130:700:100:0.5"},
    {"25 ms bursts every 101 ms", "burst=130:700:25:101"},
    {"training step (83 ms)", "steps=650:62:420:14:180:7"},
    {"constant 300 W", "const=300"},
};

static const double lengths_ms[] = {10, 30, 100, 200, 300, 1000, 3000, 10000};

int main(int argc, char **argv)
{
    struct vd_opts o;
    int seeds = 6, aligned = 0;
    char err[256];

    vd_defaults(&o);
    o.jitter_ms = 1.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--schedule") && i + 1 < argc) {
            i++;
            o.schedule = !strcmp(argv[i], "fixed") ? VD_FIXED : VD_LOCKED;
        } else if (!strcmp(argv[i], "--no-bound-reads")) {
            o.bound_reads = 0;
        } else if (!strcmp(argv[i], "--aligned")) {
            aligned = 1;
        } else if (!strcmp(argv[i], "--jitter") && i + 1 < argc) {
            o.jitter_ms = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--read") && i + 1 < argc) {
            o.read_ms = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--seeds") && i + 1 < argc) {
            seeds = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--exact")) {
            o.nvml = 0;
        } else if (!strcmp(argv[i], "--sample") && i + 1 < argc) {
            o.sample_ms = atof(argv[++i]);
        } else {
            fprintf(stderr,
                    "usage: %s [--schedule locked|fixed] [--no-bound-reads] [--aligned] "
                    "[--jitter MS] [--read MS] [--seeds N] [--exact] [--sample MS]\n",
                    argv[0]);
            return 2;
        }
    }
    printf("| load | phase length | phases | mean abs error | max abs error | interval holds truth "
           "| mean interval half-width | tiling error | below idle | flagged below resolution | "
           "flagged "
           "aliasing |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t l = 0; l < sizeof(loads) / sizeof(loads[0]); l++) {
        for (size_t k = 0; k < (aligned ? 1 : sizeof(lengths_ms) / sizeof(lengths_ms[0])); k++) {
            double sum_err = 0, max_err = 0, sum_hw = 0, max_tile = 0;
            size_t n = 0, covered = 0, below = 0, flagged = 0, aliased = 0;
            for (int sd = 0; sd < seeds; sd++) {
                struct vd_result r;
                double sum = 0;
                o.load = loads[l].load;
                o.aligned = aligned;
                o.phase_ms = lengths_ms[k];
                o.run_s = lengths_ms[k] * 40 / 1000 < 20 ? 20 : lengths_ms[k] * 40 / 1000;
                if (o.run_s > 300)
                    o.run_s = 300;
                o.seed = (uint64_t)sd + 1;
                o.offset_ms = fmod(37.0 * sd + 11, 100);
                if (vd_run(&o, &r, err, sizeof(err)) < 0) {
                    fprintf(stderr, "%s: %s\n", loads[l].load, err);
                    return 1;
                }
                for (size_t i = 0; i < r.n; i++) {
                    const struct vd_phase *ph = &r.ph[i];
                    double e = fabs(ph->est_j - ph->true_j) / ph->true_j;
                    double tol = 1e-9 * ph->true_j + 1e-6;
                    sum += ph->est_j;
                    sum_err += e;
                    if (e > max_err)
                        max_err = e;
                    covered += ph->lo_j - tol <= ph->true_j && ph->true_j <= ph->hi_j + tol;
                    sum_hw += (ph->hi_j - ph->lo_j) / 2 / ph->true_j;
                    below += ph->est_j < ph->idle_w * (ph->t1_s - ph->t0_s) * (1 - 1e-6);
                    flagged += (ph->flags & (1u << 1)) != 0;
                    aliased += (ph->flags & (1u << 2)) != 0;
                    n++;
                }
                if (fabs(sum - r.whole.est_j) / r.whole.est_j > max_tile)
                    max_tile = fabs(sum - r.whole.est_j) / r.whole.est_j;
                vd_free(&r);
            }
            if (aligned)
                printf(
                    "| %s | level changes | %zu | %.2f%% | %.2f%% | %.1f%% | %.1f%% | %.1e | %zu "
                    "| %.0f%% | %.0f%% |\n",
                    loads[l].name, n, 100 * sum_err / (double)n, 100 * max_err,
                    100.0 * (double)covered / (double)n, 100 * sum_hw / (double)n, max_tile, below,
                    100.0 * (double)flagged / (double)n, 100.0 * (double)aliased / (double)n);
            else
                printf("| %s | %g ms | %zu | %.2f%% | %.2f%% | %.1f%% | %.1f%% | %.1e | %zu | "
                       "%.0f%% | %.0f%% |\n",
                       loads[l].name, lengths_ms[k], n, 100 * sum_err / (double)n, 100 * max_err,
                       100.0 * (double)covered / (double)n, 100 * sum_hw / (double)n, max_tile,
                       below, 100.0 * (double)flagged / (double)n,
                       100.0 * (double)aliased / (double)n);
            fflush(stdout);
        }
    }
    return 0;
}
