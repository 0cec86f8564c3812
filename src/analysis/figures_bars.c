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

/* One bar figure as it is being made: its source columns, its points, and what the notes say. */
struct bars {
    const struct figcsv *t;
    const struct bar_source *src;
    const struct fig_level *colour, *group;
    size_t nf, ng, nr;
    struct bar_point *pt;
    int *drawn; /* panel * nf * ng: a bar drawn there already */
    int mcol, ccol, kcol, scol[NSEG], stacked, any_ci, any_mark;
    double scale, limit, vmin, vmax;
    size_t missing, dup, nvalues, cut_lo, cut_hi, bad, seg_neg, seg_off;
    unsigned seg_missing;
};

/* Where the panels and bars go. */
struct bar_layout {
    double ticks[32], v1, bw, group_w, pw, ytw, width, height, head, foot;
    size_t nt;
    int dec, rotate_x;
    char drawn_title[260];
    struct fig_legend_row rows[2];
    size_t nrows;
};

/* The first source with a value, else the first present (it is then reported empty): 0, or 1
 * when configs.csv has none (the figure's reason set). */
static int pick_source(const struct bar_spec *sp, struct bars *b, struct fig_result *r)
{
    for (size_t i = 0; i < 3 && sp->src[i].mean && !b->src; i++) {
        int col = figcsv_col(b->t, sp->src[i].mean);
        for (size_t row = 0; col >= 0 && row < b->nr && !b->src; row++)
            if (figcsv_cell(b->t, row, col)[0])
                b->src = &sp->src[i];
    }
    for (size_t i = 0; i < 3 && sp->src[i].mean && !b->src; i++)
        if (figcsv_col(b->t, sp->src[i].mean) >= 0)
            b->src = &sp->src[i];
    if (!b->src) {
        struct strbuf cols = STRBUF_INIT;
        for (size_t i = 0; i < 3 && sp->src[i].mean; i++)
            sb_printf(&cols, "%s%s", i ? ", " : "", sp->src[i].mean);
        snprintf(r->title, sizeof(r->title), "%s", sp->src[0].title);
        snprintf(r->reason, sizeof(r->reason), "configs.csv has none of the columns %s",
                 sb_str(&cols));
        sb_free(&cols);
        return 1;
    }
    return 0;
}

/* The columns of the whiskers, the markers and the stacked segments, and the title. */
static void find_columns(const struct bar_spec *sp, struct bars *b, struct fig_result *r)
{
    const struct bar_source *src = b->src;

    snprintf(r->title, sizeof(r->title), "%s", src->title);
    b->mcol = figcsv_col(b->t, src->mean);
    if (src->ci) {
        b->ccol = figcsv_col(b->t, src->ci);
        if (b->ccol < 0)
            fig_note(r, "no confidence whiskers: configs.csv has no column %s", src->ci);
    } else {
        fig_note(r, "no confidence whiskers: column %s comes without one", src->mean);
    }
    if (sp->mark_mean)
        b->kcol = figcsv_col(b->t, sp->mark_mean);
    if (sp->mark_mean && b->kcol < 0 && src == &sp->src[0])
        fig_note(r, "no epoch-1 markers: configs.csv has no column %s", sp->mark_mean);
    if (src != &sp->src[0] && b->kcol >= 0)
        snprintf(r->title, sizeof(r->title),
                 "Average power, all epochs (bars) and epoch 1 (markers)");
    if (sp->seg[0] && src == &sp->src[0]) {
        b->stacked = 1;
        for (int s = 0; s < NSEG; s++) {
            b->scol[s] = figcsv_col(b->t, sp->seg[s]);
            if (b->scol[s] < 0)
                b->stacked = 0;
        }
        if (!b->stacked) {
            fig_note(r, "not stacked by phase: configs.csv lacks the phase columns (%s, ...)",
                     sp->seg[0]);
            snprintf(r->title, sizeof(r->title), "Energy per configuration");
        }
    } else if (sp->seg[0]) {
        fig_note(r, "not stacked by phase: this method's configs.csv has the total only");
    }
}

