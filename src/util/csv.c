/*
 * csv.c - RFC 4180 records; see csv.h.  A record is found first (the next LF outside quotes: a
 * memchr for LF, and a quote-parity scan only when the line holds a quote), refilling the stream
 * buffer until the record is whole, and only then decoded in place: an unquoted field ends where
 * its comma was, a quoted one is copied down over its quotes (the decoded text is never longer).
 * Finding before decoding is what lets a streamed record be re-scanned after a refill without
 * having been changed.  Not a writer beyond the quoting of one field.
 */
#include "util/csv.h"
#include "util/fastnum.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CSV_CHUNK ((size_t)64 << 10)

static void init_common(struct csv_reader *r, const char *name)
{
    memset(r, 0, sizeof(*r));
    r->name = name ? name : "(csv)";
    r->max_field = CSV_MAX_FIELD_DEFAULT;
    r->max_record = CSV_MAX_RECORD_DEFAULT;
    r->max_fields = CSV_MAX_FIELDS_DEFAULT;
    r->chunk = CSV_CHUNK;
    r->next_line = 1;
}

void csv_init_buf(struct csv_reader *r, char *buf, size_t len, const char *name)
{
    init_common(r, name);
    r->buf = buf;
    r->len = len;
    r->cap = len;
    r->eof = 1;
}

void csv_init_file(struct csv_reader *r, FILE *fp, const char *name)
{
    init_common(r, name);
    r->fp = fp;
    r->own_buf = 1;
}

void csv_free(struct csv_reader *r)
{
    if (!r)
        return;
    if (r->own_buf)
        free(r->buf);
    free(r->f);
    r->buf = NULL;
    r->f = NULL;
    r->fcap = 0;
    r->nfields = 0;
}

/* Reads more of the stream after buf[len), keeping buf[pos..len) (moved to the front).  Returns
 * 1 when bytes came, 0 at the end of the stream, -1 on an error (r->err). */
static int refill(struct csv_reader *r)
{
    size_t keep = r->len - r->pos, got, want;

    if (r->eof)
        return 0;
    if (r->pos) {
        memmove(r->buf, r->buf + r->pos, keep);
        r->pos = 0;
        r->len = keep;
    }
    if (r->cap - r->len < r->chunk / 2 + 1) {
        size_t ncap = r->cap ? r->cap * 2 : r->chunk;
        char *nb = realloc(r->buf, ncap + 1);
        if (!nb) {
            snprintf(r->err, sizeof(r->err), "%s: out of memory", r->name);
            return -1;
        }
        r->buf = nb;
        r->cap = ncap;
    }
    want = r->cap - r->len < r->chunk ? r->cap - r->len : r->chunk;
    got = fread(r->buf + r->len, 1, want, r->fp);
    r->len += got;
    if (got == 0) {
        if (ferror(r->fp)) {
            snprintf(r->err, sizeof(r->err), "%s: read error: %s", r->name, strerror(errno));
            return -1;
        }
        r->eof = 1;
        return 0;
    }
    return 1;
}

/* Line and column (1-based) of buf[at], in the record starting at buf[start] on r->line. */
static void where(const struct csv_reader *r, size_t start, size_t at, size_t *line, size_t *col)
{
    size_t l = r->line, ls = start;
    for (size_t i = start; i < at; i++)
        if (r->buf[i] == '\n') {
            l++;
            ls = i + 1;
        }
    *line = l;
    *col = at - ls + 1;
}

static int bad_at(struct csv_reader *r, size_t start, size_t at, const char *what)
{
    size_t line, col;
    where(r, start, at, &line, &col);
    snprintf(r->err, sizeof(r->err), "%s:%zu:%zu: %s", r->name, line, col, what);
    return CSV_BAD;
}

/*
 * Finds the end of the record at buf[pos]: *end is the index of its terminating LF (or len at
 * the end of the data); *nl the newlines inside it.  Returns 0, 1 when the record runs past
 * max_record (*end is then where the scan stopped), or -1 on a read error.
 */
