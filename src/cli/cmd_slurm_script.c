/*
 * cmd_slurm_script.c - the text of the sbatch job-array script that 'joulebench slurm' writes:
 * #SBATCH lines (quoted for sbatch's own parser), the grid's setup lines, the cooldown step and
 * the run (one 'joulebench run --only I' per array task, or, for a run that spans several nodes,
 * one srun step whose every task measures its part).  Pure text: it checks, opens and submits
 * nothing (cmd_slurm.c does the checks).  docs/slurm.md shows the script.
 */
#include "cli/slurm.h"

#include "list.h"
#include "run/cooldown.h"

#include <string.h>

/* Appends s single-quoted for the shell. */
static void sb_shq(struct strbuf *sb, const char *s)
{
    sb_putc(sb, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            sb_puts(sb, "'\\''");
        else
            sb_putc(sb, *s);
    }
    sb_putc(sb, '\'');
}

/*
 * Appends s as one value of an #SBATCH line.  sbatch (22.05) reads those lines itself, not
 * through the shell: a value may be double-quoted (so spaces stay in it), a backslash escapes the
 * next character, and an unescaped '#' ends the line even inside quotes.  In a file name of
 * --output, '%' starts a replacement symbol: with pattern set, s is a file name whose '%' are
 * written '%%', and pattern (such as "/%A_%a.out") follows it unescaped.
 */
static void sb_sbatch_value(struct strbuf *sb, const char *s, const char *pattern)
{
    sb_putc(sb, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\' || *s == '#')
            sb_putc(sb, '\\');
        if (*s == '%' && pattern)
            sb_putc(sb, '%');
        sb_putc(sb, *s);
    }
    sb_puts(sb, pattern ? pattern : ""); /* the file-name pattern itself, as it is */
    sb_putc(sb, '"');
}

/* Appends s to a comment line: a control character (a newline would end the comment and start a
 * command) becomes '?'. */
