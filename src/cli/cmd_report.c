/*
 * cmd_report.c - 'joulebench report RESULTS': tables (configs.csv, epochs.csv, ratios.csv),
 * report.json and summary.md by the corrected method or the reference study's (seed-2023), then
 * the figures and the HTML page (figures.h).  The report is written into a hidden sibling of
 * its folder and put in place in one step (report_out, report.h): SIGINT or SIGTERM while it is
 * written leaves the old report (or none) and no temporary, and exits 128+N.  Options, signals
 * and messages only: the methods live in src/analysis/corrected.c and seed2023.c.
 *
 * Test hook (never needed otherwise): with JB_TEST_REPORT_PAUSE_AFTER=N, after the N-th file of
 * the report is written (N = 1 is the first table; the commit counts as one more), report
 * creates the file named by JB_TEST_REPORT_PAUSE_FILE and waits for SIGINT or SIGTERM, so a
 * test can interrupt it at a chosen point without racing it.
 */
#include "cli/cli.h"
#include "cli/cli_carbon.h"

#include "analysis/corrected.h"
#include "analysis/figures.h"
#include "analysis/parts.h"
#include "analysis/plot.h"
#include "analysis/report.h"
#include "analysis/seed2023.h"
#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_str[] =
    "joulebench report RESULTS [-o DIR] [--method corrected|seed-2023] [--target-accuracy A] "
    "[--strict] [--no-figures] [--no-png] [--carbon-intensity G|--region CODE] [--price P[CUR]] "
    "[--currency CUR] [--pue X]";

static const char help_str[] =
    "\nReads every finished run directory under RESULTS and writes a report into DIR\n"
    "(default RESULTS/report): configs.csv, epochs.csv, ratios.csv (corrected) or runs.csv\n"
    "(seed-2023), report.json, summary.md, fig/ (five figures as SVG and PNG, numbered as the\n"
    "reference study's Fig. 1-5, and figures.json) and index.html, one self-contained page.\n"
    "The folder is replaced as a whole: an interrupted report leaves the old one.\n\n"
    "  -o, --output DIR         the report folder (default RESULTS/report); an existing DIR must\n"
    "                           be a report folder (it holds report.json) or empty\n"
    "  -m, --method M           corrected (default): per-run energy from the counters, mean,\n"
    "                           sd and 95% CI over repeats; seed-2023: the reference study's\n"
    "                           own post-processing, reproduced (docs/METHODOLOGY.md)\n"
    "      --target-accuracy A  also energy_to_target_j: energy until the first epoch whose\n"
    "                           accuracy is at least A (0..1)\n"
    "      --strict             the first malformed row in a run directory is an error\n"
    "      --no-figures         draw no figure (tables and index.html only)\n"
    "      --no-png             SVG figures only (the PNGs are listed as not drawn)\n"
    "  -h, --help               this text\n\n"
    "A figure that cannot be drawn (a column the method lacks, no data, no cairo for PNGs) is\n"
    "listed with the reason in fig/figures.json and index.html; the report still exits 0.\n\n"
    "Carbon and cost (corrected method): each run's own factors (its grid file's\n"
    "carbon_intensity, region, price, currency, pue, in its manifest.json), or these options,\n"
    "which replace them for this report.  Facility kWh = (GPU + CPU/DRAM energy) x PUE;\n"
    "every factor and its source is recorded in report.json \"factors\".  Without any factor\n"
    "the report has no carbon columns and says how to get them.\n\n";

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

/* ---- signals: a flag, checked before every file of the report ---- */

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
    stop_sig = sig;
}

struct hooks {
    long pause_after; /* 0: no test pause */
    const char *pause_file;
    long written;
};

static int before_write(void *ctx)
{
    (void)ctx;
    return stop_sig != 0;
}

/* The test pause: signals are blocked before the marker exists, so the one a test sends after
 * seeing it is taken by sigsuspend, never lost in between. */
