/*
 * sim.c - simulated meters, for tests and demos only.  A true power function (constant, square
 * wave, bursts, periodic steps, or a trace file: CSV t_s,power_w, linear between points, held
 * outside them) read either exactly (the counter is the closed-form integral of the power at
 * the time of the read) or as NVML reads an NVIDIA GPU (sim:nvml...: a counter that moves only
 * every update period and is stale in between, a read cost, 1 s averaged and short-window
 * instant power readings; see sim.h).  Every simulated meter says so (info.simulated = 1, name
 * starting with "simulated").
 *
 * The spec parser (jb__sim_parse) and the model are pure functions of their arguments, so that
 * tests can drive the model in virtual time and a fuzz target can call the parser.  This file is
 * not a model of any particular GPU beyond the update behaviour documented in sim.h.
 */
#include "sim.h"

#include "meter.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_W 1e7                /* largest power accepted anywhere, W */
#define MAX_TRACE_ROWS 10000000u /* bounds the cost of a trace file */

/* ---- the spec parser (pure) ------------------------------------------------------------ */

static int errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return JB_EINVAL;
}

/* A finite number in [min, max] at s, without leading blanks; *end after it. */
static int parse_num(const char *s, const char **end, double min, double max, double *out)
{
    char *e;

    if (!*s || isspace((unsigned char)*s)) {
        *end = s;
        return -1;
    }
    errno = 0;
    *out = strtod(s, &e);
    *end = e;
    return errno || e == s || !isfinite(*out) || *out < min || *out > max ? -1 : 0;
}

/* Parses "N:N:...:N" (exactly n numbers, each in [min[i], max[i]]) ending at '\0'. */
static int parse_list(const char *s, size_t n, const double *min, const double *max, double *out)
{
    const char *end = s;

    for (size_t i = 0; i < n; i++) {
        if (parse_num(i ? end + 1 : s, &end, min[i], max[i], &out[i]) < 0)
            return -1;
        if (i + 1 < n ? *end != ':' : *end != '\0')
            return -1;
    }
    return 0;
}

static void add_step(struct jb__sim_config *c, double w, double s)
{
    if (s > 0 && c->n_steps < JB_SIM_MAX_STEPS) {
        c->step_w[c->n_steps] = w;
        c->step_s[c->n_steps] = s;
        c->n_steps++;
    }
}

