#!/usr/bin/env bash
# Third device call of 2026-12-02 (session E), issues 11 and 12: (1) the native trainer's one-step
# check against PyTorch fp32 and fp64 with the comparison split into tensors that start at zero
# and the rest (bench/gpu/native_check.py compare --init); (2) the PyTorch workload's --ddp on the
# one GPU lent (world size 1 through workloads/common/ddp_launch.py, NCCL) against the same
# training without --ddp, interleaved, under `joulebench stat -m gpu0`; (3) more of
# bench/gpu/frameworks-sample.yaml (resumes from .native-carry/results.tgz) in the time left.
# Needs .native-carry (bench/gpu/native-carry.sh) and .devbin (monitor-check.sh --carry).
# Usage on the GPU machine, from the checkout root: bench/gpu/session-e.sh OUTDIR [FRAMEWORK_S]
set -uo pipefail
out=${1:?OUTDIR}
fw_s=${2:-230}
root=$PWD
mkdir -p "$out/logs"
NV=$(python3 -c "import nvidia, os; print(list(nvidia.__path__)[0])" 2>/dev/null)
export PATH=$root/.devbin:$root/.native-carry/bin:$PATH PYTHONUNBUFFERED=1
export LD_LIBRARY_PATH=$root/.devbin:$root/.native-carry/bin:$NV/cudnn/lib:$NV/cublas/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
NT=$root/.native-carry/bin/jb-native-train
L=$out/logs
nvidia-smi --query-gpu=name,driver_version,power.limit,temperature.gpu --format=csv,noheader | tee "$out/gpu.txt"
D=/tmp/jbdata
mkdir -p $D data
echo "== 1. one SGD step, native vs PyTorch fp32 / fp64 ($(date -u +%T))"
(
  joulebench data synth syn -o $D --train 1024 --test 256 > /dev/null 2>&1
  python3 workloads/common/export_init.py --model resnet50 --classes 10 --seed 1 -o $D/r50.npz > /dev/null
  A="--dataset syn --data-dir $D --init $D/r50.npz --batch-size 128"
  timeout 60 "$NT" $A --algo heuristic --check-out $D/n.npz > $L/n.log 2>&1; echo "native rc=$?"
  timeout 90 python3 bench/gpu/native_check.py torch-ref $A --precision fp32 -o $D/t.npz > $L/t.log 2>&1; echo "torch32 rc=$?"
  timeout 90 python3 bench/gpu/native_check.py torch-ref $A --precision fp64 -o $D/d.npz > $L/d.log 2>&1; echo "torch64 rc=$?"
  python3 bench/gpu/native_check.py compare $D/n.npz $D/t.npz $D/d.npz --init $D/r50.npz
) 2>&1 | tee "$out/check.txt" | tail -40
echo "== 2. --ddp on one GPU vs plain, interleaved ($(date -u +%T))"
(
  joulebench data synth synth-cifar10 --train 5120 --test 1024 -o data > /dev/null
  T="workloads/pytorch/train.py --dataset synth-cifar10 --data-dir data --model resnet50 --batch-size 128 --epochs 2 --limit-train 5120 --limit-test 1024 --seed 1"
  for k in 1 2; do
    for v in ddp plain; do
      extra=""; [ $v = ddp ] && extra="--ddp --nproc-per-node 1"
      timeout 60 joulebench stat -m gpu0 --json "$out/$v-$k.json" -o "$out/$v-$k" -- python3 $T $extra \
        > "$L/$v-$k.log" 2>&1
      echo "$v $k: rc=$?"
    done
  done
  python3 - "$out" <<'PY'
import json, sys, glob, os
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*-[12].json"))):
    d = json.load(open(f))
    ep = [p for p in d["phases"] if p["phase"] == "epoch" and p["index"] == 2]
    info = ""
    if ep and ep[0].get("items"):
        e = ep[0]
        info = "epoch 2: %.3f s, %.1f J, %.0f img/s, %.1f mJ/img, flags %s" % (
            e["duration_s"], e["energy_j"], e["items"] / e["duration_s"], 1e3 * e["energy_j"] / e["items"], ",".join(e["flags"]))
    print(os.path.basename(f), "exit", d["exit_status"], "command %.1f J" % d["meters"][0]["energy_j"], info)
PY
  grep -h '"world_size"\|world_size' "$out"/ddp-1/manifest.json | head -3
) 2>&1 | tee "$out/ddp.txt" | tail -30
echo "== 3. frameworks-sample, ${fw_s} s ($(date -u +%T))"
GRID=bench/gpu/frameworks-sample.yaml bash bench/gpu/native-bench.sh "$out/fw" "$fw_s" > "$out/fw.log" 2>&1
grep -E 'complete in|interrupted|grid ' "$out/fw.log" | tail -12
