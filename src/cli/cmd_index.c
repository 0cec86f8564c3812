/*
 * cmd_index.c - 'joulebench index' (placeholder until its issue lands: it says so and fails).
 */
#include "cli/cli.h"

int cmd_index(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("'index' is not built yet in this version of joulebench");
}
