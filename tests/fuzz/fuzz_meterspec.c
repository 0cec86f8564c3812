/*
 * fuzz_meterspec.c - libFuzzer target for the simulated meters' parsers (src/lib/meter.c's
 * specification splitter, src/lib/sim.c's sim:... specifications and trace files), through the
 * public jb_meter_set_add.  Only simulated meters are ever asked for: an input whose
 * specification names anything else (gpu, cpu, auto, ...) is skipped, so no real backend is
 * opened.  The first byte chooses the mode: even, the rest is the text after "sim" of a
 * specification (a sim:trace= in it is skipped: it would open any path); odd, the rest is the
 * content of a trace file read through "sim:trace=FILE".  Every failure must say why; a meter that
 * opens gives one sample and one energy reading.
 */
#include "joulebench.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char trace_path[64];

/* 1 when every meter of spec is a simulated one (meter.c's splitting rule: commas separate
 * meters, except that sim:trace= takes the rest) and none is a trace file. */
static int sim_only(const char *spec)
{
    for (const char *p = spec; p;) {
        const char *comma = strchr(p, ',');
        if (strncmp(p, "sim", 3) || !strncmp(p, "sim:trace=", 10))
            return 0;
        p = comma ? comma + 1 : NULL;
    }
    return 1;
}

static void use(struct jb_meter_set *set, int rc)
{
    if (rc < 0 && !jb_meter_set_errmsg(set)[0])
        __builtin_trap(); /* every failure says why */
    for (size_t i = 0; rc >= 0 && i < jb_meter_set_count(set); i++) {
        struct jb_meter *m = jb_meter_set_get(set, i);
        struct jb_sample s;
        struct jb_energy e;
        jb_meter_read_sample(m, &s);
        jb_meter_read_energy(m, &e);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jb_meter_set *set;
    char *spec;

    if (size < 1 || memchr(data + 1, '\0', size - 1))
        return 0;
    set = jb_meter_set_new();
    if (!set)
        return 0;
    if (!(data[0] & 1)) {
        spec = malloc(size + 3);
        if (spec) {
            memcpy(spec, "sim", 3);
            memcpy(spec + 3, data + 1, size - 1);
            spec[size + 2] = '\0';
            if (sim_only(spec))
                use(set, jb_meter_set_add(set, spec));
            free(spec);
        }
    } else {
        FILE *f;
        char s[96];
        if (!trace_path[0])
            snprintf(trace_path, sizeof(trace_path), "/tmp/jb-fuzz-trace-%ld.csv", (long)getpid());
        f = fopen(trace_path, "wb");
        if (f) {
            fwrite(data + 1, 1, size - 1, f);
            fclose(f);
            snprintf(s, sizeof(s), "sim:trace=%s", trace_path);
            use(set, jb_meter_set_add(set, s));
        }
    }
    jb_meter_set_free(set);
    return 0;
}
