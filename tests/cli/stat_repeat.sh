#!/usr/bin/env bash
# joulebench stat -r N (issue 10 section 2): mean +- sd and the 95% CI (Student t) per meter and
# phase, every run in --json, RUNDIR/1..N, -r 1 says it has no CI, SIGINT stops the repeats with
# what was measured; -x rows (header, fields, quoting, simulated label); user/system CPU time;
# the GPU total and the carbon and cost lines summarised over the repeats.
. "$(dirname "$0")/lib.bash"
W="$(dirname "$0")/data/workload.py"
cd "$T"

# 1. -r 3 with phases: the table has mean +- sd and the CI; the JSON has 3 runs and a summary
#    whose CI is mean +- t(0.975, 2) sd / sqrt(3) of the runs' own values.
jb stat -r 3 -m sim:const=100 --json "$T/r3.json" -o "$T/rd" -- python3 "$W" 2 0.1 2>"$T/r3.err"
expect_grep "runs in the header" "(3 of 3 runs)" "$T/r3.err"
expect_grep "mean +- sd and CI" "energy_J .* +- .*  \[.*, .*\] *3" "$T/r3.err"
expect_grep "phase summary" "epoch\[2\]" "$T/r3.err"
expect_grep "Student t" "Student t with 2 degrees of freedom" "$T/r3.err"
expect_grep "user time" "seconds user" "$T/r3.err"
expect_grep "simulated label" "SIMULATED" "$T/r3.err"
python3 - "$T/r3.json" <<'PY'
import json, math, statistics, sys
d = json.load(open(sys.argv[1]))
assert d["repeats"] == 3 and d["runs_done"] == 3 and d["interrupted"] is False, d
assert len(d["runs"]) == 3 and d["exit_status"] == 0
s = d["summary"]
assert s["n_runs"] == 3
vals = [r["meters"][0]["energy_j"] for r in d["runs"]]
m = s["meters"][0]
assert m["simulated"] is True and m["energy_source"] == "simulated", m
e = m["energy_j"]
t = 4.302652729911275  # t(0.975, 2)
half = t * statistics.stdev(vals) / math.sqrt(3)
assert abs(e["mean"] - statistics.mean(vals)) < 1e-6, (e, vals)
assert abs(e["sd"] - statistics.stdev(vals)) < 1e-6, (e, vals)
assert abs(e["ci95_lo"] - (e["mean"] - half)) < 1e-6 and abs(e["ci95_hi"] - (e["mean"] + half)) < 1e-6, e
assert e["n"] == 3
ph = [p for p in s["phases"] if p["phase"] == "epoch" and p["index"] == 2]
assert len(ph) == 1 and ph[0]["energy_j"]["n"] == 3 and ph[0]["simulated"] is True, ph
assert [p["phase"] for p in s["phases"]][0] == "startup", s["phases"]  # in the order they came
for r in d["runs"]:
    assert r["cpu_user_s"] is not None and r["cpu_sys_s"] is not None, r
    for p in r["phases"]:
        for k in ("energy_j_lo", "energy_j_hi", "power_rel_diff", "peak_power_w",
                  "peak_power_source", "peak_interval_power_w", "update_period_s", "flags"):
            assert k in p, (k, p)
        assert isinstance(p["flags"], list)
        if p["energy_j_lo"] is not None:
            assert p["energy_j_lo"] <= p["energy_j"] <= p["energy_j_hi"], p
PY
for i in 1 2 3; do [ -f "$T/rd/$i/manifest.json" ] || fail "run directory rd/$i lacks manifest.json"; done
[ -e "$T/rd/manifest.json" ] && fail "-r wrote a run directory at RUNDIR itself"

# 2. -r 1: one run, and the table says there is no confidence interval; JSON sd/CI are null.
jb stat -r 1 -m sim --json "$T/r1.json" -- true 2>"$T/r1.err"
expect_grep "n=1 says no CI" "no confidence interval" "$T/r1.err"
python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); e=d['summary']['meters'][0]['energy_j']
assert len(d['runs']) == 1 and e['n'] == 1 and e['sd'] is None and e['ci95_lo'] is None, e" "$T/r1.json"

