/*
 * test_counter.c - the counter update model and the sampler's read schedule (src/lib/counter.c)
 * in virtual time against the simulated NVML counter (src/lib/sim.h): a continuous counter is
 * told apart from a step function, the update grid is found and tracks the true period and
 * phase, the locked schedule reads just after each update (fresh values, about one read per
 * update), it finds the grid again after the updates jump, and anchors are placed where the
 * updates are.  Deterministic: reads happen where the schedule asks, each taking the model's read
 * cost, with no clock.  Not a test of the sampler's threads (test_sampler.c).
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
#include "sim.h"

#define ORIGIN 1000000000ull
#define MS_NS 1000000ull

static struct jb__sim model;

static void make(const char *spec)
{
    struct jb__sim_config cfg;
    char err[256];

    if (jb__sim_parse(spec, &cfg, err, sizeof(err)) < 0 ||
        jb__sim_init(&model, &cfg, err, sizeof(err)) < 0)
        fail_msg("%s: %s", spec, err);
}

static double tm(uint64_t t_ns)
{
    return ((double)t_ns - (double)ORIGIN) / 1e9;
}

struct run {
    uint64_t reads, fresh, scheduled_after;
    double max_stale_s;
};

/* Runs the schedule until `until_s`; a read stamped at t latches the counter at t.  Staleness
 * is counted for reads after `from_s`. */
static void drive(struct jb__lock *l, double until_s, double from_s, struct run *r)
{
    uint64_t now = ORIGIN, read_ns = (uint64_t)(model.cfg.read_s * 1e9);

    memset(r, 0, sizeof(*r));
    while (tm(now) < until_s) {
        uint64_t stamp = jb__lock_next(l, now + read_ns / 2);
        double t = tm(stamp),
               v = model.cfg.nvml ? jb__sim_counter_j(&model, t) : jb__sim_energy_j(&model, t);
        int changed = jb__lock_feed(l, stamp, v);
        assert_true(changed >= 0);
        r->reads++;
        /* How soon each new value was read (probes before an update are meant to be stale). */
        if (changed && t > from_s && model.cfg.nvml) {
            double st = t - jb__sim_update_s(&model, jb__sim_last_update(&model, t));
            if (st > r->max_stale_s)
                r->max_stale_s = st;
        }
        now = stamp + read_ns / 2;
    }
}

static void test_continuous_goes_fixed(void **state)
{
    struct jb__lock l;
    struct run r;

    (void)state;
    make(":square=100:300:50:0.5"); /* exact: every read is new */
    jb__lock_init(&l, ORIGIN, 100 * MS_NS);
    drive(&l, 5.0, 0, &r);
    assert_int_equal(l.state, JB_LOCK_FIXED);
    assert_false(l.c.stepped);
    /* Three reads to tell (three changes 2 ms apart: no 100 ms step function), then one per
     * 100 ms. */
    assert_true(r.reads >= 3 + 45 && r.reads <= 3 + 52);
    jb__sim_release(&model);
}

static void test_locks_and_reads_fresh(void **state)
{
    struct jb__lock l;
    struct run r;

    (void)state;
    make(":nvml:offset_ms=63:jitter_ms=1:const=300");
    jb__lock_init(&l, ORIGIN, 100 * MS_NS);
    drive(&l, 20.0, 2.0, &r);
    assert_int_equal(l.state, JB_LOCK_LOCKED);
    assert_true(l.c.stepped);
    /* The period to 0.1 ms; the phase: the grid's update 0 lands on a true update. */
    assert_true(fabs(jb__counter_period_ns(&l.c) - 100e6) < 0.1e6);
    {
        double g;
        int64_t n;
        uint64_t t = ORIGIN + 15 * 1000 * MS_NS;
        double u;
        assert_true(jb__counter_grid_point(&l.c, (double)t, &g, &n));
        u = jb__sim_update_s(&model, jb__sim_last_update(&model, tm((uint64_t)g) + 0.05));
        assert_true(fabs(tm((uint64_t)g) - u) < 0.004);
    }
    /* After the first 2 s every new value is read at most 15 ms after its update (the schedule
     * reads ~1-3 ms after each, jitter 1 ms), and the cost is under 1.6 reads per update. */
    assert_true(r.max_stale_s < 0.015);
    assert_true(r.reads < 20 * 10 * 1.6 + 100);
    jb__sim_release(&model);
}

