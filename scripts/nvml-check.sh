#!/bin/bash
# nvml-check.sh - checks the NVML backend on a machine with a real NVIDIA GPU: lists the GPU meters
# with their facts and capabilities, prints one sample, times read_sample and read_energy, and
# compares the counter's energy with the integral of power over a few seconds of idle.  Needs
# only a C compiler (builds src/lib directly).  Not a test of the fake: see tests/unit.
#   scripts/nvml-check.sh [SECONDS]        (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/check.c" <<'C'
#include "joulebench.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double ms_since(uint64_t t0) { return (double)(jb_now_ns() - t0) / 1e6; }

int main(int argc, char **argv)
{
    struct jb_meter_set *set = jb_meter_set_new();
    double secs = argc > 1 ? strtod(argv[1], NULL) : 3;
    int rc = jb_meter_set_add(set, "gpu");

    for (size_t i = 0; i < jb_meter_set_note_count(set); i++)
        printf("note: %s\n", jb_meter_set_note(set, i));
    if (rc < 0) {
        fprintf(stderr, "nvml-check: %s\n", jb_meter_set_errmsg(set));
        return 1;
    }
    for (size_t i = 0; i < jb_meter_set_count(set); i++) {
        struct jb_meter *m = jb_meter_set_get(set, i);
        const struct jb_meter_info *in = jb_meter_get_info(m);
        struct jb_sample s;
        struct jb_energy e0, e1;
        uint64_t t0, tprev;
        double pint_j = 0, prev_w = 0, sample_ms = 0, energy_ms = 0;
        int n = 0, ne = 0;

        printf("%s: %s uuid=%s pci=%s driver=%s caps=0x%x", in->id, in->name, in->uuid,
               in->pci_bus_id, in->driver, in->caps);
        if (in->valid & JB_INFO_POWER_LIMIT)
            printf(" limit=%.1fW", in->power_limit_w);
        if (in->valid & JB_INFO_MEMORY_TOTAL)
            printf(" mem=%.0fMiB", in->memory_total_mib);
        printf("\n");
        if ((rc = jb_meter_read_sample(m, &s)) < 0) {
            printf("  read_sample: %s\n", jb_meter_errmsg(m));
            continue;
        }
        printf("  sample valid=0x%x power=%.3fW instant=%.3fW temp=%.0fC util=%.0f%% "
               "memutil=%.0f%% memused=%.0fMiB sm=%.0fMHz mem=%.0fMHz reasons=0x%llx\n",
               s.valid, s.power_w, s.power_instant_w, s.temp_c, s.util_pct, s.mem_util_pct,
               s.mem_used_mib, s.sm_clock_mhz, s.mem_clock_mhz,
               (unsigned long long)s.throttle_reasons);
        if (!(in->caps & JB_CAP_ENERGY) || jb_meter_read_energy(m, &e0) < 0) {
            printf("  no energy counter\n");
            continue;
        }
        tprev = jb_now_ns();
        prev_w = s.power_w;
        t0 = tprev;
        while (ms_since(t0) < secs * 1000) {
            uint64_t a = jb_now_ns();
            if (jb_meter_read_sample(m, &s) < 0) {
                printf("  read_sample: %s\n", jb_meter_errmsg(m));
                break;
            }
            sample_ms += ms_since(a);
            n++;
            pint_j += (prev_w + s.power_w) / 2 * (double)(s.t_mono_ns - tprev) / 1e9;
            prev_w = s.power_w;
            tprev = s.t_mono_ns;
            if (n % 10 == 0) {
                a = jb_now_ns();
                if (jb_meter_read_energy(m, &e1) < 0) {
                    printf("  read_energy: %s\n", jb_meter_errmsg(m));
                    break;
                }
                energy_ms += ms_since(a);
                ne++;
            }
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        jb_meter_read_energy(m, &e1);
        printf("  read_sample: %.3f ms mean over %d; read_energy: %.3f ms mean over %d\n",
               n ? sample_ms / n : 0, n, ne ? energy_ms / ne : 0, ne);
        printf("  over %.2f s: counter %.3f J, power integral %.3f J\n",
               (double)(e1.t_mono_ns - e0.t_mono_ns) / 1e9, e1.energy_j - e0.energy_j, pint_j);
    }
    jb_meter_set_free(set);
    return 0;
}
C
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc/lib -Isrc/json -Isrc/list \
    -o "$tmp/check" "$tmp/check.c" src/lib/*.c src/json/*.c src/list/*.c -lpthread -ldl -lm
"$tmp/check" "$secs"
