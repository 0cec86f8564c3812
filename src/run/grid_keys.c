/*
 * grid_keys.c - the keys of a grid file into struct grid: every key known, every value of the
 * expected shape and range, names that can be folder names and placeholders, templates whose
 * {placeholders} exist, and every length within the limits of grid_int.h.  The paths of a grid
 * (workdir, sim:trace= files of meters) are made absolute against the grid file's folder here.
 * Expansion into runs is grid_expand.c; reading the YAML is grid_yaml.c.
 */
#include "run/grid_int.h"

#include "util/fsutil.h"
#include "util/strbuf.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const reserved_names[] = {"repeat", "run_id", "grid", "grid_dir"};

int grid_is_identifier(const char *s)
{
    if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
        return 0;
    for (s++; *s; s++)
        if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

int grid_is_reserved(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(reserved_names) / sizeof(reserved_names[0]); i++)
        if (strlen(reserved_names[i]) == len && !strncmp(reserved_names[i], name, len))
            return 1;
    return 0;
}

long grid_level_index_n(const struct grid *g, const char *name, size_t len)
{
    for (size_t i = 0; i < g->n_levels; i++)
        if (strlen(g->levels[i].name) == len && !strncmp(g->levels[i].name, name, len))
            return (long)i;
    return -1;
}

void grid_level_names(const struct grid *g, struct strbuf *sb)
{
    for (size_t i = 0; i < g->n_levels; i++) {
        sb_puts(sb, i ? ", " : "");
        sb_puts(sb, g->levels[i].name);
    }
    if (!g->n_levels)
        sb_puts(sb, "none");
}

/* ---- templates -------------------------------------------------------------------------- */

static int is_name_char(char c)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Checks every {placeholder} of a template against the levels and reserved names. */
static int check_template(struct gp *p, const yaml_node_t *n, const char *key, const char *t)
{
    for (const char *s = t; *s; s++) {
        if ((*s == '{' && s[1] == '{') || (*s == '}' && s[1] == '}')) {
            s++;
            continue;
        }
        if (*s == '}')
            return gp_fail(p, n, key, "lone '}' in '%s' (write '}}' for a literal brace)", t);
        if (*s == '{') {
            size_t len = 0;
            while (is_name_char(s[1 + len]))
                len++;
            if (!s[1 + len])
                return gp_fail(p, n, key, "unclosed '{' in '%s' (write '{{' for a literal brace)",
                               t);
            if (s[1 + len] != '}')
                return gp_fail(p, n, key,
                               "'{' at byte %zu of '%s' does not start a {name} placeholder "
                               "(write '{{' for a literal brace)",
                               (size_t)(s - t) + 1, t);
            if (grid_level_index_n(p->g, s + 1, len) < 0 && !grid_is_reserved(s + 1, len)) {
                struct strbuf sb = STRBUF_INIT;
                int r;
                grid_level_names(p->g, &sb);
                r = gp_fail(p, n, key,
                            "unknown placeholder '{%.*s}' (levels: %s; also repeat, run_id, grid, "
                            "grid_dir; '{{' and '}}' are literal braces)",
                            (int)len, s + 1, sb_str(&sb));
                sb_free(&sb);
                return r;
            }
            s += len + 1;
        }
    }
    return 0;
}

/* A command item or env value: a template within the per-item and total limits. */
static int check_arg(struct gp *p, const yaml_node_t *n, const char *key, size_t extra)
{
    size_t len = scalar_len(n);

    if (len > GRID_MAX_ARG_BYTES)
        return gp_fail(p, n, key, "%zu bytes; an item may have at most %u bytes (128 KiB)", len,
                       GRID_MAX_ARG_BYTES);
    p->cmd_bytes += len + extra + 1;
    if (p->cmd_bytes > GRID_MAX_CMD_BYTES)
        return gp_fail(p, n, key,
                       "command and env together exceed %u bytes (1 MiB), the most a grid may "
                       "give a command",
                       GRID_MAX_CMD_BYTES);
    return check_template(p, n, key, scalar(n));
}

