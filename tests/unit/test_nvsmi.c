/*
 * test_nvsmi.c - the nvidia-smi and study metric parsers, the series integral, and the import of a
 * synthetic log into a run directory.
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

#include "util/fastnum.h"
#include "analysis/import.h"
#include "analysis/nvsmi.h"
#include "analysis/series.h"
#include "util/fsutil.h"

static int nwarn;
static char last_warn[512];

static void on_warn(void *ctx, const char *msg)
{
    (void)ctx;
    nwarn++;
    snprintf(last_warn, sizeof(last_warn), "%s", msg);
}

static int parse(const char *text, const char *fields, int strict, struct nvsmi_log *log, char *err)
{
    memset(log, 0, sizeof(*log));
    nwarn = 0;
    last_warn[0] = '\0';
    return nvsmi_parse(text, strlen(text), "log.csv", fields, strict, log, on_warn, NULL, err, 256);
}

static void test_study_format(void **state)
{
    (void)state;
    const char *text =
        "timestamp, power.draw [W], temperature.gpu, memory.used [MiB], utilization.gpu [%], "
        "utilization.memory [%]\n"
        "2023/05/08 01:14:29.675, 36.72 W, 32, 0 MiB, 41 %, 0 %\n"
        "2023/05/08 01:14:30.681, [N/A], 32, 0 MiB, [Not Supported], 0 %\r\n"
        "2023/05/08 01:14:33.700, 120.5 W, 35, 10 MiB, 90 %, 20 %\n";
    struct nvsmi_log log;
    char err[256];
    assert_int_equal(parse(text, NULL, 0, &log, err), 0);
    assert_int_equal(log.n, 3);
    assert_int_equal(nwarn, 0);
    assert_true(fabs(log.rows[0].v[NVV_POWER_W] - 36.72) < 1e-12);
    assert_true(fabs(log.rows[0].v[NVV_UTIL_PCT] - 41) < 1e-12);
    assert_true(fabs(log.rows[0].v[NVV_MEM_USED_MIB] - 0) < 1e-12);
    assert_true(isnan(log.rows[1].v[NVV_POWER_W]));
    assert_true(isnan(log.rows[1].v[NVV_UTIL_PCT]));
    assert_true(isnan(log.rows[0].v[NVV_SM_CLOCK_MHZ]));
    /* A 3 s sampling gap is kept as it is. */
    assert_true(fabs(log.rows[2].t_abs_s - log.rows[0].t_abs_s - 4.025) < 1e-6);
    assert_true(log.present & (1u << NVV_TEMP_C));
    assert_false(log.present & (1u << NVV_SM_CLOCK_MHZ));
    nvsmi_log_free(&log);
}

static void test_headerless_and_order(void **state)
{
    (void)state;
    struct nvsmi_log log;
    char err[256];
    /* No header, no units, another order: named with fields. */
    const char *text = "250.5, 2026/01/02 03:04:05.5, 1500\n251.5, 2026/01/02 03:04:06.5, 1510\n";
    assert_int_equal(parse(text, "power.draw,timestamp,clocks.sm", 0, &log, err), 0);
    assert_int_equal(log.n, 2);
    assert_true(fabs(log.rows[1].v[NVV_SM_CLOCK_MHZ] - 1510) < 1e-12);
    assert_true(fabs(log.rows[1].t_abs_s - log.rows[0].t_abs_s - 1.0) < 1e-9);
    nvsmi_log_free(&log);
    /* No header and no fields: the study's order. */
    text = "2023/05/08 01:14:29.675, 36.72 W, 32, 0 MiB, 41 %, 0 %\n";
    assert_int_equal(parse(text, NULL, 0, &log, err), 0);
    assert_true(fabs(log.rows[0].v[NVV_MEM_UTIL_PCT] - 0) < 1e-12);
    assert_true(fabs(log.rows[0].v[NVV_TEMP_C] - 32) < 1e-12);
    nvsmi_log_free(&log);
    /* A byte-order mark before the header. */
    text = "\xEF\xBB\xBFtimestamp, power.draw [W]\n2023/05/08 01:00:00.000, 10 W\n";
    assert_int_equal(parse(text, NULL, 0, &log, err), 0);
    assert_int_equal(log.n, 1);
    nvsmi_log_free(&log);
    /* Several GPUs: the index field. */
    text = "index, timestamp, power.draw [W]\n0, 2023/05/08 01:00:00.000, 10 W\n"
           "1, 2023/05/08 01:00:00.000, 20 W\n";
    assert_int_equal(parse(text, NULL, 0, &log, err), 0);
    assert_int_equal(log.n, 2);
    assert_true(log.has_index);
    assert_int_equal(log.rows[1].gpu, 1);
    nvsmi_log_free(&log);
    /* No timestamp at all: an error naming the file. */
    assert_int_equal(parse("power.draw [W]\n10 W\n", NULL, 0, &log, err), -1);
    assert_non_null(strstr(err, "log.csv"));
    assert_non_null(strstr(err, "timestamp"));
    nvsmi_log_free(&log);
}

