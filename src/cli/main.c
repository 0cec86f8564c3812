/*
 * main.c - the joulebench tool's entry point: dispatches to one cmd_<name>() per subcommand.
 * Nothing else lives here; each subcommand parses its own options.
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
    fprintf(f,
            "\n'joulebench <command> --help' for a command's options; man joulebench-<command>.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return JB_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return JB_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("joulebench %s\n", jb_version());
        return JB_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "joulebench: error: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return JB_EXIT_USAGE;
}
