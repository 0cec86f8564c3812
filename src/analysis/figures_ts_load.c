/*
 * figures_ts_load.c - Fig. 1's input: one run directory's samples.csv (gauges per meter, sorted by
 * time) and phases.csv (idle baseline, start-up, epochs, evaluations), times relative to the
 * command's start.  Malformed rows are skipped and counted; see figures_ts.h.
 */
#include "analysis/figures_int.h"
#include "analysis/figures_ts.h"

#include "util/fsutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_point(const void *a, const void *b)
{
    double x = ((const struct ts_point *)a)->t_s, y = ((const struct ts_point *)b)->t_s;
    return (x > y) - (x < y);
}

static int cmp_phase(const void *a, const void *b)
{
    double x = ((const struct ts_phase *)a)->t0, y = ((const struct ts_phase *)b)->t0;
    return (x > y) - (x < y);
}

void ts_run_free(struct ts_run *r)
{
    for (size_t k = 0; k < r->nm; k++) {
        free(r->m[k].id);
        free(r->m[k].p);
    }
    free(r->ph);
    memset(r, 0, sizeof(*r));
}

/* A number cell: 1 and *v, 0 when empty, -1 when malformed. */
static int num_cell(const struct figcsv *t, size_t row, int col, double *v)
{
    char e[8];
    return col < 0 ? 0 : figcsv_num(t, row, col, v, e, sizeof(e));
}

/* Reads samples.csv; rows with a malformed number are skipped and counted. */
static int load_samples(const char *path, struct ts_run *r, char *err, size_t errlen)
{
    static const char *const qcol[NQ] = {"power_w", "temp_c", "util_pct", "mem_util_pct"};
    struct figcsv t;
    int ct, cm, cq[NQ], ci, rc = -1;

    if (figcsv_load(path, &t, err, errlen) < 0)
        return -1;
    ct = figcsv_col(&t, "t_s");
    cm = figcsv_col(&t, "meter");
    if (ct < 0 || cm < 0 || figcsv_col(&t, "power_w") < 0) {
        snprintf(err, errlen, "'%.400s': the columns t_s, meter and power_w are required", path);
        goto out;
    }
    for (int q = 0; q < NQ; q++)
        cq[q] = figcsv_col(&t, qcol[q]);
    ci = figcsv_col(&t, "power_instant_w");
    for (size_t row = 0; row < t.nrows; row++) {
        const char *id = figcsv_cell(&t, row, cm);
        struct ts_point pt;
        double w;
        size_t k;
        int g = num_cell(&t, row, ct, &pt.t_s), bad = g < 0, any = 0;

        if (g <= 0) {
            r->bad += (size_t)bad;
            continue;
        }
        for (int q = 0; q < NQ; q++) {
            int gq = num_cell(&t, row, cq[q], &pt.v[q]);
            bad |= gq < 0;
            if (gq <= 0)
                pt.v[q] = NAN;
            any |= gq > 0;
        }
        /* Power: the instant reading where the meter has one (NVML's default reading is a 1 s
         * average that lags a load step by ~0.9 s on an H200; docs/METHODOLOGY.md). */
        g = num_cell(&t, row, ci, &w);
        bad |= g < 0;
        if (g > 0)
            pt.v[0] = w;
        if (bad) {
            r->bad++;
            continue;
        }
        if (!any)
            continue; /* a counter row: no gauge to draw */
        for (k = 0; k < r->nm; k++)
            if (strcmp(r->m[k].id, id) == 0)
                break;
        if (k == r->nm) {
            if (r->nm == MAX_METERS)
                continue;
            r->m[k].id = strdup(id);
            if (!r->m[k].id)
                goto oom;
            r->nm++;
        }
        if (r->m[k].n == r->m[k].cap) {
            size_t ncap = r->m[k].cap ? r->m[k].cap * 2 : 1024;
            struct ts_point *np = realloc(r->m[k].p, ncap * sizeof(*np));
            if (!np)
                goto oom;
            r->m[k].p = np;
            r->m[k].cap = ncap;
        }
        r->m[k].p[r->m[k].n++] = pt;
        for (int q = 0; q < NQ; q++)
            r->m[k].has[q] |= !isnan(pt.v[q]);
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "'%.400s': out of memory", path);
out:
    figcsv_free(&t);
    return rc;
}

/* Reads phases.csv: the origin (command start), idle power and the phases of meter id (or of the
 * first meter with phases when id has none). */
