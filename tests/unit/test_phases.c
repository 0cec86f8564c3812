/*
 * test_phases.c - energy attribution to phases (src/lib/phases.c) through the public jb_phases_*
 * API: counter interpolation at the bounds, the trapezoid power integral, when a phase resolves,
 * nesting, state errors, finish, items, meters lacking a counter or power, and that readings of a
 * long run stay usable after a million of them.  Every expected value is computed by hand in the
 * comments.  And, for a step-function counter (the simulated NVML counter, read as the locked
 * sampler reads it): a 30 ms phase between two updates gets its share, flagged; the work per
 * reading and bound does not grow with the number of open phases; results stream out through a
 * callback or jb_phases_take; peaks say which reading they came from; a power integral that
 * disagrees with the counter is flagged.  Not a test of the sampler or of real meters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "counter.h"
#include "joulebench.h"
#include "phases.h"
#include "sim.h"

#define MS(x) ((uint64_t)(x)*1000000ull)
/* The validity bits these tests were written for (0.1); later bits are checked apart. */
#define OLD_BITS(v)                                                                                \
    ((v) & (JB_PHASE_ENERGY | JB_PHASE_ENERGY_POWER | JB_PHASE_ITEMS | JB_PHASE_PARTIAL))

static void energy(struct jb_phases *p, size_t meter, uint64_t t_ns, double j)
{
    struct jb_energy e = {t_ns, j};
    assert_int_equal(jb_phases_add_energy(p, meter, &e), 0);
}

static void power(struct jb_phases *p, size_t meter, uint64_t t_ns, double w)
{
    assert_int_equal(jb_phases_add_power(p, meter, t_ns, w), 0);
}

static const struct jb_phase_result *result(const struct jb_phases *p, size_t i)
{
    const struct jb_phase_result *r = jb_phases_result(p, i);
    assert_non_null(r);
    return r;
}

/* Counter (1 s, 10 J), (2 s, 40 J), (4 s, 50 J): C(1.5 s) = 25, C(3 s) = 45. */
static void test_counter_interpolation(void **state)
{
    struct jb_phases *p = jb_phases_new(1);
    const struct jb_phase_result *r;

    (void)state;
    energy(p, 0, MS(1000), 10);
    energy(p, 0, MS(2000), 40);
    energy(p, 0, MS(4000), 50);
    assert_int_equal(jb_phases_begin(p, "step", 0, MS(1500)), 0);
    assert_int_equal(jb_phases_end(p, "step", 0, MS(3000), NULL), 0);
    /* Bounds exactly on readings: C(2 s) = 40, C(4 s) = 50. */
    assert_int_equal(jb_phases_begin(p, "step", 1, MS(2000)), 0);
    assert_int_equal(jb_phases_end(p, "step", 1, MS(4000), NULL), 0);
    /* Between the same two readings: C(2.5 s) = 42.5, C(3.5 s) = 47.5. */
    assert_int_equal(jb_phases_begin(p, "step", 2, MS(2500)), 0);
    assert_int_equal(jb_phases_end(p, "step", 2, MS(3500), NULL), 0);
    assert_int_equal(jb_phases_result_count(p), 3);

    r = result(p, 0);
    assert_string_equal(r->phase, "step");
    assert_int_equal(r->index, 0);
    assert_int_equal(r->meter, 0);
    assert_int_equal(r->t_begin_ns, MS(1500));
    assert_int_equal(r->t_end_ns, MS(3000));
    assert_int_equal(OLD_BITS(r->valid), JB_PHASE_ENERGY);
    assert_float_equal(r->energy_j, 20.0, 1e-9);
    r = result(p, 1);
    assert_int_equal(OLD_BITS(r->valid), JB_PHASE_ENERGY);
    assert_float_equal(r->energy_j, 10.0, 1e-9);
    r = result(p, 2);
    assert_int_equal(OLD_BITS(r->valid), JB_PHASE_ENERGY);
    assert_float_equal(r->energy_j, 5.0, 1e-9);
    assert_null(jb_phases_result(p, 3));
    jb_phases_free(p);
}

/* A bound before the first reading or after the last is partial; the counter is held there. */
static void test_bounds_outside_readings(void **state)
{
    struct jb_phases *p = jb_phases_new(1);
    const struct jb_phase_result *r;

    (void)state;
    assert_int_equal(jb_phases_begin(p, "early", 0, MS(500)), 0);
    /* Every 100 ms (a wider gap in a counter's first 1.5 s holds the bounds back:
     * test_early_gap_waits). */
    for (int i = 0; i <= 10; i++)
        energy(p, 0, MS(1000 + 100 * i), 10 + i);
    assert_int_equal(jb_phases_end(p, "early", 0, MS(2000), NULL), 0);
    assert_int_equal(jb_phases_result_count(p), 1);
    r = result(p, 0);
    assert_int_equal(OLD_BITS(r->valid), JB_PHASE_ENERGY | JB_PHASE_PARTIAL);
    assert_float_equal(r->energy_j, 10.0, 1e-9); /* C(2 s) - C(1 s): nothing before 1 s */

    assert_int_equal(jb_phases_begin(p, "late", 0, MS(1500)), 0);
    assert_int_equal(jb_phases_end(p, "late", 0, MS(3000), NULL), 0);
    assert_int_equal(jb_phases_result_count(p), 1); /* waits for a reading at or past 3 s */
    assert_int_equal(jb_phases_finish(p, MS(3000)), 0);
    assert_int_equal(jb_phases_result_count(p), 2);
    r = result(p, 1);
    assert_int_equal(OLD_BITS(r->valid), JB_PHASE_ENERGY | JB_PHASE_PARTIAL);
    assert_float_equal(r->energy_j, 5.0, 1e-9); /* C(2 s) - C(1.5 s) */
    jb_phases_free(p);
}

