#!/usr/bin/env bash
# Prepares .native-carry/ in a checkout that a device call sends (the device tool sends the
# session's checkout, not a helper's worktree): the native trainer and joulebench built here
# (no libarchive/libmatio; -arch sm_90), libyaml and libsqlite3, and a copy of this tree's
# workloads/, python/ and bench/ to run from.  The folder must be git-ignored there
# (.git/info/exclude: /.native-carry/).  Usage: bench/gpu/native-carry.sh [CHECKOUT] [BUILD]
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=${1:-/work/main}/.native-carry
build=${2:-build-carry}
cmake -S . -B "$build" -G Ninja -DJB_WITH_ARCHIVE=OFF -DJB_WITH_MATIO=OFF -DJB_WITH_CAIRO=OFF -DJB_TESTS=OFF >/dev/null
nice ninja -C "$build" joulebench_bin jb-native-train >/dev/null
rm -rf "$dest"
mkdir -p "$dest/bin" "$dest/src"
cp "$build/joulebench" "$build/workloads/native/jb-native-train" "$dest/bin/"
for lib in libyaml-0.so.2 libsqlite3.so.0 libnettle.so.8; do
  cp -L "$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')" "$dest/bin/"
done
tar cf - --exclude=__pycache__ workloads python bench experiments | tar xf - -C "$dest/src"
du -sh "$dest"
