/*
 * plot.c - the canvas of plot.h: a display list of drawing operations, the text-width estimate
 * and the tick chooser.  The backends (plot_svg.c, plot_png.c) replay the list; nothing here
 * writes a file format.
 */
#include "analysis/plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Advance widths of DejaVu Sans (regular and bold) for ASCII 32..126, per 1000 units of the em,
 * as cairo measures them (DejaVu Sans 2.37). */
static const unsigned short adv_regular[95] = {
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361,  318, 337, 636, 636, 636,
    636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632,
    575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635,  611, 732, 684, 989, 685,
    611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352,  635, 634, 278, 278, 579,
    278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592,  525, 636, 337, 636, 838};
static const unsigned short adv_bold[95] = {
    348,  456, 521, 838, 696, 1002, 872, 306,  457, 457, 523, 838, 380, 415,  380, 365,
    696,  696, 696, 696, 696, 696,  696, 696,  696, 696, 400, 400, 838, 838,  838, 580,
    1000, 774, 762, 734, 830, 683,  683, 821,  837, 372, 372, 775, 637, 995,  837, 850,
    733,  850, 770, 720, 682, 812,  774, 1103, 771, 724, 725, 457, 365, 457,  838, 500,
    500,  675, 716, 593, 716, 678,  435, 716,  712, 343, 343, 665, 343, 1042, 712, 687,
    716,  716, 493, 595, 478, 712,  652, 924,  645, 652, 582, 712, 365, 712,  838};

double plot_text_width(const char *s, double size_px, int bold)
{
    const unsigned short *adv = bold ? adv_bold : adv_regular;
    double units = 0;

    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        if (*u >= 32 && *u < 127)
            units += adv[*u - 32];
        else if (*u < 32)
            units += adv[0]; /* drawn as a space */
        else if ((*u & 0xc0) != 0x80)
            units += 600; /* the first byte of a non-ASCII character */
    }
    return units * size_px / 1000.0;
}

size_t plot_ticks(double lo, double hi, int target_n, double *ticks, size_t max, int *decimals)
{
    static const double mult[] = {1, 2, 2.5, 5, 10};
    double span, raw, mag, step = 1, first;
    size_t n = 0;
    int dec;

    *decimals = 0;
    if (!isfinite(lo) || !isfinite(hi) || max == 0)
        return 0;
    if (hi < lo) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    span = hi - lo;
    if (span <= 0)
        span = fabs(hi) > 0 ? fabs(hi) : 1;
    if (target_n < 1)
        target_n = 1;
    raw = span / target_n;
    mag = pow(10, floor(log10(raw)));
    for (size_t i = 0; i < sizeof(mult) / sizeof(mult[0]); i++) {
        step = mult[i] * mag;
        if (step >= raw * 0.999)
            break;
    }
    /* decimals that print the step exactly: 2.5 x 10^k needs one more than 10^k */
    dec = (int)-floor(log10(step) + 1e-9);
    if (fabs(step / pow(10, floor(log10(step) + 1e-9)) - 2.5) < 1e-9)
        dec++;
    *decimals = dec > 0 ? dec : 0;
    first = ceil(lo / step - 1e-9) * step;
    for (double v = first; v <= hi + step * 1e-9 && n < max; v = first + step * (double)n) {
        ticks[n++] = fabs(v) < step * 1e-9 ? 0.0 : v;
    }
    return n;
}

struct plot *plot_new(double width_px, double height_px, const char *id)
{
    struct plot *p;
    size_t n = strlen(id);

    if (n == 0 || n >= sizeof(p->id) || !(width_px > 0) || !(height_px > 0))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->width = width_px;
    p->height = height_px;
    memcpy(p->id, id, n + 1);
    return p;
}

void plot_free(struct plot *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nops; i++) {
        free(p->ops[i].xy);
        free(p->ops[i].text);
    }
    free(p->ops);
    free(p->title);
    free(p->desc);
    free(p);
}

int plot_failed(const struct plot *p)
{
    return !p || p->failed;
}

double plot_width(const struct plot *p)
{
    return p->width;
}

double plot_height(const struct plot *p)
{
    return p->height;
}

static void set_string(struct plot *p, char **dst, const char *s)
{
    char *c;

    if (p->failed)
        return;
    c = strdup(s ? s : "");
    if (!c) {
        p->failed = 1;
        return;
    }
    free(*dst);
    *dst = c;
}

void plot_set_title(struct plot *p, const char *title)
{
    set_string(p, &p->title, title);
}

void plot_set_description(struct plot *p, const char *desc)
{
    set_string(p, &p->desc, desc);
}

static struct plot_op *push(struct plot *p, enum plot_op_kind kind)
{
    struct plot_op *op;

    if (p->failed)
        return NULL;
    if (p->nops == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 256;
        struct plot_op *n = realloc(p->ops, ncap * sizeof(*n));
        if (!n) {
            p->failed = 1;
            return NULL;
        }
        p->ops = n;
        p->cap = ncap;
    }
    op = &p->ops[p->nops++];
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    return op;
}

static int finite4(double a, double b, double c, double d)
{
    return isfinite(a) && isfinite(b) && isfinite(c) && isfinite(d);
}

