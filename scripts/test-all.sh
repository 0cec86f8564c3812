#!/usr/bin/env bash
# Every test joulebench has, as CI runs them (called by 'make test' after the dependencies):
#  1. the -Werror build (RelWithDebInfo, gcc) and its whole ctest suite (unit, CLI, Python);
#  2. a -Werror Release build (gcc -O3: the warnings only the optimiser finds, such as
#     -Wformat-truncation), build only;
#  3. a -Werror clang build and its unit tests;
#  4. an ASan+UBSan build running the C suites again (unit and CLI);
#  5. the CLI tests under valgrind (memcheck, leaks are errors);
#  6. cppcheck over the sources;
#  7. clang-format (.clang-format) over every C file;
#  8. a short run of each libFuzzer target (15 s each).
# A plain 'cmake' build does not stop on warnings (JB_WERROR is off by default, so a user's or a
# distribution's newer compiler never breaks the build); every build here turns it on.
# Every stage runs even when an earlier one fails; the summary counts what ran, and the exit
# status is 1 when any stage failed.
#
#   scripts/test-all.sh [--only N[,N...]]    just these stages (numbers above), e.g. --only 2,3
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
jobs=$(nproc)
only=""
if [ "${1:-}" = "--only" ] && [ -n "${2:-}" ]; then
  only=",$2,"
elif [ $# -gt 0 ]; then
  echo "usage: scripts/test-all.sh [--only N[,N...]]" >&2
  exit 2
fi

n=0 passed=0 failed=0 failures=()
# stage NAME FUNCTION: runs FUNCTION in a subshell under 'set -e' and records its result.
stage() {
  n=$((n + 1))
  if [ -n "$only" ] && [[ $only != *",$n,"* ]]; then return 0; fi
  printf '\n==== %d. %s ====\n' "$n" "$1"
  local t0=$SECONDS rc
  # not '( ... ) || rc=$?': inside a || list bash ignores set -e, so a failing step would not stop
  (set -e; "$2")
  rc=$?
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    printf -- '---- %d. %s: passed (%d s)\n' "$n" "$1" $((SECONDS - t0))
  else
    failed=$((failed + 1))
    failures+=("$n. $1 (exit $rc)")
    printf -- '---- %d. %s: FAILED, exit %d (%d s)\n' "$n" "$1" "$rc" $((SECONDS - t0))
  fi
}

s_main() {
  cmake -S . -B build -G Ninja -DJB_WERROR=ON >/dev/null
  ninja -C build
  (cd build && ctest --output-on-failure -j"$jobs")
}
s_release() {
  cmake -S . -B build-release -G Ninja -DJB_WERROR=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C build-release
}
s_clang() {
  CC=clang cmake -S . -B build-clang -G Ninja -DJB_WERROR=ON -DCMAKE_C_COMPILER=clang >/dev/null
  ninja -C build-clang
  (cd build-clang && ctest --output-on-failure -j"$jobs" -R '^unit/')
}
s_asan() {
  cmake -S . -B build-asan -G Ninja -DJB_WERROR=ON -DJB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
    >/dev/null
  ninja -C build-asan
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j"$jobs" -E '^python/')
}
s_valgrind() {
  [ -x build/joulebench ] || { echo "no build/joulebench (stage 1 did not build)" >&2; return 1; }
  (cd build && JB_VALGRIND=1 ctest --output-on-failure -j"$jobs" -R '^cli/')
}
s_cppcheck() {
  cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
    --inline-suppr --suppress=missingIncludeSystem --std=c11 \
    -I include -I src -I src/lib -I src/json src/
}
s_format() {
  git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror \
    || { echo "clang-format: run 'git ls-files \"*.c\" \"*.h\" | xargs clang-format -i'"; return 1; }
}
s_fuzz() { ./scripts/fuzz.sh 15; }

stage "build (-Werror) and ctest" s_main
stage "Release build (-Werror)" s_release
stage "clang build (-Werror) and unit tests" s_clang
stage "ASan + UBSan build and ctest (C suites)" s_asan
stage "valgrind on the CLI tests" s_valgrind
stage "cppcheck" s_cppcheck
stage "clang-format" s_format
stage "fuzzing (short)" s_fuzz

echo
for f in "${failures[@]}"; do echo "test-all: failed: $f"; done
echo "test-all: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
