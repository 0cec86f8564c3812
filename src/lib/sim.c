/*
 * sim.c - simulated meters, for tests and demos only: constant power, a square wave, or a trace
 * file (CSV t_s,power_w, linear between points, held after the last).  Each has an exact energy
 * counter: the closed-form integral of its power since the meter was opened.  Every simulated
 * meter says so (info.simulated = 1, name starts with "simulated").
 */
#include "meter.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum sim_shape { SIM_CONST, SIM_SQUARE, SIM_TRACE };

struct sim {
    enum sim_shape shape;
    uint64_t t0_ns;
    double low_w, high_w; /* const: low_w */
    double period_s, duty;
    size_t n;      /* trace points */
    double *t_s;   /* trace times, ascending, t_s[0] >= 0 */
    double *p_w;   /* trace power */
    double *cum_j; /* trace: energy at t_s[i] */
};

/* Power at t seconds after open. */
static double sim_power(const struct sim *s, double t)
{
    switch (s->shape) {
    case SIM_CONST: return s->low_w;
    case SIM_SQUARE: {
        double ph = fmod(t, s->period_s) / s->period_s;
        return ph < s->duty ? s->high_w : s->low_w;
    }
    case SIM_TRACE: {
        size_t lo = 0, hi = s->n - 1;
        if (t <= s->t_s[0])
            return s->p_w[0];
        if (t >= s->t_s[hi])
            return s->p_w[hi];
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (s->t_s[mid] <= t)
                lo = mid;
            else
                hi = mid;
        }
        return s->p_w[lo] +
               (s->p_w[hi] - s->p_w[lo]) * (t - s->t_s[lo]) / (s->t_s[hi] - s->t_s[lo]);
    }
    }
    return 0;
}

/* Energy from 0 to t seconds, exactly. */
static double sim_energy(const struct sim *s, double t)
{
    switch (s->shape) {
    case SIM_CONST: return s->low_w * t;
    case SIM_SQUARE: {
        double per = s->period_s, hi_t = s->duty * per;
        double full = floor(t / per), rem = t - full * per;
        double e_period = s->high_w * hi_t + s->low_w * (per - hi_t);
        double e_rem = rem < hi_t ? s->high_w * rem : s->high_w * hi_t + s->low_w * (rem - hi_t);
        return full * e_period + e_rem;
    }
    case SIM_TRACE: {
        size_t lo = 0, hi = s->n - 1;
        if (t <= s->t_s[0])
            return s->p_w[0] * t;
        if (t >= s->t_s[hi])
            return s->cum_j[hi] + s->p_w[hi] * (t - s->t_s[hi]);
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (s->t_s[mid] <= t)
                lo = mid;
            else
                hi = mid;
        }
        /* trapezoid from t_s[lo] to t */
        return s->cum_j[lo] + (t - s->t_s[lo]) * (s->p_w[lo] + sim_power(s, t)) / 2;
    }
    }
    return 0;
}

static int sim_read_sample(struct jb_meter *m, struct jb_sample *out, struct jb_errbuf *err)
{
    const struct sim *s = m->priv;
    (void)err;

    out->t_mono_ns = jb_now_ns();
    out->power_w = sim_power(s, (double)(out->t_mono_ns - s->t0_ns) / 1e9);
    out->valid = JB_CAP_POWER;
    return 0;
}

static int sim_read_energy(struct jb_meter *m, struct jb_energy *e, struct jb_errbuf *err)
{
    const struct sim *s = m->priv;
    (void)err;

    e->t_mono_ns = jb_now_ns();
    e->energy_j = sim_energy(s, (double)(e->t_mono_ns - s->t0_ns) / 1e9);
    return 0;
}

static void sim_close(struct jb_meter *m)
{
    struct sim *s = m->priv;

    if (s) {
        free(s->t_s);
        free(s->p_w);
        free(s->cum_j);
        free(s);
    }
    m->priv = NULL;
}

static const struct jb_meter_ops sim_ops = {sim_read_sample, sim_read_energy, sim_close};

static int parse_num(const char *s, char **end, double min, double max, double *out)
{
    errno = 0;
    *out = strtod(s, end);
    return errno || *end == s || !isfinite(*out) || *out < min || *out > max ? -1 : 0;
}

