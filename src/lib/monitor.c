/*
 * monitor.c - measurement windows inside a program: a meter set, a sampler and a phase
 * accountant owned together, so that a caller (the Python package through ctypes, or a C
 * program) begins and ends named windows and waits for their energy, without callbacks.  The
 * contract is in include/joulebench.h ("monitor").
 *
 * A window is a phase of the accountant: its name is the phase, and a sequence number (the
 * ticket) is the phase's index, so a name can be reused while an earlier window of that name is
 * still waiting for readings, and each result finds its window again.  The sampler's threads feed
 * the accountant under the monitor's lock; the accountant hands each resolved result to
 * on_result (called under that lock), which files it with its window and wakes the waiters.  The
 * lock is never held while a meter is read: jb_sampler_read_energy_now and jb_sampler_stop call
 * back into the sinks, which take it.
 *
 * Not a run directory writer and not a policy: no files, no idle baseline, no child process
 * (that is src/run/measure.c).  Windows are found by name (open ones) and by ticket (all not yet
 * taken) in two chained hash tables: every call is O(1) on average in the number of windows.
 */
#include "meter.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NAME_MAX_BYTES 31

enum win_state {
    WIN_OPEN = 1,      /* begun, not ended */
    WIN_ENDED = 2,     /* ended, results still coming */
    WIN_DONE = 3,      /* every meter's result is in */
    WIN_FORGOTTEN = 4, /* ended, dropped: freed when its results are in */
};

struct win {
    char name[NAME_MAX_BYTES + 1];
    uint64_t ticket;
    enum win_state state;
    size_t n_got;
    struct win *by_name; /* chain of open windows by name */
    struct win *by_id;   /* chain of every window by ticket */
    struct jb_phase_result res[];
};

struct table {
    struct win **b;
    size_t n_buckets, n;
};

struct jb_monitor {
    struct jb_meter_set *set;
    size_t n;
    struct jb_sampler *sampler;
    struct jb_phases *phases;
    unsigned flags;
    unsigned char *gone; /* per meter: no longer read or used */
    char **meter_error;  /* per meter, NULL while it is read */
    pthread_mutex_t lock;
    pthread_cond_t resolved; /* CLOCK_MONOTONIC */
    struct table names, ids;
    uint64_t next_ticket;
    pid_t pid;      /* of the process that made it: a forked child has no sampler threads */
    int bad_result; /* a result that matched no window (never expected) */
};

struct wmeter {
    struct jb_phase_result r;
    const char *source;
    int simulated;
};

struct jb_window {
    char name[NAME_MAX_BYTES + 1];
    uint64_t ticket;
    uint64_t t_begin_ns, t_end_ns;
    size_t n;
    int simulated;
    struct wmeter m[];
};

/* The calling thread's last failure: a monitor is shared between threads, a message on the
 * handle would be overwritten by another thread's. */
static _Thread_local char tls_errmsg[512];

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tls_errmsg, sizeof(tls_errmsg), fmt, ap);
    va_end(ap);
    return code;
}

static void clear_error(void)
{
    tls_errmsg[0] = '\0';
}

const char *jb_monitor_errmsg(const struct jb_monitor *mon)
{
    (void)mon;
    return tls_errmsg;
}

/* ---- the two tables ---------------------------------------------------------------------- */

static size_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

static size_t hash_id(uint64_t id)
{
    uint64_t h = id * 0x9e3779b97f4a7c15ull;
    return (size_t)(h ^ (h >> 31));
}

static struct win **next_of(struct win *w, int by_name)
{
    return by_name ? &w->by_name : &w->by_id;
}

static size_t key_of(const struct win *w, int by_name)
{
    return by_name ? hash_name(w->name) : hash_id(w->ticket);
}

/* Makes room for one more; -1 when out of memory. */
static int table_reserve(struct table *t, int by_name)
{
    size_t nb;
    struct win **b;

    if (t->n + 1 <= t->n_buckets / 4 * 3)
        return 0;
    nb = t->n_buckets ? t->n_buckets * 2 : 16;
    b = calloc(nb, sizeof(*b));
    if (!b)
        return -1;
    for (size_t i = 0; i < t->n_buckets; i++) {
        struct win *w = t->b[i], *next;
        for (; w; w = next) {
            size_t j = key_of(w, by_name) & (nb - 1);
            next = *next_of(w, by_name);
            *next_of(w, by_name) = b[j];
            b[j] = w;
        }
    }
    free(t->b);
    t->b = b;
    t->n_buckets = nb;
    return 0;
}

