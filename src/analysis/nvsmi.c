/*
 * nvsmi.c - parsers for nvidia-smi --query-gpu CSV logs and the reference study's `;`-separated
 * per-epoch metric files.  See nvsmi.h for the accepted forms.  Pure parsing over a buffer: no
 * I/O, no printing, so the fuzz target can drive it directly.  Not a run-directory writer.
 */
#include "analysis/nvsmi.h"

#include "util/fastnum.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 64
/* The longest gap between two rows of one log (nvsmi.h). */
#define NVSMI_MAX_GAP_S 86400

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

/* A value: blank, "[...]" and "N/A" are unavailable (NaN, unit ""); otherwise a number,
 * optionally followed by blanks and a unit, copied to unit[] ("" when none).  Returns 0 or -1
 * (not a number, or a unit longer than 15 bytes). */
static int parse_value(const char *b, const char *e, double *out, char unit[16])
{
    const char *q, *u;

    unit[0] = '\0';
    trim(&b, &e);
    if (b == e || *b == '[' || (e - b == 3 && !strncmp(b, "N/A", 3))) {
        *out = NAN;
        return 0;
    }
    for (q = b; q < e && (isdigit((unsigned char)*q) || *q == '.' || *q == '-' || *q == '+'); q++)
        ;
    if (q == b || fastnum_parse(b, q, out) || !isfinite(*out))
        return -1;
    for (u = q; u < e && *u == ' '; u++)
        ;
    if (e - u >= 16)
        return -1;
    memcpy(unit, u, (size_t)(e - u));
    unit[e - u] = '\0';
    return 0;
}

/*
 * Units each gauge may carry (in its values, or in the header's "[UNIT]"), with the factor to
 * the gauge's own unit, and the plausible range of a value in that unit.  A value outside the
 * range is a damaged or misread row: no GPU draws 10 kW or has 1 TiB of memory in use, and a
 * power, utilisation, memory or clock is never negative.
 */
struct unit {
    const char *name;
    double factor;
};
static const struct {
    const char *base;
    double min, max;
    struct unit units[6];
} gauges[NVV_COUNT] = {
    [NVV_POWER_W] = {"W", 0, 10000, {{"W", 1}, {"mW", 1e-3}, {"kW", 1e3}}},
    [NVV_POWER_INSTANT_W] = {"W", 0, 10000, {{"W", 1}, {"mW", 1e-3}, {"kW", 1e3}}},
    [NVV_TEMP_C] = {"C", -50, 200, {{"C", 1}}},
    [NVV_UTIL_PCT] = {"%", 0, 100, {{"%", 1}}},
    [NVV_MEM_UTIL_PCT] = {"%", 0, 100, {{"%", 1}}},
    [NVV_MEM_USED_MIB] =
        {"MiB",
         0,
         1048576,
         {{"MiB", 1}, {"KiB", 1.0 / 1024}, {"GiB", 1024}, {"TiB", 1048576}, {"B", 1.0 / 1048576}}},
    [NVV_SM_CLOCK_MHZ] = {"MHz",
                          0,
                          100000,
                          {{"MHz", 1}, {"kHz", 1e-3}, {"GHz", 1e3}, {"Hz", 1e-6}}},
    [NVV_MEM_CLOCK_MHZ] = {"MHz",
                           0,
                           100000,
                           {{"MHz", 1}, {"kHz", 1e-3}, {"GHz", 1e3}, {"Hz", 1e-6}}},
};

/* The factor of unit for gauge g ("" is the gauge's own unit), or 0 when it is not one of its
 * units; *expected then lists them. */
static double unit_factor(int g, const char *unit, char *expected, size_t explen)
{
    size_t k = 0;

    if (!*unit)
        return 1;
    for (int i = 0; i < 6 && gauges[g].units[i].name; i++)
        if (!strcmp(unit, gauges[g].units[i].name))
            return gauges[g].units[i].factor;
    for (int i = 0; i < 6 && gauges[g].units[i].name && k < explen; i++)
        k += (size_t)snprintf(expected + k, explen - k, "%s%s", i ? ", " : "",
                              gauges[g].units[i].name);
    return 0;
}

