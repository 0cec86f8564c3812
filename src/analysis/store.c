/*
 * store.c - results folder -> SQLite (see store.h, docs/store.md).  One transaction, prepared
 * statements; the run directories are read by src/rundir/read.c (phases and metrics through
 * rundir_read, samples.csv streamed row by row through rundir_read_csv), so the store reads
 * exactly what the report reads; empty cells become NULL.  Not a query layer and not a CSV
 * parser.
 */
#include "analysis/store.h"

#include "util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
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

/* samples.csv -> the samples table, through the run directory's row reader; the column names
 * are the table's.  Empty cells and missing columns become NULL. */
static const struct rd_col sample_cols[] = {{"t_s", RD_NUM, RD_REQ},
                                            {"meter", RD_TEXT, RD_REQ},
                                            {"power_w", RD_NUM, RD_OPT},
                                            {"energy_j", RD_NUM, RD_OPT},
                                            {"temp_c", RD_NUM, RD_OPT},
                                            {"util_pct", RD_NUM, RD_OPT},
                                            {"mem_util_pct", RD_NUM, RD_OPT},
                                            {"mem_used_mib", RD_NUM, RD_OPT},
                                            {"sm_clock_mhz", RD_NUM, RD_OPT},
                                            {"mem_clock_mhz", RD_NUM, RD_OPT},
                                            {"power_instant_w", RD_NUM, RD_OPT}};
#define NSAMPLE_COLS (sizeof(sample_cols) / sizeof(sample_cols[0]))

struct sample_load {
    sqlite3 *db;
    sqlite3_stmt *stmt;
    sqlite3_int64 run;
    size_t *count;
};

static void bind_num(sqlite3_stmt *s, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_double(s, i, v);
}

static int sample_row(void *ctx, const struct rd_row *r, char *err, size_t errlen)
{
    struct sample_load *sl = ctx;

    sqlite3_reset(sl->stmt);
    sqlite3_bind_int64(sl->stmt, 1, sl->run);
    for (size_t c = 0; c < NSAMPLE_COLS; c++) {
        if (sample_cols[c].type == RD_TEXT)
            sqlite3_bind_text(sl->stmt, (int)c + 2, r->text[c], -1, SQLITE_TRANSIENT);
        else
            bind_num(sl->stmt, (int)c + 2, r->num[c]);
    }
    if (sqlite3_step(sl->stmt) != SQLITE_DONE) {
        snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(sl->db));
        return -1;
    }
    (*sl->count)++;
    return 0;
}

static int load_samples(sqlite3 *db, sqlite3_int64 run, const char *dir, int strict,
                        struct store_stats *st, rd_warn_fn warn, void *ctx, char *err,
                        size_t errlen)
{
    char path[4096], sql[1024];
    struct sample_load sl = {db, NULL, run, &st->samples};
    int off, rc;

    off = snprintf(sql, sizeof(sql), "INSERT INTO samples(run");
    for (size_t i = 0; i < NSAMPLE_COLS; i++)
        off += snprintf(sql + off, sizeof(sql) - (size_t)off, ",%s", sample_cols[i].name);
    off += snprintf(sql + off, sizeof(sql) - (size_t)off, ") VALUES(?");
    for (size_t i = 0; i < NSAMPLE_COLS; i++)
        off += snprintf(sql + off, sizeof(sql) - (size_t)off, ",?");
    snprintf(sql + off, sizeof(sql) - (size_t)off, ")");
    if (sqlite3_prepare_v2(db, sql, -1, &sl.stmt, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/samples.csv", dir);
    rc = rundir_read_csv(path, sample_cols, NSAMPLE_COLS, strict, sample_row, &sl, &st->bad_rows,
                         warn, ctx, err, errlen);
    sqlite3_finalize(sl.stmt);
    return rc;
}

/* The phases and metrics rundir_read has read (so each malformed row is counted once). */
static int load_phases_metrics(sqlite3 *db, sqlite3_int64 run, const struct rundir *rd,
                               struct store_stats *st, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(
            db,
            "INSERT INTO phases(run,phase,idx,meter,t_begin_s,t_end_s,duration_s,"
            "energy_j,energy_j_power,avg_power_w,items) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
            -1, &s, NULL) != SQLITE_OK)
        goto sqlerr;
    for (size_t i = 0; i < rd->nphases; i++) {
        const struct rd_phase *p = &rd->phases[i];
        const double v[] = {p->t_begin,        p->t_end,       p->duration, p->energy_j,
                            p->energy_j_power, p->avg_power_w, p->items};
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, run);
        sqlite3_bind_text(s, 2, p->phase, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, p->index);
        sqlite3_bind_text(s, 4, p->meter, -1, SQLITE_STATIC);
        for (int k = 0; k < 7; k++)
            bind_num(s, 5 + k, v[k]);
        if (sqlite3_step(s) != SQLITE_DONE)
            goto sqlerr;
        st->phases++;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO metrics(run,phase,idx,name,value) VALUES(?,?,?,?,?)",
                           -1, &s, NULL) != SQLITE_OK)
        goto sqlerr;
    for (size_t i = 0; i < rd->nmetrics; i++) {
        const struct rd_metric *m = &rd->metrics[i];
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, run);
        sqlite3_bind_text(s, 2, m->phase, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, m->index);
        sqlite3_bind_text(s, 4, m->name, -1, SQLITE_STATIC);
        bind_num(s, 5, m->value);
        if (sqlite3_step(s) != SQLITE_DONE)
            goto sqlerr;
        st->metrics++;
    }
    rc = 0;
    goto out;