# 3. Bad repeat counts are usage errors.
set +e
jb stat -r 0 -m sim -- true 2>"$T/e0"; rc=$?
expect_eq "-r 0" "$rc" 2
expect_grep "-r 0 message" "bad repeat count '0': expected 1..1000" "$T/e0"
jb stat -r 1001 -m sim -- true 2>/dev/null; rc=$?
expect_eq "-r 1001" "$rc" 2
set -e

# 4. SIGINT during the second run: the repeats stop, the first run is summarised, the second is
#    in the JSON as interrupted, the status is 130.  The first run is short, the second long.
set +e
jb_bg stat -r 5 -m sim --json "$T/int.json" -o "$T/ri" -- \
  sh -c 'if [ -e "$0/once" ]; then sleep 30; else touch "$0/once"; fi' "$T" 2>"$T/int.err"
pid=$!
wait_for "$T/ri/2/samples.csv.partial"
sleep 0.3
kill -INT "$pid"
wait "$pid"; rc=$?
set -e
expect_eq "interrupted status" "$rc" 130
python3 - "$T/int.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["interrupted"] is True and d["repeats"] == 5, d
assert d["runs_done"] == 2, d["runs_done"]
assert d["runs"][1]["status"] == "interrupted", d["runs"][1]
assert d["summary"]["n_runs"] == 1, d["summary"]
PY
expect_grep "table says interrupted" "interrupted" "$T/int.err"
[ -e "$T/ri/3" ] && fail "a third run started after SIGINT"

# 5. -x rows: a header, fields in the documented order, the simulated label, sd and CI with -r.
jb stat -x , -m sim:const=50 -- python3 -c '
import os, json, time
fd = int(os.environ["JOULEBENCH_FD"])
t = time.monotonic_ns
os.write(fd, (json.dumps({"t": t(), "event": "begin", "phase": "warm,up", "index": 0}) + "\n").encode())
time.sleep(0.1)
os.write(fd, (json.dumps({"t": t(), "event": "end", "phase": "warm,up", "index": 0}) + "\n").encode())
' 2>"$T/x1"
python3 - "$T/x1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
assert rows[0] == ["value", "unit", "event", "meter", "phase", "index", "sd", "ci95_lo",
                   "ci95_hi", "n", "source", "flags"], rows[0]
body = [dict(zip(rows[0], r)) for r in rows[1:]]
assert all(len(r) == 12 for r in rows), rows
e = [r for r in body if r["event"] == "energy" and r["phase"] == "command"]
assert len(e) == 1 and e[0]["unit"] == "J" and e[0]["meter"] == "sim0", e
assert e[0]["source"] == "simulated" and "simulated" in e[0]["flags"].split("+"), e
assert e[0]["sd"] == "" and e[0]["n"] == "1", e
w = [r for r in body if r["phase"] == "warm,up" and r["event"] == "energy"]
assert len(w) == 1 and abs(float(w[0]["value"]) - 5.0) < 1.0, w   # quoted, parsed back whole
assert any(r["event"] == "cpu_user" and r["unit"] == "s" for r in body), body
PY
grep -q "joulebench stat for" "$T/x1" && fail "-x printed the table too"
jb stat -r 2 -x ';' -m sim -- true 2>"$T/x2"
python3 - "$T/x2" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
body = [dict(zip(rows[0], r)) for r in rows[1:]]
e = [r for r in body if r["event"] == "energy" and r["phase"] == "command"][0]
assert e["n"] == "2" and e["sd"] != "" and float(e["ci95_lo"]) <= float(e["value"]) <= float(e["ci95_hi"]), e
PY

# 6. CPU time of a busy command: user time > 0 in the JSON and the table (never exact ticks).
jb stat -m sim --json "$T/cpu.json" -- python3 -c '
import time
end = time.process_time() + 0.3
while time.process_time() < end:
    pass
