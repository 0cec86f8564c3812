/*
 * strbuf.c - growable string buffer; see strbuf.h.
 */
#include "util/strbuf.h"

#include "util/csv.h"
#include "util/numfmt.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(struct strbuf *sb, size_t extra)
{
    size_t need, cap;
    char *p;

    if (sb->failed)
        return -1;
    need = sb->len + extra + 1;
    if (need <= sb->cap)
        return 0;
    cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap *= 2;
    p = realloc(sb->buf, cap);
    if (!p) {
        sb->failed = 1;
        return -1;
    }
    sb->buf = p;
    sb->cap = cap;
    return 0;
}

void sb_free(struct strbuf *sb)
{
    free(sb->buf);
    sb->buf = NULL;
    sb->len = sb->cap = 0;
    sb->failed = 0;
}

void sb_reset(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->buf)
        sb->buf[0] = '\0';
}

void sb_append(struct strbuf *sb, const char *s, size_t n)
{
    if (grow(sb, n) < 0)
        return;
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s)
{
    sb_append(sb, s, strlen(s));
}

void sb_putc(struct strbuf *sb, char c)
{
    sb_append(sb, &c, 1);
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || grow(sb, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

/* The quoting itself lives with the reader that undoes it (util/csv.c). */
void sb_csv_field(struct strbuf *sb, const char *s)
{
    csv_put_field(sb, s);
}

void sb_num(struct strbuf *sb, double v, int digits)
{
    if (isnan(v))
        return;
    sb_printf(sb, "%.*g", digits, v);
}

void sb_num_shortest(struct strbuf *sb, double v)
{
    char buf[FMT_DOUBLE_MAX];
    int n;

    if (isnan(v))
        return;
    n = fmt_double_shortest(buf, sizeof(buf), v);
    if (n > 0)
        sb_append(sb, buf, (size_t)n);
}

const char *sb_str(const struct strbuf *sb)
{
    return sb->buf ? sb->buf : "";
}

int sb_failed(const struct strbuf *sb)
{
    return sb->failed;
}
