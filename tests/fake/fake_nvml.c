/*
 * fake_nvml.c - a fake libnvidia-ml.so.1 for the NVML backend's tests (built as
 * $JB_FAKE_DIR/libfake_nvml.so; load it with JOULEBENCH_NVML_LIB).  It exports the read-only
 * subset of NVML that src/lib/gpu_nvml.c uses, with deterministic values, and no setter at all,
 * so a backend that tried to change a power limit or clock would find no symbol.  It is not an
 * NVML emulator: values are constants of the GPU index, except the energy counter.
 *
 * Steered by environment variables, read at nvmlInit:
 *   FAKE_NVML_GPUS=N             number of GPUs (default 1, at most 8)
 *   FAKE_NVML_FAIL_INIT=1        nvmlInit fails with NVML_ERROR_DRIVER_NOT_LOADED
 *   FAKE_NVML_NO_ENERGY=1        nvmlDeviceGetTotalEnergyConsumption: NOT_SUPPORTED
 *   FAKE_NVML_FAIL=SPEC          calls that fail: comma list of FUNC[@GPU]=CODE, FUNC an exported
 *                                name, "*" for every per-device call, or POWER_INSTANT /
 *                                POWER_AVERAGE for the power fields 186 / 185 (their per-field
 *                                return codes)
 *   FAKE_NVML_AVERAGE_OFFSET_MW=X  field 185 reads X mW above nvmlDeviceGetPowerUsage
 *   FAKE_NVML_LOST_AFTER=N       after N per-device calls in all, every one returns GPU_IS_LOST
 *   FAKE_NVML_ENERGY_START_MJ=X  counter value of GPU i before the first read: X + i (default 1e9)
 *   FAKE_NVML_ENERGY_STEP_MJ=X   the counter advances by X mJ at each read (default 1500)
 *   FAKE_NVML_ENERGY_RESET_AT=N  the N-th read of a GPU's counter restarts it at 0 (driver reload)
 *   FAKE_NVML_LOG=FILE           appends "init" and "shutdown" lines, one per call
 * For unit tests, fake_nvml_set_fail(SPEC) replaces FAKE_NVML_FAIL at run time, and
 * fake_nvml_calls(FUNC) counts the calls made to an exported per-device function so far (FUNC
 * "*": all of them).
 *
 * Values of GPU i: name "Fake NVIDIA H100 80GB HBM3",
 * UUID "GPU-<i:02>1ce0de-fa4e-4a11-8000-0000000000<i:02>", PCI bus id "00000000:<0x18+i>:00.0",
 * power 150+i W (instant: +5 W), temperature 40+i C, utilisation 75 % / memory 30 %, memory
 * 80 GiB total and (i+1) GiB used, clocks SM 1980 MHz / memory 2619 MHz, clock event reasons 0x1,
 * enforced power limit 700 W, driver "550.54.15-fake".
 *
 * Built with FAKE_NVML_OLD defined (fake_nvml_old.c), it is an old driver's library: only the
 * first-version symbols nvmlInit, nvmlDeviceGetCount, nvmlDeviceGetHandleByIndex,
 * nvmlDeviceGetPciInfo (the old 16-byte bus id layout), nvmlDeviceGetName, nvmlDeviceGetPowerUsage,
 * nvmlDeviceGetTemperature, nvmlShutdown and nvmlErrorString.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define FAKE_API __attribute__((visibility("default")))
#define MAX_GPUS 8

enum {
    OK = 0,
    E_UNINITIALIZED = 1,
    E_INVALID_ARGUMENT = 2,
    E_NOT_SUPPORTED = 3,
    E_INSUFFICIENT_SIZE = 7,
    E_DRIVER_NOT_LOADED = 9,
    E_GPU_IS_LOST = 15,
};

struct nvmlDevice_st {
    int index;
};

struct pci_info {
    char bus_id_legacy[16];
    unsigned int domain, bus, device, pci_device_id, pci_subsystem_id;
    char bus_id[32];
};

struct pci_info_v1 {
    char bus_id[16];
    unsigned int domain, bus, device, pci_device_id, pci_subsystem_id;
    unsigned int reserved[4];
};

struct utilization {
    unsigned int gpu, memory;
};

struct memory {
    unsigned long long total, free, used;
};

struct field_value {
    unsigned int field_id, scope_id;
    long long timestamp, latency_usec;
    int value_type, nvml_return;
    union {
        double d;
        unsigned int ui;
        unsigned long long ull;
    } value;
};

#define FAIL_MAX 16
struct fail_rule {
    char func[64];
    int gpu; /* -1: every GPU */
    int code;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int init_depth;
    int n_gpus;
    struct nvmlDevice_st dev[MAX_GPUS];
    unsigned long long energy_mj[MAX_GPUS];
    unsigned long energy_reads[MAX_GPUS];
    unsigned long long step_mj;
    unsigned long reset_at;
    long lost_after; /* -1: never */
    long calls;
    long avg_offset_mw;
    struct {
        char func[48];
        long n;
    } counts[32];
    int n_counts;
    struct fail_rule fail[FAIL_MAX];
    int n_fail;
} st;

