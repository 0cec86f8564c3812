/*
 * joulebench.h - public API of libjoulebench.
 *
 * libjoulebench measures energy: it discovers meters (NVIDIA GPUs through NVML, CPU package and
 * DRAM through RAPL, and simulated meters for tests and demos), samples them on background threads
 * and attributes energy to phases that a workload marks.  It holds no policy: it does not run
 * studies, write run directories or draw figures (that is the joulebench tool), and it never
 * prints, exits or aborts on a runtime condition.  Every fallible call returns 0 or a negative
 * JB_E* code; the handle involved keeps a human-readable message (see *_errmsg()).
 *
 * Units are in the names: _ns, _ms, _s, _j (joules), _w (watts), _c (Celsius), _pct, _mib, _mhz.
 * Times are CLOCK_MONOTONIC nanoseconds (jb_now_ns()).  A value that a device cannot give is marked
 * by a cleared bit in the struct's `valid` mask, never by 0 or -1.
 */
#ifndef JB_JOULEBENCH_H
#define JB_JOULEBENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(JB_BUILDING_SHARED)
#define JB_API __attribute__((visibility("default")))
#else
#define JB_API
#endif

/* The version, in one place: CMakeLists.txt reads these three lines for project(VERSION), which
 * gives the shared library's version, joulebench.pc and the tool's JB_VERSION; the Python
 * package's __version__ is checked against them (ctest install/prefix). */
#define JB_VERSION_MAJOR 0
#define JB_VERSION_MINOR 1
#define JB_VERSION_PATCH 0
#define JB__STR_(x) #x
#define JB__STR(x) JB__STR_(x)
#define JB_VERSION_STRING                                                                          \
    JB__STR(JB_VERSION_MAJOR) "." JB__STR(JB_VERSION_MINOR) "." JB__STR(JB_VERSION_PATCH)

/* Error codes, one list: XX(NAME, CODE, STRING) gives JB_NAME = CODE and jb_strerror()'s STRING.
 * Never renumbered; new codes are appended (the next is -13). */
#define JB_ERRNO_MAP(XX)                                                                           \
    XX(EINVAL, -1, "invalid argument")   /* invalid argument or specification */                   \
    XX(ENOMEM, -2, "out of memory")      /* out of memory */                                       \
    XX(EIO, -3, "input/output error")    /* read or write failed */                                \
    XX(ENODEV, -4, "no such device")     /* no such device, or none found */                       \
    XX(EACCES, -5, "permission denied")  /* permission denied */                                   \
    XX(ENOTSUP, -6, "not supported")     /* not supported by this device or driver */              \
    XX(ELIB, -7, "library not loadable") /* a library could not be loaded or lacks a symbol */     \
    XX(EPARSE, -8, "malformed input")    /* malformed input */                                     \
    XX(ELOST, -9, "device lost")         /* the device went away while in use */                   \
    XX(ESTATE, -10, "wrong state")       /* call made in the wrong state */                        \
    XX(ESYS, -11, "system call failed")  /* a system call failed */                                \
    XX(ERANGE, -12, "out of range")      /* value out of range */

enum {
    JB_OK = 0,
#define JB__ERRNO_ENUM(name, code, str) JB_##name = (code),
    JB_ERRNO_MAP(JB__ERRNO_ENUM)
#undef JB__ERRNO_ENUM
};

/* Static description of a code ("invalid argument"); never NULL. */
JB_API const char *jb_strerror(int code);

/* Library version string, e.g. "0.1.0". */
JB_API const char *jb_version(void);

/* CLOCK_MONOTONIC in nanoseconds. Thread-safe. */
JB_API uint64_t jb_now_ns(void);

/* ---- meters ---------------------------------------------------------------------------- */

enum jb_meter_kind {
    JB_KIND_GPU = 1,
    JB_KIND_CPU_PACKAGE = 2,
    JB_KIND_DRAM = 3,
    JB_KIND_SIM = 4,
};

/* Capability bits (jb_meter_info.caps) and, for the per-sample fields, validity bits
 * (jb_sample.valid). */
#define JB_CAP_ENERGY (1u << 0)        /* hardware energy counter (jb_meter_read_energy) */
#define JB_CAP_POWER (1u << 1)         /* power_w: the device's (averaged) power reading */
#define JB_CAP_POWER_INSTANT (1u << 2) /* power_instant_w */
#define JB_CAP_TEMP (1u << 3)          /* temp_c */
#define JB_CAP_UTIL (1u << 4)          /* util_pct */
#define JB_CAP_MEM_UTIL (1u << 5)      /* mem_util_pct */
#define JB_CAP_MEM_USED (1u << 6)      /* mem_used_mib */
#define JB_CAP_SM_CLOCK (1u << 7)      /* sm_clock_mhz */
#define JB_CAP_MEM_CLOCK (1u << 8)     /* mem_clock_mhz */
#define JB_CAP_THROTTLE (1u << 9)      /* throttle_reasons */

/* Validity bits of jb_meter_info's optional fields. */
#define JB_INFO_POWER_LIMIT (1u << 0)
#define JB_INFO_MEMORY_TOTAL (1u << 1)

