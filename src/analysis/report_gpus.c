/*
 * report_gpus.c - the multi-GPU view of the report (see report_gpus.h).
 *
 * Per run and GPU meter, the energy of four groups: "total" (the command phase), "startup",
 * "epochs" (all epoch phases summed) and "eval" (all eval phases summed), each the counter's
 * estimate where there is one, else the power integral (as the corrected method takes them).  Per
 * configuration: each GPU's mean over the runs; the group's energy, the mean over the runs of the
 * sum over GPUs (runs lacking a GPU's value left out); the spread (max - min) / mean of the per-GPU
 * means, and the largest spread of one run.  Energy per image: the epochs' energy summed over the
 * GPUs over the images trained (the epochs' items, which count every rank's images), mean over
 * the runs.
 */
#include "analysis/report_gpus.h"

#include "util/jsonw.h"
#include "util/mdesc.h"
#include "util/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GPUS 64
enum { G_TOTAL, G_STARTUP, G_EPOCHS, G_EVAL, G_COUNT };
static const char *const group_name[G_COUNT] = {"total", "startup", "epochs", "eval"};

struct gview {
    const char *id[MAX_GPUS];
    size_t ng;
    double per_gpu[G_COUNT][MAX_GPUS]; /* mean over runs */
    double energy[G_COUNT];            /* mean over runs of the sum over GPUs */
    double min[G_COUNT], max[G_COUNT], spread[G_COUNT], max_run_spread[G_COUNT];
    double per_image; /* J per image, mean over runs */
};

/* (max - min) / mean of v[0..n), NaNs skipped; NaN with fewer than 2 values or a mean of 0 (the
 * definition of run/measure_sum.c's measure_spread, for stat). */
static double spread(const double *v, size_t n, double *min, double *max)
{
    double lo = INFINITY, hi = -INFINITY, sum = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) {
            lo = fmin(lo, v[i]);
            hi = fmax(hi, v[i]);
            sum += v[i];
            k++;
        }
    *min = k ? lo : NAN;
    *max = k ? hi : NAN;
    return k < 2 || sum == 0.0 ? NAN : (hi - lo) / (sum / (double)k);
}

static double row_energy(const struct rd_phase *p)
{
    return isnan(p->energy_j) ? p->energy_j_power : p->energy_j;
}

/* The meter's energy in group g of run rd; NaN when it has no such row or a row lacks energy. */
static double group_energy(const struct rundir *rd, const char *id, int g, double *items)
{
    const char *name = g == G_TOTAL ? "command" : g == G_STARTUP ? "startup" : group_name[g];
    double sum = 0.0, n_items = 0.0;
    int any = 0;

    if (g == G_EPOCHS)
        name = "epoch";
    for (size_t i = 0; i < rd->nphases; i++) {
        const struct rd_phase *p = &rd->phases[i];
        if (strcmp(p->meter, id) || strcmp(p->phase, name))
            continue;
        sum += row_energy(p);
        n_items += isnan(p->items) ? NAN : p->items;
        any = 1;
        if (g == G_TOTAL || g == G_STARTUP)
            break;
    }
    if (items)
        *items = any ? n_items : NAN;
    return any ? sum : NAN;
}

static size_t collect_ids(const struct report_input *in, const struct rconfig *c, struct gview *v)
{
    v->ng = 0;
    for (size_t r = 0; r < c->n; r++) {
        const struct rundir *rd = &in->runs[c->runs[r]];
        for (size_t m = 0; m < rd->nmeters; m++) {
            size_t k;
            if (report_meter_class(&rd->meters[m]) != 1)
                continue;
            for (k = 0; k < v->ng && strcmp(v->id[k], rd->meters[m].id); k++)
                ;
            if (k == v->ng && v->ng < MAX_GPUS)
                v->id[v->ng++] = rd->meters[m].id;
        }
    }
    return v->ng;
}

