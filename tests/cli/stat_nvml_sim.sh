#!/usr/bin/env bash
# joulebench stat on the NVML-faithful simulated meter (sim:nvml: a counter that moves every
# 100 ms and is stale in between, as on an NVIDIA H200): a 30 ms phase between two counter updates
# gets its share of the update interval it lies in (300 W: ~9 J), never 0 J (issue 8: the H200's
# eval phases read 0 J), and the whole command agrees with power x time.  The below-resolution
# flag is in the library's results (tests/unit/test_phases.c); stat --json shows it once wired.
. "$(dirname "$0")/lib.bash"
D="$(dirname "$0")/data"
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# Eight 30 ms phases 137 ms apart after 1.5 s: most lie between two updates, none can be 0 J.
jb stat -q -m sim:nvml:offset_ms=50:const=300 --json "$T/s.json" -- \
  python3 "$D/short_phases.py" 1.5 8 30 137
expect_eq "source" "$(json_get "$T/s.json" 'd["meters"][0]["energy_source"]')" simulated
python3 - "$T/s.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ev = [p for p in d["phases"] if p["phase"] == "eval"]
assert len(ev) == 8, ev
for p in ev:
    want = 300 * p["duration_s"]
    assert p["energy_j"] > 0, p
    assert abs(p["energy_j"] - want) < 0.05 * want, (p, want)
    assert not p.get("partial"), p
cmd = [p for p in d["phases"] if p["phase"] == "command"][0]
assert abs(cmd["energy_j"] - 300 * cmd["duration_s"]) < 0.02 * 300 * cmd["duration_s"], cmd
PY

# 25 ms bursts of 700 W every 101 ms (130 W between, 271 W on average), 1 s phases: each phase's
# counter energy is steady (within one update's share at each bound), whatever the instant
# reading does.
jb stat -q -m sim:nvml:offset_ms=20:burst=130:700:25:101 --json "$T/b.json" -- \
  python3 "$D/short_phases.py" 0.5 4 1000 0
python3 - "$T/b.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ev = [p for p in d["phases"] if p["phase"] == "eval"]
assert len(ev) == 4, ev
mean_w = 130 + 570 * 25 / 101
for p in ev:
    want = mean_w * p["duration_s"]
    assert abs(p["energy_j"] - want) < 0.07 * want, (p, want)
PY

# Bad NVML-like specs are refused with the reason.
set +e
jb stat -m sim:nvml:update_ms=0 -- true 2>"$T/e1"; rc=$?
set -e
expect_eq "bad sim:nvml status" "$rc" 1
expect_grep "bad sim:nvml message" "update_ms must be >= 1" "$T/e1"
echo "stat on sim:nvml: all passed"