/* The load part: "const=W", "square=...", "burst=...", "steps=...", "trace=FILE". */
static int parse_load(const char *arg, const char *load, struct jb__sim_config *c, char *name,
                      size_t namelen, char *err, size_t errlen)
{
    double v[2 * JB_SIM_MAX_STEPS];

    c->shape = JB_SIM_STEPS;
    if (!strncmp(load, "const=", 6)) {
        static const double mn[] = {0}, mx[] = {MAX_W};
        if (parse_list(load + 6, 1, mn, mx, v) < 0)
            return errf(err, errlen, "bad simulated meter 'sim%.200s': const=W needs a power >= 0",
                        arg);
        add_step(c, v[0], 1.0);
        snprintf(name, namelen, "constant %g W", v[0]);
        return 0;
    }
    if (!strncmp(load, "square=", 7)) {
        static const double mn[] = {0, 0, 1, 0}, mx[] = {MAX_W, MAX_W, 1e9, 1};
        if (parse_list(load + 7, 4, mn, mx, v) < 0)
            return errf(err, errlen,
                        "bad simulated meter 'sim%.200s': expected "
                        "square=LOW_W:HIGH_W:PERIOD_MS:DUTY (DUTY in 0..1, PERIOD_MS >= 1)",
                        arg);
        add_step(c, v[1], v[3] * v[2] / 1000.0);
        add_step(c, v[0], (1 - v[3]) * v[2] / 1000.0);
        snprintf(name, namelen, "square %g/%g W, %g ms, duty %g", v[0], v[1], v[2], v[3]);
        return 0;
    }
    if (!strncmp(load, "burst=", 6)) {
        static const double mn[] = {0, 0, 0, 1}, mx[] = {MAX_W, MAX_W, 1e9, 1e9};
        if (parse_list(load + 6, 4, mn, mx, v) < 0 || v[2] <= 0 || v[2] > v[3])
            return errf(err, errlen,
                        "bad simulated meter 'sim%.200s': expected "
                        "burst=LOW_W:HIGH_W:BURST_MS:EVERY_MS (0 < BURST_MS <= EVERY_MS, "
                        "EVERY_MS >= 1)",
                        arg);
        add_step(c, v[1], v[2] / 1000.0);
        add_step(c, v[0], (v[3] - v[2]) / 1000.0);
        snprintf(name, namelen, "bursts of %g W for %g ms every %g ms, %g W between", v[1], v[2],
                 v[3], v[0]);
        return 0;
    }
    if (!strncmp(load, "steps=", 6)) {
        const char *p = load + 6, *end = p;
        size_t n = 0, used;
        double total_ms = 0;
        int bad = 0;

        while (!bad) {
            if (n == 2 * JB_SIM_MAX_STEPS ||
                parse_num(p, &end, 0, n % 2 ? 1e9 : MAX_W, &v[n]) < 0 || (n % 2 && v[n] <= 0)) {
                bad = 1;
                break;
            }
            n++;
            if (*end == '\0')
                break;
            if (*end != ':')
                bad = 1;
            p = end + 1;
        }
        for (size_t i = 1; i < n; i += 2)
            total_ms += v[i];
        if (bad || n % 2 || total_ms < 1)
            return errf(err, errlen,
                        "bad simulated meter 'sim%.200s': expected steps=W:MS[:W:MS...] (up to "
                        "%d levels, MS > 0, a period of at least 1 ms)",
                        arg, JB_SIM_MAX_STEPS);
        used = (size_t)snprintf(name, namelen, "steps");
        for (size_t i = 0; i < n; i += 2) {
            add_step(c, v[i], v[i + 1] / 1000.0);
            if (used < namelen)
                used += (size_t)snprintf(name + used, namelen - used, "%s %g W %g ms", i ? "," : "",
                                         v[i], v[i + 1]);
        }
        return 0;
    }
    if (!strncmp(load, "trace=", 6)) {
        if (!load[6])
            return errf(err, errlen, "bad simulated meter 'sim%.200s': no file", arg);
        c->shape = JB_SIM_TRACE;
        jb__strlcpy(c->trace_path, load + 6, sizeof(c->trace_path));
        snprintf(name, namelen, "trace %s", load + 6);
        return 0;
    }
    return errf(
        err, errlen,
        "unknown simulated meter 'sim%.200s' (expected sim, sim:const=W, "
        "sim:square=LOW_W:HIGH_W:PERIOD_MS:DUTY, sim:burst=LOW_W:HIGH_W:BURST_MS:EVERY_MS, "
        "sim:steps=W:MS[:W:MS...] or sim:trace=FILE, each optionally after sim:nvml[:OPTION=V"
        "...])",
        arg);
}

static const char *const loads[] = {"const=", "square=", "burst=", "steps=", "trace=", NULL};

static int is_load(const char *s)
{
    for (size_t i = 0; loads[i]; i++)
        if (!strncmp(s, loads[i], strlen(loads[i])))
            return 1;
    return 0;
}

