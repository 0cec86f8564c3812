#!/usr/bin/env python3
"""Convert the data sets torchvision downloads into joulebench's layout.

torchvision fetches CIFAR-10/100 in their "python version" (pickled batches:
cifar-10-python.tar.gz -> cifar-10-batches-py/, cifar-100-python.tar.gz ->
cifar-100-python/) and SVHN as the official train_32x32.mat / test_32x32.mat /
extra_32x32.mat.  This script writes the same DATA/<name>/{train,test}_{x,y}.npy
and manifest.json that ``joulebench data import`` writes from the binary
distributions (docs/data-format.md): for the same images the four .npy files
are byte for byte identical, so their SHA-256 in the manifests agree.

It needs only numpy (no torch, no scipy): SVHN's MAT-files (Level 5, with
compressed variables) are parsed here with zlib.  MAT v7.3 (HDF5) files are not
read: use ``joulebench data import svhn`` for those.

The pickles are loaded with pickle.load, as torchvision itself does: only use
files you downloaded from the official sources.

Usage:
  import_torchvision.py cifar10|cifar100|svhn PATH [--split seed-2023|official]
                        [--extra] [-o DATA]
PATH: for CIFAR, torchvision's root folder (holding cifar-10-batches-py/), that
folder itself, or the .tar.gz; for SVHN, the folder holding the .mat files.
"""

import argparse
import hashlib
import json
import os
import pickle
import struct
import sys
import tarfile
import zlib

import numpy as np

CIFAR = {
    "cifar10": {
        "dir": "cifar-10-batches-py",
        "train": ["data_batch_%d" % i for i in range(1, 6)],
        "test": ["test_batch"],
        "labels": "labels",
        "classes": 10,
    },
    "cifar100": {
        "dir": "cifar-100-python",
        "train": ["train"],
        "test": ["test"],
        "labels": "fine_labels",
        "classes": 100,
    },
}


class ImportError_(Exception):
    """A problem with the input, reported as 'error: ...' and exit status 1."""


# ---- output: the same bytes as joulebench's src/data/npy.c --------------------------------

def npy_header(descr, shape):
    """The .npy v1.0 header exactly as numpy >= 1.24's np.save and joulebench write it."""
    dims = "(%s,)" % shape[0] if len(shape) == 1 else "(%s)" % ", ".join(map(str, shape))
    d = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, dims)
    d += " " * max(0, 21 - len(str(shape[0])))  # numpy's room for the first axis to grow
    hlen = len(d) + 1
    pad = 64 - ((10 + hlen) % 64)
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", hlen + pad) + d.encode("latin1") \
        + b" " * pad + b"\n"


def write_npy(path, arr, descr):
    """Writes arr (C order) to path via a temporary file; returns the file's SHA-256."""
    arr = np.ascontiguousarray(arr)
    h = hashlib.sha256()
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            for chunk in (npy_header(descr, arr.shape), memoryview(arr).cast("B")):
                f.write(chunk)
                h.update(chunk)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return tmp, h.hexdigest()


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest(), os.path.getsize(path)


def split_sets(split, train_x, train_y, test_x, test_y):
    """seed-2023: the last ceil(10%) of the official training set is the test set."""
    if split == "official":
        return train_x, train_y, test_x, test_y
    n = len(train_x)
    n_test = -(-n // 10)
    return train_x[:n - n_test], train_y[:n - n_test], train_x[n - n_test:], train_y[n - n_test:]


def write_set(root, name, split, classes, sources, train_x, train_y, test_x, test_y):
    out = os.path.join(root, name)
    os.makedirs(out, exist_ok=True)
    parts = {"train_x.npy": (train_x, "|u1"), "train_y.npy": (train_y, "<i8"),
             "test_x.npy": (test_x, "|u1"), "test_y.npy": (test_y, "<i8")}
    temps, hashes = {}, {}
    try:
        for fname, (arr, descr) in parts.items():
            temps[fname], hashes[fname] = write_npy(os.path.join(out, fname), arr, descr)
        manifest = os.path.join(out, "manifest.json")
        if os.path.exists(manifest):
            os.unlink(manifest)  # never let an old manifest describe new files
        for fname, tmp in temps.items():
            os.replace(tmp, os.path.join(out, fname))
        temps = {}
    finally:
        for tmp in temps.values():
            if os.path.exists(tmp):
                os.unlink(tmp)
    doc = {
        "name": name,
        "format": "joulebench-data/1",
        "source": [{"file": f, "sha256": s, "size_bytes": n} for f, s, n in sources],
        "split": split,
        "classes": classes,
        "train": int(len(train_x)),
        "test": int(len(test_x)),
        "shape": [32, 32, 3],
        "x_dtype": "uint8",
        "y_dtype": "int64",
        "files": {f: hashes[f] for f in ("train_x.npy", "train_y.npy", "test_x.npy",
                                         "test_y.npy")},
        "joulebench_version": None,
        "converter": "workloads/common/import_torchvision.py",
    }
    tmp = os.path.join(out, "manifest.json.tmp.%d" % os.getpid())
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(out, "manifest.json"))
    return out


