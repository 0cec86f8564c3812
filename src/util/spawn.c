/*
 * spawn.c - starting a child process (see spawn.h).  The parent prepares everything (the path
 * to execute, the shell fallback's argv, /dev/null, the error pipe above the standard
 * descriptors); the child only places descriptors, changes folder and executes, reporting a
 * failed step as {stage, errno} on the close-on-exec pipe.  A successful exec closes the pipe, so
 * the parent's read returns 0.
 */
#include "util/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define SPAWN_DEFAULT_PATH "/bin:/usr/bin" /* what glibc's execvp uses without PATH */

/* What the parent prepared for the child (all allocated before fork). */
struct prepared {
    char *path;     /* what to execve; NULL when the lookup failed */
    int lookup_err; /* the lookup's errno, reported by the child after its chdir, as execvp
                      * would have (so a bad workdir is still reported first) */
    char **sh_argv; /* {"/bin/sh", path, argv[1..], NULL}: the ENOEXEC fallback */
    char *const *envp;
    int devnull; /* -1 unless a dup asks for it */
};

static const char *env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; envp && envp[i]; i++)
        if (!strncmp(envp[i], name, n) && envp[i][n] == '=')
            return envp[i] + n + 1;
    return NULL;
}

/* "a/b" or "WORKDIR/a/b": where the child's relative path a/b is, seen from the parent. */
static char *seen_from_parent(const char *workdir, const char *p)
{
    size_t n;
    char *s;

    if (p[0] == '/' || !workdir)
        return strdup(p);
    n = strlen(workdir) + strlen(p) + 2;
    s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", workdir, p);
    return s;
}

/*
 * execvp's search, done in the parent: the first PATH entry holding a regular file we may
 * execute.  0 with *out (malloc'ed), or ENOENT (nothing there), EACCES (something there, none
 * executable: execvp's answer too) or ENOMEM.  An empty entry is the current folder.
 */
static int find_in_path(const char *file, const char *path_var, const char *workdir, char **out)
{
    const char *p = path_var ? path_var : SPAWN_DEFAULT_PATH;
    int seen_eacces = 0;

    *out = NULL;
    if (!*file)
        return ENOENT;
    for (;;) {
        const char *colon = strchr(p, ':');
        size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
        size_t n = (dlen ? dlen : 1) + strlen(file) + 2;
        char *cand = malloc(n), *seen;
        struct stat st;

        if (!cand)
            return ENOMEM;
        snprintf(cand, n, "%.*s/%s", (int)(dlen ? dlen : 1), dlen ? p : ".", file);
        seen = seen_from_parent(workdir, cand);
        if (!seen) {
            free(cand);
            return ENOMEM;
        }
        if (stat(seen, &st) == 0) {
            if (S_ISREG(st.st_mode) && access(seen, X_OK) == 0) {
                free(seen);
                *out = cand;
                return 0;
            }
            seen_eacces = 1;
        } else if (errno == EACCES) {
            seen_eacces = 1;
        }
        free(seen);
        free(cand);
        if (!colon)
            return seen_eacces ? EACCES : ENOENT;
        p = colon + 1;
    }
}

static int prepare(const struct spawn_opts *o, struct prepared *pp)
{
    const char *file = o->file ? o->file : o->argv[0];
    size_t argc = 0;

    memset(pp, 0, sizeof(*pp));
    pp->devnull = -1;
    pp->envp = o->envp ? o->envp : environ;
    if (strchr(file, '/')) {
        pp->path = strdup(file);
        if (!pp->path)
            return ENOMEM;
    } else {
        pp->lookup_err = find_in_path(file, env_get(pp->envp, "PATH"), o->workdir, &pp->path);
        if (pp->lookup_err == ENOMEM)
            return ENOMEM;
    }
    while (o->argv[argc])
        argc++;
    pp->sh_argv = calloc(argc + 2, sizeof(char *));
    if (!pp->sh_argv)
        return ENOMEM;
    pp->sh_argv[0] = "/bin/sh";
    pp->sh_argv[1] = pp->path;
    for (size_t i = 1; i < argc; i++)
        pp->sh_argv[i + 1] = o->argv[i];
    for (size_t i = 0; i < o->n_dups; i++) {
        if (o->dups[i].from == SPAWN_DEVNULL && pp->devnull < 0) {
            pp->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
            if (pp->devnull < 0)
                return errno;
        }
    }
    return 0;
}

static void unprepare(struct prepared *pp)
{
    free(pp->path);
    free(pp->sh_argv);
    if (pp->devnull >= 0)
        close(pp->devnull);
}

static void child_fail(int fd, enum spawn_stage stage, int err)
{
    int msg[2] = {(int)stage, err};
    ssize_t n = write(fd, msg, sizeof(msg));

    (void)n;
    _exit(127);
}

