/*
 * rundir_read.c - run directories -> memory; see rundir_read.h.  The CSV files are our own format
 * (no quoted fields except metric names), so a plain split on ',' is enough; columns are found by
 * header name so added columns do not break old readers.  Not a writer.
 */
#include "analysis/rundir_read.h"

#include "analysis/fastnum.h"

#include "json.h"
#include "util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_COLS 32

void rd_warnf(rd_warn_fn warn, void *ctx, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    if (!warn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    warn(ctx, msg);
}

/* Splits line[0..len) at commas in place: f[i] is field i (NUL-terminated), fe[i] its end.  A
 * trailing '\r' is dropped.  Returns the field count, or -1 past max. */
static int split(char *line, size_t len, char **f, char **fe, int max)
{
    int n = 0;
    char *p = line, *end = line + len;

    if (len && end[-1] == '\r')
        *--end = '\0';
    for (;;) {
        char *c;
        if (n >= max)
            return -1;
        f[n] = p;
        c = memchr(p, ',', (size_t)(end - p));
        fe[n++] = c ? c : end;
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

static int col(char **hdr, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(hdr[i], name))
            return i;
    return -1;
}

struct rd_meter *rundir_meter(const struct rundir *rd, const char *id)
{
    for (size_t i = 0; i < rd->nmeters; i++)
        if (!strcmp(rd->meters[i].id, id))
            return &rd->meters[i];
    return NULL;
}

static struct rd_meter *add_meter(struct rundir *rd, const char *id)
{
    struct rd_meter *m = rundir_meter(rd, id);
    if (m)
        return m;
    m = realloc(rd->meters, (rd->nmeters + 1) * sizeof(*m));
    if (!m)
        return NULL;
    rd->meters = m;
    m = &rd->meters[rd->nmeters];
    memset(m, 0, sizeof(*m));
    m->id = strdup(id);
    m->kind = strdup(!strncmp(id, "gpu", 3)    ? "gpu"
                     : !strncmp(id, "cpu", 3)  ? "cpu"
                     : !strncmp(id, "dram", 4) ? "dram"
                                               : "other");
    m->idle_power_w = NAN;
    if (!m->id || !m->kind) {
        free(m->id);
        free(m->kind);
        return NULL;
    }
    rd->nmeters++;
    return m;
}

const struct rd_phase *rundir_phase(const struct rundir *rd, const char *phase, long index,
                                    const char *meter)
{
    for (size_t i = 0; i < rd->nphases; i++) {
        const struct rd_phase *p = &rd->phases[i];
        if (p->index == index && !strcmp(p->phase, phase) && !strcmp(p->meter, meter))
            return p;
    }
    return NULL;
}

const char *rundir_level(const struct rundir *rd, const char *key)
{
    for (size_t i = 0; i < rd->nlevels; i++)
        if (!strcmp(rd->keys[i], key))
            return rd->vals[i];
    return NULL;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 256;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * size);
    if (!q)
        return -1;
    *p = q;
    *cap = nc;
    return 0;
}

static int read_manifest(const char *dir, struct rundir *rd, char *err, size_t errlen)
{
    char path[4096], jerr[256];
    char *text = NULL;
    size_t len;
    struct jb_json *j = NULL;
    int rc = -1;

    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    if (!fs_exists(path)) {
        snprintf(err, errlen, "'%s' has no manifest.json: not a finished run", dir);
        return 1;
    }
    if (fs_read_file(path, &text, &len, err, errlen))
        return -1;
    if (jb__json_parse(text, len, &j, jerr, sizeof(jerr))) {
        snprintf(err, errlen, "%s: %s", path, jerr);
        rc = 1; /* a torn manifest means an unfinished run */
        goto out;
    }
    const char *status = jb__json_str(j, "status", NULL);
    if (!status || strcmp(status, "complete")) {
        snprintf(err, errlen, "'%s': manifest status is %s, not complete", dir,
                 status ? status : "missing");
        rc = 1;
        goto out;
    }
    const char *rid = jb__json_str(j, "run_id", NULL), *grid = jb__json_str(j, "grid", NULL);
    const char *slash = strrchr(dir, '/');
    rd->run_id = strdup(rid ? rid : slash ? slash + 1 : dir);
    rd->grid = grid ? strdup(grid) : NULL;
    rd->repeat = (long)jb__json_num(j, "repeat", -1);
    rd->command_start_s = jb__json_num(j, "command_start_s", NAN);
    const struct jb_json *lv = jb__json_get(j, "levels");
    if (lv && lv->type == JB_JSON_OBJECT && lv->n) {
        rd->keys = calloc(lv->n, sizeof(char *));
        rd->vals = calloc(lv->n, sizeof(char *));
        if (!rd->keys || !rd->vals)
            goto oom;
        for (size_t i = 0; i < lv->n; i++) {
            char numbuf[64];
            const char *v = "";
            if (lv->items[i]->type == JB_JSON_STRING)
                v = lv->items[i]->string;
            else if (lv->items[i]->type == JB_JSON_NUMBER) {
                snprintf(numbuf, sizeof(numbuf), "%.15g", lv->items[i]->number);
                v = numbuf;
            }
            rd->keys[i] = strdup(lv->keys[i]);
            rd->vals[i] = strdup(v);
            rd->nlevels++;
            if (!rd->keys[i] || !rd->vals[i])
                goto oom;
        }
    }
    const struct jb_json *ms = jb__json_get(j, "meters");
    if (ms && ms->type == JB_JSON_ARRAY)
        for (size_t i = 0; i < ms->n; i++) {
            const char *id = jb__json_str(ms->items[i], "id", NULL);
            if (!id)
                continue;
            struct rd_meter *m = add_meter(rd, id);
            if (!m)
                goto oom;
            const char *kind = jb__json_str(ms->items[i], "kind", NULL);
            const char *es = jb__json_str(ms->items[i], "energy_source", NULL);
            if (kind) {
                free(m->kind);
                m->kind = strdup(kind);
            }
            if (es)
                m->energy_source = strdup(es);
        }
    const struct jb_json *idle = jb__json_get(j, "idle");
    const struct jb_json *im = idle ? jb__json_get(idle, "meters") : NULL;
    if (im && im->type == JB_JSON_OBJECT)
        for (size_t i = 0; i < im->n; i++) {
            struct rd_meter *m = rundir_meter(rd, im->keys[i]);
            if (m)
                m->idle_power_w = jb__json_num(im->items[i], "avg_power_w", NAN);
        }
    if (!rd->run_id)
        goto oom;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
    rc = -1;
out:
    jb__json_free(j);
    free(text);
    return rc;
}

/* Calls row(ctx, fields, n, line) for each data line of dir/name after checking the header has
 * the columns the caller maps.  Missing file: 0 with nothing read. */
struct csv_ctx {
    struct rundir *rd;
    int strict;
    rd_warn_fn warn;
    void *wctx;
    const char *path;
    int c[MAX_COLS];
    char **fe; /* the current row's field ends (split) */
    size_t phase_cap, metric_cap;
};

/* Column i of the caller's mapping in the current row as a number; empty -> NaN (unavailable).
 * Returns 0 or -1. */
static int numc(const struct csv_ctx *cc, char **f, int i, double *out)
{
    const char *s = f[cc->c[i]], *e = cc->fe[cc->c[i]];

    if (s == e) {
        *out = NAN;
        return 0;
    }
    return fastnum_parse(s, e, out);
}

static int read_csv(const char *dir, const char *name, const char *const *want, int nwant,
                    struct csv_ctx *cc, int (*row)(struct csv_ctx *, char **, int), char *err,
                    size_t errlen)
{
    char path[4096];
    char *text = NULL, *p;
    size_t len, line = 0;
    int rc = -1, nh = 0;
    char *hdr[MAX_COLS];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (!fs_exists(path))
        return 0;
    if (fs_read_file(path, &text, &len, err, errlen))
        return -1;
    cc->path = path;
    p = text;
    while (p && p < text + len) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        char *l = p, *lend = nl ? nl : text + len;
        char *f[MAX_COLS], *fe[MAX_COLS];
        *lend = '\0';
        p = nl ? nl + 1 : NULL;
        line++;
        if (l == lend)
            continue;
        if (nh == 0) {
            nh = split(l, (size_t)(lend - l), hdr, fe, MAX_COLS);
            if (nh < 0) {
                snprintf(err, errlen, "%s:1: too many columns", path);
                goto out;
            }
            for (int i = 0; i < nwant; i++) {
                cc->c[i] = col(hdr, nh, want[i]);
                if (cc->c[i] < 0) {
                    snprintf(err, errlen, "%s:1: no column '%s'", path, want[i]);
                    goto out;
                }
            }
            continue;
        }
        int n = split(l, (size_t)(lend - l), f, fe, MAX_COLS);
        int r;
        cc->fe = fe;
        r = n == nh ? row(cc, f, n) : 1;
        if (r < 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto out;
        }
        if (r > 0) {
            cc->rd->bad_rows++;
            if (cc->strict) {
                snprintf(err, errlen,
                         "%s:%zu: malformed row (%d fields, want %d, or a field "
                         "that is not a number)",
                         path, line, n, nh);
                goto out;
            }
            rd_warnf(cc->warn, cc->wctx,
                     "%s:%zu: malformed row (%d fields, want %d, or a field "
                     "that is not a number); skipped",
                     path, line, n, nh);
        }
    }
    rc = 0;
out:
    free(text);
    return rc;
}

