/*
 * cmd_import.c - 'joulebench import nvidia-smi': turns nvidia-smi logs (and the reference study's
 * per-epoch metric files) into run directories, one file pair at a time or a whole folder of the
 * study's files (--batch).  Parsing lives in src/analysis/nvsmi.c, the run-directory layout in
 * src/analysis/import.c; this file handles options, file names and messages only.
 */
#define _XOPEN_SOURCE 700 /* nftw(3), before any system header */

#include "cli/cli.h"

#include "analysis/import.h"
#include "analysis/nvsmi.h"
#include "list.h"
#include "util/fsutil.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_str[] =
    "joulebench import nvidia-smi ENERGY.csv [--epochs MODEL.csv] [--levels k=v,...] "
    "[--fields LIST] [--strict] -o RUNDIR\n"
    "       joulebench import nvidia-smi --batch DIR [--grid NAME] [--strict] -o RESULTS";

static const char help_str[] =
    "\nTurns a log of 'nvidia-smi --query-gpu=... --format=csv --loop-ms=N' (and the reference\n"
    "study's per-epoch metric file) into a run directory that report and index read like a\n"
    "measured run.  The log has no energy counter: energies are trapezoid integrals of\n"
    "power.draw (energy_source power-integral); sampling gaps are kept, not interpolated.\n"
    "Malformed rows are reported as FILE:LINE: and skipped.  man joulebench-import for the\n"
    "accepted units, ranges and file names.\n\n"
    "      --epochs MODEL.csv  the per-epoch metric file (semicolon-separated, with epoch and\n"
    "                          timestamp): epoch k ends at its k-th timestamp; its metrics go\n"
    "                          to metrics.csv\n"
    "      --levels k=v,...    level names and values for the manifest (framework=pytorch,\n"
    "                          batch_size=64)\n"
    "      --fields LIST       the --query-gpu field names of a log without a header line\n"
    "                          (default: the study's timestamp,power.draw,temperature.gpu,\n"
    "                          memory.used,utilization.gpu,utilization.memory)\n"
    "      --strict            the first malformed row is an error (exit 1), nothing written\n"
    "      --batch DIR         import every runR-gpu-epochE-batchsizeBS-framework-DATASET-\n"
    "                          model-ENERGY.csv under DIR (with its _MODEL.csv) into\n"
    "                          RESULTS/GRID/framework-DATASET-model-BS-rR; no ENERGY.csv\n"
    "      --grid NAME         with --batch: the folder under RESULTS (default\n"
    "                          seed-2023-import)\n"
    "  -o, --output DIR        required: the run directory, or with --batch the results\n"
    "                          folder\n"
    "  -h, --help              this text\n";

struct warn_ctx {
    size_t count;
};

static void on_warn(void *ctx, const char *msg)
{
    ((struct warn_ctx *)ctx)->count++;
    cli_warn("%s", msg);
}

/* Imports one pair; returns 0 or 1 (message printed). */
static int import_pair(const char *energy, const char *epochs, const char *fields, int strict,
                       const struct import_opts *base, struct warn_ctx *wc)
{
    struct nvsmi_log log = {0};
    struct epoch_log ep = {0};
    struct import_opts o = *base;
    char err[1024];
    char *text = NULL;
    size_t len = 0;
    int rc = JB_EXIT_FAIL;

    if (fs_read_file(energy, &text, &len, err, sizeof(err))) {
        cli_error("cannot read '%s': %s", energy, err);
        goto out;
    }
    if (nvsmi_parse(text, len, energy, fields, strict, &log, on_warn, wc, err, sizeof(err))) {
        cli_error("cannot import '%s': %s%s", energy, err,
                  strict ? " (drop --strict to skip malformed rows)" : "");
        goto out;
    }
    free(text);
    text = NULL;
    if (epochs) {
        if (fs_read_file(epochs, &text, &len, err, sizeof(err))) {
            cli_error("cannot read '%s': %s", epochs, err);
            goto out;
        }
        if (epochs_parse(text, len, epochs, strict, &ep, on_warn, wc, err, sizeof(err))) {
            cli_error("cannot import '%s': %s", epochs, err);
            goto out;
        }
    }
    o.energy_path = energy;
    o.epochs_path = epochs;
    if (import_write_rundir(&log, epochs ? &ep : NULL, &o, on_warn, wc, err, sizeof(err))) {
        cli_error("cannot write run directory '%s': %s", o.outdir, err);
        goto out;
    }
    if (log.bad_rows || ep.bad_rows)
        cli_warn("'%s': %zu malformed row(s) skipped", energy, log.bad_rows + ep.bad_rows);
    rc = JB_EXIT_OK;
out:
    free(text);
    nvsmi_log_free(&log);
    epoch_log_free(&ep);
    return rc;
}

