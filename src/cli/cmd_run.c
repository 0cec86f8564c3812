/*
 * cmd_run.c - 'joulebench run GRID': the command line of the study runner (src/run/runner.h).
 *
 * It parses the options, loads the grid, prints the numbered run list (--dry-run), prints the
 * runner's progress lines, notes, warnings and live line (on a terminal) on stderr, rebuilds the
 * SQLite store afterwards, and maps the result to the exit status: 0 when every selected run is
 * complete, 1 otherwise, 2 on a usage error, 128+N when stopped by signal N (SIGINT 130, SIGTERM
 * 143).  Which runs are left, attempts, retries, cooldown, locks and the --gpus scheduler are the
 * runner's (src/run/runner*.c); docs/runner.md and docs/grid-format.md describe the behaviour.
 */
#include "cli/cli.h"

#include "analysis/store.h"

#include "run/grid.h"
#include "run/runner.h"
#include "list.h"
#include "util/strbuf.h"

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUN_USAGE                                                                                  \
    "joulebench run GRID [-o RESULTS] [--dry-run] [--only LIST] [--gpus LIST] [-m METERS] "        \
    "[--echo] [--quiet] [--cooldown-last]"

/* How the runner's messages are shown. */
struct run_view {
    int quiet;
    int tty;
    int live_shown; /* a live line is on the terminal (no newline after it) */
};

static void live_clear(struct run_view *v)
{
    if (v->tty && v->live_shown) {
        fputs("\r\033[K", stderr);
        v->live_shown = 0;
    }
}

static void on_runner_msg(void *user, enum runner_msg kind, const char *text)
{
    struct run_view *v = user;

    if (kind == RUNNER_MSG_LIVE) {
        if (!text) {
            live_clear(v);
        } else if (v->tty && !v->quiet) {
            fprintf(stderr, "\r\033[K%s", text);
            fflush(stderr);
            v->live_shown = 1;
        }
        return;
    }
    if (kind == RUNNER_MSG_PROGRESS && v->quiet)
        return;
    live_clear(v);
    switch (kind) {
    case RUNNER_MSG_PROGRESS: fprintf(stderr, "%s\n", text); break;
    case RUNNER_MSG_NOTE: cli_note("%s", text); break;
    case RUNNER_MSG_WARNING: cli_warn("%s", text); break;
    case RUNNER_MSG_ERROR: cli_error("%s", text); break;
    case RUNNER_MSG_BANNER: fputs(text, stderr); break;
    case RUNNER_MSG_LIVE: break;
    }
}

static int shell_safe(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              strchr("@%_+=:,./-", *s)))
            return 0;
    return 1;
}

/* Appends argv as a shell would need it quoted (for display only: nothing runs a shell). */
static void sb_argv(struct strbuf *sb, char *const *argv)
{
    for (size_t i = 0; argv[i]; i++) {
        if (i)
            sb_putc(sb, ' ');
        if (shell_safe(argv[i])) {
            sb_puts(sb, argv[i]);
            continue;
        }
        sb_putc(sb, '\'');
        for (const char *p = argv[i]; *p; p++) {
            if (*p == '\'')
                sb_puts(sb, "'\\''");
            else
                sb_putc(sb, *p);
        }
        sb_putc(sb, '\'');
    }
}

/* "3", "0,2,5", "1-4,7": indexes below n, in the order given, each once. */
static int parse_index_list(const char *s, size_t n, size_t **out, size_t *n_out)
{
    size_t cap = 16, cnt = 0;
    size_t *v = malloc(cap * sizeof(*v));
    unsigned char *seen = calloc(n ? n : 1, 1);
    const char *p = s;

    if (!v || !seen)
        goto fail;
    while (p) { /* an empty item ("", "1,,2", a trailing comma) is refused */
        char tok[64], *dash;
        long a, b;
        size_t len = jb__list_next(&p, tok, sizeof(tok), 0);
        if (!len || len >= sizeof(tok))
            goto fail;
        dash = strchr(tok, '-');
        if (dash) {
            *dash = '\0';
            if (cli_parse_long(tok, 0, LONG_MAX, &a) < 0 ||
                cli_parse_long(dash + 1, 0, LONG_MAX, &b) < 0 || b < a)
                goto fail;
        } else if (cli_parse_long(tok, 0, LONG_MAX, &a) < 0) {
            goto fail;
        } else {
            b = a;
        }
        if ((size_t)b >= n)
            goto fail;
        for (long i = a; i <= b; i++) {
            if (seen[i])
                continue;
            seen[i] = 1;
            if (cnt == cap) {
                size_t *nv = realloc(v, (cap *= 2) * sizeof(*v));
                if (!nv)
                    goto fail;
                v = nv;
            }
            v[cnt++] = (size_t)i;
        }
    }
    if (!cnt)
        goto fail;
    free(seen);
    *out = v;
    *n_out = cnt;
    return 0;
fail:
    free(v);
    free(seen);
    return -1;
}