/* The options of sim:nvml, "KEY=VALUE" tokens separated by ':'; *p moves past them. */
static int parse_nvml_options(const char *arg, const char **p, struct jb__sim_config *c, char *err,
                              size_t errlen)
{
    static const struct {
        const char *key;
        double max;
    } opts[] = {{"update_ms", 10000}, {"offset_ms", 10000}, {"jitter_ms", 1000},
                {"read_ms", 1000},    {"window_ms", 10000}, {"seed", 9007199254740992.0}};
    double val[6] = {100, 0, 0, 4, 25, 1};
    unsigned seen = 0;

    while (**p == ':' && !is_load(*p + 1)) {
        const char *tok = *p + 1, *eq = strchr(tok, '='), *end;
        size_t klen, i;

        for (klen = 0; tok[klen] && tok[klen] != ':' && tok[klen] != '='; klen++)
            ;
        for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
            if (strlen(opts[i].key) == klen && !strncmp(tok, opts[i].key, klen))
                break;
        if (i == sizeof(opts) / sizeof(opts[0]) || !eq || eq != tok + klen)
            return errf(err, errlen,
                        "bad simulated meter 'sim%.200s': unknown option '%.*s' (expected "
                        "update_ms, offset_ms, jitter_ms, read_ms, window_ms or seed, then a load)",
                        arg, (int)(klen > 40 ? 40 : klen), tok);
        if (seen & (1u << i))
            return errf(err, errlen, "bad simulated meter 'sim%.200s': option '%s' given twice",
                        arg, opts[i].key);
        seen |= 1u << i;
        if (parse_num(eq + 1, &end, 0, opts[i].max, &val[i]) < 0 || (*end && *end != ':') ||
            (i == 5 && val[i] != floor(val[i])))
            return errf(err, errlen,
                        "bad simulated meter 'sim%.200s': %s needs a number in 0..%g%s", arg,
                        opts[i].key, opts[i].max, i == 5 ? " (an integer)" : "");
        *p = end;
    }
    if (val[0] < 1)
        return errf(err, errlen, "bad simulated meter 'sim%.200s': update_ms must be >= 1", arg);
    if (val[1] >= val[0])
        return errf(err, errlen,
                    "bad simulated meter 'sim%.200s': offset_ms must be below update_ms (%g)", arg,
                    val[0]);
    if (val[2] > val[0] / 12)
        return errf(err, errlen,
                    "bad simulated meter 'sim%.200s': jitter_ms must be at most update_ms / 12 "
                    "(%g)",
                    arg, val[0] / 12);
    if (val[4] <= 0)
        return errf(err, errlen, "bad simulated meter 'sim%.200s': window_ms must be > 0", arg);
    c->update_s = val[0] / 1000;
    c->offset_s = val[1] / 1000;
    c->jitter_s = val[2] / 1000;
    c->read_s = val[3] / 1000;
    c->window_s = val[4] / 1000;
    c->seed = (uint64_t)val[5];
    return 0;
}

int jb__sim_parse(const char *arg, struct jb__sim_config *c, char *err, size_t errlen)
{
    const char *p = arg;
    char load_name[112];
    int rc;

    memset(c, 0, sizeof(*c));
    if (err && errlen)
        err[0] = '\0';
    if (!arg)
        return errf(err, errlen, "no simulated meter spec");
    if (strnlen(arg, JB_SIM_SPEC_MAX + 1) > JB_SIM_SPEC_MAX)
        return errf(err, errlen, "simulated meter spec longer than %d bytes", JB_SIM_SPEC_MAX);
    if (!*p) {
        add_step(c, 100, 1.0);
        c->shape = JB_SIM_STEPS;
        snprintf(c->name, sizeof(c->name), "simulated constant 100 W");
        return 0;
    }
    if (!strncmp(p, ":nvml", 5) && (p[5] == '\0' || p[5] == ':')) {
        c->nvml = 1;
        p += 5;
        if ((rc = parse_nvml_options(arg, &p, c, err, errlen)) < 0)
            return rc;
        if (!*p) {
            add_step(c, 100, 1.0);
            c->shape = JB_SIM_STEPS;
            snprintf(load_name, sizeof(load_name), "constant 100 W");
            goto named;
        }
    }
    if (*p != ':')
        return parse_load(arg, "", c, load_name, sizeof(load_name), err, errlen);
    if ((rc = parse_load(arg, p + 1, c, load_name, sizeof(load_name), err, errlen)) < 0)
        return rc;
named : {
    char full[sizeof(load_name) + 64];
    if (c->nvml)
        snprintf(full, sizeof(full), "simulated NVML-like (%g ms updates) %s", c->update_s * 1000,
                 load_name);
    else
        snprintf(full, sizeof(full), "simulated %s", load_name);
    jb__strlcpy(c->name, full, sizeof(c->name));
}
    return 0;
}

/* ---- the model (pure) ------------------------------------------------------------------ */

