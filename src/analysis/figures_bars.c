/*
 * figures_bars.c - the four bar figures of the report (total energy, average power, GPU
 * utilisation, final accuracy): one panel per facet, bars grouped by the grouping level, one
 * colour and fill pattern per value of the colour level, whiskers of the 95% confidence interval
 * (mean +- <quantity>_ci95) where configs.csv has them.  It draws what configs.csv holds and
 * computes nothing but unit changes (J -> kJ, fraction -> %).
 */
#include "analysis/figures_int.h"
#include "analysis/gnuplot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bar_source {
    const char *mean, *ci; /* columns; ci NULL where the method has none */
    double scale;          /* into the axis unit */
    const char *title;     /* figure title when this source is used */
};

struct bar_spec {
    const char *name;
    const char *ylabel;
    int fraction_to_percent; /* accuracy: a fraction in [0, 1] is drawn in % */
    struct bar_source src[3];
    const char *mark_mean; /* drawn as markers over the bars (epoch 1 power), if present */
    const char *caption;
};

static const struct bar_spec specs[4] = {
    {"energy",
     "energy (kJ)",
     0,
     {{"energy_j_mean", "energy_j_ci95", 1e-3, "Total energy per configuration"},
      {"total_energy_kJ", NULL, 1.0, "Total energy per configuration"}},
     NULL,
     "Total energy of the training epochs, per configuration"},
    {"power",
     "average power (W)",
     0,
     {{"rest_avg_power_w_mean", "rest_avg_power_w_ci95", 1.0,
       "Average power: epochs 2-N (bars), epoch 1 (markers)"},
      {"avg_power_w_mean", "avg_power_w_ci95", 1.0, "Average power"},
      {"mean_power_W", NULL, 1.0, "Average power"}},
     "epoch1_avg_power_w_mean",
     "Average power (energy / time) during training"},
    {"gpu_util",
     "GPU utilisation (%)",
     0,
     {{"gpu_util_pct_mean", "gpu_util_pct_ci95", 1.0, "Average GPU utilisation"},
      {"mean_gpu_util_pct", NULL, 1.0, "Average GPU utilisation"}},
     NULL,
     "Average GPU utilisation during training"},
    {"accuracy",
     "final accuracy (%)",
     1,
     {{"final_accuracy_mean", "final_accuracy_ci95", 1.0, "Final test accuracy"},
      {"final_accuracy", NULL, 1.0, "Final test accuracy"}},
     NULL,
     "Test accuracy after the last epoch"},
};

/* One colour and one fill per value of the colour level, chosen so that the bars stay apart in
 * greyscale too: dark solid, hatched, light solid, cross-hatched, ... (Okabe-Ito colours). */
static const struct {
    const char *rgb;
    const char *fill;
} styles[] = {
    {"#0072B2", "solid 1.0"}, {"#D55E00", "pattern 5"}, {"#E69F00", "solid 1.0"},
    {"#009E73", "pattern 1"}, {"#CC79A7", "pattern 4"}, {"#56B4E9", "pattern 2"},
    {"#000000", "pattern 0"},
};
#define NSTYLES (sizeof(styles) / sizeof(styles[0]))

#define PANEL_W 340
#define PANEL_W_SINGLE 620
#define PANEL_H 270
#define TOP_H 96

struct bar_point {
    int block; /* data block index, -1 when the value is unavailable */
    double mean, lo, hi, mark;
};

static void fill_style(struct strbuf *sb, size_t f)
{
    sb_printf(sb, "fs %s border lc rgb 'black' lc rgb '%s'", styles[f % NSTYLES].fill,
              styles[f % NSTYLES].rgb);
}

