/*
 * npy.c - the .npy writer (streaming) and reader; see npy.h.
 */
#include "data/npy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* numpy.lib.format: ARRAY_ALIGN and GROWTH_AXIS_MAX_DIGITS. */
#define NPY_ALIGN 64
#define NPY_GROWTH_DIGITS 21

size_t npy_header(char *buf, size_t cap, const char *descr, const uint64_t *shape, int ndim)
{
    char dict[NPY_MAX_HEADER], dims[NPY_MAX_DIMS * 24 + 8], first[24];
    size_t dlen = 0, hlen, pad, total;
    int n;

    if (ndim < 0 || ndim > NPY_MAX_DIMS)
        return 0;
    /* Python's repr of a tuple: "(5,)" for one element, "(5, 32, 32, 3)" otherwise. */
    dims[dlen++] = '(';
    for (int i = 0; i < ndim; i++) {
        n = snprintf(dims + dlen, sizeof(dims) - dlen, "%s%" PRIu64, i ? ", " : "", shape[i]);
        dlen += (size_t)n;
    }
    n = snprintf(dims + dlen, sizeof(dims) - dlen, "%s", ndim == 1 ? ",)" : ")"); /* 0: "()" */
    dlen += (size_t)n;
    n = snprintf(dict, sizeof(dict), "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                 descr, dims);
    if (n < 0 || (size_t)n >= sizeof(dict))
        return 0;
    dlen = (size_t)n;
    /* numpy leaves room for the first axis to grow to 21 digits without rewriting the file
     * (a scalar has no axis and gets none). */
    n = ndim ? snprintf(first, sizeof(first), "%" PRIu64, shape[0]) : NPY_GROWTH_DIGITS;
    if (n < NPY_GROWTH_DIGITS) {
        size_t grow = (size_t)(NPY_GROWTH_DIGITS - n);
        if (dlen + grow >= sizeof(dict))
            return 0;
        memset(dict + dlen, ' ', grow);
        dlen += grow;
    }
    /* magic (6) + version (2) + header length (2) + dict + padding + '\n', a multiple of 64;
     * as numpy does, a header already aligned gets a whole 64 bytes of padding. */
    hlen = dlen + 1;
    pad = NPY_ALIGN - ((10 + hlen) % NPY_ALIGN);
    total = 10 + hlen + pad;
    if (total > cap || hlen + pad > 65535)
        return 0;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)((hlen + pad) & 0xff);
    buf[9] = (char)((hlen + pad) >> 8);
    memcpy(buf + 10, dict, dlen);
    memset(buf + 10 + dlen, ' ', pad);
    buf[total - 1] = '\n';
    return total;
}

static int fail_errno(char *err, size_t errlen, const char *what, const char *path)
{
    int e = errno;
    snprintf(err, errlen, "cannot %s '%s': %s", what, path, strerror(e));
    errno = e;
    return -1;
}

int npy_writer_open(struct npy_writer *w, const char *path, const char *descr, size_t item_bytes,
                    const uint64_t *shape, int ndim, char *err, size_t errlen)
{
    char header[NPY_MAX_HEADER];
    size_t hbytes;
    uint64_t items = 1;

    memset(w, 0, sizeof(*w));
    if (snprintf(w->path, sizeof(w->path), "%s", path) >= (int)sizeof(w->path)) {
        errno = ENAMETOOLONG;
        return fail_errno(err, errlen, "create", path);
    }
    snprintf(w->tmp, sizeof(w->tmp), "%s.tmp.%ld", path, (long)getpid());
    hbytes = npy_header(header, sizeof(header), descr, shape, ndim);
    if (!hbytes) {
        snprintf(err, errlen, "cannot write '%s': array header does not fit", path);
        return -1;
    }
    for (int i = 0; i < ndim; i++) {
        if (shape[i] && items > UINT64_MAX / shape[i]) {
            snprintf(err, errlen, "cannot write '%s': array too large", path);
            return -1;
        }
        items *= shape[i];
    }
    if (items > UINT64_MAX / item_bytes) {
        snprintf(err, errlen, "cannot write '%s': array too large", path);
        return -1;
    }
    w->data_bytes_expected = items * item_bytes;
    w->f = fopen(w->tmp, "wbx");
    if (!w->f && errno == EEXIST) { /* left over by a killed run with our pid: ours to replace */
        unlink(w->tmp);
        w->f = fopen(w->tmp, "wbx");
    }
    if (!w->f) {
        fail_errno(err, errlen, "create", w->tmp);
        w->tmp[0] = '\0';
        return -1;
    }
    sha256_init(&w->hash);
    if (fwrite(header, 1, hbytes, w->f) != hbytes) {
        fail_errno(err, errlen, "write", w->tmp);
        npy_writer_abort(w);
        return -1;
    }
    sha256_update(&w->hash, header, hbytes);
    return 0;
}

