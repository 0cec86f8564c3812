/*
 * report_load.c - results folder -> finished runs grouped into sorted configurations, and the
 * helpers both report methods share; see report.h.  Not a method: no statistics here.
 */
#include "analysis/report.h"

#include "analysis/series.h"
#include "util/fsutil.h"
#include "util/jsonw.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void warnf(const struct report_input *in, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warnf(const struct report_input *in, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    if (!in->warn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    in->warn(in->warn_ctx, msg);
}

int report_natural_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            const char *sa = a, *sb = b;
            while (*sa == '0' && isdigit((unsigned char)sa[1]))
                sa++;
            while (*sb == '0' && isdigit((unsigned char)sb[1]))
                sb++;
            const char *ea = sa, *eb = sb;
            while (isdigit((unsigned char)*ea))
                ea++;
            while (isdigit((unsigned char)*eb))
                eb++;
            if (ea - sa != eb - sb)
                return ea - sa < eb - sb ? -1 : 1;
            int c = strncmp(sa, sb, (size_t)(ea - sa));
            if (c)
                return c;
            a = ea;
            b = eb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

double report_meter_energy(const struct rd_meter *m, double a, double b)
{
    if (m->nc >= 2)
        return series_at(m->ct, m->ce, m->nc, b) - series_at(m->ct, m->ce, m->nc, a);
    return series_integral(m->t, m->power, m->n, a, b, NULL);
}

int report_meter_class(const struct rd_meter *m)
{
    /* A simulated meter stands in for the accelerator in demos and tests (the smoke study on a
     * machine without a GPU); report.json then says "simulated": true. */
    if (m->kind && (!strcmp(m->kind, "gpu") || !strcmp(m->kind, "sim")))
        return 1;
    if (m->kind && (!strncmp(m->kind, "cpu", 3) || !strncmp(m->kind, "dram", 4)))
        return 2;
    return 0;
}

long report_epoch_count(const struct rundir *rd)
{
    long n = 0;
    for (size_t i = 0; i < rd->nphases; i++)
        if (!strcmp(rd->phases[i].phase, "epoch") && rd->phases[i].index > n)
            n = rd->phases[i].index;
    return n;
}

int report_simulated(const struct report_input *in)
{
    for (size_t r = 0; r < in->nruns; r++)
        for (size_t m = 0; m < in->runs[r].nmeters; m++) {
            const struct rd_meter *mt = &in->runs[r].meters[m];
            if ((mt->kind && !strcmp(mt->kind, "sim")) ||
                (mt->energy_source && !strcmp(mt->energy_source, "simulated")))
                return 1;
        }
    return 0;
}

double report_diff(double x, double y)
{
    double d = x - y, scale = fmax(fabs(x), fabs(y)), q;

    if (fabs(d) <= 1e-9 * scale)
        return 0.0;
    /* no more digits than the operands have at the 10 significant digits the tables print: 24.59
     * - 24.5899995 is 5e-07, not 4.999999952e-07 */
    q = pow(10, floor(log10(scale)) - 9);
    return nearbyint(d / q) * q;
}

void report_json_head(struct jsonw *w, const struct report_input *in, const char *method,
                      const char *example_run)
{
    jw_object_begin(w);
    jw_kv_string(w, "format", "joulebench-report/1");
    jw_kv_string(w, "method", method);
    jw_kv_string(w, "results_dir", in->results_dir);
    jw_key(w, "levels");
    jw_array_begin(w);
    for (size_t k = 0; k < in->nlevels; k++)
        jw_string(w, in->levels[k]);
    jw_array_end(w);
    jw_kv_bool(w, "simulated", report_simulated(in));
    jw_key(w, "example_run");
    if (example_run)
        jw_string(w, example_run);
    else
        jw_null(w);
    jw_key(w, "example_runs");
    jw_array_begin(w);
    for (size_t i = 0; i < in->nexamples; i++) {
        const struct rundir *rd = &in->runs[in->example[i]];
        char *real = realpath(rd->dir, NULL);
        struct strbuf cfg = STRBUF_INIT;

        for (size_t k = 0; k < rd->nlevels; k++)
            sb_printf(&cfg, "%s%s=%s", k ? ", " : "", rd->keys[k], rd->vals[k]);
        jw_object_begin(w);
        jw_kv_string(w, "run", real ? real : rd->dir);
        jw_kv_string(w, "label", in->example_label[i] ? in->example_label[i] : rd->run_id);
        jw_kv_string(w, "config", sb_str(&cfg));
        jw_object_end(w);
        sb_free(&cfg);
        free(real);
    }
    jw_array_end(w);
    report_json_provenance(w, in);
}

