/*
 * import.c - an nvidia-smi log (and the study's metric file) -> a run directory.  See import.h.
 * Not a parser: nvsmi.c parses; this file only lays the parsed rows out in the run-directory
 * format and integrates power over the phases.
 */
#include "analysis/import.h"
#include "rundir/read.h"

#include "analysis/series.h"
#include "joulebench.h"
#include "rundir/rundir.h"
#include "util/fsutil.h"
#include "util/jsonw.h"
#include "util/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GPUS 1024

struct meter_series {
    int gpu;
    size_t n;
    double *t, *p;
};

static void phase_row(struct strbuf *sb, const char *phase, long index, int gpu,
                      const struct meter_series *m, double a, double b)
{
    double e = series_integral(m->t, m->p, m->n, a, b, NULL);
    char id[32];
    struct rundir_phase_row row;

    snprintf(id, sizeof(id), "gpu%d", gpu);
    rundir_phase_row_init(&row); /* nvidia-smi has no counter: energy_j and the rest empty */
    row.phase = phase;
    row.index = index;
    row.meter = id;
    row.t_begin_s = a;
    row.t_end_s = b;
    row.duration_s = b - a;
    row.energy_j_power = e;
    row.avg_power_w = b > a ? e / (b - a) : NAN;
    row.trim = 1;
    rundir_phases_row(sb, &row);
}

/* Splits LOG's power into one series per GPU index (MS, room for MAX_GPUS or 1), in order of
 * first appearance, times relative to T0: 0, or -1 out of memory (*NM counts what to free). */
static int split_series(const struct nvsmi_log *log, double t0, struct meter_series *ms,
                        size_t *nmp)
{
    size_t nm = 0;

    for (size_t i = 0; i < log->n; i++) {
        size_t k;
        for (k = 0; k < nm && ms[k].gpu != log->rows[i].gpu; k++)
            ;
        if (k == nm) {
            ms[nm].gpu = log->rows[i].gpu;
            ms[nm].t = malloc(log->n * sizeof(double));
            ms[nm].p = malloc(log->n * sizeof(double));
            nm++;
            if (!ms[k].t || !ms[k].p) {
                *nmp = nm;
                return -1;
            }
        }
        ms[k].t[ms[k].n] = log->rows[i].t_abs_s - t0;
        ms[k].p[ms[k].n] = log->rows[i].v[NVV_POWER_W];
        ms[k].n++;
    }

    *nmp = nm;
    return 0;
}

static void samples_csv(struct strbuf *sb, const struct nvsmi_log *log, double t0)
{
    sb_puts(sb, rundir_samples_header);
    static const struct {
        int col, v;
    } map[] = {{RUNDIR_S_POWER_W, NVV_POWER_W},
               {RUNDIR_S_TEMP_C, NVV_TEMP_C},
               {RUNDIR_S_UTIL_PCT, NVV_UTIL_PCT},
               {RUNDIR_S_MEM_UTIL_PCT, NVV_MEM_UTIL_PCT},
               {RUNDIR_S_MEM_USED_MIB, NVV_MEM_USED_MIB},
               {RUNDIR_S_SM_CLOCK_MHZ, NVV_SM_CLOCK_MHZ},
               {RUNDIR_S_MEM_CLOCK_MHZ, NVV_MEM_CLOCK_MHZ},
               {RUNDIR_S_POWER_INSTANT_W, NVV_POWER_INSTANT_W}};
    char gpu[16] = "gpu0";
    int last_gpu = 0;
    for (size_t i = 0; i < log->n; i++) {
        const struct nvsmi_row *r = &log->rows[i];
        double v[RUNDIR_S_NCOLS - 2];
        if (r->gpu != last_gpu) {
            snprintf(gpu, sizeof(gpu), "gpu%d", r->gpu);
            last_gpu = r->gpu;
        }
        for (int k = 0; k < RUNDIR_S_NCOLS - 2; k++)
            v[k] = NAN; /* energy_j: nvidia-smi has no counter */
        for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++)
            v[map[k].col - RUNDIR_S_POWER_W] = r->v[map[k].v];
        rundir_samples_row(sb, r->t_abs_s - t0, gpu, v, 1);
    }
}