/* t_s,meter,power_w,energy_j,temp_c,util_pct */
static int sample_row(struct csv_ctx *cc, char **f, int n)
{
    double t, p, e, temp, util;
    (void)n;
    if (numc(cc, f, 0, &t) || isnan(t) || numc(cc, f, 2, &p) || numc(cc, f, 3, &e) ||
        numc(cc, f, 4, &temp) || numc(cc, f, 5, &util) || !*f[cc->c[1]])
        return 1;
    struct rd_meter *m = add_meter(cc->rd, f[cc->c[1]]);
    if (!m)
        return -1;
    if (!isnan(e)) {
        size_t old = m->ccap;
        if (grow((void **)&m->ct, &m->ccap, m->nc + 1, sizeof(double)))
            return -1;
        if (m->ccap != old) { /* ct and ce share the capacity */
            double *ce = realloc(m->ce, m->ccap * sizeof(double));
            if (!ce)
                return -1;
            m->ce = ce;
        }
        m->ct[m->nc] = t;
        m->ce[m->nc] = e;
        m->nc++;
        if (isnan(p) && isnan(temp) && isnan(util))
            return 0;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        double *a = realloc(m->t, cap * sizeof(double));
        if (!a)
            return -1;
        m->t = a;
        a = realloc(m->power, cap * sizeof(double));
        if (!a)
            return -1;
        m->power = a;
        a = realloc(m->temp, cap * sizeof(double));
        if (!a)
            return -1;
        m->temp = a;
        a = realloc(m->util, cap * sizeof(double));
        if (!a)
            return -1;
        m->util = a;
        m->cap = cap;
    }
    m->t[m->n] = t;
    m->power[m->n] = p;
    m->temp[m->n] = temp;
    m->util[m->n] = util;
    m->n++;
    return 0;
}