struct jb_meter_info {
    char id[32]; /* stable id: "gpu0", "cpu-package0", "dram0", "sim0" */
    enum jb_meter_kind kind;
    char source[16];           /* backend: "nvml", "rapl", "sim" */
    char name[128];            /* card name, CPU model, or simulated meter description */
    char uuid[96];             /* GPU UUID; "" when the meter has none */
    char pci_bus_id[32];       /* "" when unknown */
    char driver[64];           /* driver version; "" when unknown */
    int device_index;          /* index within its backend (NVML index, RAPL package) */
    int simulated;             /* 1 for simulated meters: every output must say so */
    uint32_t caps;             /* JB_CAP_* */
    uint32_t valid;            /* JB_INFO_* for the fields below */
    double power_limit_w;      /* enforced power limit */
    double memory_total_mib;   /* device memory */
    double max_energy_range_j; /* counter wrap range (RAPL); 0 when the counter does not wrap */
};

struct jb_sample {
    uint64_t t_mono_ns;
    uint32_t valid; /* JB_CAP_* bits of the fields that hold a value */
    double power_w;
    double power_instant_w;
    double temp_c;
    double util_pct;
    double mem_util_pct;
    double mem_used_mib;
    double sm_clock_mhz;
    double mem_clock_mhz;
    uint64_t throttle_reasons;
};

/* One read of an energy counter: joules accumulated since the meter was opened (wraparound
 * already unfolded by the backend, so the value never decreases). */
struct jb_energy {
    uint64_t t_mono_ns;
    double energy_j;
};

struct jb_meter;
struct jb_meter_set;

/* "gpu", "cpu-package", "dram", "sim"; "unknown" otherwise.  Static strings. */
JB_API const char *jb_meter_kind_name(enum jb_meter_kind kind);
/* Name of one JB_CAP_* bit ("energy", "power", "power_instant", "temp", "util", "mem_util",
 * "mem_used", "sm_clock", "mem_clock", "throttle"); NULL for anything else. */
JB_API const char *jb_cap_name(uint32_t bit);

/* A new, empty meter set.  NULL only when out of memory. */
JB_API struct jb_meter_set *jb_meter_set_new(void);
/* Closes every meter and frees the set.  Accepts NULL. */
JB_API void jb_meter_set_free(struct jb_meter_set *set);

/*
 * Adds meters by specification, a comma-separated list of:
 *   auto            every visible GPU and every readable RAPL domain (none found is not an error)
 *   gpu | gpuN      all NVIDIA GPUs (honouring CUDA_VISIBLE_DEVICES) | the one of NVML index N
 *   cpu             every RAPL package and DRAM domain; cpu-packageN, dramN: one of them
 *   sim             simulated meter, constant 100 W
 *   sim:LOAD        simulated meter with an exact counter (the integral of its power at the read):
 *                   LOAD is const=W | square=LOW_W:HIGH_W:PERIOD_MS:DUTY |
 *                   burst=LOW_W:HIGH_W:BURST_MS:EVERY_MS | steps=W:MS[:W:MS...] (up to 16 levels,
 *                   repeated) | trace=FILE (CSV t_s,power_w; takes the rest of the spec)
 *   sim:nvml[:OPT=V...][:LOAD]  simulated meter read as NVML reads an H200 (default load 100 W):
 *                   a counter updated every update_ms (100), first at offset_ms (0) after the
 *                   meter is added, each update off its grid point by jitter_ms sd (0, at most
 *                   update_ms / 12, from seed 1), stale between updates, in whole mJ; a counter
 *                   read takes read_ms (4) of wall time; power_w = the 1 s mean and
 *                   power_instant_w = the mean over window_ms (25) before the last update.
 *                   E.g. sim:nvml:offset_ms=37:jitter_ms=1:burst=130:700:25:101
 * Returns 0, or a negative code with the reason in jb_meter_set_errmsg().  Meters added before
 * a failure stay in the set.  Not thread-safe.
 */
JB_API int jb_meter_set_add(struct jb_meter_set *set, const char *spec);

JB_API size_t jb_meter_set_count(const struct jb_meter_set *set);
/* The i-th meter (0-based), owned by the set; NULL when out of range. */
JB_API struct jb_meter *jb_meter_set_get(struct jb_meter_set *set, size_t i);
/* Message of the last failure; "" when none.  Owned by the set. */
JB_API const char *jb_meter_set_errmsg(const struct jb_meter_set *set);
/* Notes gathered while adding meters that are not failures (e.g. "RAPL not readable: ..." under
 * auto).  Owned by the set. */
JB_API size_t jb_meter_set_note_count(const struct jb_meter_set *set);
JB_API const char *jb_meter_set_note(const struct jb_meter_set *set, size_t i);

JB_API const struct jb_meter_info *jb_meter_get_info(const struct jb_meter *m);

/*
 * Reads power, temperature, utilisation, memory and clocks; s->valid says which came.  Costs
 * under a microsecond on NVML.  Thread-safe against jb_meter_read_energy on the same meter, but not
 * against itself.  JB_ELOST when the device went away.
 */