static void test_pause(struct hooks *h, const char *what)
{
    sigset_t block, old;
    int fd;

    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    fd = open(h->pause_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ssize_t n = write(fd, what, strlen(what));
        (void)n;
        close(fd);
    }
    while (!stop_sig) {
        sigset_t wait = old;
        sigdelset(&wait, SIGINT);
        sigdelset(&wait, SIGTERM);
        sigsuspend(&wait);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static void after_write(void *ctx, const char *path)
{
    struct hooks *h = ctx;

    h->written++;
    if (h->pause_after > 0 && h->written == h->pause_after && h->pause_file)
        test_pause(h, path);
}

/* What the command line asks for. */
struct report_args {
    const char *out, *method, *results;
    double target;
    int strict;
    unsigned fig_flags;
    struct carbon_factors cf;
};

/* Parses the options into *a: -1 to go on, else the exit status to return. */
static int parse_args(int argc, char **argv, struct report_args *a)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"method", required_argument, NULL, 'm'},
                                         {"target-accuracy", required_argument, NULL, 't'},
                                         {"strict", no_argument, NULL, 's'},
                                         {"no-figures", no_argument, NULL, 'n'},
                                         {"no-png", no_argument, NULL, 'P'},
                                         {"help", no_argument, NULL, 'h'},
                                         CLI_CARBON_LONGOPTS,
                                         {NULL, 0, NULL, 0}};
    int c;

    memset(a, 0, sizeof(*a));
    a->method = "corrected";
    a->target = NAN;
    carbon_init(&a->cf);
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': a->out = optarg; break;
        case 'm': a->method = optarg; break;
        case 't':
            if (cli_parse_double(optarg, 0.0, 1.0, &a->target))
                return cli_usage_error(usage_str,
                                       "report: --target-accuracy wants a number in "
                                       "[0, 1], got '%s'",
                                       optarg);
            break;
        case 's': a->strict = 1; break;
        case 'n': a->fig_flags |= FIG_NO_DRAW; break;
        case 'P': a->fig_flags |= FIG_NO_PNG; break;
        case 'h':
            printf("usage: %s\n", usage_str);
            fputs(help_str, stdout);
            fputs(cli_carbon_help, stdout);
            return JB_EXIT_OK;
        default:
            if (cli_carbon_is_option(c)) {
                if (cli_carbon_option(c, optarg, &a->cf, usage_str))
                    return JB_EXIT_USAGE;
                break;
            }
            return cli_usage_error(usage_str, "report: unknown option");
        }
    }
    if (cli_carbon_finish(&a->cf, usage_str))
        return JB_EXIT_USAGE;
    if (optind != argc - 1)
        return cli_usage_error(usage_str, "report: give one RESULTS folder");
    if (strcmp(a->method, "corrected") && strcmp(a->method, "seed-2023"))
        return cli_usage_error(usage_str, "report: --method is corrected or seed-2023, not '%s'",
                               a->method);
    if (!strcmp(a->method, "seed-2023") && carbon_any(&a->cf))
        cli_note("carbon and cost: only the corrected method reports them (the seed-2023 tables "
                 "keep the study's columns)");
    a->results = argv[optind];
    return -1;
}

/* Writes the tables, the figures and the HTML into the begun folder TMP: 0, or -1 after a
 * message (none when a signal stopped it). */
static int write_report(const struct report_args *a, struct report_input *in, const char *tmp,
                        const char *ex, struct fig_status *fs)
{
    char err[1024];
    int r = strcmp(a->method, "seed-2023") ? corrected_write(in, tmp, ex, err, sizeof(err))
                                           : seed2023_write(in, tmp, ex, err, sizeof(err));
    if (r) {
        if (!stop_sig)
            cli_error("cannot write the report into '%s': %s", a->out, err);
        return -1;
    }
    if (figures_write(tmp, a->results, a->fig_flags, fs, err, sizeof(err))) {
        if (!stop_sig)
            cli_error("cannot write the figures into '%s': %s", a->out, err);
        return -1;
    }
    if (html_write(tmp, err, sizeof(err))) {
        if (!stop_sig)
            cli_error("cannot write '%s/index.html': %s", a->out, err);
        return -1;
    }
    return 0;
}

