/*
 * figures_frame.c - what every figure of the report has around its content (see figures_int.h):
 * the title, the "SIMULATED" label when the data are simulated, the legend rows, the notes at the
 * bottom, value axes with round ticks, the colour and fill styles, and the writing of the canvas
 * as SVG and PNG into fig/.  It draws no data.
 */
#include "analysis/figures_int.h"
#include "analysis/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void fig_note(struct fig_result *r, const char *fmt, ...)
{
    char buf[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (r->notes.len)
        sb_puts(&r->notes, "; ");
    sb_puts(&r->notes, buf);
}

/* Okabe-Ito: blue, vermilion, orange, bluish green, reddish purple, sky blue, yellow, black. */
static const uint32_t palette[] = {0x0072B2, 0xD55E00, 0xE69F00, 0x009E73,
                                   0xCC79A7, 0x56B4E9, 0xF0E442, 0x000000};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

uint32_t fig_tint(uint32_t rgb, double t)
{
    double r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
    double to = t >= 0 ? 255 : 0, k = fabs(t);

    if (k > 1)
        k = 1;
    r += (to - r) * k;
    g += (to - g) * k;
    b += (to - b) * k;
    return (uint32_t)lround(r) << 16 | (uint32_t)lround(g) << 8 | (uint32_t)lround(b);
}

uint32_t fig_colour(size_t i)
{
    return palette[i % NPALETTE];
}

enum plot_dash fig_dash(size_t i)
{
    static const enum plot_dash d[] = {PLOT_SOLID, PLOT_DASHED, PLOT_DASHDOT, PLOT_DOTTED};
    return d[i % 4];
}

struct plot_fill fig_fill(size_t i)
{
    /* solid dark, hatched, solid light, back-hatched, cross-hatched, lines, ... */
    static const enum plot_fill_kind kind[] = {
        PLOT_FILL_SOLID, PLOT_FILL_HATCH,  PLOT_FILL_SOLID,  PLOT_FILL_BACKHATCH,
        PLOT_FILL_CROSS, PLOT_FILL_HLINES, PLOT_FILL_VLINES, PLOT_FILL_SOLID};
    struct plot_fill f;

    f.kind = kind[i % NPALETTE];
    f.fg = fig_colour(i);
    f.bg = fig_tint(f.fg, 0.78);
    f.opacity = 1;
    return f;
}

void fig_fmt(char *buf, size_t n, double v, int dec)
{
    if (fabs(v) < 0.5 * pow(10, -dec))
        v = 0; /* no "-0" */
    snprintf(buf, n, "%.*f", dec, v);
}

double fig_y(const struct fig_axis *a, double v)
{
    if (a->v1 == a->v0)
        return a->y0_px;
    return a->y0_px + (v - a->v0) * (a->y1_px - a->y0_px) / (a->v1 - a->v0);
}

void fig_yticks(struct plot *p, const struct fig_axis *a, double x_px, double w_px,
                const double *ticks, size_t n, int dec)
{
    const struct plot_stroke grid = {0xd9d9d9, 1, PLOT_SOLID};
    const struct plot_stroke tick = {0x333333, 1, PLOT_SOLID};
    const struct plot_font f = {FIG_TICK_PX, 0, 0x222222};
    char buf[64];

    for (size_t i = 0; i < n; i++) {
        double y = fig_y(a, ticks[i]);
        plot_line(p, x_px, y, x_px + w_px, y, &grid);
        plot_line(p, x_px - 4, y, x_px, y, &tick);
        fig_fmt(buf, sizeof(buf), ticks[i], dec);
        plot_text(p, x_px - 7, y + FIG_TICK_PX * 0.36, buf, &f, PLOT_END, 0);
    }
}

/* ---- header: title, simulated label, legend ------------------------------------------------ */

#define KEY_GAP 16.0
#define LEGEND_LINE_H 21.0

static double key_width(const struct fig_key *k)
{
    double sym = k->kind == FIG_KEY_LINE ? 26 : 16;
    return sym + 5 + plot_text_width(k->label, FIG_LABEL_PX, 0);
}

static void draw_key(struct plot *p, double x, double y_mid, const struct fig_key *k)
{
    const struct plot_font f = {FIG_LABEL_PX, 0, 0x111111};
    const struct plot_stroke border = {0x333333, 0.8, PLOT_SOLID};
    double sym = k->kind == FIG_KEY_LINE ? 26 : 16;

    switch (k->kind) {
    case FIG_KEY_FILL: plot_rect(p, x, y_mid - 6.5, 16, 13, &k->fill, &border); break;
    case FIG_KEY_LINE: plot_line(p, x, y_mid, x + 26, y_mid, &k->stroke); break;
    case FIG_KEY_WHISKER:
        plot_line(p, x + 8, y_mid - 7, x + 8, y_mid + 7, &k->stroke);
        plot_line(p, x + 4, y_mid - 7, x + 12, y_mid - 7, &k->stroke);
        plot_line(p, x + 4, y_mid + 7, x + 12, y_mid + 7, &k->stroke);
        break;
    case FIG_KEY_DIAMOND: {
        double d[8] = {x + 8, y_mid - 6, x + 14, y_mid, x + 8, y_mid + 6, x + 2, y_mid};
        struct plot_fill black = {PLOT_FILL_SOLID, PLOT_BLACK, PLOT_WHITE, 1};
        plot_polygon(p, d, 4, &black, NULL);
        break;
    }
    }
    plot_text(p, x + sym + 5, y_mid + FIG_LABEL_PX * 0.36, k->label, &f, PLOT_START, 0);
}

/* Lays out (and with p draws) one legend row from y; returns the height used. */
static double legend_row(struct plot *p, double width, double y, const struct fig_legend_row *r)
{
    const struct plot_font hf = {FIG_LABEL_PX, 1, 0x111111};
    double avail = width - 24, hw = r->heading[0] ? plot_text_width(r->heading, 13, 1) + 8 : 0;
    double h = 0;
    size_t i = 0;

    while (i < r->n) {
        /* the items that fit on this line */
        double w = i == 0 ? hw : 0;
        size_t j = i;
        while (j < r->n) {
            double kw = key_width(&r->key[j]) + (j > i ? KEY_GAP : 0);
            if (j > i && w + kw > avail)
                break;
            w += kw;
            j++;
        }
        if (p) {
            double x = (width - w) / 2, ym = y + h + LEGEND_LINE_H / 2;
            if (i == 0 && r->heading[0]) {
                plot_text(p, x, ym + FIG_LABEL_PX * 0.36, r->heading, &hf, PLOT_START, 0);
                x += hw;
            }
            for (size_t k = i; k < j; k++) {
                if (k > i)
                    x += KEY_GAP;
                draw_key(p, x, ym, &r->key[k]);
                x += key_width(&r->key[k]);
            }
        }
        h += LEGEND_LINE_H;
        i = j;
    }
    return h;
}

double fig_header(struct plot *p, double width, const char *title, int simulated,
                  const struct fig_legend_row *rows, size_t nrows)
{
    const struct plot_font tf = {FIG_TITLE_PX, 1, 0x111111};
    double y = 12;

    if (p)
        plot_text(p, width / 2, y + FIG_TITLE_PX, title, &tf, PLOT_MIDDLE, 0);
    y += FIG_TITLE_PX + 10;
    if (simulated) {
        static const char label[] = "SIMULATED meter: these numbers are not a measurement";
        const struct plot_font sf = {12.5, 1, 0xb00020};
        const struct plot_stroke sb = {0xb00020, 1.5, PLOT_SOLID};
        const struct plot_fill bg = {PLOT_FILL_SOLID, 0xfdecee, PLOT_WHITE, 1};
        double w = plot_text_width(label, 12.5, 1) + 20;
        if (p) {
            plot_rect(p, (width - w) / 2, y, w, 21, &bg, &sb);
            plot_text(p, width / 2, y + 15, label, &sf, PLOT_MIDDLE, 0);
        }
        y += 21 + 8;
    }
    for (size_t i = 0; i < nrows; i++)
        if (rows[i].n)
            y += legend_row(p, width, y, &rows[i]);
    return y + 6;
}

/* ---- footer: notes, wrapped --------------------------------------------------------------- */

double fig_footer(struct plot *p, double width, double y, const char *notes)
{
    const struct plot_font f = {FIG_NOTE_PX, 0, 0x444444};
    double avail = width - 24, h = 0;
    const char *s = notes;
    char line[512];

    if (!notes || !*notes)
        return 0;
    h = 6;
    while (*s) {
        size_t n = 0, last_space = 0;
        /* one line: words while they fit, or a line break */
        while (s[n] && s[n] != '\n' && n < sizeof(line) - 1) {
            line[n] = s[n];
            line[n + 1] = '\0';
            if (s[n] == ' ')
                last_space = n;
            if (plot_text_width(line, FIG_NOTE_PX, 0) > avail && last_space > 0) {
                n = last_space;
                break;
            }
            n++;
        }
        line[n] = '\0';
        if (p)
            plot_text(p, 12, y + h + FIG_NOTE_PX, line, &f, PLOT_START, 0);
        h += FIG_NOTE_PX + 4;
        s += n;
        while (*s == ' ' || *s == '\n')
            s++;
    }
    return h + 6;
}

/* ---- writing -------------------------------------------------------------------------------- */

int fig_render(struct fig_ctx *c, struct fig_result *r, struct plot *p, char *err, size_t errlen)
{
    struct strbuf sb = STRBUF_INIT;
    char name[128], perr[300];
    int rc = -1;

    plot_set_title(p, r->title);
    if (c->simulated) {
        char desc[400];
        snprintf(desc, sizeof(desc),
                 "SIMULATED meter: the numbers of this figure come from a simulated meter, not "
                 "from a measurement. %s",
                 r->title);
        plot_set_description(p, desc);
    }
    if (plot_svg(p, 1, &sb) < 0) {
        snprintf(err, errlen, "'%s/%s.svg': out of memory", c->figdir, r->name);
        goto out;
    }
    snprintf(name, sizeof(name), "%s.svg", r->name);
    if (report_write(c->figdir, name, sb.buf, sb.len, err, errlen) < 0)
        goto out;
    r->made = 1;
    if (!c->png) {
        snprintf(r->png_reason, sizeof(r->png_reason), "%s", c->png_reason);
    } else {
        sb_reset(&sb);
        if (plot_png(p, 2.0, &sb, perr, sizeof(perr)) < 0) {
            snprintf(r->png_reason, sizeof(r->png_reason), "%s", perr);
        } else {
            snprintf(name, sizeof(name), "%s.png", r->name);
            if (report_write(c->figdir, name, sb.buf, sb.len, err, errlen) < 0)
                goto out;
            r->png_made = 1;
        }
    }
    rc = 0;
out:
    sb_free(&sb);
    return rc;
}