JB_API int jb_meter_read_sample(struct jb_meter *m, struct jb_sample *s);
/*
 * Reads the energy counter.  JB_ENOTSUP when the meter has none (caps lacks JB_CAP_ENERGY).
 * On NVML this costs ~4 ms of CPU and the value moves every ~100 ms, so do not call it on the
 * power-sampling path.  Thread-safe against jb_meter_read_sample on the same meter.
 */
JB_API int jb_meter_read_energy(struct jb_meter *m, struct jb_energy *e);
/*
 * Restricts what reads fetch to the JB_CAP_* bits of mask (default: everything the meter can).
 * Each NVML gauge is a separate driver call, so a sampler that needs only power saves the rest;
 * without JB_CAP_ENERGY the energy counter is not read at all (jb_meter_read_energy gives
 * JB_ENOTSUP, and the sampler skips it).  Set before sampling starts; not thread-safe.
 */
JB_API void jb_meter_set_read_mask(struct jb_meter *m, uint32_t mask);
/* What reads fetch: caps & mask. */
JB_API uint32_t jb_meter_read_mask(const struct jb_meter *m);
/* Message of the last failed read; "" when none.  Owned by the meter; valid until the next read. */
JB_API const char *jb_meter_errmsg(const struct jb_meter *m);

/* ---- sampler -------------------------------------------------------------------------- */

typedef void (*jb_sample_cb)(void *user, size_t meter_index, const struct jb_sample *s);
typedef void (*jb_energy_cb)(void *user, size_t meter_index, const struct jb_energy *e);
typedef void (*jb_error_cb)(void *user, size_t meter_index, int code, const char *msg);

/* Values of jb_sampler_opts.energy_on_demand: how energy counters are read. */
#define JB_ENERGY_LOCKED 0    /* periodic; a step-function counter is read just after its updates */
#define JB_ENERGY_ON_DEMAND 1 /* only the first and last reads and jb_sampler_read_energy_now */
#define JB_ENERGY_FIXED 2     /* periodic on a fixed schedule, whatever the counter does */

/*
 * Options of jb_sampler_start.  Growable without breaking callers built against an older
 * header: `size` comes first and says how much of the struct the caller knows (sizeof as the
 * caller was compiled).  Start with jb_sampler_opts_init(&o), which sets size and every
 * default, then set what you need:
 *
 *     struct jb_sampler_opts o;
 *     jb_sampler_opts_init(&o);
 *     o.interval_ms = 50;
 *
 * The library reads only the first `size` bytes: a field that lies beyond them (one added after
 * the caller was built) takes its default.  A size larger than this header's (a newer caller)
 * is accepted when the bytes this library does not know are zero (their defaults), and refused
 * with JB_ENOTSUP otherwise; a size below sizeof(size_t), 0 included (options never
 * initialised), or above JB_OPTS_SIZE_MAX is refused with JB_EINVAL.  Every field's default is
 * 0 (and NULL), so a struct zeroed with its size set is a default one too.  Fields are appended,
 * never reordered or removed.
 */
#define JB_OPTS_SIZE_MAX 4096
struct jb_sampler_opts {
    size_t size;                 /* sizeof(struct jb_sampler_opts): jb_sampler_opts_init */
    unsigned interval_ms;        /* power/temperature/... cadence, 10..60000; 0 means 100 */
    unsigned energy_interval_ms; /* energy-counter cadence, 10..60000; 0 means 100 */
    jb_sample_cb on_sample;      /* may be NULL */
    jb_energy_cb on_energy;      /* may be NULL */
    jb_error_cb on_error;        /* may be NULL; a meter that fails is not read again */
    void *user;
    int energy_on_demand; /* JB_ENERGY_*: the counter schedule (0, the default: locked) */
};

/* Sets o->size to `size` and every field within it to its default.  Call it through the
 * macro, which passes the caller's own sizeof. */
JB_API void jb_sampler_opts_init_sized(struct jb_sampler_opts *o, size_t size);
#define jb_sampler_opts_init(o) jb_sampler_opts_init_sized((o), sizeof(*(o)))

struct jb_sampler;

/*
 * Starts the sampler threads over every meter of `set` (which must outlive the sampler).  One
 * thread reads samples every interval_ms; each meter with an energy counter gets its own thread
 * for counter reads.  Under JB_ENERGY_LOCKED (the default) that thread first reads the counter
 * back to back (2 ms apart) for up to ~1 s to see whether it is a step function (NVML's moves every ~100 ms
 * and is stale in between) and, if it is, where its updates fall; it then reads just after each
 * update (every max(1, round(energy_interval_ms / period)) updates), plus one read just before
 * every fifth, to stay locked.  A counter that is exact at every read (RAPL, simulated exact
 * meters), or whose updates cannot be located, is read every energy_interval_ms.  Callbacks are
 * serialised (never run concurrently) and are called from the sampler's threads; a meter's
 * counter readings arrive in time order; the first sample and counter readings are taken before
 * this returns.  Returns 0 or a negative code; *out is NULL on failure: JB_EINVAL (no set, no
 * options, a bad opts->size or energy_on_demand), JB_ENOTSUP (opts set a field this library does
 * not know), JB_ERANGE (an interval), JB_ENOMEM, JB_ESYS.
 */
