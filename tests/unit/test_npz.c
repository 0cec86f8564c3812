/*
 * test_npz.c - the C readers of the data formats the native trainer needs: .npy headers
 * (npy_parse, every accepted form and each refusal), whole .npy files read and hashed
 * (npy_read_file), .npz archives written by numpy (tests/unit/data/numpy-savez.npz, made with
 * numpy 2.4 np.savez: ZIP64 extra fields in the local headers) and by npz_writer, damaged and
 * compressed archives, and manifest.json (data_manifest_read).  Not a test of the importers
 * (test_data.c).
 */
#include "data/data.h"
#include "data/npz.h"
#include "util/fsutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char tmpdir[256];
static char err[512];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/jb-test-npz-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void fixture(char *buf, size_t cap, const char *name)
{
    const char *src = getenv("JB_SOURCE_DIR");
    snprintf(buf, cap, "%s/tests/unit/data/%s", src ? src : ".", name);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* An .npy in memory from a header dict (the reader does not need numpy's padding). */
static size_t make_npy(unsigned char *buf, int version, const char *dict, size_t data_bytes)
{
    size_t dlen = strlen(dict), pre = version == 1 ? 10 : 12;

    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)version;
    buf[7] = 0;
    buf[8] = (unsigned char)(dlen & 0xff);
    buf[9] = (unsigned char)(dlen >> 8);
    if (version != 1) {
        buf[10] = 0;
        buf[11] = 0;
    }
    memcpy(buf + pre, dict, dlen);
    memset(buf + pre + dlen, 0x5a, data_bytes);
    return pre + dlen + data_bytes;
}

static void test_npy_parse(void **state)
{
    unsigned char buf[4096];
    char hdr[NPY_MAX_HEADER];
    struct npy_info info;
    uint64_t shape[4] = {5, 32, 32, 3};
    size_t n;

    (void)state;
    /* What our own writer (and numpy) writes. */
    n = npy_header(hdr, sizeof(hdr), "|u1", shape, 4);
    memcpy(buf, hdr, n);
    assert_int_equal(npy_parse(buf, n, &info, err, sizeof(err)), -1); /* data missing */
    assert_string_equal(err, "holds 0 data bytes, its header (|u1, 4 dimensions) needs 15360");

    n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24);
    assert_int_equal(npy_parse(buf, n, &info, err, sizeof(err)), 0);
    assert_string_equal(info.descr, "<f4");
    assert_int_equal(info.kind, 'f');
    assert_int_equal(info.item_bytes, 4);
    assert_int_equal(info.ndim, 2);
    assert_int_equal(info.shape[0], 2);
    assert_int_equal(info.shape[1], 3);
    assert_int_equal(info.items, 6);
    assert_int_equal(info.data_offset, n - 24);

    /* Version 2, keys in another order, double quotes, a one-element tuple, a scalar. */
    n = make_npy(buf, 2, "{\"shape\": (7,), \"fortran_order\": False, \"descr\": \"<i8\"}", 56);
    assert_int_equal(npy_parse(buf, n, &info, err, sizeof(err)), 0);
    assert_int_equal(info.ndim, 1);
    assert_int_equal(info.shape[0], 7);
    n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8);
    assert_int_equal(npy_parse(buf, n, &info, err, sizeof(err)), 0);
    assert_int_equal(info.ndim, 0);
    assert_int_equal(info.items, 1);
    n = make_npy(buf, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (0, 32, 32, 3), }", 0);
    assert_int_equal(npy_parse(buf, n, &info, err, sizeof(err)), 0);
    assert_int_equal(info.items, 0);

    /* Refusals, each with its reason. */
    n = make_npy(buf, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", 4);
    assert_int_equal(npy_parse(buf, n, &info, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "dtype '>f4' is not supported"));
    n = make_npy(buf, 1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", 8);
    assert_int_equal(npy_parse(buf, n, &info, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "dtype '|O' is not supported"));
    n = make_npy(buf, 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4);
    assert_int_equal(npy_parse(buf, n, &info, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "structured arrays are not supported"));
    n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", 4);
    assert_int_equal(npy_parse(buf, n, &info, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "Fortran-order"));
    n = make_npy(buf, 1, "{'descr': '<f4', 'shape': (1,), }", 4);
    assert_int_equal(npy_parse(buf, n, &info, err, sizeof(err)), -1);
    assert_string_equal(err, "malformed .npy header");
    n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 5);
    assert_int_equal(npy_parse(buf, n, &info, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "holds 5 data bytes"));
    n = make_npy(buf, 1,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': "
                 "(99999999999999999999,), }",
                 0);
    assert_int_equal(npy_parse(buf, n, &info, err, sizeof(err)), -1);
    n = make_npy(buf, 1,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': "
                 "(4294967296, 4294967296, 4294967296), }",
                 0);
    assert_int_equal(npy_parse(buf, n, &info, err, sizeof(err)), -1);
    assert_string_equal(err, "array too large");
    buf[6] = 4;
    assert_int_equal(npy_parse(buf, n, &info, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "version 4.0 is not supported"));
    assert_int_equal(npy_parse("PK\3\4xxxxxxxxx", 12, &info, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a .npy file"));
    n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 4);
    buf[8] = 0xff; /* header longer than the file */
    assert_int_equal(npy_parse(buf, n, &info, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "truncated .npy header"));
}

static void test_npy_read_file(void **state)
{
    char path[512], hex[SHA256_HEX_CHARS];
    struct npy_file f;

    (void)state;
    fixture(path, sizeof(path), "fortran.npy");
    assert_int_equal(npy_read_file(path, 1 << 20, &f, err, sizeof(err)), 0);
    assert_int_equal(sha256_file_hex(path, hex, NULL, err, sizeof(err)), 0);
    assert_string_equal(f.sha256, hex);
    assert_int_equal(f.len, 152);
    assert_int_equal(npy_file_parse(&f, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "fortran.npy': Fortran-order arrays are not supported"));
    npy_file_free(&f);
    assert_int_equal(npy_read_file(path, 100, &f, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "152 bytes, more than the 100 this reader takes"));
    assert_null(f.bytes);
    npy_file_free(&f);
    snprintf(path, sizeof(path), "%s/missing.npy", tmpdir);
    assert_int_equal(npy_read_file(path, 100, &f, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot open '"));
    assert_non_null(strstr(err, "No such file"));
    assert_int_equal(npy_read_file(tmpdir, 100, &f, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a regular file"));
}

static void test_npz_from_numpy(void **state)
{
    char path[512];
    struct npz z;
    struct npy_info info;
    const void *data;
    const struct npz_member *m;

    (void)state;
    fixture(path, sizeof(path), "numpy-savez.npz");
    if (npz_read_file(path, 1 << 20, &z, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(z.n, 4);
    assert_string_equal(z.members[0].name, "layer1.0.conv1.weight");
    m = npz_find(&z, "layer1.0.conv1.weight");
    assert_non_null(m);
    assert_int_equal(npz_array(&z, m, &info, &data, err, sizeof(err)), 0);
    assert_string_equal(info.descr, "<f4");
    assert_int_equal(info.ndim, 2);
    assert_int_equal(info.shape[1], 3);
    {
        float v[6];
        memcpy(v, data, sizeof(v));
        for (int i = 0; i < 6; i++)
            assert_true(v[i] == (float)i / 4);
    }
    m = npz_find(&z, "labels");
    assert_int_equal(npz_array(&z, m, &info, &data, err, sizeof(err)), 0);
    {
        int64_t v[5];
        memcpy(v, data, sizeof(v));
        assert_true(v[0] == 3 && v[1] == -1 && v[4] == (int64_t)1 << 40);
    }
    m = npz_find(&z, "img");
    assert_int_equal(npz_array(&z, m, &info, &data, err, sizeof(err)), 0);
    assert_int_equal(info.ndim, 4);
    assert_int_equal(((const unsigned char *)data)[23], 23);
    m = npz_find(&z, "scalar");
    assert_int_equal(npz_array(&z, m, &info, &data, err, sizeof(err)), 0);
    assert_int_equal(info.ndim, 0);
    assert_null(npz_find(&z, "nope"));
    assert_null(npz_find(&z, "img.npy"));
    npz_free(&z);

    fixture(path, sizeof(path), "numpy-compressed.npz");
    assert_int_equal(npz_read_file(path, 1 << 20, &z, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "member 'a.npy' is compressed (method 8)"));
    assert_non_null(strstr(err, "np.savez, not np.savez_compressed"));
    npz_free(&z);
}

static void test_npz_damaged(void **state)
{
    char src[512], path[512];
    char *bytes;
    size_t len;
    struct npz z;

    (void)state;
    fixture(src, sizeof(src), "numpy-savez.npz");
    assert_int_equal(fs_read_file(src, &bytes, &len, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/damaged.npz", tmpdir);

    bytes[200] ^= 0x01; /* inside the first member's data */
    write_file(path, bytes, len);
    assert_int_equal(npz_read_file(path, 1 << 20, &z, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "member 'layer1.0.conv1.weight.npy': CRC-32 mismatch"));
    bytes[200] ^= 0x01;

    write_file(path, bytes, len / 2); /* truncated: the end records are gone */
    assert_int_equal(npz_read_file(path, 1 << 20, &z, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no end of central directory record"));

    write_file(path, "not a zip at all, just some text here", 37);
    assert_int_equal(npz_read_file(path, 1 << 20, &z, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a ZIP (.npz) file"));

    write_file(path, bytes, len);
    assert_int_equal(npz_read_file(path, 1000, &z, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "more than the 1000 this reader takes"));
    assert_null(z.bytes);
    snprintf(path, sizeof(path), "%s/none.npz", tmpdir);
    assert_int_equal(npz_read_file(path, 1000, &z, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no such file"));
    free(bytes);
}

static void test_npz_writer_round_trip(void **state)
{
    char path[512], tmpname[600];
    struct npz_writer w;
    struct npz z;
    struct npy_info info;
    const void *data;
    float a[12];
    int64_t b[3] = {1, -2, 3};
    double s = 0.25;
    uint64_t sa[2] = {3, 4}, sb[1] = {3};

    (void)state;
    for (int i = 0; i < 12; i++)
        a[i] = (float)i * 0.5f - 1;
    snprintf(path, sizeof(path), "%s/out.npz", tmpdir);
    assert_int_equal(npz_writer_open(&w, path, err, sizeof(err)), 0);
    assert_int_equal(npz_writer_add(&w, "fc.weight", "<f4", 4, sa, 2, a, err, sizeof(err)), 0);
    assert_int_equal(npz_writer_add(&w, "labels", "<i8", 8, sb, 1, b, err, sizeof(err)), 0);
    assert_int_equal(npz_writer_add(&w, "loss0", "<f8", 8, NULL, 0, &s, err, sizeof(err)), 0);
    assert_false(fs_exists(path)); /* not before commit */
    assert_int_equal(npz_writer_commit(&w, err, sizeof(err)), 0);
    snprintf(tmpname, sizeof(tmpname), "%s.tmp.%ld", path, (long)getpid());
    assert_false(fs_exists(tmpname));

    assert_int_equal(npz_read_file(path, 1 << 20, &z, err, sizeof(err)), 0);
    assert_int_equal(z.n, 3);
    assert_int_equal(npz_array(&z, npz_find(&z, "fc.weight"), &info, &data, err, sizeof(err)), 0);
    assert_int_equal(info.shape[0], 3);
    assert_memory_equal(data, a, sizeof(a));
    assert_int_equal(npz_array(&z, npz_find(&z, "labels"), &info, &data, err, sizeof(err)), 0);
    assert_memory_equal(data, b, sizeof(b));
    assert_int_equal(npz_array(&z, npz_find(&z, "loss0"), &info, &data, err, sizeof(err)), 0);
    assert_int_equal(info.ndim, 0);
    assert_memory_equal(data, &s, sizeof(s));
    npz_free(&z);

    /* A failed writer leaves nothing behind. */
    snprintf(path, sizeof(path), "%s/bad.npz", tmpdir);
    assert_int_equal(npz_writer_open(&w, path, err, sizeof(err)), 0);
    assert_int_equal(npz_writer_add(&w, "", "<f4", 4, sa, 2, a, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "empty or too long"));
    npz_writer_abort(&w);
    assert_false(fs_exists(path));
    snprintf(tmpname, sizeof(tmpname), "%s.tmp.%ld", path, (long)getpid());
    assert_false(fs_exists(tmpname));
    snprintf(path, sizeof(path), "%s/no/such/dir/x.npz", tmpdir);
    assert_int_equal(npz_writer_open(&w, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot create"));
}

static void test_crc32(void **state)
{
    (void)state;
    assert_int_equal(npz_crc32(0, "123456789", 9), 0xcbf43926u); /* the standard check value */
    assert_int_equal(npz_crc32(npz_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
    assert_int_equal(npz_crc32(0, "", 0), 0);
}

static void test_manifest_read(void **state)
{
    char path[512];
    struct data_manifest m;
    const char *h = "AbCdEf0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
    char text[2048];

    (void)state;
    snprintf(path, sizeof(path), "%s/manifest.json", tmpdir);
    snprintf(text, sizeof(text),
             "{\"name\": \"x\", \"classes\": 10, \"files\": {\"train_x.npy\": \"%s\", "
             "\"train_y.npy\": \"%s\", \"test_x.npy\": \"%s\", \"test_y.npy\": \"%s\"}, "
             "\"extra\": [1, 2]}",
             h, h, h, h);
    write_file(path, text, strlen(text));
    assert_int_equal(data_manifest_read(path, &m, err, sizeof(err)), 0);
    assert_int_equal(m.num_classes, 10);
    assert_string_equal(m.sha256[3],
                        "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");

    snprintf(text, sizeof(text),
             "{\"num_classes\": 7, \"classes\": 10, \"files\": {\"train_x.npy\": \"%s\", "
             "\"train_y.npy\": \"%s\", \"test_x.npy\": \"%s\", \"test_y.npy\": \"%s\"}}",
             h, h, h, h);
    write_file(path, text, strlen(text));
    assert_int_equal(data_manifest_read(path, &m, err, sizeof(err)), 0);
    assert_int_equal(m.num_classes, 7);

    snprintf(text, sizeof(text),
             "{\"files\": {\"train_x.npy\": \"%s\", \"train_y.npy\": \"%s\", "
             "\"test_x.npy\": \"%s\"}}",
             h, h, h);
    write_file(path, text, strlen(text));
    assert_int_equal(data_manifest_read(path, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "field 'files.test_y.npy' missing or not a SHA-256 hex string"));

    snprintf(text, sizeof(text),
             "{\"files\": {\"train_x.npy\": \"%.63sg\", \"train_y.npy\": \"%s\", "
             "\"test_x.npy\": \"%s\", \"test_y.npy\": \"%s\"}}",
             h, h, h, h);
    write_file(path, text, strlen(text));
    assert_int_equal(data_manifest_read(path, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "'files.train_x.npy'"));

    snprintf(text, sizeof(text),
             "{\"num_classes\": 1.5, \"files\": {\"train_x.npy\": \"%s\", \"train_y.npy\": "
             "\"%s\", \"test_x.npy\": \"%s\", \"test_y.npy\": \"%s\"}}",
             h, h, h, h);
    write_file(path, text, strlen(text));
    assert_int_equal(data_manifest_read(path, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "field 'num_classes' must be an integer >= 2"));

    write_file(path, "{\"files\": []}", 13);
    assert_int_equal(data_manifest_read(path, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "field 'files' missing or not an object"));
    write_file(path, "{\"files\": ", 10);
    assert_int_equal(data_manifest_read(path, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot read '"));
    snprintf(path, sizeof(path), "%s/none.json", tmpdir);
    assert_int_equal(data_manifest_read(path, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no such file (the data set is incomplete"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npy_parse),
        cmocka_unit_test(test_npy_read_file),
        cmocka_unit_test(test_npz_from_numpy),
        cmocka_unit_test(test_npz_damaged),
        cmocka_unit_test(test_npz_writer_round_trip),
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_manifest_read),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
