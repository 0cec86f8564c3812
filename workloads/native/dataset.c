/*
 * dataset.c - a prepared data set for the native trainer, checked as workloads/common/data.py
 * checks it and with its messages: the folder and its manifest, the SHA-256 of all four files
 * before any is parsed, uint8 N x H x W x 3 images, 1-D integer labels of the same length, no
 * negative label, train and test images of one size, a non-empty training split, the class count.
 * The formats themselves are read by src/data (npy.c, manifest.c).
 */
#include "native.h"

#include "data/data.h"
#include "data/npy.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DATA_MAX_FILE_BYTES (64ull << 30)

void native_data_free(struct native_data *d)
{
    for (int i = 0; i < 4; i++) {
        if (d->files[i])
            npy_file_free(d->files[i]);
        free(d->files[i]);
    }
    free(d->train_y);
    free(d->test_y);
    memset(d, 0, sizeof(*d));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "available: a, b" or "no data sets under 'DIR'", as data.available() lists them. */
static void available(const char *data_dir, char *buf, size_t cap)
{
    DIR *dir = opendir(data_dir);
    struct dirent *e;
    char *names[64];
    size_t n = 0, len = 0;

    buf[0] = '\0';
    while (dir && (e = readdir(dir)) && n < 64) {
        char p[4096];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s/manifest.json", data_dir, e->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            names[n] = strdup(e->d_name);
            if (names[n])
                n++;
        }
    }
    if (dir)
        closedir(dir);
    if (n == 0) {
        snprintf(buf, cap, "no data sets under '%s'", data_dir);
        return;
    }
    qsort(names, n, sizeof(names[0]), cmp_str);
    len = (size_t)snprintf(buf, cap, "available: ");
    for (size_t i = 0; i < n; i++) {
        if (len < cap)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", names[i]);
        free(names[i]);
    }
}

/* Labels of any integer dtype to int32; -1 on a value outside int32 (reported by the caller). */
static int labels_to_i32(const struct npy_file *f, int32_t *out, int64_t *min, int64_t *max)
{
    const unsigned char *p = f->data;
    size_t w = f->info.item_bytes;

    *min = INT64_MAX;
    *max = INT64_MIN;
    for (uint64_t i = 0; i < f->info.items; i++) {
        int64_t v;
        if (f->info.kind == 'u') {
            uint64_t u = 0;
            memcpy(&u, p + i * w, w); /* little-endian host */
            if (u > INT64_MAX)
                return -1;
            v = (int64_t)u;
        } else {
            if (w == 1)
                v = *(const int8_t *)(p + i);
            else if (w == 2) {
                int16_t s;
                memcpy(&s, p + i * w, 2);
                v = s;
            } else if (w == 4) {
                int32_t s;
                memcpy(&s, p + i * w, 4);
                v = s;
            } else {
                memcpy(&v, p + i * w, 8);
            }
        }
        if (v < *min)
            *min = v;
        if (v > *max)
            *max = v;
        out[i] = v < INT32_MIN || v > INT32_MAX ? -1 : (int32_t)v;
    }
    return 0;
}

static void shape_text(char *buf, size_t cap, const struct npy_info *in)
{
    size_t len = (size_t)snprintf(buf, cap, "%s (", in->descr);
    for (int i = 0; i < in->ndim && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%llu", i ? ", " : "",
                                (unsigned long long)in->shape[i]);
    if (len < cap)
        snprintf(buf + len, cap - len, "%s", in->ndim == 1 ? ",)" : ")");
}

int native_data_load(const char *data_dir, const char *name, long limit_train, long limit_test,
                     struct native_data *d, char *err, size_t errlen)
{
    char folder[4096], mpath[4200], fpath[4200], list[1024], text[160];
    struct data_manifest man;
    struct npy_file *f[4];
    struct stat st;
    int64_t lo[2], hi[2];
    int top;

