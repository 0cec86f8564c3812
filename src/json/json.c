/*
 * json.c - recursive-descent JSON parser (RFC 8259) into a tree.  Written for small documents
 * (protocol lines, manifests); not streaming.  Depth is capped so hostile input cannot exhaust the
 * stack.  Strings come out as valid UTF-8 whatever came in (invalid bytes, lone surrogates and
 * \u0000 become U+FFFD), so what a workload sends can be written into JSON, CSV and HTML as is.
 */
#include "json.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

struct parser {
    const char *s;
    size_t len, pos;
    char *err;
    size_t errlen;
};

static int fail(struct parser *p, const char *what)
{
    if (p->err && p->errlen)
        snprintf(p->err, p->errlen, "at byte %zu: %s", p->pos + 1, what);
    return -1;
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

void jb__json_free(struct jb_json *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n; i++) {
        jb__json_free(j->items[i]);
        if (j->keys)
            free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->string);
    free(j);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads the four hex digits after "\\u" (p->pos at the first); errors point at the backslash. */
static int read_hex4(struct parser *p, unsigned *out)
{
    unsigned v = 0;

    if (p->pos + 4 > p->len) {
        p->pos -= 2;
        return fail(p, "truncated \\u escape");
    }
    for (int i = 0; i < 4; i++) {
        int h = hexval(p->s[p->pos + i]);
        if (h < 0) {
            p->pos -= 2;
            return fail(p, "bad \\u escape");
        }
        v = v * 16 + (unsigned)h;
    }
    p->pos += 4;
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* See json.h.  An invalid sequence's length is its "maximal subpart" (Unicode 15, section 3.9). */
size_t jb__json_utf8_next(const unsigned char *s, size_t n, int *valid)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len, i;

    *valid = 1;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        len = 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    for (i = 1; i < len; i++) {
        if (i >= n || s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xBF))
            break;
    }
    if (len && i == len)
        return len;
    *valid = 0;
    return i;
}

/* Parses a string at p->pos (which is at the opening quote); *out is malloc'ed, valid UTF-8: an
 * invalid sequence of raw bytes, an unpaired surrogate escape and \u0000 (which no C string
 * holds) each become U+FFFD. */
static int parse_string(struct parser *p, char **out)
{
    size_t start = ++p->pos, cap, o = 0;
    char *buf;

    /* Decoded, a string is at most 3 times as long: a bad byte becomes the 3 bytes of U+FFFD. */
    while (p->pos < p->len && p->s[p->pos] != '"') {
        if (p->s[p->pos] == '\\')
            p->pos++;
        p->pos++;
    }
    if (p->pos >= p->len) {
        p->pos = p->len; /* a trailing backslash stepped past the end */
        return fail(p, "unterminated string");
    }
    cap = 3 * (p->pos - start) + 1;
    buf = malloc(cap);
    if (!buf)
        return fail(p, "out of memory");
    p->pos = start;
    while (p->s[p->pos] != '"') {
        unsigned char c = (unsigned char)p->s[p->pos++];
        if (c < 0x20) {
            free(buf);
            p->pos--;
            return fail(p, "control character in string");
        }
        if (c >= 0x80) {
            int valid;
            size_t k = jb__json_utf8_next((const unsigned char *)p->s + p->pos - 1,
                                          p->len - p->pos + 1, &valid);
            if (valid) {
                memcpy(buf + o, p->s + p->pos - 1, k);
                o += k;
            } else {
                o += put_utf8(buf + o, 0xFFFD);
            }
            p->pos += k - 1;
            continue;
        }
        if (c != '\\') {
            buf[o++] = (char)c;
            continue;
        }
        c = (unsigned char)p->s[p->pos++];
        switch (c) {
        case '"': buf[o++] = '"'; break;
        case '\\': buf[o++] = '\\'; break;
        case '/': buf[o++] = '/'; break;
        case 'b': buf[o++] = '\b'; break;
        case 'f': buf[o++] = '\f'; break;
        case 'n': buf[o++] = '\n'; break;
        case 'r': buf[o++] = '\r'; break;
        case 't': buf[o++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (read_hex4(p, &cp) < 0) {
                free(buf);
                return -1;
            }
            /* A high surrogate takes the low one that follows; an unpaired surrogate has no
             * UTF-8 form and becomes U+FFFD, and the escape after it is decoded on its own. */
            if (cp >= 0xD800 && cp < 0xDC00) {
                size_t after = p->pos;
                unsigned lo = 0;
                if (p->pos + 6 <= p->len && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
                    p->pos += 2;
                    if (read_hex4(p, &lo) < 0) {
                        free(buf);
                        return -1;
                    }
                }
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else {
                    p->pos = after;
                    cp = 0xFFFD;
                }
            } else if ((cp >= 0xDC00 && cp < 0xE000) || cp == 0) {
                cp = 0xFFFD;
            }
            /* \uXXXX is 6 bytes in and at most 4 out; a pair is 12 in and 4 out. */
            o += put_utf8(buf + o, cp);
            break;
        }
        default:
            free(buf);
            p->pos -= 2;
            return fail(p, "bad escape in string");
        }
    }
    p->pos++;
    buf[o] = '\0';
    *out = buf;
    return 0;
}