void report_csv_levels(struct strbuf *sb, const struct report_input *in, const struct rconfig *c)
{
    for (size_t i = 0; i < in->nlevels; i++) {
        sb_csv_field(sb, c->vals[i]);
        sb_putc(sb, ',');
    }
}

void report_config_name(struct strbuf *sb, const struct report_input *in, const struct rconfig *c)
{
    for (size_t i = 0; i < in->nlevels; i++)
        sb_printf(sb, "%s%s=%s", i ? ", " : "", in->levels[i], c->vals[i]);
    if (!in->nlevels)
        sb_puts(sb, "(no levels)");
}

void report_check_epochs(const struct report_input *in)
{
    for (size_t c = 0; c < in->nconfigs; c++) {
        const struct rconfig *cf = &in->configs[c];
        long first = -1;
        for (size_t k = 0; k < cf->n; k++) {
            long e = report_epoch_count(&in->runs[cf->runs[k]]);
            if (first < 0)
                first = e;
            else if (e != first) {
                struct strbuf sb = STRBUF_INIT;
                report_config_name(&sb, in, cf);
                warnf(in,
                      "configuration %s: runs have different numbers of epochs ('%s' %ld, "
                      "'%s' %ld)",
                      sb_str(&sb), in->runs[cf->runs[0]].dir, first, in->runs[cf->runs[k]].dir, e);
                sb_free(&sb);
                break;
            }
        }
    }
}

static const struct report_input *sort_in;

static int cmp_config(const void *pa, const void *pb)
{
    const struct rconfig *a = pa, *b = pb;
    for (size_t i = 0; i < sort_in->nlevels; i++) {
        int c = report_natural_cmp(a->vals[i], b->vals[i]);
        if (c)
            return c;
    }
    return 0;
}

/* The time series' runs: the last configuration's first run, and the first run of each other
 * configuration that differs from it in the colour level only (framework, else the first
 * level), in configuration order. */
static void pick_examples(struct report_input *in)
{
    const struct rconfig *last;
    size_t colour = 0;

    in->nexamples = 0;
    if (!in->nconfigs || !in->configs[in->nconfigs - 1].n)
        return;
    last = &in->configs[in->nconfigs - 1];
    for (size_t k = 0; k < in->nlevels; k++)
        if (!strcmp(in->levels[k], "framework"))
            colour = k;
    for (size_t c = 0; c < in->nconfigs && in->nexamples < REPORT_MAX_EXAMPLES; c++) {
        const struct rconfig *cf = &in->configs[c];
        size_t k;
        for (k = 0; k < in->nlevels; k++)
            if (k != colour && strcmp(cf->vals[k], last->vals[k]))
                break;
        if (k < in->nlevels || !cf->n)
            continue;
        in->example[in->nexamples] = cf->runs[0];
        in->example_label[in->nexamples] = in->nlevels ? cf->vals[colour] : NULL;
        in->nexamples++;
    }
}

