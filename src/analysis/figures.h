/*
 * figures.h - the report's figures (SVG/PNG) and HTML page, written from a finished report folder
 * (configs.csv, epochs.csv, report.json, and report.json's example_run for the time series).
 * Implemented by figures.c and html.c.  Not the tables: cmd_report writes those first.
 */
#ifndef JB_SRC_ANALYSIS_FIGURES_H
#define JB_SRC_ANALYSIS_FIGURES_H

#include <stddef.h>

/* Writes report_dir/fig/ from the report folder's files; results_dir is the results folder the
 * report was made from.  Returns 0, or -1 with a message in err. */
int figures_write(const char *report_dir, const char *results_dir, char *err, size_t errlen);
/* Writes report_dir/index.html.  Returns 0, or -1 with a message in err. */
int html_write(const char *report_dir, char *err, size_t errlen);

#endif
