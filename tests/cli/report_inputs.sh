#!/usr/bin/env bash
# 'report' and 'index' read run-directory files as regular files of bounded size (issue 13: a
# samples.csv that was a FIFO hung 'report'; a phases.csv that was a symbolic link to /dev/zero
# read until memory ran out): each is refused at once, naming the file and what it is.
. "$(dirname "$0")/lib.bash"
cd "$T"
printf 'name: f\nlevels: {a: [1, 2]}\nmeters: sim\ninterval_ms: 50\ncommand: [sleep, "0.2"]\n' > g.yaml
jb run g.yaml -o res --quiet
# expect_refused WHAT PATTERN CMD...: exits 1 with the message, well before the timeout (a hang).
expect_refused() {
  local what=$1 pat=$2; shift 2
  local pid i=0 rc
  "$@" > out 2> err &
  pid=$!
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    fail "$what: still running after 120 s (a hang)"
  fi
  set +e; wait "$pid"; rc=$?; set -e
  expect_eq "exit status of $what" "$rc" 1
  expect_grep "message of $what" "$pat" err
}
rm res/f/1-r1/samples.csv && mkfifo res/f/1-r1/samples.csv
expect_refused "report, FIFO" "cannot read 'res/f/1-r1/samples.csv': not a regular file (a FIFO)" \
  jb report res -o rep
expect_refused "index, FIFO" "cannot read 'res/f/1-r1/samples.csv': not a regular file (a FIFO)" \
  jb index res
rm res/f/1-r1/samples.csv && cp res/f/2-r1/samples.csv res/f/1-r1/
ln -sf /dev/zero res/f/2-r1/phases.csv
expect_refused "report, /dev/zero" \
  "cannot read 'res/f/2-r1/phases.csv': not a regular file (a character device)" jb report res -o rep
expect_refused "index, /dev/zero" \
  "cannot read 'res/f/2-r1/phases.csv': not a regular file (a character device)" jb index res
echo ok
