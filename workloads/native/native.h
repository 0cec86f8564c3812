/*
 * native.h - the framework-free trainer's host side: its command line (the Python workloads' own,
 * workloads/common/cli.py), the ResNet layout and parameter order (workloads/common/resnet.py),
 * the initial weights (.npz), the data set (.npy files checked against manifest.json), the
 * shuffling order (numpy's PCG64 permutation, as workloads/common/driver.py draws it) and the
 * evaluation metrics (workloads/common/metrics.py).  Everything here is plain C, runs without a
 * GPU and is tested on its own (tests/unit/test_native.c); the device side is gpu.h.
 *
 * Functions return 0, or -1 with a message in err (naming the file and field) and never print
 * or exit; main.c prints and exits 2 for bad input, as the Python workloads do.
 */
#ifndef JB_WORKLOADS_NATIVE_NATIVE_H
#define JB_WORKLOADS_NATIVE_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#define NATIVE_PROG "workloads/native/train"
#define NATIVE_ERR 512

/* ---- command line ---------------------------------------------------------------------- */

enum native_precision { PREC_FP32 = 0, PREC_TF32 = 1, PREC_BF16 = 2 };
enum native_algo { ALGO_FIND = 0, ALGO_HEURISTIC = 1 };

struct native_args {
    const char *dataset;
    const char *data_dir;
    const char *model;
    long batch_size, epochs;
    double lr, momentum;
    unsigned long long seed;
    const char *init;
    enum native_precision precision;
    long limit_train, limit_test; /* 0: all */
    int shuffle;
    int raw_pixels;
    int graph; /* --graph or --mode graph: the whole training step is one CUDA graph */
    const char *check_out;
    enum native_algo algo;
    long workspace_mib;
    int nhwc;           /* --layout nhwc */
    long profile_steps; /* --profile N */
    int help;
};

/* Parses argv (argv[0] is skipped).  Returns 0, or -1 with the message in err
 * ("argument --epochs: '0' must be >= 1").  Strings point into argv. */
int native_parse_args(int argc, char **argv, struct native_args *a, char *err, size_t errlen);
/* The --help text. */
const char *native_usage(void);
const char *native_precision_name(enum native_precision p);

/* ---- the network ----------------------------------------------------------------------- */

#define NATIVE_MAX_BLOCKS 50 /* resnet152: 3 + 8 + 36 + 3 */
#define NATIVE_FEATURES 2048
#define NATIVE_BN_EPS 1e-5
#define NATIVE_BN_MOMENTUM 0.1

enum tensor_kind { T_CONV, T_BN_WEIGHT, T_BN_BIAS, T_BN_MEAN, T_BN_VAR, T_FC_WEIGHT, T_FC_BIAS };

/* One state_dict entry, in torchvision's order. */
struct native_tensor {
    char name[48];
    enum tensor_kind kind;
    int ndim;
    int shape[4];
    size_t count;
    int trainable; /* a parameter (in the parameter arena) or a running statistic */
    size_t offset; /* in floats, in the parameter arena or in the statistics arena */
};

struct native_conv {
    int cin, cout, k, stride, pad;
    int weight; /* index into tensors */
};

struct native_bn {
    int c;
    int weight, bias, mean, var; /* indices into tensors */
};

struct native_block {
    int in_ch, width, out_ch, stride, down;
    struct native_conv conv1, conv2, conv3, convd;
    struct native_bn bn1, bn2, bn3, bnd;
};

struct native_model {
    char name[16];
    int classes;
    struct native_conv stem;
    struct native_bn stem_bn;
    int n_blocks;
    struct native_block blocks[NATIVE_MAX_BLOCKS];
    int fc_weight, fc_bias;
    int n_tensors;
    struct native_tensor tensors[NATIVE_MAX_BLOCKS * 20 + 16];
    size_t n_params; /* floats in the parameter arena (model.parameters() order) */
    size_t n_stats;  /* floats in the statistics arena (running mean and var) */
};

/* Builds the layout of "resnet50" | "resnet101" | "resnet152" with `classes` outputs. */
int native_model_build(struct native_model *m, const char *name, int classes, char *err,
                       size_t errlen);
int native_model_find(const struct native_model *m, const char *tensor_name);

/* ---- initial weights ------------------------------------------------------------------- */

/* Loads an .npz of torchvision-named arrays (workloads/common/export_init.py) into params and
 * stats (m->n_params and m->n_stats floats), with resnet.py's checks and messages: names for
 * another model, another class count, shapes, dtype, NaN.  num_batches_tracked is ignored. */
int native_weights_load(const char *path, const struct native_model *m, float *params, float *stats,
                        char *err, size_t errlen);

/* ---- the data set ---------------------------------------------------------------------- */

struct native_data {
    int h, w;                  /* image size; 3 channels, uint8, NHWC */
    int num_classes;           /* from the manifest, or 1 + the largest label */
    size_t n_train, n_test;    /* after --limit-train / --limit-test */
    uint8_t *train_x, *test_x; /* n x h x w x 3 */
    int32_t *train_y, *test_y;
    void *files[4]; /* the files in memory (npy_file), freed by native_data_free */
};

/* Loads DATA_DIR/NAME as workloads/common/data.py does: every file's SHA-256 against the
 * manifest before anything is parsed, then dtypes, shapes, labels and the class count. */
int native_data_load(const char *data_dir, const char *name, long limit_train, long limit_test,
                     struct native_data *d, char *err, size_t errlen);
void native_data_free(struct native_data *d);

/* ---- the order of the training images -------------------------------------------------- */

/* numpy.random.Generator(numpy.random.PCG64(seed)): SeedSequence seeding, the 128-bit PCG
 * XSL-RR generator with numpy's buffered 32-bit draws, and Generator.permutation(n) (a
 * Fisher-Yates shuffle drawing with masked rejection), so that the trainer visits the images in
 * the order driver.py gives every framework. */
struct native_rng {
    unsigned __int128 state, inc;
    int has_uint32;
    uint32_t uinteger;
};

void native_rng_seed(struct native_rng *r, unsigned long long seed);
uint64_t native_rng_next64(struct native_rng *r);
/* perm[0..n) = rng.permutation(n). */
void native_rng_permutation(struct native_rng *r, int32_t *perm, size_t n);

/* ---- metrics --------------------------------------------------------------------------- */

struct native_metrics {
    double accuracy, precision, recall, f1, loss;
};

/* metrics.evaluate(): accuracy and macro precision / recall / F1 over the classes in the true or
 * predicted labels (scikit-learn's definitions), mean cross-entropy in double from the logits
 * (n x classes, row-major).  work: 3 * (classes) doubles and classes ints of scratch. */
int native_metrics_eval(const float *logits, const int32_t *y, size_t n, int classes,
                        struct native_metrics *out);

/* The mean of per-batch losses, in double, as driver.py's losses_mean does. */
double native_mean(const float *v, size_t n);

#endif
