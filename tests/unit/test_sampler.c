/*
 * test_sampler.c - the sampler threads (src/lib/sampler.c) over simulated meters and the fake
 * NVML (tests/fake): start and stop, callbacks never running concurrently, readings before start
 * returns and at stop, a count of samples consistent with the interval (bounds generous and
 * derived from the elapsed time, not tight timing), energy readings in order per meter,
 * jb_sampler_read_energy_now delivering before it returns, a failing meter reported once and not
 * read again, and the interval range; over the NVML-faithful simulated meter, every counter reading
 * is the counter's value at its stamp under each schedule (locked, fixed, on demand); the options'
 * size (an older caller's fields beyond it take defaults, a newer one's unknown fields must be
 * zero, size 0 refused).  The lock's
 * timing is tested in virtual time (test_counter.c), not here.  Not a test of the meters' values
 * (test_sim.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "joulebench.h"
#include "sim.h"

#define MAX_METERS 4

static char fake_lib[4096];

/* What the callbacks saw.  Written only inside callbacks, which the sampler serialises; the
 * atomic `inside` checks that it does. */
struct seen {
    atomic_int inside;
    atomic_int overlaps;
    atomic_int samples[MAX_METERS];
    atomic_int energies[MAX_METERS];
    atomic_int errors[MAX_METERS];
    atomic_int after_error[MAX_METERS]; /* readings delivered after the meter's error */
    int error_code[MAX_METERS];
    char error_msg[MAX_METERS][256];
    uint64_t last_energy_t[MAX_METERS];
    double last_energy_j[MAX_METERS];
    int disorder;
};

static void enter(struct seen *s)
{
    if (atomic_fetch_add(&s->inside, 1) != 0)
        atomic_fetch_add(&s->overlaps, 1);
    sched_yield(); /* widen the window in which a concurrent call would be seen */
}

static void leave(struct seen *s)
{
    atomic_fetch_sub(&s->inside, 1);
}

static void on_sample(void *user, size_t i, const struct jb_sample *smp)
{
    struct seen *s = user;

    enter(s);
    if (i < MAX_METERS) {
        atomic_fetch_add(&s->samples[i], 1);
        if (atomic_load(&s->errors[i]))
            atomic_fetch_add(&s->after_error[i], 1);
        if (!(smp->valid & JB_CAP_POWER))
            s->disorder++;
    }
    leave(s);
}

static void on_energy(void *user, size_t i, const struct jb_energy *e)
{
    struct seen *s = user;

    enter(s);
    if (i < MAX_METERS) {
        if (atomic_load(&s->energies[i]) &&
            (e->t_mono_ns < s->last_energy_t[i] || e->energy_j < s->last_energy_j[i]))
            s->disorder++;
        s->last_energy_t[i] = e->t_mono_ns;
        s->last_energy_j[i] = e->energy_j;
        atomic_fetch_add(&s->energies[i], 1);
        if (atomic_load(&s->errors[i]))
            atomic_fetch_add(&s->after_error[i], 1);
    }
    leave(s);
}

