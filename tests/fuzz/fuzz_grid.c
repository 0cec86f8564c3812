/*
 * fuzz_grid.c - libFuzzer target: grid files (YAML) must parse or fail with a message, never
 * crash, leak or read out of bounds, and stay within the limits of src/run/grid_int.h (a hang
 * over 1 s is a finding: -timeout=1); a grid that loads expands its runs' argv, environment and
 * working folder, which is absolute.  scripts/fuzz.sh links src/run/grid*.c (not measure.c,
 * which would drag in the whole runner).
 */
#include "run/grid.h"

#include <stdlib.h>

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024];
    struct grid *g = grid_load_string((const char *)data, size, "fuzz.yaml", err, sizeof(err));

    if (!g) {
        if (!err[0])
            __builtin_trap(); /* every failure says why */
        return 0;
    }
    for (size_t i = 0; i < g->n_runs && i < 64; i++) {
        grid_strv_free(grid_run_argv(g, &g->runs[i]));
        grid_strv_free(grid_run_env(g, &g->runs[i]));
        char *wd = grid_expand(g, &g->runs[i], g->workdir_tmpl);
        if (wd && wd[0] != '/')
            __builtin_trap(); /* relative paths are made absolute against the grid's folder */
        free(wd);
    }
    grid_free(g);
    return 0;
}
