/*
 * test_strbuf.c - the growable string buffer (src/util/strbuf.c): growth over many appends and one
 * large printf, reset keeping memory, embedded NUL bytes, CSV field quoting, and sb_num writing
 * nothing for NaN.  Out-of-memory stickiness is not tested (no allocator hook).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "util/strbuf.h"

static void test_growth(void **state)
{
    struct strbuf sb = STRBUF_INIT;
    char big[5000];
    size_t cap;

    (void)state;
    assert_string_equal(sb_str(&sb), "");
    assert_null(sb.buf);
    for (int i = 0; i < 10000; i++)
        sb_putc(&sb, (char)('a' + i % 26));
    assert_int_equal(sb.len, 10000);
    assert_int_equal(strlen(sb_str(&sb)), 10000);
    assert_true(sb.cap > sb.len);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(sb.buf[i], 'a' + i % 26);
    assert_false(sb_failed(&sb));

    cap = sb.cap;
    sb_reset(&sb);
    assert_int_equal(sb.len, 0);
    assert_string_equal(sb_str(&sb), "");
    assert_int_equal(sb.cap, cap);

    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    sb_puts(&sb, "<");
    sb_printf(&sb, "%s|%d", big, 42);
    assert_int_equal(sb.len, 1 + 4999 + 3);
    assert_int_equal(memcmp(sb.buf + 5000, "|42", 4), 0);
    sb_free(&sb);
    assert_null(sb.buf);
    assert_int_equal(sb.len, 0);

    sb_append(&sb, "a\0b", 3); /* bytes, NUL included */
    assert_int_equal(sb.len, 3);
    assert_int_equal(memcmp(sb.buf, "a\0b", 4), 0);
    sb_append(&sb, "", 0);
    assert_int_equal(sb.len, 3);
    sb_free(&sb);
}

static void test_csv_field(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"", ""},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"\"", "\"\"\"\""},
        {"two\nlines", "\"two\nlines\""},
        {"cr\r", "\"cr\r\""},
        {" spaces and ; tabs\t", " spaces and ; tabs\t"},
        {"\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9"},
    };
    struct strbuf sb = STRBUF_INIT;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sb_reset(&sb);
        sb_csv_field(&sb, cases[i].in);
        assert_string_equal(sb_str(&sb), cases[i].out);
    }
    sb_free(&sb);
}

static void test_num(void **state)
{
    struct strbuf sb = STRBUF_INIT;

    (void)state;
    sb_num(&sb, NAN, 6);
    assert_int_equal(sb.len, 0); /* an empty cell: unavailable */
    assert_string_equal(sb_str(&sb), "");
    sb_num(&sb, 1.5, 6);
    sb_putc(&sb, ',');
    sb_num(&sb, 1.0 / 3.0, 3);
    sb_putc(&sb, ',');
    sb_num(&sb, -NAN, 3);
    sb_putc(&sb, ',');
    sb_num(&sb, 123456789.0, 17);
    sb_putc(&sb, ',');
    sb_num(&sb, 0.0, 6);
    sb_putc(&sb, ',');
    sb_num(&sb, 2.5e-9, 4);
    assert_string_equal(sb_str(&sb), "1.5,0.333,,123456789,0,2.5e-09");
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_csv_field),
        cmocka_unit_test(test_num),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
