/*
 * vdrive.c - the virtual-time driver of the phase accountant over a simulated meter (vdrive.h).
 * One meter, one event loop over four kinds of event (power sample, counter read start, counter
 * read end, phase bound arriving), each at a computed virtual time; nothing here sleeps or reads
 * a clock.  Not a model of the sampler's threads beyond their order of reads.  A stall (a host
 * that stops the sampler, as valgrind or an overloaded machine does) moves every event due in it
 * to its end: a read in progress ends late, stamped in its middle as a real one is.
 */
#include "vdrive.h"

#include "counter.h"
#include "joulebench.h"
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORIGIN_NS 1000000000ull /* the meter's origin in virtual CLOCK_MONOTONIC */
#define TAIL_NS 2000000000ull   /* readings go on this long after the last bound */

void vd_defaults(struct vd_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->load = "const=300";
    o->nvml = 1;
    o->read_ms = -1;
    o->run_s = 30;
    o->start_s = 1.5;
    o->sample_ms = 10;
    o->energy_ms = 100;
    o->schedule = VD_LOCKED;
    o->bound_reads = 1;
    o->bound_delay_ms = 1;
    o->phase_ms = 1000;
    o->phase_spread = 0.2;
    o->seed = 1;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

struct collect {
    struct vd_result *r;
};

static void on_result(void *user, const struct jb_phase_result *res)
{
    struct collect *c = user;
    struct vd_phase *ph = NULL;

    if (!strcmp(res->phase, "whole"))
        ph = &c->r->whole;
    else if (res->index >= 0 && (size_t)res->index < c->r->n)
        ph = &c->r->ph[res->index];
    if (!ph)
        return;
    ph->est_j = res->energy_j;
    ph->lo_j = res->energy_j_lo;
    ph->hi_j = res->energy_j_hi;
    ph->power_j = res->energy_j_power;
    ph->idle_w = res->idle_power_w;
    ph->valid = res->valid;
    ph->flags = res->flags;
}

static int64_t to_ns(double s)
{
    return (int64_t)llround(s * 1e9);
}

static double model_t(uint64_t t_ns)
{
    return ((double)t_ns - (double)ORIGIN_NS) / 1e9;
}

/* The bounds of the tiling: n + 1 times. */
static double *make_bounds(const struct vd_opts *o, const struct jb__sim *m, size_t *n_out)
{
    size_t cap = 64, n = 0;
    double *b = malloc(cap * sizeof(double)), t = o->start_s;
    uint64_t rs = o->seed * 7919 + 17;

    if (!b)
        return NULL;
    if (o->aligned && m->cfg.shape == JB_SIM_STEPS) {
        double per = m->period_s, k = ceil(o->start_s / per) - 1;
        for (;; k += 1) {
            double e = k * per;
            for (size_t i = 0; i <= m->cfg.n_steps; i++) {
                if (i)
                    e += m->cfg.step_s[i - 1];
                if (i == m->cfg.n_steps)
                    break;
                if (e < o->start_s)
                    continue;
                if (e > o->run_s)
                    goto done;
                if (n == cap) {
                    double *nb = realloc(b, (cap *= 2) * sizeof(double));
                    if (!nb) {
                        free(b);
                        return NULL;
                    }
                    b = nb;
                }
                if (!n || e > b[n - 1] + 1e-9)
                    b[n++] = e;
            }
        }
    }
    while (t <= o->run_s) {
        if (n == cap) {
            double *nb = realloc(b, (cap *= 2) * sizeof(double));
            if (!nb) {
                free(b);
                return NULL;
            }
            b = nb;
        }
        b[n++] = t;
        t += o->phase_ms / 1000.0 * (1 - o->phase_spread + 2 * o->phase_spread * rng_unit(&rs));
    }
done:
    *n_out = n;
    return b;
}

int vd_run(const struct vd_opts *o, struct vd_result *out, char *err, size_t errlen)
{
    struct jb__sim_config cfg;
    struct jb__sim model;
    struct jb_phases *p = NULL;
    struct jb__lock lock;
    struct collect col;
    char spec[512], opts[256] = "";
    double *bounds = NULL, read_s;
    size_t n_bounds = 0, next_bound = 0, next_event = 0;
    uint64_t now = ORIGIN_NS, t_end, next_sample, next_tick, sample_ns, energy_ns, read_ns;
    uint64_t read_start = 0, read_end = 0, req_time[64];
    int in_read = 0, read_is_bound = 0, rc = -1, sched_valid = 0;
    size_t req_n = 0;
    uint64_t sched_start = 0;
    int have_model = 0;
    uint64_t stall0 = ORIGIN_NS + (uint64_t)to_ns(o->stall_s),
             stall1 = stall0 + (uint64_t)to_ns(o->stall_len_s);

    memset(out, 0, sizeof(*out));
    if (o->nvml) {
        size_t u = 0;
        if (o->update_ms > 0)
            u += (size_t)snprintf(opts + u, sizeof(opts) - u, ":update_ms=%g", o->update_ms);
        if (o->offset_ms > 0)
            u += (size_t)snprintf(opts + u, sizeof(opts) - u, ":offset_ms=%g", o->offset_ms);
        if (o->jitter_ms > 0)
            u += (size_t)snprintf(opts + u, sizeof(opts) - u, ":jitter_ms=%g", o->jitter_ms);
        if (o->read_ms >= 0)
            u += (size_t)snprintf(opts + u, sizeof(opts) - u, ":read_ms=%g", o->read_ms);
        if (o->window_ms > 0)
            snprintf(opts + u, sizeof(opts) - u, ":window_ms=%g", o->window_ms);
        snprintf(spec, sizeof(spec), ":nvml%s:%s", opts, o->load);
    } else {
        snprintf(spec, sizeof(spec), ":%s", o->load);
    }
    if (jb__sim_parse(spec, &cfg, err, errlen) < 0 || jb__sim_init(&model, &cfg, err, errlen) < 0)
        return -1;
    have_model = 1;
    read_s = cfg.nvml ? cfg.read_s : 0;
    read_ns = (uint64_t)to_ns(read_s);
    sample_ns = (uint64_t)to_ns(o->sample_ms / 1000);
    energy_ns = (uint64_t)to_ns(o->energy_ms / 1000);
    bounds = make_bounds(o, &model, &n_bounds);
    if (!bounds || n_bounds < 2) {
        snprintf(err, errlen, "no phases to run");
        goto out;
    }
    out->n = n_bounds - 1;
    out->ph = calloc(out->n, sizeof(*out->ph));
    if (!out->ph) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < out->n; i++) {
        out->ph[i].t0_s = bounds[i];
        out->ph[i].t1_s = bounds[i + 1];
        out->ph[i].true_j = jb__sim_true_energy_j(&model, bounds[i], bounds[i + 1]);
    }
    out->whole.t0_s = bounds[0];
    out->whole.t1_s = bounds[n_bounds - 1];
    out->whole.true_j = jb__sim_true_energy_j(&model, bounds[0], bounds[n_bounds - 1]);
    p = jb_phases_new(1);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    col.r = out;
    jb_phases_set_on_result(p, on_result, &col);
    jb__lock_init(&lock, now, energy_ns);
    t_end = ORIGIN_NS + (uint64_t)to_ns(bounds[n_bounds - 1]) + TAIL_NS;
    next_sample = now;
    next_tick = now + energy_ns;
    /* The sampler's first reads, before its threads start. */
    req_time[req_n++] = now;

    while (now < t_end) {
        uint64_t t_bound = UINT64_MAX, t_rs = UINT64_MAX, t_re = in_read ? read_end : UINT64_MAX;
        int which;

        if (next_bound < n_bounds) {
            uint64_t bt = ORIGIN_NS + (uint64_t)to_ns(bounds[next_bound]);
            t_bound = bt + (uint64_t)to_ns(o->bound_delay_ms / 1000);
        }
        if (!in_read) {
            if (req_n) {
                t_rs = req_time[0] > now ? req_time[0] : now;
            } else {
                if (!sched_valid) {
                    if (o->schedule == VD_LOCKED) {
                        uint64_t tgt = jb__lock_next(&lock, now + read_ns / 2);
                        sched_start = tgt - read_ns / 2;
                    } else {
                        while (next_tick < now)
                            next_tick += energy_ns;
                        sched_start = next_tick;
                    }
                    sched_valid = 1;
                }
                t_rs = sched_start > now ? sched_start : now;
            }
        }
        /* Earliest event; on a tie: read end, bound, read start, sample. */
        which = 0;
        now = t_re;
        if (t_bound < now) {
            now = t_bound;
            which = 1;
        }
        if (t_rs < now) {
            now = t_rs;
            which = 2;
        }
        if (next_sample < now) {
            now = next_sample;
            which = 3;
        }
        if (now == UINT64_MAX)
            break;
        if (now >= stall0 && now < stall1)
            now = stall1;
        switch (which) {
        case 0: { /* a read ends */
            struct jb_energy e;
            double v, tm;
            e.t_mono_ns = read_start + (now - read_start) / 2;
            tm = model_t(e.t_mono_ns);
            v = cfg.nvml ? jb__sim_counter_j(&model, tm) : jb__sim_energy_j(&model, tm);
            e.energy_j = v;
            in_read = 0;
            if (jb_phases_add_energy(p, 0, &e) < 0) {
                snprintf(err, errlen, "add_energy: %s", jb_phases_errmsg(p));
                goto out;
            }
            jb__lock_feed(&lock, e.t_mono_ns, v);
            out->reads++;
            if (read_is_bound) {
                memmove(req_time, req_time + 1, (req_n - 1) * sizeof(req_time[0]));
                req_n--;
            } else {
                if (cfg.nvml && tm > 1.0) {
                    double st = tm - jb__sim_update_s(&model, jb__sim_last_update(&model, tm));
                    if (st > out->max_staleness_s)
                        out->max_staleness_s = st;
                }
                if (o->schedule == VD_FIXED)
                    next_tick += energy_ns;
            }
            sched_valid = 0;
            break;
        }
        case 1: { /* a bound arrives: the end of one phase and the begin of the next */
            uint64_t bt = ORIGIN_NS + (uint64_t)to_ns(bounds[next_bound]);
            if (next_bound > 0 && jb_phases_end(p, "p", (long)next_bound - 1, bt, NULL) < 0) {
                snprintf(err, errlen, "end: %s", jb_phases_errmsg(p));
                goto out;
            }
            if (next_bound == n_bounds - 1 && jb_phases_end(p, "whole", 0, bt, NULL) < 0) {
                snprintf(err, errlen, "end: %s", jb_phases_errmsg(p));
                goto out;
            }
            if (next_bound == 0 && jb_phases_begin(p, "whole", 0, bt) < 0) {
                snprintf(err, errlen, "begin: %s", jb_phases_errmsg(p));
                goto out;
            }
            if (next_bound + 1 < n_bounds && jb_phases_begin(p, "p", (long)next_bound, bt) < 0) {
                snprintf(err, errlen, "begin: %s", jb_phases_errmsg(p));
                goto out;
            }
            if (o->bound_reads && req_n < sizeof(req_time) / sizeof(req_time[0]))
                req_time[req_n++] = now;
            next_bound++;
            next_event++;
            break;
        }
        case 2: /* a read starts */
            in_read = 1;
            read_is_bound = req_n > 0 && req_time[0] <= now;
            read_start = now;
            read_end = now + read_ns;
            break;
        case 3: { /* a power sample */
            struct jb_sample s;
            double tm = model_t(now);
            memset(&s, 0, sizeof(s));
            s.t_mono_ns = now;
            if (cfg.nvml) {
                s.power_w = jb__sim_avg_power_w(&model, tm);
                s.power_instant_w = jb__sim_instant_power_w(&model, tm);
                s.valid = JB_CAP_POWER | JB_CAP_POWER_INSTANT;
            } else {
                s.power_w = jb__sim_power_w(&model, tm);
                s.valid = JB_CAP_POWER;
            }
            if (jb_phases_add_sample(p, 0, &s) < 0) {
                snprintf(err, errlen, "add_sample: %s", jb_phases_errmsg(p));
                goto out;
            }
            out->samples++;
            next_sample += sample_ns;
            if (next_sample <= now) /* after a stall: one sample, then the cadence */
                next_sample = now + sample_ns;
            break;
        }
        }
    }
    if (jb_phases_finish(p, now) < 0) {
        snprintf(err, errlen, "finish: %s", jb_phases_errmsg(p));
        goto out;
    }
    {
        const struct jb_phases_meter_stats *st = jb_phases_meter_stats(p, 0);
        out->period_s = st->update_period_s;
        out->stepped = st->stepped;
        out->aliased_windows = st->aliased_windows;
        out->check_windows = st->check_windows;
    }
    rc = 0;
out:
    (void)next_event;
    jb_phases_free(p);
    free(bounds);
    if (have_model)
        jb__sim_release(&model);
    if (rc < 0)
        vd_free(out);
    return rc;
}

void vd_free(struct vd_result *r)
{
    free(r->ph);
    r->ph = NULL;
    r->n = 0;
}
