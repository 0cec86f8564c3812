/*
 * npz.c - the .npz reader and writer; see npz.h.  ZIP layout from PKWARE's APPNOTE.TXT: local
 * file headers (signature PK\3\4) each followed by the member's bytes, then the central directory
 * (PK\1\2 entries), an optional ZIP64 end record (PK\6\6) and its locator (PK\6\7), and the end of
 * central directory record (PK\5\6), which may be followed by a comment of up to 65535 bytes.
 * Python's zipfile (np.savez) writes ZIP64 extra fields in the local headers of every member
 * (force_zip64) and in the central directory only for values that do not fit in 32 bits.
 */
#include "data/npz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u

static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    crc_ready = 1;
}

uint32_t npz_crc32(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;

    /* The table is a pure function of nothing: two threads racing to fill it write the same
     * values; the flag is set after the table. */
    if (!crc_ready)
        crc_init();
    crc = ~crc;
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

void npz_free(struct npz *z)
{
    free(z->bytes);
    free(z->members);
    memset(z, 0, sizeof(*z));
}

static int read_whole(const char *path, uint64_t max_bytes, struct npz *z, char *err, size_t errlen)
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    size_t got;
    int e;

    if (!f) {
        e = errno;
        snprintf(err, errlen, "cannot open '%s': %s", path,
                 e == ENOENT ? "no such file" : strerror(e));
        return -1;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        snprintf(err, errlen, "cannot read '%s': not a regular file", path);
        return -1;
    }
    if ((uint64_t)st.st_size > max_bytes || (uint64_t)st.st_size > SIZE_MAX - 1) {
        fclose(f);
        snprintf(err, errlen, "cannot read '%s': %lld bytes, more than the %llu this reader takes",
                 path, (long long)st.st_size, (unsigned long long)max_bytes);
        return -1;
    }
    z->len = (size_t)st.st_size;
    z->bytes = malloc(z->len + 1);
    if (!z->bytes) {
        fclose(f);
        snprintf(err, errlen, "cannot read '%s': out of memory", path);
        return -1;
    }
    got = fread(z->bytes, 1, z->len, f);
    e = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (got != z->len) {
        snprintf(err, errlen, "cannot read '%s': %s", path,
                 e ? strerror(e) : "it changed size while being read");
        return -1;
    }
    return 0;
}

/* Finds the end records; sets the central directory's offset, size and entry count. */
static int find_directory(const struct npz *z, uint64_t *cd_off, uint64_t *cd_size,
                          uint64_t *entries, const char **why)
{
    const unsigned char *b = z->bytes;
    size_t eocd = SIZE_MAX;

    if (z->len < 22) {
        *why = "too short to be a ZIP (.npz) file";
        return -1;
    }
    for (size_t i = z->len - 22 + 1; i-- > 0 && z->len - i <= 22 + 65535;) {
        if (le32(b + i) == SIG_END && i + 22 + le16(b + i + 20) == z->len) {
            eocd = i;
            break;
        }
    }
    if (eocd == SIZE_MAX) {
        *why = "not a ZIP (.npz) file: no end of central directory record";
        return -1;
    }
    if (le16(b + eocd + 4) != 0 || (le16(b + eocd + 6) != 0 && le16(b + eocd + 6) != 0xffff)) {
        *why = "multi-disk ZIP archives are not supported";
        return -1;
    }
    *entries = le16(b + eocd + 10);
    *cd_size = le32(b + eocd + 12);
    *cd_off = le32(b + eocd + 16);
    if (*entries == 0xffff || *cd_size == 0xffffffffu || *cd_off == 0xffffffffu) {
        uint64_t off64;
        if (eocd < 20 || le32(b + eocd - 20) != SIG_LOCATOR64) {
            *why = "ZIP64 end of central directory locator missing";
            return -1;
        }
        off64 = le64(b + eocd - 20 + 8);
        if (z->len < 56 || off64 > z->len - 56 || le32(b + off64) != SIG_END64) {
            *why = "ZIP64 end of central directory record missing";
            return -1;
        }
        *entries = le64(b + off64 + 32);
        *cd_size = le64(b + off64 + 40);
        *cd_off = le64(b + off64 + 48);
    }
    if (*cd_off > z->len || *cd_size > z->len - *cd_off) {
        *why = "central directory lies outside the file";
        return -1;
    }
    if (*entries > NPZ_MAX_MEMBERS) {
        *why = "more members than this reader takes (100000)";
        return -1;
    }
    return 0;
}

