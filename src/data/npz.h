/*
 * npz.h - NumPy .npz files (a ZIP archive of .npy members, as np.savez writes it): the one owner
 * of the format in C.  The reader takes a whole file into memory, walks the ZIP central directory
 * (ZIP64 included), checks every member's local header and CRC-32, and hands out each member as
 * an .npy array (npy.h) without copying.  The writer builds an uncompressed archive under a
 * temporary name and renames it into place, so a reader never sees a part-written file.
 *
 * Not a general ZIP library: members must be stored (np.savez), not deflated
 * (np.savez_compressed), unencrypted, on one disk; names are at most 255 bytes.  Used by the
 * native trainer for the initial weights (workloads/common/export_init.py) and its check output.
 */
#ifndef JB_SRC_DATA_NPZ_H
#define JB_SRC_DATA_NPZ_H

#include "data/npy.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NPZ_MAX_MEMBERS 100000
#define NPZ_MAX_NAME 256

struct npz_member {
    char name[NPZ_MAX_NAME]; /* the array's name: the member's name without ".npy" */
    uint64_t offset;         /* of the member's data (its .npy bytes) in the file */
    uint64_t size_bytes;
};

struct npz {
    unsigned char *bytes; /* the whole file */
    size_t len;
    size_t n;
    struct npz_member *members; /* in the central directory's order */
};

/* Reads and checks path (at most max_bytes).  Returns 0, or -1 with a message naming the file
 * (and member) in err; z is then empty (npz_free is still safe). */
int npz_read_file(const char *path, uint64_t max_bytes, struct npz *z, char *err, size_t errlen);
/* The same checks of an archive already in memory: z->bytes (malloc'ed, owned by z from now on)
 * and z->len set by the caller, the rest zero; `path` only names it in messages.  On failure z is
 * freed (npz_free). */
int npz_parse(struct npz *z, const char *path, char *err, size_t errlen);
/* The member holding array `name`, or NULL. */
const struct npz_member *npz_find(const struct npz *z, const char *name);
/* Parses member m as an .npy; *data points into z.  Returns 0, or -1 with the reason in err. */
int npz_array(const struct npz *z, const struct npz_member *m, struct npy_info *info,
              const void **data, char *err, size_t errlen);
void npz_free(struct npz *z);

/* CRC-32 (ISO-HDLC, as ZIP and zlib compute it), continued from crc (0 to start). */
uint32_t npz_crc32(uint32_t crc, const void *data, size_t len);

/* The writer.  Zero it, npz_writer_open(), npz_writer_add() each array, npz_writer_commit(). */
struct npz_writer {
    FILE *f;
    char path[PATH_MAX];
    char tmp[PATH_MAX + 32];
    uint64_t offset;     /* bytes written so far */
    unsigned char *cdir; /* the central directory, built as members are added */
    size_t cdir_len, cdir_cap;
    size_t n;
};

int npz_writer_open(struct npz_writer *w, const char *path, char *err, size_t errlen);
/* Adds array `name` (1..250 bytes) of dtype descr ("<f4", ...), C order, from data (items of
 * item_bytes each, as many as the shape holds). */
int npz_writer_add(struct npz_writer *w, const char *name, const char *descr, size_t item_bytes,
                   const uint64_t *shape, int ndim, const void *data, char *err, size_t errlen);
/* Writes the central directory, fsyncs, closes and renames into place. */
int npz_writer_commit(struct npz_writer *w, char *err, size_t errlen);
/* Removes the temporary file, if any; safe on a zeroed or committed writer. */
void npz_writer_abort(struct npz_writer *w);

#endif
