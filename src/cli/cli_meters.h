/*
 * cli_meters.h - opening a meter set for a subcommand (devices, sample), notes printed as notes.
 */
#ifndef JB_SRC_CLI_CLI_METERS_H
#define JB_SRC_CLI_CLI_METERS_H

#include "joulebench.h"

/* Opens the meters of spec, printing notes; on failure prints the error and returns NULL. */
struct jb_meter_set *cli_open_meters(const char *spec);

#endif
