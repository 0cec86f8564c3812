"""The workload's own data-parallel launcher: `train.py --ddp --nproc-per-node N` starts N copies of
itself, one process per GPU, with the environment torch.distributed reads (RANK, LOCAL_RANK,
WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), as torchrun does for one node.

Why not torchrun itself: torchrun starts its workers with subprocess.Popen(close_fds=True), so the
phase-protocol descriptor JOULEBENCH_FD that `joulebench stat` passes down is closed in every
worker and no phase mark reaches the runner.  This launcher passes that descriptor to rank 0 only
(pass_fds) and removes JOULEBENCH_FD from the environment of every other rank, so that exactly one
process writes phases and metrics.  A workload started by torchrun (RANK and WORLD_SIZE set) is a
worker and trains the same way; only its phase marks are lost, with a warning.

NCCL_NVLS_ENABLE=0 (NVLink SHARP multicast off) is set for every rank unless the caller set it:
the lent GPU machines require it.  Standard library only: the launcher imports no framework.
The launcher writes nothing to JOULEBENCH_FD itself and closes its copy once rank 0 holds it.
Exit status: 0 when every rank exits 0; otherwise the first failing rank's status (128 + signal
for a rank killed by a signal), after the other ranks have been stopped (SIGTERM, then SIGKILL
after GRACE_S).  SIGTERM and SIGINT sent to the launcher are passed on to every rank; the
launcher then exits 128 + that signal even if every rank exited 0.
"""

import os
import signal
import socket
import subprocess
import sys
import time

FD_VAR = "JOULEBENCH_FD"
GRACE_S = 10.0
POLL_S = 0.05


def is_worker(environ=None):
    """True when this process is one rank of a started job (our launcher, torchrun or srun set
    RANK and WORLD_SIZE)."""
    env = os.environ if environ is None else environ
    return "RANK" in env and "WORLD_SIZE" in env


def rank_info(environ=None):
    """(rank, local_rank, world_size) from the environment; ValueError names a bad variable."""
    env = os.environ if environ is None else environ
    out = []
    for name, default in (("RANK", None), ("LOCAL_RANK", "0"), ("WORLD_SIZE", None)):
        raw = env.get(name, default)
        try:
            v = int(raw, 10)
        except (TypeError, ValueError):
            raise ValueError("%s=%r is not an integer" % (name, raw)) from None
        if v < 0:
            raise ValueError("%s=%d must be >= 0" % (name, v))
        out.append(v)
    rank, local_rank, world = out
    if world < 1 or rank >= world:
        raise ValueError("RANK=%d is not below WORLD_SIZE=%d" % (rank, world))
    return rank, local_rank, world


def hide_fd_unless_rank0(rank, environ=None):
    """Ranks other than 0 must never write phase marks: drop JOULEBENCH_FD from their
    environment before the joulebench client reads it."""
    env = os.environ if environ is None else environ
    if rank != 0:
        env.pop(FD_VAR, None)


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fd_from_env(env):
    raw = env.get(FD_VAR, "").strip()
    if not raw:
        return None
    try:
        fd = int(raw, 10)
        os.fstat(fd)
    except (ValueError, OSError):
        return None  # rank 0's client warns about it, as without --ddp
    return fd


def rank_env(base, rank, nproc, port):
    """The environment of rank `rank` of `nproc` on this node."""
    env = dict(base)
    env.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(nproc),
               LOCAL_WORLD_SIZE=str(nproc), GROUP_RANK="0", MASTER_ADDR="127.0.0.1",
               MASTER_PORT=str(port))
    env.setdefault("NCCL_NVLS_ENABLE", "0")
    hide_fd_unless_rank0(rank, env)
    return env


def _status(rc):
    return 128 - rc if rc < 0 else rc


def _stop(procs):
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + GRACE_S
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def launch(cmd, nproc, environ=None):
    """Runs `cmd` (argv list) as ranks 0..nproc-1; returns the exit status (see the module)."""
    base = dict(os.environ if environ is None else environ)
    fd = _fd_from_env(base)
    port = _free_port()
    procs = []
    forwarded = []

    def forward(sig, _frame):
        forwarded.append(sig)
        for p in procs:
            if p.poll() is None:
                p.send_signal(sig)

    old = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for rank in range(nproc):
            keep = (fd,) if rank == 0 and fd is not None else ()
            procs.append(subprocess.Popen(cmd, env=rank_env(base, rank, nproc, port),
                                          pass_fds=keep))
        if fd is not None:
            os.close(fd)  # rank 0 holds it; the runner sees EOF when rank 0 ends
        while True:
            codes = [p.poll() for p in procs]
            failed = [c for c in codes if c not in (None, 0)]
            if failed:
                _stop(procs)
                return _status(failed[0])
            if all(c == 0 for c in codes):
                return 128 + forwarded[0] if forwarded else 0
            time.sleep(POLL_S)
    except BaseException:
        _stop(procs)
        raise
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def main_launch(script, argv, nproc):
    """train.py's launcher mode: the same script and arguments in every rank."""
    return launch([sys.executable, script] + list(argv), nproc)
