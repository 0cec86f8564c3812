/*
 * test_runner.c - the runner's API (src/run/runner.h) without the CLI: counts in the result,
 * every line through the message callback and none on stderr, retries (and none after exit 2),
 * resume, run states, errors returned with a message, and a --gpus child that cannot be executed
 * reported by the parent.
 */
#include "run/grid.h"
#include "run/runner.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define MAX_MSGS 256

struct msgs {
    size_t n;
    enum runner_msg kind[MAX_MSGS];
    char *text[MAX_MSGS];
};

static void on_msg(void *user, enum runner_msg kind, const char *text)
{
    struct msgs *m = user;
    if (m->n == MAX_MSGS)
        return;
    m->kind[m->n] = kind;
    m->text[m->n] = strdup(text ? text : "");
    m->n++;
}

static void msgs_free(struct msgs *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->text[i]);
    m->n = 0;
}

/* How many messages of this kind contain part. */
static size_t count(const struct msgs *m, enum runner_msg kind, const char *part)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++)
        n += m->kind[i] == kind && strstr(m->text[i], part) != NULL;
    return n;
}

static char tmp[] = "/tmp/jb-test-runner-XXXXXX";
static char results[4096], grid_path[4096], err[1024];

static struct grid *load(const char *text)
{
    struct grid *g = grid_load_string(text, strlen(text), grid_path, err, sizeof(err));
    if (!g)
        fail_msg("grid: %s", err);
    return g;
}

/* Runs the grid with stderr sent to a file; fails when anything was printed there. */
static int run_quietly(const struct grid *g, struct runner_opts *o, struct runner_result *res)
{
    char path[4200];
    struct stat st;
    int saved, fd, rc;

    snprintf(path, sizeof(path), "%s/stderr.txt", tmp);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    fflush(stderr);
    saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    rc = runner_run(g, o, res, err, sizeof(err));
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    assert_int_equal(stat(path, &st), 0);
    if (st.st_size != 0)
        fail_msg("the runner printed %lld bytes on stderr itself", (long long)st.st_size);
    return rc;
}

static void opts_init(struct runner_opts *o, struct msgs *m, const size_t *sel, size_t n_sel)
{
    memset(o, 0, sizeof(*o));
    o->results = results;
    o->sel = sel;
    o->n_sel = n_sel;
    o->msg = on_msg;
    o->user = m;
}

static const char grid_text[] = "name: u\n"
                                "levels: {code: [0, 1, 2]}\n"
                                "order: sequential\n"
                                "meters: sim\n"
                                "interval_ms: 50\n"
                                "retries: 2\n"
                                "command: [sh, -c, 'exit {code}']\n";

static void test_sequential(void **state)
{
    struct grid *g = load(grid_text);
    size_t sel[] = {0, 1, 2};
    struct runner_opts o;
    struct runner_result res;
    struct msgs m = {0};

    (void)state;
    opts_init(&o, &m, sel, 3);
    assert_int_equal(run_quietly(g, &o, &res), 0);
    assert_int_equal(res.n_complete, 1);
    assert_int_equal(res.n_failed, 2);
    assert_int_equal(res.n_skipped, 0);
    assert_int_equal(res.n_busy, 0);
    assert_int_equal(res.stop_signal, 0);
    assert_int_equal(res.error, 0);
    /* exit 1: tried 1 + 2 times; exit 2: once, and the line says why. */
    assert_int_equal(count(&m, RUNNER_MSG_PROGRESS, "1-r1 (run 1: code=1, attempt"), 3);
    assert_int_equal(count(&m, RUNNER_MSG_PROGRESS, "1-r1: retrying"), 2);
    assert_int_equal(count(&m, RUNNER_MSG_PROGRESS, "2-r1 (run 2: code=2, attempt"), 1);
    assert_int_equal(count(&m, RUNNER_MSG_PROGRESS, "2-r1: retrying"), 0);
    assert_int_equal(
        count(&m, RUNNER_MSG_PROGRESS, "2-r1: not retried: exit status 2 is a usage error"), 1);
    assert_int_equal(count(&m, RUNNER_MSG_WARNING, "run 1-r1 failed: exit status 1"), 3);
    assert_int_equal(count(&m, RUNNER_MSG_WARNING, "run 2-r1 failed: exit status 2"), 1);
    assert_int_equal(count(&m, RUNNER_MSG_PROGRESS, "0-r1: complete in"), 1);
    assert_int_equal(count(&m, RUNNER_MSG_PROGRESS, "grid u: 1 complete, 2 failed, 0 already"), 1);
    assert_int_equal(count(&m, RUNNER_MSG_LIVE, ""), 0); /* not asked for */
    assert_int_equal(count(&m, RUNNER_MSG_ERROR, ""), 0);
    assert_int_equal(runner_run_state(g, results, &g->runs[0]), RUNNER_STATE_COMPLETE);
    assert_int_equal(runner_run_state(g, results, &g->runs[1]), RUNNER_STATE_FAILED);
    assert_int_equal(runner_run_state(g, results, &g->runs[2]), RUNNER_STATE_FAILED);
    assert_string_equal(runner_state_name(RUNNER_STATE_FAILED), "failed");
    msgs_free(&m);

    /* Resume: the complete run is skipped, the others run again. */
    assert_int_equal(run_quietly(g, &o, &res), 0);
    assert_int_equal(res.n_skipped, 1);
    assert_int_equal(res.n_complete, 0);
    assert_int_equal(res.n_failed, 2);
    assert_int_equal(count(&m, RUNNER_MSG_PROGRESS, "1 of 3 runs already complete; 2 to run"), 1);
    assert_int_equal(count(&m, RUNNER_MSG_PROGRESS, "2-r1 (run 2: code=2, attempt 2)"), 1);
    msgs_free(&m);
    grid_free(g);
}

