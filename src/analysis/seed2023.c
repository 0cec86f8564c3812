/*
 * seed2023.c - the reference study's post-processing, reproduced (see seed2023.h for the rule).
 * It keeps the study's choices on purpose, including those docs/METHODOLOGY.md corrects; do not
 * "fix" them here.  Not the default method (corrected.c).
 */
#include "analysis/seed2023.h"

#include "analysis/series.h"
#include "util/jsonw.h"
#include "util/mdesc.h"
#include "util/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct seed_epoch {
    double dur_s, power_w, util_pct, acc;
};

/* numpy's round (half to even on the binary value), as pandas .round(3) did. */
static double round3(double v)
{
    return isnan(v) ? v : nearbyint(v * 1000.0) / 1000.0;
}

static double accuracy_of(const struct rundir *rd, long k)
{
    for (size_t i = 0; i < rd->nmetrics; i++)
        if (rd->metrics[i].index == k && !strcmp(rd->metrics[i].name, "accuracy") &&
            (!strcmp(rd->metrics[i].phase, "eval") || !strcmp(rd->metrics[i].phase, "epoch")))
            return rd->metrics[i].value;
    return NAN;
}

/* Per-epoch values of one run; returns the number of epochs (ep has room for ne). */
static long run_epochs(const struct rundir *rd, struct seed_epoch *ep, long ne)
{
    const char *ref = NULL;
    for (size_t i = 0; i < rd->nmeters && !ref; i++)
        if (report_meter_class(&rd->meters[i]) == 1)
            ref = rd->meters[i].id;
    if (!ref)
        return 0;
    double prev = isnan(rd->command_start_s) ? 0.0 : rd->command_start_s;
    for (long k = 1; k <= ne; k++) {
        const struct rd_phase *p = rundir_phase(rd, "epoch", k, ref);
        const struct rd_phase *ev = rundir_phase(rd, "eval", k, ref);
        struct seed_epoch *e = &ep[k - 1];
        if (!p) {
            e->dur_s = e->power_w = e->util_pct = e->acc = NAN;
            continue;
        }
        if (k == 1 && isnan(rd->command_start_s))
            prev = p->t_begin;
        double b = p->t_end;
        if (ev && ev->t_end > b)
            b = ev->t_end;
        double psum = 0.0, usum = 0.0;
        int pn = 0, un = 0;
        for (size_t m = 0; m < rd->nmeters; m++) {
            const struct rd_meter *mt = &rd->meters[m];
            if (report_meter_class(mt) != 1)
                continue;
            double pw = series_mean_in(mt->t, mt->power, mt->n, prev, b, k == 1);
            double ut = series_mean_in(mt->t, mt->util, mt->n, prev, b, k == 1);
            if (!isnan(pw)) {
                psum += pw;
                pn++;
            }
            if (!isnan(ut)) {
                usum += ut;
                un++;
            }
        }
        e->dur_s = b - prev;
        e->power_w = pn ? psum : NAN;
        e->util_pct = un ? usum / un : NAN;
        e->acc = accuracy_of(rd, k);
        prev = b;
    }
    return ne;
}

static double nanmean(const double *v, size_t n)
{
    double s = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) {
            s += v[i];
            k++;
        }
    return k ? s / (double)k : NAN;
}

struct seed_config {
    double energy_kj, power_w, util_pct, acc, time_s;
    long ne;
    struct seed_epoch *ep; /* averaged over runs */
};

static int compute(const struct report_input *in, const struct rconfig *cf, struct seed_config *sc)
{
    long ne = 0;
    for (size_t r = 0; r < cf->n; r++) {
        long e = report_epoch_count(&in->runs[cf->runs[r]]);
        if (e > ne)
            ne = e;
    }
    memset(sc, 0, sizeof(*sc));
    sc->ne = ne;
    sc->ep = calloc(ne ? (size_t)ne : 1, sizeof(*sc->ep));
    struct seed_epoch *per = calloc((ne ? (size_t)ne : 1) * cf->n, sizeof(*per));
    double *tmp = calloc(cf->n ? cf->n : 1, sizeof(double));
    if (!sc->ep || !per || !tmp) {
        free(per);
        free(tmp);
        return -1;
    }
    for (size_t r = 0; r < cf->n; r++)
        run_epochs(&in->runs[cf->runs[r]], per + r * (size_t)ne, ne);
    double esum = 0.0, psum = 0.0, usum = 0.0, tsum = 0.0;
    long pk = 0, uk = 0;
    for (long k = 0; k < ne; k++) {
        struct seed_epoch *e = &sc->ep[k];
#define AVG(field)                                                                                 \
    do {                                                                                           \
        for (size_t r = 0; r < cf->n; r++)                                                         \
            tmp[r] = per[r * (size_t)ne + (size_t)k].field;                                        \
        e->field = nanmean(tmp, cf->n);                                                            \
    } while (0)
        AVG(dur_s);
        AVG(power_w);
        AVG(util_pct);
        AVG(acc);
#undef AVG
        e->power_w = round3(e->power_w);
        e->util_pct = round3(e->util_pct);
        e->acc = round3(e->acc);
        if (!isnan(e->dur_s) && !isnan(e->power_w)) {
            esum += e->dur_s * e->power_w;
            tsum += e->dur_s;
        }
        if (!isnan(e->power_w)) {
            psum += e->power_w;
            pk++;
        }
        if (!isnan(e->util_pct)) {
            usum += e->util_pct;
            uk++;
        }
    }
    sc->energy_kj = ne ? esum / 1000.0 : NAN;
    sc->time_s = ne ? tsum : NAN;
    sc->power_w = pk ? psum / (double)pk : NAN;
    sc->util_pct = uk ? usum / (double)uk : NAN;
    sc->acc = ne ? sc->ep[ne - 1].acc : NAN;
    free(per);
    free(tmp);
    return 0;
}

