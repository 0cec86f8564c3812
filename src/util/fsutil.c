/*
 * fsutil.c - see fsutil.h.  The atomic write is what lets a crash, a kill or a full disk leave a
 * run directory with either the old file or the complete new one.
 */
#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failf(char *err, size_t errlen, const char *what, const char *path)
{
    int e = errno;
    if (err && errlen)
        snprintf(err, errlen, "cannot %s '%s': %s", what, path, strerror(e));
    errno = e;
    return -1;
}

int fs_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_all_fd(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int refuse(char *err, size_t errlen, const char *path, const char *why, int e)
{
    if (err && errlen)
        snprintf(err, errlen, "cannot write '%s': %s", path, why);
    errno = e;
    return -1;
}

int fs_out_open(struct fs_out *o, const char *path, char *err, size_t errlen)
{
    static atomic_uint seq;
    struct stat lst, st;
    const char *target = path;

    memset(o, 0, sizeof(*o));
    o->fd = -1;
    if (strlen(path) >= sizeof(o->path)) {
        errno = ENAMETOOLONG;
        return failf(err, errlen, "write", path);
    }
    snprintf(o->path, sizeof(o->path), "%s", path);
    if (!strcmp(path, "-")) {
        o->kind = FS_OUT_STDOUT;
        return 0;
    }
    if (lstat(path, &lst) < 0) {
        if (errno != ENOENT)
            return failf(err, errlen, "write", path);
        lst.st_mode = S_IFREG; /* a new file: created by the rename */
        st = lst;
    } else if (S_ISLNK(lst.st_mode)) {
        if (stat(path, &st) < 0) {
            if (errno == ENOENT)
                return refuse(err, errlen, path, "a symbolic link to a missing file", ENOENT);
            return failf(err, errlen, "write", path);
        }
        if (S_ISREG(st.st_mode)) {
            /* Replace the file it points to; renaming over the link would make it a file. */
            if (!realpath(path, o->target))
                return failf(err, errlen, "write", path);
            target = o->target;
        }
    } else {
        st = lst;
    }
    if (S_ISDIR(st.st_mode))
        return refuse(err, errlen, path, strerror(EISDIR), EISDIR);
    if (S_ISSOCK(st.st_mode))
        return refuse(err, errlen, path, "a socket", ENXIO);
    if (!S_ISREG(st.st_mode)) {
        /* A FIFO or a device (perhaps behind a link): written in place at commit. */
        o->kind = FS_OUT_IN_PLACE;
        snprintf(o->target, sizeof(o->target), "%s", path);
        if (access(path, W_OK) < 0)
            return failf(err, errlen, "write", path);
        return 0;
    }
    o->kind = FS_OUT_REPLACE;
    if (target != o->target)
        snprintf(o->target, sizeof(o->target), "%s", target);
    if (snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.%ld.%u", o->target, (long)getpid(),
                 atomic_fetch_add(&seq, 1)) >= (int)sizeof(o->tmp)) {
        errno = ENAMETOOLONG;
        return failf(err, errlen, "write", path);
    }
    o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (o->fd < 0) /* the user's name: the temporary is ours */
        return failf(err, errlen, "create", o->path);
    return 0;
}

void fs_out_abort(struct fs_out *o)
{
    if (o->kind == FS_OUT_REPLACE && o->fd >= 0) {
        int e = errno;
        close(o->fd);
        unlink(o->tmp);
        errno = e;
    }
    o->fd = -1;
}

static int commit_in_place(struct fs_out *o, const void *data, size_t len, char *err, size_t errlen)
{
    int fd = open(o->target, O_WRONLY | O_NOCTTY | O_CLOEXEC);

    if (fd < 0)
        return failf(err, errlen, "open", o->path);
    if (write_all_fd(fd, data, len) < 0) {
        failf(err, errlen, "write", o->path);
        close(fd);
        return -1;
    }
    if (close(fd) < 0 && errno != EINTR)
        return failf(err, errlen, "write", o->path);
    return 0;
}

int fs_out_commit(struct fs_out *o, const void *data, size_t len, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    char *slash;
    int fd = o->fd;

    if (o->kind == FS_OUT_STDOUT) {
        fflush(stdout); /* what went through stdio first */
        if (write_all_fd(STDOUT_FILENO, data, len) < 0)
            return failf(err, errlen, "write", "standard output");
        return 0;
    }
    if (o->kind == FS_OUT_IN_PLACE)
        return commit_in_place(o, data, len, err, errlen);
    if (fd < 0) {
        errno = EBADF;
        return failf(err, errlen, "write", o->path);
    }
    o->fd = -1;
    if (write_all_fd(fd, data, len) < 0) {
        failf(err, errlen, "write", o->tmp);
        goto fail;
    }
    if (fsync(fd) < 0) {
        failf(err, errlen, "sync", o->tmp);
        goto fail;
    }
    if (close(fd) < 0) {
        fd = -1;
        failf(err, errlen, "close", o->tmp);
        goto fail;
    }
    fd = -1;
    if (rename(o->tmp, o->target) < 0) {
        failf(err, errlen, "rename into", o->target);
        goto fail;
    }
    snprintf(dir, sizeof(dir), "%s", o->target);
    slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        fs_sync_dir(slash == dir ? "/" : dir);
    } else {
        fs_sync_dir(".");
    }
    return 0;
