/*
 * runner_int.h - private to the runner's files (runner*.c): the runner's state and the
 * functions they share.  Nothing outside src/run/runner*.c includes it; the API is runner.h.
 */
#ifndef JB_SRC_RUN_RUNNER_INT_H
#define JB_SRC_RUN_RUNNER_INT_H

#include "run/grid.h"
#include "run/measure.h"
#include "run/runner.h"

#include "joulebench.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Set by the SIGINT/SIGTERM handler of runner_run, and by the runner itself when a run was
 * interrupted or the grid must stop; read between runs and during waits. */
extern volatile sig_atomic_t runner__stop_signal;

struct runner {
    const struct grid *g;
    const struct runner_opts *o;
    char *grid_dir;           /* RESULTS/<grid> */
    char *meters;             /* resolved meter specification */
    struct jb_meter_set *set; /* the same meters, for cooldown polling and live labels */
    /* progress */
    size_t n_todo;     /* runs to execute at the start */
    size_t n_executed; /* runs executed so far (any outcome) */
    double executed_s; /* their wall time, cooldown included */
    size_t pos;        /* 1-based position of the current run among n_todo */
    const struct grid_run *cur;
    int live_shown;
};

/* The outcome of one run with its retries (runner_attempt.c). */
enum runner_outcome { OUT_COMPLETE, OUT_FAILED, OUT_INTERRUPTED, OUT_BUSY, OUT_ERROR };

/* Messages through the caller's callback; runner__live_clear clears a LIVE line shown. */
void runner__msg(struct runner *R, enum runner_msg kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void runner__live_clear(struct runner *R);
/* "a/b/c" with b and c optional (NULL); malloc'ed, NULL when out of memory. */
char *runner__path_join3(const char *a, const char *b, const char *c);
/* "M:SS" or "H:MM:SS" of s seconds (rounded; 0 for NaN and negatives). */
void runner__fmt_hms(char *buf, size_t len, double s);
/* The ETA of the runs left: mean wall time of the runs executed so far times the runs left;
 * NaN before the first. */
double runner__eta_s(const struct runner *R);
/* measure_run's live callback (user: the runner) and warning callback. */
void runner__on_live(void *user, const struct measure_live *lv);
void runner__on_warn(void *user, const char *msg);

/* runner_attempt.c: one run with its lock, attempts and retries; `more`: another run follows
 * (for the cooldown). */
enum runner_outcome runner__run_one(struct runner *R, const struct grid_run *r, int more);

/* runner_attempt.c: the grid's cooldown after an execution (cooldown.h; res: its idle
 * baselines, may be NULL).  Returns -1 when a stop signal arrived. */
int runner__cooldown(struct runner *R, const struct measure_result *res);

/* runner_lock.c */
enum runner_state runner__state_in(const char *grid_dir, const struct grid_run *r);
/* Takes the run's lock without waiting: the fd, -2 when another runner holds it, -1 on error
 * (an ERROR message was sent). */
int runner__lock_run(struct runner *R, const struct grid_run *r);
/* Moves an unfinished run directory aside to .attempts/<run-id>/<n>; *attempt is the number the
 * next try gets.  -1 on error (an ERROR message was sent). */
int runner__move_aside(struct runner *R, const struct grid_run *r, const char *dir, int *attempt);

/* runner_gpus.c: the --gpus scheduler.  Returns 0, or -1 with err when it could not start. */
int runner__run_gpus(struct runner *R, struct runner_result *res, char *err, size_t errlen);

#endif
