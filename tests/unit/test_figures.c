/*
 * test_figures.c - the report's figures and HTML page (src/analysis/figures*.c, html.c) on small
 * report folders written by hand here (configs.csv, epochs.csv, report.json, run directories with
 * samples.csv and phases.csv): files made, PNGs well formed, the numbers drawn (fig/<name>.csv:
 * units, whiskers cut to the physical range, stacked phases), figures not drawn and their reasons
 * in fig/figures.json and index.html, the "simulated" label, escaping of level values (a value
 * starting with a quote), a configs.csv without levels, bad input.
 * It does not judge how the figures look: tests/cli/report_chromium.sh loads the page in a
 * browser, and a person looks at the PNGs.
 *
 * Run as `test_figures --write-sample DIR` it writes the sample report into DIR/report (runs in
 * DIR/results), draws it and exits: report_chromium.sh uses that.
 */
/* scratch paths are short (mkdtemp under TMPDIR); GCC cannot know that */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/figures.h"
#include "analysis/plot.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

static char tmpdir[PATH_MAX];

static void put(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX], err[512];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (fs_write_atomic(path, text, strlen(text), err, sizeof(err)) < 0)
        fail_msg("%s", err);
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[PATH_MAX], err[512];
    char *data = NULL;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (fs_read_file(path, &data, len, err, sizeof(err)) < 0)
        return NULL;
    return data;
}

