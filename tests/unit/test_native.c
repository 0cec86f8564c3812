/*
 * test_native.c - the native trainer's host side (workloads/native, no GPU): the command line
 * (defaults, every check and refusal), the ResNet layout (torchvision's names, shapes and counts),
 * the initial weights (.npz written here: accepted, and each of resnet.py's refusals), the data set
 * (a set written by the tool's own writer: accepted; a changed byte, a missing file, bad shapes
 * refused), numpy's PCG64 permutation (values printed by numpy 2.4 for these seeds), and the
 * metrics (the definitions of workloads/common/metrics.py).  The device side is tested on the GPU
 * machine (bench/gpu/native-session*.sh).
 */
#include "data/data.h"
#include "data/npz.h"
#include "native.h"

#include <math.h>
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
static char err[NATIVE_ERR];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/jb-test-native-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- command line ---------------------------------------------------------------------- */

static int parse(struct native_args *a, ...)
{
    char *argv[64];
    int argc = 0;
    va_list ap;
    const char *s;

    argv[argc++] = "jb-native-train";
    va_start(ap, a);
    while ((s = va_arg(ap, const char *)) != NULL)
        argv[argc++] = (char *)s;
    va_end(ap);
    err[0] = '\0';
    return native_parse_args(argc, argv, a, err, sizeof(err));
}

#define PARSE_FAILS(msg, ...)                                                                      \
    do {                                                                                           \
        struct native_args a_;                                                                     \
        assert_int_equal(parse(&a_, __VA_ARGS__, NULL), -1);                                       \
        if (!strstr(err, msg))                                                                     \
            fail_msg("message '%s' lacks '%s'", err, msg);                                         \
    } while (0)

