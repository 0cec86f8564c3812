#!/usr/bin/env bash
# 'cmake --install BUILD --prefix P' into a temporary prefix, then a small C program built only
# against what was installed there: the header, joulebench.pc (pkg-config --cflags --libs with
# PKG_CONFIG_PATH) and the shared library, run with the installed libjoulebench.so (issue 9,
# bug 5: the .pc said -I/usr/local/include whatever the prefix).
# Environment (tests/CMakeLists.txt): JB_BUILD_DIR, JB_SOURCE_DIR, CC, JB_SANITIZE (ON/OFF).
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
: "${JB_BUILD_DIR:?}" "${JB_SOURCE_DIR:?}"
T=$(mktemp -d "${TMPDIR:-/tmp}/jb-install.XXXXXX")
trap 'rm -rf "$T"' EXIT
P="$T/prefix" # pkg-config splits its output at spaces: a prefix without any
cmake --install "$JB_BUILD_DIR" --prefix "$P" >"$T/install.log" 2>&1 \
  || { cat "$T/install.log" >&2; fail "cmake --install"; }
pc=$(find "$P" -name joulebench.pc -path '*/pkgconfig/*')
[ -n "$pc" ] || fail "no joulebench.pc under $P"
export PKG_CONFIG_PATH="$(dirname "$pc")"
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR
cflags=$(pkg-config --cflags joulebench | sed "s/ *$//")
libs=$(pkg-config --libs joulebench | sed "s/ *$//")
version=$(pkg-config --modversion joulebench)
[ "$cflags" = "-I$P/include" ] || fail "pkg-config --cflags: '$cflags', want '-I$P/include'"
case " $libs " in *" -L$P/lib"*" -ljoulebench "*) ;; *) fail "pkg-config --libs: '$libs'" ;; esac
[ -f "$P/include/joulebench.h" ] || fail "no installed header"
libdir=$(pkg-config --variable=libdir joulebench)
[ -e "$libdir/libjoulebench.so" ] || fail "no $libdir/libjoulebench.so"

# One version everywhere: the .pc's, the installed tool's, the installed Python package's (its
# pyproject.toml takes it from joulebench.__version__), and below the library's and the header's.
tool_version=$("$P/bin/joulebench" --version)
[ "$tool_version" = "joulebench $version" ] || fail "joulebench --version: '$tool_version', .pc $version"
py_version=$(PYTHONPATH="$P/share/joulebench/python" python3 -c \
  'import joulebench; print(joulebench.__version__)')
[ "$py_version" = "$version" ] || fail "Python package version $py_version, .pc $version"
grep -q 'version = {attr = "joulebench.__version__"}' "$JB_SOURCE_DIR/python/pyproject.toml" \
  || fail "python/pyproject.toml no longer takes its version from joulebench.__version__"

extra=()
if [ "${JB_SANITIZE:-OFF}" = ON ]; then
  extra=(-fsanitize=address,undefined) # the library's sanitizer runtime must come first
fi
# shellcheck disable=SC2086 # pkg-config's output is word-split on purpose
"${CC:-cc}" -std=c11 -Wall -Wextra -Werror "${extra[@]}" $cflags \
  -o "$T/prog" "$JB_SOURCE_DIR/tests/install/install_prog.c" $libs \
  || fail "building against the installed header and .pc"
# the program must run with the installed .so, not the build tree's
LD_LIBRARY_PATH="$libdir" ldd "$T/prog" >"$T/ldd.txt"
grep -q "libjoulebench.so.0 => $libdir/libjoulebench.so.0" "$T/ldd.txt" \
  || { cat "$T/ldd.txt" >&2; fail "prog does not load $libdir/libjoulebench.so.0"; }
out=$(LD_LIBRARY_PATH="$libdir" "$T/prog" "$version") || fail "install_prog: exit $?"
[ "$out" = "meter sim0 simulated 1; bad spec: invalid argument" ] || fail "install_prog said: $out"
echo ok
