/*
 * runner.c - the runner's entry point (runner.h): opens the grid's meters once (with the
 * simulated fallback), catches SIGINT/SIGTERM for the call, and runs the selected runs one after
 * the other (or hands them to the --gpus scheduler, runner_gpus.c), with progress lines, an ETA
 * and a live line through the caller's message callback.  One run with its attempts is
 * runner_attempt.c (the cooldown: cooldown.c); locks and run states runner_lock.c.  It does
 * not print, parse options or build the store.
 */
#include "run/runner_int.h"

#include "util/fsutil.h"
#include "util/strbuf.h"

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile sig_atomic_t runner__stop_signal;

static void on_stop_signal(int sig)
{
    runner__stop_signal = sig;
}

/* ---- small helpers ---------------------------------------------------------------------- */

char *runner__path_join3(const char *a, const char *b, const char *c)
{
    struct strbuf sb = STRBUF_INIT;
    sb_puts(&sb, a);
    if (b) {
        sb_putc(&sb, '/');
        sb_puts(&sb, b);
    }
    if (c) {
        sb_putc(&sb, '/');
        sb_puts(&sb, c);
    }
    if (sb_failed(&sb)) {
        sb_free(&sb);
        return NULL;
    }
    return sb.buf;
}

void runner__fmt_hms(char *buf, size_t len, double s)
{
    long t = s > 0 && isfinite(s) ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

/* ---- messages and progress --------------------------------------------------------------- */

void runner__msg(struct runner *R, enum runner_msg kind, const char *fmt, ...)
{
    va_list ap, ap2;
    char small[256], *text = small;
    int n;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    if (n >= (int)sizeof(small)) {
        text = malloc((size_t)n + 1);
        if (text)
            vsnprintf(text, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);
    va_end(ap);
    if (n < 0 || !text) { /* a line lost: say so, unless it was a transient one */
        if (kind != RUNNER_MSG_LIVE)
            R->o->msg(R->o->user, RUNNER_MSG_ERROR, "out of memory (a message was lost)");
    } else {
        /* The caller clears a LIVE line before printing anything else. */
        R->live_shown = kind == RUNNER_MSG_LIVE;
        R->o->msg(R->o->user, kind, text);
    }
    if (text != small)
        free(text);
}

void runner__live_clear(struct runner *R)
{
    if (R->live_shown) {
        R->o->msg(R->o->user, RUNNER_MSG_LIVE, NULL);
        R->live_shown = 0;
    }
}

double runner__eta_s(const struct runner *R)
{
    size_t left = R->n_todo > R->n_executed ? R->n_todo - R->n_executed : 0;
    if (!R->n_executed)
        return NAN;
    return R->executed_s / (double)R->n_executed * (double)left;
}

void runner__on_live(void *user, const struct measure_live *lv)
{
    struct runner *R = user;
    struct strbuf sb = STRBUF_INIT;
    char el[32];
    double eta_now;

    if (!R->o->live || !R->cur)
        return;
    runner__fmt_hms(el, sizeof(el), lv->elapsed_s);
    sb_printf(&sb, "[%zu/%zu] %s  %s", R->pos, R->n_todo, R->cur->run_id, el);
    for (size_t i = 0; i < lv->n_meters && i < 4; i++) {
        const struct jb_meter *m = R->set && jb_meter_set_count(R->set) == lv->n_meters
                                       ? jb_meter_set_get(R->set, i)
                                       : NULL;
        const char *id = m ? jb_meter_get_info(m)->id : "meter";
        if (isnan(lv->power_w[i]))
            sb_printf(&sb, "  %s - W", id);
        else
            sb_printf(&sb, "  %s %.0f W", id, lv->power_w[i]);
    }
    if (lv->n_meters > 4)
        sb_printf(&sb, "  (+%zu meters)", lv->n_meters - 4);
    eta_now = runner__eta_s(R);
    if (!isnan(eta_now)) {
        /* The current run's expected remainder is part of the mean already; subtract its time. */
        double rem = eta_now - lv->elapsed_s;
        char eta[32];
        runner__fmt_hms(eta, sizeof(eta), rem > 0 ? rem : 0);
        sb_printf(&sb, "  ETA %s", eta);
    }
    if (!sb_failed(&sb))
        runner__msg(R, RUNNER_MSG_LIVE, "%s", sb_str(&sb));
    sb_free(&sb);
}

void runner__on_warn(void *user, const char *msg)
{
    runner__msg(user, RUNNER_MSG_WARNING, "%s", msg);
}

/* ---- meters ----------------------------------------------------------------------------- */

static const char banner_fmt[] =
    "\n"
    "  ************************************************************************\n"
    "  * SIMULATED meter: no GPU or readable RAPL found ('%s').\n"
    "  * This grid falls back to '%s': energy and power figures of this\n"
    "  * study are simulated, not measured (manifests say \"simulated\": true).\n"
    "  ************************************************************************\n\n";

/* Opens the grid's meters once: checks the specification before anything runs, applies
 * meters_fallback when nothing was found, and keeps the set for cooldown polling. */
static int resolve_meters(struct runner *R, const char *spec, char *err, size_t errlen)
{
    struct jb_meter_set *set = jb_meter_set_new();
    const char *fb = R->g->meters_fallback;

    if (!set)
        return snprintf(err, errlen, "out of memory"), -1;
    if (jb_meter_set_add(set, spec) < 0) {
        snprintf(err, errlen, "meters '%s': %s (see 'joulebench devices')", spec,
                 jb_meter_set_errmsg(set));
        jb_meter_set_free(set);
        return -1;
    }
    /* The set's notes ("no RAPL domains found ...") are given here, once for the grid; each
     * run opens the same meters again and keeps quiet about them (quiet_meter_notes). */
    for (size_t i = 0; i < jb_meter_set_note_count(set); i++)
        runner__msg(R, RUNNER_MSG_NOTE, "%s", jb_meter_set_note(set, i));
    if (jb_meter_set_count(set) == 0) {
        jb_meter_set_free(set);
        if (!fb)
            return snprintf(err, errlen,
                            "meters '%s' found no meter here (see 'joulebench devices'; a grid "
                            "may name meters_fallback: sim to run on the simulated meter)",
                            spec),
                   -1;
        runner__msg(R, RUNNER_MSG_BANNER, banner_fmt, spec, fb);
        set = jb_meter_set_new();
        if (!set)
            return snprintf(err, errlen, "out of memory"), -1;
        if (jb_meter_set_add(set, fb) < 0 || jb_meter_set_count(set) == 0) {
            snprintf(err, errlen, "meters_fallback '%s': %s", fb, jb_meter_set_errmsg(set));
            jb_meter_set_free(set);
            return -1;
        }
        spec = fb;
    }
    R->set = set;
    R->meters = strdup(spec);
    if (!R->meters)
        return snprintf(err, errlen, "out of memory"), -1;
    return 0;
}

/* ---- the runs, one after the other -------------------------------------------------------- */

static int run_sequential(struct runner *R, struct runner_result *res)
{
    const struct runner_opts *o = R->o;
    unsigned char *todo = calloc(o->n_sel ? o->n_sel : 1, 1);
    size_t left;
    int stopped = 0;

    if (!todo)
        return -1;
    for (size_t i = 0; i < o->n_sel; i++) {
        todo[i] = runner__state_in(R->grid_dir, &R->g->runs[o->sel[i]]) != RUNNER_STATE_COMPLETE;
        R->n_todo += todo[i];
        res->n_skipped += !todo[i];
    }
    if (res->n_skipped)
        runner__msg(R, RUNNER_MSG_PROGRESS, "%zu of %zu runs already complete; %zu to run",
                    res->n_skipped, o->n_sel, R->n_todo);
    left = R->n_todo;
    for (size_t i = 0; i < o->n_sel && !stopped; i++) {
        enum runner_outcome out;
        if (!todo[i])
            continue;
        if (runner__stop_signal)
            break;
        R->pos++;
        left--;
        out = runner__run_one(R, &R->g->runs[o->sel[i]], left > 0);
        switch (out) {
        case OUT_COMPLETE: res->n_complete++; break;
        case OUT_FAILED: res->n_failed++; break;
        case OUT_BUSY: res->n_busy++; break;
        case OUT_INTERRUPTED: stopped = 1; break;
        case OUT_ERROR:
            stopped = 1;
            res->n_failed++;
            res->error = 1;
            break;
        }
        if (R->n_executed && left && out != OUT_INTERRUPTED) {
            char eta[32];
            runner__fmt_hms(eta, sizeof(eta), runner__eta_s(R));
            runner__msg(R, RUNNER_MSG_PROGRESS, "%zu run%s left, ETA %s", left,
                        left == 1 ? "" : "s", eta);
        }
    }
    runner__msg(R, RUNNER_MSG_PROGRESS,
                "grid %s: %zu complete, %zu failed, %zu already complete%s%s", R->g->name,
                res->n_complete, res->n_failed, res->n_skipped,
                res->n_busy ? ", busy elsewhere: " : "", res->n_busy ? "some" : "");
    free(todo);
    return 0;
}

/* ---- entry point -------------------------------------------------------------------------- */

int runner_run(const struct grid *g, const struct runner_opts *o, struct runner_result *res,
               char *err, size_t errlen)
{
    struct runner R;
    struct sigaction sa, old_int, old_term;
    int rc = -1;

    memset(&R, 0, sizeof(R));
    memset(res, 0, sizeof(*res));
    R.g = g;
    R.o = o;
    R.grid_dir = runner__path_join3(o->results, g->name, NULL);
    if (!R.grid_dir) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (resolve_meters(&R, o->meters ? o->meters : g->meters, err, errlen) < 0)
        goto out;
    if (fs_mkdir_p(R.grid_dir, err, errlen) < 0)
        goto out;
    /* Stop between runs on SIGINT/SIGTERM; during a run measure_run takes them over (and
     * forwards them to the command). */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    runner__stop_signal = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if (o->n_gpus)
        rc = runner__run_gpus(&R, res, err, errlen);
    else if ((rc = run_sequential(&R, res)) < 0)
        snprintf(err, errlen, "out of memory");
    res->stop_signal = runner__stop_signal;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
out:
    jb_meter_set_free(R.set);
    free(R.meters);
    free(R.grid_dir);
    return rc;
}
