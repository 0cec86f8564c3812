/*
 * test_measure_keep.c - measure_run keeps phase results bounded (src/run/measure.c): with
 * keep_phases = 5 and a command marking 40 phases on an exact simulated meter, measure_result
 * holds 5 of them plus 'command', the other 35 are summed in one aggregate (count, durations,
 * energies), n_phases_total counts all 41, and phases.csv (streamed) has every row.
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

#include "run/measure.h"

static const char script[] =
    "import json,os,time\n"
    "fd=int(os.environ['JOULEBENCH_FD'])\n"
    "for i in range(1,41):\n"
    "    t=time.monotonic_ns()\n"
    "    "
    "os.write(fd,(json.dumps({'t':t,'event':'begin','phase':'step','index':i})+'\\n').encode())\n"
    "    os.write(fd,(json.dumps({'t':t+2000000,'event':'end','phase':'step','index':i})+'\\n')"
    ".encode())\n"
    "    time.sleep(0.003)\n";

static void test_keep_bounded(void **state)
{
    char dir[] = "/tmp/jb-measure-XXXXXX", path[600], line[1024], err[512];
    char *argv[] = {"python3", "-c", (char *)script, NULL};
    struct measure_opts o;
    struct measure_result r;
    size_t rows = 0, steps = 0;
    double sum = 0;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    memset(&o, 0, sizeof(o));
    o.argv = argv;
    o.meters = "sim:const=100";
    o.interval_ms = 10;
    o.rundir = dir;
    o.keep_phases = 5;
    assert_int_equal(measure_run(&o, &r, NULL, err, sizeof(err)), 0);
    assert_int_equal(r.status, MEASURE_COMPLETE);
    assert_int_equal(r.n_phases_total, 41);
    assert_int_equal(r.n_phases, 6); /* 5 + command, always kept */
    assert_int_equal(r.n_phase_aggs, 1);
    assert_string_equal(r.phase_aggs[0].phase, "step");
    assert_int_equal(r.phase_aggs[0].count, 35);
    assert_true(r.phase_aggs[0].valid & JB_PHASE_ENERGY);
    assert_true(fabs(r.phase_aggs[0].duration_s - 35 * 0.002) < 1e-6);
    for (size_t i = 0; i < r.n_phases; i++)
        if (!strcmp(r.phases[i].phase, "step"))
            sum += r.phases[i].energy_j;
    sum += r.phase_aggs[0].energy_j;
    assert_true(fabs(sum - 100 * 40 * 0.002) < 0.05 * 8); /* 100 W x 40 x 2 ms */

    snprintf(path, sizeof(path), "%s/phases.csv", dir);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        rows++;
        steps += !strncmp(line, "step,", 5);
    }
    fclose(f);
    assert_int_equal(rows, 1 + 41);
    assert_int_equal(steps, 40);
    measure_result_free(&r);
    {
        static const char *const names[] = {"manifest.json", "samples.csv", "phases.csv",
                                            "metrics.csv"};
        for (size_t i = 0; i < 4; i++) {
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
            unlink(path);
        }
    }
    assert_int_equal(rmdir(dir), 0); /* nothing else, no *.partial */
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_keep_bounded)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