static void on_error(void *user, size_t i, int code, const char *msg)
{
    struct seen *s = user;

    enter(s);
    if (i < MAX_METERS) {
        s->error_code[i] = code;
        snprintf(s->error_msg[i], sizeof(s->error_msg[i]), "%s", msg);
        atomic_fetch_add(&s->errors[i], 1);
    }
    leave(s);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static struct jb_meter_set *set_of(const char *spec)
{
    struct jb_meter_set *set = jb_meter_set_new();

    assert_non_null(set);
    if (jb_meter_set_add(set, spec) != 0)
        fail_msg("'%s': %s", spec, jb_meter_set_errmsg(set));
    return set;
}

static void test_range(void **state)
{
    struct jb_meter_set *set = set_of("sim");
    struct jb_sampler *s = (struct jb_sampler *)1;
    struct jb_sampler_opts o;

    (void)state;
    jb_sampler_opts_init(&o);
    o.interval_ms = 9;
    assert_int_equal(jb_sampler_start(&s, set, &o), JB_ERANGE);
    assert_null(s);
    assert_non_null(strstr(jb_sampler_errmsg(NULL), "cannot start sampling: interval_ms"));
    o.interval_ms = 60001;
    assert_int_equal(jb_sampler_start(&s, set, &o), JB_ERANGE);
    o.interval_ms = 10;
    o.energy_interval_ms = 9;
    assert_int_equal(jb_sampler_start(&s, set, &o), JB_ERANGE);
    o.energy_interval_ms = 60001;
    assert_int_equal(jb_sampler_start(&s, set, &o), JB_ERANGE);
    assert_int_equal(jb_sampler_start(&s, NULL, &o), JB_EINVAL);
    assert_int_equal(jb_sampler_start(&s, set, NULL), JB_EINVAL);
    assert_non_null(strstr(jb_sampler_errmsg(NULL), "no options"));
    /* The bounds themselves are allowed; 0 means 100 ms. */
    o.interval_ms = 60000;
    o.energy_interval_ms = 0;
    assert_int_equal(jb_sampler_start(&s, set, &o), 0);
    assert_non_null(s);
    assert_string_equal(jb_sampler_errmsg(NULL), ""); /* a start that worked clears it */
    assert_string_equal(jb_sampler_errmsg(s), "");
    jb_sampler_stop(s);
    jb_sampler_stop(NULL);
    assert_int_equal(jb_sampler_read_energy_now(NULL), JB_EINVAL);
    jb_meter_set_free(set);
}

static void test_run(void **state)
{
    struct jb_meter_set *set = set_of("sim,sim:square=10:100:20:0.5");
    struct seen *seen = calloc(1, sizeof(*seen));
    struct jb_sampler_opts o = {sizeof(o), 10, 10, on_sample, on_energy, on_error, NULL, 0};
    struct jb_sampler *s;
    uint64_t t0, t1, t_stop;
    int e_before;

    (void)state;
    assert_non_null(seen);
    o.user = seen;
    t0 = jb_now_ns();
    assert_int_equal(jb_sampler_start(&s, set, &o), 0);
    /* First readings are taken before start returns. */
    for (size_t i = 0; i < 2; i++) {
        assert_true(atomic_load(&seen->samples[i]) >= 1);
        assert_true(atomic_load(&seen->energies[i]) >= 1);
    }
    for (int k = 0; k < 5; k++) {
        sleep_ms(100);
        e_before = atomic_load(&seen->energies[1]);
        assert_int_equal(jb_sampler_read_energy_now(s), 0);
        /* Delivered before it returned (a tick may have added more). */
        assert_true(atomic_load(&seen->energies[1]) >= e_before + 1);
    }
    t_stop = jb_now_ns();
    jb_sampler_stop(s);
    t1 = jb_now_ns();

    assert_int_equal(atomic_load(&seen->overlaps), 0);
    assert_int_equal(seen->disorder, 0);
    for (size_t i = 0; i < 2; i++) {
        /* At most one per 10 ms tick of the time it ran, plus the first and the last (never
         * bunched up); at least those two.  Not a lower bound from the 500 ms slept: how many
         * ticks a loaded machine manages is not the sampler's behaviour (issue 9, bug 8). */
        int max = (int)((t1 - t0) / 10000000ull) + 3;
        int n = atomic_load(&seen->samples[i]);
        if (n < 2 || n > max)
            fail_msg("meter %zu: %d samples in %.3f s (expected 2..%d)", i, n,
                     (double)(t1 - t0) / 1e9, max);
        assert_true(atomic_load(&seen->energies[i]) >= 2);
        assert_int_equal(atomic_load(&seen->errors[i]), 0);
        /* The last reading is taken at stop. */
        assert_true(seen->last_energy_t[i] >= t_stop);
        assert_true(seen->last_energy_j[i] > 0);
    }
    free(seen);
    jb_meter_set_free(set);
}

/* A GPU that is lost after some reads: reported once, not read again; the other meter goes on. */
static void test_failing_meter(void **state)
{
    struct jb_meter_set *set;
    struct seen *seen = calloc(1, sizeof(*seen));
    struct jb_sampler_opts o = {sizeof(o), 10, 10, on_sample, on_energy, on_error, NULL, 0};
    struct jb_sampler *s;
    int sim_before;

    (void)state;
    if (!fake_lib[0])
        skip();
    assert_non_null(seen);
    setenv("JOULEBENCH_NVML_LIB", fake_lib, 1);
    setenv("FAKE_NVML_LOST_AFTER", "60", 1);
    set = set_of("gpu0,sim");
    o.user = seen;
    assert_int_equal(jb_sampler_start(&s, set, &o), 0);
    for (int k = 0; k < 3000 && !atomic_load(&seen->errors[0]); k++) /* until lost (<= 30 s) */
        sleep_ms(10);
    assert_int_equal(atomic_load(&seen->errors[0]), 1);
    assert_non_null(strstr(jb_sampler_errmsg(s), "meter gpu0: "));
    assert_non_null(strstr(jb_sampler_errmsg(s), "lost"));
    sim_before = atomic_load(&seen->samples[1]);
    sleep_ms(100);
    assert_true(atomic_load(&seen->samples[1]) > sim_before);
    jb_sampler_stop(s);

    assert_int_equal(atomic_load(&seen->errors[0]), 1);
    assert_int_equal(seen->error_code[0], JB_ELOST);
    assert_non_null(strstr(seen->error_msg[0], "lost"));
    assert_int_equal(atomic_load(&seen->after_error[0]), 0);
    assert_int_equal(atomic_load(&seen->errors[1]), 0);
    assert_int_equal(atomic_load(&seen->overlaps), 0);
    assert_int_equal(seen->disorder, 0);
    jb_meter_set_free(set);

    /* Without an error callback the meter is dropped all the same. */
    set = set_of("gpu0");
    memset(seen, 0, sizeof(*seen));
    o.on_error = NULL;
    assert_int_equal(jb_sampler_start(&s, set, &o), 0);
    /* ... and its message is on the sampler for a caller without a callback */
    for (int k = 0; k < 3000 && !jb_sampler_errmsg(s)[0]; k++)
        sleep_ms(10);
    assert_non_null(strstr(jb_sampler_errmsg(s), "lost"));
    jb_sampler_stop(s);
    jb_meter_set_free(set);

    unsetenv("FAKE_NVML_LOST_AFTER");
    unsetenv("JOULEBENCH_NVML_LIB");
    free(seen);
}

/* Counter readings of a sim:nvml meter, checked against its model at their stamps. */
struct nvml_seen {
    const struct jb__sim *model;
    uint64_t origin;
    atomic_int n, bad, disorder;
    uint64_t last_t;
};

static void on_nvml_energy(void *user, size_t i, const struct jb_energy *e)
{
    struct nvml_seen *s = user;
    double want;

    (void)i;
    want = jb__sim_counter_j(s->model, (double)(e->t_mono_ns - s->origin) / 1e9);
    if (e->energy_j != want)
        atomic_fetch_add(&s->bad, 1);
    if (e->t_mono_ns < s->last_t)
        atomic_fetch_add(&s->disorder, 1);
    s->last_t = e->t_mono_ns;
    atomic_fetch_add(&s->n, 1);
}

static void test_nvml_schedules(void **state)
{
    static const int modes[] = {JB_ENERGY_LOCKED, JB_ENERGY_FIXED, JB_ENERGY_ON_DEMAND};

    (void)state;
    for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
        struct jb_meter_set *set = set_of("sim:nvml:offset_ms=40:read_ms=2:const=300");
        struct nvml_seen *seen = calloc(1, sizeof(*seen));
        struct jb_sampler_opts o;
        struct jb_sampler *s;

        assert_non_null(seen);
        seen->model = jb__sim_of_meter(jb_meter_set_get(set, 0), &seen->origin);
        jb_sampler_opts_init(&o);
        o.on_energy = on_nvml_energy;
        o.user = seen;
        o.energy_on_demand = modes[k];
        assert_int_equal(jb_sampler_start(&s, set, &o), 0);
        assert_true(atomic_load(&seen->n) >= 1);
        sleep_ms(300);
        assert_int_equal(jb_sampler_read_energy_now(s), 0);
        jb_sampler_stop(s);
        assert_true(atomic_load(&seen->n) >= 3); /* first, on demand, last */
        assert_int_equal(atomic_load(&seen->bad), 0);
        assert_int_equal(atomic_load(&seen->disorder), 0);
        free(seen);
        jb_meter_set_free(set);
    }
    {
        struct jb_meter_set *set = set_of("sim");
        struct jb_sampler_opts o;
        struct jb_sampler *s;
        jb_sampler_opts_init(&o);
        o.energy_on_demand = 3;
        assert_int_equal(jb_sampler_start(&s, set, &o), JB_EINVAL);
        o.energy_on_demand = -1;
        assert_int_equal(jb_sampler_start(&s, set, &o), JB_EINVAL);
        jb_meter_set_free(set);
    }
}