int npy_writer_write(struct npy_writer *w, const void *data, size_t len, char *err, size_t errlen)
{
    if (!w->f || w->finished) {
        snprintf(err, errlen, "cannot write '%s': not open", w->path);
        return -1;
    }
    if (len > w->data_bytes_expected - w->data_bytes_written) {
        snprintf(err, errlen, "cannot write '%s': more data than its shape holds", w->path);
        return -1;
    }
    if (fwrite(data, 1, len, w->f) != len)
        return fail_errno(err, errlen, "write", w->tmp);
    sha256_update(&w->hash, data, len);
    w->data_bytes_written += len;
    return 0;
}

int npy_writer_finish(struct npy_writer *w, char *err, size_t errlen)
{
    int rc;

    if (!w->f || w->finished) {
        snprintf(err, errlen, "cannot finish '%s': not open", w->path);
        return -1;
    }
    if (w->data_bytes_written != w->data_bytes_expected) {
        snprintf(err, errlen,
                 "cannot finish '%s': %" PRIu64 " data bytes written, its shape holds %" PRIu64,
                 w->path, w->data_bytes_written, w->data_bytes_expected);
        return -1;
    }
    if (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0)
        return fail_errno(err, errlen, "write", w->tmp);
    rc = fclose(w->f);
    w->f = NULL;
    if (rc != 0) {
        fail_errno(err, errlen, "close", w->tmp);
        unlink(w->tmp);
        w->tmp[0] = '\0';
        return -1;
    }
    w->finished = 1;
    sha256_final_hex(&w->hash, w->sha256);
    return 0;
}

int npy_writer_commit(struct npy_writer *w, char *err, size_t errlen)
{
    if (!w->finished || !w->tmp[0]) {
        snprintf(err, errlen, "cannot commit '%s': not finished", w->path);
        return -1;
    }
    if (rename(w->tmp, w->path) != 0)
        return fail_errno(err, errlen, "rename into", w->path);
    w->tmp[0] = '\0';
    return 0;
}

void npy_writer_abort(struct npy_writer *w)
{
    if (w->f) {
        fclose(w->f);
        w->f = NULL;
    }
    if (w->tmp[0]) {
        unlink(w->tmp);
        w->tmp[0] = '\0';
    }
}

/* ---- reading ------------------------------------------------------------------------------ */

