/*
 * report.h - what 'joulebench report' shares between its two methods: the finished runs of a
 * results folder grouped into configurations (one per combination of level values, sorted with
 * numbers compared as numbers, so batch 32 < 64 < 128 and resnet50 < resnet101), and small helpers
 * used by both.  The methods themselves live in corrected.c and seed2023.c.  Not a reader of run
 * directories (rundir_read.c) and not a figure writer (figures.c).
 */
#ifndef JB_SRC_ANALYSIS_REPORT_H
#define JB_SRC_ANALYSIS_REPORT_H

#include "analysis/rundir_read.h"

#include <stddef.h>

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
    rd_warn_fn warn;
    void *warn_ctx;
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
/* Writes dir/name atomically from a strbuf-like buffer; err on failure. */
int report_write(const char *dir, const char *name, const char *data, size_t len, char *err,
                 size_t errlen);
/* Appends the CSV-quoted level values of config c, each followed by a comma. */
struct strbuf;
void report_csv_levels(struct strbuf *sb, const struct report_input *in, const struct rconfig *c);
/* Opens report.json's object and writes what both methods share: format, method, results_dir,
 * levels, example_run (null when NULL). */
struct jsonw;
void report_json_head(struct jsonw *w, const struct report_input *in, const char *method,
                      const char *example_run);
/* "framework=pytorch, batch_size=32" */
void report_config_name(struct strbuf *sb, const struct report_input *in, const struct rconfig *c);
/* Warns about configurations whose runs have different numbers of epochs. */
void report_check_epochs(const struct report_input *in);

#endif
