/*
 * carbon.c - conversion factors (grid intensity, price, PUE) with their sources, their checks,
 * the region look-up and the arithmetic from joules to facility kWh, kg CO2e and cost (see
 * carbon.h).  Not a printer: 'stat' and 'report' format the figures themselves.
 */
#include "util/carbon.h"

#include "json.h"
#include "util/jsonw.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define J_PER_KWH 3.6e6 /* 1 kWh = 1000 W x 3600 s */

static const char pue_default_source[] = "assumed 1 (not given: no facility overhead counted)";

void carbon_init(struct carbon_factors *f)
{
    memset(f, 0, sizeof(*f));
    f->intensity_g_per_kwh = NAN;
    f->price_per_kwh = NAN;
    f->pue = NAN;
}

int carbon_any(const struct carbon_factors *f)
{
    return !isnan(f->intensity_g_per_kwh) || !isnan(f->price_per_kwh);
}

double carbon_pue(const struct carbon_factors *f)
{
    return isnan(f->pue) ? 1.0 : f->pue;
}

const char *carbon_pue_source(const struct carbon_factors *f)
{
    return isnan(f->pue) ? pue_default_source : f->pue_source;
}

void carbon_merge(struct carbon_factors *f, const struct carbon_factors *over)
{
    if (!isnan(over->intensity_g_per_kwh)) {
        f->intensity_g_per_kwh = over->intensity_g_per_kwh;
        memcpy(f->intensity_source, over->intensity_source, sizeof(f->intensity_source));
        memcpy(f->region, over->region, sizeof(f->region));
    }
    if (!isnan(over->price_per_kwh)) {
        f->price_per_kwh = over->price_per_kwh;
        memcpy(f->price_source, over->price_source, sizeof(f->price_source));
        if (over->currency[0] || !f->currency[0])
            memcpy(f->currency, over->currency, sizeof(f->currency));
    } else if (over->currency[0]) {
        memcpy(f->currency, over->currency, sizeof(f->currency));
    }
    if (!isnan(over->pue)) {
        f->pue = over->pue;
        memcpy(f->pue_source, over->pue_source, sizeof(f->pue_source));
    }
}

static int same_num(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

int carbon_same(const struct carbon_factors *a, const struct carbon_factors *b)
{
    return same_num(a->intensity_g_per_kwh, b->intensity_g_per_kwh) &&
           same_num(a->price_per_kwh, b->price_per_kwh) && same_num(a->pue, b->pue) &&
           !strcmp(a->currency, b->currency);
}

int carbon_check_intensity(double v, char *err, size_t errlen)
{
    if (isfinite(v) && v >= 0 && v <= CARBON_INTENSITY_MAX)
        return 0;
    snprintf(err, errlen, "expected g CO2e per kWh from 0 to %g", CARBON_INTENSITY_MAX);
    return -1;
}

int carbon_check_pue(double v, char *err, size_t errlen)
{
    if (isfinite(v) && v >= CARBON_PUE_MIN && v <= CARBON_PUE_MAX)
        return 0;
    snprintf(err, errlen,
             "expected a PUE from %g to %g (facility energy / IT energy; 1 is no overhead)",
             CARBON_PUE_MIN, CARBON_PUE_MAX);
    return -1;
}

int carbon_check_price(double v, char *err, size_t errlen)
{
    if (isfinite(v) && v >= 0 && v <= CARBON_PRICE_MAX)
        return 0;
    snprintf(err, errlen, "expected a price per kWh >= 0 (at most %g)", CARBON_PRICE_MAX);
    return -1;
}

int carbon_parse_number(const char *s, double *out, char *err, size_t errlen)
{
    char *end = NULL;
    double v;

    if (!s || !*s || isspace((unsigned char)*s)) {
        snprintf(err, errlen, "expected a number");
        return -1;
    }
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v)) {
        snprintf(err, errlen, "expected a number");
        return -1;
    }
    *out = v;
    return 0;
}

int carbon_parse_currency(const char *s, char *out, char *err, size_t errlen)
{
    size_t n = s ? strlen(s) : 0;

    int ok = n == 3;

    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)s[i] < 0x80 && isalpha((unsigned char)s[i]);
    if (!ok) {
        snprintf(err, errlen, "expected a 3-letter currency code (ISO 4217: EUR, USD, GBP)");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (char)toupper((unsigned char)s[i]);
    out[n] = '\0';
    return 0;
}

