/*
 * parts.c - runs measured in parts (see parts.h): tags, the completeness check and the merge of
 * RUN/part-<rank>/ into RUN/.  The merge keeps every part's figures (meter <id>_r<rank>), sums
 * energy per meter kind in the manifest's "parts" block, and takes the phases of rank 0; a rank's
 * own rows of those phases (when its workload marks them too) and of `command`/`idle` are kept.
 * Times of other ranks are put on rank 0's axis by the parts' start_utc (wall clocks: nodes'
 * CLOCK_MONOTONIC are not comparable; the skew is the nodes' clock offset, NTP-small).
 * samples.csv is streamed (it grows with the run); the rest is small and written atomically,
 * manifest.json last.
 */
#include "analysis/parts.h"

#include "json.h"
#include "util/fsutil.h"
#include "util/jsonw.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_FIELDS 32

int parts_write_tag(const char *part_dir, const struct parts_tag *t, char *err, size_t errlen)
{
    struct strbuf sb = STRBUF_INIT, path = STRBUF_INIT;
    struct jsonw w;
    int rc = -1;

    if (fs_mkdir_p(part_dir, err, errlen) < 0)
        return -1;
    jw_init(&w, &sb, 1);
    jw_object_begin(&w);
    jw_kv_string(&w, "format", PARTS_FORMAT);
    jw_kv_string(&w, "grid", t->grid);
    jw_kv_string(&w, "run_id", t->run_id);
    jw_kv_string(&w, "slurm_job_id", t->slurm_job_id);
    jw_kv_string(&w, "node", t->node);
    jw_kv_int(&w, "rank", t->rank);
    jw_kv_int(&w, "n_parts", t->n_parts);
    jw_object_end(&w);
    sb_putc(&sb, '\n');
    sb_printf(&path, "%s/part.json", part_dir);
    if (sb_failed(&sb) || sb_failed(&path))
        snprintf(err, errlen, "out of memory");
    else
        rc = fs_write_atomic(sb_str(&path), sb.buf, sb.len, err, errlen);
    sb_free(&sb);
    sb_free(&path);
    return rc;
}

/* "part-<N>" -> N, or -1. */
static long part_rank(const char *name)
{
    char *end;
    long v;

    if (strncmp(name, "part-", 5) || name[5] < '0' || name[5] > '9')
        return -1;
    errno = 0;
    v = strtol(name + 5, &end, 10);
    if (*end || errno || v >= PARTS_MAX || (name[5] == '0' && name[6]))
        return -1;
    return v;
}

int parts_present(const char *run_dir)
{
    DIR *d = opendir(run_dir);
    struct dirent *e;
    int any = 0;

    if (!d)
        return 0;
    while (!any && (e = readdir(d)))
        any = part_rank(e->d_name) >= 0;
    closedir(d);
    return any;
}

static struct jb_json *read_json(const char *dir, const char *name)
{
    struct strbuf p = STRBUF_INIT;
    char *text = NULL, err[256];
    size_t len = 0;
    struct jb_json *j = NULL;

    sb_printf(&p, "%s/%s", dir, name);
    if (!sb_failed(&p) && fs_read_file(sb_str(&p), &text, &len, err, sizeof(err)) == 0 &&
        jb__json_parse(text, len, &j, err, sizeof(err)) < 0)
        j = NULL;
    free(text);
    sb_free(&p);
    return j;
}

/* One part as found on disk. */
struct part {
    int found, complete;
    struct jb_json *tag, *man;
    char *dir;
};

struct set {
    long n;
    struct part *p; /* n entries, by rank */
};

static void set_free(struct set *s)
{
    for (long i = 0; s->p && i < s->n; i++) {
        jb__json_free(s->p[i].tag);
        jb__json_free(s->p[i].man);
        free(s->p[i].dir);
    }
    free(s->p);
    s->p = NULL;
}

