/*
 * sampler.c - background threads that read every meter and hand the readings to callbacks.
 *
 * Two threads, because the two kinds of reading cost very different amounts: gauges (power,
 * temperature, utilisation, clocks) cost under a microsecond on NVML and are read every
 * interval_ms; an NVML energy-counter read costs ~4 ms and the counter moves only every ~100 ms,
 * so counters are read on their own cadence (energy_interval_ms) and on demand at phase bounds
 * (jb_sampler_read_energy_now), never on the gauge path.  Ticks are on an absolute schedule, so
 * a slow read delays one tick but does not drift the rest.
 *
 * Callbacks are serialised by one lock, so the consumer sees one ordered stream; energy readings
 * of a meter are delivered in time order because reads and delivery happen under one energy lock.
 * A meter whose read fails is reported once through on_error and not read again.
 */
#include "meter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct jb_sampler {
    struct jb_meter_set *set;
    size_t n;
    struct jb_sampler_opts o;
    unsigned char *failed; /* per meter, guarded by cb_lock */
    pthread_t sample_thread, energy_thread;
    int have_sample_thread, have_energy_thread, have_energy;
    pthread_mutex_t cb_lock;     /* serialises callbacks */
    pthread_mutex_t energy_lock; /* serialises counter reads with their delivery */
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond; /* CLOCK_MONOTONIC */
    int stopping;
};

static void report_failure(struct jb_sampler *s, size_t i, int rc)
{
    struct jb_meter *m = jb_meter_set_get(s->set, i);

    /* Caller holds cb_lock. */
    if (s->failed[i])
        return;
    s->failed[i] = 1;
    if (s->o.on_error)
        s->o.on_error(s->o.user, i, rc, jb_meter_errmsg(m));
}

static void read_samples(struct jb_sampler *s)
{
    for (size_t i = 0; i < s->n; i++) {
        struct jb_meter *m = jb_meter_set_get(s->set, i);
        struct jb_sample smp;
        int rc;

        pthread_mutex_lock(&s->cb_lock);
        if (s->failed[i]) {
            pthread_mutex_unlock(&s->cb_lock);
            continue;
        }
        pthread_mutex_unlock(&s->cb_lock);
        rc = jb_meter_read_sample(m, &smp);
        pthread_mutex_lock(&s->cb_lock);
        /* The other thread may have failed this meter while we read: nothing of a meter is
         * delivered after its error. */
        if (rc < 0)
            report_failure(s, i, rc);
        else if (!s->failed[i] && smp.valid && s->o.on_sample)
            s->o.on_sample(s->o.user, i, &smp);
        pthread_mutex_unlock(&s->cb_lock);
    }
}

static void read_energies(struct jb_sampler *s)
{
    pthread_mutex_lock(&s->energy_lock);
    for (size_t i = 0; i < s->n; i++) {
        struct jb_meter *m = jb_meter_set_get(s->set, i);
        struct jb_energy e;
        int rc, failed;

        if (!(jb_meter_read_mask(m) & JB_CAP_ENERGY))
            continue;
        pthread_mutex_lock(&s->cb_lock);
        failed = s->failed[i];
        pthread_mutex_unlock(&s->cb_lock);
        if (failed)
            continue;
        rc = jb_meter_read_energy(m, &e);
        pthread_mutex_lock(&s->cb_lock);
        if (rc < 0)
            report_failure(s, i, rc);
        else if (!s->failed[i] && s->o.on_energy)
            s->o.on_energy(s->o.user, i, &e);
        pthread_mutex_unlock(&s->cb_lock);
    }
    pthread_mutex_unlock(&s->energy_lock);
}

static void add_ns(struct timespec *ts, uint64_t ns)
{
    uint64_t total = (uint64_t)ts->tv_nsec + ns;

    ts->tv_sec += (time_t)(total / 1000000000ull);
    ts->tv_nsec = (long)(total % 1000000000ull);
}

