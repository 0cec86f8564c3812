/*
 * test_methods.c - both report methods on two synthetic imported runs whose results are worked
 * out by hand: power 100 W for t <= 9 s and 200 W after (run 2: twice that), 1 s samples over
 * 0..20 s, epochs ending at 5, 10, 15 and 20 s.
 *   seed-2023: epoch means 100, 120, 200, 200 W (run 1) x 5 s -> 3100 J; the two runs averaged
 *     per epoch -> 4650 J; mean power 232.5 W.
 *   corrected: trapezoid 900 + 150 + 2000 = 3050 J (run 1), 6100 J (run 2) -> mean 4575 J,
 *     sd 2156.65, ci95 = t(0.975, 1) sd / sqrt 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/corrected.h"
#include "analysis/import.h"
#include "analysis/nvsmi.h"
#include "analysis/report.h"
#include "analysis/seed2023.h"
#include "analysis/stats.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

static char root[64];

static void make_run(const char *results, int r)
{
    struct strbuf e = STRBUF_INIT, m = STRBUF_INIT;
    struct nvsmi_log log = {0};
    struct epoch_log ep = {0};
    char dir[512], id[32], rep[8], err[256];

    sb_puts(&e, "timestamp, power.draw [W], utilization.gpu [%]\n");
    for (int t = 0; t <= 20; t++)
        sb_printf(&e, "2023/05/08 01:00:%02d.000, %d W, 50 %%\n", t, (t <= 9 ? 100 : 200) * r);
    sb_puts(&m, "epoch;accuracy;timestamp\n");
    for (int k = 0; k < 4; k++)
        sb_printf(&m, "%d;%.1f;2023-05-08 01:00:%02d\n", k, 0.1 * (k + 1) + 0.1 * (r - 1),
                  5 * (k + 1));
    assert_int_equal(nvsmi_parse(e.buf, e.len, "e", NULL, 1, &log, NULL, NULL, err, 256), 0);
    assert_int_equal(epochs_parse(m.buf, m.len, "m", 1, &ep, NULL, NULL, err, 256), 0);
    snprintf(id, sizeof(id), "pytorch-r%d", r);
    snprintf(rep, sizeof(rep), "%d", r);
    snprintf(dir, sizeof(dir), "%s/g/%s", results, id);
    const char *keys[] = {"framework"}, *vals[] = {"pytorch"};
    struct import_opts o = {dir, "e", "m", "g", id, r, 1, keys, vals};
    assert_int_equal(import_write_rundir(&log, &ep, &o, NULL, NULL, err, sizeof(err)), 0);
    nvsmi_log_free(&log);
    epoch_log_free(&ep);
    sb_free(&e);
    sb_free(&m);
}

/* The value in column `name` of data row `row` (0-based) of a CSV text. */
static double csv_value(const char *text, const char *name, int row)
{
    char *copy = strdup(text), *line = copy;
    int col = -1, r = -1;
    double v = NAN;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        int c = 0;
        for (char *f = line; f; c++) {
            char *comma = strchr(f, ',');
            if (comma)
                *comma = '\0';
            if (r < 0 && !strcmp(f, name))
                col = c;
            if (r == row && c == col)
                v = *f ? strtod(f, NULL) : NAN;
            f = comma ? comma + 1 : NULL;
        }
        if (r == row)
            break;
        r++;
        line = nl ? nl + 1 : NULL;
    }
    free(copy);
    return v;
}

static char *read_out(const char *name)
{
    char path[256], err[256];
    char *text = NULL;
    size_t len;
    snprintf(path, sizeof(path), "%s/out/%s", root, name);
    assert_int_equal(fs_read_file(path, &text, &len, err, sizeof(err)), 0);
    return text;
}

