/*
 * test_gpu_nvml.c - the NVML backend (src/lib/gpu_nvml.c) through the public meter API, against
 * the fake libnvidia-ml of tests/fake/fake_nvml.c (and its old-driver variant fake_nvml_old.c).
 * Covers discovery, capabilities, CUDA_VISIBLE_DEVICES, the energy counter, missing library and
 * symbols, a GPU lost mid-run, NVML's init/shutdown pairing, and that no NVML setter is used.
 * Does not test real hardware: see docs/nvml-backend.md for the GPU check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "joulebench.h"

#define ALL_CAPS                                                                                   \
    (JB_CAP_ENERGY | JB_CAP_POWER | JB_CAP_POWER_INSTANT | JB_CAP_TEMP | JB_CAP_UTIL |             \
     JB_CAP_MEM_UTIL | JB_CAP_MEM_USED | JB_CAP_SM_CLOCK | JB_CAP_MEM_CLOCK | JB_CAP_THROTTLE)

static char fake_lib[4096];
static char fake_old_lib[4096];

static const char *const fake_env[] = {
    "FAKE_NVML_GPUS",           "FAKE_NVML_FAIL_INIT",         "FAKE_NVML_NO_ENERGY",
    "FAKE_NVML_FAIL",           "FAKE_NVML_LOST_AFTER",        "FAKE_NVML_ENERGY_START_MJ",
    "FAKE_NVML_ENERGY_STEP_MJ", "FAKE_NVML_ENERGY_RESET_AT",   "FAKE_NVML_LOG",
    "CUDA_VISIBLE_DEVICES",     "FAKE_NVML_AVERAGE_OFFSET_MW", "JOULEBENCH_NVML_BATCH",
};

/* Sets made by set_with, freed by drop() or, when an assertion ended the test early, by
 * teardown: a leaked set would keep the fake loaded and spoil the next tests. */
static struct jb_meter_set *live[8];

static void drop(struct jb_meter_set *set)
{
    for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
        if (live[i] == set)
            live[i] = NULL;
    jb_meter_set_free(set);
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
        jb_meter_set_free(live[i]);
        live[i] = NULL;
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(fake_env) / sizeof(fake_env[0]); i++)
        unsetenv(fake_env[i]);
    setenv("JOULEBENCH_NVML_LIB", fake_lib, 1);
    return 0;
}

/* A set with `spec` added; asserts that adding returned `want_rc`. */
static struct jb_meter_set *set_with(const char *spec, int want_rc)
{
    struct jb_meter_set *set = jb_meter_set_new();
    int rc;

    assert_non_null(set);
    for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
        if (!live[i]) {
            live[i] = set;
            break;
        }
    }
    rc = jb_meter_set_add(set, spec);
    if (rc != want_rc)
        fail_msg("jb_meter_set_add('%s') = %d (%s), want %d", spec, rc, jb_meter_set_errmsg(set),
                 want_rc);
    return set;
}

static int has_note(const struct jb_meter_set *set, const char *needle)
{
    for (size_t i = 0; i < jb_meter_set_note_count(set); i++)
        if (strstr(jb_meter_set_note(set, i), needle))
            return 1;
    return 0;
}

/* The fake's run-time control, from the copy the backend loaded. */
static void fake_set_fail(const char *spec)
{
    void *h = dlopen(fake_lib, RTLD_NOW | RTLD_NOLOAD);
    int (*fn)(const char *);
    void *p;

    assert_non_null(h);
    p = dlsym(h, "fake_nvml_set_fail");
    assert_non_null(p);
    memcpy(&fn, &p, sizeof(p));
    assert_int_equal(fn(spec), 0);
    dlclose(h);
}

/* Calls made so far to one of the fake's functions ("*": all per-device calls). */
static long fake_calls(const char *func)
{
    void *h = dlopen(fake_lib, RTLD_NOW | RTLD_NOLOAD);
    long (*fn)(const char *);
    void *p;
    long n;

    assert_non_null(h);
    p = dlsym(h, "fake_nvml_calls");
    assert_non_null(p);
    memcpy(&fn, &p, sizeof(p));
    n = fn(func);
    dlclose(h);
    return n;
}

