#!/usr/bin/env bash
# The main job ('make run'): the smoke study (experiments/smoke.yaml), a real tiny PyTorch training
# study on a small synthetic data set, measured on the meters found here.  Where there is no GPU
# and no readable RAPL domain, the grid falls back to the SIMULATED meter and the runner prints a
# banner saying so.  Results: out/results/smoke/<run-id>/ (run again: complete runs are skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
jb=build/joulebench
export PATH="$PWD/.venv/bin:$PATH"
if [ ! -f data/synth10/manifest.json ]; then
  "$jb" data synth synth10 --train 256 --test 64 -o data
fi
mkdir -p out
"$jb" run experiments/smoke.yaml -o out/results
# ... then its report: tables, the five figures and out/results/report/index.html.
"$jb" report out/results -o out/results/report
echo "joulebench: report written to out/results/report/index.html" >&2
