/*
 * test_grid.c - grid files: every bad input gives its file:line: key: message; expansion
 * (product, exclude, include, repeats), run ids, placeholder substitution, and an order that is a
 * pure function of the file.
 */
#include "run/grid.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char err[1024];

static struct grid *load(const char *text)
{
    return grid_load_string(text, strlen(text), "t.yaml", err, sizeof(err));
}

static struct grid *load_at(const char *text, const char *path)
{
    return grid_load_string(text, strlen(text), path, err, sizeof(err));
}

/* The text must fail with a message that starts with `prefix` and contains `part`. */
static void expect_error(const char *text, const char *prefix, const char *part)
{
    struct grid *g = load(text);
    if (g) {
        grid_free(g);
        fail_msg("no error for:\n%s", text);
    }
    if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, part))
        fail_msg("message '%s' does not start with '%s' and contain '%s'", err, prefix, part);
}

#define BASE "name: t\ncommand: [echo, hi]\n"

static void test_minimal(void **state)
{
    struct grid *g = load(BASE);
    (void)state;
    assert_non_null(g);
    assert_string_equal(g->name, "t");
    assert_int_equal(g->n_levels, 0);
    assert_int_equal(g->n_runs, 1);
    assert_string_equal(g->runs[0].run_id, "r1");
    assert_string_equal(g->meters, "auto");
    assert_int_equal(g->order, GRID_ORDER_SEQUENTIAL);
    grid_free(g);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_error("name: t\ncommand: [a, b\n", "t.yaml:3:", "not valid YAML");
    expect_error("", "t.yaml:1:", "empty grid file");
    expect_error("- a\n- b\n", "t.yaml:1: ", "a grid file is a mapping");
    expect_error(BASE "---\nname: u\n", "t.yaml:3:", "one YAML document");
}

static void test_keys(void **state)
{
    (void)state;
    expect_error(BASE "repeat: 3\n", "t.yaml:3: repeat: ", "unknown key");
    expect_error(BASE "name: u\n", "t.yaml:3: ", "duplicate key 'name' (first given on line 1)");
    expect_error("command: [a]\n", "t.yaml:1: name: ", "missing");
    expect_error("name: t\n", "t.yaml:1: command: ", "missing");
    expect_error(BASE "cooldown: {seconds: 1, seconds: 2}\n",
                 "t.yaml:3: cooldown: ", "duplicate key 'seconds'");
    expect_error(BASE "cooldown: {secs: 1}\n", "t.yaml:3: cooldown.secs: ", "unknown key 'secs'");
    expect_error(BASE "levels:\n  a: [1]\n  a: [2]\n",
                 "t.yaml:5: levels: ", "duplicate key 'a' (first given on line 4)");
    expect_error(BASE "env: {A: x, A: y}\n", "t.yaml:3: env: ", "duplicate key 'A'");
}

