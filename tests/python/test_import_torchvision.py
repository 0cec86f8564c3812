"""workloads/common/import_torchvision.py against `joulebench data import` ($JB).

The same random images are written twice: in torchvision's pickled "python
version" layout and in the official binary layout (CIFAR), or as MAT-files
(SVHN); both tools must then produce byte-identical .npy files, and manifests
whose file hashes agree.  The MAT-files are written here by a small Level 5
writer, read by libmatio on the joulebench side and by the converter's own
parser on the other.
"""

import io
import json
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import zlib

import numpy as np
import pytest

JB = os.environ.get("JB")
SRC = os.environ.get("JB_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "workloads", "common"))
import import_torchvision as it  # noqa: E402

pytestmark = pytest.mark.skipif(not JB, reason="JB (the joulebench binary) not set")
FILES = ["train_x.npy", "train_y.npy", "test_x.npy", "test_y.npy"]


def run_jb(*args):
    r = subprocess.run([JB, "data", "import", *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r


def run_converter(*args):
    assert it.main(list(args)) == 0


def same_outputs(a, b):
    ma = json.load(open(os.path.join(a, "manifest.json")))
    mb = json.load(open(os.path.join(b, "manifest.json")))
    for f in FILES:
        assert open(os.path.join(a, f), "rb").read() == open(os.path.join(b, f), "rb").read(), f
    assert ma["files"] == mb["files"]
    for k in ("name", "format", "split", "classes", "train", "test", "shape", "x_dtype",
              "y_dtype"):
        assert ma[k] == mb[k], k
    return ma


def images(rng, n):
    return rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)


def cifar_fixture(tmp_path, name, rng, per=7, ntest=5):
    """Writes the python-version folder and tarball plus the binary tarball of the same data."""
    classes = 10 if name == "cifar10" else 100
    spec = it.CIFAR[name]
    batches = {n: images(rng, per) for n in spec["train"]}
    batches.update({n: images(rng, ntest) for n in spec["test"]})
    labels = {n: rng.integers(0, classes, size=len(x)) for n, x in batches.items()}
    pydir = tmp_path / "tv" / spec["dir"]
    pydir.mkdir(parents=True)
    for n, x in batches.items():
        d = {"batch_label": n, "data": x.transpose(0, 3, 1, 2).reshape(len(x), 3072),
             "filenames": ["img%d.png" % i for i in range(len(x))]}
        if name == "cifar10":
            d["labels"] = [int(v) for v in labels[n]]
        else:
            d["fine_labels"] = [int(v) for v in labels[n]]
            d["coarse_labels"] = [int(v) // 5 for v in labels[n]]
        (pydir / n).write_bytes(pickle.dumps(d, protocol=2))
    pytar = tmp_path / ("%s-python.tar.gz" % name.replace("cifar", "cifar-"))
    with tarfile.open(pytar, "w:gz") as t:
        t.add(pydir, arcname=spec["dir"])
    bintar = tmp_path / ("%s-binary.tar.gz" % name.replace("cifar", "cifar-"))
    bindir = "cifar-10-batches-bin/" if name == "cifar10" else "cifar-100-binary/"
    with tarfile.open(bintar, "w:gz") as t:
        for n, x in batches.items():
            rec = []
            for img, lab in zip(x, labels[n]):
                head = bytes([lab]) if name == "cifar10" else bytes([lab // 5, lab])
                rec.append(head + img.transpose(2, 0, 1).tobytes())
            data = b"".join(rec)
            info = tarfile.TarInfo(bindir + n + ".bin")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return tmp_path / "tv", pytar, bintar, batches, labels


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
@pytest.mark.parametrize("split", ["seed-2023", "official"])
def test_cifar_matches_binary_import(tmp_path, name, split):
    rng = np.random.default_rng(1 if name == "cifar10" else 2)
    tvroot, pytar, bintar, batches, labels = cifar_fixture(tmp_path, name, rng)
    run_jb(name, str(bintar), "--split", split, "-o", str(tmp_path / "jb"))
    run_converter(name, str(tvroot), "--split", split, "-o", str(tmp_path / "py-dir"))
    run_converter(name, str(pytar), "--split", split, "-o", str(tmp_path / "py-tar"))
    m = same_outputs(tmp_path / "jb" / name, tmp_path / "py-dir" / name)
    same_outputs(tmp_path / "jb" / name, tmp_path / "py-tar" / name)
    # and the content is the images in order, as numpy reads them
    spec = it.CIFAR[name]
    train = np.concatenate([batches[n] for n in spec["train"]])
    train_y = np.concatenate([labels[n] for n in spec["train"]])
    d = tmp_path / "py-dir" / name
    x, y = np.load(d / "train_x.npy"), np.load(d / "train_y.npy")
    tx, ty = np.load(d / "test_x.npy"), np.load(d / "test_y.npy")
    assert y.dtype == np.int64 and x.dtype == np.uint8
    if split == "official":
        assert (x == train).all() and (y == train_y).all()
        test = np.concatenate([batches[n] for n in spec["test"]])
        assert (tx == test).all()
    else:
        n_test = -(-len(train) // 10)
        assert m["test"] == n_test and m["train"] == len(train) - n_test
        assert (x == train[:-n_test]).all() and (tx == train[-n_test:]).all()
        assert (ty == train_y[-n_test:]).all()


# ---- SVHN: a minimal Level 5 MAT-file writer ---------------------------------------------

def mat_element(t, data):
    return struct.pack("<II", t, len(data)) + data + b"\0" * (-len(data) % 8)


def mat_matrix(name, arr, mclass, mtype):
    """A miMATRIX element: arr written column-major as MATLAB does."""
    flags = struct.pack("<II", mclass, 0)
    body = (mat_element(6, flags)
            + mat_element(5, np.asarray(arr.shape, dtype="<i4").tobytes())
            + mat_element(1, name.encode())
            + mat_element(mtype, np.asarray(arr).tobytes(order="F")))
    return mat_element(14, body)


def write_mat(path, x_nhwc, y_digits, compress, y_as="double"):
    header = b"MATLAB 5.0 MAT-file, Platform: GLNXA64, Created by: joulebench tests"
    header = header.ljust(116, b" ") + b"\0" * 8 + struct.pack("<H", 0x0100) + b"IM"
    xm = x_nhwc.transpose(1, 2, 3, 0)  # X(h, w, c, n)
    y = np.where(y_digits == 0, 10, y_digits).reshape(-1, 1)
    if y_as == "double":
        ym = mat_matrix("y", y.astype("<f8"), 6, 9)
    else:  # MATLAB stores integer-valued doubles in a smaller type: class double, data uint8
        ym = mat_matrix("y", y.astype(np.uint8), 6, 2)
    elems = [mat_matrix("X", xm, 9, 2), ym]
    out = header
    for e in elems:
        out += struct.pack("<II", 15, len(z := zlib.compress(e))) + z if compress else e
    path.write_bytes(out)


@pytest.mark.parametrize("split", ["seed-2023", "official"])
@pytest.mark.parametrize("compress", [True, False])
def test_svhn_matches_matio_import(tmp_path, split, compress):
    rng = np.random.default_rng(3)
    src = tmp_path / "svhn"
    src.mkdir()
    sets = {}
    for n, count in (("train", 23), ("test", 6), ("extra", 9)):
        sets[n] = (images(rng, count), rng.integers(0, 10, size=count))
        write_mat(src / ("%s_32x32.mat" % n), *sets[n], compress,
                  y_as="double" if n != "test" else "uint8")
    run_jb("svhn", str(src), "--split", split, "--extra", "-o", str(tmp_path / "jb"))
    run_converter("svhn", str(src), "--split", split, "--extra", "-o", str(tmp_path / "py"))
    m = same_outputs(tmp_path / "jb" / "svhn", tmp_path / "py" / "svhn")
    x = np.load(tmp_path / "py" / "svhn" / "train_x.npy")
    y = np.load(tmp_path / "py" / "svhn" / "train_y.npy")
    full_x = np.concatenate([sets["train"][0], sets["extra"][0]])
    full_y = np.concatenate([sets["train"][1], sets["extra"][1]])
    assert (x == full_x[:len(x)]).all() and (y == full_y[:len(y)]).all()
    assert 0 in set(y.tolist())  # 10 became 0
    assert [s["file"] for s in m["source"]][:2] == ["train_32x32.mat", "extra_32x32.mat"]


def test_npy_header_matches_numpy(tmp_path):
    for shape, dtype, descr in (((5, 32, 32, 3), np.uint8, "|u1"), ((7,), np.int64, "<i8"),
                                ((0,), np.int64, "<i8"), ((123456, 32, 32, 3), np.uint8, "|u1")):
        buf = io.BytesIO()
        np.save(buf, np.zeros((0,) + shape[1:], dtype) if shape[0] > 1000 else
                np.zeros(shape, dtype))
        if shape[0] <= 1000:
            raw = buf.getvalue()
            assert raw[:len(it.npy_header(descr, shape))] == it.npy_header(descr, shape)
        h = it.npy_header(descr, shape)
        assert len(h) % 64 == 0 and h.endswith(b"\n")


def test_errors(tmp_path):
    (tmp_path / "svhn").mkdir()
    assert it.main(["svhn", str(tmp_path / "svhn"), "-o", str(tmp_path / "o")]) == 1
    (tmp_path / "svhn" / "train_32x32.mat").write_bytes(b"MATLAB 5.0 MAT-file" + b" " * 200)
    assert it.main(["svhn", str(tmp_path / "svhn"), "-o", str(tmp_path / "o")]) == 1
    assert it.main(["cifar10", str(tmp_path), "-o", str(tmp_path / "o")]) == 1
    assert not (tmp_path / "o" / "svhn" / "manifest.json").exists()
