/*
 * strbuf.h - a growable string buffer for the tool (CSV rows, JSON documents, messages).
 * Out of memory is sticky: later appends do nothing and sb_failed() says so, so callers check once.
 */
#ifndef JB_SRC_UTIL_STRBUF_H
#define JB_SRC_UTIL_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *buf; /* always NUL-terminated once anything was appended; NULL before */
    size_t len;
    size_t cap;
    int failed;
};

#define STRBUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

void sb_free(struct strbuf *sb);
void sb_reset(struct strbuf *sb); /* len = 0, keeps the memory */
void sb_append(struct strbuf *sb, const char *s, size_t n);
void sb_puts(struct strbuf *sb, const char *s);
void sb_putc(struct strbuf *sb, char c);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a CSV field, quoted when it holds a comma, quote, CR or LF: csv_put_field of
 * util/csv.h, the writer's half of the one CSV reader/writer pair, under its older name. */
void sb_csv_field(struct strbuf *sb, const char *s);
/* Appends a number with up to `digits` significant digits, or nothing when v is NaN (an empty CSV
 * cell means unavailable). */
void sb_num(struct strbuf *sb, double v, int digits);
/* Appends v in its shortest form that reads back as v (fmt_double_shortest, util/numfmt.h: 0.4 is
 * "0.4"), or nothing when v is NaN. */
void sb_num_shortest(struct strbuf *sb, double v);
const char *sb_str(const struct strbuf *sb); /* "" when empty */
int sb_failed(const struct strbuf *sb);

#endif
