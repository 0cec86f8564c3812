/*
 * cmd_slurm.c - 'joulebench slurm GRID': writes an sbatch job-array script for a grid.  Task i of
 * the array runs 'joulebench run GRID --only i -o RESULTS', i.e. run i of the grid's numbered
 * list (the order is a pure function of the grid file, so every node agrees on what run i is).
 * Run directories, resume and the recorded Slurm ids are the runner's and measure_run's business;
 * this file only writes the script (it submits nothing).  See docs/runner.md.
 */
#include "cli/cli.h"

#include "run/grid.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLURM_USAGE                                                                                \
    "joulebench slurm GRID [--partition P] [--gres G] [--time T] [--cpus-per-task N] "             \
    "[--concurrency K] [--sbatch OPTION]... [--results DIR] [-o FILE]"

#define MAX_SBATCH_EXTRA 32

/* Appends s single-quoted for the shell. */
static void sb_shq(struct strbuf *sb, const char *s)
{
    sb_putc(sb, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            sb_puts(sb, "'\\''");
        else
            sb_putc(sb, *s);
    }
    sb_putc(sb, '\'');
}

/*
 * Appends s as one value of an #SBATCH line.  sbatch (22.05) reads those lines itself, not
 * through the shell: a value may be double-quoted (so spaces stay in it), a backslash escapes the
 * next character, and an unescaped '#' ends the line even inside quotes.  In a file name of
 * --output, '%' starts a replacement symbol: with pattern set, s is a file name whose '%' are
 * written '%%', and pattern (such as "/%A_%a.out") follows it unescaped.
 */
static void sb_sbatch_value(struct strbuf *sb, const char *s, const char *pattern)
{
    sb_putc(sb, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\' || *s == '#')
            sb_putc(sb, '\\');
        if (*s == '%' && pattern)
            sb_putc(sb, '%');
        sb_putc(sb, *s);
    }
    sb_puts(sb, pattern ? pattern : ""); /* the file-name pattern itself, as it is */
    sb_putc(sb, '"');
}

/* Appends s to a comment line: a control character (a newline would end the comment and start a
 * command) becomes '?'. */
