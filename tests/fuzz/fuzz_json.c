/*
 * fuzz_json.c - libFuzzer target: jb__json_parse on arbitrary bytes must succeed or fail with a
 * message "at byte N: ..." (N within the input), never crash, leak or read past len.  A document
 * that parses is written again with the JSON writer (src/util/jsonw.c) and parsed back: the two
 * trees must match (numbers to the writer's 10 significant digits).  The writer nests at most 31
 * levels, and rounds to 10 digits (1.7976931348623157e308 would become 1.797693135e+308, beyond a
 * double), so deeper documents and ones with numbers beyond 1e300 skip the round trip.
 */
#include "json.h"
#include "util/jsonw.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Nesting depth; a number beyond the writer's range counts as too deep. */
static int depth_of(const struct jb_json *j)
{
    int d = 0;

    if (j->type == JB_JSON_NUMBER && fabs(j->number) > 1e300)
        return JSONW_MAX_DEPTH;
    if (j->type != JB_JSON_ARRAY && j->type != JB_JSON_OBJECT)
        return 0;
    for (size_t i = 0; i < j->n; i++) {
        int k = depth_of(j->items[i]);
        if (k > d)
            d = k;
    }
    return d + 1;
}

static void write_tree(struct jsonw *w, const struct jb_json *j)
{
    switch (j->type) {
    case JB_JSON_NULL: jw_null(w); break;
    case JB_JSON_BOOL: jw_bool(w, j->boolean); break;
    case JB_JSON_NUMBER: jw_number(w, j->number); break;
    case JB_JSON_STRING: jw_string(w, j->string); break;
    case JB_JSON_ARRAY:
        jw_array_begin(w);
        for (size_t i = 0; i < j->n; i++)
            write_tree(w, j->items[i]);
        jw_array_end(w);
        break;
    case JB_JSON_OBJECT:
        jw_object_begin(w);
        for (size_t i = 0; i < j->n; i++) {
            jw_key(w, j->keys[i]);
            write_tree(w, j->items[i]);
        }
        jw_object_end(w);
        break;
    }
}

static int same(const struct jb_json *a, const struct jb_json *b)
{
    if (a->type != b->type || a->n != b->n)
        return 0;
    switch (a->type) {
    case JB_JSON_BOOL: return a->boolean == b->boolean;
    case JB_JSON_NUMBER: return fabs(a->number - b->number) <= fabs(a->number) * 1e-9;
    case JB_JSON_STRING: return strcmp(a->string, b->string) == 0;
    case JB_JSON_OBJECT:
        for (size_t i = 0; i < a->n; i++)
            if (strcmp(a->keys[i], b->keys[i]))
                return 0;
        /* fall through */
    case JB_JSON_ARRAY:
        for (size_t i = 0; i < a->n; i++)
            if (!same(a->items[i], b->items[i]))
                return 0;
        return 1;
    default: return 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    struct jb_json *j = NULL, *k = NULL;
    char err[256];

    if (!text)
        return 0;
    if (size)
        memcpy(text, data, size);
    if (jb__json_parse(text, size, &j, err, sizeof(err)) != 0) {
        unsigned long pos;
        char *end;
        if (j || strncmp(err, "at byte ", 8))
            __builtin_trap();
        pos = strtoul(err + 8, &end, 10);
        if (pos < 1 || pos > size + 1 || *end != ':')
            __builtin_trap();
        free(text);
        return 0;
    }
    for (int pretty = 0; pretty < 2 && depth_of(j) < JSONW_MAX_DEPTH; pretty++) {
        struct strbuf sb = STRBUF_INIT;
        struct jsonw w;
        jw_init(&w, &sb, pretty);
        write_tree(&w, j);
        if (jb__json_parse(sb_str(&sb), sb.len, &k, err, sizeof(err)) != 0 || !same(j, k))
            __builtin_trap();
        jb__json_free(k);
        sb_free(&sb);
    }
    jb__json_free(j);
    free(text);
    return 0;
}
