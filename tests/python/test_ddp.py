"""Data-parallel PyTorch (workloads/pytorch/train.py --ddp) on the CPU: two ranks with gloo.

Model size: ResNet-50 (the only family the workload has, the smallest member) on 32x32 images,
24 training images, per-rank batch 4 (global 8: 3 steps), 8 test images, one epoch.  One such job
takes about 35 s on 2 cores (most of it importing torch twice and drawing ResNet-50's initial
weights), so the launcher test and the torchrun test each stay under ~60 s.

Checked: the phase and metric lines arrive once (rank 0 only; a second writer would double
them), `items` counts both ranks' images, the info keys of the job (world_size, GPU list), the
parameters and buffers identical across the ranks at the start and at the end (and changed by
training), and the launcher's environment (rank 0 alone keeps JOULEBENCH_FD, NVLS off).  Three
jobs run: through the workload's launcher, through torchrun, and by hand with the descriptor
given to both ranks (as srun would)."""

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import SOURCE_DIR

sys.path.insert(0, SOURCE_DIR)
from workloads.common import data, ddp_launch  # noqa: E402
from test_workloads import child_env, run_marked, script  # noqa: E402

HAVE_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="torch is not installed")
N_TRAIN, N_TEST, CLASSES, BATCH, WORLD = 24, 8, 10, 4, 2


@pytest.fixture(scope="module")
def ddp_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddpdata")
    rng = np.random.default_rng(11)
    x = rng.integers(0, 256, size=(N_TRAIN + N_TEST, 32, 32, 3), dtype=np.uint8)
    y = np.arange(N_TRAIN + N_TEST, dtype=np.int64) % CLASSES
    data.write(str(root / "syn"), x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:],
               {"num_classes": CLASSES})
    return str(root)


def ddp_args(data_dir, params, *extra):
    return ["--dataset", "syn", "--data-dir", data_dir, "--model", "resnet50",
            "--batch-size", str(BATCH), "--epochs", "1", "--device", "cpu", "--ddp",
            "--params-out", params] + list(extra)


def check_params_equal(prefix):
    a = np.load(prefix + ".rank0.npz")
    b = np.load(prefix + ".rank1.npz")
    assert sorted(a.files) == sorted(b.files)
    assert any(k.startswith("init/") for k in a.files)
    for k in a.files:
        assert np.array_equal(a[k], b[k]), "%s differs between rank 0 and rank 1" % k
    changed = [k for k in a.files if k.startswith("final/") and k.endswith(".weight")
               and not np.array_equal(a[k], a["init/" + k[len("final/"):]])]
    assert changed, "training changed no weight: the final parameters are not the trained ones"


def test_launcher_environment():
    base = {"JOULEBENCH_FD": "7", "PATH": "/bin"}
    e0 = ddp_launch.rank_env(base, 0, 2, 29500)
    e1 = ddp_launch.rank_env(base, 1, 2, 29500)
    assert e0["JOULEBENCH_FD"] == "7" and "JOULEBENCH_FD" not in e1
    assert (e0["RANK"], e1["RANK"], e1["LOCAL_RANK"], e1["WORLD_SIZE"]) == ("0", "1", "1", "2")
    assert e0["NCCL_NVLS_ENABLE"] == "0" and e1["MASTER_PORT"] == "29500"
    assert ddp_launch.rank_env(dict(base, NCCL_NVLS_ENABLE="1"), 1, 2, 1)["NCCL_NVLS_ENABLE"] \
        == "1"
    assert base["JOULEBENCH_FD"] == "7"  # the caller's environment is not changed
    env = {"RANK": "1", "WORLD_SIZE": "2", "JOULEBENCH_FD": "5"}
    assert ddp_launch.is_worker(env) and ddp_launch.rank_info(env) == (1, 0, 2)
    ddp_launch.hide_fd_unless_rank0(1, env)
    assert "JOULEBENCH_FD" not in env
    with pytest.raises(ValueError, match="RANK=2 is not below WORLD_SIZE=2"):
        ddp_launch.rank_info({"RANK": "2", "WORLD_SIZE": "2"})


def test_launcher_returns_first_failure(tmp_path):
    code = "import os, sys; sys.exit(3 if os.environ['RANK'] == '1' else 0)"
    assert ddp_launch.launch([sys.executable, "-c", code], 2) == 3
    assert ddp_launch.launch([sys.executable, "-c", "pass"], 2) == 0


