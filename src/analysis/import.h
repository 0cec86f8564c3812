/*
 * import.h - writes a run directory (docs/run-directory.md) from a parsed nvidia-smi log and,
 * optionally, the reference study's per-epoch metric file.  Phases follow the study: epoch k ends
 * at the k-th metric timestamp and begins where epoch k-1 ended, epoch 1 at the first sample
 * (t_s = 0); energies are trapezoid integrals of power.draw (there is no counter), so every meter
 * says energy_source "power-integral".  The whole log is phase "command".  Test metrics go to
 * metrics.csv as phase "eval" of the epoch they follow.  Not a parser (see nvsmi.h).
 */
#ifndef JB_SRC_ANALYSIS_IMPORT_H
#define JB_SRC_ANALYSIS_IMPORT_H

#include "analysis/nvsmi.h"

#include <stddef.h>

struct import_opts {
    const char *outdir;      /* created (mkdir -p) */
    const char *energy_path; /* recorded in imported_from */
    const char *epochs_path; /* NULL without a metric file */
    const char *grid;        /* NULL outside a grid */
    const char *run_id;      /* NULL: the directory's name */
    long repeat;             /* < 0: none */
    size_t nlevels;
    const char *const *level_keys;
    const char *const *level_vals;
};

/* Writes samples.csv, phases.csv, metrics.csv, then manifest.json (status complete).  Epoch
 * records with non-increasing timestamps, or beyond the last sample, are reported through warn and
 * still written (their energies then cover only the sampled part).  Returns 0 or -1 with err. */
int import_write_rundir(const struct nvsmi_log *log, const struct epoch_log *ep,
                        const struct import_opts *o, nvsmi_warn_fn warn, void *ctx, char *err,
                        size_t errlen);

#endif
