/*
 * columns.c - the column lists of the run directory's CSV files (see rundir.h), from the X-macro
 * lists there, so that the names, the header lines and the column enums cannot disagree.
 */
#include "rundir/rundir.h"

#define NAME(id, name, dec) name,
#define HEADER(id, name, dec) "," name

const char *const rundir_samples_cols[RUNDIR_S_NCOLS] = {RUNDIR_SAMPLES_COLUMNS(NAME)};
const char *const rundir_phases_cols[RUNDIR_P_NCOLS] = {RUNDIR_PHASES_COLUMNS(NAME)};
const char *const rundir_metrics_cols[RUNDIR_M_NCOLS] = {RUNDIR_METRICS_COLUMNS(NAME)};

/* Each list starts with a ',' that the header skips. */
static const char samples_header[] = RUNDIR_SAMPLES_COLUMNS(HEADER) "\n";
static const char phases_header[] = RUNDIR_PHASES_COLUMNS(HEADER) "\n";
static const char metrics_header[] = RUNDIR_METRICS_COLUMNS(HEADER) "\n";

const char *const rundir_samples_header = samples_header + 1;
const char *const rundir_phases_header = phases_header + 1;
const char *const rundir_metrics_header = metrics_header + 1;