/* The energy interval asks for every other update: locked reads follow every other one. */
static void test_stride(void **state)
{
    struct jb__lock l;
    struct run r;

    (void)state;
    make(":nvml:offset_ms=20:const=200");
    jb__lock_init(&l, ORIGIN, 200 * MS_NS);
    drive(&l, 20.0, 2.0, &r);
    assert_int_equal(l.state, JB_LOCK_LOCKED);
    /* ~1.8 reads per targeted update, plus the search: back-to-back reads until the grid
     * predicts the tenth update to come within 5 ms (1 sd), here ~0.4 s and ~110 reads. */
    assert_true(r.reads < 20 * 5 * 1.8 + 120);
    jb__sim_release(&model);
}

/* The updates jump by 40 ms (as after a driver hiccup): the schedule notices and locks again. */
static void test_reacquires(void **state)
{
    struct jb__lock l;
    struct run r;
    uint64_t now, read_ns;
    double last_v = -1, max_stale = 0;

    (void)state;
    make(":nvml:offset_ms=10:const=300");
    jb__lock_init(&l, ORIGIN, 100 * MS_NS);
    drive(&l, 5.0, 5.0, &r);
    assert_int_equal(l.state, JB_LOCK_LOCKED);
    model.cfg.offset_s = 0.050;
    read_ns = (uint64_t)(model.cfg.read_s * 1e9);
    now = ORIGIN + 5000 * MS_NS;
    while (tm(now) < 12) {
        uint64_t stamp = jb__lock_next(&l, now + read_ns / 2);
        double t = tm(stamp), v = jb__sim_counter_j(&model, t);
        jb__lock_feed(&l, stamp, v);
        if (t > 9 && v != last_v) {
            double u = jb__sim_update_s(&model, jb__sim_last_update(&model, t));
            if (t - u > max_stale)
                max_stale = t - u;
        }
        last_v = v;
        now = stamp + read_ns / 2;
    }
    /* Within 4 s of the jump it reads every update fresh again. */
    assert_true(max_stale < 0.015);
    assert_int_equal(l.state, JB_LOCK_LOCKED);
    jb__sim_release(&model);
}

static void test_stepped_only_when_powered(void **state)
{
    struct jb__counter c;
    struct jb__anchor a;

    (void)state;
    jb__counter_init(&c);
    assert_int_equal(jb__counter_feed(&c, 100, 1.0, 0, &a), 1);
    assert_true(a.flags & JB_ANCHOR_EXACT);
    assert_true(a.flags & JB_ANCHOR_FIRST);
    /* The same value again while the meter draws nothing: not evidence of a stale counter. */
    assert_int_equal(jb__counter_feed(&c, 200, 1.0, 0, &a), 0);
    assert_false(c.stepped);
    /* At the same time: not either. */
    assert_int_equal(jb__counter_feed(&c, 200, 1.0, 1, &a), 0);
    assert_false(c.stepped);
    assert_int_equal(jb__counter_feed(&c, 300, 2.0, 1, &a), 1);
    assert_int_equal(a.u_ns, 300);
    /* Going down, or back in time: refused. */
    assert_int_equal(jb__counter_feed(&c, 400, 1.5, 1, &a), -1);
    assert_int_equal(jb__counter_feed(&c, 250, 3.0, 1, &a), -1);
    /* Read again while powered: a step function from now on. */
    assert_int_equal(jb__counter_feed(&c, 400, 2.0, 1, &a), 0);
    assert_true(c.stepped);
    assert_int_equal(jb__counter_period_ns(&c), 0);
}

