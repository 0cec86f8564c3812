/*
 * test_client.c - the C protocol client (jb_client_*, src/lib/client.c): every event written on a
 * pipe reads back through the runner's own parser (jb_event_parse) with the same fields; strings
 * are escaped to ASCII as Python's json.dumps does; numbers round-trip exactly and non-finite ones
 * become null; the argument checks hold with and without a runner; a runner that has gone disables
 * the client with JB_EIO (and no SIGPIPE death); JOULEBENCH_FD's forms.  Not a test of the Python
 * client (tests/python/test_client.py) or of the parser's own errors (test_protocol.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "joulebench.h"

static int pipe_fds[2];
static char got[1 << 20];

static struct jb_client *pipe_client(void)
{
    struct jb_client *c = NULL;

    assert_int_equal(pipe(pipe_fds), 0);
    assert_int_equal(jb_client_from_fd(&c, pipe_fds[1]), 0);
    assert_true(jb_client_enabled(c));
    return c;
}

/* Closes the write end and reads everything the client wrote. */
static size_t drain(void)
{
    size_t len = 0;
    ssize_t n;

    close(pipe_fds[1]);
    while ((n = read(pipe_fds[0], got + len, sizeof(got) - 1 - len)) > 0)
        len += (size_t)n;
    close(pipe_fds[0]);
    got[len] = '\0';
    return len;
}

