/*
 * figures_bars.c - the four bar figures of the report: Fig. 2 energy (stacked by phase where
 * configs.csv has the phases' energies), Fig. 3 average power (epochs 2..N as bars, epoch 1 as
 * markers), Fig. 4 GPU utilisation and Fig. 5 final accuracy.  One panel per facet, bars grouped
 * by the grouping level, one colour (and fill pattern) per value of the colour level, whiskers of
 * the 95% confidence interval (mean +- <quantity>_ci95) where configs.csv has them, cut to the
 * quantity's physical range (energy and power >= 0, utilisation and accuracy within 0..100%) with
 * a note.  It draws what configs.csv holds and computes nothing but unit changes (J -> kJ,
 * fraction -> %) and the sums of the stacked segments.
 */
#include "analysis/figures_int.h"
#include "analysis/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSEG 4

struct bar_source {
    const char *mean, *ci; /* columns; ci NULL where the method has none */
    double scale;          /* into the axis unit */
    const char *title;     /* figure title when this source is used */
};

struct bar_spec {
    const char *name;
    const char *ylabel;
    const char *unit;        /* of the axis, for fig/<name>.csv */
    int fraction_to_percent; /* accuracy: a fraction in [0, 1] is drawn in % */
    double limit;            /* physical upper bound in the axis unit (NaN: none) */
    struct bar_source src[3];
    const char *mark_mean; /* drawn as markers over the bars (epoch 1 power), if present */
    const char *seg[NSEG]; /* stacked segments (with src[0] only), bottom to top */
    const char *seg_label[NSEG];
    const char *caption;
};

static const struct bar_spec specs[4] = {
    {"energy",
     "energy (kJ)",
     "kJ",
     0,
     NAN,
     {{"energy_j_mean", "energy_j_ci95", 1e-3, "Energy per configuration, by phase"},
      {"total_energy_kJ", NULL, 1.0, "Total energy per configuration"}},
     NULL,
     {"startup_energy_j_mean", "epochs_energy_j_mean", "eval_energy_j_mean", "other_energy_j_mean"},
     {"start-up", "training epochs", "evaluation", "rest of the command"},
     "GPU energy of the whole command per configuration"},
    {"power",
     "average power (W)",
     "W",
     0,
     NAN,
     {{"rest_avg_power_w_mean", "rest_avg_power_w_ci95", 1.0,
       "Average power, epochs 2-N (bars) and epoch 1 (markers)"},
      {"avg_power_w_mean", "avg_power_w_ci95", 1.0, "Average power"},
      {"mean_power_W", NULL, 1.0, "Average power"}},
     "epoch1_avg_power_w_mean",
     {NULL, NULL, NULL, NULL},
     {NULL, NULL, NULL, NULL},
     "Average power (energy / time)"},
    {"gpu_util",
     "GPU utilisation (%)",
     "%",
     0,
     100.0,
     {{"gpu_util_pct_mean", "gpu_util_pct_ci95", 1.0, "Average GPU utilisation"},
      {"mean_gpu_util_pct", NULL, 1.0, "Average GPU utilisation"}},
     NULL,
     {NULL, NULL, NULL, NULL},
     {NULL, NULL, NULL, NULL},
     "Average GPU utilisation over the command"},
    {"accuracy",
     "final test accuracy (%)",
     "%",
     1,
     100.0,
     {{"final_accuracy_mean", "final_accuracy_ci95", 1.0, "Final test accuracy"},
      {"final_accuracy", NULL, 1.0, "Final test accuracy"}},
     NULL,
     {NULL, NULL, NULL, NULL},
     {NULL, NULL, NULL, NULL},
     "Test accuracy after the last epoch"},
};

/* Layout, CSS pixels. */
#define PLOT_H 210.0
#define STRIP_H 21.0
#define XTICK_H 20.0
#define XLABEL_H 20.0
#define ROW_GAP 12.0
#define COL_GAP 16.0
#define LEFT_TITLE_W 26.0
#define GROUP_GAP 16.0

struct bar_point {
    int ok; /* has a mean */
    double mean, lo, hi, mark;
    double seg[NSEG];
};