static void mkdirs(const char *path)
{
    char err[512];
    if (fs_mkdir_p(path, err, sizeof(err)) < 0)
        fail_msg("%s", err);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t crc32_png(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

/* Checks that a PNG is well formed (signature, IHDR first, chunks' CRCs, IDAT, IEND last) and at
 * least min_w x min_h pixels. */
static void check_png(const char *dir, const char *name, uint32_t min_w, uint32_t min_h)
{
    size_t len = 0, pos = 8;
    unsigned char *d;
    int idat = 0, iend = 0;

    if (!plot_png_available()) {
        /* a build without cairo: no PNG, and figures.json says why */
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        assert_false(fs_exists(path));
        d = (unsigned char *)slurp(dir, "figures.json", &len);
        assert_non_null(d);
        assert_non_null(strstr((char *)d, "built without cairo"));
        free(d);
        return;
    }
    d = (unsigned char *)slurp(dir, name, &len);

    assert_non_null(d);
    assert_true(len > 1000);
    assert_memory_equal(d, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(d + 12, "IHDR", 4);
    assert_int_equal(be32(d + 8), 13);
    assert_true(be32(d + 16) >= min_w);
    assert_true(be32(d + 20) >= min_h);
    while (pos + 12 <= len && !iend) {
        uint32_t n = be32(d + pos);
        assert_true(pos + 12 + n <= len);
        assert_int_equal(crc32_png(d + pos + 4, n + 4), be32(d + pos + 8 + n));
        idat |= memcmp(d + pos + 4, "IDAT", 4) == 0;
        iend = memcmp(d + pos + 4, "IEND", 4) == 0;
        pos += 12 + n;
    }
    assert_true(idat);
    assert_true(iend);
    assert_int_equal(pos, len);
    free(d);
}

static void check_svg(const char *dir, const char *name)
{
    size_t len = 0;
    char *d = slurp(dir, name, &len);

    assert_non_null(d);
    assert_true(len > 3000);
    assert_non_null(strstr(d, "<svg"));
    assert_non_null(strstr(d, "</svg>"));
    free(d);
}

/* ---- sample inputs ------------------------------------------------------------------------- */

static const char *const frameworks[] = {"pytorch", "jax", "tensorflow"};
static const char *const datasets[] = {"cifar10", "svhn"};
static const char *const models[] = {"resnet50", "resnet101"};
static const int batches[] = {32, 64, 128, 256};

/* configs.csv of the corrected method, numbers from a formula (plausible, not measured) */
static void write_configs_corrected(const char *dir, int with_ci)
{
    struct strbuf sb = STRBUF_INIT;

    sb_puts(&sb, "framework,dataset,model,batch_size,n,energy_j_mean,energy_j_sd,energy_j_ci95,"
                 "startup_energy_j_mean,epochs_energy_j_mean,eval_energy_j_mean,"
                 "other_energy_j_mean,"
                 "avg_power_w_mean,avg_power_w_sd,avg_power_w_ci95,"
                 "epoch1_avg_power_w_mean,epoch1_avg_power_w_sd,epoch1_avg_power_w_ci95,"
                 "rest_avg_power_w_mean,rest_avg_power_w_sd,rest_avg_power_w_ci95,"
                 "gpu_util_pct_mean,gpu_util_pct_sd,gpu_util_pct_ci95,"
                 "final_accuracy_mean,final_accuracy_sd,final_accuracy_ci95\n");
    for (int f = 0; f < 3; f++)
        for (int d = 0; d < 2; d++)
            for (int m = 0; m < 2; m++)
                for (int b = 0; b < 4; b++) {
                    double e = (30000.0 - 5000.0 * b) * (1 + m) * (1 + 0.2 * f) * (1 + 0.5 * d);
                    double st = 2000.0 + 3000.0 * f, ev = 0.05 * e, oth = 300;
                    double p = 90 + 25 * b + 10 * f, p1 = p * 0.7, u = 40 + 12 * b - 3 * f;
                    double acc = 0.45 + 0.03 * b - 0.1 * d + 0.01 * f;
                    sb_printf(&sb, "%s,%s,%s,%d,2,%.1f,%.1f,", frameworks[f], datasets[d],
                              models[m], batches[b], e + st + ev + oth, e * 0.03);
                    if (with_ci)
                        sb_printf(&sb, "%.1f", e * 0.12);
                    sb_printf(&sb, ",%.1f,%.1f,%.1f,%.1f", st, e, ev, oth);
                    sb_printf(&sb,
                              ",%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,"
                              "%.4f,%.4f,%.4f\n",
                              p, 2.0, 9.0, p1, 3.0, 14.0, p * 1.02, 2.0, 9.0, u, 1.5, 6.0, acc,
                              0.01, 0.05);
                }
    put(dir, "configs.csv", sb_str(&sb));
    sb_free(&sb);
}

/* A run directory: an idle baseline of 10 s, a start-up, epochs of 92 s each followed by an eval
 * of 8 s, 0.1 s samples of a GPU meter (and a CPU meter every second). */
static void write_run(const char *results, const char *name, double startup_s, int epochs,
                      double watts)
{
    char run[PATH_MAX];
    struct strbuf s = STRBUF_INIT, p = STRBUF_INIT;
    double t0 = 1000.0, cmd = t0 + 10, train = cmd + startup_s;
    int n = (int)((10 + startup_s + 100.0 * epochs) * 10);

    snprintf(run, sizeof(run), "%s/quick/%s", results, name);
    mkdirs(run);
    sb_puts(&s, "t_s,meter,power_w,energy_j,temp_c,util_pct,mem_util_pct,mem_used_mib,"
                "sm_clock_mhz\n");
    for (int i = 0; i < n; i++) {
        double t = t0 + i * 0.1, rel = t - train;
        int training = rel > 0 && fmod(rel, 100) < 92;
        double w = t < cmd ? 35 : training ? watts + 20 * sin(i * 0.05) : t < train ? 60 : 45;
        sb_printf(&s, "%.3f,gpu0,%.2f,,%.1f,%d,%d,4000,1400\n", t, w, 35 + (t - t0) / 20,
                  training ? 90 : 0, training ? 40 : 0);
        if (i % 10 == 0)
            sb_printf(&s, "%.3f,cpu-package0,%.2f,,,,,,\n", t + 0.05, 30.0 + (training ? 25 : 0));
    }
    sb_puts(&p, "phase,index,meter,t_begin_s,t_end_s,duration_s,energy_j,energy_j_power,"
                "avg_power_w,items\n");
    sb_printf(&p, "idle,0,gpu0,%.1f,%.1f,10,350,350,35,\n", t0, cmd);
    sb_printf(&p, "command,0,gpu0,%.1f,%.1f,,,,,\n", cmd, train + 100.0 * epochs);
    sb_printf(&p, "startup,0,gpu0,%.1f,%.1f,%.1f,,,,\n", cmd, train, startup_s);
    for (int e = 1; e <= epochs; e++) {
        double b = train + (e - 1) * 100.0;
        sb_printf(&p, "epoch,%d,gpu0,%.1f,%.1f,92,16560,16500,180,45000\n", e, b, b + 92);
        sb_printf(&p, "epoch,%d,cpu-package0,%.1f,%.1f,92,5060,5000,55,45000\n", e, b, b + 92);
        sb_printf(&p, "eval,%d,gpu0,%.1f,%.1f,8,320,320,40,5000\n", e, b + 92, b + 100);
    }
    put(run, "samples.csv", sb_str(&s));
    put(run, "phases.csv", sb_str(&p));
    sb_free(&s);
    sb_free(&p);
}

static const char *const report_json_corrected =
    "{\"method\": \"corrected\", \"simulated\": true,\n"
    " \"levels\": [\"framework\", \"dataset\", \"model\", \"batch_size\"],\n"
    " \"example_run\": \"quick/pytorch-svhn-resnet101-256-r1\",\n"
    " \"example_runs\": [{\"run\": \"quick/pytorch-svhn-resnet101-256-r1\", \"label\": "
    "\"pytorch\"},\n"
    "   {\"run\": \"quick/jax-svhn-resnet101-256-r1\", \"label\": \"jax\"},\n"
    "   {\"run\": \"quick/tensorflow-svhn-resnet101-256-r1\", \"label\": \"tensorflow\"}],\n"
    " \"provenance\": {\"joulebench_version\": \"0.1.0\", \"written_utc\": "
    "\"2026-12-01T10:00:00Z\", \"gpus\": [\"NVIDIA H200\"], \"drivers\": [\"580.1\"],\n"
    "   \"frameworks\": [\"pytorch 2.11.0\", \"jax 0.7.1\"], \"hosts\": [\"gpu-node-1\"]},\n"
    " \"notes\": [\"energy from the GPU counter\", \"numbers <made up> for a test & more\"]}\n";

/* A whole sample report: dir/report and dir/results. */
static void write_sample(const char *dir, char *report, size_t rlen, char *results, size_t slen)
{
    snprintf(report, rlen, "%s/report", dir);
    snprintf(results, slen, "%s/results", dir);
    mkdirs(report);
    mkdirs(results);
    write_configs_corrected(report, 1);
    put(report, "report.json", report_json_corrected);
    put(report, "epochs.csv",
        "framework,dataset,model,batch_size,repeat,epoch,energy_j\n"
        "pytorch,cifar10,resnet50,32,1,1,16560\n");
    put(report, "summary.md",
        "# Summary\n\npytorch uses <less> energy & time than jax.\n\n"
        "**SIMULATED meter**: made-up numbers, *not* a measurement; see `configs.csv`.\n");
    write_run(results, "pytorch-svhn-resnet101-256-r1", 20, 3, 180);
    write_run(results, "jax-svhn-resnet101-256-r1", 45, 3, 200);
    write_run(results, "tensorflow-svhn-resnet101-256-r1", 30, 3, 230);
}

/* ---- fixtures ------------------------------------------------------------------------------- */

static int setup(void **state)
{
    const char *base = getenv("TMPDIR");
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/jb-figures-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir))
        return -1;
    return 0;
}

static int rm_rf(const char *path)
{
    char cmd[PATH_MAX + 32];
    /* test scratch only: the path is our own mkdtemp result */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    return system(cmd);
}

static int teardown(void **state)
{
    (void)state;
    return rm_rf(tmpdir) == 0 ? 0 : -1;
}

static const char *const figs[] = {"timeseries", "energy", "power", "gpu_util", "accuracy"};

/* ---- helpers -------------------------------------------------------------------------------- */

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void expect_in(const char *dir, const char *name, const char *needle)
{
    size_t len = 0;
    char *d = slurp(dir, name, &len);

    if (!d)
        fail_msg("%s/%s: missing", dir, name);
    if (!strstr(d, needle))
        fail_msg("%s/%s: '%s' not found in:\n%.3000s", dir, name, needle, d);
    free(d);
}

static void expect_not_in(const char *dir, const char *name, const char *needle)
{
    size_t len = 0;
    char *d = slurp(dir, name, &len);

    assert_non_null(d);
    if (strstr(d, needle))
        fail_msg("%s/%s: '%s' found", dir, name, needle);
    free(d);
}

/* For binary files (PNG): the n bytes of needle anywhere in the file. */
static void expect_bytes(const char *dir, const char *name, const char *needle, size_t n)
{
    size_t len = 0;
    char *d = slurp(dir, name, &len);
    int found = 0;

    assert_non_null(d);
    for (size_t i = 0; i + n <= len && !found; i++)
        found = memcmp(d + i, needle, n) == 0;
    if (!found)
        fail_msg("%s/%s: '%s' not found", dir, name, needle);
    free(d);
}

static int exists_in(const char *dir, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return fs_exists(path);
}

static void draw(const char *report, const char *results, unsigned flags)
{
    char err[1024];
    if (figures_write(report, results, flags, NULL, err, sizeof(err)) != 0)
        fail_msg("figures_write: %s", err);
    if (html_write(report, err, sizeof(err)) != 0)
        fail_msg("html_write: %s", err);
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_corrected_all_figures(void **state)
{
    char report[PATH_MAX], results[PATH_MAX], fig[PATH_MAX + 8], name[64];
    char *json, *html;
    size_t len;

    (void)state;
    write_sample(tmpdir, report, sizeof(report), results, sizeof(results));
    draw(report, results, 0);
    snprintf(fig, sizeof(fig), "%s/fig", report);
    for (size_t i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "%s.png", figs[i]);
        check_png(fig, name, 900, 500);
        snprintf(name, sizeof(name), "%s.svg", figs[i]);
        check_svg(fig, name);
        /* the simulated label in every figure: drawn, and in the metadata of both formats */
        expect_in(fig, name, ">SIMULATED meter: these numbers are not a measurement</text>");
        expect_in(fig, name, "<desc>SIMULATED meter");
        snprintf(name, sizeof(name), "%s.png", figs[i]);
        if (plot_png_available())
            expect_bytes(fig, name, "Description\0\0\0\0\0SIMULATED meter", 31);
    }
    json = slurp(fig, "figures.json", &len);
    assert_non_null(json);
    assert_null(strstr(json, "\"made\": false"));
    assert_non_null(strstr(json, "\"colour\": \"framework\""));
    assert_non_null(strstr(json, "\"group\": \"batch_size\""));
    assert_non_null(strstr(json, "\"dataset\""));
    assert_non_null(strstr(json, "95% confidence"));
    assert_non_null(strstr(json, "time buckets")); /* 3400+ samples were bucketed */
    assert_non_null(strstr(json, "\"simulated\": true"));
    for (int n = 1; n <= 5; n++) {
        char num[32];
        snprintf(num, sizeof(num), "\"number\": %d,", n);
        assert_non_null(strstr(json, num));
    }
    free(json);
    /* the study's numbering is in the drawings too */
    expect_in(fig, "timeseries.svg", ">Fig. 1: Power, temperature and utilisation over time<");
    expect_in(fig, "energy.svg", ">Fig. 2: Energy per configuration, by phase<");
    expect_in(fig, "accuracy.svg", ">Fig. 5: Final test accuracy<");
    /* energy in kJ, stacked: 33.8 kJ = 2 start-up + 30 epochs + 1.5 eval + 0.3 rest, whiskers
     * from the ci95 column (3.6 kJ) */
    expect_in(fig, "energy.csv",
              "framework,dataset,model,batch_size,unit,value,ci95_low,"
              "ci95_high,epoch1,startup,epochs,eval,other\n");
    expect_in(fig, "energy.csv", "\npytorch,cifar10,resnet50,32,kJ,33.8,30.2,37.4,,2,30,1.5,0.3\n");
    expect_in(fig, "energy.svg", ">start-up</text>");
    expect_in(fig, "energy.svg", ">rest of the command</text>");
    expect_in(fig, "energy.svg", ">energy (kJ)</text>");
    expect_in(fig, "energy.svg", ">cifar10 / resnet50</text>");
    /* epoch 1 markers and epochs 2..N bars */
    expect_in(fig, "power.csv", "\npytorch,cifar10,resnet50,32,W,91.8,82.8,100.8,63\n");
    expect_in(fig, "power.svg", ">epoch 1</text>");
    /* accuracy drawn in % */
    expect_in(fig, "accuracy.csv", "\npytorch,cifar10,resnet50,32,%,45,40,50,\n");
    expect_in(fig, "gpu_util.csv", "\npytorch,cifar10,resnet50,32,%,40,34,46,\n");
    /* the time series overlays the three runs and marks idle, start-up and epochs */
    expect_in(fig, "timeseries.svg", ">pytorch</text>");
    expect_in(fig, "timeseries.svg", ">tensorflow</text>");
    expect_in(fig, "timeseries.svg", ">idle baseline</text>");
    expect_in(fig, "timeseries.svg", ">start-up</text>");
    expect_in(fig, "timeseries.svg", ">idle baseline power (35 W)</text>");
    expect_in(fig, "timeseries.svg", ">temperature (°C)</text>");
    expect_in(fig, "timeseries.svg", ">time since the command started (s)");

    html = slurp(report, "index.html", &len);
    assert_non_null(html);
    /* self-contained: the figures inline, no namespace URL, no image to fetch */
    for (size_t i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "<figure id=\"fig-%s\">\n<svg", figs[i]);
        assert_non_null(strstr(html, name));
    }
    assert_int_equal(count(html, "<svg"), 5);
    assert_null(strstr(html, "<img"));
    assert_non_null(strstr(html, "<b>Figure 2.</b> Energy per configuration, by phase."));
    assert_true(!plot_png_available() || strstr(html, "href=\"fig/energy.png\""));
    assert_non_null(strstr(html, "href=\"fig/energy.csv\""));
    assert_non_null(strstr(html, "id=\"simulated\""));
    assert_non_null(strstr(html, "<strong>SIMULATED meter</strong>: made-up numbers, "
                                 "<em>not</em> a measurement; see <code>configs.csv</code>."));
    assert_null(strstr(html, "**"));
    assert_non_null(strstr(html, "numbers &lt;made up&gt; for a test &amp; more"));
    assert_non_null(strstr(html, "pytorch uses &lt;less&gt; energy &amp; time"));
    assert_non_null(strstr(html, "href=\"epochs.csv\""));
    assert_non_null(strstr(html, "<td>resnet101</td>"));
    /* provenance in the head and at the top */
    assert_non_null(strstr(html, "<meta name=\"generator\" content=\"joulebench 0.1.0\">"));
    assert_non_null(strstr(html, "<meta name=\"date\" content=\"2026-12-01T10:00:00Z\">"));
    assert_non_null(strstr(html, "<dt>GPUs</dt><dd>NVIDIA H200</dd>"));
    assert_non_null(strstr(html, "<dt>drivers</dt><dd>580.1</dd>"));
    assert_non_null(strstr(html, "<dt>frameworks</dt><dd>pytorch 2.11.0, jax 0.7.1</dd>"));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "<script"));
    free(html);
}

