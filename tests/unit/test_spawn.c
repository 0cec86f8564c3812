/*
 * test_spawn.c - the shared spawner (src/util/spawn.c): a missing command is ENOENT at the exec
 * step, a file without execute permission EACCES (by path and through PATH), a folder that does
 * not exist ENOENT at the chdir step (reported before a missing command, as execvp after chdir
 * did), no child left behind on failure; the environment passed is the child's whole
 * environment (spawn_env replaces and adds); dups place descriptors, SPAWN_DEVNULL is /dev/null,
 * keep_fds survive the exec and others do not; new_pgrp makes the child a group leader; PATH is
 * looked up in the child's environment, relative entries against workdir; a script without
 * "#!" runs through /bin/sh; signal dispositions are reset in the child.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/spawn.h"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/jb-spawn-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text, mode_t mode)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

/* Runs o to its end; returns the exit status (the child's), or -1 when spawn_start failed. */
static int run(const struct spawn_opts *o, struct spawn_error *e)
{
    int st;
    pid_t pid = spawn_start(o, e);

    if (pid < 0)
        return -1;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void assert_no_child(void)
{
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_missing_command(void **state)
{
    char *argv[] = {"jb-no-such-command-xyz", NULL};
    struct spawn_opts o = {.argv = argv};
    struct spawn_error e;
    char msg[256];
    (void)state;

    assert_int_equal(run(&o, &e), -1);
    assert_int_equal(e.stage, SPAWN_ERR_EXEC);
    assert_int_equal(e.err, ENOENT);
    assert_int_equal(errno, ENOENT);
    assert_no_child();
    spawn_error_text(&o, &e, msg, sizeof(msg));
    assert_string_equal(msg, "cannot run 'jb-no-such-command-xyz': No such file or directory");
    /* By path too. */
    argv[0] = "/nonexistent/jb-cmd";
    assert_int_equal(run(&o, &e), -1);
    assert_int_equal(e.stage, SPAWN_ERR_EXEC);
    assert_int_equal(e.err, ENOENT);
}

static void test_not_executable(void **state)
{
    char path[256], pathvar[300];
    char *argv[] = {path, NULL}, *env[] = {pathvar, NULL};
    struct spawn_opts o = {.argv = argv};
    struct spawn_error e;
    (void)state;

    write_file("noexec", "#!/bin/sh\nexit 0\n", 0644);
    snprintf(path, sizeof(path), "%s/noexec", tmpdir);
    assert_int_equal(run(&o, &e), -1);
    assert_int_equal(e.stage, SPAWN_ERR_EXEC);
    assert_int_equal(e.err, EACCES);
    /* Through PATH: found but not executable is EACCES, as execvp says. */
    snprintf(pathvar, sizeof(pathvar), "PATH=/nonexistent:%s", tmpdir);
    argv[0] = "noexec";
    o.envp = env;
    assert_int_equal(run(&o, &e), -1);
    assert_int_equal(e.stage, SPAWN_ERR_EXEC);
    assert_int_equal(e.err, EACCES);
    assert_no_child();
}

static void test_bad_workdir(void **state)
{
    char *argv[] = {"true", NULL};
    struct spawn_opts o = {.argv = argv, .workdir = "/nonexistent/jb-dir"};
    struct spawn_error e;
    char msg[256];
    (void)state;

    assert_int_equal(run(&o, &e), -1);
    assert_int_equal(e.stage, SPAWN_ERR_CHDIR);
    assert_int_equal(e.err, ENOENT);
    spawn_error_text(&o, &e, msg, sizeof(msg));
    assert_string_equal(msg, "cannot enter '/nonexistent/jb-dir': No such file or directory");
    /* The folder is reported first even when the command is missing too. */
    argv[0] = "jb-no-such-command-xyz";
    assert_int_equal(run(&o, &e), -1);
    assert_int_equal(e.stage, SPAWN_ERR_CHDIR);
    assert_no_child();
}

static void test_env_and_workdir(void **state)
{
    char out[256], line[256];
    char *add[] = {"JB_SPAWN_A=one", "HOME=/jb-home", NULL};
    char **env = spawn_env(NULL, add);
    char *argv[] = {
        "sh", "-c",
        "echo \"$JB_SPAWN_A $HOME $(pwd)\" > out; [ \"$(env | grep -c '^HOME=')\" = 1 ]", NULL};
    struct spawn_opts o = {.argv = argv, .workdir = tmpdir};
    struct spawn_error e;
    FILE *f;
    (void)state;

    assert_non_null(env);
    o.envp = env;
    assert_int_equal(run(&o, &e), 0);
    snprintf(out, sizeof(out), "%s/out", tmpdir);
    f = fopen(out, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    snprintf(out, sizeof(out), "one /jb-home %s\n", tmpdir);
    assert_string_equal(line, out);
    /* HOME replaced, not doubled. */
    {
        size_t homes = 0;
        for (size_t i = 0; env[i]; i++)
            homes += !strncmp(env[i], "HOME=", 5);
        assert_int_equal(homes, 1);
    }
    free(env);
}

static int pipe_cloexec(int p[2])
{
    if (pipe(p) < 0)
        return -1;
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

static void test_fds(void **state)
{
    int p[2], keep[2], other[2];
    char cmd[256], buf[256] = {0};
    char *argv[] = {"sh", "-c", cmd, NULL};
    struct spawn_dup dups[2];
    struct spawn_opts o = {.argv = argv, .dups = dups, .n_dups = 2};
    struct spawn_error e;
    ssize_t n;
    (void)state;

    assert_int_equal(pipe_cloexec(p), 0);
    assert_int_equal(pipe_cloexec(keep), 0);
    assert_int_equal(pipe_cloexec(other), 0);
    /* stdout to the pipe, stdin /dev/null (reads EOF), keep[1] open, other[1] closed. */
    dups[0] = (struct spawn_dup){p[1], STDOUT_FILENO};
    dups[1] = (struct spawn_dup){SPAWN_DEVNULL, STDIN_FILENO};
    o.keep_fds = &keep[1];
    o.n_keep_fds = 1;
    snprintf(cmd, sizeof(cmd),
             "read x; echo \"in=$? \"; echo kept >&%d && echo keep-ok; "
             "(echo x >&%d) 2>/dev/null || echo other-closed",
             keep[1], other[1]);
    assert_int_equal(run(&o, &e), 0);
    close(p[1]);
    close(keep[1]);
    close(other[1]);
    n = read(p[0], buf, sizeof(buf) - 1);
    assert_true(n > 0);
    assert_string_equal(buf, "in=1 \nkeep-ok\nother-closed\n");
    memset(buf, 0, sizeof(buf));
    assert_int_equal(read(keep[0], buf, sizeof(buf) - 1), 5);
    assert_string_equal(buf, "kept\n");
    close(p[0]);
    close(keep[0]);
    close(other[0]);
}

static void test_pgrp_and_signals(void **state)
{
    char *argv[] = {"sh", "-c",
                    "[ \"$(cut -d' ' -f5 /proc/$$/stat)\" = \"$$\" ] || exit 3; "
                    "kill -PIPE $$; exit 4",
                    NULL};
    struct spawn_opts o = {.argv = argv, .new_pgrp = 1, .death_signal = SIGKILL};
    struct spawn_error e;
    struct sigaction ign, old;
    pid_t pid;
    int st;
    (void)state;

    /* Ignored here, default in the child: the child dies of its own SIGPIPE. */
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old);
    pid = spawn_start(&o, &e);
    sigaction(SIGPIPE, &old, NULL);
    assert_true(pid > 0);
    assert_int_equal(getpgid(pid) == pid || getpgid(pid) < 0, 1); /* may have exited already */
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGPIPE);
    /* Without new_pgrp the child is in our group. */
    o.new_pgrp = 0;
    assert_int_equal(run(&o, &e), 3);
}

static void test_path_lookup(void **state)
{
    char pathvar[300];
    char *argv[] = {"jb-tool", NULL}, *env[] = {pathvar, NULL};
    struct spawn_opts o = {.argv = argv, .envp = env};
    struct spawn_error e;
    (void)state;

    assert_int_equal(mkdir(strcat(strcpy(pathvar, tmpdir), "/bin"), 0755), 0);
    write_file("bin/jb-tool", "#!/bin/sh\nexit 7\n", 0755);
    write_file("bin/jb-script", "exit 8\n", 0755); /* no "#!": /bin/sh runs it */
    /* A relative PATH entry is looked up in the child's folder. */
    snprintf(pathvar, sizeof(pathvar), "PATH=/nonexistent:bin");
    o.workdir = tmpdir;
    assert_int_equal(run(&o, &e), 7);
    argv[0] = "jb-script";
    assert_int_equal(run(&o, &e), 8);
    /* Without workdir, bin is not here. */
    o.workdir = NULL;
    assert_int_equal(run(&o, &e), -1);
    assert_int_equal(e.err, ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_command),
        cmocka_unit_test(test_not_executable),
        cmocka_unit_test(test_bad_workdir),
        cmocka_unit_test(test_env_and_workdir),
        cmocka_unit_test(test_fds),
        cmocka_unit_test(test_pgrp_and_signals),
        cmocka_unit_test(test_path_lookup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