/* Anchors of a stepped counter without a grid lie in (max(a, b - P), b], with P bounded by the
 * longest time a value was seen unchanged. */
static void test_bracket_placement(void **state)
{
    struct jb__counter c;
    struct jb__anchor a;

    (void)state;
    jb__counter_init(&c);
    jb__counter_feed(&c, 0 * MS_NS, 0, 1, &a);
    jb__counter_feed(&c, 10 * MS_NS, 0, 1, &a);
    jb__counter_feed(&c, 95 * MS_NS, 0, 1, &a);
    assert_int_equal(jb__counter_feed(&c, 105 * MS_NS, 30, 1, &a), 1);
    assert_int_equal(c.stale_max_ns, 95 * MS_NS);
    assert_int_equal(a.a_ns, 95 * MS_NS);
    assert_int_equal(a.lo_ns, 95 * MS_NS);
    assert_int_equal(a.hi_ns, 105 * MS_NS);
    assert_true(a.u_ns > a.lo_ns && a.u_ns <= a.hi_ns);
    /* A read long after: the update lies within the longest plausible period of it. */
    assert_int_equal(jb__counter_feed(&c, 605 * MS_NS, 60, 1, &a), 1);
    assert_true(a.lo_ns >= 605 * MS_NS - (uint64_t)(1.2 * 95 + 1) * MS_NS - 1);
    assert_int_equal(a.hi_ns, 605 * MS_NS);
}

/* Feeds the read at t_ms of a counter that steps by 30 J at 50 + 100 k ms. */
static int feed_at(struct jb__counter *c, double t_ms, struct jb__anchor *a)
{
    double n = t_ms < 50 ? 0 : floor((t_ms - 50) / 100) + 1;

    return jb__counter_feed(c, (uint64_t)(t_ms * 1e6), 30 * n, 1, a);
}

/*
 * A young grid from three located updates whose brackets lie off-centre (-4, 0, +4 ms: a 104 ms
 * period for a 100 ms counter, as a loaded machine under valgrind gave 103.7), then fresh reads
 * every 104 ms that show nothing, then an update located 36 ms from where that grid puts it: the
 * grid takes it (its own uncertainty there is that large) and corrects its period, rather than
 * rejecting it as an outlier and staying wrong.
 */
static void test_young_grid_corrects(void **state)
{
    static const double brackets[3][2] = {{41, 51}, {145, 155}, {249, 259}};
    struct jb__counter c;
    struct jb__anchor a;
    double t;

    (void)state;
    jb__counter_init(&c);
    feed_at(&c, 0, &a);
    feed_at(&c, 10, &a); /* stale while powered: a step function */
    for (int k = 0; k < 3; k++) {
        feed_at(&c, brackets[k][0], &a);
        assert_int_equal(feed_at(&c, brackets[k][1], &a), 1);
        assert_true(a.flags & JB_ANCHOR_LOCATED);
    }
    assert_int_equal(c.grid.points, 3);
    assert_true(fabs(jb__counter_period_ns(&c) - 104e6) < 0.5e6);
    for (t = 259 + 104; t < 1047; t += 104)
        feed_at(&c, t, &a); /* each a new value, in a wide bracket */
    feed_at(&c, 1047, &a);
    assert_int_equal(feed_at(&c, 1053, &a), 1); /* update 10, at 1050 ms */
    assert_true(a.flags & JB_ANCHOR_LOCATED);
    assert_int_equal(c.grid.points, 4);
    assert_true(fabs(jb__counter_period_ns(&c) - 100e6) < 1.5e6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_continuous_goes_fixed),
        cmocka_unit_test(test_locks_and_reads_fresh),
        cmocka_unit_test(test_stride),
        cmocka_unit_test(test_reacquires),
        cmocka_unit_test(test_stepped_only_when_powered),
        cmocka_unit_test(test_bracket_placement),
        cmocka_unit_test(test_young_grid_corrects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
