/*
 * stat_table.c - the human-readable table of 'joulebench stat': one run (per meter the energy,
 * its source, average and peak power, net energy and the counter-vs-power-integral disagreement;
 * per phase the energy with its interval, the power integral, peak power and the reading it came
 * from, and flags; elapsed, user and system time), or with -r the summary of the repeats (mean
 * +- sd and the 95% confidence interval, as perf stat -r, with the GPU total and the carbon and
 * cost lines summarised alike).  Simulated meters are labelled
 * SIMULATED on every row and under the table.  Not the machine-readable outputs (stat_rows.c,
 * stat_json.c).
 */
#include "cli/cli_carbon.h"
#include "cli/stat_int.h"
#include "run/measure_sum.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static void fmt_num(char *buf, size_t n, double v, const char *fmt)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, fmt, v);
}

int stat_spawn_status(int spawn_errno)
{
    /* As shells do: not found 127, found but not executable (permission, a directory) 126. */
    return spawn_errno == ENOENT || spawn_errno == ENOTDIR ? 127 : 126;
}

void stat_status_text(const struct stat_run *run, const struct stat_opts *o, char *out, size_t n)
{
    const struct measure_result *r = &run->r;

    if (!run->started && r->spawn_errno)
        snprintf(out, n, "exit status %d (cannot run: %s)", stat_spawn_status(r->spawn_errno),
                 strerror(r->spawn_errno));
    else if (!run->started)
        snprintf(out, n, "the command was not started (stopped during the idle baseline)");
    else if (r->timed_out)
        snprintf(out, n, "exit status %d (timed out after %g s)", r->exit_status, o->timeout_s);
    else if (r->term_signal)
        snprintf(out, n, "exit status %d (killed by signal %d)", r->exit_status, r->term_signal);
    else
        snprintf(out, n, "exit status %d", r->exit_status);
}

static void print_command(FILE *f, char *const *argv)
{
    for (size_t i = 0; argv[i]; i++)
        fprintf(f, "%s%s", i ? " " : "", argv[i]);
}

static void phase_row(FILE *f, const struct measure_result *r, const struct jb_phase_result *p)
{
    char a[32], b[32], iv[48], c[32], dd[32], d[32], pk[48], e[32], fl[96];
    double dur = (double)(p->t_end_ns - p->t_begin_ns) / 1e9;
    double best = stat_phase_energy(p);

    fmt_num(a, sizeof(a), dur, "%.3f");
    fmt_num(b, sizeof(b), (p->valid & JB_PHASE_ENERGY) ? p->energy_j : NAN, "%.3f");
    if (p->valid & JB_PHASE_ENERGY_BOUNDS)
        snprintf(iv, sizeof(iv), "%.3f..%.3f", p->energy_j_lo, p->energy_j_hi);
    else
        snprintf(iv, sizeof(iv), "-");
    fmt_num(c, sizeof(c), (p->valid & JB_PHASE_ENERGY_POWER) ? p->energy_j_power : NAN, "%.3f");
    fmt_num(dd, sizeof(dd), (p->valid & JB_PHASE_POWER_DIFF) ? 100 * p->power_rel_diff : NAN,
            "%+.1f%%");
    fmt_num(d, sizeof(d), dur > 0 ? best / dur : NAN, "%.2f");
    if (p->valid & JB_PHASE_PEAK)
        snprintf(pk, sizeof(pk), "%.2f (%s)", p->peak_power_w,
                 jb_power_source_name(p->peak_power_source));
    else
        snprintf(pk, sizeof(pk), "-");
    fmt_num(e, sizeof(e), (p->valid & JB_PHASE_ITEMS) ? p->items : NAN, "%.0f");
    stat_flag_names(p->flags, ",", fl, sizeof(fl));
    fprintf(f, "  %-10s %6ld %-10s %10s %12s %21s %14s %7s %9s %18s %8s  %s%s%s\n", p->phase,
            p->index, r->meters[p->meter].id, a, b, iv, c, dd, d, pk, e, fl[0] ? fl : "-",
            (p->valid & JB_PHASE_PARTIAL) ? " (partial)" : "",
            r->meters[p->meter].simulated ? "  SIMULATED" : "");
}

