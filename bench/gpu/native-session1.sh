#!/usr/bin/env bash
# First device call for the native trainer (issue 11): environment, correctness against PyTorch
# (forward, one SGD step, 32x32 and 128x128 inputs, fp32 against fp64), the graph mode against
# eager, 3-epoch training curves, and first speed/energy numbers.
# Usage on the GPU machine, from the checkout root, with .native-carry/ built by
# bench/gpu/native-carry.sh here:  bash .native-carry/src/bench/gpu/native-session1.sh "$OUT"
set -uo pipefail
out=${1:?OUTDIR}
mkdir -p "$out/logs"
C=$PWD/.native-carry
S=$C/src
NT=$C/bin/jb-native-train
D=/tmp/jbdata
NV=$(python3 -c "import nvidia, os; print(list(nvidia.__path__)[0])" 2>/dev/null)
export PATH=$C/bin:$PATH PYTHONUNBUFFERED=1
export LD_LIBRARY_PATH=$C/bin:$NV/cudnn/lib:$NV/cublas/lib:$NV/cuda_runtime/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
L=$out/logs
sum=$out/summary.txt
say() { echo "$*" | tee -a "$sum"; }
cd "$S"

say "== environment $(date -u +%FT%TZ)"
nvidia-smi --query-gpu=name,driver_version,power.limit,temperature.gpu,clocks.sm,power.draw --format=csv | tee -a "$sum"
python3 -c "import torch, torchvision; print('torch', torch.__version__, 'cudnn', torch.backends.cudnn.version(), torch.cuda.get_device_name())" 2>&1 | tee -a "$sum"
ldd "$NT" | grep -E "cudnn|cublas|not found" | tee -a "$sum"
ls "$NV" | tr '\n' ' ' >> "$sum"; echo >> "$sum"

say "== data"
mkdir -p $D
joulebench data synth syn -o $D --train 45000 --test 5000 2>&1 | tail -1 | tee -a "$sum"
python3 workloads/common/export_init.py --model resnet50 --classes 10 --seed 1 -o $D/r50.npz | tee -a "$sum"
python3 - <<'EOF' 2>&1 | tee -a "$sum"
# 128x128 versions of the first synthetic images (each pixel repeated 4x4): the same network
# with 4x4 feature maps in its last stage, where float32 is far less noisy (docs/workloads.md).
import numpy as np, sys
sys.path.insert(0, ".")
from workloads.common import data
ds = data.load("/tmp/jbdata", "syn", 256, 64)
up = lambda x: np.repeat(np.repeat(x, 4, axis=1), 4, axis=2)
data.write("/tmp/jbdata/syn128", up(ds.train_x), ds.train_y, up(ds.test_x), ds.test_y,
           {"num_classes": 10})
print("syn128:", up(ds.train_x).shape)
EOF

chk() { # name, native args...
  local name=$1; shift
  timeout 60 "$NT" "$@" --check-out $D/$name.npz > $L/$name.log 2>&1
  say "$name rc=$? $(tail -1 $L/$name.log)"
}
ref() { # name, torch-ref args...
  local name=$1; shift
  timeout 90 python3 bench/gpu/native_check.py torch-ref "$@" -o $D/$name.npz > $L/$name.log 2>&1
  say "$name rc=$? $(tail -1 $L/$name.log)"
}
cmp_() { say "-- compare $*"; python3 bench/gpu/native_check.py compare "$@" 2>&1 | tee -a "$sum"; }

say "== one step, 32x32, batch 128, lr 0.001, fp32 (TF32 off)"
A32="--dataset syn --data-dir $D --init $D/r50.npz --batch-size 128"
chk n32 $A32 --algo heuristic
if ! grep -q "^check:" $L/n32.log; then
  say "native check failed; memcheck on a small run:"
  timeout 100 compute-sanitizer --tool memcheck "$NT" $A32 --batch-size 8 --limit-train 16 --limit-test 8 --algo heuristic --check-out $D/ms.npz > $L/memcheck.log 2>&1
  head -60 $L/memcheck.log | tee -a "$sum"
fi
chk n32g $A32 --algo heuristic --graph
chk n32f $A32
ref t32 $A32 --precision fp32
ref t64 $A32 --precision fp64
cmp_ $D/n32.npz $D/t32.npz $D/t64.npz --init $D/r50.npz
cmp_ $D/n32g.npz $D/n32.npz
cmp_ $D/n32f.npz $D/t32.npz

say "== one step, 128x128, batch 32, lr 0.001, fp32"
A128="--dataset syn128 --data-dir $D --init $D/r50.npz --batch-size 32"
chk n128 $A128 --algo heuristic
ref t128 $A128 --precision fp32
ref t128d $A128 --precision fp64
cmp_ $D/n128.npz $D/t128.npz $D/t128d.npz --init $D/r50.npz

say "== tf32 and bf16 steps against PyTorch's"
chk ntf $A32 --algo heuristic --precision tf32
ref ttf $A32 --precision tf32
cmp_ $D/ntf.npz $D/ttf.npz $D/t64.npz
chk nbf $A32 --algo heuristic --precision bf16
ref tbf $A32 --precision bf16
cmp_ $D/nbf.npz $D/tbf.npz $D/t64.npz

st() { # name, command... : under joulebench stat (GPU counter), JSON and run directory
  local name=$1; shift
  timeout 120 joulebench stat -q -m gpu0 --json $L/$name.json -o $D/rd-$name -- "$@" > $L/$name.log 2>&1
  say "$name rc=$? $(grep -c '^epoch' $L/$name.log) epochs; $(tail -1 $L/$name.log)"
  cp $D/rd-$name/samples.csv $L/$name.samples.csv 2>/dev/null
  cp $D/rd-$name/phases.csv $L/$name.phases.csv 2>/dev/null
}
say "== 3-epoch curves, 32x32, batch 128, fp32"
st curve_native_graph "$NT" $A32 --epochs 3 --graph
st curve_torch python3 workloads/pytorch/train.py $A32 --epochs 3 --data-on-device --precision fp32
python3 bench/gpu/native_check.py curves $L/curve_native_graph.log $L/curve_torch.log | tee -a "$sum"

say "== speed and energy, ResNet-50, 32x32, batch 128, 2 epochs (epoch 2 reported)"
A2="$A32 --epochs 2"
st native_fp32_eager "$NT" $A2
st native_tf32_graph "$NT" $A2 --precision tf32 --graph
st native_bf16_graph "$NT" $A2 --precision bf16 --graph
st torch_fp32_graph python3 workloads/pytorch/train.py $A2 --data-on-device --precision fp32 --mode graph
st torch_tf32_eager python3 workloads/pytorch/train.py $A2 --data-on-device --precision tf32
python3 bench/gpu/native_check.py energy $L/curve_native_graph.json $L/curve_torch.json $L/native_*.json $L/torch_*.json 2>&1 | tee -a "$sum"
nvidia-smi --query-gpu=temperature.gpu,clocks.sm,power.draw --format=csv,noheader | tee -a "$sum"
tar czf $out/logs.tgz -C $out logs && rm -rf $L
say "== done $(date -u +%FT%TZ)"
