/*
 * cli_carbon.h - the carbon and cost options shared by 'stat' and 'report' (--carbon-intensity,
 * --region, --price, --currency, --pue), and stat's carbon lines and JSON keys.  The factors and
 * their arithmetic are util/carbon.h; this is only their command-line face.
 */
#ifndef JB_SRC_CLI_CLI_CARBON_H
#define JB_SRC_CLI_CLI_CARBON_H

#include "util/carbon.h"

#include <stdio.h>

/* getopt_long codes of the options (outside any short option's range). */
enum {
    CLI_OPT_CARBON_INTENSITY = 0x4300,
    CLI_OPT_REGION,
    CLI_OPT_PRICE,
    CLI_OPT_CURRENCY,
    CLI_OPT_PUE,
};

/* The entries of a struct option array, to put before its terminator. */
// clang-format off
#define CLI_CARBON_LONGOPTS                                                                        \
    {"carbon-intensity", required_argument, NULL, CLI_OPT_CARBON_INTENSITY},                       \
    {"region", required_argument, NULL, CLI_OPT_REGION},                                           \
    {"price", required_argument, NULL, CLI_OPT_PRICE},                                             \
    {"currency", required_argument, NULL, CLI_OPT_CURRENCY},                                       \
    {"pue", required_argument, NULL, CLI_OPT_PUE}
// clang-format on

/* The options' lines for a --help text. */
extern const char cli_carbon_help[];

/* 1 when opt is one of the options above. */
int cli_carbon_is_option(int opt);
/* Applies option opt with argument arg to f (source "command line").  Returns 0, or prints the
 * usage error and returns JB_EXIT_USAGE. */
int cli_carbon_option(int opt, const char *arg, struct carbon_factors *f, const char *usage);
/* After every option: --currency without --price is a usage error (JB_EXIT_USAGE, printed);
 * else 0.  (--region with --carbon-intensity is refused by cli_carbon_option.) */
int cli_carbon_finish(const struct carbon_factors *f, const char *usage);

/* The energy stat converts: the sum over every meter of its energy over the command (GPU, CPU
 * package, DRAM, simulated; idle baseline not subtracted).  *included names the meters summed
 * (a static buffer, overwritten by the next call). */
struct measure_result;
double cli_carbon_stat_energy(const struct measure_result *r, const char **included);
/* 1 when a meter that cli_carbon_stat_energy counts is simulated (its *included then says so). */
int cli_carbon_stat_simulated(const struct measure_result *r);
/* The figures of stat's carbon lines, and the note beside each: its factor and the factor's
 * source, "(x PUE 1.5: command line)", "(400 g/kWh: ...)", "(0.25 EUR/kWh: ...)".  The one-run
 * lines and -r's summary (stat_table.c) both take their notes from here. */
enum cli_carbon_figure { CLI_CARBON_KWH, CLI_CARBON_CO2E, CLI_CARBON_COST };
/* Writes figure k's note into buf; 0, or -1 when its factor is not given (no such line). */
int cli_carbon_note(const struct carbon_factors *f, enum cli_carbon_figure k, char *buf, size_t n);
/* stat's lines under its table (nothing when no factor is given): facility kWh, CO2e and cost,
 * each with its factor and that factor's source. */
void cli_carbon_stat_print(FILE *out, const struct carbon_factors *f,
                           const struct measure_result *r);
struct jsonw;
/* stat's JSON keys (nothing when no factor is given): "carbon_factors" (carbon_json_factors) and
 * "carbon": {"energy_j", "included", "facility_kwh", "kg_co2e", "cost", "currency"}. */
void cli_carbon_stat_json(struct jsonw *w, const struct carbon_factors *f,
                          const struct measure_result *r);

#endif