/* Applies a ZIP64 extended-information extra field to the values that are saturated. */
static int zip64_extra(const unsigned char *x, size_t xlen, uint64_t *usize, uint64_t *csize,
                       uint64_t *local)
{
    size_t i = 0;

    while (i + 4 <= xlen) {
        unsigned id = le16(x + i), n = le16(x + i + 2);
        const unsigned char *d = x + i + 4;
        size_t k = 0;

        if (i + 4 + n > xlen)
            return -1;
        if (id == 0x0001) {
            if (*usize == 0xffffffffu) {
                if (k + 8 > n)
                    return -1;
                *usize = le64(d + k), k += 8;
            }
            if (*csize == 0xffffffffu) {
                if (k + 8 > n)
                    return -1;
                *csize = le64(d + k), k += 8;
            }
            if (local && *local == 0xffffffffu) {
                if (k + 8 > n)
                    return -1;
                *local = le64(d + k);
            }
        }
        i += 4 + n;
    }
    return 0;
}

int npz_read_file(const char *path, uint64_t max_bytes, struct npz *z, char *err, size_t errlen)
{
    memset(z, 0, sizeof(*z));
    if (read_whole(path, max_bytes, z, err, errlen) < 0) {
        npz_free(z);
        return -1;
    }
    return npz_parse(z, path, err, errlen);
}

int npz_parse(struct npz *z, const char *path, char *err, size_t errlen)
{
    uint64_t cd_off, cd_size, entries, pos;
    const char *why = NULL;
    const unsigned char *b = z->bytes;

    z->n = 0;
    z->members = NULL;
    if (find_directory(z, &cd_off, &cd_size, &entries, &why) < 0)
        goto fail;
    z->members = calloc(entries ? entries : 1, sizeof(*z->members));
    if (!z->members) {
        why = "out of memory";
        goto fail;
    }
    pos = cd_off;
    for (uint64_t i = 0; i < entries; i++) {
        struct npz_member *m = &z->members[i];
        uint64_t csize, usize, local, data;
        unsigned flags, method, nlen, xlen, clen, lnlen, lxlen;
        uint32_t crc;

        if (pos + 46 > cd_off + cd_size || le32(b + pos) != SIG_CENTRAL) {
            why = "central directory entry malformed";
            goto fail;
        }
        flags = le16(b + pos + 8);
        method = le16(b + pos + 10);
        crc = le32(b + pos + 16);
        csize = le32(b + pos + 20);
        usize = le32(b + pos + 24);
        nlen = le16(b + pos + 28);
        xlen = le16(b + pos + 30);
        clen = le16(b + pos + 32);
        local = le32(b + pos + 42);
        if (pos + 46 + nlen + xlen + clen > cd_off + cd_size) {
            why = "central directory entry runs past the directory";
            goto fail;
        }
        if (nlen == 0 || nlen >= NPZ_MAX_NAME) {
            why = "member name empty or longer than 255 bytes";
            goto fail;
        }
        memcpy(m->name, b + pos + 46, nlen);
        m->name[nlen] = '\0';
        if (memchr(m->name, '\0', nlen)) {
            why = "member name holds a NUL byte";
            goto fail;
        }
        if (zip64_extra(b + pos + 46 + nlen, xlen, &usize, &csize, &local) < 0) {
            snprintf(err, errlen, "'%s': member '%s': malformed ZIP64 extra field", path, m->name);
            goto fail_quiet;
        }
        if (flags & 1) {
            snprintf(err, errlen, "'%s': member '%s' is encrypted", path, m->name);
            goto fail_quiet;
        }
        if (method != 0) {
            snprintf(err, errlen,
                     "'%s': member '%s' is compressed (method %u): only stored members are read "
                     "(write the file with np.savez, not np.savez_compressed)",
                     path, m->name, method);
            goto fail_quiet;
        }
        if (csize != usize || z->len < 30 || local > z->len - 30 || le32(b + local) != SIG_LOCAL) {
            snprintf(err, errlen, "'%s': member '%s': local header missing or sizes disagree", path,
                     m->name);
            goto fail_quiet;
        }
        lnlen = le16(b + local + 26);
        lxlen = le16(b + local + 28);
        data = local + 30 + lnlen + lxlen;
        if (data > z->len || usize > z->len - data) {
            snprintf(err, errlen, "'%s': member '%s' runs past the end of the file (truncated?)",
                     path, m->name);
            goto fail_quiet;
        }
        if (npz_crc32(0, b + data, (size_t)usize) != crc) {
            snprintf(err, errlen, "'%s': member '%s': CRC-32 mismatch (the file is damaged)", path,
                     m->name);
            goto fail_quiet;
        }
        if (nlen > 4 && !strcmp(m->name + nlen - 4, ".npy"))
            m->name[nlen - 4] = '\0';
        m->offset = data;
        m->size_bytes = usize;
        pos += 46 + nlen + xlen + clen;
        z->n++;
    }
    return 0;
fail:
    snprintf(err, errlen, "cannot read '%s': %s", path, why);
fail_quiet:
    npz_free(z);
    return -1;
}

