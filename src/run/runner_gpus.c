/*
 * runner_gpus.c - the --gpus scheduler: up to one run per listed GPU at a time, each in a child
 * runner `joulebench run GRID --only I -o RESULTS --meters SPEC --quiet` limited to its GPU
 * (CUDA_VISIBLE_DEVICES, and a meter specification rewritten by meterspec_for_gpu).  The child
 * does the run's lock, attempts, retries and cooldown; this file only hands out runs, forwards
 * SIGINT/SIGTERM and counts the children's exit statuses.  docs/runner.md "--gpus LIST".
 */
#include "run/runner_int.h"

#include "run/meterspec.h"
#include "util/spawn.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct slot {
    int gpu;
    pid_t pid;  /* 0: free; -1: its runner could not be executed (a failed run, not yet counted) */
    size_t run; /* index into g->runs */
};

struct sched {
    char self[PATH_MAX];
    char *specs[RUNNER_MAX_GPUS];
    struct slot slots[RUNNER_MAX_GPUS];
    size_t *queue, nq, qi, busy;
};

/*
 * Starts the child runner of s->run through the shared spawner (util/spawn.h): by absolute path,
 * the environment plus CUDA_VISIBLE_DEVICES and CUDA_DEVICE_ORDER (built before fork), its own
 * process group (a terminal's Ctrl-C reaches us, and we forward it once), SIGTERM when we die
 * (the child stops, interrupted and recorded), stdio and folder inherited.  -1 when it could not
 * be started (an ERROR was sent).  A binary that cannot be executed is reported here and then
 * fails as a run (exit 127, taken up by the scheduler loop): the child prints nothing.
 */
static int spawn_child(struct runner *R, struct sched *S, struct slot *s, const char *spec,
                       int more)
{
    char idx[32], cvd[48];
    char *argv[16], *add[] = {cvd, "CUDA_DEVICE_ORDER=PCI_BUS_ID", NULL}, **env;
    size_t n = 0;
    struct spawn_opts so;
    struct spawn_error se;
    pid_t pid;

    snprintf(idx, sizeof(idx), "%zu", s->run);
    snprintf(cvd, sizeof(cvd), "CUDA_VISIBLE_DEVICES=%d", s->gpu);
    argv[n++] = "joulebench";
    argv[n++] = "run";
    argv[n++] = (char *)R->g->path;
    argv[n++] = "--only";
    argv[n++] = idx;
    argv[n++] = "-o";
    argv[n++] = (char *)R->o->results;
    argv[n++] = "--meters";
    argv[n++] = (char *)spec;
    argv[n++] = "--quiet";
    if (more)
        argv[n++] = "--cooldown-last";
    if (R->o->echo)
        argv[n++] = "--echo";
    argv[n] = NULL;

    env = spawn_env(NULL, add);
    if (!env) {
        runner__msg(R, RUNNER_MSG_ERROR, "cannot start a runner for gpu %d: %s", s->gpu,
                    strerror(ENOMEM));
        return -1;
    }
    memset(&so, 0, sizeof(so));
    so.file = S->self;
    so.argv = argv;
    so.envp = env;
    so.new_pgrp = 1;
    so.death_signal = SIGTERM;
    fflush(NULL);
    pid = spawn_start(&so, &se);
    free(env);
    if (pid < 0 && se.stage == SPAWN_ERR_EXEC) {
        runner__msg(R, RUNNER_MSG_ERROR, "cannot execute '%s': %s", S->self, strerror(se.err));
        s->pid = -1; /* a failed run, counted by sched_loop */
        return 0;
    }
    if (pid < 0) {
        runner__msg(R, RUNNER_MSG_ERROR, "cannot start a runner for gpu %d: %s", s->gpu,
                    strerror(se.err));
        return -1;
    }
    s->pid = pid;
    return 0;
}

/* The binary, the per-GPU meter specifications and the queue of runs not complete yet. */
static int sched_init(struct runner *R, struct sched *S, struct runner_result *res, char *err,
                      size_t errlen)
{
    const struct runner_opts *o = R->o;
    int dropped = 0;

    S->queue = calloc(o->n_sel ? o->n_sel : 1, sizeof(*S->queue));
    if (!S->queue)
        return snprintf(err, errlen, "out of memory"), -1;
    if (o->self_exe) {
        if (snprintf(S->self, sizeof(S->self), "%s", o->self_exe) >= (int)sizeof(S->self))
            return snprintf(err, errlen, "'%s': path too long", o->self_exe), -1;
    } else {
        ssize_t sl = readlink("/proc/self/exe", S->self, sizeof(S->self) - 1);
        if (sl < 0)
            return snprintf(err, errlen, "cannot find the joulebench binary (/proc/self/exe): %s",
                            strerror(errno)),
                   -1;
        S->self[sl] = '\0';
    }
    for (size_t i = 0; i < o->n_gpus; i++) {
        S->specs[i] = meterspec_for_gpu(R->meters, o->gpus[i], &dropped);
        if (!S->specs[i])
            return snprintf(err, errlen,
                            "meters '%s' name no GPU or simulated meter to give each --gpus "
                            "runner",
                            R->meters),
                   -1;
        S->slots[i].gpu = o->gpus[i];
        S->slots[i].pid = 0;
    }
    if (dropped)
        runner__msg(R, RUNNER_MSG_NOTE,
                    "--gpus: CPU and DRAM meters are left out: concurrent "
                    "runs share them");
    for (size_t i = 0; i < o->n_sel; i++) {
        if (runner__state_in(R->grid_dir, &R->g->runs[o->sel[i]]) == RUNNER_STATE_COMPLETE)
            res->n_skipped++;
        else
            S->queue[S->nq++] = o->sel[i];
    }
    R->n_todo = S->nq;
    if (res->n_skipped)
        runner__msg(R, RUNNER_MSG_PROGRESS,
                    "%zu of %zu runs already complete; %zu to run on %zu GPUs", res->n_skipped,
                    o->n_sel, S->nq, o->n_gpus);
    return 0;
}