JB_API int jb_sampler_start(struct jb_sampler **out, struct jb_meter_set *set,
                            const struct jb_sampler_opts *opts);
/* Reads every energy counter now (e.g. at a phase bound), delivered through on_energy before this
 * returns.  Thread-safe. */
JB_API int jb_sampler_read_energy_now(struct jb_sampler *s);
/*
 * The sampler's message: with s, the first meter failure ("meter gpu0: ...", the message that
 * on_error also got; "" while none), owned by the sampler and valid until jb_sampler_stop;
 * with NULL, why this thread's last jb_sampler_start failed ("" when it did not).  Thread-safe.
 */
JB_API const char *jb_sampler_errmsg(const struct jb_sampler *s);
/* Takes one last sample and counter reading, stops the threads and frees the sampler. Accepts
 * NULL. */
JB_API void jb_sampler_stop(struct jb_sampler *s);

/* ---- phases --------------------------------------------------------------------------- */

/*
 * Energy attribution to phases.  Feed it every energy reading and power sample of every meter and
 * the phase bounds; per phase and meter it gives
 *   energy_j        from the energy counter, counter-anchored (below)
 *   energy_j_lo/hi  an interval that holds the phase's energy (below)
 *   energy_j_power  the trapezoid integral of the power readings over [t_begin, t_end]
 * and cross-checks (power_rel_diff, aliasing, peak power with the reading it came from).
 *
 * Counter-anchored energy.  The counter is a step function: a value first read at b, after the
 * previous value was last read at a, says that an update happened in (a, b] and that the value
 * is the energy up to that update.  A counter is taken as exact at its reads (the update is the
 * read) until one returns the same value twice while the meter draws power; from then on each
 * update is placed on the update grid (period and phase fitted to the updates that lay between
 * two close reads; see jb_sampler_opts) or, before there is a grid, in the middle of its bracket.
 * Between two updates the increment is spread by a shape: the power readings for an exact
 * counter; for a step-function counter a single step between the mean powers of the two
 * neighbouring update intervals when the interval's own mean lies between them and they differ
 * by more than 15%, else uniformly.  So the estimate is exact at every update, never below the
 * lowest power the meter showed times the duration, never 0 J where the meter drew power, and
 * the energies of adjacent phases add up exactly to that of the phase they tile.
 *
 * The interval.  Each bound's counter value C(t) is bounded by the nearby updates, where they can
 * lie, and the range of power the meter showed during the run so far (0.9 x the lowest to 1.1 x
 * the highest reading or update-interval mean): C(t) >= C(u) + P_lo (t - u) for an update u
 * before t, C(t) <= C(u) - P_lo (u - t) for one after, and the same with P_hi the other way.  It
 * is a bound under those assumptions, not a confidence interval; it is widest for a bound in the
 * middle of an update interval and for phases shorter than an update period.
 *
 * A phase is resolved once the readings have passed its end (for a step-function counter: two
 * updates past it) or at jb_phases_finish.  Memory: readings are kept for 10 s behind the newest
 * and back to the oldest bound not yet evaluated (a phase's begin is evaluated, and the readings
 * before it let go, as soon as the readings pass it); resolved results accumulate until taken
 * (jb_phases_take) or are handed to a callback instead (jb_phases_set_on_result).  Cost per
 * reading and per bound: O(log n) in the number of open phases.  Not thread-safe.
 */
struct jb_phases;

/* jb_phase_result.valid: which fields hold a value. */
#define JB_PHASE_ENERGY (1u << 0)        /* energy_j holds a counter value */
#define JB_PHASE_ENERGY_POWER (1u << 1)  /* energy_j_power holds a value */
#define JB_PHASE_ITEMS (1u << 2)         /* items holds a value */
#define JB_PHASE_PARTIAL (1u << 3)       /* readings did not cover the whole phase */
#define JB_PHASE_ENERGY_BOUNDS (1u << 4) /* energy_j_lo and energy_j_hi hold a bound */
#define JB_PHASE_PEAK (1u << 5)          /* peak_power_w and peak_power_source */
#define JB_PHASE_PEAK_INTERVAL (1u << 6) /* peak_interval_power_w */
#define JB_PHASE_POWER_DIFF (1u << 7)    /* power_rel_diff */
#define JB_PHASE_IDLE_POWER (1u << 8)    /* idle_power_w */

/* jb_phase_result.flags: what a reader should know about the numbers. */
#define JB_PHASE_FLAG_STEPPED (1u << 0)    /* the meter's counter is a step function */
#define JB_PHASE_FLAG_RESOLUTION (1u << 1) /* shorter than two counter updates: smeared */
#define JB_PHASE_FLAG_ALIASING                                                                     \
    (1u << 2) /* the power integral disagrees with the counter by
                                            * more than 25% over >= 10 updates in this phase
                                            * or around it: do not trust energy_j_power or peak */
#define JB_PHASE_FLAG_UNLOCATED                                                                    \
    (1u << 3)                           /* a bound's updates are known only to within their
                                            * read brackets (no update grid yet): wide interval */
