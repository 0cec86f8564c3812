/*
 * grid_expand.c - a parsed grid into its numbered run list: the product of the levels (first
 * level slowest), minus the exclude rules, plus the include combinations, times the repeats, in
 * sequential or seeded random order, each run named by its run id.
 *
 * Every step is linear or n log n in what it handles: duplicate configurations are found with a
 * hash set of rows, run ids by sorting, and exclude rules are matched by binary search over each
 * rule's value indexes; the one product-times-rules step is capped (GRID_MAX_EXCLUDE_CHECKS).
 * Nothing here reads YAML beyond the nodes that name the lines of messages.
 */
#include "run/grid_int.h"

#include "util/strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- row sets --------------------------------------------------------------------------- */

static uint64_t hash_row(const char *const *row, size_t width)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a over the strings, each ended by its NUL */
    for (size_t i = 0; i < width; i++) {
        const char *s = row[i];
        do
            h = (h ^ (unsigned char)*s) * 1099511628211ull;
        while (*s++);
    }
    return h ^ (h >> 29);
}

static int rows_equal(const char *const *a, const char *const *b, size_t width)
{
    for (size_t i = 0; i < width; i++)
        if (strcmp(a[i], b[i]))
            return 0;
    return 1;
}

int grid_rowset_init(struct grid_rowset *s, size_t width, size_t expected)
{
    size_t cap = 16;

    while (cap < expected * 2 && cap < SIZE_MAX / 4)
        cap *= 2;
    s->width = width;
    s->cap = cap;
    s->n = 0;
    s->slot = calloc(cap, sizeof(*s->slot));
    return s->slot ? 0 : -1;
}

static size_t find_slot(const struct grid_rowset *s, const char *const *row)
{
    size_t i = (size_t)hash_row(row, s->width) & (s->cap - 1);

    while (s->slot[i] && !rows_equal(s->slot[i], row, s->width))
        i = (i + 1) & (s->cap - 1);
    return i;
}

int grid_rowset_add(struct grid_rowset *s, const char *const *row, const char *const **found)
{
    size_t i;

    if ((s->n + 1) * 2 > s->cap) {
        struct grid_rowset b;
        if (grid_rowset_init(&b, s->width, s->cap) < 0)
            return -1;
        for (size_t j = 0; j < s->cap; j++)
            if (s->slot[j])
                b.slot[find_slot(&b, s->slot[j])] = s->slot[j];
        b.n = s->n;
        free(s->slot);
        *s = b;
    }
    i = find_slot(s, row);
    if (s->slot[i]) {
        if (found)
            *found = s->slot[i];
        return 0;
    }
    s->slot[i] = row;
    s->n++;
    return 1;
}

static const char *const *rowset_find(const struct grid_rowset *s, const char *const *row)
{
    return s->slot ? s->slot[find_slot(s, row)] : NULL;
}

int grid_rowset_has(const struct grid_rowset *s, const char *const *row)
{
    return rowset_find(s, row) != NULL;
}

void grid_rowset_free(struct grid_rowset *s)
{
    free(s->slot);
    s->slot = NULL;
    s->cap = s->n = 0;
}

/* ---- exclude rules, compiled ------------------------------------------------------------ */

/* A rule as (level, value index) pairs sorted by level then index: for every level it names,
 * the combination's value index must be among that level's run of pairs. */
struct crule {
    size_t n;
    struct lv_idx {
        size_t level, idx;
    } * e;
};

static int cmp_lv_idx(const void *a, const void *b)
{
    const struct lv_idx *x = a, *y = b;
    if (x->level != y->level)
        return (x->level > y->level) - (x->level < y->level);
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int compile_rules(struct gp *p, struct crule *c)
{
    struct grid *g = p->g;

    for (size_t i = 0; i < g->n_exclude; i++) {
        const struct grid_rule *r = &g->exclude[i];
        c[i].e = malloc((r->n ? r->n : 1) * sizeof(*c[i].e));
        if (!c[i].e)
            return gp_oom(p);
        c[i].n = r->n;
        for (size_t j = 0; j < r->n; j++) {
            const char *v = r->value[j];
            const char *const *row = rowset_find(&p->value_sets[r->level[j]], &v);
            /* parse_rules checked that every value is one of the level's */
            c[i].e[j].level = r->level[j];
            c[i].e[j].idx =
                row ? (size_t)(row - (const char *const *)g->levels[r->level[j]].values) : SIZE_MAX;
        }
        qsort(c[i].e, c[i].n, sizeof(*c[i].e), cmp_lv_idx);
    }
    return 0;
}

static int crule_matches(const struct crule *c, const size_t *idx)
{
    for (size_t a = 0; a < c->n;) {
        size_t b = a, lo, hi, want = idx[c->e[a].level];
        while (b < c->n && c->e[b].level == c->e[a].level)
            b++;
        /* binary search of want among e[a..b) */
        lo = a;
        hi = b;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (c->e[mid].idx < want)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == b || c->e[lo].idx != want)
            return 0;
        a = b;
    }
    return 1;
}

