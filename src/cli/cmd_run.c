/*
 * cmd_run.c - 'joulebench run GRID': runs a study grid, one measured execution per run
 * (measure_run), each into its run directory RESULTS/<grid>/<run-id>, resumable.
 *
 * The runner owns the policy around the measurements: which runs are left (a run is done when
 * its manifest.json says complete), retries, the cooldown between runs, progress on stderr, a
 * lock per run so two runners never measure the same run, keeping failed attempts aside, and the
 * --gpus scheduler (one child runner per GPU, each limited to its GPU).  It does not measure
 * (measure.c), parse grids (grid.c) or analyse results.  docs/runner.md and docs/grid-format.md
 * describe the behaviour; exit status: 0 when every selected run is complete, 1 otherwise, 2 on a
 * usage error, 128+N when stopped by signal N (SIGINT 130, SIGTERM 143).
 *
 * Run directories: a run is measured in place, RESULTS/<grid>/<run-id>.  measure_run writes
 * manifest.json last, so a directory without a complete manifest is an unfinished run: before
 * measuring again, the runner moves it to RESULTS/<grid>/.attempts/<run-id>/<n> (kept for
 * diagnosis, never read as a run).  A complete directory is never touched again, so completed
 * runs stay byte-identical across resumes.  The per-run lock (flock on
 * RESULTS/<grid>/.locks/<run-id>.lock) is released by the kernel when its holder dies, even by
 * SIGKILL, so a crash never leaves a run locked.
 */
#include "cli/cli.h"

#include "analysis/store.h"

#include "json.h"
#include "joulebench.h"
#include "run/grid.h"
#include "run/measure.h"
#include "run/meterspec.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_USAGE                                                                                  \
    "joulebench run GRID [-o RESULTS] [--dry-run] [--only LIST] [--gpus LIST] [-m METERS] "        \
    "[--echo] [--quiet]"

#define MAX_GPUS 256

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

enum run_state { STATE_PENDING, STATE_COMPLETE, STATE_FAILED, STATE_INTERRUPTED, STATE_INCOMPLETE };

static const char *state_name(enum run_state s)
{
    switch (s) {
    case STATE_PENDING: return "pending";
    case STATE_COMPLETE: return "complete";
    case STATE_FAILED: return "failed";
    case STATE_INTERRUPTED: return "interrupted";
    case STATE_INCOMPLETE: return "incomplete";
    }
    return "?";
}

struct runner {
    struct grid *g;
    const char *results;
    char *grid_dir; /* RESULTS/<grid> */
    char *meters;   /* resolved meter specification */
    int meters_simulated_fallback;
    struct jb_meter_set *set; /* the same meters, for cooldown polling and live labels */
    int echo;
    int quiet;
    int cooldown_last;
    int tty;
    /* progress */
    size_t n_todo;      /* runs to execute at the start */
    size_t n_executed;  /* runs executed so far (any outcome) */
    double executed_s;  /* their wall time, cooldown included */
    uint64_t t_run0_ns; /* start of the current run */
    size_t pos;         /* 1-based position of the current run among n_todo */
    const struct grid_run *cur;
    int live_shown;
};

/* ---- small helpers ---------------------------------------------------------------------- */

static char *path_join3(const char *a, const char *b, const char *c)
{
    struct strbuf sb = STRBUF_INIT;
    sb_puts(&sb, a);
    if (b) {
        sb_putc(&sb, '/');
        sb_puts(&sb, b);
    }
    if (c) {
        sb_putc(&sb, '/');
        sb_puts(&sb, c);
    }
    if (sb_failed(&sb)) {
        sb_free(&sb);
        return NULL;
    }
    return sb.buf;
}

static void fmt_hms(char *buf, size_t len, double s)
{
    long t = s > 0 && isfinite(s) ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

static int shell_safe(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              strchr("@%_+=:,./-", *s)))
            return 0;
    return 1;
}

/* Appends argv as a shell would need it quoted (for display only: nothing runs a shell). */
static void sb_argv(struct strbuf *sb, char *const *argv)
{
    for (size_t i = 0; argv[i]; i++) {
        if (i)
            sb_putc(sb, ' ');
        if (shell_safe(argv[i])) {
            sb_puts(sb, argv[i]);
            continue;
        }
        sb_putc(sb, '\'');
        for (const char *p = argv[i]; *p; p++) {
            if (*p == '\'')
                sb_puts(sb, "'\\''");
            else
                sb_putc(sb, *p);
        }
        sb_putc(sb, '\'');
    }
}

/* The state of a run from its directory (manifest.json's status). */
static enum run_state run_state_of(const struct runner *R, const struct grid_run *r)
{
    char *dir = path_join3(R->grid_dir, r->run_id, NULL);
    char *mf = path_join3(R->grid_dir, r->run_id, "manifest.json");
    enum run_state st = STATE_PENDING;
    char *text = NULL, err[256];
    size_t len = 0;
    struct jb_json *j = NULL;
    const char *status;

