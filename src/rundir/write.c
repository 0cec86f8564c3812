/*
 * write.c - rows and files of the run directory (see rundir.h).  Numbers are fixed-point with
 * the decimals of their column (rundir.h's lists), printed by fastnum_put, which gives what
 * "%.*f" gives; NaN is an empty cell.
 */
#include "rundir/rundir.h"

#include "util/fastnum.h"
#include "util/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEC(id, name, dec) dec,
static const int samples_dec[RUNDIR_S_NCOLS] = {RUNDIR_SAMPLES_COLUMNS(DEC)};
static const int phases_dec[RUNDIR_P_NCOLS] = {RUNDIR_PHASES_COLUMNS(DEC)};
#undef DEC

/* The files this module streams (rundir_remove_partials). */
static const char *const partial_names[] = {"samples.csv", "phases.csv", "stdout.log",
                                            "stderr.log"};

/* v with the fewest significant digits (15..17) that read back as v; nothing for NaN. */
static void put_exact(struct strbuf *sb, double v)
{
    if (!isnan(v))
        sb_num_shortest(sb, v); /* the shortest form that reads back to v */
}

void rundir_samples_row(struct strbuf *sb, double t_s, const char *meter,
                        const double v[RUNDIR_S_NCOLS - 2], int trim)
{
    fastnum_put(sb, t_s, samples_dec[RUNDIR_S_T_S], 0);
    sb_putc(sb, ',');
    sb_puts(sb, meter);
    for (int k = RUNDIR_S_POWER_W; k < RUNDIR_S_NCOLS; k++) {
        sb_putc(sb, ',');
        fastnum_put(sb, v[k - RUNDIR_S_POWER_W], samples_dec[k], trim);
    }
    sb_putc(sb, '\n');
}

void rundir_sample_values(const struct jb_sample *s, double v[RUNDIR_S_NCOLS - 2])
{
    static const struct {
        int col;
        uint32_t cap;
    } map[] = {{RUNDIR_S_POWER_W, JB_CAP_POWER},
               {RUNDIR_S_TEMP_C, JB_CAP_TEMP},
               {RUNDIR_S_UTIL_PCT, JB_CAP_UTIL},
               {RUNDIR_S_MEM_UTIL_PCT, JB_CAP_MEM_UTIL},
               {RUNDIR_S_MEM_USED_MIB, JB_CAP_MEM_USED},
               {RUNDIR_S_SM_CLOCK_MHZ, JB_CAP_SM_CLOCK},
               {RUNDIR_S_MEM_CLOCK_MHZ, JB_CAP_MEM_CLOCK},
               {RUNDIR_S_POWER_INSTANT_W, JB_CAP_POWER_INSTANT}};
    const double val[] = {s->power_w,      s->temp_c,       s->util_pct,      s->mem_util_pct,
                          s->mem_used_mib, s->sm_clock_mhz, s->mem_clock_mhz, s->power_instant_w};

    for (int k = 0; k < RUNDIR_S_NCOLS - 2; k++)
        v[k] = NAN; /* energy_j: counter rows only */
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (s->valid & map[i].cap)
            v[map[i].col - RUNDIR_S_POWER_W] = val[i];
}

void rundir_phase_row_init(struct rundir_phase_row *row)
{
    memset(row, 0, sizeof(*row));
    row->t_begin_s = row->t_end_s = row->duration_s = NAN;
    row->energy_j = row->energy_j_power = row->avg_power_w = row->items = NAN;
    row->energy_j_lo = row->energy_j_hi = row->power_rel_diff = NAN;
    row->peak_power_w = row->peak_interval_power_w = row->update_period_s = NAN;
}

void rundir_phase_row_from_result(struct rundir_phase_row *row, const struct jb_phase_result *p,
                                  const char *meter, uint64_t t0_ns)
{
    double best;

    rundir_phase_row_init(row);
    row->phase = p->phase;
    row->index = p->index;
    row->meter = meter;
    row->t_begin_s = ((double)p->t_begin_ns - (double)t0_ns) / 1e9;
    row->t_end_s = ((double)p->t_end_ns - (double)t0_ns) / 1e9;
    row->duration_s = (double)(p->t_end_ns - p->t_begin_ns) / 1e9;
    if (p->valid & JB_PHASE_ENERGY)
        row->energy_j = p->energy_j;
    if (p->valid & JB_PHASE_ENERGY_POWER)
        row->energy_j_power = p->energy_j_power;
    best = !isnan(row->energy_j) ? row->energy_j : row->energy_j_power;
    if (row->duration_s > 0 && !isnan(best))
        row->avg_power_w = best / row->duration_s;
    if (p->valid & JB_PHASE_ITEMS)
        row->items = p->items;
    if (p->valid & JB_PHASE_ENERGY_BOUNDS) {
        row->energy_j_lo = p->energy_j_lo;
        row->energy_j_hi = p->energy_j_hi;
    }
    if (p->valid & JB_PHASE_POWER_DIFF)
        row->power_rel_diff = p->power_rel_diff;
    if (p->valid & JB_PHASE_PEAK) {
        row->peak_power_w = p->peak_power_w;
        row->peak_power_source = jb_power_source_name(p->peak_power_source);
    }
    if (p->valid & JB_PHASE_PEAK_INTERVAL)
        row->peak_interval_power_w = p->peak_interval_power_w;
    if (p->update_period_s > 0)
        row->update_period_s = p->update_period_s;
    row->flags = p->flags;
}

