/*
 * test_monitor.c - measurement windows (src/lib/monitor.c) over simulated meters, in real time
 * with the sampler's threads: a window on a constant load is that power times the window's
 * duration, on the exact simulated counter and on the NVML-faithful one; on other loads the true
 * energy (the simulation's model) lies in the window's interval; nested and overlapping windows;
 * names reused while an earlier window of the name is pending; waiting without blocking; tickets
 * taken, forgotten and cancelled; errors with their messages; windows from several threads; a lost
 * GPU (fake NVML) that windows stop waiting for; and a monitor freed with windows pending.
 * Assertions are on the values and the order of bounds, never on how many readings came in a
 * time.  Not a test of the estimator's accuracy (test_estimator.c) or of the sampler
 * (test_sampler.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "joulebench.h"
#include "sim.h"

static char fake_lib[4096];

/* How far the NVML-faithful counter's bounds may be placed off (s): a quarter update period.
 * The estimator's own accuracy is test_estimator.c's; this catches a window that is not the
 * window (0 J, a missed update, the wrong bounds). */
#define NVML_TOL_S 0.025

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static struct jb_monitor *monitor_of(const char *spec, unsigned flags)
{
    struct jb_monitor *mon = NULL;
    int rc = jb_monitor_new(&mon, spec, 0, 0, flags);

    if (rc < 0)
        fail_msg("jb_monitor_new(%s): %s: %s", spec, jb_strerror(rc), jb_monitor_errmsg(NULL));
    assert_non_null(mon);
    return mon;
}

/* The result of an ended window, waited for. */
static struct jb_window *take(struct jb_monitor *mon, uint64_t ticket)
{
    struct jb_window *w = NULL;
    int rc = jb_monitor_wait(mon, ticket, -1, &w);

    if (rc != 1)
        fail_msg("jb_monitor_wait(%llu): %d: %s", (unsigned long long)ticket, rc,
                 jb_monitor_errmsg(mon));
    assert_non_null(w);
    return w;
}

/* One window around a sleep. */
static struct jb_window *window_of(struct jb_monitor *mon, const char *name, unsigned ms)
{
    uint64_t ticket = 0;

    assert_int_equal(jb_monitor_begin(mon, name), 0);
    sleep_ms(ms);
    assert_int_equal(jb_monitor_end(mon, name, &ticket), 0);
    assert_true(ticket > 0);
    return take(mon, ticket);
}

static double duration_s(const struct jb_window *w)
{
    return (double)(jb_window_t_end_ns(w) - jb_window_t_begin_ns(w)) / 1e9;
}

/* Meter 0's energy is watts x the window's duration, to within watts x tol_s (how far off the
 * bounds may be placed: 0 for the exact counter, where the estimate is exact at every read; a
 * fraction of an update period for the NVML-faithful one, read in real time on a shared machine)
 * plus 2 mJ (the NVML counter's whole millijoules at two bounds); and it lies in the interval. */
static void expect_constant(const struct jb_window *w, double watts, double tol_s)
{
    const struct jb_phase_result *r = jb_window_result(w, 0);
    double want = watts * duration_s(w), got = jb_window_energy_j(w, 0);

    assert_non_null(r);
    assert_true(r->valid & JB_PHASE_ENERGY);
    if (!(fabs(got - want) <= watts * tol_s + 1e-9 * want + 0.002))
        fail_msg("window '%s': %.6f J, want %.6f J (%.0f W x %.6f s), flags 0x%x, [%.6f, %.6f]",
                 jb_window_name(w), got, want, watts, duration_s(w), r->flags, r->energy_j_lo,
                 r->energy_j_hi);
    if (r->valid & JB_PHASE_ENERGY_BOUNDS) {
        assert_true(r->energy_j_lo <= got + 1e-9 && got <= r->energy_j_hi + 1e-9);
        assert_true(r->energy_j_lo <= want + 0.002 && want <= r->energy_j_hi + 0.002);
    }
}

