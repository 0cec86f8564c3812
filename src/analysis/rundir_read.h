/*
 * rundir_read.h - reads run directories (docs/run-directory.md) into memory for the report and
 * the store: manifest (levels, repeat, meters, idle baseline), samples (per meter: gauge rows and
 * counter rows), phases and metrics.  Also finds the run directories under a results folder.
 * Malformed CSV rows are reported as "FILE:LINE: ..." through a callback and skipped (or, strict,
 * rejected).  Read-only; not a writer and not a statistics module.
 */
#ifndef JB_SRC_ANALYSIS_RUNDIR_READ_H
#define JB_SRC_ANALYSIS_RUNDIR_READ_H

#include <stddef.h>

typedef void (*rd_warn_fn)(void *ctx, const char *msg);
/* Formats a warning and passes it to warn (nothing when warn is NULL). */
void rd_warnf(rd_warn_fn warn, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct rd_meter {
    char *id;
    char *kind;          /* "gpu", "cpu", "dram", "sim", ... ("gpu" when the id starts so) */
    char *energy_source; /* "counter", "power-integral", "simulated" or NULL */
    double idle_power_w; /* from manifest idle; NaN when none */
    size_t n, cap;       /* sample rows */
    double *t, *power, *temp, *util;
    size_t nc, ccap; /* counter rows */
    double *ct, *ce;
};

struct rd_phase {
    char *phase;
    long index;
    char *meter;
    double t_begin, t_end, duration, energy_j, energy_j_power, avg_power_w, items; /* NaN: none */
};

struct rd_metric {
    char *phase;
    long index;
    char *name;
    double value;
};

struct rundir {
    char *dir;
    char *run_id;
    char *grid;
    long repeat; /* -1: none */
    size_t nlevels;
    char **keys, **vals; /* in manifest order */
    double command_start_s;
    struct rd_meter *meters;
    size_t nmeters;
    struct rd_phase *phases;
    size_t nphases;
    struct rd_metric *metrics;
    size_t nmetrics;
    size_t bad_rows;
};

/* Reads dir.  with_samples = 0 skips samples.csv (faster when only phases are needed).
 * Returns 0; 1 when the directory is not a finished run (no manifest.json, or status not
 * "complete": err says why, the caller skips it with a warning); -1 on an error (err). */
int rundir_read(const char *dir, int with_samples, int strict, struct rundir *rd, rd_warn_fn warn,
                void *ctx, char *err, size_t errlen);
void rundir_free(struct rundir *rd);

/* The meter of that id, or NULL. */
struct rd_meter *rundir_meter(const struct rundir *rd, const char *id);
/* The phase row (phase, index, meter), or NULL. */
const struct rd_phase *rundir_phase(const struct rundir *rd, const char *phase, long index,
                                    const char *meter);
/* The level value for key, or NULL. */
const char *rundir_level(const struct rundir *rd, const char *key);

/* Lists, sorted, every folder under root that holds a manifest.json, samples.csv or phases.csv
 * (not descending into those).  *dirs is malloc'ed (free each and the array).  Returns 0 or -1. */
int rundir_find(const char *root, char ***dirs, size_t *n, char *err, size_t errlen);

#endif