static int parse_gpus(const char *s, int *gpus, size_t *n)
{
    const char *p = s;
    *n = 0;
    while (p) { /* an empty item ("", "1,,2", a trailing comma) is refused */
        char tok[16];
        long v;
        size_t len = jb__list_next(&p, tok, sizeof(tok), 0);
        if (!len || len >= sizeof(tok) || *n >= RUNNER_MAX_GPUS)
            return -1;
        if (cli_parse_long(tok, 0, RUNNER_MAX_GPUS - 1, &v) < 0)
            return -1;
        for (size_t i = 0; i < *n; i++)
            if (gpus[i] == (int)v)
                return -1;
        gpus[(*n)++] = (int)v;
    }
    return *n ? 0 : -1;
}

static void print_help(void)
{
    printf("usage: %s\n\n"
           "Runs every run of a study grid (docs/grid-format.md), each measured into\n"
           "RESULTS/<grid>/<run-id>/.  Runs already complete are skipped, so running it again\n"
           "resumes an interrupted grid.\n\n"
           "  -o, --results DIR   results folder (default: results)\n"
           "  --dry-run           print the numbered run list (index, run id, state, command)\n"
           "  --only LIST         run only these indexes of the list (3, 0,2,5 or 1-4)\n"
           "  --gpus LIST         one run per GPU at a time on these GPUs (NVML indexes)\n"
           "  -m, --meters SPEC   meters to use instead of the grid's\n"
           "  --echo              relay the commands' output to the terminal\n"
           "  --quiet             no progress lines (errors and warnings only)\n"
           "  --cooldown-last     cool down after the last run too\n"
           "  -h, --help          this text\n\n"
           "Exit status: 0 when every selected run is complete, 1 otherwise, 2 usage error,\n"
           "130/143 when stopped by SIGINT/SIGTERM.\n",
           RUN_USAGE);
}

static void store_warn(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg; /* unfinished runs etc. were reported by the run itself */
}

/*
 * The SQLite store, rebuilt from every run directory of the results folder.  A failure here
 * loses nothing: the run directories are the record.  SIGINT/SIGTERM are ignored meanwhile, as
 * they were while the grid ran: the grid's result is known already.
 */
static void rebuild_store(const char *results)
{
    struct sigaction ign, old_int, old_term;
    struct store_stats st;
    char db[4096], err[1024];

    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGTERM, &ign, &old_term);
    snprintf(db, sizeof(db), "%s/results.db", results);
    memset(&st, 0, sizeof(st));
    if (store_build(results, db, 0, &st, store_warn, NULL, err, sizeof(err)) < 0)
        cli_warn("the store was not rebuilt: %s ('joulebench index %s' retries)", err, results);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
}

/* --dry-run: the numbered list of the selected runs with their state and command. */
static int dry_run(const struct grid *g, const char *results, const size_t *sel, size_t n_sel)
{
    struct strbuf sb = STRBUF_INIT;
    int width = 8;

    printf("# grid %s: %zu runs (%zu configurations x %d repeats), order %s%s, results %s/%s\n",
           g->name, g->n_runs, g->n_configs, g->repeats,
           g->order == GRID_ORDER_RANDOM ? "random" : "sequential",
           g->order == GRID_ORDER_RANDOM ? " (seeded)" : "", results, g->name);
    for (size_t i = 0; i < n_sel; i++)
        if ((int)strlen(g->runs[sel[i]].run_id) > width)
            width = (int)strlen(g->runs[sel[i]].run_id);
    for (size_t i = 0; i < n_sel; i++) {
        const struct grid_run *r = &g->runs[sel[i]];
        char **av = grid_run_argv(g, r);
        if (!av) {
            sb_free(&sb);
            return cli_error("out of memory");
        }
        sb_reset(&sb);
        sb_argv(&sb, av);
        printf("%4zu  %-*s  %-11s  %s\n", r->index, width, r->run_id,
               runner_state_name(runner_run_state(g, results, r)), sb_str(&sb));
        grid_strv_free(av);
    }
    sb_free(&sb);
    return JB_EXIT_OK;
}

