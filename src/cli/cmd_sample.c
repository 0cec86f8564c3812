/*
 * cmd_sample.c - 'joulebench sample': the nvidia-smi --query-gpu ... -lms replacement.  Streams
 * every meter's gauges (and energy-counter readings) as CSV or JSON lines until --duration
 * elapses or SIGINT/SIGTERM arrives; then flushes and exits 0.  Units are in the column names,
 * never in the values; an unavailable value is an empty cell (CSV) or absent (JSON lines).  Every
 * row says whether its meter is simulated (CSV column "simulated", JSON "simulated": true|false),
 * so that a simulated reading is never taken for a measurement once the file is on its own.
 */
#include "cli/cli.h"
#include "cli/cli_meters.h"
#include "list.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char usage_line[] =
    "joulebench sample [-i MS] [-E MS|0] [-m METERS] [--fields LIST] [-o FILE] "
    "[--format csv|jsonl] [--duration S]";

struct sink {
    FILE *out;
    int jsonl;
    struct jb_meter_set *set;
    uint64_t t0_ns;
    struct timespec t0_utc;
    pthread_mutex_t lock;
    int write_error;
    int meter_failed;
};

/* Wall-clock time of a monotonic timestamp, from the one anchor taken at start. */
static void utc_of(const struct sink *s, uint64_t t_ns, char *buf, size_t n)
{
    struct timespec ts = s->t0_utc;
    struct tm tm;
    uint64_t ns = (uint64_t)ts.tv_nsec + (t_ns - s->t0_ns);

    ts.tv_sec += (time_t)(ns / 1000000000ull);
    ts.tv_nsec = (long)(ns % 1000000000ull);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

struct field {
    uint32_t bit;
    const char *name;
    const char *fmt;
    size_t offset;
};

#define F(bit, name, fmt, member)                                                                  \
    {                                                                                              \
        bit, name, fmt, offsetof(struct jb_sample, member)                                         \
    }
static const struct field fields[] = {
    F(JB_CAP_POWER, "power_w", "%.3f", power_w),
    F(JB_CAP_TEMP, "temp_c", "%.1f", temp_c),
    F(JB_CAP_UTIL, "util_pct", "%.0f", util_pct),
    F(JB_CAP_MEM_UTIL, "mem_util_pct", "%.0f", mem_util_pct),
    F(JB_CAP_MEM_USED, "mem_used_mib", "%.0f", mem_used_mib),
    F(JB_CAP_SM_CLOCK, "sm_clock_mhz", "%.0f", sm_clock_mhz),
    F(JB_CAP_MEM_CLOCK, "mem_clock_mhz", "%.0f", mem_clock_mhz),
    F(JB_CAP_POWER_INSTANT, "power_instant_w", "%.3f", power_instant_w),
};
#undef F
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static int meter_simulated(const struct sink *s, size_t i)
{
    return jb_meter_get_info(jb_meter_set_get(s->set, i))->simulated != 0;
}

static double field_value(const struct jb_sample *s, const struct field *f)
{
    double v;
    memcpy(&v, (const char *)s + f->offset, sizeof(v));
    return v;
}

static void on_sample(void *user, size_t i, const struct jb_sample *smp)
{
    struct sink *s = user;
    const struct jb_meter_info *m = jb_meter_get_info(jb_meter_set_get(s->set, i));
    char utc[64];

    utc_of(s, smp->t_mono_ns, utc, sizeof(utc));
    pthread_mutex_lock(&s->lock);
    if (s->jsonl) {
        fprintf(s->out, "{\"time_utc\":\"%s\",\"t_s\":%.6f,\"meter\":\"%s\"", utc,
                (double)(smp->t_mono_ns - s->t0_ns) / 1e9, m->id);
        for (size_t k = 0; k < N_FIELDS; k++) {
            if (!(smp->valid & fields[k].bit))
                continue;
            fprintf(s->out, ",\"%s\":", fields[k].name);
            fprintf(s->out, fields[k].fmt, field_value(smp, &fields[k]));
        }
        fprintf(s->out, ",\"simulated\":%s}\n", meter_simulated(s, i) ? "true" : "false");
    } else {
        fprintf(s->out, "%s,%.6f,%s,", utc, (double)(smp->t_mono_ns - s->t0_ns) / 1e9, m->id);
        for (size_t k = 0; k < N_FIELDS; k++) {
            if (k == 1)
                fputc(',', s->out); /* energy_j column: counter rows only */
            if (smp->valid & fields[k].bit)
                fprintf(s->out, fields[k].fmt, field_value(smp, &fields[k]));
            fputc(',', s->out);
        }
        fputs(meter_simulated(s, i) ? "true\n" : "false\n", s->out);
    }
    if (ferror(s->out))
        s->write_error = errno ? errno : EIO;
    pthread_mutex_unlock(&s->lock);
}

static void on_energy(void *user, size_t i, const struct jb_energy *e)
{
    struct sink *s = user;
    const struct jb_meter_info *m = jb_meter_get_info(jb_meter_set_get(s->set, i));
    char utc[64];

    utc_of(s, e->t_mono_ns, utc, sizeof(utc));
    pthread_mutex_lock(&s->lock);
    if (s->jsonl)
        fprintf(s->out,
                "{\"time_utc\":\"%s\",\"t_s\":%.6f,\"meter\":\"%s\",\"energy_j\":%.6f,"
                "\"simulated\":%s}\n",
                utc, (double)(e->t_mono_ns - s->t0_ns) / 1e9, m->id, e->energy_j,
                m->simulated ? "true" : "false");
    else
        fprintf(s->out, "%s,%.6f,%s,,%.6f,,,,,,,,%s\n", utc,
                (double)(e->t_mono_ns - s->t0_ns) / 1e9, m->id, e->energy_j,
                m->simulated ? "true" : "false");
    if (ferror(s->out))
        s->write_error = errno ? errno : EIO;
    pthread_mutex_unlock(&s->lock);
}

static void on_error(void *user, size_t i, int code, const char *msg)
{
    struct sink *s = user;
    const struct jb_meter_info *m = jb_meter_get_info(jb_meter_set_get(s->set, i));

    cli_error("meter %s stopped: %s (%s); samples so far are kept", m->id,
              msg && *msg ? msg : jb_strerror(code), jb_strerror(code));
    s->meter_failed = 1;
}

/* "power,temp" -> JB_CAP_POWER | JB_CAP_TEMP; -1 on an unknown name. */
static int parse_fields(const char *list, uint32_t *mask)
{
    const char *p = list;

    *mask = 0;
    while (p && *p) { /* a trailing comma ends the list */
        char tok[32];
        size_t n = jb__list_next(&p, tok, sizeof(tok), 0);
        uint32_t bit;
        for (bit = 1; bit; bit <<= 1) {
            const char *name = jb_cap_name(bit);
            if (name && bit != JB_CAP_ENERGY && bit != JB_CAP_THROTTLE && strlen(name) == n &&
                !strcmp(tok, name))
                break;
        }
        if (!bit)
            return -1;
        *mask |= bit;
    }
    return *mask ? 0 : -1;
}

static void on_stop_signal(int sig)
{
    (void)sig; /* never runs: the signal is blocked and taken by sigtimedwait */
}

static void print_help(void)
{
    printf("usage: %s\n\n"
           "Samples every meter until --duration or Ctrl-C, as CSV (default) or JSON\n"
           "lines.  Columns: time_utc,t_s,meter,power_w,energy_j,temp_c,util_pct,\n"
           "mem_util_pct,mem_used_mib,sm_clock_mhz,mem_clock_mhz,power_instant_w,simulated\n"
           "(true for a simulated meter: not a measurement).\n\n"
           "  -i, --interval MS         gauge sampling interval (10..60000; default 100)\n"
           "  -E, --energy-interval MS  also energy_j rows from the energy counter (joules\n"
           "                            since the meter was opened) every MS ms\n"
           "                            (10..60000); 0 or not given: no counter is read\n"
           "                            at all (one read costs ~4 ms of CPU on NVML)\n"
           "  -m, --meters SPEC         auto (default), gpu, gpuN, cpu, sim, sim:const=W,\n"
           "                            sim:square=LOW:HIGH:PERIOD_MS:DUTY, sim:trace=FILE\n"
           "      --fields LIST         read only these gauges (power, power_instant,\n"
           "                            temp, util, mem_util, mem_used, sm_clock,\n"
           "                            mem_clock): each is one more NVML call\n"
           "  -o, --output FILE         write to FILE (default: standard output)\n"
           "  -f, --format csv|jsonl    CSV with a header (default) or JSON lines\n"
           "  -d, --duration S          stop after S seconds (default: at Ctrl-C)\n"
           "  -h, --help                this text\n",
           usage_line);
}

/* What the command line asks for. */
struct sample_args {
    struct jb_sampler_opts so;
    const char *spec, *path, *field_list;
    int jsonl;
    double duration_s;
};

/* Parses the options into *a: -1 to go on, else the exit status to return. */
static int parse_args(int argc, char **argv, struct sample_args *a)
{
    static const struct option longopts[] = {
        {"interval", required_argument, NULL, 'i'},
        {"energy-interval", required_argument, NULL, 'E'},
        {"meters", required_argument, NULL, 'm'},
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"duration", required_argument, NULL, 'd'},
        {"fields", required_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    long l;

    memset(a, 0, sizeof(*a));
    jb_sampler_opts_init(&a->so);
    a->spec = "auto";
    /* Gauges only unless -E asks for counter rows: one NVML counter read costs ~4 ms of CPU on
     * an H200, 40x what a full set of gauges costs (docs/BENCHMARKS.md). */
    a->so.energy_on_demand = 1;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "i:E:m:o:f:d:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'E':
            if (!strcmp(optarg, "0")) {
                a->so.energy_on_demand = 1;
                break;
            }
            /* fall through */
        case 'i':
            if (cli_parse_long(optarg, 10, 60000, &l) < 0)
                return cli_usage_error(usage_line,
                                       "bad %s '%s': expected milliseconds in 10..60000",
                                       opt == 'i' ? "interval" : "energy interval", optarg);
            if (opt == 'i') {
                a->so.interval_ms = (unsigned)l;
            } else {
                a->so.energy_interval_ms = (unsigned)l;
                a->so.energy_on_demand = 0;
            }
            break;
        case 'm': a->spec = optarg; break;
        case 'o': a->path = optarg; break;
        case 'f':
            if (!strcmp(optarg, "jsonl"))
                a->jsonl = 1;
            else if (strcmp(optarg, "csv"))
                return cli_usage_error(usage_line, "bad format '%s': expected csv or jsonl",
                                       optarg);
            break;
        case 'F': a->field_list = optarg; break;
        case 'd':
            if (cli_parse_double(optarg, 0.001, 1e8, &a->duration_s) < 0)
                return cli_usage_error(usage_line, "bad duration '%s': expected seconds > 0",
                                       optarg);
            break;
        case 'h': print_help(); return JB_EXIT_OK;
        default:
            return cli_usage_error(usage_line, "unknown or incomplete option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(usage_line, "unexpected argument '%s'", argv[optind]);
    return -1;
}

/* Waits for --duration or a stop signal, flushing the output every second. */
static void sample_until_stopped(struct sink *s, const sigset_t *sigs, double duration_s)
{
    for (;;) {
        struct timespec wait = {1, 0};
        uint64_t now = jb_now_ns();
        double left = duration_s - (double)(now - s->t0_ns) / 1e9;
        if (duration_s > 0 && left <= 0)
            break;
        if (duration_s > 0 && left < 1) {
            wait.tv_sec = 0;
            wait.tv_nsec = (long)(left * 1e9);
        }
        if (sigtimedwait(sigs, NULL, &wait) > 0)
            break;
        pthread_mutex_lock(&s->lock);
        fflush(s->out); /* every sample taken is on disk within a second */
        pthread_mutex_unlock(&s->lock);
        if (s->write_error)
            break;
    }
}

/* Opens the meters of SPEC with the readings MASK allows; NULL after a message. */
static struct jb_meter_set *open_sampled_meters(const char *spec, uint32_t mask)
{
    struct jb_meter_set *set = cli_open_meters(spec);
    if (!set)
        return NULL;
    if (!jb_meter_set_count(set)) {
        jb_meter_set_free(set);
        cli_error("no meter to sample (no NVIDIA GPU and no readable RAPL domain; "
                  "-m sim for a simulated meter)");
        return NULL;
    }
    for (size_t i = 0; i < jb_meter_set_count(set); i++)
        jb_meter_set_read_mask(jb_meter_set_get(set, i), mask);
    for (size_t i = 0; i < jb_meter_set_count(set); i++)
        if (jb_meter_get_info(jb_meter_set_get(set, i))->simulated)
            cli_note("meter %s is SIMULATED: its values are not measurements",
                     jb_meter_get_info(jb_meter_set_get(set, i))->id);
    return set;
}

int cmd_sample(int argc, char **argv)
{
    struct sample_args a;
    struct jb_sampler *sampler = NULL;
    struct jb_meter_set *set = NULL;
    struct sink s;
    const char *path;
    uint32_t mask = ~0u;
    struct sigaction sa, old_int, old_term;
    sigset_t sigs, old;
    int rc, status = JB_EXIT_FAIL;

    rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    path = a.path;
    memset(&s, 0, sizeof(s));
    s.jsonl = a.jsonl;
    if (a.field_list && parse_fields(a.field_list, &mask) < 0)
        return cli_usage_error(usage_line,
                               "bad --fields '%s': expected a comma list of power, "
                               "power_instant, temp, util, mem_util, mem_used, sm_clock, "
                               "mem_clock",
                               a.field_list);
    /* The counter only when -E asks for rows of it: a read costs ~4 ms of CPU on an H200. */
    if (a.so.energy_on_demand)
        mask &= ~JB_CAP_ENERGY;
    else
        mask |= JB_CAP_ENERGY;
    set = open_sampled_meters(a.spec, mask);
    if (!set)
        return JB_EXIT_FAIL;
    /* Signals are taken synchronously by this thread; the sampler threads inherit the mask.  A
     * handler is installed first because a shell starts background jobs with SIGINT ignored,
     * and an ignored signal never becomes pending for sigtimedwait. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, &old);

    s.out = path ? fopen(path, "w") : stdout;
    if (!s.out) {
        cli_error("cannot create '%s': %s", path, strerror(errno));
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        jb_meter_set_free(set);
        return JB_EXIT_FAIL;
    }
    s.set = set;
    pthread_mutex_init(&s.lock, NULL);
    if (!s.jsonl)
        fputs("time_utc,t_s,meter,power_w,energy_j,temp_c,util_pct,mem_util_pct,mem_used_mib,"
              "sm_clock_mhz,mem_clock_mhz,power_instant_w,simulated\n",
              s.out);

    s.t0_ns = jb_now_ns();
    clock_gettime(CLOCK_REALTIME, &s.t0_utc);
    a.so.on_sample = on_sample;
    a.so.on_energy = on_energy;
    a.so.on_error = on_error;
    a.so.user = &s;
    rc = jb_sampler_start(&sampler, set, &a.so);
    if (rc < 0) {
        cli_error("cannot start sampling: %s", jb_strerror(rc));
        goto out;
    }
    sample_until_stopped(&s, &sigs, a.duration_s);
    jb_sampler_stop(sampler);
    sampler = NULL;
    if (fflush(s.out) != 0 || s.write_error) {
        cli_error("cannot write '%s': %s", path ? path : "standard output",
                  strerror(s.write_error ? s.write_error : errno));
        goto out;
    }
    status = s.meter_failed ? JB_EXIT_FAIL : JB_EXIT_OK;
out:
    jb_sampler_stop(sampler);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (path && s.out && fclose(s.out) != 0 && status == JB_EXIT_OK)
        status = cli_error("cannot write '%s': %s", path, strerror(errno));
    pthread_mutex_destroy(&s.lock);
    jb_meter_set_free(set);
    return status;
}
