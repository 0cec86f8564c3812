/*
 * cooldown.c - the grid's cooldown (see cooldown.h): a fixed wait, then polling the meters for
 * temperature and (after a run) power above the idle baseline, bounded by max_wait_s.  Sleeps in
 * slices of at most 100 ms so that a stop signal ends it at once.  It decides nothing about runs.
 */
#include "run/cooldown.h"

#include "util/strbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int cooldown_wanted(const struct grid_cooldown *c)
{
    return c->seconds > 0 || !isnan(c->until_temp_c);
}

int cooldown_sleep(double s, volatile sig_atomic_t *stop)
{
    uint64_t end = jb_now_ns() + (uint64_t)(s * 1e9);

    while (!*stop) {
        uint64_t now = jb_now_ns(), left;
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

static void say(const struct cooldown_opts *o, enum cooldown_msg kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(const struct cooldown_opts *o, enum cooldown_msg kind, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (!o->msg)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    o->msg(o->user, kind, buf);
}

static double idle_power_of(const struct measure_result *res, const char *id)
{
    for (size_t i = 0; res && i < res->n_meters; i++)
        if (!strcmp(res->meters[i].id, id))
            return res->meters[i].idle_power_w;
    return NAN;
}

/* One poll of the meters: 1 when all are cool enough; what is not goes to why.  *any_temp says
 * whether some meter reports a temperature.  A meter that cannot be read is left out. */
static int meters_cool(const struct cooldown_opts *o, int want_power, struct strbuf *why,
                       int *any_temp)
{
    const struct grid_cooldown *c = o->c;
    int want_temp = !isnan(c->until_temp_c), ok = 1;

    *any_temp = 0;
    for (size_t i = 0; i < jb_meter_set_count(o->set); i++) {
        struct jb_meter *m = jb_meter_set_get(o->set, i);
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
            double idle = idle_power_of(o->idle, info->id);
            if (!isnan(idle) && s.power_w > idle + c->until_power_above_idle_w) {
                ok = 0;
                sb_printf(why, " %s %.0f W (idle %.0f W)", info->id, s.power_w, idle);
            }
        }
    }
    return ok;
}

int cooldown_wait(const struct cooldown_opts *o)
{
    const struct grid_cooldown *c = o->c;
    int want_temp = !isnan(c->until_temp_c), want_power = !isnan(c->until_power_above_idle_w);
    int warned_temp = 0;
    uint64_t t0;

    if (c->seconds > 0) {
        say(o, COOLDOWN_MSG_PROGRESS,
            o->before_run ? "cooldown: %g s before the run" : "cooldown: %g s", c->seconds);
        if (cooldown_sleep(c->seconds, o->stop) < 0)
            return -1;
    }
    if (want_power && o->before_run) {
        say(o, COOLDOWN_MSG_PROGRESS,
            "cooldown: until_power_above_idle_w needs the run's idle "
            "baseline; not applied before the run");
        want_power = 0;
    }
    if ((!want_temp && !want_power) || !o->set)
        return 0;
    t0 = jb_now_ns();
    for (;;) {
        struct strbuf why = STRBUF_INIT;
        double waited = (double)(jb_now_ns() - t0) / 1e9;
        int any_temp, ok = meters_cool(o, want_power, &why, &any_temp);

        if (want_temp && !any_temp && !warned_temp) {
            say(o, COOLDOWN_MSG_PROGRESS,
                "cooldown: no meter reports a temperature; until_temp_c not applied");
            warned_temp = 1;
        }
        if (ok) {
            sb_free(&why);
            if (want_temp && any_temp)
                say(o, COOLDOWN_MSG_DONE, "cooldown: at or below %g C after %.0f s",
                    c->until_temp_c, waited);
            return 0;
        }
        if (waited >= c->max_wait_s) {
            say(o, COOLDOWN_MSG_WARNING,
                "cooldown: still not cool after %.0f s (max_wait_s):%s; going on", waited,
                sb_str(&why));
            sb_free(&why);
            return 0;
        }
        say(o, COOLDOWN_MSG_WAITING, "cooldown: waiting%s", sb_str(&why));
        sb_free(&why);
        if (cooldown_sleep(1.0, o->stop) < 0)
            return -1;
    }
}

struct line_adapter {
    void (*line)(void *user, const char *msg);
    void *user;
};

static void to_line(void *user, enum cooldown_msg kind, const char *text)
{
    const struct line_adapter *a = user;

    if (kind != COOLDOWN_MSG_WAITING && a->line)
        a->line(a->user, text);
}

int cooldown_before(const struct grid_cooldown *c, struct jb_meter_set *set,
                    volatile sig_atomic_t *stop, void (*line)(void *user, const char *msg),
                    void *user)
{
    struct line_adapter a = {line, user};
    struct cooldown_opts o = {c, set, NULL, 1, stop, to_line, &a};

    return cooldown_wait(&o);
}