static void test_malformed(void **state)
{
    (void)state;
    struct nvsmi_log log;
    char err[256];
    const char *text = "timestamp, power.draw [W]\n"
                       "2023/05/08 01:00:00.000, 10 W\n"
                       "2023/05/08 01:00:01.000, ten W\n"
                       "2023/05/08 01:00:02.000\n"
                       "2023/13/08 01:00:03.000, 10 W\n"
                       "2023/05/08 00:59:00.000, 10 W\n"
                       "2023/05/08 01:00:04.000, 12 W\n";
    assert_int_equal(parse(text, NULL, 0, &log, err), 0);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.bad_rows, 4);
    assert_int_equal(nwarn, 4);
    assert_non_null(strstr(last_warn, "log.csv:6:"));
    nvsmi_log_free(&log);
    /* strict: the first bad row is an error with its line and field. */
    assert_int_equal(parse(text, NULL, 1, &log, err), -1);
    assert_non_null(strstr(err, "log.csv:3:"));
    assert_non_null(strstr(err, "power.draw"));
    nvsmi_log_free(&log);
    assert_int_equal(parse("", NULL, 0, &log, err), -1);
    nvsmi_log_free(&log);
}

static void test_epochs(void **state)
{
    (void)state;
    struct epoch_log ep = {0};
    char err[256];
    const char *text = "epoch;precision;recall;accuracy;f1;timestamp\n"
                       "0;0.3;0.3;0.31;0.29;2023-05-08 01:14:45\n"
                       "1;x;0.3;0.31;0.29;2023-05-08 01:14:50\n"
                       "1;0.4;;0.38;0.36;2023-05-08 01:14:54\n";
    nwarn = 0;
    assert_int_equal(epochs_parse(text, strlen(text), "m.csv", 0, &ep, on_warn, NULL, err, 256), 0);
    assert_int_equal(ep.n, 2);
    assert_int_equal(ep.nnames, 4);
    assert_string_equal(ep.names[2], "accuracy");
    assert_true(fabs(ep.recs[1].vals[2] - 0.38) < 1e-12);
    assert_true(isnan(ep.recs[1].vals[1]));
    assert_int_equal(ep.bad_rows, 1);
    assert_non_null(strstr(last_warn, "m.csv:3:"));
    double t0;
    assert_int_equal(nvsmi_parse_time("2023/05/08 01:14:29.675", 23, &t0), 0);
    assert_true(fabs(ep.recs[0].t_abs_s - t0 - 15.325) < 1e-6);
    epoch_log_free(&ep);
    text = "a;b\n1;2\n";
    assert_int_equal(epochs_parse(text, strlen(text), "m.csv", 0, &ep, on_warn, NULL, err, 256),
                     -1);
    epoch_log_free(&ep);
}

