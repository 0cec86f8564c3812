/*
 * cmd_stat.c - 'joulebench stat': run a command and report the energy it used, like perf stat.
 * The command runs without a shell; SIGINT/SIGTERM are forwarded; the exit status is the
 * command's (128+N when killed by signal N).  The table goes to stderr (as perf stat's does) so
 * the command's own stdout stays clean; --json and -o write files.
 */
#include "cli/cli.h"

#include "run/measure.h"
#include "run/measure_sum.h"
#include "util/fsutil.h"
#include "util/jsonw.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char usage_line[] =
    "joulebench stat [-i MS] [-E MS] [-m METERS] [--idle S] [--timeout S] [--json FILE] "
    "[-o RUNDIR] [-q] -- CMD [ARGS...]";

static void print_help(void)
{
    printf("usage: %s\n\n"
           "Runs CMD (no shell) and reports per meter its energy (J, and where it came from),\n"
           "average and peak power, duration, and a table of the phases the command marked\n"
           "through JOULEBENCH_FD.  Exits with CMD's status (128+N if killed by signal N).\n\n"
           "  -i, --interval MS         power/temperature/... sampling interval (10..60000; 100)\n"
           "  -E, --energy-interval MS  energy-counter reading interval (10..60000; 100)\n"
           "  -m, --meters SPEC         auto (default), gpu, gpuN, cpu, sim, sim:const=W,\n"
           "                            sim:square=LOW:HIGH:PERIOD_MS:DUTY, sim:trace=FILE\n"
           "      --idle S              sample S seconds before CMD: idle power, net energy\n"
           "      --timeout S           stop CMD after S seconds (SIGTERM, SIGKILL 10 s later)\n"
           "      --json FILE           write the results as JSON\n"
           "  -o, --output RUNDIR       write a run directory (samples, phases, metrics, logs)\n"
           "  -q, --quiet               no table on stderr\n",
           usage_line);
}

static void warn_cb(void *user, const char *msg)
{
    (void)user;
    cli_warn("%s", msg);
}

static void fmt_num(char *buf, size_t n, double v, const char *fmt)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, fmt, v);
}

static void print_table(char *const *argv, const struct measure_result *r)
{
    char a[32], b[32], c[32], d[32], e[32];
    int any_sim = 0;

    fprintf(stderr, "\n joulebench stat for '");
    for (size_t i = 0; argv[i]; i++)
        fprintf(stderr, "%s%s", i ? " " : "", argv[i]);
    fprintf(stderr, "': %s, exit status %d\n\n", measure_status_name(r->status), r->exit_status);
    fprintf(stderr, "  %-14s %14s  %-15s %10s %10s %14s\n", "meter", "energy_J", "source", "avg_W",
            "peak_W", "net_J");
    for (size_t i = 0; i < r->n_meters; i++) {
        const struct measure_meter_total *t = &r->meters[i];
        fmt_num(a, sizeof(a), t->energy_j, "%.3f");
        fmt_num(b, sizeof(b), t->avg_power_w, "%.2f");
        fmt_num(c, sizeof(c), t->peak_power_w, "%.2f");
        fmt_num(d, sizeof(d), t->net_energy_j, "%.3f");
        fprintf(stderr, "  %-14s %14s  %-15s %10s %10s %14s%s\n", t->id, a, t->energy_source, b, c,
                d, t->simulated ? "  SIMULATED" : "");
        any_sim |= t->simulated;
    }
    if (r->n_phases > r->n_meters) {
        fprintf(stderr, "\n  %-10s %6s %-14s %12s %14s %16s %10s %10s\n", "phase", "index", "meter",
                "duration_s", "energy_J", "energy_J_power", "avg_W", "items");
        for (size_t i = 0; i < r->n_phases; i++) {
            const struct jb_phase_result *p = &r->phases[i];
            double dur = (double)(p->t_end_ns - p->t_begin_ns) / 1e9;
            double en = (p->valid & JB_PHASE_ENERGY) ? p->energy_j : NAN;
            double ep = (p->valid & JB_PHASE_ENERGY_POWER) ? p->energy_j_power : NAN;
            double best = !isnan(en) ? en : ep;
            if (!strcmp(p->phase, "command"))
                continue;
            fmt_num(a, sizeof(a), dur, "%.3f");
            fmt_num(b, sizeof(b), en, "%.3f");
            fmt_num(c, sizeof(c), ep, "%.3f");
            fmt_num(d, sizeof(d), dur > 0 ? best / dur : NAN, "%.2f");
            fmt_num(e, sizeof(e), (p->valid & JB_PHASE_ITEMS) ? p->items : NAN, "%.0f");
            fprintf(stderr, "  %-10s %6ld %-14s %12s %14s %16s %10s %10s%s\n", p->phase, p->index,
                    r->meters[p->meter].id, a, b, c, d, e,
                    (p->valid & JB_PHASE_PARTIAL) ? "  (partial)" : "");
        }
    }
    fprintf(stderr, "\n  %.3f seconds elapsed\n", r->duration_s);
    if (any_sim)
        fprintf(stderr, "  SIMULATED meter: these figures are not a measurement.\n");
    if (r->n_protocol_errors)
        fprintf(stderr, "  %zu malformed protocol line(s) skipped\n", r->n_protocol_errors);
    fputc('\n', stderr);
}

