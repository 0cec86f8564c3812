/*
 * cmd_data.c - 'joulebench data' (placeholder until its issue lands: it says so and fails).
 */
#include "cli/cli.h"

int cmd_data(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("'data' is not built yet in this version of joulebench");
}
