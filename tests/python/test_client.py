"""Tests of the Python phase client (python/joulebench): the exact protocol lines on a real pipe,
the no-op mode without JOULEBENCH_FD, and survival when the reader is gone (EPIPE) or the fd is
closed (EBADF)."""

import json
import os
import re
import subprocess
import sys
import threading

import pytest

from conftest import SOURCE_DIR

import joulebench
from joulebench import client as jbc

LINE_RE = re.compile(rb'^\{.*\}\n$')


def read_all(fd):
    chunks = []
    while True:
        b = os.read(fd, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(fd)
    return b"".join(chunks)


def lines_of(data):
    assert data.endswith(b"\n") or data == b""
    out = []
    for raw in data.split(b"\n")[:-1]:
        assert LINE_RE.match(raw + b"\n"), raw
        out.append(json.loads(raw))
    return out


def run_py(code, env_fd=None, pass_fds=(), extra_env=None):
    env = dict(os.environ)
    env.pop(jbc.ENV_VAR, None)
    env["PYTHONPATH"] = os.path.join(SOURCE_DIR, "python")
    if env_fd is not None:
        env[jbc.ENV_VAR] = str(env_fd)
    if extra_env:
        env.update(extra_env)
    return subprocess.run([sys.executable, "-c", code], env=env, pass_fds=pass_fds,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def pipe_client():
    r, w = os.pipe()
    c = jbc.Client(w)
    yield c, r, w
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass


def test_exact_lines_on_a_pipe(pipe_client):
    c, r, w = pipe_client
    c.begin("epoch", 1)
    c.end("epoch", 1, items=45000)
    c.metric("eval", 1, {"accuracy": 0.51, "f1": 0.48}, loss=1.37)
    c.info(framework="pytorch", framework_version="2.11.0", device="cpu")
    os.close(w)
    raw = read_all(r)
    text = raw.decode()
    got = text.splitlines()
    assert len(got) == 4
    assert re.fullmatch(r'\{"t":\d+,"event":"begin","phase":"epoch","index":1\}', got[0])
    assert re.fullmatch(r'\{"t":\d+,"event":"end","phase":"epoch","index":1,"items":45000\}',
                        got[1])
    assert re.fullmatch(r'\{"t":\d+,"event":"metric","phase":"eval","index":1,'
                        r'"values":\{"accuracy":0.51,"f1":0.48,"loss":1.37\}\}', got[2])
    assert got[3] == ('{"event":"info","values":{"framework":"pytorch",'
                      '"framework_version":"2.11.0","device":"cpu"}}')
    ev = lines_of(raw)
    assert ev[0]["t"] <= ev[1]["t"] <= ev[2]["t"]


def test_timestamps_are_clock_monotonic_ns(pipe_client):
    c, r, w = pipe_client
    before = __import__("time").monotonic_ns()
    c.begin("startup")
    after = __import__("time").monotonic_ns()
    os.close(w)
    (ev,) = lines_of(read_all(r))
    assert before <= ev["t"] <= after
    assert "index" not in ev and "items" not in ev


def test_phase_context_items_set_inside_and_sync_before_each_mark(pipe_client):
    c, r, w = pipe_client
    synced = []

    def sync():
        synced.append(__import__("time").monotonic_ns())

    with c.phase("epoch", 3, sync=sync) as p:
        p.items = 128
    os.close(w)
    ev = lines_of(read_all(r))
    assert [e["event"] for e in ev] == ["begin", "end"]
    assert ev[1]["items"] == 128 and ev[1]["index"] == 3
    assert len(synced) == 2
    # the timestamp is taken after the device was synchronised
    assert synced[0] <= ev[0]["t"] <= synced[1] <= ev[1]["t"]


def test_phase_end_written_when_the_block_raises(pipe_client):
    c, r, w = pipe_client
    with pytest.raises(RuntimeError, match="boom"):
        with c.phase("eval", 2):
            raise RuntimeError("boom")
    os.close(w)
    ev = lines_of(read_all(r))
    assert [(e["event"], e["phase"], e["index"]) for e in ev] == [("begin", "eval", 2),
                                                                 ("end", "eval", 2)]


def test_failing_sync_does_not_hide_the_original_error(pipe_client, capsys):
    c, r, w = pipe_client
    calls = []

    def sync():
        calls.append(1)
        if len(calls) > 1:
            raise OSError("device lost")

    with pytest.raises(ValueError, match="original"):
        with c.phase("epoch", 1, sync=sync):
            raise ValueError("original")
    assert "device lost" in capsys.readouterr().err


def test_values_are_made_json_safe(pipe_client):
    class Scalar:  # like a numpy / torch 0-d value
        def __init__(self, v):
            self.v = v

        def item(self):
            return self.v

    c, r, w = pipe_client
    c.metric("eval", 1, loss=float("nan"), acc=Scalar(0.25), n=Scalar(7), ok=True, inf=1e999)
    c.end("epoch", 1, items=Scalar(64))
    os.close(w)
    ev = lines_of(read_all(r))
    assert ev[0]["values"] == {"loss": None, "acc": 0.25, "n": 7, "ok": True, "inf": None}
    assert ev[1]["items"] == 64


@pytest.mark.parametrize("call,exc", [
    (lambda c: c.begin(""), ValueError),
    (lambda c: c.begin("x" * 32), ValueError),
    (lambda c: c.begin(3), TypeError),
    (lambda c: c.begin("epoch", True), TypeError),
    (lambda c: c.begin("epoch", 1.5), TypeError),
    (lambda c: c.begin("epoch", 2 ** 40), ValueError),
    (lambda c: c.end("epoch", 1, items=-1), ValueError),
    (lambda c: c.end("epoch", 1, items=float("nan")), ValueError),
    (lambda c: c.metric("eval", 1), ValueError),
    (lambda c: c.metric("eval", 1, {"": 1}), ValueError),
    (lambda c: c.metric("eval", 1, {str(i): i for i in range(33)}), ValueError),
    (lambda c: c.info([1, 2]), TypeError),
])
def test_bad_arguments_raise_with_and_without_runner(call, exc, pipe_client):
    c, r, w = pipe_client
    with pytest.raises(exc):
        call(c)
    with pytest.raises(exc):
        call(jbc.Client(None))
    os.close(w)
    assert read_all(r) == b""


def test_threads_do_not_interleave_lines(pipe_client):
    c, r, w = pipe_client
    data = []
    reader = threading.Thread(target=lambda: data.append(read_all(r)))
    reader.start()
    long_text = "y" * 3000

    def work(k):
        for i in range(50):
            c.info(who=k, i=i, pad=long_text)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    os.close(w)
    reader.join()
    ev = lines_of(data[0])
    assert len(ev) == 200
    assert all(e["values"]["pad"] == long_text for e in ev)


def test_module_api_through_the_environment():
    r, w = os.pipe()
    code = (
        "import joulebench as jb\n"
        "assert jb.enabled()\n"
        "jb.info(framework='test')\n"
        "with jb.phase('startup'):\n"
        "    pass\n"
        "with jb.phase('epoch', 1) as p:\n"
        "    p.items = 16\n"
        "jb.begin('eval', 1); jb.end('eval', 1)\n"
        "jb.metric('eval', 1, accuracy=0.5)\n"
        "jb.metric('eval', 1, {'f1': 0.25})\n"
    )
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", code], pass_fds=(w,),
            env={**{k: v for k, v in os.environ.items() if k != jbc.ENV_VAR},
                 "PYTHONPATH": os.path.join(SOURCE_DIR, "python"), jbc.ENV_VAR: str(w)},
            stderr=subprocess.PIPE, text=True)
    finally:
        os.close(w)
    data = read_all(r)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    ev = lines_of(data)
    assert [(e["event"], e.get("phase"), e.get("index")) for e in ev] == [
        ("info", None, None), ("begin", "startup", None), ("end", "startup", None),
        ("begin", "epoch", 1), ("end", "epoch", 1), ("begin", "eval", 1), ("end", "eval", 1),
        ("metric", "eval", 1), ("metric", "eval", 1)]
    assert ev[4]["items"] == 16
    assert ev[7]["values"] == {"accuracy": 0.5} and ev[8]["values"] == {"f1": 0.25}


def test_no_op_without_the_variable():
    # The child holds a pipe's write end but is not told about it: nothing may arrive there.
    r, w = os.pipe()
    code = (
        "import joulebench as jb\n"
        "assert not jb.enabled()\n"
        "jb.info(framework='x')\n"
        "with jb.phase('epoch', 1) as p:\n"
        "    p.items = 3\n"
        "jb.metric('eval', 1, accuracy=1.0)\n"
        "print('ran')\n"
    )
    try:
        proc = run_py(code, pass_fds=(w,))
    finally:
        os.close(w)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "ran\n" and proc.stderr == ""
    assert read_all(r) == b""


@pytest.mark.parametrize("value", ["", "  "])
def test_empty_variable_is_no_op_without_warning(value):
    proc = run_py("import joulebench as jb\nassert not jb.enabled()\njb.begin('e')\n",
                  extra_env={jbc.ENV_VAR: value})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


@pytest.mark.parametrize("value,why", [("abc", "not a file descriptor"),
                                       ("-3", "not a file descriptor"),
                                       ("987", "Bad file descriptor")])
def test_unusable_variable_warns_once_and_runs(value, why):
    proc = run_py("import joulebench as jb\nassert not jb.enabled()\n"
                  "jb.begin('e')\njb.end('e')\nprint('ran')\n", extra_env={jbc.ENV_VAR: value})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "ran\n"
    assert proc.stderr.count("joulebench: warning:") == 1 and why in proc.stderr


def test_reader_gone_epipe_disables_and_the_workload_goes_on():
    r, w = os.pipe()
    os.close(r)  # nobody will ever read: every write gets EPIPE
    code = (
        "import joulebench as jb\n"
        "assert jb.enabled()\n"
        "for i in range(5):\n"
        "    with jb.phase('epoch', i) as p:\n"
        "        p.items = i\n"
        "    jb.metric('eval', i, accuracy=0.1)\n"
        "assert not jb.enabled()\n"
        "print('finished')\n"
    )
    try:
        proc = run_py(code, env_fd=w, pass_fds=(w,))
    finally:
        os.close(w)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "finished\n"
    assert proc.stderr.count("joulebench: warning:") == 1
    assert "runner has gone" in proc.stderr


def test_reader_gone_in_process(capsys):
    r, w = os.pipe()
    c = jbc.Client(w)
    c.begin("epoch", 1)
    os.close(r)
    c.end("epoch", 1)  # EPIPE here
    assert not c.enabled
    c.metric("eval", 1, accuracy=0.5)  # silently nothing
    os.close(w)
    assert capsys.readouterr().err.count("joulebench: warning:") == 1


def test_fd_closed_mid_run_ebadf():
    r, w = os.pipe()
    code = (
        "import os, joulebench as jb\n"
        "jb.begin('epoch', 1)\n"
        "os.close(int(os.environ['JOULEBENCH_FD']))\n"
        "jb.end('epoch', 1)\n"
        "jb.end('epoch', 2)\n"
        "print('finished')\n"
    )
    try:
        proc = run_py(code, env_fd=w, pass_fds=(w,))
    finally:
        os.close(w)
    data = read_all(r)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "finished\n"
    assert proc.stderr.count("joulebench: warning:") == 1
    assert [e["event"] for e in lines_of(data)] == ["begin"]


def test_default_client_reads_the_environment_once(monkeypatch):
    jbc._reset_default()
    try:
        monkeypatch.delenv(jbc.ENV_VAR, raising=False)
        assert not joulebench.enabled()
        r, w = os.pipe()
        monkeypatch.setenv(jbc.ENV_VAR, str(w))
        assert not joulebench.enabled()  # decided at first use
        jbc._reset_default()
        assert joulebench.enabled()
        joulebench.begin("startup")
        os.close(w)
        assert lines_of(read_all(r))[0]["phase"] == "startup"
    finally:
        jbc._reset_default()
