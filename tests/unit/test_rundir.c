/*
 * test_rundir.c - the run-directory reading side (src/rundir/read.c) and the figures' table reader
 * (src/analysis/figcsv.c), both on util/csv: quoted phase and metric names (issue 9 bug 1), an old
 * run directory and a new one whose phases.csv has issue 8's extra columns in another order, CRLF
 * files, malformed rows counted with one warning per file naming file:line and column, strict
 * mode, a missing needed column, and a FIFO refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "analysis/figcsv.h"
#include "rundir/read.h"

static char tmpdir[256];

static void put(const char *dir, const char *name, const char *text)
{
    char path[600];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static const char *mkrun(const char *name)
{
    static char dir[400];
    snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
    mkdir(dir, 0755);
    put(dir, "manifest.json",
        "{\"run_id\": \"r\", \"status\": \"complete\", \"levels\": {\"b\": 32},"
        " \"meters\": [{\"id\": \"gpu0\", \"kind\": \"gpu\"}]}");
    return dir;
}

struct warns {
    int n;
    char last[2048];
};

static void on_warn(void *ctx, const char *msg)
{
    struct warns *w = ctx;
    w->n++;
    snprintf(w->last, sizeof(w->last), "%s", msg);
}

static const char new_phases[] =
    "phase,index,meter,t_begin_s,t_end_s,duration_s,energy_j_lo,energy_j,energy_j_hi,"
    "energy_j_power,power_rel_diff,avg_power_w,peak_power_w,peak_power_source,"
    "peak_interval_power_w,update_period_s,items,flags\r\n"
    "\"warm,up\",1,gpu0,0.5,1.5,1.0,99,100.5,101,100,0.005,100.5,120,instant,110,0.1,,"
    "\"aliased,partial\"\r\n"
    "epoch,1,gpu0,1.5,3.5,2.0,,200,,199,,100,,,,,1000,\r\n";

static void test_quoted_and_new_columns(void **state)
{
    struct rundir rd;
    struct warns w = {0};
    char err[1024];
    const char *dir = mkrun("new");
    (void)state;

    put(dir, "phases.csv", new_phases);
    put(dir, "metrics.csv",
        "phase,index,name,value\neval,1,\"acc,top1\",0.4\neval,1,\"say \"\"hi\"\"\",1e-3\n");
    put(dir, "samples.csv",
        "t_s,meter,power_w,energy_j,temp_c,util_pct,mem_util_pct,new_column\r\n"
        "0.1,gpu0,50,,30,99,1,x\r\n0.2,gpu0,,10.5,,,,\r\n");
    assert_int_equal(rundir_read(dir, 1, 0, &rd, on_warn, &w, err, sizeof(err)), 0);
    assert_int_equal(w.n, 0);
    assert_int_equal(rd.bad_rows, 0);
    assert_int_equal(rd.nphases, 2);
    assert_string_equal(rd.phases[0].phase, "warm,up");
    assert_true(rd.phases[0].energy_j == 100.5);
    assert_true(rd.phases[0].avg_power_w == 100.5);
    assert_true(isnan(rd.phases[0].items));
    assert_true(rd.phases[1].items == 1000);
    assert_int_equal(rd.nmetrics, 2);
    assert_string_equal(rd.metrics[0].name, "acc,top1");
    assert_true(rd.metrics[0].value == 0.4);
    assert_string_equal(rd.metrics[1].name, "say \"hi\"");
    assert_int_equal(rd.nmeters, 1);
    assert_int_equal(rd.meters[0].n, 1);
    assert_int_equal(rd.meters[0].nc, 1);
    assert_true(rd.meters[0].ce[0] == 10.5);
    rundir_free(&rd);

    /* the figures' reader sees the same names */
    {
        struct figcsv t;
        char path[600];
        snprintf(path, sizeof(path), "%s/phases.csv", dir);
        assert_int_equal(figcsv_load(path, &t, err, sizeof(err)), 0);
        assert_int_equal(t.nrows, 2);
        assert_string_equal(figcsv_cell(&t, 0, figcsv_col(&t, "phase")), "warm,up");
        assert_string_equal(figcsv_cell(&t, 0, figcsv_col(&t, "flags")), "aliased,partial");
        assert_int_equal(t.lines[1], 3);
        figcsv_free(&t);
    }
}

