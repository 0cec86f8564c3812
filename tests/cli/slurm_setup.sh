#!/usr/bin/env bash
# 'slurm' (issue 10): the grid's setup lines run in each task before its run, in order; the
# cooldown is taken before each task's run (logged with UTC times, checked against the run's
# manifest start_utc); --mem, --exclusive by default with CPU meters and --no-exclusive; bad
# setup lines refused with file, line and key.  On the real one-node Slurm.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/../run-helpers.bash"
cd "$T"
export SLURM_CONF=${JB_SLURM_DIR:-/tmp/joulebench-slurm}/slurm.conf
PATH=$PATH:/usr/sbin
"$JB_SOURCE_DIR/scripts/start-slurm.sh" >/dev/null || fail "could not start Slurm (scripts/start-slurm.sh)"
write_worker
write_grid su 'x: [a, b]' 'cooldown: {seconds: 2}' \
  "setup: ['echo one \"\$SLURM_ARRAY_TASK_ID\" >> $T/marker', 'export JB_SETUP_VAR=set', 'echo two \"\$JB_SETUP_VAR\" >> $T/marker']"

# Bad setup lines: the file, line and key named, exit 1, nothing written.
bad() {
  local what=$1 yaml=$2 want=$3
  printf 'name: b\ncommand: [true]\n%s\n' "$yaml" > bad.yaml
  set +e; jb slurm bad.yaml -o bad.sh 2> err; rc=$?; set -e
  expect_eq "$what: exit status" "$rc" 1
  expect_grep "$what: message" "$want" err
  [ ! -e bad.sh ] || fail "$what: a script was written"
}
bad "line break" 'setup: ["a\nb"]' "bad.yaml:3: setup\[0\]: control character 0x0a"
bad "NUL" 'setup: ["a\0b"]' "bad.yaml:3:9: a NUL character"
bad "too long" "setup: [\"$(head -c 5000 /dev/zero | tr '\0' x)\"]" "setup\[0\]: 5000 bytes; a setup line may have at most 4096"
bad "not a list" 'setup: "module load cuda"' "bad.yaml:3: setup: expected a list"
bad "nodes 0" 'nodes: 0' "bad.yaml:3: nodes: 0 is out of range"
set +e; jb slurm g.yaml --mem 12X -o job.sh 2> err; rc=$?; set -e
expect_eq "--mem 12X" "$rc" 2
expect_grep "--mem message" "--mem '12X'" err

# --exclusive: by default only with CPU meters; --no-exclusive and --exclusive override.
jb slurm g.yaml --results res --mem 1G -o job.sh
expect_grep "--mem line" '^#SBATCH --mem="1G"$' job.sh
! grep -q -- '--exclusive' job.sh || fail "simulated meters: --exclusive without CPU meters"
expect_grep "setup lines in order" "^echo one \"\$SLURM_ARRAY_TASK_ID\" >> $T/marker\$" job.sh
[ "$(grep -n '^echo one\|^export JB_SETUP\|^echo two\|^exec ' job.sh | cut -d: -f2 | cut -c1-4 | tr '\n' ' ')" = "echo expo echo exec " ] \
  || fail "setup lines not in order before the run: $(cat job.sh)"
expect_grep "cooldown step" "slurm --task-cooldown \"\$SLURM_ARRAY_TASK_ID\" '$T/g.yaml' --results '$T/res'" job.sh
sed 's/^meters: sim$/meters: auto/' g.yaml > gc.yaml
jb slurm gc.yaml -o jc.sh
expect_grep "CPU meters: --exclusive" '^#SBATCH --exclusive$' jc.sh
expect_grep "CPU meters: why" "^# --exclusive: the meters read CPU package/DRAM energy" jc.sh
jb slurm gc.yaml --no-exclusive -o jn.sh 2> err
! grep -q '^#SBATCH --exclusive' jn.sh || fail "--no-exclusive still exclusive"
expect_grep "--no-exclusive note" "other jobs on the node are counted too" err
jb slurm g.yaml --exclusive -o jx.sh
expect_grep "--exclusive asked" '^#SBATCH --exclusive$' jx.sh
jb slurm --help > help
for o in --partition --gres --time --cpus-per-task --mem --exclusive --no-exclusive --concurrency \
         --sbatch --results -o --task-cooldown --task-part -h; do
  grep -qE -- "^  $o[ ,]" help || fail "slurm --help does not explain $o"
done
for o in --output --help; do
  grep -qE -- "^  -[a-z], $o " help || fail "slurm --help does not explain $o"
done

# The array on the real Slurm: both tasks ran the setup lines, cooled down, then ran.
job=$(sbatch --parsable job.sh) || fail "sbatch refused the script"
job=${job%%;*}
jb run g.yaml -o res --dry-run > dry
ids=$(grep -v '^#' dry | awk '{ print $2 }' | tr '\n' ' ')
deadline=$((SECONDS + 120))
until [ "$(ls res/su/*/manifest.json 2>/dev/null | wc -l)" = 2 ] && \
      [ "$(cat res/su/*/manifest.json | grep -c '"status": "complete"')" = 2 ]; do
  if [ $SECONDS -ge $deadline ]; then
    squeue >&2 || true; scancel "$job" 2>/dev/null || true
    cat res/su/.slurm/*.out >&2 2>/dev/null || true
    fail "job $job: runs not complete after 120 s"
  fi
  sleep 0.5
done
sort marker > marker.sorted
printf 'one 0\none 1\ntwo set\ntwo set\n' > want
cmp -s marker.sorted want || { cat marker >&2; fail "setup lines did not run once per task, in order, in the task's shell"; }
python3 - "$job" <<'PY'
import json, re, sys, datetime
job = sys.argv[1]
def utc(s):
    return datetime.datetime.strptime(s, '%Y-%m-%dT%H:%M:%S.%fZ').timestamp()
for line in open('dry'):
    if line.startswith('#'):
        continue
    idx, rid = line.split()[:2]
    log = open(f'res/su/.slurm/{job}_{idx}.out').read()
    m = re.search(rf'joulebench: {rid}: cooldown: 2 s before the run \[(\S+)\]', log)
    assert m, (rid, log)
    d = re.search(rf'joulebench: {rid}: cooldown: done \[(\S+)\]', log)
    assert d, (rid, log)
    man = json.load(open(f'res/su/{rid}/manifest.json'))
    begin, done, start = utc(m.group(1)), utc(d.group(1)), utc(man['start_utc'])
    # The cooldown lasted its 2 s and ended before the run's measurement began.
    assert done - begin >= 1.95, (rid, begin, done)
    assert start >= done - 0.01, (rid, done, start)
    assert man['slurm']['array_task_id'] == idx
PY
# Submitting again: complete runs are skipped, so no cooldown is taken either.
job2=$(sbatch --parsable job.sh); job2=${job2%%;*}
deadline=$((SECONDS + 60))
until [ "$(ls res/su/.slurm/ | grep -c "^${job2}_")" = 2 ] && ! squeue -h -j "$job2" 2>/dev/null | grep -q .; do
  [ $SECONDS -lt $deadline ] || { scancel "$job2" || true; fail "job $job2 did not end"; }
  sleep 0.5
done
! grep -q cooldown res/su/.slurm/${job2}_*.out || fail "a complete run's task cooled down"
echo ok
