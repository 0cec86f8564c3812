/*
 * util.c - error strings, version, clock and the small string helpers every part of the library
 * uses.  Not a general utility library: the tool's own helpers live in src/util/.
 */
#include "meter.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *jb_strerror(int code)
{
    switch (code) {
    case JB_OK: return "success";
#define JB__ERRNO_STR(name, num, str)                                                              \
    case JB_##name: return str;
        JB_ERRNO_MAP(JB__ERRNO_STR)
#undef JB__ERRNO_STR
    default: return "unknown error";
    }
}

const char *jb_version(void)
{
    return JB_VERSION_STRING; /* include/joulebench.h: the one version */
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

int jb__opts_take(void *dst, size_t known, const void *src, const char *name, char *why,
                  size_t whylen)
{
    const unsigned char *b = src;
    size_t size;

    memcpy(&size, src, sizeof(size));
    if (size < sizeof(size_t) || size > JB_OPTS_SIZE_MAX) {
        snprintf(why, whylen,
                 "struct %s has size %zu (expected %zu..%d): initialise it with %s_init() first",
                 name, size, sizeof(size_t), JB_OPTS_SIZE_MAX, name);
        return JB_EINVAL;
    }
    for (size_t i = known; i < size; i++)
        if (b[i]) {
            snprintf(why, whylen,
                     "struct %s sets byte %zu of its %zu, beyond the %zu this library (%s) "
                     "knows: a field of a newer version",
                     name, i, size, known, JB_VERSION_STRING);
            return JB_ENOTSUP;
        }
    memset(dst, 0, known);
    memcpy(dst, src, size < known ? size : known);
    memcpy(dst, &known, sizeof(known));
    return 0;
}