static void sb_comment_text(struct strbuf *sb, const char *s)
{
    for (; *s; s++)
        sb_putc(sb, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* Values that go onto #SBATCH lines: one line each, nothing the shell or sbatch would split. */
static int sbatch_value_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static char *absolute(const char *path)
{
    char *r = realpath(path, NULL);
    struct strbuf sb = STRBUF_INIT;
    char *cwd;

    if (r)
        return r;
    /* Not there yet (a results folder to be made): absolute by prefixing the current folder. */
    if (path[0] == '/')
        return strdup(path);
    cwd = getcwd(NULL, 0);
    if (!cwd)
        return NULL;
    sb_printf(&sb, "%s/%s", cwd, path);
    free(cwd);
    if (sb_failed(&sb)) {
        sb_free(&sb);
        return NULL;
    }
    return sb.buf;
}

/* What the script is made of: the options as given, the paths made absolute. */
struct slurm_job {
    const char *partition, *gres, *time_s, *const *extra;
    size_t n_extra;
    long cpus, conc;
    const char *grid_abs, *results_abs, *logdir, *cwd, *self;
};

static void write_script(struct strbuf *sb, const struct slurm_job *j, const struct grid *g)
{
    sb_puts(sb, "#!/bin/bash\n");
    sb_printf(sb, "# joulebench %s: Slurm job array for grid '%s' (", JB_VERSION, g->name);
    sb_comment_text(sb, j->grid_abs);
    sb_printf(sb, ").\n# %zu tasks: task i runs run i of 'joulebench run ", g->n_runs);
    sb_comment_text(sb, j->grid_abs);
    sb_puts(sb, " --dry-run'.\n");
    sb_puts(sb, "# Submit with 'sbatch THIS_FILE'.  Submitting again is safe: complete runs are "
                "skipped.\n");
    sb_printf(sb, "#SBATCH --job-name=jb-%s\n", g->name); /* a grid name needs no quoting */
    sb_printf(sb, "#SBATCH --array=0-%zu", g->n_runs - 1);
    if (j->conc)
        sb_printf(sb, "%%%ld", j->conc);
    sb_putc(sb, '\n');
    /* Every path and value quoted for sbatch's own parser (a results folder with a space). */
    sb_puts(sb, "#SBATCH --output=");
    sb_sbatch_value(sb, j->logdir, "/%A_%a.out");
    sb_putc(sb, '\n');
    if (j->partition) {
        sb_puts(sb, "#SBATCH --partition=");
        sb_sbatch_value(sb, j->partition, NULL);
        sb_putc(sb, '\n');
    }
    if (j->gres) {
        sb_puts(sb, "#SBATCH --gres=");
        sb_sbatch_value(sb, j->gres, NULL);
        sb_putc(sb, '\n');
    }
    if (j->time_s) {
        sb_puts(sb, "#SBATCH --time=");
        sb_sbatch_value(sb, j->time_s, NULL);
        sb_putc(sb, '\n');
    }
    if (j->cpus)
        sb_printf(sb, "#SBATCH --cpus-per-task=%ld\n", j->cpus);
    for (size_t i = 0; i < j->n_extra; i++) {
        const char *eq = strchr(j->extra[i], '=');
        sb_puts(sb, "#SBATCH ");
        if (eq) {
            sb_append(sb, j->extra[i], (size_t)(eq - j->extra[i]) + 1);
            sb_sbatch_value(sb, eq + 1, NULL);
        } else {
            sb_puts(sb, j->extra[i]);
        }
        sb_putc(sb, '\n');
    }
    sb_puts(sb, "set -eu\ncd ");
    sb_shq(sb, j->cwd);
    sb_puts(sb, "\nexec ");
    sb_shq(sb, j->self);
    sb_puts(sb, " run ");
    sb_shq(sb, j->grid_abs);
    sb_puts(sb, " --only \"$SLURM_ARRAY_TASK_ID\" -o ");
    sb_shq(sb, j->results_abs);
    sb_puts(sb, " --quiet\n");
}

/* Option values: one line each, extra options starting with '-'.  0, or -1 after a usage
 * message. */
static int check_options(const char *const *vals, size_t n, const char *const *extra,
                         size_t n_extra)
{
    for (size_t i = 0; i < n; i++)
        if (vals[i] && !sbatch_value_ok(vals[i])) {
            cli_usage_error(SLURM_USAGE, "slurm: empty value or control character in an option");
            return -1;
        }
    for (size_t i = 0; i < n_extra; i++)
        if (!sbatch_value_ok(extra[i]) || extra[i][0] != '-') {
            cli_usage_error(SLURM_USAGE,
                            "slurm: --sbatch '%s': expected one sbatch option such as "
                            "--account=abc",
                            extra[i]);
            return -1;
        }
    return 0;
}

/* The script to FILE (atomically, made executable) or to stdout.  0, or -1 after a message. */
static int emit(const char *out, const struct strbuf *sb, size_t n_runs)
{
    char err[1024];

    if (!out) {
        if (fwrite(sb->buf, 1, sb->len, stdout) != sb->len || fflush(stdout) != 0) {
            cli_error("cannot write the script to stdout: %s", strerror(errno));
            return -1;
        }
        return 0;
    }
    if (fs_write_atomic(out, sb->buf, sb->len, err, sizeof(err)) < 0) {
        cli_error("%s", err);
        return -1;
    }
    if (chmod(out, 0755) < 0) {
        cli_error("cannot make '%s' executable: %s", out, strerror(errno));
        return -1;
    }
    fprintf(stderr, "joulebench: wrote %s: %zu array tasks; submit with: sbatch %s\n", out, n_runs,
            out);
    return 0;
}

static void print_help(void)
{
    printf("usage: %s\n\n"
           "Writes an sbatch job-array script (to stdout, or FILE) whose task i runs\n"
           "'joulebench run GRID --only i -o RESULTS'.  Submit it with 'sbatch FILE'; submitting\n"
           "again is safe: complete runs are skipped.\n\n"
           "  --partition P        #SBATCH --partition\n"
           "  --gres G             #SBATCH --gres (e.g. gpu:1)\n"
           "  --time T             #SBATCH --time (per task)\n"
           "  --cpus-per-task N    #SBATCH --cpus-per-task\n"
           "  --concurrency K      at most K tasks at once (--array=0-(N-1)%%K)\n"
           "  --sbatch OPTION      any other sbatch option, e.g. --sbatch=--account=abc\n"
           "  --results DIR        results folder of the runs (default: results)\n"
           "  -o FILE              write the script to FILE (made executable)\n",
           SLURM_USAGE);
}

int cmd_slurm(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"partition", required_argument, NULL, 'p'},
        {"gres", required_argument, NULL, 'g'},
        {"time", required_argument, NULL, 't'},
        {"cpus-per-task", required_argument, NULL, 'c'},
        {"concurrency", required_argument, NULL, 'k'},
        {"sbatch", required_argument, NULL, 's'},
        {"results", required_argument, NULL, 'r'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *partition = NULL, *gres = NULL, *time_s = NULL, *results = "results";
    const char *out = NULL, *extra[MAX_SBATCH_EXTRA];
    size_t n_extra = 0;
    long cpus = 0, conc = 0;
    char err[1024], self[PATH_MAX];
    char *grid_abs = NULL, *results_abs = NULL, *cwd = NULL, *logdir = NULL;
    struct grid *g = NULL;
    struct strbuf sb = STRBUF_INIT;
    ssize_t sl;
    int c, rc = JB_EXIT_FAIL;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': partition = optarg; break;
        case 'g': gres = optarg; break;
        case 't': time_s = optarg; break;
        case 'c':
            if (cli_parse_long(optarg, 1, 100000, &cpus) < 0)
                return cli_usage_error(SLURM_USAGE,
                                       "slurm: --cpus-per-task '%s': expected a "
                                       "whole number from 1",
                                       optarg);
            break;
        case 'k':
            if (cli_parse_long(optarg, 1, 1000000, &conc) < 0)
                return cli_usage_error(SLURM_USAGE,
                                       "slurm: --concurrency '%s': expected a "
                                       "whole number from 1",
                                       optarg);
            break;
        case 's':
            if (n_extra == MAX_SBATCH_EXTRA)
                return cli_usage_error(SLURM_USAGE, "slurm: more than %d --sbatch options",
                                       MAX_SBATCH_EXTRA);
            extra[n_extra++] = optarg;
            break;
        case 'r': results = optarg; break;
        case 'o': out = optarg; break;
        case 'h': print_help(); return JB_EXIT_OK;
        default:
            return cli_usage_error(SLURM_USAGE, "slurm: unknown option or missing value: '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(SLURM_USAGE, "slurm: give one grid file");
    {
        const char *vals[] = {partition, gres, time_s, results, out};
        if (check_options(vals, sizeof(vals) / sizeof(vals[0]), extra, n_extra) < 0)
            return JB_EXIT_USAGE;
    }
    g = grid_load(argv[optind], err, sizeof(err));
    if (!g)
        return cli_error("%s", err);
    sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (sl < 0) {
        rc = cli_error("cannot find the joulebench binary (/proc/self/exe): %s", strerror(errno));
        goto done;
    }
    self[sl] = '\0';
    grid_abs = absolute(argv[optind]);
    results_abs = absolute(results);
    cwd = getcwd(NULL, 0);
    if (!grid_abs || !results_abs || !cwd) {
        rc = cli_error("out of memory or unreadable current folder");
        goto done;
    }
    if (g->n_runs > 1001)
        cli_note("%zu array tasks: more than Slurm's default MaxArraySize (1001) allows; ask your "
                 "administrators, or split the grid",
                 g->n_runs);
    /* sbatch does not create the folder of --output: make it now. */
    sb_printf(&sb, "%s/%s/.slurm", results_abs, g->name);
    if (sb_failed(&sb)) {
        rc = cli_error("out of memory");
        goto done;
    }
    logdir = sb.buf;
    sb = (struct strbuf)STRBUF_INIT;
    /* In --output, sbatch takes any backslash as "no replacement symbols": %A_%a would stay. */
    if (strchr(logdir, '\\') || strpbrk(logdir, "\n\r")) {
        rc = cli_error("results folder '%s': a backslash or line break cannot be in sbatch's "
                       "--output (choose another --results)",
                       results_abs);
        goto done;
    }
    if (fs_mkdir_p(logdir, err, sizeof(err)) < 0) {
        rc = cli_error("%s", err);
        goto done;
    }

    {
        struct slurm_job sj = {partition, gres,     time_s,      extra,  n_extra, cpus,
                               conc,      grid_abs, results_abs, logdir, cwd,     self};
        write_script(&sb, &sj, g);
    }
    if (sb_failed(&sb)) {
        rc = cli_error("out of memory");
        goto done;
    }
    if (emit(out, &sb, g->n_runs) < 0)
        goto done;
    rc = JB_EXIT_OK;
done:
    sb_free(&sb);
    free(logdir);
    free(cwd);
    free(grid_abs);
    free(results_abs);
    grid_free(g);
    return rc;
}
