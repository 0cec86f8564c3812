/*
 * test_sim.c - simulated meters (src/lib/sim.c) through the public API: "sim", "sim:const=W",
 * "sim:square=...", "sim:trace=FILE".  The energy checks are exact, not timing-dependent: the
 * simulation's time origin (when the meter was added) and the time of each read are bracketed by
 * jb_now_ns() calls, and since energy never decreases, a reading must lie between the analytic
 * integral at the shortest and at the longest elapsed time the brackets allow.  Also: parse
 * errors with their messages (trace file:line), non-increasing trace times.  The NVML-faithful
 * meter (sim:nvml...): its parser (a pure function, bounded and strict), and its model against
 * the definitions in src/lib/sim.h: a counter that is stale between updates and moves by the
 * true energy at each, updates on the grid within their jitter, the 1 s average and the windowed
 * instant readings, bursts and steps loads; and the real-time meter's read cost.  Not a test of
 * the sampler (test_sampler.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "joulebench.h"
#include "sim.h"

static char dir[64];
static struct jb_meter_set *set;
static uint64_t add_lo, add_hi; /* bracket of the meter's time origin */

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/jb-test-sim-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int free_set(void **state)
{
    (void)state;
    jb_meter_set_free(set);
    set = NULL;
    return 0;
}

/* A file in the test directory with `text`; returns its path (static storage). */
static const char *trace(const char *name, const char *text)
{
    static char path[2][256];
    static int next;
    char *p = path[next++ % 2];
    FILE *f;

    snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    return p;
}

/* "sim:trace=PATH" (static storage). */
static const char *trace_spec(const char *path)
{
    static char spec[300];

    snprintf(spec, sizeof(spec), "sim:trace=%s", path);
    return spec;
}