    memset(d, 0, sizeof(*d));
    snprintf(folder, sizeof(folder), "%s/%s", data_dir, name);
    if (stat(folder, &st) != 0 || !S_ISDIR(st.st_mode)) {
        available(data_dir, list, sizeof(list));
        snprintf(err, errlen,
                 "unknown dataset '%s': no folder '%s' (%s; make one with: joulebench data "
                 "import %s ... or joulebench data synth %s -o %s)",
                 name, folder, list, name, name, data_dir);
        return -1;
    }
    snprintf(mpath, sizeof(mpath), "%s/manifest.json", folder);
    if (data_manifest_read(mpath, &man, err, errlen) < 0)
        return -1;
    for (int i = 0; i < 4; i++) {
        f[i] = d->files[i] = calloc(1, sizeof(struct npy_file));
        if (!f[i]) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    /* Every file is hashed before any is used. */
    for (int i = 0; i < 4; i++) {
        snprintf(fpath, sizeof(fpath), "%s/%s", folder, data_file_names[i]);
        if (stat(fpath, &st) != 0) {
            snprintf(err, errlen,
                     "cannot open '%s': no such file (the data set is incomplete: make it "
                     "again with 'joulebench data')",
                     fpath);
            goto fail;
        }
        if (npy_read_file(fpath, DATA_MAX_FILE_BYTES, f[i], err, errlen) < 0)
            goto fail;
        if (strcmp(f[i]->sha256, man.sha256[i]) != 0) {
            snprintf(err, errlen,
                     "'%s': SHA-256 mismatch: %s, manifest says %s (the file changed since the "
                     "manifest was written: make the data set again)",
                     fpath, f[i]->sha256, man.sha256[i]);
            goto fail;
        }
    }
    for (int i = 0; i < 4; i++) {
        snprintf(fpath, sizeof(fpath), "%s/%s", folder, data_file_names[i]);
        if (npy_file_parse(f[i], fpath, err, errlen) < 0)
            goto fail;
    }
    for (int s = 0; s < 2; s++) {
        const struct npy_info *x = &f[2 * s]->info, *y = &f[2 * s + 1]->info;
        int32_t *lab;

        if (strcmp(x->descr, "|u1") != 0 || x->ndim != 4 || x->shape[3] != 3) {
            shape_text(text, sizeof(text), x);
            snprintf(err, errlen, "'%s/%s': expected uint8 RGB images N x H x W x 3, got %s",
                     folder, data_file_names[2 * s], text);
            goto fail;
        }
        if ((y->kind != 'i' && y->kind != 'u') || y->ndim != 1) {
            shape_text(text, sizeof(text), y);
            snprintf(err, errlen, "'%s/%s': expected a 1-D integer label array, got %s", folder,
                     data_file_names[2 * s + 1], text);
            goto fail;
        }
        if (y->shape[0] != x->shape[0]) {
            snprintf(err, errlen, "'%s/%s' has %llu labels for %llu images in '%s/%s'", folder,
                     data_file_names[2 * s + 1], (unsigned long long)y->shape[0],
                     (unsigned long long)x->shape[0], folder, data_file_names[2 * s]);
            goto fail;
        }
        if (x->shape[0] > INT32_MAX || x->shape[1] > 4096 || x->shape[2] > 4096) {
            snprintf(err, errlen,
                     "'%s/%s': %llu images of %llu x %llu: more than this trainer "
                     "takes",
                     folder, data_file_names[2 * s], (unsigned long long)x->shape[0],
                     (unsigned long long)x->shape[1], (unsigned long long)x->shape[2]);
            goto fail;
        }
        lab = malloc((y->shape[0] ? y->shape[0] : 1) * sizeof(int32_t));
        if (!lab) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        if (s == 0)
            d->train_y = lab;
        else
            d->test_y = lab;
        if (labels_to_i32(f[2 * s + 1], lab, &lo[s], &hi[s]) < 0 ||
            (y->shape[0] && hi[s] > INT32_MAX)) {
            snprintf(err, errlen, "'%s/%s': label out of range", folder,
                     data_file_names[2 * s + 1]);
            goto fail;
        }
        if (y->shape[0] && lo[s] < 0) {
            snprintf(err, errlen, "'%s/%s': negative label %lld", folder,
                     data_file_names[2 * s + 1], (long long)lo[s]);
            goto fail;
        }
    }
    if (f[0]->info.shape[1] != f[2]->info.shape[1] || f[0]->info.shape[2] != f[2]->info.shape[2]) {
        snprintf(err, errlen, "'%s': train images are (%llu, %llu, 3), test images (%llu, %llu, 3)",
                 folder, (unsigned long long)f[0]->info.shape[1],
                 (unsigned long long)f[0]->info.shape[2], (unsigned long long)f[2]->info.shape[1],
                 (unsigned long long)f[2]->info.shape[2]);
        goto fail;
    }
    if (f[1]->info.shape[0] == 0) {
        snprintf(err, errlen, "'%s': the training split is empty", folder);
        goto fail;
    }
    top = (int)hi[0];
    if (f[3]->info.shape[0] && hi[1] > top)
        top = (int)hi[1];
    if (man.num_classes == 0) {
        d->num_classes = top + 1;
    } else if (top >= man.num_classes) {
        snprintf(err, errlen, "'%s': label %d is out of range for num_classes %d", folder, top,
                 man.num_classes);
        goto fail;
    } else {
        d->num_classes = man.num_classes;
    }
    d->h = (int)f[0]->info.shape[1];
    d->w = (int)f[0]->info.shape[2];
    d->n_train = (size_t)f[0]->info.shape[0];
    d->n_test = (size_t)f[2]->info.shape[0];
    if (limit_train > 0 && (size_t)limit_train < d->n_train)
        d->n_train = (size_t)limit_train;
    if (limit_test > 0 && (size_t)limit_test < d->n_test)
        d->n_test = (size_t)limit_test;
    d->train_x = (uint8_t *)f[0]->data;
    d->test_x = (uint8_t *)f[2]->data;
    return 0;
fail:
    native_data_free(d);
    return -1;
}
