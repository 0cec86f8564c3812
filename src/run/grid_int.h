/*
 * grid_int.h - the grid module's internals, shared by its files and by no one else:
 *   grid.c         the public entry points (load, free, templates, names);
 *   grid_yaml.c    the input: size and byte checks, a libyaml event pass that bounds nesting and
 *                  node counts, the document load, node helpers and messages;
 *   grid_keys.c    the keys of the file into struct grid, each validated (types, ranges, names,
 *                  placeholders, lengths);
 *   grid_slurm.c   the keys only 'joulebench slurm' uses: setup, nodes, tasks_per_node;
 *   grid_expand.c  the run list: product, exclude, include, order, run ids, duplicate checks.
 * Everything here is bounded: every input limit is a GRID_MAX_* constant below, documented in
 * docs/grid-format.md ("Limits"), and named in the message that enforces it.
 */
#ifndef JB_SRC_RUN_GRID_INT_H
#define JB_SRC_RUN_GRID_INT_H

#include "run/grid.h"
#include "util/fsutil.h"

#include <stddef.h>
#include <yaml.h>

/* Limits (docs/grid-format.md, "Limits").  The ones on work (runs, combinations, exclude checks)
 * may be lowered at build time: scripts/fuzz.sh does, so that an input at the documented limits,
 * which takes a second or more under ASan, is not reported as a hang over and over (the limits
 * themselves are tested in tests/unit/test_grid.c). */
#define GRID_MAX_FILE_BYTES (16u << 20) /* a grid file */
#define GRID_MAX_DEPTH 32               /* nested lists and mappings */
#define GRID_MAX_NODES 2000000u         /* scalars, lists and mappings, aliases counted expanded */
#ifndef GRID_MAX_COMBINATIONS
#define GRID_MAX_COMBINATIONS 1000000u /* the product of the levels */
#endif
#ifndef GRID_MAX_RUNS
#define GRID_MAX_RUNS 1000000u /* configurations x repeats */
#endif
#define GRID_MAX_CELLS 20000000u /* combinations x levels: the values of the run list */
#ifndef GRID_MAX_EXCLUDE_CHECKS
#define GRID_MAX_EXCLUDE_CHECKS 100000000 /* combinations x exclude rules */
#endif
#define GRID_MAX_NAME FS_NAME_MAX       /* bytes of the grid's name, a level name, a run id */
#define GRID_MAX_ARG_BYTES (128u << 10) /* one command item / env value / workdir template */
#define GRID_MAX_CMD_BYTES (1u << 20)   /* all command items and env values together */

#define GRID_KEY_MAX 256
#define GRID_MAX_SETUP_LINES 64     /* setup: lines */
#define GRID_MAX_SETUP_BYTES 4096   /* one setup: line */
#define GRID_MAX_NODES_PER_RUN 4096 /* nodes: */
#define GRID_MAX_TASKS_PER_NODE 256 /* tasks_per_node: */

/*
 * A set of rows of `width` strings (a level's values: width 1; configurations: width n_levels),
 * hashed, for O(1) duplicate checks.  The strings are not copied: they must outlive the set.
 */
struct grid_rowset {
    size_t width, cap, n;
    const char *const **slot; /* cap entries, NULL when empty */
};
/* Parsing state: the file's name for messages, the loaded document, the grid being filled. */
struct gp {
    const char *path;
    yaml_document_t *doc;
    char *err;
    size_t errlen;
    struct grid *g;
    size_t cmd_bytes;               /* template bytes of command and env so far */
    struct grid_rowset *value_sets; /* one per level: its values, for O(1) lookups */
};

/* ---- grid_yaml.c: input and document --------------------------------------------------- */

/*
 * Checks the raw text (size, NUL bytes), bounds its nesting and node count with an event pass,
 * then loads the one document into *doc.  Returns 0 (doc to be deleted by the caller), or -1 with
 * a message "FILE:LINE[:COL]: ..." in p->err.
 */
int gp_load_document(struct gp *p, const char *text, size_t len, yaml_document_t *doc);

unsigned long node_line(const yaml_node_t *n);
/* "FILE:LINE: KEY: message"; returns -1. */
int gp_fail(struct gp *p, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int gp_oom(struct gp *p);
const char *node_what(const yaml_node_t *n);
const char *scalar(const yaml_node_t *n);
size_t scalar_len(const yaml_node_t *n);
int is_null(const yaml_node_t *n);
size_t seq_len(const yaml_node_t *n);
yaml_node_t *seq_item(struct gp *p, const yaml_node_t *n, size_t i);
size_t map_len(const yaml_node_t *n);
yaml_node_t *map_key(struct gp *p, const yaml_node_t *n, size_t i);
yaml_node_t *map_value(struct gp *p, const yaml_node_t *n, size_t i);
/* n is a mapping whose keys are scalars, each given once (checked in O(n log n)). */
int check_mapping(struct gp *p, const yaml_node_t *n, const char *key);
void key_join(char *out, size_t outlen, const char *parent, const char *child);
int get_string(struct gp *p, const yaml_node_t *n, const char *key, char **out);
int get_double(struct gp *p, const yaml_node_t *n, const char *key, double min, double max,
               double *out);
int get_long(struct gp *p, const yaml_node_t *n, const char *key, long min, long max, long *out);

/* ---- grid_keys.c: the keys ------------------------------------------------------------- */

/* Fills p->g from the root mapping and expands it (grid_expand_runs).  0 or -1. */
int gp_parse_document(struct gp *p, const yaml_node_t *root);
int grid_is_identifier(const char *s);
int grid_is_reserved(const char *name, size_t len);
long grid_level_index_n(const struct grid *g, const char *name, size_t len);
/* "a, b, c" or "none". */
struct strbuf;
void grid_level_names(const struct grid *g, struct strbuf *sb);

/* ---- grid_carbon.c: carbon_intensity, price, currency, pue, region ------------------------ */

/* Fills p->g->carbon from those keys' nodes (NULL: not given), each checked against its range
 * (util/carbon.h); region and carbon_intensity together are refused.  0 or -1. */
int gp_parse_carbon(struct gp *p, const yaml_node_t *intensity, const yaml_node_t *price,
                    const yaml_node_t *currency, const yaml_node_t *pue, const yaml_node_t *region);
/* ---- grid_slurm.c: the Slurm keys (setup, nodes, tasks_per_node); NULL: not given ------ */

int gp_parse_slurm(struct gp *p, const yaml_node_t *setup, const yaml_node_t *nodes,
                   const yaml_node_t *tasks_per_node);

/* ---- grid_expand.c: the run list ------------------------------------------------------- */

int grid_rowset_init(struct grid_rowset *s, size_t width, size_t expected);
/* Adds row unless an equal row is there.  Returns 1 added, 0 present (*found set to that row
 * when found != NULL), -1 out of memory. */
int grid_rowset_add(struct grid_rowset *s, const char *const *row, const char *const **found);
/* 1 when an equal row is in the set. */
int grid_rowset_has(const struct grid_rowset *s, const char *const *row);
void grid_rowset_free(struct grid_rowset *s);

/* Builds g->runs from the parsed levels, rules, repeats and order.  The nodes name the lines of
 * messages (NULL: not given).  0 or -1. */
int grid_expand_runs(struct gp *p, const yaml_node_t *levels_node, const yaml_node_t *exclude_node,
                     const yaml_node_t *include_node, const yaml_node_t *repeats_node);

#endif
