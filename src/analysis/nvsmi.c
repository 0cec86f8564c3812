/*
 * nvsmi.c - parsers for nvidia-smi --query-gpu CSV logs and the reference study's `;`-separated
 * per-epoch metric files.  See nvsmi.h for the accepted forms.  Pure parsing over a buffer: no
 * I/O, no printing, so the fuzz target can drive it directly.  Not a run-directory writer.
 */
#include "analysis/nvsmi.h"

#include "analysis/fastnum.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 64

enum { F_TIMESTAMP = -2, F_INDEX = -3, F_OTHER = -1 };

static const struct {
    const char *name;
    int value;
} field_names[] = {
    {"power.draw", NVV_POWER_W},
    {"power.draw.average", NVV_POWER_W},
    {"power.draw.instant", NVV_POWER_INSTANT_W},
    {"temperature.gpu", NVV_TEMP_C},
    {"utilization.gpu", NVV_UTIL_PCT},
    {"utilization.memory", NVV_MEM_UTIL_PCT},
    {"memory.used", NVV_MEM_USED_MIB},
    {"clocks.sm", NVV_SM_CLOCK_MHZ},
    {"clocks.current.sm", NVV_SM_CLOCK_MHZ},
    {"clocks.mem", NVV_MEM_CLOCK_MHZ},
    {"clocks.current.memory", NVV_MEM_CLOCK_MHZ},
};

static const char *const study_fields = "timestamp,power.draw,temperature.gpu,memory.used,"
                                        "utilization.gpu,utilization.memory";

int nvsmi_field_value(const char *field)
{
    for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++)
        if (!strcmp(field, field_names[i].name))
            return field_names[i].value;
    return -1;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Trims [*b, *e) of blanks and CR. */
static void trim(const char **b, const char **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t' || **b == '\r'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

/* Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

/* Reads exactly n digits at *p. */
static int digits(const char **p, const char *e, int n, long *out)
{
    long v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= e || !isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

int nvsmi_parse_time(const char *s, size_t len, double *out)
{
    const char *p = s, *e = s + len;
    long y, mo, d, h, mi, sec;

    trim(&p, &e);
    if (digits(&p, e, 4, &y) || p >= e || (*p != '/' && *p != '-'))
        return -1;
    p++;
    if (digits(&p, e, 2, &mo) || p >= e || (*p != '/' && *p != '-'))
        return -1;
    p++;
    if (digits(&p, e, 2, &d) || p >= e || (*p != ' ' && *p != 'T'))
        return -1;
    p++;
    if (digits(&p, e, 2, &h) || p >= e || *p != ':')
        return -1;
    p++;
    if (digits(&p, e, 2, &mi) || p >= e || *p != ':')
        return -1;
    p++;
    if (digits(&p, e, 2, &sec))
        return -1;
    double frac = 0.0, scale = 0.1;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || !isdigit((unsigned char)*p))
            return -1;
        while (p < e && isdigit((unsigned char)*p)) {
            frac += (*p - '0') * scale;
            scale /= 10.0;
            p++;
        }
    }
    if (p != e || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    long long days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *out = (double)(days * 86400 + h * 3600 + mi * 60 + sec) + frac;
    return 0;
}

/* A gauge value: blank, "[...]" and "N/A" are unavailable; otherwise a number, optionally
 * followed by a unit ("W", "%", "MiB", "MHz", "C").  Returns 0 or -1 (garbage). */
static int parse_value(const char *b, const char *e, double *out)
{
    const char *q;

    trim(&b, &e);
    if (b == e || *b == '[' || (e - b == 3 && !strncmp(b, "N/A", 3))) {
        *out = NAN;
        return 0;
    }
    /* The number, then optionally blanks and a unit made of letters or '%'. */
    for (q = b; q < e && (isdigit((unsigned char)*q) || *q == '.' || *q == '-' || *q == '+'); q++)
        ;
    const char *u = q;
    while (u < e && *u == ' ')
        u++;
    for (; u < e; u++)
        if (!isalpha((unsigned char)*u) && *u != '%')
            return -1;
    if (q == b || fastnum_parse(b, q, out) || !isfinite(*out))
        return -1;
    return 0;
}

/* Maps a header or --fields name ("power.draw [W]" too) to F_* or a gauge. */
static int map_field(const char *b, const char *e)
{
    char name[64];
    trim(&b, &e);
    const char *br = memchr(b, '[', (size_t)(e - b));
    if (br)
        e = br;
    trim(&b, &e);
    if ((size_t)(e - b) >= sizeof(name))
        return F_OTHER;
    memcpy(name, b, (size_t)(e - b));
    name[e - b] = '\0';
    if (!strcmp(name, "timestamp"))
        return F_TIMESTAMP;
    if (!strcmp(name, "index"))
        return F_INDEX;
    int v = nvsmi_field_value(name);
    return v >= 0 ? v : F_OTHER;
}

static int split_fields(const char *b, const char *e, char sep, const char **fb, const char **fe,
                        int max)
{
    int n = 0;
    const char *p = b;
    for (;;) {
        const char *q = memchr(p, sep, (size_t)(e - p));
        if (n >= max)
            return -1;
        fb[n] = p;
        fe[n] = q ? q : e;
        n++;
        if (!q)
            break;
        p = q + 1;
    }
    return n;
}

static int push_row(struct nvsmi_log *log, const struct nvsmi_row *r)
{
    if (log->n == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 1024;
        struct nvsmi_row *rows = realloc(log->rows, cap * sizeof(*rows));
        if (!rows)
            return -1;
        log->rows = rows;
        log->cap = cap;
    }
    log->rows[log->n++] = *r;
    return 0;
}

/* Reports a malformed row; returns -1 when strict (err then holds the message). */
static int bad_row(const char *name, size_t line, int strict, nvsmi_warn_fn warn, void *ctx,
                   char *err, size_t errlen, size_t *bad, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));
