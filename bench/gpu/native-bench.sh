#!/usr/bin/env bash
# The side-by-side table of issue 11: every trainer and mode of experiments/frameworks.yaml
# (native eager/graph, PyTorch eager/compiled/graph, JAX compiled; fp32) at batch 32/128/256 and
# ResNet-50/101/152, interleaved (the grid's random order), 3 repeats, measured by joulebench
# itself (GPU energy counter), then one table: images/s, counter mJ per image over epochs 2-3 and
# the GPU-busy fraction.
#
# Usage on the GPU machine, from the checkout root:  bench/gpu/native-bench.sh OUTDIR [SECONDS]
#   Binaries: .native-carry/bin (bench/gpu/native-carry.sh, run on the build machine, puts the
#   native trainer, joulebench, libyaml and libsqlite3 there), else build/ and PATH.
#   SECONDS (default 500) bounds this call; the grid resumes: results come back as
#   OUTDIR/results.tgz, and a results.tgz found in .native-carry/ is unpacked first, so that
#   several device calls add up to the whole grid (162 runs: hours of GPU time).
#   GRID=experiments/other.yaml picks another grid; ONLY=... passes --only to joulebench run.
set -uo pipefail
out=${1:?OUTDIR}
secs=${2:-500}
grid=${GRID:-experiments/frameworks.yaml}
root=$PWD
src=$root
[ -d "$root/.native-carry/src" ] && src=$root/.native-carry/src
mkdir -p "$out"
if [ -d "$root/.native-carry/bin" ]; then
  export PATH=$root/.native-carry/bin:$PATH JOULEBENCH_NATIVE_TRAIN=$root/.native-carry/bin/jb-native-train
  export LD_LIBRARY_PATH=$root/.native-carry/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
elif [ -x "$root/build/joulebench" ]; then
  export PATH=$root/build:$PATH
fi
# cuDNN and cuBLAS of the machine's PyTorch (the native trainer links them dynamically).
nv=$(python3 -c "import nvidia, os; print(list(nvidia.__path__)[0])" 2>/dev/null)
[ -n "$nv" ] && export LD_LIBRARY_PATH=$nv/cudnn/lib:$nv/cublas/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PYTHONUNBUFFERED=1
cd "$src"
nvidia-smi --query-gpu=name,driver_version,power.limit,temperature.gpu --format=csv,noheader
mkdir -p data
[ -f data/synth-cifar10-45k/manifest.json ] ||
  joulebench data synth synth-cifar10-45k --train 45000 --test 5000 -o data
for m in resnet50 resnet101 resnet152; do
  [ -f data/init-$m-c10.npz ] ||
    python3 workloads/common/export_init.py --model $m --classes 10 --seed 1 -o data/init-$m-c10.npz
done
results=$out/results
mkdir -p "$results"
[ -f "$root/.native-carry/results.tgz" ] && tar xzf "$root/.native-carry/results.tgz" -C "$results"
t0=$(date +%s)
timeout -s INT "$secs" joulebench run "$grid" -o "$results" ${ONLY:+--only "$ONLY"}
echo "run: rc=$? after $(( $(date +%s) - t0 )) s"
name=$(awk '/^name:/ {print $2; exit}' "$grid")
joulebench report "$results/$name" -o "$out/report" --no-figures > "$out/report.log" 2>&1 ||
  tail -5 "$out/report.log"
[ -f "$out/report/epochs.csv" ] && python3 bench/gpu/native_check.py table "$out/report/epochs.csv" | tee "$out/table.md"
tar czf "$out/results.tgz" -C "$results" . && rm -rf "$results"
