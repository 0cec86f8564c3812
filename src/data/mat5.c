/*
 * mat5.c - checks that a Level 5 MAT-file holds every byte its elements declare, before libmatio
 * reads it.  libmatio (1.5.23) does not: a file cut short reads without an error, the missing
 * part of a variable left as whatever the heap held (an SVHN train_32x32.mat cut to 400 bytes
 * imported "4 train, 1 test images" from uninitialised memory).
 *
 * The walk: the 128-byte header (version 0x0100, endian indicator "IM" or "MI"), then each top-
 * level element's tag (type, byte count), which must end within the file.  A matrix element,
 * stored plain or compressed (miCOMPRESSED, inflated here, streaming), has its header parsed
 * (flags, dimensions, name, the real part's tag): a numeric matrix's real part (and imaginary
 * part, if complex) must hold exactly prod(dims) values of its stored type, inside the matrix.
 * A compressed matrix named in `vars` must also inflate to its whole declared length; others are
 * only inflated as far as their header, so the cost is the file's size plus the named variables'
 * size, whatever the compression ratio.  Cells, structs, sparse and character arrays are checked
 * as elements only.  v7.3 (HDF5) and v4 files are not checked here: they are left to libmatio
 * and HDF5.  Pure apart from reading the FILE it is given; constant memory.
 */
#include "data/data.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#ifdef JB_HAVE_MATIO
#include <zlib.h>
#endif

enum {
    MI_INT8 = 1,
    MI_UINT8 = 2,
    MI_INT16 = 3,
    MI_UINT16 = 4,
    MI_INT32 = 5,
    MI_UINT32 = 6,
    MI_SINGLE = 7,
    MI_DOUBLE = 9,
    MI_INT64 = 12,
    MI_UINT64 = 13,
    MI_MATRIX = 14,
    MI_COMPRESSED = 15,
};

#define MAT5_HEAD 4096 /* bytes of a matrix element kept for its header */

struct m5 {
    FILE *f;
    const char *path;
    const char *const *vars; /* checked to their last byte; NULL-terminated */
    int swap;                /* 1: big-endian file */
    uint64_t size;           /* of the file */
    uint64_t el_at;          /* offset of the top-level element being checked */
    uint8_t head[MAT5_HEAD]; /* the first bytes of its matrix element, tag included */
    size_t head_len;
    uint64_t el_len; /* the matrix element's length, its tag included */
    char name[64];   /* the matrix's name */
    char *err;
    size_t errlen;
};

static int fail(struct m5 *m, const char *fmt, const char *what)
{
    char msg[160];
    snprintf(msg, sizeof(msg), fmt, what);
    snprintf(m->err, m->errlen,
             "'%s': damaged or cut short MAT-file: %s (element at byte %llu of %llu)", m->path, msg,
             (unsigned long long)m->el_at, (unsigned long long)m->size);
    return -1;
}

