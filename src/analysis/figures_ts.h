/*
 * figures_ts.h - what Fig. 1 (figures_timeseries.c) draws, as figures_ts_load.c reads it from a
 * run directory: each run's meters with their gauge samples and its phases.  Private to the two.
 */
#ifndef JB_FIGURES_TS_H
#define JB_FIGURES_TS_H

#include <limits.h>
#include <stddef.h>

#define MAX_RUNS 6
#define MAX_METERS 8
#define MAX_BUCKETS 1200
#define MAX_PHASES 4096
#define NQ 4 /* quantities: power, temperature, utilisation, memory utilisation */

struct ts_point {
    double t_s;
    double v[NQ];
};

struct ts_meter {
    char *id;
    struct ts_point *p;
    size_t n, cap;
    int has[NQ];
};

enum ts_kind { TS_IDLE, TS_STARTUP, TS_EPOCH, TS_EVAL };

struct ts_phase {
    enum ts_kind kind;
    long index;
    double t0, t1; /* relative to the run's origin */
};

struct ts_run {
    char label[128];
    char dir[PATH_MAX];
    size_t colour; /* style index */
    struct ts_meter m[MAX_METERS];
    size_t nm, prim;
    struct ts_phase *ph;
    size_t nph;
    double origin;  /* absolute t_s of time 0: the command's start, else the first sample */
    double idle_w;  /* idle baseline's mean power of the primary meter; NaN when none */
    size_t bad;     /* malformed rows skipped */
    int has_origin; /* the command phase gave the origin */
};

/* Loads run r (r->dir set): 1 when it cannot be drawn (the reason in why), 0, or -1 with err. */
int ts_load_run(struct ts_run *r, char *why, size_t whylen, char *err, size_t errlen);

/* Frees what ts_load_run allocated and clears *r. */
void ts_run_free(struct ts_run *r);

#endif /* JB_FIGURES_TS_H */