static void test_seed_method_no_ci(void **state)
{
    char fig[PATH_MAX + 8];
    char *html;
    size_t len;

    (void)state;
    put(tmpdir, "configs.csv",
        "framework,dataset,model,batch_size,total_energy_kJ,mean_power_W,mean_gpu_util_pct,"
        "final_accuracy,total_time_s\n"
        "pytorch,CIFAR10,resnet50,32,26.286,86.51,37.62,0.503,304.8\n"
        "pytorch,CIFAR10,resnet50,64,18.884,121.33,48.13,0.5,157.3\n"
        "tensorflow,CIFAR10,resnet50,32,40.1,99.2,60.1,0.49,400.2\n"
        "tensorflow,CIFAR10,resnet50,64,30.5,120.0,66.0,0.47,250.0\n");
    put(tmpdir, "report.json",
        "{\"method\": \"seed-2023\", \"simulated\": false, \"levels\": "
        "[\"framework\", \"dataset\", \"model\", \"batch_size\"]}");
    draw(tmpdir, tmpdir, 0);
    snprintf(fig, sizeof(fig), "%s/fig", tmpdir);
    check_png(fig, "energy.png", 300, 300);
    check_png(fig, "accuracy.png", 300, 300);
    expect_in(fig, "figures.json", "no confidence whiskers: column total_energy_kJ");
    expect_in(fig, "figures.json",
              "not stacked by phase: this method's configs.csv has the "
              "total only");
    expect_in(fig, "figures.json", "\"reason\": \"report.json names no \\\"example_run\\\"\"");
    expect_in(fig, "figures.json", "\"title\": \"Average power\"");
    /* no whisker when there is no CI */
    expect_in(fig, "energy.csv", "\npytorch,CIFAR10,resnet50,32,kJ,26.286,,,\n");
    expect_not_in(fig, "energy.svg", ">95% CI<");
    expect_not_in(fig, "energy.svg", "SIMULATED");
    html = slurp(tmpdir, "index.html", &len);
    assert_non_null(html);
    assert_null(strstr(html, "SIMULATED"));
    assert_non_null(strstr(html, "seed-2023"));
    /* Fig. 1 keeps its number and place, saying why it is not there */
    assert_non_null(strstr(html, "<figure class=\"missing\" id=\"fig-timeseries\">\n<p><b>Figure 1 "
                                 "not drawn.</b> Power, temperature and utilisation over time: "
                                 "report.json names no &quot;example_run&quot;</p>"));
    assert_true(strstr(html, "id=\"fig-timeseries\"") < strstr(html, "id=\"fig-energy\""));
    free(html);
}

