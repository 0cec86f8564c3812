/*
 * meter.c - the meter set: parses a meter specification, asks each backend to add its meters, and
 * wraps the backends' reads so that failures leave a message on the meter.
 *
 * Backends are registered in the static table below (not through constructors).  This file knows
 * nothing of NVML, RAPL or simulation beyond each backend's entry point.
 */
#include "list.h"
#include "meter.h"

#include "grow.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jb_meter_set {
    struct jb_meter **meters;
    size_t n, cap;
    char **notes;
    size_t n_notes, notes_cap;
    char errmsg[1024];
};

struct jb_meter_set *jb_meter_set_new(void)
{
    return calloc(1, sizeof(struct jb_meter_set));
}

struct jb_meter *jb__meter_new(const struct jb_meter_ops *ops)
{
    struct jb_meter *m = calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    m->ops = ops;
    m->read_mask = ~0u;
    pthread_mutex_init(&m->err_lock, NULL);
    return m;
}

void jb__meter_free(struct jb_meter *m)
{
    if (!m)
        return;
    if (m->ops && m->ops->close)
        m->ops->close(m);
    pthread_mutex_destroy(&m->err_lock);
    free(m);
}

void jb_meter_set_free(struct jb_meter_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        jb__meter_free(set->meters[i]);
    for (size_t i = 0; i < set->n_notes; i++)
        free(set->notes[i]);
    free(set->notes);
    free(set->meters);
    free(set);
}

size_t jb__meter_set_count_kind(const struct jb_meter_set *set, enum jb_meter_kind kind)
{
    size_t n = 0;

    for (size_t i = 0; i < set->n; i++)
        n += set->meters[i]->info.kind == kind;
    return n;
}

int jb__meter_set_append(struct jb_meter_set *set, struct jb_meter *m)
{
    if (!m->info.id[0])
        snprintf(m->info.id, sizeof(m->info.id), "%s%zu", jb_meter_kind_name(m->info.kind),
                 jb__meter_set_count_kind(set, m->info.kind));
    for (size_t i = 0; i < set->n; i++) {
        if (!strcmp(set->meters[i]->info.id, m->info.id)) {
            /* The same device named twice ("gpu,gpu0"): keep the first. */
            jb__meter_free(m);
            return 0;
        }
    }
    if (JB_GROW(set->meters, set->cap, set->n) < 0) {
        jb__meter_free(m);
        return jb__meter_set_fail(set, JB_ENOMEM, "out of memory adding meter");
    }
    set->meters[set->n++] = m;
    return 0;
}

int jb__meter_set_fail(struct jb_meter_set *set, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(set->errmsg, sizeof(set->errmsg), fmt, ap);
    va_end(ap);
    return code;
}

void jb__meter_set_notef(struct jb_meter_set *set, const char *fmt, ...)
{
    va_list ap;
    char buf[1024];

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (JB_GROW(set->notes, set->notes_cap, set->n_notes) < 0)
        return;
    set->notes[set->n_notes] = strdup(buf);
    if (set->notes[set->n_notes])
        set->n_notes++;
}

/* Parses "gpuN" / "cpu-packageN" / "dramN" style tokens: returns N or -1. */
static long token_index(const char *tok, const char *prefix)
{
    size_t n = strlen(prefix);
    char *end = NULL;
    long v;

    if (strncmp(tok, prefix, n) || !tok[n])
        return -1;
    if (tok[n] < '0' || tok[n] > '9')
        return -1;
    errno = 0;
    v = strtol(tok + n, &end, 10);
    if (errno || *end || v < 0 || v > 4096)
        return -1;
    return v;
}

/* ---- the backends ----------------------------------------------------------------------- */

/* Each backend's spec tokens, matched here, and its entry point (meter.h).  add(set, NULL) is the
 * backend's part of "auto": every meter it finds, optional. */
static int nvml_matches(const char *tok)
{
    return !strcmp(tok, "gpu") || token_index(tok, "gpu") >= 0;
}

static int nvml_add(struct jb_meter_set *set, const char *tok)
{
    if (!tok)
        return jb__nvml_add(set, -1, 1);
    return jb__nvml_add(set, strcmp(tok, "gpu") ? (int)token_index(tok, "gpu") : -1, 0);
}

static int rapl_matches(const char *tok)
{
    return !strcmp(tok, "cpu") || token_index(tok, "cpu-package") >= 0 ||
           token_index(tok, "dram") >= 0;
}

static int rapl_add(struct jb_meter_set *set, const char *tok)
{
    if (!tok)
        return jb__rapl_add(set, NULL, 1);
    return jb__rapl_add(set, strcmp(tok, "cpu") ? tok : NULL, 0);
}

static int sim_matches(const char *tok)
{
    return !strcmp(tok, "sim") || !strncmp(tok, "sim:", 4);
}

static int sim_add(struct jb_meter_set *set, const char *tok)
{
    return jb__sim_add(set, tok + 3);
}

