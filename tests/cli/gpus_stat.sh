#!/usr/bin/env bash
# stat on a job that uses several GPUs (issue 12): every GPU that CUDA_VISIBLE_DEVICES shows is
# measured by default (-m auto) and with -m gpu, hidden ones never; --json carries "gpu_total",
# the sum over the GPU meters with each GPU's energy per phase and the spread between them.
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

for spec in auto gpu; do
  CUDA_VISIBLE_DEVICES=0,2 jb stat -q -m "$spec" --json "$T/$spec.json" -o "$T/$spec.run" \
    -- python3 "$T/job.py"
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
jb stat -q -m sim:const=100,sim:const=300 --json "$T/sim.json" -- python3 "$T/job.py"
python3 - "$T/sim.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))["gpu_total"]
assert g["gpus"] == ["sim0", "sim1"] and g["simulated"] is True, g
assert abs(g["spread"] - 1.0) < 1e-6, g
ep = [p for p in g["phases"] if p["phase"] == "epoch"][0]
assert abs(ep["spread"] - 1.0) < 1e-6 and abs(ep["per_gpu_j"]["sim1"] / ep["per_gpu_j"]["sim0"] - 3) < 1e-6, ep
PY

# One GPU meter: the sum is its energy; the spread needs two (null, not 0).
jb stat -q -m sim:const=5 --json "$T/one.json" -- true
python3 -c 'import json,sys; g=json.load(open(sys.argv[1]))["gpu_total"]; assert g["gpus"]==["sim0"] and g["spread"] is None, g' "$T/one.json"
echo "stat on several GPUs: all passed"
