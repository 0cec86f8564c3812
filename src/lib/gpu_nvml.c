/*
 * gpu_nvml.c - NVIDIA GPUs through NVML: discovery, capabilities, gauges and the energy counter.
 *
 * libnvidia-ml.so.1 is loaded with dlopen (JOULEBENCH_NVML_LIB overrides the path, for tests), so
 * joulebench builds and runs without the NVIDIA driver or any NVIDIA header: the few NVML types
 * and constants used are declared in nvml_abi.h, and versioned symbols are tried newest first, as nvtop
 * does.  NVML is initialised once per process however many meters use it (a reference count) and
 * shut down, and the library closed, when the last meter closes.  This file only reads: it calls
 * no NVML setter (power limits, clocks, persistence, reset), and tests/unit/test_gpu_nvml.c checks
 * that.  It is not a general NVML wrapper: it reads what a jb_sample and jb_energy hold and the
 * static facts of jb_meter_info.  See docs/nvml-backend.md.
 */
#include "gpu_cvd.h"
#include "meter.h"
#include "nvml_abi.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the loaded library (one per process) --------------------------------------------- */

struct nvml_lib {
    int refs; /* meters (and discoveries in progress) using it */
    void *dl;
    int pci_version; /* 3, 2 or 1: which nvmlDeviceGetPciInfo was found */
    int (*init)(void);
    int (*shutdown)(void);
    const char *(*error_string)(int);
    int (*get_count)(unsigned int *);
    int (*get_handle_by_index)(unsigned int, struct nvml_device **);
    int (*get_name)(struct nvml_device *, char *, unsigned int);
    int (*get_uuid)(struct nvml_device *, char *, unsigned int);
    int (*get_pci_info)(struct nvml_device *, struct nvml_pci_info *);
    int (*get_driver_version)(char *, unsigned int);
    int (*get_enforced_power_limit)(struct nvml_device *, unsigned int *);
    int (*get_memory_info)(struct nvml_device *, struct nvml_memory *);
    int (*get_total_energy)(struct nvml_device *, unsigned long long *);
    int (*get_power_usage)(struct nvml_device *, unsigned int *);
    int (*get_field_values)(struct nvml_device *, int, struct nvml_field_value *);
    int (*get_temperature)(struct nvml_device *, int, unsigned int *);
    int (*get_utilization)(struct nvml_device *, struct nvml_utilization *);
    int (*get_clock_info)(struct nvml_device *, int, unsigned int *);
    int (*get_clock_reasons)(struct nvml_device *, unsigned long long *);
};

static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nvml_lib lib;

/*
 * Stores the first of `names` that the library exports into the function pointer at dst and
 * returns its position in `names` (0 = newest), or -1 when none is there (dst is then NULL).
 * POSIX guarantees that a data pointer from dlsym converts to a function pointer.
 */
static int load_sym(void *dst, const char *const *names)
{
    void *p = NULL;
    int i;

    for (i = 0; names[i]; i++) {
        p = dlsym(lib.dl, names[i]);
        if (p)
            break;
    }
    memcpy(dst, &p, sizeof(p));
    return p ? i : -1;
}

#define LOAD(field, ...) load_sym(&lib.field, (const char *const[]){__VA_ARGS__, NULL})

static const char *nvml_strerror(int rc)
{
    const char *s = lib.error_string ? lib.error_string(rc) : NULL;

    return s ? s : "unknown NVML error";
}

/* Codes after which the device cannot be read again in this run. */
static int is_lost(int rc)
{
    return rc == NVML_ERROR_GPU_IS_LOST || rc == NVML_ERROR_RESET_REQUIRED ||
           rc == NVML_ERROR_GPU_NOT_FOUND || rc == NVML_ERROR_DRIVER_NOT_LOADED ||
           rc == NVML_ERROR_UNINITIALIZED;
}

