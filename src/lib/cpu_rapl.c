/*
 * cpu_rapl.c - CPU package and DRAM energy through the Linux powercap sysfs interface to RAPL
 * (Running Average Power Limit).  It discovers the package zones (intel-rapl:N, "package-N") and
 * their DRAM subzones (intel-rapl:N:M, "dram"), reads their energy_uj counters and unfolds the
 * counters' wraparound into joules since the meter was opened.  It is not a power meter (RAPL has
 * no power gauge: read_sample marks every field unavailable), it never reads MSRs or perf events
 * itself, and it never sets power limits.  See docs/rapl-backend.md.
 *
 * Which zones become meters, and why:
 *   package-N            JB_KIND_CPU_PACKAGE "cpu-packageN": the whole socket (cores, uncore, LLC).
 *   dram (subzone of N)  JB_KIND_DRAM "dramN": the memory attached to package N.  DRAM is not part
 *                        of the package domain, so package + DRAM do not count anything twice.
 *   core, uncore         never: they are nested inside their package's energy (PP0/PP1 planes), so
 *                        adding them would count the same joules twice.
 *   psys                 never: the platform domain covers the package (and more) on the machines
 *                        that have it, so it would double count too; there is no meter spec for it.
 *   dram (top level)     some platforms register DRAM as a zone of its own; the k-th such zone (in
 *                        zone order) is "dramk", unless a subzone already gave that package a DRAM.
 * intel-rapl-mmio:N zones are the same package counters read through MMIO on some client CPUs
 * (processor_thermal_rapl); they are used only for packages that no intel-rapl (MSR or TPMI) zone
 * covers, so a package is never counted twice.  amd-rapl:N zones are accepted the same way as
 * intel-rapl:N ones, below them in priority (mainline kernels register AMD's RAPL as intel-rapl).
 *
 * The root (/sys/class/powercap) is taken from JOULEBENCH_POWERCAP_ROOT and /proc/cpuinfo from
 * JOULEBENCH_CPUINFO when set, so tests run on fake trees; the root is laid out like
 * /sys/class/powercap: every zone, subzones included, is an entry of the root itself.
 */
#include "meter.h"

#include "grow.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RAPL_DEFAULT_ROOT "/sys/class/powercap"
#define RAPL_DEFAULT_CPUINFO "/proc/cpuinfo"

/* Zone families, in priority order: a domain found in an earlier family hides the same domain of
 * a later one (the MMIO interface duplicates the MSR one). */
static const char *const rapl_prefixes[] = {"intel-rapl", "amd-rapl", "intel-rapl-mmio"};
#define RAPL_N_PREFIXES (sizeof(rapl_prefixes) / sizeof(rapl_prefixes[0]))

/* One powercap zone of the root, as found. */
struct rapl_zone {
    char dir[64];    /* entry name: "intel-rapl:0:1" */
    unsigned family; /* index into rapl_prefixes */
    long zone;       /* N of <prefix>:N */
    long sub;        /* M of <prefix>:N:M; -1 for a top-level zone */
    char name[64];   /* contents of the zone's name file */
};

/* One domain that may become a meter. */
struct rapl_domain {
    enum jb_meter_kind kind;
    unsigned family;
    long pkg;     /* package from "package-N"; for a top-level dram zone, its ordinal */
    long die;     /* die from "package-N-die-D"; -1 when the name has none */
    long num;     /* N of the meter id */
    int top_dram; /* a top-level "dram" zone */
    int use;      /* selected and readable: becomes a meter */
    char dir[64];
    uint64_t max_uj;
    uint64_t start_uj;
};

struct rapl_priv {
    pthread_mutex_t lock;
    char path[4096];      /* .../energy_uj */
    char hint_glob[4200]; /* the chmod hint's file patterns */
    uint64_t max_uj;      /* max_energy_range_uj: the counter runs 0..max_uj, then restarts at 0 */
    uint64_t prev_uj;     /* the last raw reading */
    uint64_t total_uj;    /* microjoules since open, wraps unfolded */
};

static const char *rapl_root(void)
{
    const char *r = getenv("JOULEBENCH_POWERCAP_ROOT");

    return r && *r ? r : RAPL_DEFAULT_ROOT;
}

