/*
 * json.h - a small JSON parser into a tree (internal: src/json is its own small library, built
 * into libjoulebench for the phase protocol and included by the tool, which reads manifest.json
 * and report.json with it, without src/lib's private headers on its include path).  Not a writer: see
 * src/util/jsonw.h.  Numbers are doubles, read by RFC 8259's grammar strictly (01, +1, .5, 1.,
 * NaN and values beyond a double's range are errors); strings are NUL-terminated, valid UTF-8 (\u
 * escapes decoded; an unpaired surrogate, \u0000 and each invalid sequence of raw bytes become
 * U+FFFD).  Parsing is linear in the input (arrays and objects grow geometrically).
 */
#ifndef JB_SRC_JSON_JSON_H
#define JB_SRC_JSON_JSON_H

#include <stddef.h>

enum jb_json_type {
    JB_JSON_NULL,
    JB_JSON_BOOL,
    JB_JSON_NUMBER,
    JB_JSON_STRING,
    JB_JSON_ARRAY,
    JB_JSON_OBJECT,
};

struct jb_json {
    enum jb_json_type type;
    int boolean;
    double number;
    char *string;           /* JB_JSON_STRING */
    size_t n;               /* items in an array or object */
    size_t cap;             /* room in items (and keys) */
    struct jb_json **items; /* array items, or object values */
    char **keys;            /* object keys (parallel to items) */
};

/* Parses text[0..len).  Returns 0 and *out, or -1 with a message ("at byte N: ...") in err. The
 * nesting depth is limited to 64. */
int jb__json_parse(const char *text, size_t len, struct jb_json **out, char *err, size_t errlen);
void jb__json_free(struct jb_json *j);
/* Member of an object by key; NULL when absent or j is not an object. */
const struct jb_json *jb__json_get(const struct jb_json *j, const char *key);
/* Convenience: the member's string / number, or def when absent or of another type. */
const char *jb__json_str(const struct jb_json *j, const char *key, const char *def);
double jb__json_num(const struct jb_json *j, const char *key, double def);

/* The length of the UTF-8 sequence at s[0..n) (n >= 1) and whether it is valid (RFC 3629: no
 * overlong forms, no surrogates, nothing beyond U+10FFFF).  An invalid one's length is the bytes
 * that could still have begun a valid sequence (at least 1), so that each such run is replaced by
 * one U+FFFD: the parser's rule on the way in and the tool's JSON writer's (util/jsonw.c) on the
 * way out. */
size_t jb__json_utf8_next(const unsigned char *s, size_t n, int *valid);

#endif
