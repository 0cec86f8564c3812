#!/usr/bin/env bash
# 'run' rebuilds RESULTS/results.db after a whole grid, and not under --only.
. "$(dirname "$0")/lib.bash"
cat > "$T/g.yaml" <<'Y'
name: tiny
levels:
  a: [1, 2]
repeats: 2
meters: sim
command: [sleep, "0.{a}"]
Y
jb run "$T/g.yaml" -o "$T/only" --only 0 --quiet
[ ! -e "$T/only/results.db" ] || fail "--only must not write the store"
jb run "$T/g.yaml" -o "$T/res" --quiet
python3 - "$T/res/results.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("select count(*) from runs").fetchone()[0] == 4
assert db.execute("select count(*) from phases where phase = 'command'").fetchone()[0] == 4
PY
echo "run store: all passed"