/* The chmod hint names the zone family of the counter that could not be read. */
static void hint_glob(char *buf, size_t len, const char *root, const char *prefix)
{
    snprintf(buf, len, "%s/%s:*/energy_uj %s/%s:*/*/energy_uj", root, prefix, root, prefix);
}

/*
 * Reads a small sysfs file as an unsigned decimal.  Returns 0, or a negative code with a message:
 * JB_EACCES (with the chmod hint `hint`, when given), JB_ENODEV for a missing file (callers
 * reading a counter that was there turn it into JB_ELOST), JB_EPARSE, JB_EIO.
 */
static int read_u64(const char *path, const char *hint, uint64_t *out, struct jb_errbuf *err)
{
    char buf[64];
    ssize_t n;
    int fd, e;
    char *end;
    unsigned long long v;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        goto fail;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    e = errno;
    close(fd);
    if (n < 0)
        goto fail;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    errno = 0;
    v = strtoull(buf, &end, 10);
    if (buf[0] < '0' || buf[0] > '9' || *end || errno)
        return jb__err(err, JB_EPARSE, "malformed '%s': expected an unsigned integer, got '%.32s'",
                       path, buf);
    *out = (uint64_t)v;
    return 0;
fail:
    if (e == EACCES || e == EPERM) {
        if (hint)
            return jb__err(err, JB_EACCES,
                           "cannot read '%s': permission denied (run as root, or: sudo chmod o+r "
                           "%s)",
                           path, hint);
        return jb__err(err, JB_EACCES, "cannot read '%s': permission denied", path);
    }
    if (e == ENOENT)
        return jb__err(err, JB_ENODEV, "cannot read '%s': %s", path, strerror(e));
    return jb__err(err, JB_EIO, "cannot read '%s': %s", path, strerror(e));
}

/* Reads a one-line text file (a zone's name) into buf, newline stripped. */
static int read_line(const char *path, char *buf, size_t len, struct jb_errbuf *err)
{
    FILE *f = fopen(path, "re");
    size_t n;

    if (!f)
        return jb__err(err, errno == EACCES ? JB_EACCES : JB_EIO, "cannot read '%s': %s", path,
                       strerror(errno));
    if (!fgets(buf, (int)len, f)) {
        fclose(f);
        return jb__err(err, JB_EIO, "cannot read '%s': empty file", path);
    }
    fclose(f);
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return 0;
}

/* Parses a non-negative decimal at s; returns it and sets *end, or -1. */
static long parse_index(const char *s, const char **end)
{
    char *e;
    long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtol(s, &e, 10);
    if (errno || v < 0 || v > 1000000)
        return -1;
    *end = e;
    return v;
}

/* "intel-rapl:3" or "intel-rapl:3:1" (any family): fills z (not its name); 0 or -1. */
static int parse_zone_dir(const char *dir, struct rapl_zone *z)
{
    for (unsigned f = 0; f < RAPL_N_PREFIXES; f++) {
        size_t n = strlen(rapl_prefixes[f]);
        const char *p;

        if (strncmp(dir, rapl_prefixes[f], n) || dir[n] != ':')
            continue;
        z->zone = parse_index(dir + n + 1, &p);
        if (z->zone < 0)
            return -1;
        z->sub = -1;
        if (*p == ':') {
            z->sub = parse_index(p + 1, &p);
            if (z->sub < 0)
                return -1;
        }
        if (*p || strlen(dir) >= sizeof(z->dir))
            return -1;
        z->family = f;
        jb__strlcpy(z->dir, dir, sizeof(z->dir));
        return 0;
    }
    return -1;
}

/* "package-N" or "package-N-die-D": 0 and pkg/die (die -1 when absent), or -1. */
static int parse_package_name(const char *name, long *pkg, long *die)
{
    const char *p;

    if (strncmp(name, "package-", 8))
        return -1;
    *pkg = parse_index(name + 8, &p);
    if (*pkg < 0)
        return -1;
    *die = -1;
    if (!strncmp(p, "-die-", 5)) {
        *die = parse_index(p + 5, &p);
        if (*die < 0)
            return -1;
    }
    return *p ? -1 : 0;
}

static int zone_cmp(const void *a, const void *b)
{
    const struct rapl_zone *x = a, *y = b;

    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    if (x->zone != y->zone)
        return x->zone < y->zone ? -1 : 1;
    if (x->sub != y->sub)
        return x->sub < y->sub ? -1 : 1;
    return 0;
}