/* In the child: async-signal-safe calls only (another thread may have held malloc's lock). */
static void child(const struct spawn_opts *o, const struct prepared *pp, int ep, pid_t parent)
{
    struct sigaction sa;
    sigset_t none;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &sa, NULL); /* glibc's reserved signals: EINVAL, harmless */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (o->death_signal) {
        prctl(PR_SET_PDEATHSIG, o->death_signal);
        if (getppid() != parent) /* the parent died before the prctl */
            _exit(128 + o->death_signal);
    }
    if (o->new_pgrp)
        setpgid(0, 0);
    for (size_t i = 0; i < o->n_dups; i++) {
        int from = o->dups[i].from == SPAWN_DEVNULL ? pp->devnull : o->dups[i].from;
        if (from == o->dups[i].to) {
            if (fcntl(from, F_SETFD, 0) < 0)
                child_fail(ep, SPAWN_ERR_SETUP, errno);
        } else if (dup2(from, o->dups[i].to) < 0) {
            child_fail(ep, SPAWN_ERR_SETUP, errno);
        }
    }
    for (size_t i = 0; i < o->n_keep_fds; i++)
        if (fcntl(o->keep_fds[i], F_SETFD, 0) < 0)
            child_fail(ep, SPAWN_ERR_SETUP, errno);
    if (o->workdir && chdir(o->workdir) < 0)
        child_fail(ep, SPAWN_ERR_CHDIR, errno);
    if (!pp->path)
        child_fail(ep, SPAWN_ERR_EXEC, pp->lookup_err);
    execve(pp->path, o->argv, pp->envp);
    if (errno == ENOEXEC)
        execve(pp->sh_argv[0], pp->sh_argv, pp->envp);
    child_fail(ep, SPAWN_ERR_EXEC, errno);
}

static pid_t fail(struct spawn_error *e, enum spawn_stage stage, int err)
{
    e->stage = stage;
    e->err = err;
    errno = err;
    return -1;
}

/* The error pipe, both ends close-on-exec and above 0..2 (which the dups may overwrite). */
static int error_pipe(int ep[2])
{
    int p[2];

    if (pipe(p) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        ep[i] = fcntl(p[i], F_DUPFD_CLOEXEC, 3);
        if (ep[i] < 0) {
            int saved = errno;
            close(p[0]);
            close(p[1]);
            if (i)
                close(ep[0]);
            errno = saved;
            return -1;
        }
    }
    close(p[0]);
    close(p[1]);
    return 0;
}

pid_t spawn_start(const struct spawn_opts *o, struct spawn_error *e)
{
    struct prepared pp;
    int ep[2], msg[2] = {0, 0}, rc;
    pid_t pid, parent = getpid();
    ssize_t n;

    e->stage = SPAWN_OK;
    e->err = 0;
    if (!o->argv || !o->argv[0])
        return fail(e, SPAWN_ERR_SETUP, EINVAL);
    rc = prepare(o, &pp);
    if (rc) {
        unprepare(&pp);
        return fail(e, SPAWN_ERR_SETUP, rc);
    }
    if (error_pipe(ep) < 0) {
        rc = errno;
        unprepare(&pp);
        return fail(e, SPAWN_ERR_SETUP, rc);
    }
    pid = fork();
    if (pid < 0) {
        rc = errno;
        close(ep[0]);
        close(ep[1]);
        unprepare(&pp);
        return fail(e, SPAWN_ERR_FORK, rc);
    }
    if (pid == 0) {
        close(ep[0]);
        child(o, &pp, ep[1], parent);
    }
    if (o->new_pgrp)
        setpgid(pid, pid); /* also here: no race with an early kill(-pid) */
    close(ep[1]);
    do {
        n = read(ep[0], msg, sizeof(msg));
    } while (n < 0 && errno == EINTR);
    close(ep[0]);
    unprepare(&pp);
    if (n != (ssize_t)sizeof(msg))
        return pid;
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return fail(e, (enum spawn_stage)msg[0], msg[1]);
}

void spawn_error_text(const struct spawn_opts *o, const struct spawn_error *e, char *buf, size_t n)
{
    const char *file = o->file ? o->file : (o->argv && o->argv[0] ? o->argv[0] : "");

    switch (e->stage) {
    case SPAWN_OK: snprintf(buf, n, "started"); break;
    case SPAWN_ERR_FORK: snprintf(buf, n, "cannot fork: %s", strerror(e->err)); break;
    case SPAWN_ERR_CHDIR:
        snprintf(buf, n, "cannot enter '%s': %s", o->workdir ? o->workdir : ".", strerror(e->err));
        break;
    case SPAWN_ERR_EXEC: snprintf(buf, n, "cannot run '%s': %s", file, strerror(e->err)); break;
    case SPAWN_ERR_SETUP:
    default: snprintf(buf, n, "cannot start '%s': %s", file, strerror(e->err)); break;
    }
}

char **spawn_env(char *const *base, char *const *add)
{
    size_t n = 0, n_add = 0, k = 0;
    char **env;

    if (!base)
        base = environ;
    while (base[n])
        n++;
    while (add && add[n_add])
        n_add++;
    env = calloc(n + n_add + 1, sizeof(char *));
    if (!env)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(base[i], '=');
        size_t klen = eq ? (size_t)(eq - base[i]) : strlen(base[i]);
        int replaced = 0;
        for (size_t j = 0; j < n_add && !replaced; j++)
            replaced = !strncmp(add[j], base[i], klen) && add[j][klen] == '=';
        if (!replaced)
            env[k++] = base[i];
    }
    for (size_t j = 0; j < n_add; j++)
        env[k++] = add[j];
    env[k] = NULL;
    return env;
}