    if (!dir || !mf)
        goto out;
    if (!fs_exists(dir))
        goto out;
    st = STATE_INCOMPLETE;
    if (fs_read_file(mf, &text, &len, err, sizeof(err)) < 0)
        goto out;
    if (jb__json_parse(text, len, &j, err, sizeof(err)) < 0)
        goto out;
    status = jb__json_str(j, "status", "");
    if (!strcmp(status, "complete"))
        st = STATE_COMPLETE;
    else if (!strcmp(status, "failed"))
        st = STATE_FAILED;
    else if (!strcmp(status, "interrupted"))
        st = STATE_INTERRUPTED;
out:
    jb__json_free(j);
    free(text);
    free(dir);
    free(mf);
    return st;
}

/* Sleeps up to s seconds; returns early (-1) when a stop signal arrives. */
static int sleep_interruptible(double s)
{
    uint64_t end = jb_now_ns() + (uint64_t)(s * 1e9);
    while (!stop_signal) {
        uint64_t now = jb_now_ns();
        uint64_t left;
        struct timespec ts;
        if (now >= end)
            return 0;
        left = end - now;
        if (left > 100000000ull)
            left = 100000000ull;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)left;
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* ---- progress --------------------------------------------------------------------------- */

static void live_clear(struct runner *R)
{
    if (R->tty && R->live_shown) {
        fputs("\r\033[K", stderr);
        R->live_shown = 0;
    }
}

static void progress_line(struct runner *R, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void progress_line(struct runner *R, const char *fmt, ...)
{
    va_list ap;
    if (R->quiet)
        return;
    live_clear(R);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static double eta_s(const struct runner *R)
{
    size_t left = R->n_todo > R->n_executed ? R->n_todo - R->n_executed : 0;
    if (!R->n_executed)
        return NAN;
    return R->executed_s / (double)R->n_executed * (double)left;
}

static void on_live(void *user, const struct measure_live *lv)
{
    struct runner *R = user;
    struct strbuf sb = STRBUF_INIT;
    char el[32], eta[32];
    double eta_now;

    if (R->quiet || !R->tty || !R->cur)
        return;
    fmt_hms(el, sizeof(el), lv->elapsed_s);
    sb_printf(&sb, "[%zu/%zu] %s  %s", R->pos, R->n_todo, R->cur->run_id, el);
    for (size_t i = 0; i < lv->n_meters && i < 4; i++) {
        const struct jb_meter *m = R->set && jb_meter_set_count(R->set) == lv->n_meters
                                       ? jb_meter_set_get(R->set, i)
                                       : NULL;
        const char *id = m ? jb_meter_get_info(m)->id : "meter";
        if (isnan(lv->power_w[i]))
            sb_printf(&sb, "  %s - W", id);
        else
            sb_printf(&sb, "  %s %.0f W", id, lv->power_w[i]);
    }
    if (lv->n_meters > 4)
        sb_printf(&sb, "  (+%zu meters)", lv->n_meters - 4);
    eta_now = eta_s(R);
    if (!isnan(eta_now)) {
        /* The current run's expected remainder is part of the mean already; subtract its time. */
        double rem = eta_now - lv->elapsed_s;
        fmt_hms(eta, sizeof(eta), rem > 0 ? rem : 0);
        sb_printf(&sb, "  ETA %s", eta);
    }
    if (!sb_failed(&sb)) {
        fprintf(stderr, "\r\033[K%s", sb_str(&sb));
        fflush(stderr);
        R->live_shown = 1;
    }
    sb_free(&sb);
}

static void on_warn(void *user, const char *msg)
{
    struct runner *R = user;
    live_clear(R);
    cli_warn("%s", msg);
}

/* ---- cooldown --------------------------------------------------------------------------- */

static double idle_power_of(const struct measure_result *res, const char *id)
{
    for (size_t i = 0; res && i < res->n_meters; i++)
        if (!strcmp(res->meters[i].id, id))
            return res->meters[i].idle_power_w;
    return NAN;
}

/*
 * The cooldown after a run: the fixed wait, then (when asked) polling the meters once a second
 * until every meter that reports a temperature is at or below until_temp_c and every meter with
 * an idle baseline draws at most idle + until_power_above_idle_w, or max_wait_s has passed.
 * Returns -1 when a stop signal arrived.
 */
static int cooldown(struct runner *R, const struct measure_result *res)
{
    const struct grid_cooldown *c = &R->g->cooldown;
    int want_temp = !isnan(c->until_temp_c), want_power = !isnan(c->until_power_above_idle_w);
    uint64_t t0;
    int warned_temp = 0;

    if (c->seconds > 0) {
        progress_line(R, "cooldown: %g s", c->seconds);
        if (sleep_interruptible(c->seconds) < 0)
            return -1;
    }
    if ((!want_temp && !want_power) || !R->set)
        return 0;
    t0 = jb_now_ns();
    for (;;) {
        struct strbuf why = STRBUF_INIT;
        int ok = 1, any_temp = 0;
        double waited = (double)(jb_now_ns() - t0) / 1e9;

        for (size_t i = 0; i < jb_meter_set_count(R->set); i++) {
            struct jb_meter *m = jb_meter_set_get(R->set, i);
            const struct jb_meter_info *info = jb_meter_get_info(m);
            struct jb_sample s;
            if (jb_meter_read_sample(m, &s) < 0)
                continue;
            if (want_temp && (s.valid & JB_CAP_TEMP)) {
                any_temp = 1;
                if (s.temp_c > c->until_temp_c) {
                    ok = 0;
                    sb_printf(&why, " %s %.0f C", info->id, s.temp_c);
                }
            }
            if (want_power && (s.valid & JB_CAP_POWER)) {
                double idle = idle_power_of(res, info->id);
                if (!isnan(idle) && s.power_w > idle + c->until_power_above_idle_w) {
                    ok = 0;
                    sb_printf(&why, " %s %.0f W (idle %.0f W)", info->id, s.power_w, idle);
                }
            }
        }
        if (want_temp && !any_temp && !warned_temp) {
            progress_line(R, "cooldown: no meter reports a temperature; until_temp_c not applied");
            warned_temp = 1;
        }
        if (ok) {
            sb_free(&why);
            return 0;
        }
        if (waited >= c->max_wait_s) {
            live_clear(R);
            cli_warn("cooldown: still not cool after %.0f s (max_wait_s):%s; going on", waited,
                     sb_str(&why));
            sb_free(&why);
            return 0;
        }
        if (R->tty && !R->quiet) {
            fprintf(stderr, "\r\033[Kcooldown: waiting%s", sb_str(&why));
            fflush(stderr);
            R->live_shown = 1;
        }
        sb_free(&why);
        if (sleep_interruptible(1.0) < 0)
            return -1;
    }
}

/* ---- one run ---------------------------------------------------------------------------- */

/* Next free attempt slot under .attempts/<run-id>: 1 + the highest number there. */
static int attempts_next(const char *att_dir)
{
    DIR *d = opendir(att_dir);
    struct dirent *e;
    long best = 0;

    if (!d)
        return 1;
    while ((e = readdir(d))) {
        long v;
        if (cli_parse_long(e->d_name, 1, INT_MAX - 1, &v) == 0 && v > best)
            best = v;
    }
    closedir(d);
    return (int)best + 1;
}

/* Moves an unfinished run directory aside; returns the attempt number the next try gets. */
static int move_aside(struct runner *R, const struct grid_run *r, const char *dir, int *attempt)
{
    char *att = path_join3(R->grid_dir, ".attempts", r->run_id);
    char err[512];
    int rc = -1, n;

    if (!att)
        return cli_error("out of memory"), -1;
    n = attempts_next(att);
    if (fs_exists(dir)) {
        char num[32], *dst;
        if (fs_mkdir_p(att, err, sizeof(err)) < 0) {
            cli_error("%s", err);
            goto out;
        }
        snprintf(num, sizeof(num), "%d", n);
        dst = path_join3(att, num, NULL);
        if (!dst || rename(dir, dst) < 0) {
            cli_error("cannot move the unfinished run '%s' aside to '%s': %s", dir, dst ? dst : "?",
                      strerror(errno));
            free(dst);
            goto out;
        }
        free(dst);
        fs_sync_dir(R->grid_dir);
        n++;
    }
    *attempt = n;
    rc = 0;
out:
    free(att);
    return rc;
}

/* Takes the run's lock without waiting.  Returns the fd, -2 when another runner holds it, -1 on
 * error (message printed). */
static int lock_run(struct runner *R, const struct grid_run *r)
{
    char *dir = path_join3(R->grid_dir, ".locks", NULL);
    struct strbuf name = STRBUF_INIT;
    char err[512];
    int fd = -1;

    sb_printf(&name, "%s/%s.lock", dir ? dir : "", r->run_id);
    if (!dir || sb_failed(&name)) {
        cli_error("out of memory");
        goto out;
    }
    if (fs_mkdir_p(dir, err, sizeof(err)) < 0) {
        cli_error("%s", err);
        goto out;
    }
    /* O_CLOEXEC: the measured command must not inherit (and so outlive us holding) the lock. */
    fd = open(sb_str(&name), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        cli_error("cannot open lock file '%s': %s", sb_str(&name), strerror(errno));
        goto out;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        if (e == EINTR)
            continue;
        if (e != EWOULDBLOCK)
            cli_error("cannot lock '%s': %s", sb_str(&name), strerror(e));
        close(fd);
        fd = e == EWOULDBLOCK ? -2 : -1;
        break;
    }
out:
    free(dir);
    sb_free(&name);
    return fd;
}

enum outcome { OUT_COMPLETE, OUT_FAILED, OUT_INTERRUPTED, OUT_BUSY, OUT_ERROR };

/*
 * Runs one run of the grid with its retries.  `more` says whether another run follows (for the
 * cooldown).  Returns the outcome.
 */
static enum outcome run_one(struct runner *R, const struct grid_run *r, int more)
{
    struct grid *g = R->g;
    char **argv = NULL, **env = NULL, *workdir = NULL, *dir = NULL;
    struct measure_level *levels = NULL;
    enum outcome out = OUT_ERROR;
    int lock_fd, tries = g->retries + 1;
    struct strbuf sb = STRBUF_INIT;

    lock_fd = lock_run(R, r);
    if (lock_fd == -2) {
        progress_line(R, "[%zu/%zu] %s: being measured by another runner; skipped", R->pos,
                      R->n_todo, r->run_id);
        return OUT_BUSY;
    }
    if (lock_fd < 0)
        return OUT_ERROR;
    /* Another runner may have finished it between our look and the lock. */
    if (run_state_of(R, r) == STATE_COMPLETE) {
        close(lock_fd);
        return OUT_COMPLETE;
    }
    dir = path_join3(R->grid_dir, r->run_id, NULL);
    argv = grid_run_argv(g, r);
    env = grid_run_env(g, r);
    workdir = g->workdir_tmpl ? grid_expand(g, r, g->workdir_tmpl) : NULL;
    levels = calloc(g->n_levels ? g->n_levels : 1, sizeof(*levels));
    if (!dir || !argv || !env || (g->workdir_tmpl && !workdir) || !levels) {
        cli_error("out of memory");
        goto done;
    }
    for (size_t l = 0; l < g->n_levels; l++) {
        levels[l].name = g->levels[l].name;
        levels[l].value = r->values[l];
    }
    for (size_t l = 0; l < g->n_levels; l++)
        sb_printf(&sb, "%s%s=%s", l ? " " : "", g->levels[l].name, r->values[l]);

    for (int t = 0; t < tries; t++) {
        struct measure_opts o;
        struct measure_result res;
        char err[1024];
        int attempt = 1, rc;
        uint64_t t0 = jb_now_ns();

        if (stop_signal) {
            out = OUT_INTERRUPTED;
            break;
        }
        if (move_aside(R, r, dir, &attempt) < 0)
            goto done;
        progress_line(R, "[%zu/%zu] %s (run %zu%s%s, attempt %d)", R->pos, R->n_todo, r->run_id,
                      r->index, g->n_levels ? ": " : "", sb_str(&sb), attempt);
        memset(&o, 0, sizeof(o));
        o.argv = argv;
        o.env_extra = env;
        o.workdir = workdir;
        o.meters = R->meters;
        o.interval_ms = g->interval_ms;
        o.energy_interval_ms = g->energy_interval_ms;
        o.carbon = &g->carbon;
        o.idle_s = g->idle_baseline_s;
        o.timeout_s = g->timeout_s;
        o.rundir = dir;
        o.capture = 1;
        o.echo = R->echo;
        o.grid = g->name;
        o.run_id = r->run_id;
        o.levels = levels;
        o.n_levels = g->n_levels;
        o.repeat = r->repeat;
        o.attempt = attempt;
        o.on_live = on_live;
        o.user = R;
        o.quiet_meter_notes = 1;
        R->cur = r;
        R->t_run0_ns = t0;
        memset(&res, 0, sizeof(res));
        rc = measure_run(&o, &res, on_warn, err, sizeof(err));
        R->cur = NULL;
        live_clear(R);
        if (rc < 0) {
            cli_error("run %s: %s", r->run_id, err);
            measure_result_free(&res);
            goto done;
        }
        if (res.status == MEASURE_INTERRUPTED) {
            if (res.got_signal)
                stop_signal = res.got_signal;
            else if (!stop_signal)
                stop_signal = SIGINT;
            progress_line(R, "[%zu/%zu] %s: interrupted (signal %d); stopping the grid", R->pos,
                          R->n_todo, r->run_id, (int)stop_signal);
            measure_result_free(&res);
            out = OUT_INTERRUPTED;
            break;
        }
        if (res.status == MEASURE_COMPLETE) {
            struct strbuf e = STRBUF_INIT;
            for (size_t i = 0; i < res.n_meters; i++)
                sb_printf(&e, "%s%s %.1f J", i ? ", " : "", res.meters[i].id,
                          res.meters[i].energy_j);
            progress_line(R, "[%zu/%zu] %s: complete in %.1f s (%s)", R->pos, R->n_todo, r->run_id,
                          res.duration_s, sb_str(&e));
            sb_free(&e);
            out = OUT_COMPLETE;
        } else {
            live_clear(R);
            if (res.timed_out)
                cli_warn("run %s failed: timed out after %.0f s (timeout_s)", r->run_id,
                         g->timeout_s);
            else if (res.term_signal)
                cli_warn("run %s failed: killed by signal %d (see %s/stderr.log)", r->run_id,
                         res.term_signal, dir);
            else if (res.exit_status < 0)
                cli_warn("run %s failed: the command did not start (see %s/manifest.json)",
                         r->run_id, dir);
            else
                cli_warn("run %s failed: exit status %d (see %s/stderr.log)", r->run_id,
                         res.exit_status, dir);
            if (t + 1 < tries)
                progress_line(R, "[%zu/%zu] %s: retrying (%d of %d retries left)", R->pos,
                              R->n_todo, r->run_id, tries - t - 1, g->retries);
            out = OUT_FAILED;
        }
        /* Cool down after every execution that another one follows (a retry or the next run). */
        if ((t + 1 < tries && out == OUT_FAILED) || more || R->cooldown_last) {
            if (cooldown(R, &res) < 0) {
                measure_result_free(&res);
                R->executed_s += (double)(jb_now_ns() - t0) / 1e9;
                if (out != OUT_COMPLETE)
                    out = OUT_INTERRUPTED;
                break;
            }
        }
        R->executed_s += (double)(jb_now_ns() - t0) / 1e9;
        measure_result_free(&res);
        if (out == OUT_COMPLETE)
            break;
    }
done:
    R->n_executed++;
    close(lock_fd);
    sb_free(&sb);
    free(levels);
    free(workdir);
    grid_strv_free(argv);
    grid_strv_free(env);
    free(dir);
    return out;
}

/* ---- meters ----------------------------------------------------------------------------- */

/* Opens the grid's meters once: checks the specification before anything runs, applies
 * meters_fallback when nothing was found, and keeps the set for cooldown polling. */
static int resolve_meters(struct runner *R, const char *spec)
{
    struct jb_meter_set *set = jb_meter_set_new();
    int rc;

    if (!set)
        return cli_error("out of memory");
    rc = jb_meter_set_add(set, spec);
    if (rc < 0) {
        cli_error("meters '%s': %s (see 'joulebench devices')", spec, jb_meter_set_errmsg(set));
        jb_meter_set_free(set);
        return -1;
    }
    /* The set's notes ("no RAPL domains found ...") are printed here, once for the grid; each
     * run opens the same meters again and keeps quiet about them (quiet_meter_notes). */
    for (size_t i = 0; i < jb_meter_set_note_count(set); i++)
        cli_note("%s", jb_meter_set_note(set, i));
    if (jb_meter_set_count(set) == 0) {
        const char *fb = R->g->meters_fallback;
        jb_meter_set_free(set);
        if (!fb) {
            cli_error("meters '%s' found no meter here (see 'joulebench devices'; a grid may name "
                      "meters_fallback: sim to run on the simulated meter)",
                      spec);
            return -1;
        }
        fprintf(stderr,
                "\n"
                "  ************************************************************************\n"
                "  * SIMULATED meter: no GPU or readable RAPL found ('%s').\n"
                "  * This grid falls back to '%s': energy and power figures of this\n"
                "  * study are simulated, not measured (manifests say \"simulated\": true).\n"
                "  ************************************************************************\n\n",
                spec, fb);
        set = jb_meter_set_new();
        if (!set)
            return cli_error("out of memory");
        rc = jb_meter_set_add(set, fb);
        if (rc < 0 || jb_meter_set_count(set) == 0) {
            cli_error("meters_fallback '%s': %s", fb, jb_meter_set_errmsg(set));
            jb_meter_set_free(set);
            return -1;
        }
        spec = fb;
        R->meters_simulated_fallback = 1;
    }
    R->meters = strdup(spec);
    R->set = set;
    if (!R->meters)
        return cli_error("out of memory");
    return 0;
}

/* ---- --gpus: one child runner per GPU ------------------------------------------------------ */

struct slot {
    int gpu;
    pid_t pid;
    size_t run; /* index into g->runs */
};

static int spawn_child(struct runner *R, const char *self, struct slot *s, const char *spec,
                       int more)
{
    char idx[32], gpu[16];
    const char *argv[16];
    size_t n = 0;
    pid_t pid;

    snprintf(idx, sizeof(idx), "%zu", s->run);
    snprintf(gpu, sizeof(gpu), "%d", s->gpu);
    argv[n++] = "joulebench";
    argv[n++] = "run";
    argv[n++] = R->g->path;
    argv[n++] = "--only";
    argv[n++] = idx;
    argv[n++] = "-o";
    argv[n++] = R->results;
    argv[n++] = "--meters";
    argv[n++] = spec;
    argv[n++] = "--quiet";
    if (more)
        argv[n++] = "--cooldown-last";
    if (R->echo)
        argv[n++] = "--echo";
    argv[n] = NULL;
    pid_t parent = getpid();

    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return cli_error("cannot start a runner for gpu %d: %s", s->gpu, strerror(errno));
    if (pid == 0) {
        /* Our own process group: a terminal's Ctrl-C reaches the parent, which forwards it once.
         * And the child stops (interrupted, recorded) when the parent dies. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(143);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        setenv("CUDA_VISIBLE_DEVICES", gpu, 1);
        setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID", 1);
        execv(self, (char *const *)argv);
        fprintf(stderr, "joulebench: error: cannot execute '%s': %s\n", self, strerror(errno));
        _exit(127);
    }
    s->pid = pid;
    return 0;
}

static int run_parallel(struct runner *R, const size_t *sel, size_t n_sel, const int *gpus,
                        size_t n_gpus)
{
    struct slot slots[MAX_GPUS];
    size_t *queue = calloc(n_sel ? n_sel : 1, sizeof(*queue));
    size_t nq = 0, qi = 0, busy = 0, n_complete = 0, n_failed = 0, n_skipped = 0;
    char self[PATH_MAX];
    char *specs[MAX_GPUS] = {0};
    ssize_t sl;
    int rc = JB_EXIT_FAIL, dropped = 0, forwarded = 0;

    if (!queue)
        return cli_error("out of memory");
    sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (sl < 0) {
        cli_error("cannot find the joulebench binary (/proc/self/exe): %s", strerror(errno));
        goto out;
    }
    self[sl] = '\0';
    for (size_t i = 0; i < n_gpus; i++) {
        specs[i] = meterspec_for_gpu(R->meters, gpus[i], &dropped);
        if (!specs[i]) {
            cli_error("meters '%s' name no GPU or simulated meter to give each --gpus runner",
                      R->meters);
            goto out;
        }
        slots[i].gpu = gpus[i];
        slots[i].pid = 0;
    }
    if (dropped)
        cli_note("--gpus: CPU and DRAM meters are left out: concurrent runs share them");
    for (size_t i = 0; i < n_sel; i++) {
        if (run_state_of(R, &R->g->runs[sel[i]]) == STATE_COMPLETE)
            n_skipped++;
        else
            queue[nq++] = sel[i];
    }
    R->n_todo = nq;
    if (n_skipped)
        progress_line(R, "%zu of %zu runs already complete; %zu to run on %zu GPUs", n_skipped,
                      n_sel, nq, n_gpus);
    while (qi < nq || busy) {
        int status;
        pid_t pid;

        for (size_t i = 0; i < n_gpus && qi < nq && !stop_signal; i++) {
            if (slots[i].pid)
                continue;
            slots[i].run = queue[qi++];
            if (spawn_child(R, self, &slots[i], specs[i], qi < nq) < 0) {
                stop_signal = SIGTERM;
                break;
            }
            busy++;
            progress_line(R, "[%zu/%zu] gpu %d: %s (run %zu)", qi, nq, slots[i].gpu,
                          R->g->runs[slots[i].run].run_id, slots[i].run);
        }
        if (!busy)
            break;
        if (stop_signal && !forwarded) {
            for (size_t i = 0; i < n_gpus; i++)
                if (slots[i].pid)
                    kill(slots[i].pid, stop_signal);
            forwarded = 1;
        }
        /* Polled rather than blocking, so that a signal arriving just before the wait is
         * still forwarded at once. */
        pid = waitpid(-1, &status, WNOHANG);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            cli_error("waitpid: %s", strerror(errno));
            break;
        }
        if (pid == 0) {
            struct timespec ts = {0, 50000000};
            nanosleep(&ts, NULL);
            continue;
        }
        for (size_t i = 0; i < n_gpus; i++) {
            const char *what;
            if (slots[i].pid != pid)
                continue;
            slots[i].pid = 0;
            busy--;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                n_complete++;
                what = "complete";
            } else if (WIFEXITED(status) &&
                       (WEXITSTATUS(status) == 130 || WEXITSTATUS(status) == 143)) {
                what = "interrupted";
                if (!stop_signal)
                    stop_signal = WEXITSTATUS(status) - 128;
            } else {
                n_failed++;
                what = "failed";
            }
            progress_line(R, "gpu %d: %s %s", slots[i].gpu, R->g->runs[slots[i].run].run_id, what);
        }
    }
    progress_line(R, "grid %s: %zu complete, %zu failed, %zu already complete, %zu not run",
                  R->g->name, n_complete, n_failed, n_skipped, nq - n_complete - n_failed);
    if (stop_signal)
        rc = 128 + stop_signal;
    else
        rc = n_complete + n_skipped == n_sel ? JB_EXIT_OK : JB_EXIT_FAIL;
out:
    for (size_t i = 0; i < n_gpus; i++)
        free(specs[i]);
    free(queue);
    return rc;
}

/* ---- sequential ------------------------------------------------------------------------- */

static int run_sequential(struct runner *R, const size_t *sel, size_t n_sel)
{
    size_t n_complete = 0, n_failed = 0, n_skipped = 0, n_busy = 0;
    unsigned char *todo = calloc(n_sel ? n_sel : 1, 1);
    size_t left;
    int rc = JB_EXIT_FAIL, stopped = 0;

    if (!todo)
        return cli_error("out of memory");
    for (size_t i = 0; i < n_sel; i++) {
        todo[i] = run_state_of(R, &R->g->runs[sel[i]]) != STATE_COMPLETE;
        R->n_todo += todo[i];
        n_skipped += !todo[i];
    }
    if (n_skipped)
        progress_line(R, "%zu of %zu runs already complete; %zu to run", n_skipped, n_sel,
                      R->n_todo);
    left = R->n_todo;
    for (size_t i = 0; i < n_sel && !stopped; i++) {
        enum outcome o;
        if (!todo[i])
            continue;
        if (stop_signal)
            break;
        R->pos++;
        left--;
        o = run_one(R, &R->g->runs[sel[i]], left > 0);
        switch (o) {
        case OUT_COMPLETE: n_complete++; break;
        case OUT_FAILED: n_failed++; break;
        case OUT_BUSY: n_busy++; break;
        case OUT_INTERRUPTED: stopped = 1; break;
        case OUT_ERROR:
            stopped = 1;
            n_failed++;
            break;
        }
        if (R->n_executed && !R->quiet && left && o != OUT_INTERRUPTED) {
            char eta[32];
            fmt_hms(eta, sizeof(eta), eta_s(R));
            progress_line(R, "%zu run%s left, ETA %s", left, left == 1 ? "" : "s", eta);
        }
    }
    progress_line(R, "grid %s: %zu complete, %zu failed, %zu already complete%s%s", R->g->name,
                  n_complete, n_failed, n_skipped, n_busy ? ", busy elsewhere: " : "",
                  n_busy ? "some" : "");
    if (stop_signal)
        rc = 128 + stop_signal;
    else
        rc = n_complete + n_skipped == n_sel ? JB_EXIT_OK : JB_EXIT_FAIL;
    free(todo);
    return rc;
}

/* ---- options ---------------------------------------------------------------------------- */

/* "3", "0,2,5", "1-4,7": indexes below n, in the order given, each once. */
static int parse_index_list(const char *s, size_t n, size_t **out, size_t *n_out)
{
    size_t cap = 16, cnt = 0;
    size_t *v = malloc(cap * sizeof(*v));
    unsigned char *seen = calloc(n ? n : 1, 1);
    const char *p = s;

    if (!v || !seen)
        goto fail;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char tok[64], *dash;
        long a, b;
        if (!len || len >= sizeof(tok))
            goto fail;
        memcpy(tok, p, len);
        tok[len] = '\0';
        dash = strchr(tok, '-');
        if (dash) {
            *dash = '\0';
            if (cli_parse_long(tok, 0, LONG_MAX, &a) < 0 ||
                cli_parse_long(dash + 1, 0, LONG_MAX, &b) < 0 || b < a)
                goto fail;
        } else if (cli_parse_long(tok, 0, LONG_MAX, &a) < 0) {
            goto fail;
        } else {
            b = a;
        }
        if ((size_t)b >= n)
            goto fail;
        for (long i = a; i <= b; i++) {
            if (seen[i])
                continue;
            seen[i] = 1;
            if (cnt == cap) {
                size_t *nv = realloc(v, (cap *= 2) * sizeof(*v));
                if (!nv)
                    goto fail;
                v = nv;
            }
            v[cnt++] = (size_t)i;
        }
        p += len;
        if (*p == ',' && !*++p)
            goto fail;
    }
    if (!cnt)
        goto fail;
    free(seen);
    *out = v;
    *n_out = cnt;
    return 0;
fail:
    free(v);
    free(seen);
    return -1;
}