/* Loads and initialises NVML, or takes one more reference.  On failure writes why to `why`. */
static int lib_acquire(char *why, size_t whylen)
{
    const char *path = getenv("JOULEBENCH_NVML_LIB");
    int rc = 0, nv;

    if (!path || !*path)
        path = "libnvidia-ml.so.1";
    pthread_mutex_lock(&lib_lock);
    if (lib.refs > 0) {
        lib.refs++;
        goto out;
    }
    memset(&lib, 0, sizeof(lib));
    lib.dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib.dl) {
        const char *e = dlerror();
        snprintf(why, whylen, "cannot load '%s': %s (is the NVIDIA driver installed?)", path,
                 e ? e : "unknown reason");
        rc = JB_ELIB;
        goto out;
    }
    LOAD(init, "nvmlInit_v2", "nvmlInit");
    LOAD(shutdown, "nvmlShutdown");
    LOAD(error_string, "nvmlErrorString");
    LOAD(get_count, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
    LOAD(get_handle_by_index, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex");
    LOAD(get_name, "nvmlDeviceGetName");
    LOAD(get_uuid, "nvmlDeviceGetUUID");
    lib.pci_version = 3 - LOAD(get_pci_info, "nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2",
                               "nvmlDeviceGetPciInfo");
    LOAD(get_driver_version, "nvmlSystemGetDriverVersion");
    LOAD(get_enforced_power_limit, "nvmlDeviceGetEnforcedPowerLimit");
    LOAD(get_memory_info, "nvmlDeviceGetMemoryInfo");
    LOAD(get_total_energy, "nvmlDeviceGetTotalEnergyConsumption");
    LOAD(get_power_usage, "nvmlDeviceGetPowerUsage");
    LOAD(get_field_values, "nvmlDeviceGetFieldValues");
    LOAD(get_temperature, "nvmlDeviceGetTemperature");
    LOAD(get_utilization, "nvmlDeviceGetUtilizationRates");
    LOAD(get_clock_info, "nvmlDeviceGetClockInfo");
    LOAD(get_clock_reasons, "nvmlDeviceGetCurrentClocksEventReasons",
         "nvmlDeviceGetCurrentClocksThrottleReasons");
    if (!lib.init || !lib.shutdown || !lib.get_count || !lib.get_handle_by_index) {
        snprintf(why, whylen,
                 "'%s' lacks nvmlInit, nvmlShutdown, nvmlDeviceGetCount or "
                 "nvmlDeviceGetHandleByIndex (not an NVML library?)",
                 path);
        rc = JB_ELIB;
        goto fail;
    }
    nv = lib.init();
    if (nv != NVML_SUCCESS) {
        snprintf(why, whylen, "nvmlInit failed: %s (is the NVIDIA kernel driver loaded?)",
                 nvml_strerror(nv));
        rc = JB_ENODEV;
        goto fail;
    }
    lib.refs = 1;
    goto out;
fail:
    dlclose(lib.dl);
    memset(&lib, 0, sizeof(lib));
out:
    pthread_mutex_unlock(&lib_lock);
    return rc;
}

static void lib_release(void)
{
    pthread_mutex_lock(&lib_lock);
    if (lib.refs > 0 && --lib.refs == 0) {
        lib.shutdown();
        dlclose(lib.dl);
        memset(&lib, 0, sizeof(lib));
    }
    pthread_mutex_unlock(&lib_lock);
}

/* ---- one GPU -------------------------------------------------------------------------- */

struct nvml_gpu {
    struct nvml_device *dev;
    /* The energy counter's state, touched only by nvml_read_energy, which may be called from
     * more than one thread (the sampler's energy thread and jb_sampler_read_energy_now). */
    pthread_mutex_t energy_lock;
    unsigned long long origin_mj; /* counter value when the meter was opened */
    unsigned long long last_mj;   /* last value read */
    /* Both power readings come from one nvmlDeviceGetFieldValues call (fields 185 and 186),
     * where the driver has both and field 185 agrees with nvmlDeviceGetPowerUsage. */
    int batch_power;
};

/* Turns a failed NVML call on a meter into a JB_E* code and message. */
static int read_fail(struct jb_meter *m, struct jb_errbuf *err, const char *fn, int rc)
{
    if (is_lost(rc))
        return jb__err(err, JB_ELOST,
                       "%s (%s) was lost: %s: %s (the GPU fell off the bus, was reset or the "
                       "driver was unloaded; see 'dmesg' for Xid errors)",
                       m->info.id, m->info.name, fn, nvml_strerror(rc));
    return jb__err(err, JB_EIO, "%s: %s failed: %s", m->info.id, fn, nvml_strerror(rc));
}

/* A field value as a double; -1 when the type is not numeric. */
static int field_to_double(const struct nvml_field_value *fv, double *out)
{
    switch (fv->value_type) {
    case NVML_VALUE_TYPE_DOUBLE: *out = fv->value.d; return 0;
    case NVML_VALUE_TYPE_UNSIGNED_INT: *out = fv->value.ui; return 0;
    case NVML_VALUE_TYPE_UNSIGNED_LONG: *out = (double)fv->value.ul; return 0;
    case NVML_VALUE_TYPE_UNSIGNED_LONG_LONG: *out = (double)fv->value.ull; return 0;
    case NVML_VALUE_TYPE_SIGNED_LONG_LONG: *out = (double)fv->value.sll; return 0;
    case NVML_VALUE_TYPE_SIGNED_INT: *out = fv->value.si; return 0;
    case NVML_VALUE_TYPE_UNSIGNED_SHORT: *out = fv->value.us; return 0;
    }
    return -1;
}

/* Reads the instant power field: NVML's return code, or the field's own. */
static int read_instant_mw(struct nvml_device *dev, double *mw)
{
    struct nvml_field_value fv;
    int rc;

    memset(&fv, 0, sizeof(fv));
    fv.field_id = NVML_FI_DEV_POWER_INSTANT;
    rc = lib.get_field_values(dev, 1, &fv);
    if (rc != NVML_SUCCESS)
        return rc;
    if (fv.nvml_return != NVML_SUCCESS)
        return fv.nvml_return;
    return field_to_double(&fv, mw) < 0 ? NVML_ERROR_NOT_SUPPORTED : NVML_SUCCESS;
}

/* Reads the power fields asked for (JB_CAP_POWER: 185, JB_CAP_POWER_INSTANT: 186) in one call;
 * NVML's return code, or the first field's own. */
static int read_power_fields(struct nvml_device *dev, uint32_t caps, double *avg_mw,
                             double *inst_mw)
{
    struct nvml_field_value fv[2];
    int rc, n = 0, ia = -1;

    memset(fv, 0, sizeof(fv));
    if (caps & JB_CAP_POWER) {
        ia = n;
        fv[n++].field_id = NVML_FI_DEV_POWER_AVERAGE;
    }
    if (caps & JB_CAP_POWER_INSTANT)
        fv[n++].field_id = NVML_FI_DEV_POWER_INSTANT;
    if (!n)
        return NVML_SUCCESS;
    rc = lib.get_field_values(dev, n, fv);
    if (rc != NVML_SUCCESS)
        return rc;
    for (int i = 0; i < n; i++) {
        if (fv[i].nvml_return != NVML_SUCCESS)
            return fv[i].nvml_return;
        if (field_to_double(&fv[i], i == ia ? avg_mw : inst_mw) < 0)
            return NVML_ERROR_NOT_SUPPORTED;
    }
    return NVML_SUCCESS;
}

/*
 * Reads the cheap gauges (each well under a millisecond): never the energy counter.  Touches no
 * state of the meter, so it may run beside nvml_read_energy.  Any failed read fails the sample:
 * a device that stops answering mid-run is a fault to report, not a value to leave out.
 */
static int nvml_read_sample(struct jb_meter *m, struct jb_sample *s, struct jb_errbuf *err)
{
    const struct nvml_gpu *g = m->priv;
    uint32_t caps = m->info.caps & m->read_mask;
    uint64_t t0 = jb_now_ns();
    int rc;

    if (g->batch_power && (caps & (JB_CAP_POWER | JB_CAP_POWER_INSTANT))) {
        double avg_mw = 0, inst_mw = 0;
        if ((rc = read_power_fields(g->dev, caps, &avg_mw, &inst_mw)) != NVML_SUCCESS)
            return read_fail(m, err, "nvmlDeviceGetFieldValues(POWER_AVERAGE, POWER_INSTANT)", rc);
        s->power_w = avg_mw / 1000.0;
        s->power_instant_w = inst_mw / 1000.0;
        s->valid |= caps & (JB_CAP_POWER | JB_CAP_POWER_INSTANT);
        caps &= ~(JB_CAP_POWER | JB_CAP_POWER_INSTANT);
    }
    if (caps & JB_CAP_POWER) {
        unsigned int mw;
        if ((rc = lib.get_power_usage(g->dev, &mw)) != NVML_SUCCESS)
            return read_fail(m, err, "nvmlDeviceGetPowerUsage", rc);
        s->power_w = mw / 1000.0;
        s->valid |= JB_CAP_POWER;
    }
    if (caps & JB_CAP_POWER_INSTANT) {
        double mw;
        if ((rc = read_instant_mw(g->dev, &mw)) != NVML_SUCCESS)
            return read_fail(m, err, "nvmlDeviceGetFieldValues(POWER_INSTANT)", rc);
        s->power_instant_w = mw / 1000.0;
        s->valid |= JB_CAP_POWER_INSTANT;
    }
    if (caps & JB_CAP_TEMP) {
        unsigned int c;
        if ((rc = lib.get_temperature(g->dev, NVML_TEMPERATURE_GPU, &c)) != NVML_SUCCESS)
            return read_fail(m, err, "nvmlDeviceGetTemperature", rc);
        s->temp_c = c;
        s->valid |= JB_CAP_TEMP;
    }
    if (caps & (JB_CAP_UTIL | JB_CAP_MEM_UTIL)) {
        struct nvml_utilization u;
        if ((rc = lib.get_utilization(g->dev, &u)) != NVML_SUCCESS)
            return read_fail(m, err, "nvmlDeviceGetUtilizationRates", rc);
        s->util_pct = u.gpu;
        s->mem_util_pct = u.memory;
        s->valid |= caps & (JB_CAP_UTIL | JB_CAP_MEM_UTIL);
    }
    if (caps & JB_CAP_MEM_USED) {
        struct nvml_memory mem;
        if ((rc = lib.get_memory_info(g->dev, &mem)) != NVML_SUCCESS)
            return read_fail(m, err, "nvmlDeviceGetMemoryInfo", rc);
        s->mem_used_mib = (double)mem.used / (1024.0 * 1024.0);
        s->valid |= JB_CAP_MEM_USED;
    }
    if (caps & JB_CAP_SM_CLOCK) {
        unsigned int mhz;
        if ((rc = lib.get_clock_info(g->dev, NVML_CLOCK_SM, &mhz)) != NVML_SUCCESS)
            return read_fail(m, err, "nvmlDeviceGetClockInfo(SM)", rc);
        s->sm_clock_mhz = mhz;
        s->valid |= JB_CAP_SM_CLOCK;
    }
    if (caps & JB_CAP_MEM_CLOCK) {
        unsigned int mhz;
        if ((rc = lib.get_clock_info(g->dev, NVML_CLOCK_MEM, &mhz)) != NVML_SUCCESS)
            return read_fail(m, err, "nvmlDeviceGetClockInfo(MEM)", rc);
        s->mem_clock_mhz = mhz;
        s->valid |= JB_CAP_MEM_CLOCK;
    }
    if (caps & JB_CAP_THROTTLE) {
        unsigned long long reasons;
        if ((rc = lib.get_clock_reasons(g->dev, &reasons)) != NVML_SUCCESS)
            return read_fail(m, err, "nvmlDeviceGetCurrentClocksEventReasons", rc);
        s->throttle_reasons = reasons;
        s->valid |= JB_CAP_THROTTLE;
    }
    /* Several calls: the middle of them is the best estimate of when the values were taken. */
    s->t_mono_ns = t0 + (jb_now_ns() - t0) / 2;
    return 0;
}

/*
 * The counter is millijoules since the driver loaded; we report joules since the meter opened.
 * It never wraps in practice (2^64 mJ), so a smaller value than the last one means the driver was
 * reloaded or the GPU reset: the energy in between is unknown, so rather than quietly starting a
 * new origin (which would under-count) the read fails with JB_ELOST.  The reading's time is the
 * midpoint of the call, which takes milliseconds.
 */
static int nvml_read_energy(struct jb_meter *m, struct jb_energy *e, struct jb_errbuf *err)
{
    struct nvml_gpu *g = m->priv;
    unsigned long long mj;
    uint64_t t0, t1;
    int rc, ret = 0;

    pthread_mutex_lock(&g->energy_lock);
    t0 = jb_now_ns();
    rc = lib.get_total_energy(g->dev, &mj);
    t1 = jb_now_ns();
    if (rc != NVML_SUCCESS) {
        ret = read_fail(m, err, "nvmlDeviceGetTotalEnergyConsumption", rc);
        goto out;
    }
    if (mj < g->last_mj) {
        ret = jb__err(err, JB_ELOST,
                      "%s: energy counter went backwards (%llu mJ after %llu mJ): the driver was "
                      "reloaded or the GPU reset, so the energy since then is unknown",
                      m->info.id, mj, g->last_mj);
        goto out;
    }
    g->last_mj = mj;
    e->t_mono_ns = t0 + (t1 - t0) / 2;
    e->energy_j = (double)(mj - g->origin_mj) / 1000.0;
out:
    pthread_mutex_unlock(&g->energy_lock);
    return ret;
}

static void nvml_close(struct jb_meter *m)
{
    struct nvml_gpu *g = m->priv;

    if (!g)
        return;
    pthread_mutex_destroy(&g->energy_lock);
    free(g);
    m->priv = NULL;
    lib_release();
}

static const struct jb_meter_ops nvml_ops = {nvml_read_sample, nvml_read_energy, nvml_close};

/* ---- discovery ------------------------------------------------------------------------ */

/* Outcome of one probe: 1 when the capability is there; 0 when not; JB_ELOST when lost.  A
 * failure other than "not supported" (e.g. no permission) also clears it, with a note. */
static int probe(struct jb_meter_set *set, int index, const char *what, int have, int rc)
{
    if (!have)
        return 0;
    if (rc == NVML_SUCCESS)
        return 1;
    if (is_lost(rc))
        return JB_ELOST;
    if (rc != NVML_ERROR_NOT_SUPPORTED && rc != NVML_ERROR_FUNCTION_NOT_FOUND)
        jb__meter_set_notef(set, "gpu%d: %s not read: %s", index, what, nvml_strerror(rc));
    return 0;
}

/*
 * Capability probes, one real read each: an NVML return code, NVML_ERROR_FUNCTION_NOT_FOUND when
 * the library lacks the symbol.  A probe may fill static facts (memory total, the counter's
 * origin) on success.
 */
static int probe_energy(struct nvml_device *dev, struct jb_meter_info *info, struct nvml_gpu *g)
{
    unsigned long long mj = 0;
    int rc;

    (void)info;
    if (!lib.get_total_energy)
        return NVML_ERROR_FUNCTION_NOT_FOUND;
    rc = lib.get_total_energy(dev, &mj);
    if (rc == NVML_SUCCESS)
        g->origin_mj = g->last_mj = mj;
    return rc;
}

static int probe_power(struct nvml_device *dev, struct jb_meter_info *info, struct nvml_gpu *g)
{
    unsigned int mw;

    (void)info;
    (void)g;
    return lib.get_power_usage ? lib.get_power_usage(dev, &mw) : NVML_ERROR_FUNCTION_NOT_FOUND;
}

static int probe_instant(struct nvml_device *dev, struct jb_meter_info *info, struct nvml_gpu *g)
{
    double mw;

    (void)info;
    (void)g;
    return lib.get_field_values ? read_instant_mw(dev, &mw) : NVML_ERROR_FUNCTION_NOT_FOUND;
}

static int probe_temp(struct nvml_device *dev, struct jb_meter_info *info, struct nvml_gpu *g)
{
    unsigned int c;

    (void)info;
    (void)g;
    return lib.get_temperature ? lib.get_temperature(dev, NVML_TEMPERATURE_GPU, &c)
                               : NVML_ERROR_FUNCTION_NOT_FOUND;
}

static int probe_util(struct nvml_device *dev, struct jb_meter_info *info, struct nvml_gpu *g)
{
    struct nvml_utilization u;

    (void)info;
    (void)g;
    return lib.get_utilization ? lib.get_utilization(dev, &u) : NVML_ERROR_FUNCTION_NOT_FOUND;
}

static int probe_memory(struct nvml_device *dev, struct jb_meter_info *info, struct nvml_gpu *g)
{
    struct nvml_memory mem;
    int rc;

    (void)g;
    if (!lib.get_memory_info)
        return NVML_ERROR_FUNCTION_NOT_FOUND;
    rc = lib.get_memory_info(dev, &mem);
    if (rc == NVML_SUCCESS) {
        info->memory_total_mib = (double)mem.total / (1024.0 * 1024.0);
        info->valid |= JB_INFO_MEMORY_TOTAL;
    }
    return rc;
}

static int probe_clock(struct nvml_device *dev, int which)
{
    unsigned int mhz;

    return lib.get_clock_info ? lib.get_clock_info(dev, which, &mhz)
                              : NVML_ERROR_FUNCTION_NOT_FOUND;
}

static int probe_sm_clock(struct nvml_device *dev, struct jb_meter_info *info, struct nvml_gpu *g)
{
    (void)info;
    (void)g;
    return probe_clock(dev, NVML_CLOCK_SM);
}

static int probe_mem_clock(struct nvml_device *dev, struct jb_meter_info *info, struct nvml_gpu *g)
{
    (void)info;
    (void)g;
    return probe_clock(dev, NVML_CLOCK_MEM);
}

static int probe_reasons(struct nvml_device *dev, struct jb_meter_info *info, struct nvml_gpu *g)
{
    unsigned long long r;

    (void)info;
    (void)g;
    return lib.get_clock_reasons ? lib.get_clock_reasons(dev, &r) : NVML_ERROR_FUNCTION_NOT_FOUND;
}

typedef int (*probe_fn)(struct nvml_device *dev, struct jb_meter_info *info, struct nvml_gpu *g);

static const struct {
    uint32_t caps;
    const char *what; /* in the note when a probe fails other than "not supported" */
    probe_fn run;
} probes[] = {
    {JB_CAP_ENERGY, "energy counter", probe_energy},
    {JB_CAP_POWER, "power", probe_power},
    {JB_CAP_POWER_INSTANT, "instant power", probe_instant},
    {JB_CAP_TEMP, "temperature", probe_temp},
    {JB_CAP_UTIL | JB_CAP_MEM_UTIL, "utilisation", probe_util},
    {JB_CAP_MEM_USED, "memory", probe_memory},
    {JB_CAP_SM_CLOCK, "SM clock", probe_sm_clock},
    {JB_CAP_MEM_CLOCK, "memory clock", probe_mem_clock},
    {JB_CAP_THROTTLE, "clock event reasons", probe_reasons},
};

/*
 * Whether both power readings can come from one nvmlDeviceGetFieldValues call: the driver gives
 * fields 185 (the 1 s average) and 186 (instant) together, and 185 agrees with
 * nvmlDeviceGetPowerUsage (within 5% + 5 W, read back to back), so power_w means what it always
 * meant.  JOULEBENCH_NVML_BATCH=0 turns it off (to measure the difference).
 */
static void probe_batch(struct nvml_device *dev, const struct jb_meter_info *info,
                        struct nvml_gpu *g)
{
    const char *env = getenv("JOULEBENCH_NVML_BATCH");
    double avg_mw = 0, inst_mw = 0;
    unsigned int mw;

    g->batch_power = 0;
    if ((env && !strcmp(env, "0")) || !lib.get_field_values || !lib.get_power_usage ||
        (info->caps & (JB_CAP_POWER | JB_CAP_POWER_INSTANT)) !=
            (JB_CAP_POWER | JB_CAP_POWER_INSTANT))
        return;
    if (read_power_fields(dev, JB_CAP_POWER | JB_CAP_POWER_INSTANT, &avg_mw, &inst_mw) !=
            NVML_SUCCESS ||
        lib.get_power_usage(dev, &mw) != NVML_SUCCESS)
        return;
    if (fabs(avg_mw - (double)mw) <= 0.05 * (double)mw + 5000)
        g->batch_power = 1;
}

/*
 * Opens the GPU of NVML index `index`: its static facts and, once, which readings it gives.
 * Appends the meter and returns 0, or returns a negative code with a message on the set.
 */
static int open_gpu(struct jb_meter_set *set, int index, struct nvml_device *dev)
{
    struct jb_meter *m = NULL;
    struct nvml_gpu *g = NULL;
    struct jb_meter_info *info;
    char buf[NVML_NAME_LEN > NVML_DRIVER_LEN ? NVML_NAME_LEN : NVML_DRIVER_LEN];
    int rc = 0, p;

    m = jb__meter_new(&nvml_ops);
    g = calloc(1, sizeof(*g));
    if (!m || !g) {
        free(g);
        jb__meter_free(m);
        return jb__meter_set_fail(set, JB_ENOMEM, "out of memory");
    }
    /* The meter holds its own reference to the library, dropped by nvml_close. */
    if (lib_acquire(buf, sizeof(buf)) < 0) { /* cannot fail: discovery holds one */
        free(g);
        jb__meter_free(m);
        return jb__meter_set_fail(set, JB_ELIB, "NVML went away while adding gpu%d", index);
    }
    pthread_mutex_init(&g->energy_lock, NULL);
    g->dev = dev;
    m->priv = g;
    info = &m->info;
    snprintf(info->id, sizeof(info->id), "gpu%d", index);
    info->kind = JB_KIND_GPU;
    jb__strlcpy(info->source, "nvml", sizeof(info->source));
    info->device_index = index;

    if (lib.get_name && lib.get_name(dev, buf, NVML_NAME_LEN) == NVML_SUCCESS)
        jb__strlcpy(info->name, buf, sizeof(info->name));
    else
        snprintf(info->name, sizeof(info->name), "NVIDIA GPU %d", index);
    if (lib.get_uuid && lib.get_uuid(dev, buf, NVML_UUID_LEN) == NVML_SUCCESS)
        jb__strlcpy(info->uuid, buf, sizeof(info->uuid));
    if (lib.get_pci_info) {
        struct nvml_pci_info pci;
        memset(&pci, 0, sizeof(pci));
        if (lib.get_pci_info(dev, &pci) == NVML_SUCCESS) {
            pci.bus_id[sizeof(pci.bus_id) - 1] = '\0';
            pci.bus_id_legacy[sizeof(pci.bus_id_legacy) - 1] = '\0';
            jb__strlcpy(info->pci_bus_id, lib.pci_version >= 2 ? pci.bus_id : pci.bus_id_legacy,
                        sizeof(info->pci_bus_id));
        }
    }
    if (lib.get_driver_version && lib.get_driver_version(buf, NVML_DRIVER_LEN) == NVML_SUCCESS)
        jb__strlcpy(info->driver, buf, sizeof(info->driver));
    {
        unsigned int mw;
        if (lib.get_enforced_power_limit &&
            lib.get_enforced_power_limit(dev, &mw) == NVML_SUCCESS) {
            info->power_limit_w = mw / 1000.0;
            info->valid |= JB_INFO_POWER_LIMIT;
        }
    }

    /* Capabilities, each probed once by a real read (the table above). */
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        int nv = probes[i].run(dev, info, g);
        p = probe(set, index, probes[i].what, nv != NVML_ERROR_FUNCTION_NOT_FOUND, nv);
        if (p < 0)
            goto lost;
        if (p)
            info->caps |= probes[i].caps;
    }
    probe_batch(dev, info, g);
    return jb__meter_set_append(set, m);
lost:
    rc = jb__meter_set_fail(set, JB_ELOST, "gpu%d (%s) was lost while being opened", index,
                            info->name);
    jb__meter_free(m);
    return rc;
}