const struct npz_member *npz_find(const struct npz *z, const char *name)
{
    for (size_t i = 0; i < z->n; i++)
        if (!strcmp(z->members[i].name, name))
            return &z->members[i];
    return NULL;
}

int npz_array(const struct npz *z, const struct npz_member *m, struct npy_info *info,
              const void **data, char *err, size_t errlen)
{
    if (npy_parse(z->bytes + m->offset, (size_t)m->size_bytes, info, err, errlen) < 0)
        return -1;
    *data = z->bytes + m->offset + info->data_offset;
    return 0;
}

/* ---- writer --------------------------------------------------------------------------------- */

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static int writer_fail(struct npz_writer *w, char *err, size_t errlen, const char *what)
{
    int e = errno;
    snprintf(err, errlen, "cannot %s '%s': %s", what, w->tmp[0] ? w->tmp : w->path, strerror(e));
    npz_writer_abort(w);
    errno = e;
    return -1;
}

int npz_writer_open(struct npz_writer *w, const char *path, char *err, size_t errlen)
{
    memset(w, 0, sizeof(*w));
    if (snprintf(w->path, sizeof(w->path), "%s", path) >= (int)sizeof(w->path)) {
        snprintf(err, errlen, "cannot create '%s': path too long", path);
        return -1;
    }
    snprintf(w->tmp, sizeof(w->tmp), "%s.tmp.%ld", path, (long)getpid());
    w->f = fopen(w->tmp, "wb");
    if (!w->f)
        return writer_fail(w, err, errlen, "create");
    return 0;
}

