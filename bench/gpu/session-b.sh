#!/usr/bin/env bash
# Second device call: sampler CPU cost with the final defaults, then experiments/quick.yaml
# (PyTorch and JAX, 3 models x 2 batch sizes x 2 repeats) for as long as the call allows.
# Usage on the GPU machine: bench/gpu/session-b.sh OUTDIR SECONDS_FOR_THE_STUDY
set -uo pipefail
out=${1:?OUTDIR}
secs=${2:-400}
mkdir -p "$out"
export LD_LIBRARY_PATH=$PWD/.devbin PATH=$PWD/.devbin:$PATH
echo "== (b) CPU cost, 60 s side by side"
python3 bench/gpu/cpu_cost.py --seconds 60 --out "$out/cpu_cost.json"
echo "== quick study"
joulebench data synth synth-cifar10 --train 5120 --test 1024 -o data
t0=$(date +%s.%N)
timeout -s INT "$secs" joulebench run experiments/quick.yaml -o "$out/results" > "$out/run.log" 2>&1
echo "run rc=$? after $(python3 -c "import time; print(round(time.time() - $t0))") s"
tail -5 "$out/run.log"
joulebench report "$out/results" -o "$out/report" > "$out/report.log" 2>&1; echo "report rc=$?"
tail -5 "$out/report.log"
