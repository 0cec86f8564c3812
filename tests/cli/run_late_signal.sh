#!/usr/bin/env bash
# A SIGINT/SIGTERM that arrives after the command has ended, while its run directory is being
# written, is not swallowed (issue 13): the run is recorded complete (it is whole), the grid stops
# after it with exit status 130/143, and a resume runs the rest.  `stat` exits 130 too, with its
# table and JSON written.  The signal lands through the test hook JB_TEST_MEASURE_PAUSE_FILE
# (measure waits, the command ended and its phases resolved, until a signal comes): no race.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/../run-helpers.bash"
cd "$T"
write_worker
write_grid ls 'x: [a, b, c]' 'retries: 2'

for sig in INT TERM; do
  want=130
  [ "$sig" = TERM ] && want=143
  rm -f paused
  JB_TEST_MEASURE_PAUSE_FILE="$T/paused" jb_bg run g.yaml -o res 2>"err.$sig"
  runner=$!
  while [ ! -e paused ] && kill -0 "$runner" 2>/dev/null; do sleep 0.05; done
  [ -e paused ] || fail "the runner never reached the test hook: $(cat "err.$sig")"
  kill -s "$sig" "$runner"
  set +e; wait "$runner"; rc=$?; set -e
  expect_eq "run: exit status after SIG$sig past the command" "$rc" "$want"
  expect_grep "run: the message" "after the command ended; stopping the grid" "err.$sig"
done
expect_eq "status of a-r1" "$(manifest_field ls a-r1 status)" complete
expect_eq "status of b-r1" "$(manifest_field ls b-r1 status)" complete
[ ! -e res/ls/c-r1 ] || fail "the grid went on after the signal"
jb run g.yaml -o res 2>err3 || fail "resume failed: $(cat err3)"
expect_each_complete_once ls "a-r1 b-r1 c-r1"

rm -f paused
JB_TEST_MEASURE_PAUSE_FILE="$T/paused" jb_bg stat -m sim:const=50 --json "$T/s.json" -- true 2>"err.stat"
pid=$!
while [ ! -e paused ] && kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
[ -e paused ] || fail "stat never reached the test hook"
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
expect_eq "stat: exit status after SIGINT past the command" "$rc" 130
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['exit_status'] == 0, d" "$T/s.json" \
  || fail "stat: no JSON or a wrong one"
echo ok
