# help.sh - every subcommand of main.c's command table: 'joulebench help CMD' prints exactly what
# 'joulebench CMD --help' prints, both exit 0, and every long option the command's source accepts
# appears in that text.  The options are read from the source itself (the 'struct option' entries
# {"name", ..._argument, ...}, CLI_CARBON_LONGOPTS where used, and the hand-parsed "--name"
# comparisons of cmd_data.c), so an option added without its help line fails here.  Also
# 'joulebench help' and -h list every command, -V and --version print the version, and an unknown
# command is a usage error (exit 2).
source "$(dirname "$0")/lib.bash"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
# Known gaps in the help texts, as COMMAND:--OPTION (space-separated).  Each is reported, not
# failed; an entry that is no longer a gap fails, so this list only shrinks.  Empty now: every
# option of every command is in its help text, and a new option must be too.
known_gaps=""

cmds=$(sed -n 's/^ *{"\([a-z][a-z0-9-]*\)", cmd_[a-z_]*,.*/\1/p' "$SRC/src/cli/main.c")
[ "$(echo "$cmds" | wc -w)" -ge 9 ] || fail "could not read main.c's command table: '$cmds'"
carbon_opts=$(sed -n 's/.*{"\([a-z][a-z0-9-]*\)", *required_argument, *NULL, *CLI_OPT_[A-Z_]*}.*/\1/p' \
  "$SRC/src/cli/cli_carbon.h")
[ "$(echo "$carbon_opts" | wc -w)" -eq 5 ] || fail "could not read CLI_CARBON_LONGOPTS: '$carbon_opts'"

jb help >"$T/top" || fail "'help' exited non-zero"
jb -h >"$T/top2" || fail "-h exited non-zero"
cmp -s "$T/top" "$T/top2" || fail "'help' and -h differ"
for c in $cmds; do
  grep -q "^  $c " "$T/top" || fail "'help' does not list $c"
  f="$SRC/src/cli/cmd_${c}.c"
  [ -f "$f" ] || fail "no source $f for command $c"
  set +e
  jb help "$c" >"$T/$c.help" 2>"$T/$c.herr"
  rc1=$?
  jb "$c" --help >"$T/$c.opt" 2>"$T/$c.oerr"
  rc2=$?
  set -e
  expect_eq "help $c: exit" "$rc1" 0
  expect_eq "$c --help: exit" "$rc2" 0
  cmp -s "$T/$c.help" "$T/$c.opt" || fail "'help $c' and '$c --help' differ"
  [ ! -s "$T/$c.herr" ] || fail "'help $c' wrote to stderr: $(cat "$T/$c.herr")"
  grep -q "^usage: joulebench $c" "$T/$c.help" || fail "'help $c' has no usage line"
  opts=$( { grep -oE '\{"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$f" |
              sed -E 's/^\{"([^"]*)".*/\1/'
            grep -oE '(is_opt|strcmp)\(a, "--[a-z][a-z0-9-]*"\)' "$f" | sed -E 's/.*"--([^"]*)".*/\1/'
            if grep -q CLI_CARBON_LONGOPTS "$f"; then echo "$carbon_opts"; fi; } | sort -u)
  [ -n "$opts" ] || fail "no long options found in $f (the test's patterns are out of date)"
  for o in $opts; do
    gap=0
    case " $known_gaps " in *" $c:--$o "*) gap=1 ;; esac
    if grep -qF -- "--$o" "$T/$c.help"; then
      [ "$gap" = 0 ] || fail "$c:--$o is in help.sh's known_gaps but its help has it: remove it"
    elif [ "$gap" = 1 ]; then
      echo "note: known gap: $c --help does not mention --$o" >&2
    else
      fail "$c: --$o is accepted but not in its help text"
    fi
  done
done

v=$(jb -V)
expect_eq "-V and --version" "$v" "$(jb --version)"
echo "$v" | grep -qE '^joulebench [0-9]+\.[0-9]+\.[0-9]+' || fail "-V printed '$v'"
hv=$(awk '/#define JB_VERSION_(MAJOR|MINOR|PATCH) / {printf "%s%s", sep, $3; sep="."}' "$SRC/include/joulebench.h")
expect_eq "-V against include/joulebench.h's JB_VERSION_*" "${v#joulebench }" "$hv"
set +e
jb help no-such-command >/dev/null 2>"$T/u.err"
rc=$?
set -e
expect_eq "help no-such-command: exit" "$rc" 2
expect_grep "unknown command message" "unknown command 'no-such-command'" "$T/u.err"
echo ok
