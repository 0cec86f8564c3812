#!/usr/bin/env bash
# Builds each tests/fuzz/fuzz_*.c with clang's libFuzzer (+ASan/UBSan) and runs it for N seconds
# (default 20) from its seed corpus.  A crash fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
out=build-fuzz
mkdir -p "$out"
shopt -s nullglob
srcs=$(ls src/lib/*.c src/util/*.c src/analysis/*.c src/data/npy.c src/data/npz.c src/data/sha256.c 2>/dev/null || true)
for f in tests/fuzz/fuzz_*.c; do
  name=$(basename "$f" .c)
  clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
    -Iinclude -Isrc -Isrc/lib "$f" $srcs -o "$out/$name" -lpthread -ldl -lm $(pkg-config --libs yaml-0.1 sqlite3 libarchive matio)
  corpus="tests/fuzz/corpus/${name#fuzz_}"
  mkdir -p "$out/corpus-$name"
  echo "fuzzing $name for ${secs}s"
  "$out/$name" -max_total_time="$secs" -max_len=4096 "$out/corpus-$name" $( [ -d "$corpus" ] && echo "$corpus" ) 2>&1 | tail -n 3
done
