/*
 * grid_carbon.c - the grid keys of the carbon and cost factors (carbon_intensity, price,
 * currency, pue, region) into grid.carbon, each checked against the ranges of util/carbon.h,
 * with "FILE:LINE: KEY: ..." messages; each factor's source names the file and line.  The
 * runner passes them to measure (measure_opts.carbon), which writes them into every run's
 * manifest.json, where 'report' finds them.  Nothing here computes a figure.
 */
#include "run/grid_int.h"

#include "util/carbon.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void set_source(struct gp *p, const yaml_node_t *n, char *dst, size_t len)
{
    snprintf(dst, len, "grid file %s:%lu", p->path, node_line(n));
}

/* A scalar number in a range checked by check(); the message is the checker's. */
static int get_factor(struct gp *p, const yaml_node_t *n, const char *key,
                      int (*check)(double, char *, size_t), double *out)
{
    char msg[256];

    if (n->type != YAML_SCALAR_NODE || is_null(n))
        return gp_fail(p, n, key, "expected a number, got %s",
                       n->type == YAML_SCALAR_NODE ? "nothing" : node_what(n));
    if (carbon_parse_number(scalar(n), out, msg, sizeof(msg)) < 0 ||
        check(*out, msg, sizeof(msg)) < 0)
        return gp_fail(p, n, key, "'%s': %s", scalar(n), msg);
    return 0;
}

int gp_parse_carbon(struct gp *p, const yaml_node_t *intensity, const yaml_node_t *price,
                    const yaml_node_t *currency, const yaml_node_t *pue, const yaml_node_t *region)
{
    struct carbon_factors *f = &p->g->carbon;
    char msg[256];

    if (intensity && region)
        return gp_fail(p, region, "region",
                       "give carbon_intensity or region, not both (carbon_intensity is at line "
                       "%lu)",
                       node_line(intensity));
    if (intensity) {
        if (get_factor(p, intensity, "carbon_intensity", carbon_check_intensity,
                       &f->intensity_g_per_kwh) < 0)
            return -1;
        set_source(p, intensity, f->intensity_source, sizeof(f->intensity_source));
    }
    if (region) {
        if (region->type != YAML_SCALAR_NODE || is_null(region))
            return gp_fail(p, region, "region", "expected a region code such as FRA, got %s",
                           region->type == YAML_SCALAR_NODE ? "nothing" : node_what(region));
        if (carbon_set_region(f, scalar(region), msg, sizeof(msg)) < 0)
            return gp_fail(p, region, "region", "'%s': %s", scalar(region), msg);
        /* the source says where the code was given too (cut to fit, never overflowing) */
        char src[CARBON_SOURCE_MAX];
        int k = snprintf(src, sizeof(src), "grid file %s:%lu, ", p->path, node_line(region));
        if (k > 0 && (size_t)k < sizeof(src)) {
            size_t room = sizeof(src) - (size_t)k;
            memcpy(src + k, f->intensity_source, room - 1);
            src[sizeof(src) - 1] = '\0';
            memcpy(f->intensity_source, src, sizeof(src));
        }
    }
    if (price) {
        if (get_factor(p, price, "price", carbon_check_price, &f->price_per_kwh) < 0)
            return -1;
        set_source(p, price, f->price_source, sizeof(f->price_source));
    }
    if (currency) {
        if (currency->type != YAML_SCALAR_NODE || is_null(currency) ||
            carbon_parse_currency(scalar(currency), f->currency, msg, sizeof(msg)) < 0)
            return gp_fail(p, currency, "currency", "%s%s%s: expected a currency code such as EUR",
                           currency->type == YAML_SCALAR_NODE ? "'" : "",
                           currency->type == YAML_SCALAR_NODE ? scalar(currency)
                                                              : node_what(currency),
                           currency->type == YAML_SCALAR_NODE ? "'" : "");
        if (!price)
            return gp_fail(p, currency, "currency", "needs a price (the price per kWh)");
    }
    if (pue) {
        if (get_factor(p, pue, "pue", carbon_check_pue, &f->pue) < 0)
            return -1;
        set_source(p, pue, f->pue_source, sizeof(f->pue_source));
    }
    return 0;
}
