/*
 * cmd_data.c - 'joulebench data': makes the data sets the workloads read (DATA/<name>/ with
 * four .npy files and manifest.json, docs/data-format.md), by importing the official
 * CIFAR-10/100 and SVHN downloads or by generating a synthetic set.  Option parsing and messages
 * only: the work is in src/data.  Not a downloader: the files are fetched by the user (the machines
 * that run studies often have no internet access).
 */
#include "cli/cli.h"

#include "data/data.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define USAGE_IMPORT                                                                               \
    "joulebench data import cifar10|cifar100|svhn PATH [--split seed-2023|official] [--extra] "    \
    "[-o DATA]"
#define USAGE_SYNTH                                                                                \
    "joulebench data synth NAME [--train N] [--test N] [--seed S] [--classes C] [-o DATA]"
#define USAGE USAGE_IMPORT "\n       " USAGE_SYNTH

static void help(void)
{
    printf("usage: %s\n\n"
           "Writes DATA/<name>/{train_x,train_y,test_x,test_y}.npy (uint8 images N x 32 x 32 x 3,\n"
           "int64 labels) and manifest.json with the SHA-256 of every file; every workload checks\n"
           "those hashes, so all frameworks see the same bytes.  Options take '--opt V' or\n"
           "'--opt=V'.\n\n"
           "import NAME PATH: one of the official sets, as downloaded (nothing is fetched).\n"
           "  PATH is cifar-10-binary.tar.gz or cifar-100-binary.tar.gz, or for svhn the\n"
           "  directory holding train_32x32.mat and test_32x32.mat.\n"
           "      --split seed-2023  the last 10%% of the training set is the test set (default,\n"
           "                         as the reference study)\n"
           "      --split official   the official training and test sets\n"
           "      --extra            svhn only: append extra_32x32.mat to the training set\n"
           "  -o, --output DATA      the data root (default ./data): writes DATA/NAME\n\n"
           "synth NAME: a learnable synthetic set of the same shape, the same on every machine\n"
           "  (for testing the pipeline; not a substitute for the real sets' accuracy).\n"
           "      --train N          training images (1..10000000; default 5000)\n"
           "      --test N           test images (0..10000000; default 1000)\n"
           "      --seed S           generator seed (0..2^53-1; default 1)\n"
           "      --classes C        number of classes (2..1000; default 10)\n"
           "  -o, --output DATA      the data root (default ./data): writes DATA/NAME\n\n"
           "  -h, --help             this text (also 'data import --help', 'data synth --help')\n",
           USAGE);
}

