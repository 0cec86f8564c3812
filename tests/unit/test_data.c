/*
 * test_data.c - the data module: SHA-256 against the FIPS 180-4 examples, .npy headers against
 * what numpy writes, the pixel reorderings, and whole imports from archives and MAT-files built
 * here in the real formats (a .tar.gz written with libarchive, .mat files written with libmatio,
 * Level 5 compressed and uncompressed, and v7.3), including the failures: each must name the
 * file and member or variable, and leave no file behind.
 */
#include "data/data.h"
#include "util/fsutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <matio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/jb-test-data-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void pathf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(buf, cap, "%s/", tmpdir);
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
}

/* ---- SHA-256 ------------------------------------------------------------------------------ */

static void test_sha256_fips(void **state)
{
    char hex[SHA256_HEX_CHARS];
    struct sha256 s;
    char *million;
    (void)state;

    sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* the 896-bit example: two blocks of padding */
    sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
               "klmnopqrlmnopqrsmnopqrstnopqrstu",
               112, hex);
    assert_string_equal(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    /* one million 'a', fed in uneven pieces to exercise the block buffering */
    million = malloc(1000000);
    assert_non_null(million);
    memset(million, 'a', 1000000);
    sha256_init(&s);
    for (size_t off = 0, step = 1; off < 1000000; off += step, step = step * 3 % 1000 + 1)
        sha256_update(&s, million + off, off + step > 1000000 ? 1000000 - off : step);
    sha256_final_hex(&s, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

/* ---- .npy headers ------------------------------------------------------------------------- */

static void test_npy_header(void **state)
{
    char buf[NPY_MAX_HEADER];
    uint64_t xs[4] = {5, 32, 32, 3}, ys[1] = {5}, big[4] = {604388, 32, 32, 3};
    size_t n;
    (void)state;

    /* Exactly numpy 2.x np.save() output for these arrays. */
    n = npy_header(buf, sizeof(buf), "|u1", xs, 4);
    assert_int_equal(n, 128);
    assert_memory_equal(buf, "\x93NUMPY\x01\x00\x76\x00", 10);
    assert_memory_equal(buf + 10,
                        "{'descr': '|u1', 'fortran_order': False, 'shape': (5, 32, 32, "
                        "3), }",
                        67);
    for (size_t i = 77; i < 127; i++)
        assert_int_equal(buf[i], ' ');
    assert_int_equal(buf[127], '\n');
    n = npy_header(buf, sizeof(buf), "<i8", ys, 1);
    assert_int_equal(n, 128);
    assert_memory_equal(buf + 10, "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }", 57);
    assert_int_equal(buf[127], '\n');
    /* aligned for every first-axis length */
    for (uint64_t k = 0; k < 100000000000ull; k = k * 10 + 7) {
        big[0] = k;
        n = npy_header(buf, sizeof(buf), "|u1", big, 4);
        assert_int_equal(n % 64, 0);
        assert_int_equal((unsigned char)buf[8] | (unsigned char)buf[9] << 8, n - 10);
        assert_int_equal(buf[n - 1], '\n');
    }
    assert_int_equal(npy_header(buf, 64, "|u1", xs, 4), 0); /* too small a buffer */
}

/* ---- pixel orders ------------------------------------------------------------------------- */

static uint8_t px(int n, int h, int w, int c)
{
    return (uint8_t)(n * 31 + h * 7 + w * 3 + c * 101);
}

static void test_reorder(void **state)
{
    uint8_t src[DATA_IMAGE_BYTES], hwc[DATA_IMAGE_BYTES];
    (void)state;

    for (int c = 0; c < 3; c++)
        for (int h = 0; h < 32; h++)
            for (int w = 0; w < 32; w++)
                src[c * 1024 + h * 32 + w] = px(0, h, w, c);
    data_chw_to_hwc(src, hwc);
    for (int h = 0; h < 32; h++)
        for (int w = 0; w < 32; w++)
            for (int c = 0; c < 3; c++)
                assert_int_equal(hwc[(h * 32 + w) * 3 + c], px(0, h, w, c));
    for (int c = 0; c < 3; c++)
        for (int h = 0; h < 32; h++)
            for (int w = 0; w < 32; w++)
                src[h + 32 * w + 1024 * c] = px(1, h, w, c);
    data_colmajor_to_hwc(src, hwc);
    for (int h = 0; h < 32; h++)
        for (int w = 0; w < 32; w++)
            for (int c = 0; c < 3; c++)
                assert_int_equal(hwc[(h * 32 + w) * 3 + c], px(1, h, w, c));
}

static void test_split_sizes(void **state)
{
    uint64_t tr, te;
    (void)state;

    data_split_sizes(DATA_SPLIT_SEED2023, 50000, 10000, &tr, &te);
    assert_int_equal(tr, 45000);
    assert_int_equal(te, 5000);
    data_split_sizes(DATA_SPLIT_SEED2023, 73257, 26032, &tr, &te);
    assert_int_equal(tr, 65931); /* int(73257 * 0.9), as Keras and sklearn split */
    assert_int_equal(te, 7326);
    data_split_sizes(DATA_SPLIT_OFFICIAL, 73257, 26032, &tr, &te);
    assert_int_equal(tr, 73257);
    assert_int_equal(te, 26032);
}

/* ---- reading results back ----------------------------------------------------------------- */

struct npy {
    char *raw;
    size_t len;
    const uint8_t *data;
    size_t data_len;
};

static void npy_load(struct npy *a, const char *dir, const char *file)
{
    char path[512], err[256];
    size_t hlen;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    assert_int_equal(fs_read_file(path, &a->raw, &a->len, err, sizeof(err)), 0);
    assert_true(a->len >= 10);
    assert_memory_equal(a->raw, "\x93NUMPY\x01\x00", 8);
    hlen = (unsigned char)a->raw[8] | (size_t)(unsigned char)a->raw[9] << 8;
    assert_int_equal((10 + hlen) % 64, 0);
    a->data = (const uint8_t *)a->raw + 10 + hlen;
    a->data_len = a->len - 10 - hlen;
}

static int64_t label_at(const struct npy *y, size_t i)
{
    uint64_t v = 0;
    for (int b = 7; b >= 0; b--)
        v = v << 8 | y->data[i * 8 + (size_t)b];
    return (int64_t)v;
}

static void expect_no_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d)
        return; /* not even created: fine */
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            fail_msg("left behind in %s: %s", dir, e->d_name);
    closedir(d);
}