static void phases_csv(struct strbuf *sb, const struct epoch_log *ep, const struct import_opts *o,
                       nvsmi_warn_fn warn, void *ctx, const struct meter_series *ms, size_t nm,
                       double t0, double tlast)
{
    sb_puts(sb, rundir_phases_header);
    for (size_t k = 0; k < nm; k++)
        phase_row(sb, "command", 0, ms[k].gpu, &ms[k], 0.0, tlast);
    if (ep) {
        double prev = 0.0;
        for (size_t i = 0; i < ep->n; i++) {
            double end = ep->recs[i].t_abs_s - t0;
            if (end <= prev)
                rd_warnf(warn, ctx,
                         "%s: epoch %ld ends at %.0f s, not after the epoch before "
                         "(%.0f s)",
                         o->epochs_path, ep->recs[i].epoch, end, prev);
            if (end > tlast)
                rd_warnf(warn, ctx,
                         "%s: epoch %ld ends at %.0f s, after the last sample (%.3f s); "
                         "its energy covers only the sampled part",
                         o->epochs_path, ep->recs[i].epoch, end, tlast);
            for (size_t k = 0; k < nm; k++)
                phase_row(sb, "epoch", (long)i + 1, ms[k].gpu, &ms[k], prev, end);
            prev = end;
        }
    }
}

static void metrics_csv(struct strbuf *sb, const struct epoch_log *ep)
{
    sb_puts(sb, rundir_metrics_header);
    if (ep)
        for (size_t i = 0; i < ep->n; i++)
            for (size_t k = 0; k < ep->nnames; k++)
                if (!isnan(ep->recs[i].vals[k]))
                    rundir_metrics_row(sb, "eval", (long)i + 1, ep->names[k], ep->recs[i].vals[k]);
}

/* T0 (seconds of local time since the epoch, as nvidia-smi writes it) as ISO 8601 without a
 * zone. */
static void local_time(double t0, char *local, size_t n)
{
    long long whole = (long long)floor(t0);
    long long days = whole / 86400, secs = whole % 86400;
    /* civil_from_days (H. Hinnant) for the local start time. */
    long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    long long y = (long long)yoe + era * 400 + (m <= 2);
    snprintf(local, n, "%04lld-%02u-%02uT%02lld:%02lld:%06.3f", y, m, d, secs / 3600,
             secs / 60 % 60, (double)(secs % 60) + (t0 - (double)whole));
}

