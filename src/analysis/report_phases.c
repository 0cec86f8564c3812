/*
 * report_phases.c - phase groups with phases.csv's flags and intervals, for the corrected
 * report (see report_phases.h).  Counts are of phase rows (one per phase and meter) over every
 * meter; energies are of the GPU meters (report_meter_class 1), summed per run, then averaged
 * over the runs that have the group.
 */
#include "analysis/report_phases.h"

#include "joulebench.h"
#include "util/jsonw.h"
#include "util/mdesc.h"
#include "util/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum group { G_STARTUP, G_EPOCH1, G_EPOCHS, G_EVAL, G_IDLE, G_OTHER, G_COMMAND, G_COUNT };
static const char *const group_name[G_COUNT] = {"startup", "epoch 1", "epochs 2..N", "eval",
                                                "idle",    "other",   "command"};
#define NFLAGS 5 /* JB_PHASE_FLAG_STEPPED .. JB_PHASE_FLAG_FLOORED */

/* The note of each flag; NULL: counted, but nothing a reader must be warned about. */
static const char *const flag_note[NFLAGS] = {
    NULL, "below counter resolution", "power reading aliases",
    "counter updates not located (wide interval)", "raised to the idle-power floor"};

struct gstat {
    size_t rows;
    size_t flag[NFLAGS];
    double e, lo, hi; /* sums over runs of the per-run GPU energy / interval */
    size_t ne, nb;    /* runs in e / in lo and hi */
};

struct pstat {
    struct gstat g[G_COUNT];
    size_t rows, flag[NFLAGS];
    size_t runs, old_runs; /* runs, and those whose phases.csv has no flags column */
};

static int group_of(const struct rd_phase *p)
{
    if (!strcmp(p->phase, "command"))
        return G_COMMAND;
    if (!strcmp(p->phase, "startup"))
        return G_STARTUP;
    if (!strcmp(p->phase, "epoch"))
        return p->index == 1 ? G_EPOCH1 : G_EPOCHS;
    if (!strcmp(p->phase, "eval"))
        return G_EVAL;
    if (!strcmp(p->phase, "idle"))
        return G_IDLE;
    return G_OTHER;
}

static void count_flags(size_t *cnt, unsigned flags)
{
    for (int b = 0; b < NFLAGS; b++)
        if (flags & (1u << b))
            cnt[b]++;
}

/* Adds run rd's rows to s. */
static void add_run(struct pstat *s, const struct rundir *rd)
{
    double e[G_COUNT], lo[G_COUNT], hi[G_COUNT];
    int any[G_COUNT];

    s->runs++;
    if (!rd->has_flags)
        s->old_runs++;
    for (int g = 0; g < G_COUNT; g++) {
        e[g] = lo[g] = hi[g] = 0.0;
        any[g] = 0;
    }
    for (size_t i = 0; i < rd->nphases; i++) {
        const struct rd_phase *p = &rd->phases[i];
        const struct rd_meter *m = rundir_meter(rd, p->meter);
        int g = group_of(p);
        s->rows++;
        s->g[g].rows++;
        count_flags(s->flag, p->flags);
        count_flags(s->g[g].flag, p->flags);
        if (!m || report_meter_class(m) != 1)
            continue;
        any[g] = 1;
        e[g] += isnan(p->energy_j) ? p->energy_j_power : p->energy_j; /* NaN spreads */
        lo[g] += p->energy_j_lo;
        hi[g] += p->energy_j_hi;
    }
    for (int g = 0; g < G_COUNT; g++) {
        if (!any[g])
            continue;
        if (!isnan(e[g])) {
            s->g[g].e += e[g];
            s->g[g].ne++;
        }
        if (!isnan(lo[g]) && !isnan(hi[g])) {
            s->g[g].lo += lo[g];
            s->g[g].hi += hi[g];
            s->g[g].nb++;
        }
    }
}

static void compute(const struct report_input *in, const struct rconfig *c, struct pstat *s)
{
    memset(s, 0, sizeof(*s));
    for (size_t r = 0; r < c->n; r++)
        add_run(s, &in->runs[c->runs[r]]);
}

/* The group's note: "below counter resolution in 12 of 12 phases; ..." ("" for none). */
static void note(struct strbuf *sb, const struct gstat *g)
{
    int n = 0;
    for (int b = 0; b < NFLAGS; b++) {
        if (!flag_note[b] || !g->flag[b])
            continue;
        sb_printf(sb, "%s%s in %zu of %zu phase%s", n++ ? "; " : "", flag_note[b], g->flag[b],
                  g->rows, g->rows == 1 ? "" : "s");
    }
}

static void json_flags(struct jsonw *w, const size_t *cnt)
{
    jw_key(w, "flags");
    jw_object_begin(w);
    for (int b = 0; b < NFLAGS; b++)
        jw_kv_int(w, jb_phase_flag_name(1u << b), (long long)cnt[b]);
    jw_object_end(w);
}

