/*
 * synth.c - a deterministic synthetic data set of the real sets' shape (32x32x3 uint8) that a
 * ResNet can learn but not at once: each class has oriented stripes (one of 8 directions, a
 * period of 4 to 11 pixels), two stripe colours and a coloured disc; each image shifts its class
 * pattern by up to 4 pixels, scales its contrast, adds a faint stripe pattern of a random class
 * as a distractor, a brightness offset and uniform noise.  Labels are uniform over the classes.
 *
 * Integer arithmetic and splitmix64 only, no libc rand and no floating point, so the bytes are
 * the same on every machine and compiler.  Image i of a part depends only on (seed, classes,
 * part, i).  Changing any of this changes every hash: bump DATA_SYNTH_GENERATOR then.  Not a
 * stand-in for a real data set's accuracy figures: it exists to test and demonstrate the
 * pipeline (workloads, energy per epoch) without downloads.
 */
#include "data/data.h"

#include <stdio.h>
#include <string.h>

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* splitmix64 (Steele, Lea, Flood 2014). */
static uint64_t next(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ull;
    return mix64(*s);
}

/* Uniform in 0..n-1 (n < 2^32) by multiply-shift on the high 32 bits. */
static int uniform(uint64_t *s, uint32_t n)
{
    return (int)(((next(s) >> 32) * n) >> 32);
}

/* Uniform in lo..hi. */
static int range(uint64_t *s, int lo, int hi)
{
    return lo + uniform(s, (uint32_t)(hi - lo + 1));
}

struct klass {
    int dx, dy, period;
    int fg[3], bg[3], disc[3];
    int cx, cy, r;
};

static void class_params(uint64_t seed, int k, struct klass *p)
{
    static const int dirs[8][2] = {{1, 0}, {0, 1}, {1, 1},  {1, -1},
                                   {2, 1}, {1, 2}, {2, -1}, {1, -2}};
    uint64_t s = mix64(seed ^ mix64(0x636c617373ull + (uint64_t)k)); /* "class" */
    int d = uniform(&s, 8);

    p->dx = dirs[d][0];
    p->dy = dirs[d][1];
    p->period = range(&s, 4, 11);
    for (int c = 0; c < 3; c++) {
        p->fg[c] = range(&s, 0, 255);
        p->bg[c] = range(&s, 0, 255);
        p->disc[c] = range(&s, 0, 255);
    }
    p->cx = range(&s, 8, 23);
    p->cy = range(&s, 8, 23);
    p->r = range(&s, 3, 7);
}

/* Triangle wave 0..255 of period p along (dx, dy), shifted; integer only. */
static int stripe(const struct klass *k, int x, int y, int phase)
{
    int u = k->dx * x + k->dy * y + phase + 64 * k->period; /* > 0: |dx x + dy y| <= 144 */
    int t = (u % k->period) * 512 / k->period;
    return t < 256 ? t : 511 - t;
}

static int clamp255(int v)
{
    return v < 0 ? 0 : v > 255 ? 255 : v;
}

void data_synth_image(uint64_t seed, int classes, enum data_part part, uint64_t index, uint8_t *hwc,
                      int64_t *label)
{
    uint64_t s = mix64(seed ^ mix64(((uint64_t)part << 62) ^ index ^ 0x696d616765ull));
    struct klass k, j;
    int sx, sy, phase, jphase, contrast, distract, bright;

    *label = uniform(&s, (uint32_t)classes);
    class_params(seed, (int)*label, &k);
    class_params(seed, uniform(&s, (uint32_t)classes), &j);
    sx = range(&s, -4, 4);
    sy = range(&s, -4, 4);
    phase = uniform(&s, (uint32_t)k.period);
    jphase = uniform(&s, (uint32_t)j.period);
    contrast = range(&s, 96, 256); /* of 256 */
    distract = range(&s, 0, 80);   /* of 256 */
    bright = range(&s, -24, 24);
    for (int y = 0; y < DATA_H; y++) {
        for (int x = 0; x < DATA_W; x++) {
            int t = stripe(&k, x - sx, y - sy, phase);
            int tj = stripe(&j, x, y, jphase);
            int ddx = x - sx - k.cx, ddy = y - sy - k.cy;
            int in_disc = ddx * ddx + ddy * ddy <= k.r * k.r;

            for (int c = 0; c < DATA_C; c++) {
                int base = in_disc ? k.disc[c] : k.bg[c] + (k.fg[c] - k.bg[c]) * t / 255;
                int v = 128 + (base - 128) * contrast / 256 + (tj - 128) * distract / 256 + bright +
                        range(&s, -40, 40);
                hwc[(y * DATA_W + x) * DATA_C + c] = (uint8_t)clamp255(v);
            }
        }
    }
}

int data_synth_write(const struct data_synth *syn, struct data_set *ds, char *err, size_t errlen)
{
    uint8_t hwc[DATA_IMAGE_BYTES];

    if (syn->classes < 2 || syn->classes > DATA_MAX_CLASSES) {
        snprintf(err, errlen, "invalid number of classes %d (2 to %d)", syn->classes,
                 DATA_MAX_CLASSES);
        memset(ds, 0, sizeof(*ds));
        return -1;
    }
    if (data_set_open(ds, syn->root, syn->name, DATA_SPLIT_OFFICIAL, syn->n_train, syn->n_test,
                      syn->classes, err, errlen) < 0)
        return -1;
    ds->synthetic = 1;
    ds->seed = syn->seed;
    for (int p = 0; p < 2; p++) {
        for (uint64_t i = 0; i < ds->n[p]; i++) {
            int64_t label;
            data_synth_image(syn->seed, syn->classes, (enum data_part)p, i, hwc, &label);
            if (data_set_add(ds, (enum data_part)p, hwc, label, err, errlen) < 0)
                goto fail;
        }
    }
    if (data_set_commit(ds, err, errlen) < 0)
        goto fail;
    return 0;
fail:
    data_set_abort(ds);
    return -1;
}