/* ---- names and levels ------------------------------------------------------------------- */

static int parse_name(struct gp *p, const yaml_node_t *n)
{
    if (get_string(p, n, "name", &p->g->name) < 0)
        return -1;
    if (strlen(p->g->name) > GRID_MAX_NAME)
        return gp_fail(p, n, "name", "%zu bytes; a grid's name may have at most %d bytes",
                       strlen(p->g->name), GRID_MAX_NAME);
    if (!fs_name_ok(p->g->name, GRID_MAX_NAME))
        return gp_fail(p, n, "name",
                       "'%s' cannot be a folder name (use letters, digits, '.', '_', '+', "
                       "'=', '-'; not starting with '.')",
                       p->g->name);
    return 0;
}

/* A level value or an include's value: a non-empty scalar that fits in a run id. */
static int check_value(struct gp *p, const yaml_node_t *it, const char *key, size_t j)
{
    if (it->type != YAML_SCALAR_NODE)
        return gp_fail(p, it, key, "value %zu: expected a scalar, got %s", j + 1, node_what(it));
    if (is_null(it) || !scalar_len(it))
        return gp_fail(p, it, key, "value %zu is empty", j + 1);
    if (scalar_len(it) > GRID_MAX_NAME)
        return gp_fail(p, it, key,
                       "value %zu is %zu bytes; a value may have at most %d (run ids, which hold "
                       "every value, must be file names)",
                       j + 1, scalar_len(it), GRID_MAX_NAME);
    return 0;
}

static int parse_level(struct gp *p, const yaml_node_t *k, const yaml_node_t *v)
{
    struct grid *g = p->g;
    struct grid_level *lv = &g->levels[g->n_levels];
    struct grid_rowset *set = &p->value_sets[g->n_levels];
    char key[GRID_KEY_MAX];
    size_t nv;

    key_join(key, sizeof(key), "levels", scalar(k));
    if (!grid_is_identifier(scalar(k)))
        return gp_fail(p, k, key,
                       "a level name must be a name (letters, digits, '_'; not starting "
                       "with a digit): it is used as a {placeholder}");
    if (grid_is_reserved(scalar(k), strlen(scalar(k))))
        return gp_fail(p, k, key, "'%s' is reserved (repeat, run_id, grid, grid_dir)", scalar(k));
    if (strlen(scalar(k)) > GRID_MAX_NAME)
        return gp_fail(p, k, key, "a level name may have at most %d bytes", GRID_MAX_NAME);
    lv->name = strdup(scalar(k));
    if (!lv->name)
        return gp_oom(p);
    g->n_levels++;
    if (v->type == YAML_MAPPING_NODE)
        return gp_fail(p, v, key, "expected a list of values, got a mapping");
    nv = v->type == YAML_SEQUENCE_NODE ? seq_len(v) : (is_null(v) ? 0 : 1);
    if (nv == 0)
        return gp_fail(p, v, key, "empty level (give at least one value)");
    lv->values = calloc(nv, sizeof(*lv->values));
    if (!lv->values || grid_rowset_init(set, 1, nv) < 0)
        return gp_oom(p);
    for (size_t j = 0; j < nv; j++) {
        const yaml_node_t *it = v->type == YAML_SEQUENCE_NODE ? seq_item(p, v, j) : v;
        int added;
        if (check_value(p, it, key, j) < 0)
            return -1;
        lv->values[lv->n_values] = strdup(scalar(it));
        if (!lv->values[lv->n_values])
            return gp_oom(p);
        lv->n_values++;
        added = grid_rowset_add(set, (const char *const *)&lv->values[lv->n_values - 1], NULL);
        if (added < 0)
            return gp_oom(p);
        if (!added)
            return gp_fail(p, it, key, "value '%s' is given twice", scalar(it));
    }
    return 0;
}

