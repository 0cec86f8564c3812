/*
 * figures_int.h - what figures.c shares with the files that draw one kind of figure
 * (figures_bars.c, figures_timeseries.c): the report's configurations with their levels sorted
 * into colour, grouping and facet roles, and the rendering of one gnuplot body into SVG and PNG.
 * Internal to src/analysis.
 */
#ifndef JB_SRC_ANALYSIS_FIGURES_INT_H
#define JB_SRC_ANALYSIS_FIGURES_INT_H

#include "analysis/figcsv.h"
#include "util/strbuf.h"

#include <limits.h>
#include <stddef.h>

#define FIG_MAX_LEVELS 16
#define FIG_MAX_PANELS 64

struct jb_json;

struct fig_level {
    char *name;
    int col; /* column in configs.csv */
    size_t nval;
    char **val; /* distinct values in display order (strdup'ed) */
};

struct fig_panel {
    char *title; /* facet values joined; NULL for a cell of the grid without a configuration */
};

struct fig_ctx {
    const char *report_dir, *results_dir;
    char figdir[PATH_MAX];  /* report_dir/fig */
    char gpdir[PATH_MAX];   /* report_dir/fig/gnuplot */
    struct figcsv cfg;      /* configs.csv */
    struct jb_json *report; /* report.json */
    size_t nlev;
    struct fig_level lev[FIG_MAX_LEVELS];
    int *vidx;         /* nrows * nlev: index of each row's value in lev[l].val */
    int colour, group; /* level indexes; group -1 when there is one level only */
    size_t nfacet;
    int facet[FIG_MAX_LEVELS];
    size_t rows, cols, npanels;
    struct fig_panel panel[FIG_MAX_PANELS];
    int *panel_of_row;    /* nrows */
    char facet_desc[256]; /* "dataset / model", for captions */
    struct strbuf notes;  /* remarks on the whole set, for figures.json */
};

struct fig_result {
    const char *name; /* file stem: "energy" */
    char title[200];
    char caption[800];
    int made;
    char reason[600];    /* why it was skipped */
    struct strbuf notes; /* "; "-separated remarks (no CI, values scaled, ...) */
};

/* Appends a note to r->notes. */
void fig_note(struct fig_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes gpdir/<name>.dat (when data is not NULL) and gpdir/<name>.gp, which draws body twice:
 * into ../<name>.svg and ../<name>.png (width x height pixels), then runs gnuplot and checks the
 * outputs.  body refers to its data file as '<name>.dat'. */
int fig_render(struct fig_ctx *c, const char *name, int width_px, int height_px,
               const struct strbuf *data, const struct strbuf *body, char *err, size_t errlen);

/* The bar figures and the time series; each fills r (made, or skipped with a reason) and returns
 * 0, or -1 with a message on an error that must stop the report (bad input, gnuplot failing). */
int fig_bars_draw_all(struct fig_ctx *c, struct fig_result *res, size_t nres, char *err,
                      size_t errlen);
int fig_timeseries_draw(struct fig_ctx *c, struct fig_result *r, char *err, size_t errlen);

#endif
