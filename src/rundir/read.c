/*
 * rundir/read.c - run directories -> memory; see read.h.  The CSV files are read with util/csv.h
 * (RFC 4180: the quoted phase and metric names the writer produces read back as written), streamed
 * through a FILE opened as a regular file only; columns are found by header name so added columns
 * do not break old readers, and numbers must be finite decimals.  Not a writer.
 */
#include "rundir/read.h"

#include "joulebench.h"
#include "json.h"
#include "util/csv.h"
#include "util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- rows of one CSV file ----------------------------------------------------------------- */

struct rowread {
    const char *path;
    const struct rd_col *cols;
    size_t ncols;
    int map[RD_MAX_COLS]; /* header index of each column, or -1 */
    size_t nh;            /* header columns */
    size_t bad;           /* malformed rows of this file */
    char first[600];      /* the first one's message */
};

/* Fills row from the reader's record.  Returns 0, or 1 with why in msg (a malformed row). */
static int typed_row(const struct rowread *rr, const struct csv_reader *r, struct rd_row *row,
                     char *msg, size_t msglen)
{
    if (r->nfields != rr->nh) {
        snprintf(msg, msglen, "%s:%zu: %zu fields, the header has %zu", rr->path, r->line,
                 r->nfields, rr->nh);
        return 1;
    }
    row->line = r->line;
    row->present = 0;
    for (size_t i = 0; i < rr->ncols; i++) {
        const struct rd_col *c = &rr->cols[i];
        const struct csv_field *f = rr->map[i] >= 0 ? &r->f[rr->map[i]] : NULL;
        size_t n = f ? f->n : 0;
        const char *s = f ? f->s : "";
        char *end;

        if (f)
            row->present |= 1u << i;
        row->text[i] = "";
        row->num[i] = NAN;
        row->idx[i] = 0;
        if (n == 0) {
            if (c->need == RD_REQ) {
                snprintf(msg, msglen, "%s:%zu: column '%s' is empty", rr->path, r->line, c->name);
                return 1;
            }
            continue;
        }
        if (r->nul && strlen(s) != n) {
            snprintf(msg, msglen, "%s:%zu: column '%s' holds a NUL byte", rr->path, r->line,
                     c->name);
            return 1;
        }
        switch (c->type) {
        case RD_TEXT: row->text[i] = s; break;
        case RD_NUM:
            if (csv_parse_double(s, n, &row->num[i])) {
                snprintf(msg, msglen, "%s:%zu: column '%s': '%.40s' is not a finite number",
                         rr->path, r->line, c->name, s);
                return 1;
            }
            break;
        default:
            errno = 0;
            row->idx[i] = strtol(s, &end, 10);
            if (*end || errno || end == s) {
                snprintf(msg, msglen, "%s:%zu: column '%s': '%.40s' is not an integer", rr->path,
                         r->line, c->name, s);
                return 1;
            }
        }
    }
    return 0;
}

static int map_header(struct rowread *rr, const struct csv_reader *r, char *err, size_t errlen)
{
    struct csv_header h;
    int hr = csv_header_set(&h, r, err, errlen);

    if (hr == -1)
        snprintf(err, errlen, "%s: out of memory", rr->path);
    if (hr)
        return -1;
    rr->nh = h.n;
    for (size_t i = 0; i < rr->ncols; i++) {
        rr->map[i] = csv_header_find(&h, rr->cols[i].name);
        if (rr->map[i] < 0 && rr->cols[i].need != RD_OPT) {
            snprintf(err, errlen, "%s:%zu: no column '%s'", rr->path, r->line, rr->cols[i].name);
            csv_header_free(&h);
            return -1;
        }
    }
    csv_header_free(&h);
    return 0;
}

/* A malformed row: counted, its message kept when it is the first.  Returns -1 when strict. */
static int bad_row(struct rowread *rr, const char *msg, int strict, char *err, size_t errlen)
{
    if (strict) {
        snprintf(err, errlen, "%s (malformed row)", msg);
        return -1;
    }
    if (rr->bad++ == 0)
        snprintf(rr->first, sizeof(rr->first), "%s", msg);
    return 0;
}

