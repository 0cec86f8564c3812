/*
 * stat_int.h - what the parts of 'joulebench stat' share: the options, one summary across
 * repeats (mean, sd, 95% CI per meter and per phase), and the three outputs (the table, -x rows,
 * JSON).  cmd_stat.c parses options and runs the repeats; stat_summary.c summarises them;
 * stat_table.c, stat_rows.c and stat_json.c write.  Internal to the tool; not a library API.
 */
#ifndef JB_SRC_CLI_STAT_INT_H
#define JB_SRC_CLI_STAT_INT_H

#include "analysis/stats.h"
#include "run/measure.h"
#include "util/strbuf.h"

#include <stdio.h>

struct carbon_factors;

struct stat_opts {
    char *const *argv;  /* the command */
    const char *json;   /* --json: NULL, "-" or a path */
    const char *rundir; /* -o: NULL, "-" (table to stdout, no run directory) or a folder */
    const char *sep;    /* -x SEP; NULL: the table */
    int quiet;          /* -q */
    int repeats;        /* -r N; 1 without -r */
    int repeat_mode;    /* -r given: repeat outputs (summary table, runs in JSON, RUNDIR/i) */
    double timeout_s;   /* --timeout, for the message */
    const struct carbon_factors *carbon; /* --carbon-intensity etc.; never NULL from cmd_stat */
};

/* One measured execution as stat keeps it. */
struct stat_run {
    struct measure_result r;
    int started; /* the command ran (not: it could not be started, r.spawn_errno says why, or
                  * a signal stopped the idle baseline before it) */
};

/* Per meter over the summarised runs. */
struct stat_meter_sum {
    char id[32];
    char name[128];
    char source[16];
    int simulated;
    struct summary energy_j, energy_j_power, avg_power_w, peak_power_w, idle_power_w, net_energy_j;
    uint32_t flags; /* union of the command phase's JB_PHASE_FLAG_* */
};

/* Per (phase, index, meter) over the runs that have it. */
struct stat_phase_sum {
    char phase[32];
    long index;
    size_t meter; /* into stat_summary.meters */
    struct summary duration_s, energy_j, energy_j_power, avg_power_w, peak_power_w, items;
    uint32_t flags; /* union over the runs */
    size_t n_partial;
    uint32_t peak_source; /* the first run's */
    size_t ord;           /* where it first came in a run (the order shown) */
};

/* Over the runs, the whole command's GPU total (run/measure_sum.h): the sum over each run's GPU
 * meters, kept only when a run has two or more (as the one-run table shows it). */
struct stat_gpu_sum {
    size_t n_gpus; /* the most GPU meters a run had; the sums below only when >= 2 */
    int simulated;
    struct summary energy_j, avg_power_w, spread;
};

/* Over the runs, each run's carbon and cost (cli_carbon.h), when a factor is given. */
struct stat_carbon_sum {
    int given;          /* any factor given (else nothing below is filled) */
    int simulated;      /* a simulated meter was counted */
    char included[256]; /* the meters counted, as the first run named them */
    char currency[16];  /* as given ("" for none) */
    struct summary energy_j, facility_kwh, kg_co2e, cost;
};

struct stat_summary {
    size_t n_runs; /* runs summarised */
    struct summary duration_s, cpu_user_s, cpu_sys_s;
    size_t n_meters;
    struct stat_meter_sum *meters;
    size_t n_phases;
    struct stat_phase_sum *phases; /* in the order the phases came */
    struct stat_gpu_sum gpu;
    struct stat_carbon_sum carbon;
};

/* Summarises runs[0..n) (each must have been measured); cf: the carbon factors (NULL or none
 * given: no carbon summary).  0, or -1 when out of memory. */
int stat_summarise(const struct stat_run *runs, size_t n, const struct carbon_factors *cf,
                   struct stat_summary *s);
void stat_summary_free(struct stat_summary *s);

/* Best energy of a phase result: the counter's, else the power integral's; NaN for none. */
double stat_phase_energy(const struct jb_phase_result *p);
/* The flag names of a JB_PHASE_FLAG_* set joined by sep ("stepped+aliasing"); "" for none. */
void stat_flag_names(uint32_t flags, const char *sep, char *out, size_t n);
/* The exit status for a command that could not be started: 127 not found, 126 otherwise. */
int stat_spawn_status(int spawn_errno);
/* "exit status 3", "exit status 143 (timed out after 2 s)", "not run (cannot run: ...)". */
void stat_status_text(const struct stat_run *run, const struct stat_opts *o, char *out, size_t n);

/* The human-readable table of one run (no -r) or of the summary of runs (-r). */
void stat_table_single(FILE *f, const struct stat_opts *o, const struct stat_run *run);
void stat_table_repeats(FILE *f, const struct stat_opts *o, const struct stat_run *runs,
                        size_t n_done, const struct stat_summary *s, int interrupted);
/* -x rows: a header line, then one row per value (docs in the man page). */
void stat_rows(FILE *f, const char *sep, const struct stat_summary *s);
/* The JSON document: one run's object (no -r) or {repeats, runs, summary} (-r). */
void stat_json(struct strbuf *sb, const struct stat_opts *o, const struct stat_run *runs,
               size_t n_done, const struct stat_summary *s, int interrupted, int exit_status);

#endif
