/*
 * cmd_index.c - 'joulebench index RESULTS': rebuilds RESULTS/results.db (SQLite) from the run
 * directories; see src/analysis/store.c and docs/store.md.  Options and messages only.
 */
#include "cli/cli.h"

#include "analysis/store.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char usage_str[] = "joulebench index RESULTS [-o FILE.db] [--strict]";

static const char help_str[] =
    "\nRebuilds the SQLite store of a results folder (tables runs, meters, samples, phases,\n"
    "metrics; docs/store.md) from every finished run directory under RESULTS, from scratch:\n"
    "the same folder always gives the same store.  Run directories without a complete\n"
    "manifest are skipped with a note.  The store is written beside and renamed into place.\n\n"
    "  -o, --output FILE.db  write the store to FILE.db (default RESULTS/results.db)\n"
    "      --strict          a malformed row is an error (exit 1) and the old store is kept;\n"
    "                        without it such rows are skipped with a warning and a count\n"
    "  -h, --help            this text\n";

/* SIGINT/SIGTERM while the store is built: the temporary store goes, then the signal's default
 * action (exit 130/143), so nothing is left beside the old results.db. */
static void on_signal(int sig)
{
    store_signal_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void on_warn(void *ctx, const char *msg)
{
    (void)ctx;
    cli_warn("%s", msg);
}

int cmd_index(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"strict", no_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out = NULL;
    char outbuf[4096], err[2048];
    int strict = 0, c;
    struct store_stats st;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 's': strict = 1; break;
        case 'h':
            printf("usage: %s\n", usage_str);
            fputs(help_str, stdout);
            return JB_EXIT_OK;
        default: return cli_usage_error(usage_str, "index: unknown option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(usage_str, "index: give one RESULTS folder");
    if (!out) {
        snprintf(outbuf, sizeof(outbuf), "%s/results.db", argv[optind]);
        out = outbuf;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (store_build(argv[optind], out, strict, &st, on_warn, NULL, err, sizeof(err)))
        return cli_error("cannot index '%s': %s", argv[optind], err);
    if (st.bad_rows)
        cli_warn("%zu malformed row(s) skipped", st.bad_rows);
    printf("indexed %zu run(s) (%zu samples, %zu phases, %zu metrics) into %s", st.runs, st.samples,
           st.phases, st.metrics, out);
    if (st.skipped)
        printf("; %zu unfinished run directories skipped", st.skipped);
    printf("\n");
    return JB_EXIT_OK;
}
