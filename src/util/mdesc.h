/*
 * mdesc.h - text from the data (level names and values, which a grid or an import gives as any
 * UTF-8) made safe for summary.md, as html.c and the figures already make it safe for HTML and
 * SVG.  Not a Markdown renderer (html.c has the small subset it needs).
 */
#ifndef JB_SRC_UTIL_MDESC_H
#define JB_SRC_UTIL_MDESC_H

#include "util/strbuf.h"

/*
 * Appends s as the text of one cell of a Markdown (GFM) pipe table: every character that means
 * something inside a cell (\ ` * _ [ ] < > | ~ & !) is escaped with a backslash, which
 * CommonMark renders as the character itself, so '<script>' stays text and '|' does not start a
 * new column; control characters (a newline would end the row) become spaces.  html.c's
 * renderer of summary.md reads the same escapes.
 */
void md_escape_cell(struct strbuf *sb, const char *s);

#endif
