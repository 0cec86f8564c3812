/*
 * gpu_cvd.h - CUDA_VISIBLE_DEVICES for the NVML backend (internal; see gpu_cvd.c).
 */
#ifndef JB_SRC_LIB_GPU_CVD_H
#define JB_SRC_LIB_GPU_CVD_H

#include "joulebench.h"

#define JB_CVD_UUID_LEN 96 /* NVML_DEVICE_UUID_V2_BUFFER_SIZE */

/*
 * Marks in visible[0..count) the GPUs that cvd (CUDA_VISIBLE_DEVICES, NULL when unset) names;
 * uuid[i] is GPU i's UUID, "" where unknown.  Returns the number of visible GPUs; notes on the set
 * say which entries were ignored and why.
 */
int jb__cvd_parse(struct jb_meter_set *set, const char *cvd, int count,
                  char (*uuid)[JB_CVD_UUID_LEN], unsigned char *visible);

#endif
