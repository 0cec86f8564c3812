/*
 * grid.h - study grid files (YAML): parsing, validation, expansion into a numbered run list, and
 * substitution of {placeholders} in a run's command, environment and working directory.
 *
 * A grid names levels (factors) and their values; the runs are every combination of values
 * (minus `exclude` rules, plus explicit `include` combinations) times `repeats`, in an order that
 * is a pure function of the file (sequential, or a seeded shuffle), so that a run's index names the
 * same run on every machine ('run --only I', Slurm array tasks).  This module does not run
 * anything and does not touch run directories: that is runner.h with measure.h.  The format is
 * documented in docs/grid-format.md.  Every error names the file, line and key:
 * "FILE:LINE: KEY: what is wrong (how to fix it)".
 */
#ifndef JB_SRC_RUN_GRID_H
#define JB_SRC_RUN_GRID_H

#include "util/carbon.h"

#include <stddef.h>
#include <stdint.h>

struct grid_level {
    char *name;
    size_t n_values;
    char **values; /* scalars kept as the strings written in the file */
};

/* A partial (exclude) or complete (include) assignment of values to levels. */
struct grid_rule {
    size_t n;
    size_t *level; /* indexes into grid.levels */
    char **value;
    int line;
};

struct grid_env {
    char *name;
    char *value_tmpl;
    int line;
};

enum grid_order { GRID_ORDER_RANDOM, GRID_ORDER_SEQUENTIAL };

struct grid_cooldown {
    double seconds;                  /* fixed wait; 0: none */
    double until_temp_c;             /* NaN: no temperature condition */
    double until_power_above_idle_w; /* NaN: no power condition */
    double max_wait_s;               /* bound on the conditional wait */
};

/* One run of the expanded list. */
struct grid_run {
    size_t index;        /* position in the list (0-based), == its index in grid.runs */
    size_t config;       /* configuration number (product order, then includes) */
    int repeat;          /* 1-based */
    const char **values; /* one per level, pointing into grid.config_values */
    char *run_id;        /* file-name safe, unique within the grid */
};

struct grid {
    char *path;    /* as given */
    char *dir_abs; /* absolute directory of the file ({grid_dir}) */
    char *name;
    size_t n_levels;
    struct grid_level *levels;
    int repeats;
    enum grid_order order;
    uint64_t seed;
    size_t n_exclude;
    struct grid_rule *exclude;
    size_t n_include;
    struct grid_rule *include;
    size_t argc;
    char **argv_tmpl;
    size_t n_env;
    struct grid_env *env;
    char *workdir_tmpl; /* absolute once expanded (relative ones are made relative to dir_abs) */
    double timeout_s;   /* 0: none */
    int retries;
    double idle_baseline_s;
    struct grid_cooldown cooldown;
    char *meters;                /* meter specification; "auto" when not given */
    char *meters_fallback;       /* used when `meters` finds no meter; NULL: none (then it fails) */
    unsigned interval_ms;        /* 0: default */
    unsigned energy_interval_ms; /* 0: default */
    struct carbon_factors carbon; /* carbon_intensity, price, currency, pue, region; into each
                                     run's manifest (NaN fields: not given) */
    /* Slurm (joulebench slurm only; docs/slurm.md): shell lines the job script runs before each
     * task, and how many nodes and tasks per node one run spans (1, 1 when not given). */
    size_t n_setup;
    char **setup;
    long nodes, tasks_per_node;
    size_t n_configs;
    size_t n_runs;
    struct grid_run *runs;
    const char **config_values; /* n_configs x n_levels values, pointing into the grid's strings */
};

/* Parses and expands a grid file.  Returns the grid, or NULL with a message in err. */
struct grid *grid_load(const char *path, char *err, size_t errlen);
/* The same from text in memory; `path` only names it in messages and gives {grid_dir}. */
struct grid *grid_load_string(const char *text, size_t len, const char *path, char *err,
                              size_t errlen);
void grid_free(struct grid *g);

/* The parts of one run under Slurm: nodes x tasks_per_node (1 for an ordinary run). */
long grid_n_parts(const struct grid *g);

/* Index of a level by name, or -1. */
long grid_level_index(const struct grid *g, const char *name);

/*
 * Expands one template for run r: {LEVEL} gives the level's value, {repeat} the repeat number,
 * {run_id}, {grid} the grid's name, {grid_dir} the grid file's absolute directory; "{{" and "}}"
 * are literal braces.  Returns a malloc'ed string, or NULL when out of memory (templates are
 * checked when the grid is loaded, so no other failure is possible).
 */
char *grid_expand(const struct grid *g, const struct grid_run *r, const char *tmpl);

/* Builds the NULL-terminated argv / "NAME=VALUE" environment of run r (malloc'ed; free with
 * grid_strv_free).  NULL when out of memory. */
char **grid_run_argv(const struct grid *g, const struct grid_run *r);
char **grid_run_env(const struct grid *g, const struct grid_run *r);
void grid_strv_free(char **v);

/* Makes s safe as a file name in place: every byte outside [A-Za-z0-9._+=-] becomes '_', and a
 * leading '.' becomes '_'. */
void grid_safe_name(char *s);

/* splitmix64: the grid's PRNG (exposed for the tests).  Pure integer arithmetic, so a seed gives
 * the same sequence on every machine. */
uint64_t grid_splitmix64(uint64_t *state);

#endif
