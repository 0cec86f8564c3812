#!/usr/bin/env bash
# Times 'joulebench import nvidia-smi --batch' + 'joulebench report --method seed-2023' (and the
# default corrected report) on a generated 1,000,000-sample nvidia-smi log with its epoch file,
# against bench/study_postprocess.py (pandas) on the same files, in the same run.
# usage: bench/bench_import.sh [BUILD_DIR] [PYTHON]   (PYTHON must have pandas; default python3)
# Results go to docs/BENCHMARKS.md, section "import + report", by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
py=${2:-python3}
jb="$build/joulebench"
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
python3 bench/gen_nvsmi.py "$w/logs" --samples 1000000 --epochs 10
echo "input: $(wc -l <"$w"/logs/*-ENERGY.csv) lines, $(du -h "$w"/logs/*-ENERGY.csv | cut -f1)"
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }'; }
for i in 1 2 3; do
  rm -rf "$w/res"
  ti=$(t "$jb" import nvidia-smi --batch "$w/logs" -o "$w/res")
  ts=$(t "$jb" report "$w/res" --method seed-2023 --no-figures -o "$w/rep-seed")
  tc=$(t "$jb" report "$w/res" --no-figures -o "$w/rep")
  echo "joulebench run $i: import ${ti} s, report seed-2023 ${ts} s, report corrected ${tc} s, import + seed-2023 $(awk -v a="$ti" -v b="$ts" 'BEGIN { printf "%.3f", a + b }') s"
done
if "$py" -c 'import pandas' 2>/dev/null; then
  for i in 1 2; do
    tp=$(t "$py" bench/study_postprocess.py "$w/logs")
    echo "pandas study post-processing run $i: ${tp} s"
  done
  "$py" bench/study_postprocess.py "$w/logs" | tail -1 | cut -d, -f5- >"$w/pandas.txt"
  tail -1 "$w/rep-seed/configs.csv" | cut -d, -f5- >"$w/jb.txt"
  echo "same result: pandas $(cat "$w/pandas.txt") | joulebench $(cat "$w/jb.txt")"
else
  echo "($py has no pandas: skipped the pandas side; pip install pandas into a venv and pass it)"
fi