/* One option with a value: "--opt V" or "--opt=V".  Returns the value or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);

    if (!strncmp(argv[*i], name, n) && argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (!strcmp(argv[*i], name)) {
        if (*i + 1 >= argc)
            return NULL;
        return argv[++*i];
    }
    return NULL;
}

static int is_opt(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return !strncmp(arg, name, n) && (arg[n] == '\0' || arg[n] == '=');
}

static int do_import(int argc, char **argv)
{
    struct data_import imp = {.root = "data", .split = DATA_SPLIT_SEED2023};
    struct data_set ds;
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    char err[1024];
    int rc;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;

        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help();
            return JB_EXIT_OK;
        } else if (is_opt(a, "--split")) {
            v = opt_value(argc, argv, &i, "--split");
            if (!v || data_split_parse(v, &imp.split) < 0)
                return cli_usage_error(USAGE_IMPORT, "--split takes seed-2023 or official");
        } else if (!strcmp(a, "--extra")) {
            imp.svhn_extra = 1;
        } else if (is_opt(a, "-o") || is_opt(a, "--output")) {
            v = opt_value(argc, argv, &i, a[1] == 'o' ? "-o" : "--output");
            if (!v || !*v)
                return cli_usage_error(USAGE_IMPORT, "%s needs a directory", a);
            imp.root = v;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error(USAGE_IMPORT, "unknown option '%s'", a);
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            return cli_usage_error(USAGE_IMPORT, "unexpected argument '%s'", a);
        }
    }
    if (npos != 2)
        return cli_usage_error(USAGE_IMPORT, "import needs a data set name and a PATH");
    imp.dataset = pos[0];
    imp.path = pos[1];
    if (!strcmp(imp.dataset, "cifar10") || !strcmp(imp.dataset, "cifar100")) {
        if (imp.svhn_extra)
            return cli_usage_error(USAGE_IMPORT, "--extra is for svhn only");
        rc = data_import_cifar(&imp, &ds, err, sizeof(err));
    } else if (!strcmp(imp.dataset, "svhn")) {
        rc = data_import_svhn(&imp, &ds, err, sizeof(err));
    } else {
        return cli_usage_error(USAGE_IMPORT, "unknown data set '%s' (cifar10, cifar100, svhn)",
                               imp.dataset);
    }
    if (rc < 0)
        return cli_error("data import %s: %s", imp.dataset, err);
    printf("%s: %" PRIu64 " train, %" PRIu64 " test images, %d classes, split %s -> %s\n", ds.name,
           ds.n[DATA_TRAIN], ds.n[DATA_TEST], ds.classes, data_split_name(ds.split), ds.dir);
    return JB_EXIT_OK;
}

static int do_synth(int argc, char **argv)
{
    struct data_synth syn = {
        .root = "data", .n_train = 5000, .n_test = 1000, .seed = 1, .classes = 10};
    struct data_set ds;
    char err[1024];
    long v;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *s;

        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help();
            return JB_EXIT_OK;
        } else if (is_opt(a, "--train") || is_opt(a, "--test")) {
            int train = is_opt(a, "--train");
            s = opt_value(argc, argv, &i, train ? "--train" : "--test");
            /* 10 million images is 30 GB: more is a typo. */
            if (!s || cli_parse_long(s, train ? 1 : 0, 10000000, &v) < 0)
                return cli_usage_error(USAGE_SYNTH, "%s takes a number of images, %d to 10000000",
                                       train ? "--train" : "--test", train ? 1 : 0);
            if (train)
                syn.n_train = (uint64_t)v;
            else
                syn.n_test = (uint64_t)v;
        } else if (is_opt(a, "--seed")) {
            s = opt_value(argc, argv, &i, "--seed");
            /* below 2^53 so the manifest's JSON number is exact everywhere */
            if (!s || cli_parse_long(s, 0, 9007199254740991L, &v) < 0)
                return cli_usage_error(USAGE_SYNTH, "--seed takes an integer 0 to 2^53-1");
            syn.seed = (uint64_t)v;
        } else if (is_opt(a, "--classes")) {
            s = opt_value(argc, argv, &i, "--classes");
            if (!s || cli_parse_long(s, 2, DATA_MAX_CLASSES, &v) < 0)
                return cli_usage_error(USAGE_SYNTH, "--classes takes an integer 2 to %d",
                                       DATA_MAX_CLASSES);
            syn.classes = (int)v;
        } else if (is_opt(a, "-o") || is_opt(a, "--output")) {
            s = opt_value(argc, argv, &i, a[1] == 'o' ? "-o" : "--output");
            if (!s || !*s)
                return cli_usage_error(USAGE_SYNTH, "%s needs a directory", a);
            syn.root = s;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error(USAGE_SYNTH, "unknown option '%s'", a);
        } else if (!syn.name) {
            syn.name = a;
        } else {
            return cli_usage_error(USAGE_SYNTH, "unexpected argument '%s'", a);
        }
    }
    if (!syn.name)
        return cli_usage_error(USAGE_SYNTH, "synth needs a NAME");
    if (!data_name_valid(syn.name))
        return cli_usage_error(
            USAGE_SYNTH, "invalid NAME '%s' (1 to 63 letters, digits, '.', '_' or '-')", syn.name);
    if (data_synth_write(&syn, &ds, err, sizeof(err)) < 0)
        return cli_error("data synth %s: %s", syn.name, err);
    printf("%s: %" PRIu64 " train, %" PRIu64 " test images, %d classes, synthetic seed %" PRIu64
           " -> %s\n",
           ds.name, ds.n[DATA_TRAIN], ds.n[DATA_TEST], ds.classes, syn.seed, ds.dir);
    return JB_EXIT_OK;
}

int cmd_data(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(USAGE, "'data' needs 'import' or 'synth'");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        help();
        return JB_EXIT_OK;
    }
    if (!strcmp(argv[1], "import"))
        return do_import(argc - 1, argv + 1);
    if (!strcmp(argv[1], "synth"))
        return do_synth(argc - 1, argv + 1);
    return cli_usage_error(USAGE, "unknown 'data' command '%s' (import, synth)", argv[1]);
}
