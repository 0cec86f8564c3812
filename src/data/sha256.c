/*
 * sha256.c - SHA-256 through nettle (libnettle, a dependency of libarchive and in Debian's base
 * closure), behind the small API of sha256.h that the data modules use: streaming, hex output,
 * whole files.  What was a hand-written FIPS 180-4 implementation until issue 9.
 */
#include "data/sha256.h"

#include <nettle/sha2.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* nettle's names are macros for nettle_sha256_*: ours are the functions of the same name. */
#undef sha256_init
#undef sha256_update
#undef sha256_digest

_Static_assert(sizeof(struct sha256_ctx) <= sizeof(((struct sha256 *)0)->ctx.bytes),
               "struct sha256 too small for nettle's sha256_ctx");
_Static_assert(SHA256_DIGEST_BYTES == SHA256_DIGEST_SIZE, "digest size");

static struct sha256_ctx *ctx_of(struct sha256 *s)
{
    return (struct sha256_ctx *)(void *)s->ctx.bytes;
}

void sha256_init(struct sha256 *s)
{
    memset(s, 0, sizeof(*s));
    nettle_sha256_init(ctx_of(s));
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
    if (!len)
        return;
    nettle_sha256_update(ctx_of(s), len, data);
    s->total_bytes += len;
}

void sha256_final(struct sha256 *s, uint8_t digest[SHA256_DIGEST_BYTES])
{
    nettle_sha256_digest(ctx_of(s), SHA256_DIGEST_BYTES, digest);
}

void sha256_final_hex(struct sha256 *s, char hex[SHA256_HEX_CHARS])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t d[SHA256_DIGEST_BYTES];

    sha256_final(s, d);
    for (int i = 0; i < SHA256_DIGEST_BYTES; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_CHARS])
{
    struct sha256 s;

    sha256_init(&s);
    sha256_update(&s, data, len);
    sha256_final_hex(&s, hex);
}

int sha256_file_hex(const char *path, char hex[SHA256_HEX_CHARS], uint64_t *size_bytes, char *err,
                    size_t errlen)
{
    unsigned char buf[16384];
    struct sha256 s;
    FILE *f = fopen(path, "rb");
    size_t n;
    int e;

    if (!f) {
        e = errno;
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(e));
        errno = e;
        return -1;
    }
    sha256_init(&s);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        sha256_update(&s, buf, n);
    if (ferror(f)) {
        e = errno ? errno : EIO;
        fclose(f);
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(e));
        errno = e;
        return -1;
    }
    fclose(f);
    if (size_bytes)
        *size_bytes = s.total_bytes;
    sha256_final_hex(&s, hex);
    return 0;
}
