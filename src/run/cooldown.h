/*
 * cooldown.h - the grid's cooldown (docs/grid-format.md) taken *before* a run, as each Slurm
 * array task or run part does: the task does not know what its node ran just before, so it
 * waits the fixed seconds, then polls the meters once a second until every meter that reports
 * a temperature is at or below until_temp_c, or max_wait_s has passed.  until_power_above_idle_w
 * compares with the run's idle baseline, which does not exist before the run: it is not applied
 * here (the caller is told through a line).  The sequential runner cools down *after* each run
 * (src/cli/cmd_run.c); this is the same policy for runs that start on their own.  It prints
 * nothing: progress goes through the line callback.
 */
#ifndef JB_SRC_RUN_COOLDOWN_H
#define JB_SRC_RUN_COOLDOWN_H

#include "joulebench.h"
#include "run/grid.h"

#include <signal.h>

/* 1 when the cooldown does anything before a run (seconds > 0 or a temperature condition). */
int cooldown_wanted(const struct grid_cooldown *c);

/*
 * Waits as described above.  set may be NULL (then only the fixed wait).  line(user, msg) gets
 * each progress message ("cooldown: 30 s", "cooldown: cool after 12 s", warnings).  Returns 0,
 * or -1 as soon as *stop is non-zero (a signal handler sets it).
 */
int cooldown_before(const struct grid_cooldown *c, struct jb_meter_set *set,
                    volatile sig_atomic_t *stop, void (*line)(void *user, const char *msg),
                    void *user);

#endif
