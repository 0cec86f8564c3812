/*
 * main.c - the joulebench tool's entry point: dispatches to one cmd_<name>() per subcommand, and
 * answers 'help [CMD]' ('help CMD' is 'CMD --help'), -h/--help and -V/--version.  Nothing else
 * lives here; each subcommand parses its own options.
 */
#include "cli/cli.h"

#include "joulebench.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"devices", cmd_devices, "list meters and their capabilities"},
    {"sample", cmd_sample,
     "sample power, temperature, utilisation and clocks to CSV or JSON lines"},
    {"stat", cmd_stat, "run a command and report the energy it used, per meter and phase"},
    {"run", cmd_run, "run a study grid: every level combination and repeat, resumable"},
    {"index", cmd_index, "rebuild the SQLite store of a results folder"},
    {"data", cmd_data, "import or synthesise a data set in the canonical .npy layout"},
    {"import", cmd_import, "import nvidia-smi logs as run directories"},
    {"report", cmd_report, "tables, figures and an HTML report of a results folder"},
    {"slurm", cmd_slurm, "write an sbatch job-array script for a grid"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: joulebench <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n  -h, --help     this text\n  -V, --version  print joulebench's version\n"
               "\n'joulebench help <command>' or 'joulebench <command> --help' for a command's "
               "options;\nman joulebench-<command>.\n");
}

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(name, commands[i].name))
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const struct command *c;

    if (argc < 2) {
        usage(stderr);
        return JB_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        (!strcmp(argv[1], "help") && argc == 2)) {
        usage(stdout);
        return JB_EXIT_OK;
    }
    if (!strcmp(argv[1], "help")) {
        /* 'help CMD' is 'CMD --help': the command's own text, one source for both */
        char help_opt[] = "--help";
        char *hargv[] = {argv[2], help_opt, NULL};
        if (argc > 3) {
            fprintf(stderr, "joulebench: error: 'help' takes one command name\n");
            usage(stderr);
            return JB_EXIT_USAGE;
        }
        c = find(argv[2]);
        if (!c) {
            fprintf(stderr, "joulebench: error: unknown command '%s'\n", argv[2]);
            usage(stderr);
            return JB_EXIT_USAGE;
        }
        return c->fn(2, hargv);
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("joulebench %s\n", jb_version());
        return JB_EXIT_OK;
    }
    c = find(argv[1]);
    if (c)
        return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "joulebench: error: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return JB_EXIT_USAGE;
}