/* The axis unit: the source's scale; accuracy as a fraction in [0, 1] is drawn in %. */
static void choose_scale(const struct bar_spec *sp, struct bars *b, struct fig_result *r)
{
    b->scale = b->src->scale;
    if (sp->fraction_to_percent) {
        int fraction = 1;
        for (size_t row = 0; row < b->nr; row++) {
            double v;
            if (cell_num(b->t, row, b->mcol, &v, &b->bad) && (v < 0 || v > 1))
                fraction = 0;
        }
        b->scale = fraction ? 100.0 : 1.0;
        if (!fraction) {
            fig_note(r, "values above 1: drawn as they are, not as a fraction in %%");
            b->limit = NAN;
        }
    }
}

/* Stacked segments of row's bar pt: each phase's mean, negative ones drawn as 0. */
static void read_segments(struct bars *b, size_t row, struct bar_point *pt)
{
    double sum = 0;
    int have = 0;

    for (int s = 0; s < NSEG; s++) {
        double sv;
        if (!cell_num(b->t, row, b->scol[s], &sv, &b->bad)) {
            pt->seg[s] = 0;
            if (s == 0 || s == 2)
                b->seg_missing |= 1u << s;
            continue;
        }
        pt->seg[s] = sv * b->scale;
        if (pt->seg[s] < 0) {
            b->seg_neg++;
            pt->seg[s] = 0;
        }
        sum += pt->seg[s];
        have = 1;
    }
    if (have && fabs(sum - pt->mean) > 0.01 * fabs(pt->mean) + 1e-9)
        b->seg_off++;
    if (!have)
        pt->seg[1] = pt->mean; /* no phase at all: one segment, drawn as training */
}

/* Row's bar: mean, whiskers cut to the physical range, marker, segments; the value range. */
static void read_point(struct bars *b, size_t row)
{
    struct bar_point *pt = &b->pt[row];
    double v, ci = NAN, mk = NAN, top;

    if (!cell_num(b->t, row, b->mcol, &v, &b->bad)) {
        b->missing++;
        return;
    }
    if (!cell_num(b->t, row, b->ccol, &ci, &b->bad))
        ci = NAN;
    if (!cell_num(b->t, row, b->kcol, &mk, &b->bad))
        mk = NAN;
    pt->ok = 1;
    pt->mean = v * b->scale;
    pt->mark = isnan(mk) ? NAN : mk * b->scale;
    pt->lo = pt->hi = NAN;
    if (!isnan(ci)) {
        pt->lo = (v - fabs(ci)) * b->scale;
        pt->hi = (v + fabs(ci)) * b->scale;
        /* the interval is symmetric on a quantity that is not: its physical range wins */
        if (pt->lo < 0 && pt->mean >= 0) {
            pt->lo = 0;
            b->cut_lo++;
        }
        if (!isnan(b->limit) && pt->hi > b->limit && pt->mean <= b->limit) {
            pt->hi = b->limit;
            b->cut_hi++;
        }
        b->any_ci = 1;
    }
    b->any_mark |= !isnan(pt->mark);
    if (b->stacked)
        read_segments(b, row, pt);
    b->nvalues++;
    top = fmax(pt->mean, isnan(pt->hi) ? pt->mean : pt->hi);
    if (!isnan(pt->mark))
        top = fmax(top, pt->mark);
    if (b->stacked) {
        double sum = 0;
        for (int s = 0; s < NSEG; s++)
            sum += pt->seg[s];
        top = fmax(top, sum);
    }
    b->vmax = fmax(b->vmax, top);
    b->vmin = fmin(b->vmin, fmin(pt->mean, isnan(pt->mark) ? pt->mean : pt->mark));
}

