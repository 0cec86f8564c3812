/*
 * svhn.c - imports SVHN (format 2, the 32x32 digits: http://ufldl.stanford.edu/housenumbers/)
 * from train_32x32.mat, test_32x32.mat and optionally extra_32x32.mat through libmatio, which
 * reads every MAT-file version (the distributed files are Level 5 MAT-files with compressed
 * variables; v7.3/HDF5 copies work too).  Each file holds X, uint8 32x32x3xN (MATLAB's column-
 * major order: height, width, channel, image), and y, Nx1, digits 1..10 where 10 means 0.
 *
 * Image n is one contiguous block of 3072 bytes in column-major order, so one file's X is read
 * whole and reordered image by image; the largest (extra, 1.6 GB) is the peak memory.  Not a
 * reader of the "full numbers" format 1 (digitStruct.mat).  Not thread-safe: libmatio's log
 * function is process-wide, and its last message is kept in a static buffer.
 */
#include "data/data.h"

#include "util/fsutil.h"

#include <errno.h>
#ifdef JB_HAVE_MATIO
#include <matio.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void data_colmajor_to_hwc(const uint8_t *colmajor, uint8_t *hwc)
{
    for (int h = 0; h < DATA_H; h++)
        for (int w = 0; w < DATA_W; w++)
            for (int c = 0; c < DATA_C; c++)
                hwc[(h * DATA_W + w) * DATA_C + c] = colmajor[h + DATA_H * w + DATA_H * DATA_W * c];
}

#ifdef JB_HAVE_MATIO

/* libmatio reports through a log function; keep its last message for ours. */
static char matio_msg[256];

static void matio_log(int level, char *message)
{
    (void)level;
    snprintf(matio_msg, sizeof(matio_msg), "%s", message ? message : "");
}

struct svhn_file {
    char path[PATH_MAX];
    const char *base;
    int official_train; /* 1: train/extra, 0: test */
    uint64_t n;
};

static const char *why(void)
{
    return matio_msg[0] ? matio_msg : "not a MAT-file, or damaged";
}

/* Opens path and reads the shapes of X and y (not the data): X must be uint8 32x32x3xN and y
 * N values (Nx1 or 1xN). */
static int probe(struct svhn_file *sf, char *err, size_t errlen)
{
    static const char *const vars[] = {"X", "y", NULL};
    mat_t *mat;
    matvar_t *x = NULL, *y = NULL;
    FILE *f;
    int fd, rc;

    /* A regular file (a FIFO would hang), holding every byte it declares: libmatio reads a file
     * cut short without an error, leaving the rest of a variable uninitialised. */
    fd = fs_open_regular(sf->path, FS_READ_MAX, NULL, err, errlen);
    if (fd < 0) {
        int e = errno;
        if (e != EINVAL && e != EFBIG)
            snprintf(err, errlen, "cannot open '%s': %s (the SVHN directory must hold %s)",
                     sf->path, strerror(e), sf->base);
        return -1;
    }
    f = fdopen(fd, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read '%s': %s", sf->path, strerror(errno));
        close(fd);
        return -1;
    }
    rc = data_mat5_check(f, sf->path, vars, err, errlen);
    fclose(f);
    if (rc < 0)
        return -1;
    rc = -1; /* until the shapes are checked */
    matio_msg[0] = '\0';
    mat = Mat_Open(sf->path, MAT_ACC_RDONLY);
    if (!mat) {
        snprintf(err, errlen, "cannot read '%s': %s", sf->path, why());
        return -1;
    }
    x = Mat_VarReadInfo(mat, "X");
    if (!x) {
        snprintf(err, errlen, "'%s': variable 'X' not found", sf->path);
        goto out;
    }
    /* MATLAB drops trailing singleton dimensions: one image is 32x32x3. */
    if (x->rank < 3 || x->rank > 4 || x->dims[0] != DATA_H || x->dims[1] != DATA_W ||
        x->dims[2] != DATA_C || (x->rank == 4 && x->dims[3] == 0)) {
        char shape[96] = "";
        size_t len = 0;
        for (int i = 0; i < x->rank && i < 6 && len < sizeof(shape); i++)
            len += (size_t)snprintf(shape + len, sizeof(shape) - len, "%s%zu", i ? "x" : "",
                                    x->dims[i]);
        snprintf(err, errlen, "'%s': variable 'X' is %s, expected 32x32x3xN", sf->path, shape);
        goto out;
    }
    if (x->class_type != MAT_C_UINT8 || x->isComplex) {
        snprintf(err, errlen, "'%s': variable 'X' is not a real uint8 array", sf->path);
        goto out;
    }
    sf->n = x->rank == 4 ? x->dims[3] : 1;
    y = Mat_VarReadInfo(mat, "y");
    if (!y) {
        snprintf(err, errlen, "'%s': variable 'y' not found", sf->path);
        goto out;
    }
    if (y->rank != 2 ||
        !((y->dims[0] == sf->n && y->dims[1] == 1) || (y->dims[0] == 1 && y->dims[1] == sf->n))) {
        snprintf(err, errlen,
                 "'%s': variable 'y' is %zux%zu, expected %llux1 (one label per "
                 "image of X)",
                 sf->path, y->rank >= 1 ? y->dims[0] : 0, y->rank >= 2 ? y->dims[1] : 0,
                 (unsigned long long)sf->n);
        goto out;
    }
    rc = 0;
out:
    Mat_VarFree(x);
    Mat_VarFree(y);
    Mat_Close(mat);
    return rc;
}

