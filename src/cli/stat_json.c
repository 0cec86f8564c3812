/*
 * stat_json.c - the JSON of 'joulebench stat --json'.  Without -r one run's object (DESIGN.md
 * section 2, plus CPU times, the start error, and per phase the issue-8 fields: the energy
 * interval, the counter-vs-power disagreement, peak power with its reading, the update period
 * and the flags by name).  With -r: {repeats, runs_done, interrupted, exit_status, runs: [one
 * object per run, as above], summary: {per quantity {mean, sd, ci95_lo, ci95_hi, n}}}.  Values
 * that are unavailable are null.  Builds text only; cmd_stat.c writes it.
 */
#include "cli/stat_int.h"
#include "cli/cli_carbon.h"
#include "run/measure_sum.h"

#include "util/jsonw.h"

#include <math.h>
#include <string.h>

static void kv_opt(struct jsonw *w, const char *key, int valid, double v)
{
    jw_key(w, key);
    valid ? jw_number(w, v) : jw_null(w);
}

static void phase_obj(struct jsonw *w, const struct measure_result *r,
                      const struct jb_phase_result *p)
{
    double dur = (double)(p->t_end_ns - p->t_begin_ns) / 1e9;

    jw_object_begin(w);
    jw_kv_string(w, "phase", p->phase);
    jw_kv_int(w, "index", p->index);
    jw_kv_string(w, "meter", r->meters[p->meter].id);
    jw_kv_number(w, "duration_s", dur);
    kv_opt(w, "energy_j", p->valid & JB_PHASE_ENERGY, p->energy_j);
    kv_opt(w, "energy_j_lo", p->valid & JB_PHASE_ENERGY_BOUNDS, p->energy_j_lo);
    kv_opt(w, "energy_j_hi", p->valid & JB_PHASE_ENERGY_BOUNDS, p->energy_j_hi);
    kv_opt(w, "energy_j_power", p->valid & JB_PHASE_ENERGY_POWER, p->energy_j_power);
    kv_opt(w, "power_rel_diff", p->valid & JB_PHASE_POWER_DIFF, p->power_rel_diff);
    kv_opt(w, "peak_power_w", p->valid & JB_PHASE_PEAK, p->peak_power_w);
    jw_key(w, "peak_power_source");
    (p->valid & JB_PHASE_PEAK) ? jw_string(w, jb_power_source_name(p->peak_power_source))
                               : jw_null(w);
    kv_opt(w, "peak_interval_power_w", p->valid & JB_PHASE_PEAK_INTERVAL, p->peak_interval_power_w);
    kv_opt(w, "idle_power_w", p->valid & JB_PHASE_IDLE_POWER, p->idle_power_w);
    kv_opt(w, "update_period_s", p->update_period_s > 0, p->update_period_s);
    jw_key(w, "flags");
    jw_array_begin(w);
    for (uint32_t bit = 1; bit; bit <<= 1)
        if ((p->flags & bit) && jb_phase_flag_name(bit))
            jw_string(w, jb_phase_flag_name(bit));
    jw_array_end(w);
    if (p->valid & JB_PHASE_ITEMS)
        jw_kv_number(w, "items", p->items);
    jw_kv_bool(w, "partial", (p->valid & JB_PHASE_PARTIAL) != 0);
    jw_kv_bool(w, "simulated", r->meters[p->meter].simulated);
    jw_object_end(w);
}