static int parse_levels(struct gp *p, const yaml_node_t *n)
{
    struct grid *g = p->g;
    size_t len, shortest;

    if (check_mapping(p, n, "levels") < 0)
        return -1;
    len = map_len(n);
    g->levels = calloc(len ? len : 1, sizeof(*g->levels));
    p->value_sets = calloc(len ? len : 1, sizeof(*p->value_sets));
    if (!g->levels || !p->value_sets)
        return gp_oom(p);
    /* Every run id has a value of each level and a '-' after it, then "r1" or more: when even
     * the shortest is too long, say so before the levels are read (and bound their number). */
    if (2 * len + 2 > GRID_MAX_NAME)
        return gp_fail(p, n, "levels",
                       "%zu levels give run ids longer than %d bytes (at most %d levels)", len,
                       GRID_MAX_NAME, (GRID_MAX_NAME - 2) / 2);
    for (size_t i = 0; i < len; i++)
        if (parse_level(p, map_key(p, n, i), map_value(p, n, i)) < 0)
            return -1;
    shortest = 2;
    for (size_t i = 0; i < len; i++) {
        size_t m = SIZE_MAX;
        for (size_t j = 0; j < g->levels[i].n_values; j++)
            if (strlen(g->levels[i].values[j]) < m)
                m = strlen(g->levels[i].values[j]);
        shortest += m + 1;
    }
    if (shortest > GRID_MAX_NAME)
        return gp_fail(p, n, "levels",
                       "every run id is longer than %d bytes (the shortest is %zu): shorten the "
                       "values (a run id holds one value of each level)",
                       GRID_MAX_NAME, shortest);
    return 0;
}

/* ---- exclude and include ---------------------------------------------------------------- */

static int rule_grow(struct gp *p, struct grid_rule *r, size_t need, size_t *cap)
{
    size_t ncap = need * 2;
    size_t *nl;
    char **nvv;

    if (need <= *cap)
        return 0;
    nl = realloc(r->level, ncap * sizeof(*nl));
    if (!nl)
        return gp_oom(p);
    r->level = nl;
    nvv = realloc(r->value, ncap * sizeof(*nvv));
    if (!nvv)
        return gp_oom(p);
    r->value = nvv;
    *cap = ncap;
    return 0;
}

/* One LEVEL: VALUE(S) entry of a rule. */
static int rule_entry(struct gp *p, struct grid_rule *r, size_t *cap, const yaml_node_t *k,
                      const yaml_node_t *v, const char *key, int complete)
{
    struct grid *g = p->g;
    long li = grid_level_index(g, scalar(k));
    char vkey[GRID_KEY_MAX + 64];
    size_t nv;

    snprintf(vkey, sizeof(vkey), "%s.%s", key, scalar(k));
    if (li < 0) {
        struct strbuf sb = STRBUF_INIT;
        int rc;
        grid_level_names(g, &sb);
        rc = gp_fail(p, k, vkey, "unknown level '%s' (levels: %s)", scalar(k), sb_str(&sb));
        sb_free(&sb);
        return rc;
    }
    if (v->type == YAML_MAPPING_NODE || (complete && v->type == YAML_SEQUENCE_NODE))
        return gp_fail(p, v, vkey, "expected a value, got %s", node_what(v));
    nv = v->type == YAML_SEQUENCE_NODE ? seq_len(v) : 1;
    if (nv == 0)
        return gp_fail(p, v, vkey, "empty list of values");
    if (rule_grow(p, r, r->n + nv, cap) < 0)
        return -1;
    for (size_t q = 0; q < nv; q++) {
        const yaml_node_t *it = v->type == YAML_SEQUENCE_NODE ? seq_item(p, v, q) : v;
        const char *val;
        if (it->type != YAML_SCALAR_NODE)
            return gp_fail(p, it, vkey, "expected a value, got %s", node_what(it));
        if (is_null(it) || !scalar_len(it))
            return gp_fail(p, it, vkey, "empty value");
        if (complete && check_value(p, it, vkey, q) < 0)
            return -1;
        val = scalar(it);
        if (!complete && !grid_rowset_has(&p->value_sets[li], &val))
            return gp_fail(p, it, vkey, "'%s' is not a value of level '%s'", val,
                           g->levels[li].name);
        r->level[r->n] = (size_t)li;
        r->value[r->n] = strdup(val);
        if (!r->value[r->n])
            return gp_oom(p);
        r->n++;
    }
    return 0;
}

