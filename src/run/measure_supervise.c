/*
 * measure_supervise.c - the command of a measurement (see measure_int.h): the signal self-pipe,
 * starting the command (util/spawn.h) with the protocol pipe and, when captured, its output
 * pipes, then the main loop until it ends: relaying and capturing its output, parsing its phase
 * protocol into the accountant, forwarding SIGINT/SIGTERM (SIGKILL after the grace period),
 * enforcing the timeout, the live callback; and its exit status and CPU times.
 *
 * Signals are process-wide, so measure_run is not reentrant: one measurement per process at a
 * time (the runner runs concurrent measurements as separate processes).
 */
#include "run/measure_int.h"

#include "util/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- signals ------------------------------------------------------------------------------ */

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig, siginfo_t *si, void *ctx)
{
    /* Async-signal-safe: one byte for the signal, one for "sent by a process" (kill(2)) rather
     * than by the terminal, so that a terminal Ctrl-C, which already reached a child in our
     * process group, is not forwarded twice. */
    unsigned char msg[2] = {(unsigned char)sig, (unsigned char)(si && si->si_code == SI_USER)};
    int saved = errno;
    (void)ctx;
    if (sig_pipe[1] >= 0) {
        ssize_t n = write(sig_pipe[1], msg, sizeof(msg));
        (void)n;
    }
    errno = saved;
}

int measure__install_signals(struct saved_signals *old)
{
    struct sigaction sa;

    if (pipe(sig_pipe) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
        fcntl(sig_pipe[i], F_SETFL, O_NONBLOCK);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old->int_);
    sigaction(SIGTERM, &sa, &old->term);
    sigaction(SIGCHLD, &sa, &old->chld);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old->pipe_);
    return 0;
}

int measure__pending_signal(void)
{
    unsigned char msg[2];
    int sig = 0;

    if (sig_pipe[0] < 0)
        return 0;
    while (read(sig_pipe[0], msg, sizeof(msg)) == (ssize_t)sizeof(msg))
        if (msg[0] == SIGINT || msg[0] == SIGTERM)
            sig = msg[0];
    return sig;
}