/* Reads 10 samples of gpu0 with `mask` and returns how many calls of `func` they made. */
static long calls_per_10(struct jb_meter *m, uint32_t mask, const char *func, struct jb_sample *s)
{
    long before = fake_calls(func);

    jb_meter_set_read_mask(m, mask);
    for (int i = 0; i < 10; i++)
        assert_int_equal(jb_meter_read_sample(m, s), 0);
    return fake_calls(func) - before;
}

/* Both power readings in one nvmlDeviceGetFieldValues call per sample; only what the mask asks;
 * the per-gauge calls where the driver lacks field 185 or it disagrees with
 * nvmlDeviceGetPowerUsage, or JOULEBENCH_NVML_BATCH=0 says so.  Values are the same either way. */
static void test_batched_power(void **state)
{
    static const struct {
        const char *env, *val;
        int batched;
    } cases[] = {{NULL, NULL, 1},
                 {"FAKE_NVML_FAIL", "POWER_AVERAGE=3", 0},
                 {"FAKE_NVML_AVERAGE_OFFSET_MW", "50000", 0},
                 {"FAKE_NVML_AVERAGE_OFFSET_MW", "2000", 1},
                 {"JOULEBENCH_NVML_BATCH", "0", 0}};
    const uint32_t power = JB_CAP_POWER | JB_CAP_POWER_INSTANT;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jb_meter_set *set;
        struct jb_meter *m;
        struct jb_sample s;
        if (cases[i].env)
            setenv(cases[i].env, cases[i].val, 1);
        set = set_with("gpu0", 0);
        m = jb_meter_set_get(set, 0);
        assert_int_equal(jb_meter_get_info(m)->caps & power, power);
        if (cases[i].batched) {
            assert_int_equal(calls_per_10(m, power, "nvmlDeviceGetFieldValues", &s), 10);
            assert_int_equal(calls_per_10(m, power, "nvmlDeviceGetPowerUsage", &s), 0);
            assert_int_equal(calls_per_10(m, power, "*", &s), 10);
        } else {
            assert_int_equal(calls_per_10(m, power, "nvmlDeviceGetFieldValues", &s), 10);
            assert_int_equal(calls_per_10(m, power, "nvmlDeviceGetPowerUsage", &s), 10);
            assert_int_equal(calls_per_10(m, power, "*", &s), 20);
        }
        assert_int_equal(s.valid, power);
        assert_true(s.power_w == 150.0 + (i == 3 ? 2.0 : 0));
        assert_true(s.power_instant_w == 155.0);
        /* Only what the mask asks for: the averaged power alone is one call. */
        assert_int_equal(calls_per_10(m, JB_CAP_POWER, "*", &s), 10);
        assert_int_equal(s.valid, JB_CAP_POWER);
        /* The whole set: eight calls, seven when the power readings come together. */
        assert_int_equal(calls_per_10(m, ALL_CAPS, "*", &s), cases[i].batched ? 70 : 80);
        assert_int_equal(s.valid, ALL_CAPS & ~JB_CAP_ENERGY);
        drop(set);
        if (cases[i].env)
            unsetenv(cases[i].env);
    }
}

static void test_discovery(void **state)
{
    struct jb_meter_set *set;
    (void)state;

    setenv("FAKE_NVML_GPUS", "2", 1);
    set = set_with("gpu", 0);
    assert_int_equal(jb_meter_set_count(set), 2);
    for (int i = 0; i < 2; i++) {
        const struct jb_meter_info *info = jb_meter_get_info(jb_meter_set_get(set, (size_t)i));
        char want[96];

        snprintf(want, sizeof(want), "gpu%d", i);
        assert_string_equal(info->id, want);
        assert_int_equal(info->kind, JB_KIND_GPU);
        assert_string_equal(info->source, "nvml");
        assert_string_equal(info->name, "Fake NVIDIA H100 80GB HBM3");
        snprintf(want, sizeof(want), "GPU-%02d1ce0de-fa4e-4a11-8000-0000000000%02d", i, i);
        assert_string_equal(info->uuid, want);
        /* nvmlDeviceGetPciInfo_v3 preferred over the first version (which the fake also has) */
        snprintf(want, sizeof(want), "00000000:%02X:00.0", 0x18 + i);
        assert_string_equal(info->pci_bus_id, want);
        assert_string_equal(info->driver, "550.54.15-fake");
        assert_int_equal(info->device_index, i);
        assert_int_equal(info->simulated, 0);
        assert_int_equal(info->caps, ALL_CAPS);
        assert_int_equal(info->valid, JB_INFO_POWER_LIMIT | JB_INFO_MEMORY_TOTAL);
        assert_true(info->power_limit_w == 700.0);
        assert_true(info->memory_total_mib == 81920.0);
    }
    assert_int_equal(jb_meter_set_note_count(set), 0);
    drop(set);
}