static size_t trace_find(const struct jb__sim *s, double t)
{
    size_t lo = 0, hi = s->n - 1;

    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->t_s[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

double jb__sim_power_w(const struct jb__sim *s, double t)
{
    if (s->cfg.shape == JB_SIM_TRACE) {
        size_t lo;
        if (t <= s->t_s[0])
            return s->p_w[0];
        if (t >= s->t_s[s->n - 1])
            return s->p_w[s->n - 1];
        lo = trace_find(s, t);
        return s->p_w[lo] +
               (s->p_w[lo + 1] - s->p_w[lo]) * (t - s->t_s[lo]) / (s->t_s[lo + 1] - s->t_s[lo]);
    } else {
        double r = t - floor(t / s->period_s) * s->period_s, start = 0;
        for (size_t i = 0; i < s->cfg.n_steps; i++) {
            if (r < start + s->cfg.step_s[i])
                return s->cfg.step_w[i];
            start += s->cfg.step_s[i];
        }
        return s->cfg.step_w[s->cfg.n_steps - 1];
    }
}

double jb__sim_energy_j(const struct jb__sim *s, double t)
{
    if (s->cfg.shape == JB_SIM_TRACE) {
        size_t lo, last = s->n - 1;
        if (t <= s->t_s[0])
            return s->p_w[0] * t;
        if (t >= s->t_s[last])
            return s->tcum_j[last] + s->p_w[last] * (t - s->t_s[last]);
        lo = trace_find(s, t);
        return s->tcum_j[lo] + (t - s->t_s[lo]) * (s->p_w[lo] + jb__sim_power_w(s, t)) / 2;
    } else {
        double n = floor(t / s->period_s), r = t - n * s->period_s, start = 0;
        for (size_t i = 0; i < s->cfg.n_steps; i++) {
            double len = s->cfg.step_s[i];
            if (r < start + len || i + 1 == s->cfg.n_steps) {
                double in = r - start > len ? len : r - start;
                return n * s->period_j + s->cum_j[i] + s->cfg.step_w[i] * in;
            }
            start += len;
        }
        return n * s->period_j;
    }
}

double jb__sim_true_energy_j(const struct jb__sim *s, double t0, double t1)
{
    return jb__sim_energy_j(s, t1) - jb__sim_energy_j(s, t0);
}

/* splitmix64: a deterministic pseudo-random 64-bit value of x. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

double jb__sim_update_s(const struct jb__sim *s, int64_t k)
{
    double u = s->cfg.offset_s + (double)k * s->cfg.update_s;

    if (s->cfg.jitter_s > 0) {
        /* Sum of four uniforms (Irwin-Hall), scaled to unit variance and clipped at 3 sd, so an
         * update never passes its neighbours (jitter_s <= update_s / 12). */
        uint64_t h = mix64(s->cfg.seed * 0x100000001b3ull ^ (uint64_t)k);
        double z = 0;
        for (int i = 0; i < 4; i++)
            z += (double)((h >> (16 * i)) & 0xffff) / 65535.0;
        z = (z - 2.0) / sqrt(4.0 / 12.0);
        if (z > 3)
            z = 3;
        if (z < -3)
            z = -3;
        u += z * s->cfg.jitter_s;
    }
    return u;
}

int64_t jb__sim_last_update(const struct jb__sim *s, double t)
{
    int64_t k = (int64_t)floor((t - s->cfg.offset_s) / s->cfg.update_s);

    while (jb__sim_update_s(s, k) > t)
        k--;
    while (jb__sim_update_s(s, k + 1) <= t)
        k++;
    return k;
}

static double whole_mj(double j)
{
    return floor(j * 1000.0);
}

double jb__sim_counter_j(const struct jb__sim *s, double t)
{
    double u = jb__sim_update_s(s, jb__sim_last_update(s, t));

    return (whole_mj(jb__sim_energy_j(s, u)) - s->origin_mj) / 1000.0;
}

double jb__sim_avg_power_w(const struct jb__sim *s, double t)
{
    double u = jb__sim_update_s(s, jb__sim_last_update(s, t));

    return round(jb__sim_true_energy_j(s, u - 1.0, u) * 1000.0) / 1000.0;
}

double jb__sim_instant_power_w(const struct jb__sim *s, double t)
{
    double u = jb__sim_update_s(s, jb__sim_last_update(s, t)), w = s->cfg.window_s;

    return round(jb__sim_true_energy_j(s, u - w, u) / w * 1000.0) / 1000.0;
}

static const char *file_kind(mode_t m)
{
    return S_ISFIFO(m)   ? "a FIFO"
           : S_ISDIR(m)  ? "a directory"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a plain file";
}

