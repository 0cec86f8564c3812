/*
 * sha256.h - SHA-256 (FIPS 180-4), streaming, for the data sets' manifests: every .npy file and
 * every source archive is named by its hash so that all frameworks can check they read the same
 * bytes.  The hashing is nettle's (sha256.c); this header keeps the tool's small API over it and
 * does not include nettle's, whose macros rename sha256_init and friends.  Not a general crypto
 * API: nothing secret is hashed here.
 */
#ifndef JB_SRC_DATA_SHA256_H
#define JB_SRC_DATA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_BYTES 32
#define SHA256_HEX_CHARS 65 /* 64 hex digits and the NUL */

struct sha256 {
    /* nettle's struct sha256_ctx, held as bytes (sha256.c checks that it fits) */
    union {
        uint64_t align;
        unsigned char bytes[128];
    } ctx;
    uint64_t total_bytes; /* bytes hashed so far */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Finishes the hash; s must be re-initialised before reuse. */
void sha256_final(struct sha256 *s, uint8_t digest[SHA256_DIGEST_BYTES]);
/* Finishes the hash into 64 lower-case hex digits (NUL-terminated). */
void sha256_final_hex(struct sha256 *s, char hex[SHA256_HEX_CHARS]);
/* Whole-buffer convenience. */
void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_CHARS]);
/* Hashes a whole file.  Returns 0, or -1 with errno set and a message naming the path in err. */
int sha256_file_hex(const char *path, char hex[SHA256_HEX_CHARS], uint64_t *size_bytes, char *err,
                    size_t errlen);

#endif
