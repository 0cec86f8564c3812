/*
 * carbon_report.c - facility energy, carbon and cost in the corrected report (see
 * carbon_report.h): the factors of each run (its manifest, the report's options over it), the
 * per-run figures, their summaries and totals, and their columns, JSON and Markdown.  Not the
 * arithmetic (util/carbon.c) and not the energy (corrected.c gives it).
 */
#include "analysis/carbon_report.h"

#include "json.h"
#include "util/fsutil.h"
#include "util/jsonw.h"
#include "util/mdesc.h"
#include "util/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fname[CR_COUNT] = {"facility_kwh", "kg_co2e", "cost"};

static const char included_text[] =
    "GPU meters' energy (and simulated meters standing in for them) over each run's command, "
    "plus its CPU package and DRAM energy where measured; idle baseline not subtracted; times "
    "the PUE";

static const char no_factors_note[] =
    "no carbon or cost figures: no conversion factor was given.  Give 'report "
    "--carbon-intensity G_PER_KWH' (or '--region CODE'), '--price PER_KWH[CUR]' and '--pue X', "
    "or the grid keys carbon_intensity (or region), price, currency and pue before 'run'.";

/* The factors recorded in dir/manifest.json ("carbon_factors"); none when absent. */
static void manifest_factors(const char *dir, struct carbon_factors *f)
{
    char path[4096], err[256];
    char *text = NULL;
    size_t len = 0;
    struct jb_json *j = NULL;

    carbon_init(f);
    if (snprintf(path, sizeof(path), "%s/manifest.json", dir) >= (int)sizeof(path) ||
        fs_read_file(path, &text, &len, err, sizeof(err)) < 0)
        return;
    if (jb__json_parse(text, len, &j, err, sizeof(err)) == 0)
        carbon_from_json(jb__json_get(j, "carbon_factors"), f);
    jb__json_free(j);
    free(text);
}

int carbon_report_init(struct carbon_report *cr, const struct report_input *in,
                       const struct carbon_factors *over, const double *gpu_j, const double *cpu_j)
{
    size_t nr = in->nruns, nc = in->nconfigs;
    double *col = NULL;

    memset(cr, 0, sizeof(*cr));
    cr->nruns = nr;
    cr->uniform = 1;
    cr->run = calloc(nr ? nr : 1, sizeof(*cr->run));
    cr->fig = calloc(nr ? nr : 1, CR_COUNT * sizeof(double));
    cr->s = calloc(nc ? nc : 1, sizeof(*cr->s));
    cr->total = calloc(nc ? nc : 1, sizeof(*cr->total));
    col = calloc(nr ? nr : 1, sizeof(double));
    if (!cr->run || !cr->fig || !cr->s || !cr->total || !col) {
        free(col);
        carbon_report_free(cr);
        return -1;
    }
    for (size_t r = 0; r < nr; r++) {
        struct carbon_factors *f = &cr->run[r];
        struct carbon_result res;
        double e = gpu_j[r];
        manifest_factors(in->runs[r].dir, f);
        if (over)
            carbon_merge(f, over);
        if (!isnan(cpu_j[r])) {
            e = isnan(e) ? cpu_j[r] : e + cpu_j[r];
            cr->with_cpu++;
        }
        carbon_compute(f, e, &res);
        if (!carbon_any(f))
            res.facility_kwh = NAN; /* no factor: no figure of this run */
        cr->fig[r * CR_COUNT + CR_KWH] = res.facility_kwh;
        cr->fig[r * CR_COUNT + CR_KG] = res.kg_co2e;
        cr->fig[r * CR_COUNT + CR_COST] = res.cost;
        cr->active |= carbon_any(f);
        cr->has[CR_KWH] |= carbon_any(f);
        cr->has[CR_KG] |= !isnan(f->intensity_g_per_kwh);
        cr->has[CR_COST] |= !isnan(f->price_per_kwh);
        if (r && !carbon_same(f, &cr->run[0]))
            cr->uniform = 0;
        if (r && !isnan(f->price_per_kwh) && !isnan(cr->run[0].price_per_kwh) &&
            strcmp(f->currency, cr->run[0].currency))
            cr->mixed_currency = 1;
    }
    for (int k = 0; k < CR_COUNT; k++)
        cr->all[k] = 0.0;
    for (size_t c = 0; c < nc; c++) {
        const struct rconfig *cf = &in->configs[c];
        for (int k = 0; k < CR_COUNT; k++) {
            double sum = 0.0;
            int any = 0, missing = 0;
            for (size_t i = 0; i < cf->n; i++) {
                col[i] = cr->fig[cf->runs[i] * CR_COUNT + (size_t)k];
                if (isnan(col[i]))
                    missing = 1;
                else {
                    sum += col[i];
                    any = 1;
                }
            }
            cr->s[c][k] = stats_summarise(col, cf->n);
            /* a total of runs of which some have no figure would be too low: none */
            cr->total[c][k] = any && !missing ? sum : NAN;
            cr->all[k] += cr->total[c][k];
        }
    }
    if (cr->mixed_currency)
        cr->all[CR_COST] = NAN;
    free(col);
    return 0;
}