' 2>"$T/cpu.err"
python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
assert d['cpu_user_s'] > 0 and d['cpu_sys_s'] >= 0, d" "$T/cpu.json"
expect_grep "table user time" "seconds user" "$T/cpu.err"
expect_grep "table sys time" "seconds sys" "$T/cpu.err"
# 7. -r with two GPU-like meters and carbon factors: the GPU total and the carbon and cost lines
#    are each run's own figures summarised (means equal the runs' means; CI from their spread);
#    one meter: no GPU total (null in JSON, no row).
jb stat -r 3 -m sim:const=100,sim:const=50 --carbon-intensity 400 --price 0.25EUR --pue 1.5 \
  --json "$T/gc.json" -- sleep 0.2 2>"$T/gc.err"
expect_grep "GPU total row" "GPU total *energy_J .* +- .*  \[.*, .*\] *3  sum of 2 GPUs  SIMULATED" "$T/gc.err"
expect_grep "spread row" "spread_% *66.7" "$T/gc.err"
expect_grep "carbon header" "carbon and cost .*per run: sim0 + sim1 (SIMULATED)" "$T/gc.err"
expect_grep "CO2e row" "carbon kg CO2e .* +- .*  3  (400 g/kWh: command line)" "$T/gc.err"
expect_grep "cost row" "cost EUR .* +- .*  3  (0.25 EUR/kWh: command line)" "$T/gc.err"
expect_grep "kWh row" "facility kWh .*  3  (x PUE 1.5: command line)" "$T/gc.err"
python3 - "$T/gc.json" <<'PY'
import json, math, statistics, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
runs = d["runs"]
t = 4.302652729911275  # t(0.975, 2)
def check(summ, vals, what):
    assert summ["n"] == len(vals) == 3, (what, summ)
    m = statistics.mean(vals)
    half = t * statistics.stdev(vals) / math.sqrt(3)
    assert abs(summ["mean"] - m) <= 1e-9 * abs(m), (what, summ, vals)
    assert abs(summ["ci95_hi"] - (m + half)) <= 1e-9 * abs(m) + 1e-12, (what, summ, vals)
g = s["gpu_total"]
assert g["n_gpus"] == 2 and g["simulated"] is True, g
check(g["energy_j"], [r["gpu_total"]["energy_j"] for r in runs], "gpu energy")
check(g["avg_power_w"], [r["gpu_total"]["avg_power_w"] for r in runs], "gpu power")
assert abs(g["spread"]["mean"] - 2 / 3) < 1e-9, g
c = s["carbon"]
assert c["currency"] == "EUR" and c["simulated"] is True and "sim0 + sim1" in c["included"], c
for k in ("energy_j", "facility_kwh", "kg_co2e", "cost"):
    check(c[k], [r["carbon"][k] for r in runs], k)
e = c["energy_j"]["mean"]
assert abs(c["kg_co2e"]["mean"] - e * 1.5 / 3.6e6 * 0.4) <= 1e-9 * e, c
PY
jb stat -r 2 -x , -m sim:const=100,sim:const=50 --carbon-intensity 400 -- sleep 0.1 2>"$T/gcx"
python3 - "$T/gcx" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
body = [dict(zip(rows[0], r)) for r in rows[1:]]
g = [r for r in body if r["meter"] == "gpu_total" and r["event"] == "energy"]
assert len(g) == 1 and g[0]["n"] == "2" and g[0]["source"] == "sum" and "simulated" in g[0]["flags"], g
c = [r for r in body if r["event"] == "co2e"]
assert len(c) == 1 and c[0]["unit"] == "kg" and c[0]["sd"] != "" and "simulated" in c[0]["flags"], c
assert not [r for r in body if r["event"] == "cost"], body   # no price given: no cost row
PY
jb stat -r 2 -m sim --json "$T/g1.json" -- true 2>"$T/g1.err"
grep -q "GPU total" "$T/g1.err" && fail "one meter: -r printed a GPU total"
grep -q "carbon and cost" "$T/g1.err" && fail "no factor: -r printed carbon lines"
python3 -c "
import json,sys; s=json.load(open(sys.argv[1]))['summary']
assert s['gpu_total'] is None and 'carbon' not in s, s" "$T/g1.json"
echo "stat_repeat: all passed"