static void test_read_sample(void **state)
{
    struct jb_meter_set *set;
    struct jb_sample s;
    (void)state;

    setenv("FAKE_NVML_GPUS", "2", 1);
    set = set_with("gpu1", 0);
    assert_int_equal(jb_meter_set_count(set), 1);
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 0))->id, "gpu1");
    assert_int_equal(jb_meter_read_sample(jb_meter_set_get(set, 0), &s), 0);
    assert_int_equal(s.valid, ALL_CAPS & ~JB_CAP_ENERGY);
    assert_true(s.t_mono_ns > 0);
    assert_true(s.power_w == 151.0);
    assert_true(s.power_instant_w == 156.0);
    assert_true(s.temp_c == 41.0);
    assert_true(s.util_pct == 75.0);
    assert_true(s.mem_util_pct == 30.0);
    assert_true(s.mem_used_mib == 2048.0);
    assert_true(s.sm_clock_mhz == 1980.0);
    assert_true(s.mem_clock_mhz == 2619.0);
    assert_true(s.throttle_reasons == 0x1);
    drop(set);
}

static void test_energy_since_open(void **state)
{
    struct jb_meter_set *set;
    struct jb_energy e1, e2, e3;
    struct jb_meter *m;
    (void)state;

    /* The fake's counter starts far from 0 (mJ since driver load) and moves 2500 mJ a read. */
    setenv("FAKE_NVML_ENERGY_START_MJ", "123456789", 1);
    setenv("FAKE_NVML_ENERGY_STEP_MJ", "2500", 1);
    set = set_with("gpu0", 0);
    m = jb_meter_set_get(set, 0);
    assert_int_equal(jb_meter_read_energy(m, &e1), 0);
    assert_int_equal(jb_meter_read_energy(m, &e2), 0);
    assert_int_equal(jb_meter_read_energy(m, &e3), 0);
    assert_true(e1.energy_j == 2.5);
    assert_true(e2.energy_j == 5.0);
    assert_true(e3.energy_j == 7.5);
    assert_true(e1.t_mono_ns > 0 && e2.t_mono_ns >= e1.t_mono_ns && e3.t_mono_ns >= e2.t_mono_ns);
    drop(set);
}

static void test_energy_backwards_is_lost(void **state)
{
    struct jb_meter_set *set;
    struct jb_energy e;
    struct jb_meter *m;
    (void)state;

    /* Read 1 is the origin at open, read 2 moves on, read 3 restarts at 0 (driver reload). */
    setenv("FAKE_NVML_ENERGY_RESET_AT", "3", 1);
    set = set_with("gpu", 0);
    m = jb_meter_set_get(set, 0);
    assert_int_equal(jb_meter_read_energy(m, &e), 0);
    assert_true(e.energy_j == 1.5);
    assert_int_equal(jb_meter_read_energy(m, &e), JB_ELOST);
    assert_non_null(strstr(jb_meter_errmsg(m), "gpu0: energy counter went backwards"));
    drop(set);
}

static void test_cvd_index(void **state)
{
    struct jb_meter_set *set;
    (void)state;

    setenv("FAKE_NVML_GPUS", "3", 1);
    setenv("CUDA_VISIBLE_DEVICES", "2, 0", 1);
    set = set_with("gpu", 0);
    assert_int_equal(jb_meter_set_count(set), 2);
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 0))->id, "gpu0");
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 1))->id, "gpu2");
    assert_int_equal(jb_meter_set_add(set, "gpu1"), JB_ENODEV);
    assert_non_null(strstr(jb_meter_set_errmsg(set), "no NVIDIA GPU found: gpu1 is hidden by "
                                                     "CUDA_VISIBLE_DEVICES='2, 0'"));
    assert_int_equal(jb_meter_set_add(set, "gpu2"), 0); /* already there: kept once */
    assert_int_equal(jb_meter_set_count(set), 2);
    drop(set);

    /* Parsing stops at the first entry that names no GPU, as CUDA's does. */
    setenv("CUDA_VISIBLE_DEVICES", "1,7,0", 1);
    set = set_with("gpu", 0);
    assert_int_equal(jb_meter_set_count(set), 1);
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 0))->id, "gpu1");
    assert_true(has_note(set, "entry '7' names no GPU"));
    drop(set);
}

