/*
 * gnuplot.h - drawing through gnuplot: quoting text for its scripts and running it as a child
 * process (no shell; the script is a file).  This module knows nothing about joulebench's
 * figures: see figures.c for what is drawn.
 */
#ifndef JB_SRC_ANALYSIS_GNUPLOT_H
#define JB_SRC_ANALYSIS_GNUPLOT_H

#include "util/strbuf.h"

#include <stddef.h>

/* Appends s as a gnuplot single-quoted string.  Inside single quotes gnuplot expands nothing (no
 * backslash escapes, no macros); a quote is written twice and control characters become spaces.
 * Terminals must be set 'noenhanced' so that ^ _ @ { } print as themselves. */
void gp_quote(struct strbuf *sb, const char *s);

/* Appends a number for a script or a data file: %.10g, or NaN (gnuplot skips it). */
void gp_num(struct strbuf *sb, double v);

/* Runs `gnuplot SCRIPT` in directory dir, stdin from /dev/null, stdout and stderr into the file
 * LOG (both names relative to dir).  The program is $JB_GNUPLOT when set, else "gnuplot" on PATH.
 * Returns 0 when it exited with status 0; else -1 with a message naming the script, its log's last
 * line, or the reason it could not start. */
int gp_run(const char *dir, const char *script, const char *log, char *err, size_t errlen);

#endif