static void test_series(void **state)
{
    (void)state;
    double t[] = {0, 1, 2, 4, 5};
    double y[] = {10, 10, NAN, 30, 30};
    double cov;
    /* 0..1: 10; 1..4 bridged (NaN skipped) 10 -> 30: 60; 4..5: 30.  Total 100. */
    assert_true(fabs(series_integral(t, y, 5, 0, 5, &cov) - 100) < 1e-9);
    assert_true(fabs(cov - 5) < 1e-12);
    /* Interpolated bounds: [0.5, 2.5]: 0.5..1: 5; 1..2.5 of the 10->30 ramp over 3 s: 10 at 1,
     * 20 at 2.5: 1.5 * 15 = 22.5. */
    assert_true(fabs(series_integral(t, y, 5, 0.5, 2.5, NULL) - 27.5) < 1e-9);
    /* Outside the samples: nothing is extrapolated. */
    assert_true(fabs(series_integral(t, y, 5, -5, 1, &cov) - 10) < 1e-9);
    assert_true(fabs(cov - 1) < 1e-12);
    assert_true(isnan(series_integral(t, y, 5, 6, 7, NULL)));
    assert_true(fabs(series_mean_tw(t, y, 5, 0, 5) - 20) < 1e-9);
    /* Unweighted: (a, b] and [a, b]. */
    assert_true(fabs(series_mean_in(t, y, 5, 0, 4, 0) - 20) < 1e-9);
    assert_true(fabs(series_mean_in(t, y, 5, 0, 4, 1) - 50.0 / 3) < 1e-9);
    assert_true(fabs(series_at(t, t, 5, 3) - 3) < 1e-12);
}