/* A fresh set with one simulated meter of `spec`. */
static struct jb_meter *add(const char *spec)
{
    jb_meter_set_free(set);
    set = jb_meter_set_new();
    assert_non_null(set);
    add_lo = jb_now_ns();
    if (jb_meter_set_add(set, spec) != 0)
        fail_msg("'%s': %s", spec, jb_meter_set_errmsg(set));
    add_hi = jb_now_ns();
    assert_int_equal(jb_meter_set_count(set), 1);
    return jb_meter_set_get(set, 0);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef double (*energy_fn)(double t_s);

static double g_w, g_low_w, g_high_w, g_period_s, g_duty;

static double const_energy(double t)
{
    return g_w * t;
}

static double square_energy(double t)
{
    double n = floor(t / g_period_s), r = t - n * g_period_s, hi_s = g_duty * g_period_s;
    double per = g_high_w * hi_s + g_low_w * (g_period_s - hi_s);

    return n * per + (r < hi_s ? g_high_w * r : g_high_w * hi_s + g_low_w * (r - hi_s));
}

/* Reads m's counter and checks it against the bracketed analytic energy; returns the reading. */
static double check_read(struct jb_meter *m, energy_fn f)
{
    struct jb_energy e;
    uint64_t lo, hi;
    double t_min, t_max, e_min, e_max;

    lo = jb_now_ns();
    assert_int_equal(jb_meter_read_energy(m, &e), 0);
    hi = jb_now_ns();
    assert_true(e.t_mono_ns >= lo && e.t_mono_ns <= hi);
    t_min = (double)(lo - add_hi) / 1e9;
    t_max = (double)(hi - add_lo) / 1e9;
    e_min = f(t_min);
    e_max = f(t_max);
    if (e.energy_j < e_min - 1e-9 || e.energy_j > e_max + 1e-9)
        fail_msg("energy %.9f J outside [%.9f, %.9f] J (elapsed %.6f..%.6f s)", e.energy_j, e_min,
                 e_max, t_min, t_max);
    return e.energy_j;
}

static void test_const(void **state)
{
    struct jb_meter *m;
    const struct jb_meter_info *info;
    struct jb_sample s;

    (void)state;
    m = add("sim");
    info = jb_meter_get_info(m);
    assert_string_equal(info->id, "sim0");
    assert_int_equal(info->kind, JB_KIND_SIM);
    assert_string_equal(info->source, "sim");
    assert_string_equal(info->name, "simulated constant 100 W");
    assert_int_equal(info->simulated, 1);
    assert_int_equal(info->caps, JB_CAP_ENERGY | JB_CAP_POWER);
    assert_int_equal(info->device_index, 0);
    g_w = 100;
    check_read(m, const_energy);
    sleep_ms(5);
    check_read(m, const_energy);
    assert_int_equal(jb_meter_read_sample(m, &s), 0);
    assert_int_equal(s.valid, JB_CAP_POWER);
    assert_float_equal(s.power_w, 100.0, 0);

    m = add("sim:const=2.5e3");
    assert_string_equal(jb_meter_get_info(m)->name, "simulated constant 2500 W");
    g_w = 2500;
    sleep_ms(3);
    check_read(m, const_energy);
    assert_int_equal(jb_meter_read_sample(m, &s), 0);
    assert_float_equal(s.power_w, 2500.0, 0);

    m = add("sim:const=0");
    g_w = 0;
    assert_float_equal(check_read(m, const_energy), 0.0, 0);
}

static void test_square(void **state)
{
    struct jb_meter *m;
    double prev = -1;

    (void)state;
    m = add("sim:square=10:110:4:0.25");
    assert_string_equal(jb_meter_get_info(m)->name, "simulated square 10/110 W, 4 ms, duty 0.25");
    g_low_w = 10;
    g_high_w = 110;
    g_period_s = 0.004;
    g_duty = 0.25;
    for (int i = 0; i < 6; i++) {
        double e = check_read(m, square_energy);
        assert_true(e >= prev);
        prev = e;
        sleep_ms(3);
    }
    /* Duty 0 and 1 are the constant low and high powers. */
    m = add("sim:square=5:50:10:1");
    g_w = 50;
    sleep_ms(2);
    check_read(m, const_energy);
    m = add("sim:square=5:50:10:0");
    g_w = 5;
    sleep_ms(2);
    check_read(m, const_energy);
}

static void test_trace(void **state)
{
    struct jb_meter *m;
    struct jb_energy e1, e2;
    struct jb_sample s;
    const char *p;

    (void)state;
    /* 0 -> 1000 W over 10 ms, 1000 W for 10 ms, back to 0 over 10 ms, then held at 0:
     * 5 + 10 + 5 = 20 J for good once 30 ms have passed. */
    p = trace("pulse.csv", "t_s,power_w\r\n# a pulse\n\n0,0\n0.01,1000\n0.02,1000\r\n0.03,0\n");
    m = add(trace_spec(p));
    assert_non_null(strstr(jb_meter_get_info(m)->name, "simulated trace "));
    assert_non_null(strstr(jb_meter_get_info(m)->name, "/pulse.csv"));
    sleep_ms(35);
    assert_int_equal(jb_meter_read_energy(m, &e1), 0);
    assert_int_equal(jb_meter_read_energy(m, &e2), 0);
    assert_float_equal(e1.energy_j, 20.0, 1e-9);
    assert_float_equal(e2.energy_j, 20.0, 1e-9);
    assert_int_equal(jb_meter_read_sample(m, &s), 0);
    assert_float_equal(s.power_w, 0.0, 0);

    /* Before the first point the first power holds: 50 W for the first 1000 s. */
    p = trace("late.csv", "1000,50\n2000,60\n");
    m = add(trace_spec(p));
    g_w = 50;
    check_read(m, const_energy);
    sleep_ms(2);
    check_read(m, const_energy);
    assert_int_equal(jb_meter_read_sample(m, &s), 0);
    assert_float_equal(s.power_w, 50.0, 0);

    /* A single point: constant. */
    p = trace("one.csv", "0,7\n");
    m = add(trace_spec(p));
    g_w = 7;
    sleep_ms(1);
    check_read(m, const_energy);
}

/* The spec must fail with code and a message equal to msg (or containing it when part). */
static void expect_fail(const char *spec, int code, const char *msg, int part)
{
    struct jb_meter_set *s = jb_meter_set_new();
    int rc = jb_meter_set_add(s, spec);
    const char *got = jb_meter_set_errmsg(s);
    int ok = rc == code && (part ? strstr(got, msg) != NULL : strcmp(got, msg) == 0);

    if (!ok) {
        char copy[1024];
        snprintf(copy, sizeof(copy), "%s", got);
        jb_meter_set_free(s);
        fail_msg("'%s': rc %d, message '%s'; expected %d, '%s'", spec, rc, copy, code, msg);
    }
    assert_int_equal(jb_meter_set_count(s), 0);
    jb_meter_set_free(s);
}

static void test_spec_errors(void **state)
{
    static const char *const bad_const[] = {"sim:const=",   "sim:const=abc", "sim:const=-1",
                                            "sim:const=5W", "sim:const=nan", "sim:const=1e8"};
    static const char *const bad_square[] = {
        "sim:square=",
        "sim:square=1:2:100",
        "sim:square=1:2:100:0.5:9",
        "sim:square=1:2:0.5:0.5",
        "sim:square=1:2:100:1.5",
        "sim:square=-1:2:100:0.5",
        "sim:square=1:x:100:0.5",
        "sim:square=1,2,100,0.5",
    };
    char msg[256];

    (void)state;
    for (size_t i = 0; i < sizeof(bad_const) / sizeof(bad_const[0]); i++) {
        snprintf(msg, sizeof(msg), "bad simulated meter '%s': const=W needs a power >= 0",
                 bad_const[i]);
        expect_fail(bad_const[i], JB_EINVAL, msg, 0);
    }
    for (size_t i = 0; i < sizeof(bad_square) / sizeof(bad_square[0]); i++) {
        /* "1,2,100,0.5" is cut at the first comma: the square part is "1". */
        snprintf(msg, sizeof(msg),
                 "bad simulated meter '%s': expected square=LOW_W:HIGH_W:PERIOD_MS:DUTY (DUTY in "
                 "0..1, PERIOD_MS >= 1)",
                 i == 7 ? "sim:square=1" : bad_square[i]);
        expect_fail(bad_square[i], JB_EINVAL, msg, 0);
    }
    expect_fail("sim:pulse=3", JB_EINVAL,
                "unknown simulated meter 'sim:pulse=3' (expected sim, sim:const=W, "
                "sim:square=LOW_W:HIGH_W:PERIOD_MS:DUTY, sim:burst=LOW_W:HIGH_W:BURST_MS:EVERY_MS, "
                "sim:steps=W:MS[:W:MS...] or sim:trace=FILE, each optionally after "
                "sim:nvml[:OPTION=V...])",
                0);
    expect_fail("sim:", JB_EINVAL, "unknown simulated meter 'sim:'", 1);
    expect_fail("sim:trace=", JB_EINVAL, "bad simulated meter 'sim:trace=': no file", 0);
}

static void expect_trace_fail(const char *text, const char *want_suffix)
{
    char spec[300], msg[400];
    const char *p = trace("bad.csv", text);

    snprintf(spec, sizeof(spec), "sim:trace=%s", p);
    snprintf(msg, sizeof(msg), "%s%s", p, want_suffix);
    expect_fail(spec, JB_EPARSE, msg, 0);
}

/* A FIFO as the trace (issue 13): refused at once, naming it, instead of fopen blocking forever
 * for a writer that never comes (the alarm turns a hang into a failure). */
static void test_trace_fifo(void **state)
{
    char path[200], msg[400];

    (void)state;
    snprintf(path, sizeof(path), "%.180s/trace.fifo", dir);
    unlink(path);
    assert_int_equal(mkfifo(path, 0600), 0);
    snprintf(msg, sizeof(msg), "cannot open simulated trace '%s': not a regular file (a FIFO)",
             path);
    alarm(20);
    expect_fail(trace_spec(path), JB_EIO, msg, 0);
    expect_fail(trace_spec(dir), JB_EIO, "not a regular file (a directory)", 1);
    alarm(0);
    unlink(path);
}

static void test_trace_errors(void **state)
{
    static const char *const bad_rows[] = {
        "0,1\n1;2\n",   "0,1\n1,\n",    "0,1\n-1,5\n",  "0,1\n1,-5\n", "0,1\n1,2,3\n",
        "0,1\nabc,1\n", "0,1\nnan,1\n", "0,1\n1,inf\n", "0,1\n1 ,2\n", "0,1\n2e9,1\n",
    };
    const char *row = ": expected 't_s,power_w' with t_s >= 0 and power_w >= 0";
    char spec[300];

    (void)state;
    for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
        char suffix[100];
        snprintf(suffix, sizeof(suffix), ":2%s", row);
        expect_trace_fail(bad_rows[i], suffix);
    }
    /* Line numbers count comments, blank lines and the header. */
    expect_trace_fail("t_s,power_w\n# c\n\n0,1\nx\n", ":5: expected 't_s,power_w' with t_s >= 0 "
                                                      "and power_w >= 0");
    /* A header is only allowed on line 1. */
    expect_trace_fail("0,1\nt_s,power_w\n", ":2: expected 't_s,power_w' with t_s >= 0 and "
                                            "power_w >= 0");
    expect_trace_fail("0,1\n1,2\n1,3\n", ":3: t_s must increase");
    expect_trace_fail("0,1\n2,2\n1,3\n", ":3: t_s must increase");
    expect_trace_fail("", ": no 't_s,power_w' rows");
    expect_trace_fail("t_s,power_w\n# nothing\n", ": no 't_s,power_w' rows");

