/*
 * npy.h - NumPy .npy files (format versions 1.0 to 3.0) without NumPy: the one owner of the format
 * in C.  Writing is streaming: the header is written from the shape known up front, then the data
 * in any number of pieces, hashed with SHA-256 on the way.  The file is built under a temporary
 * name in its final directory and only renamed into place by npy_writer_commit(), so a failed or
 * interrupted import never leaves a part-written file under the final name.  Reading parses a
 * header (npy_parse: of a file in memory, or of an .npz member, see npz.h) and reads a whole file
 * into memory, hashing it on the way (npy_read_file), for the native trainer.  Only C-order
 * arrays of plain little-endian numbers (no pickles, no structured dtypes).
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
 * dtype string such as "|u1" or "<i8"; ndim 0 is a scalar.  Returns the header's length in bytes (a multiple of 64),
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

/* ---- reading ------------------------------------------------------------------------------ */

struct npy_info {
    char descr[16];    /* as written: "|u1", "<i8", "<f4", ... */
    char kind;         /* 'u', 'i', 'f' or 'b' */
    size_t item_bytes; /* 1, 2, 4 or 8 */
    int ndim;          /* 0 for a scalar */
    uint64_t shape[NPY_MAX_DIMS];
    uint64_t items;     /* product of the shape (1 for a scalar) */
    size_t data_offset; /* bytes of magic and header before the data */
};

/* Parses the .npy held in buf[0..len) (magic, version 1.0-3.0, header dict).  The buffer must
 * hold exactly the header and the data its shape gives.  Fortran order, big-endian, object and
 * structured dtypes are refused.  Returns 0, or -1 with the reason in err (no file name: the
 * caller knows it). */
int npy_parse(const void *buf, size_t len, struct npy_info *info, char *err, size_t errlen);

/* A whole .npy file in memory. */
struct npy_file {
    unsigned char *bytes; /* malloc'ed; the whole file */
    size_t len;
    struct npy_info info;
    const void *data;              /* bytes + info.data_offset */
    char sha256[SHA256_HEX_CHARS]; /* of the whole file, as sha256sum prints it */
};

/* Reads path into memory (at most max_bytes: a bigger file is refused before it is read) and
 * hashes it; does not parse it (so that a caller can check the hash first).  Returns 0, or -1
 * with a message naming the file in err; f is then empty (npy_file_free is still safe). */
int npy_read_file(const char *path, uint64_t max_bytes, struct npy_file *f, char *err,
                  size_t errlen);
/* npy_parse() of a file read by npy_read_file; sets f->info and f->data.  The message in err
 * starts with "'PATH': ". */
int npy_file_parse(struct npy_file *f, const char *path, char *err, size_t errlen);
void npy_file_free(struct npy_file *f);

#endif
