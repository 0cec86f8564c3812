/*
 * cmd_devices.c - 'joulebench devices': the meters found and what each can measure.
 */
#include "cli/cli.h"
#include "cli/cli_meters.h"

#include "util/jsonw.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage_line[] = "joulebench devices [-m METERS] [--json] [--count]";

static void caps_text(uint32_t caps, char *buf, size_t n)
{
    size_t len = 0;

    buf[0] = '\0';
    for (uint32_t bit = 1; bit; bit <<= 1) {
        if (!(caps & bit) || !jb_cap_name(bit))
            continue;
        len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s%s", len ? "," : "",
                                jb_cap_name(bit));
    }
}

static void print_json(struct jb_meter_set *set)
{
    struct strbuf sb = STRBUF_INIT;
    struct jsonw w;

    jw_init(&w, &sb, 1);
    jw_object_begin(&w);
    jw_key(&w, "meters");
    jw_array_begin(&w);
    for (size_t i = 0; i < jb_meter_set_count(set); i++) {
        const struct jb_meter_info *m = jb_meter_get_info(jb_meter_set_get(set, i));
        jw_object_begin(&w);
        jw_kv_string(&w, "id", m->id);
        jw_kv_string(&w, "kind", jb_meter_kind_name(m->kind));
        jw_kv_string(&w, "source", m->source);
        jw_kv_string(&w, "name", m->name);
        jw_kv_bool(&w, "simulated", m->simulated);
        if (m->uuid[0])
            jw_kv_string(&w, "uuid", m->uuid);
        if (m->pci_bus_id[0])
            jw_kv_string(&w, "pci_bus_id", m->pci_bus_id);
        if (m->driver[0])
            jw_kv_string(&w, "driver", m->driver);
        if (m->valid & JB_INFO_POWER_LIMIT)
            jw_kv_number(&w, "power_limit_w", m->power_limit_w);
        if (m->valid & JB_INFO_MEMORY_TOTAL)
            jw_kv_number(&w, "memory_total_mib", m->memory_total_mib);
        jw_key(&w, "caps");
        jw_array_begin(&w);
        for (uint32_t bit = 1; bit; bit <<= 1)
            if ((m->caps & bit) && jb_cap_name(bit))
                jw_string(&w, jb_cap_name(bit));
        jw_array_end(&w);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_key(&w, "notes");
    jw_array_begin(&w);
    for (size_t i = 0; i < jb_meter_set_note_count(set); i++)
        jw_string(&w, jb_meter_set_note(set, i));
    jw_array_end(&w);
    jw_object_end(&w);
    printf("%s\n", sb_str(&sb));
    sb_free(&sb);
}

int cmd_devices(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"meters", required_argument, NULL, 'm'},
        {"json", no_argument, NULL, 'j'},
        {"count", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *spec = "auto";
    int json = 0, count = 0, opt;
    struct jb_meter_set *set;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "m:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'm': spec = optarg; break;
        case 'j': json = 1; break;
        case 'c': count = 1; break;
        case 'h':
            printf("usage: %s\n\n"
                   "Lists the meters (GPUs, RAPL domains, simulated meters) and what each can\n"
                   "measure (energy counter, power, temperature, utilisation, clocks...).  A\n"
                   "simulated meter is marked SIMULATED.\n\n"
                   "  -m, --meters SPEC   which meters: auto (default: every visible GPU and\n"
                   "                      readable RAPL domain), gpu, gpuN[,gpuM], cpu,\n"
                   "                      cpu-packageN, dramN, sim, sim:const=W,\n"
                   "                      sim:square=LOW:HIGH:PERIOD_MS:DUTY, sim:trace=FILE\n"
                   "      --json          one JSON document instead of the table\n"
                   "      --count         print only how many meters there are\n"
                   "  -h, --help          this text\n",
                   usage_line);
            return JB_EXIT_OK;
        default:
            return cli_usage_error(usage_line, "unknown or incomplete option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(usage_line, "unexpected argument '%s'", argv[optind]);
    set = cli_open_meters(spec);
    if (!set)
        return JB_EXIT_FAIL;
    if (count) {
        printf("%zu\n", jb_meter_set_count(set));
    } else if (json) {
        print_json(set);
    } else {
        printf("%-14s %-12s %-6s %-44s %s\n", "id", "kind", "source", "name", "capabilities");
        for (size_t i = 0; i < jb_meter_set_count(set); i++) {
            const struct jb_meter_info *m = jb_meter_get_info(jb_meter_set_get(set, i));
            char caps[256];
            caps_text(m->caps, caps, sizeof(caps));
            printf("%-14s %-12s %-6s %-44s %s%s\n", m->id, jb_meter_kind_name(m->kind), m->source,
                   m->name, caps, m->simulated ? "  [SIMULATED]" : "");
            if (m->uuid[0] || (m->valid & JB_INFO_POWER_LIMIT))
                printf("%-14s uuid %s, pci %s, driver %s, power limit %.0f W, memory %.0f MiB\n",
                       "", m->uuid[0] ? m->uuid : "-", m->pci_bus_id[0] ? m->pci_bus_id : "-",
                       m->driver[0] ? m->driver : "-",
                       (m->valid & JB_INFO_POWER_LIMIT) ? m->power_limit_w : 0.0,
                       (m->valid & JB_INFO_MEMORY_TOTAL) ? m->memory_total_mib : 0.0);
        }
        if (!jb_meter_set_count(set))
            printf("(no meters found)\n");
    }
    jb_meter_set_free(set);
    return JB_EXIT_OK;
}
