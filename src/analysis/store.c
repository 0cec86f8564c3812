/*
 * store.c - results folder -> SQLite (see store.h, docs/store.md).  One transaction, prepared
 * statements, CSV columns matched by header name; empty cells become NULL.  Not a query layer.
 */
#include "analysis/store.h"

#include "util/fsutil.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char schema[] =
    "PRAGMA journal_mode=OFF;"
    "PRAGMA synchronous=OFF;"
    "CREATE TABLE runs(id INTEGER PRIMARY KEY, dir TEXT NOT NULL UNIQUE, run_id TEXT NOT NULL,"
    " grid TEXT, repeat INTEGER, command_start_s REAL, manifest TEXT NOT NULL);"
    "CREATE TABLE levels(run INTEGER NOT NULL REFERENCES runs(id), name TEXT NOT NULL,"
    " value TEXT NOT NULL, PRIMARY KEY(run, name));"
    "CREATE TABLE meters(run INTEGER NOT NULL REFERENCES runs(id), meter TEXT NOT NULL,"
    " kind TEXT, energy_source TEXT, idle_power_w REAL, PRIMARY KEY(run, meter));"
    "CREATE TABLE samples(run INTEGER NOT NULL REFERENCES runs(id), t_s REAL NOT NULL,"
    " meter TEXT NOT NULL, power_w REAL, energy_j REAL, temp_c REAL, util_pct REAL,"
    " mem_util_pct REAL, mem_used_mib REAL, sm_clock_mhz REAL, mem_clock_mhz REAL,"
    " power_instant_w REAL);"
    "CREATE TABLE phases(run INTEGER NOT NULL REFERENCES runs(id), phase TEXT NOT NULL,"
    " idx INTEGER NOT NULL, meter TEXT NOT NULL, t_begin_s REAL, t_end_s REAL, duration_s REAL,"
    " energy_j REAL, energy_j_power REAL, avg_power_w REAL, items REAL);"
    "CREATE TABLE metrics(run INTEGER NOT NULL REFERENCES runs(id), phase TEXT NOT NULL,"
    " idx INTEGER NOT NULL, name TEXT NOT NULL, value REAL);"
    "CREATE TABLE store_info(key TEXT PRIMARY KEY, value TEXT);"
    "INSERT INTO store_info VALUES('format', 'joulebench-store/1');";

static const char index_sql[] = "CREATE INDEX samples_run ON samples(run, meter, t_s);"
                                "CREATE INDEX phases_run ON phases(run, phase, idx);"
                                "CREATE INDEX metrics_run ON metrics(run, name);";

/* A CSV file of a run directory -> table.  cols: table columns after 'run', in header names;
 * text[i]: column i is text (else REAL, or INTEGER for 'index'). */
struct table_def {
    const char *file, *table;
    const char *const *cols;
    const char *const *sqlcols;
    const int *text;
    int ncols;
    size_t *count;
};