void measure__restore_signals(const struct saved_signals *old)
{
    sigaction(SIGINT, &old->int_, NULL);
    sigaction(SIGTERM, &old->term, NULL);
    sigaction(SIGCHLD, &old->chld, NULL);
    sigaction(SIGPIPE, &old->pipe_, NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
}
/* ---- protocol events (main thread) --------------------------------------------------------- */

static void add_metric(struct meas *m, const struct jb_event *ev)
{
    for (size_t i = 0; i < ev->n_values; i++) {
        struct metric *mt;
        if (!ev->values[i].is_number)
            continue;
        if (m->n_metrics == m->cap_metrics) {
            size_t nc = m->cap_metrics ? m->cap_metrics * 2 : 64;
            struct metric *p = realloc(m->metrics, nc * sizeof(*p));
            if (!p)
                return;
            m->metrics = p;
            m->cap_metrics = nc;
        }
        mt = &m->metrics[m->n_metrics++];
        memcpy(mt->phase, ev->phase, sizeof(mt->phase));
        mt->index = ev->index;
        memcpy(mt->name, ev->values[i].name, sizeof(mt->name));
        mt->value = ev->values[i].number;
    }
}

static void add_info(struct meas *m, const struct jb_event *ev)
{
    for (size_t i = 0; i < ev->n_values; i++) {
        struct info_kv *kv = NULL;
        for (size_t k = 0; k < m->n_infos; k++)
            if (!strcmp(m->infos[k].name, ev->values[i].name))
                kv = &m->infos[k]; /* a later value replaces an earlier one */
        if (!kv) {
            if (m->n_infos == m->cap_infos) {
                size_t nc = m->cap_infos ? m->cap_infos * 2 : 16;
                struct info_kv *p = realloc(m->infos, nc * sizeof(*p));
                if (!p)
                    return;
                m->infos = p;
                m->cap_infos = nc;
            }
            kv = &m->infos[m->n_infos++];
        }
        memcpy(kv->name, ev->values[i].name, sizeof(kv->name));
        kv->is_number = ev->values[i].is_number;
        kv->number = ev->values[i].number;
        memcpy(kv->text, ev->values[i].text, sizeof(kv->text));
    }
}

static void handle_line(struct meas *m, const char *line, size_t len, unsigned long lineno)
{
    struct jb_event ev;
    char err[256];
    uint64_t now = jb_now_ns();
    int rc = 0, bound = 0;

    while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (!len)
        return;
    if (jb_event_parse(line, len, &ev, err, sizeof(err)) < 0) {
        m->n_protocol_errors++;
        measure__warnf(m, "protocol line %lu: %s (line skipped)", lineno, err);
        return;
    }
    if ((ev.valid & JB_EVENT_T) && ev.t_mono_ns > now + 1000000000ull) {
        m->n_protocol_errors++;
        measure__warnf(m,
                       "protocol line %lu: field 't' is %.3f s in the future: not CLOCK_MONOTONIC "
                       "nanoseconds? (line skipped)",
                       lineno, (double)(ev.t_mono_ns - now) / 1e9);
        return;
    }
    pthread_mutex_lock(&m->lock);
    switch (ev.type) {
    case JB_EVENT_BEGIN:
        rc = jb_phases_begin(m->phases, ev.phase, ev.index, ev.t_mono_ns);
        bound = 1;
        break;
    case JB_EVENT_END:
        rc = jb_phases_end(m->phases, ev.phase, ev.index, ev.t_mono_ns,
                           (ev.valid & JB_EVENT_ITEMS) ? &ev.items : NULL);
        bound = 1;
        break;
    case JB_EVENT_METRIC: add_metric(m, &ev); break;
    case JB_EVENT_INFO: add_info(m, &ev); break;
    }
    if (rc < 0) {
        m->n_protocol_errors++;
        measure__warnf(m, "protocol line %lu: %s (line skipped)", lineno,
                       jb_phases_errmsg(m->phases));
    }
    pthread_mutex_unlock(&m->lock);
    /* A counter reading right at the bound tightens the interpolation around it. */
    if (bound && rc == 0)
        jb_sampler_read_energy_now(m->sampler);
}

struct linebuf {
    char *buf;
    size_t len, cap;
    unsigned long lineno;
    int overlong;
};

static void protocol_feed(struct meas *m, struct linebuf *lb, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = data[i];
        if (c == '\n') {
            lb->lineno++;
            if (lb->overlong) {
                m->n_protocol_errors++;
                measure__warnf(m, "protocol line %lu: longer than %d bytes (line skipped)",
                               lb->lineno, MAX_LINE);
            } else {
                handle_line(m, lb->buf ? lb->buf : "", lb->len, lb->lineno);
            }
            lb->len = 0;
            lb->overlong = 0;
            continue;
        }
        if (lb->overlong)
            continue;
        if (lb->len + 1 >= MAX_LINE) {
            lb->overlong = 1;
            continue;
        }
        if (lb->len + 1 >= lb->cap) {
            size_t nc = lb->cap ? lb->cap * 2 : 1024;
            char *p = realloc(lb->buf, nc);
            if (!p) {
                lb->overlong = 1;
                continue;
            }
            lb->buf = p;
            lb->cap = nc;
        }
        lb->buf[lb->len++] = c;
    }
}
/* ---- child output ------------------------------------------------------------------------ */

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* our own stdout gone: keep measuring */
        }
        p += w;
        n -= (size_t)w;
    }
}

static void stream_data(struct meas *m, struct stream *s, const char *buf, size_t n)
{
    if (s->echo_fd >= 0)
        write_all(s->echo_fd, buf, n);
    if (s->capture)
        fwrite(buf, 1, n, s->capture);
    if (s->is_stderr) {
        /* Keep the last STDERR_TAIL_BYTES for the manifest of a failed run. */
        if (n >= STDERR_TAIL_BYTES) {
            memcpy(m->stderr_tail, buf + n - STDERR_TAIL_BYTES, STDERR_TAIL_BYTES);
            m->stderr_tail_len = STDERR_TAIL_BYTES;
        } else {
            size_t keep = m->stderr_tail_len + n > STDERR_TAIL_BYTES ? STDERR_TAIL_BYTES - n
                                                                     : m->stderr_tail_len;
            memmove(m->stderr_tail, m->stderr_tail + m->stderr_tail_len - keep, keep);
            memcpy(m->stderr_tail + keep, buf, n);
            m->stderr_tail_len = keep + n;
        }
        m->stderr_tail[m->stderr_tail_len] = '\0';
    }
}
/* ---- spawning ----------------------------------------------------------------------------- */

