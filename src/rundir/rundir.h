/*
 * rundir.h - the run directory format's write side (DESIGN.md section 4, docs/run-directory.md):
 * the column lists of samples.csv, phases.csv and metrics.csv in one place, one function per row
 * kind, and the file discipline (a file streams into NAME.partial and is renamed into place; a
 * whole document goes through fs_write_atomic), used by run/measure*.c and analysis/import.c.
 * Readers (rundir/read.c) find columns by header name: columns may be appended, never
 * renamed.  An empty cell means unavailable.
 */
#ifndef JB_SRC_RUNDIR_RUNDIR_H
#define JB_SRC_RUNDIR_RUNDIR_H

#include "joulebench.h"
#include "util/strbuf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* X(ID, "name", decimals): decimals of the fixed-point value (-1: not a fixed-point number). */
#define RUNDIR_SAMPLES_COLUMNS(X)                                                                  \
    X(T_S, "t_s", 6)                                                                               \
    X(METER, "meter", -1)                                                                          \
    X(POWER_W, "power_w", 3)                                                                       \
    X(ENERGY_J, "energy_j", 6)                                                                     \
    X(TEMP_C, "temp_c", 1)                                                                         \
    X(UTIL_PCT, "util_pct", 0)                                                                     \
    X(MEM_UTIL_PCT, "mem_util_pct", 0)                                                             \
    X(MEM_USED_MIB, "mem_used_mib", 0)                                                             \
    X(SM_CLOCK_MHZ, "sm_clock_mhz", 0)                                                             \
    X(MEM_CLOCK_MHZ, "mem_clock_mhz", 0)                                                           \
    X(POWER_INSTANT_W, "power_instant_w", 3)

#define RUNDIR_PHASES_COLUMNS(X)                                                                   \
    X(PHASE, "phase", -1)                                                                          \
    X(INDEX, "index", -1)                                                                          \
    X(METER, "meter", -1)                                                                          \
    X(T_BEGIN_S, "t_begin_s", 6)                                                                   \
    X(T_END_S, "t_end_s", 6)                                                                       \
    X(DURATION_S, "duration_s", 6)                                                                 \
    X(ENERGY_J, "energy_j", 6)                                                                     \
    X(ENERGY_J_POWER, "energy_j_power", 6)                                                         \
    X(AVG_POWER_W, "avg_power_w", 4)                                                               \
    X(ITEMS, "items", -1)                                                                          \
    X(ENERGY_J_LO, "energy_j_lo", 6)                                                               \
    X(ENERGY_J_HI, "energy_j_hi", 6)                                                               \
    X(POWER_REL_DIFF, "power_rel_diff", 6)                                                         \
    X(PEAK_POWER_W, "peak_power_w", 3)                                                             \
    X(PEAK_POWER_SOURCE, "peak_power_source", -1)                                                  \
    X(PEAK_INTERVAL_POWER_W, "peak_interval_power_w", 3)                                           \
    X(UPDATE_PERIOD_S, "update_period_s", 6)                                                       \
    X(FLAGS, "flags", -1)

#define RUNDIR_METRICS_COLUMNS(X)                                                                  \
    X(PHASE, "phase", -1)                                                                          \
    X(INDEX, "index", -1)                                                                          \
    X(NAME, "name", -1)                                                                            \
    X(VALUE, "value", -1)

#define RUNDIR_ENUM_S(id, name, dec) RUNDIR_S_##id,
#define RUNDIR_ENUM_P(id, name, dec) RUNDIR_P_##id,
#define RUNDIR_ENUM_M(id, name, dec) RUNDIR_M_##id,
enum rundir_samples_col { RUNDIR_SAMPLES_COLUMNS(RUNDIR_ENUM_S) RUNDIR_S_NCOLS };
enum rundir_phases_col { RUNDIR_PHASES_COLUMNS(RUNDIR_ENUM_P) RUNDIR_P_NCOLS };
enum rundir_metrics_col { RUNDIR_METRICS_COLUMNS(RUNDIR_ENUM_M) RUNDIR_M_NCOLS };
#undef RUNDIR_ENUM_S
#undef RUNDIR_ENUM_P
#undef RUNDIR_ENUM_M

/* Column names, in file order (columns.c). */
extern const char *const rundir_samples_cols[RUNDIR_S_NCOLS];
extern const char *const rundir_phases_cols[RUNDIR_P_NCOLS];
extern const char *const rundir_metrics_cols[RUNDIR_M_NCOLS];
/* Header lines, "a,b,...\n". */
extern const char *const rundir_samples_header;
extern const char *const rundir_phases_header;
extern const char *const rundir_metrics_header;

/* ---- rows (write.c); NaN = an empty cell ------------------------------------------------- */

/* One samples.csv row: v[k] is column k + RUNDIR_S_POWER_W (power_w .. power_instant_w), NaN
 * for none; trim drops the readings' trailing zeros (imports, whose readings have fewer
 * decimals; t_s keeps its six). */
void rundir_samples_row(struct strbuf *sb, double t_s, const char *meter,
                        const double v[RUNDIR_S_NCOLS - 2], int trim);
/* The value columns of a jb_sample (its valid bits say which), for rundir_samples_row. */
void rundir_sample_values(const struct jb_sample *s, double v[RUNDIR_S_NCOLS - 2]);

struct rundir_phase_row {
    const char *phase;
    long index;
    const char *meter;
    double t_begin_s, t_end_s, duration_s;
    double energy_j, energy_j_power, avg_power_w, items;
    double energy_j_lo, energy_j_hi, power_rel_diff;
    double peak_power_w;
    const char *peak_power_source; /* NULL: empty */
    double peak_interval_power_w, update_period_s;
    uint32_t flags; /* JB_PHASE_FLAG_*; written as their names joined by '|' */
    int trim;       /* 1: numbers without trailing zeros (imports) */
};
/* All cells empty (NaN, NULL, 0). */
void rundir_phase_row_init(struct rundir_phase_row *row);
/* The row of a library result; times relative to t0_ns.  avg_power_w = the best energy (counter,
 * else power integral) over the duration. */
void rundir_phase_row_from_result(struct rundir_phase_row *row, const struct jb_phase_result *p,
                                  const char *meter, uint64_t t0_ns);
void rundir_phases_row(struct strbuf *sb, const struct rundir_phase_row *row);
/* The flag names of JB_PHASE_FLAG_* bits joined by '|' ("" for none). */
void rundir_flags(struct strbuf *sb, uint32_t flags);
void rundir_metrics_row(struct strbuf *sb, const char *phase, long index, const char *name,
                        double value);

/* ---- files ------------------------------------------------------------------------------- */

/* Creates dir/NAME.partial for streaming and writes header (may be NULL) into it. */
FILE *rundir_open_partial(const char *dir, const char *name, const char *header, char *err,
                          size_t errlen);
/* Flushes, fsyncs and closes f (always closed), then renames dir/NAME.partial to dir/NAME.
 * write_errno: an error met while streaming (0 none), reported as a write error of NAME. */
int rundir_commit_partial(FILE *f, int write_errno, const char *dir, const char *name, char *err,
                          size_t errlen);
/* Removes every dir/NAME.partial this module creates (a failed measurement leaves none). */
void rundir_remove_partials(const char *dir);
/* Writes sb as dir/name atomically (temporary name, fsync, rename). */
int rundir_write_doc(const char *dir, const char *name, const struct strbuf *sb, char *err,
                     size_t errlen);

#endif