static void test_cvd_uuid(void **state)
{
    struct jb_meter_set *set;
    (void)state;

    setenv("FAKE_NVML_GPUS", "3", 1);
    setenv("CUDA_VISIBLE_DEVICES", "GPU-021ce0de-fa4e-4a11-8000-000000000002,GPU-01", 1);
    set = set_with("gpu", 0);
    assert_int_equal(jb_meter_set_count(set), 2);
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 0))->id, "gpu1");
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 1))->id, "gpu2");
    drop(set);

    /* "GPU-0" is a prefix of all three: ambiguous, so it names none. */
    setenv("CUDA_VISIBLE_DEVICES", "GPU-0", 1);
    set = set_with("gpu", JB_ENODEV);
    assert_int_equal(jb_meter_set_count(set), 0);
    assert_non_null(strstr(jb_meter_set_errmsg(set), "no NVIDIA GPU found: "));
    assert_true(has_note(set, "entry 'GPU-0' names no GPU"));
    drop(set);
}

static void test_cvd_empty(void **state)
{
    const char *hide[] = {"", "-1"};
    (void)state;

    setenv("FAKE_NVML_GPUS", "2", 1);
    for (size_t i = 0; i < 2; i++) {
        struct jb_meter_set *set;

        setenv("CUDA_VISIBLE_DEVICES", hide[i], 1);
        set = set_with("gpu", JB_ENODEV);
        assert_int_equal(jb_meter_set_count(set), 0);
        assert_non_null(strstr(jb_meter_set_errmsg(set), "no NVIDIA GPU found: "
                                                         "CUDA_VISIBLE_DEVICES="));
        drop(set);

        set = set_with("auto", 0); /* optional: a note, not a failure */
        assert_int_equal(jb_meter_set_count(set), 0);
        assert_true(has_note(set, "no NVIDIA GPU found: CUDA_VISIBLE_DEVICES="));
        drop(set);
    }
}

static void test_cvd_mig(void **state)
{
    struct jb_meter_set *set;
    (void)state;

    setenv("FAKE_NVML_GPUS", "2", 1);
    setenv("CUDA_VISIBLE_DEVICES", "MIG-8f3a2c1e-0000-5000-8000-000000000000,1", 1);
    set = set_with("gpu", 0);
    assert_int_equal(jb_meter_set_count(set), 1);
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 0))->id, "gpu1");
    assert_true(has_note(set, "is a MIG instance"));
    drop(set);
}

static void test_index_not_present(void **state)
{
    struct jb_meter_set *set;
    (void)state;

    setenv("FAKE_NVML_GPUS", "2", 1);
    set = set_with("gpu5", JB_ENODEV);
    assert_non_null(strstr(jb_meter_set_errmsg(set),
                           "no NVIDIA GPU found: gpu5: there is no GPU of NVML index 5"));
    drop(set);
}

static void test_missing_library(void **state)
{
    struct jb_meter_set *set;
    (void)state;

    setenv("JOULEBENCH_NVML_LIB", "/nonexistent/libnvidia-ml.so.1", 1);
    set = set_with("auto", 0);
    assert_int_equal(jb_meter_set_count(set), 0);
    assert_true(has_note(set, "no NVIDIA GPU found: cannot load '/nonexistent/libnvidia-ml.so.1'"));
    drop(set);

    set = set_with("gpu", JB_ENODEV);
    assert_int_equal(jb_meter_set_count(set), 0);
    assert_non_null(strstr(jb_meter_set_errmsg(set),
                           "no NVIDIA GPU found: cannot load '/nonexistent/libnvidia-ml.so.1'"));
    drop(set);

    /* A library that is not NVML at all. */
    setenv("JOULEBENCH_NVML_LIB", "libc.so.6", 1);
    set = set_with("gpu", JB_ENODEV);
    assert_non_null(strstr(jb_meter_set_errmsg(set), "lacks nvmlInit"));
    drop(set);
}

