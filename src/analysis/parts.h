/*
 * parts.h - a run measured in parts: under Slurm, a run that spans several nodes is measured by
 * one 'joulebench slurm --task-part' per task (rank), each into RUN/part-<rank>/, an ordinary
 * run directory plus part.json (the tag: grid, run id, Slurm job id, node, rank, n_parts).  This
 * module writes and checks the tags and merges a complete set into RUN itself, so that the
 * store and the report read it as one run: the meters of part r are renamed <id>_r<r> (every
 * node's figures kept), totals and the whole command's energy are summed over the parts by
 * meter kind (manifest "parts" block), and the phases are rank 0's (its workload marks them).
 * An incomplete set (a rank missing, failed, or from another job) is refused with a message
 * naming the run and the ranks.  Not a measurer (src/run/measure.c) and not a report.
 * docs/slurm.md ("Runs on several nodes").
 */
#ifndef JB_SRC_ANALYSIS_PARTS_H
#define JB_SRC_ANALYSIS_PARTS_H

#include <stddef.h>

#define PARTS_FORMAT "joulebench-part/1"
#define PARTS_MAX 65536 /* parts of one run (nodes x tasks_per_node is at most 4096 x 256) */

struct parts_tag {
    const char *grid, *run_id, *node, *slurm_job_id;
    long rank, n_parts;
};

/* Writes part_dir/part.json (atomically; the folder is made).  0, or -1 with err. */
int parts_write_tag(const char *part_dir, const struct parts_tag *t, char *err, size_t errlen);

/* 1 when run_dir holds a part-<N> folder. */
int parts_present(const char *run_dir);

/*
 * Checks the parts of run_dir: every rank 0..n_parts-1 has a complete manifest and a tag, all
 * tags agree on n_parts and the Slurm job.  Returns 0 for a complete set, 1 when incomplete (msg:
 * "run 'DIR': 1 of 2 parts; missing: rank 1" and the like), -1 on an error (msg).
 */
int parts_check(const char *run_dir, char *msg, size_t msglen);

/*
 * Merges a complete set into run_dir: samples.csv, phases.csv, metrics.csv, then manifest.json
 * (last, status complete).  Returns 0, 1 when the set is incomplete (msg as parts_check), -1 on
 * an error (msg).
 */
int parts_merge(const char *run_dir, char *msg, size_t msglen);

/*
 * Every run folder two levels under results (RESULTS/<grid>/<run>) that holds parts and no
 * complete manifest.json is merged.  *n_merged counts them.  Returns 0; 1 when a set is
 * incomplete (msg names it; the others are still merged); -1 on an error (msg).
 */
int parts_merge_all(const char *results, size_t *n_merged, char *msg, size_t msglen);

#endif