/* The notes on what was read (after the check that some value was). */
static void value_notes(const struct bars *b, struct fig_result *r)
{
    if (b->missing)
        fig_note(r, "%zu configuration%s without a value of %s: no bar", b->missing,
                 b->missing == 1 ? "" : "s", b->src->mean);
    if (!b->any_ci && b->ccol >= 0)
        fig_note(r, "no confidence whiskers: column %s is empty (one run per configuration?)",
                 b->src->ci);
    if (b->cut_lo)
        fig_note(r, "%zu whisker%s reaching below 0 cut at 0", b->cut_lo,
                 b->cut_lo == 1 ? "" : "s");
    if (b->cut_hi)
        fig_note(r, "%zu whisker%s reaching above 100%% cut at 100%%", b->cut_hi,
                 b->cut_hi == 1 ? "" : "s");
    if (b->stacked && (b->seg_missing & 1u))
        fig_note(r, "runs without a start-up phase (imports) have none drawn");
    if (b->stacked && (b->seg_missing & 4u))
        fig_note(r, "runs without evaluation phases have none drawn");
    if (b->seg_neg)
        fig_note(r, "%zu negative phase energ%s drawn as 0", b->seg_neg,
                 b->seg_neg == 1 ? "y" : "ies");
    if (b->seg_off)
        fig_note(r,
                 "in %zu configuration%s the phases' means do not add up to the command's mean "
                 "(runs with different phases)",
                 b->seg_off, b->seg_off == 1 ? "" : "s");
    if (b->nf > 8)
        fig_note(r, "%zu values of %s: colours and fills repeat after 8", b->nf, b->colour->name);
}

/* The legend: colour values, whisker and marker keys, then the phases of a stacked figure. */
static void legend(const struct fig_ctx *c, const struct bar_spec *sp, const struct bars *b,
                   struct bar_layout *L)
{
    const struct plot_stroke wh = {PLOT_BLACK, 1.3, PLOT_SOLID};

    if (!c->no_levels) {
        struct fig_legend_row *lr = &L->rows[L->nrows++];
        snprintf(lr->heading, sizeof(lr->heading), "%s:", b->colour->name);
        for (size_t f = 0; f < b->colour->nval && lr->n < FIG_MAX_KEYS - 2; f++) {
            struct fig_key *k = &lr->key[lr->n++];
            k->kind = FIG_KEY_FILL;
            k->fill = b->stacked ? seg_fill(fig_colour(f), 1) : fig_fill(f);
            snprintf(k->label, sizeof(k->label), "%s", value_label(c, b->colour, f));
        }
    }
    if (b->any_ci || b->any_mark) {
        struct fig_legend_row *lr = L->nrows ? &L->rows[0] : &L->rows[L->nrows++];
        if (b->any_ci && lr->n < FIG_MAX_KEYS) {
            struct fig_key *k = &lr->key[lr->n++];
            k->kind = FIG_KEY_WHISKER;
            k->stroke = wh;
            snprintf(k->label, sizeof(k->label), "95%% CI");
        }
        if (b->any_mark && lr->n < FIG_MAX_KEYS) {
            struct fig_key *k = &lr->key[lr->n++];
            k->kind = FIG_KEY_DIAMOND;
            snprintf(k->label, sizeof(k->label), "epoch 1");
        }
    }
    if (b->stacked) {
        struct fig_legend_row *lr = &L->rows[L->nrows++];
        snprintf(lr->heading, sizeof(lr->heading), "phase (shade of each bar):");
        for (int s = 0; s < NSEG; s++) {
            struct fig_key *k = &lr->key[lr->n++];
            k->kind = FIG_KEY_FILL;
            k->fill = seg_fill(0x7a7a7a, s);
            snprintf(k->label, sizeof(k->label), "%s", sp->seg_label[s]);
        }
    }
}

/* Panel row height. */
static double row_height(const struct fig_ctx *c, const struct bar_layout *L)
{
    return (c->nfacet ? STRIP_H : 0) + PLOT_H + XTICK_H + (L->rotate_x ? 22 : 0) + XLABEL_H +
           ROW_GAP;
}

/* The value axis, the bar and panel widths, the legend, the title and the height. */
static void layout(const struct fig_ctx *c, const struct bar_spec *sp, const struct bars *b,
                   struct bar_layout *L, const struct fig_result *r)
{
    char buf[64];
    double tstep, vmin = b->vmin, vmax = b->vmax;