/* The true energy of the window on meter i (the simulation's model) lies in its interval. */
static void expect_truth_in_bounds(struct jb_monitor *mon, const struct jb_window *w, size_t i)
{
    const struct jb_phase_result *r = jb_window_result(w, i);
    uint64_t origin = 0;
    const struct jb__sim *model = jb__sim_of_meter(jb_monitor_meter(mon, i), &origin);
    double t0, t1, truth;

    assert_non_null(model);
    assert_non_null(r);
    assert_true(r->valid & JB_PHASE_ENERGY_BOUNDS);
    t0 = (double)(int64_t)(jb_window_t_begin_ns(w) - origin) / 1e9;
    t1 = (double)(int64_t)(jb_window_t_end_ns(w) - origin) / 1e9;
    truth = jb__sim_true_energy_j(model, t0, t1);
    if (!(truth >= r->energy_j_lo - 0.002 && truth <= r->energy_j_hi + 0.002))
        fail_msg("window '%s': true %.6f J outside [%.6f, %.6f] (estimate %.6f J)",
                 jb_window_name(w), truth, r->energy_j_lo, r->energy_j_hi, r->energy_j);
}

/* sim:const=100: 100 W x duration, labelled simulated, bounds in call order. */
static void test_constant_exact(void **state)
{
    struct jb_monitor *mon = monitor_of("sim:const=100", 0);
    uint64_t before, after, ticket;
    struct jb_window *w;
    const struct jb_phase_result *r;

    (void)state;
    assert_int_equal(jb_monitor_meter_count(mon), 1);
    assert_true(jb_meter_get_info(jb_monitor_meter(mon, 0))->simulated);
    assert_string_equal(jb_monitor_meter_error(mon, 0), "");
    before = jb_now_ns();
    assert_int_equal(jb_monitor_begin(mon, "train"), 0);
    sleep_ms(300);
    assert_int_equal(jb_monitor_end(mon, "train", &ticket), 0);
    after = jb_now_ns();
    w = take(mon, ticket);
    assert_string_equal(jb_window_name(w), "train");
    assert_int_equal(jb_window_ticket(w), ticket);
    assert_true(jb_window_t_begin_ns(w) >= before);
    assert_true(jb_window_t_end_ns(w) <= after);
    assert_true(duration_s(w) >= 0.3);
    assert_int_equal(jb_window_meter_count(w), 1);
    assert_null(jb_window_result(w, 1));
    assert_true(isnan(jb_window_energy_j(w, 1)));
    assert_string_equal(jb_window_energy_source(w, 0), "simulated");
    assert_int_equal(jb_window_simulated(w), 1);
    r = jb_window_result(w, 0);
    assert_string_equal(r->phase, "train");
    assert_false(r->valid & JB_PHASE_PARTIAL);
    assert_false(r->flags & JB_PHASE_FLAG_STEPPED); /* the exact counter is no step function */
    expect_constant(w, 100, 0);
    jb_window_free(w);
    jb_monitor_free(mon);
}

/* sim:nvml (100 ms step-function counter, whole mJ, stale between updates): the same. */
static void test_constant_nvml(void **state)
{
    struct jb_monitor *mon = monitor_of("sim:nvml:offset_ms=37:const=100", 0);
    struct jb_window *w;

    (void)state;
    for (int k = 0; k < 2; k++) {
        w = window_of(mon, "step", 450);
        expect_constant(w, 100, NVML_TOL_S);
        assert_true(jb_window_result(w, 0)->flags & JB_PHASE_FLAG_STEPPED);
        assert_string_equal(jb_window_energy_source(w, 0), "simulated");
        assert_int_equal(jb_window_simulated(w), 1);
        jb_window_free(w);
    }
    jb_monitor_free(mon);
}

/* Two meters, one exact and one NVML-faithful: a window waits for both, each has its own. */
static void test_two_meters(void **state)
{
    struct jb_monitor *mon = monitor_of("sim:const=100,sim:nvml:const=50", 0);
    struct jb_window *w;
    const struct jb_phase_result *r;
    double d;

    (void)state;
    assert_int_equal(jb_monitor_meter_count(mon), 2);
    w = window_of(mon, "both", 400);
    d = duration_s(w);
    assert_int_equal(jb_window_meter_count(w), 2);
    expect_constant(w, 100, 0);
    r = jb_window_result(w, 1);
    assert_int_equal(r->meter, 1);
    assert_string_equal(r->phase, "both");
    assert_true(r->valid & JB_PHASE_ENERGY);
    assert_true(r->flags & JB_PHASE_FLAG_STEPPED);
    assert_true(fabs(jb_window_energy_j(w, 1) - 50 * d) <= 50 * NVML_TOL_S + 0.002);
    assert_int_equal(r->t_begin_ns, jb_window_t_begin_ns(w));
    assert_int_equal(r->t_end_ns, jb_window_t_end_ns(w));
    jb_window_free(w);
    jb_monitor_free(mon);
}