static int load_csv(sqlite3 *db, sqlite3_int64 run, const char *dir, const struct table_def *td,
                    int strict, struct store_stats *st, rd_warn_fn warn, void *ctx, char *err,
                    size_t errlen)
{
    char path[4096], sql[1024];
    char *text = NULL, *p;
    size_t len, line = 0;
    sqlite3_stmt *stmt = NULL;
    int rc = -1, map[32], nh = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, td->file);
    if (!fs_exists(path))
        return 0;
    if (fs_read_file(path, &text, &len, err, errlen))
        return -1;
    int off = snprintf(sql, sizeof(sql), "INSERT INTO %s(run", td->table);
    for (int i = 0; i < td->ncols; i++)
        off += snprintf(sql + off, sizeof(sql) - (size_t)off, ",%s", td->sqlcols[i]);
    off += snprintf(sql + off, sizeof(sql) - (size_t)off, ") VALUES(?");
    for (int i = 0; i < td->ncols; i++)
        off += snprintf(sql + off, sizeof(sql) - (size_t)off, ",?");
    snprintf(sql + off, sizeof(sql) - (size_t)off, ")");
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
        goto out;
    }
    p = text;
    while (p && *p) {
        char *nl = strchr(p, '\n'), *f[32];
        char *l = p;
        int n = 0;
        if (nl)
            *nl = '\0';
        p = nl ? nl + 1 : NULL;
        line++;
        size_t ll = strlen(l);
        if (ll && l[ll - 1] == '\r')
            l[--ll] = '\0';
        if (!*l)
            continue;
        for (char *q = l; n < 32;) {
            f[n++] = q;
            q = strchr(q, ',');
            if (!q)
                break;
            *q++ = '\0';
        }
        if (nh == 0) {
            nh = n;
            for (int c = 0; c < td->ncols; c++) {
                map[c] = -1;
                for (int k = 0; k < n; k++)
                    if (!strcmp(f[k], td->cols[c]))
                        map[c] = k;
                if (c < 2 && map[c] < 0) {
                    snprintf(err, errlen, "%s:1: no column '%s'", path, td->cols[c]);
                    goto out;
                }
            }
            continue;
        }
        int bad = n != nh;
        sqlite3_reset(stmt);
        sqlite3_bind_int64(stmt, 1, run);
        for (int c = 0; c < td->ncols && !bad; c++) {
            const char *v = map[c] >= 0 ? f[map[c]] : "";
            if (!*v) {
                sqlite3_bind_null(stmt, c + 2);
            } else if (td->text[c] == 1) {
                sqlite3_bind_text(stmt, c + 2, v, -1, SQLITE_TRANSIENT);
            } else {
                char *end;
                errno = 0;
                double d = strtod(v, &end);
                if (*end || errno == ERANGE)
                    bad = 1;
                else if (td->text[c] == 2)
                    sqlite3_bind_int64(stmt, c + 2, (sqlite3_int64)d);
                else
                    sqlite3_bind_double(stmt, c + 2, d);
            }
        }
        if (bad) {
            st->bad_rows++;
            if (strict) {
                snprintf(err, errlen, "%s:%zu: malformed row", path, line);
                goto out;
            }
            if (warn) {
                char msg[4200];
                snprintf(msg, sizeof(msg), "%s:%zu: malformed row; skipped", path, line);
                warn(ctx, msg);
            }
            continue;
        }
        if (sqlite3_step(stmt) != SQLITE_DONE) {
            snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
            goto out;
        }
        (*td->count)++;
    }
    rc = 0;
out:
    sqlite3_finalize(stmt);
    free(text);
    return rc;
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: %s", msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int add_run(sqlite3 *db, const struct rundir *rd, sqlite3_int64 *id, char *err,
                   size_t errlen)
{
    char path[4096];
    char *manifest = NULL;
    size_t len;
    sqlite3_stmt *s = NULL;
    int rc = -1;

    snprintf(path, sizeof(path), "%s/manifest.json", rd->dir);
    if (fs_read_file(path, &manifest, &len, err, errlen))
        return -1;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO runs(dir, run_id, grid, repeat, command_start_s, "
                           "manifest) VALUES(?,?,?,?,?,?)",
                           -1, &s, NULL) != SQLITE_OK)
        goto sqlerr;
    sqlite3_bind_text(s, 1, rd->dir, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, rd->run_id, -1, SQLITE_STATIC);
    if (rd->grid)
        sqlite3_bind_text(s, 3, rd->grid, -1, SQLITE_STATIC);
    if (rd->repeat >= 0)
        sqlite3_bind_int64(s, 4, rd->repeat);
    if (!isnan(rd->command_start_s))
        sqlite3_bind_double(s, 5, rd->command_start_s);
    sqlite3_bind_text(s, 6, manifest, (int)len, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE)
        goto sqlerr;
    *id = sqlite3_last_insert_rowid(db);
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO levels VALUES(?,?,?)", -1, &s, NULL) != SQLITE_OK)
        goto sqlerr;
    for (size_t i = 0; i < rd->nlevels; i++) {
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, *id);
        sqlite3_bind_text(s, 2, rd->keys[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, rd->vals[i], -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE)
            goto sqlerr;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO meters VALUES(?,?,?,?,?)", -1, &s, NULL) != SQLITE_OK)
        goto sqlerr;
    for (size_t i = 0; i < rd->nmeters; i++) {
        const struct rd_meter *m = &rd->meters[i];
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, *id);
        sqlite3_bind_text(s, 2, m->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, m->kind, -1, SQLITE_STATIC);
        if (m->energy_source)
            sqlite3_bind_text(s, 4, m->energy_source, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(s, 4);
        if (isnan(m->idle_power_w))
            sqlite3_bind_null(s, 5);
        else
            sqlite3_bind_double(s, 5, m->idle_power_w);
        if (sqlite3_step(s) != SQLITE_DONE)
            goto sqlerr;
    }
    rc = 0;
    goto out;
sqlerr:
    snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
out:
    sqlite3_finalize(s);
    free(manifest);
    return rc;
}