static int bad_row(const char *name, size_t line, int strict, nvsmi_warn_fn warn, void *ctx,
                   char *err, size_t errlen, size_t *bad, const char *fmt, ...)
{
    char what[256], msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(msg, sizeof(msg), "%s:%zu: %s", name, line, what);
    (*bad)++;
    if (strict) {
        set_err(err, errlen, "%s", msg);
        return -1;
    }
    if (warn)
        warn(ctx, msg);
    return 0;
}

static int set_layout(const char *b, const char *e, int *map, int *nmap, char **names,
                      size_t namelen, int *ts_col)
{
    const char *fb[MAX_FIELDS], *fe[MAX_FIELDS];
    int n = split_fields(b, e, ',', fb, fe, MAX_FIELDS);
    if (n < 0)
        return -1;
    *ts_col = -1;
    for (int i = 0; i < n; i++) {
        map[i] = map_field(fb[i], fe[i]);
        if (map[i] == F_TIMESTAMP && *ts_col < 0)
            *ts_col = i;
        const char *nb = fb[i], *ne = fe[i];
        trim(&nb, &ne);
        size_t l = (size_t)(ne - nb) < namelen - 1 ? (size_t)(ne - nb) : namelen - 1;
        memcpy(names[i], nb, l);
        names[i][l] = '\0';
    }
    *nmap = n;
    return 0;
}

int nvsmi_parse(const char *text, size_t len, const char *name, const char *fields, int strict,
                struct nvsmi_log *log, nvsmi_warn_fn warn, void *ctx, char *err, size_t errlen)
{
    int map[MAX_FIELDS], nmap = 0, ts_col = -1, have_layout = 0;
    char namebuf[MAX_FIELDS][48];
    char *names[MAX_FIELDS];
    const char *p = text, *end = text + len;
    size_t line = 0;
    double last_t = -INFINITY;

