/*
 * cmd_slurm.c - 'joulebench slurm GRID': writes an sbatch job-array script for a grid.  Task i of
 * the array runs 'joulebench run GRID --only i -o RESULTS', i.e. run i of the grid's numbered
 * list (the order is a pure function of the grid file, so every node agrees on what run i is),
 * after the grid's setup lines and its cooldown; a run that spans several nodes (grid key
 * `nodes`) is one srun step whose tasks each measure a part (cmd_slurm_task.c).  This file
 * parses and checks the options and dispatches; the text is cmd_slurm_script.c.  Run
 * directories, resume and the recorded Slurm ids are the runner's and measure_run's business;
 * it submits nothing.  See docs/slurm.md.
 */
#include "cli/cli.h"
#include "cli/slurm.h"

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
    "[--mem SIZE] [--exclusive|--no-exclusive] [--concurrency K] [--sbatch OPTION]... "            \
    "[--results DIR] [-o FILE]"

#define MAX_SBATCH_EXTRA 32

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

/* Option values: one line each, extra options starting with '-'.  0, or -1 after a usage
 * message. */
static int check_options(const char *const *vals, size_t n, const char *const *extra,
                         size_t n_extra)
{
    for (size_t i = 0; i < n; i++)
        if (vals[i] && !slurm_value_ok(vals[i])) {
            cli_usage_error(SLURM_USAGE, "slurm: empty value or control character in an option");
            return -1;
        }
    for (size_t i = 0; i < n_extra; i++)
        if (!slurm_value_ok(extra[i]) || extra[i][0] != '-') {
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
           "Writes an sbatch job-array script (to stdout, or FILE) whose task i runs run i of\n"
           "the grid: the grid's setup lines, its cooldown, then 'joulebench run GRID --only i\n"
           "-o RESULTS' (or, when the grid's runs span several nodes, one srun step whose tasks\n"
           "each measure a part of the run).  Submit it with 'sbatch FILE'; submitting again is\n"
           "safe: complete runs are skipped.  See docs/slurm.md.\n\n"
           "  --partition P        #SBATCH --partition\n"
           "  --gres G             #SBATCH --gres (e.g. gpu:1)\n"
           "  --time T             #SBATCH --time (per task)\n"
           "  --cpus-per-task N    #SBATCH --cpus-per-task\n"
           "  --mem SIZE           #SBATCH --mem: memory per node, a whole number with an\n"
           "                       optional unit K, M, G or T (32G); 0 means all of it\n"
           "  --exclusive          #SBATCH --exclusive: the default when the grid's meters read\n"
           "                       CPU package/DRAM energy (auto, cpu, dram): that energy is the\n"
           "                       whole node's, so on a shared node it is not the job's\n"
           "  --no-exclusive       no --exclusive even then (the CPU energy recorded includes\n"
           "                       whatever else runs on the node)\n"
           "  --concurrency K      at most K tasks at once (--array=0-(N-1)%%K)\n"
           "  --sbatch OPTION      any other sbatch option, e.g. --sbatch=--account=abc\n"
           "  --results DIR        results folder of the runs (default: results)\n"
           "  -o, --output FILE    write the script to FILE (made executable)\n"
           "  -h, --help           this text\n\n"
           "Grid keys used here (docs/grid-format.md): setup (shell lines run before each\n"
           "task), cooldown (taken before each task's run), nodes and tasks_per_node (a run\n"
           "measured as nodes x tasks_per_node parts, merged by 'joulebench report').\n\n"
           "Internal, called by the script itself:\n"
           "  --task-cooldown I    the grid's cooldown before run I (nothing if I is complete)\n"
           "  --task-part I        measure this Slurm task's part of run I\n",
           SLURM_USAGE);
}

/* "32G", "4096", "0": what sbatch --mem takes (a size and an optional unit). */
static int mem_ok(const char *s)
{
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > 15)
        return 0;
    if (!s[n])
        return 1;
    return strchr("KMGTkmgt", s[n]) && !s[n + 1];
}

struct slurm_opts {
    const char *partition, *gres, *time_s, *mem, *results, *out, *task_cd, *task_part;
    const char *extra[MAX_SBATCH_EXTRA];
    size_t n_extra;
    long cpus, conc;
    int exclusive; /* -1: by the meters */
};

