/*
 * rangemax.h - maxima over ranges of a time series that grows at one end and is let go at the
 * other (internal; the phase accountant's peaks): a stack of the let-go values greater than every
 * later one, and block maxima of the values kept.  Every function takes `work`, a counter of
 * elements visited.
 */
#ifndef JB_SRC_LIB_RANGEMAX_H
#define JB_SRC_LIB_RANGEMAX_H

#include <stddef.h>
#include <stdint.h>

struct tv {
    uint64_t t;
    double v;
};

/* Let-go values greater than every later one: the first at or after t0 is the maximum from t0. */
struct stack {
    struct tv *e;
    size_t n, cap;
};

/* Maxima of blocks of 64 and 4096 consecutive values (by absolute index), so that the maximum
 * over any range of the values kept costs at most a few hundred steps. */
#define BLK1 64u
#define BLK2 4096u

struct blklevel {
    double *m;
    size_t head, n, cap;
    uint64_t base; /* block number of m[0] */
};

struct blkmax {
    struct blklevel l1, l2;
};

/* Pushes a let-go value (t increasing). */
void jb__stack_push(uint64_t *work, struct stack *st, uint64_t t, double v);
/* Maximum of the let-go values at or after t0; 0 when there is none. */
int jb__stack_max_from(const struct stack *st, uint64_t t0, double *v);
/* Records value number idx (every index, in order; a value unknown as -inf). */
void jb__blk_put(struct blkmax *b, uint64_t idx, double v);
/* Lets go the blocks of a level before block number blk. */
void jb__blk_drop_level(struct blklevel *l, uint64_t blk);
/* Maximum of val(ctx, x) over absolute indices [i, j], all of them still kept. */
double jb__blk_range_max(uint64_t *work, const struct blkmax *b, uint64_t i, uint64_t j,
                         double (*val)(const void *, uint64_t), const void *ctx);

#endif
