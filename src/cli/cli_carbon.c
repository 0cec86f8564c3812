/*
 * cli_carbon.c - the carbon and cost options of 'stat' and 'report' and stat's carbon lines (see
 * cli_carbon.h).  The arithmetic is util/carbon.c's.
 */
#include "cli/cli_carbon.h"

#include "cli/cli.h"
#include "run/measure.h"
#include "util/jsonw.h"

#include <math.h>
#include <string.h>

const char cli_carbon_help[] =
    "      --carbon-intensity G  grid carbon intensity, g CO2e per kWh (0..3000): adds kWh\n"
    "                            and kg CO2e\n"
    "      --region CODE         the intensity of a country (ISO 3166-1 alpha-3: FRA, DEU,\n"
    "                            USA) from the shipped table (carbon-data/README.md: Our World\n"
    "                            in Data / Ember, yearly average); not with --carbon-intensity\n"
    "      --price P[CUR]        electricity price per kWh (>= 0), e.g. 0.30 or 0.30EUR: adds\n"
    "                            the cost\n"
    "      --currency CUR        the price's currency (EUR, USD...), if not given with --price\n"
    "      --pue X               power usage effectiveness of the facility (1..3): facility\n"
    "                            kWh = measured kWh x X; without it 1 (no overhead) is used,\n"
    "                            and said to be an assumption\n";

int cli_carbon_is_option(int opt)
{
    return opt >= CLI_OPT_CARBON_INTENSITY && opt <= CLI_OPT_PUE;
}

int cli_carbon_option(int opt, const char *arg, struct carbon_factors *f, const char *usage)
{
    char msg[256];
    double v;

    /* an intensity given twice over, by value and by region */
    if ((opt == CLI_OPT_CARBON_INTENSITY && f->region[0]) ||
        (opt == CLI_OPT_REGION && !isnan(f->intensity_g_per_kwh) && !f->region[0]))
        return cli_usage_error(usage, "give --carbon-intensity or --region, not both");
    switch (opt) {
    case CLI_OPT_CARBON_INTENSITY:
        if (carbon_parse_number(arg, &v, msg, sizeof(msg)) < 0 ||
            carbon_check_intensity(v, msg, sizeof(msg)) < 0)
            return cli_usage_error(usage, "bad --carbon-intensity '%s': %s", arg, msg);
        f->intensity_g_per_kwh = v;
        snprintf(f->intensity_source, sizeof(f->intensity_source), "command line");
        return 0;
    case CLI_OPT_REGION:
        if (carbon_set_region(f, arg, msg, sizeof(msg)) < 0)
            return cli_usage_error(usage, "bad --region '%s': %s", arg, msg);
        return 0;
    case CLI_OPT_PRICE:
        if (carbon_parse_price(arg, &v, f->currency, msg, sizeof(msg)) < 0)
            return cli_usage_error(usage, "bad --price '%s': %s", arg, msg);
        f->price_per_kwh = v;
        snprintf(f->price_source, sizeof(f->price_source), "command line");
        return 0;
    case CLI_OPT_CURRENCY:
        if (carbon_parse_currency(arg, f->currency, msg, sizeof(msg)) < 0)
            return cli_usage_error(usage, "bad --currency '%s': %s", arg, msg);
        return 0;
    case CLI_OPT_PUE:
        if (carbon_parse_number(arg, &v, msg, sizeof(msg)) < 0 ||
            carbon_check_pue(v, msg, sizeof(msg)) < 0)
            return cli_usage_error(usage, "bad --pue '%s': %s", arg, msg);
        f->pue = v;
        snprintf(f->pue_source, sizeof(f->pue_source), "command line");
        return 0;
    default: return cli_usage_error(usage, "unknown option");
    }
}

int cli_carbon_finish(const struct carbon_factors *f, const char *usage)
{
    if (f->currency[0] && isnan(f->price_per_kwh))
        return cli_usage_error(usage, "--currency needs --price (the price per kWh)");
    return 0;
}