/* ---- configurations --------------------------------------------------------------------- */

/* The product minus the excluded, then the includes: *configs is nc rows of nl values. */
static int build_configs(struct gp *p, const yaml_node_t *levels_node,
                         const yaml_node_t *exclude_node, const yaml_node_t *include_node,
                         const char ***configs_out, size_t *nc_out)
{
    struct grid *g = p->g;
    size_t product = 1, nl = g->n_levels, nc = 0;
    const char **configs = NULL;
    size_t *idx = NULL;
    struct crule *rules = NULL;
    struct grid_rowset seen = {0, 0, 0, NULL};
    int rc = -1;

    for (size_t l = 0; l < nl; l++) {
        if (product > (size_t)GRID_MAX_COMBINATIONS / g->levels[l].n_values)
            return gp_fail(p, levels_node, "levels", "more than %u combinations",
                           GRID_MAX_COMBINATIONS);
        product *= g->levels[l].n_values;
    }
    if (nl && product > (size_t)GRID_MAX_CELLS / nl)
        return gp_fail(p, levels_node, "levels",
                       "%zu combinations of %zu levels: more than %u values in the run list (use "
                       "fewer levels or values)",
                       product, nl, GRID_MAX_CELLS);
    if (g->n_exclude && product > (size_t)GRID_MAX_EXCLUDE_CHECKS / g->n_exclude)
        return gp_fail(p, exclude_node, "exclude",
                       "%zu rules over %zu combinations: more than %d rule checks, the most a "
                       "grid may ask for (use fewer rules, e.g. with lists of values)",
                       g->n_exclude, product, GRID_MAX_EXCLUDE_CHECKS);
    configs = calloc((product + g->n_include) * (nl ? nl : 1), sizeof(*configs));
    idx = calloc(nl ? nl : 1, sizeof(*idx));
    rules = calloc(g->n_exclude ? g->n_exclude : 1, sizeof(*rules));
    if (!configs || !idx || !rules || (nl && grid_rowset_init(&seen, nl, product) < 0)) {
        rc = gp_oom(p);
        goto out;
    }
    if (compile_rules(p, rules) < 0)
        goto out;
    /* Product order: the first level varies slowest, like nested loops in file order. */
    for (size_t c = 0; c < product; c++) {
        const char **row = configs + nc * nl;
        int excluded = 0;
        for (size_t e = 0; e < g->n_exclude && !excluded; e++)
            excluded = crule_matches(&rules[e], idx);
        if (!excluded) {
            for (size_t l = 0; l < nl; l++)
                row[l] = g->levels[l].values[idx[l]];
            if (nl && grid_rowset_add(&seen, row, NULL) < 0) {
                rc = gp_oom(p);
                goto out;
            }
            nc++;
        }
        for (size_t l = nl; l-- > 0;) { /* the next combination, like an odometer */
            if (++idx[l] < g->levels[l].n_values)
                break;
            idx[l] = 0;
        }
    }
    for (size_t i = 0; i < g->n_include; i++) {
        const struct grid_rule *r = &g->include[i];
        const char **row = configs + nc * nl;
        int added;
        for (size_t j = 0; j < r->n; j++)
            row[r->level[j]] = r->value[j];
        added = grid_rowset_add(&seen, row, NULL);
        if (added < 0) {
            rc = gp_oom(p);
            goto out;
        }
        if (!added) {
            char key[64];
            snprintf(key, sizeof(key), "include[%zu]", i);
            rc = gp_fail(p, seq_item(p, include_node, i), key,
                         "this combination is already in the grid");
            goto out;
        }
        nc++;
    }
    if (nc == 0) {
        rc = gp_fail(p, exclude_node ? exclude_node : levels_node, "exclude",
                     "every combination is excluded");
        goto out;
    }
    *configs_out = configs;
    *nc_out = nc;
    configs = NULL;
    rc = 0;
out:
    for (size_t i = 0; rules && i < g->n_exclude; i++)
        free(rules[i].e);
    free(rules);
    grid_rowset_free(&seen);
    free(configs);
    free(idx);
    return rc;
}