/* Reads every part-<N> of run_dir into s (n from the tags).  0, 1 incomplete, -1 error (msg). */
static int set_load(const char *run_dir, struct set *s, char *msg, size_t msglen)
{
    DIR *d = opendir(run_dir);
    struct dirent *e;
    struct strbuf missing = STRBUF_INIT;
    long n = -1, max_rank = -1, n_ok = 0;
    const char *job0 = NULL;
    int rc = -1;

    memset(s, 0, sizeof(*s));
    if (!d) {
        snprintf(msg, msglen, "cannot open '%s': %s", run_dir, strerror(errno));
        return -1;
    }
    /* First pass: the number of parts, from any tag (they must agree). */
    while ((e = readdir(d))) {
        long r = part_rank(e->d_name);
        struct strbuf p = STRBUF_INIT;
        struct jb_json *t;
        if (r < 0)
            continue;
        if (r > max_rank)
            max_rank = r;
        sb_printf(&p, "%s/%s", run_dir, e->d_name);
        t = sb_failed(&p) ? NULL : read_json(sb_str(&p), "part.json");
        sb_free(&p);
        if (t) {
            long tn = (long)jb__json_num(t, "n_parts", -1);
            if (tn < 1 || tn > PARTS_MAX || (n > 0 && tn != n)) {
                snprintf(msg, msglen, "run '%s': the parts disagree on n_parts (%ld, %ld)", run_dir,
                         n, tn);
                jb__json_free(t);
                goto out;
            }
            n = tn;
            jb__json_free(t);
        }
    }
    if (n < 0) {
        snprintf(msg, msglen, "run '%s': no part has a part.json tag (no part finished starting)",
                 run_dir);
        rc = 1;
        goto out;
    }
    if (max_rank >= n) {
        snprintf(msg, msglen, "run '%s': part-%ld is beyond the %ld parts its tags name", run_dir,
                 max_rank, n);
        goto out;
    }
    s->n = n;
    s->p = calloc((size_t)n, sizeof(*s->p));
    if (!s->p) {
        snprintf(msg, msglen, "out of memory");
        goto out;
    }
    for (long r = 0; r < n; r++) {
        struct part *p = &s->p[r];
        struct strbuf dir = STRBUF_INIT;
        sb_printf(&dir, "%s/part-%ld", run_dir, r);
        if (sb_failed(&dir)) {
            snprintf(msg, msglen, "out of memory");
            goto out;
        }
        p->dir = dir.buf;
        p->found = fs_exists(p->dir);
        p->tag = p->found ? read_json(p->dir, "part.json") : NULL;
        p->man = p->found ? read_json(p->dir, "manifest.json") : NULL;
        p->complete = p->tag && p->man && !strcmp(jb__json_str(p->man, "status", ""), "complete") &&
                      (long)jb__json_num(p->tag, "rank", -1) == r;
        if (p->complete && !job0)
            job0 = jb__json_str(p->tag, "slurm_job_id", "");
        if (p->complete && strcmp(job0, jb__json_str(p->tag, "slurm_job_id", ""))) {
            snprintf(msg, msglen,
                     "run '%s': rank %ld is from Slurm job %s, an earlier rank from job %s: parts "
                     "of different executions cannot be added up (submit the job script again)",
                     run_dir, r, jb__json_str(p->tag, "slurm_job_id", "?"), job0);
            rc = 1;
            goto out;
        }
        if (p->complete) {
            n_ok++;
            continue;
        }
        sb_printf(&missing, "%s%ld%s", missing.len ? ", " : "", r,
                  !p->found ? ""
                  : p->man  ? " (not complete)"
                            : " (unfinished)");
    }
    if (n_ok < n) {
        snprintf(msg, msglen,
                 "run '%s': %ld of %ld parts complete; missing: rank%s %s (submit the job script "
                 "again to measure the run anew)",
                 run_dir, n_ok, n, n - n_ok > 1 ? "s" : "", sb_str(&missing));
        rc = 1;
        goto out;
    }
    rc = 0;
out:
    sb_free(&missing);
    closedir(d);
    if (rc)
        set_free(s);
    return rc;
}

