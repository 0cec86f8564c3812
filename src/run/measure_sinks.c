/*
 * measure_sinks.c - what arrives during a measurement (see measure_int.h): the sampler's
 * readings (power kept for the peak and the live line, every sample to the phase accountant,
 * one samples.csv row each), a meter that stops, and the accountant's results as they resolve
 * (one phases.csv row each, the first keep_phases kept, the rest summed per phase name and
 * meter); then the per-meter totals from the command's result.  The sink callbacks run on the
 * sampler's threads and take `lock`; the result callback runs under `lock`, from inside a
 * jb_phases_* call on any thread.  Nothing here starts, waits or writes a whole file.
 */
#include "run/measure_int.h"

#include "rundir/rundir.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void measure__warnf(struct meas *m, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (m->warn)
        m->warn(m->o->user, buf);
}

/* ---- sampler sink (sampler threads) --------------------------------------------------------- */

void measure__samples_write_error(struct meas *m)
{
    if (!m->samples_error) {
        m->samples_error = errno ? errno : EIO;
        snprintf(m->samples_errmsg, sizeof(m->samples_errmsg), "cannot write samples.csv: %s",
                 strerror(m->samples_error));
    }
}

/* One samples.csv row (caller holds the lock; m->row is the sinks' scratch buffer). */
static void samples_put(struct meas *m, double t_s, const char *meter, const double *v)
{
    sb_reset(&m->row);
    rundir_samples_row(&m->row, t_s, meter, v, 0);
    if (sb_failed(&m->row))
        errno = ENOMEM;
    if (sb_failed(&m->row) || fwrite(sb_str(&m->row), 1, m->row.len, m->samples) != m->row.len)
        measure__samples_write_error(m);
}

void measure__sink_sample(void *user, size_t i, const struct jb_sample *s)
{
    struct meas *m = user;
    const struct jb_meter_info *info = jb_meter_get_info(jb_meter_set_get(m->set, i));

    pthread_mutex_lock(&m->lock);
    if (s->valid & (JB_CAP_POWER | JB_CAP_POWER_INSTANT)) {
        /* The power integral and the peak use the instant reading where the device has one: on
         * an H200 NVML's default power reading is a 1 s average that lags a load step by ~0.9 s,
         * the instant one by ~0.1 s (docs/METHODOLOGY.md). */
        double w = (s->valid & JB_CAP_POWER_INSTANT) ? s->power_instant_w : s->power_w;
        m->last_power_w[i] = w;
        if (m->cmd_begin_ns && !m->cmd_end_ns && s->t_mono_ns >= m->cmd_begin_ns &&
            (isnan(m->peak_power_w[i]) || w > m->peak_power_w[i]))
            m->peak_power_w[i] = w;
    }
    /* Every sample, with the reading it is (instant or averaged power), goes to the estimator:
     * it places the counter's updates with them and labels the peak with its source. */
    if (jb_phases_add_sample(m->phases, i, s) < 0)
        measure__warnf(m, "%s: %s", info->id, jb_phases_errmsg(m->phases));
    if (m->samples && !m->samples_error) {
        double v[RUNDIR_S_NCOLS - 2];
        rundir_sample_values(s, v);
        samples_put(m, measure__t_rel(m, s->t_mono_ns), info->id, v);
    }
    pthread_mutex_unlock(&m->lock);
}

void measure__sink_energy(void *user, size_t i, const struct jb_energy *e)
{
    struct meas *m = user;
    const struct jb_meter_info *info = jb_meter_get_info(jb_meter_set_get(m->set, i));

    pthread_mutex_lock(&m->lock);
    if (jb_phases_add_energy(m->phases, i, e) < 0)
        measure__warnf(m, "%s: %s", info->id, jb_phases_errmsg(m->phases));
    if (m->samples && !m->samples_error) {
        double v[RUNDIR_S_NCOLS - 2];
        for (int k = 0; k < RUNDIR_S_NCOLS - 2; k++)
            v[k] = NAN;
        v[RUNDIR_S_ENERGY_J - RUNDIR_S_POWER_W] = e->energy_j;
        samples_put(m, measure__t_rel(m, e->t_mono_ns), info->id, v);
    }
    pthread_mutex_unlock(&m->lock);
}

