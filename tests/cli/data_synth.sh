# 'joulebench data synth': deterministic (the same bytes twice, and a fixed hash for a small set
# as a guard against accidental changes of the generator), the manifest's hashes are the files'
# sha256sum, labels cover the classes, and bad options are usage errors.
source "$(dirname "$0")/lib.bash"

jb data synth tiny --train 20 --test 6 --seed 7 --classes 3 -o "$T/a" > "$T/out" \
  || fail "synth"
expect_grep "summary" "tiny: 20 train, 6 test images, 3 classes, synthetic seed 7" "$T/out"
jb data synth tiny --train 20 --test 6 --seed 7 --classes 3 -o "$T/b" > /dev/null \
  || fail "synth again"
for f in train_x.npy train_y.npy test_x.npy test_y.npy manifest.json; do
  cmp "$T/a/tiny/$f" "$T/b/tiny/$f" || fail "$f differs between two runs"
done
# Regression guard: these hashes change only when the generator does (then bump
# DATA_SYNTH_GENERATOR in src/data/data.h and update them here and in docs/data-format.md).
(cd "$T/a/tiny" && sha256sum train_x.npy train_y.npy test_x.npy test_y.npy) > "$T/sums"
cat > "$T/want" <<'SUMS'
9acbdc469353f891bbd162e133a443e7a9fb5876df63ad9a9236572882fc15f5  train_x.npy
352ff00a4170a14783821d110caf240e2be54fc23b7302a22b547e002e532444  train_y.npy
7414c5e75a2200d67fd5d7aec7035fb82976ee8467e4a57a1c5deff9591582a3  test_x.npy
a4d60751f502a060e49649bcd142b3ace3e0f97a234b5640bfc10e45fe5617dc  test_y.npy
SUMS
diff "$T/want" "$T/sums" || fail "synthetic set changed (see the comment above)"

python3 - "$T/a/tiny" <<'PY' || fail "manifest"
import json, hashlib, struct, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
assert m["source"] == "synthetic" and m["seed"] == 7 and m["classes"] == 3, m
assert m["train"] == 20 and m["test"] == 6 and m["shape"] == [32, 32, 3], m
for f, h in m["files"].items():
    assert hashlib.sha256(open(d + "/" + f, "rb").read()).hexdigest() == h, f
raw = open(d + "/train_y.npy", "rb").read()
hl = struct.unpack("<H", raw[8:10])[0]
labels = struct.unpack("<20q", raw[10 + hl:])
assert set(labels) == {0, 1, 2}, labels
PY

# another seed gives other images
jb data synth tiny --train 20 --test 6 --seed 8 --classes 3 -o "$T/c" > /dev/null || fail "seed 8"
cmp -s "$T/a/tiny/train_x.npy" "$T/c/tiny/train_x.npy" && fail "seed has no effect"

set +e
jb data synth > /dev/null 2>&1; expect_eq "no name" $? 2
jb data synth x --train -3 > /dev/null 2>&1; expect_eq "negative train" $? 2
jb data synth x --train 5x > /dev/null 2>&1; expect_eq "bad number" $? 2
jb data synth x --classes 1 > /dev/null 2>&1; expect_eq "one class" $? 2
jb data synth ../x > /dev/null 2>&1; expect_eq "bad name" $? 2
jb data synth x --bogus > /dev/null 2>&1; expect_eq "bad option" $? 2
set -e
echo ok