/* Call table_reserve first. */
static void table_put(struct table *t, struct win *w, int by_name)
{
    size_t j = key_of(w, by_name) & (t->n_buckets - 1);

    *next_of(w, by_name) = t->b[j];
    t->b[j] = w;
    t->n++;
}

static struct win **find_name(struct table *t, const char *name)
{
    struct win **wp;

    if (!t->n_buckets)
        return NULL;
    for (wp = &t->b[hash_name(name) & (t->n_buckets - 1)]; *wp; wp = &(*wp)->by_name)
        if (!strcmp((*wp)->name, name))
            return wp;
    return NULL;
}

static struct win **find_id(struct table *t, uint64_t id)
{
    struct win **wp;

    if (!t->n_buckets)
        return NULL;
    for (wp = &t->b[hash_id(id) & (t->n_buckets - 1)]; *wp; wp = &(*wp)->by_id)
        if ((*wp)->ticket == id)
            return wp;
    return NULL;
}

/* Unlinks the window at *wp (a slot of the ticket table) and frees it. */
static void drop(struct jb_monitor *mon, struct win **wp)
{
    struct win *w = *wp;

    *wp = w->by_id;
    mon->ids.n--;
    free(w);
}

/* ---- the sampler's sinks (the sampler serialises them; the lock is against the callers) -- */

/* Meter i is no longer read or used (caller holds the lock): windows stop waiting for it, and
 * its part of the windows past its last reading is marked partial. */
