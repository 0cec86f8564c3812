#!/usr/bin/env bash
# experiments/ddp.yaml parses and bench/gpu/ddp-check.sh plans the issue-12 GPU runs: the gpus=1
# runs on GPU 0 alone (-m gpu0), the gpus=2 runs on GPUs 0 and 1, each launched with --ddp and its
# world size (DDP_CHECK_DRY=1: no GPU needed; the real runs are NOT RUN, see the script).
. "$(dirname "$0")/lib.bash"
cd "$JB_SOURCE_DIR"
jb run experiments/ddp.yaml --dry-run -o "$T/res" > "$T/runs"
expect_grep "4 runs" "ddp: 4 runs (2 configurations x 2 repeats)" "$T/runs"
expect_grep "world size 2" "train.py --ddp --nproc-per-node 2 .*--batch-size 128" "$T/runs"
expect_grep "same seed" "--nproc-per-node 1 .*--seed 1" "$T/runs"
DDP_CHECK_DRY=1 JB="$JB" bash bench/gpu/ddp-check.sh "$T/dc" > "$T/plan"
expect_eq "plan lines" "$(wc -l < "$T/dc/plan.txt")" 2
expect_grep "one GPU" "^CUDA_VISIBLE_DEVICES=0 .* --only 0,2 -m gpu0$" "$T/dc/plan.txt"
expect_grep "two GPUs" "^CUDA_VISIBLE_DEVICES=0,1 .* --only 1,3 -m gpu0,gpu1$" "$T/dc/plan.txt"
echo "ddp grid and check plan: all passed"