/* phase,index,meter,t_begin_s,t_end_s,duration_s,energy_j,energy_j_power,avg_power_w,items */
static int phase_row(struct csv_ctx *cc, char **f, int n)
{
    struct rd_phase ph;
    char *end;
    double v[7];
    (void)n;
    errno = 0;
    ph.index = strtol(f[cc->c[1]], &end, 10);
    if (*end || errno || end == f[cc->c[1]] || !*f[cc->c[0]] || !*f[cc->c[2]])
        return 1;
    for (int i = 0; i < 7; i++)
        if (numc(cc, f, 3 + i, &v[i]))
            return 1;
    if (isnan(v[0]) || isnan(v[1]))
        return 1;
    ph.t_begin = v[0];
    ph.t_end = v[1];
    ph.duration = v[2];
    ph.energy_j = v[3];
    ph.energy_j_power = v[4];
    ph.avg_power_w = v[5];
    ph.items = v[6];
    if (grow((void **)&cc->rd->phases, &cc->phase_cap, cc->rd->nphases + 1, sizeof(ph)))
        return -1;
    ph.phase = strdup(f[cc->c[0]]);
    ph.meter = strdup(f[cc->c[2]]);
    if (!ph.phase || !ph.meter) {
        free(ph.phase);
        free(ph.meter);
        return -1;
    }
    cc->rd->phases[cc->rd->nphases++] = ph;
    return 0;
}

/* phase,index,name,value */
static int metric_row(struct csv_ctx *cc, char **f, int n)
{
    struct rd_metric m;
    char *end;
    (void)n;
    errno = 0;
    m.index = strtol(f[cc->c[1]], &end, 10);
    if (*end || errno || end == f[cc->c[1]] || numc(cc, f, 3, &m.value) || isnan(m.value))
        return 1;
    if (grow((void **)&cc->rd->metrics, &cc->metric_cap, cc->rd->nmetrics + 1, sizeof(m)))
        return -1;
    m.phase = strdup(f[cc->c[0]]);
    m.name = strdup(f[cc->c[2]]);
    if (!m.phase || !m.name) {
        free(m.phase);
        free(m.name);
        return -1;
    }
    cc->rd->metrics[cc->rd->nmetrics++] = m;
    return 0;
}

