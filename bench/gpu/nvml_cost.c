/*
 * nvml_cost.c - wall and CPU time of each NVML call the GPU backend makes, per call, averaged over
 * N calls (default 2000; the energy counter 200).  For docs/BENCHMARKS.md: which gauges are cheap
 * enough for a 10 ms sampling interval.  Reads only; calls no setter.
 *   cc -O2 -o nvml_cost nvml_cost.c -ldl && ./nvml_cost [N]
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void *dev_t_;
typedef int (*fn_init)(void);
typedef int (*fn_handle)(unsigned, dev_t_ *);
typedef int (*fn_uint)(dev_t_, unsigned *);
typedef int (*fn_ull)(dev_t_, unsigned long long *);
typedef int (*fn_temp)(dev_t_, int, unsigned *);
typedef int (*fn_clock)(dev_t_, int, unsigned *);
typedef int (*fn_ptr)(dev_t_, void *);

struct field_value { /* nvmlFieldValue_t */
    unsigned field_id, scope_id;
    long long timestamp, latency_usec;
    int value_type, nvml_return;
    unsigned long long value;
};
typedef int (*fn_fields)(dev_t_, int, struct field_value *);

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define TIME(label, n, call)                                                                       \
    do {                                                                                           \
        double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);                      \
        int rc_ = 0;                                                                               \
        for (int i_ = 0; i_ < (n); i_++)                                                           \
            rc_ |= (call);                                                                         \
        double w = (now(CLOCK_MONOTONIC) - w0) / (n)*1e6;                                          \
        double c = (now(CLOCK_PROCESS_CPUTIME_ID) - c0) / (n)*1e6;                                 \
        printf("%-40s wall %9.2f us  cpu %9.2f us  %s\n", label, w, c, rc_ ? "(error)" : "");      \
    } while (0)

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW);
    dev_t_ d;
    unsigned u, clk;
    unsigned long long ull;
    unsigned char buf[64];
    struct field_value fv;

    if (!lib) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    ((fn_init)dlsym(lib, "nvmlInit_v2"))();
    printf("%-40s wall %9.2f us  cpu %9.2f us\n", "nvmlInit_v2 (once)",
           (now(CLOCK_MONOTONIC) - t0) * 1e6, (now(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e6);
    ((fn_handle)dlsym(lib, "nvmlDeviceGetHandleByIndex_v2"))(0, &d);
    fn_uint power = (fn_uint)dlsym(lib, "nvmlDeviceGetPowerUsage");
    fn_temp temp = (fn_temp)dlsym(lib, "nvmlDeviceGetTemperature");
    fn_ptr util = (fn_ptr)dlsym(lib, "nvmlDeviceGetUtilizationRates");
    fn_ptr mem = (fn_ptr)dlsym(lib, "nvmlDeviceGetMemoryInfo");
    fn_clock clock_ = (fn_clock)dlsym(lib, "nvmlDeviceGetClockInfo");
    fn_ull thr = (fn_ull)dlsym(lib, "nvmlDeviceGetCurrentClocksEventReasons");
    fn_fields fields = (fn_fields)dlsym(lib, "nvmlDeviceGetFieldValues");
    fn_ull energy = (fn_ull)dlsym(lib, "nvmlDeviceGetTotalEnergyConsumption");
    if (!thr)
        thr = (fn_ull)dlsym(lib, "nvmlDeviceGetCurrentClocksThrottleReasons");

    TIME("nvmlDeviceGetPowerUsage", n, power(d, &u));
    TIME("nvmlDeviceGetTemperature", n, temp(d, 0, &u));
    TIME("nvmlDeviceGetUtilizationRates", n, util(d, buf));
    TIME("nvmlDeviceGetMemoryInfo", n, mem(d, buf));
    TIME("nvmlDeviceGetClockInfo (SM)", n, clock_(d, 1, &clk));
    TIME("nvmlDeviceGetClockInfo (MEM)", n, clock_(d, 2, &clk));
    if (thr)
        TIME("nvmlDeviceGetCurrentClocks*Reasons", n, thr(d, &ull));
    memset(&fv, 0, sizeof(fv));
    fv.field_id = 186; /* NVML_FI_DEV_POWER_INSTANT */
    TIME("nvmlDeviceGetFieldValues (186 instant)", n, fields(d, 1, &fv));
    TIME("nvmlDeviceGetTotalEnergyConsumption", n / 10, energy(d, &ull));
    return 0;
}
