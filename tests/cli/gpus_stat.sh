#!/usr/bin/env bash
# stat on a job that uses several GPUs (issue 12): every GPU that CUDA_VISIBLE_DEVICES shows is
# measured by default (-m auto) and with -m gpu, hidden ones never; --json carries "gpu_total",
# the sum over the GPU meters with each GPU's energy per phase and the spread between them, and the
# table has a "GPU total" line (the sum and the spread) with two or more GPU meters, none with one.
# Four fake NVML GPUs (tests/fake/fake_nvml.c), CUDA_VISIBLE_DEVICES=0,2; then two simulated
# meters of different power, which stand in for GPUs and are labelled simulated.
. "$(dirname "$0")/lib.bash"
export JOULEBENCH_NVML_LIB="$JB_FAKE_DIR/libfake_nvml.so"
[ -f "$JOULEBENCH_NVML_LIB" ] || fail "fake NVML not built: $JOULEBENCH_NVML_LIB"
mkdir -p "$T/nopowercap"
export JOULEBENCH_POWERCAP_ROOT="$T/nopowercap" FAKE_NVML_GPUS=4
# The job: marks one epoch of 1000 items through JOULEBENCH_FD.
cat > "$T/job.py" <<'PY'
import os, time
fd = int(os.environ["JOULEBENCH_FD"])
def mark(ev, **kw):
    os.write(fd, (('{"t":%d,"event":"%s","phase":"epoch","index":1%s}\n')
                  % (time.monotonic_ns(), ev, "".join(',"%s":%d' % kv for kv in kw.items())))
             .encode())
mark("begin"); time.sleep(0.6); mark("end", items=1000)
PY

# total_line TABLE: the "GPU total" line's energy and spread, checked against the meter rows above
# it (the sum of the energy_J column) and the spread (max - min) / mean of that column.
total_line() {
  python3 - "$1" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
rows = [l.split() for l in lines if re.match(r"^  (gpu|sim)\d+ ", l)]
tot = [l for l in lines if l.startswith("  GPU total ")]
assert len(rows) >= 2 and len(tot) == 1, lines
e = [float(r[1]) for r in rows]
f = tot[0].split()
assert f[4:7] == ["of", "%d" % len(e), "GPUs"], tot
assert abs(float(f[2]) - sum(e)) <= 0.002, (tot, e)
m = re.search(r"spread ([0-9.]+)% \(([0-9.]+)\.\.([0-9.]+) J\)", tot[0])
assert m, tot
want = 100 * (max(e) - min(e)) / (sum(e) / len(e))
assert abs(float(m.group(1)) - want) <= 0.1, (tot, want)
assert abs(float(m.group(2)) - min(e)) <= 0.002 and abs(float(m.group(3)) - max(e)) <= 0.002, tot
assert ("SIMULATED" in tot[0]) == ("SIMULATED" in rows[0][-1]), tot
PY
}

for spec in auto gpu; do
  CUDA_VISIBLE_DEVICES=0,2 jb stat -m "$spec" --json "$T/$spec.json" -o "$T/$spec.run" \
    -- python3 "$T/job.py" >"$T/$spec.table" 2>&1
  total_line "$T/$spec.table"
  python3 - "$T/$spec.json" "$T/$spec.run/manifest.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ids = [m["id"] for m in d["meters"]]
assert ids == ["gpu0", "gpu2"], ids                       # the visible GPUs, all of them
man = json.load(open(sys.argv[2]))
assert [m["id"] for m in man["meters"]] == ids, man["meters"]
g = d["gpu_total"]
assert g["gpus"] == ids and g["simulated"] is False, g
total = sum(m["energy_j"] for m in d["meters"])
assert abs(g["energy_j"] - total) <= 1e-6 * total, (g["energy_j"], total)
assert abs(g["min_j"] - min(m["energy_j"] for m in d["meters"])) < 1e-6, g
ph = {(p["phase"], p["index"]): p for p in g["phases"]}
ep = ph[("epoch", 1)]
rows = {p["meter"]: p["energy_j"] for p in d["phases"] if p["phase"] == "epoch"}
assert set(ep["per_gpu_j"]) == {"gpu0", "gpu2"} and ep["items"] == 1000, ep
for k, v in rows.items():
    assert abs(ep["per_gpu_j"][k] - v) < 1e-9, (k, ep, rows)
assert abs(ep["energy_j"] - sum(rows.values())) < 1e-6, (ep, rows)
assert 0 <= ep["spread"] < 0.5, ep                       # equal fake GPUs: nearly equal
assert ("command", 0) in ph
PY
done

# A hidden GPU is not measured even when named: CUDA_VISIBLE_DEVICES=0,2 hides gpu1.
set +e
CUDA_VISIBLE_DEVICES=0,2 jb stat -q -m gpu1 -- true 2>"$T/hidden.err"; rc=$?
set -e
[ "$rc" -ne 0 ] || fail "gpu1 hidden by CUDA_VISIBLE_DEVICES=0,2 was measured"
expect_grep "hidden GPU named" "gpu1" "$T/hidden.err"

# Simulated stand-ins of 100 W and 300 W: spread (300 - 100) / 200 = 1, and labelled simulated.
jb stat -m sim:const=100,sim:const=300 --json "$T/sim.json" -- python3 "$T/job.py" \
  >"$T/sim.table" 2>&1
total_line "$T/sim.table"
expect_grep "spread of 100 W and 300 W" "GPU total .* spread 100.0% .*SIMULATED" "$T/sim.table"
python3 - "$T/sim.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))["gpu_total"]
assert g["gpus"] == ["sim0", "sim1"] and g["simulated"] is True, g
assert abs(g["spread"] - 1.0) < 1e-6, g
ep = [p for p in g["phases"] if p["phase"] == "epoch"][0]
assert abs(ep["spread"] - 1.0) < 1e-6 and abs(ep["per_gpu_j"]["sim1"] / ep["per_gpu_j"]["sim0"] - 3) < 1e-6, ep
PY

# One GPU meter: the sum is its energy; the spread needs two (null, not 0).
jb stat -m sim:const=5 --json "$T/one.json" -- true >"$T/one.table" 2>&1
if grep -q "GPU total" "$T/one.table"; then fail "a GPU total line for one GPU meter"; fi
expect_grep "one meter's row" "^  sim0 " "$T/one.table"
python3 -c 'import json,sys; g=json.load(open(sys.argv[1]))["gpu_total"]; assert g["gpus"]==["sim0"] and g["spread"] is None, g' "$T/one.json"
echo "stat on several GPUs: all passed"