/*
 * Starts the command through the shared spawner (util/spawn.h): the environment (environ,
 * env_extra, JOULEBENCH_FD=proto_w) built before fork, the protocol pipe's write end kept across
 * the exec, stdout/stderr onto the capture pipes, stdin /dev/null in a new process group, and
 * SIGKILL when we die: killed by SIGKILL, we could not stop it, and it would go on loading the
 * device (and writing) unobserved while a resumed runner measures again.  -1 with the message in
 * err and errno the child's (exec's or chdir's) errno.
 */
static pid_t spawn(const struct measure_opts *o, int proto_w, int out_w, int err_w, int new_pgrp,
                   char *err, size_t errlen)
{
    char fdvar[32], **add, **env;
    size_t n_extra = 0, nd = 0;
    struct spawn_dup dups[3];
    struct spawn_opts so;
    struct spawn_error se;
    pid_t pid;

    while (o->env_extra && o->env_extra[n_extra])
        n_extra++;
    add = calloc(n_extra + 2, sizeof(char *));
    if (!add) {
        snprintf(err, errlen, "out of memory");
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < n_extra; i++)
        add[i] = o->env_extra[i];
    snprintf(fdvar, sizeof(fdvar), "JOULEBENCH_FD=%d", proto_w);
    add[n_extra] = fdvar; /* replaces an inherited JOULEBENCH_FD */
    env = spawn_env(NULL, add);
    if (!env) {
        free(add);
        snprintf(err, errlen, "out of memory");
        errno = ENOMEM;
        return -1;
    }
    if (out_w >= 0)
        dups[nd++] = (struct spawn_dup){out_w, STDOUT_FILENO};
    if (err_w >= 0)
        dups[nd++] = (struct spawn_dup){err_w, STDERR_FILENO};
    if (new_pgrp)
        dups[nd++] = (struct spawn_dup){SPAWN_DEVNULL, STDIN_FILENO};
    memset(&so, 0, sizeof(so));
    so.argv = o->argv;
    so.envp = env;
    so.workdir = o->workdir;
    so.dups = dups;
    so.n_dups = nd;
    so.keep_fds = &proto_w;
    so.n_keep_fds = 1;
    so.new_pgrp = new_pgrp;
    so.death_signal = SIGKILL;
    pid = spawn_start(&so, &se);
    free(env);
    free(add);
    if (pid < 0) {
        spawn_error_text(&so, &se, err, errlen);
        errno = se.err;
    }
    return pid;
}
/* ---- supervision ------------------------------------------------------------------------- */