int store_build(const char *results, const char *dbpath, int strict, struct store_stats *st,
                rd_warn_fn warn, void *ctx, char *err, size_t errlen)
{
    static const char *const scols[] = {"t_s",           "meter",          "power_w",
                                        "energy_j",      "temp_c",         "util_pct",
                                        "mem_util_pct",  "mem_used_mib",   "sm_clock_mhz",
                                        "mem_clock_mhz", "power_instant_w"};
    static const int stext[] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const char *const pcols[] = {"phase",       "index",      "meter",    "t_begin_s",
                                        "t_end_s",     "duration_s", "energy_j", "energy_j_power",
                                        "avg_power_w", "items"};
    static const char *const psql[] = {"phase",       "idx",        "meter",    "t_begin_s",
                                       "t_end_s",     "duration_s", "energy_j", "energy_j_power",
                                       "avg_power_w", "items"};
    static const int ptext[] = {1, 2, 1, 0, 0, 0, 0, 0, 0, 0};
    static const char *const mcols[] = {"phase", "index", "name", "value"};
    static const char *const msql[] = {"phase", "idx", "name", "value"};
    static const int mtext[] = {1, 2, 1, 0};
    char tmp[4096];
    char **dirs = NULL;
    size_t ndirs = 0;
    sqlite3 *db = NULL;
    int rc = -1;

    memset(st, 0, sizeof(*st));
    const struct table_def tds[] = {
        {"samples.csv", "samples", scols, scols, stext, 11, &st->samples},
        {"phases.csv", "phases", pcols, psql, ptext, 10, &st->phases},
        {"metrics.csv", "metrics", mcols, msql, mtext, 4, &st->metrics},
    };
    if (rundir_find(results, &dirs, &ndirs, err, errlen))
        return -1;
    snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", dbpath, (long)getpid());
    unlink(tmp);
    if (sqlite3_open(tmp, &db) != SQLITE_OK) {
        snprintf(err, errlen, "cannot create '%s': %s", tmp, db ? sqlite3_errmsg(db) : "?");
        goto out;
    }
    if (exec(db, schema, err, errlen) || exec(db, "BEGIN", err, errlen))
        goto out;
    for (size_t i = 0; i < ndirs; i++) {
        struct rundir rd;
        sqlite3_int64 id;
        int r = rundir_read(dirs[i], 0, strict, &rd, warn, ctx, err, errlen);
        if (r == 1) {
            if (warn) {
                char msg[2048];
                snprintf(msg, sizeof(msg), "skipping %s", err);
                warn(ctx, msg);
            }
            st->skipped++;
            rundir_free(&rd);
            continue;
        }
        if (r < 0) {
            rundir_free(&rd);
            goto out;
        }
        st->bad_rows += rd.bad_rows;
        r = add_run(db, &rd, &id, err, errlen);
        for (size_t k = 0; k < 3 && !r; k++)
            r = load_csv(db, id, dirs[i], &tds[k], strict, st, warn, ctx, err, errlen);
        rundir_free(&rd);
        if (r)
            goto out;
        st->runs++;
    }
    if (exec(db, index_sql, err, errlen) || exec(db, "COMMIT", err, errlen))
        goto out;
    if (sqlite3_close(db) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
        goto out;
    }
    db = NULL;
    if (rename(tmp, dbpath)) {
        snprintf(err, errlen, "cannot rename '%s' to '%s': %s", tmp, dbpath, strerror(errno));
        goto out;
    }
    {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", dbpath);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            fs_sync_dir(dir);
        }
    }
    rc = 0;
out:
    if (db)
        sqlite3_close(db);
    if (rc)
        unlink(tmp);
    for (size_t i = 0; i < ndirs; i++)
        free(dirs[i]);
    free(dirs);
    return rc;
}