static void test_args(void **state)
{
    struct native_args a;

    (void)state;
    assert_int_equal(parse(&a, "--dataset", "syn", NULL), 0);
    /* The Python workloads' defaults (workloads/common/cli.py). */
    assert_string_equal(a.dataset, "syn");
    assert_string_equal(a.data_dir, "data");
    assert_string_equal(a.model, "resnet50");
    assert_int_equal(a.batch_size, 128);
    assert_int_equal(a.epochs, 10);
    assert_true(a.lr == 0.001 && a.momentum == 0.9);
    assert_int_equal(a.seed, 1);
    assert_int_equal(a.precision, PREC_FP32);
    assert_true(a.shuffle && !a.raw_pixels && !a.graph && !a.nhwc);
    assert_null(a.init);

    assert_int_equal(parse(&a, "--dataset=c10", "--model", "resnet152", "--batch-size=32",
                           "--epochs", "3", "--lr", "0.1", "--momentum", "0", "--seed",
                           "18446744073709551615", "--init", "w.npz", "--precision", "bf16",
                           "--limit-train", "100", "--limit-test=10", "--no-shuffle",
                           "--raw-pixels", "--data-on-device", "--device", "cuda", "--impl",
                           "matched", "--mode", "graph", "--algo", "heuristic", "--layout", "nhwc",
                           "--workspace-mib", "0", "--profile", "3", "--check-out", "c.npz", NULL),
                     0);
    assert_string_equal(a.dataset, "c10");
    assert_string_equal(a.model, "resnet152");
    assert_int_equal(a.batch_size, 32);
    assert_true(a.lr == 0.1 && a.momentum == 0.0);
    assert_true(a.seed == 18446744073709551615ull);
    assert_int_equal(a.precision, PREC_BF16);
    assert_int_equal(a.limit_train, 100);
    assert_int_equal(a.limit_test, 10);
    assert_true(!a.shuffle && a.raw_pixels && a.graph && a.nhwc);
    assert_int_equal(a.algo, ALGO_HEURISTIC);
    assert_int_equal(a.workspace_mib, 0);
    assert_int_equal(a.profile_steps, 3);
    assert_string_equal(a.check_out, "c.npz");
    assert_int_equal(parse(&a, "--dataset", "s", "--graph", NULL), 0);
    assert_true(a.graph);
    assert_int_equal(parse(&a, "--dataset", "s", "--help", NULL), 0);
    assert_true(a.help);
    assert_non_null(strstr(native_usage(), "--check-out FILE"));

    PARSE_FAILS("the following arguments are required: --dataset", "--epochs", "2");
    PARSE_FAILS("argument --epochs: '0' must be >= 1", "--dataset", "s", "--epochs", "0");
    PARSE_FAILS("argument --batch-size: 'x' is not an integer", "--dataset", "s", "--batch-size",
                "x");
    PARSE_FAILS("argument --lr: '0' must be a finite number > 0", "--dataset", "s", "--lr", "0");
    PARSE_FAILS("argument --lr: 'inf' must be a finite number > 0", "--dataset", "s", "--lr",
                "inf");
    PARSE_FAILS("argument --lr: '1e999' must be a finite", "--dataset", "s", "--lr", "1e999");
    PARSE_FAILS("argument --momentum: '1' must be in [0, 1)", "--dataset", "s", "--momentum", "1");
    PARSE_FAILS("argument --seed: '-1' must be >= 0", "--dataset", "s", "--seed", "-1");
    PARSE_FAILS("argument --model: invalid choice: 'resnet18' (choose from 'resnet50', "
                "'resnet101', 'resnet152')",
                "--dataset", "s", "--model", "resnet18");
    PARSE_FAILS("fp64 is not supported by the native trainer", "--dataset", "s", "--precision",
                "fp64");
    PARSE_FAILS("no stock model of its own", "--dataset", "s", "--impl", "stock");
    PARSE_FAILS("runs on CUDA GPUs only", "--dataset", "s", "--device", "cpu");
    PARSE_FAILS("'compiled' does not apply", "--dataset", "s", "--mode", "compiled");
    PARSE_FAILS("argument --compile: there is no compiler here", "--dataset", "s", "--compile");
    PARSE_FAILS("argument --channels-last: PyTorch only", "--dataset", "s", "--channels-last");
    PARSE_FAILS("argument --graph: not allowed with --mode eager", "--dataset", "s", "--mode",
                "eager", "--graph");
    PARSE_FAILS("argument --lr: expected one argument", "--dataset", "s", "--lr");
    PARSE_FAILS("unrecognized arguments: --bogus", "--dataset", "s", "--bogus", "1");
    PARSE_FAILS("unrecognized arguments: stray", "--dataset", "s", "stray");
    PARSE_FAILS("argument --shuffle: ignored explicit argument 'yes'", "--dataset", "s",
                "--shuffle=yes");
    PARSE_FAILS("argument --profile: '1001' must be at most 1000", "--dataset", "s", "--profile",
                "1001");
}

/* ---- layout ------------------------------------------------------------------------------- */