void measure__sink_error(void *user, size_t i, int code, const char *msg)
{
    struct meas *m = user;
    const struct jb_meter_info *info = jb_meter_get_info(jb_meter_set_get(m->set, i));

    pthread_mutex_lock(&m->lock);
    if (!m->meter_errors[i]) {
        char buf[700];
        snprintf(buf, sizeof(buf), "meter %s stopped: %s (%s); readings up to now are kept",
                 info->id, msg && *msg ? msg : jb_strerror(code), jb_strerror(code));
        m->meter_errors[i] = strdup(buf);
        measure__warnf(m, "%s", buf);
        jb_phases_meter_gone(m->phases, i); /* phases stop waiting for it */
    }
    pthread_mutex_unlock(&m->lock);
}

/* ---- phase results (under `lock`, from inside a jb_phases_* call on any thread) ------------ */

static void phases_write_error(struct meas *m)
{
    if (!m->phases_error) {
        m->phases_error = errno ? errno : EIO;
        snprintf(m->phases_errmsg, sizeof(m->phases_errmsg), "cannot write phases.csv: %s",
                 strerror(m->phases_error));
    }
}

static int always_kept(const struct jb_phase_result *p)
{
    return p->index == 0 && (!strcmp(p->phase, "command") || !strcmp(p->phase, "idle"));
}

/* Sums p into its (phase name, meter) aggregate. */
static void aggregate(struct meas *m, const struct jb_phase_result *p)
{
    struct measure_result *r = m->r;
    struct measure_phase_agg *a = NULL;
    double dur = (double)(p->t_end_ns - p->t_begin_ns) / 1e9;

    for (size_t k = r->n_phase_aggs; k-- > 0 && !a;)
        if (r->phase_aggs[k].meter == p->meter && !strcmp(r->phase_aggs[k].phase, p->phase))
            a = &r->phase_aggs[k];
    if (!a) {
        if (r->n_phase_aggs == m->cap_aggs) {
            size_t nc = m->cap_aggs ? m->cap_aggs * 2 : 16;
            struct measure_phase_agg *q = realloc(r->phase_aggs, nc * sizeof(*q));
            if (!q) {
                m->phases_oom = 1;
                return;
            }
            r->phase_aggs = q;
            m->cap_aggs = nc;
        }
        a = &r->phase_aggs[r->n_phase_aggs++];
        memset(a, 0, sizeof(*a));
        memcpy(a->phase, p->phase, sizeof(a->phase));
        a->meter = p->meter;
        a->valid = p->valid & ~JB_PHASE_PARTIAL;
    }
    a->count++;
    a->valid &= p->valid;
    a->flags |= p->flags;
    a->n_partial += (p->valid & JB_PHASE_PARTIAL) != 0;
    for (unsigned b = 0; b < sizeof(a->n_flagged) / sizeof(a->n_flagged[0]); b++)
        a->n_flagged[b] += (p->flags >> b) & 1u;
    a->duration_s += dur;
    a->energy_j += (p->valid & JB_PHASE_ENERGY) ? p->energy_j : 0;
    a->energy_j_lo += (p->valid & JB_PHASE_ENERGY_BOUNDS) ? p->energy_j_lo : 0;
    a->energy_j_hi += (p->valid & JB_PHASE_ENERGY_BOUNDS) ? p->energy_j_hi : 0;
    a->energy_j_power += (p->valid & JB_PHASE_ENERGY_POWER) ? p->energy_j_power : 0;
    a->items += (p->valid & JB_PHASE_ITEMS) ? p->items : 0;
}