# ---- CIFAR, python version --------------------------------------------------------------

def _unpickle(data, what):
    try:
        d = pickle.loads(data, encoding="latin1")
    except Exception as e:
        raise ImportError_("%s: not a CIFAR python batch (%s)" % (what, e))
    # Python 2 pickles loaded as latin1 have str keys; be lenient about bytes keys too.
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in d.items()}


def _cifar_batches(path, spec, names):
    """Yields (name, bytes) of each named batch from a folder or a .tar.gz."""
    if os.path.isfile(path):
        try:
            tar = tarfile.open(path, "r:*")
        except (tarfile.TarError, OSError) as e:
            raise ImportError_("'%s': cannot read the archive: %s" % (path, e))
        with tar:
            members = {os.path.basename(m.name): m for m in tar.getmembers() if m.isfile()}
            for n in names:
                if n not in members:
                    raise ImportError_("'%s': member '%s' not found (expected %s/%s)"
                                       % (path, n, spec["dir"], n))
                try:
                    yield members[n].name, tar.extractfile(members[n]).read()
                except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
                    raise ImportError_("'%s': cannot read member '%s': %s"
                                       % (path, members[n].name, e))
        return
    folder = path
    if os.path.isdir(os.path.join(path, spec["dir"])):
        folder = os.path.join(path, spec["dir"])
    for n in names:
        p = os.path.join(folder, n)
        if not os.path.isfile(p):
            raise ImportError_("'%s' not found (expected torchvision's %s folder)"
                               % (p, spec["dir"]))
        with open(p, "rb") as f:
            yield p, f.read()


def _cifar_part(path, spec, names):
    xs, ys = [], []
    for what, data in _cifar_batches(path, spec, names):
        d = _unpickle(data, what)
        if "data" not in d or spec["labels"] not in d:
            raise ImportError_("%s: no '%s' or '%s' in the batch" % (what, "data",
                                                                      spec["labels"]))
        x = np.asarray(d["data"])
        y = np.asarray(d[spec["labels"]], dtype=np.int64)
        if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3072 or len(y) != len(x):
            raise ImportError_("%s: 'data' is %s %s with %d labels, expected uint8 N x 3072"
                               % (what, x.dtype, x.shape, len(y)))
        if len(y) and (y.min() < 0 or y.max() >= spec["classes"]):
            raise ImportError_("%s: label out of range 0..%d" % (what, spec["classes"] - 1))
        # rows are 1024 R, 1024 G, 1024 B, each plane row-major: NCHW -> NHWC, as torchvision
        xs.append(x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def import_cifar(name, path, split, root):
    spec = CIFAR[name]
    train_x, train_y = _cifar_part(path, spec, spec["train"])
    if split == "official":
        test_x, test_y = _cifar_part(path, spec, spec["test"])
    else:
        test_x, test_y = train_x[:0], train_y[:0]
    if os.path.isfile(path):
        sources = [(os.path.basename(path),) + file_sha256(path)]
    else:
        folder = path
        if os.path.isdir(os.path.join(path, spec["dir"])):
            folder = os.path.join(path, spec["dir"])
        used = spec["train"] + (spec["test"] if split == "official" else [])
        sources = [(n,) + file_sha256(os.path.join(folder, n)) for n in used]
    parts = split_sets(split, train_x, train_y, test_x, test_y)
    return write_set(root, name, split, spec["classes"], sources, *parts)


# ---- SVHN: a minimal MAT-file Level 5 reader ----------------------------------------------

MI_TYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8",
            12: "i8", 13: "u8"}
MI_MATRIX, MI_COMPRESSED = 14, 15


def _elements(buf, end, what):
    """Yields (type, payload) of the data elements in buf (after its 128-byte header)."""
    pos = 0
    while pos + 8 <= len(buf):
        t, n = struct.unpack_from(end + "II", buf, pos)
        if t >> 16:  # small data element: size and type in the first word, data in the second
            t, n = t & 0xFFFF, t >> 16
            if n > 4:
                raise ImportError_("%s: damaged small data element" % what)
            yield t, buf[pos + 4:pos + 4 + n]
            pos += 8
            continue
        if pos + 8 + n > len(buf):
            raise ImportError_("%s: truncated data element (%d bytes announced)" % (what, n))
        yield t, buf[pos + 8:pos + 8 + n]
        pos += 8 + n
        if t != MI_COMPRESSED:
            pos += -n % 8


def _matrix(payload, end, what):
    """Parses a miMATRIX element: returns (name, class, dims, numpy array) for numeric ones."""
    subs = list(_elements(payload, end, what))
    if len(subs) < 3:
        return None
    flags = struct.unpack_from(end + "I", subs[0][1], 0)[0]
    mclass, complex_ = flags & 0xFF, bool(flags & 0x0800)
    dims = list(np.frombuffer(subs[1][1], dtype=end + "i4"))
    name = bytes(subs[2][1]).decode("latin1")
    if mclass < 6 or mclass > 15 or len(subs) < 4:  # not a numeric array
        return name, mclass, dims, None
    t, data = subs[3]
    if t not in MI_TYPES:
        raise ImportError_("%s: variable '%s' has an unknown data type %d" % (what, name, t))
    arr = np.frombuffer(data, dtype=end + MI_TYPES[t])
    if arr.size != int(np.prod(dims)):
        raise ImportError_("%s: variable '%s' holds %d values for dimensions %s"
                           % (what, name, arr.size, "x".join(map(str, dims))))
    if complex_:
        raise ImportError_("%s: variable '%s' is complex" % (what, name))
    return name, mclass, dims, arr.reshape(dims, order="F")


