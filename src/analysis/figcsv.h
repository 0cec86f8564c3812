/*
 * figcsv.h - a small RFC 4180 CSV reader for the report's figures and HTML page: it loads a whole
 * file (configs.csv, samples.csv, phases.csv) into memory, decodes quoted fields in place and keeps
 * each row's line number for messages.  It is not a writer (see util/strbuf.h, sb_csv_field) and
 * not a streaming parser; files of a few hundred thousand rows are fine.
 */
#ifndef JB_SRC_ANALYSIS_FIGCSV_H
#define JB_SRC_ANALYSIS_FIGCSV_H

#include <stddef.h>

struct figcsv {
    char *path;    /* copy of the file name, for messages */
    char *buf;     /* the file's bytes; fields point into it */
    size_t ncols;  /* columns of the header */
    char **header; /* ncols names */
    size_t nrows;  /* data rows (blank lines are skipped) */
    char **cells;  /* nrows * ncols fields, row-major; never NULL, "" for an empty cell */
    size_t *lines; /* line number (1-based) of each data row */
};

/* Loads path.  Returns 0, or -1 with "'<path>' line N: ..." (or the cannot-open message) in err.
 * A row with another number of fields than the header is an error; so is a file without header. */
int figcsv_load(const char *path, struct figcsv *t, char *err, size_t errlen);
void figcsv_free(struct figcsv *t);
/* Index of the column named name, or -1. */
int figcsv_col(const struct figcsv *t, const char *name);
/* The cell at row r, column c ("" when c < 0). */
const char *figcsv_cell(const struct figcsv *t, size_t r, int c);
/* Parses the cell at (r, c) as a finite number: returns 1 and *v, 0 when the cell is empty (the
 * value is unavailable), or -1 with "'<path>' line N, column '<name>': ..." in err. */
int figcsv_num(const struct figcsv *t, size_t r, int c, double *v, char *err, size_t errlen);

#endif
