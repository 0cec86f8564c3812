/*
 * spawn.h - starting a child process: argv (never a shell), PATH lookup, a complete environment,
 * a working directory, descriptors to place and to keep, an optional process group and death
 * signal.  git's run-command and libuv's uv_spawn are the models: everything that allocates or
 * reads the environment (the environment array, the PATH lookup, the shell fallback's argv) is
 * done in the parent before fork, so the child runs only async-signal-safe calls (sigaction,
 * dup2, fcntl, chdir, setpgid, prctl, execve, write, _exit).  That is what makes it safe to fork
 * from a process whose other threads (the sampler's) hold locks.  A failed chdir or exec comes
 * back to the parent through a close-on-exec pipe (libuv's pattern): spawn_start returns -1 with
 * the step and its errno, and no child is left behind.
 *
 * It waits for nothing but the exec, and supervises nothing: waiting, signalling and relaying
 * output are the caller's (measure_supervise.c, runner_gpus.c).  It prints nothing.
 */
#ifndef JB_UTIL_SPAWN_H
#define JB_UTIL_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/* spawn_dup.from: /dev/null, opened read-write by the parent before fork. */
#define SPAWN_DEVNULL (-2)

/* One descriptor placed in the child: dup2(from, to), in the order given.  from == to keeps
 * the descriptor across the exec (its close-on-exec flag cleared). */
struct spawn_dup {
    int from;
    int to;
};

struct spawn_opts {
    const char *file;    /* what to execute; NULL: argv[0].  Without a '/' it is looked up in the
                         * PATH of envp (of environ when envp is NULL; "/bin:/usr/bin" when
                         * unset), as execvp does, relative entries against workdir */
    char *const *argv;   /* NULL-terminated; argv[0] is what the child sees as its name */
    char *const *envp;   /* the child's whole environment; NULL: environ (spawn_env builds one) */
    const char *workdir; /* NULL: the parent's */
    const struct spawn_dup *dups;
    size_t n_dups;
    const int *keep_fds; /* descriptors the child inherits across the exec (close-on-exec
                          * cleared in the child only); every other one keeps its flag */
    size_t n_keep_fds;
    int new_pgrp;     /* 1: the child leads a new process group (set on both sides, so that a
                       * kill(-pid) right after the return reaches it) */
    int death_signal; /* non-zero: sent to the child when the parent thread dies
                       * (PR_SET_PDEATHSIG); a child whose parent died before that exits */
};

/* The step that failed. */
enum spawn_stage {
    SPAWN_OK = 0,
    SPAWN_ERR_SETUP, /* in the parent before fork: memory, the error pipe, /dev/null */
    SPAWN_ERR_FORK,
    SPAWN_ERR_CHDIR, /* the child could not enter workdir */
    SPAWN_ERR_EXEC,  /* not found in PATH, not executable, exec failed */
};

struct spawn_error {
    enum spawn_stage stage;
    int err; /* its errno */
};

/*
 * Starts the child.  Returns its pid once the exec succeeded, or -1 with *e filled (and errno
 * set to e->err); a child that failed its chdir or exec has been reaped.  In the child every
 * signal is back to its default disposition and the signal mask is empty.  A file that execve
 * refuses with ENOEXEC (a script without "#!") is run by /bin/sh, as execvp does.
 * Not thread-safe with respect to other threads changing the environment while it runs.
 */
pid_t spawn_start(const struct spawn_opts *o, struct spawn_error *e);

/* A message for a failure of spawn_start: "cannot run 'FILE': reason", "cannot enter 'DIR':
 * reason", "cannot fork: reason", "cannot start 'FILE': reason" (setup). */
void spawn_error_text(const struct spawn_opts *o, const struct spawn_error *e, char *buf, size_t n);

/*
 * An environment: base's entries (NULL: environ) minus those whose name an entry of add sets,
 * then add's entries in order ("NAME=VALUE"; add may be NULL).  The array is malloc'ed, the
 * strings are base's and add's (not copied): free the array alone with free().  NULL when out
 * of memory.
 */
char **spawn_env(char *const *base, char *const *add);

#endif
