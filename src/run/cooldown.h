/*
 * cooldown.h - the grid's cooldown (docs/grid-format.md `cooldown`, docs/runner.md "Cooldown"),
 * one implementation for both places it is taken: a fixed wait, then (when asked) polling the
 * meters once a second until every meter that reports a temperature is at or below
 * until_temp_c and, after a run, every meter with an idle baseline draws at most idle +
 * until_power_above_idle_w, or max_wait_s has passed.
 *
 * The sequential runner cools down *after* each execution (runner_attempt.c), with that
 * execution's idle baselines.  A Slurm array task or run part cools down *before* its run
 * (cooldown_before, cli/cmd_slurm_task.c): it does not know what its node ran just before, and
 * there is no idle baseline yet, so until_power_above_idle_w is not applied (the caller is told
 * through a line).  It only waits and reads meters; it prints nothing: messages go through the
 * caller's callback, each with its kind, and the caller chooses which to show.
 */
#ifndef JB_SRC_RUN_COOLDOWN_H
#define JB_SRC_RUN_COOLDOWN_H

#include "joulebench.h"
#include "run/grid.h"
#include "run/measure.h"

#include <signal.h>

enum cooldown_msg {
    COOLDOWN_MSG_PROGRESS, /* "cooldown: 30 s", a condition not applied */
    COOLDOWN_MSG_DONE,     /* "cooldown: at or below 50 C after 12 s" */
    COOLDOWN_MSG_WARNING,  /* "cooldown: still not cool after 600 s (max_wait_s): ...; going on" */
    COOLDOWN_MSG_WAITING,  /* each poll that is not cool yet: "cooldown: waiting gpu0 71 C" */
};

struct cooldown_opts {
    const struct grid_cooldown *c;
    struct jb_meter_set *set;          /* NULL: the fixed wait only */
    const struct measure_result *idle; /* after a run: its idle baselines; NULL: none */
    int before_run;                    /* 1: before a run (wording; no idle-power condition) */
    volatile sig_atomic_t *stop;       /* set non-zero by a signal handler: the wait ends */
    void (*msg)(void *user, enum cooldown_msg kind, const char *text); /* may be NULL */
    void *user;
};

/* 1 when the cooldown does anything before a run (seconds > 0 or a temperature condition). */
int cooldown_wanted(const struct grid_cooldown *c);

/* Waits as described above.  Returns 0, or -1 as soon as *o->stop is non-zero. */
int cooldown_wait(const struct cooldown_opts *o);

/* Sleeps up to s seconds in slices of at most 100 ms; -1 as soon as *stop is non-zero. */
int cooldown_sleep(double s, volatile sig_atomic_t *stop);

/*
 * cooldown_wait before a run (before_run = 1, no idle baselines); line(user, msg) gets every
 * message but the WAITING ones.  Returns 0, or -1 as soon as *stop is non-zero.
 */
int cooldown_before(const struct grid_cooldown *c, struct jb_meter_set *set,
                    volatile sig_atomic_t *stop, void (*line)(void *user, const char *msg),
                    void *user);

#endif
