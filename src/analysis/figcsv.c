/*
 * figcsv.c - see figcsv.h.  The file is read whole and parsed by util/csv.h over that buffer,
 * which decodes fields in place, so a load costs one read and one pointer per cell.
 */
#include "analysis/figcsv.h"

#include "util/csv.h"
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

int figcsv_load(const char *path, struct figcsv *t, char *err, size_t errlen)
{
    struct csv_reader r;
    size_t len = 0, rowcap = 0;
    int rc = -1, n;

    memset(t, 0, sizeof(*t));
    memset(&r, 0, sizeof(r));
    t->path = strdup(path);
    if (!t->path) {
        snprintf(err, errlen, "'%s': out of memory", path);
        return -1;
    }
    if (fs_read_file(path, &t->buf, &len, err, errlen) < 0)
        goto out;
    csv_init_buf(&r, t->buf, len, t->path); /* fields stay in t->buf */
    while ((n = csv_next(&r)) == CSV_RECORD) {
        if (r.nfields == 1 && r.f[0].n == 0)
            continue; /* a line holding only "" */
        if (!t->header) {
            t->ncols = r.nfields;
            t->header = malloc(r.nfields * sizeof(*t->header));
            if (!t->header)
                goto oom;
            for (size_t i = 0; i < r.nfields; i++)
                t->header[i] = r.f[i].s;
            continue;
        }
        if (r.nfields != t->ncols) {
            snprintf(err, errlen, "%s:%zu: %zu fields, the header has %zu", path, r.line, r.nfields,
                     t->ncols);
            goto out;
        }
        if (t->nrows == rowcap) {
            size_t ncap = rowcap ? rowcap * 2 : 64;
            char **nc = realloc(t->cells, ncap * t->ncols * sizeof(*nc));
            size_t *nl;

            if (!nc)
                goto oom;
            t->cells = nc;
            nl = realloc(t->lines, ncap * sizeof(*nl));
            if (!nl)
                goto oom;
            t->lines = nl;
            rowcap = ncap;
        }
        for (size_t i = 0; i < t->ncols; i++)
            t->cells[t->nrows * t->ncols + i] = r.f[i].s;
        t->lines[t->nrows++] = r.line;
    }
    if (n != CSV_EOF) {
        snprintf(err, errlen, "%s", r.err);
        goto out;
    }
    if (!t->header) {
        snprintf(err, errlen, "'%s': empty file (a header line is expected)", path);
        goto out;
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "'%s': out of memory", path);
out:
    csv_free(&r);
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
    const char *end;
    double d;

    while (*s == ' ')
        s++;
    if (*s == '\0')
        return 0;
    end = s + strlen(s);
    while (end > s && end[-1] == ' ')
        end--;
    if (csv_parse_double(s, (size_t)(end - s), &d)) {
        snprintf(err, errlen, "%s:%zu: column '%s': '%.40s' is not a finite number", t->path,
                 t->lines[r], t->header[c], figcsv_cell(t, r, c));
        return -1;
    }
    *v = d;
    return 1;
}
