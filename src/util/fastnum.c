/*
 * fastnum.c - exact fast decimal parsing and fixed-point printing; see fastnum.h.  The parse fast
 * path is Clinger's: a mantissa below 2^53 divided by an exact power of ten (<= 1e22) is correctly
 * rounded by one IEEE division, so it equals strtod's result.  The print fast path rounds
 * v * 10^decimals to an integer with the same half-way handling as printf only when that product
 * is exact enough; otherwise printf does it.  Not a general formatter.
 */
#include "util/fastnum.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double pow10_tab[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int slow_parse(const char *b, const char *e, double *out)
{
    char buf[128], *end;
    size_t n = (size_t)(e - b);
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, b, n);
    buf[n] = '\0';
    errno = 0;
    double v = strtod(buf, &end);
    if (end != buf + n || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

int fastnum_parse_fast(const char *b, const char *e, double *out)
{
    const char *p = b;
    uint64_t m = 0;
    int neg = 0, digits = 0, frac = 0, seen_dot = 0, any = 0;

    if (p < e && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    for (; p < e; p++) {
        if (*p >= '0' && *p <= '9') {
            if (digits >= 15)
                return 1;
            if (m || *p != '0')
                digits++;
            m = m * 10 + (uint64_t)(*p - '0');
            frac += seen_dot;
            any = 1;
        } else if (*p == '.' && !seen_dot) {
            seen_dot = 1;
        } else {
            return 1; /* exponents, inf, nan, garbage: the caller's slow path decides */
        }
    }
    if (!any || frac > 22)
        return 1;
    double v = (double)m / pow10_tab[frac];
    *out = neg ? -v : v;
    return 0;
}

int fastnum_parse(const char *b, const char *e, double *out)
{
    return fastnum_parse_fast(b, e, out) == 0 ? 0 : slow_parse(b, e, out);
}

void fastnum_put(struct strbuf *sb, double v, int decimals, int trim)
{
    char buf[64];
    int n;

    if (isnan(v))
        return;
    if (decimals < 0 || decimals > 9)
        decimals = 6;
    double scaled = v * pow10_tab[decimals];
    double r = nearbyint(scaled);
    /* Exact enough: the integer is well inside 2^53, and the product (correctly rounded, so
     * within half an ulp of v * 10^decimals) is farther from a half-way point than 4 ulps, so
     * rounding it gives what printf's exact decimal expansion of v gives. */
    double margin = fabs(scaled) * 9e-16 + 1e-12;
    if (fabs(scaled) < 1e15 && fabs(fabs(scaled - r) - 0.5) > margin) {
        unsigned long long q = (unsigned long long)llabs((long long)r);
        unsigned long long scale = (unsigned long long)pow10_tab[decimals];
        unsigned long long ip = q / scale, fp = q % scale;
        char digs[24];
        int nd = 0;
        char *o = buf;
        if (r < 0)
            *o++ = '-';
        do {
            digs[nd++] = (char)('0' + ip % 10);
            ip /= 10;
        } while (ip);
        while (nd)
            *o++ = digs[--nd];
        if (decimals) {
            *o++ = '.';
            for (int d = decimals - 1; d >= 0; d--) {
                o[d] = (char)('0' + fp % 10);
                fp /= 10;
            }
            o += decimals;
        }
        *o = '\0';
        n = (int)(o - buf);
    } else {
        n = snprintf(buf, sizeof(buf), "%.*f", decimals, v);
        if (n < 0 || n >= (int)sizeof(buf))
            return;
    }
    if (trim && memchr(buf, '.', (size_t)n)) {
        while (n > 0 && buf[n - 1] == '0')
            n--;
        if (n > 0 && buf[n - 1] == '.')
            n--;
    }
    sb_append(sb, buf, (size_t)n);
}
