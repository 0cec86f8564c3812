/*
 * measure.c - one measured execution of a command (see measure.h): meters, sampler, idle
 * baseline, child process with the phase pipe, signal forwarding, timeout, and the run directory.
 *
 * Threads: the sampler's two threads deliver readings through sink_* callbacks, which take
 * `lock`; the main thread runs a poll loop over the child's pipes and a self-pipe fed by signal
 * handlers, and takes `lock` around the phase accountant.  It never holds `lock` while asking the
 * sampler for a reading (the sampler calls back into the sink, which takes `lock`).
 *
 * Signals are process-wide, so measure_run is not reentrant: one measurement per process at a
 * time (the runner runs concurrent measurements as separate processes).
 *
 * Run directory safety: samples.csv and the logs stream into *.partial files that are flushed
 * every second; at the end every file is renamed into place and manifest.json is written last,
 * through a temporary name.  A crash, kill or full disk leaves no manifest (or the old files of
 * an earlier attempt but no complete manifest), so the run counts as not done.
 */
#include "run/measure.h"

#include "rundir/rundir.h"

#include "json.h"
#include "util/carbon.h"
#include "util/fsutil.h"
#include "util/jsonw.h"
#include "util/spawn.h"
#include "util/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STDERR_TAIL_BYTES 2048
#define MAX_LINE 65536

/*
 * After the command ends the sampler runs on for MEASURE_TAIL_S (longer for a slow counter:
 * 2.5 update periods, at most MEASURE_TAIL_MAX_S) when a meter's counter is a step function, so
 * that the last phases get the counter updates after their end that the estimator needs (two
 * updates past a bound; docs/METHODOLOGY.md).  Without it they would be resolved at
 * jb_phases_finish with only the updates before their end: a wider interval, and the tail of the
 * command smeared.  Exact counters need no tail.
 */
#define MEASURE_TAIL_S 0.25
#define MEASURE_TAIL_PERIODS 2.5
#define MEASURE_TAIL_MAX_S 2.0

struct metric {
    char phase[32];
    long index;
    char name[64];
    double value;
};

struct info_kv {
    char name[64];
    int is_number;
    double number;
    char text[128];
};

/* A child output stream: relayed and/or captured. */
struct stream {
    int fd;        /* read end; -1 when closed */
    int echo_fd;   /* where to relay; -1 for none */
    FILE *capture; /* NULL for none */
    int is_stderr;
};

struct meas {
    const struct measure_opts *o;
    struct jb_meter_set *set;
    size_t n;
    struct jb_sampler *sampler;
    pthread_mutex_t lock;
    struct jb_phases *phases;
    struct measure_result *r; /* phase results land here as they resolve (on_phase_result) */
    size_t keep_phases, cap_phases, cap_aggs;
    int phases_oom;
    size_t flag_counts[8]; /* phase results per JB_PHASE_FLAG_* bit (index: bit position) */
    FILE *phases_out;      /* phases.csv.partial, streamed as phases resolve; NULL without rundir */
    int phases_error;
    char phases_errmsg[256];
    FILE *samples; /* samples.csv.partial; NULL without a run directory or after a write error */
    int samples_error;
    struct strbuf row; /* samples_put's buffer */
    char samples_errmsg[256];
    uint64_t t0_ns; /* anchor of t_s */
    struct timespec t0_utc;
    uint64_t cmd_begin_ns, cmd_end_ns; /* 0 until set */
    double *last_power_w;              /* per meter, NaN none */
    double *peak_power_w;              /* per meter, during the command */
    char **meter_errors;               /* per meter: failure message, once */
    struct metric *metrics;
    size_t n_metrics, cap_metrics;
    struct info_kv *infos;
    size_t n_infos, cap_infos;
    char stderr_tail[STDERR_TAIL_BYTES + 1];
    size_t stderr_tail_len;
    void (*warn)(void *user, const char *msg);
    size_t n_protocol_errors;
};

/* ---- signals ------------------------------------------------------------------------------ */

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig, siginfo_t *si, void *ctx)
{
    /* Async-signal-safe: one byte for the signal, one for "sent by a process" (kill(2)) rather
     * than by the terminal, so that a terminal Ctrl-C, which already reached a child in our
     * process group, is not forwarded twice. */
    unsigned char msg[2] = {(unsigned char)sig, (unsigned char)(si && si->si_code == SI_USER)};
    int saved = errno;
    (void)ctx;
    if (sig_pipe[1] >= 0) {
        ssize_t n = write(sig_pipe[1], msg, sizeof(msg));
        (void)n;
    }
    errno = saved;
}

struct saved_signals {
    struct sigaction int_, term, chld, pipe_;
};

static int install_signals(struct saved_signals *old)
{
    struct sigaction sa;

    if (pipe(sig_pipe) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
        fcntl(sig_pipe[i], F_SETFL, O_NONBLOCK);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old->int_);
    sigaction(SIGTERM, &sa, &old->term);
    sigaction(SIGCHLD, &sa, &old->chld);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old->pipe_);
    return 0;
}