def test_launcher_passes_sigterm_on(tmp_path):
    """SIGTERM to the launcher (joulebench stopping a run) reaches every rank; the launcher then
    exits 128 + 15 like a command killed by SIGTERM, leaving no rank behind."""
    pids = tmp_path / "pids"
    rank = ("import os, time; open(%r + os.environ['RANK'], 'w').write(str(os.getpid())); "
            "time.sleep(120)" % str(pids))
    code = ("import sys; sys.path.insert(0, %r); from workloads.common import ddp_launch; "
            "sys.exit(ddp_launch.launch([sys.executable, '-c', %r], 2))" % (SOURCE_DIR, rank))
    proc = subprocess.Popen([sys.executable, "-c", code])
    for _ in range(600):
        if all(os.path.exists(str(pids) + r) for r in "01"):
            break
        time.sleep(0.05)
    ranks = [int(open(str(pids) + r).read()) for r in "01"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    for pid in ranks:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@needs_torch
def test_ddp_two_ranks_gloo(ddp_data, tmp_path):
    prefix = str(tmp_path / "params")
    proc, ev = run_marked("pytorch", ddp_args(ddp_data, prefix + ".npz", "--nproc-per-node",
                                              str(WORLD)), timeout=300)
    assert proc.returncode == 0, proc.err
    marks = [(e["event"], e["phase"], e.get("index")) for e in ev
             if e["event"] in ("begin", "end")]
    assert marks == [("begin", "startup", None), ("end", "startup", None),
                     ("begin", "epoch", 1), ("end", "epoch", 1),
                     ("begin", "eval", 1), ("end", "eval", 1)]
    ends = {e["phase"]: e.get("items") for e in ev if e["event"] == "end"}
    assert ends["epoch"] == N_TRAIN and ends["eval"] == N_TEST  # both ranks' images
    assert [e["phase"] for e in ev if e["event"] == "metric"] == ["epoch", "eval"]
    info = {}
    for e in ev:
        if e["event"] == "info":
            info.update(e["values"])
    assert info["world_size"] == WORLD and info["ddp_backend"] == "gloo"
    assert info["batch_size"] == BATCH and info["global_batch_size"] == BATCH * WORLD
    assert info["gpus"] == "cpu;cpu" and info["gpu_ids"] == "cpu,cpu"
    assert info["nccl_nvls_enable"] == "0" and info["nodes"] == 1
    assert proc.out.count("epoch 1:") == 1  # progress printed by rank 0 only
    check_params_equal(prefix)


@needs_torch
def test_ddp_only_rank0_writes_when_every_rank_has_the_fd(ddp_data, tmp_path):
    """A launcher that keeps descriptors open (srun, mpirun) hands JOULEBENCH_FD to every rank:
    rank 1 must still write nothing (the marks would come twice)."""
    r, w = os.pipe()
    port = ddp_launch._free_port()
    procs = []
    try:
        for rank in range(WORLD):
            env = child_env()
            env.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD),
                       MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), JOULEBENCH_FD=str(w))
            procs.append(subprocess.Popen(
                [sys.executable, script("pytorch")]
                + ddp_args(ddp_data, str(tmp_path / "p.npz"), "--epochs", "1"),
                env=env, pass_fds=(w,), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True))
    finally:
        os.close(w)
    with os.fdopen(r, "rb") as f:
        raw = f.read().decode()
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    lines = [ln for ln in raw.splitlines() if '"event"' in ln]
    marks = [ln for ln in lines if '"begin"' in ln or '"end"' in ln]
    assert len(marks) == 6, raw  # startup, epoch 1, eval 1: once each
    assert sum('"world_size"' in ln for ln in lines) == 1, raw


@needs_torch
@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun is not on PATH")
def test_ddp_under_torchrun(ddp_data, tmp_path):
    """torchrun starts the ranks itself (worker mode, the same code); it closes inherited
    descriptors, so rank 0 warns that its phase marks are lost."""
    prefix = str(tmp_path / "params")
    env = child_env()
    r, w = os.pipe()
    env["JOULEBENCH_FD"] = str(w)
    try:
        proc = subprocess.run(["torchrun", "--standalone", "--nproc_per_node", str(WORLD),
                               script("pytorch")] + ddp_args(ddp_data, prefix + ".npz"),
                              env=env, pass_fds=(w,), capture_output=True, text=True,
                              timeout=300)
    finally:
        os.close(w)
        os.close(r)
    assert proc.returncode == 0, proc.stderr
    assert "under torchrun the inherited JOULEBENCH_FD is closed" in proc.stderr
    check_params_equal(prefix)


@pytest.mark.parametrize("fw,extra,message", [
    ("pytorch", ["--nproc-per-node", "2"], "--nproc-per-node needs --ddp"),
    ("pytorch", ["--ddp", "--check-out", "x.npz"], "--check-out cannot be combined with --ddp"),
    ("pytorch", ["--ddp", "--mode", "graph"], "--mode graph cannot be combined with --ddp"),
    ("jax", ["--ddp"], "--ddp: data-parallel training and --params-out are implemented for "
     "PyTorch only"),
])
def test_ddp_bad_options_exit_2(ddp_data, fw, extra, message):
    args = ["--dataset", "syn", "--data-dir", ddp_data, "--device", "cpu"] + extra
    proc, ev = run_marked(fw, args, timeout=120)
    assert proc.returncode == 2 and message in proc.err and ev == []