/* Changing loads: the true energy lies in the window's interval, on both kinds of counter and
 * without the reads at the bounds. */
static void test_truth(void **state)
{
    static const struct {
        const char *spec;
        unsigned flags;
    } cases[] = {
        {"sim:square=50:250:130:0.5", 0},
        {"sim:square=50:250:130:0.5", JB_MONITOR_NO_BOUND_READS},
        {"sim:nvml:offset_ms=20:jitter_ms=1:square=60:300:700:0.5", 0},
        {"sim:nvml:offset_ms=20:jitter_ms=1:square=60:300:700:0.5", JB_MONITOR_NO_BOUND_READS},
    };

    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct jb_monitor *mon = monitor_of(cases[c].spec, cases[c].flags);
        for (int k = 0; k < 2; k++) {
            struct jb_window *w = window_of(mon, "w", 250 + 170 * (unsigned)k);
            expect_truth_in_bounds(mon, w, 0);
            jb_window_free(w);
        }
        jb_monitor_free(mon);
    }
}

/* A window inside another, and two that overlap: each is its own duration's energy. */
static void test_nested_overlapping(void **state)
{
    struct jb_monitor *mon = monitor_of("sim:const=100", 0);
    uint64_t t_outer, t_inner, t_a, t_b;
    struct jb_window *outer, *inner, *a, *b;

    (void)state;
    assert_int_equal(jb_monitor_begin(mon, "outer"), 0);
    sleep_ms(100);
    assert_int_equal(jb_monitor_begin(mon, "inner"), 0);
    sleep_ms(150);
    assert_int_equal(jb_monitor_end(mon, "inner", &t_inner), 0);
    sleep_ms(100);
    assert_int_equal(jb_monitor_end(mon, "outer", &t_outer), 0);
    /* Taken in the other order than they ended. */
    outer = take(mon, t_outer);
    inner = take(mon, t_inner);
    assert_true(jb_window_t_begin_ns(outer) < jb_window_t_begin_ns(inner));
    assert_true(jb_window_t_end_ns(inner) < jb_window_t_end_ns(outer));
    expect_constant(outer, 100, 0);
    expect_constant(inner, 100, 0);
    assert_true(jb_window_energy_j(inner, 0) < jb_window_energy_j(outer, 0));

    assert_int_equal(jb_monitor_begin(mon, "a"), 0);
    sleep_ms(100);
    assert_int_equal(jb_monitor_begin(mon, "b"), 0);
    sleep_ms(100);
    assert_int_equal(jb_monitor_end(mon, "a", &t_a), 0);
    sleep_ms(100);
    assert_int_equal(jb_monitor_end(mon, "b", &t_b), 0);
    a = take(mon, t_a);
    b = take(mon, t_b);
    assert_true(jb_window_t_begin_ns(a) < jb_window_t_begin_ns(b));
    assert_true(jb_window_t_begin_ns(b) < jb_window_t_end_ns(a));
    assert_true(jb_window_t_end_ns(a) < jb_window_t_end_ns(b));
    expect_constant(a, 100, 0);
    expect_constant(b, 100, 0);
    jb_window_free(outer);
    jb_window_free(inner);
    jb_window_free(a);
    jb_window_free(b);
    jb_monitor_free(mon);
}

/* A name begun again while its earlier window is still pending: two tickets, two results. */
static void test_name_reuse(void **state)
{
    struct jb_monitor *mon = monitor_of("sim:nvml:const=100", 0);
    uint64_t t1, t2;
    struct jb_window *w1, *w2;

    (void)state;
    assert_int_equal(jb_monitor_begin(mon, "step"), 0);
    sleep_ms(120);
    assert_int_equal(jb_monitor_end(mon, "step", &t1), 0);
    assert_int_equal(jb_monitor_begin(mon, "step"), 0);
    sleep_ms(240);
    assert_int_equal(jb_monitor_end(mon, "step", &t2), 0);
    assert_true(t1 != t2);
    w2 = take(mon, t2);
    w1 = take(mon, t1);
    assert_true(jb_window_t_end_ns(w1) <= jb_window_t_begin_ns(w2));
    assert_true(duration_s(w2) > duration_s(w1));
    expect_constant(w1, 100, NVML_TOL_S);
    expect_constant(w2, 100, NVML_TOL_S);
    jb_window_free(w1);
    jb_window_free(w2);
    jb_monitor_free(mon);
}

