#!/usr/bin/env bash
# 'slurm': the job-array script runs the whole grid on a real one-node Slurm
# (scripts/start-slurm.sh starts one when none answers): every run directory complete, each
# task ran the run of its index, and each manifest records the Slurm job ids.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/../run-helpers.bash"
cd "$T"
export SLURM_CONF=${JB_SLURM_DIR:-/tmp/joulebench-slurm}/slurm.conf
PATH=$PATH:/usr/sbin
"$JB_SOURCE_DIR/scripts/start-slurm.sh" >/dev/null || fail "could not start Slurm (scripts/start-slurm.sh)"
write_worker
write_grid sl 'x: [a, b, c]' 'order: random' 'seed: 5' 'repeats: 2'

# Bad options are refused before anything is written.
set +e; jb slurm g.yaml --concurrency 0 -o job.sh 2> err; rc=$?; set -e
expect_eq "--concurrency 0" "$rc" 2
set +e; jb slurm g.yaml --partition $'a\nb' -o job.sh 2> err; rc=$?; set -e
expect_eq "control character in an option" "$rc" 2
[ ! -e job.sh ] || fail "a refused call wrote a script"

jb slurm g.yaml --results res --concurrency 4 --time 5 --cpus-per-task 1 -o job.sh
expect_grep "array line" "^#SBATCH --array=0-5%4$" job.sh
expect_grep "task command" "run '$T/g.yaml' --only \"\$SLURM_ARRAY_TASK_ID\" -o '$T/res'" job.sh
jb slurm g.yaml --results res > job-stdout.sh
expect_grep "script on stdout" "^#SBATCH --array=0-5$" job-stdout.sh

job=$(sbatch --parsable job.sh) || fail "sbatch refused the script"
job=${job%%;*}
jb run g.yaml -o res --dry-run > dry
ids=$(grep -v '^#' dry | awk '{ print $2 }' | tr '\n' ' ')
deadline=$((SECONDS + 120))
while :; do
  done_n=0
  for r in $ids; do
    [ -f "res/sl/$r/manifest.json" ] && [ "$(manifest_field sl "$r" status)" = complete ] \
      && done_n=$((done_n + 1))
  done
  [ "$done_n" = 6 ] && break
  if [ $SECONDS -ge $deadline ]; then
    squeue >&2 || true
    scancel "$job" 2>/dev/null || true
    cat res/sl/.slurm/*.out >&2 2>/dev/null || true
    fail "job $job: $done_n of 6 runs complete after 120 s"
  fi
  sleep 0.5
done
expect_each_complete_once sl "$ids"
# Each task ran the run of its index, and the manifest says which job and task it was.
python3 - "$job" <<'PY'
import json, sys
job = sys.argv[1]
for line in open('dry'):
    if line.startswith('#'):
        continue
    idx, rid = line.split()[:2]
    m = json.load(open(f'res/sl/{rid}/manifest.json'))
    s = m.get('slurm')
    assert s, f'{rid}: no slurm block in the manifest'
    assert s['array_job_id'] == job, (rid, s, job)
    assert s['array_task_id'] == idx, (rid, s, idx)
    assert s['job_id'], (rid, s)
PY

# Every path of the script is quoted for what reads it (issue 13: a results folder with a space
# made sbatch reject '#SBATCH --output=' as unquoted): sbatch's own parser for #SBATCH lines
# ('"', '#' and '%' mean something there), the shell for the rest, and a comment for the grid's
# path, which may hold a line break that would otherwise start a command.
odd="$T/res dir%1#\"q"
mkdir -p "$T/g"$'\n'"touch PWNED"
write_grid sq 'x: [a, b]'
mv g.yaml "$T/g"$'\n'"touch PWNED/g.yaml"
jb slurm "$T/g"$'\n'"touch PWNED/g.yaml" --results "$odd" --sbatch '--comment=a b # c' -o job2.sh
expect_grep "comment with the path's line break shown as ?" "^# joulebench .*(.*/g?touch PWNED/g.yaml)" job2.sh
expect_grep "--output quoted" "^#SBATCH --output=\"$T/res dir%%1\\\\#\\\\\"q/sq/.slurm/%A_%a.out\"$" job2.sh
job2=$(sbatch --parsable job2.sh) || { cat job2.sh; fail "sbatch refused the script of a results folder with a space"; }
job2=${job2%%;*}
deadline=$((SECONDS + 120))
until [ "$(ls "$odd/sq"/*/manifest.json 2>/dev/null | wc -l)" = 2 ] && \
      [ "$(ls "$odd/sq/.slurm/" 2>/dev/null | grep -c "^${job2}_[01].out$")" = 2 ]; do
  if [ $SECONDS -ge $deadline ]; then
    squeue >&2 || true
    scancel "$job2" 2>/dev/null || true
    ls -laR "$T" >&2
    fail "job $job2 in a results folder with a space: runs or logs missing after 120 s"
  fi
  sleep 0.5
done
[ ! -e PWNED ] && [ ! -e "$T/PWNED" ] || fail "the grid's path ran a command"
echo ok
