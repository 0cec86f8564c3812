/*
 * test_stats.c - Student t quantiles against tabulated values, summaries, the ratio CI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "analysis/stats.h"

static void test_t_quantiles(void **state)
{
    (void)state;
    /* Two-sided 95% critical values t(0.975, df) from standard tables. */
    static const struct {
        double df, t;
    } tab[] = {{1, 12.7062047362},       {2, 4.30265272975},   {3, 3.18244630528},
               {4, 2.7764451052},        {5, 2.57058183564},   {10, 2.22813885196},
               {30, 2.04227245630},      {100, 1.98397151852}, {1000, 1.96233908082},
               {INFINITY, 1.95996398454}};
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        assert_true(fabs(stats_t_quantile(0.975, tab[i].df) - tab[i].t) < 1e-6);
    /* Other probabilities: t(0.995, 1) = 63.6567, t(0.9, 7) = 1.41492, symmetry. */
    assert_true(fabs(stats_t_quantile(0.995, 1) - 63.6567411629) < 1e-5);
    assert_true(fabs(stats_t_quantile(0.9, 7) - 1.41492392) < 1e-6);
    assert_true(fabs(stats_t_quantile(0.025, 5) + 2.57058183564) < 1e-6);
    assert_true(stats_t_quantile(0.5, 3) == 0.0);
    /* Non-integer df (Welch) lies between its neighbours. */
    double t = stats_t_quantile(0.975, 2.5);
    assert_true(t < 4.30265 && t > 3.18245);
    assert_true(isnan(stats_t_quantile(0.0, 3)));
    assert_true(isnan(stats_t_quantile(1.0, 3)));
    assert_true(isnan(stats_t_quantile(0.975, 0)));
}

static void test_t_cdf(void **state)
{
    (void)state;
    assert_true(fabs(stats_t_cdf(0, 4) - 0.5) < 1e-12);
    assert_true(fabs(stats_t_cdf(12.7062047362, 1) - 0.975) < 1e-9);
    assert_true(fabs(stats_t_cdf(-2.22813885196, 10) - 0.025) < 1e-9);
    /* df = 1 is Cauchy: F(t) = 1/2 + atan(t)/pi. */
    assert_true(fabs(stats_t_cdf(3.0, 1) - (0.5 + atan(3.0) / M_PI)) < 1e-12);
    assert_true(fabs(stats_ibeta(2, 3, 0.4) - 0.5248) < 1e-12);
}

static void test_summary(void **state)
{
    (void)state;
    double v[] = {10, 12, NAN, 14};
    struct summary s = stats_summarise(v, 4);
    assert_int_equal(s.n, 3);
    assert_true(fabs(s.mean - 12) < 1e-12);
    assert_true(fabs(s.sd - 2) < 1e-12);
    assert_true(fabs(s.ci95 - 4.30265272975 * 2 / sqrt(3)) < 1e-6);
    double one[] = {5};
    s = stats_summarise(one, 1);
    assert_int_equal(s.n, 1);
    assert_true(s.mean == 5 && isnan(s.sd) && isnan(s.ci95));
    s = stats_summarise(NULL, 0);
    assert_int_equal(s.n, 0);
    assert_true(isnan(s.mean));
    /* equal values: the mean is the value and the sd exactly 0 (three 0.1s summed and divided
     * give 0.10000000000000002 and an sd of 1.7e-17 otherwise) */
    double eq[] = {0.1, NAN, 0.1, 0.1};
    s = stats_summarise(eq, 4);
    assert_int_equal(s.n, 3);
    assert_true(s.mean == 0.1 && s.sd == 0 && s.ci95 == 0);
}

static void test_ratio(void **state)
{
    (void)state;
    struct summary a = {200, 10, NAN, 4}, b = {100, 5, NAN, 4};
    struct ratio_ci r = stats_ratio(&a, &b);
    assert_true(fabs(r.ratio - 2) < 1e-12);
    assert_true(r.lo < 2 && r.hi > 2);
    /* Equal relative variances and n: df = 2 (n-1) = 6; log-scale symmetric. */
    assert_true(fabs(r.df - 6) < 1e-9);
    double se = sqrt(2 * 0.05 * 0.05 / 4);
    assert_true(fabs(r.hi - 2 * exp(stats_t_quantile(0.975, 6) * se)) < 1e-9);
    assert_true(fabs(r.lo * r.hi - 4) < 1e-9);
    struct summary c = {100, NAN, NAN, 1};
    r = stats_ratio(&a, &c);
    assert_true(fabs(r.ratio - 2) < 1e-12 && isnan(r.lo));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t_quantiles),
        cmocka_unit_test(test_t_cdf),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_ratio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
