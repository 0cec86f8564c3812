#!/usr/bin/env bash
# The main job ('make run'): for now, 'joulebench stat' over a short demo command on the meters
# found here (the simulated meter when there is no GPU, labelled so).
set -euo pipefail
cd "$(dirname "$0")/.."
jb=build/joulebench
meters=auto
if ! "$jb" devices >/dev/null 2>&1 || [ "$("$jb" devices --count 2>/dev/null || echo 0)" = 0 ]; then
  echo "joulebench: no GPU or RAPL meter here: using the SIMULATED meter (sim:square=60:240:1000:0.5)" >&2
  meters="sim:square=60:240:1000:0.5"
fi
mkdir -p out
"$jb" stat -m "$meters" --json out/demo-stat.json -o out/demo-run -- \
  sh -c 'i=0; while [ $i -lt 3 ]; do i=$((i+1)); sleep 1; done'
