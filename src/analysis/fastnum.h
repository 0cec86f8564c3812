/*
 * fastnum.h - exact fast paths for the decimal numbers that fill nvidia-smi logs and run
 * directories ("36.72", "-0.5", "1500"), which otherwise spend most of import and report time in
 * strtod and printf.  Both fall back to the C library whenever the fast path could be inexact, so
 * results are identical to strtod / "%.*f".  Not a general number formatter.
 */
#ifndef JB_SRC_ANALYSIS_FASTNUM_H
#define JB_SRC_ANALYSIS_FASTNUM_H

#include "util/strbuf.h"

#include <stddef.h>

/* Parses [b, e) completely as a decimal number; returns 0, or -1 when it is not one. */
int fastnum_parse(const char *b, const char *e, double *out);
/* Appends v with `decimals` (0..9) fixed decimals, trailing zeros (and a bare '.') removed when
 * trim; nothing when v is NaN (an empty CSV cell). */
void fastnum_put(struct strbuf *sb, double v, int decimals, int trim);

#endif
