/*
 * measure_manifest.c - the run directory's documents after the command (DESIGN.md section 4,
 * docs/run-directory.md): samples.csv, the logs and phases.csv (streamed while running) are
 * committed (fsync, rename), then metrics.csv and, last, manifest.json are written whole.  Each
 * file is old or new, never a mix; a failure leaves no manifest, so the run counts as not done.
 * It reads the measurement's state and writes; it measures nothing.
 */
#include "run/measure_int.h"

#include "rundir/rundir.h"

#include "util/carbon.h"
#include "util/jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static void utc_string(const struct timespec *ts, char *out, size_t n)
{
    struct tm tm;

    gmtime_r(&ts->tv_sec, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000);
}

static void write_caps(struct jsonw *w, uint32_t caps)
{
    jw_key(w, "caps");
    jw_array_begin(w);
    for (uint32_t bit = 1; bit; bit <<= 1)
        if ((caps & bit) && jb_cap_name(bit))
            jw_string(w, jb_cap_name(bit));
    jw_array_end(w);
}

static void cpu_model(char *out, size_t n)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];

    out[0] = '\0';
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "model name", 10)) {
            char *colon = strchr(line, ':');
            if (colon) {
                colon++;
                while (*colon == ' ' || *colon == '\t')
                    colon++;
                colon[strcspn(colon, "\n")] = '\0';
                snprintf(out, n, "%s", colon);
            }
            break;
        }
    }
    fclose(f);
}

/* The estimator's view of meter i's counter over the run (jb_phases_meter_stats). */
static void write_counter_stats(struct jsonw *w, const struct jb_phases_meter_stats *st)
{
    jw_key(w, "counter");
    if (!st) {
        jw_null(w);
        return;
    }
    jw_object_begin(w);
    jw_kv_bool(w, "stepped", st->stepped);
    jw_kv_bool(w, "update_grid", st->grid);
    jw_key(w, "update_period_s");
    st->update_period_s > 0 ? jw_number(w, st->update_period_s) : jw_null(w);
    jw_key(w, "update_jitter_s");
    st->grid ? jw_number(w, st->update_jitter_s) : jw_null(w);
    jw_kv_int(w, "updates", (long long)st->updates);
    jw_kv_int(w, "located_updates", (long long)st->located_updates);
    jw_kv_number(w, "idle_power_w", st->idle_power_w);
    jw_kv_number(w, "max_power_w", st->max_power_w);
    jw_kv_int(w, "check_windows", (long long)st->check_windows);
    jw_kv_int(w, "aliased_windows", (long long)st->aliased_windows);
    jw_key(w, "worst_rel_diff");
    st->check_windows ? jw_number(w, st->worst_rel_diff) : jw_null(w);
    jw_object_end(w);
}

static void write_flag_names(struct jsonw *w, const char *key, uint32_t flags)
{
    jw_key(w, key);
    jw_array_begin(w);
    for (uint32_t bit = 1; bit; bit <<= 1)
        if ((flags & bit) && jb_phase_flag_name(bit))
            jw_string(w, jb_phase_flag_name(bit));
    jw_array_end(w);
}

/* The command phase's estimate on meter i: interval, cross-check, peak source, flags. */
static void write_command_estimate(struct jsonw *w, const struct measure_result *r, size_t i)
{
    const struct jb_phase_result *p = NULL;

    for (size_t k = 0; k < r->n_phases && !p; k++)
        if (r->phases[k].meter == i && r->phases[k].index == 0 &&
            !strcmp(r->phases[k].phase, "command"))
            p = &r->phases[k];
    if (!p)
        return;
    jw_key(w, "energy_j_lo");
    (p->valid & JB_PHASE_ENERGY_BOUNDS) ? jw_number(w, p->energy_j_lo) : jw_null(w);
    jw_key(w, "energy_j_hi");
    (p->valid & JB_PHASE_ENERGY_BOUNDS) ? jw_number(w, p->energy_j_hi) : jw_null(w);
    jw_key(w, "power_rel_diff");
    (p->valid & JB_PHASE_POWER_DIFF) ? jw_number(w, p->power_rel_diff) : jw_null(w);
    jw_key(w, "peak_power_source");
    (p->valid & JB_PHASE_PEAK) ? jw_string(w, jb_power_source_name(p->peak_power_source))
                               : jw_null(w);
    jw_key(w, "peak_interval_power_w");
    (p->valid & JB_PHASE_PEAK_INTERVAL) ? jw_number(w, p->peak_interval_power_w) : jw_null(w);
    write_flag_names(w, "flags", p->flags);
    jw_kv_bool(w, "partial", (p->valid & JB_PHASE_PARTIAL) != 0);
}