void rundir_flags(struct strbuf *sb, uint32_t flags)
{
    int first = 1;

    for (uint32_t bit = 1; bit; bit <<= 1) {
        const char *name = (flags & bit) ? jb_phase_flag_name(bit) : NULL;
        if (!name)
            continue;
        if (!first)
            sb_putc(sb, '|');
        sb_puts(sb, name);
        first = 0;
    }
}

void rundir_phases_row(struct strbuf *sb, const struct rundir_phase_row *row)
{
    const double num[RUNDIR_P_NCOLS] = {
        [RUNDIR_P_T_BEGIN_S] = row->t_begin_s,
        [RUNDIR_P_T_END_S] = row->t_end_s,
        [RUNDIR_P_DURATION_S] = row->duration_s,
        [RUNDIR_P_ENERGY_J] = row->energy_j,
        [RUNDIR_P_ENERGY_J_POWER] = row->energy_j_power,
        [RUNDIR_P_AVG_POWER_W] = row->avg_power_w,
        [RUNDIR_P_ENERGY_J_LO] = row->energy_j_lo,
        [RUNDIR_P_ENERGY_J_HI] = row->energy_j_hi,
        [RUNDIR_P_POWER_REL_DIFF] = row->power_rel_diff,
        [RUNDIR_P_PEAK_POWER_W] = row->peak_power_w,
        [RUNDIR_P_PEAK_INTERVAL_POWER_W] = row->peak_interval_power_w,
        [RUNDIR_P_UPDATE_PERIOD_S] = row->update_period_s,
    };

    for (int k = 0; k < RUNDIR_P_NCOLS; k++) {
        if (k)
            sb_putc(sb, ',');
        switch (k) {
        case RUNDIR_P_PHASE: sb_csv_field(sb, row->phase); break;
        case RUNDIR_P_INDEX: sb_printf(sb, "%ld", row->index); break;
        case RUNDIR_P_METER: sb_csv_field(sb, row->meter); break;
        case RUNDIR_P_ITEMS: put_exact(sb, row->items); break;
        case RUNDIR_P_PEAK_POWER_SOURCE:
            if (row->peak_power_source)
                sb_puts(sb, row->peak_power_source);
            break;
        case RUNDIR_P_FLAGS: rundir_flags(sb, row->flags); break;
        case RUNDIR_P_T_BEGIN_S:
        case RUNDIR_P_T_END_S:
        case RUNDIR_P_DURATION_S: /* times keep their 6 decimals (microseconds) even trimmed */
            fastnum_put(sb, num[k], phases_dec[k], 0);
            break;
        default: fastnum_put(sb, num[k], phases_dec[k], row->trim); break;
        }
    }
    sb_putc(sb, '\n');
}

void rundir_metrics_row(struct strbuf *sb, const char *phase, long index, const char *name,
                        double value)
{
    sb_csv_field(sb, phase);
    sb_printf(sb, ",%ld,", index);
    sb_csv_field(sb, name);
    sb_putc(sb, ',');
    put_exact(sb, value);
    sb_putc(sb, '\n');
}

static void partial_path(char *out, size_t n, const char *dir, const char *name)
{
    snprintf(out, n, "%s/%s.partial", dir, name);
}

FILE *rundir_open_partial(const char *dir, const char *name, const char *header, char *err,
                          size_t errlen)
{
    char path[PATH_MAX];
    FILE *f;

    partial_path(path, sizeof(path), dir, name);
    f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (header)
        fputs(header, f); /* a write error shows at rundir_commit_partial */
    return f;
}

int rundir_commit_partial(FILE *f, int write_errno, const char *dir, const char *name, char *err,
                          size_t errlen)
{
    char from[PATH_MAX], to[PATH_MAX];
    int e = write_errno;

    if (!e && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        e = errno ? errno : EIO;
    if (fclose(f) != 0 && !e)
        e = errno ? errno : EIO;
    if (e) {
        snprintf(err, errlen, "cannot write '%s/%s': %s", dir, name, strerror(e));
        return -1;
    }
    partial_path(from, sizeof(from), dir, name);
    snprintf(to, sizeof(to), "%s/%s", dir, name);
    if (rename(from, to) < 0) {
        snprintf(err, errlen, "cannot rename '%s' to '%s': %s", from, to, strerror(errno));
        return -1;
    }
    return 0;
}

void rundir_remove_partials(const char *dir)
{
    char path[PATH_MAX];

    for (size_t i = 0; i < sizeof(partial_names) / sizeof(partial_names[0]); i++) {
        partial_path(path, sizeof(path), dir, partial_names[i]);
        unlink(path); /* ENOENT: never created, or renamed into place */
    }
}

int rundir_write_doc(const char *dir, const char *name, const struct strbuf *sb, char *err,
                     size_t errlen)
{
    char path[PATH_MAX];

    if (sb_failed(sb)) {
        snprintf(err, errlen, "out of memory writing '%s/%s'", dir, name);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return fs_write_atomic(path, sb_str(sb), sb->len, err, errlen);
}
