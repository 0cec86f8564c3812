/*
 * plot_png.c - the PNG backend of plot.h: replays a canvas's display list through cairo (Debian
 * libcairo2-dev) onto an RGB image of scale x the canvas size, and writes it as PNG with the
 * canvas's title and description as iTXt chunks.  Hatches are drawn as the same line families
 * that plot_svg.c's patterns tile (plot__hatch), in canvas coordinates, so the two images agree.
 * Text goes through cairo's "toy" text API (fontconfig picks DejaVu Sans).  Built only with
 * JB_HAVE_CAIRO (cmake -DJB_WITH_CAIRO=ON, the default where cairo is found); without it
 * plot_png() says so and plot_png_available() is 0.
 */
#include "analysis/plot.h"

#include <stdio.h>

#ifndef JB_VERSION
#define JB_VERSION "unknown"
#endif

#ifndef JB_HAVE_CAIRO

int plot_png_available(void)
{
    return 0;
}

void plot_png_release(void)
{
}

int plot_png(const struct plot *p, double scale, struct strbuf *out, char *err, size_t errlen)
{
    (void)p;
    (void)scale;
    (void)out;
    snprintf(err, errlen,
             "this joulebench was built without cairo (cmake -DJB_WITH_CAIRO=ON "
             "with libcairo2-dev draws PNGs)");
    return -1;
}

#else

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

int plot_png_available(void)
{
    return 1;
}

void plot_png_release(void)
{
    /* cairo's toy font faces hold fontconfig patterns: cairo first, then fontconfig */
    cairo_debug_reset_static_data();
    FcFini();
}

static void set_rgb(cairo_t *cr, uint32_t rgb, double alpha)
{
    double r = (double)((rgb >> 16) & 0xff) / 255.0, g = (double)((rgb >> 8) & 0xff) / 255.0,
           b = (double)(rgb & 0xff) / 255.0;

    if (alpha > 0 && alpha < 1)
        cairo_set_source_rgba(cr, r, g, b, alpha);
    else
        cairo_set_source_rgb(cr, r, g, b);
}

static void set_stroke(cairo_t *cr, const struct plot_stroke *s)
{
    double pat[4];
    int n;

    set_rgb(cr, s->rgb, 1);
    cairo_set_line_width(cr, s->width_px);
    plot__dash(s->dash, s->width_px, pat, &n);
    cairo_set_dash(cr, pat, n, 0);
}

/* Fills the current path (kept) with f: a colour, or the background and then the hatch lines
 * u = x cos(a) + y sin(a) = offset + k * spacing, clipped to the path. */
static void fill_path(cairo_t *cr, const struct plot_fill *f)
{
    double ang[2], sp, lw, x1, y1, x2, y2;
    cairo_path_t *path;
    int na;

    if (f->kind == PLOT_FILL_SOLID) {
        set_rgb(cr, f->fg, f->opacity);
        cairo_fill_preserve(cr);
        return;
    }
    set_rgb(cr, f->bg, f->opacity);
    cairo_fill_preserve(cr);
    na = plot__hatch(f->kind, ang, &sp, &lw);
    cairo_path_extents(cr, &x1, &y1, &x2, &y2);
    /* the path is not part of cairo's saved state: keep it for the caller's stroke */
    path = cairo_copy_path(cr);
    cairo_save(cr);
    cairo_clip_preserve(cr);
    cairo_new_path(cr);
    for (int i = 0; i < na; i++) {
        double a = ang[i] * M_PI / 180.0, c = cos(a), s = sin(a);
        /* the cross hatch's tile holds both diagonals of a square of side sp: each family is
         * spaced sp / sqrt(2) and passes through the tile's corners */
        double step = na == 2 ? sp / sqrt(2.0) : sp, off = na == 2 ? 0 : sp / 2;
        double u[4] = {x1 * c + y1 * s, x2 * c + y1 * s, x1 * c + y2 * s, x2 * c + y2 * s};
        double umin = fmin(fmin(u[0], u[1]), fmin(u[2], u[3]));
        double umax = fmax(fmax(u[0], u[1]), fmax(u[2], u[3]));
        double len = (x2 - x1) + (y2 - y1) + 2 * sp;
        double k0 = floor((umin - off) / step) - 1, k1 = ceil((umax - off) / step) + 1;

        for (double k = k0; k <= k1; k++) {
            double uu = off + k * step;
            /* the point of the line nearest the box's centre, then along (-s, c) both ways */
            double cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
            double d = uu - (cx * c + cy * s);
            double px = cx + d * c, py = cy + d * s;
            cairo_move_to(cr, px + s * len, py - c * len);
            cairo_line_to(cr, px - s * len, py + c * len);
        }
    }
    set_rgb(cr, f->fg, f->opacity);
    cairo_set_line_width(cr, lw);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_SQUARE);
    cairo_stroke(cr);
    cairo_restore(cr);
    cairo_new_path(cr);
    if (path->status == CAIRO_STATUS_SUCCESS)
        cairo_append_path(cr, path);
    cairo_path_destroy(path);
}

