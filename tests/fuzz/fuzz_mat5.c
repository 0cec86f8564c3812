/*
 * fuzz_mat5.c - libFuzzer target for the MAT-file size check of the SVHN import
 * (src/data/mat5.c, data_mat5_check): any bytes, read through fmemopen, must pass or fail with a
 * message naming the file, never crash or read out of bounds; its cost is bounded by the input
 * and the declared sizes of X and y (a compressed variable is inflated at most to its declared
 * length).
 */
#include "data/data.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const vars[] = {"X", "y", NULL};
    char err[512];
    FILE *f;

    if (!size)
        return 0;
    f = fmemopen((void *)data, size, "rb");
    if (!f)
        return 0;
    err[0] = '\0';
    if (data_mat5_check(f, "fuzz.mat", vars, err, sizeof(err)) < 0 &&
        strncmp(err, "'fuzz.mat'", 10))
        __builtin_trap(); /* every failure names the file */
    fclose(f);
    return 0;
}
