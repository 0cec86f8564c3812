/*
 * corrected.c - the default report method: per-run energies first, then mean, sd, CI and n
 * across repeats; see corrected.h for the rules and docs/report-format.md for the columns.
 * Not the study's method (seed2023.c).
 */
#include "analysis/corrected.h"
#include "analysis/report_gpus.h"
#include "analysis/report_phases.h"

#include "analysis/carbon_report.h"
#include "analysis/series.h"
#include "analysis/stats.h"
#include "util/jsonw.h"
#include "util/mdesc.h"
#include "util/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum quantity {
    Q_ENERGY,
    Q_TIME,
    Q_AVG_POWER,
    Q_E1_ENERGY,
    Q_E1_POWER,
    Q_REST_POWER,
    Q_STARTUP,
    Q_EVAL,
    Q_EPOCHS,
    Q_OTHER,
    Q_UTIL,
    Q_ACC,
    Q_PER_IMAGE,
    Q_NET,
    Q_CPU,
    Q_TARGET, /* last: only with --target-accuracy */
    Q_COUNT
};

static const char *const qname[Q_COUNT] = {
    "energy_j",           "time_s",           "avg_power_w",      "epoch1_energy_j",
    "epoch1_avg_power_w", "rest_avg_power_w", "startup_energy_j", "eval_energy_j",
    "epochs_energy_j",    "other_energy_j",   "gpu_util_pct",     "final_accuracy",
    "energy_per_image_j", "net_energy_j",     "cpu_energy_j",     "energy_to_target_j"};

/* The meter whose phase rows give the bounds: the first GPU meter, else the first meter. */
static const char *ref_meter(const struct rundir *rd)
{
    for (size_t i = 0; i < rd->nmeters; i++)
        if (report_meter_class(&rd->meters[i]) == 1)
            return rd->meters[i].id;
    return rd->nmeters ? rd->meters[0].id : NULL;
}

static double phase_energy_row(const struct rd_phase *p)
{
    return isnan(p->energy_j) ? p->energy_j_power : p->energy_j;
}

/* Sum over meters of class cls of the phase's energy (which: 0 best, 1 counter, 2 power). */
static double phase_sum(const struct rundir *rd, const char *phase, long index, int cls, int which)
{
    double sum = 0.0;
    int any = 0, missing = 0;
    for (size_t i = 0; i < rd->nmeters; i++) {
        if (report_meter_class(&rd->meters[i]) != cls)
            continue;
        const struct rd_phase *p = rundir_phase(rd, phase, index, rd->meters[i].id);
        if (!p)
            continue;
        double e = which == 0 ? phase_energy_row(p) : which == 1 ? p->energy_j : p->energy_j_power;
        if (isnan(e)) {
            missing = 1;
            continue;
        }
        sum += e;
        any = 1;
    }
    return any && !missing ? sum : NAN;
}

/* Mean over GPU meters of the time-weighted mean of a gauge (0 util, 1 temperature). */
static double gauge_tw(const struct rundir *rd, int gauge, double a, double b)
{
    double sum = 0.0;
    int k = 0;
    for (size_t i = 0; i < rd->nmeters; i++) {
        const struct rd_meter *m = &rd->meters[i];
        if (report_meter_class(m) != 1)
            continue;
        double v = series_mean_tw(m->t, gauge ? m->temp : m->util, m->n, a, b);
        if (!isnan(v)) {
            sum += v;
            k++;
        }
    }
    return k ? sum / k : NAN;
}

static double metric(const struct rundir *rd, const char *name, long index)
{
    double v = NAN;
    for (size_t i = 0; i < rd->nmetrics; i++)
        if (rd->metrics[i].index == index && !strcmp(rd->metrics[i].name, name)) {
            v = rd->metrics[i].value;
            if (!strcmp(rd->metrics[i].phase, "eval"))
                break; /* eval metrics win over others of the same index */
        }
    return v;
}