static int find_end(struct csv_reader *r, size_t *end, size_t *nl)
{
    size_t scanned = 0; /* bytes of the record known to be outside/inside quotes as `inq` says */
    int inq = 0;

    *nl = 0;
    for (;;) {
        char *s = r->buf + r->pos;
        size_t avail = r->len - r->pos;
        while (scanned < avail) {
            if (!inq) {
                char *lf = memchr(s + scanned, '\n', avail - scanned);
                size_t stop = lf ? (size_t)(lf - s) : avail;
                char *q = memchr(s + scanned, '"', stop - scanned);
                if (!q) {
                    if (lf) {
                        *end = r->pos + stop;
                        return stop > r->max_record ? 1 : 0;
                    }
                    scanned = avail;
                    break;
                }
                scanned = (size_t)(q - s) + 1;
                /* only a quote that opens a field opens quoted text; a stray one inside an
                 * unquoted field is decode()'s error, and the record still ends at its LF */
                inq = q == s || q[-1] == ',';
            } else {
                char *q = memchr(s + scanned, '"', avail - scanned);
                size_t qi = q ? (size_t)(q - s) : avail;
                for (size_t i = scanned; i < qi; i++)
                    *nl += s[i] == '\n';
                scanned = qi;
                if (!q)
                    break;
                if (qi + 1 >= avail && !r->eof)
                    break; /* is it "" or the closing quote?  Read on to see. */
                if (qi + 1 < avail && s[qi + 1] == '"') {
                    scanned = qi + 2;
                } else {
                    scanned = qi + 1;
                    inq = 0;
                }
            }
        }
        if (scanned > r->max_record) {
            *end = r->pos + scanned;
            return 1;
        }
        int rf = refill(r);
        if (rf < 0)
            return -1;
        if (rf == 0) { /* the last record, without an LF: the same bound as with one */
            *end = r->len;
            return r->len - r->pos > r->max_record ? 1 : 0;
        }
    }
}

static int grow_fields(struct csv_reader *r);

static int add_field(struct csv_reader *r, char *s, size_t n)
{
    if (r->nfields == r->fcap && grow_fields(r))
        return CSV_FATAL;
    r->f[r->nfields].s = s;
    r->f[r->nfields].n = n;
    r->nfields++;
    return 0;
}

static int field_too_long(struct csv_reader *r, size_t b, size_t at)
{
    char what[96];
    snprintf(what, sizeof(what), "field longer than %zu bytes", r->max_field);
    return bad_at(r, b, at, what);
}