/* y's values as digits 0..9: any real numeric class holding the integers 1..10. */
static int label_at(const matvar_t *y, size_t i, int64_t *out)
{
    double v;

    switch (y->class_type) {
    case MAT_C_DOUBLE: v = ((const double *)y->data)[i]; break;
    case MAT_C_SINGLE: v = ((const float *)y->data)[i]; break;
    case MAT_C_INT8: v = ((const int8_t *)y->data)[i]; break;
    case MAT_C_UINT8: v = ((const uint8_t *)y->data)[i]; break;
    case MAT_C_INT16: v = ((const int16_t *)y->data)[i]; break;
    case MAT_C_UINT16: v = ((const uint16_t *)y->data)[i]; break;
    case MAT_C_INT32: v = ((const int32_t *)y->data)[i]; break;
    case MAT_C_UINT32: v = ((const uint32_t *)y->data)[i]; break;
    case MAT_C_INT64: v = (double)((const int64_t *)y->data)[i]; break;
    case MAT_C_UINT64: v = (double)((const uint64_t *)y->data)[i]; break;
    default: return -1;
    }
    if (!(v >= 1 && v <= 10) || v != (double)(int)v)
        return -1;
    *out = (int)v == 10 ? 0 : (int)v;
    return 0;
}

static int add_file(struct data_set *ds, const struct svhn_file *sf, char *err, size_t errlen)
{
    mat_t *mat;
    matvar_t *x = NULL, *y = NULL;
    uint8_t hwc[DATA_IMAGE_BYTES], *pixels = NULL;
    char msg[256];
    int rc = -1, read_ok = 0;

    matio_msg[0] = '\0';
    mat = Mat_Open(sf->path, MAT_ACC_RDONLY);
    if (!mat) {
        snprintf(err, errlen, "cannot read '%s': %s", sf->path, why());
        return -1;
    }
    /* X into a buffer of ours, zeroed: whatever libmatio does not fill is never garbage (the
     * sizes were checked against the file by data_mat5_check). */
    x = Mat_VarReadInfo(mat, "X");
    if (x && sf->n <= SIZE_MAX / DATA_IMAGE_BYTES)
        pixels = calloc(sf->n ? sf->n : 1, DATA_IMAGE_BYTES);
    if (x && pixels && x->rank >= 1 && x->rank <= 4) {
        int start[4] = {0, 0, 0, 0}, stride[4] = {1, 1, 1, 1}, edge[4] = {1, 1, 1, 1};
        for (int i = 0; i < x->rank; i++)
            edge[i] = (int)x->dims[i];
        read_ok = Mat_VarReadData(mat, x, pixels, start, stride, edge) == 0;
    }
    if (!x || !pixels || !read_ok || x->class_type != MAT_C_UINT8 || x->isComplex ||
        (x->rank == 4 ? x->dims[3] : 1) != sf->n) {
        snprintf(err, errlen, "'%s': cannot read variable 'X': %s", sf->path,
                 matio_msg[0]
                     ? matio_msg
                     : (pixels || !x ? "damaged or changed while reading" : "out of memory"));
        goto out;
    }
    y = Mat_VarRead(mat, "y");
    if (!y || !y->data || y->isComplex || y->data_size <= 0 ||
        y->nbytes / (size_t)y->data_size != sf->n) {
        snprintf(err, errlen, "'%s': cannot read variable 'y': %s", sf->path,
                 matio_msg[0] ? matio_msg : "damaged, complex or changed while reading");
        goto out;
    }
    for (uint64_t i = 0; i < sf->n; i++) {
        int64_t label;
        int r;

        if (label_at(y, i, &label) < 0) {
            snprintf(err, errlen,
                     "'%s': variable 'y': element %llu is not a label 1..10 "
                     "(10 stands for the digit 0)",
                     sf->path, (unsigned long long)i + 1);
            goto out;
        }
        data_colmajor_to_hwc(pixels + i * DATA_IMAGE_BYTES, hwc);
        if (sf->official_train)
            r = data_set_add_official_train(ds, hwc, label, msg, sizeof(msg));
        else
            r = data_set_add(ds, DATA_TEST, hwc, label, msg, sizeof(msg));
        if (r < 0) {
            snprintf(err, errlen, "'%s': image %llu: %s", sf->path, (unsigned long long)i + 1, msg);
            goto out;
        }
    }
    rc = 0;
out:
    free(pixels);
    Mat_VarFree(x);
    Mat_VarFree(y);
    Mat_Close(mat);
    return rc;
}

