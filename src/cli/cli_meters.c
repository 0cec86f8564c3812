/*
 * cli_meters.c - opening a meter set for a subcommand, with its notes printed as such,.
 */
#include "cli/cli_meters.h"

#include "cli/cli.h"

#include <stddef.h>

struct jb_meter_set *cli_open_meters(const char *spec)
{
    struct jb_meter_set *set = jb_meter_set_new();

    if (!set) {
        cli_error("out of memory");
        return NULL;
    }
    if (jb_meter_set_add(set, spec) < 0) {
        cli_error("%s", jb_meter_set_errmsg(set));
        jb_meter_set_free(set);
        return NULL;
    }
    for (size_t i = 0; i < jb_meter_set_note_count(set); i++)
        cli_note("%s", jb_meter_set_note(set, i));
    return set;
}