/* How many phase results (all meters, all of phases.csv) carry each flag. */
static void write_phase_summary(struct jsonw *w, const struct meas *m,
                                const struct measure_result *r)
{
    jw_key(w, "phase_results");
    jw_object_begin(w);
    jw_kv_int(w, "count", (long long)r->n_phases_total);
    jw_key(w, "flags");
    jw_object_begin(w);
    for (unsigned b = 0; b < 32; b++) {
        const char *name = jb_phase_flag_name(1u << b);
        if (name && b < sizeof(m->flag_counts) / sizeof(m->flag_counts[0]))
            jw_kv_int(w, name, (long long)m->flag_counts[b]);
    }
    jw_object_end(w);
    jw_object_end(w);
}

/* The meters: what each is, how its energy is known, its counter as the estimator saw it. */
static void write_meters(struct jsonw *w, struct meas *m)
{
    jw_key(w, "meters");
    jw_array_begin(w);
    for (size_t i = 0; i < m->n; i++) {
        const struct jb_meter_info *info = jb_meter_get_info(jb_meter_set_get(m->set, i));
        jw_object_begin(w);
        jw_kv_string(w, "id", info->id);
        jw_kv_string(w, "kind", jb_meter_kind_name(info->kind));
        jw_kv_string(w, "source", info->source);
        jw_kv_string(w, "name", info->name);
        if (info->uuid[0])
            jw_kv_string(w, "uuid", info->uuid);
        if (info->pci_bus_id[0])
            jw_kv_string(w, "pci_bus_id", info->pci_bus_id);
        if (info->driver[0])
            jw_kv_string(w, "driver", info->driver);
        if (info->valid & JB_INFO_POWER_LIMIT)
            jw_kv_number(w, "power_limit_w", info->power_limit_w);
        if (info->valid & JB_INFO_MEMORY_TOTAL)
            jw_kv_number(w, "memory_total_mib", info->memory_total_mib);
        jw_kv_bool(w, "simulated", info->simulated);
        write_caps(w, info->caps);
        jw_kv_string(w, "energy_source", measure__energy_source(info));
        write_counter_stats(w, jb_phases_meter_stats(m->phases, i));
        if (m->meter_errors[i])
            jw_kv_string(w, "error", m->meter_errors[i]);
        jw_object_end(w);
    }
    jw_array_end(w);
}

/* The idle baseline per meter, or null without one. */
static void write_idle(struct jsonw *w, const struct measure_result *r, double idle_s)
{
    jw_key(w, "idle");
    if (idle_s > 0) {
        jw_object_begin(w);
        jw_kv_number(w, "duration_s", idle_s);
        jw_key(w, "meters");
        jw_object_begin(w);
        for (size_t i = 0; i < r->n_meters; i++) {
            jw_key(w, r->meters[i].id);
            jw_object_begin(w);
            jw_kv_number(w, "avg_power_w", r->meters[i].idle_power_w);
            jw_kv_number(w, "energy_j", r->meters[i].idle_power_w * idle_s);
            jw_object_end(w);
        }
        jw_object_end(w);
        jw_object_end(w);
    } else {
        jw_null(w);
    }
}

