# report_atomic.sh - an interrupted report leaves the old report or the new one, never a mix, and
# no temporary: SIGINT (or SIGTERM) after every file of the report in turn, through the test hook
# JB_TEST_REPORT_PAUSE_AFTER=N (report pauses after its N-th file until a signal comes: no race,
# no sleep), each time checking the report folder against a copy of the old one.  Also: a folder
# that is not a report is never replaced.
source "$(dirname "$0")/lib.bash"
mk() { # mk NAME FRAMEWORK SCALE
  local e="$T/src/$1-e.csv" m="$T/src/$1-m.csv" t
  mkdir -p "$T/src"
  echo "timestamp, power.draw [W], utilization.gpu [%]" >"$e"
  for t in $(seq 0 20); do printf '2026/01/02 10:00:%02d.000, %d W, 60 %%\n' "$t" $((100 * $3)) >>"$e"; done
  printf 'epoch;accuracy;timestamp\n0;0.4;2026-01-02 10:00:10\n1;0.6;2026-01-02 10:00:20\n' >"$m"
  jb import nvidia-smi "$e" --epochs "$m" --levels "framework=$2,batch_size=32" -o "$T/res/g/$1" >/dev/null
}
mk a-r1 alpha 1
mk b-r1 beta 2
jb report "$T/res" >/dev/null 2>&1
R="$T/res/report"
cp -a "$R" "$T/old"
mk c-r1 gamma 3 # the new report differs: one configuration more

leftovers() { # no hidden sibling, no temporary file anywhere in the report
  local l
  l=$(ls -A "$T/res" | grep '^\.report' || true)
  [ -z "$l" ] || fail "$1: left behind in $T/res: $l"
  [ ! -d "$R" ] || [ -z "$(find "$R" -name '*.tmp.*' -o -name '*.part')" ] || fail "$1: temporary files in $R"
}
n=1 interrupted=0
while :; do
  rm -f "$T/paused"
  sig=INT want=130
  [ $((n % 2)) = 0 ] && sig=TERM want=143
  JB_TEST_REPORT_PAUSE_AFTER=$n JB_TEST_REPORT_PAUSE_FILE="$T/paused" jb_bg report "$T/res" 2>"$T/err.$n" >/dev/null
  pid=$!
  while [ ! -e "$T/paused" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  if [ ! -e "$T/paused" ]; then
    wait "$pid" || fail "report without a pause exited $?"
    break # every file and the commit were interrupted once: the report has been written
  fi
  kill -s "$sig" "$pid"
  set +e; wait "$pid"; rc=$?; set -e
  expect_eq "exit status after SIG$sig at file $n" "$rc" "$want"
  leftovers "file $n"
  if [ "$(cat "$T/paused")" = "$(cd "$R" && pwd -P)" ]; then
    # paused after the commit: the new report is whole
    grep -q '^gamma,' "$R/configs.csv" || fail "after the commit: not the new report"
    [ -f "$R/index.html" ] || fail "after the commit: no index.html"
  else
    diff -r "$T/old" "$R" >"$T/diff" || { cat "$T/diff"; fail "SIG$sig after file $n ($(cat "$T/paused")): the old report changed"; }
    expect_grep "message" "interrupted by signal" "$T/err.$n"
  fi
  interrupted=$((interrupted + 1))
  n=$((n + 1))
done
[ "$interrupted" -ge 12 ] || fail "only $interrupted interruption points: the hook did not count files"
leftovers "done"
grep -q '^gamma,' "$R/configs.csv" || fail "the last report is not the new one"

# no old report: an interrupt leaves none, and nothing else
rm -rf "$R"
rm -f "$T/paused"
JB_TEST_REPORT_PAUSE_AFTER=3 JB_TEST_REPORT_PAUSE_FILE="$T/paused" jb_bg report "$T/res" 2>/dev/null >/dev/null
pid=$!
wait_for "$T/paused"
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
expect_eq "first report interrupted" "$rc" 130
[ ! -e "$R" ] || fail "an interrupted first report left $R"
leftovers "first report"

# the old report is removed without following links (rm_tree: nftw, FTW_PHYS): a link a user
# put in a report folder, to a folder of theirs, goes; what it points to stays
jb report "$T/res" >/dev/null 2>&1
mkdir -p "$T/outside" && echo keep >"$T/outside/data.txt"
ln -s "$T/outside" "$R/link" && mkdir -p "$R/sub/deeper" && echo x >"$R/sub/deeper/f"
jb report "$T/res" >/dev/null 2>&1
[ ! -e "$R/link" ] && [ ! -e "$R/sub" ] || fail "the old report's files are still in $R"
expect_eq "outside kept" "$(cat "$T/outside/data.txt")" keep
leftovers "report over a report with a link"

# a folder that is not a report is not replaced
mkdir -p "$T/mine" && echo keep >"$T/mine/notes.txt"
set +e; jb report "$T/res" -o "$T/mine" >/dev/null 2>"$T/mine.err"; rc=$?; set -e
expect_eq "not a report folder" "$rc" 1
expect_grep "why" "is not a report folder" "$T/mine.err"
expect_eq "untouched" "$(cat "$T/mine/notes.txt")" keep
# nor a results folder (-o RESULTS)
set +e; jb report "$T/res" -o "$T/res" >/dev/null 2>&1; rc=$?; set -e
expect_eq "-o RESULTS" "$rc" 1
[ -d "$T/res/g/a-r1" ] || fail "the results folder was touched"
echo ok
