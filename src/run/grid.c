/*
 * grid.c - grid files: YAML (libyaml's document loader) into a validated struct grid, expanded
 * into the numbered run list.  See grid.h for the contract and docs/grid-format.md for the format.
 *
 * libyaml gives each node its position (marks) but accepts duplicate mapping keys and has no
 * schema, so both are checked here: every mapping is checked for duplicate keys, every key is
 * known, every value has the expected shape.  Errors stop at the first problem and name the file,
 * the 1-based line and the key path ("exclude[1].dataset").  This file does not run anything.
 */
#include "run/grid.h"

#include "util/strbuf.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#define GRID_KEY_MAX 256

static const char *const reserved_names[] = {"repeat", "run_id", "grid", "grid_dir"};

struct gp {
    const char *path;
    yaml_document_t *doc;
    char *err;
    size_t errlen;
    struct grid *g;
};

/* ---- messages --------------------------------------------------------------------------- */

static unsigned long node_line(const yaml_node_t *n)
{
    return n ? (unsigned long)n->start_mark.line + 1 : 1;
}

/* "FILE:LINE: KEY: message"; returns -1. */
static int gp_fail(struct gp *p, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int gp_fail(struct gp *p, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (!p->errlen)
        return -1;
    if (key && *key)
        k = snprintf(p->err, p->errlen, "%s:%lu: %s: ", p->path, node_line(n), key);
    else
        k = snprintf(p->err, p->errlen, "%s:%lu: ", p->path, node_line(n));
    if (k < 0 || (size_t)k >= p->errlen)
        return -1;
    va_start(ap, fmt);
    vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
    va_end(ap);
    return -1;
}

static int gp_oom(struct gp *p)
{
    if (p->errlen)
        snprintf(p->err, p->errlen, "%s: out of memory", p->path);
    return -1;
}

static const char *node_what(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

/* ---- node helpers ----------------------------------------------------------------------- */

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A plain scalar YAML reads as null: empty, ~ or null. */
static int is_null(const yaml_node_t *n)
{
    const char *s;

    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    s = scalar(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static size_t seq_len(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *seq_item(struct gp *p, const yaml_node_t *n, size_t i)
{
    return yaml_document_get_node(p->doc, n->data.sequence.items.start[i]);
}

static size_t map_len(const yaml_node_t *n)
{
    return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

static yaml_node_t *map_key(struct gp *p, const yaml_node_t *n, size_t i)
{
    return yaml_document_get_node(p->doc, n->data.mapping.pairs.start[i].key);
}

static yaml_node_t *map_value(struct gp *p, const yaml_node_t *n, size_t i)
{
    return yaml_document_get_node(p->doc, n->data.mapping.pairs.start[i].value);
}

/* Checks that n is a mapping whose keys are scalars, each given once. */
static int check_mapping(struct gp *p, const yaml_node_t *n, const char *key)
{
    size_t len;

    if (n->type != YAML_MAPPING_NODE)
        return gp_fail(p, n, key, "expected a mapping (NAME: VALUE lines), got %s", node_what(n));
    len = map_len(n);
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *k = map_key(p, n, i);
        if (k->type != YAML_SCALAR_NODE)
            return gp_fail(p, k, key, "a key must be a plain name, got %s", node_what(k));
        for (size_t j = 0; j < i; j++)
            if (!strcmp(scalar(map_key(p, n, j)), scalar(k)))
                return gp_fail(p, k, key, "duplicate key '%s' (first given on line %lu)", scalar(k),
                               node_line(map_key(p, n, j)));
    }
    return 0;
}

static void key_join(char *out, size_t outlen, const char *parent, const char *child)
{
    if (parent && *parent)
        snprintf(out, outlen, "%s.%s", parent, child);
    else
        snprintf(out, outlen, "%s", child);
}

static int get_string(struct gp *p, const yaml_node_t *n, const char *key, char **out)
{
    char *s;

    if (n->type != YAML_SCALAR_NODE)
        return gp_fail(p, n, key, "expected a string, got %s", node_what(n));
    if (is_null(n))
        return gp_fail(p, n, key, "empty value (give a value or remove the key)");
    s = strdup(scalar(n));
    if (!s)
        return gp_oom(p);
    free(*out);
    *out = s;
    return 0;
}

static int get_double(struct gp *p, const yaml_node_t *n, const char *key, double min, double max,
                      double *out)
{
    const char *s;
    char *end = NULL;
    double v;

    if (n->type != YAML_SCALAR_NODE || is_null(n))
        return gp_fail(p, n, key, "expected a number, got %s",
                       n->type == YAML_SCALAR_NODE ? "nothing" : node_what(n));
    s = scalar(n);
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v))
        return gp_fail(p, n, key, "expected a number, got '%s'", s);
    if (v < min || v > max)
        return gp_fail(p, n, key, "%s is out of range (%g to %g)", s, min, max);
    *out = v;
    return 0;
}

static int get_long(struct gp *p, const yaml_node_t *n, const char *key, long min, long max,
                    long *out)
{
    const char *s;
    char *end = NULL;
    long v;

    if (n->type != YAML_SCALAR_NODE || is_null(n))
        return gp_fail(p, n, key, "expected a whole number, got %s",
                       n->type == YAML_SCALAR_NODE ? "nothing" : node_what(n));
    s = scalar(n);
    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE)
        return gp_fail(p, n, key, "expected a whole number, got '%s'", s);
    if (v < min || v > max)
        return gp_fail(p, n, key, "%s is out of range (%ld to %ld)", s, min, max);
    *out = v;
    return 0;
}

static int is_identifier(const char *s)
{
    if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
        return 0;
    for (s++; *s; s++)
        if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

static int safe_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '+' || c == '=' || c == '-';
}

void grid_safe_name(char *s)
{
    if (*s == '.')
        *s = '_';
    for (; *s; s++)
        if (!safe_char(*s))
            *s = '_';
}

uint64_t grid_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

long grid_level_index(const struct grid *g, const char *name)
{
    for (size_t i = 0; i < g->n_levels; i++)
        if (!strcmp(g->levels[i].name, name))
            return (long)i;
    return -1;
}

/* ---- templates -------------------------------------------------------------------------- */

static int is_reserved(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(reserved_names) / sizeof(reserved_names[0]); i++)
        if (strlen(reserved_names[i]) == len && !strncmp(reserved_names[i], name, len))
            return 1;
    return 0;
}

static long level_index_n(const struct grid *g, const char *name, size_t len)
{
    for (size_t i = 0; i < g->n_levels; i++)
        if (strlen(g->levels[i].name) == len && !strncmp(g->levels[i].name, name, len))
            return (long)i;
    return -1;
}

static void level_names(const struct grid *g, struct strbuf *sb)
{
    for (size_t i = 0; i < g->n_levels; i++) {
        sb_puts(sb, i ? ", " : "");
        sb_puts(sb, g->levels[i].name);
    }
    if (!g->n_levels)
        sb_puts(sb, "none");
}

/* Checks every {placeholder} of a template against the levels and reserved names. */
static int check_template(struct gp *p, const yaml_node_t *n, const char *key, const char *t)
{
    for (const char *s = t; *s; s++) {
        if (*s == '{' && s[1] == '{') {
            s++;
            continue;
        }
        if (*s == '}' && s[1] == '}') {
            s++;
            continue;
        }
        if (*s == '}')
            return gp_fail(p, n, key, "lone '}' in '%s' (write '}}' for a literal brace)", t);
        if (*s == '{') {
            const char *close = strchr(s + 1, '}');
            size_t len;
            if (!close)
                return gp_fail(p, n, key, "unclosed '{' in '%s' (write '{{' for a literal brace)",
                               t);
            len = (size_t)(close - s - 1);
            for (size_t q = 0; q < len; q++)
                if (!(s[1 + q] == '_' || (s[1 + q] >= 'A' && s[1 + q] <= 'Z') ||
                      (s[1 + q] >= 'a' && s[1 + q] <= 'z') || (s[1 + q] >= '0' && s[1 + q] <= '9')))
                    return gp_fail(p, n, key,
                                   "'{' at byte %zu of '%s' does not start a {name} placeholder "
                                   "(write '{{' for a literal brace)",
                                   (size_t)(s - t) + 1, t);
            if (level_index_n(p->g, s + 1, len) < 0 && !is_reserved(s + 1, len)) {
                struct strbuf sb = STRBUF_INIT;
                int r;
                level_names(p->g, &sb);
                r = gp_fail(p, n, key,
                            "unknown placeholder '{%.*s}' (levels: %s; also repeat, run_id, grid, "
                            "grid_dir; '{{' and '}}' are literal braces)",
                            (int)len, s + 1, sb_str(&sb));
                sb_free(&sb);
                return r;
            }
            s = close;
        }
    }
    return 0;
}

char *grid_expand(const struct grid *g, const struct grid_run *r, const char *tmpl)
{
    struct strbuf sb = STRBUF_INIT;

    sb_puts(&sb, ""); /* an empty template still gives "" */
    for (const char *s = tmpl; *s; s++) {
        if ((*s == '{' && s[1] == '{') || (*s == '}' && s[1] == '}')) {
            sb_putc(&sb, *s);
            s++;
            continue;
        }
        if (*s == '{') {
            const char *close = strchr(s + 1, '}');
            size_t len;
            long li;
            if (!close) { /* cannot happen after check_template; copy verbatim */
                sb_puts(&sb, s);
                break;
            }
            len = (size_t)(close - s - 1);
            li = level_index_n(g, s + 1, len);
            if (li >= 0)
                sb_puts(&sb, r->values[li]);
            else if (len == 6 && !strncmp(s + 1, "repeat", 6))
                sb_printf(&sb, "%d", r->repeat);
            else if (len == 6 && !strncmp(s + 1, "run_id", 6))
                sb_puts(&sb, r->run_id);
            else if (len == 4 && !strncmp(s + 1, "grid", 4))
                sb_puts(&sb, g->name);
            else if (len == 8 && !strncmp(s + 1, "grid_dir", 8))
                sb_puts(&sb, g->dir_abs);
            else
                sb_append(&sb, s, len + 2);
            s = close;
            continue;
        }
        sb_putc(&sb, *s);
    }
    if (sb_failed(&sb)) {
        sb_free(&sb);
        return NULL;
    }
    return sb.buf;
}

void grid_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

char **grid_run_argv(const struct grid *g, const struct grid_run *r)
{
    char **v = calloc(g->argc + 1, sizeof(*v));

    if (!v)
        return NULL;
    for (size_t i = 0; i < g->argc; i++) {
        v[i] = grid_expand(g, r, g->argv_tmpl[i]);
        if (!v[i]) {
            grid_strv_free(v);
            return NULL;
        }
    }
    return v;
}

char **grid_run_env(const struct grid *g, const struct grid_run *r)
{
    char **v = calloc(g->n_env + 1, sizeof(*v));

    if (!v)
        return NULL;
    for (size_t i = 0; i < g->n_env; i++) {
        struct strbuf sb = STRBUF_INIT;
        char *val = grid_expand(g, r, g->env[i].value_tmpl);
        if (!val) {
            grid_strv_free(v);
            return NULL;
        }
        sb_printf(&sb, "%s=%s", g->env[i].name, val);
        free(val);
        if (sb_failed(&sb)) {
            sb_free(&sb);
            grid_strv_free(v);
            return NULL;
        }
        v[i] = sb.buf;
    }
    return v;
}

/* ---- sections --------------------------------------------------------------------------- */

static int parse_name(struct gp *p, const yaml_node_t *n)
{
    if (get_string(p, n, "name", &p->g->name) < 0)
        return -1;
    for (const char *s = p->g->name; *s; s++)
        if (!safe_char(*s) || (s == p->g->name && *s == '.'))
            return gp_fail(p, n, "name",
                           "'%s' cannot be a folder name (use letters, digits, '.', '_', '-'; "
                           "not starting with '.')",
                           p->g->name);
    return 0;
}

static int parse_levels(struct gp *p, const yaml_node_t *n)
{
    struct grid *g = p->g;
    size_t len;

    if (check_mapping(p, n, "levels") < 0)
        return -1;
    len = map_len(n);
    g->levels = calloc(len ? len : 1, sizeof(*g->levels));
    if (!g->levels)
        return gp_oom(p);
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *k = map_key(p, n, i), *v = map_value(p, n, i);
        struct grid_level *lv = &g->levels[g->n_levels];
        char key[GRID_KEY_MAX];
        size_t nv;

        key_join(key, sizeof(key), "levels", scalar(k));
        if (!is_identifier(scalar(k)))
            return gp_fail(p, k, key,
                           "a level name must be a name (letters, digits, '_'; not starting "
                           "with a digit): it is used as a {placeholder}");
        if (is_reserved(scalar(k), strlen(scalar(k))))
            return gp_fail(p, k, key, "'%s' is reserved (repeat, run_id, grid, grid_dir)",
                           scalar(k));
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
        if (!lv->values)
            return gp_oom(p);
        for (size_t j = 0; j < nv; j++) {
            const yaml_node_t *it = v->type == YAML_SEQUENCE_NODE ? seq_item(p, v, j) : v;
            if (it->type != YAML_SCALAR_NODE)
                return gp_fail(p, it, key, "value %zu: expected a scalar, got %s", j + 1,
                               node_what(it));
            if (is_null(it))
                return gp_fail(p, it, key, "value %zu is empty", j + 1);
            for (size_t q = 0; q < lv->n_values; q++)
                if (!strcmp(lv->values[q], scalar(it)))
                    return gp_fail(p, it, key, "value '%s' is given twice", scalar(it));
            lv->values[lv->n_values] = strdup(scalar(it));
            if (!lv->values[lv->n_values])
                return gp_oom(p);
            lv->n_values++;
        }
    }
    return 0;
}

