/*
 * cmd_stat.c - 'joulebench stat': run a command (-r N: N times) and report the energy it used,
 * with perf stat's conventions.  The command runs without a shell; SIGINT/SIGTERM are forwarded;
 * the exit status is the command's (128+N when killed by signal N; 127/126 when it cannot be
 * started).  The table (or -x rows) goes to stderr so the command's own stdout stays clean, or
 * to stdout with -o -; --json FILE ('-': stdout, after the command's output).  Every output path
 * is checked before the command starts; a JSON file that still cannot be written at the end is
 * saved elsewhere and the message says where.  This file parses options and runs the repeats;
 * stat_*.c summarise and write (stat_int.h).
 */
#include "cli/cli.h"
#include "cli/cli_carbon.h"
#include "cli/stat_int.h"

#include "util/fsutil.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_line[] =
    "joulebench stat [-r N] [-x SEP] [-i MS] [-E MS] [-m METERS] [--idle S] [--timeout S] "
    "[--json FILE|-] [-o RUNDIR|-] [-q] [--carbon-intensity G|--region CODE] [--price P[CUR]]"
    " [--currency CUR] [--pue X] -- CMD [ARGS...]";

static void print_help(void)
{
    printf("usage: %s\n\n"
           "Runs CMD (no shell) and reports per meter its energy (J, and where it came from),\n"
           "average and peak power, the user and system CPU time of CMD, and a table of the\n"
           "phases CMD marked through JOULEBENCH_FD (energy with its interval, flags, peak power\n"
           "and the reading it came from).  Exits with CMD's status (128+N if killed by signal\n"
           "N; 127 if CMD is not found, 126 if it cannot be executed).\n\n"
           "  -r, --repeat N            run CMD N times (1..1000) and report per meter and phase\n"
           "                            mean +- sd and the 95%% confidence interval (Student t);\n"
           "                            stops at SIGINT/SIGTERM, reporting the runs so far\n"
           "  -x, --field-separator SEP machine-readable rows instead of the table: a header,\n"
           "                            then value,unit,event,meter,phase,index,sd,ci95_lo,\n"
           "                            ci95_hi,n,source,flags (see joulebench-stat(1))\n"
           "  -i, --interval MS         power/temperature/... sampling interval (10..60000; 100)\n"
           "  -E, --energy-interval MS  energy-counter reading interval (10..60000; 100)\n"
           "  -m, --meters SPEC         auto (default), gpu, gpuN, cpu, sim, sim:const=W,\n"
           "                            sim:square=LOW:HIGH:PERIOD_MS:DUTY, sim:trace=FILE\n"
           "      --idle S              sample S seconds before CMD (before each run with -r):\n"
           "                            idle power, net energy\n"
           "      --timeout S           stop CMD after S seconds (SIGTERM, SIGKILL 10 s later)\n"
           "      --json FILE           write the results as JSON (with -r: every run and the\n"
           "                            summary); '-': to standard output, after CMD's own\n"
           "                            output; checked before CMD starts\n"
           "  -o, --output RUNDIR       write a run directory (samples, phases, metrics, logs);\n"
           "                            with -r: RUNDIR/1 .. RUNDIR/N.  '-': no run directory,\n"
           "                            the table (or rows) to standard output, not stderr\n"
           "  -q, --quiet               no table (or rows)\n"
           "  -h, --help                this help\n"
           "%s",
           usage_line, cli_carbon_help);
}

