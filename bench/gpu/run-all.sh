#!/usr/bin/env bash
# The GPU-machine benchmarks of the measuring core (issue 2, item 7), in one call:
#   (a) 'joulebench stat' energy vs a direct NVML counter read around the same load;
#   (b) CPU time of 'joulebench sample' vs nvidia-smi at 100 ms and 10 ms over 60 s, side by side;
#   (c) square-wave loads as phases: counter vs power-integral energy, and how the readings lag.
# Usage (on the GPU machine, from the repository root): bench/gpu/run-all.sh OUTDIR
# Expects the joulebench binary in .devbin/ (built here with -DJB_WITH_ARCHIVE=OFF
# -DJB_WITH_MATIO=OFF and carried with libyaml/libsqlite3), or on PATH.
set -uo pipefail
out=${1:?OUTDIR}
mkdir -p "$out"
if [ -x .devbin/joulebench ]; then
  export LD_LIBRARY_PATH=$PWD/.devbin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export PATH=$PWD/.devbin:$PATH
fi
nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,power.limit,temperature.gpu,power.draw --format=csv
joulebench devices
bash scripts/nvml-check.sh 3 2>&1 | tail -20

echo "== (a)"
for i in 1; do
  joulebench stat -q -i 100 -m gpu0 -o "$out/a_run$i" -- \
    python3 bench/gpu/load.py --busy-ms 1500 --idle-ms 500 --cycles 10 --direct "$out/a_run${i}_direct.json"
done

echo "== (c)"
joulebench stat -q -i 10 -m gpu0 -o "$out/c_300_700" -- python3 bench/gpu/load.py --busy-ms 300 --idle-ms 700 --cycles 12
joulebench stat -q -i 10 -m gpu0 -o "$out/c_50_50" -- python3 bench/gpu/load.py --busy-ms 50 --idle-ms 50 --cycles 60
joulebench stat -q -i 10 -m gpu0 -o "$out/c_2000_2000" -- python3 bench/gpu/load.py --busy-ms 2000 --idle-ms 2000 --cycles 4

echo "== (b)"
python3 bench/gpu/cpu_cost.py --seconds 60 --out "$out/cpu_cost.json"

python3 bench/gpu/analyse.py "$out" | tee "$out/summary.txt"
