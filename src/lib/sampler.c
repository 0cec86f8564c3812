/*
 * sampler.c - background threads that read every meter and hand the readings to callbacks.
 *
 * Gauges (power, temperature, utilisation, clocks) cost under a microsecond on NVML and are read
 * by one thread every interval_ms.  An NVML energy-counter read costs ~4 ms and the counter moves
 * only every ~100 ms, so each meter with a counter gets its own thread (and lock), never the
 * gauge path.  Under JB_ENERGY_LOCKED that thread runs the counter's read schedule (counter.c):
 * reads back to back until it knows whether the counter is a step function and where its updates
 * fall, then just after each update, with a read just before every tenth to stay locked; a
 * counter exact at every read is read on the fixed cadence.  Reads on demand at phase bounds
 * (jb_sampler_read_energy_now) go through the same per-meter lock and feed the same schedule.
 * Fixed ticks follow an absolute schedule, so a slow read delays one tick but does not drift.
 *
 * Callbacks are serialised by one lock, so the consumer sees one ordered stream; energy readings
 * of a meter are delivered in time order because its reads and their delivery happen under its
 * energy lock.  A meter whose read fails is reported once through on_error and not read again.
 */
#include "meter.h"

#include "counter.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct jb_sampler;

/* One meter's counter: its thread, lock and read schedule. */
struct ecounter {
    struct jb_sampler *s;
    size_t i;
    pthread_t thread;
    int have_thread;
    pthread_mutex_t lock; /* its reads with their delivery, and the schedule */
    struct jb__lock sched;
    uint64_t read_ns;  /* typical duration of a read (for stamping it where it is meant) */
    atomic_int demand; /* on-demand reads waiting for the lock: the thread lets them in */
};

struct jb_sampler {
    struct jb_meter_set *set;
    size_t n;
    struct jb_sampler_opts o;
    unsigned char *failed; /* per meter, guarded by cb_lock */
    pthread_t sample_thread;
    int have_sample_thread;
    struct ecounter *ec;     /* per meter; ec[i].s is NULL for a meter without a counter to read */
    pthread_mutex_t cb_lock; /* serialises callbacks */
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond; /* CLOCK_MONOTONIC */
    int stopping;
    char errmsg[600]; /* the first meter failure, written once under cb_lock (jb_sampler_errmsg) */
};

/* Why the last jb_sampler_start of this thread failed (jb_sampler_errmsg(NULL)). */
static _Thread_local char start_errmsg[256];

static int start_fail(int code, const char *why)
{
    snprintf(start_errmsg, sizeof(start_errmsg), "cannot start sampling: %s", why);
    return code;
}

static void report_failure(struct jb_sampler *s, size_t i, int rc)
{
    struct jb_meter *m = jb_meter_set_get(s->set, i);

    /* Caller holds cb_lock. */
    if (s->failed[i])
        return;
    s->failed[i] = 1;
    if (!s->errmsg[0])
        snprintf(s->errmsg, sizeof(s->errmsg), "meter %s: %s", jb_meter_get_info(m)->id,
                 jb_meter_errmsg(m)[0] ? jb_meter_errmsg(m) : jb_strerror(rc));
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

/* Reads one meter's counter and delivers it, under that meter's energy lock. */
static void read_energy_one(struct jb_sampler *s, struct ecounter *ec)
{
    struct jb_meter *m = jb_meter_set_get(s->set, ec->i);
    struct jb_energy e;
    uint64_t t0, t1;
    int rc, failed;

    pthread_mutex_lock(&ec->lock);
    pthread_mutex_lock(&s->cb_lock);
    failed = s->failed[ec->i];
    pthread_mutex_unlock(&s->cb_lock);
    if (failed)
        goto out;
    t0 = jb_now_ns();
    rc = jb_meter_read_energy(m, &e);
    t1 = jb_now_ns();
    ec->read_ns = ec->read_ns ? (ec->read_ns * 7 + (t1 - t0)) / 8 : t1 - t0;
    pthread_mutex_lock(&s->cb_lock);
    if (rc < 0)
        report_failure(s, ec->i, rc);
    else if (!s->failed[ec->i] && s->o.on_energy)
        s->o.on_energy(s->o.user, ec->i, &e);
    pthread_mutex_unlock(&s->cb_lock);
    if (rc == 0)
        jb__lock_feed(&ec->sched, e.t_mono_ns, e.energy_j);
out:
    pthread_mutex_unlock(&ec->lock);
}

/* The reads at a phase bound.  Each says it is waiting, so that a counter thread reading back
 * to back (the search for the update grid, up to ~1 s) lets it in rather than taking the lock
 * again at once: mutexes are not fair, and a bound read once waited out the whole search. */
static void read_energies(struct jb_sampler *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->ec[i].s) {
            atomic_fetch_add(&s->ec[i].demand, 1);
            read_energy_one(s, &s->ec[i]);
            atomic_fetch_sub(&s->ec[i].demand, 1);
        }
}

