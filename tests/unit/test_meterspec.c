/*
 * test_meterspec.c - the meter specification of a 'run --gpus' child: GPU tokens become its GPU,
 * simulated meters stay, CPU/DRAM domains are dropped (and said to be).
 */
#include "run/meterspec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

static void check(const char *spec, int gpu, const char *want, int want_dropped)
{
    int dropped = 0;
    char *got = meterspec_for_gpu(spec, gpu, &dropped);
    if (!want) {
        assert_null(got);
    } else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
    assert_int_equal(dropped, want_dropped);
    free(got);
}

static void test_rewrite(void **state)
{
    (void)state;
    check("auto", 1, "gpu1", 0);
    check("gpu", 3, "gpu3", 0);
    check("gpu0,gpu2", 2, "gpu2", 0);
    check("gpu,cpu", 0, "gpu0", 1);
    check("cpu-package0,auto,dram0", 5, "gpu5", 1);
    check("sim", 1, "sim", 0);
    check("sim:square=60:240:1000:0.5,gpu", 1, "sim:square=60:240:1000:0.5,gpu1", 0);
    check("auto,sim:const=5", 0, "gpu0,sim:const=5", 0);
    check("cpu", 0, NULL, 1);
    check("gpux", 0, NULL, 1); /* not a GPU token: dropped, not guessed */
    check("simulated", 0, NULL, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_rewrite)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
