/*
 * grid.c - grid files: the public entry points of the module (grid.h).  Loading reads the file
 * (a regular file, bounded), has grid_yaml.c check and load the YAML, grid_keys.c fill and
 * validate struct grid and grid_expand.c build the run list; this file also expands a run's
 * templates and frees.  See grid_int.h for the module's layout and limits, and
 * docs/grid-format.md for the format.  This file does not run anything.
 */
#include "run/grid_int.h"

#include "util/fsutil.h"
#include "util/strbuf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void grid_safe_name(char *s)
{
    fs_safe_name(s);
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
            li = grid_level_index_n(g, s + 1, len);
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

/* ---- loading ---------------------------------------------------------------------------- */

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
    yaml_document_t doc;
    struct grid *g = calloc(1, sizeof(*g));
    struct gp p = {path, &doc, err, errlen, g, 0, NULL};
    int have_doc = 0, ok = 0;

    if (errlen)
        err[0] = '\0';
    if (!g) {
        gp_oom(&p);
        return NULL;
    }
    g->repeats = 1;
    g->order = GRID_ORDER_SEQUENTIAL;
    g->cooldown.until_temp_c = NAN;
    g->cooldown.until_power_above_idle_w = NAN;
    carbon_init(&g->carbon);
    g->cooldown.max_wait_s = 600;
    g->nodes = 1;
    g->tasks_per_node = 1;
    g->path = strdup(path);
    g->dir_abs = abs_dir_of(path);
    g->meters = strdup("auto");
    if (!g->path || !g->dir_abs || !g->meters) {
        gp_oom(&p);
        goto out;
    }
    if (gp_load_document(&p, text, len, &doc) < 0)
        goto out;
    have_doc = 1;
    if (gp_parse_document(&p, yaml_document_get_root_node(&doc)) < 0)
        goto out;
    ok = 1;
out:
    if (have_doc)
        yaml_document_delete(&doc);
    for (size_t i = 0; p.value_sets && i < g->n_levels; i++)
        grid_rowset_free(&p.value_sets[i]);
    free(p.value_sets);
    if (!ok) {
        grid_free(g);
        return NULL;
    }
    return g;
}

struct grid *grid_load(const char *path, char *err, size_t errlen)
{
    char *text = NULL, msg[512];
    size_t len = 0;
    struct grid *g;

    /* A regular file only, and no bigger than a grid may be: a FIFO or /dev/zero never ends. */
    if (fs_read_regular(path, GRID_MAX_FILE_BYTES, &text, &len, msg, sizeof(msg)) < 0) {
        int e = errno;
        if (errlen && (e == EINVAL || e == EFBIG))
            snprintf(err, errlen, "grid file: %s", msg);
        else if (errlen)
            snprintf(err, errlen, "cannot open grid file '%s': %s", path, strerror(e));
        return NULL;
    }
    g = grid_load_string(text, len, path, err, errlen);
    free(text);
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
    for (size_t i = 0; i < g->n_runs; i++)
        free(g->runs[i].run_id);
    free(g->runs);
    free(g->config_values);
    free(g->workdir_tmpl);
    free(g->meters);
    free(g->meters_fallback);
    for (size_t i = 0; i < g->n_setup; i++)
        free(g->setup[i]);
    free(g->setup);
    free(g->name);
    free(g->dir_abs);
    free(g->path);
    free(g);
}

long grid_n_parts(const struct grid *g)
{
    return g->nodes * g->tasks_per_node;
}
