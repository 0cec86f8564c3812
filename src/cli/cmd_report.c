/*
 * cmd_report.c - 'joulebench report' (placeholder until its issue lands: it says so and fails).
 */
#include "cli/cli.h"

int cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("'report' is not built yet in this version of joulebench");
}
