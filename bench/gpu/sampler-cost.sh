#!/usr/bin/env bash
# Sampler CPU vs nvidia-smi side by side, one device call (issue 8, item 4): bench/gpu/sampler_cost.py
# over SECONDS (default 60) on the idle card, joulebench with and without the power readings
# batched into one nvmlDeviceGetFieldValues call, plus `stat` with the counter read on its locked
# schedule.  Needs the carried build in .devbin.  Usage: bench/gpu/sampler-cost.sh [OUTDIR] [SECONDS]
set -uo pipefail
out=${1:-${OUT:?OUTDIR or OUT}}
secs=${2:-60}
mkdir -p "$out"
export LD_LIBRARY_PATH=$PWD/.devbin:${LD_LIBRARY_PATH:-} PATH=$PWD/.devbin:$PATH
nvidia-smi --query-gpu=name,driver_version,power.limit,temperature.gpu --format=csv,noheader \
  | tee "$out/gpu.txt"
python3 bench/gpu/sampler_cost.py --seconds "$secs" --jb "$(command -v joulebench)" \
  --out "$out/sampler_cost.json" | tee "$out/sampler_cost.txt"
