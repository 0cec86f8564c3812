#!/usr/bin/env bash
# 'run': the measured command killed by SIGKILL mid-run is recorded as failed (exit 137), the grid
# goes on and exits 1; a resume redoes only that run, leaves the completed run directories
# byte-identical, and every run ends complete exactly once.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/../run-helpers.bash"
cd "$T"
write_worker
write_grid kc 'x: [a, b, c]' 'retries: 0'
echo 30 > dur-b-r1 # b runs long enough to be killed

jb_bg run g.yaml -o res 2> err1
runner=$!
wait_for_file pid-b-r1
kill -9 "$(cat pid-b-r1)"
set +e; wait "$runner"; rc=$?; set -e
expect_eq "exit status after a failed run" "$rc" 1
expect_grep "failure reported" "run b-r1 failed: killed by signal 9" err1
expect_eq "status of b-r1" "$(manifest_field kc b-r1 status)" failed
expect_eq "exit status of b-r1" "$(manifest_field kc b-r1 exit_status)" 137
expect_eq "status of c-r1 (the grid went on)" "$(manifest_field kc c-r1 status)" complete
snapshot kc "a-r1 c-r1" > before.sha

jb run g.yaml -o res --dry-run > dry
expect_grep "dry-run shows the failed run" "b-r1  *failed" dry
rm dur-b-r1
jb run g.yaml -o res 2> err2 || fail "resume failed: $(cat err2)"
expect_grep "resume skips the complete runs" "2 of 3 runs already complete; 1 to run" err2
check_snapshot kc before.sha
expect_each_complete_once kc "a-r1 b-r1 c-r1"
expect_eq "starts of b-r1" "$(grep -c '^start b-r1$' log)" 2
# The failed attempt is kept aside, not lost; the new one is attempt 2.
[ -f res/kc/.attempts/b-r1/1/manifest.json ] || fail "failed attempt not kept aside"
expect_eq "attempt" "$(manifest_field kc b-r1 attempt)" 2
# Once all are complete, a run does nothing and succeeds.
jb run g.yaml -o res 2> err3
expect_grep "nothing left" "3 of 3 runs already complete" err3
expect_eq "starts after all complete" "$(grep -c '^start' log)" 4
echo ok
