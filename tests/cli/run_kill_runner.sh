#!/usr/bin/env bash
# 'run': the runner itself killed by SIGKILL mid-run.  Its command dies with it (it must not go on
# and finish unobserved), the run's lock is released by the kernel, and a resume redoes the
# unfinished run: every run complete exactly once, earlier run directories byte-identical.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/../run-helpers.bash"
cd "$T"
write_worker
write_grid kr 'x: [a, b, c]'
echo 5 > dur-b-r1

jb_bg run g.yaml -o res 2> err1
runner=$!
wait_for_file pid-b-r1
child=$(cat pid-b-r1)
snapshot kr a-r1 > before.sha
kill -9 "$runner"
set +e; wait "$runner"; set -e
# The command must not outlive the runner (it would otherwise write 'end b-r1' unobserved).
# It sleeps 5 s: it must be gone within 2 s of the kill.
for _ in $(seq 40); do kill -0 "$child" 2>/dev/null || break; sleep 0.05; done
kill -0 "$child" 2>/dev/null && fail "the measured command outlived the killed runner"
[ ! -f res/kr/b-r1/manifest.json ] || fail "a killed runner left a manifest"

rm dur-b-r1
jb run g.yaml -o res 2> err2 || fail "resume failed: $(cat err2)"
expect_grep "resume redoes b" "1 of 3 runs already complete; 2 to run" err2
check_snapshot kr before.sha
expect_each_complete_once kr "a-r1 b-r1 c-r1"
[ -d res/kr/.attempts/b-r1/1 ] || fail "the unfinished directory was not kept aside"
echo ok
