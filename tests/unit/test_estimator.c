/*
 * test_estimator.c - the counter-anchored phase estimator (src/lib/phases.c, counter.c) against
 * the exact truth of the NVML-faithful simulated meter (src/lib/sim.h), driven in virtual time
 * by tests/support/vdrive.c: the reading stream a locked sampler would give, phases tiling the
 * run at lengths 10 ms .. 10 s over the loads of docs/METHODOLOGY.md (square 300/700 ms and
 * 50/50 ms, 25 ms bursts every 101 ms, a training-like periodic step, constant power), with
 * update jitter 1 ms and a 4 ms read cost.  Checks, per load and length: the reported interval
 * holds the truth (>= 95% of phases), the phases tile the whole (0.1%), no phase below the
 * meter's idle power, and the error limits each kind of load allows (see the table in
 * docs/METHODOLOGY.md: loads that change within an update period cannot be split to 1% at any
 * estimator, only bounded).  Deterministic; no clock, no sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "joulebench.h"
#include "vdrive.h"

#define SEEDS 3

struct stats {
    size_t n, covered, below_idle, flagged_resolution, flagged_aliasing;
    double mean_err, max_err, max_tiling;
};

static void run_cell(const char *load, double phase_ms, double jitter_ms, struct stats *st)
{
    char err[256];

    memset(st, 0, sizeof(*st));
    for (int sd = 0; sd < SEEDS; sd++) {
        struct vd_opts o;
        struct vd_result r;
        double sum = 0;

        vd_defaults(&o);
        o.load = load;
        o.jitter_ms = jitter_ms;
        o.phase_ms = phase_ms;
        o.run_s = phase_ms * 30 / 1000 < 15 ? 15 : phase_ms * 30 / 1000;
        o.seed = (uint64_t)sd + 1;
        o.offset_ms = fmod(37.0 * sd + 11, 100);
        if (vd_run(&o, &r, err, sizeof(err)) < 0)
            fail_msg("%s, %g ms: %s", load, phase_ms, err);
        for (size_t i = 0; i < r.n; i++) {
            const struct vd_phase *ph = &r.ph[i];
            double e = fabs(ph->est_j - ph->true_j) / ph->true_j, tol = 1e-9 * ph->true_j + 1e-6;
            assert_true(ph->valid & JB_PHASE_ENERGY);
            assert_true(ph->valid & JB_PHASE_ENERGY_BOUNDS);
            assert_false(ph->valid & JB_PHASE_PARTIAL);
            assert_true(ph->est_j > 0); /* never 0 J where the meter drew power */
            sum += ph->est_j;
            st->mean_err += e;
            if (e > st->max_err)
                st->max_err = e;
            st->covered += ph->lo_j - tol <= ph->true_j && ph->true_j <= ph->hi_j + tol;
            st->below_idle += ph->est_j < ph->idle_w * (ph->t1_s - ph->t0_s) * (1 - 1e-6);
            st->flagged_resolution += (ph->flags & JB_PHASE_FLAG_RESOLUTION) != 0;
            st->flagged_aliasing += (ph->flags & JB_PHASE_FLAG_ALIASING) != 0;
            assert_true(ph->flags & JB_PHASE_FLAG_STEPPED);
            st->n++;
        }
        if (fabs(sum - r.whole.est_j) / r.whole.est_j > st->max_tiling)
            st->max_tiling = fabs(sum - r.whole.est_j) / r.whole.est_j;
        /* The whole run, many updates long, against its truth. */
        assert_true(fabs(r.whole.est_j - r.whole.true_j) / r.whole.true_j < 0.005);
        assert_true(r.stepped);
        assert_true(fabs(r.period_s - 0.1) < 0.0002);
        vd_free(&r);
    }
    st->mean_err /= (double)st->n;
}

static const double lengths_ms[] = {10, 30, 100, 200, 300, 1000, 3000, 10000};

/*
 * Limits per load: max error at >= 1 s and at >= 200 ms, mean error at >= 1 s.  For loads steady
 * over an update period (constant, 300/700 ms square, an 83 ms training step whose levels the
 * interval means average) the error is the update jitter's; for loads with structure finer than
 * the update period (50/50 ms square, 25 ms bursts) it is where in an update interval the
 * energy fell, which nothing the meter gives can tell: bounded, not resolved.
 */
