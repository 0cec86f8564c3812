/*
 * plot_svg.c - the SVG backend of plot.h: replays a canvas's display list as SVG 1.1 text.
 * Fill patterns become <pattern> elements (user-space tiles rotated to the hatch angle, the same
 * geometry plot_png.c draws), clips become <clipPath>s, and every id starts with the canvas's id
 * so that several figures can live in one HTML page.  Text is XML-escaped; numbers are written
 * with at most two decimals.  Not a general SVG writer.
 */
#include "analysis/plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void num(struct strbuf *sb, double v)
{
    char buf[64];
    size_t n;

    if (!isfinite(v))
        v = 0;
    if (fabs(v) < 0.005)
        v = 0;
    snprintf(buf, sizeof(buf), "%.2f", v);
    n = strlen(buf);
    while (n > 0 && buf[n - 1] == '0')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '.')
        buf[--n] = '\0';
    sb_puts(sb, buf);
}

static void xml_esc(struct strbuf *sb, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': sb_puts(sb, "&amp;"); break;
        case '<': sb_puts(sb, "&lt;"); break;
        case '>': sb_puts(sb, "&gt;"); break;
        case '"': sb_puts(sb, "&quot;"); break;
        case '\'': sb_puts(sb, "&#39;"); break;
        default: sb_putc(sb, *s);
        }
    }
}

static void colour(struct strbuf *sb, uint32_t rgb)
{
    sb_printf(sb, "#%06x", (unsigned)(rgb & 0xffffffu));
}

/* Patterns used by the canvas: one <pattern> per distinct (kind, fg, bg) fill. */
struct pat {
    enum plot_fill_kind kind;
    uint32_t fg, bg;
};

static int pat_index(const struct pat *pats, size_t n, const struct plot_fill *f)
{
    for (size_t i = 0; i < n; i++)
        if (pats[i].kind == f->kind && pats[i].fg == f->fg && pats[i].bg == f->bg)
            return (int)i;
    return -1;
}

static void write_pattern(struct strbuf *sb, const char *id, size_t i, const struct pat *pt)
{
    double ang[2], sp, lw;
    int na = plot__hatch(pt->kind, ang, &sp, &lw);

    /* a cross hatch is two line families: a tile for each angle would need two patterns, so the
     * tile holds both diagonals of a square (which tile seamlessly at 45 degrees) */
    sb_printf(sb, "<pattern id=\"%s-p%zu\" patternUnits=\"userSpaceOnUse\" width=\"", id, i);
    num(sb, sp);
    sb_puts(sb, "\" height=\"");
    num(sb, sp);
    sb_puts(sb, "\"");
    if (na == 1 && ang[0] != 0) {
        sb_puts(sb, " patternTransform=\"rotate(");
        num(sb, ang[0]);
        sb_puts(sb, ")\"");
    }
    sb_puts(sb, "><rect width=\"");
    num(sb, sp);
    sb_puts(sb, "\" height=\"");
    num(sb, sp);
    sb_puts(sb, "\" fill=\"");
    colour(sb, pt->bg);
    sb_puts(sb, "\"/>");
    if (na == 1) {
        sb_puts(sb, "<line x1=\"");
        num(sb, sp / 2);
        sb_puts(sb, "\" y1=\"-1\" x2=\"");
        num(sb, sp / 2);
        sb_puts(sb, "\" y2=\"");
        num(sb, sp + 1);
        sb_puts(sb, "\" stroke=\"");
        colour(sb, pt->fg);
        sb_puts(sb, "\" stroke-width=\"");
        num(sb, lw);
        sb_puts(sb, "\"/>");
    } else if (na == 2) {
        sb_puts(sb, "<path d=\"M0 0L");
        num(sb, sp);
        sb_putc(sb, ' ');
        num(sb, sp);
        sb_puts(sb, "M");
        num(sb, sp);
        sb_puts(sb, " 0L0 ");
        num(sb, sp);
        sb_puts(sb, "\" stroke=\"");
        colour(sb, pt->fg);
        sb_puts(sb, "\" stroke-width=\"");
        num(sb, lw);
        sb_puts(sb, "\" stroke-linecap=\"square\"/>");
    }
    sb_puts(sb, "</pattern>\n");
}

