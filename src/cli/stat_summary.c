/*
 * stat_summary.c - 'joulebench stat -r N': the summary across repeats.  Per meter (matched by id)
 * and per phase (matched by name, index and meter) the mean, the sample standard deviation and
 * the 95% confidence interval of the mean (Student t with n - 1 degrees of freedom, from
 * analysis/stats.c: right for small n; none for n = 1).  Phases are grouped by sorting, so many
 * phases over many repeats cost n log n, not a quadratic search.  Also the whole command's GPU
 * total and its carbon and cost, each summarised over the runs in the same way.  No printing here.
 */
#include "cli/cli_carbon.h"
#include "cli/stat_int.h"
#include "run/measure_sum.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double stat_phase_energy(const struct jb_phase_result *p)
{
    if (p->valid & JB_PHASE_ENERGY)
        return p->energy_j;
    if (p->valid & JB_PHASE_ENERGY_POWER)
        return p->energy_j_power;
    return NAN;
}

void stat_flag_names(uint32_t flags, const char *sep, char *out, size_t n)
{
    size_t len = 0;

    if (n)
        out[0] = '\0';
    for (uint32_t bit = 1; bit && flags; bit <<= 1) {
        const char *name;
        int w;
        if (!(flags & bit))
            continue;
        flags &= ~bit;
        name = jb_phase_flag_name(bit);
        if (!name)
            continue;
        w = snprintf(out + len, n > len ? n - len : 0, "%s%s", len ? sep : "", name);
        if (w < 0 || (size_t)w >= n - len)
            return;
        len += (size_t)w;
    }
}

struct phase_ref {
    const struct jb_phase_result *p;
    size_t meter; /* into the summary's meters */
    size_t ord;   /* position in its run: groups are shown in the order the phases came */
};

static int ref_cmp(const void *a, const void *b)
{
    const struct phase_ref *x = a, *y = b;
    int c = strcmp(x->p->phase, y->p->phase);

    if (c)
        return c;
    if (x->p->index != y->p->index)
        return x->p->index < y->p->index ? -1 : 1;
    if (x->meter != y->meter)
        return x->meter < y->meter ? -1 : 1;
    return 0;
}

