/*
 * figures_timeseries.c - Fig. 1 of the report: power, temperature and utilisation over time of
 * one run per value of the colour level, overlaid (the reference study's Fig. 1), or of the one
 * example run.  Time is counted from each run's command start, so the idle baseline sampled
 * before it lies at negative times.  A strip per run at the top shows its phases (idle baseline,
 * start-up, epochs, evaluations); the idle baseline's mean power is a dashed line in the power
 * panel; with one run, its idle and start-up spans are shaded in every panel and the epochs'
 * bounds are dashed lines.  Runs are report.json's "example_runs" (else "example_run").  Long
 * runs are cut into at most MAX_BUCKETS time buckets: the line is the bucket's mean, a light band
 * its minimum to maximum, so short spikes stay visible.  It reads samples.csv and phases.csv only
 * (figcsv.h), and computes nothing but those bucket means.
 */
#include "analysis/figures_int.h"
#include "analysis/figures_ts.h"

#include "json.h"
#include "util/fsutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *base_name(const char *p)
{
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    while (n > 0 && p[n - 1] != '/')
        n--;
    return p + n;
}

/* The runs to draw, from report.json. */
static size_t pick_runs(struct fig_ctx *c, struct ts_run *runs)
{
    const struct jb_json *ex = jb__json_get(c->report, "example_runs");
    const char *one = jb__json_str(c->report, "example_run", NULL);
    const struct fig_level *col = c->nlev ? &c->lev[c->colour] : NULL;
    size_t n = 0;

    for (size_t i = 0; ex && ex->type == JB_JSON_ARRAY && i < ex->n && n < MAX_RUNS; i++) {
        const char *dir = jb__json_str(ex->items[i], "run", NULL);
        const char *label = jb__json_str(ex->items[i], "label", NULL);
        if (!dir || !*dir)
            continue;
        snprintf(runs[n].dir, sizeof(runs[n].dir), "%s", dir);
        snprintf(runs[n].label, sizeof(runs[n].label), "%s",
                 label && *label ? label : base_name(dir));
        runs[n].colour = n;
        for (size_t v = 0; col && label && v < col->nval; v++)
            if (!strcmp(col->val[v], label))
                runs[n].colour = v;
        n++;
    }
    if (n == 0 && one && *one) {
        snprintf(runs[0].dir, sizeof(runs[0].dir), "%s", one);
        snprintf(runs[0].label, sizeof(runs[0].label), "%s", base_name(one));
        n = 1;
    }
    /* a relative path is relative to the results folder, else to the working directory */
    for (size_t i = 0; i < n; i++)
        if (runs[i].dir[0] != '/' && c->results_dir) {
            char alt[PATH_MAX];
            if (snprintf(alt, sizeof(alt), "%s/%s", c->results_dir, runs[i].dir) <
                    (int)sizeof(alt) &&
                fs_exists(alt))
                snprintf(runs[i].dir, sizeof(runs[i].dir), "%s", alt);
        }
    return n;
}

