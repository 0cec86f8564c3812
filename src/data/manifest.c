/*
 * manifest.c - the data_set writer shared by the importers and the synthetic generator: four
 * .npy files built under temporary names, the split routing, and manifest.json, written last so
 * that a directory with a manifest always holds the files it describes.  See data.h.
 */
#include "data/data.h"

#include "joulebench.h"
#include "json.h"
#include "util/fsutil.h"
#include "util/jsonw.h"
#include "util/strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const part_names[2] = {"train", "test"};

const char *const data_file_names[DATA_N_FILES] = {"train_x.npy", "train_y.npy", "test_x.npy",
                                                   "test_y.npy"};

const char *data_split_name(enum data_split split)
{
    return split == DATA_SPLIT_OFFICIAL ? "official" : "seed-2023";
}

int data_split_parse(const char *s, enum data_split *out)
{
    if (!strcmp(s, "seed-2023"))
        *out = DATA_SPLIT_SEED2023;
    else if (!strcmp(s, "official"))
        *out = DATA_SPLIT_OFFICIAL;
    else
        return -1;
    return 0;
}

void data_split_sizes(enum data_split split, uint64_t n_official_train, uint64_t n_official_test,
                      uint64_t *n_train, uint64_t *n_test)
{
    if (split == DATA_SPLIT_OFFICIAL) {
        *n_train = n_official_train;
        *n_test = n_official_test;
        return;
    }
    *n_test = n_official_train / 10 + (n_official_train % 10 != 0);
    *n_train = n_official_train - *n_test;
}

