/*
 * phase_replay.c - the phase estimator's full results (interval, flags, cross-checks) for a run
 * directory that `joulebench stat -o DIR` wrote, by replaying its readings through libjoulebench.
 *
 * Until the run directory carries the new per-phase columns (energy_j_lo/hi, flags, ...), this
 * is how bench/gpu/phase-checks.sh reads them: samples.csv holds every counter reading the sampler
 * made (its locked schedule included) and every power sample, phases.csv every phase's bounds; the
 * readings are fed in time order, each bound 1 ms after its time (as it arrives through the
 * workload's pipe), to jb_phases, which prints one JSON object per phase and meter.  The power fed
 * is the instant reading where there is one (as measure.c does).  Not a run-directory reader for
 * anything else: it knows only the columns it needs.
 *
 *   cc -O2 -Iinclude -Isrc/lib bench/gpu/phase_replay.c src/lib/\*.c -lpthread -ldl -lm -o replay
 *   replay RUNDIR > phases.jsonl
 */
#include "joulebench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_METERS 16
#define MAX_COLS 32

struct ev {
    uint64_t t_ns;
    int kind; /* 0 power sample, 1 counter reading, 2 begin, 3 end */
    int meter;
    double v, v2; /* value; sample: power_w and power_instant_w (NAN when empty) */
    char phase[32];
    long index;
    size_t seq;
};

static struct ev *evs;
static size_t n_evs, cap_evs;
static char meters[MAX_METERS][32];
static int n_meters;

static struct ev *push(void)
{
    if (n_evs == cap_evs) {
        size_t nc = cap_evs ? cap_evs * 2 : 4096;
        struct ev *e = realloc(evs, nc * sizeof(*e));
        if (!e) {
            fprintf(stderr, "phase_replay: out of memory\n");
            exit(1);
        }
        evs = e;
        cap_evs = nc;
    }
    memset(&evs[n_evs], 0, sizeof(evs[0]));
    evs[n_evs].seq = n_evs;
    return &evs[n_evs++];
}

static int meter_of(const char *id)
{
    for (int i = 0; i < n_meters; i++)
        if (!strcmp(meters[i], id))
            return i;
    if (n_meters == MAX_METERS)
        return -1;
    snprintf(meters[n_meters], sizeof(meters[0]), "%s", id);
    return n_meters++;
}

/* Splits a CSV line (no quoted commas in the fields used here) into at most MAX_COLS fields. */
static int split(char *line, char **f)
{
    int n = 0;
    char *p = line;

    line[strcspn(line, "\r\n")] = '\0';
    while (n < MAX_COLS) {
        char *c = strchr(p, ',');
        f[n++] = p;
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    for (int i = 0; i < n; i++) /* unquote "..." */
        if (f[i][0] == '"' && strlen(f[i]) >= 2) {
            f[i]++;
            f[i][strlen(f[i]) - 1] = '\0';
        }
    return n;
}

static int col(char **h, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(h[i], name))
            return i;
    return -1;
}

static uint64_t ns_of(const char *s)
{
    return (uint64_t)llround(strtod(s, NULL) * 1e9) + 1000000000ull;
}

static int by_time(const void *a, const void *b)
{
    const struct ev *x = a, *y = b;

    if (x->t_ns != y->t_ns)
        return x->t_ns < y->t_ns ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static FILE *open_in(const char *dir, const char *name)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    return f;
}

static void read_samples(const char *dir)
{
    FILE *f = open_in(dir, "samples.csv");
    char line[4096], hdr[4096], *h[MAX_COLS], *v[MAX_COLS];
    int nh, ct, cm, cp, ce, ci;

    if (!fgets(hdr, sizeof(hdr), f))
        exit(1);
    nh = split(hdr, h);
    ct = col(h, nh, "t_s");
    cm = col(h, nh, "meter");
    cp = col(h, nh, "power_w");
    ce = col(h, nh, "energy_j");
    ci = col(h, nh, "power_instant_w");
    while (fgets(line, sizeof(line), f)) {
        int n = split(line, v), m;
        struct ev *e;
        if (n < nh || (m = meter_of(v[cm])) < 0)
            continue;
        e = push();
        e->t_ns = ns_of(v[ct]);
        e->meter = m;
        if (*v[ce]) {
            e->kind = 1;
            e->v = strtod(v[ce], NULL);
        } else {
            e->kind = 0;
            e->v = *v[cp] ? strtod(v[cp], NULL) : NAN;
            e->v2 = ci >= 0 && *v[ci] ? strtod(v[ci], NULL) : NAN;
        }
    }
    fclose(f);
}

