/*
 * rangemax.c - maxima over ranges of a growing, sliding series (see rangemax.h), for peak power
 * per phase at a cost independent of how many phases are open: the let-go part through a stack
 * of values greater than every later one (the first at or after t0 is the maximum from t0), the
 * kept part through maxima of blocks of 64 and 4096 values (a range costs at most a few hundred
 * steps).  Not a general data-structure library.
 */
#include "rangemax.h"

#include "grow.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STACK_MAX (1u << 20) /* entries of a stack */

/* ---- peak stacks -------------------------------------------------------------------------- */

void jb__stack_push(uint64_t *work, struct stack *st, uint64_t t, double v)
{
    while (st->n && st->e[st->n - 1].v <= v) {
        st->n--;
        (*work)++;
    }
    if (st->n >= STACK_MAX) {
        /* Only a long, steadily falling series gets here: forget its oldest quarter. */
        size_t drop = st->n / 4;
        memmove(st->e, st->e + drop, (st->n - drop) * sizeof(*st->e));
        st->n -= drop;
    }
    if (JB_GROW(st->e, st->cap, st->n) < 0)
        return; /* the peak of old phases may then be lower than it was: not an error */
    st->e[st->n].t = t;
    st->e[st->n].v = v;
    st->n++;
}

/* Maximum of the let-go values at or after t0; 0 when none. */
int jb__stack_max_from(const struct stack *st, uint64_t t0, double *v)
{
    size_t lo = 0, hi = st->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->e[mid].t < t0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == st->n)
        return 0;
    *v = st->e[lo].v;
    return 1;
}

/* ---- block maxima ------------------------------------------------------------------------ */

static void lvl_put(struct blklevel *l, uint64_t blk, double v)
{
    if (!l->n) {
        l->base = blk;
        l->head = 0;
    }
    while (l->base + l->n <= blk) {
        if (JB_GROW(l->m, l->cap, l->n) < 0)
            return; /* a peak may then miss a block: not an error */
        l->m[l->n++] = -INFINITY;
    }
    if (blk >= l->base + l->head && blk < l->base + l->n && v > l->m[blk - l->base])
        l->m[blk - l->base] = v;
}

/* Records value idx (every index is put, in order; an unknown value as -inf). */
void jb__blk_put(struct blkmax *b, uint64_t idx, double v)
{
    if (!isfinite(v))
        v = -INFINITY;
    lvl_put(&b->l1, idx / BLK1, v);
    lvl_put(&b->l2, idx / BLK2, v);
}

/* Lets go the blocks that end before absolute index idx. */
void jb__blk_drop_level(struct blklevel *l, uint64_t blk)
{
    while (l->head < l->n && l->base + l->head < blk)
        l->head++;
    if (l->head > 64 && l->head * 2 > l->n) {
        memmove(l->m, l->m + l->head, (l->n - l->head) * sizeof(double));
        l->n -= l->head;
        l->base += l->head;
        l->head = 0;
    }
}

static int lvl_get(const struct blklevel *l, uint64_t blk, double *v)
{
    if (blk < l->base + l->head || blk >= l->base + l->n)
        return 0;
    *v = l->m[blk - l->base];
    return 1;
}

/* Maximum of val(x) over absolute indices [i, j], all of them kept. */
double jb__blk_range_max(uint64_t *work, const struct blkmax *b, uint64_t i, uint64_t j,
                         double (*val)(const void *, uint64_t), const void *ctx)
{
    double best = -INFINITY, v;
    uint64_t x = i;

    while (x <= j) {
        (*work)++;
        if (x % BLK2 == 0 && x + BLK2 - 1 <= j && lvl_get(&b->l2, x / BLK2, &v)) {
            x += BLK2;
        } else if (x % BLK1 == 0 && x + BLK1 - 1 <= j && lvl_get(&b->l1, x / BLK1, &v)) {
            x += BLK1;
        } else {
            v = val(ctx, x);
            x++;
        }
        if (v > best)
            best = v;
    }
    return best;
}
