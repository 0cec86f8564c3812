/*
 * seed2023.h - the reference study's own post-processing, reproduced exactly ('report --method
 * seed-2023').  Per run, nvidia-smi samples are assigned to epochs by time since the first sample:
 * epoch k takes the samples with t in (b[k-1], b[k]] where b[k] is the time epoch k's metrics were
 * written (epoch 1 also takes the sample at t = 0); each epoch gets the UNWEIGHTED mean of its
 * power.draw and utilization.gpu samples and the duration b[k] - b[k-1] (b[0] = 0).  Across the
 * runs of a configuration, power, utilisation and accuracy are averaged per epoch (rounded to 3
 * decimals, as pandas' .round(3) did) and so is the duration; energy = sum over epochs of mean
 * duration x mean power.  Samples after the last epoch are dropped.  Reported: total energy (kJ),
 * mean over epochs of the epoch power and utilisation, final-epoch accuracy, total time.
 *
 * On native run directories the same rule is applied with b[0] = command_start_s and b[k] = the
 * end of epoch k's eval phase when there is one (the study's timestamps were written after
 * evaluation).  Not the recommended method: see corrected.h and docs/METHODOLOGY.md.
 */
#ifndef JB_SRC_ANALYSIS_SEED2023_H
#define JB_SRC_ANALYSIS_SEED2023_H

#include "analysis/report.h"

/* Writes configs.csv (exactly framework..batch_size-style level columns + total_energy_kJ,
 * mean_power_W, mean_gpu_util_pct, final_accuracy, total_time_s), epochs.csv (per configuration
 * and epoch, averaged over runs), runs.csv (per run and epoch, before averaging), report.json and
 * summary.md into outdir.  example_run: recorded in report.json (may be NULL).  0 or -1 (err). */
int seed2023_write(const struct report_input *in, const char *outdir, const char *example_run,
                   char *err, size_t errlen);

#endif