static void fill_attr(struct strbuf *sb, const struct plot *p, const struct plot_op *op,
                      const struct pat *pats, size_t npat)
{
    if (!op->has_fill) {
        sb_puts(sb, " fill=\"none\"");
        return;
    }
    if (op->fill.kind == PLOT_FILL_SOLID) {
        sb_puts(sb, " fill=\"");
        colour(sb, op->fill.fg);
        sb_puts(sb, "\"");
    } else {
        sb_printf(sb, " fill=\"url(#%s-p%d)\"", p->id, pat_index(pats, npat, &op->fill));
    }
    if (op->fill.opacity > 0 && op->fill.opacity < 1) {
        sb_puts(sb, " fill-opacity=\"");
        num(sb, op->fill.opacity);
        sb_puts(sb, "\"");
    }
}

static void stroke_attr(struct strbuf *sb, const struct plot_op *op)
{
    double pat[4];
    int n;

    if (!op->has_stroke)
        return;
    sb_puts(sb, " stroke=\"");
    colour(sb, op->stroke.rgb);
    sb_puts(sb, "\" stroke-width=\"");
    num(sb, op->stroke.width_px);
    sb_puts(sb, "\"");
    plot__dash(op->stroke.dash, op->stroke.width_px, pat, &n);
    if (n) {
        sb_puts(sb, " stroke-dasharray=\"");
        for (int i = 0; i < n; i++) {
            if (i)
                sb_putc(sb, ',');
            num(sb, pat[i]);
        }
        sb_puts(sb, "\"");
    }
}

/* The <svg> element's opening, title, description and the hatch patterns. */
static void svg_open(struct strbuf *out, const struct plot *p, int standalone,
                     const struct pat *pats, size_t npat)
{
    if (standalone)
        sb_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\"");
    else
        sb_puts(out, "<svg");
    sb_puts(out, " width=\"");
    num(out, p->width);
    sb_puts(out, "\" height=\"");
    num(out, p->height);
    sb_puts(out, "\" viewBox=\"0 0 ");
    num(out, p->width);
    sb_putc(out, ' ');
    num(out, p->height);
    sb_printf(out, "\" role=\"img\" aria-labelledby=\"%s-title\"", p->id);
    if (!standalone)
        sb_puts(out, " style=\"max-width:100%;height:auto\"");
    sb_puts(out, " font-family=\"DejaVu Sans, Verdana, sans-serif\">\n");
    sb_printf(out, "<title id=\"%s-title\">", p->id);
    xml_esc(out, p->title ? p->title : p->id);
    sb_puts(out, "</title>\n");
    if (p->desc && *p->desc) {
        sb_puts(out, "<desc>");
        xml_esc(out, p->desc);
        sb_puts(out, "</desc>\n");
    }
    if (npat) {
        sb_puts(out, "<defs>\n");
        for (size_t i = 0; i < npat; i++)
            write_pattern(out, p->id, i, &pats[i]);
        sb_puts(out, "</defs>\n");
    }
}