void plot_line(struct plot *p, double x1, double y1, double x2, double y2,
               const struct plot_stroke *s)
{
    struct plot_op *op;

    if (!s || !(s->width_px > 0) || !finite4(x1, y1, x2, y2))
        return;
    op = push(p, PLOT_OP_LINE);
    if (!op)
        return;
    op->x = x1;
    op->y = y1;
    op->w = x2;
    op->h = y2;
    op->stroke = *s;
    op->has_stroke = 1;
}

static void poly(struct plot *p, const double *xy, size_t n, int closed, const struct plot_fill *f,
                 const struct plot_stroke *s)
{
    struct plot_op *op;
    size_t k = 0;

    if (n < 2 || (!s && !f))
        return;
    op = push(p, PLOT_OP_POLY);
    if (!op)
        return;
    op->xy = malloc(n * 2 * sizeof(double));
    if (!op->xy) {
        p->nops--;
        p->failed = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1]))
            continue;
        op->xy[2 * k] = xy[2 * i];
        op->xy[2 * k + 1] = xy[2 * i + 1];
        k++;
    }
    op->n = k;
    op->closed = closed;
    if (f && f->kind != PLOT_FILL_NONE) {
        op->fill = *f;
        op->has_fill = 1;
    }
    if (s && s->width_px > 0) {
        op->stroke = *s;
        op->has_stroke = 1;
    }
    if (k < 2 || (!op->has_fill && !op->has_stroke)) {
        free(op->xy);
        p->nops--;
    }
}

void plot_polyline(struct plot *p, const double *xy, size_t n, const struct plot_stroke *s)
{
    poly(p, xy, n, 0, NULL, s);
}

void plot_polygon(struct plot *p, const double *xy, size_t n, const struct plot_fill *f,
                  const struct plot_stroke *s)
{
    poly(p, xy, n, 1, f, s);
}

void plot_rect(struct plot *p, double x, double y, double w, double h, const struct plot_fill *f,
               const struct plot_stroke *s)
{
    struct plot_op *op;

    if (!finite4(x, y, w, h))
        return;
    if (w < 0) {
        x += w;
        w = -w;
    }
    if (h < 0) {
        y += h;
        h = -h;
    }
    if ((!f || f->kind == PLOT_FILL_NONE) && (!s || !(s->width_px > 0)))
        return;
    op = push(p, PLOT_OP_RECT);
    if (!op)
        return;
    op->x = x;
    op->y = y;
    op->w = w;
    op->h = h;
    if (f && f->kind != PLOT_FILL_NONE) {
        op->fill = *f;
        op->has_fill = 1;
    }
    if (s && s->width_px > 0) {
        op->stroke = *s;
        op->has_stroke = 1;
    }
}

void plot_text(struct plot *p, double x, double y, const char *utf8, const struct plot_font *f,
               enum plot_anchor anchor, double rotate_deg)
{
    struct plot_op *op;
    char *t;

    if (!utf8 || !*utf8 || !f || !(f->size_px > 0) || !isfinite(x) || !isfinite(y))
        return;
    op = push(p, PLOT_OP_TEXT);
    if (!op)
        return;
    t = strdup(utf8);
    if (!t) {
        p->nops--;
        p->failed = 1;
        return;
    }
    for (char *c = t; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    op->text = t;
    op->x = x;
    op->y = y;
    op->font = *f;
    op->anchor = anchor;
    op->rotate_deg = isfinite(rotate_deg) ? rotate_deg : 0;
}

void plot_clip_begin(struct plot *p, double x, double y, double w, double h)
{
    struct plot_op *op;

    if (!finite4(x, y, w, h) || w < 0 || h < 0)
        return;
    op = push(p, PLOT_OP_CLIP);
    if (!op)
        return;
    op->x = x;
    op->y = y;
    op->w = w;
    op->h = h;
}

void plot_clip_end(struct plot *p)
{
    struct plot_op *op = push(p, PLOT_OP_CLIP);

    if (op)
        op->w = -1;
}

void plot__dash(enum plot_dash d, double width_px, double *pattern, int *n)
{
    double u = width_px > 1 ? width_px : 1;

    *n = 0;
    switch (d) {
    case PLOT_DASHED:
        pattern[0] = 5 * u;
        pattern[1] = 3.5 * u;
        *n = 2;
        break;
    case PLOT_DOTTED:
        pattern[0] = 1.2 * u;
        pattern[1] = 2.2 * u;
        *n = 2;
        break;
    case PLOT_DASHDOT:
        pattern[0] = 6 * u;
        pattern[1] = 2.5 * u;
        pattern[2] = 1.2 * u;
        pattern[3] = 2.5 * u;
        *n = 4;
        break;
    case PLOT_SOLID:
    default: break;
    }
}

int plot__hatch(enum plot_fill_kind k, double *angles_deg, double *spacing_px, double *line_px)
{
    *spacing_px = 6.0;
    *line_px = 1.6;
    switch (k) {
    case PLOT_FILL_HATCH: angles_deg[0] = 45; return 1;
    case PLOT_FILL_BACKHATCH: angles_deg[0] = -45; return 1;
    case PLOT_FILL_CROSS:
        angles_deg[0] = 45;
        angles_deg[1] = -45;
        *line_px = 1.2;
        *spacing_px = 7.0;
        return 2;
    case PLOT_FILL_HLINES: angles_deg[0] = 90; return 1;
    case PLOT_FILL_VLINES: angles_deg[0] = 0; return 1;
    default: return 0;
    }
}