/* Power (0 s, 100 W), (1 s, 200 W), (2 s, 200 W), (3 s, 0 W).
 * [0.5 s, 2.5 s]: P(0.5) = 150, P(2.5) = 100: 0.5 * 175 + 1 * 200 + 0.5 * 150 = 362.5 J.
 * [0 s, 3 s]: 150 + 200 + 100 = 450 J.  [1 s, 2 s]: 200 J.  [2.25 s, 2.75 s]: P = 150, 50: 50 J. */
static void test_power_trapezoid(void **state)
{
    struct jb_phases *p = jb_phases_new(1);
    static const struct {
        uint64_t b, e;
        double j;
    } want[] = {{MS(500), MS(2500), 362.5},
                {0, MS(3000), 450.0},
                {MS(1000), MS(2000), 200.0},
                {MS(2250), MS(2750), 50.0},
                {MS(1200), MS(1200), 0.0}};

    (void)state;
    power(p, 0, 0, 100);
    power(p, 0, MS(1000), 200);
    power(p, 0, MS(2000), 200);
    power(p, 0, MS(3000), 0);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct jb_phase_result *r;
        assert_int_equal(jb_phases_begin(p, "p", (long)i, want[i].b), 0);
        assert_int_equal(jb_phases_end(p, "p", (long)i, want[i].e, NULL), 0);
        assert_int_equal(jb_phases_result_count(p), i + 1);
        r = result(p, i);
        assert_int_equal(OLD_BITS(r->valid), JB_PHASE_ENERGY_POWER);
        assert_float_equal(r->energy_j_power, want[i].j, 1e-9);
    }
    jb_phases_free(p);
}

/* A phase resolves only when every meter's every series has a reading at or past its end. */
static void test_resolves_when_readings_pass_end(void **state)
{
    struct jb_phases *p = jb_phases_new(2);
    const struct jb_phase_result *r;

    (void)state;
    energy(p, 0, 0, 0);
    power(p, 0, 0, 100);
    energy(p, 1, 0, 0);
    assert_int_equal(jb_phases_begin(p, "epoch", 0, MS(100)), 0);
    energy(p, 0, MS(150), 15);
    assert_int_equal(jb_phases_end(p, "epoch", 0, MS(200), NULL), 0);
    assert_int_equal(jb_phases_result_count(p), 0);
    energy(p, 0, MS(199), 19.9);
    power(p, 0, MS(250), 100);
    energy(p, 1, MS(150), 15);
    energy(p, 1, MS(300), 30);
    assert_int_equal(jb_phases_result_count(p), 0); /* meter 0's counter is at 199 ms */
    energy(p, 0, MS(200), 20);
    assert_int_equal(jb_phases_result_count(p), 2); /* one result per meter */
    r = result(p, 0);
    assert_int_equal(r->meter, 0);
    assert_int_equal(OLD_BITS(r->valid), JB_PHASE_ENERGY | JB_PHASE_ENERGY_POWER);
    assert_float_equal(r->energy_j, 10.0, 1e-9);
    assert_float_equal(r->energy_j_power, 10.0, 1e-9);
    r = result(p, 1);
    assert_int_equal(r->meter, 1);
    assert_int_equal(OLD_BITS(r->valid), JB_PHASE_ENERGY); /* meter 1 has no power samples */
    assert_float_equal(r->energy_j, 10.0, 1e-9);
    jb_phases_free(p);
}

