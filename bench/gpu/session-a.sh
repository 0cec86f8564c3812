#!/usr/bin/env bash
# One device call: NVML call costs, benchmarks (a)-(c), runner overhead, workloads GPU check.
# Usage on the GPU machine: bench/gpu/session-a.sh OUTDIR   (results also tarred by the caller)
set -uo pipefail
out=${1:?OUTDIR}
mkdir -p "$out"
export LD_LIBRARY_PATH=$PWD/.devbin PATH=$PWD/.devbin:$PATH JB=$PWD/.devbin/joulebench
echo "== NVML per-call cost"; cc -O2 -o /tmp/nvml_cost bench/gpu/nvml_cost.c -ldl && /tmp/nvml_cost 2000 | tee "$out/nvml_cost.txt"
echo "== benchmarks a-c"; bash bench/gpu/run-all.sh "$out/b" > "$out/run-all.log" 2>&1; tail -45 "$out/run-all.log"
echo "== runner overhead"; bash bench/gpu/overhead.sh "$out/ov" 2>"$out/overhead.err" | tee "$out/overhead.txt"
echo "== workloads GPU check"; timeout 230 bash scripts/workloads-gpu-check.sh > "$out/workloads-check.log" 2>&1; echo "rc=$?"; tail -40 "$out/workloads-check.log"
