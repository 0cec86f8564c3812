/*
 * npy.h - writes NumPy .npy files (format version 1.0) without NumPy, streaming: the header is
 * written from the shape known up front, then the data in any number of pieces, hashed with
 * SHA-256 on the way.  The file is built under a temporary name in its final directory and only
 * renamed into place by npy_writer_commit(), so a failed or interrupted import never leaves a
 * part-written file under the final name.  Not a reader, and only C-order arrays of one dtype.
 *
 * The header is byte for byte what numpy (>= 1.24) np.save() writes: the dict with sorted keys,
 * the growth padding numpy reserves after it, then spaces and '\n' up to a multiple of 64 bytes.
 */
#ifndef JB_SRC_DATA_NPY_H
#define JB_SRC_DATA_NPY_H

#include "data/sha256.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NPY_MAX_DIMS 8
#define NPY_MAX_HEADER 256

/* Builds the complete header (magic, version, length, dict, padding) into buf.  descr is a NumPy
 * dtype string such as "|u1" or "<i8".  Returns the header's length in bytes (a multiple of 64),
 * or 0 when it does not fit in cap. */
size_t npy_header(char *buf, size_t cap, const char *descr, const uint64_t *shape, int ndim);

struct npy_writer {
    FILE *f;                 /* NULL when not open */
    char path[PATH_MAX];     /* final name */
    char tmp[PATH_MAX + 32]; /* temporary name, in the same directory */
    struct sha256 hash;
    uint64_t data_bytes_expected;
    uint64_t data_bytes_written;
    int finished;                  /* closed and synced, waiting for commit */
    char sha256[SHA256_HEX_CHARS]; /* set by npy_writer_finish() */
};

/* Creates path's temporary file and writes the header.  item_bytes is the dtype's size.
 * Returns 0, or -1 with a message naming the file in err. */
int npy_writer_open(struct npy_writer *w, const char *path, const char *descr, size_t item_bytes,
                    const uint64_t *shape, int ndim, char *err, size_t errlen);
/* Appends data; more than the shape holds is an error. */
int npy_writer_write(struct npy_writer *w, const void *data, size_t len, char *err, size_t errlen);
/* Checks that exactly the shape's bytes were written, flushes, fsyncs, closes; the hash of the
 * whole file is then in w->sha256.  The file still has its temporary name. */
int npy_writer_finish(struct npy_writer *w, char *err, size_t errlen);
/* Renames the finished temporary file to its final name (the caller syncs the directory). */
int npy_writer_commit(struct npy_writer *w, char *err, size_t errlen);
/* Closes and removes the temporary file, if any; safe on a zeroed or committed writer. */
void npy_writer_abort(struct npy_writer *w);

#endif
