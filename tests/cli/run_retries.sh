#!/usr/bin/env bash
# 'run': retries.  A run whose command fails (exit 1) is tried 1 + retries times, each failed
# attempt kept aside; one whose command exits 2 (a usage error, which fails the same way every
# time: python3's "can't open file", a bad option) runs once and the progress line says why it
# is not retried (issue 9, bug 4).  A resume redoes a failed run again, exit 2 included.
source "$(dirname "$0")/lib.bash"
cd "$T"
cat > g.yaml <<'YAML'
name: rt
levels: {code: [1, 2]}
order: sequential
meters: sim
interval_ms: 50
retries: 3
command: [sh, -c, 'echo start {run_id} >> log; exit {code}']
YAML

set +e; jb run g.yaml -o res 2> err; rc=$?; set -e
expect_eq "exit status" "$rc" 1
expect_eq "executions of the exit-1 run (1 + retries)" "$(grep -c '^start 1-r1$' log)" 4
expect_eq "executions of the exit-2 run" "$(grep -c '^start 2-r1$' log)" 1
expect_grep "exit-1 run retried" "1-r1: retrying (3 of 3 retries left)" err
expect_grep "exit-2 run said not retried" \
  "2-r1: not retried: exit status 2 is a usage error" err
if grep -q "2-r1: retrying" err; then cat err; fail "the exit-2 run was retried"; fi
expect_eq "attempts of 1-r1 kept aside" "$(ls res/rt/.attempts/1-r1 | tr '\n' ' ')" "1 2 3 "
[ ! -e res/rt/.attempts/2-r1 ] || fail "the exit-2 run has attempts aside: $(ls res/rt/.attempts/2-r1)"
expect_grep "summary" "grid rt: 0 complete, 2 failed, 0 already complete" err

# A resume tries the exit-2 run again (once: the command may have been fixed meanwhile).
set +e; jb run g.yaml -o res 2> err2; rc=$?; set -e
expect_eq "exit status of the resume" "$rc" 1
expect_eq "executions of the exit-2 run after a resume" "$(grep -c '^start 2-r1$' log)" 2
expect_eq "attempts of 2-r1 after a resume" "$(ls res/rt/.attempts/2-r1 | tr '\n' ' ')" "1 "
echo ok
