/*
 * cmd_stat.c - 'joulebench stat' (placeholder).
 */
#include "cli/cli.h"

int cmd_stat(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("'stat' is not built yet in this version of joulebench");
}
