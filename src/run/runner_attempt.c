/*
 * runner_attempt.c - one run of a grid: its lock, its attempts (each a measure_run into the run
 * directory, the unfinished ones moved aside first), the retries after a failure and the cooldown
 * after each execution that another one follows (cooldown.c, shared with the Slurm tasks).  It reports through the runner's messages; the
 * loops over runs are in runner.c and runner_gpus.c.
 */
#include "run/runner_int.h"

#include "run/cooldown.h"
#include "util/strbuf.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int runner_should_retry(int exit_status, int term_signal, int timed_out)
{
    return timed_out || term_signal || exit_status != 2;
}

/* What every attempt of one run shares. */
struct run_ctx {
    const struct grid_run *r;
    char *dir; /* RESULTS/<grid>/<run-id> */
    char **argv, **env;
    char *workdir;
    struct measure_level *levels;
    struct strbuf levels_text; /* "LEVEL=VALUE ..." for the progress line */
};

static void ctx_free(struct run_ctx *c)
{
    sb_free(&c->levels_text);
    free(c->levels);
    free(c->workdir);
    grid_strv_free(c->argv);
    grid_strv_free(c->env);
    free(c->dir);
}

static int ctx_init(struct runner *R, const struct grid_run *r, struct run_ctx *c)
{
    const struct grid *g = R->g;

    memset(c, 0, sizeof(*c));
    c->r = r;
    c->dir = runner__path_join3(R->grid_dir, r->run_id, NULL);
    c->argv = grid_run_argv(g, r);
    c->env = grid_run_env(g, r);
    c->workdir = g->workdir_tmpl ? grid_expand(g, r, g->workdir_tmpl) : NULL;
    c->levels = calloc(g->n_levels ? g->n_levels : 1, sizeof(*c->levels));
    if (!c->dir || !c->argv || !c->env || (g->workdir_tmpl && !c->workdir) || !c->levels)
        return -1;
    for (size_t l = 0; l < g->n_levels; l++) {
        c->levels[l].name = g->levels[l].name;
        c->levels[l].value = r->values[l];
    }
    for (size_t l = 0; l < g->n_levels; l++)
        sb_printf(&c->levels_text, "%s%s=%s", l ? " " : "", g->levels[l].name, r->values[l]);
    return 0;
}

static void fill_opts(struct runner *R, const struct run_ctx *c, int attempt,
                      struct measure_opts *o)
{
    const struct grid *g = R->g;

    memset(o, 0, sizeof(*o));
    o->argv = c->argv;
    o->env_extra = c->env;
    o->workdir = c->workdir;
    o->meters = R->meters;
    o->interval_ms = g->interval_ms;
    o->energy_interval_ms = g->energy_interval_ms;
    o->carbon = &g->carbon;
    o->idle_s = g->idle_baseline_s;
    o->timeout_s = g->timeout_s;
    o->rundir = c->dir;
    o->capture = 1;
    o->echo = R->o->echo;
    o->grid = g->name;
    o->run_id = c->r->run_id;
    o->levels = c->levels;
    o->n_levels = g->n_levels;
    o->repeat = c->r->repeat;
    o->attempt = attempt;
    o->on_live = runner__on_live;
    o->user = R;
    o->quiet_meter_notes = 1;
}

static void report_complete(struct runner *R, const struct run_ctx *c,
                            const struct measure_result *res)
{
    struct strbuf e = STRBUF_INIT;
    for (size_t i = 0; i < res->n_meters; i++)
        sb_printf(&e, "%s%s %.1f J", i ? ", " : "", res->meters[i].id, res->meters[i].energy_j);
    runner__msg(R, RUNNER_MSG_PROGRESS, "[%zu/%zu] %s: complete in %.1f s (%s)", R->pos, R->n_todo,
                c->r->run_id, res->duration_s, sb_str(&e));
    sb_free(&e);
}

static void report_failure(struct runner *R, const struct run_ctx *c,
                           const struct measure_result *res)
{
    const char *id = c->r->run_id;

    if (res->timed_out)
        runner__msg(R, RUNNER_MSG_WARNING, "run %s failed: timed out after %.0f s (timeout_s)", id,
                    R->g->timeout_s);
    else if (res->term_signal)
        runner__msg(R, RUNNER_MSG_WARNING, "run %s failed: killed by signal %d (see %s/stderr.log)",
                    id, res->term_signal, c->dir);
    else if (res->exit_status < 0)
        runner__msg(R, RUNNER_MSG_WARNING,
                    "run %s failed: the command did not start (see %s/manifest.json)", id, c->dir);
    else
        runner__msg(R, RUNNER_MSG_WARNING, "run %s failed: exit status %d (see %s/stderr.log)", id,
                    res->exit_status, c->dir);
}

/* The cooldown's messages as the runner's: progress and warnings, the polls as the live line
 * (with --live only); that it is cool is not said (the next run's line follows). */
static void cooldown_msg(void *user, enum cooldown_msg kind, const char *text)
{
    struct runner *R = user;

    switch (kind) {
    case COOLDOWN_MSG_PROGRESS: runner__msg(R, RUNNER_MSG_PROGRESS, "%s", text); break;
    case COOLDOWN_MSG_WARNING: runner__msg(R, RUNNER_MSG_WARNING, "%s", text); break;
    case COOLDOWN_MSG_WAITING:
        if (R->o->live)
            runner__msg(R, RUNNER_MSG_LIVE, "%s", text);
        break;
    case COOLDOWN_MSG_DONE: break;
    }
}