static void test_should_retry(void **state)
{
    (void)state;
    assert_true(runner_should_retry(1, 0, 0));
    assert_true(runner_should_retry(137, 9, 0));  /* killed */
    assert_true(runner_should_retry(143, 15, 1)); /* timed out */
    assert_true(runner_should_retry(-1, 0, 0));   /* did not start */
    assert_true(runner_should_retry(130, 0, 0));
    assert_false(runner_should_retry(2, 0, 0)); /* usage error */
}

static void test_errors_returned(void **state)
{
    struct grid *g = load(grid_text);
    size_t sel[] = {0};
    struct runner_opts o;
    struct runner_result res;
    struct msgs m = {0};

    (void)state;
    opts_init(&o, &m, sel, 1);
    o.meters = "bogus";
    assert_int_equal(run_quietly(g, &o, &res), -1);
    assert_non_null(strstr(err, "meters 'bogus'"));
    msgs_free(&m);
    /* --gpus with CPU meters only: not here (no RAPL), or no GPU to give each child. */
    o.meters = "cpu-package0";
    {
        int gpus[] = {0};
        o.gpus = gpus;
        o.n_gpus = 1;
        assert_int_equal(run_quietly(g, &o, &res), -1);
    }
    msgs_free(&m);
    grid_free(g);
}

/* A --gpus child whose binary cannot be executed: the parent says so (the child prints nothing)
 * and the run counts as failed. */
static void test_gpus_exec_failure(void **state)
{
    struct grid *g = load(grid_text);
    size_t sel[] = {1};
    int gpus[] = {3};
    char self[4200];
    struct runner_opts o;
    struct runner_result res;
    struct msgs m = {0};

    (void)state;
    snprintf(self, sizeof(self), "%s/no-such-joulebench", tmp);
    opts_init(&o, &m, sel, 1);
    o.gpus = gpus;
    o.n_gpus = 1;
    o.self_exe = self;
    assert_int_equal(run_quietly(g, &o, &res), 0);
    assert_int_equal(res.n_failed, 1);
    assert_int_equal(res.n_complete, 0);
    assert_int_equal(count(&m, RUNNER_MSG_ERROR, "cannot execute"), 1);
    assert_int_equal(count(&m, RUNNER_MSG_PROGRESS, "gpu 3: 1-r1 failed"), 1);
    msgs_free(&m);
    grid_free(g);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmp))
        return -1;
    snprintf(results, sizeof(results), "%s/res", tmp);
    snprintf(grid_path, sizeof(grid_path), "%s/g.yaml", tmp);
    return 0;
}

static int teardown(void **state)
{
    char cmd[4200];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_should_retry),
        cmocka_unit_test(test_sequential),
        cmocka_unit_test(test_errors_returned),
        cmocka_unit_test(test_gpus_exec_failure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
