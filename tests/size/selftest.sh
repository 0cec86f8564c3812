#!/usr/bin/env bash
# check_size.py itself (ctest size/selftest): it must fail on a new oversize file and on a new
# oversize function, pass at the limits, honour a listed exception, and report an exception that
# is no longer needed.  Temporary trees only.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
CHECK="$(dirname "$0")/check_size.py"
T=$(mktemp -d "${TMPDIR:-/tmp}/jb-size.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/src/x" "$T/docs"
printf '# a\n\n## Size exceptions\n\n## Other\n' >"$T/docs/ARCHITECTURE.md"
lines() { for ((i = 0; i < $1; i++)); do echo "int v$i;"; done; }
func() { # func NAME N: a function of N + 4 lines from brace to brace (signature not counted)
  echo "static int $1(void)"; echo "{"; echo "    int x = 0; /* { not a brace */"
  for ((i = 0; i < $2; i++)); do echo "    x += \"}\"[0] + '{';"; done; echo "    return x;"; echo "}"
}
run() { python3 "$CHECK" --root "$T" 2>"$T/err"; }

lines 800 >"$T/src/x/ok.c"
func at_limit 116 >"$T/src/x/f.c" # 120 lines
run || { cat "$T/err"; fail "files and functions at the limits refused"; }

lines 801 >"$T/src/x/big.c"
if run; then fail "an 801-line file passed"; fi
grep -q "src/x/big.c: 801 lines" "$T/err" || { cat "$T/err"; fail "big file not named"; }
rm "$T/src/x/big.c"

func too_long 117 >>"$T/src/x/f.c"
if run; then fail "a 121-line function passed"; fi
grep -q "src/x/f.c:.*function too_long: 121 lines" "$T/err" || { cat "$T/err"; fail "function not named"; }
grep -q "at_limit" "$T/err" && fail "the 120-line function was reported"

printf '# a\n\n## Size exceptions\n\n- `src/x/f.c:too_long` why; split by branch b\n' \
  >"$T/docs/ARCHITECTURE.md"
run || { cat "$T/err"; fail "a listed function exception was not honoured"; }
printf -- '- `src/x/gone.c` no longer exists\n' >>"$T/docs/ARCHITECTURE.md"
if run; then fail "a stale exception passed"; fi
grep -q "src/x/gone.c: listed under 'Size exceptions'" "$T/err" || { cat "$T/err"; fail "stale entry"; }
echo ok
