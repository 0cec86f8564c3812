#!/usr/bin/env bash
# Issue 12's GPU figures: ResNet-50, batch 128 per GPU, PyTorch DDP on 1 and 2 GPUs
# (experiments/ddp.yaml): img/s and J/img, per GPU and in total, and the speedup of 2 GPUs over 1.
# STATUS: NOT RUN.  No multi-GPU machine (nvidia-h200-x2 or larger) was lent while it was written;
# the code paths it drives are tested on the CPU (tests/python/test_ddp.py: 2 gloo ranks;
# tests/cli/gpus_*.sh: several fake-NVML and simulated GPU meters).
#
# Each configuration is measured on exactly its GPUs, by the engine of 'joulebench stat' (every
# run of 'joulebench run' is one such measurement): the gpus=N runs with CUDA_VISIBLE_DEVICES=0..N-1
# and -m gpu0,...,gpuN-1, so the 1-GPU runs do not count the idle second GPU.  Then
# 'joulebench report' (its "Several GPUs" section: total, J/img, spread across GPUs) and a
# summary.txt of img/s and J/img per configuration.  Everything is written under OUTDIR:
#   gpu.txt, runs.txt (the grid's run list), plan.txt (the commands), results/ddp/<run>/,
#   run-gpusN.log, report/, summary.txt
# Needs the carried build in .devbin (joulebench and its shared libraries), python3 with torch and
# torchvision, 2 GPUs.  Usage on the GPU machine: bench/gpu/ddp-check.sh [OUTDIR] (default: $OUT)
# DDP_CHECK_DRY=1: write runs.txt and plan.txt only (no GPU needed; used by tests/cli/gpus_ddp.sh).
set -uo pipefail
out=${1:-${OUT:?OUTDIR or OUT}}
grid=${DDP_CHECK_GRID:-experiments/ddp.yaml}
mkdir -p "$out"
[ -d .devbin ] && export LD_LIBRARY_PATH=$PWD/.devbin:${LD_LIBRARY_PATH:-} PATH=$PWD/.devbin:$PATH
JB=${JB:-joulebench}

"$JB" run "$grid" --dry-run -o "$out/results" > "$out/runs.txt" || { echo "bad grid $grid"; exit 2; }
: > "$out/plan.txt"
for n in 1 2; do
  idx=$(awk -v p="^$n-r" '$2 ~ p { print $1 }' "$out/runs.txt" | paste -sd, -)
  [ -n "$idx" ] || { echo "no gpus=$n runs in $grid"; exit 2; }
  cvd=$(seq -s, 0 $((n - 1)))
  meters=$(seq -s, -f 'gpu%g' 0 $((n - 1)))
  echo "CUDA_VISIBLE_DEVICES=$cvd $JB run $grid -o $out/results --only $idx -m $meters" \
    >> "$out/plan.txt"
done
[ "${DDP_CHECK_DRY:-0}" = 1 ] && { cat "$out/plan.txt"; exit 0; }

ngpu=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
[ "$ngpu" -ge 2 ] || { echo "ddp-check: needs 2 GPUs, found $ngpu"; exit 2; }
nvidia-smi --query-gpu=index,name,driver_version,power.limit,temperature.gpu \
  --format=csv,noheader | tee "$out/gpu.txt"
"$JB" --version 2>/dev/null | head -1 | tee -a "$out/gpu.txt"
[ -d data/synth-cifar10 ] || "$JB" data synth synth-cifar10 --train 25600 --test 2560 -o data \
  || { echo "cannot make data/synth-cifar10"; exit 1; }

n=0
while read -r line; do
  n=$((n + 1))
  echo "== $line"
  env NCCL_NVLS_ENABLE=0 $line > "$out/run-gpus$n.log" 2>&1
  echo "run rc=$?"
done < "$out/plan.txt"
"$JB" report "$out/results/ddp" -o "$out/report" > "$out/report.log" 2>&1
echo "report rc=$?"

python3 - "$out/results/ddp" <<'PY' | tee "$out/summary.txt"
# Per configuration (gpus=N), over its runs, epochs 2..: images per second, J/img in total (the
# sum of the job's GPU meters) and each GPU's J/img; then the speedup of 2 GPUs over 1.
import csv, json, os, statistics as st, sys
root = sys.argv[1]
by = {}
for run in sorted(os.listdir(root)):
    d = os.path.join(root, run)
    try:
        man = json.load(open(os.path.join(d, "manifest.json")))
    except OSError:
        continue
    if man.get("status") != "complete":
        continue
    n = man["levels"]["gpus"] if isinstance(man.get("levels"), dict) else run.split("-")[0]
    rows = [r for r in csv.DictReader(open(os.path.join(d, "phases.csv")))
            if r["phase"] == "epoch" and int(r["index"]) >= 2 and r["meter"].startswith("gpu")]
    if not rows:
        continue
    per = {}
    for r in rows:
        e = float(r["energy_j"] or r["energy_j_power"])
        per.setdefault(r["meter"], [0.0, 0.0, 0.0])
        per[r["meter"]][0] += e
        per[r["meter"]][1] += float(r["items"] or "nan")
        per[r["meter"]][2] += float(r["duration_s"])
    first = next(iter(per.values()))
    items, dur = first[1], first[2]
    by.setdefault(str(n), []).append({"img_s": items / dur,
                                      "j_img": sum(v[0] for v in per.values()) / items,
                                      "per_gpu": {m: v[0] / items for m, v in per.items()}})
for n in sorted(by):
    runs = by[n]
    gpus = sorted({m for r in runs for m in r["per_gpu"]})
    print("gpus=%s: %d runs, %.1f img/s, %.4f J/img total; per GPU: %s" % (
        n, len(runs), st.mean(r["img_s"] for r in runs), st.mean(r["j_img"] for r in runs),
        ", ".join("%s %.4f J/img" % (m, st.mean(r["per_gpu"].get(m, float("nan")) for r in runs))
                  for m in gpus)))
if "1" in by and "2" in by:
    s = st.mean(r["img_s"] for r in by["2"]) / st.mean(r["img_s"] for r in by["1"])
    e = st.mean(r["j_img"] for r in by["2"]) / st.mean(r["j_img"] for r in by["1"])
    print("2 GPUs vs 1: speedup %.3f (goal >= 1.9), J/img ratio %.3f" % (s, e))
PY
