/*
 * test_list.c - the comma-list tokeniser (src/list/list.c): items in order, empty items (at the
 * start, in the middle, a trailing comma's, the empty list), spaces kept or trimmed, an overlong
 * item (its full length returned, the copy truncated and terminated), no copy with n = 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "list.h"

/* The items of s joined by '|', each followed by its length: "a1|2|b1". */
static const char *split(const char *s, size_t n, unsigned flags)
{
    static char out[256];
    char tok[64];
    const char *p = s;

    assert_true(n <= sizeof(tok));
    out[0] = '\0';
    while (p) {
        size_t len = jb__list_next(&p, tok, n, flags);
        size_t o = strlen(out);
        snprintf(out + o, sizeof(out) - o, "%s%s%zu", o ? "|" : "", tok, len);
    }
    return out;
}

static void test_items(void **state)
{
    (void)state;
    assert_string_equal(split("gpu0", 64, 0), "gpu04");
    assert_string_equal(split("gpu0,cpu,dram", 64, 0), "gpu04|cpu3|dram4");
}

static void test_empty_items(void **state)
{
    (void)state;
    assert_string_equal(split("", 64, 0), "0");           /* one empty item */
    assert_string_equal(split("a,,b", 64, 0), "a1|0|b1"); /* in the middle */
    assert_string_equal(split(",a", 64, 0), "0|a1");      /* at the start */
    assert_string_equal(split("a,", 64, 0), "a1|0");      /* a trailing comma's */
    assert_string_equal(split(",", 64, 0), "0|0");
    assert_string_equal(split(" , ", 64, JB_LIST_TRIM), "0|0"); /* blank is empty when trimmed */
}

static void test_trailing_comma_ends(void **state)
{
    const char *p = "a,";
    char tok[8];

    (void)state;
    assert_int_equal(jb__list_next(&p, tok, sizeof(tok), 0), 1);
    assert_non_null(p);
    assert_string_equal(p, ""); /* a `while (p && *p)` loop stops here */
    assert_int_equal(jb__list_next(&p, tok, sizeof(tok), 0), 0);
    assert_null(p);
}

static void test_spaces(void **state)
{
    (void)state;
    assert_string_equal(split(" a , b\t", 64, 0), " a 3| b\t3"); /* kept by default */
    assert_string_equal(split(" a , b\t", 64, JB_LIST_TRIM), "a1|b1");
    assert_string_equal(split("a b", 64, JB_LIST_TRIM), "a b3"); /* inner spaces stay */
}

static void test_overlong(void **state)
{
    const char *p = "abcdefgh,xy";
    char tok[4] = {'?', '?', '?', '?'};

    (void)state;
    assert_int_equal(jb__list_next(&p, tok, sizeof(tok), 0), 8); /* >= n: did not fit */
    assert_string_equal(tok, "abc");                             /* truncated, terminated */
    assert_string_equal(p, "xy");                                /* the next item intact */
    assert_int_equal(jb__list_next(&p, tok, sizeof(tok), 0), 2);
    assert_string_equal(tok, "xy");
    assert_null(p);
    p = "abc";
    assert_int_equal(jb__list_next(&p, tok, sizeof(tok), 0), 3); /* exactly fits: n - 1 */
    assert_string_equal(tok, "abc");
    p = "abcd";
    assert_int_equal(jb__list_next(&p, tok, sizeof(tok), 0), 4);
    assert_string_equal(tok, "abc");
    /* n = 0: nothing written, the length still told and the cursor moved. */
    p = "xyz,w";
    memcpy(tok, "keep", 4);
    assert_int_equal(jb__list_next(&p, tok, 0, 0), 3);
    assert_memory_equal(tok, "keep", 4);
    assert_string_equal(p, "w");
    assert_int_equal(jb__list_next(&p, NULL, 0, 0), 1);
    assert_null(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_empty_items),
        cmocka_unit_test(test_trailing_comma_ends),
        cmocka_unit_test(test_spaces),
        cmocka_unit_test(test_overlong),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
