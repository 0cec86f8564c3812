/*
 * carbon_report.h - the report's facility energy, carbon and cost (corrected method): per run,
 * the run's own factors (manifest.json "carbon_factors", from its grid file or stat's options)
 * with the report's options (--carbon-intensity, --region, --price, --currency, --pue) over
 * them; per configuration the mean, sd, CI and total of the per-run figures; totals over all
 * runs.  The energy converted is each run's GPU energy (GPU and simulated meters, the report's
 * energy_j) plus its CPU package and DRAM energy where measured (cpu_energy_j), over the whole
 * command, idle baseline not subtracted, times the PUE.  Without any factor there are no carbon
 * columns, and report.json / summary.md say how to get them.  Arithmetic in util/carbon.h.
 */
#ifndef JB_SRC_ANALYSIS_CARBON_REPORT_H
#define JB_SRC_ANALYSIS_CARBON_REPORT_H

#include "analysis/report.h"
#include "analysis/stats.h"
#include "util/carbon.h"

enum { CR_KWH, CR_KG, CR_COST, CR_COUNT };

struct carbon_report {
    int active;                    /* some run has an intensity or a price */
    int has[CR_COUNT];             /* a column for this figure (some run gives its factor) */
    int uniform;                   /* every run has the same factors */
    int mixed_currency;            /* runs with prices in different currencies: no cost total */
    size_t nruns, with_cpu;        /* runs, and those with CPU/DRAM energy counted */
    struct carbon_factors *run;    /* per run, the factors used */
    double *fig;                   /* per run, CR_COUNT figures (NaN: none) */
    struct summary (*s)[CR_COUNT]; /* per configuration */
    double (*total)[CR_COUNT];     /* per configuration: sum over its runs */
    double all[CR_COUNT];          /* sum over every run */
};

/* gpu_j, cpu_j: per run (NaN: not measured).  over: the report's options (may be NULL).
 * Reads each run's manifest.json for its factors.  Returns 0, or -1 (out of memory). */
int carbon_report_init(struct carbon_report *cr, const struct report_input *in,
                       const struct carbon_factors *over, const double *gpu_j, const double *cpu_j);
void carbon_report_free(struct carbon_report *cr);

/* configs.csv: ",facility_kwh_mean,...,cost_total" (nothing when inactive). */
void carbon_report_csv_header(struct strbuf *sb, const struct carbon_report *cr);
void carbon_report_csv_row(struct strbuf *sb, const struct carbon_report *cr, size_t config);
/* report.json, inside a configuration's object: "facility_kwh", "kg_co2e", "cost" (mean, sd,
 * ci95, n, total) and, when the runs' factors differ, "factors". */
void carbon_report_json_config(struct jsonw *w, const struct carbon_report *cr,
                               const struct report_input *in, size_t config);
/* report.json, top level: "factors" (of the first run; null when none), "factors_uniform",
 * "carbon": {"included", "totals", ...} or null, and "carbon_note" when there are no factors. */
void carbon_report_json(struct jsonw *w, const struct carbon_report *cr);
/* summary.md: a table per configuration with totals, and the factors with their sources; or the
 * line saying how to get them. */
void carbon_report_md(struct strbuf *md, const struct carbon_report *cr,
                      const struct report_input *in);

#endif