static void warn_cb(void *user, const char *msg)
{
    (void)user;
    cli_warn("%s", msg);
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

/* Keeps a JSON document that could not be written where asked: a file in $TMPDIR (or /tmp),
 * else standard error.  Says where it went. */
static void json_fallback(const char *why, const char *data, size_t len)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    int fd;

    snprintf(path, sizeof(path), "%s/joulebench-stat-XXXXXX.json", dir && *dir ? dir : "/tmp");
    fd = mkstemps(path, 5);
    if (fd >= 0) {
        const char *p = data;
        size_t left = len;
        while (left > 0) {
            ssize_t n = write(fd, p, left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            p += n;
            left -= (size_t)n;
        }
        if (close(fd) == 0 && left == 0) {
            cli_error("%s; the results were written to '%s' instead", why, path);
            return;
        }
        unlink(path);
    }
    cli_error("%s; the results follow on standard error", why);
    fwrite(data, 1, len, stderr);
}

struct stat_parse {
    struct stat_opts so;
    struct measure_opts mo;
    struct carbon_factors cf;
};

static int parse(int argc, char **argv, struct stat_parse *P)
{
    static const struct option longopts[] = {
        {"repeat", required_argument, NULL, 'r'},
        {"field-separator", required_argument, NULL, 'x'},
        {"interval", required_argument, NULL, 'i'},
        {"energy-interval", required_argument, NULL, 'E'},
        {"meters", required_argument, NULL, 'm'},
        {"idle", required_argument, NULL, 'I'},
        {"timeout", required_argument, NULL, 'T'},
        {"json", required_argument, NULL, 'j'},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        CLI_CARBON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    struct stat_opts *so = &P->so;
    struct measure_opts *o = &P->mo;
    int opt;
    long l;
    double d;

    memset(P, 0, sizeof(*P));
    carbon_init(&P->cf);
    so->carbon = &P->cf;
    o->carbon = &P->cf;
    o->meters = "auto";
    so->repeats = 1;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+r:x:i:E:m:o:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            if (cli_parse_long(optarg, 1, 1000, &l) < 0)
                return cli_usage_error(usage_line, "bad repeat count '%s': expected 1..1000",
                                       optarg);
            so->repeats = (int)l;
            so->repeat_mode = 1;
            break;
        case 'x':
            if (!*optarg || strpbrk(optarg, "\"\r\n"))
                return cli_usage_error(usage_line,
                                       "bad field separator '%s': expected a non-empty string "
                                       "without quotes or line breaks",
                                       optarg);
            so->sep = optarg;
            break;
        case 'i':
        case 'E':
            if (cli_parse_long(optarg, 10, 60000, &l) < 0)
                return cli_usage_error(usage_line,
                                       "bad %s '%s': expected milliseconds in 10..60000",
                                       opt == 'i' ? "interval" : "energy interval", optarg);
            if (opt == 'i')
                o->interval_ms = (unsigned)l;
            else
                o->energy_interval_ms = (unsigned)l;
            break;
        case 'm': o->meters = optarg; break;
        case 'I':
        case 'T':
            if (cli_parse_double(optarg, 0, 1e7, &d) < 0)
                return cli_usage_error(usage_line, "bad %s '%s': expected seconds >= 0",
                                       opt == 'I' ? "--idle" : "--timeout", optarg);
            if (opt == 'I')
                o->idle_s = d;
            else
                o->timeout_s = so->timeout_s = d;
            break;
        case 'j': so->json = optarg; break;
        case 'o': so->rundir = optarg; break;
        case 'q': so->quiet = 1; break;
        case 'h': print_help(); return JB_EXIT_OK;
        default:
            if (cli_carbon_is_option(opt)) {
                if (cli_carbon_option(opt, optarg, &P->cf, usage_line))
                    return JB_EXIT_USAGE;
                break;
            }
            return cli_usage_error(usage_line, "unknown or incomplete option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (cli_carbon_finish(&P->cf, usage_line))
        return JB_EXIT_USAGE;
    if (optind >= argc)
        return cli_usage_error(usage_line, "no command to measure after '--'");
    if (so->json && so->rundir && !strcmp(so->json, "-") && !strcmp(so->rundir, "-"))
        return cli_usage_error(usage_line,
                               "--json - and -o - both want standard output: choose one");
    so->argv = o->argv = argv + optind;
    return -1; /* go on */
}

/* The exit status over the runs: the first failure's, else 0; 128+signal when stopped. */
static int overall_status(const struct stat_run *runs, size_t n, int interrupted, int sig)
{
    int status = 0;

    for (size_t k = 0; k < n && !status; k++) {
        if (!runs[k].started && runs[k].r.spawn_errno)
            status = stat_spawn_status(runs[k].r.spawn_errno);
        else if (runs[k].started && runs[k].r.exit_status != 0)
            status = runs[k].r.exit_status;
    }
    if (interrupted && status == 0)
        status = 128 + (sig ? sig : SIGINT);
    return status;
}

/* Runs the repeats into runs[]; returns how many hold a measurement.  *failed: a measurement
 * (or its run directory) failed, reported.  *interrupted, *sig: stopped by a signal. */
static size_t run_repeats(struct stat_parse *P, struct stat_run *runs, int *failed,
                          int *interrupted, int *sig)
{
    const struct stat_opts *so = &P->so;
    char path[4096], err[1024];
    size_t n_done = 0;

    for (int k = 0; k < so->repeats; k++) {
        struct stat_run *run = &runs[k];
        int rc;

        if (stop_signal) {
            *interrupted = 1;
            *sig = stop_signal;
            break;
        }
        if (P->mo.rundir && so->repeat_mode) {
            snprintf(path, sizeof(path), "%s/%d", so->rundir, k + 1);
            P->mo.rundir = path;
        }
        err[0] = '\0';
        rc = measure_run(&P->mo, &run->r, warn_cb, err, sizeof(err));
        P->mo.quiet_meter_notes = 1; /* said once */
        if (rc < 0 && !run->r.phases) {
            cli_error("%s", err); /* nothing was measured */
            measure_result_free(&run->r);
            *failed = 1;
            break;
        }
        n_done++;
        run->started = run->r.exit_status >= 0;
        if (rc < 0) {
            cli_error("%s (the measurement is reported here; the run directory '%s' is "
                      "incomplete)",
                      err, P->mo.rundir);
            *failed = 1;
            break;
        }
        if (!run->started && run->r.spawn_errno) {
            cli_error("cannot run '%s': %s", so->argv[0], strerror(run->r.spawn_errno));
            break;
        }
        if (run->r.got_signal || run->r.late_signal || run->r.status == MEASURE_INTERRUPTED) {
            *interrupted = 1;
            *sig = run->r.got_signal ? run->r.got_signal : run->r.late_signal;
            break;
        }
    }
    return n_done;
}

static void report(const struct stat_opts *so, const struct stat_run *runs, size_t n_done,
                   const struct stat_summary *s, int interrupted)
{
    FILE *f = so->rundir && !strcmp(so->rundir, "-") ? stdout : stderr;

    if (so->quiet || !n_done)
        return;
    if (so->sep)
        stat_rows(f, so->sep, s);
    else if (so->repeat_mode)
        stat_table_repeats(f, so, runs, n_done, s, interrupted);
    else
        stat_table_single(f, so, &runs[0]);
    if (!so->sep && !so->repeat_mode)
        cli_carbon_stat_print(f, so->carbon, &runs[0].r);
    fflush(f);
}

/* The runs that enter the summary: with -r those that ran to their end (not interrupted). */
static int summarise(const struct stat_opts *so, const struct stat_run *runs, size_t n_done,
                     struct stat_summary *s)
{
    struct stat_run *use = calloc(n_done ? n_done : 1, sizeof(*use));
    size_t n = 0;
    int rc;

    if (!use)
        return -1;
    for (size_t k = 0; k < n_done; k++)
        if (runs[k].started && (!so->repeat_mode || runs[k].r.status != MEASURE_INTERRUPTED))
            use[n++] = runs[k]; /* shallow: runs[] keeps ownership */
    rc = stat_summarise(use, n, so->carbon, s);
    free(use);
    return rc;
}

int cmd_stat(int argc, char **argv)
{
    struct stat_parse P;
    struct stat_run *runs = NULL;
    struct stat_summary sum;
    struct fs_out jout;
    struct sigaction sa, old_int, old_term;
    char err[1024];
    size_t n_done;
    int failed = 0, interrupted = 0, sig = 0, status, have_json = 0;

    status = parse(argc, argv, &P);
    if (status >= 0)
        return status;
    memset(&sum, 0, sizeof(sum));
    P.mo.rundir = P.so.rundir && strcmp(P.so.rundir, "-") ? P.so.rundir : NULL;
    P.mo.capture = P.mo.rundir != NULL;
    P.mo.echo = 1;
    P.mo.quiet_spawn_error = 1;

    /* Every output path before the command starts (issue 9 bug 3). */
    if (P.so.json) {
        if (fs_out_open(&jout, P.so.json, err, sizeof(err)) < 0)
            return cli_error("%s (the command was not run)", err);
        have_json = 1;
    }
    if (P.mo.rundir && P.so.repeat_mode && fs_mkdir_p(P.mo.rundir, err, sizeof(err)) < 0) {
        if (have_json)
            fs_out_abort(&jout);
        return cli_error("%s (the command was not run)", err);
    }
    runs = calloc((size_t)P.so.repeats, sizeof(*runs));
    if (!runs) {
        if (have_json)
            fs_out_abort(&jout);
        return cli_error("out of memory");
    }

    /* A signal between two runs stops the repeats as one during a run does. */
    stop_signal = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    n_done = run_repeats(&P, runs, &failed, &interrupted, &sig);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    if (n_done && summarise(&P.so, runs, n_done, &sum) < 0) {
        cli_error("out of memory");
        failed = 1;
    }
    status = overall_status(runs, n_done, interrupted, sig);
    report(&P.so, runs, n_done, &sum, interrupted);
    if (have_json && !n_done) {
        fs_out_abort(&jout);
    } else if (have_json) {
        struct strbuf sb = STRBUF_INIT;
        stat_json(&sb, &P.so, runs, n_done, &sum, interrupted, status);
        if (sb_failed(&sb)) {
            fs_out_abort(&jout);
            cli_error("out of memory");
            failed = 1;
        } else if (fs_out_commit(&jout, sb_str(&sb), sb.len, err, sizeof(err)) < 0) {
            json_fallback(err, sb_str(&sb), sb.len);
            failed = 1;
        }
        sb_free(&sb);
    }
    for (size_t k = 0; k < n_done; k++)
        measure_result_free(&runs[k].r);
    free(runs);
    stat_summary_free(&sum);
    return failed ? JB_EXIT_FAIL : status;
}
