/*
 * plot.h - a small drawing layer for the report's figures: a canvas that records lines,
 * polylines, polygons, rectangles with fill patterns, text with anchors and rectangular clips,
 * in CSS pixels (origin top left, y down), and two backends that replay the same record: SVG
 * (plot_svg.c, plain C, always built) and PNG (plot_png.c, through cairo; built with
 * -DJB_WITH_CAIRO=ON).  Because both draw one display list, the SVG and the PNG of a figure
 * agree.  It knows nothing about joulebench's figures (figures*.c) and draws no axes by itself;
 * plot_ticks() only chooses round tick values.
 *
 * Text is UTF-8 in DejaVu Sans (SVG: "DejaVu Sans, Verdana, sans-serif"; the widths that
 * plot_text_width() estimates are DejaVu Sans's, which Verdana nearly matches).  Out of memory is
 * sticky: drawing calls do nothing after a failure, and plot_failed() says so.  Not thread-safe
 * per canvas; separate canvases are independent.
 */
#ifndef JB_SRC_ANALYSIS_PLOT_H
#define JB_SRC_ANALYSIS_PLOT_H

#include "util/strbuf.h"

#include <stddef.h>
#include <stdint.h>

/* Colours are 0xRRGGBB. */
#define PLOT_BLACK 0x000000u
#define PLOT_WHITE 0xffffffu

enum plot_dash { PLOT_SOLID, PLOT_DASHED, PLOT_DOTTED, PLOT_DASHDOT };

struct plot_stroke {
    uint32_t rgb;
    double width_px; /* 0: no stroke */
    enum plot_dash dash;
};

/* Fills: a solid colour, or lines of colour fg on colour bg (hatches stay apart in greyscale). */
enum plot_fill_kind {
    PLOT_FILL_NONE,
    PLOT_FILL_SOLID,     /* fg */
    PLOT_FILL_HATCH,     /* lines rising to the right, "/" */
    PLOT_FILL_BACKHATCH, /* "\" */
    PLOT_FILL_CROSS,     /* both diagonals */
    PLOT_FILL_HLINES,    /* horizontal lines */
    PLOT_FILL_VLINES,    /* vertical lines */
    PLOT_FILL_KINDS
};

struct plot_fill {
    enum plot_fill_kind kind;
    uint32_t fg, bg;
    double opacity; /* 0 < opacity <= 1 (0 is taken as 1) */
};

enum plot_anchor { PLOT_START, PLOT_MIDDLE, PLOT_END };

struct plot_font {
    double size_px;
    int bold;
    uint32_t rgb;
};

struct plot;

/* A canvas of width x height CSS pixels.  id (letters, digits, '-', '_') prefixes the ids the SVG
 * needs (patterns, clips), so that several figures can be inlined in one HTML page.  NULL when out
 * of memory or when id is not of that form. */
struct plot *plot_new(double width_px, double height_px, const char *id);
void plot_free(struct plot *p);
int plot_failed(const struct plot *p);
double plot_width(const struct plot *p);
double plot_height(const struct plot *p);

/* Text metadata: the SVG's <title>/<desc>, the PNG's tEXt chunks "Title" and "Description". */
void plot_set_title(struct plot *p, const char *title);
void plot_set_description(struct plot *p, const char *desc);

void plot_line(struct plot *p, double x1, double y1, double x2, double y2,
               const struct plot_stroke *s);
/* xy holds n points as x0, y0, x1, y1, ...; copied. */
void plot_polyline(struct plot *p, const double *xy, size_t n, const struct plot_stroke *s);
/* A closed polygon; fill and stroke may each be NULL. */
void plot_polygon(struct plot *p, const double *xy, size_t n, const struct plot_fill *f,
                  const struct plot_stroke *s);
void plot_rect(struct plot *p, double x, double y, double w, double h, const struct plot_fill *f,
               const struct plot_stroke *s);
/* Text with its baseline at y, anchored at x (start, middle, end), turned by rotate_deg
 * (counter-clockwise when negative, as SVG's rotate: -90 reads bottom to top).  Control
 * characters are drawn as spaces. */
void plot_text(struct plot *p, double x, double y, const char *utf8, const struct plot_font *f,
               enum plot_anchor anchor, double rotate_deg);
/* Everything drawn until plot_clip_end is cut to the rectangle.  Clips do not nest: a second
 * plot_clip_begin ends the first. */
void plot_clip_begin(struct plot *p, double x, double y, double w, double h);
void plot_clip_end(struct plot *p);

/* Estimated advance width of utf8 in DejaVu Sans at size_px (non-ASCII characters: 0.6 em). */
double plot_text_width(const char *utf8, double size_px, int bold);

/* Round tick values covering [lo, hi] with about target_n intervals: steps of 1, 2, 2.5 or 5 x
 * 10^k.  Writes at most max values into ticks and returns their number; *decimals gets the
 * number of decimals that prints them exactly. */
size_t plot_ticks(double lo, double hi, int target_n, double *ticks, size_t max, int *decimals);

/* ---- backends -------------------------------------------------------------------------------
 */

/* Appends the drawing as SVG.  standalone: an SVG file (XML declaration, xmlns); else an <svg>
 * element for inlining in HTML5 (no namespace attribute, style="max-width:100%;height:auto").
 * Returns 0, or -1 when out of memory. */
int plot_svg(const struct plot *p, int standalone, struct strbuf *out);

/* 1 when this build draws PNGs (built with cairo), else 0. */
int plot_png_available(void);
/* Appends the drawing as a PNG of scale x the canvas size in pixels, with the title and
 * description as tEXt chunks and "Software" naming joulebench.  Returns 0, or -1 with a message
 * ("built without cairo", or cairo's status). */
int plot_png(const struct plot *p, double scale, struct strbuf *out, char *err, size_t errlen);
/* Hands back the memory that cairo and fontconfig keep for the process (font caches), so that
 * leak checkers see none.  Only at exit, once no PNG is being drawn; nothing without cairo. */
void plot_png_release(void);

/* ---- for the backends (plot_svg.c, plot_png.c) --------------------------------------------- */

enum plot_op_kind { PLOT_OP_LINE, PLOT_OP_POLY, PLOT_OP_RECT, PLOT_OP_TEXT, PLOT_OP_CLIP };

struct plot_op {
    enum plot_op_kind kind;
    double x, y, w, h; /* LINE: x,y to w,h; RECT, CLIP: box (CLIP with w < 0: end of clip) */
    double *xy;        /* POLY: n points */
    size_t n;
    int closed, has_fill, has_stroke;
    struct plot_fill fill;
    struct plot_stroke stroke;
    char *text; /* TEXT */
    struct plot_font font;
    enum plot_anchor anchor;
    double rotate_deg;
};

struct plot {
    double width, height;
    char id[48];
    char *title, *desc;
    struct plot_op *ops;
    size_t nops, cap;
    int failed;
};

/* Dash pattern of a stroke, in multiples of its width: *n pairs of on/off lengths (0: solid). */
void plot__dash(enum plot_dash d, double width_px, double *pattern, int *n);
/* The hatch geometry both backends share: lines at angle_deg (0 vertical lines, 90 horizontal)
 * spaced spacing_px apart, of width line_px; for PLOT_FILL_CROSS two angles. */
int plot__hatch(enum plot_fill_kind k, double *angles_deg, double *spacing_px, double *line_px);

#endif