static void read_phases(const char *dir)
{
    FILE *f = open_in(dir, "phases.csv");
    char line[4096], hdr[4096], *h[MAX_COLS], *v[MAX_COLS];
    char last[128] = "";
    int nh, cp, cx, cb, ce;

    if (!fgets(hdr, sizeof(hdr), f))
        exit(1);
    nh = split(hdr, h);
    cp = col(h, nh, "phase");
    cx = col(h, nh, "index");
    cb = col(h, nh, "t_begin_s");
    ce = col(h, nh, "t_end_s");
    while (fgets(line, sizeof(line), f)) {
        int n = split(line, v);
        char key[128];
        struct ev *b, *e;
        if (n < nh)
            continue;
        snprintf(key, sizeof(key), "%s/%s", v[cp], v[cx]);
        if (!strcmp(key, last)) /* one row per meter */
            continue;
        snprintf(last, sizeof(last), "%s", key);
        if (!strcmp(v[cp], "idle") || !strcmp(v[cp], "command"))
            continue; /* measure.c's own phases: bounds not from the workload's clock */
        b = push();
        b->kind = 2;
        snprintf(b->phase, sizeof(b->phase), "%s", v[cp]);
        b->index = strtol(v[cx], NULL, 10);
        b->t_ns = ns_of(v[cb]);
        e = push();
        *e = *b;
        e->seq = n_evs - 1;
        e->kind = 3;
        e->t_ns = ns_of(v[ce]);
        b->v = (double)b->t_ns; /* the bound's own time; it arrives 1 ms later */
        e->v = (double)e->t_ns;
        b->t_ns += 1000000;
        e->t_ns += 1000000;
    }
    fclose(f);
}

static void flag_names(uint32_t f, char *out, size_t n)
{
    size_t used = 0;

    out[0] = '\0';
    for (uint32_t bit = 1; bit; bit <<= 1)
        if ((f & bit) && jb_phase_flag_name(bit) && used < n)
            used += (size_t)snprintf(out + used, n - used, "%s\"%s\"", used ? "," : "",
                                     jb_phase_flag_name(bit));
}

static void on_result(void *user, const struct jb_phase_result *r)
{
    char flags[256];

    (void)user;
    flag_names(r->flags, flags, sizeof(flags));
    printf("{\"phase\":\"%s\",\"index\":%ld,\"meter\":\"%s\",\"duration_s\":%.6f,"
           "\"energy_j\":%.6f,\"energy_j_lo\":%.6f,\"energy_j_hi\":%.6f,\"bounds\":%s,"
           "\"energy_j_power\":%.6f,\"power_rel_diff\":%.6f,\"peak_power_w\":%.3f,"
           "\"peak_power_source\":\"%s\",\"peak_interval_power_w\":%.3f,\"idle_power_w\":%.3f,"
           "\"update_period_s\":%.6f,\"partial\":%s,\"flags\":[%s]}\n",
           r->phase, r->index, meters[r->meter], (double)(r->t_end_ns - r->t_begin_ns) / 1e9,
           r->energy_j, r->energy_j_lo, r->energy_j_hi,
           (r->valid & JB_PHASE_ENERGY_BOUNDS) ? "true" : "false", r->energy_j_power,
           r->power_rel_diff, r->peak_power_w, jb_power_source_name(r->peak_power_source),
           r->peak_interval_power_w, r->idle_power_w, r->update_period_s,
           (r->valid & JB_PHASE_PARTIAL) ? "true" : "false", flags);
}

int main(int argc, char **argv)
{
    struct jb_phases *p;
    uint64_t last = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s RUNDIR\n", argv[0]);
        return 2;
    }
    read_samples(argv[1]);
    read_phases(argv[1]);
    qsort(evs, n_evs, sizeof(evs[0]), by_time);
    p = jb_phases_new((size_t)n_meters);
    if (!p)
        return 1;
    jb_phases_set_on_result(p, on_result, NULL);
    for (size_t i = 0; i < n_evs; i++) {
        const struct ev *e = &evs[i];
        int rc = 0;
        if (e->kind == 0) {
            struct jb_sample s;
            memset(&s, 0, sizeof(s));
            s.t_mono_ns = e->t_ns;
            if (!isnan(e->v)) {
                s.power_w = e->v;
                s.valid |= JB_CAP_POWER;
            }
            if (!isnan(e->v2)) {
                s.power_instant_w = e->v2;
                s.valid |= JB_CAP_POWER_INSTANT;
            }
            rc = jb_phases_add_sample(p, (size_t)e->meter, &s);
        } else if (e->kind == 1) {
            struct jb_energy en = {e->t_ns, e->v};
            rc = jb_phases_add_energy(p, (size_t)e->meter, &en);
        } else if (e->kind == 2) {
            rc = jb_phases_begin(p, e->phase, e->index, (uint64_t)e->v);
        } else {
            rc = jb_phases_end(p, e->phase, e->index, (uint64_t)e->v, NULL);
        }
        if (rc < 0)
            fprintf(stderr, "phase_replay: %s\n", jb_phases_errmsg(p));
        last = e->t_ns;
    }
    jb_phases_finish(p, last);
    for (int m = 0; m < n_meters; m++) {
        const struct jb_phases_meter_stats *st = jb_phases_meter_stats(p, (size_t)m);
        printf("{\"meter_stats\":\"%s\",\"stepped\":%d,\"grid\":%d,\"update_period_s\":%.6f,"
               "\"update_jitter_s\":%.6f,\"updates\":%llu,\"located_updates\":%llu,"
               "\"idle_power_w\":%.3f,\"max_power_w\":%.3f,\"check_windows\":%llu,"
               "\"aliased_windows\":%llu,\"worst_rel_diff\":%.4f}\n",
               meters[m], st->stepped, st->grid, st->update_period_s, st->update_jitter_s,
               (unsigned long long)st->updates, (unsigned long long)st->located_updates,
               st->idle_power_w, st->max_power_w, (unsigned long long)st->check_windows,
               (unsigned long long)st->aliased_windows, st->worst_rel_diff);
    }
    jb_phases_free(p);
    free(evs);
    return 0;
}
