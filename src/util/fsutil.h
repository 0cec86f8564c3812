/*
 * fsutil.h - file-system helpers that keep run directories intact: atomic replacement of a file
 * (temporary name, fsync, rename, fsync of the directory), mkdir -p, bounded reads of regular
 * files (every input joulebench reads goes through fs_open_regular or fs_read_regular, so a FIFO
 * cannot hang it and /dev/zero cannot fill memory), and the file-name rule of grid names and run
 * ids.  Each returns 0 (or a descriptor) or -1 with errno set, and writes a message naming the
 * path into err ("cannot open 'PATH': ...").
 */
#ifndef JB_SRC_UTIL_FSUTIL_H
#define JB_SRC_UTIL_FSUTIL_H

#include <stddef.h>

/* Writes data to path atomically: a reader sees the old file or the whole new one, never a part. */
int fs_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);
/* mkdir -p with mode 0755. */
int fs_mkdir_p(const char *path, char *err, size_t errlen);
/*
 * Opens path for reading when it is a regular file (after symbolic links) of at most max_bytes.
 * The open itself cannot block (O_NONBLOCK, cleared again before returning, so reads behave
 * normally); then fstat decides: anything but a regular file fails with errno EINVAL and
 * "cannot read 'PATH': not a regular file (a FIFO)" (or a directory, a character device, ...),
 * a bigger file with EFBIG and "cannot read 'PATH': N bytes, more than the M bytes joulebench
 * reads from one file".  Returns the descriptor (O_CLOEXEC) and the size in *size (may be NULL),
 * or -1.  A file that grows after the check is the reader's to bound: read at most max_bytes.
 */
int fs_open_regular(const char *path, size_t max_bytes, size_t *size, char *err, size_t errlen);
/*
 * Reads a whole regular file of at most max_bytes (fs_open_regular's checks; a file that grows
 * past max_bytes while read fails the same way).  *data is malloc'ed and NUL-terminated (and
 * NULL on failure); *len (may be NULL) is its length.
 */
int fs_read_regular(const char *path, size_t max_bytes, char **data, size_t *len, char *err,
                    size_t errlen);
/* The default bound of fs_read_file: 4 GiB (2 GiB on 32-bit systems). */
#define FS_READ_MAX ((size_t)(sizeof(size_t) > 4 ? (4ull << 30) : (2u << 30)))
/* fs_read_regular(path, FS_READ_MAX, ...): every whole-file read of an input. */
int fs_read_file(const char *path, char **data, size_t *len, char *err, size_t errlen);
/* The longest grid name or run id: a file name (255 bytes) with room for suffixes (".lock"). */
#define FS_NAME_MAX 200
/* Makes s safe as a file name in place: every byte outside [A-Za-z0-9._+=-] becomes '_', and a
 * leading '.' becomes '_' (so it is never hidden, never '.' or '..').  The rule of run ids. */
void fs_safe_name(char *s);
/* 1 when s is a non-empty name of at most max_len bytes that fs_safe_name leaves as it is (the
 * rule of grid names: one folder, visible, no '/', no '..'). */
int fs_name_ok(const char *s, size_t max_len);
/* fsync of a directory (after a rename into it). */
int fs_sync_dir(const char *dir);
/* 1 when path exists (any type). */
int fs_exists(const char *path);

#endif