static const struct jb_phase_result *command_phase(const struct measure_result *r, size_t meter)
{
    for (size_t i = 0; i < r->n_phases; i++)
        if (r->phases[i].meter == meter && r->phases[i].index == 0 &&
            !strcmp(r->phases[i].phase, "command"))
            return &r->phases[i];
    return NULL;
}

static void cpu_lines(FILE *f, double user_s, double sys_s)
{
    char a[32], b[32];

    fmt_num(a, sizeof(a), user_s, "%.3f");
    fmt_num(b, sizeof(b), sys_s, "%.3f");
    fprintf(f, "  %s seconds user\n  %s seconds sys\n", a, b);
}

/* With two or more GPU meters: the job's energy, their sum (measure_sum.h), and how it spread
 * across them ((max - min) / mean). */
static void gpu_total_line(FILE *f, const struct measure_result *r)
{
    struct measure_gpu_sum s;

    if (measure_gpu_sum(r, &s) < 0)
        return; /* out of memory: the per-meter rows above still stand */
    if (s.n_gpus >= 2) {
        char a[32], b[32], src[32], sp[64];
        fmt_num(a, sizeof(a), s.energy_j, "%.3f");
        fmt_num(b, sizeof(b), s.avg_power_w, "%.2f");
        snprintf(src, sizeof(src), "sum of %zu GPUs", s.n_gpus);
        if (isnan(s.spread))
            snprintf(sp, sizeof(sp), "spread -");
        else
            snprintf(sp, sizeof(sp), "spread %.1f%% (%.3f..%.3f J)", 100 * s.spread, s.min_j,
                     s.max_j);
        fprintf(f, "  %-14s %14s  %-15s %10s %10s %14s %8s  %s%s\n", "GPU total", a, src, b, "-",
                "-", "-", sp, s.simulated ? "  SIMULATED" : "");
    }
    measure_gpu_sum_free(&s);
}

void stat_table_single(FILE *f, const struct stat_opts *o, const struct stat_run *run)
{
    const struct measure_result *r = &run->r;
    char a[32], b[32], c[32], d[32], e[32], st[160], fl[96];
    int any_sim = 0, any_phase = 0;

    stat_status_text(run, o, st, sizeof(st));
    fprintf(f, "\n joulebench stat for '");
    print_command(f, o->argv);
    fprintf(f, "': %s, %s\n\n", measure_status_name(r->status), st);
    if (!run->started) {
        fputc('\n', f);
        return; /* nothing ran: no figures to show */
    }
    fprintf(f, "  %-14s %14s  %-15s %10s %10s %14s %8s  %s\n", "meter", "energy_J", "source",
            "avg_W", "peak_W", "net_J", "pwr_diff", "flags");
    for (size_t i = 0; i < r->n_meters; i++) {
        const struct measure_meter_total *t = &r->meters[i];
        const struct jb_phase_result *cp = command_phase(r, i);
        fmt_num(a, sizeof(a), t->energy_j, "%.3f");
        fmt_num(b, sizeof(b), t->avg_power_w, "%.2f");
        fmt_num(c, sizeof(c), t->peak_power_w, "%.2f");
        fmt_num(d, sizeof(d), t->net_energy_j, "%.3f");
        fmt_num(e, sizeof(e),
                cp && (cp->valid & JB_PHASE_POWER_DIFF) ? 100 * cp->power_rel_diff : NAN,
                "%+.1f%%");
        stat_flag_names(cp ? cp->flags : 0, ",", fl, sizeof(fl));
        fprintf(f, "  %-14s %14s  %-15s %10s %10s %14s %8s  %s%s\n", t->id, a, t->energy_source, b,
                c, d, e, fl[0] ? fl : "-", t->simulated ? "  SIMULATED" : "");
        any_sim |= t->simulated;
    }
    gpu_total_line(f, r);
    for (size_t i = 0; i < r->n_phases; i++) {
        const struct jb_phase_result *p = &r->phases[i];
        if (!strcmp(p->phase, "command") && p->index == 0)
            continue;
        if (!any_phase++)
            fprintf(f, "\n  %-10s %6s %-10s %10s %12s %21s %14s %7s %9s %18s %8s  %s\n", "phase",
                    "index", "meter", "duration_s", "energy_J", "interval_J", "energy_J_power",
                    "diff", "avg_W", "peak_W (source)", "items", "flags");
        phase_row(f, r, p);
    }
    fprintf(f, "\n  %.3f seconds elapsed\n", r->duration_s);
    cpu_lines(f, r->cpu_user_s, r->cpu_sys_s);
    if (any_sim)
        fprintf(f, "  SIMULATED meter: these figures are not a measurement.\n");
    if (r->n_protocol_errors)
        fprintf(f, "  %zu malformed protocol line(s) skipped\n", r->n_protocol_errors);
    fputc('\n', f);
}

