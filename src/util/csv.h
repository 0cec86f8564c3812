/*
 * csv.h - the tool's one RFC 4180 CSV reader/writer pair.  The writer side is the quoting of one
 * field (csv_put_field: quoted when it holds a comma, quote, CR or LF; quotes doubled).  The reader
 * reads what that writes: records over a caller's buffer (decoded in place, fields stay valid
 * while the buffer lives) or streamed from a FILE (fields valid until the next record), quoted
 * fields with "" escapes, embedded commas and newlines, LF or CRLF line ends, a UTF-8 byte-order
 * mark, blank lines skipped, bounded field and record lengths and field counts.  A malformed
 * record is skipped with a message naming file:line:column and reading goes on at the next line;
 * I/O errors and out of memory stop it.  No per-field allocation: one field table per reader,
 * grown only when a record has more fields than any before.  Not a type converter beyond
 * csv_parse_double, and not a dialect sniffer (the separator is ',', the quote '"').
 */
#ifndef JB_SRC_UTIL_CSV_H
#define JB_SRC_UTIL_CSV_H

#include "util/strbuf.h"

#include <stddef.h>
#include <stdio.h>

/* Default bounds: a field of 64 KiB, a record (a "line", with its quoted newlines) of 1 MiB,
 * 4096 fields. */
#define CSV_MAX_FIELD_DEFAULT ((size_t)64 << 10)
#define CSV_MAX_RECORD_DEFAULT ((size_t)1 << 20)
#define CSV_MAX_FIELDS_DEFAULT ((size_t)4096)

/* csv_next's answers. */
enum { CSV_FATAL = -2, CSV_BAD = -1, CSV_EOF = 0, CSV_RECORD = 1 };

struct csv_field {
    char *s;  /* NUL-terminated, decoded */
    size_t n; /* length (a field may hold NUL bytes; s then ends early) */
};

struct csv_reader {
    /* public, read-only */
    const char *name;    /* file name for messages (not copied: must outlive the reader) */
    size_t line;         /* 1-based line where the current record starts */
    size_t nfields;      /* fields of the current record */
    struct csv_field *f; /* nfields fields */
    int nul;             /* the record holds a NUL byte (some field's s is shorter than n) */
    char err[512];       /* the message of the last CSV_BAD or CSV_FATAL */
    /* bounds (set after csv_init_*, before the first csv_next, to change them) */
    size_t max_field, max_record, max_fields;
    size_t chunk; /* bytes per read of a stream (64 KiB; tests and the fuzzer make it tiny) */
    /* private */
    FILE *fp;
    char *buf;
    size_t len, pos, cap;
    int own_buf, eof, started;
    size_t fcap;
    size_t next_line;
};

/* Reads the records of buf[0..len).  buf must have len + 1 writable bytes (fs_read_file gives a
 * NUL after the data): fields are decoded in place and NUL-terminated there, so they stay valid as
 * long as buf does.  name is for messages. */
void csv_init_buf(struct csv_reader *r, char *buf, size_t len, const char *name);
/* Streams the records of fp (not closed by the reader).  A field is valid until the next
 * csv_next. */
void csv_init_file(struct csv_reader *r, FILE *fp, const char *name);
/*
 * The next record: CSV_RECORD (r->f, r->nfields, r->line), CSV_EOF, CSV_BAD (a malformed record:
 * r->err says "NAME:LINE:COLUMN: what", the record is skipped and the next call goes on after
 * it), or CSV_FATAL (a read error or out of memory: r->err; stop).  Blank lines are skipped.
 */
int csv_next(struct csv_reader *r);
/* Frees what the reader holds (not a caller's buffer, not the FILE). */
void csv_free(struct csv_reader *r);

/* A header: column names copied from one record, looked up by name. */
struct csv_header {
    size_t n;
    char **names;
};
/* Copies r's current record as the header.  Returns 0, -1 on out of memory, -2 when a name is
 * empty or repeated (err: "NAME:LINE: ..."). */
int csv_header_set(struct csv_header *h, const struct csv_reader *r, char *err, size_t errlen);
/* Index of the column called name, or -1. */
int csv_header_find(const struct csv_header *h, const char *name);
void csv_header_free(struct csv_header *h);

/*
 * Parses the whole of s[0..n) as a finite decimal number (strtod with its end pointer checked):
 * returns 0 and *v; -1 for an empty field, text, a partial number ("1.5x"), inf, nan, a hex
 * float ("0x1p3") or a value out of double's range (overflow; an underflow to a subnormal or zero
 * is accepted as strtod rounds it).  Leading or trailing blanks are refused.  Fast path for plain
 * decimals (fastnum-style, exactly strtod's result).
 */
int csv_parse_double(const char *s, size_t n, double *v);

/* Appends s as one CSV field, quoted when it holds a comma, quote, CR or LF (the writer's side of
 * this reader). */
void csv_put_field(struct strbuf *sb, const char *s);

#endif
