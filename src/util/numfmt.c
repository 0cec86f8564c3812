/*
 * numfmt.c - shortest round-trip number text; see numfmt.h.  15 significant digits always
 * survive double -> text -> double's first half (every 15-digit decimal is distinct as a double),
 * and 17 always identify a double, so trying 15, 16, 17 finds the shortest of the %g forms that
 * round-trips, at most three snprintf and strtod calls.  Not Ryu: a value whose shortest form
 * has fewer than 15 digits still gets %.15g's (which %g trims of trailing zeros: 0.4 -> "0.4").
 */
#include "util/numfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int fmt_double_shortest(char *buf, size_t n, double v)
{
    char tmp[FMT_DOUBLE_MAX + 8];
    int len = 0;

    if (n > 0)
        buf[0] = '\0';
    if (!isfinite(v)) {
        len = snprintf(tmp, sizeof(tmp), "%s", isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
    } else {
        for (int digits = 15; digits <= 17; digits++) {
            len = snprintf(tmp, sizeof(tmp), "%.*g", digits, v);
            if (len < 0 || (size_t)len >= sizeof(tmp))
                return -1;
            if (digits == 17 || strtod(tmp, NULL) == v)
                break;
        }
    }
    if (len < 0 || (size_t)len >= n)
        return -1;
    for (int i = 0; i <= len; i++)
        buf[i] = tmp[i];
    return len;
}