static void test_whiskers_cut_to_physical_range(void **state)
{
    char fig[PATH_MAX + 8];

    (void)state;
    /* t intervals of two repeats are wide: they reach below 0 and above 100% */
    put(tmpdir, "configs.csv",
        "framework,batch_size,energy_j_mean,energy_j_ci95,gpu_util_pct_mean,gpu_util_pct_ci95,"
        "final_accuracy_mean,final_accuracy_ci95\n"
        "a,1,1000,2000,97,10,0.98,0.05\n"
        "b,1,3000,500,50,5,0.5,0.1\n");
    put(tmpdir, "report.json",
        "{\"method\": \"corrected\", \"levels\": [\"framework\", "
        "\"batch_size\"]}");
    draw(tmpdir, tmpdir, 0);
    snprintf(fig, sizeof(fig), "%s/fig", tmpdir);
    expect_in(fig, "energy.csv", "\na,1,kJ,1,0,3,\n");
    expect_in(fig, "energy.csv", "\nb,1,kJ,3,2.5,3.5,\n");
    expect_in(fig, "gpu_util.csv", "\na,1,%,97,87,100,\n");
    expect_in(fig, "accuracy.csv", "\na,1,%,98,93,100,\n");
    expect_in(fig, "accuracy.csv", "\nb,1,%,50,40,60,\n");
    expect_in(fig, "figures.json", "1 whisker reaching below 0 cut at 0");
    expect_in(fig, "figures.json", "1 whisker reaching above 100% cut at 100%");
    /* the note is in the drawing too, and the axis stops at 100% */
    expect_in(fig, "accuracy.svg", "cut at 100%</text>");
    expect_in(fig, "accuracy.svg", ">100</text>");
    expect_not_in(fig, "accuracy.svg", ">110</text>");
}

