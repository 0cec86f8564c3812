#!/usr/bin/env bash
# The estimator wired into the tool (issue 8), on the NVML-faithful simulated meter (a counter that
# moves every 100 ms and is stale in between): phases.csv of 'stat -o'.
# 1. 30 ms 'eval' phases between two counter updates: energy_j > 0 and at least the meter's
#    lowest power x duration, the below_resolution flag, and an interval [energy_j_lo, energy_j_hi]
#    that holds the true energy (300 W x duration); the manifest counts the flag and describes the
#    counter (stepped, 100 ms period); no *.partial left.
# 2. 1 s phases tiling an enclosing phase on a square-wave load: their sum equals it within 0.1%.
# 3. A run directory in the old format (phases.csv with its first ten columns, manifest without
#    the new keys) still reports.
. "$(dirname "$0")/lib.bash"
D="$(dirname "$0")/data"

jb stat -q -m sim:nvml:offset_ms=50:const=300 -o "$T/r1" -- python3 "$D/short_phases.py" 1.5 6 30 137
ls "$T/r1" | grep -q partial && fail "partial files left in the run directory"
python3 - "$T/r1" <<'PY'
import csv, json, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
c = m["meters"][0]["counter"]
assert m["meters"][0]["simulated"] is True, m["meters"][0]
assert c["stepped"] is True, c
assert c["update_period_s"] is not None and abs(c["update_period_s"] - 0.1) < 0.005, c
assert m["phase_results"]["flags"]["below_resolution"] >= 6, m["phase_results"]
tot = m["totals"][0]
assert "stepped" in tot["flags"] and tot["peak_power_source"] == "instant", tot
assert tot["energy_j_lo"] <= tot["energy_j"] <= tot["energy_j_hi"], tot
rows = list(csv.DictReader(open(d + "/phases.csv")))
ev = [r for r in rows if r["phase"] == "eval"]
assert len(ev) == 6, ev
idle = c["idle_power_w"]
for r in ev:
    e, dur = float(r["energy_j"]), float(r["duration_s"])
    lo, hi = float(r["energy_j_lo"]), float(r["energy_j_hi"])
    true = 300 * dur
    assert e > 0, r
    assert e >= idle * dur * (1 - 1e-9), (r, idle)
    assert "below_resolution" in r["flags"].split("|"), r
    assert lo <= true <= hi, (r, true)
    assert r["peak_power_source"] == "instant", r
    assert abs(float(r["update_period_s"]) - 0.1) < 0.005, r
cmd = [r for r in rows if r["phase"] == "command"][0]
assert "below_resolution" not in cmd["flags"], cmd
PY

jb stat -q -m sim:nvml:offset_ms=20:square=300:700:300:0.5 -o "$T/r2" -- \
  python3 "$D/tiled_phases.py" 0.5 4 1000
python3 - "$T/r2" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/phases.csv")))
parts = [float(r["energy_j"]) for r in rows if r["phase"] == "part"]
outer = [float(r["energy_j"]) for r in rows if r["phase"] == "outer"]
assert len(parts) == 4 and len(outer) == 1, rows
assert abs(sum(parts) - outer[0]) <= 0.001 * outer[0], (parts, outer)
for r in rows:
    if r["phase"] == "part":
        assert "below_resolution" not in r["flags"], r
        assert float(r["energy_j_lo"]) <= float(r["energy_j"]) <= float(r["energy_j_hi"]), r
PY

# The old format: a grid run, then its phases.csv cut to the first ten columns and the manifest
# stripped of the new keys, as joulebench 0.1 wrote them.
cat > "$T/g.yaml" <<Y
name: old
levels:
  a: [1]
repeats: 1
meters: "sim:nvml:const=200"
command: [python3, "$(cd "$D" && pwd)/short_phases.py", "0.3", "2", "30", "100"]
Y
jb run "$T/g.yaml" -o "$T/res" --quiet
run=$(ls -d "$T"/res/old/*/)
cut -d, -f1-10 "$run/phases.csv" > "$T/p" && mv "$T/p" "$run/phases.csv"
python3 - "$run/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m.pop("phase_results")
for x in m["meters"]:
    x.pop("counter")
for t in m["totals"]:
    for k in ("energy_j_lo", "energy_j_hi", "power_rel_diff", "peak_power_source",
              "peak_interval_power_w", "flags", "partial"):
        t.pop(k)
json.dump(m, open(sys.argv[1], "w"))
PY
expect_eq "old header" "$(head -1 "$run/phases.csv")" \
  "phase,index,meter,t_begin_s,t_end_s,duration_s,energy_j,energy_j_power,avg_power_w,items"
jb report "$T/res" -o "$T/rep" >"$T/rep.out" 2>"$T/rep.err" || { cat "$T/rep.err"; fail "report of an old run directory"; }
python3 - "$T/rep/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["runs"] == 1 and r["skipped_runs"] == 0 and r["bad_rows"] == 0, r
# two 30 ms eval phases at 200 W: 12 J, read from the old ten-column phases.csv
assert abs(r["configs"][0]["eval_energy_j"]["mean"] - 12) < 1.5, r["configs"][0]["eval_energy_j"]
PY
echo "phases.csv on sim:nvml: all passed"
