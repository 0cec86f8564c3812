/*
 * client.c - the workload's side of the phase protocol in C: turns calls into one JSON line each
 * and writes it on $JOULEBENCH_FD at once.  The same lines as python/joulebench/client.py
 * (DESIGN.md section 3); the contract is in include/joulebench.h.  Not a parser (protocol.c is)
 * and not a measurer: it takes the time of each mark, the caller synchronises its device first.
 *
 * A line is built in a fixed buffer: its size is bounded by the argument limits (32 values of at
 * most 63-byte names; strings are cut at JB__CLIENT_MAX_STRING bytes), so no call allocates.
 */
#include "meter.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JB__CLIENT_ENV "JOULEBENCH_FD"
#define JB__CLIENT_MAX_PHASE 31
#define JB__CLIENT_MAX_NAME 63
#define JB__CLIENT_MAX_VALUES 32
/* Longer string values are cut (at a character boundary) so that a line stays bounded; the
 * runner keeps 127 bytes of a text value anyway. */
#define JB__CLIENT_MAX_STRING 1024
#define JB__CLIENT_INDEX_MAX 2147483647L
/* Worst case: every string byte escaped as \uXXXX (6 bytes), names too, plus punctuation. */
#define JB__CLIENT_LINE_BYTES                                                                      \
    (256 + 6 * JB__CLIENT_MAX_PHASE +                                                              \
     JB__CLIENT_MAX_VALUES * (16 + 6 * JB__CLIENT_MAX_NAME + 6 * JB__CLIENT_MAX_STRING + 32))

struct jb_client {
    int fd;
    int enabled;
    pthread_mutex_t lock;
    char errmsg[256];
    char line[JB__CLIENT_LINE_BYTES];
};

struct jb__line {
    char *buf;
    size_t cap, len;
};

struct jb_value jb_value_null(const char *name)
{
    struct jb_value v = {.name = name, .type = JB_VALUE_NULL};
    return v;
}

struct jb_value jb_value_bool(const char *name, int b)
{
    struct jb_value v = {.name = name, .type = JB_VALUE_BOOL, .boolean = b != 0};
    return v;
}

struct jb_value jb_value_int(const char *name, long long i)
{
    struct jb_value v = {.name = name, .type = JB_VALUE_INT, .integer = i};
    return v;
}

struct jb_value jb_value_num(const char *name, double d)
{
    struct jb_value v = {.name = name, .type = JB_VALUE_NUMBER, .number = d};
    return v;
}

struct jb_value jb_value_str(const char *name, const char *s)
{
    struct jb_value v = {.name = name, .type = JB_VALUE_STRING, .string = s};
    return v;
}

__attribute__((format(printf, 2, 3))) static int client_fail(struct jb_client *c, const char *fmt,
                                                             ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
    va_end(ap);
    return JB_EINVAL;
}

static int client_new(struct jb_client **out, int fd)
{
    struct jb_client *c = calloc(1, sizeof(*c));

    *out = NULL;
    if (!c)
        return JB_ENOMEM;
    c->fd = fd;
    c->enabled = fd >= 0;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return JB_ENOMEM;
    }
    *out = c;
    return JB_OK;
}

int jb_client_from_fd(struct jb_client **out, int fd)
{
    return client_new(out, fd < 0 ? -1 : fd);
}

int jb_client_from_env(struct jb_client **out)
{
    const char *raw = getenv(JB__CLIENT_ENV);
    const char *p = raw;
    char *end = NULL;
    struct stat st;
    long fd;
    int rc;

    while (p && (*p == ' ' || *p == '\t'))
        p++;
    if (!p || !*p)
        return client_new(out, -1);
    errno = 0;
    fd = strtol(p, &end, 10);
    while (end && (*end == ' ' || *end == '\t' || *end == '\n'))
        end++;
    if ((rc = client_new(out, -1)) != JB_OK)
        return rc;
    if (errno || end == p || *end || fd < 0 || fd > INT_MAX)
        return client_fail(*out, "%s='%.40s' is not a file descriptor number; phase marks disabled",
                           JB__CLIENT_ENV, raw);
    if (fstat((int)fd, &st) != 0)
        return client_fail(*out, "%s=%ld: %s; phase marks disabled", JB__CLIENT_ENV, fd,
                           strerror(errno));
    (*out)->fd = (int)fd;
    (*out)->enabled = 1;
    return JB_OK;
}