    L->nt = plot_ticks(vmin, vmax > vmin ? vmax : vmin + 1, 5, L->ticks, 32, &L->dec);
    tstep = L->nt >= 2 ? L->ticks[1] - L->ticks[0] : 1;
    L->v1 = ceil(vmax * 1.03 / tstep - 1e-9) * tstep;
    if (L->v1 <= vmax)
        L->v1 += tstep;
    if (!isnan(b->limit) && L->v1 > b->limit && vmax <= b->limit)
        L->v1 = b->limit;
    L->nt = plot_ticks(vmin, L->v1, 5, L->ticks, 32, &L->dec);
    for (size_t i = 0; i < L->nt; i++) {
        fig_fmt(buf, sizeof(buf), L->ticks[i], L->dec);
        L->ytw = fmax(L->ytw, plot_text_width(buf, FIG_TICK_PX, 0));
    }
    L->ytw += 14;
    L->bw = b->nf <= 2 ? 30 : b->nf <= 4 ? 22 : 16;
    L->group_w = (double)b->nf * L->bw + GROUP_GAP;
    L->pw = fmax(c->npanels == 1 ? 380 : 210, (double)b->ng * L->group_w + 12);
    L->group_w = (L->pw - 12) / (double)b->ng; /* the groups spread over the panel */
    for (size_t g = 0; b->group && g < b->ng; g++)
        if (plot_text_width(value_label(c, b->group, g), FIG_TICK_PX, 0) > L->group_w - 4)
            L->rotate_x = 1;
    L->width =
        LEFT_TITLE_W + (double)c->cols * (L->ytw + L->pw) + (double)(c->cols - 1) * COL_GAP + 16;
    legend(c, sp, b, L);
    snprintf(L->drawn_title, sizeof(L->drawn_title), "Fig. %d: %s", r->number, r->title);
    L->width = fmax(L->width, plot_text_width(L->drawn_title, FIG_TITLE_PX, 1) + 40);
    L->head = fig_header(NULL, L->width, L->drawn_title, c->simulated, L->rows, L->nrows);
    L->foot = fig_footer(NULL, L->width, 0, sb_str(&r->notes));
    L->height = L->head;
    for (size_t row = 0; row < c->rows; row++)
        L->height += row_height(c, L);
    L->height += L->foot + 4;
}

/* One bar (stacked or whole), its whisker and its marker, at x. */
static void draw_bar(struct plot *p, const struct bars *b, const struct bar_point *pt,
                     const struct fig_axis *ax, double x, double bw, size_t f)
{
    const struct plot_stroke wh = {PLOT_BLACK, 1.3, PLOT_SOLID};
    const struct plot_stroke bar_edge = {0x222222, 0.7, PLOT_SOLID};

    if (b->stacked) {
        double base = 0;
        for (int s = 0; s < NSEG; s++) {
            struct plot_fill fl = seg_fill(fig_colour(f), s);
            if (pt->seg[s] <= 0)
                continue;
            plot_rect(p, x + 1, fig_y(ax, base + pt->seg[s]), bw - 2,
                      fig_y(ax, base) - fig_y(ax, base + pt->seg[s]), &fl, &bar_edge);
            base += pt->seg[s];
        }
    } else {
        struct plot_fill fl = fig_fill(f);
        plot_rect(p, x + 1, fig_y(ax, pt->mean), bw - 2, fig_y(ax, 0) - fig_y(ax, pt->mean), &fl,
                  &bar_edge);
    }
    if (!isnan(pt->lo)) {
        double xc = x + bw / 2, cw = fmax(3, bw * 0.22);
        plot_line(p, xc, fig_y(ax, pt->lo), xc, fig_y(ax, pt->hi), &wh);
        plot_line(p, xc - cw, fig_y(ax, pt->lo), xc + cw, fig_y(ax, pt->lo), &wh);
        plot_line(p, xc - cw, fig_y(ax, pt->hi), xc + cw, fig_y(ax, pt->hi), &wh);
    }
    if (!isnan(pt->mark)) {
        double xc = x + bw / 2, ym = fig_y(ax, pt->mark), d = fmin(6, bw * 0.3);
        double dm[8] = {xc, ym - d, xc + d, ym, xc, ym + d, xc - d, ym};
        const struct plot_fill black = {PLOT_FILL_SOLID, PLOT_BLACK, PLOT_WHITE, 1};
        const struct plot_stroke white = {PLOT_WHITE, 0.8, PLOT_SOLID};
        plot_polygon(p, dm, 4, &black, &white);
    }
}