static void test_layout(void **state)
{
    static struct native_model m;
    int i;

    (void)state;
    assert_int_equal(native_model_build(&m, "resnet50", 10, err, sizeof(err)), 0);
    /* workloads/common/resnet.py param_shapes: 267 entries; 23,528,522 parameters and 53,120
     * running statistics for 10 classes (export_init.py prints their sum, 23,581,642). */
    assert_int_equal(m.n_tensors, 267);
    assert_int_equal(m.n_params, 23528522);
    assert_int_equal(m.n_stats, 53120);
    assert_int_equal(m.n_blocks, 16);
    assert_string_equal(m.tensors[0].name, "conv1.weight");
    assert_string_equal(m.tensors[1].name, "bn1.weight");
    assert_string_equal(m.tensors[3].name, "bn1.running_mean");
    assert_string_equal(m.tensors[5].name, "layer1.0.conv1.weight");
    assert_string_equal(m.tensors[m.n_tensors - 1].name, "fc.bias");
    i = native_model_find(&m, "layer2.0.conv2.weight"); /* v1.5: stride on the 3x3 */
    assert_true(i > 0);
    assert_int_equal(m.tensors[i].shape[0], 128);
    assert_int_equal(m.tensors[i].shape[2], 3);
    assert_int_equal(m.blocks[3].stride, 2);
    assert_int_equal(m.blocks[3].conv2.stride, 2);
    assert_int_equal(m.blocks[3].conv1.stride, 1);
    i = native_model_find(&m, "layer4.0.downsample.0.weight");
    assert_int_equal(m.tensors[i].shape[0], 2048);
    assert_int_equal(m.tensors[i].shape[1], 1024);
    assert_true(m.blocks[0].down); /* 64 -> 256 channels at stride 1 */
    assert_false(m.blocks[1].down);
    i = native_model_find(&m, "fc.weight");
    assert_int_equal(m.tensors[i].shape[0], 10);
    assert_int_equal(m.tensors[i].shape[1], 2048);
    /* Parameters in model.parameters() order, running statistics apart. */
    assert_int_equal(m.tensors[native_model_find(&m, "fc.bias")].offset, m.n_params - 10);
    assert_int_equal(m.tensors[native_model_find(&m, "bn1.weight")].offset, 64 * 3 * 7 * 7);
    assert_int_equal(m.tensors[native_model_find(&m, "bn1.running_var")].offset, 64);
    assert_int_equal(native_model_find(&m, "layer1.0.bn1.num_batches_tracked"), -1);

    assert_int_equal(native_model_build(&m, "resnet101", 10, err, sizeof(err)), 0);
    assert_int_equal(m.n_params, 42520650);
    assert_int_equal(m.n_blocks, 33);
    assert_int_equal(native_model_build(&m, "resnet152", 100, err, sizeof(err)), 0);
    assert_int_equal(m.n_params, 58164298 + 90 * 2049);
    assert_int_equal(m.n_blocks, 50);
    assert_int_equal(native_model_build(&m, "resnet18", 10, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown model 'resnet18'"));
    assert_int_equal(native_model_build(&m, "resnet50", 1, err, sizeof(err)), -1);
}

/* ---- weights ------------------------------------------------------------------------------ */

/* Writes the weights of m (value = a function of the tensor and element) to path; `skip`, when
 * not NULL, names a tensor left out, `bad_shape` one written with its first axis + 1, `nan` one
 * holding a NaN, `extra` an additional array. */
struct wopts {
    const char *skip, *bad_shape, *nan, *extra, *as_int;
};

static void write_weights(const char *path, const struct native_model *m, struct wopts o)
{
    struct npz_writer w;
    float *buf = malloc((NATIVE_FEATURES * 1000 + 4 * 1024 * 1024) * sizeof(float));

    assert_non_null(buf);
    assert_int_equal(npz_writer_open(&w, path, err, sizeof(err)), 0);
    for (int i = 0; i < m->n_tensors; i++) {
        const struct native_tensor *t = &m->tensors[i];
        uint64_t shape[4];
        size_t n = t->count;

        if (o.skip && !strcmp(o.skip, t->name))
            continue;
        for (int k = 0; k < t->ndim; k++)
            shape[k] = (uint64_t)t->shape[k];
        if (o.bad_shape && !strcmp(o.bad_shape, t->name)) {
            shape[0]++;
            n = n / (size_t)t->shape[0] * shape[0];
        }
        for (size_t k = 0; k < n; k++)
            buf[k] = (float)((i % 7) + 1) * 0.001f * (float)(k % 11);
        if (o.nan && !strcmp(o.nan, t->name))
            buf[n / 2] = NAN;
        if (o.as_int && !strcmp(o.as_int, t->name)) {
            assert_int_equal(
                npz_writer_add(&w, t->name, "<i4", 4, shape, t->ndim, buf, err, sizeof(err)), 0);
            continue;
        }
        assert_int_equal(
            npz_writer_add(&w, t->name, "<f4", 4, shape, t->ndim, buf, err, sizeof(err)), 0);
    }
    /* PyTorch's state_dict has these; resnet.py ignores them, so must we. */
    {
        int64_t one = 1;
        assert_int_equal(npz_writer_add(&w, "bn1.num_batches_tracked", "<i8", 8, NULL, 0, &one, err,
                                        sizeof(err)),
                         0);
    }
    if (o.extra) {
        uint64_t s1[1] = {1};
        assert_int_equal(npz_writer_add(&w, o.extra, "<f4", 4, s1, 1, buf, err, sizeof(err)), 0);
    }
    assert_int_equal(npz_writer_commit(&w, err, sizeof(err)), 0);
    free(buf);
}

#define LOAD_FAILS(msg)                                                                            \
    do {                                                                                           \
        assert_int_equal(native_weights_load(path, &m, params, stats, err, sizeof(err)), -1);      \
        if (!strstr(err, msg))                                                                     \
            fail_msg("message '%s' lacks '%s'", err, msg);                                         \
    } while (0)

static void test_weights(void **state)
{
    static struct native_model m, m101, m100;
    struct wopts none = {0};
    char path[512];
    float *params, *stats;
    int i;

    (void)state;
    assert_int_equal(native_model_build(&m, "resnet50", 10, err, sizeof(err)), 0);
    params = malloc(m.n_params * sizeof(float));
    stats = malloc(m.n_stats * sizeof(float));
    assert_non_null(params);
    assert_non_null(stats);
    snprintf(path, sizeof(path), "%s/w.npz", tmpdir);
    write_weights(path, &m, none);
    if (native_weights_load(path, &m, params, stats, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    i = native_model_find(&m, "layer3.1.conv2.weight");
    assert_true(params[m.tensors[i].offset + 5] == (float)((i % 7) + 1) * 0.001f * 5.0f);
    i = native_model_find(&m, "layer3.1.bn2.running_var");
    assert_true(stats[m.tensors[i].offset + 3] == (float)((i % 7) + 1) * 0.001f * 3.0f);

    {
        struct wopts o = {.skip = "layer2.1.bn2.bias"};
        write_weights(path, &m, o);
        LOAD_FAILS("weights file '");
        LOAD_FAILS("does not match resnet50: 1 names missing (e.g. 'layer2.1.bn2.bias'), 0 "
                   "unexpected (e.g. '-')");
    }
    {
        struct wopts o = {.extra = "head.weight"};
        write_weights(path, &m, o);
        LOAD_FAILS("0 names missing (e.g. '-'), 1 unexpected (e.g. 'head.weight')");
    }
    {
        struct wopts o = {.bad_shape = "layer1.0.conv2.weight"};
        write_weights(path, &m, o);
        LOAD_FAILS("'layer1.0.conv2.weight' has shape (65, 64, 3, 3), resnet50 needs (64, 64, 3, "
                   "3)");
    }
    {
        struct wopts o = {.nan = "layer4.2.bn3.weight"};
        write_weights(path, &m, o);
        LOAD_FAILS("'layer4.2.bn3.weight' holds NaN or infinite values");
    }
    {
        struct wopts o = {.as_int = "bn1.bias"};
        write_weights(path, &m, o);
        LOAD_FAILS("'bn1.bias' has dtype <i4, expected floating point");
    }
    /* Another model's file, another class count: named as resnet.py names them. */
    assert_int_equal(native_model_build(&m101, "resnet101", 10, err, sizeof(err)), 0);
    write_weights(path, &m101, none);
    LOAD_FAILS("is for resnet101, not resnet50 (make one with: export_init.py --model resnet50)");
    assert_int_equal(native_model_build(&m100, "resnet50", 100, err, sizeof(err)), 0);
    write_weights(path, &m100, none);
    LOAD_FAILS("has 100 classes (fc.weight (100, 2048)), the data set has 10 (make one with: "
               "export_init.py --classes 10)");
    snprintf(path, sizeof(path), "%s/none.npz", tmpdir);
    LOAD_FAILS("cannot open weights file '");
    LOAD_FAILS("': no such file");
    snprintf(path, sizeof(path), "%s/text.npz", tmpdir);
    {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("not an npz\n", f);
        fclose(f);
    }
    LOAD_FAILS("(expected an .npz from workloads/common/export_init.py)");
    free(params);
    free(stats);
}

/* ---- data set --------------------------------------------------------------------------- */

static void make_set(const char *name, int n_train, int n_test)
{
    struct data_set ds;
    uint8_t img[DATA_IMAGE_BYTES];

    assert_int_equal(data_set_open(&ds, tmpdir, name, DATA_SPLIT_OFFICIAL, (uint64_t)n_train,
                                   (uint64_t)n_test, 10, err, sizeof(err)),
                     0);
    for (int i = 0; i < n_train + n_test; i++) {
        for (int k = 0; k < DATA_IMAGE_BYTES; k++)
            img[k] = (uint8_t)(i * 7 + k);
        assert_int_equal(
            data_set_add(&ds, i < n_train ? DATA_TRAIN : DATA_TEST, img, i % 10, err, sizeof(err)),
            0);
    }
    assert_int_equal(data_set_commit(&ds, err, sizeof(err)), 0);
}

#define DATA_FAILS(name, msg)                                                                      \
    do {                                                                                           \
        struct native_data d_;                                                                     \
        assert_int_equal(native_data_load(tmpdir, name, 0, 0, &d_, err, sizeof(err)), -1);         \
        if (!strstr(err, msg))                                                                     \
            fail_msg("message '%s' lacks '%s'", err, msg);                                         \
    } while (0)

static void test_data(void **state)
{
    struct native_data d;
    char path[512];

    (void)state;
    make_set("good", 12, 4);
    assert_int_equal(native_data_load(tmpdir, "good", 0, 0, &d, err, sizeof(err)), 0);
    assert_int_equal(d.n_train, 12);
    assert_int_equal(d.n_test, 4);
    assert_int_equal(d.h, 32);
    assert_int_equal(d.num_classes, 10);
    assert_int_equal(d.train_y[11], 1);
    assert_int_equal(d.test_y[3], 5);
    assert_int_equal(d.train_x[5 * DATA_IMAGE_BYTES + 2], (uint8_t)(5 * 7 + 2));
    native_data_free(&d);
    assert_int_equal(native_data_load(tmpdir, "good", 5, 2, &d, err, sizeof(err)), 0);
    assert_int_equal(d.n_train, 5);
    assert_int_equal(d.n_test, 2);
    native_data_free(&d);

    DATA_FAILS("nope", "unknown dataset 'nope': no folder '");
    DATA_FAILS("nope", "(available: good; make one with: joulebench data import nope ... or "
                       "joulebench data synth nope -o ");

    /* One changed byte in the images: the hash catches it before anything is parsed. */
    make_set("changed", 4, 2);
    snprintf(path, sizeof(path), "%s/changed/train_x.npy", tmpdir);
    {
        FILE *f = fopen(path, "r+b");
        int c;
        assert_non_null(f);
        fseek(f, -1, SEEK_END);
        c = fgetc(f);
        fseek(f, -1, SEEK_END);
        fputc(c ^ 1, f);
        fclose(f);
    }
    DATA_FAILS("changed", "train_x.npy': SHA-256 mismatch: ");
    DATA_FAILS("changed", "manifest says ");

    make_set("partial", 4, 2);
    snprintf(path, sizeof(path), "%s/partial/test_y.npy", tmpdir);
    assert_int_equal(unlink(path), 0);
    DATA_FAILS("partial", "test_y.npy': no such file (the data set is incomplete");

    /* Images of the wrong shape, with a manifest that matches them. */
    {
        struct npy_writer w;
        uint64_t xs[3] = {4, 32, 96}, ys[1] = {4};
        char manifest[1024], hx[SHA256_HEX_CHARS], hy[SHA256_HEX_CHARS];
        uint8_t px[4 * 32 * 96] = {0};
        int64_t lab[4] = {0, 1, 2, 3};
        FILE *f;

        make_set("shape", 4, 4);
        snprintf(path, sizeof(path), "%s/shape/train_x.npy", tmpdir);
        assert_int_equal(npy_writer_open(&w, path, "|u1", 1, xs, 3, err, sizeof(err)), 0);
        assert_int_equal(npy_writer_write(&w, px, sizeof(px), err, sizeof(err)), 0);
        assert_int_equal(npy_writer_finish(&w, err, sizeof(err)), 0);
        snprintf(hx, sizeof(hx), "%s", w.sha256);
        assert_int_equal(npy_writer_commit(&w, err, sizeof(err)), 0);
        snprintf(path, sizeof(path), "%s/shape/train_y.npy", tmpdir);
        assert_int_equal(npy_writer_open(&w, path, "<i8", 8, ys, 1, err, sizeof(err)), 0);
        assert_int_equal(npy_writer_write(&w, lab, sizeof(lab), err, sizeof(err)), 0);
        assert_int_equal(npy_writer_finish(&w, err, sizeof(err)), 0);
        snprintf(hy, sizeof(hy), "%s", w.sha256);
        assert_int_equal(npy_writer_commit(&w, err, sizeof(err)), 0);
        {
            struct data_manifest old;
            snprintf(path, sizeof(path), "%s/shape/manifest.json", tmpdir);
            assert_int_equal(data_manifest_read(path, &old, err, sizeof(err)), 0);
            snprintf(manifest, sizeof(manifest),
                     "{\"files\": {\"train_x.npy\": \"%s\", \"train_y.npy\": \"%s\", "
                     "\"test_x.npy\": \"%s\", \"test_y.npy\": \"%s\"}}",
                     hx, hy, old.sha256[2], old.sha256[3]);
        }
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(manifest, f);
        fclose(f);
        DATA_FAILS("shape", "train_x.npy': expected uint8 RGB images N x H x W x 3, got |u1 (4, "
                            "32, 96)");
    }
}

/* ---- order ------------------------------------------------------------------------------ */

/* numpy 2.4: g = np.random.Generator(np.random.PCG64(seed)); p = g.permutation(n), twice:
 * the first four values and sum((i + 1) * p[i]) mod 2^64. */
static void check_perm(unsigned long long seed, size_t n, const int32_t first[2][4],
                       const uint64_t checksum[2])
{
    struct native_rng r;
    int32_t *p = malloc(n * sizeof(int32_t));

    assert_non_null(p);
    native_rng_seed(&r, seed);
    for (int epoch = 0; epoch < 2; epoch++) {
        uint64_t cs = 0;
        native_rng_permutation(&r, p, n);
        for (size_t i = 0; i < n; i++)
            cs += (uint64_t)(i + 1) * (uint64_t)p[i];
        for (int k = 0; k < 4 && (size_t)k < n; k++)
            if (p[k] != first[epoch][k])
                fail_msg("seed %llu n %zu epoch %d: p[%d] = %d, numpy gives %d", seed, n, epoch, k,
                         p[k], first[epoch][k]);
        if (cs != checksum[epoch])
            fail_msg("seed %llu n %zu epoch %d: checksum %llu, numpy gives %llu", seed, n, epoch,
                     (unsigned long long)cs, (unsigned long long)checksum[epoch]);
    }
    free(p);
}

static void test_order(void **state)
{
    (void)state;
    {
        const int32_t f[2][4] = {{9333, 16388, 28964, 16729}, {44091, 22730, 37257, 6788}};
        const uint64_t c[2] = {22788837094892ull, 22805723886022ull};
        check_perm(0, 45000, f, c);
    }
    {
        const int32_t f[2][4] = {{38608, 2831, 6100, 3121}, {8470, 25458, 21861, 42046}};
        const uint64_t c[2] = {22796632615892ull, 22782269398744ull};
        check_perm(1, 45000, f, c);
    }
    {
        /* A seed of two 32-bit words. */
        const int32_t f[2][4] = {{29020, 9734, 15579, 22399}, {517, 17054, 27256, 24531}};
        const uint64_t c[2] = {31251782716359ull, 31235342759428ull};
        check_perm(8589934597ull, 50000, f, c);
    }
    {
        const int32_t f[2][4] = {{4, 2, 1, 3}, {3, 0, 2, 1}};
        const uint64_t c[2] = {23, 33};
        check_perm(3, 5, f, c);
    }
    {
        /* seed 1, n 10: [8 4 7 0 1 2 5 9 6 3] then [0 1 8 6 5 7 9 2 3 4] */
        const int32_t want[2][10] = {{8, 4, 7, 0, 1, 2, 5, 9, 6, 3},
                                     {0, 1, 8, 6, 5, 7, 9, 2, 3, 4}};
        struct native_rng r;
        int32_t p[10];
        native_rng_seed(&r, 1);
        for (int e = 0; e < 2; e++) {
            native_rng_permutation(&r, p, 10);
            assert_memory_equal(p, want[e], sizeof(p));
        }
    }
}

/* ---- metrics ------------------------------------------------------------------------------ */

static void test_metrics(void **state)
{
    /* tests/python/test_workloads.py's case: class 3 only predicted, class 2 never predicted. */
    const int32_t y[6] = {0, 0, 1, 1, 2, 2};
    const int pred[6] = {0, 1, 1, 1, 0, 3};
    float logits[6 * 4];
    struct native_metrics r;
    double f1_1 = 2 * (2.0 / 3) / (2.0 / 3 + 1);
    const float z[4] = {2.0f, 0.0f, 0.0f, 1.0f};
    const int32_t y2[2] = {0, 1};

    (void)state;
    for (int i = 0; i < 6; i++)
        for (int c = 0; c < 4; c++)
            logits[i * 4 + c] = c == pred[i] ? 1.0f : 0.0f;
    assert_int_equal(native_metrics_eval(logits, y, 6, 4, &r), 0);
    assert_true(fabs(r.accuracy - 3.0 / 6) < 1e-12);
    assert_true(fabs(r.precision - (0.5 + 2.0 / 3) / 4) < 1e-12);
    assert_true(fabs(r.recall - (0.5 + 1.0) / 4) < 1e-12);
    assert_true(fabs(r.f1 - (0.5 + f1_1) / 4) < 1e-12);
    /* The loss: metrics.cross_entropy_logits([[2, 0], [0, 1]], [0, 1]). */
    assert_int_equal(native_metrics_eval(z, y2, 2, 2, &r), 0);
    assert_true(fabs(r.loss - (log(1 + exp(-2.0)) + log(1 + exp(-1.0))) / 2) < 1e-12);
    /* argmax takes the first maximum, as numpy's does. */
    {
        const float tie[3] = {1.0f, 1.0f, 0.0f};
        const int32_t yt[1] = {1};
        assert_int_equal(native_metrics_eval(tie, yt, 1, 3, &r), 0);
        assert_true(r.accuracy == 0.0);
    }
    assert_int_equal(native_metrics_eval(logits, y, 0, 4, &r), 0);
    assert_true(isnan(r.accuracy));
    {
        const float l[3] = {0.5f, 1.5f, 2.5f};
        assert_true(fabs(native_mean(l, 3) - 1.5) < 1e-12);
        assert_true(isnan(native_mean(l, 0)));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args), cmocka_unit_test(test_layout), cmocka_unit_test(test_weights),
        cmocka_unit_test(test_data), cmocka_unit_test(test_order),  cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
