/*
 * measure.c - one measured execution of a command (see measure.h): measure_run, which reads as
 * the order of a measurement (open the meters, the signals, the run directory, start the
 * sampler, the idle baseline, the command under supervision, the sampler's tail, the totals,
 * the run directory's documents), and the state's setup and teardown.  The parts are in
 * measure_sinks.c (readings and results), measure_supervise.c (signals and the command) and
 * measure_manifest.c (the documents); measure_int.h is what they share.
 *
 * Run directory safety: samples.csv and the logs stream into *.partial files that are flushed
 * every second; at the end every file is renamed into place and manifest.json is written last,
 * through a temporary name.  A crash, kill or full disk leaves no manifest (or the old files of
 * an earlier attempt but no complete manifest), so the run counts as not done.
 */
#include "run/measure_int.h"

#include "rundir/rundir.h"

#include "util/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * After the command ends the sampler runs on for MEASURE_TAIL_S (longer for a slow counter:
 * 2.5 update periods, at most MEASURE_TAIL_MAX_S) when a meter's counter is a step function, so
 * that the last phases get the counter updates after their end that the estimator needs (two
 * updates past a bound; docs/METHODOLOGY.md).  Without it they would be resolved at
 * jb_phases_finish with only the updates before their end: a wider interval, and the tail of the
 * command smeared.  Exact counters need no tail.
 */
#define MEASURE_TAIL_S 0.25
#define MEASURE_TAIL_PERIODS 2.5
#define MEASURE_TAIL_MAX_S 2.0

const char *measure_status_name(enum measure_status s)
{
    switch (s) {
    case MEASURE_COMPLETE: return "complete";
    case MEASURE_FAILED: return "failed";
    case MEASURE_INTERRUPTED: return "interrupted";
    }
    return "failed";
}

/* Test hook (never needed otherwise): with JB_TEST_MEASURE_PAUSE_FILE=F, once the command has
 * ended and its phases are resolved, measure creates F and waits until a signal comes (at most
 * 60 s), so that a test can signal that moment without a race.  The signal stays in the
 * self-pipe for the code after it. */
static void test_pause(void)
{
    const char *f = getenv("JB_TEST_MEASURE_PAUSE_FILE");
    FILE *fp;

    if (!f || !*f || !(fp = fopen(f, "w")))
        return;
    fclose(fp);
    for (int i = 0; i < 600; i++) {
        struct timespec ts = {0, 100000000};
        if (nanosleep(&ts, NULL) < 0 && errno == EINTR)
            break;
    }
}

/* Keeps the sampler running after the command for the counter updates the last phases need
 * (MEASURE_TAIL_S); nothing when no meter's counter is a step function.  Signals arriving
 * meanwhile wait in the self-pipe: the command has ended, the run is being written. */
static void sampler_tail(struct meas *m)
{
    double tail_s = 0;

    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n; i++) {
        const struct jb_phases_meter_stats *st = jb_phases_meter_stats(m->phases, i);
        double want;
        if (!st || !st->stepped || m->meter_errors[i])
            continue;
        want = MEASURE_TAIL_PERIODS * st->update_period_s;
        want = want > MEASURE_TAIL_S ? want : MEASURE_TAIL_S;
        tail_s = want > tail_s ? want : tail_s;
    }
    pthread_mutex_unlock(&m->lock);
    if (tail_s <= 0)
        return;
    if (tail_s > MEASURE_TAIL_MAX_S)
        tail_s = MEASURE_TAIL_MAX_S;
    {
        uint64_t end = jb_now_ns() + (uint64_t)(tail_s * 1e9);
        for (uint64_t now = jb_now_ns(); now < end; now = jb_now_ns()) {
            struct timespec ts = {0, (long)(end - now)};
            if (end - now >= 1000000000ull)
                ts = (struct timespec){1, 0};
            nanosleep(&ts, NULL); /* EINTR (a signal): go on sleeping */
        }
    }
    jb_sampler_read_energy_now(m->sampler);
}

/* The meter set and the per-meter state; the accountant hands its results over as they resolve
 * (measure__on_phase_result), so memory stays bounded for any number of phases: streamed to
 * phases.csv, kept up to keep_phases, summed beyond. */