/* ---- CIFAR -------------------------------------------------------------------------------- */

struct tar_member {
    const char *name;
    const uint8_t *data;
    size_t len;
};

static void write_tgz(const char *path, const struct tar_member *m, int n)
{
    struct archive *a = archive_write_new();
    struct archive_entry *e = archive_entry_new();

    assert_non_null(a);
    assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    assert_int_equal(archive_write_set_format_ustar(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (int i = 0; i < n; i++) {
        archive_entry_clear(e);
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)m[i].len);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        if (m[i].len)
            assert_int_equal(archive_write_data(a, m[i].data, m[i].len), (la_ssize_t)m[i].len);
    }
    archive_entry_free(e);
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

/* Record r (global numbering) of a CIFAR batch: labels then CHW pixels px(r, h, w, c). */
static uint8_t *cifar_records(int first, int n, size_t label_bytes, int classes)
{
    size_t rec = label_bytes + DATA_IMAGE_BYTES;
    uint8_t *buf = malloc(rec * (size_t)n);

    assert_non_null(buf);
    for (int i = 0; i < n; i++) {
        uint8_t *p = buf + rec * (size_t)i;
        int r = first + i;
        if (label_bytes == 2) {
            p[0] = (uint8_t)((r * 3 % classes) / 5); /* coarse: 20 super-classes */
            p[1] = (uint8_t)(r * 3 % classes);       /* fine */
        } else {
            p[0] = (uint8_t)(r * 3 % classes);
        }
        for (int c = 0; c < 3; c++)
            for (int h = 0; h < 32; h++)
                for (int w = 0; w < 32; w++)
                    p[label_bytes + (size_t)(c * 1024 + h * 32 + w)] = px(r, h, w, c);
    }
    return buf;
}

/* Image i of x must be record `first + i`, label `r * 3 % classes`. */
static void expect_images(const struct npy *x, const struct npy *y, size_t n, int first,
                          int classes)
{
    assert_int_equal(x->data_len, n * DATA_IMAGE_BYTES);
    assert_int_equal(y->data_len, n * 8);
    for (size_t i = 0; i < n; i++) {
        int r = first + (int)i;
        assert_int_equal(label_at(y, i), r * 3 % classes);
        for (int h = 0; h < 32; h++)
            for (int w = 0; w < 32; w++)
                for (int c = 0; c < 3; c++)
                    assert_int_equal(x->data[i * DATA_IMAGE_BYTES + (size_t)((h * 32 + w) * 3 + c)],
                                     px(r, h, w, c));
    }
}

static void make_cifar10(const char *path, int per_batch, int test_n, int drop_last_byte,
                         const char *skip)
{
    static const char *names[6] = {
        "cifar-10-batches-bin/data_batch_1.bin", "cifar-10-batches-bin/data_batch_2.bin",
        "cifar-10-batches-bin/data_batch_3.bin", "cifar-10-batches-bin/data_batch_4.bin",
        "cifar-10-batches-bin/data_batch_5.bin", "cifar-10-batches-bin/test_batch.bin"};
    struct tar_member m[8];
    uint8_t *bufs[6];
    static const char meta[] = "airplane\nautomobile\n";
    int n = 0;

    /* The real archive has batches.meta.txt and readme.html too; put one first. */
    m[n++] = (struct tar_member){"cifar-10-batches-bin/batches.meta.txt", (const uint8_t *)meta,
                                 sizeof(meta) - 1};
    for (int b = 0; b < 6; b++) {
        int count = b < 5 ? per_batch : test_n;
        int first = b < 5 ? b * per_batch : 1000;
        bufs[b] = cifar_records(first, count, 1, 10);
        if (skip && strstr(names[b], skip))
            continue;
        m[n++] = (struct tar_member){names[b], bufs[b],
                                     (size_t)count * 3073 - (b == 2 && drop_last_byte)};
    }
    write_tgz(path, m, n);
    for (int b = 0; b < 6; b++)
        free(bufs[b]);
}

static void test_cifar10(void **state)
{
    struct data_import imp = {.dataset = "cifar10", .root = NULL};
    struct data_set ds;
    struct npy trx, try_, tex, tey;
    char tgz[512], dir[600], err[512], root[512], path[700], *man;
    char hex[SHA256_HEX_CHARS];
    (void)state;

    pathf(tgz, sizeof(tgz), "cifar-10-binary.tar.gz");
    make_cifar10(tgz, 2, 3, 0, NULL);
    pathf(root, sizeof(root), "out");
    imp.path = tgz;
    imp.root = root;

    /* seed-2023: 10 training records, the last ceil(10%) = 1 is the test set */
    imp.split = DATA_SPLIT_SEED2023;
    assert_int_equal(data_import_cifar(&imp, &ds, err, sizeof(err)), 0);
    snprintf(dir, sizeof(dir), "%s/cifar10", root);
    npy_load(&trx, dir, "train_x.npy");
    npy_load(&try_, dir, "train_y.npy");
    npy_load(&tex, dir, "test_x.npy");
    npy_load(&tey, dir, "test_y.npy");
    expect_images(&trx, &try_, 9, 0, 10);
    expect_images(&tex, &tey, 1, 9, 10);
    /* the manifest names the archive by its hash, and each file by its own */
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    assert_int_equal(fs_read_file(path, &man, NULL, err, sizeof(err)), 0);
    assert_non_null(strstr(man, "\"split\": \"seed-2023\""));
    assert_non_null(strstr(man, "\"train\": 9"));
    assert_non_null(strstr(man, "\"classes\": 10"));
    assert_non_null(strstr(man, "\"file\": \"cifar-10-binary.tar.gz\""));
    assert_int_equal(sha256_file_hex(tgz, hex, NULL, err, sizeof(err)), 0);
    assert_non_null(strstr(man, hex));
    sha256_hex(trx.raw, trx.len, hex);
    assert_non_null(strstr(man, hex));
    free(man);
    free(trx.raw), free(try_.raw), free(tex.raw), free(tey.raw);

    /* official: all 10 for training, test_batch.bin's 3 for testing */
    imp.split = DATA_SPLIT_OFFICIAL;
    assert_int_equal(data_import_cifar(&imp, &ds, err, sizeof(err)), 0);
    npy_load(&trx, dir, "train_x.npy");
    npy_load(&try_, dir, "train_y.npy");
    npy_load(&tex, dir, "test_x.npy");
    npy_load(&tey, dir, "test_y.npy");
    expect_images(&trx, &try_, 10, 0, 10);
    expect_images(&tex, &tey, 3, 1000, 10);
    free(trx.raw), free(try_.raw), free(tex.raw), free(tey.raw);
}

/* A FIFO named as the CIFAR archive (issue 13): a prompt, clear error, not a blocked fopen (the
 * alarm turns a hang into a failure). */
static void test_cifar_fifo(void **state)
{
    struct data_import imp = {.dataset = "cifar10", .split = DATA_SPLIT_SEED2023};
    struct data_set ds;
    char fifo[512], root[512], err[512], want[700];

    (void)state;
    pathf(fifo, sizeof(fifo), "cifar.fifo");
    pathf(root, sizeof(root), "out-fifo");
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    imp.path = fifo;
    imp.root = root;
    alarm(20);
    assert_int_equal(data_import_cifar(&imp, &ds, err, sizeof(err)), -1);
    alarm(0);
    snprintf(want, sizeof(want), "cannot read '%s': not a regular file (a FIFO)", fifo);
    if (!strstr(err, want))
        fail_msg("got '%s', want '%s'", err, want);
    unlink(fifo);
}

static void test_cifar100(void **state)
{
    struct data_import imp = {.dataset = "cifar100", .split = DATA_SPLIT_OFFICIAL};
    struct data_set ds;
    struct npy trx, try_, tex, tey;
    struct tar_member m[2];
    char tgz[512], dir[600], err[512], root[512];
    uint8_t *train = cifar_records(0, 40, 2, 100), *test = cifar_records(500, 4, 2, 100);
    (void)state;

    m[0] = (struct tar_member){"cifar-100-binary/test.bin", test, 4 * 3074};
    m[1] = (struct tar_member){"cifar-100-binary/train.bin", train, 40 * 3074};
    pathf(tgz, sizeof(tgz), "cifar-100-binary.tar.gz");
    write_tgz(tgz, m, 2);
    pathf(root, sizeof(root), "out100");
    imp.path = tgz;
    imp.root = root;
    assert_int_equal(data_import_cifar(&imp, &ds, err, sizeof(err)), 0);
    assert_int_equal(ds.classes, 100);
    snprintf(dir, sizeof(dir), "%s/cifar100", root);
    npy_load(&trx, dir, "train_x.npy");
    npy_load(&try_, dir, "train_y.npy");
    npy_load(&tex, dir, "test_x.npy");
    npy_load(&tey, dir, "test_y.npy");
    expect_images(&trx, &try_, 40, 0, 100); /* fine labels, up to 99 */
    expect_images(&tex, &tey, 4, 500, 100);
    free(trx.raw), free(try_.raw), free(tex.raw), free(tey.raw);
    free(train);
    free(test);
}

static void expect_cifar_error(const char *tgz, enum data_split split, const char *root,
                               const char *want1, const char *want2)
{
    struct data_import imp = {.dataset = "cifar10", .path = tgz, .root = root, .split = split};
    struct data_set ds;
    char err[512], dir[600];

    err[0] = '\0';
    assert_int_equal(data_import_cifar(&imp, &ds, err, sizeof(err)), -1);
    if (!strstr(err, want1) || (want2 && !strstr(err, want2)))
        fail_msg("message '%s' lacks '%s' / '%s'", err, want1, want2 ? want2 : "");
    snprintf(dir, sizeof(dir), "%s/cifar10", root);
    expect_no_files(dir);
}

static void test_cifar_errors(void **state)
{
    char tgz[512], root[512];
    struct tar_member m[1];
    FILE *f;
    char *raw;
    size_t len;
    char err[256];
    (void)state;

    pathf(root, sizeof(root), "bad");
    pathf(tgz, sizeof(tgz), "missing.tar.gz");
    expect_cifar_error(tgz, DATA_SPLIT_SEED2023, root, "missing.tar.gz", "No such file");

    pathf(tgz, sizeof(tgz), "truncrec.tar.gz");
    make_cifar10(tgz, 2, 3, 1, NULL);
    expect_cifar_error(tgz, DATA_SPLIT_SEED2023, root, "data_batch_3.bin", "whole number");

    pathf(tgz, sizeof(tgz), "nobatch4.tar.gz");
    make_cifar10(tgz, 2, 3, 0, "data_batch_4");
    expect_cifar_error(tgz, DATA_SPLIT_SEED2023, root, "'data_batch_4.bin' not found", NULL);

    /* the test batch is only needed with the official split */
    pathf(tgz, sizeof(tgz), "notest.tar.gz");
    make_cifar10(tgz, 2, 3, 0, "test_batch");
    expect_cifar_error(tgz, DATA_SPLIT_OFFICIAL, root, "'test_batch.bin' not found", NULL);

    /* the python version gets a hint */
    m[0] = (struct tar_member){"cifar-10-batches-py/data_batch_1", (const uint8_t *)"x", 1};
    pathf(tgz, sizeof(tgz), "cifar-10-python.tar.gz");
    write_tgz(tgz, m, 1);
    expect_cifar_error(tgz, DATA_SPLIT_SEED2023, root, "python version", NULL);

    /* not an archive at all */
    pathf(tgz, sizeof(tgz), "junk.tar.gz");
    f = fopen(tgz, "wb");
    assert_non_null(f);
    fputs("this is not a tar file, not even close; it goes on for a while to fill a block\n", f);
    fclose(f);
    expect_cifar_error(tgz, DATA_SPLIT_SEED2023, root, "junk.tar.gz", NULL);

    /* a truncated download: the first half of a good archive */
    pathf(tgz, sizeof(tgz), "half.tar.gz");
    make_cifar10(tgz, 2, 3, 0, NULL);
    assert_int_equal(fs_read_file(tgz, &raw, &len, err, sizeof(err)), 0);
    assert_int_equal(fs_write_atomic(tgz, raw, len / 2, err, sizeof(err)), 0);
    free(raw);
    expect_cifar_error(tgz, DATA_SPLIT_SEED2023, root, "half.tar.gz", "truncated");
}

static void test_cifar_bad_label(void **state)
{
    char tgz[512], root[512];
    struct tar_member m[5];
    uint8_t *b = cifar_records(0, 2, 1, 10);
    static const char *names[5] = {"c/data_batch_1.bin", "c/data_batch_2.bin", "c/data_batch_3.bin",
                                   "c/data_batch_4.bin", "c/data_batch_5.bin"};
    uint8_t *bad = cifar_records(0, 2, 1, 10);
    (void)state;

    bad[3073] = 10;
    for (int i = 0; i < 5; i++)
        m[i] = (struct tar_member){names[i], i == 3 ? bad : b, 2 * 3073};
    pathf(tgz, sizeof(tgz), "label.tar.gz");
    write_tgz(tgz, m, 5);
    pathf(root, sizeof(root), "badlabel");
    expect_cifar_error(tgz, DATA_SPLIT_SEED2023, root, "c/data_batch_4.bin': record 1: label 10",
                       NULL);
    free(b);
    free(bad);
}

/* ---- SVHN --------------------------------------------------------------------------------- */

/* X(h, w, c, n) = px(first + n, h, w, c) in column-major order; y = digit (n % 10) with 0 as 10 */
static void write_mat(const char *path, enum mat_ft ver, enum matio_compression comp, int first,
                      size_t n, int y_class, const size_t *xdims_override, int bad_label)
{
    mat_t *mat = Mat_CreateVer(path, NULL, ver);
    size_t xdims[4] = {32, 32, 3, n}, ydims[2] = {n, 1};
    uint8_t *x = malloc(n * DATA_IMAGE_BYTES);
    double *yd = malloc(n * sizeof(double));
    uint8_t *yu = malloc(n);
    matvar_t *vx, *vy;

    assert_non_null(mat);
    for (size_t i = 0; i < n; i++) {
        int digit = (first + (int)i) % 10;
        yd[i] = digit == 0 ? 10 : digit;
        yu[i] = (uint8_t)yd[i];
        for (int c = 0; c < 3; c++)
            for (int h = 0; h < 32; h++)
                for (int w = 0; w < 32; w++)
                    x[(size_t)h + 32 * (size_t)w + 1024 * (size_t)c + 3072 * i] =
                        px(first + (int)i, h, w, c);
    }
    if (bad_label)
        yd[n - 1] = yu[n - 1] = 11;
    vx = Mat_VarCreate("X", MAT_C_UINT8, MAT_T_UINT8, 4,
                       xdims_override ? (size_t *)xdims_override : xdims, x, 0);
    vy = y_class == MAT_C_DOUBLE ? Mat_VarCreate("y", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, ydims, yd, 0)
                                 : Mat_VarCreate("y", MAT_C_UINT8, MAT_T_UINT8, 2, ydims, yu, 0);
    assert_non_null(vx);
    assert_non_null(vy);
    assert_int_equal(Mat_VarWrite(mat, vx, comp), 0);
    assert_int_equal(Mat_VarWrite(mat, vy, comp), 0);
    Mat_VarFree(vx);
    Mat_VarFree(vy);
    Mat_Close(mat);
    free(x);
    free(yd);
    free(yu);
}

static void expect_svhn(const struct npy *x, const struct npy *y, size_t n, int first)
{
    assert_int_equal(x->data_len, n * DATA_IMAGE_BYTES);
    assert_int_equal(y->data_len, n * 8);
    for (size_t i = 0; i < n; i++) {
        int r = first + (int)i;
        assert_int_equal(label_at(y, i), r % 10); /* 10 became 0 */
        for (int h = 0; h < 32; h++)
            for (int w = 0; w < 32; w++)
                for (int c = 0; c < 3; c++)
                    assert_int_equal(x->data[i * DATA_IMAGE_BYTES + (size_t)((h * 32 + w) * 3 + c)],
                                     px(r, h, w, c));
    }
}

static void svhn_case(const char *sub, enum mat_ft ver, enum matio_compression comp, int y_class)
{
    struct data_import imp = {.dataset = "svhn"};
    struct data_set ds;
    struct npy trx, try_, tex, tey;
    char src[512], p[600], root[600], dir[700], err[512];

    pathf(src, sizeof(src), "%s", sub);
    assert_int_equal(fs_mkdir_p(src, err, sizeof(err)), 0);
    snprintf(p, sizeof(p), "%s/train_32x32.mat", src);
    write_mat(p, ver, comp, 0, 12, y_class, NULL, 0);
    snprintf(p, sizeof(p), "%s/test_32x32.mat", src);
    write_mat(p, ver, comp, 100, 5, y_class, NULL, 0);
    snprintf(p, sizeof(p), "%s/extra_32x32.mat", src);
    write_mat(p, ver, comp, 200, 8, y_class, NULL, 0);
    snprintf(root, sizeof(root), "%s/out", src);
    snprintf(dir, sizeof(dir), "%s/svhn", root);
    imp.path = src;
    imp.root = root;

    /* seed-2023: train 12 -> 10 + 2 (ceil 1.2) */
    imp.split = DATA_SPLIT_SEED2023;
    if (data_import_svhn(&imp, &ds, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    npy_load(&trx, dir, "train_x.npy");
    npy_load(&try_, dir, "train_y.npy");
    npy_load(&tex, dir, "test_x.npy");
    npy_load(&tey, dir, "test_y.npy");
    expect_svhn(&trx, &try_, 10, 0);
    expect_svhn(&tex, &tey, 2, 10);
    free(trx.raw), free(try_.raw), free(tex.raw), free(tey.raw);

    /* official with extra: train 12 + extra 8, test 5 */
    imp.split = DATA_SPLIT_OFFICIAL;
    imp.svhn_extra = 1;
    if (data_import_svhn(&imp, &ds, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(ds.n_sources, 3);
    npy_load(&trx, dir, "train_x.npy");
    npy_load(&try_, dir, "train_y.npy");
    npy_load(&tex, dir, "test_x.npy");
    npy_load(&tey, dir, "test_y.npy");
    assert_int_equal(trx.data_len, 20 * DATA_IMAGE_BYTES);
    trx.data_len = 12 * DATA_IMAGE_BYTES;
    try_.data_len = 12 * 8;
    expect_svhn(&trx, &try_, 12, 0);
    trx.data += 12 * DATA_IMAGE_BYTES;
    try_.data += 12 * 8;
    trx.data_len = 8 * DATA_IMAGE_BYTES;
    try_.data_len = 8 * 8;
    expect_svhn(&trx, &try_, 8, 200);
    expect_svhn(&tex, &tey, 5, 100);
    free(trx.raw), free(try_.raw), free(tex.raw), free(tey.raw);
}

static void test_svhn_v5_compressed(void **state)
{
    (void)state;
    svhn_case("v5z", MAT_FT_MAT5, MAT_COMPRESSION_ZLIB, MAT_C_UINT8);
}

static void test_svhn_v5_plain_double(void **state)
{
    (void)state;
    svhn_case("v5", MAT_FT_MAT5, MAT_COMPRESSION_NONE, MAT_C_DOUBLE);
}

static void test_svhn_v73(void **state)
{
    (void)state;
    svhn_case("v73", MAT_FT_MAT73, MAT_COMPRESSION_NONE, MAT_C_DOUBLE);
}

static void expect_svhn_error(const char *src, enum data_split split, const char *want1,
                              const char *want2)
{
    struct data_import imp = {.dataset = "svhn", .path = src, .split = split};
    struct data_set ds;
    char err[512], root[600], dir[700];

    snprintf(root, sizeof(root), "%s/out", src);
    snprintf(dir, sizeof(dir), "%s/svhn", root);
    imp.root = root;
    err[0] = '\0';
    assert_int_equal(data_import_svhn(&imp, &ds, err, sizeof(err)), -1);
    if (!strstr(err, want1) || (want2 && !strstr(err, want2)))
        fail_msg("message '%s' lacks '%s' / '%s'", err, want1, want2 ? want2 : "");
    expect_no_files(dir);
}

static void test_svhn_errors(void **state)
{
    char src[512], p[600], err[256];
    size_t wrong[4] = {32, 32, 1, 4};
    FILE *f;
    (void)state;

    pathf(src, sizeof(src), "svhn-bad");
    assert_int_equal(fs_mkdir_p(src, err, sizeof(err)), 0);
    expect_svhn_error(src, DATA_SPLIT_SEED2023, "train_32x32.mat", "No such file");

    snprintf(p, sizeof(p), "%s/train_32x32.mat", src);
    write_mat(p, MAT_FT_MAT5, MAT_COMPRESSION_ZLIB, 0, 4, MAT_C_DOUBLE, wrong, 0);
    expect_svhn_error(src, DATA_SPLIT_SEED2023, "train_32x32.mat': variable 'X' is 32x32x1x4",
                      NULL);

    write_mat(p, MAT_FT_MAT5, MAT_COMPRESSION_ZLIB, 0, 4, MAT_C_DOUBLE, NULL, 1);
    expect_svhn_error(src, DATA_SPLIT_SEED2023, "variable 'y': element 4", NULL);

    /* good train, no test file: fine for seed-2023, an error for official */
    write_mat(p, MAT_FT_MAT5, MAT_COMPRESSION_ZLIB, 0, 4, MAT_C_DOUBLE, NULL, 0);
    expect_svhn_error(src, DATA_SPLIT_OFFICIAL, "test_32x32.mat", NULL);

    snprintf(p, sizeof(p), "%s/test_32x32.mat", src);
    f = fopen(p, "wb");
    assert_non_null(f);
    fputs("MATLAB 5.0 MAT-file, but then nothing useful", f);
    fclose(f);
    expect_svhn_error(src, DATA_SPLIT_OFFICIAL, "test_32x32.mat", NULL);
}

/* ---- synthetic ---------------------------------------------------------------------------- */

static void test_synth(void **state)
{
    struct data_synth syn = {.name = "syn", .n_train = 30, .n_test = 7, .seed = 42, .classes = 5};
    struct data_set ds;
    uint8_t a[DATA_IMAGE_BYTES], b[DATA_IMAGE_BYTES];
    int64_t la, lb;
    int counts[5] = {0};
    char root[512], dir[600], err[256];
    struct npy x, y;
    (void)state;

    data_synth_image(42, 5, DATA_TRAIN, 3, a, &la);
    data_synth_image(42, 5, DATA_TRAIN, 3, b, &lb);
    assert_memory_equal(a, b, sizeof(a));
    assert_int_equal(la, lb);
    data_synth_image(42, 5, DATA_TEST, 3, b, &lb);
    assert_memory_not_equal(a, b, sizeof(a));
    data_synth_image(43, 5, DATA_TRAIN, 3, b, &lb);
    assert_memory_not_equal(a, b, sizeof(a));

    pathf(root, sizeof(root), "synth");
    syn.root = root;
    assert_int_equal(data_synth_write(&syn, &ds, err, sizeof(err)), 0);
    snprintf(dir, sizeof(dir), "%s/syn", root);
    npy_load(&x, dir, "train_x.npy");
    npy_load(&y, dir, "train_y.npy");
    assert_int_equal(x.data_len, 30 * DATA_IMAGE_BYTES);
    for (size_t i = 0; i < 30; i++) {
        int64_t l = label_at(&y, i);
        assert_in_range(l, 0, 4);
        counts[l]++;
        data_synth_image(42, 5, DATA_TRAIN, i, a, &la);
        assert_int_equal(la, l);
        assert_memory_equal(a, x.data + i * DATA_IMAGE_BYTES, DATA_IMAGE_BYTES);
    }
    for (int k = 0; k < 5; k++)
        assert_true(counts[k] > 0);
    free(x.raw), free(y.raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_fips),
        cmocka_unit_test(test_npy_header),
        cmocka_unit_test(test_reorder),
        cmocka_unit_test(test_split_sizes),
        cmocka_unit_test(test_cifar10),
        cmocka_unit_test(test_cifar100),
        cmocka_unit_test(test_cifar_errors),
        cmocka_unit_test(test_cifar_bad_label),
        cmocka_unit_test(test_svhn_v5_compressed),
        cmocka_unit_test(test_svhn_v5_plain_double),
        cmocka_unit_test(test_svhn_v73),
        cmocka_unit_test(test_svhn_errors),
        cmocka_unit_test(test_synth),
        cmocka_unit_test(test_cifar_fifo),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