int rundir_read_csv(const char *path, const struct rd_col *cols, size_t ncols, int strict,
                    rd_row_fn fn, void *fctx, size_t *bad_rows, rd_warn_fn warn, void *wctx,
                    char *err, size_t errlen)
{
    struct rowread rr;
    struct csv_reader r;
    struct rd_row row;
    FILE *fp = NULL;
    int fd, rc = -1, have_header = 0;

    if (ncols > RD_MAX_COLS) {
        snprintf(err, errlen, "%s: %zu columns asked for, at most %d", path, ncols, RD_MAX_COLS);
        return -1;
    }
    if (!fs_exists(path))
        return 0;
    fd = fs_open_regular(path, FS_READ_MAX, NULL, err, errlen);
    if (fd < 0)
        return -1;
    fp = fdopen(fd, "r");
    if (!fp) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    memset(&rr, 0, sizeof(rr));
    rr.path = path;
    rr.cols = cols;
    rr.ncols = ncols;
    csv_init_file(&r, fp, path);
    for (;;) {
        char msg[600];
        int n = csv_next(&r), fr;

        if (n == CSV_EOF)
            break;
        if (n == CSV_FATAL) {
            snprintf(err, errlen, "%s", r.err);
            goto out;
        }
        if (n == CSV_BAD) {
            if (!have_header) { /* nothing can be read without the header */
                snprintf(err, errlen, "%s (in the header)", r.err);
                goto out;
            }
            if (bad_row(&rr, r.err, strict, err, errlen))
                goto out;
            continue;
        }
        if (!have_header) {
            if (map_header(&rr, &r, err, errlen))
                goto out;
            have_header = 1;
            continue;
        }
        if (typed_row(&rr, &r, &row, msg, sizeof(msg))) {
            if (bad_row(&rr, msg, strict, err, errlen))
                goto out;
            continue;
        }
        fr = fn(fctx, &row, err, errlen);
        if (fr < 0)
            goto out;
        if (fr > 0) {
            snprintf(msg, sizeof(msg), "%s:%zu: %s", path, r.line, err);
            if (bad_row(&rr, msg, strict, err, errlen))
                goto out;
        }
    }
    rc = 0;
out:
    csv_free(&r);
    fclose(fp);
    if (bad_rows)
        *bad_rows += rr.bad;
    if (rr.bad)
        rd_warnf(warn, wctx, "%s: %zu malformed row%s skipped (the first: %s)", path, rr.bad,
                 rr.bad == 1 ? "" : "s", rr.first);
    return rc;
}

/* ---- samples, phases, metrics ------------------------------------------------------------- */

struct fill {
    struct rundir *rd;
    size_t phase_cap, metric_cap;
};

static int grow_samples(struct rd_meter *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    double **arr[] = {&m->t, &m->power, &m->temp, &m->util};
    for (size_t i = 0; i < 4; i++) {
        double *a = realloc(*arr[i], cap * sizeof(double));
        if (!a)
            return -1;
        *arr[i] = a;
    }
    m->cap = cap;
    return 0;
}

