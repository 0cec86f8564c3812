/*
 * meterspec.c - see meterspec.h.  Token syntax follows jb_meter_set_add(): comma-separated
 * (jb__list_next).
 */
#include "run/meterspec.h"

#include "list.h"
#include "util/strbuf.h"

#include <string.h>

static int token_is(const char *p, size_t len, const char *word)
{
    return strlen(word) == len && !strncmp(p, word, len);
}

/* "gpu" followed by digits only. */
static int is_gpu_token(const char *p, size_t len)
{
    if (len < 3 || strncmp(p, "gpu", 3))
        return 0;
    for (size_t i = 3; i < len; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

char *meterspec_for_gpu(const char *spec, int gpu, int *dropped)
{
    struct strbuf sb = STRBUF_INIT;
    const char *p = spec;
    int have_gpu = 0, n = 0;

    while (p && *p) {
        const char *item = p; /* not trimmed: the item is item[0..len), looked at in place */
        size_t len = jb__list_next(&p, NULL, 0, 0);
        if (token_is(item, len, "auto") || is_gpu_token(item, len)) {
            if (!have_gpu) {
                sb_printf(&sb, "%sgpu%d", n++ ? "," : "", gpu);
                have_gpu = 1;
            }
        } else if (token_is(item, len, "sim") || (len > 4 && !strncmp(item, "sim:", 4))) {
            sb_puts(&sb, n++ ? "," : "");
            sb_append(&sb, item, len);
        } else if (len) {
            *dropped = 1;
        }
    }
    if (sb_failed(&sb) || !n) {
        sb_free(&sb);
        return NULL;
    }
    return sb.buf;
}
