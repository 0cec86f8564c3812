/*
 * provenance.c - report.json's "provenance" (see report.h): where the report's numbers come
 * from, so that a report read on its own says which GPUs, drivers, frameworks and joulebench
 * versions measured them, on which hosts and when, and which meters were simulated.  It reads
 * each run's manifest.json (docs/run-directory.md) for the keys rundir_read does not keep, and
 * ignores a manifest it cannot read (rundir_read has already judged the run).  Not a statistics
 * module and not a reader of the CSV files.
 */
#include "analysis/report.h"

#include "json.h"
#include "util/fsutil.h"
#include "util/jsonw.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef JB_VERSION
#define JB_VERSION "unknown"
#endif

#define SET_MAX 32
#define MANIFEST_MAX_BYTES (16u << 20)

struct strset {
    char *v[SET_MAX];
    size_t n, more; /* more: distinct values beyond SET_MAX */
};

static void set_add(struct strset *s, const char *v)
{
    if (!v || !*v)
        return;
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], v))
            return;
    if (s->n == SET_MAX) {
        s->more++;
        return;
    }
    s->v[s->n] = strdup(v);
    if (s->v[s->n])
        s->n++;
}

static void set_free(struct strset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    s->n = 0;
}

static void set_json(struct jsonw *w, const char *key, const struct strset *s)
{
    jw_key(w, key);
    jw_array_begin(w);
    for (size_t i = 0; i < s->n; i++)
        jw_string(w, s->v[i]);
    if (s->more) {
        char buf[64];
        snprintf(buf, sizeof(buf), "... and %zu more", s->more);
        jw_string(w, buf);
    }
    jw_array_end(w);
}

static void utc_now(char *buf, size_t n)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    time_t t = time(NULL);
    struct tm tm;

    /* reproducible reports: the date of the sources, as reproducible builds do */
    if (sde && *sde) {
        char *end;
        long long v = strtoll(sde, &end, 10);
        if (*end == '\0' && v >= 0)
            t = (time_t)v;
    }
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void report_json_provenance(struct jsonw *w, const struct report_input *in)
{
    struct strset hosts = {0}, gpus = {0}, drivers = {0}, fw = {0}, sw = {0}, jbv = {0}, sims = {0};
    char first[64] = "", last[64] = "", now[64], host[256];
    size_t unread = 0;

    for (size_t r = 0; r < in->nruns; r++) {
        char path[PATH_MAX], msg[128];
        char *text = NULL;
        size_t len = 0;
        struct jb_json *j = NULL;
        const struct jb_json *meters, *info;
        const char *s;

        if (snprintf(path, sizeof(path), "%s/manifest.json", in->runs[r].dir) >=
                (int)sizeof(path) ||
            fs_read_file(path, &text, &len, msg, sizeof(msg)) < 0 || len > MANIFEST_MAX_BYTES ||
            jb__json_parse(text, len, &j, msg, sizeof(msg)) < 0) {
            free(text);
            unread++;
            continue;
        }
        free(text);
        set_add(&hosts, jb__json_str(jb__json_get(j, "host"), "hostname", NULL));
        set_add(&jbv, jb__json_str(j, "joulebench_version", NULL));
        s = jb__json_str(j, "start_utc", NULL);
        if (s && *s && (!first[0] || strcmp(s, first) < 0))
            snprintf(first, sizeof(first), "%s", s);
        s = jb__json_str(j, "end_utc", NULL);
        if (s && *s && strcmp(s, last) > 0)
            snprintf(last, sizeof(last), "%s", s);
        meters = jb__json_get(j, "meters");
        for (size_t m = 0; meters && meters->type == JB_JSON_ARRAY && m < meters->n; m++) {
            const struct jb_json *mt = meters->items[m];
            const struct jb_json *sim = jb__json_get(mt, "simulated");
            const char *kind = jb__json_str(mt, "kind", "");
            if ((sim && sim->type == JB_JSON_BOOL && sim->boolean) || !strcmp(kind, "sim"))
                set_add(&sims, jb__json_str(mt, "name", jb__json_str(mt, "id", NULL)));
            else if (!strcmp(kind, "gpu"))
                set_add(&gpus, jb__json_str(mt, "name", NULL));
            set_add(&drivers, jb__json_str(mt, "driver", NULL));
        }
        info = jb__json_get(j, "info");
        if (info && info->type == JB_JSON_OBJECT) {
            const char *f = jb__json_str(info, "framework", NULL);
            const char *v = jb__json_str(info, "framework_version", NULL);
            if (f && *f) {
                char pair[256];
                snprintf(pair, sizeof(pair), "%s%s%s", f, v && *v ? " " : "", v && *v ? v : "");
                set_add(&fw, pair);
            }
            for (size_t k = 0; k < info->n; k++) {
                const char *key = info->keys[k];
                size_t kl = strlen(key);
                char kv[256];
                if (info->items[k]->type != JB_JSON_STRING || !strcmp(key, "framework_version") ||
                    kl < 9 || strcmp(key + kl - 8, "_version"))
                    continue;
                snprintf(kv, sizeof(kv), "%s=%s", key, info->items[k]->string);
                set_add(&sw, kv);
            }
        }
        jb__json_free(j);
    }

    utc_now(now, sizeof(now));
    if (gethostname(host, sizeof(host)) < 0)
        snprintf(host, sizeof(host), "unknown");
    host[sizeof(host) - 1] = '\0';
    jw_key(w, "provenance");
    jw_object_begin(w);
    jw_kv_string(w, "joulebench_version", JB_VERSION);
    jw_kv_string(w, "written_utc", now);
    jw_kv_string(w, "written_on_host", host);
    set_json(w, "hosts", &hosts);
    set_json(w, "gpus", &gpus);
    set_json(w, "drivers", &drivers);
    set_json(w, "frameworks", &fw);
    set_json(w, "software", &sw);
    set_json(w, "simulated_meters", &sims);
    set_json(w, "run_joulebench_versions", &jbv);
    jw_key(w, "first_start_utc");
    if (first[0])
        jw_string(w, first);
    else
        jw_null(w);
    jw_key(w, "last_end_utc");
    if (last[0])
        jw_string(w, last);
    else
        jw_null(w);
    if (unread)
        jw_kv_int(w, "manifests_not_read", (long long)unread);
    jw_object_end(w);
    set_free(&hosts);
    set_free(&gpus);
    set_free(&drivers);
    set_free(&fw);
    set_free(&sw);
    set_free(&jbv);
    set_free(&sims);
}
