#!/usr/bin/env bash
# Harness overhead of 'joulebench run' per run, outside idle baseline and cooldown (issue 3, 8):
#   (wall time of the whole run - sum of command durations - sum of idle baselines) / runs
# Usage: bench/gpu/overhead.sh RESULTS
set -euo pipefail
res=${1:?RESULTS}
t0=$(date +%s.%N)
joulebench run bench/gpu/overhead.yaml -o "$res"
t1=$(date +%s.%N)
python3 - "$res/overhead" "$t0" "$t1" <<'PY'
import json, sys
from pathlib import Path
runs = [json.load(open(p)) for p in sorted(Path(sys.argv[1]).glob("*/manifest.json"))]
wall = float(sys.argv[3]) - float(sys.argv[2])
cmd = sum(r["duration_s"] for r in runs)
idle = sum((r.get("idle") or {}).get("duration_s", 0) for r in runs)
n = len(runs)
print(f"overhead: {n} runs, wall {wall:.2f} s, commands {cmd:.2f} s, idle baselines {idle:.2f} s, "
      f"harness {(wall - cmd - idle):.2f} s = {(wall - cmd - idle) / n:.3f} s per run "
      f"(includes the runner's own start and exit once)")
PY
