# index_signal.sh - SIGINT or SIGTERM while `index` builds the store keeps the old results.db and
# leaves no temporary beside it (issue 13); a temporary left by a process that is gone (kill -9)
# is removed by the next index.  The signal lands through the test hook JB_TEST_STORE_PAUSE_FILE
# (the build waits, its temporary store complete, just before the rename): no race, no sleep.
source "$(dirname "$0")/lib.bash"
mk() { # mk NAME W
  local e="$T/src/$1-e.csv" m="$T/src/$1-m.csv" t
  mkdir -p "$T/src"
  echo "timestamp, power.draw [W], utilization.gpu [%]" >"$e"
  for t in $(seq 0 20); do printf '2026/01/02 10:00:%02d.000, %d W, 60 %%\n' "$t" "$2" >>"$e"; done
  printf 'epoch;accuracy;timestamp\n0;0.4;2026-01-02 10:00:10\n1;0.6;2026-01-02 10:00:20\n' >"$m"
  jb import nvidia-smi "$e" --epochs "$m" --levels "framework=$1,batch_size=32" -o "$T/res/g/$1-r1" >/dev/null
}
mk alpha 100
jb index "$T/res" >/dev/null
cp "$T/res/results.db" "$T/old.db"
mk beta 200
for sig in INT TERM; do
  want=130
  [ "$sig" = TERM ] && want=143
  rm -f "$T/paused"
  JB_TEST_STORE_PAUSE_FILE="$T/paused" jb_bg index "$T/res" >/dev/null 2>"$T/err"
  pid=$!
  while [ ! -e "$T/paused" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  [ -e "$T/paused" ] || fail "index never reached the test hook"
  ls -A "$T/res" | grep -q '^results\.db\.tmp-' || fail "no temporary store while paused: the test would prove nothing"
  kill -s "$sig" "$pid"
  set +e; wait "$pid"; rc=$?; set -e
  expect_eq "exit status after SIG$sig" "$rc" "$want"
  cmp -s "$T/old.db" "$T/res/results.db" || fail "SIG$sig: results.db changed"
  left=$(ls -A "$T/res" | grep '^results\.db\.' || true)
  [ -z "$left" ] || fail "SIG$sig: left behind: $left"
done
# kill -9 cannot be caught: its temporary stays, and the next index removes it
rm -f "$T/paused"
JB_TEST_STORE_PAUSE_FILE="$T/paused" jb_bg index "$T/res" >/dev/null 2>"$T/err"
pid=$!
while [ ! -e "$T/paused" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
kill -9 "$pid"
set +e; wait "$pid"; set -e
ls -A "$T/res" | grep -q "^results\.db\.tmp-$pid" || fail "kill -9 left no temporary (nothing to test)"
echo junk >"$T/res/results.db.tmp-1" # pid 1 is alive: not ours to remove
jb index "$T/res" >/dev/null
left=$(ls -A "$T/res" | grep "^results\.db\.tmp-$pid" || true)
[ -z "$left" ] || fail "the dead process's temporary was not removed: $left"
[ -f "$T/res/results.db.tmp-1" ] || fail "a live process's temporary was removed"
echo "ok"