#define JB_PHASE_FLAG_FLOORED (1u << 4) /* energy_j raised to idle_power_w x duration */

/* jb_phase_result.peak_power_source: the reading the peak came from. */
enum jb_power_source {
    JB_POWER_SOURCE_NONE = 0,
    JB_POWER_SOURCE_POWER = 1,   /* a power reading of unstated kind (jb_phases_add_power) */
    JB_POWER_SOURCE_AVERAGE = 2, /* the device's averaged reading (jb_sample.power_w) */
    JB_POWER_SOURCE_INSTANT = 3, /* the instant reading (jb_sample.power_instant_w) */
};

/*
 * One phase on one meter.  Returned by pointer only, so fields can be appended without breaking
 * callers: fields after `items` were added in 0.2 and are valid only where `valid` says so.
 */
struct jb_phase_result {
    char phase[32];
    long index;
    size_t meter;
    uint64_t t_begin_ns;
    uint64_t t_end_ns;
    uint32_t valid; /* JB_PHASE_* */
    double energy_j;
    double energy_j_power;
    double items;
    /* 0.2 */
    uint32_t flags;     /* JB_PHASE_FLAG_* */
    double energy_j_lo; /* the phase's energy is within [energy_j_lo, energy_j_hi] */
    double energy_j_hi;
    double power_rel_diff;        /* (energy_j_power - energy_j) / energy_j */
    double peak_power_w;          /* highest power reading in the phase (the last one before it
                                   * ends when none fell inside) */
    uint32_t peak_power_source;   /* enum jb_power_source */
    double peak_interval_power_w; /* highest mean power of a counter update interval overlapping
                                   * the phase (from the counter: does not alias) */
    double idle_power_w;          /* lowest power the meter showed so far (energy_j's floor) */
    double update_period_s;       /* counter update period found; 0: exact or not known */
};

/*
 * A meter's counter and cross-check state over the run so far (jb_phases_meter_stats).  Returned
 * by pointer; fields are appended, never reordered.
 */
struct jb_phases_meter_stats {
    int stepped;              /* the counter is a step function */
    int grid;                 /* its update grid is known */
    double update_period_s;   /* fitted update period; 0 when not known */
    double update_jitter_s;   /* RMS of located updates about the grid */
    uint64_t updates;         /* value changes seen */
    uint64_t located_updates; /* of which lay between two close reads */
    double idle_power_w;      /* lowest power shown (readings and update-interval means) */
    double max_power_w;       /* highest */
    uint64_t check_windows;   /* 10-update windows where the power integral was compared */
    uint64_t aliased_windows; /* of which disagreed with the counter by more than 25% */
    double worst_rel_diff;    /* largest |power integral / counter - 1| over a window */
};

JB_API struct jb_phases *jb_phases_new(size_t n_meters);
JB_API void jb_phases_free(struct jb_phases *p);
/* A counter reading; readings of one meter in time order, the value never decreasing. */
JB_API int jb_phases_add_energy(struct jb_phases *p, size_t meter, const struct jb_energy *e);
/* A power reading of unstated kind (peak_power_source JB_POWER_SOURCE_POWER). */
JB_API int jb_phases_add_power(struct jb_phases *p, size_t meter, uint64_t t_mono_ns,
                               double power_w);
/* A sample: its instant power where valid, else its averaged power; other fields are ignored;
 * a sample with neither is ignored (returns 0). */
JB_API int jb_phases_add_sample(struct jb_phases *p, size_t meter, const struct jb_sample *s);
/* JB_EINVAL for a name longer than 31 bytes; JB_ESTATE when the same phase and index is
 * already open (begin) or not open (end). */
JB_API int jb_phases_begin(struct jb_phases *p, const char *phase, long index, uint64_t t_mono_ns);
JB_API int jb_phases_end(struct jb_phases *p, const char *phase, long index, uint64_t t_mono_ns,
                         const double *items);
/* Says that a meter will deliver no more readings (it failed: a lost GPU).  Phases stop waiting
 * for it, so they resolve, and memory stays bounded, with the readings it gave; its results for
 * phases past its last reading are marked partial. */
JB_API int jb_phases_meter_gone(struct jb_phases *p, size_t meter);
/* Closes phases still open at t_mono_ns (marked partial) and resolves every pending phase with the
 * readings there are. */
JB_API int jb_phases_finish(struct jb_phases *p, uint64_t t_mono_ns);
/*
 * Results.  Each phase gives one result per meter, in the order the phases ended.  Without a
 * callback they accumulate in the jb_phases (memory grows with the number of phases) until
 * taken: jb_phases_result_count/jb_phases_result index those held (pointers valid until the next
 * call that adds a reading, a bound, or takes), jb_phases_take removes the oldest and returns it
 * (valid until the next call on p), or NULL when none is held.
 */
JB_API size_t jb_phases_result_count(const struct jb_phases *p);
JB_API const struct jb_phase_result *jb_phases_result(const struct jb_phases *p, size_t i);
JB_API const struct jb_phase_result *jb_phases_take(struct jb_phases *p);
/* With a callback, each result is handed to it as it resolves (valid during the call) and not
 * kept: memory stays bounded however many phases there are.  Results already held stay held.
 * cb NULL goes back to holding them.  The callback must not call back into p. */
