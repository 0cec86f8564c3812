# report_levels.sh - grids that broke the report: one without levels (documented as valid: one
# configuration) and one whose level value starts with a quote (it broke gnuplot's quoting).
# Both must give every table, index.html and the figures, and exit 0.
source "$(dirname "$0")/lib.bash"
W="$(cd "$(dirname "$0")" && pwd)/data/workload.py"
cat > "$T/none.yaml" <<Y
name: nolevels
repeats: 2
meters: "sim:const=50"
command: [python3, "$W", "2", "0.05"]
Y
jb run "$T/none.yaml" -o "$T/r1" --quiet
jb report "$T/r1" >"$T/out1" 2>"$T/err1" || { cat "$T/err1"; fail "report of a grid without levels failed"; }
R="$T/r1/report"
for f in configs.csv epochs.csv ratios.csv report.json summary.md index.html fig/figures.json \
  fig/energy.svg fig/timeseries.svg fig/accuracy.svg; do
  [ -s "$R/$f" ] || fail "no levels: $f missing"
done
# the PNG where this build draws them (with cairo), else the reason
[ -s "$R/fig/energy.png" ] || grep -q 'built without cairo' "$R/fig/figures.json" || fail "no energy.png and no reason"
expect_eq "one configuration" "$(wc -l <"$R/configs.csv")" 2
head -1 "$R/configs.csv" | grep -q '^n,energy_j_mean,' || fail "configs.csv header: $(head -1 "$R/configs.csv")"
expect_grep "one bar" '>all runs</text>' "$R/fig/energy.svg"
expect_grep "index.html figure" '<figure id="fig-energy">' "$R/index.html"
jb report "$T/r1" --method seed-2023 -o "$T/seed1" >/dev/null 2>&1 || fail "seed-2023 without levels"
[ -s "$T/seed1/index.html" ] || fail "seed-2023 without levels: no index.html"

cat > "$T/quote.yaml" <<Y
name: quoted
levels:
  framework: ["'quoted", "it's", plain]
meters: "sim:const=50"
command: [python3, "$W", "1", "0.05"]
Y
jb run "$T/quote.yaml" -o "$T/r2" --quiet
jb report "$T/r2" >"$T/out2" 2>"$T/err2" || { cat "$T/err2"; fail "report with a quoted level failed"; }
R="$T/r2/report"
[ -s "$R/index.html" ] || fail "quoted: no index.html"
expect_grep "value in the figure" '>&#39;quoted</text>' "$R/fig/energy.svg"
expect_grep "value in the page" '<td>&#39;quoted</td>' "$R/index.html"
python3 - "$R/fig/figures.json" <<'PY'
import json, sys
figs = {f["name"]: f for f in json.load(open(sys.argv[1]))["figures"]}
assert all(figs[n]["made"] for n in ("timeseries", "energy", "power", "accuracy")), figs
PY
echo ok