/* One run's contribution to group g: adds each GPU's energy to sum/cnt, returns the run's total
 * (NaN when a GPU lacks it) and its spread in *run_spread. */
static double run_group(const struct rundir *rd, const struct gview *v, int g, double *sum,
                        size_t *cnt, double *run_spread)
{
    double e[MAX_GPUS], total = 0.0, lo, hi;
    for (size_t k = 0; k < v->ng; k++) {
        e[k] = group_energy(rd, v->id[k], g, NULL);
        total += e[k];
        if (!isnan(e[k])) {
            sum[k] += e[k];
            cnt[k]++;
        }
    }
    *run_spread = spread(e, v->ng, &lo, &hi);
    return total;
}

static void compute(const struct report_input *in, const struct rconfig *c, struct gview *v)
{
    double pi_sum = 0.0;
    size_t pi_n = 0;
    for (int g = 0; g < G_COUNT; g++) {
        double sum[MAX_GPUS] = {0}, tot = 0.0, worst = NAN;
        size_t cnt[MAX_GPUS] = {0}, nt = 0;
        for (size_t r = 0; r < c->n; r++) {
            double rs, t = run_group(&in->runs[c->runs[r]], v, g, sum, cnt, &rs);
            if (!isnan(t)) {
                tot += t;
                nt++;
            }
            if (!isnan(rs) && (isnan(worst) || rs > worst))
                worst = rs;
        }
        for (size_t k = 0; k < v->ng; k++)
            v->per_gpu[g][k] = cnt[k] ? sum[k] / (double)cnt[k] : NAN;
        v->energy[g] = nt ? tot / (double)nt : NAN;
        v->spread[g] = spread(v->per_gpu[g], v->ng, &v->min[g], &v->max[g]);
        v->max_run_spread[g] = worst;
    }
    for (size_t r = 0; r < c->n; r++) {
        const struct rundir *rd = &in->runs[c->runs[r]];
        double e = 0.0, items = NAN;
        for (size_t k = 0; k < v->ng; k++)
            e += group_energy(rd, v->id[k], G_EPOCHS, k ? NULL : &items);
        if (!isnan(e) && items > 0) {
            pi_sum += e / items;
            pi_n++;
        }
    }
    v->per_image = pi_n ? pi_sum / (double)pi_n : NAN;
}

size_t report_gpus_count(const struct report_input *in)
{
    size_t n = 0;
    struct gview v;
    for (size_t c = 0; c < in->nconfigs; c++)
        n += collect_ids(in, &in->configs[c], &v) >= 2;
    return n;
}

