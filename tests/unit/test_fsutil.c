/*
 * test_fsutil.c - file-system helpers (src/util/fsutil.c): atomic replacement of a whole file,
 * no temporary file left when a write fails (a rename onto a directory; a directory not writable,
 * checked in a forked child that drops to uid 65534 when run as root), mkdir -p, whole-file reads
 * of regular files only, size-bounded, the file-name rule of run ids, and fs_out: "-", FIFOs,
 * devices and symbolic links written in place or through the link, never replaced (issue 9).
 * Not a test of crash consistency (fsync) itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/fsutil.h"

static char root[64];
static char err[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/jb-test-fsutil-XXXXXX");
    if (!mkdtemp(root))
        return -1;
    return chmod(root, 0755);
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static char *path_of(const char *rel)
{
    static char buf[4][256];
    static int next;
    char *p = buf[next++ % 4];

    snprintf(p, sizeof(buf[0]), "%s/%s", root, rel);
    return p;
}

static void write_plain(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* The whole file, which must exist. */
static char *slurp(const char *path, size_t *len)
{
    char *data = NULL;

    if (fs_read_file(path, &data, len, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    return data;
}

/* Number of entries of dir whose name contains ".tmp." */
static int count_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static void test_write_atomic_replaces(void **state)
{
    const char *p = path_of("f.json");
    char big[20000];
    char *data;
    size_t len;

    (void)state;
    memset(big, 'x', sizeof(big));
    assert_int_equal(fs_write_atomic(p, big, sizeof(big), err, sizeof(err)), 0);
    data = slurp(p, &len);
    assert_int_equal(len, sizeof(big));
    free(data);
    /* A shorter file replaces the whole longer one: nothing of the old tail stays. */
    assert_int_equal(fs_write_atomic(p, "a\0b", 3, err, sizeof(err)), 0);
    data = slurp(p, &len);
    assert_int_equal(len, 3);
    assert_int_equal(memcmp(data, "a\0b", 3), 0);
    free(data);
    assert_int_equal(fs_write_atomic(p, "", 0, err, sizeof(err)), 0);
    data = slurp(p, &len);
    assert_int_equal(len, 0);
    free(data);
    assert_int_equal(count_tmp(root), 0);
}

static void test_write_atomic_failure_leaves_nothing(void **state)
{
    char *dir = path_of("d");
    char *data;

    (void)state;
    /* The target is a directory: refused before any temporary file is made. */
    assert_int_equal(fs_mkdir_p(path_of("d/sub"), err, sizeof(err)), 0);
    assert_int_equal(fs_write_atomic(dir, "new", 3, err, sizeof(err)), -1);
    assert_int_equal(errno, EISDIR);
    assert_non_null(strstr(err, "cannot write '"));
    assert_non_null(strstr(err, "/d': Is a directory"));
    assert_int_equal(count_tmp(root), 0);
    assert_true(fs_exists(path_of("d/sub")));

    /* The parent directory does not exist. */
    assert_int_equal(fs_write_atomic(path_of("none/f"), "x", 1, err, sizeof(err)), -1);
    assert_int_equal(errno, ENOENT);
    assert_non_null(strstr(err, "cannot create '"));
    assert_non_null(strstr(err, "/none/f': "));
    assert_false(fs_exists(path_of("none")));

    write_plain(path_of("keep"), "old");
    data = slurp(path_of("keep"), NULL);
    assert_string_equal(data, "old");
    free(data);
}

/* In a directory it may not write to, fs_write_atomic fails, keeps the old file and leaves no
 * temporary file.  Root may write anywhere, so the child drops to nobody first. */
static void test_write_atomic_unwritable_dir(void **state)
{
    const char *dir = path_of("ro"), *file = path_of("ro/f");
    int pipefd[2];
    pid_t pid;
    int status;
    char msg[1024] = "";
    ssize_t n;
    char *data;

    (void)state;
    assert_int_equal(mkdir(dir, 0755), 0);
    write_plain(file, "old");
    assert_int_equal(chmod(dir, 0555), 0);
    assert_int_equal(pipe(pipefd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int rc, e;
        close(pipefd[0]);
        if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
            _exit(2);
        if (access(dir, W_OK) == 0)
            _exit(2); /* still writable: nothing to test */
        rc = fs_write_atomic(file, "new", 3, err, sizeof(err));
        e = errno;
        if (write(pipefd[1], err, strlen(err)) < 0)
            _exit(4);
        _exit(rc == -1 && e == EACCES ? 0 : 1);
    }
    close(pipefd[1]);
    n = read(pipefd[0], msg, sizeof(msg) - 1);
    close(pipefd[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    chmod(dir, 0755);
    if (WEXITSTATUS(status) == 2)
        skip();
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(n > 0);
    msg[n] = '\0';
    assert_non_null(strstr(msg, "cannot create '"));
    assert_non_null(strstr(msg, "/ro/f': Permission denied"));
    assert_non_null(strstr(msg, "': Permission denied"));
    data = slurp(file, NULL);
    assert_string_equal(data, "old");
    free(data);
    assert_int_equal(count_tmp(dir), 0);
}

static void test_mkdir_p(void **state)
{
    struct stat st;

    (void)state;
    assert_int_equal(fs_mkdir_p(path_of("a/b/c"), err, sizeof(err)), 0);
    assert_int_equal(stat(path_of("a/b/c"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0755);
    assert_int_equal(fs_mkdir_p(path_of("a/b/c"), err, sizeof(err)), 0); /* exists: fine */
    assert_int_equal(fs_mkdir_p(path_of("a//x/y/"), err, sizeof(err)), 0);
    assert_int_equal(stat(path_of("a/x/y"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));

    /* A file in the way, in the middle or at the end. */
    write_plain(path_of("a/file"), "");
    assert_int_equal(fs_mkdir_p(path_of("a/file/z"), err, sizeof(err)), -1);
    assert_int_equal(errno, ENOTDIR);
    assert_non_null(strstr(err, "cannot create directory '"));
    assert_non_null(strstr(err, "/a/file/z': "));
    assert_int_equal(fs_mkdir_p(path_of("a/file"), err, sizeof(err)), -1);
    assert_int_equal(errno, ENOTDIR);
    assert_non_null(strstr(err, "/a/file': Not a directory"));

    assert_int_equal(fs_mkdir_p("", err, sizeof(err)), -1);
    assert_int_equal(errno, ENOENT);
    assert_string_equal(err, "cannot create directory '': No such file or directory");
}

static void test_read_file(void **state)
{
    const char *p = path_of("data.bin");
    static char big[100000];
    char *data;
    size_t len = 99;

    (void)state;
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 7);
    assert_int_equal(fs_write_atomic(p, big, sizeof(big), err, sizeof(err)), 0);
    data = slurp(p, &len);
    assert_int_equal(len, sizeof(big));
    assert_int_equal(memcmp(data, big, sizeof(big)), 0);
    assert_int_equal(data[len], '\0');
    free(data);

    write_plain(path_of("empty"), "");
    data = slurp(path_of("empty"), &len);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);

    data = (char *)1;
    assert_int_equal(fs_read_file(path_of("missing"), &data, &len, err, sizeof(err)), -1);
    assert_int_equal(errno, ENOENT);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_non_null(strstr(err, "cannot open '"));
    assert_non_null(strstr(err, "/missing': No such file or directory"));
    assert_int_equal(fs_read_file(root, &data, NULL, err, sizeof(err)), -1); /* a directory */
    assert_null(data);
    assert_non_null(strstr(err, "cannot read '"));
    assert_false(fs_exists(path_of("missing")));
    assert_true(fs_exists(root));
}

/* Inputs are regular files of bounded size: a FIFO hung 'report', /dev/zero filled memory. */
static void test_read_regular_only(void **state)
{
    const char *fifo = path_of("fifo"), *zero = path_of("zero");
    char *data = (char *)1;
    size_t len = 99, size = 99;
    int fd;

    (void)state;
    assert_int_equal(mkfifo(fifo, 0644), 0);
    /* Without O_NONBLOCK this open would wait for a writer for ever. */
    assert_int_equal(fs_read_file(fifo, &data, &len, err, sizeof(err)), -1);
    assert_int_equal(errno, EINVAL);
    assert_null(data);
    assert_non_null(strstr(err, "/fifo': not a regular file (a FIFO)"));
    assert_int_equal(symlink("/dev/zero", zero), 0);
    assert_int_equal(fs_read_file(zero, &data, &len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/zero': not a regular file (a character device)"));
    assert_int_equal(fs_open_regular(root, 100, &size, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a regular file (a directory)"));

    write_plain(path_of("ten"), "0123456789");
    assert_int_equal(fs_read_regular(path_of("ten"), 9, &data, &len, err, sizeof(err)), -1);
    assert_int_equal(errno, EFBIG);
    assert_null(data);
    assert_non_null(strstr(err, "/ten': 10 bytes, more than the 9 bytes joulebench reads"));
    assert_int_equal(fs_read_regular(path_of("ten"), 10, &data, &len, err, sizeof(err)), 0);
    assert_int_equal(len, 10);
    assert_string_equal(data, "0123456789");
    free(data);
    /* A symbolic link to a regular file is that file. */
    assert_int_equal(symlink(path_of("ten"), path_of("link")), 0);
    fd = fs_open_regular(path_of("link"), 10, &size, err, sizeof(err));
    assert_true(fd >= 0);
    assert_int_equal(size, 10);
    /* Reads block normally again (O_NONBLOCK cleared). */
    assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    close(fd);
}

static void test_safe_names(void **state)
{
    char a[] = "../x y$;z", b[] = ".hidden", c[] = "ok-1.2_+=";
    (void)state;
    fs_safe_name(a);
    assert_string_equal(a, "_._x_y__z");
    fs_safe_name(b);
    assert_string_equal(b, "_hidden");
    fs_safe_name(c);
    assert_string_equal(c, "ok-1.2_+=");
    assert_true(fs_name_ok("seed-2023", 200));
    assert_false(fs_name_ok("", 200));
    assert_false(fs_name_ok(".hidden", 200));
    assert_false(fs_name_ok("..", 200));
    assert_false(fs_name_ok("../../escape", 200));
    assert_false(fs_name_ok("a/b", 200));
    assert_false(fs_name_ok("a b", 200));
    assert_true(fs_name_ok("abc", 3));
    assert_false(fs_name_ok("abcd", 3));
}

/* Issue 9 bug 2: a non-regular target is written in place, never replaced; a symbolic link to a
 * regular file stays a link (the file it points to is replaced); a dangling link is refused. */
static void test_out_non_regular(void **state)
{
    const char *fifo = path_of("fifo"), *lnk = path_of("lnk"), *nul = path_of("null");
    char buf[16] = "";
    struct stat st;
    pid_t pid;
    int status, fd;
    char *data;

    (void)state;
    /* A symlink to /dev/null: written, still a symlink, /dev/null still a device. */
    assert_int_equal(symlink("/dev/null", nul), 0);
    assert_int_equal(fs_write_atomic(nul, "x", 1, err, sizeof(err)), 0);
    assert_int_equal(lstat(nul, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));

    /* A FIFO behind a link: its reader gets the data, both stay what they were. */
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(symlink(fifo, lnk), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fs_write_atomic(lnk, "hello", 5, err, sizeof(err)) == 0 ? 0 : 1);
    fd = open(fifo, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof(buf) - 1), 5);
    close(fd);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_string_equal(buf, "hello");
    assert_int_equal(lstat(lnk, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));

    /* A link to a regular file: the file is replaced, the link stays. */
    write_plain(path_of("real"), "old");
    assert_int_equal(symlink("real", path_of("rl")), 0);
    assert_int_equal(fs_write_atomic(path_of("rl"), "new", 3, err, sizeof(err)), 0);
    assert_int_equal(lstat(path_of("rl"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    data = slurp(path_of("real"), NULL);
    assert_string_equal(data, "new");
    free(data);

    /* A dangling link: refused, nothing created. */
    assert_int_equal(symlink("missing", path_of("dl")), 0);
    assert_int_equal(fs_write_atomic(path_of("dl"), "x", 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "a symbolic link to a missing file"));
    assert_false(fs_exists(path_of("missing")));
    assert_int_equal(count_tmp(root), 0);
}

/* fs_out_open makes the temporary at once (a bad folder fails before any data exists); abort
 * removes it and keeps the old file. */
static void test_out_open_early(void **state)
{
    struct fs_out o;
    char *data;

    (void)state;
    assert_int_equal(fs_out_open(&o, path_of("none/x.json"), err, sizeof(err)), -1);
    assert_int_equal(errno, ENOENT);
    write_plain(path_of("keep"), "old");
    assert_int_equal(fs_out_open(&o, path_of("keep"), err, sizeof(err)), 0);
    assert_int_equal(o.kind, FS_OUT_REPLACE);
    assert_int_equal(count_tmp(root), 1);
    fs_out_abort(&o);
    assert_int_equal(count_tmp(root), 0);
    data = slurp(path_of("keep"), NULL);
    assert_string_equal(data, "old");
    free(data);
    assert_int_equal(fs_out_open(&o, "-", err, sizeof(err)), 0);
    assert_int_equal(o.kind, FS_OUT_STDOUT);
    assert_false(fs_exists("-"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_atomic_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_atomic_failure_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_atomic_unwritable_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_non_regular, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_open_early, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_regular_only, setup, teardown),
        cmocka_unit_test(test_safe_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
