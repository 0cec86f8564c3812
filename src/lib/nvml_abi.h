/*
 * nvml_abi.h - the few NVML types and constants that gpu_nvml.c uses, declared here from nvml.h
 * (stable across driver versions) so that joulebench builds without any NVIDIA header.  Private
 * to gpu_nvml.c; the layouts are checked by the static assertions at the end.
 */
#ifndef JB_NVML_ABI_H
#define JB_NVML_ABI_H

#include "gpu_cvd.h" /* JB_CVD_UUID_LEN */

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NO_PERMISSION 4
#define NVML_ERROR_DRIVER_NOT_LOADED 9
#define NVML_ERROR_FUNCTION_NOT_FOUND 13
#define NVML_ERROR_GPU_IS_LOST 15
#define NVML_ERROR_RESET_REQUIRED 16
#define NVML_ERROR_GPU_NOT_FOUND 28

#define NVML_TEMPERATURE_GPU 0
#define NVML_CLOCK_SM 1
#define NVML_CLOCK_MEM 2
#define NVML_FI_DEV_POWER_AVERAGE                                                                  \
    185 /* field id: power averaged over 1 s, mW (Ampere+, not GA100) */
#define NVML_FI_DEV_POWER_INSTANT 186 /* field id: current power in mW, all architectures */

#define NVML_VALUE_TYPE_DOUBLE 0
#define NVML_VALUE_TYPE_UNSIGNED_INT 1
#define NVML_VALUE_TYPE_UNSIGNED_LONG 2
#define NVML_VALUE_TYPE_UNSIGNED_LONG_LONG 3
#define NVML_VALUE_TYPE_SIGNED_LONG_LONG 4
#define NVML_VALUE_TYPE_SIGNED_INT 5
#define NVML_VALUE_TYPE_UNSIGNED_SHORT 6

#define NVML_NAME_LEN 96   /* NVML_DEVICE_NAME_V2_BUFFER_SIZE */
#define NVML_UUID_LEN 96   /* NVML_DEVICE_UUID_V2_BUFFER_SIZE */
#define NVML_DRIVER_LEN 80 /* NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE */

struct nvml_device; /* nvmlDevice_t is an opaque pointer */

/* nvmlPciInfo_t as filled by nvmlDeviceGetPciInfo_v2/_v3.  The first version filled a 16-byte
 * bus id at the same offset as bus_id_legacy and wrote less, so it fits this struct too. */
struct nvml_pci_info {
    char bus_id_legacy[16];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pci_device_id;
    unsigned int pci_subsystem_id;
    char bus_id[32];
};

struct nvml_utilization {
    unsigned int gpu;    /* percent of time a kernel ran */
    unsigned int memory; /* percent of time device memory was read or written */
};

struct nvml_memory { /* nvmlMemory_t (v1): bytes */
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
};

union nvml_value {
    double d;
    unsigned int ui;
    unsigned long ul;
    unsigned long long ull;
    long long sll;
    int si;
    unsigned short us;
};

struct nvml_field_value {
    unsigned int field_id;
    unsigned int scope_id;
    long long timestamp_us;
    long long latency_us;
    int value_type;  /* NVML_VALUE_TYPE_* */
    int nvml_return; /* per-field result */
    union nvml_value value;
};

_Static_assert(sizeof(struct nvml_pci_info) == 68, "nvmlPciInfo_t layout");
_Static_assert(sizeof(struct nvml_field_value) == 40, "nvmlFieldValue_t layout");
_Static_assert(sizeof(struct nvml_memory) == 24, "nvmlMemory_t layout");
_Static_assert(NVML_UUID_LEN == JB_CVD_UUID_LEN, "UUID buffer of gpu_cvd.c");

#endif /* JB_NVML_ABI_H */