static int group_cmp(const void *a, const void *b)
{
    const struct stat_phase_sum *x = a, *y = b;

    return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static size_t meter_slot(struct stat_summary *s, const struct measure_meter_total *t)
{
    size_t i;

    for (i = 0; i < s->n_meters; i++)
        if (!strcmp(s->meters[i].id, t->id))
            return i;
    snprintf(s->meters[i].id, sizeof(s->meters[i].id), "%s", t->id);
    snprintf(s->meters[i].name, sizeof(s->meters[i].name), "%s", t->name);
    snprintf(s->meters[i].source, sizeof(s->meters[i].source), "%s", t->energy_source);
    s->meters[i].simulated = t->simulated;
    s->n_meters++;
    return i;
}

static int is_command(const struct jb_phase_result *p)
{
    return !strcmp(p->phase, "command") && p->index == 0;
}

/* Fills one meter's summaries from runs[0..n); v has room for n values. */
static void summarise_meter(const struct stat_run *runs, size_t n, struct stat_meter_sum *m,
                            double *v)
{
    struct summary *out[] = {&m->energy_j,     &m->energy_j_power, &m->avg_power_w,
                             &m->peak_power_w, &m->idle_power_w,   &m->net_energy_j};

    for (size_t q = 0; q < sizeof(out) / sizeof(out[0]); q++) {
        for (size_t k = 0; k < n; k++) {
            const struct measure_result *r = &runs[k].r;
            v[k] = NAN;
            for (size_t i = 0; i < r->n_meters; i++) {
                const struct measure_meter_total *t = &r->meters[i];
                const double x[] = {t->energy_j,     t->energy_j_power, t->avg_power_w,
                                    t->peak_power_w, t->idle_power_w,   t->net_energy_j};
                if (!strcmp(t->id, m->id))
                    v[k] = x[q];
            }
        }
        *out[q] = stats_summarise(v, n);
    }
    for (size_t k = 0; k < n; k++) {
        const struct measure_result *r = &runs[k].r;
        for (size_t i = 0; i < r->n_phases; i++)
            if (is_command(&r->phases[i]) && !strcmp(r->meters[r->phases[i].meter].id, m->id))
                m->flags |= r->phases[i].flags;
    }
}

/* One phase group g[0..n) (the same name, index and meter). */
static void summarise_phase(const struct phase_ref *g, size_t n, struct stat_phase_sum *ps,
                            double *v)
{
    enum { DUR, EN, ENP, AVG, PEAK, ITEMS, NQ };
    struct summary *out[NQ] = {&ps->duration_s,  &ps->energy_j,     &ps->energy_j_power,
                               &ps->avg_power_w, &ps->peak_power_w, &ps->items};

    snprintf(ps->phase, sizeof(ps->phase), "%s", g[0].p->phase);
    ps->index = g[0].p->index;
    ps->meter = g[0].meter;
    ps->peak_source = (g[0].p->valid & JB_PHASE_PEAK) ? g[0].p->peak_power_source : 0;
    for (int q = 0; q < NQ; q++) {
        for (size_t k = 0; k < n; k++) {
            const struct jb_phase_result *p = g[k].p;
            double dur = (double)(p->t_end_ns - p->t_begin_ns) / 1e9;
            switch (q) {
            case DUR: v[k] = dur; break;
            case EN: v[k] = stat_phase_energy(p); break;
            case ENP: v[k] = (p->valid & JB_PHASE_ENERGY_POWER) ? p->energy_j_power : NAN; break;
            case AVG: v[k] = dur > 0 ? stat_phase_energy(p) / dur : NAN; break;
            case PEAK: v[k] = (p->valid & JB_PHASE_PEAK) ? p->peak_power_w : NAN; break;
            default: v[k] = (p->valid & JB_PHASE_ITEMS) ? p->items : NAN; break;
            }
        }
        *out[q] = stats_summarise(v, n);
    }
    ps->ord = g[0].ord;
    for (size_t k = 0; k < n; k++) {
        ps->ord = g[k].ord < ps->ord ? g[k].ord : ps->ord;
        ps->flags |= g[k].p->flags;
        ps->n_partial += (g[k].p->valid & JB_PHASE_PARTIAL) != 0;
    }
}

/* The GPU total of each run (NaN for a run with fewer than two GPU meters).  v has room for 3n
 * values.  -1 when out of memory. */
static int summarise_gpu(const struct stat_run *runs, size_t n, struct stat_gpu_sum *g, double *v)
{
    double *en = v, *avg = v + n, *sp = v + 2 * n;

    for (size_t k = 0; k < n; k++) {
        struct measure_gpu_sum t;
        if (measure_gpu_sum(&runs[k].r, &t) < 0)
            return -1;
        en[k] = avg[k] = sp[k] = NAN;
        if (t.n_gpus > g->n_gpus)
            g->n_gpus = t.n_gpus;
        if (t.n_gpus >= 2) {
            en[k] = t.energy_j;
            avg[k] = t.avg_power_w;
            sp[k] = t.spread;
            g->simulated |= t.simulated;
        }
        measure_gpu_sum_free(&t);
    }
    g->energy_j = stats_summarise(en, n);
    g->avg_power_w = stats_summarise(avg, n);
    g->spread = stats_summarise(sp, n);
    return 0;
}

/* Each run's energy counted, facility kWh, CO2e and cost.  v has room for 4n values. */
static void summarise_carbon(const struct stat_run *runs, size_t n, const struct carbon_factors *cf,
                             struct stat_carbon_sum *c, double *v)
{
    double *en = v, *kwh = v + n, *co2 = v + 2 * n, *cost = v + 3 * n;

    if (!cf || !carbon_any(cf))
        return;
    c->given = 1;
    snprintf(c->currency, sizeof(c->currency), "%s", cf->currency);
    for (size_t k = 0; k < n; k++) {
        struct carbon_result r;
        const char *included;
        en[k] = cli_carbon_stat_energy(&runs[k].r, &included);
        c->simulated |= cli_carbon_stat_simulated(&runs[k].r);
        if (k == 0)
            snprintf(c->included, sizeof(c->included), "%s", included);
        carbon_compute(cf, en[k], &r);
        kwh[k] = r.facility_kwh;
        co2[k] = r.kg_co2e;
        cost[k] = r.cost;
    }
    c->energy_j = stats_summarise(en, n);
    c->facility_kwh = stats_summarise(kwh, n);
    c->kg_co2e = stats_summarise(co2, n);
    c->cost = stats_summarise(cost, n);
}

int stat_summarise(const struct stat_run *runs, size_t n, const struct carbon_factors *cf,
                   struct stat_summary *s)
{
    struct phase_ref *refs = NULL;
    size_t max_meters = 0, n_refs = 0, n_groups = 0;
    double *v = NULL;
    int rc = -1;

    memset(s, 0, sizeof(*s));
    s->n_runs = n;
    for (size_t k = 0; k < n; k++) {
        max_meters += runs[k].r.n_meters;
        n_refs += runs[k].r.n_phases;
    }
    s->meters = calloc(max_meters ? max_meters : 1, sizeof(*s->meters));
    refs = malloc((n_refs ? n_refs : 1) * sizeof(*refs));
    v = malloc((n ? 4 * n : 1) * sizeof(double));
    if (!s->meters || !refs || !v)
        goto out;
    if (summarise_gpu(runs, n, &s->gpu, v) < 0)
        goto out;
    summarise_carbon(runs, n, cf, &s->carbon, v);
    for (int q = 0; q < 3; q++) {
        for (size_t k = 0; k < n; k++)
            v[k] = q == 0 ? runs[k].r.duration_s
                          : (q == 1 ? runs[k].r.cpu_user_s : runs[k].r.cpu_sys_s);
        *(q == 0 ? &s->duration_s : (q == 1 ? &s->cpu_user_s : &s->cpu_sys_s)) =
            stats_summarise(v, n);
    }
    n_refs = 0;
    for (size_t k = 0; k < n; k++) {
        const struct measure_result *r = &runs[k].r;
        for (size_t i = 0; i < r->n_meters; i++)
            meter_slot(s, &r->meters[i]);
        for (size_t i = 0; i < r->n_phases; i++) {
            if (is_command(&r->phases[i]) || r->phases[i].meter >= r->n_meters)
                continue;
            refs[n_refs].p = &r->phases[i];
            refs[n_refs].meter = meter_slot(s, &r->meters[r->phases[i].meter]);
            refs[n_refs].ord = i;
            n_refs++;
        }
    }
    for (size_t i = 0; i < s->n_meters; i++)
        summarise_meter(runs, n, &s->meters[i], v);
    qsort(refs, n_refs, sizeof(*refs), ref_cmp);
    for (size_t i = 0; i < n_refs; i++)
        n_groups += i == 0 || ref_cmp(&refs[i - 1], &refs[i]) != 0;
    s->phases = calloc(n_groups ? n_groups : 1, sizeof(*s->phases));
    free(v);
    v = malloc((n_refs ? n_refs : 1) * sizeof(double));
    if (!s->phases || !v)
        goto out;
    for (size_t i = 0; i < n_refs;) {
        size_t j = i + 1;
        while (j < n_refs && ref_cmp(&refs[i], &refs[j]) == 0)
            j++;
        summarise_phase(&refs[i], j - i, &s->phases[s->n_phases++], v);
        i = j;
    }
    qsort(s->phases, s->n_phases, sizeof(*s->phases), group_cmp);
    rc = 0;
out:
    free(refs);
    free(v);
    if (rc < 0)
        stat_summary_free(s);
    return rc;
}

void stat_summary_free(struct stat_summary *s)
{
    free(s->meters);
    free(s->phases);
    s->meters = NULL;
    s->phases = NULL;
    s->n_meters = s->n_phases = 0;
}
