/*
 * stats.h - descriptive statistics for the report: mean, sample standard deviation, Student t
 * quantiles and 95% confidence half-widths, and a ratio of two means with a confidence interval.
 * Pure functions, no I/O.  NaN inputs are skipped (NaN marks an unavailable value); results that
 * cannot be computed (too few values) are NaN.  Not a general statistics library.
 */
#ifndef JB_SRC_ANALYSIS_STATS_H
#define JB_SRC_ANALYSIS_STATS_H

#include <stddef.h>

struct summary {
    double mean;
    double sd;   /* sample standard deviation (n - 1); NaN when n < 2 */
    double ci95; /* half-width of the 95% CI of the mean, t(0.975, n-1) * sd / sqrt(n) */
    size_t n;    /* values that were not NaN */
};

/* Regularised incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1. */
double stats_ibeta(double a, double b, double x);
/* Student t cumulative distribution function with df > 0 degrees of freedom (df = INFINITY: the
 * standard normal). */
double stats_t_cdf(double t, double df);
/* Inverse of stats_t_cdf: the p-quantile, 0 < p < 1, df > 0 (INFINITY allowed); NaN otherwise. */
double stats_t_quantile(double p, double df);
/* Mean, sd, ci95 and n of v[0..n), NaN values skipped. */
struct summary stats_summarise(const double *v, size_t n);

/* Ratio of two means a/b with a 95% CI by the delta method on the log scale:
 * log(a/b) +- t(0.975, df) * sqrt(sa^2/(na a^2) + sb^2/(nb b^2)), df by Welch-Satterthwaite on
 * the two relative variance terms.  lo/hi NaN when a CI cannot be given (n < 2, a or b <= 0). */
struct ratio_ci {
    double ratio, lo, hi, df;
};
struct ratio_ci stats_ratio(const struct summary *a, const struct summary *b);

#endif
