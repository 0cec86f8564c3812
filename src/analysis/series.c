/*
 * series.c - integrals and means of one meter's time series; see series.h.  Not a resampler.
 */
#include "analysis/series.h"

#include <math.h>

size_t series_lower(const double *t, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

double series_integral(const double *t, const double *y, size_t n, double a, double b,
                       double *covered_s)
{
    double sum = 0.0, cov = 0.0;
    size_t i = series_lower(t, n, a);
    size_t prev;

    if (covered_s)
        *covered_s = 0.0;
    if (!(b > a) || n == 0)
        return NAN;
    /* Start from the last available sample at or before a, so the first segment crosses a. */
    while (i > 0 && (i >= n || t[i] > a)) {
        i--;
        if (!isnan(y[i]))
            break;
    }
    while (i < n && isnan(y[i]))
        i++;
    prev = i;
    for (size_t j = i + 1; j < n && prev < n; j++) {
        if (isnan(y[j]))
            continue;
        double t0 = t[prev], t1 = t[j];
        if (t0 >= b)
            break;
        double lo = t0 > a ? t0 : a, hi = t1 < b ? t1 : b;
        if (hi > lo && t1 > t0) {
            double slope = (y[j] - y[prev]) / (t1 - t0);
            double ylo = y[prev] + slope * (lo - t0), yhi = y[prev] + slope * (hi - t0);
            sum += 0.5 * (ylo + yhi) * (hi - lo);
            cov += hi - lo;
        }
        prev = j;
    }
    if (covered_s)
        *covered_s = cov;
    return cov > 0 ? sum : NAN;
}

double series_mean_tw(const double *t, const double *y, size_t n, double a, double b)
{
    double cov;
    double s = series_integral(t, y, n, a, b, &cov);
    return cov > 0 ? s / cov : NAN;
}

double series_mean_in(const double *t, const double *y, size_t n, double a, double b, int incl_a)
{
    double sum = 0.0;
    size_t k = 0;
    for (size_t i = series_lower(t, n, a); i < n && t[i] <= b; i++) {
        if ((t[i] == a && !incl_a) || isnan(y[i]))
            continue;
        sum += y[i];
        k++;
    }
    return k ? sum / (double)k : NAN;
}

double series_at(const double *t, const double *y, size_t n, double x)
{
    size_t i;
    if (n == 0)
        return NAN;
    if (x <= t[0])
        return y[0];
    if (x >= t[n - 1])
        return y[n - 1];
    i = series_lower(t, n, x);
    if (t[i] == x || t[i] == t[i - 1])
        return y[i];
    return y[i - 1] + (y[i] - y[i - 1]) * (x - t[i - 1]) / (t[i] - t[i - 1]);
}