/* Counter at 10 W: C(t) = 10 t.  Epoch [0, 10 s] holds steps [2, 4] and [5, 7]; then epoch 1. */
static void test_nested_and_sequential(void **state)
{
    struct jb_phases *p = jb_phases_new(1);
    static const struct {
        const char *phase;
        long index;
        double j;
    } want[] = {{"step", 0, 20}, {"step", 1, 20}, {"epoch", 0, 100}, {"epoch", 1, 50}};

    (void)state;
    energy(p, 0, 0, 0);
    assert_int_equal(jb_phases_begin(p, "epoch", 0, 0), 0);
    assert_int_equal(jb_phases_begin(p, "step", 0, MS(2000)), 0);
    assert_int_equal(jb_phases_end(p, "step", 0, MS(4000), NULL), 0);
    assert_int_equal(jb_phases_begin(p, "step", 1, MS(5000)), 0);
    assert_int_equal(jb_phases_end(p, "step", 1, MS(7000), NULL), 0);
    assert_int_equal(jb_phases_end(p, "epoch", 0, MS(10000), NULL), 0);
    assert_int_equal(jb_phases_begin(p, "epoch", 1, MS(10000)), 0);
    assert_int_equal(jb_phases_end(p, "epoch", 1, MS(15000), NULL), 0);
    assert_int_equal(jb_phases_result_count(p), 0);
    for (int s = 1; s <= 16; s++)
        energy(p, 0, MS(1000 * s), 10.0 * s);
    assert_int_equal(jb_phases_result_count(p), 4);
    for (size_t i = 0; i < 4; i++) {
        const struct jb_phase_result *r = result(p, i);
        assert_string_equal(r->phase, want[i].phase);
        assert_int_equal(r->index, want[i].index);
        assert_int_equal(OLD_BITS(r->valid), JB_PHASE_ENERGY);
        assert_float_equal(r->energy_j, want[i].j, 1e-9);
    }
    jb_phases_free(p);
}

static void test_state_errors(void **state)
{
    struct jb_phases *p = jb_phases_new(1);
    char name[40];

    (void)state;
    assert_int_equal(jb_phases_begin(p, "epoch", 1, MS(1)), 0);
    assert_int_equal(jb_phases_begin(p, "epoch", 1, MS(2)), JB_ESTATE);
    assert_string_equal(jb_phases_errmsg(p), "phase 'epoch' 1 begun twice without an end");
    assert_int_equal(jb_phases_begin(p, "epoch", 2, MS(2)), 0); /* another index is another phase */
    assert_int_equal(jb_phases_end(p, "eval", 1, MS(3), NULL), JB_ESTATE);
    assert_string_equal(jb_phases_errmsg(p), "phase 'eval' 1 ended but never begun");
    assert_int_equal(jb_phases_end(p, "epoch", 3, MS(3), NULL), JB_ESTATE);
    assert_string_equal(jb_phases_errmsg(p), "phase 'epoch' 3 ended but never begun");
    assert_int_equal(jb_phases_end(p, "epoch", 1, 0, NULL), JB_EINVAL);
    assert_string_equal(jb_phases_errmsg(p), "phase 'epoch' 1 ends before it begins");
    assert_int_equal(jb_phases_end(p, "epoch", 1, MS(3), NULL), 0);
    assert_int_equal(jb_phases_end(p, "epoch", 1, MS(4), NULL), JB_ESTATE); /* ended twice */

    memset(name, 'a', 31);
    name[31] = '\0';
    assert_int_equal(jb_phases_begin(p, name, 0, MS(5)), 0);
    name[31] = 'b';
    name[32] = '\0';
    assert_int_equal(jb_phases_begin(p, name, 0, MS(5)), JB_EINVAL);
    assert_non_null(strstr(jb_phases_errmsg(p), "longer than 31 bytes"));
    assert_int_equal(jb_phases_begin(p, "", 0, MS(5)), JB_EINVAL);
    assert_int_equal(jb_phases_begin(p, NULL, 0, MS(5)), JB_EINVAL);
    assert_int_equal(jb_phases_begin(NULL, "x", 0, MS(5)), JB_EINVAL);
    assert_int_equal(jb_phases_add_energy(p, 1, &(struct jb_energy){0, 0}), JB_EINVAL);
    assert_int_equal(jb_phases_add_power(p, 0, 0, 0.0 / 0.0), JB_EINVAL);
    assert_int_equal(jb_phases_finish(NULL, 0), JB_EINVAL);
    assert_int_equal(jb_phases_result_count(NULL), 0);
    assert_string_equal(jb_phases_errmsg(NULL), "");
    jb_phases_free(p);
}

static void test_out_of_order_readings(void **state)
{
    struct jb_phases *p = jb_phases_new(1);
    struct jb_energy e = {MS(1), 1};

    (void)state;
    energy(p, 0, MS(2), 2);
    assert_int_equal(jb_phases_add_energy(p, 0, &e), JB_EINVAL);
    assert_string_equal(jb_phases_errmsg(p),
                        "reading out of time order (1000000 ns after 2000000 ns)");
    energy(p, 0, MS(2), 2); /* the same time again is in order */
    power(p, 0, MS(1), 1);  /* energy and power are separate series */
    power(p, 0, MS(5), 1);
    assert_int_equal(jb_phases_add_power(p, 0, MS(4), 1), JB_EINVAL);
    assert_non_null(strstr(jb_phases_errmsg(p), "out of time order"));
    jb_phases_free(p);
}