static void test_types(void **state)
{
    (void)state;
    expect_error(BASE "repeats: two\n",
                 "t.yaml:3: repeats: ", "expected a whole number, got 'two'");
    expect_error(BASE "repeats: 0\n", "t.yaml:3: repeats: ", "out of range");
    expect_error(BASE "repeats: [1]\n", "t.yaml:3: repeats: ", "got a list");
    expect_error(BASE "timeout_s:\n", "t.yaml:3: timeout_s: ", "expected a number, got nothing");
    expect_error(BASE "timeout_s: 1h\n", "t.yaml:3: timeout_s: ", "got '1h'");
    expect_error(BASE "order: shuffled\n", "t.yaml:3: order: ", "random or sequential");
    expect_error(BASE "seed: -1\n", "t.yaml:3: seed: ", "whole number");
    expect_error(BASE "interval_ms: 5\n", "t.yaml:3: interval_ms: ", "out of range");
    expect_error(BASE "interval_ms: 10.5\n", "t.yaml:3: interval_ms: ", "whole milliseconds");
    expect_error("name: t\ncommand: echo hi\n", "t.yaml:2: command: ", "never passed to a shell");
    expect_error("name: t\ncommand: []\n", "t.yaml:2: command: ", "empty command");
    expect_error("name: t\ncommand: [a, [b]]\n", "t.yaml:2: command[1]: ", "got a list");
    expect_error("name: '../x'\ncommand: [a]\n", "t.yaml:1: name: ", "folder name");
    expect_error(BASE "levels: [a, b]\n", "t.yaml:3: levels: ", "expected a mapping");
    expect_error(BASE "levels:\n  a: {x: 1}\n", "t.yaml:4: levels.a: ", "got a mapping");
    expect_error(BASE "levels:\n  a: [1, [2]]\n",
                 "t.yaml:4: levels.a: ", "value 2: expected a scalar");
    expect_error(BASE "cooldown: {until_power_above_idle_w: 5}\n",
                 "t.yaml:3: cooldown.until_power_above_idle_w: ", "idle_baseline_s");
    expect_error(BASE "meters: []\n", "t.yaml:3: meters: ", "empty list");
    expect_error(BASE "env: {A: [x]}\n", "t.yaml:3: env.A: ", "expected a string");
    expect_error(BASE "env: {1A: x}\n", "t.yaml:3: env.1A: ", "not a valid environment");
}

static void test_levels(void **state)
{
    (void)state;
    expect_error(BASE "levels:\n  a: []\n", "t.yaml:4: levels.a: ", "empty level");
    expect_error(BASE "levels:\n  a:\n", "t.yaml:4: levels.a: ", "empty level");
    expect_error(BASE "levels:\n  a: [1, 1]\n", "t.yaml:4: levels.a: ", "value '1' is given twice");
    expect_error(BASE "levels:\n  a: [1, ~]\n", "t.yaml:4: levels.a: ", "value 2 is empty");
    expect_error(BASE "levels:\n  repeat: [1]\n", "t.yaml:4: levels.repeat: ", "reserved");
    expect_error(BASE "levels:\n  batch-size: [1]\n",
                 "t.yaml:4: levels.batch-size: ", "{placeholder}");
    /* Values that collapse to the same run id. */
    expect_error(BASE "levels:\n  a: ['x/y', 'x_y']\n", "t.yaml:4: levels: ", "same run id");
}

static void test_placeholders(void **state)
{
    (void)state;
    expect_error("name: t\nlevels: {a: [1]}\ncommand: [prog, '{b}']\n",
                 "t.yaml:3: command[1]: ", "unknown placeholder '{b}' (levels: a;");
    expect_error("name: t\ncommand:\n  - prog\n  - '{repeat'\n",
                 "t.yaml:4: command[1]: ", "unclosed '{'");
    expect_error("name: t\ncommand: [prog, 'd={}']\n",
                 "t.yaml:2: command[1]: ", "unknown placeholder '{}'");
    expect_error("name: t\ncommand: [prog, 'a}b']\n", "t.yaml:2: command[1]: ", "lone '}'");
    expect_error(BASE "env: {X: '{nope}'}\n", "t.yaml:3: env.X: ", "unknown placeholder '{nope}'");
    expect_error(BASE "workdir: '/w/{nope}'\n", "t.yaml:3: workdir: ", "unknown placeholder");
}

static void test_rules(void **state)
{
    (void)state;
    expect_error(BASE "levels: {a: [1, 2], b: [x, y]}\nexclude: [{c: 1}]\n",
                 "t.yaml:4: exclude[0].c: ", "unknown level 'c' (levels: a, b)");
    expect_error(BASE "levels: {a: [1, 2], b: [x, y]}\nexclude: [{a: 3}]\n",
                 "t.yaml:4: exclude[0].a: ", "'3' is not a value of level 'a'");
    expect_error(BASE "levels: {a: [1, 2]}\nexclude: [{}]\n",
                 "t.yaml:4: exclude[0]: ", "empty rule");
    expect_error(BASE "levels: {a: [1, 2]}\nexclude: {a: 1}\n",
                 "t.yaml:4: exclude: ", "expected a list");
    expect_error(BASE "levels: {a: [1, 2]}\nexclude: [{a: [1, 2]}]\n",
                 "t.yaml:4: exclude: ", "every combination is excluded");
    expect_error(BASE "levels: {a: [1, 2], b: [x]}\ninclude: [{a: 3}]\n",
                 "t.yaml:4: include[0]: ", "level 'b' is missing");
    expect_error(BASE "levels: {a: [1, 2], b: [x]}\ninclude:\n  - {a: 1, b: x}\n",
                 "t.yaml:5: include[0]: ", "already in the grid");
}