static void keep_result(struct meas *m, const struct jb_phase_result *p)
{
    struct measure_result *r = m->r;

    r->n_phases_total++;
    if (r->n_phases >= m->keep_phases && !always_kept(p)) {
        aggregate(m, p);
        return;
    }
    if (r->n_phases == m->cap_phases) {
        size_t nc = m->cap_phases ? m->cap_phases * 2 : 64;
        struct jb_phase_result *q = realloc(r->phases, nc * sizeof(*q));
        if (!q) {
            m->phases_oom = 1;
            return;
        }
        r->phases = q;
        m->cap_phases = nc;
    }
    r->phases[r->n_phases++] = *p;
}

/* Each result as it resolves: one row of phases.csv, and kept (bounded) for the caller. */
void measure__on_phase_result(void *user, const struct jb_phase_result *p)
{
    struct meas *m = user;

    if (m->phases_out && !m->phases_error) {
        const struct jb_meter_info *info = jb_meter_get_info(jb_meter_set_get(m->set, p->meter));
        struct strbuf sb = STRBUF_INIT;
        struct rundir_phase_row row;
        rundir_phase_row_from_result(&row, p, info->id, m->t0_ns);
        rundir_phases_row(&sb, &row);
        if (sb_failed(&sb))
            errno = ENOMEM;
        if (sb_failed(&sb) || fwrite(sb_str(&sb), 1, sb.len, m->phases_out) != sb.len)
            phases_write_error(m);
        sb_free(&sb);
    }
    for (unsigned b = 0; b < sizeof(m->flag_counts) / sizeof(m->flag_counts[0]); b++)
        m->flag_counts[b] += (p->flags >> b) & 1u;
    keep_result(m, p);
}

/* ---- per-meter totals --------------------------------------------------------------------- */

const char *measure__energy_source(const struct jb_meter_info *info)
{
    if (info->simulated)
        return "simulated";
    return (info->caps & JB_CAP_ENERGY) ? "counter" : "power-integral";
}

/* Energy of the phase result best suited as "the" energy: counter, else power integral. */
static double best_energy(const struct jb_phase_result *r)
{
    if (r->valid & JB_PHASE_ENERGY)
        return r->energy_j;
    if (r->valid & JB_PHASE_ENERGY_POWER)
        return r->energy_j_power;
    return NAN;
}

void measure__compute_totals(struct meas *m, struct measure_result *r, double idle_s)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct jb_meter_info *info = jb_meter_get_info(jb_meter_set_get(m->set, i));
        struct measure_meter_total *t = &r->meters[i];

        snprintf(t->id, sizeof(t->id), "%s", info->id);
        snprintf(t->name, sizeof(t->name), "%s", info->name);
        snprintf(t->energy_source, sizeof(t->energy_source), "%s", measure__energy_source(info));
        t->simulated = info->simulated;
        t->energy_j = t->energy_j_power = t->avg_power_w = NAN;
        t->peak_power_w = m->peak_power_w[i];
        t->idle_power_w = t->net_energy_j = NAN;
        for (size_t k = 0; k < r->n_phases; k++) {
            const struct jb_phase_result *p = &r->phases[k];
            double dur = (double)(p->t_end_ns - p->t_begin_ns) / 1e9;
            if (p->meter != i)
                continue;
            if (!strcmp(p->phase, "command") && p->index == 0) {
                t->energy_j = best_energy(p);
                t->energy_j_power = (p->valid & JB_PHASE_ENERGY_POWER) ? p->energy_j_power : NAN;
                t->avg_power_w = dur > 0 ? t->energy_j / dur : NAN;
            } else if (!strcmp(p->phase, "idle") && p->index == 0 && idle_s > 0 && dur > 0) {
                t->idle_power_w = best_energy(p) / dur;
            }
        }
        if (!isnan(t->idle_power_w) && !isnan(t->energy_j))
            t->net_energy_j = t->energy_j - t->idle_power_w * r->duration_s;
    }
}