/* Waiting without blocking: before the readings pass the end a poll gives 0; a result is taken
 * once; forgotten and cancelled windows give none. */
static void test_wait_modes(void **state)
{
    struct jb_monitor *mon = monitor_of("sim:nvml:const=100", 0);
    struct jb_window *w = NULL;
    uint64_t ticket, t_end;
    int rc;

    (void)state;
    assert_int_equal(jb_monitor_begin(mon, "w"), 0);
    sleep_ms(200);
    assert_int_equal(jb_monitor_end(mon, "w", &ticket), 0);
    t_end = jb_now_ns();
    rc = jb_monitor_wait(mon, ticket, 0, &w);
    /* A step-function counter's window resolves two updates (>= 100 ms) past its end at the
     * earliest: a poll before then finds nothing. */
    if (rc == 1) {
        assert_true(jb_now_ns() - t_end >= 100000000ull);
    } else {
        assert_int_equal(rc, 0);
        assert_null(w);
    }
    if (rc == 0) {
        while ((rc = jb_monitor_wait(mon, ticket, 5, &w)) == 0)
            assert_null(w);
        assert_int_equal(rc, 1);
    }
    assert_non_null(w);
    expect_constant(w, 100, NVML_TOL_S);
    jb_window_free(w);
    w = NULL;
    /* Taken: no second result. */
    assert_int_equal(jb_monitor_wait(mon, ticket, 0, &w), JB_ESTATE);
    assert_null(w);
    assert_non_null(strstr(jb_monitor_errmsg(mon), "already taken"));
    assert_int_equal(jb_monitor_wait(mon, 12345, 0, &w), JB_ESTATE);

    /* Forgotten while pending, and after it resolved (no leak either way: ASan/valgrind). */
    assert_int_equal(jb_monitor_begin(mon, "f"), 0);
    assert_int_equal(jb_monitor_end(mon, "f", &ticket), 0);
    jb_monitor_forget(mon, ticket);
    assert_int_equal(jb_monitor_wait(mon, ticket, 0, &w), JB_ESTATE);
    assert_int_equal(jb_monitor_begin(mon, "g"), 0);
    assert_int_equal(jb_monitor_end(mon, "g", &ticket), 0);
    assert_int_equal(jb_monitor_begin(mon, "sync"), 0);
    assert_int_equal(jb_monitor_end(mon, "sync", &t_end), 0);
    jb_window_free(take(mon, t_end)); /* results resolve in end order: g's is in now */
    jb_monitor_forget(mon, ticket);
    assert_int_equal(jb_monitor_wait(mon, ticket, 0, &w), JB_ESTATE);
    jb_monitor_forget(mon, 99999); /* unknown: ignored */

    /* Cancelled: closed, no result, the name free again. */
    assert_int_equal(jb_monitor_begin(mon, "c"), 0);
    assert_int_equal(jb_monitor_cancel(mon, "c"), 0);
    assert_int_equal(jb_monitor_end(mon, "c", &ticket), JB_ESTATE);
    assert_int_equal(jb_monitor_cancel(mon, "c"), JB_ESTATE);
    w = window_of(mon, "c", 150);
    expect_constant(w, 100, NVML_TOL_S);
    jb_window_free(w);
    jb_monitor_free(mon);
}

