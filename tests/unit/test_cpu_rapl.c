/*
 * test_cpu_rapl.c - the RAPL backend (src/lib/cpu_rapl.c) on fake powercap trees.
 *
 * Each test builds a tree laid out like /sys/class/powercap in a mkdtemp directory, points
 * JOULEBENCH_POWERCAP_ROOT and JOULEBENCH_CPUINFO at it, and goes through the public API only
 * (jb_meter_set_add with "cpu", "cpu-packageN", "dramN", "auto").  Counters are changed by
 * rewriting energy_uj between reads.  The permission test drops to the nobody user in a forked
 * child when run as root, since root reads a mode-000 file anyway.  Not a test of real hardware.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "joulebench.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MODEL "Fake(R) Xeon(R) Gold 9999 CPU @ 2.10GHz"
#define BIG_RANGE_UJ 262143328850ull

struct fx {
    char root[256];
};

/* ---- fake trees ------------------------------------------------------------------------- */

/* Writes a new file and renames it over the old one, so that read-only files can be rewritten
 * also when the tests do not run as root. */
static void write_file(const char *root, const char *rel, const char *text, mode_t mode)
{
    char path[1024], tmp[1100];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    f = fopen(tmp, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(tmp, mode), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static void set_energy(const struct fx *fx, const char *zone, unsigned long long uj)
{
    char rel[256], text[64];

    snprintf(rel, sizeof(rel), "%s/energy_uj", zone);
    snprintf(text, sizeof(text), "%llu\n", uj);
    write_file(fx->root, rel, text, 0444);
}

/* A zone directory with name, energy_uj and max_energy_range_uj (all world-readable). */
static void mkzone(const struct fx *fx, const char *zone, const char *name,
                   unsigned long long energy_uj, unsigned long long max_uj)
{
    char path[1024], rel[256], text[64];

    snprintf(path, sizeof(path), "%s/%s", fx->root, zone);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(rel, sizeof(rel), "%s/name", zone);
    snprintf(text, sizeof(text), "%s\n", name);
    write_file(fx->root, rel, text, 0444);
    snprintf(rel, sizeof(rel), "%s/max_energy_range_uj", zone);
    snprintf(text, sizeof(text), "%llu\n", max_uj);
    write_file(fx->root, rel, text, 0444);
    set_energy(fx, zone, energy_uj);
}

static void rm_tree(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *de;

    if (lstat(path, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        d = opendir(path);
        if (d) {
            while ((de = readdir(d))) {
                char sub[1024];
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                    continue;
                snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
                rm_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    const char *tmp = getenv("TMPDIR");
    char cpuinfo[512];

    if (!fx)
        return -1;
    snprintf(fx->root, sizeof(fx->root), "%s/jb-rapl-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx->root) || chmod(fx->root, 0755) < 0) {
        free(fx);
        return -1;
    }
    /* cpuinfo lives in the tree too: its name matches no zone pattern. */
    snprintf(cpuinfo, sizeof(cpuinfo), "%s/cpuinfo", fx->root);
    setenv("JOULEBENCH_POWERCAP_ROOT", fx->root, 1);
    setenv("JOULEBENCH_CPUINFO", cpuinfo, 1);
    write_file(fx->root, "cpuinfo",
               "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n"
               "model name\t: " MODEL "\nflags\t\t: fpu rapl\n\n"
               "processor\t: 1\nmodel name\t: Another model that is not used\n",
               0444);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;

    rm_tree(fx->root);
    unsetenv("JOULEBENCH_POWERCAP_ROOT");
    unsetenv("JOULEBENCH_CPUINFO");
    free(fx);
    return 0;
}

/* Two sockets, each with core and dram subzones (package 1 also with uncore), in the order the
 * kernel may list them, plus the control-type directory that is not a zone. */
static void two_packages(const struct fx *fx)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/intel-rapl", fx->root);
    assert_int_equal(mkdir(path, 0755), 0);
    write_file(fx->root, "intel-rapl/enabled", "1\n", 0444);
    mkzone(fx, "intel-rapl:0", "package-0", 1000000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:0:0", "core", 500000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:0:1", "dram", 2000000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:1", "package-1", 3000000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:1:0", "dram", 4000000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:1:1", "core", 700000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:1:2", "uncore", 800000, BIG_RANGE_UJ);
}

/* Energy in whole microjoules, so sums compare exactly. */
static long long read_uj(struct jb_meter *m)
{
    struct jb_energy e;
    int rc = jb_meter_read_energy(m, &e);

    if (rc < 0)
        print_error("read_energy(%s): %s\n", jb_meter_get_info(m)->id, jb_meter_errmsg(m));
    assert_int_equal(rc, 0);
    assert_true(e.t_mono_ns > 0);
    return llround(e.energy_j * 1e6);
}

static struct jb_meter *meter_by_id(struct jb_meter_set *set, const char *id)
{
    for (size_t i = 0; i < jb_meter_set_count(set); i++) {
        struct jb_meter *m = jb_meter_set_get(set, i);
        if (!strcmp(jb_meter_get_info(m)->id, id))
            return m;
    }
    print_error("no meter '%s' in the set\n", id);
    fail();
    return NULL;
}

static void check_ids(struct jb_meter_set *set, const char *const *ids, size_t n)
{
    assert_int_equal(jb_meter_set_count(set), n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, i))->id, ids[i]);
}

static void add_ok(struct jb_meter_set *set, const char *spec)
{
    int rc = jb_meter_set_add(set, spec);

    if (rc < 0)
        print_error("jb_meter_set_add(%s): %s\n", spec, jb_meter_set_errmsg(set));
    assert_int_equal(rc, 0);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_two_packages(void **state)
{
    struct fx *fx = *state;
    struct jb_meter_set *set = jb_meter_set_new();
    static const char *const ids[] = {"cpu-package0", "cpu-package1", "dram0", "dram1"};
    static const char *const names[] = {MODEL " package 0", MODEL " package 1", MODEL " DRAM 0",
                                        MODEL " DRAM 1"};
    static const enum jb_meter_kind kinds[] = {JB_KIND_CPU_PACKAGE, JB_KIND_CPU_PACKAGE,
                                               JB_KIND_DRAM, JB_KIND_DRAM};

    two_packages(fx);
    assert_non_null(set);
    add_ok(set, "cpu");
    /* core and uncore never become meters: they are inside their package's energy. */
    check_ids(set, ids, 4);
    for (size_t i = 0; i < 4; i++) {
        struct jb_meter *m = jb_meter_set_get(set, i);
        const struct jb_meter_info *in = jb_meter_get_info(m);
        struct jb_sample s;

        assert_string_equal(in->name, names[i]);
        assert_int_equal(in->kind, kinds[i]);
        assert_string_equal(in->source, "rapl");
        assert_int_equal(in->caps, JB_CAP_ENERGY);
        assert_int_equal(in->simulated, 0);
        assert_int_equal(in->device_index, (int)(i % 2));
        assert_int_equal(llround(in->max_energy_range_j * 1e6), (long long)BIG_RANGE_UJ);
        assert_int_equal(jb_meter_read_sample(m, &s), 0);
        assert_int_equal(s.valid, 0); /* no power gauge */
        assert_true(s.t_mono_ns > 0);
        assert_int_equal(read_uj(m), 0); /* joules since open */
    }

    /* Each meter reads its own zone's counter. */
    set_energy(fx, "intel-rapl:1", 3000000 + 5000000);   /* package 1: +5 J */
    set_energy(fx, "intel-rapl:0:1", 2000000 + 1500000); /* dram 0: +1.5 J */
    set_energy(fx, "intel-rapl:0:0", 99000000);          /* core 0: not a meter */
    assert_int_equal(read_uj(meter_by_id(set, "cpu-package0")), 0);
    assert_int_equal(read_uj(meter_by_id(set, "cpu-package1")), 5000000);
    assert_int_equal(read_uj(meter_by_id(set, "dram0")), 1500000);
    assert_int_equal(read_uj(meter_by_id(set, "dram1")), 0);
    jb_meter_set_free(set);
}

static void test_select_one(void **state)
{
    struct fx *fx = *state;
    struct jb_meter_set *set = jb_meter_set_new();
    static const char *const ids[] = {"cpu-package1", "dram0"};

    two_packages(fx);
    add_ok(set, "cpu-package1");
    add_ok(set, "dram0");
    add_ok(set, "cpu-package1"); /* the same domain twice: kept once */
    check_ids(set, ids, 2);
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 1))->name, MODEL " DRAM 0");

    assert_int_equal(jb_meter_set_add(set, "dram7"), JB_ENODEV);
    assert_non_null(strstr(jb_meter_set_errmsg(set), "no RAPL domain 'dram7'"));
    assert_non_null(
        strstr(jb_meter_set_errmsg(set), "(found: cpu-package0, cpu-package1, dram0, dram1)"));
    check_ids(set, ids, 2);
    jb_meter_set_free(set);
}

static void test_auto(void **state)
{
    struct fx *fx = *state;
    struct jb_meter_set *set = jb_meter_set_new();
    char nameless[512], expect[1200];
    size_t n = 0, n_notes = 0;

    two_packages(fx);
    snprintf(nameless, sizeof(nameless), "%s/intel-rapl:9", fx->root);
    assert_int_equal(mkdir(nameless, 0755), 0); /* a zone without a name file */
    add_ok(set, "auto");
    for (size_t i = 0; i < jb_meter_set_count(set); i++) {
        const struct jb_meter_info *in = jb_meter_get_info(jb_meter_set_get(set, i));
        n += !strcmp(in->source, "rapl");
    }
    assert_int_equal(n, 4);
    /* One note about RAPL: the zone that could not be classified. */
    snprintf(expect, sizeof(expect), "skipped RAPL zone '%s': cannot read '%s/name': ", nameless,
             nameless);
    for (size_t i = 0; i < jb_meter_set_note_count(set); i++) {
        const char *note = jb_meter_set_note(set, i);
        if (strstr(note, "RAPL")) {
            assert_memory_equal(note, expect, strlen(expect));
            n_notes++;
        }
    }
    assert_int_equal(n_notes, 1);
    jb_meter_set_free(set);
}

/* The kernel counter runs 0..max_energy_range_uj and restarts at 0. */
static void test_wraparound(void **state)
{
    struct fx *fx = *state;
    struct jb_meter_set *set = jb_meter_set_new();
    struct jb_meter *m;

    mkzone(fx, "intel-rapl:0", "package-0", 900000, 1000000);
    add_ok(set, "cpu-package0");
    m = jb_meter_set_get(set, 0);
    assert_int_equal(llround(jb_meter_get_info(m)->max_energy_range_j * 1e6), 1000000);
    assert_int_equal(read_uj(m), 0);
    set_energy(fx, "intel-rapl:0", 950000);
    assert_int_equal(read_uj(m), 50000);
    set_energy(fx, "intel-rapl:0", 100000); /* wrapped: 50000 to the top, 1 across, 100000 */
    assert_int_equal(read_uj(m), 50000 + 50000 + 1 + 100000);
    assert_int_equal(read_uj(m), 200001);    /* unchanged counter, unchanged energy */
    set_energy(fx, "intel-rapl:0", 1000000); /* exactly the top: no wrap yet */
    assert_int_equal(read_uj(m), 200001 + 900000);
    set_energy(fx, "intel-rapl:0", 0); /* top to 0: one step */
    assert_int_equal(read_uj(m), 1100002);
    set_energy(fx, "intel-rapl:0", 999999);
    set_energy(fx, "intel-rapl:0", 999999);
    assert_int_equal(read_uj(m), 1100002 + 999999);
    set_energy(fx, "intel-rapl:0", 5); /* second wrap */
    assert_int_equal(read_uj(m), 2100001 + 1 + 1 + 5);
    jb_meter_set_free(set);
}

static void test_wraparound_large_range(void **state)
{
    struct fx *fx = *state;
    struct jb_meter_set *set = jb_meter_set_new();
    struct jb_meter *m;

    mkzone(fx, "intel-rapl:0", "package-0", BIG_RANGE_UJ - 2000000, BIG_RANGE_UJ);
    add_ok(set, "cpu");
    m = jb_meter_set_get(set, 0);
    set_energy(fx, "intel-rapl:0", 3000000);
    assert_int_equal(read_uj(m), 2000000 + 1 + 3000000);
    jb_meter_set_free(set);
}

/* Lines written by the unprivileged child for the parent to check. */
static void put_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_line(FILE *f, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
}

static void unprivileged_child(const struct fx *fx, int fd)
{
    FILE *out = fdopen(fd, "w");
    char path[512];
    struct jb_meter_set *set;
    FILE *probe;

    if (!out)
        _exit(3);
    if (geteuid() == 0) {
        /* Root reads a mode-000 file anyway (CAP_DAC_OVERRIDE): become nobody. */
        if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0) {
            put_line(out, "SKIP cannot drop root to uid/gid 65534: %s", strerror(errno));
            goto done;
        }
    }
    snprintf(path, sizeof(path), "%s/intel-rapl:0/name", fx->root);
    probe = fopen(path, "r");
    if (!probe) {
        put_line(out, "SKIP the fake tree is not readable without privileges ('%s': %s)", path,
                 strerror(errno));
        goto done;
    }
    fclose(probe);
    snprintf(path, sizeof(path), "%s/intel-rapl:0/energy_uj", fx->root);
    probe = fopen(path, "r");
    if (probe) {
        fclose(probe);
        put_line(out, "SKIP a mode-000 file is still readable (privileges could not be dropped)");
        goto done;
    }
    put_line(out, "RUN");

    set = jb_meter_set_new();
    put_line(out, "%d", jb_meter_set_add(set, "cpu"));
    put_line(out, "%s", jb_meter_set_errmsg(set));
    put_line(out, "%zu", jb_meter_set_count(set));
    jb_meter_set_free(set);

    set = jb_meter_set_new();
    put_line(out, "%d", jb_meter_set_add(set, "dram0"));
    put_line(out, "%s", jb_meter_set_errmsg(set));
    jb_meter_set_free(set);

    set = jb_meter_set_new();
    put_line(out, "%d", jb_meter_set_add(set, "auto"));
    put_line(out, "%zu", jb_meter_set_count(set));
    put_line(out, "%zu", jb_meter_set_note_count(set));
    for (size_t i = 0; i < jb_meter_set_note_count(set); i++)
        put_line(out, "%s", jb_meter_set_note(set, i));
    jb_meter_set_free(set);
done:
    fclose(out);
    _exit(0);
}

