/*
 * runner.h - the study runner: runs the selected runs of a loaded grid, one measured execution
 * per run (measure_run), each into its run directory RESULTS/<grid>/<run-id>, resumably.
 *
 * The runner owns the policy around the measurements: which runs are left (a run is done when
 * its manifest.json says complete), the attempts and retries of a run, the cooldown between
 * runs, progress and an ETA, a lock per run so that two runners never measure the same run,
 * keeping failed attempts aside, and the --gpus scheduler (one child runner per GPU, each limited
 * to its GPU).  It does not parse options or grids (grid.h), measure (measure.h), build the store
 * or analyse results, and it never prints: every line meant for a person goes through the
 * caller's message callback, and errors that stop it come back in err.  docs/runner.md describes
 * the behaviour.
 *
 * Files: runner.c (entry point, meters, the sequential loop, progress), runner_attempt.c (one
 * run: lock, attempts, retries, and the cooldown through cooldown.h), runner_lock.c (locks, run
 * states, attempts kept aside), runner_gpus.c (the --gpus scheduler); runner_int.h is their private header.
 */
#ifndef JB_SRC_RUN_RUNNER_H
#define JB_SRC_RUN_RUNNER_H

#include "run/grid.h"

#include <stddef.h>

#define RUNNER_MAX_GPUS 256

/* What a message is, so the caller can print it its way. */
enum runner_msg {
    RUNNER_MSG_PROGRESS, /* a progress line ("[2/8] RUN-ID: complete in ..."); a quiet caller drops
                            them */
    RUNNER_MSG_NOTE,     /* "no RAPL domains found", "CPU and DRAM meters are left out" */
    RUNNER_MSG_WARNING,  /* a run failed, cooldown gave up, a protocol line was malformed */
    RUNNER_MSG_ERROR,    /* a run could not be measured; the grid stops (runner_result.error) */
    RUNNER_MSG_BANNER,   /* several lines to show as they are (the SIMULATED meter banner) */
    RUNNER_MSG_LIVE,     /* a transient status line replacing the previous one (only with
                            runner_opts.live); text NULL: clear it */
};

/*
 * Called from the runner's thread, in order.  text is one line without its newline (BANNER: the
 * whole text, newlines included) and is valid only during the call.  Before printing anything but
 * a LIVE line, a caller that shows LIVE lines clears the one shown.
 */
typedef void (*runner_msg_cb)(void *user, enum runner_msg kind, const char *text);

struct runner_opts {
    const char *results; /* results folder; the grid's runs go to results/<grid name>/ */
    const char *meters;  /* meter specification overriding the grid's; NULL: the grid's */
    const size_t *sel;   /* indexes into grid.runs, in the order to run them */
    size_t n_sel;
    const int *gpus; /* n_gpus > 0: --gpus, one child runner per GPU (NVML indexes) */
    size_t n_gpus;
    const char *self_exe; /* the joulebench binary the --gpus children run; NULL: /proc/self/exe */
    int echo;             /* relay the commands' output (children get --echo) */
    int cooldown_last;    /* cool down after the last run too */
    int live;             /* send RUNNER_MSG_LIVE lines (about once a second) */
    runner_msg_cb msg;    /* required */
    void *user;
};

struct runner_result {
    size_t n_complete; /* runs made complete by this call */
    size_t n_failed;   /* runs that failed after their retries, or could not be measured */
    size_t n_skipped;  /* runs complete before the call */
    size_t n_busy;     /* runs skipped because another runner holds their lock */
    int stop_signal;   /* SIGINT/SIGTERM that stopped the grid, 0 when none */
    int error;         /* 1: a run could not be measured (an ERROR message said why) */
};

/*
 * Runs the selected runs of g.  Returns 0 when the grid was run (look at res: every selected run
 * is complete when n_complete + n_skipped == n_sel), or -1 with a message in err when it could
 * not start (bad meter specification, no meter found and no meters_fallback, cannot create the
 * results folder, no GPU meter for --gpus, out of memory).
 *
 * For the call's duration SIGINT and SIGTERM are caught (the previous dispositions are restored
 * before it returns): during a run measure_run forwards them to the command and the run is
 * recorded interrupted; between runs the grid stops; res->stop_signal names the signal.  Not
 * reentrant and not thread-safe: one runner per process at a time (it uses a process-wide flag
 * set from the signal handler).
 */
int runner_run(const struct grid *g, const struct runner_opts *o, struct runner_result *res,
               char *err, size_t errlen);

enum runner_state {
    RUNNER_STATE_PENDING,     /* no directory */
    RUNNER_STATE_COMPLETE,    /* manifest.json says complete */
    RUNNER_STATE_FAILED,      /* ... failed */
    RUNNER_STATE_INTERRUPTED, /* ... interrupted */
    RUNNER_STATE_INCOMPLETE,  /* a directory without a readable manifest (a crash) */
};

/* The state of run r under results/<grid name>/ (from its manifest.json). */
enum runner_state runner_run_state(const struct grid *g, const char *results,
                                   const struct grid_run *r);
/* "pending", "complete", "failed", "interrupted", "incomplete". */
const char *runner_state_name(enum runner_state s);

/*
 * Whether a failed execution is worth trying again (grid key `retries`): retries are for failures
 * that may pass next time (a crash, a timeout, a signal, a command that did not start).  Not when
 * the command exited 2, the conventional usage error (python3's "can't open file", a bad option),
 * which fails the same way every time.  Arguments as in struct measure_result.
 */
int runner_should_retry(int exit_status, int term_signal, int timed_out);

#endif