/* Meters in id order: packages first, then DRAM, each by number. */
static int domain_cmp(const void *a, const void *b)
{
    const struct rapl_domain *x = a, *y = b;

    if (x->kind != y->kind)
        return x->kind == JB_KIND_CPU_PACKAGE ? -1 : 1;
    if (x->num != y->num)
        return x->num < y->num ? -1 : 1;
    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    return 0;
}

/* Order packages by (package, die) to number multi-die parts. */
static int pkgdie_cmp(const void *a, const void *b)
{
    const struct rapl_domain *x = *(const struct rapl_domain *const *)a;
    const struct rapl_domain *y = *(const struct rapl_domain *const *)b;

    if (x->pkg != y->pkg)
        return x->pkg < y->pkg ? -1 : 1;
    if (x->die != y->die)
        return x->die < y->die ? -1 : 1;
    return 0;
}

/* The CPU model from /proc/cpuinfo's first "model name" line; "unknown CPU" without one. */
static void cpu_model(char *buf, size_t len)
{
    const char *path = getenv("JOULEBENCH_CPUINFO");
    char line[512];
    FILE *f;

    jb__strlcpy(buf, "unknown CPU", len);
    f = fopen(path && *path ? path : RAPL_DEFAULT_CPUINFO, "re");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        char *colon, *v, *e;

        if (strncmp(line, "model name", 10))
            continue;
        colon = strchr(line, ':');
        if (!colon)
            continue;
        v = colon + 1 + strspn(colon + 1, " \t");
        e = v + strlen(v);
        while (e > v && (e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            *--e = '\0';
        if (*v)
            jb__strlcpy(buf, v, len);
        break;
    }
    fclose(f);
}

/* ---- reads ------------------------------------------------------------------------------- */

static int rapl_read_sample(struct jb_meter *m, struct jb_sample *s, struct jb_errbuf *err)
{
    (void)m;
    (void)err;
    /* RAPL has no power gauge: power comes from differencing the counter, which the phases code
     * and the sampler's consumers do from energy readings.  Nothing here is valid. */
    s->t_mono_ns = jb_now_ns();
    s->valid = 0;
    return 0;
}

/*
 * The kernel's energy_uj is the 32-bit hardware counter times the energy unit: it runs from 0 to
 * max_energy_range_uj (the counter's all-ones value) and then starts again at 0.  A reading below
 * the previous one therefore means one wrap, and the energy since the previous reading is
 * (max - prev) + cur + 1.  The true step across the wrap is one energy unit (2^-14 J = 61 uJ on
 * most Intel parts), which powercap does not expose, so each wrap may be undercounted by < 0.1 mJ.
 * Two wraps between readings cannot be told from one: at 100 W the usual 262 kJ range lasts about
 * 44 minutes, the 65.5 kJ range of AMD and some DRAM domains about 11 minutes, far longer than the
 * sampler's interval (100 ms by default).  A counter reset (driver reload) reads as a wrap too.
 */
static int rapl_read_energy(struct jb_meter *m, struct jb_energy *e, struct jb_errbuf *err)
{
    struct rapl_priv *p = m->priv;
    uint64_t cur, t0, t1;
    int rc;

    pthread_mutex_lock(&p->lock);
    t0 = jb_now_ns();
    rc = read_u64(p->path, p->hint_glob, &cur, err);
    t1 = jb_now_ns();
    if (rc == JB_ENODEV) {
        rc = jb__err(err, JB_ELOST, "RAPL counter '%s' went away (powercap driver unloaded?)",
                     p->path);
        goto out;
    }
    if (rc < 0)
        goto out;
    if (cur > p->max_uj) {
        rc = jb__err(err, JB_ERANGE, "'%s' reads %llu, above its max_energy_range_uj %llu", p->path,
                     (unsigned long long)cur, (unsigned long long)p->max_uj);
        goto out;
    }
    if (cur >= p->prev_uj)
        p->total_uj += cur - p->prev_uj;
    else
        p->total_uj += (p->max_uj - p->prev_uj) + cur + 1;
    p->prev_uj = cur;
    /* The read itself takes microseconds; stamp it at its middle. */
    e->t_mono_ns = t0 + (t1 - t0) / 2;
    e->energy_j = (double)p->total_uj / 1e6;
out:
    pthread_mutex_unlock(&p->lock);
    return rc;
}

static void rapl_close(struct jb_meter *m)
{
    struct rapl_priv *p = m->priv;

    if (p) {
        pthread_mutex_destroy(&p->lock);
        free(p);
    }
    m->priv = NULL;
}

static const struct jb_meter_ops rapl_ops = {rapl_read_sample, rapl_read_energy, rapl_close};

/* ---- discovery --------------------------------------------------------------------------- */

struct rapl_scan {
    struct rapl_zone *zones;
    size_t n_zones;
    struct rapl_domain *doms;
    size_t n_doms;
};

static void scan_free(struct rapl_scan *s)
{
    free(s->zones);
    free(s->doms);
}

/* Lists the root's zones and reads their names.  A missing root is not an error (no zones). */
static int list_zones(struct jb_meter_set *set, const char *root, struct rapl_scan *s,
                      struct jb_errbuf *err)
{
    DIR *d = opendir(root);
    struct dirent *de;
    size_t cap = 0;
    int rc = 0;

    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return jb__err(err, errno == EACCES ? JB_EACCES : JB_EIO, "cannot open '%s': %s", root,
                       strerror(errno));
    }
    while ((de = readdir(d))) {
        struct rapl_zone z;
        struct jb_errbuf zerr = {{0}};
        char path[4200];

        memset(&z, 0, sizeof(z));
        if (parse_zone_dir(de->d_name, &z) < 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s/name", root, z.dir);
        if (read_line(path, z.name, sizeof(z.name), &zerr) < 0) {
            /* A zone without a readable name cannot be classified; say so, but go on. */
            jb__meter_set_notef(set, "skipped RAPL zone '%s/%s': %s", root, z.dir, zerr.msg);
            continue;
        }
        if (JB_GROW(s->zones, cap, s->n_zones) < 0) {
            rc = jb__err(err, JB_ENOMEM, "out of memory listing '%s'", root);
            break;
        }
        s->zones[s->n_zones++] = z;
    }
    closedir(d);
    if (s->n_zones)
        qsort(s->zones, s->n_zones, sizeof(*s->zones), zone_cmp);
    return rc;
}

static const struct rapl_zone *find_parent(const struct rapl_scan *s, const struct rapl_zone *z)
{
    for (size_t i = 0; i < s->n_zones; i++) {
        const struct rapl_zone *p = &s->zones[i];
        if (p->family == z->family && p->zone == z->zone && p->sub < 0)
            return p;
    }
    return NULL;
}

/* Is there already a domain of this kind, package and die (from an earlier zone family)? */
static int have_domain(const struct rapl_scan *s, enum jb_meter_kind kind, long pkg, long die,
                       int top_dram)
{
    for (size_t i = 0; i < s->n_doms; i++) {
        const struct rapl_domain *d = &s->doms[i];
        if (d->kind == kind && d->pkg == pkg && d->die == die && d->top_dram == top_dram)
            return 1;
    }
    return 0;
}

/* Turns zones into the domains that become meters, numbered as their ids will be. */
static int make_domains(struct rapl_scan *s, struct jb_errbuf *err)
{
    long n_top_dram[RAPL_N_PREFIXES] = {0};
    struct rapl_domain **pk = NULL;
    size_t n_pk = 0;
    int multi_die = 0;

    s->doms = calloc(s->n_zones ? s->n_zones : 1, sizeof(*s->doms));
    if (!s->doms)
        return jb__err(err, JB_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->n_zones; i++) {
        const struct rapl_zone *z = &s->zones[i];
        struct rapl_domain d;

        memset(&d, 0, sizeof(d));
        d.family = z->family;
        jb__strlcpy(d.dir, z->dir, sizeof(d.dir));
        if (z->sub < 0 && !parse_package_name(z->name, &d.pkg, &d.die)) {
            d.kind = JB_KIND_CPU_PACKAGE;
        } else if (z->sub < 0 && !strcmp(z->name, "dram")) {
            d.kind = JB_KIND_DRAM;
            d.top_dram = 1;
            d.pkg = n_top_dram[z->family]++;
            d.die = -1;
        } else if (z->sub >= 0 && !strcmp(z->name, "dram")) {
            const struct rapl_zone *par = find_parent(s, z);
            d.kind = JB_KIND_DRAM;
            if (!par || parse_package_name(par->name, &d.pkg, &d.die) < 0)
                continue; /* DRAM under something other than a package: not ours to name */
        } else {
            continue; /* psys, core, uncore, unknown: see the top of this file */
        }
        if (have_domain(s, d.kind, d.pkg, d.die, d.top_dram))
            continue; /* the same counter through a lower-priority interface (MMIO) */
        s->doms[s->n_doms++] = d;
    }

    /* Ids: cpu-packageN with N the package number, unless the parts have several dies per
     * package ("package-0-die-1"): then N counts the (package, die) pairs in order. */
    pk = calloc(s->n_doms ? s->n_doms : 1, sizeof(*pk));
    if (!pk)
        return jb__err(err, JB_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->n_doms; i++) {
        if (s->doms[i].kind == JB_KIND_CPU_PACKAGE) {
            pk[n_pk++] = &s->doms[i];
            multi_die |= s->doms[i].die >= 0;
        }
    }
    qsort(pk, n_pk, sizeof(*pk), pkgdie_cmp);
    for (size_t i = 0; i < n_pk; i++)
        pk[i]->num = multi_die ? (long)i : pk[i]->pkg;
    for (size_t i = 0; i < s->n_doms; i++) {
        struct rapl_domain *d = &s->doms[i];
        if (d->kind != JB_KIND_DRAM)
            continue;
        d->num = d->pkg;
        if (d->top_dram)
            continue;
        for (size_t j = 0; j < n_pk; j++)
            if (pk[j]->pkg == d->pkg && pk[j]->die == d->die)
                d->num = pk[j]->num;
    }
    free(pk);
    /* A top-level DRAM zone whose number a subzone DRAM already has is dropped (same id). */
    for (size_t i = 0; i < s->n_doms; i++) {
        const struct rapl_domain *d = &s->doms[i];
        int dup = 0;
        if (!d->top_dram)
            continue;
        for (size_t j = 0; j < s->n_doms; j++)
            dup |= j != i && s->doms[j].kind == JB_KIND_DRAM && !s->doms[j].top_dram &&
                   s->doms[j].num == d->num;
        if (dup) {
            memmove(&s->doms[i], &s->doms[i + 1], (s->n_doms - i - 1) * sizeof(*s->doms));
            s->n_doms--;
            i--;
        }
    }
    if (s->n_doms)
        qsort(s->doms, s->n_doms, sizeof(*s->doms), domain_cmp);
    return 0;
}

static void domain_id(const struct rapl_domain *d, char *buf, size_t len)
{
    snprintf(buf, len, "%s%ld", d->kind == JB_KIND_CPU_PACKAGE ? "cpu-package" : "dram", d->num);
}

/* Reads the domain's range and a first counter value; 0 or a code with the message in err. */
static int probe(const char *root, struct rapl_domain *d, struct jb_errbuf *err)
{
    char path[4200], hint[4200];
    int rc;

    hint_glob(hint, sizeof(hint), root, rapl_prefixes[d->family]);
    snprintf(path, sizeof(path), "%s/%s/max_energy_range_uj", root, d->dir);
    rc = read_u64(path, NULL, &d->max_uj, err);
    if (rc < 0)
        return rc;
    if (d->max_uj == 0)
        return jb__err(err, JB_EPARSE, "malformed '%s': the range must be above 0", path);
    snprintf(path, sizeof(path), "%s/%s/energy_uj", root, d->dir);
    rc = read_u64(path, hint, &d->start_uj, err);
    if (rc < 0)
        return rc;
    if (d->start_uj > d->max_uj)
        return jb__err(err, JB_ERANGE, "'%s' reads %llu, above its max_energy_range_uj %llu", path,
                       (unsigned long long)d->start_uj, (unsigned long long)d->max_uj);
    return 0;
}

static int add_meter(struct jb_meter_set *set, const char *root, const char *model,
                     const struct rapl_domain *d)
{
    struct jb_meter *m = jb__meter_new(&rapl_ops);
    struct rapl_priv *p = calloc(1, sizeof(*p));
    struct jb_meter_info *in;

    if (!m || !p) {
        free(p);
        jb__meter_free(m);
        return jb__meter_set_fail(set, JB_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&p->lock, NULL);
    snprintf(p->path, sizeof(p->path), "%s/%s/energy_uj", root, d->dir);
    hint_glob(p->hint_glob, sizeof(p->hint_glob), root, rapl_prefixes[d->family]);
    p->max_uj = d->max_uj;
    p->prev_uj = d->start_uj;
    m->priv = p;

    in = &m->info;
    domain_id(d, in->id, sizeof(in->id));
    in->kind = d->kind;
    jb__strlcpy(in->source, "rapl", sizeof(in->source));
    if (d->kind == JB_KIND_CPU_PACKAGE && d->die >= 0)
        snprintf(in->name, sizeof(in->name), "%.80s package %ld die %ld", model, d->pkg, d->die);
    else
        snprintf(in->name, sizeof(in->name), "%.80s %s %ld", model,
                 d->kind == JB_KIND_CPU_PACKAGE ? "package" : "DRAM", d->num);
    in->device_index = (int)d->num;
    in->caps = JB_CAP_ENERGY;
    /* The counter restarts after max_uj + 1 microjoules (see rapl_read_energy). */
    in->max_energy_range_j = (double)d->max_uj / 1e6;
    return jb__meter_set_append(set, m);
}

int jb__rapl_add(struct jb_meter_set *set, const char *id, int optional)
{
    const char *root = rapl_root();
    struct rapl_scan s = {0};
    char model[128], found[512] = "", bad_rest[512] = "";
    struct jb_errbuf err = {{0}};
    int n_bad = 0, n_sel = 0, rc;
    size_t used = 0, used_bad = 0;

    rc = list_zones(set, root, &s, &err);
    if (rc < 0)
        goto fail_or_note;
    rc = make_domains(&s, &err);
    if (rc < 0)
        goto fail_or_note;
    if (!s.n_doms) {
        rc = jb__err(&err, JB_ENODEV,
                     "no RAPL domains found in '%s' (not an x86 CPU with RAPL, the intel_rapl_msr "
                     "module not loaded, or powercap hidden in a container)",
                     root);
        goto fail_or_note;
    }

    /* Select, then probe every selected domain before adding any: a required set either gets all
     * of them or fails with the first reason. */
    for (size_t i = 0; i < s.n_doms; i++) {
        struct rapl_domain *d = &s.doms[i];
        struct jb_errbuf derr = {{0}};
        char did[32];
        int drc;

        domain_id(d, did, sizeof(did));
        if (used < sizeof(found))
            used +=
                (size_t)snprintf(found + used, sizeof(found) - used, "%s%s", used ? ", " : "", did);
        if (id && strcmp(id, did))
            continue;
        n_sel++;
        drc = probe(root, d, &derr);
        if (drc < 0) {
            if (!n_bad++) {
                err = derr;
                rc = drc;
            } else if (used_bad < sizeof(bad_rest)) {
                used_bad += (size_t)snprintf(bad_rest + used_bad, sizeof(bad_rest) - used_bad,
                                             "%s%s", used_bad ? ", " : "", did);
            }
            continue;
        }
        d->use = 1;
    }
    if (id && !n_sel) {
        rc = jb__meter_set_fail(set, JB_ENODEV, "no RAPL domain '%s' in '%s' (found: %s)", id, root,
                                found);
        goto out;
    }
    if (n_bad) {
        if (!optional)
            goto fail_or_note;
        /* Under auto: say why, add what can be read (never a meter that would read zeros). */
        jb__meter_set_notef(set, "%s", err.msg);
        if (n_bad > 1)
            jb__meter_set_notef(set, "RAPL domains not read either: %s", bad_rest);
    }
    cpu_model(model, sizeof(model));
    rc = 0;
    for (size_t i = 0; i < s.n_doms && rc == 0; i++)
        if (s.doms[i].use)
            rc = add_meter(set, root, model, &s.doms[i]);
    goto out;

fail_or_note:
    if (optional && rc != JB_ENOMEM) {
        jb__meter_set_notef(set, "%s", err.msg);
        rc = 0;
    } else {
        rc = jb__meter_set_fail(set, rc, "%s", err.msg);
    }
out:
    scan_free(&s);
    return rc;
}