int npz_writer_add(struct npz_writer *w, const char *name, const char *descr, size_t item_bytes,
                   const uint64_t *shape, int ndim, const void *data, char *err, size_t errlen)
{
    char header[NPY_MAX_HEADER], member[NPZ_MAX_NAME];
    unsigned char local[30], *c;
    size_t hbytes, nlen;
    uint64_t items = 1, data_bytes, total;
    uint32_t crc;

    if (!w->f) {
        snprintf(err, errlen, "cannot write '%s': not open", w->path);
        return -1;
    }
    nlen = (size_t)snprintf(member, sizeof(member), "%s.npy", name);
    if (!name[0] || nlen >= sizeof(member) - 1) {
        snprintf(err, errlen, "cannot write '%s': array name '%.40s' empty or too long", w->path,
                 name);
        npz_writer_abort(w);
        return -1;
    }
    hbytes = npy_header(header, sizeof(header), descr, shape, ndim);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] && items > 0xffffffffu / shape[i])
            items = 0xffffffffu; /* refused below */
        else
            items *= shape[i];
    }
    data_bytes = items * item_bytes;
    total = hbytes + data_bytes;
    if (!hbytes || total >= 0xffffffffu || w->offset >= 0xffffffffu - total - 30 - nlen) {
        snprintf(err, errlen, "cannot write '%s': array '%s' too large for this writer", w->path,
                 name);
        npz_writer_abort(w);
        return -1;
    }
    crc = npz_crc32(npz_crc32(0, header, hbytes), data, (size_t)data_bytes);
    memset(local, 0, sizeof(local));
    put32(local, SIG_LOCAL);
    put16(local + 4, 20); /* version needed: 2.0 */
    put32(local + 14, crc);
    put32(local + 18, (uint32_t)total);
    put32(local + 22, (uint32_t)total);
    put16(local + 26, (unsigned)nlen);
    if (fwrite(local, 1, 30, w->f) != 30 || fwrite(member, 1, nlen, w->f) != nlen ||
        fwrite(header, 1, hbytes, w->f) != hbytes ||
        fwrite(data, 1, (size_t)data_bytes, w->f) != data_bytes)
        return writer_fail(w, err, errlen, "write");
    if (w->cdir_len + 46 + nlen > w->cdir_cap) {
        size_t cap = w->cdir_cap ? w->cdir_cap * 2 : 4096;
        unsigned char *p;
        while (cap < w->cdir_len + 46 + nlen)
            cap *= 2;
        p = realloc(w->cdir, cap);
        if (!p) {
            errno = ENOMEM;
            return writer_fail(w, err, errlen, "write");
        }
        w->cdir = p;
        w->cdir_cap = cap;
    }
    c = w->cdir + w->cdir_len;
    memset(c, 0, 46);
    put32(c, SIG_CENTRAL);
    put16(c + 4, 20); /* made by: MS-DOS, 2.0 */
    put16(c + 6, 20);
    put32(c + 16, crc);
    put32(c + 20, (uint32_t)total);
    put32(c + 24, (uint32_t)total);
    put16(c + 28, (unsigned)nlen);
    put32(c + 42, (uint32_t)w->offset);
    memcpy(c + 46, member, nlen);
    w->cdir_len += 46 + nlen;
    w->offset += 30 + nlen + total;
    w->n++;
    return 0;
}

int npz_writer_commit(struct npz_writer *w, char *err, size_t errlen)
{
    unsigned char end[22];
    int rc;

    if (!w->f) {
        snprintf(err, errlen, "cannot write '%s': not open", w->path);
        return -1;
    }
    if (w->n > 0xfffe || w->offset + w->cdir_len >= 0xffffffffu) {
        snprintf(err, errlen, "cannot write '%s': too large for this writer", w->path);
        npz_writer_abort(w);
        return -1;
    }
    memset(end, 0, sizeof(end));
    put32(end, SIG_END);
    put16(end + 8, (unsigned)w->n);
    put16(end + 10, (unsigned)w->n);
    put32(end + 12, (uint32_t)w->cdir_len);
    put32(end + 16, (uint32_t)w->offset);
    if ((w->cdir_len && fwrite(w->cdir, 1, w->cdir_len, w->f) != w->cdir_len) ||
        fwrite(end, 1, sizeof(end), w->f) != sizeof(end) || fflush(w->f) != 0 ||
        fsync(fileno(w->f)) != 0)
        return writer_fail(w, err, errlen, "write");
    rc = fclose(w->f);
    w->f = NULL;
    if (rc != 0)
        return writer_fail(w, err, errlen, "close");
    if (rename(w->tmp, w->path) != 0) {
        int e = errno;
        snprintf(err, errlen, "cannot rename into '%s': %s", w->path, strerror(e));
        npz_writer_abort(w);
        return -1;
    }
    w->tmp[0] = '\0';
    free(w->cdir);
    w->cdir = NULL;
    return 0;
}

void npz_writer_abort(struct npz_writer *w)
{
    if (w->f) {
        fclose(w->f);
        w->f = NULL;
    }
    if (w->tmp[0]) {
        unlink(w->tmp);
        w->tmp[0] = '\0';
    }
    free(w->cdir);
    w->cdir = NULL;
}
