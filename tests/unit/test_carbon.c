/*
 * test_carbon.c - util/carbon: the arithmetic (3.6 MJ is 1 kWh, then x PUE, x intensity, x
 * price), the value checks at their bounds, the price and currency grammar, the region table
 * (sorted, so the binary search finds every code; values in range), merging a report's options
 * over a run's factors, and the JSON round trip of a manifest's "carbon_factors".
 */
#include "json.h"
#include "util/carbon.h"
#include "util/jsonw.h"
#include "util/strbuf.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static char err[512];

static void test_compute(void **state)
{
    struct carbon_factors f;
    struct carbon_result r;

    (void)state;
    carbon_init(&f);
    assert_false(carbon_any(&f));
    carbon_compute(&f, 3.6e6, &r);
    assert_true(r.facility_kwh == 1.0); /* PUE not given: 1 */
    assert_true(isnan(r.kg_co2e) && isnan(r.cost));
    assert_non_null(strstr(carbon_pue_source(&f), "assumed"));
    f.intensity_g_per_kwh = 400;
    f.price_per_kwh = 0.25;
    f.pue = 1.5;
    carbon_compute(&f, 3.6e6, &r);
    assert_true(r.facility_kwh == 1.5);
    assert_true(r.kg_co2e == 0.6);
    assert_true(r.cost == 0.375);
    carbon_compute(&f, NAN, &r);
    assert_true(isnan(r.facility_kwh) && isnan(r.kg_co2e) && isnan(r.cost));
}

static void test_checks(void **state)
{
    (void)state;
    assert_int_equal(carbon_check_intensity(0, err, sizeof(err)), 0);
    assert_int_equal(carbon_check_intensity(3000, err, sizeof(err)), 0);
    assert_int_equal(carbon_check_intensity(3000.001, err, sizeof(err)), -1);
    assert_int_equal(carbon_check_intensity(-0.001, err, sizeof(err)), -1);
    assert_int_equal(carbon_check_intensity(NAN, err, sizeof(err)), -1);
    assert_int_equal(carbon_check_pue(1, err, sizeof(err)), 0);
    assert_int_equal(carbon_check_pue(3, err, sizeof(err)), 0);
    assert_int_equal(carbon_check_pue(0.999, err, sizeof(err)), -1);
    assert_int_equal(carbon_check_pue(INFINITY, err, sizeof(err)), -1);
    assert_int_equal(carbon_check_price(0, err, sizeof(err)), 0);
    assert_int_equal(carbon_check_price(-1e-9, err, sizeof(err)), -1);
}

static void test_price(void **state)
{
    char cur[CARBON_CURRENCY_MAX] = "";
    double p;

    (void)state;
    assert_int_equal(carbon_parse_price("0.30", &p, cur, err, sizeof(err)), 0);
    assert_true(p == 0.30);
    assert_string_equal(cur, "");
    assert_int_equal(carbon_parse_price("0.30eur", &p, cur, err, sizeof(err)), 0);
    assert_string_equal(cur, "EUR");
    assert_int_equal(carbon_parse_price("1e-1 USD", &p, cur, err, sizeof(err)), 0);
    assert_true(p == 0.1);
    assert_string_equal(cur, "USD");
    static const char *const bad[] = {"",    "EUR", "-1",  "0.3EURO",  "0.3E",
                                      "1,5", " 1",  "nan", "0.3 EUR x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (carbon_parse_price(bad[i], &p, cur, err, sizeof(err)) == 0)
            fail_msg("price '%s' accepted", bad[i]);
    assert_int_equal(carbon_parse_currency("gbp", cur, err, sizeof(err)), 0);
    assert_string_equal(cur, "GBP");
    assert_int_equal(carbon_parse_currency("G8P", cur, err, sizeof(err)), -1);
}

static void test_regions(void **state)
{
    struct carbon_factors f;

    (void)state;
    assert_true(carbon_n_regions > 200);
    for (size_t i = 0; i < carbon_n_regions; i++) {
        const struct carbon_region *r = &carbon_regions[i];
        if (i)
            assert_true(strcmp(carbon_regions[i - 1].code, r->code) < 0);
        assert_int_equal(strlen(r->code), 3);
        assert_int_equal(carbon_check_intensity(r->g_per_kwh, err, sizeof(err)), 0);
        assert_true(r->year >= 2000 && r->year <= 2100);
        assert_ptr_equal(carbon_region_find(r->code), r);
    }
    assert_null(carbon_region_find("XXX"));
    assert_null(carbon_region_find(""));
    assert_null(carbon_region_find("FRANCE"));
    carbon_init(&f);
    assert_int_equal(carbon_set_region(&f, "fra", err, sizeof(err)), 0);
    assert_true(f.intensity_g_per_kwh == 56.039);
    assert_string_equal(f.region, "FRA");
    assert_non_null(strstr(f.intensity_source, "France, 2023"));
    assert_int_equal(carbon_set_region(&f, "ATL", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "carbon-data/carbon-intensity.csv"));
}

static void test_merge_json(void **state)
{
    struct carbon_factors run, over, back;
    struct strbuf sb = STRBUF_INIT;
    struct jsonw w;
    struct jb_json *j = NULL;

    (void)state;
    carbon_init(&run);
    run.intensity_g_per_kwh = 100;
    strcpy(run.intensity_source, "grid file g.yaml:3");
    run.pue = 1.2;
    strcpy(run.pue_source, "grid file g.yaml:4");
    carbon_init(&over);
    over.price_per_kwh = 0.5;
    strcpy(over.price_source, "command line");
    strcpy(over.currency, "EUR");
    carbon_merge(&run, &over);
    assert_true(run.intensity_g_per_kwh == 100 && run.pue == 1.2 && run.price_per_kwh == 0.5);
    assert_string_equal(run.currency, "EUR");
    assert_string_equal(run.intensity_source, "grid file g.yaml:3");

    jw_init(&w, &sb, 0);
    carbon_json_factors(&w, &run);
    assert_int_equal(jb__json_parse(sb_str(&sb), sb.len, &j, err, sizeof(err)), 0);
    carbon_from_json(j, &back);
    assert_true(carbon_same(&run, &back));
    assert_string_equal(back.price_source, "command line");
    assert_string_equal(back.pue_source, "grid file g.yaml:4");
    jb__json_free(j);
    sb_free(&sb);

    /* an assumed PUE stays an assumption, not a given factor */
    carbon_init(&run);
    run.intensity_g_per_kwh = 5;
    sb = (struct strbuf)STRBUF_INIT;
    jw_init(&w, &sb, 0);
    carbon_json_factors(&w, &run);
    assert_int_equal(jb__json_parse(sb_str(&sb), sb.len, &j, err, sizeof(err)), 0);
    carbon_from_json(j, &back);
    assert_true(isnan(back.pue));
    jb__json_free(j);
    sb_free(&sb);
    /* out-of-range values in a manifest are not taken */
    static const char bad[] = "{\"carbon_intensity_g_per_kwh\": {\"value\": 9999}, \"pue\": "
                              "{\"value\": 0.5, \"assumed\": false}}";
    assert_int_equal(jb__json_parse(bad, strlen(bad), &j, err, sizeof(err)), 0);
    carbon_from_json(j, &back);
    assert_false(carbon_any(&back));
    assert_true(isnan(back.pue));
    jb__json_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compute),    cmocka_unit_test(test_checks),
        cmocka_unit_test(test_price),      cmocka_unit_test(test_regions),
        cmocka_unit_test(test_merge_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
