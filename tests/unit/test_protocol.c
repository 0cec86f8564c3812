/*
 * test_protocol.c - the phase protocol parser (jb_event_parse, src/lib/protocol.c): every event
 * type, every field's error message (which field it names), the limits (phase name, number of
 * values, t and index ranges), value types, and input that is not one JSON object.  Not a test of
 * reading the protocol from a pipe (the CLI tests do that).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "joulebench.h"
#include "util/strbuf.h"

static struct jb_event ev;
static char err[256];

static int parse(const char *line)
{
    memset(err, 'x', sizeof(err) - 1);
    err[sizeof(err) - 1] = '\0';
    return jb_event_parse(line, strlen(line), &ev, err, sizeof(err));
}

static void expect_ok(const char *line)
{
    int rc = parse(line);
    if (rc != 0)
        fail_msg("'%s' failed: %s", line, err);
    assert_string_equal(err, "");
}

/* The line must fail with exactly `msg` (or, when prefix is set, a message starting with it). */
static void expect_err(const char *line, const char *msg, int prefix)
{
    int rc = parse(line);
    if (rc != JB_EPARSE)
        fail_msg("'%s' gave %d, not JB_EPARSE", line, rc);
    if (prefix ? strncmp(err, msg, strlen(msg)) != 0 : strcmp(err, msg) != 0)
        fail_msg("'%s': message '%s', expected '%s'%s", line, err, msg, prefix ? "..." : "");
}

static void test_begin_end(void **state)
{
    (void)state;
    expect_ok("{\"t\":123,\"event\":\"begin\",\"phase\":\"epoch\",\"index\":1}");
    assert_int_equal(ev.type, JB_EVENT_BEGIN);
    assert_int_equal(ev.valid, JB_EVENT_T | JB_EVENT_INDEX);
    assert_int_equal(ev.t_mono_ns, 123);
    assert_string_equal(ev.phase, "epoch");
    assert_int_equal(ev.index, 1);
    assert_int_equal(ev.n_values, 0);

    expect_ok(" { \"event\" : \"end\", \"phase\":\"step\", \"t\": 0, \"items\": 128.5 } ");
    assert_int_equal(ev.type, JB_EVENT_END);
    assert_int_equal(ev.valid, JB_EVENT_T | JB_EVENT_ITEMS);
    assert_int_equal(ev.t_mono_ns, 0);
    assert_float_equal(ev.items, 128.5, 0);

    /* Values are allowed on begin and end too. */
    expect_ok("{\"t\":5,\"event\":\"end\",\"phase\":\"eval\",\"index\":-3,"
              "\"values\":{\"acc\":0.5}}");
    assert_int_equal(ev.index, -3);
    assert_int_equal(ev.n_values, 1);
    assert_string_equal(ev.values[0].name, "acc");

    /* The largest t a double holds exactly: 2^53. */
    expect_ok("{\"t\":9007199254740992,\"event\":\"begin\",\"phase\":\"x\"}");
    assert_int_equal(ev.t_mono_ns, 9007199254740992ull);
    expect_ok("{\"t\":1e3,\"event\":\"begin\",\"phase\":\"x\"}"); /* an integer in any notation */
    assert_int_equal(ev.t_mono_ns, 1000);
}

static void test_metric_info_values(void **state)
{
    char line[256];

    (void)state;
    expect_ok("{\"event\":\"metric\",\"phase\":\"epoch\",\"index\":2,"
              "\"values\":{\"loss\":1.25,\"split\":\"val\",\"best\":true,\"worse\":false,"
              "\"lr\":null,\"n\":-7e2}}");
    assert_int_equal(ev.type, JB_EVENT_METRIC);
    assert_int_equal(ev.valid, JB_EVENT_INDEX); /* no t: allowed on metric */
    assert_int_equal(ev.n_values, 6);
    assert_string_equal(ev.values[0].name, "loss");
    assert_int_equal(ev.values[0].is_number, 1);
    assert_float_equal(ev.values[0].number, 1.25, 0);
    assert_string_equal(ev.values[1].name, "split");
    assert_int_equal(ev.values[1].is_number, 0);
    assert_string_equal(ev.values[1].text, "val");
    assert_int_equal(ev.values[2].is_number, 0);
    assert_string_equal(ev.values[2].text, "true");
    assert_string_equal(ev.values[3].text, "false");
    /* null: a number that is unavailable (NaN). */
    assert_int_equal(ev.values[4].is_number, 1);
    assert_true(isnan(ev.values[4].number));
    assert_float_equal(ev.values[5].number, -700.0, 0);

    /* info needs no phase. */
    expect_ok("{\"event\":\"info\",\"t\":7,\"values\":{}}");
    assert_int_equal(ev.type, JB_EVENT_INFO);
    assert_int_equal(ev.valid, JB_EVENT_T);
    assert_string_equal(ev.phase, "");
    assert_int_equal(ev.n_values, 0);

    /* A long string value is cut to 127 bytes. */
    snprintf(line, sizeof(line), "{\"event\":\"info\",\"values\":{\"s\":\"%0200d\"}}", 0);
    expect_ok(line);
    assert_int_equal(strlen(ev.values[0].text), 127);
}

