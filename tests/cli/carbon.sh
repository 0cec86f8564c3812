# carbon.sh - carbon and cost: stat's lines and JSON (exact arithmetic on a simulated meter), a
# hand-written study with known energy (3.6 MJ GPU + 0.36 MJ CPU = 1.1 kWh) reported with and
# without factors (no carbon columns then, and a line saying how to get them), the factors and
# their sources in report.json, grid keys carried through a run's manifest into the report, the
# report's options over a run's factors, the region table, and bad values refused (stat and
# report options: exit 2; grid keys: FILE:LINE: KEY:).  Also: the compiled region table is the
# generator's output of carbon-data/carbon-intensity.csv.
source "$(dirname "$0")/lib.bash"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
W="$(cd "$(dirname "$0")" && pwd)/data/workload.py"

# --- the compiled table is carbon-data/carbon-intensity.csv, as generated
sh "$SRC/scripts/gen-carbon-regions.sh" "$SRC/carbon-data/carbon-intensity.csv" >"$T/regions.c"
cmp -s "$T/regions.c" "$SRC/src/util/carbon_regions.c" \
  || fail "src/util/carbon_regions.c is not scripts/gen-carbon-regions.sh's output (regenerate it)"

# --- stat: exact figures from the JSON's own energy
jb stat -m sim:const=200 --carbon-intensity 400 --price 0.25EUR --pue 1.5 --json "$T/s.json" \
  -- sleep 0.3 2>"$T/s.err"
python3 - "$T/s.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
e = sum(m["energy_j"] for m in d["meters"])
c = d["carbon"]
assert c["energy_j"] == e, (c, e)
kwh = e * 1.5 / 3.6e6
assert abs(c["facility_kwh"] - kwh) <= 1e-9 * kwh, c
assert abs(c["kg_co2e"] - kwh * 400 / 1000) <= 1e-9 * kwh, c
assert abs(c["cost"] - kwh * 0.25) <= 1e-9 * kwh, c
assert c["currency"] == "EUR" and "SIMULATED" in c["included"], c
f = d["carbon_factors"]
assert f["carbon_intensity_g_per_kwh"] == {"value": 400, "source": "command line"}, f
assert f["price_per_kwh"] == {"value": 0.25, "currency": "EUR", "source": "command line"}, f
assert f["pue"] == {"value": 1.5, "source": "command line", "assumed": False}, f
PY
expect_grep "stat kWh line" "facility energy .* kWh  (x PUE 1.5: command line)" "$T/s.err"
expect_grep "stat CO2e line" "carbon .* kg CO2e  (400 g/kWh: command line)" "$T/s.err"
expect_grep "stat cost line" "cost .* EUR  (0.25 EUR/kWh: command line)" "$T/s.err"
# no factor: no carbon keys or lines
jb stat -m sim --json "$T/n.json" -- true 2>"$T/n.err"
! grep -q carbon "$T/n.json" || fail "stat without factors wrote carbon keys"
! grep -q 'kWh' "$T/n.err" || fail "stat without factors printed carbon lines"
# PUE not given: 1, labelled an assumption
jb stat -m sim --carbon-intensity 100 --json "$T/a.json" -- true 2>/dev/null
python3 -c "
import json, sys
p = json.load(open(sys.argv[1]))['carbon_factors']['pue']
assert p['value'] == 1 and p['assumed'] is True and 'assumed' in p['source'], p" "$T/a.json"
# the region table: France's figure and its citation
jb stat -m sim --region fra --json "$T/r.json" -- true 2>/dev/null
python3 -c "
import json, sys
f = json.load(open(sys.argv[1]))['carbon_factors']
ci = f['carbon_intensity_g_per_kwh']
assert f['region'] == 'FRA' and ci['value'] == 56.039, f
assert 'Our World in Data' in ci['source'] and 'France, 2023' in ci['source'], ci" "$T/r.json"
grep -q '^FRA,France,56.039,2023$' "$SRC/carbon-data/carbon-intensity.csv" || fail "table lacks FRA"
# bad values: usage errors naming the option
for a in "--carbon-intensity 3001" "--carbon-intensity -1" "--carbon-intensity x" "--pue 0.9" \
         "--pue 3.5" "--price -0.1" "--price 1.0E" "--price 0.3EU2" "--region XXX" \
         "--currency EUR" "--currency EURO --price 1" "--carbon-intensity 10 --region FRA"; do
  set +e
  # shellcheck disable=SC2086
  jb stat -m sim $a -- true >/dev/null 2>"$T/bad.err"
  rc=$?
  set -e
  expect_eq "stat $a: exit" "$rc" 2
  expect_grep "stat $a: message" "joulebench: error: " "$T/bad.err"
done