static void test_finish(void **state)
{
    struct jb_phases *p = jb_phases_new(1);
    const struct jb_phase_result *r;

    (void)state;
    energy(p, 0, 0, 0);
    energy(p, 0, MS(4000), 40);
    assert_int_equal(jb_phases_begin(p, "epoch", 0, MS(1000)), 0);
    assert_int_equal(jb_phases_begin(p, "step", 0, MS(1000)), 0);
    assert_int_equal(jb_phases_begin(p, "after", 0, MS(5000)), 0);
    assert_int_equal(jb_phases_finish(p, MS(3000)), 0);
    assert_int_equal(jb_phases_result_count(p), 3);
    for (size_t i = 0; i < 2; i++) {
        r = result(p, i);
        assert_int_equal(r->t_end_ns, MS(3000));
        /* Covered by readings, but closed by finish: partial. */
        assert_int_equal(OLD_BITS(r->valid), JB_PHASE_ENERGY | JB_PHASE_PARTIAL);
        assert_float_equal(r->energy_j, 20.0, 1e-9);
    }
    r = result(p, 2);
    assert_string_equal(r->phase, "after");
    assert_int_equal(r->t_begin_ns, MS(5000));
    assert_int_equal(r->t_end_ns, MS(5000)); /* began after the finish time: empty */
    assert_true(r->valid & JB_PHASE_PARTIAL);
    assert_float_equal(r->energy_j, 0.0, 1e-12);
    /* Nothing open any more. */
    assert_int_equal(jb_phases_end(p, "epoch", 0, MS(3500), NULL), JB_ESTATE);
    assert_int_equal(jb_phases_finish(p, MS(6000)), 0);
    assert_int_equal(jb_phases_result_count(p), 3);
    jb_phases_free(p);
}

/*
 * A counter whose reads in its first 1.5 s have a gap wider than 150 ms (a stalled host) may be a
 * step function whose first reads straddle several updates: no bound is evaluated until 1.5 s
 * after its first read (or finish); a counter read without such a gap resolves at once.
 */
static void test_early_gap_waits(void **state)
{
    struct jb_phases *p = jb_phases_new(2);
    const struct jb_phase_result *r;

    (void)state;
    energy(p, 0, 0, 0);
    energy(p, 1, 0, 0);
    assert_int_equal(jb_phases_begin(p, "x", 0, MS(50)), 0);
    assert_int_equal(jb_phases_end(p, "x", 0, MS(350), NULL), 0);
    energy(p, 0, MS(400), 40); /* meter 0: a 400 ms gap */
    for (int i = 1; i <= 4; i++)
        energy(p, 1, MS(100 * i), 10 * i);
    assert_int_equal(jb_phases_result_count(p), 0); /* meter 0 holds the phase back */
    for (int i = 5; i <= 14; i++) {
        energy(p, 0, MS(100 * i), 10 * i);
        energy(p, 1, MS(100 * i), 10 * i);
    }
    assert_int_equal(jb_phases_result_count(p), 0); /* at 1.4 s: still within the first 1.5 s */
    energy(p, 0, MS(1500), 150);
    energy(p, 1, MS(1500), 150);
    assert_int_equal(jb_phases_result_count(p), 2);
    for (size_t m = 0; m < 2; m++) {
        r = result(p, m);
        assert_float_equal(r->energy_j, 30.0, 1e-9);
    }
    jb_phases_free(p);
}

static void test_items(void **state)
{
    struct jb_phases *p = jb_phases_new(2);
    double items = 64;

    (void)state;
    energy(p, 0, 0, 0);
    energy(p, 1, 0, 0);
    assert_int_equal(jb_phases_begin(p, "step", 0, 0), 0);
    assert_int_equal(jb_phases_end(p, "step", 0, MS(10), &items), 0);
    items = 0; /* copied at end */
    assert_int_equal(jb_phases_begin(p, "step", 1, MS(10)), 0);
    assert_int_equal(jb_phases_end(p, "step", 1, MS(20), NULL), 0);
    energy(p, 0, MS(20), 2);
    energy(p, 1, MS(20), 4);
    assert_int_equal(jb_phases_result_count(p), 4);
    for (size_t m = 0; m < 2; m++) {
        const struct jb_phase_result *r = result(p, m);
        assert_int_equal(r->meter, m);
        assert_true(r->valid & JB_PHASE_ITEMS);
        assert_float_equal(r->items, 64.0, 0);
        assert_false(result(p, 2 + m)->valid & JB_PHASE_ITEMS);
    }
    assert_float_equal(result(p, 0)->energy_j, 1.0, 1e-9);
    assert_float_equal(result(p, 1)->energy_j, 2.0, 1e-9);
    jb_phases_free(p);
}

