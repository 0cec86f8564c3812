/*
 * npy.c - streaming .npy writer; see npy.h.
 */
#include "data/npy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* numpy.lib.format: ARRAY_ALIGN and GROWTH_AXIS_MAX_DIGITS. */
#define NPY_ALIGN 64
#define NPY_GROWTH_DIGITS 21

size_t npy_header(char *buf, size_t cap, const char *descr, const uint64_t *shape, int ndim)
{
    char dict[NPY_MAX_HEADER], dims[NPY_MAX_DIMS * 24 + 8], first[24];
    size_t dlen = 0, hlen, pad, total;
    int n;

    if (ndim < 1 || ndim > NPY_MAX_DIMS)
        return 0;
    /* Python's repr of a tuple: "(5,)" for one element, "(5, 32, 32, 3)" otherwise. */
    dims[dlen++] = '(';
    for (int i = 0; i < ndim; i++) {
        n = snprintf(dims + dlen, sizeof(dims) - dlen, "%s%" PRIu64, i ? ", " : "", shape[i]);
        dlen += (size_t)n;
    }
    n = snprintf(dims + dlen, sizeof(dims) - dlen, "%s", ndim == 1 ? ",)" : ")");
    dlen += (size_t)n;
    n = snprintf(dict, sizeof(dict), "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                 descr, dims);
    if (n < 0 || (size_t)n >= sizeof(dict))
        return 0;
    dlen = (size_t)n;
    /* numpy leaves room for the first axis to grow to 21 digits without rewriting the file. */
    n = snprintf(first, sizeof(first), "%" PRIu64, shape[0]);
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