static char *next_line(char **p)
{
    char *line = *p, *nl;

    assert_non_null(line);
    nl = strchr(line, '\n');
    assert_non_null(nl);
    *nl = '\0';
    *p = nl + 1;
    return line;
}

static void test_permission_denied(void **state)
{
    struct fx *fx = *state;
    char expect0[2048], expect_dram[2048], eacces[16], buf[16384], *p = buf, *line;
    size_t len = 0;
    ssize_t n;
    int pipefd[2], status;
    pid_t pid;

    /* Like sysfs since CVE-2020-8694: energy_uj readable by root only (here: by nobody at all,
     * which root ignores and the unprivileged child does not). */
    mkzone(fx, "intel-rapl:0", "package-0", 1000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:0:0", "dram", 1000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:0:1", "core", 1000, BIG_RANGE_UJ);
    write_file(fx->root, "intel-rapl:0/energy_uj", "1000\n", 0000);
    write_file(fx->root, "intel-rapl:0:0/energy_uj", "1000\n", 0000);
    write_file(fx->root, "intel-rapl:0:1/energy_uj", "1000\n", 0000);
    snprintf(expect0, sizeof(expect0),
             "cannot read '%s/intel-rapl:0/energy_uj': permission denied (run as root, or: sudo "
             "chmod o+r %s/intel-rapl:*/energy_uj %s/intel-rapl:*/*/energy_uj)",
             fx->root, fx->root, fx->root);
    snprintf(expect_dram, sizeof(expect_dram),
             "cannot read '%s/intel-rapl:0:0/energy_uj': permission denied (run as root, or: sudo "
             "chmod o+r %s/intel-rapl:*/energy_uj %s/intel-rapl:*/*/energy_uj)",
             fx->root, fx->root, fx->root);

    assert_int_equal(pipe(pipefd), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pipefd[0]);
        unprivileged_child(fx, pipefd[1]);
    }
    close(pipefd[1]);
    while ((n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)n;
    close(pipefd[0]);
    buf[len] = '\0';
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    line = next_line(&p);
    if (!strncmp(line, "SKIP ", 5)) {
        print_message("skipping the permission test: %s\n", line + 5);
        skip();
    }
    assert_string_equal(line, "RUN");
    /* Required: fails with the house-style message and adds nothing. */
    snprintf(eacces, sizeof(eacces), "%d", JB_EACCES);
    assert_string_equal(next_line(&p), eacces);
    assert_string_equal(next_line(&p), expect0);
    assert_string_equal(next_line(&p), "0");
    assert_string_equal(next_line(&p), eacces);
    assert_string_equal(next_line(&p), expect_dram);
    /* Under auto: a note saying the same, and no meter that would read zeros. */
    assert_string_equal(next_line(&p), "0");
    assert_string_equal(next_line(&p), "0");
    {
        long n_notes = strtol(next_line(&p), NULL, 10);
        int seen = 0, seen_rest = 0;
        for (long i = 0; i < n_notes; i++) {
            line = next_line(&p);
            seen += !strcmp(line, expect0);
            seen_rest += !strcmp(line, "RAPL domains not read either: dram0");
        }
        assert_int_equal(seen, 1);
        assert_int_equal(seen_rest, 1);
    }
}

