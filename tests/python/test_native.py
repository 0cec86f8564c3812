"""Tests of the native trainer's binary (workloads/native, $JB_NATIVE) that need no GPU: bad input
is refused with exit 2 and a clear message before the device is touched (data set, hashes, the
.npz weights written by numpy: wrong model, classes, shapes, compressed; --init missing), the
startup mark arrives through JOULEBENCH_FD, the command line is the Python workloads' one, the
launcher workloads/native/train.py finds and runs the binary, and on a machine without a GPU a
good input ends with exit 2 and 'no CUDA device' (on a GPU machine that test is skipped: the GPU
checks are bench/gpu/native-session*.sh).  Skipped where the trainer is not built (no nvcc)."""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from conftest import SOURCE_DIR

sys.path.insert(0, SOURCE_DIR)
from workloads.common import cli, data, resnet  # noqa: E402

NATIVE = os.environ.get("JB_NATIVE")
pytestmark = pytest.mark.skipif(not NATIVE or not os.access(NATIVE, os.X_OK),
                                reason="the native trainer is not built ($JB_NATIVE unset)")
N_TRAIN, N_TEST, CLASSES = 16, 8, 10


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, size=(N_TRAIN + N_TEST, 32, 32, 3), dtype=np.uint8)
    y = np.arange(N_TRAIN + N_TEST, dtype=np.int64) % CLASSES
    data.write(str(root / "syn"), x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:],
               {"num_classes": CLASSES})
    return str(root)


@pytest.fixture(scope="module")
def init(tmp_path_factory):
    """The numpy export every workload reads (export_init.py), and broken variants of it."""
    d = tmp_path_factory.mktemp("init")
    w = resnet.init_weights("resnet50", CLASSES, 1)
    files = {"good": w}
    bad = dict(w)
    bad["layer1.0.conv2.weight"] = np.zeros((64, 64, 1, 3), np.float32)
    files["shape"] = bad
    files["r101"] = resnet.init_weights("resnet101", CLASSES, 1)
    files["c100"] = resnet.init_weights("resnet50", 100, 1)
    nan = dict(w)
    nan["fc.bias"] = np.full(CLASSES, np.nan, np.float32)
    files["nan"] = nan
    out = {}
    for name, arrays in files.items():
        out[name] = str(d / (name + ".npz"))
        np.savez(out[name], **arrays)
    out["compressed"] = str(d / "compressed.npz")
    np.savez_compressed(out["compressed"], **w)
    return out