/* The run's command span [a, b]: the command phase, else the extent of the samples. */
static int command_span(const struct rundir *rd, double *a, double *b)
{
    const char *ref = ref_meter(rd);
    const struct rd_phase *p = ref ? rundir_phase(rd, "command", 0, ref) : NULL;
    if (p) {
        *a = p->t_begin;
        *b = p->t_end;
        return 0;
    }
    *a = INFINITY;
    *b = -INFINITY;
    for (size_t i = 0; i < rd->nmeters; i++) {
        const struct rd_meter *m = &rd->meters[i];
        if (m->n) {
            *a = fmin(*a, m->t[0]);
            *b = fmax(*b, m->t[m->n - 1]);
        }
    }
    return *b > *a ? 0 : -1;
}

static double span_energy(const struct rundir *rd, int cls, double a, double b)
{
    double sum = 0.0;
    int any = 0;
    for (size_t i = 0; i < rd->nmeters; i++) {
        if (report_meter_class(&rd->meters[i]) != cls)
            continue;
        double e = report_meter_energy(&rd->meters[i], a, b);
        if (isnan(e))
            return NAN;
        sum += e;
        any = 1;
    }
    return any ? sum : NAN;
}

static void run_quantities(const struct rundir *rd, double target, double *q)
{
    double a, b;
    long ne = report_epoch_count(rd);
    const char *ref = ref_meter(rd);

    for (int i = 0; i < Q_COUNT; i++)
        q[i] = NAN;
    if (!ref || command_span(rd, &a, &b))
        return;
    q[Q_TIME] = b - a;
    q[Q_ENERGY] = phase_sum(rd, "command", 0, 1, 0);
    if (isnan(q[Q_ENERGY]))
        q[Q_ENERGY] = span_energy(rd, 1, a, b);
    q[Q_AVG_POWER] = q[Q_ENERGY] / q[Q_TIME];
    q[Q_CPU] = phase_sum(rd, "command", 0, 2, 0);
    if (isnan(q[Q_CPU]))
        q[Q_CPU] = span_energy(rd, 2, a, b);
    q[Q_UTIL] = gauge_tw(rd, 0, a, b);

    const struct rd_phase *p1 = rundir_phase(rd, "epoch", 1, ref);
    if (p1) {
        q[Q_E1_ENERGY] = phase_sum(rd, "epoch", 1, 1, 0);
        q[Q_E1_POWER] = q[Q_E1_ENERGY] / p1->duration;
    }
    double rest_e = 0.0, rest_t = 0.0, ep_e = 0.0, items = 0.0, ev = 0.0;
    int rest_ok = ne >= 2, items_ok = ne >= 1, ev_any = 0, ep_ok = ne >= 1;
    for (long k = 1; k <= ne; k++) {
        const struct rd_phase *p = rundir_phase(rd, "epoch", k, ref);
        double e = phase_sum(rd, "epoch", k, 1, 0);
        if (!p || isnan(e)) {
            rest_ok = items_ok = ep_ok = 0;
            continue;
        }
        ep_e += e;
        if (isnan(p->items))
            items_ok = 0;
        else
            items += p->items;
        if (k >= 2) {
            rest_e += e;
            rest_t += p->duration;
        }
    }
    if (rest_ok && rest_t > 0)
        q[Q_REST_POWER] = rest_e / rest_t;
    if (items_ok && items > 0)
        q[Q_PER_IMAGE] = ep_e / items;
    q[Q_STARTUP] = phase_sum(rd, "startup", 0, 1, 0);
    if (isnan(q[Q_STARTUP]))
        q[Q_STARTUP] = phase_sum(rd, "startup", 1, 1, 0);
    for (size_t i = 0; i < rd->nphases; i++)
        if (!strcmp(rd->phases[i].phase, "eval") && !strcmp(rd->phases[i].meter, ref)) {
            double e = phase_sum(rd, "eval", rd->phases[i].index, 1, 0);
            if (!isnan(e)) {
                ev += e;
                ev_any = 1;
            }
        }
    if (ev_any)
        q[Q_EVAL] = ev;
    if (ep_ok)
        q[Q_EPOCHS] = ep_e;
    /* the rest of the command: what no start-up, epoch or eval phase holds (an absent phase
     * holds nothing) */
    if (!isnan(q[Q_ENERGY]))
        q[Q_OTHER] = report_diff(q[Q_ENERGY], (isnan(q[Q_STARTUP]) ? 0 : q[Q_STARTUP]) +
                                                  (isnan(q[Q_EPOCHS]) ? 0 : q[Q_EPOCHS]) +
                                                  (isnan(q[Q_EVAL]) ? 0 : q[Q_EVAL]));

    long last = 0;
    for (size_t i = 0; i < rd->nmetrics; i++)
        if (!strcmp(rd->metrics[i].name, "accuracy") && rd->metrics[i].index > last)
            last = rd->metrics[i].index;
    if (last)
        q[Q_ACC] = metric(rd, "accuracy", last);

    double idle = 0.0;
    int idle_ok = 0;
    for (size_t i = 0; i < rd->nmeters; i++)
        if (report_meter_class(&rd->meters[i]) == 1) {
            if (isnan(rd->meters[i].idle_power_w)) {
                idle_ok = 0;
                break;
            }
            idle += rd->meters[i].idle_power_w;
            idle_ok = 1;
        }
    if (idle_ok)
        q[Q_NET] = report_diff(q[Q_ENERGY], idle * q[Q_TIME]);

    if (!isnan(target))
        for (long k = 1; k <= last; k++) {
            double acc = metric(rd, "accuracy", k);
            if (isnan(acc) || acc < target)
                continue;
            const struct rd_phase *pe = rundir_phase(rd, "epoch", k, ref);
            const struct rd_phase *pv = rundir_phase(rd, "eval", k, ref);
            double end = pv ? pv->t_end : pe ? pe->t_end : NAN;
            if (pe && pe->t_end > end)
                end = pe->t_end;
            if (!isnan(end))
                q[Q_TARGET] = span_energy(rd, 1, a, end);
            break;
        }
}