def read_mat(path, wanted=("X", "y")):
    """{name: array} of the wanted variables of a Level 5 MAT-file."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 128:
        raise ImportError_("'%s': not a MAT-file" % path)
    if buf[:19] == b"MATLAB 7.3 MAT-file" or buf[512:520] == b"\x89HDF\r\n\x1a\n":
        raise ImportError_("'%s': a MAT v7.3 (HDF5) file: use 'joulebench data import svhn'"
                           % path)
    end = {b"IM": "<", b"MI": ">"}.get(buf[126:128])
    if end is None or not buf.startswith(b"MATLAB 5.0 MAT-file"):
        raise ImportError_("'%s': not a Level 5 MAT-file" % path)
    out = {}
    for t, payload in _elements(memoryview(buf)[128:], end, "'%s'" % path):
        if t == MI_COMPRESSED:
            try:
                payload = zlib.decompress(payload)
            except zlib.error as e:
                raise ImportError_("'%s': damaged compressed variable: %s" % (path, e))
            inner = list(_elements(memoryview(payload), end, "'%s'" % path))
            if not inner:
                continue
            t, payload = inner[0]
        if t != MI_MATRIX:
            continue
        m = _matrix(payload, end, "'%s'" % path)
        if m and m[0] in wanted:
            out[m[0]] = m
    return out


def _svhn_file(path):
    if not os.path.isfile(path):
        raise ImportError_("'%s' not found" % path)
    v = read_mat(path)
    for k in ("X", "y"):
        if k not in v:
            raise ImportError_("'%s': variable '%s' not found" % (path, k))
    _, xclass, xdims, x = v["X"]
    if xclass != 9 or x is None or x.dtype.itemsize != 1 or not (
            (len(xdims) == 4 and xdims[:3] == [32, 32, 3]) or xdims == [32, 32, 3]):
        raise ImportError_("'%s': variable 'X' is %s, expected uint8 32x32x3xN"
                           % (path, "x".join(map(str, xdims))))
    x = x.reshape(32, 32, 3, -1)
    _, _, ydims, y = v["y"]
    n = x.shape[3]
    if y is None or y.size != n or sorted(ydims) != sorted([n, 1]):
        raise ImportError_("'%s': variable 'y' is %s, expected %dx1"
                           % (path, "x".join(map(str, ydims)), n))
    y = y.reshape(-1)
    bad = np.flatnonzero((y < 1) | (y > 10) | (y != np.floor(y)))
    if len(bad):
        raise ImportError_("'%s': variable 'y': element %d is not a label 1..10"
                           % (path, bad[0] + 1))
    y = y.astype(np.int64)
    y[y == 10] = 0
    # X(h, w, c, n) -> (n, h, w, c)
    return np.ascontiguousarray(x.transpose(3, 0, 1, 2).astype(np.uint8)), y


def import_svhn(path, split, root, extra):
    names = ["train_32x32.mat"] + (["extra_32x32.mat"] if extra else [])
    xs, ys = zip(*(_svhn_file(os.path.join(path, n)) for n in names))
    train_x, train_y = np.concatenate(xs), np.concatenate(ys)
    if split == "official":
        names.append("test_32x32.mat")
        test_x, test_y = _svhn_file(os.path.join(path, "test_32x32.mat"))
    else:
        test_x, test_y = train_x[:0], train_y[:0]
    sources = [(n,) + file_sha256(os.path.join(path, n)) for n in names]
    parts = split_sets(split, train_x, train_y, test_x, test_y)
    return write_set(root, "svhn", split, 10, sources, *parts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", choices=["cifar10", "cifar100", "svhn"])
    ap.add_argument("path")
    ap.add_argument("--split", choices=["seed-2023", "official"], default="seed-2023")
    ap.add_argument("--extra", action="store_true", help="svhn: append extra_32x32.mat")
    ap.add_argument("-o", "--output", default="data", help="data root (default ./data)")
    a = ap.parse_args(argv)
    try:
        if a.dataset == "svhn":
            out = import_svhn(a.path, a.split, a.output, a.extra)
        else:
            if a.extra:
                ap.error("--extra is for svhn only")
            out = import_cifar(a.dataset, a.path, a.split, a.output)
    except (ImportError_, OSError) as e:
        print("import_torchvision: error: %s" % e, file=sys.stderr)
        return 1
    with open(os.path.join(out, "manifest.json")) as f:
        m = json.load(f)
    print("%s: %d train, %d test images, %d classes, split %s -> %s"
          % (m["name"], m["train"], m["test"], m["classes"], m["split"], out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