static void test_expand(void **state)
{
    struct grid *g =
        load("name: t\n"
             "levels:\n  fw: [pt, jax]\n  bs: [32, 64, 128]\n"
             "repeats: 2\norder: sequential\n"
             "exclude:\n  - {fw: jax, bs: [64, 128]}\n"
             "include:\n  - {fw: jax, bs: 512}\n"
             "command: [train, '--bs={bs}', '{fw}', 'r{repeat}', '{run_id}', '{{x}}']\n"
             "env: {FW: '{fw}-{grid}'}\n"
             "workdir: '/tmp/{fw}'\n"
             "cooldown: 7\n"
             "meters: [sim, 'sim:const=5']\n");
    char **argv, **env, *wd;
    (void)state;
    assert_non_null(g);
    /* pt x 3 + jax x 1 + include = 5 configurations, x 2 repeats */
    assert_int_equal(g->n_configs, 5);
    assert_int_equal(g->n_runs, 10);
    assert_string_equal(g->runs[0].run_id, "pt-32-r1");
    assert_string_equal(g->runs[3].run_id, "jax-32-r1");
    assert_string_equal(g->runs[4].run_id, "jax-512-r1");
    assert_string_equal(g->runs[5].run_id, "pt-32-r2");
    assert_int_equal(g->runs[9].repeat, 2);
    assert_true(g->cooldown.seconds == 7);
    assert_string_equal(g->meters, "sim,sim:const=5");
    argv = grid_run_argv(g, &g->runs[4]);
    assert_non_null(argv);
    assert_string_equal(argv[0], "train");
    assert_string_equal(argv[1], "--bs=512");
    assert_string_equal(argv[2], "jax");
    assert_string_equal(argv[3], "r1");
    assert_string_equal(argv[4], "jax-512-r1");
    assert_string_equal(argv[5], "{x}");
    assert_null(argv[6]);
    env = grid_run_env(g, &g->runs[4]);
    assert_string_equal(env[0], "FW=jax-t");
    assert_null(env[1]);
    wd = grid_expand(g, &g->runs[4], g->workdir_tmpl);
    assert_string_equal(wd, "/tmp/jax");
    free(wd);
    grid_strv_free(argv);
    grid_strv_free(env);
    grid_free(g);
}

static void test_safe_run_ids(void **state)
{
    struct grid *g = load("name: t\nlevels: {p: ['a b/c', .hidden]}\ncommand: [x]\n");
    char s[] = "../x y";
    (void)state;
    assert_non_null(g);
    assert_string_equal(g->runs[0].run_id, "a_b_c-r1");
    assert_string_equal(g->runs[1].run_id, "_hidden-r1");
    grid_safe_name(s);
    assert_string_equal(s, "_._x_y");
    grid_free(g);
}

