/*
 * test_errors.c - the library's error codes and version: the codes keep their numbers (they are
 * ABI: the Python package and users' programs hold them), every code has its own string from the
 * one list in joulebench.h, and jb_version() is the header's version.
 */
#include <joulebench.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void test_codes_never_renumber(void **state)
{
    (void)state;
    static const struct {
        int code;
        int want;
        const char *str;
    } codes[] = {
        {JB_OK, 0, "success"},
        {JB_EINVAL, -1, "invalid argument"},
        {JB_ENOMEM, -2, "out of memory"},
        {JB_EIO, -3, "input/output error"},
        {JB_ENODEV, -4, "no such device"},
        {JB_EACCES, -5, "permission denied"},
        {JB_ENOTSUP, -6, "not supported"},
        {JB_ELIB, -7, "library not loadable"},
        {JB_EPARSE, -8, "malformed input"},
        {JB_ELOST, -9, "device lost"},
        {JB_ESTATE, -10, "wrong state"},
        {JB_ESYS, -11, "system call failed"},
        {JB_ERANGE, -12, "out of range"},
    };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_int_equal(codes[i].code, codes[i].want);
        assert_string_equal(jb_strerror(codes[i].code), codes[i].str);
    }
}

static void test_map_is_complete(void **state)
{
    (void)state;
    /* every entry of the list is contiguous from -1 and has a distinct string */
    const char *seen[64];
    size_t n = 0;
#define CHECK(name, code, str)                                                                     \
    assert_int_equal(JB_##name, -(int)(n + 1));                                                    \
    assert_string_equal(jb_strerror(JB_##name), str);                                              \
    for (size_t j = 0; j < n; j++)                                                                 \
        assert_string_not_equal(seen[j], str);                                                     \
    seen[n++] = str;
    JB_ERRNO_MAP(CHECK)
#undef CHECK
    assert_int_equal(n, 12);
    assert_string_equal(jb_strerror(-(int)n - 1), "unknown error");
    assert_string_equal(jb_strerror(1), "unknown error");
}

static void test_version(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof(want), "%d.%d.%d", JB_VERSION_MAJOR, JB_VERSION_MINOR, JB_VERSION_PATCH);
    assert_string_equal(JB_VERSION_STRING, want);
    assert_string_equal(jb_version(), want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_never_renumber),
        cmocka_unit_test(test_map_is_complete),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
