/*
 * figures_timeseries.c - figure 1 of the report: one run's power (every meter), temperature and
 * utilisation (the first GPU meter, else the first meter) over time, with the epochs' bounds as
 * vertical dashed lines.  The run is the one report.json names as "example_run".  Long runs are
 * cut into at most MAX_BUCKETS time buckets: the line is the bucket's mean, a light band its
 * minimum to maximum, so short spikes stay visible.  It reads samples.csv and phases.csv only.
 */
#include "analysis/figures_int.h"
#include "analysis/gnuplot.h"

#include "json.h"
#include "util/fsutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_METERS 8
#define MAX_BUCKETS 1500
#define NQ 4 /* quantities: power, temperature, utilisation, memory utilisation */

static const char *const line_rgb[MAX_METERS] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                 "#E69F00", "#56B4E9", "#000000", "#999999"};

struct ts_point {
    double t_s;
    double v[NQ];
};

struct ts_meter {
    const char *id;
    struct ts_point *p;
    size_t n, cap;
    int has[NQ];
};

struct ts_epoch {
    long index;
    double t_begin_s, t_end_s;
};

static int cmp_point(const void *a, const void *b)
{
    double x = ((const struct ts_point *)a)->t_s, y = ((const struct ts_point *)b)->t_s;
    return (x > y) - (x < y);
}

static int cmp_epoch(const void *a, const void *b)
{
    double x = ((const struct ts_epoch *)a)->t_begin_s, y = ((const struct ts_epoch *)b)->t_begin_s;
    return (x > y) - (x < y);
}

/* Writes one block of the data file: t (relative to t0), mean, min, max of quantity q. */
static void write_block(struct strbuf *sb, const struct ts_meter *m, int q, double t0,
                        int *bucketed)
{
    double tmin = m->p[0].t_s, tmax = m->p[m->n - 1].t_s;

    if (m->n <= MAX_BUCKETS || tmax <= tmin) {
        for (size_t i = 0; i < m->n; i++) {
            double v = m->p[i].v[q];
            /* Counter rows of samples.csv carry no gauges: leaving them out keeps the line
             * unbroken (gnuplot breaks a line at a missing value). */
            if (isnan(v))
                continue;
            gp_num(sb, m->p[i].t_s - t0);
            sb_putc(sb, ' ');
            gp_num(sb, v);
            sb_putc(sb, ' ');
            gp_num(sb, v);
            sb_putc(sb, ' ');
            gp_num(sb, v);
            sb_putc(sb, '\n');
        }
        return;
    }
    *bucketed = 1;
    {
        double width = (tmax - tmin) / MAX_BUCKETS;
        size_t i = 0;
        for (size_t b = 0; b < MAX_BUCKETS; b++) {
            double end = b + 1 == MAX_BUCKETS ? INFINITY : tmin + width * (double)(b + 1);
            double sum = 0, lo = INFINITY, hi = -INFINITY;
            size_t k = 0, any = 0;

            for (; i < m->n && m->p[i].t_s < end; i++, any++) {
                double v = m->p[i].v[q];
                if (isnan(v))
                    continue;
                sum += v;
                lo = fmin(lo, v);
                hi = fmax(hi, v);
                k++;
            }
            if (!any)
                continue;
            gp_num(sb, tmin + width * ((double)b + 0.5) - t0);
            sb_putc(sb, ' ');
            gp_num(sb, k ? sum / (double)k : NAN);
            sb_putc(sb, ' ');
            gp_num(sb, k ? lo : NAN);
            sb_putc(sb, ' ');
            gp_num(sb, k ? hi : NAN);
            sb_putc(sb, '\n');
        }
    }
}