/* Per meter over the command: energies, powers, and the command phase's estimate. */
static void write_totals(struct jsonw *w, const struct measure_result *r)
{
    jw_key(w, "totals");
    jw_array_begin(w);
    for (size_t i = 0; i < r->n_meters; i++) {
        const struct measure_meter_total *t = &r->meters[i];
        jw_object_begin(w);
        jw_kv_string(w, "meter", t->id);
        jw_kv_number(w, "energy_j", t->energy_j);
        jw_kv_number(w, "energy_j_power", t->energy_j_power);
        jw_kv_string(w, "energy_source", t->energy_source);
        jw_kv_number(w, "avg_power_w", t->avg_power_w);
        jw_kv_number(w, "peak_power_w", t->peak_power_w);
        if (!isnan(t->net_energy_j))
            jw_kv_number(w, "net_energy_j", t->net_energy_j);
        write_command_estimate(w, r, i);
        jw_object_end(w);
    }
    jw_array_end(w);
}

/* The batch job and the GPUs visible, from the environment. */
static void write_environment(struct jsonw *w)
{
    if (getenv("SLURM_JOB_ID")) {
        static const char *keys[][2] = {{"job_id", "SLURM_JOB_ID"},
                                        {"array_job_id", "SLURM_ARRAY_JOB_ID"},
                                        {"array_task_id", "SLURM_ARRAY_TASK_ID"},
                                        {"node", "SLURMD_NODENAME"}};
        jw_key(w, "slurm");
        jw_object_begin(w);
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (getenv(keys[i][1]))
                jw_kv_string(w, keys[i][0], getenv(keys[i][1]));
        jw_object_end(w);
    }
    if (getenv("CUDA_VISIBLE_DEVICES"))
        jw_kv_string(w, "cuda_visible_devices", getenv("CUDA_VISIBLE_DEVICES"));
}

static void manifest_json(struct meas *m, const struct measure_result *r, struct strbuf *sb,
                          const struct timespec *end_utc, double idle_s)
{
    const struct measure_opts *o = m->o;
    struct jsonw w;
    char buf[256];
    struct utsname un;

    jw_init(&w, sb, 1);
    jw_object_begin(&w);
    jw_kv_string(&w, "format", "joulebench-run/1");
    jw_kv_string(&w, "joulebench_version", jb_version());
    jw_key(&w, "run_id");
    o->run_id ? jw_string(&w, o->run_id) : jw_null(&w);
    jw_key(&w, "grid");
    o->grid ? jw_string(&w, o->grid) : jw_null(&w);
    jw_key(&w, "levels");
    jw_object_begin(&w);
    for (size_t i = 0; i < o->n_levels; i++)
        jw_kv_string(&w, o->levels[i].name, o->levels[i].value);
    jw_object_end(&w);
    jw_key(&w, "repeat");
    o->repeat ? jw_int(&w, o->repeat) : jw_null(&w);
    jw_kv_int(&w, "attempt", o->attempt ? o->attempt : 1);
    jw_key(&w, "argv");
    jw_array_begin(&w);
    for (size_t i = 0; o->argv[i]; i++)
        jw_string(&w, o->argv[i]);
    jw_array_end(&w);
    if (o->workdir) {
        jw_kv_string(&w, "workdir", o->workdir);
    } else if (getcwd(buf, sizeof(buf))) {
        jw_kv_string(&w, "workdir", buf);
    }
    jw_key(&w, "host");
    jw_object_begin(&w);
    if (gethostname(buf, sizeof(buf)) == 0) {
        buf[sizeof(buf) - 1] = '\0';
        jw_kv_string(&w, "hostname", buf);
    }
    if (uname(&un) == 0)
        jw_kv_string(&w, "kernel", un.release);
    cpu_model(buf, sizeof(buf));
    if (buf[0])
        jw_kv_string(&w, "cpu_model", buf);
    jw_kv_int(&w, "cpus", sysconf(_SC_NPROCESSORS_ONLN));
    jw_object_end(&w);
    jw_key(&w, "sampling");
    jw_object_begin(&w);
    jw_kv_int(&w, "interval_ms", o->interval_ms ? o->interval_ms : 100);
    jw_kv_int(&w, "energy_interval_ms", o->energy_interval_ms ? o->energy_interval_ms : 100);
    jw_object_end(&w);
    write_meters(&w, m);
    utc_string(&m->t0_utc, buf, sizeof(buf));
    jw_kv_string(&w, "start_utc", buf);
    utc_string(end_utc, buf, sizeof(buf));
    jw_kv_string(&w, "end_utc", buf);
    jw_kv_number(&w, "duration_s", r->duration_s);
    jw_key(&w, "command_start_s");
    m->cmd_begin_ns ? jw_number(&w, measure__t_rel(m, m->cmd_begin_ns)) : jw_null(&w);
    jw_kv_string(&w, "status", measure_status_name(r->status));
    jw_key(&w, "exit_status");
    r->exit_status >= 0 ? jw_int(&w, r->exit_status) : jw_null(&w);
    jw_key(&w, "term_signal");
    r->term_signal ? jw_int(&w, r->term_signal) : jw_null(&w);
    jw_kv_bool(&w, "timed_out", r->timed_out);
    if (r->got_signal)
        jw_kv_int(&w, "interrupted_by_signal", r->got_signal);
    if (r->status != MEASURE_COMPLETE && m->stderr_tail_len)
        jw_kv_string(&w, "stderr_tail", m->stderr_tail);
    write_idle(&w, r, idle_s);
    jw_key(&w, "info");
    jw_object_begin(&w);
    for (size_t i = 0; i < m->n_infos; i++) {
        if (m->infos[i].is_number)
            jw_kv_number(&w, m->infos[i].name, m->infos[i].number);
        else
            jw_kv_string(&w, m->infos[i].name, m->infos[i].text);
    }
    jw_object_end(&w);
    write_totals(&w, r);
    write_environment(&w);
    write_phase_summary(&w, m, r);
    jw_kv_int(&w, "protocol_errors", (long long)r->n_protocol_errors);
    if (o->carbon && carbon_any(o->carbon)) {
        jw_key(&w, "carbon_factors");
        carbon_json_factors(&w, o->carbon);
    }
    if (m->samples_error)
        jw_kv_string(&w, "samples_error", m->samples_errmsg);
    jw_object_end(&w);
    sb_putc(sb, '\n');
}

