/*
 * test_json.c - the JSON parser (src/lib/json.c): valid documents, string escapes (\u and
 * surrogate pairs to UTF-8), the number grammar of RFC 8259 (what is refused: 01, +1, .5, 1.,
 * 1e, hex, NaN, out-of-range), the depth limit, error messages with byte positions, and the
 * accessors.  Not a test of the writer (test_jsonw.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

static char err[256];

static struct jb_json *parse_n(const char *text, size_t len)
{
    struct jb_json *j = NULL;
    int rc = jb__json_parse(text, len, &j, err, sizeof(err));

    if (rc != 0)
        fail_msg("'%s' failed: %s", text, err);
    assert_non_null(j);
    return j;
}

static struct jb_json *parse(const char *text)
{
    return parse_n(text, strlen(text));
}

static void expect_err_n(const char *text, size_t len, const char *msg)
{
    struct jb_json *j = (struct jb_json *)1;
    int rc = jb__json_parse(text, len, &j, err, sizeof(err));

    if (rc != -1)
        fail_msg("'%s' was accepted", text);
    assert_null(j);
    if (strcmp(err, msg) != 0)
        fail_msg("'%s': message '%s', expected '%s'", text, err, msg);
}

static void expect_err(const char *text, const char *msg)
{
    expect_err_n(text, strlen(text), msg);
}

/* The decoded string of the one-string document text. */
static void expect_str(const char *text, const char *want)
{
    struct jb_json *j = parse(text);

    assert_int_equal(j->type, JB_JSON_STRING);
    if (strcmp(j->string, want) != 0)
        fail_msg("'%s' decoded to '%s', expected '%s'", text, j->string, want);
    jb__json_free(j);
}

static void expect_num(const char *text, double want)
{
    struct jb_json *j = parse(text);

    assert_int_equal(j->type, JB_JSON_NUMBER);
    assert_float_equal(j->number, want, 0);
    jb__json_free(j);
}

static void test_document(void **state)
{
    const char *text = " {\"a\": [1, 2.5, \"x\", true, false, null, {}, []],\n\t"
                       "\"b\": {\"c\": \"d\"},"
                       " \"n\": -3, \"a\": \"dup\"}\r\n";
    struct jb_json *j = parse(text);
    const struct jb_json *a, *b;

    (void)state;
    assert_int_equal(j->type, JB_JSON_OBJECT);
    assert_int_equal(j->n, 4);
    assert_string_equal(j->keys[0], "a");
    a = jb__json_get(j, "a"); /* a duplicate key: the first wins */
    assert_non_null(a);
    assert_int_equal(a->type, JB_JSON_ARRAY);
    assert_int_equal(a->n, 8);
    assert_float_equal(a->items[0]->number, 1.0, 0);
    assert_float_equal(a->items[1]->number, 2.5, 0);
    assert_string_equal(a->items[2]->string, "x");
    assert_int_equal(a->items[3]->type, JB_JSON_BOOL);
    assert_int_equal(a->items[3]->boolean, 1);
    assert_int_equal(a->items[4]->boolean, 0);
    assert_int_equal(a->items[5]->type, JB_JSON_NULL);
    assert_int_equal(a->items[6]->type, JB_JSON_OBJECT);
    assert_int_equal(a->items[6]->n, 0);
    assert_int_equal(a->items[7]->type, JB_JSON_ARRAY);
    assert_int_equal(a->items[7]->n, 0);
    b = jb__json_get(j, "b");
    assert_string_equal(jb__json_str(b, "c", "def"), "d");
    assert_string_equal(jb__json_str(b, "missing", "def"), "def");
    assert_float_equal(jb__json_num(j, "n", 0), -3.0, 0);
    assert_float_equal(jb__json_num(j, "b", 7), 7.0, 0); /* not a number: the default */
    assert_null(jb__json_str(j, "n", NULL));
    assert_null(jb__json_get(a, "a")); /* not an object */
    assert_null(jb__json_get(NULL, "a"));
    jb__json_free(j);
    jb__json_free(NULL);

    /* Scalars at the top. */
    j = parse("true");
    assert_int_equal(j->type, JB_JSON_BOOL);
    jb__json_free(j);
    j = parse(" null ");
    assert_int_equal(j->type, JB_JSON_NULL);
    jb__json_free(j);
    expect_str("\"\"", "");
    /* Only len bytes count: what follows is not looked at. */
    j = parse_n("[1]garbage", 3);
    assert_int_equal(j->n, 1);
    jb__json_free(j);
}

