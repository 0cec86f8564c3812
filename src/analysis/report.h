/*
 * report.h - what 'joulebench report' shares between its two methods: the finished runs of a
 * results folder grouped into configurations (one per combination of level values, sorted with
 * numbers compared as numbers, so batch 32 < 64 < 128 and resnet50 < resnet101), and small helpers
 * used by both.  The methods themselves live in corrected.c and seed2023.c.  Not a reader of run
 * directories (rundir_read.c) and not a figure writer (figures.c).
 */
#ifndef JB_SRC_ANALYSIS_REPORT_H
#define JB_SRC_ANALYSIS_REPORT_H

#include "rundir/read.h"

#include <limits.h>
#include <stddef.h>

#define REPORT_MAX_EXAMPLES 6

struct carbon_factors;

struct rconfig {
    char **vals;  /* one per report_input.levels; "" when a run lacks the level */
    size_t *runs; /* indices into report_input.runs, in run-directory order */
    size_t n;
};

struct report_input {
    const char *results_dir;
    struct rundir *runs;
    size_t nruns;
    char **levels; /* level names, in the order of the first run's manifest */
    size_t nlevels;
    struct rconfig *configs;
    size_t nconfigs;
    size_t skipped;         /* run directories without a complete manifest */
    size_t bad_rows;        /* malformed rows skipped while reading */
    double target_accuracy; /* NaN: not asked */
    /* the report's carbon and cost options, over each run's own factors (NULL: none) */
    const struct carbon_factors *carbon_over;
    rd_warn_fn warn;
    void *warn_ctx;
    /* the time series' runs: the first run of each configuration that has the last
     * configuration's levels but for the colour level (framework, else the first level), in
     * configuration order */
    size_t example[REPORT_MAX_EXAMPLES];            /* indices into runs */
    const char *example_label[REPORT_MAX_EXAMPLES]; /* the colour level's value (in configs) */
    size_t nexamples;
};

/* Finds and reads every run directory under results (skipping, with a warning, those without a
 * complete manifest), and groups them into configurations.  with_samples: read samples.csv too.
 * Returns 0, or -1 with err (no finished run at all is an error). */
int report_load(const char *results, int with_samples, int strict, struct report_input *in,
                rd_warn_fn warn, void *ctx, char *err, size_t errlen);
void report_free(struct report_input *in);

/* strcmp, except that runs of digits compare by value ("resnet50" < "resnet101"). */
int report_natural_cmp(const char *a, const char *b);
/* Energy in joules of meter m over [a, b]: the counter interpolated at the bounds when the meter
 * has counter rows, else the trapezoid integral of power.  NaN when not available. */
double report_meter_energy(const struct rd_meter *m, double a, double b);
/* 1 for meters whose energy counts as GPU energy (kind "gpu"), 2 for CPU/DRAM, 0 otherwise. */
int report_meter_class(const struct rd_meter *m);
/* Largest index of the 'epoch' phase rows of a run (0 when none). */
long report_epoch_count(const struct rundir *rd);
/* 1 when any run was measured with a simulated meter (kind "sim" or energy source
 * "simulated"): report.json, summary.md, index.html and every figure then say "simulated". */
int report_simulated(const struct report_input *in);
/* x - y, exactly 0 when the difference is within rounding of the operands (|x - y| <= 1e-9 of
 * the larger), so that quantities which cancel print as 0, not 4.26e-14; else rounded to the
 * operands' 10th significant digit (the tables' precision).  NaN stays NaN. */
double report_diff(double x, double y);

/* ---- the report folder (report_out.c) ----------------------------------------------------- */

/* Writes dir/name atomically (fs_write_atomic); every file of a report goes through here.  The
 * hooks (report_set_write_hooks) run around it: before() returning non-zero stops the report
 * ("interrupted", -1), after() sees each file written.  err on failure. */
int report_write(const char *dir, const char *name, const char *data, size_t len, char *err,
                 size_t errlen);
typedef int (*report_before_fn)(void *ctx);
typedef void (*report_after_fn)(void *ctx, const char *path);
/* Process-wide (one report per process); NULLs remove them. */
void report_set_write_hooks(report_before_fn before, report_after_fn after, void *ctx);

/* A report folder replaced as a whole: begin makes PARENT/.NAME.new-PID beside final (which
 * must be absent, empty, or a report folder: one with report.json and no run-directory files),
 * the report is written into o->tmp, then commit puts it in final's place in one step
 * (renameat2 RENAME_EXCHANGE, the old report then removed; where the file system cannot exchange,
 * old aside and new in, with no folder at final between the two renames), or abort removes it.
 * Each returns 0, or -1 with err (abort cannot fail). */
struct report_out {
    char final[PATH_MAX];  /* the report folder, by its real name when it exists */
    char parent[PATH_MAX]; /* its parent folder */
    char tmp[PATH_MAX];    /* PARENT/.NAME.new-PID: being written */
    char old[PATH_MAX];    /* PARENT/.NAME.old-PID: the old report during a fallback swap */
    int active;
};
int report_out_begin(struct report_out *o, const char *final, char *err, size_t errlen);
int report_out_commit(struct report_out *o, char *err, size_t errlen);
void report_out_abort(struct report_out *o);
/* Appends the CSV-quoted level values of config c, each followed by a comma. */
struct strbuf;
void report_csv_levels(struct strbuf *sb, const struct report_input *in, const struct rconfig *c);
/* Opens report.json's object and writes what both methods share: format, method, results_dir,
 * levels, simulated, example_run (null when NULL), example_runs ([{"run", "label", "config"}],
 * absolute paths) and provenance (provenance.c). */
struct jsonw;
void report_json_head(struct jsonw *w, const struct report_input *in, const char *method,
                      const char *example_run);
/* Writes "provenance": what the report was made from and by (provenance.c): the joulebench
 * version, date (UTC; SOURCE_DATE_EPOCH when set) and host of the report; and, collected from the
 * runs' manifest.json, the hosts, GPU names, drivers, frameworks and versions, joulebench
 * versions, simulated meters and the span of start times.  At most 32 values of each. */
void report_json_provenance(struct jsonw *w, const struct report_input *in);
/* "framework=pytorch, batch_size=32" */
void report_config_name(struct strbuf *sb, const struct report_input *in, const struct rconfig *c);
/* Warns about configurations whose runs have different numbers of epochs. */
void report_check_epochs(const struct report_input *in);

#endif
