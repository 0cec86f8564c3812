/*
 * list.h - the one comma-list tokeniser, shared by the library (meter specifications,
 * CUDA_VISIBLE_DEVICES) and the tool (--only, --gpus, --fields, --levels, meter specifications
 * rewritten per GPU, Slurm).  Its own folder, as src/json, so that the tool uses it without
 * src/lib on its include path.  Pure; no allocation.
 */
#ifndef JB_LIST_H
#define JB_LIST_H

#include <stddef.h>

#define JB_LIST_TRIM 1u /* spaces and tabs around an item are not part of it */

/*
 * The next item of the comma-separated list at *p: copied into tok (n bytes, always
 * terminated when n > 0; only the first n - 1 bytes of a longer item), and *p moved past the
 * item and its comma, or set to NULL after the last item.  Returns the item's length (trimmed
 * under JB_LIST_TRIM): n or more means it did not fit.  Every comma ends an item, as Python's
 * str.split(","): "" is one empty item, "a,,b" has an empty item between a and b, and "a," an
 * empty last item.  Loops:
 *
 *     for (const char *p = s; p;) { len = jb__list_next(&p, tok, sizeof(tok), 0); ... }
 *     while (p && *p) { ... }       (the same, but a trailing comma and "" end the list)
 *
 * Under the first, an empty item is len 0 (and, when it is the last, p is then NULL).
 */
size_t jb__list_next(const char **p, char *tok, size_t n, unsigned flags);

#endif
