#!/usr/bin/env bash
# The GPU checks of issue 8 in one device call (~3 minutes): the counter-anchored phase estimator on
# a real NVIDIA GPU (gpu0).
#   1. split consistency: one steady load split into 1 s, 300 ms, 100 ms and 30 ms phases: the sum
#      of each length's phases vs the whole (goal 0.5%), each phase vs its duration x the mean power
#      (within its interval?);
#   2. 25 ms bursts every 101 ms, 1 s phases: counter energies steady, the aliasing flag raised;
#   3. eval-like 30 ms phases after idle: non-zero, above idle power, flagged below resolution.
# stat's run directory does not carry the new per-phase fields yet (intervals, flags): they are
# read by replaying each run's samples.csv and phases.csv through the library
# (bench/gpu/phase_replay.c, compiled here from the tree).  Writes everything under OUTDIR.
# Needs the carried build in .devbin (joulebench and its shared libraries), a C compiler, python3
# with torch.  Usage on the GPU machine: bench/gpu/phase-checks.sh [OUTDIR]   (default: $OUT)
# (PHASE_CHECKS_METER=sim:nvml:... and PHASE_CHECKS_LOAD=a mock load try the pipeline without a
# GPU; the numbers are then the simulation's.)
set -uo pipefail
out=${1:-${OUT:?OUTDIR or OUT}}
mkdir -p "$out"
export LD_LIBRARY_PATH=$PWD/.devbin:${LD_LIBRARY_PATH:-} PATH=$PWD/.devbin:$PATH
nvidia-smi --query-gpu=name,driver_version,power.limit,temperature.gpu --format=csv,noheader \
  | tee "$out/gpu.txt"
joulebench --version 2>/dev/null | head -1 | tee -a "$out/gpu.txt"
cc -O2 -Iinclude -Isrc/lib -Isrc/json -Isrc/list bench/gpu/phase_replay.c src/lib/*.c src/json/*.c src/list/*.c -lpthread -ldl -lm \
  -o "$out/phase_replay" || { echo "cannot build phase_replay"; exit 1; }

run() { # NAME ARGS...: one measured run of phase_load.py, then its replay
  local name=$1; shift
  echo "== $name"
  timeout 120 joulebench stat -i 10 -m "${PHASE_CHECKS_METER:-gpu0}" --json "$out/$name.json" \
    -o "$out/$name" -- python3 "${PHASE_CHECKS_LOAD:-bench/gpu/phase_load.py}" "$@" \
    > "$out/$name.log" 2>&1
  echo "stat rc=$?"
  "$out/phase_replay" "$out/$name" > "$out/$name.phases.jsonl" || echo "replay failed"
}
run split split --group-s 8
run bursts bursts --seconds 20
run eval eval --count 12

python3 - "$out" <<'PY' | tee "$out/summary.txt"
import json, os, statistics as st, sys
out = sys.argv[1]
def load(name):
    rows = [json.loads(l) for l in open(os.path.join(out, name + ".phases.jsonl"))]
    return [r for r in rows if "phase" in r], [r for r in rows if "meter_stats" in r]
def pct(x): return "%.2f%%" % (100 * x)

print("== 1. split consistency (one steady load)")
ph, ms = load("split")
by = {}
for r in ph: by.setdefault(r["phase"], []).append(r)
for L in (1000, 300, 100, 30):
    g = by.get("group%d" % L, [None])[0]
    parts = [r for r in by.get("split%d" % L, []) if not r["partial"]]
    if not g or not parts:
        print(L, "ms: missing"); continue
    s = sum(r["energy_j"] for r in parts)
    w_mean = g["energy_j"] / g["duration_s"]
    inside = sum(1 for r in parts if r["bounds"] and r["energy_j_lo"] <= w_mean * r["duration_s"] <= r["energy_j_hi"])
    dev = [abs(r["energy_j"] / (w_mean * r["duration_s"]) - 1) for r in parts]
    hw = [(r["energy_j_hi"] - r["energy_j_lo"]) / 2 / r["energy_j"] for r in parts if r["bounds"]]
    flagged = sum(1 for r in parts if "below_resolution" in r["flags"])
    print(f"{L:5d} ms: {len(parts)} phases, sum {s:.1f} J vs whole {g['energy_j']:.1f} J "
          f"({pct(s / g['energy_j'] - 1)}); mean power {w_mean:.1f} W; vs duration x mean power: "
          f"mean {pct(st.mean(dev))} max {pct(max(dev))}; duration x mean power inside the interval "
          f"{inside}/{len(parts)}; mean interval half-width {pct(st.mean(hw)) if hw else '-'}; "
          f"flagged below resolution {flagged}/{len(parts)}; power integral vs counter "
          f"{pct(st.mean(r['power_rel_diff'] for r in parts))}")
for m in ms: print("meter:", m)

print("== 2. 25 ms bursts every 101 ms, 1 s phases")
ph, ms = load("bursts")
sec = [r for r in ph if r["phase"] == "second" and not r["partial"] and r["duration_s"] > 0.9]
if sec:
    e = [r["energy_j"] / r["duration_s"] for r in sec]
    pw = [r["energy_j_power"] / r["duration_s"] for r in sec]
    al = sum(1 for r in sec if "aliasing" in r["flags"])
    print(f"{len(sec)} phases: counter W mean {st.mean(e):.1f} sd {st.pstdev(e):.1f} "
          f"(min {min(e):.1f}, max {max(e):.1f}); instant-power integral W min {min(pw):.1f} max "
          f"{max(pw):.1f}; aliasing flagged {al}/{len(sec)}; peak {max(r['peak_power_w'] for r in sec):.0f} W "
          f"({sec[0]['peak_power_source']}), update-interval peak {max(r['peak_interval_power_w'] for r in sec):.0f} W")
for m in ms: print("meter:", m)

print("== 3. eval-like 30 ms phases after idle")
ph, ms = load("eval")
ev = [r for r in ph if r["phase"] == "eval" and not r["partial"]]
for r in ev:
    print(f"eval {r['index']}: {r['duration_s']*1e3:.1f} ms, {r['energy_j']:.2f} J "
          f"[{r['energy_j_lo']:.2f}, {r['energy_j_hi']:.2f}], {r['energy_j']/r['duration_s']:.0f} W, "
          f"idle {r['idle_power_w']:.0f} W, flags {','.join(r['flags'])}")
if ev:
    print(f"non-zero {sum(1 for r in ev if r['energy_j'] > 0)}/{len(ev)}; at or above idle x duration "
          f"{sum(1 for r in ev if r['energy_j'] >= r['idle_power_w'] * r['duration_s'] * (1 - 1e-6))}/{len(ev)}; "
          f"flagged below resolution {sum(1 for r in ev if 'below_resolution' in r['flags'])}/{len(ev)}")
for m in ms: print("meter:", m)
PY