static int open_meters(struct meas *m, struct measure_result *r, char *err, size_t errlen)
{
    const struct measure_opts *o = m->o;

    m->set = jb_meter_set_new();
    if (!m->set || jb_meter_set_add(m->set, o->meters ? o->meters : "auto") < 0) {
        snprintf(err, errlen, "%s", m->set ? jb_meter_set_errmsg(m->set) : "out of memory");
        return -1;
    }
    for (size_t i = 0; !o->quiet_meter_notes && i < jb_meter_set_note_count(m->set); i++)
        measure__warnf(m, "%s", jb_meter_set_note(m->set, i));
    m->n = jb_meter_set_count(m->set);
    if (!m->n) {
        snprintf(err, errlen,
                 "no meter to measure with (no NVIDIA GPU and no readable RAPL "
                 "domain; use -m sim for a simulated meter)");
        return -1;
    }
    m->phases = jb_phases_new(m->n);
    m->last_power_w = malloc(m->n * sizeof(double));
    m->peak_power_w = malloc(m->n * sizeof(double));
    m->meter_errors = calloc(m->n, sizeof(char *));
    r->meters = calloc(m->n, sizeof(*r->meters));
    if (!m->phases || !m->last_power_w || !m->peak_power_w || !m->meter_errors || !r->meters) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->n_meters = m->n;
    for (size_t i = 0; i < m->n; i++)
        m->last_power_w[i] = m->peak_power_w[i] = NAN;
    m->r = r;
    m->keep_phases = o->keep_phases ? o->keep_phases : MEASURE_KEEP_PHASES;
    jb_phases_set_on_result(m->phases, measure__on_phase_result, m);
    return 0;
}

/* The run directory and its streamed files.  An old manifest goes first, so that this
 * attempt's files never sit beside a manifest claiming an earlier attempt complete. */