struct cfg_stats {
    struct summary s[Q_COUNT];
};

static void put_stat(struct strbuf *sb, const struct summary *s)
{
    sb_putc(sb, ',');
    sb_num(sb, s->mean, 10);
    sb_putc(sb, ',');
    sb_num(sb, s->sd, 10);
    sb_putc(sb, ',');
    sb_num(sb, s->ci95, 10);
}

static void json_stat(struct jsonw *w, const char *key, const struct summary *s)
{
    jw_key(w, key);
    jw_object_begin(w);
    jw_kv_number(w, "mean", s->mean);
    jw_kv_number(w, "sd", s->sd);
    jw_kv_number(w, "ci95", s->ci95);
    jw_kv_int(w, "n", (long long)s->n);
    jw_object_end(w);
}

/* Metric names over all runs, in first-seen order. */
static size_t metric_names(const struct report_input *in, const char **names, size_t max)
{
    size_t n = 0;
    for (size_t r = 0; r < in->nruns; r++)
        for (size_t i = 0; i < in->runs[r].nmetrics; i++) {
            const char *nm = in->runs[r].metrics[i].name;
            size_t k;
            for (k = 0; k < n && strcmp(names[k], nm); k++)
                ;
            if (k == n && n < max)
                names[n++] = nm;
        }
    return n;
}