/* A counter that fails for another reason (here: a directory, unreadable even by root). */
static void test_partly_unreadable(void **state)
{
    struct fx *fx = *state;
    struct jb_meter_set *set = jb_meter_set_new();
    char path[512], expect[1024];
    int found = 0;

    mkzone(fx, "intel-rapl:0", "package-0", 1000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:0:0", "dram", 1000, BIG_RANGE_UJ);
    snprintf(path, sizeof(path), "%s/intel-rapl:0:0/energy_uj", fx->root);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(expect, sizeof(expect), "cannot read '%s': %s", path, strerror(EISDIR));

    /* Required: nothing added, the reason given. */
    assert_int_equal(jb_meter_set_add(set, "cpu"), JB_EIO);
    assert_string_equal(jb_meter_set_errmsg(set), expect);
    assert_int_equal(jb_meter_set_count(set), 0);
    /* The readable package alone is fine. */
    add_ok(set, "cpu-package0");
    assert_int_equal(jb_meter_set_count(set), 1);
    jb_meter_set_free(set);

    /* Under auto: the package is added, the DRAM domain is a note. */
    set = jb_meter_set_new();
    add_ok(set, "auto");
    assert_int_equal(jb_meter_set_count(set), 1);
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 0))->id, "cpu-package0");
    for (size_t i = 0; i < jb_meter_set_note_count(set); i++)
        found += !strcmp(jb_meter_set_note(set, i), expect);
    assert_int_equal(found, 1);
    jb_meter_set_free(set);
}