static int load_trace(struct jb_meter_set *set, struct sim *s, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    size_t cap = 0;
    long lineno = 0;

    if (!f)
        return jb__meter_set_fail(set, JB_EIO, "cannot open simulated trace '%s': %s", path,
                                  strerror(errno));
    while (fgets(line, sizeof(line), f)) {
        char *end;
        double t, p;
        lineno++;
        if (line[0] == '#' || line[0] == '\n' || (lineno == 1 && strchr("tT", line[0])))
            continue; /* comment, blank, or the "t_s,power_w" header */
        if (parse_num(line, &end, 0, 1e9, &t) < 0 || *end != ',' ||
            parse_num(end + 1, &end, 0, 1e7, &p) < 0 || (*end && *end != '\n' && *end != '\r')) {
            fclose(f);
            return jb__meter_set_fail(set, JB_EPARSE,
                                      "%s:%ld: expected 't_s,power_w' with t_s >= 0 and power_w "
                                      ">= 0",
                                      path, lineno);
        }
        if (s->n && t <= s->t_s[s->n - 1]) {
            fclose(f);
            return jb__meter_set_fail(set, JB_EPARSE, "%s:%ld: t_s must increase", path, lineno);
        }
        if (s->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            double *a = realloc(s->t_s, nc * sizeof(double));
            double *b = a ? realloc(s->p_w, nc * sizeof(double)) : NULL;
            if (a)
                s->t_s = a;
            if (b)
                s->p_w = b;
            if (!a || !b) {
                fclose(f);
                return jb__meter_set_fail(set, JB_ENOMEM, "out of memory reading '%s'", path);
            }
            cap = nc;
        }
        s->t_s[s->n] = t;
        s->p_w[s->n] = p;
        s->n++;
    }
    fclose(f);
    if (!s->n)
        return jb__meter_set_fail(set, JB_EPARSE, "%s: no 't_s,power_w' rows", path);
    s->cum_j = malloc(s->n * sizeof(double));
    if (!s->cum_j)
        return jb__meter_set_fail(set, JB_ENOMEM, "out of memory reading '%s'", path);
    s->cum_j[0] = s->p_w[0] * s->t_s[0];
    for (size_t i = 1; i < s->n; i++)
        s->cum_j[i] =
            s->cum_j[i - 1] + (s->t_s[i] - s->t_s[i - 1]) * (s->p_w[i] + s->p_w[i - 1]) / 2;
    return 0;
}

static int parse_spec(struct jb_meter_set *set, struct sim *s, const char *arg, char *name,
                      size_t namelen)
{
    char *end;

    if (!*arg) {
        s->shape = SIM_CONST;
        s->low_w = 100;
        snprintf(name, namelen, "simulated constant 100 W");
        return 0;
    }
    if (!strncmp(arg, ":const=", 7)) {
        s->shape = SIM_CONST;
        if (parse_num(arg + 7, &end, 0, 1e7, &s->low_w) < 0 || *end)
            return jb__meter_set_fail(
                set, JB_EINVAL, "bad simulated meter 'sim%s': const=W needs a power >= 0", arg);
        snprintf(name, namelen, "simulated constant %g W", s->low_w);
        return 0;
    }
    if (!strncmp(arg, ":square=", 8)) {
        double period_ms;
        s->shape = SIM_SQUARE;
        if (parse_num(arg + 8, &end, 0, 1e7, &s->low_w) < 0 || *end != ':' ||
            parse_num(end + 1, &end, 0, 1e7, &s->high_w) < 0 || *end != ':' ||
            parse_num(end + 1, &end, 1, 1e9, &period_ms) < 0 || *end != ':' ||
            parse_num(end + 1, &end, 0, 1, &s->duty) < 0 || *end)
            return jb__meter_set_fail(set, JB_EINVAL,
                                      "bad simulated meter 'sim%s': expected "
                                      "square=LOW_W:HIGH_W:PERIOD_MS:DUTY (DUTY in 0..1, "
                                      "PERIOD_MS >= 1)",
                                      arg);
        s->period_s = period_ms / 1000.0;
        snprintf(name, namelen, "simulated square %g/%g W, %g ms, duty %g", s->low_w, s->high_w,
                 period_ms, s->duty);
        return 0;
    }
    if (!strncmp(arg, ":trace=", 7)) {
        s->shape = SIM_TRACE;
        if (!arg[7])
            return jb__meter_set_fail(set, JB_EINVAL, "bad simulated meter 'sim:trace=': no file");
        snprintf(name, namelen, "simulated trace %s", arg + 7);
        return load_trace(set, s, arg + 7);
    }
    return jb__meter_set_fail(set, JB_EINVAL,
                              "unknown simulated meter 'sim%s' (expected sim, sim:const=W, "
                              "sim:square=LOW_W:HIGH_W:PERIOD_MS:DUTY or sim:trace=FILE)",
                              arg);
}

int jb__sim_add(struct jb_meter_set *set, const char *arg)
{
    struct jb_meter *m = jb__meter_new(&sim_ops);
    struct sim *s = calloc(1, sizeof(*s));
    int rc;

    if (!m || !s) {
        free(s);
        jb__meter_free(m);
        return jb__meter_set_fail(set, JB_ENOMEM, "out of memory");
    }
    m->priv = s;
    rc = parse_spec(set, s, arg, m->info.name, sizeof(m->info.name));
    if (rc < 0) {
        jb__meter_free(m);
        return rc;
    }
    s->t0_ns = jb_now_ns();
    m->info.kind = JB_KIND_SIM;
    jb__strlcpy(m->info.source, "sim", sizeof(m->info.source));
    m->info.simulated = 1;
    m->info.caps = JB_CAP_ENERGY | JB_CAP_POWER;
    m->info.device_index = (int)jb__meter_set_count_kind(set, JB_KIND_SIM);
    return jb__meter_set_append(set, m);
}