/* Parses "k=v,k2=v2" (s) into parallel arrays of pointers into buf, strlen(s) + 1 bytes, which
 * holds the items one after the other.  A trailing comma ends the list. */
static int parse_levels(const char *s, char *buf, const char **keys, const char **vals, size_t max,
                        size_t *n)
{
    const char *p = s;
    char *q = buf, *end = buf + strlen(s) + 1;
    *n = 0;
    while (p && *p) {
        size_t len = jb__list_next(&p, q, (size_t)(end - q), 0); /* always fits */
        char *eq = strchr(q, '=');
        if (!eq || eq == q || *n >= max)
            return -1;
        *eq = '\0';
        keys[*n] = q;
        vals[*n] = eq + 1;
        (*n)++;
        q += len + 1;
    }
    return 0;
}

struct pathlist {
    char **v;
    size_t n, cap;
};

/* The study's *-ENERGY.csv files under a folder, through nftw(3) (links followed, as stat did):
 * names starting with '.' skipped at every level, at most 8 folders deep. */
static struct pathlist *collect_pl;
static size_t collect_root_len;

static int collect_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    const char *base = path + ftw->base;
    size_t l = strlen(base);

    (void)st;
    if (type != FTW_F || ftw->level > 9 || strstr(path + collect_root_len, "/."))
        return 0;
    if (l < 11 || strcmp(base + l - 11, "-ENERGY.csv"))
        return 0;
    if (collect_pl->n == collect_pl->cap) {
        size_t cap = collect_pl->cap ? collect_pl->cap * 2 : 64;
        char **v = realloc(collect_pl->v, cap * sizeof(*v));
        if (!v)
            return 1; /* stop: what was found is kept */
        collect_pl->v = v;
        collect_pl->cap = cap;
    }
    collect_pl->v[collect_pl->n] = strdup(path);
    if (collect_pl->v[collect_pl->n])
        collect_pl->n++;
    return 0;
}