/* One drawing item (not a clip: plot_svg keeps the clip groups). */
static void svg_op(struct strbuf *out, const struct plot *p, const struct plot_op *op,
                   const struct pat *pats, size_t npat)
{
    switch (op->kind) {
    case PLOT_OP_LINE:
        sb_puts(out, "<line x1=\"");
        num(out, op->x);
        sb_puts(out, "\" y1=\"");
        num(out, op->y);
        sb_puts(out, "\" x2=\"");
        num(out, op->w);
        sb_puts(out, "\" y2=\"");
        num(out, op->h);
        sb_puts(out, "\"");
        stroke_attr(out, op);
        sb_puts(out, "/>\n");
        return;
    case PLOT_OP_POLY:
        sb_puts(out, op->closed ? "<polygon points=\"" : "<polyline points=\"");
        for (size_t k = 0; k < op->n; k++) {
            if (k)
                sb_putc(out, ' ');
            num(out, op->xy[2 * k]);
            sb_putc(out, ',');
            num(out, op->xy[2 * k + 1]);
        }
        sb_puts(out, "\"");
        if (op->closed)
            fill_attr(out, p, op, pats, npat);
        else
            sb_puts(out, " fill=\"none\"");
        stroke_attr(out, op);
        if (!op->closed)
            sb_puts(out, " stroke-linejoin=\"round\"");
        sb_puts(out, "/>\n");
        return;
    case PLOT_OP_RECT:
        sb_puts(out, "<rect x=\"");
        num(out, op->x);
        sb_puts(out, "\" y=\"");
        num(out, op->y);
        sb_puts(out, "\" width=\"");
        num(out, op->w);
        sb_puts(out, "\" height=\"");
        num(out, op->h);
        sb_puts(out, "\"");
        fill_attr(out, p, op, pats, npat);
        stroke_attr(out, op);
        sb_puts(out, "/>\n");
        return;
    case PLOT_OP_TEXT:
        sb_puts(out, "<text x=\"");
        num(out, op->x);
        sb_puts(out, "\" y=\"");
        num(out, op->y);
        sb_puts(out, "\" font-size=\"");
        num(out, op->font.size_px);
        sb_puts(out, "\"");
        if (op->font.bold)
            sb_puts(out, " font-weight=\"bold\"");
        if (op->font.rgb != PLOT_BLACK) {
            sb_puts(out, " fill=\"");
            colour(out, op->font.rgb);
            sb_puts(out, "\"");
        }
        if (op->anchor != PLOT_START)
            sb_puts(out,
                    op->anchor == PLOT_MIDDLE ? " text-anchor=\"middle\"" : " text-anchor=\"end\"");
        if (op->rotate_deg != 0) {
            sb_puts(out, " transform=\"rotate(");
            num(out, op->rotate_deg);
            sb_putc(out, ' ');
            num(out, op->x);
            sb_putc(out, ' ');
            num(out, op->y);
            sb_puts(out, ")\"");
        }
        sb_putc(out, '>');
        xml_esc(out, op->text);
        sb_puts(out, "</text>\n");
        return;
    case PLOT_OP_CLIP: return;
    }
}

int plot_svg(const struct plot *p, int standalone, struct strbuf *out)
{
    struct pat pats[64];
    size_t npat = 0, nclip = 0;
    int in_clip = 0;

    if (plot_failed(p))
        return -1;
    for (size_t i = 0; i < p->nops; i++) {
        const struct plot_op *op = &p->ops[i];
        if (!op->has_fill || op->fill.kind == PLOT_FILL_SOLID ||
            pat_index(pats, npat, &op->fill) >= 0 || npat == sizeof(pats) / sizeof(pats[0]))
            continue;
        pats[npat].kind = op->fill.kind;
        pats[npat].fg = op->fill.fg;
        pats[npat].bg = op->fill.bg;
        npat++;
    }
    svg_open(out, p, standalone, pats, npat);
    /* a hatch with more distinct fills than the table holds falls back to its foreground */
    for (size_t i = 0; i < p->nops; i++) {
        const struct plot_op *op = &p->ops[i];
        struct plot_op tmp;

        if (op->has_fill && op->fill.kind != PLOT_FILL_SOLID &&
            pat_index(pats, npat, &op->fill) < 0) {
            tmp = *op;
            tmp.fill.kind = PLOT_FILL_SOLID;
            op = &tmp;
        }
        if (op->kind != PLOT_OP_CLIP) {
            svg_op(out, p, op, pats, npat);
            continue;
        }
        if (in_clip) {
            sb_puts(out, "</g>\n");
            in_clip = 0;
        }
        if (op->w < 0)
            continue;
        sb_printf(out, "<clipPath id=\"%s-c%zu\"><rect x=\"", p->id, nclip);
        num(out, op->x);
        sb_puts(out, "\" y=\"");
        num(out, op->y);
        sb_puts(out, "\" width=\"");
        num(out, op->w);
        sb_puts(out, "\" height=\"");
        num(out, op->h);
        sb_printf(out, "\"/></clipPath>\n<g clip-path=\"url(#%s-c%zu)\">\n", p->id, nclip);
        nclip++;
        in_clip = 1;
    }
    if (in_clip)
        sb_puts(out, "</g>\n");
    sb_puts(out, "</svg>\n");
    return sb_failed(out) ? -1 : 0;
}
