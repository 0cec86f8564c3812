/*
 * report_out.c - the report folder as one unit (see report.h): every file of a report is written
 * into a hidden sibling folder, PARENT/.NAME.new-PID, which then takes the place of PARENT/NAME in
 * one step, so that a reader (or an interrupt) sees the whole old report or the whole new one,
 * never a mix.  An existing report is swapped out with renameat2(RENAME_EXCHANGE) and removed;
 * where the file system cannot exchange (EINVAL, ENOSYS), the old folder is renamed aside first,
 * and for the instant between the two renames there is no folder at NAME at all (never a mixed
 * one).  Also report_write, through which every file of a report goes, with the hooks that let
 * the tool stop between files on a signal.  Not a writer of any one file's contents.
 */
#define _XOPEN_SOURCE 700 /* nftw(3), before any system header */

#include "analysis/report.h"

#include "util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static report_before_fn hook_before;
static report_after_fn hook_after;
static void *hook_ctx;

void report_set_write_hooks(report_before_fn before, report_after_fn after, void *ctx)
{
    hook_before = before;
    hook_after = after;
    hook_ctx = ctx;
}

int report_write(const char *dir, const char *name, const char *data, size_t len, char *err,
                 size_t errlen)
{
    char path[PATH_MAX];

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
        snprintf(err, errlen, "'%s/%s': path too long", dir, name);
        return -1;
    }
    if (hook_before && hook_before(hook_ctx)) {
        snprintf(err, errlen, "interrupted before writing '%s'", path);
        return -1;
    }
    if (fs_write_atomic(path, data ? data : "", len, err, errlen) < 0)
        return -1;
    if (hook_after)
        hook_after(hook_ctx, path);
    return 0;
}

/* rm -r of a folder this module made, through nftw(3): depth first, no symlink followed
 * (FTW_PHYS: a link is removed, not what it points to), on one file system (FTW_MOUNT).  Nothing
 * deeper than RM_MAX_DEPTH is removed (nor, then, the folders holding it): -1. */
#define RM_MAX_DEPTH 16
static int rm_failed;

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    if (ftw->level > RM_MAX_DEPTH) {
        rm_failed = 1;
        return 0;
    }
    if (type == FTW_DNR || type == FTW_NS || (type == FTW_DP ? rmdir(path) : unlink(path)) < 0)
        rm_failed = 1;
    return 0;
}

static int rm_tree(const char *path)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    rm_failed = 0;
    if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
        return -1;
    return rm_failed ? -1 : 0;
}

/* 1 when dir may be replaced by a report: empty, or holding a report.json and no manifest.json
 * (never a run directory, a results folder or a user's own folder). */
static int replaceable(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int entries = 0, report = 0, run = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        entries++;
        report |= !strcmp(e->d_name, "report.json");
        run |= !strcmp(e->d_name, "manifest.json") || !strcmp(e->d_name, "samples.csv");
    }
    closedir(d);
    return !run && (entries == 0 || report);
}