static void test_limits(void **state)
{
    struct strbuf sb = STRBUF_INIT;
    char name[80];

    (void)state;
    /* Phase name: 31 bytes fit, 32 do not. */
    memset(name, 'p', 31);
    name[31] = '\0';
    sb_printf(&sb, "{\"t\":1,\"event\":\"begin\",\"phase\":\"%s\"}", name);
    expect_ok(sb_str(&sb));
    assert_string_equal(ev.phase, name);
    sb_reset(&sb);
    sb_printf(&sb, "{\"t\":1,\"event\":\"begin\",\"phase\":\"%sp\"}", name);
    expect_err(sb_str(&sb),
               "field 'phase': 'pppppppppppppppppppppppppppppppp...' is longer than 31 bytes", 0);

    /* Values: 32 fit, 33 do not. */
    sb_reset(&sb);
    sb_puts(&sb, "{\"event\":\"info\",\"values\":{");
    for (int i = 0; i < 32; i++)
        sb_printf(&sb, "%s\"v%d\":%d", i ? "," : "", i, i);
    sb_puts(&sb, "}}");
    expect_ok(sb_str(&sb));
    assert_int_equal(ev.n_values, 32);
    assert_string_equal(ev.values[31].name, "v31");
    assert_float_equal(ev.values[31].number, 31.0, 0);
    sb.len -= 2;
    sb_puts(&sb, ",\"v32\":32}}");
    expect_err(sb_str(&sb), "field 'values' has more than 32 entries", 0);

    /* Value names: 63 bytes fit, 64 and empty do not. */
    memset(name, 'n', 63);
    name[63] = '\0';
    sb_reset(&sb);
    sb_printf(&sb, "{\"event\":\"info\",\"values\":{\"%s\":1}}", name);
    expect_ok(sb_str(&sb));
    sb_reset(&sb);
    sb_printf(&sb, "{\"event\":\"info\",\"values\":{\"%sn\":1}}", name);
    expect_err(sb_str(&sb), "field 'values': name 'nnnn", 1);
    assert_non_null(strstr(err, "' is empty or too long"));
    expect_err("{\"event\":\"info\",\"values\":{\"\":1}}",
               "field 'values': name '' is empty or too long", 0);
    sb_free(&sb);

    /* index: a 32-bit signed integer. */
    expect_ok("{\"event\":\"begin\",\"t\":1,\"phase\":\"a\",\"index\":2147483647}");
    assert_int_equal(ev.index, 2147483647L);
    expect_ok("{\"event\":\"begin\",\"t\":1,\"phase\":\"a\",\"index\":-2147483647}");
    assert_int_equal(ev.index, -2147483647L);
}

/* A text value cut to fit (127 bytes) is cut between characters, so it stays UTF-8; invalid bytes
 * become U+FFFD (issue 13: they reached manifest.json raw). */
static void test_utf8_values(void **state)
{
    char line[1024];
    size_t n = 0;
    (void)state;
    n += (size_t)snprintf(line, sizeof(line), "{\"event\":\"info\",\"values\":{\"a\":\"");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(line + n, sizeof(line) - n, "\xc3\xa9"); /* 2 bytes each */
    snprintf(line + n, sizeof(line) - n, "\",\"b\":\"x\xff\xfey\"}}");
    expect_ok(line);
    assert_int_equal(ev.n_values, 2);
    assert_int_equal(strlen(ev.values[0].text), 126); /* 63 whole characters, not 127 bytes */
    assert_int_equal((unsigned char)ev.values[0].text[125], 0xa9);
    assert_string_equal(ev.values[1].text, "x\xef\xbf\xbd\xef\xbf\xbdy");
}

