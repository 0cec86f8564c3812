/*
 * args.c - the native trainer's command line: the Python workloads' one (workloads/common/cli.py,
 * DESIGN.md section 7) with the same defaults, checks and argparse-style messages, plus what only
 * this trainer has (--graph, --algo, --workspace-mib).  Options that make no sense here are
 * refused with the reason rather than ignored.  "--opt value" and "--opt=value" are accepted;
 * argparse's abbreviated option names are not.
 */
#include "native.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *native_usage(void)
{
    return "usage: " NATIVE_PROG " --dataset NAME [--data-dir DATA] [--model resnet50|resnet101|"
           "resnet152]\n"
           "    [--batch-size 128] [--epochs 10] [--lr 0.001] [--momentum 0.9] [--seed 1] --init "
           "FILE\n"
           "    [--precision fp32|tf32|bf16] [--impl matched] [--limit-train N] [--limit-test N]\n"
           "    [--mode eager|graph] [--graph] [--data-on-device] [--shuffle|--no-shuffle]\n"
           "    [--raw-pixels] [--device auto|cuda] [--algo find|heuristic] [--workspace-mib "
           "1024]\n"
           "    [--check-out FILE]\n\n"
           "Train torchvision's ResNet v1.5 (the --impl matched network of the Python workloads)\n"
           "with cuDNN and cuBLAS, no framework, marking phases for joulebench (JOULEBENCH_FD).\n"
           "The data set and the initial weights are those of the Python workloads; the images "
           "are\n"
           "visited in the same order (numpy's PCG64 permutation of --seed).\n\n"
           "  --init FILE        initial weights, .npz with torchvision names "
           "(workloads/common/export_init.py);\n"
           "                     required: this trainer does not draw numpy's weights itself\n"
           "  --precision        fp32: IEEE float32, TF32 off (default); tf32: TF32 tensor cores "
           "in\n"
           "                     convolutions and the fc layer; bf16: convolutions and fc in "
           "bfloat16\n"
           "                     with float32 accumulation, batch norm, weights and loss in "
           "float32\n"
           "  --mode, --graph    eager: one launch per operation (default); graph: the whole "
           "training\n"
           "                     step (gather, forward, loss, backward, SGD) is one CUDA graph\n"
           "  --data-on-device   accepted for compatibility: the data set is always on the "
           "device\n"
           "  --algo             find: cuDNN times the convolution algorithms at startup "
           "(default);\n"
           "                     heuristic: cuDNN's first choice, untimed\n"
           "  --workspace-mib N  largest convolution workspace (default 1024)\n"
           "  --layout           nchw: PyTorch's default layout (default); nhwc: channels last,\n"
           "                     cuDNN's persistent batch-norm kernels (PyTorch's channels_last)\n"
           "  --profile N        time N eager steps by operation kind during startup and print\n"
           "                     the milliseconds per step on stderr (a measurement aid)\n"
           "  --check-out FILE   testing: instead of training, write the outputs on the first "
           "batch,\n"
           "                     one SGD step, the outputs and loss after it, and every tensor "
           "after\n"
           "                     the step, to FILE (.npz), and exit\n";
}

const char *native_precision_name(enum native_precision p)
{
    return p == PREC_TF32 ? "tf32" : p == PREC_BF16 ? "bf16" : "fp32";
}

static int bad(char *err, size_t errlen, const char *opt, const char *fmt, const char *val)
{
    char why[256];
    snprintf(why, sizeof(why), fmt, val);
    snprintf(err, errlen, "argument %s: %s", opt, why);
    return -1;
}

static int parse_long(const char *opt, const char *s, long min, long *out, char *err, size_t errlen)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return bad(err, errlen, opt, "'%s' is not an integer", s);
    if (v < min)
        return bad(err, errlen, opt, min == 1 ? "'%s' must be >= 1" : "'%s' must be >= 0", s);
    *out = v;
    return 0;
}

static int parse_double(const char *opt, const char *s, double *out, char *err, size_t errlen)
{
    char *end = NULL;

    errno = 0;
    *out = strtod(s, &end);
    if (errno == ERANGE && fabs(*out) > 1)
        *out = INFINITY;
    if (end == s || *end)
        return bad(err, errlen, opt, "'%s' is not a number", s);
    return 0;
}