static void write_epochs(const struct report_input *in, struct strbuf *sb)
{
    const char *names[64];
    size_t nn = metric_names(in, names, 64);
    for (size_t k = 0; k < in->nlevels; k++) {
        sb_csv_field(sb, in->levels[k]);
        sb_putc(sb, ',');
    }
    sb_puts(sb, "run_id,repeat,epoch,t_begin_s,t_end_s,duration_s,energy_j,energy_j_power,"
                "avg_power_w,gpu_util_pct,temp_c,items");
    for (size_t k = 0; k < nn; k++) {
        sb_putc(sb, ',');
        sb_csv_field(sb, names[k]);
    }
    sb_putc(sb, '\n');
    for (size_t c = 0; c < in->nconfigs; c++)
        for (size_t r = 0; r < in->configs[c].n; r++) {
            const struct rundir *rd = &in->runs[in->configs[c].runs[r]];
            const char *ref = ref_meter(rd);
            long ne = report_epoch_count(rd);
            for (long k = 1; ref && k <= ne; k++) {
                const struct rd_phase *p = rundir_phase(rd, "epoch", k, ref);
                if (!p)
                    continue;
                double ec = phase_sum(rd, "epoch", k, 1, 1);
                double ep = phase_sum(rd, "epoch", k, 1, 2);
                double best = isnan(ec) ? ep : ec;
                report_csv_levels(sb, in, &in->configs[c]);
                sb_csv_field(sb, rd->run_id);
                sb_putc(sb, ',');
                if (rd->repeat >= 0)
                    sb_printf(sb, "%ld", rd->repeat);
                sb_printf(sb, ",%ld,%.6f,%.6f,%.6f,", k, p->t_begin, p->t_end, p->duration);
                sb_num(sb, ec, 10);
                sb_putc(sb, ',');
                sb_num(sb, ep, 10);
                sb_putc(sb, ',');
                sb_num(sb, p->duration > 0 ? best / p->duration : NAN, 10);
                sb_putc(sb, ',');
                sb_num(sb, gauge_tw(rd, 0, p->t_begin, p->t_end), 6);
                sb_putc(sb, ',');
                sb_num(sb, gauge_tw(rd, 1, p->t_begin, p->t_end), 6);
                sb_putc(sb, ',');
                sb_num(sb, p->items, 12);
                for (size_t m = 0; m < nn; m++) {
                    sb_putc(sb, ',');
                    sb_num(sb, metric(rd, names[m], k), 10);
                }
                sb_putc(sb, '\n');
            }
        }
}

/* The config equal to c except that level f has value v; -1 when absent. */
static long find_config(const struct report_input *in, size_t c, size_t f, const char *v)
{
    for (size_t o = 0; o < in->nconfigs; o++) {
        size_t k;
        for (k = 0; k < in->nlevels; k++) {
            const char *want = k == f ? v : in->configs[c].vals[k];
            if (strcmp(in->configs[o].vals[k], want))
                break;
        }
        if (k == in->nlevels)
            return (long)o;
    }
    return -1;
}

static const enum quantity ratio_q[] = {Q_ENERGY, Q_TIME, Q_AVG_POWER};

static void write_ratios(const struct report_input *in, const struct cfg_stats *cs,
                         struct strbuf *csv, struct jsonw *w, struct strbuf *md)
{
    sb_puts(csv, "factor,level,reference,context,quantity,ratio,ci95_lo,ci95_hi,df,n,"
                 "n_reference\n");
    jw_key(w, "ratios");
    jw_array_begin(w);
    for (size_t f = 0; f < in->nlevels; f++) {
        /* The reference level: the first in sorted order. */
        const char *ref = in->configs[0].vals[f];
        for (size_t c = 1; c < in->nconfigs; c++)
            if (report_natural_cmp(in->configs[c].vals[f], ref) < 0)
                ref = in->configs[c].vals[f];
        for (size_t c = 0; c < in->nconfigs; c++) {
            if (!strcmp(in->configs[c].vals[f], ref))
                continue;
            long o = find_config(in, c, f, ref);
            if (o < 0)
                continue;
            struct strbuf ctx = STRBUF_INIT;
            for (size_t k = 0; k < in->nlevels; k++)
                if (k != f)
                    sb_printf(&ctx, "%s%s=%s", ctx.len ? ";" : "", in->levels[k],
                              in->configs[c].vals[k]);
            for (size_t qi = 0; qi < sizeof(ratio_q) / sizeof(ratio_q[0]); qi++) {
                enum quantity q = ratio_q[qi];
                struct ratio_ci r = stats_ratio(&cs[c].s[q], &cs[o].s[q]);
                sb_csv_field(csv, in->levels[f]);
                sb_putc(csv, ',');
                sb_csv_field(csv, in->configs[c].vals[f]);
                sb_putc(csv, ',');
                sb_csv_field(csv, ref);
                sb_putc(csv, ',');
                sb_csv_field(csv, sb_str(&ctx));
                sb_printf(csv, ",%s,", qname[q]);
                sb_num(csv, r.ratio, 8);
                sb_putc(csv, ',');
                sb_num(csv, r.lo, 8);
                sb_putc(csv, ',');
                sb_num(csv, r.hi, 8);
                sb_putc(csv, ',');
                sb_num(csv, r.df, 6);
                sb_printf(csv, ",%zu,%zu\n", cs[c].s[q].n, cs[o].s[q].n);
                jw_object_begin(w);
                jw_kv_string(w, "factor", in->levels[f]);
                jw_kv_string(w, "level", in->configs[c].vals[f]);
                jw_kv_string(w, "reference", ref);
                jw_kv_string(w, "context", sb_str(&ctx));
                jw_kv_string(w, "quantity", qname[q]);
                jw_kv_number(w, "ratio", r.ratio);
                jw_kv_number(w, "ci95_lo", r.lo);
                jw_kv_number(w, "ci95_hi", r.hi);
                jw_kv_number(w, "df", r.df);
                jw_object_end(w);
                if (q == Q_ENERGY) {
                    sb_puts(md, "| ");
                    md_escape_cell(md, in->levels[f]);
                    sb_puts(md, " | ");
                    md_escape_cell(md, in->configs[c].vals[f]);
                    sb_puts(md, " / ");
                    md_escape_cell(md, ref);
                    sb_puts(md, " | ");
                    md_escape_cell(md, sb_str(&ctx));
                    sb_puts(md, " | ");
                    if (isnan(r.lo))
                        sb_printf(md, "%.3f | - |\n", r.ratio);
                    else
                        sb_printf(md, "%.3f | %.3f - %.3f |\n", r.ratio, r.lo, r.hi);
                }
            }
            sb_free(&ctx);
        }
    }
    jw_array_end(w);
}