/* One line of quantity q of meter m, bucketed when long: appends the polyline (and band). */
static int draw_series(struct plot *p, const struct ts_meter *m, int q, double origin,
                       double (*xmap)(const void *, double), const void *xa,
                       const struct fig_axis *ya, const struct plot_stroke *s, int *bucketed)
{
    size_t nv = 0;
    double *xy, *band = NULL;
    size_t n = 0, nb = 0;

    for (size_t i = 0; i < m->n; i++)
        nv += !isnan(m->p[i].v[q]);
    if (nv == 0)
        return 0;
    if (nv <= MAX_BUCKETS) {
        xy = malloc(nv * 2 * sizeof(double));
        if (!xy)
            return -1;
        for (size_t i = 0; i < m->n; i++) {
            double v = m->p[i].v[q];
            /* counter rows of samples.csv carry no gauges: leaving them out keeps the line
             * unbroken */
            if (isnan(v))
                continue;
            xy[2 * n] = xmap(xa, m->p[i].t_s - origin);
            xy[2 * n + 1] = fig_y(ya, v);
            n++;
        }
    } else {
        double tmin = m->p[0].t_s, tmax = m->p[m->n - 1].t_s, width = (tmax - tmin) / MAX_BUCKETS;
        size_t i = 0;

        *bucketed = 1;
        xy = malloc(MAX_BUCKETS * 2 * sizeof(double));
        band = malloc(MAX_BUCKETS * 4 * sizeof(double));
        if (!xy || !band) {
            free(xy);
            free(band);
            return -1;
        }
        for (size_t b = 0; b < MAX_BUCKETS; b++) {
            double end = b + 1 == MAX_BUCKETS ? INFINITY : tmin + width * (double)(b + 1);
            double sum = 0, lo = INFINITY, hi = -INFINITY, x;
            size_t k = 0;

            for (; i < m->n && m->p[i].t_s < end; i++) {
                double v = m->p[i].v[q];
                if (isnan(v))
                    continue;
                sum += v;
                lo = fmin(lo, v);
                hi = fmax(hi, v);
                k++;
            }
            if (!k)
                continue;
            x = xmap(xa, tmin + width * ((double)b + 0.5) - origin);
            xy[2 * n] = x;
            xy[2 * n + 1] = fig_y(ya, sum / (double)k);
            n++;
            band[2 * nb] = x;
            band[2 * nb + 1] = fig_y(ya, hi);
            band[4 * MAX_BUCKETS - 2 * nb - 2] = x;
            band[4 * MAX_BUCKETS - 2 * nb - 1] = fig_y(ya, lo);
            nb++;
        }
        if (nb > 1) {
            /* the band: the maxima left to right, then the minima right to left */
            struct plot_fill bf = {PLOT_FILL_SOLID, fig_tint(s->rgb, 0.7), PLOT_WHITE, 0.55};
            memmove(band + 2 * nb, band + 4 * MAX_BUCKETS - 2 * nb, 2 * nb * sizeof(double));
            plot_polygon(p, band, 2 * nb, &bf, NULL);
        }
    }
    plot_polyline(p, xy, n, s);
    free(xy);
    free(band);
    return 0;
}

struct xaxis {
    double t0, t1, x0, x1;
};

static double xmap(const void *a, double t)
{
    const struct xaxis *x = a;
    return x->x0 + (t - x->t0) * (x->x1 - x->x0) / (x->t1 - x->t0);
}

static struct plot_fill phase_fill(enum ts_kind k, uint32_t colour, long index)
{
    struct plot_fill f = {PLOT_FILL_SOLID, colour, PLOT_WHITE, 1};

    switch (k) {
    case TS_IDLE:
        f.kind = PLOT_FILL_HLINES;
        f.fg = 0x8c8c8c;
        f.bg = 0xf2f2f2;
        break;
    case TS_STARTUP: f.fg = fig_tint(colour, -0.5); break;
    case TS_EPOCH: f.fg = index % 2 ? colour : fig_tint(colour, 0.25); break;
    case TS_EVAL: f.fg = fig_tint(colour, 0.6); break;
    }
    return f;
}

#define TS_W 1000.0
#define TS_LEFT 78.0
#define TS_RIGHT 24.0
#define TS_PANEL_H 165.0
#define TS_PANEL_GAP 16.0
#define TS_STRIP_H 13.0
#define TS_STRIP_GAP 4.0

/* What the loaded runs hold, for the layout: set once by summarise(). */
struct ts_view {
    size_t nok, npanels;
    int panel_q[3];
    int bucketed, any_idle, any_phase, idle_same, any_idle_phase;
    double idle_w, tmin, tmax;
};

/* Loads the NRUN picked runs and keeps, at the front, those that load (the others are named in
 * a note; the first reason in why): the number kept, or -1 with err. */
static long keep_loaded(struct ts_run *runs, size_t nrun, struct fig_result *r, char *why,
                        size_t whylen, char *err, size_t errlen)
{
    size_t nok = 0;

    for (size_t i = 0; i < nrun; i++) {
        char w[600];
        int got = ts_load_run(&runs[i], w, sizeof(w), err, errlen);
        if (got < 0)
            return -1;
        if (got > 0) {
            if (!why[0])
                snprintf(why, whylen, "%s", w);
            fig_note(r, "run '%s' not drawn: %s", runs[i].label, w);
            ts_run_free(&runs[i]);
            continue;
        }
        if (nok != i) {
            runs[nok] = runs[i];
            memset(&runs[i], 0, sizeof(runs[i]));
        }
        nok++;
    }
    return (long)nok;
}