static int setup(void **state)
{
    (void)state;
    char err[256], out[128];
    snprintf(root, sizeof(root), "/tmp/jb-test-methods-XXXXXX");
    assert_non_null(mkdtemp(root));
    make_run(root, 1);
    make_run(root, 2);
    snprintf(out, sizeof(out), "%s/out", root);
    assert_int_equal(fs_mkdir_p(out, err, sizeof(err)), 0);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_seed2023(void **state)
{
    (void)state;
    struct report_input in;
    char err[256], out[128];
    snprintf(out, sizeof(out), "%s/out", root);
    assert_int_equal(report_load(root, 1, 1, &in, NULL, NULL, err, sizeof(err)), 0);
    assert_int_equal(in.nruns, 2);
    assert_int_equal(in.nconfigs, 1);
    assert_int_equal(seed2023_write(&in, out, NULL, err, sizeof(err)), 0);
    report_free(&in);
    char *t = read_out("configs.csv");
    assert_true(!strncmp(t,
                         "framework,total_energy_kJ,mean_power_W,mean_gpu_util_pct,"
                         "final_accuracy,total_time_s\n",
                         82));
    assert_true(fabs(csv_value(t, "total_energy_kJ", 0) - 4.650) < 1e-9);
    assert_true(fabs(csv_value(t, "mean_power_W", 0) - 232.5) < 1e-9);
    assert_true(fabs(csv_value(t, "mean_gpu_util_pct", 0) - 50) < 1e-9);
    assert_true(fabs(csv_value(t, "final_accuracy", 0) - 0.45) < 1e-9);
    assert_true(fabs(csv_value(t, "total_time_s", 0) - 20) < 1e-9);
    free(t);
    t = read_out("epochs.csv");
    /* Epoch 2 of run 1 has 100,100,100,100,200 -> 120 W; run 2 240 W; mean 180 W. */
    assert_true(fabs(csv_value(t, "power_w", 1) - 180) < 1e-9);
    assert_true(fabs(csv_value(t, "energy_j", 1) - 900) < 1e-9);
    free(t);
}

static void test_corrected(void **state)
{
    (void)state;
    struct report_input in;
    char err[256], out[128];
    snprintf(out, sizeof(out), "%s/out", root);
    assert_int_equal(report_load(root, 1, 1, &in, NULL, NULL, err, sizeof(err)), 0);
    in.target_accuracy = 0.35;
    assert_int_equal(corrected_write(&in, out, in.runs[0].dir, err, sizeof(err)), 0);
    report_free(&in);
    char *t = read_out("configs.csv");
    double sd = 3050 / sqrt(2.0);
    assert_true(fabs(csv_value(t, "n", 0) - 2) < 1e-12);
    assert_true(fabs(csv_value(t, "energy_j_mean", 0) - 4575) < 1e-6);
    assert_true(fabs(csv_value(t, "energy_j_sd", 0) - sd) < 1e-3);
    assert_true(fabs(csv_value(t, "energy_j_ci95", 0) - 12.7062047362 * sd / sqrt(2.0)) < 1e-2);
    assert_true(fabs(csv_value(t, "time_s_mean", 0) - 20) < 1e-9);
    assert_true(fabs(csv_value(t, "avg_power_w_mean", 0) - 228.75) < 1e-6);
    assert_true(fabs(csv_value(t, "epoch1_energy_j_mean", 0) - 750) < 1e-6);
    assert_true(fabs(csv_value(t, "epoch1_avg_power_w_mean", 0) - 150) < 1e-6);
    assert_true(fabs(csv_value(t, "rest_avg_power_w_mean", 0) - 255) < 1e-6);
    assert_true(fabs(csv_value(t, "gpu_util_pct_mean", 0) - 50) < 1e-9);
    assert_true(fabs(csv_value(t, "final_accuracy_mean", 0) - 0.45) < 1e-9);
    /* Run 1 reaches 0.35 after epoch 4 (3050 J), run 2 after epoch 3 (2 x 2050 J). */
    assert_true(fabs(csv_value(t, "energy_to_target_j_mean", 0) - 3575) < 1e-6);
    /* No idle baseline, no items, no startup phase: empty cells, not zeros. */
    assert_true(isnan(csv_value(t, "net_energy_j_mean", 0)));
    assert_true(isnan(csv_value(t, "energy_per_image_j_mean", 0)));
    assert_true(isnan(csv_value(t, "startup_energy_j_mean", 0)));
    /* Fig. 2's stack: the epochs' energy and the rest of the command (no start-up or eval phase
     * here, so the rest is the command minus the epochs) */
    assert_true(csv_value(t, "epochs_energy_j_mean", 0) > 0);
    assert_true(fabs(csv_value(t, "other_energy_j_mean", 0) -
                     (csv_value(t, "energy_j_mean", 0) - csv_value(t, "epochs_energy_j_mean", 0))) <
                1e-6);
    assert_true(isnan(csv_value(t, "eval_energy_j_mean", 0)));
    free(t);
    t = read_out("report.json");
    assert_non_null(strstr(t, "\"method\": \"corrected\""));
    assert_non_null(strstr(t, "\"example_run\": \""));
    assert_non_null(strstr(t, "\"energy_j\": [\n      \"gpu0\"\n    ]"));
    free(t);
    t = read_out("epochs.csv");
    /* Epoch 2 of run 1: [5, 10], 4 x 100 + 150 = 550 J by the trapezoid. */
    assert_true(fabs(csv_value(t, "energy_j_power", 1) - 550) < 1e-6);
    assert_true(isnan(csv_value(t, "energy_j", 1)));
    assert_true(fabs(csv_value(t, "accuracy", 1) - 0.2) < 1e-9);
    free(t);
}

/* Differences that cancel print as 0, others with the operands' digits only. */
static void test_diff(void **state)
{
    (void)state;
    double a = 0.1 + 0.2, b = 0.3;
    assert_true(a - b != 0);             /* 5.55e-17 in plain floating point */
    assert_true(report_diff(a, b) == 0); /* exactly 0 */
    assert_true(report_diff(1100, 50 * 10.0 + 600) == 0);
    assert_true(report_diff(24.59, 24.5899995) == 5e-07);
    assert_true(report_diff(1000, 400) == 600);
    assert_true(report_diff(0, 0) == 0);
    assert_true(isnan(report_diff(NAN, 1)));
    assert_true(report_diff(1, 3) == -2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed2023),
        cmocka_unit_test(test_corrected),
        cmocka_unit_test(test_diff),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