static int collect(const char *dir, struct pathlist *pl)
{
    collect_pl = pl;
    collect_root_len = strlen(dir);
    return nftw(dir, collect_one, 16, 0) < 0 ? -1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* run{R}-{device}-epoch{E}-batchsize{BS}-{framework}-{DATASET}-{model}-ENERGY.csv */
static int parse_study_name(const char *base, long *repeat, char *fw, char *ds, char *model,
                            char *bs, size_t sz)
{
    char buf[512];
    char *part[8];
    int n = 0;
    size_t l = strlen(base);
    if (l >= sizeof(buf))
        return -1;
    memcpy(buf, base, l + 1);
    buf[l - 11] = '\0'; /* drop -ENERGY.csv */
    for (char *p = buf; p && n < 8;) {
        part[n++] = p;
        p = strchr(p, '-');
        if (p)
            *p++ = '\0';
    }
    if (n != 7 || strncmp(part[0], "run", 3) || strncmp(part[3], "batchsize", 9))
        return -1;
    if (cli_parse_long(part[0] + 3, 0, 1000000, repeat) ||
        strspn(part[3] + 9, "0123456789") != strlen(part[3] + 9) || !part[3][9])
        return -1;
    snprintf(fw, sz, "%s", part[4]);
    snprintf(ds, sz, "%s", part[5]);
    snprintf(model, sz, "%s", part[6]);
    snprintf(bs, sz, "%s", part[3] + 9);
    return 0;
}

static int import_batch(const char *dir, const char *out, const char *grid, int strict,
                        struct warn_ctx *wc)
{
    struct pathlist pl = {0};
    size_t ok = 0, failed = 0, skipped = 0;

    if (collect(dir, &pl)) {
        int e = errno;
        return cli_error("cannot read folder '%s': %s", dir, strerror(e));
    }
    qsort(pl.v, pl.n, sizeof(*pl.v), cmp_str);
    for (size_t i = 0; i < pl.n; i++) {
        const char *base = strrchr(pl.v[i], '/') + 1;
        char fw[128], ds[128], model[128], bs[128], model_path[4096], rundir[4096], runid[600];
        long repeat;
        if (parse_study_name(base, &repeat, fw, ds, model, bs, sizeof(fw))) {
            cli_warn("'%s': name not of the form run{R}-gpu-epoch{E}-batchsize{BS}-{framework}-"
                     "{DATASET}-{model}-ENERGY.csv; skipped",
                     pl.v[i]);
            skipped++;
            continue;
        }
        size_t l = strlen(pl.v[i]);
        snprintf(model_path, sizeof(model_path), "%.*s_MODEL.csv", (int)(l - 11), pl.v[i]);
        const char *epochs = fs_exists(model_path) ? model_path : NULL;
        if (!epochs)
            cli_warn("'%s': no '%s'; imported without epochs", pl.v[i], model_path);
        /* The run id as the runner makes one: file-name safe, never hidden or '..'. */
        if (snprintf(runid, sizeof(runid), "%s-%s-%s-%s-r%ld", fw, ds, model, bs, repeat) >
            FS_NAME_MAX) {
            cli_warn("'%s': run id '%s' longer than %d bytes; skipped", pl.v[i], runid,
                     FS_NAME_MAX);
            skipped++;
            continue;
        }
        fs_safe_name(runid);
        snprintf(rundir, sizeof(rundir), "%s/%s/%s", out, grid, runid);
        const char *keys[] = {"framework", "dataset", "model", "batch_size"};
        const char *vals[] = {fw, ds, model, bs};
        struct import_opts o = {rundir, NULL, NULL, grid, runid, repeat, 4, keys, vals};
        if (import_pair(pl.v[i], epochs, NULL, strict, &o, wc))
            failed++;
        else
            ok++;
    }
    for (size_t i = 0; i < pl.n; i++)
        free(pl.v[i]);
    free(pl.v);
    printf("imported %zu run(s) into %s/%s", ok, out, grid);
    if (failed || skipped)
        printf(", %zu failed, %zu skipped", failed, skipped);
    printf(", %zu warning(s)\n", wc->count);
    if (ok == 0 && failed == 0)
        return cli_error("no '*-ENERGY.csv' files under '%s'", dir);
    return failed ? JB_EXIT_FAIL : JB_EXIT_OK;
}

int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {{"epochs", required_argument, NULL, 'e'},
                                         {"levels", required_argument, NULL, 'l'},
                                         {"fields", required_argument, NULL, 'f'},
                                         {"strict", no_argument, NULL, 's'},
                                         {"batch", required_argument, NULL, 'b'},
                                         {"grid", required_argument, NULL, 'g'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *epochs = NULL, *fields = NULL, *batch = NULL, *out = NULL;
    const char *grid = "seed-2023-import";
    char *levels = NULL;
    int strict = 0, c, rc;
    struct warn_ctx wc = {0};

    if (argc < 2 || strcmp(argv[1], "nvidia-smi")) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            printf("usage: %s\n", usage_str);
            fputs(help_str, stdout);
            return JB_EXIT_OK;
        }
        return cli_usage_error(usage_str, "import: the source must be 'nvidia-smi'");
    }
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'e': epochs = optarg; break;
        case 'l': levels = optarg; break;
        case 'f': fields = optarg; break;
        case 's': strict = 1; break;
        case 'b': batch = optarg; break;
        case 'g': grid = optarg; break;
        case 'o': out = optarg; break;
        case 'h':
            printf("usage: %s\n", usage_str);
            fputs(help_str, stdout);
            return JB_EXIT_OK;
        default: return cli_usage_error(usage_str, "import: unknown option");
        }
    }
    if (!out)
        return cli_usage_error(usage_str, "import: -o is required");
    if (!fs_name_ok(grid, FS_NAME_MAX))
        return cli_usage_error(usage_str,
                               "import: --grid '%s': not a grid name (letters, digits, '.', '_', "
                               "'+', '=', '-'; not starting with '.'; at most %d bytes)",
                               grid, FS_NAME_MAX);
    if (batch) {
        if (optind != argc)
            return cli_usage_error(usage_str, "import: --batch takes no ENERGY.csv");
        return import_batch(batch, out, grid, strict, &wc);
    }
    if (optind != argc - 1)
        return cli_usage_error(usage_str, "import: give one ENERGY.csv (or --batch DIR)");
    const char *keys[64], *vals[64];
    size_t nl = 0;
    char *lv = levels ? strdup(levels) : NULL;
    if (levels && (!lv || parse_levels(levels, lv, keys, vals, 64, &nl))) {
        free(lv);
        return cli_usage_error(usage_str, "import: --levels wants k=v,k2=v2");
    }
    struct import_opts o = {out, NULL, NULL, NULL, NULL, -1, nl, keys, vals};
    rc = import_pair(argv[optind], epochs, fields, strict, &o, &wc);
    free(lv);
    if (rc == JB_EXIT_OK)
        printf("imported '%s' into %s (%zu warning(s))\n", argv[optind], out, wc.count);
    return rc;
}
