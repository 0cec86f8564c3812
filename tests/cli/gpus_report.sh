#!/usr/bin/env bash
# The report's view of jobs on several GPUs (issue 12, src/analysis/report_gpus.c): a simulated
# study on two GPU stand-ins of 100 W and 300 W (sim meters count as GPUs in the report) gets a
# "Several GPUs" section in summary.md, a "gpus" object in report.json and the section in
# index.html: the total (sum of both meters), J/image, per-GPU energy, min, max and the spread
# (300 - 100) / 200 = 1 in every phase group.  A study on one meter gets none of it.
source "$(dirname "$0")/lib.bash"
W="$(cd "$(dirname "$0")" && pwd)/data/workload.py"
cat > "$T/two.yaml" <<Y
name: two
levels:
  gpus: [2]
repeats: 2
meters: "sim:const=100,sim:const=300"
command: [python3, "$W", "2", "0.2"]
Y
sed -e 's/^name: two/name: one/' -e 's/^meters: .*/meters: "sim:const=100"/' "$T/two.yaml" \
  > "$T/one.yaml"
jb run "$T/two.yaml" -o "$T/res" --quiet
jb run "$T/one.yaml" -o "$T/res1" --quiet
jb report "$T/res/two" -o "$T/rep" --no-figures 2>"$T/rep.err"
jb report "$T/res1/one" -o "$T/rep1" --no-figures 2>"$T/rep1.err"

python3 - "$T/rep/report.json" "$T/res/two" <<'PY'
import csv, json, os, sys
rep = json.load(open(sys.argv[1]))
assert rep["simulated"] is True
g = rep["gpus"]
assert len(g["configs"]) == 1, g
c = g["configs"][0]
assert c["levels"] == {"gpus": "2"} and c["n"] == 2 and c["meters"] == ["sim0", "sim1"], c
ph = {p["phase"]: p for p in c["phases"]}
assert set(ph) == {"total", "startup", "epochs", "eval"}, ph
# From the run directories: per run, the sum over both meters of the command and epoch rows.
tot, per_img, gpu0 = [], [], []
for run in sorted(r for r in os.listdir(sys.argv[2]) if not r.startswith(".")):
    rows = list(csv.DictReader(open(os.path.join(sys.argv[2], run, "phases.csv"))))
    e = lambda p, m=None: sum(float(r["energy_j"]) for r in rows
                              if r["phase"] == p and (m is None or r["meter"] == m))
    items = sum(float(r["items"]) for r in rows if r["phase"] == "epoch" and r["meter"] == "sim0")
    tot.append(e("command"))
    gpu0.append(e("command", "sim0"))
    per_img.append(e("epoch") / items)
mean = lambda v: sum(v) / len(v)
assert abs(c["energy_j"] - mean(tot)) < 1e-6 * mean(tot), (c["energy_j"], tot)
assert abs(ph["total"]["per_gpu_j"]["sim0"] - mean(gpu0)) < 1e-6 * mean(gpu0)
assert abs(c["energy_per_image_j"] - mean(per_img)) < 1e-9 * mean(per_img), c
for name in ("total", "startup", "epochs"):
    p = ph[name]
    assert abs(p["spread"] - 1.0) < 1e-6 and abs(p["max_run_spread"] - 1.0) < 1e-6, p
    assert abs(p["max_j"] / p["min_j"] - 3.0) < 1e-6 and p["min_j"] == p["per_gpu_j"]["sim0"], p
    assert abs(p["energy_j"] - (p["min_j"] + p["max_j"])) < 1e-6 * p["energy_j"], p
assert ph["eval"]["energy_j"] is None and ph["eval"]["spread"] is None  # no eval phase marked
PY
expect_grep "md section" "^## Several GPUs" "$T/rep/summary.md"
expect_grep "md epochs row" "^| 2 | 2 | epochs | [0-9.]* | [0-9.]* | sim0 [0-9.]*, sim1 [0-9.]* | .* | 100.0 | 100.0 |$" "$T/rep/summary.md"
expect_grep "html section" "<h[1-6]>Several GPUs</h[1-6]>" "$T/rep/index.html"
expect_grep "html spread column" "<th>spread (%)</th>" "$T/rep/index.html"
# One GPU meter: no multi-GPU view anywhere.
! grep -q "Several GPUs" "$T/rep1/summary.md" "$T/rep1/index.html" || fail "one meter: section shown"
python3 -c 'import json,sys; assert "gpus" not in json.load(open(sys.argv[1]))' "$T/rep1/report.json" \
  || fail "one meter: gpus key in report.json"
echo "report on several GPUs: all passed"