typedef void (*jb_phase_result_cb)(void *user, const struct jb_phase_result *r);
JB_API void jb_phases_set_on_result(struct jb_phases *p, jb_phase_result_cb cb, void *user);
/* The meter's counter and cross-check state; NULL for a bad index.  Owned by p. */
JB_API const struct jb_phases_meter_stats *jb_phases_meter_stats(struct jb_phases *p, size_t meter);
JB_API const char *jb_phases_errmsg(const struct jb_phases *p);
/* Name of one JB_PHASE_FLAG_* bit ("stepped", "below_resolution", "aliasing", "unlocated",
 * "floored"), of an enum jb_power_source ("none", "power", "average", "instant"); NULL for
 * anything else.  Static strings, for outputs. */
JB_API const char *jb_phase_flag_name(uint32_t bit);
JB_API const char *jb_power_source_name(uint32_t source);

/* ---- phase protocol ------------------------------------------------------------------- */

enum jb_event_type {
    JB_EVENT_BEGIN = 1,
    JB_EVENT_END = 2,
    JB_EVENT_METRIC = 3,
    JB_EVENT_INFO = 4,
};

#define JB_EVENT_T (1u << 0)     /* t_mono_ns given */
#define JB_EVENT_INDEX (1u << 1) /* index given */
#define JB_EVENT_ITEMS (1u << 2) /* items given */

#define JB_EVENT_MAX_VALUES 32

struct jb_event_value {
    char name[64];
    int is_number; /* 1: number holds the value; 0: text does */
    double number;
    char text[128];
};

struct jb_event {
    enum jb_event_type type;
    uint32_t valid; /* JB_EVENT_* */
    uint64_t t_mono_ns;
    char phase[32];
    long index;
    double items;
    size_t n_values;
    struct jb_event_value values[JB_EVENT_MAX_VALUES];
};

/*
 * Parses one protocol line (a JSON object, without the newline) into *ev.  Returns 0, or
 * JB_EPARSE with a message (field named) written to err (errlen bytes, may be 0).
 */
JB_API int jb_event_parse(const char *line, size_t len, struct jb_event *ev, char *err,
                          size_t errlen);

/* ---- protocol client (the workload's side) --------------------------------------------- */

/*
 * Writes the phase protocol (DESIGN.md section 3) from a C, C++ or CUDA workload: one JSON object
 * per line on the file descriptor named by the environment variable JOULEBENCH_FD, each line
 * written at once with write(2) (nothing is buffered: a line held back would reach the runner
 * late or, on a crash, never).  The lines are those of the Python client
 * (python/joulebench/client.py), field for field:
 *   {"t":T,"event":"begin","phase":P[,"index":I]}
 *   {"t":T,"event":"end","phase":P[,"index":I][,"items":N]}
 *   {"t":T,"event":"metric","phase":P[,"index":I],"values":{...}}
 *   {"event":"info","values":{...}}
 * T is jb_now_ns() at the call: synchronise the device before calling begin or end.  Strings are
 * escaped to ASCII (\uXXXX, invalid UTF-8 as U+FFFD); numbers are written with the fewest digits
 * that read back to the same double; NaN and infinities are written as null (unavailable).
 *
 * Without JOULEBENCH_FD (unset or empty) the client is disabled and every call does nothing but
 * check its arguments, so a workload runs standalone.  Wrong arguments are the caller's bug and
 * give JB_EINVAL with or without a runner: an empty phase name or one longer than 31 bytes, an
 * index outside +-2147483647, items that are negative or not finite, no values or more than 32,
 * a value name empty, longer than 63 bytes or given twice.
 *
 * Failure policy: the protocol never stops the workload.  A failed write (EPIPE when the runner has
 * gone, EBADF, ...) disables the client for good: that call returns JB_EIO with the reason in
 * jb_client_errmsg() (print it once as a warning), and later calls do nothing and return 0.
 * SIGPIPE is held back for the write, so a runner that has gone does not kill the workload.
 * Thread-safe: a mutex serialises the writes, so lines from several threads never interleave.
 */
struct jb_client;

/* The index argument of a phase without an index (no "index" field is written). */
#define JB_NO_INDEX (-2147483647L - 1L)

enum jb_value_type {
    JB_VALUE_NULL = 0,
    JB_VALUE_BOOL = 1,
    JB_VALUE_INT = 2,
    JB_VALUE_NUMBER = 3, /* double; NaN and infinities are written as null */
    JB_VALUE_STRING = 4, /* NUL-terminated UTF-8; NULL is written as null */
};

/* One named value of a metric or info event.  The pointers are only read during the call. */
struct jb_value {
    const char *name;
    enum jb_value_type type;
    int boolean;
    long long integer;
    double number;
    const char *string;
};

/* Constructors for arrays of values: {jb_value_num("loss", 0.5), jb_value_str("device", s)}. */
JB_API struct jb_value jb_value_null(const char *name);
JB_API struct jb_value jb_value_bool(const char *name, int v);
JB_API struct jb_value jb_value_int(const char *name, long long v);
JB_API struct jb_value jb_value_num(const char *name, double v);
JB_API struct jb_value jb_value_str(const char *name, const char *v);

