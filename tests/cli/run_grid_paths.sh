#!/usr/bin/env bash
# 'run' of a shipped grid by its absolute path from another folder (issue 9, bug 4): the paths of
# experiments/smoke.yaml (workdir: .., workloads/{framework}/train.py, --data-dir data) resolve
# against the grid file's folder, not the current one; and a command that exits 2 (python3's
# "can't open file", as the bug showed) is not retried.
source "$(dirname "$0")/lib.bash"
cd "$T"
root=$(cd "$JB_SOURCE_DIR" && pwd -P)

# A stand-in python3 (first in PATH) records where it ran and whether its script and data folder
# are found from there; it exits 2 when not, as python3 does for a missing script.  So the real
# smoke.yaml runs in a second, without PyTorch.
mkdir bin away
cat > bin/python3 <<'SH'
#!/bin/sh
pwd -P > "$SEEN/cwd"
echo run >> "$SEEN/runs"
printf '%s\n' "$@" > "$SEEN/argv"
[ -f "$1" ] || { echo "python3: can't open file '$1'" >&2; exit 2; }
SH
chmod +x bin/python3
export SEEN=$T

cd away
PATH="$T/bin:$PATH" jb run "$JB_SOURCE_DIR/experiments/smoke.yaml" --only 0 -o "$T/res" 2> err \
  || { cat err; fail "smoke.yaml by its absolute path from another folder failed"; }
expect_eq "the command ran in the repository's root (workdir: .. of experiments/)" \
  "$(cat "$T/cwd")" "$root"
expect_eq "the workload, relative to workdir" "$(head -1 "$T/argv")" "workloads/pytorch/train.py"
expect_grep "the data folder, relative to workdir" '^data$' "$T/argv"
[ -f "$root/workloads/pytorch/train.py" ] || fail "no workloads/pytorch/train.py in $root"
expect_eq "status" "$(python3 -c "import json; print(json.load(open('$T/res/smoke/pytorch-resnet50-32-r1/manifest.json'))['status'])")" complete
# Nothing was resolved against the current folder.
expect_eq "current folder untouched" "$(ls -A)" "err"
cd "$T"

# The bug as seen: a workload path that does not exist where the command runs makes python3 exit
# 2; with retries: 3 that runs once, and the progress line says why.
mkdir -p g/experiments
cat > g/experiments/bad.yaml <<'YAML'
name: bad
meters: sim
interval_ms: 50
retries: 3
workdir: ..
command: [python3, workloads/none/train.py]
YAML
rm -f cwd runs
set +e; PATH="$T/bin:$PATH" jb run "$T/g/experiments/bad.yaml" -o res 2> err2; rc=$?; set -e
expect_eq "exit status" "$rc" 1
expect_eq "ran in the grid's workdir" "$(cat cwd)" "$(cd g && pwd -P)"
expect_eq "executions" "$(wc -l < runs)" 1
[ ! -e res/bad/.attempts ] || fail "the exit-2 run was tried again: $(ls res/bad/.attempts/r1)"
expect_grep "said" "r1: not retried: exit status 2 is a usage error" err2
expect_grep "stderr.log" "can't open file 'workloads/none/train.py'" res/bad/r1/stderr.log
echo ok