static void restore_signals(const struct saved_signals *old)
{
    sigaction(SIGINT, &old->int_, NULL);
    sigaction(SIGTERM, &old->term, NULL);
    sigaction(SIGCHLD, &old->chld, NULL);
    sigaction(SIGPIPE, &old->pipe_, NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
}

/* ---- helpers ------------------------------------------------------------------------------ */

const char *measure_status_name(enum measure_status s)
{
    switch (s) {
    case MEASURE_COMPLETE: return "complete";
    case MEASURE_FAILED: return "failed";
    case MEASURE_INTERRUPTED: return "interrupted";
    }
    return "failed";
}

static void warnf(struct meas *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warnf(struct meas *m, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (m->warn)
        m->warn(m->o->user, buf);
}

static double t_rel(const struct meas *m, uint64_t t_ns)
{
    return ((double)t_ns - (double)m->t0_ns) / 1e9;
}

static void utc_string(const struct timespec *ts, char *out, size_t n)
{
    struct tm tm;

    gmtime_r(&ts->tv_sec, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000);
}

/* ---- sampler sink (sampler threads) --------------------------------------------------------- */

static void samples_write_error(struct meas *m)
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
        samples_write_error(m);
}

static void sink_sample(void *user, size_t i, const struct jb_sample *s)
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
        warnf(m, "%s: %s", info->id, jb_phases_errmsg(m->phases));
    if (m->samples && !m->samples_error) {
        double v[RUNDIR_S_NCOLS - 2];
        rundir_sample_values(s, v);
        samples_put(m, t_rel(m, s->t_mono_ns), info->id, v);
    }
    pthread_mutex_unlock(&m->lock);
}

static void sink_energy(void *user, size_t i, const struct jb_energy *e)
{
    struct meas *m = user;
    const struct jb_meter_info *info = jb_meter_get_info(jb_meter_set_get(m->set, i));

    pthread_mutex_lock(&m->lock);
    if (jb_phases_add_energy(m->phases, i, e) < 0)
        warnf(m, "%s: %s", info->id, jb_phases_errmsg(m->phases));
    if (m->samples && !m->samples_error) {
        double v[RUNDIR_S_NCOLS - 2];
        for (int k = 0; k < RUNDIR_S_NCOLS - 2; k++)
            v[k] = NAN;
        v[RUNDIR_S_ENERGY_J - RUNDIR_S_POWER_W] = e->energy_j;
        samples_put(m, t_rel(m, e->t_mono_ns), info->id, v);
    }
    pthread_mutex_unlock(&m->lock);
}

static void sink_error(void *user, size_t i, int code, const char *msg)
{
    struct meas *m = user;
    const struct jb_meter_info *info = jb_meter_get_info(jb_meter_set_get(m->set, i));

    pthread_mutex_lock(&m->lock);
    if (!m->meter_errors[i]) {
        char buf[700];
        snprintf(buf, sizeof(buf), "meter %s stopped: %s (%s); readings up to now are kept",
                 info->id, msg && *msg ? msg : jb_strerror(code), jb_strerror(code));
        m->meter_errors[i] = strdup(buf);
        warnf(m, "%s", buf);
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
static void on_phase_result(void *user, const struct jb_phase_result *p)
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

/* ---- protocol events (main thread) --------------------------------------------------------- */

static void add_metric(struct meas *m, const struct jb_event *ev)
{
    for (size_t i = 0; i < ev->n_values; i++) {
        struct metric *mt;
        if (!ev->values[i].is_number)
            continue;
        if (m->n_metrics == m->cap_metrics) {
            size_t nc = m->cap_metrics ? m->cap_metrics * 2 : 64;
            struct metric *p = realloc(m->metrics, nc * sizeof(*p));
            if (!p)
                return;
            m->metrics = p;
            m->cap_metrics = nc;
        }
        mt = &m->metrics[m->n_metrics++];
        memcpy(mt->phase, ev->phase, sizeof(mt->phase));
        mt->index = ev->index;
        memcpy(mt->name, ev->values[i].name, sizeof(mt->name));
        mt->value = ev->values[i].number;
    }
}

static void add_info(struct meas *m, const struct jb_event *ev)
{
    for (size_t i = 0; i < ev->n_values; i++) {
        struct info_kv *kv = NULL;
        for (size_t k = 0; k < m->n_infos; k++)
            if (!strcmp(m->infos[k].name, ev->values[i].name))
                kv = &m->infos[k]; /* a later value replaces an earlier one */
        if (!kv) {
            if (m->n_infos == m->cap_infos) {
                size_t nc = m->cap_infos ? m->cap_infos * 2 : 16;
                struct info_kv *p = realloc(m->infos, nc * sizeof(*p));
                if (!p)
                    return;
                m->infos = p;
                m->cap_infos = nc;
            }
            kv = &m->infos[m->n_infos++];
        }
        memcpy(kv->name, ev->values[i].name, sizeof(kv->name));
        kv->is_number = ev->values[i].is_number;
        kv->number = ev->values[i].number;
        memcpy(kv->text, ev->values[i].text, sizeof(kv->text));
    }
}

static void handle_line(struct meas *m, const char *line, size_t len, unsigned long lineno)
{
    struct jb_event ev;
    char err[256];
    uint64_t now = jb_now_ns();
    int rc = 0, bound = 0;

    while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (!len)
        return;
    if (jb_event_parse(line, len, &ev, err, sizeof(err)) < 0) {
        m->n_protocol_errors++;
        warnf(m, "protocol line %lu: %s (line skipped)", lineno, err);
        return;
    }
    if ((ev.valid & JB_EVENT_T) && ev.t_mono_ns > now + 1000000000ull) {
        m->n_protocol_errors++;
        warnf(m,
              "protocol line %lu: field 't' is %.3f s in the future: not CLOCK_MONOTONIC "
              "nanoseconds? (line skipped)",
              lineno, (double)(ev.t_mono_ns - now) / 1e9);
        return;
    }
    pthread_mutex_lock(&m->lock);
    switch (ev.type) {
    case JB_EVENT_BEGIN:
        rc = jb_phases_begin(m->phases, ev.phase, ev.index, ev.t_mono_ns);
        bound = 1;
        break;
    case JB_EVENT_END:
        rc = jb_phases_end(m->phases, ev.phase, ev.index, ev.t_mono_ns,
                           (ev.valid & JB_EVENT_ITEMS) ? &ev.items : NULL);
        bound = 1;
        break;
    case JB_EVENT_METRIC: add_metric(m, &ev); break;
    case JB_EVENT_INFO: add_info(m, &ev); break;
    }
    if (rc < 0) {
        m->n_protocol_errors++;
        warnf(m, "protocol line %lu: %s (line skipped)", lineno, jb_phases_errmsg(m->phases));
    }
    pthread_mutex_unlock(&m->lock);
    /* A counter reading right at the bound tightens the interpolation around it. */
    if (bound && rc == 0)
        jb_sampler_read_energy_now(m->sampler);
}

struct linebuf {
    char *buf;
    size_t len, cap;
    unsigned long lineno;
    int overlong;
};

static void protocol_feed(struct meas *m, struct linebuf *lb, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = data[i];
        if (c == '\n') {
            lb->lineno++;
            if (lb->overlong) {
                m->n_protocol_errors++;
                warnf(m, "protocol line %lu: longer than %d bytes (line skipped)", lb->lineno,
                      MAX_LINE);
            } else {
                handle_line(m, lb->buf ? lb->buf : "", lb->len, lb->lineno);
            }
            lb->len = 0;
            lb->overlong = 0;
            continue;
        }
        if (lb->overlong)
            continue;
        if (lb->len + 1 >= MAX_LINE) {
            lb->overlong = 1;
            continue;
        }
        if (lb->len + 1 >= lb->cap) {
            size_t nc = lb->cap ? lb->cap * 2 : 1024;
            char *p = realloc(lb->buf, nc);
            if (!p) {
                lb->overlong = 1;
                continue;
            }
            lb->buf = p;
            lb->cap = nc;
        }
        lb->buf[lb->len++] = c;
    }
}

/* ---- child output ------------------------------------------------------------------------ */

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* our own stdout gone: keep measuring */
        }
        p += w;
        n -= (size_t)w;
    }
}