static int parse_value(struct parser *p, struct jb_json **out, int depth);

/* Appends an item (and its key); the arrays double, so a container of n items costs O(n), not
 * the O(n^2) of growing by one (a realloc may copy: it always does under ASan). */
static int append(struct jb_json *j, struct jb_json *item, char *key)
{
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 4;
        struct jb_json **items = realloc(j->items, cap * sizeof(*items));
        if (!items)
            return -1;
        j->items = items;
        if (j->type == JB_JSON_OBJECT) {
            char **keys = realloc(j->keys, cap * sizeof(*keys));
            if (!keys)
                return -1;
            j->keys = keys;
        }
        j->cap = cap;
    }
    if (j->type == JB_JSON_OBJECT)
        j->keys[j->n] = key;
    j->items[j->n++] = item;
    return 0;
}

static int parse_container(struct parser *p, struct jb_json *j, int depth)
{
    char close = j->type == JB_JSON_OBJECT ? '}' : ']';

    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        struct jb_json *item = NULL;

        skip_ws(p);
        if (j->type == JB_JSON_OBJECT) {
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return fail(p, "expected a string key");
            if (parse_string(p, &key) < 0)
                return -1;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                free(key);
                return fail(p, "expected ':'");
            }
            p->pos++;
        }
        if (parse_value(p, &item, depth + 1) < 0) {
            free(key);
            return -1;
        }
        if (append(j, item, key) < 0) {
            free(key);
            jb__json_free(item);
            return fail(p, "out of memory");
        }
        skip_ws(p);
        if (p->pos >= p->len)
            return fail(p, "unterminated container");
        if (p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->s[p->pos] == close) {
            p->pos++;
            return 0;
        }
        return fail(p, j->type == JB_JSON_OBJECT ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int digit_at(const struct parser *p, size_t i)
{
    return i < p->len && p->s[i] >= '0' && p->s[i] <= '9';
}

/* The number grammar of RFC 8259, strictly: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.  So
 * 01, +1, .5, 1., 1e, hex, NaN and Infinity are refused, as is a number directly followed by a
 * letter, digit, '.', '+' or '-' ("1.2.3", "0x10").  Values beyond a double's range are refused;
 * ones below it become 0. */
static int parse_number(struct parser *p, struct jb_json *j)
{
    size_t start = p->pos, i = p->pos;
    char buf[128];
    char *end = NULL;

    if (i < p->len && p->s[i] == '-')
        i++;
    if (!digit_at(p, i))
        return fail(p, i == start ? "expected a value" : "bad number");
    if (p->s[i++] != '0')
        while (digit_at(p, i))
            i++;
    if (i < p->len && p->s[i] == '.') {
        if (!digit_at(p, ++i))
            return fail(p, "bad number");
        while (digit_at(p, i))
            i++;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        if (!digit_at(p, i))
            return fail(p, "bad number");
        while (digit_at(p, i))
            i++;
    }
    if (i < p->len && (isalnum((unsigned char)p->s[i]) || (p->s[i] && strchr(".+-", p->s[i]))))
        return fail(p, "bad number");
    if (i - start >= sizeof(buf))
        return fail(p, "bad number (too long)");
    memcpy(buf, p->s + start, i - start);
    buf[i - start] = '\0';
    errno = 0;
    j->number = strtod(buf, &end);
    if (*end || !isfinite(j->number))
        return fail(p, "bad number (out of range)");
    p->pos = i;
    return 0;
}

static int match(struct parser *p, const char *word)
{
    size_t n = strlen(word);

    if (p->pos + n > p->len || memcmp(p->s + p->pos, word, n))
        return 0;
    p->pos += n;
    return 1;
}

static int parse_value(struct parser *p, struct jb_json **out, int depth)
{
    struct jb_json *j;
    int rc = 0;

    skip_ws(p);
    if (p->pos >= p->len)
        return fail(p, "unexpected end of input");
    /* depth counts the containers around this value: MAX_DEPTH levels of nesting are allowed. */
    if ((p->s[p->pos] == '{' || p->s[p->pos] == '[') && depth >= MAX_DEPTH)
        return fail(p, "nested too deeply");
    j = calloc(1, sizeof(*j));
    if (!j)
        return fail(p, "out of memory");
    switch (p->s[p->pos]) {
    case '{':
        j->type = JB_JSON_OBJECT;
        rc = parse_container(p, j, depth);
        break;
    case '[':
        j->type = JB_JSON_ARRAY;
        rc = parse_container(p, j, depth);
        break;
    case '"':
        j->type = JB_JSON_STRING;
        rc = parse_string(p, &j->string);
        break;
    case 't':
    case 'f':
    case 'n':
        if (match(p, "true")) {
            j->type = JB_JSON_BOOL;
            j->boolean = 1;
        } else if (match(p, "false")) {
            j->type = JB_JSON_BOOL;
        } else if (match(p, "null")) {
            j->type = JB_JSON_NULL;
        } else {
            rc = fail(p, "unexpected word");
        }
        break;
    default:
        j->type = JB_JSON_NUMBER;
        rc = parse_number(p, j);
        break;
    }
    if (rc < 0) {
        jb__json_free(j);
        return -1;
    }
    *out = j;
    return 0;
}

int jb__json_parse(const char *text, size_t len, struct jb_json **out, char *err, size_t errlen)
{
    struct parser p = {text, len, 0, err, errlen};
    struct jb_json *j = NULL;

    *out = NULL;
    if (parse_value(&p, &j, 0) < 0)
        return -1;
    skip_ws(&p);
    if (p.pos != p.len) {
        jb__json_free(j);
        return fail(&p, "trailing characters after the value");
    }
    *out = j;
    return 0;
}

const struct jb_json *jb__json_get(const struct jb_json *j, const char *key)
{
    if (!j || j->type != JB_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < j->n; i++)
        if (!strcmp(j->keys[i], key))
            return j->items[i];
    return NULL;
}

const char *jb__json_str(const struct jb_json *j, const char *key, const char *def)
{
    const struct jb_json *v = jb__json_get(j, key);
    return v && v->type == JB_JSON_STRING ? v->string : def;
}

double jb__json_num(const struct jb_json *j, const char *key, double def)
{
    const struct jb_json *v = jb__json_get(j, key);
    return v && v->type == JB_JSON_NUMBER ? v->number : def;
}