int data_name_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n >= DATA_MAX_NAME || name[0] == '.' || name[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int file_path(char *buf, size_t cap, const char *dir, const char *part, const char *xy,
                     char *err, size_t errlen)
{
    if (snprintf(buf, cap, "%s/%s_%s.npy", dir, part, xy) >= (int)cap) {
        snprintf(err, errlen, "cannot create files in '%s': path too long", dir);
        return -1;
    }
    return 0;
}

int data_set_open(struct data_set *ds, const char *root, const char *name, enum data_split split,
                  uint64_t n_train, uint64_t n_test, int classes, char *err, size_t errlen)
{
    char path[PATH_MAX];

    memset(ds, 0, sizeof(*ds));
    if (!root || !*root) {
        snprintf(err, errlen, "no data root directory given");
        return -1;
    }
    if (!data_name_valid(name)) {
        snprintf(err, errlen,
                 "invalid data set name '%s' (use 1 to 63 letters, digits, '.', '_' or '-')", name);
        return -1;
    }
    if (classes < 1 || classes > DATA_MAX_CLASSES) {
        snprintf(err, errlen, "invalid number of classes %d (1 to %d)", classes, DATA_MAX_CLASSES);
        return -1;
    }
    snprintf(ds->name, sizeof(ds->name), "%s", name);
    if (snprintf(ds->dir, sizeof(ds->dir), "%s/%s", root, name) >= (int)sizeof(ds->dir)) {
        snprintf(err, errlen, "cannot create '%s/%s': path too long", root, name);
        return -1;
    }
    if (fs_mkdir_p(ds->dir, err, errlen) < 0)
        return -1;
    ds->split = split;
    ds->classes = classes;
    ds->n[DATA_TRAIN] = n_train;
    ds->n[DATA_TEST] = n_test;
    for (int p = 0; p < 2; p++) {
        uint64_t xshape[4] = {ds->n[p], DATA_H, DATA_W, DATA_C};
        uint64_t yshape[1] = {ds->n[p]};

        if (file_path(path, sizeof(path), ds->dir, part_names[p], "x", err, errlen) < 0 ||
            npy_writer_open(&ds->x[p], path, "|u1", 1, xshape, 4, err, errlen) < 0)
            goto fail;
        if (file_path(path, sizeof(path), ds->dir, part_names[p], "y", err, errlen) < 0 ||
            npy_writer_open(&ds->y[p], path, "<i8", 8, yshape, 1, err, errlen) < 0)
            goto fail;
    }
    return 0;
fail:
    data_set_abort(ds);
    return -1;
}

int data_source_hash(struct data_source *s, const char *path, char *err, size_t errlen)
{
    const char *base = strrchr(path, '/');

    snprintf(s->file, sizeof(s->file), "%s", base ? base + 1 : path);
    return sha256_file_hex(path, s->sha256, &s->size_bytes, err, errlen);
}

int data_set_add_source(struct data_set *ds, const char *path, char *err, size_t errlen)
{
    if (ds->n_sources >= DATA_MAX_SOURCES) {
        snprintf(err, errlen, "too many source files");
        return -1;
    }
    if (data_source_hash(&ds->sources[ds->n_sources], path, err, errlen) < 0)
        return -1;
    ds->n_sources++;
    return 0;
}

int data_set_add(struct data_set *ds, enum data_part part, const uint8_t *hwc, int64_t label,
                 char *err, size_t errlen)
{
    unsigned char le[8];
    uint64_t u = (uint64_t)label;

    if (label < 0 || label >= ds->classes) {
        snprintf(err, errlen, "label %lld out of range 0..%d", (long long)label, ds->classes - 1);
        return -1;
    }
    if (ds->added[part] >= ds->n[part]) {
        snprintf(err, errlen, "more %s images than announced (%llu)", part_names[part],
                 (unsigned long long)ds->n[part]);
        return -1;
    }
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(u >> (8 * i));
    if (npy_writer_write(&ds->x[part], hwc, DATA_IMAGE_BYTES, err, errlen) < 0 ||
        npy_writer_write(&ds->y[part], le, sizeof(le), err, errlen) < 0)
        return -1;
    ds->added[part]++;
    return 0;
}

int data_set_add_official_train(struct data_set *ds, const uint8_t *hwc, int64_t label, char *err,
                                size_t errlen)
{
    enum data_part part = ds->official_train_seen < ds->n[DATA_TRAIN] ? DATA_TRAIN : DATA_TEST;

    if (data_set_add(ds, part, hwc, label, err, errlen) < 0)
        return -1;
    ds->official_train_seen++;
    return 0;
}

static void manifest_json(const struct data_set *ds, struct strbuf *sb)
{
    struct jsonw w;

    jw_init(&w, sb, 1);
    jw_object_begin(&w);
    jw_kv_string(&w, "name", ds->name);
    jw_kv_string(&w, "format", "joulebench-data/1");
    if (ds->synthetic) {
        jw_kv_string(&w, "source", "synthetic");
        jw_kv_string(&w, "generator", DATA_SYNTH_GENERATOR);
        /* The tool keeps seeds below 2^53, so every JSON reader gets them exactly. */
        jw_kv_int(&w, "seed", (long long)ds->seed);
    } else {
        jw_key(&w, "source");
        jw_array_begin(&w);
        for (int i = 0; i < ds->n_sources; i++) {
            jw_object_begin(&w);
            jw_kv_string(&w, "file", ds->sources[i].file);
            jw_kv_string(&w, "sha256", ds->sources[i].sha256);
            jw_kv_int(&w, "size_bytes", (long long)ds->sources[i].size_bytes);
            jw_object_end(&w);
        }
        jw_array_end(&w);
    }
    jw_kv_string(&w, "split", ds->synthetic ? "synthetic" : data_split_name(ds->split));
    jw_kv_int(&w, "classes", ds->classes);
    jw_kv_int(&w, "train", (long long)ds->n[DATA_TRAIN]);
    jw_kv_int(&w, "test", (long long)ds->n[DATA_TEST]);
    jw_key(&w, "shape");
    jw_array_begin(&w);
    jw_int(&w, DATA_H);
    jw_int(&w, DATA_W);
    jw_int(&w, DATA_C);
    jw_array_end(&w);
    jw_kv_string(&w, "x_dtype", "uint8");
    jw_kv_string(&w, "y_dtype", "int64");
    jw_key(&w, "files");
    jw_object_begin(&w);
    for (int p = 0; p < 2; p++) {
        char key[32];
        snprintf(key, sizeof(key), "%s_x.npy", part_names[p]);
        jw_kv_string(&w, key, ds->x[p].sha256);
        snprintf(key, sizeof(key), "%s_y.npy", part_names[p]);
        jw_kv_string(&w, key, ds->y[p].sha256);
    }
    jw_object_end(&w);
    jw_kv_string(&w, "joulebench_version", jb_version());
    jw_object_end(&w);
    sb_putc(sb, '\n');
}

int data_set_commit(struct data_set *ds, char *err, size_t errlen)
{
    struct strbuf sb = STRBUF_INIT;
    char path[PATH_MAX];
    int rc = -1;

    for (int p = 0; p < 2; p++) {
        if (ds->added[p] != ds->n[p]) {
            snprintf(err, errlen, "internal error: %llu of %llu %s images written",
                     (unsigned long long)ds->added[p], (unsigned long long)ds->n[p], part_names[p]);
            return -1;
        }
        if (npy_writer_finish(&ds->x[p], err, errlen) < 0 ||
            npy_writer_finish(&ds->y[p], err, errlen) < 0)
            return -1;
    }
    manifest_json(ds, &sb);
    if (sb_failed(&sb)) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (snprintf(path, sizeof(path), "%s/manifest.json", ds->dir) >= (int)sizeof(path)) {
        snprintf(err, errlen, "cannot write into '%s': path too long", ds->dir);
        goto out;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        int e = errno;
        snprintf(err, errlen, "cannot remove the old '%s': %s", path, strerror(e));
        goto out;
    }
    for (int p = 0; p < 2; p++)
        if (npy_writer_commit(&ds->x[p], err, errlen) < 0 ||
            npy_writer_commit(&ds->y[p], err, errlen) < 0)
            goto out;
    fs_sync_dir(ds->dir);
    if (fs_write_atomic(path, sb_str(&sb), sb.len, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    sb_free(&sb);
    return rc;
}

void data_set_abort(struct data_set *ds)
{
    for (int p = 0; p < 2; p++) {
        npy_writer_abort(&ds->x[p]);
        npy_writer_abort(&ds->y[p]);
    }
}

/* ---- reading ------------------------------------------------------------------------------ */

#define MANIFEST_MAX_BYTES (1u << 20)

int data_manifest_read(const char *path, struct data_manifest *m, char *err, size_t errlen)
{
    struct jb_json *j = NULL;
    const struct jb_json *files, *nc;
    char jerr[160];
    char *text = NULL;
    size_t len = 0;
    int rc = -1;

    memset(m, 0, sizeof(*m));
    {
        FILE *f = fopen(path, "rb");
        if (!f) {
            int e = errno;
            if (e == ENOENT)
                snprintf(err, errlen,
                         "cannot open '%s': no such file (the data set is incomplete: make it "
                         "again with 'joulebench data')",
                         path);
            else
                snprintf(err, errlen, "cannot open '%s': %s", path, strerror(e));
            return -1;
        }
        text = malloc(MANIFEST_MAX_BYTES + 1);
        if (text)
            len = fread(text, 1, MANIFEST_MAX_BYTES + 1, f);
        fclose(f);
        if (!text) {
            snprintf(err, errlen, "cannot read '%s': out of memory", path);
            return -1;
        }
        if (len > MANIFEST_MAX_BYTES) {
            snprintf(err, errlen, "cannot read '%s': larger than 1 MiB", path);
            goto out;
        }
    }
    if (jb__json_parse(text, len, &j, jerr, sizeof(jerr)) < 0) {
        snprintf(err, errlen, "cannot read '%s': %s", path, jerr);
        goto out;
    }
    files = jb__json_get(j, "files");
    if (!files || files->type != JB_JSON_OBJECT) {
        snprintf(err, errlen,
                 "'%s': field 'files' missing or not an object (expected {\"files\": "
                 "{\"train_x.npy\": \"<sha256>\", ...}})",
                 path);
        goto out;
    }
    for (int i = 0; i < DATA_N_FILES; i++) {
        const char *h = jb__json_str(files, data_file_names[i], NULL);
        int ok = h && strlen(h) == 64;

        for (int k = 0; ok && k < 64; k++) {
            char c = h[k];
            if (c >= 'A' && c <= 'F')
                c = (char)(c - 'A' + 'a');
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                ok = 0;
            m->sha256[i][k] = c;
        }
        if (!ok) {
            snprintf(err, errlen, "'%s': field 'files.%s' missing or not a SHA-256 hex string",
                     path, data_file_names[i]);
            goto out;
        }
        m->sha256[i][64] = '\0';
    }
    nc = jb__json_get(j, "num_classes");
    if (!nc)
        nc = jb__json_get(j, "classes");
    if (nc) {
        if (nc->type != JB_JSON_NUMBER || nc->number != (double)(int)nc->number || nc->number < 2 ||
            nc->number > 1e9) {
            snprintf(err, errlen, "'%s': field 'num_classes' must be an integer >= 2", path);
            goto out;
        }
        m->num_classes = (int)nc->number;
    }
    rc = 0;
out:
    jb__json_free(j);
    free(text);
    return rc;
}
