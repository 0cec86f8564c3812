#!/usr/bin/env bash
# Builds each tests/fuzz/fuzz_*.c with clang's libFuzzer (+ASan/UBSan) and runs it from its seed
# corpus (tests/fuzz/corpus/<target>/, read only; new inputs go to build-fuzz/corpus-<target>/).
#
#   scripts/fuzz.sh [SECS]            CI: every target for SECS seconds (default 15)
#   scripts/fuzz.sh --long [SECS]     a campaign: each target in turn, at nice 19, until 10M
#                                     executions or SECS seconds (default 900); a summary line per
#                                     target goes to build-fuzz/campaign.txt
#   --only NAME[,NAME...]             just these targets (grid, json, nvsmi, ...)
#
# The grid's work limits are lowered to 20,000 runs (src/run/grid_int.h says why).
# Every run uses -timeout=1 (an input taking over 1 s is a hang: a finding) and -rss_limit_mb=2048.
# JB_FUZZ_TIMEOUT=S raises that limit for a campaign beside other work: libFuzzer's timeout is
# wall time, and a nice-19 fuzzer on a machine whose cores are busy can be starved of the CPU for
# over a second (seen 2026-12-03: a 1 ms input reported as a 1 s "timeout" while two busy loops ran).
# A crash, leak, sanitizer report or hang fails the script; the input is kept in
# build-fuzz/artifacts/<target>/.  Add it to tests/fuzz/corpus/<target>/ with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=15 long=0 only=""
while [ $# -gt 0 ]; do
  case $1 in
    --long) long=1; secs=900 ;;
    --only) only=$2; shift ;;
    [0-9]*) secs=$1 ;;
    *) echo "usage: scripts/fuzz.sh [--long] [--only NAME,...] [SECS]" >&2; exit 2 ;;
  esac
  shift
done
out=${JB_FUZZ_OUT:-build-fuzz}  # JB_FUZZ_OUT: another folder, e.g. for a campaign beside CI runs
mkdir -p "$out/obj"
shopt -s nullglob
cflags=(-std=c11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
        -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DJB_HAVE_MATIO -DJB_HAVE_LIBARCHIVE
        -DGRID_MAX_RUNS=20000u -DGRID_MAX_COMBINATIONS=20000u -DGRID_MAX_EXCLUDE_CHECKS=2000000
        '-DJB_VERSION="fuzz"' -Iinclude -Isrc -Isrc/lib -Isrc/json -Isrc/list)
libs=(-lpthread -ldl -lm $(pkg-config --libs yaml-0.1 sqlite3 libarchive matio zlib nettle))

# The code under test, compiled once: the library, util, the run-directory reader, analysis, data,
# and the grid parser (not the rest of src/run, which is the runner).  Targets: tests/fuzz/fuzz_*.c
# (csv, grid, json, mat5, meterspec, nvsmi, protocol, ...).
objs=()
for f in src/lib/*.c src/json/*.c src/list/*.c src/util/*.c src/rundir/*.c src/analysis/*.c src/data/*.c src/run/grid*.c; do
  o="$out/obj/$(echo "${f%.c}" | tr / _).o"
  if [ ! -e "$o" ] || [ "$f" -nt "$o" ] || [ -n "$(find src include -name '*.h' -newer "$o" -print -quit)" ]; then
    clang "${cflags[@]}" -c "$f" -o "$o"
  fi
  objs+=("$o")
done
rm -f "$out/libjbfuzz.a"
ar rcs "$out/libjbfuzz.a" "${objs[@]}"

failed=0
[ "$long" = 1 ] && : > "$out/campaign.txt"
for f in tests/fuzz/fuzz_*.c; do
  name=$(basename "$f" .c)
  short=${name#fuzz_}
  if [ -n "$only" ] && ! [[ ",$only," == *",$short,"* ]]; then continue; fi
  clang "${cflags[@]}" -fsanitize=fuzzer "$f" "$out/libjbfuzz.a" -o "$out/$name" "${libs[@]}"
  seeds="tests/fuzz/corpus/$short"
  work="$out/corpus-$short"
  art="$out/artifacts/$short/"
  mkdir -p "$work" "$art"
  args=(-timeout="${JB_FUZZ_TIMEOUT:-1}" -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1
        -artifact_prefix="$art" -max_total_time="$secs")
  log="$out/$name.log"
  if [ "$long" = 1 ]; then
    args+=(-runs=10000000)
    echo "campaign: $name for up to ${secs}s or 10M executions ($(date -u +%FT%TZ))"
    set +e; nice -n 19 "$out/$name" "${args[@]}" "$work" $( [ -d "$seeds" ] && echo "$seeds" ) > "$log" 2>&1; rc=$?; set -e
  else
    echo "fuzzing $name for ${secs}s"
    set +e; "$out/$name" "${args[@]}" "$work" $( [ -d "$seeds" ] && echo "$seeds" ) > "$log" 2>&1; rc=$?; set -e
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  secs_used=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  finds=$(ls -A "$art" | wc -l)
  line="$name: ${execs:-?} executions (${secs_used:-?}/s), exit $rc, $finds artifacts in $art"
  echo "  $line"
  [ "$long" = 1 ] && echo "$(date -u +%F) $line" >> "$out/campaign.txt"
  if [ "$rc" != 0 ]; then
    failed=1
    tail -n 30 "$log"
  fi
done
exit "$failed"
