/*
 * stats.c - mean, sd, Student t quantiles (for any df, through the regularised incomplete beta
 * function), confidence half-widths and ratios of means.  See stats.h.  Not a general statistics
 * library: only what the report needs.
 */
#include "analysis/stats.h"

#include <math.h>

/* Continued fraction for the incomplete beta (modified Lentz), valid for x < (a+1)/(a+b+2). */
static double betacf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;

    if (fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 500; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-15)
            break;
    }
    return h;
}

double stats_ibeta(double a, double b, double x)
{
    if (!(a > 0) || !(b > 0) || isnan(x) || x < 0 || x > 1)
        return NAN;
    if (x == 0 || x == 1)
        return x;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    double bt = exp(lbt);
    if (x < (a + 1.0) / (a + b + 2.0))
        return bt * betacf(a, b, x) / a;
    return 1.0 - bt * betacf(b, a, 1.0 - x) / b;
}

double stats_t_cdf(double t, double df)
{
    if (isnan(t) || !(df > 0))
        return NAN;
    if (isinf(df))
        return 0.5 * erfc(-t / sqrt(2.0));
    /* P(T <= t) = 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2 for t >= 0, symmetric below. */
    double x = df / (df + t * t);
    double tail = 0.5 * stats_ibeta(df / 2.0, 0.5, x);
    return t >= 0 ? 1.0 - tail : tail;
}

double stats_t_quantile(double p, double df)
{
    if (!(p > 0 && p < 1) || !(df > 0))
        return NAN;
    if (p == 0.5)
        return 0.0;
    if (p < 0.5)
        return -stats_t_quantile(1.0 - p, df);
    /* Bracket, then bisect: the cdf is monotone, and 200 halvings reach double precision from any
     * bracket the doubling can produce (df = 1 at p = 1 - 1e-12 needs ~3e11). */
    double lo = 0.0, hi = 1.0;
    while (stats_t_cdf(hi, df) < p && hi < 1e300)
        hi *= 2.0;
    for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (stats_t_cdf(mid, df) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

struct summary stats_summarise(const double *v, size_t n)
{
    struct summary s = {NAN, NAN, NAN, 0};
    double sum = 0.0;

    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) {
            sum += v[i];
            s.n++;
        }
    if (s.n == 0)
        return s;
    s.mean = sum / (double)s.n;
    if (s.n < 2)
        return s;
    {
        /* equal values: their mean and sd are exact (a sum of n copies of 0.1 / n is not) */
        double first = NAN;
        int equal = 1;
        for (size_t i = 0; i < n && equal; i++)
            if (!isnan(v[i])) {
                if (isnan(first))
                    first = v[i];
                else if (v[i] != first)
                    equal = 0;
            }
        if (equal) {
            s.mean = first;
            s.sd = 0.0;
            s.ci95 = 0.0;
            return s;
        }
    }
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            ss += (v[i] - s.mean) * (v[i] - s.mean);
    s.sd = sqrt(ss / (double)(s.n - 1));
    s.ci95 = stats_t_quantile(0.975, (double)(s.n - 1)) * s.sd / sqrt((double)s.n);
    return s;
}

struct ratio_ci stats_ratio(const struct summary *a, const struct summary *b)
{
    struct ratio_ci r = {NAN, NAN, NAN, NAN};

    if (a->n == 0 || b->n == 0 || isnan(a->mean) || isnan(b->mean) || b->mean == 0)
        return r;
    r.ratio = a->mean / b->mean;
    if (a->n < 2 || b->n < 2 || !(a->mean > 0) || !(b->mean > 0))
        return r;
    double va = a->sd * a->sd / ((double)a->n * a->mean * a->mean);
    double vb = b->sd * b->sd / ((double)b->n * b->mean * b->mean);
    double se = sqrt(va + vb);
    if (se == 0) {
        r.lo = r.hi = r.ratio;
        r.df = INFINITY;
        return r;
    }
    r.df = (va + vb) * (va + vb) / (va * va / (double)(a->n - 1) + vb * vb / (double)(b->n - 1));
    double t = stats_t_quantile(0.975, r.df);
    r.lo = r.ratio * exp(-t * se);
    r.hi = r.ratio * exp(t * se);
    return r;
}