int runner__cooldown(struct runner *R, const struct measure_result *res)
{
    struct cooldown_opts o = {&R->g->cooldown,      R->set,       res, 0,
                              &runner__stop_signal, cooldown_msg, R};

    return cooldown_wait(&o);
}

/*
 * Try t (0-based) of the run: one measured execution and the cooldown after it.  Sets *out to
 * the outcome so far (left as it is when the try could not be made); returns 1 when another try
 * follows, 0 when the run is done.
 */
static int attempt_once(struct runner *R, struct run_ctx *c, int t, int more,
                        enum runner_outcome *out)
{
    const struct grid *g = R->g;
    int tries = g->retries + 1, attempt = 1, rc, retry = 0;
    struct measure_opts o;
    struct measure_result res;
    char err[1024];
    uint64_t t0 = jb_now_ns();

    if (runner__stop_signal) {
        *out = OUT_INTERRUPTED;
        return 0;
    }
    if (runner__move_aside(R, c->r, c->dir, &attempt) < 0)
        return 0;
    runner__msg(R, RUNNER_MSG_PROGRESS, "[%zu/%zu] %s (run %zu%s%s, attempt %d)", R->pos, R->n_todo,
                c->r->run_id, c->r->index, g->n_levels ? ": " : "", sb_str(&c->levels_text),
                attempt);
    fill_opts(R, c, attempt, &o);
    R->cur = c->r;
    memset(&res, 0, sizeof(res));
    rc = measure_run(&o, &res, runner__on_warn, err, sizeof(err));
    R->cur = NULL;
    runner__live_clear(R);
    if (rc < 0) {
        runner__msg(R, RUNNER_MSG_ERROR, "run %s: %s", c->r->run_id, err);
        measure_result_free(&res);
        return 0;
    }
    if (res.status == MEASURE_INTERRUPTED) {
        if (res.got_signal)
            runner__stop_signal = res.got_signal;
        else if (!runner__stop_signal)
            runner__stop_signal = SIGINT;
        runner__msg(R, RUNNER_MSG_PROGRESS,
                    "[%zu/%zu] %s: interrupted (signal %d); stopping the grid", R->pos, R->n_todo,
                    c->r->run_id, (int)runner__stop_signal);
        measure_result_free(&res);
        *out = OUT_INTERRUPTED;
        return 0;
    }
    if (res.late_signal && !runner__stop_signal) {
        runner__stop_signal = res.late_signal; /* the run is whole; the grid stops after it */
        runner__msg(R, RUNNER_MSG_PROGRESS,
                    "[%zu/%zu] %s: signal %d after the command ended; stopping the grid after "
                    "this run",
                    R->pos, R->n_todo, c->r->run_id, res.late_signal);
    }
    if (res.status == MEASURE_COMPLETE) {
        report_complete(R, c, &res);
        *out = OUT_COMPLETE;
    } else {
        report_failure(R, c, &res);
        retry =
            t + 1 < tries && runner_should_retry(res.exit_status, res.term_signal, res.timed_out);
        if (retry)
            runner__msg(R, RUNNER_MSG_PROGRESS, "[%zu/%zu] %s: retrying (%d of %d retries left)",
                        R->pos, R->n_todo, c->r->run_id, tries - t - 1, g->retries);
        else if (t + 1 < tries)
            runner__msg(R, RUNNER_MSG_PROGRESS,
                        "[%zu/%zu] %s: not retried: exit status 2 is a usage error (retries are "
                        "for failures that may pass next time)",
                        R->pos, R->n_todo, c->r->run_id);
        *out = OUT_FAILED;
    }
    /* Cool down after every execution that another one follows (a retry or the next run). */
    if ((retry || more || R->o->cooldown_last) && runner__cooldown(R, &res) < 0) {
        measure_result_free(&res);
        R->executed_s += (double)(jb_now_ns() - t0) / 1e9;
        if (*out != OUT_COMPLETE)
            *out = OUT_INTERRUPTED;
        return 0;
    }
    R->executed_s += (double)(jb_now_ns() - t0) / 1e9;
    measure_result_free(&res);
    return retry;
}

enum runner_outcome runner__run_one(struct runner *R, const struct grid_run *r, int more)
{
    struct run_ctx c;
    enum runner_outcome out = OUT_ERROR;
    int lock_fd = runner__lock_run(R, r);

    if (lock_fd == -2) {
        runner__msg(R, RUNNER_MSG_PROGRESS,
                    "[%zu/%zu] %s: being measured by another runner; skipped", R->pos, R->n_todo,
                    r->run_id);
        return OUT_BUSY;
    }
    if (lock_fd < 0)
        return OUT_ERROR;
    /* Another runner may have finished it between our look and the lock. */
    if (runner__state_in(R->grid_dir, r) == RUNNER_STATE_COMPLETE) {
        close(lock_fd);
        return OUT_COMPLETE;
    }
    if (ctx_init(R, r, &c) < 0)
        runner__msg(R, RUNNER_MSG_ERROR, "out of memory");
    else
        for (int t = 0; t < R->g->retries + 1; t++)
            if (!attempt_once(R, &c, t, more, &out))
                break;
    R->n_executed++;
    close(lock_fd);
    ctx_free(&c);
    return out;
}