/* The panels, the time range, what the legend and the notes must say. */
static void summarise(const struct ts_run *runs, struct ts_view *v, struct fig_result *r)
{
    int has_t = 0, has_u = 0;
    size_t bad = 0, nok = v->nok;

    v->idle_same = 1;
    v->idle_w = NAN;
    v->tmin = INFINITY;
    v->tmax = -INFINITY;
    for (size_t i = 0; i < nok; i++) {
        const struct ts_meter *pm = &runs[i].m[runs[i].prim];
        has_t |= pm->has[1];
        has_u |= pm->has[2] || pm->has[3];
        bad += runs[i].bad;
        v->any_idle |= !isnan(runs[i].idle_w);
        v->any_phase |= runs[i].nph > 0;
        for (size_t k = 0; k < runs[i].nph; k++)
            v->any_idle_phase |= runs[i].ph[k].kind == TS_IDLE;
        for (size_t k = 0; k < runs[i].nm; k++) {
            v->tmin = fmin(v->tmin, runs[i].m[k].p[0].t_s - runs[i].origin);
            v->tmax = fmax(v->tmax, runs[i].m[k].p[runs[i].m[k].n - 1].t_s - runs[i].origin);
        }
        for (size_t k = 0; k < runs[i].nph; k++) {
            v->tmin = fmin(v->tmin, runs[i].ph[k].t0);
            if (!isnan(runs[i].ph[k].t1))
                v->tmax = fmax(v->tmax, runs[i].ph[k].t1);
        }
    }
    v->panel_q[v->npanels++] = 0;
    if (has_t)
        v->panel_q[v->npanels++] = 1;
    if (has_u)
        v->panel_q[v->npanels++] = 2;
    if (!(v->tmax > v->tmin))
        v->tmax = v->tmin + 1;
    if (bad)
        fig_note(r, "%zu malformed row%s of samples.csv/phases.csv left out", bad,
                 bad == 1 ? "" : "s");
    if (!v->any_phase)
        fig_note(r, "phases.csv has no phase: no phase strip");
    /* one label for the idle baselines when they agree to the watt, else one per line */
    for (size_t i = 0; i < nok; i++) {
        if (isnan(runs[i].idle_w))
            continue;
        if (isnan(v->idle_w))
            v->idle_w = runs[i].idle_w;
        else if (fabs(runs[i].idle_w - v->idle_w) >= 0.5)
            v->idle_same = 0;
    }
    for (size_t i = 0; i < nok; i++)
        for (size_t k = 0; k < runs[i].nm; k++)
            v->bucketed |= runs[i].m[k].n > MAX_BUCKETS;
    if (v->bucketed)
        fig_note(r,
                 "more than %d samples per line: lines are means over %d time buckets, bands "
                 "their minimum to maximum",
                 MAX_BUCKETS, MAX_BUCKETS);
    if (nok > 1)
        fig_note(r, "each run's first GPU meter (else its first meter) is drawn");
}

/* The legend's first row: the lines (meters of one run, or one run per colour), then the memory
 * utilisation and idle baseline keys. */
static void legend_lines(const struct fig_ctx *c, const struct ts_run *runs,
                         const struct ts_view *v, struct fig_legend_row *lr)
{
    if (v->nok == 1) {
        const struct ts_run *ru = &runs[0];
        snprintf(lr->heading, sizeof(lr->heading), "%s", ru->nm > 1 ? "meter:" : "");
        for (size_t k = 0; k < ru->nm && lr->n < FIG_MAX_KEYS; k++) {
            struct fig_key *key = &lr->key[lr->n++];
            key->kind = FIG_KEY_LINE;
            key->stroke = (struct plot_stroke){fig_colour(k), 2, PLOT_SOLID};
            snprintf(key->label, sizeof(key->label), "%s power", ru->m[k].id);
        }
    } else {
        const struct fig_level *col = c->nlev ? &c->lev[c->colour] : NULL;
        snprintf(lr->heading, sizeof(lr->heading), "%s:", col && !c->no_levels ? col->name : "run");
        for (size_t i = 0; i < v->nok && lr->n < FIG_MAX_KEYS; i++) {
            struct fig_key *key = &lr->key[lr->n++];
            key->kind = FIG_KEY_LINE;
            key->stroke = (struct plot_stroke){fig_colour(runs[i].colour), 2, PLOT_SOLID};
            snprintf(key->label, sizeof(key->label), "%.90s", runs[i].label);
        }
    }
    if (v->npanels > 1 && v->panel_q[v->npanels - 1] == 2) {
        struct fig_key *key = &lr->key[lr->n++];
        key->kind = FIG_KEY_LINE;
        key->stroke = (struct plot_stroke){0x555555, 2, PLOT_DASHED};
        snprintf(key->label, sizeof(key->label), "memory utilisation");
    }
    if (v->any_idle) {
        struct fig_key *key = &lr->key[lr->n++];
        key->kind = FIG_KEY_LINE;
        key->stroke = (struct plot_stroke){0x555555, 1.4, PLOT_DOTTED};
        if (v->idle_same)
            snprintf(key->label, sizeof(key->label), "idle baseline power (%.0f W)", v->idle_w);
        else
            snprintf(key->label, sizeof(key->label), "idle baseline power");
    }
}

