#!/usr/bin/env bash
# A full results file system (a 256 KiB tmpfs, so this test needs root, as CI is): 'run' names the
# file it could not write, exits non-zero, leaves the finished run directory byte-identical and
# no manifest in the failed one; once there is room, a resume completes the grid.
. "$(dirname "$0")/lib.bash"
[ "$(id -u)" = 0 ] || fail "needs root to mount a small tmpfs"
cat > "$T/g.yaml" <<'Y'
name: full
levels:
  a: [1, 2, 3]
repeats: 1
order: sequential
meters: sim
interval_ms: 10
retries: 0
command: [sh, -c, "echo run {a}; sleep 0.5"]
Y
mkdir "$T/res"
mount -t tmpfs -o size=256k tmpfs "$T/res" || fail "cannot mount a tmpfs"
trap 'umount "$T/res" 2>/dev/null; rm -rf "$T"' EXIT
jb run "$T/g.yaml" -o "$T/res" --only 0 --quiet
before=$(cd "$T/res/full/1-r1" && sha256sum *)
dd if=/dev/zero of="$T/res/filler" bs=4k 2>/dev/null || true   # fills the file system
set +e
jb run "$T/g.yaml" -o "$T/res" 2>"$T/err"; rc=$?
set -e
expect_eq "status on a full disk" "$rc" 1
expect_grep "names the file" "cannot write '.*/full/2-r1/samples.csv': No space left on device" "$T/err"
expect_eq "finished run intact" "$(cd "$T/res/full/1-r1" && sha256sum *)" "$before"
[ ! -e "$T/res/full/2-r1/manifest.json" ] || fail "a failed write left a manifest"
rm "$T/res/filler"
jb run "$T/g.yaml" -o "$T/res" --quiet
for r in 1 2 3; do
  python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['status'] == 'complete'" \
    "$T/res/full/$r-r1/manifest.json"
done
expect_eq "first run still intact" "$(cd "$T/res/full/1-r1" && sha256sum *)" "$before"
echo "run on a full disk: all passed"