int parts_check(const char *run_dir, char *msg, size_t msglen)
{
    struct set s;
    int rc = set_load(run_dir, &s, msg, msglen);
    if (rc == 0)
        set_free(&s);
    return rc;
}

/* ---- CSV rows: fields split (quotes respected), then rebuilt with some replaced ---------- */

/* Field boundaries of line (no newline): starts in f[i], ends in e[i].  Returns the count. */
static int split(const char *line, const char **f, const char **e)
{
    int n = 0;
    const char *s = line;

    for (;;) {
        const char *q = s;
        if (n == MAX_FIELDS)
            return -1;
        if (*q == '"') {
            for (q++; *q && !(*q == '"' && q[1] != '"'); q += *q == '"' ? 2 : 1)
                ;
            if (*q)
                q++;
        }
        q += strcspn(q, ",");
        f[n] = s;
        e[n] = q;
        n++;
        if (!*q)
            return n;
        s = q + 1;
    }
}

/* A number field shifted by off_s ("" stays ""). */
static void put_shifted(struct strbuf *sb, const char *f, const char *e, double off_s)
{
    char buf[64], *end;
    size_t len = (size_t)(e - f);
    double v;

    if (!len || len >= sizeof(buf)) {
        sb_append(sb, f, len);
        return;
    }
    memcpy(buf, f, len);
    buf[len] = '\0';
    v = strtod(buf, &end);
    if (*end || !isfinite(v))
        sb_append(sb, f, len);
    else
        sb_printf(sb, "%.6f", v + off_s);
}

/*
 * Appends line (without its newline) with field `meter_col` renamed <id>_r<rank> and the fields
 * in time_cols (a -1-terminated list) shifted by off_s.
 */
static void put_row(struct strbuf *sb, const char *line, int meter_col, const int *time_cols,
                    long rank, double off_s)
{
    const char *f[MAX_FIELDS], *e[MAX_FIELDS];
    int n = split(line, f, e);

    if (n < 0 || n <= meter_col) {
        sb_puts(sb, line);
        sb_putc(sb, '\n');
        return;
    }
    for (int i = 0; i < n; i++) {
        int is_time = 0;
        for (const int *t = time_cols; *t >= 0; t++)
            is_time |= *t == i;
        if (i)
            sb_putc(sb, ',');
        if (i == meter_col) {
            sb_append(sb, f[i], (size_t)(e[i] - f[i]));
            sb_printf(sb, "_r%ld", rank);
        } else if (is_time) {
            put_shifted(sb, f[i], e[i], off_s);
        } else {
            sb_append(sb, f[i], (size_t)(e[i] - f[i]));
        }
    }
    sb_putc(sb, '\n');
}

/* ---- the merge ---------------------------------------------------------------------------- */

/* "2026-11-28T07:00:00.123456Z" -> seconds since the epoch; NaN when not so. */
static double utc_seconds(const char *s)
{
    struct tm tm;
    double frac = 0;
    int n = 0;
    const char *dot;

    memset(&tm, 0, sizeof(tm));
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return NAN;
    dot = s + n;
    if (*dot == '.')
        frac = strtod(dot, NULL);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm) + frac;
}

/* The offset of part p's time axis on rank 0's. */
static double offset_s(const struct set *s, long r)
{
    double o = utc_seconds(jb__json_str(s->p[r].man, "start_utc", NULL)) -
               utc_seconds(jb__json_str(s->p[0].man, "start_utc", NULL));
    return isfinite(o) ? o : 0;
}