static void stream_data(struct meas *m, struct stream *s, const char *buf, size_t n)
{
    if (s->echo_fd >= 0)
        write_all(s->echo_fd, buf, n);
    if (s->capture)
        fwrite(buf, 1, n, s->capture);
    if (s->is_stderr) {
        /* Keep the last STDERR_TAIL_BYTES for the manifest of a failed run. */
        if (n >= STDERR_TAIL_BYTES) {
            memcpy(m->stderr_tail, buf + n - STDERR_TAIL_BYTES, STDERR_TAIL_BYTES);
            m->stderr_tail_len = STDERR_TAIL_BYTES;
        } else {
            size_t keep = m->stderr_tail_len + n > STDERR_TAIL_BYTES ? STDERR_TAIL_BYTES - n
                                                                     : m->stderr_tail_len;
            memmove(m->stderr_tail, m->stderr_tail + m->stderr_tail_len - keep, keep);
            memcpy(m->stderr_tail + keep, buf, n);
            m->stderr_tail_len = keep + n;
        }
        m->stderr_tail[m->stderr_tail_len] = '\0';
    }
}

/* ---- spawning ----------------------------------------------------------------------------- */

/*
 * Starts the command through the shared spawner (util/spawn.h): the environment (environ,
 * env_extra, JOULEBENCH_FD=proto_w) built before fork, the protocol pipe's write end kept across
 * the exec, stdout/stderr onto the capture pipes, stdin /dev/null in a new process group, and
 * SIGKILL when we die: killed by SIGKILL, we could not stop it, and it would go on loading the
 * device (and writing) unobserved while a resumed runner measures again.  -1 with the message in
 * err and errno the child's (exec's or chdir's) errno.
 */
static pid_t spawn(const struct measure_opts *o, int proto_w, int out_w, int err_w, int new_pgrp,
                   char *err, size_t errlen)
{
    char fdvar[32], **add, **env;
    size_t n_extra = 0, nd = 0;
    struct spawn_dup dups[3];
    struct spawn_opts so;
    struct spawn_error se;
    pid_t pid;

    while (o->env_extra && o->env_extra[n_extra])
        n_extra++;
    add = calloc(n_extra + 2, sizeof(char *));
    if (!add) {
        snprintf(err, errlen, "out of memory");
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < n_extra; i++)
        add[i] = o->env_extra[i];
    snprintf(fdvar, sizeof(fdvar), "JOULEBENCH_FD=%d", proto_w);
    add[n_extra] = fdvar; /* replaces an inherited JOULEBENCH_FD */
    env = spawn_env(NULL, add);
    if (!env) {
        free(add);
        snprintf(err, errlen, "out of memory");
        errno = ENOMEM;
        return -1;
    }
    if (out_w >= 0)
        dups[nd++] = (struct spawn_dup){out_w, STDOUT_FILENO};
    if (err_w >= 0)
        dups[nd++] = (struct spawn_dup){err_w, STDERR_FILENO};
    if (new_pgrp)
        dups[nd++] = (struct spawn_dup){SPAWN_DEVNULL, STDIN_FILENO};
    memset(&so, 0, sizeof(so));
    so.argv = o->argv;
    so.envp = env;
    so.workdir = o->workdir;
    so.dups = dups;
    so.n_dups = nd;
    so.keep_fds = &proto_w;
    so.n_keep_fds = 1;
    so.new_pgrp = new_pgrp;
    so.death_signal = SIGKILL;
    pid = spawn_start(&so, &se);
    free(env);
    free(add);
    if (pid < 0) {
        spawn_error_text(&so, &se, err, errlen);
        errno = se.err;
    }
    return pid;
}

