/*
 * fuzz_nvsmi.c - libFuzzer target for the nvidia-smi CSV parser and the study's metric-file
 * parser (src/analysis/nvsmi.c): any input must parse or fail cleanly, in both lenient and strict
 * modes, with and without a field list.  Built by scripts/fuzz.sh.
 */
#include "analysis/nvsmi.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char err[256];
    for (int strict = 0; strict < 2; strict++) {
        struct nvsmi_log log = {0};
        struct epoch_log ep = {0};
        nvsmi_parse(text, size, "fuzz", NULL, strict, &log, ignore, NULL, err, sizeof(err));
        nvsmi_log_free(&log);
        nvsmi_parse(text, size, "fuzz", "power.draw,timestamp,index,clocks.sm", strict, &log,
                    ignore, NULL, err, sizeof(err));
        nvsmi_log_free(&log);
        epochs_parse(text, size, "fuzz", strict, &ep, ignore, NULL, err, sizeof(err));
        epoch_log_free(&ep);
    }
    return 0;
}
