/*
 * measure_sum.c - sums over the GPU meters of a measured execution and their spread (see
 * measure_sum.h).
 */
#include "run/measure_sum.h"

#include "util/jsonw.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int measure_is_gpu_meter(const struct measure_meter_total *t)
{
    if (t->simulated)
        return 1;
    if (strncmp(t->id, "gpu", 3) || !t->id[3])
        return 0;
    for (const char *p = t->id + 3; *p; p++)
        if (!isdigit((unsigned char)*p))
            return 0;
    return 1;
}

double measure_spread(const double *v, size_t n, double *min, double *max)
{
    double lo = INFINITY, hi = -INFINITY, sum = 0.0;
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue;
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
        sum += v[i];
        k++;
    }
    if (min)
        *min = k ? lo : NAN;
    if (max)
        *max = k ? hi : NAN;
    if (k < 2 || sum == 0.0)
        return NAN;
    return (hi - lo) / (sum / (double)k);
}

/* Position of r's GPU meter `meter` in s->gpu, or -1 when it is not a GPU meter. */
static long gpu_slot(const struct measure_gpu_sum *s, size_t meter)
{
    for (size_t g = 0; g < s->n_gpus; g++)
        if (s->gpu[g] == meter)
            return (long)g;
    return -1;
}

static struct measure_gpu_phase *find_phase(struct measure_gpu_sum *s, const char *name, long idx)
{
    for (size_t i = 0; i < s->n_phases; i++)
        if (s->phases[i].index == idx && !strcmp(s->phases[i].phase, name))
            return &s->phases[i];
    return NULL;
}

static double phase_energy(const struct jb_phase_result *p)
{
    if (p->valid & JB_PHASE_ENERGY)
        return p->energy_j;
    return (p->valid & JB_PHASE_ENERGY_POWER) ? p->energy_j_power : NAN;
}

static int add_phases(const struct measure_result *r, struct measure_gpu_sum *s)
{
    s->phases = calloc(r->n_phases ? r->n_phases : 1, sizeof(*s->phases));
    if (!s->phases)
        return -1;
    for (size_t i = 0; i < r->n_phases; i++) {
        const struct jb_phase_result *p = &r->phases[i];
        long g = gpu_slot(s, p->meter);
        if (g < 0)
            continue;
        struct measure_gpu_phase *ph = find_phase(s, p->phase, p->index);
        if (!ph) {
            ph = &s->phases[s->n_phases];
            ph->per_gpu_j = malloc(s->n_gpus * sizeof(double));
            if (!ph->per_gpu_j)
                return -1;
            s->n_phases++;
            snprintf(ph->phase, sizeof(ph->phase), "%s", p->phase);
            ph->index = p->index;
            ph->duration_s = (double)(p->t_end_ns - p->t_begin_ns) / 1e9;
            ph->items = (p->valid & JB_PHASE_ITEMS) ? p->items : NAN;
            for (size_t k = 0; k < s->n_gpus; k++)
                ph->per_gpu_j[k] = NAN;
        }
        ph->per_gpu_j[g] = phase_energy(p);
    }
    for (size_t i = 0; i < s->n_phases; i++) {
        struct measure_gpu_phase *ph = &s->phases[i];
        double sum = 0.0;
        for (size_t g = 0; g < s->n_gpus; g++)
            sum += ph->per_gpu_j[g]; /* NaN when any GPU lacks it */
        ph->energy_j = sum;
        ph->spread = measure_spread(ph->per_gpu_j, s->n_gpus, &ph->min_j, &ph->max_j);
    }
    return 0;
}

int measure_gpu_sum(const struct measure_result *r, struct measure_gpu_sum *s)
{
    memset(s, 0, sizeof(*s));
    s->energy_j = s->energy_j_power = s->avg_power_w = NAN;
    s->min_j = s->max_j = s->spread = NAN;
    s->gpu = malloc((r->n_meters ? r->n_meters : 1) * sizeof(size_t));
    double *e = malloc((r->n_meters ? r->n_meters : 1) * sizeof(double));
    if (!s->gpu || !e)
        goto oom;
    for (size_t i = 0; i < r->n_meters; i++)
        if (measure_is_gpu_meter(&r->meters[i])) {
            e[s->n_gpus] = r->meters[i].energy_j;
            s->gpu[s->n_gpus++] = i;
            s->simulated |= r->meters[i].simulated;
        }
    if (s->n_gpus) {
        s->energy_j = s->energy_j_power = s->avg_power_w = 0.0;
        for (size_t g = 0; g < s->n_gpus; g++) {
            const struct measure_meter_total *t = &r->meters[s->gpu[g]];
            s->energy_j += t->energy_j;
            s->energy_j_power += t->energy_j_power;
            s->avg_power_w += t->avg_power_w;
        }
        s->spread = measure_spread(e, s->n_gpus, &s->min_j, &s->max_j);
    }
    free(e);
    e = NULL;
    if (s->n_gpus && add_phases(r, s) < 0)
        goto oom;
    return 0;
oom:
    free(e);
    measure_gpu_sum_free(s);
    return -1;
}

void measure_gpu_sum_free(struct measure_gpu_sum *s)
{
    for (size_t i = 0; i < s->n_phases; i++)
        free(s->phases[i].per_gpu_j);
    free(s->phases);
    free(s->gpu);
    memset(s, 0, sizeof(*s));
}

static void json_min_max(struct jsonw *w, double min, double max, double spread)
{
    jw_kv_number(w, "min_j", min);
    jw_kv_number(w, "max_j", max);
    jw_kv_number(w, "spread", spread);
}

void measure_gpu_sum_json(struct jsonw *w, const struct measure_result *r)
{
    struct measure_gpu_sum s;

    jw_key(w, "gpu_total");
    if (measure_gpu_sum(r, &s) < 0 || !s.n_gpus) {
        jw_null(w);
        measure_gpu_sum_free(&s);
        return;
    }
    jw_object_begin(w);
    jw_key(w, "gpus");
    jw_array_begin(w);
    for (size_t g = 0; g < s.n_gpus; g++)
        jw_string(w, r->meters[s.gpu[g]].id);
    jw_array_end(w);
    jw_kv_bool(w, "simulated", s.simulated);
    jw_kv_number(w, "energy_j", s.energy_j);
    jw_kv_number(w, "energy_j_power", s.energy_j_power);
    jw_kv_number(w, "avg_power_w", s.avg_power_w);
    json_min_max(w, s.min_j, s.max_j, s.spread);
    jw_key(w, "phases");
    jw_array_begin(w);
    for (size_t i = 0; i < s.n_phases; i++) {
        const struct measure_gpu_phase *ph = &s.phases[i];
        jw_object_begin(w);
        jw_kv_string(w, "phase", ph->phase);
        jw_kv_int(w, "index", ph->index);
        jw_kv_number(w, "duration_s", ph->duration_s);
        if (!isnan(ph->items))
            jw_kv_number(w, "items", ph->items);
        jw_kv_number(w, "energy_j", ph->energy_j);
        json_min_max(w, ph->min_j, ph->max_j, ph->spread);
        jw_key(w, "per_gpu_j");
        jw_object_begin(w);
        for (size_t g = 0; g < s.n_gpus; g++)
            jw_kv_number(w, r->meters[s.gpu[g]].id, ph->per_gpu_j[g]);
        jw_object_end(w);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_object_end(w);
    measure_gpu_sum_free(&s);
}