static void test_no_powercap(void **state)
{
    struct fx *fx = *state;
    struct jb_meter_set *set = jb_meter_set_new();
    char missing[512], expect[1024];
    int found = 0;

    /* An empty root (psys and a control-type folder are not domains either). */
    mkzone(fx, "intel-rapl:0", "psys", 1000, BIG_RANGE_UJ);
    snprintf(expect, sizeof(expect), "no RAPL domains found in '%s' (", fx->root);
    assert_int_equal(jb_meter_set_add(set, "cpu"), JB_ENODEV);
    assert_memory_equal(jb_meter_set_errmsg(set), expect, strlen(expect));
    assert_int_equal(jb_meter_set_add(set, "dram0"), JB_ENODEV);
    assert_memory_equal(jb_meter_set_errmsg(set), expect, strlen(expect));
    jb_meter_set_free(set);

    /* A root that does not exist (no powercap at all). */
    snprintf(missing, sizeof(missing), "%s/absent", fx->root);
    setenv("JOULEBENCH_POWERCAP_ROOT", missing, 1);
    snprintf(expect, sizeof(expect), "no RAPL domains found in '%s' (", missing);
    set = jb_meter_set_new();
    assert_int_equal(jb_meter_set_add(set, "cpu"), JB_ENODEV);
    assert_memory_equal(jb_meter_set_errmsg(set), expect, strlen(expect));
    jb_meter_set_free(set);

    set = jb_meter_set_new();
    add_ok(set, "auto");
    assert_int_equal(jb_meter_set_count(set), 0);
    assert_string_equal(jb_meter_set_errmsg(set), "");
    for (size_t i = 0; i < jb_meter_set_note_count(set); i++)
        found += !strncmp(jb_meter_set_note(set, i), expect, strlen(expect));
    assert_int_equal(found, 1);
    jb_meter_set_free(set);
}