int rundir_read(const char *dir, int with_samples, int strict, struct rundir *rd, rd_warn_fn warn,
                void *ctx, char *err, size_t errlen)
{
    static const char *const sw[] = {"t_s", "meter", "power_w", "energy_j", "temp_c", "util_pct"};
    static const char *const pw[] = {"phase",       "index",      "meter",    "t_begin_s",
                                     "t_end_s",     "duration_s", "energy_j", "energy_j_power",
                                     "avg_power_w", "items"};
    static const char *const mw[] = {"phase", "index", "name", "value"};
    struct csv_ctx cc;
    int rc;

    memset(rd, 0, sizeof(*rd));
    rd->repeat = -1;
    rd->dir = strdup(dir);
    if (!rd->dir) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rc = read_manifest(dir, rd, err, errlen);
    if (rc)
        return rc;
    memset(&cc, 0, sizeof(cc));
    cc.rd = rd;
    cc.strict = strict;
    cc.warn = warn;
    cc.wctx = ctx;
    if (with_samples && read_csv(dir, "samples.csv", sw, 6, &cc, sample_row, err, errlen))
        return -1;
    if (read_csv(dir, "phases.csv", pw, 10, &cc, phase_row, err, errlen))
        return -1;
    if (read_csv(dir, "metrics.csv", mw, 4, &cc, metric_row, err, errlen))
        return -1;
    return 0;
}

void rundir_free(struct rundir *rd)
{
    if (!rd)
        return;
    free(rd->dir);
    free(rd->run_id);
    free(rd->grid);
    for (size_t i = 0; i < rd->nlevels; i++) {
        free(rd->keys[i]);
        free(rd->vals[i]);
    }
    free(rd->keys);
    free(rd->vals);
    for (size_t i = 0; i < rd->nmeters; i++) {
        struct rd_meter *m = &rd->meters[i];
        free(m->id);
        free(m->kind);
        free(m->energy_source);
        free(m->t);
        free(m->power);
        free(m->temp);
        free(m->util);
        free(m->ct);
        free(m->ce);
    }
    free(rd->meters);
    for (size_t i = 0; i < rd->nphases; i++) {
        free(rd->phases[i].phase);
        free(rd->phases[i].meter);
    }
    free(rd->phases);
    for (size_t i = 0; i < rd->nmetrics; i++) {
        free(rd->metrics[i].phase);
        free(rd->metrics[i].name);
    }
    free(rd->metrics);
    memset(rd, 0, sizeof(*rd));
}

struct dirlist {
    char **v;
    size_t n, cap;
};

static int is_rundir(const char *dir)
{
    static const char *const marks[] = {"manifest.json", "samples.csv", "phases.csv"};
    char path[4096];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, marks[i]);
        if (fs_exists(path))
            return 1;
    }
    return 0;
}

static int walk(const char *dir, struct dirlist *dl, int depth)
{
    DIR *d;
    struct dirent *de;
    if (is_rundir(dir)) {
        if (grow((void **)&dl->v, &dl->cap, dl->n + 1, sizeof(char *)))
            return -1;
        dl->v[dl->n] = strdup(dir);
        if (!dl->v[dl->n])
            return -1;
        dl->n++;
        return 0;
    }
    if (depth > 6 || !(d = opendir(dir)))
        return 0;
    while ((de = readdir(d))) {
        char path[4096];
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (stat(path, &st) || !S_ISDIR(st.st_mode))
            continue;
        if (walk(path, dl, depth + 1)) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int rundir_find(const char *root, char ***dirs, size_t *n, char *err, size_t errlen)
{
    struct dirlist dl = {0};
    struct stat st;
    if (stat(root, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "'%s' is not a folder", root);
        return -1;
    }
    if (walk(root, &dl, 0)) {
        for (size_t i = 0; i < dl.n; i++)
            free(dl.v[i]);
        free(dl.v);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (dl.n)
        qsort(dl.v, dl.n, sizeof(char *), cmp_str);
    *dirs = dl.v;
    *n = dl.n;
    return 0;
}