/* The group labels under panel px, py and the group level's name under the bottom panel. */
static void group_labels(struct plot *p, const struct fig_ctx *c, const struct bars *b,
                         const struct bar_layout *L, double px, double py, int below)
{
    const struct plot_font lf = {FIG_LABEL_PX, 0, 0x111111};
    const struct plot_font tf = {FIG_TICK_PX, 0, 0x222222};

    for (size_t g = 0; g < b->ng; g++) {
        double xc = px + 6 + (double)g * L->group_w + L->group_w / 2;
        const char *lab = b->group ? value_label(c, b->group, g) : value_label(c, b->colour, 0);
        if (!b->group && !c->no_levels)
            lab = "";
        if (L->rotate_x)
            plot_text(p, xc + 4, py + PLOT_H + 14, lab, &tf, PLOT_END, -35);
        else
            plot_text(p, xc, py + PLOT_H + 15, lab, &tf, PLOT_MIDDLE, 0);
    }
    if (!below && b->group)
        plot_text(p, px + L->pw / 2, py + PLOT_H + XTICK_H + (L->rotate_x ? 22 : 0) + 14,
                  b->group->name, &lf, PLOT_MIDDLE, 0);
}

/* Panel pi: strip, grid, axis title, its bars, axes and group labels. */
static void draw_panel(struct plot *p, const struct fig_ctx *c, const struct bar_spec *sp,
                       struct bars *b, const struct bar_layout *L, size_t pi)
{
    const struct plot_stroke axis = {0x333333, 1.1, PLOT_SOLID};
    const struct plot_font lf = {FIG_LABEL_PX, 0, 0x111111};
    const struct plot_font sf = {12.5, 1, 0x111111};
    const struct plot_fill strip = {PLOT_FILL_SOLID, 0xe8e8e8, PLOT_WHITE, 1};
    size_t prow = pi / c->cols, pcol = pi % c->cols;
    double px = LEFT_TITLE_W + (double)pcol * (L->ytw + L->pw + COL_GAP) + L->ytw;
    double py = L->head + (double)prow * row_height(c, L) + (c->nfacet ? STRIP_H : 0);
    double vmin = b->vmin, pw = L->pw;
    int below = prow + 1 < c->rows && pi + c->cols < c->npanels && c->panel[pi + c->cols].title;
    struct fig_axis ax = {vmin, L->v1, py + PLOT_H, py};

    if (!c->panel[pi].title)
        return;
    if (c->nfacet) {
        plot_rect(p, px, py - STRIP_H, pw, STRIP_H - 2, &strip, NULL);
        plot_text(p, px + pw / 2, py - STRIP_H + 14.5, c->panel[pi].title, &sf, PLOT_MIDDLE, 0);
    }
    fig_yticks(p, &ax, px, pw, L->ticks, L->nt, L->dec);
    if (pcol == 0)
        plot_text(p, 17, py + PLOT_H / 2,
                  sp->fraction_to_percent && b->scale == 1.0 ? "final test accuracy" : sp->ylabel,
                  &lf, PLOT_MIDDLE, -90);
    plot_clip_begin(p, px, py - 1, pw, PLOT_H + 2);
    for (size_t row = 0; row < b->nr; row++) {
        const int *vi = c->vidx + row * c->nlev;
        size_t f = (size_t)(vi[c->colour] < 0 ? 0 : vi[c->colour]);
        size_t g = b->group ? (size_t)(vi[c->group] < 0 ? 0 : vi[c->group]) : 0;
        size_t slot = (pi * b->nf + f) * b->ng + g;
        double x;

        if (!b->pt[row].ok || (size_t)c->panel_of_row[row] != pi)
            continue;
        if (b->drawn[slot]++) {
            b->dup++;
            continue;
        }
        x = px + 6 + (double)g * L->group_w + (L->group_w - (double)b->nf * L->bw) / 2 +
            (double)f * L->bw;
        draw_bar(p, b, &b->pt[row], &ax, x, L->bw, f);
    }
    plot_clip_end(p);
    /* axes over the bars' edges */
    plot_line(p, px, py, px, py + PLOT_H, &axis);
    plot_line(p, px, fig_y(&ax, vmin < 0 ? 0 : vmin), px + pw, fig_y(&ax, vmin < 0 ? 0 : vmin),
              &axis);
    if (vmin < 0)
        plot_line(p, px, py + PLOT_H, px + pw, py + PLOT_H, &axis);
    group_labels(p, c, b, L, px, py, below);
}