int report_out_begin(struct report_out *o, const char *final, char *err, size_t errlen)
{
    char buf[PATH_MAX], *slash;
    const char *base;
    struct stat st;
    size_t n;

    memset(o, 0, sizeof(*o));
    if (snprintf(buf, sizeof(buf), "%s", final) >= (int)sizeof(buf)) {
        snprintf(err, errlen, "'%s': path too long", final);
        return -1;
    }
    n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    if (lstat(buf, &st) == 0) {
        char *real;
        if (!S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
            snprintf(err, errlen, "'%s' exists and is not a folder", final);
            return -1;
        }
        /* an existing folder (or a link to one) by its real name, so "-o ." and links work */
        real = realpath(buf, NULL);
        if (!real || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "'%s' exists and is not a folder", final);
            free(real);
            return -1;
        }
        if (!replaceable(real)) {
            snprintf(err, errlen,
                     "'%s' exists and is not a report folder (no report.json, or it holds a run "
                     "directory's files); give another -o, or remove it",
                     final);
            free(real);
            return -1;
        }
        if (snprintf(buf, sizeof(buf), "%s", real) >= (int)sizeof(buf)) {
            free(real);
            snprintf(err, errlen, "'%s': path too long", final);
            return -1;
        }
        free(real);
    }
    slash = strrchr(buf, '/');
    base = slash ? slash + 1 : buf;
    if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
        snprintf(err, errlen, "'%s': not a folder name a report can be given", final);
        return -1;
    }
    snprintf(o->final, sizeof(o->final), "%s", buf);
    if (slash == buf)
        snprintf(o->parent, sizeof(o->parent), "/");
    else if (slash)
        snprintf(o->parent, sizeof(o->parent), "%.*s", (int)(slash - buf), buf);
    else
        snprintf(o->parent, sizeof(o->parent), ".");
    if (snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.new-%ld", o->parent, base, (long)getpid()) >=
            (int)sizeof(o->tmp) ||
        snprintf(o->old, sizeof(o->old), "%s/.%s.old-%ld", o->parent, base, (long)getpid()) >=
            (int)sizeof(o->old)) {
        snprintf(err, errlen, "'%s': path too long", final);
        return -1;
    }
    if (fs_mkdir_p(o->parent, err, errlen) < 0)
        return -1;
    rm_tree(o->tmp); /* left by an earlier process of the same id */
    if (mkdir(o->tmp, 0755) < 0) {
        snprintf(err, errlen, "cannot create '%s': %s", o->tmp, strerror(errno));
        return -1;
    }
    o->active = 1;
    return 0;
}

/* renameat2(a, b, RENAME_EXCHANGE) by its system call (glibc < 2.28 has no wrapper). */
static int exchange(const char *a, const char *b)
{
#ifdef SYS_renameat2
    return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */);
#else
    (void)a;
    (void)b;
    errno = ENOSYS;
    return -1;
#endif
}

int report_out_commit(struct report_out *o, char *err, size_t errlen)
{
    struct stat st;

    if (!o->active) {
        snprintf(err, errlen, "no report being written");
        return -1;
    }
    if (lstat(o->final, &st) < 0) {
        if (rename(o->tmp, o->final) < 0) {
            snprintf(err, errlen, "cannot rename '%s' to '%s': %s", o->tmp, o->final,
                     strerror(errno));
            return -1;
        }
    } else if (exchange(o->tmp, o->final) == 0) {
        /* o->tmp now holds the old report */
        if (rm_tree(o->tmp) < 0) {
            snprintf(err, errlen,
                     "the new report is in '%s', but the old one could not be "
                     "removed from '%s'",
                     o->final, o->tmp);
            o->active = 0;
            fs_sync_dir(o->parent);
            return -1;
        }
    } else if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP) {
        /* no exchange here (some network file systems): old aside, new in, old removed.  Between
         * the two renames there is no report at o->final, never a mixed one. */
        rm_tree(o->old);
        if (rename(o->final, o->old) < 0) {
            snprintf(err, errlen, "cannot rename '%s' to '%s': %s", o->final, o->old,
                     strerror(errno));
            return -1;
        }
        if (rename(o->tmp, o->final) < 0) {
            int e = errno;
            if (rename(o->old, o->final) < 0) {
                snprintf(err, errlen,
                         "cannot rename '%s' to '%s': %s (the old report is in "
                         "'%s')",
                         o->tmp, o->final, strerror(e), o->old);
                return -1;
            }
            snprintf(err, errlen, "cannot rename '%s' to '%s': %s", o->tmp, o->final, strerror(e));
            return -1;
        }
        rm_tree(o->old);
    } else {
        snprintf(err, errlen, "cannot exchange '%s' and '%s': %s", o->tmp, o->final,
                 strerror(errno));
        return -1;
    }
    o->active = 0;
    fs_sync_dir(o->parent);
    return 0;
}

void report_out_abort(struct report_out *o)
{
    if (!o->active)
        return;
    rm_tree(o->tmp);
    o->active = 0;
}