/* "No GPU": a note when optional (returns 0), else a failure. */
static int no_gpu(struct jb_meter_set *set, int optional, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int no_gpu(struct jb_meter_set *set, int optional, const char *fmt, ...)
{
    char why[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (optional) {
        jb__meter_set_notef(set, "no NVIDIA GPU found: %s", why);
        return 0;
    }
    return jb__meter_set_fail(set, JB_ENODEV, "no NVIDIA GPU found: %s", why);
}

int jb__nvml_add(struct jb_meter_set *set, int index, int optional)
{
    const char *cvd = getenv("CUDA_VISIBLE_DEVICES");
    struct nvml_device **dev = NULL;
    char(*uuid)[NVML_UUID_LEN] = NULL;
    unsigned char *visible = NULL;
    int *handle_rc = NULL;
    char why[512];
    unsigned int count = 0;
    int rc, n_visible, added = 0;

    if (lib_acquire(why, sizeof(why)) < 0)
        return no_gpu(set, optional, "%s", why);
    rc = lib.get_count(&count);
    if (rc != NVML_SUCCESS) {
        rc = no_gpu(set, optional, "nvmlDeviceGetCount failed: %s", nvml_strerror(rc));
        goto out;
    }
    if (count == 0) {
        rc = no_gpu(set, optional, "the NVIDIA driver reports no GPU");
        goto out;
    }
    if (count > 4096)
        count = 4096;
    dev = calloc(count, sizeof(*dev));
    uuid = calloc(count, sizeof(*uuid));
    visible = calloc(count, 1);
    handle_rc = calloc(count, sizeof(*handle_rc));
    if (!dev || !uuid || !visible || !handle_rc) {
        rc = jb__meter_set_fail(set, JB_ENOMEM, "out of memory");
        goto out;
    }
    for (unsigned int i = 0; i < count; i++) {
        handle_rc[i] = lib.get_handle_by_index(i, &dev[i]);
        if (handle_rc[i] == NVML_SUCCESS && lib.get_uuid &&
            lib.get_uuid(dev[i], uuid[i], NVML_UUID_LEN) != NVML_SUCCESS)
            uuid[i][0] = '\0';
        uuid[i][NVML_UUID_LEN - 1] = '\0';
    }
    n_visible = jb__cvd_parse(set, cvd, (int)count, uuid, visible);

    if (index >= 0) {
        if ((unsigned int)index >= count) {
            rc = no_gpu(set, 0, "gpu%d: there is no GPU of NVML index %d (the driver reports %u)",
                        index, index, count);
            goto out;
        }
        if (!visible[index]) {
            rc = no_gpu(set, 0, "gpu%d is hidden by CUDA_VISIBLE_DEVICES='%s'", index, cvd);
            goto out;
        }
        if (handle_rc[index] != NVML_SUCCESS) {
            rc = no_gpu(set, 0, "gpu%d: nvmlDeviceGetHandleByIndex failed: %s", index,
                        nvml_strerror(handle_rc[index]));
            goto out;
        }
        rc = open_gpu(set, index, dev[index]);
        goto out;
    }
    if (n_visible == 0) {
        rc = no_gpu(set, optional, "CUDA_VISIBLE_DEVICES='%s' hides all %u GPUs", cvd, count);
        goto out;
    }
    rc = 0;
    for (unsigned int i = 0; i < count; i++) {
        if (!visible[i])
            continue;
        if (handle_rc[i] != NVML_SUCCESS) {
            /* Typically a GPU that a cgroup (Slurm, containers) keeps from this process. */
            jb__meter_set_notef(set, "gpu%u skipped: nvmlDeviceGetHandleByIndex failed: %s", i,
                                nvml_strerror(handle_rc[i]));
            continue;
        }
        rc = open_gpu(set, (int)i, dev[i]);
        if (rc == JB_ELOST && optional) {
            jb__meter_set_notef(set, "%s", jb_meter_set_errmsg(set));
            rc = 0;
            continue;
        }
        if (rc < 0)
            goto out;
        added++;
    }
    if (!added)
        rc = no_gpu(set, optional, "none of the %d visible GPUs could be opened", n_visible);
out:
    free(dev);
    free(uuid);
    free(visible);
    free(handle_rc);
    lib_release();
    return rc;
}