/* Sleeps until the next tick of the absolute schedule; returns 1 when stopping. */
static int wait_tick(struct jb_sampler *s, struct timespec *next, uint64_t interval_ns)
{
    struct timespec now;
    int stopping;

    add_ns(next, interval_ns);
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* Behind schedule (a slow read): skip the missed ticks rather than bunch them up. */
    while (next->tv_sec < now.tv_sec ||
           (next->tv_sec == now.tv_sec && next->tv_nsec <= now.tv_nsec))
        add_ns(next, interval_ns);
    pthread_mutex_lock(&s->stop_lock);
    while (!s->stopping) {
        int rc = pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, next);
        if (rc == ETIMEDOUT)
            break;
    }
    stopping = s->stopping;
    pthread_mutex_unlock(&s->stop_lock);
    return stopping;
}

static void *sample_main(void *arg)
{
    struct jb_sampler *s = arg;
    struct timespec next;

    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!wait_tick(s, &next, (uint64_t)s->o.interval_ms * 1000000ull))
        read_samples(s);
    return NULL;
}

static void *energy_main(void *arg)
{
    struct jb_sampler *s = arg;
    struct timespec next;

    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!wait_tick(s, &next, (uint64_t)s->o.energy_interval_ms * 1000000ull))
        read_energies(s);
    return NULL;
}

static void sampler_free(struct jb_sampler *s)
{
    pthread_mutex_destroy(&s->cb_lock);
    pthread_mutex_destroy(&s->energy_lock);
    pthread_mutex_destroy(&s->stop_lock);
    pthread_cond_destroy(&s->stop_cond);
    free(s->failed);
    free(s);
}

int jb_sampler_start(struct jb_sampler **out, struct jb_meter_set *set,
                     const struct jb_sampler_opts *opts)
{
    struct jb_sampler *s;
    pthread_condattr_t ca;
    int rc;

    *out = NULL;
    if (!set || !opts)
        return JB_EINVAL;
    if ((opts->interval_ms && (opts->interval_ms < 10 || opts->interval_ms > 60000)) ||
        (opts->energy_interval_ms &&
         (opts->energy_interval_ms < 10 || opts->energy_interval_ms > 60000)))
        return JB_ERANGE;
    s = calloc(1, sizeof(*s));
    if (!s)
        return JB_ENOMEM;
    s->set = set;
    s->n = jb_meter_set_count(set);
    s->o = *opts;
    if (!s->o.interval_ms)
        s->o.interval_ms = 100;
    if (!s->o.energy_interval_ms)
        s->o.energy_interval_ms = 100;
    s->failed = calloc(s->n ? s->n : 1, 1);
    pthread_mutex_init(&s->cb_lock, NULL);
    pthread_mutex_init(&s->energy_lock, NULL);
    pthread_mutex_init(&s->stop_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->stop_cond, &ca);
    pthread_condattr_destroy(&ca);
    if (!s->failed) {
        sampler_free(s);
        return JB_ENOMEM;
    }
    for (size_t i = 0; i < s->n; i++)
        if (jb_meter_read_mask(jb_meter_set_get(set, i)) & JB_CAP_ENERGY)
            s->have_energy = 1;

    /* First readings before returning, so that anything measured after start is covered. */
    read_energies(s);
    read_samples(s);

    rc = pthread_create(&s->sample_thread, NULL, sample_main, s);
    if (rc) {
        sampler_free(s);
        return JB_ESYS;
    }
    s->have_sample_thread = 1;
    if (s->have_energy && !s->o.energy_on_demand) {
        rc = pthread_create(&s->energy_thread, NULL, energy_main, s);
        if (rc) {
            jb_sampler_stop(s);
            return JB_ESYS;
        }
        s->have_energy_thread = 1;
    }
    *out = s;
    return 0;
}

int jb_sampler_read_energy_now(struct jb_sampler *s)
{
    if (!s)
        return JB_EINVAL;
    read_energies(s);
    return 0;
}

void jb_sampler_stop(struct jb_sampler *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->stop_lock);
    s->stopping = 1;
    pthread_cond_broadcast(&s->stop_cond);
    pthread_mutex_unlock(&s->stop_lock);
    if (s->have_sample_thread)
        pthread_join(s->sample_thread, NULL);
    if (s->have_energy_thread)
        pthread_join(s->energy_thread, NULL);
    /* Last readings after the threads are gone, so the stream ends past everything measured. */
    read_samples(s);
    read_energies(s);
    sampler_free(s);
}
