/*
 * list.c - see list.h.
 */
#include "list.h"

#include <string.h>

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

size_t jb__list_next(const char **p, char *tok, size_t n, unsigned flags)
{
    const char *s = *p, *end = strchr(s, ',');
    size_t len = end ? (size_t)(end - s) : strlen(s);

    *p = end ? end + 1 : NULL;
    if (flags & JB_LIST_TRIM) {
        while (len && is_blank(*s)) {
            s++;
            len--;
        }
        while (len && is_blank(s[len - 1]))
            len--;
    }
    if (n) {
        size_t k = len < n ? len : n - 1;
        memcpy(tok, s, k);
        tok[k] = '\0';
    }
    return len;
}
