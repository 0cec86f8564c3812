/*
 * cmd_sample.c - 'joulebench sample' (placeholder).
 */
#include "cli/cli.h"

int cmd_sample(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("'sample' is not built yet in this version of joulebench");
}