static void draw_text(cairo_t *cr, const struct plot_op *op)
{
    cairo_text_extents_t ext;
    double dx;

    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           op->font.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, op->font.size_px);
    cairo_text_extents(cr, op->text, &ext);
    dx = op->anchor == PLOT_MIDDLE ? -ext.x_advance / 2
         : op->anchor == PLOT_END  ? -ext.x_advance
                                   : 0;
    cairo_save(cr);
    cairo_translate(cr, op->x, op->y);
    if (op->rotate_deg != 0)
        cairo_rotate(cr, op->rotate_deg * M_PI / 180.0);
    cairo_move_to(cr, dx, 0);
    set_rgb(cr, op->font.rgb, 1);
    cairo_show_text(cr, op->text);
    cairo_restore(cr);
}

static cairo_status_t to_strbuf(void *closure, const unsigned char *data, unsigned int length)
{
    struct strbuf *sb = closure;

    sb_append(sb, (const char *)data, length);
    return sb_failed(sb) ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

static uint32_t crc32_png(const unsigned char *p, size_t n, uint32_t c)
{
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c;
}

static void put_be32(struct strbuf *sb, uint32_t v)
{
    char b[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
    sb_append(sb, b, 4);
}

/* An iTXt chunk (UTF-8, uncompressed): keyword, 0, flag 0, method 0, no language, no translated
 * keyword, text. */
static void itxt(struct strbuf *sb, const char *key, const char *text)
{
    struct strbuf body = STRBUF_INIT;
    uint32_t c;

    sb_puts(&body, "iTXt");
    sb_puts(&body, key);
    sb_append(&body, "\0\0\0\0\0", 5);
    sb_puts(&body, text);
    if (sb_failed(&body)) {
        sb_free(&body);
        sb->failed = 1;
        return;
    }
    put_be32(sb, (uint32_t)(body.len - 4));
    sb_append(sb, body.buf, body.len);
    c = crc32_png((const unsigned char *)body.buf, body.len, 0xffffffffu) ^ 0xffffffffu;
    put_be32(sb, c);
    sb_free(&body);
}

int plot_png(const struct plot *p, double scale, struct strbuf *out, char *err, size_t errlen)
{
    cairo_surface_t *surf = NULL;
    cairo_t *cr = NULL;
    cairo_font_options_t *fo = NULL;
    struct strbuf png = STRBUF_INIT;
    cairo_status_t st;
    int w, h, in_clip = 0, rc = -1;

    if (plot_failed(p)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!(scale > 0) || scale > 8)
        scale = 1;
    w = (int)ceil(p->width * scale);
    h = (int)ceil(p->height * scale);
    surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cr = cairo_create(surf);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "cairo: %s", cairo_status_to_string(cairo_status(cr)));
        goto out;
    }
    fo = cairo_font_options_create();
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_SLIGHT);
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_set_font_options(cr, fo);
    cairo_scale(cr, scale, scale);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (size_t i = 0; i < p->nops; i++) {
        const struct plot_op *op = &p->ops[i];

        switch (op->kind) {
        case PLOT_OP_LINE:
            cairo_new_path(cr);
            cairo_move_to(cr, op->x, op->y);
            cairo_line_to(cr, op->w, op->h);
            set_stroke(cr, &op->stroke);
            cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
            cairo_stroke(cr);
            break;
        case PLOT_OP_POLY:
        case PLOT_OP_RECT:
            cairo_new_path(cr);
            if (op->kind == PLOT_OP_RECT) {
                cairo_rectangle(cr, op->x, op->y, op->w, op->h);
            } else {
                cairo_move_to(cr, op->xy[0], op->xy[1]);
                for (size_t k = 1; k < op->n; k++)
                    cairo_line_to(cr, op->xy[2 * k], op->xy[2 * k + 1]);
                if (op->closed)
                    cairo_close_path(cr);
            }
            if (op->has_fill && (op->kind == PLOT_OP_RECT || op->closed))
                fill_path(cr, &op->fill);
            if (op->has_stroke) {
                set_stroke(cr, &op->stroke);
                cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
                cairo_stroke_preserve(cr);
            }
            cairo_new_path(cr);
            break;
        case PLOT_OP_TEXT: draw_text(cr, op); break;
        case PLOT_OP_CLIP:
            if (in_clip) {
                cairo_restore(cr);
                in_clip = 0;
            }
            if (op->w < 0)
                break;
            cairo_save(cr);
            cairo_new_path(cr);
            cairo_rectangle(cr, op->x, op->y, op->w, op->h);
            cairo_clip(cr);
            in_clip = 1;
            break;
        }
    }
    if (in_clip)
        cairo_restore(cr);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "cairo: %s", cairo_status_to_string(cairo_status(cr)));
        goto out;
    }
    cairo_surface_flush(surf);
    st = cairo_surface_write_to_png_stream(surf, to_strbuf, &png);
    if (st != CAIRO_STATUS_SUCCESS || png.len < 33) {
        snprintf(err, errlen, "cairo: %s",
                 sb_failed(&png) ? "out of memory" : cairo_status_to_string(st));
        goto out;
    }
    /* signature and IHDR (8 + 25 bytes), then the text chunks, then the rest */
    sb_append(out, png.buf, 33);
    itxt(out, "Title", p->title ? p->title : p->id);
    if (p->desc && *p->desc)
        itxt(out, "Description", p->desc);
    itxt(out, "Software", "joulebench " JB_VERSION);
    sb_append(out, png.buf + 33, png.len - 33);
    if (sb_failed(out)) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    cairo_font_options_destroy(fo);
    cairo_destroy(cr);
    cairo_surface_destroy(surf);
    sb_free(&png);
    return rc;
}

#endif
