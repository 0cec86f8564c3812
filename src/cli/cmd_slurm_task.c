/*
 * cmd_slurm_task.c - the steps a 'joulebench slurm' job script calls back into joulebench for:
 *   --task-cooldown I   the grid's cooldown before array task I's run (src/run/cooldown.c),
 *                       logged with UTC times to the task's log; nothing when run I is complete;
 *   --task-part I       one srun task's part of run I of a grid whose runs span several nodes:
 *                       cooldown, then run I's command measured (measure_run, as 'stat' does)
 *                       into RESULTS/<grid>/<run-id>/part-<rank>/ with its tag part.json.
 * A part is redone unless the whole set is complete (parts from different executions of one
 * distributed job cannot be added up); the merge is 'report's (src/analysis/parts.c).  Not the
 * script writer and not the runner: retries and locks are 'run's, Slurm requeues parts.
 */
#include "cli/cli.h"
#include "cli/slurm.h"

#include "analysis/parts.h"
#include "json.h"
#include "joulebench.h"
#include "run/cooldown.h"
#include "run/grid.h"
#include "run/measure.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

static void utc_now(char *out, size_t n)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

/* A progress line of a task, with the UTC time (the task logs are read beside manifests). */
static void task_line(void *user, const char *msg)
{
    char t[80];
    utc_now(t, sizeof(t));
    fprintf(stderr, "joulebench: %s: %s [%s]\n", (const char *)user, msg, t);
}

/* The grid and its run I.  NULL after a message. */
static struct grid *load_run(const char *path, const char *index, const struct grid_run **r)
{
    char err[1024];
    long i;
    struct grid *g = grid_load(path, err, sizeof(err));

    if (!g) {
        cli_error("%s", err);
        return NULL;
    }
    if (cli_parse_long(index, 0, (long)g->n_runs - 1, &i) < 0) {
        cli_error("run index '%s': expected 0 to %zu (grid '%s' has %zu runs)", index,
                  g->n_runs - 1, g->name, g->n_runs);
        grid_free(g);
        return NULL;
    }
    *r = &g->runs[i];
    return g;
}

static char *run_dir_of(const char *results, const struct grid *g, const struct grid_run *r)
{
    struct strbuf sb = STRBUF_INIT;
    sb_printf(&sb, "%s/%s/%s", results, g->name, r->run_id);
    if (sb_failed(&sb)) {
        sb_free(&sb);
        return NULL;
    }
    return sb.buf;
}

/* 1 when dir/manifest.json says complete. */
static int complete(const char *dir)
{
    struct strbuf p = STRBUF_INIT;
    char *text = NULL, err[256];
    size_t len = 0;
    struct jb_json *j = NULL;
    int ok = 0;

    sb_printf(&p, "%s/manifest.json", dir);
    if (!sb_failed(&p) && fs_read_file(sb_str(&p), &text, &len, err, sizeof(err)) == 0 &&
        jb__json_parse(text, len, &j, err, sizeof(err)) == 0)
        ok = !strcmp(jb__json_str(j, "status", ""), "complete");
    jb__json_free(j);
    free(text);
    sb_free(&p);
    return ok;
}

/* The grid's meters, with meters_fallback when none is found; NULL when none (the run will
 * say why). */
static struct jb_meter_set *open_meters(const struct grid *g, const char **spec)
{
    struct jb_meter_set *set = jb_meter_set_new();

    *spec = g->meters;
    if (set && jb_meter_set_add(set, g->meters) == 0 && jb_meter_set_count(set) > 0)
        return set;
    jb_meter_set_free(set);
    if (!g->meters_fallback)
        return NULL;
    set = jb_meter_set_new();
    if (set && jb_meter_set_add(set, g->meters_fallback) == 0 && jb_meter_set_count(set) > 0) {
        *spec = g->meters_fallback;
        cli_warn("SIMULATED meter: meters '%s' found no meter on this node; meters_fallback '%s' "
                 "is used (energy of this part is simulated, not measured)",
                 g->meters, g->meters_fallback);
        return set;
    }
    jb_meter_set_free(set);
    return NULL;
}

