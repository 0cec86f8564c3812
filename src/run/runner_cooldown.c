/*
 * runner_cooldown.c - the cooldown between the executions of a grid (grid key `cooldown`,
 * docs/runner.md "Cooldown"): a fixed wait, then optionally polling the runner's meters until
 * they are cool and near their idle power, bounded by max_wait_s.  It only waits and reads
 * meters; it decides nothing about runs.
 */
#include "run/runner_int.h"

#include "util/strbuf.h"

#include <math.h>
#include <string.h>
#include <time.h>

int runner__sleep_interruptible(double s)
{
    uint64_t end = jb_now_ns() + (uint64_t)(s * 1e9);
    while (!runner__stop_signal) {
        uint64_t now = jb_now_ns();
        uint64_t left;
        struct timespec ts;
        if (now >= end)
            return 0;
        left = end - now;
        if (left > 100000000ull)
            left = 100000000ull;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)left;
        nanosleep(&ts, NULL);
    }
    return -1;
}

static double idle_power_of(const struct measure_result *res, const char *id)
{
    for (size_t i = 0; res && i < res->n_meters; i++)
        if (!strcmp(res->meters[i].id, id))
            return res->meters[i].idle_power_w;
    return NAN;
}

/* One poll of the meters: 1 when all are cool enough; what is not goes to why.  *any_temp says
 * whether some meter reports a temperature. */
static int meters_cool(const struct runner *R, const struct measure_result *res, struct strbuf *why,
                       int *any_temp)
{
    const struct grid_cooldown *c = &R->g->cooldown;
    int want_temp = !isnan(c->until_temp_c), want_power = !isnan(c->until_power_above_idle_w);
    int ok = 1;

    *any_temp = 0;
    for (size_t i = 0; i < jb_meter_set_count(R->set); i++) {
        struct jb_meter *m = jb_meter_set_get(R->set, i);
        const struct jb_meter_info *info = jb_meter_get_info(m);
        struct jb_sample s;
        if (jb_meter_read_sample(m, &s) < 0)
            continue;
        if (want_temp && (s.valid & JB_CAP_TEMP)) {
            *any_temp = 1;
            if (s.temp_c > c->until_temp_c) {
                ok = 0;
                sb_printf(why, " %s %.0f C", info->id, s.temp_c);
            }
        }
        if (want_power && (s.valid & JB_CAP_POWER)) {
            double idle = idle_power_of(res, info->id);
            if (!isnan(idle) && s.power_w > idle + c->until_power_above_idle_w) {
                ok = 0;
                sb_printf(why, " %s %.0f W (idle %.0f W)", info->id, s.power_w, idle);
            }
        }
    }
    return ok;
}

/*
 * The fixed wait, then (when asked) polling the meters once a second until every meter that
 * reports a temperature is at or below until_temp_c and every meter with an idle baseline draws
 * at most idle + until_power_above_idle_w, or max_wait_s has passed.
 */
int runner__cooldown(struct runner *R, const struct measure_result *res)
{
    const struct grid_cooldown *c = &R->g->cooldown;
    int want_temp = !isnan(c->until_temp_c), want_power = !isnan(c->until_power_above_idle_w);
    uint64_t t0;
    int warned_temp = 0;

    if (c->seconds > 0) {
        runner__msg(R, RUNNER_MSG_PROGRESS, "cooldown: %g s", c->seconds);
        if (runner__sleep_interruptible(c->seconds) < 0)
            return -1;
    }
    if ((!want_temp && !want_power) || !R->set)
        return 0;
    t0 = jb_now_ns();
    for (;;) {
        struct strbuf why = STRBUF_INIT;
        double waited = (double)(jb_now_ns() - t0) / 1e9;
        int any_temp, ok = meters_cool(R, res, &why, &any_temp);

        if (want_temp && !any_temp && !warned_temp) {
            runner__msg(R, RUNNER_MSG_PROGRESS,
                        "cooldown: no meter reports a temperature; until_temp_c not applied");
            warned_temp = 1;
        }
        if (ok) {
            sb_free(&why);
            return 0;
        }
        if (waited >= c->max_wait_s) {
            runner__msg(R, RUNNER_MSG_WARNING,
                        "cooldown: still not cool after %.0f s (max_wait_s):%s; going on", waited,
                        sb_str(&why));
            sb_free(&why);
            return 0;
        }
        if (R->o->live)
            runner__msg(R, RUNNER_MSG_LIVE, "cooldown: waiting%s", sb_str(&why));
        sb_free(&why);
        if (runner__sleep_interruptible(1.0) < 0)
            return -1;
    }
}
