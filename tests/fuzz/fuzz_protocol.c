/*
 * fuzz_protocol.c - libFuzzer target: jb_event_parse on arbitrary bytes must return 0 or
 * JB_EPARSE with a message, never crash or read past len; a parsed event keeps its limits (phase
 * under 32 bytes, at most 32 values with non-empty names, t and index given only when valid).
 * The input is copied to a buffer of exactly its size so that ASan sees any over-read.
 */
#include "joulebench.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size ? size : 1);
    struct jb_event ev;
    char err[256], tiny[1];
    int rc;

    if (!line)
        return 0;
    if (size)
        memcpy(line, data, size);
    rc = jb_event_parse(line, size, &ev, err, sizeof(err));
    if (rc != 0 && (rc != JB_EPARSE || !err[0]))
        __builtin_trap(); /* every failure is a parse error that says why */
    if (rc == 0) {
        if (strlen(ev.phase) >= sizeof(ev.phase) || ev.n_values > JB_EVENT_MAX_VALUES)
            __builtin_trap();
        if (ev.type < JB_EVENT_BEGIN || ev.type > JB_EVENT_INFO)
            __builtin_trap();
        if ((ev.type == JB_EVENT_BEGIN || ev.type == JB_EVENT_END) &&
            (!ev.phase[0] || !(ev.valid & JB_EVENT_T)))
            __builtin_trap();
        if ((ev.valid & JB_EVENT_ITEMS) && !(ev.items >= 0))
            __builtin_trap();
        for (size_t i = 0; i < ev.n_values; i++)
            if (!ev.values[i].name[0] || strlen(ev.values[i].text) >= sizeof(ev.values[i].text))
                __builtin_trap();
    }
    /* The same answer without room for a message, or with almost none. */
    if (jb_event_parse(line, size, &ev, NULL, 0) != rc ||
        jb_event_parse(line, size, &ev, tiny, sizeof(tiny)) != rc || tiny[0])
        __builtin_trap();
    free(line);
    return 0;
}