static void test_missing_columns_and_values(void **state)
{
    char fig[PATH_MAX + 8];

    (void)state;
    put(tmpdir, "configs.csv",
        "framework,batch_size,energy_j_mean,energy_j_ci95\n"
        "a,1,1000,\n"
        "a,2,,\n"
        "b,1,1500,2000\n"
        "b,2,2500,200\n");
    put(tmpdir, "report.json",
        "{\"method\": \"corrected\", \"levels\": [\"framework\", "
        "\"batch_size\"], \"example_run\": \"nowhere/run-r1\"}");
    draw(tmpdir, tmpdir, 0);
    snprintf(fig, sizeof(fig), "%s/fig", tmpdir);
    check_png(fig, "energy.png", 300, 300);
    expect_in(fig, "figures.json", "1 configuration without a value of energy_j_mean");
    expect_in(fig, "figures.json", "1 whisker reaching below 0 cut at 0");
    expect_in(fig, "figures.json", "not stacked by phase: configs.csv lacks the phase columns");
    expect_in(fig, "figures.json",
              "configs.csv has none of the columns rest_avg_power_w_mean, "
              "avg_power_w_mean, mean_power_W");
    expect_in(fig, "figures.json", "configs.csv has none of the columns final_accuracy_mean");
    expect_in(fig, "figures.json", "no samples.csv in the example run");
    expect_in(fig, "figures.json", "\"facets\": []");
    assert_false(exists_in(fig, "power.png"));
    assert_false(exists_in(fig, "power.svg"));
    expect_in(tmpdir, "index.html", "<b>Figure 3 not drawn.</b>");
    expect_in(tmpdir, "index.html", "<b>Figure 5 not drawn.</b>");
    /* a figure drawn before and not now is removed */
    put(tmpdir, "configs.csv", "framework,batch_size,gpu_util_pct_mean\na,1,50\n");
    draw(tmpdir, tmpdir, 0);
    assert_true(exists_in(fig, "gpu_util.svg"));
    assert_false(exists_in(fig, "energy.png"));
    assert_false(exists_in(fig, "energy.svg"));
    assert_false(exists_in(fig, "energy.csv"));
}

