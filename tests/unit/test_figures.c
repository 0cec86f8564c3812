/*
 * test_figures.c - the report's figures and HTML page (src/analysis/figures*.c, html.c) on small
 * report folders written by hand here (configs.csv, epochs.csv, report.json, a run directory with
 * samples.csv and phases.csv): files made, PNGs well formed, skips and their reasons in
 * fig/figures.json, escaping of level values, messages on bad input, gnuplot missing.
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
    unsigned char *d = (unsigned char *)slurp(dir, name, &len);
    int idat = 0, iend = 0;

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
                    double p = 90 + 25 * b + 10 * f, p1 = p * 0.7, u = 40 + 12 * b - 3 * f;
                    double acc = 0.45 + 0.03 * b - 0.1 * d + 0.01 * f;
                    sb_printf(&sb, "%s,%s,%s,%d,2,%.1f,%.1f,", frameworks[f], datasets[d],
                              models[m], batches[b], e, e * 0.03);
                    if (with_ci)
                        sb_printf(&sb, "%.1f", e * 0.12);
                    sb_printf(&sb,
                              ",%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,"
                              "%.4f,%.4f,%.4f\n",
                              p, 2.0, 9.0, p1, 3.0, 14.0, p * 1.02, 2.0, 9.0, u, 1.5, 6.0, acc,
                              0.01, 0.05);
                }
    put(dir, "configs.csv", sb_str(&sb));
    sb_free(&sb);
}

static void write_run(const char *results)
{
    char run[PATH_MAX];
    struct strbuf s = STRBUF_INIT, p = STRBUF_INIT;

    snprintf(run, sizeof(run), "%s/quick/pytorch-cifar10-resnet50-32-r1", results);
    mkdirs(run);
    sb_puts(&s, "t_s,meter,power_w,energy_j,temp_c,util_pct,mem_util_pct,mem_used_mib,"
                "sm_clock_mhz\n");
    /* 3 epochs of 100 s after a 20 s startup, 0.1 s samples: 3200 rows per meter */
    for (int i = 0; i < 3200; i++) {
        double t = 1000.0 + i * 0.1, rel = i * 0.1;
        int training = rel > 20 && fmod(rel - 20, 100) < 92;
        double w = training ? 180 + 20 * sin(i * 0.05) : 40;
        sb_printf(&s, "%.3f,gpu0,%.2f,,%.0f,%d,%d,4000,1400\n", t, w, 40 + rel / 20,
                  training ? 90 : 0, training ? 40 : 0);
        if (i % 10 == 0)
            sb_printf(&s, "%.3f,cpu-package0,%.2f,,,,,,\n", t + 0.05, 30.0 + (training ? 25 : 0));
    }
    sb_puts(&p, "phase,index,meter,t_begin_s,t_end_s,duration_s,energy_j,energy_j_power,"
                "avg_power_w,items\n");
    sb_puts(&p, "startup,0,gpu0,1000.0,1020.0,20,800,800,40,\n");
    for (int e = 1; e <= 3; e++) {
        double b = 1020.0 + (e - 1) * 100.0;
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
    " \"example_run\": \"quick/pytorch-cifar10-resnet50-32-r1\",\n"
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
    put(report, "summary.md", "# Summary\n\npytorch uses <less> energy & time than jax.\n");
    write_run(results);
}

/* ---- fixtures ------------------------------------------------------------------------------- */

static int setup(void **state)
{
    const char *base = getenv("TMPDIR");
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/jb-figures-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir))
        return -1;
    unsetenv("JB_GNUPLOT");
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
    unsetenv("JB_GNUPLOT");
    return rm_rf(tmpdir) == 0 ? 0 : -1;
}

