/*
 * figcsv.h - a whole CSV file as a table of cells, for the report's figures and HTML page
 * (configs.csv, samples.csv, phases.csv): loaded into memory, parsed by util/csv.h (the one RFC 4180
 * reader), each row's line number kept for messages.  It is not a writer (csv_put_field) and not a
 * streaming reader (rundir_read_csv is); files of a few hundred thousand rows are fine.
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

/* Loads path.  Returns 0, or -1 with "<path>:LINE[:COLUMN]: ..." (or the cannot-open message) in err.
 * A row with another number of fields than the header is an error; so is a file without header. */
int figcsv_load(const char *path, struct figcsv *t, char *err, size_t errlen);
void figcsv_free(struct figcsv *t);
/* Index of the column named name, or -1. */
int figcsv_col(const struct figcsv *t, const char *name);
/* The cell at row r, column c ("" when c < 0). */
const char *figcsv_cell(const struct figcsv *t, size_t r, int c);
/* Parses the cell at (r, c) as a finite number: returns 1 and *v, 0 when the cell is empty (the
 * value is unavailable), or -1 with "<path>:LINE: column '<name>': ..." in err. */
int figcsv_num(const struct figcsv *t, size_t r, int c, double *v, char *err, size_t errlen);

#endif
