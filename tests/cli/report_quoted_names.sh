#!/usr/bin/env bash
# Issue 9 bug 1: a phase "warm,up" and a metric "acc,top1" (commas: stat writes them quoted) read
# back as written by index and report (one RFC 4180 reader, src/util/csv.c), with no "malformed
# row"; and issue 13: inf/nan/hex/overflow in phases.csv, metrics.csv and samples.csv are refused
# per row, counted once, one warning per file naming file:line and column.  Simulated meter.
. "$(dirname "$0")/lib.bash"

cat >"$T/w.py" <<'PY'
import json, os, time
fd = int(os.environ["JOULEBENCH_FD"])
def emit(o): os.write(fd, (json.dumps(o) + "\n").encode())
for i in (1, 2):
    for ph in ("warm,up", "epoch"):
        emit({"t": time.monotonic_ns(), "event": "begin", "phase": ph, "index": i})
        time.sleep(0.05)
        emit({"t": time.monotonic_ns(), "event": "end", "phase": ph, "index": i, "items": 10})
    emit({"t": time.monotonic_ns(), "event": "metric", "phase": "eval", "index": i,
          "values": {"acc,top1": 0.4, "say \"hi\"": 0.1 * i}})
PY
R="$T/res/g/r1"
jb stat -q -m sim:const=50 -o "$R" -- python3 "$T/w.py" 2>"$T/stat.err"
grep -q '^"warm,up",1,' "$R/phases.csv" || fail "phases.csv: $(cat "$R/phases.csv")"
# metrics.csv values in their shortest round-trip form: 0.4, not 0.40000000000000002
grep -qx 'eval,1,"acc,top1",0.4' "$R/metrics.csv" || fail "metrics.csv: $(cat "$R/metrics.csv")"

jb index "$T/res" >"$T/iout" 2>"$T/ierr"
expect_grep "index counts" "indexed 1 run(s) ([0-9]* samples, 5 phases, 4 metrics)" "$T/iout"
if grep -q "malformed" "$T/ierr"; then fail "index warned: $(cat "$T/ierr")"; fi
q() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$T/res/results.db" "$1"; }
expect_eq "phase name in the store" "$(q "select count(*) from phases where phase = 'warm,up'")" 2
expect_eq "metric name in the store" "$(q "select count(*) from metrics where name = 'acc,top1' and value = 0.4")" 2
expect_eq "quoted quote" "$(q "select count(*) from metrics where name = 'say \"hi\"'")" 2

jb report "$T/res" --no-figures -o "$T/rep" >"$T/rout" 2>"$T/rerr"
if grep -q "malformed" "$T/rerr"; then fail "report warned: $(cat "$T/rerr")"; fi
# the metric is a column of epochs.csv with its value in both epochs
python3 - "$T/rep/epochs.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [r["acc,top1"] for r in rows] == ["0.4", "0.4"], rows
assert 'say "hi"' in rows[0], rows[0].keys()
PY

# issue 13: non-finite and non-decimal numbers are malformed rows, counted once per row, one
# warning per file with the count and the first row's file:line and column.
cp -r "$R" "$T/res/g/r2"
sed -i 's/^eval,1,"acc,top1",0.4$/eval,1,"acc,top1",inf/; s/^eval,2,"acc,top1",0.4$/eval,2,"acc,top1",nan/' "$T/res/g/r2/metrics.csv"
python3 - "$R/phases.csv" "$T/res/g/r2/phases.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
rows[1][6], rows[2][6] = "0x1p3", "1e999"
csv.writer(open(sys.argv[2], "w", newline=""), lineterminator="\n").writerows(rows)
PY
printf '1.5,sim0,inf,,,,,,,,\n' >>"$T/res/g/r2/samples.csv"
jb index "$T/res" >"$T/iout2" 2>"$T/ierr2"
expect_eq "one warning per file" "$(grep -c 'malformed row' "$T/ierr2")" 4
expect_grep "metrics warning" "r2/metrics.csv: 2 malformed rows skipped (the first: [^ ]*r2/metrics.csv:2: column 'value': 'inf' is not a finite number)" "$T/ierr2"
expect_grep "phases warning" "r2/phases.csv: 2 malformed rows skipped (the first: [^ ]*r2/phases.csv:2: column 'energy_j': '0x1p3' is not a finite number)" "$T/ierr2"
expect_grep "samples warning" "r2/samples.csv: 1 malformed row skipped" "$T/ierr2"
expect_grep "total" "5 malformed row(s) skipped" "$T/ierr2"
expect_grep "the rest indexed" "indexed 2 run(s) ([0-9]* samples, 8 phases, 6 metrics)" "$T/iout2"
jb report "$T/res" --no-figures -o "$T/rep2" >/dev/null 2>"$T/rerr2"
expect_grep "report total" "5 malformed row(s) skipped" "$T/rerr2"
if grep -q "inf" "$T/rep2/epochs.csv"; then fail "inf averaged: $(cat "$T/rep2/epochs.csv")"; fi
set +e
jb index "$T/res" --strict >/dev/null 2>"$T/serr"; expect_eq "strict" $? 1
set -e
expect_grep "strict names the row" "r2/phases.csv:2: column 'energy_j': '0x1p3' is not a finite number" "$T/serr"
echo ok