    for (int i = 0; i < MAX_FIELDS; i++)
        names[i] = namebuf[i];
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) /* a UTF-8 byte-order mark */
        p += 3;
    if (fields) {
        if (set_layout(fields, fields + strlen(fields), map, &nmap, names, sizeof(namebuf[0]),
                       &ts_col)) {
            set_err(err, errlen, "%s: too many fields in '%s'", name, fields);
            return -1;
        }
        have_layout = 1;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *b = p, *e = nl ? nl : end;
        p = nl ? nl + 1 : end;
        line++;
        trim(&b, &e);
        if (b == e)
            continue;
        if (!have_layout) {
            have_layout = 1;
            if (!isdigit((unsigned char)*b)) { /* a header line */
                if (set_layout(b, e, map, &nmap, names, sizeof(namebuf[0]), &ts_col)) {
                    set_err(err, errlen, "%s:%zu: too many fields in the header", name, line);
                    return -1;
                }
                continue;
            }
            set_layout(study_fields, study_fields + strlen(study_fields), map, &nmap, names,
                       sizeof(namebuf[0]), &ts_col);
        }
        if (ts_col < 0) {
            set_err(err, errlen,
                    "%s: no 'timestamp' field (log with --query-gpu=timestamp,... or name the "
                    "fields of a header-less log with --fields)",
                    name);
            return -1;
        }
        if (!isdigit((unsigned char)*b) && e - b >= 9 && !strncmp(b, "timestamp", 9))
            continue; /* a repeated header (a log appended to) */
        const char *fb[MAX_FIELDS], *fe[MAX_FIELDS];
        int n = split_fields(b, e, ',', fb, fe, MAX_FIELDS);
        if (n != nmap) {
            if (bad_row(name, line, strict, warn, ctx, err, errlen, &log->bad_rows,
                        "%d fields, want %d (truncated or mixed row); skipped",
                        n < 0 ? MAX_FIELDS : n, nmap))
                return -1;
            continue;
        }
        struct nvsmi_row r;
        int ok = 1;
        r.gpu = 0;
        for (int k = 0; k < NVV_COUNT; k++)
            r.v[k] = NAN;
        if (nvsmi_parse_time(fb[ts_col], (size_t)(fe[ts_col] - fb[ts_col]), &r.t_abs_s)) {
            if (bad_row(name, line, strict, warn, ctx, err, errlen, &log->bad_rows,
                        "field 'timestamp': not a time 'YYYY/MM/DD HH:MM:SS.mmm'; skipped"))
                return -1;
            continue;
        }
        for (int i = 0; i < n && ok; i++) {
            double v;
            if (map[i] == F_TIMESTAMP || map[i] == F_OTHER)
                continue;
            if (parse_value(fb[i], fe[i], &v)) {
                ok = 0;
                if (bad_row(name, line, strict, warn, ctx, err, errlen, &log->bad_rows,
                            "field '%s': not a number; skipped", names[i]))
                    return -1;
                break;
            }
            if (map[i] == F_INDEX) {
                if (isnan(v) || v < 0 || v > 1023 || v != floor(v)) {
                    ok = 0;
                    if (bad_row(name, line, strict, warn, ctx, err, errlen, &log->bad_rows,
                                "field 'index': not a GPU index; skipped"))
                        return -1;
                    break;
                }
                r.gpu = (int)v;
                log->has_index = 1;
            } else {
                r.v[map[i]] = v;
                log->present |= 1u << map[i];
            }
        }
        if (!ok)
            continue;
        if (r.t_abs_s < last_t) {
            if (bad_row(name, line, strict, warn, ctx, err, errlen, &log->bad_rows,
                        "field 'timestamp': earlier than the row before; skipped"))
                return -1;
            continue;
        }
        last_t = r.t_abs_s;
        if (push_row(log, &r)) {
            set_err(err, errlen, "%s: out of memory", name);
            return -1;
        }
    }
    if (!have_layout || log->n == 0) {
        set_err(err, errlen, "%s: no samples", name);
        return -1;
    }
    return 0;
}

void nvsmi_log_free(struct nvsmi_log *log)
{
    if (!log)
        return;
    free(log->rows);
    memset(log, 0, sizeof(*log));
}