/* Prototypes of everything exported (the build wants them). */
FAKE_API const char *nvmlErrorString(int rc);
FAKE_API int nvmlInit(void);
FAKE_API int nvmlShutdown(void);
FAKE_API int nvmlDeviceGetCount(unsigned int *n);
FAKE_API int nvmlDeviceGetHandleByIndex(unsigned int i, struct nvmlDevice_st **d);
FAKE_API int nvmlDeviceGetName(struct nvmlDevice_st *d, char *buf, unsigned int len);
FAKE_API int nvmlDeviceGetPciInfo(struct nvmlDevice_st *d, struct pci_info_v1 *pci);
FAKE_API int nvmlDeviceGetPowerUsage(struct nvmlDevice_st *d, unsigned int *mw);
FAKE_API int nvmlDeviceGetTemperature(struct nvmlDevice_st *d, int sensor, unsigned int *c);
FAKE_API int fake_nvml_set_fail(const char *spec);
FAKE_API long fake_nvml_calls(const char *func);
#ifndef FAKE_NVML_OLD
FAKE_API int nvmlInit_v2(void);
FAKE_API int nvmlDeviceGetCount_v2(unsigned int *n);
FAKE_API int nvmlDeviceGetHandleByIndex_v2(unsigned int i, struct nvmlDevice_st **d);
FAKE_API int nvmlDeviceGetUUID(struct nvmlDevice_st *d, char *buf, unsigned int len);
FAKE_API int nvmlDeviceGetPciInfo_v3(struct nvmlDevice_st *d, struct pci_info *pci);
FAKE_API int nvmlSystemGetDriverVersion(char *buf, unsigned int len);
FAKE_API int nvmlDeviceGetEnforcedPowerLimit(struct nvmlDevice_st *d, unsigned int *mw);
FAKE_API int nvmlDeviceGetMemoryInfo(struct nvmlDevice_st *d, struct memory *m);
FAKE_API int nvmlDeviceGetTotalEnergyConsumption(struct nvmlDevice_st *d, unsigned long long *mj);
FAKE_API int nvmlDeviceGetFieldValues(struct nvmlDevice_st *d, int n, struct field_value *v);
FAKE_API int nvmlDeviceGetUtilizationRates(struct nvmlDevice_st *d, struct utilization *u);
FAKE_API int nvmlDeviceGetClockInfo(struct nvmlDevice_st *d, int type, unsigned int *mhz);
FAKE_API int nvmlDeviceGetCurrentClocksEventReasons(struct nvmlDevice_st *d, unsigned long long *r);
#endif

static void log_line(const char *what)
{
    const char *path = getenv("FAKE_NVML_LOG");
    FILE *f;

    if (!path || !*path)
        return;
    f = fopen(path, "a");
    if (!f)
        return;
    fprintf(f, "%s\n", what);
    fclose(f);
}

static long env_long(const char *name, long def)
{
    const char *s = getenv(name);
    char *end;
    long v;

    if (!s || !*s)
        return def;
    v = strtol(s, &end, 10);
    return *end ? def : v;
}