/* exclude (partial maps; a list of values means any of them) and include (complete maps). */
static int parse_rules(struct gp *p, const yaml_node_t *n, const char *what, int complete,
                       struct grid_rule **out, size_t *n_out)
{
    struct grid *g = p->g;
    unsigned char *seen = NULL;
    size_t len;
    int rc = -1;

    if (n->type != YAML_SEQUENCE_NODE)
        return gp_fail(p, n, what,
                       "expected a list of level maps ([{LEVEL: VALUE, ...}, ...]), "
                       "got %s",
                       node_what(n));
    len = seq_len(n);
    *out = calloc(len ? len : 1, sizeof(**out));
    seen = calloc(g->n_levels ? g->n_levels : 1, 1);
    if (!*out || !seen) {
        free(seen);
        return gp_oom(p);
    }
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *m = seq_item(p, n, i);
        struct grid_rule *r = &(*out)[*n_out];
        char key[GRID_KEY_MAX];
        size_t cap = 0;

        snprintf(key, sizeof(key), "%s[%zu]", what, i);
        if (check_mapping(p, m, key) < 0)
            goto out;
        (*n_out)++;
        r->line = (int)node_line(m);
        if (map_len(m) == 0) {
            gp_fail(p, m, key, "empty rule (name at least one level)");
            goto out;
        }
        for (size_t j = 0; j < map_len(m); j++)
            if (rule_entry(p, r, &cap, map_key(p, m, j), map_value(p, m, j), key, complete) < 0)
                goto out;
        if (!complete)
            continue;
        memset(seen, 0, g->n_levels ? g->n_levels : 1);
        for (size_t j = 0; j < r->n; j++)
            seen[r->level[j]] = 1;
        for (size_t l = 0; l < g->n_levels; l++)
            if (!seen[l]) {
                gp_fail(p, m, key,
                        "level '%s' is missing (an include names a value for every level)",
                        g->levels[l].name);
                goto out;
            }
    }
    rc = 0;
out:
    free(seen);
    return rc;
}

/* ---- command, env, workdir, cooldown, meters -------------------------------------------- */

static int parse_command(struct gp *p, const yaml_node_t *n)
{
    struct grid *g = p->g;
    size_t len;

    if (n->type != YAML_SEQUENCE_NODE)
        return gp_fail(p, n, "command",
                       "expected a list (argv: [program, arg, ...]), got %s (commands are never "
                       "passed to a shell)",
                       node_what(n));
    len = seq_len(n);
    if (!len)
        return gp_fail(p, n, "command", "empty command");
    g->argv_tmpl = calloc(len, sizeof(*g->argv_tmpl));
    if (!g->argv_tmpl)
        return gp_oom(p);
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *it = seq_item(p, n, i);
        char key[64];
        snprintf(key, sizeof(key), "command[%zu]", i);
        if (it->type != YAML_SCALAR_NODE)
            return gp_fail(p, it, key, "expected a string, got %s", node_what(it));
        if (i == 0 && !*scalar(it))
            return gp_fail(p, it, key, "empty program name");
        if (check_arg(p, it, key, 0) < 0)
            return -1;
        g->argv_tmpl[i] = strdup(scalar(it));
        if (!g->argv_tmpl[i])
            return gp_oom(p);
        g->argc++;
    }
    return 0;
}