/* The legend's second row: the kinds of phase the strip shows. */
static void legend_phases(const struct ts_run *runs, const struct ts_view *v,
                          struct fig_legend_row *lr)
{
    static const char *const names[4] = {"idle baseline", "start-up", "epoch", "evaluation"};
    uint32_t col = fig_colour(v->nok == 1 ? runs[0].colour : 0);

    snprintf(lr->heading, sizeof(lr->heading), "phases:");
    for (int k = 0; k < 4; k++) {
        struct fig_key *key;
        int seen = 0;
        for (size_t i = 0; i < v->nok && !seen; i++)
            for (size_t j = 0; j < runs[i].nph && !seen; j++)
                seen = runs[i].ph[j].kind == (enum ts_kind)k;
        if (!seen)
            continue; /* only the phases the strip shows */
        key = &lr->key[lr->n++];
        key->kind = FIG_KEY_FILL;
        key->fill = phase_fill((enum ts_kind)k, v->nok == 1 ? col : 0x7a7a7a, 1);
        snprintf(key->label, sizeof(key->label), "%s", names[k]);
    }
}

/* The phase strips, one per run, from y down. */
static void draw_strips(struct plot *p, const struct ts_run *runs, const struct ts_view *v,
                        const struct xaxis *xa, double y)
{
    const struct plot_stroke edge = {0x333333, 0.6, PLOT_SOLID};
    const struct plot_font sf = {10.5, 0, 0x111111};

    for (size_t i = 0; i < v->nok; i++) {
        const struct ts_run *ru = &runs[i];
        double sy = y + (double)i * (TS_STRIP_H + TS_STRIP_GAP);
        uint32_t col = fig_colour(ru->colour);
        if (v->nok > 1)
            plot_text(p, xa->x0 - 8, sy + TS_STRIP_H - 2.5, ru->label, &sf, PLOT_END, 0);
        for (size_t k = 0; k < ru->nph; k++) {
            const struct ts_phase *ph = &ru->ph[k];
            struct plot_fill f = phase_fill(ph->kind, col, ph->index);
            double a = xmap(xa, ph->t0), b = xmap(xa, isnan(ph->t1) ? v->tmax : ph->t1);
            plot_rect(p, a, sy, b - a, TS_STRIP_H, &f, &edge);
            if (ph->kind == TS_EPOCH && b - a > 14) {
                char lab[24];
                const struct plot_font ef = {9.5, 1, PLOT_WHITE};
                snprintf(lab, sizeof(lab), "%ld", ph->index);
                if (plot_text_width(lab, 9.5, 1) < b - a - 4)
                    plot_text(p, (a + b) / 2, sy + TS_STRIP_H - 3, lab, &ef, PLOT_MIDDLE, 0);
            }
        }
    }
}