/* Parses FUNC[@GPU]=CODE,... into st.fail (lock held). */
static int parse_fail(const char *spec)
{
    const char *p = spec;

    st.n_fail = 0;
    while (p && *p && st.n_fail < FAIL_MAX) {
        struct fail_rule *r = &st.fail[st.n_fail];
        const char *end = strchr(p, ',');
        const char *eq = strchr(p, '=');
        const char *at = strchr(p, '@');
        size_t flen;
        char *e;

        if (!eq || (end && eq > end))
            return -1;
        if (at && at > eq)
            at = NULL;
        flen = (size_t)((at ? at : eq) - p);
        if (flen >= sizeof(r->func))
            return -1;
        memcpy(r->func, p, flen);
        r->func[flen] = '\0';
        r->gpu = at ? (int)strtol(at + 1, NULL, 10) : -1;
        r->code = (int)strtol(eq + 1, &e, 10);
        st.n_fail++;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

int fake_nvml_set_fail(const char *spec)
{
    int rc;

    pthread_mutex_lock(&lock);
    rc = parse_fail(spec ? spec : "");
    pthread_mutex_unlock(&lock);
    return rc;
}

/* Counts a call to func (lock held). */
static void count_call(const char *func)
{
    int i;

    for (i = 0; i < st.n_counts; i++)
        if (!strcmp(st.counts[i].func, func))
            break;
    if (i == st.n_counts) {
        if (st.n_counts == (int)(sizeof(st.counts) / sizeof(st.counts[0])))
            return;
        snprintf(st.counts[i].func, sizeof(st.counts[i].func), "%s", func);
        st.counts[i].n = 0;
        st.n_counts++;
    }
    st.counts[i].n++;
}

long fake_nvml_calls(const char *func)
{
    long n = 0;

    pthread_mutex_lock(&lock);
    for (int i = 0; i < st.n_counts; i++)
        if (!strcmp(func, "*") || !strcmp(st.counts[i].func, func))
            n += st.counts[i].n;
    pthread_mutex_unlock(&lock);
    return n;
}

static int rule_code(const char *func, int gpu)
{
    for (int i = 0; i < st.n_fail; i++) {
        const struct fail_rule *r = &st.fail[i];
        int any =
            !strcmp(r->func, "*") && strcmp(func, "POWER_INSTANT") && strcmp(func, "POWER_AVERAGE");
        if ((any || !strcmp(r->func, func)) && (r->gpu < 0 || r->gpu == gpu))
            return r->code;
    }
    return OK;
}

/* Common entry of every per-device call: checks and counts; returns the code to fail with. */
static int enter(const char *func, const struct nvmlDevice_st *d, int *gpu)
{
    int rc = OK;

    pthread_mutex_lock(&lock);
    if (!st.init_depth) {
        rc = E_UNINITIALIZED;
        goto out;
    }
    if (!d || d < st.dev || d >= st.dev + st.n_gpus) {
        rc = E_INVALID_ARGUMENT;
        goto out;
    }
    *gpu = d->index;
    st.calls++;
    count_call(func);
    if (st.lost_after >= 0 && st.calls > st.lost_after) {
        rc = E_GPU_IS_LOST;
        goto out;
    }
    rc = rule_code(func, *gpu);
out:
    pthread_mutex_unlock(&lock);
    return rc;
}

const char *nvmlErrorString(int rc)
{
    switch (rc) {
    case OK: return "Success";
    case E_UNINITIALIZED: return "Uninitialized";
    case E_INVALID_ARGUMENT: return "Invalid Argument";
    case E_NOT_SUPPORTED: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case E_INSUFFICIENT_SIZE: return "Insufficient Size";
    case E_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case 13: return "Function Not Found";
    case E_GPU_IS_LOST: return "GPU is lost";
    default: return "Unknown Error";
    }
}

static int do_init(void)
{
    long n;

    if (env_long("FAKE_NVML_FAIL_INIT", 0))
        return E_DRIVER_NOT_LOADED;
    pthread_mutex_lock(&lock);
    if (st.init_depth++ == 0) {
        n = env_long("FAKE_NVML_GPUS", 1);
        st.n_gpus = n < 0 ? 0 : n > MAX_GPUS ? MAX_GPUS : (int)n;
        st.step_mj = (unsigned long long)env_long("FAKE_NVML_ENERGY_STEP_MJ", 1500);
        st.reset_at = (unsigned long)env_long("FAKE_NVML_ENERGY_RESET_AT", 0);
        st.lost_after = env_long("FAKE_NVML_LOST_AFTER", -1);
        st.avg_offset_mw = env_long("FAKE_NVML_AVERAGE_OFFSET_MW", 0);
        st.calls = 0;
        st.n_counts = 0;
        for (int i = 0; i < MAX_GPUS; i++) {
            st.dev[i].index = i;
            st.energy_mj[i] = (unsigned long long)env_long("FAKE_NVML_ENERGY_START_MJ", 1000000000);
            st.energy_mj[i] += (unsigned)i;
            st.energy_reads[i] = 0;
        }
        if (parse_fail(getenv("FAKE_NVML_FAIL")) < 0)
            st.n_fail = 0;
        if (env_long("FAKE_NVML_NO_ENERGY", 0) && st.n_fail < FAIL_MAX) {
            struct fail_rule *r = &st.fail[st.n_fail++];
            snprintf(r->func, sizeof(r->func), "nvmlDeviceGetTotalEnergyConsumption");
            r->gpu = -1;
            r->code = E_NOT_SUPPORTED;
        }
    }
    pthread_mutex_unlock(&lock);
    log_line("init");
    return OK;
}

int nvmlInit(void)
{
    return do_init();
}

int nvmlShutdown(void)
{
    int rc = OK;

    pthread_mutex_lock(&lock);
    if (!st.init_depth)
        rc = E_UNINITIALIZED;
    else
        st.init_depth--;
    pthread_mutex_unlock(&lock);
    if (rc == OK)
        log_line("shutdown");
    return rc;
}

static int get_count(unsigned int *n)
{
    int rc = OK;

    pthread_mutex_lock(&lock);
    if (!st.init_depth)
        rc = E_UNINITIALIZED;
    else if (!n)
        rc = E_INVALID_ARGUMENT;
    else
        *n = (unsigned int)st.n_gpus;
    pthread_mutex_unlock(&lock);
    return rc;
}

int nvmlDeviceGetCount(unsigned int *n)
{
    return get_count(n);
}

static int get_handle(const char *func, unsigned int i, struct nvmlDevice_st **d)
{
    int rc = OK;

    pthread_mutex_lock(&lock);
    if (!st.init_depth)
        rc = E_UNINITIALIZED;
    else if (!d || i >= (unsigned int)st.n_gpus)
        rc = E_INVALID_ARGUMENT;
    else if ((rc = rule_code(func, (int)i)) == OK)
        *d = &st.dev[i];
    pthread_mutex_unlock(&lock);
    return rc;
}

int nvmlDeviceGetHandleByIndex(unsigned int i, struct nvmlDevice_st **d)
{
    return get_handle("nvmlDeviceGetHandleByIndex", i, d);
}

static int copy_str(char *buf, unsigned int len, const char *s)
{
    if (!buf || strlen(s) + 1 > len)
        return E_INSUFFICIENT_SIZE;
    memcpy(buf, s, strlen(s) + 1);
    return OK;
}

int nvmlDeviceGetName(struct nvmlDevice_st *d, char *buf, unsigned int len)
{
    int gpu, rc = enter("nvmlDeviceGetName", d, &gpu);

    return rc ? rc : copy_str(buf, len, "Fake NVIDIA H100 80GB HBM3");
}

int nvmlDeviceGetPciInfo(struct nvmlDevice_st *d, struct pci_info_v1 *pci)
{
    int gpu, rc = enter("nvmlDeviceGetPciInfo", d, &gpu);

    if (rc)
        return rc;
    memset(pci, 0, sizeof(*pci));
    snprintf(pci->bus_id, sizeof(pci->bus_id), "0000:%02x:00.0", 0x18 + gpu);
    pci->bus = 0x18u + (unsigned)gpu;
    return OK;
}

int nvmlDeviceGetPowerUsage(struct nvmlDevice_st *d, unsigned int *mw)
{
    int gpu, rc = enter("nvmlDeviceGetPowerUsage", d, &gpu);

    if (rc)
        return rc;
    *mw = 150000u + 1000u * (unsigned)gpu;
    return OK;
}

int nvmlDeviceGetTemperature(struct nvmlDevice_st *d, int sensor, unsigned int *c)
{
    int gpu, rc = enter("nvmlDeviceGetTemperature", d, &gpu);

    if (rc)
        return rc;
    if (sensor != 0)
        return E_INVALID_ARGUMENT;
    *c = 40u + (unsigned)gpu;
    return OK;
}

#ifndef FAKE_NVML_OLD

int nvmlInit_v2(void)
{
    return do_init();
}

int nvmlDeviceGetCount_v2(unsigned int *n)
{
    return get_count(n);
}

int nvmlDeviceGetHandleByIndex_v2(unsigned int i, struct nvmlDevice_st **d)
{
    return get_handle("nvmlDeviceGetHandleByIndex_v2", i, d);
}

int nvmlDeviceGetUUID(struct nvmlDevice_st *d, char *buf, unsigned int len)
{
    char uuid[96];
    int gpu, rc = enter("nvmlDeviceGetUUID", d, &gpu);

    if (rc)
        return rc;
    snprintf(uuid, sizeof(uuid), "GPU-%02d1ce0de-fa4e-4a11-8000-0000000000%02d", gpu, gpu);
    return copy_str(buf, len, uuid);
}

int nvmlDeviceGetPciInfo_v3(struct nvmlDevice_st *d, struct pci_info *pci)
{
    int gpu, rc = enter("nvmlDeviceGetPciInfo_v3", d, &gpu);

    if (rc)
        return rc;
    memset(pci, 0, sizeof(*pci));
    snprintf(pci->bus_id_legacy, sizeof(pci->bus_id_legacy), "0000:%02X:00.0", 0x18 + gpu);
    snprintf(pci->bus_id, sizeof(pci->bus_id), "00000000:%02X:00.0", 0x18 + gpu);
    pci->bus = 0x18u + (unsigned)gpu;
    return OK;
}

int nvmlSystemGetDriverVersion(char *buf, unsigned int len)
{
    return copy_str(buf, len, "550.54.15-fake");
}

int nvmlDeviceGetEnforcedPowerLimit(struct nvmlDevice_st *d, unsigned int *mw)
{
    int gpu, rc = enter("nvmlDeviceGetEnforcedPowerLimit", d, &gpu);

    if (rc)
        return rc;
    *mw = 700000;
    return OK;
}

int nvmlDeviceGetMemoryInfo(struct nvmlDevice_st *d, struct memory *m)
{
    int gpu, rc = enter("nvmlDeviceGetMemoryInfo", d, &gpu);

    if (rc)
        return rc;
    m->total = 80ull << 30;
    m->used = (unsigned long long)(gpu + 1) << 30;
    m->free = m->total - m->used;
    return OK;
}

int nvmlDeviceGetTotalEnergyConsumption(struct nvmlDevice_st *d, unsigned long long *mj)
{
    int gpu, rc = enter("nvmlDeviceGetTotalEnergyConsumption", d, &gpu);

    if (rc)
        return rc;
    pthread_mutex_lock(&lock);
    st.energy_reads[gpu]++;
    if (st.reset_at && st.energy_reads[gpu] == st.reset_at)
        st.energy_mj[gpu] = 0;
    else
        st.energy_mj[gpu] += st.step_mj;
    *mj = st.energy_mj[gpu];
    pthread_mutex_unlock(&lock);
    return OK;
}

int nvmlDeviceGetFieldValues(struct nvmlDevice_st *d, int n, struct field_value *v)
{
    struct timeval tv;
    int gpu, rc = enter("nvmlDeviceGetFieldValues", d, &gpu);

    if (rc)
        return rc;
    if (n < 0 || (n && !v))
        return E_INVALID_ARGUMENT;
    gettimeofday(&tv, NULL);
    for (int i = 0; i < n; i++) {
        v[i].timestamp = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
        v[i].latency_usec = 0;
        if (v[i].field_id == 186 || v[i].field_id == 185) { /* POWER_INSTANT, POWER_AVERAGE */
            pthread_mutex_lock(&lock);
            v[i].nvml_return =
                rule_code(v[i].field_id == 186 ? "POWER_INSTANT" : "POWER_AVERAGE", gpu);
            v[i].value_type = 1; /* unsigned int */
            v[i].value.ui = 150000u + 1000u * (unsigned)gpu +
                            (v[i].field_id == 186 ? 5000u : (unsigned)st.avg_offset_mw);
            pthread_mutex_unlock(&lock);
        } else {
            v[i].nvml_return = E_NOT_SUPPORTED;
        }
    }
    return OK;
}

int nvmlDeviceGetUtilizationRates(struct nvmlDevice_st *d, struct utilization *u)
{
    int gpu, rc = enter("nvmlDeviceGetUtilizationRates", d, &gpu);

    if (rc)
        return rc;
    u->gpu = 75;
    u->memory = 30;
    return OK;
}

int nvmlDeviceGetClockInfo(struct nvmlDevice_st *d, int type, unsigned int *mhz)
{
    int gpu, rc = enter("nvmlDeviceGetClockInfo", d, &gpu);

    if (rc)
        return rc;
    switch (type) {
    case 1: *mhz = 1980; return OK; /* SM */
    case 2: *mhz = 2619; return OK; /* memory */
    default: return E_INVALID_ARGUMENT;
    }
}

int nvmlDeviceGetCurrentClocksEventReasons(struct nvmlDevice_st *d, unsigned long long *r)
{
    int gpu, rc = enter("nvmlDeviceGetCurrentClocksEventReasons", d, &gpu);

    if (rc)
        return rc;
    *r = 0x1; /* GPU idle */
    return OK;
}

#endif /* FAKE_NVML_OLD */
