/*
 * test_meter.c - the meter set (src/lib/meter.c): specification parsing (comma lists, empty
 * names, unknown names and their message, sim:trace=FILE taking the rest of the specification,
 * commas included), ids numbered per kind, the same device named twice kept once (through the
 * fake NVML of tests/fake), meters added before a failure kept, and the small lookup functions.
 * The read wrappers keep a backend's own time stamp (a reading preempted inside the call is not
 * moved).
 * Backends themselves are tested in test_sim.c, test_gpu_nvml.c and test_cpu_rapl.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "joulebench.h"
#include "../../src/lib/meter.h"

static char fake_lib[4096];
static struct jb_meter_set *set;

static int free_set(void **state)
{
    (void)state;
    jb_meter_set_free(set);
    set = NULL;
    return 0;
}

/* set := a new set with spec added, which must return rc. */
static void add(const char *spec, int rc)
{
    int got;

    jb_meter_set_free(set);
    set = jb_meter_set_new();
    assert_non_null(set);
    got = jb_meter_set_add(set, spec);
    if (got != rc)
        fail_msg("'%s': %d (%s), expected %d", spec, got, jb_meter_set_errmsg(set), rc);
}

static const char *id(size_t i)
{
    struct jb_meter *m = jb_meter_set_get(set, i);

    assert_non_null(m);
    return jb_meter_get_info(m)->id;
}

static void test_lists(void **state)
{
    (void)state;
    add("sim,sim:const=5,sim:square=1:2:10:0.5", 0);
    assert_int_equal(jb_meter_set_count(set), 3);
    assert_string_equal(id(0), "sim0");
    assert_string_equal(id(1), "sim1");
    assert_string_equal(id(2), "sim2");
    assert_int_equal(jb_meter_get_info(jb_meter_set_get(set, 2))->device_index, 2);
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 1))->name,
                        "simulated constant 5 W");
    assert_null(jb_meter_set_get(set, 3));
    assert_string_equal(jb_meter_set_errmsg(set), "");
    assert_int_equal(jb_meter_set_note_count(set), 0);
    assert_null(jb_meter_set_note(set, 0));

    /* A second add appends, numbering on. */
    assert_int_equal(jb_meter_set_add(set, "sim"), 0);
    assert_int_equal(jb_meter_set_count(set), 4);
    assert_string_equal(id(3), "sim3");
}

static void test_bad_specs(void **state)
{
    static const char *const empty[] = {"sim,,sim", ",sim", "sim,", ","};
    char msg[128];

    (void)state;
    add("", JB_EINVAL);
    assert_string_equal(jb_meter_set_errmsg(set), "empty meter specification");
    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
        add(empty[i], JB_EINVAL);
        snprintf(msg, sizeof(msg), "empty meter name in '%s'", empty[i]);
        assert_string_equal(jb_meter_set_errmsg(set), msg);
    }
    /* Meters added before the failure stay. */
    add("sim,,sim", JB_EINVAL);
    assert_int_equal(jb_meter_set_count(set), 1);

    add("sim,bogus,sim", JB_EINVAL);
    assert_int_equal(jb_meter_set_count(set), 1);
    assert_string_equal(jb_meter_set_errmsg(set),
                        "unknown meter 'bogus' (expected auto, gpu, gpuN, cpu, cpu-packageN, "
                        "dramN, sim, sim:const=W, sim:square=LOW:HIGH:PERIOD_MS:DUTY, "
                        "sim:trace=FILE)");
    static const char *const unknown[] = {"Sim",    "simx",     " sim",  "sim ",
                                          "gpu-1",  "gpu99999", "gpu1x", "cpu-package",
                                          "dram-1", "AUTO",     "gpu 0"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        add(unknown[i], JB_EINVAL);
        snprintf(msg, sizeof(msg), "unknown meter '%s' (", unknown[i]);
        assert_memory_equal(jb_meter_set_errmsg(set), msg, strlen(msg));
    }
    /* A good add after a failure clears the message. */
    assert_int_equal(jb_meter_set_add(set, "sim"), 0);
    assert_string_equal(jb_meter_set_errmsg(set), "");

    assert_int_equal(jb_meter_set_add(NULL, "sim"), JB_EINVAL);
    assert_int_equal(jb_meter_set_add(set, NULL), JB_EINVAL);
    assert_int_equal(jb_meter_set_count(NULL), 0);
    assert_null(jb_meter_set_get(NULL, 0));
    assert_string_equal(jb_meter_set_errmsg(NULL), "");
    jb_meter_set_free(NULL);
}