void carbon_report_free(struct carbon_report *cr)
{
    free(cr->run);
    free(cr->fig);
    free(cr->s);
    free(cr->total);
    memset(cr, 0, sizeof(*cr));
}

void carbon_report_csv_header(struct strbuf *sb, const struct carbon_report *cr)
{
    for (int k = 0; k < CR_COUNT; k++)
        if (cr->has[k])
            sb_printf(sb, ",%s_mean,%s_sd,%s_ci95,%s_total", fname[k], fname[k], fname[k],
                      fname[k]);
}

void carbon_report_csv_row(struct strbuf *sb, const struct carbon_report *cr, size_t c)
{
    for (int k = 0; k < CR_COUNT; k++) {
        if (!cr->has[k])
            continue;
        const struct summary *s = &cr->s[c][k];
        sb_putc(sb, ',');
        sb_num(sb, s->mean, 10);
        sb_putc(sb, ',');
        sb_num(sb, s->sd, 10);
        sb_putc(sb, ',');
        sb_num(sb, s->ci95, 10);
        sb_putc(sb, ',');
        sb_num(sb, cr->total[c][k], 10);
    }
}

void carbon_report_json_config(struct jsonw *w, const struct carbon_report *cr,
                               const struct report_input *in, size_t c)
{
    for (int k = 0; k < CR_COUNT; k++) {
        if (!cr->has[k])
            continue;
        const struct summary *s = &cr->s[c][k];
        jw_key(w, fname[k]);
        jw_object_begin(w);
        jw_kv_number(w, "mean", s->mean);
        jw_kv_number(w, "sd", s->sd);
        jw_kv_number(w, "ci95", s->ci95);
        jw_kv_int(w, "n", (long long)s->n);
        jw_kv_number(w, "total", cr->total[c][k]);
        jw_object_end(w);
    }
    if (cr->active && !cr->uniform && in->configs[c].n) {
        jw_key(w, "factors");
        carbon_json_factors(w, &cr->run[in->configs[c].runs[0]]);
    }
}

void carbon_report_json(struct jsonw *w, const struct carbon_report *cr)
{
    jw_key(w, "factors");
    if (cr->active)
        carbon_json_factors(w, &cr->run[0]);
    else
        jw_null(w);
    jw_key(w, "carbon");
    if (!cr->active) {
        jw_null(w);
        jw_kv_string(w, "carbon_note", no_factors_note);
        return;
    }
    jw_object_begin(w);
    jw_kv_bool(w, "factors_uniform", cr->uniform);
    jw_kv_string(w, "included", included_text);
    jw_kv_int(w, "runs_with_cpu_energy", (long long)cr->with_cpu);
    jw_kv_int(w, "runs", (long long)cr->nruns);
    jw_key(w, "totals");
    jw_object_begin(w);
    for (int k = 0; k < CR_COUNT; k++)
        if (cr->has[k])
            jw_kv_number(w, fname[k], cr->all[k]);
    if (cr->has[CR_COST]) {
        jw_key(w, "currency");
        cr->run[0].currency[0] && !cr->mixed_currency ? jw_string(w, cr->run[0].currency)
                                                      : jw_null(w);
    }
    jw_object_end(w);
    if (cr->mixed_currency)
        jw_kv_string(w, "note", "runs priced in different currencies: no cost total");
    jw_object_end(w);
}