/* The i-th line (0-based) of got, parsed; fails the test when it does not parse. */
static void line_event(int i, struct jb_event *ev, char *line, size_t cap)
{
    const char *p = got;
    const char *nl;
    char err[256];

    for (int k = 0; k < i; k++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    nl = strchr(p, '\n');
    assert_non_null(nl);
    assert_true((size_t)(nl - p) < cap);
    memcpy(line, p, (size_t)(nl - p));
    line[nl - p] = '\0';
    if (jb_event_parse(line, strlen(line), ev, err, sizeof(err)) != 0)
        fail_msg("line %d '%s' does not parse: %s", i, line, err);
}

static void test_marks_read_back(void **state)
{
    struct jb_client *c = pipe_client();
    struct jb_event ev;
    char line[4096];
    double items = 45000;
    uint64_t t0 = jb_now_ns(), t1;

    (void)state;
    assert_int_equal(jb_client_begin(c, "startup", JB_NO_INDEX), 0);
    assert_int_equal(jb_client_begin(c, "epoch", 1), 0);
    assert_int_equal(jb_client_end(c, "epoch", 1, &items), 0);
    assert_int_equal(jb_client_end(c, "eval", -3, NULL), 0);
    t1 = jb_now_ns();
    jb_client_free(c);
    drain();

    line_event(0, &ev, line, sizeof(line));
    assert_int_equal(ev.type, JB_EVENT_BEGIN);
    assert_int_equal(ev.valid, JB_EVENT_T);
    assert_string_equal(ev.phase, "startup");
    assert_true(ev.t_mono_ns >= t0 && ev.t_mono_ns <= t1);
    /* The exact bytes Python's client writes for the same call (json.dumps, compact). */
    assert_true(strncmp(line, "{\"t\":", 5) == 0);
    assert_non_null(strstr(line, ",\"event\":\"begin\",\"phase\":\"startup\"}"));

    line_event(1, &ev, line, sizeof(line));
    assert_int_equal(ev.type, JB_EVENT_BEGIN);
    assert_int_equal(ev.valid, JB_EVENT_T | JB_EVENT_INDEX);
    assert_int_equal(ev.index, 1);
    assert_non_null(strstr(line, "\"phase\":\"epoch\",\"index\":1}"));

    line_event(2, &ev, line, sizeof(line));
    assert_int_equal(ev.type, JB_EVENT_END);
    assert_int_equal(ev.valid, JB_EVENT_T | JB_EVENT_INDEX | JB_EVENT_ITEMS);
    assert_true(ev.items == 45000.0);
    assert_non_null(strstr(line, "\"index\":1,\"items\":45000}"));

    line_event(3, &ev, line, sizeof(line));
    assert_int_equal(ev.index, -3);
    assert_int_equal(ev.valid, JB_EVENT_T | JB_EVENT_INDEX);
}

static void test_values_read_back(void **state)
{
    struct jb_client *c = pipe_client();
    struct jb_event ev;
    char line[8192];
    const double nums[] = {0.1, 1e-300, 123456789.123456789, -2.5e17, 5e-324, 1.0 / 3.0};
    struct jb_value v[10];

    (void)state;
    for (int i = 0; i < 6; i++) {
        static const char *const names[] = {"a", "b", "c", "d", "e", "f"};
        v[i] = jb_value_num(names[i], nums[i]);
    }
    v[6] = jb_value_num("nan", NAN);
    v[7] = jb_value_num("inf", -INFINITY);
    v[8] = jb_value_int("big", 9007199254740993LL);
    v[9] = jb_value_bool("yes", 7);
    assert_int_equal(jb_client_metric(c, "eval", 2, v, 10), 0);

    v[0] = jb_value_str("device", "NVIDIA H200");
    v[1] = jb_value_str("quote", "a\"b\\c\n\t\x01");
    v[2] = jb_value_str("utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    v[3] = jb_value_str("bad", "x\xff\xc3y");
    v[4] = jb_value_null("none");
    v[5] = jb_value_str("nullstr", NULL);
    v[6] = jb_value_bool("no", 0);
    assert_int_equal(jb_client_info(c, v, 7), 0);
    jb_client_free(c);
    drain();

    line_event(0, &ev, line, sizeof(line));
    assert_int_equal(ev.type, JB_EVENT_METRIC);
    assert_string_equal(ev.phase, "eval");
    assert_int_equal(ev.index, 2);
    assert_int_equal(ev.n_values, 10);
    for (int i = 0; i < 6; i++) {
        assert_true(ev.values[i].is_number);
        if (ev.values[i].number != nums[i])
            fail_msg("value %d: %.17g read back as %.17g (%s)", i, nums[i], ev.values[i].number,
                     line);
    }
    /* Shortest form: 0.1 is written as 0.1, not 0.10000000000000001. */
    assert_non_null(strstr(line, "\"a\":0.1,"));
    assert_non_null(strstr(line, "\"nan\":null,\"inf\":null"));
    assert_non_null(strstr(line, "\"big\":9007199254740993,"));
    assert_non_null(strstr(line, "\"yes\":true}"));
    assert_true(isnan(ev.values[6].number));

    line_event(1, &ev, line, sizeof(line));
    assert_int_equal(ev.type, JB_EVENT_INFO);
    assert_int_equal(ev.valid, 0); /* no "t" on info */
    assert_true(strncmp(line, "{\"event\":\"info\",\"values\":{", 26) == 0);
    assert_string_equal(ev.values[0].text, "NVIDIA H200");
    assert_string_equal(ev.values[1].text, "a\"b\\c\n\t\x01");
    assert_non_null(strstr(line, "\"quote\":\"a\\\"b\\\\c\\n\\t\\u0001\""));
    /* json.dumps(ensure_ascii=True): \u00e9, \u20ac, and a surrogate pair for U+1F600. */
    assert_non_null(strstr(line, "\"utf8\":\"caf\\u00e9 \\u20ac \\ud83d\\ude00\""));
    assert_string_equal(ev.values[2].text, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    assert_non_null(strstr(line, "\"bad\":\"x\\ufffd\\ufffdy\""));
    assert_non_null(strstr(line, "\"none\":null,\"nullstr\":null,\"no\":false}"));
    for (const char *p = line; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

static void test_argument_checks(void **state)
{
    struct jb_client *off = NULL, *on = pipe_client();
    struct jb_value v[33];
    char name[80];
    double items;

    (void)state;
    assert_int_equal(jb_client_from_fd(&off, -1), 0);
    assert_false(jb_client_enabled(off));
    for (int k = 0; k < 2; k++) {
        struct jb_client *c = k ? on : off;

        assert_int_equal(jb_client_begin(c, "", 1), JB_EINVAL);
        assert_non_null(strstr(jb_client_errmsg(c), "must be 1 to 31 bytes"));
        assert_int_equal(jb_client_begin(c, NULL, 1), JB_EINVAL);
        assert_int_equal(jb_client_begin(c, "abcdefghijklmnopqrstuvwxyz123456", 1), JB_EINVAL);
        assert_int_equal(jb_client_begin(c, "abcdefghijklmnopqrstuvwxyz12345", 1), 0);
        assert_string_equal(jb_client_errmsg(c), "");
        assert_int_equal(jb_client_begin(c, "x", 2147483648L), JB_EINVAL);
        assert_non_null(strstr(jb_client_errmsg(c), "out of range"));
        assert_int_equal(jb_client_begin(c, "x", -2147483647L), 0);
        items = -1;
        assert_int_equal(jb_client_end(c, "x", 1, &items), JB_EINVAL);
        items = NAN;
        assert_int_equal(jb_client_end(c, "x", 1, &items), JB_EINVAL);
        assert_non_null(strstr(jb_client_errmsg(c), "finite non-negative"));
        assert_int_equal(jb_client_metric(c, "x", 1, v, 0), JB_EINVAL);
        assert_string_equal(jb_client_errmsg(c), "no values given");
        for (int i = 0; i < 33; i++)
            v[i] = jb_value_int(i % 2 ? "odd" : "even", i);
        assert_int_equal(jb_client_info(c, v, 2), 0);
        assert_int_equal(jb_client_info(c, v, 3), JB_EINVAL);
        assert_string_equal(jb_client_errmsg(c), "value name 'even' given twice");
        assert_int_equal(jb_client_info(c, v, 33), JB_EINVAL);
        assert_non_null(strstr(jb_client_errmsg(c), "at most 32"));
        memset(name, 'n', 64);
        name[64] = '\0';
        v[0] = jb_value_num(name, 1);
        assert_int_equal(jb_client_info(c, v, 1), JB_EINVAL);
        name[63] = '\0';
        assert_int_equal(jb_client_info(c, v, 1), 0);
        v[0] = jb_value_num("", 1);
        assert_int_equal(jb_client_metric(c, "x", JB_NO_INDEX, v, 1), JB_EINVAL);
    }
    assert_int_equal(jb_client_begin(NULL, "x", 1), JB_EINVAL);
    jb_client_free(off);
    jb_client_free(on);
    jb_client_free(NULL);
    drain();
    /* What the enabled client wrote: only the valid calls, 4 lines per round. */
    {
        int lines = 0;
        for (const char *p = got; *p; p++)
            lines += *p == '\n';
        assert_int_equal(lines, 4);
    }
}

static void test_runner_gone(void **state)
{
    struct jb_client *c = pipe_client();
    struct sigaction old;
    sigset_t pending;

    (void)state;
    /* The default SIGPIPE action (terminate) must not fire. */
    sigaction(SIGPIPE, NULL, &old);
    signal(SIGPIPE, SIG_DFL);
    close(pipe_fds[0]);
    assert_int_equal(jb_client_begin(c, "epoch", 1), JB_EIO);
    assert_non_null(strstr(jb_client_errmsg(c), "the runner has gone"));
    assert_false(jb_client_enabled(c));
    /* Disabled for good: later calls do nothing and succeed; arguments are still checked. */
    assert_int_equal(jb_client_end(c, "epoch", 1, NULL), 0);
    assert_int_equal(jb_client_begin(c, "", 1), JB_EINVAL);
    sigemptyset(&pending);
    sigpending(&pending);
    assert_int_equal(sigismember(&pending, SIGPIPE), 0);
    sigaction(SIGPIPE, &old, NULL);
    jb_client_free(c);
    close(pipe_fds[1]);
}

static void test_from_env(void **state)
{
    struct jb_client *c = NULL;
    char buf[32];
    int fds[2];

    (void)state;
    unsetenv("JOULEBENCH_FD");
    assert_int_equal(jb_client_from_env(&c), 0);
    assert_false(jb_client_enabled(c));
    assert_int_equal(jb_client_begin(c, "startup", JB_NO_INDEX), 0);
    jb_client_free(c);

    setenv("JOULEBENCH_FD", "  ", 1);
    assert_int_equal(jb_client_from_env(&c), 0);
    assert_false(jb_client_enabled(c));
    jb_client_free(c);

    setenv("JOULEBENCH_FD", "three", 1);
    assert_int_equal(jb_client_from_env(&c), JB_EINVAL);
    assert_non_null(c);
    assert_false(jb_client_enabled(c));
    assert_string_equal(jb_client_errmsg(c),
                        "JOULEBENCH_FD='three' is not a file descriptor number; phase marks "
                        "disabled");
    jb_client_free(c);

    assert_int_equal(pipe(fds), 0);
    close(fds[1]); /* a number that is not an open descriptor */
    snprintf(buf, sizeof(buf), "%d", fds[1]);
    setenv("JOULEBENCH_FD", buf, 1);
    assert_int_equal(jb_client_from_env(&c), JB_EINVAL);
    assert_non_null(strstr(jb_client_errmsg(c), "Bad file descriptor"));
    jb_client_free(c);
    close(fds[0]);

    assert_int_equal(pipe(pipe_fds), 0);
    snprintf(buf, sizeof(buf), " %d\n", pipe_fds[1]);
    setenv("JOULEBENCH_FD", buf, 1);
    assert_int_equal(jb_client_from_env(&c), 0);
    assert_true(jb_client_enabled(c));
    assert_int_equal(jb_client_begin(c, "startup", JB_NO_INDEX), 0);
    jb_client_free(c);
    unsetenv("JOULEBENCH_FD");
    drain();
    assert_non_null(strstr(got, "\"phase\":\"startup\"}\n"));
}

static void test_long_string_is_cut(void **state)
{
    struct jb_client *c = pipe_client();
    struct jb_event ev;
    static char big[3000], line[16384];
    struct jb_value v;

    (void)state;
    /* One ASCII byte, then 2-byte characters: one of them straddles the cut at 1024 bytes,
     * which must not split it. */
    big[0] = 'a';
    for (int i = 1; i + 1 < (int)sizeof(big); i += 2) {
        big[i] = (char)0xc3;
        big[i + 1] = (char)0xa9;
    }
    big[sizeof(big) - 1] = '\0';
    v = jb_value_str("s", big);
    assert_int_equal(jb_client_info(c, &v, 1), 0);
    jb_client_free(c);
    drain();
    line_event(0, &ev, line, sizeof(line));
    assert_null(strstr(line, "ufffd"));
    assert_int_equal(strlen(ev.values[0].text), 127); /* the parser keeps 127 bytes */
    assert_non_null(strstr(line, "\"s\":\"a\\u00e9"));
    /* 1 + 511 characters of 2 bytes: 1023 bytes; 6 bytes each escaped. */
    assert_int_equal(strlen(strstr(line, "\"s\":\"") + 5), 1 + 511 * 6 + 1 + 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marks_read_back), cmocka_unit_test(test_values_read_back),
        cmocka_unit_test(test_argument_checks), cmocka_unit_test(test_runner_gone),
        cmocka_unit_test(test_from_env),        cmocka_unit_test(test_long_string_is_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
