/*
 * figcsv.c - see figcsv.h.  Fields are decoded in the file's own buffer: an unquoted field is
 * terminated where its separator was, a quoted one is copied down over its quotes (the decoded
 * text is never longer than the encoded one), so a load costs one read and one pointer per cell.
 */
#include "analysis/figcsv.h"

#include "util/fsutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void figcsv_free(struct figcsv *t)
{
    if (!t)
        return;
    free(t->path);
    free(t->buf);
    free(t->header);
    free(t->cells);
    free(t->lines);
    memset(t, 0, sizeof(*t));
}

/* Parses one record starting at *pos; the fields' pointers go to a growing array.  Returns the
 * number of fields, 0 for a blank line, -1 on a syntax error (message in err). */
static long parse_record(struct figcsv *t, size_t len, size_t *pos, size_t *line, char ***fields,
                         size_t *cap, char *err, size_t errlen)
{
    char *s = t->buf;
    size_t p = *pos, n = 0, start_line = *line;

    if (p < len && (s[p] == '\n' || (s[p] == '\r' && p + 1 < len && s[p + 1] == '\n'))) {
        *pos = p + (s[p] == '\r' ? 2 : 1);
        (*line)++;
        return 0;
    }
    for (;;) {
        char *field = s + p;
        size_t w = p;

        if (p < len && s[p] == '"') {
            p++;
            for (;;) {
                if (p >= len) {
                    snprintf(err, errlen, "'%s' line %zu: unterminated quoted field", t->path,
                             start_line);
                    return -1;
                }
                if (s[p] == '"') {
                    if (p + 1 < len && s[p + 1] == '"') {
                        s[w++] = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (s[p] == '\n')
                    (*line)++;
                s[w++] = s[p++];
            }
            if (p < len && s[p] != ',' && s[p] != '\n' && s[p] != '\r') {
                snprintf(err, errlen, "'%s' line %zu: character after a closing quote", t->path,
                         *line);
                return -1;
            }
        } else {
            while (p < len && s[p] != ',' && s[p] != '\n' && s[p] != '\r') {
                if (s[p] == '"') {
                    snprintf(err, errlen, "'%s' line %zu: quote inside an unquoted field", t->path,
                             *line);
                    return -1;
                }
                p++;
            }
            w = p;
        }
        if (n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 16;
            char **nf = realloc(*fields, ncap * sizeof(*nf));
            if (!nf) {
                snprintf(err, errlen, "'%s': out of memory", t->path);
                return -1;
            }
            *fields = nf;
            *cap = ncap;
        }
        (*fields)[n++] = field;
        if (p >= len) {
            s[w] = '\0'; /* the buffer has a NUL after the last byte */
            break;
        }
        if (s[p] == ',') {
            s[w] = '\0';
            p++;
            continue;
        }
        /* end of record: \n, \r\n or a lone \r */
        s[w] = '\0';
        if (s[p] == '\r' && p + 1 < len && s[p + 1] == '\n')
            p++;
        p++;
        (*line)++;
        break;
    }
    *pos = p;
    return (long)n;
}

int figcsv_load(const char *path, struct figcsv *t, char *err, size_t errlen)
{
    char **fields = NULL;
    size_t cap = 0, len = 0, pos = 0, line = 1, rowcap = 0;
    int rc = -1;

    memset(t, 0, sizeof(*t));
    t->path = strdup(path);
    if (!t->path) {
        snprintf(err, errlen, "'%s': out of memory", path);
        return -1;
    }
    if (fs_read_file(path, &t->buf, &len, err, errlen) < 0)
        goto out;
    if (len >= 3 && memcmp(t->buf, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* a UTF-8 byte-order mark, as spreadsheets write */
    while (pos < len) {
        size_t row_line = line;
        long n = parse_record(t, len, &pos, &line, &fields, &cap, err, errlen);

        if (n < 0)
            goto out;
        if (n == 0 || (n == 1 && fields[0][0] == '\0'))
            continue;
        if (!t->header) {
            t->ncols = (size_t)n;
            t->header = malloc((size_t)n * sizeof(*t->header));
            if (!t->header) {
                snprintf(err, errlen, "'%s': out of memory", path);
                goto out;
            }
            memcpy(t->header, fields, (size_t)n * sizeof(*fields));
            continue;
        }
        if ((size_t)n != t->ncols) {
            snprintf(err, errlen, "'%s' line %zu: %ld fields, the header has %zu", path, row_line,
                     n, t->ncols);
            goto out;
        }
        if (t->nrows == rowcap) {
            size_t ncap = rowcap ? rowcap * 2 : 64;
            char **nc = realloc(t->cells, ncap * t->ncols * sizeof(*nc));
            size_t *nl;

            if (!nc) {
                snprintf(err, errlen, "'%s': out of memory", path);
                goto out;
            }
            t->cells = nc;
            nl = realloc(t->lines, ncap * sizeof(*nl));
            if (!nl) {
                snprintf(err, errlen, "'%s': out of memory", path);
                goto out;
            }
            t->lines = nl;
            rowcap = ncap;
        }
        memcpy(t->cells + t->nrows * t->ncols, fields, t->ncols * sizeof(*fields));
        t->lines[t->nrows++] = row_line;
    }
    if (!t->header) {
        snprintf(err, errlen, "'%s': empty file (a header line is expected)", path);
        goto out;
    }
    rc = 0;
out:
    free(fields);
    if (rc < 0)
        figcsv_free(t);
    return rc;
}

int figcsv_col(const struct figcsv *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->header[i], name) == 0)
            return (int)i;
    return -1;
}

const char *figcsv_cell(const struct figcsv *t, size_t r, int c)
{
    if (c < 0 || (size_t)c >= t->ncols || r >= t->nrows)
        return "";
    return t->cells[r * t->ncols + (size_t)c];
}

int figcsv_num(const struct figcsv *t, size_t r, int c, double *v, char *err, size_t errlen)
{
    const char *s = figcsv_cell(t, r, c);
    char *end;
    double d;

    while (*s == ' ')
        s++;
    if (*s == '\0')
        return 0;
    errno = 0;
    d = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(d)) {
        snprintf(err, errlen, "'%s' line %zu, column '%s': '%.40s' is not a finite number", t->path,
                 t->lines[r], t->header[c], figcsv_cell(t, r, c));
        return -1;
    }
    *v = d;
    return 1;
}
