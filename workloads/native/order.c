/*
 * order.c - numpy's Generator(PCG64(seed)).permutation(n) in C (see native.h).  From numpy's
 * bit_generator.pyx (SeedSequence: hashmix / mix over a pool of four 32-bit words, then
 * generate_state), pcg64.h (pcg_setseq_128 seeding, XSL-RR output, next32 keeping the high half
 * of a 64-bit draw for the next call) and distributions.c (random_interval: mask to the next
 * power of two minus one and reject, with 32-bit draws when the bound fits in 32 bits).  Checked
 * against numpy itself in tests/unit/test_native.c and tests/python/test_native.py.
 */
#include "native.h"

#define SS_INIT_A 0x43b0d7e5u
#define SS_MULT_A 0x931e8875u
#define SS_INIT_B 0x8b51f9ddu
#define SS_MULT_B 0x58f38dedu
#define SS_MIX_L 0xca01f9ddu
#define SS_MIX_R 0x4973f715u
#define SS_POOL 4

static uint32_t hashmix(uint32_t v, uint32_t *hc)
{
    v ^= *hc;
    *hc *= SS_MULT_A;
    v *= *hc;
    v ^= v >> 16;
    return v;
}

static uint32_t mix(uint32_t x, uint32_t y)
{
    uint32_t r = SS_MIX_L * x - SS_MIX_R * y;
    r ^= r >> 16;
    return r;
}

/* SeedSequence(seed).generate_state(4, uint64). */
static void seed_sequence(unsigned long long seed, uint64_t out[4])
{
    uint32_t entropy[2], pool[SS_POOL], hc = SS_INIT_A, words[8];
    int n = 0;

    /* The seed as little-endian 32-bit words; 0 is one word [0]. */
    if (seed == 0)
        entropy[n++] = 0;
    while (seed > 0) {
        entropy[n++] = (uint32_t)(seed & 0xffffffffu);
        seed >>= 32;
    }
    for (int i = 0; i < SS_POOL; i++)
        pool[i] = hashmix(i < n ? entropy[i] : 0, &hc);
    for (int s = 0; s < SS_POOL; s++)
        for (int d = 0; d < SS_POOL; d++)
            if (s != d)
                pool[d] = mix(pool[d], hashmix(pool[s], &hc));
    /* Entropy beyond the pool's four words: at most two words here, so none. */
    hc = SS_INIT_B;
    for (int i = 0; i < 8; i++) {
        uint32_t v = pool[i % SS_POOL];
        v ^= hc;
        hc *= SS_MULT_B;
        v *= hc;
        v ^= v >> 16;
        words[i] = v;
    }
    for (int i = 0; i < 4; i++)
        out[i] = (uint64_t)words[2 * i] | (uint64_t)words[2 * i + 1] << 32;
}

static const unsigned __int128 PCG_MULT =
    ((unsigned __int128)2549297995355413924ull << 64) | 4865540595714422341ull;

static void pcg_step(struct native_rng *r)
{
    r->state = r->state * PCG_MULT + r->inc;
}

void native_rng_seed(struct native_rng *r, unsigned long long seed)
{
    uint64_t v[4];
    unsigned __int128 initstate, initseq;

    seed_sequence(seed, v);
    initstate = (unsigned __int128)v[0] << 64 | v[1];
    initseq = (unsigned __int128)v[2] << 64 | v[3];
    r->state = 0;
    r->inc = initseq << 1 | 1;
    pcg_step(r);
    r->state += initstate;
    pcg_step(r);
    r->has_uint32 = 0;
    r->uinteger = 0;
}

uint64_t native_rng_next64(struct native_rng *r)
{
    uint64_t x;
    unsigned rot;

    pcg_step(r);
    x = (uint64_t)(r->state >> 64) ^ (uint64_t)r->state;
    rot = (unsigned)(r->state >> 122);
    return (x >> rot) | (x << ((64 - rot) & 63));
}

static uint32_t next32(struct native_rng *r)
{
    uint64_t n;

    if (r->has_uint32) {
        r->has_uint32 = 0;
        return r->uinteger;
    }
    n = native_rng_next64(r);
    r->has_uint32 = 1;
    r->uinteger = (uint32_t)(n >> 32);
    return (uint32_t)n;
}

/* A uniform integer in [0, max]. */
static uint64_t interval(struct native_rng *r, uint64_t max)
{
    uint64_t mask = max, v;

    if (max == 0)
        return 0;
    for (int s = 1; s <= 32; s <<= 1)
        mask |= mask >> s;
    if (max <= 0xffffffffu) {
        while ((v = next32(r) & mask) > max)
            ;
    } else {
        while ((v = native_rng_next64(r) & mask) > max)
            ;
    }
    return v;
}

void native_rng_permutation(struct native_rng *r, int32_t *perm, size_t n)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = (int32_t)i;
    for (size_t i = n; i-- > 1;) {
        size_t j = (size_t)interval(r, i);
        int32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
