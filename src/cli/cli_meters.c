/*
 * cli_meters.c - opening a meter set for a subcommand, with its notes printed as notes.  The
 * selection itself is the library's: -m auto and -m gpu open every GPU that CUDA_VISIBLE_DEVICES
 * shows and no other (src/lib/gpu_cvd.c; tests/cli/gpus_stat.sh).
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