/* manifest.json: what a run directory's manifest says, for an imported run. */
static void manifest_json(struct strbuf *sb, const struct nvsmi_log *log,
                          const struct epoch_log *ep, const struct import_opts *o,
                          const struct meter_series *ms, size_t nm, double t0, double tlast)
{
    struct jsonw w;
    const char *slash = strrchr(o->outdir, '/');
    char local[64];

    local_time(t0, local, sizeof(local));
    jw_init(&w, sb, 1);
    jw_object_begin(&w);
    jw_kv_string(&w, "format", "joulebench-run/1");
    jw_kv_string(&w, "joulebench_version", jb_version());
    jw_key(&w, "run_id");
    if (o->run_id)
        jw_string(&w, o->run_id);
    else if (o->grid)
        jw_string(&w, slash ? slash + 1 : o->outdir);
    else
        jw_null(&w);
    jw_key(&w, "grid");
    if (o->grid)
        jw_string(&w, o->grid);
    else
        jw_null(&w);
    jw_key(&w, "levels");
    jw_object_begin(&w);
    for (size_t i = 0; i < o->nlevels; i++)
        jw_kv_string(&w, o->level_keys[i], o->level_vals[i]);
    jw_object_end(&w);
    jw_key(&w, "repeat");
    if (o->repeat >= 0)
        jw_int(&w, o->repeat);
    else
        jw_null(&w);
    jw_kv_int(&w, "attempt", 1);
    jw_key(&w, "argv");
    jw_array_begin(&w);
    jw_array_end(&w);
    jw_key(&w, "sampling");
    jw_object_begin(&w);
    if (log->n > 1 && nm > 0)
        jw_kv_number(&w, "interval_ms",
                     round(1000.0 * tlast / (double)(ms[0].n > 1 ? ms[0].n - 1 : 1)));
    jw_object_end(&w);
    jw_key(&w, "meters");
    jw_array_begin(&w);
    for (size_t k = 0; k < nm; k++) {
        char id[32];
        snprintf(id, sizeof(id), "gpu%d", ms[k].gpu);
        jw_object_begin(&w);
        jw_kv_string(&w, "id", id);
        jw_kv_string(&w, "kind", "gpu");
        jw_kv_string(&w, "source", "nvidia-smi");
        jw_kv_bool(&w, "simulated", 0);
        jw_kv_string(&w, "energy_source", "power-integral");
        jw_object_end(&w);
    }
    jw_array_end(&w);
    /* nvidia-smi writes local time without a zone: the UTC anchor is unknown. */
    jw_key(&w, "start_utc");
    jw_null(&w);
    jw_kv_string(&w, "start_local", local);
    jw_key(&w, "end_utc");
    jw_null(&w);
    jw_kv_number(&w, "duration_s", tlast);
    jw_kv_number(&w, "command_start_s", 0.0);
    jw_kv_string(&w, "status", "complete");
    jw_key(&w, "exit_status");
    jw_null(&w);
    jw_key(&w, "idle");
    jw_null(&w);
    jw_key(&w, "totals");
    jw_array_begin(&w);
    for (size_t k = 0; k < nm; k++) {
        char id[32];
        double e = series_integral(ms[k].t, ms[k].p, ms[k].n, 0.0, tlast, NULL);
        snprintf(id, sizeof(id), "gpu%d", ms[k].gpu);
        jw_object_begin(&w);
        jw_kv_string(&w, "meter", id);
        jw_kv_number(&w, "energy_j", e);
        jw_kv_number(&w, "energy_j_power", e);
        jw_kv_string(&w, "energy_source", "power-integral");
        jw_kv_number(&w, "avg_power_w", tlast > 0 ? e / tlast : NAN);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_kv_int(&w, "bad_rows", (long long)(log->bad_rows + (ep ? ep->bad_rows : 0)));
    jw_key(&w, "imported_from");
    jw_object_begin(&w);
    jw_kv_string(&w, "tool", "nvidia-smi");
    jw_kv_string(&w, "energy", o->energy_path);
    jw_key(&w, "epochs");
    if (o->epochs_path)
        jw_string(&w, o->epochs_path);
    else
        jw_null(&w);
    jw_object_end(&w);
    jw_object_end(&w);
    sb_putc(sb, '\n');
}

int import_write_rundir(const struct nvsmi_log *log, const struct epoch_log *ep,
                        const struct import_opts *o, nvsmi_warn_fn warn, void *ctx, char *err,
                        size_t errlen)
{
    struct strbuf sb = STRBUF_INIT;
    struct meter_series *ms = NULL;
    size_t nm = 0;
    double t0, tlast;
    int rc = -1;

    if (log->n == 0) {
        snprintf(err, errlen, "%s: no samples", o->energy_path);
        return -1;
    }
    if (fs_mkdir_p(o->outdir, err, errlen))
        return -1;
    t0 = log->rows[0].t_abs_s;
    tlast = log->rows[log->n - 1].t_abs_s - t0;
    ms = calloc(log->has_index ? MAX_GPUS : 1, sizeof(*ms));
    if (!ms || split_series(log, t0, ms, &nm))
        goto oom;
    samples_csv(&sb, log, t0);
    if (rundir_write_doc(o->outdir, "samples.csv", &sb, err, errlen))
        goto out;
    sb_reset(&sb);
    phases_csv(&sb, ep, o, warn, ctx, ms, nm, t0, tlast);
    if (rundir_write_doc(o->outdir, "phases.csv", &sb, err, errlen))
        goto out;
    sb_reset(&sb);
    metrics_csv(&sb, ep);
    if (rundir_write_doc(o->outdir, "metrics.csv", &sb, err, errlen))
        goto out;
    sb_reset(&sb); /* manifest.json, last */
    manifest_json(&sb, log, ep, o, ms, nm, t0, tlast);
    if (rundir_write_doc(o->outdir, "manifest.json", &sb, err, errlen))
        goto out;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "%s: out of memory", o->outdir);
out:
    if (ms)
        for (size_t k = 0; k < nm; k++) {
            free(ms[k].t);
            free(ms[k].p);
        }
    free(ms);
    sb_free(&sb);
    return rc;
}