/* Quantity q's value axis over every run's lines of its panel, at py. */
static void value_axis(const struct ts_run *runs, size_t nok, int q, double py, struct fig_axis *ya,
                       double *yt, size_t *nyt, int *ydec)
{
    double lo = INFINITY, hi = -INFINITY;

    for (size_t i = 0; i < nok; i++)
        for (size_t k = 0; k < runs[i].nm; k++) {
            const struct ts_meter *m = &runs[i].m[k];
            if (q != 0 && k != runs[i].prim)
                continue;
            if (q == 0 && nok > 1 && k != runs[i].prim)
                continue;
            for (size_t j = 0; j < m->n; j++)
                for (int qq = q; qq <= (q == 2 ? 3 : q); qq++)
                    if (!isnan(m->p[j].v[qq])) {
                        lo = fmin(lo, m->p[j].v[qq]);
                        hi = fmax(hi, m->p[j].v[qq]);
                    }
            if (q == 0 && !isnan(runs[i].idle_w))
                hi = fmax(hi, runs[i].idle_w);
        }
    if (q == 0 || q == 2)
        lo = 0;
    if (q == 2)
        hi = 100;
    if (!(hi > lo)) {
        hi = (isfinite(lo) ? lo : 0) + 1;
        lo = isfinite(lo) ? lo : 0;
    }
    if (q == 1) {
        double pad = (hi - lo) * 0.08 + 0.5;
        lo -= pad;
        hi += pad;
    } else if (q == 0) {
        hi *= 1.06;
    }
    *nyt = plot_ticks(lo, hi, 5, yt, 32, ydec);
    if (q == 1 && *nyt >= 2) {
        lo = fmin(lo, yt[0]);
        hi = fmax(hi, yt[*nyt - 1]);
    }
    ya->v0 = lo;
    ya->v1 = hi;
    ya->y0_px = py + TS_PANEL_H;
    ya->y1_px = py;
}

/* One run alone: its idle and start-up spans shaded (under the grid), epoch bounds dashed (over
 * it): part 1, the shading. */
static void shade_spans(struct plot *p, const struct ts_run *ru, const struct ts_view *v,
                        const struct xaxis *xa, double py)
{
    plot_clip_begin(p, xa->x0, py, xa->x1 - xa->x0, TS_PANEL_H);
    for (size_t k = 0; k < ru->nph; k++) {
        const struct ts_phase *ph = &ru->ph[k];
        double a = xmap(xa, ph->t0), b = xmap(xa, isnan(ph->t1) ? v->tmax : ph->t1);
        if (ph->kind == TS_IDLE || ph->kind == TS_STARTUP) {
            struct plot_fill f = {PLOT_FILL_SOLID,
                                  ph->kind == TS_IDLE ? 0xededed
                                                      : fig_tint(fig_colour(ru->colour), 0.86),
                                  PLOT_WHITE, 1};
            plot_rect(p, a, py, b - a, TS_PANEL_H, &f, NULL);
        }
    }
    plot_clip_end(p);
}

/* Part 2: the epochs' bounds. */
static void epoch_bounds(struct plot *p, const struct ts_run *ru, const struct ts_view *v,
                         const struct xaxis *xa, double py)
{
    const struct plot_stroke bound = {0x555555, 1, PLOT_DASHED};

    for (size_t k = 0; k < ru->nph; k++) {
        const struct ts_phase *ph = &ru->ph[k];
        if (ph->kind != TS_EPOCH)
            continue;
        plot_line(p, xmap(xa, ph->t0), py, xmap(xa, ph->t0), py + TS_PANEL_H, &bound);
        if (!isnan(ph->t1) &&
            (k + 1 == ru->nph || ru->ph[k + 1].t0 - ph->t1 > (v->tmax - v->tmin) * 0.004))
            plot_line(p, xmap(xa, ph->t1), py, xmap(xa, ph->t1), py + TS_PANEL_H, &bound);
    }
}

/* Every run's lines of quantity q (and the idle baselines in the power panel): 0, or -1 out of
 * memory. */