static int load_samples(const char *path, struct figcsv *t, struct ts_meter *m, size_t *nm,
                        char *err, size_t errlen)
{
    static const char *const qcol[NQ] = {"power_w", "temp_c", "util_pct", "mem_util_pct"};
    int ct = figcsv_col(t, "t_s"), cm = figcsv_col(t, "meter"), cq[NQ], ci;

    if (ct < 0 || cm < 0 || figcsv_col(t, "power_w") < 0) {
        snprintf(err, errlen, "'%s': the columns t_s, meter and power_w are required", path);
        return -1;
    }
    for (int q = 0; q < NQ; q++)
        cq[q] = figcsv_col(t, qcol[q]);
    ci = figcsv_col(t, "power_instant_w");
    for (size_t r = 0; r < t->nrows; r++) {
        const char *id = figcsv_cell(t, r, cm);
        struct ts_point pt;
        size_t k;
        int got = figcsv_num(t, r, ct, &pt.t_s, err, errlen);

        if (got < 0)
            return -1;
        if (got == 0)
            continue; /* a sample without a time cannot be placed */
        for (int q = 0; q < NQ; q++) {
            int g = cq[q] >= 0 ? figcsv_num(t, r, cq[q], &pt.v[q], err, errlen) : 0;
            if (g < 0)
                return -1;
            if (g == 0)
                pt.v[q] = NAN;
        }
        /* Power: the instant reading where the meter has one (NVML's default reading is a 1 s
         * average that lags a load step by ~0.9 s on an H200; docs/METHODOLOGY.md). */
        if (ci >= 0) {
            double w;
            int g = figcsv_num(t, r, ci, &w, err, errlen);
            if (g < 0)
                return -1;
            if (g > 0)
                pt.v[0] = w;
        }
        for (k = 0; k < *nm; k++)
            if (strcmp(m[k].id, id) == 0)
                break;
        if (k == *nm) {
            if (*nm == MAX_METERS)
                continue;
            m[k].id = id;
            (*nm)++;
        }
        if (m[k].n == m[k].cap) {
            size_t ncap = m[k].cap ? m[k].cap * 2 : 1024;
            struct ts_point *np = realloc(m[k].p, ncap * sizeof(*np));
            if (!np) {
                snprintf(err, errlen, "'%s': out of memory", path);
                return -1;
            }
            m[k].p = np;
            m[k].cap = ncap;
        }
        m[k].p[m[k].n++] = pt;
        for (int q = 0; q < NQ; q++)
            m[k].has[q] |= !isnan(pt.v[q]);
    }
    return 0;
}

/* Epochs of phases.csv for meter id (or of the first meter with epochs when id has none). */
static int load_epochs(const char *path, const char *id, struct ts_epoch **out, size_t *n,
                       char *err, size_t errlen)
{
    struct figcsv t;
    int cp, ci, cm, cb, ce, rc = -1;
    const char *use = NULL;

    *out = NULL;
    *n = 0;
    if (figcsv_load(path, &t, err, errlen) < 0)
        return -1;
    cp = figcsv_col(&t, "phase");
    ci = figcsv_col(&t, "index");
    cm = figcsv_col(&t, "meter");
    cb = figcsv_col(&t, "t_begin_s");
    ce = figcsv_col(&t, "t_end_s");
    if (cp < 0 || ci < 0 || cb < 0 || ce < 0) {
        snprintf(err, errlen, "'%s': the columns phase, index, t_begin_s and t_end_s are required",
                 path);
        goto out;
    }
    for (size_t r = 0; r < t.nrows && !use; r++)
        if (strcmp(figcsv_cell(&t, r, cp), "epoch") == 0 && strcmp(figcsv_cell(&t, r, cm), id) == 0)
            use = id;
    for (size_t r = 0; r < t.nrows && !use; r++)
        if (strcmp(figcsv_cell(&t, r, cp), "epoch") == 0)
            use = figcsv_cell(&t, r, cm);
    *out = calloc(t.nrows + 1, sizeof(**out));
    if (!*out) {
        snprintf(err, errlen, "'%s': out of memory", path);
        goto out;
    }
    for (size_t r = 0; r < t.nrows && use; r++) {
        struct ts_epoch e;
        double idx;
        int g1, g2, g3;

        if (strcmp(figcsv_cell(&t, r, cp), "epoch") != 0 || strcmp(figcsv_cell(&t, r, cm), use))
            continue;
        g1 = figcsv_num(&t, r, ci, &idx, err, errlen);
        g2 = g1 < 0 ? -1 : figcsv_num(&t, r, cb, &e.t_begin_s, err, errlen);
        g3 = g2 < 0 ? -1 : figcsv_num(&t, r, ce, &e.t_end_s, err, errlen);
        if (g1 < 0 || g2 < 0 || g3 < 0)
            goto out;
        if (!g2)
            continue;
        if (!g3)
            e.t_end_s = NAN; /* an epoch that did not end (interrupted run) */
        e.index = g1 ? (long)idx : (long)*n + 1;
        (*out)[(*n)++] = e;
    }
    qsort(*out, *n, sizeof(**out), cmp_epoch);
    rc = 0;
out:
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    figcsv_free(&t);
    return rc;
}

