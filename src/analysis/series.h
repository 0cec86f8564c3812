/*
 * series.h - operations on one meter's time series (sample times t[] ascending, values y[], NaN =
 * unavailable): the trapezoid integral over an interval, the time-weighted and the unweighted
 * mean, and a counter read interpolated at a time.  Used by import (phase energies from power) and
 * by both report methods.  Not a resampler or a filter.
 */
#ifndef JB_SRC_ANALYSIS_SERIES_H
#define JB_SRC_ANALYSIS_SERIES_H

#include <stddef.h>

/* Integral of y over [a, b] by the trapezoid rule between consecutive available samples (a gap is
 * bridged by a straight line), with linear interpolation at a and b.  Nothing is extrapolated
 * outside the first and last available sample; *covered_s (may be NULL) gets the length of
 * [a, b] that lies between available samples.  NaN when nothing of [a, b] is covered. */
double series_integral(const double *t, const double *y, size_t n, double a, double b,
                       double *covered_s);
/* series_integral / covered length: the time-weighted mean over [a, b]. */
double series_mean_tw(const double *t, const double *y, size_t n, double a, double b);
/* Unweighted mean of the available samples with a < t <= b (with a included when incl_a). */
double series_mean_in(const double *t, const double *y, size_t n, double a, double b, int incl_a);
/* Counter value at time x, interpolated linearly between readings (clamped to the first and last
 * reading); NaN when there are none. */
double series_at(const double *t, const double *y, size_t n, double x);
/* First index i with t[i] >= x (n when none). */
size_t series_lower(const double *t, size_t n, double x);

#endif
