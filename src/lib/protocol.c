/*
 * protocol.c - parser of the phase protocol (DESIGN.md section 3): one JSON object per line from
 * the workload, e.g. {"t":123,"event":"begin","phase":"epoch","index":1}.  It validates each field
 * and names the offending one; it does not read file descriptors or keep line numbers (the caller
 * does, so that a malformed line is reported and skipped, never stopping a measurement).  Every
 * string it gives is valid UTF-8 (json.c replaces what is not; a text value cut to fit is cut
 * between characters).
 */
#include "json.h"
#include "meter.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int bad(char *err, size_t errlen, const char *fmt, const char *arg)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, arg);
    return JB_EPARSE;
}

/* Copies UTF-8 text into dst[size], cut (when it must be) before the character that does not fit
 * whole: a cut through a character would make the text invalid UTF-8. */
static void copy_text(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);

    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* A JSON number that is an integer in [min, max]. */
static int get_integer(const struct jb_json *v, double min, double max, double *out)
{
    if (!v || v->type != JB_JSON_NUMBER || v->number != floor(v->number) || v->number < min ||
        v->number > max)
        return -1;
    *out = v->number;
    return 0;
}

static int parse_values(const struct jb_json *vals, struct jb_event *ev, char *err, size_t errlen)
{
    if (vals->type != JB_JSON_OBJECT)
        return bad(err, errlen, "field '%s' must be an object", "values");
    for (size_t i = 0; i < vals->n; i++) {
        const struct jb_json *v = vals->items[i];
        struct jb_event_value *out;

        if (ev->n_values == JB_EVENT_MAX_VALUES)
            return bad(err, errlen, "field 'values' has more than %s entries", "32");
        if (strlen(vals->keys[i]) >= sizeof(out->name) || !vals->keys[i][0])
            return bad(err, errlen, "field 'values': name '%.64s' is empty or too long",
                       vals->keys[i]);
        out = &ev->values[ev->n_values];
        memset(out, 0, sizeof(*out));
        jb__strlcpy(out->name, vals->keys[i], sizeof(out->name));
        switch (v->type) {
        case JB_JSON_NUMBER:
            out->is_number = 1;
            out->number = v->number;
            break;
        case JB_JSON_STRING: copy_text(out->text, v->string, sizeof(out->text)); break;
        case JB_JSON_BOOL:
            jb__strlcpy(out->text, v->boolean ? "true" : "false", sizeof(out->text));
            break;
        case JB_JSON_NULL:
            out->is_number = 1;
            out->number = NAN;
            break;
        default:
            return bad(err, errlen, "field 'values.%.64s' must be a number or a string",
                       vals->keys[i]);
        }
        ev->n_values++;
    }
    return 0;
}

int jb_event_parse(const char *line, size_t len, struct jb_event *ev, char *err, size_t errlen)
{
    struct jb_json *j = NULL;
    const struct jb_json *v;
    char jerr[128];
    const char *type;
    double num;
    int rc = JB_EPARSE;

    memset(ev, 0, sizeof(*ev));
    if (err && errlen)
        err[0] = '\0';
    if (jb__json_parse(line, len, &j, jerr, sizeof(jerr)) < 0)
        return bad(err, errlen, "not a JSON object: %s", jerr);
    if (j->type != JB_JSON_OBJECT) {
        bad(err, errlen, "not a JSON object%s", "");
        goto out;
    }
    type = jb__json_str(j, "event", NULL);
    if (!type) {
        bad(err, errlen, "field '%s' missing or not a string", "event");
        goto out;
    }
    if (!strcmp(type, "begin")) {
        ev->type = JB_EVENT_BEGIN;
    } else if (!strcmp(type, "end")) {
        ev->type = JB_EVENT_END;
    } else if (!strcmp(type, "metric")) {
        ev->type = JB_EVENT_METRIC;
    } else if (!strcmp(type, "info")) {
        ev->type = JB_EVENT_INFO;
    } else {
        bad(err, errlen, "field 'event': unknown event '%.40s' (begin, end, metric or info)", type);
        goto out;
    }
    if ((v = jb__json_get(j, "t"))) {
        /* 2^53: beyond it a double no longer holds every nanosecond. */
        if (get_integer(v, 0, 9007199254740992.0, &num) < 0) {
            bad(err, errlen, "field '%s' must be a non-negative integer (CLOCK_MONOTONIC ns)", "t");
            goto out;
        }
        ev->t_mono_ns = (uint64_t)num;
        ev->valid |= JB_EVENT_T;
    }
    if (ev->type != JB_EVENT_INFO) {
        v = jb__json_get(j, "phase");
        if (!v || v->type != JB_JSON_STRING || !v->string[0]) {
            bad(err, errlen, "field '%s' missing or not a non-empty string", "phase");
            goto out;
        }
        if (strlen(v->string) >= sizeof(ev->phase)) {
            bad(err, errlen, "field 'phase': '%.40s...' is longer than 31 bytes", v->string);
            goto out;
        }
        jb__strlcpy(ev->phase, v->string, sizeof(ev->phase));
    }
    if ((v = jb__json_get(j, "index"))) {
        if (get_integer(v, -2147483647.0, 2147483647.0, &num) < 0) {
            bad(err, errlen, "field '%s' must be an integer", "index");
            goto out;
        }
        ev->index = (long)num;
        ev->valid |= JB_EVENT_INDEX;
    }
    if ((v = jb__json_get(j, "items"))) {
        if (v->type != JB_JSON_NUMBER || v->number < 0) {
            bad(err, errlen, "field '%s' must be a non-negative number", "items");
            goto out;
        }
        ev->items = v->number;
        ev->valid |= JB_EVENT_ITEMS;
    }
    if ((ev->type == JB_EVENT_BEGIN || ev->type == JB_EVENT_END) && !(ev->valid & JB_EVENT_T)) {
        bad(err, errlen, "field '%s' is required on begin and end events", "t");
        goto out;
    }
    if ((v = jb__json_get(j, "values"))) {
        if (parse_values(v, ev, err, errlen) < 0)
            goto out;
    } else if (ev->type == JB_EVENT_METRIC || ev->type == JB_EVENT_INFO) {
        bad(err, errlen, "field '%s' is required on metric and info events", "values");
        goto out;
    }
    rc = 0;
out:
    jb__json_free(j);
    return rc;
}