static int parse_env(struct gp *p, const yaml_node_t *n)
{
    struct grid *g = p->g;
    size_t len;

    if (check_mapping(p, n, "env") < 0)
        return -1;
    len = map_len(n);
    g->env = calloc(len ? len : 1, sizeof(*g->env));
    if (!g->env)
        return gp_oom(p);
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *k = map_key(p, n, i), *v = map_value(p, n, i);
        char key[GRID_KEY_MAX];
        key_join(key, sizeof(key), "env", scalar(k));
        if (!grid_is_identifier(scalar(k)))
            return gp_fail(p, k, key, "not a valid environment variable name");
        if (v->type != YAML_SCALAR_NODE)
            return gp_fail(p, v, key, "expected a string, got %s", node_what(v));
        if (check_arg(p, v, key, scalar_len(k) + 1) < 0)
            return -1;
        g->env[g->n_env].name = strdup(scalar(k));
        g->env[g->n_env].value_tmpl = strdup(is_null(v) ? "" : scalar(v));
        g->env[g->n_env].line = (int)node_line(k);
        g->n_env++;
        if (!g->env[g->n_env - 1].name || !g->env[g->n_env - 1].value_tmpl)
            return gp_oom(p);
    }
    return 0;
}

/*
 * workdir, made absolute: a relative one is relative to the grid file's folder, and without the
 * key the command runs in that folder.  Whether a template is relative is known from its first
 * byte once expanded: a literal byte, or the first byte of the values of the level it starts
 * with (all values must then agree; {grid_dir} is absolute, the other placeholders are not).
 */
static int parse_workdir(struct gp *p, const yaml_node_t *n)
{
    struct grid *g = p->g;
    const char *t;
    int absolute = 0;
    char *abs;

    if (!n) {
        g->workdir_tmpl = strdup("{grid_dir}");
        return g->workdir_tmpl ? 0 : gp_oom(p);
    }
    if (get_string(p, n, "workdir", &g->workdir_tmpl) < 0 ||
        check_template(p, n, "workdir", g->workdir_tmpl) < 0)
        return -1;
    if (strlen(g->workdir_tmpl) > GRID_MAX_ARG_BYTES)
        return gp_fail(p, n, "workdir", "longer than %u bytes", GRID_MAX_ARG_BYTES);
    t = g->workdir_tmpl;
    if (t[0] == '/' || !strncmp(t, "{grid_dir}", 10)) {
        absolute = 1;
    } else if (t[0] == '{' && t[1] != '{') {
        size_t len = strcspn(t + 1, "}");
        long li = grid_level_index_n(g, t + 1, len);
        if (li >= 0) {
            const struct grid_level *lv = &g->levels[li];
            size_t n_abs = 0;
            for (size_t j = 0; j < lv->n_values; j++)
                n_abs += lv->values[j][0] == '/';
            for (size_t i = 0; i < g->n_include; i++)
                for (size_t j = 0; j < g->include[i].n; j++)
                    if (g->include[i].level[j] == (size_t)li)
                        n_abs += g->include[i].value[j][0] == '/';
            if (n_abs && n_abs != lv->n_values + g->n_include)
                return gp_fail(p, n, "workdir",
                               "'%s' starts with level '%s', whose values are absolute paths and "
                               "relative ones (relative ones are relative to the grid file's "
                               "folder: make them all one or the other)",
                               t, lv->name);
            absolute = n_abs > 0;
        }
    }
    if (absolute)
        return 0;
    abs = malloc(strlen(t) + sizeof("{grid_dir}/"));
    if (!abs)
        return gp_oom(p);
    memcpy(abs, "{grid_dir}/", sizeof("{grid_dir}/") - 1);
    memcpy(abs + sizeof("{grid_dir}/") - 1, t, strlen(t) + 1);
    free(g->workdir_tmpl);
    g->workdir_tmpl = abs;
    return 0;
}

