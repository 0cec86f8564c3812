#!/usr/bin/env bash
# Device calls of 2026-12-03 (session F), issue 11: bench/gpu/frameworks-sample.yaml (46 runs,
# one repeat) under `joulebench run`, resuming from .native-carry/results.tgz, then the table of
# docs/BENCHMARKS.md: each run directory replayed through the library (bench/gpu/phase_replay.c,
# built here from the tree) and bench/gpu/frameworks_table.py.  Everything comes back under
# OUTDIR: results.tgz (put it in .native-carry/ for the next call), table.md, fw.log.
# Needs .native-carry (bench/gpu/native-carry.sh).
# Usage on the GPU machine, from the checkout root: bench/gpu/session-f.sh OUTDIR [SECONDS]
set -uo pipefail
out=${1:?OUTDIR}
secs=${2:-500}
root=$PWD
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,power.limit,temperature.gpu --format=csv,noheader | tee "$out/gpu.txt"
echo "== frameworks-sample, $secs s ($(date -u +%T))"
GRID=bench/gpu/frameworks-sample.yaml bash bench/gpu/native-bench.sh "$out/fw" "$secs" > "$out/fw.log" 2>&1
grep -E 'complete in|interrupted|grid |run: rc' "$out/fw.log" | tail -6
mv "$out/fw/results.tgz" "$out/results.tgz"
echo "== table ($(date -u +%T))"
t=/tmp/fwtable
rm -rf "$t" && mkdir -p "$t"
tar xzf "$out/results.tgz" -C "$t"
cc -O2 -Iinclude -Isrc/lib -Isrc/json -Isrc/list bench/gpu/phase_replay.c src/lib/*.c src/json/*.c \
  src/list/*.c -lpthread -ldl -lm -o "$t/phase_replay" || { echo "cannot build phase_replay"; exit 1; }
n=0
for d in "$t"/frameworks-sample/*/; do
  [ -f "$d/manifest.json" ] || continue
  "$t/phase_replay" "$d" > "$d/replay.jsonl" 2> "$d/replay.err" || echo "replay failed: $d"
  n=$((n + 1))
done
echo "$n run directories replayed"
(cd "$t" && python3 "$root/bench/gpu/frameworks_table.py") > "$out/table.md"
cat "$out/table.md"
ls -la "$out"
