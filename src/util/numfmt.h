/*
 * numfmt.h - numbers as text for the tool's files: the shortest decimal form of a double that
 * reads back (strtod) as the same double, so a metric of 0.4 is written "0.4", not
 * "0.40000000000000002" as %.17g gives, and never loses a bit as %.15g can.  Not a parser (see
 * csv_parse_double in util/csv.h) and not a fixed-decimals formatter (util/fastnum.h).
 */
#ifndef JB_SRC_UTIL_NUMFMT_H
#define JB_SRC_UTIL_NUMFMT_H

#include <stddef.h>

/* Longest text fmt_double_shortest writes, with its NUL ("-1.2345678901234567e-308"). */
#define FMT_DOUBLE_MAX 32

/*
 * Writes v into buf (n bytes) as the first of %.15g, %.16g, %.17g that strtod reads back as v
 * (%.17g always does), so the shortest of those forms; "nan", "inf", "-inf" for those (callers
 * that mean "unavailable" write an empty cell instead).  Returns the length written, or -1 when n
 * is too small (buf then holds "" when n > 0).  Thread-safe; uses the C locale's '.'.
 */
int fmt_double_shortest(char *buf, size_t n, double v);

#endif