/* psys is skipped; a top-level dram zone is dram<k>. */
static void test_psys_and_top_level_dram(void **state)
{
    struct fx *fx = *state;
    struct jb_meter_set *set = jb_meter_set_new();
    static const char *const ids[] = {"cpu-package0", "dram0"};

    mkzone(fx, "intel-rapl:0", "package-0", 1000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:0:0", "core", 1000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:1", "psys", 1000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:2", "dram", 1000, BIG_RANGE_UJ);
    add_ok(set, "cpu");
    check_ids(set, ids, 2);
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 1))->name, MODEL " DRAM 0");
    set_energy(fx, "intel-rapl:2", 1000 + 42);
    set_energy(fx, "intel-rapl:1", 1000 + 1000000);
    assert_int_equal(read_uj(jb_meter_set_get(set, 0)), 0);
    assert_int_equal(read_uj(jb_meter_set_get(set, 1)), 42);
    jb_meter_set_free(set);

    /* With a dram subzone for package 0 as well, dram0 is the subzone; the top-level zone is
     * not read (its broken counter does not fail "cpu"). */
    mkzone(fx, "intel-rapl:0:1", "dram", 1000, BIG_RANGE_UJ);
    write_file(fx->root, "intel-rapl:2/energy_uj", "garbage\n", 0444);
    set = jb_meter_set_new();
    add_ok(set, "cpu");
    check_ids(set, ids, 2);
    set_energy(fx, "intel-rapl:0:1", 1000 + 5);
    assert_int_equal(read_uj(jb_meter_set_get(set, 1)), 5);
    jb_meter_set_free(set);
}