static int open_rundir(struct meas *m, char *err, size_t errlen)
{
    const struct measure_opts *o = m->o;
    char path[PATH_MAX];

    if (fs_mkdir_p(o->rundir, err, errlen) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/manifest.json", o->rundir);
    if (unlink(path) < 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot remove '%s': %s", path, strerror(errno));
        return -1;
    }
    fs_sync_dir(o->rundir);
    if (!(m->samples =
              rundir_open_partial(o->rundir, "samples.csv", rundir_samples_header, err, errlen)))
        return -1;
    setvbuf(m->samples, NULL, _IOFBF, 1 << 16);
    if (!(m->phases_out =
              rundir_open_partial(o->rundir, "phases.csv", rundir_phases_header, err, errlen)))
        return -1;
    if (o->capture &&
        (!(m->out.capture = rundir_open_partial(o->rundir, "stdout.log", NULL, err, errlen)) ||
         !(m->errs.capture = rundir_open_partial(o->rundir, "stderr.log", NULL, err, errlen))))
        return -1;
    return 0;
}

/* The sampler; t_s = 0 is now. */
static int start_sampler(struct meas *m, char *err, size_t errlen)
{
    struct jb_sampler_opts so;
    int rc;

    m->t0_ns = jb_now_ns();
    clock_gettime(CLOCK_REALTIME, &m->t0_utc);
    jb_sampler_opts_init(&so);
    so.interval_ms = m->o->interval_ms;
    so.energy_interval_ms = m->o->energy_interval_ms;
    so.on_sample = measure__sink_sample;
    so.on_energy = measure__sink_energy;
    so.on_error = measure__sink_error;
    so.user = m;
    rc = jb_sampler_start(&m->sampler, m->set, &so);
    if (rc < 0) {
        snprintf(err, errlen, "cannot start the sampler: %s (interval 10..60000 ms)",
                 jb_strerror(rc));
        return -1;
    }
    return 0;
}

/* The idle baseline: nothing of ours runs on the devices meanwhile.  1 when SIGINT/SIGTERM cut
 * it short (*idle_s is then what it lasted, and the run is interrupted). */
static int idle_baseline(struct meas *m, struct measure_result *r, double *idle_s)
{
    uint64_t t_begin = jb_now_ns();
    int interrupted;

    pthread_mutex_lock(&m->lock);
    jb_phases_begin(m->phases, "idle", 0, t_begin);
    pthread_mutex_unlock(&m->lock);
    interrupted = measure__idle_wait(*idle_s, &r->got_signal);
    pthread_mutex_lock(&m->lock);
    jb_phases_end(m->phases, "idle", 0, jb_now_ns(), NULL);
    pthread_mutex_unlock(&m->lock);
    jb_sampler_read_energy_now(m->sampler);
    if (interrupted) {
        *idle_s = (double)(jb_now_ns() - t_begin) / 1e9;
        r->status = MEASURE_INTERRUPTED;
    }
    return interrupted;
}

/* After the command (or without it): its phase ended, the tail, the sampler stopped and the
 * last results resolved.  -1 when results were lost for memory. */
static int finish(struct meas *m, struct measure_result *r, struct timespec *end_utc, char *err,
                  size_t errlen)
{
    if (m->cmd_begin_ns) {
        pthread_mutex_lock(&m->lock);
        jb_phases_end(m->phases, "command", 0, m->cmd_end_ns, NULL);
        pthread_mutex_unlock(&m->lock);
        r->duration_s = (double)(m->cmd_end_ns - m->cmd_begin_ns) / 1e9;
    }
    sampler_tail(m);
    jb_sampler_stop(m->sampler); /* last readings, then the threads are gone */
    m->sampler = NULL;
    jb_phases_finish(m->phases,
                     jb_now_ns()); /* the last results, through measure__on_phase_result */
    clock_gettime(CLOCK_REALTIME, end_utc);
    r->n_protocol_errors = m->n_protocol_errors;
    if (m->phases_oom) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void meas_free(struct meas *m)
{
    if (m->sampler)
        jb_sampler_stop(m->sampler);
    m->sampler = NULL;
    if (m->samples)
        fclose(m->samples);
    if (m->phases_out)
        fclose(m->phases_out);
    for (int k = 0; k < 2; k++) {
        struct stream *s = k ? &m->errs : &m->out;
        if (s->fd >= 0)
            close(s->fd);
        if (s->capture)
            fclose(s->capture);
    }
    jb_phases_free(m->phases);
    for (size_t i = 0; m->meter_errors && i < m->n; i++)
        free(m->meter_errors[i]);
    free(m->meter_errors);
    free(m->last_power_w);
    free(m->peak_power_w);
    free(m->metrics);
    free(m->infos);
    sb_free(&m->row);
    jb_meter_set_free(m->set);
    pthread_mutex_destroy(&m->lock);
}

void measure_result_free(struct measure_result *r)
{
    if (!r)
        return;
    free(r->meters);
    free(r->phases);
    free(r->phase_aggs);
    r->meters = NULL;
    r->phases = NULL;
    r->phase_aggs = NULL;
}

int measure_run(const struct measure_opts *o, struct measure_result *r,
                void (*warn)(void *user, const char *msg), char *err, size_t errlen)
{
    struct meas m;
    struct saved_signals saved;
    int signals_installed = 0, rc = -1;
    double idle_s = o->idle_s > 0 ? o->idle_s : 0;
    struct timespec end_utc;

    memset(r, 0, sizeof(*r));
    r->exit_status = -1;
    r->cpu_user_s = r->cpu_sys_s = NAN;
    memset(&m, 0, sizeof(m));
    m.o = o;
    m.warn = warn;
    m.out = (struct stream){-1, -1, NULL, 0};
    m.errs = (struct stream){-1, -1, NULL, 1};
    pthread_mutex_init(&m.lock, NULL);
    if (!o->argv || !o->argv[0]) {
        snprintf(err, errlen, "no command to run");
        goto out;
    }
    if (open_meters(&m, r, err, errlen) < 0)
        goto out;
    /* Signals before the run directory: once it exists, a SIGINT/SIGTERM must end in a
     * manifest that says "interrupted", not in a killed process. */
    if (measure__install_signals(&saved) < 0) {
        snprintf(err, errlen, "cannot create pipe: %s", strerror(errno));
        goto out;
    }
    signals_installed = 1;
    if (o->rundir && open_rundir(&m, err, errlen) < 0)
        goto out;
    if (start_sampler(&m, err, errlen) < 0)
        goto out;
    if (!(idle_s > 0 && idle_baseline(&m, r, &idle_s)) &&
        measure__run_command(&m, r, err, errlen) < 0)
        goto out;
    if (finish(&m, r, &end_utc, err, errlen) < 0)
        goto out;
    test_pause();
    measure__compute_totals(&m, r, idle_s);
    if (o->rundir && measure__write_rundir(&m, r, &end_utc, idle_s, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    if (signals_installed) {
        /* A signal after the command ended (the tail, the writing) is not lost: the caller
         * stops as it would have during the command (issue 13). */
        int late = measure__pending_signal();
        if (late && !r->got_signal)
            r->late_signal = late;
        measure__restore_signals(&saved);
    }
    meas_free(&m);
    if (rc < 0 && o->rundir)
        rundir_remove_partials(o->rundir);
    return rc;
}