static void test_random_order(void **state)
{
    const char *text = "name: t\nlevels: {a: [1, 2, 3, 4], b: [x, y, z]}\nrepeats: 3\n"
                       "order: random\nseed: 42\ncommand: [x]\n";
    struct grid *g1 = load(text), *g2 = load(text), *g3;
    uint64_t st = 0;
    int moved = 0, seen[36] = {0};
    char *other = malloc(strlen(text) + 1);
    (void)state;
    assert_non_null(g1);
    assert_non_null(g2);
    assert_int_equal(g1->n_runs, 36);
    for (size_t i = 0; i < 36; i++) {
        /* The same file gives the same order; indexes follow positions. */
        assert_string_equal(g1->runs[i].run_id, g2->runs[i].run_id);
        assert_int_equal(g1->runs[i].index, i);
        seen[g1->runs[i].config * 3 + (size_t)g1->runs[i].repeat - 1]++;
        moved |= g1->runs[i].config != i % 12 || g1->runs[i].repeat != (int)(i / 12) + 1;
    }
    for (size_t i = 0; i < 36; i++)
        assert_int_equal(seen[i], 1); /* a permutation */
    assert_true(moved);
    /* A fixed first draw: splitmix64 is specified, not "whatever rand() does here". */
    assert_true(grid_splitmix64(&st) == 0xE220A8397B1DCDAFull);
    /* Another seed, another order. */
    memcpy(other, text, strlen(text) + 1);
    memcpy(strstr(other, "seed: 42"), "seed: 43", 8);
    g3 = load(other);
    assert_non_null(g3);
    moved = 0;
    for (size_t i = 0; i < 36; i++)
        moved |= strcmp(g1->runs[i].run_id, g3->runs[i].run_id) != 0;
    assert_true(moved);
    free(other);
    grid_free(g1);
    grid_free(g2);
    grid_free(g3);
}

static void test_caps(void **state)
{
    char *text = malloc(16384);
    size_t n = 0;
    (void)state;
    assert_non_null(text);
    n += (size_t)snprintf(text + n, 16384 - n,
                          "name: t\ncommand: [x]\nrepeats: 1001\nlevels:\n  a: [");
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(text + n, 16384 - n, "%s%d", i ? ", " : "", i);
    snprintf(text + n, 16384 - n, "]\n");
    expect_error(text, "t.yaml:3: repeats: ", "more than 1000000 runs");
    free(text);
}

/* ---- hostile input: every limit is enforced with a message naming it -------------------- */

static char *repeat_str(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1), *q = s;
    assert_non_null(s);
    memcpy(q, head, hl);
    q += hl;
    for (size_t i = 0; i < n; i++, q += ul)
        memcpy(q, unit, ul);
    memcpy(q, tail, tl + 1);
    return s;
}

static void test_nesting_cap(void **state)
{
    char *text;
    (void)state;
    /* 100,000 nested '[' took minutes in libyaml's scanner: now refused at depth 33. */
    text = repeat_str(BASE "levels: {a: ", "[", 100000, "}\n");
    expect_error(text, "t.yaml:3:", "nested more than 32 deep");
    free(text);
    text = repeat_str(BASE "x: ", "{a: ", 100000, "}\n");
    expect_error(text, "t.yaml:3:", "nested more than 32 deep");
    free(text);
    /* Block nesting counts too ("- - - x" is a list of lists). */
    text = repeat_str(BASE "x:\n  ", "- ", 40, "1\n");
    expect_error(text, "t.yaml:4:", "nested more than 32 deep");
    free(text);
    /* 30 deep passes the event pass (the key is then unknown). */
    text = repeat_str(BASE "x: ", "[", 30, "");
    {
        char *t2 = repeat_str(text, "]", 30, "\n");
        expect_error(t2, "t.yaml:3: x: ", "unknown key");
        free(t2);
    }
    free(text);
}

static void test_size_and_node_caps(void **state)
{
    size_t n = (16u << 20) + 1;
    char *text = malloc(n + 1);
    struct grid *g;
    (void)state;
    assert_non_null(text);
    memset(text, '#', n);
    memcpy(text, BASE, strlen(BASE));
    text[n] = '\0';
    g = grid_load_string(text, n, "t.yaml", err, sizeof(err));
    assert_null(g);
    assert_non_null(strstr(err, "t.yaml: the file is 16777217 bytes; a grid file may have at most "
                                "16777216 bytes"));
    free(text);
    /* Aliases count as what they name: 1000 x 3000 is 3 million nodes from 10 KB. */
    text = repeat_str(BASE "x: &x [", "a,", 1000, "a]\ny: [");
    {
        char *t2 = repeat_str(text, "*x, ", 3000, "*x]\n");
        expect_error(t2, "t.yaml:", "more than 2000000 values, lists and mappings");
        free(t2);
    }
    free(text);
}