    snprintf(spec, sizeof(spec), "sim:trace=%s/missing.csv", dir);
    {
        char msg[300];
        snprintf(msg, sizeof(msg),
                 "cannot open simulated trace '%s/missing.csv': No such file or directory", dir);
        expect_fail(spec, JB_EIO, msg, 0);
    }
}

/* ---- the NVML-faithful meter ------------------------------------------------------------- */

static void parse_ok(const char *arg, struct jb__sim_config *c)
{
    char err[512];

    if (jb__sim_parse(arg, c, err, sizeof(err)) != 0)
        fail_msg("'sim%s': %s", arg, err);
}

static void parse_bad(const char *arg, const char *want)
{
    struct jb__sim_config c;
    char err[512];

    assert_int_equal(jb__sim_parse(arg, &c, err, sizeof(err)), JB_EINVAL);
    if (!strstr(err, want))
        fail_msg("'sim%s': message '%s' lacks '%s'", arg, err, want);
}

static void test_nvml_parse(void **state)
{
    struct jb__sim_config c;
    char big[JB_SIM_SPEC_MAX + 16];

    (void)state;
    parse_ok(":nvml", &c);
    assert_int_equal(c.nvml, 1);
    assert_float_equal(c.update_s, 0.1, 1e-12);
    assert_float_equal(c.read_s, 0.004, 1e-12);
    assert_float_equal(c.window_s, 0.025, 1e-12);
    assert_float_equal(c.offset_s, 0, 0);
    assert_float_equal(c.jitter_s, 0, 0);
    assert_string_equal(c.name, "simulated NVML-like (100 ms updates) constant 100 W");
    parse_ok(":nvml:update_ms=50:offset_ms=12.5:jitter_ms=2:read_ms=0:window_ms=10:seed=7:"
             "burst=130:700:25:101",
             &c);
    assert_float_equal(c.update_s, 0.05, 1e-12);
    assert_float_equal(c.offset_s, 0.0125, 1e-12);
    assert_float_equal(c.jitter_s, 0.002, 1e-12);
    assert_float_equal(c.read_s, 0, 0);
    assert_float_equal(c.window_s, 0.01, 1e-12);
    assert_int_equal(c.seed, 7);
    assert_int_equal(c.n_steps, 2);
    assert_float_equal(c.step_w[0], 700, 0);
    assert_float_equal(c.step_s[0], 0.025, 1e-12);
    assert_float_equal(c.step_w[1], 130, 0);
    assert_float_equal(c.step_s[1], 0.076, 1e-12);
    assert_string_equal(c.name, "simulated NVML-like (50 ms updates) bursts of 700 W for 25 ms "
                                "every 101 ms, 130 W between");
    parse_ok(":steps=650:62:420:14:180:7", &c);
    assert_int_equal(c.nvml, 0);
    assert_int_equal(c.n_steps, 3);
    assert_string_equal(c.name, "simulated steps 650 W 62 ms, 420 W 14 ms, 180 W 7 ms");
    parse_ok(":nvml:trace=/a/b,c.csv", &c);
    assert_int_equal(c.shape, JB_SIM_TRACE);
    assert_string_equal(c.trace_path, "/a/b,c.csv");

    parse_bad(":nvml:", "unknown option ''");
    parse_bad(":nvml:period=100", "unknown option 'period'");
    parse_bad(":nvml:update_ms", "unknown option 'update_ms'");
    parse_bad(":nvml:update_ms=100:update_ms=50", "option 'update_ms' given twice");
    parse_bad(":nvml:update_ms=0.5", "update_ms must be >= 1");
    parse_bad(":nvml:update_ms=20000", "update_ms needs a number in 0..10000");
    parse_bad(":nvml:update_ms=1e2x", "update_ms needs a number");
    parse_bad(":nvml:update_ms= 100", "update_ms needs a number");
    parse_bad(":nvml:offset_ms=100", "offset_ms must be below update_ms (100)");
    parse_bad(":nvml:jitter_ms=9", "jitter_ms must be at most update_ms / 12");
    parse_bad(":nvml:window_ms=0", "window_ms must be > 0");
    parse_bad(":nvml:seed=1.5", "seed needs a number in 0..");
    parse_bad(":nvml:read_ms=nan", "read_ms needs a number");
    parse_bad(":nvml:const=5:x", "const=W needs a power >= 0");
    parse_bad(":nvmlx", "unknown simulated meter 'sim:nvmlx'");
    parse_bad(":nvml:pulse=3", "unknown option 'pulse'");
    parse_bad(":burst=1:2:0:10", "expected burst=LOW_W:HIGH_W:BURST_MS:EVERY_MS");
    parse_bad(":burst=1:2:20:10", "expected burst=");
    parse_bad(":steps=100", "expected steps=W:MS");
    parse_bad(":steps=100:0", "expected steps=W:MS");
    parse_bad(":steps=100:0.5", "a period of at least 1 ms");
    parse_bad(":steps=1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1",
              "up to 16 levels");
    memset(big, 'x', sizeof(big));
    memcpy(big, ":trace=", 7);
    big[sizeof(big) - 1] = '\0';
    parse_bad(big, "longer than 4096 bytes");
    assert_int_equal(jb__sim_parse(NULL, &c, NULL, 0), JB_EINVAL);
}