double cli_carbon_stat_energy(const struct measure_result *r, const char **included)
{
    static char buf[512];
    size_t len = 0;
    double sum = 0.0;
    int sim = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < r->n_meters; i++) {
        const struct measure_meter_total *t = &r->meters[i];
        if (isnan(t->energy_j))
            continue;
        sum += t->energy_j;
        sim |= t->simulated;
        if (len < sizeof(buf))
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? " + " : "", t->id);
    }
    if (sim && len < sizeof(buf))
        snprintf(buf + len, sizeof(buf) - len, " (SIMULATED)");
    *included = buf[0] ? buf : "no meter";
    return sum;
}

int cli_carbon_stat_simulated(const struct measure_result *r)
{
    for (size_t i = 0; i < r->n_meters; i++)
        if (r->meters[i].simulated && !isnan(r->meters[i].energy_j))
            return 1;
    return 0;
}

/* The currency for a cost figure: the one given, else "(no currency given)". */
static const char *cli_carbon_currency(const struct carbon_factors *f)
{
    return f->currency[0] ? f->currency : "(no currency given)";
}

int cli_carbon_note(const struct carbon_factors *f, enum cli_carbon_figure k, char *buf, size_t n)
{
    switch (k) {
    case CLI_CARBON_KWH:
        snprintf(buf, n, "(x PUE %g: %s)", carbon_pue(f), carbon_pue_source(f));
        return 0;
    case CLI_CARBON_CO2E:
        if (isnan(f->intensity_g_per_kwh))
            return -1;
        snprintf(buf, n, "(%g g/kWh: %s)", f->intensity_g_per_kwh, f->intensity_source);
        return 0;
    case CLI_CARBON_COST:
        if (isnan(f->price_per_kwh))
            return -1;
        snprintf(buf, n, "(%g %s/kWh: %s)", f->price_per_kwh,
                 f->currency[0] ? f->currency : "units", f->price_source);
        return 0;
    }
    return -1;
}

void cli_carbon_stat_print(FILE *out, const struct carbon_factors *f,
                           const struct measure_result *mr)
{
    struct carbon_result r;
    const char *included;
    char note[CARBON_SOURCE_MAX + 64];
    double energy_j;

    if (!carbon_any(f))
        return;
    energy_j = cli_carbon_stat_energy(mr, &included);
    carbon_compute(f, energy_j, &r);
    fprintf(out, "  energy counted    %.3f J: %s, idle baseline not subtracted\n", energy_j,
            included);
    cli_carbon_note(f, CLI_CARBON_KWH, note, sizeof(note));
    fprintf(out, "  facility energy   %.6g kWh  %s\n", r.facility_kwh, note);
    if (!isnan(r.kg_co2e) && cli_carbon_note(f, CLI_CARBON_CO2E, note, sizeof(note)) == 0)
        fprintf(out, "  carbon            %.6g kg CO2e  %s\n", r.kg_co2e, note);
    if (!isnan(r.cost) && cli_carbon_note(f, CLI_CARBON_COST, note, sizeof(note)) == 0)
        fprintf(out, "  cost              %.6g %s  %s\n", r.cost, cli_carbon_currency(f), note);
    fputc('\n', out);
}

void cli_carbon_stat_json(struct jsonw *w, const struct carbon_factors *f,
                          const struct measure_result *mr)
{
    struct carbon_result r;
    const char *included;
    double energy_j;

    if (!carbon_any(f))
        return;
    energy_j = cli_carbon_stat_energy(mr, &included);
    carbon_compute(f, energy_j, &r);
    jw_key(w, "carbon_factors");
    carbon_json_factors(w, f);
    jw_key(w, "carbon");
    jw_object_begin(w);
    jw_kv_number(w, "energy_j", energy_j);
    jw_kv_string(w, "included", included);
    jw_kv_number(w, "facility_kwh", r.facility_kwh);
    jw_kv_number(w, "kg_co2e", r.kg_co2e);
    jw_kv_number(w, "cost", r.cost);
    jw_key(w, "currency");
    f->currency[0] ? jw_string(w, f->currency) : jw_null(w);
    jw_object_end(w);
}
