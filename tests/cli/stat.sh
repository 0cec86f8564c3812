#!/usr/bin/env bash
# joulebench stat on the simulated meter: exact energy, phases, exit status passthrough,
# signals, --json, run directory, bad input.
. "$(dirname "$0")/lib.bash"
W="$(dirname "$0")/data/workload.py"
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# 1. Constant 100 W: energy = 100 W x duration, from the exact simulated counter.
jb stat -q -m sim:const=100 --json "$T/c.json" -- sleep 0.5
dur=$(json_get "$T/c.json" 'd["duration_s"]')
e=$(json_get "$T/c.json" 'd["meters"][0]["energy_j"]')
want=$(awk -v d="$dur" 'BEGIN { print 100 * d }')
expect_near "constant energy" "$e" "$want" 0.05
expect_eq "source" "$(json_get "$T/c.json" 'd["meters"][0]["energy_source"]')" simulated
expect_eq "simulated flag" "$(json_get "$T/c.json" 'd["meters"][0]["simulated"]')" True

# 2. Square wave 100/300 W, period 200 ms, duty 0.5 over ~2 s: whole periods give exactly
#    200 W average; the partial period adds at most 100 W x its length.
jb stat -q -m sim:square=100:300:200:0.5 --json "$T/sq.json" -- sleep 2
dur=$(json_get "$T/sq.json" 'd["duration_s"]')
e=$(json_get "$T/sq.json" 'd["meters"][0]["energy_j"]')
tol=$(awk -v d="$dur" 'BEGIN { r = d - 0.2 * int(d / 0.2); print 100 * r + 0.01 }')
expect_near "square-wave energy" "$e" "$(awk -v d="$dur" 'BEGIN { print 200 * d }')" "$tol"
expect_eq "square peak" "$(json_get "$T/sq.json" 'd["meters"][0]["peak_power_w"]')" 300

# 3. Exit status passthrough, 128+signal, 127 for a missing command.
set +e
jb stat -q -m sim -- sh -c 'exit 3'; rc=$?
expect_eq "exit status" "$rc" 3
jb stat -q -m sim -- sh -c 'kill -9 $$'; rc=$?
expect_eq "killed status" "$rc" 137
jb stat -q -m sim -- /nonexistent/command 2>"$T/err"; rc=$?
expect_eq "missing command status" "$rc" 127
expect_grep "missing command message" "cannot run '/nonexistent/command'" "$T/err"
set -e

# 4. Phases and metrics through JOULEBENCH_FD, with malformed lines reported and skipped.
jb stat -m sim:const=50 --json "$T/p.json" -o "$T/run" -- python3 "$W" 3 0.3 --bad 2>"$T/perr"
expect_grep "protocol error line number" "protocol line 4: not a JSON object" "$T/perr"
expect_grep "unknown event" "unknown event 'explode'" "$T/perr"
expect_grep "missing t" "field 't' is required" "$T/perr"
expect_grep "phase table" "epoch" "$T/perr"
expect_eq "protocol errors" "$(json_get "$T/p.json" 'd["protocol_errors"]')" 3
n_epochs=$(json_get "$T/p.json" 'len([p for p in d["phases"] if p["phase"] == "epoch"])')
expect_eq "epochs" "$n_epochs" 3
# Each epoch's counter energy is 50 W x its duration (the counter is exact).
python3 - "$T/p.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["phases"]:
    want = 50 * p["duration_s"]
    assert abs(p["energy_j"] - want) < 1e-3 * max(want, 1), (p, want)
    assert p["energy_j_power"] is not None and abs(p["energy_j_power"] - want) < 1e-6 + 1e-3 * want, p
    if p["phase"] == "epoch":
        assert p["items"] == 1000, p
        assert p["duration_s"] >= 0.3 - 1e-3, p  # a 0.3 s sleep; a loaded machine only adds
PY
for f in manifest.json samples.csv phases.csv metrics.csv stdout.log stderr.log; do
  [ -f "$T/run/$f" ] || fail "run directory lacks $f"
