# 'report' (corrected) and 'index' over a small results folder: two repeats of one
# configuration, one of another with a different epoch count, and an unfinished run directory.
source "$(dirname "$0")/lib.bash"
mk() { # mk NAME FRAMEWORK REPEAT SCALE EPOCHS
  local e="$T/src/$1-e.csv" m="$T/src/$1-m.csv" t
  mkdir -p "$T/src"
  echo "timestamp, power.draw [W], utilization.gpu [%]" >"$e"
  for t in $(seq 0 20); do
    printf '2026/01/02 10:00:%02d.000, %d W, 60 %%\n' "$t" $(( (t <= 9 ? 100 : 200) * $4 )) >>"$e"
  done
  echo "epoch;accuracy;timestamp" >"$m"
  for t in $(seq 1 "$5"); do printf '%d;0.%d;2026-01-02 10:00:%02d\n' $((t - 1)) "$t" $((t * 20 / $5)) >>"$m"; done
  jb import nvidia-smi "$e" --epochs "$m" --levels "framework=$2,batch_size=32" \
    -o "$T/res/g/$1" >/dev/null
}
mk pt-r1 pytorch 1 1 4
mk pt-r2 pytorch 2 2 4
mk tf-r1 tensorflow 1 3 4
mk tf-r2 tensorflow 2 3 5
mkdir -p "$T/res/g/unfinished" && echo "t_s,meter" >"$T/res/g/unfinished/samples.csv"
jb report "$T/res" --no-figures >"$T/out" 2>"$T/err"
expect_grep "unfinished skipped" "skipping '$T/res/g/unfinished' has no manifest.json" "$T/err"
expect_grep "epoch mismatch" "framework=tensorflow, batch_size=32: runs have different numbers of epochs" "$T/err"
R="$T/res/report"
head -1 "$R/configs.csv" | grep -q '^framework,batch_size,n,energy_j_mean,energy_j_sd,energy_j_ci95,time_s_mean,' \
  || fail "configs.csv header: $(head -1 "$R/configs.csv")"
expect_eq "configs rows" "$(wc -l <"$R/configs.csv")" 3
# pytorch: 3050 J and 6100 J -> mean 4575 J; tensorflow 3 x 3050.
expect_near "pytorch energy" "$(sed -n 2p "$R/configs.csv" | cut -d, -f4)" 4575 1e-6
expect_near "tensorflow energy" "$(sed -n 3p "$R/configs.csv" | cut -d, -f4)" 9150 1e-6
expect_eq "pytorch n" "$(sed -n 2p "$R/configs.csv" | cut -d, -f3)" 2
grep -q '^framework,tensorflow,pytorch,batch_size=32,energy_j,2,' "$R/ratios.csv" \
  || fail "ratio: $(cat "$R/ratios.csv")"
expect_grep "json levels" '"levels": \[' "$R/report.json"
expect_grep "summary" "| pytorch | 32 | 2 | 4.575 +- " "$R/summary.md"
expect_eq "epoch rows" "$(wc -l <"$R/epochs.csv")" $((1 + 4 + 4 + 4 + 5))

# index: real SQLite, row counts match the run directories, unfinished skipped, idempotent.
jb index "$T/res" >"$T/iout" 2>"$T/ierr"
expect_grep "index skip" "skipping '$T/res/g/unfinished'" "$T/ierr"
q() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$T/res/results.db" "$1"; }
expect_eq "runs" "$(q 'select count(*) from runs')" 4
expect_eq "samples" "$(q 'select count(*) from samples')" $((4 * 21))
expect_eq "phases" "$(q 'select count(*) from phases')" $((4 + 4 + 4 + 4 + 5))
expect_eq "metrics" "$(q "select count(*) from metrics where name = 'accuracy'")" 17
expect_eq "levels" "$(q "select count(*) from levels where name = 'framework' and value = 'tensorflow'")" 2
expect_near "joules" "$(q "select sum(energy_j_power) from phases where phase = 'command'")" $((3050 * 9)) 1e-6
expect_eq "null not zero" "$(q 'select count(*) from samples where energy_j is not null')" 0
jb index "$T/res" >/dev/null 2>&1
expect_eq "idempotent" "$(q 'select count(*) from samples')" $((4 * 21))
[ -z "$(ls "$T/res" | grep tmp)" ] || fail "temporary store left behind"

# Malformed row in a run directory: FILE:LINE warning and count; --strict fails.
echo "oops,gpu0" >>"$T/res/g/pt-r1/samples.csv"
jb report "$T/res" --no-figures -o "$T/rep2" >/dev/null 2>"$T/err2"
expect_grep "file:line" "pt-r1/samples.csv: 1 malformed row skipped (the first: [^ ]*pt-r1/samples.csv:23: 2 fields, the header has 11)" "$T/err2"
expect_grep "count" "1 malformed row(s) skipped" "$T/err2"
set +e
jb report "$T/res" --strict --no-figures -o "$T/rep3" >/dev/null 2>&1; expect_eq "strict" $? 1
jb report >/dev/null 2>&1; expect_eq "usage" $? 2
jb report "$T/res" --method nope >/dev/null 2>&1; expect_eq "bad method" $? 2
jb report "$T/empty-missing" >/dev/null 2>&1; expect_eq "missing" $? 1
set -e
echo ok
