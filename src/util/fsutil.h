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

#include <limits.h>
#include <stddef.h>

/*
 * An output file opened before its data exists, so that a bad path fails before a measurement
 * starts, not after it, and written once at the end.  What the path names decides how:
 * - "-": standard output (written as is; nothing to create or rename);
 * - no file yet, or a regular file: replaced atomically: a temporary beside it, created (and
 *   kept open) by fs_out_open, written, fsync'ed and renamed over it by fs_out_commit;
 * - a symbolic link to a regular file: the file it points to is replaced in the same way and the
 *   link stays a link;
 * - a FIFO, a character or block device, or a symbolic link to one: written in place (opened
 *   O_WRONLY, never created, truncated or renamed) by fs_out_commit; fs_out_open checks only
 *   that it may be written (opening a FIFO would wait for its reader);
 * - a directory, a socket, a symbolic link to nothing: refused by fs_out_open.
 */
enum fs_out_kind {
    FS_OUT_STDOUT = 0,
    FS_OUT_REPLACE = 1,
    FS_OUT_IN_PLACE = 2,
};
struct fs_out {
    enum fs_out_kind kind;
    int fd;                /* FS_OUT_REPLACE: the open temporary; else -1 */
    char path[PATH_MAX];   /* as given (messages) */
    char target[PATH_MAX]; /* the file replaced or written (a symbolic link resolved) */
    char tmp[PATH_MAX];    /* FS_OUT_REPLACE: the temporary's name */
};
/* Checks path as above and, for a replaced file, creates its temporary.  0, or -1 with errno
 * and a message ("cannot write 'PATH': Is a directory", "cannot create 'PATH.tmp.N': ..."). */
int fs_out_open(struct fs_out *o, const char *path, char *err, size_t errlen);
/* Writes data (len bytes) as the whole content and closes o, on success and on failure (a failed
 * replacement removes its temporary and leaves the old file).  0, or -1 with errno and a message. */
int fs_out_commit(struct fs_out *o, const void *data, size_t len, char *err, size_t errlen);
/* Closes o without writing: a replaced file stays as it was, its temporary goes. */
void fs_out_abort(struct fs_out *o);

/* fs_out_open + fs_out_commit: a reader of a regular file sees the old file or the whole new
 * one, never a part; "-", FIFOs and devices are written as fs_out says. */
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