/* sim:trace=FILE takes the rest of the specification: a file name may hold commas. */
static void test_trace_takes_rest(void **state)
{
    char dir[64], path[128], spec[256];
    FILE *f;

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/jb-test-meter-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/a,b,sim.csv", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("0,42\n", f);
    assert_int_equal(fclose(f), 0);

    snprintf(spec, sizeof(spec), "sim:const=1,sim:trace=%s", path);
    add(spec, 0);
    assert_int_equal(jb_meter_set_count(set), 2);
    snprintf(spec, sizeof(spec), "simulated trace %s", path);
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 1))->name, spec);

    /* What follows a trace is part of its file name. */
    snprintf(spec, sizeof(spec), "sim:trace=%s,sim", path);
    add(spec, JB_EIO);
    assert_int_equal(jb_meter_set_count(set), 0);
    assert_non_null(strstr(jb_meter_set_errmsg(set), "/a,b,sim.csv,sim': No such file"));

    unlink(path);
    rmdir(dir);
}

/* The same device named twice is kept once (fake NVML with two GPUs). */
static void test_duplicates(void **state)
{
    (void)state;
    if (!fake_lib[0])
        skip();
    setenv("JOULEBENCH_NVML_LIB", fake_lib, 1);
    setenv("FAKE_NVML_GPUS", "2", 1);
    add("gpu0,gpu0", 0);
    assert_int_equal(jb_meter_set_count(set), 1);
    assert_string_equal(id(0), "gpu0");
    add("gpu,gpu0,gpu1", 0);
    assert_int_equal(jb_meter_set_count(set), 2);
    add("gpu1,gpu,sim", 0);
    assert_int_equal(jb_meter_set_count(set), 3);
    assert_string_equal(id(0), "gpu1");
    assert_string_equal(id(1), "gpu0");
    assert_string_equal(id(2), "sim0");
    add("gpu01", 0); /* the index is a number: gpu01 is gpu1 */
    assert_string_equal(id(0), "gpu1");
    jb_meter_set_free(set);
    set = NULL;
    unsetenv("FAKE_NVML_GPUS");
    unsetenv("JOULEBENCH_NVML_LIB");
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(jb_meter_kind_name(JB_KIND_GPU), "gpu");
    assert_string_equal(jb_meter_kind_name(JB_KIND_CPU_PACKAGE), "cpu-package");
    assert_string_equal(jb_meter_kind_name(JB_KIND_DRAM), "dram");
    assert_string_equal(jb_meter_kind_name(JB_KIND_SIM), "sim");
    assert_string_equal(jb_meter_kind_name((enum jb_meter_kind)99), "unknown");
    assert_string_equal(jb_cap_name(JB_CAP_ENERGY), "energy");
    assert_string_equal(jb_cap_name(JB_CAP_THROTTLE), "throttle");
    assert_null(jb_cap_name(JB_CAP_ENERGY | JB_CAP_POWER));
    assert_null(jb_cap_name(0));
}

/* A backend that stamps its readings and takes 20 ms per call, as if preempted between its
 * clock read and its return. */
static uint64_t stamp;

static void slow(void)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static int slow_sample(struct jb_meter *m, struct jb_sample *s, struct jb_errbuf *err)
{
    (void)m;
    (void)err;
    s->t_mono_ns = stamp;
    s->power_w = 1;
    s->valid = JB_CAP_POWER;
    slow();
    return 0;
}

static int slow_energy(struct jb_meter *m, struct jb_energy *e, struct jb_errbuf *err)
{
    (void)m;
    (void)err;
    e->t_mono_ns = stamp;
    e->energy_j = 2;
    slow();
    return 0;
}

static void test_stamps(void **state)
{
    static const struct jb_meter_ops ops = {slow_sample, slow_energy, NULL};
    struct jb_meter *m = jb__meter_new(&ops);
    struct jb_sample s;
    struct jb_energy e;

    (void)state;
    assert_non_null(m);
    m->info.caps = JB_CAP_POWER | JB_CAP_ENERGY;
    stamp = jb_now_ns();
    assert_int_equal(jb_meter_read_sample(m, &s), 0);
    assert_true(s.t_mono_ns == stamp);
    assert_int_equal(jb_meter_read_energy(m, &e), 0);
    assert_true(e.t_mono_ns == stamp);
    jb__meter_free(m);
}

int main(void)
{
    const char *dir = getenv("JB_FAKE_DIR");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_lists, free_set),
        cmocka_unit_test_teardown(test_bad_specs, free_set),
        cmocka_unit_test_teardown(test_trace_takes_rest, free_set),
        cmocka_unit_test_teardown(test_duplicates, free_set),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_stamps),
    };

    if (dir)
        snprintf(fake_lib, sizeof(fake_lib), "%s/libfake_nvml.so", dir);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