static int draw_one(struct fig_ctx *c, const struct bar_spec *sp, struct fig_result *r, char *err,
                    size_t errlen)
{
    const struct figcsv *t = &c->cfg;
    const struct bar_source *src = NULL;
    const struct fig_level *colour = &c->lev[c->colour];
    const struct fig_level *group = c->group >= 0 ? &c->lev[c->group] : NULL;
    size_t nf = colour->nval, ng = group ? group->nval : 1, nr = t->nrows;
    struct strbuf data = STRBUF_INIT, body = STRBUF_INIT;
    struct bar_point *pt = NULL;
    int mcol, ccol = -1, kcol = -1, rc = -1, nblocks = 0, any_ci = 0, any_mark = 0;
    int *block_of = NULL; /* panel * nf + f -> data block, -1 */
    double scale, ymax = 0, ymin = 0, bw = 0.8 / (double)nf;
    size_t missing = 0, dup = 0, nvalues = 0, cut = 0;
    int width, height, panel_w;

    for (size_t i = 0; i < 3 && sp->src[i].mean; i++)
        if (figcsv_col(t, sp->src[i].mean) >= 0) {
            src = &sp->src[i];
            break;
        }
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
                 "Average power: all epochs (bars), epoch 1 "
                 "(markers)");

    pt = calloc(nr + 1, sizeof(*pt));
    block_of = malloc((c->npanels * nf + 1) * sizeof(*block_of));
    if (!pt || !block_of) {
        snprintf(err, errlen, "'%s/configs.csv': out of memory", c->report_dir);
        goto out;
    }
    for (size_t i = 0; i < c->npanels * nf; i++)
        block_of[i] = -1;

    scale = src->scale;
    if (sp->fraction_to_percent) {
        int fraction = 1;
        for (size_t row = 0; row < nr; row++) {
            double v;
            int got = figcsv_num(t, row, mcol, &v, err, errlen);
            if (got < 0)
                goto out;
            if (got && (v < 0 || v > 1))
                fraction = 0;
        }
        scale = fraction ? 100.0 : 1.0;
        if (!fraction)
            fig_note(r, "values above 1: drawn as they are, not as a fraction in %%");
    }
    for (size_t row = 0; row < nr; row++) {
        double v, ci = NAN, mk = NAN;
        int got = figcsv_num(t, row, mcol, &v, err, errlen);

        pt[row].block = -1;
        if (got < 0)
            goto out;
        if (got && ccol >= 0) {
            int g2 = figcsv_num(t, row, ccol, &ci, err, errlen);
            if (g2 < 0)
                goto out;
            if (g2 == 0)
                ci = NAN;
        }
        if (kcol >= 0) {
            int g3 = figcsv_num(t, row, kcol, &mk, err, errlen);
            if (g3 < 0)
                goto out;
            if (g3 == 0)
                mk = NAN;
        }
        if (!got) {
            missing++;
            continue;
        }
        pt[row].mean = v * scale;
        pt[row].lo = isnan(ci) ? NAN : (v - fabs(ci)) * scale;
        pt[row].hi = isnan(ci) ? NAN : (v + fabs(ci)) * scale;
        pt[row].mark = isnan(mk) ? NAN : mk * scale;
        pt[row].block = 0;
        nvalues++;
        any_ci |= !isnan(ci);
        any_mark |= !isnan(mk);
        ymax = fmax(ymax, isnan(ci) ? pt[row].mean : pt[row].hi);
        ymin = fmin(ymin, pt[row].mean);
        if (!isnan(ci) && pt[row].lo < 0 && pt[row].mean >= 0)
            cut++;
        if (!isnan(mk)) {
            ymax = fmax(ymax, pt[row].mark);
            ymin = fmin(ymin, pt[row].mark);
        }
    }
    if (nvalues == 0) {
        snprintf(r->reason, sizeof(r->reason), "every value of column %s in configs.csv is empty",
                 src->mean);
        rc = 0;
        goto out;
    }
    if (missing)
        fig_note(r, "%zu configuration%s without a value of %s: no bar", missing,
                 missing == 1 ? "" : "s", src->mean);

    /* data blocks: one per (panel, colour value) that has any bar; gnuplot reads a block as one
     * 'index', blocks being separated by two blank lines */
    for (size_t p = 0; p < c->npanels; p++)
        for (size_t f = 0; f < nf; f++) {
            int opened = 0;
            for (size_t g = 0; g < ng; g++) {
                int seen = 0;
                for (size_t row = 0; row < nr; row++) {
                    const int *vi = c->vidx + row * c->nlev;
                    if (pt[row].block < 0 || (size_t)c->panel_of_row[row] != p ||
                        (size_t)vi[c->colour] != f || (group && (size_t)vi[c->group] != g))
                        continue;
                    if (seen++) {
                        dup++;
                        continue;
                    }
                    if (!opened) {
                        if (nblocks)
                            sb_puts(&data, "\n\n");
                        sb_printf(&data, "# panel %zu, %s = ", p, colour->name);
                        for (const char *q = colour->val[f]; *q; q++)
                            sb_putc(&data, *q == '\n' || *q == '\r' ? ' ' : *q);
                        sb_puts(&data, "\n# x mean ci_low ci_high marker\n");
                        block_of[p * nf + f] = nblocks++;
                        opened = 1;
                    }
                    gp_num(&data, (double)g + ((double)f - (double)(nf - 1) / 2.0) * bw);
                    sb_putc(&data, ' ');
                    gp_num(&data, pt[row].mean);
                    sb_putc(&data, ' ');
                    gp_num(&data, pt[row].lo);
                    sb_putc(&data, ' ');
                    gp_num(&data, pt[row].hi);
                    sb_putc(&data, ' ');
                    gp_num(&data, pt[row].mark);
                    sb_putc(&data, '\n');
                }
            }
        }
    if (nf > NSTYLES)
        fig_note(r, "%zu values of %s: colours and fills repeat after %zu", nf, colour->name,
                 (size_t)NSTYLES);
    if (dup)
        fig_note(r, "%zu row%s of configs.csv repeat a configuration: only the first is drawn", dup,
                 dup == 1 ? "" : "s");
    if (!any_ci && ccol >= 0)
        fig_note(r, "no confidence whiskers: column %s is empty (one run per configuration?)",
                 src->ci);

    /* Every quantity drawn here is non-negative: with few repeats a t interval can reach below
     * zero, and the axis then stops at zero rather than showing negative energy or power. */
    if (cut)
        fig_note(r, "%zu whisker%s reaching below 0 cut at the axis", cut, cut == 1 ? "" : "s");
    if (ymax <= ymin)
        ymax = ymin + 1;
    ymax += (ymax - ymin) * 0.08;
    if (ymin < 0)
        ymin -= (ymax - ymin) * 0.04;

    panel_w = (c->npanels == 1) ? PANEL_W_SINGLE : PANEL_W;
    width = 20 + (int)c->cols * panel_w;
    height = TOP_H + (int)c->rows * PANEL_H;

    sb_puts(&body, "set multiplot\n"
                   "set style fill border lc rgb 'black'\n"
                   "set style arrow 1 nohead\n"
                   "set grid ytics lc rgb '#d8d8d8' lt 1\n"
                   "set tics nomirror\n"
                   "set lmargin 9\nset rmargin 2\nset tmargin 2\nset bmargin 3.5\n"
                   "set key off\n");
    sb_puts(&body, "set xtics (");
    for (size_t g = 0; g < ng; g++) {
        if (g)
            sb_puts(&body, ", ");
        gp_quote(&body, group ? (group->val[g][0] ? group->val[g] : "(none)") : "");
        sb_printf(&body, " %zu", g);
    }
    sb_puts(&body, ")\n");
    sb_printf(&body, "set xrange [-0.5:%zu.5]\nset yrange [", ng - 1);
    gp_num(&body, ymin);
    sb_putc(&body, ':');
    gp_num(&body, ymax);
    sb_puts(&body, "]\n");

    for (size_t p = 0; p < c->npanels; p++) {
        size_t prow = p / c->cols, pcol = p % c->cols;
        int first = 1,
            below = prow + 1 < c->rows && p + c->cols < c->npanels && c->panel[p + c->cols].title;

        if (!c->panel[p].title)
            continue;
        sb_printf(&body, "\n# panel %zu\nset origin %.6f,%.6f\nset size %.6f,%.6f\n", p,
                  (10.0 + (double)pcol * panel_w) / width,
                  (double)(c->rows - 1 - prow) * PANEL_H / height, (double)panel_w / width,
                  (double)PANEL_H / height);
        sb_puts(&body, "set title ");
        gp_quote(&body, c->panel[p].title);
        sb_puts(&body, "\n");
        if (pcol == 0) {
            sb_puts(&body, "set ylabel ");
            gp_quote(&body,
                     sp->fraction_to_percent && scale == 1.0 ? "final accuracy" : sp->ylabel);
            sb_puts(&body, "\n");
        } else {
            sb_puts(&body, "unset ylabel\n");
        }
        if (!below && group) {
            sb_puts(&body, "set xlabel ");
            gp_quote(&body, group->name);
            sb_puts(&body, "\n");
        } else {
            sb_puts(&body, "unset xlabel\n");
        }
        sb_puts(&body, "plot ");
        for (size_t f = 0; f < nf; f++) {
            int b = block_of[p * nf + f];
            if (b < 0)
                continue;
            sb_printf(&body, "%s'%s.dat' index %d using 1:2:(%.6f) with boxes ",
                      first ? "" : ", \\\n     ", sp->name, b, bw);
            fill_style(&body, f);
            sb_puts(&body, " notitle");
            first = 0;
            if (any_ci) {
                /* whisker and caps as vectors: gnuplot's errorbars leave a gap at the mean */
                double cw = bw * 0.22;
                sb_printf(&body,
                          ", \\\n     '%s.dat' index %d using 1:3:(0):($4-$3) with vectors "
                          "nohead lc rgb 'black' lw 1.2 notitle",
                          sp->name, b);
                sb_printf(&body,
                          ", \\\n     '%s.dat' index %d using ($1-%.6f):3:(%.6f):(0) with "
                          "vectors nohead lc rgb 'black' lw 1.2 notitle",
                          sp->name, b, cw, 2 * cw);
                sb_printf(&body,
                          ", \\\n     '%s.dat' index %d using ($1-%.6f):4:(%.6f):(0) with "
                          "vectors nohead lc rgb 'black' lw 1.2 notitle",
                          sp->name, b, cw, 2 * cw);
            }
            if (any_mark)
                sb_printf(&body,
                          ", \\\n     '%s.dat' index %d using 1:5 with points pt 13 "
                          "ps 1.1 lc rgb 'black' notitle",
                          sp->name, b);
        }
        if (first)
            sb_puts(&body, "NaN notitle");
        sb_puts(&body, "\n");
    }

    /* the title and the legend, in a band across the top */
    sb_printf(&body, "\n# title and legend\nset origin 0,%.6f\nset size 1,%.6f\n",
              (double)c->rows * PANEL_H / height, (double)TOP_H / height);
    sb_puts(&body, "unset border\nunset tics\nunset grid\nunset title\nunset xlabel\n"
                   "unset ylabel\nset xrange [0:1]\nset yrange [0:1]\n"
                   "set lmargin 0\nset rmargin 0\nset tmargin 0\nset bmargin 0\n");
    sb_puts(&body, "set label 1 ");
    gp_quote(&body, r->title);
    sb_printf(&body, " at screen 0.5, screen %.6f center font ',14'\n", 1.0 - 22.0 / height);
    sb_puts(&body, "set key at screen 0.5, screen ");
    gp_num(&body, 1.0 - 58.0 / height);
    sb_puts(&body, " center center horizontal samplen 2.5 spacing 1.3 width 1 maxrows 2 "
                   "box lc rgb '#bbbbbb' title ");
    gp_quote(&body, colour->name);
    sb_puts(&body, "\nplot NaN notitle");
    for (size_t f = 0; f < nf; f++) {
        sb_puts(&body, ", keyentry with boxes ");
        fill_style(&body, f);
        sb_puts(&body, " title ");
        gp_quote(&body, colour->val[f][0] ? colour->val[f] : "(none)");
    }
    if (any_ci)
        sb_puts(&body, ", keyentry with yerrorbars lc rgb 'black' lw 1.2 pt 0 ps 0 "
                       "title '95% CI'");
    if (any_mark)
        sb_puts(&body, ", keyentry with points pt 13 ps 1.1 lc rgb 'black' title 'epoch 1'");
    sb_puts(&body, "\nunset label 1\nunset multiplot\n");

    if (fig_render(c, sp->name, width, height, &data, &body, err, errlen) < 0)
        goto out;
    snprintf(r->caption, sizeof(r->caption),
             "%s%s%s; bars grouped by %s, one colour and fill "
             "per %s%s%s%s.",
             sp->caption, c->nfacet ? ", one panel per " : "", c->facet_desc,
             group ? group->name : "(one group)", colour->name,
             any_ci ? "; whiskers: 95% confidence interval of the mean over repeats" : "",
             any_mark ? "; markers: epoch 1" : "", scale == 1e-3 ? " (kJ)" : "");
    r->made = 1;
    rc = 0;
out:
    free(pt);
    free(block_of);
    sb_free(&data);
    sb_free(&body);
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