int carbon_parse_price(const char *s, double *price, char *out_cur, char *err, size_t errlen)
{
    char num[64];
    const char *cur;
    size_t n;

    if (!s) {
        snprintf(err, errlen, "expected a price per kWh");
        return -1;
    }
    /* the number is what strtod's grammar takes, the currency the letters after it */
    for (cur = s + strlen(s); cur > s && isalpha((unsigned char)cur[-1]); cur--)
        ;
    n = (size_t)(cur - s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    if (n == 0 || n >= sizeof(num)) {
        snprintf(err, errlen, "expected a price per kWh such as 0.30 or 0.30EUR");
        return -1;
    }
    memcpy(num, s, n);
    num[n] = '\0';
    if (carbon_parse_number(num, price, err, errlen) < 0) {
        snprintf(err, errlen, "expected a price per kWh such as 0.30 or 0.30EUR");
        return -1;
    }
    if (carbon_check_price(*price, err, errlen) < 0)
        return -1;
    if (*cur && carbon_parse_currency(cur, out_cur, err, errlen) < 0)
        return -1;
    return 0;
}

const struct carbon_region *carbon_region_find(const char *code)
{
    char up[CARBON_REGION_MAX];
    size_t n = code ? strlen(code) : 0;

    if (n == 0 || n >= sizeof(up))
        return NULL;
    for (size_t i = 0; i < n && i < sizeof(up) - 1; i++)
        up[i] = (char)toupper((unsigned char)code[i]);
    up[n] = '\0';
    /* the table is sorted by code (the generator sorts it; test_carbon checks) */
    size_t lo = 0, hi = carbon_n_regions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(carbon_regions[mid].code, up);
        if (c == 0)
            return &carbon_regions[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int carbon_set_region(struct carbon_factors *f, const char *code, char *err, size_t errlen)
{
    const struct carbon_region *r = carbon_region_find(code);

    if (!r) {
        snprintf(err, errlen,
                 "unknown region (expected an ISO 3166-1 alpha-3 code such as FRA, DEU, USA; the "
                 "codes are listed in carbon-data/carbon-intensity.csv)");
        return -1;
    }
    f->intensity_g_per_kwh = r->g_per_kwh;
    snprintf(f->region, sizeof(f->region), "%s", r->code);
    snprintf(f->intensity_source, sizeof(f->intensity_source), "region %s (%s, %d): %s", r->code,
             r->country, r->year, carbon_regions_citation);
    return 0;
}

void carbon_compute(const struct carbon_factors *f, double energy_j, struct carbon_result *r)
{
    r->facility_kwh = energy_j * carbon_pue(f) / J_PER_KWH;
    r->kg_co2e = r->facility_kwh * f->intensity_g_per_kwh / 1000.0;
    r->cost = r->facility_kwh * f->price_per_kwh;
}

void carbon_json_factors(struct jsonw *w, const struct carbon_factors *f)
{
    jw_object_begin(w);
    jw_key(w, "carbon_intensity_g_per_kwh");
    if (isnan(f->intensity_g_per_kwh)) {
        jw_null(w);
    } else {
        jw_object_begin(w);
        jw_kv_number(w, "value", f->intensity_g_per_kwh);
        jw_kv_string(w, "source", f->intensity_source);
        jw_object_end(w);
    }
    jw_key(w, "price_per_kwh");
    if (isnan(f->price_per_kwh)) {
        jw_null(w);
    } else {
        jw_object_begin(w);
        jw_kv_number(w, "value", f->price_per_kwh);
        jw_key(w, "currency");
        f->currency[0] ? jw_string(w, f->currency) : jw_null(w);
        jw_kv_string(w, "source", f->price_source);
        jw_object_end(w);
    }
    jw_key(w, "pue");
    jw_object_begin(w);
    jw_kv_number(w, "value", carbon_pue(f));
    jw_kv_string(w, "source", carbon_pue_source(f));
    jw_kv_bool(w, "assumed", isnan(f->pue));
    jw_object_end(w);
    jw_key(w, "region");
    f->region[0] ? jw_string(w, f->region) : jw_null(w);
    jw_kv_string(w, "energy_to_kwh", "1 kWh = 3.6e6 J");
    jw_kv_string(w, "formula",
                 "facility_kwh = energy_j * pue / 3.6e6; kg_co2e = facility_kwh * "
                 "carbon_intensity_g_per_kwh / 1000; cost = facility_kwh * "
                 "price_per_kwh");
    jw_object_end(w);
}

static void copy_src(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "run manifest");
}

void carbon_from_json(const struct jb_json *obj, struct carbon_factors *f)
{
    const struct jb_json *v;
    char err[160];
    double d;

    carbon_init(f);
    if (!obj || obj->type != JB_JSON_OBJECT)
        return;
    v = jb__json_get(obj, "carbon_intensity_g_per_kwh");
    d = v ? jb__json_num(v, "value", NAN) : NAN;
    if (!isnan(d) && carbon_check_intensity(d, err, sizeof(err)) == 0) {
        f->intensity_g_per_kwh = d;
        copy_src(f->intensity_source, sizeof(f->intensity_source), jb__json_str(v, "source", NULL));
    }
    v = jb__json_get(obj, "price_per_kwh");
    d = v ? jb__json_num(v, "value", NAN) : NAN;
    if (!isnan(d) && carbon_check_price(d, err, sizeof(err)) == 0) {
        const char *cur = jb__json_str(v, "currency", NULL);
        f->price_per_kwh = d;
        copy_src(f->price_source, sizeof(f->price_source), jb__json_str(v, "source", NULL));
        if (cur && carbon_parse_currency(cur, f->currency, err, sizeof(err)) < 0)
            f->currency[0] = '\0';
    }
    v = jb__json_get(obj, "pue");
    d = v ? jb__json_num(v, "value", NAN) : NAN;
    if (v && jb__json_get(v, "assumed") && jb__json_get(v, "assumed")->type == JB_JSON_BOOL &&
        jb__json_get(v, "assumed")->boolean)
        d = NAN; /* an assumption stays one */
    if (!isnan(d) && carbon_check_pue(d, err, sizeof(err)) == 0) {
        f->pue = d;
        copy_src(f->pue_source, sizeof(f->pue_source), jb__json_str(v, "source", NULL));
    }
    const char *reg = jb__json_str(obj, "region", NULL);
    if (reg && strlen(reg) < sizeof(f->region))
        snprintf(f->region, sizeof(f->region), "%s", reg);
}