/* t_s,meter,power_w,energy_j,temp_c,util_pct */
static int sample_row(void *ctx, const struct rd_row *r, char *err, size_t errlen)
{
    struct fill *fl = ctx;
    double t = r->num[0], p = r->num[2], e = r->num[3], temp = r->num[4], util = r->num[5];
    struct rd_meter *m = add_meter(fl->rd, r->text[1]);

    if (!m)
        goto oom;
    if (!isnan(e)) {
        size_t old = m->ccap;
        if (grow((void **)&m->ct, &m->ccap, m->nc + 1, sizeof(double)))
            goto oom;
        if (m->ccap != old) { /* ct and ce share the capacity */
            double *ce = realloc(m->ce, m->ccap * sizeof(double));
            if (!ce)
                goto oom;
            m->ce = ce;
        }
        m->ct[m->nc] = t;
        m->ce[m->nc] = e;
        m->nc++;
        if (isnan(p) && isnan(temp) && isnan(util))
            return 0;
    }
    if (m->n == m->cap && grow_samples(m))
        goto oom;
    m->t[m->n] = t;
    m->power[m->n] = p;
    m->temp[m->n] = temp;
    m->util[m->n] = util;
    m->n++;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

unsigned rd_parse_flags(const char *cell)
{
    unsigned flags = 0;
    const char *s = cell;

    while (s && *s) {
        const char *e = strchr(s, '|');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        for (unsigned b = 0; b < 32; b++) {
            const char *name = jb_phase_flag_name(1u << b);
            if (name && strlen(name) == n && !strncmp(name, s, n))
                flags |= 1u << b;
        }
        s = e ? e + 1 : NULL;
    }
    return flags;
}

/* phase,index,meter,t_begin_s,t_end_s,duration_s,energy_j,energy_j_power,avg_power_w,items,
 * and (optional, 0.2) energy_j_lo,energy_j_hi,power_rel_diff,flags */
static int phase_row(void *ctx, const struct rd_row *r, char *err, size_t errlen)
{
    struct fill *fl = ctx;
    struct rd_phase ph;

    ph.index = r->idx[1];
    ph.t_begin = r->num[3];
    ph.t_end = r->num[4];
    ph.duration = r->num[5];
    ph.energy_j = r->num[6];
    ph.energy_j_power = r->num[7];
    ph.avg_power_w = r->num[8];
    ph.items = r->num[9];
    ph.energy_j_lo = r->num[10];
    ph.energy_j_hi = r->num[11];
    ph.power_rel_diff = r->num[12];
    ph.flags = rd_parse_flags(r->text[13]);
    if (r->present & (1u << 13))
        fl->rd->has_flags = 1;
    if (grow((void **)&fl->rd->phases, &fl->phase_cap, fl->rd->nphases + 1, sizeof(ph)))
        goto oom;
    ph.phase = strdup(r->text[0]);
    ph.meter = strdup(r->text[2]);
    if (!ph.phase || !ph.meter) {
        free(ph.phase);
        free(ph.meter);
        goto oom;
    }
    fl->rd->phases[fl->rd->nphases++] = ph;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* phase,index,name,value */
static int metric_row(void *ctx, const struct rd_row *r, char *err, size_t errlen)
{
    struct fill *fl = ctx;
    struct rd_metric m;

    m.index = r->idx[1];
    m.value = r->num[3];
    if (grow((void **)&fl->rd->metrics, &fl->metric_cap, fl->rd->nmetrics + 1, sizeof(m)))
        goto oom;
    m.phase = strdup(r->text[0]);
    m.name = strdup(r->text[2]);
    if (!m.phase || !m.name) {
        free(m.phase);
        free(m.name);
        goto oom;
    }
    fl->rd->metrics[fl->rd->nmetrics++] = m;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* The columns each file must have (docs/run-directory.md); any others are ignored. */
static const struct rd_col sample_cols[] = {
    {"t_s", RD_NUM, RD_REQ},      {"meter", RD_TEXT, RD_REQ}, {"power_w", RD_NUM, RD_HDR},
    {"energy_j", RD_NUM, RD_HDR}, {"temp_c", RD_NUM, RD_HDR}, {"util_pct", RD_NUM, RD_HDR}};
static const struct rd_col phase_cols[] = {
    {"phase", RD_TEXT, RD_REQ},         {"index", RD_INT, RD_REQ},
    {"meter", RD_TEXT, RD_REQ},         {"t_begin_s", RD_NUM, RD_REQ},
    {"t_end_s", RD_NUM, RD_REQ},        {"duration_s", RD_NUM, RD_HDR},
    {"energy_j", RD_NUM, RD_HDR},       {"energy_j_power", RD_NUM, RD_HDR},
    {"avg_power_w", RD_NUM, RD_HDR},    {"items", RD_NUM, RD_HDR},
    {"energy_j_lo", RD_NUM, RD_OPT},    {"energy_j_hi", RD_NUM, RD_OPT},
    {"power_rel_diff", RD_NUM, RD_OPT}, {"flags", RD_TEXT, RD_OPT}};
static const struct rd_col metric_cols[] = {{"phase", RD_TEXT, RD_HDR},
                                            {"index", RD_INT, RD_REQ},
                                            {"name", RD_TEXT, RD_HDR},
                                            {"value", RD_NUM, RD_REQ}};

static int read_one(const char *dir, const char *name, const struct rd_col *cols, size_t ncols,
                    rd_row_fn fn, struct fill *fl, int strict, rd_warn_fn warn, void *ctx,
                    char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return rundir_read_csv(path, cols, ncols, strict, fn, fl, &fl->rd->bad_rows, warn, ctx, err,
                           errlen);
}

int rundir_read(const char *dir, int with_samples, int strict, struct rundir *rd, rd_warn_fn warn,
                void *ctx, char *err, size_t errlen)
{
    struct fill fl;
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
    memset(&fl, 0, sizeof(fl));
    fl.rd = rd;
    if (with_samples && read_one(dir, "samples.csv", sample_cols, 6, sample_row, &fl, strict, warn,
                                 ctx, err, errlen))
        return -1;
    if (read_one(dir, "phases.csv", phase_cols, sizeof(phase_cols) / sizeof(phase_cols[0]),
                 phase_row, &fl, strict, warn, ctx, err, errlen))
        return -1;
    if (read_one(dir, "metrics.csv", metric_cols, 4, metric_row, &fl, strict, warn, ctx, err,
                 errlen))
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
