/*
 * cmd_run.c - 'joulebench run' (placeholder until its issue lands: it says so and fails).
 */
#include "cli/cli.h"

int cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("'run' is not built yet in this version of joulebench");
}
