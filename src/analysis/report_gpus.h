/*
 * report_gpus.h - the report's view of jobs on several GPUs (issue 12): for each configuration
 * whose runs have more than one GPU meter, the job's energy (the sum over its GPU meters), the
 * energy per training image, and how the energy spread across the GPUs, in total and per phase
 * group (startup, the epochs, the evaluations).  Part of the corrected method's report.json and
 * summary.md (and so of index.html, which shows summary.md); nothing at all for runs on one GPU.
 */
#ifndef JB_SRC_ANALYSIS_REPORT_GPUS_H
#define JB_SRC_ANALYSIS_REPORT_GPUS_H

#include "analysis/report.h"

struct jsonw;
struct strbuf;

/* Number of configurations whose runs have two or more GPU meters (report_meter_class 1). */
size_t report_gpus_count(const struct report_input *in);
/* report.json: the key "gpus" and its object (docs/report-format.md); nothing when the count
 * is 0.  Called inside report.json's top-level object. */
void report_gpus_json(struct jsonw *w, const struct report_input *in);
/* summary.md: the "## Several GPUs" section; nothing when the count is 0. */
void report_gpus_md(struct strbuf *md, const struct report_input *in);

#endif
