#!/usr/bin/env bash
# The GPU check of joulebench.Monitor (issue 10, section 1), one device call, ~40 s of GPU work:
#   1. bench/gpu/monitor_load.py alone: a steady 4 s bf16 matrix-product block, 1 s idle, six
#      300 ms busy / 200 ms idle pairs, all inside an "all" window, each measured in-process by a
#      Monitor window on gpu0; prints one window as a user sees it (for the closing note);
#   2. the same load under `joulebench stat -m gpu0`: each block is also a protocol phase whose
#      marks lie just outside the window's bounds; both estimators read the same GPU at the same
#      time, and the table puts the two energies side by side (and their average powers, since
#      the phase is a few ms longer: the window's bound reads).
# Needs, in the checkout on the GPU machine: .devbin/ with joulebench, libjoulebench.so.0 and
# their shared libraries (made here by `bench/gpu/monitor-check.sh --carry [CHECKOUT]`: a build
# with -DJB_WITH_ARCHIVE=OFF -DJB_WITH_MATIO=OFF -DJB_WITH_CAIRO=OFF -DJB_TESTS=OFF; .devbin must
# be git-ignored there and carried), python3 with torch.
# Usage on the GPU machine, from the checkout root: bench/gpu/monitor-check.sh [OUTDIR] (default
# $OUT).  Without a GPU: MONITOR_CHECK_METER=sim:nvml:const=300 MONITOR_CHECK_MOCK=1 tries the
# pipeline on a simulated meter (the numbers are then the simulation's, labelled simulated).
set -uo pipefail
if [ "${1:-}" = "--carry" ]; then
  set -e
  cd "$(dirname "$0")/../.."
  dest=${2:-$PWD}/.devbin
  build=${3:-build-carry}
  cmake -S . -B "$build" -G Ninja -DJB_WITH_ARCHIVE=OFF -DJB_WITH_MATIO=OFF -DJB_WITH_CAIRO=OFF \
    -DJB_TESTS=OFF >/dev/null
  nice ninja -C "$build" joulebench_bin libjoulebench.so >/dev/null
  mkdir -p "$dest"
  cp "$build/joulebench" "$dest/"
  cp -L "$build/libjoulebench.so.0" "$dest/"
  for lib in libyaml-0.so.2 libsqlite3.so.0 libnettle.so.8; do
    cp -L "$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')" "$dest/"
  done
  ls -l "$dest"
  exit 0
fi
out=${1:-${OUT:?OUTDIR or OUT}}
mkdir -p "$out"
meter=${MONITOR_CHECK_METER:-gpu0}
mock=()
[ -n "${MONITOR_CHECK_MOCK:-}" ] && mock=(--mock)
export LD_LIBRARY_PATH=$PWD/.devbin:${LD_LIBRARY_PATH:-} PATH=$PWD/.devbin:$PATH
export JOULEBENCH_LIBRARY=$PWD/.devbin/libjoulebench.so.0 PYTHONUNBUFFERED=1
[ -r "$JOULEBENCH_LIBRARY" ] || { echo "no $JOULEBENCH_LIBRARY (see --carry)"; exit 1; }
{
  date -u +%FT%TZ
  nvidia-smi --query-gpu=name,driver_version,power.limit,temperature.gpu --format=csv,noheader \
    2>/dev/null || echo "no nvidia-smi"
  python3 -c "import torch; print('torch', torch.__version__)" 2>/dev/null || echo "no torch"
  echo "meter $meter"
} | tee "$out/env.txt"

echo "== 1. in-process only"
timeout 120 python3 bench/gpu/monitor_load.py --meters "$meter" --out "$out/alone.json" \
  "${mock[@]}" 2>&1 | tee "$out/alone.log"
echo "rc=${PIPESTATUS[0]}"

echo "== 2. under joulebench stat, the same GPU"
timeout 120 joulebench stat -m "$meter" --json "$out/stat.json" -- python3 \
  bench/gpu/monitor_load.py --meters "$meter" --out "$out/monitor.json" "${mock[@]}" \
  > "$out/stat.log" 2>&1
echo "rc=$?"
tail -25 "$out/stat.log"

python3 - "$out" <<'PY' | tee "$out/summary.txt"
import json, os, sys
out = sys.argv[1]
try:
    stat = json.load(open(os.path.join(out, "stat.json")))
    mon = json.load(open(os.path.join(out, "monitor.json")))
except (OSError, ValueError) as e:
    sys.exit("no results to compare: %s" % e)
meter = mon["meters"][0]
sim = mon["simulated"] or any(m["simulated"] for m in stat["meters"])
print("meter %s%s; library %s" % (meter, "  [SIMULATED: not a measurement]" if sim else "",
                                  mon["library"]))
phases = {(p["phase"], p["index"]): p for p in stat["phases"] if p["meter"] == meter}
print("%-9s %10s %10s %7s   %9s %9s   %8s %8s  %s" % (
    "block", "stat J", "monitor J", "diff", "stat W", "mon W", "stat s", "mon s",
    "monitor interval, flags"))
tot_s = tot_m = 0.0
for w in mon["windows"]:
    p = phases.get((w["name"], w["index"]))
    e, t = w["energy_j"][meter], w["time_s"]
    lo, hi = w["energy_j_lo"][meter], w["energy_j_hi"][meter]
    flags = ",".join(w["flags"][meter] + (["partial"] if w["partial"][meter] else []))
    iv = "[%.1f, %.1f]" % (lo, hi) if lo is not None else "-"
    if p is None or p["energy_j"] is None or e is None:
        print("%-9s %10s %10.2f %7s   %9s %9.2f   %8s %8.4f  %s %s" % (
            "%s%d" % (w["name"], w["index"]), "-", e or float("nan"), "-", "-", e / t if e else 0,
            "-", t, iv, flags))
        continue
    tot_s += p["energy_j"]
    tot_m += e
    print("%-9s %10.2f %10.2f %+6.2f%%   %9.2f %9.2f   %8.4f %8.4f  %s %s%s" % (
        "%s%d" % (w["name"], w["index"]), p["energy_j"], e, 100 * (e / p["energy_j"] - 1),
        p["energy_j"] / p["duration_s"], e / t, p["duration_s"], t, iv, flags,
        "  (stat: partial)" if p["partial"] else ""))
if tot_s:
    print("sum of blocks: stat %.2f J, monitor %.2f J (%+.2f%%)" % (tot_s, tot_m,
                                                               100 * (tot_m / tot_s - 1)))
PY
