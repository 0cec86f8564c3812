/*
 * stat_rows.c - 'joulebench stat -x SEP': machine-readable rows instead of the table, as
 * perf stat -x does.  One header line naming the fields, then one row per value:
 *
 *   value SEP unit SEP event SEP meter SEP phase SEP index SEP sd SEP ci95_lo SEP ci95_hi SEP n
 *   SEP source SEP flags
 *
 * value is the value (one run) or the mean (-r); sd and the CI bounds are empty for one run;
 * an unavailable value is an empty field.  The whole command is phase "command", index 0.
 * source: the meter's energy source (counter, power-integral, simulated), or for a peak_power
 * row the reading the peak came from; flags: the phase's flag names and "simulated" for a
 * simulated meter, joined by '+'.  A field holding SEP, a double quote or a line break is
 * quoted as in RFC 4180.  Not the JSON (stat_json.c).
 */
#include "cli/stat_int.h"

#include <math.h>
#include <string.h>

struct rows {
    FILE *f;
    const char *sep;
};

static void field(const struct rows *w, const char *s, int first)
{
    int quote = strstr(s, w->sep) || strpbrk(s, "\"\r\n");

    if (!first)
        fputs(w->sep, w->f);
    if (!quote) {
        fputs(s, w->f);
        return;
    }
    fputc('"', w->f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', w->f);
        fputc(*s, w->f);
    }
    fputc('"', w->f);
}

static void num(char *buf, size_t n, double v)
{
    if (isnan(v) || isinf(v))
        buf[0] = '\0';
    else
        snprintf(buf, n, "%.10g", v);
}

struct row_key {
    const char *meter, *phase;
    long index;
    const char *source;
    uint32_t flags;
    int simulated;
};

static void row(const struct rows *w, const struct summary *s, const char *unit, const char *event,
                const struct row_key *k)
{
    char v[40], sd[40], lo[40], hi[40], n[24], idx[24], fl[128];
    int two = s->n >= 2 && !isnan(s->ci95);

    if (!s->n)
        return;
    num(v, sizeof(v), s->mean);
    num(sd, sizeof(sd), two ? s->sd : NAN);
    num(lo, sizeof(lo), two ? s->mean - s->ci95 : NAN);
    num(hi, sizeof(hi), two ? s->mean + s->ci95 : NAN);
    snprintf(n, sizeof(n), "%zu", s->n);
    snprintf(idx, sizeof(idx), "%ld", k->index);
    stat_flag_names(k->flags, "+", fl, sizeof(fl));
    if (k->simulated)
        snprintf(fl + strlen(fl), sizeof(fl) - strlen(fl), "%ssimulated", fl[0] ? "+" : "");
    field(w, v, 1);
    field(w, unit, 0);
    field(w, event, 0);
    field(w, k->meter, 0);
    field(w, k->phase, 0);
    field(w, idx, 0);
    field(w, sd, 0);
    field(w, lo, 0);
    field(w, hi, 0);
    field(w, n, 0);
    field(w, k->source, 0);
    field(w, fl, 0);
    fputc('\n', w->f);
}

void stat_rows(FILE *f, const char *sep, const struct stat_summary *s)
{
    static const char *const head[] = {"value", "unit",    "event",   "meter", "phase",  "index",
                                       "sd",    "ci95_lo", "ci95_hi", "n",     "source", "flags"};
    struct rows w = {f, sep};
    struct row_key k = {"", "command", 0, "", 0, 0};

    for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
        field(&w, head[i], i == 0);
    fputc('\n', f);
    row(&w, &s->duration_s, "s", "duration", &k);
    row(&w, &s->cpu_user_s, "s", "cpu_user", &k);
    row(&w, &s->cpu_sys_s, "s", "cpu_sys", &k);
    for (size_t i = 0; i < s->n_meters; i++) {
        const struct stat_meter_sum *m = &s->meters[i];
        struct row_key mk = {m->id, "command", 0, m->source, m->flags, m->simulated};
        row(&w, &m->energy_j, "J", "energy", &mk);
        row(&w, &m->energy_j_power, "J", "energy_power", &mk);
        row(&w, &m->avg_power_w, "W", "avg_power", &mk);
        row(&w, &m->peak_power_w, "W", "peak_power", &mk);
        row(&w, &m->idle_power_w, "W", "idle_power", &mk);
        row(&w, &m->net_energy_j, "J", "net_energy", &mk);
    }
    for (size_t i = 0; i < s->n_phases; i++) {
        const struct stat_phase_sum *p = &s->phases[i];
        const struct stat_meter_sum *m = &s->meters[p->meter];
        struct row_key pk = {m->id, p->phase, p->index, m->source, p->flags, m->simulated};
        row(&w, &p->energy_j, "J", "energy", &pk);
        row(&w, &p->energy_j_power, "J", "energy_power", &pk);
        row(&w, &p->duration_s, "s", "duration", &pk);
        row(&w, &p->avg_power_w, "W", "avg_power", &pk);
        row(&w, &p->items, "items", "items", &pk);
        pk.source = p->peak_source ? jb_power_source_name(p->peak_source) : "";
        row(&w, &p->peak_power_w, "W", "peak_power", &pk);
    }
    if (s->gpu.n_gpus >= 2) {
        struct row_key gk = {"gpu_total", "command", 0, "sum", 0, s->gpu.simulated};
        row(&w, &s->gpu.energy_j, "J", "energy", &gk);
        row(&w, &s->gpu.avg_power_w, "W", "avg_power", &gk);
        row(&w, &s->gpu.spread, "ratio", "spread", &gk);
    }
    if (s->carbon.given) {
        struct row_key ck = {"", "command", 0, s->carbon.included, 0, s->carbon.simulated};
        row(&w, &s->carbon.energy_j, "J", "carbon_energy", &ck);
        row(&w, &s->carbon.facility_kwh, "kWh", "facility_energy", &ck);
        row(&w, &s->carbon.kg_co2e, "kg", "co2e", &ck);
        row(&w, &s->carbon.cost, s->carbon.currency[0] ? s->carbon.currency : "price_units", "cost",
            &ck);
    }
}