/* Streams every part's samples.csv into run_dir/samples.csv.  0 or -1 (msg). */
static int merge_samples(const char *run_dir, const struct set *s, char *msg, size_t msglen)
{
    static const int tcols[] = {0, -1};
    struct strbuf tmp = STRBUF_INIT, dst = STRBUF_INIT, row = STRBUF_INIT;
    char *line = NULL;
    size_t cap = 0;
    FILE *out = NULL;
    int rc = -1;

    sb_printf(&tmp, "%s/samples.csv.partial", run_dir);
    sb_printf(&dst, "%s/samples.csv", run_dir);
    if (sb_failed(&tmp) || sb_failed(&dst) || !(out = fopen(sb_str(&tmp), "w"))) {
        snprintf(msg, msglen, "cannot write '%s': %s", sb_str(&tmp), strerror(errno));
        goto out;
    }
    for (long r = 0; r < s->n; r++) {
        struct strbuf src = STRBUF_INIT;
        FILE *in;
        double off = offset_s(s, r);
        int first = 1;
        sb_printf(&src, "%s/samples.csv", s->p[r].dir);
        in = sb_failed(&src) ? NULL : fopen(sb_str(&src), "r");
        sb_free(&src);
        if (!in)
            continue; /* a part without samples (no meter gave any) */
        while (getline(&line, &cap, in) > 0) {
            line[strcspn(line, "\r\n")] = '\0';
            if (first) {
                first = 0;
                if (r == 0)
                    fprintf(out, "%s\n", line);
                continue;
            }
            sb_reset(&row);
            put_row(&row, line, 1, tcols, r, off);
            fwrite(row.buf, 1, row.len, out);
        }
        fclose(in);
    }
    if (ferror(out) | (fflush(out) != 0) | (fsync(fileno(out)) != 0)) {
        snprintf(msg, msglen, "cannot write '%s': %s", sb_str(&tmp), strerror(errno));
        goto out;
    }
    if (fclose(out) != 0 || rename(sb_str(&tmp), sb_str(&dst)) < 0) {
        out = NULL;
        snprintf(msg, msglen, "cannot write '%s': %s", sb_str(&dst), strerror(errno));
        goto out;
    }
    out = NULL;
    rc = 0;
out:
    if (out)
        fclose(out);
    free(line);
    sb_free(&tmp);
    sb_free(&dst);
    sb_free(&row);
    return rc;
}

static char *slurp(const char *dir, const char *name)
{
    struct strbuf p = STRBUF_INIT;
    char *text = NULL, err[256];
    size_t len;

    sb_printf(&p, "%s/%s", dir, name);
    if (sb_failed(&p) || fs_read_file(sb_str(&p), &text, &len, err, sizeof(err)) < 0)
        text = NULL;
    sb_free(&p);
    return text;
}

/* "phase,index," of a phases.csv row: its first two fields, raw. */
static size_t key_len(const char *line)
{
    const char *f[MAX_FIELDS], *e[MAX_FIELDS];
    int n = split(line, f, e);
    return n >= 3 ? (size_t)(e[1] - line) + 1 : 0;
}