static void skip_space(const char **p, const char *end)
{
    while (*p < end && (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r'))
        (*p)++;
}

/* A quoted Python string literal without escapes; 0 and the content in out, or -1. */
static int dict_string(const char **p, const char *end, char *out, size_t cap)
{
    char q;
    size_t n = 0;

    if (*p >= end || (**p != '\'' && **p != '"'))
        return -1;
    q = *(*p)++;
    while (*p < end && **p != q) {
        if (**p == '\\' || n + 1 >= cap)
            return -1;
        out[n++] = *(*p)++;
    }
    if (*p >= end)
        return -1;
    (*p)++;
    out[n] = '\0';
    return 0;
}

/* A shape tuple "()", "(5,)", "(5, 32, 32, 3)" (a trailing comma allowed). */
static int dict_shape(const char **p, const char *end, struct npy_info *info)
{
    if (*p >= end || **p != '(')
        return -1;
    (*p)++;
    info->ndim = 0;
    for (;;) {
        uint64_t v = 0;
        int digits = 0;

        skip_space(p, end);
        if (*p < end && **p == ')') {
            (*p)++;
            return 0;
        }
        while (*p < end && **p >= '0' && **p <= '9') {
            unsigned d = (unsigned)(**p - '0');
            if (v > (UINT64_MAX - d) / 10)
                return -1;
            v = v * 10 + d;
            (*p)++;
            digits++;
        }
        if (!digits || info->ndim == NPY_MAX_DIMS)
            return -1;
        info->shape[info->ndim++] = v;
        skip_space(p, end);
        if (*p < end && **p == ',') {
            (*p)++;
            continue;
        }
        if (*p < end && **p == ')') {
            (*p)++;
            return 0;
        }
        return -1;
    }
}

static int parse_descr(struct npy_info *info, char *err, size_t errlen)
{
    const char *d = info->descr;
    char *end = NULL;
    long size;

    if ((d[0] != '<' && d[0] != '|' && d[0] != '=') || !d[1] || !strchr("uifb", d[1])) {
        snprintf(err, errlen,
                 "dtype '%s' is not supported (plain little-endian integers, floats or booleans)",
                 d);
        return -1;
    }
    errno = 0;
    size = strtol(d + 2, &end, 10);
    if (errno || end == d + 2 || *end || (size != 1 && size != 2 && size != 4 && size != 8) ||
        (d[1] == 'b' && size != 1) || (d[1] == 'f' && size == 1)) {
        snprintf(err, errlen, "dtype '%s' is not supported", d);
        return -1;
    }
    info->kind = d[1];
    info->item_bytes = (size_t)size;
    return 0;
}

int npy_parse(const void *buf, size_t len, struct npy_info *info, char *err, size_t errlen)
{
    const unsigned char *b = buf;
    const char *p, *end;
    size_t hlen, pre;
    int have_descr = 0, have_order = 0, have_shape = 0, fortran = 0;
    uint64_t items = 1, data_bytes;

    memset(info, 0, sizeof(*info));
    if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0) {
        snprintf(err, errlen, "not a .npy file (no \\x93NUMPY magic)");
        return -1;
    }
    if (b[6] == 1) {
        pre = 10;
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
    } else if ((b[6] == 2 || b[6] == 3) && len >= 12) {
        pre = 12;
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    } else {
        snprintf(err, errlen, ".npy format version %u.%u is not supported (1.0 to 3.0)", b[6],
                 b[7]);
        return -1;
    }
    if (hlen > len - pre || hlen > 1u << 20) {
        snprintf(err, errlen, "truncated .npy header (%zu bytes announced)", hlen);
        return -1;
    }
    p = (const char *)b + pre;
    end = p + hlen;
    skip_space(&p, end);
    if (p >= end || *p != '{')
        goto bad;
    p++;
    for (;;) {
        char key[32];

        skip_space(&p, end);
        if (p < end && *p == '}')
            break;
        if (dict_string(&p, end, key, sizeof(key)) < 0)
            goto bad;
        skip_space(&p, end);
        if (p >= end || *p != ':')
            goto bad;
        p++;
        skip_space(&p, end);
        if (!strcmp(key, "descr")) {
            if (dict_string(&p, end, info->descr, sizeof(info->descr)) < 0) {
                snprintf(err, errlen,
                         "dtype is not a plain type string (structured arrays are "
                         "not supported)");
                return -1;
            }
            have_descr = 1;
        } else if (!strcmp(key, "fortran_order")) {
            if ((size_t)(end - p) >= 4 && !memcmp(p, "True", 4)) {
                fortran = 1;
                p += 4;
            } else if ((size_t)(end - p) >= 5 && !memcmp(p, "False", 5)) {
                p += 5;
            } else {
                goto bad;
            }
            have_order = 1;
        } else if (!strcmp(key, "shape")) {
            if (dict_shape(&p, end, info) < 0)
                goto bad;
            have_shape = 1;
        } else {
            goto bad;
        }
        skip_space(&p, end);
        if (p < end && *p == ',')
            p++;
    }
    if (!have_descr || !have_order || !have_shape)
        goto bad;
    if (fortran) {
        snprintf(err, errlen, "Fortran-order arrays are not supported (save a C-order array)");
        return -1;
    }
    if (parse_descr(info, err, errlen) < 0)
        return -1;
    for (int i = 0; i < info->ndim; i++) {
        if (info->shape[i] && items > UINT64_MAX / info->shape[i])
            goto toobig;
        items *= info->shape[i];
    }
    if (items > UINT64_MAX / info->item_bytes)
        goto toobig;
    data_bytes = items * info->item_bytes;
    info->items = items;
    info->data_offset = pre + hlen;
    if (data_bytes != len - info->data_offset) {
        snprintf(err, errlen, "holds %zu data bytes, its header (%s, %d dimensions) needs %llu",
                 len - info->data_offset, info->descr, info->ndim, (unsigned long long)data_bytes);
        return -1;
    }
    return 0;
bad:
    snprintf(err, errlen, "malformed .npy header");
    return -1;
toobig:
    snprintf(err, errlen, "array too large");
    return -1;
}

int npy_read_file(const char *path, uint64_t max_bytes, struct npy_file *f, char *err,
                  size_t errlen)
{
    struct sha256 s;
    struct stat st;
    size_t n = 0;
    FILE *fp;
    int e;

    memset(f, 0, sizeof(*f));
    fp = fopen(path, "rb");
    if (!fp)
        return fail_errno(err, errlen, "open", path);
    if (fstat(fileno(fp), &st) != 0) {
        fail_errno(err, errlen, "read", path);
        fclose(fp);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        fclose(fp);
        snprintf(err, errlen, "cannot read '%s': not a regular file", path);
        return -1;
    }
    if ((uint64_t)st.st_size > max_bytes || (uint64_t)st.st_size > SIZE_MAX - 1) {
        fclose(fp);
        snprintf(err, errlen, "cannot read '%s': %lld bytes, more than the %llu this reader takes",
                 path, (long long)st.st_size, (unsigned long long)max_bytes);
        return -1;
    }
    f->bytes = malloc((size_t)st.st_size + 1);
    if (!f->bytes) {
        fclose(fp);
        errno = ENOMEM;
        return fail_errno(err, errlen, "read", path);
    }
    sha256_init(&s);
    /* Read in pieces, hashing each while it is in the cache. */
    while (n < (size_t)st.st_size) {
        size_t want = (size_t)st.st_size - n, got;
        if (want > (1u << 22))
            want = 1u << 22;
        got = fread(f->bytes + n, 1, want, fp);
        if (got == 0)
            break;
        sha256_update(&s, f->bytes + n, got);
        n += got;
    }
    e = ferror(fp) ? (errno ? errno : EIO) : 0;
    if (!e && fgetc(fp) != EOF)
        e = EAGAIN; /* the file grew while it was read */
    fclose(fp);
    if (e || n != (size_t)st.st_size) {
        npy_file_free(f);
        if (e == EAGAIN || !e)
            snprintf(err, errlen, "cannot read '%s': it changed size while being read", path);
        else
            snprintf(err, errlen, "cannot read '%s': %s", path, strerror(e));
        return -1;
    }
    f->len = n;
    sha256_final_hex(&s, f->sha256);
    return 0;
}

int npy_file_parse(struct npy_file *f, const char *path, char *err, size_t errlen)
{
    char why[256];

    if (npy_parse(f->bytes, f->len, &f->info, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "'%s': %s", path, why);
        return -1;
    }
    f->data = f->bytes + f->info.data_offset;
    return 0;
}

void npy_file_free(struct npy_file *f)
{
    free(f->bytes);
    memset(f, 0, sizeof(*f));
}