/* Meter 0 has only power, meter 1 only a counter, meter 2 nothing at all. */
static void test_meters_lacking_readings(void **state)
{
    struct jb_phases *p = jb_phases_new(3);
    const struct jb_phase_result *r;

    (void)state;
    power(p, 0, MS(1000), 50);
    energy(p, 1, MS(1000), 0);
    assert_int_equal(jb_phases_begin(p, "a", 0, MS(1000)), 0);
    assert_int_equal(jb_phases_end(p, "a", 0, MS(3000), NULL), 0);
    power(p, 0, MS(3000), 150);
    assert_int_equal(jb_phases_result_count(p), 0);
    energy(p, 1, MS(3000), 7);
    assert_int_equal(jb_phases_result_count(p), 3);
    r = result(p, 0);
    assert_int_equal(OLD_BITS(r->valid), JB_PHASE_ENERGY_POWER);
    assert_float_equal(r->energy_j_power, 200.0, 1e-9);
    r = result(p, 1);
    assert_int_equal(OLD_BITS(r->valid), JB_PHASE_ENERGY);
    assert_float_equal(r->energy_j, 7.0, 1e-9);
    r = result(p, 2);
    assert_int_equal(OLD_BITS(r->valid), 0);

    /* Power alone decides partial when there is no counter. */
    assert_int_equal(jb_phases_begin(p, "b", 0, MS(500)), 0);
    assert_int_equal(jb_phases_end(p, "b", 0, MS(2000), NULL), 0);
    assert_int_equal(jb_phases_result_count(p), 6);
    assert_int_equal(OLD_BITS(result(p, 3)->valid), JB_PHASE_ENERGY_POWER | JB_PHASE_PARTIAL);
    /* 0.5 s held at 50 W before the first sample, then 1 s from 50 to 100 W. */
    assert_float_equal(result(p, 3)->energy_j_power, 25.0 + 75.0, 1e-9);
    jb_phases_free(p);
}

/* A meter that reported once and then fell silent (e.g. a lost GPU) holds every later phase until
 * finish, which resolves them with what there is: that meter's values are partial. */
static void test_silent_meter(void **state)
{
    struct jb_phases *p = jb_phases_new(2);

    (void)state;
    energy(p, 0, 0, 0);
    energy(p, 1, 0, 0);
    assert_int_equal(jb_phases_begin(p, "step", 0, MS(1000)), 0);
    assert_int_equal(jb_phases_end(p, "step", 0, MS(2000), NULL), 0);
    for (int i = 1; i <= 30; i++)
        energy(p, 0, MS(100 * i), 0.1 * i);
    assert_int_equal(jb_phases_result_count(p), 0);
    assert_int_equal(jb_phases_finish(p, MS(3000)), 0);
    assert_int_equal(jb_phases_result_count(p), 2);
    assert_int_equal(OLD_BITS(result(p, 0)->valid), JB_PHASE_ENERGY);
    assert_float_equal(result(p, 0)->energy_j, 1.0, 1e-9);
    assert_int_equal(OLD_BITS(result(p, 1)->valid), JB_PHASE_ENERGY | JB_PHASE_PARTIAL);
    jb_phases_free(p);
}

/* A meter declared gone no longer holds phases back: they resolve as soon as the live meter's
 * readings pass their end, and the gone meter's result is partial. */
static void test_meter_gone(void **state)
{
    struct jb_phases *p = jb_phases_new(2);

    (void)state;
    energy(p, 0, 0, 0);
    energy(p, 1, 0, 0);
    assert_int_equal(jb_phases_begin(p, "step", 0, MS(1000)), 0);
    assert_int_equal(jb_phases_end(p, "step", 0, MS(2000), NULL), 0);
    for (int i = 1; i <= 30; i++)
        energy(p, 0, MS(100 * i), 0.1 * i);
    assert_int_equal(jb_phases_result_count(p), 0);
    assert_int_equal(jb_phases_meter_gone(p, 1), 0);
    assert_int_equal(jb_phases_result_count(p), 2);
    assert_float_equal(result(p, 0)->energy_j, 1.0, 1e-9);
    assert_true(result(p, 1)->valid & JB_PHASE_PARTIAL);
    assert_int_equal(jb_phases_meter_gone(p, 2), JB_EINVAL);
    jb_phases_free(p);
}

/* A million readings with no phase open, 1 ms apart at 100 W (0.1 J each); then a phase begun at
 * the newest reading, and one begun 5 s late (the workload's clock lags the sampler): both
 * resolve exactly from readings kept through the million. */
static void test_long_run(void **state)
{
    struct jb_phases *p = jb_phases_new(1);
    const uint64_t n = 1000000;
    const struct jb_phase_result *r;

    (void)state;
    for (uint64_t i = 0; i < n; i++) {
        struct jb_energy e = {MS(i), 0.1 * (double)i};
        assert_true(jb_phases_add_energy(p, 0, &e) == 0);
    }
    assert_int_equal(jb_phases_begin(p, "now", 0, MS(n - 1)), 0);
    assert_int_equal(jb_phases_begin(p, "late", 0, MS(n - 5000) + 500000), 0);
    for (uint64_t i = n; i < n + 20; i++)
        energy(p, 0, MS(i), 0.1 * (double)i);
    assert_int_equal(jb_phases_end(p, "now", 0, MS(n + 9), NULL), 0);
    assert_int_equal(jb_phases_end(p, "late", 0, MS(n + 9), NULL), 0);
    assert_int_equal(jb_phases_result_count(p), 2);
    r = result(p, 0);
    assert_int_equal(OLD_BITS(r->valid), JB_PHASE_ENERGY);
    assert_float_equal(r->energy_j, 1.0, 1e-6); /* 10 ms */
    r = result(p, 1);
    assert_int_equal(OLD_BITS(r->valid), JB_PHASE_ENERGY);
    assert_float_equal(r->energy_j, 500.85, 1e-6); /* 5008.5 ms */
    jb_phases_free(p);
}

