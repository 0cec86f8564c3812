/*
 * fuzz_npz.c - libFuzzer target for the .npz reader (src/data/npz.c: ZIP end records, ZIP64,
 * central directory, local headers, CRC-32) and the .npy header parser (src/data/npy.c) on every
 * member and on the input itself: any input must parse or fail cleanly, within its bounds.
 * Built by scripts/fuzz.sh.
 */
#include "data/npz.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct npz z = {0};
    struct npy_info info;
    char err[512];

    npy_parse(data, size, &info, err, sizeof(err));
    z.bytes = malloc(size + 1);
    if (!z.bytes)
        return 0;
    memcpy(z.bytes, data, size);
    z.len = size;
    if (npz_parse(&z, "fuzz", err, sizeof(err)) == 0) {
        for (size_t i = 0; i < z.n; i++) {
            const void *p;
            if (npz_find(&z, z.members[i].name) == NULL)
                abort(); /* every member is found by its own name */
            npz_array(&z, &z.members[i], &info, &p, err, sizeof(err));
        }
        npz_free(&z);
    }
    return 0;
}
