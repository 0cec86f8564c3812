#!/usr/bin/env bash
# Every test joulebench has, as CI runs them (called by 'make test' after the dependencies):
#  1. the -Werror build and its whole ctest suite (unit, CLI, Python);
#  2. an ASan+UBSan build running the C suites again (unit and CLI);
#  3. the CLI tests under valgrind (memcheck, leaks are errors);
#  4. cppcheck over the sources, and clang-format (.clang-format) over every C file;
#  5. a short run of each libFuzzer target (15 s each).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
jobs=$(nproc)
step() { printf '\n==== %s ====\n' "$*"; }

step "build (-Werror) and ctest"
cmake -S . -B build -G Ninja >/dev/null
ninja -C build
(cd build && ctest --output-on-failure -j"$jobs")

step "ASan + UBSan build and ctest (C suites)"
cmake -S . -B build-asan -G Ninja -DJB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
ninja -C build-asan
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$jobs" -E '^python/')

step "valgrind on the CLI tests"
(cd build && JB_VALGRIND=1 ctest --output-on-failure -j"$jobs" -R '^cli/')

step "cppcheck"
cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
  --inline-suppr --suppress=missingIncludeSystem --std=c11 \
  -I include -I src -I src/lib src/

step "clang-format"
git ls-files '*.c' '*.h' 2>/dev/null | xargs clang-format --dry-run --Werror \
  || { echo "clang-format: run 'git ls-files \"*.c\" \"*.h\" | xargs clang-format -i'"; exit 1; }

step "fuzzing (short)"
./scripts/fuzz.sh 15
echo "test-all: 6 passed, 0 failed"
