#!/usr/bin/env bash
# For a machine with several NVIDIA GPUs (not run by CI): checks 'joulebench run --gpus' end to end
# on real meters.  A grid of 2 x <number of GPUs> short runs (sleep 3) on 'meters: auto' is run
# with --gpus over every GPU; then each manifest must show exactly one meter, gpu<N>, with N its
# CUDA_VISIBLE_DEVICES, every run complete, and runs on different GPUs overlapping in time.
# Usage: scripts/check-gpus-runner.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
jb=${1:-build}/joulebench
n=$(nvidia-smi -L | wc -l)
[ "$n" -ge 2 ] || { echo "needs at least 2 GPUs (found $n)"; exit 1; }
gpus=$(seq -s, 0 $((n - 1)))
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
vals=$(seq -s, 1 $((2 * n)))
cat > "$T/g.yaml" <<YAML
name: gpus-check
levels: {i: [$vals]}
meters: auto
idle_baseline_s: 1
command: [sleep, "3"]
YAML
time "$jb" run "$T/g.yaml" -o "$T/res" --gpus "$gpus"
python3 - "$T/res/gpus-check" "$n" <<'PY'
import json, os, sys, datetime
root, n = sys.argv[1], int(sys.argv[2])
spans = []
for rid in sorted(os.listdir(root)):
    if rid.startswith('.'):
        continue
    m = json.load(open(os.path.join(root, rid, 'manifest.json')))
    cvd = m.get('cuda_visible_devices')
    ids = [x['id'] for x in m['meters']]
    assert m['status'] == 'complete', (rid, m['status'])
    assert ids == ['gpu' + cvd], (rid, ids, cvd)
    t = lambda s: datetime.datetime.fromisoformat(s.replace('Z', '+00:00')).timestamp()
    spans.append((t(m['start_utc']), t(m['end_utc']), cvd))
    print(rid, 'gpu' + cvd, [round(x['energy_j'], 1) for x in m['totals']], 'J')
assert len(spans) == 2 * n, len(spans)
assert len({c for _, _, c in spans}) == n, 'not every GPU was used'
assert any(a[2] != b[2] and a[0] < b[1] and b[0] < a[1] for a in spans for b in spans), 'no overlap'
print('ok: %d runs on %d GPUs, one meter each, overlapping' % (len(spans), n))
PY
