/*
 * test_jsonw.c - the JSON writer (src/util/jsonw.c): exact output for nesting, commas, escaping,
 * numbers (NaN and infinities as null), pretty mode; and a round trip of a written document
 * through the parser (src/lib/json.c).  Not a test of strbuf itself (test_strbuf.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "util/jsonw.h"

/* The document of test_compact and test_pretty. */
static void write_doc(struct jsonw *w)
{
    jw_object_begin(w);
    jw_kv_string(w, "a", "x");
    jw_key(w, "b");
    jw_array_begin(w);
    jw_int(w, 1);
    jw_number(w, 2.5);
    jw_null(w);
    jw_bool(w, 1);
    jw_object_begin(w);
    jw_object_end(w);
    jw_array_begin(w);
    jw_array_end(w);
    jw_array_end(w);
    jw_kv_number(w, "nan", NAN);
    jw_kv_int(w, "i", -3);
    jw_kv_bool(w, "f", 0);
    jw_key(w, "o");
    jw_object_begin(w);
    jw_kv_number(w, "inf", INFINITY);
    jw_object_end(w);
    jw_object_end(w);
}

static void test_compact(void **state)
{
    struct strbuf sb = STRBUF_INIT;
    struct jsonw w;

    (void)state;
    jw_init(&w, &sb, 0);
    write_doc(&w);
    assert_string_equal(sb_str(&sb), "{\"a\":\"x\",\"b\":[1,2.5,null,true,{},[]],\"nan\":null,"
                                     "\"i\":-3,\"f\":false,\"o\":{\"inf\":null}}");
    sb_free(&sb);
}

static void test_pretty(void **state)
{
    struct strbuf sb = STRBUF_INIT;
    struct jsonw w;

    (void)state;
    jw_init(&w, &sb, 1);
    write_doc(&w);
    assert_string_equal(sb_str(&sb), "{\n"
                                     "  \"a\": \"x\",\n"
                                     "  \"b\": [\n"
                                     "    1,\n"
                                     "    2.5,\n"
                                     "    null,\n"
                                     "    true,\n"
                                     "    {},\n"
                                     "    []\n"
                                     "  ],\n"
                                     "  \"nan\": null,\n"
                                     "  \"i\": -3,\n"
                                     "  \"f\": false,\n"
                                     "  \"o\": {\n"
                                     "    \"inf\": null\n"
                                     "  }\n"
                                     "}");
    sb_free(&sb);
}

static void test_values(void **state)
{
    struct strbuf sb = STRBUF_INIT;
    struct jsonw w;

    (void)state;
    jw_init(&w, &sb, 0);
    jw_array_begin(&w);
    jw_string(&w, "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f \xc3\xa9");
    jw_string(&w, NULL);
    jw_number(&w, 0.1);
    jw_number(&w, 1e20);
    jw_number(&w, 1.0 / 3.0);
    jw_number(&w, -INFINITY);
    jw_number(&w, 1e-300);
    jw_int(&w, LLONG_MIN);
    jw_array_end(&w);
    assert_string_equal(sb_str(&sb),
                        "[\"q\\\"b\\\\s/\\n\\r\\t\\u0008\\u000c\\u0001\\u001f\x7f \xc3\xa9\","
                        "\"\",0.1,1e+20,0.3333333333,null,1e-300,-9223372036854775808]");
    sb_free(&sb);

    /* A bare value at the top, and keys that need escaping. */
    jw_init(&w, &sb, 0);
    jw_object_begin(&w);
    jw_kv_string(&w, "k\"\n", "");
    jw_object_end(&w);
    assert_string_equal(sb_str(&sb), "{\"k\\\"\\n\":\"\"}");
    sb_free(&sb);
}

/* What the writer writes, the parser reads back the same (numbers to the writer's 10 digits). */
/* Strings that are not UTF-8 (a path, a workload's text) are written as U+FFFD: the document
 * stays valid JSON, and a valid UTF-8 string is written unchanged. */
static void test_invalid_utf8(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"a\xff"
         "b",
         "\"a\xef\xbf\xbd"
         "b\""},
        {"\xe2\x82", "\"\xef\xbf\xbd\""},
        {"\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
        {"\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\""},
        {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""},
        {"\x7f\x01", "\"\x7f\\u0001\""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct strbuf sb = STRBUF_INIT;
        struct jsonw w;
        struct jb_json *j = NULL;
        char err[128];
        jw_init(&w, &sb, 0);
        jw_string(&w, cases[i].in);
        assert_string_equal(sb_str(&sb), cases[i].out);
        assert_int_equal(jb__json_parse(sb_str(&sb), sb.len, &j, err, sizeof(err)), 0);
        jb__json_free(j);
        sb_free(&sb);
    }
}

static void test_round_trip(void **state)
{
    static const char *const strings[] = {
        "",           "plain",        "q\"b\\s/",
        "\n\r\t\b\f", "\x01\x02\x1f", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
    };
    static const double numbers[] = {0, -0.5, 1e20, 123456789, 2.5e-7, -1e300};
    struct strbuf sb = STRBUF_INIT;
    struct jsonw w;
    struct jb_json *j = NULL;
    const struct jb_json *a;
    char err[128];

    (void)state;
    for (int pretty = 0; pretty < 2; pretty++) {
        sb_reset(&sb);
        jw_init(&w, &sb, pretty);
        jw_object_begin(&w);
        jw_key(&w, "s");
        jw_array_begin(&w);
        for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
            jw_string(&w, strings[i]);
        jw_array_end(&w);
        jw_key(&w, "n");
        jw_array_begin(&w);
        for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
            jw_number(&w, numbers[i]);
        jw_number(&w, NAN);
        jw_array_end(&w);
        jw_key(&w, "deep");
        for (int d = 0; d < 20; d++)
            jw_array_begin(&w);
        jw_int(&w, 42);
        for (int d = 0; d < 20; d++)
            jw_array_end(&w);
        jw_kv_bool(&w, "t", 1);
        jw_object_end(&w);

        if (jb__json_parse(sb.buf, sb.len, &j, err, sizeof(err)) != 0)
            fail_msg("written JSON does not parse: %s\n%s", err, sb.buf);
        a = jb__json_get(j, "s");
        assert_non_null(a);
        assert_int_equal(a->n, sizeof(strings) / sizeof(strings[0]));
        for (size_t i = 0; i < a->n; i++)
            assert_string_equal(a->items[i]->string, strings[i]);
        a = jb__json_get(j, "n");
        assert_int_equal(a->n, sizeof(numbers) / sizeof(numbers[0]) + 1);
        for (size_t i = 0; i + 1 < a->n; i++)
            assert_float_equal(a->items[i]->number, numbers[i], fabs(numbers[i]) * 1e-10);
        assert_int_equal(a->items[a->n - 1]->type, JB_JSON_NULL);
        a = jb__json_get(j, "deep");
        for (int d = 0; d < 19; d++) {
            assert_int_equal(a->type, JB_JSON_ARRAY);
            assert_int_equal(a->n, 1);
            a = a->items[0];
        }
        assert_float_equal(a->items[0]->number, 42.0, 0);
        assert_int_equal(jb__json_get(j, "t")->boolean, 1);
        jb__json_free(j);
        j = NULL;
    }
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compact),      cmocka_unit_test(test_pretty),
        cmocka_unit_test(test_values),       cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_invalid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
