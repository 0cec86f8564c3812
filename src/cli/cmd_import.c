/*
 * cmd_import.c - 'joulebench import' (placeholder until its issue lands: it says so and fails).
 */
#include "cli/cli.h"

int cmd_import(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("'import' is not built yet in this version of joulebench");
}
