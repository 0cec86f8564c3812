/*
 * grid_yaml.c - the input side of grid files: the raw text's checks, a bounded libyaml load, and
 * the node helpers and messages the key parsers use.  See grid_int.h for the module's layout.
 *
 * libyaml's document loader is fine for what a grid is, but it has no limits: its scanner keeps
 * one possible simple key per open flow collection and revisits all of them for every token, so
 * 100,000 nested '[' take minutes, and aliases let a small file stand for a huge tree.  So the
 * text is first run through libyaml's event parser, counting nesting depth and nodes (an alias
 * counts as the whole tree it names), and stopped at the first limit crossed, before the loader
 * sees it.  libyaml also reads a NUL byte as the end of the input (a file cut short, silently) and
 * accepts "\0" escapes, which C strings cannot hold: both are errors here.  This file does not
 * interpret keys: that is grid_keys.c.
 */
#include "run/grid_int.h"

#include "util/strbuf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- messages --------------------------------------------------------------------------- */

unsigned long node_line(const yaml_node_t *n)
{
    return n ? (unsigned long)n->start_mark.line + 1 : 1;
}

int gp_fail(struct gp *p, const yaml_node_t *n, const char *key, const char *fmt, ...)
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

int gp_oom(struct gp *p)
{
    if (p->errlen)
        snprintf(p->err, p->errlen, "%s: out of memory", p->path);
    return -1;
}