static void catch_stop(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int slurm_task_cooldown(const char *grid_path, const char *index, const char *results)
{
    const struct grid_run *r;
    const char *spec;
    struct grid *g = load_run(grid_path, index, &r);
    struct jb_meter_set *set;
    char *dir;
    int rc;

    if (!g)
        return JB_EXIT_FAIL;
    dir = run_dir_of(results, g, r);
    if (!dir) {
        grid_free(g);
        return cli_error("out of memory");
    }
    if (complete(dir) || !cooldown_wanted(&g->cooldown)) {
        free(dir);
        grid_free(g);
        return JB_EXIT_OK;
    }
    catch_stop();
    set = open_meters(g, &spec);
    rc = cooldown_before(&g->cooldown, set, &stop_signal, task_line, r->run_id);
    if (rc == 0)
        task_line(r->run_id, "cooldown: done");
    jb_meter_set_free(set);
    free(dir);
    grid_free(g);
    return rc < 0 ? 128 + stop_signal : JB_EXIT_OK;
}

/* This task's place in the step: rank, number of tasks, node, job.  -1 after a message. */
static int step_place(const struct grid *g, long *rank, const char **node, const char **job)
{
    static char host[256];
    const char *pid = getenv("SLURM_PROCID"), *nt = getenv("SLURM_STEP_NUM_TASKS");
    long n;

    if (!nt)
        nt = getenv("SLURM_NTASKS");
    if (!pid || !nt || cli_parse_long(pid, 0, PARTS_MAX - 1, rank) < 0 ||
        cli_parse_long(nt, 1, PARTS_MAX, &n) < 0)
        return cli_error("--task-part runs inside an srun step (SLURM_PROCID and "
                         "SLURM_STEP_NUM_TASKS not set or not numbers): use the script "
                         "'joulebench slurm' writes"),
               -1;
    if (n != grid_n_parts(g))
        return cli_error("the srun step has %ld tasks, but a run of grid '%s' has %ld parts "
                         "(nodes %ld x tasks_per_node %ld)",
                         n, g->name, grid_n_parts(g), g->nodes, g->tasks_per_node),
               -1;
    *node = getenv("SLURMD_NODENAME");
    if (!*node) {
        if (gethostname(host, sizeof(host) - 1) < 0)
            snprintf(host, sizeof(host), "unknown");
        *node = host;
    }
    *job = getenv("SLURM_JOB_ID") ? getenv("SLURM_JOB_ID") : "";
    return 0;
}

/* Moves an earlier part-<rank> aside to RUN/.attempts/part-<rank>/<n>.  0 or -1. */
static int part_aside(const char *run_dir, const char *part_dir, long rank)
{
    struct strbuf att = STRBUF_INIT, dst = STRBUF_INIT;
    char err[1024];
    int rc = -1;

    if (!fs_exists(part_dir))
        return 0;
    sb_printf(&att, "%s/.attempts/part-%ld", run_dir, rank);
    if (sb_failed(&att) || fs_mkdir_p(sb_str(&att), err, sizeof(err)) < 0) {
        cli_error("%s", sb_failed(&att) ? "out of memory" : err);
        goto out;
    }
    for (int n = 1; n < 100000; n++) {
        sb_reset(&dst);
        sb_printf(&dst, "%s/%d", sb_str(&att), n);
        if (sb_failed(&dst))
            break;
        if (!fs_exists(sb_str(&dst))) {
            if (rename(part_dir, sb_str(&dst)) < 0)
                cli_error("cannot move the earlier part '%s' aside: %s", part_dir, strerror(errno));
            else
                rc = 0;
            goto out;
        }
    }
    cli_error("cannot move the earlier part '%s' aside", part_dir);
out:
    sb_free(&att);
    sb_free(&dst);
    return rc;
}

static void part_warn(void *user, const char *msg)
{
    (void)user;
    cli_warn("%s", msg);
}

/* measure_run of run r into part_dir.  Returns the exit status. */
static int measure_part(const struct grid *g, const struct grid_run *r, const char *spec,
                        const char *part_dir)
{
    char **argv = grid_run_argv(g, r), **env = grid_run_env(g, r);
    char *workdir = g->workdir_tmpl ? grid_expand(g, r, g->workdir_tmpl) : NULL;
    struct measure_level *levels = calloc(g->n_levels ? g->n_levels : 1, sizeof(*levels));
    struct measure_opts o;
    struct measure_result res;
    char err[1024];
    int rc = JB_EXIT_FAIL;

    memset(&res, 0, sizeof(res));
    if (!argv || !env || (g->workdir_tmpl && !workdir) || !levels) {
        rc = cli_error("out of memory");
        goto out;
    }
    for (size_t l = 0; l < g->n_levels; l++) {
        levels[l].name = g->levels[l].name;
        levels[l].value = r->values[l];
    }
    memset(&o, 0, sizeof(o));
    o.argv = argv;
    o.env_extra = env;
    o.workdir = workdir;
    o.meters = spec;
    o.interval_ms = g->interval_ms;
    o.energy_interval_ms = g->energy_interval_ms;
    o.idle_s = g->idle_baseline_s;
    o.timeout_s = g->timeout_s;
    o.rundir = part_dir;
    o.capture = 1;
    o.grid = g->name;
    o.run_id = r->run_id;
    o.levels = levels;
    o.n_levels = g->n_levels;
    o.repeat = r->repeat;
    o.attempt = 1;
    o.quiet_meter_notes = 1;
    if (measure_run(&o, &res, part_warn, err, sizeof(err)) < 0) {
        rc = cli_error("run %s, %s: %s", r->run_id, part_dir, err);
        goto out;
    }
    if (res.late_signal && res.status != MEASURE_INTERRUPTED)
        rc = 128 + res.late_signal; /* the part is whole; the task still stops as asked */
    else if (res.status == MEASURE_COMPLETE)
        rc = JB_EXIT_OK;
    else if (res.status == MEASURE_INTERRUPTED)
        rc = 128 + (res.got_signal ? res.got_signal : SIGTERM);
    else
        cli_warn("run %s: part %s failed (exit status %d; see its stderr.log)", r->run_id, part_dir,
                 res.exit_status);
out:
    measure_result_free(&res);
    free(levels);
    free(workdir);
    grid_strv_free(argv);
    grid_strv_free(env);
    return rc;
}

int slurm_task_part(const char *grid_path, const char *index, const char *results)
{
    const struct grid_run *r;
    const char *spec, *node, *job;
    struct grid *g = load_run(grid_path, index, &r);
    struct jb_meter_set *set = NULL;
    struct strbuf part = STRBUF_INIT, who = STRBUF_INIT;
    char *dir = NULL, msg[1024];
    long rank;
    int rc = JB_EXIT_FAIL;

    if (!g)
        return JB_EXIT_FAIL;
    if (step_place(g, &rank, &node, &job) < 0)
        goto out;
    dir = run_dir_of(results, g, r);
    sb_printf(&part, "%s/part-%ld", dir ? dir : "", rank);
    sb_printf(&who, "%s part %ld of %ld on %s", r->run_id, rank, grid_n_parts(g), node);
    if (!dir || sb_failed(&part) || sb_failed(&who)) {
        rc = cli_error("out of memory");
        goto out;
    }
    /* Every rank sees the same answer: nothing changes a complete set. */
    if (complete(dir) || parts_check(dir, msg, sizeof(msg)) == 0) {
        task_line(who.buf, "complete already; skipped");
        rc = JB_EXIT_OK;
        goto out;
    }
    if (part_aside(dir, sb_str(&part), rank) < 0)
        goto out;
    catch_stop();
    set = open_meters(g, &spec);
    if (!set) {
        rc = cli_error("meters '%s' found no meter on %s (see 'joulebench devices')", g->meters,
                       node);
        goto out;
    }
    if (cooldown_before(&g->cooldown, set, &stop_signal, task_line, who.buf) < 0) {
        rc = 128 + stop_signal;
        goto out;
    }
    jb_meter_set_free(set);
    set = NULL;
    {
        struct parts_tag t = {g->name, r->run_id, node, job, rank, grid_n_parts(g)};
        if (parts_write_tag(sb_str(&part), &t, msg, sizeof(msg)) < 0) {
            rc = cli_error("%s", msg);
            goto out;
        }
    }
    task_line(who.buf, "measuring");
    rc = measure_part(g, r, spec, sb_str(&part));
out:
    jb_meter_set_free(set);
    sb_free(&part);
    sb_free(&who);
    free(dir);
    grid_free(g);
    return rc;
}
