/*
 * gpu_nvml.c - NVIDIA GPUs through NVML (placeholder until the NVML backend lands: finds none).
 */
#include "meter.h"

int jb__nvml_add(struct jb_meter_set *set, int index, int optional)
{
    (void)index;
    if (optional) {
        jb__meter_set_notef(set, "no NVIDIA GPU found (NVML backend not built yet)");
        return 0;
    }
    return jb__meter_set_fail(set, JB_ENODEV, "no NVIDIA GPU found (NVML backend not built yet)");
}