static uint32_t u32(const struct m5 *m, const uint8_t *p)
{
    if (m->swap)
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static size_t type_size(uint32_t t)
{
    switch (t) {
    case MI_INT8:
    case MI_UINT8: return 1;
    case MI_INT16:
    case MI_UINT16: return 2;
    case MI_INT32:
    case MI_UINT32:
    case MI_SINGLE: return 4;
    case MI_DOUBLE:
    case MI_INT64:
    case MI_UINT64: return 8;
    default: return 0;
    }
}

/* A sub-element's tag at head[*off]: its type, byte count and data offset; *off moves past it
 * (padded to 8).  The small format packs up to 4 bytes of data into the tag itself. */
static int sub_tag(struct m5 *m, size_t *off, uint32_t *type, uint64_t *n, size_t *data_off,
                   const char *what)
{
    uint32_t t;

    if (*off + 8 > m->head_len)
        return fail(m, "a matrix's %s is missing", what);
    t = u32(m, m->head + *off);
    if (t >> 16) {
        *type = t & 0xFFFF;
        *n = t >> 16;
        if (*n > 4)
            return fail(m, "a small %s element of more than 4 bytes", what);
        *data_off = *off + 4;
        *off += 8;
        return 0;
    }
    *type = t;
    *n = u32(m, m->head + *off + 4);
    *data_off = *off + 8;
    *off += 8 + (size_t)((*n + 7) & ~(uint64_t)7);
    return 0;
}

/* The matrix header in head: name, and for a numeric class every value present. */
static int check_matrix(struct m5 *m)
{
    size_t off = 8, data_off;
    uint32_t type, flags, cls;
    uint64_t n, count = 1;
    int complex;

    m->name[0] = '\0';
    if (m->head_len < 8 || u32(m, m->head) != MI_MATRIX)
        return fail(m, "%s", "a compressed element that is not a matrix");
    if (sub_tag(m, &off, &type, &n, &data_off, "flags") < 0)
        return -1;
    if (type != MI_UINT32 || n != 8 || data_off + 8 > m->head_len)
        return fail(m, "%s", "bad array flags");
    flags = u32(m, m->head + data_off);
    cls = flags & 0xFF;
    complex = (flags >> 11) & 1;
    if (sub_tag(m, &off, &type, &n, &data_off, "dimensions") < 0)
        return -1;
    if (type != MI_INT32 || n % 4 || n < 8 || data_off + n > m->head_len)
        return fail(m, "%s", "bad dimensions");
    for (uint64_t i = 0; i < n / 4; i++) {
        uint32_t d = u32(m, m->head + data_off + 4 * i);
        if (d > 0x7FFFFFFF || (d && count > UINT64_MAX / d))
            return fail(m, "%s", "impossible dimensions");
        count *= d;
    }
    if (sub_tag(m, &off, &type, &n, &data_off, "name") < 0)
        return -1;
    if (type != MI_INT8 || n >= sizeof(m->name) || data_off + n > m->head_len)
        return fail(m, "%s", "bad variable name");
    memcpy(m->name, m->head + data_off, (size_t)n);
    m->name[n] = '\0';
    if (cls < 6 || cls > 15)
        return 0; /* cell, struct, object, char, sparse: not checked further */
    for (int part = 0; part < 1 + complex; part++) {
        const char *what = part ? "imaginary part" : "real part";
        size_t size;
        if (sub_tag(m, &off, &type, &n, &data_off, what) < 0)
            return -1;
        size = type_size(type);
        if (!size || count > UINT64_MAX / size || n != count * size)
            return fail(m, "a variable's %s does not hold one value per element", what);
        if ((uint64_t)data_off + n > m->el_len)
            return fail(m, "a variable's %s runs past its element", what);
    }
    return 0;
}

#ifdef JB_HAVE_MATIO
static int wanted(const struct m5 *m)
{
    for (const char *const *v = m->vars; v && *v; v++)
        if (!strcmp(*v, m->name))
            return 1;
    return 0;
}

/* Inflates the compressed element of len bytes at the file's position: its header into head,
 * then (for a wanted variable) on to its declared end, which must be there. */
static int inflate_element(struct m5 *m, uint64_t len)
{
    z_stream z;
    uint8_t in[16384], out[16384];
    uint64_t total = 0, left = len;
    int zr = Z_OK, rc = -1, checked = 0;

    memset(&z, 0, sizeof(z));
    if (inflateInit(&z) != Z_OK)
        return fail(m, "%s", "zlib cannot start");
    m->head_len = 0;
    m->el_len = 0;
    for (;;) {
        if (!checked && (m->head_len == MAT5_HEAD || zr == Z_STREAM_END)) {
            if (m->head_len >= 8)
                m->el_len = 8 + (uint64_t)u32(m, m->head + 4);
            if (check_matrix(m) < 0)
                goto out;
            checked = 1;
            if (!wanted(m))
                break;
        }
        if (checked && total >= m->el_len)
            break;
        if (zr == Z_STREAM_END) {
            fail(m, "%s", "a compressed matrix inflates to less than it declares");
            goto out;
        }
        if (z.avail_in == 0) {
            size_t want = left < sizeof(in) ? (size_t)left : sizeof(in);
            if (want == 0 || fread(in, 1, want, m->f) != want) {
                fail(m, "%s", "a compressed variable ends early");
                goto out;
            }
            left -= want;
            z.next_in = in;
            z.avail_in = (uInt)want;
        }
        z.next_out = out;
        z.avail_out = sizeof(out);
        zr = inflate(&z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END) {
            fail(m, "%s", "a compressed variable does not inflate");
            goto out;
        }
        {
            size_t got = sizeof(out) - z.avail_out, keep = MAT5_HEAD - m->head_len;
            if (keep > got)
                keep = got;
            memcpy(m->head + m->head_len, out, keep);
            m->head_len += keep;
            total += got;
        }
    }
    rc = 0;
out:
    inflateEnd(&z);
    return rc;
}
#endif

/* A top-level element of len bytes at m->el_at (its tag read: the file is past it). */
static int check_element(struct m5 *m, uint32_t type, uint64_t len)
{
    if (type == MI_COMPRESSED) {
#ifdef JB_HAVE_MATIO
        return inflate_element(m, len);
#else
        return 0;
#endif
    }
    if (type == MI_MATRIX) {
        size_t want = len + 8 < MAT5_HEAD ? (size_t)len + 8 : MAT5_HEAD;
        if (fseeko(m->f, (off_t)m->el_at, SEEK_SET) < 0 || fread(m->head, 1, want, m->f) != want)
            return fail(m, "%s", "cannot read the element");
        m->head_len = want;
        m->el_len = len + 8;
        return check_matrix(m);
    }
    return 0;
}

int data_mat5_check(FILE *f, const char *path, const char *const *vars, char *err, size_t errlen)
{
    struct m5 m;
    uint8_t hdr[128];
    uint64_t off = 128;
    off_t end_of_file;

    memset(&m, 0, sizeof(m));
    m.f = f;
    m.path = path;
    m.vars = vars;
    m.err = err;
    m.errlen = errlen;
    if (fseeko(f, 0, SEEK_END) < 0 || (end_of_file = ftello(f)) < 0) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    m.size = (uint64_t)end_of_file;
    if (m.size < 128 || fseeko(f, 0, SEEK_SET) < 0 || fread(hdr, 1, 128, f) != 128)
        return 0; /* not a Level 5 file: libmatio decides */
    if (hdr[126] == 'I' && hdr[127] == 'M')
        m.swap = 0;
    else if (hdr[126] == 'M' && hdr[127] == 'I')
        m.swap = 1;
    else
        return 0;
    if ((m.swap ? hdr[124] << 8 | hdr[125] : hdr[125] << 8 | hdr[124]) != 0x0100)
        return 0; /* v7.3 (HDF5): not checked here */
    while (off < m.size) {
        uint8_t tag[8];
        uint32_t type;
        uint64_t n, end;

        m.el_at = off;
        if (m.size - off < 8 || fseeko(f, (off_t)off, SEEK_SET) < 0 || fread(tag, 1, 8, f) != 8)
            return fail(&m, "%s", "an element's tag is cut short");
        type = u32(&m, tag);
        n = u32(&m, tag + 4);
        if (type >> 16) { /* a small element: 8 bytes in all */
            off += 8;
            continue;
        }
        if (n > m.size - off - 8)
            return fail(&m, "%s", "an element declares more bytes than the file has");
        if (check_element(&m, type, n) < 0)
            return -1;
        /* Plain elements are padded to 8 bytes (perhaps not the last); compressed ones not. */
        end = off + 8 + (type == MI_COMPRESSED ? n : (n + 7) & ~(uint64_t)7);
        off = end < m.size ? end : m.size;
    }
    return 0;
}
