/*
 * runner_lock.c - the runner's view of run directories on disk: a run's state (from its
 * manifest.json), the per-run lock, and moving an unfinished attempt aside.
 *
 * A run is measured in place, RESULTS/<grid>/<run-id>.  measure_run writes manifest.json last, so
 * a directory without a complete manifest is an unfinished run: before measuring again, the
 * runner moves it to RESULTS/<grid>/.attempts/<run-id>/<n> (kept for diagnosis, never read as a
 * run).  A complete directory is never touched again, so completed runs stay byte-identical
 * across resumes.  The per-run lock (flock on RESULTS/<grid>/.locks/<run-id>.lock) is released by
 * the kernel when its holder dies, even by SIGKILL, so a crash never leaves a run locked.  This
 * file does not write run directories (measure.c does).
 */
#include "run/runner_int.h"

#include "json.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

const char *runner_state_name(enum runner_state s)
{
    switch (s) {
    case RUNNER_STATE_PENDING: return "pending";
    case RUNNER_STATE_COMPLETE: return "complete";
    case RUNNER_STATE_FAILED: return "failed";
    case RUNNER_STATE_INTERRUPTED: return "interrupted";
    case RUNNER_STATE_INCOMPLETE: return "incomplete";
    }
    return "?";
}

enum runner_state runner__state_in(const char *grid_dir, const struct grid_run *r)
{
    char *dir = runner__path_join3(grid_dir, r->run_id, NULL);
    char *mf = runner__path_join3(grid_dir, r->run_id, "manifest.json");
    enum runner_state st = RUNNER_STATE_PENDING;
    char *text = NULL, err[256];
    size_t len = 0;
    struct jb_json *j = NULL;
    const char *status;

    if (!dir || !mf)
        goto out;
    if (!fs_exists(dir))
        goto out;
    st = RUNNER_STATE_INCOMPLETE;
    if (fs_read_file(mf, &text, &len, err, sizeof(err)) < 0)
        goto out;
    if (jb__json_parse(text, len, &j, err, sizeof(err)) < 0)
        goto out;
    status = jb__json_str(j, "status", "");
    if (!strcmp(status, "complete"))
        st = RUNNER_STATE_COMPLETE;
    else if (!strcmp(status, "failed"))
        st = RUNNER_STATE_FAILED;
    else if (!strcmp(status, "interrupted"))
        st = RUNNER_STATE_INTERRUPTED;
out:
    jb__json_free(j);
    free(text);
    free(dir);
    free(mf);
    return st;
}

enum runner_state runner_run_state(const struct grid *g, const char *results,
                                   const struct grid_run *r)
{
    char *grid_dir = runner__path_join3(results, g->name, NULL);
    enum runner_state st = grid_dir ? runner__state_in(grid_dir, r) : RUNNER_STATE_PENDING;
    free(grid_dir);
    return st;
}

/* A whole decimal number from 1 to INT_MAX - 1, or -1. */
static long attempt_number(const char *s)
{
    char *end;
    long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < 1 || v > INT_MAX - 1)
        return -1;
    return v;
}

/* Next free attempt slot under .attempts/<run-id>: 1 + the highest number there. */
static int attempts_next(const char *att_dir)
{
    DIR *d = opendir(att_dir);
    struct dirent *e;
    long best = 0;

    if (!d)
        return 1;
    while ((e = readdir(d))) {
        long v = attempt_number(e->d_name);
        if (v > best)
            best = v;
    }
    closedir(d);
    return (int)best + 1;
}

int runner__move_aside(struct runner *R, const struct grid_run *r, const char *dir, int *attempt)
{
    char *att = runner__path_join3(R->grid_dir, ".attempts", r->run_id);
    char err[512];
    int rc = -1, n;

    if (!att) {
        runner__msg(R, RUNNER_MSG_ERROR, "out of memory");
        return -1;
    }
    n = attempts_next(att);
    if (fs_exists(dir)) {
        char num[32], *dst;
        if (fs_mkdir_p(att, err, sizeof(err)) < 0) {
            runner__msg(R, RUNNER_MSG_ERROR, "%s", err);
            goto out;
        }
        snprintf(num, sizeof(num), "%d", n);
        dst = runner__path_join3(att, num, NULL);
        if (!dst || rename(dir, dst) < 0) {
            runner__msg(R, RUNNER_MSG_ERROR,
                        "cannot move the unfinished run '%s' aside to '%s': %s", dir,
                        dst ? dst : "?", strerror(errno));
            free(dst);
            goto out;
        }
        free(dst);
        fs_sync_dir(R->grid_dir);
        n++;
    }
    *attempt = n;
    rc = 0;
out:
    free(att);
    return rc;
}

int runner__lock_run(struct runner *R, const struct grid_run *r)
{
    char *dir = runner__path_join3(R->grid_dir, ".locks", NULL);
    struct strbuf name = STRBUF_INIT;
    char err[512];
    int fd = -1;

    sb_printf(&name, "%s/%s.lock", dir ? dir : "", r->run_id);
    if (!dir || sb_failed(&name)) {
        runner__msg(R, RUNNER_MSG_ERROR, "out of memory");
        goto out;
    }
    if (fs_mkdir_p(dir, err, sizeof(err)) < 0) {
        runner__msg(R, RUNNER_MSG_ERROR, "%s", err);
        goto out;
    }
    /* O_CLOEXEC: the measured command must not inherit (and so outlive us holding) the lock. */
    fd = open(sb_str(&name), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        runner__msg(R, RUNNER_MSG_ERROR, "cannot open lock file '%s': %s", sb_str(&name),
                    strerror(errno));
        goto out;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        if (e == EINTR)
            continue;
        if (e != EWOULDBLOCK)
            runner__msg(R, RUNNER_MSG_ERROR, "cannot lock '%s': %s", sb_str(&name), strerror(e));
        close(fd);
        fd = e == EWOULDBLOCK ? -2 : -1;
        break;
    }
out:
    free(dir);
    sb_free(&name);
    return fd;
}
