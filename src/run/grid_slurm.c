/*
 * grid_slurm.c - the grid keys that only 'joulebench slurm' uses: `setup` (shell lines the job
 * script runs before each task: `module load cuda`, `source venv/bin/activate`) and `nodes` /
 * `tasks_per_node` (a run that spans several nodes, measured as one part per Slurm task).
 * Setup lines are shell text by design (that is their purpose), so they are not quoted; they are
 * checked to be one line each of bounded length without NUL or control bytes, so that what the
 * script runs is exactly the lines of the file, one per line.  Not a script writer
 * (src/cli/cmd_slurm_script.c) and not a runner.  docs/grid-format.md and docs/slurm.md.
 */
#include "run/grid_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One setup line: a string, one line, printable (a tab is allowed), within the limit. */
static int check_setup_line(struct gp *p, const yaml_node_t *it, const char *key)
{
    const char *s;
    size_t len;

    if (it->type != YAML_SCALAR_NODE || is_null(it))
        return gp_fail(p, it, key, "expected a shell line (a string), got %s",
                       it->type == YAML_SCALAR_NODE ? "nothing" : node_what(it));
    s = scalar(it);
    len = scalar_len(it);
    if (len > GRID_MAX_SETUP_BYTES)
        return gp_fail(p, it, key, "%zu bytes; a setup line may have at most %u", len,
                       GRID_MAX_SETUP_BYTES);
    if (strlen(s) != len)
        return gp_fail(p, it, key, "a NUL byte in a setup line");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return gp_fail(p, it, key,
                           "control character 0x%02x at byte %zu (one shell line per item; write "
                           "several items instead of a line break)",
                           c, i + 1);
    }
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return gp_fail(p, it, key, "empty setup line");
}

static int parse_setup(struct gp *p, const yaml_node_t *n)
{
    struct grid *g = p->g;
    size_t len;

    if (n->type != YAML_SEQUENCE_NODE)
        return gp_fail(p, n, "setup",
                       "expected a list of shell lines (setup: [\"module load cuda\"]), got %s",
                       node_what(n));
    len = seq_len(n);
    if (len > GRID_MAX_SETUP_LINES)
        return gp_fail(p, n, "setup", "%zu lines; at most %u", len, GRID_MAX_SETUP_LINES);
    g->setup = calloc(len ? len : 1, sizeof(*g->setup));
    if (!g->setup)
        return gp_oom(p);
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *it = seq_item(p, n, i);
        char key[32];
        snprintf(key, sizeof(key), "setup[%zu]", i);
        if (check_setup_line(p, it, key) < 0)
            return -1;
        g->setup[i] = strdup(scalar(it));
        if (!g->setup[i])
            return gp_oom(p);
        g->n_setup++;
    }
    return 0;
}

int gp_parse_slurm(struct gp *p, const yaml_node_t *setup, const yaml_node_t *nodes,
                   const yaml_node_t *tasks_per_node)
{
    struct grid *g = p->g;

    if (setup && parse_setup(p, setup) < 0)
        return -1;
    if (nodes && get_long(p, nodes, "nodes", 1, GRID_MAX_NODES_PER_RUN, &g->nodes) < 0)
        return -1;
    if (tasks_per_node && get_long(p, tasks_per_node, "tasks_per_node", 1, GRID_MAX_TASKS_PER_NODE,
                                   &g->tasks_per_node) < 0)
        return -1;
    return 0;
}
