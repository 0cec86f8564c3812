/*
 * fsutil.h - file-system helpers that keep run directories intact: atomic replacement of a file
 * (temporary name, fsync, rename, fsync of the directory), mkdir -p, whole-file reads.
 * Each returns 0 or -1 with errno set, and writes a message naming the path into err.
 */
#ifndef JB_SRC_UTIL_FSUTIL_H
#define JB_SRC_UTIL_FSUTIL_H

#include <stddef.h>

/* Writes data to path atomically: a reader sees the old file or the whole new one, never a part. */
int fs_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);
/* mkdir -p with mode 0755. */
int fs_mkdir_p(const char *path, char *err, size_t errlen);
/* Reads a whole file; *data is malloc'ed and NUL-terminated. */
int fs_read_file(const char *path, char **data, size_t *len, char *err, size_t errlen);
/* fsync of a directory (after a rename into it). */
int fs_sync_dir(const char *dir);
/* 1 when path exists (any type). */
int fs_exists(const char *path);

#endif