static void md_num(struct strbuf *md, double v)
{
    if (isnan(v))
        sb_puts(md, " - |");
    else
        sb_printf(md, " %.6g |", v);
}

static void md_factor(struct strbuf *md, const struct carbon_factors *f)
{
    if (!isnan(f->intensity_g_per_kwh)) {
        sb_printf(md, "- carbon intensity: %g g CO2e/kWh (", f->intensity_g_per_kwh);
        md_escape_cell(md, f->intensity_source);
        sb_puts(md, ")\n");
    }
    if (!isnan(f->price_per_kwh)) {
        sb_printf(md, "- price: %g %s/kWh (", f->price_per_kwh,
                  f->currency[0] ? f->currency : "(no currency given)");
        md_escape_cell(md, f->price_source);
        sb_puts(md, ")\n");
    }
    sb_printf(md, "- PUE: %g (", carbon_pue(f));
    md_escape_cell(md, carbon_pue_source(f));
    sb_puts(md, ")\n");
}

void carbon_report_md(struct strbuf *md, const struct carbon_report *cr,
                      const struct report_input *in)
{
    static const char *const head[CR_COUNT] = {"facility kWh", "kg CO2e", "cost"};
    const char *cur =
        cr->run && cr->run[0].currency[0] && !cr->mixed_currency ? cr->run[0].currency : NULL;
    size_t cols = 0;

    if (!cr->active) {
        sb_puts(md, "\n*Carbon and cost*: ");
        sb_puts(md, no_factors_note);
        sb_puts(md, "\n");
        return;
    }
    sb_puts(md, "\n## Energy, carbon and cost\n\nFacility energy = ");
    sb_puts(md, included_text);
    sb_puts(md, ".  Per run: mean +- 95% CI; total: the sum over the configuration's runs.\n\n|");
    for (size_t k = 0; k < in->nlevels; k++) {
        sb_putc(md, ' ');
        md_escape_cell(md, in->levels[k]);
        sb_puts(md, " |");
    }
    sb_puts(md, " n |");
    for (int k = 0; k < CR_COUNT; k++)
        if (cr->has[k]) {
            sb_printf(md, " %s per run%s%s | total %s%s%s |", head[k],
                      k == CR_COST && cur ? " " : "", k == CR_COST && cur ? cur : "", head[k],
                      k == CR_COST && cur ? " " : "", k == CR_COST && cur ? cur : "");
            cols += 2;
        }
    sb_puts(md, "\n|");
    for (size_t k = 0; k < in->nlevels + 1 + cols; k++)
        sb_puts(md, "---|");
    sb_putc(md, '\n');
    for (size_t c = 0; c < in->nconfigs; c++) {
        sb_putc(md, '|');
        for (size_t k = 0; k < in->nlevels; k++) {
            sb_putc(md, ' ');
            md_escape_cell(md, in->configs[c].vals[k]);
            sb_puts(md, " |");
        }
        sb_printf(md, " %zu |", in->configs[c].n);
        for (int k = 0; k < CR_COUNT; k++) {
            if (!cr->has[k])
                continue;
            const struct summary *s = &cr->s[c][k];
            if (isnan(s->mean))
                sb_puts(md, " - |");
            else if (isnan(s->ci95))
                sb_printf(md, " %.6g |", s->mean);
            else
                sb_printf(md, " %.6g +- %.2g |", s->mean, s->ci95);
            md_num(md, cr->total[c][k]);
        }
        sb_putc(md, '\n');
    }
    if (in->nlevels) {
        sb_puts(md, "| **all runs** |");
        for (size_t k = 1; k < in->nlevels; k++)
            sb_puts(md, " |");
        sb_printf(md, " %zu |", cr->nruns);
    } else {
        sb_printf(md, "| **all runs: %zu** |", cr->nruns);
    }
    for (int k = 0; k < CR_COUNT; k++)
        if (cr->has[k]) {
            sb_puts(md, " |");
            md_num(md, cr->all[k]);
        }
    sb_puts(md, "\n\nConversion factors");
    sb_puts(md, cr->uniform ? " (every run):\n\n"
                            : " (of the first run; they differ between runs, "
                              "see report.json):\n\n");
    md_factor(md, &cr->run[0]);
    if (cr->mixed_currency)
        sb_puts(md, "\nRuns are priced in different currencies: no cost total.\n");
}