static void test_nul_bytes(void **state)
{
    static const char text[] = "name: t\ncommand: [a]\0\nlevels: {a: [1]}\n";
    struct grid *g;
    (void)state;
    g = grid_load_string(text, sizeof(text) - 1, "t.yaml", err, sizeof(err));
    assert_null(g);
    assert_string_equal(err, "t.yaml:2:13: a NUL byte in the file (a grid file is UTF-8 text)");
    /* A "\0" escape would be cut short by every C string after it. */
    expect_error("name: t\ncommand: [a]\nlevels: {a: [\"x\\0y\"]}\n",
                 "t.yaml:3:", "a NUL character");
}

static void test_empty_quoted_values(void **state)
{
    (void)state;
    expect_error(BASE "levels:\n  a: [1, \"\"]\n", "t.yaml:4: levels.a: ", "value 2 is empty");
    expect_error(BASE "levels:\n  a: ''\n", "t.yaml:4: levels.a: ", "value 1 is empty");
    expect_error(BASE "levels: {a: [1, 2]}\nexclude: [{a: ''}]\n",
                 "t.yaml:4: exclude[0].a: ", "empty value");
    expect_error(BASE "levels: {a: [1, 2]}\ninclude: [{a: \"\"}]\n",
                 "t.yaml:4: include[0].a: ", "empty value");
}

static void test_name_lengths(void **state)
{
    char *v201 = repeat_str("", "v", 201, "");
    char *v150 = repeat_str("", "w", 150, "");
    struct strbuf_local {
        char buf[4096];
    } t;
    (void)state;
    snprintf(t.buf, sizeof(t.buf), "name: t\ncommand: [x]\nlevels:\n  a: [1, %s]\n", v201);
    expect_error(t.buf,
                 "t.yaml:4: levels.a: ", "value 2 is 201 bytes; a value may have at most 200");
    snprintf(t.buf, sizeof(t.buf), "name: t\ncommand: [x]\nlevels:\n  %s: [1]\n", v201);
    expect_error(t.buf, "t.yaml:4: levels.", "a level name may have at most 200 bytes");
    snprintf(t.buf, sizeof(t.buf), "name: %s\ncommand: [x]\n", v201);
    expect_error(t.buf, "t.yaml:1: name: ", "201 bytes; a grid's name may have at most 200");
    /* Each value fits, their run id does not: refused when loaded, not when run. */
    snprintf(t.buf, sizeof(t.buf), "name: t\ncommand: [x]\nlevels:\n  a: [%s]\n  b: [%s]\n", v150,
             v150);
    expect_error(t.buf, "t.yaml:4: levels: ", "every run id is longer than 200 bytes");
    snprintf(t.buf, sizeof(t.buf), "name: t\ncommand: [x]\nlevels:\n  a: [1, %s]\n  b: [1, %s]\n",
             v150, v150);
    expect_error(t.buf, "t.yaml:4: levels: ", "is 304 bytes; a run id may have at most 200");
    {
        struct strbuf_local many;
        size_t n = 0;
        n += (size_t)snprintf(many.buf, sizeof(many.buf), "name: t\ncommand: [x]\nlevels: {");
        for (int i = 0; i < 100; i++)
            n += (size_t)snprintf(many.buf + n, sizeof(many.buf) - n, "%sl%d: [1]", i ? ", " : "",
                                  i);
        snprintf(many.buf + n, sizeof(many.buf) - n, "}\n");
        expect_error(many.buf, "t.yaml:3: levels: ", "100 levels give run ids longer than 200");
    }
    {
        /* 2^19 combinations of 39 levels (20 of them single-valued) hold 20.4 million values. */
        struct strbuf_local many;
        size_t n = 0;
        n += (size_t)snprintf(many.buf, sizeof(many.buf), "name: t\ncommand: [x]\nlevels: {");
        for (int i = 0; i < 39; i++)
            n += (size_t)snprintf(many.buf + n, sizeof(many.buf) - n, "%sl%d: %s", i ? ", " : "", i,
                                  i < 19 ? "[0, 1]" : "[0]");
        snprintf(many.buf + n, sizeof(many.buf) - n, "}\n");
        expect_error(many.buf, "t.yaml:3: levels: ", "more than 20000000 values in the run list");
    }
    free(v201);
    free(v150);
}