/* 0, 1 after --help, or an exit status (> 1) after a usage message. */
static int parse_args(int argc, char **argv, struct slurm_opts *o)
{
    static const struct option longopts[] = {
        {"partition", required_argument, NULL, 'p'},
        {"gres", required_argument, NULL, 'g'},
        {"time", required_argument, NULL, 't'},
        {"cpus-per-task", required_argument, NULL, 'c'},
        {"mem", required_argument, NULL, 'M'},
        {"exclusive", no_argument, NULL, 'x'},
        {"no-exclusive", no_argument, NULL, 'X'},
        {"concurrency", required_argument, NULL, 'k'},
        {"sbatch", required_argument, NULL, 's'},
        {"results", required_argument, NULL, 'r'},
        {"output", required_argument, NULL, 'o'},
        {"task-cooldown", required_argument, NULL, 'C'},
        {"task-part", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': o->partition = optarg; break;
        case 'g': o->gres = optarg; break;
        case 't': o->time_s = optarg; break;
        case 'c':
            if (cli_parse_long(optarg, 1, 100000, &o->cpus) < 0)
                return cli_usage_error(SLURM_USAGE,
                                       "slurm: --cpus-per-task '%s': expected a "
                                       "whole number from 1",
                                       optarg);
            break;
        case 'M':
            if (!mem_ok(optarg))
                return cli_usage_error(SLURM_USAGE,
                                       "slurm: --mem '%s': expected a size such as 4096, 32G or "
                                       "0 (a whole number, then K, M, G or T)",
                                       optarg);
            o->mem = optarg;
            break;
        case 'x': o->exclusive = 1; break;
        case 'X': o->exclusive = 0; break;
        case 'k':
            if (cli_parse_long(optarg, 1, 1000000, &o->conc) < 0)
                return cli_usage_error(SLURM_USAGE,
                                       "slurm: --concurrency '%s': expected a "
                                       "whole number from 1",
                                       optarg);
            break;
        case 's':
            if (o->n_extra == MAX_SBATCH_EXTRA)
                return cli_usage_error(SLURM_USAGE, "slurm: more than %d --sbatch options",
                                       MAX_SBATCH_EXTRA);
            o->extra[o->n_extra++] = optarg;
            break;
        case 'r': o->results = optarg; break;
        case 'o': o->out = optarg; break;
        case 'C': o->task_cd = optarg; break;
        case 'P': o->task_part = optarg; break;
        case 'h': print_help(); return 1;
        default:
            return cli_usage_error(SLURM_USAGE, "slurm: unknown option or missing value: '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(SLURM_USAGE, "slurm: give one grid file");
    {
        const char *vals[] = {o->partition, o->gres, o->time_s, o->results, o->out};
        if (check_options(vals, sizeof(vals) / sizeof(vals[0]), o->extra, o->n_extra) < 0)
            return JB_EXIT_USAGE;
    }
    return 0;
}

/* The folder of sbatch's --output, made now (sbatch does not create it).  NULL after a message. */
static char *make_logdir(const char *results_abs, const struct grid *g)
{
    struct strbuf sb = STRBUF_INIT;
    char err[1024];

    sb_printf(&sb, "%s/%s/.slurm", results_abs, g->name);
    if (sb_failed(&sb)) {
        cli_error("out of memory");
        return NULL;
    }
    /* In --output, sbatch takes any backslash as "no replacement symbols": %A_%a would stay. */
    if (strchr(sb.buf, '\\') || strpbrk(sb.buf, "\n\r")) {
        cli_error("results folder '%s': a backslash or line break cannot be in sbatch's "
                  "--output (choose another --results)",
                  results_abs);
        sb_free(&sb);
        return NULL;
    }
    if (fs_mkdir_p(sb.buf, err, sizeof(err)) < 0) {
        cli_error("%s", err);
        sb_free(&sb);
        return NULL;
    }
    return sb.buf;
}

int cmd_slurm(int argc, char **argv)
{
    struct slurm_opts o = {.results = "results", .exclusive = -1};
    char err[1024], self[PATH_MAX];
    char *grid_abs = NULL, *results_abs = NULL, *cwd = NULL, *logdir = NULL;
    struct grid *g = NULL;
    struct strbuf sb = STRBUF_INIT;
    ssize_t sl;
    int rc = JB_EXIT_FAIL, cpu;

    rc = parse_args(argc, argv, &o);
    if (rc)
        return rc == 1 ? JB_EXIT_OK : rc;
    rc = JB_EXIT_FAIL;
    if (o.task_cd)
        return slurm_task_cooldown(argv[optind], o.task_cd, o.results);
    if (o.task_part)
        return slurm_task_part(argv[optind], o.task_part, o.results);
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
    results_abs = absolute(o.results);
    cwd = getcwd(NULL, 0);
    if (!grid_abs || !results_abs || !cwd) {
        rc = cli_error("out of memory or unreadable current folder");
        goto done;
    }
    if (g->n_runs > 1001)
        cli_note("%zu array tasks: more than Slurm's default MaxArraySize (1001) allows; ask your "
                 "administrators, or split the grid",
                 g->n_runs);
    cpu = slurm_spec_uses_cpu(g->meters);
    if (o.exclusive < 0)
        o.exclusive = cpu;
    else if (!o.exclusive && cpu)
        cli_note("--no-exclusive: the grid's meters '%s' read CPU package/DRAM energy, which is "
                 "the whole node's: other jobs on the node are counted too",
                 g->meters);
    logdir = make_logdir(results_abs, g);
    if (!logdir)
        goto done;
    {
        struct slurm_job sj = {o.partition, o.gres,      o.time_s, o.mem,       o.extra,
                               o.n_extra,   o.cpus,      o.conc,   o.exclusive, cpu,
                               grid_abs,    results_abs, logdir,   cwd,         self};
        slurm_write_script(&sb, &sj, g);
    }
    if (sb_failed(&sb)) {
        rc = cli_error("out of memory");
        goto done;
    }
    if (emit(o.out, &sb, g->n_runs) < 0)
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