/* The stacked segments' fills for colour value f: start-up dark, training the colour, evaluation
 * light, the rest hatched: four looks that stay apart in greyscale whatever the colour. */
static struct plot_fill seg_fill(uint32_t colour, int s)
{
    struct plot_fill f = {PLOT_FILL_SOLID, colour, PLOT_WHITE, 1};

    switch (s) {
    case 0: f.fg = fig_tint(colour, -0.5); break;
    case 1: break;
    case 2: f.fg = fig_tint(colour, 0.6); break;
    default:
        f.kind = PLOT_FILL_HATCH;
        f.fg = colour;
        f.bg = PLOT_WHITE;
        break;
    }
    return f;
}

static const char *value_label(const struct fig_ctx *c, const struct fig_level *l, size_t i)
{
    if (c->no_levels)
        return "all runs";
    return l->val[i][0] ? l->val[i] : "(none)";
}

/* Reads a cell as a number: 1 and *v, 0 when empty or malformed (counted in *bad). */
static int cell_num(const struct figcsv *t, size_t row, int col, double *v, size_t *bad)
{
    char e[16];
    int g;

    if (col < 0)
        return 0;
    g = figcsv_num(t, row, col, v, e, sizeof(e));
    if (g < 0) {
        (*bad)++;
        return 0;
    }
    return g;
}

/* fig/<name>.csv: every number the figure draws, after the unit change and the cut to the
 * physical range, so that it can be checked or drawn again with another tool. */
static int write_data(struct fig_ctx *c, const struct bar_spec *sp, const struct bar_point *pt,
                      int stacked, const char *unit, char *err, size_t errlen)
{
    struct strbuf sb = STRBUF_INIT;
    char name[80];
    int rc;

    for (size_t l = 0; l < c->nlev && !c->no_levels; l++) {
        sb_csv_field(&sb, c->lev[l].name);
        sb_putc(&sb, ',');
    }
    sb_puts(&sb, "unit,value,ci95_low,ci95_high,epoch1");
    if (stacked)
        sb_puts(&sb, ",startup,epochs,eval,other");
    sb_putc(&sb, '\n');
    for (size_t row = 0; row < c->cfg.nrows; row++) {
        const struct bar_point *b = &pt[row];
        if (!b->ok)
            continue;
        for (size_t l = 0; l < c->nlev && !c->no_levels; l++) {
            sb_csv_field(&sb, figcsv_cell(&c->cfg, row, c->lev[l].col));
            sb_putc(&sb, ',');
        }
        sb_csv_field(&sb, unit);
        sb_putc(&sb, ',');
        sb_num(&sb, b->mean, 8);
        sb_putc(&sb, ',');
        sb_num(&sb, b->lo, 8);
        sb_putc(&sb, ',');
        sb_num(&sb, b->hi, 8);
        sb_putc(&sb, ',');
        sb_num(&sb, b->mark, 8);
        for (int s = 0; stacked && s < NSEG; s++) {
            sb_putc(&sb, ',');
            sb_num(&sb, b->seg[s], 8);
        }
        sb_putc(&sb, '\n');
    }
    snprintf(name, sizeof(name), "%s.csv", sp->name);
    if (sb_failed(&sb)) {
        sb_free(&sb);
        snprintf(err, errlen, "'%s/%s': out of memory", c->figdir, name);
        return -1;
    }
    rc = report_write(c->figdir, name, sb.buf, sb.len, err, errlen);
    sb_free(&sb);
    return rc;
}