sqlerr:
    snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
out:
    sqlite3_finalize(s);
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

/* Test hook (never needed otherwise): with JB_TEST_STORE_PAUSE_FILE=F, the build creates F and
 * waits (up to 60 s) once the temporary store is complete, before the rename, so that a test can
 * send a signal at that moment without a race. */
static void test_pause(void)
{
    const char *f = getenv("JB_TEST_STORE_PAUSE_FILE");
    FILE *fp;

    if (!f || !*f || !(fp = fopen(f, "w")))
        return;
    fclose(fp);
    for (int i = 0; i < 600; i++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
}

/* The temporary store being built, for store_signal_cleanup (set before it exists, cleared
 * once it is renamed or removed). */
static char active_tmp[4096], active_journal[4200];
static volatile sig_atomic_t active_set;

void store_signal_cleanup(void)
{
    if (active_set) {
        unlink(active_tmp); /* async-signal-safe */
        unlink(active_journal);
    }
}

/* Removes DB.tmp-PID (and its -journal) left beside dbpath by a process that is gone (killed
 * before it could clean up): a temporary of a live process is left alone. */
static void remove_stale_tmps(const char *dbpath)
{
    char dir[4096], prefix[512], path[8192];
    const char *slash = strrchr(dbpath, '/');
    DIR *d;
    struct dirent *e;
    size_t plen;

    if (slash) {
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - dbpath), dbpath);
        snprintf(prefix, sizeof(prefix), "%s.tmp-", slash + 1);
    } else {
        snprintf(dir, sizeof(dir), ".");
        snprintf(prefix, sizeof(prefix), "%s.tmp-", dbpath);
    }
    if (!*dir)
        snprintf(dir, sizeof(dir), "/");
    plen = strlen(prefix);
    if (!(d = opendir(dir)))
        return;
    while ((e = readdir(d))) {
        char *end;
        long pid;
        if (strncmp(e->d_name, prefix, plen))
            continue;
        errno = 0;
        pid = strtol(e->d_name + plen, &end, 10);
        if (errno || pid <= 0 || end == e->d_name + plen || (*end && strcmp(end, "-journal")))
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive (or not ours to judge) */
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

int store_build(const char *results, const char *dbpath, int strict, struct store_stats *st,
                rd_warn_fn warn, void *ctx, char *err, size_t errlen)
{
    char tmp[4096];
    char **dirs = NULL;
    size_t ndirs = 0;
    sqlite3 *db = NULL;
    int rc = -1;

    memset(st, 0, sizeof(*st));
    if (rundir_find(results, &dirs, &ndirs, err, errlen))
        return -1;
    snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", dbpath, (long)getpid());
    remove_stale_tmps(dbpath);
    unlink(tmp);
    active_set = 0;
    snprintf(active_tmp, sizeof(active_tmp), "%s", tmp);
    snprintf(active_journal, sizeof(active_journal), "%s-journal", tmp);
    active_set = 1;
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
        if (!r)
            r = load_phases_metrics(db, id, &rd, st, err, errlen);
        if (!r)
            r = load_samples(db, id, dirs[i], strict, st, warn, ctx, err, errlen);
        rundir_free(&rd);
        if (r)
            goto out;
        st->runs++;
    }
    if (exec(db, index_sql, err, errlen) || exec(db, "COMMIT", err, errlen))
        goto out;
    test_pause();
    if (sqlite3_close(db) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
        goto out;
    }
    db = NULL;
    if (rename(tmp, dbpath)) {
        snprintf(err, errlen, "cannot rename '%s' to '%s': %s", tmp, dbpath, strerror(errno));
        goto out;
    }
    active_set = 0;
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
    if (rc) {
        unlink(tmp);
        unlink(active_journal);
    }
    active_set = 0;
    for (size_t i = 0; i < ndirs; i++)
        free(dirs[i]);
    free(dirs);
    return rc;
}