static void test_init_fails_and_no_gpu(void **state)
{
    struct jb_meter_set *set;
    (void)state;

    setenv("FAKE_NVML_FAIL_INIT", "1", 1);
    set = set_with("gpu", JB_ENODEV);
    assert_non_null(strstr(jb_meter_set_errmsg(set),
                           "no NVIDIA GPU found: nvmlInit failed: Driver Not Loaded"));
    drop(set);
    set = set_with("auto", 0);
    assert_true(has_note(set, "no NVIDIA GPU found: nvmlInit failed: Driver Not Loaded"));
    drop(set);

    unsetenv("FAKE_NVML_FAIL_INIT");
    setenv("FAKE_NVML_GPUS", "0", 1);
    set = set_with("gpu", JB_ENODEV);
    assert_string_equal(jb_meter_set_errmsg(set),
                        "no NVIDIA GPU found: the NVIDIA driver reports no GPU");
    drop(set);
}

static void test_not_supported_clears_caps(void **state)
{
    struct jb_meter_set *set;
    struct jb_meter *m;
    struct jb_sample s;
    struct jb_energy e;
    uint32_t cleared = JB_CAP_ENERGY | JB_CAP_TEMP | JB_CAP_POWER_INSTANT | JB_CAP_THROTTLE;
    (void)state;

    setenv("FAKE_NVML_NO_ENERGY", "1", 1);
    setenv("FAKE_NVML_FAIL",
           "nvmlDeviceGetTemperature=3,POWER_INSTANT=3,"
           "nvmlDeviceGetCurrentClocksEventReasons=4",
           1);
    set = set_with("gpu", 0);
    m = jb_meter_set_get(set, 0);
    assert_int_equal(jb_meter_get_info(m)->caps, ALL_CAPS & ~cleared);
    /* Not supported is silent; another failure (no permission) leaves a note. */
    assert_int_equal(jb_meter_set_note_count(set), 1);
    assert_true(has_note(set, "gpu0: clock event reasons not read: Insufficient Permissions"));
    assert_int_equal(jb_meter_read_sample(m, &s), 0);
    assert_int_equal(s.valid, ALL_CAPS & ~cleared);
    assert_int_equal(jb_meter_read_energy(m, &e), JB_ENOTSUP);
    drop(set);
}

static void test_old_library(void **state)
{
    struct jb_meter_set *set;
    const struct jb_meter_info *info;
    struct jb_meter *m;
    struct jb_sample s;
    struct jb_energy e;
    (void)state;

    setenv("JOULEBENCH_NVML_LIB", fake_old_lib, 1);
    setenv("FAKE_NVML_GPUS", "2", 1);
    set = set_with("gpu", 0);
    assert_int_equal(jb_meter_set_count(set), 2);
    m = jb_meter_set_get(set, 1);
    info = jb_meter_get_info(m);
    assert_string_equal(info->id, "gpu1");
    assert_string_equal(info->name, "Fake NVIDIA H100 80GB HBM3");
    assert_string_equal(info->uuid, "");
    assert_string_equal(info->driver, "");
    assert_string_equal(info->pci_bus_id, "0000:19:00.0"); /* the first version's layout */
    assert_int_equal(info->caps, JB_CAP_POWER | JB_CAP_TEMP);
    assert_int_equal(info->valid, 0);
    assert_int_equal(jb_meter_read_sample(m, &s), 0);
    assert_int_equal(s.valid, JB_CAP_POWER | JB_CAP_TEMP);
    assert_true(s.power_w == 151.0);
    assert_int_equal(jb_meter_read_energy(m, &e), JB_ENOTSUP);
    drop(set);

    /* UUIDs in CUDA_VISIBLE_DEVICES cannot match without nvmlDeviceGetUUID. */
    setenv("CUDA_VISIBLE_DEVICES", "GPU-01", 1);
    set = set_with("gpu", JB_ENODEV);
    drop(set);
}