static struct jb__sim nvml_model(const char *arg)
{
    struct jb__sim_config c;
    struct jb__sim m;
    char err[256];

    parse_ok(arg, &c);
    if (jb__sim_init(&m, &c, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    return m;
}

/* The counter between updates is stale; at each update it moves by the true energy since the
 * previous one (to the mJ); updates lie on the grid within 3 sd of jitter. */
static void test_nvml_counter(void **state)
{
    struct jb__sim m = nvml_model(":nvml:offset_ms=30:jitter_ms=2:seed=3:square=130:700:1000:0.3");

    (void)state;
    assert_float_equal(jb__sim_counter_j(&m, 0), 0, 0);
    for (int64_t k = 0; k < 200; k++) {
        double u0 = jb__sim_update_s(&m, k), u1 = jb__sim_update_s(&m, k + 1);
        double grid = 0.030 + 0.1 * (double)k;
        assert_true(fabs(u0 - grid) <= 0.006 + 1e-12);
        assert_int_equal(jb__sim_last_update(&m, u0), k);
        assert_int_equal(jb__sim_last_update(&m, u1 - 1e-9), k);
        /* Stale in between: the same value wherever it is read. */
        assert_float_equal(jb__sim_counter_j(&m, u0), jb__sim_counter_j(&m, u1 - 1e-6), 0);
        assert_float_equal(jb__sim_counter_j(&m, u1) - jb__sim_counter_j(&m, u0),
                           jb__sim_true_energy_j(&m, u0, u1), 0.0011);
    }
    jb__sim_release(&m);
}

/* Average = trailing 1 s mean at the last update, instant = mean over the window before it. */
static void test_nvml_readings(void **state)
{
    struct jb__sim m = nvml_model(":nvml:window_ms=25:burst=100:600:25:100");
    double t = 5.0525; /* 52.5 ms after update 50 at 5.0 s; the burst was [5.0, 5.025) */

    (void)state;
    /* Window [4.975, 5.0): idle. */
    assert_float_equal(jb__sim_instant_power_w(&m, t), 100, 1e-6);
    /* 1 s before 5.0: ten bursts: 10 x 25 ms x 600 + 750 ms x 100 = 225 W. */
    assert_float_equal(jb__sim_avg_power_w(&m, t), 225, 1e-6);
    /* Power and energy agree: the energy over a period is the integral of the power. */
    assert_float_equal(jb__sim_true_energy_j(&m, 1.0, 1.1), 0.025 * 600 + 0.075 * 100, 1e-9);
    assert_float_equal(jb__sim_power_w(&m, 1.01), 600, 0);
    assert_float_equal(jb__sim_power_w(&m, 1.03), 100, 0);
    assert_float_equal(jb__sim_energy_j(&m, -0.1), -(0.025 * 600 + 0.075 * 100), 1e-9);
    jb__sim_release(&m);

    m = nvml_model(":nvml:offset_ms=60:steps=650:62:420:14:180:7");
    t = 3.21;
    {
        double u = jb__sim_update_s(&m, jb__sim_last_update(&m, t));
        assert_float_equal(u, 3.16, 1e-9);
        assert_float_equal(jb__sim_instant_power_w(&m, t),
                           jb__sim_true_energy_j(&m, u - 0.025, u) / 0.025, 0.0006);
    }
    jb__sim_release(&m);
}

/* The real-time meter: instant power too, and a counter read that takes its read cost. */
static void test_nvml_meter(void **state)
{
    struct jb_meter *m;
    const struct jb__sim *model;
    struct jb_energy e;
    struct jb_sample s;
    uint64_t origin, t0, t1;

    (void)state;
    m = add("sim:nvml:read_ms=6:const=200");
    assert_int_equal(jb_meter_get_info(m)->caps,
                     JB_CAP_ENERGY | JB_CAP_POWER | JB_CAP_POWER_INSTANT);
    assert_int_equal(jb_meter_get_info(m)->simulated, 1);
    model = jb__sim_of_meter(m, &origin);
    assert_non_null(model);
    t0 = jb_now_ns();
    assert_int_equal(jb_meter_read_energy(m, &e), 0);
    t1 = jb_now_ns();
    assert_true(t1 - t0 >= 6000000ull);
    assert_true(e.t_mono_ns > t0 && e.t_mono_ns < t1);
    assert_float_equal(e.energy_j, jb__sim_counter_j(model, (double)(e.t_mono_ns - origin) / 1e9),
                       0);
    assert_int_equal(jb_meter_read_sample(m, &s), 0);
    assert_int_equal(s.valid, JB_CAP_POWER | JB_CAP_POWER_INSTANT);
    assert_float_equal(s.power_instant_w, 200, 1e-9);
    assert_null(jb__sim_of_meter(NULL, NULL));
    /* A trace file whose name has a comma: the meter list does not split it. */
    {
        const char *p = trace("a,b.csv", "0,50\n");
        char spec[300];
        snprintf(spec, sizeof(spec), "sim:nvml:read_ms=0:trace=%s", p);
        m = add(spec);
        assert_non_null(strstr(jb_meter_get_info(m)->name, "a,b.csv"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_const, free_set),
        cmocka_unit_test_teardown(test_square, free_set),
        cmocka_unit_test_teardown(test_trace, free_set),
        cmocka_unit_test(test_spec_errors),
        cmocka_unit_test(test_trace_errors),
        cmocka_unit_test(test_trace_fifo),
        cmocka_unit_test(test_nvml_parse),
        cmocka_unit_test(test_nvml_counter),
        cmocka_unit_test(test_nvml_readings),
        cmocka_unit_test_teardown(test_nvml_meter, free_set),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