static void test_errors(void **state)
{
    struct jb_monitor *mon = NULL;
    struct jb_window *w = (struct jb_window *)&w;
    char long_name[40];
    uint64_t ticket = 7;

    (void)state;
    assert_int_equal(jb_monitor_new(&mon, "sim:bogus=1", 0, 0, 0), JB_EINVAL);
    assert_null(mon);
    assert_non_null(strstr(jb_monitor_errmsg(NULL), "bogus"));
    assert_int_equal(jb_monitor_new(&mon, "sim", 5, 0, 0), JB_ERANGE);
    assert_non_null(strstr(jb_monitor_errmsg(NULL), "10..60000"));
    assert_int_equal(jb_monitor_new(&mon, "sim", 0, 70000, 0), JB_ERANGE);
    assert_int_equal(jb_monitor_new(&mon, "sim", 0, 0, 0x100), JB_EINVAL);
    assert_int_equal(jb_monitor_new(NULL, "sim", 0, 0, 0), JB_EINVAL);
    assert_null(mon);

    mon = monitor_of("sim", 0);
    assert_int_equal(jb_monitor_end(mon, "never", &ticket), JB_ESTATE);
    assert_int_equal(ticket, 0);
    assert_non_null(strstr(jb_monitor_errmsg(mon), "'never'"));
    assert_int_equal(jb_monitor_cancel(mon, "never"), JB_ESTATE);
    assert_int_equal(jb_monitor_begin(mon, ""), JB_EINVAL);
    assert_int_equal(jb_monitor_begin(mon, NULL), JB_EINVAL);
    memset(long_name, 'x', 32);
    long_name[32] = '\0';
    assert_int_equal(jb_monitor_begin(mon, long_name), JB_EINVAL);
    assert_non_null(strstr(jb_monitor_errmsg(mon), "at most 31"));
    long_name[31] = '\0';
    assert_int_equal(jb_monitor_begin(mon, long_name), 0);
    assert_int_equal(jb_monitor_begin(mon, long_name), JB_ESTATE);
    assert_non_null(strstr(jb_monitor_errmsg(mon), "already open"));
    assert_int_equal(jb_monitor_end(mon, long_name, NULL), 0); /* no ticket wanted: dropped */
    assert_int_equal(jb_monitor_end(mon, long_name, NULL), JB_ESTATE);
    assert_int_equal(jb_monitor_wait(mon, 1, 0, NULL), JB_EINVAL);
    assert_int_equal(jb_monitor_wait(NULL, 1, 0, &w), JB_EINVAL);
    assert_null(w);
    assert_int_equal(jb_monitor_begin(NULL, "x"), JB_EINVAL);
    /* A success clears the thread's message. */
    assert_int_equal(jb_monitor_begin(mon, "ok"), 0);
    assert_string_equal(jb_monitor_errmsg(mon), "");
    jb_monitor_free(mon); /* "ok" still open, the ended one never taken: freed */

    /* Accessors accept NULL. */
    jb_window_free(NULL);
    jb_monitor_free(NULL);
    assert_int_equal(jb_window_meter_count(NULL), 0);
    assert_null(jb_window_result(NULL, 0));
    assert_string_equal(jb_window_energy_source(NULL, 0), "none");
    assert_int_equal(jb_monitor_meter_count(NULL), 0);
    assert_null(jb_monitor_meter(NULL, 0));
}

/* Nothing to measure with under auto (no GPU library, an empty powercap tree): JB_ENODEV. */
static void test_no_meter(void **state)
{
    struct jb_monitor *mon = NULL;
    char dir[] = "/tmp/jb-monitor-XXXXXX";

    (void)state;
    assert_non_null(mkdtemp(dir));
    setenv("JOULEBENCH_NVML_LIB", "/nonexistent/libnvidia-ml.so.1", 1);
    setenv("JOULEBENCH_POWERCAP_ROOT", dir, 1);
    assert_int_equal(jb_monitor_new(&mon, NULL, 0, 0, 0), JB_ENODEV);
    assert_null(mon);
    assert_non_null(strstr(jb_monitor_errmsg(NULL), "sim"));
    unsetenv("JOULEBENCH_NVML_LIB");
    unsetenv("JOULEBENCH_POWERCAP_ROOT");
    rmdir(dir);
}

/* Windows from several threads on one monitor, each with its own name. */
struct worker {
    struct jb_monitor *mon;
    char name[16];
    int bad;
};