static void add_ns(struct timespec *ts, uint64_t ns)
{
    uint64_t total = (uint64_t)ts->tv_nsec + ns;

    ts->tv_sec += (time_t)(total / 1000000000ull);
    ts->tv_nsec = (long)(total % 1000000000ull);
}

/* Sleeps until `until` (CLOCK_MONOTONIC); returns 1 when stopping. */
static int sleep_until(struct jb_sampler *s, const struct timespec *until)
{
    int stopping;

    pthread_mutex_lock(&s->stop_lock);
    while (!s->stopping) {
        int rc = pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, until);
        if (rc == ETIMEDOUT)
            break;
    }
    stopping = s->stopping;
    pthread_mutex_unlock(&s->stop_lock);
    return stopping;
}

/* Sleeps until the next tick of the absolute schedule; returns 1 when stopping. */
static int wait_tick(struct jb_sampler *s, struct timespec *next, uint64_t interval_ns)
{
    struct timespec now;

    add_ns(next, interval_ns);
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* Behind schedule (a slow read): skip the missed ticks rather than bunch them up. */
    while (next->tv_sec < now.tv_sec ||
           (next->tv_sec == now.tv_sec && next->tv_nsec <= now.tv_nsec))
        add_ns(next, interval_ns);
    return sleep_until(s, next);
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

static int meter_failed(struct jb_sampler *s, size_t i)
{
    int f;

    pthread_mutex_lock(&s->cb_lock);
    f = s->failed[i];
    pthread_mutex_unlock(&s->cb_lock);
    return f;
}

/* One counter's thread: the fixed cadence, or the locked schedule. */
static void *energy_main(void *arg)
{
    struct ecounter *ec = arg;
    struct jb_sampler *s = ec->s;
    uint64_t interval_ns = (uint64_t)s->o.energy_interval_ms * 1000000ull;
    struct timespec next;

    clock_gettime(CLOCK_MONOTONIC, &next);
    if (s->o.energy_on_demand == JB_ENERGY_FIXED) {
        while (!wait_tick(s, &next, interval_ns) && !meter_failed(s, ec->i))
            read_energy_one(s, ec);
        return NULL;
    }
    while (!meter_failed(s, ec->i)) {
        uint64_t now = jb_now_ns(), stamp, start, half_read;
        pthread_mutex_lock(&ec->lock);
        half_read = ec->read_ns / 2; /* under the lock: on-demand reads update it */
        stamp = jb__lock_next(&ec->sched, now + half_read);
        pthread_mutex_unlock(&ec->lock);
        /* Start the read so that its middle, where it is stamped, falls on the target. */
        start = stamp - half_read;
        if (start > now) {
            next.tv_sec = (time_t)(start / 1000000000ull);
            next.tv_nsec = (long)(start % 1000000000ull);
            if (sleep_until(s, &next))
                break;
        } else {
            pthread_mutex_lock(&s->stop_lock);
            now = (uint64_t)s->stopping;
            pthread_mutex_unlock(&s->stop_lock);
            if (now)
                break;
        }
        if (atomic_load(&ec->demand) > 0) {
            /* A bound read is waiting: it feeds the same schedule; read after it. */
            now = jb_now_ns() + 1000000ull;
            next.tv_sec = (time_t)(now / 1000000000ull);
            next.tv_nsec = (long)(now % 1000000000ull);
            if (sleep_until(s, &next))
                break;
            continue;
        }
        read_energy_one(s, ec);
    }
    return NULL;
}

static void sampler_free(struct jb_sampler *s)
{
    for (size_t i = 0; s->ec && i < s->n; i++)
        if (s->ec[i].s)
            pthread_mutex_destroy(&s->ec[i].lock);
    pthread_mutex_destroy(&s->cb_lock);
    pthread_mutex_destroy(&s->stop_lock);
    pthread_cond_destroy(&s->stop_cond);
    free(s->ec);
    free(s->failed);
    free(s);
}

void jb_sampler_opts_init_sized(struct jb_sampler_opts *o, size_t size)
{
    /* Every default is 0 (joulebench.h); the caller's struct is `size` bytes long, whatever
     * this library's is. */
    if (!o || size < sizeof(size_t))
        return;
    memset(o, 0, size);
    o->size = size;
}

int jb_sampler_start(struct jb_sampler **out, struct jb_meter_set *set,
                     const struct jb_sampler_opts *opts)
{
    struct jb_sampler *s;
    struct jb_sampler_opts o;
    pthread_condattr_t ca;
    uint64_t now;
    char why[200];
    int rc;

    *out = NULL;
    start_errmsg[0] = '\0';
    if (!set || !opts)
        return start_fail(JB_EINVAL, "no meter set or no options");
    rc = jb__opts_take(&o, sizeof(o), opts, "jb_sampler_opts", why, sizeof(why));
    if (rc < 0)
        return start_fail(rc, why);
    opts = &o;
    if ((opts->interval_ms && (opts->interval_ms < 10 || opts->interval_ms > 60000)) ||
        (opts->energy_interval_ms &&
         (opts->energy_interval_ms < 10 || opts->energy_interval_ms > 60000)))
        return start_fail(JB_ERANGE, "interval_ms and energy_interval_ms must be 10..60000");
    if (opts->energy_on_demand < JB_ENERGY_LOCKED || opts->energy_on_demand > JB_ENERGY_FIXED)
        return start_fail(JB_EINVAL, "energy_on_demand must be one of JB_ENERGY_*");
    s = calloc(1, sizeof(*s));
    if (!s)
        return start_fail(JB_ENOMEM, "out of memory");
    s->set = set;
    s->n = jb_meter_set_count(set);
    s->o = *opts;
    if (!s->o.interval_ms)
        s->o.interval_ms = 100;
    if (!s->o.energy_interval_ms)
        s->o.energy_interval_ms = 100;
    s->failed = calloc(s->n ? s->n : 1, 1);
    s->ec = calloc(s->n ? s->n : 1, sizeof(*s->ec));
    pthread_mutex_init(&s->cb_lock, NULL);
    pthread_mutex_init(&s->stop_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->stop_cond, &ca);
    pthread_condattr_destroy(&ca);
    if (!s->failed || !s->ec) {
        sampler_free(s);
        return start_fail(JB_ENOMEM, "out of memory");
    }
    now = jb_now_ns();
    for (size_t i = 0; i < s->n; i++) {
        struct ecounter *ec = &s->ec[i];
        if (!(jb_meter_read_mask(jb_meter_set_get(set, i)) & JB_CAP_ENERGY))
            continue;
        ec->s = s;
        ec->i = i;
        atomic_init(&ec->demand, 0);
        pthread_mutex_init(&ec->lock, NULL);
        jb__lock_init(&ec->sched, now, (uint64_t)s->o.energy_interval_ms * 1000000ull);
    }

    /* First readings before returning, so that anything measured after start is covered. */
    read_energies(s);
    read_samples(s);

    rc = pthread_create(&s->sample_thread, NULL, sample_main, s);
    if (rc) {
        sampler_free(s);
        return start_fail(JB_ESYS, strerror(rc));
    }
    s->have_sample_thread = 1;
    for (size_t i = 0; i < s->n && s->o.energy_on_demand != JB_ENERGY_ON_DEMAND; i++) {
        struct ecounter *ec = &s->ec[i];
        if (!ec->s)
            continue;
        rc = pthread_create(&ec->thread, NULL, energy_main, ec);
        if (rc) {
            jb_sampler_stop(s);
            return start_fail(JB_ESYS, strerror(rc));
        }
        ec->have_thread = 1;
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

const char *jb_sampler_errmsg(const struct jb_sampler *s)
{
    struct jb_sampler *w = (struct jb_sampler *)s; /* the lock only; the message is written once */
    const char *msg;

    if (!s)
        return start_errmsg;
    pthread_mutex_lock(&w->cb_lock);
    msg = s->errmsg;
    pthread_mutex_unlock(&w->cb_lock);
    return msg;
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
    for (size_t i = 0; i < s->n; i++)
        if (s->ec[i].have_thread)
            pthread_join(s->ec[i].thread, NULL);
    /* Last readings after the threads are gone, so the stream ends past everything measured. */
    read_samples(s);
    read_energies(s);
    sampler_free(s);
}