/* 1 when rank 0's phases (text) has a row whose phase,index is that of line. */
static int rank0_has(const char *text0, const char *line)
{
    size_t k = key_len(line);
    const char *p = text0;

    if (!k)
        return 0;
    while (p && *p) {
        if (!strncmp(p, line, k))
            return 1;
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return 0;
}

/* phases.csv: rank 0's rows, and other ranks' rows of the same phases (times shifted). */
static int merge_phases(const struct set *s, struct strbuf *sb)
{
    static const int tcols[] = {3, 4, -1};
    char *keys0 = slurp(s->p[0].dir, "phases.csv");

    if (!keys0)
        return -1;
    for (long r = 0; r < s->n; r++) {
        char *text = slurp(s->p[r].dir, "phases.csv"), *line, *next;
        int first = 1;
        for (line = text; line && *line; line = next) {
            next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            line[strcspn(line, "\r")] = '\0';
            if (first) {
                first = 0;
                if (r == 0)
                    sb_printf(sb, "%s\n", line);
                continue;
            }
            if (r && !rank0_has(keys0, line))
                continue;
            put_row(sb, line, 2, tcols, r, offset_s(s, r));
        }
        free(text);
    }
    free(keys0);
    return 0;
}

/* Emits j as it is (a parsed manifest's values). */
static void emit(struct jsonw *w, const struct jb_json *j)
{
    switch (j->type) {
    case JB_JSON_NULL: jw_null(w); break;
    case JB_JSON_BOOL: jw_bool(w, j->boolean); break;
    case JB_JSON_NUMBER: jw_number(w, j->number); break;
    case JB_JSON_STRING: jw_string(w, j->string); break;
    case JB_JSON_ARRAY:
        jw_array_begin(w);
        for (size_t i = 0; i < j->n; i++)
            emit(w, j->items[i]);
        jw_array_end(w);
        break;
    case JB_JSON_OBJECT:
        jw_object_begin(w);
        for (size_t i = 0; i < j->n; i++) {
            jw_key(w, j->keys[i]);
            emit(w, j->items[i]);
        }
        jw_object_end(w);
        break;
    }
}

static void renamed(char *out, size_t n, const char *id, long rank)
{
    snprintf(out, n, "%s_r%ld", id, rank);
}

/* Object o with its string key `idkey` renamed for rank, and extra rank/node keys. */
static void emit_renamed(struct jsonw *w, const struct jb_json *o, const char *idkey, long rank,
                         const char *node)
{
    char id[256];

    jw_object_begin(w);
    for (size_t i = 0; i < o->n; i++) {
        jw_key(w, o->keys[i]);
        if (!strcmp(o->keys[i], idkey) && o->items[i]->type == JB_JSON_STRING) {
            renamed(id, sizeof(id), o->items[i]->string, rank);
            jw_string(w, id);
        } else {
            emit(w, o->items[i]);
        }
    }
    if (node) {
        jw_kv_int(w, "rank", rank);
        jw_kv_string(w, "node", node);
    }
    jw_object_end(w);
}

/* The kind of meter id in manifest m ("gpu", "cpu", ...; "other" when not listed). */
static const char *kind_of(const struct jb_json *m, const char *id)
{
    const struct jb_json *ms = jb__json_get(m, "meters");
    for (size_t i = 0; ms && ms->type == JB_JSON_ARRAY && i < ms->n; i++)
        if (!strcmp(jb__json_str(ms->items[i], "id", ""), id))
            return jb__json_str(ms->items[i], "kind", "other");
    return "other";
}

/* The "parts" block: per rank and per meter kind sums of the totals. */
static void emit_parts(struct jsonw *w, const struct set *s)
{
    const char *kinds[64];
    double by_kind[64], all = 0;
    size_t nk = 0;

    jw_key(w, "parts");
    jw_object_begin(w);
    jw_kv_int(w, "n_parts", s->n);
    jw_kv_string(w, "slurm_job_id", jb__json_str(s->p[0].tag, "slurm_job_id", ""));
    jw_kv_int(w, "phases_from_rank", 0);
    jw_key(w, "ranks");
    jw_array_begin(w);
    for (long r = 0; r < s->n; r++) {
        const struct jb_json *tot = jb__json_get(s->p[r].man, "totals");
        double e = 0;
        for (size_t i = 0; tot && tot->type == JB_JSON_ARRAY && i < tot->n; i++) {
            const char *kind = kind_of(s->p[r].man, jb__json_str(tot->items[i], "meter", ""));
            double v = jb__json_num(tot->items[i], "energy_j", NAN);
            size_t k;
            if (!isfinite(v))
                continue;
            for (k = 0; k < nk && strcmp(kinds[k], kind); k++)
                ;
            if (k == nk && nk < 64) {
                kinds[nk] = kind;
                by_kind[nk++] = 0;
            }
            if (k < nk)
                by_kind[k] += v;
            e += v;
        }
        all += e;
        jw_object_begin(w);
        jw_kv_int(w, "rank", r);
        jw_kv_string(w, "node", jb__json_str(s->p[r].tag, "node", ""));
        jw_kv_string(w, "slurm_job_id", jb__json_str(s->p[r].tag, "slurm_job_id", ""));
        jw_kv_string(w, "dir", strrchr(s->p[r].dir, '/') + 1);
        jw_kv_string(w, "start_utc", jb__json_str(s->p[r].man, "start_utc", ""));
        jw_kv_number(w, "duration_s", jb__json_num(s->p[r].man, "duration_s", NAN));
        jw_kv_number(w, "energy_j", e);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_key(w, "energy_j_by_kind");
    jw_object_begin(w);
    for (size_t k = 0; k < nk; k++)
        jw_kv_number(w, kinds[k], by_kind[k]);
    jw_object_end(w);
    jw_kv_number(w, "energy_j", all);
    jw_object_end(w);
}

/* Concatenation of every part's array `key`, each object's `idkey` renamed. */
static void emit_concat(struct jsonw *w, const struct set *s, const char *key, const char *idkey,
                        int tag_node)
{
    jw_array_begin(w);
    for (long r = 0; r < s->n; r++) {
        const struct jb_json *a = jb__json_get(s->p[r].man, key);
        for (size_t i = 0; a && a->type == JB_JSON_ARRAY && i < a->n; i++)
            if (a->items[i]->type == JB_JSON_OBJECT)
                emit_renamed(w, a->items[i], idkey, r,
                             tag_node ? jb__json_str(s->p[r].tag, "node", "") : NULL);
    }
    jw_array_end(w);
}

/* idle: rank 0's duration, every part's meters renamed. */
static void emit_idle(struct jsonw *w, const struct set *s, const struct jb_json *idle0)
{
    char id[256];

    if (idle0->type != JB_JSON_OBJECT) {
        emit(w, idle0);
        return;
    }
    jw_object_begin(w);
    for (size_t i = 0; i < idle0->n; i++) {
        if (!strcmp(idle0->keys[i], "meters"))
            continue;
        jw_key(w, idle0->keys[i]);
        emit(w, idle0->items[i]);
    }
    jw_key(w, "meters");
    jw_object_begin(w);
    for (long r = 0; r < s->n; r++) {
        const struct jb_json *idle = jb__json_get(s->p[r].man, "idle");
        const struct jb_json *m = idle ? jb__json_get(idle, "meters") : NULL;
        for (size_t i = 0; m && m->type == JB_JSON_OBJECT && i < m->n; i++) {
            renamed(id, sizeof(id), m->keys[i], r);
            jw_key(w, id);
            emit(w, m->items[i]);
        }
    }
    jw_object_end(w);
    jw_object_end(w);
}

static void merge_manifest(const struct set *s, struct strbuf *sb)
{
    const struct jb_json *m0 = s->p[0].man;
    struct jsonw w;
    double dur = 0;
    const char *end = "";

    for (long r = 0; r < s->n; r++) {
        double d = jb__json_num(s->p[r].man, "duration_s", NAN);
        const char *e = jb__json_str(s->p[r].man, "end_utc", "");
        if (isfinite(d) && d > dur)
            dur = d;
        if (strcmp(e, end) > 0) /* ISO 8601 UTC of one format: text order is time order */
            end = e;
    }
    jw_init(&w, sb, 1);
    jw_object_begin(&w);
    for (size_t i = 0; i < m0->n; i++) {
        const char *k = m0->keys[i];
        if (!strcmp(k, "parts"))
            continue;
        jw_key(&w, k);
        if (!strcmp(k, "meters"))
            emit_concat(&w, s, "meters", "id", 1);
        else if (!strcmp(k, "totals"))
            emit_concat(&w, s, "totals", "meter", 0);
        else if (!strcmp(k, "idle"))
            emit_idle(&w, s, m0->items[i]);
        else if (!strcmp(k, "duration_s"))
            jw_number(&w, dur);
        else if (!strcmp(k, "end_utc"))
            jw_string(&w, end);
        else
            emit(&w, m0->items[i]);
    }
    emit_parts(&w, s);
    jw_object_end(&w);
    sb_putc(sb, '\n');
}

static int write_in(const char *dir, const char *name, const struct strbuf *sb, char *msg,
                    size_t msglen)
{
    struct strbuf p = STRBUF_INIT;
    int rc;

    sb_printf(&p, "%s/%s", dir, name);
    if (sb_failed(&p) || sb_failed(sb)) {
        sb_free(&p);
        snprintf(msg, msglen, "out of memory");
        return -1;
    }
    rc = fs_write_atomic(sb_str(&p), sb->buf, sb->len, msg, msglen);
    sb_free(&p);
    return rc;
}

int parts_merge(const char *run_dir, char *msg, size_t msglen)
{
    struct set s;
    struct strbuf sb = STRBUF_INIT;
    char *metrics;
    int rc = set_load(run_dir, &s, msg, msglen);

    if (rc)
        return rc;
    rc = -1;
    if (merge_samples(run_dir, &s, msg, msglen) < 0)
        goto out;
    if (merge_phases(&s, &sb) < 0) {
        snprintf(msg, msglen, "cannot read '%s/phases.csv'", s.p[0].dir);
        goto out;
    }
    if (write_in(run_dir, "phases.csv", &sb, msg, msglen) < 0)
        goto out;
    sb_reset(&sb);
    metrics = slurp(s.p[0].dir, "metrics.csv");
    sb_puts(&sb, metrics ? metrics : "phase,index,name,value\n");
    free(metrics);
    if (write_in(run_dir, "metrics.csv", &sb, msg, msglen) < 0)
        goto out;
    sb_reset(&sb);
    merge_manifest(&s, &sb);
    if (write_in(run_dir, "manifest.json", &sb, msg, msglen) < 0)
        goto out;
    fs_sync_dir(run_dir);
    rc = 0;
out:
    sb_free(&sb);
    set_free(&s);
    return rc;
}

/* 1 when dir/manifest.json says complete. */
static int complete(const char *dir)
{
    struct jb_json *m = read_json(dir, "manifest.json");
    int ok = m && !strcmp(jb__json_str(m, "status", ""), "complete");
    jb__json_free(m);
    return ok;
}

int parts_merge_all(const char *results, size_t *n_merged, char *msg, size_t msglen)
{
    DIR *d = opendir(results), *d2;
    struct dirent *e, *e2;
    size_t n_bad = 0;
    int rc = 0;

    *n_merged = 0;
    if (!d)
        return 0; /* the report says what is wrong with the folder */
    while (rc >= 0 && (e = readdir(d))) {
        struct strbuf g = STRBUF_INIT;
        if (e->d_name[0] == '.')
            continue;
        sb_printf(&g, "%s/%s", results, e->d_name);
        d2 = sb_failed(&g) ? NULL : opendir(sb_str(&g));
        while (d2 && rc >= 0 && (e2 = readdir(d2))) {
            struct strbuf run = STRBUF_INIT;
            char m[1024];
            int r;
            if (e2->d_name[0] == '.')
                continue;
            sb_printf(&run, "%s/%s", sb_str(&g), e2->d_name);
            if (sb_failed(&run) || complete(sb_str(&run)) || !parts_present(sb_str(&run))) {
                sb_free(&run);
                continue;
            }
            r = parts_merge(sb_str(&run), m, sizeof(m));
            if (r == 0)
                (*n_merged)++;
            else if (r < 0 || !n_bad++)
                snprintf(msg, msglen, "%s", m);
            if (r)
                rc = r < 0 ? -1 : 1;
            sb_free(&run);
        }
        if (d2)
            closedir(d2);
        sb_free(&g);
    }
    closedir(d);
    if (rc == 1 && n_bad > 1) {
        size_t l = strlen(msg);
        snprintf(msg + l, msglen - l, "; and %zu more incomplete runs", n_bad - 1);
    }
    return rc;
}
