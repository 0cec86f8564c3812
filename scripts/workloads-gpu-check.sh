#!/usr/bin/env bash
# Checks the Python workloads on a GPU machine (PyTorch and JAX; TensorFlow is not installed
# there): a small synthetic data set, the cross-framework equivalence on one batch in fp32 and
# fp64, and one short training per framework and precision, under 'joulebench stat -m gpu' when
# a built joulebench is given as $JB.  Prints what it compares; exits non-zero on a failure.
# Not part of CI (no GPU there).  Usage: [JB=build/joulebench] scripts/workloads-gpu-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}   # DEVICE=cpu N=32 BATCH=8: a quick try of this script without a GPU
N=${N:-2048}
BATCH=${BATCH:-128}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

"$PY" - "$T/data" "$N" <<'EOF'
import sys
sys.path.insert(0, ".")
import numpy as np
from workloads.common import data
rng = np.random.default_rng(1)
n = int(sys.argv[2])
x = rng.integers(0, 256, size=(n + n // 8, 32, 32, 3), dtype=np.uint8)
y = rng.integers(0, 10, size=n + n // 8)
data.write(sys.argv[1] + "/syn", x[:n], y[:n], x[n:], y[n:], {"num_classes": 10})
EOF

common=(--dataset syn --data-dir "$T/data" --device "$DEVICE" --batch-size "$BATCH")
for prec in fp32 fp64; do
  for fw in pytorch jax; do
    "$PY" workloads/$fw/train.py "${common[@]}" --precision $prec --check-out "$T/$fw-$prec.npz"
  done
done
"$PY" - "$T" <<'EOF'
import sys
import numpy as np
t = sys.argv[1]
ok = True
for prec, tol in (("fp32", 1e-4), ("fp64", 1e-9)):
    a, b = np.load("%s/pytorch-%s.npz" % (t, prec)), np.load("%s/jax-%s.npz" % (t, prec))
    r0 = np.abs(a["outputs0"] - b["outputs0"]).max() / np.abs(a["outputs0"]).max()
    r1 = np.abs(a["outputs1"] - b["outputs1"]).max() / np.abs(a["outputs1"]).max()
    print("%s: logits rel %.2e, loss0 %.6f/%.6f, after step: outputs rel %.2e, loss %.6f/%.6f"
          % (prec, r0, a["loss0"], b["loss0"], r1, a["loss1"], b["loss1"]))
    ok &= bool(r0 < tol)
sys.exit(0 if ok else 1)
EOF

for fw in pytorch jax; do
  for prec in fp32 tf32 bf16; do
    cmd=("$PY" workloads/$fw/train.py "${common[@]}" --epochs 2 --precision $prec)
    if [ -n "${JB:-}" ]; then
      "$JB" stat -q -m "$([ "$DEVICE" = cuda ] && echo gpu || echo sim)" --json "$T/$fw-$prec.json" -- "${cmd[@]}"
    else
      "${cmd[@]}"
    fi
  done
  "$PY" workloads/$fw/train.py "${common[@]}" --epochs 1 --data-on-device --compile
done
"$PY" workloads/pytorch/train.py "${common[@]}" --epochs 1 --impl stock --channels-last
echo "workloads GPU check: OK"