static void fixed(struct strbuf *sb, double v, int decimals)
{
    if (!isnan(v))
        sb_printf(sb, "%.*f", decimals, v);
}

/* A cell of summary.md's table: the number, or "-" when there is none (never "nan"). */
static void md_fixed(struct strbuf *sb, double v, int decimals)
{
    if (isnan(v))
        sb_puts(sb, " - |");
    else
        sb_printf(sb, " %.*f |", decimals, v);
}

/* configs.csv's row of one configuration. */
static void config_row(struct strbuf *cs, const struct report_input *in, const struct rconfig *cf,
                       const struct seed_config *s)
{
    report_csv_levels(cs, in, cf);
    fixed(cs, s->energy_kj, 3);
    sb_putc(cs, ',');
    fixed(cs, s->power_w, 2);
    sb_putc(cs, ',');
    fixed(cs, s->util_pct, 2);
    sb_putc(cs, ',');
    fixed(cs, s->acc, 3);
    sb_putc(cs, ',');
    fixed(cs, s->time_s, 1);
    sb_putc(cs, '\n');
}

/* epochs.csv's rows of one configuration: the study's per-epoch means. */
static void epoch_rows(struct strbuf *es, const struct report_input *in, const struct rconfig *cf,
                       const struct seed_config *s)
{
    for (long k = 0; k < s->ne; k++) {
        const struct seed_epoch *e = &s->ep[k];
        report_csv_levels(es, in, cf);
        sb_printf(es, "%ld,", k + 1);
        sb_num(es, e->dur_s, 10);
        sb_putc(es, ',');
        sb_num(es, e->power_w, 10);
        sb_putc(es, ',');
        sb_num(es, e->util_pct, 10);
        sb_putc(es, ',');
        sb_num(es, e->dur_s * e->power_w, 10);
        sb_putc(es, ',');
        sb_num(es, e->acc, 10);
        sb_putc(es, '\n');
    }
}

/* runs.csv's rows of one configuration's runs: 0, or -1 out of memory. */
static int run_rows(struct strbuf *rs, const struct report_input *in, const struct rconfig *cf)
{
    for (size_t r = 0; r < cf->n; r++) {
        const struct rundir *rd = &in->runs[cf->runs[r]];
        long ne = report_epoch_count(rd);
        struct seed_epoch *pe = calloc(ne ? (size_t)ne : 1, sizeof(*pe));
        if (!pe)
            return -1;
        run_epochs(rd, pe, ne);
        for (long k = 0; k < ne; k++) {
            report_csv_levels(rs, in, cf);
            sb_csv_field(rs, rd->run_id);
            sb_printf(rs, ",%ld,", k + 1);
            sb_num(rs, pe[k].dur_s, 10);
            sb_putc(rs, ',');
            sb_num(rs, pe[k].power_w, 10);
            sb_putc(rs, ',');
            sb_num(rs, pe[k].util_pct, 10);
            sb_putc(rs, ',');
            sb_num(rs, pe[k].dur_s * pe[k].power_w, 10);
            sb_putc(rs, ',');
            sb_num(rs, pe[k].acc, 10);
            sb_putc(rs, '\n');
        }
        free(pe);
    }
    return 0;
}

/* summary.md's row of one configuration. */
static void md_row(struct strbuf *md, const struct report_input *in, const struct rconfig *cf,
                   const struct seed_config *s)
{
    sb_putc(md, '|');
    for (size_t k = 0; k < in->nlevels; k++) {
        sb_putc(md, ' ');
        md_escape_cell(md, cf->vals[k]);
        sb_puts(md, " |");
    }
    sb_printf(md, " %zu |", cf->n);
    md_fixed(md, s->energy_kj, 3);
    md_fixed(md, s->power_w, 2);
    md_fixed(md, s->util_pct, 2);
    md_fixed(md, s->acc, 3);
    md_fixed(md, s->time_s, 1);
    sb_putc(md, '\n');
}

