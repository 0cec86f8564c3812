# Sourced by every CLI test.  $JB is the binary under test; with JB_VALGRIND=1 it runs under
# valgrind's memcheck (leaks and errors fail the test with status 99).
set -euo pipefail
: "${JB:?JB must name the joulebench binary}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if [ "${JB_VALGRIND:-}" = 1 ]; then
  jb() { valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
           --trace-children=no "$JB" "$@"; }
else
  jb() { "$JB" "$@"; }
fi
# jb_bg ARGS...: the binary in the background, as the process whose pid is $! (not a subshell
# that would swallow the signals a test sends it).
jb_bg() {
  if [ "${JB_VALGRIND:-}" = 1 ]; then
    ( exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$JB" "$@" ) &
  else
    ( exec "$JB" "$@" ) &
  fi
}
# wait_for FILE [SECONDS]: until FILE exists (the process under test is up: valgrind starts slowly).
wait_for() {
  local i=0
  while [ ! -e "$1" ] && [ $i -lt $(( ${2:-60} * 10 )) ]; do sleep 0.1; i=$((i + 1)); done
  [ -e "$1" ] || fail "timed out waiting for $1"
}
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }
# expect_near WHAT GOT WANT TOL (absolute)
expect_near() {
  awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= t) }' \
    || fail "$1: got $2, want $3 +- $4"
}
expect_grep() { grep -q -- "$2" "$3" || { echo "--- $3:"; cat "$3"; fail "$1: '$2' not in $3"; }; }
