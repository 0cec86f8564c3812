/*
 * util.c - error strings, version, clock and the small string helpers every part of the library
 * uses.  Not a general utility library: the tool's own helpers live in src/util/.
 */
#include "meter.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#ifndef JB_VERSION
#define JB_VERSION JB_VERSION_STRING
#endif

const char *jb_strerror(int code)
{
    switch (code) {
    case JB_OK: return "success";
    case JB_EINVAL: return "invalid argument";
    case JB_ENOMEM: return "out of memory";
    case JB_EIO: return "input/output error";
    case JB_ENODEV: return "no such device";
    case JB_EACCES: return "permission denied";
    case JB_ENOTSUP: return "not supported";
    case JB_ELIB: return "library not loadable";
    case JB_EPARSE: return "malformed input";
    case JB_ELOST: return "device lost";
    case JB_ESTATE: return "wrong state";
    case JB_ESYS: return "system call failed";
    case JB_ERANGE: return "out of range";
    default: return "unknown error";
    }
}

const char *jb_version(void)
{
    return JB_VERSION;
}

uint64_t jb_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int jb__err(struct jb_errbuf *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err) {
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

void jb__strlcpy(char *dst, const char *src, size_t n)
{
    size_t len;

    if (!n)
        return;
    len = src ? strlen(src) : 0;
    if (len >= n)
        len = n - 1;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

const char *jb_meter_kind_name(enum jb_meter_kind kind)
{
    switch (kind) {
    case JB_KIND_GPU: return "gpu";
    case JB_KIND_CPU_PACKAGE: return "cpu-package";
    case JB_KIND_DRAM: return "dram";
    case JB_KIND_SIM: return "sim";
    }
    return "unknown";
}

const char *jb_cap_name(uint32_t bit)
{
    switch (bit) {
    case JB_CAP_ENERGY: return "energy";
    case JB_CAP_POWER: return "power";
    case JB_CAP_POWER_INSTANT: return "power_instant";
    case JB_CAP_TEMP: return "temp";
    case JB_CAP_UTIL: return "util";
    case JB_CAP_MEM_UTIL: return "mem_util";
    case JB_CAP_MEM_USED: return "mem_used";
    case JB_CAP_SM_CLOCK: return "sm_clock";
    case JB_CAP_MEM_CLOCK: return "mem_clock";
    case JB_CAP_THROTTLE: return "throttle";
    default: return NULL;
    }
}