# --- a hand-written study: 3.6 MJ GPU + 0.36 MJ CPU per run
mkrun() { # DIR FRAMEWORK [FACTORS_JSON]
  local R=$1
  mkdir -p "$R"
  cat >"$R/manifest.json" <<JSON
{"format": "joulebench-run/1", "run_id": "$(basename "$R")", "grid": "g",
 "levels": {"framework": "$2"}, "repeat": 1, "command_start_s": 0,
 "meters": [{"id": "gpu0", "kind": "gpu", "name": "GPU", "energy_source": "counter", "simulated": false},
            {"id": "cpu-package0", "kind": "cpu", "name": "CPU", "energy_source": "counter", "simulated": false}],
 ${3:+\"carbon_factors\": $3,}
 "start_utc": "2026-11-28T07:00:00Z", "end_utc": "2026-11-28T07:00:10Z", "status": "complete"}
JSON
  printf 't_s,meter,power_w,energy_j,temp_c,util_pct,mem_util_pct,mem_used_mib,sm_clock_mhz,mem_clock_mhz,power_instant_w\n0,gpu0,360000,0,,,,,,,\n10,gpu0,360000,3600000,,,,,,,\n0,cpu-package0,36000,0,,,,,,,\n10,cpu-package0,36000,360000,,,,,,,\n' >"$R/samples.csv"
  printf 'phase,index,meter,t_begin_s,t_end_s,duration_s,energy_j,energy_j_power,avg_power_w,items\ncommand,0,gpu0,0,10,10,3600000,3600000,360000,\ncommand,0,cpu-package0,0,10,10,360000,360000,36000,\n' >"$R/phases.csv"
  printf 'phase,index,name,value\n' >"$R/metrics.csv"
}
mkrun "$T/st/g/a-r1" a
mkrun "$T/st/g/a-r2" a
mkrun "$T/st/g/b-r1" b

# without factors: no carbon columns, and the line that says how to get them
jb report "$T/st" -o "$T/rep0" --no-figures >/dev/null 2>&1
! grep -q 'kwh\|co2e\|cost' "$T/rep0/configs.csv" || fail "carbon columns without factors"
expect_grep "summary: how to get them" "no carbon or cost figures: no conversion factor" "$T/rep0/summary.md"
expect_grep "index.html: how to get them" "carbon-intensity G_PER_KWH" "$T/rep0/index.html"
python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d['factors'] is None and d['carbon'] is None and 'carbon_note' in d, d.keys()
assert all('kg_co2e' not in c for c in d['configs'])" "$T/rep0/report.json"

# with factors: 1.1 kWh x PUE 1.5 = 1.65 kWh, x 400 g = 0.66 kg, x 0.25 = 0.4125 EUR per run
jb report "$T/st" -o "$T/rep1" --no-figures --carbon-intensity 400 --price 0.25 --currency eur \
  --pue 1.5 >/dev/null 2>&1
python3 - "$T/rep1" <<'PY'
import csv, json, sys
rep = sys.argv[1]
d = json.load(open(rep + "/report.json"))
near = lambda a, b: abs(a - b) <= 1e-9 * abs(b)
f = d["factors"]
assert f["carbon_intensity_g_per_kwh"] == {"value": 400, "source": "command line"}, f
assert f["price_per_kwh"] == {"value": 0.25, "currency": "EUR", "source": "command line"}, f
assert f["pue"]["value"] == 1.5 and f["pue"]["source"] == "command line", f
assert "3.6e6" in f["energy_to_kwh"] and "pue" in f["formula"], f
c = d["carbon"]
assert c["factors_uniform"] is True and c["runs"] == 3 and c["runs_with_cpu_energy"] == 3, c
assert "CPU package" in c["included"], c
t = c["totals"]
assert near(t["facility_kwh"], 3 * 1.65) and near(t["kg_co2e"], 3 * 0.66), t
assert near(t["cost"], 3 * 0.4125) and t["currency"] == "EUR", t
a = d["configs"][0]
assert a["levels"] == {"framework": "a"}, a
assert near(a["facility_kwh"]["mean"], 1.65) and near(a["facility_kwh"]["total"], 3.3), a
assert near(a["kg_co2e"]["mean"], 0.66) and near(a["kg_co2e"]["total"], 1.32), a
assert near(a["cost"]["total"], 0.825) and a["cost"]["n"] == 2, a
rows = list(csv.DictReader(open(rep + "/configs.csv")))
assert near(float(rows[0]["facility_kwh_mean"]), 1.65), rows[0]
assert near(float(rows[0]["kg_co2e_total"]), 1.32), rows[0]
assert near(float(rows[1]["cost_total"]), 0.4125), rows[1]
PY
expect_grep "summary table" "## Energy, carbon and cost" "$T/rep1/summary.md"
expect_grep "summary totals" "| \*\*all runs\*\* | 3 | | 4.95 | | 1.98 | | 1.2375 |" "$T/rep1/summary.md"
expect_grep "summary factor" "carbon intensity: 400 g CO2e/kWh (command line)" "$T/rep1/summary.md"
expect_grep "html table" "kg_co2e_total" "$T/rep1/index.html"
# only an intensity: no cost columns
jb report "$T/st" -o "$T/rep2" --no-figures --region DEU >/dev/null 2>&1
head -1 "$T/rep2/configs.csv" | grep -q 'kg_co2e_mean' || fail "no kg column with --region"
! head -1 "$T/rep2/configs.csv" | grep -q 'cost' || fail "cost column without a price"
grep -q '"region": "DEU"' "$T/rep2/report.json" || fail "region not recorded"
set +e
jb report "$T/st" -o "$T/rep3" --pue 7 >/dev/null 2>"$T/bad.err"
rc=$?
set -e
expect_eq "report --pue 7" "$rc" 2
expect_grep "report --pue 7 message" "bad --pue '7'" "$T/bad.err"

# --- a run's own factors (its manifest), and the report's options over them
rm -rf "$T/st2"
mkrun "$T/st2/g/a-r1" a '{"carbon_intensity_g_per_kwh": {"value": 100, "source": "grid file x.yaml:3"}, "pue": {"value": 1.2, "source": "grid file x.yaml:4", "assumed": false}}'
jb report "$T/st2" -o "$T/rep4" --no-figures >/dev/null 2>&1
python3 - "$T/rep4/report.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["factors"]
assert f["carbon_intensity_g_per_kwh"]["source"] == "grid file x.yaml:3", f
assert abs(d["carbon"]["totals"]["kg_co2e"] - 1.1 * 1.2 * 0.1) < 1e-12, d["carbon"]
PY
jb report "$T/st2" -o "$T/rep5" --no-figures --carbon-intensity 200 >/dev/null 2>&1
python3 - "$T/rep5/report.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["factors"]
assert f["carbon_intensity_g_per_kwh"] == {"value": 200, "source": "command line"}, f
assert f["pue"]["source"] == "grid file x.yaml:4", f   # not overridden: the run's own
assert abs(d["carbon"]["totals"]["kg_co2e"] - 1.1 * 1.2 * 0.2) < 1e-12, d["carbon"]
PY

# --- grid keys: into the manifest of each run, then into the report
cat >"$T/g.yaml" <<Y
name: cg
levels:
  framework: [a]
meters: "sim:const=100"
carbon_intensity: 250
price: 0.2
currency: GBP
pue: 1.1
command: [python3, "$W", "1", "0.05"]
Y
jb run "$T/g.yaml" -o "$T/gres" --quiet >/dev/null 2>&1
M=$(ls "$T"/gres/cg/*/manifest.json | head -1)
python3 - "$M" "$T/g.yaml" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["carbon_factors"]
g = sys.argv[2]
assert f["carbon_intensity_g_per_kwh"] == {"value": 250, "source": "grid file %s:5" % g}, f
assert f["price_per_kwh"] == {"value": 0.2, "currency": "GBP", "source": "grid file %s:6" % g}, f
assert f["pue"] == {"value": 1.1, "source": "grid file %s:8" % g, "assumed": False}, f
PY
jb report "$T/gres" -o "$T/grep" --no-figures >/dev/null 2>&1
grep -q "\"source\": \"grid file $T/g.yaml:5\"" "$T/grep/report.json" || fail "grid source not in the report"
# bad grid values: FILE:LINE: KEY:
bad_grid() { # KEY: VALUE line, expected message part
  printf 'name: b\ncommand: [true]\n%s\n' "$1" >"$T/b.yaml"
  set +e
  jb run "$T/b.yaml" -o "$T/bres" --dry-run >/dev/null 2>"$T/b.err"
  local rc=$?
  set -e
  [ "$rc" -ne 0 ] || fail "grid '$1' accepted"
  expect_grep "grid '$1'" "$T/b.yaml:3: $2" "$T/b.err"
}
bad_grid "carbon_intensity: 3001" "carbon_intensity: '3001': expected g CO2e per kWh from 0 to 3000"
bad_grid "carbon_intensity: lots" "carbon_intensity: 'lots': expected a number"
bad_grid "pue: 0.5" "pue: '0.5': expected a PUE from 1 to 3"
bad_grid "price: -1" "price: '-1': expected a price per kWh >= 0"
bad_grid "region: ATLANTIS" "region: 'ATLANTIS': unknown region"
bad_grid "currency: EUR" "currency: needs a price"
bad_grid "pue: [1]" "pue: expected a number, got a list"
echo ok