/* Decodes buf[b..e) (a whole record, CR of a CRLF already cut) into fields, in place. */
static int decode(struct csv_reader *r, size_t b, size_t e)
{
    char *s = r->buf;
    size_t p = b;

    r->nfields = 0;
    for (;;) {
        size_t w = p, start = p;
        int rc;
        if (r->nfields >= r->max_fields)
            return bad_at(r, b, p, "too many fields");
        if (p < e && s[p] == '"') {
            p++;
            for (;;) {
                if (p >= e)
                    return bad_at(r, b, start, "unterminated quoted field");
                if (s[p] == '"') {
                    if (p + 1 < e && s[p + 1] == '"') {
                        s[w++] = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                s[w++] = s[p++];
            }
            if (p < e && s[p] != ',')
                return bad_at(r, b, p, "character after a closing quote");
        } else {
            char *c = memchr(s + p, ',', e - p);
            size_t stop = c ? (size_t)(c - s) : e;
            char *q = memchr(s + p, '"', stop - p), *cr = memchr(s + p, '\r', stop - p);
            if (q)
                return bad_at(r, b, (size_t)(q - s), "quote inside an unquoted field");
            if (cr)
                return bad_at(r, b, (size_t)(cr - s), "carriage return inside an unquoted field");
            p = w = stop;
        }
        if (w - start > r->max_field)
            return field_too_long(r, b, start);
        if ((rc = add_field(r, s + start, w - start)) != 0)
            return rc;
        s[w] = '\0';
        if (p >= e)
            return CSV_RECORD;
        p++; /* the comma */
    }
}

#define NEEDS_SLOW 3 /* not one of csv_next's answers */
#define BLANK_LINE 4

static int grow_fields(struct csv_reader *r)
{
    size_t ncap = r->fcap ? r->fcap * 2 : 16;
    struct csv_field *nf = realloc(r->f, ncap * sizeof(*nf));
    if (!nf) {
        snprintf(r->err, sizeof(r->err), "%s: out of memory", r->name);
        return CSV_FATAL;
    }
    r->f = nf;
    r->fcap = ncap;
    return 0;
}

/* 1: a comma, 2: LF, 3: what the fast path leaves to the full one (quote, CR, NUL). */
static const unsigned char special[256] = {[','] = 1, ['\n'] = 2, ['\r'] = 3, ['"'] = 3, [0] = 3};

/*
 * The common record, in one pass: no quote, no NUL, no CR but the one of a CRLF, wholly in the
 * buffer, within the bounds.  Fields are noted while scanning and NUL-terminated only once the
 * record is known to be such, so NEEDS_SLOW leaves the bytes as they were for find_end/decode.
 * Returns CSV_RECORD, BLANK_LINE (consumed), NEEDS_SLOW or CSV_FATAL.
 */
static int fast_record(struct csv_reader *r)
{
    char *s = r->buf + r->pos, *end = r->buf + r->len, *p = s, *fs = s;
    size_t nf = 0, next;

    for (;; p++) {
        unsigned char k;
        if (p == end)
            return NEEDS_SLOW; /* maybe more to read, or the last line without LF */
        k = special[(unsigned char)*p];
        if (!k)
            continue;
        if (k == 2)
            break;
        if (k == 3) {
            if (*p == '\r' && p + 1 < end && p[1] == '\n')
                break;
            return NEEDS_SLOW;
        }
        if (nf + 1 >= r->max_fields || (size_t)(p - fs) > r->max_field)
            return NEEDS_SLOW;
        if (nf == r->fcap && grow_fields(r))
            return CSV_FATAL;
        r->f[nf].s = fs;
        r->f[nf].n = (size_t)(p - fs);
        nf++;
        fs = p + 1;
    }
    next = (size_t)(p - r->buf) + (*p == '\r' ? 2 : 1);
    if (p == s) {
        r->pos = next;
        r->next_line++;
        return BLANK_LINE;
    }
    if ((size_t)(p - s) > r->max_record || (size_t)(p - fs) > r->max_field)
        return NEEDS_SLOW;
    if (nf == r->fcap && grow_fields(r))
        return CSV_FATAL;
    r->f[nf].s = fs;
    r->f[nf].n = (size_t)(p - fs);
    nf++;
    for (size_t i = 0; i < nf; i++)
        r->f[i].s[r->f[i].n] = '\0';
    r->nfields = nf;
    r->nul = 0;
    r->pos = next;
    r->next_line++;
    return CSV_RECORD;
}

/* Skips the rest of a record that could not be read, to the next LF. */
static int skip_line(struct csv_reader *r, size_t from)
{
    r->pos = from;
    for (;;) {
        char *lf = memchr(r->buf + r->pos, '\n', r->len - r->pos);
        if (lf) {
            r->pos = (size_t)(lf - r->buf) + 1;
            r->next_line++;
            return 0;
        }
        r->pos = r->len;
        int rf = refill(r);
        if (rf <= 0)
            return rf;
    }
}

int csv_next(struct csv_reader *r)
{
    for (;;) {
        size_t end, nl, e;
        int fe, rc;

        if (r->pos >= r->len) {
            int rf = refill(r);
            if (rf < 0)
                return CSV_FATAL;
            if (rf == 0 && r->pos >= r->len)
                return CSV_EOF;
        }
        if (!r->started) {
            r->started = 1;
            while (r->len - r->pos < 3 && !r->eof && refill(r) > 0)
                ;
            if (r->len - r->pos >= 3 && !memcmp(r->buf + r->pos, "\xEF\xBB\xBF", 3))
                r->pos += 3; /* a UTF-8 byte-order mark, as spreadsheets write */
            continue;
        }
        r->line = r->next_line;
        rc = fast_record(r);
        if (rc == BLANK_LINE)
            continue;
        if (rc != NEEDS_SLOW)
            return rc;
        fe = find_end(r, &end, &nl);
        if (fe < 0)
            return CSV_FATAL;
        if (fe > 0) {
            /* Go on at the first LF after max_record bytes, wherever the scan stopped (it
             * stops at other places over a buffer and over a stream); the LFs before that
             * point are inside quotes. */
            char what[96];
            size_t start = r->pos, cut = start + r->max_record + 1;
            snprintf(what, sizeof(what), "record longer than %zu bytes", r->max_record);
            rc = bad_at(r, start, start, what);
            if (cut > r->len)
                cut = r->len;
            for (size_t i = start; i < cut; i++)
                r->next_line += r->buf[i] == '\n';
            if (skip_line(r, cut) < 0)
                return CSV_FATAL;
            return rc;
        }
        e = end;
        if (e > r->pos && r->buf[e - 1] == '\r')
            e--;
        r->next_line += nl + (end < r->len);
        if (e == r->pos) { /* a blank line */
            r->pos = end + (end < r->len);
            continue;
        }
        r->nul = memchr(r->buf + r->pos, '\0', e - r->pos) != NULL;
        rc = decode(r, r->pos, e);
        r->pos = end + (end < r->len);
        return rc;
    }
}

/* ---- header ------------------------------------------------------------------------------ */

void csv_header_free(struct csv_header *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        free(h->names[i]);
    free(h->names);
    h->names = NULL;
    h->n = 0;
}

int csv_header_set(struct csv_header *h, const struct csv_reader *r, char *err, size_t errlen)
{
    memset(h, 0, sizeof(*h));
    h->names = calloc(r->nfields ? r->nfields : 1, sizeof(char *));
    if (!h->names)
        return -1;
    for (size_t i = 0; i < r->nfields; i++) {
        if (r->f[i].n == 0 || strlen(r->f[i].s) != r->f[i].n) {
            snprintf(err, errlen, "%s:%zu: column %zu of the header has no name", r->name, r->line,
                     i + 1);
            csv_header_free(h);
            return -2;
        }
        if (csv_header_find(h, r->f[i].s) >= 0) {
            snprintf(err, errlen, "%s:%zu: column '%s' appears twice in the header", r->name,
                     r->line, r->f[i].s);
            csv_header_free(h);
            return -2;
        }
        h->names[i] = strdup(r->f[i].s);
        if (!h->names[i]) {
            csv_header_free(h);
            return -1;
        }
        h->n++;
    }
    return 0;
}

int csv_header_find(const struct csv_header *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (!strcmp(h->names[i], name))
            return (int)i;
    return -1;
}

/* ---- numbers ----------------------------------------------------------------------------- */

/* strtod with its end pointer and range checked, after refusing what strtod accepts but a
 * run directory never holds: blanks, inf/nan, hex floats. */
static int slow_double(const char *s, size_t n, double *v)
{
    char buf[128], *end;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
            return -1; /* inf, nan, 0x..., blanks, NUL */
    }
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    double d = strtod(buf, &end);
    if (end != buf + n || (errno == ERANGE && fabs(d) > 1.0) || !isfinite(d))
        return -1;
    *v = d;
    return 0;
}

int csv_parse_double(const char *s, size_t n, double *v)
{
    /* fastnum's exact fast path, else strtod with the run directory's refusals */
    return fastnum_parse_fast(s, s + n, v) == 0 ? 0 : slow_double(s, n, v);
}

/* ---- writer ------------------------------------------------------------------------------ */

void csv_put_field(struct strbuf *sb, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        sb_puts(sb, s);
        return;
    }
    sb_putc(sb, '"');
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {
        sb_append(sb, s, (size_t)(q - s) + 1);
        sb_putc(sb, '"');
    }
    sb_puts(sb, s);
    sb_putc(sb, '"');
}
