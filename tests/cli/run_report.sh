#!/usr/bin/env bash
# End to end without a GPU: a grid on the simulated meter whose command marks startup, epochs and
# eval metrics through the protocol, then 'report': the figures, confidence intervals in
# configs.csv (utilisation: none on a simulated meter, so that figure is skipped with its
# reason), and the simulated meter said so in report.json, summary.md and index.html.
. "$(dirname "$0")/lib.bash"
W="$(cd "$(dirname "$0")" && pwd)/data/workload.py"
cat > "$T/g.yaml" <<Y
name: e2e
levels:
  framework: [alpha, beta]
  batch_size: [32, 64]
repeats: 2
meters: "sim:square=80:240:200:0.5"
idle_baseline_s: 0.2
command: [python3, "$W", "2", "0.2"]
Y
jb run "$T/g.yaml" -o "$T/res" --quiet
jb report "$T/res" -o "$T/rep" 2>"$T/rep.err"
for f in timeseries energy power accuracy; do
  [ -s "$T/rep/fig/$f.svg" ] && [ -s "$T/rep/fig/$f.png" ] || fail "figure $f missing"
done
# The simulated meter has no utilisation: that figure is skipped, with the reason recorded.
python3 - "$T/rep/fig/figures.json" <<'PY'
import json, sys
figs = {f["name"]: f for f in json.load(open(sys.argv[1]))["figures"]}
assert all(figs[n]["made"] for n in ("timeseries", "energy", "power", "accuracy")), figs
assert figs["gpu_util"]["made"] is False and "gpu_util_pct" in figs["gpu_util"]["reason"], figs
PY
python3 - "$T/rep" <<'PY'
import csv, json, sys
rep = sys.argv[1]
rows = list(csv.DictReader(open(rep + "/configs.csv")))
assert len(rows) == 4, len(rows)
for r in rows:
    assert r["n"] == "2", r
    assert float(r["energy_j_mean"]) > 0 and r["energy_j_ci95"] != "", r
    assert r["final_accuracy_mean"] != "", r
j = json.load(open(rep + "/report.json"))
assert j["simulated"] is True
assert "SIMULATED" in open(rep + "/summary.md").read()
assert 'id="simulated"' in open(rep + "/index.html").read()
PY
echo "run + report: all passed"