/* Counter readings delivered while a bound read is in progress. */
struct demand_seen {
    atomic_int in_demand, during, total;
};

static void on_demand_energy(void *user, size_t i, const struct jb_energy *e)
{
    struct demand_seen *d = user;

    (void)i;
    (void)e;
    atomic_fetch_add(&d->total, 1);
    if (atomic_load(&d->in_demand))
        atomic_fetch_add(&d->during, 1);
}

/*
 * A bound read during the search for the update grid, when the counter thread reads back to
 * back (~0.4 s and ~100 reads on this simulated meter): it gets in after at most the read in
 * flight, rather than after the whole search (mutexes are not fair: it used to wait it out, so
 * that jb_monitor_begin took 0.4 s).  Counted in reads delivered meanwhile, not in time.
 */
static void test_bound_read_not_starved(void **state)
{
    (void)state;
    for (int k = 0; k < 5; k++) {
        struct jb_meter_set *set = set_of("sim:nvml:offset_ms=40:read_ms=4:const=300");
        struct demand_seen *d = calloc(1, sizeof(*d));
        struct jb_sampler_opts o;
        struct jb_sampler *s;

        assert_non_null(d);
        jb_sampler_opts_init(&o);
        o.on_energy = on_demand_energy;
        o.user = d;
        assert_int_equal(jb_sampler_start(&s, set, &o), 0);
        sleep_ms(20 + 10 * k);
        atomic_store(&d->in_demand, 1);
        assert_int_equal(jb_sampler_read_energy_now(s), 0);
        atomic_store(&d->in_demand, 0);
        jb_sampler_stop(s);
        /* The read in flight, one that began as the flag was set, and the bound read itself. */
        if (atomic_load(&d->during) > 6)
            fail_msg("round %d: %d counter reads delivered while the bound read waited (of %d)", k,
                     atomic_load(&d->during), atomic_load(&d->total));
        free(d);
        jb_meter_set_free(set);
    }
}