void jb_client_free(struct jb_client *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int jb_client_enabled(const struct jb_client *c)
{
    return c && c->enabled;
}

const char *jb_client_errmsg(const struct jb_client *c)
{
    return c ? c->errmsg : "";
}

/* ---- building a line ------------------------------------------------------------------- */

static void put(struct jb__line *l, const char *s, size_t n)
{
    if (n > l->cap - l->len)
        n = l->cap - l->len; /* cannot happen within the limits; never overrun */
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void puts_(struct jb__line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* Length of the UTF-8 sequence at s (of at most n bytes) and its code point; 0 when invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
    size_t len;
    unsigned long v, min;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2, v = s[0] & 0x1f, min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, v = s[0] & 0x0f, min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4, v = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* A JSON string in ASCII, as Python's json.dumps(ensure_ascii=True) writes it.  At most max_bytes
 * of s are written (cut at a character boundary). */
static void put_string(struct jb__line *l, const char *s, size_t max_bytes)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;
    char esc[48];

    if (n > max_bytes) { /* cut at a character boundary */
        n = max_bytes;
        while (n > 0 && (p[n] & 0xc0) == 0x80)
            n--;
    }
    put(l, "\"", 1);
    while (i < n) {
        unsigned long cp;
        size_t len = utf8_decode(p + i, n - i, &cp);

        if (len == 0) { /* an invalid byte: U+FFFD, and go on with the next byte */
            cp = 0xfffd;
            len = 1;
        }
        i += len;
        switch (cp) {
        case '"': puts_(l, "\\\""); continue;
        case '\\': puts_(l, "\\\\"); continue;
        case '\n': puts_(l, "\\n"); continue;
        case '\r': puts_(l, "\\r"); continue;
        case '\t': puts_(l, "\\t"); continue;
        case '\b': puts_(l, "\\b"); continue;
        case '\f': puts_(l, "\\f"); continue;
        default: break;
        }
        if (cp < 0x20 || (cp >= 0x80 && cp < 0x10000)) {
            snprintf(esc, sizeof(esc), "\\u%04lx", cp);
            puts_(l, esc);
        } else if (cp >= 0x10000) {
            unsigned long v = cp - 0x10000;
            snprintf(esc, sizeof(esc), "\\u%04lx\\u%04lx", 0xd800 + (v >> 10),
                     0xdc00 + (v & 0x3ff));
            puts_(l, esc);
        } else {
            char c = (char)cp;
            put(l, &c, 1);
        }
    }
    put(l, "\"", 1);
}

/* The shortest of %.15g, %.16g, %.17g that reads back to d; null when not finite. */
static void put_number(struct jb__line *l, double d)
{
    char buf[40];

    if (!isfinite(d)) {
        puts_(l, "null");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    puts_(l, buf);
}

static void put_int(struct jb__line *l, long long v)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%lld", v);
    puts_(l, buf);
}

/* ---- argument checks (the same rules as the Python client) ------------------------------ */

static int check_phase(struct jb_client *c, const char *phase)
{
    size_t n = phase ? strlen(phase) : 0;

    if (n == 0 || n > JB__CLIENT_MAX_PHASE)
        return client_fail(c, "phase name '%.40s' must be 1 to %d bytes", phase ? phase : "(null)",
                           JB__CLIENT_MAX_PHASE);
    return JB_OK;
}

static int check_index(struct jb_client *c, long index)
{
    if (index != JB_NO_INDEX && (index < -JB__CLIENT_INDEX_MAX || index > JB__CLIENT_INDEX_MAX))
        return client_fail(c, "phase index %ld out of range", index);
    return JB_OK;
}

static int check_values(struct jb_client *c, const struct jb_value *values, size_t n)
{
    if (n == 0 || !values)
        return client_fail(c, "no values given");
    if (n > JB__CLIENT_MAX_VALUES)
        return client_fail(c, "%zu values given; at most %d per line", n, JB__CLIENT_MAX_VALUES);
    for (size_t i = 0; i < n; i++) {
        const char *name = values[i].name;
        size_t len = name ? strlen(name) : 0;

        if (len == 0 || len > JB__CLIENT_MAX_NAME)
            return client_fail(c, "value name '%.70s' must be 1 to %d bytes",
                               name ? name : "(null)", JB__CLIENT_MAX_NAME);
        if (values[i].type < JB_VALUE_NULL || values[i].type > JB_VALUE_STRING)
            return client_fail(c, "value '%s': unknown type %d", name, (int)values[i].type);
        /* n <= 32: the quadratic check is bounded. */
        for (size_t j = 0; j < i; j++)
            if (!strcmp(values[j].name, name))
                return client_fail(c, "value name '%s' given twice", name);
    }
    return JB_OK;
}

static void put_values(struct jb__line *l, const struct jb_value *values, size_t n)
{
    puts_(l, "\"values\":{");
    for (size_t i = 0; i < n; i++) {
        const struct jb_value *v = &values[i];

        if (i)
            put(l, ",", 1);
        put_string(l, v->name, JB__CLIENT_MAX_NAME);
        put(l, ":", 1);
        switch (v->type) {
        case JB_VALUE_BOOL: puts_(l, v->boolean ? "true" : "false"); break;
        case JB_VALUE_INT: put_int(l, v->integer); break;
        case JB_VALUE_NUMBER: put_number(l, v->number); break;
        case JB_VALUE_STRING:
            if (v->string)
                put_string(l, v->string, JB__CLIENT_MAX_STRING);
            else
                puts_(l, "null");
            break;
        case JB_VALUE_NULL:
        default: puts_(l, "null"); break;
        }
    }
    put(l, "}", 1);
}

/* ---- writing ----------------------------------------------------------------------------- */

/* write(2) of the whole buffer with SIGPIPE held back in this thread: a runner that has gone
 * gives EPIPE here instead of killing the workload.  A SIGPIPE raised by this write is taken off
 * the pending set again; one that was already pending stays pending. */
static int write_all(int fd, const char *buf, size_t len)
{
    sigset_t pipe_set, old, pending;
    int was_pending, rc = 0, e = 0;

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigemptyset(&pending);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigpending(&pending);
    was_pending = sigismember(&pending, SIGPIPE) == 1;
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
            rc = -1;
            break;
        }
        buf += n;
        len -= (size_t)n;
    }
    if (rc < 0 && e == EPIPE && !was_pending) {
        const struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return rc;
}

/* Writes the line under the lock; a failure disables the client for good. */
static int emit(struct jb_client *c, struct jb__line *l)
{
    int rc = JB_OK;

    put(l, "\n", 1);
    if (write_all(c->fd, l->buf, l->len) < 0) {
        int e = errno;
        c->enabled = 0;
        snprintf(c->errmsg, sizeof(c->errmsg),
                 "cannot write phase marks to fd %d: %s; phase marks disabled for the rest of this "
                 "run",
                 c->fd, e == EPIPE ? "the runner has gone" : strerror(e));
        rc = JB_EIO;
    }
    return rc;
}

static void line_start(struct jb_client *c, struct jb__line *l)
{
    l->buf = c->line;
    l->cap = sizeof(c->line);
    l->len = 0;
}

static void put_head(struct jb__line *l, const char *event, const char *phase, long index,
                     uint64_t t_ns)
{
    char buf[48];

    snprintf(buf, sizeof(buf), "{\"t\":%llu,\"event\":", (unsigned long long)t_ns);
    puts_(l, buf);
    put_string(l, event, 16);
    puts_(l, ",\"phase\":");
    put_string(l, phase, JB__CLIENT_MAX_PHASE);
    if (index != JB_NO_INDEX) {
        puts_(l, ",\"index\":");
        put_int(l, index);
    }
}

static int mark(struct jb_client *c, const char *event, const char *phase, long index,
                const double *items)
{
    struct jb__line l;
    int rc;

    if (!c)
        return JB_EINVAL;
    pthread_mutex_lock(&c->lock);
    c->errmsg[0] = '\0';
    if ((rc = check_phase(c, phase)) || (rc = check_index(c, index)))
        goto out;
    if (items && (!isfinite(*items) || *items < 0)) {
        rc = client_fail(c, "items must be a finite non-negative number, got %g", *items);
        goto out;
    }
    if (!c->enabled)
        goto out;
    line_start(c, &l);
    put_head(&l, event, phase, index, jb_now_ns());
    if (items) {
        puts_(&l, ",\"items\":");
        put_number(&l, *items);
    }
    put(&l, "}", 1);
    rc = emit(c, &l);
out:
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int jb_client_begin(struct jb_client *c, const char *phase, long index)
{
    return mark(c, "begin", phase, index, NULL);
}

int jb_client_end(struct jb_client *c, const char *phase, long index, const double *items)
{
    return mark(c, "end", phase, index, items);
}

int jb_client_metric(struct jb_client *c, const char *phase, long index,
                     const struct jb_value *values, size_t n)
{
    struct jb__line l;
    int rc;

    if (!c)
        return JB_EINVAL;
    pthread_mutex_lock(&c->lock);
    c->errmsg[0] = '\0';
    if ((rc = check_phase(c, phase)) || (rc = check_index(c, index)) ||
        (rc = check_values(c, values, n)) || !c->enabled)
        goto out;
    line_start(c, &l);
    put_head(&l, "metric", phase, index, jb_now_ns());
    put(&l, ",", 1);
    put_values(&l, values, n);
    put(&l, "}", 1);
    rc = emit(c, &l);
out:
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int jb_client_info(struct jb_client *c, const struct jb_value *values, size_t n)
{
    struct jb__line l;
    int rc;

    if (!c)
        return JB_EINVAL;
    pthread_mutex_lock(&c->lock);
    c->errmsg[0] = '\0';
    if ((rc = check_values(c, values, n)) || !c->enabled)
        goto out;
    line_start(c, &l);
    puts_(&l, "{\"event\":\"info\",");
    put_values(&l, values, n);
    put(&l, "}", 1);
    rc = emit(c, &l);
out:
    pthread_mutex_unlock(&c->lock);
    return rc;
}