/* Slot s's child ended (exited: WIFEXITED, code: its WEXITSTATUS): which run, and how. */
static void slot_done(struct runner *R, struct sched *S, struct slot *s, int exited, int code,
                      struct runner_result *res)
{
    const char *what;

    s->pid = 0;
    S->busy--;
    if (exited && code == 0) {
        res->n_complete++;
        what = "complete";
    } else if (exited && (code == 130 || code == 143)) {
        what = "interrupted";
        if (!runner__stop_signal)
            runner__stop_signal = code - 128;
    } else {
        res->n_failed++;
        what = "failed";
    }
    runner__msg(R, RUNNER_MSG_PROGRESS, "gpu %d: %s %s", s->gpu, R->g->runs[s->run].run_id, what);
}

/* A child ended, or (pid -1) the runners that could not be executed: as if they exited 127. */
static void reap(struct runner *R, struct sched *S, pid_t pid, int status,
                 struct runner_result *res)
{
    for (size_t i = 0; i < R->o->n_gpus; i++) {
        struct slot *s = &S->slots[i];
        if (s->pid != pid)
            continue;
        if (pid < 0)
            slot_done(R, S, s, 1, 127, res);
        else
            slot_done(R, S, s, WIFEXITED(status), WIFEXITED(status) ? WEXITSTATUS(status) : 0, res);
    }
}

/* Starts a child on every free GPU while runs are queued. */
static void fill_slots(struct runner *R, struct sched *S)
{
    for (size_t i = 0; i < R->o->n_gpus && S->qi < S->nq && !runner__stop_signal; i++) {
        struct slot *s = &S->slots[i];
        if (s->pid)
            continue;
        s->run = S->queue[S->qi++];
        if (spawn_child(R, S, s, S->specs[i], S->qi < S->nq) < 0) {
            runner__stop_signal = SIGTERM;
            break;
        }
        S->busy++;
        runner__msg(R, RUNNER_MSG_PROGRESS, "[%zu/%zu] gpu %d: %s (run %zu)", S->qi, S->nq, s->gpu,
                    R->g->runs[s->run].run_id, s->run);
    }
}

static void sched_loop(struct runner *R, struct sched *S, struct runner_result *res)
{
    int forwarded = 0;

    while (S->qi < S->nq || S->busy) {
        int status;
        pid_t pid;

        fill_slots(R, S);
        if (!S->busy)
            break;
        reap(R, S, -1, 0, res); /* runners that could not be executed */
        if (!S->busy)
            continue;
        if (runner__stop_signal && !forwarded) {
            for (size_t i = 0; i < R->o->n_gpus; i++)
                if (S->slots[i].pid > 0)
                    kill(S->slots[i].pid, runner__stop_signal);
            forwarded = 1;
        }
        /* Polled rather than blocking, so that a signal arriving just before the wait is
         * still forwarded at once. */
        pid = waitpid(-1, &status, WNOHANG);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            runner__msg(R, RUNNER_MSG_ERROR, "waitpid: %s", strerror(errno));
            res->error = 1;
            break;
        }
        if (pid == 0) {
            struct timespec ts = {0, 50000000};
            nanosleep(&ts, NULL);
            continue;
        }
        reap(R, S, pid, status, res);
    }
}

int runner__run_gpus(struct runner *R, struct runner_result *res, char *err, size_t errlen)
{
    struct sched *S = calloc(1, sizeof(*S));
    int rc = -1;

    if (!S)
        return snprintf(err, errlen, "out of memory"), -1;
    if (sched_init(R, S, res, err, errlen) < 0)
        goto out;
    sched_loop(R, S, res);
    runner__msg(R, RUNNER_MSG_PROGRESS,
                "grid %s: %zu complete, %zu failed, %zu already complete, %zu not run", R->g->name,
                res->n_complete, res->n_failed, res->n_skipped,
                S->nq - res->n_complete - res->n_failed);
    rc = 0;
out:
    for (size_t i = 0; i < R->o->n_gpus; i++)
        free(S->specs[i]);
    free(S->queue);
    free(S);
    return rc;
}
