/*
 * store.h - the SQLite store of a results folder (RESULTS/results.db), rebuilt from the run
 * directories every time (so it is never the only copy of anything): tables runs, levels, meters,
 * samples, phases, metrics; schema in docs/store.md.  Built into a temporary file and renamed over
 * the old one, so readers see the old store or the new one, never a part.  Not used by 'report'
 * (which reads run directories directly).
 */
#ifndef JB_SRC_ANALYSIS_STORE_H
#define JB_SRC_ANALYSIS_STORE_H

#include "rundir/read.h"

#include <stddef.h>

struct store_stats {
    size_t runs, skipped, samples, phases, metrics, bad_rows;
};

/* Builds dbpath from every finished run directory under results (unfinished ones are skipped
 * with a warning naming the folder; malformed CSV rows are skipped with FILE:LINE warnings, or with
 * strict fail the build).  Returns 0, or -1 with err (the old store is then left as it was). */
int store_build(const char *results, const char *dbpath, int strict, struct store_stats *st,
                rd_warn_fn warn, void *ctx, char *err, size_t errlen);

/* Removes the temporary store (and its journal) that store_build is writing, if any: for a
 * SIGINT/SIGTERM handler (async-signal-safe: unlink only).  store_build itself also removes the
 * temporaries of processes that are gone before it starts. */
void store_signal_cleanup(void);

#endif