static void test_escapes(void **state)
{
    (void)state;
    expect_str("\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"", "a\"b\\c/d\be\ff\ng\rh\ti");
    expect_str("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac");
    expect_str("\"\\u07ff\\u0800\\uffff\"", "\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf");
    /* A surrogate pair is one code point (U+1F600, 4 bytes of UTF-8). */
    expect_str("\"\\ud83d\\ude00!\"", "\xf0\x9f\x98\x80!");
    expect_str("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
    /* Unpaired surrogates cannot be UTF-8: each becomes U+FFFD, and an escape after a lone high
     * surrogate is decoded on its own, not swallowed. */
    expect_str("\"\\ud800\"", "\xef\xbf\xbd");
    expect_str("\"\\ud800x\"", "\xef\xbf\xbdx");
    expect_str("\"\\ude00\"", "\xef\xbf\xbd");
    expect_str("\"\\ud800\\u0041\"", "\xef\xbf\xbd"
                                     "A");
    expect_str("\"\\ud800\\ud83d\\ude00\"", "\xef\xbf\xbd\xf0\x9f\x98\x80");
    expect_str("\"\\ud800\\n\"", "\xef\xbf\xbd\n");
    /* \u0000 has no place in a C string: U+FFFD, not a string cut short. */
    expect_str("\"a\\u0000b\"", "a\xef\xbf\xbd"
                                "b");
    /* UTF-8 passes through unchanged. */
    expect_str("\"\xc3\xa9t\xc3\xa9\"", "\xc3\xa9t\xc3\xa9");

    expect_err("\"a\\x\"", "at byte 3: bad escape in string");
    expect_err("\"\\u12\"", "at byte 2: truncated \\u escape");
    expect_err("\"\\u12g4\"", "at byte 2: bad \\u escape");
    expect_err("\"\\ud800\\u12\"", "at byte 8: truncated \\u escape");
    expect_err("\"a\nb\"", "at byte 3: control character in string");
    expect_err("\"abc", "at byte 5: unterminated string");
    expect_err("\"abc\\\"", "at byte 7: unterminated string");
    expect_err("\"ab\\", "at byte 5: unterminated string");
}

/* Raw bytes that are not UTF-8 (a workload's info value, issue 13) become U+FFFD, one per
 * maximal invalid subpart, so whatever is parsed can be written as JSON again. */
static void test_invalid_utf8(void **state)
{
#define R "\xef\xbf\xbd"
    (void)state;
    expect_str("\"\xff\"", R);
    expect_str("\"a\xc3t\"", "a" R "t");
    expect_str("\"\xe2\x82x\"", R "x");          /* a 3-byte sequence cut short: one */
    expect_str("\"\xe2\x82\"", R);               /* ... also at the closing quote */
    expect_str("\"\xed\xa0\x80\"", R R R);       /* an encoded surrogate */
    expect_str("\"\xc0\xaf\"", R R);             /* an overlong '/' */
    expect_str("\"\xf4\x90\x80\x80\"", R R R R); /* beyond U+10FFFF */
    expect_str("\"\xf0\x9f\x98\"", R);
    expect_str("\"\x80\x80\"", R R);
    expect_str("\"\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"", "\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
#undef R
}

static void test_numbers(void **state)
{
    static const struct {
        const char *text;
        double v;
    } ok[] = {
        {"0", 0},        {"-0", 0},
        {"7", 7},        {"-12", -12},
        {"1.5", 1.5},    {"-0.25", -0.25},
        {"1e3", 1000},   {"1E+3", 1000},
        {"25e-2", 0.25}, {"1.5E2", 150},
        {"0.0", 0},      {"123456789012", 123456789012.0},
        {"1e-400", 0},   {"9007199254740993", 9007199254740992.0},
    };
    static const char *const bad[] = {
        "01",     "-01", "00",       "+1",        ".5",   "-.5",   "1.",    "1.e3",
        "1e",     "1e+", "-",        "--1",       "0x10", "1.2.3", "1e5e5", "1e999",
        "-1e999", "NaN", "Infinity", "-Infinity", "1ee2", "2-1",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        expect_num(ok[i].text, ok[i].v);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct jb_json *j = NULL;
        if (jb__json_parse(bad[i], strlen(bad[i]), &j, err, sizeof(err)) != -1)
            fail_msg("'%s' was accepted as a number", bad[i]);
        assert_null(j);
        assert_non_null(strstr(err, "at byte "));
    }
    expect_err("01", "at byte 1: bad number");
    expect_err("[1, 1e999]", "at byte 5: bad number (out of range)");
    expect_err("[1, NaN]", "at byte 5: expected a value");
    /* A NUL byte is not part of a number. */
    expect_err_n("[1\0]", 4, "at byte 3: expected ',' or ']'");
    expect_err_n("1\0", 2, "at byte 2: trailing characters after the value");
}

static void test_depth(void **state)
{
    char buf[200];
    struct jb_json *j;

    (void)state;
    /* 64 levels of nesting are allowed, 65 are not. */
    memset(buf, '[', 64);
    memset(buf + 64, ']', 64);
    j = parse_n(buf, 128);
    jb__json_free(j);
    memset(buf, '[', 65);
    memset(buf + 65, ']', 65);
    expect_err_n(buf, 130, "at byte 65: nested too deeply");
    memset(buf, '[', sizeof(buf));
    expect_err_n(buf, sizeof(buf), "at byte 65: nested too deeply");
}

static void test_errors(void **state)
{
    (void)state;
    expect_err("", "at byte 1: unexpected end of input");
    expect_err(" \n\t", "at byte 4: unexpected end of input");
    expect_err("{\"a\":}", "at byte 6: expected a value");
    expect_err("{\"a\" 1}", "at byte 6: expected ':'");
    expect_err("{1:2}", "at byte 2: expected a string key");
    expect_err("{\"a\":1,}", "at byte 8: expected a string key");
    expect_err("[1,]", "at byte 4: expected a value");
    expect_err("[1 2]", "at byte 4: expected ',' or ']'");
    expect_err("{\"a\":1 \"b\":2}", "at byte 8: expected ',' or '}'");
    expect_err("[1,2", "at byte 5: unterminated container");
    expect_err("{\"a\":1", "at byte 7: unterminated container");
    expect_err("[", "at byte 2: unexpected end of input");
    expect_err("tru", "at byte 1: unexpected word");
    expect_err("nul", "at byte 1: unexpected word");
    expect_err("[true false]", "at byte 7: expected ',' or ']'");
    expect_err("1 2", "at byte 3: trailing characters after the value");
    expect_err("{} {}", "at byte 4: trailing characters after the value");
    expect_err("'a'", "at byte 1: expected a value");

    /* err may be absent or short. */
    {
        struct jb_json *j;
        char small[6];
        assert_int_equal(jb__json_parse("[", 1, &j, NULL, 0), -1);
        assert_int_equal(jb__json_parse("[", 1, &j, small, sizeof(small)), -1);
        assert_string_equal(small, "at by");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document), cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_numbers),  cmocka_unit_test(test_depth),
        cmocka_unit_test(test_errors),   cmocka_unit_test(test_invalid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
