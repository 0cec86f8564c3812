/*
 * gnuplot.c - see gnuplot.h.  The child is started with fork/exec; a failed exec is reported to
 * the parent through a close-on-exec pipe (the libuv way), so "gnuplot is not installed" is told
 * apart from "gnuplot ran and failed".
 */
#include "analysis/gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void gp_quote(struct strbuf *sb, const char *s)
{
    sb_putc(sb, '\'');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\'')
            sb_puts(sb, "''");
        else if (c < 0x20 || c == 0x7f)
            sb_putc(sb, ' ');
        else
            sb_putc(sb, (char)c);
    }
    sb_putc(sb, '\'');
}

void gp_num(struct strbuf *sb, double v)
{
    if (!isfinite(v))
        sb_puts(sb, "NaN");
    else
        sb_printf(sb, "%.10g", v);
}

/* The last non-empty line of the log, for the error message. */
static void log_tail(const char *dir, const char *log, char *out, size_t outlen)
{
    char path[PATH_MAX], line[512];
    FILE *f;

    out[0] = '\0';
    if (snprintf(path, sizeof(path), "%s/%s", dir, log) >= (int)sizeof(path))
        return;
    f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = '\0';
        if (n > 0)
            snprintf(out, outlen, "%s", line);
    }
    fclose(f);
}

int gp_run(const char *dir, const char *script, const char *log, char *err, size_t errlen)
{
    const char *prog = getenv("JB_GNUPLOT");
    int pfd[2] = {-1, -1}, status, child_errno = 0;
    char tail[512];
    pid_t pid;
    ssize_t n;

    if (!prog || !*prog)
        prog = "gnuplot";
    if (pipe(pfd) < 0 || fcntl(pfd[0], F_SETFD, FD_CLOEXEC) < 0 ||
        fcntl(pfd[1], F_SETFD, FD_CLOEXEC) < 0) {
        if (pfd[0] >= 0) {
            close(pfd[0]);
            close(pfd[1]);
        }
        snprintf(err, errlen, "cannot run '%s': pipe: %s", prog, strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        snprintf(err, errlen, "cannot run '%s': fork: %s", prog, strerror(e));
        return -1;
    }
    if (pid == 0) {
        /* Child: only async-signal-safe calls from here on. */
        int fd, e;
        char *argv[3];

        close(pfd[0]);
        if (chdir(dir) < 0)
            goto child_fail;
        fd = open("/dev/null", O_RDONLY);
        if (fd < 0 || dup2(fd, 0) < 0)
            goto child_fail;
        if (fd > 2)
            close(fd);
        fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            goto child_fail;
        if (fd > 2)
            close(fd);
        argv[0] = (char *)prog;
        argv[1] = (char *)script;
        argv[2] = NULL;
        execvp(prog, argv);
    child_fail:
        e = errno;
        while (write(pfd[1], &e, sizeof(e)) < 0 && errno == EINTR)
            ;
        _exit(127);
    }
    close(pfd[1]);
    do
        n = read(pfd[0], &child_errno, sizeof(child_errno));
    while (n < 0 && errno == EINTR);
    close(pfd[0]);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(err, errlen, "cannot run '%s': waitpid: %s", prog, strerror(errno));
            return -1;
        }
    }
    if (n == (ssize_t)sizeof(child_errno)) {
        snprintf(err, errlen,
                 "cannot run '%s' for '%s/%s': %s (install gnuplot: apt-get install "
                 "gnuplot-nox)",
                 prog, dir, script, strerror(child_errno));
        return -1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    log_tail(dir, log, tail, sizeof(tail));
    if (WIFEXITED(status))
        snprintf(err, errlen, "gnuplot failed on '%s/%s' (exit status %d): %s (see '%s/%s')", dir,
                 script, WEXITSTATUS(status), tail[0] ? tail : "no message", dir, log);
    else
        snprintf(err, errlen, "gnuplot failed on '%s/%s': killed by signal %d (see '%s/%s')", dir,
                 script, WIFSIGNALED(status) ? WTERMSIG(status) : 0, dir, log);
    return -1;
}
