/*
 * fastnum.h - exact fast paths for the decimal numbers that fill nvidia-smi logs and run
 * directories ("36.72", "-0.5", "1500"), which otherwise spend most of import and report time in
 * strtod and printf.  Both fall back to the C library whenever the fast path could be inexact, so
 * results are identical to strtod / "%.*f".  Not a general number formatter.
 */
#ifndef JB_SRC_UTIL_FASTNUM_H
#define JB_SRC_UTIL_FASTNUM_H

#include "util/strbuf.h"

#include <stddef.h>

/* The exact fast path alone: [b, e) as [sign] digits [. digits] with at least one digit, at most
 * 15 significant digits and 22 decimals; returns 0 with *out set, or 1 when the number needs a
 * slow path (strtod) - or is not one, which the slow path then says. */
int fastnum_parse_fast(const char *b, const char *e, double *out);
/* Parses [b, e) completely as a decimal number; returns 0, or -1 when it is not one. */
int fastnum_parse(const char *b, const char *e, double *out);
/* Appends v with `decimals` (0..9) fixed decimals, trailing zeros (and a bare '.') removed when
 * trim; nothing when v is NaN (an empty CSV cell). */
void fastnum_put(struct strbuf *sb, double v, int decimals, int trim);

#endif