/* "FILE:LINE:COL: message" for a position in the text (0-based mark). */
static int fail_at(struct gp *p, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(struct gp *p, yaml_mark_t m, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (!p->errlen)
        return -1;
    k = snprintf(p->err, p->errlen, "%s:%lu:%lu: ", p->path, (unsigned long)m.line + 1,
                 (unsigned long)m.column + 1);
    if (k < 0 || (size_t)k >= p->errlen)
        return -1;
    va_start(ap, fmt);
    vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
    va_end(ap);
    return -1;
}

static int fail_yaml(struct gp *p, const yaml_parser_t *parser)
{
    return fail_at(p, parser->problem_mark, "not valid YAML: %s%s%s",
                   parser->problem ? parser->problem : "syntax error", parser->context ? " " : "",
                   parser->context ? parser->context : "");
}

const char *node_what(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

/* ---- the raw text and the event pass ---------------------------------------------------- */

/* Anchor name -> node count of the tree it names (aliases in it counted expanded). */
struct anchors {
    size_t cap, n;
    char **name;
    size_t *nodes;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t *anchor_slot(struct anchors *a, const char *name, int add)
{
    size_t i;

    if (add && (a->n + 1) * 2 > a->cap) {
        struct anchors b = {a->cap ? a->cap * 2 : 64, 0, NULL, NULL};
        b.name = calloc(b.cap, sizeof(*b.name));
        b.nodes = calloc(b.cap, sizeof(*b.nodes));
        if (!b.name || !b.nodes) {
            free(b.name);
            free(b.nodes);
            return NULL;
        }
        for (size_t j = 0; j < a->cap; j++) {
            if (!a->name[j])
                continue;
            for (i = hash_str(a->name[j]) & (b.cap - 1); b.name[i]; i = (i + 1) & (b.cap - 1))
                ;
            b.name[i] = a->name[j];
            b.nodes[i] = a->nodes[j];
            b.n++;
        }
        free(a->name);
        free(a->nodes);
        *a = b;
    }
    if (!a->cap)
        return NULL;
    for (i = hash_str(name) & (a->cap - 1); a->name[i]; i = (i + 1) & (a->cap - 1))
        if (!strcmp(a->name[i], name))
            return &a->nodes[i];
    if (!add)
        return NULL;
    a->name[i] = strdup(name);
    if (!a->name[i])
        return NULL;
    a->n++;
    return &a->nodes[i];
}

static void anchors_free(struct anchors *a)
{
    for (size_t i = 0; i < a->cap; i++)
        free(a->name[i]);
    free(a->name);
    free(a->nodes);
}

static int check_text(struct gp *p, const char *text, size_t len)
{
    const char *nul;

    if (len > GRID_MAX_FILE_BYTES) {
        if (p->errlen)
            snprintf(p->err, p->errlen,
                     "%s: the file is %zu bytes; a grid file may have at most %u bytes (16 MiB)",
                     p->path, len, GRID_MAX_FILE_BYTES);
        return -1;
    }
    nul = memchr(text, '\0', len);
    if (nul) {
        yaml_mark_t m = {0, 0, 0};
        for (const char *s = text; s < nul; s++) {
            if (*s == '\n') {
                m.line++;
                m.column = 0;
            } else if (((unsigned char)*s & 0xC0) != 0x80) {
                m.column++; /* columns count characters, as libyaml's do */
            }
        }
        return fail_at(p, m, "a NUL byte in the file (a grid file is UTF-8 text)");
    }
    return 0;
}

/*
 * One pass of libyaml's event parser over the text: nesting depth at most GRID_MAX_DEPTH, at most
 * GRID_MAX_NODES nodes with every alias counted as the nodes of the tree it names, no NUL
 * character in a scalar.  Stops at the first limit, so its cost is bounded by the limits.
 */
static int event_pass(struct gp *p, const char *text, size_t len)
{
    yaml_parser_t parser;
    struct anchors an = {0, 0, NULL, NULL};
    struct {
        char *anchor;
        size_t nodes0;
    } open[GRID_MAX_DEPTH + 1];
    size_t depth = 0, nodes = 0;
    int rc = -1, done = 0;

    if (!yaml_parser_initialize(&parser))
        return gp_oom(p);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!done) {
        yaml_event_t ev;
        const char *anchor = NULL;
        size_t *slot;

        if (!yaml_parser_parse(&parser, &ev)) {
            fail_yaml(p, &parser);
            goto out;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = 1; break;
        case YAML_ALIAS_EVENT:
            slot = anchor_slot(&an, (const char *)ev.data.alias.anchor, 0);
            nodes += slot ? *slot : 1; /* an unknown anchor is the loader's error to report */
            break;
        case YAML_SCALAR_EVENT:
            nodes++;
            anchor = (const char *)ev.data.scalar.anchor;
            if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length)) {
                fail_at(p, ev.start_mark, "a NUL character ('\\0') in a value");
                yaml_event_delete(&ev);
                goto out;
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            nodes++;
            if (depth == GRID_MAX_DEPTH) {
                fail_at(p, ev.start_mark,
                        "lists and mappings nested more than %d deep (the most a grid file may "
                        "nest)",
                        GRID_MAX_DEPTH);
                yaml_event_delete(&ev);
                goto out;
            }
            anchor = ev.type == YAML_SEQUENCE_START_EVENT
                         ? (const char *)ev.data.sequence_start.anchor
                         : (const char *)ev.data.mapping_start.anchor;
            open[depth].anchor = anchor ? strdup(anchor) : NULL;
            open[depth].nodes0 = nodes - 1;
            if (anchor && !open[depth].anchor) {
                yaml_event_delete(&ev);
                gp_oom(p);
                goto out;
            }
            depth++;
            anchor = NULL; /* recorded at the end of the collection */
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth == 0)
                break; /* cannot happen: libyaml balances them */
            depth--;
            if (open[depth].anchor) {
                slot = anchor_slot(&an, open[depth].anchor, 1);
                if (slot)
                    *slot = nodes - open[depth].nodes0;
                free(open[depth].anchor);
                if (!slot) {
                    yaml_event_delete(&ev);
                    gp_oom(p);
                    goto out;
                }
            }
            break;
        default: break;
        }
        if (anchor) {
            slot = anchor_slot(&an, anchor, 1);
            if (!slot) {
                yaml_event_delete(&ev);
                gp_oom(p);
                goto out;
            }
            *slot = 1;
        }
        if (nodes > GRID_MAX_NODES) {
            fail_at(p, ev.start_mark,
                    "more than %u values, lists and mappings (aliases counted as what they "
                    "name): the most a grid file may hold",
                    GRID_MAX_NODES);
            yaml_event_delete(&ev);
            goto out;
        }
        yaml_event_delete(&ev);
    }
    rc = 0;
out:
    while (depth > 0)
        free(open[--depth].anchor);
    anchors_free(&an);
    yaml_parser_delete(&parser);
    return rc;
}