def run(args, extra_env=None, timeout=120):
    """Runs the binary with JOULEBENCH_FD on a pipe; returns (proc, events)."""
    r, w = os.pipe()
    env = {k: v for k, v in os.environ.items() if k != "JOULEBENCH_FD"}
    env.update(extra_env or {})
    env["JOULEBENCH_FD"] = str(w)
    chunks = []

    def reader():
        while True:
            b = os.read(r, 65536)
            if not b:
                break
            chunks.append(b)

    t = threading.Thread(target=reader)
    t.start()
    try:
        proc = subprocess.Popen([NATIVE] + args, env=env, pass_fds=(w,), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    finally:
        os.close(w)
    try:
        proc.out, proc.err = proc.communicate(timeout=timeout)
    finally:
        t.join()
        os.close(r)
    events = [json.loads(line) for line in b"".join(chunks).decode().splitlines()]
    return proc, events


def base(data_dir, init_path=None, *extra):
    args = ["--dataset", "syn", "--data-dir", data_dir, "--batch-size", "8"]
    if init_path:
        args += ["--init", init_path]
    return args + list(extra)


BAD = [
    (["--dataset", "missing"], "unknown dataset 'missing'"),
    (["--batch-size", "17"], "larger than the 16 training images"),
    (["--batch-size", "1"], "at least 2"),
    (["--init", "r101"], "is for resnet101, not resnet50"),
    (["--init", "c100"], "has 100 classes"),
    (["--init", "shape"], "'layer1.0.conv2.weight' has shape (64, 64, 1, 3), resnet50 needs "
                          "(64, 64, 3, 3)"),
    (["--init", "nan"], "'fc.bias' holds NaN or infinite values"),
    (["--init", "compressed"], "only stored members are read (write the file with np.savez, "
                               "not np.savez_compressed)"),
    (["--init", "/nonexistent.npz"], "cannot open weights file '/nonexistent.npz': no such file"),
    (["--no-init"], "--init FILE is required"),
    (["--impl", "stock"], "no stock model of its own"),
    (["--model", "resnet18"], "invalid choice"),
    (["--epochs", "0"], "must be >= 1"),
    (["--precision", "fp64"], "fp64 is not supported"),
    (["--device", "cpu"], "runs on CUDA GPUs only"),
    (["--mode", "compiled"], "'compiled' does not apply"),
]


@pytest.mark.parametrize("extra,message", BAD)
def test_bad_input_exits_2_before_training(extra, message, data_dir, init):
    args = base(data_dir, init["good"])
    extra = list(extra)
    if extra[0] == "--dataset":
        args[1] = extra[1]
        extra = extra[2:]
    if extra and extra[0] == "--no-init":
        args = base(data_dir)
        extra = extra[1:]
    if len(extra) == 2 and extra[0] == "--init":
        args[args.index("--init") + 1] = init.get(extra[1], extra[1])
        extra = []
    proc, ev = run(args + extra)
    assert proc.returncode == 2, proc.err
    assert message in proc.err, proc.err
    assert proc.err.startswith("workloads/native/train: error: ") or "usage:" in proc.err
    assert not [e for e in ev if e.get("phase") in ("epoch", "eval")]


def test_bad_hash_exits_2(tmp_path, data_dir, init):
    import shutil
    shutil.copytree(os.path.join(data_dir, "syn"), str(tmp_path / "syn"))
    with open(str(tmp_path / "syn" / "test_x.npy"), "r+b") as f:
        f.seek(-1, 2)
        f.write(b"\x01" if f.read(1) == b"\x00" else b"\x00")
    proc, ev = run(base(str(tmp_path), init["good"]))
    assert proc.returncode == 2
    assert "test_x.npy': SHA-256 mismatch" in proc.err
    # The startup mark is written before anything is read, as the Python workloads write it.
    assert [(e["event"], e["phase"]) for e in ev] == [("begin", "startup")]


def test_no_gpu_is_a_clear_error(data_dir, init):
    """With good input the trainer reaches the device; without one it says so and exits 2."""
    proc, ev = run(base(data_dir, init["good"], "--epochs", "1"))
    if proc.returncode == 0:
        pytest.skip("a GPU is visible here: the GPU checks are bench/gpu/native-session*.sh")
    assert proc.returncode == 2, proc.err
    assert "no CUDA device" in proc.err or "cannot use CUDA device" in proc.err, proc.err
    assert not [e for e in ev if e.get("phase") in ("epoch", "eval")]


def test_the_python_command_line_is_accepted(data_dir, init):
    """Every option of workloads/common/cli.py is known to the native trainer: accepted, or
    refused with its reason, never 'unrecognized'."""
    values = {"--model": "resnet50", "--precision": "fp32", "--impl": "matched",
              "--device": "cuda", "--mode": "graph", "--momentum": "0.5", "--lr": "0.01"}
    for action in cli.parser("pytorch")._actions:
        for opt in action.option_strings:
            if not opt.startswith("--") or opt == "--help":
                continue
            args = ["--dataset", "nope", "--data-dir", data_dir, opt]
            if action.nargs != 0:
                args.append(values.get(opt, "2"))
            proc, _ = run(args)
            assert "unrecognized arguments" not in proc.err, (opt, proc.err)


def test_help_and_launcher(data_dir):
    proc = subprocess.run([NATIVE, "--help"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and "--check-out FILE" in proc.stdout
    launcher = os.path.join(SOURCE_DIR, "workloads", "native", "train.py")
    env = dict(os.environ, JOULEBENCH_NATIVE_TRAIN=NATIVE)
    proc = subprocess.run([sys.executable, launcher, "--dataset", "nope", "--data-dir", data_dir],
                          env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "unknown dataset 'nope'" in proc.stderr
    env["JOULEBENCH_NATIVE_TRAIN"] = "/nonexistent/jb-native-train"
    proc = subprocess.run([sys.executable, launcher, "--help"], env=env, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 2 and "the native trainer is not built" in proc.stderr
