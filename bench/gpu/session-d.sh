#!/usr/bin/env bash
# One device call (2026-12-02, session D) for the GPU checks of issues 8 and 10 with the wired
# estimator: bench/gpu/phase-checks.sh (split consistency, bursts, eval-like phases: stat's own
# phases.csv columns and the library replay), the Monitor against stat (monitor-check.sh), the
# sampler's CPU beside nvidia-smi (sampler-cost.sh, 30 s), `stat -r 5` over a short PyTorch
# training, and two runs of experiments/quick.yaml (their eval phases).  Each part has its own
# time limit; everything lands under OUTDIR.  Needs .devbin (monitor-check.sh --carry).
# Usage on the GPU machine, from the checkout root: bench/gpu/session-d.sh OUTDIR
set -uo pipefail
out=${1:?OUTDIR}
mkdir -p "$out"
export LD_LIBRARY_PATH=$PWD/.devbin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} PATH=$PWD/.devbin:$PATH
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,power.limit,temperature.gpu --format=csv,noheader \
  | tee "$out/gpu.txt"
joulebench --version | tee -a "$out/gpu.txt"
part() { # NAME SECONDS CMD...: one part under its own limit; its log in OUTDIR/NAME.log
  local name=$1 secs=$2 t0=$SECONDS
  shift 2
  echo "== $name (limit ${secs} s, $(date -u +%T) UTC)"
  timeout -s INT -k 10 "$secs" "$@" > "$out/$name.log" 2>&1
  echo "== $name: rc=$? after $((SECONDS - t0)) s"
  tail -n 60 "$out/$name.log"
}
part phase 170 bash bench/gpu/phase-checks.sh "$out/phase"
part monitor 80 bash bench/gpu/monitor-check.sh "$out/monitor"
part sampler 60 bash bench/gpu/sampler-cost.sh "$out/sampler" 30
mkdir -p data
part data 40 joulebench data synth synth-cifar10 --train 5120 --test 1024 -o data
part stat-r5 90 joulebench stat -r 5 -m gpu0 --json "$out/stat-r5.json" -o "$out/stat-r5" -- \
  python3 workloads/pytorch/train.py --dataset synth-cifar10 --data-dir data --model resnet50 \
  --batch-size 128 --epochs 1 --limit-train 2560 --limit-test 512 --seed 1
part quick 100 joulebench run experiments/quick.yaml --only 0,1 -o "$out/quick"
for f in "$out"/quick/*/*/phases.csv; do
  [ -f "$f" ] && { echo "== $f"; grep -E '^(phase|eval)' "$f"; }
done