/* Counter readings of one exact simulated meter over ~200 ms at a 10 ms cadence under *o. */
static int energies_with(struct jb_sampler_opts *o)
{
    struct jb_meter_set *set = set_of("sim");
    struct seen *seen = calloc(1, sizeof(*seen));
    struct jb_sampler *s;
    int n;

    assert_non_null(seen);
    o->energy_interval_ms = 10;
    o->on_energy = on_energy;
    o->user = seen;
    assert_int_equal(jb_sampler_start(&s, set, o), 0);
    sleep_ms(200);
    jb_sampler_stop(s);
    n = atomic_load(&seen->energies[0]);
    free(seen);
    jb_meter_set_free(set);
    return n;
}

/* The options' size (joulebench.h): what lies beyond it is not read and takes its default. */
static void test_opts_size(void **state)
{
    struct jb_meter_set *set = set_of("sim");
    struct jb_sampler *s = (struct jb_sampler *)1;
    struct jb_sampler_opts o;
    struct {
        struct jb_sampler_opts o;
        unsigned char newer[32]; /* fields of a newer header */
    } big;

    (void)state;
    jb_sampler_opts_init(&o);
    assert_int_equal(o.size, sizeof(o));
    assert_int_equal(o.interval_ms, 0);
    assert_int_equal(o.energy_on_demand, JB_ENERGY_LOCKED);
    assert_null(o.on_sample);

    /* The control: on demand, a counter is read only at start and at stop. */
    o.energy_on_demand = JB_ENERGY_ON_DEMAND;
    assert_int_equal(energies_with(&o), 2);
    /* An old caller, built before energy_on_demand: the bytes where it now lies are not its,
     * so the default (locked: periodic reads) holds, whatever they hold. */
    o.size = offsetof(struct jb_sampler_opts, energy_on_demand);
    assert_true(energies_with(&o) > 2);
    o.energy_on_demand = 3; /* invalid if it were read */
    assert_true(energies_with(&o) > 2);

    /* Never initialised, or absurd: refused with the reason. */
    jb_sampler_opts_init(&o);
    o.size = 0;
    assert_int_equal(jb_sampler_start(&s, set, &o), JB_EINVAL);
    assert_null(s);
    assert_non_null(strstr(jb_sampler_errmsg(NULL), "jb_sampler_opts has size 0"));
    assert_non_null(strstr(jb_sampler_errmsg(NULL), "jb_sampler_opts_init"));
    o.size = sizeof(size_t) - 1;
    assert_int_equal(jb_sampler_start(&s, set, &o), JB_EINVAL);
    o.size = JB_OPTS_SIZE_MAX + 1;
    assert_int_equal(jb_sampler_start(&s, set, &o), JB_EINVAL);
    assert_non_null(strstr(jb_sampler_errmsg(NULL), "size 4097"));

    /* Just the size: every default. */
    o.size = sizeof(size_t);
    o.interval_ms = 5; /* out of range if it were read */
    assert_int_equal(jb_sampler_start(&s, set, &o), 0);
    jb_sampler_stop(s);

    /* A newer caller: accepted while the fields this library does not know are zero. */
    jb_sampler_opts_init_sized(&big.o, sizeof(big)); /* a newer header's sizeof */
    assert_int_equal(big.o.size, sizeof(big));
    assert_int_equal(jb_sampler_start(&s, set, &big.o), 0);
    jb_sampler_stop(s);
    big.newer[5] = 1;
    assert_int_equal(jb_sampler_start(&s, set, &big.o), JB_ENOTSUP);
    assert_null(s);
    assert_non_null(strstr(jb_sampler_errmsg(NULL), "newer version"));
    jb_meter_set_free(set);
}

int main(void)
{
    const char *dir = getenv("JB_FAKE_DIR");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range),         cmocka_unit_test(test_run),
        cmocka_unit_test(test_failing_meter), cmocka_unit_test(test_nvml_schedules),
        cmocka_unit_test(test_opts_size),     cmocka_unit_test(test_bound_read_not_starved),
    };

    if (dir)
        snprintf(fake_lib, sizeof(fake_lib), "%s/libfake_nvml.so", dir);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
