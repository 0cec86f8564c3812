/*
 * figures.h - the figures and the HTML page of 'joulebench report'.  They read what the report's
 * tables wrote into report_dir (configs.csv, epochs.csv, report.json, summary.md) and one run
 * directory of results_dir; they compute no statistics of their own.
 *
 * figures_write draws, through gnuplot (run as a child process, never through a shell):
 *   fig/timeseries.{svg,png}  one run's power, temperature and utilisation with epoch boundaries
 *                             (the run named by report.json "example_run")
 *   fig/energy.{svg,png}      total energy per configuration
 *   fig/power.{svg,png}       average power: epochs 2..N as bars, epoch 1 as markers
 *   fig/gpu_util.{svg,png}    average GPU utilisation
 *   fig/accuracy.{svg,png}    final accuracy
 * The bar figures are faceted by the levels other than the grouping level (batch_size, else the
 * last level) and the colour level (framework, else the first level), with 95% confidence whiskers
 * where configs.csv has <quantity>_ci95 (the half-width).  fig/figures.json lists each figure as
 * made or skipped, with the reason (e.g. a column absent from configs.csv); fig/gnuplot/ keeps the
 * scripts and data, so `cd fig/gnuplot && gnuplot energy.gp` redraws a figure.
 *
 * html_write writes report_dir/index.html: self-contained (inline CSS, no script, no external
 * address), figures referenced relatively from fig/, all values HTML-escaped.
 *
 * Both return 0, or -1 with a message naming the file in err.  Not thread-safe (figures_write
 * forks).
 */
#ifndef JB_SRC_ANALYSIS_FIGURES_H
#define JB_SRC_ANALYSIS_FIGURES_H

#include <stddef.h>

int figures_write(const char *report_dir, const char *results_dir, char *err, size_t errlen);
int html_write(const char *report_dir, char *err, size_t errlen);

#endif
