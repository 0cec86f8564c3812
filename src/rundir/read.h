/*
 * rundir/read.h - the reading side of the run-directory format (docs/run-directory.md, "Reading
 * rules"), for the report, the store and the figures: manifest (levels, repeat, meters, idle
 * baseline), samples (per meter: gauge rows and counter rows), phases and metrics; and one typed
 * row reader of a run directory's CSV files (rundir_read_csv) on util/csv.h, the RFC 4180 reader
 * that reads what the writer quotes.  Columns are found by header name, so old run directories
 * and ones with more columns read alike.  A malformed row (wrong field count, a number that is
 * not a finite decimal: inf, nan, hex floats, overflow) is skipped and counted; each file with
 * any gets one warning "FILE: N malformed row(s) skipped (first: FILE:LINE: column 'C': ...)"
 * (or, strict, the first is an error).  Also finds the run directories under a results folder.
 * Read-only: not the writer (src/rundir/write*.c) and not a statistics module.
 */
#ifndef JB_SRC_RUNDIR_READ_H
#define JB_SRC_RUNDIR_READ_H

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
    /* 0.2 columns (NaN / 0 in older directories, which lack them) */
    double energy_j_lo, energy_j_hi, power_rel_diff;
    unsigned flags; /* JB_PHASE_FLAG_* bits of the flags column; names not known are ignored */
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
    int has_flags; /* phases.csv has the flags column (written by 0.2 and later) */
    struct rd_metric *metrics;
    size_t nmetrics;
    size_t bad_rows;
};

/* ---- one CSV file of a run directory, row by row ------------------------------------------ */

#define RD_MAX_COLS 32
enum rd_type { RD_TEXT, RD_NUM, RD_INT };
enum rd_need {
    RD_OPT, /* may be missing from the header (then every row reads it empty) */
    RD_HDR, /* must be in the header; a row may leave it empty */
    RD_REQ  /* must be in the header and filled in every row */
};
struct rd_col {
    const char *name;
    int type; /* enum rd_type */
    int need; /* enum rd_need */
};
/* One row, in the caller's column order.  text[i] for RD_TEXT ("" when empty or absent; valid
 * during the callback only), num[i] for RD_NUM (NaN when empty or absent), idx[i] for RD_INT
 * (only RD_REQ integer columns are meaningful). */
struct rd_row {
    size_t line;
    unsigned present; /* bit i: column i is in the file's header */
    const char *text[RD_MAX_COLS];
    double num[RD_MAX_COLS];
    long idx[RD_MAX_COLS];
};
/* Returns 0, 1 to count the row as malformed (the callback's own check), or -1 to stop (err). */
typedef int (*rd_row_fn)(void *ctx, const struct rd_row *row, char *err, size_t errlen);

/* The JB_PHASE_FLAG_* bits of a phases.csv flags cell (names joined by '|'; unknown names are
 * skipped: a later version may add some). */
unsigned rd_parse_flags(const char *cell);

/* Reads path row by row (streamed: memory does not grow with the file).  A missing file is 0 with
 * nothing read; a header without a needed column, an unreadable file (not a regular file, a read
 * error) or a callback's -1 is -1 with err; malformed rows are added to *bad_rows and warned about
 * once per file (strict: the first is -1 with its message). */
int rundir_read_csv(const char *path, const struct rd_col *cols, size_t ncols, int strict,
                    rd_row_fn fn, void *fctx, size_t *bad_rows, rd_warn_fn warn, void *wctx,
                    char *err, size_t errlen);

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