fail : {
    int e = errno;
    if (fd >= 0)
        close(fd);
    unlink(o->tmp);
    errno = e;
    return -1;
}
}

int fs_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    struct fs_out o;

    if (fs_out_open(&o, path, err, errlen) < 0)
        return -1;
    return fs_out_commit(&o, data, len, err, errlen);
}

int fs_mkdir_p(const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(buf)) {
        errno = n ? ENAMETOOLONG : ENOENT;
        return failf(err, errlen, "create directory", path);
    }
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return failf(err, errlen, "create directory", buf);
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0) {
        struct stat st;
        /* EEXIST is fine only for a directory: a file of that name is not one. */
        if (errno != EEXIST)
            return failf(err, errlen, "create directory", buf);
        if (stat(buf, &st) < 0)
            return failf(err, errlen, "create directory", buf);
        if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            return failf(err, errlen, "create directory", buf);
        }
    }
    return 0;
}

static const char *file_kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a file";
}

/* have: the size, or 0 when only "more than max" is known (a file that grew while read). */
static int too_big(const char *path, unsigned long long have, size_t max, char *err, size_t errlen)
{
    if (err && errlen && have)
        snprintf(err, errlen,
                 "cannot read '%s': %llu bytes, more than the %zu bytes joulebench reads from "
                 "one file",
                 path, have, max);
    else if (err && errlen)
        snprintf(err, errlen,
                 "cannot read '%s': more than the %zu bytes joulebench reads from one file", path,
                 max);
    errno = EFBIG;
    return -1;
}

int fs_open_regular(const char *path, size_t max_bytes, size_t *size, char *err, size_t errlen)
{
    struct stat st;
    int fd, fl;

    if (size)
        *size = 0;
    /* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return failf(err, errlen, "open", path);
    if (fstat(fd, &st) < 0) {
        failf(err, errlen, "read", path);
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        if (err && errlen)
            snprintf(err, errlen, "cannot read '%s': not a regular file (%s)", path,
                     file_kind(st.st_mode));
        errno = EINVAL;
        goto fail;
    }
    if ((unsigned long long)st.st_size > (unsigned long long)max_bytes) {
        too_big(path, (unsigned long long)st.st_size, max_bytes, err, errlen);
        goto fail;
    }
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        failf(err, errlen, "read", path);
        goto fail;
    }
    if (size)
        *size = (size_t)st.st_size;
    return fd;
fail : {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}
}

int fs_read_regular(const char *path, size_t max_bytes, char **data, size_t *len, char *err,
                    size_t errlen)
{
    char *buf = NULL;
    size_t cap, n = 0, size;
    int fd;

    *data = NULL;
    if (len)
        *len = 0;
    fd = fs_open_regular(path, max_bytes, &size, err, errlen);
    if (fd < 0)
        return -1;
    /* The size from fstat plus one byte, to see that the file grew (then read on, bounded:
     * having read max_bytes + 1 bytes is proof enough that it is too big). */
    cap = (size < max_bytes ? size : max_bytes) + 1;
    buf = malloc(cap + 1);
    if (!buf) {
        errno = ENOMEM;
        failf(err, errlen, "read", path);
        goto fail;
    }
    for (;;) {
        ssize_t got;
        if (n == cap) {
            size_t ncap = cap > max_bytes / 2 ? max_bytes + 1 : cap * 2;
            char *p;
            if (cap > max_bytes)
                break;
            p = realloc(buf, ncap + 1);
            if (!p) {
                errno = ENOMEM;
                failf(err, errlen, "read", path);
                goto fail;
            }
            buf = p;
            cap = ncap;
        }
        got = read(fd, buf + n, cap - n);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            failf(err, errlen, "read", path);
            goto fail;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n > max_bytes) {
        too_big(path, 0, max_bytes, err, errlen);
        goto fail;
    }
    close(fd);
    buf[n] = '\0';
    *data = buf;
    if (len)
        *len = n;
    return 0;
fail : {
    int e = errno;
    free(buf);
    close(fd);
    errno = e;
    return -1;
}
}

int fs_read_file(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
    return fs_read_regular(path, FS_READ_MAX, data, len, err, errlen);
}

static int safe_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '+' || c == '=' || c == '-';
}

void fs_safe_name(char *s)
{
    if (*s == '.')
        *s = '_';
    for (; *s; s++)
        if (!safe_char(*s))
            *s = '_';
}

int fs_name_ok(const char *s, size_t max_len)
{
    size_t n = 0;

    if (!*s || *s == '.')
        return 0;
    for (; *s; s++, n++)
        if (!safe_char(*s) || n >= max_len)
            return 0;
    return 1;
}

int fs_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}