static const char *const figs[] = {"timeseries", "energy", "power", "gpu_util", "accuracy"};

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_corrected_all_figures(void **state)
{
    char report[PATH_MAX], results[PATH_MAX], fig[PATH_MAX + 8], err[1024], name[64];
    char *json, *html, *dat, *gp;
    size_t len;

    (void)state;
    write_sample(tmpdir, report, sizeof(report), results, sizeof(results));
    if (figures_write(report, results, err, sizeof(err)) != 0)
        fail_msg("figures_write: %s", err);
    snprintf(fig, sizeof(fig), "%s/fig", report);
    for (size_t i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "%s.png", figs[i]);
        check_png(fig, name, 600, 300);
        snprintf(name, sizeof(name), "%s.svg", figs[i]);
        check_svg(fig, name);
    }
    json = slurp(fig, "figures.json", &len);
    assert_non_null(json);
    assert_null(strstr(json, "\"made\": false"));
    assert_non_null(strstr(json, "\"colour\": \"framework\""));
    assert_non_null(strstr(json, "\"group\": \"batch_size\""));
    assert_non_null(strstr(json, "\"dataset\""));
    assert_non_null(strstr(json, "95% confidence"));
    assert_non_null(strstr(json, "time buckets")); /* 3200 samples were bucketed */
    free(json);
    /* energy in kJ: 30000 J -> 30 kJ; whiskers from the ci95 column: 30 +- 3.6 */
    dat = slurp(fig, "gnuplot/energy.dat", &len);
    assert_non_null(dat);
    assert_non_null(strstr(dat, " 30 26.4 33.6 NaN\n"));
    free(dat);
    /* epoch 1 markers and epochs 2..N bars */
    dat = slurp(fig, "gnuplot/power.dat", &len);
    assert_non_null(dat);
    assert_non_null(strstr(dat, " 91.8 82.8 100.8 63\n"));
    free(dat);
    /* accuracy drawn in % */
    dat = slurp(fig, "gnuplot/accuracy.dat", &len);
    assert_non_null(dat);
    assert_non_null(strstr(dat, " 45 40 50 NaN\n"));
    free(dat);
    /* epoch bounds: begins at 20, 120, 220 s after the first sample; ends at 112, 212, 312 */
    gp = slurp(fig, "gnuplot/timeseries.gp", &len);
    assert_non_null(gp);
    assert_non_null(strstr(gp, "set arrow from 120, graph 0 to 120, graph 1 nohead dt 2"));
    assert_non_null(strstr(gp, "set arrow from 312, graph 0"));
    assert_non_null(strstr(gp, "set label 'e3'"));
    free(gp);

    if (html_write(report, err, sizeof(err)) != 0)
        fail_msg("html_write: %s", err);
    html = slurp(report, "index.html", &len);
    assert_non_null(html);
    for (size_t i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "src=\"fig/%s.svg\"", figs[i]);
        assert_non_null(strstr(html, name));
    }
    assert_non_null(strstr(html, "Simulated data"));
    assert_non_null(strstr(html, "numbers &lt;made up&gt; for a test &amp; more"));
    assert_non_null(strstr(html, "pytorch uses &lt;less&gt; energy &amp; time"));
    assert_non_null(strstr(html, "href=\"epochs.csv\""));
    assert_non_null(strstr(html, "<td>resnet101</td>"));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "<script"));
    free(html);
}

static void test_seed_method_no_ci(void **state)
{
    char err[1024], fig[PATH_MAX + 8];
    char *json, *dat, *html;
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
    if (figures_write(tmpdir, tmpdir, err, sizeof(err)) != 0)
        fail_msg("figures_write: %s", err);
    snprintf(fig, sizeof(fig), "%s/fig", tmpdir);
    check_png(fig, "energy.png", 300, 300);
    check_png(fig, "accuracy.png", 300, 300);
    json = slurp(fig, "figures.json", &len);
    assert_non_null(json);
    assert_non_null(strstr(json, "no confidence whiskers: column total_energy_kJ"));
    assert_non_null(strstr(json, "\"reason\": \"report.json names no \\\"example_run\\\"\""));
    assert_non_null(strstr(json, "\"title\": \"Average power\""));
    free(json);
    dat = slurp(fig, "gnuplot/energy.dat", &len);
    assert_non_null(dat);
    assert_non_null(strstr(dat, " 26.286 NaN NaN NaN\n"));
    free(dat);
    /* no whisker plotted when there is no CI */
    dat = slurp(fig, "gnuplot/energy.gp", &len);
    assert_non_null(dat);
    assert_null(strstr(dat, "with vectors"));
    free(dat);
    if (html_write(tmpdir, err, sizeof(err)) != 0)
        fail_msg("html_write: %s", err);
    html = slurp(tmpdir, "index.html", &len);
    assert_non_null(html);
    assert_null(strstr(html, "Simulated data"));
    assert_non_null(strstr(html, "seed-2023"));
    assert_non_null(strstr(html, "Not drawn: One run over time"));
    free(html);
}

