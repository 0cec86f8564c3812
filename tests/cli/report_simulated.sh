# report_simulated.sh - a study measured on the simulated meter says "simulated" in every output:
# summary.md, report.json, index.html (a real HTML banner, not literal Markdown), every figure
# (drawn as text in the SVG, in the SVG's <desc> and the PNG's Description) and fig/figures.json,
# with both methods; and every row of 'joulebench sample' (CSV and JSON lines).  A hand-written
# run directory on a GPU meter gets none of those labels, so the checks can fail.
source "$(dirname "$0")/lib.bash"
shopt -s nullglob # a build without cairo has no fig/*.png
W="$(cd "$(dirname "$0")" && pwd)/data/workload.py"
cat > "$T/g.yaml" <<Y
name: simstudy
levels:
  framework: [alpha, beta]
  batch_size: [32, 64]
repeats: 2
meters: "sim:square=80:240:200:0.5"
idle_baseline_s: 0.2
command: [python3, "$W", "2", "0.2"]
Y
jb run "$T/g.yaml" -o "$T/res" --quiet

# label LABEL_FILE: every output of the report folder $1 carries the label
labelled() {
  local rep=$1 f
  grep -qi 'simulated' "$rep/summary.md" || fail "$rep/summary.md: no simulated label"
  grep -q '"simulated": true' "$rep/report.json" || fail "$rep/report.json: not simulated"
  grep -q '<div class="banner" id="simulated" role="alert">SIMULATED meter' "$rep/index.html" \
    || fail "$rep/index.html: no banner"
  ! grep -q '\*\*SIMULATED' "$rep/index.html" || fail "$rep/index.html: literal Markdown"
  grep -q '<strong>SIMULATED meter</strong>' "$rep/index.html" \
    || fail "$rep/index.html: summary's emphasis not rendered"
  grep -q '"simulated": true' "$rep/fig/figures.json" || fail "figures.json: not simulated"
  local n=0
  for f in "$rep"/fig/*.svg; do
    grep -q '>SIMULATED meter: these numbers are not a measurement</text>' "$f" \
      || fail "$f: no visible label"
    grep -q '<desc>SIMULATED meter' "$f" || fail "$f: no label in <desc>"
    n=$((n + 1))
  done
  [ "$n" -ge 4 ] || fail "$rep: only $n figures"
  for f in "$rep"/fig/*.png; do
    grep -aq 'SIMULATED meter' "$f" || fail "$f: no label in its text chunk"
  done
  # the inline figures of index.html carry the drawn label too
  [ "$(grep -c '>SIMULATED meter: these numbers are not a measurement</text>' "$rep/index.html")" -ge 4 ] \
    || fail "$rep/index.html: inline figures without the label"
}
jb report "$T/res" -o "$T/corr" >"$T/corr.out" 2>"$T/corr.err"
labelled "$T/corr"
expect_grep "note on stderr" "SIMULATED meter" "$T/corr.err"
jb report "$T/res" --method seed-2023 -o "$T/seed" >"$T/seed.out" 2>"$T/seed.err"
labelled "$T/seed"
# seed-2023's configs.csv keeps exactly the study's columns: the label is not a column there
expect_eq "seed header" "$(head -1 "$T/seed/configs.csv")" \
  "framework,batch_size,total_energy_kJ,mean_power_W,mean_gpu_util_pct,final_accuracy,total_time_s"

# sample: every row, CSV and JSON lines
jb sample -m sim -E 50 --duration 0.3 -o "$T/s.csv"
python3 - "$T/s.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert rows and all(r["simulated"] == "true" for r in rows), rows[:2]
PY
jb sample -m sim -E 50 --format jsonl --duration 0.3 -o "$T/s.jsonl"
python3 -c "
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows and all(r['simulated'] is True for r in rows)" "$T/s.jsonl"

# a measured (hand-written GPU) run: no label anywhere
R="$T/real/g/gpu-r1"
mkdir -p "$R"
cat >"$R/manifest.json" <<'JSON'
{"format": "joulebench-run/1", "run_id": "gpu-r1", "grid": "g", "levels": {"framework": "native"},
 "repeat": 1, "command_start_s": 0, "host": {"hostname": "n1"}, "joulebench_version": "0.1.0",
 "meters": [{"id": "gpu0", "kind": "gpu", "name": "NVIDIA H200", "driver": "580.1",
             "energy_source": "counter", "simulated": false}],
 "info": {"framework": "native", "framework_version": "1.2", "cuda_version": "13.0"},
 "start_utc": "2026-11-28T07:00:00Z", "end_utc": "2026-11-28T07:00:10Z", "status": "complete"}
JSON
{
  echo "t_s,meter,power_w,energy_j,temp_c,util_pct,mem_util_pct,mem_used_mib,sm_clock_mhz,mem_clock_mhz,power_instant_w"
  for t in 0 1 2 3 4 5 6 7 8 9 10; do echo "$t.0,gpu0,100,,60,40,,,,,"; echo "$t.0,gpu0,,$((100 * t)),,,,,,,"; done
} >"$R/samples.csv"
printf 'phase,index,meter,t_begin_s,t_end_s,duration_s,energy_j,energy_j_power,avg_power_w,items\ncommand,0,gpu0,0,10,10,1000,1000,100,\nepoch,1,gpu0,0,10,10,1000,1000,100,10\n' >"$R/phases.csv"
printf 'phase,index,name,value\neval,1,accuracy,0.5\n' >"$R/metrics.csv"
jb report "$T/real" -o "$T/realrep" >/dev/null 2>"$T/real.err"
grep -q '"simulated": false' "$T/realrep/report.json" || fail "measured report: simulated not false"
! grep -qi 'simulated' "$T/realrep/summary.md" || fail "measured summary.md says simulated"
! grep -q 'SIMULATED' "$T/realrep/index.html" || fail "measured index.html says SIMULATED"
for f in "$T"/realrep/fig/*.svg; do ! grep -q 'SIMULATED' "$f" || fail "$f says SIMULATED"; done
! grep -q 'SIMULATED' "$T/real.err" || fail "measured report: simulated note"
# its provenance: the GPU, driver, framework versions, joulebench version, host
python3 - "$T/realrep/report.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["provenance"]
assert p["gpus"] == ["NVIDIA H200"] and p["drivers"] == ["580.1"], p
assert p["frameworks"] == ["native 1.2"] and p["software"] == ["cuda_version=13.0"], p
assert p["hosts"] == ["n1"] and p["run_joulebench_versions"] == ["0.1.0"], p
assert p["joulebench_version"] and p["written_utc"] and p["written_on_host"], p
assert p["first_start_utc"] == "2026-11-28T07:00:00Z", p
PY
grep -q '<dt>GPUs</dt><dd>NVIDIA H200</dd>' "$T/realrep/index.html" || fail "no GPU in the page's head"
grep -q '<meta name="generator" content="joulebench ' "$T/realrep/index.html" || fail "no generator"
echo ok