static const char *base_name(const char *p)
{
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    while (n > 0 && p[n - 1] != '/')
        n--;
    return p + n;
}

/* Epoch bounds, as dashed lines in every panel (an end that meets the next begin is drawn once). */
static void epoch_lines(struct strbuf *body, const struct ts_epoch *ep, size_t ne, double t0,
                        double span, int labels)
{
    size_t step = ne > 16 ? (ne + 15) / 16 : 1;

    for (size_t i = 0; i < ne; i++) {
        double b = ep[i].t_begin_s - t0, e = ep[i].t_end_s - t0;

        sb_puts(body, "set arrow from ");
        gp_num(body, b);
        sb_puts(body, ", graph 0 to ");
        gp_num(body, b);
        sb_puts(body, ", graph 1 nohead dt 2 lw 1.2 lc rgb '#444444' front\n");
        if (!isnan(e) && (i + 1 == ne || fabs(ep[i + 1].t_begin_s - t0 - e) > span * 0.004)) {
            sb_puts(body, "set arrow from ");
            gp_num(body, e);
            sb_puts(body, ", graph 0 to ");
            gp_num(body, e);
            sb_puts(body, ", graph 1 nohead dt 2 lw 1.2 lc rgb '#444444' front\n");
        }
        if (labels && i % step == 0) {
            sb_printf(body, "set label 'e%ld' at ", ep[i].index);
            gp_num(body, b);
            sb_puts(body, ", graph 1 offset 0.3,-0.9 left font ',8' tc rgb '#444444' front\n");
        }
    }
}