static int load_phases(const char *path, struct ts_run *r, const char *id, char *err, size_t errlen)
{
    struct figcsv t;
    int cp, ci, cm, cb, ce, cw, rc = -1;
    const char *use = NULL;

    if (figcsv_load(path, &t, err, errlen) < 0)
        return -1;
    cp = figcsv_col(&t, "phase");
    ci = figcsv_col(&t, "index");
    cm = figcsv_col(&t, "meter");
    cb = figcsv_col(&t, "t_begin_s");
    ce = figcsv_col(&t, "t_end_s");
    cw = figcsv_col(&t, "avg_power_w");
    if (cp < 0 || ci < 0 || cb < 0 || ce < 0) {
        snprintf(err, errlen,
                 "'%.400s': the columns phase, index, t_begin_s and t_end_s are required", path);
        goto out;
    }
    for (size_t row = 0; row < t.nrows && !use && id; row++)
        if (strcmp(figcsv_cell(&t, row, cm), id) == 0)
            use = id;
    if (!use && t.nrows)
        use = figcsv_cell(&t, 0, cm);
    r->ph = calloc(t.nrows + 1, sizeof(*r->ph));
    if (!r->ph) {
        snprintf(err, errlen, "'%.400s': out of memory", path);
        goto out;
    }
    for (size_t row = 0; row < t.nrows && use; row++) {
        const char *name = figcsv_cell(&t, row, cp);
        struct ts_phase ph;
        double idx = 0, w;
        int g1, g2, g3;

        if (strcmp(figcsv_cell(&t, row, cm), use))
            continue;
        g1 = num_cell(&t, row, ci, &idx);
        g2 = num_cell(&t, row, cb, &ph.t0);
        g3 = num_cell(&t, row, ce, &ph.t1);
        if (g1 < 0 || g2 < 0 || g3 < 0) {
            r->bad++;
            continue;
        }
        if (g2 == 0)
            continue;
        if (g3 == 0)
            ph.t1 = NAN; /* a phase that did not end (interrupted run) */
        if (!strcmp(name, "command")) {
            r->origin = ph.t0;
            r->has_origin = 1;
            continue;
        }
        if (!strcmp(name, "idle")) {
            ph.kind = TS_IDLE;
            if (num_cell(&t, row, cw, &w) > 0)
                r->idle_w = w;
        } else if (!strcmp(name, "startup"))
            ph.kind = TS_STARTUP;
        else if (!strcmp(name, "epoch"))
            ph.kind = TS_EPOCH;
        else if (!strcmp(name, "eval"))
            ph.kind = TS_EVAL;
        else
            continue;
        if (r->nph == MAX_PHASES)
            continue;
        ph.index = g1 ? (long)idx : 0;
        r->ph[r->nph++] = ph;
    }
    qsort(r->ph, r->nph, sizeof(*r->ph), cmp_phase);
    rc = 0;
out:
    figcsv_free(&t);
    return rc;
}

/* Loads one run; returns 1 when it cannot be drawn (reason in why), 0, or -1 with err. */
int ts_load_run(struct ts_run *r, char *why, size_t whylen, char *err, size_t errlen)
{
    char path[PATH_MAX + 16];
    double first = INFINITY;

    r->idle_w = NAN;
    snprintf(path, sizeof(path), "%s/samples.csv", r->dir);
    if (!fs_exists(path)) {
        snprintf(why, whylen, "no samples.csv in the example run '%.400s'", r->dir);
        return 1;
    }
    if (load_samples(path, r, why, whylen) < 0)
        return 1; /* a malformed file: the figure says why, the report goes on */
    if (r->nm == 0) {
        snprintf(why, whylen, "'%.400s' holds no gauge sample", path);
        return 1;
    }
    r->prim = 0;
    for (size_t k = 0; k < r->nm; k++)
        if (strncmp(r->m[k].id, "gpu", 3) == 0) {
            r->prim = k;
            break;
        }
    for (size_t k = 0; k < r->nm; k++) {
        qsort(r->m[k].p, r->m[k].n, sizeof(*r->m[k].p), cmp_point);
        first = fmin(first, r->m[k].p[0].t_s);
    }
    r->origin = first;
    snprintf(path, sizeof(path), "%s/phases.csv", r->dir);
    if (fs_exists(path) && load_phases(path, r, r->m[r->prim].id, why, whylen) < 0)
        return 1;
    for (size_t i = 0; i < r->nph; i++) {
        r->ph[i].t0 -= r->origin;
        r->ph[i].t1 -= r->origin;
    }
    (void)err;
    (void)errlen;
    return 0;
}