/* Package numbers come from the zone names, not from the zone directories. */
static void test_ids_from_names(void **state)
{
    struct fx *fx = *state;
    struct jb_meter_set *set = jb_meter_set_new();
    static const char *const ids[] = {"cpu-package0", "cpu-package1", "dram1"};

    mkzone(fx, "intel-rapl:0", "package-1", 1000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:0:0", "dram", 1000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:1", "package-0", 1000, BIG_RANGE_UJ);
    add_ok(set, "cpu");
    check_ids(set, ids, 3);
    set_energy(fx, "intel-rapl:0", 1000 + 7);
    set_energy(fx, "intel-rapl:0:0", 1000 + 9);
    assert_int_equal(read_uj(meter_by_id(set, "cpu-package1")), 7);
    assert_int_equal(read_uj(meter_by_id(set, "cpu-package0")), 0);
    assert_int_equal(read_uj(meter_by_id(set, "dram1")), 9);
    jb_meter_set_free(set);
}

/* intel-rapl-mmio:0 duplicates intel-rapl:0: one meter per domain, read through intel-rapl. */
static void test_mmio_duplicate(void **state)
{
    struct fx *fx = *state;
    struct jb_meter_set *set = jb_meter_set_new();
    static const char *const ids[] = {"cpu-package0", "dram0"};

    mkzone(fx, "intel-rapl-mmio:0", "package-0", 1000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl-mmio:0:0", "dram", 1000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:0", "package-0", 5000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:0:0", "dram", 5000, BIG_RANGE_UJ);
    add_ok(set, "cpu");
    check_ids(set, ids, 2);
    set_energy(fx, "intel-rapl:0", 5000 + 11);
    set_energy(fx, "intel-rapl:0:0", 5000 + 13);
    set_energy(fx, "intel-rapl-mmio:0", 1000 + 500);
    set_energy(fx, "intel-rapl-mmio:0:0", 1000 + 700);
    assert_int_equal(read_uj(jb_meter_set_get(set, 0)), 11);
    assert_int_equal(read_uj(jb_meter_set_get(set, 1)), 13);
    jb_meter_set_free(set);

    /* The duplicate is not even read: a broken MMIO counter does not fail "cpu". */
    write_file(fx->root, "intel-rapl-mmio:0/energy_uj", "garbage\n", 0444);
    write_file(fx->root, "intel-rapl-mmio:0:0/energy_uj", "garbage\n", 0444);
    set = jb_meter_set_new();
    add_ok(set, "cpu");
    check_ids(set, ids, 2);
    jb_meter_set_free(set);
}

/* Without an MSR zone for the package, the MMIO zone is the one read. */
static void test_mmio_only(void **state)
{
    struct fx *fx = *state;
    struct jb_meter_set *set = jb_meter_set_new();
    char expect[1024];

    mkzone(fx, "intel-rapl-mmio:0", "package-0", 1000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:1", "psys", 1000, BIG_RANGE_UJ);
    add_ok(set, "cpu");
    assert_int_equal(jb_meter_set_count(set), 1);
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 0))->id, "cpu-package0");
    set_energy(fx, "intel-rapl-mmio:0", 1000 + 300);
    assert_int_equal(read_uj(jb_meter_set_get(set, 0)), 300);
    jb_meter_set_free(set);

    /* Messages name the MMIO counter that was read. */
    set = jb_meter_set_new();
    set_energy(fx, "intel-rapl-mmio:0", 1000 + 300000000000ull); /* above the range */
    assert_int_equal(jb_meter_set_add(set, "cpu"), JB_ERANGE);
    snprintf(expect, sizeof(expect), "'%s/intel-rapl-mmio:0/energy_uj' reads 300000001000, above",
             fx->root);
    assert_memory_equal(jb_meter_set_errmsg(set), expect, strlen(expect));
    jb_meter_set_free(set);
}