int data_import_svhn(const struct data_import *imp, struct data_set *ds, char *err, size_t errlen)
{
    static const char *const names[3] = {"train_32x32.mat", "extra_32x32.mat", "test_32x32.mat"};
    struct svhn_file files[3];
    struct data_source sources[3];
    uint64_t n_off_train = 0, n_off_test = 0, n_train, n_test;
    int n_files = 0, rc = -1, opened = 0;

    memset(ds, 0, sizeof(*ds));
    Mat_LogInitFunc("joulebench", matio_log);
    for (int i = 0; i < 3; i++) {
        struct svhn_file *sf = &files[n_files];
        if (i == 1 && !imp->svhn_extra)
            continue;
        if (i == 2 && imp->split != DATA_SPLIT_OFFICIAL)
            continue; /* seed-2023 takes its test set from the training set */
        memset(sf, 0, sizeof(*sf));
        if (snprintf(sf->path, sizeof(sf->path), "%s/%s", imp->path, names[i]) >=
            (int)sizeof(sf->path)) {
            snprintf(err, errlen, "'%s': path too long", imp->path);
            return -1;
        }
        sf->base = names[i];
        sf->official_train = i < 2;
        if (probe(sf, err, errlen) < 0)
            return -1;
        if (sf->official_train)
            n_off_train += sf->n;
        else
            n_off_test += sf->n;
        n_files++;
    }
    /* Hash the sources first: a file that cannot be read fails before anything is written. */
    for (int i = 0; i < n_files; i++)
        if (data_source_hash(&sources[i], files[i].path, err, errlen) < 0)
            return -1;
    data_split_sizes(imp->split, n_off_train, n_off_test, &n_train, &n_test);
    if (data_set_open(ds, imp->root, "svhn", imp->split, n_train, n_test, 10, err, errlen) < 0)
        goto out;
    opened = 1;
    for (int i = 0; i < n_files; i++)
        ds->sources[i] = sources[i];
    ds->n_sources = n_files;
    for (int i = 0; i < n_files; i++)
        if (add_file(ds, &files[i], err, errlen) < 0)
            goto out;
    if (data_set_commit(ds, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0 && opened)
        data_set_abort(ds);
    return rc;
}

#else /* !JB_HAVE_MATIO */

int data_import_svhn(const struct data_import *imp, struct data_set *ds, char *err, size_t errlen)
{
    (void)imp;
    memset(ds, 0, sizeof(*ds));
    snprintf(err, errlen,
             "this joulebench was built without libmatio: SVHN import is not "
             "available (install libmatio-dev and rebuild)");
    return -1;
}
#endif
