/*
 * cmd_report.c - 'joulebench report RESULTS': tables (configs.csv, epochs.csv, ratios.csv),
 * report.json and summary.md by the corrected method or the reference study's (seed-2023), then
 * the figures and the HTML page (figures.h).  Options and messages only: the methods live in
 * src/analysis/corrected.c and seed2023.c.
 */
#include "cli/cli.h"

#include "analysis/corrected.h"
#include "analysis/figures.h"
#include "analysis/report.h"
#include "analysis/seed2023.h"
#include "util/fsutil.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_str[] =
    "joulebench report RESULTS [-o DIR] [--method corrected|seed-2023] [--target-accuracy A] "
    "[--strict] [--no-figures]";

struct warn_ctx {
    size_t count;
};

static void on_warn(void *ctx, const char *msg)
{
    ((struct warn_ctx *)ctx)->count++;
    cli_warn("%s", msg);
}

/* The first run of the last configuration in sorted order (largest levels): the time-series
 * figure's example. */
static const char *example_run(const struct report_input *in)
{
    if (!in->nconfigs)
        return NULL;
    const struct rconfig *c = &in->configs[in->nconfigs - 1];
    return c->n ? in->runs[c->runs[0]].dir : NULL;
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"method", required_argument, NULL, 'm'},
                                         {"target-accuracy", required_argument, NULL, 't'},
                                         {"strict", no_argument, NULL, 's'},
                                         {"no-figures", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out = NULL, *method = "corrected";
    char outbuf[4096], err[1024];
    double target = NAN;
    int strict = 0, figures = 1, c, rc = JB_EXIT_FAIL;
    struct warn_ctx wc = {0};
    struct report_input in;
    char *ex_abs = NULL;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'm': method = optarg; break;
        case 't':
            if (cli_parse_double(optarg, 0.0, 1.0, &target))
                return cli_usage_error(usage_str,
                                       "report: --target-accuracy wants a number in "
                                       "[0, 1], got '%s'",
                                       optarg);
            break;
        case 's': strict = 1; break;
        case 'n': figures = 0; break;
        case 'h': printf("usage: %s\n", usage_str); return JB_EXIT_OK;
        default: return cli_usage_error(usage_str, "report: unknown option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(usage_str, "report: give one RESULTS folder");
    if (strcmp(method, "corrected") && strcmp(method, "seed-2023"))
        return cli_usage_error(usage_str, "report: --method is corrected or seed-2023, not '%s'",
                               method);
    const char *results = argv[optind];
    if (!out) {
        snprintf(outbuf, sizeof(outbuf), "%s/report", results);
        out = outbuf;
    }
    if (report_load(results, 1, strict, &in, on_warn, &wc, err, sizeof(err))) {
        report_free(&in);
        return cli_error("cannot report on '%s': %s%s", results, err,
                         strict ? " (drop --strict to skip malformed rows)" : "");
    }
    in.target_accuracy = target;
    report_check_epochs(&in);
    if (fs_mkdir_p(out, err, sizeof(err))) {
        cli_error("cannot create '%s': %s", out, err);
        goto out;
    }
    /* Absolute, so that the figures can find it whatever their working directory. */
    ex_abs = example_run(&in) ? realpath(example_run(&in), NULL) : NULL;
    const char *ex = ex_abs ? ex_abs : example_run(&in);
    int r = strcmp(method, "seed-2023") ? corrected_write(&in, out, ex, err, sizeof(err))
                                        : seed2023_write(&in, out, ex, err, sizeof(err));
    if (r) {
        cli_error("cannot write the report into '%s': %s", out, err);
        goto out;
    }
    if (figures) {
        if (figures_write(out, results, err, sizeof(err))) {
            cli_error("cannot draw the figures in '%s': %s (--no-figures skips them)", out, err);
            goto out;
        }
        if (html_write(out, err, sizeof(err))) {
            cli_error("cannot write '%s/index.html': %s", out, err);
            goto out;
        }
    }
    if (in.bad_rows)
        cli_warn("%zu malformed row(s) skipped", in.bad_rows);
    printf("report (%s) of %zu run(s) in %zu configuration(s) written to %s", method, in.nruns,
           in.nconfigs, out);
    if (in.skipped)
        printf(" (%zu unfinished run directories skipped)", in.skipped);
    printf("\n");
    rc = JB_EXIT_OK;
out:
    free(ex_abs);
    report_free(&in);
    return rc;
}