static void test_multi_die(void **state)
{
    struct fx *fx = *state;
    struct jb_meter_set *set = jb_meter_set_new();
    static const char *const ids[] = {"cpu-package0", "cpu-package1", "cpu-package2", "dram0",
                                      "dram2"};

    mkzone(fx, "intel-rapl:0", "package-0-die-0", 1000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:0:0", "dram", 1000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:1", "package-0-die-1", 1000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:2", "package-1-die-0", 1000, BIG_RANGE_UJ);
    mkzone(fx, "intel-rapl:2:0", "dram", 1000, BIG_RANGE_UJ);
    add_ok(set, "cpu");
    check_ids(set, ids, 5);
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 1))->name,
                        MODEL " package 0 die 1");
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 2))->name,
                        MODEL " package 1 die 0");
    set_energy(fx, "intel-rapl:2:0", 1000 + 77);
    assert_int_equal(read_uj(meter_by_id(set, "dram2")), 77);
    assert_int_equal(read_uj(meter_by_id(set, "dram0")), 0);
    jb_meter_set_free(set);
}

static void test_malformed(void **state)
{
    struct fx *fx = *state;
    struct jb_meter_set *set = jb_meter_set_new();
    char expect[1024];

    mkzone(fx, "intel-rapl:0", "package-0", 1000, BIG_RANGE_UJ);
    write_file(fx->root, "intel-rapl:0/energy_uj", "12abc\n", 0444);
    snprintf(expect, sizeof(expect),
             "malformed '%s/intel-rapl:0/energy_uj': expected an unsigned integer, got '12abc'",
             fx->root);
    assert_int_equal(jb_meter_set_add(set, "cpu"), JB_EPARSE);
    assert_string_equal(jb_meter_set_errmsg(set), expect);

    write_file(fx->root, "intel-rapl:0/energy_uj", "-5\n", 0444);
    assert_int_equal(jb_meter_set_add(set, "cpu"), JB_EPARSE);
    write_file(fx->root, "intel-rapl:0/energy_uj", "\n", 0444);
    assert_int_equal(jb_meter_set_add(set, "cpu"), JB_EPARSE);
    write_file(fx->root, "intel-rapl:0/energy_uj", "99999999999999999999999\n", 0444);
    assert_int_equal(jb_meter_set_add(set, "cpu"), JB_EPARSE);
    write_file(fx->root, "intel-rapl:0/energy_uj", "1000\n", 0444);
    write_file(fx->root, "intel-rapl:0/max_energy_range_uj", "0\n", 0444);
    assert_int_equal(jb_meter_set_add(set, "cpu"), JB_EPARSE);
    assert_non_null(strstr(jb_meter_set_errmsg(set), "max_energy_range_uj"));
    assert_int_equal(jb_meter_set_count(set), 0);
    jb_meter_set_free(set);
}

