/*
 * fuzz_grid.c - libFuzzer target: grid files (YAML) must parse or fail with a message, never
 * crash, leak or read out of bounds; a grid that loads expands every run's argv and environment.
 * grid.c is compiled into this file (scripts/fuzz.sh links src/lib, src/util and src/analysis
 * only, and src/run's measure.c would drag in the whole runner).
 */
#include "run/grid.c"

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
        if (g->workdir_tmpl)
            free(grid_expand(g, &g->runs[i], g->workdir_tmpl));
    }
    grid_free(g);
    return 0;
}
