#!/usr/bin/env bash
# The manual pages (man/*.1): each renders without a groff warning, has the sections every page
# must have, and names every option that its subcommand's --help prints and that its getopt
# table (or, for 'data', its option parser) accepts in its OPTIONS section - so pages and code
# stay in sync.
. "$(dirname "$0")/lib.bash"
: "${JB_SOURCE_DIR:?JB_SOURCE_DIR must name the source tree}"
M="$JB_SOURCE_DIR/man"
command -v groff >/dev/null || fail "groff not installed (Debian package groff-base, scripts/deps/apt.txt)"
cmds="devices sample stat run index data import report slurm"

# render PAGE: plain text, one paragraph per line (a huge line length, so no line breaks or
# hyphenation split an option), no bold or underline sequences.
render() { groff -man -Tascii -P-cbou -rLL=5000n "$1" 2>/dev/null; }

# options_in FILE: every option token (-x, --long-name) in a text, once each.
options_in() {
  grep -oE -- '(^|[^A-Za-z0-9_-])--?[A-Za-z][A-Za-z0-9-]*' "$1" | sed -E 's/^[^-]*//' | sort -u
}

# options_section RENDERED_PAGE: the text of its OPTIONS section only.
options_section() { awk '$0 == "OPTIONS" { on = 1; next } on && /^[A-Z][A-Z ]+$/ { on = 0 } on' "$1"; }

# has_option TEXT_FILE OPTION: the option appears as a whole word (not a prefix of a longer one).
has_option() { grep -qE -- "(^|[^A-Za-z0-9_-])$2([^A-Za-z0-9_-]|\$)" "$1"; }

check_page() { # PAGE: renders cleanly, has the required sections
  local page=$1 s
  [ -f "$page" ] || fail "missing manual page $page"
  groff -man -Tutf8 -ww -z "$page" 2>"$T/warn" || fail "groff failed on $page"
  [ ! -s "$T/warn" ] || { cat "$T/warn"; fail "groff warnings on $page"; }
  if command -v man >/dev/null; then
    MANWIDTH=80 man -l "$page" >/dev/null 2>"$T/manerr" || { cat "$T/manerr"; fail "man -l $page"; }
    [ ! -s "$T/manerr" ] || { cat "$T/manerr"; fail "man -l $page: warnings at 80 columns"; }
  fi
  render "$page" >"$T/page.txt"
  for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES "SEE ALSO"; do
    grep -q "^$s\$" "$T/page.txt" || fail "$page: no section $s"
  done
}

# 1. The overview page: every command of 'joulebench --help' has a line and a page.
check_page "$M/joulebench.1"
render "$M/joulebench.1" >"$T/main.txt"
jb --help >"$T/main_help.txt"
listed=$(awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' "$T/main_help.txt")
expect_eq "commands in --help" "$(echo $listed)" "$cmds"
for c in $listed; do
  grep -q "joulebench-$c(1)" "$T/main.txt" || fail "joulebench.1 does not refer to joulebench-$c(1)"
done
options_section "$T/main.txt" >"$T/main_opts.txt"
for o in -h --help --version; do
  has_option "$T/main_opts.txt" "$o" || fail "joulebench.1's OPTIONS lack $o"
done

# 2. One page per subcommand, naming every option of its --help and of its source.
for c in $cmds; do
  page="$M/joulebench-$c.1"
  check_page "$page"
  render "$page" | options_section /dev/stdin >"$T/$c.txt"
  jb "$c" --help >"$T/$c.help" || fail "joulebench $c --help exited $?"
  [ -s "$T/$c.help" ] || fail "joulebench $c --help printed nothing"
  # The usage lines and the option list (lines that start with blanks and a dash); not the prose,
  # which may mention other commands' options ('joulebench run GRID --only i').
  grep -E '^usage:|^ +joulebench |^ +-' "$T/$c.help" >"$T/$c.help_opts" || true
  opts=$(options_in "$T/$c.help_opts")
  [ -n "$opts" ] || fail "no option found in 'joulebench $c --help'"
  # Options the code accepts: getopt_long tables and strings, and cmd_data.c's own parser.
  src="$JB_SOURCE_DIR/src/cli/cmd_$c.c"
  code=$(grep -oE '\{"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$src" |
           sed -E 's/^\{"([^"]*)".*/--\1/' || true
         grep -oE '"--[a-z][a-z0-9-]*"' "$src" | tr -d '"' || true
         # short options of the getopt string ("+i:E:m:o:qh" -> -i -E -m -o -q -h)
         grep -oE 'getopt_long\(argc, argv, "[^"]*"' "$src" | sed -E 's/.*"(.*)"/\1/' |
           tr -d '+:' | grep -oE '[A-Za-z]' | sed 's/^/-/' || true)
  for o in $opts $code; do
    has_option "$T/$c.txt" "$o" || fail "joulebench-$c.1's OPTIONS lack $o (from --help or $src)"
  done
  echo "ok: joulebench-$c.1 ($(echo $opts $code | tr ' ' '\n' | sort -u | wc -l) options)"
done

# 3. The check itself can fail: a page without one of the options is caught.
sed 's/energy\\-interval/energy\\-intervals/g' "$M/joulebench-sample.1" >"$T/broken.1"
render "$T/broken.1" | options_section /dev/stdin >"$T/broken.txt"
has_option "$T/broken.txt" --interval || fail "the OPTIONS section of the test page is empty"
if has_option "$T/broken.txt" --energy-interval; then
  fail "a page lacking --energy-interval passed the option check"
fi
echo "ok: man pages"
