# 'joulebench data import': CIFAR-10/100 tarballs in the real binary layout, built here with
# python3's tarfile (no numpy), imported, then checked byte by byte: CHW planes to HWC pixels,
# labels, split sizes, and every hash in the manifest recomputed with sha256sum.  Then the bad
# inputs: each fails with a message naming the file and member, and leaves no file behind.
source "$(dirname "$0")/lib.bash"

# make_cifar OUT.tar.gz KIND [OPTIONS...]: record r has label (3r mod classes) and pixel
# (c, h, w) = (31 r + 7 h + 3 w + 101 c) mod 256.  Options: per=N test=N truncate=MEMBER
# skip=MEMBER label=VALUE (the label of record 1).
make_cifar() {
  python3 - "$@" <<'PY'
import io, sys, tarfile
out, kind = sys.argv[1], sys.argv[2]
opt = dict(a.split("=", 1) for a in sys.argv[3:])
per, ntest = int(opt.get("per", 3)), int(opt.get("test", 2))
classes = 10 if kind == "cifar10" else 100
def records(first, n):
    b = bytearray()
    for r in range(first, first + n):
        lab = (3 * r) % classes
        if r == 1 and "label" in opt:
            lab = int(opt["label"])
        b += bytes([lab]) if kind == "cifar10" else bytes([lab // 5, lab])
        b += bytes((31 * r + 7 * h + 3 * w + 101 * c) % 256
                   for c in range(3) for h in range(32) for w in range(32))
    return bytes(b)
if kind == "cifar10":
    d = "cifar-10-batches-bin/"
    members = [(d + "data_batch_%d.bin" % (i + 1), records(i * per, per)) for i in range(5)]
    members.append((d + "test_batch.bin", records(1000, ntest)))
    members.insert(0, (d + "batches.meta.txt", b"airplane\n"))
else:
    d = "cifar-100-binary/"
    members = [(d + "train.bin", records(0, 5 * per)), (d + "test.bin", records(1000, ntest))]
with tarfile.open(out, "w:gz") as t:
    for name, data in members:
        if opt.get("skip") and name.endswith(opt["skip"]):
            continue
        if opt.get("truncate") and name.endswith(opt["truncate"]):
            data = data[:-5]
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
PY
}

# check_npy DIR PART N FIRST CLASSES: images/labels of DIR/PART_{x,y}.npy are records FIRST..
check_npy() {
  python3 - "$@" <<'PY'
import ast, struct, sys
d, part, n, first, classes = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
def load(path):
    raw = open(path, "rb").read()
    assert raw[:8] == b"\x93NUMPY\x01\x00", path
    hl = struct.unpack("<H", raw[8:10])[0]
    assert (10 + hl) % 64 == 0 and raw[10 + hl - 1:10 + hl] == b"\n", path
    return ast.literal_eval(raw[10:10 + hl].decode("latin1")), raw[10 + hl:]
hx, x = load("%s/%s_x.npy" % (d, part))
hy, y = load("%s/%s_y.npy" % (d, part))
assert hx == {"descr": "|u1", "fortran_order": False, "shape": (n, 32, 32, 3)}, hx
assert hy == {"descr": "<i8", "fortran_order": False, "shape": (n,)}, hy
assert len(x) == n * 3072 and len(y) == 8 * n
for i in range(n):
    r = first + i
    lab = struct.unpack_from("<q", y, 8 * i)[0]
    assert lab == (3 * r) % classes, (part, i, lab)
    for h in range(32):
        for w in range(32):
            for c in range(3):
                got = x[i * 3072 + (h * 32 + w) * 3 + c]
                want = (31 * r + 7 * h + 3 * w + 101 * c) % 256
                if got != want:
                    sys.exit("%s image %d (h=%d w=%d c=%d): %d, want %d" % (part, i, h, w, c, got, want))
PY
}

# check_manifest DIR: every hash in manifest.json is the file's sha256sum; prints "train test".
check_manifest() {
  python3 - "$1" <<'PY'
import json, subprocess, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
assert sorted(m["files"]) == ["test_x.npy", "test_y.npy", "train_x.npy", "train_y.npy"], m
for f, h in m["files"].items():
    got = subprocess.run(["sha256sum", d + "/" + f], capture_output=True, text=True,
                         check=True).stdout.split()[0]
    assert got == h, (f, got, h)
assert m["shape"] == [32, 32, 3]
print(m["train"], m["test"], m["classes"], m["split"])
PY
}

# --- CIFAR-10, seed-2023 split: 15 training records -> 13 train + ceil(1.5) = 2 test
make_cifar "$T/cifar-10-binary.tar.gz" cifar10 per=3 test=4
jb data import cifar10 "$T/cifar-10-binary.tar.gz" -o "$T/data" > "$T/out" || fail "import cifar10"
expect_grep "summary" "13 train, 2 test" "$T/out"
check_npy "$T/data/cifar10" train 13 0 10 || fail "cifar10 train"
check_npy "$T/data/cifar10" test 2 13 10 || fail "cifar10 test"
expect_eq "cifar10 manifest" "$(check_manifest "$T/data/cifar10")" "13 2 10 seed-2023"
src_hash=$(sha256sum "$T/cifar-10-binary.tar.gz" | cut -d' ' -f1)
expect_grep "source hash" "$src_hash" "$T/data/cifar10/manifest.json"
expect_grep "source name" '"file": "cifar-10-binary.tar.gz"' "$T/data/cifar10/manifest.json"

# --- official split: all 15 + the 4 of test_batch.bin
jb data import cifar10 "$T/cifar-10-binary.tar.gz" --split official -o "$T/data" >/dev/null \
  || fail "import cifar10 official"
check_npy "$T/data/cifar10" train 15 0 10 || fail "cifar10 official train"
check_npy "$T/data/cifar10" test 4 1000 10 || fail "cifar10 official test"
expect_eq "cifar10 official manifest" "$(check_manifest "$T/data/cifar10")" "15 4 10 official"

# --- CIFAR-100: the fine label (second byte), 100 classes
make_cifar "$T/cifar-100-binary.tar.gz" cifar100 per=8 test=3
jb data import cifar100 "$T/cifar-100-binary.tar.gz" --split=official -o "$T/data" >/dev/null \
  || fail "import cifar100"
check_npy "$T/data/cifar100" train 40 0 100 || fail "cifar100 train"
check_npy "$T/data/cifar100" test 3 1000 100 || fail "cifar100 test"
expect_eq "cifar100 manifest" "$(check_manifest "$T/data/cifar100")" "40 3 100 official"

# --- the default data root is ./data
(cd "$T" && jb data import cifar10 cifar-10-binary.tar.gz >/dev/null) || fail "default root"
[ -f "$T/data/cifar10/manifest.json" ] || fail "default root: no ./data/cifar10/manifest.json"

# --- bad input: status 1, file and member named, nothing written
# expect_fail NAME TGZ WANT [ARGS...]
expect_fail() {
  local name=$1 tgz=$2 want=$3
  shift 3
  rm -rf "$T/bad"
  if jb data import cifar10 "$tgz" -o "$T/bad" "$@" > /dev/null 2> "$T/err"; then
    fail "$name: succeeded"
  else
    local rc=$?
    expect_eq "$name: status" "$rc" 1
  fi
  expect_grep "$name" "$want" "$T/err"
  expect_grep "$name: prefix" "joulebench: error: " "$T/err"
  if [ -d "$T/bad/cifar10" ] && [ -n "$(ls -A "$T/bad/cifar10")" ]; then
    ls -la "$T/bad/cifar10"
    fail "$name: files left behind"
  fi
}
make_cifar "$T/trunc.tar.gz" cifar10 truncate=data_batch_2.bin
expect_fail truncated "$T/trunc.tar.gz" \
  "cifar-10-batches-bin/data_batch_2.bin' is 9214 bytes, not a whole number of 3073-byte records"
make_cifar "$T/skip.tar.gz" cifar10 skip=data_batch_5.bin
expect_fail missing-member "$T/skip.tar.gz" "'data_batch_5.bin' not found"
make_cifar "$T/label.tar.gz" cifar10 label=12
expect_fail bad-label "$T/label.tar.gz" "data_batch_1.bin': record 1: label 12 out of range 0..9"
expect_fail missing-file "$T/nonexistent.tar.gz" "cannot open '$T/nonexistent.tar.gz'"
size=$(stat -c %s "$T/cifar-10-binary.tar.gz")
head -c $((size / 2)) "$T/cifar-10-binary.tar.gz" > "$T/cut.tar.gz"
expect_fail cut-download "$T/cut.tar.gz" "cut.tar.gz"
# a failed re-import keeps the good data set that was there
cp -r "$T/data/cifar10" "$T/keep"
jb data import cifar10 "$T/trunc.tar.gz" -o "$T/data" 2>/dev/null && fail "re-import succeeded"
diff -r "$T/keep" "$T/data/cifar10" || fail "failed re-import changed the old data set"

# --- usage errors: status 2
set +e
jb data import cifar10 > /dev/null 2>&1; expect_eq "no path" $? 2
jb data import mnist "$T/x" > /dev/null 2>&1; expect_eq "unknown set" $? 2
jb data import cifar10 "$T/x" --split random > /dev/null 2>&1; expect_eq "bad split" $? 2
jb data import cifar10 "$T/x" --extra > /dev/null 2>&1; expect_eq "extra for cifar" $? 2
jb data frobnicate > /dev/null 2>&1; expect_eq "unknown subcommand" $? 2
set -e
echo ok