/*
 * A client on $JOULEBENCH_FD.  Unset or empty: a disabled client and 0.  Set but not a file
 * descriptor number, or not an open descriptor: a disabled client too, and JB_EINVAL with the
 * reason in jb_client_errmsg() (the workload should print it as a warning and go on).
 * JB_ENOMEM (and *out NULL) only when out of memory.
 */
JB_API int jb_client_from_env(struct jb_client **out);
/* A client writing to fd (not closed by jb_client_free); fd < 0 gives a disabled client. */
JB_API int jb_client_from_fd(struct jb_client **out, int fd);
/* Frees the client (the descriptor stays open).  Accepts NULL. */
JB_API void jb_client_free(struct jb_client *c);
/* 1 when lines are being written, 0 when disabled (no runner, or after a failed write). */
JB_API int jb_client_enabled(const struct jb_client *c);
/* Message of the last failure; "" when none.  Owned by the client; valid until its next call. */
JB_API const char *jb_client_errmsg(const struct jb_client *c);

/* Marks the beginning / end of phase `phase` (index JB_NO_INDEX for none).  items (may be NULL):
 * the number of items the phase processed (training images), written on the end event. */
JB_API int jb_client_begin(struct jb_client *c, const char *phase, long index);
JB_API int jb_client_end(struct jb_client *c, const char *phase, long index, const double *items);
/* A metric event: n (1..32) values measured for a phase (e.g. "eval", 3: accuracy, loss). */
JB_API int jb_client_metric(struct jb_client *c, const char *phase, long index,
                            const struct jb_value *values, size_t n);
/* An info event: n (1..32) facts about the run (framework, device, precision, ...). */
JB_API int jb_client_info(struct jb_client *c, const struct jb_value *values, size_t n);

/* ---- monitor: measurement windows inside a program ------------------------------------ */

/*
 * A monitor owns a meter set, a sampler and a phase accountant, so that a program measures
 * windows of its own execution without writing callbacks: begin a window by name, end it, wait
 * for its result.  It is what the Python package's joulebench.Monitor calls (python/joulebench/
 * monitor.py, docs/python.md); windows are phases of the accountant above, so a window gets the
 * very estimate `joulebench stat` gives a phase (counter-anchored energy, its interval, the power
 * integral, flags, peak), and windows may nest and overlap freely.
 *
 * Timing.  A window's bounds are jb_now_ns() at the call (synchronise the device first).  Its
 * result needs counter readings past its end: the estimator resolves a bound only once the
 * readings have passed it (for a step-function counter, two counter updates past it).  So a
 * result is ready about 100-200 ms after jb_monitor_end on NVML (a 100 ms counter; longer in
 * the first ~1.5 s of a monitor, while the counter's update grid is being found or when the
 * sampler's first reads were more than 150 ms apart, and up to 5 s
 * for a counter that stops moving), and about one interval_ms on an exact counter (RAPL,
 * simulated exact meters).  jb_monitor_end does not wait: it returns a ticket, and
 * jb_monitor_wait waits for (or polls) the result.
 *
 * Costs.  Every counter is read at each window bound (as stat reads them at phase bounds), in
 * the calling thread: ~4 ms per NVML GPU; JB_MONITOR_NO_BOUND_READS leaves the counters to the
 * sampler's schedule (the estimate then rests on the locked reads alone).  The sampler reads only
 * power and the counter (JB_CAP_ENERGY | JB_CAP_POWER | JB_CAP_POWER_INSTANT).
 *
 * Thread-safety.  Every jb_monitor_* call is thread-safe (one lock per monitor, never held while
 * reading a meter), except jb_monitor_free, which must not run concurrently with any other call on
 * the same monitor.  Window names are the monitor's, not the thread's: two threads beginning
 * the same name get JB_ESTATE for the second.  jb_window_* calls on one window are thread-safe
 * (a window is not changed after jb_monitor_wait returns it).
 *
 * Processes.  A monitor belongs to the process that made it: in a child made by fork() (which has
 * no sampler threads) every window call fails with JB_ESTATE and jb_monitor_free does nothing.
 *
 * Errors.  Calls return 0 (or what is said) or a negative JB_E* code; jb_monitor_errmsg() has the
 * message of the calling thread's last failed jb_monitor_* call (thread-local, so threads do not
 * overwrite each other's messages).
 */
struct jb_monitor;
struct jb_window;

/* jb_monitor_new flags. */
#define JB_MONITOR_NO_BOUND_READS (1u << 0) /* no counter read at window bounds */

/*
 * Adds the meters of `meters` (the syntax of jb_meter_set_add; NULL means "auto") and starts the
 * sampler: gauges every interval_ms and counters every energy_interval_ms (each 10..60000; 0
 * means 100).  Returns 0 with *out set, or a negative code with *out NULL: JB_EINVAL (a bad
 * specification or flag), JB_ERANGE (an interval), JB_ENODEV (no meter: no GPU and no readable
 * RAPL domain under auto), JB_ENOMEM, JB_ESYS (threads), or the code of the meter that failed
 * to open; jb_monitor_errmsg(NULL) says why.  Notes on meters skipped under auto are kept
 * (jb_monitor_note).
 */