int epochs_parse(const char *text, size_t len, const char *name, int strict, struct epoch_log *log,
                 nvsmi_warn_fn warn, void *ctx, char *err, size_t errlen)
{
    const char *p = text, *end = text + len;
    size_t line = 0, cap = 0;
    int ncols = -1, ep_col = -1, ts_col = -1;
    int metric_of[MAX_FIELDS];

    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        p += 3;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *b = p, *e = nl ? nl : end;
        const char *fb[MAX_FIELDS], *fe[MAX_FIELDS];
        p = nl ? nl + 1 : end;
        line++;
        trim(&b, &e);
        if (b == e)
            continue;
        int n = split_fields(b, e, ';', fb, fe, MAX_FIELDS);
        if (ncols < 0) {
            if (n < 0) {
                set_err(err, errlen, "%s:%zu: too many columns", name, line);
                return -1;
            }
            ncols = n;
            for (int i = 0; i < n; i++) {
                const char *hb = fb[i], *he = fe[i];
                trim(&hb, &he);
                metric_of[i] = -1;
                if (he - hb == 5 && !strncmp(hb, "epoch", 5))
                    ep_col = i;
                else if (he - hb == 9 && !strncmp(hb, "timestamp", 9))
                    ts_col = i;
                else {
                    char **names = realloc(log->names, (log->nnames + 1) * sizeof(*names));
                    if (!names)
                        goto oom;
                    log->names = names;
                    log->names[log->nnames] = strndup(hb, (size_t)(he - hb));
                    if (!log->names[log->nnames])
                        goto oom;
                    metric_of[i] = (int)log->nnames++;
                }
            }
            if (ep_col < 0 || ts_col < 0) {
                set_err(err, errlen,
                        "%s:%zu: header lacks 'epoch' or 'timestamp' (want e.g. "
                        "epoch;precision;recall;accuracy;f1;timestamp)",
                        name, line);
                return -1;
            }
            continue;
        }
        if (n != ncols) {
            if (bad_row(name, line, strict, warn, ctx, err, errlen, &log->bad_rows,
                        "%d columns, want %d; skipped", n < 0 ? MAX_FIELDS : n, ncols))
                return -1;
            continue;
        }
        struct epoch_rec r = {0, 0, NULL};
        char buf[32], *eptr = NULL;
        size_t l = (size_t)(fe[ep_col] - fb[ep_col]);
        if (l == 0 || l >= sizeof(buf)) {
            if (bad_row(name, line, strict, warn, ctx, err, errlen, &log->bad_rows,
                        "column 'epoch': not an integer; skipped"))
                return -1;
            continue;
        }
        memcpy(buf, fb[ep_col], l);
        buf[l] = '\0';
        errno = 0;
        r.epoch = strtol(buf, &eptr, 10);
        if (errno || *eptr || r.epoch < 0 || r.epoch > 1000000) {
            if (bad_row(name, line, strict, warn, ctx, err, errlen, &log->bad_rows,
                        "column 'epoch': not an integer; skipped"))
                return -1;
            continue;
        }
        if (nvsmi_parse_time(fb[ts_col], (size_t)(fe[ts_col] - fb[ts_col]), &r.t_abs_s)) {
            if (bad_row(name, line, strict, warn, ctx, err, errlen, &log->bad_rows,
                        "column 'timestamp': not a time 'YYYY-MM-DD HH:MM:SS'; skipped"))
                return -1;
            continue;
        }
        r.vals = malloc((log->nnames ? log->nnames : 1) * sizeof(double));
        if (!r.vals)
            goto oom;
        int ok = 1;
        for (int i = 0; i < n; i++) {
            if (metric_of[i] < 0)
                continue;
            if (parse_value(fb[i], fe[i], &r.vals[metric_of[i]])) {
                ok = 0;
                free(r.vals);
                if (bad_row(name, line, strict, warn, ctx, err, errlen, &log->bad_rows,
                            "column '%s': not a number; skipped", log->names[metric_of[i]]))
                    return -1;
                break;
            }
        }
        if (!ok)
            continue;
        if (log->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct epoch_rec *recs = realloc(log->recs, nc * sizeof(*recs));
            if (!recs) {
                free(r.vals);
                goto oom;
            }
            log->recs = recs;
            cap = nc;
        }
        log->recs[log->n++] = r;
    }
    if (ncols < 0) {
        set_err(err, errlen, "%s: empty file", name);
        return -1;
    }
    return 0;
oom:
    set_err(err, errlen, "%s: out of memory", name);
    return -1;
}

void epoch_log_free(struct epoch_log *log)
{
    if (!log)
        return;
    for (size_t i = 0; i < log->nnames; i++)
        free(log->names[i]);
    free(log->names);
    for (size_t i = 0; i < log->n; i++)
        free(log->recs[i].vals);
    free(log->recs);
    memset(log, 0, sizeof(*log));
}