/* ---- step-function counters ------------------------------------------------------------ */

#define ORIGIN_NS 1000000000ull

/* Feeds p (meter 0) with what a locked sampler reads from `spec` until t_end_s, power every 10 ms
 * (jb_phases_add_power with the instant reading), and the bounds in b[] (begin/end alternate,
 * a counter read right after each, as measure.c does).  Returns the model for the truth. */
static void feed_nvml(struct jb_phases *p, struct jb__sim *m, const char *spec, double t_end_s,
                      const double *b, size_t nb)
{
    struct jb__sim_config cfg;
    struct jb__lock l;
    char err[256];
    uint64_t now = ORIGIN_NS, next_pw = ORIGIN_NS, read_ns;
    size_t bi = 0;
    int want_read = 1;

    if (jb__sim_parse(spec, &cfg, err, sizeof(err)) < 0 ||
        jb__sim_init(m, &cfg, err, sizeof(err)) < 0)
        fail_msg("%s: %s", spec, err);
    read_ns = (uint64_t)(cfg.read_s * 1e9);
    jb__lock_init(&l, now, 100000000ull);
    while ((double)(now - ORIGIN_NS) / 1e9 < t_end_s) {
        uint64_t stamp = want_read ? now + read_ns / 2 : jb__lock_next(&l, now + read_ns / 2);
        uint64_t tb = bi < nb ? ORIGIN_NS + (uint64_t)(b[bi] * 1e9) : UINT64_MAX;
        if (next_pw < stamp - read_ns / 2 && next_pw < tb) {
            double t = (double)(next_pw - ORIGIN_NS) / 1e9;
            power(p, 0, next_pw, jb__sim_instant_power_w(m, t));
            now = next_pw;
            next_pw += 10000000ull;
            continue;
        }
        if (tb < stamp - read_ns / 2) {
            if (bi % 2 == 0)
                assert_int_equal(jb_phases_begin(p, "eval", (long)(bi / 2), tb), 0);
            else
                assert_int_equal(jb_phases_end(p, "eval", (long)(bi / 2), tb, NULL), 0);
            bi++;
            now = tb + 1000000; /* the event arrives 1 ms later, and a read follows */
            want_read = 1;
            continue;
        }
        {
            double t = (double)(stamp - ORIGIN_NS) / 1e9;
            struct jb_energy e = {stamp, jb__sim_counter_j(m, t)};
            assert_int_equal(jb_phases_add_energy(p, 0, &e), 0);
            jb__lock_feed(&l, stamp, e.energy_j);
            now = stamp + read_ns / 2;
            want_read = 0;
        }
    }
}

/* The H200 case of issue 8: a 30 ms phase that lies between two counter updates (here at 2.05 and
 * 2.15 s) read 0 J by interpolation between stale reads.  Now: its share of the update interval
 * it lies in (300 W constant: 9 J), inside its interval, flagged below resolution. */
static void test_short_phase_between_updates(void **state)
{
    struct jb_phases *p = jb_phases_new(1);
    struct jb__sim m;
    static const double b[] = {2.06, 2.09, 3.31, 3.34};

    (void)state;
    feed_nvml(p, &m, ":nvml:offset_ms=50:const=300", 4.0, b, 4);
    assert_int_equal(jb_phases_result_count(p), 2);
    for (size_t i = 0; i < 2; i++) {
        const struct jb_phase_result *r = result(p, i);
        double truth = jb__sim_true_energy_j(&m, b[2 * i], b[2 * i + 1]);
        assert_true(r->valid & JB_PHASE_ENERGY);
        assert_false(r->valid & JB_PHASE_PARTIAL);
        if (fabs(r->energy_j - truth) > 0.02 * truth)
            fail_msg("phase %zu: %.3f J, truth %.3f J", i, r->energy_j, truth);
        assert_true(r->valid & JB_PHASE_ENERGY_BOUNDS);
        assert_true(r->energy_j_lo <= truth && truth <= r->energy_j_hi);
        assert_true(r->flags & JB_PHASE_FLAG_STEPPED);
        assert_true(r->flags & JB_PHASE_FLAG_RESOLUTION);
        assert_true(fabs(r->update_period_s - 0.1) < 0.001);
        assert_true(r->energy_j >= r->idle_power_w * 0.03 * (1 - 1e-9));
    }
    jb__sim_release(&m);
    jb_phases_free(p);
}

/* n phases all open at once over a long stream (readings 0.1 ms apart, 100 W): the work the
 * accountant does (an internal count of elements visited) grows about as n log n, not n^2 as it
 * did when every reading scanned every open phase (issue 13: 10k open phases 0.66 s, 40k 6.3 s,
 * 200k more than 300 s).  Returns the work. */