/* The notes and the last line of a report that was put in place. */
static void print_summary(const struct report_args *a, const struct report_input *in,
                          const struct fig_status *fs)
{
    if (in->bad_rows)
        cli_warn("%zu malformed row(s) skipped", in->bad_rows);
    if (!(a->fig_flags & FIG_NO_DRAW) && fs->not_drawn)
        cli_note("%zu of 5 figures not drawn: %s", fs->not_drawn, fs->not_drawn_list);
    if (!(a->fig_flags & FIG_NO_PNG) && fs->png_missing)
        cli_note("%zu figure(s) as SVG only: %s", fs->png_missing, fs->png_reason);
    if (report_simulated(in))
        cli_note("the report's numbers come from a SIMULATED meter: it says so in every file");
    printf("report (%s) of %zu run(s) in %zu configuration(s) written to %s", a->method, in->nruns,
           in->nconfigs, a->out);
    if (in->skipped)
        printf(" (%zu unfinished run directories skipped)", in->skipped);
    printf("\n");
}

int cmd_report(int argc, char **argv)
{
    struct report_args a;
    char outbuf[4096], err[1024];
    int rc = JB_EXIT_FAIL, began = 0;
    struct warn_ctx wc = {0};
    struct report_input in;
    struct report_out ro;
    struct hooks hk = {0, NULL, 0};
    struct sigaction sa, old_int, old_term;
    struct fig_status fs = {0};
    char *ex_abs = NULL;
    const char *env, *results, *out;

    rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    rc = JB_EXIT_FAIL;
    results = a.results;
    if (!a.out) {
        snprintf(outbuf, sizeof(outbuf), "%s/report", results);
        a.out = outbuf;
    }
    out = a.out;
    env = getenv("JB_TEST_REPORT_PAUSE_AFTER");
    if (env && *env && cli_parse_long(env, 1, 1000000, &hk.pause_after) == 0)
        hk.pause_file = getenv("JB_TEST_REPORT_PAUSE_FILE");
    /* A run measured in parts (Slurm, several nodes) is merged into its run folder first; an
     * incomplete set stops the report (docs/slurm.md).  Idempotent: a merged run is complete. */
    {
        size_t n_merged = 0;
        if (parts_merge_all(results, &n_merged, err, sizeof(err)))
            return cli_error("cannot report on '%s': %s", results, err);
        if (n_merged)
            cli_note("merged the parts of %zu run(s) measured on several nodes", n_merged);
    }
    /* Reading writes nothing: until the report folder is begun, a signal simply ends us. */
    if (report_load(results, 1, a.strict, &in, on_warn, &wc, err, sizeof(err))) {
        report_free(&in);
        return cli_error("cannot report on '%s': %s%s", results, err,
                         a.strict ? " (drop --strict to skip malformed rows)" : "");
    }
    in.target_accuracy = a.target;
    in.carbon_over = &a.cf;
    report_check_epochs(&in);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    report_set_write_hooks(before_write, after_write, &hk);
    if (report_out_begin(&ro, out, err, sizeof(err))) {
        cli_error("cannot write a report into '%s': %s", out, err);
        goto out;
    }
    began = 1;
    /* Absolute, so that the figures can find it whatever their working directory. */
    ex_abs = example_run(&in) ? realpath(example_run(&in), NULL) : NULL;
    if (write_report(&a, &in, ro.tmp, ex_abs ? ex_abs : example_run(&in), &fs))
        goto out;
    if (stop_sig)
        goto out;
    if (report_out_commit(&ro, err, sizeof(err))) {
        cli_error("cannot put the report in place: %s", err);
        goto out;
    }
    after_write(&hk, ro.final); /* the commit: the test hook can pause after it too */
    print_summary(&a, &in, &fs);
    rc = stop_sig ? 128 + stop_sig : JB_EXIT_OK;
out:
    if (began && ro.active) {
        report_out_abort(&ro);
        if (stop_sig)
            cli_error("interrupted by signal %d: %s", (int)stop_sig,
                      fs_exists(out) ? "the report folder is unchanged" : "no report written");
    }
    if (stop_sig && rc == JB_EXIT_FAIL)
        rc = 128 + stop_sig;
    report_set_write_hooks(NULL, NULL, NULL);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    free(ex_abs);
    report_free(&in);
    plot_png_release();
    return rc;
}