static void test_command_caps(void **state)
{
    char *big = repeat_str("name: t\ncommand: [x, '", "y", (128u << 10) + 1, "']\n");
    (void)state;
    expect_error(big, "t.yaml:2: command[1]: ", "an item may have at most 131072 bytes");
    free(big);
    big = repeat_str("name: t\ncommand: [x", ", '12345678'", 120000, "]\n");
    expect_error(big, "t.yaml:2: command[", "exceed 1048576 bytes");
    free(big);
}

/* One million values (the combination limit) load in linear-ish time: the duplicate check was
 * quadratic (40,000 values took 4 s, a million hours).  The bound is ctest's timeout. */
static void test_million_values(void **state)
{
    size_t cap = 16u << 20, n = 0;
    char *text = malloc(cap);
    struct grid *g;
    (void)state;
    assert_non_null(text);
    n += (size_t)snprintf(text, cap, "name: t\ncommand: [x, '{a}']\nlevels:\n  a: [");
    for (int i = 0; i < 1000000; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s%d", i ? ", " : "", i);
    snprintf(text + n, cap - n, "]\n");
    g = load(text);
    assert_non_null(g);
    assert_int_equal(g->n_runs, 1000000);
    assert_string_equal(g->runs[999999].run_id, "999999-r1");
    grid_free(g);
    /* The same with the last value a duplicate of the first, and an include already there. */
    memcpy(text + n - 6, "     0", 6);
    expect_error(text, "t.yaml:4: levels.a: ", "value '0' is given twice");
    memcpy(text + n - 6, "999999", 6);
    snprintf(text + n, cap - n, "]\ninclude: [{a: 999999}]\n");
    expect_error(text, "t.yaml:5: include[0]: ", "already in the grid");
    /* Exclude rules over the product are capped. */
    n += (size_t)snprintf(text + n, cap - n, "]\nexclude: [");
    for (int i = 0; i < 101; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s{a: %d}", i ? ", " : "", i);
    snprintf(text + n, cap - n, "]\n");
    expect_error(text, "t.yaml:5: exclude: ", "101 rules over 1000000 combinations");
    free(text);
}

static void test_big_mapping_duplicate(void **state)
{
    size_t cap = 4u << 20, n = 0;
    char *text = malloc(cap);
    (void)state;
    assert_non_null(text);
    n += (size_t)snprintf(text, cap, BASE "env:\n");
    for (int i = 0; i < 100000; i++)
        n += (size_t)snprintf(text + n, cap - n, "  V%d: x\n", i);
    snprintf(text + n, cap - n, "  V7: y\n");
    expect_error(text, "t.yaml:100004: env: ", "duplicate key 'V7' (first given on line 11)");
    free(text);
}

static void test_many_excludes_and_includes(void **state)
{
    size_t cap = 12u << 20, n = 0;
    char *text = malloc(cap);
    struct grid *g;
    (void)state;
    assert_non_null(text);
    /* 1000 x 100 product, 500 exclude rules, 350,000 includes: all linear or n log n (the
     * include check compared each include with every configuration: 76 s for 100,000 and 260 s
     * of CPU for 250,000, so well beyond ctest's 300 s for these). */
    n += (size_t)snprintf(text, cap, "name: t\ncommand: [x]\nlevels:\n  a: [");
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s%d", i ? ", " : "", i);
    n += (size_t)snprintf(text + n, cap - n, "]\n  b: [");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(text + n, cap - n, "%sb%d", i ? ", " : "", i);
    n += (size_t)snprintf(text + n, cap - n, "]\nexclude:\n");
    for (int i = 0; i < 500; i++)
        n += (size_t)snprintf(text + n, cap - n, "  - {a: %d, b: [b1, b2]}\n", i);
    n += (size_t)snprintf(text + n, cap - n, "include:\n");
    for (int i = 0; i < 350000; i++)
        n += (size_t)snprintf(text + n, cap - n, "  - {a: x%d, b: b0}\n", i);
    g = load(text);
    assert_non_null(g);
    assert_int_equal(g->n_configs, 100000 - 1000 + 350000);
    grid_free(g);
    free(text);
}

static void test_workdir_resolution(void **state)
{
    struct grid *g;
    char *wd, want[4096];
    (void)state;
    /* No workdir: the grid file's folder. */
    g = load_at(BASE, "/some/where/g.yaml");
    assert_non_null(g);
    wd = grid_expand(g, &g->runs[0], g->workdir_tmpl);
    assert_string_equal(wd, "/some/where");
    free(wd);
    grid_free(g);
    /* A relative workdir is relative to that folder; an absolute one stays. */
    g = load_at(BASE "workdir: ../x/{repeat}\n", "/a/b/g.yaml");
    assert_non_null(g);
    wd = grid_expand(g, &g->runs[0], g->workdir_tmpl);
    assert_string_equal(wd, "/a/b/../x/1");
    free(wd);
    grid_free(g);
    g = load(BASE "workdir: /w/{grid}\n");
    assert_non_null(g);
    wd = grid_expand(g, &g->runs[0], g->workdir_tmpl);
    assert_string_equal(wd, "/w/t");
    free(wd);
    grid_free(g);
    /* Starting with a level: its values decide, and must agree. */
    g = load(BASE "levels: {d: [/p, /q]}\ninclude: [{d: /r}]\nworkdir: '{d}/s'\n");
    assert_non_null(g);
    wd = grid_expand(g, &g->runs[2], g->workdir_tmpl);
    assert_string_equal(wd, "/r/s");
    free(wd);
    grid_free(g);
    g = load(BASE "levels: {d: [p, q]}\nworkdir: '{d}'\n");
    assert_non_null(g);
    wd = grid_expand(g, &g->runs[1], g->workdir_tmpl);
    snprintf(want, sizeof(want), "%s/q", g->dir_abs);
    assert_string_equal(wd, want);
    free(wd);
    grid_free(g);
    expect_error(BASE "levels: {d: [p, /q]}\nworkdir: '{d}'\n",
                 "t.yaml:4: workdir: ", "absolute paths and relative ones");
    /* sim:trace= files of meters too. */
    g = load_at(BASE "meters: 'sim,sim:trace=t.csv'\nmeters_fallback: sim:trace=/u.csv\n",
                "/a/g.yaml");
    assert_non_null(g);
    assert_string_equal(g->meters, "sim,sim:trace=/a/t.csv");
    assert_string_equal(g->meters_fallback, "sim:trace=/u.csv");
    grid_free(g);
}

static void test_file(void **state)
{
    char path[] = "/tmp/jb-test-grid-XXXXXX";
    int fd = mkstemp(path);
    const char *text = BASE "levels: {a: [1]}\n";
    struct grid *g;
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    g = grid_load(path, err, sizeof(err));
    assert_non_null(g);
    assert_string_equal(g->dir_abs, "/tmp");
    grid_free(g);
    unlink(path);
    assert_null(grid_load(path, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot open grid file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_placeholders),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_safe_run_ids),
        cmocka_unit_test(test_random_order),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_nesting_cap),
        cmocka_unit_test(test_size_and_node_caps),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_empty_quoted_values),
        cmocka_unit_test(test_name_lengths),
        cmocka_unit_test(test_command_caps),
        cmocka_unit_test(test_million_values),
        cmocka_unit_test(test_big_mapping_duplicate),
        cmocka_unit_test(test_many_excludes_and_includes),
        cmocka_unit_test(test_workdir_resolution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