static void meter_stopped(struct jb_monitor *mon, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void meter_stopped(struct jb_monitor *mon, size_t i, const char *fmt, ...)
{
    char buf[600];
    va_list ap;

    if (mon->gone[i])
        return;
    mon->gone[i] = 1;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    mon->meter_error[i] = strdup(buf); /* NULL when out of memory: then "" is said */
    jb_phases_meter_gone(mon->phases, i);
    pthread_cond_broadcast(&mon->resolved);
}

static const char *meter_id(const struct jb_monitor *mon, size_t i)
{
    return jb_meter_get_info(jb_meter_set_get(mon->set, i))->id;
}

static void sink_sample(void *user, size_t i, const struct jb_sample *s)
{
    struct jb_monitor *mon = user;

    pthread_mutex_lock(&mon->lock);
    /* The instant reading where the meter has one, as measure.c does: an H200's averaged
     * reading lags a load step by ~0.9 s (docs/METHODOLOGY.md).  A reading the accountant
     * rejects (not finite, out of order) stops the meter rather than leave a gap unsaid. */
    if (!mon->gone[i] && jb_phases_add_sample(mon->phases, i, s) < 0)
        meter_stopped(mon, i, "meter %s stopped: power reading rejected: %s", meter_id(mon, i),
                      jb_phases_errmsg(mon->phases));
    pthread_mutex_unlock(&mon->lock);
}

static void sink_energy(void *user, size_t i, const struct jb_energy *e)
{
    struct jb_monitor *mon = user;

    pthread_mutex_lock(&mon->lock);
    if (!mon->gone[i] && jb_phases_add_energy(mon->phases, i, e) < 0)
        meter_stopped(mon, i, "meter %s stopped: counter reading rejected: %s", meter_id(mon, i),
                      jb_phases_errmsg(mon->phases));
    pthread_mutex_unlock(&mon->lock);
}

static void sink_error(void *user, size_t i, int code, const char *msg)
{
    struct jb_monitor *mon = user;

    pthread_mutex_lock(&mon->lock);
    meter_stopped(mon, i, "meter %s stopped: %s (%s)", meter_id(mon, i),
                  msg && *msg ? msg : jb_strerror(code), jb_strerror(code));
    pthread_mutex_unlock(&mon->lock);
}

/* The accountant's result callback, called under mon->lock from inside a jb_phases_* call. */
static void on_result(void *user, const struct jb_phase_result *r)
{
    struct jb_monitor *mon = user;
    struct win **wp = r->index > 0 ? find_id(&mon->ids, (uint64_t)r->index) : NULL;
    struct win *w;

    if (!wp || r->meter >= mon->n) {
        mon->bad_result = 1;
        return;
    }
    w = *wp;
    w->res[r->meter] = *r;
    if (++w->n_got < mon->n)
        return;
    if (w->state == WIN_FORGOTTEN) {
        drop(mon, wp);
        return;
    }
    w->state = WIN_DONE;
    pthread_cond_broadcast(&mon->resolved);
}

/* ---- lifetime ------------------------------------------------------------------------------ */

static void monitor_free_parts(struct jb_monitor *mon)
{
    for (size_t i = 0; i < mon->ids.n_buckets; i++) {
        struct win *w = mon->ids.b[i], *next;
        for (; w; w = next) {
            next = w->by_id;
            free(w);
        }
    }
    free(mon->ids.b);
    free(mon->names.b);
    jb_phases_free(mon->phases);
    jb_meter_set_free(mon->set);
    for (size_t i = 0; mon->meter_error && i < mon->n; i++)
        free(mon->meter_error[i]);
    free(mon->meter_error);
    free(mon->gone);
    pthread_mutex_destroy(&mon->lock);
    pthread_cond_destroy(&mon->resolved);
    free(mon);
}

int jb_monitor_new(struct jb_monitor **out, const char *meters, unsigned interval_ms,
                   unsigned energy_interval_ms, unsigned flags)
{
    struct jb_monitor *mon;
    struct jb_sampler_opts so;
    pthread_condattr_t ca;
    int rc;

    clear_error();
    if (!out)
        return fail(JB_EINVAL, "no place for the monitor (out is NULL)");
    *out = NULL;
    if (flags & ~JB_MONITOR_NO_BOUND_READS)
        return fail(JB_EINVAL, "unknown monitor flags 0x%x", flags & ~JB_MONITOR_NO_BOUND_READS);
    if ((interval_ms && (interval_ms < 10 || interval_ms > 60000)) ||
        (energy_interval_ms && (energy_interval_ms < 10 || energy_interval_ms > 60000)))
        return fail(JB_ERANGE,
                    "sampling interval %u ms, counter interval %u ms: each must be 10..60000 "
                    "(or 0 for 100)",
                    interval_ms, energy_interval_ms);
    mon = calloc(1, sizeof(*mon));
    if (!mon)
        return fail(JB_ENOMEM, "out of memory");
    pthread_mutex_init(&mon->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&mon->resolved, &ca);
    pthread_condattr_destroy(&ca);
    mon->flags = flags;
    mon->next_ticket = 1;
    mon->pid = getpid();
    if (!(mon->set = jb_meter_set_new())) {
        rc = fail(JB_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = jb_meter_set_add(mon->set, meters ? meters : "auto")) < 0) {
        fail(rc, "%s", jb_meter_set_errmsg(mon->set));
        goto out;
    }
    mon->n = jb_meter_set_count(mon->set);
    if (!mon->n) {
        /* Say why auto found nothing (the notes: "RAPL not readable: ...") */
        const char *n0 = jb_meter_set_note_count(mon->set) ? jb_meter_set_note(mon->set, 0) : "";
        const char *n1 =
            jb_meter_set_note_count(mon->set) > 1 ? jb_meter_set_note(mon->set, 1) : "";
        rc = fail(JB_ENODEV,
                  "no meter to measure with in '%s' (no NVIDIA GPU and no readable RAPL domain; "
                  "\"sim\" gives a simulated meter)%s%s%s%s",
                  meters ? meters : "auto", *n0 ? ": " : "", n0, *n1 ? "; " : "", n1);
        goto out;
    }
    for (size_t i = 0; i < mon->n; i++) {
        struct jb_meter *m = jb_meter_set_get(mon->set, i);
        /* Gauges other than power are separate driver calls that no window uses. */
        jb_meter_set_read_mask(m, JB_CAP_ENERGY | JB_CAP_POWER | JB_CAP_POWER_INSTANT);
    }
    mon->phases = jb_phases_new(mon->n);
    mon->meter_error = calloc(mon->n, sizeof(*mon->meter_error));
    mon->gone = calloc(mon->n, 1);
    if (!mon->phases || !mon->meter_error || !mon->gone) {
        rc = fail(JB_ENOMEM, "out of memory");
        goto out;
    }
    jb_phases_set_on_result(mon->phases, on_result, mon);
    jb_sampler_opts_init(&so);
    so.interval_ms = interval_ms;
    so.energy_interval_ms = energy_interval_ms;
    so.on_sample = sink_sample;
    so.on_energy = sink_energy;
    so.on_error = sink_error;
    so.user = mon;
    if ((rc = jb_sampler_start(&mon->sampler, mon->set, &so)) < 0) {
        fail(rc, "cannot start the sampler: %s", jb_strerror(rc));
        goto out;
    }
    *out = mon;
    return 0;
out:
    monitor_free_parts(mon);
    return rc;
}

void jb_monitor_free(struct jb_monitor *mon)
{
    if (!mon)
        return;
    /* In a forked child the sampler's threads do not exist: joining them would hang.  The
     * memory is the parent's copy; it is left as it is. */
    if (mon->pid != getpid())
        return;
    jb_sampler_stop(mon->sampler); /* last readings through the sinks, then no more threads */
    pthread_mutex_lock(&mon->lock);
    jb_phases_set_on_result(mon->phases, NULL, NULL); /* nobody will take them now */
    jb_phases_finish(mon->phases, jb_now_ns());
    pthread_mutex_unlock(&mon->lock);
    monitor_free_parts(mon);
}

/* ---- meters --------------------------------------------------------------------------------- */

size_t jb_monitor_meter_count(const struct jb_monitor *mon)
{
    return mon ? mon->n : 0;
}

const struct jb_meter *jb_monitor_meter(const struct jb_monitor *mon, size_t i)
{
    return mon && i < mon->n ? jb_meter_set_get(mon->set, i) : NULL;
}

const char *jb_monitor_meter_error(const struct jb_monitor *mon, size_t i)
{
    struct jb_monitor *m = (struct jb_monitor *)mon; /* the lock, not the state, changes */
    const char *e = "";

    if (!mon || i >= mon->n)
        return "";
    pthread_mutex_lock(&m->lock);
    if (m->meter_error[i])
        e = m->meter_error[i]; /* set once, freed with the monitor */
    pthread_mutex_unlock(&m->lock);
    return e;
}

size_t jb_monitor_note_count(const struct jb_monitor *mon)
{
    return mon ? jb_meter_set_note_count(mon->set) : 0;
}

const char *jb_monitor_note(const struct jb_monitor *mon, size_t i)
{
    return mon ? jb_meter_set_note(mon->set, i) : NULL;
}

/* A usable monitor: 0, or JB_EINVAL / JB_ESTATE with the message set. */
static int check_monitor(const struct jb_monitor *mon)
{
    if (!mon)
        return fail(JB_EINVAL, "no monitor");
    /* After fork() the child has the monitor's memory but not its threads: no reading would
     * come, and a wait would never end. */
    if (mon->pid != getpid())
        return fail(JB_ESTATE,
                    "the monitor was made in process %ld, not this one (after fork(), "
                    "make a new monitor in the child)",
                    (long)mon->pid);
    return 0;
}

/* ---- windows -------------------------------------------------------------------------------- */

static int check_name(const char *name)
{
    size_t len;

    if (!name || !*name)
        return fail(JB_EINVAL, "a window needs a name (1 to %d bytes)", NAME_MAX_BYTES);
    len = strlen(name);
    if (len > NAME_MAX_BYTES)
        return fail(JB_EINVAL, "window name '%.40s%s' is %zu bytes long; at most %d", name,
                    len > 40 ? "..." : "", len, NAME_MAX_BYTES);
    return 0;
}

/* A counter reading right at a bound (as measure.c takes at phase bounds), outside the lock. */
static void bound_read(struct jb_monitor *mon)
{
    if (!(mon->flags & JB_MONITOR_NO_BOUND_READS))
        jb_sampler_read_energy_now(mon->sampler);
}

int jb_monitor_begin(struct jb_monitor *mon, const char *name)
{
    uint64_t t = jb_now_ns(); /* before the lock: the bound is the call, not the lock's wait */
    struct win *w;
    int rc;

    clear_error();
    if ((rc = check_monitor(mon)) < 0 || (rc = check_name(name)) < 0)
        return rc;
    w = calloc(1, sizeof(*w) + mon->n * sizeof(w->res[0]));
    if (!w)
        return fail(JB_ENOMEM, "out of memory");
    memcpy(w->name, name, strlen(name) + 1);
    w->state = WIN_OPEN;
    pthread_mutex_lock(&mon->lock);
    if (find_name(&mon->names, name)) {
        rc =
            fail(JB_ESTATE, "window '%s' is already open (end it before beginning it again)", name);
        goto out;
    }
    if (table_reserve(&mon->names, 1) < 0 || table_reserve(&mon->ids, 0) < 0) {
        rc = fail(JB_ENOMEM, "out of memory");
        goto out;
    }
    w->ticket = mon->next_ticket;
    if ((rc = jb_phases_begin(mon->phases, name, (long)w->ticket, t)) < 0) {
        fail(rc, "window '%s': %s", name, jb_phases_errmsg(mon->phases));
        goto out;
    }
    mon->next_ticket++;
    table_put(&mon->names, w, 1);
    table_put(&mon->ids, w, 0);
    w = NULL;
out:
    pthread_mutex_unlock(&mon->lock);
    free(w);
    if (rc == 0)
        bound_read(mon);
    return rc;
}

static int end_window(struct jb_monitor *mon, const char *name, uint64_t *ticket, int forget)
{
    uint64_t t = jb_now_ns();
    struct win **np, *w;
    int rc;

    clear_error();
    if (ticket)
        *ticket = 0;
    if ((rc = check_monitor(mon)) < 0 || (rc = check_name(name)) < 0)
        return rc;
    pthread_mutex_lock(&mon->lock);
    if (!(np = find_name(&mon->names, name))) {
        rc = fail(JB_ESTATE, "no window '%s' is open (never begun, or already ended)", name);
        goto out;
    }
    w = *np;
    if ((rc = jb_phases_end(mon->phases, name, (long)w->ticket, t, NULL)) < 0) {
        fail(rc, "window '%s': %s", name, jb_phases_errmsg(mon->phases));
        goto out;
    }
    *np = w->by_name;
    w->by_name = NULL;
    mon->names.n--;
    /* The results may already be in (jb_phases_end resolves what the readings allow). */
    if (w->state == WIN_OPEN)
        w->state = WIN_ENDED;
    if (ticket)
        *ticket = w->ticket;
    if (forget) {
        if (w->state == WIN_DONE)
            drop(mon, find_id(&mon->ids, w->ticket));
        else
            w->state = WIN_FORGOTTEN;
    }
out:
    pthread_mutex_unlock(&mon->lock);
    if (rc == 0)
        bound_read(mon);
    return rc;
}

int jb_monitor_end(struct jb_monitor *mon, const char *name, uint64_t *ticket)
{
    return end_window(mon, name, ticket, ticket == NULL);
}

int jb_monitor_cancel(struct jb_monitor *mon, const char *name)
{
    return end_window(mon, name, NULL, 1);
}

void jb_monitor_forget(struct jb_monitor *mon, uint64_t ticket)
{
    struct win **wp;

    if (!mon)
        return;
    pthread_mutex_lock(&mon->lock);
    wp = find_id(&mon->ids, ticket);
    if (wp && (*wp)->state == WIN_DONE)
        drop(mon, wp);
    else if (wp && (*wp)->state == WIN_ENDED)
        (*wp)->state = WIN_FORGOTTEN;
    pthread_mutex_unlock(&mon->lock);
}

static const char *source_of(const struct jb_meter_info *info, const struct jb_phase_result *r)
{
    if (info->simulated)
        return "simulated";
    if (r->valid & JB_PHASE_ENERGY)
        return "counter";
    if (r->valid & JB_PHASE_ENERGY_POWER)
        return "power-integral";
    return "none";
}

/* The caller's copy of a resolved window; NULL when out of memory. */
static struct jb_window *make_window(const struct jb_monitor *mon, const struct win *w)
{
    struct jb_window *out = calloc(1, sizeof(*out) + mon->n * sizeof(out->m[0]));

    if (!out)
        return NULL;
    memcpy(out->name, w->name, sizeof(out->name));
    out->ticket = w->ticket;
    out->n = mon->n;
    out->t_begin_ns = w->res[0].t_begin_ns;
    out->t_end_ns = w->res[0].t_end_ns;
    for (size_t i = 0; i < mon->n; i++) {
        const struct jb_meter_info *info = jb_meter_get_info(jb_meter_set_get(mon->set, i));
        out->m[i].r = w->res[i];
        out->m[i].source = source_of(info, &w->res[i]);
        out->m[i].simulated = info->simulated;
        if (info->simulated)
            out->simulated = 1;
    }
    return out;
}

static void deadline_after(struct timespec *ts, int timeout_ms)
{
    uint64_t total;

    clock_gettime(CLOCK_MONOTONIC, ts);
    total = (uint64_t)ts->tv_nsec + (uint64_t)timeout_ms * 1000000ull;
    ts->tv_sec += (time_t)(total / 1000000000ull);
    ts->tv_nsec = (long)(total % 1000000000ull);
}

int jb_monitor_wait(struct jb_monitor *mon, uint64_t ticket, int timeout_ms, struct jb_window **out)
{
    struct timespec deadline;
    struct win **wp;
    int rc = 0;

    clear_error();
    if (!out)
        return fail(JB_EINVAL, "no place for the window (out is NULL)");
    *out = NULL;
    if ((rc = check_monitor(mon)) < 0)
        return rc;
    if (timeout_ms > 0)
        deadline_after(&deadline, timeout_ms);
    pthread_mutex_lock(&mon->lock);
    for (;;) {
        /* Looked up again after every wake: another thread may have taken or forgotten it. */
        wp = find_id(&mon->ids, ticket);
        if (!wp || (*wp)->state == WIN_FORGOTTEN || (*wp)->state == WIN_OPEN) {
            rc = fail(JB_ESTATE,
                      wp && (*wp)->state == WIN_OPEN
                          ? "window %llu has not ended"
                          : "no result for ticket %llu (not issued, already taken or forgotten)",
                      (unsigned long long)ticket);
            break;
        }
        if ((*wp)->state == WIN_DONE) {
            if (!(*out = make_window(mon, *wp))) {
                rc = fail(JB_ENOMEM, "out of memory");
                break;
            }
            drop(mon, wp);
            rc = 1;
            break;
        }
        if (timeout_ms == 0)
            break;
        if (timeout_ms < 0) {
            pthread_cond_wait(&mon->resolved, &mon->lock);
        } else if (pthread_cond_timedwait(&mon->resolved, &mon->lock, &deadline) == ETIMEDOUT) {
            timeout_ms = 0; /* one last look */
        }
    }
    pthread_mutex_unlock(&mon->lock);
    return rc;
}

/* ---- a window's result ------------------------------------------------------------------- */

void jb_window_free(struct jb_window *w)
{
    free(w);
}

const char *jb_window_name(const struct jb_window *w)
{
    return w ? w->name : "";
}

uint64_t jb_window_ticket(const struct jb_window *w)
{
    return w ? w->ticket : 0;
}

uint64_t jb_window_t_begin_ns(const struct jb_window *w)
{
    return w ? w->t_begin_ns : 0;
}

uint64_t jb_window_t_end_ns(const struct jb_window *w)
{
    return w ? w->t_end_ns : 0;
}

size_t jb_window_meter_count(const struct jb_window *w)
{
    return w ? w->n : 0;
}

const struct jb_phase_result *jb_window_result(const struct jb_window *w, size_t i)
{
    return w && i < w->n ? &w->m[i].r : NULL;
}

double jb_window_energy_j(const struct jb_window *w, size_t i)
{
    const struct jb_phase_result *r = jb_window_result(w, i);

    if (!r)
        return NAN;
    if (r->valid & JB_PHASE_ENERGY)
        return r->energy_j;
    if (r->valid & JB_PHASE_ENERGY_POWER)
        return r->energy_j_power;
    return NAN;
}

const char *jb_window_energy_source(const struct jb_window *w, size_t i)
{
    return w && i < w->n ? w->m[i].source : "none";
}

int jb_window_simulated(const struct jb_window *w)
{
    return w ? w->simulated : 0;
}
