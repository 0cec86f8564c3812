/*
 * jsonw.h - a JSON writer onto a strbuf, tracking commas and nesting so callers cannot produce
 * invalid JSON.  NaN and infinities are written as null (JSON has no such numbers).  Strings are
 * written as UTF-8 with the JSON escapes; bytes that are not valid UTF-8 (from a workload, a file
 * name, a path) are written as U+FFFD, one per maximal invalid subsequence (Unicode's
 * recommended practice), so the document is valid JSON whatever the strings held.
 */
#ifndef JB_SRC_UTIL_JSONW_H
#define JB_SRC_UTIL_JSONW_H

#include "util/strbuf.h"

#include <stdint.h>

#define JSONW_MAX_DEPTH 32

struct jsonw {
    struct strbuf *sb;
    int depth;
    int count[JSONW_MAX_DEPTH]; /* items written at each level */
    int after_key;
    int pretty;
};

void jw_init(struct jsonw *w, struct strbuf *sb, int pretty);
void jw_object_begin(struct jsonw *w);
void jw_object_end(struct jsonw *w);
void jw_array_begin(struct jsonw *w);
void jw_array_end(struct jsonw *w);
void jw_key(struct jsonw *w, const char *key);
void jw_string(struct jsonw *w, const char *s);
void jw_number(struct jsonw *w, double v);
void jw_int(struct jsonw *w, long long v);
void jw_bool(struct jsonw *w, int v);
void jw_null(struct jsonw *w);
/* key + value shorthands */
void jw_kv_string(struct jsonw *w, const char *key, const char *s);
void jw_kv_number(struct jsonw *w, const char *key, double v);
void jw_kv_int(struct jsonw *w, const char *key, long long v);
void jw_kv_bool(struct jsonw *w, const char *key, int v);

#endif
