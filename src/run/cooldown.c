/*
 * cooldown.c - the grid's cooldown before a run (see cooldown.h): a fixed wait, then
 * temperature polling bounded by max_wait_s.  Sleeps in slices of at most 100 ms so that a stop
 * signal ends it at once.
 */
#include "run/cooldown.h"

#include "util/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

int cooldown_wanted(const struct grid_cooldown *c)
{
    return c->seconds > 0 || !isnan(c->until_temp_c);
}

static int sleep_stoppable(double s, volatile sig_atomic_t *stop)
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

static void say(void (*line)(void *, const char *), void *user, const char *msg)
{
    if (line)
        line(user, msg);
}

/* The hottest meter above the limit into why; 1 when every meter with a temperature is cool,
 * 0 when not, -1 when no meter reports a temperature. */
static int all_cool(struct jb_meter_set *set, double limit_c, struct strbuf *why)
{
    int any = 0, ok = 1;

    for (size_t i = 0; i < jb_meter_set_count(set); i++) {
        struct jb_meter *m = jb_meter_set_get(set, i);
        struct jb_sample s;
        if (jb_meter_read_sample(m, &s) < 0 || !(s.valid & JB_CAP_TEMP))
            continue;
        any = 1;
        if (s.temp_c > limit_c) {
            ok = 0;
            sb_printf(why, " %s %.0f C", jb_meter_get_info(m)->id, s.temp_c);
        }
    }
    return any ? ok : -1;
}

int cooldown_before(const struct grid_cooldown *c, struct jb_meter_set *set,
                    volatile sig_atomic_t *stop, void (*line)(void *user, const char *msg),
                    void *user)
{
    char msg[512];
    uint64_t t0;

    if (c->seconds > 0) {
        snprintf(msg, sizeof(msg), "cooldown: %g s before the run", c->seconds);
        say(line, user, msg);
        if (sleep_stoppable(c->seconds, stop) < 0)
            return -1;
    }
    if (!isnan(c->until_power_above_idle_w))
        say(line, user,
            "cooldown: until_power_above_idle_w needs the run's idle baseline; not applied "
            "before the run");
    if (isnan(c->until_temp_c) || !set)
        return 0;
    t0 = jb_now_ns();
    for (;;) {
        struct strbuf why = STRBUF_INIT;
        double waited = (double)(jb_now_ns() - t0) / 1e9;
        int st = all_cool(set, c->until_temp_c, &why);

        if (st < 0) {
            sb_free(&why);
            say(line, user, "cooldown: no meter reports a temperature; until_temp_c not applied");
            return 0;
        }
        if (st == 1) {
            sb_free(&why);
            snprintf(msg, sizeof(msg), "cooldown: at or below %g C after %.0f s", c->until_temp_c,
                     waited);
            say(line, user, msg);
            return 0;
        }
        if (waited >= c->max_wait_s) {
            snprintf(msg, sizeof(msg),
                     "cooldown: still not cool after %.0f s (max_wait_s):%s; "
                     "going on",
                     waited, sb_str(&why));
            sb_free(&why);
            say(line, user, msg);
            return 0;
        }
        sb_free(&why);
        if (sleep_stoppable(1.0, stop) < 0)
            return -1;
    }
}