/* configs.csv: one row per configuration, mean, sd and CI of every quantity, carbon last. */
static void configs_csv(struct strbuf *cfg, const struct report_input *in,
                        const struct cfg_stats *cs, int nq, struct carbon_report *cr)
{
    for (size_t k = 0; k < in->nlevels; k++) {
        sb_csv_field(cfg, in->levels[k]);
        sb_putc(cfg, ',');
    }
    sb_puts(cfg, "n");
    for (int q = 0; q < nq; q++)
        sb_printf(cfg, ",%s_mean,%s_sd,%s_ci95", qname[q], qname[q], qname[q]);
    carbon_report_csv_header(cfg, cr);
    sb_putc(cfg, '\n');
    for (size_t c = 0; c < in->nconfigs; c++) {
        report_csv_levels(cfg, in, &in->configs[c]);
        sb_printf(cfg, "%zu", in->configs[c].n);
        for (int q = 0; q < nq; q++)
            put_stat(cfg, &cs[c].s[q]);
        carbon_report_csv_row(cfg, cr, c);
        sb_putc(cfg, '\n');
    }
}

/* report.json's "meters": the ids of the energy and CPU meters, each once. */
static void json_meters(struct jsonw *w, const struct report_input *in)
{
    jw_key(w, "meters");
    jw_object_begin(w);
    for (int cls = 1; cls <= 2; cls++) {
        const char *seen[64];
        size_t ns = 0;
        jw_key(w, cls == 1 ? "energy_j" : "cpu_energy_j");
        jw_array_begin(w);
        for (size_t r = 0; r < in->nruns; r++)
            for (size_t m = 0; m < in->runs[r].nmeters; m++) {
                const struct rd_meter *mt = &in->runs[r].meters[m];
                size_t k;
                if (report_meter_class(mt) != cls)
                    continue;
                for (k = 0; k < ns && strcmp(seen[k], mt->id); k++)
                    ;
                if (k == ns && ns < 64) {
                    seen[ns++] = mt->id;
                    jw_string(w, mt->id);
                }
            }
        jw_array_end(w);
    }
    jw_object_end(w);
}