/* ---- runs ------------------------------------------------------------------------------- */

static void shuffle(struct grid *g)
{
    uint64_t st = g->seed;

    /* Fisher-Yates with an unbiased bounded draw (rejection of the short last block). */
    for (size_t i = g->n_runs; i > 1; i--) {
        uint64_t bound = (uint64_t)i, lim = UINT64_MAX - UINT64_MAX % bound, x;
        struct grid_run t;
        size_t j;
        do
            x = grid_splitmix64(&st);
        while (x >= lim);
        j = (size_t)(x % bound);
        t = g->runs[i - 1];
        g->runs[i - 1] = g->runs[j];
        g->runs[j] = t;
    }
}

static int cmp_run_id(const void *a, const void *b)
{
    const struct grid_run *const *x = a, *const *y = b;
    return strcmp((*x)->run_id, (*y)->run_id);
}

/* Run ids: the values joined by '-', then "r<repeat>", made file-name safe; unique, and short
 * enough to be a file name with a suffix (".lock"). */
static int name_runs(struct gp *p, const yaml_node_t *levels_node)
{
    struct grid *g = p->g;
    struct grid_run **sorted = NULL;
    int rc = -1;

    for (size_t i = 0; i < g->n_runs; i++) {
        struct grid_run *r = &g->runs[i];
        struct strbuf sb = STRBUF_INIT;
        r->index = i;
        for (size_t l = 0; l < g->n_levels; l++) {
            sb_puts(&sb, r->values[l]);
            sb_putc(&sb, '-');
        }
        sb_printf(&sb, "r%d", r->repeat);
        if (sb_failed(&sb)) {
            sb_free(&sb);
            return gp_oom(p);
        }
        grid_safe_name(sb.buf);
        r->run_id = sb.buf;
        if (sb.len > GRID_MAX_NAME)
            return gp_fail(p, levels_node, "levels",
                           "run id '%.40s...' is %zu bytes; a run id may have at most %d (it "
                           "names the run's folder): shorten the values",
                           sb.buf, sb.len, GRID_MAX_NAME);
    }
    sorted = calloc(g->n_runs, sizeof(*sorted));
    if (!sorted)
        return gp_oom(p);
    for (size_t i = 0; i < g->n_runs; i++)
        sorted[i] = &g->runs[i];
    qsort(sorted, g->n_runs, sizeof(*sorted), cmp_run_id);
    rc = 0;
    for (size_t i = 1; i < g->n_runs && rc == 0; i++)
        if (!strcmp(sorted[i]->run_id, sorted[i - 1]->run_id))
            rc = gp_fail(p, levels_node, "levels",
                         "two configurations give the same run id '%s' (values that differ only "
                         "in '-' placement or in characters not allowed in file names)",
                         sorted[i]->run_id);
    free(sorted);
    return rc;
}

int grid_expand_runs(struct gp *p, const yaml_node_t *levels_node, const yaml_node_t *exclude_node,
                     const yaml_node_t *include_node, const yaml_node_t *repeats_node)
{
    struct grid *g = p->g;
    size_t nl = g->n_levels, nc = 0;
    const char **configs = NULL; /* nc x nl value pointers */
    int rc = -1;

    if (build_configs(p, levels_node, exclude_node, include_node, &configs, &nc) < 0)
        return -1;
    if ((size_t)g->repeats > (size_t)GRID_MAX_RUNS / nc) {
        rc = gp_fail(p, repeats_node ? repeats_node : levels_node, "repeats", "more than %u runs",
                     GRID_MAX_RUNS);
        goto out;
    }
    g->n_configs = nc;
    g->n_runs = nc * (size_t)g->repeats;
    g->runs = calloc(g->n_runs, sizeof(*g->runs));
    if (!g->runs) {
        g->n_runs = 0;
        rc = gp_oom(p);
        goto out;
    }
    /* Sequential: all configurations of repeat 1, then repeat 2, ...  The runs' values point
     * into the configurations, which the grid keeps. */
    g->config_values = configs;
    configs = NULL;
    for (size_t i = 0; i < g->n_runs; i++) {
        struct grid_run *r = &g->runs[i];
        r->config = i % nc;
        r->repeat = (int)(i / nc) + 1;
        r->values = g->config_values + r->config * nl;
    }
    if (g->order == GRID_ORDER_RANDOM)
        shuffle(g);
    rc = name_runs(p, levels_node);
out:
    free(configs);
    return rc;
}