/* report.json's entry of one configuration. */
static void json_config(struct jsonw *w, const struct report_input *in, const struct rconfig *cf,
                        const struct seed_config *s)
{
    jw_object_begin(w);
    jw_key(w, "levels");
    jw_object_begin(w);
    for (size_t k = 0; k < in->nlevels; k++)
        jw_kv_string(w, in->levels[k], cf->vals[k]);
    jw_object_end(w);
    jw_kv_int(w, "n", (long long)cf->n);
    jw_kv_number(w, "total_energy_kJ", s->energy_kj);
    jw_kv_number(w, "mean_power_W", s->power_w);
    jw_kv_number(w, "mean_gpu_util_pct", s->util_pct);
    jw_kv_number(w, "final_accuracy", s->acc);
    jw_kv_number(w, "total_time_s", s->time_s);
    jw_object_end(w);
}

/* The header lines of the three tables and summary.md's head. */
static void headers(struct strbuf *cs, struct strbuf *es, struct strbuf *rs, struct strbuf *md,
                    const struct report_input *in)
{
    for (size_t k = 0; k < in->nlevels; k++) {
        sb_csv_field(cs, in->levels[k]);
        sb_putc(cs, ',');
        sb_csv_field(es, in->levels[k]);
        sb_putc(es, ',');
    }
    sb_puts(cs, "total_energy_kJ,mean_power_W,mean_gpu_util_pct,final_accuracy,total_time_s\n");
    sb_puts(es, "epoch,time_s,power_w,gpu_util_pct,energy_j,accuracy\n");
    for (size_t k = 0; k < in->nlevels; k++) {
        sb_csv_field(rs, in->levels[k]);
        sb_putc(rs, ',');
    }
    sb_puts(rs, "run_id,epoch,time_s,power_w,gpu_util_pct,energy_j,accuracy\n");
    sb_puts(md, "# joulebench report (method: seed-2023)\n\nThe reference study's own "
                "post-processing, reproduced: unweighted mean power per epoch x epoch time, "
                "averaged over runs per epoch.  See docs/METHODOLOGY.md for what it gets wrong."
                "\n\n");
    if (report_simulated(in))
        sb_puts(md, "**SIMULATED meter**: the energy and power figures of this report come from "
                    "a simulated meter, not from a measurement.\n\n");
    sb_putc(md, '|');
    for (size_t k = 0; k < in->nlevels; k++) {
        sb_putc(md, ' ');
        md_escape_cell(md, in->levels[k]);
        sb_puts(md, " |");
    }
    sb_puts(md, " runs | energy (kJ) | mean power (W) | GPU util (%) | final accuracy | time (s) "
                "|\n|");
    for (size_t k = 0; k < in->nlevels + 6; k++)
        sb_puts(md, "---|");
    sb_putc(md, '\n');
}

int seed2023_write(const struct report_input *in, const char *outdir, const char *example_run,
                   char *err, size_t errlen)
{
    struct strbuf cs = STRBUF_INIT, es = STRBUF_INIT, js = STRBUF_INIT, md = STRBUF_INIT,
                  rs = STRBUF_INIT;
    struct seed_config *sc = calloc(in->nconfigs ? in->nconfigs : 1, sizeof(*sc));
    struct jsonw w;
    int rc = -1;

    if (!sc)
        goto oom;
    for (size_t c = 0; c < in->nconfigs; c++)
        if (compute(in, &in->configs[c], &sc[c]))
            goto oom;

    headers(&cs, &es, &rs, &md, in);

    jw_init(&w, &js, 1);
    report_json_head(&w, in, "seed-2023", example_run);
    jw_kv_int(&w, "runs", (long long)in->nruns);
    jw_kv_int(&w, "skipped_runs", (long long)in->skipped);
    jw_kv_int(&w, "bad_rows", (long long)in->bad_rows);
    jw_key(&w, "configs");
    jw_array_begin(&w);
    for (size_t c = 0; c < in->nconfigs; c++) {
        const struct rconfig *cf = &in->configs[c];
        const struct seed_config *s = &sc[c];
        config_row(&cs, in, cf, s);
        epoch_rows(&es, in, cf, s);
        if (run_rows(&rs, in, cf))
            goto oom;
        md_row(&md, in, cf, s);
        json_config(&w, in, cf, s);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    sb_putc(&js, '\n');
    if (sb_failed(&cs) || sb_failed(&es) || sb_failed(&js) || sb_failed(&md) || sb_failed(&rs))
        goto oom;
    if (report_write(outdir, "configs.csv", cs.buf, cs.len, err, errlen) ||
        report_write(outdir, "epochs.csv", es.buf, es.len, err, errlen) ||
        report_write(outdir, "runs.csv", rs.buf, rs.len, err, errlen) ||
        report_write(outdir, "summary.md", md.buf, md.len, err, errlen) ||
        report_write(outdir, "report.json", js.buf, js.len, err, errlen))
        goto out;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    if (sc)
        for (size_t c = 0; c < in->nconfigs; c++)
            free(sc[c].ep);
    free(sc);
    sb_free(&cs);
    sb_free(&es);
    sb_free(&js);
    sb_free(&md);
    sb_free(&rs);
    return rc;
}
