/*
 * test_grow.c - JB_GROW (src/lib/grow.h): room for arr[n], contents kept, capacity doubling (so
 * n appends make O(log n) reallocations), and a size overflow refused with the array unchanged.
 */
#include "grow.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void test_appends(void **state)
{
    (void)state;
    long *a = NULL;
    size_t cap = 0, grew = 0, last_cap = 0;
    for (size_t n = 0; n < 100000; n++) {
        assert_int_equal(JB_GROW(a, cap, n), 0);
        assert_true(cap > n);
        if (cap != last_cap) {
            grew++;
            last_cap = cap;
        }
        a[n] = (long)n * 3;
    }
    for (size_t n = 0; n < 100000; n++)
        assert_int_equal(a[n], (long)n * 3);
    assert_true(grew <= 16);                 /* 8, 16, ..., 131072: doubling */
    assert_int_equal(JB_GROW(a, cap, 5), 0); /* room already: nothing changes */
    assert_int_equal(cap, last_cap);
    free(a);
}

static void test_overflow(void **state)
{
    (void)state;
    double *a = NULL;
    size_t cap = 0;
    assert_int_equal(JB_GROW(a, cap, 3), 0);
    a[0] = 1.5;
    double *before = a;
    assert_int_equal(JB_GROW(a, cap, SIZE_MAX / 4), -1);
    assert_ptr_equal(a, before);
    assert_int_equal(cap, JB_GROW_MIN);
    assert_true(a[0] == 1.5);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
