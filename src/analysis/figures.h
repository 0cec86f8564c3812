/*
 * figures.h - the figures and the HTML page of 'joulebench report'.  They read what the report's
 * tables wrote into report_dir (configs.csv, epochs.csv, report.json, summary.md) and the example
 * runs of results_dir; they compute no statistics of their own.
 *
 * figures_write draws, in-process (plot.h: SVG always, PNG where built with cairo), numbered as
 * the reference study numbers its figures:
 *   Fig. 1  fig/timeseries.{svg,png}  power, temperature and utilisation over time of one run per
 *                                     value of the colour level (report.json "example_runs"),
 *                                     with the idle baseline, start-up, epochs and evaluations
 *   Fig. 2  fig/energy.{svg,png}      energy per configuration, stacked by phase (start-up,
 *                                     training epochs, evaluation, rest of the command)
 *   Fig. 3  fig/power.{svg,png}       average power: epochs 2..N as bars, epoch 1 as markers
 *   Fig. 4  fig/gpu_util.{svg,png}    average GPU utilisation
 *   Fig. 5  fig/accuracy.{svg,png}    final accuracy
 * The bar figures are faceted by the levels other than the grouping level (batch_size, else the
 * last level) and the colour level (framework, else the first level), with 95% confidence whiskers
 * where configs.csv has <quantity>_ci95 (the half-width), cut to the quantity's physical range.
 * fig/figures.json lists each figure as made or not, with the reason (a column absent from
 * configs.csv, no data, --no-figures); a PNG not drawn (no cairo, --no-png) has its own reason.
 * A figure that cannot be drawn never stops the report.  When report.json says "simulated",
 * every figure says so in its drawing and its metadata.
 *
 * html_write writes report_dir/index.html: one self-contained page (inline CSS, the SVG figures
 * inline, no script, no external address), all values HTML-escaped.
 *
 * Every file goes through report_write (report.h), so an interrupt stops them between files.
 * Both return 0, or -1 with a message naming the file in err.  Not thread-safe.
 */
#ifndef JB_SRC_ANALYSIS_FIGURES_H
#define JB_SRC_ANALYSIS_FIGURES_H

#include <stddef.h>

struct jb_json;

#define FIG_NO_DRAW 1u /* list every figure as not drawn (--no-figures) */
#define FIG_NO_PNG 2u  /* SVG only (--no-png) */

/* What figures_write did, for the tool's notes (st may be NULL). */
struct fig_status {
    size_t drawn, not_drawn, png_missing;
    char not_drawn_list[1024]; /* "Fig. 4 (gpu_util): <reason>; ..." */
    char png_reason[300];      /* why PNGs are missing, when png_missing */
};

int figures_write(const char *report_dir, const char *results_dir, unsigned flags,
                  struct fig_status *st, char *err, size_t errlen);
int html_write(const char *report_dir, char *err, size_t errlen);

/* 1 when a parsed report.json says its data are simulated ("simulated": true, or a simulated
 * meter "sim..." among its "meters"). */
int figures_report_simulated(const struct jb_json *report);

#endif