static int add_level(struct report_input *in, const char *key)
{
    for (size_t i = 0; i < in->nlevels; i++)
        if (!strcmp(in->levels[i], key))
            return 0;
    char **l = realloc(in->levels, (in->nlevels + 1) * sizeof(*l));
    if (!l)
        return -1;
    in->levels = l;
    in->levels[in->nlevels] = strdup(key);
    if (!in->levels[in->nlevels])
        return -1;
    in->nlevels++;
    return 0;
}

int report_load(const char *results, int with_samples, int strict, struct report_input *in,
                rd_warn_fn warn, void *ctx, char *err, size_t errlen)
{
    char **dirs = NULL;
    size_t ndirs = 0;
    int rc = -1;

    memset(in, 0, sizeof(*in));
    in->results_dir = results;
    in->target_accuracy = NAN;
    in->warn = warn;
    in->warn_ctx = ctx;
    if (rundir_find(results, &dirs, &ndirs, err, errlen))
        return -1;
    in->runs = calloc(ndirs ? ndirs : 1, sizeof(*in->runs));
    if (!in->runs)
        goto oom;
    for (size_t i = 0; i < ndirs; i++) {
        struct rundir *rd = &in->runs[in->nruns];
        int r = rundir_read(dirs[i], with_samples, strict, rd, warn, ctx, err, errlen);
        if (r == 1) {
            warnf(in, "skipping %s", err);
            in->skipped++;
            rundir_free(rd);
            continue;
        }
        if (r < 0) {
            rundir_free(rd);
            goto out;
        }
        in->bad_rows += rd->bad_rows;
        in->nruns++;
    }
    if (in->nruns == 0) {
        snprintf(err, errlen,
                 "no finished run directory under '%s' (run 'joulebench run' or "
                 "'joulebench import' first)",
                 results);
        goto out;
    }
    for (size_t r = 0; r < in->nruns; r++)
        for (size_t k = 0; k < in->runs[r].nlevels; k++)
            if (add_level(in, in->runs[r].keys[k]))
                goto oom;
    in->configs = calloc(in->nruns, sizeof(*in->configs));
    if (!in->configs)
        goto oom;
    for (size_t r = 0; r < in->nruns; r++) {
        size_t c;
        for (c = 0; c < in->nconfigs; c++) {
            size_t k;
            for (k = 0; k < in->nlevels; k++) {
                const char *v = rundir_level(&in->runs[r], in->levels[k]);
                if (strcmp(v ? v : "", in->configs[c].vals[k]))
                    break;
            }
            if (k == in->nlevels)
                break;
        }
        struct rconfig *cf = &in->configs[c];
        if (c == in->nconfigs) {
            cf->vals = calloc(in->nlevels ? in->nlevels : 1, sizeof(char *));
            cf->runs = calloc(in->nruns, sizeof(size_t));
            in->nconfigs++;
            if (!cf->vals || !cf->runs)
                goto oom;
            for (size_t k = 0; k < in->nlevels; k++) {
                const char *v = rundir_level(&in->runs[r], in->levels[k]);
                cf->vals[k] = strdup(v ? v : "");
                if (!cf->vals[k])
                    goto oom;
            }
        }
        cf->runs[cf->n++] = r;
    }
    sort_in = in;
    qsort(in->configs, in->nconfigs, sizeof(*in->configs), cmp_config);
    pick_examples(in);
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    for (size_t i = 0; i < ndirs; i++)
        free(dirs[i]);
    free(dirs);
    return rc;
}

void report_free(struct report_input *in)
{
    if (!in)
        return;
    for (size_t r = 0; r < in->nruns; r++)
        rundir_free(&in->runs[r]);
    free(in->runs);
    for (size_t c = 0; c < in->nconfigs; c++) {
        for (size_t k = 0; k < in->nlevels && in->configs[c].vals; k++)
            free(in->configs[c].vals[k]);
        free(in->configs[c].vals);
        free(in->configs[c].runs);
    }
    free(in->configs);
    for (size_t k = 0; k < in->nlevels; k++)
        free(in->levels[k]);
    free(in->levels);
    memset(in, 0, sizeof(*in));
}
