/*
 * weights.c - the initial weights from an .npz with torchvision's names (export_init.py), checked
 * as workloads/common/resnet.py's load_weights checks them and with its messages, so that a bad
 * file is refused the same way by every workload.  Reading the archive is src/data/npz.c's job.
 */
#include "native.h"

#include "data/npz.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define WEIGHTS_MAX_BYTES (4ull << 30)

static const char *const model_names[] = {"resnet50", "resnet101", "resnet152"};

static int ignored(const char *name)
{
    size_t n = strlen(name), k = strlen("num_batches_tracked");
    return n >= k && !strcmp(name + n - k, "num_batches_tracked");
}

/* Python's repr of a shape tuple. */
static void shape_str(char *buf, size_t cap, int ndim, const uint64_t *shape)
{
    size_t len = 0;

    len += (size_t)snprintf(buf, cap, "(");
    for (int i = 0; i < ndim && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%llu", i ? ", " : "",
                                (unsigned long long)shape[i]);
    if (len < cap)
        snprintf(buf + len, cap - len, "%s", ndim == 1 ? ",)" : ")");
}

/* 1 when the archive's names are exactly those of model m (other than ignored ones). */
static int names_match(const struct npz *z, const struct native_model *m)
{
    size_t have = 0;

    for (size_t i = 0; i < z->n; i++) {
        if (ignored(z->members[i].name))
            continue;
        if (native_model_find(m, z->members[i].name) < 0)
            return 0;
        have++;
    }
    return have == (size_t)m->n_tensors;
}

static int check_names(const char *path, const struct npz *z, const struct native_model *m,
                       char *err, size_t errlen)
{
    size_t missing = 0, extra = 0;
    const char *first_missing = "-", *first_extra = "-";
    static struct native_model other;

    for (int i = 0; i < m->n_tensors; i++)
        if (!npz_find(z, m->tensors[i].name) && !missing++)
            first_missing = m->tensors[i].name;
    for (size_t i = 0; i < z->n; i++)
        if (!ignored(z->members[i].name) && native_model_find(m, z->members[i].name) < 0 &&
            !extra++)
            first_extra = z->members[i].name;
    if (!missing && !extra)
        return 0;
    for (size_t k = 0; k < sizeof(model_names) / sizeof(model_names[0]); k++) {
        char e2[64];
        if (!strcmp(model_names[k], m->name) ||
            native_model_build(&other, model_names[k], 2, e2, sizeof(e2)) < 0)
            continue;
        if (names_match(z, &other)) {
            snprintf(err, errlen,
                     "weights file '%s' is for %s, not %s (make one with: export_init.py --model "
                     "%s)",
                     path, model_names[k], m->name, m->name);
            return -1;
        }
    }
    snprintf(err, errlen,
             "weights file '%s' does not match %s: %zu names missing (e.g. '%s'), %zu "
             "unexpected (e.g. '%s')",
             path, m->name, missing, first_missing, extra, first_extra);
    return -1;
}

int native_weights_load(const char *path, const struct native_model *m, float *params, float *stats,
                        char *err, size_t errlen)
{
    struct npz z;
    char why[NATIVE_ERR];
    int rc = -1;

    if (npz_read_file(path, WEIGHTS_MAX_BYTES, &z, why, sizeof(why)) < 0) {
        if (strstr(why, "cannot open") && strstr(why, "no such file"))
            snprintf(err, errlen, "cannot open weights file '%s': no such file", path);
        else
            snprintf(err, errlen,
                     "cannot read weights file '%s': %s (expected an .npz from "
                     "workloads/common/export_init.py)",
                     path, why);
        return -1;
    }
    if (check_names(path, &z, m, err, errlen) < 0)
        goto out;
    {
        const struct native_tensor *fc = &m->tensors[m->fc_weight];
        struct npy_info info;
        const void *data;

        if (npz_array(&z, npz_find(&z, fc->name), &info, &data, why, sizeof(why)) == 0 &&
            info.ndim == 2 && info.shape[1] == NATIVE_FEATURES &&
            info.shape[0] != (uint64_t)m->classes) {
            char s[64];
            shape_str(s, sizeof(s), info.ndim, info.shape);
            snprintf(err, errlen,
                     "weights file '%s' has %llu classes (fc.weight %s), the data set has %d "
                     "(make one with: export_init.py --classes %d)",
                     path, (unsigned long long)info.shape[0], s, m->classes, m->classes);
            goto out;
        }
    }
    for (int i = 0; i < m->n_tensors; i++) {
        const struct native_tensor *t = &m->tensors[i];
        float *dst = (t->trainable ? params : stats) + t->offset;
        struct npy_info info;
        const void *data;
        int same = 1;

        if (npz_array(&z, npz_find(&z, t->name), &info, &data, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "weights file '%s': '%s': %s", path, t->name, why);
            goto out;
        }
        same = info.ndim == t->ndim;
        for (int k = 0; same && k < t->ndim; k++)
            same = info.shape[k] == (uint64_t)t->shape[k];
        if (!same) {
            char have[96], want[96];
            uint64_t ws[4];
            for (int k = 0; k < t->ndim; k++)
                ws[k] = (uint64_t)t->shape[k];
            shape_str(have, sizeof(have), info.ndim, info.shape);
            shape_str(want, sizeof(want), t->ndim, ws);
            snprintf(err, errlen, "weights file '%s': '%s' has shape %s, %s needs %s", path,
                     t->name, have, m->name, want);
            goto out;
        }
        if (info.kind != 'f' || info.item_bytes < 4) {
            snprintf(err, errlen,
                     "weights file '%s': '%s' has dtype %s, expected floating point (float32 or "
                     "float64)",
                     path, t->name, info.descr);
            goto out;
        }
        for (size_t k = 0; k < t->count; k++) {
            double v;
            if (info.item_bytes == 4) {
                float f;
                memcpy(&f, (const char *)data + 4 * k, 4);
                v = f;
            } else {
                memcpy(&v, (const char *)data + 8 * k, 8);
            }
            if (!isfinite(v)) {
                snprintf(err, errlen, "weights file '%s': '%s' holds NaN or infinite values", path,
                         t->name);
                goto out;
            }
            dst[k] = (float)v;
        }
    }
    rc = 0;
out:
    npz_free(&z);
    return rc;
}
