#!/usr/bin/env bash
# 'run': SIGINT (then SIGTERM) to the runner mid-grid stops the command, records the run as
# interrupted, stops the grid with exit status 130 (143); resumes finish the grid with every run
# complete exactly once and the runs completed earlier byte-identical.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/../run-helpers.bash"
cd "$T"
write_worker
write_grid si 'x: [a, b, c, d]' 'retries: 2'
echo 30 > dur-b-r1

jb_bg run g.yaml -o res 2> err1
runner=$!
wait_for_file pid-b-r1
kill -INT "$runner"
set +e; wait "$runner"; rc=$?; set -e
expect_eq "exit status after SIGINT" "$rc" 130
expect_eq "status of b-r1" "$(manifest_field si b-r1 status)" interrupted
[ ! -e res/si/c-r1 ] || fail "the grid went on after SIGINT"
expect_eq "b-r1 not retried after an interruption" "$(grep -c '^start b-r1$' log)" 1
snapshot si a-r1 > before1.sha

# Second interruption, by SIGTERM, in run c.
rm dur-b-r1
echo 30 > dur-c-r1
jb_bg run g.yaml -o res 2> err2
runner=$!
wait_for_file pid-c-r1
kill -TERM "$runner"
set +e; wait "$runner"; rc=$?; set -e
expect_eq "exit status after SIGTERM" "$rc" 143
expect_eq "status of c-r1" "$(manifest_field si c-r1 status)" interrupted
check_snapshot si before1.sha
snapshot si "a-r1 b-r1" > before2.sha

rm dur-c-r1
jb run g.yaml -o res 2> err3 || fail "resume failed: $(cat err3)"
check_snapshot si before2.sha
expect_each_complete_once si "a-r1 b-r1 c-r1 d-r1"
[ -f res/si/.attempts/b-r1/1/manifest.json ] || fail "interrupted attempt not kept aside"
echo ok