static void test_old_layout(void **state)
{
    struct rundir rd;
    char err[1024];
    const char *dir = mkrun("old");
    (void)state;

    put(dir, "phases.csv",
        "phase,index,meter,t_begin_s,t_end_s,duration_s,energy_j,energy_j_power,avg_power_w,items\n"
        "epoch,1,gpu0,0,2,2,200,199,100,1000\n");
    put(dir, "samples.csv", "t_s,meter,power_w,energy_j,temp_c,util_pct\n0.1,gpu0,50,,,\n");
    assert_int_equal(rundir_read(dir, 1, 0, &rd, NULL, NULL, err, sizeof(err)), 0);
    assert_int_equal(rd.nphases, 1);
    assert_int_equal(rd.nmetrics, 0); /* no metrics.csv: nothing, no error */
    assert_true(rd.phases[0].energy_j == 200);
    rundir_free(&rd);
}

static void test_malformed_rows(void **state)
{
    struct rundir rd;
    struct warns w = {0};
    char err[1024], want[1024];
    const char *dir = mkrun("bad");
    (void)state;

    put(dir, "phases.csv",
        "phase,index,meter,t_begin_s,t_end_s,duration_s,energy_j,energy_j_power,avg_power_w,items\n"
        "epoch,1,gpu0,0,2,2,inf,199,100,1000\n"
        "epoch,2,gpu0,2,4,2,nan,199,100,1000\n"
        "epoch,3,gpu0,4,6,2,0x1p3,199,100,1000\n"
        "epoch,4,gpu0,6,8,2,1e999,199,100,1000\n"
        "epoch,5,gpu0,8,10,2,200,199,100,1000\n"
        "\"warm,up,6,gpu0\n");
    assert_int_equal(rundir_read(dir, 0, 0, &rd, on_warn, &w, err, sizeof(err)), 0);
    assert_int_equal(rd.nphases, 1);
    assert_int_equal(rd.phases[0].index, 5);
    assert_int_equal(rd.bad_rows, 5);
    assert_int_equal(w.n, 1); /* one warning for the file */
    snprintf(want, sizeof(want),
             "%s/phases.csv: 5 malformed rows skipped (the first: %s/phases.csv:2: column "
             "'energy_j': 'inf' is not a finite number)",
             dir, dir);
    assert_string_equal(w.last, want);
    rundir_free(&rd);

    assert_int_equal(rundir_read(dir, 0, 1, &rd, on_warn, &w, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "phases.csv:2: column 'energy_j': 'inf' is not a finite number"));
    rundir_free(&rd);

    put(dir, "phases.csv", "phase,index,meter,t_begin_s\nepoch,1,gpu0,0\n");
    assert_int_equal(rundir_read(dir, 0, 0, &rd, on_warn, &w, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "phases.csv:1: no column 't_end_s'"));
    rundir_free(&rd);
}

static void test_fifo(void **state)
{
    struct rundir rd;
    char err[1024], path[600];
    const char *dir = mkrun("fifo");
    (void)state;

    snprintf(path, sizeof(path), "%s/metrics.csv", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    alarm(20);
    assert_int_equal(rundir_read(dir, 0, 0, &rd, NULL, NULL, err, sizeof(err)), -1);
    alarm(0);
    assert_non_null(strstr(err, "not a regular file (a FIFO)"));
    rundir_free(&rd);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/jb-rundir-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quoted_and_new_columns),
        cmocka_unit_test(test_old_layout),
        cmocka_unit_test(test_malformed_rows),
        cmocka_unit_test(test_fifo),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
