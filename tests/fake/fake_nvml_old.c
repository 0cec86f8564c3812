/*
 * fake_nvml_old.c - the fake NVML library of fake_nvml.c as an old driver would ship it: only the
 * first-version symbols (no _v2, no energy counter, no field values, no UUID...), so the backend's
 * "missing symbol clears the capability" paths can be tested.  Built as libfake_nvml_old.so.
 */
#define FAKE_NVML_OLD 1
#include "fake_nvml.c"
