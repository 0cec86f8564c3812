/*
 * cmd_devices.c - 'joulebench devices' (placeholder).
 */
#include "cli/cli.h"

int cmd_devices(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("'devices' is not built yet in this version of joulebench");
}