static void test_gpu_lost(void **state)
{
    struct jb_meter_set *set;
    struct jb_meter *m0, *m1;
    struct jb_sample s;
    struct jb_energy e;
    (void)state;

    setenv("FAKE_NVML_GPUS", "2", 1);
    set = set_with("gpu", 0);
    m0 = jb_meter_set_get(set, 0);
    m1 = jb_meter_set_get(set, 1);
    assert_int_equal(jb_meter_read_sample(m1, &s), 0);
    fake_set_fail("*@1=15"); /* gpu1 falls off the bus */
    assert_int_equal(jb_meter_read_sample(m1, &s), JB_ELOST);
    assert_non_null(strstr(jb_meter_errmsg(m1),
                           "gpu1 (Fake NVIDIA H100 80GB HBM3) was lost: "
                           "nvmlDeviceGetFieldValues(POWER_AVERAGE, POWER_INSTANT): GPU is lost"));
    assert_int_equal(jb_meter_read_energy(m1, &e), JB_ELOST);
    assert_non_null(
        strstr(jb_meter_errmsg(m1), "nvmlDeviceGetTotalEnergyConsumption: GPU is lost"));
    assert_int_equal(jb_meter_read_sample(m0, &s), 0);
    assert_int_equal(jb_meter_read_energy(m0, &e), 0);

    /* Another failure mid-run is an I/O error naming the call and NVML's text. */
    fake_set_fail("nvmlDeviceGetTemperature@0=999");
    assert_int_equal(jb_meter_read_sample(m0, &s), JB_EIO);
    assert_string_equal(jb_meter_errmsg(m0),
                        "gpu0: nvmlDeviceGetTemperature failed: Unknown Error");
    fake_set_fail("");
    assert_int_equal(jb_meter_read_sample(m0, &s), 0);
    drop(set);

    /* FAKE_NVML_LOST_AFTER: the GPU goes after some calls; reads end with JB_ELOST. */
    setenv("FAKE_NVML_LOST_AFTER", "40", 1);
    set = set_with("gpu", 0);
    m0 = jb_meter_set_get(set, 0);
    {
        int rc = 0;
        for (int i = 0; i < 40 && rc == 0; i++)
            rc = jb_meter_read_sample(m0, &s);
        assert_int_equal(rc, JB_ELOST);
    }
    assert_int_equal(jb_meter_read_energy(m0, &e), JB_ELOST);
    drop(set);

    /* Lost while being opened: the add fails. */
    setenv("FAKE_NVML_LOST_AFTER", "3", 1);
    set = set_with("gpu", JB_ELOST);
    assert_non_null(strstr(jb_meter_set_errmsg(set), "gpu0 (Fake NVIDIA H100 80GB HBM3) was lost"));
    drop(set);
    set = set_with("auto", 0); /* optional: a note */
    assert_int_equal(jb_meter_set_count(set), 0);
    assert_true(has_note(set, "gpu0 (Fake NVIDIA H100 80GB HBM3) was lost while being opened"));
    drop(set);
}

static void test_handle_denied_is_skipped(void **state)
{
    struct jb_meter_set *set;
    (void)state;

    /* A GPU that a cgroup keeps from this process: skipped under "gpu", an error as "gpu0". */
    setenv("FAKE_NVML_GPUS", "2", 1);
    setenv("FAKE_NVML_FAIL", "nvmlDeviceGetHandleByIndex_v2@0=4", 1);
    set = set_with("gpu", 0);
    assert_int_equal(jb_meter_set_count(set), 1);
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 0))->id, "gpu1");
    assert_true(has_note(set, "gpu0 skipped: nvmlDeviceGetHandleByIndex failed: Insufficient "
                              "Permissions"));
    assert_int_equal(jb_meter_set_add(set, "gpu0"), JB_ENODEV);
    drop(set);
}

static int count_lines(const char *path, const char *line)
{
    FILE *f = fopen(path, "r");
    char buf[64];
    int n = 0;

    if (!f)
        return 0;
    while (fgets(buf, sizeof(buf), f)) {
        buf[strcspn(buf, "\n")] = '\0';
        n += !strcmp(buf, line);
    }
    fclose(f);
    return n;
}

static void test_init_once_shutdown_last(void **state)
{
    char log[] = "/tmp/jb-fake-nvml-log-XXXXXX";
    struct jb_meter_set *a, *b;
    int fd = mkstemp(log);
    (void)state;

    assert_true(fd >= 0);
    close(fd);
    setenv("FAKE_NVML_LOG", log, 1);
    setenv("FAKE_NVML_GPUS", "2", 1);
    a = set_with("gpu", 0);
    b = set_with("gpu1", 0);
    assert_int_equal(count_lines(log, "init"), 1);
    drop(a);
    assert_int_equal(count_lines(log, "shutdown"), 0);
    drop(b);
    assert_int_equal(count_lines(log, "init"), 1);
    assert_int_equal(count_lines(log, "shutdown"), 1);
    /* ...and the library is closed. */
    assert_null(dlopen(fake_lib, RTLD_NOW | RTLD_NOLOAD));
    unlink(log);
}

