/*
 * cifar.c - imports CIFAR-10 and CIFAR-100 from the official binary tarballs as downloaded
 * (https://www.cs.toronto.edu/~kriz/cifar.html), read through libarchive in memory: nothing is
 * unpacked to disk.  The archive is hashed on the same pass for the manifest.
 *
 * CIFAR-10: cifar-10-batches-bin/data_batch_{1..5}.bin and test_batch.bin, records of 1 label
 * byte + 3072 pixel bytes.  CIFAR-100: cifar-100-binary/train.bin and test.bin, records of a
 * coarse label byte, a fine label byte (the one used: 100 classes) + 3072 pixel bytes.  Pixels:
 * 1024 red, then 1024 green, then 1024 blue, each plane row by row.  Not for the "python
 * version" tarballs torchvision downloads: workloads/common/import_torchvision.py converts those.
 */
#include "data/data.h"
#include "util/fsutil.h"

#ifdef JB_HAVE_LIBARCHIVE
#include <archive.h>
#endif
#ifdef JB_HAVE_LIBARCHIVE
#include <archive_entry.h>
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CIFAR_MAX_MEMBER_BYTES (512u << 20) /* the largest real member is 154 MB */
#define CIFAR_MAX_MEMBERS 6

struct cifar_layout {
    const char *dataset;
    int classes;
    size_t record_bytes;
    size_t label_offset;
    const char *train[5];
    int n_train;
    const char *test;
    const char *archive_hint;
};

static const struct cifar_layout layouts[] = {
    {"cifar10",
     10,
     3073,
     0,
     {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
      "data_batch_5.bin"},
     5,
     "test_batch.bin",
     "cifar-10-binary.tar.gz"},
    {"cifar100", 100, 3074, 1, {"train.bin"}, 1, "test.bin", "cifar-100-binary.tar.gz"},
};

void data_chw_to_hwc(const uint8_t *chw, uint8_t *hwc)
{
    for (int c = 0; c < DATA_C; c++)
        for (int i = 0; i < DATA_H * DATA_W; i++)
            hwc[i * DATA_C + c] = chw[c * DATA_H * DATA_W + i];
}

#ifdef JB_HAVE_LIBARCHIVE

/* The archive is read through this callback so the file's SHA-256 is computed on the same pass. */
struct hashed_file {
    FILE *f;
    struct sha256 hash;
    unsigned char buf[1 << 16];
    int read_error;
};

static la_ssize_t hashed_read(struct archive *a, void *user, const void **buf)
{
    struct hashed_file *h = user;
    size_t n = fread(h->buf, 1, sizeof(h->buf), h->f);

    if (n == 0 && ferror(h->f)) {
        h->read_error = errno ? errno : EIO;
        archive_set_error(a, h->read_error, "read error: %s", strerror(h->read_error));
        return -1;
    }
    sha256_update(&h->hash, h->buf, n);
    *buf = h->buf;
    return (la_ssize_t)n;
}