static int parse_gpus(const char *s, int *gpus, size_t *n)
{
    const char *p = s;
    *n = 0;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char tok[16];
        long v;
        if (!len || len >= sizeof(tok) || *n >= MAX_GPUS)
            return -1;
        memcpy(tok, p, len);
        tok[len] = '\0';
        if (cli_parse_long(tok, 0, MAX_GPUS - 1, &v) < 0)
            return -1;
        for (size_t i = 0; i < *n; i++)
            if (gpus[i] == (int)v)
                return -1;
        gpus[(*n)++] = (int)v;
        p += len;
        if (*p == ',' && !*++p)
            return -1;
    }
    return *n ? 0 : -1;
}

static void print_help(void)
{
    printf("usage: %s\n\n"
           "Runs every run of a study grid (docs/grid-format.md), each measured into\n"
           "RESULTS/<grid>/<run-id>/.  Runs already complete are skipped, so running it again\n"
           "resumes an interrupted grid.\n\n"
           "  -o, --results DIR   results folder (default: results)\n"
           "  --dry-run           print the numbered run list (index, run id, state, command)\n"
           "  --only LIST         run only these indexes of the list (3, 0,2,5 or 1-4)\n"
           "  --gpus LIST         one run per GPU at a time on these GPUs (NVML indexes)\n"
           "  -m, --meters SPEC   meters to use instead of the grid's\n"
           "  --echo              relay the commands' output to the terminal\n"
           "  --quiet             no progress lines (errors and warnings only)\n"
           "  --cooldown-last     cool down after the last run too\n\n"
           "Exit status: 0 when every selected run is complete, 1 otherwise, 2 usage error,\n"
           "130/143 when stopped by SIGINT/SIGTERM.\n",
           RUN_USAGE);
}