static void test_escaping(void **state)
{
    char fig[PATH_MAX + 8];
    char *html;
    size_t len;

    (void)state;
    /* a level value starting with a quote broke gnuplot's quoting (issue 13): now just text */
    put(tmpdir, "configs.csv",
        "framework,dataset,batch_size,energy_j_mean,energy_j_ci95\n"
        "\"'quoted\",\"a<b&c\",8,1000,10\n"
        "\"'quoted\",\"a<b&c\",16,900,10\n"
        "\"x\"\"y @z\",\"d\\e $f {g}^2_h\",8,1100,10\n"
        "\"x\"\"y @z\",\"d\\e $f {g}^2_h\",16,1000,10\n"
        "\"</svg><script>\",\"a<b&c\",8,1000,10\n");
    put(tmpdir, "report.json",
        "{\"method\": \"corrected\", \"simulated\": false, "
        "\"notes\": \"<script>alert(1)</script>\"}");
    draw(tmpdir, tmpdir, 0);
    snprintf(fig, sizeof(fig), "%s/fig", tmpdir);
    check_png(fig, "energy.png", 300, 300);
    expect_in(fig, "energy.svg", ">&#39;quoted</text>");
    expect_in(fig, "energy.svg", ">a&lt;b&amp;c</text>");
    expect_in(fig, "energy.svg", ">d\\e $f {g}^2_h</text>");
    expect_in(fig, "energy.svg", ">x&quot;y @z</text>");
    expect_in(fig, "energy.svg", ">&lt;/svg&gt;&lt;script&gt;</text>");
    expect_in(fig, "energy.csv", "\n'quoted,a<b&c,8,kJ,1,0.99,1.01,\n");
    expect_in(fig, "energy.csv", "\n\"x\"\"y @z\",");
    html = slurp(tmpdir, "index.html", &len);
    assert_non_null(html);
    assert_null(strstr(html, "<script"));
    assert_int_equal(count(html, "</svg>"), 1); /* the energy figure's own end, nothing else */
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "<td>a&lt;b&amp;c</td>"));
    assert_non_null(strstr(html, "<td>x&quot;y @z</td>"));
    assert_non_null(strstr(html, "<td>&#39;quoted</td>"));
    free(html);
}

static void test_no_levels(void **state)
{
    char fig[PATH_MAX + 8];

    (void)state;
    /* a grid without levels: one configuration, and configs.csv starts with n */
    put(tmpdir, "configs.csv",
        "n,energy_j_mean,energy_j_sd,energy_j_ci95,final_accuracy_mean,final_accuracy_sd,"
        "final_accuracy_ci95\n"
        "2,5000,100,900,0.5,0,0\n");
    put(tmpdir, "report.json", "{\"method\": \"corrected\", \"levels\": []}");
    draw(tmpdir, tmpdir, 0);
    snprintf(fig, sizeof(fig), "%s/fig", tmpdir);
    check_png(fig, "energy.png", 300, 300);
    expect_in(fig, "energy.csv", "unit,value,ci95_low,ci95_high,epoch1\nkJ,5,4.1,5.9,\n");
    expect_in(fig, "energy.svg", ">all runs</text>");
    expect_in(fig, "accuracy.csv", "\n%,50,50,50,\n");
    expect_not_in(fig, "figures.json", "\"roles\"");
    expect_in(tmpdir, "index.html", "<figure id=\"fig-energy\">\n<svg");
}

static void test_generic_levels(void **state)
{
    char fig[PATH_MAX + 8];
    struct strbuf sb = STRBUF_INIT;
    char *svg;
    size_t len;

    (void)state;
    /* no framework, no batch_size, no "levels" in report.json: colour = first level, group =
     * last, facets = the two between: a 3 x 2 grid of which 5 cells have configurations */
    sb_puts(&sb, "alpha,beta,gamma,delta,energy_j_mean,energy_j_sd,energy_j_ci95,n\n");
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++)
            for (int g = 0; g < 2; g++)
                for (int d = 0; d < 3; d++)
                    if (!(b == 2 && g == 1))
                        sb_printf(&sb, "a%d,b%d,g%d,%d,%d,1,2,3\n", a, b, g, 10 - d,
                                  1000 + 100 * a + 10 * b + g + d);
    put(tmpdir, "configs.csv", sb_str(&sb));
    sb_free(&sb);
    put(tmpdir, "report.json", "{\"method\": \"corrected\"}");
    draw(tmpdir, tmpdir, 0);
    snprintf(fig, sizeof(fig), "%s/fig", tmpdir);
    check_png(fig, "energy.png", 600, 500);
    expect_in(fig, "figures.json", "\"colour\": \"alpha\"");
    expect_in(fig, "figures.json", "\"group\": \"delta\"");
    expect_in(fig, "figures.json", "leading columns of configs.csv are taken as levels");
    /* numeric group values in numeric order: 8, 9, 10 */
    svg = slurp(fig, "energy.svg", &len);
    assert_non_null(svg);
    assert_true(strstr(svg, ">8</text>") < strstr(svg, ">9</text>"));
    assert_true(strstr(svg, ">9</text>") < strstr(svg, ">10</text>"));
    /* 5 facet combinations in a 3 x 2 grid: 5 panel titles */
    assert_non_null(strstr(svg, ">b0 / g0</text>"));
    assert_non_null(strstr(svg, ">b2 / g0</text>"));
    assert_null(strstr(svg, ">b2 / g1</text>"));
    free(svg);

    /* three facet levels: their 8 combinations wrapped */
    sb_puts(&sb, "x,f1,f2,f3,bs,energy_j_mean\n");
    for (int i = 0; i < 32; i++)
        sb_printf(&sb, "x%d,p%d,q%d,r%d,%d,%d\n", i & 1, (i >> 1) & 1, (i >> 2) & 1, (i >> 3) & 1,
                  (i >> 4) & 1, 1000 + i);
    put(tmpdir, "configs.csv", sb_str(&sb));
    sb_free(&sb);
    put(tmpdir, "report.json", "{\"levels\": [\"x\", \"f1\", \"f2\", \"f3\", \"bs\"]}");
    draw(tmpdir, tmpdir, 0);
    svg = slurp(fig, "energy.svg", &len);
    assert_non_null(svg);
    assert_int_equal(count(svg, " / q"), 8);
    assert_non_null(strstr(svg, ">p1 / q1 / r1</text>"));
    free(svg);
    check_png(fig, "energy.png", 900, 800);
}