static void test_missing_columns_and_values(void **state)
{
    char err[1024], fig[PATH_MAX + 8];
    char *json;
    size_t len;

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
    if (figures_write(tmpdir, tmpdir, err, sizeof(err)) != 0)
        fail_msg("figures_write: %s", err);
    snprintf(fig, sizeof(fig), "%s/fig", tmpdir);
    check_png(fig, "energy.png", 300, 300);
    json = slurp(fig, "figures.json", &len);
    assert_non_null(json);
    assert_non_null(strstr(json, "1 configuration without a value of energy_j_mean"));
    assert_non_null(strstr(json, "1 whisker reaching below 0 cut at the axis"));
    assert_non_null(strstr(json, "configs.csv has none of the columns rest_avg_power_w_mean, "
                                 "avg_power_w_mean, mean_power_W"));
    assert_non_null(strstr(json, "configs.csv has none of the columns final_accuracy_mean"));
    assert_non_null(strstr(json, "no samples.csv in the example run"));
    assert_non_null(strstr(json, "\"facets\": []"));
    free(json);
    json = slurp(fig, "gnuplot/energy.gp", &len);
    assert_non_null(json);
    assert_non_null(strstr(json, "set yrange [0:"));
    free(json);
    snprintf(fig, sizeof(fig), "%s/fig/power.png", tmpdir);
    assert_false(fs_exists(fig));
    /* a figure drawn before and skipped now is removed */
    put(tmpdir, "configs.csv", "framework,batch_size,gpu_util_pct_mean\na,1,50\n");
    if (figures_write(tmpdir, tmpdir, err, sizeof(err)) != 0)
        fail_msg("figures_write: %s", err);
    snprintf(fig, sizeof(fig), "%s/fig/gpu_util.png", tmpdir);
    assert_true(fs_exists(fig));
    snprintf(fig, sizeof(fig), "%s/fig/energy.png", tmpdir);
    assert_false(fs_exists(fig));
    snprintf(fig, sizeof(fig), "%s/fig/energy.svg", tmpdir);
    assert_false(fs_exists(fig));
}

static void test_escaping(void **state)
{
    char err[1024], fig[PATH_MAX + 8];
    char *gp, *html, *svg;
    size_t len;

    (void)state;
    put(tmpdir, "configs.csv",
        "framework,dataset,batch_size,energy_j_mean,energy_j_ci95\n"
        "\"it's\",\"a<b&c\",8,1000,10\n"
        "\"it's\",\"a<b&c\",16,900,10\n"
        "\"x\"\"y @z\",\"d\\e $f {g}^2_h\",8,1100,10\n"
        "\"x\"\"y @z\",\"d\\e $f {g}^2_h\",16,1000,10\n");
    put(tmpdir, "report.json",
        "{\"method\": \"corrected\", \"simulated\": false, "
        "\"notes\": \"<script>alert(1)</script>\"}");
    if (figures_write(tmpdir, tmpdir, err, sizeof(err)) != 0)
        fail_msg("figures_write: %s", err);
    snprintf(fig, sizeof(fig), "%s/fig", tmpdir);
    gp = slurp(fig, "gnuplot/energy.gp", &len);
    assert_non_null(gp);
    assert_non_null(strstr(gp, "'it''s'"));
    assert_non_null(strstr(gp, "set title 'd\\e $f {g}^2_h'"));
    assert_non_null(strstr(gp, "noenhanced"));
    free(gp);
    svg = slurp(fig, "energy.svg", &len);
    assert_non_null(svg);
    assert_non_null(strstr(svg, "a&lt;b&amp;c"));
    assert_non_null(strstr(svg, "it's"));
    free(svg);
    if (html_write(tmpdir, err, sizeof(err)) != 0)
        fail_msg("html_write: %s", err);
    html = slurp(tmpdir, "index.html", &len);
    assert_non_null(html);
    assert_null(strstr(html, "<script"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "<td>a&lt;b&amp;c</td>"));
    assert_non_null(strstr(html, "<td>x&quot;y @z</td>"));
    assert_non_null(strstr(html, "<td>it&#39;s</td>"));
    free(html);
}