static void caption(const struct fig_ctx *c, const struct bar_spec *sp, const struct bars *b,
                    struct fig_result *r)
{
    char by[200] = "";

    if (b->group)
        snprintf(by, sizeof(by), "; bars grouped by %s", b->group->name);
    if (c->no_levels)
        snprintf(by + strlen(by), sizeof(by) - strlen(by), "; one bar: the only configuration");
    else
        snprintf(by + strlen(by), sizeof(by) - strlen(by), "; one colour%s per %s",
                 b->stacked ? "" : " and fill", b->colour->name);
    snprintf(r->caption, sizeof(r->caption), "%s%s%s%s%s%s%s%s.", sp->caption,
             b->stacked ? ", stacked by phase (start-up, training epochs, evaluation, the rest "
                          "of the command)"
                        : "",
             c->nfacet ? ", one panel per " : "", c->facet_desc, by,
             b->any_ci ? "; whiskers: 95% confidence interval of the mean over repeats" : "",
             b->any_mark ? "; markers: epoch 1" : "", b->scale == 1e-3 ? " (kJ)" : "");
}

static int draw_one(struct fig_ctx *c, const struct bar_spec *sp, struct fig_result *r, char *err,
                    size_t errlen)
{
    struct bars b;
    struct bar_layout L;
    struct plot *p = NULL;
    int rc = -1;

    memset(&b, 0, sizeof(b));
    memset(&L, 0, sizeof(L));
    b.t = &c->cfg;
    b.colour = &c->lev[c->colour];
    b.group = c->group >= 0 ? &c->lev[c->group] : NULL;
    b.nf = b.colour->nval ? b.colour->nval : 1;
    b.ng = b.group ? b.group->nval : 1;
    b.nr = b.t->nrows;
    b.ccol = b.kcol = -1;
    for (int s = 0; s < NSEG; s++)
        b.scol[s] = -1;
    b.limit = sp->limit;
    if (pick_source(sp, &b, r))
        return 0;
    find_columns(sp, &b, r);
    b.pt = calloc(b.nr + 1, sizeof(*b.pt));
    b.drawn = calloc(c->npanels * b.nf * b.ng + 1, sizeof(*b.drawn));
    if (!b.pt || !b.drawn) {
        snprintf(err, errlen, "'%s/configs.csv': out of memory", c->report_dir);
        goto out;
    }
    choose_scale(sp, &b, r);
    for (size_t row = 0; row < b.nr; row++)
        read_point(&b, row);
    if (b.bad)
        fig_note(r, "%zu malformed cell%s of configs.csv left out", b.bad, b.bad == 1 ? "" : "s");
    if (b.nvalues == 0) {
        snprintf(r->reason, sizeof(r->reason), "every value of column %s in configs.csv is empty",
                 b.src->mean);
        rc = 0;
        goto out;
    }
    value_notes(&b, r);
    layout(c, sp, &b, &L, r);
    p = plot_new(L.width, L.height, sp->name);
    if (!p) {
        snprintf(err, errlen, "'%s/%s.svg': out of memory", c->figdir, sp->name);
        goto out;
    }
    fig_header(p, L.width, L.drawn_title, c->simulated, L.rows, L.nrows);
    for (size_t pi = 0; pi < c->npanels; pi++)
        draw_panel(p, c, sp, &b, &L, pi);
    fig_footer(p, L.width, L.height - L.foot - 4, sb_str(&r->notes));
    if (b.dup)
        fig_note(r, "%zu row%s of configs.csv repeat a configuration: only the first is drawn",
                 b.dup, b.dup == 1 ? "" : "s");
    if (fig_render(c, r, p, err, errlen) < 0 ||
        write_data(c, sp, b.pt, b.stacked,
                   sp->fraction_to_percent && b.scale == 1.0 ? "fraction" : sp->unit, err,
                   errlen) < 0)
        goto out;
    r->data_made = 1;
    caption(c, sp, &b, r);
    rc = 0;
out:
    plot_free(p);
    free(b.pt);
    free(b.drawn);
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
