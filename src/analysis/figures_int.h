/*
 * figures_int.h - what figures.c shares with the files that draw one kind of figure
 * (figures_bars.c, figures_timeseries.c) and the drawing helpers of figures_frame.c: the report's
 * configurations with their levels sorted into colour, grouping and facet roles; the figure
 * results that fig/figures.json lists; the common frame of every figure (title, "simulated"
 * label, legend, notes, axes); and the writing of one canvas as SVG and PNG.
 * Internal to src/analysis.
 */
#ifndef JB_SRC_ANALYSIS_FIGURES_INT_H
#define JB_SRC_ANALYSIS_FIGURES_INT_H

#include "analysis/figcsv.h"
#include "analysis/plot.h"
#include "util/strbuf.h"

#include <limits.h>
#include <stddef.h>

#define FIG_MAX_LEVELS 16
#define FIG_MAX_PANELS 64
#define FIG_NFIGS 5

/* Font sizes (CSS pixels) of every figure. */
#define FIG_TITLE_PX 16.0
#define FIG_LABEL_PX 13.0 /* axis titles, legend */
#define FIG_TICK_PX 12.0
#define FIG_NOTE_PX 11.5

struct jb_json;

struct fig_level {
    char *name;
    int col; /* column in configs.csv; -1 for the stand-in level of a grid without levels */
    size_t nval;
    char **val; /* distinct values in display order (strdup'ed) */
};

struct fig_panel {
    char *title; /* facet values joined; NULL for a cell of the grid without a configuration */
};

struct fig_ctx {
    const char *report_dir, *results_dir;
    char figdir[PATH_MAX];  /* report_dir/fig */
    struct figcsv cfg;      /* configs.csv */
    struct jb_json *report; /* report.json */
    int simulated;          /* report.json says so: every figure carries the label */
    int png;                /* draw PNGs too */
    char png_reason[200];   /* why not, when png is 0 */
    size_t nlev;
    struct fig_level lev[FIG_MAX_LEVELS];
    int no_levels;     /* configs.csv has no level column: lev[0] is a stand-in */
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
    int number;       /* the reference study's figure number: 1 time series ... 5 accuracy */
    char title[200];
    char caption[800];
    int made;         /* the SVG was written */
    int png_made;     /* and the PNG */
    int data_made;    /* and fig/<name>.csv, the numbers drawn (bar figures) */
    char reason[600]; /* why it was not drawn */
    char png_reason[300];
    struct strbuf notes; /* "; "-separated remarks (no CI, values cut, ...) */
};

/* Appends a note to r->notes. */
void fig_note(struct fig_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes the canvas as fig/<r->name>.svg and, when c->png, fig/<r->name>.png (twice the canvas
 * size).  Sets r->made and r->png_made (or r->png_reason).  Returns 0, or -1 with err when a file
 * cannot be written (the report stops: a full disk, an interrupt). */
int fig_render(struct fig_ctx *c, struct fig_result *r, struct plot *p, char *err, size_t errlen);

/* ---- the frame of a figure (figures_frame.c) ----------------------------------------------- */

enum fig_key_kind { FIG_KEY_FILL, FIG_KEY_LINE, FIG_KEY_WHISKER, FIG_KEY_DIAMOND };

struct fig_key {
    enum fig_key_kind kind;
    struct plot_fill fill;
    struct plot_stroke stroke;
    char label[96];
};

#define FIG_MAX_KEYS 24

struct fig_legend_row {
    char heading[64]; /* "framework:"; "" for none */
    size_t n;
    struct fig_key key[FIG_MAX_KEYS];
};

/* Height of the band above the content: title, the "simulated" label, legend rows wrapped to
 * width.  With p, draws it too.  Returns the band's height. */
double fig_header(struct plot *p, double width, const char *title, int simulated,
                  const struct fig_legend_row *rows, size_t nrows);
/* Height of the notes under the content, wrapped to width (0 when notes is empty); with p, draws
 * them from y down. */
double fig_footer(struct plot *p, double width, double y, const char *notes);

/* A vertical value axis from v0 (at y0_px) to v1 (at y1_px). */
struct fig_axis {
    double v0, v1, y0_px, y1_px;
};
double fig_y(const struct fig_axis *a, double v);
/* Draws the horizontal grid lines and tick labels of ticks (decimals dec) left of x_px, from x_px
 * to x_px + w_px. */
void fig_yticks(struct plot *p, const struct fig_axis *a, double x_px, double w_px,
                const double *ticks, size_t n, int dec);

/* Fill style i of a colour value: Okabe-Ito colours, with a hatch on every other one so that the
 * bars stay apart in greyscale. */
struct plot_fill fig_fill(size_t i);
/* Line colour i (the same colours as fig_fill) and dash pattern i. */
uint32_t fig_colour(size_t i);
enum plot_dash fig_dash(size_t i);
/* rgb mixed with white (t = 0: rgb, 1: white) or with black (negative t). */
uint32_t fig_tint(uint32_t rgb, double t);

/* Formats v with dec decimals. */
void fig_fmt(char *buf, size_t n, double v, int dec);

/* ---- the figures -------------------------------------------------------------------------- */

/* The bar figures (energy, power, GPU utilisation, accuracy) and the time series; each fills r
 * (made, or not with a reason) and returns 0, or -1 with a message on an error that must stop the
 * report (a file that cannot be written). */
int fig_bars_draw_all(struct fig_ctx *c, struct fig_result *res, size_t nres, char *err,
                      size_t errlen);
int fig_timeseries_draw(struct fig_ctx *c, struct fig_result *r, char *err, size_t errlen);

#endif