/* report.json's "configs". */
static void json_configs(struct jsonw *w, const struct report_input *in, const struct cfg_stats *cs,
                         int nq, struct carbon_report *cr)
{
    jw_key(w, "configs");
    jw_array_begin(w);
    for (size_t c = 0; c < in->nconfigs; c++) {
        const struct rconfig *cf = &in->configs[c];
        jw_object_begin(w);
        jw_key(w, "levels");
        jw_object_begin(w);
        for (size_t k = 0; k < in->nlevels; k++)
            jw_kv_string(w, in->levels[k], cf->vals[k]);
        jw_object_end(w);
        jw_kv_int(w, "n", (long long)cf->n);
        jw_key(w, "runs");
        jw_array_begin(w);
        for (size_t r = 0; r < cf->n; r++)
            jw_string(w, in->runs[cf->runs[r]].dir);
        jw_array_end(w);
        for (int q = 0; q < nq; q++)
            json_stat(w, qname[q], &cs[c].s[q]);
        carbon_report_json_config(w, cr, in, c);
        report_phases_json(w, in, cf); /* "phase_flags", "phase_groups" (report_phases.c) */
        jw_object_end(w);
    }
    jw_array_end(w);
}

/* summary.md's table of configurations. */
static void md_configs(struct strbuf *md, const struct report_input *in, const struct cfg_stats *cs)
{
    sb_putc(md, '|');
    for (size_t k = 0; k < in->nlevels; k++) {
        sb_putc(md, ' ');
        md_escape_cell(md, in->levels[k]);
        sb_puts(md, " |");
    }
    sb_puts(md, " n | energy (kJ) | time (s) | avg power (W) | epoch 1 power (W) | epochs 2..N "
                "power (W) | GPU util (%) | final accuracy |\n|");
    for (size_t k = 0; k < in->nlevels + 8; k++)
        sb_puts(md, "---|");
    sb_putc(md, '\n');
    for (size_t c = 0; c < in->nconfigs; c++) {
        const struct summary *s = cs[c].s;
        static const enum quantity shown[] = {Q_ENERGY,     Q_TIME, Q_AVG_POWER, Q_E1_POWER,
                                              Q_REST_POWER, Q_UTIL, Q_ACC};
        sb_putc(md, '|');
        for (size_t k = 0; k < in->nlevels; k++) {
            sb_putc(md, ' ');
            md_escape_cell(md, in->configs[c].vals[k]);
            sb_puts(md, " |");
        }
        sb_printf(md, " %zu |", in->configs[c].n);
        for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
            double scale = shown[i] == Q_ENERGY ? 1e-3 : 1.0;
            int dec = shown[i] == Q_ACC ? 3 : shown[i] == Q_ENERGY ? 3 : 1;
            if (isnan(s[shown[i]].mean))
                sb_puts(md, " - |");
            else if (isnan(s[shown[i]].ci95))
                sb_printf(md, " %.*f |", dec, s[shown[i]].mean * scale);
            else
                sb_printf(md, " %.*f +- %.*f |", dec, s[shown[i]].mean * scale, dec,
                          s[shown[i]].ci95 * scale);
        }
        sb_putc(md, '\n');
    }
}

