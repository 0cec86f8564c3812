/*
 * test_rundir_write.c - the run directory's write side (src/rundir/): header lines built from the
 * column lists, rows with empty cells for what is unavailable, the flags cell, a library result
 * as a phases.csv row, exact metric values, and the partial-file discipline (commit renames,
 * a streaming error is reported and leaves no file, remove_partials leaves none).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rundir/rundir.h"

static void test_headers(void **state)
{
    (void)state;
    assert_string_equal(rundir_samples_header,
                        "t_s,meter,power_w,energy_j,temp_c,util_pct,mem_util_pct,mem_used_mib,"
                        "sm_clock_mhz,mem_clock_mhz,power_instant_w\n");
    assert_string_equal(rundir_phases_header,
                        "phase,index,meter,t_begin_s,t_end_s,duration_s,energy_j,energy_j_power,"
                        "avg_power_w,items,energy_j_lo,energy_j_hi,power_rel_diff,peak_power_w,"
                        "peak_power_source,peak_interval_power_w,update_period_s,flags\n");
    assert_string_equal(rundir_metrics_header, "phase,index,name,value\n");
    assert_string_equal(rundir_phases_cols[RUNDIR_P_FLAGS], "flags");
    assert_string_equal(rundir_samples_cols[RUNDIR_S_POWER_INSTANT_W], "power_instant_w");
    assert_int_equal(RUNDIR_M_NCOLS, 4);
}

static void test_samples_row(void **state)
{
    struct strbuf sb = STRBUF_INIT;
    struct jb_sample s;
    double v[RUNDIR_S_NCOLS - 2];

    (void)state;
    memset(&s, 0, sizeof(s));
    s.valid = JB_CAP_POWER | JB_CAP_TEMP | JB_CAP_POWER_INSTANT;
    s.power_w = 250.5;
    s.temp_c = 41.25;
    s.power_instant_w = 301;
    s.util_pct = 99; /* not valid: not written */
    rundir_sample_values(&s, v);
    rundir_samples_row(&sb, 1.5, "gpu0", v, 0);
    assert_string_equal(sb_str(&sb), "1.500000,gpu0,250.500,,41.2,,,,,,301.000\n");
    sb_reset(&sb);
    rundir_samples_row(&sb, 1.5, "gpu0", v, 1);
    assert_string_equal(sb_str(&sb), "1.500000,gpu0,250.5,,41.2,,,,,,301\n");
    sb_free(&sb);
}

static void test_phase_row_from_result(void **state)
{
    struct strbuf sb = STRBUF_INIT;
    struct jb_phase_result p;
    struct rundir_phase_row row;

    (void)state;
    memset(&p, 0, sizeof(p));
    snprintf(p.phase, sizeof(p.phase), "%s", "eval");
    p.index = 3;
    p.t_begin_ns = 2000000000ull;
    p.t_end_ns = 2030000000ull;
    p.valid = JB_PHASE_ENERGY | JB_PHASE_ENERGY_POWER | JB_PHASE_ENERGY_BOUNDS | JB_PHASE_PEAK |
              JB_PHASE_POWER_DIFF | JB_PHASE_PEAK_INTERVAL;
    p.energy_j = 9;
    p.energy_j_power = 4.5;
    p.energy_j_lo = 3;
    p.energy_j_hi = 30;
    p.power_rel_diff = -0.5;
    p.peak_power_w = 300;
    p.peak_power_source = JB_POWER_SOURCE_INSTANT;
    p.peak_interval_power_w = 310;
    p.update_period_s = 0.1;
    p.flags = JB_PHASE_FLAG_STEPPED | JB_PHASE_FLAG_RESOLUTION | JB_PHASE_FLAG_ALIASING;
    rundir_phase_row_from_result(&row, &p, "gpu0", 1000000000ull);
    rundir_phases_row(&sb, &row);
    assert_string_equal(sb_str(&sb), "eval,3,gpu0,1.000000,1.030000,0.030000,9.000000,4.500000,"
                                     "300.0000,,3.000000,30.000000,-0.500000,300.000,instant,"
                                     "310.000,0.100000,stepped|below_resolution|aliasing\n");
    /* Nothing valid: every optional cell empty, no flags. */
    sb_reset(&sb);
    p.valid = JB_PHASE_ITEMS;
    p.items = 0.1;
    p.flags = 0;
    p.update_period_s = 0;
    rundir_phase_row_from_result(&row, &p, "a,b", 1000000000ull);
    rundir_phases_row(&sb, &row);
    assert_string_equal(sb_str(&sb), "eval,3,\"a,b\",1.000000,1.030000,0.030000,,,,0.1,,,,,,,,\n");
    sb_free(&sb);
}

static void test_flags_and_metrics(void **state)
{
    struct strbuf sb = STRBUF_INIT;

    (void)state;
    rundir_flags(&sb, 0);
    assert_string_equal(sb_str(&sb), "");
    rundir_flags(&sb, JB_PHASE_FLAG_FLOORED | (1u << 30)); /* unknown bits: no name */
    assert_string_equal(sb_str(&sb), "floored");
    sb_reset(&sb);
    rundir_metrics_row(&sb, "eval", 2, "accuracy", 0.9123);
    rundir_metrics_row(&sb, "eval", 2, "loss", 1.0 / 3.0);
    rundir_metrics_row(&sb, "eval", 2, "none", NAN);
    assert_string_equal(sb_str(&sb), "eval,2,accuracy,0.9123\n"
                                     "eval,2,loss,0.3333333333333333\n"
                                     "eval,2,none,\n");
    sb_free(&sb);
}

static void test_partial_files(void **state)
{
    char dir[] = "/tmp/jb-rundir-XXXXXX", path[512], err[512];
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    f = rundir_open_partial(dir, "phases.csv", rundir_phases_header, err, sizeof(err));
    assert_non_null(f);
    snprintf(path, sizeof(path), "%s/phases.csv.partial", dir);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(rundir_commit_partial(f, 0, dir, "phases.csv", err, sizeof(err)), 0);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/phases.csv", dir);
    assert_int_equal(access(path, F_OK), 0);

    /* A streaming error: reported with the file's name; not renamed; removed after. */
    f = rundir_open_partial(dir, "samples.csv", NULL, err, sizeof(err));
    assert_non_null(f);
    assert_int_equal(rundir_commit_partial(f, 28, dir, "samples.csv", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "samples.csv': No space left on device"));
    snprintf(path, sizeof(path), "%s/samples.csv", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    rundir_remove_partials(dir);
    snprintf(path, sizeof(path), "%s/samples.csv.partial", dir);
    assert_int_not_equal(access(path, F_OK), 0);

    /* A directory that does not exist: named in the message. */
    snprintf(path, sizeof(path), "%s/missing", dir);
    assert_null(rundir_open_partial(path, "x.csv", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot create"));

    snprintf(path, sizeof(path), "%s/phases.csv", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_samples_row),
        cmocka_unit_test(test_phase_row_from_result),
        cmocka_unit_test(test_flags_and_metrics),
        cmocka_unit_test(test_partial_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
