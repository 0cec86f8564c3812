/*
 * fuzz_csv.c - libFuzzer target for the RFC 4180 reader (src/util/csv.c): the input is read over a
 * buffer, streamed from a FILE in 64 KiB reads and streamed in reads of 1-16 bytes (the first
 * byte picks the size), with small bounds so the limits are hit; all three must give the same
 * records, errors and line numbers.  Each record's fields obey the bounds; a message names the
 * file; every record written back with csv_put_field reads back as the same fields; the header
 * map and csv_parse_double (finite or refused) run on every record.  Built by scripts/fuzz.sh.
 */
#include "util/csv.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_record(const struct csv_reader *r)
{
    struct strbuf sb = STRBUF_INIT;
    struct csv_reader back;
    int nul = 0;

    if (r->nfields == 0 || r->nfields > r->max_fields)
        abort();
    for (size_t i = 0; i < r->nfields; i++) {
        double v;
        if (r->f[i].n > r->max_field || r->f[i].s[r->f[i].n] != '\0')
            abort();
        if (csv_parse_double(r->f[i].s, r->f[i].n, &v) == 0 && !isfinite(v))
            abort();
        nul |= strlen(r->f[i].s) != r->f[i].n;
    }
    if (nul)
        return;
    sb_putc(&sb, '\n'); /* a blank line first: a field starting with a BOM is not at the start */
    for (size_t i = 0; i < r->nfields; i++) {
        csv_put_field(&sb, r->f[i].s);
        sb_putc(&sb, i + 1 < r->nfields ? ',' : '\n');
    }
    if (sb_failed(&sb))
        abort();
    csv_init_buf(&back, sb.buf, sb.len, "back");
    back.max_field = r->max_field;
    back.max_fields = r->max_fields;
    back.max_record = (size_t)-1;
    int n = csv_next(&back);
    if (r->nfields == 1 && r->f[0].n == 0) {
        if (n != CSV_EOF) /* a lone empty field is written as a blank line, which is skipped */
            abort();
    } else {
        if (n != CSV_RECORD || back.nfields != r->nfields)
            abort();
        for (size_t i = 0; i < r->nfields; i++)
            if (back.f[i].n != r->f[i].n || memcmp(back.f[i].s, r->f[i].s, r->f[i].n))
                abort();
    }
    csv_free(&back);
    sb_free(&sb);
}

/* Reads everything; appends a trace of what was read to out. */
static void run(struct csv_reader *r, struct strbuf *out)
{
    int n, first = 1;
    size_t last_line = 0;
    r->max_field = 64;
    r->max_record = 512;
    r->max_fields = 16;
    while ((n = csv_next(r)) != CSV_EOF) {
        if (n == CSV_FATAL)
            abort(); /* no I/O errors or OOM expected here */
        if (r->line < last_line)
            abort();
        last_line = r->line;
        if (n == CSV_BAD) {
            if (strncmp(r->err, "fuzz:", 5))
                abort();
            sb_printf(out, "BAD %s\n", r->err);
            continue;
        }
        check_record(r);
        if (first) {
            struct csv_header h;
            char err[256];
            if (csv_header_set(&h, r, err, sizeof(err)) == 0) {
                for (size_t i = 0; i < h.n; i++)
                    if (csv_header_find(&h, h.names[i]) != (int)i)
                        abort();
                csv_header_free(&h);
            }
            first = 0;
        }
        sb_printf(out, "L%zu:", r->line);
        for (size_t i = 0; i < r->nfields; i++) {
            sb_printf(out, "%zu:", r->f[i].n);
            sb_append(out, r->f[i].s, r->f[i].n);
        }
        sb_putc(out, '\n');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, c = STRBUF_INIT;
    struct csv_reader r;
    char *buf = malloc(size + 1);
    FILE *fp;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    csv_init_buf(&r, buf, size, "fuzz");
    run(&r, &a);
    csv_free(&r);
    free(buf);
    if (size > 0) {
        fp = fmemopen((void *)data, size, "r");
        if (fp) {
            csv_init_file(&r, fp, "fuzz");
            run(&r, &b);
            csv_free(&r);
            fclose(fp);
            if (strcmp(sb_str(&a), sb_str(&b)) || a.len != b.len ||
                memcmp(sb_str(&a), sb_str(&b), a.len))
                abort();
        }
        fp = fmemopen((void *)data, size, "r");
        if (fp) {
            csv_init_file(&r, fp, "fuzz");
            r.chunk = 1 + data[0] % 16;
            run(&r, &c);
            csv_free(&r);
            fclose(fp);
            if (a.len != c.len || memcmp(sb_str(&a), sb_str(&c), a.len))
                abort();
        }
    }
    sb_free(&a);
    sb_free(&b);
    sb_free(&c);
    return 0;
}