static void metrics_csv(const struct meas *m, struct strbuf *sb)
{
    sb_puts(sb, rundir_metrics_header);
    for (size_t i = 0; i < m->n_metrics; i++)
        rundir_metrics_row(sb, m->metrics[i].phase, m->metrics[i].index, m->metrics[i].name,
                           m->metrics[i].value);
}

int measure__write_rundir(struct meas *m, const struct measure_result *r,
                          const struct timespec *end_utc, double idle_s, char *err, size_t errlen)
{
    const char *dir = m->o->rundir;
    struct strbuf sb = STRBUF_INIT;
    int bad;

    bad = rundir_commit_partial(m->samples, m->samples_error, dir, "samples.csv", err, errlen);
    m->samples = NULL;
    for (int k = 0; k < 2; k++) {
        struct stream *s = k ? &m->errs : &m->out;
        if (s->capture && !bad)
            bad = rundir_commit_partial(s->capture, 0, dir, k ? "stderr.log" : "stdout.log", err,
                                        errlen);
        else if (s->capture)
            fclose(s->capture);
        s->capture = NULL;
    }
    if (!bad)
        bad = rundir_commit_partial(m->phases_out, m->phases_error, dir, "phases.csv", err, errlen);
    else
        fclose(m->phases_out);
    m->phases_out = NULL;
    if (!bad) {
        metrics_csv(m, &sb);
        bad = rundir_write_doc(dir, "metrics.csv", &sb, err, errlen);
        sb_reset(&sb);
    }
    if (!bad) {
        manifest_json(m, r, &sb, end_utc, idle_s);
        bad = rundir_write_doc(dir, "manifest.json", &sb, err, errlen);
    }
    sb_free(&sb);
    return bad ? -1 : 0;
}
