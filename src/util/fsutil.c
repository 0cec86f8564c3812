/*
 * fsutil.c - see fsutil.h.  The atomic write is what lets a crash, a kill or a full disk leave a
 * run directory with either the old file or the complete new one.
 */
#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

int fs_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    const char *p = data;
    char *slash;
    int fd;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return failf(err, errlen, "write", path);
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return failf(err, errlen, "create", tmp);
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            failf(err, errlen, "write", tmp);
            goto fail;
        }
        p += n;
        len -= (size_t)n;
    }
    if (fsync(fd) < 0) {
        failf(err, errlen, "sync", tmp);
        goto fail;
    }
    if (close(fd) < 0) {
        fd = -1;
        failf(err, errlen, "close", tmp);
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        failf(err, errlen, "rename into", path);
        goto fail;
    }
    snprintf(dir, sizeof(dir), "%s", path);
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
    unlink(tmp);
    errno = e;
    return -1;
}
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

int fs_read_file(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    *data = NULL;
    if (len)
        *len = 0;
    if (!f)
        return failf(err, errlen, "open", path);
    for (;;) {
        size_t got;
        if (cap - n < 4096) {
            char *p;
            cap = cap ? cap * 2 : 8192;
            p = realloc(buf, cap + 1);
            if (!p) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return failf(err, errlen, "read", path);
            }
            buf = p;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        errno = EIO;
        return failf(err, errlen, "read", path);
    }
    fclose(f);
    buf[n] = '\0';
    *data = buf;
    if (len)
        *len = n;
    return 0;
}

int fs_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}