/* ---- writing the run directory ------------------------------------------------------------- */

static const char *energy_source(const struct jb_meter_info *info)
{
    if (info->simulated)
        return "simulated";
    return (info->caps & JB_CAP_ENERGY) ? "counter" : "power-integral";
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

/* Energy of the phase result best suited as "the" energy: counter, else power integral. */
static double best_energy(const struct jb_phase_result *r)
{
    if (r->valid & JB_PHASE_ENERGY)
        return r->energy_j;
    if (r->valid & JB_PHASE_ENERGY_POWER)
        return r->energy_j_power;
    return NAN;
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
    jw_key(&w, "meters");
    jw_array_begin(&w);
    for (size_t i = 0; i < m->n; i++) {
        const struct jb_meter_info *info = jb_meter_get_info(jb_meter_set_get(m->set, i));
        jw_object_begin(&w);
        jw_kv_string(&w, "id", info->id);
        jw_kv_string(&w, "kind", jb_meter_kind_name(info->kind));
        jw_kv_string(&w, "source", info->source);
        jw_kv_string(&w, "name", info->name);
        if (info->uuid[0])
            jw_kv_string(&w, "uuid", info->uuid);
        if (info->pci_bus_id[0])
            jw_kv_string(&w, "pci_bus_id", info->pci_bus_id);
        if (info->driver[0])
            jw_kv_string(&w, "driver", info->driver);
        if (info->valid & JB_INFO_POWER_LIMIT)
            jw_kv_number(&w, "power_limit_w", info->power_limit_w);
        if (info->valid & JB_INFO_MEMORY_TOTAL)
            jw_kv_number(&w, "memory_total_mib", info->memory_total_mib);
        jw_kv_bool(&w, "simulated", info->simulated);
        write_caps(&w, info->caps);
        jw_kv_string(&w, "energy_source", energy_source(info));
        write_counter_stats(&w, jb_phases_meter_stats(m->phases, i));
        if (m->meter_errors[i])
            jw_kv_string(&w, "error", m->meter_errors[i]);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    utc_string(&m->t0_utc, buf, sizeof(buf));
    jw_kv_string(&w, "start_utc", buf);
    utc_string(end_utc, buf, sizeof(buf));
    jw_kv_string(&w, "end_utc", buf);
    jw_kv_number(&w, "duration_s", r->duration_s);
    jw_key(&w, "command_start_s");
    m->cmd_begin_ns ? jw_number(&w, t_rel(m, m->cmd_begin_ns)) : jw_null(&w);
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
    jw_key(&w, "idle");
    if (idle_s > 0) {
        jw_object_begin(&w);
        jw_kv_number(&w, "duration_s", idle_s);
        jw_key(&w, "meters");
        jw_object_begin(&w);
        for (size_t i = 0; i < r->n_meters; i++) {
            jw_key(&w, r->meters[i].id);
            jw_object_begin(&w);
            jw_kv_number(&w, "avg_power_w", r->meters[i].idle_power_w);
            jw_kv_number(&w, "energy_j", r->meters[i].idle_power_w * idle_s);
            jw_object_end(&w);
        }
        jw_object_end(&w);
        jw_object_end(&w);
    } else {
        jw_null(&w);
    }
    jw_key(&w, "info");
    jw_object_begin(&w);
    for (size_t i = 0; i < m->n_infos; i++) {
        if (m->infos[i].is_number)
            jw_kv_number(&w, m->infos[i].name, m->infos[i].number);
        else
            jw_kv_string(&w, m->infos[i].name, m->infos[i].text);
    }
    jw_object_end(&w);
    jw_key(&w, "totals");
    jw_array_begin(&w);
    for (size_t i = 0; i < r->n_meters; i++) {
        const struct measure_meter_total *t = &r->meters[i];
        jw_object_begin(&w);
        jw_kv_string(&w, "meter", t->id);
        jw_kv_number(&w, "energy_j", t->energy_j);
        jw_kv_number(&w, "energy_j_power", t->energy_j_power);
        jw_kv_string(&w, "energy_source", t->energy_source);
        jw_kv_number(&w, "avg_power_w", t->avg_power_w);
        jw_kv_number(&w, "peak_power_w", t->peak_power_w);
        if (!isnan(t->net_energy_j))
            jw_kv_number(&w, "net_energy_j", t->net_energy_j);
        write_command_estimate(&w, r, i);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    if (getenv("SLURM_JOB_ID")) {
        static const char *keys[][2] = {{"job_id", "SLURM_JOB_ID"},
                                        {"array_job_id", "SLURM_ARRAY_JOB_ID"},
                                        {"array_task_id", "SLURM_ARRAY_TASK_ID"},
                                        {"node", "SLURMD_NODENAME"}};
        jw_key(&w, "slurm");
        jw_object_begin(&w);
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (getenv(keys[i][1]))
                jw_kv_string(&w, keys[i][0], getenv(keys[i][1]));
        jw_object_end(&w);
    }
    if (getenv("CUDA_VISIBLE_DEVICES"))
        jw_kv_string(&w, "cuda_visible_devices", getenv("CUDA_VISIBLE_DEVICES"));
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

/* The run directory's files after the command: the streamed ones committed (fsync, rename),
 * then metrics.csv and, last, manifest.json.  Each file is old or new, never a mix; a failure
 * leaves no manifest, so the run counts as not done. */
static int write_rundir(struct meas *m, const struct measure_result *r, struct stream *out,
                        struct stream *errs, const struct timespec *end_utc, double idle_s,
                        char *err, size_t errlen)
{
    const char *dir = m->o->rundir;
    struct strbuf sb = STRBUF_INIT;
    int bad;

    bad = rundir_commit_partial(m->samples, m->samples_error, dir, "samples.csv", err, errlen);
    m->samples = NULL;
    for (int k = 0; k < 2; k++) {
        struct stream *s = k ? errs : out;
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

/* ---- the measurement --------------------------------------------------------------------- */

static void compute_totals(struct meas *m, struct measure_result *r, double idle_s)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct jb_meter_info *info = jb_meter_get_info(jb_meter_set_get(m->set, i));
        struct measure_meter_total *t = &r->meters[i];

        snprintf(t->id, sizeof(t->id), "%s", info->id);
        snprintf(t->name, sizeof(t->name), "%s", info->name);
        snprintf(t->energy_source, sizeof(t->energy_source), "%s", energy_source(info));
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

/* Keeps the sampler running after the command for the counter updates the last phases need
 * (MEASURE_TAIL_S); nothing when no meter's counter is a step function.  Signals arriving
 * meanwhile wait in the self-pipe: the command has ended, the run is being written. */
static void sampler_tail(struct meas *m)
{
    double tail_s = 0;

    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n; i++) {
        const struct jb_phases_meter_stats *st = jb_phases_meter_stats(m->phases, i);
        double want;
        if (!st || !st->stepped || m->meter_errors[i])
            continue;
        want = MEASURE_TAIL_PERIODS * st->update_period_s;
        want = want > MEASURE_TAIL_S ? want : MEASURE_TAIL_S;
        tail_s = want > tail_s ? want : tail_s;
    }
    pthread_mutex_unlock(&m->lock);
    if (tail_s <= 0)
        return;
    if (tail_s > MEASURE_TAIL_MAX_S)
        tail_s = MEASURE_TAIL_MAX_S;
    {
        uint64_t end = jb_now_ns() + (uint64_t)(tail_s * 1e9);
        for (uint64_t now = jb_now_ns(); now < end; now = jb_now_ns()) {
            struct timespec ts = {0, (long)(end - now)};
            if (end - now >= 1000000000ull)
                ts = (struct timespec){1, 0};
            nanosleep(&ts, NULL); /* EINTR (a signal): go on sleeping */
        }
    }
    jb_sampler_read_energy_now(m->sampler);
}

/* Sleeps up to secs, returning early (1) when SIGINT/SIGTERM arrives. */
static int idle_wait(double secs, int *got_signal)
{
    uint64_t end = jb_now_ns() + (uint64_t)(secs * 1e9);

    for (;;) {
        uint64_t now = jb_now_ns();
        struct pollfd pfd = {sig_pipe[0], POLLIN, 0};
        int ms;
        if (now >= end)
            return 0;
        ms = (int)((end - now) / 1000000ull) + 1;
        if (poll(&pfd, 1, ms) > 0) {
            unsigned char msg[2];
            while (read(sig_pipe[0], msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
                if (msg[0] == SIGINT || msg[0] == SIGTERM) {
                    *got_signal = msg[0];
                    return 1;
                }
            }
        }
    }
}

struct child {
    pid_t pid;
    int new_pgrp;
    int exited;
    int wstatus;
    struct rusage ru; /* from wait4 */
};

static void kill_child(const struct child *c, int sig)
{
    if (c->exited)
        return;
    if (c->new_pgrp)
        kill(-c->pid, sig);
    else
        kill(c->pid, sig);
}

static void reap(struct child *c, struct meas *m)
{
    int st;

    if (c->exited)
        return;
    if (wait4(c->pid, &st, WNOHANG, &c->ru) == c->pid) {
        c->exited = 1;
        c->wstatus = st;
        m->cmd_end_ns = jb_now_ns();
        jb_sampler_read_energy_now(m->sampler); /* a reading right at the end */
    }
}

/* The main loop: relay output, parse the protocol, forward signals, enforce the timeout. */
static void supervise(struct meas *m, struct child *c, int proto_fd, struct stream *out,
                      struct stream *errs, struct measure_result *r)
{
    const struct measure_opts *o = m->o;
    struct linebuf lb = {NULL, 0, 0, 0, 0};
    double grace_s = o->grace_s > 0 ? o->grace_s : 10;
    uint64_t deadline = o->timeout_s > 0 ? m->cmd_begin_ns + (uint64_t)(o->timeout_s * 1e9) : 0;
    uint64_t kill_at = 0, drain_until = 0, next_live = jb_now_ns() + 1000000000ull;
    char buf[65536];

    for (;;) {
        struct pollfd pfd[4];
        int nfds = 0, idx_proto = -1, idx_out = -1, idx_err = -1, timeout_ms = 200;
        uint64_t now;

        pfd[nfds++] = (struct pollfd){sig_pipe[0], POLLIN, 0};
        if (proto_fd >= 0) {
            idx_proto = nfds;
            pfd[nfds++] = (struct pollfd){proto_fd, POLLIN, 0};
        }
        if (out->fd >= 0) {
            idx_out = nfds;
            pfd[nfds++] = (struct pollfd){out->fd, POLLIN, 0};
        }
        if (errs->fd >= 0) {
            idx_err = nfds;
            pfd[nfds++] = (struct pollfd){errs->fd, POLLIN, 0};
        }
        if (poll(pfd, (nfds_t)nfds, timeout_ms) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents & POLLIN) {
            unsigned char msg[2];
            while (read(sig_pipe[0], msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
                if (msg[0] != SIGINT && msg[0] != SIGTERM)
                    continue; /* SIGCHLD: reaped below */
                if (!r->got_signal)
                    r->got_signal = msg[0];
                /* A terminal's Ctrl-C already reached a child in our process group. */
                if (c->new_pgrp || msg[1])
                    kill_child(c, msg[0]);
                if (!kill_at)
                    kill_at = jb_now_ns() + (uint64_t)(grace_s * 1e9);
            }
        }
        if (idx_proto >= 0 && (pfd[idx_proto].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(proto_fd, buf, sizeof(buf));
            if (n > 0) {
                protocol_feed(m, &lb, buf, (size_t)n);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                if (lb.len) /* last line without newline */
                    protocol_feed(m, &lb, "\n", 1);
                close(proto_fd);
                proto_fd = -1;
            }
        }
        for (int k = 0; k < 2; k++) {
            int ix = k ? idx_err : idx_out;
            struct stream *s = k ? errs : out;
            if (ix < 0 || !(pfd[ix].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(s->fd, buf, sizeof(buf));
            if (n > 0) {
                stream_data(m, s, buf, (size_t)n);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(s->fd);
                s->fd = -1;
            }
        }
        reap(c, m);
        now = jb_now_ns();
        if (!c->exited && deadline && now >= deadline && !r->timed_out) {
            r->timed_out = 1;
            kill_child(c, SIGTERM);
            kill_at = now + (uint64_t)(grace_s * 1e9);
            warnf(m, "timed out after %g s: sent SIGTERM to the command", o->timeout_s);
        }
        if (!c->exited && kill_at && now >= kill_at) {
            kill_child(c, SIGKILL);
            kill_at = UINT64_MAX; /* once */
        }
        if (now >= next_live) {
            next_live = now + 1000000000ull;
            pthread_mutex_lock(&m->lock);
            if (m->samples && !m->samples_error && fflush(m->samples) != 0)
                samples_write_error(m);
            if (o->on_live) {
                struct measure_live live = {t_rel(m, now) - t_rel(m, m->cmd_begin_ns), m->n,
                                            m->last_power_w};
                o->on_live(o->user, &live);
            }
            pthread_mutex_unlock(&m->lock);
            if (out->capture)
                fflush(out->capture);
            if (errs->capture)
                fflush(errs->capture);
        }
        if (c->exited) {
            /* Drain what the child wrote before it exited; a grandchild holding the pipes open
             * does not hold us for more than 2 s. */
            if (!drain_until)
                drain_until = now + 2000000000ull;
            if ((proto_fd < 0 && out->fd < 0 && errs->fd < 0) || now >= drain_until)
                break;
        }
    }
    if (proto_fd >= 0)
        close(proto_fd);
    if (out->fd >= 0)
        close(out->fd);
    if (errs->fd >= 0)
        close(errs->fd);
    out->fd = errs->fd = -1;
    free(lb.buf);
}

static void meas_free(struct meas *m)
{
    if (m->sampler)
        jb_sampler_stop(m->sampler);
    m->sampler = NULL;
    if (m->samples)
        fclose(m->samples);
    if (m->phases_out)
        fclose(m->phases_out);
    jb_phases_free(m->phases);
    for (size_t i = 0; m->meter_errors && i < m->n; i++)
        free(m->meter_errors[i]);
    free(m->meter_errors);
    free(m->last_power_w);
    free(m->peak_power_w);
    free(m->metrics);
    free(m->infos);
    sb_free(&m->row);
    jb_meter_set_free(m->set);
    pthread_mutex_destroy(&m->lock);
}

void measure_result_free(struct measure_result *r)
{
    if (!r)
        return;
    free(r->meters);
    free(r->phases);
    free(r->phase_aggs);
    r->meters = NULL;
    r->phases = NULL;
    r->phase_aggs = NULL;
}

int measure_run(const struct measure_opts *o, struct measure_result *r,
                void (*warn)(void *user, const char *msg), char *err, size_t errlen)
{
    struct meas m;
    struct saved_signals saved;
    struct jb_sampler_opts so;
    struct child c;
    struct stream out = {-1, -1, NULL, 0}, errs = {-1, -1, NULL, 1};
    int proto[2] = {-1, -1}, opipe[2] = {-1, -1}, epipe[2] = {-1, -1};
    int signals_installed = 0, rc = -1, new_pgrp;
    double idle_s = o->idle_s > 0 ? o->idle_s : 0;
    struct timespec end_utc;
    char path[PATH_MAX];

    memset(r, 0, sizeof(*r));
    memset(&c, 0, sizeof(c));
    r->exit_status = -1;
    r->cpu_user_s = r->cpu_sys_s = NAN;
    memset(&m, 0, sizeof(m));
    m.o = o;
    m.warn = warn;
    pthread_mutex_init(&m.lock, NULL);
    if (!o->argv || !o->argv[0]) {
        snprintf(err, errlen, "no command to run");
        goto out;
    }

    /* Meters. */
    m.set = jb_meter_set_new();
    if (!m.set || jb_meter_set_add(m.set, o->meters ? o->meters : "auto") < 0) {
        snprintf(err, errlen, "%s", m.set ? jb_meter_set_errmsg(m.set) : "out of memory");
        goto out;
    }
    for (size_t i = 0; !o->quiet_meter_notes && i < jb_meter_set_note_count(m.set); i++)
        warnf(&m, "%s", jb_meter_set_note(m.set, i));
    m.n = jb_meter_set_count(m.set);
    if (!m.n) {
        snprintf(err, errlen,
                 "no meter to measure with (no NVIDIA GPU and no readable RAPL "
                 "domain; use -m sim for a simulated meter)");
        goto out;
    }
    m.phases = jb_phases_new(m.n);
    m.last_power_w = malloc(m.n * sizeof(double));
    m.peak_power_w = malloc(m.n * sizeof(double));
    m.meter_errors = calloc(m.n, sizeof(char *));
    r->meters = calloc(m.n, sizeof(*r->meters));
    if (!m.phases || !m.last_power_w || !m.peak_power_w || !m.meter_errors || !r->meters) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    r->n_meters = m.n;
    for (size_t i = 0; i < m.n; i++)
        m.last_power_w[i] = m.peak_power_w[i] = NAN;
    /* Results are handed over as they resolve, so memory stays bounded for any number of
     * phases: streamed to phases.csv, kept up to keep_phases, summed beyond. */
    m.r = r;
    m.keep_phases = o->keep_phases ? o->keep_phases : MEASURE_KEEP_PHASES;
    jb_phases_set_on_result(m.phases, on_phase_result, &m);

    /* Signals first: once the run directory exists, a SIGINT/SIGTERM must end in a manifest
     * that says "interrupted", not in a killed process. */
    if (install_signals(&saved) < 0) {
        snprintf(err, errlen, "cannot create pipe: %s", strerror(errno));
        goto out;
    }
    signals_installed = 1;

    /* Run directory: an old manifest goes first, so that this attempt's files never sit beside
     * a manifest claiming an earlier attempt complete. */
    if (o->rundir) {
        if (fs_mkdir_p(o->rundir, err, errlen) < 0)
            goto out;
        snprintf(path, sizeof(path), "%s/manifest.json", o->rundir);
        if (unlink(path) < 0 && errno != ENOENT) {
            snprintf(err, errlen, "cannot remove '%s': %s", path, strerror(errno));
            goto out;
        }
        fs_sync_dir(o->rundir);
        if (!(m.samples = rundir_open_partial(o->rundir, "samples.csv", rundir_samples_header, err,
                                              errlen)))
            goto out;
        setvbuf(m.samples, NULL, _IOFBF, 1 << 16);
        if (!(m.phases_out =
                  rundir_open_partial(o->rundir, "phases.csv", rundir_phases_header, err, errlen)))
            goto out;
        if (o->capture) {
            if (!(out.capture = rundir_open_partial(o->rundir, "stdout.log", NULL, err, errlen)) ||
                !(errs.capture = rundir_open_partial(o->rundir, "stderr.log", NULL, err, errlen)))
                goto out;
        }
    }

    /* Sampler; t_s = 0 is now. */
    m.t0_ns = jb_now_ns();
    clock_gettime(CLOCK_REALTIME, &m.t0_utc);
    memset(&so, 0, sizeof(so));
    so.interval_ms = o->interval_ms;
    so.energy_interval_ms = o->energy_interval_ms;
    so.on_sample = sink_sample;
    so.on_energy = sink_energy;
    so.on_error = sink_error;
    so.user = &m;
    rc = jb_sampler_start(&m.sampler, m.set, &so);
    if (rc < 0) {
        snprintf(err, errlen, "cannot start the sampler: %s (interval 10..60000 ms)",
                 jb_strerror(rc));
        rc = -1;
        goto out;
    }
    rc = -1;

    /* Idle baseline: nothing of ours runs on the devices meanwhile. */
    if (idle_s > 0) {
        uint64_t t_begin = jb_now_ns();
        int interrupted;
        pthread_mutex_lock(&m.lock);
        jb_phases_begin(m.phases, "idle", 0, t_begin);
        pthread_mutex_unlock(&m.lock);
        interrupted = idle_wait(idle_s, &r->got_signal);
        pthread_mutex_lock(&m.lock);
        jb_phases_end(m.phases, "idle", 0, jb_now_ns(), NULL);
        pthread_mutex_unlock(&m.lock);
        jb_sampler_read_energy_now(m.sampler);
        if (interrupted) {
            idle_s = (double)(jb_now_ns() - t_begin) / 1e9;
            r->status = MEASURE_INTERRUPTED;
            goto finish;
        }
    }

    /* Child: the protocol pipe's write end is inherited (no close-on-exec); ours is not. */
    new_pgrp = o->capture;
    if (pipe(proto) < 0 || (o->capture && (pipe(opipe) < 0 || pipe(epipe) < 0))) {
        snprintf(err, errlen, "cannot create pipe: %s", strerror(errno));
        goto out;
    }
    fcntl(proto[0], F_SETFD, FD_CLOEXEC);
    fcntl(proto[1], F_SETFD, FD_CLOEXEC); /* kept across the command's exec only */
    if (o->capture) {
        fcntl(opipe[0], F_SETFD, FD_CLOEXEC);
        fcntl(epipe[0], F_SETFD, FD_CLOEXEC);
        fcntl(opipe[1], F_SETFD, FD_CLOEXEC); /* dup2 onto 1 clears it in the child */
        fcntl(epipe[1], F_SETFD, FD_CLOEXEC);
    }
    m.cmd_begin_ns = jb_now_ns();
    pthread_mutex_lock(&m.lock);
    jb_phases_begin(m.phases, "command", 0, m.cmd_begin_ns);
    pthread_mutex_unlock(&m.lock);
    jb_sampler_read_energy_now(m.sampler);
    c.pid = spawn(o, proto[1], opipe[1], epipe[1], new_pgrp, err, errlen);
    r->spawn_errno = c.pid < 0 ? (errno ? errno : ENOENT) : 0;
    c.new_pgrp = new_pgrp;
    close(proto[1]);
    proto[1] = -1;
    if (opipe[1] >= 0) {
        close(opipe[1]);
        close(epipe[1]);
        opipe[1] = epipe[1] = -1;
    }
    if (c.pid < 0) {
        /* The command never ran: a failed run, recorded as such. */
        m.cmd_end_ns = jb_now_ns();
        r->status = MEASURE_FAILED;
        snprintf(m.stderr_tail, sizeof(m.stderr_tail), "%s", err);
        m.stderr_tail_len = strlen(m.stderr_tail);
        if (!o->quiet_spawn_error)
            warnf(&m, "%s", err);
        err[0] = '\0';
        close(proto[0]);
        proto[0] = -1;
        if (opipe[0] >= 0) {
            close(opipe[0]);
            close(epipe[0]);
            opipe[0] = epipe[0] = -1;
        }
        goto finish;
    }
    out.fd = opipe[0];
    errs.fd = epipe[0];
    opipe[0] = epipe[0] = -1;
    out.echo_fd = o->echo ? STDOUT_FILENO : -1;
    errs.echo_fd = o->echo ? STDERR_FILENO : -1;
    supervise(&m, &c, proto[0], &out, &errs, r);
    proto[0] = -1;
    if (!c.exited) {
        /* Output closed but the child lives on (it closed its stdout?): wait for it. */
        while (wait4(c.pid, &c.wstatus, 0, &c.ru) < 0 && errno == EINTR)
            ;
        c.exited = 1;
        m.cmd_end_ns = jb_now_ns();
    }
    r->cpu_user_s = (double)c.ru.ru_utime.tv_sec + (double)c.ru.ru_utime.tv_usec / 1e6;
    r->cpu_sys_s = (double)c.ru.ru_stime.tv_sec + (double)c.ru.ru_stime.tv_usec / 1e6;
    if (WIFEXITED(c.wstatus)) {
        r->exit_status = WEXITSTATUS(c.wstatus);
    } else if (WIFSIGNALED(c.wstatus)) {
        r->term_signal = WTERMSIG(c.wstatus);
        r->exit_status = 128 + r->term_signal;
    }
    if (r->got_signal)
        r->status = MEASURE_INTERRUPTED;
    else if (r->exit_status != 0 || r->timed_out)
        r->status = MEASURE_FAILED;
    else
        r->status = MEASURE_COMPLETE;

finish:
    if (m.cmd_begin_ns) {
        pthread_mutex_lock(&m.lock);
        jb_phases_end(m.phases, "command", 0, m.cmd_end_ns, NULL);
        pthread_mutex_unlock(&m.lock);
        r->duration_s = (double)(m.cmd_end_ns - m.cmd_begin_ns) / 1e9;
    }
    sampler_tail(&m);
    jb_sampler_stop(m.sampler); /* last readings, then the threads are gone */
    m.sampler = NULL;
    jb_phases_finish(m.phases, jb_now_ns()); /* the last results, through on_phase_result */
    clock_gettime(CLOCK_REALTIME, &end_utc);
    r->n_protocol_errors = m.n_protocol_errors;
    if (m.phases_oom) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    compute_totals(&m, r, idle_s);

    if (o->rundir && write_rundir(&m, r, &out, &errs, &end_utc, idle_s, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    if (c.pid > 0 && !c.exited) {
        kill_child(&c, SIGKILL);
        waitpid(c.pid, NULL, 0);
    }
    for (int i = 0; i < 2; i++) {
        if (proto[i] >= 0)
            close(proto[i]);
        if (opipe[i] >= 0)
            close(opipe[i]);
        if (epipe[i] >= 0)
            close(epipe[i]);
    }
    if (out.fd >= 0)
        close(out.fd);
    if (errs.fd >= 0)
        close(errs.fd);
    if (out.capture)
        fclose(out.capture);
    if (errs.capture)
        fclose(errs.capture);
    if (signals_installed)
        restore_signals(&saved);
    meas_free(&m);
    if (rc < 0 && o->rundir)
        rundir_remove_partials(o->rundir);
    return rc;
}