struct reader {
    struct jb_meter *m;
    int energy;
    int failures;
    double last_j;
    int backwards;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;

    for (int i = 0; i < 300; i++) {
        if (r->energy) {
            struct jb_energy e;
            if (jb_meter_read_energy(r->m, &e) < 0)
                r->failures++;
            else if (e.energy_j < r->last_j)
                r->backwards++;
            else
                r->last_j = e.energy_j;
        } else {
            struct jb_sample s;
            r->failures += jb_meter_read_sample(r->m, &s) < 0;
        }
    }
    return NULL;
}

static void test_concurrent_reads(void **state)
{
    struct jb_meter_set *set;
    struct reader r[3];
    pthread_t t[3];
    (void)state;

    set = set_with("gpu", 0);
    memset(r, 0, sizeof(r));
    for (int i = 0; i < 3; i++) {
        r[i].m = jb_meter_set_get(set, 0);
        r[i].energy = i > 0; /* one sampler, two energy readers */
        assert_int_equal(pthread_create(&t[i], NULL, reader_main, &r[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(r[i].failures, 0);
        assert_int_equal(r[i].backwards, 0);
    }
    /* 600 energy reads after the origin, 1.5 J each, whatever the interleaving. */
    {
        struct jb_energy e;
        assert_int_equal(jb_meter_read_energy(jb_meter_set_get(set, 0), &e), 0);
        assert_true(e.energy_j == 601 * 1.5);
    }
    drop(set);
}

/*
 * No setter: the backend's source names no NVML function that changes state, and the fake offers
 * none (a setter the backend resolved would be missing, not called).
 */
static void test_no_setters(void **state)
{
    static const char *const banned[] = {"Set",     "Reset",  "Clear",  "Register", "Enable",
                                         "Disable", "Modify", "Create", "Destroy",  "Issue"};
    const char *src_dir = getenv("JB_SOURCE_DIR");
    char path[4096];
    FILE *f;
    char *text;
    long len;
    int names = 0;
    (void)state;

    assert_non_null(src_dir);
    snprintf(path, sizeof(path), "%s/src/lib/gpu_nvml.c", src_dir);
    f = fopen(path, "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);
    text = calloc(1, (size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    for (const char *p = text; (p = strstr(p, "\"nvml")); p++) {
        char name[128];
        size_t n = 0;
        p++;
        while (n < sizeof(name) - 1 && (isalnum((unsigned char)p[n]) || p[n] == '_')) {
            name[n] = p[n];
            n++;
        }
        name[n] = '\0';
        names++;
        for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
            if (strstr(name, banned[i]))
                fail_msg("gpu_nvml.c names NVML function '%s', which changes state", name);
    }
    free(text);
    assert_true(names >= 20); /* the scan saw the symbol table */

    {
        void *h = dlopen(fake_lib, RTLD_NOW | RTLD_LOCAL);
        assert_non_null(h);
        assert_null(dlsym(h, "nvmlDeviceSetPowerManagementLimit"));
        assert_null(dlsym(h, "nvmlDeviceSetApplicationsClocks"));
        assert_non_null(dlsym(h, "nvmlDeviceGetPowerUsage"));
        dlclose(h);
    }
}

int main(void)
{
    const char *dir = getenv("JB_FAKE_DIR");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_discovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_sample, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batched_power, setup, teardown),
        cmocka_unit_test_setup_teardown(test_energy_since_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_energy_backwards_is_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cvd_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cvd_uuid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cvd_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cvd_mig, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_not_present, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_library, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_fails_and_no_gpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_supported_clears_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_library, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gpu_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handle_denied_is_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_once_shutdown_last, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_setters, setup, teardown),
    };

    if (!dir) {
        fprintf(stderr, "test_gpu_nvml: JB_FAKE_DIR is not set (run through ctest)\n");
        return 1;
    }
    snprintf(fake_lib, sizeof(fake_lib), "%s/libfake_nvml.so", dir);
    snprintf(fake_old_lib, sizeof(fake_old_lib), "%s/libfake_nvml_old.so", dir);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
