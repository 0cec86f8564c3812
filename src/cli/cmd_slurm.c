/*
 * cmd_slurm.c - 'joulebench slurm' (placeholder until its issue lands: it says so and fails).
 */
#include "cli/cli.h"

int cmd_slurm(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("'slurm' is not built yet in this version of joulebench");
}