struct member {
    const char *want; /* base name looked for */
    char name[512];   /* full name inside the archive */
    unsigned char *data;
    size_t len;
};

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int read_member(struct archive *a, struct archive_entry *e, struct member *m,
                       const char *file, char *err, size_t errlen)
{
    size_t cap, len = 0;
    unsigned char *buf;

    if (archive_entry_size_is_set(e) && archive_entry_size(e) > CIFAR_MAX_MEMBER_BYTES) {
        snprintf(err, errlen, "'%s': member '%s' is too large (%lld bytes) for a CIFAR batch", file,
                 m->name, (long long)archive_entry_size(e));
        return -1;
    }
    cap = archive_entry_size_is_set(e) ? (size_t)archive_entry_size(e) + 1 : 1 << 20;
    buf = malloc(cap);
    if (!buf) {
        snprintf(err, errlen, "'%s': member '%s': out of memory", file, m->name);
        return -1;
    }
    for (;;) {
        la_ssize_t n;
        if (len == cap) {
            unsigned char *p;
            if (cap >= CIFAR_MAX_MEMBER_BYTES) {
                snprintf(err, errlen, "'%s': member '%s' is too large for a CIFAR batch", file,
                         m->name);
                free(buf);
                return -1;
            }
            cap *= 2;
            p = realloc(buf, cap);
            if (!p) {
                snprintf(err, errlen, "'%s': member '%s': out of memory", file, m->name);
                free(buf);
                return -1;
            }
            buf = p;
        }
        n = archive_read_data(a, buf + len, cap - len);
        if (n < 0) {
            snprintf(err, errlen, "'%s': cannot read member '%s': %s (truncated download?)", file,
                     m->name, archive_error_string(a));
            free(buf);
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    m->data = buf;
    m->len = len;
    return 0;
}

/* Reads every member the layout names into memory; members of other names are skipped. */
static int read_archive(const struct data_import *imp, const struct cifar_layout *L,
                        struct member *mem, int n_mem, struct data_source *src, char *err,
                        size_t errlen)
{
    struct archive *a = NULL;
    struct archive_entry *e;
    struct hashed_file *h;
    int rc = -1, r, python_version = 0, fd;
    const char *file = imp->path;

    h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* a regular file only: fopen of a FIFO would block forever (fs_open_regular cannot) */
    fd = fs_open_regular(file, FS_READ_MAX, NULL, err, errlen);
    if (fd < 0)
        goto out;
    h->f = fdopen(fd, "rb");
    if (!h->f) {
        snprintf(err, errlen, "cannot open '%s': %s", file, strerror(errno));
        close(fd);
        goto out;
    }
    sha256_init(&h->hash);
    a = archive_read_new();
    if (!a) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    if (archive_read_open(a, h, NULL, hashed_read, NULL) != ARCHIVE_OK) {
        snprintf(err, errlen,
                 "'%s': cannot read the archive: %s (expected %s; a truncated "
                 "download?)",
                 file, archive_error_string(a), L->archive_hint);
        goto out;
    }
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        const char *base;
        struct member *m = NULL;

        if (!name || archive_entry_filetype(e) != AE_IFREG)
            continue;
        base = base_name(name);
        if (!strcmp(base, "data_batch_1") || !strcmp(base, "train"))
            python_version = 1;
        for (int i = 0; i < n_mem; i++)
            if (!strcmp(base, mem[i].want))
                m = &mem[i];
        if (!m)
            continue;
        if (m->data) {
            snprintf(err, errlen, "'%s': member '%s' appears twice (as '%s' and '%s')", file,
                     m->want, m->name, name);
            goto out;
        }
        snprintf(m->name, sizeof(m->name), "%s", name);
        if (read_member(a, e, m, file, err, errlen) < 0)
            goto out;
    }
    if (r != ARCHIVE_EOF) {
        snprintf(err, errlen, "'%s': cannot read the archive: %s (truncated download?)", file,
                 archive_error_string(a));
        goto out;
    }
    for (int i = 0; i < n_mem; i++) {
        if (mem[i].data)
            continue;
        if (python_version)
            snprintf(err, errlen,
                     "'%s': member '%s' not found: this looks like the python version of the "
                     "data set (use %s, or workloads/common/import_torchvision.py)",
                     file, mem[i].want, L->archive_hint);
        else
            snprintf(err, errlen, "'%s': member '%s' not found (expected the binary version, %s)",
                     file, mem[i].want, L->archive_hint);
        goto out;
    }
    /* Hash the rest of the file: libarchive stops at the end-of-archive blocks. */
    for (;;) {
        size_t n = fread(h->buf, 1, sizeof(h->buf), h->f);
        sha256_update(&h->hash, h->buf, n);
        if (n == 0)
            break;
    }
    if (ferror(h->f) || h->read_error) {
        snprintf(err, errlen, "cannot read '%s': %s", file,
                 strerror(h->read_error ? h->read_error : EIO));
        goto out;
    }
    snprintf(src->file, sizeof(src->file), "%s", base_name(file));
    src->size_bytes = h->hash.total_bytes;
    sha256_final_hex(&h->hash, src->sha256);
    rc = 0;
out:
    if (a)
        archive_read_free(a);
    if (h->f)
        fclose(h->f);
    free(h);
    return rc;
}

static int check_member(const char *file, const struct cifar_layout *L, const struct member *m,
                        char *err, size_t errlen)
{
    if (m->len == 0 || m->len % L->record_bytes != 0) {
        snprintf(err, errlen,
                 "'%s': member '%s' is %zu bytes, not a whole number of %zu-byte records "
                 "(truncated?)",
                 file, m->name, m->len, L->record_bytes);
        return -1;
    }
    return 0;
}

static int add_records(struct data_set *ds, const char *file, const struct cifar_layout *L,
                       const struct member *m, int official_train, char *err, size_t errlen)
{
    uint8_t hwc[DATA_IMAGE_BYTES];
    size_t n = m->len / L->record_bytes;
    char why[256];

    for (size_t i = 0; i < n; i++) {
        const uint8_t *rec = m->data + i * L->record_bytes;
        int64_t label = rec[L->label_offset];
        int rc;

        data_chw_to_hwc(rec + L->record_bytes - DATA_IMAGE_BYTES, hwc);
        if (official_train)
            rc = data_set_add_official_train(ds, hwc, label, why, sizeof(why));
        else
            rc = data_set_add(ds, DATA_TEST, hwc, label, why, sizeof(why));
        if (rc < 0) {
            snprintf(err, errlen, "'%s': member '%s': record %zu: %s", file, m->name, i, why);
            return -1;
        }
    }
    return 0;
}

int data_import_cifar(const struct data_import *imp, struct data_set *ds, char *err, size_t errlen)
{
    const struct cifar_layout *L = NULL;
    struct member mem[CIFAR_MAX_MEMBERS];
    struct data_source src;
    uint64_t n_off_train = 0, n_off_test = 0, n_train, n_test;
    int n_mem = 0, rc = -1, opened = 0;

    memset(ds, 0, sizeof(*ds));
    memset(mem, 0, sizeof(mem));
    for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
        if (!strcmp(imp->dataset, layouts[i].dataset))
            L = &layouts[i];
    if (!L) {
        snprintf(err, errlen, "unknown CIFAR data set '%s'", imp->dataset);
        return -1;
    }
    for (int i = 0; i < L->n_train; i++)
        mem[n_mem++].want = L->train[i];
    /* seed-2023 takes its test set from the training set: the official test set is not read. */
    if (imp->split == DATA_SPLIT_OFFICIAL)
        mem[n_mem++].want = L->test;
    if (read_archive(imp, L, mem, n_mem, &src, err, errlen) < 0)
        goto out;
    for (int i = 0; i < n_mem; i++) {
        if (check_member(imp->path, L, &mem[i], err, errlen) < 0)
            goto out;
        if (i < L->n_train)
            n_off_train += mem[i].len / L->record_bytes;
        else
            n_off_test += mem[i].len / L->record_bytes;
    }
    data_split_sizes(imp->split, n_off_train, n_off_test, &n_train, &n_test);
    if (data_set_open(ds, imp->root, imp->dataset, imp->split, n_train, n_test, L->classes, err,
                      errlen) < 0)
        goto out;
    opened = 1;
    ds->sources[0] = src;
    ds->n_sources = 1;
    for (int i = 0; i < n_mem; i++)
        if (add_records(ds, imp->path, L, &mem[i], i < L->n_train, err, errlen) < 0)
            goto out;
    if (data_set_commit(ds, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0 && opened)
        data_set_abort(ds);
    for (int i = 0; i < n_mem; i++)
        free(mem[i].data);
    return rc;
}

#else /* !JB_HAVE_LIBARCHIVE */

int data_import_cifar(const struct data_import *imp, struct data_set *ds, char *err, size_t errlen)
{
    (void)imp;
    (void)layouts;
    memset(ds, 0, sizeof(*ds));
    snprintf(err, errlen,
             "this joulebench was built without libarchive: CIFAR import is not "
             "available (install libarchive-dev and rebuild)");
    return -1;
}
#endif