int fig_timeseries_draw(struct fig_ctx *c, struct fig_result *r, char *err, size_t errlen)
{
    static const char *const qname[NQ] = {"power (W)", "temperature (°C)", "utilisation (%)",
                                          "memory utilisation (%)"};
    const char *ex = jb__json_str(c->report, "example_run", NULL);
    struct ts_meter m[MAX_METERS];
    struct ts_epoch *ep = NULL;
    struct figcsv st;
    struct strbuf data = STRBUF_INIT, body = STRBUF_INIT;
    char run[PATH_MAX], path[PATH_MAX];
    size_t nm = 0, ne = 0, prim = 0, npanels = 0;
    int rc = -1, bucketed = 0, block = 0, panel_q[3], width = 1000, height;
    double t0 = INFINITY, t1 = -INFINITY;

    memset(m, 0, sizeof(m));
    memset(&st, 0, sizeof(st));
    snprintf(r->title, sizeof(r->title), "One run over time");
    if (!ex || !*ex) {
        snprintf(r->reason, sizeof(r->reason), "report.json names no \"example_run\"");
        return 0;
    }
    if (ex[0] == '/')
        snprintf(run, sizeof(run), "%s", ex);
    else if (snprintf(run, sizeof(run), "%s/%s", c->results_dir ? c->results_dir : ".", ex) <
                 (int)sizeof(run) &&
             !fs_exists(run))
        snprintf(run, sizeof(run), "%s", ex);
    if (snprintf(path, sizeof(path), "%s/samples.csv", run) >= (int)sizeof(path) ||
        !fs_exists(path)) {
        snprintf(r->reason, sizeof(r->reason), "no samples.csv in the example run '%.400s'", run);
        return 0;
    }
    snprintf(r->title, sizeof(r->title), "Run %s: power, temperature and utilisation",
             base_name(run));
    if (figcsv_load(path, &st, err, errlen) < 0)
        goto out;
    if (load_samples(path, &st, m, &nm, err, errlen) < 0)
        goto out;
    if (nm == 0) {
        snprintf(r->reason, sizeof(r->reason), "'%.400s' holds no sample", path);
        rc = 0;
        goto out;
    }
    for (size_t k = 0; k < nm; k++)
        if (strncmp(m[k].id, "gpu", 3) == 0) {
            prim = k;
            break;
        }
    for (size_t k = 0; k < nm; k++) {
        qsort(m[k].p, m[k].n, sizeof(*m[k].p), cmp_point);
        t0 = fmin(t0, m[k].p[0].t_s);
        t1 = fmax(t1, m[k].p[m[k].n - 1].t_s);
    }
    if (snprintf(path, sizeof(path), "%s/phases.csv", run) < (int)sizeof(path) && fs_exists(path)) {
        if (load_epochs(path, m[prim].id, &ep, &ne, err, errlen) < 0)
            goto out;
        if (ne == 0)
            fig_note(r, "phases.csv has no epoch: no epoch bounds drawn");
    } else {
        fig_note(r, "no phases.csv in the run: no epoch bounds drawn");
    }

    /* blocks: power of each meter, then the primary meter's other quantities */
    for (size_t k = 0; k < nm; k++) {
        if (block)
            sb_puts(&data, "\n\n");
        sb_printf(&data, "# block %d: %s power_w: t_s mean min max\n", block++, m[k].id);
        write_block(&data, &m[k], 0, t0, &bucketed);
    }
    panel_q[npanels++] = 0;
    for (int q = 1; q < NQ; q++) {
        sb_printf(&data, "\n\n# block %d: %s quantity %d: t_s mean min max\n", block++, m[prim].id,
                  q);
        write_block(&data, &m[prim], q, t0, &bucketed);
    }
    if (m[prim].has[1])
        panel_q[npanels++] = 1;
    if (m[prim].has[2] || m[prim].has[3])
        panel_q[npanels++] = 2;
    snprintf(r->title, sizeof(r->title), "Run %s: power%s%s", base_name(run),
             npanels == 3                     ? ", temperature"
             : npanels == 2 && m[prim].has[1] ? " and temperature"
                                              : "",
             npanels > 1 && panel_q[npanels - 1] == 2 ? " and utilisation" : "");
    if (bucketed)
        fig_note(r,
                 "more than %d samples per meter: lines are means over %d time buckets, "
                 "bands their minimum to maximum",
                 MAX_BUCKETS, MAX_BUCKETS);

    height = 50 + (int)npanels * 240;
    sb_puts(&body, "set multiplot\nset grid lc rgb '#d8d8d8' lt 1\nset tics nomirror\n"
                   "set lmargin 10\nset rmargin 24\nset tmargin 1\nset bmargin 3\n"
                   "set key outside right top vertical samplen 2\n"
                   "set style fill solid 0.25 noborder\n");
    sb_puts(&body, "set xrange [0:");
    gp_num(&body, t1 > t0 ? t1 - t0 : 1);
    sb_puts(&body, "]\n");
    sb_puts(&body, "set label 1 ");
    gp_quote(&body, r->title);
    sb_printf(&body, " at screen 0.5, screen %.6f center font ',13'\n", 1.0 - 20.0 / height);
    for (size_t i = 0; i < npanels; i++) {
        int q = panel_q[i], first = 1;

        sb_printf(&body, "\n# panel %zu\nset origin 0,%.6f\nset size 1,%.6f\n", i,
                  (double)(npanels - 1 - i) * 240 / height, 240.0 / height);
        sb_puts(&body, "unset arrow\nunset label\n");
        if (i == 0) {
            sb_puts(&body, "set label 1 ");
            gp_quote(&body, r->title);
            sb_printf(&body, " at screen 0.5, screen %.6f center font ',13'\n",
                      1.0 - 20.0 / height);
        }
        epoch_lines(&body, ep, ne, t0, t1 - t0, i == 0);
        sb_puts(&body, "set ylabel ");
        gp_quote(&body, q == 2 ? "utilisation (%)" : qname[q]);
        sb_puts(&body, "\n");
        sb_puts(&body, i + 1 == npanels ? "set xlabel 'time since the first sample (s)'\n"
                                        : "unset xlabel\n");
        sb_puts(&body, q == 0   ? "set yrange [0:*]\n"
                       : q == 2 ? "set yrange [0:105]\n"
                                : "set yrange [*:*]\n");
        sb_puts(&body, "plot ");
        if (q == 0) {
            for (size_t k = 0; k < nm; k++) {
                if (bucketed)
                    sb_printf(&body,
                              "%s'timeseries.dat' index %zu using 1:3:4 with filledcurves "
                              "fc rgb '%s' notitle",
                              first ? "" : ", \\\n     ", k, line_rgb[k]);
                first = first && !bucketed;
                sb_printf(&body,
                          "%s'timeseries.dat' index %zu using 1:2 with lines lw 1.5 "
                          "dt %zu lc rgb '%s' title ",
                          first ? "" : ", \\\n     ", k, k % 5 + 1, line_rgb[k]);
                gp_quote(&body, m[k].id);
                first = 0;
            }
        } else {
            int qs[2] = {q, q == 2 ? 3 : -1};
            for (int j = 0; j < 2; j++) {
                int qq = qs[j];
                if (qq < 0 || !m[prim].has[qq])
                    continue;
                if (bucketed)
                    sb_printf(&body,
                              "%s'timeseries.dat' index %zu using 1:3:4 with filledcurves "
                              "fc rgb '%s' notitle",
                              first ? "" : ", \\\n     ", nm + (size_t)qq - 1,
                              line_rgb[prim + (size_t)j]);
                first = first && !bucketed;
                sb_printf(&body,
                          "%s'timeseries.dat' index %zu using 1:2 with lines lw 1.5 dt %d "
                          "lc rgb '%s' title ",
                          first ? "" : ", \\\n     ", nm + (size_t)qq - 1, j ? 2 : 1,
                          qq == 1 ? "#D55E00" : line_rgb[(size_t)j * 2 + 2]);
                {
                    char t[128];
                    snprintf(t, sizeof(t), "%s%s%s", m[prim].id, qq == 1 ? "" : " ",
                             qq == 1   ? ""
                             : qq == 2 ? "GPU"
                                       : "memory");
                    gp_quote(&body, t);
                }
                first = 0;
            }
        }
        sb_puts(&body, "\n");
    }
    sb_puts(&body, "unset multiplot\n");
    if (fig_render(c, "timeseries", width, height, &data, &body, err, errlen) < 0)
        goto out;
    snprintf(r->caption, sizeof(r->caption),
             "Run %s over time: power of each meter%s%s; dashed lines: bounds of the epochs%s.",
             base_name(run), m[prim].has[1] ? ", temperature" : "",
             m[prim].has[2] || m[prim].has[3] ? " and utilisation" : "",
             ne ? "" : " (none recorded)");
    r->made = 1;
    rc = 0;
out:
    for (size_t k = 0; k < nm; k++)
        free(m[k].p);
    free(ep);
    figcsv_free(&st);
    sb_free(&data);
    sb_free(&body);
    return rc;
}
