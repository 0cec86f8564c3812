/*
 * cpu_rapl.c - CPU package and DRAM energy through RAPL powercap (placeholder until it lands).
 */
#include "meter.h"

int jb__rapl_add(struct jb_meter_set *set, const char *id, int optional)
{
    (void)id;
    if (optional) {
        jb__meter_set_notef(set, "no RAPL domain read (RAPL backend not built yet)");
        return 0;
    }
    return jb__meter_set_fail(set, JB_ENODEV, "no RAPL domain (RAPL backend not built yet)");
}