static void test_import_rundir(void **state)
{
    (void)state;
    char dir[] = "/tmp/jb-test-import-XXXXXX", err[256], path[512];
    char *text;
    size_t len;
    struct nvsmi_log log;
    struct epoch_log ep = {0};
    assert_non_null(mkdtemp(dir));
    const char *energy = "timestamp, power.draw [W], utilization.gpu [%]\n"
                         "2023/05/08 01:00:00.000, 100 W, 50 %\n"
                         "2023/05/08 01:00:01.000, 100 W, 50 %\n"
                         "2023/05/08 01:00:02.000, 200 W, 50 %\n"
                         "2023/05/08 01:00:04.000, 200 W, 50 %\n";
    const char *epochs = "epoch;accuracy;timestamp\n0;0.5;2023-05-08 01:00:02\n"
                         "1;0.6;2023-05-08 01:00:04\n";
    assert_int_equal(parse(energy, NULL, 0, &log, err), 0);
    assert_int_equal(epochs_parse(epochs, strlen(epochs), "m", 0, &ep, on_warn, NULL, err, 256), 0);
    const char *keys[] = {"framework"}, *vals[] = {"pytorch"};
    struct import_opts o = {dir, "e.csv", "m.csv", "g", "pytorch-r1", 1, 1, keys, vals};
    assert_int_equal(import_write_rundir(&log, &ep, &o, on_warn, NULL, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/phases.csv", dir);
    assert_int_equal(fs_read_file(path, &text, &len, err, sizeof(err)), 0);
    /* command [0, 4]: 100 + 150 + 400 = 650 J; epoch 1 [0, 2]: 250 J; epoch 2 [2, 4]: 400 J. */
    assert_non_null(strstr(text, "command,0,gpu0,0.000000,4.000000,4.000000,,650,162.5,"));
    assert_non_null(strstr(text, "epoch,1,gpu0,0.000000,2.000000,2.000000,,250,125,"));
    assert_non_null(strstr(text, "epoch,2,gpu0,2.000000,4.000000,2.000000,,400,200,"));
    free(text);
    snprintf(path, sizeof(path), "%s/metrics.csv", dir);
    assert_int_equal(fs_read_file(path, &text, &len, err, sizeof(err)), 0);
    assert_non_null(strstr(text, "eval,2,accuracy,0.6"));
    free(text);
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    assert_int_equal(fs_read_file(path, &text, &len, err, sizeof(err)), 0);
    assert_non_null(strstr(text, "\"status\": \"complete\""));
    assert_non_null(strstr(text, "\"energy_source\": \"power-integral\""));
    assert_non_null(strstr(text, "\"start_local\": \"2023-05-08T01:00:00.000\""));
    free(text);
    nvsmi_log_free(&log);
    epoch_log_free(&ep);
    static const char *const files[] = {"samples.csv", "phases.csv", "metrics.csv",
                                        "manifest.json"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        remove(path);
    }
    remove(dir);
}

/* The fast paths must give exactly what strtod and printf give. */
/* Units are converted or refused, implausible values refused (issue 13: "36.72 kW" was read as
 * 36.72 W, "36820 mW" as 36820 W, "0 GiB" as 0 MiB, even with --strict). */
static void test_units(void **state)
{
    (void)state;
    struct nvsmi_log log;
    char err[256];
    const char *text = "timestamp, power.draw [W], memory.used [MiB], clocks.sm [MHz]\n"
                       "2023/05/08 01:00:00.000, 0.3672 kW, 2 GiB, 1.5 GHz\n"
                       "2023/05/08 01:00:01.000, 36820 mW, 512 KiB, 1500000 kHz\n"
                       "2023/05/08 01:00:02.000, 36.5, 100, 1400\n";
    assert_int_equal(parse(text, NULL, 1, &log, err), 0);
    assert_int_equal(log.n, 3);
    assert_true(fabs(log.rows[0].v[NVV_POWER_W] - 367.2) < 1e-9);
    assert_true(fabs(log.rows[0].v[NVV_MEM_USED_MIB] - 2048) < 1e-9);
    assert_true(fabs(log.rows[0].v[NVV_SM_CLOCK_MHZ] - 1500) < 1e-9);
    assert_true(fabs(log.rows[1].v[NVV_POWER_W] - 36.82) < 1e-9);
    assert_true(fabs(log.rows[1].v[NVV_MEM_USED_MIB] - 0.5) < 1e-9);
    assert_true(fabs(log.rows[2].v[NVV_POWER_W] - 36.5) < 1e-9); /* the header's unit */
    nvsmi_log_free(&log);

    /* Each refused row names file, line and field, with and without --strict. */
    static const struct {
        const char *row, *msg;
    } bad[] = {
        {"2023/05/08 01:00:01.000, 36.72 kW, 1 MiB", "field 'power.draw [W]': 36720 W is out of "
                                                     "range (0 to 10000 W)"},
        {"2023/05/08 01:00:01.000, -5 W, 1 MiB", "field 'power.draw [W]': -5 W is negative"},
        {"2023/05/08 01:00:01.000, 5 kWh, 1 MiB", "unit 'kWh' is not one of W, mW, kW"},
        {"2023/05/08 01:00:01.000, 5 W, 1 MB", "field 'memory.used [MiB]': unit 'MB' is not one "
                                               "of MiB, KiB, GiB, TiB, B"},
        {"2023/05/08 01:00:01.000, 5 W, 2 TiB", "2.09715e+06 MiB is out of range"},
        {"9999/05/08 01:00:01.000, 5 W, 1 MiB", "field 'timestamp': not a year from 1970 to 2199"},
        {"2023/05/10 01:00:01.000, 5 W, 1 MiB",
         "field 'timestamp': 172801 s after the row before, more than 86400 s"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char t[512];
        snprintf(t, sizeof(t),
                 "timestamp, power.draw [W], memory.used [MiB]\n"
                 "2023/05/08 01:00:00.000, 10 W, 1 MiB\n%s\n"
                 "2023/05/08 01:00:02.000, 12 W, 1 MiB\n",
                 bad[i].row);
        assert_int_equal(parse(t, NULL, 0, &log, err), 0);
        assert_int_equal(log.n, 2);
        assert_int_equal(log.bad_rows, 1);
        if (strncmp(last_warn, "log.csv:3: ", 11) || !strstr(last_warn, bad[i].msg))
            fail_msg("warning '%s' does not name line 3 and '%s'", last_warn, bad[i].msg);
        nvsmi_log_free(&log);
        assert_int_equal(parse(t, NULL, 1, &log, err), -1);
        if (strncmp(err, "log.csv:3: ", 11) || !strstr(err, bad[i].msg))
            fail_msg("error '%s' does not name line 3 and '%s'", err, bad[i].msg);
        nvsmi_log_free(&log);
    }
    /* A header's unit must be one the gauge knows, or nothing in the column means anything. */
    assert_int_equal(
        parse("timestamp, power.draw [kWh]\n2023/05/08 01:00:00.000, 1\n", NULL, 0, &log, err), -1);
    assert_string_equal(err, "log.csv:1: field 'power.draw [kWh]': unit 'kWh' is not one of W, "
                             "mW, kW");
    nvsmi_log_free(&log);
    /* Metrics are plain numbers. */
    {
        struct epoch_log ep = {0};
        const char *m = "epoch;accuracy;timestamp\n0;0.5 kW;2023-05-08 01:00:00\n";
        assert_int_equal(epochs_parse(m, strlen(m), "m.csv", 1, &ep, on_warn, NULL, err, 256), -1);
        assert_non_null(strstr(err, "m.csv:2: column 'accuracy': not a number"));
        epoch_log_free(&ep);
        m = "epoch;accuracy;timestamp\n0;0.5;9999-05-08 01:00:00\n";
        assert_int_equal(epochs_parse(m, strlen(m), "m.csv", 1, &ep, on_warn, NULL, err, 256), -1);
        assert_non_null(strstr(err, "m.csv:2: column 'timestamp': not a year from 1970 to 2199"));
        epoch_log_free(&ep);
    }
}

static void test_fastnum(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    char want[64], txt[64];
    unsigned x = 12345;
    double got;
    /* a sign and a point without a digit are not numbers (the fast path once took them as 0) */
    static const char *const not_numbers[] = {"-.", "+.", ".", "-", ""};
    for (size_t k = 0; k < sizeof(not_numbers) / sizeof(not_numbers[0]); k++)
        assert_int_equal(
            fastnum_parse(not_numbers[k], not_numbers[k] + strlen(not_numbers[k]), &got), -1);
    for (int i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345u;
        double v = (double)(x % 100000000u) / (double)(1u << (x % 17)) - 1000.0;
        if (i % 4 == 0) /* large times with 6 decimals: products near 1e11 */
            v = 1e5 + (double)(x % 1000000u) * 1e-6 + 5e-7;
        int dec = (int)(x % 7);
        sb_reset(&sb);
        fastnum_put(&sb, v, dec, 0);
        snprintf(want, sizeof(want), "%.*f", dec, v);
        if (!strcmp(want, "-0") || !strncmp(want, "-0.", 3)) /* printf keeps the sign of -0 */
            continue;
        assert_string_equal(sb_str(&sb), want);
        double p, q;
        assert_int_equal(fastnum_parse(want, want + strlen(want), &p), 0);
        q = strtod(want, NULL);
        assert_memory_equal(&p, &q, sizeof(p));
        snprintf(txt, sizeof(txt), "%.17g", v);
        assert_int_equal(fastnum_parse(txt, txt + strlen(txt), &p), 0);
        assert_true(p == v);
    }
    sb_reset(&sb);
    fastnum_put(&sb, 36.7200, 6, 1);
    fastnum_put(&sb, NAN, 6, 1);
    sb_putc(&sb, '|');
    fastnum_put(&sb, 100.0, 6, 1);
    assert_string_equal(sb_str(&sb), "36.72|100");
    double v;
    static const char e3[] = "1e3", dots[] = "1.2.3", minus[] = "-";
    assert_int_equal(fastnum_parse(e3, e3 + 3, &v), 0);
    assert_true(v == 1000);
    assert_int_equal(fastnum_parse(dots, dots + 5, &v), -1);
    assert_int_equal(fastnum_parse(minus, minus + 1, &v), -1);
    assert_int_equal(fastnum_parse("", "", &v), -1);
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_study_format), cmocka_unit_test(test_headerless_and_order),
        cmocka_unit_test(test_malformed),    cmocka_unit_test(test_epochs),
        cmocka_unit_test(test_series),       cmocka_unit_test(test_import_rundir),
        cmocka_unit_test(test_fastnum),      cmocka_unit_test(test_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