int corrected_write(const struct report_input *in, const char *outdir, const char *example_run,
                    char *err, size_t errlen)
{
    struct strbuf cfg = STRBUF_INIT, eps = STRBUF_INIT, rat = STRBUF_INIT, js = STRBUF_INIT,
                  md = STRBUF_INIT, mdr = STRBUF_INIT;
    struct cfg_stats *cs = calloc(in->nconfigs ? in->nconfigs : 1, sizeof(*cs));
    double *vals = calloc(in->nruns ? in->nruns : 1, Q_COUNT * sizeof(double));
    double *col = calloc(in->nruns ? in->nruns : 1, sizeof(double));
    int nq = isnan(in->target_accuracy) ? Q_COUNT - 1 : Q_COUNT;
    double *gpu = calloc(in->nruns ? in->nruns : 1, 2 * sizeof(double));
    struct carbon_report cr;
    struct jsonw w;
    int rc = -1;

    memset(&cr, 0, sizeof(cr));
    if (!cs || !vals || !col || !gpu)
        goto oom;
    for (size_t r = 0; r < in->nruns; r++) {
        run_quantities(&in->runs[r], in->target_accuracy, vals + r * Q_COUNT);
        gpu[r] = vals[r * Q_COUNT + Q_ENERGY];
        gpu[in->nruns + r] = vals[r * Q_COUNT + Q_CPU];
    }
    if (carbon_report_init(&cr, in, in->carbon_over, gpu, gpu + in->nruns) < 0)
        goto oom;
    for (size_t c = 0; c < in->nconfigs; c++) {
        const struct rconfig *cf = &in->configs[c];
        for (int q = 0; q < Q_COUNT; q++) {
            for (size_t r = 0; r < cf->n; r++)
                col[r] = vals[cf->runs[r] * Q_COUNT + (size_t)q];
            cs[c].s[q] = stats_summarise(col, cf->n);
        }
    }

    configs_csv(&cfg, in, cs, nq, &cr);
    write_epochs(in, &eps);

    /* report.json ("simulated" is in the head: any simulated meter, said in summary.md too) */
    int sim = report_simulated(in);

    jw_init(&w, &js, 1);
    report_json_head(&w, in, "corrected", example_run);
    jw_key(&w, "target_accuracy");
    jw_number(&w, in->target_accuracy);
    json_meters(&w, in);
    jw_key(&w, "quantities");
    jw_array_begin(&w);
    for (int q = 0; q < nq; q++)
        jw_string(&w, qname[q]);
    jw_array_end(&w);
    jw_kv_int(&w, "runs", (long long)in->nruns);
    jw_kv_int(&w, "skipped_runs", (long long)in->skipped);
    jw_kv_int(&w, "bad_rows", (long long)in->bad_rows);
    jw_kv_string(&w, "ci_method", "Student t, 95%, half-width t(0.975, n-1) * sd / sqrt(n)");
    jw_kv_string(&w, "ratio_method",
                 "ratio of means; 95% CI by the delta method on log(ratio) with "
                 "Welch-Satterthwaite degrees of freedom");
    json_configs(&w, in, cs, nq, &cr);
    sb_puts(&mdr, "\n## Ratios of mean energy between levels\n\nRatio of means, 95% CI by the "
                  "delta method on the log scale (Welch df).\n\n| factor | ratio | other levels |"
                  " energy ratio | 95% CI |\n|---|---|---|---|---|\n");
    write_ratios(in, cs, &rat, &w, &mdr);
    carbon_report_json(&w, &cr);
    report_gpus_json(&w, in); /* "gpus": jobs on several GPUs (report_gpus.c) */
    jw_object_end(&w);
    sb_putc(&js, '\n');

    /* summary.md */
    sb_puts(&md, "# joulebench report (method: corrected)\n\nPer run: energy from the counters "
                 "(power integral where there is none), summed over GPU meters; then mean +- "
                 "95% CI half-width (Student t) over the runs of each configuration.\n\n");
    if (sim)
        sb_puts(&md, "**SIMULATED meter**: the energy and power figures of this report come from "
                     "a simulated meter, not from a measurement.\n\n");
    md_configs(&md, in, cs);
    report_phases_md(&md, in);
    carbon_report_md(&md, &cr, in);
    sb_append(&md, sb_str(&mdr), mdr.len);
    report_gpus_md(&md, in);
    sb_printf(&md,
              "\n%zu run(s), %zu skipped (no complete manifest), %zu malformed row(s) "
              "skipped.\n",
              in->nruns, in->skipped, in->bad_rows);

    if (sb_failed(&cfg) || sb_failed(&eps) || sb_failed(&rat) || sb_failed(&js) || sb_failed(&md))
        goto oom;
    if (report_write(outdir, "configs.csv", cfg.buf, cfg.len, err, errlen) ||
        report_write(outdir, "epochs.csv", eps.buf, eps.len, err, errlen) ||
        report_write(outdir, "ratios.csv", rat.buf, rat.len, err, errlen) ||
        report_write(outdir, "summary.md", md.buf, md.len, err, errlen) ||
        report_write(outdir, "report.json", js.buf, js.len, err, errlen))
        goto out;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    free(cs);
    free(vals);
    free(col);
    free(gpu);
    carbon_report_free(&cr);
    sb_free(&cfg);
    sb_free(&eps);
    sb_free(&rat);
    sb_free(&js);
    sb_free(&md);
    sb_free(&mdr);
    return rc;
}
