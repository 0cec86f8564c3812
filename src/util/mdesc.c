/*
 * mdesc.c - Markdown escaping of data text; see mdesc.h.
 */
#include "util/mdesc.h"

#include <string.h>

void md_escape_cell(struct strbuf *sb, const char *s)
{
    /* CommonMark lets a backslash escape any ASCII punctuation; these are the ones that can
     * mean something inside a table cell: a column, inline HTML, an entity, code, emphasis,
     * strike-through, a link or an image. */
    static const char special[] = "\\`*_[]<>|~&!";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) {
            sb_putc(sb, ' ');
            continue;
        }
        if (strchr(special, (char)c))
            sb_putc(sb, '\\');
        sb_putc(sb, (char)c);
    }
}