/* Opens a trace as a regular file only.  The open cannot block (O_NONBLOCK: fopen of a FIFO with
 * no writer waits forever), then fstat refuses anything but a regular file, and O_NONBLOCK is
 * cleared for the reads.  The tool has fs_open_regular for this; the library does not depend on
 * the tool's src/util, so it is done here. */
static FILE *open_trace(const char *path, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), fl;
    FILE *f;

    if (fd < 0) {
        snprintf(err, errlen, "cannot open simulated trace '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "cannot open simulated trace '%s': %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "cannot open simulated trace '%s': not a regular file (%s)", path,
                 file_kind(st.st_mode));
        close(fd);
        return NULL;
    }
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 || !(f = fdopen(fd, "r"))) {
        snprintf(err, errlen, "cannot open simulated trace '%s': %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    return f;
}

static int load_trace(struct jb__sim *s, const char *path, char *err, size_t errlen)
{
    FILE *f = open_trace(path, err, errlen);
    char line[256];
    size_t cap = 0;
    long lineno = 0;
    int rc = 0;

    if (!f)
        return JB_EIO;
    while (fgets(line, sizeof(line), f)) {
        const char *end;
        double t, p;
        lineno++;
        if (line[0] == '#' || line[0] == '\n' || (lineno == 1 && strchr("tT", line[0])))
            continue; /* comment, blank, or the "t_s,power_w" header */
        if (parse_num(line, &end, 0, 1e9, &t) < 0 || *end != ',' ||
            parse_num(end + 1, &end, 0, MAX_W, &p) < 0 || (*end && *end != '\n' && *end != '\r')) {
            snprintf(err, errlen, "%s:%ld: expected 't_s,power_w' with t_s >= 0 and power_w >= 0",
                     path, lineno);
            rc = JB_EPARSE;
            goto out;
        }
        if (s->n && t <= s->t_s[s->n - 1]) {
            snprintf(err, errlen, "%s:%ld: t_s must increase", path, lineno);
            rc = JB_EPARSE;
            goto out;
        }
        if (s->n == MAX_TRACE_ROWS) {
            snprintf(err, errlen, "%s:%ld: more than %u rows", path, lineno, MAX_TRACE_ROWS);
            rc = JB_EPARSE;
            goto out;
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
                snprintf(err, errlen, "out of memory reading '%s'", path);
                rc = JB_ENOMEM;
                goto out;
            }
            cap = nc;
        }
        s->t_s[s->n] = t;
        s->p_w[s->n] = p;
        s->n++;
    }
    if (!s->n) {
        snprintf(err, errlen, "%s: no 't_s,power_w' rows", path);
        rc = JB_EPARSE;
        goto out;
    }
    s->tcum_j = malloc(s->n * sizeof(double));
    if (!s->tcum_j) {
        snprintf(err, errlen, "out of memory reading '%s'", path);
        rc = JB_ENOMEM;
        goto out;
    }
    s->tcum_j[0] = s->p_w[0] * s->t_s[0];
    for (size_t i = 1; i < s->n; i++)
        s->tcum_j[i] =
            s->tcum_j[i - 1] + (s->t_s[i] - s->t_s[i - 1]) * (s->p_w[i] + s->p_w[i - 1]) / 2;
out:
    fclose(f);
    return rc;
}

int jb__sim_init(struct jb__sim *s, const struct jb__sim_config *cfg, char *err, size_t errlen)
{
    int rc;

    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    if (cfg->shape == JB_SIM_TRACE) {
        if ((rc = load_trace(s, cfg->trace_path, err, errlen)) < 0) {
            jb__sim_release(s);
            return rc;
        }
    } else {
        for (size_t i = 0; i < cfg->n_steps; i++) {
            s->cum_j[i + 1] = s->cum_j[i] + cfg->step_w[i] * cfg->step_s[i];
            s->period_s += cfg->step_s[i];
        }
        s->period_j = s->cum_j[cfg->n_steps];
    }
    if (cfg->nvml)
        s->origin_mj =
            whole_mj(jb__sim_energy_j(s, jb__sim_update_s(s, jb__sim_last_update(s, 0))));
    return 0;
}

void jb__sim_release(struct jb__sim *s)
{
    free(s->t_s);
    free(s->p_w);
    free(s->tcum_j);
    s->t_s = s->p_w = s->tcum_j = NULL;
    s->n = 0;
}

/* ---- the meter ------------------------------------------------------------------------- */