static int draw_lines(struct plot *p, const struct ts_run *runs, struct ts_view *v, int q,
                      const struct xaxis *xa, const struct fig_axis *ya)
{
    size_t nok = v->nok;

    for (size_t i = 0; i < nok; i++) {
        const struct ts_run *ru = &runs[i];
        for (size_t k = 0; k < ru->nm; k++) {
            uint32_t col = nok == 1 ? fig_colour(q == 0 ? k : 0) : fig_colour(ru->colour);
            struct plot_stroke s = {col, 1.8, PLOT_SOLID};
            if (k != ru->prim && (q != 0 || nok > 1))
                continue;
            if (draw_series(p, &ru->m[k], q == 2 ? 2 : q, ru->origin, xmap, xa, ya, &s,
                            &v->bucketed) < 0)
                return -1;
            if (q == 2) {
                s.dash = PLOT_DASHED;
                s.width_px = 1.6;
                if (draw_series(p, &ru->m[k], 3, ru->origin, xmap, xa, ya, &s, &v->bucketed) < 0)
                    return -1;
            }
        }
        if (q == 0 && !isnan(ru->idle_w)) {
            struct plot_stroke s = {nok == 1 ? 0x444444 : fig_colour(ru->colour), 1.4, PLOT_DOTTED};
            const struct plot_font idf = {10.5, 0, s.rgb};
            char lab[64];
            plot_line(p, xa->x0, fig_y(ya, ru->idle_w), xa->x1, fig_y(ya, ru->idle_w), &s);
            snprintf(lab, sizeof(lab), "idle %.0f W", ru->idle_w);
            if (!v->idle_same)
                plot_text(p, xa->x1 - 4, fig_y(ya, ru->idle_w) - 4 - (double)i * 12, lab, &idf,
                          PLOT_END, 0);
        }
    }
    return 0;
}

/* Panel pi at py: shading, grid, lines, frame, label and time ticks: 0, or -1 out of memory. */
static int draw_panel(struct plot *p, const struct ts_run *runs, struct ts_view *v, size_t pi,
                      double py, const struct xaxis *xa, const double *ticks, size_t nt, int dec)
{
    static const char *const qlabel[3] = {"power (W)", "temperature (°C)", "utilisation (%)"};
    const struct plot_stroke frame = {0x333333, 1.1, PLOT_SOLID};
    const struct plot_font tf = {FIG_TICK_PX, 0, 0x222222};
    const struct plot_font lf = {FIG_LABEL_PX, 0, 0x111111};
    int q = v->panel_q[pi], ydec;
    double x0 = xa->x0, x1 = xa->x1, yt[32];
    struct fig_axis ya;
    size_t nyt;

    value_axis(runs, v->nok, q, py, &ya, yt, &nyt, &ydec);
    if (v->nok == 1)
        shade_spans(p, &runs[0], v, xa, py);
    fig_yticks(p, &ya, x0, x1 - x0, yt, nyt, ydec);
    if (v->nok == 1)
        epoch_bounds(p, &runs[0], v, xa, py);
    plot_clip_begin(p, x0, py, x1 - x0, TS_PANEL_H);
    if (draw_lines(p, runs, v, q, xa, &ya) < 0)
        return -1;
    plot_clip_end(p);
    plot_rect(p, x0, py, x1 - x0, TS_PANEL_H, NULL, &frame);
    plot_text(p, 22, py + TS_PANEL_H / 2, qlabel[q], &lf, PLOT_MIDDLE, -90);
    for (size_t k = 0; k < nt; k++) {
        double x = xmap(xa, ticks[k]);
        char buf[32];
        plot_line(p, x, py + TS_PANEL_H, x, py + TS_PANEL_H + 4, &frame);
        if (pi + 1 == v->npanels) {
            fig_fmt(buf, sizeof(buf), ticks[k], dec);
            plot_text(p, x, py + TS_PANEL_H + 17, buf, &tf, PLOT_MIDDLE, 0);
        }
    }
    if (pi + 1 == v->npanels)
        plot_text(p, (x0 + x1) / 2, py + TS_PANEL_H + 36,
                  v->any_idle_phase ? "time since the command started (s); the idle "
                                      "baseline comes before 0"
                                    : "time since the command started (s)",
                  &lf, PLOT_MIDDLE, 0);
    return 0;
}

/* The whole figure: a new plot in *pp (freed by the caller), or -1 with err. */
static int draw_figure(struct fig_ctx *c, struct fig_result *r, const struct ts_run *runs,
                       struct ts_view *v, const struct fig_legend_row *rows, size_t nrows,
                       struct plot **pp, char *err, size_t errlen)
{
    char drawn_title[260];
    double strip_h = v->any_phase ? (double)v->nok * (TS_STRIP_H + TS_STRIP_GAP) + 8 : 0;
    double head, y, foot, height, ticks[32];
    struct xaxis xa = {v->tmin, v->tmax, TS_LEFT, TS_W - TS_RIGHT};
    size_t nt;
    int dec;
    struct plot *p;