void report_gpus_json(struct jsonw *w, const struct report_input *in)
{
    struct gview *v;
    if (!report_gpus_count(in) || !(v = malloc(sizeof(*v))))
        return;
    jw_key(w, "gpus");
    jw_object_begin(w);
    jw_kv_string(w, "energy", "sum over the run's GPU meters; per GPU the mean over the runs");
    jw_kv_string(w, "spread",
                 "(max - min) / mean of the per-GPU energies; max_run_spread: the "
                 "largest spread of one run");
    jw_key(w, "configs");
    jw_array_begin(w);
    for (size_t c = 0; c < in->nconfigs; c++) {
        const struct rconfig *cf = &in->configs[c];
        if (collect_ids(in, cf, v) < 2)
            continue;
        compute(in, cf, v);
        jw_object_begin(w);
        jw_key(w, "levels");
        jw_object_begin(w);
        for (size_t k = 0; k < in->nlevels; k++)
            jw_kv_string(w, in->levels[k], cf->vals[k]);
        jw_object_end(w);
        jw_kv_int(w, "n", (long long)cf->n);
        jw_key(w, "meters");
        jw_array_begin(w);
        for (size_t k = 0; k < v->ng; k++)
            jw_string(w, v->id[k]);
        jw_array_end(w);
        jw_kv_number(w, "energy_j", v->energy[G_TOTAL]);
        jw_kv_number(w, "energy_per_image_j", v->per_image);
        jw_key(w, "phases");
        jw_array_begin(w);
        for (int g = 0; g < G_COUNT; g++) {
            jw_object_begin(w);
            jw_kv_string(w, "phase", group_name[g]);
            jw_kv_number(w, "energy_j", v->energy[g]);
            jw_key(w, "per_gpu_j");
            jw_object_begin(w);
            for (size_t k = 0; k < v->ng; k++)
                jw_kv_number(w, v->id[k], v->per_gpu[g][k]);
            jw_object_end(w);
            jw_kv_number(w, "min_j", v->min[g]);
            jw_kv_number(w, "max_j", v->max[g]);
            jw_kv_number(w, "spread", v->spread[g]);
            jw_kv_number(w, "max_run_spread", v->max_run_spread[g]);
            jw_object_end(w);
        }
        jw_array_end(w);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_object_end(w);
    free(v);
}

static void md_num(struct strbuf *md, double x, double scale, int dec)
{
    if (isnan(x))
        sb_puts(md, " - |");
    else
        sb_printf(md, " %.*f |", dec, x * scale);
}

static void md_row(struct strbuf *md, const struct report_input *in, const struct rconfig *cf,
                   const struct gview *v, int g)
{
    sb_putc(md, '|');
    for (size_t k = 0; k < in->nlevels; k++) {
        sb_putc(md, ' ');
        md_escape_cell(md, cf->vals[k]);
        sb_puts(md, " |");
    }
    sb_printf(md, " %zu | %s |", v->ng, group_name[g]);
    md_num(md, v->energy[g], 1e-3, 3);
    md_num(md, g == G_EPOCHS ? v->per_image : NAN, 1.0, 4);
    sb_putc(md, ' ');
    for (size_t k = 0; k < v->ng; k++) {
        sb_puts(md, k ? ", " : "");
        md_escape_cell(md, v->id[k]);
        if (isnan(v->per_gpu[g][k]))
            sb_puts(md, " -");
        else
            sb_printf(md, " %.3f", v->per_gpu[g][k] * 1e-3);
    }
    sb_puts(md, " |");
    md_num(md, v->min[g], 1e-3, 3);
    md_num(md, v->max[g], 1e-3, 3);
    md_num(md, v->spread[g], 100.0, 1);
    md_num(md, v->max_run_spread[g], 100.0, 1);
    sb_putc(md, '\n');
}

void report_gpus_md(struct strbuf *md, const struct report_input *in)
{
    struct gview *v;
    if (!report_gpus_count(in) || !(v = malloc(sizeof(*v))))
        return;
    sb_puts(md, "\n## Several GPUs\n\nConfigurations whose runs have more than one GPU meter. "
                "Energy: the sum over the run's GPU meters, mean over the runs; per GPU: each "
                "GPU's mean; spread: (max - min) / mean of the per-GPU energies (0 % when "
                "every GPU used the same), and the largest spread of one run. J/image: the "
                "epochs' energy of all GPUs over the images trained by all of them.\n\n|");
    for (size_t k = 0; k < in->nlevels; k++) {
        sb_putc(md, ' ');
        md_escape_cell(md, in->levels[k]);
        sb_puts(md, " |");
    }
    sb_puts(md, " GPUs | phase | energy (kJ) | J/image | per GPU (kJ) | min (kJ) | max (kJ) | "
                "spread (%) | largest run spread (%) |\n|");
    for (size_t k = 0; k < in->nlevels + 9; k++)
        sb_puts(md, "---|");
    sb_putc(md, '\n');
    for (size_t c = 0; c < in->nconfigs; c++) {
        const struct rconfig *cf = &in->configs[c];
        if (collect_ids(in, cf, v) < 2)
            continue;
        compute(in, cf, v);
        for (int g = 0; g < G_COUNT; g++)
            md_row(md, in, cf, v, g);
    }
    free(v);
}