static void reading_at(struct jb_phases *p, uint64_t t_ns)
{
    energy(p, 0, t_ns, 100.0 * (double)t_ns / 1e9);
    power(p, 0, t_ns, 100);
}

static uint64_t work_with_open(size_t n)
{
    struct jb_phases *p = jb_phases_new(1);
    const uint64_t step = 100000; /* 0.1 ms */
    char name[32];
    uint64_t w;

    reading_at(p, 0);
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "p%zu", i % 7);
        assert_int_equal(jb_phases_begin(p, name, (long)i, step * i), 0);
        reading_at(p, step * i + step / 2);
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "p%zu", i % 7);
        assert_int_equal(jb_phases_end(p, name, (long)i, step * (n + i), NULL), 0);
        reading_at(p, step * (n + i) + step / 2);
    }
    reading_at(p, step * 3 * n);
    assert_int_equal(jb_phases_result_count(p), n);
    /* Phase i: [i, n + i] x 0.1 ms at 100 W. */
    assert_float_equal(result(p, n / 2)->energy_j, 0.01 * (double)n, 1e-6);
    w = jb__phases_work(p);
    jb_phases_free(p);
    return w;
}

static void test_open_phases_cost(void **state)
{
    uint64_t w1, w8;

    (void)state;
    w1 = work_with_open(4000);
    w8 = work_with_open(32000);
    /* 8x the phases: n log n gives ~10x the work, n^2 would give 64x. */
    if (w8 > 16 * w1)
        fail_msg("work %llu for 4000 open phases, %llu for 32000", (unsigned long long)w1,
                 (unsigned long long)w8);
}

struct got {
    size_t n;
    char last[32];
};

static void on_result(void *user, const struct jb_phase_result *r)
{
    struct got *g = user;

    g->n++;
    snprintf(g->last, sizeof(g->last), "%s", r->phase);
}

/* With a callback results are handed out and not held; without, they are held until taken. */
static void test_streaming(void **state)
{
    struct jb_phases *p = jb_phases_new(1);
    struct got g = {0, ""};
    const struct jb_phase_result *r;

    (void)state;
    energy(p, 0, 0, 0);
    assert_int_equal(jb_phases_begin(p, "a", 0, MS(1)), 0);
    assert_int_equal(jb_phases_end(p, "a", 0, MS(2), NULL), 0);
    energy(p, 0, MS(3), 3);
    assert_int_equal(jb_phases_result_count(p), 1);
    jb_phases_set_on_result(p, on_result, &g);
    for (long i = 0; i < 1000; i++) {
        assert_int_equal(jb_phases_begin(p, "b", i, MS(10 + i)), 0);
        assert_int_equal(jb_phases_end(p, "b", i, MS(11 + i), NULL), 0);
        energy(p, 0, MS(11 + i), (double)(11 + i));
    }
    assert_int_equal(g.n, 1000);
    assert_string_equal(g.last, "b");
    assert_int_equal(jb_phases_result_count(p), 1); /* only the one from before */
    jb_phases_set_on_result(p, NULL, NULL);
    assert_int_equal(jb_phases_begin(p, "c", 0, MS(2000)), 0);
    assert_int_equal(jb_phases_end(p, "c", 0, MS(2001), NULL), 0);
    energy(p, 0, MS(2001), 2001);
    assert_int_equal(jb_phases_result_count(p), 2);
    r = jb_phases_take(p);
    assert_non_null(r);
    assert_string_equal(r->phase, "a");
    assert_float_equal(r->energy_j, 1.0, 1e-9);
    assert_int_equal(jb_phases_result_count(p), 1);
    assert_string_equal(result(p, 0)->phase, "c");
    assert_non_null(jb_phases_take(p));
    assert_null(jb_phases_take(p));
    assert_int_equal(jb_phases_result_count(p), 0);
    jb_phases_free(p);
}

