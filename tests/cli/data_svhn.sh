# 'joulebench data import svhn': MAT-files in the layout of the real ones (Level 5, compressed
# variables, X uint8 32x32x3xN column-major, y Nx1 double with 10 for the digit 0), written by
# python3 without numpy; the import must place every pixel at NHWC and map 10 to 0.  Then the
# bad inputs: a missing file, a wrong shape, a bad label, each named, nothing left behind.
source "$(dirname "$0")/lib.bash"

# make_mat FILE N FIRST [xdims=AxBxCxD] [badlabel=1] [order=yx] [plain=1] [shortz=1]: image n
# has pixel (h, w, c) = (31 (FIRST + n) + 7 h + 3 w + 101 c) mod 256 and the digit
# (FIRST + n) mod 10; order=yx writes y first, plain=1 leaves the variables uncompressed, shortz=1
# compresses only the first half of X's element (it inflates to less than it declares).
make_mat() {
  python3 - "$@" <<'PY'
import struct, sys, zlib
path, n, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
opt = dict(a.split("=", 1) for a in sys.argv[4:])
def el(t, data):
    return struct.pack("<II", t, len(data)) + data + b"\0" * (-len(data) % 8)
def matrix(name, dims, mclass, mtype, data):
    return el(14, el(6, struct.pack("<II", mclass, 0)) + el(5, struct.pack("<%di" % len(dims), *dims))
              + el(1, name.encode()) + el(mtype, data))
x = bytearray(3072 * n)
for i in range(n):
    r = first + i
    for c in range(3):
        for w in range(32):
            for h in range(32):  # column-major: h fastest, then w, c, n
                x[h + 32 * w + 1024 * c + 3072 * i] = (31 * r + 7 * h + 3 * w + 101 * c) % 256
digits = [(first + i) % 10 or 10 for i in range(n)]
if opt.get("badlabel"):
    digits[-1] = 0
xdims = [int(v) for v in opt.get("xdims", "32x32x3x%d" % n).split("x")]
y = struct.pack("<%dd" % n, *digits)
out = b"MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: joulebench test".ljust(116) \
    + b"\0" * 8 + struct.pack("<H", 0x0100) + b"IM"
els = [matrix("X", xdims, 9, 2, bytes(x)), matrix("y", [n, 1], 6, 9, y)]
if opt.get("shortz"):
    els[0] = els[0][:len(els[0]) // 2]
for e in (els[::-1] if opt.get("order") == "yx" else els):
    if opt.get("plain"):
        out += e
        continue
    z = zlib.compress(e)
    out += struct.pack("<II", 15, len(z)) + z
open(path, "wb").write(out)
PY
}

# check_svhn DIR PART N FIRST
check_svhn() {
  python3 - "$@" <<'PY'
import ast, struct, sys
d, part, n, first = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def load(p):
    raw = open(p, "rb").read()
    hl = struct.unpack("<H", raw[8:10])[0]
    return ast.literal_eval(raw[10:10 + hl].decode()), raw[10 + hl:]
hx, x = load("%s/%s_x.npy" % (d, part))
hy, y = load("%s/%s_y.npy" % (d, part))
assert hx["shape"] == (n, 32, 32, 3) and hy["shape"] == (n,), (hx, hy)
for i in range(n):
    r = first + i
    assert struct.unpack_from("<q", y, 8 * i)[0] == r % 10, (part, i)
    for h in range(32):
        for w in range(32):
            for c in range(3):
                assert x[3072 * i + 96 * h + 3 * w + c] == (31 * r + 7 * h + 3 * w + 101 * c) % 256, \
                    (part, i, h, w, c)
PY
}

mkdir -p "$T/svhn"
make_mat "$T/svhn/train_32x32.mat" 21 0
make_mat "$T/svhn/test_32x32.mat" 4 100
make_mat "$T/svhn/extra_32x32.mat" 5 200

# seed-2023: 21 -> 18 + ceil(2.1) = 3; the test file is not needed
jb data import svhn "$T/svhn" -o "$T/data" > "$T/out" || fail "import svhn"
expect_grep summary "18 train, 3 test" "$T/out"
check_svhn "$T/data/svhn" train 18 0 || fail "svhn train"
check_svhn "$T/data/svhn" test 3 18 || fail "svhn test"
grep -q test_32x32.mat "$T/data/svhn/manifest.json" && fail "seed-2023 lists test_32x32.mat"

# official with extra: 21 + 5 train, 4 test; the sources hashed
jb data import svhn "$T/svhn" --split official --extra -o "$T/data" > /dev/null \
  || fail "import svhn official"
check_svhn "$T/data/svhn" test 4 100 || fail "svhn official test"
python3 - "$T/data/svhn" "$T/svhn" <<'PY' || fail "svhn manifest"
import hashlib, json, sys
m = json.load(open(sys.argv[1] + "/manifest.json"))
assert (m["train"], m["test"], m["classes"], m["split"]) == (26, 4, 10, "official"), m
assert [s["file"] for s in m["source"]] == ["train_32x32.mat", "extra_32x32.mat", "test_32x32.mat"]
for s in m["source"]:
    assert s["sha256"] == hashlib.sha256(open(sys.argv[2] + "/" + s["file"], "rb").read()).hexdigest()
for f, h in m["files"].items():
    assert h == hashlib.sha256(open(sys.argv[1] + "/" + f, "rb").read()).hexdigest(), f
PY

# bad input
expect_fail() {
  local name=$1 want=$2
  shift 2
  rm -rf "$T/bad"
  if jb data import svhn "$T/b" -o "$T/bad" "$@" > /dev/null 2> "$T/err"; then
    fail "$name: succeeded"
  fi
  expect_grep "$name" "$want" "$T/err"
  if [ -d "$T/bad/svhn" ] && [ -n "$(ls -A "$T/bad/svhn")" ]; then
    ls -la "$T/bad/svhn"
    fail "$name: files left behind"
  fi
}
mkdir -p "$T/b"
expect_fail missing "cannot open '$T/b/train_32x32.mat'"
make_mat "$T/b/train_32x32.mat" 3 0 xdims=32x32x1x9
expect_fail shape "train_32x32.mat': variable 'X' is 32x32x1x9, expected 32x32x3xN"
make_mat "$T/b/train_32x32.mat" 3 0 badlabel=1
expect_fail label "train_32x32.mat': variable 'y': element 3 is not a label 1..10"
make_mat "$T/b/train_32x32.mat" 3 0
expect_fail no-test "test_32x32.mat" --split official
# Files cut short (issue 13): libmatio read them without an error, the missing pixels being
# uninitialised heap ("4 train, 1 test images" from a file cut to 400 bytes).  Every cut fails,
# naming the file; y first leaves the labels whole, so only X is missing.
for opts in "order=yx" "order=yx plain=1" "plain=1" ""; do
  # shellcheck disable=SC2086
  make_mat "$T/whole.mat" 5 0 $opts
  size=$(stat -c %s "$T/whole.mat")
  for cut in 400 $((size / 2)) $((size - 1)); do
    head -c "$cut" "$T/whole.mat" > "$T/b/train_32x32.mat"
    expect_fail "cut to $cut ($opts)" "train_32x32.mat': damaged or cut short MAT-file"
  done
done
make_mat "$T/b/train_32x32.mat" 5 0 shortz=1 order=yx
expect_fail "short zlib stream" "a compressed matrix inflates to less than it declares"
# A FIFO in place of the file fails at once (it used to wait for a writer).
rm -f "$T/b/train_32x32.mat" && mkfifo "$T/b/train_32x32.mat"
expect_fail fifo "train_32x32.mat': not a regular file (a FIFO)"
echo ok
