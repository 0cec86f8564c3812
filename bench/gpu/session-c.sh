#!/usr/bin/env bash
# Third device call (2026-11-28, short device budget): experiments/quick.yaml after its speed-ups
# (whole batches, JAX compilation cache) for SECONDS, to compare its per-run rate with session-b's
# (11 runs in 400 s) over the same random order, and each run's startup time.
# Usage on the GPU machine: bench/gpu/session-c.sh OUTDIR SECONDS
set -uo pipefail
out=${1:?OUTDIR}
secs=${2:-270}
mkdir -p "$out"
export LD_LIBRARY_PATH=$PWD/.devbin PATH=$PWD/.devbin:$PATH
nvidia-smi --query-gpu=name,driver_version,power.limit,temperature.gpu --format=csv,noheader
joulebench data synth synth-cifar10 --train 5120 --test 1024 -o data
t0=$(date +%s.%N)
timeout -s INT "$secs" joulebench run experiments/quick.yaml -o "$out/results" > "$out/run.log" 2>&1
echo "run rc=$? after $(python3 -c "import time; print(round(time.time() - $t0, 1))") s"
tail -3 "$out/run.log"
python3 - "$out/results/quick" <<'PY'
import csv, glob, json, os, sys
rows = []
for m in sorted(glob.glob(os.path.join(sys.argv[1], "*", "manifest.json"))):
    d = os.path.dirname(m)
    man = json.load(open(m))
    if man.get("status") != "complete":
        continue
    ph = {(r["phase"], r["index"]): r for r in csv.DictReader(open(os.path.join(d, "phases.csv")))}
    st = ph.get(("startup", "0")) or next((v for k, v in ph.items() if k[0] == "startup"), None)
    e2 = next((v for k, v in ph.items() if k[0] == "epoch" and k[1] == "2"), None)
    rows.append((man.get("start_utc"), os.path.basename(d), man.get("duration_s"),
                 st and st["duration_s"], e2 and e2["duration_s"], e2 and e2["energy_j"],
                 (man.get("info") or {}).get("jax_compilation_cache_dir")))
for r in sorted(rows):
    print(*r[1:], sep="\t")
print("complete runs:", len(rows))
PY
ls data/jax-cache 2>/dev/null | wc -l
