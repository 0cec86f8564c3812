/*
 * test_measure_sum.c - sums over the GPU meters of a measured execution (run/measure_sum.c): which
 * meters count, the total and per-phase sums, each GPU's share, the spread, missing values, and
 * the "gpu_total" JSON of stat.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "run/measure_sum.h"
#include "util/jsonw.h"
#include "util/strbuf.h"

static struct measure_meter_total meter(const char *id, double e, int sim)
{
    struct measure_meter_total t;
    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "%s", id);
    t.energy_j = e;
    t.energy_j_power = e + 1;
    t.avg_power_w = e / 10;
    t.simulated = sim;
    return t;
}

static struct jb_phase_result phase(const char *name, long index, size_t m, double e, double items)
{
    struct jb_phase_result p;
    memset(&p, 0, sizeof(p));
    snprintf(p.phase, sizeof(p.phase), "%s", name);
    p.index = index;
    p.meter = m;
    p.t_begin_ns = 1000000000u;
    p.t_end_ns = 3000000000u;
    p.valid = JB_PHASE_ENERGY | (isnan(items) ? 0u : JB_PHASE_ITEMS);
    p.energy_j = e;
    p.items = items;
    return p;
}

static void test_which_meters(void **state)
{
    (void)state;
    static const struct {
        const char *id;
        int sim, gpu;
    } tab[] = {{"gpu0", 0, 1},         {"gpu12", 0, 1}, {"gpu", 0, 0}, {"gpux", 0, 0},
               {"cpu-package0", 0, 0}, {"dram0", 0, 0}, {"sim0", 1, 1}};
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        struct measure_meter_total t = meter(tab[i].id, 1, tab[i].sim);
        assert_int_equal(measure_is_gpu_meter(&t), tab[i].gpu);
    }
}

static void test_spread(void **state)
{
    (void)state;
    double v[] = {100, NAN, 300}, lo, hi;
    assert_true(fabs(measure_spread(v, 3, &lo, &hi) - 1.0) < 1e-12);
    assert_true(lo == 100 && hi == 300);
    assert_true(isnan(measure_spread(v, 1, &lo, &hi)) && lo == 100 && hi == 100);
    double z[] = {0, 0};
    assert_true(isnan(measure_spread(z, 2, NULL, NULL)));
    assert_true(isnan(measure_spread(v + 1, 1, &lo, NULL)) && isnan(lo));
}

/* gpu0 100 J, cpu-package0 50 J (not a GPU), gpu2 300 J; epoch 1 on all three, eval 1 only on
 * gpu0 (gpu2's row missing: the sum is unknown, not gpu0's alone). */
static void make(struct measure_result *r, struct measure_meter_total *m, struct jb_phase_result *p)
{
    memset(r, 0, sizeof(*r));
    m[0] = meter("gpu0", 100, 0);
    m[1] = meter("cpu-package0", 50, 0);
    m[2] = meter("gpu2", 300, 0);
    p[0] = phase("epoch", 1, 0, 40, 1000);
    p[1] = phase("epoch", 1, 1, 10, 1000);
    p[2] = phase("epoch", 1, 2, 60, 1000);
    p[3] = phase("eval", 1, 0, 5, NAN);
    r->meters = m;
    r->n_meters = 3;
    r->phases = p;
    r->n_phases = 4;
}

static void test_sum(void **state)
{
    (void)state;
    struct measure_result r;
    struct measure_meter_total m[3];
    struct jb_phase_result p[4];
    struct measure_gpu_sum s;
    make(&r, m, p);
    assert_int_equal(measure_gpu_sum(&r, &s), 0);
    assert_int_equal(s.n_gpus, 2);
    assert_true(s.gpu[0] == 0 && s.gpu[1] == 2 && !s.simulated);
    assert_true(s.energy_j == 400 && s.energy_j_power == 402 && s.avg_power_w == 40);
    assert_true(s.min_j == 100 && s.max_j == 300 && fabs(s.spread - 1.0) < 1e-12);
    assert_int_equal(s.n_phases, 2);
    const struct measure_gpu_phase *e = &s.phases[0], *v = &s.phases[1];
    assert_string_equal(e->phase, "epoch");
    assert_true(e->energy_j == 100 && e->per_gpu_j[0] == 40 && e->per_gpu_j[1] == 60);
    assert_true(fabs(e->spread - 0.4) < 1e-12 && e->items == 1000 && e->duration_s == 2.0);
    assert_string_equal(v->phase, "eval");
    assert_true(isnan(v->energy_j) && v->per_gpu_j[0] == 5 && isnan(v->per_gpu_j[1]));
    assert_true(isnan(v->spread) && isnan(v->items));
    measure_gpu_sum_free(&s);

    /* No GPU meter: an empty sum, and "gpu_total": null. */
    r.meters = m + 1;
    r.n_meters = 1;
    r.n_phases = 0;
    assert_int_equal(measure_gpu_sum(&r, &s), 0);
    assert_true(s.n_gpus == 0 && s.n_phases == 0 && isnan(s.energy_j));
    measure_gpu_sum_free(&s);
}

static void test_json(void **state)
{
    (void)state;
    struct measure_result r;
    struct measure_meter_total m[3];
    struct jb_phase_result p[4];
    struct strbuf sb = STRBUF_INIT;
    struct jsonw w;
    make(&r, m, p);
    m[2].simulated = 1;
    jw_init(&w, &sb, 0);
    jw_object_begin(&w);
    measure_gpu_sum_json(&w, &r);
    jw_object_end(&w);
    const char *js = sb_str(&sb);
    assert_non_null(strstr(js, "\"gpu_total\":{\"gpus\":[\"gpu0\",\"gpu2\"],\"simulated\":true"));
    assert_non_null(strstr(js, "\"energy_j\":400"));
    assert_non_null(strstr(js, "\"per_gpu_j\":{\"gpu0\":40,\"gpu2\":60}"));
    assert_non_null(strstr(js, "\"per_gpu_j\":{\"gpu0\":5,\"gpu2\":null}"));
    assert_null(strstr(js, "cpu-package0"));
    sb_free(&sb);
    r.n_meters = 0;
    r.n_phases = 0;
    jw_init(&w, &sb, 0);
    jw_object_begin(&w);
    measure_gpu_sum_json(&w, &r);
    jw_object_end(&w);
    assert_string_equal(sb_str(&sb), "{\"gpu_total\":null}");
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_which_meters),
        cmocka_unit_test(test_spread),
        cmocka_unit_test(test_sum),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
