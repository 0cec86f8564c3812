#!/usr/bin/env bash
# 'run': bad grid files and options are refused with file:line: key messages (exit 1 / 2) and
# nothing is created; --dry-run lists the numbered runs; --only runs exactly the runs named.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/../run-helpers.bash"
cd "$T"
write_worker
# expect_fail STATUS PATTERN ARGS...: runs jb, expects that exit status and message.
expect_fail() {
  local want=$1 pat=$2; shift 2
  set +e; jb "$@" > out 2> err; local rc=$?; set -e
  expect_eq "exit status of '$*'" "$rc" "$want"
  expect_grep "message of '$*'" "$pat" err
}
printf 'name: e\nlevels:\n  a: [1, 2]\nexclude: [{b: 1}]\ncommand: [x]\n' > bad1.yaml
expect_fail 1 "error: bad1.yaml:4: exclude\[0\].b: unknown level 'b' (levels: a)" run bad1.yaml -o res
printf 'name: e\ncommand: [x]\ncommand: [y]\n' > bad2.yaml
expect_fail 1 "bad2.yaml:3: duplicate key 'command'" run bad2.yaml -o res
printf 'name: e\nlevels: {a: []}\ncommand: [x]\n' > bad3.yaml
expect_fail 1 "bad3.yaml:2: levels.a: empty level" run bad3.yaml -o res
printf 'name: e\ncommand: [x, "{b}"]\n' > bad4.yaml
expect_fail 1 "bad4.yaml:2: command\[1\]: unknown placeholder '{b}'" run bad4.yaml -o res
expect_fail 1 "cannot open grid file 'nope.yaml'" run nope.yaml -o res
[ ! -e res ] || fail "a refused grid created results"

write_grid cl 'x: [a, b, c]' 'repeats: 2' 'order: random' 'seed: 7'
expect_fail 2 "expected indexes from 0 to 5" run g.yaml -o res --only 6
expect_fail 2 "usage:" run g.yaml -o res --bogus
expect_fail 2 "one grid file" run -o res
expect_fail 1 "meters 'nosuchmeter'" run g.yaml -o res -m nosuchmeter

jb run g.yaml --dry-run -o res > dry
expect_eq "dry-run lines" "$(grep -vc '^#' dry)" 6
[ ! -e res ] || fail "--dry-run created results"
# The order is a pure function of the file: the same list twice, and --only I runs line I.
jb run g.yaml --dry-run -o res > dry2
cmp -s dry dry2 || fail "two dry runs differ"
id3=$(awk '$1 == 3 { print $2 }' dry)
jb run g.yaml -o res --only 3 2> err || fail "--only 3 failed"
expect_eq "runs made by --only 3" "$(ls res/cl)" "$id3"
expect_eq "executions" "$(grep -c '^end' log)" 1
jb run g.yaml --dry-run -o res --only 3,1-2 > dry3
expect_eq "dry-run --only order" "$(awk '{ print $1 }' dry3 | grep -v '#' | tr '\n' ' ')" "3 1 2 "
expect_grep "dry-run state" "^   3  $id3 *complete" dry3

# Relative paths of a grid are relative to the grid file's folder, wherever 'run' is started
# (issue 9, bug 4: they were relative to the current folder): the command runs there, a relative
# workdir and a relative sim:trace= file are found there.
mkdir -p elsewhere/sub
printf 'print("hello")\n' > elsewhere/hello.py
printf 'import os\nopen("cwd", "w").write(os.getcwd())\n' > elsewhere/sub/where.py
printf '0,50\n10,50\n' > elsewhere/trace.csv
printf 'name: rel\nmeters: sim:trace=trace.csv\ninterval_ms: 50\ncommand: [python3, hello.py]\n' \
  > elsewhere/rel.yaml
printf 'name: rel2\nmeters: sim\ninterval_ms: 50\nworkdir: sub\ncommand: [python3, where.py]\n' \
  > elsewhere/rel2.yaml
mkdir -p away && cd away
jb run ../elsewhere/rel.yaml -o res 2> err || { cat err; fail "a grid with relative paths failed"; }
expect_grep "the command ran in the grid's folder" hello res/rel/r1/stdout.log
jb run "$T/elsewhere/rel2.yaml" -o res 2> err || { cat err; fail "a relative workdir failed"; }
expect_eq "relative workdir" "$(cat "$T/elsewhere/sub/cwd")" "$T/elsewhere/sub"
cd "$T"
echo ok
