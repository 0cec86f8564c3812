#!/usr/bin/env bash
# joulebench stat's outputs (issue 10 section 2, issue 9 bugs 2 and 3): --json - and -o - mean
# standard output; a symbolic link to a FIFO or /dev/null stays a link, a link to a file stays a
# link to the new file; every output path is checked before the command starts (the command
# must not run); a JSON file that cannot be written at the end is kept elsewhere and the message
# says where; 127/126 with "cannot run 'X': ..." and no -1; "timed out after N s" beside 143.
. "$(dirname "$0")/lib.bash"
cd "$T"
json_ok() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['meters'][0]['simulated'] is True, d" "$1"; }

# 1. --json -: the command's stdout first, then the JSON; no file named '-'.
jb stat -q -m sim --json - -- echo hello >"$T/o1" 2>"$T/e1"
expect_eq "command output first" "$(head -1 "$T/o1")" hello
tail -n +2 "$T/o1" >"$T/o1.json"
json_ok "$T/o1.json"
[ -e "$T/-" ] && fail "--json - wrote a file named '-'"
grep -q '"duration_s"' "$T/e1" && fail "--json - wrote JSON to stderr"

# 2. -o -: the table on stdout (after the command's output), nothing on stderr, no run directory.
jb stat -m sim -o - -- echo hi >"$T/o2" 2>"$T/e2"
expect_eq "command output" "$(head -1 "$T/o2")" hi
expect_grep "table on stdout" "joulebench stat for 'echo hi'" "$T/o2"
expect_grep "simulated on stdout" "SIMULATED" "$T/o2"
grep -q "joulebench stat for" "$T/e2" && fail "-o - printed the table on stderr"
[ -e "$T/-" ] && fail "-o - made a run directory named '-'"
jb stat -x , -m sim -o - -- true >"$T/o3" 2>/dev/null
expect_eq "-x rows on stdout" "$(head -1 "$T/o3" | cut -d, -f1-3)" "value,unit,event"
set +e
jb stat -m sim -o - --json - -- true 2>"$T/e3"; rc=$?
set -e
expect_eq "-o - with --json -" "$rc" 2
expect_grep "both stdout message" "both want standard output" "$T/e3"

# 3. Issue 9 bug 2: non-regular targets are written in place, never replaced.
ln -s /dev/null "$T/devnull-link"
jb stat -q -m sim --json "$T/devnull-link" -- true
[ -L "$T/devnull-link" ] || fail "a symlink to /dev/null was replaced"
[ -c /dev/null ] || fail "/dev/null is no longer a character device"
mkfifo "$T/fifo"
ln -s "$T/fifo" "$T/fifo-link"
cat "$T/fifo" >"$T/from-fifo" &
reader=$!
jb stat -q -m sim --json "$T/fifo-link" -- true
wait "$reader"
json_ok "$T/from-fifo"
[ -L "$T/fifo-link" ] || fail "a symlink to a FIFO was replaced"
[ -p "$T/fifo" ] || fail "the FIFO was replaced"
echo old >"$T/real.json"
ln -s real.json "$T/file-link"
jb stat -q -m sim --json "$T/file-link" -- true
[ -L "$T/file-link" ] || fail "a symlink to a regular file was replaced by a file"
json_ok "$T/real.json"
ls "$T" | grep -q '\.tmp\.' && fail "a temporary file was left"
ln -s "$T/missing.json" "$T/dangling"
set +e
jb stat -q -m sim --json "$T/dangling" -- touch "$T/m0" 2>"$T/e4"; rc=$?
set -e
expect_eq "dangling link" "$rc" 1
expect_grep "dangling message" "a symbolic link to a missing file" "$T/e4"
[ -e "$T/m0" ] && fail "the command ran although its JSON target was refused"

# 4. Issue 9 bug 3: a bad output path fails at once, exit 1, and the command does not run.
set +e
jb stat -q -m sim --json nodir/x.json -- touch "$T/marker" 2>"$T/e5"; rc=$?
set -e
expect_eq "missing JSON folder" "$rc" 1
expect_grep "missing folder message" \
  "joulebench: error: cannot create 'nodir/x.json': No such file or directory (the command was not run)" "$T/e5"
[ -e "$T/marker" ] && fail "the command ran although its JSON path was bad"
mkdir "$T/adir"
set +e
jb stat -q -m sim --json "$T/adir" -- touch "$T/marker" 2>"$T/e6"; rc=$?
set -e
expect_eq "JSON path is a directory" "$rc" 1
expect_grep "directory message" "Is a directory" "$T/e6"
echo x >"$T/afile"
for r in "" "-r 2"; do
  set +e
  # shellcheck disable=SC2086
  jb stat -q $r -m sim -o "$T/afile/run" -- touch "$T/marker" 2>"$T/e7"; rc=$?
  set -e
  expect_eq "run directory under a file ($r)" "$rc" 1
  expect_grep "run directory message" "cannot create directory" "$T/e7"
  [ -e "$T/marker" ] && fail "the command ran although its run directory was bad ($r)"
done

# 5. A JSON file that still cannot be written at the end (its folder went away while the
#    command ran): the results are kept in $TMPDIR and the message says where; exit 1.
mkdir "$T/gone" "$T/tmpd"
set +e
TMPDIR="$T/tmpd" jb stat -q -m sim --json "$T/gone/x.json" -- rm -rf "$T/gone" 2>"$T/e8"; rc=$?
set -e
expect_eq "late failure status" "$rc" 1
expect_grep "late failure says where" "the results were written to '$T/tmpd/joulebench-stat-" "$T/e8"
saved=$(sed -n "s/.*written to '\([^']*\)' instead.*/\1/p" "$T/e8")
json_ok "$saved"

# 6. A missing command: 127 and the message; the table and the JSON show no -1.
set +e
jb stat -m sim --json "$T/nf.json" -- no-such-command-jb 2>"$T/e9"; rc=$?
set -e
expect_eq "missing command status" "$rc" 127
expect_grep "missing command message" \
  "joulebench: error: cannot run 'no-such-command-jb': No such file or directory" "$T/e9"
expect_grep "table status" "exit status 127 (cannot run: No such file or directory)" "$T/e9"
grep -q -- "-1" "$T/e9" && fail "the table shows -1"
grep -q -- "-1" "$T/nf.json" && fail "the JSON shows -1"
python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
assert d['exit_status'] == 127 and d['started'] is False and 'No such file' in d['error'], d" "$T/nf.json"
printf '#!/bin/sh\necho never\n' >"$T/noexec.sh"
chmod 644 "$T/noexec.sh"
set +e
jb stat -q -m sim -- "$T/noexec.sh" 2>"$T/e10"; rc=$?
set -e
expect_eq "not executable status" "$rc" 126
expect_grep "not executable message" "cannot run '$T/noexec.sh': Permission denied" "$T/e10"

# 7. A timeout: "timed out after N s" beside the status 143.
set +e
jb stat -m sim --timeout 0.5 --json "$T/to.json" -- sleep 30 2>"$T/e11"; rc=$?
set -e
expect_eq "timeout status" "$rc" 143
expect_grep "timeout message" "exit status 143 (timed out after 0.5 s)" "$T/e11"
python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
assert d['timed_out'] is True and d['timeout_s'] == 0.5 and d['exit_status'] == 143, d" "$T/to.json"
echo "stat_output: all passed"
