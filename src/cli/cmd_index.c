/*
 * cmd_index.c - 'joulebench index RESULTS': rebuilds RESULTS/results.db (SQLite) from the run
 * directories; see src/analysis/store.c and docs/store.md.  Options and messages only.
 */
#include "cli/cli.h"

#include "analysis/store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage_str[] = "joulebench index RESULTS [-o FILE.db] [--strict]";

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
        case 'h': printf("usage: %s\n", usage_str); return JB_EXIT_OK;
        default: return cli_usage_error(usage_str, "index: unknown option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(usage_str, "index: give one RESULTS folder");
    if (!out) {
        snprintf(outbuf, sizeof(outbuf), "%s/results.db", argv[optind]);
        out = outbuf;
    }
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