static const struct backend {
    const char *forms; /* for the "unknown meter" message */
    int in_auto;       /* part of "auto" (simulated meters never are) */
    int (*matches)(const char *tok);
    int (*add)(struct jb_meter_set *set, const char *tok);
} backends[] = {
    {"gpu, gpuN", 1, nvml_matches, nvml_add},                /* gpu_nvml.c */
    {"cpu, cpu-packageN, dramN", 1, rapl_matches, rapl_add}, /* cpu_rapl.c */
    {"sim, sim:const=W, sim:square=LOW:HIGH:PERIOD_MS:DUTY, sim:trace=FILE", 0, sim_matches,
     sim_add}, /* sim.c */
};
#define N_BACKENDS (sizeof(backends) / sizeof(backends[0]))

static int add_token(struct jb_meter_set *set, const char *tok)
{
    char forms[512] = "auto";

    if (!strcmp(tok, "auto")) {
        for (size_t i = 0; i < N_BACKENDS; i++) {
            int rc = backends[i].in_auto ? backends[i].add(set, NULL) : 0;
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    for (size_t i = 0; i < N_BACKENDS; i++)
        if (backends[i].matches(tok))
            return backends[i].add(set, tok);
    for (size_t i = 0; i < N_BACKENDS; i++) {
        size_t len = strlen(forms);
        snprintf(forms + len, sizeof(forms) - len, ", %s", backends[i].forms);
    }
    return jb__meter_set_fail(set, JB_EINVAL, "unknown meter '%s' (expected %s)", tok, forms);
}

int jb_meter_set_add(struct jb_meter_set *set, const char *spec)
{
    const char *p = spec;
    char *tok;
    int rc = 0;

    if (!set || !spec)
        return JB_EINVAL;
    set->errmsg[0] = '\0';
    if (!*spec)
        return jb__meter_set_fail(set, JB_EINVAL, "empty meter specification");
    tok = malloc(strlen(spec) + 1); /* the longest item: never truncated */
    if (!tok)
        return jb__meter_set_fail(set, JB_ENOMEM, "out of memory");
    /* Commas separate meters (jb__list_next), except inside a simulated meter's trace=FILE
     * (sim:trace=FILE, sim:nvml:...:trace=FILE), which takes the rest of the spec.  An empty
     * name anywhere, a trailing comma's included, is an error. */
    while (p) {
        const char *tr = strstr(p, ":trace="), *comma = strchr(p, ',');
        if (!strncmp(p, "sim:", 4) && tr && (!comma || tr < comma)) {
            strcpy(tok, p);
            p = NULL;
        } else {
            jb__list_next(&p, tok, strlen(spec) + 1, 0);
        }
        if (!*tok) {
            rc = jb__meter_set_fail(set, JB_EINVAL, "empty meter name in '%s'", spec);
            break;
        }
        rc = add_token(set, tok);
        if (rc < 0)
            break;
    }
    free(tok);
    return rc;
}

size_t jb_meter_set_count(const struct jb_meter_set *set)
{
    return set ? set->n : 0;
}

struct jb_meter *jb_meter_set_get(struct jb_meter_set *set, size_t i)
{
    return set && i < set->n ? set->meters[i] : NULL;
}

const char *jb_meter_set_errmsg(const struct jb_meter_set *set)
{
    return set ? set->errmsg : "";
}

size_t jb_meter_set_note_count(const struct jb_meter_set *set)
{
    return set ? set->n_notes : 0;
}

const char *jb_meter_set_note(const struct jb_meter_set *set, size_t i)
{
    return set && i < set->n_notes ? set->notes[i] : NULL;
}

const struct jb_meter_info *jb_meter_get_info(const struct jb_meter *m)
{
    return &m->info;
}

static void keep_error(struct jb_meter *m, const struct jb_errbuf *err)
{
    pthread_mutex_lock(&m->err_lock);
    jb__strlcpy(m->errmsg, err->msg, sizeof(m->errmsg));
    pthread_mutex_unlock(&m->err_lock);
}

int jb_meter_read_sample(struct jb_meter *m, struct jb_sample *s)
{
    struct jb_errbuf err = {{0}};
    int rc;

    memset(s, 0, sizeof(*s));
    /* The backend stamps the reading itself (meter.h): it knows when its values were taken (the
     * simulated meter's are exact at its stamp), and a stamp taken here would move a reading by
     * however long the thread was preempted inside the call. */
    rc = m->ops->read_sample(m, s, &err);
    s->valid &= m->read_mask;
    if (rc < 0)
        keep_error(m, &err);
    return rc;
}

int jb_meter_read_energy(struct jb_meter *m, struct jb_energy *e)
{
    struct jb_errbuf err = {{0}};
    int rc;

    memset(e, 0, sizeof(*e));
    if (!m->ops->read_energy || !(m->info.caps & JB_CAP_ENERGY & m->read_mask)) {
        jb__err(&err, JB_ENOTSUP, "%s has no energy counter", m->info.id);
        keep_error(m, &err);
        return JB_ENOTSUP;
    }
    /* Stamped by the backend, as samples are (gpu_nvml.c: the middle of the ~4 ms NVML call). */
    rc = m->ops->read_energy(m, e, &err);
    if (rc < 0)
        keep_error(m, &err);
    return rc;
}

void jb_meter_set_read_mask(struct jb_meter *m, uint32_t mask)
{
    m->read_mask = mask;
}

uint32_t jb_meter_read_mask(const struct jb_meter *m)
{
    return m->read_mask & m->info.caps;
}

const char *jb_meter_errmsg(const struct jb_meter *m)
{
    return m->errmsg;
}