static void *worker_main(void *arg)
{
    struct worker *wk = arg;

    for (int k = 0; k < 3; k++) {
        uint64_t ticket;
        struct jb_window *w = NULL;
        double want, got;
        if (jb_monitor_begin(wk->mon, wk->name) < 0 || (sleep_ms(60 + 20 * (unsigned)k), 0) ||
            jb_monitor_end(wk->mon, wk->name, &ticket) < 0 ||
            jb_monitor_wait(wk->mon, ticket, -1, &w) != 1) {
            wk->bad++;
            continue;
        }
        want = 100 * duration_s(w);
        got = jb_window_energy_j(w, 0);
        if (!(fabs(got - want) <= 1e-9 * want + 0.002) || strcmp(jb_window_name(w), wk->name))
            wk->bad++;
        jb_window_free(w);
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct jb_monitor *mon = monitor_of("sim:const=100", 0);
    struct worker wk[4];
    pthread_t th[4];

    (void)state;
    for (int i = 0; i < 4; i++) {
        wk[i].mon = mon;
        wk[i].bad = 0;
        snprintf(wk[i].name, sizeof(wk[i].name), "thread%d", i);
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &wk[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(wk[i].bad, 0);
    }
    jb_monitor_free(mon);
}

/* A GPU lost while windows are pending: they resolve with what it gave (partial), the simulated
 * meter beside it is whole, and the monitor says why the GPU stopped. */
static void test_lost_meter(void **state)
{
    struct jb_monitor *mon;
    struct jb_window *w;
    const struct jb_phase_result *r;

    (void)state;
    if (!fake_lib[0])
        skip();
    setenv("JOULEBENCH_NVML_LIB", fake_lib, 1);
    setenv("FAKE_NVML_LOST_AFTER", "80", 1);
    mon = monitor_of("gpu0,sim:const=100", 0);
    assert_int_equal(jb_monitor_meter_count(mon), 2);
    for (int k = 0; k < 500 && !*jb_monitor_meter_error(mon, 0); k++) {
        w = window_of(mon, "before", 10);
        jb_window_free(w);
    }
    assert_non_null(strstr(jb_monitor_meter_error(mon, 0), "gpu0"));
    assert_non_null(strstr(jb_monitor_meter_error(mon, 0), "lost"));
    w = window_of(mon, "after", 120);
    r = jb_window_result(w, 0);
    assert_true(r->valid & JB_PHASE_PARTIAL);
    assert_false(jb_window_result(w, 1)->valid & JB_PHASE_PARTIAL);
    assert_string_equal(jb_window_energy_source(w, 1), "simulated");
    assert_int_equal(jb_window_simulated(w), 1); /* any simulated meter labels the window */
    jb_window_free(w);
    jb_monitor_free(mon);
    unsetenv("FAKE_NVML_LOST_AFTER");
    unsetenv("JOULEBENCH_NVML_LIB");
}

/* In a forked child the monitor refuses windows (no sampler threads there: a wait would never
 * end) and its free does nothing (joining threads that do not exist would hang). */
static void test_fork(void **state)
{
    struct jb_monitor *mon = monitor_of("sim:const=100", 0);
    int st = 0;
    pid_t pid;

    (void)state;
    assert_int_equal(jb_monitor_begin(mon, "parent"), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct jb_window *w = NULL;
        int ok = jb_monitor_begin(mon, "child") == JB_ESTATE &&
                 strstr(jb_monitor_errmsg(mon), "fork") &&
                 jb_monitor_end(mon, "parent", NULL) == JB_ESTATE &&
                 jb_monitor_wait(mon, 1, -1, &w) == JB_ESTATE;
        jb_monitor_free(mon);
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    jb_window_free(window_of(mon, "after", 20)); /* the parent's monitor goes on */
    jb_monitor_free(mon);
}

/* The monitor freed with a window open and results pending, waited for and not. */
static void test_free_pending(void **state)
{
    struct jb_monitor *mon = monitor_of("sim:nvml:const=100,sim:const=50", 0);
    uint64_t ticket;

    (void)state;
    assert_int_equal(jb_monitor_meter_count(mon), 2);
    assert_int_equal(jb_monitor_begin(mon, "open"), 0);
    assert_int_equal(jb_monitor_begin(mon, "ended"), 0);
    sleep_ms(50);
    assert_int_equal(jb_monitor_end(mon, "ended", &ticket), 0);
    jb_monitor_free(mon);
}

int main(void)
{
    const char *dir = getenv("JB_FAKE_DIR");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_exact),     cmocka_unit_test(test_constant_nvml),
        cmocka_unit_test(test_two_meters),         cmocka_unit_test(test_truth),
        cmocka_unit_test(test_nested_overlapping), cmocka_unit_test(test_name_reuse),
        cmocka_unit_test(test_wait_modes),         cmocka_unit_test(test_errors),
        cmocka_unit_test(test_no_meter),           cmocka_unit_test(test_threads),
        cmocka_unit_test(test_lost_meter),         cmocka_unit_test(test_fork),
        cmocka_unit_test(test_free_pending),
    };

    if (dir)
        snprintf(fake_lib, sizeof(fake_lib), "%s/libfake_nvml.so", dir);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