static int write_json(const char *path, const struct measure_result *r)
{
    struct strbuf sb = STRBUF_INIT;
    struct jsonw w;
    char err[512];
    int rc;

    jw_init(&w, &sb, 1);
    jw_object_begin(&w);
    jw_kv_number(&w, "duration_s", r->duration_s);
    jw_key(&w, "exit_status");
    r->exit_status >= 0 ? jw_int(&w, r->exit_status) : jw_null(&w);
    jw_kv_string(&w, "status", measure_status_name(r->status));
    jw_key(&w, "meters");
    jw_array_begin(&w);
    for (size_t i = 0; i < r->n_meters; i++) {
        const struct measure_meter_total *t = &r->meters[i];
        jw_object_begin(&w);
        jw_kv_string(&w, "id", t->id);
        jw_kv_string(&w, "name", t->name);
        jw_kv_bool(&w, "simulated", t->simulated);
        jw_kv_number(&w, "energy_j", t->energy_j);
        jw_kv_string(&w, "energy_source", t->energy_source);
        jw_kv_number(&w, "energy_j_power", t->energy_j_power);
        jw_kv_number(&w, "avg_power_w", t->avg_power_w);
        jw_kv_number(&w, "peak_power_w", t->peak_power_w);
        if (!isnan(t->net_energy_j)) {
            jw_kv_number(&w, "idle_power_w", t->idle_power_w);
            jw_kv_number(&w, "net_energy_j", t->net_energy_j);
        }
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_key(&w, "phases");
    jw_array_begin(&w);
    for (size_t i = 0; i < r->n_phases; i++) {
        const struct jb_phase_result *p = &r->phases[i];
        double dur = (double)(p->t_end_ns - p->t_begin_ns) / 1e9;
        jw_object_begin(&w);
        jw_kv_string(&w, "phase", p->phase);
        jw_kv_int(&w, "index", p->index);
        jw_kv_string(&w, "meter", r->meters[p->meter].id);
        jw_kv_number(&w, "duration_s", dur);
        jw_key(&w, "energy_j");
        (p->valid & JB_PHASE_ENERGY) ? jw_number(&w, p->energy_j) : jw_null(&w);
        jw_key(&w, "energy_j_power");
        (p->valid & JB_PHASE_ENERGY_POWER) ? jw_number(&w, p->energy_j_power) : jw_null(&w);
        if (p->valid & JB_PHASE_ITEMS)
            jw_kv_number(&w, "items", p->items);
        jw_kv_bool(&w, "partial", (p->valid & JB_PHASE_PARTIAL) != 0);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    measure_gpu_sum_json(&w, r); /* "gpu_total" (multi12) */
    jw_kv_int(&w, "protocol_errors", (long long)r->n_protocol_errors);
    jw_object_end(&w);
    sb_putc(&sb, '\n');
    rc = sb_failed(&sb) ? -1 : fs_write_atomic(path, sb_str(&sb), sb.len, err, sizeof(err));
    if (rc < 0)
        cli_error("%s", sb_failed(&sb) ? "out of memory" : err);
    sb_free(&sb);
    return rc;
}

int cmd_stat(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"interval", required_argument, NULL, 'i'},
        {"energy-interval", required_argument, NULL, 'E'},
        {"meters", required_argument, NULL, 'm'},
        {"idle", required_argument, NULL, 'I'},
        {"timeout", required_argument, NULL, 'T'},
        {"json", required_argument, NULL, 'j'},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct measure_opts o;
    struct measure_result r;
    const char *json = NULL;
    char err[1024] = "";
    int quiet = 0, opt, status;
    long l;
    double d;

    memset(&o, 0, sizeof(o));
    o.meters = "auto";
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+i:E:m:o:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'i':
        case 'E':
            if (cli_parse_long(optarg, 10, 60000, &l) < 0)
                return cli_usage_error(usage_line,
                                       "bad %s '%s': expected milliseconds in 10..60000",
                                       opt == 'i' ? "interval" : "energy interval", optarg);
            if (opt == 'i')
                o.interval_ms = (unsigned)l;
            else
                o.energy_interval_ms = (unsigned)l;
            break;
        case 'm': o.meters = optarg; break;
        case 'I':
        case 'T':
            if (cli_parse_double(optarg, 0, 1e7, &d) < 0)
                return cli_usage_error(usage_line, "bad %s '%s': expected seconds >= 0",
                                       opt == 'I' ? "--idle" : "--timeout", optarg);
            if (opt == 'I')
                o.idle_s = d;
            else
                o.timeout_s = d;
            break;
        case 'j': json = optarg; break;
        case 'o': o.rundir = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': print_help(); return JB_EXIT_OK;
        default:
            return cli_usage_error(usage_line, "unknown or incomplete option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error(usage_line, "no command to measure after '--'");
    o.argv = argv + optind;
    o.capture = o.rundir != NULL;
    o.echo = 1;
    if (measure_run(&o, &r, warn_cb, err, sizeof(err)) < 0) {
        cli_error("%s", err);
        measure_result_free(&r);
        return JB_EXIT_FAIL;
    }
    if (!quiet)
        print_table(o.argv, &r);
    if (json && write_json(json, &r) < 0) {
        measure_result_free(&r);
        return JB_EXIT_FAIL;
    }
    /* The command's status; 127 when it could not be started (as shells do). */
    status = r.exit_status >= 0 ? r.exit_status : 127;
    if (r.status == MEASURE_INTERRUPTED && status == 0)
        status = 128 + (r.got_signal ? r.got_signal : 2);
    measure_result_free(&r);
    return status;
}