struct sim_meter {
    struct jb__sim model;
    uint64_t t0_ns; /* the model's origin */
};

static double since(const struct sim_meter *sm, uint64_t t_ns)
{
    return t_ns >= sm->t0_ns ? (double)(t_ns - sm->t0_ns) / 1e9 : -(double)(sm->t0_ns - t_ns) / 1e9;
}

static int sim_read_sample(struct jb_meter *m, struct jb_sample *out, struct jb_errbuf *err)
{
    const struct sim_meter *sm = m->priv;
    double t;
    (void)err;

    out->t_mono_ns = jb_now_ns();
    t = since(sm, out->t_mono_ns);
    if (sm->model.cfg.nvml) {
        out->power_w = jb__sim_avg_power_w(&sm->model, t);
        out->power_instant_w = jb__sim_instant_power_w(&sm->model, t);
        out->valid = JB_CAP_POWER | JB_CAP_POWER_INSTANT;
    } else {
        out->power_w = jb__sim_power_w(&sm->model, t);
        out->valid = JB_CAP_POWER;
    }
    return 0;
}

static void sleep_s(double s)
{
    struct timespec ts;

    if (s <= 0)
        return;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int sim_read_energy(struct jb_meter *m, struct jb_energy *e, struct jb_errbuf *err)
{
    const struct sim_meter *sm = m->priv;
    (void)err;

    if (sm->model.cfg.nvml) {
        /* A read takes read_s of wall time; the value is latched in the middle of it, where
         * the reading is stamped (as gpu_nvml.c stamps a real one). */
        uint64_t t0 = jb_now_ns(), t1;
        sleep_s(sm->model.cfg.read_s);
        t1 = jb_now_ns();
        e->t_mono_ns = t0 + (t1 - t0) / 2;
        e->energy_j = jb__sim_counter_j(&sm->model, since(sm, e->t_mono_ns));
        return 0;
    }
    e->t_mono_ns = jb_now_ns();
    e->energy_j = jb__sim_energy_j(&sm->model, since(sm, e->t_mono_ns));
    return 0;
}

static void sim_close(struct jb_meter *m)
{
    struct sim_meter *sm = m->priv;

    if (sm) {
        jb__sim_release(&sm->model);
        free(sm);
    }
    m->priv = NULL;
}

static const struct jb_meter_ops sim_ops = {sim_read_sample, sim_read_energy, sim_close};

const struct jb__sim *jb__sim_of_meter(const struct jb_meter *m, uint64_t *origin_ns)
{
    const struct sim_meter *sm;

    if (!m || m->ops != &sim_ops)
        return NULL;
    sm = m->priv;
    if (origin_ns)
        *origin_ns = sm->t0_ns;
    return &sm->model;
}

int jb__sim_add(struct jb_meter_set *set, const char *arg)
{
    struct jb_meter *m = NULL;
    struct sim_meter *sm = NULL;
    struct jb__sim_config *cfg = malloc(sizeof(*cfg));
    char err[600];
    int rc;

    if (!cfg || !(m = jb__meter_new(&sim_ops)) || !(sm = calloc(1, sizeof(*sm)))) {
        rc = jb__meter_set_fail(set, JB_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = jb__sim_parse(arg, cfg, err, sizeof(err))) < 0 ||
        (rc = jb__sim_init(&sm->model, cfg, err, sizeof(err))) < 0) {
        rc = jb__meter_set_fail(set, rc, "%s", err);
        goto fail;
    }
    m->priv = sm;
    sm = NULL;
    jb__strlcpy(m->info.name, cfg->name, sizeof(m->info.name));
    ((struct sim_meter *)m->priv)->t0_ns = jb_now_ns();
    m->info.kind = JB_KIND_SIM;
    jb__strlcpy(m->info.source, "sim", sizeof(m->info.source));
    m->info.simulated = 1;
    m->info.caps = JB_CAP_ENERGY | JB_CAP_POWER | (cfg->nvml ? JB_CAP_POWER_INSTANT : 0);
    m->info.device_index = (int)jb__meter_set_count_kind(set, JB_KIND_SIM);
    free(cfg);
    return jb__meter_set_append(set, m);
fail:
    free(cfg);
    free(sm);
    jb__meter_free(m);
    return rc;
}
