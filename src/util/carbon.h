/*
 * carbon.h - conversion factors from measured energy to facility energy, CO2e and cost, each
 * with its source: the grid intensity (g CO2e per kWh), the price per kWh (and its currency) and
 * the PUE (power usage effectiveness, facility energy / IT energy, >= 1).  Used by 'stat' (its
 * options), the grid file (keys carbon_intensity, price, currency, pue, region, carried into each
 * run's manifest.json as "carbon_factors") and 'report' (per run, its own factors or the report's
 * overrides).  Also the shipped region table (carbon-data/carbon-intensity.csv, compiled in as
 * carbon_regions.c: never a network call).
 *
 * Arithmetic: facility_kwh = energy_j * pue / 3.6e6; kg_co2e = facility_kwh * intensity / 1000;
 * cost = facility_kwh * price.  A factor not given is NaN and nothing is derived from it; a PUE
 * not given is 1 (no facility overhead) with a source saying so: it is never presented as a
 * measurement.  Pure functions: nothing here prints or exits.
 */
#ifndef JB_SRC_UTIL_CARBON_H
#define JB_SRC_UTIL_CARBON_H

#include <stddef.h>

#define CARBON_SOURCE_MAX 320
#define CARBON_CURRENCY_MAX 8
#define CARBON_REGION_MAX 8

/* Ranges accepted (the same on the command line and in grid files). */
#define CARBON_INTENSITY_MAX 3000.0 /* g CO2e / kWh; the dirtiest grids are ~1000 */
#define CARBON_PUE_MIN 1.0
#define CARBON_PUE_MAX 3.0
#define CARBON_PRICE_MAX 1e6 /* per kWh, in any currency */

struct carbon_factors {
    double intensity_g_per_kwh; /* NaN: not given */
    char intensity_source[CARBON_SOURCE_MAX];
    double price_per_kwh;               /* NaN: not given */
    char currency[CARBON_CURRENCY_MAX]; /* "" when not given */
    char price_source[CARBON_SOURCE_MAX];
    double pue; /* NaN: not given (1 is used, carbon_pue) */
    char pue_source[CARBON_SOURCE_MAX];
    char region[CARBON_REGION_MAX]; /* the region looked up, "" when none */
};

/* Every factor not given. */
void carbon_init(struct carbon_factors *f);
/* 1 when an intensity or a price is given (then there is something to compute). */
int carbon_any(const struct carbon_factors *f);
/* The PUE used: the given one, else 1. */
double carbon_pue(const struct carbon_factors *f);
/* "command line", "assumed 1 (not given: no facility overhead)"... */
const char *carbon_pue_source(const struct carbon_factors *f);
/* Fields of over that are given replace those of f (a report's options over a run's). */
void carbon_merge(struct carbon_factors *f, const struct carbon_factors *over);
/* 1 when the two give the same factors (values and currency; sources not compared). */
int carbon_same(const struct carbon_factors *a, const struct carbon_factors *b);

/* Parsers of one value each; 0, or -1 with a message saying what is expected in err (no
 * subject: callers prefix "--pue '4': " or "FILE:LINE: pue: "). */
int carbon_check_intensity(double v, char *err, size_t errlen);
int carbon_check_pue(double v, char *err, size_t errlen);
int carbon_check_price(double v, char *err, size_t errlen);
int carbon_parse_number(const char *s, double *out, char *err, size_t errlen);
/* A currency: an ISO 4217 code, 3 letters, stored upper-cased. */
int carbon_parse_currency(const char *s, char *out, char *err, size_t errlen);
/* "0.30", "0.30EUR" or "0.30 EUR": the price, and the currency when one follows (else out_cur
 * is left as it is). */
int carbon_parse_price(const char *s, double *price, char *out_cur, char *err, size_t errlen);

/* Sets f's intensity from the region table; 0, or -1 with err (unknown code: the message says
 * where the codes are listed).  Codes are ISO 3166-1 alpha-3 (FRA, USA, DEU), any case. */
int carbon_set_region(struct carbon_factors *f, const char *code, char *err, size_t errlen);

/* The shipped region table (carbon_regions.c, generated from carbon-data/carbon-intensity.csv). */
struct carbon_region {
    const char *code;    /* ISO 3166-1 alpha-3 */
    const char *country; /* as the source names it */
    double g_per_kwh;
    int year;
};
extern const struct carbon_region carbon_regions[];
extern const size_t carbon_n_regions;
extern const char carbon_regions_citation[]; /* where the numbers come from, one line */
const struct carbon_region *carbon_region_find(const char *code);

/* Derived figures of an energy in joules; NaN where a factor (or the energy) is missing. */
struct carbon_result {
    double facility_kwh;
    double kg_co2e;
    double cost;
};
void carbon_compute(const struct carbon_factors *f, double energy_j, struct carbon_result *r);

/* Writes the factors as a JSON object (the "factors" of report.json, "carbon_factors" of a
 * manifest and of stat's JSON): {"carbon_intensity_g_per_kwh": {"value", "source"} or null,
 * "price_per_kwh": {"value", "currency", "source"} or null, "pue": {"value", "source",
 * "assumed"}, "region": "FRA" or null, "energy_to_kwh": "...", "formula": "..."}. */
struct jsonw;
void carbon_json_factors(struct jsonw *w, const struct carbon_factors *f);
/* Reads what carbon_json_factors wrote (a manifest's "carbon_factors"); unknown or malformed
 * members leave the factor not given. */
struct jb_json;
void carbon_from_json(const struct jb_json *obj, struct carbon_factors *f);

#endif
