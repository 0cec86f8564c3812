# Helpers of the 'run' CLI tests (tests/cli/run_*.sh); sourced after lib.sh, in "$T".

# jb_bg ARGS...: starts the binary in the background so that $! is the runner's own pid (under
# valgrind too: valgrind runs its client in its own process).
jb_bg() {
  if [ "${JB_VALGRIND:-}" = 1 ]; then
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
      --trace-children=no "$JB" "$@" &
  else
    "$JB" "$@" &
  fi
}

# work.py RUN_ID: the measured command.  Appends "start RUN_ID" and "end RUN_ID" to ./log (one
# line each, so executions can be counted), writes its pid to pid-RUN_ID, sleeps the seconds in
# dur-RUN_ID (default 0.2) and records $CUDA_VISIBLE_DEVICES and its start/end times.
write_worker() {
  cat > work.py <<'PY'
import os, sys, time
rid = sys.argv[1]
def log(what):
    with open('log', 'a') as f:
        f.write(what + ' ' + rid + '\n')
log('start')
t0 = time.time()
with open('pid-' + rid + '.tmp', 'w') as f:
    f.write(str(os.getpid()))
os.rename('pid-' + rid + '.tmp', 'pid-' + rid)
dur = float(open('dur-' + rid).read()) if os.path.exists('dur-' + rid) else 0.2
time.sleep(dur)
with open('times', 'a') as f:
    f.write('%s %.6f %.6f %s\n' % (rid, t0, time.time(), os.environ.get('CUDA_VISIBLE_DEVICES', '')))
log('end')
# Last: an orphan whose stdout pipe is gone would die here of SIGPIPE, after logging.
print('cvd=%s' % os.environ.get('CUDA_VISIBLE_DEVICES', ''))
PY
}

# write_grid NAME 'LEVELS-YAML' [MORE-YAML-LINES...]: a grid (sequential unless a line sets order) on the simulated meter
# running work.py in the current folder.
write_grid() {
  local name=$1 levels=$2; shift 2
  {
    echo "name: $name"
    echo "levels: {$levels}"
    case " $* " in *" order: "*) ;; *) echo "order: sequential" ;; esac
    echo "meters: sim"
    echo "interval_ms: 50"
    echo "command: [python3, '$PWD/work.py', '{run_id}']"
    echo "workdir: '$PWD'"
    for l in "$@"; do echo "$l"; done
  } > g.yaml
}

wait_for_file() {
  for _ in $(seq 400); do [ -s "$1" ] && return 0; sleep 0.05; done
  fail "$1 never appeared"
}

# manifest_field GRID RUN KEY
manifest_field() {
  python3 -c "import json,sys; print(json.load(open('res/$1/$2/manifest.json'))['$3'])"
}

# snapshot GRID "RUN..." > FILE: sha256 of every file of those run directories.
snapshot() {
  (cd "res/$1" && find $2 -type f | sort | xargs sha256sum)
}
check_snapshot() {
  (cd "res/$1" && sha256sum -c --quiet "$T/$2") || fail "completed run directories changed"
}

# expect_each_complete_once GRID "RUN...": each run's command ended exactly once, and its
# directory is complete.
expect_each_complete_once() {
  local r
  for r in $2; do
    expect_eq "completed executions of $r" "$(grep -c "^end $r\$" log)" 1
    expect_eq "status of $r" "$(manifest_field "$1" "$r" status)" complete
  done
}
