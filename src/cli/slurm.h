/*
 * slurm.h - the parts of 'joulebench slurm' (internal to src/cli): the option set and the job
 * script writer (cmd_slurm_script.c), and the two steps the script itself calls back into
 * joulebench for (cmd_slurm_task.c): the cooldown before an array task's run, and one part of a
 * run that spans several nodes.  cmd_slurm.c parses the command line and dispatches.
 * docs/slurm.md describes the script and the parts.
 */
#ifndef JB_SRC_CLI_SLURM_H
#define JB_SRC_CLI_SLURM_H

#include "run/grid.h"
#include "util/strbuf.h"

#include <stddef.h>

/* What the script is made of: the options as given, the paths made absolute. */
struct slurm_job {
    const char *partition, *gres, *time_s, *mem, *const *extra;
    size_t n_extra;
    long cpus, conc;
    int exclusive;  /* 1: #SBATCH --exclusive */
    int cpu_meters; /* the grid's meters read CPU/DRAM domains (for the script's comment) */
    const char *grid_abs, *results_abs, *logdir, *cwd, *self;
};

/* Appends the whole job script for grid g. */
void slurm_write_script(struct strbuf *sb, const struct slurm_job *j, const struct grid *g);

/* Values that go onto #SBATCH lines: one line each, nothing the shell or sbatch would split. */
int slurm_value_ok(const char *s);

/* 1 when a meter specification reads CPU package or DRAM domains (auto, cpu*, dram*). */
int slurm_spec_uses_cpu(const char *spec);

/* The script's callbacks.  Each returns an exit status (JB_EXIT_*, 128+N after a signal). */
int slurm_task_cooldown(const char *grid_path, const char *index, const char *results);
int slurm_task_part(const char *grid_path, const char *index, const char *results);

#endif