/* exclude (partial maps; a list of values means any of them) and include (complete maps). */
static int parse_rules(struct gp *p, const yaml_node_t *n, const char *what, int complete,
                       struct grid_rule **out, size_t *n_out)
{
    struct grid *g = p->g;
    size_t len;

    if (n->type != YAML_SEQUENCE_NODE)
        return gp_fail(p, n, what,
                       "expected a list of level maps ([{LEVEL: VALUE, ...}, ...]), "
                       "got %s",
                       node_what(n));
    len = seq_len(n);
    *out = calloc(len ? len : 1, sizeof(**out));
    if (!*out)
        return gp_oom(p);
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *m = seq_item(p, n, i);
        struct grid_rule *r = &(*out)[*n_out];
        char key[GRID_KEY_MAX];
        size_t cap = 0;

        snprintf(key, sizeof(key), "%s[%zu]", what, i);
        if (check_mapping(p, m, key) < 0)
            return -1;
        (*n_out)++;
        r->line = (int)node_line(m);
        if (map_len(m) == 0)
            return gp_fail(p, m, key, "empty rule (name at least one level)");
        for (size_t j = 0; j < map_len(m); j++) {
            const yaml_node_t *k = map_key(p, m, j), *v = map_value(p, m, j);
            long li = grid_level_index(g, scalar(k));
            char vkey[GRID_KEY_MAX + 64];
            size_t nv;

            snprintf(vkey, sizeof(vkey), "%s.%s", key, scalar(k));
            if (li < 0) {
                struct strbuf sb = STRBUF_INIT;
                int rc;
                level_names(g, &sb);
                rc = gp_fail(p, k, vkey, "unknown level '%s' (levels: %s)", scalar(k), sb_str(&sb));
                sb_free(&sb);
                return rc;
            }
            if (v->type == YAML_MAPPING_NODE || (complete && v->type == YAML_SEQUENCE_NODE))
                return gp_fail(p, v, vkey, "expected a value, got %s", node_what(v));
            nv = v->type == YAML_SEQUENCE_NODE ? seq_len(v) : 1;
            if (nv == 0)
                return gp_fail(p, v, vkey, "empty list of values");
            if (r->n + nv > cap) {
                size_t ncap = (r->n + nv) * 2;
                size_t *nl = realloc(r->level, ncap * sizeof(*nl));
                char **nvv;
                if (!nl)
                    return gp_oom(p);
                r->level = nl;
                nvv = realloc(r->value, ncap * sizeof(*nvv));
                if (!nvv)
                    return gp_oom(p);
                r->value = nvv;
                cap = ncap;
            }
            for (size_t q = 0; q < nv; q++) {
                const yaml_node_t *it = v->type == YAML_SEQUENCE_NODE ? seq_item(p, v, q) : v;
                const struct grid_level *lv = &g->levels[li];
                int known = 0;
                if (it->type != YAML_SCALAR_NODE)
                    return gp_fail(p, it, vkey, "expected a value, got %s", node_what(it));
                if (is_null(it))
                    return gp_fail(p, it, vkey, "empty value");
                for (size_t z = 0; z < lv->n_values; z++)
                    known |= !strcmp(lv->values[z], scalar(it));
                if (!complete && !known)
                    return gp_fail(p, it, vkey, "'%s' is not a value of level '%s'", scalar(it),
                                   lv->name);
                r->level[r->n] = (size_t)li;
                r->value[r->n] = strdup(scalar(it));
                if (!r->value[r->n])
                    return gp_oom(p);
                r->n++;
            }
        }
        if (complete) {
            for (size_t l = 0; l < g->n_levels; l++) {
                int found = 0;
                for (size_t j = 0; j < r->n; j++)
                    found |= r->level[j] == l;
                if (!found)
                    return gp_fail(p, m, key,
                                   "level '%s' is missing (an include names a value for every "
                                   "level)",
                                   g->levels[l].name);
            }
        }
    }
    return 0;
}

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
        if (check_template(p, it, key, scalar(it)) < 0)
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
        if (!is_identifier(scalar(k)))
            return gp_fail(p, k, key, "not a valid environment variable name");
        if (v->type != YAML_SCALAR_NODE)
            return gp_fail(p, v, key, "expected a string, got %s", node_what(v));
        if (check_template(p, v, key, scalar(v)) < 0)
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

