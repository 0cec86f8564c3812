/*
 * measure.h - one measured execution of a command: the engine behind 'joulebench stat' and each
 * run of 'joulebench run'.
 *
 * It opens the meters, samples an optional idle baseline, starts the sampler, spawns the command
 * (argv, never a shell) with the phase pipe's write end as JOULEBENCH_FD, reads phase events,
 * forwards SIGINT/SIGTERM to the child (SIGKILL after a grace period), enforces a timeout, and at
 * the end resolves per-phase energy.  With a run directory it streams samples.csv while running
 * and writes phases.csv, metrics.csv, the logs and, last, manifest.json (DESIGN.md section 4),
 * each through a temporary name and a rename.  It prints nothing itself except the child's
 * output it relays; callers report.
 */
#ifndef JB_SRC_RUN_MEASURE_H
#define JB_SRC_RUN_MEASURE_H

#include "joulebench.h"

struct carbon_factors;

#include <stddef.h>
#include <stdint.h>

struct measure_level {
    const char *name;
    const char *value;
};

/* Called about once a second from the main loop with live figures (for progress lines). */
struct measure_live {
    double elapsed_s;
    size_t n_meters;
    const double *power_w; /* latest power per meter; NaN when none yet */
};
typedef void (*measure_live_cb)(void *user, const struct measure_live *live);

struct measure_opts {
    char *const *argv; /* command, argv[0] looked up in PATH */
    char *const
        *env_extra;       /* "NAME=VALUE" added to the environment; NULL-terminated; may be NULL */
    const char *workdir;  /* NULL: current directory */
    const char *meters;   /* meter specification (jb_meter_set_add); NULL: "auto" */
    unsigned interval_ms; /* 0: 100 */
    unsigned energy_interval_ms; /* 0: 100 */
    double idle_s;               /* idle baseline before the command; 0: none */
    double timeout_s;            /* 0: none.  On expiry: SIGTERM, then SIGKILL after grace_s */
    double grace_s;              /* 0: 10 */
    const char *rundir;          /* NULL: no run directory (stat without -o) */
    int capture;                 /* 1: child stdout/stderr into rundir/stdout.log, stderr.log */
    int echo;                    /* with capture: also relay to our stdout/stderr */
    /* Manifest fields supplied by the runner (all optional). */
    const char *grid;
    const char *run_id;
    const struct measure_level *levels;
    size_t n_levels;
    int repeat;  /* 0: not part of a grid */
    int attempt; /* 1-based try number */
    measure_live_cb on_live;
    void *user;
    int quiet_meter_notes; /* 1: the caller printed the meter set's notes already */
    size_t keep_phases;    /* phase results kept in measure_result.phases; 0: MEASURE_KEEP_PHASES */
    int quiet_spawn_error; /* 1: a command that cannot be started is not passed to warn(); the
                            * caller reports it from r->spawn_errno */
    /* Carbon and cost factors written into manifest.json as "carbon_factors" when any is
     * given (util/carbon.h); NULL: none. */
    const struct carbon_factors *carbon;
};

/* Phase results kept one by one in measure_result.phases by default (per meter, so a run with
 * two meters keeps half as many phases); beyond it they are summed per (phase name, meter) in
 * measure_result.phase_aggs.  phases.csv gets every result either way (it is streamed). */
#define MEASURE_KEEP_PHASES 100000

/* The phase results beyond the keep limit, summed per (phase name, meter). */
struct measure_phase_agg {
    char phase[32];
    size_t meter;
    size_t count;        /* results summed */
    uint32_t valid;      /* JB_PHASE_ENERGY etc.: set when every result summed had it */
    uint32_t flags;      /* JB_PHASE_FLAG_*: OR of the results' flags */
    size_t n_partial;    /* results with JB_PHASE_PARTIAL */
    size_t n_flagged[8]; /* per JB_PHASE_FLAG_* bit (index = bit position): results with it */
    double duration_s;   /* sums */
    double energy_j, energy_j_lo, energy_j_hi, energy_j_power, items;
};

/* Per-meter totals over the command's whole execution (idle baseline excluded). */
struct measure_meter_total {
    char id[32];
    char name[128];
    char energy_source[16]; /* "counter", "power-integral", "simulated" */
    int simulated;
    double energy_j;
    double energy_j_power; /* trapezoid of power; NaN without power samples */
    double avg_power_w;
    double peak_power_w; /* NaN without power samples */
    double idle_power_w; /* NaN without an idle baseline */
    double net_energy_j; /* NaN without an idle baseline */
};

enum measure_status {
    MEASURE_COMPLETE = 0,    /* command exited 0 */
    MEASURE_FAILED = 1,      /* non-zero exit, killed by a signal, timeout, or spawn failure */
    MEASURE_INTERRUPTED = 2, /* we got SIGINT/SIGTERM and stopped the command */
};

struct measure_result {
    enum measure_status status;
    int exit_status; /* the child's exit code, or 128+signal; -1 when it never ran */
    int term_signal; /* 0 unless killed by a signal */
    int timed_out;
    int got_signal;    /* the signal we received (SIGINT/SIGTERM), 0 if none */
    double duration_s; /* command start to exit */
    size_t n_meters;
    struct measure_meter_total *meters; /* n_meters, owned; free with measure_result_free */
    size_t n_phases;
    struct jb_phase_result *phases; /* meter indexes refer to meters[]; in the order the phases
                                     * resolved; the first keep_phases results, plus the
                                     * "command" and "idle" results always */
    size_t n_phase_aggs;
    struct measure_phase_agg *phase_aggs; /* the results beyond those, summed */
    size_t n_phases_total;                /* results in all (n_phases + sum of counts) */
    size_t n_protocol_errors;             /* malformed protocol lines (reported and skipped) */
    /* CPU time of the command and of the descendants it waited for (wait4's rusage), in
     * seconds; NaN when it never ran. */
    double cpu_user_s;
    double cpu_sys_s;
    int spawn_errno; /* why the command could not be started (exec's or chdir's errno); 0 */
    /* A SIGINT/SIGTERM that came after the command had ended, while its results were being
     * written (0: none).  The run is whole and recorded as it ended; the caller stops (a grid
     * does not go on, stat exits 128+N) as for got_signal. */
    int late_signal;
};

/* Runs one measured execution.  Returns 0 when a result was produced (look at r->status), or -1
 * when the measurement itself could not be made (no meters, cannot create the run directory...),
 * with a message in err.  Meter notes and protocol warnings are passed to warn(). */
int measure_run(const struct measure_opts *o, struct measure_result *r,
                void (*warn)(void *user, const char *msg), char *err, size_t errlen);
void measure_result_free(struct measure_result *r);

const char *measure_status_name(enum measure_status s); /* "complete", "failed", "interrupted" */

#endif