/* The selected runs: --only's list, or all of them. */
static int select_runs(const struct grid *g, const char *only, size_t **sel, size_t *n_sel)
{
    if (only) {
        if (parse_index_list(only, g->n_runs, sel, n_sel) < 0)
            return cli_usage_error(RUN_USAGE,
                                   "run: --only '%s': expected indexes from 0 to %zu (this grid "
                                   "has %zu runs; see --dry-run)",
                                   only, g->n_runs - 1, g->n_runs);
        return JB_EXIT_OK;
    }
    *sel = calloc(g->n_runs ? g->n_runs : 1, sizeof(**sel));
    if (!*sel)
        return cli_error("out of memory");
    for (size_t i = 0; i < g->n_runs; i++)
        (*sel)[i] = i;
    *n_sel = g->n_runs;
    return JB_EXIT_OK;
}

struct run_args {
    const char *only, *gpus, *grid;
    int dry;
    int gpu_list[RUNNER_MAX_GPUS];
    struct runner_opts o;
    struct run_view view;
};

/* Returns -1 when parsed, else the exit status (help, usage error). */
static int parse_args(int argc, char **argv, struct run_args *a)
{
    static const struct option longopts[] = {
        {"results", required_argument, NULL, 'o'}, {"dry-run", no_argument, NULL, 'n'},
        {"only", required_argument, NULL, 'O'},    {"gpus", required_argument, NULL, 'G'},
        {"meters", required_argument, NULL, 'm'},  {"echo", no_argument, NULL, 'E'},
        {"quiet", no_argument, NULL, 'q'},         {"cooldown-last", no_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    int c;

    a->o.results = "results";
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:m:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': a->o.results = optarg; break;
        case 'n': a->dry = 1; break;
        case 'O': a->only = optarg; break;
        case 'G': a->gpus = optarg; break;
        case 'm': a->o.meters = optarg; break;
        case 'E': a->o.echo = 1; break;
        case 'q': a->view.quiet = 1; break;
        case 'C': a->o.cooldown_last = 1; break;
        case 'h': print_help(); return JB_EXIT_OK;
        default:
            return cli_usage_error(RUN_USAGE, "run: unknown option or missing value: '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(RUN_USAGE, "run: %s",
                               optind >= argc ? "give one grid file" : "give one grid file only");
    if (!*a->o.results)
        return cli_usage_error(RUN_USAGE, "run: -o: empty results folder");
    if (a->gpus && parse_gpus(a->gpus, a->gpu_list, &a->o.n_gpus) < 0)
        return cli_usage_error(
            RUN_USAGE, "run: --gpus '%s': expected distinct GPU indexes like 0,1,3", a->gpus);
    a->o.gpus = a->gpu_list;
    a->grid = argv[optind];
    return -1;
}

int cmd_run(int argc, char **argv)
{
    struct run_args a;
    struct runner_result res;
    struct grid *g;
    size_t *sel = NULL, n_sel = 0;
    char err[1024];
    int rc;

    memset(&a, 0, sizeof(a));
    if ((rc = parse_args(argc, argv, &a)) >= 0)
        return rc;
    g = grid_load(a.grid, err, sizeof(err));
    if (!g)
        return cli_error("%s", err);
    if ((rc = select_runs(g, a.only, &sel, &n_sel)) != JB_EXIT_OK)
        goto out;
    if (a.dry) {
        rc = dry_run(g, a.o.results, sel, n_sel);
        goto out;
    }
    a.view.tty = isatty(STDERR_FILENO);
    a.o.sel = sel;
    a.o.n_sel = n_sel;
    a.o.live = a.view.tty && !a.view.quiet;
    a.o.msg = on_runner_msg;
    a.o.user = &a.view;
    if (runner_run(g, &a.o, &res, err, sizeof(err)) < 0) {
        rc = cli_error("%s", err);
        goto out;
    }
    /* Not for --only (Slurm array tasks and --gpus children run concurrently into one folder:
     * 'joulebench index' afterwards) and not after a signal. */
    if (!a.only && !res.stop_signal)
        rebuild_store(a.o.results);
    if (res.stop_signal)
        rc = 128 + res.stop_signal;
    else
        rc = !res.error && res.n_complete + res.n_skipped == n_sel ? JB_EXIT_OK : JB_EXIT_FAIL;
out:
    free(sel);
    grid_free(g);
    return rc;
}