/* Sleeps up to secs, returning early (1) when SIGINT/SIGTERM arrives. */
int measure__idle_wait(double secs, int *got_signal)
{
    uint64_t end = jb_now_ns() + (uint64_t)(secs * 1e9);

    for (;;) {
        uint64_t now = jb_now_ns();
        struct pollfd pfd = {sig_pipe[0], POLLIN, 0};
        int ms;
        if (now >= end)
            return 0;
        ms = (int)((end - now) / 1000000ull) + 1;
        if (poll(&pfd, 1, ms) > 0) {
            unsigned char msg[2];
            while (read(sig_pipe[0], msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
                if (msg[0] == SIGINT || msg[0] == SIGTERM) {
                    *got_signal = msg[0];
                    return 1;
                }
            }
        }
    }
}

static void kill_child(const struct child *c, int sig)
{
    if (c->exited)
        return;
    if (c->new_pgrp)
        kill(-c->pid, sig);
    else
        kill(c->pid, sig);
}

static void reap(struct child *c, struct meas *m)
{
    int st;

    if (c->exited)
        return;
    if (wait4(c->pid, &st, WNOHANG, &c->ru) == c->pid) {
        c->exited = 1;
        c->wstatus = st;
        m->cmd_end_ns = jb_now_ns();
        jb_sampler_read_energy_now(m->sampler); /* a reading right at the end */
    }
}

/* The main loop: relay output, parse the protocol, forward signals, enforce the timeout. */
static void supervise(struct meas *m, struct child *c, int proto_fd, struct stream *out,
                      struct stream *errs, struct measure_result *r)
{
    const struct measure_opts *o = m->o;
    struct linebuf lb = {NULL, 0, 0, 0, 0};
    double grace_s = o->grace_s > 0 ? o->grace_s : 10;
    uint64_t deadline = o->timeout_s > 0 ? m->cmd_begin_ns + (uint64_t)(o->timeout_s * 1e9) : 0;
    uint64_t kill_at = 0, drain_until = 0, next_live = jb_now_ns() + 1000000000ull;
    char buf[65536];

    for (;;) {
        struct pollfd pfd[4];
        int nfds = 0, idx_proto = -1, idx_out = -1, idx_err = -1, timeout_ms = 200;
        uint64_t now;

        pfd[nfds++] = (struct pollfd){sig_pipe[0], POLLIN, 0};
        if (proto_fd >= 0) {
            idx_proto = nfds;
            pfd[nfds++] = (struct pollfd){proto_fd, POLLIN, 0};
        }
        if (out->fd >= 0) {
            idx_out = nfds;
            pfd[nfds++] = (struct pollfd){out->fd, POLLIN, 0};
        }
        if (errs->fd >= 0) {
            idx_err = nfds;
            pfd[nfds++] = (struct pollfd){errs->fd, POLLIN, 0};
        }
        if (poll(pfd, (nfds_t)nfds, timeout_ms) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents & POLLIN) {
            unsigned char msg[2];
            while (read(sig_pipe[0], msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
                if (msg[0] != SIGINT && msg[0] != SIGTERM)
                    continue; /* SIGCHLD: reaped below */
                if (!r->got_signal)
                    r->got_signal = msg[0];
                /* A terminal's Ctrl-C already reached a child in our process group. */
                if (c->new_pgrp || msg[1])
                    kill_child(c, msg[0]);
                if (!kill_at)
                    kill_at = jb_now_ns() + (uint64_t)(grace_s * 1e9);
            }
        }
        if (idx_proto >= 0 && (pfd[idx_proto].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(proto_fd, buf, sizeof(buf));
            if (n > 0) {
                protocol_feed(m, &lb, buf, (size_t)n);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                if (lb.len) /* last line without newline */
                    protocol_feed(m, &lb, "\n", 1);
                close(proto_fd);
                proto_fd = -1;
            }
        }
        for (int k = 0; k < 2; k++) {
            int ix = k ? idx_err : idx_out;
            struct stream *s = k ? errs : out;
            if (ix < 0 || !(pfd[ix].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(s->fd, buf, sizeof(buf));
            if (n > 0) {
                stream_data(m, s, buf, (size_t)n);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(s->fd);
                s->fd = -1;
            }
        }
        reap(c, m);
        now = jb_now_ns();
        if (!c->exited && deadline && now >= deadline && !r->timed_out) {
            r->timed_out = 1;
            kill_child(c, SIGTERM);
            kill_at = now + (uint64_t)(grace_s * 1e9);
            measure__warnf(m, "timed out after %g s: sent SIGTERM to the command", o->timeout_s);
        }
        if (!c->exited && kill_at && now >= kill_at) {
            kill_child(c, SIGKILL);
            kill_at = UINT64_MAX; /* once */
        }
        if (now >= next_live) {
            next_live = now + 1000000000ull;
            pthread_mutex_lock(&m->lock);
            if (m->samples && !m->samples_error && fflush(m->samples) != 0)
                measure__samples_write_error(m);
            if (o->on_live) {
                struct measure_live live = {measure__t_rel(m, now) -
                                                measure__t_rel(m, m->cmd_begin_ns),
                                            m->n, m->last_power_w};
                o->on_live(o->user, &live);
            }
            pthread_mutex_unlock(&m->lock);
            if (out->capture)
                fflush(out->capture);
            if (errs->capture)
                fflush(errs->capture);
        }
        if (c->exited) {
            /* Drain what the child wrote before it exited; a grandchild holding the pipes open
             * does not hold us for more than 2 s. */
            if (!drain_until)
                drain_until = now + 2000000000ull;
            if ((proto_fd < 0 && out->fd < 0 && errs->fd < 0) || now >= drain_until)
                break;
        }
    }
    if (proto_fd >= 0)
        close(proto_fd);
    if (out->fd >= 0)
        close(out->fd);
    if (errs->fd >= 0)
        close(errs->fd);
    out->fd = errs->fd = -1;
    free(lb.buf);
}

/* The command's end: its status, CPU times and the run's status. */
static void command_result(const struct child *c, struct measure_result *r)
{
    r->cpu_user_s = (double)c->ru.ru_utime.tv_sec + (double)c->ru.ru_utime.tv_usec / 1e6;
    r->cpu_sys_s = (double)c->ru.ru_stime.tv_sec + (double)c->ru.ru_stime.tv_usec / 1e6;
    if (WIFEXITED(c->wstatus)) {
        r->exit_status = WEXITSTATUS(c->wstatus);
    } else if (WIFSIGNALED(c->wstatus)) {
        r->term_signal = WTERMSIG(c->wstatus);
        r->exit_status = 128 + r->term_signal;
    }
    if (r->got_signal)
        r->status = MEASURE_INTERRUPTED;
    else if (r->exit_status != 0 || r->timed_out)
        r->status = MEASURE_FAILED;
    else
        r->status = MEASURE_COMPLETE;
}

static void close_pair(int p[2])
{
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0)
            close(p[i]);
    p[0] = p[1] = -1;
}

int measure__run_command(struct meas *m, struct measure_result *r, char *err, size_t errlen)
{
    const struct measure_opts *o = m->o;
    int proto[2] = {-1, -1}, opipe[2] = {-1, -1}, epipe[2] = {-1, -1};
    struct child c;

    /* Ours are close-on-exec; the protocol pipe's write end is kept across the command's exec,
     * the output pipes' are dup2'ed onto 1 and 2. */
    memset(&c, 0, sizeof(c));
    c.new_pgrp = o->capture;
    if (pipe(proto) < 0 || (o->capture && (pipe(opipe) < 0 || pipe(epipe) < 0))) {
        snprintf(err, errlen, "cannot create pipe: %s", strerror(errno));
        close_pair(proto);
        close_pair(opipe);
        close_pair(epipe);
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(proto[i], F_SETFD, FD_CLOEXEC);
        if (o->capture) {
            fcntl(opipe[i], F_SETFD, FD_CLOEXEC);
            fcntl(epipe[i], F_SETFD, FD_CLOEXEC);
        }
    }
    m->cmd_begin_ns = jb_now_ns();
    pthread_mutex_lock(&m->lock);
    jb_phases_begin(m->phases, "command", 0, m->cmd_begin_ns);
    pthread_mutex_unlock(&m->lock);
    jb_sampler_read_energy_now(m->sampler);
    c.pid = spawn(o, proto[1], opipe[1], epipe[1], c.new_pgrp, err, errlen);
    r->spawn_errno = c.pid < 0 ? (errno ? errno : ENOENT) : 0;
    close(proto[1]);
    proto[1] = -1;
    if (opipe[1] >= 0) {
        close(opipe[1]);
        close(epipe[1]);
        opipe[1] = epipe[1] = -1;
    }
    if (c.pid < 0) {
        /* The command never ran: a failed run, recorded as such. */
        m->cmd_end_ns = jb_now_ns();
        r->status = MEASURE_FAILED;
        snprintf(m->stderr_tail, sizeof(m->stderr_tail), "%s", err);
        m->stderr_tail_len = strlen(m->stderr_tail);
        if (!o->quiet_spawn_error)
            measure__warnf(m, "%s", err);
        err[0] = '\0';
        close_pair(proto);
        close_pair(opipe);
        close_pair(epipe);
        return 0;
    }
    m->out.fd = opipe[0];
    m->errs.fd = epipe[0];
    m->out.echo_fd = o->echo ? STDOUT_FILENO : -1;
    m->errs.echo_fd = o->echo ? STDERR_FILENO : -1;
    supervise(m, &c, proto[0], &m->out, &m->errs, r);
    if (!c.exited) {
        /* Output closed but the child lives on (it closed its stdout?): wait for it. */
        while (wait4(c.pid, &c.wstatus, 0, &c.ru) < 0 && errno == EINTR)
            ;
        c.exited = 1;
        m->cmd_end_ns = jb_now_ns();
    }
    command_result(&c, r);
    return 0;
}