void report_phases_json(struct jsonw *w, const struct report_input *in, const struct rconfig *c)
{
    struct pstat s;
    struct strbuf nb = STRBUF_INIT;

    compute(in, c, &s);
    jw_key(w, "phase_flags");
    jw_object_begin(w);
    jw_kv_int(w, "phases", (long long)s.rows);
    jw_kv_int(w, "runs_without_flags", (long long)s.old_runs);
    json_flags(w, s.flag);
    jw_object_end(w);
    jw_key(w, "phase_groups");
    jw_array_begin(w);
    for (int g = 0; g < G_COUNT; g++) {
        const struct gstat *gs = &s.g[g];
        if (!gs->rows)
            continue;
        jw_object_begin(w);
        jw_kv_string(w, "group", group_name[g]);
        jw_kv_int(w, "phases", (long long)gs->rows);
        jw_kv_number(w, "energy_j", gs->ne ? gs->e / (double)gs->ne : NAN);
        jw_kv_number(w, "energy_j_lo", gs->nb ? gs->lo / (double)gs->nb : NAN);
        jw_kv_number(w, "energy_j_hi", gs->nb ? gs->hi / (double)gs->nb : NAN);
        json_flags(w, gs->flag);
        sb_reset(&nb);
        note(&nb, gs);
        jw_kv_string(w, "note", sb_str(&nb));
        jw_object_end(w);
    }
    jw_array_end(w);
    sb_free(&nb);
}

/* One row of the table; nothing when the group has no warning. */
static size_t md_row(struct strbuf *md, const struct report_input *in, const struct rconfig *c,
                     const char *group, const struct gstat *gs)
{
    struct strbuf nb = STRBUF_INIT;
    size_t shown;

    note(&nb, gs);
    shown = nb.len ? 1 : 0;
    if (shown) {
        sb_putc(md, '|');
        for (size_t k = 0; k < in->nlevels; k++) {
            sb_putc(md, ' ');
            md_escape_cell(md, c->vals[k]);
            sb_puts(md, " |");
        }
        sb_printf(md, " %s | %zu |", group, gs->rows);
        if (gs->ne)
            sb_printf(md, " %.3f |", gs->e / (double)gs->ne);
        else
            sb_puts(md, " - |");
        if (gs->nb)
            sb_printf(md, " %.3f .. %.3f |", gs->lo / (double)gs->nb, gs->hi / (double)gs->nb);
        else
            sb_puts(md, " - |");
        sb_putc(md, ' ');
        md_escape_cell(md, sb_str(&nb));
        sb_puts(md, " |\n");
    }
    sb_free(&nb);
    return shown;
}

void report_phases_md(struct strbuf *md, const struct report_input *in)
{
    size_t total[NFLAGS] = {0}, rows = 0, old = 0, shown = 0;
    struct strbuf tb = STRBUF_INIT;

    for (size_t k = 0; k < in->nlevels; k++) {
        sb_putc(&tb, '|');
        sb_putc(&tb, ' ');
        md_escape_cell(&tb, in->levels[k]);
        sb_putc(&tb, ' ');
    }
    sb_puts(&tb, "| group | phases | energy per run (J) | interval (J) | note |\n|");
    for (size_t k = 0; k < in->nlevels + 5; k++)
        sb_puts(&tb, "---|");
    sb_putc(&tb, '\n');
    for (size_t c = 0; c < in->nconfigs; c++) {
        struct pstat s;
        compute(in, &in->configs[c], &s);
        for (int g = 0; g < G_COUNT; g++)
            if (s.g[g].rows)
                shown += md_row(&tb, in, &in->configs[c], group_name[g], &s.g[g]);
        rows += s.rows;
        old += s.old_runs;
        for (int b = 0; b < NFLAGS; b++)
            total[b] += s.flag[b];
    }
    sb_puts(md, "\n## Phase groups\n\n");
    if (shown) {
        sb_puts(md, "Phase groups whose phases.csv rows carry a warning flag "
                    "(docs/run-directory.md), per configuration: the phase rows (one per phase "
                    "and meter, over all runs), the GPU energy per run (mean over runs) and its "
                    "interval [energy_j_lo, energy_j_hi], and the note.\n\n");
        sb_append(md, sb_str(&tb), tb.len);
        sb_putc(md, '\n');
    } else {
        sb_puts(md, "No phase group carries a warning flag (below_resolution, aliasing, "
                    "unlocated, floored).\n\n");
    }
    sb_free(&tb);
    sb_printf(md, "Phase flags over %zu phase row%s:", rows, rows == 1 ? "" : "s");
    for (int b = 0; b < NFLAGS; b++)
        sb_printf(md, "%s %s %zu", b ? "," : "", jb_phase_flag_name(1u << b), total[b]);
    sb_puts(md, ".");
    if (old)
        sb_printf(md, " %zu run(s) predate the flags column (none counted there).", old);
    sb_putc(md, '\n');
}
