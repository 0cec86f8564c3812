/*
 * corrected.h - the default report method ('report --method corrected').  Per run: energy from
 * each meter's counter interpolated at the phase bounds (the trapezoid integral of power where a
 * meter has no counter), summed over GPU meters; time from the run's command phase; average power
 * = energy / time; utilisation and temperature time-weighted.  Across the runs of a
 * configuration: mean, sd, Student-t 95% CI half-width and n of each per-run quantity (energy is
 * computed per run first and then averaged).  Epoch 1 is reported apart from epochs 2..N, and
 * startup and eval are their own phases.  Ratios between the levels of each factor are ratios of
 * means with a delta-method CI (stats.h).  Column meanings: docs/report-format.md.  Not the
 * study's method (seed2023.h).
 */
#ifndef JB_SRC_ANALYSIS_CORRECTED_H
#define JB_SRC_ANALYSIS_CORRECTED_H

#include "analysis/report.h"

/* Writes configs.csv, epochs.csv, ratios.csv, report.json and summary.md into outdir.  Needs the
 * runs read with samples.  Returns 0 or -1 (err). */
int corrected_write(const struct report_input *in, const char *outdir, const char *example_run,
                    char *err, size_t errlen);

#endif
