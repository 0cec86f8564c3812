/*
 * jsonw.c - JSON writer; see jsonw.h.
 */
#include "util/jsonw.h"

#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void jw_init(struct jsonw *w, struct strbuf *sb, int pretty)
{
    w->sb = sb;
    w->depth = 0;
    w->count[0] = 0;
    w->after_key = 0;
    w->pretty = pretty;
}

static void indent(struct jsonw *w)
{
    if (!w->pretty)
        return;
    sb_putc(w->sb, '\n');
    for (int i = 0; i < w->depth; i++)
        sb_puts(w->sb, "  ");
}

/* Before any value or key: the comma and indentation that its position needs. */
static void sep(struct jsonw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0) {
        if (w->count[w->depth]++)
            sb_putc(w->sb, ',');
        indent(w);
    }
}

static void open(struct jsonw *w, char c)
{
    sep(w);
    sb_putc(w->sb, c);
    if (w->depth + 1 < JSONW_MAX_DEPTH)
        w->depth++;
    w->count[w->depth] = 0;
}

static void close_(struct jsonw *w, char c)
{
    int had = w->count[w->depth];

    if (w->depth > 0)
        w->depth--;
    if (had)
        indent(w);
    sb_putc(w->sb, c);
}

void jw_object_begin(struct jsonw *w)
{
    open(w, '{');
}
void jw_object_end(struct jsonw *w)
{
    close_(w, '}');
}
void jw_array_begin(struct jsonw *w)
{
    open(w, '[');
}
void jw_array_end(struct jsonw *w)
{
    close_(w, ']');
}

static void quoted(struct strbuf *sb, const char *s)
{
    size_t n = strlen(s);

    sb_putc(sb, '"');
    for (const char *end = s + n; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x80) {
            int valid;
            size_t k = jb__json_utf8_next((const unsigned char *)s, (size_t)(end - s), &valid);
            if (valid)
                sb_append(sb, s, k);
            else
                sb_puts(sb, "\xEF\xBF\xBD"); /* U+FFFD */
            s += k - 1;
            continue;
        }
        switch (c) {
        case '"': sb_puts(sb, "\\\""); break;
        case '\\': sb_puts(sb, "\\\\"); break;
        case '\n': sb_puts(sb, "\\n"); break;
        case '\r': sb_puts(sb, "\\r"); break;
        case '\t': sb_puts(sb, "\\t"); break;
        default:
            if (c < 0x20)
                sb_printf(sb, "\\u%04x", c);
            else
                sb_putc(sb, (char)c);
        }
    }
    sb_putc(sb, '"');
}

void jw_key(struct jsonw *w, const char *key)
{
    sep(w);
    quoted(w->sb, key);
    sb_puts(w->sb, w->pretty ? ": " : ":");
    w->after_key = 1;
}

void jw_string(struct jsonw *w, const char *s)
{
    sep(w);
    quoted(w->sb, s ? s : "");
}

void jw_number(struct jsonw *w, double v)
{
    sep(w);
    if (!isfinite(v))
        sb_puts(w->sb, "null");
    else
        sb_printf(w->sb, "%.10g", v);
}

void jw_int(struct jsonw *w, long long v)
{
    sep(w);
    sb_printf(w->sb, "%lld", v);
}

void jw_bool(struct jsonw *w, int v)
{
    sep(w);
    sb_puts(w->sb, v ? "true" : "false");
}

void jw_null(struct jsonw *w)
{
    sep(w);
    sb_puts(w->sb, "null");
}

void jw_kv_string(struct jsonw *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_string(w, s);
}

void jw_kv_number(struct jsonw *w, const char *key, double v)
{
    jw_key(w, key);
    jw_number(w, v);
}

void jw_kv_int(struct jsonw *w, const char *key, long long v)
{
    jw_key(w, key);
    jw_int(w, v);
}

void jw_kv_bool(struct jsonw *w, const char *key, int v)
{
    jw_key(w, key);
    jw_bool(w, v);
}
