/*
 * test_plot.c - the drawing layer of the report's figures (src/analysis/plot*.c): round ticks,
 * the text-width estimate, canvas ids, the SVG writer (escaping, patterns, clips, standalone and
 * inline forms) and, where cairo is built in, that the PNG's pixels are where the SVG puts the
 * shapes (the two backends replay one display list).  How a whole figure looks is judged in
 * test_figures.c and report_chromium.sh.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/plot.h"

#if defined(__has_include)
#if __has_include(<cairo.h>)
#include <cairo.h>
#define HAVE_CAIRO_H 1
#endif
#endif

static void test_ticks(void **state)
{
    double t[32];
    int dec;
    size_t n;

    (void)state;
    n = plot_ticks(0, 153, 5, t, 32, &dec);
    assert_int_equal(n, 4);
    assert_true(t[0] == 0 && t[1] == 50 && t[3] == 150);
    assert_int_equal(dec, 0);
    n = plot_ticks(0, 0.23, 5, t, 32, &dec);
    assert_true(fabs(t[1] - 0.05) < 1e-12);
    assert_int_equal(dec, 2);
    /* a step of 2.5 needs one decimal more than 1 does */
    n = plot_ticks(0, 12, 5, t, 32, &dec);
    assert_true(fabs(t[1] - 2.5) < 1e-12);
    assert_int_equal(dec, 1);
    assert_int_equal(n, 5);
    /* negative ranges, a range of one value, and the cap on the count */
    n = plot_ticks(-0.2, 0.65, 8, t, 32, &dec);
    assert_true(t[0] <= -0.2 + 1e-9 && t[0] > -0.31);
    assert_true(t[n - 1] <= 0.65 + 1e-9);
    for (size_t i = 0; i < n; i++)
        assert_false(t[i] != 0 && fabs(t[i]) < 1e-12); /* no -0 or 1e-17 */
    assert_true(plot_ticks(5, 5, 5, t, 32, &dec) >= 1);
    assert_int_equal(plot_ticks(0, 1e6, 5, t, 2, &dec), 2);
    assert_int_equal(plot_ticks(NAN, 1, 5, t, 32, &dec), 0);
}

static void test_text_width(void **state)
{
    (void)state;
    /* DejaVu Sans: 'a' 613, 'b' 635 units of 1000 */
    assert_true(fabs(plot_text_width("ab", 10, 0) - 12.48) < 1e-9);
    assert_true(plot_text_width("ab", 10, 1) > plot_text_width("ab", 10, 0));
    /* a non-ASCII character counts once, at 0.6 em */
    assert_true(fabs(plot_text_width("\xc2\xb0", 10, 0) - 6.0) < 1e-9);
    assert_true(plot_text_width("", 10, 0) == 0);
}

static void test_canvas_ids(void **state)
{
    (void)state;
    assert_null(plot_new(10, 10, ""));
    assert_null(plot_new(10, 10, "a b"));
    assert_null(plot_new(10, 10, "a\"b"));
    assert_null(plot_new(0, 10, "ok"));
    plot_free(plot_new(10, 10, "ok-1_x"));
    plot_free(NULL);
}

static struct plot *sample_canvas(void)
{
    struct plot *p = plot_new(40, 30, "t1");
    struct plot_fill red = {PLOT_FILL_SOLID, 0xff0000, PLOT_WHITE, 1};
    struct plot_fill hatch = {PLOT_FILL_HATCH, 0x0000ff, 0xffffff, 1};
    struct plot_stroke line = {0x00ff00, 2, PLOT_DASHED};
    struct plot_font f = {8, 1, 0x123456};
    double xy[6] = {0, 29, 20, 29, 39, 29};

    assert_non_null(p);
    plot_set_title(p, "a <title> & more");
    plot_set_description(p, "SIMULATED meter");
    plot_rect(p, 5, 5, 10, 10, &red, NULL);
    plot_rect(p, 20, 5, 15, 20, &hatch, NULL);
    plot_polyline(p, xy, 3, &line);
    plot_text(p, 20, 28, "it's <b>&\x01", &f, PLOT_MIDDLE, -90);
    /* a clip: the rectangle is cut to the box at the right edge */
    plot_clip_begin(p, 36, 0, 4, 4);
    plot_rect(p, 0, 0, 40, 30, &red, NULL);
    plot_clip_end(p);
    assert_false(plot_failed(p));
    return p;
}

