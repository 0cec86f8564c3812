/*
 * report_phases.h - the report's view of phases.csv's flags and energy intervals (issue 8, "a
 * warning column / note"): per configuration and phase group (startup, epoch 1, epochs 2..N,
 * eval, the idle baseline, other marked phases, the whole command) the number of phase rows (one
 * per phase and meter), the mean over runs of the group's GPU energy and of its interval
 * [energy_j_lo, energy_j_hi], the rows per flag and a note in words ("below counter resolution
 * in 12 of 12 phases").  Part of the corrected method's report.json (per configuration, every
 * group) and summary.md (the groups with a note; and so index.html, which shows summary.md).
 * Run directories older than the flags column read as having no flags and are counted apart.
 */
#ifndef JB_SRC_ANALYSIS_REPORT_PHASES_H
#define JB_SRC_ANALYSIS_REPORT_PHASES_H

#include "analysis/report.h"

struct jsonw;
struct strbuf;

/* report.json, inside configuration c's object: the keys "phase_flags" and "phase_groups"
 * (docs/report-format.md). */
void report_phases_json(struct jsonw *w, const struct report_input *in, const struct rconfig *c);
/* summary.md: the "## Phase groups" section (a table with a note column) and a line counting
 * the phase rows per flag over all runs. */
void report_phases_md(struct strbuf *md, const struct report_input *in);

#endif