/* "12.345 +- 0.067  [12.180, 12.510]"; n = 1: "12.345  (n=1: no CI)". */
static void fmt_sum(char *buf, size_t n, const struct summary *s, const char *num)
{
    char m[32], sd[32], lo[32], hi[32];

    if (!s->n || isnan(s->mean)) {
        snprintf(buf, n, "-");
        return;
    }
    snprintf(m, sizeof(m), num, s->mean);
    if (s->n < 2 || isnan(s->ci95)) {
        snprintf(buf, n, "%s  (n=1: no CI)", m);
        return;
    }
    snprintf(sd, sizeof(sd), num, s->sd);
    snprintf(lo, sizeof(lo), num, s->mean - s->ci95);
    snprintf(hi, sizeof(hi), num, s->mean + s->ci95);
    snprintf(buf, n, "%s +- %s  [%s, %s]", m, sd, lo, hi);
}

static void sum_row(FILE *f, const char *who, const char *what, const struct summary *s,
                    const char *num, const char *tail)
{
    char buf[160];

    if (!s->n)
        return;
    fmt_sum(buf, sizeof(buf), s, num);
    fprintf(f, "  %-14s %-16s %-44s %4zu%s\n", who, what, buf, s->n, tail);
}

/* -r's GPU total rows: with two or more GPU meters, their sum per run, summarised. */
static void gpu_total_repeats(FILE *f, const struct stat_gpu_sum *g)
{
    const char *sim = g->simulated ? "  SIMULATED" : "";
    struct summary pct = g->spread;
    char tail[64];

    if (g->n_gpus < 2)
        return;
    pct.mean *= 100;
    pct.sd *= 100;
    pct.ci95 *= 100;
    snprintf(tail, sizeof(tail), "  sum of %zu GPUs%s", g->n_gpus, sim);
    sum_row(f, "GPU total", "energy_J", &g->energy_j, "%.3f", tail);
    sum_row(f, "", "avg_W", &g->avg_power_w, "%.2f", sim);
    sum_row(f, "", "spread_%", &pct, "%.1f", "  (max - min) / mean of the GPUs");
}

/* The carbon lines of -r: each run converted with the same factors, then summarised; the notes
 * are the one-run lines' (cli_carbon_note). */
static void carbon_repeats(FILE *f, const struct carbon_factors *cf,
                           const struct stat_carbon_sum *c)
{
    const struct {
        enum cli_carbon_figure k;
        const char *label;
        const struct summary *s;
    } fig[] = {{CLI_CARBON_KWH, "facility kWh", &c->facility_kwh},
               {CLI_CARBON_CO2E, "carbon kg CO2e", &c->kg_co2e},
               {CLI_CARBON_COST, "cost", &c->cost}};
    char buf[160], note[CARBON_SOURCE_MAX + 64], label[48];

    if (!cf || !c->given)
        return;
    fprintf(f, "\n  %-17s %-44s %4s  per run: %s; idle baseline not subtracted\n",
            "carbon and cost", "mean +- sd  [95% CI]", "n", c->included);
    fmt_sum(buf, sizeof(buf), &c->energy_j, "%.3f");
    fprintf(f, "  %-17s %-44s %4zu\n", "energy counted J", buf, c->energy_j.n);
    for (size_t i = 0; i < sizeof(fig) / sizeof(fig[0]); i++) {
        if (cli_carbon_note(cf, fig[i].k, note, sizeof(note)) < 0)
            continue;
        snprintf(label, sizeof(label), "%s%s%s", fig[i].label, /* "cost EUR"; "cost": none */
                 fig[i].k == CLI_CARBON_COST && cf->currency[0] ? " " : "",
                 fig[i].k == CLI_CARBON_COST ? cf->currency : "");
        fmt_sum(buf, sizeof(buf), fig[i].s, "%.6g");
        fprintf(f, "  %-17s %-44s %4zu  %s\n", label, buf, fig[i].s->n, note);
    }
}