static void run_obj(struct jsonw *w, const struct stat_opts *o, const struct stat_run *run)
{
    const struct measure_result *r = &run->r;

    jw_object_begin(w);
    jw_kv_number(w, "duration_s", r->duration_s);
    jw_key(w, "exit_status");
    if (run->started || r->spawn_errno)
        jw_int(w, run->started ? r->exit_status : stat_spawn_status(r->spawn_errno));
    else
        jw_null(w); /* stopped before it started */
    jw_kv_string(w, "status", measure_status_name(r->status));
    jw_kv_bool(w, "started", run->started);
    if (!run->started && r->spawn_errno) {
        char msg[512];
        snprintf(msg, sizeof(msg), "cannot run '%s': %s", o->argv[0], strerror(r->spawn_errno));
        jw_kv_string(w, "error", msg);
    }
    jw_kv_bool(w, "timed_out", r->timed_out);
    if (r->timed_out)
        jw_kv_number(w, "timeout_s", o->timeout_s);
    jw_kv_number(w, "cpu_user_s", r->cpu_user_s);
    jw_kv_number(w, "cpu_sys_s", r->cpu_sys_s);
    jw_key(w, "meters");
    jw_array_begin(w);
    for (size_t i = 0; run->started && i < r->n_meters; i++) {
        const struct measure_meter_total *t = &r->meters[i];
        jw_object_begin(w);
        jw_kv_string(w, "id", t->id);
        jw_kv_string(w, "name", t->name);
        jw_kv_bool(w, "simulated", t->simulated);
        jw_kv_number(w, "energy_j", t->energy_j);
        jw_kv_string(w, "energy_source", t->energy_source);
        jw_kv_number(w, "energy_j_power", t->energy_j_power);
        jw_kv_number(w, "avg_power_w", t->avg_power_w);
        jw_kv_number(w, "peak_power_w", t->peak_power_w);
        if (!isnan(t->net_energy_j)) {
            jw_kv_number(w, "idle_power_w", t->idle_power_w);
            jw_kv_number(w, "net_energy_j", t->net_energy_j);
        }
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_key(w, "phases");
    jw_array_begin(w);
    for (size_t i = 0; run->started && i < r->n_phases; i++)
        phase_obj(w, r, &r->phases[i]);
    jw_array_end(w);
    measure_gpu_sum_json(w, r); /* "gpu_total": the sum over the GPU meters */
    jw_kv_int(w, "protocol_errors", (long long)r->n_protocol_errors);
    if (o->carbon)
        cli_carbon_stat_json(w, o->carbon, r);
    jw_object_end(w);
}

static void sum_obj(struct jsonw *w, const char *key, const struct summary *s)
{
    int two = s->n >= 2 && !isnan(s->ci95);

    jw_key(w, key);
    jw_object_begin(w);
    jw_kv_number(w, "mean", s->n ? s->mean : NAN);
    jw_kv_number(w, "sd", two ? s->sd : NAN);
    jw_kv_number(w, "ci95_lo", two ? s->mean - s->ci95 : NAN);
    jw_kv_number(w, "ci95_hi", two ? s->mean + s->ci95 : NAN);
    jw_kv_int(w, "n", (long long)s->n);
    jw_object_end(w);
}

static void flags_array(struct jsonw *w, uint32_t flags)
{
    jw_key(w, "flags");
    jw_array_begin(w);
    for (uint32_t bit = 1; bit; bit <<= 1)
        if ((flags & bit) && jb_phase_flag_name(bit))
            jw_string(w, jb_phase_flag_name(bit));
    jw_array_end(w);
}

/* "gpu_total": null with fewer than two GPU meters, else each run's sum summarised. */
static void gpu_total_sum(struct jsonw *w, const struct stat_gpu_sum *g)
{
    jw_key(w, "gpu_total");
    if (g->n_gpus < 2) {
        jw_null(w);
        return;
    }
    jw_object_begin(w);
    jw_kv_int(w, "n_gpus", (long long)g->n_gpus);
    jw_kv_bool(w, "simulated", g->simulated);
    sum_obj(w, "energy_j", &g->energy_j);
    sum_obj(w, "avg_power_w", &g->avg_power_w);
    sum_obj(w, "spread", &g->spread);
    jw_object_end(w);
}

/* "carbon" (only when a factor is given): each run's conversion summarised. */
static void carbon_sum(struct jsonw *w, const struct stat_carbon_sum *c)
{
    if (!c->given)
        return;
    jw_key(w, "carbon");
    jw_object_begin(w);
    jw_kv_string(w, "included", c->included);
    jw_kv_bool(w, "simulated", c->simulated);
    jw_key(w, "currency");
    c->currency[0] ? jw_string(w, c->currency) : jw_null(w);
    sum_obj(w, "energy_j", &c->energy_j);
    sum_obj(w, "facility_kwh", &c->facility_kwh);
    sum_obj(w, "kg_co2e", &c->kg_co2e);
    sum_obj(w, "cost", &c->cost);
    jw_object_end(w);
}

static void summary_obj(struct jsonw *w, const struct stat_summary *s)
{
    jw_key(w, "summary");
    jw_object_begin(w);
    jw_kv_int(w, "n_runs", (long long)s->n_runs);
    sum_obj(w, "duration_s", &s->duration_s);
    sum_obj(w, "cpu_user_s", &s->cpu_user_s);
    sum_obj(w, "cpu_sys_s", &s->cpu_sys_s);
    jw_key(w, "meters");
    jw_array_begin(w);
    for (size_t i = 0; i < s->n_meters; i++) {
        const struct stat_meter_sum *m = &s->meters[i];
        jw_object_begin(w);
        jw_kv_string(w, "id", m->id);
        jw_kv_string(w, "name", m->name);
        jw_kv_bool(w, "simulated", m->simulated);
        jw_kv_string(w, "energy_source", m->source);
        sum_obj(w, "energy_j", &m->energy_j);
        sum_obj(w, "energy_j_power", &m->energy_j_power);
        sum_obj(w, "avg_power_w", &m->avg_power_w);
        sum_obj(w, "peak_power_w", &m->peak_power_w);
        if (m->net_energy_j.n) {
            sum_obj(w, "idle_power_w", &m->idle_power_w);
            sum_obj(w, "net_energy_j", &m->net_energy_j);
        }
        flags_array(w, m->flags);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_key(w, "phases");
    jw_array_begin(w);
    for (size_t i = 0; i < s->n_phases; i++) {
        const struct stat_phase_sum *p = &s->phases[i];
        jw_object_begin(w);
        jw_kv_string(w, "phase", p->phase);
        jw_kv_int(w, "index", p->index);
        jw_kv_string(w, "meter", s->meters[p->meter].id);
        jw_kv_bool(w, "simulated", s->meters[p->meter].simulated);
        sum_obj(w, "duration_s", &p->duration_s);
        sum_obj(w, "energy_j", &p->energy_j);
        sum_obj(w, "energy_j_power", &p->energy_j_power);
        sum_obj(w, "avg_power_w", &p->avg_power_w);
        sum_obj(w, "peak_power_w", &p->peak_power_w);
        if (p->items.n)
            sum_obj(w, "items", &p->items);
        flags_array(w, p->flags);
        jw_kv_int(w, "partial_runs", (long long)p->n_partial);
        jw_object_end(w);
    }
    jw_array_end(w);
    gpu_total_sum(w, &s->gpu);
    carbon_sum(w, &s->carbon);
    jw_object_end(w);
}

void stat_json(struct strbuf *sb, const struct stat_opts *o, const struct stat_run *runs,
               size_t n_done, const struct stat_summary *s, int interrupted, int exit_status)
{
    struct jsonw w;

    jw_init(&w, sb, 1);
    if (!o->repeat_mode) {
        run_obj(&w, o, &runs[0]);
    } else {
        jw_object_begin(&w);
        jw_kv_int(&w, "repeats", o->repeats);
        jw_kv_int(&w, "runs_done", (long long)n_done);
        jw_kv_bool(&w, "interrupted", interrupted);
        jw_kv_int(&w, "exit_status", exit_status);
        jw_key(&w, "runs");
        jw_array_begin(&w);
        for (size_t k = 0; k < n_done; k++)
            run_obj(&w, o, &runs[k]);
        jw_array_end(&w);
        summary_obj(&w, s);
        jw_object_end(&w);
    }
    sb_putc(sb, '\n');
}
