/*
 * meter.h - the interface between the meter set and its backends (internal).
 *
 * Each backend (gpu_nvml.c, cpu_rapl.c, sim.c) discovers its devices, fills one struct jb_meter per
 * device and appends it with jb__meter_set_append().  Reads go through the backend's ops table;
 * meter.c wraps them so that error messages land on the meter.  Backends never print.
 */
#ifndef JB_SRC_LIB_METER_H
#define JB_SRC_LIB_METER_H

#include "joulebench.h"

#include <pthread.h>
#include <stddef.h>

/* A message buffer for backends: jb__err(buf, "cannot open '%s': %s", path, strerror(e)). */
struct jb_errbuf {
    char msg[512];
};

struct jb_meter_ops {
    /* Fill s (t_mono_ns and valid included).  Return 0 or a negative JB_E* code. */
    int (*read_sample)(struct jb_meter *m, struct jb_sample *s, struct jb_errbuf *err);
    /* Fill e with joules since open (monotonic) and its t_mono_ns.  NULL when the meter has
     * no counter. */
    int (*read_energy)(struct jb_meter *m, struct jb_energy *e, struct jb_errbuf *err);
    /* Free priv.  May be NULL. */
    void (*close)(struct jb_meter *m);
};

struct jb_meter {
    const struct jb_meter_ops *ops;
    struct jb_meter_info info;
    void *priv;
    pthread_mutex_t err_lock;
    char errmsg[512];
    uint32_t read_mask; /* JB_CAP_* bits to read (jb_meter_set_read_mask); all by default */
};

/* Adding meters: each backend's entry point.  `optional` (under "auto") turns "none found" and
 * "not readable" into notes on the set rather than failures. */
int jb__nvml_add(struct jb_meter_set *set, int index /* -1: all visible */, int optional);
int jb__rapl_add(struct jb_meter_set *set, const char *id /* NULL: all */, int optional);
int jb__sim_add(struct jb_meter_set *set, const char *arg /* after "sim", "" or ":..." */);

/* Allocates a zeroed meter with ops set; NULL when out of memory. */
struct jb_meter *jb__meter_new(const struct jb_meter_ops *ops);
/* Frees a meter not (yet) in a set: calls ops->close.  Accepts NULL. */
void jb__meter_free(struct jb_meter *m);
/* Appends m (ownership passes to the set, also on failure).  Fills info.id when empty, as
 * <prefix><n> with n the count of meters of that kind already in the set. */
int jb__meter_set_append(struct jb_meter_set *set, struct jb_meter *m);
/* Count of meters in the set of one kind (to number ids). */
size_t jb__meter_set_count_kind(const struct jb_meter_set *set, enum jb_meter_kind kind);
/* Records a failure message on the set and returns code. */
int jb__meter_set_fail(struct jb_meter_set *set, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records a note (not a failure). */
void jb__meter_set_notef(struct jb_meter_set *set, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* snprintf into an errbuf; returns code for `return jb__err(err, JB_EIO, ...)`. */
int jb__err(struct jb_errbuf *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Bounded string copy that always terminates (dst of size n). */
void jb__strlcpy(char *dst, const char *src, size_t n);
/*
 * A caller's growable options struct (a `size_t size` first member; include/joulebench.h,
 * jb_sampler_opts) copied into *dst, this library's version of it (known bytes): dst zeroed
 * (every default is 0), then min(size, known) bytes of src, dst->size set to known.  Returns 0;
 * JB_EINVAL for a size below sizeof(size_t) or above JB_OPTS_SIZE_MAX, JB_ENOTSUP when src is
 * larger than known and sets a byte beyond it; the reason written to why (whylen bytes).
 */
int jb__opts_take(void *dst, size_t known, const void *src, const char *name, char *why,
                  size_t whylen);

#endif
