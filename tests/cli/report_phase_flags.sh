#!/usr/bin/env bash
# phases.csv's flags in the corrected report (issue 8, "a warning column / note"):
# 1. a study on the NVML-faithful simulated meter whose eval phases are 30 ms (between two counter
#    updates): the "## Phase groups" table of summary.md has the note "below counter resolution
#    in 6 of 6 phases" on its eval row (and no row for the unflagged command), and a line counting
#    the rows per flag; report.json counts the flags per configuration (phase_flags,
#    phase_groups); index.html shows the note.
# 2. the same study on the exact simulated meter: no flag, no table row, no note anywhere.
# 3. run directories from before the flags column: read, nothing counted, and summary.md says
#    how many runs predate the column.
. "$(dirname "$0")/lib.bash"
D="$(cd "$(dirname "$0")/data" && pwd)"

study() { # NAME METERS
  cat > "$T/$1.yaml" <<Y
name: $1
levels:
  a: [1]
repeats: 2
meters: "$2"
command: [python3, "$D/short_phases.py", "0.3", "3", "30", "100"]
Y
  jb run "$T/$1.yaml" -o "$T/res-$1" --quiet
  jb report "$T/res-$1" -o "$T/rep-$1" >/dev/null 2>"$T/rep-$1.err" \
    || { cat "$T/rep-$1.err"; fail "report of $1"; }
}

study nv "sim:nvml:const=200"
md="$T/rep-nv/summary.md"
expect_grep "phase groups section" "## Phase groups" "$md"
expect_grep "eval row with its note" "| 1 | eval | 6 | .* | below counter resolution in 6 of 6 phases |" "$md"
expect_grep "flag count line" "^Phase flags over 8 phase rows: stepped 8, below_resolution 6, aliasing 0" "$md"
if grep -q "| 1 | command |" "$md"; then fail "a table row for the unflagged command group"; fi
expect_grep "note in index.html" "below counter resolution in 6 of 6 phases" "$T/rep-nv/index.html"
python3 - "$T/rep-nv/report.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["configs"][0]
pf = c["phase_flags"]
assert pf["phases"] == 8 and pf["runs_without_flags"] == 0, pf
assert pf["flags"] == {"stepped": 8, "below_resolution": 6, "aliasing": 0, "unlocated": 0,
                       "floored": 0}, pf
g = {x["group"]: x for x in c["phase_groups"]}
assert set(g) == {"eval", "command"}, g
ev = g["eval"]
assert ev["phases"] == 6 and ev["flags"]["below_resolution"] == 6, ev
assert ev["note"] == "below counter resolution in 6 of 6 phases", ev
# three 30 ms phases at 200 W per run: 18 J, inside the mean interval
assert ev["energy_j_lo"] <= 18 <= ev["energy_j_hi"] and 12 < ev["energy_j"] < 24, ev
assert g["command"]["note"] == "" and g["command"]["flags"]["below_resolution"] == 0, g
PY

study ex "sim:const=200"
md="$T/rep-ex/summary.md"
expect_grep "phase groups section" "## Phase groups" "$md"
expect_grep "no warning" "^No phase group carries a warning flag" "$md"
if grep -q "| 1 | eval |" "$md"; then fail "exact meter: a table row for eval"; fi
expect_grep "flag count line" "^Phase flags over 8 phase rows: stepped 0, below_resolution 0, aliasing 0, unlocated 0, floored 0\." "$md"
for f in summary.md report.json index.html; do
  if grep -q "below counter resolution\|power reading aliases" "$T/rep-ex/$f"; then
    fail "exact meter: a flag note in $f"
  fi
done
python3 - "$T/rep-ex/report.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["configs"][0]
assert all(v == 0 for v in c["phase_flags"]["flags"].values()), c["phase_flags"]
assert all(x["note"] == "" for x in c["phase_groups"]), c["phase_groups"]
PY

# the old format: phases.csv cut to its first ten columns (no flags column)
for run in "$T"/res-nv/nv/*/; do
  cut -d, -f1-10 "$run/phases.csv" > "$T/p" && mv "$T/p" "$run/phases.csv"
done
jb report "$T/res-nv" -o "$T/rep-old" >/dev/null 2>"$T/old.err" || { cat "$T/old.err"; fail "report of old run directories"; }
expect_grep "old: no warning" "^No phase group carries a warning flag" "$T/rep-old/summary.md"
expect_grep "old: count line" "2 run(s) predate the flags column" "$T/rep-old/summary.md"
python3 - "$T/rep-old/report.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["configs"][0]
assert c["phase_flags"]["runs_without_flags"] == 2, c["phase_flags"]
assert c["phase_flags"]["flags"]["below_resolution"] == 0, c["phase_flags"]
ev = [x for x in c["phase_groups"] if x["group"] == "eval"][0]
assert ev["note"] == "" and ev["energy_j_lo"] is None and 12 < ev["energy_j"] < 24, ev
PY
echo "report phase flags: all passed"