done
ls "$T/run" | grep -q partial && fail "partial files left in the run directory"
expect_eq "samples header" "$(head -1 "$T/run/samples.csv")" \
  "t_s,meter,power_w,energy_j,temp_c,util_pct,mem_util_pct,mem_used_mib,sm_clock_mhz,mem_clock_mhz,power_instant_w"
expect_eq "phases header" "$(head -1 "$T/run/phases.csv")" \
  "phase,index,meter,t_begin_s,t_end_s,duration_s,energy_j,energy_j_power,avg_power_w,items,energy_j_lo,energy_j_hi,power_rel_diff,peak_power_w,peak_power_source,peak_interval_power_w,update_period_s,flags"
expect_grep "metrics" "eval,2,accuracy,0.2" "$T/run/metrics.csv"
python3 - "$T/run/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["status"] == "complete" and m["exit_status"] == 0, m
assert m["info"]["framework"] == "none", m["info"]
assert m["meters"][0]["simulated"] is True and m["meters"][0]["energy_source"] == "simulated"
assert m["protocol_errors"] == 3
assert m["start_utc"].endswith("Z")
PY

# 5. Idle baseline: net energy = gross - idle power x duration (100 W constant: net ~ 0).
jb stat -q -m sim:const=100 --idle 0.3 --json "$T/i.json" -- sleep 0.3
net=$(json_get "$T/i.json" 'd["meters"][0]["net_energy_j"]')
expect_near "net energy" "$net" 0 0.05

# 6. SIGTERM to stat is forwarded; the status says so.
set +e
jb_bg stat -q -m sim -o "$T/int" -- sleep 30
pid=$!
wait_for "$T/int/samples.csv.partial"
sleep 0.5
kill -TERM "$pid"
wait "$pid"; rc=$?
set -e
expect_eq "forwarded SIGTERM status" "$rc" 143
python3 -c "import json,sys; m=json.load(open(sys.argv[1])); assert m['status']=='interrupted', m" "$T/int/manifest.json"

# 7. Bad input: usage errors exit 2 and name the problem.
set +e
jb stat -m sim 2>"$T/e1"; rc=$?
expect_eq "no command" "$rc" 2
expect_grep "no command message" "no command to measure" "$T/e1"
jb stat -i 5 -m sim -- true 2>"$T/e2"; rc=$?
expect_eq "bad interval" "$rc" 2
expect_grep "bad interval message" "expected milliseconds in 10..60000" "$T/e2"
jb stat -m nonsense -- true 2>"$T/e3"; rc=$?
expect_eq "unknown meter" "$rc" 1
expect_grep "unknown meter message" "unknown meter 'nonsense'" "$T/e3"
jb stat -m sim:square=1:2:0:0.5 -- true 2>"$T/e4"; rc=$?
expect_eq "bad square" "$rc" 1
set -e

# 8. Strings that are not UTF-8 (issue 13: an info value was copied raw into manifest.json, which
#    then was not JSON): replaced by U+FFFD on the way in; manifest.json and --json parse.  The
#    working folder, recorded in the manifest, is not UTF-8 either.
RD="$T/run-$(printf '\xe9')"
mkdir "$RD" && cd "$RD"
jb stat -q -m sim -o "$RD" --json "$T/u.json" -- python3 -c '
import os
fd = int(os.environ["JOULEBENCH_FD"])
os.write(fd, b"{\"event\":\"info\",\"values\":{\"framework\":\"py\xff\xfetorch\",\"ok\":\"\xc3\xa9\"}}\n")
' || fail "stat with invalid UTF-8 info"
cd "$T"
python3 - "$RD/manifest.json" "$T/u.json" <<'PY' || fail "manifest.json with invalid UTF-8 is not valid JSON"
import json, sys
raw = open(sys.argv[1], "rb").read()
raw.decode("utf-8")  # strict: valid UTF-8
m = json.loads(raw)
text = json.dumps(m, ensure_ascii=False)
assert "py\ufffd\ufffdtorch" in text, text
assert "\u00e9" in text, text
json.loads(open(sys.argv[2], "rb").read().decode("utf-8"))
PY
echo "stat: all passed"