static int parse_meters(struct gp *p, const yaml_node_t *n)
{
    struct strbuf sb = STRBUF_INIT;

    if (n->type == YAML_SCALAR_NODE)
        return get_string(p, n, "meters", &p->g->meters);
    if (n->type != YAML_SEQUENCE_NODE || !seq_len(n))
        return gp_fail(p, n, "meters",
                       "expected a meter specification (auto, gpu, sim, ...), "
                       "got %s",
                       seq_len(n) ? node_what(n) : "an empty list");
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

/* ---- expansion -------------------------------------------------------------------------- */

static int rule_matches(const struct grid_rule *r, const char *const *values)
{
    /* Every level the rule names must match one of the values it gives for that level. */
    for (size_t i = 0; i < r->n; i++) {
        int any = 0;
        for (size_t j = 0; j < r->n; j++)
            if (r->level[j] == r->level[i] && !strcmp(values[r->level[j]], r->value[j]))
                any = 1;
        if (!any)
            return 0;
    }
    return 1;
}

static int cmp_run_id(const void *a, const void *b)
{
    const struct grid_run *const *x = a, *const *y = b;
    return strcmp((*x)->run_id, (*y)->run_id);
}

static int expand(struct gp *p, const yaml_node_t *levels_node, const yaml_node_t *exclude_node,
                  const yaml_node_t *include_node, const yaml_node_t *repeats_node)
{
    struct grid *g = p->g;
    size_t product = 1, nl = g->n_levels, nc = 0;
    const char **configs = NULL; /* nc x nl value pointers */
    size_t *idx = NULL;
    struct grid_run **sorted = NULL;
    int rc = -1;

    for (size_t l = 0; l < nl; l++) {
        if (product > (size_t)1000000 / g->levels[l].n_values)
            return gp_fail(p, levels_node, "levels", "more than 1000000 combinations");
        product *= g->levels[l].n_values;
    }
    configs = calloc((product + g->n_include) * (nl ? nl : 1), sizeof(*configs));
    idx = calloc(nl ? nl : 1, sizeof(*idx));
    if (!configs || !idx) {
        rc = gp_oom(p);
        goto out;
    }
    /* Product order: the first level varies slowest, like nested loops in file order. */
    for (size_t c = 0; c < product; c++) {
        const char **row = configs + nc * nl;
        int excluded = 0;
        size_t rem = c;
        for (size_t l = nl; l-- > 0;) {
            idx[l] = rem % g->levels[l].n_values;
            rem /= g->levels[l].n_values;
        }
        for (size_t l = 0; l < nl; l++)
            row[l] = g->levels[l].values[idx[l]];
        for (size_t e = 0; e < g->n_exclude && !excluded; e++)
            excluded = rule_matches(&g->exclude[e], row);
        if (!excluded)
            nc++;
    }
    for (size_t i = 0; i < g->n_include; i++) {
        const struct grid_rule *r = &g->include[i];
        const char **row = configs + nc * nl;
        for (size_t j = 0; j < r->n; j++)
            row[r->level[j]] = r->value[j];
        for (size_t c = 0; c < nc; c++) {
            int same = 1;
            for (size_t l = 0; l < nl && same; l++)
                same = !strcmp(configs[c * nl + l], row[l]);
            if (same) {
                char key[64];
                snprintf(key, sizeof(key), "include[%zu]", i);
                rc = gp_fail(
                    p, yaml_document_get_node(p->doc, include_node->data.sequence.items.start[i]),
                    key, "this combination is already in the grid");
                goto out;
            }
        }
        nc++;
    }
    if (nc == 0) {
        rc = gp_fail(p, exclude_node ? exclude_node : levels_node, "exclude",
                     "every combination is excluded");
        goto out;
    }
    if ((size_t)g->repeats > (size_t)1000000 / nc) {
        rc = gp_fail(p, repeats_node ? repeats_node : levels_node, "repeats",
                     "more than 1000000 runs");
        goto out;
    }
    g->n_configs = nc;
    g->n_runs = nc * (size_t)g->repeats;
    g->runs = calloc(g->n_runs, sizeof(*g->runs));
    if (!g->runs) {
        rc = gp_oom(p);
        goto out;
    }
    /* Sequential: all configurations of repeat 1, then repeat 2, ... */
    for (size_t i = 0; i < g->n_runs; i++) {
        struct grid_run *r = &g->runs[i];
        r->config = i % nc;
        r->repeat = (int)(i / nc) + 1;
        r->values = calloc(nl ? nl : 1, sizeof(*r->values));
        if (!r->values) {
            rc = gp_oom(p);
            goto out;
        }
        memcpy(r->values, configs + r->config * nl, nl * sizeof(*r->values));
    }
    if (g->order == GRID_ORDER_RANDOM) {
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
    for (size_t i = 0; i < g->n_runs; i++) {
        struct grid_run *r = &g->runs[i];
        struct strbuf sb = STRBUF_INIT;
        r->index = i;
        for (size_t l = 0; l < nl; l++) {
            sb_puts(&sb, r->values[l]);
            sb_putc(&sb, '-');
        }
        sb_printf(&sb, "r%d", r->repeat);
        if (sb_failed(&sb)) {
            sb_free(&sb);
            rc = gp_oom(p);
            goto out;
        }
        grid_safe_name(sb.buf);
        r->run_id = sb.buf;
    }
    sorted = calloc(g->n_runs, sizeof(*sorted));
    if (!sorted) {
        rc = gp_oom(p);
        goto out;
    }
    for (size_t i = 0; i < g->n_runs; i++)
        sorted[i] = &g->runs[i];
    qsort(sorted, g->n_runs, sizeof(*sorted), cmp_run_id);
    for (size_t i = 1; i < g->n_runs; i++)
        if (!strcmp(sorted[i]->run_id, sorted[i - 1]->run_id)) {
            rc = gp_fail(p, levels_node, "levels",
                         "two configurations give the same run id '%s' (values that differ only "
                         "in '-' placement or in characters not allowed in file names)",
                         sorted[i]->run_id);
            goto out;
        }
    rc = 0;
out:
    free(configs);
    free(idx);
    free(sorted);
    return rc;
}

/* ---- loading ---------------------------------------------------------------------------- */

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
};

static int parse_document(struct gp *p, const yaml_node_t *root)
{
    struct grid *g = p->g;
    const yaml_node_t *node[K_COUNT] = {0};
    long lv;
    double dv;

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
            return gp_fail(p, k, scalar(k),
                           "unknown key (expected name, description, levels, repeats, order, "
                           "seed, exclude, include, command, env, workdir, timeout_s, retries, "
                           "idle_baseline_s, cooldown, meters, meters_fallback, interval_ms, "
                           "energy_interval_ms)");
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
    if (node[K_ORDER]) {
        const yaml_node_t *n = node[K_ORDER];
        if (n->type != YAML_SCALAR_NODE ||
            (strcmp(scalar(n), "random") && strcmp(scalar(n), "sequential")))
            return gp_fail(p, n, "order", "expected random or sequential, got %s%s%s",
                           n->type == YAML_SCALAR_NODE ? "'" : "",
                           n->type == YAML_SCALAR_NODE ? scalar(n) : node_what(n),
                           n->type == YAML_SCALAR_NODE ? "'" : "");
        g->order = strcmp(scalar(n), "random") ? GRID_ORDER_SEQUENTIAL : GRID_ORDER_RANDOM;
    }
    if (node[K_SEED]) {
        const yaml_node_t *n = node[K_SEED];
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
    if (node[K_WORKDIR]) {
        if (get_string(p, node[K_WORKDIR], "workdir", &g->workdir_tmpl) < 0 ||
            check_template(p, node[K_WORKDIR], "workdir", g->workdir_tmpl) < 0)
            return -1;
    }
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
    if (node[K_METERS] && parse_meters(p, node[K_METERS]) < 0)
        return -1;
    if (node[K_METERS_FALLBACK] &&
        get_string(p, node[K_METERS_FALLBACK], "meters_fallback", &g->meters_fallback) < 0)
        return -1;
    if (node[K_INTERVAL]) {
        if (get_double(p, node[K_INTERVAL], "interval_ms", 10, 60000, &dv) < 0)
            return -1;
        if (dv != floor(dv))
            return gp_fail(p, node[K_INTERVAL], "interval_ms", "expected whole milliseconds");
        g->interval_ms = (unsigned)dv;
    }
    if (node[K_ENERGY_INTERVAL]) {
        if (get_double(p, node[K_ENERGY_INTERVAL], "energy_interval_ms", 10, 60000, &dv) < 0)
            return -1;
        if (dv != floor(dv))
            return gp_fail(p, node[K_ENERGY_INTERVAL], "energy_interval_ms",
                           "expected whole milliseconds");
        g->energy_interval_ms = (unsigned)dv;
    }
    return expand(p, node[K_LEVELS] ? node[K_LEVELS] : root, node[K_EXCLUDE], node[K_INCLUDE],
                  node[K_REPEATS]);
}

static char *abs_dir_of(const char *path)
{
    struct strbuf sb = STRBUF_INIT;
    const char *slash = strrchr(path, '/');
    char *cwd = NULL;

    if (path[0] != '/') {
        cwd = getcwd(NULL, 0);
        if (!cwd)
            return NULL;
        sb_puts(&sb, cwd);
        free(cwd);
        if (slash) {
            sb_putc(&sb, '/');
            sb_append(&sb, path, (size_t)(slash - path));
        }
    } else if (slash == path) {
        sb_puts(&sb, "/");
    } else {
        sb_append(&sb, path, (size_t)(slash - path));
    }
    if (sb_failed(&sb)) {
        sb_free(&sb);
        return NULL;
    }
    return sb.buf;
}

struct grid *grid_load_string(const char *text, size_t len, const char *path, char *err,
                              size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc, doc2;
    struct grid *g = calloc(1, sizeof(*g));
    struct gp p = {path, &doc, err, errlen, g};
    const yaml_node_t *root;
    int have_doc = 0, ok = 0;

    if (errlen)
        err[0] = '\0';
    if (!g || !yaml_parser_initialize(&parser)) {
        free(g);
        gp_oom(&p);
        return NULL;
    }
    g->repeats = 1;
    g->order = GRID_ORDER_SEQUENTIAL;
    g->cooldown.until_temp_c = NAN;
    g->cooldown.until_power_above_idle_w = NAN;
    g->cooldown.max_wait_s = 600;
    g->path = strdup(path);
    g->dir_abs = abs_dir_of(path);
    g->meters = strdup("auto");
    if (!g->path || !g->dir_abs || !g->meters) {
        gp_oom(&p);
        goto out;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        if (errlen)
            snprintf(err, errlen, "%s:%lu:%lu: not valid YAML: %s%s%s", path,
                     (unsigned long)parser.problem_mark.line + 1,
                     (unsigned long)parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
                     parser.context ? parser.context : "");
        goto out;
    }
    have_doc = 1;
    root = yaml_document_get_root_node(&doc);
    if (!root) {
        if (errlen)
            snprintf(err, errlen, "%s:1: empty grid file (it needs at least name: and command:)",
                     path);
        goto out;
    }
    if (!yaml_parser_load(&parser, &doc2)) {
        if (errlen)
            snprintf(err, errlen, "%s:%lu: not valid YAML after the first document: %s", path,
                     (unsigned long)parser.problem_mark.line + 1,
                     parser.problem ? parser.problem : "syntax error");
        goto out;
    }
    if (yaml_document_get_root_node(&doc2)) {
        unsigned long line = (unsigned long)doc2.start_mark.line + 1;
        yaml_document_delete(&doc2);
        if (errlen)
            snprintf(err, errlen,
                     "%s:%lu: a grid file holds one YAML document ('---' starts a "
                     "second one)",
                     path, line);
        goto out;
    }
    yaml_document_delete(&doc2);
    if (parse_document(&p, root) < 0)
        goto out;
    ok = 1;
out:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (!ok) {
        grid_free(g);
        return NULL;
    }
    return g;
}

struct grid *grid_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct strbuf sb = STRBUF_INIT;
    char buf[8192];
    size_t n;
    struct grid *g;

    if (!f) {
        if (errlen)
            snprintf(err, errlen, "cannot open grid file '%s': %s", path, strerror(errno));
        return NULL;
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        sb_append(&sb, buf, n);
    if (ferror(f) || sb_failed(&sb)) {
        int e = errno;
        fclose(f);
        sb_free(&sb);
        if (errlen)
            snprintf(err, errlen, "cannot read grid file '%s': %s", path, strerror(e));
        return NULL;
    }
    fclose(f);
    g = grid_load_string(sb.buf ? sb.buf : "", sb.len, path, err, errlen);
    sb_free(&sb);
    return g;
}

static void rules_free(struct grid_rule *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < r[i].n; j++)
            free(r[i].value[j]);
        free(r[i].value);
        free(r[i].level);
    }
    free(r);
}

void grid_free(struct grid *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_levels; i++) {
        for (size_t j = 0; j < g->levels[i].n_values; j++)
            free(g->levels[i].values[j]);
        free(g->levels[i].values);
        free(g->levels[i].name);
    }
    free(g->levels);
    rules_free(g->exclude, g->n_exclude);
    rules_free(g->include, g->n_include);
    for (size_t i = 0; i < g->argc; i++)
        free(g->argv_tmpl[i]);
    free(g->argv_tmpl);
    for (size_t i = 0; i < g->n_env; i++) {
        free(g->env[i].name);
        free(g->env[i].value_tmpl);
    }
    free(g->env);
    for (size_t i = 0; i < g->n_runs; i++) {
        free(g->runs[i].values);
        free(g->runs[i].run_id);
    }
    free(g->runs);
    free(g->workdir_tmpl);
    free(g->meters);
    free(g->meters_fallback);
    free(g->name);
    free(g->dir_abs);
    free(g->path);
    free(g);
}