void stat_table_repeats(FILE *f, const struct stat_opts *o, const struct stat_run *runs,
                        size_t n_done, const struct stat_summary *s, int interrupted)
{
    char st[160], buf[200], fl[96], who[64];
    int any_sim = 0;

    fprintf(f, "\n joulebench stat for '");
    print_command(f, o->argv);
    fprintf(f, "' (%zu of %d run%s%s):\n", s->n_runs, o->repeats, o->repeats == 1 ? "" : "s",
            interrupted ? ", interrupted" : "");
    for (size_t k = 0; k < n_done; k++) {
        const struct stat_run *run = &runs[k];
        if (run->r.status == MEASURE_COMPLETE)
            continue;
        stat_status_text(run, o, st, sizeof(st));
        fprintf(f, "  run %zu: %s, %s\n", k + 1, measure_status_name(run->r.status), st);
    }
    fprintf(f, "\n  %-14s %-16s %-44s %4s\n", "meter", "quantity", "mean +- sd  [95% CI]", "n");
    for (size_t i = 0; i < s->n_meters; i++) {
        const struct stat_meter_sum *m = &s->meters[i];
        const char *sim = m->simulated ? "  SIMULATED" : "";
        char tail[160];
        stat_flag_names(m->flags, ",", fl, sizeof(fl));
        snprintf(tail, sizeof(tail), "  %s%s%s", m->source, fl[0] ? "  flags: " : "", fl);
        snprintf(buf, sizeof(buf), "%s%s", tail, sim);
        sum_row(f, m->id, "energy_J", &m->energy_j, "%.3f", buf);
        sum_row(f, "", "energy_J_power", &m->energy_j_power, "%.3f", sim);
        sum_row(f, "", "avg_W", &m->avg_power_w, "%.2f", sim);
        sum_row(f, "", "peak_W", &m->peak_power_w, "%.2f", sim);
        sum_row(f, "", "idle_W", &m->idle_power_w, "%.2f", sim);
        sum_row(f, "", "net_J", &m->net_energy_j, "%.3f", sim);
        any_sim |= m->simulated;
    }
    gpu_total_repeats(f, &s->gpu);
    if (s->n_phases)
        fprintf(f, "\n  %-14s %-16s %-44s %4s\n", "phase[index]", "meter quantity",
                "mean +- sd  [95% CI]", "n");
    for (size_t i = 0; i < s->n_phases; i++) {
        const struct stat_phase_sum *p = &s->phases[i];
        const struct stat_meter_sum *m = &s->meters[p->meter];
        char tail[160], q[48];
        stat_flag_names(p->flags, ",", fl, sizeof(fl));
        snprintf(tail, sizeof(tail), "%s%s%s%s", fl[0] ? "  flags: " : "", fl,
                 p->n_partial ? "  (partial)" : "", m->simulated ? "  SIMULATED" : "");
        snprintf(who, sizeof(who), "%s[%ld]", p->phase, p->index);
        snprintf(q, sizeof(q), "%s energy_J", m->id);
        sum_row(f, who, q, &p->energy_j, "%.3f", tail);
        snprintf(q, sizeof(q), "%s duration_s", m->id);
        sum_row(f, "", q, &p->duration_s, "%.3f", "");
        snprintf(q, sizeof(q), "%s avg_W", m->id);
        sum_row(f, "", q, &p->avg_power_w, "%.2f", "");
    }
    carbon_repeats(f, o->carbon, &s->carbon);
    fputc('\n', f);
    fmt_sum(buf, sizeof(buf), &s->duration_s, "%.3f");
    fprintf(f, "  %s seconds elapsed\n", buf);
    fmt_sum(buf, sizeof(buf), &s->cpu_user_s, "%.3f");
    fprintf(f, "  %s seconds user\n", buf);
    fmt_sum(buf, sizeof(buf), &s->cpu_sys_s, "%.3f");
    fprintf(f, "  %s seconds sys\n", buf);
    if (s->n_runs < 2)
        fprintf(f, "  %zu run: no confidence interval (it needs at least 2)\n", s->n_runs);
    else
        fprintf(f,
                "  95%% CI: Student t with %zu degrees of freedom, per quantity over the runs "
                "that have it (n)\n",
                s->n_runs - 1);
    if (any_sim)
        fprintf(f, "  SIMULATED meter: these figures are not a measurement.\n");
    fputc('\n', f);
}
