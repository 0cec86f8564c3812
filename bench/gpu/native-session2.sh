#!/usr/bin/env bash
# Second device call for the native trainer (issue 11): the one-step checks again after the
# download race was fixed (parameters after the step), lr 1e-3 and 1e-4, the NHWC layout against
# PyTorch and graph against eager, per-operation profiles, NHWC speed/energy, and a two-run grid
# through bench/gpu/native-bench.sh (the lead's script) to prove it.
# Usage on the GPU machine, from the checkout root: bash .native-carry/src/bench/gpu/native-session2.sh "$OUT"
set -uo pipefail
out=${1:?OUTDIR}
mkdir -p "$out/logs"
C=$PWD/.native-carry
S=$C/src
NT=$C/bin/jb-native-train
D=/tmp/jbdata
NV=$(python3 -c "import nvidia, os; print(list(nvidia.__path__)[0])" 2>/dev/null)
export PATH=$C/bin:$PATH PYTHONUNBUFFERED=1
export LD_LIBRARY_PATH=$C/bin:$NV/cudnn/lib:$NV/cublas/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
L=$out/logs
sum=$out/summary.txt
say() { echo "$*" | tee -a "$sum"; }
cd "$S"
say "== $(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name,driver_version,temperature.gpu,power.draw --format=csv,noheader)"
mkdir -p $D
joulebench data synth syn -o $D --train 45000 --test 5000 > /dev/null 2>&1
python3 workloads/common/export_init.py --model resnet50 --classes 10 --seed 1 -o $D/r50.npz > /dev/null

chk() { local name=$1; shift
  timeout 60 "$NT" "$@" --check-out $D/$name.npz > $L/$name.log 2>&1
  say "$name rc=$? $(tail -1 $L/$name.log)"; }
ref() { local name=$1; shift
  timeout 90 python3 bench/gpu/native_check.py torch-ref "$@" -o $D/$name.npz > $L/$name.log 2>&1
  say "$name rc=$? $(tail -1 $L/$name.log)"; }
cmp_() { say "-- compare $*"; python3 bench/gpu/native_check.py compare "$@" 2>&1 | tee -a "$sum"; }
A="--dataset syn --data-dir $D --init $D/r50.npz --batch-size 128"

say "== one step, 32x32, batch 128, fp32, lr 1e-3 and 1e-4"
chk n3 $A --algo heuristic
ref t3 $A --precision fp32
ref d3 $A --precision fp64
cmp_ $D/n3.npz $D/t3.npz $D/d3.npz --init $D/r50.npz
chk n4 $A --algo heuristic --lr 0.0001
ref t4 $A --precision fp32 --lr 0.0001
cmp_ $D/n4.npz $D/t4.npz --init $D/r50.npz
say "== graph against eager (NCHW), NHWC against PyTorch, NHWC graph against NHWC eager"
chk n3g $A --algo heuristic --graph
cmp_ $D/n3g.npz $D/n3.npz
chk h3 $A --algo heuristic --layout nhwc
cmp_ $D/h3.npz $D/t3.npz $D/d3.npz --init $D/r50.npz
chk h3g $A --algo heuristic --layout nhwc --graph
cmp_ $D/h3g.npz $D/h3.npz

say "== profiles (batch 128, eager, ms per step by operation kind)"
for v in "fp32 nchw" "fp32 nhwc" "tf32 nhwc" "bf16 nhwc"; do
  set -- $v
  timeout 60 "$NT" $A --precision $1 --layout $2 --profile 5 --check-out $D/p.npz > $L/prof-$1-$2.log 2>&1
  say "$1 $2: $(grep 'profile:' $L/prof-$1-$2.log | sed 's/.*profile: //')"
done

st() { local name=$1; shift
  timeout 100 joulebench stat -q -m gpu0 --json $L/$name.json -o $D/rd-$name -- "$@" > $L/$name.log 2>&1
  say "$name rc=$? $(tail -1 $L/$name.log)"
  cp $D/rd-$name/samples.csv $L/$name.samples.csv 2>/dev/null
  cp $D/rd-$name/phases.csv $L/$name.phases.csv 2>/dev/null; }
say "== speed and energy, NHWC, ResNet-50, batch 128, 2 epochs (epoch 2)"
st nhwc_fp32_graph "$NT" $A --epochs 2 --layout nhwc --graph
st nhwc_tf32_graph "$NT" $A --epochs 2 --layout nhwc --graph --precision tf32
st nhwc_bf16_graph "$NT" $A --epochs 2 --layout nhwc --graph --precision bf16
python3 bench/gpu/native_check.py energy $L/nhwc_*.json 2>&1 | tee -a "$sum"

say "== native-bench.sh on a two-run grid (native graph, pytorch graph; R50, batch 128, 2 epochs)"
cat > /tmp/mini.yaml <<'YAML'
name: mini
levels:
  trainer: [native, pytorch]
  mode: [graph]
  model: [resnet50]
  batch_size: [128]
repeats: 1
order: random
seed: 1
idle_baseline_s: 2
cooldown: {seconds: 2}
timeout_s: 150
meters: gpu
command: [python3, "workloads/{trainer}/train.py", --dataset, synth-cifar10-45k, --data-dir, data,
          --model, "{model}", --batch-size, "{batch_size}", --epochs, "2", --precision, fp32,
          --mode, "{mode}", --data-on-device, --init, "data/init-{model}-c10.npz", --seed, "1"]
YAML
mkdir -p $S/data && ln -sfn $D/syn $S/data/synth-cifar10-45k && cp $D/r50.npz $S/data/init-resnet50-c10.npz
cd "$OLDPWD" 2>/dev/null || cd /
cd "$(dirname "$C")"
GRID=/tmp/mini.yaml timeout 130 bash "$S/bench/gpu/native-bench.sh" "$out/bench" 110 > $L/bench.log 2>&1
say "bench rc=$?"; tail -8 $L/bench.log | tee -a "$sum"
mv "$out/bench/results.tgz" "$out/mini-results.tgz" 2>/dev/null
tar czf $out/logs.tgz -C $out logs && rm -rf $L "$out/bench"
say "== done $(date -u +%FT%TZ)"