static void check_load(const char *load, double max_1s, double max_200ms, double mean_1s)
{
    for (size_t k = 0; k < sizeof(lengths_ms) / sizeof(lengths_ms[0]); k++) {
        struct stats st;
        double cov;

        run_cell(load, lengths_ms[k], 1.0, &st);
        cov = (double)st.covered / (double)st.n;
        if (cov < 0.95)
            fail_msg("%s, %g ms phases: the interval holds the truth for %.1f%% of %zu", load,
                     lengths_ms[k], 100 * cov, st.n);
        if (st.max_tiling > 1e-3)
            fail_msg("%s, %g ms phases: phases tile the whole to %.2e", load, lengths_ms[k],
                     st.max_tiling);
        if (st.below_idle)
            fail_msg("%s, %g ms phases: %zu below idle power", load, lengths_ms[k], st.below_idle);
        if (lengths_ms[k] >= 1000 && (st.max_err > max_1s || st.mean_err > mean_1s))
            fail_msg("%s, %g ms phases: error mean %.2f%% max %.2f%% (limits %.2f%%, %.2f%%)", load,
                     lengths_ms[k], 100 * st.mean_err, 100 * st.max_err, 100 * mean_1s,
                     100 * max_1s);
        if (lengths_ms[k] >= 200 && st.max_err > max_200ms)
            fail_msg("%s, %g ms phases: max error %.2f%% (limit %.2f%%)", load, lengths_ms[k],
                     100 * st.max_err, 100 * max_200ms);
        /* Shorter than two updates: flagged, every one; from 300 ms on: none. */
        if (lengths_ms[k] <= 100)
            assert_int_equal(st.flagged_resolution, st.n);
        if (lengths_ms[k] >= 300)
            assert_int_equal(st.flagged_resolution, 0);
    }
}

static void test_constant(void **state)
{
    (void)state;
    check_load("const=300", 0.005, 0.03, 0.002);
}

static void test_square_300_700(void **state)
{
    (void)state;
    check_load("square=130:700:1000:0.3", 0.02, 0.10, 0.003);
}

static void test_training_step(void **state)
{
    (void)state;
    check_load("steps=650:62:420:14:180:7", 0.015, 0.10, 0.005);
}

static void test_square_50_50(void **state)
{
    (void)state;
    check_load("square=130:700:100:0.5", 0.05, 0.30, 0.02);
}

static void test_bursts(void **state)
{
    struct stats st;

    (void)state;
    check_load("burst=130:700:25:101", 0.06, 0.40, 0.02);
    /* The instant reading aliases with the bursts: the flag is raised on most 1 s phases. */
    run_cell("burst=130:700:25:101", 1000, 1.0, &st);
    assert_true(st.flagged_aliasing * 2 > st.n);
    /* And never on a load that does not alias. */
    run_cell("square=130:700:1000:0.3", 1000, 1.0, &st);
    assert_int_equal(st.flagged_aliasing, 0);
}

/* Without jitter, a load steady over an update period is split to the brief's 1% at 1 s. */
static void test_no_jitter(void **state)
{
    struct stats st;

    (void)state;
    run_cell("square=130:700:1000:0.3", 1000, 0, &st);
    assert_true(st.max_err < 0.01);
    run_cell("const=300", 200, 0, &st);
    assert_true(st.max_err < 0.05);
}

/*
 * A host that stalls the sampler for 410 ms just after its first read (seen under valgrind in
 * CI): the first counter value after the stall arrives before any read has shown the counter to
 * be a step function.  Phases beginning in or after the stall must still come out right once the
 * later reads show the steps: on the locked schedule within 1% over a 1.2 s span at constant
 * power; on a fixed 100 ms cadence (reads in step with the updates never locate them: no grid)
 * within 1% or flagged unlocated; on both the truth inside every interval; on the locked one
 * nothing raised to the idle floor.  Without the stall, the same.
 */
