/*
 * grow.h - the library's one way to grow an array (as git's ALLOC_GROW): JB_GROW(arr, cap, n)
 * makes room for arr[n], doubling the capacity, so that n appends cost O(n) and not the O(n^2)
 * of growing by one (a realloc may copy: it always does under ASan).  Header-only, internal.
 */
#ifndef JB_SRC_LIB_GROW_H
#define JB_SRC_LIB_GROW_H

#include <stdint.h>
#include <stdlib.h>

#define JB_GROW_MIN 8 /* the first capacity */

/* Makes room for (*arr)[n] of elements of sz bytes: 0, or -1 when out of memory or the size
 * would overflow, with *arr and *cap unchanged (the old array still valid). */
static inline int jb__grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    size_t nc = *cap ? *cap : JB_GROW_MIN;
    void *q;

    if (n < *cap)
        return 0;
    while (nc <= n) {
        if (nc > SIZE_MAX / 2 / sz)
            return -1;
        nc *= 2;
    }
    if (nc > SIZE_MAX / sz)
        return -1;
    q = realloc(*arr, nc * sz);
    if (!q)
        return -1;
    *arr = q;
    *cap = nc;
    return 0;
}

/* JB_GROW(arr, cap, n): arr a pointer lvalue, cap its size_t capacity (in elements), n the index
 * to make room for.  0 or -1 (out of memory), as jb__grow. */
#define JB_GROW(arr, cap, n) jb__grow((void **)&(arr), &(cap), (n), sizeof(*(arr)))

#endif