/* A row's value of gauge g with unit (or the header's unit hdr when it has none) in the gauge's
 * own unit, within its range.  Returns 0, or -1 with why[] saying what is wrong. */
static int gauge_value(int g, double v, const char *unit, const char *hdr, double *out, char *why,
                       size_t whylen)
{
    const char *u = *unit ? unit : hdr;
    char expected[64] = "";
    double f;

    if (isnan(v)) {
        *out = v;
        return 0;
    }
    f = unit_factor(g, u, expected, sizeof(expected));
    if (f == 0) {
        snprintf(why, whylen, "unit '%s' is not one of %s", u, expected);
        return -1;
    }
    v *= f;
    if (!(v >= gauges[g].min && v <= gauges[g].max)) {
        snprintf(why, whylen, "%.6g %s is %s (%g to %g %s)", v, gauges[g].base,
                 v < 0 && gauges[g].min == 0 ? "negative" : "out of range", gauges[g].min,
                 gauges[g].max, gauges[g].base);
        return -1;
    }
    *out = v;
    return 0;
}

/* Maps a header or --fields name ("power.draw [W]" too) to F_* or a gauge; the bracketed unit,
 * if any, goes to unit[] ("" when none). */
static int map_field(const char *b, const char *e, char unit[16])
{
    char name[64];
    trim(&b, &e);
    unit[0] = '\0';
    const char *br = memchr(b, '[', (size_t)(e - b));
    if (br) {
        const char *ub = br + 1, *ue = memchr(ub, ']', (size_t)(e - ub));
        if (ue && ue - ub < 16) {
            trim(&ub, &ue);
            memcpy(unit, ub, (size_t)(ue - ub));
            unit[ue - ub] = '\0';
        }
        e = br;
    }
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

/* A log's columns: what each is, its header unit, its name for messages. */
struct layout {
    int map[MAX_FIELDS];
    char unit[MAX_FIELDS][16];
    char name[MAX_FIELDS][48];
    int n, ts_col;
};

static int set_layout(const char *b, const char *e, struct layout *L)
{
    const char *fb[MAX_FIELDS], *fe[MAX_FIELDS];
    int n = split_fields(b, e, ',', fb, fe, MAX_FIELDS);
    if (n < 0)
        return -1;
    L->ts_col = -1;
    for (int i = 0; i < n; i++) {
        L->map[i] = map_field(fb[i], fe[i], L->unit[i]);
        if (L->map[i] == F_TIMESTAMP && L->ts_col < 0)
            L->ts_col = i;
        const char *nb = fb[i], *ne = fe[i];
        trim(&nb, &ne);
        size_t l =
            (size_t)(ne - nb) < sizeof(L->name[i]) - 1 ? (size_t)(ne - nb) : sizeof(L->name[i]) - 1;
        memcpy(L->name[i], nb, l);
        L->name[i][l] = '\0';
    }
    L->n = n;
    return 0;
}

/* A header's units must be ones its gauges know: otherwise no value of the column means anything. */
static int check_header_units(const struct layout *L, const char *name, size_t line, char *err,
                              size_t errlen)
{
    for (int i = 0; i < L->n; i++) {
        char expected[64] = "";
        if (!L->unit[i][0] || L->map[i] == F_OTHER || L->map[i] == F_TIMESTAMP)
            continue;
        if (L->map[i] == F_INDEX || unit_factor(L->map[i], L->unit[i], expected, 64) == 0) {
            set_err(err, errlen, "%s:%zu: field '%s': unit '%s' is not one of %s", name, line,
                    L->name[i], L->unit[i], L->map[i] == F_INDEX ? "(none)" : expected);
            return -1;
        }
    }
    return 0;
}

/* Time stamps from 1970 to 2199 only (a row dated 9999 made an import of 2.5e11 s). */
#define NVSMI_MAX_YEAR 2199
#define NVSMI_END_S 7258118400.0 /* 2200-01-01 00:00 */

struct row_ctx {
    const char *name;
    int strict;
    nvsmi_warn_fn warn;
    void *ctx;
    char *err;
    size_t errlen;
    struct nvsmi_log *log;
    double last_t; /* of the last row kept; -inf before the first */
};

/* Parses one data row into r.  Returns 0 (keep it), 1 (malformed: reported, skipped) or -1
 * (strict: the error is in err). */
static int parse_row(struct row_ctx *c, const struct layout *L, const char *b, const char *e,
                     size_t line, struct nvsmi_row *r)
{
    const char *fb[MAX_FIELDS], *fe[MAX_FIELDS];
    int n = split_fields(b, e, ',', fb, fe, MAX_FIELDS);
    size_t *bad = &c->log->bad_rows;

#define BAD(...)                                                                                   \
    return bad_row(c->name, line, c->strict, c->warn, c->ctx, c->err, c->errlen, bad, __VA_ARGS__) \
               ? -1                                                                                \
               : 1
    if (n != L->n)
        BAD("%d fields, want %d (truncated or mixed row); skipped", n < 0 ? MAX_FIELDS : n, L->n);
    r->gpu = 0;
    for (int k = 0; k < NVV_COUNT; k++)
        r->v[k] = NAN;
    if (nvsmi_parse_time(fb[L->ts_col], (size_t)(fe[L->ts_col] - fb[L->ts_col]), &r->t_abs_s))
        BAD("field 'timestamp': not a time 'YYYY/MM/DD HH:MM:SS.mmm'; skipped");
    if (r->t_abs_s < 0 || r->t_abs_s >= NVSMI_END_S)
        BAD("field 'timestamp': not a year from 1970 to %d; skipped", NVSMI_MAX_YEAR);
    if (r->t_abs_s < c->last_t)
        BAD("field 'timestamp': earlier than the row before; skipped");
    if (isfinite(c->last_t) && r->t_abs_s - c->last_t > NVSMI_MAX_GAP_S)
        BAD("field 'timestamp': %.0f s after the row before, more than %d s (a damaged or joined "
            "log: split it); skipped",
            r->t_abs_s - c->last_t, NVSMI_MAX_GAP_S);
    for (int i = 0; i < n; i++) {
        char unit[16], why[128];
        double v;
        if (L->map[i] == F_TIMESTAMP || L->map[i] == F_OTHER)
            continue;
        if (parse_value(fb[i], fe[i], &v, unit))
            BAD("field '%s': not a number; skipped", L->name[i]);
        if (L->map[i] == F_INDEX) {
            if (isnan(v) || unit[0] || v < 0 || v > 1023 || v != floor(v))
                BAD("field 'index': not a GPU index; skipped");
            r->gpu = (int)v;
            continue;
        }
        if (gauge_value(L->map[i], v, unit, L->unit[i], &r->v[L->map[i]], why, sizeof(why)))
            BAD("field '%s': %s; skipped", L->name[i], why);
    }
#undef BAD
    return 0;
}

int nvsmi_parse(const char *text, size_t len, const char *name, const char *fields, int strict,
                struct nvsmi_log *log, nvsmi_warn_fn warn, void *ctx, char *err, size_t errlen)
{
    struct layout L;
    struct row_ctx c = {name, strict, warn, ctx, err, errlen, log, -INFINITY};
    const char *p = text, *end = text + len;
    size_t line = 0;
    int have_layout = 0;

    memset(&L, 0, sizeof(L));
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) /* a UTF-8 byte-order mark */
        p += 3;
    if (fields) {
        if (set_layout(fields, fields + strlen(fields), &L)) {
            set_err(err, errlen, "%s: too many fields in '%s'", name, fields);
            return -1;
        }
        if (check_header_units(&L, name, 0, err, errlen))
            return -1;
        have_layout = 1;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *b = p, *e = nl ? nl : end;
        struct nvsmi_row r;
        int rc;
        p = nl ? nl + 1 : end;
        line++;
        trim(&b, &e);
        if (b == e)
            continue;
        if (!have_layout) {
            have_layout = 1;
            if (!isdigit((unsigned char)*b)) { /* a header line */
                if (set_layout(b, e, &L)) {
                    set_err(err, errlen, "%s:%zu: too many fields in the header", name, line);
                    return -1;
                }
                if (check_header_units(&L, name, line, err, errlen))
                    return -1;
                continue;
            }
            set_layout(study_fields, study_fields + strlen(study_fields), &L);
        }
        if (L.ts_col < 0) {
            set_err(err, errlen,
                    "%s: no 'timestamp' field (log with --query-gpu=timestamp,... or name the "
                    "fields of a header-less log with --fields)",
                    name);
            return -1;
        }
        if (!isdigit((unsigned char)*b) && e - b >= 9 && !strncmp(b, "timestamp", 9))
            continue; /* a repeated header (a log appended to) */
        rc = parse_row(&c, &L, b, e, line, &r);
        if (rc < 0)
            return -1;
        if (rc > 0)
            continue;
        for (int i = 0; i < L.n; i++) {
            if (L.map[i] == F_INDEX)
                log->has_index = 1;
            else if (L.map[i] >= 0 && !isnan(r.v[L.map[i]]))
                log->present |= 1u << L.map[i];
        }
        c.last_t = r.t_abs_s;
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

/* The header of a metric file: which columns are epoch and timestamp, and the metrics'
 * names.  0, or -1 with a message. */
static int epochs_header(const char **fb, const char **fe, int n, struct epoch_log *log,
                         int *metric_of, int *ep_col, int *ts_col, const char *name, size_t line,
                         char *err, size_t errlen)
{
    if (n < 0) {
        set_err(err, errlen, "%s:%zu: too many columns", name, line);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const char *hb = fb[i], *he = fe[i];
        trim(&hb, &he);
        metric_of[i] = -1;
        if (he - hb == 5 && !strncmp(hb, "epoch", 5)) {
            *ep_col = i;
        } else if (he - hb == 9 && !strncmp(hb, "timestamp", 9)) {
            *ts_col = i;
        } else {
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
    if (*ep_col < 0 || *ts_col < 0) {
        set_err(err, errlen,
                "%s:%zu: header lacks 'epoch' or 'timestamp' (want e.g. "
                "epoch;precision;recall;accuracy;f1;timestamp)",
                name, line);
        return -1;
    }
    return 0;
oom:
    set_err(err, errlen, "%s: out of memory", name);
    return -1;
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
            if (epochs_header(fb, fe, n, log, metric_of, &ep_col, &ts_col, name, line, err,
                              errlen) < 0)
                return -1;
            ncols = n;
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
        if (r.t_abs_s < 0 || r.t_abs_s >= NVSMI_END_S) {
            if (bad_row(name, line, strict, warn, ctx, err, errlen, &log->bad_rows,
                        "column 'timestamp': not a year from 1970 to %d; skipped", NVSMI_MAX_YEAR))
                return -1;
            continue;
        }
        r.vals = malloc((log->nnames ? log->nnames : 1) * sizeof(double));
        if (!r.vals)
            goto oom;
        int ok = 1;
        for (int i = 0; i < n; i++) {
            char unit[16];
            if (metric_of[i] < 0)
                continue;
            /* Metrics are plain numbers: a unit is a misread column. */
            if (parse_value(fb[i], fe[i], &r.vals[metric_of[i]], unit) || unit[0]) {
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