static void test_field_errors(void **state)
{
    static const struct {
        const char *line, *msg;
    } cases[] = {
        {"{\"t\":1,\"phase\":\"a\"}", "field 'event' missing or not a string"},
        {"{\"event\":3}", "field 'event' missing or not a string"},
        {"{\"event\":\"start\"}",
         "field 'event': unknown event 'start' (begin, end, metric or info)"},
        {"{\"event\":\"BEGIN\",\"t\":1,\"phase\":\"a\"}",
         "field 'event': unknown event 'BEGIN' (begin, end, metric or info)"},
        {"{\"event\":\"begin\",\"t\":-1,\"phase\":\"a\"}",
         "field 't' must be a non-negative integer (CLOCK_MONOTONIC ns)"},
        {"{\"event\":\"begin\",\"t\":1.5,\"phase\":\"a\"}",
         "field 't' must be a non-negative integer (CLOCK_MONOTONIC ns)"},
        {"{\"event\":\"begin\",\"t\":\"5\",\"phase\":\"a\"}",
         "field 't' must be a non-negative integer (CLOCK_MONOTONIC ns)"},
        {"{\"event\":\"begin\",\"t\":null,\"phase\":\"a\"}",
         "field 't' must be a non-negative integer (CLOCK_MONOTONIC ns)"},
        {"{\"event\":\"begin\",\"t\":9007199254740994,\"phase\":\"a\"}",
         "field 't' must be a non-negative integer (CLOCK_MONOTONIC ns)"},
        {"{\"event\":\"begin\",\"phase\":\"a\"}", "field 't' is required on begin and end events"},
        {"{\"event\":\"end\",\"phase\":\"a\",\"index\":1}",
         "field 't' is required on begin and end events"},
        {"{\"event\":\"begin\",\"t\":1}", "field 'phase' missing or not a non-empty string"},
        {"{\"event\":\"end\",\"t\":1,\"phase\":\"\"}",
         "field 'phase' missing or not a non-empty string"},
        {"{\"event\":\"metric\",\"phase\":1,\"values\":{}}",
         "field 'phase' missing or not a non-empty string"},
        {"{\"event\":\"begin\",\"t\":1,\"phase\":\"a\",\"index\":1.5}",
         "field 'index' must be an integer"},
        {"{\"event\":\"begin\",\"t\":1,\"phase\":\"a\",\"index\":\"1\"}",
         "field 'index' must be an integer"},
        {"{\"event\":\"begin\",\"t\":1,\"phase\":\"a\",\"index\":2147483648}",
         "field 'index' must be an integer"},
        {"{\"event\":\"end\",\"t\":1,\"phase\":\"a\",\"items\":-1}",
         "field 'items' must be a non-negative number"},
        {"{\"event\":\"end\",\"t\":1,\"phase\":\"a\",\"items\":\"64\"}",
         "field 'items' must be a non-negative number"},
        {"{\"event\":\"metric\",\"phase\":\"a\"}",
         "field 'values' is required on metric and info events"},
        {"{\"event\":\"info\"}", "field 'values' is required on metric and info events"},
        {"{\"event\":\"info\",\"values\":[1]}", "field 'values' must be an object"},
        {"{\"event\":\"info\",\"values\":{\"a\":[1]}}",
         "field 'values.a' must be a number or a string"},
        {"{\"event\":\"info\",\"values\":{\"ok\":1,\"b\":{}}}",
         "field 'values.b' must be a number or a string"},
        {"[1,2]", "not a JSON object"},
        {"\"begin\"", "not a JSON object"},
        {"null", "not a JSON object"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_err(cases[i].line, cases[i].msg, 0);
}

static void test_not_json(void **state)
{
    struct jb_event e;
    char small[8];
    const char *line = "{\"event\":\"info\",\"values\":{}}";

    (void)state;
    expect_err("", "not a JSON object: at byte 1: unexpected end of input", 0);
    expect_err("{\"event\":\"info\",\"values\":{}} x",
               "not a JSON object: at byte 30: trailing characters after the value", 0);
    expect_err("{\"event\":\"info\",\"values\":{}}{}",
               "not a JSON object: at byte 29: trailing characters after the value", 0);
    expect_err("{\"event\":\"begin\",", "not a JSON object: at byte 18: ", 1);
    expect_err("event=begin", "not a JSON object: at byte 1: ", 1);

    /* Only len bytes are read: the line need not be NUL-terminated. */
    assert_int_equal(jb_event_parse(line, strlen(line) - 1, &e, err, sizeof(err)), JB_EPARSE);
    assert_int_equal(jb_event_parse(line, strlen(line), &e, NULL, 0), 0);
    /* err may be absent or small: the message is cut, never overrun. */
    assert_int_equal(jb_event_parse("[]", 2, &e, NULL, 0), JB_EPARSE);
    assert_int_equal(jb_event_parse("[]", 2, &e, small, sizeof(small)), JB_EPARSE);
    assert_string_equal(small, "not a J");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_begin_end),   cmocka_unit_test(test_metric_info_values),
        cmocka_unit_test(test_limits),      cmocka_unit_test(test_field_errors),
        cmocka_unit_test(test_utf8_values), cmocka_unit_test(test_not_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
