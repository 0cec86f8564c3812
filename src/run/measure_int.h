/*
 * measure_int.h - private to measure*.c: the state of one measurement (struct meas) and what the
 * files share.  measure.c orchestrates (measure_run); measure_sinks.c takes the sampler's
 * readings and the accountant's results; measure_supervise.c owns the signals and the command
 * (spawn, protocol, output, timeout); measure_manifest.c writes the run directory's documents.
 * Nothing outside src/run/measure*.c includes it; the API is measure.h.
 *
 * Locking: the sampler's threads deliver readings through the measure__sink_* callbacks, which
 * take `lock`; the main thread takes `lock` around the phase accountant and never holds it while
 * asking the sampler for a reading (the sampler calls back into the sink, which takes `lock`).
 */
#ifndef JB_SRC_RUN_MEASURE_INT_H
#define JB_SRC_RUN_MEASURE_INT_H

#include "run/measure.h"

#include "util/strbuf.h"

#include "joulebench.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <time.h>

#define STDERR_TAIL_BYTES 2048 /* the end of a failed command's stderr kept for the manifest */
#define MAX_LINE 65536         /* longest protocol line */

/* A child output stream: relayed and/or captured. */
struct stream {
    int fd;        /* read end; -1 when closed */
    int echo_fd;   /* where to relay; -1 for none */
    FILE *capture; /* NULL for none */
    int is_stderr;
};

struct metric {
    char phase[32];
    long index;
    char name[64];
    double value;
};

struct info_kv {
    char name[64];
    int is_number;
    double number;
    char text[128];
};

struct meas {
    const struct measure_opts *o;
    struct jb_meter_set *set;
    size_t n;
    struct jb_sampler *sampler;
    pthread_mutex_t lock;
    struct jb_phases *phases;
    struct measure_result *r; /* phase results land here as they resolve (on_phase_result) */
    size_t keep_phases, cap_phases, cap_aggs;
    int phases_oom;
    size_t flag_counts[8]; /* phase results per JB_PHASE_FLAG_* bit (index: bit position) */
    FILE *phases_out;      /* phases.csv.partial, streamed as phases resolve; NULL without rundir */
    int phases_error;
    char phases_errmsg[256];
    FILE *samples; /* samples.csv.partial; NULL without a run directory or after a write error */
    int samples_error;
    struct strbuf row; /* samples_put's buffer */
    char samples_errmsg[256];
    uint64_t t0_ns; /* anchor of t_s */
    struct timespec t0_utc;
    uint64_t cmd_begin_ns, cmd_end_ns; /* 0 until set */
    double *last_power_w;              /* per meter, NaN none */
    double *peak_power_w;              /* per meter, during the command */
    char **meter_errors;               /* per meter: failure message, once */
    struct metric *metrics;
    size_t n_metrics, cap_metrics;
    struct info_kv *infos;
    size_t n_infos, cap_infos;
    struct stream out, errs; /* the command's stdout and stderr (capture: *.log.partial) */
    char stderr_tail[STDERR_TAIL_BYTES + 1];
    size_t stderr_tail_len;
    void (*warn)(void *user, const char *msg);
    size_t n_protocol_errors;
};

/* The command's process. */
struct child {
    pid_t pid;
    int new_pgrp;
    int exited;
    int wstatus;
    struct rusage ru; /* from wait4 */
};

struct saved_signals {
    struct sigaction int_, term, chld, pipe_;
};

/* Seconds since the measurement's t_s = 0. */
static inline double measure__t_rel(const struct meas *m, uint64_t t_ns)
{
    return ((double)t_ns - (double)m->t0_ns) / 1e9;
}

/* measure_sinks.c: messages, the sampler's callbacks, the accountant's result callback, the
 * per-meter totals. */
void measure__warnf(struct meas *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void measure__sink_sample(void *user, size_t i, const struct jb_sample *s);
void measure__sink_energy(void *user, size_t i, const struct jb_energy *e);
void measure__sink_error(void *user, size_t i, int code, const char *msg);
void measure__on_phase_result(void *user, const struct jb_phase_result *p);
/* Records a samples.csv write error (errno) once; caller holds `lock`. */
void measure__samples_write_error(struct meas *m);
/* "counter", "power-integral" or "simulated". */
const char *measure__energy_source(const struct jb_meter_info *info);
/* r->meters from the command and idle phases' results. */
void measure__compute_totals(struct meas *m, struct measure_result *r, double idle_s);

/* measure_supervise.c: SIGINT/SIGTERM/SIGCHLD into a self-pipe for the call. */
int measure__install_signals(struct saved_signals *old);
void measure__restore_signals(const struct saved_signals *old);
/* The SIGINT/SIGTERM waiting in the self-pipe (the last one; 0: none), the pipe drained. */
int measure__pending_signal(void);
/* Sleeps up to secs; 1 (and *got_signal) when SIGINT/SIGTERM arrived first. */
int measure__idle_wait(double secs, int *got_signal);
/* Starts the command, supervises it to its end and fills r's status, exit status and CPU
 * times.  0, also when the command could not be started (a failed run, r->spawn_errno set), or
 * -1 with err when the measurement cannot go on (no pipes). */
int measure__run_command(struct meas *m, struct measure_result *r, char *err, size_t errlen);

/* measure_manifest.c: the run directory's files after the command (streamed ones committed,
 * then metrics.csv and, last, manifest.json).  -1 with err. */
int measure__write_rundir(struct meas *m, const struct measure_result *r,
                          const struct timespec *end_utc, double idle_s, char *err, size_t errlen);

#endif