/* The peak says which reading it came from; a sample without power is no reading at all. */
static void test_peak_source(void **state)
{
    struct jb_phases *p = jb_phases_new(2);
    struct jb_sample s;

    (void)state;
    memset(&s, 0, sizeof(s));
    s.valid = JB_CAP_POWER | JB_CAP_POWER_INSTANT;
    for (int i = 0; i <= 10; i++) {
        s.t_mono_ns = MS(100 * i);
        s.power_w = 200;
        s.power_instant_w = i == 5 ? 650 : 300;
        assert_int_equal(jb_phases_add_sample(p, 0, &s), 0);
    }
    s.valid = JB_CAP_TEMP;
    assert_int_equal(jb_phases_add_sample(p, 1, &s), 0);
    s.valid = JB_CAP_POWER;
    for (int i = 0; i <= 10; i++) {
        s.t_mono_ns = MS(100 * i);
        s.power_w = 100 + i;
        assert_int_equal(jb_phases_add_sample(p, 1, &s), 0);
    }
    assert_int_equal(jb_phases_begin(p, "x", 0, MS(150)), 0);
    assert_int_equal(jb_phases_end(p, "x", 0, MS(850), NULL), 0);
    assert_int_equal(jb_phases_begin(p, "y", 0, MS(610)), 0);
    assert_int_equal(jb_phases_end(p, "y", 0, MS(640), NULL), 0); /* no reading inside */
    assert_int_equal(jb_phases_result_count(p), 4);
    assert_true(result(p, 0)->valid & JB_PHASE_PEAK);
    assert_float_equal(result(p, 0)->peak_power_w, 650, 0);
    assert_int_equal(result(p, 0)->peak_power_source, JB_POWER_SOURCE_INSTANT);
    assert_float_equal(result(p, 1)->peak_power_w, 108, 0);
    assert_int_equal(result(p, 1)->peak_power_source, JB_POWER_SOURCE_AVERAGE);
    assert_float_equal(result(p, 2)->peak_power_w, 300, 0); /* the reading shown meanwhile */
    assert_float_equal(result(p, 3)->peak_power_w, 106, 0);
    assert_int_equal(jb_phases_add_sample(p, 2, &s), JB_EINVAL);
    assert_string_equal(jb_power_source_name(result(p, 0)->peak_power_source), "instant");
    assert_string_equal(jb_power_source_name(JB_POWER_SOURCE_AVERAGE), "average");
    assert_null(jb_power_source_name(9));
    assert_string_equal(jb_phase_flag_name(JB_PHASE_FLAG_RESOLUTION), "below_resolution");
    assert_string_equal(jb_phase_flag_name(JB_PHASE_FLAG_ALIASING), "aliasing");
    assert_null(jb_phase_flag_name(JB_PHASE_FLAG_ALIASING | JB_PHASE_FLAG_STEPPED));
    jb_phases_free(p);
}

/* Exact counter at 100 W, power readings that say 160 W: over 10 updates (counter reads every
 * 100 ms) the integral is 60% off the counter, so the phases there are flagged aliasing; the
 * meter's stats count the windows. */
static void test_aliasing_flag(void **state)
{
    struct jb_phases *p = jb_phases_new(1);
    const struct jb_phases_meter_stats *st;

    (void)state;
    for (int i = 0; i <= 30; i++) {
        energy(p, 0, MS(100 * i), 10.0 * i);
        power(p, 0, MS(100 * i), 160);
        if (i == 0)
            assert_int_equal(jb_phases_begin(p, "long", 0, MS(0)), 0);
        if (i == 12) {
            assert_int_equal(jb_phases_begin(p, "short", 0, MS(1210)), 0);
            assert_int_equal(jb_phases_end(p, "short", 0, MS(1240), NULL), 0);
        }
    }
    assert_int_equal(jb_phases_end(p, "long", 0, MS(3000), NULL), 0);
    assert_int_equal(jb_phases_result_count(p), 2);
    assert_true(result(p, 0)->flags & JB_PHASE_FLAG_ALIASING);
    assert_true(result(p, 1)->flags & JB_PHASE_FLAG_ALIASING);
    assert_float_equal(result(p, 1)->power_rel_diff, 0.6, 1e-9);
    assert_false(result(p, 1)->flags & JB_PHASE_FLAG_STEPPED);
    st = jb_phases_meter_stats(p, 0);
    assert_non_null(st);
    assert_true(st->check_windows >= 2);
    assert_int_equal(st->aliased_windows, st->check_windows);
    assert_false(st->stepped);
    assert_null(jb_phases_meter_stats(p, 1));
    jb_phases_free(p);

    /* The same with power readings that agree: no flag. */
    p = jb_phases_new(1);
    assert_int_equal(jb_phases_begin(p, "long", 0, MS(0)), 0);
    for (int i = 0; i <= 30; i++) {
        energy(p, 0, MS(100 * i), 10.0 * i);
        power(p, 0, MS(100 * i), 100);
    }
    assert_int_equal(jb_phases_end(p, "long", 0, MS(3000), NULL), 0);
    assert_false(result(p, 0)->flags & JB_PHASE_FLAG_ALIASING);
    assert_int_equal(jb_phases_meter_stats(p, 0)->aliased_windows, 0);
    jb_phases_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_interpolation),
        cmocka_unit_test(test_bounds_outside_readings),
        cmocka_unit_test(test_power_trapezoid),
        cmocka_unit_test(test_resolves_when_readings_pass_end),
        cmocka_unit_test(test_nested_and_sequential),
        cmocka_unit_test(test_state_errors),
        cmocka_unit_test(test_out_of_order_readings),
        cmocka_unit_test(test_finish),
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_early_gap_waits),
        cmocka_unit_test(test_meters_lacking_readings),
        cmocka_unit_test(test_silent_meter),
        cmocka_unit_test(test_meter_gone),
        cmocka_unit_test(test_long_run),
        cmocka_unit_test(test_short_phase_between_updates),
        cmocka_unit_test(test_open_phases_cost),
        cmocka_unit_test(test_streaming),
        cmocka_unit_test(test_peak_source),
        cmocka_unit_test(test_aliasing_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
