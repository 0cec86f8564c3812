/*
 * gpu_cvd.c - CUDA_VISIBLE_DEVICES as CUDA reads it, for the NVML backend (gpu_nvml.c): which of
 * the GPUs NVML lists the process may see.  Not a parser of any other CUDA setting.
 */
#include "gpu_cvd.h"

#include "list.h"
#include "meter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * Marks in visible[0..count) the GPUs that CUDA_VISIBLE_DEVICES names, as CUDA reads it: a comma
 * list of indices or "GPU-" UUIDs (a unique prefix is enough); parsing stops at the first entry
 * that names no GPU (so "" and "-1" hide every GPU).  Indices are taken as NVML indices, which
 * are CUDA's when CUDA_DEVICE_ORDER=PCI_BUS_ID or all GPUs are alike.  "MIG-" entries (MIG
 * instances) are not mapped to their GPU: they are skipped with a note.  Returns the number of
 * visible GPUs.  uuid[i] is "" where unknown.
 */
int jb__cvd_parse(struct jb_meter_set *set, const char *cvd, int count,
                  char (*uuid)[JB_CVD_UUID_LEN], unsigned char *visible)
{
    const char *p = cvd;
    int n = 0;

    if (!cvd) {
        memset(visible, 1, (size_t)count);
        return count;
    }
    memset(visible, 0, (size_t)count);
    while (p && *p) {
        char tok[128]; /* longer entries name no GPU: truncated, they still match none */
        size_t len;
        int match = -1;

        len = jb__list_next(&p, tok, sizeof(tok), JB_LIST_TRIM);
        if (len >= sizeof(tok))
            len = sizeof(tok) - 1;
        if (tok[0] >= '0' && tok[0] <= '9') {
            char *e;
            long v;
            errno = 0;
            v = strtol(tok, &e, 10);
            if (!errno && !*e && v >= 0 && v < count)
                match = (int)v;
        } else if (!strncmp(tok, "GPU-", 4) && tok[4]) {
            for (int i = 0; i < count; i++) {
                if (uuid[i][0] && !strncmp(uuid[i], tok, len)) {
                    if (match >= 0) { /* ambiguous prefix */
                        match = -1;
                        break;
                    }
                    match = i;
                }
            }
        } else if (!strncmp(tok, "MIG-", 4)) {
            jb__meter_set_notef(set,
                                "CUDA_VISIBLE_DEVICES entry '%s' is a MIG instance: joulebench "
                                "measures whole GPUs and does not map MIG instances to their GPU "
                                "(name the GPU's index or UUID instead)",
                                tok);
            goto next;
        }
        if (match < 0) {
            jb__meter_set_notef(set,
                                "CUDA_VISIBLE_DEVICES='%s': entry '%s' names no GPU, so it and "
                                "the entries after it are ignored (as CUDA does)",
                                cvd, tok);
            break;
        }
        if (!visible[match]) {
            visible[match] = 1;
            n++;
        }
    next:;
    }
    return n;
}
