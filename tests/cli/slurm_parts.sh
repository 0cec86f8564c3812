#!/usr/bin/env bash
# 'slurm' over several nodes (issue 12), on the real one-node Slurm with a simulated meter: a grid
# whose runs have 2 parts (tasks_per_node: 2 stands in for 2 nodes); one srun step, each task
# measures part-<rank> tagged with job, node and rank; rank 0 marks the phases.  'report' merges
# the parts into one run (energy summed per meter kind, each part's meter kept), and refuses a set
# with a part removed, naming the run and the missing rank.
source "$(dirname "$0")/lib.bash"
cd "$T"
export SLURM_CONF=${JB_SLURM_DIR:-/tmp/joulebench-slurm}/slurm.conf
PATH=$PATH:/usr/sbin
"$JB_SOURCE_DIR/scripts/start-slurm.sh" >/dev/null || fail "could not start Slurm (scripts/start-slurm.sh)"
cat > work.py <<'PY'
import json, os, time
fd = int(os.environ['JOULEBENCH_FD'])
rank = int(os.environ['SLURM_PROCID'])
def ev(**e):
    e['t'] = time.monotonic_ns()
    os.write(fd, (json.dumps(e) + '\n').encode())
if rank == 0:
    ev(event='begin', phase='epoch', index=1)
time.sleep(0.6)
if rank == 0:
    ev(event='end', phase='epoch', index=1, items=100)
    ev(event='metric', phase='eval', index=1, values={'accuracy': 0.5})
PY
cat > g.yaml <<EOF2
name: mp
levels: {x: [a]}
order: sequential
meters: sim:const=100
interval_ms: 50
nodes: 1
tasks_per_node: 2
command: [python3, '$T/work.py']
workdir: '$T'
EOF2
jb slurm g.yaml --results res -o job.sh
expect_grep "nodes line" '^#SBATCH --nodes=1$' job.sh
expect_grep "tasks line" '^#SBATCH --ntasks-per-node=2$' job.sh
expect_grep "srun step" "^exec srun --nodes=1 --ntasks=2 --ntasks-per-node=2 --kill-on-bad-exit=1 '.*' slurm --task-part \"\$SLURM_ARRAY_TASK_ID\" '$T/g.yaml' --results '$T/res'$" job.sh

# Outside an srun step the part command refuses clearly.
set +e; env -u SLURM_PROCID "$JB" slurm --task-part 0 g.yaml --results res 2> err; rc=$?; set -e
expect_eq "--task-part outside srun" "$rc" 1
expect_grep "--task-part outside srun: message" "runs inside an srun step" err

run=$(jb run g.yaml -o res --dry-run | grep -v '^#' | awk '{ print $2 }')
job=$(sbatch --parsable job.sh) || fail "sbatch refused the script"
job=${job%%;*}
deadline=$((SECONDS + 120))
until [ -f res/mp/$run/part-0/manifest.json ] && [ -f res/mp/$run/part-1/manifest.json ] && \
      ! squeue -h -j "$job" 2>/dev/null | grep -q .; do
  if [ $SECONDS -ge $deadline ]; then
    squeue >&2 || true; scancel "$job" 2>/dev/null || true
    cat res/mp/.slurm/*.out >&2 2>/dev/null || true
    fail "job $job: parts not complete after 120 s"
  fi
  sleep 0.5
done
[ "$(ls res/mp | grep -v '^\.')" = "$run" ] || fail "one run folder expected: $(ls res/mp)"
cp -a res res-incomplete
python3 - "$job" "$run" <<'PY'
import json, sys, socket
job, run = sys.argv[1:]
for r in (0, 1):
    t = json.load(open(f'res/mp/{run}/part-{r}/part.json'))
    assert t['rank'] == r and t['n_parts'] == 2 and t['slurm_job_id'] == job, t
    assert t['node'] and t['grid'] == 'mp' and t['run_id'] == run, t
    m = json.load(open(f'res/mp/{run}/part-{r}/manifest.json'))
    assert m['status'] == 'complete', m
PY

# report merges the parts: one run, each part's meter kept, energy summed over the parts.
jb report res -o rep 2> err
expect_grep "merge noted" "merged the parts of 1 run" err
python3 - "$job" "$run" <<'PY'
import csv, json, sys
job, run = sys.argv[1:]
m = json.load(open(f'res/mp/{run}/manifest.json'))
assert m['status'] == 'complete'
ids = [x['id'] for x in m['meters']]
assert ids == ['sim0_r0', 'sim0_r1'], ids
assert all(x['simulated'] for x in m['meters'])
p = m['parts']
assert p['n_parts'] == 2 and p['slurm_job_id'] == job and p['phases_from_rank'] == 0, p
assert [r['rank'] for r in p['ranks']] == [0, 1] and all(r['node'] for r in p['ranks']), p
part_e = []
for r in (0, 1):
    pm = json.load(open(f'res/mp/{run}/part-{r}/manifest.json'))
    part_e.append(sum(t['energy_j'] for t in pm['totals']))
    assert abs(p['ranks'][r]['energy_j'] - part_e[r]) < 1e-6, (p, part_e)
assert abs(p['energy_j_by_kind']['sim'] - sum(part_e)) < 1e-6, (p, part_e)
assert abs(p['energy_j'] - sum(part_e)) < 1e-6
assert sum(t['energy_j'] for t in m['totals']) == p['energy_j'] or \
    abs(sum(t['energy_j'] for t in m['totals']) - p['energy_j']) < 1e-6
# Each part ran ~0.6 s at 100 W: each part has its own energy, not rank 0's twice.
assert all(50 < e < 200 for e in part_e), part_e
rows = list(csv.DictReader(open(f'res/mp/{run}/phases.csv')))
epoch = [r for r in rows if r['phase'] == 'epoch']
assert [r['meter'] for r in epoch] == ['sim0_r0'], epoch   # rank 0's phases
cmd = sorted(r['meter'] for r in rows if r['phase'] == 'command')
assert cmd == ['sim0_r0', 'sim0_r1'], rows
meters = {r['meter'] for r in csv.DictReader(open(f'res/mp/{run}/samples.csv'))}
assert meters == {'sim0_r0', 'sim0_r1'}, meters
assert 'accuracy' in open(f'res/mp/{run}/metrics.csv').read()
PY
expect_grep "report: one run" "^" rep/configs.csv
[ "$(tail -n +2 rep/configs.csv | wc -l)" = 1 ] || fail "report: one configuration row expected: $(cat rep/configs.csv)"
grep -qi simulated rep/report.json || fail "report.json of a simulated study does not say simulated"
# A second report reads the merged run as it is (the merge is idempotent).
cp res/mp/$run/manifest.json m1
jb report res -o rep2 2> err2
cmp -s m1 res/mp/$run/manifest.json || fail "a second report changed the merged manifest"
! grep -q "merged the parts" err2 || fail "a merged run was merged again"

# One part removed: report refuses, naming the run and the missing rank.
rm -rf "res-incomplete/mp/$run/part-1"
set +e; jb report res-incomplete -o rep3 2> err3; rc=$?; set -e
expect_eq "incomplete set: exit status" "$rc" 1
expect_grep "incomplete set: run named" "run 'res-incomplete/mp/$run': 1 of 2 parts complete; missing: rank 1" err3
[ ! -e rep3/index.html ] || fail "a report was written from an incomplete set"
[ ! -e "res-incomplete/mp/$run/manifest.json" ] || fail "an incomplete set was merged"
echo ok