static void sb_comment_text(struct strbuf *sb, const char *s)
{
    for (; *s; s++)
        sb_putc(sb, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

int slurm_value_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

int slurm_spec_uses_cpu(const char *spec)
{
    const char *p = spec;

    while (p && *p) {
        char tok[16]; /* the prefixes below are all that is looked at */
        size_t len = jb__list_next(&p, tok, sizeof(tok), 0);
        if ((len == 4 && !strcmp(tok, "auto")) || (len >= 3 && !strncmp(tok, "cpu", 3)) ||
            (len >= 4 && !strncmp(tok, "dram", 4)))
            return 1;
        /* sim:trace=FILE takes the rest of the specification: nothing after it is a meter. */
        if (!strncmp(tok, "sim:trace=", 10))
            return 0;
    }
    return 0;
}

static void sbatch_line(struct strbuf *sb, const char *opt, const char *val)
{
    if (!val)
        return;
    sb_printf(sb, "#SBATCH --%s=", opt);
    sb_sbatch_value(sb, val, NULL);
    sb_putc(sb, '\n');
}

static void write_header(struct strbuf *sb, const struct slurm_job *j, const struct grid *g)
{
    long parts = grid_n_parts(g);

    sb_puts(sb, "#!/bin/bash\n");
    sb_printf(sb, "# joulebench %s: Slurm job array for grid '%s' (", JB_VERSION, g->name);
    sb_comment_text(sb, j->grid_abs);
    sb_printf(sb, ").\n# %zu tasks: task i runs run i of 'joulebench run ", g->n_runs);
    sb_comment_text(sb, j->grid_abs);
    sb_puts(sb, " --dry-run'.\n");
    if (parts > 1)
        sb_printf(sb,
                  "# Each run spans %ld nodes x %ld tasks: one srun step, each of its %ld tasks "
                  "measures\n# part-<rank> of the run; 'joulebench report' merges the parts.\n",
                  g->nodes, g->tasks_per_node, parts);
    sb_puts(sb, "# Submit with 'sbatch THIS_FILE'.  Submitting again is safe: complete runs are "
                "skipped.\n");
    if (j->exclusive && j->cpu_meters)
        sb_puts(sb, "# --exclusive: the meters read CPU package/DRAM energy, which is the whole "
                    "node's;\n# on a shared node it would include other jobs' energy.\n");
    else if (j->cpu_meters)
        sb_puts(sb, "# --no-exclusive: the CPU package/DRAM energy recorded is the whole node's, "
                    "other jobs\n# on it included.\n");
    sb_printf(sb, "#SBATCH --job-name=jb-%s\n", g->name); /* a grid name needs no quoting */
    sb_printf(sb, "#SBATCH --array=0-%zu", g->n_runs - 1);
    if (j->conc)
        sb_printf(sb, "%%%ld", j->conc);
    sb_putc(sb, '\n');
    /* Every path and value quoted for sbatch's own parser (a results folder with a space). */
    sb_puts(sb, "#SBATCH --output=");
    sb_sbatch_value(sb, j->logdir, "/%A_%a.out");
    sb_putc(sb, '\n');
    sbatch_line(sb, "partition", j->partition);
    sbatch_line(sb, "gres", j->gres);
    sbatch_line(sb, "time", j->time_s);
    sbatch_line(sb, "mem", j->mem);
    if (j->cpus)
        sb_printf(sb, "#SBATCH --cpus-per-task=%ld\n", j->cpus);
    if (j->exclusive)
        sb_puts(sb, "#SBATCH --exclusive\n");
    if (parts > 1)
        sb_printf(sb, "#SBATCH --nodes=%ld\n#SBATCH --ntasks-per-node=%ld\n", g->nodes,
                  g->tasks_per_node);
    for (size_t i = 0; i < j->n_extra; i++) {
        const char *eq = strchr(j->extra[i], '=');
        sb_puts(sb, "#SBATCH ");
        if (eq) {
            sb_append(sb, j->extra[i], (size_t)(eq - j->extra[i]) + 1);
            sb_sbatch_value(sb, eq + 1, NULL);
        } else {
            sb_puts(sb, j->extra[i]);
        }
        sb_putc(sb, '\n');
    }
}

/* The tail shared by the callbacks: GRID --results RESULTS. */
static void task_args(struct strbuf *sb, const struct slurm_job *j)
{
    sb_putc(sb, ' ');
    sb_shq(sb, j->grid_abs);
    sb_puts(sb, " --results ");
    sb_shq(sb, j->results_abs);
    sb_putc(sb, '\n');
}

void slurm_write_script(struct strbuf *sb, const struct slurm_job *j, const struct grid *g)
{
    write_header(sb, j, g);
    sb_puts(sb, "set -eu\ncd ");
    sb_shq(sb, j->cwd);
    sb_putc(sb, '\n');
    if (g->n_setup) {
        /* Shell lines by design (module load, source venv/bin/activate), one per line as the
         * grid file gives them (grid_slurm.c checked them).  Not under 'set -u': environment
         * scripts often read unset variables.  A failing line fails the task (set -e). */
        sb_printf(sb, "# setup: from the grid file, in order\nset +u\n");
        for (size_t i = 0; i < g->n_setup; i++) {
            sb_puts(sb, g->setup[i]);
            sb_putc(sb, '\n');
        }
        sb_puts(sb, "set -u\n");
    }
    if (grid_n_parts(g) > 1) {
        /* One step of every task of the allocation; each task cools its node down and measures
         * its part (cmd_slurm_task.c). */
        sb_printf(sb, "exec srun --nodes=%ld --ntasks=%ld --ntasks-per-node=%ld", g->nodes,
                  grid_n_parts(g), g->tasks_per_node);
        if (j->cpus)
            sb_printf(sb, " --cpus-per-task=%ld", j->cpus);
        sb_puts(sb, " --kill-on-bad-exit=1 ");
        sb_shq(sb, j->self);
        sb_puts(sb, " slurm --task-part \"$SLURM_ARRAY_TASK_ID\"");
        task_args(sb, j);
        return;
    }
    if (cooldown_wanted(&g->cooldown)) {
        /* The task does not know what its node ran just before: cool down first, as 'run' does
         * between runs (skipped when the run is complete already). */
        sb_shq(sb, j->self);
        sb_puts(sb, " slurm --task-cooldown \"$SLURM_ARRAY_TASK_ID\"");
        task_args(sb, j);
    }
    sb_puts(sb, "exec ");
    sb_shq(sb, j->self);
    sb_puts(sb, " run ");
    sb_shq(sb, j->grid_abs);
    sb_puts(sb, " --only \"$SLURM_ARRAY_TASK_ID\" -o ");
    sb_shq(sb, j->results_abs);
    sb_puts(sb, " --quiet\n");
}