static void test_bad_input(void **state)
{
    char err[1024];

    (void)state;
    /* report.json missing */
    put(tmpdir, "configs.csv", "framework,batch_size,energy_j_mean\na,1,5\n");
    assert_int_equal(figures_write(tmpdir, tmpdir, 0, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "report.json"));
    /* report.json malformed */
    put(tmpdir, "report.json", "{\"method\": ");
    assert_int_equal(figures_write(tmpdir, tmpdir, 0, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "report.json"));
    put(tmpdir, "report.json", "{\"method\": \"corrected\"}");
    /* CSV syntax and shape */
    put(tmpdir, "configs.csv", "framework,batch_size,energy_j_mean\na,1,5\n\"a,2,5\n");
    assert_int_equal(figures_write(tmpdir, tmpdir, 0, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "configs.csv:3:1: unterminated quoted field"));
    put(tmpdir, "configs.csv", "framework,batch_size,energy_j_mean\na,1\n");
    assert_int_equal(figures_write(tmpdir, tmpdir, 0, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "configs.csv:2: 2 fields, the header has 3"));
    /* a number that is not one: that cell is left out, with a note */
    put(tmpdir, "configs.csv", "framework,batch_size,energy_j_mean\na,1,5\na,2,5x\n");
    assert_int_equal(figures_write(tmpdir, tmpdir, 0, NULL, err, sizeof(err)), 0);
    expect_in(tmpdir, "fig/figures.json", "1 malformed cell of configs.csv left out");
    /* configs.csv missing */
    {
        char p[PATH_MAX + 16];
        snprintf(p, sizeof(p), "%s/configs.csv", tmpdir);
        assert_int_equal(unlink(p), 0);
    }
    assert_int_equal(figures_write(tmpdir, tmpdir, 0, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "configs.csv"));
    assert_int_equal(html_write(tmpdir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "configs.csv"));
}

static void test_bad_run_files(void **state)
{
    char err[1024], run[PATH_MAX];
    struct fig_status st;

    (void)state;
    put(tmpdir, "configs.csv", "framework,batch_size,energy_j_mean\na,1,5\n");
    put(tmpdir, "report.json", "{\"method\": \"corrected\", \"example_run\": \"g/r1\"}");
    snprintf(run, sizeof(run), "%s/g/r1", tmpdir);
    mkdirs(run);
    /* a malformed row is left out and counted; the figure is drawn */
    put(run, "samples.csv", "t_s,meter,power_w\n0.0,gpu0,10\n0.1,gpu0,ten\n0.2,gpu0,12\n");
    assert_int_equal(figures_write(tmpdir, tmpdir, 0, &st, err, sizeof(err)), 0);
    expect_in(tmpdir, "fig/figures.json", "1 malformed row of samples.csv/phases.csv left out");
    assert_int_equal(st.drawn, 2); /* time series and energy */
    /* a phases.csv without its columns: Fig. 1 is not drawn, saying why; the rest goes on */
    put(run, "phases.csv", "phase,index,meter,t_begin_s\nepoch,1,gpu0,0\n");
    assert_int_equal(figures_write(tmpdir, tmpdir, 0, &st, err, sizeof(err)), 0);
    expect_in(tmpdir, "fig/figures.json",
              "phases.csv': the columns phase, index, t_begin_s and t_end_s are required");
    assert_int_equal(st.drawn, 1);
    assert_int_equal(st.not_drawn, 4);
    assert_non_null(strstr(st.not_drawn_list, "Fig. 1 (timeseries): "));
    /* a samples.csv with a broken quote: the same */
    put(run, "phases.csv", "phase,index,meter,t_begin_s,t_end_s\n");
    put(run, "samples.csv", "t_s,meter,power_w\n0.0,\"gpu0,10\n");
    assert_int_equal(figures_write(tmpdir, tmpdir, 0, &st, err, sizeof(err)), 0);
    expect_in(tmpdir, "fig/figures.json", "samples.csv:2:5: unterminated quoted field");
}