static void test_generic_levels(void **state)
{
    char err[1024], fig[PATH_MAX + 8];
    struct strbuf sb = STRBUF_INIT;
    char *json;
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
    if (figures_write(tmpdir, tmpdir, err, sizeof(err)) != 0)
        fail_msg("figures_write: %s", err);
    snprintf(fig, sizeof(fig), "%s/fig", tmpdir);
    check_png(fig, "energy.png", 600, 500);
    json = slurp(fig, "figures.json", &len);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"colour\": \"alpha\""));
    assert_non_null(strstr(json, "\"group\": \"delta\""));
    assert_non_null(strstr(json, "leading columns of configs.csv are taken as levels"));
    free(json);
    /* numeric group values in numeric order: 8, 9, 10 */
    json = slurp(fig, "gnuplot/energy.gp", &len);
    assert_non_null(json);
    assert_non_null(strstr(json, "set xtics ('8' 0, '9' 1, '10' 2)"));
    /* 5 facet combinations, 3 x 2 grid, 5 panels */
    assert_non_null(strstr(json, "# panel 4\n"));
    assert_null(strstr(json, "# panel 5\n"));
    free(json);

    /* three facet levels: their 8 combinations wrapped into 3 columns */
    sb_puts(&sb, "x,f1,f2,f3,bs,energy_j_mean\n");
    for (int i = 0; i < 32; i++)
        sb_printf(&sb, "x%d,p%d,q%d,r%d,%d,%d\n", i & 1, (i >> 1) & 1, (i >> 2) & 1, (i >> 3) & 1,
                  (i >> 4) & 1, 1000 + i);
    put(tmpdir, "configs.csv", sb_str(&sb));
    sb_free(&sb);
    put(tmpdir, "report.json", "{\"levels\": [\"x\", \"f1\", \"f2\", \"f3\", \"bs\"]}");
    if (figures_write(tmpdir, tmpdir, err, sizeof(err)) != 0)
        fail_msg("figures_write: %s", err);
    json = slurp(fig, "gnuplot/energy.gp", &len);
    assert_non_null(json);
    assert_non_null(strstr(json, "# panel 7\n"));
    assert_null(strstr(json, "# panel 8\n"));
    assert_non_null(strstr(json, "set title 'p1 / q1 / r1'"));
    free(json);
    check_png(fig, "energy.png", 900, 800);
}

static void test_bad_input(void **state)
{
    char err[1024];

    (void)state;
    /* report.json missing */
    put(tmpdir, "configs.csv", "framework,batch_size,energy_j_mean\na,1,5\n");
    assert_int_equal(figures_write(tmpdir, tmpdir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "report.json"));
    /* report.json malformed */
    put(tmpdir, "report.json", "{\"method\": ");
    assert_int_equal(figures_write(tmpdir, tmpdir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "report.json"));
    put(tmpdir, "report.json", "{\"method\": \"corrected\"}");
    /* a number that is not one */
    put(tmpdir, "configs.csv", "framework,batch_size,energy_j_mean\na,1,5\na,2,5x\n");
    assert_int_equal(figures_write(tmpdir, tmpdir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "configs.csv' line 3, column 'energy_j_mean'"));
    /* CSV syntax and shape */
    put(tmpdir, "configs.csv", "framework,batch_size,energy_j_mean\na,1,5\n\"a,2,5\n");
    assert_int_equal(figures_write(tmpdir, tmpdir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "configs.csv' line 3: unterminated quoted field"));
    put(tmpdir, "configs.csv", "framework,batch_size,energy_j_mean\na,1\n");
    assert_int_equal(figures_write(tmpdir, tmpdir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "configs.csv' line 2: 2 fields, the header has 3"));
    /* configs.csv missing */
    {
        char p[PATH_MAX + 16];
        snprintf(p, sizeof(p), "%s/configs.csv", tmpdir);
        assert_int_equal(unlink(p), 0);
    }
    assert_int_equal(figures_write(tmpdir, tmpdir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "configs.csv"));
    assert_int_equal(html_write(tmpdir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "configs.csv"));
}