static void test_svg(void **state)
{
    struct plot *p = sample_canvas();
    struct strbuf sa = STRBUF_INIT, si = STRBUF_INIT;

    (void)state;
    assert_int_equal(plot_svg(p, 1, &sa), 0);
    assert_int_equal(plot_svg(p, 0, &si), 0);
    /* standalone: an SVG file; inline: an element for HTML5, no namespace URL */
    assert_non_null(strstr(sb_str(&sa), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "
                                        "xmlns=\"http://www.w3.org/2000/svg\""));
    assert_null(strstr(sb_str(&si), "http://"));
    assert_non_null(strstr(sb_str(&si), "<svg width=\"40\" height=\"30\" viewBox=\"0 0 40 30\""));
    assert_non_null(
        strstr(sb_str(&sa), "<title id=\"t1-title\">a &lt;title&gt; &amp; more</title>"));
    assert_non_null(strstr(sb_str(&sa), "<desc>SIMULATED meter</desc>"));
    assert_non_null(strstr(sb_str(&sa), "<rect x=\"5\" y=\"5\" width=\"10\" height=\"10\" "
                                        "fill=\"#ff0000\"/>"));
    /* the hatch is a pattern whose id carries the canvas's id */
    assert_non_null(strstr(sb_str(&sa),
                           "<pattern id=\"t1-p0\" patternUnits=\"userSpaceOnUse\" "
                           "width=\"6\" height=\"6\" patternTransform=\"rotate(45)\">"));
    assert_non_null(strstr(sb_str(&sa), "fill=\"url(#t1-p0)\""));
    assert_non_null(strstr(sb_str(&sa), "stroke-dasharray=\"10,7\""));
    /* text escaped, control characters as spaces, anchors and rotation */
    assert_non_null(strstr(sb_str(&sa), " text-anchor=\"middle\" transform=\"rotate(-90 20 28)\">"
                                        "it&#39;s &lt;b&gt;&amp; </text>"));
    assert_non_null(strstr(sb_str(&sa), "<clipPath id=\"t1-c0\"><rect x=\"36\" y=\"0\" "
                                        "width=\"4\" height=\"4\"/></clipPath>\n"
                                        "<g clip-path=\"url(#t1-c0)\">"));
    sb_free(&sa);
    sb_free(&si);
    plot_free(p);
}

#ifdef HAVE_CAIRO_H
struct reader {
    const unsigned char *d;
    size_t len, pos;
};

static cairo_status_t read_png(void *closure, unsigned char *data, unsigned int length)
{
    struct reader *r = closure;
    if (r->pos + length > r->len)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, r->d + r->pos, length);
    r->pos += length;
    return CAIRO_STATUS_SUCCESS;
}

static uint32_t pixel(cairo_surface_t *s, int x, int y)
{
    const unsigned char *d = cairo_image_surface_get_data(s);
    uint32_t v;
    memcpy(&v, d + y * cairo_image_surface_get_stride(s) + x * 4, 4);
    return v & 0xffffff;
}
#endif

static void test_png_agrees_with_svg(void **state)
{
    struct plot *p = sample_canvas();
    struct strbuf png = STRBUF_INIT;
    char err[256];

    (void)state;
    if (!plot_png_available()) {
        assert_int_equal(plot_png(p, 2, &png, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "built without cairo"));
        plot_free(p);
        skip();
    }
    assert_int_equal(plot_png(p, 2, &png, err, sizeof(err)), 0);
    assert_memory_equal(png.buf, "\x89PNG\r\n\x1a\n", 8);
    /* the text chunks right after IHDR */
    assert_memory_equal(png.buf + 33 + 4, "iTXtTitle\0", 10);
#ifdef HAVE_CAIRO_H
    {
        struct reader r = {(const unsigned char *)png.buf, png.len, 0};
        cairo_surface_t *s = cairo_image_surface_create_from_png_stream(read_png, &r);
        int blue = 0, white = 0;

        assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
        assert_int_equal(cairo_image_surface_get_width(s), 80);
        assert_int_equal(cairo_image_surface_get_height(s), 60);
        cairo_surface_flush(s);
        assert_int_equal(pixel(s, 20, 20), 0xff0000); /* inside the red rectangle (x2) */
        assert_int_equal(pixel(s, 2, 40), 0xffffff);  /* outside everything */
        assert_int_equal(pixel(s, 76, 3), 0xff0000);  /* inside the clip */
        assert_int_equal(pixel(s, 76, 20), 0xffffff); /* the same rectangle, cut by the clip */
        /* the hatched rectangle: blue lines on white, as the SVG pattern tiles */
        for (int y = 12; y < 48; y++)
            for (int x = 42; x < 68; x++) {
                uint32_t v = pixel(s, x, y);
                blue += (v & 0xff) > 0xc0 && (v >> 16) < 0x40;
                white += v == 0xffffff;
            }
        assert_true(blue > 100 && white > 100);
        cairo_surface_destroy(s);
    }
#endif
    sb_free(&png);
    plot_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticks),
        cmocka_unit_test(test_text_width),
        cmocka_unit_test(test_canvas_ids),
        cmocka_unit_test(test_svg),
        cmocka_unit_test(test_png_agrees_with_svg),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    plot_png_release();
    return failed;
}