    snprintf(drawn_title, sizeof(drawn_title), "Fig. %d: %s", r->number, r->title);
    head = fig_header(NULL, TS_W, drawn_title, c->simulated, rows, nrows);
    foot = fig_footer(NULL, TS_W, 0, sb_str(&r->notes));
    height = head + strip_h + (double)v->npanels * (TS_PANEL_H + TS_PANEL_GAP) + 40 + foot;
    p = *pp = plot_new(TS_W, height, "timeseries");
    if (!p) {
        snprintf(err, errlen, "'%s/timeseries.svg': out of memory", c->figdir);
        return -1;
    }
    fig_header(p, TS_W, drawn_title, c->simulated, rows, nrows);
    y = head;
    if (v->any_phase)
        draw_strips(p, runs, v, &xa, y);
    y += strip_h;
    nt = plot_ticks(v->tmin, v->tmax, 8, ticks, 32, &dec);
    for (size_t pi = 0; pi < v->npanels; pi++)
        if (draw_panel(p, runs, v, pi, y + (double)pi * (TS_PANEL_H + TS_PANEL_GAP), &xa, ticks, nt,
                       dec) < 0) {
            snprintf(err, errlen, "'%s/timeseries.svg': out of memory", c->figdir);
            return -1;
        }
    fig_footer(p, TS_W, y + (double)v->npanels * (TS_PANEL_H + TS_PANEL_GAP) + 34,
               sb_str(&r->notes));
    return 0;
}

static void caption(struct fig_result *r, const struct ts_run *runs, const struct ts_view *v)
{
    struct strbuf cap = STRBUF_INIT;

    if (v->nok == 1)
        sb_printf(&cap, "Run %s over time: power of each meter", base_name(runs[0].dir));
    else {
        sb_puts(&cap, "One run per value of the colour level over time (");
        for (size_t i = 0; i < v->nok; i++)
            sb_printf(&cap, "%s%s: %s", i ? "; " : "", runs[i].label, base_name(runs[i].dir));
        sb_puts(&cap, "): power");
    }
    sb_puts(&cap, ", temperature and utilisation; time 0 is the command's start");
    if (v->any_phase)
        sb_puts(&cap, "; the strip shows the phases (idle baseline, start-up, epochs, "
                      "evaluations)");
    if (v->any_idle)
        sb_puts(&cap, "; dotted line: mean power of the idle baseline");
    sb_putc(&cap, '.');
    snprintf(r->caption, sizeof(r->caption), "%s", sb_str(&cap));
    sb_free(&cap);
}

int fig_timeseries_draw(struct fig_ctx *c, struct fig_result *r, char *err, size_t errlen)
{
    struct ts_run *runs = calloc(MAX_RUNS, sizeof(*runs));
    struct fig_legend_row rows[2];
    struct ts_view v;
    struct plot *p = NULL;
    size_t nrun, nrows = 0;
    long nok;
    int rc = -1;
    char why[700] = "";

    memset(rows, 0, sizeof(rows));
    memset(&v, 0, sizeof(v));
    if (!runs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(r->title, sizeof(r->title), "Power, temperature and utilisation over time");
    nrun = pick_runs(c, runs);
    if (nrun == 0) {
        snprintf(r->reason, sizeof(r->reason), "report.json names no \"example_run\"");
        rc = 0;
        goto out;
    }
    nok = keep_loaded(runs, nrun, r, why, sizeof(why), err, errlen);
    if (nok < 0)
        goto out;
    if (nok == 0) {
        snprintf(r->reason, sizeof(r->reason), "%.590s", why);
        sb_reset(&r->notes);
        rc = 0;
        goto out;
    }
    v.nok = (size_t)nok;
    summarise(runs, &v, r);
    legend_lines(c, runs, &v, &rows[nrows++]);
    if (v.any_phase)
        legend_phases(runs, &v, &rows[nrows++]);
    if (draw_figure(c, r, runs, &v, rows, nrows, &p, err, errlen) < 0)
        goto out;
    if (fig_render(c, r, p, err, errlen) < 0)
        goto out;
    caption(r, runs, &v);
    rc = 0;
out:
    plot_free(p);
    for (size_t i = 0; i < MAX_RUNS; i++)
        ts_run_free(&runs[i]);
    free(runs);
    return rc;
}