static int draw_one(struct fig_ctx *c, const struct bar_spec *sp, struct fig_result *r, char *err,
                    size_t errlen)
{
    const struct figcsv *t = &c->cfg;
    const struct bar_source *src = NULL;
    const struct fig_level *colour = &c->lev[c->colour];
    const struct fig_level *group = c->group >= 0 ? &c->lev[c->group] : NULL;
    size_t nf = colour->nval ? colour->nval : 1, ng = group ? group->nval : 1, nr = t->nrows;
    struct bar_point *pt = NULL;
    int mcol, ccol = -1, kcol = -1, scol[NSEG] = {-1, -1, -1, -1}, stacked = 0, rc = -1;
    int any_ci = 0, any_mark = 0;
    double scale, limit = sp->limit, vmin = 0, vmax = 0;
    size_t missing = 0, dup = 0, nvalues = 0, cut_lo = 0, cut_hi = 0, bad = 0, seg_missing = 0,
           seg_neg = 0, seg_off = 0;
    int *drawn = NULL; /* panel * nf * ng: a bar drawn there already */
    struct plot *p = NULL;
    struct fig_legend_row rows[2];
    size_t nrows = 0;

    memset(rows, 0, sizeof(rows));
    /* the first source with a value; else the first present (it is then reported empty) */
    for (size_t i = 0; i < 3 && sp->src[i].mean && !src; i++) {
        int col = figcsv_col(t, sp->src[i].mean);
        for (size_t row = 0; col >= 0 && row < nr && !src; row++)
            if (figcsv_cell(t, row, col)[0])
                src = &sp->src[i];
    }
    for (size_t i = 0; i < 3 && sp->src[i].mean && !src; i++)
        if (figcsv_col(t, sp->src[i].mean) >= 0)
            src = &sp->src[i];
    if (!src) {
        struct strbuf cols = STRBUF_INIT;
        for (size_t i = 0; i < 3 && sp->src[i].mean; i++)
            sb_printf(&cols, "%s%s", i ? ", " : "", sp->src[i].mean);
        snprintf(r->title, sizeof(r->title), "%s", sp->src[0].title);
        snprintf(r->reason, sizeof(r->reason), "configs.csv has none of the columns %s",
                 sb_str(&cols));
        sb_free(&cols);
        return 0;
    }
    snprintf(r->title, sizeof(r->title), "%s", src->title);
    mcol = figcsv_col(t, src->mean);
    if (src->ci) {
        ccol = figcsv_col(t, src->ci);
        if (ccol < 0)
            fig_note(r, "no confidence whiskers: configs.csv has no column %s", src->ci);
    } else {
        fig_note(r, "no confidence whiskers: column %s comes without one", src->mean);
    }
    if (sp->mark_mean)
        kcol = figcsv_col(t, sp->mark_mean);
    if (sp->mark_mean && kcol < 0 && src == &sp->src[0])
        fig_note(r, "no epoch-1 markers: configs.csv has no column %s", sp->mark_mean);
    if (src != &sp->src[0] && kcol >= 0)
        snprintf(r->title, sizeof(r->title),
                 "Average power, all epochs (bars) and epoch 1 (markers)");
    if (sp->seg[0] && src == &sp->src[0]) {
        stacked = 1;
        for (int s = 0; s < NSEG; s++) {
            scol[s] = figcsv_col(t, sp->seg[s]);
            if (scol[s] < 0)
                stacked = 0;
        }
        if (!stacked) {
            fig_note(r, "not stacked by phase: configs.csv lacks the phase columns (%s, ...)",
                     sp->seg[0]);
            snprintf(r->title, sizeof(r->title), "Energy per configuration");
        }
    } else if (sp->seg[0]) {
        fig_note(r, "not stacked by phase: this method's configs.csv has the total only");
    }

    pt = calloc(nr + 1, sizeof(*pt));
    drawn = calloc(c->npanels * nf * ng + 1, sizeof(*drawn));
    if (!pt || !drawn) {
        snprintf(err, errlen, "'%s/configs.csv': out of memory", c->report_dir);
        goto out;
    }
    scale = src->scale;
    if (sp->fraction_to_percent) {
        int fraction = 1;
        for (size_t row = 0; row < nr; row++) {
            double v;
            if (cell_num(t, row, mcol, &v, &bad) && (v < 0 || v > 1))
                fraction = 0;
        }
        scale = fraction ? 100.0 : 1.0;
        if (!fraction) {
            fig_note(r, "values above 1: drawn as they are, not as a fraction in %%");
            limit = NAN;
        }
    }
    for (size_t row = 0; row < nr; row++) {
        struct bar_point *b = &pt[row];
        double v, ci = NAN, mk = NAN, top;

        if (!cell_num(t, row, mcol, &v, &bad)) {
            missing++;
            continue;
        }
        if (!cell_num(t, row, ccol, &ci, &bad))
            ci = NAN;
        if (!cell_num(t, row, kcol, &mk, &bad))
            mk = NAN;
        b->ok = 1;
        b->mean = v * scale;
        b->mark = isnan(mk) ? NAN : mk * scale;
        b->lo = b->hi = NAN;
        if (!isnan(ci)) {
            b->lo = (v - fabs(ci)) * scale;
            b->hi = (v + fabs(ci)) * scale;
            /* the interval is symmetric on a quantity that is not: its physical range wins */
            if (b->lo < 0 && b->mean >= 0) {
                b->lo = 0;
                cut_lo++;
            }
            if (!isnan(limit) && b->hi > limit && b->mean <= limit) {
                b->hi = limit;
                cut_hi++;
            }
            any_ci = 1;
        }
        any_mark |= !isnan(b->mark);
        if (stacked) {
            double sum = 0;
            int have = 0;
            for (int s = 0; s < NSEG; s++) {
                double sv;
                if (!cell_num(t, row, scol[s], &sv, &bad)) {
                    b->seg[s] = 0;
                    if (s == 0 || s == 2)
                        seg_missing |= 1u << s;
                    continue;
                }
                b->seg[s] = sv * scale;
                if (b->seg[s] < 0) {
                    seg_neg++;
                    b->seg[s] = 0;
                }
                sum += b->seg[s];
                have = 1;
            }
            if (have && fabs(sum - b->mean) > 0.01 * fabs(b->mean) + 1e-9)
                seg_off++;
            if (!have)
                b->seg[1] = b->mean; /* no phase at all: one segment, drawn as training */
        }
        nvalues++;
        top = fmax(b->mean, isnan(b->hi) ? b->mean : b->hi);
        if (!isnan(b->mark))
            top = fmax(top, b->mark);
        if (stacked) {
            double sum = 0;
            for (int s = 0; s < NSEG; s++)
                sum += b->seg[s];
            top = fmax(top, sum);
        }
        vmax = fmax(vmax, top);
        vmin = fmin(vmin, fmin(b->mean, isnan(b->mark) ? b->mean : b->mark));
    }
    if (bad)
        fig_note(r, "%zu malformed cell%s of configs.csv left out", bad, bad == 1 ? "" : "s");
    if (nvalues == 0) {
        snprintf(r->reason, sizeof(r->reason), "every value of column %s in configs.csv is empty",
                 src->mean);
        rc = 0;
        goto out;
    }
    if (missing)
        fig_note(r, "%zu configuration%s without a value of %s: no bar", missing,
                 missing == 1 ? "" : "s", src->mean);
    if (!any_ci && ccol >= 0)
        fig_note(r, "no confidence whiskers: column %s is empty (one run per configuration?)",
                 src->ci);
    if (cut_lo)
        fig_note(r, "%zu whisker%s reaching below 0 cut at 0", cut_lo, cut_lo == 1 ? "" : "s");
    if (cut_hi)
        fig_note(r, "%zu whisker%s reaching above 100%% cut at 100%%", cut_hi,
                 cut_hi == 1 ? "" : "s");
    if (stacked && (seg_missing & 1u))
        fig_note(r, "runs without a start-up phase (imports) have none drawn");
    if (stacked && (seg_missing & 4u))
        fig_note(r, "runs without evaluation phases have none drawn");
    if (seg_neg)
        fig_note(r, "%zu negative phase energ%s drawn as 0", seg_neg, seg_neg == 1 ? "y" : "ies");
    if (seg_off)
        fig_note(r,
                 "in %zu configuration%s the phases' means do not add up to the command's mean "
                 "(runs with different phases)",
                 seg_off, seg_off == 1 ? "" : "s");
    if (nf > 8)
        fig_note(r, "%zu values of %s: colours and fills repeat after 8", nf, colour->name);

    /* ---- layout ---- */
    {
        double ticks[32], tstep, v1, bw, group_w, pw, ytw = 0, width, height, head, foot;
        double top_y, x_origin;
        char drawn_title[260];
        int dec;
        size_t nt = plot_ticks(vmin, vmax > vmin ? vmax : vmin + 1, 5, ticks, 32, &dec);
        struct fig_axis ax;
        char buf[64];
        const struct plot_stroke axis = {0x333333, 1.1, PLOT_SOLID};
        const struct plot_stroke wh = {PLOT_BLACK, 1.3, PLOT_SOLID};
        const struct plot_stroke bar_edge = {0x222222, 0.7, PLOT_SOLID};
        const struct plot_font lf = {FIG_LABEL_PX, 0, 0x111111};
        const struct plot_font tf = {FIG_TICK_PX, 0, 0x222222};
        const struct plot_font sf = {12.5, 1, 0x111111};
        const struct plot_fill strip = {PLOT_FILL_SOLID, 0xe8e8e8, PLOT_WHITE, 1};
        int rotate_x = 0;

        tstep = nt >= 2 ? ticks[1] - ticks[0] : 1;
        v1 = ceil(vmax * 1.03 / tstep - 1e-9) * tstep;
        if (v1 <= vmax)
            v1 += tstep;
        if (!isnan(limit) && v1 > limit && vmax <= limit)
            v1 = limit;
        nt = plot_ticks(vmin, v1, 5, ticks, 32, &dec);
        for (size_t i = 0; i < nt; i++) {
            fig_fmt(buf, sizeof(buf), ticks[i], dec);
            ytw = fmax(ytw, plot_text_width(buf, FIG_TICK_PX, 0));
        }
        ytw += 14;
        bw = nf <= 2 ? 30 : nf <= 4 ? 22 : 16;
        group_w = (double)nf * bw + GROUP_GAP;
        pw = fmax(c->npanels == 1 ? 380 : 210, (double)ng * group_w + 12);
        group_w = (pw - 12) / (double)ng; /* the groups spread over the panel */
        for (size_t g = 0; group && g < ng; g++)
            if (plot_text_width(value_label(c, group, g), FIG_TICK_PX, 0) > group_w - 4)
                rotate_x = 1;
        width = LEFT_TITLE_W + (double)c->cols * (ytw + pw) + (double)(c->cols - 1) * COL_GAP + 16;

        /* legend */
        if (!c->no_levels) {
            struct fig_legend_row *lr = &rows[nrows++];
            snprintf(lr->heading, sizeof(lr->heading), "%s:", colour->name);
            for (size_t f = 0; f < colour->nval && lr->n < FIG_MAX_KEYS - 2; f++) {
                struct fig_key *k = &lr->key[lr->n++];
                k->kind = FIG_KEY_FILL;
                k->fill = stacked ? seg_fill(fig_colour(f), 1) : fig_fill(f);
                snprintf(k->label, sizeof(k->label), "%s", value_label(c, colour, f));
            }
        }
        if (any_ci || any_mark) {
            struct fig_legend_row *lr = nrows ? &rows[0] : &rows[nrows++];
            if (any_ci && lr->n < FIG_MAX_KEYS) {
                struct fig_key *k = &lr->key[lr->n++];
                k->kind = FIG_KEY_WHISKER;
                k->stroke = wh;
                snprintf(k->label, sizeof(k->label), "95%% CI");
            }
            if (any_mark && lr->n < FIG_MAX_KEYS) {
                struct fig_key *k = &lr->key[lr->n++];
                k->kind = FIG_KEY_DIAMOND;
                snprintf(k->label, sizeof(k->label), "epoch 1");
            }
        }
        if (stacked) {
            struct fig_legend_row *lr = &rows[nrows++];
            snprintf(lr->heading, sizeof(lr->heading), "phase (shade of each bar):");
            for (int s = 0; s < NSEG; s++) {
                struct fig_key *k = &lr->key[lr->n++];
                k->kind = FIG_KEY_FILL;
                k->fill = seg_fill(0x7a7a7a, s);
                snprintf(k->label, sizeof(k->label), "%s", sp->seg_label[s]);
            }
        }
        snprintf(drawn_title, sizeof(drawn_title), "Fig. %d: %s", r->number, r->title);
        width = fmax(width, plot_text_width(drawn_title, FIG_TITLE_PX, 1) + 40);
        head = fig_header(NULL, width, drawn_title, c->simulated, rows, nrows);
        foot = fig_footer(NULL, width, 0, sb_str(&r->notes));
        height = head;
        for (size_t row = 0; row < c->rows; row++)
            height += (c->nfacet ? STRIP_H : 0) + PLOT_H + XTICK_H + (rotate_x ? 22 : 0) +
                      XLABEL_H + ROW_GAP;
        height += foot + 4;

        p = plot_new(width, height, sp->name);
        if (!p) {
            snprintf(err, errlen, "'%s/%s.svg': out of memory", c->figdir, sp->name);
            goto out;
        }
        fig_header(p, width, drawn_title, c->simulated, rows, nrows);
        ax.v0 = vmin;
        ax.v1 = v1;
        x_origin = LEFT_TITLE_W;
        top_y = head;
        for (size_t pi = 0; pi < c->npanels; pi++) {
            size_t prow = pi / c->cols, pcol = pi % c->cols;
            double row_h = (c->nfacet ? STRIP_H : 0) + PLOT_H + XTICK_H + (rotate_x ? 22 : 0) +
                           XLABEL_H + ROW_GAP;
            double px = x_origin + (double)pcol * (ytw + pw + COL_GAP) + ytw;
            double py = top_y + (double)prow * row_h + (c->nfacet ? STRIP_H : 0);
            int below =
                prow + 1 < c->rows && pi + c->cols < c->npanels && c->panel[pi + c->cols].title;

            if (!c->panel[pi].title)
                continue;
            ax.y0_px = py + PLOT_H;
            ax.y1_px = py;
            if (c->nfacet) {
                plot_rect(p, px, py - STRIP_H, pw, STRIP_H - 2, &strip, NULL);
                plot_text(p, px + pw / 2, py - STRIP_H + 14.5, c->panel[pi].title, &sf, PLOT_MIDDLE,
                          0);
            }
            fig_yticks(p, &ax, px, pw, ticks, nt, dec);
            if (pcol == 0)
                plot_text(p, 17, py + PLOT_H / 2,
                          sp->fraction_to_percent && scale == 1.0 ? "final test accuracy"
                                                                  : sp->ylabel,
                          &lf, PLOT_MIDDLE, -90);
            plot_clip_begin(p, px, py - 1, pw, PLOT_H + 2);
            for (size_t row = 0; row < nr; row++) {
                const struct bar_point *b = &pt[row];
                const int *vi = c->vidx + row * c->nlev;
                size_t f = (size_t)(vi[c->colour] < 0 ? 0 : vi[c->colour]);
                size_t g = group ? (size_t)(vi[c->group] < 0 ? 0 : vi[c->group]) : 0;
                size_t slot = (pi * nf + f) * ng + g;
                double x, y0 = fig_y(&ax, 0);

                if (!b->ok || (size_t)c->panel_of_row[row] != pi)
                    continue;
                if (drawn[slot]++) {
                    dup++;
                    continue;
                }
                x = px + 6 + (double)g * group_w + (group_w - (double)nf * bw) / 2 + (double)f * bw;
                if (stacked) {
                    double base = 0;
                    for (int s = 0; s < NSEG; s++) {
                        struct plot_fill fl = seg_fill(fig_colour(f), s);
                        if (b->seg[s] <= 0)
                            continue;
                        plot_rect(p, x + 1, fig_y(&ax, base + b->seg[s]), bw - 2,
                                  fig_y(&ax, base) - fig_y(&ax, base + b->seg[s]), &fl, &bar_edge);
                        base += b->seg[s];
                    }
                } else {
                    struct plot_fill fl = fig_fill(f);
                    plot_rect(p, x + 1, fig_y(&ax, b->mean), bw - 2, y0 - fig_y(&ax, b->mean), &fl,
                              &bar_edge);
                }
                if (!isnan(b->lo)) {
                    double xc = x + bw / 2, cw = fmax(3, bw * 0.22);
                    plot_line(p, xc, fig_y(&ax, b->lo), xc, fig_y(&ax, b->hi), &wh);
                    plot_line(p, xc - cw, fig_y(&ax, b->lo), xc + cw, fig_y(&ax, b->lo), &wh);
                    plot_line(p, xc - cw, fig_y(&ax, b->hi), xc + cw, fig_y(&ax, b->hi), &wh);
                }
                if (!isnan(b->mark)) {
                    double xc = x + bw / 2, ym = fig_y(&ax, b->mark), d = fmin(6, bw * 0.3);
                    double dm[8] = {xc, ym - d, xc + d, ym, xc, ym + d, xc - d, ym};
                    const struct plot_fill black = {PLOT_FILL_SOLID, PLOT_BLACK, PLOT_WHITE, 1};
                    const struct plot_stroke white = {PLOT_WHITE, 0.8, PLOT_SOLID};
                    plot_polygon(p, dm, 4, &black, &white);
                }
            }
            plot_clip_end(p);
            /* axes over the bars' edges */
            plot_line(p, px, py, px, py + PLOT_H, &axis);
            plot_line(p, px, fig_y(&ax, vmin < 0 ? 0 : vmin), px + pw,
                      fig_y(&ax, vmin < 0 ? 0 : vmin), &axis);
            if (vmin < 0)
                plot_line(p, px, py + PLOT_H, px + pw, py + PLOT_H, &axis);
            for (size_t g = 0; g < ng; g++) {
                double xc = px + 6 + (double)g * group_w + group_w / 2;
                const char *lab = group ? value_label(c, group, g) : value_label(c, colour, 0);
                if (!group && !c->no_levels)
                    lab = "";
                if (rotate_x)
                    plot_text(p, xc + 4, py + PLOT_H + 14, lab, &tf, PLOT_END, -35);
                else
                    plot_text(p, xc, py + PLOT_H + 15, lab, &tf, PLOT_MIDDLE, 0);
            }
            if (!below && group)
                plot_text(p, px + pw / 2, py + PLOT_H + XTICK_H + (rotate_x ? 22 : 0) + 14,
                          group->name, &lf, PLOT_MIDDLE, 0);
        }
        fig_footer(p, width, height - foot - 4, sb_str(&r->notes));
    }
    if (dup)
        fig_note(r, "%zu row%s of configs.csv repeat a configuration: only the first is drawn", dup,
                 dup == 1 ? "" : "s");
    if (fig_render(c, r, p, err, errlen) < 0 ||
        write_data(c, sp, pt, stacked,
                   sp->fraction_to_percent && scale == 1.0 ? "fraction" : sp->unit, err,
                   errlen) < 0)
        goto out;
    r->data_made = 1;
    {
        char by[200] = "";
        if (group)
            snprintf(by, sizeof(by), "; bars grouped by %s", group->name);
        if (c->no_levels)
            snprintf(by + strlen(by), sizeof(by) - strlen(by), "; one bar: the only configuration");
        else
            snprintf(by + strlen(by), sizeof(by) - strlen(by), "; one colour%s per %s",
                     stacked ? "" : " and fill", colour->name);
        snprintf(r->caption, sizeof(r->caption), "%s%s%s%s%s%s%s%s.", sp->caption,
                 stacked ? ", stacked by phase (start-up, training epochs, evaluation, the rest "
                           "of the command)"
                         : "",
                 c->nfacet ? ", one panel per " : "", c->facet_desc, by,
                 any_ci ? "; whiskers: 95% confidence interval of the mean over repeats" : "",
                 any_mark ? "; markers: epoch 1" : "", scale == 1e-3 ? " (kJ)" : "");
    }
    rc = 0;
out:
    plot_free(p);
    free(pt);
    free(drawn);
    return rc;
}

int fig_bars_draw_all(struct fig_ctx *c, struct fig_result *res, size_t nres, char *err,
                      size_t errlen)
{
    for (size_t i = 0; i < nres && i < 4; i++)
        if (draw_one(c, &specs[i], &res[i], err, errlen) < 0)
            return -1;
    return 0;
}