static void store_warn(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg; /* unfinished runs etc. were reported by the run itself */
}

int cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"results", required_argument, NULL, 'o'}, {"dry-run", no_argument, NULL, 'n'},
        {"only", required_argument, NULL, 'O'},    {"gpus", required_argument, NULL, 'G'},
        {"meters", required_argument, NULL, 'm'},  {"echo", no_argument, NULL, 'E'},
        {"quiet", no_argument, NULL, 'q'},         {"cooldown-last", no_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    struct runner R;
    const char *only = NULL, *gpus_arg = NULL, *meters = NULL;
    int dry = 0, c, rc = JB_EXIT_FAIL;
    int gpus[MAX_GPUS];
    size_t n_gpus = 0, *sel = NULL, n_sel = 0;
    char err[1024];
    struct sigaction sa, old_int, old_term;
    int have_handlers = 0;

    memset(&R, 0, sizeof(R));
    R.results = "results";
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:m:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': R.results = optarg; break;
        case 'n': dry = 1; break;
        case 'O': only = optarg; break;
        case 'G': gpus_arg = optarg; break;
        case 'm': meters = optarg; break;
        case 'E': R.echo = 1; break;
        case 'q': R.quiet = 1; break;
        case 'C': R.cooldown_last = 1; break;
        case 'h': print_help(); return JB_EXIT_OK;
        default:
            return cli_usage_error(RUN_USAGE, "run: unknown option or missing value: '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(RUN_USAGE, "run: %s",
                               optind >= argc ? "give one grid file" : "give one grid file only");
    if (!*R.results)
        return cli_usage_error(RUN_USAGE, "run: -o: empty results folder");
    if (gpus_arg && parse_gpus(gpus_arg, gpus, &n_gpus) < 0)
        return cli_usage_error(
            RUN_USAGE, "run: --gpus '%s': expected distinct GPU indexes like 0,1,3", gpus_arg);
    R.g = grid_load(argv[optind], err, sizeof(err));
    if (!R.g)
        return cli_error("%s", err);
    if (only) {
        if (parse_index_list(only, R.g->n_runs, &sel, &n_sel) < 0) {
            rc = cli_usage_error(RUN_USAGE,
                                 "run: --only '%s': expected indexes from 0 to %zu (this grid has "
                                 "%zu runs; see --dry-run)",
                                 only, R.g->n_runs - 1, R.g->n_runs);
            goto out;
        }
    } else {
        sel = calloc(R.g->n_runs, sizeof(*sel));
        if (!sel) {
            rc = cli_error("out of memory");
            goto out;
        }
        for (size_t i = 0; i < R.g->n_runs; i++)
            sel[i] = i;
        n_sel = R.g->n_runs;
    }
    R.grid_dir = path_join3(R.results, R.g->name, NULL);
    if (!R.grid_dir) {
        rc = cli_error("out of memory");
        goto out;
    }
    if (dry) {
        struct strbuf sb = STRBUF_INIT;
        printf("# grid %s: %zu runs (%zu configurations x %d repeats), order %s%s, results %s\n",
               R.g->name, R.g->n_runs, R.g->n_configs, R.g->repeats,
               R.g->order == GRID_ORDER_RANDOM ? "random" : "sequential",
               R.g->order == GRID_ORDER_RANDOM ? " (seeded)" : "", R.grid_dir);
        int width = 8;
        for (size_t i = 0; i < n_sel; i++)
            if ((int)strlen(R.g->runs[sel[i]].run_id) > width)
                width = (int)strlen(R.g->runs[sel[i]].run_id);
        for (size_t i = 0; i < n_sel; i++) {
            const struct grid_run *r = &R.g->runs[sel[i]];
            char **av = grid_run_argv(R.g, r);
            if (!av) {
                sb_free(&sb);
                rc = cli_error("out of memory");
                goto out;
            }
            sb_reset(&sb);
            sb_argv(&sb, av);
            printf("%4zu  %-*s  %-11s  %s\n", r->index, width, r->run_id,
                   state_name(run_state_of(&R, r)), sb_str(&sb));
            grid_strv_free(av);
        }
        sb_free(&sb);
        rc = JB_EXIT_OK;
        goto out;
    }
    R.tty = isatty(STDERR_FILENO);
    if (resolve_meters(&R, meters ? meters : R.g->meters) < 0)
        goto out;
    if (fs_mkdir_p(R.grid_dir, err, sizeof(err)) < 0) {
        rc = cli_error("%s", err);
        goto out;
    }
    /* Stop between runs on SIGINT/SIGTERM; during a run measure_run takes them over (and
     * forwards them to the command). */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    stop_signal = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    have_handlers = 1;
    if (n_gpus)
        rc = run_parallel(&R, sel, n_sel, gpus, n_gpus);
    else
        rc = run_sequential(&R, sel, n_sel);
    /* The SQLite store, rebuilt from every run directory of the results folder.  Not for --only
     * (Slurm array tasks and --gpus children run concurrently into one folder: 'joulebench
     * index' afterwards) and not after a signal.  A failure here loses nothing: the run
     * directories are the record. */
    if (!only && !stop_signal) {
        char db[4096];
        struct store_stats st;
        snprintf(db, sizeof(db), "%s/results.db", R.results);
        memset(&st, 0, sizeof(st));
        if (store_build(R.results, db, 0, &st, store_warn, NULL, err, sizeof(err)) < 0)
            cli_warn("the store was not rebuilt: %s ('joulebench index %s' retries)", err,
                     R.results);
    }
out:
    if (have_handlers) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    jb_meter_set_free(R.set);
    free(R.meters);
    free(R.grid_dir);
    free(sel);
    grid_free(R.g);
    return rc;
}