int gp_load_document(struct gp *p, const char *text, size_t len, yaml_document_t *doc)
{
    yaml_parser_t parser;
    yaml_document_t doc2;
    int rc = -1, have_doc = 0;

    if (check_text(p, text, len) < 0 || event_pass(p, text, len) < 0)
        return -1;
    if (!yaml_parser_initialize(&parser))
        return gp_oom(p);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, doc)) {
        fail_yaml(p, &parser);
        goto out;
    }
    have_doc = 1;
    if (!yaml_document_get_root_node(doc)) {
        if (p->errlen)
            snprintf(p->err, p->errlen,
                     "%s:1: empty grid file (it needs at least name: and command:)", p->path);
        goto out;
    }
    if (!yaml_parser_load(&parser, &doc2)) {
        fail_yaml(p, &parser);
        goto out;
    }
    if (yaml_document_get_root_node(&doc2)) {
        unsigned long line = (unsigned long)doc2.start_mark.line + 1;
        yaml_document_delete(&doc2);
        if (p->errlen)
            snprintf(p->err, p->errlen,
                     "%s:%lu: a grid file holds one YAML document ('---' starts a "
                     "second one)",
                     p->path, line);
        goto out;
    }
    yaml_document_delete(&doc2);
    rc = 0;
out:
    if (rc < 0 && have_doc)
        yaml_document_delete(doc);
    yaml_parser_delete(&parser);
    return rc;
}

/* ---- node helpers ----------------------------------------------------------------------- */

const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

size_t scalar_len(const yaml_node_t *n)
{
    return n->data.scalar.length;
}

/* A plain scalar YAML reads as null: empty, ~ or null. */
int is_null(const yaml_node_t *n)
{
    const char *s;

    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    s = scalar(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

size_t seq_len(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *seq_item(struct gp *p, const yaml_node_t *n, size_t i)
{
    return yaml_document_get_node(p->doc, n->data.sequence.items.start[i]);
}

size_t map_len(const yaml_node_t *n)
{
    return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

yaml_node_t *map_key(struct gp *p, const yaml_node_t *n, size_t i)
{
    return yaml_document_get_node(p->doc, n->data.mapping.pairs.start[i].key);
}

yaml_node_t *map_value(struct gp *p, const yaml_node_t *n, size_t i)
{
    return yaml_document_get_node(p->doc, n->data.mapping.pairs.start[i].value);
}

struct key_ref {
    const char *s;
    size_t i;
};

static int cmp_key_ref(const void *a, const void *b)
{
    const struct key_ref *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

int check_mapping(struct gp *p, const yaml_node_t *n, const char *key)
{
    struct key_ref *refs;
    size_t len, dup = SIZE_MAX;

    if (n->type != YAML_MAPPING_NODE)
        return gp_fail(p, n, key, "expected a mapping (NAME: VALUE lines), got %s", node_what(n));
    len = map_len(n);
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *k = map_key(p, n, i);
        if (k->type != YAML_SCALAR_NODE)
            return gp_fail(p, k, key, "a key must be a plain name, got %s", node_what(k));
    }
    if (len < 2)
        return 0;
    /* Sorted by (key, position): a duplicate is next to the first giving of its key. */
    refs = malloc(len * sizeof(*refs));
    if (!refs)
        return gp_oom(p);
    for (size_t i = 0; i < len; i++) {
        refs[i].s = scalar(map_key(p, n, i));
        refs[i].i = i;
    }
    qsort(refs, len, sizeof(*refs), cmp_key_ref);
    /* Report the duplicate that comes first in the file. */
    for (size_t i = 1; i < len; i++)
        if (!strcmp(refs[i].s, refs[i - 1].s) && (dup == SIZE_MAX || refs[i].i < refs[dup].i))
            dup = i;
    if (dup != SIZE_MAX) {
        size_t first = dup;
        const yaml_node_t *k = map_key(p, n, refs[dup].i);
        while (first > 0 && !strcmp(refs[first - 1].s, refs[dup].s))
            first--;
        gp_fail(p, k, key, "duplicate key '%s' (first given on line %lu)", scalar(k),
                node_line(map_key(p, n, refs[first].i)));
        free(refs);
        return -1;
    }
    free(refs);
    return 0;
}

void key_join(char *out, size_t outlen, const char *parent, const char *child)
{
    if (parent && *parent)
        snprintf(out, outlen, "%s.%s", parent, child);
    else
        snprintf(out, outlen, "%s", child);
}

int get_string(struct gp *p, const yaml_node_t *n, const char *key, char **out)
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

int get_double(struct gp *p, const yaml_node_t *n, const char *key, double min, double max,
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

int get_long(struct gp *p, const yaml_node_t *n, const char *key, long min, long max, long *out)
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
