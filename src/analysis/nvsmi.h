/*
 * nvsmi.h - parsers for the two files of an nvidia-smi based study: the log of
 * `nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits] --loop-ms=N` and the per-epoch
 * metric file of the reference study (`;`-separated, `epoch;...;timestamp`).
 *
 * The nvidia-smi parser accepts any subset and order of fields, with or without the header line
 * and with or without units in the values; `[N/A]`, `[Not Supported]` (any bracketed value) and
 * `N/A` become unavailable (NaN).  Timestamps are nvidia-smi's local wall-clock
 * "YYYY/MM/DD HH:MM:SS.mmm"; they are kept as seconds of a proleptic calendar without time zone,
 * so differences are right whatever the zone was (a daylight-saving change inside a log is not).
 * Units, on a value or in the header's "[UNIT]", are converted to the gauge's (W from mW/kW,
 * MiB from B/KiB/GiB/TiB, MHz from Hz/kHz/GHz) or the row refused; values outside a plausible
 * range (power 0..10 kW, utilisation 0..100 %, memory 0..1 TiB, clocks 0..100 GHz, temperature
 * -50..200 C), timestamps outside years 1970..2199, earlier than the row before or more than a
 * day after it are malformed too.  Malformed rows are reported through a callback as
 * "FILE:LINE: field 'NAME': ..." and skipped, or with strict set, rejected (the conversions are
 * the same either way).  Pure parsing: no files are opened here, nothing is printed.  Not a run-directory
 * writer (see import.h).
 */
#ifndef JB_SRC_ANALYSIS_NVSMI_H
#define JB_SRC_ANALYSIS_NVSMI_H

#include <stddef.h>

/* Gauges of one row; NaN = unavailable. */
enum nvsmi_value {
    NVV_POWER_W,
    NVV_POWER_INSTANT_W,
    NVV_TEMP_C,
    NVV_UTIL_PCT,
    NVV_MEM_UTIL_PCT,
    NVV_MEM_USED_MIB,
    NVV_SM_CLOCK_MHZ,
    NVV_MEM_CLOCK_MHZ,
    NVV_COUNT
};

struct nvsmi_row {
    double t_abs_s; /* seconds since 1970-01-01 00:00 of the log's (unknown) local zone */
    int gpu;        /* the 'index' field, 0 when absent */
    double v[NVV_COUNT];
};

struct nvsmi_log {
    struct nvsmi_row *rows;
    size_t n, cap;
    size_t bad_rows;  /* malformed rows skipped */
    unsigned present; /* bit (1u << enum nvsmi_value) for each field the log has */
    int has_index;    /* the log has an 'index' field (several GPUs) */
};

/* Called once per malformed row (and other non-fatal findings) with a complete message. */
typedef void (*nvsmi_warn_fn)(void *ctx, const char *msg);

/* Parses text[0..len) of file `name` (used in messages) and appends rows to log (zero it first).
 * fields: comma-separated field names for a log without header (NULL: the header decides, or,
 * when there is none, the reference study's order timestamp,power.draw,temperature.gpu,
 * memory.used,utilization.gpu,utilization.memory).  Returns 0, or -1 with a message in err (no
 * timestamp field, unknown layout, or with strict the first malformed row). */
int nvsmi_parse(const char *text, size_t len, const char *name, const char *fields, int strict,
                struct nvsmi_log *log, nvsmi_warn_fn warn, void *ctx, char *err, size_t errlen);
void nvsmi_log_free(struct nvsmi_log *log);
/* The gauge a field name maps to ("power.draw", "temperature.gpu", ...), or -1. */
int nvsmi_field_value(const char *field);

/* The reference study's per-epoch metrics: one record per line in file order. */
struct epoch_rec {
    long epoch;     /* as written (the study counts from 0) */
    double t_abs_s; /* the whole-second local timestamp, same scale as nvsmi_row.t_abs_s */
    double *vals;   /* one per epoch_log.names entry, NaN when empty */
};
struct epoch_log {
    char **names; /* metric columns (all but epoch and timestamp) */
    size_t nnames;
    struct epoch_rec *recs;
    size_t n;
    size_t bad_rows;
};

/* Parses a `;`-separated metric file with a header naming 'epoch' and 'timestamp' (timestamp
 * "YYYY-MM-DD HH:MM:SS[.fff]", '/' also accepted).  Same error conventions as nvsmi_parse. */
int epochs_parse(const char *text, size_t len, const char *name, int strict, struct epoch_log *log,
                 nvsmi_warn_fn warn, void *ctx, char *err, size_t errlen);
void epoch_log_free(struct epoch_log *log);

/* "YYYY/MM/DD HH:MM:SS[.fff]" or with '-' date separators, or 'T' between date and time ->
 * seconds since 1970 of a zone-less calendar.  Returns 0 or -1. */
int nvsmi_parse_time(const char *s, size_t len, double *out);

#endif