/* Errors at read time: a counter above its range, a counter that went away. */
static void test_read_errors(void **state)
{
    struct fx *fx = *state;
    struct jb_meter_set *set = jb_meter_set_new();
    struct jb_meter *m;
    struct jb_energy e;
    char path[512];

    mkzone(fx, "intel-rapl:0", "package-0", 1000, 1000000);
    add_ok(set, "cpu");
    m = jb_meter_set_get(set, 0);
    set_energy(fx, "intel-rapl:0", 2000000);
    assert_int_equal(jb_meter_read_energy(m, &e), JB_ERANGE);
    assert_non_null(strstr(jb_meter_errmsg(m), "above its max_energy_range_uj 1000000"));
    set_energy(fx, "intel-rapl:0", 1500); /* a bad reading left the state alone */
    assert_int_equal(read_uj(m), 500);
    snprintf(path, sizeof(path), "%s/intel-rapl:0/energy_uj", fx->root);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(jb_meter_read_energy(m, &e), JB_ELOST);
    assert_non_null(strstr(jb_meter_errmsg(m), "went away"));
    assert_non_null(strstr(jb_meter_errmsg(m), path));
    jb_meter_set_free(set);
}

static void test_no_cpuinfo(void **state)
{
    struct fx *fx = *state;
    struct jb_meter_set *set = jb_meter_set_new();
    char path[512];

    mkzone(fx, "intel-rapl:0", "package-0", 1000, BIG_RANGE_UJ);
    snprintf(path, sizeof(path), "%s/no-cpuinfo", fx->root);
    setenv("JOULEBENCH_CPUINFO", path, 1);
    add_ok(set, "cpu");
    assert_string_equal(jb_meter_get_info(jb_meter_set_get(set, 0))->name, "unknown CPU package 0");
    jb_meter_set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_packages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_select_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wraparound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wraparound_large_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permission_denied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partly_unreadable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_powercap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_psys_and_top_level_dram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ids_from_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmio_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmio_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_die, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_cpuinfo, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