static int choice(const char *opt, const char *s, const char *const *names, int n, int *out,
                  char *err, size_t errlen)
{
    char list[256] = "";
    size_t len = 0;

    for (int i = 0; i < n; i++) {
        if (!strcmp(s, names[i])) {
            *out = i;
            return 0;
        }
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s'%s'", i ? ", " : "", names[i]);
    }
    snprintf(err, errlen, "argument %s: invalid choice: '%s' (choose from %s)", opt, s, list);
    return -1;
}

int native_parse_args(int argc, char **argv, struct native_args *a, char *err, size_t errlen)
{
    static const char *const models[] = {"resnet50", "resnet101", "resnet152"};
    static const char *const precisions[] = {"fp32", "tf32", "bf16", "fp64"};
    static const char *const impls[] = {"matched", "stock"};
    static const char *const devices[] = {"auto", "cpu", "cuda"};
    static const char *const modes[] = {"eager", "compiled", "graph"};
    static const char *const algos[] = {"find", "heuristic"};
    static const char *const layouts[] = {"nchw", "nhwc"};
    int mode = -1, graph_flag = 0;

    memset(a, 0, sizeof(*a));
    a->data_dir = "data";
    a->model = "resnet50";
    a->batch_size = 128;
    a->epochs = 10;
    a->lr = 0.001;
    a->momentum = 0.9;
    a->seed = 1;
    a->shuffle = 1;
    a->workspace_mib = 1024;
    for (int i = 1; i < argc; i++) {
        char opt[64];
        const char *arg = argv[i], *val = NULL, *eq;
        int c;

        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            a->help = 1;
            return 0;
        }
        if (strncmp(arg, "--", 2) != 0) {
            snprintf(err, errlen, "unrecognized arguments: %s", arg);
            return -1;
        }
        eq = strchr(arg, '=');
        if (eq) {
            snprintf(opt, sizeof(opt), "%.*s", (int)(eq - arg), arg);
            val = eq + 1;
        } else {
            snprintf(opt, sizeof(opt), "%s", arg);
        }
        /* Flags. */
        if (!strcmp(opt, "--shuffle") || !strcmp(opt, "--no-shuffle") ||
            !strcmp(opt, "--raw-pixels") || !strcmp(opt, "--data-on-device") ||
            !strcmp(opt, "--graph") || !strcmp(opt, "--channels-last") ||
            !strcmp(opt, "--compile") || !strcmp(opt, "--ddp")) {
            if (val) {
                snprintf(err, errlen, "argument %s: ignored explicit argument '%s'", opt, val);
                return -1;
            }
            if (!strcmp(opt, "--shuffle"))
                a->shuffle = 1;
            else if (!strcmp(opt, "--no-shuffle"))
                a->shuffle = 0;
            else if (!strcmp(opt, "--raw-pixels"))
                a->raw_pixels = 1;
            else if (!strcmp(opt, "--graph"))
                graph_flag = 1;
            else if (!strcmp(opt, "--channels-last")) {
                snprintf(err, errlen,
                         "argument --channels-last: PyTorch only (this trainer's "
                         "layout is NCHW, NHWC with --precision bf16)");
                return -1;
            } else if (!strcmp(opt, "--ddp")) {
                snprintf(err, errlen,
                         "argument --ddp: data-parallel training is implemented for PyTorch "
                         "only (this trainer runs on one GPU)");
                return -1;
            } else if (!strcmp(opt, "--compile")) {
                snprintf(err, errlen,
                         "argument --compile: there is no compiler here: use "
                         "--mode graph for the whole step in one CUDA graph");
                return -1;
            }
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "argument %s: expected one argument", opt);
                return -1;
            }
            val = argv[++i];
        }
        if (!strcmp(opt, "--dataset")) {
            a->dataset = val;
        } else if (!strcmp(opt, "--data-dir")) {
            a->data_dir = val;
        } else if (!strcmp(opt, "--model")) {
            if (choice(opt, val, models, 3, &c, err, errlen) < 0)
                return -1;
            a->model = models[c];
        } else if (!strcmp(opt, "--batch-size")) {
            if (parse_long(opt, val, 1, &a->batch_size, err, errlen) < 0)
                return -1;
        } else if (!strcmp(opt, "--epochs")) {
            if (parse_long(opt, val, 1, &a->epochs, err, errlen) < 0)
                return -1;
        } else if (!strcmp(opt, "--lr")) {
            if (parse_double(opt, val, &a->lr, err, errlen) < 0)
                return -1;
            if (!(a->lr > 0) || isinf(a->lr))
                return bad(err, errlen, opt, "'%s' must be a finite number > 0", val);
        } else if (!strcmp(opt, "--momentum")) {
            if (parse_double(opt, val, &a->momentum, err, errlen) < 0)
                return -1;
            if (!(a->momentum >= 0 && a->momentum < 1))
                return bad(err, errlen, opt, "'%s' must be in [0, 1)", val);
        } else if (!strcmp(opt, "--seed")) {
            char *end = NULL;
            errno = 0;
            if (val[0] == '-') {
                long dummy;
                if (parse_long(opt, val, 0, &dummy, err, errlen) < 0)
                    return -1;
            }
            a->seed = strtoull(val, &end, 10);
            if (errno || end == val || *end)
                return bad(err, errlen, opt, "'%s' is not an integer", val);
        } else if (!strcmp(opt, "--init")) {
            a->init = val;
        } else if (!strcmp(opt, "--precision")) {
            if (choice(opt, val, precisions, 4, &c, err, errlen) < 0)
                return -1;
            if (c == 3) {
                snprintf(err, errlen,
                         "argument --precision: fp64 is not supported by the native "
                         "trainer (it exists for the Python equivalence tests)");
                return -1;
            }
            a->precision = (enum native_precision)c;
        } else if (!strcmp(opt, "--impl")) {
            if (choice(opt, val, impls, 2, &c, err, errlen) < 0)
                return -1;
            if (c == 1) {
                snprintf(err, errlen,
                         "argument --impl: the native trainer has no stock model of "
                         "its own: use --impl matched");
                return -1;
            }
        } else if (!strcmp(opt, "--limit-train")) {
            if (parse_long(opt, val, 1, &a->limit_train, err, errlen) < 0)
                return -1;
        } else if (!strcmp(opt, "--limit-test")) {
            if (parse_long(opt, val, 1, &a->limit_test, err, errlen) < 0)
                return -1;
        } else if (!strcmp(opt, "--device")) {
            if (choice(opt, val, devices, 3, &c, err, errlen) < 0)
                return -1;
            if (c == 1) {
                snprintf(err, errlen,
                         "argument --device: the native trainer runs on CUDA GPUs "
                         "only");
                return -1;
            }
        } else if (!strcmp(opt, "--mode")) {
            if (choice(opt, val, modes, 3, &mode, err, errlen) < 0)
                return -1;
            if (mode == 1) {
                snprintf(err, errlen,
                         "argument --mode: 'compiled' does not apply to the native "
                         "trainer (eager or graph)");
                return -1;
            }
        } else if (!strcmp(opt, "--algo")) {
            if (choice(opt, val, algos, 2, &c, err, errlen) < 0)
                return -1;
            a->algo = (enum native_algo)c;
        } else if (!strcmp(opt, "--layout")) {
            if (choice(opt, val, layouts, 2, &a->nhwc, err, errlen) < 0)
                return -1;
        } else if (!strcmp(opt, "--profile")) {
            if (parse_long(opt, val, 0, &a->profile_steps, err, errlen) < 0)
                return -1;
            if (a->profile_steps > 1000)
                return bad(err, errlen, opt, "'%s' must be at most 1000", val);
        } else if (!strcmp(opt, "--workspace-mib")) {
            if (parse_long(opt, val, 0, &a->workspace_mib, err, errlen) < 0)
                return -1;
            if (a->workspace_mib > 65536)
                return bad(err, errlen, opt, "'%s' must be at most 65536", val);
        } else if (!strcmp(opt, "--check-out")) {
            a->check_out = val;
        } else if (!strcmp(opt, "--nproc-per-node") || !strcmp(opt, "--params-out")) {
            snprintf(err, errlen,
                     "argument %s: data-parallel training and --params-out are implemented for "
                     "PyTorch only",
                     opt);
            return -1;
        } else {
            snprintf(err, errlen, "unrecognized arguments: %s", arg);
            return -1;
        }
    }
    if (!a->dataset) {
        snprintf(err, errlen, "the following arguments are required: --dataset");
        return -1;
    }
    if (mode == 0 && graph_flag) {
        snprintf(err, errlen, "argument --graph: not allowed with --mode eager");
        return -1;
    }
    a->graph = graph_flag || mode == 2;
    return 0;
}