static void test_bad_run_files(void **state)
{
    char err[1024], run[PATH_MAX];

    (void)state;
    put(tmpdir, "configs.csv", "framework,batch_size,energy_j_mean\na,1,5\n");
    put(tmpdir, "report.json", "{\"method\": \"corrected\", \"example_run\": \"g/r1\"}");
    snprintf(run, sizeof(run), "%s/g/r1", tmpdir);
    mkdirs(run);
    put(run, "samples.csv", "t_s,meter,power_w\n0.0,gpu0,10\n0.1,gpu0,ten\n");
    assert_int_equal(figures_write(tmpdir, tmpdir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "samples.csv' line 3, column 'power_w'"));
    put(run, "samples.csv", "t_s,meter,power_w\n0.0,gpu0,10\n0.1,gpu0,11\n");
    put(run, "phases.csv", "phase,index,meter,t_begin_s\nepoch,1,gpu0,0\n");
    assert_int_equal(figures_write(tmpdir, tmpdir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "phases.csv': the columns phase, index, t_begin_s and t_end_s"));
}

static void test_gnuplot_missing(void **state)
{
    char err[1024];

    (void)state;
    put(tmpdir, "configs.csv", "framework,batch_size,energy_j_mean\na,1,5\n");
    put(tmpdir, "report.json", "{\"method\": \"corrected\"}");
    setenv("JB_GNUPLOT", "/nonexistent/gnuplot", 1);
    assert_int_equal(figures_write(tmpdir, tmpdir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot run '/nonexistent/gnuplot'"));
    assert_non_null(strstr(err, "gnuplot-nox"));
    /* gnuplot that fails: its message reaches the caller */
    setenv("JB_GNUPLOT", "false", 1);
    assert_int_equal(figures_write(tmpdir, tmpdir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "gnuplot failed on"));
    assert_non_null(strstr(err, "energy.gp"));
    unsetenv("JB_GNUPLOT");
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
    assert_non_null(strstr(html, "Simulated data"));
    assert_null(strstr(html, "href=\"epochs.csv\"")); /* there is none */
    free(html);
}

static void test_html_summary_markdown_and_sim_meter(void **state)
{
    char err[1024];
    char *html;
    size_t len;

    (void)state;
    put(tmpdir, "configs.csv", "framework,batch_size,energy_j_mean\na,1,5\n");
    put(tmpdir, "ratios.csv", "factor,ratio\n");
    /* the report's own format: no "simulated" key, but a simulated meter among its meters */
    put(tmpdir, "report.json",
        "{\"format\": \"joulebench-report/1\", \"method\": \"corrected\", "
        "\"runs\": 4, \"meters\": {\"energy_j\": [\"sim0\"], "
        "\"cpu_energy_j\": []}}");
    put(tmpdir, "summary.md",
        "# joulebench report (method: corrected)\n\nPer run: energy.\n"
        "Second line.\n\n| framework | energy (kJ) |\n|---|---|\n"
        "| a<b | 1.5 +- 0.2 |\n\n3 run(s).\n");
    if (html_write(tmpdir, err, sizeof(err)) != 0)
        fail_msg("html_write: %s", err);
    html = slurp(tmpdir, "index.html", &len);
    assert_non_null(html);
    assert_non_null(strstr(html, "Simulated data"));
    assert_non_null(strstr(html, "<h3>joulebench report (method: corrected)</h3>"));
    assert_non_null(strstr(html, "<p>Per run: energy.\nSecond line.</p>"));
    assert_non_null(strstr(html, "<tr><th>framework</th><th>energy (kJ)</th></tr>"));
    assert_non_null(strstr(html, "<tr><td>a&lt;b</td><td>1.5 +- 0.2</td></tr>"));
    assert_null(strstr(html, "---"));
    assert_non_null(strstr(html, "<p>3 run(s).</p>"));
    assert_non_null(strstr(html, "<dt>runs</dt><dd>4</dd>"));
    assert_non_null(strstr(html, "href=\"ratios.csv\""));
    free(html);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_corrected_all_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_method_no_ci, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_columns_and_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generic_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_run_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gnuplot_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_without_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_summary_markdown_and_sim_meter, setup, teardown),
    };

    if (argc == 3 && strcmp(argv[1], "--write-sample") == 0) {
        char report[PATH_MAX], results[PATH_MAX], err[1024];
        write_sample(argv[2], report, sizeof(report), results, sizeof(results));
        if (figures_write(report, results, err, sizeof(err)) < 0 ||
            html_write(report, err, sizeof(err)) < 0) {
            fprintf(stderr, "test_figures: %s\n", err);
            return 1;
        }
        printf("%s\n", report);
        return 0;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