JB_API int jb_monitor_new(struct jb_monitor **out, const char *meters, unsigned interval_ms,
                          unsigned energy_interval_ms, unsigned flags);
/*
 * Stops the sampler (one last reading of every meter), closes the windows still open, drops
 * every result not taken, closes the meters and frees the monitor.  Tickets and windows taken
 * stay valid as windows (jb_window_free them).  Accepts NULL.
 */
JB_API void jb_monitor_free(struct jb_monitor *mon);

/* The meters, in the order of the specification; info owned by the monitor, NULL out of range. */
JB_API size_t jb_monitor_meter_count(const struct jb_monitor *mon);
JB_API const struct jb_meter *jb_monitor_meter(const struct jb_monitor *mon, size_t i);
/* Why meter i stopped being read ("" while it is read: a lost GPU stops it, and its part of
 * later windows is marked partial).  Owned by the monitor, valid until it is freed. */
JB_API const char *jb_monitor_meter_error(const struct jb_monitor *mon, size_t i);
/* Notes gathered while adding the meters (jb_meter_set_note). */
JB_API size_t jb_monitor_note_count(const struct jb_monitor *mon);
JB_API const char *jb_monitor_note(const struct jb_monitor *mon, size_t i);

/*
 * Begins window `name` (1 to 31 bytes) now.  JB_EINVAL for a bad name, JB_ESTATE when a window
 * of that name is open.  Windows of different names may nest and overlap in any way; a name may
 * be used again once its window has ended.
 */
JB_API int jb_monitor_begin(struct jb_monitor *mon, const char *name);
/*
 * Ends window `name` now; *ticket gets the id that jb_monitor_wait takes, unique for the
 * monitor's life and never 0 (ticket NULL: nobody will take the result, it is dropped as
 * jb_monitor_cancel drops it).  Does not wait for the result.  JB_ESTATE when no window of that
 * name is open (never begun, or already ended).  Every ended window's result is held until
 * taken (jb_monitor_wait) or dropped (jb_monitor_forget): take or forget every ticket.
 */
JB_API int jb_monitor_end(struct jb_monitor *mon, const char *name, uint64_t *ticket);
/* Ends window `name` and drops its result (JB_ESTATE when not open). */
JB_API int jb_monitor_cancel(struct jb_monitor *mon, const char *name);
/*
 * Waits up to timeout_ms (< 0: until it comes; 0: do not wait) for the result of the window
 * ended with `ticket`.  Returns 1 with *out a window that the caller owns (jb_window_free), 0
 * when the result is not ready yet (*out NULL; the ticket stays valid), JB_ESTATE for a ticket
 * not issued, already taken or forgotten, JB_ENOMEM.  The wait is bounded by the readings: see
 * "Timing" above; a meter that fails stops being waited for.
 */
JB_API int jb_monitor_wait(struct jb_monitor *mon, uint64_t ticket, int timeout_ms,
                           struct jb_window **out);
/* Drops the result of `ticket`, now or when it comes.  Unknown tickets are ignored. */
JB_API void jb_monitor_forget(struct jb_monitor *mon, uint64_t ticket);
/* The calling thread's last jb_monitor_* failure ("" when none); mon may be NULL.  Valid until
 * that thread's next jb_monitor_* call. */
JB_API const char *jb_monitor_errmsg(const struct jb_monitor *mon);

/* A window's result: one jb_phase_result per meter of the monitor (phase = the window's name).
 * Owned by the caller; accessors accept only the window jb_monitor_wait gave. */
JB_API void jb_window_free(struct jb_window *w); /* accepts NULL */
JB_API const char *jb_window_name(const struct jb_window *w);
JB_API uint64_t jb_window_ticket(const struct jb_window *w);
JB_API uint64_t jb_window_t_begin_ns(const struct jb_window *w);
JB_API uint64_t jb_window_t_end_ns(const struct jb_window *w);
JB_API size_t jb_window_meter_count(const struct jb_window *w);
/* Meter i's result (fields as documented for struct jb_phase_result; JB_PHASE_PARTIAL when the
 * readings did not cover the window, e.g. the monitor was freed first); NULL out of range.
 * Read through this pointer only: the struct may grow. */
JB_API const struct jb_phase_result *jb_window_result(const struct jb_window *w, size_t i);
/* Meter i's energy: the counter's estimate where there is one, else the power integral; NAN
 * when neither (check jb_window_result()->valid). */
JB_API double jb_window_energy_j(const struct jb_window *w, size_t i);
/* Where that energy came from, as stat's energy_source: "simulated" (a simulated meter, whatever
 * its reading), "counter", "power-integral", or "none".  Static strings. */
JB_API const char *jb_window_energy_source(const struct jb_window *w, size_t i);
/* 1 when any meter of the window is simulated: every output must say so. */
JB_API int jb_window_simulated(const struct jb_window *w);

#ifdef __cplusplus
}
#endif
#endif /* JB_JOULEBENCH_H */