static void test_stall_at_start(void **state)
{
    static const enum vd_schedule sched[] = {VD_LOCKED, VD_FIXED};
    char err[256];

    (void)state;
    for (int stall = 0; stall < 2; stall++)
        for (size_t k = 0; k < 2; k++)
            for (int sd = 1; sd <= 4; sd++) {
                struct vd_opts o;
                struct vd_result r;
                double e;
                vd_defaults(&o);
                o.load = "const=200";
                o.schedule = sched[k];
                o.jitter_ms = 1;
                o.offset_ms = 23.0 * sd;
                o.stall_s = 0.02;
                o.stall_len_s = stall ? 0.41 : 0;
                o.start_s = 0.4 + 0.01 * sd;
                o.run_s = 1.65;
                o.phase_ms = 300;
                o.seed = (uint64_t)sd;
                if (vd_run(&o, &r, err, sizeof(err)) < 0)
                    fail_msg("%s", err);
                e = fabs(r.whole.est_j - r.whole.true_j) / r.whole.true_j;
                if (e > 0.01 &&
                    (sched[k] == VD_LOCKED || !(r.whole.flags & JB_PHASE_FLAG_UNLOCATED)))
                    fail_msg("stall %d schedule %d seed %d: whole %.3f J, truth %.3f J", stall,
                             (int)sched[k], sd, r.whole.est_j, r.whole.true_j);
                if (sched[k] == VD_LOCKED && (r.whole.flags & JB_PHASE_FLAG_FLOORED))
                    fail_msg("stall %d schedule %d seed %d: whole floored", stall, (int)sched[k],
                             sd);
                /* The fixed cadence may floor a phase (flagged); the locked one never. */
                for (size_t i = 0; i < r.n; i++) {
                    const struct vd_phase *ph = &r.ph[i];
                    if (!(ph->lo_j - 1e-6 <= ph->true_j && ph->true_j <= ph->hi_j + 1e-6))
                        fail_msg("stall %d schedule %d seed %d phase %zu: truth %.3f J outside "
                                 "[%.3f, %.3f]",
                                 stall, (int)sched[k], sd, i, ph->true_j, ph->lo_j, ph->hi_j);
                    if (sched[k] == VD_LOCKED && (ph->flags & JB_PHASE_FLAG_FLOORED))
                        fail_msg("stall %d schedule %d seed %d phase %zu: floored (truth %.3f J)",
                                 stall, (int)sched[k], sd, i, ph->true_j);
                }
                vd_free(&r);
            }
}

/*
 * The same stall, its end swept across a counter period (the first read after it lands anywhere
 * up to 100 ms after an update, or just before one), the command's begin bound arriving during
 * the stall: the whole is within 1% and every interval holds the truth.  Found under valgrind
 * on a loaded machine: the first read after a 0.42 s stall came 3 ms before an update, its value
 * was placed on that update, and the command's energy came out one update (~28 J, +2.6%) high
 * with the truth outside its interval.
 */
static void test_stall_end_sweep(void **state)
{
    char err[256];

    (void)state;
    for (int j = 0; j < 20; j++) {
        struct vd_opts o;
        struct vd_result r;
        double e;
        vd_defaults(&o);
        o.load = "const=300";
        o.schedule = VD_LOCKED;
        o.jitter_ms = 1;
        o.offset_ms = 50;
        o.stall_s = 0.03;
        o.stall_len_s = 0.40 + 0.005 * j;
        o.start_s = o.stall_s + o.stall_len_s - 0.01;
        o.run_s = 3.5;
        o.phase_ms = 1000;
        o.seed = (uint64_t)j + 1;
        if (vd_run(&o, &r, err, sizeof(err)) < 0)
            fail_msg("%s", err);
        e = fabs(r.whole.est_j - r.whole.true_j) / r.whole.true_j;
        if (e > 0.01)
            fail_msg("stall end %d: whole %.3f J, truth %.3f J", j, r.whole.est_j, r.whole.true_j);
        if (!(r.whole.lo_j - 1e-6 <= r.whole.true_j && r.whole.true_j <= r.whole.hi_j + 1e-6))
            fail_msg("stall end %d: truth %.3f J outside [%.3f, %.3f]", j, r.whole.true_j,
                     r.whole.lo_j, r.whole.hi_j);
        for (size_t i = 0; i < r.n; i++) {
            const struct vd_phase *ph = &r.ph[i];
            if (!(ph->lo_j - 1e-6 <= ph->true_j && ph->true_j <= ph->hi_j + 1e-6))
                fail_msg("stall end %d phase %zu: truth %.3f J outside [%.3f, %.3f]", j, i,
                         ph->true_j, ph->lo_j, ph->hi_j);
        }
        vd_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant),       cmocka_unit_test(test_square_300_700),
        cmocka_unit_test(test_training_step),  cmocka_unit_test(test_square_50_50),
        cmocka_unit_test(test_bursts),         cmocka_unit_test(test_no_jitter),
        cmocka_unit_test(test_stall_at_start), cmocka_unit_test(test_stall_end_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
