#!/usr/bin/env bash
# 'run': the cooldown waits between runs (not after the last), notes a temperature condition no
# meter can check, and the shipped grids (experiments/*.yaml) are valid.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/../run-helpers.bash"
cd "$T"
write_worker
write_grid cd 'x: [a, b]' 'cooldown: {seconds: 1, until_temp_c: 40, max_wait_s: 5}'
jb run g.yaml -o res 2> err || { cat err; fail "run failed"; }
expect_each_complete_once cd "a-r1 b-r1"
expect_grep "temperature note" "no meter reports a temperature" err
expect_eq "cooldowns (none after the last run)" "$(grep -c '^cooldown: 1 s' err)" 1
python3 - <<'PY'
rows = {l.split()[0]: l.split() for l in open('times')}
gap = float(rows['b-r1'][1]) - float(rows['a-r1'][2])
assert gap >= 1.0, f'runs only {gap:.3f} s apart with a 1 s cooldown'
PY
for f in "$JB_SOURCE_DIR"/experiments/*.yaml; do
  jb run "$f" --dry-run -o res > dry || fail "$f does not load"
done
expect_eq "seed-2023 runs" "$(jb run "$JB_SOURCE_DIR/experiments/seed-2023.yaml" --dry-run | grep -vc '^#')" 216
expect_eq "quick runs" "$(jb run "$JB_SOURCE_DIR/experiments/quick.yaml" --dry-run | grep -vc '^#')" 24
echo ok
