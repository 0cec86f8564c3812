/*
 * runner_gpus.c - the --gpus scheduler: up to one run per listed GPU at a time, each in a child
 * runner `joulebench run GRID --only I -o RESULTS --meters SPEC --quiet` limited to its GPU
 * (CUDA_VISIBLE_DEVICES, and a meter specification rewritten by meterspec_for_gpu).  The child
 * does the run's lock, attempts, retries and cooldown; this file only hands out runs, forwards
 * SIGINT/SIGTERM and counts the children's exit statuses.  docs/runner.md "--gpus LIST".
 */
#include "run/runner_int.h"

#include "run/meterspec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct slot {
    int gpu;
    pid_t pid;  /* 0: free */
    size_t run; /* index into g->runs */
};

struct sched {
    char self[PATH_MAX];
    char *specs[RUNNER_MAX_GPUS];
    struct slot slots[RUNNER_MAX_GPUS];
    size_t *queue, nq, qi, busy;
};

/*
 * Starts the child runner of s->run.  -1 when it could not be started (an ERROR was sent); a
 * binary that cannot be executed is reported here and then fails as a run (exit 127).
 *
 * The same fork + exec pattern as measure.c's spawn() (error pipe, own process group,
 * parent-death signal checked against getppid(), SIGINT/SIGTERM back to default).  When the
 * shared spawner of issue 9 exists (src/util/spawn.*, made from spawn()), this should call it
 * with: absolute path (execv), env additions CUDA_VISIBLE_DEVICES and CUDA_DEVICE_ORDER (built
 * before fork, not setenv in the child), new process group, death signal SIGTERM, inherited
 * stdio and folder.
 */
static int spawn_child(struct runner *R, struct sched *S, struct slot *s, const char *spec,
                       int more)
{
    char idx[32], gpu[16];
    const char *argv[16];
    size_t n = 0;
    pid_t pid, parent = getpid();
    int ep[2], e = 0;
    ssize_t got;

    snprintf(idx, sizeof(idx), "%zu", s->run);
    snprintf(gpu, sizeof(gpu), "%d", s->gpu);
    argv[n++] = "joulebench";
    argv[n++] = "run";
    argv[n++] = R->g->path;
    argv[n++] = "--only";
    argv[n++] = idx;
    argv[n++] = "-o";
    argv[n++] = R->o->results;
    argv[n++] = "--meters";
    argv[n++] = spec;
    argv[n++] = "--quiet";
    if (more)
        argv[n++] = "--cooldown-last";
    if (R->o->echo)
        argv[n++] = "--echo";
    argv[n] = NULL;

    /* A failed exec comes back through a close-on-exec pipe (its errno), so that the parent
     * reports it: the child prints nothing of its own. */
    if (pipe(ep) < 0) {
        runner__msg(R, RUNNER_MSG_ERROR, "cannot start a runner for gpu %d: %s", s->gpu,
                    strerror(errno));
        return -1;
    }
    fcntl(ep[0], F_SETFD, FD_CLOEXEC); /* cannot fail on a descriptor just made */
    fcntl(ep[1], F_SETFD, FD_CLOEXEC);
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        e = errno;
        close(ep[0]);
        close(ep[1]);
        runner__msg(R, RUNNER_MSG_ERROR, "cannot start a runner for gpu %d: %s", s->gpu,
                    strerror(e));
        return -1;
    }
    if (pid == 0) {
        /* Our own process group: a terminal's Ctrl-C reaches the parent, which forwards it once.
         * And the child stops (interrupted, recorded) when the parent dies. */
        close(ep[0]);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(143);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        setenv("CUDA_VISIBLE_DEVICES", gpu, 1);
        setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID", 1);
        execv(S->self, (char *const *)argv);
        e = errno;
        got = write(ep[1], &e, sizeof(e));
        (void)got;
        _exit(127);
    }
    close(ep[1]);
    do {
        got = read(ep[0], &e, sizeof(e));
    } while (got < 0 && errno == EINTR);
    close(ep[0]);
    if (got == (ssize_t)sizeof(e))
        runner__msg(R, RUNNER_MSG_ERROR, "cannot execute '%s': %s", S->self, strerror(e));
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

/* A child ended: which run, and how. */
static void reap(struct runner *R, struct sched *S, pid_t pid, int status,
                 struct runner_result *res)
{
    for (size_t i = 0; i < R->o->n_gpus; i++) {
        struct slot *s = &S->slots[i];
        const char *what;
        if (s->pid != pid)
            continue;
        s->pid = 0;
        S->busy--;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            res->n_complete++;
            what = "complete";
        } else if (WIFEXITED(status) &&
                   (WEXITSTATUS(status) == 130 || WEXITSTATUS(status) == 143)) {
            what = "interrupted";
            if (!runner__stop_signal)
                runner__stop_signal = WEXITSTATUS(status) - 128;
        } else {
            res->n_failed++;
            what = "failed";
        }
        runner__msg(R, RUNNER_MSG_PROGRESS, "gpu %d: %s %s", s->gpu, R->g->runs[s->run].run_id,
                    what);
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
        if (runner__stop_signal && !forwarded) {
            for (size_t i = 0; i < R->o->n_gpus; i++)
                if (S->slots[i].pid)
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