static int parse_cooldown(struct gp *p, const yaml_node_t *n)
{
    struct grid_cooldown *c = &p->g->cooldown;

    if (n->type == YAML_SCALAR_NODE)
        return get_double(p, n, "cooldown", 0, 86400, &c->seconds);
    if (check_mapping(p, n, "cooldown") < 0)
        return -1;
    for (size_t i = 0; i < map_len(n); i++) {
        const yaml_node_t *k = map_key(p, n, i), *v = map_value(p, n, i);
        const char *name = scalar(k);
        char key[GRID_KEY_MAX];
        int rc;

        key_join(key, sizeof(key), "cooldown", name);
        if (!strcmp(name, "seconds"))
            rc = get_double(p, v, key, 0, 86400, &c->seconds);
        else if (!strcmp(name, "until_temp_c"))
            rc = get_double(p, v, key, 0, 150, &c->until_temp_c);
        else if (!strcmp(name, "until_power_above_idle_w"))
            rc = get_double(p, v, key, 0, 100000, &c->until_power_above_idle_w);
        else if (!strcmp(name, "max_wait_s"))
            rc = get_double(p, v, key, 0, 86400, &c->max_wait_s);
        else
            rc = gp_fail(p, k, key,
                         "unknown key '%s' (expected seconds, until_temp_c, "
                         "until_power_above_idle_w, max_wait_s)",
                         name);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* A relative sim:trace=FILE (the last meter of a specification: it takes the rest) becomes
 * relative to the grid file's folder. */
static int absolute_trace(struct gp *p, char **spec)
{
    static const char tag[] = "sim:trace=";
    struct strbuf sb = STRBUF_INIT;
    char *s = *spec, *t = NULL;

    for (char *q = s; (q = strstr(q, tag)) != NULL; q++)
        if (q == s || q[-1] == ',') {
            t = q + sizeof(tag) - 1;
            break;
        }
    if (!t || !*t || *t == '/')
        return 0;
    sb_append(&sb, s, (size_t)(t - s));
    sb_puts(&sb, p->g->dir_abs);
    sb_putc(&sb, '/');
    sb_puts(&sb, t);
    if (sb_failed(&sb)) {
        sb_free(&sb);
        return gp_oom(p);
    }
    free(s);
    *spec = sb.buf;
    return 0;
}

static int parse_meters(struct gp *p, const yaml_node_t *n)
{
    struct strbuf sb = STRBUF_INIT;

    if (n->type == YAML_SCALAR_NODE)
        return get_string(p, n, "meters", &p->g->meters);
    if (n->type != YAML_SEQUENCE_NODE || !seq_len(n))
        return gp_fail(p, n, "meters",
                       "expected a meter specification (auto, gpu, sim, ...), "
                       "got %s",
                       n->type == YAML_SEQUENCE_NODE ? "an empty list" : node_what(n));
    for (size_t i = 0; i < seq_len(n); i++) {
        const yaml_node_t *it = seq_item(p, n, i);
        if (it->type != YAML_SCALAR_NODE || is_null(it)) {
            sb_free(&sb);
            return gp_fail(p, it, "meters", "expected a meter name, got %s",
                           it->type == YAML_SCALAR_NODE ? "nothing" : node_what(it));
        }
        sb_puts(&sb, i ? "," : "");
        sb_puts(&sb, scalar(it));
    }
    if (sb_failed(&sb))
        return gp_oom(p);
    free(p->g->meters);
    p->g->meters = sb.buf;
    return 0;
}

/* ---- the document ----------------------------------------------------------------------- */

enum {
    K_NAME,
    K_DESCRIPTION,
    K_LEVELS,
    K_REPEATS,
    K_ORDER,
    K_SEED,
    K_EXCLUDE,
    K_INCLUDE,
    K_COMMAND,
    K_ENV,
    K_WORKDIR,
    K_TIMEOUT,
    K_RETRIES,
    K_IDLE,
    K_COOLDOWN,
    K_METERS,
    K_METERS_FALLBACK,
    K_INTERVAL,
    K_ENERGY_INTERVAL,
    K_CARBON_INTENSITY,
    K_PRICE,
    K_CURRENCY,
    K_PUE,
    K_REGION,
    K_SETUP,
    K_NODES,
    K_TASKS_PER_NODE,
    K_COUNT
};

static const char *const top_keys[K_COUNT] = {
    "name",
    "description",
    "levels",
    "repeats",
    "order",
    "seed",
    "exclude",
    "include",
    "command",
    "env",
    "workdir",
    "timeout_s",
    "retries",
    "idle_baseline_s",
    "cooldown",
    "meters",
    "meters_fallback",
    "interval_ms",
    "energy_interval_ms",
    "carbon_intensity",
    "price",
    "currency",
    "pue",
    "region",
    "setup",
    "nodes",
    "tasks_per_node",
};

static int parse_order_seed(struct gp *p, const yaml_node_t *order, const yaml_node_t *seed)
{
    struct grid *g = p->g;

    if (order) {
        const yaml_node_t *n = order;
        if (n->type != YAML_SCALAR_NODE ||
            (strcmp(scalar(n), "random") && strcmp(scalar(n), "sequential")))
            return gp_fail(p, n, "order", "expected random or sequential, got %s%s%s",
                           n->type == YAML_SCALAR_NODE ? "'" : "",
                           n->type == YAML_SCALAR_NODE ? scalar(n) : node_what(n),
                           n->type == YAML_SCALAR_NODE ? "'" : "");
        g->order = strcmp(scalar(n), "random") ? GRID_ORDER_SEQUENTIAL : GRID_ORDER_RANDOM;
    }
    if (seed) {
        const yaml_node_t *n = seed;
        char *end = NULL;
        unsigned long long v;
        if (n->type != YAML_SCALAR_NODE || is_null(n))
            return gp_fail(p, n, "seed", "expected a whole number, got %s",
                           n->type == YAML_SCALAR_NODE ? "nothing" : node_what(n));
        errno = 0;
        v = strtoull(scalar(n), &end, 10);
        if (*scalar(n) == '-' || end == scalar(n) || *end || errno)
            return gp_fail(p, n, "seed", "expected a whole number from 0 to %llu, got '%s'",
                           ULLONG_MAX, scalar(n));
        g->seed = (uint64_t)v;
    }
    return 0;
}

static int get_interval(struct gp *p, const yaml_node_t *n, const char *key, unsigned *out)
{
    double dv;

    if (!n)
        return 0;
    if (get_double(p, n, key, 10, 60000, &dv) < 0)
        return -1;
    if (dv != floor(dv))
        return gp_fail(p, n, key, "expected whole milliseconds");
    *out = (unsigned)dv;
    return 0;
}

/* The keys about how each run is measured: limits, baseline, cooldown, meters, intervals. */
static int parse_measuring(struct gp *p, const yaml_node_t *const *node)
{
    struct grid *g = p->g;
    long lv;

    if (node[K_TIMEOUT] && get_double(p, node[K_TIMEOUT], "timeout_s", 0, 1e7, &g->timeout_s) < 0)
        return -1;
    if (node[K_RETRIES]) {
        if (get_long(p, node[K_RETRIES], "retries", 0, 100, &lv) < 0)
            return -1;
        g->retries = (int)lv;
    }
    if (node[K_IDLE] &&
        get_double(p, node[K_IDLE], "idle_baseline_s", 0, 3600, &g->idle_baseline_s) < 0)
        return -1;
    if (node[K_COOLDOWN]) {
        if (parse_cooldown(p, node[K_COOLDOWN]) < 0)
            return -1;
        if (!isnan(g->cooldown.until_power_above_idle_w) && g->idle_baseline_s <= 0)
            return gp_fail(p, node[K_COOLDOWN], "cooldown.until_power_above_idle_w",
                           "needs an idle baseline to compare with (set idle_baseline_s)");
    }
    if (node[K_METERS] &&
        (parse_meters(p, node[K_METERS]) < 0 || absolute_trace(p, &g->meters) < 0))
        return -1;
    if (node[K_METERS_FALLBACK] &&
        (get_string(p, node[K_METERS_FALLBACK], "meters_fallback", &g->meters_fallback) < 0 ||
         absolute_trace(p, &g->meters_fallback) < 0))
        return -1;
    if (get_interval(p, node[K_INTERVAL], "interval_ms", &g->interval_ms) < 0 ||
        get_interval(p, node[K_ENERGY_INTERVAL], "energy_interval_ms", &g->energy_interval_ms) < 0)
        return -1;
    return 0;
}

int gp_parse_document(struct gp *p, const yaml_node_t *root)
{
    struct grid *g = p->g;
    const yaml_node_t *node[K_COUNT] = {0};
    long lv;

    if (root->type != YAML_MAPPING_NODE)
        return gp_fail(p, root, NULL,
                       "a grid file is a mapping (name:, levels:, command:, ...), "
                       "got %s",
                       node_what(root));
    if (check_mapping(p, root, NULL) < 0)
        return -1;
    for (size_t i = 0; i < map_len(root); i++) {
        const yaml_node_t *k = map_key(p, root, i);
        size_t j;
        for (j = 0; j < K_COUNT; j++)
            if (!strcmp(scalar(k), top_keys[j]))
                break;
        if (j == K_COUNT)
            return gp_fail(
                p, k, scalar(k),
                "unknown key (expected name, description, levels, repeats, order, "
                "seed, exclude, include, command, env, workdir, timeout_s, retries, "
                "idle_baseline_s, cooldown, meters, meters_fallback, interval_ms, "
                "energy_interval_ms, carbon_intensity, price, currency, pue, region, setup, "
                "nodes, tasks_per_node)");
        node[j] = map_value(p, root, i);
    }
    if (!node[K_NAME])
        return gp_fail(p, root, "name", "missing (the grid's name: its results folder)");
    if (!node[K_COMMAND])
        return gp_fail(p, root, "command", "missing (the argv list each run executes)");
    if (parse_name(p, node[K_NAME]) < 0)
        return -1;
    if (node[K_DESCRIPTION] && node[K_DESCRIPTION]->type != YAML_SCALAR_NODE)
        return gp_fail(p, node[K_DESCRIPTION], "description", "expected text, got %s",
                       node_what(node[K_DESCRIPTION]));
    if (node[K_LEVELS] && parse_levels(p, node[K_LEVELS]) < 0)
        return -1;
    if (node[K_REPEATS]) {
        if (get_long(p, node[K_REPEATS], "repeats", 1, 100000, &lv) < 0)
            return -1;
        g->repeats = (int)lv;
    }
    if (parse_order_seed(p, node[K_ORDER], node[K_SEED]) < 0)
        return -1;
    if (node[K_EXCLUDE] &&
        parse_rules(p, node[K_EXCLUDE], "exclude", 0, &g->exclude, &g->n_exclude) < 0)
        return -1;
    if (node[K_INCLUDE] &&
        parse_rules(p, node[K_INCLUDE], "include", 1, &g->include, &g->n_include) < 0)
        return -1;
    if (parse_command(p, node[K_COMMAND]) < 0)
        return -1;
    if (node[K_ENV] && parse_env(p, node[K_ENV]) < 0)
        return -1;
    if (parse_workdir(p, node[K_WORKDIR]) < 0)
        return -1;
    if (parse_measuring(p, node) < 0)
        return -1;
    if (gp_parse_carbon(p, node[K_CARBON_INTENSITY], node[K_PRICE], node[K_CURRENCY], node[K_PUE],
                        node[K_REGION]) < 0)
        return -1;
    if (gp_parse_slurm(p, node[K_SETUP], node[K_NODES], node[K_TASKS_PER_NODE]) < 0)
        return -1;
    return grid_expand_runs(p, node[K_LEVELS] ? node[K_LEVELS] : root, node[K_EXCLUDE],
                            node[K_INCLUDE], node[K_REPEATS]);
}
