#!/usr/bin/env bash
# 'run --gpus 0,1': one child runner per GPU, runs overlapping in time, each with its own
# CUDA_VISIBLE_DEVICES; all complete; a second call finds nothing to do; SIGINT to the parent
# stops both runs and a resume finishes the grid.  Simulated meters stay
# as they are (no GPU is needed).
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/../run-helpers.bash"
cd "$T"
write_worker
write_grid gp 'x: [a, b, c, d]'
for r in a b c d; do echo 1 > "dur-$r-r1"; done

jb run g.yaml -o res --gpus 0,1 2> err1 || { cat err1; fail "run --gpus failed"; }
expect_each_complete_once gp "a-r1 b-r1 c-r1 d-r1"
# Two at a time: every run overlaps another one in time, and never more than two run at once.
python3 - <<'PY'
rows = [l.split() for l in open('times')]
assert len(rows) == 4, rows
iv = {r[0]: (float(r[1]), float(r[2]), r[3]) for r in rows}
for rid, (s, e, _) in iv.items():
    assert any(o != rid and s < oe and os < e for o, (os, oe, _) in iv.items()), f'{rid} ran alone'
for rid, (s, e, _) in iv.items():
    mid = (s + e) / 2
    assert sum(1 for os, oe, _ in iv.values() if os <= mid <= oe) <= 2, 'more than 2 at once'
assert sorted(c for _, _, c in iv.values()) == ['0', '0', '1', '1'], iv
PY
for r in a b c d; do
  cvd=$(manifest_field gp "$r-r1" cuda_visible_devices)
  case "$cvd" in 0|1) ;; *) fail "$r-r1: manifest cuda_visible_devices '$cvd'" ;; esac
  grep -q "^cvd=$cvd\$" "res/gp/$r-r1/stdout.log" || fail "$r-r1: the command saw another GPU"
done
jb run g.yaml -o res --gpus 0,1 2> err2
expect_grep "nothing left" "4 of 4 runs already complete" err2
# SIGINT to the parent reaches both child runners: both runs are recorded interrupted, the parent
# exits 130, and a resume completes the grid with each run complete exactly once.
rm -f log times pid-*
write_grid gi 'x: [a, b, c]'
echo 30 > dur-a-r1
echo 30 > dur-b-r1
jb_bg run g.yaml -o res --gpus 0,1 2> err4
runner=$!
wait_for_file pid-a-r1
wait_for_file pid-b-r1
kill -INT "$runner"
set +e; wait "$runner"; rc=$?; set -e
expect_eq "exit status after SIGINT" "$rc" 130
expect_eq "status of a-r1" "$(manifest_field gi a-r1 status)" interrupted
expect_eq "status of b-r1" "$(manifest_field gi b-r1 status)" interrupted
[ ! -e res/gi/c-r1 ] || fail "a run was started after SIGINT"
rm dur-a-r1 dur-b-r1
jb run g.yaml -o res --gpus 0,1 2> err5 || { cat err5; fail "resume --gpus failed"; }
expect_each_complete_once gi "a-r1 b-r1 c-r1"

# Usage errors.
set +e
jb run g.yaml -o res --gpus 0,0 2> err3; rc=$?
set -e
expect_eq "--gpus 0,0" "$rc" 2
echo ok