static void test_no_png_and_no_figures(void **state)
{
    char report[PATH_MAX], results[PATH_MAX], fig[PATH_MAX + 8], err[1024];
    struct fig_status st;

    (void)state;
    write_sample(tmpdir, report, sizeof(report), results, sizeof(results));
    snprintf(fig, sizeof(fig), "%s/fig", report);
    /* a build without cairo is like --no-png, with its own reason */
    assert_int_equal(figures_write(report, results, 0, &st, err, sizeof(err)), 0);
    assert_int_equal(st.png_missing, plot_png_available() ? 0 : 5);
    /* SVG only: the PNGs are listed as not drawn, with the reason */
    assert_int_equal(figures_write(report, results, FIG_NO_PNG, &st, err, sizeof(err)), 0);
    assert_int_equal(st.drawn, 5);
    assert_int_equal(st.png_missing, 5);
    assert_false(exists_in(fig, "energy.png"));
    assert_true(exists_in(fig, "energy.svg"));
    expect_in(fig, "figures.json",
              "\"png\": null,\n      \"png_reason\": \"not asked for "
              "(--no-png)\"");
    assert_int_equal(html_write(report, err, sizeof(err)), 0);
    expect_in(report, "index.html", "(no PNG: not asked for (--no-png))");
    expect_not_in(report, "index.html", "href=\"fig/energy.png\"");
    /* no figure at all: still the page, each figure's place saying why */
    assert_int_equal(figures_write(report, results, FIG_NO_DRAW, &st, err, sizeof(err)), 0);
    assert_int_equal(st.drawn, 0);
    assert_int_equal(st.not_drawn, 5);
    assert_false(exists_in(fig, "energy.svg"));
    assert_int_equal(html_write(report, err, sizeof(err)), 0);
    for (int n = 1; n <= 5; n++) {
        char want[64];
        snprintf(want, sizeof(want), "<b>Figure %d not drawn.</b>", n);
        expect_in(report, "index.html", want);
    }
    expect_in(report, "index.html", "not asked for (--no-figures)");
}

static void test_html_without_figures(void **state)
{
    char err[1024];
    char *html;
    size_t len;

    (void)state;
    put(tmpdir, "configs.csv", "framework,batch_size,energy_j_mean\na,1,5\n");
    put(tmpdir, "report.json", "{\"method\": \"corrected\", \"simulated\": true}");
    if (html_write(tmpdir, err, sizeof(err)) != 0)
        fail_msg("html_write: %s", err);
    html = slurp(tmpdir, "index.html", &len);
    assert_non_null(html);
    assert_non_null(strstr(html, "No figures"));
    assert_non_null(strstr(html, "SIMULATED meter"));
    assert_non_null(strstr(html, "<title>joulebench report (simulated)</title>"));
    assert_non_null(strstr(html, "report.json has no provenance"));
    assert_null(strstr(html, "href=\"epochs.csv\"")); /* there is none */
    free(html);
}

static void test_html_summary_markdown_and_sim_meter(void **state)
{
    char err[1024];
    char *html;
    size_t len;

    (void)state;
    put(tmpdir, "configs.csv", "framework,batch_size,energy_j_mean\na,1,5.123456789\n");
    put(tmpdir, "ratios.csv", "factor,ratio\n");
    /* the report's own format: no "simulated" key, but a simulated meter among its meters */
    put(tmpdir, "report.json",
        "{\"format\": \"joulebench-report/1\", \"method\": \"corrected\", "
        "\"runs\": 4, \"meters\": {\"energy_j\": [\"sim0\"], "
        "\"cpu_energy_j\": []}}");
    put(tmpdir, "summary.md",
        "# joulebench report (method: corrected)\n\nPer run: energy.\n"
        "Second line.\n\n| framework | energy (kJ) |\n|---|---|\n"
        "| a<b | 1.5 +- 0.2 |\n| a\\|b \\*x\\* | 2 |\n\n3 run(s), 2*3 = 6 and a lone *.\n");
    if (html_write(tmpdir, err, sizeof(err)) != 0)
        fail_msg("html_write: %s", err);
    html = slurp(tmpdir, "index.html", &len);
    assert_non_null(html);
    assert_non_null(strstr(html, "id=\"simulated\""));
    assert_non_null(strstr(html, "<h3>joulebench report (method: corrected)</h3>"));
    assert_non_null(strstr(html, "<p>Per run: energy.\nSecond line.</p>"));
    assert_non_null(strstr(html, "<tr><th>framework</th><th>energy (kJ)</th></tr>"));
    assert_non_null(strstr(html, "<tr><td>a&lt;b</td><td>1.5 +- 0.2</td></tr>"));
    /* escaped pipes and stars (as summary.md escapes level values) stay text */
    assert_non_null(strstr(html, "<tr><td>a|b *x*</td><td>2</td></tr>"));
    assert_null(strstr(html, "---"));
    assert_non_null(strstr(html, "<p>3 run(s), 2*3 = 6 and a lone *.</p>"));
    assert_non_null(strstr(html, "<dt>runs</dt><dd>4</dd>"));
    assert_non_null(strstr(html, "href=\"ratios.csv\""));
    /* configs.csv numbers shown to 6 significant digits */
    assert_non_null(strstr(html, "<td class=\"num\">5.12346</td>"));
    free(html);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_corrected_all_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_method_no_ci, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_columns_and_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whiskers_cut_to_physical_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generic_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_run_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_png_and_no_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_without_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_summary_markdown_and_sim_meter, setup, teardown),
    };

    if (argc == 3 && strcmp(argv[1], "--write-sample") == 0) {
        char report[PATH_MAX], results[PATH_MAX], err[1024];
        write_sample(argv[2], report, sizeof(report), results, sizeof(results));
        if (figures_write(report, results, 0, NULL, err, sizeof(err)) < 0 ||
            html_write(report, err, sizeof(err)) < 0) {
            fprintf(stderr, "test_figures: %s\n", err);
            return 1;
        }
        printf("%s\n", report);
        plot_png_release();
        return 0;
    }
    {
        int failed = cmocka_run_group_tests(tests, NULL, NULL);
        plot_png_release();
        return failed;
    }
}
