"""Loading a prepared data set, the same bytes for every framework.

A data set is a folder DATA/<name>/ holding train_x.npy, train_y.npy, test_x.npy, test_y.npy
(uint8 NHWC images, integer labels) and manifest.json, whose "files" object gives the SHA-256 of
each file ({"files": {"train_x.npy": "<hex>", ...}}).  `joulebench data import|synth` makes them.
Every file is hashed before it is used, so a run cannot silently train on other bytes than its
sibling runs in another framework.  The manifest may also give "num_classes" (or "classes", as
`joulebench data` writes it); without it the class count is 1 + the largest label.

This module reads and checks; it does not download, convert, augment or normalise anything
(scaling to [0, 1] happens on the device, in each framework, see train.py).
"""

import hashlib
import json
import os

import numpy as np

FILES = ("train_x.npy", "train_y.npy", "test_x.npy", "test_y.npy")


class DataError(Exception):
    """A data set that cannot be used; the message names the file and the fix."""


class Dataset:
    def __init__(self, name, path, train_x, train_y, test_x, test_y, num_classes):
        self.name = name
        self.path = path
        self.train_x = train_x
        self.train_y = train_y
        self.test_x = test_x
        self.test_y = test_y
        self.num_classes = num_classes

    @property
    def image_shape(self):
        return tuple(self.train_x.shape[1:])


def sha256_file(path, chunk_bytes=1 << 22):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk_bytes)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def available(data_dir):
    """Names of the folders under data_dir that have a manifest.json (sorted)."""
    try:
        names = os.listdir(data_dir)
    except OSError:
        return []
    return sorted(n for n in names if os.path.isfile(os.path.join(data_dir, n, "manifest.json")))


def _read_manifest(folder, name, data_dir):
    path = os.path.join(folder, "manifest.json")
    if not os.path.isdir(folder):
        have = available(data_dir)
        raise DataError("unknown dataset '%s': no folder '%s' (%s; make one with: joulebench data "
                        "import %s ... or joulebench data synth %s -o %s)" % (
                            name, folder,
                            "available: " + ", ".join(have) if have else
                            "no data sets under '%s'" % data_dir, name, name, data_dir))
    try:
        with open(path, "r", encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise DataError("cannot open '%s': no such file (the data set is incomplete: make it "
                        "again with 'joulebench data')" % path) from None
    except (OSError, ValueError) as e:
        raise DataError("cannot read '%s': %s" % (path, e)) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise DataError("'%s': field 'files' missing or not an object (expected {\"files\": "
                        "{\"train_x.npy\": \"<sha256>\", ...}})" % path)
    return path, manifest


def _load_array(path):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise DataError("cannot read '%s': %s" % (path, e)) from None


def load(data_dir, name, limit_train=None, limit_test=None, verify=True):
    """Checks the hashes, loads the arrays and checks their shapes, types and labels.

    limit_train / limit_test keep the first N images of each split (the whole file is still
    hashed).  Raises DataError.
    """
    folder = os.path.join(data_dir, name)
    mpath, manifest = _read_manifest(folder, name, data_dir)
    files = manifest["files"]
    for fname in FILES:
        want = files.get(fname)
        if not isinstance(want, str) or len(want) != 64:
            raise DataError("'%s': field 'files.%s' missing or not a SHA-256 hex string"
                            % (mpath, fname))
        fpath = os.path.join(folder, fname)
        if not os.path.isfile(fpath):
            raise DataError("cannot open '%s': no such file (the data set is incomplete: make it "
                            "again with 'joulebench data')" % fpath)
        if verify:
            got = sha256_file(fpath)
            if got != want.lower():
                raise DataError("'%s': SHA-256 mismatch: %s, manifest says %s (the file changed "
                                "since the manifest was written: make the data set again)"
                                % (fpath, got, want.lower()))
    arrays = {f: _load_array(os.path.join(folder, f)) for f in FILES}
    for split in ("train", "test"):
        x, y = arrays[split + "_x.npy"], arrays[split + "_y.npy"]
        xp = os.path.join(folder, split + "_x.npy")
        yp = os.path.join(folder, split + "_y.npy")
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[3] != 3:
            raise DataError("'%s': expected uint8 RGB images N x H x W x 3, got %s %s"
                            % (xp, x.dtype, x.shape))
        if not np.issubdtype(y.dtype, np.integer) or y.ndim != 1:
            raise DataError("'%s': expected a 1-D integer label array, got %s %s"
                            % (yp, y.dtype, y.shape))
        if len(y) != len(x):
            raise DataError("'%s' has %d labels for %d images in '%s'" % (yp, len(y), len(x), xp))
        if len(y) and y.min() < 0:
            raise DataError("'%s': negative label %d" % (yp, int(y.min())))
    if arrays["train_x.npy"].shape[1:] != arrays["test_x.npy"].shape[1:]:
        raise DataError("'%s': train images are %s, test images %s" % (
            folder, arrays["train_x.npy"].shape[1:], arrays["test_x.npy"].shape[1:]))
    if len(arrays["train_y.npy"]) == 0:
        raise DataError("'%s': the training split is empty" % folder)
    top = max(int(arrays["train_y.npy"].max()),
              int(arrays["test_y.npy"].max()) if len(arrays["test_y.npy"]) else 0)
    num_classes = manifest.get("num_classes", manifest.get("classes"))
    if num_classes is None:
        num_classes = top + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise DataError("'%s': field 'num_classes' must be an integer >= 2" % mpath)
    elif top >= num_classes:
        raise DataError("'%s': label %d is out of range for num_classes %d"
                        % (folder, top, num_classes))
    train_x, train_y = arrays["train_x.npy"], arrays["train_y.npy"]
    test_x, test_y = arrays["test_x.npy"], arrays["test_y.npy"]
    if limit_train is not None:
        train_x, train_y = train_x[:limit_train], train_y[:limit_train]
    if limit_test is not None:
        test_x, test_y = test_x[:limit_test], test_y[:limit_test]
    return Dataset(name, folder, np.ascontiguousarray(train_x),
                   np.ascontiguousarray(train_y, dtype=np.int64),
                   np.ascontiguousarray(test_x), np.ascontiguousarray(test_y, dtype=np.int64),
                   num_classes)


def write(folder, train_x, train_y, test_x, test_y, extra=None):
    """Writes a data set folder with its manifest (for tests and small tools)."""
    os.makedirs(folder, exist_ok=True)
    files = {}
    for fname, arr in zip(FILES, (train_x, train_y, test_x, test_y)):
        p = os.path.join(folder, fname)
        np.save(p, arr)
        files[fname] = sha256_file(p)
    manifest = {"files": files}
    manifest.update(extra or {})
    tmp = os.path.join(folder, "manifest.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(folder, "manifest.json"))
